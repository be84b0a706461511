//! The ext2/3/4 superblock (1024 bytes at byte 1024 of the volume) and group descriptors.
//! Field offsets follow the kernel's `struct ext4_super_block` (fs/ext4/ext4.h) and the
//! "Ext4 Disk Layout" wiki page.

use super::FORMAT;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};

/// Byte offset of the superblock in the volume.
pub(super) const SUPERBLOCK_OFFSET: u64 = 1024;
const MAGIC: u16 = 0xEF53;

// s_feature_compat
const COMPAT_HAS_JOURNAL: u32 = 0x4;
const COMPAT_SPARSE_SUPER2: u32 = 0x200;
// s_feature_ro_compat
const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
const RO_COMPAT_EXT4_ONLY: u32 = 0x8 | 0x10 | 0x20 | 0x40 | 0x400; // huge_file, gdt_csum, dir_nlink, extra_isize, metadata_csum
const RO_COMPAT_BIGALLOC: u32 = 0x200;
// s_feature_incompat
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_MMP: u32 = 0x100;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_EA_INODE: u32 = 0x400;
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
const INCOMPAT_LARGEDIR: u32 = 0x4000;
const INCOMPAT_INLINE_DATA: u32 = 0x8000;
const INCOMPAT_ENCRYPT: u32 = 0x10000;
const INCOMPAT_CASEFOLD: u32 = 0x20000;
/// Incompatible features this reader understands; anything else is refused.
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_META_BG
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_MMP
    | INCOMPAT_FLEX_BG
    | INCOMPAT_EA_INODE
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;
const INCOMPAT_EXT4_ONLY: u32 = INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_FLEX_BG
    | INCOMPAT_MMP
    | INCOMPAT_EA_INODE
    | INCOMPAT_LARGEDIR
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;

/// The ext flavour a superblock describes, decided as blkid does.
pub fn flavour(sb: &Bytes<'_>) -> Result<&'static str> {
    let incompat = sb.u32_le(0x60)?;
    let ro_compat = sb.u32_le(0x64)?;
    Ok(if incompat & INCOMPAT_EXT4_ONLY != 0 || ro_compat & (RO_COMPAT_EXT4_ONLY | RO_COMPAT_BIGALLOC) != 0 {
        "ext4"
    } else if sb.u32_le(0x5C)? & COMPAT_HAS_JOURNAL != 0 {
        "ext3"
    } else {
        "ext2"
    })
}

/// The superblock's bytes as a bounds-checked view (offsets name the volume).
pub fn view(sb: &[u8; 1024]) -> Bytes<'_> {
    Bytes::new(sb, SUPERBLOCK_OFFSET, Layer::Fs, FORMAT)
}

/// A validated superblock: only what reading needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Superblock {
    pub kind: &'static str,
    pub block_size: u64,
    pub blocks_count: u64,
    pub inodes_count: u32,
    pub first_data_block: u32,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub inode_size: u32,
    pub desc_size: u32,
    pub first_meta_bg: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub compat: u32,
    pub backup_bgs: [u32; 2],
    /// The journal was not replayed (the system was not shut down cleanly).
    pub needs_recovery: bool,
}

fn corrupt(field_offset: usize, what: &'static str) -> Error {
    Error::new(Layer::Fs, FORMAT, SUPERBLOCK_OFFSET + field_offset as u64, ErrorKind::Corrupt(what))
}

impl Superblock {
    /// Validates the raw superblock against itself and the volume size.
    pub fn parse(raw: &[u8; 1024], volume_size: u64) -> Result<Self> {
        let sb = view(raw);
        if sb.u16_le(0x38)? != MAGIC {
            return Err(Error::new(Layer::Fs, FORMAT, SUPERBLOCK_OFFSET + 0x38, ErrorKind::BadMagic));
        }
        let incompat = sb.u32_le(0x60)?;
        // Compression, dirdata and journal devices are known but not readable: refused too.
        let unknown = incompat & !INCOMPAT_SUPPORTED;
        if unknown != 0 {
            return Err(Error::new(
                Layer::Fs,
                FORMAT,
                SUPERBLOCK_OFFSET + 0x60,
                ErrorKind::UnsupportedFeatures { flags: u64::from(unknown) },
            ));
        }
        let log_block = sb.u32_le(0x18)?;
        if log_block > 6 {
            return Err(corrupt(0x18, "s_log_block_size (block size over 64 KiB)"));
        }
        let block_size = 1024u64 << log_block;
        let is_64bit = incompat & INCOMPAT_64BIT != 0;
        let blocks_hi = if is_64bit { u64::from(sb.u32_le(0x150)?) } else { 0 };
        let blocks_count = u64::from(sb.u32_le(0x4)?) | blocks_hi << 32;
        let first_data_block = sb.u32_le(0x14)?;
        let blocks_per_group = sb.u32_le(0x20)?;
        let inodes_per_group = sb.u32_le(0x28)?;
        let inodes_count = sb.u32_le(0x0)?;
        // Block bitmaps count clusters: with bigalloc a group spans `cluster ratio` times more
        // blocks than its bitmap has bits.
        let cluster_ratio = if sb.u32_le(0x64)? & RO_COMPAT_BIGALLOC != 0 {
            let log_cluster = sb.u32_le(0x1C)?;
            if log_cluster < log_block || log_cluster - log_block > 16 {
                return Err(corrupt(0x1C, "s_log_cluster_size"));
            }
            1u64 << (log_cluster - log_block)
        } else {
            1
        };
        if blocks_per_group == 0 || u64::from(blocks_per_group) > block_size * 8 * cluster_ratio {
            return Err(corrupt(0x20, "s_blocks_per_group"));
        }
        if inodes_per_group == 0 || u64::from(inodes_per_group) > block_size * 8 {
            return Err(corrupt(0x28, "s_inodes_per_group"));
        }
        if blocks_count <= u64::from(first_data_block) || u64::from(first_data_block) > 1 {
            return Err(corrupt(0x4, "s_blocks_count / s_first_data_block"));
        }
        if blocks_count
            .checked_mul(block_size)
            .is_none_or(|bytes| bytes > volume_size.saturating_add(block_size * 4096))
        {
            // A filesystem far larger than its volume is absurd (a slightly larger one is a
            // truncated image, whose readable part is still read).
            return Err(corrupt(0x4, "s_blocks_count larger than the volume"));
        }
        let group_count_64 = (blocks_count - u64::from(first_data_block)).div_ceil(u64::from(blocks_per_group));
        let group_count = u32::try_from(group_count_64).map_err(|_| corrupt(0x20, "group count"))?;
        if u64::from(inodes_count) != u64::from(group_count) * u64::from(inodes_per_group) {
            return Err(corrupt(0x0, "s_inodes_count does not match the group count"));
        }
        let rev = sb.u32_le(0x4C)?;
        let inode_size = if rev == 0 { 128 } else { u32::from(sb.u16_le(0x58)?) };
        if inode_size < 128 || !inode_size.is_power_of_two() || u64::from(inode_size) > block_size {
            return Err(corrupt(0x58, "s_inode_size"));
        }
        let desc_size = if is_64bit { u32::from(sb.u16_le(0xFE)?) } else { 32 };
        if desc_size < 32 || !desc_size.is_power_of_two() || u64::from(desc_size) > block_size {
            return Err(corrupt(0xFE, "s_desc_size"));
        }
        Ok(Superblock {
            kind: flavour(&sb)?,
            block_size,
            blocks_count,
            inodes_count,
            first_data_block,
            blocks_per_group,
            inodes_per_group,
            inode_size,
            desc_size,
            first_meta_bg: sb.u32_le(0x104)?,
            incompat,
            ro_compat: sb.u32_le(0x64)?,
            compat: sb.u32_le(0x5C)?,
            backup_bgs: [sb.u32_le(0x24C)?, sb.u32_le(0x250)?],
            needs_recovery: incompat & INCOMPAT_RECOVER != 0,
        })
    }

    /// Whether directory entries carry a file type byte (else the name length is 16-bit).
    pub fn dirents_have_type(&self) -> bool {
        self.incompat & INCOMPAT_FILETYPE != 0
    }

    /// Whether group `g` holds a superblock backup (and so a group descriptor copy).
    fn has_super(&self, g: u32) -> bool {
        if g == 0 {
            return true;
        }
        if self.compat & COMPAT_SPARSE_SUPER2 != 0 {
            return self.backup_bgs.contains(&g);
        }
        if self.ro_compat & RO_COMPAT_SPARSE_SUPER == 0 || g == 1 {
            return true;
        }
        [3u32, 5, 7].iter().any(|&base| {
            let mut p = base;
            while p < g {
                p = match p.checked_mul(base) {
                    Some(n) => n,
                    None => return false,
                };
            }
            p == g
        })
    }

    /// Byte offset of the group descriptor of group `g` (classic layout or meta_bg).
    pub fn descriptor_offset(&self, g: u32) -> u64 {
        let per_block = (self.block_size / u64::from(self.desc_size)) as u32;
        let meta_group = g / per_block;
        let block = if self.incompat & INCOMPAT_META_BG != 0 && meta_group >= self.first_meta_bg {
            let first_group = meta_group * per_block;
            u64::from(self.first_data_block)
                + u64::from(first_group) * u64::from(self.blocks_per_group)
                + u64::from(self.has_super(first_group))
        } else {
            u64::from(self.first_data_block) + 1 + u64::from(meta_group)
        };
        block * self.block_size + u64::from(g % per_block) * u64::from(self.desc_size)
    }
}

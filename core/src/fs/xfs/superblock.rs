//! The XFS superblock (`struct xfs_sb`, the first sector of allocation group 0), validated into
//! the geometry the rest of the reader relies on. All fields are big-endian.
//! Reference: the kernel's fs/xfs/libxfs/xfs_format.h and the "XFS Algorithms & Data
//! Structures" book, chapter "Allocation Groups".

use super::FORMAT;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};

/// Bytes of the superblock that are parsed.
pub(super) const SUPERBLOCK_BYTES: usize = 512;
const MAGIC: &[u8; 4] = b"XFSB";

// sb_versionnum
const VERSION_NUMBITS: u16 = 0x000F;
const VERSION_DIRV2BIT: u16 = 0x2000;
const VERSION_MOREBITSBIT: u16 = 0x8000;
// sb_features2 (v4)
const VERSION2_FTYPE: u32 = 0x0000_0200;
// sb_features_incompat (v5)
const INCOMPAT_FTYPE: u32 = 0x01;
const INCOMPAT_SPINODES: u32 = 0x02;
const INCOMPAT_META_UUID: u32 = 0x04;
const INCOMPAT_BIGTIME: u32 = 0x08;
const INCOMPAT_NEEDSREPAIR: u32 = 0x10;
const INCOMPAT_NREXT64: u32 = 0x20;
/// Incompatible v5 features this reader understands; anything else is refused, as the kernel
/// refuses to mount it.
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FTYPE
    | INCOMPAT_SPINODES
    | INCOMPAT_META_UUID
    | INCOMPAT_BIGTIME
    | INCOMPAT_NEEDSREPAIR
    | INCOMPAT_NREXT64;

/// The geometry of an XFS filesystem.
#[derive(Debug, Clone, Copy)]
pub(super) struct Superblock {
    /// Filesystem block size in bytes (512 B–64 KiB).
    pub block_size: u64,
    /// log2 of the block size.
    pub block_log: u32,
    /// Blocks in the data section.
    pub data_blocks: u64,
    /// Blocks per allocation group.
    pub ag_blocks: u64,
    /// Number of allocation groups.
    pub ag_count: u64,
    /// log2 of `ag_blocks`, rounded up: the width of the AG block field in block and inode numbers.
    pub ag_block_log: u32,
    /// Inode size in bytes.
    pub inode_size: u64,
    /// log2 of inodes per block.
    pub inodes_per_block_log: u32,
    /// The root directory's inode number.
    pub root_inode: u64,
    /// Directory block size in bytes (block size << dirblklog).
    pub dir_block_size: u64,
    /// Version 5 (metadata checksums, self-describing headers).
    pub v5: bool,
    /// Directory entries record the file type.
    pub ftype: bool,
    /// Inode timestamps may be in the 64-bit "bigtime" encoding.
    pub bigtime: bool,
}

fn log2_exact(v: u64) -> Option<u32> {
    v.is_power_of_two().then(|| v.trailing_zeros())
}

impl Superblock {
    /// Parses and validates the superblock read from the start of a volume.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        let b = Bytes::new(raw, 0, Layer::Fs, FORMAT);
        if b.slice(0, 4)? != MAGIC {
            return Err(b.error(0, ErrorKind::BadMagic));
        }
        let versionnum = b.u16_be(0x64)?;
        let version = versionnum & VERSION_NUMBITS;
        let v5 = match version {
            4 => false,
            5 => true,
            _ => return Err(b.error(0x64, ErrorKind::Unsupported("XFS superblock version (only 4 and 5 are read)"))),
        };
        if !v5 && versionnum & VERSION_DIRV2BIT == 0 {
            return Err(b.error(0x64, ErrorKind::Unsupported("XFS version 1 directories")));
        }
        let block_size = u64::from(b.u32_be(0x04)?);
        let block_log = u32::from(b.u8(0x78)?);
        if !(512..=65536).contains(&block_size) || log2_exact(block_size) != Some(block_log) {
            return Err(b.corrupt(0x04, "block size"));
        }
        let sector_size = u64::from(b.u16_be(0x66)?);
        if !(512..=32768).contains(&sector_size) || !sector_size.is_power_of_two() || sector_size > block_size {
            return Err(b.corrupt(0x66, "sector size"));
        }
        let inode_size = u64::from(b.u16_be(0x68)?);
        if !(256..=2048).contains(&inode_size) || !inode_size.is_power_of_two() || inode_size > block_size {
            return Err(b.corrupt(0x68, "inode size"));
        }
        let inodes_per_block = u64::from(b.u16_be(0x6A)?);
        let inodes_per_block_log = u32::from(b.u8(0x7B)?);
        if inodes_per_block != block_size / inode_size || log2_exact(inodes_per_block) != Some(inodes_per_block_log) {
            return Err(b.corrupt(0x6A, "inodes per block"));
        }
        let ag_blocks = u64::from(b.u32_be(0x54)?);
        let ag_count = u64::from(b.u32_be(0x58)?);
        let ag_block_log = u32::from(b.u8(0x7C)?);
        if ag_blocks < 16
            || ag_block_log > 31
            || (1u64 << ag_block_log) < ag_blocks
            || (1u64 << ag_block_log) >= 2 * ag_blocks
        {
            return Err(b.corrupt(0x54, "allocation group size"));
        }
        let data_blocks = b.u64_be(0x08)?;
        if ag_count == 0 || data_blocks > ag_blocks.saturating_mul(ag_count) || data_blocks == 0 {
            return Err(b.corrupt(0x58, "allocation group count"));
        }
        let dir_block_log = u32::from(b.u8(0xC0)?);
        if block_log + dir_block_log > 16 {
            return Err(b.corrupt(0xC0, "directory block size"));
        }
        let (ftype, bigtime) = if v5 {
            let incompat = b.u32_be(0xD8)?;
            if incompat & !INCOMPAT_SUPPORTED != 0 {
                return Err(
                    b.error(0xD8, ErrorKind::UnsupportedFeatures { flags: u64::from(incompat & !INCOMPAT_SUPPORTED) })
                );
            }
            (incompat & INCOMPAT_FTYPE != 0, incompat & INCOMPAT_BIGTIME != 0)
        } else {
            let features2 = if versionnum & VERSION_MOREBITSBIT != 0 { b.u32_be(0xC8)? } else { 0 };
            (features2 & VERSION2_FTYPE != 0, false)
        };
        let sb = Superblock {
            block_size,
            block_log,
            data_blocks,
            ag_blocks,
            ag_count,
            ag_block_log,
            inode_size,
            inodes_per_block_log,
            root_inode: b.u64_be(0x38)?,
            dir_block_size: block_size << dir_block_log,
            v5,
            ftype,
            bigtime,
        };
        sb.inode_location(sb.root_inode).map_err(|_| b.corrupt(0x38, "root inode number"))?;
        Ok(sb)
    }

    /// The volume byte offset of filesystem block `fsbno` (AG number in the high bits, AG
    /// block in the low `ag_block_log` bits), checked to lie inside the data section.
    pub fn block_offset(&self, fsbno: u64, at: u64) -> Result<u64> {
        let agno = fsbno >> self.ag_block_log;
        let agbno = fsbno & ((1u64 << self.ag_block_log) - 1);
        let block = agno.checked_mul(self.ag_blocks).and_then(|b| b.checked_add(agbno));
        match block {
            Some(block) if agno < self.ag_count && agbno < self.ag_blocks && block < self.data_blocks => {
                Ok(block << self.block_log)
            }
            _ => Err(Error::new(Layer::Fs, FORMAT, at, ErrorKind::Corrupt("block number outside the filesystem"))),
        }
    }

    /// The volume byte offset of inode `ino`, or an error when the number cannot name an inode.
    pub fn inode_location(&self, ino: u64) -> Result<u64> {
        let bad = || Error::new(Layer::Fs, FORMAT, 0, ErrorKind::Corrupt("inode number outside the filesystem"));
        let in_block = ino & ((1u64 << self.inodes_per_block_log) - 1);
        let fsbno = ino >> self.inodes_per_block_log;
        if self.ag_block_log + self.inodes_per_block_log >= 64
            || ino >> (self.ag_block_log + self.inodes_per_block_log) >= self.ag_count
        {
            return Err(bad());
        }
        let block_at = self.block_offset(fsbno, 0).map_err(|_| bad())?;
        Ok(block_at + in_block * self.inode_size)
    }
}

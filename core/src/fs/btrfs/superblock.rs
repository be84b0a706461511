//! The btrfs superblock (`struct btrfs_super_block`, 4 KiB at 64 KiB, mirrored at 64 MiB and
//! 256 GiB), little-endian. The copy with a valid checksum and the highest generation is used,
//! as the kernel's `btrfs_read_dev_super` does; a damaged primary is a warning, not a failure.
//! Reference: the kernel's include/uapi/linux/btrfs_tree.h and fs/btrfs/disk-io.c.

use super::{Key, FORMAT};
use crate::bytes::Bytes;
use crate::crc32::Crc32;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt};

/// Size of a superblock copy.
pub(super) const SUPERBLOCK_SIZE: usize = 4096;
/// Byte offsets of the primary superblock and its mirrors.
pub(super) const COPIES: [u64; 3] = [64 << 10, 64 << 20, 256 << 30];
const MAGIC: &[u8; 8] = b"_BHRfS_M";
const SYS_CHUNK_ARRAY: usize = 0x32B;
const SYS_CHUNK_ARRAY_MAX: usize = 2048;
/// The checksum algorithms the superblock may name.
pub(super) const CSUM_CRC32C: u16 = 0;

// incompat flags
const INCOMPAT_MIXED_BACKREF: u64 = 1 << 0;
const INCOMPAT_DEFAULT_SUBVOL: u64 = 1 << 1;
const INCOMPAT_MIXED_GROUPS: u64 = 1 << 2;
const INCOMPAT_COMPRESS_LZO: u64 = 1 << 3;
const INCOMPAT_COMPRESS_ZSTD: u64 = 1 << 4;
const INCOMPAT_BIG_METADATA: u64 = 1 << 5;
const INCOMPAT_EXTENDED_IREF: u64 = 1 << 6;
const INCOMPAT_RAID56: u64 = 1 << 7;
const INCOMPAT_SKINNY_METADATA: u64 = 1 << 8;
const INCOMPAT_NO_HOLES: u64 = 1 << 9;
const INCOMPAT_METADATA_UUID: u64 = 1 << 10;
const INCOMPAT_RAID1C34: u64 = 1 << 11;
const INCOMPAT_ZONED: u64 = 1 << 12;
const INCOMPAT_BLOCK_GROUP_TREE: u64 = 1 << 13;
const INCOMPAT_SIMPLE_QUOTA: u64 = 1 << 16;
/// Incompatible features this reader understands (it reads, never writes, so most only matter
/// to allocation); anything else (encryption, extent tree v2, …) is refused.
const INCOMPAT_SUPPORTED: u64 = INCOMPAT_MIXED_BACKREF
    | INCOMPAT_DEFAULT_SUBVOL
    | INCOMPAT_MIXED_GROUPS
    | INCOMPAT_COMPRESS_LZO
    | INCOMPAT_COMPRESS_ZSTD
    | INCOMPAT_BIG_METADATA
    | INCOMPAT_EXTENDED_IREF
    | INCOMPAT_RAID56
    | INCOMPAT_SKINNY_METADATA
    | INCOMPAT_NO_HOLES
    | INCOMPAT_METADATA_UUID
    | INCOMPAT_RAID1C34
    | INCOMPAT_ZONED
    | INCOMPAT_BLOCK_GROUP_TREE
    | INCOMPAT_SIMPLE_QUOTA;

/// What the reader needs from the superblock.
#[derive(Debug, Clone)]
pub(super) struct Superblock {
    /// Where this copy was read.
    pub at: u64,
    /// Transaction generation.
    pub generation: u64,
    /// Logical address of the root tree's root node, and its level.
    pub root: (u64, u8),
    /// Logical address of the chunk tree's root node, and its level.
    pub chunk_root: (u64, u8),
    /// Object id of the root tree's directory (holds the `default` entry).
    pub root_dir: u64,
    /// This device's id.
    pub devid: u64,
    /// Data block size.
    pub sector_size: u32,
    /// Tree node size.
    pub node_size: u32,
    /// Checksum algorithm (0 crc32c, 1 xxhash64, 2 sha256, 3 blake2b).
    pub csum_type: u16,
    /// The filesystem id every tree block carries (metadata_uuid when set).
    pub fsid: [u8; 16],
    /// The bootstrap chunk items: (key, raw chunk item) pairs.
    pub sys_chunks: heapless::Vec<u8, SYS_CHUNK_ARRAY_MAX>,
}

/// crc32c of `data`, as btrfs stores it (little-endian in the first 4 bytes of the csum field).
pub(super) fn crc32c(data: &[u8]) -> u32 {
    let mut c = Crc32::castagnoli();
    c.update(data);
    c.finish()
}

/// Whether the stored checksum of a block holds (crc32c only; other algorithms are reported
/// once as not verified). Always true when fuzzing, so the fuzzer gets past it.
pub(super) fn checksum_ok(csum_type: u16, block: &[u8]) -> bool {
    if cfg!(fuzzing) || csum_type != CSUM_CRC32C {
        return true;
    }
    let (stored, data) = (block.get(..4), block.get(32..));
    match (stored, data) {
        (Some(s), Some(d)) => s == crc32c(d).to_le_bytes(),
        _ => false,
    }
}

impl Superblock {
    fn parse(raw: &[u8], at: u64) -> Result<Self> {
        let b = Bytes::new(raw, at, Layer::Fs, FORMAT);
        if b.slice(0x40, 8)? != MAGIC {
            return Err(b.error(0x40, ErrorKind::BadMagic));
        }
        let csum_type = b.u16_le(0xC4)?;
        if csum_type > 3 {
            return Err(b.corrupt(0xC4, "checksum type"));
        }
        if !checksum_ok(csum_type, raw) {
            let stored = b.u32_le(0)?;
            return Err(b.error(0, ErrorKind::BadChecksum { stored, computed: crc32c(b.slice(32, raw.len() - 32)?) }));
        }
        if b.u64_le(0x30)? != at {
            return Err(b.corrupt(0x30, "superblock location"));
        }
        let incompat = b.u64_le(0xBC)?;
        if incompat & !INCOMPAT_SUPPORTED != 0 {
            return Err(b.error(0xBC, ErrorKind::UnsupportedFeatures { flags: incompat & !INCOMPAT_SUPPORTED }));
        }
        let sector_size = b.u32_le(0x90)?;
        let node_size = b.u32_le(0x94)?;
        if !(4096..=65536).contains(&sector_size) || !sector_size.is_power_of_two() {
            return Err(b.corrupt(0x90, "sector size"));
        }
        if !(4096..=65536).contains(&node_size) || !node_size.is_power_of_two() || node_size < sector_size {
            return Err(b.corrupt(0x94, "node size"));
        }
        let array_len = usize::try_from(b.u32_le(0xA0)?).unwrap_or(usize::MAX);
        if array_len > SYS_CHUNK_ARRAY_MAX {
            return Err(b.corrupt(0xA0, "system chunk array size"));
        }
        let mut sys_chunks = heapless::Vec::new();
        sys_chunks
            .extend_from_slice(b.slice(SYS_CHUNK_ARRAY, array_len)?)
            .map_err(|_| b.corrupt(0xA0, "system chunk array size"))?;
        let mut fsid = b.array::<16>(0x20)?;
        if incompat & INCOMPAT_METADATA_UUID != 0 {
            fsid = b.array::<16>(0x23B)?;
        }
        Ok(Superblock {
            at,
            generation: b.u64_le(0x48)?,
            root: (b.u64_le(0x50)?, b.u8(0xC6)?),
            chunk_root: (b.u64_le(0x58)?, b.u8(0xC7)?),
            root_dir: b.u64_le(0x80)?,
            devid: b.u64_le(0xC9)?,
            sector_size,
            node_size,
            csum_type,
            fsid,
            sys_chunks,
        })
    }

    /// Reads every superblock copy that fits in `volume` and returns the valid one with the
    /// highest generation, with the errors of the copies that were damaged (the primary's is a
    /// warning worth reporting; a missing mirror is not).
    pub fn read(volume: &dyn ReadAt, warnings: &mut heapless::Vec<Error, 4>) -> Result<Self> {
        let mut best: Option<Superblock> = None;
        let mut first_error = None;
        for at in COPIES {
            if !fits(at, SUPERBLOCK_SIZE as u64, volume.size()) {
                continue;
            }
            let mut raw = [0u8; SUPERBLOCK_SIZE];
            volume.read_at(at, &mut raw)?;
            match Superblock::parse(&raw, at) {
                Ok(sb) if best.as_ref().is_none_or(|b| sb.generation > b.generation) => best = Some(sb),
                Ok(_) => {}
                Err(e) => {
                    // A mirror that was never written is no news; a damaged copy is.
                    if at == COPIES[0] || e.kind != ErrorKind::BadMagic {
                        let _ = warnings.push(e);
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        best.ok_or(first_error.unwrap_or(Error::new(Layer::Fs, FORMAT, COPIES[0], ErrorKind::BadMagic)))
    }

    /// The bootstrap chunk items: each a key and the chunk item's bytes.
    pub fn sys_chunk_items(&self) -> impl Iterator<Item = Result<(Key, Bytes<'_>)>> + '_ {
        let b = Bytes::new(&self.sys_chunks, self.at + SYS_CHUNK_ARRAY as u64, Layer::Fs, FORMAT);
        let mut pos = 0usize;
        let mut failed = false;
        core::iter::from_fn(move || {
            if failed || pos >= b.len() {
                return None;
            }
            let item = (|| {
                let key = Key::parse(b.sub(pos, 17)?)?;
                let stripes = usize::from(b.u16_le(pos + 17 + 44)?);
                let len = 48 + stripes * 32;
                let chunk = b.sub(pos + 17, len)?;
                pos += 17 + len;
                Ok((key, chunk))
            })();
            failed = item.is_err();
            Some(item)
        })
    }
}

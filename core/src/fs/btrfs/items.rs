//! The btrfs items this reader uses, parsed from item data: inodes, directory entries, root
//! items and references, file extents. Little-endian, fixed layouts (`btrfs_inode_item`,
//! `btrfs_dir_item`, `btrfs_root_item`, `btrfs_root_ref`, `btrfs_file_extent_item`).
//! Reference: include/uapi/linux/btrfs_tree.h.

use super::Key;
use crate::bytes::Bytes;
use crate::error::Result;

/// Item types (`BTRFS_*_KEY`).
pub(super) mod kind {
    pub const INODE_ITEM: u8 = 1;
    pub const INODE_REF: u8 = 12;
    pub const DIR_ITEM: u8 = 84;
    pub const DIR_INDEX: u8 = 96;
    pub const EXTENT_DATA: u8 = 108;
    pub const ROOT_ITEM: u8 = 132;
    pub const ROOT_BACKREF: u8 = 144;
    pub const ROOT_REF: u8 = 156;
    pub const CHUNK_ITEM: u8 = 228;
}

/// `btrfs_inode_item`.
#[derive(Debug, Clone, Copy)]
pub(super) struct InodeItem {
    pub size: u64,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub mtime: i64,
}

impl InodeItem {
    pub fn parse(b: Bytes<'_>) -> Result<Self> {
        Ok(InodeItem {
            size: b.u64_le(16)?,
            nlink: b.u32_le(40)?,
            uid: b.u32_le(44)?,
            gid: b.u32_le(48)?,
            mode: b.u32_le(52)?,
            mtime: b.u64_le(136)? as i64,
        })
    }
}

/// One entry of a `btrfs_dir_item` (a DIR_ITEM may pack several; a DIR_INDEX holds one).
#[derive(Debug, Clone, Copy)]
pub(super) struct DirEntryItem<'a> {
    /// What it names: an inode (`INODE_ITEM`) or a subvolume root (`ROOT_ITEM`).
    pub location: Key,
    pub name: &'a [u8],
}

/// The entries packed in a directory item's data.
pub(super) fn dir_entries<'a>(b: Bytes<'a>) -> impl Iterator<Item = Result<DirEntryItem<'a>>> + 'a {
    let mut pos = 0usize;
    let mut failed = false;
    core::iter::from_fn(move || {
        if failed || pos >= b.len() {
            return None;
        }
        let entry = (|| {
            let location = Key::parse(b.sub(pos, 17)?)?;
            let data_len = usize::from(b.u16_le(pos + 25)?);
            let name_len = usize::from(b.u16_le(pos + 27)?);
            if name_len == 0 {
                return Err(b.corrupt(pos + 27, "directory entry name length"));
            }
            let name = b.slice(pos + 30, name_len)?;
            pos += 30 + name_len + data_len;
            Ok(DirEntryItem { location, name })
        })();
        failed = entry.is_err();
        Some(entry)
    })
}

/// From a `btrfs_root_item`: where the tree's root node is.
#[derive(Debug, Clone, Copy)]
pub(super) struct RootItem {
    pub bytenr: u64,
    pub level: u8,
    /// The object id of the tree's top directory (256).
    pub root_dirid: u64,
}

impl RootItem {
    pub fn parse(b: Bytes<'_>) -> Result<Self> {
        Ok(RootItem { root_dirid: b.u64_le(168)?, bytenr: b.u64_le(176)?, level: b.u8(238)? })
    }
}

/// A `btrfs_root_ref`/`btrfs_root_backref`: the directory of the parent tree that holds a
/// subvolume, and its name there.
#[derive(Debug, Clone, Copy)]
pub(super) struct RootRef<'a> {
    pub dirid: u64,
    pub name: &'a [u8],
}

impl<'a> RootRef<'a> {
    pub fn parse(b: Bytes<'a>) -> Result<Self> {
        let name_len = usize::from(b.u16_le(16)?);
        Ok(RootRef { dirid: b.u64_le(0)?, name: b.slice(18, name_len)? })
    }
}

/// Compression of a file extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    None,
    Zlib,
    Lzo,
    Zstd,
}

/// What a `btrfs_file_extent_item` says about file bytes `[key.offset, key.offset + len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Extent {
    /// Data inside the item (at this logical offset of the leaf copy, `stored` bytes; decoded
    /// it is `ram_bytes` long).
    Inline { compression: Compression, ram_bytes: u64 },
    /// A hole or preallocated (unwritten) space: zeros.
    Zeros { len: u64 },
    /// Data on disk: `len` file bytes taken from `offset` of the (decoded) extent at logical
    /// `disk_bytenr`, `disk_len` bytes stored, `ram_bytes` decoded.
    Regular { compression: Compression, disk_bytenr: u64, disk_len: u64, ram_bytes: u64, offset: u64, len: u64 },
}

/// Header of an inline extent (the data follows it).
pub(super) const INLINE_HEADER: usize = 21;

impl Extent {
    pub fn parse(b: Bytes<'_>) -> Result<Self> {
        let ram_bytes = b.u64_le(8)?;
        let compression = match b.u8(16)? {
            0 => Compression::None,
            1 => Compression::Zlib,
            2 => Compression::Lzo,
            3 => Compression::Zstd,
            _ => return Err(b.corrupt(16, "extent compression type")),
        };
        if b.u8(17)? != 0 || b.u16_le(18)? != 0 {
            return Err(b.error(17, crate::error::ErrorKind::Unsupported("encrypted or encoded btrfs extent")));
        }
        match b.u8(20)? {
            0 => Ok(Extent::Inline { compression, ram_bytes }),
            t @ (1 | 2) => {
                let (disk_bytenr, disk_len, offset, len) = (b.u64_le(21)?, b.u64_le(29)?, b.u64_le(37)?, b.u64_le(45)?);
                if disk_bytenr == 0 || t == 2 {
                    return Ok(Extent::Zeros { len });
                }
                if offset.checked_add(len).is_none_or(|end| end > ram_bytes) && compression != Compression::None {
                    return Err(b.corrupt(37, "extent offset past its decoded size"));
                }
                Ok(Extent::Regular { compression, disk_bytenr, disk_len, ram_bytes, offset, len })
            }
            _ => Err(b.corrupt(20, "extent type")),
        }
    }
}

//! ext2/3/4 inodes: the on-disk record, and mapping file blocks to volume blocks through
//! extent trees (ext4) or indirect block maps (ext2/3).

use super::superblock::Superblock;
use super::FORMAT;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::ReadAt;

/// Inode flag: blocks are mapped by an extent tree.
pub(super) const FLAG_EXTENTS: u32 = 0x0008_0000;
/// Inode flag: data is stored inline in the inode (`i_block` + the `system.data` xattr).
pub(super) const FLAG_INLINE_DATA: u32 = 0x1000_0000;

const EXTENT_MAGIC: u16 = 0xF30A;
/// The kernel's limit on extent tree depth.
const MAX_EXTENT_DEPTH: u16 = 5;
/// Bytes of an inode that are parsed (up to and including `i_mtime_extra`).
pub(super) const INODE_PARSED_BYTES: usize = 0x8C;

/// The fields of an inode that reading needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Inode {
    /// Byte offset of the inode record on the volume.
    pub offset: u64,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub nlink: u32,
    pub flags: u32,
    /// `i_blocks_lo` (512-byte units): tells fast symlinks from slow ones.
    pub blocks_lo: u32,
    pub file_acl: u64,
    pub extra_isize: u16,
    /// The 60-byte block map / extent root / inline data / fast symlink target.
    pub i_block: [u8; 60],
}

impl Inode {
    /// Parses the first `INODE_PARSED_BYTES` (or 128) bytes of an inode record.
    pub fn parse(offset: u64, raw: &[u8], inode_size: u32) -> Result<Self> {
        let b = Bytes::new(raw, offset, Layer::Fs, FORMAT);
        let extra_isize = if inode_size > 128 { b.u16_le(0x80)? } else { 0 };
        if u32::from(extra_isize) + 128 > inode_size || extra_isize % 4 != 0 {
            return Err(Error::new(Layer::Fs, FORMAT, offset + 0x80, ErrorKind::Corrupt("i_extra_isize")));
        }
        let mut mtime = i64::from(b.u32_le(0x10)? as i32);
        if extra_isize >= 12 {
            // The low two bits of i_mtime_extra extend the seconds past 2038.
            mtime += i64::from(b.u32_le(0x88)? & 3) << 32;
        }
        let i_block = b.array::<60>(0x28)?;
        Ok(Inode {
            offset,
            mode: b.u16_le(0x0)?,
            uid: u32::from(b.u16_le(0x2)?) | u32::from(b.u16_le(0x78)?) << 16,
            gid: u32::from(b.u16_le(0x18)?) | u32::from(b.u16_le(0x7A)?) << 16,
            size: u64::from(b.u32_le(0x4)?) | u64::from(b.u32_le(0x6C)?) << 32,
            mtime,
            nlink: u32::from(b.u16_le(0x1A)?),
            flags: b.u32_le(0x20)?,
            blocks_lo: b.u32_le(0x1C)?,
            file_acl: u64::from(b.u32_le(0x68)?) | u64::from(b.u16_le(0x76)?) << 32,
            extra_isize,
            i_block,
        })
    }

    /// `i_block` as a bounds-checked view (offsets name the volume).
    pub fn i_block_view(&self) -> Bytes<'_> {
        Bytes::new(&self.i_block, self.offset + 0x28, Layer::Fs, FORMAT)
    }

    /// Whether the data lives inside the inode.
    pub fn is_inline(&self) -> bool {
        self.flags & FLAG_INLINE_DATA != 0
    }
}

/// A run of file blocks starting at the block asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    /// First volume block, or `None` for a hole or an unwritten extent (reads as zeros).
    pub physical: Option<u64>,
    /// Number of blocks in the run (at least 1).
    pub len: u64,
}

fn corrupt(offset: u64, what: &'static str) -> Error {
    Error::new(Layer::Fs, FORMAT, offset, ErrorKind::Corrupt(what))
}

/// Where an extent tree node lives: the inode's `i_block`, or a volume block.
#[derive(Clone, Copy)]
enum Node<'a> {
    Root(&'a [u8; 60]),
    Block(u64),
}

/// Maps file block `lblk` of `inode` through its extent tree.
pub(super) fn map_extent(dev: &dyn ReadAt, sb: &Superblock, inode: &Inode, lblk: u64) -> Result<Run> {
    let bs = sb.block_size;
    let read = |node: Node<'_>, off: u64, buf: &mut [u8]| -> Result<()> {
        match node {
            Node::Root(b) => {
                let src = b
                    .get(off as usize..off as usize + buf.len())
                    .ok_or_else(|| corrupt(inode.offset + 0x28, "extent root entries"))?;
                buf.copy_from_slice(src);
                Ok(())
            }
            Node::Block(blk) => dev.read_at(blk * bs + off, buf),
        }
    };
    let node_offset = |node: Node<'_>| match node {
        Node::Root(_) => inode.offset + 0x28,
        Node::Block(b) => b * bs,
    };
    let mut node = Node::Root(&inode.i_block);
    let mut expected_depth: Option<u16> = None;
    // End (exclusive) of the file-block range the current node covers.
    let mut limit = u64::from(u32::MAX) + 1;
    for _ in 0..=MAX_EXTENT_DEPTH {
        let mut raw = [0u8; 12];
        read(node, 0, &mut raw)?;
        let at = node_offset(node);
        let h = Bytes::new(&raw, at, Layer::Fs, FORMAT);
        let node_bytes = match node {
            Node::Root(_) => 60,
            Node::Block(_) => bs,
        };
        if h.u16_le(0)? != EXTENT_MAGIC {
            return Err(Error::new(Layer::Fs, FORMAT, at, ErrorKind::BadMagic));
        }
        let entries = u64::from(h.u16_le(2)?);
        let max = u64::from(h.u16_le(4)?);
        let depth = h.u16_le(6)?;
        if entries > max || 12 + max * 12 > node_bytes {
            return Err(corrupt(at + 2, "extent header entry count"));
        }
        if depth > MAX_EXTENT_DEPTH || expected_depth.is_some_and(|d| d != depth) {
            return Err(corrupt(at + 6, "extent tree depth (a node pointing at itself or an ancestor)"));
        }
        // The last entry whose first block is <= lblk (entries are sorted by first block).
        let first_block = |i: u64| -> Result<u64> {
            let mut b = [0u8; 4];
            read(node, 12 + i * 12, &mut b)?;
            Ok(u64::from(u32::from_le_bytes(b)))
        };
        let (mut lo, mut hi) = (0u64, entries);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if first_block(mid)? <= lblk {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let next_start = if lo < entries { first_block(lo)?.min(limit) } else { limit };
        if lo == 0 {
            // Before the first entry: a hole up to it.
            return Ok(Run { physical: None, len: next_start.saturating_sub(lblk).max(1) });
        }
        let mut raw = [0u8; 12];
        read(node, 12 + (lo - 1) * 12, &mut raw)?;
        let entry_at = at + 12 + (lo - 1) * 12;
        let e = Bytes::new(&raw, entry_at, Layer::Fs, FORMAT);
        let start = u64::from(e.u32_le(0)?);
        if depth == 0 {
            let raw_len = u64::from(e.u16_le(4)?);
            let (len, unwritten) = if raw_len > 32768 { (raw_len - 32768, true) } else { (raw_len, false) };
            let physical = u64::from(e.u16_le(6)?) << 32 | u64::from(e.u32_le(8)?);
            if lblk >= start + len {
                return Ok(Run { physical: None, len: next_start.saturating_sub(lblk).max(1) });
            }
            if physical.checked_add(len).is_none_or(|end| end > sb.blocks_count) {
                return Err(corrupt(entry_at, "extent points past the end of the filesystem"));
            }
            let within = lblk - start;
            let len = (len - within).min(limit.saturating_sub(lblk)).max(1);
            return Ok(Run { physical: (!unwritten).then_some(physical + within), len });
        }
        let child = u64::from(e.u16_le(8)?) << 32 | u64::from(e.u32_le(4)?);
        if child == 0 || child >= sb.blocks_count {
            return Err(corrupt(entry_at, "extent index points outside the filesystem"));
        }
        limit = next_start;
        expected_depth = Some(depth - 1);
        node = Node::Block(child);
    }
    Err(corrupt(inode.offset + 0x28, "extent tree deeper than 5"))
}

/// Maps file block `lblk` of `inode` through its ext2/3 block map (12 direct, then single,
/// double and triple indirect blocks).
pub(super) fn map_indirect(dev: &dyn ReadAt, sb: &Superblock, inode: &Inode, lblk: u64) -> Result<Run> {
    let bs = sb.block_size;
    let per_block = bs / 4;
    let i_block = inode.i_block_view();
    let direct = |i: usize| -> Result<u64> { Ok(u64::from(i_block.u32_le(i * 4)?)) };
    if lblk < 12 {
        let i = lblk as usize;
        return contiguous(direct(i)?, (i + 1..12).map(direct))?.into_run(sb, inode.offset + 0x28);
    }
    // Which tree (single/double/triple) and the index of lblk inside it.
    let mut rel = lblk - 12;
    let mut span = per_block;
    let mut levels = 1u32;
    while rel >= span {
        rel -= span;
        levels += 1;
        if levels > 3 {
            return Ok(Run { physical: None, len: u64::MAX / 2 });
        }
        span *= per_block;
    }
    let mut block = direct(11 + levels as usize)?;
    let mut covered = span;
    for _ in 1..levels {
        covered /= per_block;
        if block == 0 {
            return Ok(Run { physical: None, len: covered * per_block - rel % (covered * per_block) });
        }
        if block >= sb.blocks_count {
            return Err(corrupt(block * bs, "indirect block outside the filesystem"));
        }
        let index = rel / covered % per_block;
        let mut p = [0u8; 4];
        dev.read_at(block * bs + index * 4, &mut p)?;
        block = u64::from(u32::from_le_bytes(p));
    }
    if block == 0 {
        return Ok(Run { physical: None, len: per_block - rel % per_block });
    }
    if block >= sb.blocks_count {
        return Err(corrupt(block * bs, "indirect block outside the filesystem"));
    }
    let leaf = block;
    let index = rel % per_block;
    let pointer = |i: u64| -> Result<u64> {
        let mut p = [0u8; 4];
        dev.read_at(leaf * bs + i * 4, &mut p)?;
        Ok(u64::from(u32::from_le_bytes(p)))
    };
    contiguous(pointer(index)?, (index + 1..per_block).map(pointer))?.into_run(sb, leaf * bs + index * 4)
}

/// A run found by scanning a pointer array: its first pointer and how many follow it in
/// sequence (or stay zero, for a hole).
struct PointerRun {
    first: u64,
    len: u64,
}

impl PointerRun {
    fn into_run(self, sb: &Superblock, at: u64) -> Result<Run> {
        if self.first == 0 {
            return Ok(Run { physical: None, len: self.len });
        }
        if self.first.checked_add(self.len).is_none_or(|end| end > sb.blocks_count) {
            return Err(corrupt(at, "block pointer outside the filesystem"));
        }
        Ok(Run { physical: Some(self.first), len: self.len })
    }
}

fn contiguous(first: u64, rest: impl Iterator<Item = Result<u64>>) -> Result<PointerRun> {
    let mut len = 1u64;
    for next in rest {
        let next = next?;
        let expected = if first == 0 { 0 } else { first + len };
        if next != expected {
            break;
        }
        len += 1;
    }
    Ok(PointerRun { first, len })
}

//! Block mapping: a file's logical blocks → volume offsets, through the data fork's extent list
//! or its B+tree of extents (`bmbt`, any depth).
//!
//! An extent record is 128 bits, big-endian: 1 bit "unwritten", 54 bits logical start, 52 bits
//! filesystem block, 21 bits length. The tree's root sits in the inode (`xfs_bmdr_block`: level,
//! count, keys, pointers); its other nodes are blocks with a `BMAP` (v4) or `BMA3` (v5, with
//! owner and checksum) header. Node entries are read one at a time through the block cache, so
//! no node is ever copied whole.
//! Reference: "XFS Algorithms & Data Structures", chapters "Data Extents" and "B+trees".

use super::inode::{ForkFormat, Inode};
use super::superblock::Superblock;
use super::FORMAT;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::ReadAt;

/// Deepest bmbt followed (the format's own limit for 2^54 blocks is below this).
const MAX_LEVELS: u16 = 10;
const LONG_HEADER_V4: u64 = 24;
const LONG_HEADER_V5: u64 = 72;

/// A run of file blocks starting at the block asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Run {
    /// Volume byte offset of the first block, or `None` for a hole or an unwritten extent
    /// (both read as zeros).
    pub physical: Option<u64>,
    /// Length in blocks (at least 1).
    pub len: u64,
}

/// One extent record.
#[derive(Debug, Clone, Copy)]
struct Extent {
    logical: u64,
    block: u64,
    len: u64,
    unwritten: bool,
}

fn record(raw: [u8; 16]) -> Extent {
    let all = u128::from_be_bytes(raw);
    let (hi, lo) = ((all >> 64) as u64, all as u64);
    Extent {
        unwritten: hi >> 63 != 0,
        logical: (hi & ((1 << 63) - 1)) >> 9,
        block: ((hi & 0x1FF) << 43) | (lo >> 21),
        len: lo & ((1 << 21) - 1),
    }
}

/// Where the entries of one tree node (or the in-inode extent list) live.
enum Node<'a> {
    /// Inside the inode's data fork.
    Fork(Bytes<'a>),
    /// In a block at this volume offset.
    Block(u64),
}

impl Node<'_> {
    fn read<const N: usize>(&self, dev: &dyn ReadAt, at: u64) -> Result<[u8; N]> {
        match self {
            Node::Fork(b) => b.array(usize::try_from(at).unwrap_or(usize::MAX)),
            Node::Block(base) => {
                let mut buf = [0u8; N];
                dev.read_at(base + at, &mut buf)?;
                Ok(buf)
            }
        }
    }

    fn offset(&self, at: u64) -> u64 {
        match self {
            Node::Fork(b) => b.offset_of(0) + at,
            Node::Block(base) => base + at,
        }
    }
}

/// Maps logical block `lblk` of `inode` (whose data fork is in extents or btree format).
pub(super) fn map(dev: &dyn ReadAt, sb: &Superblock, inode: &Inode, lblk: u64) -> Result<Run> {
    let fork = inode.data_fork();
    let corrupt = |at: u64, what| Error::new(Layer::Fs, FORMAT, at, ErrorKind::Corrupt(what));
    match inode.format {
        ForkFormat::Extents => {
            let count = inode.extents;
            if count.checked_mul(16).is_none_or(|n| n > fork.len() as u64) {
                return Err(corrupt(inode.offset + 0x4C, "extent count larger than the data fork"));
            }
            find_extent(dev, sb, &Node::Fork(fork), 0, count, lblk, u64::MAX)
        }
        ForkFormat::Btree => {
            let level = fork.u16_be(0)?;
            let count = u64::from(fork.u16_be(2)?);
            let max = (fork.len() as u64 - 4) / 16;
            if count == 0 || count > max {
                return Err(fork.corrupt(2, "bmbt root record count"));
            }
            if level == 0 || level > MAX_LEVELS {
                return Err(fork.corrupt(0, "bmbt root level"));
            }
            descend(dev, sb, inode, Node::Fork(fork), level, 4, count, max, lblk)
        }
        ForkFormat::Local | ForkFormat::Device => Err(corrupt(inode.offset + 5, "data fork holds no extents")),
    }
}

/// Walks down from an interior node at `level` whose keys start at `keys_at` (`count` of
/// `max` slots; pointers follow the key slots) to the leaf that maps `lblk`.
#[allow(clippy::too_many_arguments)]
fn descend(
    dev: &dyn ReadAt,
    sb: &Superblock,
    inode: &Inode,
    mut node: Node<'_>,
    mut level: u16,
    mut keys_at: u64,
    mut count: u64,
    mut max: u64,
    lblk: u64,
) -> Result<Run> {
    let header = if sb.v5 { LONG_HEADER_V5 } else { LONG_HEADER_V4 };
    // The end (exclusive) of the logical range the current subtree covers.
    let mut limit = u64::MAX;
    loop {
        let key = |i: u64| -> Result<u64> { Ok(u64::from_be_bytes(node.read(dev, keys_at + i * 8)?)) };
        // The last key <= lblk; keys are sorted.
        let (mut lo, mut hi) = (0u64, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if key(mid)? <= lblk {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo < count {
            limit = limit.min(key(lo)?);
        }
        if lo == 0 {
            return Ok(Run { physical: None, len: limit.saturating_sub(lblk).max(1) });
        }
        let ptr_at = keys_at + max * 8 + (lo - 1) * 8;
        let child = u64::from_be_bytes(node.read(dev, ptr_at)?);
        let child_at = sb.block_offset(child, node.offset(ptr_at))?;
        let block = Node::Block(child_at);
        let h: [u8; 8] = block.read(dev, 0)?;
        let b = Bytes::new(&h, child_at, Layer::Fs, FORMAT);
        let magic = b.slice(0, 4)?;
        if magic != if sb.v5 { b"BMA3" } else { b"BMAP" } {
            return Err(b.error(0, ErrorKind::BadMagic));
        }
        if b.u16_be(4)? != level - 1 {
            return Err(b.corrupt(4, "bmbt node level (a cycle or a misplaced block)"));
        }
        if sb.v5 {
            let owner = u64::from_be_bytes(block.read(dev, 56)?);
            if owner != inode.ino {
                return Err(Error::new(
                    Layer::Fs,
                    FORMAT,
                    child_at + 56,
                    ErrorKind::Corrupt("bmbt block owned by another inode"),
                ));
            }
        }
        level -= 1;
        count = u64::from(b.u16_be(6)?);
        max = (sb.block_size - header) / 16;
        if count == 0 || count > max {
            return Err(b.corrupt(6, "bmbt node record count"));
        }
        node = block;
        keys_at = header;
        if level == 0 {
            return find_extent(dev, sb, &node, header, count, lblk, limit);
        }
    }
}

/// Looks `lblk` up in `count` extent records at `at` of `node`; `limit` ends the last hole.
fn find_extent(
    dev: &dyn ReadAt,
    sb: &Superblock,
    node: &Node<'_>,
    at: u64,
    count: u64,
    lblk: u64,
    limit: u64,
) -> Result<Run> {
    let get = |i: u64| -> Result<Extent> { Ok(record(node.read(dev, at + i * 16)?)) };
    let (mut lo, mut hi) = (0u64, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if get(mid)?.logical <= lblk {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let next_start = if lo < count { get(lo)?.logical.min(limit) } else { limit };
    if lo == 0 {
        return Ok(Run { physical: None, len: next_start.saturating_sub(lblk).max(1) });
    }
    let rec_at = node.offset(at + (lo - 1) * 16);
    let e = get(lo - 1)?;
    let end = e.logical.checked_add(e.len).ok_or(Error::new(
        Layer::Fs,
        FORMAT,
        rec_at,
        ErrorKind::Corrupt("extent length"),
    ))?;
    if e.len == 0 {
        return Err(Error::new(Layer::Fs, FORMAT, rec_at, ErrorKind::Corrupt("extent length")));
    }
    if lblk >= end {
        return Ok(Run { physical: None, len: next_start.saturating_sub(lblk).max(1) });
    }
    // An extent never crosses an allocation group: its first and last blocks must both map.
    let first = sb.block_offset(e.block, rec_at)?;
    e.block.checked_add(e.len - 1).map(|last| sb.block_offset(last, rec_at)).transpose()?;
    let within = lblk - e.logical;
    let physical = first + (within << sb.block_log);
    Ok(Run { physical: (!e.unwritten).then_some(physical), len: end - lblk })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_record_fields() {
        // unwritten=1, logical=5, block=(1<<43)|3 => hi 9 bits = 1, lo 43 bits = 3, len=7.
        let hi: u64 = (1 << 63) | (5 << 9) | 1;
        let lo: u64 = (3 << 21) | 7;
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&hi.to_be_bytes());
        raw[8..].copy_from_slice(&lo.to_be_bytes());
        let e = record(raw);
        assert!(e.unwritten);
        assert_eq!((e.logical, e.block, e.len), (5, (1 << 43) | 3, 7));
    }
}

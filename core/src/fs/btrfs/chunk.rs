//! Chunks: btrfs addresses everything by *logical* address; chunk items (bootstrapped from the
//! superblock's `sys_chunk_array`, then read from the chunk tree) map logical ranges to
//! physical offsets on the devices. A VM disk holds one device, so SINGLE chunks and the
//! mirrored profiles (DUP, RAID1, RAID1C3/4: any copy on this device) are read; striped and
//! parity profiles need other devices and are refused with a clear error when touched.
//! Reference: include/uapi/linux/btrfs_tree.h (`btrfs_chunk`, `btrfs_stripe`), fs/btrfs/volumes.c.

use super::FORMAT;
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, read_mapped, ReadAt, Segment};

/// Most chunks read (a 16 TiB filesystem has about 16,000 1 GiB data chunks).
pub(super) const MAX_CHUNKS: usize = 1 << 16;
const CHUNK_ITEM_SIZE: usize = 48;
const STRIPE_SIZE: usize = 32;
// Block group profile bits.
const RAID0: u64 = 1 << 3;
const RAID1: u64 = 1 << 4;
const DUP: u64 = 1 << 5;
const RAID10: u64 = 1 << 6;
const RAID5: u64 = 1 << 7;
const RAID6: u64 = 1 << 8;
const RAID1C3: u64 = 1 << 9;
const RAID1C4: u64 = 1 << 10;

/// One chunk: a logical range and where it is on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chunk {
    /// First logical byte.
    pub logical: u64,
    /// Length in bytes.
    pub length: u64,
    /// Physical offsets of the copies on this device (DUP keeps two), or why the chunk cannot
    /// be read here.
    pub physical: core::result::Result<heapless::Vec<u64, 4>, &'static str>,
}

/// Parses a chunk item (its key's offset is the logical start) found at `b`.
pub(super) fn parse_chunk(logical: u64, b: Bytes<'_>, devid: u64, device_size: u64) -> Result<Chunk> {
    let length = b.u64_le(0)?;
    let profile = b.u64_le(24)?;
    let stripes = usize::from(b.u16_le(44)?);
    if length == 0 || logical.checked_add(length).is_none() {
        return Err(b.corrupt(0, "chunk length"));
    }
    if stripes == 0 || b.len() < CHUNK_ITEM_SIZE + stripes * STRIPE_SIZE {
        return Err(b.corrupt(44, "chunk stripe count"));
    }
    let striped = profile & (RAID0 | RAID10 | RAID5 | RAID6) != 0 && stripes > 1;
    let physical = if striped {
        Err("btrfs RAID0/10/5/6 chunk spread over several devices")
    } else {
        let mirrored = profile & (RAID1 | DUP | RAID1C3 | RAID1C4) != 0 || stripes == 1;
        // Every copy that lives on this device (two for DUP) and fits in it.
        let mut copies = heapless::Vec::new();
        if mirrored {
            for i in 0..stripes {
                let at = CHUNK_ITEM_SIZE + i * STRIPE_SIZE;
                let (dev, offset) = (b.u64_le(at)?, b.u64_le(at + 8)?);
                if dev == devid {
                    if !fits(offset, length, device_size) {
                        return Err(b.corrupt(at + 8, "chunk stripe points past the end of the device"));
                    }
                    let _ = copies.push(offset);
                }
            }
        }
        if copies.is_empty() {
            Err("btrfs chunk stored on another device")
        } else {
            Ok(copies)
        }
    };
    Ok(Chunk { logical, length, physical })
}

/// The chunks of a filesystem, sorted by logical address, charged to the budget.
pub(super) struct ChunkMap {
    chunks: FixedVec<Chunk>,
}

impl core::fmt::Debug for ChunkMap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ChunkMap({} chunks)", self.chunks.len())
    }
}

impl ChunkMap {
    /// An empty map with room for `capacity` chunks.
    pub fn new(budget: &Budget, capacity: usize) -> Result<Self> {
        Ok(ChunkMap { chunks: budget.fixed_vec(Layer::Fs, FORMAT, 0, capacity.min(MAX_CHUNKS))? })
    }

    /// Adds a chunk (replacing one with the same start: the chunk tree's copy supersedes the
    /// bootstrap one); overlapping ranges are an error.
    pub fn insert(&mut self, chunk: Chunk, at: u64) -> Result<()> {
        let i = self.chunks.partition_point(|c| c.logical < chunk.logical);
        if let Some(same) = self.chunks.get_mut(i).filter(|c| c.logical == chunk.logical) {
            *same = chunk;
            return Ok(());
        }
        let overlaps_next = self.chunks.get(i).is_some_and(|n| chunk.logical + chunk.length > n.logical);
        let overlaps_prev = i > 0 && self.chunks.get(i - 1).is_some_and(|p| p.logical + p.length > chunk.logical);
        if overlaps_next || overlaps_prev {
            return Err(Error::new(Layer::Fs, FORMAT, at, ErrorKind::Corrupt("overlapping chunks")));
        }
        self.chunks.push(chunk)?;
        // Keep sorted: the new chunk moves to its place.
        if let Some(tail) = self.chunks.get_mut(i..) {
            tail.rotate_right(1);
        }
        Ok(())
    }

    /// The chunk holding logical byte `logical`.
    pub fn find(&self, logical: u64) -> Option<&Chunk> {
        let i = self.chunks.partition_point(|c| c.logical <= logical);
        self.chunks.get(i.checked_sub(1)?).filter(|c| logical - c.logical < c.length)
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }
}

/// The logical address space of a filesystem as a [`ReadAt`] over its device.
pub(super) struct Logical<'a, R> {
    pub device: &'a R,
    pub chunks: &'a ChunkMap,
}

impl<'a, R: ReadAt> Logical<'a, R> {
    /// The chunk holding logical byte `pos` and the physical offsets of its copies.
    fn copies_at(&self, pos: u64) -> Result<(&'a Chunk, &'a [u64])> {
        let chunk = self.chunks.find(pos).ok_or(Error::new(
            Layer::Fs,
            FORMAT,
            pos,
            ErrorKind::Corrupt("logical address outside every chunk"),
        ))?;
        let copies =
            chunk.physical.as_ref().map_err(|what| Error::new(Layer::Fs, FORMAT, pos, ErrorKind::Unsupported(what)))?;
        Ok((chunk, copies))
    }

    /// Reads `buf` from copy `copy` of the chunk holding `offset` (which must hold all of it);
    /// `Ok(false)` when the chunk has no such copy.
    pub fn read_copy(&self, offset: u64, copy: usize, buf: &mut [u8]) -> Result<bool> {
        let (chunk, copies) = self.copies_at(offset)?;
        let Some(&physical) = copies.get(copy) else { return Ok(false) };
        let within = offset - chunk.logical;
        if within.checked_add(buf.len() as u64).is_none_or(|end| end > chunk.length) {
            return Err(Error::new(
                Layer::Fs,
                FORMAT,
                offset,
                ErrorKind::Corrupt("tree block crosses a chunk boundary"),
            ));
        }
        self.device.read_at(physical + within, buf)?;
        Ok(true)
    }
}

impl<R: ReadAt> ReadAt for Logical<'_, R> {
    fn size(&self) -> u64 {
        u64::MAX
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, u64::MAX) {
            return Err(eof(Layer::Fs, FORMAT, offset, buf.len(), u64::MAX));
        }
        let map = |pos: u64, _| {
            let corrupt = |what| Error::new(Layer::Fs, FORMAT, pos, ErrorKind::Corrupt(what));
            let (chunk, copies) = self.copies_at(pos)?;
            let physical = *copies.first().ok_or(corrupt("chunk without copies"))?;
            let within = pos.checked_sub(chunk.logical).ok_or(corrupt("chunk map"))?;
            let at = physical.checked_add(within).ok_or(corrupt("chunk map"))?;
            Ok((Segment::At(at), chunk.length.saturating_sub(within)))
        };
        read_mapped(offset, buf, (Layer::Fs, FORMAT), map, |at, piece| self.device.read_at(at, piece))
    }
}

//! A fixed-capacity block cache in front of a [`ReadAt`].
//!
//! Metadata reads (inode tables, directory blocks, extent nodes, partition tables) touch the
//! same few blocks again and again; the cache keeps `slots` blocks, allocated once and charged
//! to the budget, and evicts the least recently used. Reads that cover whole blocks (file
//! contents being streamed) bypass it, so a large `cat` does not flush the metadata.

use crate::budget::{Budget, FixedVec};
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, piece, read_mapped, ReadAt, Segment};
use core::cell::RefCell;
use core::fmt;

struct Slot {
    /// Block number held, if any.
    block: Option<u64>,
    /// Last use, for LRU eviction.
    stamp: u64,
}

struct State {
    data: FixedVec<u8>,
    slots: FixedVec<Slot>,
    clock: u64,
}

/// A read-through cache of `slots` blocks of `block_size` bytes over `inner`.
pub struct BlockCache<R> {
    inner: R,
    block_size: usize,
    state: RefCell<State>,
}

impl<R> fmt::Debug for BlockCache<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockCache(block {} bytes)", self.block_size)
    }
}

impl<R: ReadAt> BlockCache<R> {
    /// Builds the cache, charging `slots * block_size` bytes to `budget`.
    pub fn new(
        inner: R,
        block_size: usize,
        slots: usize,
        budget: &Budget,
        layer: Layer,
        format: &'static str,
    ) -> Result<Self> {
        let bytes = block_size.saturating_mul(slots);
        let data = budget.zeroed(layer, format, 0, bytes)?;
        let mut table = budget.fixed_vec(layer, format, 0, slots)?;
        for _ in 0..slots {
            table.push(Slot { block: None, stamp: 0 })?;
        }
        Ok(BlockCache { inner, block_size, state: RefCell::new(State { data, slots: table, clock: 0 }) })
    }

    /// The reader underneath.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Copies the part `[in_block, in_block + out.len())` of block `block` into `out`.
    fn read_cached(&self, block: u64, in_block: usize, out: &mut [u8]) -> Result<()> {
        let bs = self.block_size;
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        st.clock += 1;
        let clock = st.clock;
        let index = match st.slots.iter().position(|s| s.block == Some(block)) {
            Some(i) => i,
            None => {
                let victim = st.slots.iter().enumerate().min_by_key(|(_, s)| s.stamp).map(|(i, _)| i).unwrap_or(0);
                let start = block * bs as u64;
                // The last block of a reader may be partial: read what exists.
                let avail = (self.inner.size() - start).min(bs as u64) as usize;
                let here = (Layer::Source, "cache", start);
                let buf = piece(&mut st.data, victim * bs, avail, here)?;
                let slot = st.slots.get_mut(victim).ok_or(Error::new(
                    here.0,
                    here.1,
                    start,
                    ErrorKind::Corrupt("cache slot"),
                ))?;
                slot.block = None;
                self.inner.read_at(start, buf)?;
                slot.block = Some(block);
                victim
            }
        };
        let at = block * bs as u64;
        let slot =
            st.slots.get_mut(index).ok_or(Error::new(Layer::Source, "cache", at, ErrorKind::Corrupt("cache slot")))?;
        slot.stamp = clock;
        let cached = piece(&mut st.data, index * bs + in_block, out.len(), (Layer::Source, "cache", at))?;
        out.copy_from_slice(cached);
        Ok(())
    }
}

impl<R: ReadAt> ReadAt for BlockCache<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let size = self.inner.size();
        if !fits(offset, buf.len() as u64, size) {
            return Err(eof(Layer::Source, "cache", offset, buf.len(), size));
        }
        let slots = self.state.borrow().slots.len();
        if slots == 0 || self.block_size == 0 {
            return self.inner.read_at(offset, buf);
        }
        let bs = self.block_size as u64;
        // Whole blocks are read straight through, as many as are contiguous; a part of a block
        // comes from the cache.
        let map = |pos: u64, wanted: usize| {
            let in_block = pos % bs;
            Ok(if in_block == 0 && wanted as u64 >= bs {
                let whole = wanted as u64 - wanted as u64 % bs;
                (Segment::At((pos, None)), whole)
            } else {
                (Segment::At((pos, Some((pos / bs, in_block as usize)))), bs - in_block)
            })
        };
        read_mapped(offset, buf, (Layer::Source, "cache"), map, |(pos, cached), out| match cached {
            None => self.inner.read_at(pos, out),
            Some((block, in_block)) => self.read_cached(block, in_block, out),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    struct Counting<'a> {
        data: &'a [u8],
        reads: Cell<usize>,
    }

    impl ReadAt for Counting<'_> {
        fn size(&self) -> u64 {
            self.data.len() as u64
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
            self.reads.set(self.reads.get() + 1);
            self.data.read_at(offset, buf)
        }
    }

    #[test]
    fn caches_partial_reads_and_bypasses_whole_blocks() {
        let data: alloc::vec::Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let src = Counting { data: &data, reads: Cell::new(0) };
        let budget = Budget::new(1 << 20);
        let cache = BlockCache::new(&src, 64, 2, &budget, Layer::Fs, "t").unwrap();
        assert_eq!(budget.used(), 128 + 2 * core::mem::size_of::<Slot>());
        let mut b = [0u8; 10];
        cache.read_at(70, &mut b).unwrap();
        cache.read_at(75, &mut b).unwrap();
        assert_eq!(src.reads.get(), 1);
        assert_eq!(b[0], 75);
        // Spanning two blocks, the second not cached yet.
        cache.read_at(120, &mut b).unwrap();
        assert_eq!(src.reads.get(), 2);
        assert_eq!(&b[..], &data[120..130]);
        // Whole blocks go straight through.
        let mut big = [0u8; 128];
        cache.read_at(256, &mut big).unwrap();
        assert_eq!(&big[..], &data[256..384]);
        // The partial last block of the source.
        let mut tail = [0u8; 8];
        cache.read_at(992, &mut tail).unwrap();
        assert_eq!(&tail[..], &data[992..1000]);
        assert!(cache.read_at(995, &mut tail).is_err());
    }
}

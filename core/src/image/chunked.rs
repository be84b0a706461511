//! A guest disk stored as fixed-size chunks (qcow2 clusters, VMDK grains, VDI blocks) that
//! are absent (zeros or the backing image), stored raw, or deflate-compressed. Compressed
//! chunks are inflated one at a time with `miniz_oxide` into a fixed set of cache slots charged
//! to the budget; every inflated chunk's length is checked.

use crate::budget::{Budget, FixedVec};
use crate::cache::BlockCache;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, piece, read_mapped, ReadAt, Segment};
use alloc::boxed::Box;
use core::cell::RefCell;
use core::fmt;
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Where the bytes of one chunk are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Reads as zeros.
    Zero,
    /// Not in this image: read from the backing image (zeros without one).
    Backing,
    /// Stored uncompressed at this file offset.
    Raw(u64),
    /// Stored compressed: `len` bytes at `offset`; `zlib` when wrapped in a zlib header.
    Deflate { offset: u64, len: usize, zlib: bool },
}

/// A format's table lookup: which chunk holds guest chunk `index`.
pub(crate) trait ChunkMap {
    /// Looks chunk `index` up, reading tables through `file`.
    fn locate(&self, file: &dyn ReadAt, index: u64) -> Result<Chunk>;
}

/// Metadata block cache over the image file: bytes and slots.
const META_BLOCK: usize = 4096;
const META_SLOTS: usize = 64;
/// Memory for inflated chunks: at least two slots, about this many bytes.
const INFLATE_CACHE_BYTES: usize = 1 << 20;

struct Inflater {
    slots: FixedVec<u8>,
    tags: FixedVec<(Option<u64>, u64)>,
    input: FixedVec<u8>,
    state: Box<DecompressorOxide>,
    /// The inflate state (about 11 KiB) is charged too.
    _state_charge: crate::budget::Reservation,
    clock: u64,
}

/// A chunked guest disk as a [`ReadAt`].
pub(crate) struct ChunkedDisk<'a, F, M> {
    file: BlockCache<F>,
    map: M,
    size: u64,
    chunk: u64,
    backing: Option<Box<dyn ReadAt + 'a>>,
    inflater: RefCell<Inflater>,
    format: &'static str,
    budget: Budget,
}

impl<F, M> fmt::Debug for ChunkedDisk<'_, F, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkedDisk({}, {} bytes in chunks of {})", self.format, self.size, self.chunk)
    }
}

impl<'a, F: ReadAt, M: ChunkMap> ChunkedDisk<'a, F, M> {
    /// A disk of `size` bytes in chunks of `chunk` bytes: a power of two, at most 2 MiB when
    /// chunks may be `compressed` (their inflate cache is then allocated), else 256 MiB.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        file: F,
        map: M,
        size: u64,
        chunk: u64,
        compressed: bool,
        backing: Option<Box<dyn ReadAt + 'a>>,
        budget: &Budget,
        format: &'static str,
    ) -> Result<Self> {
        let max = if compressed { 2 << 20 } else { 256 << 20 };
        if !chunk.is_power_of_two() || !(512..=max).contains(&chunk) {
            return Err(Error::new(Layer::Image, format, 0, ErrorKind::Unsupported("chunk size")));
        }
        let slots = if compressed { (INFLATE_CACHE_BYTES / chunk as usize).max(2) } else { 0 };
        let mut tags = budget.fixed_vec(Layer::Image, format, 0, slots)?;
        for _ in 0..slots {
            tags.push((None, 0))?;
        }
        let inflater = Inflater {
            slots: budget.zeroed(Layer::Image, format, 0, slots * chunk as usize)?,
            tags,
            input: budget.zeroed(Layer::Image, format, 0, 0)?,
            state: Box::new(DecompressorOxide::new()),
            _state_charge: budget.reserve(Layer::Image, format, 0, core::mem::size_of::<DecompressorOxide>())?,
            clock: 0,
        };
        let file = BlockCache::new(file, META_BLOCK, META_SLOTS, budget, Layer::Image, format)?;
        Ok(ChunkedDisk {
            file,
            map,
            size,
            chunk,
            backing,
            inflater: RefCell::new(inflater),
            format,
            budget: budget.clone(),
        })
    }

    fn err(&self, offset: u64, kind: ErrorKind) -> Error {
        Error::new(Layer::Image, self.format, offset, kind)
    }

    /// Copies bytes `[within, within + out.len())` of compressed chunk `index` into `out`.
    fn read_deflated(&self, index: u64, at: u64, len: usize, zlib: bool, within: usize, out: &mut [u8]) -> Result<()> {
        let cs = self.chunk as usize;
        let mut guard = self.inflater.borrow_mut();
        let inf = &mut *guard;
        inf.clock += 1;
        let clock = inf.clock;
        if inf.tags.is_empty() {
            return Err(self.err(at, ErrorKind::Corrupt("compressed chunk in a format without compression")));
        }
        let slot = match inf.tags.iter().position(|t| t.0 == Some(index)) {
            Some(s) => s,
            None => {
                if len > 2 * cs + 4096 {
                    return Err(self.err(at, ErrorKind::Corrupt("compressed chunk larger than twice the chunk size")));
                }
                if !fits(at, len as u64, self.file.size()) {
                    return Err(self.err(at, ErrorKind::Corrupt("compressed chunk lies past the end of the file")));
                }
                let victim = inf.tags.iter().enumerate().min_by_key(|(_, t)| t.1).map_or(0, |(i, _)| i);
                let cache_error = || self.err(at, ErrorKind::Corrupt("inflate cache slot"));
                inf.tags.get_mut(victim).ok_or_else(cache_error)?.0 = None;
                self.budget.reuse(&mut inf.input, Layer::Image, self.format, at, len)?;
                self.file.inner().read_at(at, &mut inf.input)?;
                // The last chunk of a disk whose size is not a multiple of the chunk is short.
                let want = (self.size - index * self.chunk).min(self.chunk) as usize;
                let out_slot = piece(&mut inf.slots, victim * cs, cs, (Layer::Image, self.format, at))?;
                inf.state.init();
                let mut flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
                if zlib {
                    flags |= inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER;
                }
                let (status, _, produced) = decompress(&mut inf.state, &inf.input, out_slot, 0, flags);
                match status {
                    TINFLStatus::Done | TINFLStatus::HasMoreOutput if produced >= want => {}
                    TINFLStatus::Done => {
                        return Err(self.err(at, ErrorKind::Corrupt("inflated chunk shorter than the chunk size")));
                    }
                    _ => return Err(self.err(at, ErrorKind::Corrupt("broken deflate stream in a compressed chunk"))),
                }
                out_slot.get_mut(want..).unwrap_or_default().fill(0);
                inf.tags.get_mut(victim).ok_or_else(cache_error)?.0 = Some(index);
                victim
            }
        };
        inf.tags.get_mut(slot).ok_or_else(|| self.err(at, ErrorKind::Corrupt("inflate cache slot")))?.1 = clock;
        out.copy_from_slice(piece(&mut inf.slots, slot * cs + within, out.len(), (Layer::Image, self.format, at))?);
        Ok(())
    }
}

impl<F: ReadAt, M: ChunkMap> ReadAt for ChunkedDisk<'_, F, M> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.size) {
            return Err(eof(Layer::Image, self.format, offset, buf.len(), self.size));
        }
        let map = |pos: u64, _| {
            let index = pos.checked_div(self.chunk).ok_or(self.err(pos, ErrorKind::Corrupt("chunk size")))?;
            let within = pos % self.chunk;
            let segment = match self.map.locate(&self.file, index)? {
                Chunk::Zero => Segment::Hole,
                chunk => Segment::At((chunk, index, within, pos)),
            };
            Ok((segment, self.chunk.saturating_sub(within)))
        };
        read_mapped(offset, buf, (Layer::Image, self.format), map, |(chunk, index, within, pos), out| {
            match chunk {
                Chunk::Zero => out.fill(0),
                Chunk::Backing => match &self.backing {
                    Some(b) if pos < b.size() => {
                        // A backing disk smaller than this one reads as zeros past its end.
                        let avail = usize::try_from(b.size() - pos).map_or(out.len(), |a| a.min(out.len()));
                        let (present, past) = out.split_at_mut(avail);
                        b.read_at(pos, present)?;
                        past.fill(0);
                    }
                    _ => out.fill(0),
                },
                Chunk::Raw(at) => {
                    let past_the_end = ErrorKind::Corrupt("data lies past the end of the file");
                    let at = at.checked_add(within).ok_or(self.err(pos, past_the_end))?;
                    if !fits(at, out.len() as u64, self.file.size()) {
                        return Err(self.err(at, past_the_end));
                    }
                    self.file.read_at(at, out)?;
                }
                Chunk::Deflate { offset: at, len, zlib } => {
                    let within =
                        usize::try_from(within).map_err(|_| self.err(pos, ErrorKind::Corrupt("chunk size")))?;
                    self.read_deflated(index, at, len, zlib, within, out)?
                }
            }
            Ok(())
        })
    }
}

//! Random access: the one trait every layer reads the layer below through.
//!
//! Reads name their offset explicitly (no seek-then-read state), so a layer can be shared by
//! several readers above it and a read never depends on what happened before.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::error::{Error, ErrorKind, Layer, Result};
use alloc::boxed::Box;
use alloc::sync::Arc;

/// Random-access, read-only bytes of known size: a file, a guest disk, a partition, a file
/// inside a filesystem.
pub trait ReadAt {
    /// Total size in bytes.
    fn size(&self) -> u64;

    /// Fills all of `buf` with the bytes at `offset`. Reading past [`ReadAt::size`] is an error
    /// (`ErrorKind::UnexpectedEof`); a short read never happens.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_at(offset, buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Box<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_at(offset, buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_at(offset, buf)
    }
}

/// In-memory bytes (tests, small embedded structures).
impl ReadAt for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|start| self.get(start..start.checked_add(buf.len())?))
            .ok_or_else(|| eof(Layer::Source, "memory", offset, buf.len(), self.size()))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// The error for a read of `len` bytes at `offset` that does not fit in `size`.
pub fn eof(layer: Layer, format: &'static str, offset: u64, len: usize, size: u64) -> Error {
    Error::new(layer, format, offset, ErrorKind::UnexpectedEof { wanted: len as u64, size })
}

/// `buf[at..at + len]`, the piece of a read loop's buffer it fills next; a loop whose own
/// arithmetic went wrong gets an error naming `layer`/`format` and `offset` instead of a panic.
pub fn piece<'a>(
    buf: &'a mut [u8],
    at: usize,
    len: usize,
    (layer, format, offset): (Layer, &'static str, u64),
) -> Result<&'a mut [u8]> {
    at.checked_add(len)
        .and_then(|end| buf.get_mut(at..end))
        .ok_or_else(|| Error::new(layer, format, offset, ErrorKind::Corrupt("read span")))
}

/// Where one stretch of a mapped read comes from: mapped bytes (`At`, with whatever locates
/// them: a device offset, an extent and an offset in it), or a hole that reads as zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<T = u64> {
    /// Mapped: `T` says where the stretch starts in the layer below.
    At(T),
    /// Not mapped: zeros.
    Hole,
}

/// The one mapped-read loop every layer that maps its bytes onto another shares (extent
/// lists, grain and cluster tables, LV segments, filesystem extents, chunks).
///
/// Fills `buf` with the bytes at `offset`, stretch by stretch: `map(pos, wanted)` says where
/// the stretch at `pos` comes from and how many bytes it runs from there (`wanted`: how many
/// `buf` still needs, for maps that look ahead no further); `read(at, piece)` fills a
/// mapped piece (at most that long, cut to what `buf` still wants); a hole is zero-filled. A
/// stretch of length 0, or positions past `u64`, are errors naming `layer`/`format` and the
/// position — never an endless loop or a panic.
pub fn read_mapped<T>(
    offset: u64,
    buf: &mut [u8],
    (layer, format): (Layer, &'static str),
    mut map: impl FnMut(u64, usize) -> Result<(Segment<T>, u64)>,
    mut read: impl FnMut(T, &mut [u8]) -> Result<()>,
) -> Result<()> {
    let mut rest = buf;
    let mut pos = offset;
    while !rest.is_empty() {
        let (segment, run) = map(pos, rest.len())?;
        if run == 0 {
            return Err(Error::new(layer, format, pos, ErrorKind::Corrupt("a mapping gave an empty stretch")));
        }
        let n = usize::try_from(run).map_or(rest.len(), |run| run.min(rest.len()));
        let (piece, tail) = rest.split_at_mut(n);
        match segment {
            Segment::At(at) => read(at, piece)?,
            Segment::Hole => piece.fill(0),
        }
        rest = tail;
        if !rest.is_empty() {
            pos = pos.checked_add(n as u64).ok_or(Error::new(layer, format, pos, ErrorKind::Corrupt("read span")))?;
        }
    }
    Ok(())
}

/// Whether `len` bytes at `offset` lie inside `size` bytes (overflow-safe).
pub fn fits(offset: u64, len: u64, size: u64) -> bool {
    offset.checked_add(len).is_some_and(|end| end <= size)
}

/// Helpers written once for every [`ReadAt`].
pub trait ReadAtExt: ReadAt {
    /// Reads a fixed-size array at `offset`.
    fn read_array<const N: usize>(&self, offset: u64) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.read_at(offset, &mut buf)?;
        Ok(buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAtExt for T {}

/// A window `[start, start + len)` of another reader: a partition on a disk, a logical volume,
/// a member of an archive. Reads outside the window fail with the window's layer and format.
#[derive(Debug, Clone)]
pub struct Window<R> {
    inner: R,
    start: u64,
    len: u64,
    layer: Layer,
    format: &'static str,
}

impl<R: ReadAt> Window<R> {
    /// A window over `inner`. The window may extend past the end of `inner` (a truncated image);
    /// reads there fail with `UnexpectedEof` from the inner reader.
    pub fn new(inner: R, start: u64, len: u64, layer: Layer, format: &'static str) -> Self {
        Window { inner, start, len, layer, format }
    }

    /// Where the window starts in the inner reader.
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl<R: ReadAt> ReadAt for Window<R> {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.len) {
            return Err(eof(self.layer, self.format, offset, buf.len(), self.len));
        }
        // The window may have been placed by on-disk values: an end past u64 is an EOF, not a wrap.
        let at =
            self.start.checked_add(offset).ok_or_else(|| eof(self.layer, self.format, offset, buf.len(), self.len))?;
        self.inner.read_at(at, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::{read_mapped, Segment};

    #[test]
    fn mapped_reads_stretch_by_stretch() {
        let disk: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
        // Stretches of 3 bytes: even ones mapped onto the disk at the same offset, odd ones
        // holes.
        let map = |pos: u64, _| {
            let seg = if (pos / 3).is_multiple_of(2) { Segment::At(pos) } else { Segment::Hole };
            Ok((seg, 3 - pos % 3))
        };
        let mut buf = [0xFFu8; 7];
        read_mapped(1, &mut buf, (Layer::Image, "t"), map, |at, piece| {
            piece.copy_from_slice(&disk[at as usize..at as usize + piece.len()]);
            Ok(())
        })
        .unwrap();
        assert_eq!(buf, [2, 3, 0, 0, 0, 7, 8]);
        // An empty stretch is an error, not an endless loop.
        let e = read_mapped(5, &mut buf, (Layer::Image, "t"), |_, _| Ok((Segment::<u64>::Hole, 0)), |_, _| Ok(()))
            .unwrap_err();
        assert_eq!((e.offset, e.kind), (5, ErrorKind::Corrupt("a mapping gave an empty stretch")));
        // Past u64: an error at the last position.
        let e =
            read_mapped(u64::MAX, &mut buf, (Layer::Image, "t"), |_, _| Ok((Segment::<u64>::Hole, 1)), |_, _| Ok(()))
                .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt("read span"));
        // A stretch longer than usize is cut to what the buffer wants.
        read_mapped(0, &mut buf, (Layer::Image, "t"), |_, _| Ok((Segment::<u64>::Hole, u64::MAX)), |_, _| Ok(()))
            .unwrap();
        assert_eq!(buf, [0; 7]);
    }

    use super::*;

    #[test]
    fn window_bounds() {
        let data: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
        let w = Window::new(&data[..], 2, 4, Layer::Volume, "test");
        assert_eq!(w.read_array::<2>(1).unwrap(), [3, 4]);
        let err = w.read_array::<2>(3).unwrap_err();
        assert_eq!(err.layer, Layer::Volume);
        assert_eq!(err.offset, 3);
        assert!(w.read_array::<1>(u64::MAX).is_err());
    }
}

//! A fault-injecting [`ReadAt`] (after smoltcp's `FaultInjector`): I/O errors, short reads and
//! bit flips at chosen offsets of a source, so tests of every layer can check that a failing or
//! damaged read comes back as an error naming where it happened, and that whatever could be
//! read is still right.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::ReadAt;
use core::cell::Cell;

/// Most faults one injector holds.
pub const MAX_FAULTS: usize = 8;

/// The error code an injected I/O error carries (`EIO`).
pub const EIO: i32 = 5;

/// One fault, placed at a byte offset of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Reads of any of the `len` bytes from `at` fail with [`ErrorKind::Io`] (a bad sector).
    IoError {
        /// First byte that cannot be read.
        at: u64,
        /// How many bytes cannot be read.
        len: u64,
    },
    /// The source still claims its whole size, but a read reaching `at` or beyond comes back
    /// short ([`ErrorKind::UnexpectedEof`]): a file cut while it was being read.
    ShortRead {
        /// Where the readable bytes end.
        at: u64,
    },
    /// Bit `bit` (0–7) of the byte at `at` reads flipped.
    BitFlip {
        /// The damaged byte.
        at: u64,
        /// The damaged bit.
        bit: u8,
    },
}

/// A source whose reads meet the faults it was given. Errors name [`Layer::Source`], format
/// `"fault"` and the first faulty byte a read touched.
#[derive(Debug)]
pub struct FaultInjector<R> {
    inner: R,
    faults: heapless::Vec<Fault, MAX_FAULTS>,
    hits: Cell<u64>,
}

impl<R: ReadAt> FaultInjector<R> {
    /// `inner` with no faults yet.
    pub fn new(inner: R) -> Self {
        FaultInjector { inner, faults: heapless::Vec::new(), hits: Cell::new(0) }
    }

    /// Adds `fault`; more than [`MAX_FAULTS`] is a test's mistake, reported as `Err(fault)`.
    pub fn with(mut self, fault: Fault) -> core::result::Result<Self, Fault> {
        self.faults.push(fault)?;
        Ok(self)
    }

    /// How many reads met a fault so far.
    pub fn hits(&self) -> u64 {
        self.hits.get()
    }

    fn hit(&self) {
        self.hits.set(self.hits.get().saturating_add(1));
    }
}

impl<R: ReadAt> ReadAt for FaultInjector<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset.saturating_add(buf.len() as u64);
        for fault in &self.faults {
            match *fault {
                Fault::IoError { at, len } if at < end && offset < at.saturating_add(len) => {
                    self.hit();
                    let first = at.max(offset);
                    return Err(Error::new(Layer::Source, "fault", first, ErrorKind::Io { code: EIO }));
                }
                Fault::ShortRead { at } if end > at => {
                    self.hit();
                    let kind = ErrorKind::UnexpectedEof { wanted: buf.len() as u64, size: at };
                    return Err(Error::new(Layer::Source, "fault", at.max(offset), kind));
                }
                _ => {}
            }
        }
        self.inner.read_at(offset, buf)?;
        for fault in &self.faults {
            if let Fault::BitFlip { at, bit } = *fault {
                if let Some(byte) =
                    at.checked_sub(offset).and_then(|i| usize::try_from(i).ok()).and_then(|i| buf.get_mut(i))
                {
                    self.hit();
                    *byte ^= 1 << (bit & 7);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fault_meets_only_the_reads_that_touch_it() {
        let data: [u8; 64] = core::array::from_fn(|i| i as u8);
        let src = FaultInjector::new(&data[..])
            .with(Fault::IoError { at: 10, len: 2 })
            .unwrap()
            .with(Fault::BitFlip { at: 20, bit: 1 })
            .unwrap()
            .with(Fault::ShortRead { at: 48 })
            .unwrap();
        let mut buf = [0u8; 4];
        src.read_at(0, &mut buf).unwrap();
        assert_eq!(buf, [0, 1, 2, 3]);
        src.read_at(12, &mut buf).unwrap();
        let e = src.read_at(8, &mut buf).unwrap_err();
        assert_eq!((e.layer, e.format, e.offset, e.kind), (Layer::Source, "fault", 10, ErrorKind::Io { code: EIO }));
        assert_eq!(src.read_at(11, &mut buf).unwrap_err().offset, 11);
        src.read_at(18, &mut buf).unwrap();
        assert_eq!(buf, [18, 19, 20 ^ 2, 21]);
        src.read_at(44, &mut buf).unwrap();
        let e = src.read_at(45, &mut buf).unwrap_err();
        assert_eq!((e.offset, e.kind), (48, ErrorKind::UnexpectedEof { wanted: 4, size: 48 }));
        assert_eq!(src.size(), 64);
        assert_eq!(src.hits(), 4);
        let full = (0..MAX_FAULTS)
            .try_fold(FaultInjector::new(&data[..]), |s, at| s.with(Fault::BitFlip { at: at as u64, bit: 0 }));
        assert!(full.unwrap().with(Fault::ShortRead { at: 0 }).is_err());
    }
}

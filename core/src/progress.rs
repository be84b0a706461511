//! Progress and cancellation: a sink the front ends implement (a terminal spinner, a GUI
//! progress bar), told what the scan is doing, and a reader wrapper that counts the bytes read
//! from the image and stops the scan when the sink says it is cancelled.

use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::ReadAt;
use core::cell::Cell;

/// What a scan is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage<'a> {
    /// Opening the container and reading the volume table.
    Opening,
    /// Reading a volume (its id).
    Volume(&'a str),
    /// Matching a root's packages against the vulnerability DB (its volume id).
    Matching(&'a str),
    /// Finished.
    Done,
}

impl Stage<'_> {
    /// A short sentence for a progress display (`Reading gpt:2`).
    pub fn describe(&self) -> alloc::string::String {
        match self {
            Stage::Opening => alloc::string::String::from("Opening the image"),
            Stage::Volume(id) => alloc::format!("Reading {id}"),
            Stage::Matching(id) => alloc::format!("Matching the packages of {id}"),
            Stage::Done => alloc::string::String::from("Done"),
        }
    }
}

/// Receives progress; every method has a do-nothing default. Implementations must be cheap:
/// [`ProgressSink::bytes_read`] is called on every read of the image.
pub trait ProgressSink: Sync {
    /// The scan entered `stage`.
    fn stage(&self, _stage: Stage<'_>) {}
    /// A root's package databases were read: `count` packages on `volume`.
    fn packages_found(&self, _volume: &str, _count: usize) {}
    /// `total` bytes of the image have been read so far.
    fn bytes_read(&self, _total: u64) {}
    /// Whether the scan should stop (checked before every read of the image).
    fn cancelled(&self) -> bool {
        false
    }
}

/// A sink that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {}

/// The image as the scan reads it: every read counted and reported to the sink, and refused
/// with [`ErrorKind::Cancelled`] once the sink is cancelled.
pub struct Watched<'a, R> {
    inner: R,
    sink: &'a dyn ProgressSink,
    /// A plain cell, not an atomic: 64-bit atomics are missing on the small targets the core
    /// also builds for, and a scan reads its image from one thread.
    read: Cell<u64>,
}

impl<R> core::fmt::Debug for Watched<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Watched({} bytes read)", self.read.get())
    }
}

impl<'a, R: ReadAt> Watched<'a, R> {
    /// Wraps `inner`, reporting to `sink`.
    pub fn new(inner: R, sink: &'a dyn ProgressSink) -> Self {
        Watched { inner, sink, read: Cell::new(0) }
    }

    /// Bytes read through the wrapper so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.get()
    }
}

impl<R: ReadAt> ReadAt for Watched<'_, R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if self.sink.cancelled() {
            return Err(Error::new(Layer::Source, "scan", offset, ErrorKind::Cancelled));
        }
        self.inner.read_at(offset, buf)?;
        let total = self.read.get().saturating_add(buf.len() as u64);
        self.read.set(total);
        self.sink.bytes_read(total);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    struct Flag(AtomicBool, AtomicU64);
    impl ProgressSink for Flag {
        fn bytes_read(&self, total: u64) {
            self.1.store(total, Ordering::Relaxed);
        }
        fn cancelled(&self) -> bool {
            self.0.load(Ordering::Relaxed)
        }
    }

    #[test]
    fn counts_and_cancels() {
        let data = [7u8; 64];
        let sink = Flag(AtomicBool::new(false), AtomicU64::new(0));
        let w = Watched::new(&data[..], &sink);
        let mut buf = [0u8; 16];
        w.read_at(0, &mut buf).unwrap();
        w.read_at(16, &mut buf).unwrap();
        assert_eq!((w.bytes_read(), sink.1.load(Ordering::Relaxed)), (32, 32));
        sink.0.store(true, Ordering::Relaxed);
        assert_eq!(w.read_at(0, &mut buf).unwrap_err().kind, ErrorKind::Cancelled);
    }
}

//! Progress and cancellation: a sink the front ends implement (a terminal spinner, a GUI
//! progress bar), told what the scan is doing, and a read meter that counts the bytes read
//! from the image and the files it names, and stops the scan when the sink says it is cancelled
//! or the scan's read limit is used up.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::error::{Error, ErrorKind, Layer, Result};
use crate::image::Opener;
use crate::io::ReadAt;
use alloc::boxed::Box;
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
    /// Why the scan was cancelled, for the report (`the scan stopped early: …`).
    fn cancel_reason(&self) -> &'static str {
        "it was cancelled"
    }
}

/// A sink that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {}

/// Default [`ReadMeter`] limit: 16 GiB read from an image and the files it names. A scan of a
/// sound image reads its metadata and package databases — tens or hundreds of MiB — so this is
/// far past any honest layout and stops one that makes the scan re-read the same bytes.
pub const DEFAULT_READ_LIMIT: u64 = 16 << 30;

/// One scan's read budget: counts every read of the image and of the files it names, reports
/// the total to the sink, and refuses further reads — with [`ErrorKind::Cancelled`] once the
/// sink is cancelled, or [`ErrorKind::ReadLimit`] once `limit` bytes have been read. Readers are
/// put under the meter with [`ReadMeter::watch`] and [`ReadMeter::opener`].
pub struct ReadMeter<'a> {
    sink: &'a dyn ProgressSink,
    limit: u64,
    /// A plain cell, not an atomic: 64-bit atomics are missing on the small targets the core
    /// also builds for, and a scan reads its image from one thread.
    read: Cell<u64>,
    refused: Cell<bool>,
}

impl core::fmt::Debug for ReadMeter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ReadMeter({} of {} bytes read)", self.read.get(), self.limit)
    }
}

impl<'a> ReadMeter<'a> {
    /// A meter reporting to `sink` that allows `limit` bytes (`u64::MAX`: no limit).
    pub fn new(sink: &'a dyn ProgressSink, limit: u64) -> Self {
        ReadMeter { sink, limit, read: Cell::new(0), refused: Cell::new(false) }
    }

    /// Bytes read through the meter so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.get()
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether a read was refused because the limit was used up.
    pub fn exhausted(&self) -> bool {
        self.refused.get()
    }

    /// `inner`, its reads counted and limited by this meter.
    pub fn watch<R: ReadAt>(&'a self, inner: R) -> Watched<'a, R> {
        Watched { inner, meter: self }
    }

    /// `inner`, every file it opens counted and limited by this meter.
    pub fn opener<O: Opener>(&'a self, inner: O) -> WatchedOpener<'a, O> {
        WatchedOpener { inner, meter: self }
    }

    /// Admits a read of `len` bytes at `offset` (of some watched reader), or says why not.
    fn admit(&self, offset: u64, len: usize) -> Result<()> {
        if self.sink.cancelled() {
            return Err(Error::new(Layer::Source, "scan", offset, ErrorKind::Cancelled));
        }
        let total = self.read.get().saturating_add(len as u64);
        if total > self.limit {
            self.refused.set(true);
            return Err(Error::new(Layer::Source, "scan", offset, ErrorKind::ReadLimit { limit: self.limit }));
        }
        Ok(())
    }

    fn count(&self, len: usize) {
        let total = self.read.get().saturating_add(len as u64);
        self.read.set(total);
        self.sink.bytes_read(total);
    }
}

/// A reader under a [`ReadMeter`].
pub struct Watched<'a, R> {
    inner: R,
    meter: &'a ReadMeter<'a>,
}

impl<R> core::fmt::Debug for Watched<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Watched({:?})", self.meter)
    }
}

impl<R: ReadAt> ReadAt for Watched<'_, R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.meter.admit(offset, buf.len())?;
        self.inner.read_at(offset, buf)?;
        self.meter.count(buf.len());
        Ok(())
    }
}

/// An [`Opener`] whose files (VMDK extents, backing images) are read under a [`ReadMeter`].
pub struct WatchedOpener<'a, O> {
    inner: O,
    meter: &'a ReadMeter<'a>,
}

impl<O> core::fmt::Debug for WatchedOpener<'_, O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "WatchedOpener({:?})", self.meter)
    }
}

impl<O: Opener> Opener for WatchedOpener<'_, O> {
    fn open(&self, name: &str) -> Result<Box<dyn ReadAt + '_>> {
        let file = self.inner.open(name)?;
        Ok(Box::new(Watched { inner: file, meter: self.meter }))
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
        let meter = ReadMeter::new(&sink, u64::MAX);
        let w = meter.watch(&data[..]);
        let mut buf = [0u8; 16];
        w.read_at(0, &mut buf).unwrap();
        w.read_at(16, &mut buf).unwrap();
        assert_eq!((meter.bytes_read(), sink.1.load(Ordering::Relaxed)), (32, 32));
        sink.0.store(true, Ordering::Relaxed);
        assert_eq!(w.read_at(0, &mut buf).unwrap_err().kind, ErrorKind::Cancelled);
    }

    #[test]
    fn the_limit_covers_the_image_and_the_files_it_opens() {
        struct Beside([u8; 64]);
        impl Opener for Beside {
            fn open(&self, _name: &str) -> Result<Box<dyn ReadAt + '_>> {
                Ok(Box::new(&self.0[..]))
            }
        }
        let image = [1u8; 64];
        let meter = ReadMeter::new(&NoProgress, 40);
        let opener = meter.opener(Beside([2u8; 64]));
        let w = meter.watch(&image[..]);
        let extent = opener.open("extent").unwrap();
        let mut buf = [0u8; 16];
        w.read_at(0, &mut buf).unwrap();
        extent.read_at(0, &mut buf).unwrap();
        assert_eq!(buf, [2u8; 16]);
        let err = extent.read_at(16, &mut buf).unwrap_err();
        assert_eq!((err.layer, err.offset, err.kind), (Layer::Source, 16, ErrorKind::ReadLimit { limit: 40 }));
        assert_eq!(w.read_at(0, &mut buf).unwrap_err().kind, ErrorKind::ReadLimit { limit: 40 });
        assert!(meter.exhausted());
        w.read_at(0, &mut buf[..8]).unwrap();
        assert_eq!(meter.bytes_read(), 40);
    }
}

//! The caller-given memory budget.
//!
//! Every allocation whose size comes from image content is reserved here first. A
//! [`Reservation`] gives its bytes back when dropped, so the budget tracks what is live, and
//! [`Budget::peak`] tells the most that was ever live at once.

use crate::error::{Error, ErrorKind, Layer, Result};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Default budget of a scan: 64 MiB.
pub const DEFAULT_LIMIT: usize = 64 << 20;

#[derive(Debug)]
struct Inner {
    limit: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

/// A shared memory budget; cloning gives another handle to the same budget.
#[derive(Debug, Clone)]
pub struct Budget {
    inner: Arc<Inner>,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Budget { inner: Arc::new(Inner { limit, used: AtomicUsize::new(0), peak: AtomicUsize::new(0) }) }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// The most bytes ever reserved at once.
    pub fn peak(&self) -> usize {
        self.inner.peak.load(Ordering::Relaxed)
    }

    /// Reserves `bytes`, or fails with `MemoryLimit` naming `layer`/`format` and `offset`
    /// (the on-disk place whose content asked for the memory).
    pub fn reserve(&self, layer: Layer, format: &'static str, offset: u64, bytes: usize) -> Result<Reservation> {
        let over = || {
            Error::new(
                layer,
                format,
                offset,
                ErrorKind::MemoryLimit { wanted: bytes as u64, limit: self.inner.limit as u64 },
            )
        };
        let mut current = self.inner.used.load(Ordering::Relaxed);
        loop {
            let next = current.checked_add(bytes).filter(|&n| n <= self.inner.limit).ok_or_else(over)?;
            match self.inner.used.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    self.inner.peak.fetch_max(next, Ordering::Relaxed);
                    return Ok(Reservation { budget: self.clone(), bytes });
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// A zero-filled byte buffer of `len` bytes, charged to the budget.
    pub fn zeroed(&self, layer: Layer, format: &'static str, offset: u64, len: usize) -> Result<FixedVec<u8>> {
        let mut v = self.fixed_vec(layer, format, offset, len)?;
        v.vec.resize(len, 0);
        Ok(v)
    }

    /// An empty vector with room for exactly `capacity` items, charged to the budget.
    /// It never grows: [`FixedVec::push`] past the capacity is an error.
    pub fn fixed_vec<T>(
        &self,
        layer: Layer,
        format: &'static str,
        offset: u64,
        capacity: usize,
    ) -> Result<FixedVec<T>> {
        let too_big = || {
            Error::new(
                layer,
                format,
                offset,
                ErrorKind::MemoryLimit { wanted: u64::MAX, limit: self.inner.limit as u64 },
            )
        };
        let bytes = capacity.checked_mul(core::mem::size_of::<T>()).ok_or_else(too_big)?;
        let reservation = self.reserve(layer, format, offset, bytes)?;
        let mut vec = Vec::new();
        vec.try_reserve_exact(capacity).map_err(|_| too_big())?;
        Ok(FixedVec { vec, reservation, layer, format })
    }
}

impl Budget {
    /// Makes `buf` (a buffer reused record after record) `len` bytes long: it keeps its
    /// allocation when that is large enough, else the old one (and its charge) is released
    /// before a larger one is charged.
    pub fn reuse(
        &self,
        buf: &mut FixedVec<u8>,
        layer: Layer,
        format: &'static str,
        offset: u64,
        len: usize,
    ) -> Result<()> {
        if buf.capacity() < len {
            *buf = self.zeroed(layer, format, offset, 0)?;
            *buf = self.zeroed(layer, format, offset, len)?;
        }
        buf.resize(len, 0)
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(DEFAULT_LIMIT)
    }
}

/// Bytes held against a [`Budget`]; released on drop.
pub struct Reservation {
    budget: Budget,
    bytes: usize,
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reservation({} bytes)", self.bytes)
    }
}

impl Reservation {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The limit of the budget the bytes are held against.
    pub fn limit(&self) -> usize {
        self.budget.limit()
    }

    /// Holds `more` bytes in addition, or fails with `MemoryLimit` naming `layer`/`format`
    /// and `offset`; on failure the reservation is unchanged.
    pub fn grow(&mut self, layer: Layer, format: &'static str, offset: u64, more: usize) -> Result<()> {
        let mut extra = self.budget.reserve(layer, format, offset, more)?;
        // Fold the new bytes into this reservation; `extra` then releases nothing on drop.
        self.bytes += core::mem::take(&mut extra.bytes);
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.inner.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A vector whose capacity was charged to a budget up front and that never grows past it.
pub struct FixedVec<T> {
    vec: Vec<T>,
    reservation: Reservation,
    layer: Layer,
    format: &'static str,
}

impl<T> FixedVec<T> {
    /// Appends `item`, or fails with `MemoryLimit` when the charged capacity is used up.
    pub fn push(&mut self, item: T) -> Result<()> {
        if self.vec.len() == self.vec.capacity() {
            return Err(Error::new(
                self.layer,
                self.format,
                0,
                ErrorKind::MemoryLimit {
                    wanted: core::mem::size_of::<T>() as u64,
                    limit: self.reservation.limit() as u64,
                },
            ));
        }
        self.vec.push(item);
        Ok(())
    }

    /// Removes all items; the capacity (and its charge) stays.
    pub fn clear(&mut self) {
        self.vec.clear();
    }

    /// Sets the length to `len`, filling new items with `value`; fails with `MemoryLimit`
    /// when `len` exceeds the charged capacity.
    pub fn resize(&mut self, len: usize, value: T) -> Result<()>
    where
        T: Clone,
    {
        if len > self.vec.capacity() {
            return Err(Error::new(
                self.layer,
                self.format,
                0,
                ErrorKind::MemoryLimit {
                    wanted: len.saturating_mul(core::mem::size_of::<T>()) as u64,
                    limit: self.reservation.limit() as u64,
                },
            ));
        }
        self.vec.resize(len, value);
        Ok(())
    }

    /// Capacity charged to the budget.
    pub fn capacity(&self) -> usize {
        self.vec.capacity()
    }
}

impl<T> Deref for FixedVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.vec
    }
}

impl<T> DerefMut for FixedVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.vec
    }
}

impl<T: fmt::Debug> fmt::Debug for FixedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FixedVec(len {}, capacity {})", self.vec.len(), self.vec.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_release_and_peak() {
        let b = Budget::new(100);
        let r1 = b.reserve(Layer::Fs, "t", 0, 60).unwrap();
        let err = b.reserve(Layer::Fs, "t", 7, 50).unwrap_err();
        assert_eq!(err.offset, 7);
        assert!(matches!(err.kind, ErrorKind::MemoryLimit { wanted: 50, limit: 100 }));
        drop(r1);
        assert_eq!(b.used(), 0);
        let _r2 = b.reserve(Layer::Fs, "t", 0, 100).unwrap();
        assert_eq!(b.peak(), 100);
    }

    #[test]
    fn fixed_vec_never_grows() {
        let b = Budget::new(1024);
        let mut v = b.fixed_vec::<u32>(Layer::Fs, "t", 0, 2).unwrap();
        assert_eq!(b.used(), 8);
        v.push(1).unwrap();
        v.push(2).unwrap();
        let err = v.push(3).unwrap_err();
        assert_eq!(err.kind, ErrorKind::MemoryLimit { wanted: 4, limit: 1024 }, "the budget's real limit");
        assert_eq!(v.resize(3, 0).unwrap_err().kind, ErrorKind::MemoryLimit { wanted: 12, limit: 1024 });
        assert_eq!(&v[..], &[1, 2]);
        assert!(b.fixed_vec::<u64>(Layer::Fs, "t", 0, usize::MAX).is_err());
        drop(v);
        assert_eq!(b.used(), 0);
    }
}

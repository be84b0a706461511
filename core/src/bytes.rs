//! The one bounds-checked reader for bytes that came from an image.
//!
//! Every structure a parser reads from disk is first copied into a buffer, then looked at
//! through a [`Bytes`] view: a slice plus where it came from (layer, format, offset of its first
//! byte). No accessor panics or quietly returns zero: a field that does not fit is an
//! `UnexpectedEof` error naming the absolute offset of the field. Parsers of variable-length
//! records use `nom` `complete` combinators on [`Bytes::as_slice`] and convert a nom failure
//! into coldscan's error at the format boundary with [`Bytes::nom_error`].

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::error::{Error, ErrorKind, Layer, Result};
use core::fmt;

/// A view of bytes read from `offset` of a `layer`/`format` input.
#[derive(Clone, Copy)]
pub struct Bytes<'a> {
    data: &'a [u8],
    offset: u64,
    layer: Layer,
    format: &'static str,
}

impl fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.data.get(..8).unwrap_or(self.data);
        write!(
            f,
            "Bytes({} {} at {:#x}, {} bytes, {:02x?}…)",
            self.layer.as_str(),
            self.format,
            self.offset,
            self.data.len(),
            head
        )
    }
}

impl<'a> Bytes<'a> {
    /// A view of `data`, whose first byte sits at `offset` of the `layer`/`format` input.
    pub fn new(data: &'a [u8], offset: u64, layer: Layer, format: &'static str) -> Self {
        Bytes { data, offset, layer, format }
    }

    /// Number of bytes in the view.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the view is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes themselves.
    pub fn as_slice(&self) -> &'a [u8] {
        self.data
    }

    /// Absolute offset (in the layer's input) of byte `at` of the view.
    pub fn offset_of(&self, at: usize) -> u64 {
        self.offset.saturating_add(at as u64)
    }

    /// An error of `kind` at byte `at` of the view.
    pub fn error(&self, at: usize, kind: ErrorKind) -> Error {
        Error::new(self.layer, self.format, self.offset_of(at), kind)
    }

    /// A `Corrupt(what)` error at byte `at` of the view.
    pub fn corrupt(&self, at: usize, what: &'static str) -> Error {
        self.error(at, ErrorKind::Corrupt(what))
    }

    fn eof(&self, at: usize, len: usize) -> Error {
        self.error(at, ErrorKind::UnexpectedEof { wanted: len as u64, size: self.data.len() as u64 })
    }

    /// The `len` bytes at `at`.
    pub fn slice(&self, at: usize, len: usize) -> Result<&'a [u8]> {
        at.checked_add(len).and_then(|end| self.data.get(at..end)).ok_or_else(|| self.eof(at, len))
    }

    /// The `len` bytes at `at` as a view of their own (offsets stay absolute).
    pub fn sub(&self, at: usize, len: usize) -> Result<Bytes<'a>> {
        Ok(Bytes { data: self.slice(at, len)?, offset: self.offset_of(at), ..*self })
    }

    /// Everything from `at` to the end, as a view.
    pub fn tail(&self, at: usize) -> Result<Bytes<'a>> {
        let len = self.data.len().checked_sub(at).ok_or_else(|| self.eof(at, 0))?;
        self.sub(at, len)
    }

    /// `N` bytes at `at` as an array.
    pub fn array<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        let s = self.slice(at, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Byte at `at`.
    pub fn u8(&self, at: usize) -> Result<u8> {
        self.data.get(at).copied().ok_or_else(|| self.eof(at, 1))
    }

    /// Little-endian `u16` at `at`.
    pub fn u16_le(&self, at: usize) -> Result<u16> {
        self.array(at).map(u16::from_le_bytes)
    }

    /// Little-endian `u32` at `at`.
    pub fn u32_le(&self, at: usize) -> Result<u32> {
        self.array(at).map(u32::from_le_bytes)
    }

    /// Little-endian `u64` at `at`.
    pub fn u64_le(&self, at: usize) -> Result<u64> {
        self.array(at).map(u64::from_le_bytes)
    }

    /// Big-endian `u16` at `at`.
    pub fn u16_be(&self, at: usize) -> Result<u16> {
        self.array(at).map(u16::from_be_bytes)
    }

    /// Big-endian `u32` at `at`.
    pub fn u32_be(&self, at: usize) -> Result<u32> {
        self.array(at).map(u32::from_be_bytes)
    }

    /// Big-endian `u64` at `at`.
    pub fn u64_be(&self, at: usize) -> Result<u64> {
        self.array(at).map(u64::from_be_bytes)
    }

    /// Absolute offset of `rest`, a suffix of this view (where a parser stands).
    pub fn offset_of_suffix(&self, rest: &[u8]) -> u64 {
        self.offset_of(self.data.len().saturating_sub(rest.len()))
    }

    /// Converts a nom failure on a suffix of this view into coldscan's error: `rest` is the
    /// input nom stopped at, `field` names what was being parsed.
    pub fn nom_error(&self, rest: &[u8], field: &'static str) -> Error {
        let at = self.data.len().saturating_sub(rest.len());
        self.corrupt(at, field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accessor_checks_bounds_and_names_the_absolute_offset() {
        let raw = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        let b = Bytes::new(&raw, 0x1000, Layer::Fs, "test");
        assert_eq!(b.u16_le(0).unwrap(), 0x0201);
        assert_eq!(b.u32_be(1).unwrap(), 0x0203_0405);
        assert_eq!(b.u64_le(1).unwrap(), 0x0908_0706_0504_0302);
        let e = b.u64_le(2).unwrap_err();
        assert_eq!(e.offset, 0x1002);
        assert!(matches!(e.kind, ErrorKind::UnexpectedEof { wanted: 8, size: 9 }));
        assert!(b.slice(usize::MAX, 2).is_err());
        assert!(b.u8(9).is_err());
        let s = b.sub(4, 3).unwrap();
        assert_eq!(s.u8(0).unwrap(), 5);
        assert_eq!(s.u8(3).unwrap_err().offset, 0x1007);
        assert!(b.tail(10).is_err());
        assert_eq!(b.tail(9).unwrap().len(), 0);
    }

    #[test]
    fn nom_errors_point_at_where_parsing_stopped() {
        let raw = b"abc:def";
        let b = Bytes::new(raw, 100, Layer::Volume, "lvm2");
        let e = b.nom_error(&raw[4..], "value");
        assert_eq!(e.offset, 104);
        assert_eq!(e.kind, ErrorKind::Corrupt("value"));
    }
}

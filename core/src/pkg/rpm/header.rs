//! The rpm header blob as stored in an rpmdb value: big-endian `il` (entry count) and `dl`
//! (data length), `il` 16-byte index entries (tag, type, offset, count), then `dl` bytes of
//! data. Every offset and count is checked against the blob; nothing here can read outside it.
//! Reference: rpm's lib/header.c and the "RPM file format" documentation.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::budget::{Budget, FixedVec};
use crate::error::{Error, ErrorKind, Layer, Result};
use nom::bytes::complete::{tag, take, take_until};
use nom::number::complete::{be_u32, be_u64};
use nom::sequence::terminated;
use nom::{IResult, Parser};

const FORMAT: &str = "rpm-header";
/// rpm's own limit on index entries (`HEADER_TAGS_MAX`).
const MAX_ENTRIES: u32 = 0xFFFF;

/// Header tags coldscan reads.
#[allow(missing_docs)]
pub mod tag {
    pub const SIGMD5: u32 = 261;
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const SUMMARY: u32 = 1004;
    pub const INSTALLTIME: u32 = 1008;
    pub const SIZE: u32 = 1009;
    pub const VENDOR: u32 = 1011;
    pub const LICENSE: u32 = 1014;
    pub const ARCH: u32 = 1022;
    pub const OLDFILENAMES: u32 = 1027;
    pub const SOURCERPM: u32 = 1044;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
    pub const LONGSIZE: u32 = 5009;
    pub const MODULARITYLABEL: u32 = 5096;
}

// Entry data types.
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_BIN: u32 = 7;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

/// A validated header blob.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

type Parsed<'a, T> = IResult<&'a [u8], T>;

/// One 16-byte index entry.
fn entry(input: &[u8]) -> Parsed<'_, Entry> {
    let (input, (tag, kind, offset, count)) = (be_u32, be_u32, be_u32, be_u32).parse(input)?;
    Ok((input, Entry { tag, kind, offset, count }))
}

/// A NUL-terminated string; the input after its NUL.
fn c_string(input: &[u8]) -> Parsed<'_, &[u8]> {
    terminated(take_until(&b"\0"[..]), tag(&b"\0"[..])).parse(input)
}

fn corrupt(offset: usize, what: &'static str) -> Error {
    Error::new(Layer::Pkg, FORMAT, offset as u64, ErrorKind::Corrupt(what))
}

impl<'a> Header<'a> {
    /// Checks the blob's framing: entry count and data length must fit the blob.
    pub fn parse(blob: &'a [u8]) -> Result<Self> {
        let (rest, (il, dl)) = (be_u32, be_u32).parse(blob).map_err(|_: nom::Err<nom::error::Error<&[u8]>>| {
            corrupt(0, "header blob shorter than its 8-byte preamble")
        })?;
        if il == 0 || il > MAX_ENTRIES {
            return Err(corrupt(0, "header index count"));
        }
        let (_, (index, data)) = (take((il as usize).saturating_mul(16)), take(dl as usize)).parse(rest).map_err(
            |_: nom::Err<nom::error::Error<&[u8]>>| {
                corrupt(4, "header index count or data length larger than the blob")
            },
        )?;
        Ok(Header { index, data })
    }

    fn entries(&self) -> impl Iterator<Item = Entry> + 'a {
        // The index is a whole number of entries (checked by `parse`): each chunk parses.
        self.index.chunks_exact(16).filter_map(|e| entry(e).ok().map(|(_, e)| e))
    }

    fn find(&self, tag: u32) -> Option<Entry> {
        self.entries().find(|e| e.tag == tag)
    }

    /// The bytes from an entry's offset to the end of the data.
    fn tail(&self, e: &Entry) -> Option<&'a [u8]> {
        self.data.get(e.offset as usize..)
    }

    /// A NUL-terminated string at the start of `bytes`.
    fn c_str(bytes: &'a [u8]) -> Option<&'a str> {
        let (_, s) = c_string(bytes).ok()?;
        core::str::from_utf8(s).ok()
    }

    /// A string tag (STRING, or the first of an I18NSTRING/STRING_ARRAY).
    pub fn string(&self, tag: u32) -> Option<&'a str> {
        let e = self.find(tag)?;
        match e.kind {
            TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY if e.count >= 1 => Self::c_str(self.tail(&e)?),
            _ => None,
        }
    }

    /// The first value of an INT32 (or INT64) tag.
    pub fn int(&self, tag: u32) -> Option<u64> {
        let e = self.find(tag)?;
        let b = self.tail(&e)?;
        match e.kind {
            TYPE_INT32 if e.count >= 1 => be_u32::<_, nom::error::Error<&[u8]>>(b).ok().map(|(_, v)| u64::from(v)),
            TYPE_INT64 if e.count >= 1 => be_u64::<_, nom::error::Error<&[u8]>>(b).ok().map(|(_, v)| v),
            _ => None,
        }
    }

    /// The bytes of a BIN tag.
    pub fn bin(&self, tag: u32) -> Option<&'a [u8]> {
        let e = self.find(tag)?;
        if e.kind != TYPE_BIN {
            return None;
        }
        self.tail(&e)?.get(..e.count as usize)
    }

    /// The strings of a STRING_ARRAY tag, in order (stops at the first malformed one).
    pub fn strings(&self, tag: u32) -> impl Iterator<Item = &'a str> + 'a {
        let found = self.find(tag).filter(|e| e.kind == TYPE_STRING_ARRAY);
        let mut rest = found.and_then(|e| self.tail(&e)).unwrap_or_default();
        let count = found.map_or(0, |e| e.count);
        (0..count).map_while(move |_| {
            let (next, s) = c_string(rest).ok()?;
            rest = next;
            core::str::from_utf8(s).ok()
        })
    }

    /// The `i`-th value of an INT32 array tag.
    fn int32_at(&self, e: &Entry, i: u32) -> Option<u32> {
        let b = self.tail(e)?.get((i as usize).checked_mul(4)?..).filter(|_| i < e.count)?;
        be_u32::<_, nom::error::Error<&[u8]>>(b).ok().map(|(_, v)| v)
    }

    /// Calls `each` with every installed file path (`DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`,
    /// or the old `OLDFILENAMES`). Fails on an index pointing outside the directory list.
    /// The directory names are indexed once (charged to `budget`), so the work is linear in
    /// the number of files whatever order the indexes come in.
    pub fn for_each_file(&self, budget: &Budget, mut each: impl FnMut(&str, &str)) -> Result<()> {
        if self.find(tag::BASENAMES).is_none() {
            for path in self.strings(tag::OLDFILENAMES) {
                each("", path);
            }
            return Ok(());
        }
        let indexes = self.find(tag::DIRINDEXES).filter(|e| e.kind == TYPE_INT32);
        let dir_count = self.find(tag::DIRNAMES).map_or(0, |e| e.count);
        let mut dirs: FixedVec<&str> = budget.fixed_vec(Layer::Pkg, FORMAT, 0, dir_count as usize)?;
        for dir in self.strings(tag::DIRNAMES).take(dir_count as usize) {
            dirs.push(dir)?;
        }
        for (i, base) in self.strings(tag::BASENAMES).enumerate() {
            let dir = indexes
                .and_then(|e| self.int32_at(&e, i as u32))
                .and_then(|d| dirs.get(d as usize))
                .ok_or_else(|| corrupt(0, "file's directory index outside the directory list"))?;
            each(dir, base);
        }
        Ok(())
    }
}

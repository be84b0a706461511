//! BerkeleyDB hash databases (rpm < 4.16's `Packages`), read page by page.
//!
//! Page 0 is the hash meta page (magic 0x061561, page size, last page number). Every hash page
//! holds key/data item pairs; rpm's data items are header blobs, usually stored off-page as a
//! chain of overflow pages. Both byte orders are read (the magic tells which). Reference:
//! Berkeley DB's dbinc/db_page.h and hash/hash_page.c layouts.

use super::{BlobResult, MAX_BLOB};
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;

const FORMAT: &str = "bdb";
const HASH_MAGIC: u32 = 0x0006_1561;
/// Size of the generic page header; the item index follows it.
const PAGE_HEADER: usize = 26;
// Page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

/// Whether `head` (the first bytes of a file) is a BerkeleyDB hash database.
pub fn is_bdb_hash(head: &[u8]) -> bool {
    let head = Bytes::new(head, 0, Layer::Pkg, FORMAT);
    head.u8(25).is_ok_and(|kind| kind == P_HASHMETA)
        && head.u32_le(12).is_ok_and(|m| m == HASH_MAGIC || m.swap_bytes() == HASH_MAGIC)
}

#[derive(Clone, Copy)]
struct Order {
    big: bool,
}

impl Order {
    fn u16(self, b: &Bytes<'_>, at: usize) -> Result<u16> {
        if self.big {
            b.u16_be(at)
        } else {
            b.u16_le(at)
        }
    }
    fn u32(self, b: &Bytes<'_>, at: usize) -> Result<u32> {
        if self.big {
            b.u32_be(at)
        } else {
            b.u32_le(at)
        }
    }
}

/// A page (or the meta page) read from file offset `at`.
fn view(page: &[u8], at: u64) -> Bytes<'_> {
    Bytes::new(page, at, Layer::Pkg, FORMAT)
}

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Pkg, FORMAT, offset, kind)
}

/// Calls `visit` with every header blob (and its file offset) in database order, or with the
/// error that kept one record from being read.
pub fn for_each_blob(
    db: &dyn ReadAt,
    budget: &Budget,
    visit: &mut dyn FnMut(BlobResult<'_>) -> Result<Walk>,
) -> Result<()> {
    let mut raw = [0u8; 512];
    if db.size() < 512 {
        return Err(err(0, ErrorKind::UnexpectedEof { wanted: 512, size: db.size() }));
    }
    db.read_at(0, &mut raw)?;
    if !is_bdb_hash(&raw) {
        return Err(err(12, ErrorKind::BadMagic));
    }
    let meta = view(&raw, 0);
    let order = Order { big: meta.u32_le(12)? != HASH_MAGIC };
    let page_size = order.u32(&meta, 20)? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(err(20, ErrorKind::Corrupt("page size")));
    }
    if meta.u8(24)? != 0 {
        return Err(err(24, ErrorKind::Unsupported("encrypted BerkeleyDB")));
    }
    let last_pgno = u64::from(order.u32(&meta, 32)?);
    let pages = (last_pgno + 1).min(db.size() / page_size as u64);
    let mut page = budget.zeroed(Layer::Pkg, FORMAT, 0, page_size)?;
    let mut overflow = budget.zeroed(Layer::Pkg, FORMAT, 0, page_size)?;
    let mut blob: FixedVec<u8> = budget.zeroed(Layer::Pkg, FORMAT, 0, 0)?;
    for pgno in 1..pages {
        let at = pgno * page_size as u64;
        db.read_at(at, &mut page)?;
        let p = view(&page, at);
        if !matches!(p.u8(25)?, P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(order.u16(&p, 20)?);
        if PAGE_HEADER + entries * 2 > page_size {
            if visit(Err(err(at + 20, ErrorKind::Corrupt("hash page entry count"))))? == Walk::Stop {
                return Ok(());
            }
            continue;
        }
        let offset_of = |i: usize| -> Result<usize> { Ok(usize::from(order.u16(&p, PAGE_HEADER + 2 * i)?)) };
        // Items are key/data pairs; an item ends where the previous one starts.
        for i in (0..entries.saturating_sub(1)).step_by(2) {
            let (key_at, data_at) = (offset_of(i)?, offset_of(i + 1)?);
            let key_end = if i == 0 { page_size } else { offset_of(i - 1)? };
            // Every bound is checked against the page on its own: a previous pair that was
            // rejected says nothing about where this one ends.
            if !(PAGE_HEADER..page_size).contains(&data_at)
                || data_at >= key_at
                || key_at >= key_end
                || key_end > page_size
            {
                if visit(Err(err(at + (PAGE_HEADER + 2 * i) as u64, ErrorKind::Corrupt("hash item offset"))))?
                    == Walk::Stop
                {
                    return Ok(());
                }
                continue;
            }
            // Key 0 holds rpm's instance counter, not a package.
            let Ok(key) = p.slice(key_at, key_end - key_at) else { continue };
            if key.first() == Some(&H_KEYDATA) && key.get(1..5) == Some(&[0, 0, 0, 0]) {
                continue;
            }
            let item_at = at + data_at as u64;
            let result = match p.u8(data_at)? {
                H_OFFPAGE => order.u32(&p, data_at + 4).and_then(|first| {
                    let first = u64::from(first);
                    let len = order.u32(&p, data_at + 8)? as usize;
                    read_overflow(db, budget, order, page_size, pages, first, len, &mut overflow, &mut blob)?;
                    Ok((&blob[..], first * page_size as u64))
                }),
                H_KEYDATA => p.slice(data_at + 1, key_at - data_at - 1).map(|data| (data, item_at + 1)),
                _ => continue,
            };
            if visit(result)? == Walk::Stop {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Reads an overflow chain of `len` bytes starting at page `first` into `blob`.
#[allow(clippy::too_many_arguments)]
fn read_overflow(
    db: &dyn ReadAt,
    budget: &Budget,
    order: Order,
    page_size: usize,
    pages: u64,
    first: u64,
    len: usize,
    page: &mut FixedVec<u8>,
    blob: &mut FixedVec<u8>,
) -> Result<()> {
    if len > MAX_BLOB {
        return Err(err(first * page_size as u64, ErrorKind::TooLong));
    }
    budget.reuse(blob, Layer::Pkg, FORMAT, first * page_size as u64, len)?;
    let mut pgno = first;
    let mut done = 0usize;
    // A chain of `len` bytes spans at most this many pages: more means a loop.
    let max_hops = len / (page_size - PAGE_HEADER) + 2;
    for _ in 0..max_hops {
        if done == len {
            return Ok(());
        }
        let at = pgno * page_size as u64;
        if pgno == 0 || pgno >= pages {
            return Err(err(at, ErrorKind::Corrupt("overflow page number outside the file")));
        }
        db.read_at(at, page)?;
        let p = view(page, at);
        if p.u8(25)? != P_OVERFLOW {
            return Err(err(at + 25, ErrorKind::Corrupt("overflow chain reaches a page that is not an overflow page")));
        }
        let used = usize::from(order.u16(&p, 22)?);
        let piece = p.slice(PAGE_HEADER, used).map_err(|_| err(at + 22, ErrorKind::Corrupt("overflow page length")))?;
        let dest = blob.get_mut(done..done + used).ok_or(err(at + 22, ErrorKind::Corrupt("overflow page length")))?;
        dest.copy_from_slice(piece);
        done += used;
        pgno = u64::from(order.u32(&p, 16)?);
    }
    if done == len {
        return Ok(());
    }
    Err(err(first * page_size as u64, ErrorKind::LoopLimit("BerkeleyDB overflow chain")))
}

//! A minimal, read-only SQLite reader for rpm's `rpmdb.sqlite`: enough to find the
//! `Packages(hnum, blob)` table in `sqlite_schema` and walk its table b-tree, overflow chains
//! included, at any page size. When an `rpmdb.sqlite-wal` file holds committed frames, the
//! newest committed version of each page is read from it, as SQLite itself would (systems that
//! were not shut down cleanly leave one). Reference: the SQLite "Database File Format" page.

use super::{BlobResult, MAX_BLOB};
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::{fits, ReadAt};

const FORMAT: &str = "sqlite";
const WAL_FORMAT: &str = "sqlite-wal";
/// Deepest b-tree walked (SQLite's own limit is 20).
const MAX_DEPTH: usize = 20;

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Pkg, FORMAT, offset, kind)
}

/// A view of bytes of the database file (or of a page of it) at `offset`.
fn view(data: &[u8], offset: u64) -> Bytes<'_> {
    Bytes::new(data, offset, Layer::Pkg, FORMAT)
}

/// A SQLite varint: 1 to 9 bytes, big-endian, 7 bits per byte with the high bit saying
/// another byte follows; the ninth byte gives all 8 bits.
fn varint(input: &[u8]) -> nom::IResult<&[u8], u64> {
    let mut v = 0u64;
    for (i, &byte) in input.iter().take(9).enumerate() {
        let rest = input.get(i + 1..).unwrap_or_default();
        if i == 8 {
            return Ok((rest, v << 8 | u64::from(byte)));
        }
        v = v << 7 | u64::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return Ok((rest, v));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Eof)))
}

/// The varint at byte `at` of `b`: (value, length).
fn varint_at(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let input = b.get(at..)?;
    let (rest, v) = varint(input).ok()?;
    Some((v, input.len() - rest.len()))
}

/// Committed WAL frames: for each page, the frame holding its newest committed version.
struct Wal<'a> {
    file: &'a dyn ReadAt,
    /// (page number, frame index), sorted, one entry per page.
    frames: FixedVec<(u32, u32)>,
    page_size: usize,
    /// Database size in pages after the last commit.
    db_pages: u32,
}

impl<'a> Wal<'a> {
    /// Reads the WAL's committed frames; `Ok(None)` when it holds none that apply (empty,
    /// reset, or for another page size), as SQLite would ignore it.
    fn open(file: &'a dyn ReadAt, page_size: usize, budget: &Budget) -> Result<Option<Self>> {
        if file.size() < 32 {
            return Ok(None);
        }
        let mut raw = [0u8; 32];
        file.read_at(0, &mut raw)?;
        let h = Bytes::new(&raw, 0, Layer::Pkg, WAL_FORMAT);
        let magic = h.u32_be(0)?;
        if magic & !1 != 0x377F_0682 || h.u32_be(8)? as usize != page_size {
            return Ok(None);
        }
        let big = magic & 1 == 1;
        let (c0, c1) = checksum(big, h.slice(0, 24)?, (0, 0));
        if (c0, c1) != (h.u32_be(24)?, h.u32_be(28)?) {
            return Ok(None);
        }
        let salts = (h.u32_be(16)?, h.u32_be(20)?);
        let frame_len = 24 + page_size as u64;
        let count = (file.size() - 32) / frame_len;
        let mut frames = budget.fixed_vec::<(u32, u32)>(Layer::Pkg, WAL_FORMAT, 0, count as usize)?;
        let mut page = budget.zeroed(Layer::Pkg, WAL_FORMAT, 0, page_size)?;
        let mut sum = (c0, c1);
        let (mut committed, mut db_pages) = (0usize, 0u32);
        for i in 0..count {
            let at = 32 + i * frame_len;
            let mut raw = [0u8; 24];
            file.read_at(at, &mut raw)?;
            file.read_at(at + 24, &mut page)?;
            let fh = Bytes::new(&raw, at, Layer::Pkg, WAL_FORMAT);
            if (fh.u32_be(8)?, fh.u32_be(12)?) != salts {
                break;
            }
            sum = checksum(big, &page, checksum(big, fh.slice(0, 8)?, sum));
            if sum != (fh.u32_be(16)?, fh.u32_be(20)?) {
                break;
            }
            frames.push((fh.u32_be(0)?, i as u32))?;
            if fh.u32_be(4)? != 0 {
                committed = frames.len();
                db_pages = fh.u32_be(4)?;
            }
        }
        if committed == 0 {
            return Ok(None);
        }
        // Uncommitted frames at the end are not part of the database.
        let mut kept = budget.fixed_vec::<(u32, u32)>(Layer::Pkg, WAL_FORMAT, 0, committed)?;
        let slice = frames.get_mut(..committed).unwrap_or_default();
        slice.sort_unstable();
        for (i, &(pgno, frame)) in slice.iter().enumerate() {
            // After sorting, the last entry of a page number is its newest frame.
            if slice.get(i + 1).is_none_or(|next| next.0 != pgno) {
                kept.push((pgno, frame))?;
            }
        }
        Ok(Some(Wal { file, frames: kept, page_size, db_pages }))
    }

    fn frame_of(&self, pgno: u32) -> Option<u64> {
        let i = self.frames.binary_search_by_key(&pgno, |&(p, _)| p).ok()?;
        let frame = u64::from(self.frames.get(i)?.1);
        Some(32 + frame * (24 + self.page_size as u64) + 24)
    }
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `sum`.
fn checksum(big: bool, data: &[u8], sum: (u32, u32)) -> (u32, u32) {
    let (mut s0, mut s1) = sum;
    let word = |a: [u8; 4]| if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) };
    for w in data.chunks_exact(8) {
        if let [a0, a1, a2, a3, b0, b1, b2, b3] = *w {
            s0 = s0.wrapping_add(word([a0, a1, a2, a3])).wrapping_add(s1);
            s1 = s1.wrapping_add(word([b0, b1, b2, b3])).wrapping_add(s0);
        }
    }
    (s0, s1)
}

struct Db<'a> {
    file: &'a dyn ReadAt,
    wal: Option<Wal<'a>>,
    page_size: usize,
    usable: usize,
    pages: u32,
}

impl<'a> Db<'a> {
    fn open(file: &'a dyn ReadAt, wal: Option<&'a dyn ReadAt>, budget: &Budget) -> Result<Self> {
        if file.size() < 100 {
            return Err(err(0, ErrorKind::UnexpectedEof { wanted: 100, size: file.size() }));
        }
        let mut raw = [0u8; 100];
        file.read_at(0, &mut raw)?;
        let h = view(&raw, 0);
        if h.slice(0, 16)? != b"SQLite format 3\0" {
            return Err(err(0, ErrorKind::BadMagic));
        }
        let page_size = match h.u16_be(16)? {
            1 => 65536,
            n => usize::from(n),
        };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(err(16, ErrorKind::Corrupt("page size")));
        }
        if h.u8(18)? > 2 || h.u8(19)? > 2 {
            return Err(err(18, ErrorKind::Unsupported("SQLite file format version")));
        }
        let usable = page_size - usize::from(h.u8(20)?);
        if usable < 480 {
            return Err(err(20, ErrorKind::Corrupt("reserved bytes per page")));
        }
        // The in-header size is valid only when written by a SQLite that keeps it current.
        let from_file = (file.size() / page_size as u64) as u32;
        let in_header = h.u32_be(28)?;
        let mut pages =
            if in_header != 0 && h.u32_be(24)? == h.u32_be(92)? { in_header.min(from_file) } else { from_file };
        let wal = match wal {
            Some(w) => Wal::open(w, page_size, budget)?,
            None => None,
        };
        if let Some(w) = &wal {
            pages = w.db_pages;
        }
        Ok(Db { file, wal, page_size, usable, pages })
    }

    fn read_page(&self, pgno: u32, buf: &mut [u8]) -> Result<()> {
        if pgno == 0 || pgno > self.pages {
            return Err(err(
                u64::from(pgno) * self.page_size as u64,
                ErrorKind::Corrupt("page number outside the database"),
            ));
        }
        if let Some(at) = self.wal.as_ref().and_then(|w| w.frame_of(pgno)) {
            let w = self.wal.as_ref().map(|w| w.file).unwrap_or(self.file);
            return w.read_at(at, buf);
        }
        let at = u64::from(pgno - 1) * self.page_size as u64;
        if !fits(at, buf.len() as u64, self.file.size()) {
            // Pages past the end of the main file exist only in the WAL; absent there, zero.
            buf.fill(0);
            return Ok(());
        }
        self.file.read_at(at, buf)
    }
}

/// The page buffer for overflow chains, and how many overflow pages one table walk may still
/// read: a sound table uses each page once, so more reads than the database has pages means
/// cells share a chain.
struct Overflow {
    page: FixedVec<u8>,
    pages_left: u64,
}

impl Db<'_> {
    /// Calls `each(payload, offset)` for every row of the table b-tree rooted at `root`.
    fn for_each_row(
        &self,
        root: u32,
        budget: &Budget,
        each: &mut dyn FnMut(BlobResult<'_>) -> Result<Walk>,
    ) -> Result<()> {
        let mut pages: heapless::Vec<FixedVec<u8>, MAX_DEPTH> = heapless::Vec::new();
        // (page number, next cell to visit) per level.
        let mut stack: heapless::Vec<(u32, usize), { MAX_DEPTH + 1 }> = heapless::Vec::new();
        let too_deep = || err(u64::from(root) * self.page_size as u64, ErrorKind::LoopLimit("SQLite b-tree depth"));
        stack.push((root, 0)).map_err(|_| too_deep())?;
        let mut payload = budget.zeroed(Layer::Pkg, FORMAT, 0, 0)?;
        let mut overflow =
            Overflow { page: budget.zeroed(Layer::Pkg, FORMAT, 0, self.page_size)?, pages_left: u64::from(self.pages) };
        // One bit per page: a tree never reaches a page twice, so a second visit is a loop
        // (caught before any row is listed twice).
        let mut visited = budget.zeroed(Layer::Pkg, FORMAT, 0, (self.pages as usize).div_ceil(8))?;
        while let Some(&(pgno, next)) = stack.last() {
            let depth = stack.len() - 1;
            if depth >= MAX_DEPTH {
                return Err(err(u64::from(pgno) * self.page_size as u64, ErrorKind::LoopLimit("SQLite b-tree depth")));
            }
            if pages.len() <= depth {
                pages.push(budget.zeroed(Layer::Pkg, FORMAT, 0, self.page_size)?).map_err(|_| too_deep())?;
            }
            let page = pages.get_mut(depth).ok_or_else(too_deep)?;
            if pgno == 0 || pgno > self.pages {
                return Err(err(0, ErrorKind::Corrupt("b-tree page number outside the database")));
            }
            if next == 0 {
                let (byte, bit) = ((pgno as usize - 1) / 8, (pgno - 1) % 8);
                match visited.get_mut(byte) {
                    Some(b) if *b & (1 << bit) != 0 => {
                        let at = u64::from(pgno - 1) * self.page_size as u64;
                        return Err(err(at, ErrorKind::LoopLimit("SQLite b-tree (a page is reached twice)")));
                    }
                    Some(b) => *b |= 1 << bit,
                    None => {}
                }
            }
            self.read_page(pgno, page)?;
            let page_at = u64::from(pgno - 1) * self.page_size as u64;
            let hdr = if pgno == 1 { 100 } else { 0 };
            let p = view(page, page_at);
            let kind = p.u8(hdr)?;
            let cells = usize::from(p.u16_be(hdr + 3)?);
            let (interior, ptrs) = match kind {
                0x05 => (true, hdr + 12),
                0x0D => (false, hdr + 8),
                _ => return Err(err(page_at + hdr as u64, ErrorKind::Corrupt("not a table b-tree page"))),
            };
            if ptrs + 2 * cells > self.usable {
                return Err(err(page_at + hdr as u64 + 3, ErrorKind::Corrupt("cell count")));
            }
            if interior {
                if next > cells {
                    stack.pop();
                    continue;
                }
                let child =
                    if next == cells { p.u32_be(hdr + 8)? } else { p.u32_be(usize::from(p.u16_be(ptrs + 2 * next)?))? };
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                stack.push((child, 0)).map_err(|_| too_deep())?;
                continue;
            }
            for i in 0..cells {
                let cell = usize::from(p.u16_be(ptrs + 2 * i)?);
                let row = self.payload(page, cell, page_at, budget, &mut payload, &mut overflow);
                let walk = match row {
                    Ok(()) => each(Ok((&payload[..], page_at + cell as u64)))?,
                    Err(e) if matches!(e.kind, ErrorKind::LoopLimit(_)) => {
                        each(Err(e))?;
                        return Ok(());
                    }
                    Err(e) => each(Err(e))?,
                };
                if walk == Walk::Stop {
                    return Ok(());
                }
            }
            stack.pop();
        }
        Ok(())
    }

    /// Assembles the payload of the leaf cell at `cell` (local part and overflow chain).
    fn payload(
        &self,
        page: &[u8],
        cell: usize,
        page_at: u64,
        budget: &Budget,
        out: &mut FixedVec<u8>,
        overflow: &mut Overflow,
    ) -> Result<()> {
        let bad = |what| err(page_at + cell as u64, ErrorKind::Corrupt(what));
        if cell >= self.usable {
            return Err(bad("cell offset"));
        }
        let (len, n1) = varint_at(page, cell).ok_or(bad("payload length"))?;
        let (_rowid, n2) = varint_at(page, cell + n1).ok_or(bad("row id"))?;
        let len = usize::try_from(len).ok().filter(|&l| l <= MAX_BLOB + 4096).ok_or(bad("payload length"))?;
        let u = self.usable;
        let max_local = u - 35;
        let local = if len <= max_local {
            len
        } else {
            let min_local = (u - 12) * 32 / 255 - 23;
            let k = min_local + (len - min_local) % (u - 4);
            if k <= max_local {
                k
            } else {
                min_local
            }
        };
        let start = cell + n1 + n2;
        if start + local > self.usable || (local < len && start + local + 4 > self.usable) {
            return Err(bad("payload runs past the page"));
        }
        budget.reuse(out, Layer::Pkg, FORMAT, page_at + cell as u64, len)?;
        let p = view(page, page_at);
        out.get_mut(..local).ok_or(bad("payload length"))?.copy_from_slice(p.slice(start, local)?);
        let mut done = local;
        let mut next = if local < len { p.u32_be(start + local)? } else { 0 };
        // Each overflow page carries usable-4 bytes: more hops than that means a loop.
        let max_hops = (len - local) / (u - 4) + 1;
        for _ in 0..max_hops {
            if done == len {
                break;
            }
            overflow.pages_left = overflow.pages_left.checked_sub(1).ok_or(err(
                page_at + cell as u64,
                ErrorKind::LoopLimit("SQLite overflow chains (pages shared by cells)"),
            ))?;
            self.read_page(next, &mut overflow.page)?;
            let o = view(&overflow.page, u64::from(next.saturating_sub(1)) * self.page_size as u64);
            let n = (len - done).min(u - 4);
            out.get_mut(done..done + n).ok_or(bad("payload length"))?.copy_from_slice(o.slice(4, n)?);
            done += n;
            next = o.u32_be(0)?;
        }
        if done != len {
            return Err(bad("overflow chain loops"));
        }
        Ok(())
    }
}

/// The values of a record: for each column, (serial type, byte range in the payload).
fn columns(record: &[u8], max: usize, out: &mut [(u64, core::ops::Range<usize>)]) -> Option<usize> {
    let (header_len, mut at) = varint_at(record, 0)?;
    let header_len = usize::try_from(header_len).ok()?;
    let mut body = header_len;
    let mut n = 0;
    while at < header_len && n < max {
        let (t, len) = varint_at(record, at)?;
        at += len;
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return None,
            t => ((t - 12) / 2) as usize,
        };
        let end = body.checked_add(size).filter(|&e| e <= record.len())?;
        *out.get_mut(n)? = (t, body..end);
        body = end;
        n += 1;
    }
    Some(n)
}

/// Root page of table `name` from `sqlite_schema` (page 1).
fn table_root(db: &Db<'_>, name: &[u8], budget: &Budget) -> Result<Option<u32>> {
    let mut root = None;
    db.for_each_row(1, budget, &mut |row| {
        let Ok((rec, _)) = row else { return Ok(Walk::Continue) };
        let mut cols: [(u64, core::ops::Range<usize>); 5] = Default::default();
        if columns(rec, 5, &mut cols) != Some(5) {
            return Ok(Walk::Continue);
        }
        let [(_, kind), (_, tbl), _, (root_type, root_value), _] = &cols;
        let (Some(kind), Some(tbl), Some(root_value)) =
            (rec.get(kind.clone()), rec.get(tbl.clone()), rec.get(root_value.clone()))
        else {
            return Ok(Walk::Continue);
        };
        if kind == b"table" && tbl == name && (1..=6).contains(root_type) {
            let v = root_value.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
            root = u32::try_from(v).ok();
            return Ok(Walk::Stop);
        }
        Ok(Walk::Continue)
    })?;
    Ok(root)
}

/// Calls `visit` with every header blob of the `Packages` table, in row order.
pub fn for_each_blob(
    file: &dyn ReadAt,
    wal: Option<&dyn ReadAt>,
    budget: &Budget,
    visit: &mut dyn FnMut(BlobResult<'_>) -> Result<Walk>,
) -> Result<()> {
    let db = Db::open(file, wal, budget)?;
    let root = table_root(&db, b"Packages", budget)?
        .ok_or(err(0, ErrorKind::Corrupt("no Packages table: not an rpm SQLite database")))?;
    db.for_each_row(root, budget, &mut |row| {
        let (rec, at) = match row {
            Ok(r) => r,
            Err(e) => return visit(Err(e)),
        };
        let mut cols: [(u64, core::ops::Range<usize>); 2] = Default::default();
        let found = columns(rec, 2, &mut cols);
        let [_, (blob_type, blob)] = &cols;
        match (found, rec.get(blob.clone())) {
            (Some(2), Some(blob)) if *blob_type >= 12 && blob_type.is_multiple_of(2) => visit(Ok((blob, at))),
            _ => visit(Err(err(at, ErrorKind::Corrupt("Packages row without a blob")))),
        }
    })
}

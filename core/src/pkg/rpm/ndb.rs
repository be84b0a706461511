//! SUSE's NDB rpm database (`Packages.db`, rpm's lib/backend/ndb/rpmpkg.c): a 32-byte header
//! (`RpmP`, version 0, slot page count), slot pages of 16-byte slots (`Slot`, package index,
//! block offset, block count), and blobs (`BlbS` header + header blob) addressed in 16-byte
//! blocks. All fields little-endian. Blob checksums (Adler-32) are not verified.

use super::{BlobResult, MAX_BLOB};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::{fits, ReadAt};

const FORMAT: &str = "ndb";
const SLOT_PAGE: u64 = 4096;
const BLOCK: u64 = 16;
/// Upper bound on slot pages (rpm never writes more than a few).
const MAX_SLOT_PAGES: u32 = 2048;

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Pkg, FORMAT, offset, kind)
}

/// Calls `visit` with every header blob in slot order.
pub fn for_each_blob(
    db: &dyn ReadAt,
    budget: &Budget,
    visit: &mut dyn FnMut(BlobResult<'_>) -> Result<Walk>,
) -> Result<()> {
    if db.size() < 32 {
        return Err(err(0, ErrorKind::UnexpectedEof { wanted: 32, size: db.size() }));
    }
    let mut raw = [0u8; 32];
    db.read_at(0, &mut raw)?;
    let header = Bytes::new(&raw, 0, Layer::Pkg, FORMAT);
    if header.slice(0, 4)? != b"RpmP" {
        return Err(err(0, ErrorKind::BadMagic));
    }
    if header.u32_le(4)? != 0 {
        return Err(err(4, ErrorKind::Unsupported("NDB version")));
    }
    let slot_pages = header.u32_le(12)?;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES || !fits(0, u64::from(slot_pages) * SLOT_PAGE, db.size()) {
        return Err(err(12, ErrorKind::Corrupt("slot page count")));
    }
    let mut page = [0u8; SLOT_PAGE as usize];
    let mut blob = budget.zeroed(Layer::Pkg, FORMAT, 0, 0)?;
    // Blobs of a sound database are disjoint, so all of them together are no larger than the
    // file: more than that means slots share blobs, and the walk stops instead of re-reading.
    let mut blob_bytes = 0u64;
    for p in 0..u64::from(slot_pages) {
        db.read_at(p * SLOT_PAGE, &mut page)?;
        // The first two slots of page 0 are the database header.
        let first = if p == 0 { 2 } else { 0 };
        for index in first..SLOT_PAGE as usize / 16 {
            let slot_at = p * SLOT_PAGE + index as u64 * 16;
            let slot = Bytes::new(&page, p * SLOT_PAGE, Layer::Pkg, FORMAT).sub(index * 16, 16)?;
            if slot.slice(0, 4)? != b"Slot" {
                return Err(err(slot_at, ErrorKind::BadMagic));
            }
            let pkg = slot.u32_le(4)?;
            if pkg == 0 {
                continue;
            }
            let blob_at = u64::from(slot.u32_le(8)?) * BLOCK;
            let result = (|| -> Result<u64> {
                let mut raw = [0u8; 16];
                if !fits(blob_at, 16, db.size()) {
                    return Err(err(blob_at, ErrorKind::Corrupt("slot points past the end of the file")));
                }
                db.read_at(blob_at, &mut raw)?;
                let bh = Bytes::new(&raw, blob_at, Layer::Pkg, FORMAT);
                if bh.slice(0, 4)? != b"BlbS" {
                    return Err(err(blob_at, ErrorKind::BadMagic));
                }
                if bh.u32_le(4)? != pkg {
                    return Err(err(blob_at + 4, ErrorKind::Corrupt("blob belongs to another package")));
                }
                let len = bh.u32_le(12)? as usize;
                if len > MAX_BLOB || !fits(blob_at + 16, len as u64, db.size()) {
                    return Err(err(blob_at + 12, ErrorKind::Corrupt("blob length")));
                }
                blob_bytes = blob_bytes.saturating_add(len as u64);
                if blob_bytes > db.size() {
                    return Err(err(slot_at, ErrorKind::LoopLimit("NDB slots (blobs read more than once)")));
                }
                budget.reuse(&mut blob, Layer::Pkg, FORMAT, blob_at, len)?;
                db.read_at(blob_at + 16, &mut blob)?;
                Ok(blob_at + 16)
            })();
            let walk = match result {
                Ok(at) => visit(Ok((&blob[..], at)))?,
                Err(e) if matches!(e.kind, ErrorKind::LoopLimit(_)) => {
                    visit(Err(e))?;
                    return Ok(());
                }
                Err(e) => visit(Err(e))?,
            };
            if walk == Walk::Stop {
                return Ok(());
            }
        }
    }
    Ok(())
}

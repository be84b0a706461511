//! The LVM2 physical volume label (`LABELONE` in one of sectors 0–3, then the `pv_header` with
//! its data and metadata area lists) and the metadata area header (`mda_header`, whose first
//! `raw_locn` points at the committed metadata text in a circular buffer). Little-endian.
//!
//! Reference: lvm2's lib/label/label.h, lib/format_text/layout.h and format-text.c.

use super::FORMAT;
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::crc32::Crc32;
use crate::error::{ErrorKind, Layer, Result};
use crate::io::ReadAt;
use alloc::string::String;

const SECTOR: u64 = 512;
const LABEL_ID: &[u8; 8] = b"LABELONE";
const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
const MDA_MAGIC: &[u8; 16] = b"\x20\x4c\x56\x4d\x32\x20\x78\x5b\x35\x41\x25\x72\x30\x4e\x2a\x3e";
/// The metadata area's own header; the circular text buffer follows it.
const MDA_HEADER_SIZE: u64 = 512;
/// `raw_locn.flags`: this copy is to be ignored.
const RAW_LOCN_IGNORED: u32 = 1;
/// lvm2's `INITIAL_CRC`.
const INITIAL_CRC: u32 = 0xf597_a6cf;
/// Largest metadata text read (lvm2's own default area is 1 MiB).
const MAX_TEXT: u64 = 16 << 20;

/// lvm2's `calc_crc` over `data`.
fn lvm_crc(data: &[u8]) -> u32 {
    let mut c = Crc32::seeded(INITIAL_CRC);
    c.update(data);
    c.register()
}

/// Whether a stored checksum holds (always, when fuzzing: so the fuzzer gets past it).
fn checksum_ok(stored: u32, computed: u32) -> bool {
    cfg!(fuzzing) || stored == computed
}

/// What a PV label tells.
#[derive(Debug, Clone)]
pub(super) struct PvLabel {
    /// PV UUID (32 characters, no dashes).
    pub uuid: String,
    /// Metadata areas: (offset on the PV, size).
    pub metadata_areas: heapless::Vec<(u64, u64), 2>,
}

/// Reads the PV label of `pv`, if it has one.
pub(super) fn read_label(pv: &dyn ReadAt) -> Result<Option<PvLabel>> {
    for sector in 0..4u64 {
        let at = sector * SECTOR;
        if !crate::io::fits(at, SECTOR, pv.size()) {
            return Ok(None);
        }
        let mut raw = [0u8; SECTOR as usize];
        pv.read_at(at, &mut raw)?;
        let b = Bytes::new(&raw, at, Layer::Volume, FORMAT);
        if b.slice(0, 8)? != LABEL_ID {
            continue;
        }
        if b.u64_le(8)? != sector {
            return Err(b.corrupt(8, "label sector number"));
        }
        let stored = b.u32_le(16)?;
        if !checksum_ok(stored, lvm_crc(b.slice(20, SECTOR as usize - 20)?)) {
            return Err(b.error(16, ErrorKind::BadChecksum { stored, computed: lvm_crc(b.slice(20, 492)?) }));
        }
        if b.slice(24, 8)? != LABEL_TYPE {
            return Err(b.error(24, ErrorKind::Unsupported("PV label type other than LVM2 001")));
        }
        let header = b
            .tail(usize::try_from(b.u32_le(20)?).unwrap_or(usize::MAX))
            .map_err(|_| b.corrupt(20, "pv_header offset"))?;
        let uuid = String::from_utf8_lossy(header.slice(0, 32)?).into_owned();
        // Data areas, a zero entry, metadata areas, a zero entry.
        let mut at = 40usize;
        let mut lists = 0;
        let mut metadata_areas = heapless::Vec::new();
        while lists < 2 {
            let (offset, size) = (header.u64_le(at)?, header.u64_le(at + 8)?);
            at += 16;
            if offset == 0 && size == 0 {
                lists += 1;
            } else if lists == 1 && metadata_areas.push((offset, size)).is_err() {
                return Err(header.corrupt(at - 16, "more than two metadata areas"));
            }
        }
        return Ok(Some(PvLabel { uuid, metadata_areas }));
    }
    Ok(None)
}

/// Reads the committed metadata text of the metadata area at `(offset, size)` of `pv`: the
/// location the header's first `raw_locn` names (the newest commit), unwrapped from the
/// circular buffer and checked against its CRC. `Ok(None)` when the area holds no metadata.
pub(super) fn read_metadata(
    pv: &dyn ReadAt,
    (offset, size): (u64, u64),
    budget: &Budget,
) -> Result<Option<(FixedVec<u8>, u64)>> {
    let mut raw = [0u8; MDA_HEADER_SIZE as usize];
    pv.read_at(offset, &mut raw)?;
    let h = Bytes::new(&raw, offset, Layer::Volume, FORMAT);
    let stored = h.u32_le(0)?;
    let computed = lvm_crc(h.slice(4, MDA_HEADER_SIZE as usize - 4)?);
    if !checksum_ok(stored, computed) {
        return Err(h.error(0, ErrorKind::BadChecksum { stored, computed }));
    }
    if h.slice(4, 16)? != MDA_MAGIC {
        return Err(h.error(4, ErrorKind::BadMagic));
    }
    if h.u32_le(20)? != 1 {
        return Err(h.error(20, ErrorKind::Unsupported("metadata area header version")));
    }
    if h.u64_le(24)? != offset || h.u64_le(32)? != size || size <= MDA_HEADER_SIZE {
        return Err(h.corrupt(24, "metadata area start or size"));
    }
    let (text_at, text_len) = (h.u64_le(40)?, h.u64_le(48)?);
    let (text_crc, flags) = (h.u32_le(56)?, h.u32_le(60)?);
    if text_len == 0 || flags & RAW_LOCN_IGNORED != 0 {
        return Ok(None);
    }
    if text_len > MAX_TEXT || text_len > size - MDA_HEADER_SIZE || !(MDA_HEADER_SIZE..size).contains(&text_at) {
        return Err(h.corrupt(40, "metadata location"));
    }
    let mut text = budget.zeroed(Layer::Volume, FORMAT, offset + 40, text_len as usize)?;
    // The buffer is circular: text that runs past the area's end goes on after the header.
    let first = (size - text_at).min(text_len);
    let (head, tail) = text.split_at_mut(first as usize);
    pv.read_at(offset + text_at, head)?;
    pv.read_at(offset + MDA_HEADER_SIZE, tail)?;
    let computed = lvm_crc(&text);
    if !checksum_ok(text_crc, computed) {
        return Err(h.error(56, ErrorKind::BadChecksum { stored: text_crc, computed }));
    }
    Ok(Some((text, offset + text_at)))
}

//! Decoding btrfs compressed extents, one extent (at most 128 KiB decoded) at a time:
//! - zlib: one zlib stream (miniz_oxide);
//! - LZO: btrfs's framing — the total length (LE32), then per sector of output a segment length
//!   (LE32, never straddling a sector boundary) and one LZO1X stream ([`super::lzo`]);
//! - zstd: one zstd frame (the scan's [`Codecs`]: ruzstd, no_std, or the host's libzstd), with
//!   its window limited to 1 MiB (btrfs writes 128 KiB windows), so a crafted frame cannot make
//!   the decoder allocate more.
//!
//! The decoded length may fall short of the extent's declared `ram_bytes` only within its last
//! sector (the kernel compresses up to the file's end and zero-fills the rest of the page, as
//! this reader does); shorter or longer is an error.
//! Reference: fs/btrfs/{zlib,lzo,zstd}.c.

use super::items::Compression;
use super::lzo;
use super::FORMAT;
use crate::budget::Budget;
use crate::codec::Codecs;
use crate::error::{Error, ErrorKind, Layer, Result};
use miniz_oxide::inflate::core::{decompress as inflate, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Largest decoded extent btrfs writes (`BTRFS_MAX_UNCOMPRESSED`).
pub(super) const MAX_DECODED: usize = 128 << 10;
/// Largest zstd window accepted.
const ZSTD_MAX_WINDOW: u64 = 1 << 20;

/// Decodes `input` (the extent as stored at logical `at`) into all of `out`.
pub(super) fn decode(
    kind: Compression,
    input: &[u8],
    out: &mut [u8],
    at: u64,
    sector: usize,
    budget: &Budget,
    codecs: &dyn Codecs,
) -> Result<()> {
    let err = |what| Error::new(Layer::Fs, FORMAT, at, ErrorKind::Corrupt(what));
    let produced = match kind {
        Compression::None => return Err(err("uncompressed extent given to the decoder")),
        Compression::Zlib => {
            // The inflate state is about 11 KiB: charged while it lives.
            let _charge = budget.reserve(Layer::Fs, FORMAT, at, core::mem::size_of::<DecompressorOxide>())?;
            let mut state = alloc::boxed::Box::<DecompressorOxide>::default();
            let flags =
                inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF | inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER;
            let (status, _, produced) = inflate(&mut state, input, out, 0, flags);
            match status {
                TINFLStatus::Done => produced,
                TINFLStatus::HasMoreOutput => {
                    return Err(err("compressed extent does not decode to its declared size"))
                }
                _ => return Err(err("broken zlib stream in a compressed extent")),
            }
        }
        Compression::Lzo => decode_lzo(input, out, sector).map_err(err)?,
        Compression::Zstd => {
            let _charge = budget.reserve(Layer::Fs, FORMAT, at, (ZSTD_MAX_WINDOW as usize) * 2)?;
            codecs.zstd(input, out, ZSTD_MAX_WINDOW).map_err(err)?
        }
    };
    if produced > out.len() || produced.saturating_add(sector) <= out.len() {
        return Err(err("compressed extent does not decode to its declared size"));
    }
    if let Some(tail) = out.get_mut(produced..) {
        tail.fill(0);
    }
    Ok(())
}

fn le32(input: &[u8], at: usize) -> Option<usize> {
    let b = input.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
}

/// btrfs's LZO framing around LZO1X segments of at most one sector of output each.
fn decode_lzo(input: &[u8], out: &mut [u8], sector: usize) -> core::result::Result<usize, &'static str> {
    let total = le32(input, 0).ok_or("LZO extent header")?;
    if total < 4 || total > input.len() {
        return Err("LZO extent length");
    }
    let (mut pos, mut done) = (4usize, 0usize);
    while pos < total && done < out.len() {
        // A segment header never straddles a sector: fewer than 4 bytes left means padding.
        let left_in_sector = sector - pos % sector;
        if left_in_sector < 4 {
            pos += left_in_sector;
            continue;
        }
        let len = le32(input, pos).ok_or("LZO segment header")?;
        pos += 4;
        let segment = input.get(pos..pos.checked_add(len).ok_or("LZO segment length")?).ok_or("LZO segment length")?;
        if pos + len > total {
            return Err("LZO segment length");
        }
        let room = out.len().min(done + sector);
        let dst = out.get_mut(done..room).ok_or("LZO output")?;
        done += lzo::decompress(segment, dst).map_err(|_| "broken LZO segment in a compressed extent")?;
        pos += len;
    }
    Ok(done)
}

//! Microsoft VHDX ([MS-VHDX]): two headers (the valid one with the higher sequence number
//! wins), two region tables (CRC-32C checked), a metadata region (block size, virtual disk
//! size, logical sector size) and a block allocation table in which a sector-bitmap entry
//! follows every `chunk ratio` payload entries. A non-empty log (changes not yet applied) is
//! reported as a warning and the disk read as it is on disk; differencing disks are refused.

use super::chunked::{Chunk, ChunkMap, ChunkedDisk};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::crc32::Crc32;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt, ReadAtExt};
use crate::volume::gpt::format_guid;
use alloc::boxed::Box;
use alloc::vec::Vec;

const FORMAT: &str = "vhdx";
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const BAT_GUID: &str = "2DC27766-F623-4200-9D64-115E9BFD4A08";
const METADATA_GUID: &str = "8B7CA206-4790-4B9A-B8FE-575F050F886E";
const FILE_PARAMETERS: &str = "CAA16737-FA36-4D43-B3B6-33F0AA44E76B";
const VIRTUAL_DISK_SIZE: &str = "2FA54224-CD1B-4876-B211-5DBED83BF4B8";
const LOGICAL_SECTOR_SIZE: &str = "8141BF1D-A96F-4709-BA47-F233A8FAAB5F";

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Image, FORMAT, offset, kind)
}

fn guid(b: &Bytes<'_>) -> Result<alloc::string::String> {
    Ok(format_guid(&b.array::<16>(0)?))
}

/// CRC-32C of `data` with its checksum field (bytes 4..8) taken as zero.
fn checksum(data: &Bytes<'_>) -> Result<u32> {
    let mut c = Crc32::castagnoli();
    c.update(data.slice(0, 4)?);
    c.update(&[0; 4]);
    c.update(data.tail(8)?.as_slice());
    Ok(c.finish())
}

struct VhdxMap {
    bat: u64,
    block: u64,
    chunk_ratio: u64,
    entries: u64,
}

impl ChunkMap for VhdxMap {
    fn locate(&self, file: &dyn ReadAt, index: u64) -> Result<Chunk> {
        let bat_index = index + index / self.chunk_ratio;
        if bat_index >= self.entries {
            return Ok(Chunk::Zero);
        }
        let at = self.bat + bat_index * 8;
        let entry = u64::from_le_bytes(file.read_array(at)?);
        match entry & 7 {
            6 | 7 => {
                let offset = (entry >> 20) * MIB;
                if offset == 0 || !fits(offset, self.block, file.size()) {
                    return Err(err(at, ErrorKind::Corrupt("BAT entry points past the end of the file")));
                }
                Ok(Chunk::Raw(offset))
            }
            0..=3 => Ok(Chunk::Zero),
            _ => Err(err(at, ErrorKind::Corrupt("BAT entry state"))),
        }
    }
}

/// Opens a VHDX image; a non-empty log is added to `warnings`.
pub(crate) fn open<'a, F: ReadAt + 'a>(
    file: F,
    budget: &Budget,
    warnings: &mut Vec<Error>,
) -> Result<Box<dyn ReadAt + 'a>> {
    // Headers: 4 KiB each at 64 KiB and 128 KiB; the valid one with the higher sequence wins.
    let mut best: Option<(u64, u64, [u8; 4096])> = None;
    for at in [64 * KIB, 128 * KIB] {
        if !fits(at, 4096, file.size()) {
            continue;
        }
        let raw: [u8; 4096] = file.read_array(at)?;
        let h = Bytes::new(&raw, at, Layer::Image, FORMAT);
        let seq = h.u64_le(8)?;
        if h.slice(0, 4)? == b"head"
            && crate::crc32::holds(h.u32_le(4)?, checksum(&h)?)
            && best.is_none_or(|(best, _, _)| seq > best)
        {
            best = Some((seq, at, raw));
        }
    }
    let (_, header_at, raw) = best.ok_or(err(64 * KIB, ErrorKind::Corrupt("no valid VHDX header")))?;
    let header = Bytes::new(&raw, header_at, Layer::Image, FORMAT);
    if header.slice(48, 16)?.iter().any(|&b| b != 0) {
        warnings
            .push(err(header_at + 48, ErrorKind::Unsupported("VHDX log not replayed: unapplied changes are ignored")));
    }
    // Region tables: 64 KiB each at 192 KiB and 256 KiB; the first valid one is used.
    let mut regions = None;
    let mut bad = None;
    for at in [192 * KIB, 256 * KIB] {
        if !fits(at, 64 * KIB, file.size()) {
            continue;
        }
        let mut raw = budget.zeroed(Layer::Image, FORMAT, at, (64 * KIB) as usize)?;
        file.read_at(at, &mut raw)?;
        let t = Bytes::new(&raw, at, Layer::Image, FORMAT);
        let (stored, computed) = (t.u32_le(4)?, checksum(&t)?);
        if t.slice(0, 4)? == b"regi" && crate::crc32::holds(stored, computed) {
            regions = Some((at, raw));
            break;
        }
        bad.get_or_insert(err(at + 4, ErrorKind::BadChecksum { stored, computed }));
    }
    let (regions_at, raw) = match (regions, bad) {
        (Some(r), Some(e)) => {
            warnings.push(e);
            r
        }
        (Some(r), None) => r,
        (None, e) => return Err(e.unwrap_or(err(192 * KIB, ErrorKind::Corrupt("no region table")))),
    };
    let regions = Bytes::new(&raw, regions_at, Layer::Image, FORMAT);
    let count = (regions.u32_le(8)? as usize).min(2047);
    let (mut bat, mut metadata) = (None, None);
    for i in 0..count {
        let e = regions.sub(16 + i * 32, 32)?;
        let region = (e.u64_le(16)?, u64::from(e.u32_le(24)?));
        match guid(&e)?.as_str() {
            BAT_GUID => bat = Some(region),
            METADATA_GUID => metadata = Some(region),
            _ if e.u32_le(28)? & 1 != 0 => return Err(err(regions_at, ErrorKind::Unsupported("required VHDX region"))),
            _ => {}
        }
    }
    drop(raw);
    let (bat, bat_len) = bat.ok_or(err(192 * KIB, ErrorKind::Corrupt("no BAT region")))?;
    let (meta, meta_len) = metadata.ok_or(err(192 * KIB, ErrorKind::Corrupt("no metadata region")))?;
    if !fits(bat, bat_len, file.size()) || !fits(meta, meta_len.max(64 * KIB), file.size()) {
        return Err(err(192 * KIB, ErrorKind::Corrupt("region lies outside the file")));
    }
    // Metadata table: 32-byte header ("metadata"), then 32-byte entries.
    let raw: [u8; 4096] = file.read_array(meta)?;
    let table = Bytes::new(&raw, meta, Layer::Image, FORMAT);
    if table.slice(0, 8)? != b"metadata" {
        return Err(err(meta, ErrorKind::BadMagic));
    }
    let (mut block, mut size, mut sector) = (None, None, None);
    for i in 0..usize::from(table.u16_le(10)?).min(127) {
        let e = table.sub(32 + i * 32, 32)?;
        let item = meta + u64::from(e.u32_le(16)?);
        let read_u64 = |at: u64| -> Result<u64> { Ok(u64::from_le_bytes(file.read_array(at)?)) };
        match guid(&e)?.as_str() {
            FILE_PARAMETERS => {
                let v = read_u64(item)?;
                if (v >> 32) & 2 != 0 {
                    return Err(err(item, ErrorKind::Unsupported("differencing VHDX: it needs its parent disk")));
                }
                block = Some(v & 0xFFFF_FFFF);
            }
            VIRTUAL_DISK_SIZE => size = Some(read_u64(item)?),
            LOGICAL_SECTOR_SIZE => sector = Some(read_u64(item)? & 0xFFFF_FFFF),
            _ => {}
        }
    }
    let (block, size, sector) = match (block, size, sector) {
        (Some(b), Some(s), Some(l)) => (b, s, l),
        _ => return Err(err(meta, ErrorKind::Corrupt("missing metadata item"))),
    };
    if !block.is_power_of_two() || !(MIB..=256 * MIB).contains(&block) || !(sector == 512 || sector == 4096) {
        return Err(err(meta, ErrorKind::Corrupt("block or sector size")));
    }
    let chunk_ratio = (1u64 << 23) * sector / block;
    let map = VhdxMap { bat, block, chunk_ratio, entries: bat_len / 8 };
    Ok(Box::new(ChunkedDisk::new(file, map, size, block, false, None, budget, FORMAT)?))
}

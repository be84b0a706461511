//! VMware VMDK (the "Virtual Disk Format 5.0" specification): hosted sparse extents (`KDMV`
//! header, grain directory and grain tables), streamOptimized extents (deflate-compressed
//! grains behind markers), and text descriptors that join several extents — sparse, flat,
//! VMFS or zero — into one disk (monolithicFlat, twoGbMaxExtentSparse/Flat, vmfs).
//!
//! streamOptimized comes in two layouts, both read: qemu-img's (grain directory preallocated
//! after the header, no footer) and VMware's export layout (`gdOffset` = GD_AT_END, tables
//! and a footer written after the grains). When the footer or grain directory is missing, as in
//! a truncated upload, grains are found by walking the markers instead.
//! Not supported: differencing disks (a parent) — refused with a clear error.

use super::chunked::{Chunk, ChunkMap, ChunkedDisk};
use super::Opener;
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, read_mapped, ReadAt, ReadAtExt, Segment, Window};
use alloc::boxed::Box;
use alloc::vec::Vec;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_until};
use nom::character::complete::{alphanumeric1, char, digit1, space0, space1};
use nom::combinator::{map_res, opt, rest};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

const FORMAT: &str = "vmdk";
const SECTOR: u64 = 512;
const GD_AT_END: u64 = u64::MAX;
const FLAG_ZERO_GTE: u32 = 1 << 2;
const FLAG_COMPRESSED: u32 = 1 << 16;
const FLAG_MARKERS: u32 = 1 << 17;
/// Longest descriptor read.
const MAX_DESCRIPTOR: u64 = 64 << 10;
/// Most extents in one descriptor.
const MAX_EXTENTS: usize = 1024;

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Image, FORMAT, offset, kind)
}

/// The fields of a sparse extent header (the header at the start, or the footer).
#[derive(Debug, Clone, Copy)]
struct Header {
    flags: u32,
    capacity: u64,
    grain: u64,
    descriptor: (u64, u64),
    gtes_per_gt: u64,
    gd_offset: u64,
    overhead: u64,
    compress: u16,
}

fn parse_header(raw: &[u8; 512], at: u64) -> Result<Header> {
    let h = Bytes::new(raw, at, Layer::Image, FORMAT);
    if h.slice(0, 4)? != b"KDMV" {
        return Err(err(at, ErrorKind::BadMagic));
    }
    let hdr = Header {
        flags: h.u32_le(8)?,
        capacity: h.u64_le(12)?,
        grain: h.u64_le(20)?,
        descriptor: (h.u64_le(28)?, h.u64_le(36)?),
        gtes_per_gt: u64::from(h.u32_le(44)?),
        gd_offset: h.u64_le(56)?,
        overhead: h.u64_le(64)?,
        compress: h.u16_le(77)?,
    };
    if !hdr.grain.is_power_of_two() || !(8..=4096).contains(&hdr.grain) {
        return Err(err(at + 20, ErrorKind::Corrupt("grain size")));
    }
    if hdr.gtes_per_gt == 0 || hdr.gtes_per_gt > 4096 {
        return Err(err(at + 44, ErrorKind::Corrupt("grain table size")));
    }
    if hdr.capacity.checked_mul(SECTOR).is_none_or(|b| b > 1 << 50) {
        return Err(err(at + 12, ErrorKind::Corrupt("capacity")));
    }
    Ok(hdr)
}

/// How grains are found.
enum GrainMap {
    /// Through the grain directory at this byte offset.
    Directory { gd: u64, gd_entries: u64 },
    /// From a walk over the markers: (grain index, marker offset), sorted.
    Scanned(FixedVec<(u64, u64)>),
}

struct SparseMap {
    hdr: Header,
    grains: GrainMap,
    file_size: u64,
}

impl SparseMap {
    /// The chunk for a grain whose data (or marker, when compressed) starts at `sector`.
    fn grain_at(&self, file: &dyn ReadAt, at: u64) -> Result<Chunk> {
        if self.hdr.flags & FLAG_COMPRESSED == 0 {
            return Ok(Chunk::Raw(at));
        }
        let marker: [u8; 12] = file.read_array(at)?;
        let len = Bytes::new(&marker, at, Layer::Image, FORMAT).u32_le(8)? as usize;
        if len == 0 || !fits(at + 12, len as u64, self.file_size) {
            return Err(err(at + 8, ErrorKind::Corrupt("grain marker size")));
        }
        Ok(Chunk::Deflate { offset: at + 12, len, zlib: true })
    }
}

impl ChunkMap for SparseMap {
    fn locate(&self, file: &dyn ReadAt, index: u64) -> Result<Chunk> {
        match &self.grains {
            GrainMap::Scanned(map) => match map.binary_search_by_key(&index, |&(g, _)| g) {
                Ok(i) => {
                    let &(_, at) = map.get(i).ok_or(err(0, ErrorKind::Corrupt("grain list")))?;
                    self.grain_at(file, at)
                }
                Err(_) => Ok(Chunk::Backing),
            },
            GrainMap::Directory { gd, gd_entries } => {
                let (gd_index, gt_index) = (index / self.hdr.gtes_per_gt, index % self.hdr.gtes_per_gt);
                if gd_index >= *gd_entries {
                    return Ok(Chunk::Zero);
                }
                let gde_at = gd + gd_index * 4;
                let gt = u64::from(u32::from_le_bytes(file.read_array(gde_at)?));
                if gt == 0 {
                    return Ok(Chunk::Backing);
                }
                let gte_at = gt * SECTOR + gt_index * 4;
                if !fits(gte_at, 4, self.file_size) {
                    return Err(err(
                        gde_at,
                        ErrorKind::Corrupt("grain directory entry points past the end of the file"),
                    ));
                }
                match u32::from_le_bytes(file.read_array(gte_at)?) {
                    0 => Ok(Chunk::Backing),
                    1 if self.hdr.flags & FLAG_ZERO_GTE != 0 => Ok(Chunk::Zero),
                    sector => {
                        let at = u64::from(sector) * SECTOR;
                        if at >= self.file_size {
                            return Err(err(
                                gte_at,
                                ErrorKind::Corrupt("grain table entry points past the end of the file"),
                            ));
                        }
                        self.grain_at(file, at)
                    }
                }
            }
        }
    }
}

/// One extent line of a descriptor: `ACCESS SECTORS TYPE ["FILE" [OFFSET]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExtentLine<'a> {
    sectors: u64,
    kind: &'a str,
    file: &'a str,
    offset: u64,
}

/// A text descriptor, borrowing the descriptor's bytes; extent lines are parsed as they are
/// walked.
#[derive(Debug, Default)]
struct Descriptor<'a> {
    text: &'a [u8],
    create_type: &'a str,
    parent: Option<&'a str>,
}

type Parsed<'a, T> = IResult<&'a [u8], T>;

fn number(input: &[u8]) -> Parsed<'_, u64> {
    map_res(digit1, |d: &[u8]| core::str::from_utf8(d).map_err(|_| ()).and_then(|d| d.parse().map_err(|_| ())))
        .parse(input)
}

fn quoted(input: &[u8]) -> Parsed<'_, &str> {
    map_res(delimited(char('"'), take_until(&b"\""[..]), char('"')), core::str::from_utf8).parse(input)
}

fn extent_line(line: &[u8]) -> Parsed<'_, ExtentLine<'_>> {
    let (input, _access) = alt((tag(&b"RW"[..]), tag(&b"RDONLY"[..]), tag(&b"NOACCESS"[..]))).parse(line)?;
    let (input, sectors) = preceded(space1, number).parse(input)?;
    let (input, kind) = preceded(space1, map_res(alphanumeric1, core::str::from_utf8)).parse(input)?;
    let (input, file) = opt(preceded(space1, quoted)).parse(input)?;
    let (input, offset) = opt(preceded(space1, number)).parse(input)?;
    Ok((input, ExtentLine { sectors, kind, file: file.unwrap_or(""), offset: offset.unwrap_or(0) }))
}

/// `key="value"` (or an unquoted value to the end of the line).
fn setting<'a>(key: &'static str, line: &'a [u8]) -> Option<&'a str> {
    let mut value =
        preceded((tag(key.as_bytes()), space0, char('='), space0), alt((quoted, map_res(rest, core::str::from_utf8))));
    let (_, v): (_, &str) = value.parse(line).ok()?;
    Some(v.trim())
}

/// The descriptor's lines, without surrounding blanks (and carriage returns).
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n').map(|l| l.trim_ascii())
}

fn parse_descriptor(text: &[u8]) -> Descriptor<'_> {
    let mut d = Descriptor { text, ..Descriptor::default() };
    for line in lines(text) {
        if let Some(v) = setting("createType", line) {
            d.create_type = v;
        } else if let Some(v) = setting("parentFileNameHint", line) {
            d.parent = Some(v);
        }
    }
    d
}

impl<'a> Descriptor<'a> {
    /// The extent lines, in order (lines that are not extents are skipped).
    fn extents(&self) -> impl Iterator<Item = ExtentLine<'a>> {
        lines(self.text).filter_map(|line| extent_line(line).ok().map(|(_, e)| e))
    }
}

/// The subformat name of a createType.
fn subformat(create_type: &str, compressed: bool) -> &'static str {
    match create_type {
        "streamOptimized" => "vmdk-stream",
        "monolithicFlat" => "vmdk-flat",
        "twoGbMaxExtentSparse" => "vmdk-split-sparse",
        "twoGbMaxExtentFlat" => "vmdk-split-flat",
        "vmfs" | "vmfsThin" | "vmfsPreallocated" | "vmfsEagerZeroedThick" => "vmdk-vmfs",
        _ if compressed => "vmdk-stream",
        _ => "vmdk-sparse",
    }
}

/// Reads the descriptor embedded in a sparse extent: the subformat its createType names and
/// whether it has a parent (`Ok(None)` when there is no descriptor).
fn embedded_descriptor(
    file: &dyn ReadAt,
    hdr: &Header,
    budget: &Budget,
    compressed: bool,
) -> Result<Option<(&'static str, bool)>> {
    let (at, len) = (hdr.descriptor.0.saturating_mul(SECTOR), hdr.descriptor.1.saturating_mul(SECTOR));
    if hdr.descriptor.0 == 0 || len == 0 {
        return Ok(None);
    }
    let len = len.min(MAX_DESCRIPTOR).min(file.size().saturating_sub(at));
    let mut buf = budget.zeroed(Layer::Image, FORMAT, at, len as usize)?;
    file.read_at(at, &mut buf)?;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    // Extents of split disks reserve a descriptor area but leave it zeroed.
    if end == 0 {
        return Ok(None);
    }
    let d = parse_descriptor(buf.get(..end).unwrap_or_default());
    if d.extents().next().is_none() {
        return Err(err(at, ErrorKind::Corrupt("invalid descriptor (no extent description)")));
    }
    Ok(Some((subformat(d.create_type, compressed), d.parent.is_some())))
}

/// Opens a sparse extent (`KDMV`). Returns the disk and the subformat name.
pub(crate) fn open_sparse<'a, F: ReadAt + 'a>(
    file: F,
    budget: &Budget,
    warnings: &mut Vec<Error>,
) -> Result<(Box<dyn ReadAt + 'a>, &'static str)> {
    if file.size() < SECTOR {
        return Err(eof(Layer::Image, FORMAT, 0, SECTOR as usize, file.size()));
    }
    let mut hdr = parse_header(&file.read_array(0)?, 0)?;
    let compressed = hdr.flags & FLAG_COMPRESSED != 0;
    if compressed && hdr.compress != 1 {
        return Err(err(77, ErrorKind::Unsupported("VMDK grain compression other than deflate")));
    }
    let descriptor = embedded_descriptor(&file, &hdr, budget, compressed)?;
    if descriptor.is_some_and(|(_, differencing)| differencing) {
        return Err(err(
            hdr.descriptor.0.saturating_mul(SECTOR),
            ErrorKind::Unsupported("differencing VMDK: it needs its parent disk"),
        ));
    }
    let name = descriptor.map_or_else(|| subformat("", compressed), |(name, _)| name);
    let size = file.size();
    if hdr.gd_offset == GD_AT_END {
        // VMware's stream layout: the real header is the footer, 1024 bytes from the end.
        let footer = (size >= 3 * SECTOR).then(|| file.read_array::<512>(size - 2 * SECTOR)).transpose()?;
        match footer.map(|f| parse_header(&f, size - 2 * SECTOR)) {
            Some(Ok(f)) if f.gd_offset != GD_AT_END => hdr.gd_offset = f.gd_offset,
            _ => hdr.gd_offset = GD_AT_END,
        }
    }
    let grains_per_gd = hdr.grain * hdr.gtes_per_gt;
    let gd_entries = hdr.capacity.div_ceil(grains_per_gd);
    let gd_valid = hdr.gd_offset != GD_AT_END
        && hdr.gd_offset.checked_mul(SECTOR).is_some_and(|gd| fits(gd, gd_entries * 4, size));
    let grains = if gd_valid {
        GrainMap::Directory { gd: hdr.gd_offset * SECTOR, gd_entries }
    } else if hdr.flags & FLAG_MARKERS != 0 {
        warnings.push(err(56, ErrorKind::Corrupt("grain directory missing: grains found by scanning markers")));
        GrainMap::Scanned(scan_markers(&file, &hdr, budget)?)
    } else {
        return Err(err(56, ErrorKind::Corrupt("grain directory lies outside the file")));
    };
    let map = SparseMap { hdr, grains, file_size: size };
    let disk =
        ChunkedDisk::new(file, map, hdr.capacity * SECTOR, hdr.grain * SECTOR, compressed, None, budget, FORMAT)?;
    Ok((Box::new(disk), name))
}

/// Walks the markers of a stream-optimized extent from the end of its header area, noting
/// where each grain is.
fn scan_markers(file: &dyn ReadAt, hdr: &Header, budget: &Budget) -> Result<FixedVec<(u64, u64)>> {
    let size = file.size();
    let grain_bytes = hdr.grain * SECTOR;
    let capacity = (size / SECTOR) as usize;
    let mut found = budget.fixed_vec::<(u64, u64)>(
        Layer::Image,
        FORMAT,
        0,
        capacity.min((hdr.capacity / hdr.grain) as usize + 1),
    )?;
    let Some(mut pos) = hdr.overhead.max(1).checked_mul(SECTOR) else {
        return Err(Error::new(Layer::Image, FORMAT, 64, ErrorKind::Corrupt("stream header overhead")));
    };
    while pos + SECTOR <= size {
        let raw: [u8; 16] = file.read_array(pos)?;
        let m = Bytes::new(&raw, pos, Layer::Image, FORMAT);
        let (value, len, kind) = (m.u64_le(0)?, u64::from(m.u32_le(8)?), m.u32_le(12)?);
        if len > 0 {
            if value % hdr.grain != 0 || value >= hdr.capacity || len > 2 * grain_bytes + 4096 {
                break; // not a grain marker: the walk has left the stream
            }
            if found.len() < found.capacity() {
                found.push((value / hdr.grain, pos))?;
            }
            pos += (12 + len).div_ceil(SECTOR) * SECTOR;
        } else {
            match kind {
                0 => break,
                // A metadata marker is followed by `value` sectors; a step that does not fit
                // in the file ends the walk (never wraps around to an earlier position).
                1..=3 => {
                    match value.checked_mul(SECTOR).and_then(|n| n.checked_add(SECTOR)).and_then(|n| pos.checked_add(n))
                    {
                        Some(next) => pos = next,
                        None => break,
                    }
                }
                _ => break,
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// A disk made of extents laid end to end.
struct Extents<'a> {
    parts: FixedVec<(u64, u64, Box<dyn ReadAt + 'a>)>,
    size: u64,
}

impl core::fmt::Debug for Extents<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Extents({} parts)", self.parts.len())
    }
}

impl ReadAt for Extents<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.size) {
            return Err(eof(Layer::Image, FORMAT, offset, buf.len(), self.size));
        }
        let map = |pos: u64, _| {
            let i = self.parts.partition_point(|(start, _, _)| *start <= pos).saturating_sub(1);
            let (start, len, part) = self.parts.get(i).ok_or(err(pos, ErrorKind::Corrupt("extent list")))?;
            let within = pos.checked_sub(*start).ok_or(err(pos, ErrorKind::Corrupt("extent list")))?;
            Ok((Segment::At((part, within)), len.saturating_sub(within)))
        };
        read_mapped(offset, buf, (Layer::Image, FORMAT), map, |(part, within), out| {
            // An extent file shorter than the descriptor says reads as zeros past its end.
            let avail = usize::try_from(part.size().saturating_sub(within)).map_or(out.len(), |a| a.min(out.len()));
            let (present, past) = out.split_at_mut(avail);
            part.read_at(within, present)?;
            past.fill(0);
            Ok(())
        })
    }
}

/// Zeros (a ZERO extent).
struct Zeros(u64);

impl ReadAt for Zeros {
    fn size(&self) -> u64 {
        self.0
    }
    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
}

/// Opens a VMDK text descriptor file and the extents it names (through `opener`).
pub(crate) fn open_descriptor<'a>(
    file: &dyn ReadAt,
    opener: &'a dyn Opener,
    budget: &Budget,
    warnings: &mut Vec<Error>,
) -> Result<(Box<dyn ReadAt + 'a>, &'static str)> {
    let len = file.size().min(MAX_DESCRIPTOR);
    let mut buf = budget.zeroed(Layer::Image, FORMAT, 0, len as usize)?;
    file.read_at(0, &mut buf)?;
    let d = parse_descriptor(&buf);
    let count = d.extents().count();
    if count == 0 {
        return Err(err(0, ErrorKind::Corrupt("invalid descriptor (no extent description)")));
    }
    if count > MAX_EXTENTS {
        return Err(err(0, ErrorKind::Unsupported("more VMDK extents than coldscan reads")));
    }
    if d.parent.is_some() {
        return Err(err(0, ErrorKind::Unsupported("differencing VMDK: it needs its parent disk")));
    }
    let mut parts = budget.fixed_vec::<(u64, u64, Box<dyn ReadAt + 'a>)>(Layer::Image, FORMAT, 0, count)?;
    let mut start = 0u64;
    for ExtentLine { sectors, kind, file: name, offset } in d.extents() {
        let len = sectors.checked_mul(SECTOR).ok_or(err(0, ErrorKind::Corrupt("extent size")))?;
        let part: Box<dyn ReadAt + 'a> = match kind {
            "ZERO" => Box::new(Zeros(len)),
            "FLAT" | "VMFS" | "VMFSRDM" | "VMFSRAW" => {
                let f = opener.open(name).map_err(extent_error)?;
                let start = offset.checked_mul(SECTOR).ok_or(err(0, ErrorKind::Corrupt("flat extent offset")))?;
                Box::new(Window::new(f, start, len, Layer::Image, FORMAT))
            }
            "SPARSE" | "VMFSSPARSE" => {
                let f = opener.open(name).map_err(extent_error)?;
                open_sparse(f, budget, warnings)?.0
            }
            _ => return Err(err(0, ErrorKind::Unsupported("VMDK extent type"))),
        };
        parts.push((start, len, part))?;
        start = start.checked_add(len).ok_or(err(0, ErrorKind::Corrupt("extent sizes")))?;
    }
    Ok((Box::new(Extents { parts, size: start }), subformat(d.create_type, false)))
}

/// An extent the opener could not give: missing, or refused (not a regular file, unreadable)
/// with the opener's own reason.
fn extent_error(e: Error) -> Error {
    match e.kind {
        ErrorKind::NotFound => err(0, ErrorKind::Unsupported("VMDK extent file not found beside the descriptor")),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_extent_lines() {
        let d = parse_descriptor(
            b"# Disk DescriptorFile\r\ncreateType=\"twoGbMaxExtentFlat\"\nRW 4192256 FLAT \"d-f001.vmdk\" 0\nRW 2048 ZERO\n\tRDONLY 10 SPARSE \"a b.vmdk\"\nRW x FLAT \"bad\"\n",
        );
        assert_eq!(d.create_type, "twoGbMaxExtentFlat");
        let extents: Vec<_> = d.extents().collect();
        let line = |sectors, kind, file, offset| ExtentLine { sectors, kind, file, offset };
        assert_eq!(
            extents,
            [line(4192256, "FLAT", "d-f001.vmdk", 0), line(2048, "ZERO", "", 0), line(10, "SPARSE", "a b.vmdk", 0)]
        );
    }
}

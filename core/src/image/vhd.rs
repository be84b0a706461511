//! Microsoft Virtual PC VHD ("Virtual Hard Disk Image Format Specification" 1.0): a 512-byte
//! footer at the end (and, for dynamic disks, a copy at the start); fixed disks are the data
//! followed by the footer; dynamic disks have a header, a block allocation table and blocks of
//! a sector bitmap followed by data. Sectors whose bitmap bit is clear read as zeros.
//! Differencing disks need their parent and are refused with a clear error.

use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::cache::BlockCache;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, read_mapped, ReadAt, ReadAtExt, Segment, Window};
use alloc::boxed::Box;

const SECTOR: u64 = 512;
const UNALLOCATED: u32 = 0xFFFF_FFFF;

fn err(format: &'static str, offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Image, format, offset, kind)
}

/// A footer's one's-complement checksum: of every byte but the checksum field's own.
fn footer_checksum(f: &Bytes<'_>) -> u32 {
    let sum: u32 =
        f.as_slice().iter().enumerate().filter(|(i, _)| !(64..68).contains(i)).map(|(_, &b)| u32::from(b)).sum();
    !sum
}

/// Checks a footer's magic and checksum.
fn valid_footer(f: &Bytes<'_>) -> Result<bool> {
    Ok(f.slice(0, 8)? == b"conectix" && crate::crc32::holds(f.u32_be(64)?, footer_checksum(f)))
}

/// Opens a VHD image. Returns the disk and its subformat (`vhd-fixed`, `vhd-dynamic`).
pub(crate) fn open<'a, F: ReadAt + 'a>(file: F, budget: &Budget) -> Result<(Box<dyn ReadAt + 'a>, &'static str)> {
    let size = file.size();
    if size < SECTOR {
        return Err(eof(Layer::Image, "vhd", 0, 512, size));
    }
    let end_at = size - SECTOR;
    let end: [u8; 512] = file.read_array(end_at)?;
    let tail = Bytes::new(&end, end_at, Layer::Image, "vhd");
    let start: [u8; 512];
    let footer = if valid_footer(&tail)? {
        tail
    } else {
        // A dynamic disk keeps a copy of its footer in its first sector.
        start = file.read_array(0)?;
        let copy = Bytes::new(&start, 0, Layer::Image, "vhd");
        if !valid_footer(&copy)? {
            let (stored, computed) = (tail.u32_be(64)?, footer_checksum(&tail));
            return Err(err("vhd", end_at, ErrorKind::BadChecksum { stored, computed }));
        }
        copy
    };
    let disk_size = footer.u64_be(48)?;
    match footer.u32_be(60)? {
        2 => {
            if disk_size > end_at {
                let at = footer.offset_of(48);
                return Err(err("vhd-fixed", at, ErrorKind::Corrupt("disk size larger than the file")));
            }
            Ok((Box::new(Window::new(file, 0, disk_size, Layer::Image, "vhd-fixed")), "vhd-fixed"))
        }
        3 => Ok((Box::new(DynamicVhd::open(file, &footer, budget)?), "vhd-dynamic")),
        4 => Err(err(
            "vhd-differencing",
            footer.offset_of(60),
            ErrorKind::Unsupported("differencing VHD: it needs its parent disk"),
        )),
        _ => Err(err("vhd", footer.offset_of(60), ErrorKind::Corrupt("disk type"))),
    }
}

/// A dynamic VHD.
struct DynamicVhd<F> {
    file: BlockCache<F>,
    size: u64,
    block: u64,
    bat: u64,
    entries: u64,
    bitmap_bytes: u64,
}

impl<F> core::fmt::Debug for DynamicVhd<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DynamicVhd({} bytes, blocks of {})", self.size, self.block)
    }
}

const FORMAT: &str = "vhd-dynamic";

impl<F: ReadAt> DynamicVhd<F> {
    fn open(file: F, footer: &Bytes<'_>, budget: &Budget) -> Result<Self> {
        let header_at = footer.u64_be(16)?;
        if !fits(header_at, 1024, file.size()) {
            return Err(err(FORMAT, footer.offset_of(16), ErrorKind::Corrupt("dynamic header lies outside the file")));
        }
        let raw: [u8; 1024] = file.read_array(header_at)?;
        let h = Bytes::new(&raw, header_at, Layer::Image, FORMAT);
        if h.slice(0, 8)? != b"cxsparse" {
            return Err(err(FORMAT, header_at, ErrorKind::BadMagic));
        }
        let bat = h.u64_be(16)?;
        let entries = u64::from(h.u32_be(28)?);
        let block = u64::from(h.u32_be(32)?);
        if !block.is_power_of_two() || !(SECTOR..=256 << 20).contains(&block) {
            return Err(err(FORMAT, header_at + 32, ErrorKind::Corrupt("block size")));
        }
        let size = footer.u64_be(48)?;
        if entries < size.div_ceil(block) || !fits(bat, entries * 4, file.size()) {
            return Err(err(FORMAT, header_at + 16, ErrorKind::Corrupt("block allocation table")));
        }
        let bitmap_bytes = (block / SECTOR).div_ceil(8).div_ceil(SECTOR) * SECTOR;
        let file = BlockCache::new(file, 4096, 32, budget, Layer::Image, FORMAT)?;
        Ok(DynamicVhd { file, size, block, bat, entries, bitmap_bytes })
    }
}

impl<F: ReadAt> ReadAt for DynamicVhd<F> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.size) {
            return Err(eof(Layer::Image, FORMAT, offset, buf.len(), self.size));
        }
        let map = |pos: u64, wanted: usize| {
            let (index, within) = (pos / self.block, pos % self.block);
            let in_block = self.block.saturating_sub(within).min(wanted as u64);
            let entry_at = self.bat.saturating_add(index.saturating_mul(4));
            let entry =
                if index < self.entries { u32::from_be_bytes(self.file.read_array(entry_at)?) } else { UNALLOCATED };
            if entry == UNALLOCATED {
                return Ok((Segment::Hole, in_block));
            }
            let bitmap = u64::from(entry) * SECTOR;
            let data = bitmap + self.bitmap_bytes;
            if !fits(data, self.block, self.file.size()) {
                return Err(err(
                    FORMAT,
                    entry_at,
                    ErrorKind::Corrupt("block allocation table entry points past the end of the file"),
                ));
            }
            // A run of sectors that are all present (bitmap bit set) or all absent, read at once.
            let present = |at: u64| -> Result<bool> {
                let sector = at / SECTOR;
                let bits: [u8; 1] = self.file.read_array(bitmap + sector / 8)?;
                Ok(bits[0] & (0x80 >> (sector % 8)) != 0)
            };
            let state = present(within)?;
            let mut end = (within - within % SECTOR + SECTOR).min(within + in_block);
            while end < within + in_block && present(end)? == state {
                end = (end + SECTOR).min(within + in_block);
            }
            let run = end - within;
            Ok((if state { Segment::At(data + within) } else { Segment::Hole }, run))
        };
        read_mapped(offset, buf, (Layer::Image, FORMAT), map, |at, piece| self.file.inner().read_at(at, piece))
    }
}

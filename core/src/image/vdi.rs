//! VirtualBox VDI (VBox/Storage/VDICore.h): a pre-header with signature 0xBEDA107F, a v1.1
//! header, a block map of 32-bit entries (0xFFFFFFFF: not allocated, 0xFFFFFFFE: zero), and
//! blocks. Fixed ("static") and dynamic images; differencing images are refused.

use super::chunked::{Chunk, ChunkMap, ChunkedDisk};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt, ReadAtExt};
use alloc::boxed::Box;

const FORMAT: &str = "vdi";

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Image, FORMAT, offset, kind)
}

struct VdiMap {
    blocks_at: u64,
    data_at: u64,
    block: u64,
    extra: u64,
    count: u64,
}

impl ChunkMap for VdiMap {
    fn locate(&self, file: &dyn ReadAt, index: u64) -> Result<Chunk> {
        if index >= self.count {
            return Ok(Chunk::Zero);
        }
        let at = self.blocks_at + index * 4;
        match u32::from_le_bytes(file.read_array(at)?) {
            0xFFFF_FFFF | 0xFFFF_FFFE => Ok(Chunk::Zero),
            n => {
                let offset = (self.block + self.extra)
                    .checked_mul(u64::from(n))
                    .and_then(|o| o.checked_add(self.data_at))
                    .and_then(|o| o.checked_add(self.extra));
                let Some(offset) = offset.filter(|&o| fits(o, self.block, file.size())) else {
                    return Err(err(at, ErrorKind::Corrupt("block map entry points past the end of the file")));
                };
                Ok(Chunk::Raw(offset))
            }
        }
    }
}

/// Opens a VDI image. Returns the disk and its subformat (`vdi-static`, `vdi-dynamic`).
pub(crate) fn open<'a, F: ReadAt + 'a>(file: F, budget: &Budget) -> Result<(Box<dyn ReadAt + 'a>, &'static str)> {
    if file.size() < 0x200 {
        return Err(err(0, ErrorKind::UnexpectedEof { wanted: 0x200, size: file.size() }));
    }
    let raw: [u8; 0x200] = file.read_array(0)?;
    let h = Bytes::new(&raw, 0, Layer::Image, FORMAT);
    if h.u32_le(0x44)? >> 16 != 1 {
        return Err(err(0x44, ErrorKind::Unsupported("VDI version (only 1.x is read)")));
    }
    let name = match h.u32_le(0x4C)? {
        1 => "vdi-dynamic",
        2 => "vdi-static",
        4 => return Err(err(0x4C, ErrorKind::Unsupported("differencing VDI: it needs its parent disk"))),
        _ => return Err(err(0x4C, ErrorKind::Unsupported("VDI image type"))),
    };
    let map = VdiMap {
        blocks_at: u64::from(h.u32_le(0x154)?),
        data_at: u64::from(h.u32_le(0x158)?),
        block: u64::from(h.u32_le(0x178)?),
        extra: u64::from(h.u32_le(0x17C)?),
        count: u64::from(h.u32_le(0x180)?),
    };
    let size = h.u64_le(0x170)?;
    if map.block == 0 || map.count < size.div_ceil(map.block) || !fits(map.blocks_at, map.count * 4, file.size()) {
        return Err(err(0x180, ErrorKind::Corrupt("block map")));
    }
    let block = map.block;
    Ok((Box::new(ChunkedDisk::new(file, map, size, block, false, None, budget, FORMAT)?), name))
}

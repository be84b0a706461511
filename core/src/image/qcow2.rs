//! QEMU copy-on-write v2 and v3 (QEMU's docs/interop/qcow2.txt): a header, an L1 table of L2
//! table offsets, L2 tables of cluster descriptors. Clusters may be unallocated (read from the
//! backing file named in the header, when it is beside the image, else zeros), zero (v3 flag),
//! stored raw, or deflate-compressed. Refcounts and snapshots are not needed for reading and
//! are not read. Refused with a clear error: encryption, external data files, extended L2
//! entries, zstd compression, and qcow version 1.

use super::chunked::{Chunk, ChunkMap, ChunkedDisk};
use super::Opener;
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt, ReadAtExt};
use alloc::boxed::Box;
use alloc::string::String;

const FORMAT: &str = "qcow2";
const OFFSET_MASK: u64 = 0x00FF_FFFF_FFFF_FE00;
const COMPRESSED: u64 = 1 << 62;
const ZERO_FLAG: u64 = 1;
/// Incompatible feature bits this reader handles: dirty (0), corrupt (1), compression type (3).
const INCOMPAT_KNOWN: u64 = 0b1011;

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Image, FORMAT, offset, kind)
}

/// The parsed header: what lookups need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Qcow2Map {
    cluster_bits: u32,
    l1_offset: u64,
    l1_size: u64,
    file_size: u64,
}

impl ChunkMap for Qcow2Map {
    fn locate(&self, file: &dyn ReadAt, index: u64) -> Result<Chunk> {
        let l2_entries = 1u64 << (self.cluster_bits - 3);
        let (l1_index, l2_index) = (index / l2_entries, index % l2_entries);
        if l1_index >= self.l1_size {
            return Ok(Chunk::Zero);
        }
        let l1_at = self.l1_offset + l1_index * 8;
        let l2_table = u64::from_be_bytes(file.read_array(l1_at)?) & OFFSET_MASK;
        if l2_table == 0 {
            return Ok(Chunk::Backing);
        }
        let cluster = 1u64 << self.cluster_bits;
        if !l2_table.is_multiple_of(cluster) || !fits(l2_table, cluster, self.file_size) {
            return Err(err(l1_at, ErrorKind::Corrupt("L1 entry points outside the file or off a cluster boundary")));
        }
        let l2_at = l2_table + l2_index * 8;
        let entry = u64::from_be_bytes(file.read_array(l2_at)?);
        if entry & COMPRESSED != 0 {
            let x = 62 - (self.cluster_bits - 8);
            let host = entry & ((1u64 << x) - 1);
            let sectors = ((entry >> x) & ((1u64 << (self.cluster_bits - 8)) - 1)) + 1;
            let len = (sectors * 512 - (host & 511)) as usize;
            // The stored length is rounded up to sectors: clamp it to the file.
            let len = len.min(self.file_size.saturating_sub(host) as usize);
            return Ok(Chunk::Deflate { offset: host, len, zlib: false });
        }
        if entry & ZERO_FLAG != 0 {
            return Ok(Chunk::Zero);
        }
        let host = entry & OFFSET_MASK;
        if host == 0 {
            return Ok(Chunk::Backing);
        }
        if !host.is_multiple_of(cluster) {
            return Err(err(l2_at, ErrorKind::Corrupt("L2 entry off a cluster boundary")));
        }
        Ok(Chunk::Raw(host))
    }
}

/// Opens a qcow2 image; `depth` counts backing files already followed.
pub(crate) fn open<'a, F: ReadAt + 'a>(
    file: F,
    opener: &'a dyn Opener,
    budget: &Budget,
    depth: usize,
) -> Result<Box<dyn ReadAt + 'a>> {
    let mut raw = [0u8; 112];
    let n = file.size().min(112) as usize;
    if n < 72 {
        return Err(err(0, ErrorKind::UnexpectedEof { wanted: 72, size: file.size() }));
    }
    let raw = raw.get_mut(..n).ok_or(err(0, ErrorKind::Corrupt("header")))?;
    file.read_at(0, raw)?;
    // A version 2 header is 72 bytes; fields past the bytes read are an error, not zeros.
    let h = Bytes::new(raw, 0, Layer::Image, FORMAT);
    let version = h.u32_be(4)?;
    if !(2..=3).contains(&version) {
        return Err(err(4, ErrorKind::Unsupported("qcow version (only 2 and 3 are read)")));
    }
    let cluster_bits = h.u32_be(20)?;
    if !(9..=21).contains(&cluster_bits) {
        return Err(err(20, ErrorKind::Corrupt("cluster_bits")));
    }
    let size = h.u64_be(24)?;
    if h.u32_be(32)? != 0 {
        return Err(err(32, ErrorKind::Unsupported("encrypted qcow2 image")));
    }
    if version == 3 {
        let incompat = h.u64_be(72)?;
        if incompat & !INCOMPAT_KNOWN != 0 {
            return Err(err(72, ErrorKind::UnsupportedFeatures { flags: incompat & !INCOMPAT_KNOWN }));
        }
        if incompat & 0b1000 != 0 && h.u32_be(100)? > 104 && h.u8(104)? != 0 {
            return Err(err(104, ErrorKind::Unsupported("zstd-compressed qcow2 clusters")));
        }
    }
    let cluster = 1u64 << cluster_bits;
    let l2_entries = cluster / 8;
    let needed = size.div_ceil(cluster * l2_entries);
    let l1_size = u64::from(h.u32_be(36)?);
    let l1_offset = h.u64_be(40)?;
    // qemu allows at most 32 MiB of L1 table; fewer entries than the size needs is corrupt.
    if l1_size < needed || l1_size > (32 << 20) / 8 {
        return Err(err(36, ErrorKind::Corrupt("L1 table size does not match the disk size")));
    }
    if !fits(l1_offset, l1_size * 8, file.size()) || !l1_offset.is_multiple_of(8) {
        return Err(err(40, ErrorKind::Corrupt("L1 table lies outside the file")));
    }
    let backing = match (h.u64_be(8)?, h.u32_be(16)?) {
        (0, _) | (_, 0) => None,
        (at, len) if len <= 1023 && fits(at, u64::from(len), file.size()) => {
            let mut name = [0u8; 1023];
            let name = name.get_mut(..len as usize).ok_or(err(16, ErrorKind::Corrupt("backing file name length")))?;
            file.read_at(at, name)?;
            let name = String::from_utf8_lossy(name).into_owned();
            Some(super::open_backing(&name, opener, budget, depth)?)
        }
        _ => return Err(err(8, ErrorKind::Corrupt("backing file name"))),
    };
    let map = Qcow2Map { cluster_bits, l1_offset, l1_size, file_size: file.size() };
    Ok(Box::new(ChunkedDisk::new(file, map, size, cluster, true, backing, budget, FORMAT)?))
}

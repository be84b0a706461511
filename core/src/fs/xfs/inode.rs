//! XFS inodes (`struct xfs_dinode`): the core fields and the data fork that follows them.
//! Version 1/2 inodes have a 100-byte core, version 3 (v5 filesystems) a 176-byte one.
//! Reference: xfs_format.h and "XFS Algorithms & Data Structures", chapter "On-disk Inode".

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::superblock::Superblock;
use super::FORMAT;
use crate::bytes::Bytes;
use crate::error::{ErrorKind, Layer, Result};

/// Largest inode read (the format's maximum inode size).
pub(super) const MAX_INODE: usize = 2048;
const MAGIC: u16 = 0x494E; // "IN"
const CORE_V2: usize = 100;
const CORE_V3: usize = 176;
/// `di_flags`: the file's data lives on the realtime device.
const DIFLAG_REALTIME: u16 = 0x1;
/// `di_flags2`: timestamps in the 64-bit nanosecond encoding.
const DIFLAG2_BIGTIME: u64 = 0x8;
/// `di_flags2`: 64-bit extent counters.
const DIFLAG2_NREXT64: u64 = 0x10;
/// Seconds from 1901-12-13 (the bigtime epoch) to 1970-01-01.
const BIGTIME_EPOCH_OFFSET: i64 = 1 << 31;

/// How a fork stores its data (`di_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForkFormat {
    /// Device number only (character and block devices, fifos, sockets).
    Device,
    /// The data itself, inside the inode (short directories, short symlinks).
    Local,
    /// An array of extent records inside the inode.
    Extents,
    /// The root of a B+tree of extent records.
    Btree,
}

/// An inode: its core fields and its raw bytes (the forks are parsed on demand).
#[derive(Debug, Clone)]
pub(super) struct Inode {
    /// Inode number.
    pub ino: u64,
    /// Volume byte offset of the inode.
    pub offset: u64,
    /// Unix mode.
    pub mode: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Hard links.
    pub nlink: u32,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
    /// Size in bytes.
    pub size: u64,
    /// Data fork format.
    pub format: ForkFormat,
    /// Extent records in the data fork.
    pub extents: u64,
    /// Whether the data is on the realtime device.
    pub realtime: bool,
    /// The inode's bytes.
    raw: heapless::Vec<u8, MAX_INODE>,
    /// Where the data fork starts and how long it is, within `raw`.
    fork: (usize, usize),
}

impl Inode {
    /// Parses the inode `ino` read from volume offset `offset`.
    pub fn parse(sb: &Superblock, ino: u64, offset: u64, raw: &[u8]) -> Result<Self> {
        let b = Bytes::new(raw, offset, Layer::Fs, FORMAT);
        if b.u16_be(0)? != MAGIC {
            return Err(b.error(0, ErrorKind::BadMagic));
        }
        let version = b.u8(4)?;
        let core = match version {
            1 | 2 if !sb.v5 => CORE_V2,
            3 if sb.v5 => CORE_V3,
            _ => return Err(b.corrupt(4, "inode version")),
        };
        if sb.v5 && b.u64_be(0x98)? != ino {
            return Err(b.corrupt(0x98, "inode number recorded in the inode"));
        }
        let mode = b.u16_be(2)?;
        let format = match b.u8(5)? {
            0 => ForkFormat::Device,
            1 => ForkFormat::Local,
            2 => ForkFormat::Extents,
            3 => ForkFormat::Btree,
            _ => return Err(b.corrupt(5, "data fork format")),
        };
        let flags2 = if version == 3 { b.u64_be(0x78)? } else { 0 };
        let extents = if flags2 & DIFLAG2_NREXT64 != 0 { b.u64_be(0x18)? } else { u64::from(b.u32_be(0x4C)?) };
        let nlink = if version == 1 { u32::from(b.u16_be(6)?) } else { b.u32_be(0x10)? };
        let mtime = if flags2 & DIFLAG2_BIGTIME != 0 && sb.bigtime {
            let ns = b.u64_be(0x28)?;
            i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX).saturating_sub(BIGTIME_EPOCH_OFFSET)
        } else {
            i64::from(b.u32_be(0x28)? as i32)
        };
        let size = b.u64_be(0x38)?;
        if size > i64::MAX as u64 {
            return Err(b.corrupt(0x38, "inode size"));
        }
        let fork_off = usize::from(b.u8(0x52)?) * 8;
        let literal = raw.len().saturating_sub(core);
        let fork_len = if fork_off == 0 { literal } else { fork_off };
        if fork_len > literal || fork_len == 0 {
            return Err(b.corrupt(0x52, "attribute fork offset"));
        }
        let mut bytes = heapless::Vec::new();
        bytes.extend_from_slice(raw).map_err(|_| b.corrupt(0, "inode larger than 2048 bytes"))?;
        Ok(Inode {
            ino,
            offset,
            mode,
            uid: b.u32_be(0x08)?,
            gid: b.u32_be(0x0C)?,
            nlink,
            mtime,
            size,
            format,
            extents,
            realtime: b.u16_be(0x5A)? & DIFLAG_REALTIME != 0,
            raw: bytes,
            fork: (core, fork_len),
        })
    }

    /// The data fork's bytes, as a view carrying their volume offset.
    pub fn data_fork(&self) -> Bytes<'_> {
        let (at, len) = self.fork;
        let whole = Bytes::new(&self.raw, self.offset, Layer::Fs, FORMAT);
        // `parse` checked that the fork lies inside the inode.
        whole.sub(at, len).unwrap_or(whole)
    }
}

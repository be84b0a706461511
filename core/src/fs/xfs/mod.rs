//! XFS, read-only: version 4 and 5 (CRC) filesystems.
//!
//! Supported: block sizes 512 B–64 KiB, 512- and 4096-byte sectors, any number of allocation
//! groups, inode numbers → AG/block/offset, data forks in local, extents and btree (`bmbt`, any
//! depth) format, directories in shortform, block, leaf, node and btree form, with and without
//! `ftype`, symlinks inline and remote (with the v5 `XSLM` header), holes and unwritten extents
//! (read as zeros), files past 4 GiB, 64-bit extent counters and big timestamps.
//!
//! Not done: log replay (the filesystem is read as it is on disk, as `xfs_db` does), the
//! realtime section (a file whose data lives there is refused with a clear error), CRC
//! verification (self-describing headers are checked: magic, level, owner, inode number).
//!
//! Reference: the kernel's fs/xfs/libxfs/xfs_format.h, xfs_da_format.h and the "XFS Algorithms &
//! Data Structures" book.

mod bmap;
mod dir;
mod inode;
mod superblock;

use self::bmap::Run;
use self::inode::{ForkFormat, Inode, MAX_INODE};
use self::superblock::{Superblock, SUPERBLOCK_BYTES};
use super::{DirEntry, FileSystem, FileType, Metadata, NodeId, Walk};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::cache::BlockCache;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, read_mapped, ReadAt, Segment};
use alloc::boxed::Box;
use alloc::vec::Vec;

const FORMAT: &str = "xfs";
/// Bytes of metadata block cache per filesystem.
const CACHE_BYTES: u64 = 256 << 10;
/// Longest symlink target (`XFS_SYMLINK_MAXLEN`).
const MAX_LINK: u64 = 1024;
/// Header of a v5 remote symlink block (`XSLM`).
const SYMLINK_HEADER_V5: usize = 56;

fn corrupt(offset: u64, what: &'static str) -> Error {
    Error::new(Layer::Fs, FORMAT, offset, ErrorKind::Corrupt(what))
}

/// An XFS filesystem on a volume.
pub struct Xfs<R> {
    dev: BlockCache<R>,
    sb: Superblock,
    budget: Budget,
}

impl<R> core::fmt::Debug for Xfs<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let version = if self.sb.v5 { 5 } else { 4 };
        write!(f, "Xfs(v{version}, {} AGs of {} blocks of {})", self.sb.ag_count, self.sb.ag_blocks, self.sb.block_size)
    }
}

impl<R: ReadAt> Xfs<R> {
    /// Opens the filesystem on `volume`, validating its superblock.
    pub fn open(volume: R, budget: &Budget) -> Result<Self> {
        if !fits(0, SUPERBLOCK_BYTES as u64, volume.size()) {
            return Err(eof(Layer::Fs, FORMAT, 0, SUPERBLOCK_BYTES, volume.size()));
        }
        let mut raw = [0u8; SUPERBLOCK_BYTES];
        volume.read_at(0, &mut raw)?;
        let sb = Superblock::parse(&raw)?;
        // The cache works in units no larger than a directory block's smallest piece.
        let slots = (CACHE_BYTES / sb.block_size).max(8) as usize;
        let dev = BlockCache::new(volume, sb.block_size as usize, slots, budget, Layer::Fs, FORMAT)?;
        Ok(Xfs { dev, sb, budget: budget.clone() })
    }

    fn read_inode(&self, ino: NodeId) -> Result<Inode> {
        let at = self.sb.inode_location(ino)?;
        let mut raw = [0u8; MAX_INODE];
        let len = self.sb.inode_size as usize;
        let raw = raw.get_mut(..len).ok_or_else(|| corrupt(at, "inode size"))?;
        self.dev.read_at(at, raw)?;
        let inode = Inode::parse(&self.sb, ino, at, raw)?;
        if inode.mode == 0 {
            return Err(corrupt(at + 2, "reference to an unused inode"));
        }
        Ok(inode)
    }

    fn expect_type(&self, inode: &Inode, want: FileType, kind: ErrorKind) -> Result<()> {
        if FileType::from_mode(inode.mode) != want {
            return Err(Error::new(Layer::Fs, FORMAT, inode.offset, kind));
        }
        Ok(())
    }

    fn file(&self, inode: Inode) -> Result<XfsFile<'_, R>> {
        if inode.realtime {
            return Err(Error::new(
                Layer::Fs,
                FORMAT,
                inode.offset + 0x5A,
                ErrorKind::Unsupported("file data on the XFS realtime device"),
            ));
        }
        match inode.format {
            ForkFormat::Extents | ForkFormat::Btree | ForkFormat::Local => Ok(XfsFile { fs: self, inode }),
            ForkFormat::Device => Err(corrupt(inode.offset + 5, "file with a device fork")),
        }
    }

    /// Lists a directory stored in data blocks (block, leaf, node or btree form).
    fn list_blocks(&self, inode: Inode, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()> {
        let dir_block = self.sb.dir_block_size;
        let end = inode.size.min(dir::LEAF_OFFSET);
        let mut buf = self.budget.zeroed(Layer::Fs, FORMAT, inode.offset, dir_block as usize)?;
        let file = self.file(inode)?;
        let mut pos = 0u64;
        while pos < end {
            // Freed data blocks leave holes: skip each hole whole, by its mapped run.
            let run = file.map(pos >> self.sb.block_log)?;
            let Some(at) = run.physical else {
                let skip = run.len.saturating_mul(self.sb.block_size);
                // A run reaching past the end of the file (a crafted length) ends the walk.
                match pos.saturating_add(skip).checked_next_multiple_of(dir_block) {
                    Some(next) => pos = next,
                    None => break,
                }
                continue;
            };
            let n = dir_block.min(file.inode.size - pos) as usize;
            let block = buf.get_mut(..n).ok_or_else(|| corrupt(at, "directory block"))?;
            file.read_at(pos, block)?;
            if dir::list_data_block(&self.sb, Bytes::new(block, at, Layer::Fs, FORMAT), visit)? == Walk::Stop {
                return Ok(());
            }
            pos += dir_block;
        }
        Ok(())
    }
}

/// A file (or a directory, or a remote symlink) of an XFS filesystem as a [`ReadAt`].
struct XfsFile<'a, R> {
    fs: &'a Xfs<R>,
    inode: Inode,
}

impl<R: ReadAt> XfsFile<'_, R> {
    fn map(&self, lblk: u64) -> Result<Run> {
        bmap::map(&self.fs.dev, &self.fs.sb, &self.inode, lblk)
    }
}

impl<R: ReadAt> ReadAt for XfsFile<'_, R> {
    fn size(&self) -> u64 {
        self.inode.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.inode.size) {
            return Err(eof(Layer::Fs, FORMAT, offset, buf.len(), self.inode.size));
        }
        if self.inode.format == ForkFormat::Local {
            let fork = self.inode.data_fork();
            let at = usize::try_from(offset).map_err(|_| corrupt(self.inode.offset, "local data"))?;
            buf.copy_from_slice(fork.slice(at, buf.len())?);
            return Ok(());
        }
        let sb = &self.fs.sb;
        let map = |pos: u64, _| {
            let run = self.map(pos >> sb.block_log)?;
            let within = pos & (sb.block_size - 1);
            let available = run.len.saturating_mul(sb.block_size).saturating_sub(within);
            let segment = match run.physical {
                Some(at) => Segment::At(at.checked_add(within).ok_or_else(|| corrupt(pos, "extent map"))?),
                None => Segment::Hole,
            };
            Ok((segment, available))
        };
        read_mapped(offset, buf, (Layer::Fs, FORMAT), map, |at, piece| self.fs.dev.read_at(at, piece))
    }
}

impl<R: ReadAt> FileSystem for Xfs<R> {
    fn kind(&self) -> &'static str {
        FORMAT
    }

    fn root(&self) -> NodeId {
        self.sb.root_inode
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        let i = self.read_inode(node)?;
        Ok(Metadata::unix(node, i.mode, i.uid, i.gid, i.size, i.mtime, i.nlink))
    }

    fn read_dir(&self, dir: NodeId, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()> {
        let inode = self.read_inode(dir)?;
        self.expect_type(&inode, FileType::Directory, ErrorKind::NotADirectory)?;
        match inode.format {
            ForkFormat::Local => {
                let fork = inode.data_fork();
                let used = usize::try_from(inode.size).ok().filter(|&n| n <= fork.len());
                let used = used.ok_or_else(|| corrupt(inode.offset + 0x38, "shortform directory size"))?;
                dir::list_shortform(&self.sb, dir, fork.sub(0, used)?, visit)
            }
            ForkFormat::Extents | ForkFormat::Btree => self.list_blocks(inode, visit),
            ForkFormat::Device => Err(corrupt(inode.offset + 5, "directory with a device fork")),
        }
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let inode = self.read_inode(node)?;
        self.expect_type(&inode, FileType::Symlink, ErrorKind::Corrupt("not a symbolic link"))?;
        if inode.size > MAX_LINK || inode.size == 0 {
            return Err(Error::new(Layer::Fs, FORMAT, inode.offset + 0x38, ErrorKind::TooLong));
        }
        let len = inode.size as usize;
        if inode.format == ForkFormat::Local {
            return Ok(inode.data_fork().slice(0, len)?.to_vec());
        }
        if !self.sb.v5 {
            let file = self.file(inode)?;
            let mut target = alloc::vec![0u8; len];
            file.read_at(0, &mut target)?;
            return Ok(target);
        }
        // v5: each remote block starts with an XSLM header naming the bytes it holds.
        let file = XfsFile { fs: self, inode };
        let mut target = Vec::with_capacity(len);
        let mut lblk = 0u64;
        let mut block = [0u8; 1024 + SYMLINK_HEADER_V5];
        while target.len() < len {
            let at =
                file.map(lblk)?.physical.ok_or_else(|| corrupt(file.inode.offset, "remote symlink block missing"))?;
            let room = (self.sb.block_size as usize).min(block.len());
            let buf = block.get_mut(..room).ok_or_else(|| corrupt(at, "symlink block"))?;
            self.dev.read_at(at, buf)?;
            let b = Bytes::new(buf, at, Layer::Fs, FORMAT);
            if b.slice(0, 4)? != b"XSLM" {
                return Err(b.error(0, ErrorKind::BadMagic));
            }
            let (offset, bytes) = (b.u32_be(4)? as usize, b.u32_be(8)? as usize);
            if offset != target.len() || bytes == 0 || bytes > len - target.len() {
                return Err(b.corrupt(4, "remote symlink block offset or length"));
            }
            target.extend_from_slice(b.slice(SYMLINK_HEADER_V5, bytes)?);
            lblk += 1;
        }
        Ok(target)
    }

    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>> {
        let inode = self.read_inode(node)?;
        self.expect_type(&inode, FileType::Regular, ErrorKind::NotAFile)?;
        Ok(Box::new(self.file(inode)?))
    }
}

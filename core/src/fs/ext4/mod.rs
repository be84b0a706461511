//! ext2, ext3 and ext4, read-only.
//!
//! Supported: 1–64 KiB blocks, 32- and 64-bit group descriptors, flex_bg and meta_bg layouts,
//! any inode size, extent trees of any depth, ext2/3 indirect block maps, linear and htree
//! directories (htree index blocks are skipped as the empty entries they are disguised as),
//! inline data for files and directories, fast and slow symlinks, holes and unwritten extents
//! (read as zeros), files over 4 GiB.
//!
//! Not done: journal replay (a filesystem with `needs_recovery` is read as it is on disk, as
//! `debugfs` does), checksum verification (metadata_csum is accepted, not checked),
//! encrypted file contents, and htree hashing (lookups scan the directory linearly).
//!
//! Reference: the kernel's fs/ext4/ext4.h and the "Ext4 Disk Layout" documentation.

mod dir;
mod inode;
pub(crate) mod superblock;

use self::inode::{map_extent, map_indirect, Inode, Run, FLAG_EXTENTS, INODE_PARSED_BYTES};
use self::superblock::{Superblock, SUPERBLOCK_OFFSET};
use super::{DirEntry, FileSystem, FileType, Metadata, NodeId, Walk};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::cache::BlockCache;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, piece, read_mapped, ReadAt, Segment};
use alloc::boxed::Box;
use alloc::vec::Vec;

const FORMAT: &str = "ext4";
const ROOT_INODE: NodeId = 2;
/// Bytes of block cache per filesystem (at least 8 blocks).
const CACHE_BYTES: u64 = 256 << 10;
/// Largest directory read (the kernel's `largedir` limit is far below anything a real system
/// holds; this bounds the work a crafted `i_size` can ask for).
const MAX_DIR_SIZE: u64 = 4 << 30;
/// Longest symlink target read (Linux `PATH_MAX`).
const MAX_LINK: u64 = 4096;

fn corrupt(offset: u64, what: &'static str) -> Error {
    Error::new(Layer::Fs, FORMAT, offset, ErrorKind::Corrupt(what))
}

/// An ext2/3/4 filesystem on a volume.
pub struct Ext4<R> {
    dev: BlockCache<R>,
    sb: Superblock,
    budget: Budget,
    /// Problems that did not stop the filesystem from being opened.
    warnings: heapless::Vec<Error, 2>,
}

impl<R> core::fmt::Debug for Ext4<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ext4({}, {} blocks of {})", self.sb.kind, self.sb.blocks_count, self.sb.block_size)
    }
}

impl<R: ReadAt> Ext4<R> {
    /// Opens the filesystem on `volume`, validating its superblock.
    pub fn open(volume: R, budget: &Budget) -> Result<Self> {
        let mut raw = [0u8; 1024];
        if !fits(SUPERBLOCK_OFFSET, 1024, volume.size()) {
            return Err(eof(Layer::Fs, FORMAT, SUPERBLOCK_OFFSET, 1024, volume.size()));
        }
        volume.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
        let sb = Superblock::parse(&raw, volume.size())?;
        let slots = (CACHE_BYTES / sb.block_size).max(8) as usize;
        let mut warnings = heapless::Vec::new();
        if sb.blocks_count.saturating_mul(sb.block_size) > volume.size() {
            // The kernel refuses to mount this; what lies inside the volume is still read.
            let _ = warnings.push(corrupt(
                SUPERBLOCK_OFFSET + 0x4,
                "the filesystem is larger than its volume (a truncated image?)",
            ));
        }
        let dev = BlockCache::new(volume, sb.block_size as usize, slots, budget, Layer::Fs, FORMAT)?;
        Ok(Ext4 { dev, sb, budget: budget.clone(), warnings })
    }

    /// Whether the journal holds changes not yet written back (unclean shutdown).
    pub fn needs_recovery(&self) -> bool {
        self.sb.needs_recovery
    }

    fn read_inode(&self, ino: NodeId) -> Result<Inode> {
        if ino == 0 || ino > u64::from(self.sb.inodes_count) {
            return Err(corrupt(0, "inode number out of range"));
        }
        let group = ((ino - 1) / u64::from(self.sb.inodes_per_group)) as u32;
        let index = (ino - 1) % u64::from(self.sb.inodes_per_group);
        let desc_at = self.sb.descriptor_offset(group);
        let mut desc = [0u8; 64];
        let desc_len = (self.sb.desc_size as usize).min(64);
        self.dev.read_at(desc_at, piece(&mut desc, 0, desc_len, (Layer::Fs, FORMAT, desc_at))?)?;
        let desc = Bytes::new(&desc, desc_at, Layer::Fs, FORMAT);
        let mut table = u64::from(desc.u32_le(0x8)?);
        if desc_len >= 64 {
            table |= u64::from(desc.u32_le(0x28)?) << 32;
        }
        let table_blocks =
            (u64::from(self.sb.inodes_per_group) * u64::from(self.sb.inode_size)).div_ceil(self.sb.block_size);
        if table == 0 || table.checked_add(table_blocks).is_none_or(|end| end > self.sb.blocks_count) {
            return Err(corrupt(desc_at + 0x8, "group descriptor's inode table location"));
        }
        let offset = table * self.sb.block_size + index * u64::from(self.sb.inode_size);
        let mut raw = [0u8; INODE_PARSED_BYTES];
        let len = INODE_PARSED_BYTES.min(self.sb.inode_size as usize);
        self.dev.read_at(offset, piece(&mut raw, 0, len, (Layer::Fs, FORMAT, offset))?)?;
        let inode = Inode::parse(offset, &raw, self.sb.inode_size)?;
        if inode.mode == 0 {
            return Err(corrupt(offset, "reference to an unused inode"));
        }
        Ok(inode)
    }

    fn map(&self, inode: &Inode, lblk: u64) -> Result<Run> {
        if inode.flags & FLAG_EXTENTS != 0 {
            map_extent(&self.dev, &self.sb, inode, lblk)
        } else {
            map_indirect(&self.dev, &self.sb, inode, lblk)
        }
    }

    /// Location (volume offset, length) of the `system.data` extended attribute that holds
    /// the rest of an inline file or directory, if present.
    fn inline_xattr(&self, inode: &Inode) -> Result<Option<(u64, u64)>> {
        let isz = u64::from(self.sb.inode_size);
        let body = inode.offset + 128 + u64::from(inode.extra_isize);
        let end = inode.offset + isz;
        if body + 4 > end {
            return Ok(None);
        }
        let mut magic = [0u8; 4];
        self.dev.read_at(body, &mut magic)?;
        if u32::from_le_bytes(magic) != 0xEA02_0000 {
            return Ok(None);
        }
        let first = body + 4;
        let mut at = first;
        // Each entry takes at least 16 bytes, which bounds the walk by the inode size.
        while at + 16 <= end {
            let mut raw = [0u8; 16];
            self.dev.read_at(at, &mut raw)?;
            let e = Bytes::new(&raw, at, Layer::Fs, FORMAT);
            if e.u32_le(0)? == 0 {
                break;
            }
            let name_len = u64::from(e.u8(0)?);
            let (index, value_offs, value_size) = (e.u8(1)?, u64::from(e.u16_le(2)?), u64::from(e.u32_le(8)?));
            if at + 16 + name_len > end {
                return Err(corrupt(at, "inline xattr entry name"));
            }
            let mut name = [0u8; 255];
            let name = name.get_mut(..name_len as usize).ok_or(corrupt(at, "inline xattr entry name"))?;
            self.dev.read_at(at + 16, name)?;
            if index == 7 && name == b"data" {
                let value = first + value_offs;
                if value.checked_add(value_size).is_none_or(|v| v > end) {
                    return Err(corrupt(at + 2, "inline data xattr value"));
                }
                return Ok(Some((value, value_size)));
            }
            at += (16 + name_len).next_multiple_of(4);
        }
        Ok(None)
    }

    fn file(&self, inode: Inode) -> Result<Ext4File<'_, R>> {
        let inline = if inode.is_inline() { Some(self.inline_xattr(&inode)?.unwrap_or((0, 0))) } else { None };
        if let Some((_, extra)) = inline {
            if inode.size > 60 + extra {
                return Err(corrupt(inode.offset + 0x4, "inline file larger than its inline data"));
            }
        } else if inode.size > (u64::from(u32::MAX) + 1) * self.sb.block_size {
            return Err(corrupt(inode.offset + 0x4, "file size beyond 2^32 blocks"));
        }
        Ok(Ext4File { fs: self, inode, inline })
    }

    fn expect_type(&self, inode: &Inode, want: FileType, kind: ErrorKind) -> Result<()> {
        if FileType::from_mode(inode.mode) != want {
            return Err(Error::new(Layer::Fs, FORMAT, inode.offset, kind));
        }
        Ok(())
    }
}

/// A regular file (or directory, or slow symlink) of an ext filesystem as a [`ReadAt`].
struct Ext4File<'a, R> {
    fs: &'a Ext4<R>,
    inode: Inode,
    /// For inline data: the `system.data` xattr value (volume offset, length).
    inline: Option<(u64, u64)>,
}

impl<R: ReadAt> Ext4File<'_, R> {
    fn read_inline(&self, offset: u64, buf: &mut [u8], (xattr_at, _): (u64, u64)) -> Result<()> {
        // The first 60 bytes live in the inode's block map, the rest in the `system.data` xattr.
        const IN_INODE: u64 = 60;
        let map = |pos: u64, wanted: usize| {
            Ok(if pos < IN_INODE {
                (Segment::At((true, pos)), IN_INODE - pos)
            } else {
                (Segment::At((false, pos - IN_INODE)), wanted as u64)
            })
        };
        read_mapped(offset, buf, (Layer::Fs, FORMAT), map, |(in_inode, at), out| {
            if in_inode {
                out.copy_from_slice(self.inode.i_block_view().slice(at as usize, out.len())?);
                Ok(())
            } else {
                let at = xattr_at.checked_add(at).ok_or(Error::new(
                    Layer::Fs,
                    FORMAT,
                    self.inode.offset,
                    ErrorKind::Corrupt("inline data"),
                ))?;
                self.fs.dev.read_at(at, out)
            }
        })
    }
}

impl<R: ReadAt> ReadAt for Ext4File<'_, R> {
    fn size(&self) -> u64 {
        self.inode.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.inode.size) {
            return Err(eof(Layer::Fs, FORMAT, offset, buf.len(), self.inode.size));
        }
        if let Some(xattr) = self.inline {
            return self.read_inline(offset, buf, xattr);
        }
        let bs = self.fs.sb.block_size;
        let map = |pos: u64, _| {
            let run = self.fs.map(&self.inode, pos / bs)?;
            let within = pos % bs;
            let available = run.len.saturating_mul(bs).saturating_sub(within);
            let segment =
                match run.physical {
                    Some(block) => Segment::At(block.checked_mul(bs).and_then(|b| b.checked_add(within)).ok_or(
                        Error::new(Layer::Fs, FORMAT, pos, ErrorKind::Corrupt("extent points past the volume")),
                    )?),
                    None => Segment::Hole,
                };
            Ok((segment, available))
        };
        read_mapped(offset, buf, (Layer::Fs, FORMAT), map, |at, piece| self.fs.dev.read_at(at, piece))
    }
}

impl<R: ReadAt> FileSystem for Ext4<R> {
    fn kind(&self) -> &'static str {
        self.sb.kind
    }

    fn root(&self) -> NodeId {
        ROOT_INODE
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        let i = self.read_inode(node)?;
        Ok(Metadata::unix(node, i.mode, i.uid, i.gid, i.size, i.mtime, i.nlink))
    }

    fn read_dir(&self, dir: NodeId, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()> {
        let inode = self.read_inode(dir)?;
        self.expect_type(&inode, FileType::Directory, ErrorKind::NotADirectory)?;
        let has_type = self.sb.dirents_have_type();
        if inode.size > MAX_DIR_SIZE {
            return Err(corrupt(inode.offset + 0x4, "directory larger than 4 GiB"));
        }
        let file = self.file(inode)?;
        if let Some((xattr_at, xattr_len)) = file.inline {
            // Inline directory: parent inode, then entries in i_block[4..60] and the xattr.
            for (name, node) in [(&b"."[..], dir), (&b".."[..], u64::from(inode.i_block_view().u32_le(0)?))] {
                if visit(DirEntry { name, node })? == Walk::Stop {
                    return Ok(());
                }
            }
            let head = &inode.i_block[4..60];
            if dir::parse_block(head, inode.offset + 0x2C, has_type, visit)? == Walk::Stop || xattr_len == 0 {
                return Ok(());
            }
            let mut rest = self.budget.zeroed(Layer::Fs, FORMAT, xattr_at, xattr_len as usize)?;
            self.dev.read_at(xattr_at, &mut rest)?;
            dir::parse_block(&rest, xattr_at, has_type, visit)?;
            return Ok(());
        }
        let bs = self.sb.block_size;
        let mut block = self.budget.zeroed(Layer::Fs, FORMAT, inode.offset, bs as usize)?;
        let blocks = inode.size.div_ceil(bs);
        let mut lblk = 0u64;
        // One mapping per run of blocks: holes are skipped whole, never block by block.
        while lblk < blocks {
            let run = self.map(&inode, lblk)?;
            let len = run.len.clamp(1, blocks - lblk);
            if let Some(physical) = run.physical {
                for k in 0..len {
                    let pos = (lblk + k) * bs;
                    let n = (inode.size - pos).min(bs) as usize;
                    let at = (physical + k) * bs;
                    let block = piece(&mut block, 0, n, (Layer::Fs, FORMAT, at))?;
                    self.dev.read_at(at, block)?;
                    if dir::parse_block(block, at, has_type, visit)? == Walk::Stop {
                        return Ok(());
                    }
                }
            }
            lblk += len;
        }
        Ok(())
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let inode = self.read_inode(node)?;
        self.expect_type(&inode, FileType::Symlink, ErrorKind::Corrupt("not a symbolic link"))?;
        if inode.size > MAX_LINK {
            return Err(Error::new(Layer::Fs, FORMAT, inode.offset + 0x4, ErrorKind::TooLong));
        }
        let ea_blocks = if inode.file_acl != 0 { (self.sb.block_size / 512) as u32 } else { 0 };
        if !inode.is_inline() && inode.size < 60 && inode.blocks_lo.saturating_sub(ea_blocks) == 0 {
            // Fast symlink: the target is stored in i_block.
            return Ok(inode.i_block_view().slice(0, inode.size as usize)?.to_vec());
        }
        let file = self.file(inode)?;
        let mut target = alloc::vec![0u8; inode.size as usize];
        file.read_at(0, &mut target)?;
        Ok(target)
    }

    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>> {
        let inode = self.read_inode(node)?;
        self.expect_type(&inode, FileType::Regular, ErrorKind::NotAFile)?;
        Ok(Box::new(self.file(inode)?))
    }

    fn warnings(&self) -> &[Error] {
        &self.warnings
    }
}

//! Filesystems: one trait for the layer boundary, path resolution written once on top of it,
//! and probing of what a volume holds.
//!
//! A filesystem hands out nodes (inode numbers for ext4), their metadata, streaming directory
//! listings (no listing is ever collected in memory by the core) and files as [`ReadAt`]s.

pub mod btrfs;
pub mod ext4;
pub mod fstab;
pub mod mount;
mod path;
mod probe;
pub mod xfs;

pub use path::{resolve, MAX_SYMLINKS};
pub use probe::{probe, FsProbe};

use crate::budget::Budget;
use crate::codec::Codecs;
use crate::error::Result;
use crate::io::ReadAt;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A node (inode) number.
pub type NodeId = u64;

/// The type of a filesystem node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// Regular file.
    Regular,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Named pipe.
    Fifo,
    /// Unix socket.
    Socket,
    /// Anything else.
    Unknown,
}

impl FileType {
    /// The type from the `S_IFMT` bits of a Unix mode.
    pub fn from_mode(mode: u16) -> Self {
        match mode & 0o170000 {
            0o100000 => FileType::Regular,
            0o040000 => FileType::Directory,
            0o120000 => FileType::Symlink,
            0o020000 => FileType::CharDevice,
            0o060000 => FileType::BlockDevice,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Socket,
            _ => FileType::Unknown,
        }
    }
}

/// What `stat` tells about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// The node.
    pub node: NodeId,
    /// Its type.
    pub file_type: FileType,
    /// Full Unix mode (type and permission bits).
    pub mode: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
    /// Hard link count.
    pub nlink: u32,
}

impl Metadata {
    /// The metadata of `node` from the Unix fields its inode stores (the type from the mode).
    pub fn unix(node: NodeId, mode: u16, uid: u32, gid: u32, size: u64, mtime: i64, nlink: u32) -> Self {
        Metadata { node, file_type: FileType::from_mode(mode), mode, uid, gid, size, mtime, nlink }
    }
}

/// One directory entry, borrowed from the directory block being read.
#[derive(Debug, Clone, Copy)]
pub struct DirEntry<'a> {
    /// Name bytes as stored (filesystems do not promise UTF-8).
    pub name: &'a [u8],
    /// The node it names.
    pub node: NodeId,
}

/// Whether a directory walk goes on after an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Go on to the next entry.
    Continue,
    /// Stop the walk.
    Stop,
}

/// A subvolume of a filesystem that has them (btrfs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subvolume {
    /// Subvolume id.
    pub id: u64,
    /// Path from the top level.
    pub path: String,
    /// Whether it is the default subvolume (the one a plain mount gives).
    pub default: bool,
}

/// The layer boundary between filesystems and everything that reads files.
pub trait FileSystem {
    /// Filesystem name (`ext2`, `ext3`, `ext4`, `xfs`).
    fn kind(&self) -> &'static str;

    /// The root directory.
    fn root(&self) -> NodeId;

    /// Metadata of `node`.
    fn metadata(&self, node: NodeId) -> Result<Metadata>;

    /// Calls `visit` for each entry of directory `dir`, including `.` and `..`, in on-disk
    /// order, until it returns [`Walk::Stop`].
    fn read_dir(&self, dir: NodeId, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()>;

    /// The target of symbolic link `node` (at most 4096 bytes).
    fn read_link(&self, node: NodeId) -> Result<Vec<u8>>;

    /// The contents of regular file `node` as random-access bytes.
    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>>;

    /// The subvolumes of the filesystem (none for filesystems without them).
    fn subvolumes(&self) -> Result<Vec<Subvolume>> {
        Ok(Vec::new())
    }

    /// Problems met opening the filesystem that did not stop it (a damaged superblock copy,
    /// checksums that cannot be verified).
    fn warnings(&self) -> &[crate::error::Error] {
        &[]
    }

    /// The entry `name` in directory `dir`, if any.
    fn lookup(&self, dir: NodeId, name: &[u8]) -> Result<Option<NodeId>> {
        let mut found = None;
        self.read_dir(dir, &mut |e| {
            if e.name == name {
                found = Some(e.node);
                return Ok(Walk::Stop);
            }
            Ok(Walk::Continue)
        })?;
        Ok(found)
    }
}

/// Opens the filesystem on `volume` if coldscan reads its kind; `Ok(None)` otherwise.
/// Compressed data is decoded with `codecs`.
pub fn open<'a, R: ReadAt + 'a>(
    volume: R,
    probe: &FsProbe,
    budget: &Budget,
    codecs: &Arc<dyn Codecs>,
) -> Result<Option<Box<dyn FileSystem + 'a>>> {
    Ok(match probe.kind {
        "ext2" | "ext3" | "ext4" => Some(Box::new(ext4::Ext4::open(volume, budget)?)),
        "xfs" => Some(Box::new(xfs::Xfs::open(volume, budget)?)),
        "btrfs" => Some(Box::new(btrfs::Btrfs::open_subvolume(
            volume,
            budget,
            btrfs::SubvolumeSelector::Default,
            Arc::clone(codecs),
        )?)),
        _ => None,
    })
}

/// Whether a filesystem of `kind` (as [`probe`] names it) may hold an operating system or its
/// packages: a volume of such a kind that coldscan cannot open leaves the scan incomplete.
pub fn may_hold_a_root(kind: &str) -> bool {
    matches!(kind, "crypto_LUKS" | "squashfs")
}

/// Opens subvolume `select` of the filesystem on `volume` as its root, for the kinds that have
/// subvolumes (btrfs); `Ok(None)` for the others.
pub fn open_subvolume<'a, R: ReadAt + 'a>(
    volume: R,
    probe: &FsProbe,
    budget: &Budget,
    select: btrfs::SubvolumeSelector<'_>,
    codecs: &Arc<dyn Codecs>,
) -> Result<Option<Box<dyn FileSystem + 'a>>> {
    Ok(match probe.kind {
        "btrfs" => Some(Box::new(btrfs::Btrfs::open_subvolume(volume, budget, select, Arc::clone(codecs))?)),
        _ => None,
    })
}

/// Reads a whole small file, refusing one larger than `max` bytes; the buffer is charged to
/// `budget` for as long as the caller keeps it.
pub fn read_small_file(
    fs: &dyn FileSystem,
    node: NodeId,
    max: usize,
    budget: &Budget,
) -> Result<crate::budget::FixedVec<u8>> {
    let file = fs.open_file(node)?;
    let size = file.size();
    if size > max as u64 {
        return Err(crate::error::Error::new(crate::error::Layer::Fs, fs.kind(), 0, crate::error::ErrorKind::TooLong));
    }
    let mut buf = budget.zeroed(crate::error::Layer::Fs, fs.kind(), 0, size as usize)?;
    file.read_at(0, &mut buf)?;
    Ok(buf)
}

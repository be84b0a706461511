//! A root assembled from several filesystems: the root volume with others mounted on its
//! directories (as its fstab says), seen as one [`FileSystem`] — so OS detection, package
//! databases and `ls`/`cat` find `/var/lib/rpm` on a `/var` volume as on the booted system.
//!
//! Node ids carry the mount they belong to in their top [`MOUNT_BITS`] bits. A directory that
//! has a filesystem mounted on it is replaced by that filesystem's root wherever it appears
//! (in listings and lookups), and `..` of a mounted root leads back to the directory holding
//! the mount point.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::{DirEntry, FileSystem, Metadata, NodeId, Walk};
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::ReadAt;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Bits of a node id that name the mount.
const MOUNT_BITS: u32 = 8;
const NODE_BITS: u32 = 64 - MOUNT_BITS;
/// Most filesystems in one assembled root.
pub const MAX_MOUNTS: usize = 1 << MOUNT_BITS;

struct Mount<'a> {
    fs: Box<dyn FileSystem + 'a>,
    /// Where it is mounted: (parent mount, the covered directory's node in the parent, the
    /// assembled node of that directory's parent). `None` for the root filesystem.
    on: Option<(usize, NodeId, NodeId)>,
}

/// Filesystems mounted on each other's directories, seen as one.
pub struct MountedFs<'a> {
    mounts: Vec<Mount<'a>>,
}

impl core::fmt::Debug for MountedFs<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "MountedFs({} filesystems)", self.mounts.len())
    }
}

fn too_many() -> Error {
    Error::new(Layer::Fs, "mount", 0, ErrorKind::Unsupported("node number too large to combine with a mount"))
}

impl<'a> MountedFs<'a> {
    /// A view of `root` alone.
    pub fn new(root: Box<dyn FileSystem + 'a>) -> Self {
        MountedFs { mounts: alloc::vec![Mount { fs: root, on: None }] }
    }

    /// The root filesystem back, when nothing was mounted on it.
    pub fn into_root(mut self) -> Box<dyn FileSystem + 'a> {
        self.mounts.swap_remove(0).fs
    }

    /// Number of filesystems in the view.
    pub fn len(&self) -> usize {
        self.mounts.len()
    }

    /// Whether the view holds only the root (it never is empty).
    pub fn is_empty(&self) -> bool {
        false
    }

    fn encode(mount: usize, node: NodeId) -> Result<NodeId> {
        if node >> NODE_BITS != 0 {
            return Err(too_many());
        }
        Ok(((mount as u64) << NODE_BITS) | node)
    }

    fn decode(&self, node: NodeId) -> Result<(&Mount<'a>, usize, NodeId)> {
        let index = (node >> NODE_BITS) as usize;
        let mount = self.mounts.get(index).ok_or(Error::new(Layer::Fs, "mount", 0, ErrorKind::NotFound))?;
        Ok((mount, index, node & ((1 << NODE_BITS) - 1)))
    }

    /// The assembled node for `inner` of mount `index`: the root of a filesystem mounted on it,
    /// if any (the most recent mount wins, as on Linux), else itself.
    fn visible(&self, index: usize, inner: NodeId) -> Result<NodeId> {
        let covering = self
            .mounts
            .iter()
            .enumerate()
            .rev()
            .find(|(_, m)| matches!(m.on, Some((p, n, _)) if p == index && n == inner));
        match covering {
            Some((child, m)) => {
                // A mount may itself be covered by a later one on its root.
                let root = m.fs.root();
                if self.mounts.iter().any(|o| matches!(o.on, Some((p, n, _)) if p == child && n == root)) {
                    self.visible(child, root)
                } else {
                    Self::encode(child, root)
                }
            }
            None => Self::encode(index, inner),
        }
    }

    /// Mounts `fs` on directory `dir` (an assembled node, from resolving the mount point).
    pub fn mount(&mut self, dir: NodeId, fs: Box<dyn FileSystem + 'a>) -> Result<()> {
        if self.mounts.len() >= MAX_MOUNTS {
            return Err(Error::new(Layer::Fs, "mount", 0, ErrorKind::TooLong));
        }
        if self.metadata(dir)?.file_type != super::FileType::Directory {
            return Err(Error::new(Layer::Fs, "mount", 0, ErrorKind::NotADirectory));
        }
        let parent = self.lookup(dir, b"..")?.unwrap_or(dir);
        let (_, index, inner) = self.decode(dir)?;
        self.mounts.push(Mount { fs, on: Some((index, inner, parent)) });
        Ok(())
    }
}

impl FileSystem for MountedFs<'_> {
    fn kind(&self) -> &'static str {
        self.mounts.first().map_or("mount", |m| m.fs.kind())
    }

    fn root(&self) -> NodeId {
        self.mounts.first().and_then(|m| self.visible(0, m.fs.root()).ok()).unwrap_or(0)
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        let (mount, _, inner) = self.decode(node)?;
        Ok(Metadata { node, ..mount.fs.metadata(inner)? })
    }

    fn read_dir(&self, dir: NodeId, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()> {
        let (mount, index, inner) = self.decode(dir)?;
        let parent_of_root = match mount.on {
            Some((_, _, parent)) if inner == mount.fs.root() => Some(parent),
            _ => None,
        };
        let mut failed = None;
        mount.fs.read_dir(inner, &mut |e| {
            let node = match (e.name, parent_of_root) {
                (b"..", Some(parent)) => Ok(parent),
                _ => self.visible(index, e.node),
            };
            match node {
                Ok(node) => visit(DirEntry { name: e.name, node }),
                Err(err) => {
                    failed = Some(err);
                    Ok(Walk::Stop)
                }
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let (mount, _, inner) = self.decode(node)?;
        mount.fs.read_link(inner)
    }

    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>> {
        let (mount, _, inner) = self.decode(node)?;
        mount.fs.open_file(inner)
    }
}

//! A directory on the host (a mounted or extracted root, like `trivy rootfs`) seen through
//! the core's [`FileSystem`] trait, so that OS detection and package discovery run the same
//! code as on images. Symbolic links are resolved by the core, inside this root: an absolute
//! link never escapes to the host's own files.

use crate::source::FileSource;
use coldscan_core::fs::{DirEntry, FileSystem, FileType, Metadata, NodeId, Walk};
use coldscan_core::{Error, ErrorKind, Layer, ReadAt, Result};
use std::cell::RefCell;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A host directory tree; node ids index the paths met so far.
#[derive(Debug)]
pub struct HostDir {
    nodes: RefCell<Vec<PathBuf>>,
}

fn io_error(e: &std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Io { code: e.raw_os_error().unwrap_or(0) },
    };
    Error::new(Layer::Fs, "host", 0, kind)
}

impl HostDir {
    /// The tree under `root`.
    pub fn new(root: &Path) -> Self {
        HostDir { nodes: RefCell::new(vec![root.to_path_buf()]) }
    }

    fn path(&self, node: NodeId) -> Result<PathBuf> {
        self.nodes.borrow().get(node as usize).cloned().ok_or(Error::new(Layer::Fs, "host", node, ErrorKind::NotFound))
    }

    fn node(&self, path: PathBuf) -> NodeId {
        let mut nodes = self.nodes.borrow_mut();
        if let Some(i) = nodes.iter().position(|p| *p == path) {
            return i as NodeId;
        }
        nodes.push(path);
        (nodes.len() - 1) as NodeId
    }
}

impl FileSystem for HostDir {
    fn kind(&self) -> &'static str {
        "host"
    }

    fn root(&self) -> NodeId {
        0
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(self.path(node)?).map_err(|e| io_error(&e))?;
        Ok(Metadata {
            node,
            file_type: FileType::from_mode(m.mode() as u16),
            mode: m.mode() as u16,
            uid: m.uid(),
            gid: m.gid(),
            size: m.size(),
            mtime: m.mtime(),
            nlink: m.nlink() as u32,
        })
    }

    fn read_dir(&self, dir: NodeId, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()> {
        let path = self.path(dir)?;
        let parent = if dir == 0 { path.clone() } else { path.parent().map_or(path.clone(), Path::to_path_buf) };
        for (name, target) in [(".", path.clone()), ("..", parent)] {
            if visit(DirEntry { name: name.as_bytes(), node: self.node(target) })? == Walk::Stop {
                return Ok(());
            }
        }
        for entry in std::fs::read_dir(&path).map_err(|e| io_error(&e))? {
            let entry = entry.map_err(|e| io_error(&e))?;
            let node = self.node(entry.path());
            if visit(DirEntry { name: entry.file_name().as_bytes(), node })? == Walk::Stop {
                break;
            }
        }
        Ok(())
    }

    fn lookup(&self, dir: NodeId, name: &[u8]) -> Result<Option<NodeId>> {
        let path = self.path(dir)?;
        let child = match name {
            b"." => path,
            // The root's parent is the root: `..` never leaves the tree.
            b".." if dir == 0 => path,
            b".." => path.parent().map_or(path.clone(), Path::to_path_buf),
            _ => path.join(OsStr::from_bytes(name)),
        };
        match std::fs::symlink_metadata(&child) {
            Ok(_) => Ok(Some(self.node(child))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&e)),
        }
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let target = std::fs::read_link(self.path(node)?).map_err(|e| io_error(&e))?;
        Ok(target.as_os_str().as_bytes().to_vec())
    }

    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>> {
        let source = FileSource::open(&self.path(node)?).map_err(|e| io_error(&e))?;
        Ok(Box::new(source))
    }
}

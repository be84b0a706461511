//! A directory on the host (a mounted or extracted root, like `trivy rootfs`) seen through
//! the core's [`FileSystem`] trait, so that OS detection and package discovery run the same
//! code as on images. Symbolic links are resolved by the core, inside this root: an absolute
//! link never escapes to the host's own files.

use crate::source::FileSource;
use coldscan_core::fs::{DirEntry, FileSystem, FileType, Metadata, NodeId, Walk};
use coldscan_core::{Error, ErrorKind, Layer, ReadAt, Result};
use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// A file name's bytes (on Windows, its UTF-8 form: names there are UTF-16).
fn name_bytes(name: &OsStr) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        Cow::Borrowed(std::os::unix::ffi::OsStrExt::as_bytes(name))
    }
    #[cfg(not(unix))]
    {
        Cow::Owned(name.to_string_lossy().into_owned().into_bytes())
    }
}

/// A file name from its bytes.
fn name_from_bytes(bytes: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        <OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes).to_os_string()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Unix metadata of a host file; on Windows, a mode made from its type and read-only flag.
fn unix_fields(m: &std::fs::Metadata) -> (u16, u32, u32, i64, u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (m.mode() as u16, m.uid(), m.gid(), m.mtime(), m.nlink() as u32)
    }
    #[cfg(not(unix))]
    {
        let mode = if m.is_dir() {
            0o040755
        } else if m.file_type().is_symlink() {
            0o120777
        } else if m.permissions().readonly() {
            0o100444
        } else {
            0o100644
        };
        let mtime = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        (mode, 0, 0, mtime, 1)
    }
}

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
        let m = std::fs::symlink_metadata(self.path(node)?).map_err(|e| io_error(&e))?;
        let (mode, uid, gid, mtime, nlink) = unix_fields(&m);
        Ok(Metadata { node, file_type: FileType::from_mode(mode), mode, uid, gid, size: m.len(), mtime, nlink })
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
            let name = entry.file_name();
            if visit(DirEntry { name: &name_bytes(&name), node })? == Walk::Stop {
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
            _ => path.join(name_from_bytes(name)),
        };
        match std::fs::symlink_metadata(&child) {
            Ok(_) => Ok(Some(self.node(child))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&e)),
        }
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let target = std::fs::read_link(self.path(node)?).map_err(|e| io_error(&e))?;
        Ok(name_bytes(target.as_os_str()).into_owned())
    }

    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>> {
        let source = FileSource::open(&self.path(node)?).map_err(|e| io_error(&e))?;
        Ok(Box::new(source))
    }
}

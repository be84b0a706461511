//! Path resolution over any [`FileSystem`], symlinks included.
//!
//! Absolute link targets restart at the filesystem's root (the image's root, never the host's);
//! `..` is looked up like any name, so the root's `..` stays at the root. The number of links
//! followed is bounded like Linux's `MAXSYMLINKS`, and the expanded path by [`MAX_PATH`].

use super::{FileSystem, FileType, NodeId};
use crate::error::{Error, ErrorKind, Layer, Result};
use alloc::vec::Vec;

/// Most symbolic links followed while resolving one path (Linux: 40).
pub const MAX_SYMLINKS: usize = 40;
/// Longest path, after link expansion, that is resolved.
pub const MAX_PATH: usize = 16 * 1024;

/// Resolves `path` (absolute or relative to the root) to a node. With `follow_last`, a
/// symbolic link in the last component is followed too (`stat`); without, it is returned
/// itself (`lstat`).
pub fn resolve(fs: &dyn FileSystem, path: &[u8], follow_last: bool) -> Result<NodeId> {
    let err = |kind| Error::new(Layer::Fs, fs.kind(), 0, kind);
    if path.len() > MAX_PATH {
        return Err(err(ErrorKind::TooLong));
    }
    // The part of the path still to walk; a followed link is spliced in front of it.
    let mut rest: Vec<u8> = path.to_vec();
    let mut pos = 0usize;
    let mut dir = fs.root();
    let mut links = 0usize;
    while let Some((name, next)) = next_component(&rest, pos) {
        if fs.metadata(dir)?.file_type != FileType::Directory {
            return Err(err(ErrorKind::NotADirectory));
        }
        let name = rest.get(name).ok_or_else(|| err(ErrorKind::NotFound))?;
        let node = fs.lookup(dir, name)?.ok_or_else(|| err(ErrorKind::NotFound))?;
        let last = next_component(&rest, next).is_none();
        if (!last || follow_last) && fs.metadata(node)?.file_type == FileType::Symlink {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(err(ErrorKind::SymlinkLoop));
            }
            let mut target = fs.read_link(node)?;
            if target.len() + 1 + rest.len() - next > MAX_PATH {
                return Err(err(ErrorKind::TooLong));
            }
            if target.first() == Some(&b'/') {
                dir = fs.root();
            }
            target.push(b'/');
            target.extend_from_slice(rest.get(next..).unwrap_or_default());
            rest = target;
            pos = 0;
            continue;
        }
        dir = node;
        pos = next;
    }
    Ok(dir)
}

/// The byte range of the next component at or after `pos` (skipping empty and `.`
/// components) and the position after it.
fn next_component(path: &[u8], mut pos: usize) -> Option<(core::ops::Range<usize>, usize)> {
    while pos < path.len() {
        let tail = path.get(pos..)?;
        let end = tail.iter().position(|&b| b == b'/').map_or(path.len(), |i| pos + i);
        let c = path.get(pos..end)?;
        if !c.is_empty() && c != b"." {
            return Some((pos..end, end));
        }
        pos = end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::next_component;

    #[test]
    fn components_skip_empty_and_dot() {
        let p = b"//a/./bc/";
        let (r, n) = next_component(p, 0).unwrap();
        assert_eq!(&p[r], b"a");
        let (r, n) = next_component(p, n).unwrap();
        assert_eq!(&p[r], b"bc");
        assert!(next_component(p, n).is_none());
    }
}

//! `coldscan ls IMAGE [PATH]`: list a directory inside the image like `ls -l`.

use super::Format;
use coldscan_core::fs::{resolve, FileSystem, FileType, Metadata, NodeId, Walk};
use coldscan_host::inspect::with_root;
use coldscan_host::{HostError, ImageArgs};
use serde::Serialize;
use std::io::Write;

/// One listed entry (the JSON form of `ls --format json`).
#[derive(Debug, Serialize)]
pub struct Entry {
    /// Name in the directory.
    pub name: String,
    /// Inode number.
    pub inode: NodeId,
    /// `file`, `dir`, `symlink`, `char`, `block`, `fifo`, `socket`, `unknown`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Full Unix mode, as a number (print in octal to read it).
    pub mode: u16,
    /// Hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Target of a symbolic link.
    pub target: Option<String>,
}

fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::Regular => "file",
        FileType::Directory => "dir",
        FileType::Symlink => "symlink",
        FileType::CharDevice => "char",
        FileType::BlockDevice => "block",
        FileType::Fifo => "fifo",
        FileType::Socket => "socket",
        FileType::Unknown => "unknown",
    }
}

fn entry(fs: &dyn FileSystem, name: &[u8], m: Metadata) -> Result<Entry, HostError> {
    let target = if m.file_type == FileType::Symlink {
        Some(String::from_utf8_lossy(&fs.read_link(m.node)?).into_owned())
    } else {
        None
    };
    Ok(Entry {
        name: String::from_utf8_lossy(name).into_owned(),
        inode: m.node,
        kind: kind_name(m.file_type),
        mode: m.mode,
        nlink: m.nlink,
        uid: m.uid,
        gid: m.gid,
        size: m.size,
        mtime: m.mtime,
        target,
    })
}

/// `ls -l`-style permission string.
pub fn mode_string(mode: u16) -> String {
    let kind = match FileType::from_mode(mode) {
        FileType::Directory => 'd',
        FileType::Symlink => 'l',
        FileType::CharDevice => 'c',
        FileType::BlockDevice => 'b',
        FileType::Fifo => 'p',
        FileType::Socket => 's',
        _ => '-',
    };
    let mut s = String::from(kind);
    for (shift, special, lower, upper) in [(6, 0o4000, 's', 'S'), (3, 0o2000, 's', 'S'), (0, 0o1000, 't', 'T')] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => lower,
            (false, true) => upper,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// Runs `ls`: lists `path` (a directory's entries, or the entry itself) on volume `volume`
/// (default: the root with an OS).
pub fn run(
    args: &ImageArgs,
    path: &str,
    volume: Option<&str>,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), HostError> {
    with_root(args, volume, |fs, note| {
        if let Some(note) = note {
            eprintln!("coldscan: note: {note}");
        }
        list(fs, path, format, out)
    })
}

/// Lists `path` of `fs` in `format`.
fn list(fs: &dyn FileSystem, path: &str, format: Format, out: &mut dyn Write) -> Result<(), HostError> {
    // Like `ls -l`, a symbolic link named on the command line is listed itself.
    let node = resolve(fs, path.as_bytes(), false)?;
    let meta = fs.metadata(node)?;
    let emit = |e: Entry, out: &mut dyn Write| -> Result<(), HostError> {
        match format {
            Format::Json => {
                serde_json::to_writer(&mut *out, &e).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            Format::Table => {
                let when = chrono::DateTime::from_timestamp(e.mtime, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| e.mtime.to_string());
                let link = e.target.as_deref().map(|t| format!(" -> {t}")).unwrap_or_default();
                writeln!(
                    out,
                    "{} {:>3} {:>5} {:>5} {:>12} {} {}{}",
                    mode_string(e.mode),
                    e.nlink,
                    e.uid,
                    e.gid,
                    e.size,
                    when,
                    e.name,
                    link
                )?;
            }
        }
        Ok(())
    };
    if meta.file_type != FileType::Directory {
        let name = path.rsplit('/').find(|c| !c.is_empty()).unwrap_or(path);
        return emit(entry(fs, name.as_bytes(), meta)?, out);
    }
    // Entries are printed as the directory streams past: nothing is collected in memory.
    let mut failure = None;
    fs.read_dir(node, &mut |d| {
        let result =
            fs.metadata(d.node).map_err(HostError::from).and_then(|m| entry(fs, d.name, m)).and_then(|e| emit(e, out));
        match result {
            Ok(()) => Ok(Walk::Continue),
            Err(e) => {
                failure = Some(e);
                Ok(Walk::Stop)
            }
        }
    })?;
    failure.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::mode_string;

    #[test]
    fn modes_like_ls() {
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o041777), "drwxrwxrwt");
        assert_eq!(mode_string(0o120777), "lrwxrwxrwx");
    }
}

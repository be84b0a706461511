//! `coldscan cat IMAGE PATH`: copy a file out of the image through a fixed-size buffer.

use coldscan_core::fs::{resolve, FileSystem};
use coldscan_host::inspect::with_root;
use coldscan_host::{HostError, ImageArgs};
use std::io::Write;

/// Size of the copy buffer: the only memory `cat` needs, whatever the file's size.
const CHUNK: usize = 1 << 20;

/// Runs `cat`: writes the contents of `path` on volume `volume` (default: the root with an
/// OS) to `out`.
pub fn run(args: &ImageArgs, path: &str, volume: Option<&str>, out: &mut dyn Write) -> Result<(), HostError> {
    with_root(args, volume, |fs, note| {
        if let Some(note) = note {
            eprintln!("coldscan: note: {note}");
        }
        copy_out(fs, path, out)
    })
}

/// Copies the file at `path` of `fs` to `out`.
fn copy_out(fs: &dyn FileSystem, path: &str, out: &mut dyn Write) -> Result<(), HostError> {
    let node = resolve(fs, path.as_bytes(), true)?;
    let file = fs.open_file(node)?;
    let mut buf = vec![0u8; CHUNK];
    let mut pos = 0u64;
    while pos < file.size() {
        let n = (file.size() - pos).min(CHUNK as u64) as usize;
        let piece = buf.get_mut(..n).unwrap_or_default();
        file.read_at(pos, piece)?;
        out.write_all(piece)?;
        pos += n as u64;
    }
    out.flush()?;
    Ok(())
}

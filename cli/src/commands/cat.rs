//! `coldscan cat IMAGE PATH`: copy a file out of the image through a fixed-size buffer.

use super::{open_root, CommandError, ImageArgs};
use coldscan_core::fs::resolve;
use coldscan_core::inspect::Disk;
use std::io::Write;

/// Size of the copy buffer: the only memory `cat` needs, whatever the file's size.
const CHUNK: usize = 1 << 20;

/// Runs `cat`: writes the contents of `path` on volume `volume` (default: the root with an
/// OS) to `out`.
pub fn run(args: &ImageArgs, path: &str, volume: Option<&str>, out: &mut dyn Write) -> Result<(), CommandError> {
    let img = args.open()?;
    let disk = Disk::open(&img.source, &img.opener, &img.budget)?;
    let (_, fs) = open_root(&disk, volume)?;
    let node = resolve(fs.as_ref(), path.as_bytes(), true)?;
    let file = fs.open_file(node)?;
    let mut buf = vec![0u8; CHUNK];
    let mut pos = 0u64;
    while pos < file.size() {
        let n = (file.size() - pos).min(CHUNK as u64) as usize;
        file.read_at(pos, &mut buf[..n])?;
        out.write_all(&buf[..n])?;
        pos += n as u64;
    }
    out.flush()?;
    Ok(())
}

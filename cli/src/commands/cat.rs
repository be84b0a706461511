//! `coldscan cat IMAGE PATH`: copy a file out of the image through a fixed-size buffer.

use coldscan_core::fs::resolve;
use coldscan_core::inspect::Disk;
use coldscan_core::progress::NoProgress;
use coldscan_host::inspect::open_root;
use coldscan_host::{HostError, ImageArgs};
use std::io::Write;

/// Size of the copy buffer: the only memory `cat` needs, whatever the file's size.
const CHUNK: usize = 1 << 20;

/// Runs `cat`: writes the contents of `path` on volume `volume` (default: the root with an
/// OS) to `out`.
pub fn run(args: &ImageArgs, path: &str, volume: Option<&str>, out: &mut dyn Write) -> Result<(), HostError> {
    let img = args.open(&NoProgress)?;
    let disk = Disk::open(&img.source, &img.opener, &img.budget)?;
    let (fs, note) = open_root(&disk, volume)?;
    if let Some(note) = note {
        eprintln!("coldscan: note: {note}");
    }
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

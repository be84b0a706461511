//! Tar archives holding a disk (OVA appliances, Vagrant boxes after gunzip): the first member
//! that is a disk image is read in place — a tar member's data is contiguous, so it is itself
//! random access. ustar, GNU long names ('L') and pax headers are understood.

use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt, ReadAtExt};
use alloc::string::String;

const FORMAT: &str = "tar";
const BLOCK: u64 = 512;
/// Most archive members looked at.
const MAX_MEMBERS: usize = 10_000;
const DISK_SUFFIXES: [&str; 8] = [".vmdk", ".vhd", ".vhdx", ".qcow2", ".vdi", ".img", ".raw", ".qcow"];

fn octal(field: &[u8]) -> Option<u64> {
    let s = core::str::from_utf8(field).ok()?.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Finds the first disk-image member: (name, data offset, size).
pub(crate) fn find_disk(archive: &dyn ReadAt) -> Result<(String, u64, u64)> {
    let mut pos = 0u64;
    let mut long_name: Option<String> = None;
    for _ in 0..MAX_MEMBERS {
        if !fits(pos, BLOCK, archive.size()) {
            break;
        }
        let h: [u8; 512] = archive.read_array(pos)?;
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let size = octal(&h[124..136]).ok_or(Error::new(
            Layer::Image,
            FORMAT,
            pos + 124,
            ErrorKind::Corrupt("member size"),
        ))?;
        let data = pos + BLOCK;
        let mut name = long_name.take().unwrap_or_else(|| {
            let prefix = if &h[257..262] == b"ustar" { text(&h[345..500]) } else { String::new() };
            let base = text(&h[0..100]);
            if prefix.is_empty() {
                base
            } else {
                alloc::format!("{prefix}/{base}")
            }
        });
        match h[156] {
            b'L' if size <= 4096 && fits(data, size, archive.size()) => {
                let mut buf = [0u8; 4096];
                archive.read_at(data, &mut buf[..size as usize])?;
                long_name = Some(text(&buf[..size as usize]));
            }
            b'0' | 0 => {
                name.make_ascii_lowercase();
                if DISK_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                    if !fits(data, size, archive.size()) {
                        return Err(Error::new(
                            Layer::Image,
                            FORMAT,
                            pos,
                            ErrorKind::Corrupt("disk member runs past the end of the archive"),
                        ));
                    }
                    return Ok((name, data, size));
                }
            }
            _ => {}
        }
        pos = data + size.div_ceil(BLOCK) * BLOCK;
    }
    Err(Error::new(Layer::Image, FORMAT, 0, ErrorKind::Unsupported("no disk image in this tar archive")))
}

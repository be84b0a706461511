//! Tar archives holding a disk (OVA appliances, Vagrant boxes after gunzip): the first member
//! that is a disk image is read in place — a tar member's data is contiguous, so it is itself
//! random access. ustar, GNU long names ('L') and pax headers are understood.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt, ReadAtExt};

const FORMAT: &str = "tar";
const BLOCK: u64 = 512;
/// Most archive members looked at.
const MAX_MEMBERS: usize = 10_000;
/// Longest member name kept (a GNU long name may be this long; ustar names are at most 256).
const MAX_NAME: usize = 4096;
const DISK_SUFFIXES: [&str; 8] = [".vmdk", ".vhd", ".vhdx", ".qcow2", ".vdi", ".img", ".raw", ".qcow"];

/// A member's name, in a buffer of fixed size.
pub(crate) type MemberName = heapless::String<MAX_NAME>;

fn octal(field: &[u8]) -> Option<u64> {
    let s = core::str::from_utf8(field).ok()?.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// A NUL-terminated text field appended to `name` (invalid UTF-8 replaced; `false` when the
/// name would not fit).
fn push_text(name: &mut MemberName, field: &[u8]) -> bool {
    let until_nul = field.split(|&b| b == 0).next().unwrap_or(field);
    let text = alloc::string::String::from_utf8_lossy(until_nul);
    name.push_str(&text).is_ok()
}

/// Finds the first disk-image member: (name, data offset, size).
pub(crate) fn find_disk(archive: &dyn ReadAt) -> Result<(MemberName, u64, u64)> {
    let mut pos = 0u64;
    let mut long_name: Option<MemberName> = None;
    for _ in 0..MAX_MEMBERS {
        if !fits(pos, BLOCK, archive.size()) {
            break;
        }
        let raw: [u8; 512] = archive.read_array(pos)?;
        if raw.iter().all(|&b| b == 0) {
            break;
        }
        let h = Bytes::new(&raw, pos, Layer::Image, FORMAT);
        let size = octal(h.slice(124, 12)?).ok_or(h.corrupt(124, "member size"))?;
        // `pos` fits a block inside the archive (checked above), so this cannot wrap.
        let Some(data) = pos.checked_add(BLOCK) else { break };
        let mut name = match long_name.take() {
            Some(long) => long,
            None => {
                let mut name = MemberName::new();
                if h.slice(257, 5)? == b"ustar" && h.u8(345)? != 0 {
                    push_text(&mut name, h.slice(345, 155)?);
                    let _ = name.push('/');
                }
                push_text(&mut name, h.slice(0, 100)?);
                name
            }
        };
        match h.u8(156)? {
            b'L' if size <= MAX_NAME as u64 && fits(data, size, archive.size()) => {
                let mut buf = [0u8; MAX_NAME];
                let buf = buf.get_mut(..size as usize).ok_or(h.corrupt(124, "member size"))?;
                archive.read_at(data, buf)?;
                let mut long = MemberName::new();
                long_name = push_text(&mut long, buf).then_some(long);
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
        // The next header follows the data, padded to a block (a size near 2^64 ends the walk).
        match size.div_ceil(BLOCK).checked_mul(BLOCK).and_then(|padded| data.checked_add(padded)) {
            Some(next) => pos = next,
            None => break,
        }
    }
    Err(Error::new(Layer::Image, FORMAT, 0, ErrorKind::Unsupported("no disk image in this tar archive")))
}

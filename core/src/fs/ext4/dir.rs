//! ext directory entries (`struct ext4_dir_entry_2`), parsed from one block at a time.
//!
//! htree directories need no special case for listing: their index blocks are disguised as
//! an empty entry spanning the block, and the metadata_csum tail is an entry with inode 0.

use super::FORMAT;
use crate::bytes::Bytes;
use crate::error::{Layer, Result};
use crate::fs::{DirEntry, Walk};
use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, u8 as byte};
use nom::IResult;

/// Size of an entry's fixed part: inode, rec_len, name_len (and file type).
const ENTRY_HEADER: usize = 8;

/// An entry's fixed part: (inode, record length, name length). Without the filetype feature
/// the name length is 16 bits; with it, 8 bits and a file type byte.
fn entry_header(input: &[u8], has_file_type: bool) -> IResult<&[u8], (u32, usize, usize)> {
    let (input, inode) = le_u32(input)?;
    let (input, rec_len) = le_u16(input)?;
    let (input, name_len) = if has_file_type {
        let (input, name_len) = byte(input)?;
        let (input, _file_type) = byte(input)?;
        (input, usize::from(name_len))
    } else {
        let (input, name_len) = le_u16(input)?;
        (input, usize::from(name_len))
    };
    Ok((input, (inode, usize::from(rec_len), name_len)))
}

/// Parses the entries in `block` (found at volume offset `at`, for error messages), calling
/// `visit` for each in-use entry.
pub(super) fn parse_block(
    block: &[u8],
    at: u64,
    has_file_type: bool,
    visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>,
) -> Result<Walk> {
    let view = Bytes::new(block, at, Layer::Fs, FORMAT);
    let mut rest = block;
    while rest.len() >= ENTRY_HEADER {
        let pos = block.len() - rest.len();
        let (body, (inode, mut rec_len, name_len)) =
            entry_header(rest, has_file_type).map_err(|_| view.nom_error(rest, "directory entry"))?;
        if rec_len == 0 && block.len() == 65536 && pos == 0 {
            // 64 KiB blocks store a whole-block record length as 0 (ext4_rec_len_from_disk).
            rec_len = 65536;
        }
        if rec_len < ENTRY_HEADER || rec_len % 4 != 0 || rec_len > rest.len() {
            return Err(view.corrupt(pos + 4, "directory entry rec_len"));
        }
        if ENTRY_HEADER + name_len > rec_len {
            return Err(view.corrupt(pos + 6, "directory entry name_len"));
        }
        let (_, name) = take::<_, _, nom::error::Error<&[u8]>>(name_len)(body)
            .map_err(|_| view.corrupt(pos + 6, "directory entry name_len"))?;
        if inode != 0 && name_len > 0 && visit(DirEntry { name, node: u64::from(inode) })? == Walk::Stop {
            return Ok(Walk::Stop);
        }
        let (next, _) = take::<_, _, nom::error::Error<&[u8]>>(rec_len)(rest)
            .map_err(|_| view.corrupt(pos + 4, "directory entry rec_len"))?;
        rest = next;
    }
    Ok(Walk::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn entry(inode: u32, rec_len: u16, name: &[u8]) -> alloc::vec::Vec<u8> {
        let mut e = alloc::vec![0u8; usize::from(rec_len).max(8 + name.len())];
        e[0..4].copy_from_slice(&inode.to_le_bytes());
        e[4..6].copy_from_slice(&rec_len.to_le_bytes());
        e[6] = name.len() as u8;
        e[7] = 1;
        e[8..8 + name.len()].copy_from_slice(name);
        e
    }

    #[test]
    fn lists_entries_and_skips_unused() {
        let mut block = entry(12, 12, b"a");
        block.extend(entry(0, 12, b"gone"));
        block.extend(entry(13, 40, b"hello"));
        let mut names = alloc::vec::Vec::new();
        parse_block(&block, 0, true, &mut |e| {
            names.push((e.name.to_vec(), e.node));
            Ok(Walk::Continue)
        })
        .unwrap();
        assert_eq!(names, [(b"a".to_vec(), 12), (b"hello".to_vec(), 13)]);
    }

    #[test]
    fn zero_rec_len_is_an_error_not_a_hang() {
        let mut block = entry(12, 12, b"a");
        block.extend(entry(13, 0, b"b"));
        block.resize(64, 0);
        let err = parse_block(&block, 4096, true, &mut |_| Ok(Walk::Continue)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Corrupt("directory entry rec_len"));
        assert_eq!(err.offset, 4096 + 12 + 4);
    }
}

//! ext directory entries (`struct ext4_dir_entry_2`), parsed from one block at a time.
//!
//! htree directories need no special case for listing: their index blocks are disguised as
//! an empty entry spanning the block, and the metadata_csum tail is an entry with inode 0.

use super::FORMAT;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::{DirEntry, Walk};
use crate::io::le;

/// Parses the entries in `block` (found at volume offset `at`, for error messages), calling
/// `visit` for each in-use entry.
pub(super) fn parse_block(
    block: &[u8],
    at: u64,
    has_file_type: bool,
    visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>,
) -> Result<Walk> {
    let mut pos = 0usize;
    while pos + 8 <= block.len() {
        let here = at + pos as u64;
        let inode = le::u32(block, pos);
        let mut rec_len = usize::from(le::u16(block, pos + 4));
        if rec_len == 0 && block.len() == 65536 && pos == 0 {
            // 64 KiB blocks store a whole-block record length as 0 (ext4_rec_len_from_disk).
            rec_len = 65536;
        }
        let name_len = if has_file_type { usize::from(block[pos + 6]) } else { usize::from(le::u16(block, pos + 6)) };
        if rec_len < 8 || rec_len % 4 != 0 || pos + rec_len > block.len() {
            return Err(Error::new(Layer::Fs, FORMAT, here + 4, ErrorKind::Corrupt("directory entry rec_len")));
        }
        if 8 + name_len > rec_len {
            return Err(Error::new(Layer::Fs, FORMAT, here + 6, ErrorKind::Corrupt("directory entry name_len")));
        }
        if inode != 0 && name_len > 0 {
            let name = &block[pos + 8..pos + 8 + name_len];
            if visit(DirEntry { name, node: u64::from(inode) })? == Walk::Stop {
                return Ok(Walk::Stop);
            }
        }
        pos += rec_len;
    }
    Ok(Walk::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;

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

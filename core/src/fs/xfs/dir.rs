//! XFS version 2 directories.
//!
//! - **Shortform**: the entries live in the inode's data fork (`xfs_dir2_sf_hdr` then packed
//!   entries; `.` is implicit and `..` is the header's parent number).
//! - **Block, leaf, node and btree** forms all keep their entries in *data blocks* in the first
//!   32 GiB of the directory's address space; the hash index (leaf/node blocks) sits above that
//!   and is not needed to list a directory. A block-form directory's single block ends with its
//!   leaf entries and a tail, which bound the data area. Each data block is parsed here with nom
//!   `complete` combinators: an entry that does not fit is an error, never a slice panic.
//!
//! Reference: "XFS Algorithms & Data Structures", chapter "Directories".

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::superblock::Superblock;
use crate::bytes::Bytes;
use crate::error::Result;
use crate::fs::{DirEntry, Walk};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u64, u8 as byte};
use nom::{IResult, Parser};

/// Byte offset in a directory's address space where the hash index starts; data blocks lie below.
pub(super) const LEAF_OFFSET: u64 = 32 << 30;
/// Marks an unused region in a data block.
const FREE_TAG: u16 = 0xFFFF;

type Parsed<'a, T> = IResult<&'a [u8], T>;
/// A directory entry as parsed: name bytes and inode number.
type Named<'a> = (&'a [u8], u64);

/// One shortform entry: name and inode number.
fn shortform_entry(ftype: bool, wide: bool) -> impl Fn(&[u8]) -> Parsed<'_, Named<'_>> {
    move |input| {
        let (input, len) = byte(input)?;
        let (input, _offset) = be_u16(input)?;
        let (input, name) = take(len)(input)?;
        let (input, _) = take(usize::from(ftype))(input)?;
        let (input, ino) = inode_number(input, wide)?;
        Ok((input, (name, ino)))
    }
}

fn inode_number(input: &[u8], wide: bool) -> Parsed<'_, u64> {
    if wide {
        be_u64(input)
    } else {
        be_u32(input).map(|(rest, n)| (rest, u64::from(n)))
    }
}

/// Lists a shortform directory held in `fork` (the inode's data fork, `size` bytes used).
pub(super) fn list_shortform(
    sb: &Superblock,
    dir: u64,
    fork: Bytes<'_>,
    visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>,
) -> Result<()> {
    let input = fork.as_slice();
    let header = |i| -> Parsed<'_, (u8, u8)> {
        let (i, count) = byte(i)?;
        let (i, i8count) = byte(i)?;
        Ok((i, (count, i8count)))
    };
    let (mut rest, (count, i8count)) = header(input).map_err(|_| fork.corrupt(0, "shortform directory header"))?;
    let wide = i8count != 0;
    let parent;
    (rest, parent) = inode_number(rest, wide).map_err(|_| fork.corrupt(2, "shortform directory parent"))?;
    for (name, node) in [(&b"."[..], dir), (&b".."[..], parent)] {
        if visit(DirEntry { name, node })? == Walk::Stop {
            return Ok(());
        }
    }
    let entry = shortform_entry(sb.ftype, wide);
    for _ in 0..count {
        let (next, (name, node)) = entry(rest).map_err(|_| fork.nom_error(rest, "shortform directory entry"))?;
        if name.is_empty() {
            return Err(fork.nom_error(rest, "shortform directory entry name length"));
        }
        rest = next;
        if visit(DirEntry { name, node })? == Walk::Stop {
            return Ok(());
        }
    }
    Ok(())
}

/// One entry of a data block: `Some((name, inode))` in use, `None` for an unused region.
fn data_entry(ftype: bool) -> impl Fn(&[u8]) -> Parsed<'_, Option<Named<'_>>> {
    move |input| {
        let (_, tag) = be_u16(input)?;
        if tag == FREE_TAG {
            let (_, (_, len)) = (be_u16, be_u16).parse(input)?;
            if len < 8 || len % 8 != 0 {
                return Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Verify)));
            }
            let (rest, _) = take(len)(input)?;
            return Ok((rest, None));
        }
        let (after, ino) = be_u64(input)?;
        let (after, len) = byte(after)?;
        if len == 0 {
            return Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Verify)));
        }
        let (_, name) = take(len)(after)?;
        // inumber, namelen, name, [ftype], tag, padded to 8 bytes.
        // inumber, namelen, name, file type, tag: at most 267 bytes, padded to 8.
        let size = usize::from(len).saturating_add(usize::from(ftype)).saturating_add(11).next_multiple_of(8);
        let (rest, _) = take(size)(input)?;
        Ok((rest, Some((name, ino))))
    }
}

/// Lists the entries of one directory data block (any form). Returns whether to go on.
pub(super) fn list_data_block(
    sb: &Superblock,
    block: Bytes<'_>,
    visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>,
) -> Result<Walk> {
    let magic = block.slice(0, 4)?;
    let (block_form, header) = match (magic, sb.v5) {
        (b"XD2B", false) => (true, 16),
        (b"XD2D", false) => (false, 16),
        (b"XDB3", true) => (true, 64),
        (b"XDD3", true) => (false, 64),
        _ => return Err(block.error(0, crate::error::ErrorKind::BadMagic)),
    };
    let end = if block_form {
        // The tail (leaf count, stale count) closes the block; the leaf entries precede it.
        let tail = block.len().checked_sub(8).ok_or_else(|| block.corrupt(0, "directory block size"))?;
        let leaves = usize::try_from(block.u32_be(tail)?).unwrap_or(usize::MAX);
        leaves
            .checked_mul(8)
            .and_then(|n| tail.checked_sub(n))
            .filter(|&e| e >= header)
            .ok_or_else(|| block.corrupt(tail, "directory block leaf count"))?
    } else {
        block.len()
    };
    let area = block.sub(header, end.saturating_sub(header))?;
    let entry = data_entry(sb.ftype);
    let mut rest = area.as_slice();
    while !rest.is_empty() {
        let (next, found) = entry(rest).map_err(|_| area.nom_error(rest, "directory data entry"))?;
        rest = next;
        if let Some((name, node)) = found {
            if visit(DirEntry { name, node })? == Walk::Stop {
                return Ok(Walk::Stop);
            }
        }
    }
    Ok(Walk::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Layer;

    #[test]
    fn data_entries_and_free_regions() {
        let mut area = alloc::vec::Vec::new();
        // entry: ino 0x80, "ab", ftype 1, tag → 8+1+2+1+2 = 14 → 16 bytes
        area.extend_from_slice(&0x80u64.to_be_bytes());
        area.extend_from_slice(&[2, b'a', b'b', 1, 0, 0, 0, 0]);
        // free region of 16 bytes
        area.extend_from_slice(&[0xFF, 0xFF, 0, 16]);
        area.extend_from_slice(&[0; 12]);
        let parse = data_entry(true);
        let (rest, first) = parse(&area).unwrap();
        assert_eq!(first, Some((&b"ab"[..], 0x80)));
        let (rest, second) = parse(rest).unwrap();
        assert_eq!(second, None);
        assert!(rest.is_empty());
        // A free region whose length runs past the block is an error, not a panic.
        let bad = [0xFF, 0xFF, 0x10, 0x00, 0, 0, 0, 0];
        assert!(parse(&bad).is_err());
        let b = Bytes::new(&bad, 0, Layer::Fs, "xfs");
        assert_eq!(b.nom_error(&bad, "x").offset, 0);
    }
}

//! Line-at-a-time reading of text databases (dpkg status, apk installed) through a fixed,
//! budget-charged buffer: the file is never held in memory whole. The field syntaxes of those
//! lines are parsed here too, with nom.

use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;
use nom::bytes::complete::{take, take_till1};
use nom::character::complete::char;
use nom::combinator::rest;
use nom::sequence::separated_pair;
use nom::{IResult, Parser};

/// A `Key: value` line (dpkg): the key up to the first colon, the value after it (untrimmed).
pub(super) fn colon_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let parsed: IResult<&[u8], (&[u8], &[u8])> = separated_pair(take_till1(|b| b == b':'), char(':'), rest).parse(line);
    parsed.ok().map(|(_, field)| field)
}

/// An `X:value` line (apk): a one-byte key, a colon, the value.
pub(super) fn letter_field(line: &[u8]) -> Option<(u8, &[u8])> {
    let parsed: IResult<&[u8], (&[u8], &[u8])> = separated_pair(take(1usize), char(':'), rest).parse(line);
    let (_, (key, value)) = parsed.ok()?;
    Some((*key.first()?, value))
}

/// Longest line accepted; longer ones are an error (no real status line comes close).
pub(super) const MAX_LINE: usize = 64 << 10;

/// Calls `each(line, offset)` for every line of `file` (without the `\n`; a final line without
/// one included), until it returns [`Walk::Stop`].
pub(super) fn for_each_line(
    file: &dyn ReadAt,
    budget: &Budget,
    format: &'static str,
    mut each: impl FnMut(&[u8], u64) -> Result<Walk>,
) -> Result<()> {
    let size = file.size();
    let mut buf = budget.zeroed(Layer::Pkg, format, 0, (2 * MAX_LINE).min(size as usize + 1))?;
    let (mut start, mut end) = (0usize, 0usize);
    let mut pos = 0u64; // file offset of buf[end]
    loop {
        let pending = buf.get(start..end).unwrap_or_default();
        if let Some(nl) = pending.iter().position(|&b| b == b'\n') {
            let line_at = pos - (end - start) as u64;
            if each(pending.get(..nl).unwrap_or_default(), line_at)? == Walk::Stop {
                return Ok(());
            }
            start += nl + 1;
            continue;
        }
        if pos >= size {
            if start < end {
                let line_at = pos - (end - start) as u64;
                each(pending, line_at)?;
            }
            return Ok(());
        }
        if end - start >= MAX_LINE {
            return Err(Error::new(Layer::Pkg, format, pos - (end - start) as u64, ErrorKind::TooLong));
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        let n = ((buf.len() - end) as u64).min(size - pos) as usize;
        let room = buf.get_mut(end..end + n).ok_or(Error::new(Layer::Pkg, format, pos, ErrorKind::TooLong))?;
        file.read_at(pos, room)?;
        end += n;
        pos += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn splits_lines_across_refills() {
        let text: Vec<u8> = (0..5000).flat_map(|i| alloc::format!("line {i}\n").into_bytes()).chain(*b"last").collect();
        let budget = Budget::new(1 << 20);
        let mut count = 0;
        let mut last = Vec::new();
        for_each_line(&&text[..], &budget, "t", |l, _| {
            count += 1;
            last = l.to_vec();
            Ok(Walk::Continue)
        })
        .unwrap();
        assert_eq!(count, 5001);
        assert_eq!(last, b"last");
    }

    #[test]
    fn fields() {
        assert_eq!(colon_field(b"Package: a:b"), Some((&b"Package"[..], &b" a:b"[..])));
        assert_eq!(colon_field(b":x"), None);
        assert_eq!(colon_field(b"no colon"), None);
        assert_eq!(letter_field(b"P:musl"), Some((b'P', &b"musl"[..])));
        assert_eq!(letter_field(b"V:"), Some((b'V', &b""[..])));
        assert_eq!(letter_field(b"PV:x"), None);
        assert_eq!(letter_field(b"P"), None);
    }
}

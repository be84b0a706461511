//! Line-at-a-time reading of text databases (dpkg status, apk installed) through a fixed,
//! budget-charged buffer: the file is never held in memory whole. The field syntaxes of those
//! lines are parsed here too, with nom.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::{piece, ReadAt};
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
    let whole_file = usize::try_from(size).unwrap_or(usize::MAX).saturating_add(1);
    let mut buf = budget.zeroed(Layer::Pkg, format, 0, (2 * MAX_LINE).min(whole_file))?;
    // buf[..filled] holds the file's bytes up to offset `pos`; the first `consumed` of them
    // were handed out already.
    let (mut consumed, mut filled) = (0usize, 0usize);
    let mut pos = 0u64;
    loop {
        let pending = buf.get(consumed..filled).unwrap_or_default();
        let pending_at = pos.saturating_sub(pending.len() as u64);
        if let Some((line, _)) = pending.iter().position(|&b| b == b'\n').and_then(|nl| pending.split_at_checked(nl)) {
            if each(line, pending_at)? == Walk::Stop {
                return Ok(());
            }
            consumed = consumed.saturating_add(line.len()).saturating_add(1);
            continue;
        }
        if pos >= size {
            if !pending.is_empty() {
                each(pending, pending_at)?;
            }
            return Ok(());
        }
        if pending.len() >= MAX_LINE {
            return Err(Error::new(Layer::Pkg, format, pending_at, ErrorKind::TooLong));
        }
        let kept = pending.len();
        buf.copy_within(consumed..filled, 0);
        (consumed, filled) = (0, kept);
        let room = buf.len().saturating_sub(filled);
        let n = room.min(usize::try_from(size.saturating_sub(pos)).unwrap_or(usize::MAX));
        file.read_at(pos, piece(&mut buf, filled, n, (Layer::Pkg, format, pos))?)?;
        filled = filled.saturating_add(n);
        pos = pos.saturating_add(n as u64);
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

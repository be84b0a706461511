//! Line-at-a-time reading of text databases (dpkg status, apk installed) through a fixed,
//! budget-charged buffer: the file is never held in memory whole.

use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;

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
        if let Some(nl) = buf[start..end].iter().position(|&b| b == b'\n') {
            let line_at = pos - (end - start) as u64;
            if each(&buf[start..start + nl], line_at)? == Walk::Stop {
                return Ok(());
            }
            start += nl + 1;
            continue;
        }
        if pos >= size {
            if start < end {
                let line_at = pos - (end - start) as u64;
                each(&buf[start..end], line_at)?;
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
        file.read_at(pos, &mut buf[end..end + n])?;
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
}

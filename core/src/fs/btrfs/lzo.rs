//! LZO1X decompression, written from the prose description of the byte stream in the Linux
//! documentation ("LZO stream format as understood by Linux's LZO decompressor"): instructions
//! that copy literals from the input or blocks from the output already written, each followed
//! by 0–3 literals (the `state` the next instruction depends on). Every length and distance is
//! checked against the input left, the output written and the output's room; a stream that
//! breaks any of them is an error, never a panic.

/// Why a stream could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LzoError {
    /// The input ended inside an instruction.
    InputOverrun,
    /// The output would exceed the room given.
    OutputOverrun,
    /// A block copy reaches back before the start of the output.
    LookbehindOverrun,
    /// The run-length extension of version 1 streams is not read (btrfs never writes it).
    Unsupported,
}

struct Decoder<'a> {
    input: &'a [u8],
    ip: usize,
    out: &'a mut [u8],
    op: usize,
}

impl Decoder<'_> {
    fn byte(&mut self) -> Result<u8, LzoError> {
        let b = *self.input.get(self.ip).ok_or(LzoError::InputOverrun)?;
        self.ip += 1;
        Ok(b)
    }

    fn le16(&mut self) -> Result<usize, LzoError> {
        let lo = usize::from(self.byte()?);
        let hi = usize::from(self.byte()?);
        Ok(lo | hi << 8)
    }

    /// A length from `bits` of the instruction (`field`): the field itself, or when it is zero
    /// the field's maximum plus 255 per zero byte that follows, plus the first non-zero byte.
    fn length(&mut self, field: usize, max: usize) -> Result<usize, LzoError> {
        if field != 0 {
            return Ok(field);
        }
        let mut len = max;
        loop {
            match self.byte()? {
                0 => len = len.checked_add(255).ok_or(LzoError::InputOverrun)?,
                b => return len.checked_add(usize::from(b)).ok_or(LzoError::InputOverrun),
            }
        }
    }

    fn literals(&mut self, n: usize) -> Result<(), LzoError> {
        let src = self
            .input
            .get(self.ip..self.ip.checked_add(n).ok_or(LzoError::InputOverrun)?)
            .ok_or(LzoError::InputOverrun)?;
        let dst = self
            .out
            .get_mut(self.op..self.op.checked_add(n).ok_or(LzoError::OutputOverrun)?)
            .ok_or(LzoError::OutputOverrun)?;
        dst.copy_from_slice(src);
        self.ip += n;
        self.op += n;
        Ok(())
    }

    /// Copies `len` bytes from `distance` back in the output (byte by byte: they may overlap).
    fn block(&mut self, distance: usize, len: usize) -> Result<(), LzoError> {
        let from = self.op.checked_sub(distance).ok_or(LzoError::LookbehindOverrun)?;
        if self.op.checked_add(len).is_none_or(|end| end > self.out.len()) {
            return Err(LzoError::OutputOverrun);
        }
        for i in 0..len {
            let b = *self.out.get(from + i).ok_or(LzoError::LookbehindOverrun)?;
            if let Some(d) = self.out.get_mut(self.op + i) {
                *d = b;
            }
        }
        self.op += len;
        Ok(())
    }
}

/// Decodes one LZO1X stream from `input` into `out`; returns the bytes written.
pub(super) fn decompress(input: &[u8], out: &mut [u8]) -> Result<usize, LzoError> {
    let mut d = Decoder { input, ip: 0, out, op: 0 };
    // The number of literals the previous instruction copied: 0, 1–3, or 4 for "4 or more".
    let mut state: usize = 0;
    match input.first().copied() {
        Some(17) if input.len() >= 5 => {
            // A versioned stream: version 0 reads as the plain format; 1 adds run-length codes.
            d.ip = 2;
            if input.get(1) != Some(&0) {
                return Err(LzoError::Unsupported);
            }
        }
        Some(first @ 18..) => {
            d.ip = 1;
            let n = usize::from(first) - 17;
            d.literals(n)?;
            state = n.min(4);
        }
        _ => {}
    }
    loop {
        let inst = usize::from(d.byte()?);
        let (distance, len, next) = match inst {
            0..=15 if state == 0 => {
                // A long literal run: no trailing literals follow it.
                let n = d.length(inst & 15, 15)? + 3;
                d.literals(n)?;
                state = 4;
                continue;
            }
            0..=15 => {
                let h = usize::from(d.byte()?);
                let base = if state == 4 { 2049 } else { 1 };
                ((h << 2) + ((inst >> 2) & 3) + base, if state == 4 { 3 } else { 2 }, inst & 3)
            }
            16..=31 => {
                let len = d.length(inst & 7, 7)? + 2;
                let v = d.le16()?;
                let distance = 16384 + ((inst & 8) << 11) + (v >> 2);
                if distance == 16384 {
                    return Ok(d.op);
                }
                (distance, len, v & 3)
            }
            32..=63 => {
                let len = d.length(inst & 31, 31)? + 2;
                let v = d.le16()?;
                ((v >> 2) + 1, len, v & 3)
            }
            64..=127 => {
                let h = usize::from(d.byte()?);
                ((h << 3) + ((inst >> 2) & 7) + 1, 3 + ((inst >> 5) & 1), inst & 3)
            }
            _ => {
                let h = usize::from(d.byte()?);
                ((h << 3) + ((inst >> 2) & 7) + 1, 5 + ((inst >> 5) & 3), inst & 3)
            }
        };
        d.block(distance, len)?;
        d.literals(next)?;
        state = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_then_a_block_then_the_end() {
        // 22 - 17 = 5 literals "abcde"; then 0b1_00_001_00 (128..255: length 5, D=1) with H=0:
        // distance (0 << 3) + 1 + 1 = 2, copying "de" over and over ("deded"); then the end marker
        // 0x11 (16 + H=0, L=1 → length 3) with LE16 0 → distance 16384: end.
        let input = [22, b'a', b'b', b'c', b'd', b'e', 0b1000_0100, 0, 0x11, 0, 0];
        let mut out = [0u8; 16];
        let n = decompress(&input, &mut out).unwrap();
        assert_eq!(out.get(..n), Some(&b"abcdededed"[..]));
    }

    #[test]
    fn hostile_streams_are_errors() {
        let mut out = [0u8; 8];
        // A block copy reaching before the output start.
        assert_eq!(decompress(&[18, b'x', 0b1000_0100, 9], &mut out), Err(LzoError::LookbehindOverrun));
        // A literal run longer than the room.
        assert_eq!(decompress(&[40, 1, 2, 3], &mut out), Err(LzoError::InputOverrun));
        let mut tiny = [0u8; 2];
        assert_eq!(decompress(&[22, 1, 2, 3, 4, 5], &mut tiny), Err(LzoError::OutputOverrun));
        // Endless zero bytes of a length extension end with the input.
        assert_eq!(decompress(&[0, 0, 0, 0], &mut out), Err(LzoError::InputOverrun));
        assert_eq!(decompress(&[], &mut out), Err(LzoError::InputOverrun));
    }
}

//! Decoders the core can be handed: the built-in ones are `no_std` (ruzstd for zstd); a std
//! front end may give faster native ones (the host crate's libzstd). Each decodes one unit —
//! a btrfs compressed extent is one zstd frame of at most 128 KiB — into a caller's buffer.

use alloc::sync::Arc;
use core::fmt;

/// Decoders of compressed data, shared by every filesystem a scan opens.
pub trait Codecs: fmt::Debug + Send + Sync {
    /// Decodes the zstd frame at the start of `input` (bytes after it are padding) into `out`
    /// and returns the bytes it produced. A frame that would produce more than `out` holds is
    /// an error (a short description); a decoder that keeps a window of its own refuses one
    /// larger than `max_window` bytes, so a crafted frame cannot make it allocate more.
    fn zstd(&self, input: &[u8], out: &mut [u8], max_window: u64) -> Result<usize, &'static str>;
}

/// The built-in, `no_std` decoders.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltIn;

impl BuiltIn {
    /// The built-in decoders as the shared handle filesystems keep.
    pub fn shared() -> Arc<dyn Codecs> {
        Arc::new(BuiltIn)
    }
}

impl Codecs for BuiltIn {
    fn zstd(&self, input: &[u8], out: &mut [u8], max_window: u64) -> Result<usize, &'static str> {
        use ruzstd::decoding::StreamingDecoder;
        use ruzstd::io::Read;
        let mut source = input;
        let mut decoder = StreamingDecoder::new_with_max_window_size(&mut source, max_window)
            .map_err(|_| "broken zstd frame header in a compressed extent")?;
        let mut done = 0usize;
        while done < out.len() {
            let dst = out.get_mut(done..).ok_or("zstd output")?;
            match decoder.read(dst) {
                Ok(0) => break,
                Ok(n) => done = done.saturating_add(n),
                Err(_) => return Err("broken zstd frame in a compressed extent"),
            }
        }
        // Anything the frame would still produce means it is longer than declared.
        let mut probe = [0u8; 1];
        if done == out.len() && matches!(decoder.read(&mut probe), Ok(1)) {
            return Err("compressed extent does not decode to its declared size");
        }
        Ok(done)
    }
}

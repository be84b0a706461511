//! Native decoders for the core: libzstd (through the `zstd` crate) decodes the zstd frames of
//! btrfs compressed extents several times faster than the core's no_std decoder. Where libzstd
//! is not built (Apple targets, which this workspace only type-checks: no SDK to compile C
//! for them), the built-in decoders are used.

use coldscan_core::codec::Codecs;
use std::sync::Arc;

/// The fastest decoders this build has, as the shared handle the core's settings take.
pub fn native() -> Arc<dyn Codecs> {
    #[cfg(not(target_vendor = "apple"))]
    {
        Arc::new(Native)
    }
    #[cfg(target_vendor = "apple")]
    {
        coldscan_core::codec::BuiltIn::shared()
    }
}

/// libzstd for zstd; the built-in decoders for the rest.
#[cfg(not(target_vendor = "apple"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

#[cfg(not(target_vendor = "apple"))]
impl Codecs for Native {
    fn zstd(&self, input: &[u8], out: &mut [u8], _max_window: u64) -> Result<usize, &'static str> {
        // btrfs stores the frame padded to a sector: decode the one frame, not what follows it.
        let frame_len = zstd::zstd_safe::find_frame_compressed_size(input)
            .map_err(|_| "broken zstd frame header in a compressed extent")?;
        let frame = input.get(..frame_len).ok_or("broken zstd frame header in a compressed extent")?;
        // The one-shot decoder writes straight into `out` and keeps no window of its own, so a
        // frame's window size costs nothing here: what it may produce is bounded by `out`.
        let mut decoder = zstd::bulk::Decompressor::new().map_err(|_| "zstd decoder")?;
        decoder.decompress_to_buffer(frame, out).map_err(|e| {
            if e.to_string().contains("too small") {
                "compressed extent does not decode to its declared size"
            } else {
                "broken zstd frame in a compressed extent"
            }
        })
    }
}

#[cfg(all(test, not(target_vendor = "apple")))]
mod tests {
    use super::*;
    use coldscan_core::codec::BuiltIn;

    #[test]
    fn libzstd_and_the_built_in_decoder_agree() {
        let text: Vec<u8> = (0..100_000u32).flat_map(|i| format!("line {i} of a text\n").into_bytes()).collect();
        let data = &text[..128 << 10];
        // Frames as btrfs writes them: one per 128 KiB extent, a 128 KiB window.
        let frame = zstd::bulk::compress(data, 3).unwrap();
        for codecs in [native(), BuiltIn::shared()] {
            let mut out = vec![0u8; data.len()];
            assert_eq!(codecs.zstd(&frame, &mut out, 1 << 20), Ok(data.len()), "{codecs:?}");
            assert_eq!(out, data, "{codecs:?}");
            // A frame that decodes to more than the extent declares.
            let mut short = vec![0u8; data.len() - 4096];
            assert!(codecs.zstd(&frame, &mut short, 1 << 20).is_err(), "{codecs:?}");
            // Garbage.
            assert!(codecs.zstd(&data[..1000], &mut out, 1 << 20).is_err(), "{codecs:?}");
            // Padding after the frame (btrfs pads to a sector) is not a second frame.
            let mut padded = frame.clone();
            padded.resize(frame.len().next_multiple_of(4096), 0);
            assert_eq!(codecs.zstd(&padded, &mut out, 1 << 20), Ok(data.len()), "{codecs:?}: padded");
        }
        // A window larger than allowed: the built-in decoder (which would allocate it) refuses
        // it; libzstd's one-shot decoder allocates no window and writes only into `out`.
        let mut big = zstd::bulk::Compressor::new(3).unwrap();
        big.set_parameter(zstd::zstd_safe::CParameter::WindowLog(24)).unwrap();
        let wide: Vec<u8> = text.iter().copied().cycle().take(8 << 20).collect();
        let frame = big.compress(&wide).unwrap();
        let mut out = vec![0u8; wide.len()];
        assert!(BuiltIn.zstd(&frame, &mut out, 1 << 20).is_err(), "window over 1 MiB");
        assert_eq!(native().zstd(&frame, &mut out, 1 << 20), Ok(wide.len()));
        assert!(native().zstd(&frame, &mut out[..1 << 20], 1 << 20).is_err(), "no more than `out` holds");
    }
}

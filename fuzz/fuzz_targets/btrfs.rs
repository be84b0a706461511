//! libFuzzer entry point for [`coldscan_fuzz::btrfs`].
#![no_main]

#[global_allocator]
static ALLOCATOR: coldscan_fuzz::Capped = coldscan_fuzz::Capped;

libfuzzer_sys::fuzz_target!(|data: &[u8]| coldscan_fuzz::btrfs(data));

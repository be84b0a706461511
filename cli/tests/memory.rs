//! Memory: the 20 GiB sparse disk is inspected and a file streamed out of it under an 8 MiB
//! core budget, and a counting global allocator proves the whole heap stayed under it.
//! (One test in this binary, so no other test's allocations are counted.)

mod common;

use coldscan::source::FileSource;
use coldscan_core::fs::resolve;
use coldscan_core::inspect::Disk;
use coldscan_core::{Budget, ReadAt};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BUDGET: usize = 8 << 20;

#[test]
fn twenty_gib_disk_under_eight_mib() {
    let image = common::fixtures().join("big-sparse.raw");
    let source = FileSource::open(&image).unwrap();
    assert_eq!(source.size(), 20 << 30);

    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let budget = Budget::new(BUDGET);
    let disk = Disk::open(&source, &budget).unwrap();
    let report = disk.inspect();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.targets.len(), 1);
    let (_, fs) = disk.open_volume(None).unwrap();
    let node = resolve(fs.as_ref(), b"/data/random-3m", true).unwrap();
    let file = fs.open_file(node).unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = 0;
    while pos < file.size() {
        let n = (file.size() - pos).min(buf.len() as u64) as usize;
        file.read_at(pos, &mut buf[..n]).unwrap();
        pos += n as u64;
    }
    let heap_peak = PEAK.load(Ordering::Relaxed) - baseline;
    eprintln!(
        "20 GiB disk: heap peak {heap_peak} bytes, budget peak {} bytes, {} bytes read from the image",
        budget.peak(),
        source.bytes_read()
    );
    assert!(budget.peak() <= BUDGET);
    assert!(heap_peak < BUDGET, "heap peak {heap_peak} exceeds the {BUDGET}-byte budget");
    // Nothing close to the image was read: metadata and the 3 MiB file only.
    assert!(source.bytes_read() < 16 << 20, "read {} bytes", source.bytes_read());
}

//! Memory: the 2,001-package rpm databases (SQLite and BerkeleyDB) are read under an 8 MiB
//! core budget, and a counting global allocator proves the heap stayed under it.

mod common;

use coldscan::source::FileSource;
use coldscan_core::pkg::DbFormat;
use coldscan_core::Budget;
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
fn two_thousand_packages_under_eight_mib() {
    let dir = common::fixtures().join("rpmdb");
    for (case, file) in [("sqlite", "rpmdb.sqlite"), ("bdb-le", "Packages")] {
        let db = FileSource::open(&dir.join(case).join(file)).unwrap();
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let budget = Budget::new(BUDGET);
        let format = DbFormat::detect(&db).unwrap().unwrap();
        let inv = format.read(&db, None, file, &budget).unwrap();
        let heap_peak = PEAK.load(Ordering::Relaxed) - baseline;
        eprintln!(
            "{case}: {} packages, heap peak {heap_peak} bytes, budget peak {}",
            inv.packages.len(),
            budget.peak()
        );
        let expected = std::fs::read_to_string(dir.join(case).join("expected.tsv")).unwrap().lines().count();
        assert_eq!(inv.packages.len(), expected);
        assert!(expected > 2000);
        assert!(heap_peak < BUDGET, "{case}: heap peak {heap_peak}");
        // The list's memory is accounted for: what is live is what the budget holds, roughly.
        assert!(budget.used() * 2 > LIVE.load(Ordering::Relaxed) - baseline, "{case}: uncharged allocations");
    }
}

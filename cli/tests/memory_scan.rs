//! Memory: a full `scan` of the sample image (two roots, 2,015 packages) with the bundled
//! vulnerability database stays under an 8 MiB core budget; the database is read in place
//! from the binary, and a counting global allocator proves the heap stayed under the budget.

mod common;

use coldscan_core::detect::detect;
use coldscan_core::inspect::Disk;
use coldscan_core::vulndb::VulnDb;
use coldscan_core::Budget;
use coldscan_host::db::BUNDLED_DB;
use coldscan_host::source::{BesideOpener, FileSource};
use common::counting::{measure, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BUDGET: usize = 8 << 20;

#[test]
fn scan_of_the_sample_under_eight_mib() {
    let path = common::fixtures().join("sample.img");
    let source = FileSource::open(&path).unwrap();
    let opener = BesideOpener::new(Some(&path), source.counter());
    let budget = Budget::new(BUDGET);
    let (findings, heap_peak, _) = measure(|| {
        let db = VulnDb::open(BUNDLED_DB).unwrap();
        let disk = Disk::open(&source, &opener, &budget).unwrap();
        let mut total = 0;
        for (_, root) in disk.scan().roots {
            let packages: Vec<_> =
                root.inventories.iter().flat_map(|i| i.packages.as_slice().iter().cloned()).collect();
            total += detect(&db, root.os.as_ref().unwrap(), &packages, &budget).unwrap().0.len();
        }
        total
    });
    eprintln!(
        "sample scan: {findings} findings, heap peak {heap_peak} bytes (the {}-byte DB not among them), budget peak {}",
        BUNDLED_DB.len(),
        budget.peak()
    );
    assert!(findings > 50);
    assert!(heap_peak < BUDGET, "heap peak {heap_peak}");
}

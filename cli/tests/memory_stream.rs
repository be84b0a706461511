//! Memory: a 20 GiB-virtual streamOptimized VMDK holding ~650 MB of real files (this machine's
//! /usr/share) is inspected and its packages listed under an 8 MiB core budget; a counting
//! global allocator proves the heap stayed under it.

mod common;

use coldscan_core::inspect::Disk;
use coldscan_core::{Budget, ReadAt};
use coldscan_host::source::{BesideOpener, FileSource};
use common::counting::{measure, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BUDGET: usize = 8 << 20;

#[test]
fn twenty_gib_stream_vmdk_under_eight_mib() {
    let path = common::fixtures().join("big-stream.vmdk");
    let source = FileSource::open(&path).unwrap();
    let opener = BesideOpener::new(Some(&path), source.counter());
    let budget = Budget::new(BUDGET);
    let (packages, heap_peak, _) = measure(|| {
        let disk = Disk::open(&source, &opener, &budget).unwrap();
        assert_eq!(disk.image.disk.size(), 20 << 30);
        let report = disk.inspect();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let mut errors = Vec::new();
        let targets = disk.package_targets(&mut errors);
        targets[0].packages.len()
    });
    eprintln!(
        "20 GiB stream VMDK ({} bytes): {packages} packages, heap peak {heap_peak} bytes, budget peak {}, {} bytes read",
        source.size(),
        budget.peak(),
        source.bytes_read()
    );
    assert!(packages > 50);
    assert!(heap_peak < BUDGET, "heap peak {heap_peak}");
}

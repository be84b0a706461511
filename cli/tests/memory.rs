//! Memory: the 20 GiB sparse disk is inspected (OS, kernels, its dpkg database) and a file
//! streamed out of it under an 8 MiB
//! core budget, and a counting global allocator proves the whole heap stayed under it.
//! (One test in this binary, so no other test's allocations are counted.)

mod common;

use coldscan_core::fs::resolve;
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::{Budget, ReadAt};
use coldscan_host::source::FileSource;
use common::counting::{measure, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BUDGET: usize = 8 << 20;

#[test]
fn twenty_gib_disk_under_eight_mib() {
    let image = common::fixtures().join("big-sparse.raw");
    let source = FileSource::open(&image).unwrap();
    assert_eq!(source.size(), 20 << 30);

    let budget = Budget::new(BUDGET);
    let ((), heap_peak, _) = measure(|| {
        let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
        let report = disk.inspect();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.targets.len(), 1);
        assert!(report.targets[0].package_databases[0].packages > 50, "packages were read too");
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
    });
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

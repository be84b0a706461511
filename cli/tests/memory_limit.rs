//! `--mem-limit` is the limit: a whole scan — the host's one call, parsing, matching and the
//! decoded advisories under one budget — of one fixture of every family (containers, partition
//! tables, LVM2, ext4, XFS, btrfs, the package databases, a host directory), its heap counted
//! by a global allocator, peaks at most at the budget plus a stated fixed overhead: the report
//! being built (package and finding lists the scan hands back, not charged) and the host's
//! buffers. The figures are printed (benches/RESULTS.md quotes them).

mod common;

use coldscan_core::progress::{NoProgress, DEFAULT_READ_LIMIT};
use coldscan_core::report::ScanReport;
use coldscan_core::scan::Settings;
use coldscan_core::vulndb::VulnDb;
use coldscan_host::db::BUNDLED_DB;
use coldscan_host::ImageArgs;
use common::counting::{measure, serial, Counting};
use common::*;
use std::path::{Path, PathBuf};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The budget every scan here gets.
const MEM_LIMIT: usize = 8 << 20;
/// What the heap may hold beyond the budget: the report under construction and the host's
/// buffers (the largest measured need none of it under 8 MiB; see benches/RESULTS.md).
const OVERHEAD: usize = 1 << 20;

/// The host's scan of `image` under a `mem_limit`-byte budget, and the heap's peak meanwhile.
fn measured_scan(image: &Path, mem_limit: usize) -> (ScanReport, usize) {
    let _serial = serial();
    let db = VulnDb::open(BUNDLED_DB).unwrap();
    let settings = Settings::new("2026-12-01");
    let args = ImageArgs { image: image.to_path_buf(), mem_limit, read_limit: DEFAULT_READ_LIMIT };
    let (report, heap_peak, _) = measure(|| coldscan_host::scan::scan(&args, &db, &settings, &NoProgress));
    (report.unwrap_or_else(|e| panic!("{}: {e}", image.display())), heap_peak)
}

/// Scans `image` (which holds an OS and its packages) under [`MEM_LIMIT`].
fn scan_under_the_limit(family: &str, image: PathBuf) {
    let (report, heap_peak) = measured_scan(&image, MEM_LIMIT);
    let packages: usize = report.targets.iter().map(|t| t.packages.len()).sum();
    eprintln!(
        "{family:<24} {:<28} packages {packages:>5}  heap peak {:>9} bytes ({:.2} MiB) under a {} MiB limit",
        image.file_name().unwrap().to_string_lossy(),
        heap_peak,
        heap_peak as f64 / (1 << 20) as f64,
        MEM_LIMIT >> 20
    );
    assert!(packages > 0, "{family}: the scan read its packages: {:?}", report.scan);
    assert!(heap_peak <= MEM_LIMIT + OVERHEAD, "{family}: heap peak {heap_peak}");
}

#[test]
fn raw_gpt_ext4_two_roots() {
    scan_under_the_limit("raw, GPT, ext4", fixtures().join("sample.img"));
}

#[test]
fn every_container_format() {
    for name in [
        "stream.vmdk",
        "sparse.vmdk",
        "split-sparse.vmdk",
        "flat.vmdk",
        "compressed.qcow2",
        "dynamic.vhd",
        "dynamic.vhdx",
        "dynamic.vdi",
        "appliance.ova",
    ] {
        scan_under_the_limit("container", fixtures().join("containers").join(name));
    }
}

#[test]
fn a_20_gib_sparse_disk_and_stream_vmdk() {
    scan_under_the_limit("20 GiB sparse raw", fixtures().join("big-sparse.raw"));
    scan_under_the_limit("20 GiB stream VMDK", fixtures().join("big-stream.vmdk"));
}

#[test]
fn lvm2_with_xfs_roots() {
    scan_under_the_limit("qcow2, LVM2, XFS", lvm_fixtures().join("rhel.qcow2"));
}

#[test]
fn xfs_written_by_the_kernel_debian() {
    scan_under_the_limit("xfs", xfs_fixtures().join("kernel-v5.img"));
}

#[test]
fn btrfs_subvolume_layouts() {
    scan_under_the_limit("btrfs (openSUSE, NDB)", btrfs_fixtures().join("opensuse.img"));
    scan_under_the_limit("btrfs (Fedora)", btrfs_fixtures().join("fedora.img"));
}

#[test]
fn a_host_directory() {
    scan_under_the_limit("directory", fixtures().join("alpine-root"));
}

/// A budget smaller than the scan needs: the scan stops where the budget ends (incomplete,
/// saying so), and the heap stays at the budget plus the overhead.
#[test]
fn a_budget_too_small_is_the_limit_not_a_suggestion() {
    let limit = 512 << 10;
    for image in [fixtures().join("sample.img"), lvm_fixtures().join("rhel.qcow2"), btrfs_fixtures().join("fedora.img")]
    {
        let (report, heap_peak) = measured_scan(&image, limit);
        eprintln!("{}: heap peak {heap_peak} bytes under a {limit}-byte limit", image.display());
        assert!(!report.scan.complete, "{}", image.display());
        assert!(
            report.errors.iter().any(|e| e.message.contains("memory")),
            "{}: {:?}",
            image.display(),
            report.scan.incomplete_reasons
        );
        assert!(heap_peak <= limit + OVERHEAD, "{}: heap peak {heap_peak}", image.display());
    }
}

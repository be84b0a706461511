//! The one scan pipeline: image → volumes → roots → packages → findings → verdict, for a disk
//! image ([`scan_image`]) or a root filesystem such as a host directory ([`scan_root`]). Every
//! front end calls one of these and only presents the report; the pipeline decides which
//! errors end the scan, meters every read, and says why a scan stopped early.

use super::{generate, Settings};
use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::FileSystem;
use crate::image::Opener;
use crate::inspect::{Disk, DiskScan, RootScan};
use crate::io::ReadAt;
use crate::progress::{ProgressSink, ReadMeter, Stage};
use crate::report::{ErrorReport, ImageReport, ScanReport};
use crate::vulndb::VulnDb;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

/// Whether an error ends the scan early without making the image unreadable: the memory or
/// read budget ran out, or the scan was cancelled. The report is then incomplete, not an error.
pub fn stops_the_scan(e: &Error) -> bool {
    matches!(e.kind, ErrorKind::MemoryLimit { .. } | ErrorKind::Cancelled | ErrorKind::ReadLimit { .. })
}

/// Scans a disk image: `source` is the container's bytes, `opener` finds the files it names
/// (VMDK extents, backing files). Every read of both is counted, reported to `sink`, refused
/// once `sink` is cancelled and limited to `settings.read_limit` bytes; every content-sized
/// allocation, while parsing and while matching, is charged to `budget`.
///
/// Returns an error only when the image cannot be read at all (no known container, a broken
/// table); running out of memory, of reads or of time gives an incomplete report instead.
/// `image.path` and `image.spooled` are the caller's to fill in.
pub fn scan_image(
    source: &dyn ReadAt,
    opener: &dyn Opener,
    db: &VulnDb<'_>,
    settings: &Settings,
    budget: &Budget,
    sink: &dyn ProgressSink,
) -> Result<ScanReport> {
    sink.stage(Stage::Opening);
    let meter = ReadMeter::new(sink, settings.read_limit);
    let watched = meter.watch(source);
    let opener = meter.opener(opener);
    let (mut image, mut disk) = match Disk::open_with(&watched, &opener, budget, Arc::clone(&settings.codecs)) {
        Ok(disk) => (disk.image_report(), disk.scan_with(sink)),
        Err(e) if stops_the_scan(&e) => (unknown_image(), stopped(&e)),
        Err(e) => return Err(e),
    };
    disk.errors.splice(0..0, read_limit_error(&meter));
    image.bytes_read = meter.bytes_read();
    finish(image, disk, db, settings, budget, sink)
}

/// Scans one root filesystem (an extracted or mounted root directory on the host, seen
/// through [`FileSystem`]): its OS, packages and findings, as one target `whole`.
pub fn scan_root(
    fs: &dyn FileSystem,
    db: &VulnDb<'_>,
    settings: &Settings,
    budget: &Budget,
    sink: &dyn ProgressSink,
) -> Result<ScanReport> {
    sink.stage(Stage::Volume("the directory"));
    let root = RootScan::scan(fs, budget);
    let errors = root.errors.iter().map(|e| ErrorReport::from_error(e, None)).collect();
    let found = root.os.is_some() || !root.inventories.is_empty();
    let roots = if found { vec![(String::from("whole"), root)] } else { Vec::new() };
    let image = ImageReport { path: String::new(), format: "dir", virtual_size: 0, bytes_read: 0, spooled: None };
    finish(image, DiskScan { volumes: Vec::new(), roots, errors }, db, settings, budget, sink)
}

/// The report's first error when `meter` refused a read because the read limit was used up.
fn read_limit_error(meter: &ReadMeter<'_>) -> Option<ErrorReport> {
    meter.exhausted().then(|| {
        let limit = Error::new(Layer::Source, "scan", 0, ErrorKind::ReadLimit { limit: meter.limit() });
        ErrorReport::from_error(&limit, None)
    })
}

/// The image section when the container could not even be identified.
fn unknown_image() -> ImageReport {
    ImageReport { path: String::new(), format: "unknown", virtual_size: 0, bytes_read: 0, spooled: None }
}

/// The disk scan of an image whose reading stopped at `e` before any volume was read.
fn stopped(e: &Error) -> DiskScan {
    DiskScan { volumes: Vec::new(), roots: Vec::new(), errors: vec![ErrorReport::from_error(e, None)] }
}

/// Matches what was read and gives the verdict; a cancelled scan says why it stopped first.
fn finish(
    image: ImageReport,
    disk: DiskScan,
    db: &VulnDb<'_>,
    settings: &Settings,
    budget: &Budget,
    sink: &dyn ProgressSink,
) -> Result<ScanReport> {
    for (id, _) in &disk.roots {
        sink.stage(Stage::Matching(id));
    }
    let mut report = generate(image, disk, db, settings, budget)?;
    if sink.cancelled() {
        report.scan.complete = false;
        report.scan.incomplete_reasons.insert(0, format!("the scan stopped early: {}", sink.cancel_reason()));
    }
    sink.stage(Stage::Done);
    Ok(report)
}

/// The report of a scan that stopped at `e` before its image could be opened (a spool that
/// ran out of reads or time): incomplete, with `e` as its first error.
pub fn stopped_report(
    image: ImageReport,
    e: &Error,
    db: &VulnDb<'_>,
    settings: &Settings,
    budget: &Budget,
    sink: &dyn ProgressSink,
) -> Result<ScanReport> {
    finish(image, stopped(e), db, settings, budget, sink)
}

/// Inspects a disk image (`coldscan inspect`): container, volumes, filesystems, operating
/// systems and package databases, every read metered as in [`scan_image`] (`settings` gives
/// the read limit and the decoders).
pub fn inspect_image(
    source: &dyn ReadAt,
    opener: &dyn Opener,
    settings: &Settings,
    budget: &Budget,
    sink: &dyn ProgressSink,
) -> Result<crate::report::InspectReport> {
    sink.stage(Stage::Opening);
    let meter = ReadMeter::new(sink, settings.read_limit);
    let watched = meter.watch(source);
    let opener = meter.opener(opener);
    let disk = Disk::open_with(&watched, &opener, budget, Arc::clone(&settings.codecs))?;
    let mut report = disk.inspect_with(sink);
    report.errors.splice(0..0, read_limit_error(&meter));
    report.image.bytes_read = meter.bytes_read();
    sink.stage(Stage::Done);
    Ok(report)
}

//! `scan`: one image, directory or pipe through the core's one pipeline
//! ([`coldscan_core::scan::scan_image`] / [`coldscan_core::scan::scan_root`]) under one budget
//! and one read meter.

use crate::hostfs::HostDir;
use crate::{HostError, ImageArgs};
use coldscan_core::progress::ProgressSink;
use coldscan_core::report::{ImageReport, ScanReport};
use coldscan_core::scan::{self, Settings};
use coldscan_core::vulndb::VulnDb;
use coldscan_core::Budget;

/// Scans the image (or root directory, or `-`) named by `args` and returns its report,
/// telling `sink` what it does and stopping early (the report then incomplete) once it is
/// cancelled or the memory or read budget is used up. `args.read_limit` overrides
/// `settings.read_limit`, and compressed data is decoded with the host's native decoders. An
/// error means the image could not be read at all.
pub fn scan(
    args: &ImageArgs,
    db: &VulnDb<'_>,
    settings: &Settings,
    sink: &dyn ProgressSink,
) -> Result<ScanReport, HostError> {
    let settings = Settings { read_limit: args.read_limit, codecs: crate::codec::native(), ..settings.clone() };
    let path = args.image.display().to_string();
    if args.image.is_dir() {
        let budget = Budget::new(args.mem_limit);
        let mut report = scan::scan_root(&HostDir::new(&args.image), db, &settings, &budget, sink)?;
        report.image.path = path;
        return Ok(report);
    }
    let img = match args.open(sink) {
        Ok(img) => img,
        // Spooling ran out of reads or time: nothing to read, and not the image's fault.
        Err(HostError::Scan(e)) if scan::stops_the_scan(&e) => {
            let image =
                ImageReport { path, format: "unknown", virtual_size: 0, bytes_read: 0, spooled: Some(e.offset) };
            return Ok(scan::stopped_report(image, &e, db, &settings, &Budget::new(args.mem_limit), sink)?);
        }
        Err(e) => return Err(e),
    };
    let mut report = scan::scan_image(&img.source, &img.opener, db, &settings, &img.budget, sink)?;
    report.image.path = path;
    report.image.spooled = img.spooled.as_ref().map(|(n, _)| *n);
    Ok(report)
}

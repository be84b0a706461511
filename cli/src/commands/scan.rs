//! `coldscan scan IMAGE…|DIR|-`: reads each image down to its roots, then hands them to the
//! core's scan API ([`coldscan_core::scan::generate`]), which matches, filters, suppresses and
//! gives the completeness verdict; this module only presents the report (table, JSON, SARIF,
//! CycloneDX). Exit statuses are decided in `main`.

use super::{CommandError, ImageArgs};
use coldscan_core::inspect::{Disk, DiskScan, RootScan};
use coldscan_core::progress::{ProgressSink, ReadMeter, Stage};
use coldscan_core::report::{ErrorReport, ImageReport, ScanReport};
use coldscan_core::scan::Settings;
use coldscan_core::vulndb::VulnDb;
use coldscan_core::{Budget, Error, ErrorKind, Layer};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The database compiled into the binary (see build.rs and cli/assets/README.md).
pub static BUNDLED_DB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/coldscan.db"));

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// Aligned text for people (warnings on standard error).
    Table,
    /// JSON (schema `coldscan/report/v1`); one document per line for several images.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF consumers).
    Sarif,
    /// CycloneDX 1.5 JSON: components and vulnerabilities.
    Cyclonedx,
    /// CSV: one row per finding (spreadsheets).
    Csv,
}

/// The database: the `--db` file's bytes, or the bundled one.
pub fn load_db(path: Option<&std::path::Path>) -> Result<std::borrow::Cow<'static, [u8]>, CommandError> {
    match path {
        Some(p) => {
            std::fs::read(p).map(std::borrow::Cow::Owned).map_err(|e| CommandError::Io(p.display().to_string(), e))
        }
        None => Ok(std::borrow::Cow::Borrowed(BUNDLED_DB)),
    }
}

/// Progress on standard error: a spinner naming the stage and the bytes read, hidden when
/// quiet or when standard error is not a terminal; cancelled by Ctrl-C or a time limit.
#[derive(Debug)]
pub struct TerminalProgress {
    bar: indicatif::ProgressBar,
    stage: std::sync::Mutex<String>,
    deadline: Option<std::time::Instant>,
    interrupted: &'static AtomicBool,
}

impl TerminalProgress {
    /// A progress display (hidden when `quiet` or off a terminal), cancelled once
    /// `interrupted` is set or `timeout` has passed.
    pub fn new(quiet: bool, timeout: Option<std::time::Duration>, interrupted: &'static AtomicBool) -> Self {
        use std::io::IsTerminal;
        let bar = if quiet || !std::io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        };
        TerminalProgress {
            bar,
            stage: std::sync::Mutex::new(String::new()),
            deadline: timeout.map(|t| std::time::Instant::now() + t),
            interrupted,
        }
    }

    /// Whether the time limit has passed.
    pub fn timed_out(&self) -> bool {
        self.deadline.is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// Clears the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressSink for TerminalProgress {
    fn stage(&self, stage: Stage<'_>) {
        let text = stage.describe();
        if let Ok(mut s) = self.stage.lock() {
            s.clone_from(&text);
        }
        self.bar.set_message(text);
    }

    fn bytes_read(&self, total: u64) {
        // Cheap enough per read: indicatif throttles drawing.
        if !self.bar.is_hidden() {
            let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
            self.bar.set_message(format!("{stage} ({} MiB read)", total >> 20));
        }
    }

    fn cancelled(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed) || self.timed_out()
    }
}

/// Reads the image (or directory) at `args` down to its roots.
fn read_disk(args: &ImageArgs, progress: &dyn ProgressSink) -> Result<(ImageReport, DiskScan), CommandError> {
    if args.image.is_dir() {
        let budget = Budget::new(args.mem_limit);
        progress.stage(Stage::Volume("the directory"));
        let root = RootScan::scan(&crate::hostfs::HostDir::new(&args.image), &budget);
        let errors = root.errors.iter().map(|e| ErrorReport::from_error(e, None)).collect();
        let image = ImageReport { path: String::new(), format: "dir", virtual_size: 0, bytes_read: 0, spooled: None };
        let found = root.os.is_some() || !root.inventories.is_empty();
        let roots = if found { vec![(String::from("whole"), root)] } else { Vec::new() };
        return Ok((image, DiskScan { volumes: Vec::new(), roots, errors }));
    }
    let img = args.open_reporting(&|n| progress.bytes_read(n))?;
    progress.stage(Stage::Opening);
    // The image and every file it names are read under one meter: counted, cancellable, and
    // limited to `--read-limit` bytes in all.
    let meter = ReadMeter::new(progress, args.read_limit);
    let watched = meter.watch(&img.source);
    let opener = meter.opener(&img.opener);
    let disk = match Disk::open(&watched, &opener, &img.budget) {
        Ok(disk) => disk,
        // Out of budget or stopped: the scan is incomplete, not the image unreadable.
        Err(e)
            if matches!(e.kind, ErrorKind::MemoryLimit { .. } | ErrorKind::Cancelled | ErrorKind::ReadLimit { .. }) =>
        {
            let image = ImageReport {
                path: String::new(),
                format: "unknown",
                virtual_size: 0,
                bytes_read: img.bytes_read(),
                spooled: None,
            };
            let errors = vec![ErrorReport::from_error(&e, None)];
            return Ok((image, DiskScan { volumes: Vec::new(), roots: Vec::new(), errors }));
        }
        Err(e) => return Err(e.into()),
    };
    let mut scan = disk.scan_with(progress);
    if meter.exhausted() {
        let limit = Error::new(Layer::Source, "scan", 0, ErrorKind::ReadLimit { limit: meter.limit() });
        scan.errors.insert(0, ErrorReport::from_error(&limit, None));
    }
    let mut image = disk.image_report();
    image.bytes_read = img.bytes_read();
    image.spooled = img.spooled.as_ref().map(|(n, _)| *n);
    Ok((image, scan))
}

/// Scans one image and returns its report, telling `progress` what it does and stopping
/// early (the report then incomplete) once it is cancelled.
pub fn report(
    args: &ImageArgs,
    db: &VulnDb<'_>,
    settings: &Settings,
    progress: &dyn ProgressSink,
) -> Result<ScanReport, CommandError> {
    let (mut image, disk) = read_disk(args, progress)?;
    image.path = args.image.display().to_string();
    for (id, _) in &disk.roots {
        progress.stage(Stage::Matching(id));
    }
    let budget = Budget::new(args.mem_limit);
    let mut report = coldscan_core::scan::generate(image, disk, db, settings, &budget)?;
    if progress.cancelled() {
        report.scan.complete = false;
        report
            .scan
            .incomplete_reasons
            .insert(0, String::from("the scan stopped early: it was cancelled or ran out of time"));
    }
    progress.stage(Stage::Done);
    Ok(report)
}

/// Writes the report in `format` (the table's warnings go to `warnings`, the others carry
/// them inside the document); `table` says how tables are drawn.
pub fn write(
    report: &ScanReport,
    format: ScanFormat,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
    table: &crate::table::TableStyle,
) -> Result<(), CommandError> {
    match format {
        ScanFormat::Json => {
            // One line per document, so several images make JSON Lines.
            serde_json::to_writer(&mut *out, report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ScanFormat::Sarif => {
            serde_json::to_writer(&mut *out, &crate::sarif::from_report(report)).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ScanFormat::Cyclonedx => {
            let mut json = Vec::new();
            crate::cyclonedx::scan_bom(report)
                .output_as_json_v1_5(&mut json)
                .map_err(|e| CommandError::Output(std::io::Error::other(e.to_string())))?;
            // Compact, one document per line.
            let value: serde_json::Value = serde_json::from_slice(&json).map_err(std::io::Error::from)?;
            serde_json::to_writer(&mut *out, &value).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ScanFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let header = [
                "volume",
                "os",
                "package",
                "installed",
                "vulnerability",
                "severity",
                "status",
                "fixed",
                "advisory",
                "title",
                "source",
            ];
            w.write_record(header).map_err(csv_error)?;
            for t in &report.targets {
                let os = t.os.as_ref().map_or(String::new(), |o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone()));
                for v in &t.vulnerabilities {
                    w.write_record([
                        t.volume.as_str(),
                        os.as_str(),
                        v.package.as_str(),
                        v.installed.as_str(),
                        v.id.as_str(),
                        v.severity,
                        v.status,
                        v.fixed.as_deref().unwrap_or(""),
                        v.advisory.as_deref().unwrap_or(""),
                        v.title.as_deref().unwrap_or(""),
                        v.source.as_str(),
                    ])
                    .map_err(csv_error)?;
                }
            }
            w.flush()?;
        }
        ScanFormat::Table => {
            crate::table::write_scan(report, table, out)?;
            for e in &report.errors {
                writeln!(warnings, "coldscan: {} [{}]: {}", e.level, e.volume.as_deref().unwrap_or("image"), e.message)
                    .map_err(CommandError::Output)?;
            }
            if !report.scan.complete {
                writeln!(warnings, "coldscan: the scan is INCOMPLETE:").map_err(CommandError::Output)?;
                for r in &report.scan.incomplete_reasons {
                    writeln!(warnings, "  - {r}").map_err(CommandError::Output)?;
                }
            }
        }
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> CommandError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => CommandError::Output(io),
        other => CommandError::Output(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Number of findings in a report.
pub fn finding_count(report: &ScanReport) -> usize {
    report.targets.iter().map(|t| t.vulnerabilities.len()).sum()
}

//! `coldscan scan IMAGE|DIR|-`: every root's packages matched against the vulnerability
//! database; table or JSON (the report contract), severity and unfixed filters, and the
//! `--exit-code` CI gate (decided in `main`).

use super::{CommandError, ImageArgs};
use crate::hostfs::HostDir;
use coldscan_core::detect;
use coldscan_core::inspect::{os_report, Disk, RootScan};
use coldscan_core::report::{
    DbReport, DbSourceReport, ErrorReport, ImageReport, PackageReport, ScanReport, ScanTargetReport,
    VulnerabilityReport, REPORT_SCHEMA,
};
use coldscan_core::vulndb::VulnDb;
use coldscan_core::Budget;
use std::io::Write;

/// The database compiled into the binary (see build.rs and cli/assets/README.md).
pub static BUNDLED_DB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/coldscan.db"));

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// Aligned text for people.
    Table,
    /// JSON (schema `coldscan/report/v1`).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF consumers).
    Sarif,
    /// CycloneDX 1.5 JSON: components and vulnerabilities.
    Cyclonedx,
}

/// Validated `scan` options.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Only these severities are kept (empty: all).
    pub severities: Vec<String>,
    /// Drop findings without a fix.
    pub ignore_unfixed: bool,
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

fn db_report(db: &VulnDb<'_>) -> DbReport {
    DbReport {
        built_at: db.meta.built_at.to_string(),
        sources: db
            .meta
            .sources
            .iter()
            .map(|s| DbSourceReport { name: s.name.into(), commit: s.commit.into(), date: s.date.into() })
            .collect(),
    }
}

fn target(
    id: String,
    root: &RootScan,
    db: &VulnDb<'_>,
    budget: &Budget,
    errors: &mut Vec<ErrorReport>,
    opts: &ScanOptions,
) -> Result<ScanTargetReport, CommandError> {
    let packages: Vec<_> = root.inventories.iter().flat_map(|i| i.packages.as_slice().iter().cloned()).collect();
    let mut vulnerabilities = Vec::new();
    if let Some(os) = &root.os {
        let (findings, warnings) = detect::detect(db, os, &packages, budget)?;
        errors.extend(warnings.iter().map(|e| ErrorReport::from_error(e, Some(id.clone()))));
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        if let Some(date) = detect::past_end_of_life(os, &today) {
            let name = os
                .pretty_name
                .clone()
                .unwrap_or_else(|| format!("{} {}", os.family, os.version_id.as_deref().unwrap_or("")));
            errors.push(ErrorReport {
                layer: "os",
                volume: Some(id.clone()),
                offset: 0,
                message: format!("{name} reached its end of life on {date}: its publisher no longer fixes vulnerabilities in it, and findings may be incomplete"),
            });
        }
        vulnerabilities = findings
            .iter()
            .filter(|f| !opts.ignore_unfixed || f.status == coldscan_core::vulndb::Status::Fixed)
            .filter(|f| {
                opts.severities.is_empty()
                    || opts.severities.iter().any(|s| s.eq_ignore_ascii_case(f.severity.as_str()))
            })
            .map(VulnerabilityReport::from_finding)
            .collect();
    }
    Ok(ScanTargetReport {
        volume: id,
        os: root.os.as_ref().map(os_report),
        packages: packages.iter().map(PackageReport::from_package).collect(),
        vulnerabilities,
    })
}

/// A spinner on standard error while the scan runs; hidden when `quiet` or when standard
/// error is not a terminal (CI logs stay clean).
pub fn progress(quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Scans and returns the report, telling `progress` what it is doing.
pub fn report(
    args: &ImageArgs,
    db_bytes: &[u8],
    opts: &ScanOptions,
    progress: &indicatif::ProgressBar,
) -> Result<ScanReport, CommandError> {
    progress.set_message("opening the vulnerability DB");
    let db = VulnDb::open(db_bytes)?;
    let mut errors = Vec::new();
    let (image, volumes, targets) = if args.image.is_dir() {
        let budget = Budget::new(args.mem_limit);
        progress.set_message(format!("reading {}", args.image.display()));
        let root = RootScan::scan(&HostDir::new(&args.image), &budget);
        errors.extend(root.errors.iter().map(|e| ErrorReport::from_error(e, None)));
        let image = ImageReport { path: String::new(), format: "dir", virtual_size: 0, bytes_read: 0, spooled: None };
        let t = target(String::from("whole"), &root, &db, &budget, &mut errors, opts)?;
        (image, Vec::new(), vec![t])
    } else {
        progress.set_message(format!("opening {}", args.image.display()));
        let img = args.open()?;
        let disk = Disk::open(&img.source, &img.opener, &img.budget)?;
        progress.set_message(format!("reading {} volumes ({})", disk.table.volumes.len(), disk.image.format));
        let scan = disk.scan();
        errors.extend(scan.errors);
        let mut targets = Vec::new();
        for (id, root) in &scan.roots {
            progress.set_message(format!("matching the packages of {id}"));
            targets.push(target(id.clone(), root, &db, &img.budget, &mut errors, opts)?);
        }
        let mut image = disk.image_report();
        image.bytes_read = img.bytes_read();
        image.spooled = img.spooled.as_ref().map(|(n, _)| *n);
        (image, scan.volumes, targets)
    };
    progress.finish_and_clear();
    let mut image = image;
    image.path = args.image.display().to_string();
    Ok(ScanReport { schema: REPORT_SCHEMA, image, db: db_report(&db), volumes, targets, errors })
}

/// Writes the report in `format`.
pub fn write(report: &ScanReport, format: ScanFormat, out: &mut dyn Write) -> Result<(), CommandError> {
    match format {
        ScanFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ScanFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &crate::sarif::from_report(report))
                .map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ScanFormat::Cyclonedx => {
            let mut json = Vec::new();
            crate::cyclonedx::scan_bom(report)
                .output_as_json_v1_5(&mut json)
                .map_err(|e| CommandError::Output(std::io::Error::other(e.to_string())))?;
            out.write_all(&json)?;
            writeln!(out)?;
        }
        ScanFormat::Table => {
            writeln!(
                out,
                "{} ({}), vulnerability DB built {}",
                report.image.path, report.image.format, report.db.built_at
            )?;
            for t in &report.targets {
                let os = t.os.as_ref().map_or(String::from("unknown OS"), |o| {
                    o.pretty_name
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", o.family, o.version_id.as_deref().unwrap_or("")))
                });
                writeln!(
                    out,
                    "\n{}: {} — {} packages, {} vulnerabilities",
                    t.volume,
                    os,
                    t.packages.len(),
                    t.vulnerabilities.len()
                )?;
                if t.vulnerabilities.is_empty() {
                    continue;
                }
                writeln!(
                    out,
                    "  {:<28} {:<18} {:<9} {:<28} {:<28} ADVISORY",
                    "PACKAGE", "ID", "SEVERITY", "INSTALLED", "FIXED"
                )?;
                for v in &t.vulnerabilities {
                    writeln!(
                        out,
                        "  {:<28} {:<18} {:<9} {:<28} {:<28} {}",
                        v.package,
                        v.id,
                        v.severity,
                        v.installed,
                        v.fixed.as_deref().unwrap_or(v.status),
                        v.advisory.as_deref().unwrap_or("-")
                    )?;
                }
            }
            for e in &report.errors {
                writeln!(out, "warning [{}]: {}", e.volume.as_deref().unwrap_or("-"), e.message)?;
            }
        }
    }
    Ok(())
}

/// Number of findings in a report.
pub fn finding_count(report: &ScanReport) -> usize {
    report.targets.iter().map(|t| t.vulnerabilities.len()).sum()
}

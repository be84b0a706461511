//! `coldscan packages IMAGE|DIR|DBFILE`: the installed packages of every root in an image, of
//! an extracted root directory, or of a single package database file (recognised by content).

use super::{CommandError, ImageArgs, PackagesFormat};
use crate::hostfs::HostDir;
use crate::source::FileSource;
use coldscan_core::image::{self, ImageFormat};
use coldscan_core::inspect::{Disk, RootScan};
use coldscan_core::pkg::DbFormat;
use coldscan_core::report::{ErrorReport, PackageTargetReport, PackagesReport, SourceReport, PACKAGES_SCHEMA};
use coldscan_core::Budget;
use std::io::Write;
use std::path::Path;

/// Builds the packages report for `args.image` (an image, a directory or a database file).
pub fn report(args: &ImageArgs) -> Result<PackagesReport, CommandError> {
    let path = args.image.display().to_string();
    let mut errors = Vec::new();
    let (kind, targets) = if args.image.is_dir() {
        let budget = Budget::new(args.mem_limit);
        let root = RootScan::scan(&HostDir::new(&args.image), &budget);
        errors.extend(root.errors.iter().map(|e| ErrorReport::from_error(e, None)));
        ("dir", vec![root.package_target(String::from("whole"))])
    } else {
        let img = args.open()?;
        match database_format(&img.source)? {
            Some(format) => ("db", vec![read_database(&args.image, &img.source, format, &img.budget, &mut errors)?]),
            None => {
                let disk = Disk::open(&img.source, &img.opener, &img.budget)?;
                ("image", disk.package_targets(&mut errors))
            }
        }
    };
    Ok(PackagesReport { schema: PACKAGES_SCHEMA, source: SourceReport { path, kind }, targets, errors })
}

/// The database format of `source`, when it is a package database rather than a disk image.
fn database_format(source: &FileSource) -> Result<Option<DbFormat>, CommandError> {
    if source.size_is_zero() {
        return Ok(None);
    }
    if image::detect(source)? != ImageFormat::Raw {
        return Ok(None);
    }
    Ok(DbFormat::detect(source)?)
}

fn read_database(
    path: &Path,
    source: &FileSource,
    format: DbFormat,
    budget: &Budget,
    errors: &mut Vec<ErrorReport>,
) -> Result<PackageTargetReport, CommandError> {
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let wal = FileSource::open(Path::new(&wal_path)).ok();
    let inv = format.read(
        source,
        wal.as_ref().map(|w| w as &dyn coldscan_core::ReadAt),
        &path.display().to_string(),
        budget,
    )?;
    errors.extend(inv.errors.iter().map(|e| ErrorReport::from_error(&e, None)));
    let root = RootScan {
        os: None,
        kernels: Vec::new(),
        inventories: vec![inv],
        errors: Vec::new(),
        mounts: Vec::new(),
        subvolume: None,
    };
    Ok(root.package_target(String::from("whole")))
}

/// Runs `packages`, writing the report in `format` to `out`.
pub fn run(args: &ImageArgs, format: PackagesFormat, out: &mut dyn Write) -> Result<(), CommandError> {
    let report = report(args)?;
    match format {
        PackagesFormat::Cyclonedx => {
            let bom = crate::cyclonedx::packages_bom(&report.source.path, &report.targets);
            let mut json = Vec::new();
            bom.output_as_json_v1_5(&mut json)
                .map_err(|e| CommandError::Output(std::io::Error::other(e.to_string())))?;
            out.write_all(&json)?;
            writeln!(out)?;
        }
        PackagesFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        PackagesFormat::Table => {
            for t in &report.targets {
                let os =
                    t.os.as_ref().and_then(|o| o.pretty_name.clone().or_else(|| o.name.clone())).unwrap_or_default();
                writeln!(out, "{} {} ({} packages)", t.volume, os, t.packages.len())?;
                writeln!(out, "  {:<40} {:<36} {:<8} {:<30} DB", "NAME", "VERSION", "ARCH", "SOURCE")?;
                for p in &t.packages {
                    writeln!(
                        out,
                        "  {:<40} {:<36} {:<8} {:<30} {}",
                        p.name,
                        p.version,
                        p.arch.as_deref().unwrap_or("-"),
                        p.source_name.as_deref().unwrap_or("-"),
                        p.db
                    )?;
                }
            }
            for e in &report.errors {
                writeln!(out, "error [{}]: {}", e.volume.as_deref().unwrap_or("-"), e.message)?;
            }
        }
    }
    Ok(())
}

//! `packages IMAGE|DIR|DBFILE`: the installed packages of every root in an image, of an
//! extracted root directory, or of a single package database file (recognised by content).

use crate::hostfs::HostDir;
use crate::source::FileSource;
use crate::{HostError, ImageArgs};
use coldscan_core::image::{self, ImageFormat};
use coldscan_core::inspect::{Disk, RootScan};
use coldscan_core::pkg::DbFormat;
use coldscan_core::progress::NoProgress;
use coldscan_core::report::{ErrorReport, PackageTargetReport, PackagesReport, SourceReport, PACKAGES_SCHEMA};
use coldscan_core::{Budget, ReadAt};
use std::path::Path;

/// Builds the packages report for `args.image` (an image, a directory or a database file).
pub fn packages(args: &ImageArgs) -> Result<PackagesReport, HostError> {
    let path = args.image.display().to_string();
    let mut errors = Vec::new();
    let (kind, targets) = if args.image.is_dir() {
        let budget = Budget::new(args.mem_limit);
        let root = RootScan::scan(&HostDir::new(&args.image), &budget);
        errors.extend(root.errors.iter().map(|e| ErrorReport::from_error(e, None)));
        ("dir", vec![root.package_target(String::from("whole"))])
    } else {
        let img = args.open(&NoProgress)?;
        match database_format(&img.source)? {
            Some(format) => ("db", vec![read_database(&args.image, &img.source, format, &img.budget, &mut errors)?]),
            None => {
                let disk = Disk::open_with(&img.source, &img.opener, &img.budget, crate::codec::native())?;
                ("image", disk.package_targets(&mut errors))
            }
        }
    };
    Ok(PackagesReport { schema: PACKAGES_SCHEMA, source: SourceReport { path, kind }, targets, errors })
}

/// The database format of `source`, when it is a package database rather than a disk image.
fn database_format(source: &FileSource) -> Result<Option<DbFormat>, HostError> {
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
) -> Result<PackageTargetReport, HostError> {
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let wal = FileSource::open(Path::new(&wal_path)).ok();
    let inv = format.read(source, wal.as_ref().map(|w| w as &dyn ReadAt), &path.display().to_string(), budget)?;
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

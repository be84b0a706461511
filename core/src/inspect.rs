//! The lower half of a scan: image → volumes → filesystems → operating systems and installed
//! packages, collected into an [`InspectReport`] (or the `packages` report). Problems inside one volume become `errors` entries and the other
//! volumes are still read; only an unreadable image or disk fails the whole inspection.

use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::{self, FileSystem, FsProbe};
use crate::image::{self, GuestDisk, Opener};
use crate::io::{ReadAt, Window};
use crate::os::{self, OsInfo};
use crate::pkg::{self, Inventory};
use crate::report::{
    DatabaseReport, ErrorReport, ImageReport, InspectReport, OsReport, PackageReport, PackageTargetReport, TableReport,
    TargetReport, VolumeReport, INSPECT_SCHEMA,
};
use crate::volume::{self, Volume, VolumeTable};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A guest disk opened down to its volume table.
#[derive(Debug)]
pub struct Disk<'a> {
    /// The guest disk and its container format.
    pub image: GuestDisk<'a>,
    /// Its volumes.
    pub table: VolumeTable,
    budget: Budget,
}

/// A volume's filesystem, opened.
pub type OpenFs<'a> = Box<dyn FileSystem + 'a>;

impl<'a> Disk<'a> {
    /// Opens the container (any format; files it names come from `opener`) and reads the
    /// guest disk's volume table.
    pub fn open(source: &'a dyn ReadAt, opener: &dyn Opener, budget: &Budget) -> Result<Self> {
        let image = image::open(source, opener, budget)?;
        let table = volume::read_volumes(image.disk.as_ref(), budget)?;
        Ok(Disk { image, table, budget: budget.clone() })
    }

    /// The bytes of volume `v`.
    pub fn volume_bytes(&self, v: &Volume) -> Window<&dyn ReadAt> {
        Window::new(self.image.disk.as_ref(), v.start, v.size, Layer::Volume, v.scheme.as_str())
    }

    /// Probes volume `v` and opens its filesystem when coldscan reads that kind.
    pub fn filesystem(&self, v: &Volume) -> Result<(Option<FsProbe>, Option<OpenFs<'_>>)> {
        let bytes = self.volume_bytes(v);
        let Some(probe) = fs::probe(&bytes)? else { return Ok((None, None)) };
        let opened = fs::open(bytes, &probe, &self.budget)?;
        Ok((Some(probe), opened))
    }

    /// The volume called `id`, or, without an id, the first volume that holds an operating
    /// system (else the first readable filesystem), opened.
    pub fn open_volume(&self, id: Option<&str>) -> Result<(String, OpenFs<'_>)> {
        let not_found = Error::new(Layer::Volume, "volume", 0, ErrorKind::NotFound);
        if let Some(id) = id {
            let v = self.table.volumes.iter().find(|v| v.id() == id).ok_or(not_found)?;
            let fs = self.filesystem(v)?.1.ok_or(Error::new(
                Layer::Fs,
                "probe",
                v.start,
                ErrorKind::Unsupported("no readable filesystem on this volume"),
            ))?;
            return Ok((v.id(), fs));
        }
        let mut first = None;
        for v in self.table.volumes.iter().filter(|v| !v.is_container()) {
            let Ok((_, Some(fs))) = self.filesystem(v) else { continue };
            if matches!(os::detect(fs.as_ref(), &self.budget), Ok(Some(_))) {
                return Ok((v.id(), fs));
            }
            if first.is_none() {
                first = Some((v.id(), fs));
            }
        }
        first.ok_or(not_found)
    }

    /// Reads every volume: its report, and the root scan (OS, kernels, packages) of each
    /// filesystem that holds an OS or a package database.
    pub fn scan(&self) -> DiskScan {
        let mut errors: Vec<ErrorReport> =
            self.image.warnings.iter().chain(&self.table.warnings).map(|e| ErrorReport::from_error(e, None)).collect();
        let mut volumes = Vec::new();
        let mut roots = Vec::new();
        for v in &self.table.volumes {
            let id = v.id();
            let mut report = VolumeReport {
                id: id.clone(),
                scheme: v.scheme.as_str(),
                start: v.start,
                size: v.size,
                type_id: v.type_id.clone(),
                type_name: v.type_name,
                partition_name: v.name.clone(),
                partition_uuid: v.guid.clone(),
                filesystem: None,
                label: None,
                uuid: None,
                error: None,
            };
            if !v.is_container() {
                match self.filesystem(v) {
                    Ok((probe, opened)) => {
                        if let Some(p) = probe {
                            report.filesystem = Some(p.kind);
                            report.label = p.label;
                            report.uuid = p.uuid;
                        }
                        if let Some(fs) = opened {
                            let root = RootScan::scan(fs.as_ref(), &self.budget);
                            errors.extend(root.errors.iter().map(|e| ErrorReport::from_error(e, Some(id.clone()))));
                            if root.os.is_some() || !root.inventories.is_empty() {
                                roots.push((id.clone(), root));
                            }
                        }
                    }
                    Err(e) => {
                        report.error = Some(alloc::format!("{e}"));
                        errors.push(ErrorReport::from_error(&e, Some(id.clone())));
                    }
                }
            }
            volumes.push(report);
        }
        DiskScan { volumes, roots, errors }
    }

    /// The image section of a report (`path`, `bytes_read`, `spooled` left for the front end).
    pub fn image_report(&self) -> ImageReport {
        ImageReport {
            path: String::new(),
            format: self.image.format,
            virtual_size: self.image.disk.size(),
            bytes_read: 0,
            spooled: None,
        }
    }

    /// Inspects every volume.
    pub fn inspect(&self) -> InspectReport {
        let scan = self.scan();
        let targets = scan
            .roots
            .iter()
            .filter_map(|(id, root)| {
                Some(TargetReport {
                    volume: id.clone(),
                    os: os_report(root.os.as_ref()?),
                    kernels: root.kernels.clone(),
                    package_databases: root.databases(),
                })
            })
            .collect();
        InspectReport {
            schema: INSPECT_SCHEMA,
            image: self.image_report(),
            partition_table: TableReport {
                scheme: self.table.scheme.as_str(),
                disk_id: self.table.disk_id.clone(),
                sector_size: self.table.sector_size,
            },
            volumes: scan.volumes,
            targets,
            errors: scan.errors,
        }
    }

    /// Every root (volume with an OS or a package database) and its packages.
    pub fn package_targets(&self, errors: &mut Vec<ErrorReport>) -> Vec<PackageTargetReport> {
        let scan = self.scan();
        errors.extend(scan.errors);
        scan.roots.iter().map(|(id, root)| root.package_target(id.clone())).collect()
    }
}

/// Every volume of a disk and the roots found on them.
#[derive(Debug)]
pub struct DiskScan {
    /// One report per volume.
    pub volumes: Vec<VolumeReport>,
    /// (volume id, root scan) for each volume with an OS or package database.
    pub roots: Vec<(String, RootScan)>,
    /// Problems met.
    pub errors: Vec<ErrorReport>,
}

/// The report form of an [`OsInfo`].
pub fn os_report(info: &OsInfo) -> OsReport {
    OsReport {
        family: info.family.clone(),
        name: info.name.clone(),
        version_id: info.version_id.clone(),
        codename: info.codename.clone(),
        id: info.id.clone(),
        pretty_name: info.pretty_name.clone(),
        source: info.source,
    }
}

/// What one root filesystem holds: operating system, kernels, package databases.
#[derive(Debug)]
pub struct RootScan {
    /// The operating system, if found.
    pub os: Option<OsInfo>,
    /// Installed kernel versions.
    pub kernels: Vec<String>,
    /// Package databases read.
    pub inventories: Vec<Inventory>,
    /// Problems met (unreadable databases, damaged records, unreadable release files).
    pub errors: Vec<Error>,
}

impl RootScan {
    /// Scans a root filesystem (an image volume or a host directory).
    pub fn scan(fs: &dyn FileSystem, budget: &Budget) -> Self {
        let mut errors = Vec::new();
        let os = os::detect(fs, budget).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let kernels = if os.is_some() {
            os::kernels(fs, budget).unwrap_or_else(|e| {
                errors.push(e);
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let (inventories, db_errors) = pkg::find_and_read(fs, budget);
        errors.extend(db_errors);
        for inv in &inventories {
            errors.extend(inv.errors.iter());
        }
        RootScan { os, kernels, inventories, errors }
    }

    /// Package databases with their counts.
    pub fn databases(&self) -> Vec<DatabaseReport> {
        self.inventories
            .iter()
            .map(|i| DatabaseReport {
                db: i.db.as_str(),
                format: i.format,
                path: i.path.clone(),
                packages: i.packages.len(),
            })
            .collect()
    }

    /// The `packages` report entry for this root.
    pub fn package_target(&self, volume: String) -> PackageTargetReport {
        PackageTargetReport {
            volume,
            os: self.os.as_ref().map(os_report),
            package_databases: self.databases(),
            packages: self
                .inventories
                .iter()
                .flat_map(|i| i.packages.as_slice().iter().map(PackageReport::from_package))
                .collect(),
        }
    }
}

//! The lower half of a scan: image → volumes → filesystems → operating systems and installed
//! packages, collected into an [`InspectReport`] (or the `packages` report). Problems inside one volume become `errors` entries and the other
//! volumes are still read; only an unreadable image or disk fails the whole inspection.

use crate::budget::Budget;
use crate::codec::{BuiltIn, Codecs};
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::fstab::{self, DeviceRef};
use crate::fs::mount::MountedFs;
use crate::fs::{self, FileSystem, FsProbe};
use crate::image::{self, GuestDisk, Opener};
use crate::io::{ReadAt, Window};
use crate::os::{self, OsInfo};
use crate::pkg::{self, Inventory};
use crate::report::{
    DatabaseReport, ErrorReport, ImageReport, InspectReport, MountReport, OsReport, PackageReport, PackageTargetReport,
    TableReport, TargetReport, VolumeReport, INSPECT_SCHEMA,
};
use crate::volume::{self, Scheme, Volume, VolumeTable};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A guest disk opened down to its volume table.
#[derive(Debug)]
pub struct Disk<'a> {
    /// The guest disk and its container format.
    pub image: GuestDisk<'a>,
    /// Its volumes.
    pub table: VolumeTable,
    budget: Budget,
    codecs: Arc<dyn Codecs>,
}

/// A volume's filesystem, opened.
pub type OpenFs<'a> = Box<dyn FileSystem + 'a>;

impl<'a> Disk<'a> {
    /// Opens the container (any format; files it names come from `opener`) and reads the
    /// guest disk's volume table; filesystems decode compressed data with the built-in decoders.
    pub fn open(source: &'a dyn ReadAt, opener: &'a dyn Opener, budget: &Budget) -> Result<Self> {
        Self::open_with(source, opener, budget, BuiltIn::shared())
    }

    /// [`Disk::open`], with filesystems decoding compressed data with `codecs`.
    pub fn open_with(
        source: &'a dyn ReadAt,
        opener: &'a dyn Opener,
        budget: &Budget,
        codecs: Arc<dyn Codecs>,
    ) -> Result<Self> {
        let image = image::open(source, opener, budget)?;
        let table = volume::read_volumes(image.disk.as_ref(), budget)?;
        Ok(Disk { image, table, budget: budget.clone(), codecs })
    }

    /// The bytes of volume `v`: a window of the disk, or a logical volume's extents.
    pub fn volume_bytes(&self, v: &Volume) -> Result<Box<dyn ReadAt + '_>> {
        if let Some(e) = v.unreadable {
            return Err(e);
        }
        let disk = self.image.disk.as_ref();
        Ok(match &v.lv {
            Some(lv) => Box::new(crate::volume::lvm::LvReader::new(lv.clone(), disk)),
            None => Box::new(Window::new(disk, v.start, v.size, Layer::Volume, v.scheme.as_str())),
        })
    }

    /// Probes volume `v` and opens its filesystem when coldscan reads that kind.
    pub fn filesystem(&self, v: &Volume) -> Result<(Option<FsProbe>, Option<OpenFs<'_>>)> {
        let bytes = self.volume_bytes(v)?;
        let Some(probe) = fs::probe(bytes.as_ref())? else { return Ok((None, None)) };
        let opened = fs::open(bytes, &probe, &self.budget, &self.codecs)?;
        Ok((Some(probe), opened))
    }

    /// The volume called `id`, or, without an id, the first volume that holds an operating
    /// system (else the first readable filesystem; with none, the error that stopped the first
    /// filesystem found), opened. A root's fstab mounts are
    /// assembled, so paths on its other volumes (`/var`, `/boot`) resolve as on the booted system.
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
            let fs = match self.os_subvolume(v, fs.as_ref())? {
                Some((sub, _)) => sub,
                None => fs,
            };
            let probes = self.probes();
            return Ok((v.id(), self.assemble(fs, &probes).0));
        }
        let (mut first, mut first_error) = (None, None);
        for v in self.table.volumes.iter().filter(|v| !v.is_container()) {
            let fs = match self.filesystem(v) {
                Ok((_, Some(fs))) => fs,
                Ok((_, None)) => continue,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let found = if matches!(os::detect(fs.as_ref(), &self.budget), Ok(Some(_))) {
                Some(fs)
            } else {
                match self.os_subvolume(v, fs.as_ref()) {
                    Ok(Some((sub, _))) => Some(sub),
                    _ => {
                        first.get_or_insert((v.id(), fs));
                        None
                    }
                }
            };
            if let Some(fs) = found {
                let probes = self.probes();
                return Ok((v.id(), self.assemble(fs, &probes).0));
            }
        }
        // No readable filesystem: say why the first one that failed could not be read.
        first.ok_or(first_error.unwrap_or(not_found))
    }

    /// The ids of the volumes that hold an operating system (in their default root or a
    /// subvolume), found by OS detection alone: no package database is read.
    pub fn os_volumes(&self) -> Vec<String> {
        let holds_an_os = |v: &Volume| {
            let Ok((_, Some(fs))) = self.filesystem(v) else { return false };
            matches!(os::detect(fs.as_ref(), &self.budget), Ok(Some(_)))
                || matches!(self.os_subvolume(v, fs.as_ref()), Ok(Some(_)))
        };
        self.table.volumes.iter().filter(|v| !v.is_container() && holds_an_os(v)).map(Volume::id).collect()
    }

    /// For a filesystem whose default root holds no OS (a Fedora btrfs volume, whose system
    /// is in the `root` subvolume): the first subvolume that holds one, opened as the root,
    /// with its path.
    fn os_subvolume(&self, v: &Volume, fs: &dyn FileSystem) -> Result<Option<(OpenFs<'_>, String)>> {
        // Only a root that was read and holds no OS is looked past (an unreadable one is not).
        if !matches!(os::detect(fs, &self.budget), Ok(None)) {
            return Ok(None);
        }
        let Some(probe) = self.volume_bytes(v).ok().and_then(|b| fs::probe(b.as_ref()).ok().flatten()) else {
            return Ok(None);
        };
        for sub in fs.subvolumes()? {
            let select = fs::btrfs::SubvolumeSelector::Id(sub.id);
            let Some(candidate) =
                fs::open_subvolume(self.volume_bytes(v)?, &probe, &self.budget, select, &self.codecs)?
            else {
                break;
            };
            if matches!(os::detect(candidate.as_ref(), &self.budget), Ok(Some(_))) {
                return Ok(Some((candidate, sub.path)));
            }
        }
        Ok(None)
    }

    /// What each volume holds (`None` where nothing is recognised or it cannot be read).
    fn probes(&self) -> Vec<Option<FsProbe>> {
        self.table
            .volumes
            .iter()
            .map(|v| self.volume_bytes(v).ok().and_then(|b| fs::probe(b.as_ref()).ok().flatten()))
            .collect()
    }

    /// The volume an fstab device names, by its index in the table.
    fn find_volume(&self, device: &DeviceRef, probes: &[Option<FsProbe>]) -> Option<usize> {
        let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
        self.table.volumes.iter().zip(probes).position(|(v, p)| match device {
            DeviceRef::Uuid(u) => same(p.as_ref().and_then(|p| p.uuid.as_deref()), u),
            DeviceRef::Label(l) => p.as_ref().and_then(|p| p.label.as_deref()) == Some(l.as_str()),
            DeviceRef::PartUuid(u) => same(v.guid.as_deref(), u),
            DeviceRef::PartLabel(l) => v.scheme == Scheme::Gpt && v.name.as_deref() == Some(l.as_str()),
            DeviceRef::Lvm(vg, lv) => {
                v.scheme == Scheme::Lvm
                    && v.name.as_deref().and_then(|n| n.split_once('/')) == Some((vg.as_str(), lv.as_str()))
            }
            DeviceRef::Partition(n) => matches!(v.scheme, Scheme::Gpt | Scheme::Mbr) && v.number == *n,
        })
    }

    /// Mounts the volumes `root`'s `/etc/fstab` names at their mount points, in fstab order.
    /// Returns the assembled root, the mounts made (with the index of each mounted volume),
    /// and an entry for each fstab line that could not be mounted. A root without fstab comes
    /// back as it is.
    pub fn assemble<'s>(
        &'s self,
        root: OpenFs<'s>,
        probes: &[Option<FsProbe>],
    ) -> (OpenFs<'s>, Vec<(usize, MountReport)>, Vec<ErrorReport>) {
        let mut problems = Vec::new();
        let text = match fs::resolve(root.as_ref(), b"/etc/fstab", true)
            .and_then(|node| fs::read_small_file(root.as_ref(), node, 64 << 10, &self.budget))
        {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return (root, Vec::new(), problems)
            }
            Err(e) => {
                problems.push(ErrorReport::text(Layer::Fs, None, alloc::format!("/etc/fstab could not be read: {e}")));
                return (root, Vec::new(), problems);
            }
        };
        let mut view = MountedFs::new(root);
        let mut mounts = Vec::new();
        for entry in fstab::parse(&text).iter().filter(|e| e.mounts_a_volume()) {
            let (spec, path) = (&entry.spec, &entry.mount_point);
            let mut problem = |what: String| {
                problems.push(ErrorReport::text(Layer::Fs, None, alloc::format!("fstab: {spec} on {path}: {what}")))
            };
            let Some(device) = DeviceRef::parse(spec) else {
                problem(String::from("device name not understood"));
                continue;
            };
            let Some(index) = self.find_volume(&device, probes) else {
                problem(String::from("no such volume in the image"));
                continue;
            };
            let Some(volume) = self.table.volumes.get(index) else { continue };
            let kind = probes.get(index).and_then(|p| p.as_ref()).map(|p| p.kind);
            if kind == Some("vfat") {
                // An EFI system partition: boot files only, never packages.
                continue;
            }
            let subvolume = match (entry.option("subvolid").and_then(|i| i.parse().ok()), entry.option("subvol")) {
                (Some(id), _) => Some(fs::btrfs::SubvolumeSelector::Id(id)),
                (None, Some(path)) => Some(fs::btrfs::SubvolumeSelector::Path(path)),
                (None, None) => None,
            };
            let opened = match (subvolume, probes.get(index).and_then(|p| p.as_ref())) {
                (Some(select), Some(probe)) => self
                    .volume_bytes(volume)
                    .and_then(|bytes| fs::open_subvolume(bytes, probe, &self.budget, select, &self.codecs))
                    .map(|fs| (None, fs)),
                _ => self.filesystem(volume),
            };
            let fs = match opened {
                Ok((_, Some(fs))) => fs,
                Ok((_, None)) => {
                    problem(alloc::format!(
                        "{} holds {}, which coldscan does not read",
                        volume.id(),
                        kind.unwrap_or("no known filesystem")
                    ));
                    continue;
                }
                Err(e) => {
                    problem(alloc::format!("{}: {e}", volume.id()));
                    continue;
                }
            };
            // Judged by where the mount point resolves (`/.`, `//`, `/var/..` and a link to `/`
            // all name the root): a volume mounted over the whole root would hide the OS and
            // every package behind a decoy.
            let mounted = fs::resolve(&view, path.as_bytes(), true).and_then(|dir| {
                if dir == view.root() {
                    Err(Error::new(
                        Layer::Fs,
                        "fstab",
                        0,
                        ErrorKind::Unsupported("the mount point resolves to / itself: not mounted over the root"),
                    ))
                } else {
                    view.mount(dir, fs)
                }
            });
            match mounted {
                Ok(()) => mounts.push((
                    index,
                    MountReport {
                        path: path.clone(),
                        volume: volume.id(),
                        spec: spec.clone(),
                        subvolume: entry.option("subvol").or(entry.option("subvolid")).map(String::from),
                    },
                )),
                Err(e) => problem(alloc::format!("mount point: {e}")),
            }
        }
        if mounts.is_empty() {
            // Nothing mounted: hand back the plain root (no extra layer).
            return (view.into_root(), mounts, problems);
        }
        (Box::new(view), mounts, problems)
    }

    /// Reads every volume: its report, and the root scan (OS, kernels, packages) of each
    /// filesystem that holds an OS (with the volumes its fstab mounts) or, standing alone, a
    /// package database.
    pub fn scan(&self) -> DiskScan {
        self.scan_with(&crate::progress::NoProgress)
    }

    /// [`Disk::scan`], telling `progress` which volume it reads and what it found.
    pub fn scan_with(&self, progress: &dyn crate::progress::ProgressSink) -> DiskScan {
        // A GPT read from its backup was read whole: its warnings are only that. Every other
        // note of the container or the table means something may be missing.
        let table_read = self.table.scheme == Scheme::Gpt;
        let mut errors: Vec<ErrorReport> =
            self.image.warnings.iter().map(|e| ErrorReport::from_error(e, None)).collect();
        errors.extend(self.table.warnings.iter().map(|e| {
            if table_read && e.format == "gpt" {
                ErrorReport::warning(e, None)
            } else {
                ErrorReport::from_error(e, None)
            }
        }));
        let mut volumes = Vec::new();
        let mut probes = Vec::new();
        let mut opened = Vec::new();
        for (index, v) in self.table.volumes.iter().enumerate() {
            let id = v.id();
            progress.stage(crate::progress::Stage::Volume(&id));
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
                subvolumes: Vec::new(),
            };
            let mut probe = None;
            if !v.is_container() {
                match self.filesystem(v) {
                    Ok((found, fs)) => {
                        if let Some(p) = &found {
                            report.filesystem = Some(p.kind);
                            report.label = p.label.clone();
                            report.uuid = p.uuid.clone();
                        }
                        match (fs, found.as_ref().map(|p| p.kind)) {
                            (Some(fs), _) => {
                                errors
                                    .extend(fs.warnings().iter().map(|e| ErrorReport::from_error(e, Some(id.clone()))));
                                match fs.subvolumes() {
                                    Ok(list) => report.subvolumes = list,
                                    Err(e) => errors.push(ErrorReport::from_error(&e, Some(id.clone()))),
                                }
                                opened.push((index, fs));
                            }
                            (None, Some(kind)) if fs::may_hold_a_root(kind) => errors.push(ErrorReport::text(
                                Layer::Fs,
                                Some(id.clone()),
                                alloc::format!(
                                    "{id} holds a {kind} filesystem, which coldscan does not read: not scanned"
                                ),
                            )),
                            _ => {}
                        }
                        probe = found;
                    }
                    Err(e) => {
                        // What the volume holds is still worth telling when it cannot be opened.
                        probe = self.volume_bytes(v).ok().and_then(|b| fs::probe(b.as_ref()).ok().flatten());
                        if let Some(p) = &probe {
                            report.filesystem = Some(p.kind);
                            report.label = p.label.clone();
                            report.uuid = p.uuid.clone();
                        }
                        report.error = Some(alloc::format!("{e}"));
                        errors.push(ErrorReport::from_error(&e, Some(id.clone())));
                    }
                }
            }
            probes.push(probe);
            volumes.push(report);
        }
        // Roots with an OS first, each with what its fstab mounts; the volumes they mount are
        // then part of that root, not roots of their own.
        let mut roots: Vec<(usize, String, RootScan)> = Vec::new();
        let mut mounted = Vec::new();
        let mut standalone = Vec::new();
        for (index, fs) in opened {
            let Some(volume) = self.table.volumes.get(index) else { continue };
            let (fs, subvolume) = if matches!(os::detect(fs.as_ref(), &self.budget), Ok(Some(_))) {
                (fs, None)
            } else {
                match self.os_subvolume(volume, fs.as_ref()) {
                    Ok(Some((sub, path))) => (sub, Some(path)),
                    Ok(None) => {
                        standalone.push((index, fs));
                        continue;
                    }
                    Err(e) => {
                        errors.push(ErrorReport::from_error(&e, Some(volume.id())));
                        standalone.push((index, fs));
                        continue;
                    }
                }
            };
            let id = volume.id();
            let (view, mounts, problems) = self.assemble(fs, &probes);
            errors.extend(problems.into_iter().map(|p| ErrorReport { volume: Some(id.clone()), ..p }));
            let mut root = RootScan::scan(view.as_ref(), &self.budget);
            if root.os.is_none() && !mounts.is_empty() {
                // The OS was there before the fstab's volumes were mounted: they hide it.
                errors.push(ErrorReport::text(
                    Layer::Fs,
                    Some(id.clone()),
                    String::from("the volumes its fstab mounts hide the operating system found on this root"),
                ));
            }
            progress.packages_found(&id, root.inventories.iter().map(|i| i.packages.len()).sum());
            errors.extend(root.errors.iter().map(|e| ErrorReport::from_error(e, Some(id.clone()))));
            mounted.extend(mounts.iter().map(|(i, _)| *i));
            root.mounts = mounts.into_iter().map(|(_, m)| m).collect();
            root.subvolume = subvolume;
            roots.push((index, id, root));
        }
        for (index, fs) in standalone.into_iter().filter(|(i, _)| !mounted.contains(i)) {
            let Some(id) = self.table.volumes.get(index).map(Volume::id) else { continue };
            let root = RootScan::scan(fs.as_ref(), &self.budget);
            errors.extend(root.errors.iter().map(|e| ErrorReport::from_error(e, Some(id.clone()))));
            if !root.inventories.is_empty() {
                roots.push((index, id, root));
            }
        }
        roots.sort_by_key(|(index, _, _)| *index);
        DiskScan { volumes, roots: roots.into_iter().map(|(_, id, root)| (id, root)).collect(), errors }
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
        self.inspect_with(&crate::progress::NoProgress)
    }

    /// [`Disk::inspect`], telling `progress` which volume it reads.
    pub fn inspect_with(&self, progress: &dyn crate::progress::ProgressSink) -> InspectReport {
        let scan = self.scan_with(progress);
        let targets = scan
            .roots
            .iter()
            .filter_map(|(id, root)| {
                Some(TargetReport {
                    volume: id.clone(),
                    os: os_report(root.os.as_ref()?),
                    kernels: root.kernels.clone(),
                    package_databases: root.databases(),
                    subvolume: root.subvolume.clone(),
                    mounts: root.mounts.clone(),
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
    /// Volumes mounted into this root by its fstab.
    pub mounts: Vec<MountReport>,
    /// The subvolume holding the root, when it is not the volume's default one.
    pub subvolume: Option<String>,
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
        RootScan { os, kernels, inventories, errors, mounts: Vec::new(), subvolume: None }
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

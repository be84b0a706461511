//! The serde model of what coldscan reports. Field names here are the JSON contract
//! (`../shared/DESIGN.md`): extend, never rename.

use crate::error::Layer;
use crate::vulndb::{Severity, Status};
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Serialize, Serializer};

/// A value written in reports as its name (`HIGH`, `fixed`, `fs`, `warning`): each enum says
/// its name once, and the presenters match on the enum, never on the text.
pub trait ReportName: Copy {
    /// The name in reports.
    fn as_str(self) -> &'static str;
}

impl ReportName for Layer {
    fn as_str(self) -> &'static str {
        Layer::as_str(self)
    }
}

impl ReportName for Severity {
    fn as_str(self) -> &'static str {
        Severity::as_str(self)
    }
}

impl ReportName for Status {
    fn as_str(self) -> &'static str {
        Status::as_str(self)
    }
}

/// Each report enum displays as its report name.
macro_rules! display_by_name {
    ($($t:ty),*) => {$(
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(ReportName::as_str(*self))
            }
        }
    )*};
}

display_by_name!(Severity, Status, Level, Suppression);

/// Serializes a [`ReportName`] as its name (serde's `serialize_with`).
fn by_name<T: ReportName, S: Serializer>(value: &T, serializer: S) -> core::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_str())
}

/// How much a problem in the report weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something was not read or not matched: the scan is incomplete.
    Error,
    /// Worth knowing, but everything was read (a backup GPT used, an end-of-life release).
    Warning,
}

impl ReportName for Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// Why a finding was left out of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// An ignore-file rule (still in force).
    Ignored,
    /// A VEX statement: not affected.
    VexNotAffected,
    /// A VEX statement: fixed.
    VexFixed,
}

impl ReportName for Suppression {
    fn as_str(self) -> &'static str {
        match self {
            Suppression::Ignored => "ignored",
            Suppression::VexNotAffected => "vex_not_affected",
            Suppression::VexFixed => "vex_fixed",
        }
    }
}

/// Schema id of the `inspect` report.
pub const INSPECT_SCHEMA: &str = "coldscan/inspect/v1";

/// `coldscan inspect --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// Always [`INSPECT_SCHEMA`].
    pub schema: &'static str,
    /// The image as a whole.
    pub image: ImageReport,
    /// The partition table found (`whole` when none).
    pub partition_table: TableReport,
    /// Every volume, in table order.
    pub volumes: Vec<VolumeReport>,
    /// Every volume where an operating system was found.
    pub targets: Vec<TargetReport>,
    /// Problems met on the way; the scan goes on past them.
    pub errors: Vec<ErrorReport>,
}

/// The image container.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    /// Path as given by the user (filled in by the front end).
    pub path: String,
    /// Container format and subformat (`raw`, `vmdk-stream`, `qcow2`, …).
    pub format: &'static str,
    /// Size of the guest disk in bytes.
    pub virtual_size: u64,
    /// Bytes actually read from the source (filled in by the front end).
    pub bytes_read: u64,
    /// For an image read from a pipe: the bytes spooled to a temporary file first.
    pub spooled: Option<u64>,
}

/// The partition table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// `gpt`, `mbr` or `whole`.
    pub scheme: &'static str,
    /// GPT disk GUID or MBR disk signature.
    pub disk_id: Option<String>,
    /// Logical sector size used.
    pub sector_size: u32,
}

/// One volume.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeReport {
    /// `gpt:2`, `mbr:5`, `whole`.
    pub id: String,
    /// `gpt`, `mbr`, `whole`.
    pub scheme: &'static str,
    /// Start in bytes on the guest disk.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Partition type: GPT type GUID or MBR type (`0x83`).
    #[serde(rename = "type")]
    pub type_id: String,
    /// Human name of the partition type.
    pub type_name: Option<&'static str>,
    /// GPT partition name (PARTLABEL).
    pub partition_name: Option<String>,
    /// GPT unique partition GUID (PARTUUID).
    pub partition_uuid: Option<String>,
    /// Filesystem or content found (`ext4`, `vfat`, `swap`, …), as blkid names it.
    pub filesystem: Option<&'static str>,
    /// Filesystem label.
    pub label: Option<String>,
    /// Filesystem UUID.
    pub uuid: Option<String>,
    /// Why the volume could not be read, if it could not.
    pub error: Option<String>,
    /// The filesystem's subvolumes (btrfs), with their paths from the top level.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subvolumes: Vec<crate::fs::Subvolume>,
}

/// A root filesystem with an operating system.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    /// Volume id.
    pub volume: String,
    /// The operating system.
    pub os: OsReport,
    /// Installed kernel versions.
    pub kernels: Vec<String>,
    /// Package databases found, with their package counts.
    pub package_databases: Vec<DatabaseReport>,
    /// The subvolume the root is in, when it is not the volume's default one (btrfs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subvolume: Option<String>,
    /// Volumes mounted into this root by its fstab.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountReport>,
}

/// A volume mounted into a root by the root's `/etc/fstab`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MountReport {
    /// Mount point.
    pub path: String,
    /// The volume mounted there.
    pub volume: String,
    /// The fstab device field that named it.
    pub spec: String,
    /// The subvolume mounted (fstab's `subvol=`/`subvolid=`), for btrfs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subvolume: Option<String>,
}

/// A package database found on a root.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseReport {
    /// `rpm`, `dpkg`, `apk`.
    pub db: &'static str,
    /// On-disk format (`bdb`, `sqlite`, `ndb`, `dpkg-status`, `apk-installed`).
    pub format: &'static str,
    /// Path inside the root.
    pub path: String,
    /// Packages listed.
    pub packages: usize,
}

/// One installed package (the report contract's `packages[]` entry, plus detail).
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// Name.
    pub name: String,
    /// Version in the distribution's full form (`[epoch:]version-release` for rpm).
    pub version: String,
    /// Source package name.
    pub source_name: Option<String>,
    /// Source package version, full form.
    pub source_version: Option<String>,
    /// Architecture.
    pub arch: Option<String>,
    /// `rpm`, `dpkg`, `apk`.
    pub db: &'static str,
    /// Epoch, when set.
    pub epoch: Option<u64>,
    /// Licence as declared.
    pub license: Option<String>,
    /// Vendor (rpm) or maintainer (dpkg, apk).
    pub vendor: Option<String>,
    /// rpm modularity label.
    pub modularity_label: Option<String>,
}

impl PackageReport {
    /// The report entry for a package.
    pub fn from_package(p: &crate::pkg::Package) -> Self {
        PackageReport {
            name: p.name.clone(),
            version: p.full_version(),
            source_name: p.source_name.clone().or_else(|| Some(p.name.clone())),
            source_version: p.source_version.clone().or_else(|| Some(p.full_version())),
            arch: p.arch.clone(),
            db: p.db.map_or("unknown", |d| d.as_str()),
            epoch: p.epoch,
            license: p.license.clone(),
            vendor: p.vendor.clone().or_else(|| p.maintainer.clone()),
            modularity_label: p.modularity_label.clone(),
        }
    }
}

/// `coldscan packages --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct PackagesReport {
    /// Always [`PACKAGES_SCHEMA`].
    pub schema: &'static str,
    /// What was read: an image, a directory or a database file.
    pub source: SourceReport,
    /// One entry per root (or per database file).
    pub targets: Vec<PackageTargetReport>,
    /// Problems met on the way.
    pub errors: Vec<ErrorReport>,
}

/// Schema id of the `packages` report.
pub const PACKAGES_SCHEMA: &str = "coldscan/packages/v1";

/// The input of a `packages` run.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// Path as given.
    pub path: String,
    /// `image`, `dir` or `db`.
    pub kind: &'static str,
}

/// The packages of one root.
#[derive(Debug, Clone, Serialize)]
pub struct PackageTargetReport {
    /// Volume id (`whole` for a directory or database file).
    pub volume: String,
    /// The operating system, when found.
    pub os: Option<OsReport>,
    /// Databases read.
    pub package_databases: Vec<DatabaseReport>,
    /// Every package, database by database in database order.
    pub packages: Vec<PackageReport>,
}

/// The operating system of a target.
#[derive(Debug, Clone, Serialize)]
pub struct OsReport {
    /// Normalised family (`alpine`, `debian`, `rhel`, …).
    pub family: String,
    /// `NAME`.
    pub name: Option<String>,
    /// `VERSION_ID`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`.
    pub codename: Option<String>,
    /// The distribution's own `ID`.
    pub id: String,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// File the information came from.
    pub source: &'static str,
}

/// A problem met during the scan.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// Layer: `source`, `image`, `volume`, `fs`, `os`, `pkg`, `db`.
    #[serde(serialize_with = "by_name")]
    pub layer: Layer,
    /// Volume id, when the problem is inside one.
    pub volume: Option<String>,
    /// Byte offset within the layer's input.
    pub offset: u64,
    /// The file inside the filesystem the offset counts in (a package database), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'static str>,
    /// One-line description.
    pub message: String,
    /// `error`: something was not read or not matched, so the scan is incomplete; `warning`:
    /// worth knowing, but everything was read (a backup GPT used, an end-of-life release).
    #[serde(serialize_with = "by_name")]
    pub level: Level,
}

impl ErrorReport {
    /// An error whose message says more than an [`crate::Error`] can (names read from disk).
    pub fn text(layer: crate::Layer, volume: Option<String>, message: String) -> Self {
        ErrorReport { layer, volume, offset: 0, path: None, message, level: Level::Error }
    }

    /// A warning with a message of its own.
    pub fn warning_text(layer: crate::Layer, volume: Option<String>, message: String) -> Self {
        ErrorReport { level: Level::Warning, ..Self::text(layer, volume, message) }
    }

    /// The report entry for error `e`, met inside `volume` if given.
    pub fn from_error(e: &crate::Error, volume: Option<String>) -> Self {
        ErrorReport {
            layer: e.layer,
            volume,
            offset: e.offset,
            path: e.file,
            message: alloc::format!("{e}"),
            level: Level::Error,
        }
    }

    /// The report entry for `e` when it did not stop anything from being read.
    pub fn warning(e: &crate::Error, volume: Option<String>) -> Self {
        ErrorReport { level: Level::Warning, ..Self::from_error(e, volume) }
    }
}

/// A finding left out of the report by an ignore rule or a VEX statement, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedReport {
    /// Vulnerability id.
    pub id: String,
    /// Package name.
    pub package: String,
    /// `ignored`, `vex_not_affected` or `vex_fixed`.
    #[serde(serialize_with = "by_name")]
    pub reason: Suppression,
    /// The VEX justification or the ignore rule's expiry.
    pub justification: Option<String>,
}

/// Whether a scan looked everywhere (report contract: `scan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanVerdict {
    /// True only when everything was read and matched against full data.
    pub complete: bool,
    /// One short reason per thing that was not, naming the volume or root.
    pub incomplete_reasons: Vec<String>,
}

/// Schema id of the scan report (`coldscan scan --format json`).
pub const REPORT_SCHEMA: &str = "coldscan/report/v1";

/// `coldscan scan --format json` (the report contract in DESIGN.md).
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Always [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The image.
    pub image: ImageReport,
    /// The vulnerability database used.
    pub db: DbReport,
    /// Every volume.
    pub volumes: Vec<VolumeReport>,
    /// Every root with an OS or packages.
    pub targets: Vec<ScanTargetReport>,
    /// Problems and warnings.
    pub errors: Vec<ErrorReport>,
    /// The completeness verdict.
    pub scan: ScanVerdict,
}

/// The database a scan used.
#[derive(Debug, Clone, Serialize)]
pub struct DbReport {
    /// Build time.
    pub built_at: String,
    /// Sources.
    pub sources: Vec<DbSourceReport>,
}

/// One source of the database.
#[derive(Debug, Clone, Serialize)]
pub struct DbSourceReport {
    /// Name.
    pub name: String,
    /// Commit or snapshot.
    pub commit: String,
    /// Date.
    pub date: String,
}

/// One scanned root.
#[derive(Debug, Clone, Serialize)]
pub struct ScanTargetReport {
    /// Volume id.
    pub volume: String,
    /// Operating system.
    pub os: Option<OsReport>,
    /// Installed packages.
    pub packages: Vec<PackageReport>,
    /// Findings, sorted by package then id.
    pub vulnerabilities: Vec<VulnerabilityReport>,
    /// Findings suppressed by an ignore rule or a VEX statement.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<SuppressedReport>,
    /// Installed kernel versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kernels: Vec<String>,
    /// The subvolume holding the root, when it is not the volume's default one (btrfs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subvolume: Option<String>,
    /// Volumes mounted into this root by its fstab.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountReport>,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityReport {
    /// Vulnerability id.
    pub id: String,
    /// Package name.
    pub package: String,
    /// Installed version.
    pub installed: String,
    /// Fixed version, if any.
    pub fixed: Option<String>,
    /// `fixed`, `affected`, `will_not_fix`, `fix_deferred`, `end_of_life`.
    #[serde(serialize_with = "by_name")]
    pub status: Status,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `UNKNOWN`.
    #[serde(serialize_with = "by_name")]
    pub severity: Severity,
    /// Title, if known.
    pub title: Option<String>,
    /// Distribution advisory id, if any.
    pub advisory: Option<String>,
    /// Source of the advisory data.
    pub source: String,
}

impl VulnerabilityReport {
    /// The report entry of a finding.
    pub fn from_finding(f: &crate::detect::Finding) -> Self {
        let opt = |s: &str| Some(String::from(s)).filter(|s| !s.is_empty());
        VulnerabilityReport {
            id: f.id.clone(),
            package: f.package.clone(),
            installed: f.installed.clone(),
            fixed: opt(&f.fixed),
            status: f.status,
            severity: f.severity,
            title: opt(&f.title),
            advisory: opt(&f.advisory),
            source: f.source.clone(),
        }
    }
}

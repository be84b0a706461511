//! Installed packages: the package databases of rpm (BerkeleyDB, SQLite, NDB), dpkg and apk.
//!
//! Every reader streams its database through [`ReadAt`] page by page or line by line; the
//! package list it builds is charged to the budget as it grows ([`PackageList`]). A damaged
//! record gives an entry in [`Inventory::errors`] and the other records are still listed.

pub mod apk;
pub mod dpkg;
mod lines;
pub mod rpm;

use crate::budget::{Budget, Reservation};
use crate::error::{ErrorKind, Layer, Result};
use crate::fs::{self, FileSystem, FileType, NodeId, Walk};
use crate::io::ReadAt;
use alloc::string::String;
use alloc::vec::Vec;

/// Which package manager a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageDb {
    /// rpm (any backend).
    Rpm,
    /// dpkg.
    Dpkg,
    /// apk (Alpine).
    Apk,
}

impl PackageDb {
    /// Name in reports (`packages[].db`).
    pub fn as_str(self) -> &'static str {
        match self {
            PackageDb::Rpm => "rpm",
            PackageDb::Dpkg => "dpkg",
            PackageDb::Apk => "apk",
        }
    }
}

/// One installed package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Epoch, when the package has one (rpm EPOCH tag, dpkg `N:` prefix).
    pub epoch: Option<u64>,
    /// Version without epoch and (for rpm) without release; dpkg: upstream-revision;
    /// apk: version-rN.
    pub version: String,
    /// rpm release.
    pub release: Option<String>,
    /// Architecture.
    pub arch: Option<String>,
    /// Source package name (rpm: from SOURCERPM; dpkg: `Source:`; apk: origin).
    pub source_name: Option<String>,
    /// Source package version in the distribution's full form.
    pub source_version: Option<String>,
    /// rpm SOURCERPM file name.
    pub source_rpm: Option<String>,
    /// Licence as declared.
    pub license: Option<String>,
    /// rpm VENDOR.
    pub vendor: Option<String>,
    /// dpkg `Maintainer:` / apk `m:`.
    pub maintainer: Option<String>,
    /// One-line summary (rpm SUMMARY).
    pub summary: Option<String>,
    /// Installed size in bytes.
    pub size: Option<u64>,
    /// Install time, seconds since the epoch (rpm INSTALLTIME).
    pub install_time: Option<u64>,
    /// rpm SIGMD5 as hex.
    pub sigmd5: Option<String>,
    /// rpm MODULARITYLABEL (`name:stream:version:context`).
    pub modularity_label: Option<String>,
    /// apk `c:` (the aports commit).
    pub commit: Option<String>,
    /// The package manager.
    pub db: Option<PackageDb>,
}

impl Package {
    /// The version in the distribution's full form: rpm `[epoch:]version-release` (epoch
    /// only when non-zero), dpkg `[epoch:]upstream[-revision]`, apk `version-rN`.
    pub fn full_version(&self) -> String {
        let mut v = String::new();
        if let Some(e) = self.epoch.filter(|&e| e != 0) {
            v.push_str(&alloc::format!("{e}:"));
        }
        v.push_str(&self.version);
        if let Some(r) = &self.release {
            v.push('-');
            v.push_str(r);
        }
        v
    }

    /// Whether this is an rpm public key pseudo-package (`gpg-pubkey`), never matched against
    /// advisories.
    pub fn is_gpg_pubkey(&self) -> bool {
        self.db == Some(PackageDb::Rpm) && self.name == "gpg-pubkey"
    }

    /// Bytes this package holds on the heap beyond its struct (for budget charging).
    fn heap_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        self.name.capacity()
            + self.version.capacity()
            + opt(&self.release)
            + opt(&self.arch)
            + opt(&self.source_name)
            + opt(&self.source_version)
            + opt(&self.source_rpm)
            + opt(&self.license)
            + opt(&self.vendor)
            + opt(&self.maintainer)
            + opt(&self.summary)
            + opt(&self.sigmd5)
            + opt(&self.modularity_label)
            + opt(&self.commit)
    }
}

/// A list of packages whose memory is charged to a budget as it grows.
#[derive(Debug)]
pub struct PackageList {
    packages: Vec<Package>,
    charge: Reservation,
    format: &'static str,
}

impl PackageList {
    /// An empty list charged to `budget`.
    pub fn new(budget: &Budget, format: &'static str) -> Result<Self> {
        Ok(PackageList { packages: Vec::new(), charge: budget.reserve(Layer::Pkg, format, 0, 0)?, format })
    }

    /// Appends `p`, charging its strings and any growth of the list.
    pub fn push(&mut self, p: Package, offset: u64) -> Result<()> {
        let mut cost = p.heap_bytes();
        if self.packages.len() == self.packages.capacity() {
            let more = self.packages.capacity().max(8);
            cost += more * core::mem::size_of::<Package>();
            self.charge.grow(Layer::Pkg, self.format, offset, cost)?;
            self.packages.try_reserve_exact(more).map_err(|_| {
                crate::error::Error::new(
                    Layer::Pkg,
                    self.format,
                    offset,
                    ErrorKind::MemoryLimit { wanted: cost as u64, limit: self.charge.limit() as u64 },
                )
            })?;
        } else {
            self.charge.grow(Layer::Pkg, self.format, offset, cost)?;
        }
        self.packages.push(p);
        Ok(())
    }

    /// The packages, in database order.
    pub fn as_slice(&self) -> &[Package] {
        &self.packages
    }

    /// Number of packages.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

/// The packages of one database, and what went wrong reading it.
#[derive(Debug)]
pub struct Inventory {
    /// Package manager.
    pub db: PackageDb,
    /// Path of the database inside the filesystem (or the file given).
    pub path: String,
    /// On-disk format (`bdb`, `sqlite`, `ndb`, `dpkg-status`, `apk-installed`).
    pub format: &'static str,
    /// Packages in database order.
    pub packages: PackageList,
    /// Damaged records, skipped (the first few kept, the rest counted).
    pub errors: crate::error::ErrorLog,
}

/// A package database file format, recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFormat {
    /// rpm BerkeleyDB hash `Packages`.
    RpmBdb,
    /// rpm SQLite `rpmdb.sqlite`.
    RpmSqlite,
    /// rpm NDB `Packages.db`.
    RpmNdb,
    /// dpkg `status` (or a `status.d` file).
    DpkgStatus,
    /// apk `installed`.
    ApkInstalled,
}

impl DbFormat {
    /// Recognises a database file by its first bytes.
    pub fn detect(file: &dyn ReadAt) -> Result<Option<Self>> {
        let mut head = [0u8; 64];
        let n = file.size().min(64) as usize;
        let head = crate::io::piece(&mut head, 0, n, (Layer::Pkg, "detect", 0))?;
        file.read_at(0, head)?;
        let head = &*head;
        Ok(if rpm::bdb::is_bdb_hash(head) {
            Some(DbFormat::RpmBdb)
        } else if head.starts_with(b"SQLite format 3\0") {
            Some(DbFormat::RpmSqlite)
        } else if head.starts_with(b"RpmP") {
            Some(DbFormat::RpmNdb)
        } else if head.starts_with(b"Package: ") {
            Some(DbFormat::DpkgStatus)
        } else if head.starts_with(b"C:") || head.starts_with(b"P:") {
            Some(DbFormat::ApkInstalled)
        } else {
            None
        })
    }

    /// Reads every package of a database file in this format.
    pub fn read(self, file: &dyn ReadAt, wal: Option<&dyn ReadAt>, path: &str, budget: &Budget) -> Result<Inventory> {
        let (db, format) = match self {
            DbFormat::RpmBdb => (PackageDb::Rpm, "bdb"),
            DbFormat::RpmSqlite => (PackageDb::Rpm, "sqlite"),
            DbFormat::RpmNdb => (PackageDb::Rpm, "ndb"),
            DbFormat::DpkgStatus => (PackageDb::Dpkg, "dpkg-status"),
            DbFormat::ApkInstalled => (PackageDb::Apk, "apk-installed"),
        };
        let mut inv = Inventory {
            db,
            path: String::from(path),
            format,
            packages: PackageList::new(budget, format)?,
            errors: crate::error::ErrorLog::new(),
        };
        match self {
            DbFormat::RpmBdb | DbFormat::RpmSqlite | DbFormat::RpmNdb => rpm::read(self, file, wal, budget, &mut inv)?,
            DbFormat::DpkgStatus => dpkg::read(file, budget, &mut inv)?,
            DbFormat::ApkInstalled => apk::read(file, budget, &mut inv)?,
        }
        Ok(inv)
    }
}

/// Where package databases live, in the order they are looked for.
const LOCATIONS: [(&str, DbFormat); 8] = [
    ("/var/lib/rpm/rpmdb.sqlite", DbFormat::RpmSqlite),
    ("/var/lib/rpm/Packages.db", DbFormat::RpmNdb),
    ("/var/lib/rpm/Packages", DbFormat::RpmBdb),
    ("/usr/lib/sysimage/rpm/rpmdb.sqlite", DbFormat::RpmSqlite),
    ("/usr/lib/sysimage/rpm/Packages.db", DbFormat::RpmNdb),
    ("/usr/lib/sysimage/rpm/Packages", DbFormat::RpmBdb),
    ("/var/lib/dpkg/status", DbFormat::DpkgStatus),
    ("/lib/apk/db/installed", DbFormat::ApkInstalled),
];

fn lookup(fs: &dyn FileSystem, path: &str) -> Result<Option<NodeId>> {
    match fs::resolve(fs, path.as_bytes(), true) {
        Ok(n) => Ok(Some(n)),
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Finds and reads every package database on a root filesystem (rpm in whichever backend
/// is present, under `/var/lib/rpm` or `/usr/lib/sysimage/rpm`, either being a symlink to the
/// other; dpkg `status` and `status.d/*`; apk `installed`). A database that cannot be read
/// at all is returned as an error in the second list.
pub fn find_and_read(fs: &dyn FileSystem, budget: &Budget) -> (Vec<Inventory>, Vec<crate::Error>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut seen: Vec<NodeId> = Vec::new();
    let mut rpm_found = false;
    for (path, expected) in LOCATIONS {
        let is_rpm = matches!(expected, DbFormat::RpmBdb | DbFormat::RpmSqlite | DbFormat::RpmNdb);
        if is_rpm && rpm_found {
            continue;
        }
        let result = (|| -> Result<Option<Inventory>> {
            let Some(node) = lookup(fs, path)? else { return Ok(None) };
            if seen.contains(&node) || fs.metadata(node)?.file_type != FileType::Regular {
                return Ok(None);
            }
            seen.push(node);
            let file = fs.open_file(node)?;
            let format = match DbFormat::detect(file.as_ref())? {
                Some(f) => f,
                None if file.size() == 0 => return Ok(None),
                None => expected,
            };
            let wal_path = alloc::format!("{path}-wal");
            let wal_node = if format == DbFormat::RpmSqlite { lookup(fs, &wal_path)? } else { None };
            let wal = wal_node.map(|n| fs.open_file(n)).transpose()?;
            Ok(Some(format.read(file.as_ref(), wal.as_deref(), path, budget)?))
        })();
        // A database's own errors name the file their offsets count in.
        match result {
            Ok(Some(mut inv)) => {
                rpm_found |= is_rpm;
                inv.errors.in_file(path);
                found.push(inv);
            }
            Ok(None) => {}
            Err(e) => {
                rpm_found |= is_rpm;
                errors.push(if e.layer == Layer::Pkg { e.in_file(path) } else { e });
            }
        }
    }
    read_status_d(fs, budget, &mut found, &mut errors);
    (found, errors)
}

/// Distroless images keep one dpkg status file per package in `/var/lib/dpkg/status.d/`.
fn read_status_d(fs: &dyn FileSystem, budget: &Budget, found: &mut Vec<Inventory>, errors: &mut Vec<crate::Error>) {
    let dir = match lookup(fs, "/var/lib/dpkg/status.d") {
        Ok(Some(d)) => d,
        Ok(None) => return,
        Err(e) => return errors.push(e),
    };
    let mut entries: Vec<(String, NodeId)> = Vec::new();
    // The list of names is charged to the budget as it grows.
    let mut charge = match budget.reserve(Layer::Pkg, "dpkg-status", 0, 0) {
        Ok(c) => c,
        Err(e) => return errors.push(e),
    };
    let listed = fs.read_dir(dir, &mut |e| {
        // `foo.md5sums` and the like sit beside the status files.
        if e.name != b"." && e.name != b".." && !e.name.contains(&b'.') && entries.len() < 100_000 {
            let cost = e.name.len().saturating_add(core::mem::size_of::<(String, NodeId)>());
            charge.grow(Layer::Pkg, "dpkg-status", 0, cost)?;
            entries.push((String::from_utf8_lossy(e.name).into_owned(), e.node));
        }
        Ok(Walk::Continue)
    });
    if let Err(e) = listed {
        return errors.push(e);
    }
    for (name, node) in entries {
        let path = alloc::format!("/var/lib/dpkg/status.d/{name}");
        let result = fs.open_file(node).and_then(|f| DbFormat::DpkgStatus.read(f.as_ref(), None, &path, budget));
        match result {
            Ok(inv) => found.push(inv),
            Err(e) => errors.push(e),
        }
    }
}

//! rpm databases: BerkeleyDB hash `Packages` ([`bdb`]), SQLite `rpmdb.sqlite` ([`sqlite`]),
//! and SUSE's NDB `Packages.db` ([`ndb`]). Each backend hands out header blobs; [`header`]
//! parses them and [`package_from_header`] makes the package record.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use self::header::{tag, Header};
use super::{DbFormat, Inventory, Package, PackageDb};
use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;
use alloc::string::String;

/// Largest header blob accepted (rpm itself stops at 256 MiB; real ones are under 4 MiB).
pub const MAX_BLOB: usize = 64 << 20;

/// A header blob (or SQLite row payload) found in a database with its file offset, or why a
/// record could not be read.
pub type BlobResult<'a> = core::result::Result<(&'a [u8], u64), Error>;

/// Reads every package of an rpm database into `inv`.
pub(super) fn read(
    format: DbFormat,
    file: &dyn ReadAt,
    wal: Option<&dyn ReadAt>,
    budget: &Budget,
    inv: &mut Inventory,
) -> Result<()> {
    let mut visit = |blob: BlobResult<'_>| -> Result<Walk> {
        match blob
            .and_then(|(b, at)| package_from_header(&Header::parse(b).map_err(|e| at_offset(e, at))?).map(|p| (p, at)))
        {
            Ok((p, at)) => inv.packages.push(p, at)?,
            Err(e) => inv.errors.push(e),
        }
        Ok(Walk::Continue)
    };
    let walked = match format {
        DbFormat::RpmBdb => bdb::for_each_blob(file, budget, &mut visit),
        DbFormat::RpmSqlite => sqlite::for_each_blob(file, wal, budget, &mut visit),
        DbFormat::RpmNdb => ndb::for_each_blob(file, budget, &mut visit),
        DbFormat::DpkgStatus | DbFormat::ApkInstalled => Ok(()),
    };
    match walked {
        // A walk that broke off part way (a looping b-tree, a truncated file) keeps what it
        // listed before; one that listed nothing is an unreadable database.
        Err(e) if !inv.packages.is_empty() => {
            inv.errors.push(e);
            Ok(())
        }
        other => other,
    }
}

/// A header-parse error placed at the blob's offset in the database file.
fn at_offset(mut e: Error, blob_at: u64) -> Error {
    e.offset = e.offset.saturating_add(blob_at);
    e
}

fn owned(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty() && *s != "(none)").map(String::from)
}

/// The package record of an rpm header. NAME and VERSION are required.
pub fn package_from_header(h: &Header<'_>) -> Result<Package> {
    let missing = |what| Error::new(Layer::Pkg, "rpm-header", 0, ErrorKind::Corrupt(what));
    let name = owned(h.string(tag::NAME)).ok_or(missing("header without NAME"))?;
    let version = owned(h.string(tag::VERSION)).ok_or(missing("header without VERSION"))?;
    let epoch = h.int(tag::EPOCH);
    let source_rpm = owned(h.string(tag::SOURCERPM));
    let (source_name, source_version) = match source_rpm.as_deref().and_then(split_source_rpm) {
        Some((n, v, r)) => {
            let e = epoch.filter(|&e| e != 0).map(|e| alloc::format!("{e}:")).unwrap_or_default();
            (Some(String::from(n)), Some(alloc::format!("{e}{v}-{r}")))
        }
        None => (None, None),
    };
    Ok(Package {
        name,
        epoch,
        version,
        release: owned(h.string(tag::RELEASE)),
        arch: owned(h.string(tag::ARCH)),
        source_name,
        source_version,
        source_rpm,
        license: owned(h.string(tag::LICENSE)),
        vendor: owned(h.string(tag::VENDOR)),
        summary: owned(h.string(tag::SUMMARY)),
        size: h.int(tag::LONGSIZE).or_else(|| h.int(tag::SIZE)),
        install_time: h.int(tag::INSTALLTIME),
        sigmd5: h.bin(tag::SIGMD5).and_then(md5_hex),
        modularity_label: owned(h.string(tag::MODULARITYLABEL)),
        db: Some(PackageDb::Rpm),
        ..Package::default()
    })
}

/// An MD5 digest (exactly 16 bytes; anything else is not one) as lower-case hex.
fn md5_hex(digest: &[u8]) -> Option<String> {
    if digest.len() != 16 {
        return None;
    }
    let mut s = String::with_capacity(32);
    for &b in digest {
        for nibble in [b >> 4, b & 0xF] {
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    Some(s)
}

/// Splits a source rpm file name `name-version-release.src.rpm` into its parts.
pub fn split_source_rpm(file: &str) -> Option<(&str, &str, &str)> {
    let base = file.strip_suffix(".rpm").unwrap_or(file);
    let (nvr, _arch) = base.rsplit_once('.')?;
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    Some((name, version, release))
}

#[cfg(test)]
mod tests {
    use super::split_source_rpm;

    #[test]
    fn source_rpm_names() {
        assert_eq!(split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm"), Some(("util-linux", "2.32.1", "42.el8_8")));
        assert_eq!(split_source_rpm("nosrc"), None);
    }
}

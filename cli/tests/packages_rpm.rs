//! rpm databases written by Debian's rpm tool (see testdata/make-images.sh) against
//! `rpm -qa --qf` on the same files: SQLite, BerkeleyDB in both byte orders, a SQLite database
//! whose last change is only in its `-wal` file, and the same database inside an image.
//! Also the dpkg database inside the fixture images against `dpkg-query --admindir`.

mod common;

use coldscan_core::image::NoFiles;
use coldscan_core::inspect::{Disk, RootScan};
use coldscan_core::pkg::{DbFormat, Package};
use coldscan_core::Budget;
use coldscan_host::source::FileSource;
use common::*;

/// A package as rpm's `--qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\t%{VENDOR}\t%{SIZE}'` prints it.
fn qf(p: &Package) -> String {
    let none = |v: &Option<String>| v.clone().unwrap_or_else(|| String::from("(none)"));
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        p.name,
        p.epoch.map_or(String::from("(none)"), |e| e.to_string()),
        p.version,
        none(&p.release),
        none(&p.arch),
        none(&p.source_rpm),
        none(&p.license),
        none(&p.vendor),
        p.size.unwrap_or(0)
    )
}

fn expected(case: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("rpmdb").join(case).join("expected.tsv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn ours(packages: &[Package]) -> Vec<String> {
    let mut lines: Vec<String> = packages.iter().map(qf).collect();
    lines.sort();
    lines
}

fn check_db(case: &str, file: &str, wal: Option<&str>) {
    let dir = fixtures().join("rpmdb").join(case);
    let db = FileSource::open(&dir.join(file)).unwrap();
    let wal = wal.map(|w| FileSource::open(&dir.join(w)).unwrap());
    let budget = Budget::new(64 << 20);
    let format = DbFormat::detect(&db).unwrap().unwrap();
    let inv = format.read(&db, wal.as_ref().map(|w| w as &dyn coldscan_core::ReadAt), file, &budget).unwrap();
    assert!(inv.errors.is_empty(), "{case}: {:?}", inv.errors);
    let (got, want) = (ours(inv.packages.as_slice()), expected(case));
    assert_eq!(got.len(), want.len(), "{case}: count");
    assert_eq!(got, want, "{case}");
    eprintln!("{case}: {} packages equal rpm -qa, field by field", got.len());
}

#[test]
fn sqlite_written_by_rpm() {
    check_db("sqlite", "rpmdb.sqlite", None);
}

#[test]
fn bdb_little_endian() {
    check_db("bdb-le", "Packages", None);
}

#[test]
fn bdb_big_endian() {
    check_db("bdb-be", "Packages", None);
}

#[test]
fn sqlite_with_committed_wal() {
    let dir = fixtures().join("rpmdb/wal");
    assert!(std::fs::metadata(dir.join("rpmdb.sqlite-wal")).unwrap().len() > 32, "the -wal file holds frames");
    check_db("wal", "rpmdb.sqlite", Some("rpmdb.sqlite-wal"));
    // Without its WAL the same file still lists the package the WAL removed.
    let db = FileSource::open(&dir.join("rpmdb.sqlite")).unwrap();
    let inv = DbFormat::RpmSqlite.read(&db, None, "x", &Budget::new(64 << 20)).unwrap();
    assert_eq!(inv.packages.len(), expected("wal").len() + 1);
}

#[test]
fn rpm_root_inside_an_image() {
    let source = FileSource::open(&fixtures().join("rpm-root.img")).unwrap();
    let budget = Budget::new(64 << 20);
    let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let root = RootScan::scan(fs.as_ref(), &budget);
    assert!(root.errors.is_empty(), "{:?}", root.errors);
    let os = root.os.unwrap();
    assert_eq!((os.family.as_str(), os.version_id.as_deref()), ("rocky", Some("9.2")));
    // /var/lib/rpm is a symlink to /usr/lib/sysimage/rpm: found once, not twice.
    assert_eq!(root.inventories.len(), 1);
    assert_eq!(ours(root.inventories[0].packages.as_slice()), expected("sqlite"));
}

#[test]
fn dpkg_inside_images_matches_dpkg_query() {
    let theirs = dpkg_query_installed(Some(&fixtures().join("tree/var/lib/dpkg")), "");
    for (image, volume) in [("gpt-cloud.raw", "gpt:1"), ("mbr-logical.raw", "mbr:6"), ("big-sparse.raw", "gpt:1")] {
        let (code, out, err) = run(&["packages", "--format", "json", fixtures().join(image).to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let target = report["targets"].as_array().unwrap().iter().find(|t| t["volume"] == volume).unwrap();
        let mut ours: Vec<String> = target["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
                format!("{}\t{}\t{}\t{}", s("name"), s("version"), s("source_name"), s("source_version"))
            })
            .collect();
        ours.sort();
        assert_eq!(ours, theirs, "{image} {volume}");
        eprintln!("{image} {volume}: {} dpkg packages equal dpkg-query", ours.len());
    }
}

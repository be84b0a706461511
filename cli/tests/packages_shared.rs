//! Package databases from `../shared/testdata-real` against their expected lists: every rpmdb
//! backend (BerkeleyDB, SQLite, NDB) field by field, the header blobs, the negative cases, and
//! the apk and dpkg samples.

mod common;

use coldscan_core::pkg::rpm::header::Header;
use coldscan_core::pkg::{DbFormat, Inventory, Package};
use coldscan_core::Budget;
use coldscan_host::source::FileSource;
use common::*;
use serde_json::Value;
use std::path::Path;

/// Reads a database file, recognised by content (else read as `fallback`, the format its
/// location implies).
fn read_as(path: &Path, fallback: DbFormat) -> coldscan_core::Result<Inventory> {
    let file = FileSource::open(path).unwrap();
    let budget = Budget::new(64 << 20);
    let format = DbFormat::detect(&file)?.unwrap_or(fallback);
    format.read(&file, None, &path.display().to_string(), &budget)
}

fn read_db(path: &Path) -> coldscan_core::Result<Inventory> {
    read_as(path, DbFormat::RpmBdb)
}

/// The value coldscan gives for an expected-JSON field of an rpm package.
fn rpm_field(p: &Package, field: &str) -> Option<Value> {
    let s = |v: &Option<String>| v.clone().map(Value::from).unwrap_or(Value::Null);
    Some(match field {
        "name" => Value::from(p.name.clone()),
        "epoch" => p.epoch.map(Value::from).unwrap_or(Value::Null),
        "version" => Value::from(p.version.clone()),
        "release" => s(&p.release),
        "arch" => s(&p.arch),
        "sourceRpm" => s(&p.source_rpm),
        "size" => p.size.map(Value::from).unwrap_or(Value::Null),
        "license" => s(&p.license),
        "vendor" => s(&p.vendor),
        "summary" => s(&p.summary),
        "sigmd5" => s(&p.sigmd5),
        "modularitylabel" => s(&p.modularity_label),
        "installTime" => p.install_time.map(Value::from).unwrap_or(Value::Null),
        _ => return None,
    })
}

fn key(v: &Value) -> String {
    format!("{}-{}-{}.{}", v["name"], v["version"], v["release"], v["arch"].as_str().unwrap_or("(none)"))
}

fn check_rpmdb(case: &str, file: &str) {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("rpmdb").join(case);
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let inv = read_db(&dir.join(file)).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(inv.errors.is_empty(), "{case}: {:?}", inv.errors);
    let want = expected["packages"].as_array().unwrap();
    let ours = inv.packages.as_slice();
    assert_eq!(ours.len(), want.len(), "{case}: package count");
    let ordered = expected["order_significant"].as_bool().unwrap_or(false);
    let mut compared = 0;
    for (i, w) in want.iter().enumerate() {
        let p = if ordered {
            &ours[i]
        } else {
            ours.iter()
                .find(|p| {
                    p.name == w["name"]
                        && p.version == w["version"]
                        && p.release.as_deref() == w["release"].as_str()
                        && (p.arch.as_deref() == w["arch"].as_str() || w["arch"].is_null())
                })
                .unwrap_or_else(|| panic!("{case}: {} not found", key(w)))
        };
        for (field, value) in w.as_object().unwrap() {
            let Some(ours) = rpm_field(p, field) else { continue };
            // Some sources spell "no epoch" as 0 (see epoch_note in expected.json).
            let epoch_as_zero = field == "epoch" && value == 0 && ours.is_null();
            assert!(ours == *value || epoch_as_zero, "{case}: {} field {field}: ours {ours}, expected {value}", key(w));
            compared += 1;
        }
    }
    eprintln!("{case}: {} packages, {compared} fields equal", ours.len());
}

#[test]
fn bdb_amazon_linux_2() {
    check_rpmdb("amazonlinux2-bdb", "Packages");
}

#[test]
fn bdb_rhel8() {
    check_rpmdb("rhel8-bdb", "Packages");
}

#[test]
fn bdb_libuuid() {
    check_rpmdb("libuuid-bdb", "Packages");
}

#[test]
fn bdb_epoch() {
    check_rpmdb("osv-scalibr-epoch-bdb", "Packages");
}

#[test]
fn sqlite_cbl_mariner() {
    check_rpmdb("cbl-mariner-2.0-sqlite", "rpmdb.sqlite");
}

#[test]
fn ndb_sles15_head() {
    check_rpmdb("sle15-bci-ndb-head", "Packages.db");
}

#[test]
fn ndb_sles15_2022() {
    check_rpmdb("sle15-bci-ndb-2022", "Packages.db");
}

#[test]
fn amazon_source_packages_split_like_trivy() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("rpmdb/amazonlinux2-bdb");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let inv = read_db(&dir.join("Packages")).unwrap();
    for w in expected["packages"].as_array().unwrap() {
        let p = inv.packages.as_slice().iter().find(|p| p.name == w["name"] && p.version == w["version"]).unwrap();
        // trivy writes "" where the header has no SOURCERPM (gpg-pubkey).
        assert_eq!(p.source_name.as_deref(), w["srcName"].as_str().filter(|s| !s.is_empty()), "{}", p.name);
        let non_empty = |k: &str| w[k].as_str().filter(|s| !s.is_empty());
        if let (Some(v), Some(r)) = (non_empty("srcVersion"), non_empty("srcRelease")) {
            let epoch = w["srcEpoch"].as_u64().filter(|&e| e != 0).map(|e| format!("{e}:")).unwrap_or_default();
            assert_eq!(p.source_version.as_deref(), Some(format!("{epoch}{v}-{r}").as_str()), "{}", p.name);
        }
    }
}

#[test]
fn header_blobs() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("rpmdb/headers");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    for file in ["go-rpmdb-blob.bin", "claircore-package.header"] {
        let blob = std::fs::read(dir.join(file)).unwrap();
        let h = Header::parse(&blob).unwrap();
        let p = coldscan_core::pkg::rpm::package_from_header(&h).unwrap();
        let want = &expected[file];
        for (field, value) in want["package"].as_object().unwrap() {
            assert_eq!(rpm_field(&p, field).unwrap(), *value, "{file} {field}");
        }
        let mut files = Vec::new();
        let listed = h.for_each_file(&coldscan_core::Budget::default(), |dir, base| files.push(format!("{dir}{base}")));
        if file == "go-rpmdb-blob.bin" {
            // Its file tags were trimmed (BASENAMES without DIRINDEXES): go-rpmdb's test
            // requires listing its files to fail.
            assert!(listed.is_err());
            continue;
        }
        listed.unwrap();
        let want_files: Vec<String> =
            want["files"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(files, want_files, "{file}: installed files");
    }
}

#[test]
fn negative_rpmdbs_are_errors() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("rpmdb/negative");
    // A SQLite file without a Packages table.
    let e = read_db(&dir.join("claircore-no_packages.sqlite")).unwrap_err();
    assert!(e.to_string().contains("no Packages table"), "{e}");
    // Empty and garbage files given as BerkeleyDB.
    for f in ["osv-scalibr-empty.sqlite", "osv-scalibr-invalid"] {
        let file = FileSource::open(&dir.join(f)).unwrap();
        let budget = Budget::new(1 << 20);
        let e = DbFormat::RpmBdb.read(&file, None, f, &budget).unwrap_err();
        assert!(matches!(e.kind, coldscan_core::ErrorKind::UnexpectedEof { .. }), "{f}: {e}");
    }
}

/// Splits a dpkg version into (epoch, upstream, revision) like trivy reports it.
fn dpkg_parts(full: &str) -> (Option<u64>, String, Option<String>) {
    let v = coldscan_core::version::dpkg::Version::split(full);
    let epoch = full.contains(':').then_some(u64::from(v.epoch)).filter(|&e| e != 0);
    (epoch, v.upstream.to_string(), Some(v.revision.to_string()).filter(|r| !r.is_empty()))
}

#[test]
fn dpkg_status_files_match_trivy() {
    let Some(data) = shared_testdata() else { return };
    for case in
        ["trivy-valid", "trivy-corrupsed", "trivy-only-apt", "trivy-third-party", "trivy-md5sums", "trivy-digest"]
    {
        let dir = data.join("dpkg").join(case);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
        let want = expected["package_infos"][0]["packages"].as_array().unwrap();
        let inv =
            read_as(&dir.join("var/lib/dpkg/status"), DbFormat::DpkgStatus).unwrap_or_else(|e| panic!("{case}: {e}"));
        let ours = inv.packages.as_slice();
        assert_eq!(ours.len(), want.len(), "{case}: count ({:?})", inv.errors);
        for w in want {
            let p =
                ours.iter().find(|p| p.name == w["name"]).unwrap_or_else(|| panic!("{case}: {} missing", w["name"]));
            let full = p.full_version();
            let (epoch, upstream, revision) = dpkg_parts(&full);
            assert_eq!(epoch, w["epoch"].as_u64(), "{case} {} epoch", p.name);
            assert_eq!(upstream, w["version"].as_str().unwrap(), "{case} {} version", p.name);
            assert_eq!(revision.as_deref(), w["release"].as_str(), "{case} {} release", p.name);
            assert_eq!(p.arch.as_deref(), w["arch"].as_str(), "{case} {} arch", p.name);
            assert_eq!(p.maintainer.as_deref(), w["maintainer"].as_str(), "{case} {} maintainer", p.name);
            assert_eq!(p.source_name.as_deref(), w["srcName"].as_str(), "{case} {} source", p.name);
            let (se, sv, sr) = dpkg_parts(p.source_version.as_deref().unwrap());
            assert_eq!(
                (se, sv.as_str(), sr.as_deref()),
                (w["srcEpoch"].as_u64(), w["srcVersion"].as_str().unwrap(), w["srcRelease"].as_str()),
                "{case} {} source version",
                p.name
            );
        }
        eprintln!("{case}: {} packages match", ours.len());
    }
}

#[test]
fn dpkg_status_field_rules() {
    let Some(data) = shared_testdata() else { return };
    let names = |f: &str| -> Vec<String> {
        read_as(&data.join("dpkg/osv-scalibr").join(f), DbFormat::DpkgStatus)
            .unwrap()
            .packages
            .as_slice()
            .iter()
            .map(|p| p.name.clone())
            .collect()
    };
    // Only installed packages count (want install/hold, no error flag, state installed);
    // a stanza without Status is taken as installed (status.d style).
    assert_eq!(names("statusfield"), ["wantinstall_installed", "wantnostatus"]);
    assert_eq!(names("single").len(), 1);
    assert_eq!(names("trailingnewlines").len(), 1);
    assert!(names("empty").is_empty());
    let invalid = read_as(&data.join("dpkg/osv-scalibr/invalid"), DbFormat::DpkgStatus);
    assert!(invalid.is_err() || invalid.unwrap().packages.is_empty());
    for f in ["nopackage", "noversion"] {
        let inv = read_as(&data.join("dpkg/osv-scalibr").join(f), DbFormat::DpkgStatus).unwrap();
        // The stanzas around the malformed one are still listed.
        assert_eq!(inv.packages.len(), 2, "{f}");
        assert_eq!(inv.errors.total(), 1, "{f}: one malformed stanza reported");
    }
}

#[test]
fn this_machines_dpkg_status_matches_dpkg_query() {
    let theirs = dpkg_query_installed(None, "\t${Architecture}");
    let inv = read_as(Path::new("/var/lib/dpkg/status"), DbFormat::DpkgStatus).unwrap();
    let mut ours: Vec<String> = inv
        .packages
        .as_slice()
        .iter()
        .map(|p| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                p.name,
                p.full_version(),
                p.source_name.as_deref().unwrap_or(""),
                p.source_version.as_deref().unwrap_or(""),
                p.arch.as_deref().unwrap_or("")
            )
        })
        .collect();
    ours.sort();
    assert_eq!(ours, theirs);
    eprintln!("this machine: {} installed dpkg packages match dpkg-query", ours.len());
}

#[test]
fn apk_installed_databases() {
    let Some(data) = shared_testdata() else { return };
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("apk/osv-scalibr/expected.json")).unwrap()).unwrap();
    for (file, want) in expected["files"].as_object().unwrap() {
        let result = read_as(&data.join("apk/osv-scalibr").join(file), DbFormat::ApkInstalled);
        let want = want.as_array().unwrap();
        if file == "invalid" {
            assert!(result.is_err(), "invalid must be an error");
            continue;
        }
        let inv = result.unwrap();
        let ours = inv.packages.as_slice();
        assert_eq!(ours.len(), want.len(), "{file}");
        for (p, w) in ours.iter().zip(want) {
            let got = serde_json::json!({
                "name": p.name, "origin": p.source_name.clone().unwrap_or_default(), "version": p.version,
                "maintainer": p.maintainer.clone().unwrap_or_default(), "arch": p.arch, "license": p.license,
                "commit": p.commit.clone().unwrap_or_default(),
            });
            assert_eq!(&got, w, "{file}");
        }
    }
    // trivy's analyzer sample: file order, names, versions, origins, arch.
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("apk/trivy-analyzer/expected.json")).unwrap()).unwrap();
    let inv = read_as(&data.join("apk/trivy-analyzer/lib/apk/db/installed"), DbFormat::ApkInstalled).unwrap();
    let want = expected["packages"].as_array().unwrap();
    assert_eq!(inv.packages.len(), want.len());
    for (p, w) in inv.packages.as_slice().iter().zip(want) {
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.source_name.as_deref(), p.arch.as_deref()),
            (w["name"].as_str().unwrap(), w["version"].as_str().unwrap(), w["srcName"].as_str(), w["arch"].as_str())
        );
    }
}

/// Every dpkg and apk sample in the shared data parses without a panic; files with packages
/// give packages (the ones without expectations included).
#[test]
fn every_shared_text_database_parses() {
    let Some(data) = shared_testdata() else { return };
    let mut files = 0;
    for (dir, format) in [("dpkg", DbFormat::DpkgStatus), ("apk", DbFormat::ApkInstalled)] {
        let mut stack = vec![data.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if !path.extension().is_some_and(|e| e == "json" || e == "md5sums" || e == "list") {
                    let _ = read_as(&path, format);
                    files += 1;
                }
            }
        }
    }
    eprintln!("{files} text databases parsed");
    let scancode = read_as(&data.join("dpkg/scancode/basic/status"), DbFormat::DpkgStatus).unwrap();
    assert!(!scancode.packages.is_empty());
    let texlive = read_as(&data.join("dpkg/claircore/texlive.status"), DbFormat::DpkgStatus).unwrap();
    assert!(texlive.packages.len() > 100, "{}", texlive.packages.len());
}

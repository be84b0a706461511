//! `coldscan scan` end to end. Findings are checked against a deliberately simple matcher
//! written here from the advisory formats' rules, which reads the advisory JSON of
//! `../shared/vuln-list` directly and orders versions with the distributions' own tools
//! (rpm's `rpm.labelCompare` through python3-rpm; for apk, whose tools do not run here,
//! coldscan's comparator as checked against apk-tools' own tables) — no database, no detection
//! code shared: the
//! Alpine roots (the sample image and the shared apk databases) against secdb, the Amazon
//! Linux 2 rpmdb against ALAS, the sample's Rocky 9 root against the Rocky errata. Same
//! (id, package, installed, fixed) set both ways. Also the CI gate (exit codes, filters), and
//! the Red Hat, CentOS, Oracle and SUSE paths on an extracted root with an rpm-written rpmdb.
//! (That the bundled DB is current is checked in db-builder/tests.)

mod common;

use coldscan_core::detect::detect;
use coldscan_core::os::OsInfo;
use coldscan_core::pkg::{DbFormat, Package};
use coldscan_core::progress::DEFAULT_READ_LIMIT;
use coldscan_core::version::apk;
use coldscan_core::vulndb::VulnDb;
use coldscan_core::Budget;
use coldscan_host::db::BUNDLED_DB;
use common::*;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

type Finding = (String, String, String, String); // (id, package, installed, fixed)

/// The bulk vuln-list tree, unpacked once per test binary.
fn vuln_list() -> Option<&'static Path> {
    static DIR: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    DIR.get_or_init(|| {
        let data = shared_testdata()?;
        let tarball = data.parent()?.join("vuln-list/vuln-list-bulk.tar.gz");
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir.path())
            .status()
            .ok()?
            .success();
        assert!(ok, "unpack {}", tarball.display());
        let root = dir.path().join("vuln-list");
        Some((dir, root))
    })
    .as_ref()
    .map(|(_, root)| root.as_path())
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A version order from a tool no one here wrote, asked once for a whole batch of pairs.
trait Oracle {
    /// The order of each `(a, b)` pair.
    fn compare_all(&self, pairs: &[(String, String)]) -> Vec<Ordering>;
}

/// rpm's own `rpm.labelCompare` (python3-rpm) on `[epoch:]version-release` strings.
struct RpmLabelCompare;

impl Oracle for RpmLabelCompare {
    fn compare_all(&self, pairs: &[(String, String)]) -> Vec<Ordering> {
        const SCRIPT: &str = r#"
import json, sys, rpm
def evr(s):
    e, _, vr = s.rpartition(":")
    v, _, r = vr.rpartition("-")
    return (e or "0", v, r)
print(json.dumps([rpm.labelCompare(evr(a), evr(b)) for a, b in json.load(sys.stdin)]))
"#;
        // The system interpreter: python3-rpm is a Debian package (testdata/install-tools.sh).
        let mut child = std::process::Command::new("/usr/bin/python3")
            .args(["-c", SCRIPT])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("/usr/bin/python3 with python3-rpm");
        serde_json::to_writer(child.stdin.take().unwrap(), pairs).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "rpm.labelCompare failed");
        let signs: Vec<i32> = serde_json::from_slice(&out.stdout).unwrap();
        signs.into_iter().map(|s| s.cmp(&0)).collect()
    }
}

/// apk-tools' order. No apk-tools build exists for this machine; coldscan's comparator stands
/// in, checked against apk-tools' own test tables (apk-tools-version.data) in versions.rs.
struct ApkToolsTables;

impl Oracle for ApkToolsTables {
    fn compare_all(&self, pairs: &[(String, String)]) -> Vec<Ordering> {
        pairs.iter().map(|(a, b)| apk::compare(a, b)).collect()
    }
}

/// A candidate finding: the advisory `id` fixes `package` (installed at `installed`) at `fixed`.
struct Candidate {
    id: String,
    package: String,
    installed: String,
    fixed: String,
}

/// What the advisory files say is vulnerable among the candidates: installed older than the
/// fix, and per (id, package) the earliest fix — every version order from `oracle`.
fn vulnerable(candidates: Vec<Candidate>, oracle: &dyn Oracle) -> BTreeSet<Finding> {
    let pairs: Vec<(String, String)> = candidates.iter().map(|c| (c.installed.clone(), c.fixed.clone())).collect();
    let order = oracle.compare_all(&pairs);
    let mut fixes: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
    for (c, o) in candidates.into_iter().zip(order) {
        if o == Ordering::Less {
            fixes.entry((c.id, c.package)).or_insert_with(|| (c.installed, Vec::new())).1.push(c.fixed);
        }
    }
    // The earliest fix of each: a fix no other fix of the same finding is older than.
    let pairs: Vec<(String, String)> = fixes
        .values()
        .flat_map(|(_, fixed)| fixed.iter().flat_map(|a| fixed.iter().map(move |b| (a.clone(), b.clone()))))
        .collect();
    let mut order = oracle.compare_all(&pairs).into_iter();
    let mut out = BTreeSet::new();
    for ((id, package), (installed, fixed)) in fixes {
        let n = fixed.len();
        // Row i: fix i against every fix of this finding.
        let table: Vec<Ordering> = order.by_ref().take(n * n).collect();
        let earliest = (0..n).find(|&i| table[i * n..(i + 1) * n].iter().all(|&o| o != Ordering::Greater));
        out.insert((id, package, installed, fixed[earliest.expect("a fix")].clone()));
    }
    out
}

/// The vulnerability id an Alpine secfixes entry names. The secdb format lists one
/// vulnerability per entry: a CVE id (older entries write `CVE_`), or a GHSA id when there is
/// no CVE; other words are notes.
fn secfixes_id(entry: &str) -> Option<String> {
    let words: Vec<String> =
        entry.split(' ').filter(|w| !w.is_empty()).map(|w| w.replacen("CVE_", "CVE-", 1)).collect();
    let is = |prefix: &str| words.iter().find(|w| w.starts_with(prefix)).cloned();
    is("CVE-").or_else(|| is("GHSA-"))
}

/// The simple Alpine matcher: secdb of `release` (fixed version → ids), by origin package.
fn alpine_expected(release: &str, packages: &[Package]) -> BTreeSet<Finding> {
    let mut candidates = Vec::new();
    for f in json_files(&vuln_list().unwrap().join("alpine").join(release)) {
        let v = read_json(&f);
        let origin = v["name"].as_str().unwrap();
        for (fixed, ids) in v["secfixes"].as_object().into_iter().flatten() {
            // "0": the release was never affected.
            if fixed == "0" {
                continue;
            }
            for id in ids.as_array().into_iter().flatten().filter_map(Value::as_str).filter_map(secfixes_id) {
                for p in packages.iter().filter(|p| p.source_name.as_deref().unwrap_or(&p.name) == origin) {
                    let (package, installed) = (p.name.clone(), p.full_version());
                    candidates.push(Candidate { id: id.clone(), package, installed, fixed: fixed.clone() });
                }
            }
        }
    }
    vulnerable(candidates, &ApkToolsTables)
}

/// `[epoch:]version-release` of an advisory package entry (a zero epoch left out).
fn fixed_evr(pkg: &Value) -> String {
    let epoch =
        pkg["epoch"].as_str().filter(|e| *e != "0" && !e.is_empty()).map(|e| format!("{e}:")).unwrap_or_default();
    format!("{epoch}{}-{}", pkg["version"].as_str().unwrap(), pkg["release"].as_str().unwrap())
}

/// The advisory's CVE ids.
fn cve_ids(erratum: &Value) -> Vec<String> {
    erratum["cveids"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
}

/// The simple Amazon matcher: ALAS of `release`, by binary package name.
fn amazon_expected(release: &str, packages: &[Package]) -> BTreeSet<Finding> {
    let mut candidates = Vec::new();
    for f in json_files(&vuln_list().unwrap().join("amazon").join(release)) {
        let v = read_json(&f);
        for pkg in v["packages"].as_array().into_iter().flatten() {
            let fixed = fixed_evr(pkg);
            for p in packages.iter().filter(|p| p.name == pkg["name"].as_str().unwrap() && !p.is_gpg_pubkey()) {
                for id in cve_ids(&v) {
                    let (package, installed, fixed) = (p.name.clone(), p.full_version(), fixed.clone());
                    candidates.push(Candidate { id, package, installed, fixed });
                }
            }
        }
    }
    vulnerable(candidates, &RpmLabelCompare)
}

/// The simple Rocky matcher: errata of `major`, by binary name and architecture (noarch
/// packages match any); a module build's fix (`.module+` in its release) only for packages
/// from a module stream, and the other way round.
fn rocky_expected(major: &str, packages: &[Package]) -> BTreeSet<Finding> {
    let mut candidates = Vec::new();
    for f in json_files(&vuln_list().unwrap().join("rocky").join(major)) {
        let v = read_json(&f);
        for pkg in v["packages"].as_array().into_iter().flatten() {
            let fixed = fixed_evr(pkg);
            let modular = fixed.contains(".module+") || fixed.contains(".module_");
            for p in packages.iter().filter(|p| p.name == pkg["name"].as_str().unwrap()) {
                let arch_ok = p.arch.as_deref() == Some("noarch") || p.arch.as_deref() == pkg["arch"].as_str();
                if arch_ok && modular == p.modularity_label.is_some() {
                    for id in cve_ids(&v) {
                        let (package, installed, fixed) = (p.name.clone(), p.full_version(), fixed.clone());
                        candidates.push(Candidate { id, package, installed, fixed });
                    }
                }
            }
        }
    }
    vulnerable(candidates, &RpmLabelCompare)
}

fn ours(os: &OsInfo, packages: &[Package]) -> BTreeSet<Finding> {
    let db = VulnDb::open(BUNDLED_DB).unwrap();
    let (findings, warnings) = detect(&db, os, packages, &Budget::new(64 << 20)).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    findings.into_iter().map(|f| (f.id, f.package, f.installed, f.fixed)).collect()
}

fn os(family: &str, version: &str) -> OsInfo {
    OsInfo { family: family.into(), id: family.into(), version_id: Some(version.into()), ..OsInfo::default() }
}

fn db_packages(path: &Path, format: DbFormat) -> Vec<Package> {
    let file = coldscan_host::source::FileSource::open(path).unwrap();
    format.read(&file, None, "x", &Budget::new(64 << 20)).unwrap().packages.as_slice().to_vec()
}

fn compare(what: &str, ours: BTreeSet<Finding>, theirs: BTreeSet<Finding>) -> usize {
    let missing: Vec<_> = theirs.difference(&ours).take(5).collect();
    let extra: Vec<_> = ours.difference(&theirs).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{what}: missing {missing:?}, extra {extra:?}");
    eprintln!("{what}: {} findings, same set as the simple matcher", ours.len());
    ours.len()
}

/// The packages of the sample image's roots, through the whole image stack.
fn sample_roots() -> BTreeMap<String, (OsInfo, Vec<Package>)> {
    let args = coldscan_host::ImageArgs {
        image: fixtures().join("sample.img"),
        mem_limit: 64 << 20,
        read_limit: DEFAULT_READ_LIMIT,
    };
    let img = args.open(&coldscan_core::progress::NoProgress).unwrap();
    let disk = coldscan_core::inspect::Disk::open(&img.source, &img.opener, &img.budget).unwrap();
    disk.scan()
        .roots
        .into_iter()
        .map(|(id, root)| {
            let packages = root.inventories.iter().flat_map(|i| i.packages.as_slice().to_vec()).collect();
            (id, (root.os.unwrap(), packages))
        })
        .collect()
}

#[test]
fn alpine_findings_match_the_simple_matcher() {
    if vuln_list().is_none() {
        return;
    }
    let roots = sample_roots();
    let (alpine_os, alpine_pkgs) = &roots["gpt:1"];
    assert!(compare("sample alpine 3.18", ours(alpine_os, alpine_pkgs), alpine_expected("3.18", alpine_pkgs)) > 0);
    let data = shared_testdata().unwrap();
    let scalibr = db_packages(&data.join("apk/osv-scalibr/installed"), DbFormat::ApkInstalled);
    assert!(
        compare(
            "osv-scalibr installed (3.18)",
            ours(&os("alpine", "3.18.0"), &scalibr),
            alpine_expected("3.18", &scalibr)
        ) > 0
    );
    for case in ["trivy-local-alpine", "trivy-vm-alpine"] {
        let dir = data.join("apk").join(case);
        let release = std::fs::read_to_string(dir.join("etc/alpine-release")).unwrap().trim().to_string();
        let minor: String = release.split('.').take(2).collect::<Vec<_>>().join(".");
        let pkgs = db_packages(&dir.join("lib/apk/db/installed"), DbFormat::ApkInstalled);
        compare(case, ours(&os("alpine", &release), &pkgs), alpine_expected(&minor, &pkgs));
    }
}

#[test]
fn amazon_linux_2_findings_match_the_simple_matcher() {
    if vuln_list().is_none() {
        return;
    }
    let data = shared_testdata().unwrap();
    let pkgs = db_packages(&data.join("rpmdb/amazonlinux2-bdb/Packages"), DbFormat::RpmBdb);
    assert!(compare("amazon linux 2 rpmdb", ours(&os("amazon", "2"), &pkgs), amazon_expected("2", &pkgs)) > 0);
}

#[test]
fn amazon_linux_2_xfs_disk_findings_match_the_simple_matcher() {
    if vuln_list().is_none() {
        return;
    }
    let found = scanned(amazon_linux_2().unwrap());
    let data = shared_testdata().unwrap();
    let pkgs = db_packages(&data.join("rpmdb/amazonlinux2-bdb/Packages"), DbFormat::RpmBdb);
    assert!(compare("amazon linux 2 XFS disk", found, amazon_expected("2", &pkgs)) > 700);
}

/// (id, package, installed, fixed) of the first target of `coldscan scan IMAGE --format json`.
fn scanned(img: &Path) -> BTreeSet<Finding> {
    let (_, out, err) = run(&["scan", img.to_str().unwrap(), "--format", "json"]);
    let report: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    report["targets"][0]["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (s("id"), s("package"), s("installed"), s("fixed"))
        })
        .collect()
}

#[test]
fn rhel_style_lvm_disk_findings_match_the_simple_matcher() {
    if vuln_list().is_none() {
        return;
    }
    // Rocky 9.2 on an LVM root whose rpmdb is on the /var LV (fstab), in qcow2.
    let found = scanned(&lvm_fixtures().join("rhel.qcow2"));
    let pkgs = db_packages(&fixtures().join("rpmdb/sqlite/rpmdb.sqlite"), DbFormat::RpmSqlite);
    assert!(compare("RHEL-style LVM disk", found, rocky_expected("9", &pkgs)) > 0);
}

#[test]
fn rocky_findings_match_the_simple_matcher() {
    if vuln_list().is_none() {
        return;
    }
    let roots = sample_roots();
    let (rocky_os, rocky_pkgs) = &roots["gpt:2"];
    assert_eq!(rocky_os.family, "rocky");
    assert!(compare("sample rocky 9", ours(rocky_os, rocky_pkgs), rocky_expected("9", rocky_pkgs)) > 0);
}

#[test]
fn exit_codes_and_filters() {
    let sample = fixtures().join("sample.img");
    let s = sample.to_str().unwrap();
    let count = |args: &[&str]| -> (i32, usize) {
        let mut all = vec!["scan", "--format", "json", "--quiet"];
        all.extend_from_slice(args);
        all.push(s);
        let (code, out, err) = run(&all);
        let r: Value = serde_json::from_slice(&out).unwrap_or_else(|_| panic!("{err}"));
        (code, r["targets"].as_array().unwrap().iter().map(|t| t["vulnerabilities"].as_array().unwrap().len()).sum())
    };
    let (code, all) = count(&[]);
    assert_eq!(code, 0, "without --exit-code findings do not fail the run");
    assert!(all > 0);
    let (code, _) = count(&["--exit-code", "5"]);
    assert_eq!(code, 5);
    let (code, n) = count(&["--exit-code", "5", "--severity", "CRITICAL"]);
    assert_eq!((code, n), (if n > 0 { 5 } else { 0 }, n));
    let (code, high) = count(&["--exit-code", "5", "--severity", "HIGH"]);
    assert!(high > 0 && high < all);
    assert_eq!(code, 5);
    let (_, fixed_only) = count(&["--ignore-unfixed"]);
    assert!(fixed_only <= all);
    let (code, _, err) = run(&["scan", "--severity", "SEVERE", s]);
    assert_eq!(code, 2, "{err}");
    // Contract shape.
    let (_, out, _) = run(&["scan", "--format", "json", "--quiet", s]);
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["schema"], "coldscan/report/v1");
    let v = &r["targets"][0]["vulnerabilities"][0];
    for key in ["id", "package", "installed", "fixed", "status", "severity", "title", "advisory", "source"] {
        assert!(v.get(key).is_some(), "vulnerability entry lacks {key}: {v}");
    }
    let vulns = r["targets"][0]["vulnerabilities"].as_array().unwrap();
    let keys: Vec<(String, String)> =
        vulns.iter().map(|v| (v["package"].as_str().unwrap().into(), v["id"].as_str().unwrap().into())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "one entry per (package, id), sorted by package then id");
    // Alpine 3.18 left support on 2025-05-09 (a date before any run of this test); Rocky 9 did not.
    let eol: Vec<&Value> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["message"].as_str().unwrap().contains("end of life"))
        .collect();
    assert_eq!(eol.len(), 1, "{:?}", r["errors"]);
    assert_eq!((eol[0]["layer"].as_str(), eol[0]["volume"].as_str()), (Some("os"), Some("gpt:1")));
    assert!(eol[0]["message"].as_str().unwrap().contains("2025-05-09"));
}

#[test]
fn sarif_and_cyclonedx_round_trip() {
    use cyclonedx_bom::models::bom::Bom;
    use cyclonedx_bom::validation::Validate;
    let sample = fixtures().join("sample.img");
    let s = sample.to_str().unwrap();
    let (_, json, _) = run(&["scan", "--format", "json", "--quiet", s]);
    let report: Value = serde_json::from_slice(&json).unwrap();
    let findings: usize =
        report["targets"].as_array().unwrap().iter().map(|t| t["vulnerabilities"].as_array().unwrap().len()).sum();
    // SARIF: deserialised by serde-sarif's own types.
    let (code, out, err) = run(&["scan", "--format", "sarif", "--quiet", s]);
    assert_eq!(code, 0, "{err}");
    let sarif: serde_sarif::sarif::Sarif = serde_json::from_slice(&out).expect("SARIF 2.1.0");
    let results = sarif.runs[0].results.as_ref().unwrap();
    assert_eq!(results.len(), findings);
    assert!(results.iter().all(|r| r.rule_id.is_some()));
    // CycloneDX: parsed and validated by cyclonedx-bom.
    let (code, out, err) = run(&["scan", "--format", "cyclonedx", "--quiet", s]);
    assert_eq!(code, 0, "{err}");
    let bom = Bom::parse_from_json_v1_5(&out[..]).expect("CycloneDX 1.5");
    let validation = bom.validate();
    assert!(validation.passed(), "{validation:?}");
    assert_eq!(bom.vulnerabilities.unwrap().0.len(), findings);
}

#[test]
fn db_info_lists_sources_and_platforms() {
    let (code, out, err) = run(&["db", "info"]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(out).unwrap();
    // Each source once, with where its data came from.
    let sources: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "sources:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut unique = sources.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(sources.len(), unique.len(), "{text}");
    assert!(text.contains("alpine           vulsio/vuls-data-raw-alpine-secdb@9e13b6c"), "{text}");
    for platform in ["alpine 3.18", "rocky 9", "amazon 2", "alma 9"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(platform)), "{platform} missing:\n{text}");
    }
}

/// The families added after the bulk data (Red Hat, Oracle, SUSE) through the whole CLI: an
/// extracted root whose rpmdb (written by rpm) holds thunderbird 78.5.0-1.el8_3.x86_64, scanned
/// with a DB holding the advisory shapes db-builder makes from trivy-db's fixtures (checked
/// in db-builder/tests/families.rs), under each distribution's os-release.
#[test]
fn rhel_oracle_and_suse_roots_end_to_end() {
    use coldscan_core::vulndb::{Builder, NewAdvisory, Severity};
    let root = tempfile::tempdir().unwrap();
    let rpmdir = root.path().join("usr/lib/sysimage/rpm");
    std::fs::create_dir_all(&rpmdir).unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::copy(fixtures().join("rpmdb/sqlite/rpmdb.sqlite"), rpmdir.join("rpmdb.sqlite")).unwrap();

    let mut b = Builder::new();
    // The negative cases carry their own ids, so a wrong match would add a finding.
    let mut add = |platform: &str, vuln: &str, fixed: &str, arches: &str, advisory: &str| {
        let a =
            NewAdvisory { arches: arches.into(), ..NewAdvisory::new(platform, "thunderbird", vuln, fixed, advisory) };
        b.add(a, Severity::High, "", "test");
    };
    add("redhat 8", "CVE-2020-16042", "78.6.0-1.el8_3", "aarch64,ppc64le,x86_64", "RHSA-2020:5624");
    add("redhat 8", "CVE-OLDER", "78.4.0-1.el8", "x86_64", "RHSA-OLDER"); // installed is past it
    add("redhat 8", "CVE-OTHER-ARCH", "78.7.0-1.el8_3", "aarch64", "RHSA-OTHER-ARCH");
    add("redhat 9", "CVE-OTHER-RELEASE", "78.7.0-1.el9", "", "RHSA-OTHER-RELEASE");
    add("oracle 8", "CVE-2020-16042", "78.6.0-1.0.1.el8_3", "x86_64", "ELSA-2020-5624");
    add("oracle 8", "CVE-FIPS", "78.6.0-1.0.1.el8_3_fips", "x86_64", "ELSA-FIPS"); // another flavour
    add("suse 15.1", "CVE-2020-16042", "78.6.0-lp151.1.1", "", "SUSE-SU-2020:3784-1");
    let db = root.path().join("test.db");
    std::fs::write(&db, b.finish("2026-11-25T00:00:00Z")).unwrap();

    for (os_release, advisory) in [
        ("ID=\"rhel\"\nVERSION_ID=\"8.3\"\n", "RHSA-2020:5624"),
        ("ID=\"centos\"\nVERSION_ID=\"8\"\n", "RHSA-2020:5624"),
        ("ID=\"ol\"\nVERSION_ID=\"8.3\"\n", "ELSA-2020-5624"),
        ("ID=\"sles\"\nVERSION_ID=\"15.1\"\n", "SUSE-SU-2020:3784-1"),
    ] {
        std::fs::write(root.path().join("etc/os-release"), os_release).unwrap();
        let (code, out, err) =
            run(&["scan", "--format", "json", "--quiet", "--db", db.to_str().unwrap(), root.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let report: Value = serde_json::from_slice(&out).unwrap();
        let found: Vec<(&str, &str)> = report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["vulnerabilities"].as_array().unwrap())
            .map(|v| (v["package"].as_str().unwrap(), v["advisory"].as_str().unwrap()))
            .collect();
        assert_eq!(found, [("thunderbird", advisory)], "{os_release}");
    }
}

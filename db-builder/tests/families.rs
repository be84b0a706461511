//! One test per family on trivy-db's own fixtures (`../shared/vuln-list/vuln-list-subset.tar.gz`,
//! fixtures/trivy-db): the normalised advisories of named packages (platform, fixed version,
//! status, ids, advisory), and the "sad" (malformed) cases: an error naming the file, or a
//! skip counted with `--keep-going`. Skipped, with a message, when ../shared is absent.

use coldscan_core::vulndb::{Status, VulnDb};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// fixtures/trivy-db of the subset tarball, unpacked once.
fn fixtures() -> Option<&'static Path> {
    static DIR: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    DIR.get_or_init(|| {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vuln-list/vuln-list-subset.tar.gz");
        if !shared.is_file() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is absent", shared.display());
            eprintln!("SKIP: {} is absent", shared.display());
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(Command::new("tar").arg("xzf").arg(&shared).arg("-C").arg(dir.path()).status().unwrap().success());
        let root = dir.path().join("vuln-list-subset/fixtures/trivy-db");
        Some((dir, root))
    })
    .as_ref()
    .map(|(_, p)| p.as_path())
}

/// Runs the builder on one fixture case; Ok(blob) or Err(stderr).
fn build(case: &str, keep_going: bool) -> Result<Vec<u8>, String> {
    build_with("--vuln-list", case, keep_going)
}

/// Runs the builder with the fixture case given to `option`.
fn build_with(option: &str, case: &str, keep_going: bool) -> Result<Vec<u8>, String> {
    build_cases(option, &[case], keep_going)
}

/// Runs the builder with each fixture case given to `option`.
fn build_cases(option: &str, cases: &[&str], keep_going: bool) -> Result<Vec<u8>, String> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"));
    for case in cases {
        cmd.arg(option).arg(fixtures().unwrap().join(case));
    }
    cmd.arg("--out").arg(out.path()).args(["--built-at", "2026-01-01T00:00:00Z"]);
    if keep_going {
        cmd.arg("--keep-going");
    }
    let run = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    if run.status.success() {
        Ok(std::fs::read(out.path()).unwrap())
    } else {
        Err(stderr)
    }
}

/// (fixed, status, sorted ids, advisory) of every advisory for `package` on `platform`.
fn advisories(blob: &[u8], platform: &str, package: &str) -> Vec<(String, Status, Vec<String>, String)> {
    let db = VulnDb::open(blob).unwrap();
    db.advisories(platform, package)
        .unwrap()
        .into_iter()
        .map(|a| {
            let mut ids: Vec<String> = a.vulns.iter().map(|&v| db.details(v).unwrap().id.to_string()).collect();
            ids.sort();
            (a.fixed.to_string(), a.status, ids, a.advisory.to_string())
        })
        .collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn alpine() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("alpine/happy", false).unwrap();
    let got = advisories(&blob, "alpine 3.12", "ansible");
    assert_eq!(
        got,
        vec![
            (
                "2.9.3-r0".into(),
                Status::Fixed,
                // "CVE-2024-22195 GHSA-…": the CVE wins; GHSA ids stand alone; notes are dropped.
                ids(&[
                    "CVE-2019-14904",
                    "CVE-2019-14905",
                    "CVE-2024-22195",
                    "CVE-2017-2616",
                    "GHSA-f7r5-w49x-gxm3",
                    "GHSA-h6cc-rc6q-23j4"
                ]),
                String::new()
            ),
            ("2.9.6-r0".into(), Status::Fixed, ids(&["CVE-2020-1737"]), String::new()),
        ]
    );
    let err = build("alpine/sad", false).unwrap_err();
    assert!(err.contains("ansible.json"), "{err}");
    assert!(build("alpine/sad", true).is_ok());
}

#[test]
fn amazon() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("amazon/happy", false).unwrap();
    let kernel = advisories(&blob, "amazon 2", "kernel");
    assert_eq!(
        kernel,
        vec![("4.14.243-185.433.amzn2".into(), Status::Fixed, ids(&["CVE-2021-22543"]), "ALAS2-2021-1699".into())]
    );
    let db = VulnDb::open(&blob).unwrap();
    for platform in ["amazon 1", "amazon 2", "amazon 2022"] {
        assert!(db.has_platform(platform), "{platform}");
    }
    let err = build("amazon/sad", false).unwrap_err();
    assert!(err.contains("ALAS-2018-1093.json"), "{err}");
}

#[test]
fn rocky() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("rocky/happy", false).unwrap();
    let bind = advisories(&blob, "rocky 8", "bind-export-libs");
    assert_eq!(
        bind,
        vec![("32:9.11.26-4.el8_4".into(), Status::Fixed, ids(&["CVE-2021-25215"]), "RLSA-2021:1989".into())]
    );
    let db = VulnDb::open(&blob).unwrap();
    let a = &db.advisories("rocky 8", "bind-export-libs").unwrap()[0];
    assert!(a.arches.split(',').any(|x| x == "x86_64"), "{}", a.arches);
    // Modular packages carry their module stream.
    let blob = build("rocky/modular", false).unwrap();
    let db = VulnDb::open(&blob).unwrap();
    let a = &db.advisories("rocky 8", "rubygem-bson").unwrap()[0];
    assert_eq!(a.module, "ruby:2.6");
    assert!(build("rocky/sad", false).is_err());
}

#[test]
fn alma() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("alma/happy", false).unwrap();
    let go = advisories(&blob, "alma 8", "go-toolset");
    assert_eq!(
        go,
        vec![(
            "1.15.14-1.module_el8.4.0+2519+614b07b8".into(),
            Status::Fixed,
            ids(&["CVE-2021-27918", "CVE-2021-31525"]),
            "ALSA-2021:3076".into()
        )]
    );
    let err = build("alma/sad", false).unwrap_err();
    assert!(err.contains("ALSA-2021-3076.json"), "{err}");
    let (blob, _) = (build("alma/duplicate", false).unwrap(), ());
    assert!(VulnDb::open(&blob).unwrap().has_platform("alma 8"));
}

#[test]
fn ubuntu() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("ubuntu", false).unwrap();
    // bionic: released at the Note version; jammy: pending (affected); focal: needs-triage (none).
    assert_eq!(
        advisories(&blob, "ubuntu 18.04", "xen"),
        vec![("1.2.3".into(), Status::Fixed, ids(&["CVE-2020-1234"]), String::new())]
    );
    assert_eq!(
        advisories(&blob, "ubuntu 22.04", "xen"),
        vec![(String::new(), Status::Affected, ids(&["CVE-2020-1234"]), String::new())]
    );
    assert!(advisories(&blob, "ubuntu 20.04", "xen").is_empty());
}

/// Runs the builder on a Debian fixture case (`--vuln-list-debian`).
fn build_debian(case: &str) -> Result<Vec<u8>, String> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
        .arg("--vuln-list-debian")
        .arg(fixtures().unwrap().join("debian").join(case))
        .arg("--out")
        .arg(out.path())
        .args(["--built-at", "2026-01-01T00:00:00Z"])
        .output()
        .unwrap();
    if run.status.success() {
        Ok(std::fs::read(out.path()).unwrap())
    } else {
        Err(String::from_utf8_lossy(&run.stderr).into_owned())
    }
}

#[test]
fn debian() {
    if fixtures().is_none() {
        return;
    }
    let blob = build_debian("happy").unwrap();
    let none = String::new();
    // A release's own annotation: fixed in buster at its own version; no-dsa in stretch.
    assert_eq!(
        advisories(&blob, "debian 10", "libgcrypt20"),
        vec![("1.8.4-5+deb10u1".into(), Status::Fixed, ids(&["CVE-2021-33560"]), none.clone())]
    );
    assert_eq!(
        advisories(&blob, "debian 9", "libgcrypt20"),
        vec![(none.clone(), Status::Affected, ids(&["CVE-2021-33560"]), none.clone())]
    );
    // bullseye has no annotation and already ships 1.8.7-6 (updates-source): not affected.
    assert!(advisories(&blob, "debian 11", "libgcrypt20").is_empty());
    assert_eq!(
        advisories(&blob, "debian 12", "gnutls28"),
        vec![("3.7.9-2+deb12u1".into(), Status::Fixed, ids(&["CVE-2023-5981"]), none.clone())]
    );
    // ignored → will not fix; not-affected → nothing.
    assert_eq!(
        advisories(&blob, "debian 10", "dacs"),
        vec![(none.clone(), Status::WillNotFix, ids(&["CVE-2021-29629"]), none.clone())]
    );
    assert!(advisories(&blob, "debian 9", "dacs").is_empty());
    assert_eq!(
        advisories(&blob, "debian 11", "cloud-init"),
        vec![(none.clone(), Status::Affected, ids(&["CVE-2020-8631"]), none)]
    );
    for case in ["broken-cve", "broken-distributions", "broken-packages"] {
        let err = build_debian(case).unwrap_err();
        assert!(err.contains(".json"), "{case}: {err}");
    }
}

#[test]
fn debian_security_announcements_fix_releases() {
    let Some(fixtures) = fixtures() else { return };
    // The real tracker files of the subset: curl's CVE-2023-38545 is annotated for unstable
    // only; bookworm's fix comes from DSA-5523-1.
    let real = fixtures.parent().unwrap().parent().unwrap().join("real");
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
        .arg("--vuln-list-debian")
        .arg(&real)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let blob = std::fs::read(out.path()).unwrap();
    assert_eq!(
        advisories(&blob, "debian 12", "curl"),
        vec![("7.88.1-10+deb12u4".into(), Status::Fixed, ids(&["CVE-2023-38545"]), "DSA-5523-1".into())]
    );
}

#[test]
fn photon() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("photon/happy", false).unwrap();
    let db = VulnDb::open(&blob).unwrap();
    assert!(db.has_platform("photon 3.0"));
    // res_ver "NA": no advisory.
    assert!(advisories(&blob, "photon 3.0", "curl").is_empty());
    let tomcat = advisories(&blob, "photon 3.0", "apache-tomcat");
    assert_eq!(tomcat.len(), 1);
    assert_eq!((tomcat[0].1, tomcat[0].2.clone()), (Status::Fixed, ids(&["CVE-2019-0199"])));
    assert!(build("photon/sad", false).unwrap_err().contains("badjson.json"));
}

#[test]
fn nvd_fills_titles_and_unknown_severities() {
    let Some(fixtures) = fixtures() else { return };
    let real = fixtures.parent().unwrap().parent().unwrap().join("real");
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
        .arg("--vuln-list")
        .arg(real.join("vuln-list"))
        .arg("--vuln-list-nvd")
        .arg(real.join("vuln-list-nvd"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let blob = std::fs::read(out.path()).unwrap();
    let db = VulnDb::open(&blob).unwrap();
    let d = db
        .advisories("alpine 3.20", "openssh")
        .unwrap()
        .iter()
        .flat_map(|a| a.vulns.clone())
        .map(|v| db.details(v).unwrap())
        .find(|d| d.id == "CVE-2024-6387")
        .expect("CVE-2024-6387 for openssh on alpine 3.20");
    assert!(d.title.starts_with("A security regression (CVE-2006-5051) was discovered in OpenSSH"), "{}", d.title);
    assert_ne!(d.severity, coldscan_core::vulndb::Severity::Unknown);
    let err = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
        .arg("--vuln-list-nvd")
        .arg(fixtures.join("nvd/sad"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(!err.status.success() && String::from_utf8_lossy(&err.stderr).contains("CVE-2020-0001.json"));
}

/// (fixed, arches, ids, erratum) of every Oracle advisory for `package` on `platform`.
fn oracle_entries(blob: &[u8], platform: &str, package: &str) -> Vec<(String, String, Vec<String>, String)> {
    let db = VulnDb::open(blob).unwrap();
    let mut out: Vec<_> = db
        .advisories(platform, package)
        .unwrap()
        .into_iter()
        .map(|a| {
            let mut ids: Vec<String> = a.vulns.iter().map(|&v| db.details(v).unwrap().id.to_string()).collect();
            ids.sort();
            (a.fixed.to_string(), a.arches.to_string(), ids, a.advisory.to_string())
        })
        .collect();
    out.sort();
    out
}

fn entry(fixed: &str, arches: &str, list: &[&str], erratum: &str) -> (String, String, Vec<String>, String) {
    (fixed.into(), arches.into(), ids(list), erratum.into())
}

#[test]
fn oracle() {
    if fixtures().is_none() {
        return;
    }
    let blob = build("oracle-oval/happy", false).unwrap();
    let cves = ["CVE-2007-0493", "CVE-2007-0494"];
    for package in ["bind-devel", "bind-sdb"] {
        assert_eq!(
            oracle_entries(&blob, "oracle 5", package),
            vec![entry("30:9.3.3-8.el5", "x86_64", &cves, "ELSA-2007-0057")]
        );
    }
    // The criterion with an empty package name is skipped; the severity is the erratum's.
    let db = VulnDb::open(&blob).unwrap();
    assert!(db.advisories("oracle 5", "").unwrap().is_empty());
    let a = &db.advisories("oracle 5", "bind-sdb").unwrap()[0];
    assert_eq!(db.details(a.vulns[0]).unwrap().severity, coldscan_core::vulndb::Severity::Medium);
    assert!(build("oracle-oval/sad", false).is_err());

    // No CVEs: the ELSA id is the vulnerability id, with the erratum's title.
    let blob = build("oracle-oval/elsa-id", false).unwrap();
    assert_eq!(
        oracle_entries(&blob, "oracle 5", "bind-devel"),
        vec![entry("30:9.3.3-8.el5", "x86_64", &["ELSA-2007-0057"], "ELSA-2007-0057")]
    );

    // One erratum for two releases, per-release fixes.
    let blob = build("oracle-oval/multi-platform", false).unwrap();
    let ids2 = ["CVE-2018-1094", "CVE-2018-19824"];
    assert_eq!(
        oracle_entries(&blob, "oracle 6", "kernel-uek"),
        vec![entry("4.1.12-124.24.3.el6uek", "x86_64", &ids2, "ELSA-2019-4510")]
    );
    assert_eq!(
        oracle_entries(&blob, "oracle 7", "kernel-uek"),
        vec![entry("4.1.12-124.24.3.el7uek", "x86_64", &ids2, "ELSA-2019-4510")]
    );

    // Architectures with different fixes; per (arch, flavour) the highest version over errata.
    let blob = build("oracle-oval/multi-arch", false).unwrap();
    // ELSA-2014-3077's fixes for CVE-2014-7169 (3.2-33.el5.1.0.x) are older than
    // ELSA-2014-1306's (3.2-33.el5_11.4) on every architecture, so the later one stands.
    assert_eq!(
        oracle_entries(&blob, "oracle 5", "bash"),
        vec![entry(
            "3.2-33.el5_11.4",
            "i386,ia64,x86_64",
            &["CVE-2014-7169", "CVE-2014-7186", "CVE-2014-7187"],
            "ELSA-2014-1306"
        )]
    );
    assert_eq!(
        oracle_entries(&blob, "oracle 6", "bash-doc"),
        vec![entry(
            "4.1.2-15.el6_5.2",
            "i686,x86_64",
            &["CVE-2014-7169", "CVE-2014-7186", "CVE-2014-7187"],
            "ELSA-2014-1306"
        )]
    );

    // Flavours are kept apart: the fips build's fix does not replace the normal one.
    let blob = build("oracle-oval/multi-flavor", false).unwrap();
    let gnutls = oracle_entries(&blob, "oracle 8", "gnutls");
    let flavour_ids = ["CVE-2021-20231", "CVE-2021-20232", "CVE-2021-3580"];
    assert_eq!(
        gnutls,
        vec![
            entry("10:3.6.16-4.0.1.el8_fips", "aarch64,x86_64", &flavour_ids, "ELSA-2022-9221"),
            entry("3.6.16-4.el8", "aarch64", &flavour_ids, "ELSA-2021-4451"),
            entry("3.6.16-5.el8", "x86_64", &flavour_ids, "ELSA-2021-4451"),
        ]
    );

    // Ksplice builds: the later ksplice erratum wins; same version from two files merges arches.
    let blob = build("oracle-oval/ksplice", false).unwrap();
    assert_eq!(
        oracle_entries(&blob, "oracle 8", "glibc"),
        vec![entry("2:2.28-151.0.1.ksplice2.el8", "x86_64", &["CVE-2016-10228"], "ELSA-2021-9344")]
    );
    let blob = build("oracle-oval/multiple-elsa-ids-same-fix-version", false).unwrap();
    assert_eq!(
        oracle_entries(&blob, "oracle 8", "glibc"),
        vec![entry("2:2.28-151.0.1.ksplice1.el8", "i386,x86_64", &["CVE-2016-10228"], "ELSA-2021-9280,ELSA-2021-9344")]
    );

    // Releases outside Oracle Linux 5–9 are skipped: alone, that leaves the source empty,
    // which fails the build; beside other data, the platform is simply absent.
    let err = build("oracle-oval/unknown-platform", false).unwrap_err();
    assert!(err.contains("1 Oracle OVAL files read but no advisory found in them"), "{err}");
    let blob = build_cases("--vuln-list", &["oracle-oval/unknown-platform", "oracle-oval/happy"], false).unwrap();
    let db = VulnDb::open(&blob).unwrap();
    assert!(!db.has_platform("oracle 1") && db.has_platform("oracle 5"));
}

/// A schema change (a renamed field) makes files malformed, and a source whose well-formed
/// files give nothing fails the build instead of bundling an empty source.
#[test]
fn a_changed_schema_fails_the_build() {
    if fixtures().is_none() {
        return;
    }
    // The package list renamed: every file still parses, none gives an advisory.
    let err = build_edited("amazon/happy/vuln-list", "amazon/2/ALAS2-2021-1699.json", "\"packages\"", "\"pkgs\"");
    assert!(err.contains("1 amazon files read but no advisory found in them"), "{err}");
    // A required field missing: the file is malformed, named in the error.
    let err = build_edited("photon/happy/vuln-list", "photon/3.0/curl/CVE-2025-0725.json", "\"cve_id\"", "\"cve\"");
    assert!(err.contains("CVE-2025-0725.json: missing field `cve_id`"), "{err}");
}

/// Builds from a vuln-list tree holding one fixture file (`file`, below the fixture tree
/// `case`) with `from` replaced by `to`; the build must fail: returns its error output.
fn build_edited(case: &str, file: &str, from: &str, to: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("vuln-list").join(file);
    std::fs::create_dir_all(edited.parent().unwrap()).unwrap();
    let original = std::fs::read_to_string(fixtures().unwrap().join(case).join(file)).unwrap();
    assert!(original.contains(from), "{file} has no {from}");
    std::fs::write(&edited, original.replace(from, to)).unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
        .arg("--vuln-list")
        .arg(dir.path().join("vuln-list"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(!run.status.success(), "{file} with {to}: the build succeeded");
    String::from_utf8_lossy(&run.stderr).into_owned()
}

#[test]
fn suse() {
    if fixtures().is_none() {
        return;
    }
    let su = |id: &str| vec![id.to_string()];
    // SLE modules and Package Hub by major and service pack; the advisory id, as trivy-db.
    let blob = build("suse-cvrf/happy/SUSE Enterprise Linux", false).unwrap();
    assert_eq!(
        advisories(&blob, "suse 15.1", "helm-mirror"),
        vec![("0.2.1-1.7.1".into(), Status::Fixed, su("SUSE-SU-2019:0048-2"), "SUSE-SU-2019:0048-2".into())]
    );
    let db = VulnDb::open(&blob).unwrap();
    let a = &db.advisories("suse 15.1", "helm-mirror").unwrap()[0];
    assert_eq!(db.details(a.vulns[0]).unwrap().severity, coldscan_core::vulndb::Severity::High, "highest threat");
    let blob = build("suse-cvrf/happy/openSUSE CVRF including SUSE Linux Enterprise Linux", false).unwrap();
    assert_eq!(advisories(&blob, "suse 15", "GraphicsMagick")[0].0, "1.3.29-bp150.2.12.1");
    // Micro editions, both product names; a version with `_` in it.
    let blob = build("suse-cvrf/happy/SUSE Linux Enterprise Micro", false).unwrap();
    assert_eq!(advisories(&blob, "suse-micro 5.3", "libgnutls30")[0].0, "3.7.3-150400.8.1");
    assert_eq!(
        advisories(&blob, "suse-micro 6.0", "docker"),
        vec![("27.5.1_ce-3.1".into(), Status::Fixed, su("SUSE-SU-2025:20377-1"), "SUSE-SU-2025:20377-1".into())]
    );
    let blob = build("suse-cvrf/happy/openSUSE Tumbleweed", false).unwrap();
    assert_eq!(advisories(&blob, "opensuse-tumbleweed", "python3-logilab-common")[0].0, "1.2.2-1.2");
    let blob = build("suse-cvrf/happy/openSUSE", false).unwrap();
    assert_eq!(advisories(&blob, "opensuse-leap 15.1", "strongswan-ipsec")[0].0, "5.6.0-lp151.4.3.1");
    assert!(build("suse-cvrf/sad", false).unwrap_err().contains("openSUSE-SU-2019-0003-1.json"));
}

#[test]
fn redhat_oval() {
    if fixtures().is_none() {
        return;
    }
    let blob = build_with("--vuln-list-redhat", "redhat-oval/happy", false).unwrap();
    let db = VulnDb::open(&blob).unwrap();
    // Patched: per CVE, the RHSA's fixed EVR (zero epoch dropped) and its architectures; the
    // EUS stream's RHSA-2020:9999 for thunderbird is not for a default RHEL 8.
    assert_eq!(
        advisories(&blob, "redhat 8", "thunderbird"),
        vec![(
            "78.6.0-1.el8_3".into(),
            Status::Fixed,
            ids(&["CVE-2020-16042", "CVE-2020-26971"]),
            "RHSA-2020:5624".into()
        )]
    );
    let a = &db.advisories("redhat 8", "thunderbird").unwrap()[0];
    assert_eq!(a.arches, "aarch64,ppc64le,x86_64");
    // Unpatched: the CVE with its resolution; module streams from "Module … is enabled".
    assert_eq!(
        advisories(&blob, "redhat 8", "grafana-postgres"),
        vec![(String::new(), Status::Affected, ids(&["CVE-2026-23745"]), String::new())]
    );
    let mut modules: Vec<&str> =
        db.advisories("redhat 8", "nodejs-full-i18n").unwrap().iter().map(|a| a.module).collect();
    modules.sort();
    assert_eq!(modules, ["nodejs:20", "nodejs:22"]);
    // The fixture's CPE map names BaseOS only: AppStream-only (RHSA-2020:4751, httpd), CRB
    // (cifs-utils), EUS (CVE-2020-26972) and RHEL 7 definitions are not for a default RHEL 8.
    for package in ["httpd", "cifs-utils", "pam_cifscreds", "evolution"] {
        assert!(advisories(&blob, "redhat 8", package).is_empty(), "{package}");
    }
    assert!(!db.has_platform("redhat 7"));

    assert!(build_with("--vuln-list-redhat", "redhat-oval/no-definitions", false).is_ok());
    for sad in ["sad", "no-repo-to-cpe", "broken-repo-to-cpe"] {
        let err = build_with("--vuln-list-redhat", &format!("redhat-oval/{sad}"), false).unwrap_err();
        assert!(err.contains(".json"), "{sad}: {err}");
    }
}

#[test]
fn source_references_must_name_a_source_read() {
    if fixtures().is_none() {
        return;
    }
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = |source: &str| {
        Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
            .arg("--vuln-list")
            .arg(fixtures().unwrap().join("photon/happy"))
            .args(["--source", source, "--out"])
            .arg(out.path())
            .output()
            .unwrap()
    };
    assert!(run("photon=aquasecurity/vuln-list@abc,2025-01-01").status.success());
    let db = std::fs::read(out.path()).unwrap();
    let db = VulnDb::open(&db).unwrap();
    let s = &db.meta.sources[0];
    assert_eq!((s.name, s.commit, s.date), ("photon", "aquasecurity/vuln-list@abc", "2025-01-01"));
    let bad = run("suse=x,2025-01-01");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--source suse"));
}

#[test]
fn redhat_security_data_fills_titles_after_nvd() {
    let Some(fixtures) = fixtures() else { return };
    let real = fixtures.parent().unwrap().parent().unwrap().join("real");
    let title_with = |extra: &[&str]| -> String {
        let out = tempfile::NamedTempFile::new().unwrap();
        let run = Command::new(env!("CARGO_BIN_EXE_coldscan-db-builder"))
            .arg("--vuln-list")
            .arg(real.join("vuln-list"))
            .args(extra)
            .arg("--out")
            .arg(out.path())
            .current_dir(&real)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let blob = std::fs::read(out.path()).unwrap();
        let db = VulnDb::open(&blob).unwrap();
        let advisories = db.advisories("alpine 3.20", "openssh").unwrap();
        let mut details = advisories.iter().flat_map(|a| a.vulns.iter()).map(|&v| db.details(v).unwrap());
        let d = details.find(|d| d.id == "CVE-2024-6387").unwrap();
        d.title.to_string()
    };
    assert_eq!(
        title_with(&["--vuln-list-redhat", "vuln-list-redhat"]),
        "openssh: regreSSHion - race condition in SSH allows RCE/DoS",
        "Red Hat's Bugzilla summary without its CVE prefix"
    );
    let nvd_first = title_with(&["--vuln-list-redhat", "vuln-list-redhat", "--vuln-list-nvd", "vuln-list-nvd"]);
    assert!(nvd_first.starts_with("A security regression"), "{nvd_first}");

    // trivy-db's cases: every happy one reads, every sad one is an error naming the file.
    for case in 1..=7 {
        assert!(build_with("--vuln-list-redhat", &format!("redhat/happy{case}"), false).is_ok(), "happy{case}");
    }
    for case in 1..=8 {
        let err = build_with("--vuln-list-redhat", &format!("redhat/sad{case}"), false).unwrap_err();
        assert!(err.contains("/api/") && err.contains(".json"), "sad{case}: {err}");
    }
}

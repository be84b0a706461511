//! OS detection against the expectations in `../shared/testdata-real/os-release`: claircore's
//! parsed key/value maps and distribution records, and the release files of trivy's tests.

mod common;

use coldscan_core::os::{from_os_release, from_release_file, parse_os_release, ReleaseFile};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn claircore_os_release_cases() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("os-release/claircore/osrelease");
    let mut cases = 0;
    for case in std::fs::read_dir(&dir).unwrap() {
        let case = case.unwrap().path();
        let text = std::fs::read_to_string(case.join("os-release")).unwrap();
        let parsed: BTreeMap<String, String> =
            serde_json::from_str(&std::fs::read_to_string(case.join("Parsed.json")).unwrap()).unwrap();
        let mut ours = BTreeMap::new();
        parse_os_release(&text, |k, v| {
            ours.insert(k.to_string(), v);
        });
        assert_eq!(ours, parsed, "{}: key/value parse", case.display());

        let dist: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("Distribution.json")).unwrap()).unwrap();
        let info = from_os_release(&text, "/etc/os-release");
        let field = |k: &str| dist.get(k).and_then(Value::as_str).map(str::to_string);
        assert_eq!(Some(info.id.clone()), field("did"), "{}", case.display());
        assert_eq!(info.name, field("name"), "{}", case.display());
        assert_eq!(info.version, field("version"), "{}", case.display());
        assert_eq!(info.version_id, field("version_id"), "{}", case.display());
        assert_eq!(info.codename, field("version_code_name"), "{}", case.display());
        // (claircore's `pretty_name` is its own derivation, not the file's: not compared.)
        cases += 1;
    }
    eprintln!("claircore os-release cases: {cases} matched");
    assert!(cases >= 10);
}

#[test]
fn release_files_of_rpm_distributions() {
    let Some(data) = shared_testdata() else { return };
    let base = data.join("os-release");
    let cases = [
        ("trivy/redhatbase/alma/almalinux-release", "alma", "8.4"),
        ("trivy/redhatbase/centos/centos-release", "centos", "7.6.1810"),
        ("trivy/redhatbase/fedora_29/fedora-release", "fedora", "29"),
        ("trivy/redhatbase/oracle_7/oracle-release", "oracle", "7.6"),
        ("trivy/redhatbase/redhat_6/redhat-release", "rhel", "6.2"),
        ("trivy/redhatbase/rocky/rocky-release", "rocky", "8.4"),
        ("trivy-history/redhatbase/centos/centos-stream-release", "centos", "9"),
        ("trivy-history/redhatbase/sl/sl-release", "scientific", "7.9"),
        ("trivy-history/redhatbase/oracle_7/etc/redhat-release", "rhel", "7.6"),
        ("amazonlinux2/etc/system-release", "amazon", "2"),
    ];
    for (path, family, version) in cases {
        let text = std::fs::read_to_string(base.join(path)).unwrap();
        let info =
            from_release_file(ReleaseFile::RedHat, &text, "x").unwrap_or_else(|| panic!("{path}: not recognised"));
        assert_eq!((info.family.as_str(), info.version_id.as_deref()), (family, Some(version)), "{path}");
    }
    let empty = std::fs::read_to_string(base.join("trivy/redhatbase/not_redhatbase/empty")).unwrap();
    assert!(from_release_file(ReleaseFile::RedHat, &empty, "x").is_none());
}

#[test]
fn trivy_os_release_samples() {
    let Some(data) = shared_testdata() else { return };
    let expected = [
        ("alma", "alma", "8.5"),
        ("alpine", "alpine", "3.15.4"),
        ("centos", "centos", "8"),
        ("fedora", "fedora", "35"),
        ("oracle", "oracle", "8.5"),
        ("rhel", "rhel", "8.5"),
        ("rocky", "rocky", "8.5"),
        ("photon", "photon", "4.0"),
        ("sles", "suse", "15.3"),
        ("opensuseleap-15.2.1", "opensuse", "15.2.1"),
        ("mariner-2.0", "mariner", "2.0"),
    ];
    for (file, family, _) in expected {
        let text = std::fs::read_to_string(data.join("os-release/trivy/release").join(file)).unwrap();
        let info = from_os_release(&text, "x");
        assert_eq!(info.family, family, "{file}");
        let raw_version =
            text.lines().find_map(|l| l.strip_prefix("VERSION_ID=")).map(|v| v.trim_matches('"').to_string());
        assert_eq!(info.version_id, raw_version, "{file}");
    }
    // Every sample parses without panicking; each one with an ID gets a family.
    for entry in std::fs::read_dir(data.join("os-release/trivy/release")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        let info = from_os_release(&text, "x");
        assert_eq!(info.family.is_empty(), info.id.is_empty());
    }
}

/// The vulnerability-DB platform of the SUSE and openSUSE os-release samples (trivy's test
/// files), named as the SUSE CVRF products are: `SUSE Linux Enterprise Server 15 SP1` →
/// `suse 15.1`, `openSUSE Leap 15.2` → `opensuse-leap 15.2`, …
#[test]
fn suse_platforms_of_real_os_release_files() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("os-release");
    for (file, platform) in [
        ("trivy-history/suse/sles_15/etc/os-release", "suse 15"),
        ("trivy-history/suse/sles_151/os-release", "suse 15.1"),
        ("trivy/release/sles", "suse 15.3"),
        ("trivy-history/release/opensuseleapmicro", "opensuse-leap-micro 6.0"),
        ("trivy-history/suse/opensuse_leap_423/etc/os-release", "opensuse-leap 42.3"),
        ("trivy-history/suse/opensuse_leap_tumbleweed/os-release", "opensuse-tumbleweed"),
        ("trivy/release/opensuseleap-15.2.1", "opensuse-leap 15.2"),
    ] {
        let info = from_os_release(&std::fs::read_to_string(dir.join(file)).unwrap(), "/etc/os-release");
        assert_eq!(coldscan_core::detect::platform(&info).as_deref(), Some(platform), "{file}");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn every_platform_of_the_bundled_db_is_reached_from_real_release_files() {
    use coldscan_core::vulndb::{Platform, VulnDb};
    let Some(data) = shared_testdata() else { return };
    // The distributions real release files are detected as: every os-release file alone,
    // and every sample laid out as a root (an `etc/` folder) through the whole OS detection.
    let mut reached = std::collections::BTreeSet::new();
    let budget = coldscan_core::Budget::new(1 << 20);
    for file in files_under(&data.join("os-release")) {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        if text.lines().any(|l| l.starts_with("ID=")) {
            let info = from_os_release(&text, "/etc/os-release");
            reached.extend(coldscan_core::detect::os_platform(&info).map(|p| p.distro));
        }
        let Some(etc) = file.ancestors().find(|a| a.file_name().is_some_and(|n| n == "etc")) else { continue };
        let root = coldscan_host::hostfs::HostDir::new(etc.parent().unwrap());
        if let Ok(Some(info)) = coldscan_core::os::detect(&root, &budget) {
            reached.extend(coldscan_core::detect::os_platform(&info).map(|p| p.distro));
        }
    }
    let db = VulnDb::open(coldscan_host::db::BUNDLED_DB).unwrap();
    for p in &db.meta.platforms {
        let platform = Platform::parse(p.name).unwrap_or_else(|| panic!("{}: a name detection never produces", p.name));
        assert_eq!(platform.to_string(), p.name);
        assert!(
            reached.contains(&platform.distro),
            "{}: no real release file is detected as {:?}",
            p.name,
            platform.distro
        );
    }
    eprintln!(
        "{} platforms of the bundled DB; distributions reached from release files: {reached:?}",
        db.meta.platforms.len()
    );
}

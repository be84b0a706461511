//! Detection: installed packages × the vulnerability database → findings. A pure function of
//! the OS, the package list and the database; filters (severity, unfixed) are the caller's
//! separate passes.
//!
//! Per family, with the distribution's own comparator: Alpine by origin (source) name on
//! `alpine MAJOR.MINOR`; Debian (`debian MAJOR`) and Ubuntu (`ubuntu YY.MM`) by source package
//! with dpkg's comparison; Amazon Linux by binary name on `amazon 1|2|2022|2023`; Rocky and
//! AlmaLinux by binary name on the major release, with an architecture filter (unless the
//! package is `noarch`) and modular packages only matched by modular fixes; Photon OS by
//! binary name on `photon X.Y`; Oracle Linux by binary name on `oracle MAJOR` with the
//! architecture filter and fixes only for the installed flavour (normal, fips, ksplice); SUSE
//! and openSUSE by binary name on the product release (SUSE's advisory ids); RHEL and CentOS
//! by binary name on `redhat MAJOR` (definitions of the default content sets), with the
//! architecture and module filters. `gpg-pubkey`
//! pseudo-packages are never matched. A release the database does not know is a warning.

mod eol;

pub use eol::{end_of_life, past_end_of_life};

use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::os::OsInfo;
use crate::pkg::Package;
use crate::version::{apk, dpkg, rpm};
use crate::vulndb::{Advisory, Distro, Platform, Severity, Status, VulnDb};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// One vulnerability in one installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Vulnerability id.
    pub id: String,
    /// Package name.
    pub package: String,
    /// Installed version (full form).
    pub installed: String,
    /// Fixed version, empty when there is no fix.
    pub fixed: String,
    /// Fix status.
    pub status: Status,
    /// Severity.
    pub severity: Severity,
    /// Title, when the database has one.
    pub title: String,
    /// The distribution's advisory id, if any.
    pub advisory: String,
    /// The advisory data's distribution (`alpine`, `amazon`, `rocky`, `alma`). The severity
    /// may come from another source that rated the same vulnerability.
    pub source: String,
}

/// How a family's packages are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Apk,
    Rpm,
    Deb,
}

/// The database platform of an OS (its name, as the DB spells it) and how to match on it;
/// `None` for families not covered.
pub fn platform(os: &OsInfo) -> Option<String> {
    platform_and_scheme(os).map(|(p, _)| p)
}

/// The [`Platform`] of an OS; `None` for families the DB does not cover.
pub fn os_platform(os: &OsInfo) -> Option<Platform> {
    let version = os.version_id.as_deref()?;
    let major = version.split('.').next()?;
    Some(match os.family.as_str() {
        "alpine" => {
            let mut parts = version.split('.');
            let (a, b) = (parts.next()?, parts.next().unwrap_or("0"));
            let b = b.split(|c: char| !c.is_ascii_digit()).next().unwrap_or("0");
            Platform::new(Distro::Alpine, &alloc::format!("{a}.{b}"))
        }
        "amazon" => {
            let release = match major {
                "2" | "2022" | "2023" => major,
                // Amazon Linux AMI (2017.09, 2018.03, …) is "Amazon Linux 1".
                _ if version.starts_with("20") => "1",
                _ => major,
            };
            Platform::new(Distro::Amazon, release)
        }
        "rocky" => Platform::new(Distro::Rocky, major),
        "alma" => Platform::new(Distro::Alma, major),
        "ubuntu" => Platform::new(Distro::Ubuntu, version),
        "photon" => Platform::new(Distro::Photon, version),
        "oracle" => Platform::new(Distro::Oracle, major),
        // CentOS rebuilds RHEL; both are matched with Red Hat's data.
        "rhel" | "centos" => Platform::new(Distro::Redhat, major),
        "suse" | "opensuse" => suse_platform(&os.id, version)?,
        "debian" => Platform::new(Distro::Debian, major),
        _ => return None,
    })
}

fn platform_and_scheme(os: &OsInfo) -> Option<(String, Scheme)> {
    let platform = os_platform(os)?;
    let scheme = match platform.distro {
        Distro::Alpine => Scheme::Apk,
        Distro::Ubuntu | Distro::Debian => Scheme::Deb,
        Distro::Amazon
        | Distro::Rocky
        | Distro::Alma
        | Distro::Photon
        | Distro::Oracle
        | Distro::Redhat
        | Distro::Suse
        | Distro::SuseMicro
        | Distro::OpensuseLeap
        | Distro::OpensuseLeapMicro
        | Distro::OpensuseTumbleweed => Scheme::Rpm,
    };
    Some((alloc::string::ToString::to_string(&platform), scheme))
}

/// Oracle Linux builds some packages in flavours that are versioned apart from the normal
/// build and fixed by their own errata: `fips` (release ends in `_fips`) and `ksplice` (a
/// dot-separated release part starts with `ksplice`). A fix applies only to its own flavour.
pub fn oracle_flavor(version: &str) -> &'static str {
    let starts_with = |s: &[u8], prefix: &[u8]| s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    let b = version.as_bytes();
    if b.len() >= 5 && b.get(b.len() - 5..).is_some_and(|end| end.eq_ignore_ascii_case(b"_fips")) {
        "fips"
    } else if version.split('.').any(|part| starts_with(part.as_bytes(), b"ksplice")) {
        "ksplice"
    } else {
        "normal"
    }
}

/// SUSE's platforms by os-release `ID`: SUSE Linux Enterprise (`suse 15.5`), its Micro
/// editions (`suse-micro 5.3`), openSUSE Leap (`opensuse-leap 15.5`), Leap Micro and
/// Tumbleweed (rolling, no version).
fn suse_platform(id: &str, version: &str) -> Option<Platform> {
    let distro = match id {
        "sles" | "sles_sap" | "sle_hpc" | "suse" => Distro::Suse,
        "sle-micro" | "sl-micro" => Distro::SuseMicro,
        "opensuse-leap" | "opensuse" => Distro::OpensuseLeap,
        "opensuse-leap-micro" => Distro::OpensuseLeapMicro,
        "opensuse-tumbleweed" => Distro::OpensuseTumbleweed,
        _ => return None,
    };
    // Releases are MAJOR[.MINOR] (`15.2.1` is Leap 15.2).
    let release = match version.match_indices('.').nth(1) {
        Some((second_dot, _)) => version.get(..second_dot).unwrap_or(version),
        None => version,
    };
    Some(Platform::new(distro, release))
}

fn is_modular_release(fixed: &str) -> bool {
    fixed.contains(".module+") || fixed.contains(".module_")
}

/// Finds the vulnerabilities of `packages` on `os`. Returns the findings, sorted by package
/// then id (one per pair: the earliest fix that applies), and warnings.
pub fn detect(
    db: &VulnDb<'_>,
    os: &OsInfo,
    packages: &[Package],
    budget: &Budget,
) -> Result<(Vec<Finding>, Vec<Error>)> {
    let mut warnings = Vec::new();
    let Some((platform, scheme)) = platform_and_scheme(os) else {
        warnings.push(Error::new(
            Layer::Os,
            "detect",
            0,
            ErrorKind::Unsupported("no vulnerability data for this distribution"),
        ));
        return Ok((Vec::new(), warnings));
    };
    if !db.has_platform(&platform) {
        warnings.push(Error::new(
            Layer::Os,
            "detect",
            0,
            ErrorKind::Unsupported("this release is not in the vulnerability DB (unknown or end of life)"),
        ));
        return Ok((Vec::new(), warnings));
    }
    let mut charge = budget.reserve(Layer::Os, "detect", 0, 0)?;
    let mut findings: Vec<Finding> = Vec::new();
    // Where each (vulnerability id, package name) finding is, so a second advisory for the
    // same pair updates it in O(log n) instead of a scan of every finding so far. The keys
    // borrow the DB's id and the package's name: nothing is copied for them.
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in packages.iter().filter(|p| !p.is_gpg_pubkey()) {
        let installed = p.full_version();
        // Alpine, Debian and Ubuntu publish advisories per source package; rpm distributions
        // per binary package.
        let key = match scheme {
            Scheme::Apk | Scheme::Deb => p.source_name.as_deref().unwrap_or(&p.name),
            Scheme::Rpm => &p.name,
        };
        let advisories = db.advisories(&platform, key)?;
        // The decoded list is charged while it is used (released before the next package).
        let decoded = advisories.iter().fold(0usize, |n, a| {
            n.saturating_add(core::mem::size_of::<Advisory<'_>>()).saturating_add(a.vulns.len().saturating_mul(4))
        });
        let _decoded = budget.reserve(Layer::Db, "vulndb", 0, decoded)?;
        for a in &advisories {
            let applies = match (scheme, a.status) {
                (_, Status::Fixed) if a.fixed.is_empty() => false,
                (Scheme::Apk, Status::Fixed) => apk::compare(&installed, a.fixed) == Ordering::Less,
                (Scheme::Deb, Status::Fixed) => dpkg::compare(&installed, a.fixed) == Ordering::Less,
                (Scheme::Rpm, Status::Fixed) => {
                    let arch_ok = a.arches.is_empty()
                        || p.arch
                            .as_deref()
                            .is_none_or(|arch| arch == "noarch" || a.arches.split(',').any(|x| x == arch));
                    // A fix in a module stream applies to packages of that stream only; without
                    // stream data, modular fixes apply to modular packages only.
                    let module_ok = if a.module.is_empty() {
                        is_modular_release(a.fixed) == p.modularity_label.is_some()
                    } else {
                        p.modularity_label
                            .as_deref()
                            .is_some_and(|l| l.strip_prefix(a.module).is_some_and(|rest| rest.starts_with(':')))
                    };
                    let flavor_ok =
                        !platform.starts_with("oracle ") || oracle_flavor(a.fixed) == oracle_flavor(&installed);
                    arch_ok && module_ok && flavor_ok && rpm::compare_evr(&installed, a.fixed) == Ordering::Less
                }
                _ => true,
            };
            if !applies {
                continue;
            }
            for &v in &a.vulns {
                let d = db.details(v)?;
                let known = seen.get(&(d.id, p.name.as_str())).and_then(|&i| findings.get_mut(i));
                if let Some(f) = known {
                    // Keep the earliest fix that applies.
                    let earlier = match scheme {
                        Scheme::Apk => apk::compare(a.fixed, &f.fixed) == Ordering::Less,
                        Scheme::Deb => dpkg::compare(a.fixed, &f.fixed) == Ordering::Less,
                        Scheme::Rpm => rpm::compare_evr(a.fixed, &f.fixed) == Ordering::Less,
                    };
                    if earlier && !a.fixed.is_empty() {
                        f.fixed = String::from(a.fixed);
                        f.advisory = String::from(a.advisory);
                    }
                    continue;
                }
                let f = Finding {
                    id: String::from(d.id),
                    package: p.name.clone(),
                    installed: installed.clone(),
                    fixed: String::from(a.fixed),
                    status: a.status,
                    severity: d.severity,
                    title: String::from(d.title),
                    advisory: String::from(a.advisory),
                    source: String::from(platform.split(' ').next().unwrap_or("")),
                };
                charge.grow(
                    Layer::Os,
                    "detect",
                    0,
                    core::mem::size_of::<Finding>()
                        + f.id.len()
                        + f.package.len()
                        + f.installed.len()
                        + f.fixed.len()
                        + f.advisory.len()
                        + core::mem::size_of::<((&str, &str), usize)>(),
                )?;
                seen.insert((d.id, p.name.as_str()), findings.len());
                findings.push(f);
            }
        }
    }
    findings.sort_by(|a, b| a.package.cmp(&b.package).then_with(|| a.id.cmp(&b.id)));
    Ok((findings, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkg::PackageDb;
    use crate::vulndb::{Builder, NewAdvisory, VulnDb};
    use alloc::string::ToString;

    fn fix(package: &str, vuln: &str, fixed: &str, arches: &str) -> NewAdvisory {
        NewAdvisory { arches: arches.into(), ..NewAdvisory::new("oracle 8", package, vuln, fixed, "ELSA-X") }
    }

    fn rpm(name: &str, epoch: u64, version: &str, release: &str, arch: &str) -> Package {
        Package {
            name: name.into(),
            epoch: Some(epoch),
            version: version.into(),
            release: Some(release.into()),
            arch: Some(arch.into()),
            db: Some(PackageDb::Rpm),
            ..Package::default()
        }
    }

    #[test]
    fn oracle_flavours_and_architectures() {
        assert_eq!(oracle_flavor("10:3.6.16-4.0.1.el8_fips"), "fips");
        assert_eq!(oracle_flavor("2:2.28-151.0.1.ksplice1.el8"), "ksplice");
        assert_eq!(oracle_flavor("2.28-151.0.1.el8"), "normal");
        let mut b = Builder::new();
        b.add(fix("gnutls", "CVE-A", "3.6.16-5.el8", "x86_64"), Severity::High, "", "oracle");
        b.add(fix("gnutls", "CVE-A", "3.6.16-4.el8", "aarch64"), Severity::High, "", "oracle");
        b.add(fix("gnutls", "CVE-A", "10:3.6.16-4.0.1.el8_fips", "x86_64"), Severity::High, "", "oracle");
        b.add(fix("glibc", "CVE-B", "2:2.28-151.0.1.ksplice1.el8", "x86_64"), Severity::High, "", "oracle");
        let blob = b.finish("t");
        let db = VulnDb::open(&blob).unwrap();
        let os = OsInfo { family: "oracle".into(), version_id: Some("8.9".into()), ..OsInfo::default() };
        let budget = Budget::new(1 << 20);
        let found = |packages: &[Package]| -> Vec<(String, String)> {
            let (f, w) = detect(&db, &os, packages, &budget).unwrap();
            assert!(w.is_empty(), "{w:?}");
            f.into_iter().map(|f| (f.package, f.fixed)).collect()
        };
        // A normal build is matched by the normal fix of its architecture only.
        assert_eq!(
            found(&[rpm("gnutls", 0, "3.6.16", "4.el8", "x86_64")]),
            [("gnutls".to_string(), "3.6.16-5.el8".to_string())]
        );
        assert!(found(&[rpm("gnutls", 0, "3.6.16", "4.el8", "aarch64")]).is_empty());
        // A fips build by the fips fix; a normal glibc is not matched by the ksplice fix.
        assert_eq!(
            found(&[rpm("gnutls", 10, "3.6.16", "3.0.1.el8_fips", "x86_64")]),
            [("gnutls".to_string(), "10:3.6.16-4.0.1.el8_fips".to_string())]
        );
        assert!(found(&[rpm("glibc", 0, "2.28", "151.0.1.el8", "x86_64")]).is_empty());
        assert_eq!(found(&[rpm("glibc", 2, "2.28", "150.0.1.ksplice1.el8", "x86_64")]).len(), 1);
    }
}

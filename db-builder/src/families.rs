//! One reader per vuln-list family, normalising as trivy-db does, plus OSV.

use crate::raw;
use coldscan_core::vulndb::{Builder, Distro, NewAdvisory, Platform, Severity, Status};
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::path::Path;

/// The DB's name for `release` of `distro` (the spelling detection looks up).
pub(crate) fn platform(distro: Distro, release: impl std::fmt::Display) -> String {
    Platform::new(distro, &release.to_string()).to_string()
}

/// What a build met: files read, malformed ones skipped, notes for the operator.
#[derive(Debug)]
pub struct Report {
    keep_going: bool,
    /// JSON files read.
    pub files: usize,
    /// Malformed files skipped (with `--keep-going`).
    pub skipped: usize,
    /// Things the operator should know (unrecognised sources).
    pub notes: Vec<String>,
    /// Per source: well-formed files read, and the advisories (or details) they gave.
    sources: std::collections::BTreeMap<String, (usize, usize)>,
}

impl Report {
    /// A report; `keep_going` skips malformed files instead of failing.
    pub fn new(keep_going: bool) -> Self {
        Report { keep_going, files: 0, skipped: 0, notes: Vec::new(), sources: Default::default() }
    }

    /// Fails when a source had well-formed files but gave nothing in the whole build: their
    /// schema has changed under the reader, and an empty source would make every scan of its
    /// platforms look clean.
    pub fn check_sources(&self) -> Result<(), String> {
        for (name, (files, found)) in &self.sources {
            if *files > 0 && *found == 0 {
                return Err(format!(
                    "{files} {name} files read but no advisory found in them (has the format changed?)"
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn malformed(&mut self, path: &Path, why: &str) -> Result<(), String> {
        if self.keep_going {
            self.skipped += 1;
            Ok(())
        } else {
            Err(format!("{}: {why}", path.display()))
        }
    }
}

/// Every `.json` file under `dir`, sorted (deterministic output).
pub(crate) fn json_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Reads `path` as the raw record type `T`; a file that is not JSON or lacks what `T`
/// requires is malformed (an error, or a skip with `--keep-going`).
pub(crate) fn load<T: DeserializeOwned>(path: &Path, report: &mut Report) -> Result<Option<T>, String> {
    report.files += 1;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(Some(v)),
        Err(e) => report.malformed(path, &e.to_string()).map(|()| None),
    }
}

/// Reads one source's directory with `read`, counting its well-formed files and what they
/// gave for [`Report::check_sources`].
pub(crate) fn checked(
    name: &str,
    dir: &Path,
    b: &mut Builder,
    report: &mut Report,
    read: impl FnOnce(&Path, &mut Builder, &mut Report) -> Result<(), String>,
) -> Result<(), String> {
    let (files, skipped) = (report.files, report.skipped);
    let before = b.len() + b.fallback_count();
    read(dir, b, report)?;
    // Files the reader loaded, less those skipped as malformed.
    let well_formed = (report.files - files).saturating_sub(report.skipped - skipped);
    let entry = report.sources.entry(String::from(name)).or_default();
    entry.0 += well_formed;
    entry.1 += b.len() + b.fallback_count() - before;
    Ok(())
}

/// The first directory of `path` below `dir` (the release directory of vuln-list families).
fn release_dir(dir: &Path, path: &Path) -> Option<String> {
    path.strip_prefix(dir).ok()?.iter().next().map(|r| r.to_string_lossy().into_owned())
}

/// Severity words of Red Hat-style vendors (Rocky, Alma, Amazon).
pub(crate) fn vendor_severity(word: &str) -> Severity {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "important" | "high" => Severity::High,
        "moderate" | "medium" => Severity::Medium,
        "low" => Severity::Low,
        _ => Severity::Unknown,
    }
}

/// Reads a `vuln-list-debian` tree (its `tracker/` folder).
pub fn read_debian(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let tracker = if root.join("tracker").is_dir() { root.join("tracker") } else { root.to_path_buf() };
    checked("Debian tracker", &tracker, b, report, debian)?;
    b.source("debian", "", "");
    Ok(())
}

/// Reads a vuln-list tree: every top-level family it knows, a note for each it does not.
pub fn read_vuln_list(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for (name, dir) in subdirs(root)? {
        match name.as_str() {
            "alpine" => checked("alpine", &dir, b, report, alpine)?,
            "amazon" => checked("amazon", &dir, b, report, amazon)?,
            "rocky" => checked("rocky", &dir, b, report, rocky)?,
            "alma" => checked("alma", &dir, b, report, alma)?,
            "ubuntu" => checked("ubuntu", &dir, b, report, ubuntu)?,
            "photon" => checked("photon", &dir, b, report, photon)?,
            "oval" | "cvrf" => vendor_trees(&name, &dir, b, report)?,
            other => report.notes.push(format!("vuln-list source `{other}` is not read yet (skipped)")),
        }
    }
    Ok(())
}

/// The subdirectories of `dir`, by name, sorted.
fn subdirs(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, String> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(_, p)| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

/// `alpine/<release>/<repo>/<package>.json`: each secfixes version → its ids (split on
/// whitespace, `CVE_` → `CVE-`, the first CVE id wins, else a GHSA id); fixed `0` means the
/// release was never affected.
fn alpine(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load::<raw::AlpinePackage>(&path, report)? else { continue };
        // The release: `distroversion` ("v3.12") when the record has it, else its directory.
        let rel = v
            .distroversion
            .as_deref()
            .map(|d| d.trim_start_matches('v').to_string())
            .or_else(|| release_dir(dir, &path));
        let Some(release) = rel else { continue };
        let name = v.name.as_str();
        for (fixed, ids) in v.secfixes.iter().flatten() {
            if fixed == "0" {
                continue;
            }
            for entry in ids.iter().flatten() {
                let tokens: Vec<String> = entry.split_whitespace().map(|t| t.replace("CVE_", "CVE-")).collect();
                let id = tokens
                    .iter()
                    .find(|t| t.starts_with("CVE-"))
                    .or_else(|| tokens.iter().find(|t| t.starts_with("GHSA-")));
                if let Some(id) = id {
                    b.add(
                        NewAdvisory::new(&platform(Distro::Alpine, &release), name, id, fixed, ""),
                        Severity::Unknown,
                        "",
                        "alpine",
                    );
                }
            }
        }
    }
    b.source("alpine", "", "");
    Ok(())
}

/// `amazon/<1|2|2022|2023>/<ALAS>.json`: every CVE id × package, fixed at the package's
/// `[epoch:]version-release`.
fn amazon(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load::<raw::AmazonErratum>(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        let id = v.id.as_deref().unwrap_or("");
        let severity = vendor_severity(v.severity.as_deref().unwrap_or(""));
        let cves: Vec<&str> = v.cveids.iter().flatten().map(String::as_str).collect();
        for p in v.packages.iter().flatten() {
            let (Some(name), Some(fixed)) = (p.name.as_deref(), p.evr()) else { continue };
            // Repeats (one per architecture) are dropped by the builder.
            for cve in &cves {
                b.add(
                    NewAdvisory::new(&platform(Distro::Amazon, &release), name, cve, &fixed, id),
                    severity,
                    "",
                    "amazon",
                );
            }
        }
    }
    b.source("amazon", "", "");
    Ok(())
}

/// `rocky/<release>/<repo>/<arch>/<year>/<RLSA>.json`: platform by major release; every
/// CVE × package of every collection (falling back to `packages`), with the architectures the
/// fixed build exists for and, for modular collections, the `name:stream` module.
fn rocky(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    use std::collections::BTreeMap;
    // (platform, package, fixed, cve, erratum, module) → arches, merged over per-arch files.
    type Key = (String, String, String, String, String, String);
    let mut merged: BTreeMap<Key, (BTreeSet<String>, Severity)> = BTreeMap::new();
    for path in json_files(dir) {
        let Some(v) = load::<raw::RockyErratum>(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        let major = release.split('.').next().unwrap_or(&release).to_string();
        let id = v.id.clone().unwrap_or_default();
        let severity = vendor_severity(v.severity.as_deref().unwrap_or(""));
        let cves: Vec<String> = v.cveids.clone().unwrap_or_default();
        let collections: Vec<(String, &Vec<raw::RpmPackage>)> = match &v.collections {
            Some(cs) => cs
                .iter()
                .filter_map(|c| {
                    let module = match c.module.as_ref().map(|m| (m.name.as_deref(), m.stream.as_deref())) {
                        Some((Some(n), Some(s))) => format!("{n}:{s}"),
                        _ => String::new(),
                    };
                    Some((module, c.packages.as_ref()?))
                })
                .collect(),
            None => v.packages.as_ref().map(|p| (String::new(), p)).into_iter().collect(),
        };
        for (module, packages) in collections {
            for p in packages {
                let (Some(name), Some(fixed)) = (p.name.as_deref(), p.evr()) else { continue };
                let arch = p.arch.clone().unwrap_or_default();
                for cve in &cves {
                    let key = (
                        platform(Distro::Rocky, &major),
                        name.to_string(),
                        fixed.clone(),
                        cve.clone(),
                        id.clone(),
                        module.clone(),
                    );
                    merged.entry(key).or_insert((BTreeSet::new(), severity)).0.insert(arch.clone());
                }
            }
        }
    }
    for ((platform, name, fixed, cve, id, module), (arches, severity)) in merged {
        let arches = arches.into_iter().collect::<Vec<_>>().join(",");
        let mut a = NewAdvisory { arches, ..NewAdvisory::new(&platform, &name, &cve, &fixed, &id) };
        a.module = module;
        b.add(a, severity, "", "rocky");
    }
    b.source("rocky", "", "");
    Ok(())
}

/// `alma/<major>/<year>/<ALSA>.json` (AlmaLinux errata): CVE references × the packages of
/// the x86_64 and noarch builds, by major release. Only security errata.
fn alma(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load::<raw::AlmaErratum>(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        if v.kind.as_deref().is_some_and(|t| t != "security") {
            continue;
        }
        let id = v.updateinfo_id.as_deref().or(v.id.as_deref()).unwrap_or("");
        let severity = vendor_severity(v.severity.as_deref().unwrap_or(""));
        let cves: Vec<&str> = v
            .references
            .iter()
            .flatten()
            .filter(|r| r.kind.as_deref() == Some("cve"))
            .filter_map(|r| r.id.as_deref())
            .collect();
        for p in v.pkglist.iter().flat_map(|l| l.packages.iter().flatten()) {
            let arch = p.arch.as_deref().unwrap_or("");
            if arch != "x86_64" && arch != "noarch" {
                continue;
            }
            let (Some(name), Some(fixed)) = (p.name.as_deref(), p.evr()) else { continue };
            // Repeats (one per architecture) are dropped by the builder.
            for cve in &cves {
                b.add(NewAdvisory::new(&platform(Distro::Alma, &release), name, cve, &fixed, id), severity, "", "alma");
            }
        }
    }
    b.source("alma", "", "");
    Ok(())
}

/// Ubuntu release codenames and their versions.
const UBUNTU_RELEASES: [(&str, &str); 18] = [
    ("trusty", "14.04"),
    ("xenial", "16.04"),
    ("bionic", "18.04"),
    ("cosmic", "18.10"),
    ("disco", "19.04"),
    ("eoan", "19.10"),
    ("focal", "20.04"),
    ("groovy", "20.10"),
    ("hirsute", "21.04"),
    ("impish", "21.10"),
    ("jammy", "22.04"),
    ("kinetic", "22.10"),
    ("lunar", "23.04"),
    ("mantic", "23.10"),
    ("noble", "24.04"),
    ("oracular", "24.10"),
    ("plucky", "25.04"),
    ("questing", "25.10"),
];

/// `ubuntu/<year>/CVE-*.json` (Ubuntu CVE tracker): per source package and release,
/// `released` is fixed at the `Note` version; `needed` and `pending` are affected, `deferred`
/// is a deferred fix; other statuses (not-affected, ignored, needs-triage, DNE) are not
/// advisories. Severity from the tracker's priority.
fn ubuntu(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load::<raw::UbuntuCve>(&path, report)? else { continue };
        let cve = v.candidate.as_str();
        let severity = match v.priority.as_deref().unwrap_or("") {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" | "negligible" => Severity::Low,
            _ => Severity::Unknown,
        };
        for (package, releases) in v.patches.iter().flatten() {
            for (codename, state) in releases.iter().flatten() {
                let Some((_, version)) = UBUNTU_RELEASES.iter().find(|(c, _)| c == codename) else { continue };
                let note = state.note.as_deref().unwrap_or("");
                let (status, fixed) = match state.status.as_deref().unwrap_or("") {
                    "released" if !note.is_empty() => (Status::Fixed, note.to_string()),
                    "needed" | "pending" => (Status::Affected, String::new()),
                    "deferred" => (Status::FixDeferred, String::new()),
                    _ => continue,
                };
                let mut a = NewAdvisory::new(&platform(Distro::Ubuntu, version), package, cve, &fixed, "");
                a.status = status;
                b.add(a, severity, "", "ubuntu");
            }
        }
    }
    b.source("ubuntu", "", "");
    Ok(())
}

/// The Debian security tracker (`vuln-list-debian/tracker`): `distributions.json` names the
/// releases; each `CVE/*.json` annotates packages. A release's own annotation wins: fixed at a
/// version, `no-dsa`/`unfixed` → affected, `postponed` → fix deferred, `ignored` → will not
/// fix, `end-of-life`; `not-affected` and `removed` are no advisory. The unannotated (unstable)
/// line applies to each other release that has the source package (`source/` and
/// `updates-source/`): fixed → an advisory when the release's version is older than the fix;
/// unfixed → affected. DSA and DLA files add release fixes for the CVEs they list (their `xref`),
/// with the DSA/DLA id as the advisory. Severity from the tracker's urgency.
fn debian(tracker: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    use coldscan_core::version::dpkg;
    use std::collections::BTreeMap;
    let dists_path = tracker.join("distributions.json");
    let Some(dists) = load::<BTreeMap<String, raw::DebianDistribution>>(&dists_path, report)? else { return Ok(()) };
    let releases: Vec<(String, String)> =
        dists.into_iter().filter_map(|(code, d)| Some((code, d.major_version.filter(|m| !m.is_empty())?))).collect();
    // (release, source package) → newest version in the archive (with security updates).
    let mut archive: BTreeMap<(String, String), String> = BTreeMap::new();
    for kind in ["source", "updates-source"] {
        for path in json_files(&tracker.join(kind)) {
            let Some(v) = load::<raw::DebianSource>(&path, report)? else { continue };
            let Some(release) = release_dir(&tracker.join(kind), &path) else { continue };
            let first = |list: &Option<Vec<String>>| list.as_ref().and_then(|l| l.first()).cloned();
            let (Some(name), Some(version)) = (first(&v.package), first(&v.version)) else { continue };
            let (name, version) = (name.as_str(), version.as_str());
            let entry = archive.entry((release, name.to_string())).or_insert_with(|| version.to_string());
            if dpkg::compare(version, entry) == std::cmp::Ordering::Greater {
                *entry = version.to_string();
            }
        }
    }
    // (cve, package, release) → (fixed version, DSA/DLA id) from the security advisories.
    let mut announced: BTreeMap<(String, String, String), (String, String)> = BTreeMap::new();
    for kind in ["DSA", "DLA"] {
        for path in json_files(&tracker.join(kind)) {
            let Some(v) = load::<raw::DebianTrackerFile>(&path, report)? else { continue };
            let id = v.header.id.clone();
            let notes = v.annotations.unwrap_or_default();
            let cves: Vec<String> = notes
                .iter()
                .filter(|a| a.kind_of_line.as_deref() == Some("xref"))
                .flat_map(|a| a.bugs.iter().flatten().cloned())
                .collect();
            let fixes = notes
                .iter()
                .filter(|a| a.kind_of_line.as_deref() == Some("package") && a.kind.as_deref() == Some("fixed"));
            for a in fixes {
                let (Some(release), Some(package), Some(version)) =
                    (a.release.as_deref(), a.package.as_deref(), a.version.as_deref())
                else {
                    continue;
                };
                for cve in &cves {
                    announced.insert(
                        (cve.clone(), package.to_string(), release.to_string()),
                        (version.to_string(), id.clone()),
                    );
                }
            }
        }
    }
    for path in json_files(&tracker.join("CVE")) {
        let Some(v) = load::<raw::DebianTrackerFile>(&path, report)? else { continue };
        let cve = v.header.id.as_str();
        let notes: Vec<&raw::DebianAnnotation> =
            v.annotations.iter().flatten().filter(|a| a.kind_of_line.as_deref() == Some("package")).collect();
        let packages: BTreeSet<&str> = notes.iter().filter_map(|a| a.package.as_deref()).collect();
        for package in packages {
            let of_package: Vec<&&raw::DebianAnnotation> =
                notes.iter().filter(|a| a.package.as_deref() == Some(package)).collect();
            let unstable = of_package.iter().find(|a| a.release.is_none());
            let severity = of_package
                .iter()
                .find_map(|a| a.severity.as_deref())
                .map(|u| match u {
                    "high" => Severity::High,
                    "medium" => Severity::Medium,
                    "low" | "unimportant" => Severity::Low,
                    _ => Severity::Unknown,
                })
                .unwrap_or(Severity::Unknown);
            for (code, major) in &releases {
                let own = of_package.iter().find(|a| a.release.as_deref() == Some(code.as_str()));
                let dsa = announced.get(&(cve.to_string(), package.to_string(), code.clone()));
                let (status, fixed) = match own {
                    Some(a) => match (a.kind.as_deref().unwrap_or(""), a.version.as_deref()) {
                        ("fixed", Some(version)) => (Status::Fixed, version.to_string()),
                        ("no-dsa" | "unfixed", _) => (Status::Affected, String::new()),
                        ("postponed", _) => (Status::FixDeferred, String::new()),
                        ("ignored", _) => (Status::WillNotFix, String::new()),
                        ("end-of-life", _) => (Status::EndOfLife, String::new()),
                        _ => continue,
                    },
                    None if dsa.is_some() => (Status::Fixed, dsa.map(|d| d.0.clone()).unwrap_or_default()),
                    None => {
                        let Some(a) = unstable else { continue };
                        let Some(current) = archive.get(&(code.clone(), package.to_string())) else { continue };
                        match (a.kind.as_deref().unwrap_or(""), a.version.as_deref()) {
                            ("fixed", Some(version)) if dpkg::compare(current, version) == std::cmp::Ordering::Less => {
                                (Status::Fixed, version.to_string())
                            }
                            ("unfixed", _) => (Status::Affected, String::new()),
                            _ => continue,
                        }
                    }
                };
                let advisory_id = dsa.filter(|d| d.0 == fixed).map_or("", |d| d.1.as_str());
                let mut adv = NewAdvisory::new(&platform(Distro::Debian, major), package, cve, &fixed, advisory_id);
                adv.status = status;
                b.add(adv, severity, "", "debian");
            }
        }
    }
    Ok(())
}

/// Severity of a CVSS base score.
/// `oval/<vendor>/…` and `cvrf/<vendor>/…`: vendors' OVAL or CVRF documents converted to
/// JSON. Oracle's OVAL and SUSE's CVRF are read; other vendors are noted.
fn vendor_trees(kind: &str, dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for (vendor, path) in subdirs(dir)? {
        match (kind, vendor.as_str()) {
            ("oval", "oracle") => checked("Oracle OVAL", &path, b, report, oracle)?,
            ("cvrf", "suse") => checked("SUSE CVRF", &path, b, report, suse)?,
            _ => report.notes.push(format!("vuln-list source `{kind}/{vendor}` is not read yet (skipped)")),
        }
    }
    Ok(())
}

/// One `<package> is earlier than <version>` criterion with the release and architecture
/// the enclosing criteria require.
struct OvalFix {
    release: String,
    arch: String,
    package: String,
    fixed: String,
}

/// Walks an OVAL criteria tree. A node's own criterions set the release (`Oracle Linux N is
/// installed`) and architecture (`Oracle Linux arch is X`) for the node and everything below
/// it; `X is earlier than V` criterions are the fixes.
fn oval_fixes(node: &raw::OvalCriteria, release: &str, arch: &str, out: &mut Vec<OvalFix>) {
    let criterions: Vec<&str> = node.criterions.iter().flatten().filter_map(|c| c.comment.as_deref()).collect();
    let (mut release, mut arch) = (release, arch);
    for c in &criterions {
        if let Some(r) = c.strip_prefix("Oracle Linux ").and_then(|r| r.strip_suffix(" is installed")) {
            release = r;
        } else if let Some(a) = c.strip_prefix("Oracle Linux arch is ") {
            arch = a;
        }
    }
    for c in &criterions {
        if let Some((package, fixed)) = c.split_once(" is earlier than ") {
            if !package.trim().is_empty() && !fixed.trim().is_empty() {
                out.push(OvalFix {
                    release: release.to_string(),
                    arch: arch.to_string(),
                    package: package.trim().to_string(),
                    fixed: fixed.trim().to_string(),
                });
            }
        }
    }
    for child in node.criterias.iter().flatten() {
        oval_fixes(child, release, arch, out);
    }
}

/// `oval/oracle/<year>/ELSA-*.json`: platform `oracle N` from the criteria; ids from `Cves`
/// (else the ELSA id). Across errata, per (release, package, id, architecture, flavour) the
/// highest fixed version wins, as in trivy-db (errata giving the same version are listed
/// together, comma-separated); a `0:` epoch is dropped. Releases outside
/// 5–9 are skipped.
fn oracle(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    use coldscan_core::detect::oracle_flavor;
    use coldscan_core::version::rpm::compare_evr;
    use std::collections::BTreeMap;
    // (release, package, id, arch, flavour) → (fixed, errata, severity, title)
    type Key = (String, String, String, String, &'static str);
    let mut best: BTreeMap<Key, (String, BTreeSet<String>, Severity, String)> = BTreeMap::new();
    for path in json_files(dir) {
        let Some(v) = load::<raw::OracleDefinition>(&path, report)? else { continue };
        let title = v.title.as_deref().unwrap_or("");
        let elsa = title.split(':').next().unwrap_or("").trim().to_string();
        let severity = vendor_severity(v.severity.as_deref().unwrap_or(""));
        let mut ids: Vec<String> = v.cves.iter().flatten().filter_map(|c| c.id.clone()).collect();
        if ids.is_empty() && !elsa.is_empty() {
            ids.push(elsa.clone());
        }
        let mut fixes = Vec::new();
        oval_fixes(&v.criteria.unwrap_or_default(), "", "", &mut fixes);
        for f in fixes {
            if !matches!(f.release.as_str(), "5" | "6" | "7" | "8" | "9") {
                continue;
            }
            let fixed = f.fixed.strip_prefix("0:").unwrap_or(&f.fixed).to_string();
            for id in &ids {
                let key = (f.release.clone(), f.package.clone(), id.clone(), f.arch.clone(), oracle_flavor(&fixed));
                let slot = best.entry(key).or_insert_with(|| (fixed.clone(), BTreeSet::new(), severity, title.into()));
                match compare_evr(&slot.0, &fixed) {
                    std::cmp::Ordering::Less => *slot = (fixed.clone(), BTreeSet::new(), severity, title.into()),
                    std::cmp::Ordering::Greater => continue,
                    std::cmp::Ordering::Equal => {}
                }
                slot.1.insert(elsa.clone());
            }
        }
    }
    // One record per (release, package, id, fixed version): the architectures and errata.
    type Merged = BTreeMap<(String, String, String, String), (BTreeSet<String>, BTreeSet<String>, Severity, String)>;
    let mut merged: Merged = BTreeMap::new();
    for ((release, package, id, arch, _), (fixed, errata, severity, title)) in best {
        let entry =
            merged.entry((release, package, id, fixed)).or_insert((BTreeSet::new(), BTreeSet::new(), severity, title));
        if !arch.is_empty() {
            entry.0.insert(arch);
        }
        entry.1.extend(errata);
    }
    for ((release, package, id, fixed), (arches, errata, severity, title)) in merged {
        let join = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>().join(",");
        // The erratum's title describes the erratum, not each CVE it fixes.
        let title = if errata.contains(&id) { title.as_str() } else { "" };
        let (arches, errata) = (join(arches), join(errata));
        let a = NewAdvisory {
            arches,
            ..NewAdvisory::new(&platform(Distro::Oracle, &release), &package, &id, &fixed, &errata)
        };
        b.add(a, severity, title, "oracle");
    }
    b.source("oracle", "", "");
    Ok(())
}

/// The platform of a SUSE product name, as trivy-db names them (lower-cased here):
/// `suse 15.1` (SUSE Linux Enterprise 15 SP1, any module or product of it), `suse-micro 5.3`,
/// `opensuse-leap 15.1`, `opensuse-leap-micro 5.2`, `opensuse-tumbleweed`. SUSE Manager and
/// SUSE Enterprise Storage are not operating systems and give `None`.
fn suse_platform(product: &str) -> Option<String> {
    let is_version =
        |v: &str| !v.is_empty() && v.split('.').all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    let version_after = |prefix: &str| {
        let v = product.strip_prefix(prefix)?.split_whitespace().next()?;
        is_version(v).then(|| v.to_string())
    };
    if product.contains("SUSE Manager") || product.contains("SUSE Linux Enterprise Storage") {
        return None;
    }
    if product.starts_with("openSUSE Tumbleweed") {
        return Some(platform(Distro::OpensuseTumbleweed, ""));
    }
    if let Some(v) = version_after("openSUSE Leap Micro ") {
        return Some(platform(Distro::OpensuseLeapMicro, v));
    }
    if let Some(v) = version_after("openSUSE Leap ") {
        return Some(platform(Distro::OpensuseLeap, v));
    }
    if let Some(v) = version_after("SUSE Linux Enterprise Micro ").or_else(|| version_after("SUSE Linux Micro ")) {
        return Some(platform(Distro::SuseMicro, v));
    }
    if product.contains("SUSE Linux Enterprise") {
        // "… 15 SP1", "… 12 SP5-LTSS", "… 15": the last two numbers are major and service pack.
        let spaced = product.replace('-', " ");
        let words: Vec<&str> = spaced.split_whitespace().collect();
        let numbers: Vec<&str> = words
            .iter()
            .skip(1)
            .rev()
            .filter_map(|w| {
                let n = w.strip_prefix("SP").unwrap_or(w);
                (!n.is_empty() && n.bytes().all(|c| c.is_ascii_digit())).then_some(n)
            })
            .take(2)
            .collect();
        return match numbers.as_slice() {
            [major] => Some(platform(Distro::Suse, major)),
            [sp, major] => Some(platform(Distro::Suse, format!("{major}.{sp}"))),
            _ => None,
        };
    }
    None
}

/// `cvrf/suse/{suse,opensuse}/…/*.json` (SUSE CVRF): the advisory id (`SUSE-SU-…`, not the
/// CVEs, as trivy-db) for every product relationship: `name-version-release` on a platform;
/// severity the highest of the document's threats.
fn suse(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load::<raw::SuseCvrf>(&path, report)? else { continue };
        let id = v.tracking.id.as_str();
        let title = v.title.as_deref().unwrap_or("");
        let severity = v
            .vulnerabilities
            .iter()
            .flatten()
            .flat_map(|x| x.threats.iter().flatten())
            .filter_map(|t| t.severity.as_deref().map(vendor_severity))
            .max()
            .unwrap_or(Severity::Unknown);
        let mut seen = BTreeSet::new();
        for r in v.product_tree.iter().flat_map(|t| t.relationships.iter().flatten()) {
            let (Some(nvr), Some(product)) =
                (r.product_reference.as_deref(), r.relates_to_product_reference.as_deref())
            else {
                continue;
            };
            let Some(platform) = suse_platform(product) else { continue };
            let Some((name_version, release)) = nvr.rsplit_once('-') else { continue };
            let Some((name, version)) = name_version.rsplit_once('-') else { continue };
            if seen.insert((platform.clone(), name.to_string())) {
                b.add(
                    NewAdvisory::new(&platform, name, id, &format!("{version}-{release}"), id),
                    severity,
                    title,
                    "suse",
                );
            }
        }
    }
    b.source("suse", "", "");
    Ok(())
}

fn cvss_severity(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s > 0.0 => Severity::Low,
        _ => Severity::Unknown,
    }
}

/// `photon/<release>/<package>/<CVE>.json`: fixed at `res_ver` (`NA`: no advisory), severity
/// from the CVSS score.
fn photon(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load::<raw::PhotonCve>(&path, report)? else { continue };
        let (release, cve, package) = (v.os_version.as_str(), v.cve_id.as_str(), v.pkg.as_str());
        let Some(fixed) = v.res_ver.as_deref().filter(|f| !f.is_empty() && *f != "NA") else { continue };
        let severity = cvss_severity(v.cve_score.unwrap_or(0.0));
        b.add(NewAdvisory::new(&platform(Distro::Photon, release), package, cve, fixed, ""), severity, "", "photon");
    }
    b.source("photon", "", "");
    Ok(())
}

/// NVD (`vuln-list-nvd/api/<year>/CVE-*.json`, NVD API 2.0 records): the CVSS base severity
/// (v3.1, v3.0, then v2) and the English description, for details only.
pub fn read_nvd(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    checked("NVD", root, b, report, nvd)?;
    b.source("nvd", "", "");
    Ok(())
}

fn nvd(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(root) {
        let Some(v) = load::<raw::NvdCve>(&path, report)? else { continue };
        let id = v.id.as_str();
        let m = v.metrics.unwrap_or_default();
        let v3 = |list: &Option<Vec<raw::NvdCvss3>>| list.as_ref()?.first()?.cvss_data.as_ref()?.base_severity.clone();
        let severity = v3(&m.v31)
            .or_else(|| v3(&m.v30))
            .or_else(|| m.v2.as_ref()?.first()?.base_severity.clone())
            .map(|s| vendor_severity(&s))
            .unwrap_or(Severity::Unknown);
        let description = v
            .descriptions
            .iter()
            .flatten()
            .find(|d| d.lang.as_deref() == Some("en"))
            .and_then(|d| d.value.as_deref())
            .unwrap_or("");
        // A title: the first sentence, at most 200 characters.
        let first = description.split(". ").next().unwrap_or("");
        let title: String = first.chars().take(200).collect();
        b.fallback_details("nvd", id, severity, &title);
    }
    Ok(())
}

/// The platform an OSV ecosystem names.
fn osv_platform(ecosystem: &str) -> Option<String> {
    let (distro, release) = ecosystem.split_once(':')?;
    let distro = match distro {
        "AlmaLinux" => Distro::Alma,
        "Alpine" => Distro::Alpine,
        "Rocky Linux" => Distro::Rocky,
        "Debian" => Distro::Debian,
        "Ubuntu" => Distro::Ubuntu,
        _ => return None,
    };
    let release = release.trim_start_matches('v').split(':').next()?;
    Some(platform(distro, release))
}

/// OSV advisories: `ECOSYSTEM` ranges give fixed versions; ids from `related`/`aliases`
/// (the CVEs), else the advisory's own id. AlmaLinux bug-fix and enhancement notices
/// (ALBA/ALEA) are not security advisories and are left out.
pub fn read_osv(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    checked("OSV", dir, b, report, osv)?;
    b.source("osv", "", "");
    Ok(())
}

fn osv(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let mut ecosystems = BTreeSet::new();
    for path in json_files(dir) {
        let Some(v) = load::<raw::OsvRecord>(&path, report)? else { continue };
        let id = v.id.as_str();
        if id.starts_with("ALBA-") || id.starts_with("ALEA-") {
            continue;
        }
        let title = v.summary.as_deref().unwrap_or("");
        let severity = vendor_severity(title.split(':').next().unwrap_or(""));
        let mut ids: Vec<&str> = v
            .related
            .iter()
            .flatten()
            .chain(v.aliases.iter().flatten())
            .map(String::as_str)
            .filter(|i| i.starts_with("CVE-"))
            .collect();
        if ids.is_empty() {
            ids.push(id);
        }
        for a in v.affected.iter().flatten() {
            let package = a.package.as_ref();
            let (Some(eco), Some(name)) =
                (package.and_then(|p| p.ecosystem.as_deref()), package.and_then(|p| p.name.as_deref()))
            else {
                continue;
            };
            let Some(platform) = osv_platform(eco) else {
                if ecosystems.insert(eco.to_string()) {
                    report.notes.push(format!("OSV ecosystem `{eco}` is not read yet (skipped)"));
                }
                continue;
            };
            let fixes: Vec<String> = a
                .ranges
                .iter()
                .flatten()
                .filter(|r| r.kind.as_deref() == Some("ECOSYSTEM"))
                .flat_map(|r| r.events.iter().flatten())
                .filter_map(|e| e.fixed.clone())
                .collect();
            let fixes = if fixes.is_empty() { vec![String::new()] } else { fixes };
            for fixed in fixes {
                for vuln in &ids {
                    b.add(NewAdvisory::new(&platform, name, vuln, &fixed, id), severity, "", "osv");
                }
            }
        }
    }
    Ok(())
}

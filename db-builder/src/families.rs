//! One reader per vuln-list family, normalising as trivy-db does, plus OSV.

use coldscan_core::vulndb::{Builder, NewAdvisory, Severity, Status};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

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
}

impl Report {
    /// A report; `keep_going` skips malformed files instead of failing.
    pub fn new(keep_going: bool) -> Self {
        Report { keep_going, files: 0, skipped: 0, notes: Vec::new() }
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

pub(crate) fn load(path: &Path, report: &mut Report) -> Result<Option<Value>, String> {
    report.files += 1;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(Some(v)),
        Err(e) => report.malformed(path, &e.to_string()).map(|()| None),
    }
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

/// `[epoch:]version-release` with a zero epoch left out.
fn evr(p: &Value) -> Option<String> {
    let (v, r) = (p["version"].as_str()?, p["release"].as_str()?);
    let e = p["epoch"].as_str().filter(|e| !e.is_empty() && *e != "0").map(|e| format!("{e}:")).unwrap_or_default();
    Some(format!("{e}{v}-{r}"))
}

/// Reads a `vuln-list-debian` tree (its `tracker/` folder).
pub fn read_debian(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let tracker = if root.join("tracker").is_dir() { root.join("tracker") } else { root.to_path_buf() };
    debian(&tracker, b, report)?;
    b.source("debian", "", "");
    Ok(())
}

/// Reads a vuln-list tree: every top-level family it knows, a note for each it does not.
pub fn read_vuln_list(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for (name, dir) in subdirs(root)? {
        match name.as_str() {
            "alpine" => alpine(&dir, b, report)?,
            "amazon" => amazon(&dir, b, report)?,
            "rocky" => rocky(&dir, b, report)?,
            "alma" => alma(&dir, b, report)?,
            "ubuntu" => ubuntu(&dir, b, report)?,
            "photon" => photon(&dir, b, report)?,
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
        let Some(v) = load(&path, report)? else { continue };
        // The release: `distroversion` ("v3.12") when the record has it, else its directory.
        let rel = v["distroversion"]
            .as_str()
            .map(|d| d.trim_start_matches('v').to_string())
            .or_else(|| release_dir(dir, &path));
        let (Some(release), Some(name)) = (rel, v["name"].as_str()) else {
            report.malformed(&path, "no package name")?;
            continue;
        };
        let Some(secfixes) = v["secfixes"].as_object() else { continue };
        for (fixed, ids) in secfixes {
            if fixed == "0" {
                continue;
            }
            for entry in ids.as_array().into_iter().flatten().filter_map(Value::as_str) {
                let tokens: Vec<String> = entry.split_whitespace().map(|t| t.replace("CVE_", "CVE-")).collect();
                let id = tokens
                    .iter()
                    .find(|t| t.starts_with("CVE-"))
                    .or_else(|| tokens.iter().find(|t| t.starts_with("GHSA-")));
                if let Some(id) = id {
                    b.add(
                        NewAdvisory::new(&format!("alpine {release}"), name, id, fixed, ""),
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
        let Some(v) = load(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        let id = v["id"].as_str().unwrap_or("");
        let severity = vendor_severity(v["severity"].as_str().unwrap_or(""));
        let cves: Vec<&str> = v["cveids"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for p in v["packages"].as_array().into_iter().flatten() {
            let (Some(name), Some(fixed)) = (p["name"].as_str(), evr(p)) else { continue };
            // Repeats (one per architecture) are dropped by the builder.
            for cve in &cves {
                b.add(NewAdvisory::new(&format!("amazon {release}"), name, cve, &fixed, id), severity, "", "amazon");
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
        let Some(v) = load(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        let major = release.split('.').next().unwrap_or(&release).to_string();
        let id = v["id"].as_str().unwrap_or("").to_string();
        let severity = vendor_severity(v["severity"].as_str().unwrap_or(""));
        let cves: Vec<String> =
            v["cveids"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect();
        let collections: Vec<(String, &Vec<Value>)> = match v["collections"].as_array() {
            Some(cs) => cs
                .iter()
                .filter_map(|c| {
                    let module = match (c["module"]["name"].as_str(), c["module"]["stream"].as_str()) {
                        (Some(n), Some(s)) => format!("{n}:{s}"),
                        _ => String::new(),
                    };
                    Some((module, c["packages"].as_array()?))
                })
                .collect(),
            None => v["packages"].as_array().map(|p| (String::new(), p)).into_iter().collect(),
        };
        for (module, packages) in collections {
            for p in packages {
                let (Some(name), Some(fixed)) = (p["name"].as_str(), evr(p)) else { continue };
                let arch = p["arch"].as_str().unwrap_or("").to_string();
                for cve in &cves {
                    let key = (
                        format!("rocky {major}"),
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
        let Some(v) = load(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        if v["type"].as_str().is_some_and(|t| t != "security") {
            continue;
        }
        let id = v["updateinfo_id"].as_str().or(v["id"].as_str()).unwrap_or("");
        let severity = vendor_severity(v["severity"].as_str().unwrap_or(""));
        let cves: Vec<&str> = v["references"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == "cve")
            .filter_map(|r| r["id"].as_str())
            .collect();
        for p in v["pkglist"]["packages"].as_array().into_iter().flatten() {
            let arch = p["arch"].as_str().unwrap_or("");
            if arch != "x86_64" && arch != "noarch" {
                continue;
            }
            let (Some(name), Some(fixed)) = (p["name"].as_str(), evr(p)) else { continue };
            // Repeats (one per architecture) are dropped by the builder.
            for cve in &cves {
                b.add(NewAdvisory::new(&format!("alma {release}"), name, cve, &fixed, id), severity, "", "alma");
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
        let Some(v) = load(&path, report)? else { continue };
        let Some(cve) = v["Candidate"].as_str() else {
            report.malformed(&path, "no Candidate")?;
            continue;
        };
        let severity = match v["Priority"].as_str().unwrap_or("") {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" | "negligible" => Severity::Low,
            _ => Severity::Unknown,
        };
        for (package, releases) in v["Patches"].as_object().into_iter().flatten() {
            for (codename, state) in releases.as_object().into_iter().flatten() {
                let Some((_, version)) = UBUNTU_RELEASES.iter().find(|(c, _)| c == codename) else { continue };
                let note = state["Note"].as_str().unwrap_or("");
                let (status, fixed) = match state["Status"].as_str().unwrap_or("") {
                    "released" if !note.is_empty() => (Status::Fixed, note.to_string()),
                    "needed" | "pending" => (Status::Affected, String::new()),
                    "deferred" => (Status::FixDeferred, String::new()),
                    _ => continue,
                };
                let mut a = NewAdvisory::new(&format!("ubuntu {version}"), package, cve, &fixed, "");
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
    let Some(dists) = load(&dists_path, report)? else { return Ok(()) };
    let Some(dists) = dists.as_object() else {
        return report.malformed(&dists_path, "not an object");
    };
    let releases: Vec<(String, String)> = dists
        .iter()
        .filter_map(|(code, d)| {
            Some((code.clone(), d["major-version"].as_str().filter(|m| !m.is_empty())?.to_string()))
        })
        .collect();
    // (release, source package) → newest version in the archive (with security updates).
    let mut archive: BTreeMap<(String, String), String> = BTreeMap::new();
    for kind in ["source", "updates-source"] {
        for path in json_files(&tracker.join(kind)) {
            let Some(v) = load(&path, report)? else { continue };
            let Some(release) = release_dir(&tracker.join(kind), &path) else { continue };
            let (Some(name), Some(version)) = (v["Package"][0].as_str(), v["Version"][0].as_str()) else { continue };
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
            let Some(v) = load(&path, report)? else { continue };
            let id = v["Header"]["ID"].as_str().unwrap_or("").to_string();
            let notes = v["Annotations"].as_array().cloned().unwrap_or_default();
            let cves: Vec<String> = notes
                .iter()
                .filter(|a| a["Type"] == "xref")
                .flat_map(|a| a["Bugs"].as_array().cloned().unwrap_or_default())
                .filter_map(|b| b.as_str().map(String::from))
                .collect();
            for a in notes.iter().filter(|a| a["Type"] == "package" && a["Kind"] == "fixed") {
                let (Some(release), Some(package), Some(version)) =
                    (a["Release"].as_str(), a["Package"].as_str(), a["Version"].as_str())
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
        let Some(v) = load(&path, report)? else { continue };
        let Some(cve) = v["Header"]["ID"].as_str() else {
            report.malformed(&path, "no Header.ID")?;
            continue;
        };
        let notes: Vec<&Value> =
            v["Annotations"].as_array().into_iter().flatten().filter(|a| a["Type"] == "package").collect();
        let packages: BTreeSet<&str> = notes.iter().filter_map(|a| a["Package"].as_str()).collect();
        for package in packages {
            let of_package: Vec<&&Value> = notes.iter().filter(|a| a["Package"] == package).collect();
            let unstable = of_package.iter().find(|a| a["Release"].is_null());
            let severity = of_package
                .iter()
                .find_map(|a| a["Severity"].as_str())
                .map(|u| match u {
                    "high" => Severity::High,
                    "medium" => Severity::Medium,
                    "low" | "unimportant" => Severity::Low,
                    _ => Severity::Unknown,
                })
                .unwrap_or(Severity::Unknown);
            for (code, major) in &releases {
                let own = of_package.iter().find(|a| a["Release"] == code.as_str());
                let dsa = announced.get(&(cve.to_string(), package.to_string(), code.clone()));
                let (status, fixed) = match own {
                    Some(a) => match (a["Kind"].as_str().unwrap_or(""), a["Version"].as_str()) {
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
                        match (a["Kind"].as_str().unwrap_or(""), a["Version"].as_str()) {
                            ("fixed", Some(version)) if dpkg::compare(current, version) == std::cmp::Ordering::Less => {
                                (Status::Fixed, version.to_string())
                            }
                            ("unfixed", _) => (Status::Affected, String::new()),
                            _ => continue,
                        }
                    }
                };
                let advisory_id = dsa.filter(|d| d.0 == fixed).map_or("", |d| d.1.as_str());
                let mut adv = NewAdvisory::new(&format!("debian {major}"), package, cve, &fixed, advisory_id);
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
            ("oval", "oracle") => oracle(&path, b, report)?,
            ("cvrf", "suse") => suse(&path, b, report)?,
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
fn oval_fixes(node: &Value, release: &str, arch: &str, out: &mut Vec<OvalFix>) {
    let criterions: Vec<&str> =
        node["Criterions"].as_array().into_iter().flatten().filter_map(|c| c["Comment"].as_str()).collect();
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
    for child in node["Criterias"].as_array().into_iter().flatten() {
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
        let Some(v) = load(&path, report)? else { continue };
        let title = v["Title"].as_str().unwrap_or("");
        let elsa = title.split(':').next().unwrap_or("").trim().to_string();
        let severity = vendor_severity(v["Severity"].as_str().unwrap_or(""));
        let mut ids: Vec<String> =
            v["Cves"].as_array().into_iter().flatten().filter_map(|c| c["ID"].as_str()).map(String::from).collect();
        if ids.is_empty() && !elsa.is_empty() {
            ids.push(elsa.clone());
        }
        let mut fixes = Vec::new();
        oval_fixes(&v["Criteria"], "", "", &mut fixes);
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
        let a =
            NewAdvisory { arches, ..NewAdvisory::new(&format!("oracle {release}"), &package, &id, &fixed, &errata) };
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
        return Some("opensuse-tumbleweed".into());
    }
    if let Some(v) = version_after("openSUSE Leap Micro ") {
        return Some(format!("opensuse-leap-micro {v}"));
    }
    if let Some(v) = version_after("openSUSE Leap ") {
        return Some(format!("opensuse-leap {v}"));
    }
    if let Some(v) = version_after("SUSE Linux Enterprise Micro ").or_else(|| version_after("SUSE Linux Micro ")) {
        return Some(format!("suse-micro {v}"));
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
            [major] => Some(format!("suse {major}")),
            [sp, major] => Some(format!("suse {major}.{sp}")),
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
        let Some(v) = load(&path, report)? else { continue };
        let Some(id) = v["Tracking"]["ID"].as_str() else {
            report.malformed(&path, "no Tracking.ID")?;
            continue;
        };
        let title = v["Title"].as_str().unwrap_or("");
        let severity = v["Vulnerabilities"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|x| x["Threats"].as_array().into_iter().flatten())
            .filter_map(|t| t["Severity"].as_str().map(vendor_severity))
            .max()
            .unwrap_or(Severity::Unknown);
        let mut seen = BTreeSet::new();
        for r in v["ProductTree"]["Relationships"].as_array().into_iter().flatten() {
            let (Some(nvr), Some(product)) = (r["ProductReference"].as_str(), r["RelatesToProductReference"].as_str())
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
        let Some(v) = load(&path, report)? else { continue };
        let (Some(release), Some(cve), Some(package)) =
            (v["os_version"].as_str(), v["cve_id"].as_str(), v["pkg"].as_str())
        else {
            report.malformed(&path, "missing os_version, cve_id or pkg")?;
            continue;
        };
        let Some(fixed) = v["res_ver"].as_str().filter(|f| !f.is_empty() && *f != "NA") else { continue };
        let severity = cvss_severity(v["cve_score"].as_f64().unwrap_or(0.0));
        b.add(NewAdvisory::new(&format!("photon {release}"), package, cve, fixed, ""), severity, "", "photon");
    }
    b.source("photon", "", "");
    Ok(())
}

/// NVD (`vuln-list-nvd/api/<year>/CVE-*.json`, NVD API 2.0 records): the CVSS base severity
/// (v3.1, v3.0, then v2) and the English description, for details only.
pub fn read_nvd(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(root) {
        let Some(v) = load(&path, report)? else { continue };
        let Some(id) = v["id"].as_str() else {
            report.malformed(&path, "no id")?;
            continue;
        };
        let m = &v["metrics"];
        let severity = ["cvssMetricV31", "cvssMetricV30"]
            .iter()
            .find_map(|k| m[*k][0]["cvssData"]["baseSeverity"].as_str())
            .or_else(|| m["cvssMetricV2"][0]["baseSeverity"].as_str())
            .map(vendor_severity)
            .unwrap_or(Severity::Unknown);
        let description = v["descriptions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["lang"] == "en")
            .and_then(|d| d["value"].as_str())
            .unwrap_or("");
        // A title: the first sentence, at most 200 characters.
        let first = description.split(". ").next().unwrap_or("");
        let title: String = first.chars().take(200).collect();
        b.fallback_details("nvd", id, severity, &title);
    }
    b.source("nvd", "", "");
    Ok(())
}

/// The platform an OSV ecosystem names.
fn osv_platform(ecosystem: &str) -> Option<String> {
    let (distro, release) = ecosystem.split_once(':')?;
    let family = match distro {
        "AlmaLinux" => "alma",
        "Alpine" => "alpine",
        "Rocky Linux" => "rocky",
        "Debian" => "debian",
        "Ubuntu" => "ubuntu",
        _ => return None,
    };
    let release = release.trim_start_matches('v').split(':').next()?.to_string();
    Some(format!("{family} {release}"))
}

/// OSV advisories: `ECOSYSTEM` ranges give fixed versions; ids from `related`/`aliases`
/// (the CVEs), else the advisory's own id. AlmaLinux bug-fix and enhancement notices
/// (ALBA/ALEA) are not security advisories and are left out.
pub fn read_osv(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let mut ecosystems = BTreeSet::new();
    for path in json_files(dir) {
        let Some(v) = load(&path, report)? else { continue };
        let id = v["id"].as_str().unwrap_or("");
        if id.starts_with("ALBA-") || id.starts_with("ALEA-") {
            continue;
        }
        let title = v["summary"].as_str().unwrap_or("");
        let severity = vendor_severity(title.split(':').next().unwrap_or(""));
        let mut ids: Vec<&str> = v["related"]
            .as_array()
            .into_iter()
            .chain(v["aliases"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .filter(|i| i.starts_with("CVE-"))
            .collect();
        if ids.is_empty() {
            ids.push(id);
        }
        for a in v["affected"].as_array().into_iter().flatten() {
            let (Some(eco), Some(name)) = (a["package"]["ecosystem"].as_str(), a["package"]["name"].as_str()) else {
                continue;
            };
            let Some(platform) = osv_platform(eco) else {
                if ecosystems.insert(eco.to_string()) {
                    report.notes.push(format!("OSV ecosystem `{eco}` is not read yet (skipped)"));
                }
                continue;
            };
            let fixes: Vec<String> = a["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] == "ECOSYSTEM")
                .flat_map(|r| r["events"].as_array().into_iter().flatten())
                .filter_map(|e| e["fixed"].as_str().map(String::from))
                .collect();
            let fixes = if fixes.is_empty() { vec![String::new()] } else { fixes };
            for fixed in fixes {
                for vuln in &ids {
                    b.add(NewAdvisory::new(&platform, name, vuln, &fixed, id), severity, "", "osv");
                }
            }
        }
    }
    b.source("osv", "", "");
    Ok(())
}

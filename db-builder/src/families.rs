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

    fn malformed(&mut self, path: &Path, why: &str) -> Result<(), String> {
        if self.keep_going {
            self.skipped += 1;
            Ok(())
        } else {
            Err(format!("{}: {why}", path.display()))
        }
    }
}

/// Every `.json` file under `dir`, sorted (deterministic output).
fn json_files(dir: &Path) -> Vec<std::path::PathBuf> {
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

fn load(path: &Path, report: &mut Report) -> Result<Option<Value>, String> {
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
fn vendor_severity(word: &str) -> Severity {
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

fn advisory(platform: String, package: &str, vuln: &str, fixed: String, arches: String, advisory: &str) -> NewAdvisory {
    let status = if fixed.is_empty() { Status::Affected } else { Status::Fixed };
    NewAdvisory {
        platform,
        package: package.to_string(),
        vuln: vuln.to_string(),
        fixed,
        status,
        arches,
        module: String::new(),
        advisory: advisory.to_string(),
    }
}

/// Reads a vuln-list tree: every top-level family it knows, a note for each it does not.
pub fn read_vuln_list(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let mut families: Vec<_> =
        std::fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?.flatten().collect();
    families.sort_by_key(|e| e.file_name());
    for family in families {
        let name = family.file_name().to_string_lossy().into_owned();
        let dir = family.path();
        if !dir.is_dir() {
            continue;
        }
        match name.as_str() {
            "alpine" => alpine(&dir, b, report)?,
            "amazon" => amazon(&dir, b, report)?,
            "rocky" => rocky(&dir, b, report)?,
            other => report.notes.push(format!("vuln-list source `{other}` is not read yet (skipped)")),
        }
        b.source(&name, "", "");
    }
    Ok(())
}

/// `alpine/<release>/<repo>/<package>.json`: each secfixes version → its ids (split on
/// whitespace, `CVE_` → `CVE-`, the first CVE id wins, else a GHSA id); fixed `0` means the
/// release was never affected.
fn alpine(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load(&path, report)? else { continue };
        let rel = release_dir(dir, &path);
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
                        advisory(format!("alpine {release}"), name, id, fixed.clone(), String::new(), ""),
                        Severity::Unknown,
                        "",
                        "alpine",
                    );
                }
            }
        }
    }
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
        let mut seen = BTreeSet::new();
        for p in v["packages"].as_array().into_iter().flatten() {
            let (Some(name), Some(fixed)) = (p["name"].as_str(), evr(p)) else { continue };
            if !seen.insert((name.to_string(), fixed.clone())) {
                continue;
            }
            for cve in &cves {
                b.add(
                    advisory(format!("amazon {release}"), name, cve, fixed.clone(), String::new(), id),
                    severity,
                    "",
                    "amazon",
                );
            }
        }
    }
    Ok(())
}

/// `rocky/<release>/<repo>/<arch>/<year>/<RLSA>.json`: platform by major release; every
/// CVE × package, with the architectures the fixed build exists for.
fn rocky(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    use std::collections::BTreeMap;
    // (platform, package, fixed, cve, erratum) → arches, merged over the per-arch files.
    type Key = (String, String, String, String, String);
    let mut merged: BTreeMap<Key, (BTreeSet<String>, Severity)> = BTreeMap::new();
    for path in json_files(dir) {
        let Some(v) = load(&path, report)? else { continue };
        let Some(release) = release_dir(dir, &path) else { continue };
        let major = release.split('.').next().unwrap_or(&release).to_string();
        let id = v["id"].as_str().unwrap_or("").to_string();
        let severity = vendor_severity(v["severity"].as_str().unwrap_or(""));
        let cves: Vec<String> =
            v["cveids"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect();
        let packages = v["collections"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| c["packages"].as_array())
            .or(v["packages"].as_array());
        for p in packages.into_iter().flatten() {
            let (Some(name), Some(fixed)) = (p["name"].as_str(), evr(p)) else { continue };
            let arch = p["arch"].as_str().unwrap_or("").to_string();
            for cve in &cves {
                let key = (format!("rocky {major}"), name.to_string(), fixed.clone(), cve.clone(), id.clone());
                let entry = merged.entry(key).or_insert((BTreeSet::new(), severity));
                entry.0.insert(arch.clone());
            }
        }
    }
    for ((platform, name, fixed, cve, id), (arches, severity)) in merged {
        let arches = arches.into_iter().collect::<Vec<_>>().join(",");
        b.add(advisory(platform, &name, &cve, fixed, arches, &id), severity, "", "rocky");
    }
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
                    b.add(
                        advisory(platform.clone(), name, vuln, fixed.clone(), String::new(), id),
                        severity,
                        "",
                        "osv",
                    );
                }
            }
        }
    }
    b.source("osv", "", "");
    Ok(())
}

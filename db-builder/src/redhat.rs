//! Red Hat Enterprise Linux: OVAL v2 (`vuln-list-redhat/oval/<major>/<stream>/…`) with the
//! CPE map of `vuln-list-redhat/cpe/repository-to-cpe.json`, and the security data API's
//! per-CVE records (`vuln-list-redhat/api/<year>/CVE-*.json`) for severities and titles.
//!
//! trivy-db keeps every definition with its affected CPEs and picks, at scan time, those whose
//! CPEs match the image's content sets (from `/root/buildinfo/content_manifests`, else the
//! default sets of the release). A disk image of a RHEL or CentOS machine has no content
//! manifests, so the choice is made here, once: a definition belongs to `redhat N` when one of
//! its affected CPEs covers a CPE of release N's default content sets (BaseOS and AppStream;
//! server and extras before 8). EUS, E4S and add-on streams therefore stay out of the database.

use crate::families::{json_files, load, vendor_severity, Report};
use coldscan_core::vulndb::{Builder, NewAdvisory, Severity, Status};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The content sets a RHEL machine of each major release is assumed to use.
const DEFAULT_CONTENT_SETS: &[(&str, &[&str])] = &[
    ("6", &["rhel-6-server-rpms", "rhel-6-server-extras-rpms"]),
    ("7", &["rhel-7-server-rpms", "rhel-7-server-extras-rpms"]),
    ("8", &["rhel-8-for-x86_64-baseos-rpms", "rhel-8-for-x86_64-appstream-rpms"]),
    ("9", &["rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"]),
    ("10", &["rhel-10-for-x86_64-baseos-rpms", "rhel-10-for-x86_64-appstream-rpms"]),
];

/// The CPEs of each release's default content sets, from `repository-to-cpe.json` (either
/// `{repo: [cpe…]}` or vuln-list's `{"data": {repo: {"cpes": [cpe…]}}}`).
fn default_cpes(path: &Path, report: &mut Report) -> Result<Vec<(&'static str, BTreeSet<String>)>, String> {
    let Some(map) = load(path, report)? else { return Ok(Vec::new()) };
    let map = if map["data"].is_object() { &map["data"] } else { &map };
    if !map.is_object() {
        report.malformed(path, "not a repository → CPE map")?;
        return Ok(Vec::new());
    }
    Ok(DEFAULT_CONTENT_SETS
        .iter()
        .map(|(major, repos)| {
            let cpes = repos
                .iter()
                .flat_map(|r| {
                    let entry = &map[*r];
                    entry.as_array().or_else(|| entry["cpes"].as_array()).into_iter().flatten()
                })
                .filter_map(Value::as_str)
                .map(String::from)
                .collect();
            (*major, cpes)
        })
        .collect())
}

/// Whether an advisory's affected CPE covers a content set's CPE: equal, or less specific
/// (`cpe:/a:redhat:enterprise_linux:8` covers `cpe:/a:redhat:enterprise_linux:8::appstream`).
fn covers(affected: &str, content: &str) -> bool {
    content == affected || content.strip_prefix(affected).is_some_and(|rest| rest.starts_with(':'))
}

/// The rpminfo tests, objects and states of one OVAL stream, by id.
struct Stream {
    tests: BTreeMap<String, Value>,
    objects: BTreeMap<String, Value>,
    states: BTreeMap<String, Value>,
}

impl Stream {
    fn load(dir: &Path, report: &mut Report) -> Result<Self, String> {
        let mut by_id = |file: &str, key: &str| -> Result<BTreeMap<String, Value>, String> {
            let path = dir.join(file);
            if !path.is_file() {
                return Ok(BTreeMap::new());
            }
            let Some(mut v) = load(&path, report)? else { return Ok(BTreeMap::new()) };
            // Moved out, not copied: a stream's states file runs to tens of megabytes.
            let Value::Array(items) = v[key].take() else { return Ok(BTreeMap::new()) };
            Ok(items.into_iter().filter_map(|x| Some((x["ID"].as_str()?.to_string(), x))).collect())
        };
        Ok(Stream {
            tests: by_id("tests/tests.json", "RpminfoTests")?,
            objects: by_id("objects/objects.json", "RpminfoObjects")?,
            states: by_id("states/states.json", "RpminfoState")?,
        })
    }

    /// What an rpminfo test says of a package: `(name, fixed, arches)` for "earlier than"
    /// tests (fixed set) and "is installed" tests (fixed empty); `None` for signature-key and
    /// other tests.
    fn package_test(&self, test_ref: &str) -> Option<(String, String, String)> {
        let test = self.tests.get(test_ref)?;
        if test["Check"].as_str().is_some_and(|c| c != "at least one") {
            return None;
        }
        let name = self.objects.get(test["Object"]["ObjectRef"].as_str()?)?["Name"].as_str()?.to_string();
        let Some(state_ref) = test["State"]["StateRef"].as_str().filter(|s| !s.is_empty()) else {
            return Some((name, String::new(), String::new()));
        };
        let state = self.states.get(state_ref)?;
        if state["SignatureKeyID"]["Text"].as_str().is_some_and(|k| !k.is_empty()) {
            return None;
        }
        let evr = &state["Evr"];
        if evr["Operation"].as_str() != Some("less than") {
            return None;
        }
        let fixed = evr["Text"].as_str()?;
        let fixed = fixed.strip_prefix("0:").unwrap_or(fixed).to_string();
        let mut arches: Vec<&str> =
            state["Arch"]["Text"].as_str().unwrap_or("").split('|').filter(|a| !a.is_empty()).collect();
        arches.sort();
        Some((name, fixed, arches.join(",")))
    }
}

/// One package condition of a definition: name, fixed version (empty: unpatched),
/// architectures, module stream.
type PackageFix = (String, String, String, String);

/// Walks a criteria tree; `Module N:S is enabled` criterions set the module for their node and
/// everything below it.
fn criteria_fixes(stream: &Stream, node: &Value, module: &str, out: &mut Vec<PackageFix>) {
    let criterions: Vec<&Value> = node["Criterions"].as_array().into_iter().flatten().collect();
    let mut module = module;
    for c in &criterions {
        if let Some(m) = c["Comment"].as_str().and_then(|s| s.strip_prefix("Module ")?.strip_suffix(" is enabled")) {
            module = m;
        }
    }
    for c in &criterions {
        if let Some((name, fixed, arches)) = c["TestRef"].as_str().and_then(|t| stream.package_test(t)) {
            out.push((name, fixed, arches, module.to_string()));
        }
    }
    for child in node["Criterias"].as_array().into_iter().flatten() {
        criteria_fixes(stream, child, module, out);
    }
}

/// The status of an unpatched definition.
fn resolution(state: &str) -> Status {
    match state {
        "Will not fix" => Status::WillNotFix,
        "Fix deferred" => Status::FixDeferred,
        "Out of support scope" => Status::EndOfLife,
        // "Affected", "Under investigation".
        _ => Status::Affected,
    }
}

/// Reads a `vuln-list-redhat` tree: its OVAL definitions (when it has `oval/` or `cpe/`) and
/// its security-data API records (when it has `api/`).
pub fn read_redhat(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let (api, oval) = (root.join("api"), root.join("oval"));
    if !api.is_dir() && !oval.is_dir() && !root.join("cpe").is_dir() {
        return Err(format!("{}: neither api/, oval/ nor cpe/ found", root.display()));
    }
    if oval.is_dir() || root.join("cpe").is_dir() {
        read_oval(root, b, report)?;
    }
    if api.is_dir() {
        read_api(&api, b, report)?;
    }
    b.source("redhat", "", "");
    Ok(())
}

/// The security data API (`api/<year>/CVE-*.json`): `threat_severity` and the Bugzilla
/// summary (without its leading CVE id) as a details-only source. Records whose
/// `affected_release` or `package_state` are not objects (or lists of them) with string
/// product names are malformed.
fn read_api(dir: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    for path in json_files(dir) {
        let Some(v) = load(&path, report)? else { continue };
        let well_formed = v.is_object()
            && ["affected_release", "package_state"].iter().all(|key| {
                let entries: Vec<&Value> = match &v[*key] {
                    Value::Null => Vec::new(),
                    Value::Array(list) => list.iter().collect(),
                    one => vec![one],
                };
                entries.iter().all(|e| e.is_object() && (e["product_name"].is_null() || e["product_name"].is_string()))
            });
        let id = v["name"]
            .as_str()
            .map(String::from)
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).filter(|s| s.starts_with("CVE-")));
        let (true, Some(id)) = (well_formed, id) else {
            report.malformed(&path, "not a Red Hat security data record")?;
            continue;
        };
        let severity = vendor_severity(v["threat_severity"].as_str().unwrap_or(""));
        let summary = v["bugzilla"]["description"].as_str().unwrap_or("").trim();
        let title = summary.strip_prefix(id.as_str()).unwrap_or(summary).trim();
        b.fallback_details("redhat", &id, severity, title);
    }
    Ok(())
}

/// The OVAL v2 definitions: `cpe/repository-to-cpe.json` (required) and every
/// `oval/<major>/<stream>/definitions/**.json` with the stream's tests, objects and states.
/// Patched definitions (an RHSA/RHBA reference) give fixes per CVE with the erratum id;
/// unpatched ones the CVE with its resolution. Definitions marked `unaffected` are skipped.
fn read_oval(root: &Path, b: &mut Builder, report: &mut Report) -> Result<(), String> {
    let map = root.join("cpe/repository-to-cpe.json");
    if !map.is_file() {
        return Err(format!("{}: missing (needed to choose the definitions of each release)", map.display()));
    }
    let releases = default_cpes(&map, report)?;
    let oval = root.join("oval");
    let mut streams: Vec<std::path::PathBuf> = std::fs::read_dir(&oval)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|major| std::fs::read_dir(major.path()).into_iter().flatten().flatten())
        .map(|stream| stream.path())
        .filter(|p| p.join("definitions").is_dir())
        .collect();
    streams.sort();
    for dir in streams {
        let stream = Stream::load(&dir, report)?;
        for path in json_files(&dir.join("definitions")) {
            let Some(def) = load(&path, report)? else { continue };
            let Some(id) = def["ID"].as_str() else {
                report.malformed(&path, "no ID")?;
                continue;
            };
            if id.contains("unaffected") {
                continue;
            }
            let meta = &def["Metadata"];
            let advisory = &meta["Advisory"];
            let affected: Vec<&str> =
                advisory["AffectedCpeList"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let platforms: Vec<String> = releases
                .iter()
                .filter(|(_, cpes)| cpes.iter().any(|c| affected.iter().any(|a| covers(a, c))))
                .map(|(major, _)| format!("redhat {major}"))
                .collect();
            if platforms.is_empty() {
                continue;
            }
            let references: Vec<&Value> = meta["References"].as_array().into_iter().flatten().collect();
            let erratum = references
                .iter()
                .find(|r| matches!(r["Source"].as_str(), Some("RHSA" | "RHBA" | "RHEA")))
                .and_then(|r| r["RefID"].as_str())
                .unwrap_or("");
            let default_severity = vendor_severity(advisory["Severity"].as_str().unwrap_or(""));
            let mut cves: Vec<(&str, Severity)> = advisory["Cves"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    let impact = c["Impact"].as_str().map(vendor_severity).unwrap_or(Severity::Unknown);
                    Some((c["CveID"].as_str()?, if impact == Severity::Unknown { default_severity } else { impact }))
                })
                .collect();
            if cves.is_empty() {
                cves = references
                    .iter()
                    .filter(|r| r["Source"] == "CVE")
                    .filter_map(|r| Some((r["RefID"].as_str()?, default_severity)))
                    .collect();
            }
            let unpatched_status = resolution(advisory["Affected"]["Resolution"]["State"].as_str().unwrap_or(""));
            let mut fixes = Vec::new();
            criteria_fixes(&stream, &def["Criteria"], "", &mut fixes);
            fixes.sort();
            fixes.dedup();
            for platform in &platforms {
                for (name, fixed, arches, module) in &fixes {
                    // A patched definition's "is installed" criteria are not conditions on fixes.
                    if !erratum.is_empty() && fixed.is_empty() {
                        continue;
                    }
                    let status = if fixed.is_empty() { unpatched_status } else { Status::Fixed };
                    for (cve, severity) in &cves {
                        let a = NewAdvisory {
                            status,
                            arches: arches.clone(),
                            module: module.clone(),
                            ..NewAdvisory::new(platform, name, cve, fixed, erratum)
                        };
                        b.add(a, *severity, "", "redhat");
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn cpe_coverage() {
        let appstream = "cpe:/a:redhat:enterprise_linux:8::appstream";
        assert!(covers("cpe:/a:redhat:enterprise_linux:8", appstream));
        assert!(covers(appstream, appstream));
        assert!(!covers("cpe:/a:redhat:enterprise_linux:8::crb", appstream));
        assert!(!covers("cpe:/o:redhat:enterprise_linux:8", appstream), "part differs");
        assert!(!covers("cpe:/a:redhat:enterprise_linux:8", "cpe:/a:redhat:enterprise_linux:80::appstream"));
        assert!(!covers("cpe:/a:redhat:rhel_eus:8.1", appstream));
    }
}

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

use crate::families::{checked, json_files, load, platform, vendor_severity, Report};
use crate::raw;
use coldscan_core::vulndb::{Builder, Distro, NewAdvisory, Severity, Status};
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
    let Some(map) = load::<raw::RepositoryToCpe>(path, report)? else { return Ok(Vec::new()) };
    let (raw::RepositoryToCpe::Wrapped { data: map } | raw::RepositoryToCpe::Plain(map)) = map;
    Ok(DEFAULT_CONTENT_SETS
        .iter()
        .map(|(major, repos)| {
            let cpes = repos
                .iter()
                .filter_map(|r| map.get(*r))
                .flat_map(|entry| match entry {
                    raw::RepositoryCpes::List(cpes) | raw::RepositoryCpes::Object { cpes } => cpes.iter().cloned(),
                })
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
    tests: BTreeMap<String, raw::RedHatTest>,
    objects: BTreeMap<String, raw::RedHatObject>,
    states: BTreeMap<String, raw::RedHatState>,
}

/// Reads `dir/file` as `T` (an absent file reads as nothing).
fn load_if_present<T: serde::de::DeserializeOwned>(
    dir: &Path,
    file: &str,
    report: &mut Report,
) -> Result<Option<T>, String> {
    let path = dir.join(file);
    if !path.is_file() {
        return Ok(None);
    }
    load(&path, report)
}

/// Items by their `ID` (items without one are left out).
fn by_id<T>(items: Option<Vec<T>>, id: impl Fn(&T) -> Option<&String>) -> BTreeMap<String, T> {
    items.into_iter().flatten().filter_map(|x| Some((id(&x)?.clone(), x))).collect()
}

impl Stream {
    fn load(dir: &Path, report: &mut Report) -> Result<Self, String> {
        let tests = load_if_present::<raw::RedHatTests>(dir, "tests/tests.json", report)?.and_then(|t| t.tests);
        let objects =
            load_if_present::<raw::RedHatObjects>(dir, "objects/objects.json", report)?.and_then(|o| o.objects);
        let states = load_if_present::<raw::RedHatStates>(dir, "states/states.json", report)?.and_then(|s| s.states);
        Ok(Stream {
            tests: by_id(tests, |t| t.id.as_ref()),
            objects: by_id(objects, |o| o.id.as_ref()),
            states: by_id(states, |s| s.id.as_ref()),
        })
    }

    /// What an rpminfo test says of a package: `(name, fixed, arches)` for "earlier than"
    /// tests (fixed set) and "is installed" tests (fixed empty); `None` for signature-key and
    /// other tests.
    fn package_test(&self, test_ref: &str) -> Option<(String, String, String)> {
        let test = self.tests.get(test_ref)?;
        if test.check.as_deref().is_some_and(|c| c != "at least one") {
            return None;
        }
        let object = self.objects.get(test.object.as_ref()?.object_ref.as_deref()?)?;
        let name = object.name.clone()?;
        let Some(state_ref) = test.state.as_ref().and_then(|s| s.state_ref.as_deref()).filter(|s| !s.is_empty()) else {
            return Some((name, String::new(), String::new()));
        };
        let state = self.states.get(state_ref)?;
        if state.signature_key_id.as_ref().and_then(|k| k.text.as_deref()).is_some_and(|k| !k.is_empty()) {
            return None;
        }
        let evr = state.evr.as_ref()?;
        if evr.operation.as_deref() != Some("less than") {
            return None;
        }
        let fixed = evr.text.as_deref()?;
        let fixed = fixed.strip_prefix("0:").unwrap_or(fixed).to_string();
        let arch = state.arch.as_ref().and_then(|a| a.text.as_deref()).unwrap_or("");
        let mut arches: Vec<&str> = arch.split('|').filter(|a| !a.is_empty()).collect();
        arches.sort();
        Some((name, fixed, arches.join(",")))
    }
}

/// One package condition of a definition: name, fixed version (empty: unpatched),
/// architectures, module stream.
type PackageFix = (String, String, String, String);

/// Walks a criteria tree; `Module N:S is enabled` criterions set the module for their node and
/// everything below it.
fn criteria_fixes(stream: &Stream, node: &raw::OvalCriteria, module: &str, out: &mut Vec<PackageFix>) {
    let criterions: Vec<&raw::OvalCriterion> = node.criterions.iter().flatten().collect();
    let mut module = module;
    for c in &criterions {
        if let Some(m) = c.comment.as_deref().and_then(|s| s.strip_prefix("Module ")?.strip_suffix(" is enabled")) {
            module = m;
        }
    }
    for c in &criterions {
        if let Some((name, fixed, arches)) = c.test_ref.as_deref().and_then(|t| stream.package_test(t)) {
            out.push((name, fixed, arches, module.to_string()));
        }
    }
    for child in node.criterias.iter().flatten() {
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
        checked("Red Hat security data", &api, b, report, read_api)?;
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
        // The typed record checks `affected_release` and `package_state`: objects (or lists of
        // them) whose product names are strings.
        let Some(v) = load::<raw::RedHatApiRecord>(&path, report)? else { continue };
        let id = v
            .name
            .clone()
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).filter(|s| s.starts_with("CVE-")));
        let Some(id) = id else {
            report.malformed(&path, "not a Red Hat security data record")?;
            continue;
        };
        let severity = vendor_severity(v.threat_severity.as_deref().unwrap_or(""));
        let summary = v.bugzilla.as_ref().and_then(|b| b.description.as_deref()).unwrap_or("").trim();
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
            let Some(def) = load::<raw::RedHatDefinition>(&path, report)? else { continue };
            if def.id.contains("unaffected") {
                continue;
            }
            let meta = def.metadata.unwrap_or_default();
            let advisory = meta.advisory.unwrap_or_default();
            let affected: Vec<&str> = advisory.affected_cpe_list.iter().flatten().map(String::as_str).collect();
            let platforms: Vec<String> = releases
                .iter()
                .filter(|(_, cpes)| cpes.iter().any(|c| affected.iter().any(|a| covers(a, c))))
                .map(|(major, _)| platform(Distro::Redhat, major))
                .collect();
            if platforms.is_empty() {
                continue;
            }
            let references: Vec<&raw::RedHatReference> = meta.references.iter().flatten().collect();
            let erratum = references
                .iter()
                .find(|r| matches!(r.source.as_deref(), Some("RHSA" | "RHBA" | "RHEA")))
                .and_then(|r| r.ref_id.as_deref())
                .unwrap_or("");
            let default_severity = vendor_severity(advisory.severity.as_deref().unwrap_or(""));
            let mut cves: Vec<(&str, Severity)> = advisory
                .cves
                .iter()
                .flatten()
                .filter_map(|c| {
                    let impact = c.impact.as_deref().map(vendor_severity).unwrap_or(Severity::Unknown);
                    Some((c.cve_id.as_deref()?, if impact == Severity::Unknown { default_severity } else { impact }))
                })
                .collect();
            if cves.is_empty() {
                cves = references
                    .iter()
                    .filter(|r| r.source.as_deref() == Some("CVE"))
                    .filter_map(|r| Some((r.ref_id.as_deref()?, default_severity)))
                    .collect();
            }
            let state = advisory.affected.as_ref().and_then(|a| a.resolution.as_ref()).and_then(|r| r.state.as_deref());
            let unpatched_status = resolution(state.unwrap_or(""));
            let mut fixes = Vec::new();
            criteria_fixes(&stream, &def.criteria.unwrap_or_default(), "", &mut fixes);
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

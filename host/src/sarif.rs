//! SARIF 2.1.0 output of a scan, built with the `serde-sarif` crate: one rule per
//! vulnerability id (with GitHub's `security-severity`, a full description and help), one
//! result per finding, located by a relative, percent-encoded artifact URI (the image's file
//! name) and a logical location (volume / package database / package); the scan's warnings
//! and errors as tool execution notifications, and `executionSuccessful` false when the scan
//! was incomplete.

use coldscan_core::report::{ReportName, ScanReport};
use coldscan_core::vulndb::Severity;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool,
    ToolComponent,
};
use std::collections::BTreeMap;

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Unknown => ResultLevel::Note,
    }
}

/// The score GitHub code scanning reads to rank security results.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Unknown => "0.0",
    }
}

/// Where coldscan's documentation lives (SARIF `informationUri`, rule help).
const INFORMATION_URI: &str = "https://github.com/coldscan/coldscan";

/// A relative URI reference for a file: its name, percent-encoded (RFC 3986 unreserved
/// characters kept), so that consumers resolve it against the scanned directory.
fn relative_uri(path: &str) -> String {
    let name =
        std::path::Path::new(path).file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SARIF log of a scan report.
pub fn from_report(report: &ScanReport) -> Sarif {
    // A finding is somewhere inside the image: the region is the whole artifact.
    let image_bytes = std::fs::metadata(&report.image.path).map_or(report.image.virtual_size, |m| m.len());
    let mut rules: BTreeMap<String, ReportingDescriptor> = BTreeMap::new();
    let mut results = Vec::new();
    for t in &report.targets {
        let db_path = t.packages.first().map(|p| p.db).unwrap_or("packages");
        for v in &t.vulnerabilities {
            if !rules.contains_key(&v.id) {
                let mut props = BTreeMap::new();
                props.insert(String::from("security-severity"), serde_json::json!(security_severity(v.severity)));
                let text = v.title.clone().unwrap_or_else(|| format!("{} ({})", v.id, v.severity));
                let full = format!(
                    "{}: {} severity vulnerability{}",
                    v.id,
                    v.severity,
                    v.title.as_deref().map(|t| format!(" — {t}")).unwrap_or_default()
                );
                let help = format!(
                    "Update the affected package to the fixed version the distribution publishes{}.",
                    v.advisory.as_deref().map(|a| format!(" (advisory {a})")).unwrap_or_default()
                );
                let rule = ReportingDescriptor::builder()
                    .id(v.id.clone())
                    .short_description(MultiformatMessageString::builder().text(text).build())
                    .full_description(MultiformatMessageString::builder().text(full).build())
                    .help(MultiformatMessageString::builder().text(help).build())
                    .properties(
                        PropertyBag::builder()
                            .tags(vec![String::from("security"), String::from("vulnerability")])
                            .additional_properties(props)
                            .build(),
                    )
                    .build();
                rules.insert(v.id.clone(), rule);
            }
            let text = format!(
                "{} {} in {} ({}): installed {}, {}",
                v.severity,
                v.id,
                v.package,
                t.volume,
                v.installed,
                v.fixed.as_deref().map_or_else(|| format!("status {}", v.status), |f| format!("fixed in {f}"))
            );
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(ArtifactLocation::builder().uri(relative_uri(&report.image.path)).build())
                        .region(Region::builder().byte_offset(0).byte_length(image_bytes as i64).build())
                        .build(),
                )
                .logical_locations(vec![LogicalLocation::builder()
                    .fully_qualified_name(format!("{}/{}/{}", t.volume, db_path, v.package))
                    .name(v.package.clone())
                    .kind("package")
                    .build()])
                .build();
            results.push(
                SarifResult::builder()
                    .rule_id(v.id.clone())
                    .level(level(v.severity))
                    .message(Message::builder().text(text).build())
                    .locations(vec![location])
                    .build(),
            );
        }
    }
    let driver = ToolComponent::builder()
        .name("coldscan")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(rules.into_values().collect::<Vec<_>>())
        .build();
    let mut notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|e| {
            let level = e.level.as_str();
            let text = format!("[{}] {}", e.volume.as_deref().unwrap_or("image"), e.message);
            Notification::builder()
                .message(Message::builder().text(text).build())
                .level(serde_json::json!(level))
                .build()
        })
        .collect();
    notifications.extend(report.scan.incomplete_reasons.iter().map(|r| {
        Notification::builder()
            .message(Message::builder().text(format!("scan incomplete: {r}")).build())
            .level(serde_json::json!("error"))
            .build()
    }));
    let invocation = Invocation::builder()
        .execution_successful(report.scan.complete)
        .tool_execution_notifications(notifications)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .results(results)
        .build();
    Sarif::builder().version(serde_json::json!("2.1.0")).schema(serde_sarif::sarif::SCHEMA_URL).runs(vec![run]).build()
}

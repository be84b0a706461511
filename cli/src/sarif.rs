//! SARIF 2.1.0 output of a scan, built with the `serde-sarif` crate: one rule per
//! vulnerability id (with GitHub's `security-severity`), one result per finding, located at the
//! package database inside the image.

use coldscan_core::report::ScanReport;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;

fn level(severity: &str) -> ResultLevel {
    match severity {
        "CRITICAL" | "HIGH" => ResultLevel::Error,
        "MEDIUM" => ResultLevel::Warning,
        _ => ResultLevel::Note,
    }
}

/// The score GitHub code scanning reads to rank security results.
fn security_severity(severity: &str) -> &'static str {
    match severity {
        "CRITICAL" => "9.5",
        "HIGH" => "8.0",
        "MEDIUM" => "5.5",
        "LOW" => "2.0",
        _ => "0.0",
    }
}

/// The SARIF log of a scan report.
pub fn from_report(report: &ScanReport) -> Sarif {
    let mut rules: BTreeMap<String, ReportingDescriptor> = BTreeMap::new();
    let mut results = Vec::new();
    for t in &report.targets {
        let db_path = t.packages.first().map(|p| p.db).unwrap_or("packages");
        for v in &t.vulnerabilities {
            if !rules.contains_key(&v.id) {
                let mut props = BTreeMap::new();
                props.insert(String::from("security-severity"), serde_json::json!(security_severity(v.severity)));
                let text = v.title.clone().unwrap_or_else(|| format!("{} ({})", v.id, v.severity));
                let rule = ReportingDescriptor::builder()
                    .id(v.id.clone())
                    .short_description(MultiformatMessageString::builder().text(text).build())
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
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(format!("{}#{}/{}/{}", report.image.path, t.volume, db_path, v.package))
                                .build(),
                        )
                        .build(),
                )
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
        .rules(rules.into_values().collect::<Vec<_>>())
        .build();
    let run = Run::builder().tool(Tool::builder().driver(driver).build()).results(results).build();
    Sarif::builder().version(serde_json::json!("2.1.0")).schema(serde_sarif::sarif::SCHEMA_URL).runs(vec![run]).build()
}

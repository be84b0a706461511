//! The scan report written in each output format — JSON (one document per line), SARIF,
//! CycloneDX, CSV and tables — the same for every front end.

use crate::table::TableStyle;
use crate::HostError;
use coldscan_core::report::ScanReport;
use std::io::Write;

/// Output formats of a scan report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Aligned text for people (warnings on standard error).
    Table,
    /// JSON (schema `coldscan/report/v1`); one document per line for several images.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF consumers).
    Sarif,
    /// CycloneDX 1.5 JSON: components and vulnerabilities.
    Cyclonedx,
    /// CSV: one row per finding (spreadsheets).
    Csv,
}

/// Writes the report in `format` (the table's warnings go to `warnings`, the others carry
/// them inside the document); `table` says how tables are drawn.
pub fn write_scan(
    report: &ScanReport,
    format: ReportFormat,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
    table: &TableStyle,
) -> Result<(), HostError> {
    match format {
        ReportFormat::Json => {
            // One line per document, so several images make JSON Lines.
            serde_json::to_writer(&mut *out, report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Sarif => {
            serde_json::to_writer(&mut *out, &crate::sarif::from_report(report)).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Cyclonedx => {
            let mut json = Vec::new();
            crate::cyclonedx::scan_bom(report)
                .output_as_json_v1_5(&mut json)
                .map_err(|e| HostError::Output(std::io::Error::other(e.to_string())))?;
            // Compact, one document per line.
            let value: serde_json::Value = serde_json::from_slice(&json).map_err(std::io::Error::from)?;
            serde_json::to_writer(&mut *out, &value).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let header = [
                "volume",
                "os",
                "package",
                "installed",
                "vulnerability",
                "severity",
                "status",
                "fixed",
                "advisory",
                "title",
                "source",
            ];
            w.write_record(header).map_err(csv_error)?;
            for t in &report.targets {
                let os = t.os.as_ref().map_or(String::new(), |o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone()));
                for v in &t.vulnerabilities {
                    w.write_record([
                        t.volume.as_str(),
                        os.as_str(),
                        v.package.as_str(),
                        v.installed.as_str(),
                        v.id.as_str(),
                        v.severity.as_str(),
                        v.status.as_str(),
                        v.fixed.as_deref().unwrap_or(""),
                        v.advisory.as_deref().unwrap_or(""),
                        v.title.as_deref().unwrap_or(""),
                        v.source.as_str(),
                    ])
                    .map_err(csv_error)?;
                }
            }
            w.flush()?;
        }
        ReportFormat::Table => {
            crate::table::write_scan(report, table, out)?;
            for e in &report.errors {
                writeln!(warnings, "coldscan: {} [{}]: {}", e.level, e.volume.as_deref().unwrap_or("image"), e.message)
                    .map_err(HostError::Output)?;
            }
            if !report.scan.complete {
                writeln!(warnings, "coldscan: the scan is INCOMPLETE:").map_err(HostError::Output)?;
                for r in &report.scan.incomplete_reasons {
                    writeln!(warnings, "  - {r}").map_err(HostError::Output)?;
                }
            }
        }
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> HostError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => HostError::Output(io),
        other => HostError::Output(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Number of findings in a report.
pub fn finding_count(report: &ScanReport) -> usize {
    report.targets.iter().map(|t| t.vulnerabilities.len()).sum()
}

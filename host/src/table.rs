//! The `scan` table: one per root, fitted to the terminal's width (comfy-table wraps long
//! cells), with a severity summary line, TITLE and STATUS columns when there is room, and
//! severities coloured on a terminal unless `NO_COLOR` is set.

use coldscan_core::report::ScanReport;
use coldscan_core::vulndb::Severity;
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use std::io::Write;

/// Width from which the STATUS and TITLE columns are shown.
const WIDE: u16 = 140;

/// How tables are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableStyle {
    /// Columns available.
    pub width: u16,
    /// Colour severities.
    pub color: bool,
    /// List every package of each root too.
    pub list_all_pkgs: bool,
}

impl TableStyle {
    /// The style for standard output: the terminal's width (`COLUMNS` first, as shells export
    /// it; 120 when neither is known), colour on a terminal unless `NO_COLOR` is set.
    pub fn for_stdout(list_all_pkgs: bool) -> Self {
        use std::io::IsTerminal;
        let width =
            std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).or_else(terminal_width).unwrap_or(120).max(40);
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        TableStyle { width, color, list_all_pkgs }
    }
}

fn terminal_width() -> Option<u16> {
    let mut t = Table::new();
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.width()
}

fn severity_cell(severity: Severity, color: bool) -> Cell {
    let cell = Cell::new(severity);
    if !color {
        return cell;
    }
    match severity {
        Severity::Critical => cell.fg(Color::Red),
        Severity::High => cell.fg(Color::DarkRed),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low => cell.fg(Color::Blue),
        Severity::Unknown => cell,
    }
}

fn new_table(style: &TableStyle, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width)
        .set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
    if !style.color {
        t.force_no_tty();
    }
    t
}

/// Writes the scan report as tables.
pub fn write_scan(report: &ScanReport, style: &TableStyle, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} ({}), vulnerability DB built {}", report.image.path, report.image.format, report.db.built_at)?;
    let wide = style.width >= WIDE;
    for t in &report.targets {
        let os = t.os.as_ref().map_or(String::from("unknown OS"), |o| {
            o.pretty_name.clone().unwrap_or_else(|| format!("{} {}", o.family, o.version_id.as_deref().unwrap_or("")))
        });
        writeln!(out, "\n{} ({os}, {} packages)", t.volume, t.packages.len())?;
        let count = |s: Severity| t.vulnerabilities.iter().filter(|v| v.severity == s).count();
        let counts: Vec<String> = Severity::RANKED.iter().map(|&s| format!("{s}: {}", count(s))).collect();
        writeln!(out, "Total: {} ({})", t.vulnerabilities.len(), counts.join(", "))?;
        if !t.suppressed.is_empty() {
            writeln!(out, "Suppressed: {} (ignore rules and VEX statements)", t.suppressed.len())?;
        }
        if !t.vulnerabilities.is_empty() {
            let mut header = vec!["PACKAGE", "VULNERABILITY", "SEVERITY"];
            if wide {
                header.push("STATUS");
            }
            header.extend(["INSTALLED", "FIXED"]);
            if wide {
                header.push("TITLE");
            }
            let mut table = new_table(style, &header);
            for v in &t.vulnerabilities {
                let mut row = vec![Cell::new(&v.package), Cell::new(&v.id), severity_cell(v.severity, style.color)];
                if wide {
                    row.push(Cell::new(v.status));
                }
                row.push(Cell::new(&v.installed));
                row.push(Cell::new(v.fixed.as_deref().unwrap_or("")));
                if wide {
                    row.push(Cell::new(v.title.as_deref().unwrap_or("")));
                }
                table.add_row(row);
            }
            writeln!(out, "{table}")?;
        }
        if style.list_all_pkgs && !t.packages.is_empty() {
            let mut packages: Vec<_> = t.packages.iter().collect();
            packages.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
            let mut table = new_table(style, &["PACKAGE", "VERSION", "ARCH", "SOURCE"]);
            for p in packages {
                table.add_row(vec![
                    p.name.as_str(),
                    p.version.as_str(),
                    p.arch.as_deref().unwrap_or(""),
                    p.source_name.as_deref().unwrap_or(""),
                ]);
            }
            writeln!(out, "{table}")?;
        }
    }
    if report.targets.is_empty() {
        writeln!(out, "\nNo operating system or package database found.")?;
    }
    Ok(())
}

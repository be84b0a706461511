//! What the window shows of a scan: progress, a failure, or the results — the image's layers,
//! its packages, and its findings (sortable, filterable, with a detail pane). Pure
//! presentation of the report the core produced.

use crate::worker::{DbBytes, Job};
use coldscan_core::report::{ScanReport, ScanTargetReport, VulnerabilityReport};
use coldscan_core::vulndb::{Coverage, Severity, VulnDb};
use eframe::egui::{self, Color32, RichText};
use egui_extras::{Column, TableBuilder};

/// The result tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Findings.
    Findings,
    /// Installed packages.
    Packages,
    /// Container, volumes, filesystems, roots.
    Layers,
}

/// Columns the findings table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Severity, highest first.
    Severity,
    /// Vulnerability id.
    Id,
    /// Package name.
    Package,
    /// Installed version.
    Installed,
    /// Fixed version.
    Fixed,
    /// Fix status.
    Status,
    /// Volume of the root.
    Volume,
    /// Title.
    Title,
}

impl SortBy {
    /// What a header says of the order it sorts in (`reversed`: clicked a second time).
    fn order(self, reversed: bool) -> &'static str {
        match (self, reversed) {
            (SortBy::Severity, false) => "critical first",
            (SortBy::Severity, true) => "unknown first",
            (_, false) => "ascending",
            (_, true) => "descending",
        }
    }
}

/// How the findings are filtered and sorted, and which one is selected.
#[derive(Debug, Clone)]
pub struct FindingFilter {
    /// Severities hidden by clicking their chip.
    pub hidden: Vec<Severity>,
    /// `None`: all; `Some(true)`: with a fix; `Some(false)`: without.
    pub fixed: Option<bool>,
    /// Free text matched against id, package and title.
    pub text: String,
    /// Sort column and direction.
    pub sort: (SortBy, bool),
    /// (target index, finding index) of the selected finding.
    pub selected: Option<(usize, usize)>,
}

impl Default for FindingFilter {
    fn default() -> Self {
        FindingFilter {
            hidden: Vec::new(),
            fixed: None,
            text: String::new(),
            sort: (SortBy::Severity, false),
            selected: None,
        }
    }
}

/// The colour of a severity.
pub fn severity_color(severity: Severity) -> Color32 {
    match severity {
        Severity::Critical => Color32::from_rgb(0xd3, 0x2f, 0x2f),
        Severity::High => Color32::from_rgb(0xf5, 0x7c, 0x00),
        Severity::Medium => Color32::from_rgb(0xf9, 0xa8, 0x25),
        Severity::Low => Color32::from_rgb(0x42, 0x8b, 0xca),
        Severity::Unknown => Color32::GRAY,
    }
}

/// Orders ids as people read them: runs of digits by their number, so `CVE-2024-9999` comes
/// before `CVE-2024-10000`.
pub fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> impl Iterator<Item = (bool, &str)> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digits = first.is_ascii_digit();
            let end = rest.find(|c: char| c.is_ascii_digit() != digits).unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            rest = tail;
            Some((digits, run))
        })
    }
    let (mut ra, mut rb) = (runs(a), runs(b));
    loop {
        let order = match (ra.next(), rb.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some((true, x)), Some((true, y))) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (Some((_, x)), Some((_, y))) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
}

/// The DB line of the top bar, with a banner when it is older than `max_age_days` on `today`
/// (the scan settings' limit, the same as the CLI's warning).
pub fn db_line(ui: &mut egui::Ui, db: &DbBytes, error: Option<&str>, today: &str, max_age_days: u32) {
    if let Some(e) = error {
        ui.colored_label(Color32::from_rgb(0xd3, 0x2f, 0x2f), e);
    }
    let Ok(vulndb) = VulnDb::open(db.bytes()) else { return };
    let which = match db {
        DbBytes::Bundled => String::from("bundled DB"),
        DbBytes::Loaded { path, .. } => format!("DB {}", path.display()),
    };
    let built = vulndb.meta.built_at;
    let partial: Vec<&str> =
        vulndb.meta.platforms.iter().filter(|p| vulndb.coverage(p.name) == Coverage::Partial).map(|p| p.name).collect();
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "{which}, built {built}; sources: {}",
            vulndb.meta.sources.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        ));
        if !partial.is_empty() {
            ui.label(RichText::new(format!("partial data: {}", partial.join(", "))).weak());
        }
    });
    if let Some(days) = coldscan_core::scan::days_between(built, today).filter(|&d| d > i64::from(max_age_days)) {
        banner(
            ui,
            Color32::from_rgb(0xf5, 0x7c, 0x00),
            &format!("The vulnerability DB is {days} days old: load a newer one with Open DB…"),
        );
    }
}

fn banner(ui: &mut egui::Ui, color: Color32, text: &str) {
    egui::Frame::new().fill(color.gamma_multiply(0.25)).inner_margin(6.0).corner_radius(4.0).show(ui, |ui| {
        ui.colored_label(color, text);
    });
}

/// A scan in progress.
pub fn running(ui: &mut egui::Ui, job: &Job) {
    ui.heading(job.name());
    let mib = job.progress.bytes_read() as f32 / (1024.0 * 1024.0);
    ui.add(egui::ProgressBar::new(0.0).animate(true).text(format!("{} — {mib:.1} MiB read", job.progress.stage())));
}

/// An image that could not be read.
pub fn failed(ui: &mut egui::Ui, job: &Job, error: &str) {
    ui.heading(job.name());
    banner(ui, Color32::from_rgb(0xd3, 0x2f, 0x2f), &format!("Could not read this image: {error}"));
}

/// The results of a finished scan.
pub fn results(ui: &mut egui::Ui, report: &ScanReport, tab: &mut Tab, filter: &mut FindingFilter) {
    ui.horizontal(|ui| {
        ui.heading(
            std::path::Path::new(&report.image.path)
                .file_name()
                .map_or(report.image.path.clone(), |n| n.to_string_lossy().into_owned()),
        );
        ui.label(format!(
            "{} · {:.1} GiB virtual · {} packages",
            report.image.format,
            report.image.virtual_size as f64 / (1u64 << 30) as f64,
            report.targets.iter().map(|t| t.packages.len()).sum::<usize>()
        ));
    });
    if !report.scan.complete {
        banner(
            ui,
            Color32::from_rgb(0xd3, 0x2f, 0x2f),
            &format!("Incomplete scan: {}", report.scan.incomplete_reasons.join("; ")),
        );
    }
    for t in &report.targets {
        let os =
            t.os.as_ref().map_or(String::from("unknown OS"), |o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone()));
        ui.label(RichText::new(format!("{}: {os}", t.volume)).strong());
    }
    severity_chips(ui, report, filter);
    ui.horizontal(|ui| {
        ui.selectable_value(tab, Tab::Findings, "Findings");
        ui.selectable_value(tab, Tab::Packages, "Packages");
        ui.selectable_value(tab, Tab::Layers, "Layers");
    });
    ui.separator();
    match tab {
        Tab::Findings => findings(ui, report, filter),
        Tab::Packages => packages(ui, report),
        Tab::Layers => layers(ui, report),
    }
}

fn severity_chips(ui: &mut egui::Ui, report: &ScanReport, filter: &mut FindingFilter) {
    ui.horizontal_wrapped(|ui| {
        for sev in Severity::RANKED {
            let n = report.targets.iter().flat_map(|t| &t.vulnerabilities).filter(|v| v.severity == sev).count();
            let shown = !filter.hidden.contains(&sev);
            let text =
                RichText::new(format!("{sev} {n}")).color(if shown { Color32::WHITE } else { Color32::GRAY }).strong();
            let chip = egui::Button::new(text)
                .fill(if shown { severity_color(sev) } else { Color32::TRANSPARENT })
                .corner_radius(10.0);
            if ui.add(chip).on_hover_text("Show or hide this severity").clicked() {
                if shown {
                    filter.hidden.push(sev);
                } else {
                    filter.hidden.retain(|s| *s != sev);
                }
                filter.selected = None;
            }
        }
        let suppressed: usize = report.targets.iter().map(|t| t.suppressed.len()).sum();
        if suppressed > 0 {
            ui.label(format!("{suppressed} suppressed by ignore rules or VEX"));
        }
    });
}

fn matches(v: &VulnerabilityReport, filter: &FindingFilter) -> bool {
    let text = filter.text.to_ascii_lowercase();
    !filter.hidden.contains(&v.severity)
        && filter.fixed.is_none_or(|f| f == v.fixed.is_some())
        && (text.is_empty()
            || v.id.to_ascii_lowercase().contains(&text)
            || v.package.to_ascii_lowercase().contains(&text)
            || v.title.as_deref().is_some_and(|t| t.to_ascii_lowercase().contains(&text)))
}

/// One row of the findings table.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    /// (target index, finding index) in the report: what a selection remembers.
    pub at: (usize, usize),
    /// The root the finding is on.
    pub target: &'a ScanTargetReport,
    /// The finding.
    pub finding: &'a VulnerabilityReport,
}

/// The findings shown, in display order.
pub fn visible_findings<'a>(report: &'a ScanReport, filter: &FindingFilter) -> Vec<Shown<'a>> {
    let mut rows: Vec<Shown<'a>> = report
        .targets
        .iter()
        .enumerate()
        .flat_map(|(ti, target)| {
            target
                .vulnerabilities
                .iter()
                .enumerate()
                .filter(|(_, v)| matches(v, filter))
                .map(move |(vi, finding)| Shown { at: (ti, vi), target, finding })
        })
        .collect();
    rows.sort_by(|a, b| {
        let ((ta, va), (tb, vb)) = ((a.target, a.finding), (b.target, b.finding));
        let order = match filter.sort.0 {
            // Most severe first.
            SortBy::Severity => vb.severity.cmp(&va.severity),
            SortBy::Id => natural_order(&va.id, &vb.id),
            SortBy::Package => va.package.cmp(&vb.package),
            SortBy::Installed => va.installed.cmp(&vb.installed),
            SortBy::Fixed => va.fixed.cmp(&vb.fixed),
            SortBy::Status => va.status.as_str().cmp(vb.status.as_str()),
            SortBy::Volume => ta.volume.cmp(&tb.volume),
            SortBy::Title => va.title.cmp(&vb.title),
        }
        .then_with(|| natural_order(&va.id, &vb.id))
        .then_with(|| va.package.cmp(&vb.package));
        if filter.sort.1 {
            order.reverse()
        } else {
            order
        }
    });
    rows
}

fn findings(ui: &mut egui::Ui, report: &ScanReport, filter: &mut FindingFilter) {
    ui.horizontal(|ui| {
        let label = ui.label("Search");
        if ui.text_edit_singleline(&mut filter.text).labelled_by(label.id).changed() {
            filter.selected = None;
        }
        egui::ComboBox::from_label("Fix status")
            .selected_text(match filter.fixed {
                None => "Fixed and unfixed",
                Some(true) => "With a fix",
                Some(false) => "Without a fix",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut filter.fixed, None, "Fixed and unfixed");
                ui.selectable_value(&mut filter.fixed, Some(true), "With a fix");
                ui.selectable_value(&mut filter.fixed, Some(false), "Without a fix");
            });
    });
    let rows = visible_findings(report, filter);
    ui.label(format!("{} findings shown", rows.len()));
    if let Some((t, v)) = filter.selected {
        if let Some(target) = report.targets.get(t) {
            if let Some(finding) = target.vulnerabilities.get(v) {
                egui::Panel::right("detail")
                    .resizable(true)
                    .default_size(320.0)
                    .show(ui, |ui| detail(ui, target, finding));
            }
        }
    }
    let columns = [
        ("Severity", SortBy::Severity),
        ("Vulnerability", SortBy::Id),
        ("Package", SortBy::Package),
        ("Installed", SortBy::Installed),
        ("Fixed", SortBy::Fixed),
        ("Status", SortBy::Status),
        ("Volume", SortBy::Volume),
        ("Title", SortBy::Title),
    ];
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        // Every column as wide as its widest text (versions never wrap); the title takes the
        // rest of the window's width, cut where it runs out.
        .column(Column::auto().at_least(80.0))
        .column(Column::auto().at_least(130.0))
        .column(Column::auto().at_least(110.0))
        .column(Column::auto().at_least(110.0))
        .column(Column::auto().at_least(110.0))
        .column(Column::auto())
        .column(Column::auto().at_least(60.0))
        .column(Column::remainder().clip(true))
        .header(22.0, |mut header| {
            for (label, key) in columns {
                header.col(|ui| {
                    let text = if filter.sort.0 == key {
                        format!("{label} ({})", key.order(filter.sort.1))
                    } else {
                        String::from(label)
                    };
                    // One line: the column grows to its header rather than wrap it.
                    if ui.add(egui::Button::new(text).wrap_mode(egui::TextWrapMode::Extend)).clicked() {
                        filter.sort = (key, filter.sort.0 == key && !filter.sort.1);
                    }
                });
            }
        })
        .body(|body| {
            // Rows are laid out only when visible: thousands of findings scroll smoothly.
            body.rows(20.0, rows.len(), |mut row| {
                let Some(&Shown { at, target, finding: f }) = rows.get(row.index()) else { return };
                row.set_selected(filter.selected == Some(at));
                row.col(|ui| {
                    cell(ui, RichText::new(f.severity.as_str()).color(severity_color(f.severity)).strong());
                });
                for text in [
                    f.id.as_str(),
                    &f.package,
                    &f.installed,
                    f.fixed.as_deref().unwrap_or("—"),
                    f.status.as_str(),
                    &target.volume,
                    f.title.as_deref().unwrap_or(""),
                ] {
                    row.col(|ui| {
                        cell(ui, text);
                    });
                }
                if row.response().clicked() {
                    filter.selected = Some(at);
                }
            });
        });
}

/// A table cell's text: not selectable, so that a click selects the row.
fn cell(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.add(egui::Label::new(text).selectable(false));
}

fn detail(ui: &mut egui::Ui, target: &ScanTargetReport, f: &VulnerabilityReport) {
    ui.heading(&f.id);
    ui.colored_label(severity_color(f.severity), RichText::new(f.severity.as_str()).strong());
    if let Some(title) = &f.title {
        ui.label(title);
    }
    ui.separator();
    egui::Grid::new("detail-grid").num_columns(2).show(ui, |ui| {
        for (k, v) in [
            ("Package", f.package.as_str()),
            ("Installed", f.installed.as_str()),
            ("Fixed", f.fixed.as_deref().unwrap_or("no fix yet")),
            ("Status", f.status.as_str()),
            ("Advisory", f.advisory.as_deref().unwrap_or("—")),
            ("Data source", f.source.as_str()),
            ("Volume", target.volume.as_str()),
        ] {
            ui.label(k);
            ui.label(v);
            ui.end_row();
        }
    });
    ui.separator();
    if f.id.starts_with("CVE-") {
        ui.hyperlink_to("NVD", format!("https://nvd.nist.gov/vuln/detail/{}", f.id));
    }
    ui.hyperlink_to("OSV", format!("https://osv.dev/vulnerability/{}", f.id));
}

fn packages(ui: &mut egui::Ui, report: &ScanReport) {
    let rows: Vec<(&str, &coldscan_core::report::PackageReport)> =
        report.targets.iter().flat_map(|t| t.packages.iter().map(move |p| (t.volume.as_str(), p))).collect();
    TableBuilder::new(ui)
        .striped(true)
        .column(Column::auto().at_least(160.0))
        .column(Column::auto().at_least(160.0))
        .column(Column::auto().at_least(70.0))
        .column(Column::auto().at_least(120.0))
        .column(Column::remainder())
        .header(20.0, |mut h| {
            for label in ["Package", "Version", "Arch", "Source", "Volume"] {
                h.col(|ui| {
                    ui.strong(label);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let Some(&(volume, p)) = rows.get(row.index()) else { return };
                for text in [
                    p.name.as_str(),
                    p.version.as_str(),
                    p.arch.as_deref().unwrap_or(""),
                    p.source_name.as_deref().unwrap_or(""),
                    volume,
                ] {
                    row.col(|ui| {
                        ui.label(text);
                    });
                }
            });
        });
}

/// A root in the layers tree: OS, subvolume, kernels, fstab mounts, counts.
fn root(ui: &mut egui::Ui, t: &ScanTargetReport) {
    let os =
        t.os.as_ref().map_or(String::from("unknown OS"), |o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone()));
    egui::CollapsingHeader::new(format!("root: {os}")).id_salt(("root", &t.volume)).default_open(true).show(ui, |ui| {
        if let Some(sub) = &t.subvolume {
            ui.label(format!("in subvolume {sub}"));
        }
        if !t.kernels.is_empty() {
            ui.label(format!("kernels: {}", t.kernels.join(", ")));
        }
        for m in &t.mounts {
            ui.label(format!("mounts {} on {} ({})", m.volume, m.path, m.spec));
        }
        ui.label(format!("{} packages, {} findings", t.packages.len(), t.vulnerabilities.len()));
    });
}

fn layers(ui: &mut egui::Ui, report: &ScanReport) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::CollapsingHeader::new(format!(
            "{} ({}, {} bytes)",
            report.image.path, report.image.format, report.image.virtual_size
        ))
        .default_open(true)
        .show(ui, |ui| {
            for v in &report.volumes {
                let fs = v.filesystem.unwrap_or("no filesystem");
                let label = v.label.as_deref().map(|l| format!(" \"{l}\"")).unwrap_or_default();
                egui::CollapsingHeader::new(format!("{} — {fs}{label}, {} MiB", v.id, v.size >> 20))
                    .default_open(true)
                    .show(ui, |ui| {
                        if let Some(e) = &v.error {
                            ui.colored_label(Color32::from_rgb(0xd3, 0x2f, 0x2f), e);
                        }
                        for s in &v.subvolumes {
                            ui.label(format!(
                                "subvolume {} (id {}){}",
                                s.path,
                                s.id,
                                if s.default { ", default" } else { "" }
                            ));
                        }
                        for t in report.targets.iter().filter(|t| t.volume == v.id) {
                            root(ui, t);
                        }
                    });
            }
        });
        if !report.errors.is_empty() {
            ui.separator();
            ui.strong("Warnings and errors");
            for e in &report.errors {
                ui.label(format!("{} [{}] {}", e.level, e.volume.as_deref().unwrap_or("image"), e.message));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::natural_order;
    use std::cmp::Ordering;

    #[test]
    fn ids_in_numeric_order() {
        let mut ids = ["CVE-2024-10000", "CVE-2023-4567", "CVE-2024-9999", "ALAS-2023-100", "CVE-2024-00999"];
        ids.sort_by(|a, b| natural_order(a, b));
        assert_eq!(ids, ["ALAS-2023-100", "CVE-2023-4567", "CVE-2024-00999", "CVE-2024-9999", "CVE-2024-10000"]);
        assert_eq!(natural_order("CVE-1", "CVE-1"), Ordering::Equal);
        assert_eq!(natural_order("CVE-01", "CVE-1"), "CVE-01".cmp("CVE-1"), "equal numbers: by text");
    }
}

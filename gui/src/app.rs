//! The window: a queue of images on the left, the selected image's results in the middle
//! (layers, packages, findings with a detail pane), the DB and the settings in the top bar.
//! Settings are remembered between runs (eframe persistence).

use crate::picker::{FilePicker, RfdPicker};
use crate::views::{self, FindingFilter, Tab};
use crate::worker::{DbBytes, Job, JobState};
use coldscan_core::scan::{parse_ignore_file, parse_severity, Settings};
use coldscan_core::vulndb::VulnDb;
use coldscan_host::output::ReportFormat;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What is remembered between runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Prefs {
    /// Memory budget for the core, MiB (the CLI's `--mem-limit`).
    pub mem_limit_mib: u32,
    /// Severities kept (empty: all), as the CLI's `--severity`.
    pub severities: Vec<String>,
    /// Drop findings without a fix.
    pub ignore_unfixed: bool,
    /// An ignore file (`.trivyignore` lines).
    pub ignore_file: Option<PathBuf>,
    /// A VEX document.
    pub vex_file: Option<PathBuf>,
    /// A vulnerability DB loaded with "Open DB…" (the air-gapped update path).
    pub db_path: Option<PathBuf>,
    /// Dark theme.
    pub dark: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            mem_limit_mib: 64,
            severities: Vec::new(),
            ignore_unfixed: false,
            ignore_file: None,
            vex_file: None,
            db_path: None,
            dark: true,
        }
    }
}

const PREFS_KEY: &str = "coldscan-prefs";

/// The app.
pub struct App {
    /// Remembered settings.
    pub prefs: Prefs,
    jobs: Vec<Job>,
    selected: Option<usize>,
    picker: Box<dyn FilePicker>,
    db: DbBytes,
    db_error: Option<String>,
    message: Option<String>,
    show_settings: bool,
    tab: Tab,
    filter: FindingFilter,
    repaint: Option<eframe::egui::Context>,
    /// Today (`YYYY-MM-DD`): end-of-life dates, ignore expiry and the DB's age.
    pub today: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "App({} images)", self.jobs.len())
    }
}

impl App {
    /// The app with `picker` for its dialogs and `prefs`; `images` are opened at once.
    pub fn new(picker: Box<dyn FilePicker>, prefs: Prefs, images: Vec<PathBuf>) -> Self {
        let mut app = App {
            prefs,
            jobs: Vec::new(),
            selected: None,
            picker,
            db: DbBytes::Bundled,
            db_error: None,
            message: None,
            show_settings: false,
            tab: Tab::Findings,
            filter: FindingFilter::default(),
            repaint: None,
            today: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        };
        if let Some(path) = app.prefs.db_path.clone() {
            app.load_db(&path);
        }
        for image in images {
            app.open(image);
        }
        app
    }

    /// The app as eframe creates it: rfd dialogs, remembered settings.
    pub fn from_creation(cc: &eframe::CreationContext<'_>, images: Vec<PathBuf>) -> Self {
        let prefs = cc.storage.and_then(|s| eframe::get_value(s, PREFS_KEY)).unwrap_or_default();
        let mut app = App::new(Box::new(RfdPicker), prefs, images);
        app.repaint = Some(cc.egui_ctx.clone());
        app
    }

    /// The scan settings from the preferences (ignore and VEX files read now).
    fn settings(&mut self) -> Settings {
        let mut s = Settings::new(&self.today);
        s.severities = self.prefs.severities.iter().filter_map(|n| parse_severity(n)).collect();
        s.ignore_unfixed = self.prefs.ignore_unfixed;
        if let Some(path) = &self.prefs.ignore_file {
            match std::fs::read_to_string(path) {
                Ok(text) => s.ignore = parse_ignore_file(&text),
                Err(e) => self.message = Some(format!("ignore file {}: {e}", path.display())),
            }
        }
        if let Some(path) = &self.prefs.vex_file {
            match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|t| coldscan_core::vex::parse(&t)) {
                Ok(statements) => s.vex = statements,
                Err(e) => self.message = Some(format!("VEX file {}: {e}", path.display())),
            }
        }
        s
    }

    /// Adds `path` to the queue and starts scanning it (the one way images are opened: the
    /// dialog, drag and drop and the command line all come here).
    pub fn open(&mut self, path: PathBuf) {
        let settings = self.settings();
        let repaint = self.repaint.clone();
        let job =
            Job::start(path, self.db.clone(), settings, self.prefs.mem_limit_mib as usize * 1024 * 1024, move || {
                if let Some(ctx) = &repaint {
                    ctx.request_repaint();
                }
            });
        self.jobs.push(job);
        self.selected = Some(self.jobs.len() - 1);
        self.filter.selected = None;
    }

    /// Loads a DB blob made by `coldscan-db-builder` and remembers it.
    pub fn load_db(&mut self, path: &Path) {
        match std::fs::read(path) {
            Ok(bytes) => match VulnDb::open(&bytes) {
                Ok(_) => {
                    self.db = DbBytes::Loaded { path: path.to_path_buf(), bytes: Arc::new(bytes) };
                    self.prefs.db_path = Some(path.to_path_buf());
                    self.db_error = None;
                }
                Err(e) => self.db_error = Some(format!("{}: not a coldscan DB ({e})", path.display())),
            },
            Err(e) => self.db_error = Some(format!("{}: {e}", path.display())),
        }
    }

    /// The jobs of the queue.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The findings table's rows as shown now, (id, package) in display order.
    pub fn visible_rows(&self) -> Vec<(String, String)> {
        let Some(JobState::Done(report)) = self.selected.and_then(|i| self.jobs.get(i)).map(Job::state) else {
            return Vec::new();
        };
        views::visible_findings(&report, &self.filter)
            .into_iter()
            .map(|shown| (shown.finding.id.clone(), shown.finding.package.clone()))
            .collect()
    }

    /// Writes the selected image's report to `path` in `format` (the host crate's writers, as the
    /// CLI's).
    pub fn export(&mut self, path: &Path, format: ReportFormat) {
        let Some(JobState::Done(report)) = self.selected.and_then(|i| self.jobs.get(i)).map(Job::state) else { return };
        let style = coldscan_host::table::TableStyle { width: 200, color: false, list_all_pkgs: true };
        let result = std::fs::File::create(path).map_err(|e| e.to_string()).and_then(|mut f| {
            coldscan_host::output::write_scan(&report, format, &mut f, &mut std::io::sink(), &style)
                .map_err(|e| e.to_string())
        });
        self.message = Some(match result {
            Ok(()) => format!("Exported {}", path.display()),
            Err(e) => format!("Export failed: {e}"),
        });
    }

    fn top_bar(&mut self, ui: &mut eframe::egui::Ui) {
        use eframe::egui;
        ui.horizontal(|ui| {
            ui.heading("coldscan");
            ui.separator();
            if ui.button("Open image…").clicked() {
                for path in self.picker.pick_images() {
                    self.open(path);
                }
            }
            let running = self.selected.and_then(|i| self.jobs.get(i)).is_some_and(Job::is_running);
            if ui.add_enabled(running, egui::Button::new("Cancel")).clicked() {
                if let Some(job) = self.selected.and_then(|i| self.jobs.get(i)) {
                    job.progress.cancel();
                }
            }
            let done = matches!(self.selected.and_then(|i| self.jobs.get(i)).map(Job::state), Some(JobState::Done(_)));
            ui.add_enabled_ui(done, |ui| {
                ui.menu_button("Export…", |ui| {
                    for (label, format, ext) in [
                        ("JSON report", ReportFormat::Json, "json"),
                        ("SARIF", ReportFormat::Sarif, "sarif"),
                        ("CycloneDX", ReportFormat::Cyclonedx, "cdx.json"),
                        ("CSV", ReportFormat::Csv, "csv"),
                    ] {
                        if ui.button(label).clicked() {
                            let stem = self.selected.and_then(|i| self.jobs.get(i)).map_or_else(String::new, Job::name);
                            if let Some(path) = self.picker.save_report(&format!("{stem}.{ext}"), ext) {
                                self.export(&path, format);
                            }
                            ui.close();
                        }
                    }
                });
            });
            ui.separator();
            if ui.button("Open DB…").clicked() {
                if let Some(path) = self.picker.pick_db() {
                    self.load_db(&path);
                }
            }
            ui.toggle_value(&mut self.show_settings, "Settings");
            let theme = if self.prefs.dark { "Light theme" } else { "Dark theme" };
            if ui.button(theme).clicked() {
                self.prefs.dark = !self.prefs.dark;
            }
        });
        let max_age = Settings::new(&self.today).db_max_age_days;
        views::db_line(ui, &self.db, self.db_error.as_deref(), &self.today, max_age);
        if let Some(m) = &self.message {
            ui.label(m);
        }
    }

    fn settings_panel(&mut self, ui: &mut eframe::egui::Ui) {
        use eframe::egui;
        ui.heading("Settings");
        ui.add(egui::Slider::new(&mut self.prefs.mem_limit_mib, 8..=1024).text("memory limit (MiB)"));
        ui.label("Severities shown (none ticked: all)");
        for sev in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] {
            let mut on = self.prefs.severities.iter().any(|s| s == sev);
            if ui.checkbox(&mut on, sev).changed() {
                self.prefs.severities.retain(|s| s != sev);
                if on {
                    self.prefs.severities.push(sev.to_string());
                }
            }
        }
        ui.checkbox(&mut self.prefs.ignore_unfixed, "Ignore unfixed vulnerabilities");
        let picker = &mut self.picker;
        for (what, none, file) in [
            ("an ignore file", "No ignore file", &mut self.prefs.ignore_file),
            ("a VEX document", "No VEX document", &mut self.prefs.vex_file),
        ] {
            ui.horizontal(|ui| {
                ui.label(file.as_ref().map_or_else(|| none.to_string(), |p| p.display().to_string()));
                if ui.button(format!("Choose {what}…")).clicked() {
                    if let Some(p) = picker.pick_file(what) {
                        *file = Some(p);
                    }
                }
                if ui.small_button("Clear").clicked() {
                    *file = None;
                }
            });
        }
        ui.small("New settings apply to the next scan.");
    }

    fn queue(&mut self, ui: &mut eframe::egui::Ui) {
        ui.heading("Images");
        if self.jobs.is_empty() {
            ui.label("Open an image, drop one here, or pass paths on the command line.");
        }
        for (i, job) in self.jobs.iter().enumerate() {
            let status = match job.state() {
                JobState::Running => "[scanning]",
                JobState::Done(r) if !r.scan.complete => "[incomplete]",
                JobState::Done(_) => "[done]",
                JobState::Failed(_) => "[failed]",
            };
            if ui.selectable_label(self.selected == Some(i), format!("{status} {}", job.name())).clicked() {
                self.selected = Some(i);
                self.filter.selected = None;
            }
        }
    }

    /// The whole window (also what the tests drive).
    pub fn show(&mut self, ui: &mut eframe::egui::Ui) {
        use eframe::egui;
        ui.ctx().set_theme(if self.prefs.dark { egui::Theme::Dark } else { egui::Theme::Light });
        let dropped: Vec<PathBuf> = ui.ctx().input(|i| {
            i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
        });
        for path in dropped {
            self.open(path);
        }
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
        egui::Panel::left("queue").resizable(true).default_size(220.0).show(ui, |ui| {
            self.queue(ui);
            if self.show_settings {
                ui.separator();
                self.settings_panel(ui);
            }
        });
        let job = self.selected.and_then(|i| self.jobs.get(i));
        egui::CentralPanel::default().show(ui, |ui| match job {
            None => {
                ui.centered_and_justified(|ui| ui.heading("Open a disk image to scan it"));
            }
            Some(job) => match job.state() {
                JobState::Running => views::running(ui, job),
                JobState::Failed(e) => views::failed(ui, job, &e),
                JobState::Done(report) => views::results(ui, &report, &mut self.tab, &mut self.filter),
            },
        });
        if self.jobs.iter().any(Job::is_running) {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut eframe::egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, PREFS_KEY, &self.prefs);
    }
}

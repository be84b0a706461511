//! `coldscan scan IMAGE…|DIR|-`: the output formats the command line offers and the progress
//! shown on the terminal. The scan itself is one call ([`coldscan_host::scan::scan`]); the
//! report is written by [`coldscan_host::output::write_scan`]; exit statuses are decided in
//! `main`.

use coldscan_core::progress::{ProgressSink, Stage};
use coldscan_host::output::ReportFormat;
use std::sync::atomic::{AtomicBool, Ordering};

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
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

impl From<ScanFormat> for ReportFormat {
    fn from(f: ScanFormat) -> Self {
        match f {
            ScanFormat::Table => ReportFormat::Table,
            ScanFormat::Json => ReportFormat::Json,
            ScanFormat::Sarif => ReportFormat::Sarif,
            ScanFormat::Cyclonedx => ReportFormat::Cyclonedx,
            ScanFormat::Csv => ReportFormat::Csv,
        }
    }
}

/// Progress on standard error: a spinner naming the stage and the bytes read, hidden when
/// quiet or when standard error is not a terminal; cancelled by Ctrl-C or a time limit.
#[derive(Debug)]
pub struct TerminalProgress {
    bar: indicatif::ProgressBar,
    stage: std::sync::Mutex<String>,
    deadline: Option<std::time::Instant>,
    interrupted: &'static AtomicBool,
}

impl TerminalProgress {
    /// A progress display (hidden when `quiet` or off a terminal), cancelled once
    /// `interrupted` is set or `timeout` has passed.
    pub fn new(quiet: bool, timeout: Option<std::time::Duration>, interrupted: &'static AtomicBool) -> Self {
        use std::io::IsTerminal;
        let bar = if quiet || !std::io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        };
        TerminalProgress {
            bar,
            stage: std::sync::Mutex::new(String::new()),
            deadline: timeout.map(|t| std::time::Instant::now() + t),
            interrupted,
        }
    }

    /// Whether the time limit has passed.
    pub fn timed_out(&self) -> bool {
        self.deadline.is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// Clears the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ProgressSink for TerminalProgress {
    fn stage(&self, stage: Stage<'_>) {
        let text = stage.describe();
        if let Ok(mut s) = self.stage.lock() {
            s.clone_from(&text);
        }
        self.bar.set_message(text);
    }

    fn bytes_read(&self, total: u64) {
        // Cheap enough per read: indicatif throttles drawing.
        if !self.bar.is_hidden() {
            let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
            self.bar.set_message(format!("{stage} ({} MiB read)", total >> 20));
        }
    }

    fn cancelled(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed) || self.timed_out()
    }

    fn cancel_reason(&self) -> &'static str {
        if self.interrupted.load(Ordering::Relaxed) {
            "it was interrupted"
        } else if self.timed_out() {
            "the time limit was reached"
        } else {
            "it was cancelled"
        }
    }
}

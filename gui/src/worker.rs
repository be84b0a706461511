//! Scans on worker threads: each image of the queue is a [`Job`] whose thread runs the same
//! scan as `coldscan scan` (the host crate's [`coldscan_host::scan::scan`] over the core's
//! one pipeline), reporting progress through atomics the UI reads every frame, and stopping
//! at its next read once Cancel is pressed.

use coldscan_core::progress::{ProgressSink, Stage, DEFAULT_READ_LIMIT};
use coldscan_core::report::ScanReport;
use coldscan_core::scan::Settings;
use coldscan_core::vulndb::VulnDb;
use coldscan_host::ImageArgs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The DB a scan uses: the bundled one, or a blob loaded from a file.
#[derive(Debug, Clone)]
pub enum DbBytes {
    /// Compiled into the app.
    Bundled,
    /// Loaded from a file.
    Loaded {
        /// The file.
        path: PathBuf,
        /// Its bytes.
        bytes: Arc<Vec<u8>>,
    },
}

impl DbBytes {
    /// The blob.
    pub fn bytes(&self) -> &[u8] {
        match self {
            DbBytes::Bundled => coldscan_host::db::BUNDLED_DB,
            DbBytes::Loaded { bytes, .. } => bytes,
        }
    }
}

/// What a job's thread shares with the UI.
#[derive(Debug, Default)]
pub struct Progress {
    stage: Mutex<String>,
    bytes: AtomicU64,
    cancel: AtomicBool,
}

impl Progress {
    /// The stage the scan is in.
    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }
    /// Bytes of the image read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// Asks the scan to stop at its next read.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl ProgressSink for Progress {
    fn stage(&self, stage: Stage<'_>) {
        let text = stage.describe();
        if let Ok(mut s) = self.stage.lock() {
            *s = text;
        }
    }
    fn bytes_read(&self, total: u64) {
        self.bytes.store(total, Ordering::Relaxed);
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Where a job is.
#[derive(Debug, Clone)]
pub enum JobState {
    /// Scanning.
    Running,
    /// Finished: the report (complete or not).
    Done(Arc<ScanReport>),
    /// The image could not be read at all.
    Failed(String),
}

/// One image of the queue.
#[derive(Debug)]
pub struct Job {
    /// The image.
    pub path: PathBuf,
    /// Shared with the thread.
    pub progress: Arc<Progress>,
    state: Arc<Mutex<JobState>>,
}

impl Job {
    /// Starts scanning `path` with `db` and `settings` under a `mem_limit`-byte budget;
    /// `repaint` is called when the scan ends (to wake the UI).
    pub fn start(
        path: PathBuf,
        db: DbBytes,
        settings: Settings,
        mem_limit: usize,
        repaint: impl Fn() + Send + 'static,
    ) -> Self {
        let progress = Arc::new(Progress::default());
        let state = Arc::new(Mutex::new(JobState::Running));
        let (p, s, image) = (progress.clone(), state.clone(), path.clone());
        std::thread::spawn(move || {
            let result = VulnDb::open(db.bytes()).map_err(|e| format!("vulnerability DB: {e}")).and_then(|vulndb| {
                let args = ImageArgs { image, mem_limit, read_limit: DEFAULT_READ_LIMIT };
                coldscan_host::scan::scan(&args, &vulndb, &settings, p.as_ref()).map_err(|e| e.to_string())
            });
            let done = match result {
                Ok(report) => JobState::Done(Arc::new(report)),
                Err(e) => JobState::Failed(e),
            };
            if let Ok(mut st) = s.lock() {
                *st = done;
            }
            repaint();
        });
        Job { path, progress, state }
    }

    /// Where the job is now.
    pub fn state(&self) -> JobState {
        self.state.lock().map(|s| s.clone()).unwrap_or(JobState::Failed(String::from("the scan thread failed")))
    }

    /// Whether the scan is still running.
    pub fn is_running(&self) -> bool {
        matches!(self.state(), JobState::Running)
    }

    /// The file name shown in the queue.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

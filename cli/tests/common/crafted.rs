//! Scans of crafted images in a child process, with their peak memory measured by GNU time:
//! each must end, within what a `--mem-limit 64MiB` scan may take, and not as a clean pass.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Peak RSS a crafted scan may reach: the 64 MiB budget plus the program, its DB and buffers.
const RSS_LIMIT_KIB: u64 = 128 * 1000;

/// How a `coldscan scan` of a crafted image ended.
pub struct Ended {
    /// Exit status.
    pub code: i32,
    /// The JSON report (null when none was written).
    pub report: Value,
    /// Standard error.
    pub stderr: String,
    /// Peak resident set size in KiB (GNU time's %M).
    pub rss_kib: u64,
}

/// Runs `coldscan scan ARGS -f json -q --mem-limit 64MiB` under GNU time, with `stdin` piped
/// in when given and `TMPDIR` set to `tmp`; kills it (and fails) if it has not ended after
/// 120 s — a hang guard, not a timing.
pub fn scan_crafted(args: &[&str], stdin: Option<Vec<u8>>, tmp: &Path) -> Ended {
    let rss = tempfile::NamedTempFile::new().unwrap();
    // The report goes to a file: a full stdout pipe would stall the scan while this waits.
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss.path())
        .arg(env!("CARGO_BIN_EXE_coldscan"))
        .arg("scan")
        .args(args)
        .args(["-f", "json", "-q", "--mem-limit", "64MiB", "-o"])
        .arg(report.path())
        .env("TMPDIR", tmp)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run coldscan under /usr/bin/time");
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            // coldscan may stop reading early (the read limit): a closed pipe is expected.
            let _ = std::io::Write::write_all(&mut pipe, &bytes);
        })
    });
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("coldscan {args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    if let Some(w) = writer {
        w.join().unwrap();
    }
    let stdout = std::fs::read_to_string(report.path()).unwrap();
    let rss_kib = std::fs::read_to_string(rss.path())
        .unwrap()
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .expect("GNU time's %M");
    Ended {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_str(stdout.lines().next().unwrap_or("null")).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        rss_kib,
    }
}

impl Ended {
    /// Bounded and not a clean pass.
    pub fn assert_contained(&self, what: &str) {
        assert!(self.rss_kib <= RSS_LIMIT_KIB, "{what}: peak RSS {} KiB", self.rss_kib);
        assert_ne!(self.code, 0, "{what}: exit 0\n{}", self.stderr);
        if self.report != Value::Null {
            assert_eq!(self.report["scan"]["complete"], false, "{what}: {}", self.report["scan"]);
        }
        eprintln!("{what}: exit {}, peak RSS {} KiB", self.code, self.rss_kib);
    }

    pub fn reasons(&self) -> Vec<String> {
        self.report["scan"]["incomplete_reasons"]
            .as_array()
            .map(|a| a.iter().map(|r| r.as_str().unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }
}

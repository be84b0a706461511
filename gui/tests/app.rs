//! The desktop app driven without a display (egui_kittest + AccessKit): images opened through
//! the picker seam, the scan awaited, results found by role and label, sorting and filtering,
//! Cancel, a corrupt image, and an export byte-identical to `coldscan scan --format json`.

use coldscan_gui::app::{App, Prefs};
use coldscan_gui::picker::FilePicker;
use coldscan_gui::worker::JobState;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A picker that answers with what the test decides.
#[derive(Debug, Default)]
struct FakePicker {
    images: Vec<PathBuf>,
    save_to: Option<PathBuf>,
}

impl FilePicker for FakePicker {
    fn pick_images(&mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.images)
    }
    fn pick_db(&mut self) -> Option<PathBuf> {
        None
    }
    fn pick_file(&mut self, _what: &str) -> Option<PathBuf> {
        None
    }
    fn save_report(&mut self, _name: &str, _extension: &str) -> Option<PathBuf> {
        self.save_to.clone()
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The CLI's fixtures (built by `testdata/make-images.sh`, which the test command runs first).
fn fixture(name: &str) -> PathBuf {
    let dir = workspace().join("testdata/generated");
    let status = Command::new("bash").arg(workspace().join("testdata/make-images.sh")).arg(&dir).status().unwrap();
    assert!(status.success());
    dir.join(name)
}

fn harness(picker: FakePicker) -> Harness<'static, App> {
    let app = App::new(Box::new(picker), Prefs::default(), Vec::new());
    Harness::builder()
        .with_size(eframe::egui::Vec2::new(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app)
}

/// Runs frames until every scan has finished (at most `limit`).
fn wait(h: &mut Harness<'_, App>, limit: Duration) {
    let start = Instant::now();
    while h.state().jobs().iter().any(|j| j.is_running()) {
        assert!(start.elapsed() < limit, "scan still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run_steps(3);
}

/// Types `text` into the findings' search box.
fn search(h: &mut Harness<'_, App>, text: &str) {
    use eframe::egui::accesskit::Role;
    h.get_by_role(Role::TextInput).click();
    h.run_steps(2);
    h.get_by_role(Role::TextInput).type_text(text);
    h.run_steps(2);
}

fn open(h: &mut Harness<'_, App>) {
    h.get_by_label("Open image…").click();
    h.run_steps(2);
}

#[test]
fn scans_the_sample_image_opened_through_the_picker() {
    let mut h = harness(FakePicker { images: vec![fixture("sample.img")], ..FakePicker::default() });
    open(&mut h);
    wait(&mut h, Duration::from_secs(60));
    h.get_by_label("gpt:1: Alpine Linux v3.18");
    h.get_by_label("gpt:2: Rocky Linux 9.2 (Blue Onyx)");
    // The severity counts of the two roots together (45 Alpine + 105 Rocky findings).
    h.get_by_label("HIGH 119");
    h.get_by_label("MEDIUM 19");
    h.get_by_label("150 findings shown");
    // A known finding's rows (found through the search box: the table lays out only the rows
    // in view).
    search(&mut h, "CVE-2023-5363");
    h.get_by_label("2 findings shown");
    assert_eq!(h.get_all_by_label("CVE-2023-5363").count(), 2, "libcrypto3 and libssl3");
    // Clicking a row opens its detail pane, with links out.
    h.get_all_by_label("CVE-2023-5363").next().unwrap().click();
    h.run_steps(3);
    h.get_by_label("NVD");
    h.get_by_label("Data source");
}

#[test]
fn filtering_and_sorting_change_the_rows() {
    let mut h = harness(FakePicker { images: vec![fixture("sample.img")], ..FakePicker::default() });
    open(&mut h);
    wait(&mut h, Duration::from_secs(60));
    let by_severity = h.state().visible_rows();
    assert_eq!(by_severity.len(), 150);
    // Sort by vulnerability id: the rows come in id order.
    h.get_by_label("Vulnerability").click();
    h.run_steps(2);
    h.get_by_label("Vulnerability (ascending)");
    let by_id = h.state().visible_rows();
    assert_ne!(by_id, by_severity);
    // In the order people read ids: by prefix, then year and number as numbers
    // (CVE-2023-4567 before CVE-2023-10000).
    let key = |id: &str| -> Vec<(String, u64)> {
        id.split('-').map(|part| part.parse().map_or((part.to_string(), 0), |n| (String::new(), n))).collect()
    };
    assert!(by_id.windows(2).all(|w| key(&w[0].0) <= key(&w[1].0)), "sorted by id");
    // Again: descending.
    h.get_by_label("Vulnerability (ascending)").click();
    h.run_steps(2);
    assert_eq!(h.state().visible_rows().first(), by_id.last());
    // Hide HIGH: only the other severities stay.
    h.get_by_label("HIGH 119").click();
    h.run_steps(2);
    h.get_by_label("31 findings shown");
    assert_eq!(h.state().visible_rows().len(), 31);
    // Free text narrows to one package's findings.
    search(&mut h, "busybox-binsh");
    let rows = h.state().visible_rows();
    assert!(!rows.is_empty() && rows.iter().all(|(_, p)| p == "busybox-binsh"), "{rows:?}");
}

#[test]
fn cancel_stops_a_scan_of_the_20_gib_disk() {
    let mut h = harness(FakePicker { images: vec![fixture("big-sparse.raw")], ..FakePicker::default() });
    open(&mut h);
    let pressed = Instant::now();
    if h.state().jobs()[0].is_running() {
        h.get_by_label("Cancel").click();
        h.run_steps(1);
    }
    wait(&mut h, Duration::from_secs(5));
    let stopped = pressed.elapsed();
    assert!(stopped < Duration::from_secs(1), "stopped after {stopped:?}");
    assert!(matches!(h.state().jobs()[0].state(), JobState::Done(_)), "a report, complete or not");
}

#[test]
fn a_cancelled_scan_is_incomplete() {
    // Cancel before the first read: the report must say the scan stopped early.
    let mut h = harness(FakePicker::default());
    h.state_mut().open(fixture("sample.img"));
    h.state().jobs()[0].progress.cancel();
    wait(&mut h, Duration::from_secs(30));
    let JobState::Done(report) = h.state().jobs()[0].state() else { panic!("no report") };
    assert!(!report.scan.complete);
    assert!(report.scan.incomplete_reasons[0].contains("stopped early"), "{:?}", report.scan.incomplete_reasons);
    h.get_by_label_contains("Incomplete scan: the scan stopped early");
}

#[test]
fn a_corrupt_image_shows_why() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.vmdk");
    std::fs::write(&bad, b"KDMV\x01\x00\x00\x00garbage that is not a sparse extent header").unwrap();
    let mut h = harness(FakePicker { images: vec![bad], ..FakePicker::default() });
    open(&mut h);
    wait(&mut h, Duration::from_secs(30));
    h.get_by_label_contains("Could not read this image:");
}

#[test]
fn export_is_the_cli_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("report.json");
    let sample = fixture("sample.img");
    let mut h = harness(FakePicker { images: vec![sample.clone()], save_to: Some(exported.clone()) });
    open(&mut h);
    wait(&mut h, Duration::from_secs(60));
    h.get_by_label("Export…").click();
    h.run_steps(2);
    h.get_by_label("JSON report").click();
    h.run_steps(2);
    let ours = std::fs::read_to_string(&exported).unwrap();
    let cli = workspace().join("target/debug/coldscan");
    let status =
        Command::new("cargo").args(["build", "-q", "-p", "coldscan"]).current_dir(workspace()).status().unwrap();
    assert!(status.success());
    let theirs = Command::new(cli).arg("scan").arg(&sample).args(["-f", "json", "-q"]).output().unwrap();
    assert_eq!(ours, String::from_utf8(theirs.stdout).unwrap(), "the same writer, the same report");
}

/// The window after scanning the sample image, rendered with wgpu on Mesa's software driver
/// and compared with the committed PNG (`UPDATE_SNAPSHOTS=1` rewrites it).
#[cfg(feature = "snapshot-tests")]
#[test]
fn results_window_snapshot() {
    // A fixed day, so that no "the DB is old" banner appears as the calendar moves on.
    let mut app = App::new(Box::new(FakePicker::default()), Prefs::default(), Vec::new());
    app.today = String::from("2026-11-30");
    app.open(fixture("sample.img"));
    let mut h = Harness::builder()
        .with_size(eframe::egui::Vec2::new(1280.0, 800.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    wait(&mut h, Duration::from_secs(60));
    h.run_steps(5);
    h.snapshot("results_window");
}

//! Results a CI gate can trust: every bad or unusual input that used to give an empty report
//! and exit 0 now says *incomplete* with its reason and exits 4 (`--allow-incomplete`: 0); a
//! report that cannot be written exits 5; ignore files and VEX documents suppress real
//! findings of the sample image, with the reason kept; warnings reach every output format;
//! tables fit 80 and 200 columns (insta snapshots).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `coldscan` in `dir` with extra environment, returning (status, stdout, stderr).
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = coldscan();
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Scans `image` as JSON; returns (status, report).
fn scan_json(image: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["scan", image.to_str().unwrap(), "-f", "json", "-q"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    let out = String::from_utf8(out).unwrap();
    let report =
        serde_json::from_str(out.lines().next().unwrap_or("null")).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, report)
}

fn reasons(report: &Value) -> Vec<String> {
    report["scan"]["incomplete_reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

/// Asserts that scanning `image` is incomplete for a reason containing `why`, with status 4,
/// and 0 with `--allow-incomplete`.
fn assert_incomplete(image: &Path, why: &str) {
    let (code, report) = scan_json(image, &[]);
    assert_eq!(report["scan"]["complete"], false, "{}", image.display());
    let r = reasons(&report);
    assert!(r.iter().any(|r| r.contains(why)), "{}: reasons {r:?} lack {why:?}", image.display());
    assert_eq!(code, 4, "{}: {r:?}", image.display());
    let (code, _) = scan_json(image, &["--allow-incomplete"]);
    assert_eq!(code, 0, "{} with --allow-incomplete", image.display());
}

/// A copy of `len` bytes of `src` (all of it when `None`), with `patches` written over it.
fn copy_with(dir: &Path, name: &str, src: &Path, len: Option<u64>, patches: &[(u64, &[u8])]) -> PathBuf {
    use std::io::{Seek, SeekFrom, Write};
    let dst = dir.join(name);
    let status = Command::new("cp").arg("--sparse=always").arg(src).arg(&dst).status().unwrap();
    assert!(status.success());
    let mut f = std::fs::OpenOptions::new().write(true).open(&dst).unwrap();
    if let Some(len) = len {
        f.set_len(len).unwrap();
    }
    for (at, bytes) in patches {
        f.seek(SeekFrom::Start(*at)).unwrap();
        f.write_all(bytes).unwrap();
    }
    dst
}

#[test]
fn the_sample_image_is_complete() {
    let (code, report) = scan_json(&fixtures().join("sample.img"), &[]);
    assert_eq!((code, &report["scan"]["complete"]), (0, &Value::Bool(true)), "{:?}", reasons(&report));
}

#[test]
fn unrecognised_inputs_are_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.bin");
    std::fs::write(&random, (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>())
        .unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a disk image\n".repeat(100)).unwrap();
    let elf = dir.path().join("true.elf");
    std::fs::copy("/bin/true", &elf).unwrap();
    for input in [&random, &text, &elf] {
        assert_incomplete(input, "no operating system or package database was found");
    }
}

#[test]
fn truncated_containers_are_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "plain.qcow2",
        "compressed.qcow2",
        "sparse.vmdk",
        "stream.vmdk",
        "dynamic.vdi",
        "dynamic.vhd",
        "flat-flat.vmdk",
    ] {
        let src = fixtures().join("containers").join(name);
        let size = std::fs::metadata(&src).unwrap().len();
        for pct in [10, 50] {
            let cut = copy_with(dir.path(), &format!("{pct}-{name}"), &src, Some(size * pct / 100), &[]);
            let (code, report) = scan_json(&cut, &[]);
            if code == 3 {
                continue; // unreadable at all: not a false "clean" either
            }
            assert_eq!(
                (code, &report["scan"]["complete"]),
                (4, &Value::Bool(false)),
                "{name} cut to {pct}%: {:?}",
                reasons(&report)
            );
        }
    }
}

#[test]
fn damaged_partition_tables_are_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    // Both GPT entry arrays overwritten: the primary's at LBA 2, the backup's before the last LBA.
    let gpt = fixtures().join("gpt-cloud.raw");
    let size = std::fs::metadata(&gpt).unwrap().len();
    let junk = vec![0xA5u8; 16 * 1024];
    let both = copy_with(dir.path(), "both-gpt.raw", &gpt, None, &[(1024, &junk), (size - 33 * 512, &junk)]);
    assert_incomplete(&both, "no operating system or package database was found");
    // MBR: the first partition's start LBA flipped.
    let mbr = fixtures().join("mbr-logical.raw");
    let flipped = copy_with(dir.path(), "flipped-mbr.raw", &mbr, None, &[(446 + 8, &0x00F0_0000u32.to_le_bytes())]);
    let (code, report) = scan_json(&flipped, &[]);
    assert_eq!((code, &report["scan"]["complete"]), (4, &Value::Bool(false)), "{:?}", reasons(&report));
}

#[test]
fn a_tiny_memory_budget_is_incomplete() {
    let (code, report) = scan_json(&fixtures().join("sample.img"), &["--mem-limit", "64KiB"]);
    assert_eq!(code, 4, "{:?}", reasons(&report));
    assert!(reasons(&report).iter().any(|r| r.contains("memory budget")), "{:?}", reasons(&report));
}

#[test]
fn a_platform_the_db_covers_partially_is_incomplete() {
    // The Debian 12 root: the bundled DB holds only a sample of Debian's data.
    let image = fixtures().join("gpt-cloud.raw");
    assert_incomplete(&image, "holds only part of debian 12's advisories");
    let (_, report) = scan_json(&image, &[]);
    assert_eq!(report["targets"][0]["os"]["version_id"], "12.8", "the point release from /etc/debian_version");
    let (code, out, _) = run(&["db", "info", "-f", "json"]);
    assert_eq!(code, 0);
    let info: Value = serde_json::from_slice(&out).unwrap();
    let coverage = |name: &str| {
        info["platforms"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["coverage"].clone()
    };
    assert_eq!((coverage("debian 12"), coverage("alpine 3.18")), (Value::from("partial"), Value::from("full")));
}

#[test]
fn a_report_that_cannot_be_written_exits_5() {
    let sample = fixtures().join("sample.img");
    let (code, _, err) =
        run_in(Path::new("/"), &["scan", sample.to_str().unwrap(), "-q", "-o", "/proc/version/report.json"], &[]);
    assert_eq!(code, 5, "{err}");
}

#[test]
fn several_images_give_json_lines_and_the_worst_status() {
    let sample = fixtures().join("sample.img");
    let debian = fixtures().join("gpt-cloud.raw");
    let (code, out, err) =
        run(&["scan", sample.to_str().unwrap(), debian.to_str().unwrap(), "-f", "json", "-q", "--exit-code", "7"]);
    let lines: Vec<Value> = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(code, 4, "incomplete (the Debian image) outranks findings");
    let (code, ..) = run(&[
        "scan",
        sample.to_str().unwrap(),
        debian.to_str().unwrap(),
        "-q",
        "--exit-code",
        "7",
        "--allow-incomplete",
    ]);
    assert_eq!(code, 7);
}

#[test]
fn warnings_reach_sarif_and_cyclonedx() {
    let debian = fixtures().join("gpt-cloud.raw");
    let (_, out, _) = run(&["scan", debian.to_str().unwrap(), "-f", "sarif", "-q"]);
    let sarif: Value = serde_json::from_slice(&out).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["message"]["text"].as_str().unwrap().contains("debian 12")), "{notes:?}");
    let (_, out, _) = run(&["scan", debian.to_str().unwrap(), "-f", "cyclonedx", "-q"]);
    let bom: Value = serde_json::from_slice(&out).unwrap();
    let props = bom["metadata"]["properties"].as_array().unwrap();
    assert!(props.iter().any(|p| p["name"] == "coldscan:scan:complete" && p["value"] == "false"), "{props:?}");
    assert!(bom["metadata"]["timestamp"].is_string());
}

#[test]
fn table_warnings_go_to_stderr() {
    let debian = fixtures().join("gpt-cloud.raw");
    let (code, out, err) = run_in(fixtures(), &["scan", debian.to_str().unwrap()], &[("COLUMNS", "100")]);
    assert_eq!(code, 4);
    assert!(!out.contains("holds only part"), "stdout carries only the report");
    assert!(err.contains("the scan is INCOMPLETE") && err.contains("holds only part of debian 12"), "{err}");
}

#[test]
fn ignore_files_suppress_real_findings() {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixtures().join("sample.img");
    std::fs::write(
        dir.path().join(".coldscanignore"),
        "# accepted risk\nCVE-2023-5363\nCVE-2023-2650 exp:2020-01-01\n",
    )
    .unwrap();
    let (code, out, err) = run_in(dir.path(), &["scan", sample.to_str().unwrap(), "-f", "json", "-q"], &[]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let alpine = &report["targets"][0];
    let ids: Vec<&str> =
        alpine["vulnerabilities"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"CVE-2023-5363"), "ignored");
    assert!(ids.contains(&"CVE-2023-2650"), "an expired rule no longer ignores");
    let suppressed: Vec<(&str, &str, &str)> = alpine["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["package"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(suppressed, [("CVE-2023-5363", "libcrypto3", "ignored"), ("CVE-2023-5363", "libssl3", "ignored")]);
}

#[test]
fn vex_statements_suppress_real_findings() {
    let dir = tempfile::tempdir().unwrap();
    let sample = fixtures().join("sample.img");
    let openvex = dir.path().join("vex.json");
    std::fs::write(
        &openvex,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec team","timestamp":"2026-11-30T00:00:00Z","version":1,
            "statements":[{"vulnerability":{"name":"CVE-2023-2650"},"products":[{"@id":"pkg:apk/alpine/libssl3@3.1.0-r4"}],
                           "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let cdx = dir.path().join("cdx-vex.json");
    std::fs::write(
        &cdx,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"vulnerabilities":[{"id":"CVE-2022-48174",
            "analysis":{"state":"resolved","detail":"rebuilt with the fix"},"affects":[{"ref":"pkg:apk/alpine/busybox"}]}]}"#,
    )
    .unwrap();
    let (code, out, err) = run_in(
        dir.path(),
        &[
            "scan",
            sample.to_str().unwrap(),
            "-f",
            "json",
            "-q",
            "--vex",
            openvex.to_str().unwrap(),
            "--vex",
            cdx.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let alpine = &report["targets"][0];
    let found: Vec<(&str, &str)> = alpine["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["package"].as_str().unwrap()))
        .collect();
    assert!(!found.contains(&("CVE-2023-2650", "libssl3")), "not affected");
    assert!(found.contains(&("CVE-2023-2650", "libcrypto3")), "the statement names libssl3 only");
    assert!(!found.contains(&("CVE-2022-48174", "busybox")), "resolved");
    let suppressed = alpine["suppressed"].as_array().unwrap();
    let libssl = suppressed.iter().find(|s| s["id"] == "CVE-2023-2650").unwrap();
    assert_eq!(
        (libssl["reason"].as_str(), libssl["justification"].as_str()),
        (Some("vex_not_affected"), Some("vulnerable_code_not_in_execute_path"))
    );
    let busybox = suppressed.iter().find(|s| s["id"] == "CVE-2022-48174").unwrap();
    assert_eq!(busybox["justification"], "rebuilt with the fix");
}

#[test]
fn tables_fit_80_and_200_columns() {
    for width in [80usize, 200] {
        let cols = width.to_string();
        let (code, out, err) =
            run_in(fixtures(), &["scan", "sample.img", "--list-all-pkgs"], &[("COLUMNS", &cols), ("NO_COLOR", "1")]);
        assert_eq!(code, 0, "{err}");
        for line in out.lines() {
            assert!(line.chars().count() <= width, "{width} columns: {line:?} is {} wide", line.chars().count());
        }
        // The DB date and the EOL date move with time: keep the snapshot to the tables.
        let tables: String = out.lines().skip(1).collect::<Vec<_>>().join("\n");
        insta::assert_snapshot!(format!("scan_sample_{width}_columns"), tables);
    }
}

#[test]
fn cli_conveniences() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(String::from_utf8(out).unwrap().contains("bundled vulnerability DB built 20"));
    let (code, out, _) = run(&["completion", "bash"]);
    assert_eq!(code, 0);
    assert!(String::from_utf8(out).unwrap().contains("coldscan"));
    // Spaces around severities are trimmed; an environment variable sets an option.
    let sample = fixtures().join("sample.img");
    let (code, out, err) = run_in(
        Path::new("/"),
        &["scan", sample.to_str().unwrap(), "-s", "HIGH, CRITICAL", "-q"],
        &[("COLDSCAN_FORMAT", "json")],
    );
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let severities: std::collections::BTreeSet<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["vulnerabilities"].as_array().unwrap())
        .map(|v| v["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities.into_iter().collect::<Vec<_>>(), ["HIGH"]);
    // An unknown volume lists the ones that exist (a usage error).
    let (code, _, err) = run_in(Path::new("/"), &["ls", sample.to_str().unwrap(), "/", "--volume", "gpt:9"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("it has: gpt:1, gpt:2"), "{err}");
    // Several roots: ls says which one it read.
    let (code, _, err) = run_in(Path::new("/"), &["ls", sample.to_str().unwrap(), "/"], &[]);
    assert_eq!(code, 0);
    assert!(err.contains("several roots (gpt:1, gpt:2); reading gpt:1"), "{err}");
}

#[test]
fn a_gzip_stream_on_standard_input() {
    let sample = fixtures().join("sample.img");
    let gz = Command::new("gzip").arg("-c").arg(&sample).output().unwrap().stdout;
    let mut child = coldscan()
        .args(["scan", "-", "-f", "json", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &gz));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["targets"].as_array().unwrap().len(), 2);
    assert!(report["image"]["spooled"].as_u64().unwrap() > 10 << 20, "inflated while spooling");
}

#[test]
fn a_time_limit_makes_the_scan_incomplete() {
    let big = fixtures().join("big-sparse.raw");
    let (code, report) = scan_json(&big, &["--timeout", "0s"]);
    assert_eq!(code, 4);
    assert_eq!(reasons(&report)[0], "the scan stopped early: the time limit was reached");
}

#[test]
fn package_database_errors_name_the_database() {
    let sample = fixtures().join("sample.img");
    // Where the Alpine root's apk database starts in the image, from debugfs.
    let (at, first_line) = with_volume(&sample, "gpt:1", |_, volume_at| {
        let spec = format!("{}?offset={volume_at}", sample.display());
        let out = debugfs(
            &spec,
            &["stats".into(), "bmap /lib/apk/db/installed 0".into(), "cat /lib/apk/db/installed".into()],
        );
        let block_size: u64 = out[0]
            .lines()
            .find_map(|l| l.strip_prefix("Block size:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("debugfs stats: block size");
        let block: u64 = out[1].trim().parse().expect("debugfs bmap");
        (volume_at + block * block_size, out[2].lines().next().unwrap().len())
    });
    // Its first line (`C:…`) made a line that is not a field.
    let dir = tempfile::tempdir().unwrap();
    let junk = vec![b'x'; first_line];
    let damaged = copy_with(dir.path(), "damaged.img", &sample, None, &[(at, &junk)]);
    let (code, report) = scan_json(&damaged, &[]);
    assert_eq!(code, 4);
    let errors = report["errors"].as_array().unwrap();
    let bad_line = errors
        .iter()
        .find(|e| e["message"].as_str().unwrap().contains("line is not an X:value field"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(bad_line["path"], "/lib/apk/db/installed");
    assert_eq!(bad_line["volume"], "gpt:1");
    assert_eq!(bad_line["offset"], 0);
    assert_eq!(
        bad_line["message"],
        "pkg (apk-installed) in /lib/apk/db/installed at offset 0x0: corrupt: line is not an X:value field"
    );
}

#[test]
fn a_read_limit_makes_the_scan_incomplete() {
    // The sample, and a VMDK whose bytes all come from extent files the descriptor names: the
    // limit covers those too.
    for image in [fixtures().join("sample.img"), fixtures().join("containers/split-flat.vmdk")] {
        let (code, whole) = scan_json(&image, &[]);
        let needed = whole["image"]["bytes_read"].as_u64().unwrap();
        assert!(needed > std::fs::metadata(&image).unwrap().len().min(1 << 20), "{}: {needed}", image.display());
        let exact = needed.to_string();
        let (same, report) = scan_json(&image, &["--read-limit", &exact]);
        assert_eq!((same, &report["scan"]), (code, &whole["scan"]), "{}: a limit the scan fits in", image.display());
        let half = (needed / 2).to_string();
        let (code, report) = scan_json(&image, &["--read-limit", &half]);
        assert_eq!(code, 4, "{}: {:?}", image.display(), reasons(&report));
        assert!(report["image"]["bytes_read"].as_u64().unwrap() <= needed / 2);
        let why = format!("source (scan): the scan's read limit of {half} bytes was used up before this read");
        assert!(reasons(&report).contains(&why), "{}: {:?}", image.display(), reasons(&report));
    }
}

#[test]
fn ctrl_c_while_spooling_removes_the_spool_file() {
    let spool_dir = tempfile::tempdir().unwrap();
    let mut child = coldscan()
        .args(["scan", "-", "-q"])
        .env("TMPDIR", spool_dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Some bytes arrive, then the pipe stays open: coldscan is spooling when it is interrupted.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &vec![0x42u8; 4 << 20]).unwrap();
    let start = std::time::Instant::now();
    while std::fs::read_dir(spool_dir.path()).unwrap().count() == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "no spool file appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    // The handler sets the flag on its own thread, and the spool loop looks at it before each
    // read: keep a trickle of blocks coming (for at most 10 s) until coldscan closes the pipe.
    let trickle = std::thread::spawn(move || {
        for _ in 0..500 {
            if std::io::Write::write_all(&mut stdin, &[0x42u8; 4096]).is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let out = child.wait_with_output().unwrap();
    trickle.join().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_dir(spool_dir.path()).unwrap().count(), 0, "the spool file is removed");
}

//! The outputs checked by their consumers' own validators (installed by
//! `testdata/install-validators.sh`): SARIF by Microsoft's SARIF Multitool with its SARIF and
//! GitHub code-scanning rule sets, CycloneDX by the CycloneDX Python library's strict JSON
//! schema validator — for the sample image and the Debian and Rocky roots, complete or not.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

fn multitool() -> Option<PathBuf> {
    let tool = workspace().join("target/validators/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if tool.is_file() {
        return Some(tool);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is absent", tool.display());
    eprintln!("SKIP: run testdata/install-validators.sh first");
    None
}

fn images() -> Vec<PathBuf> {
    ["sample.img", "gpt-cloud.raw", "rpm-root.img"].iter().map(|n| fixtures().join(n)).collect()
}

fn scan(image: &std::path::Path, format: &str) -> Vec<u8> {
    let (code, out, err) = run(&["scan", image.to_str().unwrap(), "-f", format, "-q", "--allow-incomplete"]);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn sarif_passes_the_sarif_multitool() {
    let Some(tool) = multitool() else { return };
    let dir = tempfile::tempdir().unwrap();
    for image in images() {
        let log = dir.path().join("scan.sarif");
        std::fs::write(&log, scan(&image, "sarif")).unwrap();
        let out = Command::new(&tool)
            .args(["validate", log.to_str().unwrap(), "-o"])
            .arg(dir.path().join("validation.sarif"))
            .args(["--log", "ForceOverwrite", "--rule-kind", "Sarif;Gh"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let findings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(": error ") || l.contains(": warning ") || l.contains(": note "))
            .collect();
        assert!(out.status.success() && findings.is_empty(), "{}: {findings:?}\n{text}", image.display());
        assert!(text.contains("Analysis completed successfully"), "{text}");
    }
}

#[test]
fn cyclonedx_passes_the_strict_schema_validator() {
    let check = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\n\
                 e = JsonStrictValidator(SchemaVersion.V1_5).validate_str(sys.stdin.read())\nprint(e)\nsys.exit(1 if e else 0)\n";
    let available = Command::new("python3")
        .args(["-c", "import cyclonedx.validation.json, jsonschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but cyclonedx-python-lib is not installed");
        eprintln!("SKIP: run testdata/install-validators.sh first");
        return;
    }
    for image in images() {
        for (what, bom) in [
            ("scan", scan(&image, "cyclonedx")),
            ("packages", {
                let (code, out, err) = run(&["packages", image.to_str().unwrap(), "-f", "cyclonedx"]);
                assert_eq!(code, 0, "{err}");
                out
            }),
        ] {
            let mut child = Command::new("python3")
                .args(["-c", check])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), &bom).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{} {what}: {}", image.display(), String::from_utf8_lossy(&out.stdout));
        }
    }
}

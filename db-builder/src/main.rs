//! `coldscan-db-builder`: reads aquasecurity vuln-list trees and OSV data, normalises each
//! family as trivy-db does, and writes coldscan's vulnerability database blob.
//!
//! Families read today: alpine (secdb), amazon (ALAS), rocky and alma (errata), ubuntu (CVE
//! tracker), oracle (OVAL), suse (CVRF), photon, red hat (OVAL v2, `--vuln-list-redhat`),
//! debian (security tracker, `--vuln-list-debian`), NVD details
//! (`--vuln-list-nvd`), and OSV (AlmaLinux, Alpine, Rocky Linux, Debian, Ubuntu ecosystems). A top-level
//! vuln-list directory of another family is reported, not silently skipped.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod families;
mod raw;
mod redhat;

use clap::Parser;
use coldscan_core::vulndb::Builder;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "coldscan-db-builder", version, about = "Build coldscan's vulnerability DB")]
struct Args {
    /// A vuln-list tree (directory, or .tar.gz of one).
    #[arg(long)]
    vuln_list: Vec<PathBuf>,
    /// A vuln-list-redhat tree (directory, or .tar.gz holding one): OVAL v2 and the CPE map.
    #[arg(long)]
    vuln_list_redhat: Vec<PathBuf>,
    /// A vuln-list-debian tree (directory, or .tar.gz holding one).
    #[arg(long)]
    vuln_list_debian: Vec<PathBuf>,
    /// A vuln-list-nvd tree (directory, or .tar.gz holding one): severities and titles.
    #[arg(long)]
    vuln_list_nvd: Vec<PathBuf>,
    /// OSV advisories (directory, or .tar.gz of one); may be repeated.
    #[arg(long)]
    osv: Vec<PathBuf>,
    /// Where a source's data came from, recorded in the DB: `NAME=COMMIT,DATE` (e.g.
    /// `alpine=vulsio/vuls-data-raw-alpine-secdb@9e13b6c,2025-01-04`); may be repeated.
    #[arg(long = "source", value_name = "NAME=COMMIT,DATE", value_parser = parse_source)]
    sources: Vec<(String, String, String)>,
    /// A platform family (`debian`, `ubuntu`) whose data given here is a sample or otherwise
    /// partial, not the publisher's full feed; scans of it are then reported incomplete.
    /// May be repeated.
    #[arg(long = "partial", value_name = "FAMILY")]
    partial: Vec<String>,
    /// Output blob.
    #[arg(long)]
    out: PathBuf,
    /// Build time to record (RFC 3339); default: now.
    #[arg(long)]
    built_at: Option<String>,
    /// Skip malformed files (counting them) instead of failing.
    #[arg(long)]
    keep_going: bool,
}

fn parse_source(text: &str) -> Result<(String, String, String), String> {
    let (name, rest) = text.split_once('=').ok_or("expected NAME=COMMIT,DATE")?;
    let (commit, date) = rest.split_once(',').unwrap_or((rest, ""));
    Ok((name.to_string(), commit.to_string(), date.to_string()))
}

/// A directory to read: the path itself, or a temporary unpacking of a .tar.gz.
fn unpack(path: &Path) -> Result<(PathBuf, Option<tempfile::TempDir>), String> {
    if path.is_dir() {
        return Ok((path.to_path_buf(), None));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dir.path())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((dir.path().to_path_buf(), Some(dir)))
}

/// The vuln-list root inside an unpacked tree: the shallowest directory named `vuln-list`
/// (the bulk tarball holds `vuln-list/`, the subset `vuln-list-subset/real/vuln-list/`), or the
/// tree itself.
fn vuln_list_root(dir: &Path) -> PathBuf {
    named_root(dir, "vuln-list")
}

/// The shallowest directory called `name` within four levels of `dir`, or `dir` itself.
fn named_root(dir: &Path, name: &str) -> PathBuf {
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for d in &level {
            if d.file_name().is_some_and(|n| n == name) {
                return d.clone();
            }
            let mut children: Vec<PathBuf> =
                std::fs::read_dir(d).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
            children.sort();
            next.extend(children);
        }
        level = next;
    }
    dir.to_path_buf()
}

fn run(args: &Args) -> Result<(), String> {
    let mut builder = Builder::new();
    let mut report = families::Report::new(args.keep_going);
    for path in &args.vuln_list {
        let (dir, _guard) = unpack(path)?;
        families::read_vuln_list(&vuln_list_root(&dir), &mut builder, &mut report)?;
    }
    for path in &args.vuln_list_debian {
        let (dir, _guard) = unpack(path)?;
        families::read_debian(&named_root(&dir, "vuln-list-debian"), &mut builder, &mut report)?;
    }
    for path in &args.vuln_list_nvd {
        let (dir, _guard) = unpack(path)?;
        families::read_nvd(&named_root(&dir, "vuln-list-nvd"), &mut builder, &mut report)?;
    }
    // After NVD: among details-only sources NVD's titles come first, as in trivy-db.
    for path in &args.vuln_list_redhat {
        let (dir, _guard) = unpack(path)?;
        redhat::read_redhat(&named_root(&dir, "vuln-list-redhat"), &mut builder, &mut report)?;
    }
    for path in &args.osv {
        let (dir, _guard) = unpack(path)?;
        families::read_osv(&dir, &mut builder, &mut report)?;
    }
    report.check_sources()?;
    for (name, commit, date) in &args.sources {
        if !builder.has_source(name) {
            return Err(format!("--source {name}: no data of that source was read"));
        }
        builder.source(name, commit, date);
    }
    let counts = builder.platform_counts();
    for family in &args.partial {
        if !counts.keys().any(|p| p.split(' ').next() == Some(family.as_str())) {
            return Err(format!("--partial {family}: no platform of that family was read"));
        }
        builder.partial(family);
    }
    let built_at = args.built_at.clone().unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let blob = builder.finish(&built_at);
    std::fs::write(&args.out, &blob).map_err(|e| format!("{}: {e}", args.out.display()))?;
    for (platform, n) in &counts {
        eprintln!("{platform:<16} {n:>8} advisories");
    }
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "{} files read, {} skipped as malformed; wrote {} bytes to {}",
        report.files,
        report.skipped,
        blob.len(),
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldscan-db-builder: error: {e}");
            ExitCode::from(1)
        }
    }
}

//! `coldscan db info`: what the bundled (or `--db`) vulnerability database holds, and how fully
//! it covers each platform.

use super::Format;
use coldscan_core::vulndb::{Coverage, VulnDb};
use coldscan_host::HostError;
use serde::Serialize;
use std::io::Write;

/// `db info --format json`.
#[derive(Debug, Serialize)]
pub struct DbInfo<'a> {
    /// Build time (RFC 3339).
    pub built_at: &'a str,
    /// Size of the blob in bytes.
    pub size: usize,
    /// Vulnerabilities described.
    pub vulnerabilities: usize,
    /// (platform, package) entries.
    pub entries: usize,
    /// Data sources.
    pub sources: Vec<SourceInfo<'a>>,
    /// Platforms.
    pub platforms: Vec<PlatformInfo<'a>>,
}

/// One source of the DB.
#[derive(Debug, Serialize)]
pub struct SourceInfo<'a> {
    /// Name.
    pub name: &'a str,
    /// Commit or snapshot.
    pub commit: &'a str,
    /// Date.
    pub date: &'a str,
}

/// One platform of the DB.
#[derive(Debug, Serialize)]
pub struct PlatformInfo<'a> {
    /// `debian 12`.
    pub name: &'a str,
    /// Packages with advisories.
    pub packages: u32,
    /// `full` (the publisher's feed) or `partial` (a sample).
    pub coverage: &'static str,
}

/// Prints build time, sources, platforms with their coverage, and counts.
pub fn info(db_bytes: &[u8], format: Format, out: &mut dyn Write) -> Result<(), HostError> {
    let db = VulnDb::open(db_bytes)?;
    let (vulnerabilities, entries) = db.counts();
    let info = DbInfo {
        built_at: db.meta.built_at,
        size: db_bytes.len(),
        vulnerabilities,
        entries,
        sources: db.meta.sources.iter().map(|s| SourceInfo { name: s.name, commit: s.commit, date: s.date }).collect(),
        platforms: db
            .meta
            .platforms
            .iter()
            .map(|p| PlatformInfo {
                name: p.name,
                packages: p.count,
                coverage: if db.coverage(p.name) == Coverage::Full { "full" } else { "partial" },
            })
            .collect(),
    };
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &info).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "built:      {}", info.built_at)?;
    writeln!(out, "size:       {} bytes", info.size)?;
    writeln!(
        out,
        "entries:    {} vulnerabilities, {} (platform, package) entries",
        info.vulnerabilities, info.entries
    )?;
    writeln!(out, "sources:")?;
    for s in &info.sources {
        let date = if s.date.is_empty() { String::new() } else { format!(" ({})", s.date) };
        writeln!(out, "  {:<16} {}{date}", s.name, s.commit)?;
    }
    writeln!(out, "platforms:")?;
    for p in &info.platforms {
        let coverage = if p.coverage == "full" { "full feed" } else { "partial (a sample)" };
        writeln!(out, "  {:<16} {:>6} packages  {coverage}", p.name, p.packages)?;
    }
    Ok(())
}

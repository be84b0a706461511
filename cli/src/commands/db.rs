//! `coldscan db info`: what the bundled (or `--db`) vulnerability database holds.

use super::CommandError;
use coldscan_core::vulndb::VulnDb;
use std::io::Write;

/// Prints build time, sources, platforms and counts.
pub fn info(db_bytes: &[u8], out: &mut dyn Write) -> Result<(), CommandError> {
    let db = VulnDb::open(db_bytes)?;
    let (vulns, entries) = db.counts();
    writeln!(out, "built:      {}", db.meta.built_at)?;
    writeln!(out, "size:       {} bytes", db_bytes.len())?;
    writeln!(out, "entries:    {vulns} vulnerabilities, {entries} (platform, package) entries")?;
    writeln!(out, "sources:")?;
    for s in &db.meta.sources {
        let date = if s.date.is_empty() { String::new() } else { format!(" ({})", s.date) };
        writeln!(out, "  {:<16} {}{date}", s.name, s.commit)?;
    }
    writeln!(out, "platforms:")?;
    for p in &db.meta.platforms {
        writeln!(out, "  {:<16} {:>6} packages", p.name, p.count)?;
    }
    Ok(())
}

/// Days since the database was built (for the staleness warning), if its date parses.
pub fn age_days(db_bytes: &[u8]) -> Option<i64> {
    let db = VulnDb::open(db_bytes).ok()?;
    let built = chrono::DateTime::parse_from_rfc3339(db.meta.built_at).ok()?;
    Some((chrono::Utc::now() - built.with_timezone(&chrono::Utc)).num_days())
}

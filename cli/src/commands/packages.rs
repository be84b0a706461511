//! `coldscan packages IMAGE|DIR|DBFILE`: the installed packages of every root in an image, of
//! an extracted root directory, or of a single package database file, as a table, JSON or a
//! CycloneDX SBOM (the report is [`coldscan_host::packages::packages`]).

use super::PackagesFormat;
use coldscan_host::{HostError, ImageArgs};
use std::io::Write;

/// Runs `packages`, writing the report in `format` to `out`.
pub fn run(args: &ImageArgs, format: PackagesFormat, out: &mut dyn Write) -> Result<(), HostError> {
    let report = coldscan_host::packages::packages(args)?;
    match format {
        PackagesFormat::Cyclonedx => {
            let bom = coldscan_host::cyclonedx::packages_bom(&report.source.path, &report.targets);
            let mut json = Vec::new();
            bom.output_as_json_v1_5(&mut json).map_err(|e| HostError::Output(std::io::Error::other(e.to_string())))?;
            out.write_all(&json)?;
            writeln!(out)?;
        }
        PackagesFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        PackagesFormat::Table => {
            for t in &report.targets {
                let os =
                    t.os.as_ref().and_then(|o| o.pretty_name.clone().or_else(|| o.name.clone())).unwrap_or_default();
                writeln!(out, "{} {} ({} packages)", t.volume, os, t.packages.len())?;
                writeln!(out, "  {:<40} {:<36} {:<8} {:<30} DB", "NAME", "VERSION", "ARCH", "SOURCE")?;
                for p in &t.packages {
                    writeln!(
                        out,
                        "  {:<40} {:<36} {:<8} {:<30} {}",
                        p.name,
                        p.version,
                        p.arch.as_deref().unwrap_or("-"),
                        p.source_name.as_deref().unwrap_or("-"),
                        p.db
                    )?;
                }
            }
            for e in &report.errors {
                writeln!(out, "error [{}]: {}", e.volume.as_deref().unwrap_or("-"), e.message)?;
            }
        }
    }
    Ok(())
}

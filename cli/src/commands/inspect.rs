//! `coldscan inspect IMAGE`: container, volumes, filesystems, operating systems, kernels.

use super::Format;
use coldscan_core::report::InspectReport;
use coldscan_host::{HostError, ImageArgs};
use std::io::Write;

/// Runs `inspect`, writing the report in `format` to `out`.
pub fn run(args: &ImageArgs, format: Format, out: &mut dyn Write) -> Result<(), HostError> {
    let report = coldscan_host::inspect::inspect(args)?;
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&report, out)?,
    }
    Ok(())
}

fn or_dash(v: Option<&str>) -> &str {
    v.filter(|s| !s.is_empty()).unwrap_or("-")
}

fn write_table(r: &InspectReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Image:   {} ({}, {} bytes virtual, {} bytes read)",
        r.image.path, r.image.format, r.image.virtual_size, r.image.bytes_read
    )?;
    writeln!(
        out,
        "Table:   {} (disk id {}, {}-byte sectors)",
        r.partition_table.scheme,
        or_dash(r.partition_table.disk_id.as_deref()),
        r.partition_table.sector_size
    )?;
    writeln!(out)?;
    // Volume ids (`lvm:VG/LV`) and names can be long: the first columns take the widest.
    let id_width = r.volumes.iter().map(|v| v.id.len()).max().unwrap_or(0).max(8);
    let name_width = r.volumes.iter().map(|v| or_dash(v.partition_name.as_deref()).len()).max().unwrap_or(0).max(12);
    writeln!(
        out,
        "{:<id_width$} {:>14} {:>14}  {:<22} {:<name_width$} {:<12} {:<16} UUID",
        "VOLUME", "START", "SIZE", "TYPE", "NAME", "FS", "LABEL"
    )?;
    for v in &r.volumes {
        let kind = v.type_name.unwrap_or(v.type_id.as_str());
        writeln!(
            out,
            "{:<id_width$} {:>14} {:>14}  {:<22} {:<name_width$} {:<12} {:<16} {}",
            v.id,
            v.start,
            v.size,
            if kind.is_empty() { "-" } else { kind },
            or_dash(v.partition_name.as_deref()),
            or_dash(v.filesystem),
            or_dash(v.label.as_deref()),
            or_dash(v.uuid.as_deref())
        )?;
    }
    for v in r.volumes.iter().filter(|v| !v.subvolumes.is_empty()) {
        let list: Vec<String> = v
            .subvolumes
            .iter()
            .map(|s| format!("{} (id {}){}", s.path, s.id, if s.default { ", default" } else { "" }))
            .collect();
        writeln!(out, "Subvolumes of {}: {}", v.id, list.join("; "))?;
    }
    writeln!(out)?;
    if r.targets.is_empty() {
        writeln!(out, "No operating system found.")?;
    }
    for t in &r.targets {
        let os = &t.os;
        let pretty = os.pretty_name.clone().or_else(|| os.name.clone()).unwrap_or_else(|| os.id.clone());
        writeln!(
            out,
            "OS on {}: {} [{} {}] (from {})",
            t.volume,
            pretty,
            os.family,
            or_dash(os.version_id.as_deref()),
            os.source
        )?;
        writeln!(out, "  kernels: {}", if t.kernels.is_empty() { "-".to_string() } else { t.kernels.join(", ") })?;
        if let Some(sub) = &t.subvolume {
            writeln!(out, "  subvolume: {sub}")?;
        }
        for m in &t.mounts {
            let sub = m.subvolume.as_deref().map(|s| format!(", subvolume {s}")).unwrap_or_default();
            writeln!(out, "  mount: {} on {} ({}{sub})", m.volume, m.path, m.spec)?;
        }
        for d in &t.package_databases {
            writeln!(out, "  packages: {} {} ({}, {})", d.packages, d.db, d.format, d.path)?;
        }
    }
    if !r.errors.is_empty() {
        writeln!(out)?;
        writeln!(out, "Errors:")?;
        for e in &r.errors {
            writeln!(out, "  [{}] {}", e.volume.as_deref().unwrap_or("disk"), e.message)?;
        }
    }
    Ok(())
}

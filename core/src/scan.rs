//! The scan API every front end calls (as rustsec's `Report::generate`): what was read from the
//! image, the vulnerability DB and the user's settings in; the report out — findings matched
//! and filtered in separate passes, suppressed findings kept with their reason, warnings
//! folded, and the **completeness verdict** a CI gate can trust.
//!
//! A scan is *complete* only when every volume was read, at least one root was found, every
//! root with an OS has a readable package database, and the DB covers every root's platform
//! with the publisher's full feed. Anything else is a reason in `scan.incomplete_reasons`,
//! and the front ends exit with the incomplete status (DESIGN.md: 4).

use crate::budget::Budget;
use crate::detect::{self, Finding};
use crate::inspect::{os_report, DiskScan, RootScan};
use crate::report::{
    DbReport, DbSourceReport, ErrorReport, ImageReport, PackageReport, ScanReport, ScanTargetReport, ScanVerdict,
    SuppressedReport, VulnerabilityReport, REPORT_SCHEMA,
};
use crate::vulndb::{Coverage, Severity, Status, VulnDb};
use crate::Result;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A `.trivyignore`-style rule: a vulnerability id, ignored until an optional date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// Vulnerability id (`CVE-2023-5363`).
    pub id: String,
    /// Last day the rule holds (`YYYY-MM-DD`, trivy's `exp:`); none: for ever.
    pub expires: Option<String>,
}

/// Parses an ignore file: one id per line, optionally followed by `exp:YYYY-MM-DD`; `#`
/// comments and blank lines skipped (the `.trivyignore` format).
pub fn parse_ignore_file(text: &str) -> Vec<IgnoreRule> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default().trim();
            let mut words = line.split_whitespace();
            let id = words.next()?;
            let expires = words.find_map(|w| w.strip_prefix("exp:")).map(String::from);
            Some(IgnoreRule { id: String::from(id), expires })
        })
        .collect()
}

/// What a VEX document says of a vulnerability in a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexStatus {
    /// The product is not affected: the finding is suppressed.
    NotAffected,
    /// The product is fixed: the finding is suppressed.
    Fixed,
    /// Affected or under investigation: the finding stays.
    Other,
}

/// One VEX statement (OpenVEX or CycloneDX VEX, read by the front end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// Vulnerability id.
    pub id: String,
    /// Package names (or purls, whose name part is compared) it is about; empty: every product.
    pub products: Vec<String>,
    /// Status.
    pub status: VexStatus,
    /// The justification or impact statement, kept in the report.
    pub justification: Option<String>,
}

impl VexStatement {
    fn covers(&self, package: &str) -> bool {
        self.products.is_empty() || self.products.iter().any(|p| purl_name(p) == package)
    }
}

/// The package name of a purl (`pkg:rpm/rocky/openssl@3.0.7?arch=x86_64` → `openssl`), or the
/// text itself when it is a plain name.
fn purl_name(product: &str) -> &str {
    let Some(rest) = product.strip_prefix("pkg:") else { return product };
    let path = rest.split(['@', '?', '#']).next().unwrap_or(rest);
    path.rsplit('/').next().unwrap_or(path)
}

/// What the user chose; the same for every front end.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Only these severities are kept (empty: all).
    pub severities: Vec<Severity>,
    /// Drop findings without a fix.
    pub ignore_unfixed: bool,
    /// Ignored vulnerability ids.
    pub ignore: Vec<IgnoreRule>,
    /// VEX statements.
    pub vex: Vec<VexStatement>,
    /// Today (`YYYY-MM-DD`): for end-of-life dates, ignore expiry and the DB's age.
    pub today: String,
    /// Days after which the DB counts as stale (a warning).
    pub db_max_age_days: u32,
}

impl Settings {
    /// Defaults: everything kept, nothing ignored, a DB stale after 30 days.
    pub fn new(today: &str) -> Self {
        Settings {
            severities: Vec::new(),
            ignore_unfixed: false,
            ignore: Vec::new(),
            vex: Vec::new(),
            today: String::from(today),
            db_max_age_days: 30,
        }
    }
}

/// Parses a severity name (any case, surrounding spaces trimmed).
pub fn parse_severity(name: &str) -> Option<Severity> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => Severity::Critical,
        "HIGH" => Severity::High,
        "MEDIUM" => Severity::Medium,
        "LOW" => Severity::Low,
        "UNKNOWN" => Severity::Unknown,
        _ => return None,
    })
}

/// Days from a `YYYY-MM-DD` date (an RFC 3339 time is cut to its date) to another, on the
/// civil calendar, if both parse.
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    fn days(date: &str) -> Option<i64> {
        let mut parts = date.get(..10)?.split('-');
        let (y, m, d): (i64, i64, i64) =
            (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe - 719_468)
    }
    Some(days(to)? - days(from)?)
}

fn db_report(db: &VulnDb<'_>) -> DbReport {
    DbReport {
        built_at: String::from(db.meta.built_at),
        sources: db
            .meta
            .sources
            .iter()
            .map(|s| DbSourceReport { name: s.name.into(), commit: s.commit.into(), date: s.date.into() })
            .collect(),
    }
}

/// Why a finding is suppressed, if it is.
fn suppression(f: &Finding, settings: &Settings) -> Option<SuppressedReport> {
    let base = |reason: &'static str, justification: Option<String>| SuppressedReport {
        id: f.id.clone(),
        package: f.package.clone(),
        reason,
        justification,
    };
    if let Some(rule) = settings.ignore.iter().find(|r| r.id == f.id) {
        let expired =
            rule.expires.as_deref().is_some_and(|exp| days_between(exp, &settings.today).is_some_and(|d| d > 0));
        if !expired {
            return Some(base("ignored", rule.expires.as_ref().map(|e| format!("ignored until {e}"))));
        }
    }
    let vex = settings.vex.iter().find(|s| s.id == f.id && s.covers(&f.package));
    match vex {
        Some(s) if s.status == VexStatus::NotAffected => Some(base("vex_not_affected", s.justification.clone())),
        Some(s) if s.status == VexStatus::Fixed => Some(base("vex_fixed", s.justification.clone())),
        _ => None,
    }
}

/// One root's findings, filtered, with the root's own warnings and reasons.
fn target(
    id: &str,
    root: &RootScan,
    db: &VulnDb<'_>,
    settings: &Settings,
    budget: &Budget,
    errors: &mut Vec<ErrorReport>,
    reasons: &mut Vec<String>,
) -> Result<ScanTargetReport> {
    let packages: Vec<_> = root.inventories.iter().flat_map(|i| i.packages.as_slice().iter().cloned()).collect();
    let mut vulnerabilities = Vec::new();
    let mut suppressed = Vec::new();
    let volume = Some(String::from(id));
    if let Some(os) = &root.os {
        let name = os
            .pretty_name
            .clone()
            .unwrap_or_else(|| format!("{} {}", os.family, os.version_id.as_deref().unwrap_or("")));
        if root.inventories.is_empty() {
            reasons.push(format!("{id}: {name} has no readable package database"));
        }
        match detect::platform(os) {
            None => {
                let text = format!("{name}: the vulnerability DB has no data for the {} family", os.family);
                reasons.push(format!("{id}: {text}"));
                errors.push(ErrorReport::text(crate::Layer::Db, volume.clone(), text));
            }
            Some(platform) => match db.coverage(&platform) {
                Coverage::Full => {}
                Coverage::Partial => {
                    let text = format!(
                        "the vulnerability DB holds only part of {platform}'s advisories (a sample, not the publisher's full feed): findings for {name} are incomplete"
                    );
                    reasons.push(format!("{id}: {text}"));
                    errors.push(ErrorReport::text(crate::Layer::Db, volume.clone(), text));
                }
                Coverage::None => {
                    let text = format!("the vulnerability DB has no data for {platform} ({name})");
                    reasons.push(format!("{id}: {text}"));
                    errors.push(ErrorReport::text(crate::Layer::Db, volume.clone(), text));
                }
            },
        }
        if let Some(date) = detect::past_end_of_life(os, &settings.today) {
            errors.push(ErrorReport::warning_text(
                crate::Layer::Os,
                volume.clone(),
                format!("{name} reached its end of life on {date}: its publisher no longer fixes vulnerabilities in it, and findings may be incomplete"),
            ));
        }
        let (findings, _) = detect::detect(db, os, &packages, budget)?;
        for f in &findings {
            if settings.ignore_unfixed && f.status != Status::Fixed {
                continue;
            }
            if !settings.severities.is_empty() && !settings.severities.contains(&f.severity) {
                continue;
            }
            match suppression(f, settings) {
                Some(s) => suppressed.push(s),
                None => vulnerabilities.push(VulnerabilityReport::from_finding(f)),
            }
        }
    }
    Ok(ScanTargetReport {
        volume: String::from(id),
        os: root.os.as_ref().map(os_report),
        packages: packages.iter().map(PackageReport::from_package).collect(),
        vulnerabilities,
        suppressed,
        kernels: root.kernels.clone(),
        subvolume: root.subvolume.clone(),
        mounts: root.mounts.clone(),
    })
}

/// Builds the report of a scan: `image` and `disk` as read, matched against `db` under
/// `settings`. The verdict is in `report.scan`.
pub fn generate(
    image: ImageReport,
    disk: DiskScan,
    db: &VulnDb<'_>,
    settings: &Settings,
    budget: &Budget,
) -> Result<ScanReport> {
    let mut errors = disk.errors;
    let mut reasons = Vec::new();
    let mut targets = Vec::new();
    for (id, root) in &disk.roots {
        targets.push(target(id, root, db, settings, budget, &mut errors, &mut reasons)?);
    }
    if disk.roots.is_empty() {
        reasons.push(String::from("no operating system or package database was found in the image"));
    }
    if let Some(age) =
        days_between(db.meta.built_at, &settings.today).filter(|&d| d > i64::from(settings.db_max_age_days))
    {
        errors.push(ErrorReport::warning_text(
            crate::Layer::Db,
            None,
            format!("the vulnerability DB is {age} days old; load a newer one"),
        ));
    }
    // The same problem met twice (a truncated image read from two places) is told once.
    let mut folded: Vec<ErrorReport> = Vec::new();
    for e in errors {
        if !folded.iter().any(|f| f.layer == e.layer && f.volume == e.volume && f.message == e.message) {
            folded.push(e);
        }
    }
    for e in folded.iter().filter(|e| e.level == "error") {
        let reason = match &e.volume {
            Some(v) => format!("{v}: {}", e.message),
            None => e.message.clone(),
        };
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    Ok(ScanReport {
        schema: REPORT_SCHEMA,
        image,
        db: db_report(db),
        volumes: disk.volumes,
        targets,
        errors: folded,
        scan: ScanVerdict { complete: reasons.is_empty(), incomplete_reasons: reasons },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_files_and_dates() {
        let rules = parse_ignore_file("# comment\nCVE-1\n\n  CVE-2 exp:2026-01-31 # until then\n");
        assert_eq!(
            rules,
            [
                IgnoreRule { id: "CVE-1".into(), expires: None },
                IgnoreRule { id: "CVE-2".into(), expires: Some("2026-01-31".into()) },
            ]
        );
        assert_eq!(days_between("2026-01-31", "2026-02-01"), Some(1));
        assert_eq!(days_between("2024-02-28", "2024-03-01"), Some(2));
        assert_eq!(days_between("1970-01-01", "2026-11-30"), Some(20_787));
        assert_eq!(days_between("garbage", "2026-11-30"), None);
    }

    #[test]
    fn purls_name_their_package() {
        assert_eq!(purl_name("pkg:rpm/rocky/openssl@3.0.7-16.el9?arch=x86_64"), "openssl");
        assert_eq!(purl_name("pkg:apk/alpine/busybox"), "busybox");
        assert_eq!(purl_name("openssl"), "openssl");
        assert_eq!(parse_severity(" high "), Some(Severity::High));
        assert_eq!(parse_severity("severe"), None);
    }
}

//! The scan: one pipeline every front end calls ([`scan_image`], [`scan_root`]), and the report
//! builder under it (as rustsec's `Report::generate`): what was read from the image, the
//! vulnerability DB and the user's settings in; the report out — findings matched and filtered
//! in separate passes, suppressed findings kept with their reason, warnings folded, and the
//! **completeness verdict** a CI gate can trust.
//!
//! A scan is *complete* only when every volume was read, at least one root was found, every
//! root with an OS has a readable package database, and the DB covers every root's platform
//! with the publisher's full feed. Anything else is a reason in `scan.incomplete_reasons`,
//! and the front ends exit with the incomplete status (DESIGN.md: 4).

mod ignore;
mod pipeline;
mod settings;

pub use ignore::{parse_ignore_file, IgnoreRule};
pub use pipeline::{inspect_image, scan_image, scan_root, stopped_report, stops_the_scan};
pub use settings::{days_between, parse_severity, Settings};

use crate::budget::Budget;
use crate::detect::{self, Finding};
use crate::inspect::{os_report, DiskScan, RootScan};
use crate::report::{
    DbReport, DbSourceReport, ErrorReport, ImageReport, Level, PackageReport, ScanReport, ScanTargetReport,
    ScanVerdict, SuppressedReport, Suppression, VulnerabilityReport, REPORT_SCHEMA,
};
use crate::vex::VexStatus;
use crate::vulndb::{Coverage, Status, VulnDb};
use crate::Result;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

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
    let base = |reason: Suppression, justification: Option<String>| SuppressedReport {
        id: f.id.clone(),
        package: f.package.clone(),
        reason,
        justification,
    };
    if let Some(rule) = settings.ignore.iter().find(|r| r.id == f.id) {
        let expired =
            rule.expires.as_deref().is_some_and(|exp| days_between(exp, &settings.today).is_some_and(|d| d > 0));
        if !expired {
            return Some(base(Suppression::Ignored, rule.expires.as_ref().map(|e| format!("ignored until {e}"))));
        }
    }
    let vex = settings.vex.iter().find(|s| s.id == f.id && s.covers(&f.package));
    match vex {
        Some(s) if s.status == VexStatus::NotAffected => {
            Some(base(Suppression::VexNotAffected, s.justification.clone()))
        }
        Some(s) if s.status == VexStatus::Fixed => Some(base(Suppression::VexFixed, s.justification.clone())),
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
        // Matching that runs out of memory (or meets a damaged DB) leaves this root's findings
        // unknown: an error entry and an incomplete verdict, while the other roots are matched.
        let findings = match detect::detect(db, os, &packages, budget) {
            Ok((findings, _)) => findings,
            Err(e) => {
                errors.push(ErrorReport::from_error(&e, volume.clone()));
                Vec::new()
            }
        };
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
    for e in folded.iter().filter(|e| e.level == Level::Error) {
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
    use crate::error::ErrorLog;
    use crate::os::OsInfo;
    use crate::pkg::{Inventory, Package, PackageDb, PackageList};
    use crate::vulndb::{Builder, NewAdvisory, Severity};
    use alloc::vec;

    /// A root with one Alpine package that has one fixed advisory in `db`.
    fn alpine_root(parse_budget: &Budget) -> RootScan {
        let mut packages = PackageList::new(parse_budget, "apk").unwrap();
        let pkg = Package {
            name: "busybox".into(),
            version: "1.36.0-r0".into(),
            db: Some(PackageDb::Apk),
            ..Package::default()
        };
        packages.push(pkg, 0).unwrap();
        RootScan {
            os: Some(OsInfo { family: "alpine".into(), version_id: Some("3.18.0".into()), ..OsInfo::default() }),
            kernels: Vec::new(),
            inventories: vec![Inventory {
                db: PackageDb::Apk,
                path: "/lib/apk/db/installed".into(),
                format: "apk-installed",
                packages,
                errors: ErrorLog::default(),
            }],
            errors: Vec::new(),
            mounts: Vec::new(),
            subvolume: None,
        }
    }

    #[test]
    fn matching_out_of_memory_is_an_incomplete_root_not_a_failed_scan() {
        let mut b = Builder::new();
        b.add(NewAdvisory::new("alpine 3.18", "busybox", "CVE-1", "1.36.1-r0", ""), Severity::High, "", "alpine");
        let blob = b.finish("2026-11-30T00:00:00Z");
        let db = VulnDb::open(&blob).unwrap();
        let settings = Settings::new("2026-12-01");
        let image =
            || ImageReport { path: String::new(), format: "raw", virtual_size: 0, bytes_read: 0, spooled: None };
        let disk = |budget: &Budget| DiskScan {
            volumes: Vec::new(),
            roots: vec![(String::from("gpt:1"), alpine_root(budget))],
            errors: Vec::new(),
        };
        // Enough memory: the finding.
        let roomy = Budget::new(1 << 20);
        let report = generate(image(), disk(&roomy), &db, &settings, &roomy).unwrap();
        assert_eq!(report.targets[0].vulnerabilities.len(), 1);
        // The same budget the parse used, too small to match: an error and an incomplete verdict.
        let tight = Budget::new(1 << 20);
        let scan = disk(&tight);
        let _rest = tight.reserve(crate::Layer::Os, "test", 0, tight.limit() - tight.used()).unwrap();
        let report = generate(image(), scan, &db, &settings, &tight).unwrap();
        assert!(report.targets[0].vulnerabilities.is_empty());
        assert!(!report.scan.complete);
        let e = report.errors.iter().find(|e| e.message.contains("memory")).expect("the memory error");
        assert_eq!(e.volume.as_deref(), Some("gpt:1"));
    }
}

//! CycloneDX 1.5 output, built with the `cyclonedx-bom` crate: one operating-system component
//! per root, its packages as library components with package URLs
//! (`pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12`, as trivy writes them), and
//! for a scan the findings as CycloneDX vulnerabilities affecting those components.

use coldscan_core::report::{OsReport, PackageReport, PackageTargetReport};
use coldscan_core::vulndb::Severity;
use cyclonedx_bom::external_models::date_time::DateTime;
use cyclonedx_bom::models::bom::Bom;
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::license::{License, LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use cyclonedx_bom::models::vulnerability::{Vulnerabilities, Vulnerability};
use cyclonedx_bom::models::vulnerability_rating::{
    Score, ScoreMethod, Severity as CdxSeverity, VulnerabilityRating, VulnerabilityRatings,
};
use cyclonedx_bom::models::vulnerability_target::{VulnerabilityTarget, VulnerabilityTargets};
use cyclonedx_bom::prelude::{NormalizedString, Purl, SpecVersion};
use std::str::FromStr;

/// The package URL of `p` on an OS of `os`.
pub fn purl(p: &PackageReport, os: Option<&OsReport>) -> Option<String> {
    let kind = match p.db {
        "dpkg" => "deb",
        "rpm" => "rpm",
        "apk" => "apk",
        _ => return None,
    };
    let mut url = packageurl::PackageUrl::new(kind, p.name.as_str()).ok()?;
    if let Some(os) = os {
        url.with_namespace(os.id.clone());
        if let Some(v) = &os.version_id {
            url.add_qualifier("distro", format!("{}-{v}", os.id)).ok()?;
        }
    }
    // The epoch goes in its own qualifier, not in the version.
    let version = match p.epoch {
        Some(e) => p.version.strip_prefix(&format!("{e}:")).unwrap_or(&p.version).to_string(),
        None => p.version.clone(),
    };
    url.with_version(version);
    if let Some(arch) = &p.arch {
        url.add_qualifier("arch", arch.clone()).ok()?;
    }
    if let Some(e) = p.epoch.filter(|&e| e != 0) {
        url.add_qualifier("epoch", e.to_string()).ok()?;
    }
    Some(url.to_string())
}

/// A CycloneDX BOM of the packages of `targets`, describing `subject` (the image or path).
pub fn packages_bom(subject: &str, targets: &[PackageTargetReport]) -> Bom {
    let mut components = Vec::new();
    for (t, target) in targets.iter().enumerate() {
        let os = target.os.as_ref();
        if let Some(os) = os {
            let mut c = Component::new(
                Classification::OperatingSystem,
                &os.family,
                os.version_id.as_deref().unwrap_or(""),
                Some(format!("os-{t}")),
            );
            c.description = os.pretty_name.as_deref().map(NormalizedString::new);
            components.push(c);
        }
        for (i, p) in target.packages.iter().enumerate() {
            let mut c =
                Component::new(Classification::Library, &p.name, &p.version, Some(format!("component-{t}-{i}")));
            // rpm and dpkg write free-form licence names (`GPLv2+`, `MIT and BSD`): named licences.
            c.licenses = p
                .license
                .as_deref()
                .filter(|l| !l.is_empty())
                .map(|l| Licenses(vec![LicenseChoice::License(License::named_license(l))]));
            c.purl = purl(p, os).and_then(|u| Purl::from_str(&u).ok());
            c.publisher = p.vendor.as_deref().map(NormalizedString::new);
            components.push(c);
        }
    }
    let subject = Component::new(Classification::Container, subject, "", Some(String::from("subject")));
    Bom {
        spec_version: SpecVersion::V1_5,
        metadata: Some(Metadata {
            timestamp: DateTime::now().ok(),
            component: Some(subject),
            tools: Some(Tools::List(vec![Tool::new("coldscan", "coldscan", env!("CARGO_PKG_VERSION"))])),
            ..Metadata::default()
        }),
        components: Some(Components(components)),
        ..Bom::default()
    }
}

/// A CycloneDX BOM of a scan: the packages (as for `packages`) and every finding as a
/// vulnerability that affects its package's component.
pub fn scan_bom(report: &coldscan_core::report::ScanReport) -> Bom {
    let targets: Vec<PackageTargetReport> = report
        .targets
        .iter()
        .map(|t| PackageTargetReport {
            volume: t.volume.clone(),
            os: t.os.clone(),
            package_databases: Vec::new(),
            packages: t.packages.clone(),
        })
        .collect();
    let mut bom = packages_bom(&report.image.path, &targets);
    let mut vulnerabilities = Vec::new();
    for (ti, t) in report.targets.iter().enumerate() {
        for v in &t.vulnerabilities {
            let Some(pi) = t.packages.iter().position(|p| p.name == v.package) else { continue };
            let mut vuln = Vulnerability::new(None);
            vuln.id = Some(NormalizedString::new(&v.id));
            vuln.description = v.title.as_deref().map(String::from);
            vuln.recommendation = v.fixed.as_deref().map(|f| format!("Upgrade {} to {f}", v.package));
            let severity = match v.severity {
                Severity::Critical => CdxSeverity::Critical,
                Severity::High => CdxSeverity::High,
                Severity::Medium => CdxSeverity::Medium,
                Severity::Low => CdxSeverity::Low,
                Severity::Unknown => CdxSeverity::Unknown,
            };
            vuln.vulnerability_ratings = Some(VulnerabilityRatings(vec![VulnerabilityRating::new(
                None::<Score>,
                Some(severity),
                None::<ScoreMethod>,
            )]));
            vuln.vulnerability_targets =
                Some(VulnerabilityTargets(vec![VulnerabilityTarget::new(format!("component-{ti}-{pi}"))]));
            vulnerabilities.push(vuln);
        }
    }
    bom.vulnerabilities = Some(Vulnerabilities(vulnerabilities));
    // The scan's verdict, warnings and errors travel with the BOM as properties.
    let mut properties =
        vec![Property::new("coldscan:scan:complete", if report.scan.complete { "true" } else { "false" })];
    properties
        .extend(report.scan.incomplete_reasons.iter().map(|r| Property::new("coldscan:scan:incomplete-reason", r)));
    properties.extend(report.errors.iter().map(|e| {
        Property::new(
            format!("coldscan:{}", e.level),
            &format!("[{}] {}", e.volume.as_deref().unwrap_or("image"), e.message),
        )
    }));
    if let Some(metadata) = bom.metadata.as_mut() {
        metadata.properties = Some(Properties(properties));
    }
    bom
}

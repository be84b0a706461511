//! Writing database blobs (used by `coldscan-db-builder` and by tests): collect advisories,
//! then lay them out as described in the parent module.

use super::{
    Advisory, Details, Meta, PlatformRange, Severity, SourceInfo, Status, DETAIL_RECORD, HEADER, MAGIC, PACKAGE_RECORD,
    SCHEMA,
};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// An advisory as a source gives it, before layout.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewAdvisory {
    /// Platform (`alpine 3.18`).
    pub platform: String,
    /// Package name the distribution matches on.
    pub package: String,
    /// Vulnerability id.
    pub vuln: String,
    /// Fixed version, empty when unfixed.
    pub fixed: String,
    /// Fix status.
    pub status: Status,
    /// Architectures (sorted, comma-separated), empty for all.
    pub arches: String,
    /// Module stream, empty when not modular.
    pub module: String,
    /// Advisory id.
    pub advisory: String,
}

impl NewAdvisory {
    /// An advisory for all architectures, outside any module: fixed at `fixed`, or affected
    /// without a fix when `fixed` is empty. `advisory` is the distribution's advisory id.
    pub fn new(platform: &str, package: &str, vuln: &str, fixed: &str, advisory: &str) -> Self {
        NewAdvisory {
            platform: platform.into(),
            package: package.into(),
            vuln: vuln.into(),
            fixed: fixed.into(),
            status: if fixed.is_empty() { Status::Affected } else { Status::Fixed },
            arches: String::new(),
            module: String::new(),
            advisory: advisory.into(),
        }
    }
}

/// Collects advisories and vulnerability details, then writes the blob.
#[derive(Debug, Default)]
pub struct Builder {
    advisories: Vec<NewAdvisory>,
    /// id → (severity, title, source); the highest severity seen wins.
    details: BTreeMap<String, (Severity, String, String)>,
    sources: Vec<(String, String, String)>,
    /// Platform families whose data is partial.
    partial: Vec<String>,
    /// Details-only sources (NVD, Red Hat's API): id → (source, severity, title) in the order
    /// recorded; they fill in what the distributions' data leaves open.
    fallbacks: BTreeMap<String, Vec<(String, Severity, String)>>,
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a data source, once per name; a later call fills in a commit or date that an
    /// earlier one left empty.
    pub fn source(&mut self, name: &str, commit: &str, date: &str) {
        match self.sources.iter_mut().find(|(n, _, _)| n == name) {
            Some((_, c, d)) => {
                if c.is_empty() {
                    *c = commit.into();
                }
                if d.is_empty() {
                    *d = date.into();
                }
            }
            None => self.sources.push((name.into(), commit.into(), date.into())),
        }
    }

    /// Marks platform family `family` (`debian`) as covered only partially (a sample).
    pub fn partial(&mut self, family: &str) {
        if !self.partial.iter().any(|f| f == family) {
            self.partial.push(family.into());
        }
    }

    /// Whether a source of this name was recorded.
    pub fn has_source(&self, name: &str) -> bool {
        self.sources.iter().any(|(n, _, _)| n == name)
    }

    /// Adds an advisory and what the source says about the vulnerability.
    pub fn add(&mut self, advisory: NewAdvisory, severity: Severity, title: &str, source: &str) {
        let entry =
            self.details.entry(advisory.vuln.clone()).or_insert((severity, String::from(title), String::from(source)));
        if severity > entry.0 {
            *entry = (severity, String::from(title), String::from(source));
        }
        self.advisories.push(advisory);
    }

    /// Records a details-only source's severity and title of `id` (NVD, Red Hat's security
    /// data). They fill in only what the distributions' data leaves open (a title, or an
    /// unknown severity); among such sources, the one recorded first wins.
    pub fn fallback_details(&mut self, source: &str, id: &str, severity: Severity, title: &str) {
        self.fallbacks.entry(String::from(id)).or_default().push((String::from(source), severity, String::from(title)));
    }

    /// Number of advisories collected so far.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// Number of details-only records (severities and titles) collected so far.
    pub fn fallback_count(&self) -> usize {
        self.fallbacks.values().map(Vec::len).sum()
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Per-platform advisory counts.
    pub fn platform_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for a in &self.advisories {
            *counts.entry(a.platform.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Lays the blob out. Duplicate advisories are dropped.
    pub fn finish(mut self, built_at: &str) -> Vec<u8> {
        for (id, (severity, title, source)) in self.details.iter_mut() {
            for (fallback, fallback_severity, fallback_title) in self.fallbacks.get(id).into_iter().flatten() {
                if title.is_empty() {
                    title.clone_from(fallback_title);
                }
                if *severity == Severity::Unknown && *fallback_severity != Severity::Unknown {
                    *severity = *fallback_severity;
                    source.clone_from(fallback);
                }
            }
        }
        self.advisories.sort();
        self.advisories.dedup();
        let index: BTreeMap<&str, u32> = self.details.keys().enumerate().map(|(i, k)| (k.as_str(), i as u32)).collect();
        let mut data: Vec<u8> = Vec::new();
        let mut packages: Vec<[u32; 4]> = Vec::new();
        let mut platforms: Vec<(String, u32, u32)> = Vec::new();
        // Sorted: the advisories of one (platform, package) are adjacent.
        for group in self.advisories.chunk_by(|a, b| (&a.platform, &a.package) == (&b.platform, &b.package)) {
            let Some(first) = group.first() else { continue };
            let (platform, package) = (&first.platform, &first.package);
            // One record per fix; the vulnerabilities it fixes listed inside.
            let mut list: Vec<Advisory<'_>> = Vec::new();
            for a in group {
                // Every advisory's vulnerability has details (`add` records them).
                let Some(&vuln) = index.get(a.vuln.as_str()) else { continue };
                match list.iter_mut().find(|l| {
                    (l.fixed, l.status, l.arches, l.module, l.advisory)
                        == (a.fixed.as_str(), a.status, a.arches.as_str(), a.module.as_str(), a.advisory.as_str())
                }) {
                    Some(l) => l.vulns.push(vuln),
                    None => list.push(Advisory {
                        vulns: alloc::vec![vuln],
                        fixed: &a.fixed,
                        status: a.status,
                        arches: &a.arches,
                        module: &a.module,
                        advisory: &a.advisory,
                    }),
                }
            }
            let name_at = data.len() as u32;
            data.extend_from_slice(package.as_bytes());
            let list_at = data.len() as u32;
            let encoded = postcard::to_allocvec(&list).unwrap_or_default();
            data.extend_from_slice(&encoded);
            if platforms.last().is_none_or(|p| &p.0 != platform) {
                platforms.push((platform.clone(), packages.len() as u32, 0));
            }
            if let Some(p) = platforms.last_mut() {
                p.2 += 1;
            }
            packages.push([name_at, package.len() as u32, list_at, encoded.len() as u32]);
        }
        let mut details: Vec<[u32; 2]> = Vec::new();
        for (id, (severity, title, source)) in &self.details {
            let at = data.len() as u32;
            let encoded =
                postcard::to_allocvec(&Details { id, severity: *severity, title, source }).unwrap_or_default();
            data.extend_from_slice(&encoded);
            details.push([at, encoded.len() as u32]);
        }
        let meta = Meta {
            built_at,
            sources: self.sources.iter().map(|(n, c, d)| SourceInfo { name: n, commit: c, date: d }).collect(),
            platforms: platforms.iter().map(|(n, f, c)| PlatformRange { name: n, first: *f, count: *c }).collect(),
            partial: self.partial.iter().map(String::as_str).collect(),
        };
        let meta = postcard::to_allocvec(&meta).unwrap_or_default();
        // Sections: header, meta, packages, details, data (offsets below shift data by base).
        let meta_at = HEADER;
        let packages_at = meta_at + meta.len();
        let details_at = packages_at + packages.len() * PACKAGE_RECORD;
        let base = (details_at + details.len() * DETAIL_RECORD) as u32;
        let mut out = Vec::with_capacity(base as usize + data.len());
        out.extend_from_slice(MAGIC);
        for v in [
            SCHEMA,
            meta_at as u32,
            meta.len() as u32,
            packages_at as u32,
            packages.len() as u32,
            details_at as u32,
            details.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&meta);
        for [n, nl, l, ll] in packages {
            for v in [n + base, nl, l + base, ll] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        for [o, l] in details {
            for v in [o + base, l] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out.extend_from_slice(&data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::VulnDb;
    use super::*;

    fn adv(platform: &str, package: &str, vuln: &str, fixed: &str) -> NewAdvisory {
        NewAdvisory::new(platform, package, vuln, fixed, "")
    }

    #[test]
    fn round_trip() {
        let mut b = Builder::new();
        b.source("alpine", "abc", "2025-01-01");
        b.add(adv("alpine 3.18", "openssl", "CVE-2023-5363", "3.1.4-r0"), Severity::High, "t", "alpine");
        b.add(adv("alpine 3.18", "busybox", "CVE-2022-48174", "1.36.1-r1"), Severity::Critical, "", "nvd");
        b.add(adv("alpine 3.17", "openssl", "CVE-2023-5363", "3.0.12-r0"), Severity::Low, "", "x");
        b.add(adv("alpine 3.18", "openssl", "CVE-2023-5363", "3.1.4-r0"), Severity::High, "t", "alpine");
        let blob = b.finish("2026-11-25T00:00:00Z");
        let db = VulnDb::open(&blob).unwrap();
        assert_eq!(db.meta.platforms.len(), 2);
        let a = db.advisories("alpine 3.18", "openssl").unwrap();
        assert_eq!(a.len(), 1, "duplicates dropped");
        assert_eq!(a[0].fixed, "3.1.4-r0");
        let d = db.details(a[0].vulns[0]).unwrap();
        assert_eq!((d.id, d.severity), ("CVE-2023-5363", Severity::High), "highest severity kept");
        assert!(db.advisories("alpine 3.18", "zlib").unwrap().is_empty());
        assert!(db.advisories("debian 12", "openssl").unwrap().is_empty());
        assert!(VulnDb::open(&blob[..20]).is_err());
    }

    #[test]
    fn fallbacks_fill_only_what_is_missing() {
        let mut b = Builder::new();
        b.add(adv("alpine 3.18", "a", "CVE-1", "1-r0"), Severity::Unknown, "", "alpine");
        b.add(adv("alpine 3.18", "c", "CVE-3", "1-r0"), Severity::Unknown, "", "alpine");
        b.fallback_details("redhat", "CVE-3", Severity::Medium, "red hat three");
        b.add(adv("alpine 3.18", "b", "CVE-2", "1-r0"), Severity::Low, "vendor title", "x");
        b.fallback_details("nvd", "CVE-1", Severity::Critical, "nvd one");
        b.fallback_details("nvd", "CVE-2", Severity::Critical, "nvd two");
        b.fallback_details("redhat", "CVE-1", Severity::Low, "red hat one");
        let blob = b.finish("t");
        let db = VulnDb::open(&blob).unwrap();
        let d1 = db.details(db.advisories("alpine 3.18", "a").unwrap()[0].vulns[0]).unwrap();
        let d2 = db.details(db.advisories("alpine 3.18", "b").unwrap()[0].vulns[0]).unwrap();
        assert_eq!((d1.severity, d1.title, d1.source), (Severity::Critical, "nvd one", "nvd"));
        assert_eq!((d2.severity, d2.title, d2.source), (Severity::Low, "vendor title", "x"));
        let d3 = db.details(db.advisories("alpine 3.18", "c").unwrap()[0].vulns[0]).unwrap();
        assert_eq!((d3.severity, d3.title, d3.source), (Severity::Medium, "red hat three", "redhat"));
    }
}

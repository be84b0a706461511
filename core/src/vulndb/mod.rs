//! The vulnerability database blob, read in place.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! header   "CSVULNDB", schema u32, then (offset u32, length/count u32) of: meta, packages, details
//! meta     postcard Meta: build time, sources, platforms (each a range of the package table)
//! packages 16-byte records sorted by (platform, name): name (offset u32, len u32),
//!          advisory list (offset u32, len u32) — a postcard Vec<Advisory>
//! details  8-byte records (offset u32, len u32) of postcard Details, indexed by Advisory::vuln
//! ```
//!
//! Opening the blob reads only the header and the small meta section; a package lookup is a
//! binary search over the package table plus the decoding of that package's advisories, whose
//! strings borrow from the blob. Nothing proportional to the database is ever copied.

mod build;
pub mod platform;

pub use build::{Builder, NewAdvisory};
pub use platform::{Distro, Platform};

use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// First bytes of every database blob.
pub const MAGIC: &[u8; 8] = b"CSVULNDB";
/// Layout version; readers refuse other versions.
pub const SCHEMA: u32 = 2;
const HEADER: usize = 36;
const PACKAGE_RECORD: usize = 16;
const DETAIL_RECORD: usize = 8;

/// Where an advisory's fix stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    /// Fixed in `fixed`.
    Fixed,
    /// Affected, no fix yet.
    Affected,
    /// The distribution will not fix it.
    WillNotFix,
    /// Fix deferred.
    FixDeferred,
    /// The release is past its end of life.
    EndOfLife,
}

impl Status {
    /// Name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fixed => "fixed",
            Status::Affected => "affected",
            Status::WillNotFix => "will_not_fix",
            Status::FixDeferred => "fix_deferred",
            Status::EndOfLife => "end_of_life",
        }
    }
}

/// Severity as the report contract spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Not rated.
    Unknown,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order reports and tables list them in).
    pub const RANKED: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Unknown];

    /// Name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// A data source the database was built from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceInfo<'a> {
    /// Source name (`alpine`, `amazon`, `rocky`, `alma-osv`, …).
    pub name: &'a str,
    /// Commit or snapshot id of the data.
    pub commit: &'a str,
    /// Date of the data.
    pub date: &'a str,
}

/// A platform and its range in the package table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlatformRange<'a> {
    /// `alpine 3.18`, `amazon 2`, `rocky 9`, …
    pub name: &'a str,
    /// First package record.
    pub first: u32,
    /// Number of package records.
    pub count: u32,
}

/// The meta section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Meta<'a> {
    /// Build time (RFC 3339).
    pub built_at: &'a str,
    /// Sources.
    #[serde(borrow)]
    pub sources: Vec<SourceInfo<'a>>,
    /// Platforms, sorted by name.
    #[serde(borrow)]
    pub platforms: Vec<PlatformRange<'a>>,
    /// Platform families (`debian`, `ubuntu`) whose data is a sample or otherwise partial,
    /// not the publisher's full feed: a scan of such a platform is never called complete.
    #[serde(borrow)]
    pub partial: Vec<&'a str>,
}

/// How fully the database covers a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The publisher's full feed.
    Full,
    /// A sample or a partial feed: absent advisories say nothing.
    Partial,
    /// No data at all.
    None,
}

/// One fix for one package on one platform, and the vulnerabilities it fixes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Advisory<'a> {
    /// Indexes of the vulnerabilities' [`Details`].
    pub vulns: Vec<u32>,
    /// Fixed version (distribution's full form), empty when there is no fix.
    pub fixed: &'a str,
    /// Fix status.
    pub status: Status,
    /// Architectures the fix applies to, comma-separated; empty means all.
    pub arches: &'a str,
    /// Module stream (`name:stream`) for modular rpm packages, else empty.
    pub module: &'a str,
    /// The distribution's advisory id (`ALAS2-2023-2001`, `RLSA-2023:1234`), if any.
    pub advisory: &'a str,
}

/// What is known about a vulnerability, stored once.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Details<'a> {
    /// `CVE-…`, `GHSA-…`, or an advisory id.
    pub id: &'a str,
    /// Severity.
    pub severity: Severity,
    /// One-line title.
    pub title: &'a str,
    /// Source that rated it.
    pub source: &'a str,
}

fn corrupt(offset: usize, what: &'static str) -> Error {
    Error::new(Layer::Db, "vulndb", offset as u64, ErrorKind::Corrupt(what))
}

/// The blob (or a table of it, starting at `offset`) as a bounds-checked view.
fn view(b: &[u8], offset: usize) -> Bytes<'_> {
    Bytes::new(b, offset as u64, Layer::Db, "vulndb")
}

/// An opened database blob.
#[derive(Debug)]
pub struct VulnDb<'a> {
    blob: &'a [u8],
    /// Build time, sources, platforms.
    pub meta: Meta<'a>,
    packages: &'a [u8],
    details: &'a [u8],
}

fn section(blob: &[u8], at: usize, record: usize) -> Result<&[u8]> {
    let off = view(blob, 0).u32_le(at)? as usize;
    let count = view(blob, 0).u32_le(at + 4)? as usize;
    let len = count.checked_mul(record).ok_or(corrupt(at, "section size"))?;
    blob.get(off..off.checked_add(len).ok_or(corrupt(at, "section size"))?)
        .ok_or(corrupt(at, "section outside the blob"))
}

impl<'a> VulnDb<'a> {
    /// Opens a blob: checks the header and decodes the meta section.
    pub fn open(blob: &'a [u8]) -> Result<Self> {
        if blob.len() < HEADER || blob.get(..8) != Some(&MAGIC[..]) {
            return Err(Error::new(Layer::Db, "vulndb", 0, ErrorKind::BadMagic));
        }
        if view(blob, 0).u32_le(8)? != SCHEMA {
            return Err(Error::new(Layer::Db, "vulndb", 8, ErrorKind::Unsupported("vulnerability DB schema version")));
        }
        let meta_bytes = section(blob, 12, 1)?;
        let meta: Meta<'a> = postcard::from_bytes(meta_bytes).map_err(|_| corrupt(12, "meta section"))?;
        let packages = section(blob, 20, PACKAGE_RECORD)?;
        let details = section(blob, 28, DETAIL_RECORD)?;
        for p in &meta.platforms {
            let end = (p.first as usize).checked_add(p.count as usize).and_then(|n| n.checked_mul(PACKAGE_RECORD));
            if end.is_none_or(|end| end > packages.len()) {
                return Err(corrupt(20, "platform range outside the package table"));
            }
        }
        Ok(VulnDb { blob, meta, packages, details })
    }

    fn bytes(&self, off: u32, len: u32) -> Result<&'a [u8]> {
        view(self.blob, 0)
            .slice(off as usize, len as usize)
            .map_err(|_| corrupt(off as usize, "record outside the blob"))
    }

    /// How fully the database covers `platform` (`debian 12`).
    pub fn coverage(&self, platform: &str) -> Coverage {
        let family = platform.split(' ').next().unwrap_or(platform);
        if !self.has_platform(platform) {
            Coverage::None
        } else if self.meta.partial.contains(&family) {
            Coverage::Partial
        } else {
            Coverage::Full
        }
    }

    /// Whether the database knows `platform` at all.
    pub fn has_platform(&self, platform: &str) -> bool {
        self.meta.platforms.iter().any(|p| p.name == platform)
    }

    /// The advisories for `package` on `platform` (empty when there are none).
    pub fn advisories(&self, platform: &str, package: &str) -> Result<Vec<Advisory<'a>>> {
        let Some(range) = self.meta.platforms.iter().find(|p| p.name == platform) else { return Ok(Vec::new()) };
        // Checked by `open`: the platform's records lie inside the package table.
        let record = |i: usize| -> Result<(Bytes<'a>, usize)> {
            let at = (range.first as usize + i) * PACKAGE_RECORD;
            Ok((view(self.packages, 0).sub(at, PACKAGE_RECORD)?, at))
        };
        let (mut lo, mut hi) = (0usize, range.count as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (r, _) = record(mid)?;
            match self.bytes(r.u32_le(0)?, r.u32_le(4)?)?.cmp(package.as_bytes()) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => {
                    let (r, at) = record(mid)?;
                    let list = self.bytes(r.u32_le(8)?, r.u32_le(12)?)?;
                    return postcard::from_bytes(list).map_err(|_| corrupt(at, "advisory list"));
                }
            }
        }
        Ok(Vec::new())
    }

    /// The details of vulnerability `index`.
    pub fn details(&self, index: u32) -> Result<Details<'a>> {
        let at = (index as usize).checked_mul(DETAIL_RECORD).ok_or(corrupt(0, "vulnerability index"))?;
        let r = view(self.details, 0).sub(at, DETAIL_RECORD).map_err(|_| corrupt(at, "vulnerability index"))?;
        postcard::from_bytes(self.bytes(r.u32_le(0)?, r.u32_le(4)?)?).map_err(|_| corrupt(at, "vulnerability details"))
    }

    /// Number of vulnerabilities and of (platform, package) entries.
    pub fn counts(&self) -> (usize, usize) {
        (self.details.len() / DETAIL_RECORD, self.packages.len() / PACKAGE_RECORD)
    }
}

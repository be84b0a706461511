//! What the user chose for a scan — the same for every front end — and the small parsers the
//! front ends share (severity names, calendar days).

use super::ignore::IgnoreRule;
use crate::codec::{BuiltIn, Codecs};
use crate::vex::VexStatement;
use crate::vulndb::Severity;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

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
    /// Most bytes the scan reads from the image and the files it names (see
    /// [`crate::progress::ReadMeter`]); a scan that needs more ends incomplete.
    pub read_limit: u64,
    /// How compressed filesystem data is decoded: the built-in decoders, or faster native
    /// ones a std front end hands in.
    pub codecs: Arc<dyn Codecs>,
}

impl Settings {
    /// Defaults: everything kept, nothing ignored, a DB stale after 30 days, the default read
    /// limit.
    pub fn new(today: &str) -> Self {
        Settings {
            severities: Vec::new(),
            ignore_unfixed: false,
            ignore: Vec::new(),
            vex: Vec::new(),
            today: String::from(today),
            db_max_age_days: 30,
            read_limit: crate::progress::DEFAULT_READ_LIMIT,
            codecs: BuiltIn::shared(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_severities() {
        assert_eq!(days_between("2026-01-31", "2026-02-01"), Some(1));
        assert_eq!(days_between("2024-02-28", "2024-03-01"), Some(2));
        assert_eq!(days_between("1970-01-01", "2026-11-30"), Some(20_787));
        assert_eq!(days_between("garbage", "2026-11-30"), None);
        assert_eq!(parse_severity(" high "), Some(Severity::High));
        assert_eq!(parse_severity("severe"), None);
    }
}

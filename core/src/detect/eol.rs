//! When each release stopped getting security fixes from its publisher: the end of standard
//! or LTS support (Debian LTS, Ubuntu standard support, Oracle premier support, Alpine's
//! branch end), as published on the distributions' release pages. Releases not listed (still
//! supported beyond the table's horizon, or not reliably dated: SUSE, Photon) give no warning.

use crate::os::OsInfo;

/// `(family, release, last day of support)`; release as the vulnerability DB names it.
const END_OF_LIFE: &[(&str, &str, &str)] = &[
    ("alpine", "3.2", "2017-05-01"),
    ("alpine", "3.3", "2017-11-01"),
    ("alpine", "3.4", "2018-05-01"),
    ("alpine", "3.5", "2018-11-01"),
    ("alpine", "3.6", "2019-05-01"),
    ("alpine", "3.7", "2019-11-01"),
    ("alpine", "3.8", "2020-05-01"),
    ("alpine", "3.9", "2020-11-01"),
    ("alpine", "3.10", "2021-05-01"),
    ("alpine", "3.11", "2021-11-01"),
    ("alpine", "3.12", "2022-05-01"),
    ("alpine", "3.13", "2022-11-01"),
    ("alpine", "3.14", "2023-05-01"),
    ("alpine", "3.15", "2023-11-01"),
    ("alpine", "3.16", "2024-05-23"),
    ("alpine", "3.17", "2024-11-22"),
    ("alpine", "3.18", "2025-05-09"),
    ("alpine", "3.19", "2025-11-01"),
    ("alpine", "3.20", "2026-04-01"),
    ("alpine", "3.21", "2026-11-01"),
    ("alpine", "3.22", "2027-05-01"),
    ("amazon", "1", "2023-12-31"),
    ("amazon", "2", "2026-06-30"),
    ("amazon", "2023", "2029-06-30"),
    ("debian", "7", "2018-05-31"),
    ("debian", "8", "2020-06-30"),
    ("debian", "9", "2022-06-30"),
    ("debian", "10", "2024-06-30"),
    ("debian", "11", "2026-08-31"),
    ("debian", "12", "2028-06-30"),
    ("ubuntu", "12.04", "2017-04-28"),
    ("ubuntu", "14.04", "2019-04-25"),
    ("ubuntu", "16.04", "2021-04-30"),
    ("ubuntu", "18.04", "2023-05-31"),
    ("ubuntu", "20.04", "2025-05-31"),
    ("ubuntu", "21.04", "2022-01-20"),
    ("ubuntu", "21.10", "2022-07-14"),
    ("ubuntu", "22.04", "2027-06-01"),
    ("ubuntu", "22.10", "2023-07-20"),
    ("ubuntu", "23.04", "2024-01-25"),
    ("ubuntu", "23.10", "2024-07-11"),
    ("ubuntu", "24.04", "2029-05-31"),
    ("ubuntu", "24.10", "2025-07-10"),
    ("ubuntu", "25.04", "2026-01-15"),
    ("centos", "6", "2020-11-30"),
    ("centos", "7", "2024-06-30"),
    ("centos", "8", "2021-12-31"),
    ("rhel", "6", "2020-11-30"),
    ("rhel", "7", "2024-06-30"),
    ("rhel", "8", "2029-05-31"),
    ("rhel", "9", "2032-05-31"),
    ("rocky", "8", "2029-05-31"),
    ("rocky", "9", "2032-05-31"),
    ("alma", "8", "2029-03-01"),
    ("alma", "9", "2032-05-31"),
    ("oracle", "5", "2017-06-30"),
    ("oracle", "6", "2021-03-01"),
    ("oracle", "7", "2024-12-31"),
    ("oracle", "8", "2029-07-31"),
    ("oracle", "9", "2032-06-30"),
    ("opensuse", "42.3", "2019-07-01"),
    ("opensuse", "15.0", "2019-12-03"),
    ("opensuse", "15.1", "2021-02-02"),
    ("opensuse", "15.2", "2022-01-04"),
    ("opensuse", "15.3", "2022-12-31"),
    ("opensuse", "15.4", "2023-12-07"),
];

/// The last day (`YYYY-MM-DD`) of publisher support for the release of `os`, when known.
pub fn end_of_life(os: &OsInfo) -> Option<&'static str> {
    let platform = super::platform(os)?;
    // The release as the DB platform spells it ("alpine 3.18" → "3.18", "redhat 8" → "8").
    let release = platform.rsplit(' ').next()?;
    let family = os.family.as_str();
    END_OF_LIFE.iter().find(|(f, r, _)| *f == family && *r == release).map(|(_, _, date)| *date)
}

/// Whether `os` was past its end of life on `today` (`YYYY-MM-DD`); the date when it was.
pub fn past_end_of_life(os: &OsInfo, today: &str) -> Option<&'static str> {
    end_of_life(os).filter(|&date| date < today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(family: &str, version: &str) -> OsInfo {
        OsInfo { family: family.into(), id: family.into(), version_id: Some(version.into()), ..OsInfo::default() }
    }

    #[test]
    fn dates_by_release() {
        assert_eq!(end_of_life(&os("alpine", "3.18.4")), Some("2025-05-09"));
        assert_eq!(end_of_life(&os("centos", "8.5.2111")), Some("2021-12-31"));
        assert_eq!(end_of_life(&os("rhel", "8.9")), Some("2029-05-31"));
        assert_eq!(end_of_life(&os("amazon", "2018.03")), Some("2023-12-31"), "Amazon Linux AMI is 1");
        assert_eq!(end_of_life(&os("debian", "12.4")), Some("2028-06-30"));
        let mut leap = os("opensuse", "15.2");
        leap.id = "opensuse-leap".into();
        assert_eq!(end_of_life(&leap), Some("2022-01-04"));
        leap.id = "opensuse-tumbleweed".into();
        assert_eq!(end_of_life(&leap), None, "rolling release");
        assert_eq!(past_end_of_life(&os("alpine", "3.18.0"), "2025-05-10"), Some("2025-05-09"));
        assert_eq!(past_end_of_life(&os("alpine", "3.18.0"), "2025-05-09"), None, "the last day is supported");
        assert_eq!(end_of_life(&os("photon", "5.0")), None);
    }
}

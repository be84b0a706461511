//! Debian versions `[epoch:]upstream[-revision]`, compared as dpkg does (lib/dpkg/version.c,
//! Debian policy §5.6.12): letters sort before non-letters, `~` before everything, even the
//! end of the string; digit runs compare numerically.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use core::cmp::Ordering;

/// A Debian version, borrowed from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    /// Epoch (0 when absent).
    pub epoch: u32,
    /// Upstream version.
    pub upstream: &'a str,
    /// Debian revision ("" when absent, which compares like "0").
    pub revision: &'a str,
}

/// Why a version string is not a valid Debian version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// The epoch is not a non-negative number.
    Epoch,
    /// The upstream version is empty.
    EmptyUpstream,
    /// The upstream version does not start with a digit.
    UpstreamStart,
    /// A character not allowed in the upstream version.
    UpstreamChar,
    /// A character not allowed in the revision (or an empty revision after `-`).
    Revision,
}

impl<'a> Version<'a> {
    /// Splits a version into its parts without judging them (as dpkg compares even invalid
    /// versions found in the wild). Leading and trailing spaces are ignored.
    pub fn split(s: &'a str) -> Self {
        let s = s.trim();
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => (e.parse().unwrap_or(0), rest),
            None => (0, s),
        };
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        Version { epoch, upstream, revision }
    }

    /// Parses and validates: numeric epoch, non-empty upstream starting with a digit, only
    /// alphanumerics and `.+~-:` in upstream, alphanumerics and `.+~_` in a non-empty revision.
    /// dpkg itself errors on the first three and warns on bad characters; `_` in revisions
    /// (RPM-style `4.el6.x86_64`, found in third-party packages) is accepted, as go-deb-version
    /// does.
    pub fn parse(s: &'a str) -> Result<Self, Invalid> {
        let s = s.trim();
        if let Some((e, _)) = s.split_once(':') {
            if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) || e.parse::<u32>().is_err() {
                return Err(Invalid::Epoch);
            }
        }
        let has_revision = s.split_once(':').map_or(s, |(_, r)| r).contains('-');
        let v = Version::split(s);
        if v.upstream.is_empty() {
            return Err(Invalid::EmptyUpstream);
        }
        if !v.upstream.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return Err(Invalid::UpstreamStart);
        }
        if !v.upstream.bytes().all(|c| c.is_ascii_alphanumeric() || b".+~-:".contains(&c)) {
            return Err(Invalid::UpstreamChar);
        }
        if has_revision
            && (v.revision.is_empty() || !v.revision.bytes().all(|c| c.is_ascii_alphanumeric() || b".+~_".contains(&c)))
        {
            return Err(Invalid::Revision);
        }
        Ok(v)
    }

    /// Compares two versions: epoch, then upstream, then revision.
    pub fn compare(&self, other: &Version<'_>) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

/// Compares two version strings like `dpkg --compare-versions`.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::split(a).compare(&Version::split(b))
}

/// Sort weight of a non-digit character (0 for the end of the string).
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        // Other characters after letters: 256 plus their code, at most 511.
        Some(c) => i32::from(u16::from(c) | 0x100),
    }
}

fn verrevcmp(mut a: &[u8], mut b: &[u8]) -> Ordering {
    let digit = |s: &[u8]| s.first().is_some_and(u8::is_ascii_digit);
    while !a.is_empty() || !b.is_empty() {
        while (!a.is_empty() && !digit(a)) || (!b.is_empty() && !digit(b)) {
            let (ac, bc) = (order(a.first().copied()), order(b.first().copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
        }
        while let Some((b'0', rest)) = a.split_first() {
            a = rest;
        }
        while let Some((b'0', rest)) = b.split_first() {
            b = rest;
        }
        let mut first_diff = Ordering::Equal;
        while let (Some((x, a_rest)), Some((y, b_rest))) = (a.split_first(), b.split_first()) {
            if !x.is_ascii_digit() || !y.is_ascii_digit() {
                break;
            }
            if first_diff == Ordering::Equal {
                first_diff = x.cmp(y);
            }
            (a, b) = (a_rest, b_rest);
        }
        if digit(a) {
            return Ordering::Greater;
        }
        if digit(b) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn policy_examples() {
        assert_eq!(compare("1.0~rc1-1", "1.0-1"), Less);
        assert_eq!(compare("1:0.1", "2.0"), Greater);
        assert_eq!(compare("1.0", "1.0-0"), Equal);
        assert_eq!(compare("1.0a", "1.0+"), Less);
        assert!(Version::parse("A:1").is_err());
        assert!(Version::parse("1.2-").is_err());
    }
}

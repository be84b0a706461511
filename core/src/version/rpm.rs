//! RPM versions: `rpmvercmp` (rpm's lib/rpmvercmp.c semantics, including `~` sorting before
//! anything and `^` sorting after the base version but before anything else) and
//! `[epoch:]version[-release]` comparison.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use core::cmp::Ordering;

/// Compares two version (or release) strings like rpm's `rpmvercmp`.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    let (mut one, mut two) = (a.as_bytes(), b.as_bytes());
    if one == two {
        return Ordering::Equal;
    }
    let separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while one.first().is_some_and(|&c| separator(c)) {
            one = rest(one, 1);
        }
        while two.first().is_some_and(|&c| separator(c)) {
            two = rest(two, 1);
        }
        if one.is_empty() && two.is_empty() {
            return Ordering::Equal;
        }
        // Tilde sorts before everything, even the end of the string.
        if one.first() == Some(&b'~') || two.first() == Some(&b'~') {
            if one.first() != Some(&b'~') {
                return Ordering::Greater;
            }
            if two.first() != Some(&b'~') {
                return Ordering::Less;
            }
            one = rest(one, 1);
            two = rest(two, 1);
            continue;
        }
        // Caret sorts after the end of the string but before anything else.
        if one.first() == Some(&b'^') || two.first() == Some(&b'^') {
            if one.is_empty() {
                return Ordering::Less;
            }
            if two.is_empty() {
                return Ordering::Greater;
            }
            if one.first() != Some(&b'^') {
                return Ordering::Greater;
            }
            if two.first() != Some(&b'^') {
                return Ordering::Less;
            }
            one = rest(one, 1);
            two = rest(two, 1);
            continue;
        }
        if one.is_empty() || two.is_empty() {
            break;
        }
        let numeric = one.first().is_some_and(u8::is_ascii_digit);
        let class = |c: &u8| if numeric { c.is_ascii_digit() } else { c.is_ascii_alphabetic() };
        let (mut seg1, tail1) = split(one, one.iter().take_while(|c| class(c)).count());
        let (mut seg2, tail2) = split(two, two.iter().take_while(|c| class(c)).count());
        one = tail1;
        two = tail2;
        if seg2.is_empty() {
            // Different segment types: a number is newer than letters.
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        if numeric {
            seg1 = trim_zeros(seg1);
            seg2 = trim_zeros(seg2);
            match seg1.len().cmp(&seg2.len()) {
                Ordering::Equal => {}
                longer => return longer,
            }
        }
        match seg1.cmp(seg2) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    // Whichever string has something left is newer.
    match (one.is_empty(), two.is_empty()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    rest(s, s.iter().take_while(|&&c| c == b'0').count())
}

/// `s` without its first `n` bytes (empty when it is shorter).
fn rest(s: &[u8], n: usize) -> &[u8] {
    s.get(n..).unwrap_or_default()
}

/// `s` split after `n` bytes (all of it first when it is shorter).
fn split(s: &[u8], n: usize) -> (&[u8], &[u8]) {
    s.split_at_checked(n).unwrap_or((s, &[]))
}

/// An RPM `[epoch:]version[-release]`, borrowed from its text, split as rpm's `parseEVR` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evr<'a> {
    /// Epoch digits; `None` when absent (compares as `0`).
    pub epoch: Option<&'a str>,
    /// Version.
    pub version: &'a str,
    /// Release, when there is a `-` (possibly empty).
    pub release: Option<&'a str>,
}

impl<'a> Evr<'a> {
    /// Splits `[epoch:]version[-release]`: an epoch is the leading digits when a `:` follows
    /// them (`:1` has epoch `0`); the release is what follows the last `-`.
    pub fn parse(s: &'a str) -> Self {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        // The digits are ASCII, so `digits` and `digits + 1` (past the `:`) are char boundaries.
        let after_colon = s.get(digits.saturating_add(1)..);
        let (epoch, rest) = match (s.as_bytes().get(digits), s.get(..digits), after_colon) {
            (Some(b':'), Some(epoch), Some(rest)) => (Some(if digits == 0 { "0" } else { epoch }), rest),
            _ => (None, s),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r)),
            None => (rest, None),
        };
        Evr { epoch, version, release }
    }

    /// Compares like rpm 4.18's `rpmverCmp` (what `rpm.vercmp` answers): epoch (missing =
    /// `0`), version, then release; when only one side has a release, that side is newer.
    pub fn compare(&self, other: &Evr<'_>) -> Ordering {
        vercmp(self.epoch.unwrap_or("0"), other.epoch.unwrap_or("0"))
            .then_with(|| vercmp(self.version, other.version))
            .then_with(|| match (self.release, other.release) {
                (Some(a), Some(b)) => vercmp(a, b),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => Ordering::Equal,
            })
    }
}

/// Compares two `[epoch:]version[-release]` strings.
pub fn compare_evr(a: &str, b: &str) -> Ordering {
    Evr::parse(a).compare(&Evr::parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn tilde_and_caret() {
        assert_eq!(vercmp("1.0~rc1", "1.0"), Less);
        assert_eq!(vercmp("1.0^git1", "1.0"), Greater);
        assert_eq!(vercmp("1.0^git1", "1.0.1"), Less);
        assert_eq!(vercmp("1.0^", "1.0"), Greater);
        assert_eq!(vercmp("010", "10"), Equal);
        assert_eq!(vercmp("a", "1"), Less);
    }

    #[test]
    fn epochs() {
        assert_eq!(compare_evr("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(compare_evr("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(compare_evr("1.0", "1.0-5"), Less);
        assert_eq!(compare_evr("2", "2:"), Less);
        assert_eq!(compare_evr("01:1", "1:1"), Equal);
    }
}

//! Alpine package versions, compared as apk-tools does (src/version.c):
//! `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}`, read as a sequence of typed
//! tokens; pre-release suffixes (`_alpha`, `_beta`, `_pre`, `_rc`) sort before the bare
//! version, post-release ones (`_cvs`, `_svn`, `_git`, `_hg`, `_p`) after it; digit runs with a
//! leading zero compare as strings.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use core::cmp::Ordering;

/// Token types, in the order they may follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks: pre-release below `NONE`, post-release above.
const SUFFIXES: [(&[u8], u8); 9] = [
    (b"alpha", 1),
    (b"beta", 2),
    (b"pre", 3),
    (b"rc", 4),
    (b"cvs", 6),
    (b"svn", 7),
    (b"git", 8),
    (b"hg", 9),
    (b"p", 10),
];
const SUFFIX_NONE: u8 = 5;

#[derive(Debug, Clone, Copy)]
struct State<'a> {
    token: Token,
    suffix: u8,
    number: u64,
    value: &'a [u8],
    rest: &'a [u8],
}

impl<'a> State<'a> {
    fn first(s: &'a [u8]) -> Self {
        let mut st = State { token: Token::InitialDigit, suffix: 0, number: 0, value: &[], rest: s };
        st.digits();
        st
    }

    /// Takes the `n` bytes at the front of the rest as the token's value.
    fn take(&mut self, n: usize) {
        (self.value, self.rest) = self.rest.split_at_checked(n).unwrap_or((self.rest, &[]));
    }

    /// Drops `n` bytes (a separator or a prefix) from the front of the rest.
    fn skip(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    fn digits(&mut self) {
        let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        self.take(n);
        self.number =
            self.value.iter().fold(0u64, |acc, &c| acc.wrapping_mul(10).wrapping_add(u64::from(c.wrapping_sub(b'0'))));
        if n == 0 {
            self.token = Token::Invalid;
        }
    }

    fn next(&mut self) {
        let Some(&c) = self.rest.first() else {
            self.token = Token::End;
            return;
        };
        let t = self.token;
        match c {
            b'a'..=b'z' if t <= Token::Digit => {
                self.take(1);
                self.token = Token::Letter;
            }
            b'.' | b'0'..=b'9' => {
                if c == b'.' {
                    if t > Token::Digit {
                        self.token = Token::Invalid;
                        return;
                    }
                    self.skip(1);
                }
                self.token = match t {
                    Token::InitialDigit | Token::Digit => Token::Digit,
                    Token::Suffix => Token::SuffixNo,
                    _ => {
                        self.token = Token::Invalid;
                        return;
                    }
                };
                self.digits();
            }
            b'_' if t <= Token::SuffixNo => {
                self.skip(1);
                self.take(self.rest.iter().take_while(|c| c.is_ascii_lowercase()).count());
                match SUFFIXES.iter().find(|(name, _)| *name == self.value) {
                    Some(&(_, rank)) => {
                        self.suffix = rank;
                        self.token = Token::Suffix;
                    }
                    None => self.token = Token::Invalid,
                }
            }
            b'~' if t < Token::CommitHash => {
                self.skip(1);
                let n = self.rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
                self.take(n);
                self.token = if n == 0 { Token::Invalid } else { Token::CommitHash };
            }
            b'-' if t < Token::RevisionNo && self.rest.starts_with(b"-r") => {
                self.skip(2);
                self.token = Token::RevisionNo;
                self.digits();
            }
            _ => self.token = Token::Invalid,
        }
    }

    /// Compares two tokens of the same type.
    fn cmp_value(&self, other: &State<'_>) -> Ordering {
        match self.token {
            Token::Digit if self.value.first() == Some(&b'0') || other.value.first() == Some(&b'0') => {
                self.value.cmp(other.value)
            }
            Token::Digit | Token::InitialDigit | Token::SuffixNo | Token::RevisionNo => self.number.cmp(&other.number),
            Token::Letter => self.value.first().cmp(&other.value.first()),
            Token::Suffix => self.suffix.cmp(&other.suffix),
            _ => self.value.cmp(other.value),
        }
    }
}

/// Whether `v` is a valid apk version.
pub fn validate(v: &str) -> bool {
    let mut t = State::first(v.as_bytes());
    while t.token < Token::End {
        t.next();
    }
    t.token == Token::End
}

fn compare_fuzzy(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut ta, mut tb) = (State::first(a.as_bytes()), State::first(b.as_bytes()));
    while ta.token == tb.token && ta.token < Token::End {
        match ta.cmp_value(&tb) {
            Ordering::Equal => {}
            other => return other,
        }
        ta.next();
        tb.next();
    }
    if ta.token == tb.token || (fuzzy && tb.token == Token::End) {
        return Ordering::Equal;
    }
    // Equal so far: the longer version is newer, unless what follows is a pre-release suffix.
    if ta.token == Token::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.token == Token::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    tb.token.cmp(&ta.token)
}

/// Compares two apk versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_fuzzy(a, b, false)
}

/// apk's fuzzy match (`~`): `a` equals `b` or starts with all of `b`'s components
/// (`3.6.9 ~ 3.6`).
pub fn fuzzy_equal(a: &str, b: &str) -> bool {
    compare_fuzzy(a, b, true) == Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn suffixes_and_revisions() {
        assert_eq!(compare("1.0_rc1", "1.0"), Less);
        assert_eq!(compare("1.0_p1", "1.0"), Greater);
        assert_eq!(compare("1.0-r1", "1.0-r10"), Less);
        assert_eq!(compare("3.1.2-r0", "3.1.4-r0"), Less);
        assert!(validate("0.1_pre2~1234abcd"));
        assert!(!validate("0.1_foobar"));
        assert!(fuzzy_equal("3.6.9", "3.6"));
        assert!(!fuzzy_equal("3.8", "3.8.1"));
    }
}

//! Parsers for os-release (freedesktop.org `os-release(5)`) and the older release files.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::OsInfo;
use alloc::string::String;
use alloc::vec::Vec;
use nom::bytes::complete::take_while1;
use nom::character::complete::{char, space0};
use nom::combinator::rest;
use nom::sequence::{delimited, separated_pair};
use nom::{IResult, Parser};

/// The kind of a non-os-release release file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseFile {
    /// `NAME release VERSION (CODENAME)`: redhat-release and its siblings, system-release.
    RedHat,
    /// `/etc/alpine-release`: the version alone.
    Alpine,
    /// `/etc/debian_version`: the version alone.
    Debian,
    /// `/etc/lsb-release`: `DISTRIB_ID=…` lines.
    Lsb,
}

/// Calls `each(key, value)` for every assignment in os-release syntax: `KEY=value`, values
/// optionally in double quotes (with `\"`, `\\`, `` \` ``, `\$` escapes) or single quotes;
/// `#` comments and blank or malformed lines are skipped.
pub fn parse_os_release(text: &str, mut each: impl FnMut(&str, String)) {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = assignment(line) else { continue };
        each(key, unquote(raw.trim()));
    }
}

/// `KEY=value`: a key of letters, digits and underscores (blanks around it allowed), `=`, and
/// the raw value.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let key = delimited(space0, take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'), space0);
    let parsed: IResult<&str, (&str, &str)> = separated_pair(key, char('='), rest).parse(line);
    parsed.ok().map(|(_, kv)| kv)
}

fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            },
            (_, c) => out.push(c),
        }
    }
    out
}

/// The report family for a distribution `ID`.
pub fn family_of(id: &str) -> String {
    let id = id.to_ascii_lowercase();
    let family = match id.as_str() {
        "almalinux" => "alma",
        "amzn" => "amazon",
        "ol" => "oracle",
        "rhel" | "redhat" => "rhel",
        "sles" | "sles_sap" | "sle_hpc" | "sle-micro" | "sl-micro" | "suse" => "suse",
        "cbl-mariner" => "mariner",
        s if s.starts_with("opensuse") => "opensuse",
        s => return String::from(s),
    };
    String::from(family)
}

/// The [`OsInfo`] described by os-release text read from `source`.
pub fn from_os_release(text: &str, source: &'static str) -> OsInfo {
    let mut info = OsInfo { source, ..OsInfo::default() };
    let mut ubuntu_codename = None;
    parse_os_release(text, |key, value| {
        let set = Some(value.clone()).filter(|v| !v.is_empty());
        match key {
            "ID" => info.id = value,
            "NAME" => info.name = set,
            "PRETTY_NAME" => info.pretty_name = set,
            "VERSION" => info.version = set,
            "VERSION_ID" => info.version_id = set,
            "VERSION_CODENAME" => info.codename = set,
            "UBUNTU_CODENAME" => ubuntu_codename = set,
            _ => {}
        }
    });
    if info.codename.is_none() {
        info.codename = ubuntu_codename;
    }
    info.family = family_of(&info.id);
    info
}

/// Family of a `NAME release …` line, from the distribution name it starts with.
fn family_from_name(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    Some(if n.starts_with("centos") {
        "centos"
    } else if n.starts_with("red hat") {
        "rhel"
    } else if n.starts_with("rocky") {
        "rocky"
    } else if n.starts_with("almalinux") {
        "alma"
    } else if n.starts_with("oracle") {
        "oracle"
    } else if n.starts_with("fedora") {
        "fedora"
    } else if n.starts_with("amazon") {
        "amazon"
    } else if n.starts_with("cbl-mariner") {
        "mariner"
    } else if n.starts_with("scientific") {
        "scientific"
    } else {
        return None;
    })
}

/// The [`OsInfo`] described by a release file of `kind` read from `source`, if it names a
/// known distribution.
pub fn from_release_file(kind: ReleaseFile, text: &str, source: &'static str) -> Option<OsInfo> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let plain = |family: &str, name: &str| OsInfo {
        family: String::from(family),
        id: String::from(family),
        name: Some(String::from(name)),
        version_id: Some(String::from(first)),
        source,
        ..OsInfo::default()
    };
    match kind {
        ReleaseFile::Alpine => Some(plain("alpine", "Alpine Linux")),
        ReleaseFile::Debian => Some(plain("debian", "Debian GNU/Linux")),
        ReleaseFile::Lsb => {
            let mut info = OsInfo { source, ..OsInfo::default() };
            parse_os_release(text, |key, value| match key {
                "DISTRIB_ID" => info.id = value.to_ascii_lowercase(),
                "DISTRIB_RELEASE" => info.version_id = Some(value),
                "DISTRIB_CODENAME" => info.codename = Some(value),
                "DISTRIB_DESCRIPTION" => info.pretty_name = Some(value),
                _ => {}
            });
            info.family = family_of(&info.id);
            (!info.id.is_empty()).then_some(info)
        }
        ReleaseFile::RedHat => {
            // "CentOS Linux release 7.9.2009 (Core)", "Amazon Linux release 2 (Karoo)".
            let (name, rest) = first.split_once(" release ")?;
            let family = family_from_name(name)?;
            let mut words: Vec<&str> = rest.split_whitespace().collect();
            let codename = match words.last() {
                Some(w) if w.ends_with(')') => {
                    let start = rest.rfind('(')?;
                    // `(` is one byte: what follows it starts on a character boundary.
                    let c = rest.get(start.saturating_add(1)..)?.trim_end_matches(')');
                    words.retain(|w| !w.starts_with('(') && !w.ends_with(')'));
                    Some(String::from(c))
                }
                _ => None,
            };
            Some(OsInfo {
                family: String::from(family),
                id: String::from(family),
                name: Some(String::from(name)),
                pretty_name: Some(String::from(first)),
                version_id: words.first().map(|w| String::from(*w)),
                codename,
                source,
                ..OsInfo::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quoting() {
        let mut got = Vec::new();
        parse_os_release("# c\nNAME=\"Foo \\\"Bar\\\"\"\nID=foo\nX='a b'\nbad line\n", |k, v| {
            got.push((String::from(k), v))
        });
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("NAME", "Foo \"Bar\""), ("ID", "foo"), ("X", "a b")]);
    }

    #[test]
    fn redhat_style_lines() {
        let c = from_release_file(ReleaseFile::RedHat, "CentOS Linux release 7.9.2009 (Core)\n", "x").unwrap();
        assert_eq!(
            (c.family.as_str(), c.version_id.as_deref(), c.codename.as_deref()),
            ("centos", Some("7.9.2009"), Some("Core"))
        );
        let a = from_release_file(ReleaseFile::RedHat, "Amazon Linux release 2 (Karoo)", "x").unwrap();
        assert_eq!((a.family.as_str(), a.version_id.as_deref()), ("amazon", Some("2")));
        let ami = from_release_file(ReleaseFile::RedHat, "Amazon Linux AMI release 2018.03", "x").unwrap();
        assert_eq!(ami.version_id.as_deref(), Some("2018.03"));
        assert!(from_release_file(ReleaseFile::RedHat, "garbage", "x").is_none());
    }
}

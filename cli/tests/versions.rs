//! Version comparison against every table in `../shared/testdata-real/vercmp` (upstream test
//! vectors of rpm, dpkg, apk-tools and the Go/claircore ports), printing the count per table.
//! The randomized differential tests against the real `dpkg` and `rpm` tools live in
//! `versions_differential.rs`.

mod common;

use coldscan_core::version::{apk, dpkg, rpm};
use common::*;
use std::cmp::Ordering;
use std::path::Path;

fn sign(o: Ordering) -> i32 {
    o as i32
}

/// Rows of a tab-separated table (comment lines and blank lines skipped).
fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Checks `check(row)` on every row of `table`; prints and asserts the pass count.
fn table(dir: &Path, name: &str, check: impl Fn(&[String]) -> bool) {
    let all = rows(&dir.join(name));
    let failed: Vec<_> = all.iter().filter(|r| !check(r)).collect();
    eprintln!("{name}: {}/{} rows agree", all.len() - failed.len(), all.len());
    assert!(failed.is_empty(), "{name}: {} rows disagree, e.g. {:?}", failed.len(), &failed[..failed.len().min(5)]);
}

fn expected(s: &str) -> i32 {
    s.trim().parse().unwrap()
}

/// claircore compares whole `name-[epoch:]version-release[.arch]` strings: name, then EVR,
/// then architecture.
fn split_nevra(s: &str) -> (&str, &str, &str) {
    const ARCHES: [&str; 8] = ["noarch", "x86_64", "aarch64", "riscv", "i686", "ppc64le", "s390x", "src"];
    let (rest, arch) = match s.rsplit_once('.') {
        Some((r, a)) if ARCHES.contains(&a) => (r, a),
        _ => (s, ""),
    };
    // Three dash-separated fields or more: name-version-release.
    let dashes = rest.matches('-').count();
    if dashes >= 2 {
        let (nv, _) = rest.rsplit_once('-').unwrap();
        let (name, _) = nv.rsplit_once('-').unwrap();
        (name, &rest[name.len() + 1..], arch)
    } else {
        ("", rest, arch)
    }
}

#[test]
fn rpm_tables() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("vercmp/rpm");
    let vercmp = |r: &[String]| sign(rpm::vercmp(&r[0], &r[1])) == expected(&r[2]);
    table(&dir, "rpm-rpmvercmp.at.tsv", vercmp);
    table(&dir, "claircore-rpmvercmp.tsv", vercmp);
    table(&dir, "go-rpm-version-rpmvercmp.tsv", vercmp);
    table(&dir, "go-rpm-version-evr.tsv", |r| sign(rpm::compare_evr(&r[0], &r[1])) == expected(&r[2]));
    table(&dir, "claircore-compare.tsv", |r| {
        let (an, aevr, aarch) = split_nevra(&r[0]);
        let (bn, bevr, barch) = split_nevra(&r[1]);
        let o = an.cmp(bn).then_with(|| rpm::compare_evr(aevr, bevr)).then_with(|| aarch.cmp(barch));
        sign(o) == expected(&r[2])
    });
}

#[test]
fn dpkg_tables() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("vercmp/dpkg");
    let cmp = |r: &[String]| sign(dpkg::compare(&r[0], &r[1])) == expected(&r[2]);
    table(&dir, "dpkg-Dpkg_Version.t.tsv", cmp);
    table(&dir, "go-deb-version.tsv", cmp);
    table(&dir, "go-deb-version-validity.tsv", |r| dpkg::Version::parse(&r[0]).is_ok() == (expected(&r[1]) == 1));
}

#[test]
fn apk_tables() {
    let Some(data) = shared_testdata() else { return };
    let dir = data.join("vercmp/apk");
    let cmp = |r: &[String]| sign(apk::compare(&r[0], &r[1])) == expected(&r[2]);
    table(&dir, "apk-tools-version.tsv", cmp);
    table(&dir, "go-apk-version.tsv", cmp);
    table(&dir, "apk-tools-version-validity.tsv", |r| apk::validate(&r[0]) == (expected(&r[1]) == 1));
    table(&dir, "apk-tools-version-fuzzy.tsv", |r| {
        let (a, op, b) = (&r[0], r[1].as_str(), &r[2]);
        let fuzzy = apk::fuzzy_equal(a, b);
        match op {
            "~" => fuzzy,
            "!~" => !fuzzy,
            "<~" => fuzzy || apk::compare(a, b) == Ordering::Less,
            ">~" => fuzzy || apk::compare(a, b) == Ordering::Greater,
            other => panic!("unknown operator {other}"),
        }
    });
}

/// apk-tools' own `test/unit/version.data`: `a OP b` comparisons, bare valid versions, and
/// `!invalid` versions.
#[test]
fn apk_tools_version_data() {
    let Some(data) = shared_testdata() else { return };
    let text = std::fs::read_to_string(data.join("vercmp/apk/apk-tools-version.data")).unwrap();
    let (mut total, mut failed) = (0, Vec::new());
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ok = match fields.as_slice() {
            [] => continue,
            [a, op, b] => match *op {
                "<" => apk::compare(a, b) == Ordering::Less,
                ">" => apk::compare(a, b) == Ordering::Greater,
                "=" => apk::compare(a, b) == Ordering::Equal,
                "~" => apk::fuzzy_equal(a, b),
                "!~" => !apk::fuzzy_equal(a, b),
                "<~" => apk::fuzzy_equal(a, b) || apk::compare(a, b) == Ordering::Less,
                ">~" => apk::fuzzy_equal(a, b) || apk::compare(a, b) == Ordering::Greater,
                other => panic!("unknown operator {other}"),
            },
            [v] => match v.strip_prefix('!') {
                Some(invalid) => !apk::validate(invalid),
                None => apk::validate(v),
            },
            other => panic!("unexpected line {other:?}"),
        };
        total += 1;
        if !ok {
            failed.push(line.to_string());
        }
    }
    eprintln!("apk-tools-version.data: {}/{total} lines agree", total - failed.len());
    assert!(failed.is_empty(), "{failed:?}");
}

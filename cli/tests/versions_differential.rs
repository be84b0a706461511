//! Randomized differential tests: ≥ 10,000 generated version pairs each, compared by
//! coldscan and by the distributions' own tools — `dpkg --compare-versions`, and rpm 4.18's
//! Lua `rpm.vercmp` (epoch:version-release parsed and compared with `rpmvercmp`; all pairs
//! evaluated in one `rpm --eval` run).

mod common;

use coldscan_core::version::{dpkg, rpm};
use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

const PAIRS: usize = 10_000;

/// Pieces that make versions interesting: numbers with and without leading zeros, letters,
/// pre/post-release words, separators.
fn piece(rng: &mut fastrand::Rng, separators: &[&str]) -> String {
    match rng.u8(0..10) {
        0..=3 => ["0", "1", "2", "9", "10", "01", "001", "99", "100", "20240101"][rng.usize(0..10)].to_string(),
        4..=5 => ["a", "b", "z", "rc", "alpha", "beta", "p", "el", "fc", "git"][rng.usize(0..10)].to_string(),
        _ => separators[rng.usize(0..separators.len())].to_string(),
    }
}

/// A version built from pieces, starting with a digit.
fn version(rng: &mut fastrand::Rng, separators: &[&str]) -> String {
    let mut v = rng.u8(0..10).to_string();
    for _ in 0..rng.usize(0..6) {
        v.push_str(&piece(rng, separators));
    }
    v
}

/// A second version: often a small edit of the first, so that near-equal pairs are common.
fn partner(rng: &mut fastrand::Rng, a: &str, separators: &[&str]) -> String {
    match rng.u8(0..10) {
        0..=2 => version(rng, separators),
        3 => a.to_string(),
        4..=6 => {
            let cut = rng.usize(1..=a.len());
            format!("{}{}", &a[..cut], piece(rng, separators))
        }
        _ => format!("{a}{}", piece(rng, separators)),
    }
}

fn sign(o: Ordering) -> i32 {
    o as i32
}

#[test]
fn dpkg_compare_versions_agrees() {
    if Command::new("dpkg").arg("--version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but dpkg is not installed");
        eprintln!("SKIP: dpkg is not installed");
        return;
    }
    let mut rng = fastrand::Rng::with_seed(0xC01D_5CA4);
    let seps = [".", "+", "~", "~", "."];
    let with_parts = |rng: &mut fastrand::Rng, upstream: String| {
        let epoch = if rng.u8(0..5) == 0 { format!("{}:", rng.u8(0..3)) } else { String::new() };
        let revision = if rng.bool() { format!("-{}", version(rng, &seps)) } else { String::new() };
        format!("{epoch}{upstream}{revision}")
    };
    let mut pairs = Vec::with_capacity(PAIRS);
    while pairs.len() < PAIRS {
        let a = version(&mut rng, &seps);
        let b = partner(&mut rng, &a, &seps);
        let (a, b) = (with_parts(&mut rng, a), with_parts(&mut rng, b));
        if dpkg::Version::parse(&a).is_ok() && dpkg::Version::parse(&b).is_ok() {
            pairs.push((a, b));
        }
    }
    // One shell runs all comparisons (dpkg's exit status says lt / eq / gt), two at a time.
    let script = "while read -r a b; do if dpkg --compare-versions \"$a\" lt \"$b\"; then echo -1; \
                  elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo 0; else echo 1; fi; done";
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let mut child =
        Command::new("sh").arg("-c").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let theirs: Vec<i32> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(theirs.len(), pairs.len());
    let wrong: Vec<_> = pairs
        .iter()
        .zip(&theirs)
        .filter(|((a, b), t)| sign(dpkg::compare(a, b)) != **t)
        .map(|((a, b), t)| format!("{a} vs {b}: dpkg {t}"))
        .collect();
    let equal = theirs.iter().filter(|&&t| t == 0).count();
    eprintln!("dpkg: {}/{} pairs agree ({equal} equal pairs)", pairs.len() - wrong.len(), pairs.len());
    assert!(wrong.is_empty(), "{:?}", &wrong[..wrong.len().min(10)]);
}

#[test]
fn rpm_vercmp_agrees() {
    if Command::new("rpm").arg("--version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but rpm is not installed");
        eprintln!("SKIP: rpm is not installed");
        return;
    }
    let mut rng = fastrand::Rng::with_seed(0x0059_4E0D);
    let seps = [".", "_", "+", "~", "^", ".", "-", ":"];
    let pairs: Vec<(String, String)> = (0..PAIRS)
        .map(|_| {
            let a = version(&mut rng, &seps);
            let b = partner(&mut rng, &a, &seps);
            (a, b)
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect::<String>()).unwrap();
    let lua = format!(
        "%{{lua: for line in io.lines('{}') do local a, b = line:match('^(%S+) (%S+)$'); print(rpm.vercmp(a, b) .. ' ') end}}",
        file.path().display()
    );
    let out = Command::new("rpm").arg("--eval").arg(&lua).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // rpm's Lua `print` writes into the expansion without newlines: results are space-separated.
    let theirs: Vec<i32> =
        String::from_utf8(out.stdout).unwrap().split_whitespace().map(|l| l.parse().unwrap()).collect();
    assert_eq!(theirs.len(), pairs.len());
    let wrong: Vec<_> = pairs
        .iter()
        .zip(&theirs)
        .filter(|((a, b), t)| sign(rpm::compare_evr(a, b)) != **t)
        .map(|((a, b), t)| format!("{a} vs {b}: rpm {t}"))
        .collect();
    let equal = theirs.iter().filter(|&&t| t == 0).count();
    eprintln!("rpm: {}/{} pairs agree ({equal} equal pairs)", pairs.len() - wrong.len(), pairs.len());
    assert!(wrong.is_empty(), "{:?}", &wrong[..wrong.len().min(10)]);
}

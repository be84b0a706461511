//! Replays every committed corpus and crash file (`corpus/TARGET/*`, `artifacts/TARGET/*`)
//! through its target on stable, and the repros of `../shared/fuzz-findings` through the target
//! each names. A fuzz finding, once fixed, stays fixed.

use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 16] = [
    ("image", coldscan_fuzz::image),
    ("pipeline", coldscan_fuzz::pipeline),
    ("volume", coldscan_fuzz::volume),
    ("ext4", coldscan_fuzz::ext4),
    ("xfs", coldscan_fuzz::xfs),
    ("btrfs", coldscan_fuzz::btrfs),
    ("bdb", coldscan_fuzz::bdb),
    ("sqlite", coldscan_fuzz::sqlite),
    ("ndb", coldscan_fuzz::ndb),
    ("rpm_header", coldscan_fuzz::rpm_header),
    ("dpkg", coldscan_fuzz::dpkg),
    ("apk", coldscan_fuzz::apk),
    ("os_release", coldscan_fuzz::os_release),
    ("vercmp", coldscan_fuzz::vercmp),
    ("vulndb", coldscan_fuzz::vulndb),
    ("lvm_metadata", coldscan_fuzz::lvm_metadata),
];

fn replay_dir(dir: &Path, target: Target) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            target(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    n
}

#[test]
fn committed_corpora_and_crashes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for (name, target) in TARGETS {
        let n = replay_dir(&root.join("corpus").join(name), target)
            + replay_dir(&root.join("artifacts").join(name), target);
        eprintln!("{name}: {n} inputs replayed");
        total += n;
    }
    assert!(total > 0, "no corpus committed");
}

#[test]
fn shared_fuzz_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fuzz-findings");
    if !dir.is_dir() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is absent", dir.display());
        eprintln!("SKIP: {} is absent", dir.display());
        return;
    }
    // Which target each repro was found through (their notes name it).
    let by_prefix: [(&str, Target); 5] = [
        ("bdb-", coldscan_fuzz::bdb),
        ("vmdk-", coldscan_fuzz::pipeline),
        ("sqlite-", coldscan_fuzz::sqlite),
        ("for-each-file-", coldscan_fuzz::rpm_header),
        ("dpkg-", coldscan_fuzz::dpkg),
    ];
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".bin") {
            continue; // the gzip'd ones are replayed, with a memory check, by cli/tests/hostile.rs
        }
        let target =
            by_prefix.iter().find(|(p, _)| name.starts_with(p)).map(|(_, t)| *t).unwrap_or(coldscan_fuzz::pipeline);
        target(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 6, "{n} repros replayed");
}

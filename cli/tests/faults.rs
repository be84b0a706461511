//! Faults injected under every layer (`coldscan_core::fault::FaultInjector`): an I/O error, a
//! short read or a flipped bit in each of a sample of the blocks a sound read touches.
//!
//! - Filesystem trees (ext4, XFS, btrfs), against the manifest their tools wrote (ext4: the
//!   unfaulted read, which `filesystems.rs` checks against debugfs): every file or directory
//!   read despite the fault is exactly right, and every error is the injected one — layer
//!   `source`, the faulty byte's offset — or a layer's own report of the structure it could not
//!   read.
//! - Whole scans (image containers, partitions, LVM2, the package databases): every package
//!   listed despite the fault is one the sound image lists, field for field, and the fault is
//!   reported.
//! - Bit flips cannot always be noticed (data has no checksum), so for them the suite asserts
//!   what must hold anyway: no panic, and reads bounded by the scan's read meter.

mod common;

use coldscan_core::fault::{Fault, FaultInjector, EIO};
use coldscan_core::fs::{FileSystem, FileType, Walk};
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::progress::{NoProgress, ReadMeter};
use coldscan_core::{Budget, Error, ErrorKind, Layer, ReadAt};
use coldscan_host::source::FileSource;
use common::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const BLOCK: u64 = 4096;
/// Faults of each kind tried per fixture (spread over the blocks a sound read touches).
const SAMPLES: usize = 24;
/// Files larger than this are not hashed in a faulted run (a flipped size bit could make a
/// file of exabytes of holes).
const MAX_HASHED: u64 = 64 << 20;

/// A reader that notes which blocks were read.
struct Recording<R> {
    inner: R,
    blocks: RefCell<BTreeSet<u64>>,
}

impl<R: ReadAt> ReadAt for Recording<R> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> coldscan_core::Result<()> {
        let last = (offset + buf.len().max(1) as u64 - 1) / BLOCK;
        self.blocks.borrow_mut().extend(offset / BLOCK..=last);
        self.inner.read_at(offset, buf)
    }
}

/// Up to `SAMPLES` of the blocks, evenly spread.
fn sample(blocks: &BTreeSet<u64>) -> Vec<u64> {
    let all: Vec<u64> = blocks.iter().copied().collect();
    let step = all.len().div_ceil(SAMPLES).max(1);
    all.into_iter().step_by(step).collect()
}

/// The three faults tried in block `block`.
fn faults_in(block: u64) -> [Fault; 3] {
    let at = block * BLOCK;
    [
        Fault::IoError { at, len: BLOCK },
        Fault::ShortRead { at: at + BLOCK / 2 },
        Fault::BitFlip { at: at + (block * 37) % BLOCK, bit: (block % 8) as u8 },
    ]
}

/// Whether `e` is the injected fault itself, unchanged on its way up.
fn is_the_fault(e: &Error, fault: Fault) -> bool {
    match fault {
        Fault::IoError { at, len } => {
            e.layer == Layer::Source
                && e.format == "fault"
                && e.kind == ErrorKind::Io { code: EIO }
                && (at..at + len).contains(&e.offset)
        }
        Fault::ShortRead { at } => {
            e.layer == Layer::Source
                && e.format == "fault"
                && matches!(e.kind, ErrorKind::UnexpectedEof { size, .. } if size == at)
                && e.offset >= at
        }
        Fault::BitFlip { .. } => false,
    }
}

/// Whether `e` is an acceptable error for a run with `fault`: the fault itself, or — for a
/// read error under a layer that keeps going — that layer's own report of what it could not
/// read, naming its layer (a btrfs tree block whose copies both failed, a root without a
/// package database). For a flipped bit any clear error is acceptable.
fn acceptable(e: &Error, fault: Fault) -> bool {
    is_the_fault(e, fault) || matches!(fault, Fault::BitFlip { .. }) || e.layer != Layer::Source
}

/// The tree below the root as manifest rows, going on past errors (which are returned).
fn tolerant_manifest(fs: &dyn FileSystem) -> (BTreeMap<String, Expected>, Vec<Error>) {
    let (mut rows, mut errors) = (BTreeMap::new(), Vec::new());
    let mut dirs = vec![(String::new(), fs.root())];
    // A flipped bit can make a directory its own descendant: the walk is bounded.
    let mut budget = 100_000;
    while let Some((path, dir)) = dirs.pop() {
        let mut entries = Vec::new();
        if let Err(e) = fs.read_dir(dir, &mut |e| {
            if e.name != b"." && e.name != b".." {
                entries.push((String::from_utf8_lossy(e.name).into_owned(), e.node));
            }
            Ok(Walk::Continue)
        }) {
            errors.push(e);
        }
        for (name, node) in entries {
            budget -= 1;
            if budget == 0 {
                return (rows, errors);
            }
            let child = format!("{path}/{name}");
            let m = match fs.metadata(node) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let row = match m.file_type {
                FileType::Regular if m.size > MAX_HASHED => continue,
                FileType::Regular => {
                    fs.open_file(node).and_then(|f| try_sha256_of(f.as_ref())).map(|h| ("f", m.size, h))
                }
                FileType::Directory => {
                    dirs.push((child.clone(), node));
                    Ok(("d", 0, String::from("-")))
                }
                FileType::Symlink => {
                    fs.read_link(node).map(|t| ("l", m.size, String::from_utf8_lossy(&t).into_owned()))
                }
                _ => Ok(("o", 0, String::from("-"))),
            };
            match row {
                Ok((kind, size, what)) => {
                    rows.insert(child, (kind.to_string(), u32::from(m.mode), size, what));
                }
                Err(e) => errors.push(e),
            }
        }
    }
    (rows, errors)
}

/// Reads the tree of `volume` (the only one when `None`) of `source` under `fault`: the rows
/// read and every error met on the way (opening included).
fn faulted_tree(
    source: &dyn ReadAt,
    volume: Option<&str>,
    faults: &[Fault],
    meter: &ReadMeter<'_>,
) -> (BTreeMap<String, Expected>, Vec<Error>) {
    let injector = faults.iter().fold(FaultInjector::new(source), |i, f| i.with(*f).unwrap());
    let watched = meter.watch(&injector);
    let budget = Budget::new(32 << 20);
    let disk = match Disk::open(&watched, &NoFiles, &budget) {
        Ok(d) => d,
        Err(e) => return (BTreeMap::new(), vec![e]),
    };
    let fs = match disk.open_volume(volume) {
        Ok((_, fs)) => fs,
        Err(e) => return (BTreeMap::new(), vec![e]),
    };
    tolerant_manifest(fs.as_ref())
}

/// The fault sweep over a filesystem image; `want` is the tree's truth (`None`: the unfaulted
/// read, for images whose truth is checked elsewhere).
fn sweep_tree(image: &Path, volume: Option<&str>, want: Option<BTreeMap<String, Expected>>) {
    let file = FileSource::open(image).unwrap();
    let recording = Recording { inner: &file, blocks: RefCell::new(BTreeSet::new()) };
    let unlimited = ReadMeter::new(&NoProgress, u64::MAX);
    let (sound, errors) = faulted_tree(&recording, volume, &[], &unlimited);
    assert!(errors.is_empty(), "{}: {errors:?}", image.display());
    let want = want.unwrap_or_else(|| sound.clone());
    assert_same_tree(&image.display().to_string(), &sound, &want);
    let blocks = sample(&recording.blocks.borrow());
    let (mut damaged_runs, mut rows_kept) = (0, 0);
    for block in &blocks {
        for fault in faults_in(*block) {
            // A damaged image may read more than a sound one, but not without end.
            let meter = ReadMeter::new(&NoProgress, 16 * unlimited.bytes_read().max(1 << 20));
            let (rows, errors) = faulted_tree(&file, volume, &[fault], &meter);
            let what = format!("{} with {fault:?}", image.display());
            assert!(!meter.exhausted(), "{what}: {} bytes read", meter.bytes_read());
            for e in &errors {
                assert!(acceptable(e, fault), "{what}: unexpected error {e}");
            }
            if matches!(fault, Fault::BitFlip { .. }) {
                continue;
            }
            for (path, row) in &rows {
                assert_eq!(Some(row), want.get(path), "{what}: {path} read wrong");
            }
            if rows.len() < want.len() {
                assert!(!errors.is_empty(), "{what}: entries missing, but no error");
                damaged_runs += 1;
            }
            rows_kept += rows.len();
        }
    }
    eprintln!(
        "{}: {} blocks × 3 faults; {damaged_runs} runs lost entries, {rows_kept} entries read right despite faults",
        image.display(),
        blocks.len()
    );
    assert!(damaged_runs > 0, "{}: no fault had an effect", image.display());
}

#[test]
fn faults_under_ext4() {
    sweep_tree(&fixtures().join("ext4-1k.img"), None, None);
    sweep_tree(&fixtures().join("htree.img"), None, None);
}

#[test]
fn faults_under_xfs() {
    let dir = xfs_fixtures();
    sweep_tree(&dir.join("proto-v5.img"), None, Some(read_manifest(&dir.join("proto-v5.manifest.tsv"))));
}

#[test]
fn faults_under_btrfs() {
    let dir = btrfs_fixtures();
    for name in ["rootdir-4k", "rootdir-16k"] {
        let want = read_manifest(&dir.join(format!("{name}.manifest.tsv")));
        sweep_tree(&dir.join(format!("{name}.img")), None, Some(want));
    }
}

/// The physical offsets of the copies of btrfs logical address `logical`, from btrfs-progs'
/// `btrfs-map-logical`.
fn btrfs_mirrors(image: &Path, logical: u64) -> Vec<u64> {
    let out = std::process::Command::new("btrfs-map-logical")
        .args(["-l", &logical.to_string()])
        .arg(image)
        .output()
        .expect("btrfs-map-logical (btrfs-progs)");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().filter_map(|l| l.split(" physical ").nth(1)?.split_whitespace().next()?.parse().ok()).collect()
}

#[test]
fn btrfs_dup_metadata_survives_one_unreadable_copy() {
    let image = btrfs_fixtures().join("rootdir-16k.img");
    let want = read_manifest(&btrfs_fixtures().join("rootdir-16k.manifest.tsv"));
    let super_block = std::process::Command::new("btrfs").args(["inspect-internal", "dump-super"]).arg(&image).output();
    let super_block = String::from_utf8(super_block.unwrap().stdout).unwrap();
    let field = |name: &str| -> u64 {
        let line = super_block.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let (node_size, file) = (field("nodesize"), FileSource::open(&image).unwrap());
    for tree in ["root", "chunk_root"] {
        let mirrors = btrfs_mirrors(&image, field(tree));
        assert_eq!(mirrors.len(), 2, "{tree}: DUP metadata has two copies: {mirrors:?}");
        let bad = |at: u64| Fault::IoError { at, len: node_size };
        for &at in &mirrors {
            let meter = ReadMeter::new(&NoProgress, u64::MAX);
            let (rows, errors) = faulted_tree(&file, None, &[bad(at)], &meter);
            assert!(errors.is_empty(), "{tree} copy at {at} unreadable: {errors:?}");
            assert_same_tree(&format!("{tree} copy at {at} unreadable"), &rows, &want);
        }
        // Both copies unreadable: the first copy's error, at its physical offset.
        let meter = ReadMeter::new(&NoProgress, u64::MAX);
        let (rows, errors) = faulted_tree(&file, None, &[bad(mirrors[0]), bad(mirrors[1])], &meter);
        assert!(rows.is_empty(), "{tree}: nothing is readable without it");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(is_the_fault(&errors[0], bad(mirrors[0])), "{tree}: {}", errors[0]);
    }
}

/// Packages (every field) of every root a scan of `source` finds, and the scan's errors.
fn faulted_scan(source: &dyn ReadAt, fault: Option<Fault>, meter: &ReadMeter<'_>) -> (BTreeSet<String>, Vec<String>) {
    let mut injector = FaultInjector::new(source);
    if let Some(f) = fault {
        injector = injector.with(f).unwrap();
    }
    let watched = meter.watch(&injector);
    let budget = Budget::new(64 << 20);
    let disk = match Disk::open(&watched, &NoFiles, &budget) {
        Ok(d) => d,
        Err(e) => return (BTreeSet::new(), vec![e.to_string()]),
    };
    let scan = disk.scan();
    let packages = scan
        .roots
        .iter()
        .flat_map(|(volume, root)| {
            root.inventories
                .iter()
                .flat_map(move |inv| inv.packages.as_slice().iter().map(move |p| format!("{volume} {p:?}")))
        })
        .collect();
    let mut errors: Vec<String> = scan
        .errors
        .iter()
        .filter(|e| e.level == coldscan_core::report::Level::Error)
        .map(|e| e.message.clone())
        .collect();
    errors.extend(scan.roots.iter().flat_map(|(_, r)| r.errors.iter().map(|e| e.to_string())));
    (packages, errors)
}

/// The fault sweep over a whole scan of `image`.
fn sweep_scan(image: &Path) {
    let file = FileSource::open(image).unwrap();
    let recording = Recording { inner: &file, blocks: RefCell::new(BTreeSet::new()) };
    let unlimited = ReadMeter::new(&NoProgress, u64::MAX);
    let (sound, errors) = faulted_scan(&recording, None, &unlimited);
    assert!(errors.is_empty() && !sound.is_empty(), "{}: {errors:?}", image.display());
    let blocks = sample(&recording.blocks.borrow());
    let (mut damaged_runs, mut reported) = (0, 0);
    for block in &blocks {
        for fault in faults_in(*block) {
            let meter = ReadMeter::new(&NoProgress, 16 * unlimited.bytes_read().max(1 << 20));
            let (packages, errors) = faulted_scan(&file, Some(fault), &meter);
            let what = format!("{} with {fault:?}", image.display());
            assert!(!meter.exhausted(), "{what}: {} bytes read", meter.bytes_read());
            if matches!(fault, Fault::BitFlip { .. }) {
                continue;
            }
            let wrong: Vec<_> = packages.difference(&sound).take(3).collect();
            assert!(wrong.is_empty(), "{what}: packages the sound image does not list: {wrong:?}");
            if packages.len() < sound.len() {
                assert!(!errors.is_empty(), "{what}: packages missing, but no error");
                damaged_runs += 1;
            }
            let fault_text = match fault {
                Fault::IoError { .. } => "source (fault)",
                _ => "fault",
            };
            if errors.iter().any(|e| e.contains(fault_text)) {
                reported += 1;
            }
        }
    }
    eprintln!(
        "{}: {} blocks × 3 faults; {damaged_runs} runs lost packages; the fault named in {reported} runs",
        image.display(),
        blocks.len()
    );
    assert!(damaged_runs > 0, "{}: no fault had an effect", image.display());
}

#[test]
fn faults_under_whole_scans() {
    sweep_scan(&fixtures().join("sample.img"));
    sweep_scan(&fixtures().join("rpm-root.img"));
    for container in ["compressed.qcow2", "stream.vmdk", "dynamic.vhdx", "dynamic.vdi", "dynamic.vhd"] {
        sweep_scan(&fixtures().join("containers").join(container));
    }
    sweep_scan(&lvm_fixtures().join("rhel.qcow2"));
    sweep_scan(&btrfs_fixtures().join("opensuse.img"));
}

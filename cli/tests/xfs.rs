//! XFS, read through coldscan, against what real tools say:
//! - filesystems made by `mkfs.xfs -p protofile` (v5, v4, 1 KiB and 64 KiB blocks, 4096-byte
//!   sectors, no ftype) must hold exactly the tree they were built from;
//! - a filesystem written by the kernel through a loop mount must hold exactly what the mounted
//!   kernel driver showed (names, types, modes, sizes, sha256 of every file, link targets);
//! - `xfs_db -r` proves each fixture has the forms it claims to test (btree extent forks,
//!   btree/leaf/block/shortform directories, remote symlinks);
//! - the real Amazon Linux 2 disk from the shared data (XFS v5 in GPT) gives the partitions, OS
//!   and package list of its expected JSON through `inspect` and `packages`.
//!
//! Fixtures: `testdata/make-xfs.sh` (needs root for the loop mount, as the test command runs).

mod common;

use coldscan_core::error::{ErrorKind, Layer};
use coldscan_core::fs::FileSystem;
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::Budget;
use common::counting::{measure, serial, Counting};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn manifest(name: &str) -> BTreeMap<String, Expected> {
    read_manifest(&xfs_fixtures().join(format!("{name}.manifest.tsv")))
}

/// (data fork format, size, extents) of the probed paths, from `xfs_db`.
fn formats(name: &str) -> BTreeMap<String, (u32, u64, u64)> {
    let text = std::fs::read_to_string(xfs_fixtures().join(format!("{name}.formats.tsv"))).unwrap();
    text.lines()
        .map(|l| {
            let t: Vec<&str> = l.split('\t').collect();
            (t[0].to_string(), (t[1].parse().unwrap(), t[2].parse().unwrap(), t[3].parse().unwrap()))
        })
        .collect()
}

fn check_image(name: &str) -> usize {
    let path = xfs_fixtures().join(format!("{name}.img"));
    let source = coldscan_host::source::FileSource::open(&path).unwrap();
    let budget = Budget::new(8 << 20);
    // Memory: opening and inspecting the disk (what a scan does) stays under the budget.
    let (_, heap_peak, _) = measure(|| Disk::open(&source, &NoFiles, &budget).unwrap().inspect());
    let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
    let (volume, fs) = disk.open_volume(None).unwrap();
    assert_eq!((volume.as_str(), fs.kind()), ("whole", "xfs"), "{name}");
    let ours = as_manifest(fs.as_ref());
    assert_same_tree(name, &ours, &manifest(name));
    eprintln!(
        "{name}: {} entries equal the manifest; heap peak {heap_peak} bytes, budget peak {}",
        ours.len(),
        budget.peak()
    );
    assert!(heap_peak < 8 << 20, "{name}: heap peak {heap_peak}");
    ours.len()
}

const SHORTFORM: u32 = 1;
const EXTENTS: u32 = 2;
const BTREE: u32 = 3;

#[test]
fn protofile_images_hold_their_tree() {
    let _serial = serial();
    for name in ["proto-v5", "proto-v4", "proto-1k", "proto-64k", "proto-4kn", "proto-noftype"] {
        let f = formats(name);
        // The fixture has the directory forms it claims: shortform, and data blocks.
        assert_eq!(f["/etc"].0, SHORTFORM, "{name}: /etc");
        assert_eq!(f["/many"].0, EXTENTS, "{name}: /many");
        assert!(check_image(name) > 300);
    }
    // Leaf form (a data block plus a leaf block) where the directory block is 4 KiB; block form
    // (one 64 KiB block) with 64 KiB blocks.
    assert!(formats("proto-v5")["/many"].2 >= 2);
    assert_eq!(formats("proto-64k")["/many"].2, 1);
}

#[test]
fn kernel_written_image_matches_the_mounted_tree() {
    let _serial = serial();
    let f = formats("kernel-v5");
    assert_eq!(f["/big"].0, BTREE, "the 25,000-entry directory is in btree (node) form");
    assert_eq!(f["/frag/a.bin"].0, BTREE, "fragmented file has a btree extent fork");
    assert!(f["/frag/a.bin"].2 >= 100, "fragmented file extents: {:?}", f["/frag/a.bin"]);
    assert!(f["/sparse-5g.bin"].1 > 4 << 30);
    assert_eq!(f["/long-link"].0, EXTENTS, "remote symlink");
    assert_eq!(f["/longest-link"].0, EXTENTS, "remote symlink");
    assert_eq!(f["/short-link"].0, SHORTFORM, "inline symlink");
    assert!(check_image("kernel-v5") > 17_000);
}

#[test]
fn large_directory_is_streamed_not_held() {
    let _serial = serial();
    let path = xfs_fixtures().join("kernel-v5.img");
    let source = coldscan_host::source::FileSource::open(&path).unwrap();
    let budget = Budget::new(8 << 20);
    let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let big = coldscan_core::fs::resolve(fs.as_ref(), b"/big", true).unwrap();
    let want = manifest("kernel-v5").keys().filter(|p| p.starts_with("/big/")).count();
    let (count, heap_peak, _) = measure(|| {
        let mut count = 0usize;
        fs.read_dir(big, &mut |e| {
            if e.name != b"." && e.name != b".." {
                count += 1;
            }
            Ok(coldscan_core::fs::Walk::Continue)
        })
        .unwrap();
        count
    });
    assert_eq!(count, want);
    eprintln!("/big: {count} entries listed with a heap peak of {heap_peak} bytes");
    assert!(heap_peak < 256 << 10, "listing held {heap_peak} bytes");
}

#[test]
fn cli_ls_and_cat_on_xfs() {
    let _serial = serial();
    let img = xfs_fixtures().join("kernel-v5.img");
    let img = img.to_str().unwrap();
    let (code, out, err) = run(&["cat", img, "/usr/lib/os-release"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sha256(&out), manifest("kernel-v5")["/usr/lib/os-release"].3);
    let (code, out, err) = run(&["ls", img, "/", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    // JSON Lines, one entry each.
    let names: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["name"].as_str().unwrap().to_string())
        .collect();
    for name in ["big", "frag", "sparse-5g.bin", "long-link"] {
        assert!(names.iter().any(|n| n == name), "{name} missing in {names:?}");
    }
}

fn expected_image(key: &str) -> Value {
    let data = shared_testdata().unwrap();
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("images/expected.json")).unwrap()).unwrap();
    all[key].clone()
}

fn check_amazon_image(img: &Path, key: &str) {
    let want = expected_image(key);
    let img = img.to_str().unwrap();
    let (code, out, err) = run(&["inspect", img, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["image"]["virtual_size"], want["virtual_size"], "{key}");
    assert_eq!(report["partition_table"]["disk_id"], want["disk_guid"], "{key}");
    let volumes = report["volumes"].as_array().unwrap();
    for p in want["partitions"].as_array().unwrap() {
        let id = format!("gpt:{}", p["index"]);
        let v = volumes.iter().find(|v| v["id"] == id.as_str()).unwrap_or_else(|| panic!("{key}: {id}"));
        assert_eq!(v["start"].as_u64(), Some(p["first_lba"].as_u64().unwrap() * 512), "{key} {id}");
        let size = (p["last_lba"].as_u64().unwrap() + 1 - p["first_lba"].as_u64().unwrap()) * 512;
        assert_eq!(v["size"].as_u64(), Some(size), "{key} {id}");
        assert_eq!(v["filesystem"], p["filesystem"]["type"], "{key} {id}");
        if let Some(uuid) = p["filesystem"]["uuid"].as_str() {
            assert_eq!(v["uuid"].as_str(), Some(uuid), "{key} {id}");
        }
    }
    let target = &report["targets"][0];
    assert_eq!(target["volume"], "gpt:2", "{key}");
    assert_eq!(target["os"]["family"], want["os_expected"]["family"], "{key}");
    // trivy names the OS "2 (Karoo)": the version and the codename.
    let name =
        format!("{} ({})", target["os"]["version_id"].as_str().unwrap(), target["os"]["codename"].as_str().unwrap());
    assert_eq!(name, want["os_expected"]["name"].as_str().unwrap(), "{key}");

    // Packages: the rpmdb's expected list (trivy's), name-epoch:version-release.arch each.
    let (code, out, err) = run(&["packages", img, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_slice(&out).unwrap();
    let ours: std::collections::BTreeSet<String> = report["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["arch"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let data = shared_testdata().unwrap();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("rpmdb/amazonlinux2-bdb/expected.json")).unwrap())
            .unwrap();
    let theirs: std::collections::BTreeSet<String> = expected["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let epoch = p["epoch"].as_u64().filter(|&e| e != 0).map(|e| format!("{e}:")).unwrap_or_default();
            format!(
                "{} {epoch}{}-{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["release"].as_str().unwrap(),
                p["arch"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(ours.len(), 104, "{key}");
    assert_eq!(ours, theirs, "{key}: packages differ from the expected list");
    // A file through cat, against the expected sha256.
    let f = &want["partitions"][1]["filesystem"]["files"]["/var/lib/rpm/Packages"];
    let (code, out, err) = run(&["cat", img, "/var/lib/rpm/Packages"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (out.len() as u64, sha256(&out)),
        (f["size"].as_u64().unwrap(), f["sha256"].as_str().unwrap().to_string())
    );
}

#[test]
fn amazon_linux_2_xfs_disk() {
    let _serial = serial();
    let Some(img) = amazon_linux_2() else { return };
    check_amazon_image(img, "trivy/AmazonLinux2.img.gz");
}

#[test]
fn amazon_linux_2_derived_vmdks() {
    let _serial = serial();
    let Some(data) = shared_testdata() else { return };
    for sub in ["AmazonLinux2.streamOptimized.vmdk", "AmazonLinux2.monolithicSparse.vmdk"] {
        check_amazon_image(&data.join("images/derived").join(sub), &format!("derived/{sub}"));
    }
}

/// `xfs_db -r` on a fixture: the output of the given commands.
fn xfs_db(image: &str, commands: &[&str]) -> String {
    let mut cmd = std::process::Command::new("xfs_db");
    cmd.arg("-r");
    for c in commands {
        cmd.args(["-c", c]);
    }
    let out = cmd.arg(xfs_fixtures().join(image)).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The value of `name = value` in xfs_db output.
fn field(out: &str, name: &str) -> u64 {
    let line = out.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap_or_else(|| panic!("{name} in {out}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Opens a damaged copy of an XFS fixture as a bare filesystem.
fn damaged_fs(img: &Damaged, check: impl FnOnce(&dyn FileSystem)) {
    let b = Budget::new(8 << 20);
    let disk = Disk::open(img, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(Some("whole")).unwrap();
    check(fs.as_ref());
}

#[test]
fn corrupt_superblock_is_reported_not_fatal() {
    let _serial = serial();
    // Allocation group 0's header (the primary superblock): bad magic, then an absurd AG size.
    for (at, bytes, kind) in [
        (0u64, &b"XFSX"[..], ErrorKind::BadMagic),
        (0x54, &[0, 0, 0, 1][..], ErrorKind::Corrupt("allocation group size")),
    ] {
        let img = Damaged::open(&xfs_fixtures().join("proto-v5.img")).patch(at, bytes);
        let b = Budget::new(8 << 20);
        let disk = Disk::open(&img, &NoFiles, &b).unwrap();
        let report = disk.inspect();
        if kind == ErrorKind::BadMagic {
            // No longer recognised as XFS: nothing to report but no filesystem.
            assert_eq!(report.volumes[0].filesystem, None);
            continue;
        }
        assert_eq!(report.volumes[0].filesystem, Some("xfs"));
        let e = &report.errors[0];
        assert_eq!((e.layer, e.volume.as_deref(), e.offset), (coldscan_core::Layer::Fs, Some("whole"), at), "{e:?}");
        assert!(e.message.contains("allocation group size"), "{}", e.message);
    }
}

#[test]
fn bmbt_block_pointing_back_up_the_tree() {
    let _serial = serial();
    let info = xfs_db("kernel-v5.img", &["sb 0", "print agblocks agblklog", "path /frag/a.bin", "print u3.bmbt.ptrs"]);
    let (agblocks, agblklog) = (field(&info, "agblocks"), field(&info, "agblklog"));
    let ptr: u64 = info
        .lines()
        .find(|l| l.starts_with("u3.bmbt.ptrs"))
        .unwrap()
        .split("1:")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let at = ((ptr >> agblklog) * agblocks + (ptr & ((1 << agblklog) - 1))) * 4096;
    // The leaf claims level 1 with one entry that points at itself: a cycle.
    let mut node = vec![];
    node.extend_from_slice(b"BMA3");
    node.extend_from_slice(&1u16.to_be_bytes());
    node.extend_from_slice(&1u16.to_be_bytes());
    let img = Damaged::open(&xfs_fixtures().join("kernel-v5.img")).patch(at, &node);
    damaged_fs(&img, |fs| {
        let node = coldscan_core::fs::resolve(fs, b"/frag/a.bin", true).unwrap();
        let file = fs.open_file(node).unwrap();
        let err = file.read_at(0, &mut [0u8; 16]).unwrap_err();
        assert_eq!((err.layer, err.offset), (Layer::Fs, at + 4), "{err}");
        assert_eq!(err.kind, ErrorKind::Corrupt("bmbt node level (a cycle or a misplaced block)"));
        // Its sibling, with its own tree, still reads.
        let b = coldscan_core::fs::resolve(fs, b"/frag/b.bin", true).unwrap();
        assert_eq!(sha256_through(fs, b), manifest("kernel-v5")["/frag/b.bin"].3);
    });
}

#[test]
fn directory_block_with_a_wrong_magic() {
    let _serial = serial();
    let info = xfs_db("kernel-v5.img", &["sb 0", "print agblocks", "path /big", "bmap"]);
    let agblocks = field(&info, "agblocks");
    // "data offset 0 startblock 131087 (1/15) count 1 flag 0"
    let first = info.lines().find(|l| l.starts_with("data offset 0 ")).unwrap();
    let ag: Vec<u64> =
        first.split('(').nth(1).unwrap().split(')').next().unwrap().split('/').map(|n| n.parse().unwrap()).collect();
    let at = (ag[0] * agblocks + ag[1]) * 4096;
    let img = Damaged::open(&xfs_fixtures().join("kernel-v5.img")).patch(at, b"XXXX");
    damaged_fs(&img, |fs| {
        let big = coldscan_core::fs::resolve(fs, b"/big", true).unwrap();
        let err = fs.read_dir(big, &mut |_| Ok(coldscan_core::fs::Walk::Continue)).unwrap_err();
        assert_eq!((err.layer, err.offset, err.kind), (Layer::Fs, at, ErrorKind::BadMagic), "{err}");
        // The rest of the filesystem is intact.
        let etc = coldscan_core::fs::resolve(fs, b"/usr/lib/os-release", true).unwrap();
        assert_eq!(sha256_through(fs, etc), manifest("kernel-v5")["/usr/lib/os-release"].3);
    });
}

#[test]
fn directory_entry_naming_an_inode_outside_the_filesystem() {
    let _serial = serial();
    let info = xfs_db("proto-v5.img", &["sb 0", "print rootino inopblog", "inode 128", "print u3.sfdir3.list[0].name"]);
    assert_eq!(field(&info, "rootino"), 128);
    assert!(info.contains("u3.sfdir3.list[0].name = \"boot\""), "{info}");
    // Root inode 128 is the first of block 16 (8 inodes a block); its shortform directory starts
    // after the 176-byte core: header (6 bytes), then entry 0: namelen, offset, "boot", ftype, ino.
    let ino_at = 16 * 4096 + 176 + 6 + 1 + 2 + 4 + 1;
    let img = Damaged::open(&xfs_fixtures().join("proto-v5.img")).patch(ino_at, &0x7FFF_FFF0u32.to_be_bytes());
    damaged_fs(&img, |fs| {
        let err = coldscan_core::fs::resolve(fs, b"/boot/vmlinuz-6.1.0-13-amd64", true).unwrap_err();
        assert_eq!(
            (err.layer, err.kind),
            (Layer::Fs, ErrorKind::Corrupt("inode number outside the filesystem")),
            "{err}"
        );
        assert!(coldscan_core::fs::resolve(fs, b"/etc/hostname", true).is_ok());
    });
}

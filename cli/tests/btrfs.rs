//! btrfs, read through coldscan, against what real tools made and say:
//! - `mkfs.btrfs --rootdir` images (16 KiB nodes with DUP metadata, 4 KiB nodes with SINGLE)
//!   must hold exactly their source tree;
//! - images written by the kernel through loop mounts with zstd, LZO and zlib compression (a
//!   20,000-entry directory, a 5 GiB sparse file, preallocated space, a reflinked copy, hard
//!   links, a subvolume and its snapshot) must hold exactly what the mount showed;
//! - `btrfs inspect-internal dump-tree`/`dump-super` prove each fixture has the structures it
//!   is meant to test (NAME.proof);
//! - openSUSE- and Fedora-style layouts are assembled from their subvolumes as the booted
//!   system mounts them.
//!
//! Fixtures: `testdata/make-btrfs.sh` (root, loop mounts).

mod common;

use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::Budget;
use common::counting::{measure, serial, Counting};
use common::*;
use std::collections::BTreeMap;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// NAME.proof: what dump-tree/dump-super counted.
fn proof(name: &str) -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string(btrfs_fixtures().join(format!("{name}.proof"))).unwrap();
    text.lines().map(|l| l.split_once(' ').unwrap()).map(|(k, v)| (k.to_string(), v.trim().parse().unwrap())).collect()
}

/// Opens NAME.img's first root (assembled), compares it with NAME.manifest.tsv and returns the
/// number of entries; the inspection runs under an 8 MiB budget with the heap counted.
fn check_image(name: &str) -> usize {
    let path = btrfs_fixtures().join(format!("{name}.img"));
    let source = coldscan_host::source::FileSource::open(&path).unwrap();
    let budget = Budget::new(8 << 20);
    let (_, heap_peak, _) = measure(|| Disk::open(&source, &NoFiles, &budget).unwrap().inspect());
    let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let ours = as_manifest(fs.as_ref());
    let want = read_manifest(&btrfs_fixtures().join(format!("{name}.manifest.tsv")));
    assert_same_tree(name, &ours, &want);
    eprintln!("{name}: {} entries equal the manifest; heap peak {heap_peak} bytes", ours.len());
    assert!(heap_peak < 8 << 20, "{name}: heap peak {heap_peak}");
    ours.len()
}

#[test]
fn mkfs_rootdir_images_hold_their_tree() {
    let _serial = serial();
    let p = proof("rootdir-16k");
    assert_eq!((p["nodesize"], p["metadata-dup"]), (16384, 1));
    let p = proof("rootdir-4k");
    assert_eq!((p["nodesize"], p["metadata-single"]), (4096, 1));
    assert!(check_image("rootdir-16k") > 300);
    assert!(check_image("rootdir-4k") > 300);
}

#[test]
fn kernel_written_compressed_images_match_the_mount() {
    let _serial = serial();
    for algo in ["zstd", "lzo", "zlib"] {
        let p = proof(algo);
        assert!(p["compressed-extents"] > 10, "{algo}: {p:?}");
        assert!(p["inline-extents"] > 10 && p["prealloc-extents"] > 0 && p["shared-extents"] > 0, "{algo}: {p:?}");
        assert!(p["dir-index-big"] >= 20_000, "{algo}: {p:?}");
        assert!(check_image(algo) > 20_000);
    }
    assert_eq!(proof("zstd")["subvolumes"], 2, "a subvolume and its snapshot");
}

#[test]
fn opensuse_layout_assembled_from_subvolumes() {
    let _serial = serial();
    let dir = btrfs_fixtures();
    // btrfs-progs' view: the snapshot is the default subvolume.
    let default = std::fs::read_to_string(dir.join("opensuse.default")).unwrap();
    assert!(default.contains("path @/.snapshots/1/snapshot"), "{default}");
    let img = dir.join("opensuse.img");
    let (code, out, err) = run(&["inspect", img.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    let subvolumes = &report["volumes"][1]["subvolumes"];
    let listed = std::fs::read_to_string(dir.join("opensuse.subvolumes")).unwrap();
    for line in listed.lines() {
        // "ID 257 gen 7 top level 256 path @/var"
        let t: Vec<&str> = line.split_whitespace().collect();
        let (id, path) = (t[1].parse::<u64>().unwrap(), t[t.len() - 1]);
        let ours = subvolumes.as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(ours["path"], path);
        assert_eq!(ours["default"], default.contains(&format!("ID {id} ")));
    }
    let target = &report["targets"][0];
    assert_eq!(target["os"]["id"], "sles");
    let mounts: Vec<&str> = target["mounts"].as_array().unwrap().iter().map(|m| m["path"].as_str().unwrap()).collect();
    assert_eq!(mounts, ["/var", "/home", "/.snapshots"]);
    // The assembled root equals the kernel's mount of the default subvolume with the fstab's
    // subvolumes mounted on it.
    assert!(check_image("opensuse") > 10);
    // Packages: the shared SLE 15 NDB rpmdb in the snapshot.
    if let Some(data) = shared_testdata() {
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(data.join("rpmdb/sle15-bci-ndb-head/expected.json")).unwrap(),
        )
        .unwrap();
        let (code, out, err) = run(&["packages", img.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let ours: Vec<(String, String)> = report["targets"][0]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap().into(), p["version"].as_str().unwrap().into()))
            .collect();
        let theirs: Vec<(String, String)> = expected["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let epoch = p["epoch"].as_u64().map(|e| format!("{e}:")).unwrap_or_default();
                let v = format!("{epoch}{}-{}", p["version"].as_str().unwrap(), p["release"].as_str().unwrap());
                (p["name"].as_str().unwrap().into(), v)
            })
            .collect();
        assert_eq!(ours, theirs, "the NDB's packages, in database order");
        // Scan: SUSE advisories of the shape the builder makes, for a package in the rpmdb.
        use coldscan_core::vulndb::{Builder, NewAdvisory, Severity};
        let (name, version) = (&theirs[0].0, &theirs[0].1);
        let mut b = Builder::new();
        b.add(
            NewAdvisory::new("suse 15.4", name, "CVE-2099-0001", &format!("{version}.1"), "SUSE-SU-2099:1-1"),
            Severity::High,
            "",
            "test",
        );
        b.add(
            NewAdvisory::new("suse 15.4", name, "CVE-2099-0002", "0.1-1", "SUSE-SU-2099:2-1"),
            Severity::High,
            "",
            "test",
        );
        let db = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(db.path(), b.finish("2026-11-30T00:00:00Z")).unwrap();
        let (_, out, err) =
            run(&["scan", img.to_str().unwrap(), "--format", "json", "--quiet", "--db", db.path().to_str().unwrap()]);
        let report: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        let found: Vec<&str> = report["targets"][0]["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap())
            .collect();
        assert_eq!(found, ["CVE-2099-0001"], "only the fix newer than the installed version");
    }
}

#[test]
fn fedora_layout_root_in_a_subvolume() {
    let _serial = serial();
    let img = btrfs_fixtures().join("fedora.img");
    let (code, out, err) = run(&["inspect", img.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    let target = &report["targets"][0];
    assert_eq!((target["os"]["id"].as_str(), target["subvolume"].as_str()), (Some("fedora"), Some("root")));
    assert_eq!(target["mounts"][0]["path"], "/home");
    assert_eq!(target["package_databases"][0]["packages"], 2001);
    assert!(check_image("fedora") > 10);
}

/// Runs a btrfs tool on a fixture and returns its output.
fn tool(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Physical offsets of every copy of logical address `logical` (btrfs-map-logical).
fn physical(image: &str, logical: u64) -> Vec<u64> {
    let out = tool("btrfs-map-logical", &["-l", &logical.to_string(), image]);
    out.lines().filter_map(|l| l.split("physical ").nth(1)?.split_whitespace().next()?.parse().ok()).collect()
}

/// The first leaf of the top-level subvolume's tree (it holds the root directory's inode).
fn first_fs_leaf(image: &str) -> u64 {
    let out = tool("btrfs", &["inspect-internal", "dump-tree", "-t", "5", image]);
    let line = out.lines().find(|l| l.starts_with("leaf ")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Writes the btrfs crc32c of a tree block (over all but its first 32 bytes) into its head.
fn fix_checksum(block: &mut [u8]) {
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(&block[32..]);
    block[..4].copy_from_slice(&crc.to_le_bytes());
}

fn read_block(image: &str, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(image).unwrap();
    f.seek(std::io::SeekFrom::Start(at)).unwrap();
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf).unwrap();
    buf
}

fn zstd_image() -> (String, std::path::PathBuf) {
    let path = btrfs_fixtures().join("zstd.img");
    (path.to_str().unwrap().to_string(), path)
}

#[test]
fn damaged_primary_superblock_uses_a_mirror() {
    let _serial = serial();
    let (_, path) = zstd_image();
    let img = Damaged::open(&path).patch(0x10000 + 0x200, b"damage");
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let report = disk.inspect();
    assert_eq!(report.targets.len(), 1, "read through the mirror at 64 MiB");
    let e = report.errors.iter().find(|e| e.message.contains("checksum")).expect("the damaged copy is reported");
    assert_eq!((e.layer, e.offset, e.volume.as_deref()), (coldscan_core::Layer::Fs, 0x10000, Some("whole")), "{e:?}");
}

#[test]
fn tree_block_failing_its_checksum() {
    let _serial = serial();
    let (image, path) = zstd_image();
    let leaf = first_fs_leaf(&image);
    let copies = physical(&image, leaf);
    assert_eq!(copies.len(), 2, "DUP metadata: two copies");
    // One copy damaged: the other is read.
    let img = Damaged::open(&path).patch(copies[0] + 200, b"damage");
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    assert_eq!(disk.inspect().targets.len(), 1, "the second copy of the leaf is used");
    // Both damaged: a checksum error naming the leaf, and no panic.
    let img = Damaged::open(&path).patch(copies[0] + 200, b"damage").patch(copies[1] + 200, b"damage");
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let fs = disk.filesystem(&disk.table.volumes[0]).unwrap().1.unwrap();
    let err = fs.metadata(fs.root()).unwrap_err();
    assert!(matches!(err.kind, coldscan_core::ErrorKind::BadChecksum { .. }), "{err}");
    assert_eq!((err.layer, err.offset), (coldscan_core::Layer::Fs, leaf), "{err}");
    assert!(disk.inspect().errors.iter().any(|e| e.message.contains("checksum")));
}

#[test]
fn tree_block_with_keys_out_of_order() {
    let _serial = serial();
    let (image, path) = zstd_image();
    let leaf = first_fs_leaf(&image);
    let copies = physical(&image, leaf);
    let mut block = read_block(&image, copies[0], 16384);
    // Items 0 and 1 trade keys (17 bytes at 101 and 126): the leaf's keys go backwards.
    let (k0, k1) = (block[101..118].to_vec(), block[126..143].to_vec());
    block[101..118].copy_from_slice(&k1);
    block[126..143].copy_from_slice(&k0);
    fix_checksum(&mut block);
    let img = Damaged::open(&path).patch(copies[0], &block).patch(copies[1], &block);
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let fs = disk.filesystem(&disk.table.volumes[0]).unwrap().1.unwrap();
    let err = fs.metadata(fs.root()).unwrap_err();
    assert_eq!(err.kind, coldscan_core::ErrorKind::Corrupt("tree block keys out of order (a key loop)"), "{err}");
    assert_eq!(err.offset, leaf + 101 + 25);
}

#[test]
fn chunk_item_pointing_past_the_device() {
    let _serial = serial();
    let (image, path) = zstd_image();
    let mut sb = read_block(&image, 0x10000, 4096);
    // The first system chunk item: key (17) + chunk (48), its first stripe's offset at +8.
    let stripe_offset = 0x32B + 17 + 48 + 8;
    sb[stripe_offset..stripe_offset + 8].copy_from_slice(&(1u64 << 50).to_le_bytes());
    fix_checksum(&mut sb);
    let img = Damaged::open(&path).patch(0x10000, &sb);
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let report = disk.inspect();
    assert_eq!(report.volumes[0].filesystem, Some("btrfs"));
    let e = &report.errors[0];
    assert!(e.message.contains("chunk stripe points past the end of the device"), "{e:?}");
    assert_eq!(e.offset, 0x10000 + stripe_offset as u64);
}

#[test]
fn compressed_extent_that_does_not_decode() {
    let _serial = serial();
    let (image, path) = zstd_image();
    // The first extent of /text/t1000000, found by the file's name through dump-tree.
    let dump = tool("btrfs", &["inspect-internal", "dump-tree", "-t", "5", &image]);
    let name_at = dump.find("name: t1000000").unwrap();
    let key_at = dump[..name_at].rfind("location key (").unwrap();
    let ino: u64 = dump[key_at + 14..].split_whitespace().next().unwrap().parse().unwrap();
    let item = dump.find(&format!("key ({ino} EXTENT_DATA 0)")).unwrap();
    let disk_byte: u64 =
        dump[item..].split("disk byte ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let at = physical(&image, disk_byte)[0];
    let img = Damaged::open(&path).patch(at + 8, &[0x55; 64]);
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(Some("whole")).unwrap();
    let node = coldscan_core::fs::resolve(fs.as_ref(), b"/text/t1000000", true).unwrap();
    let file = fs.open_file(node).unwrap();
    let err = file.read_at(0, &mut [0u8; 4096]).unwrap_err();
    assert_eq!((err.layer, err.offset), (coldscan_core::Layer::Fs, disk_byte), "{err}");
    assert!(
        matches!(err.kind, coldscan_core::ErrorKind::Corrupt(m) if m.contains("zstd") || m.contains("declared size")),
        "{err}"
    );
    // Other files still read.
    let other = coldscan_core::fs::resolve(fs.as_ref(), b"/text/t70000", true).unwrap();
    let f = fs.open_file(other).unwrap();
    f.read_at(0, &mut vec![0u8; f.size() as usize]).unwrap();
}

#[test]
fn checksum_type_not_verified_is_said() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("xxhash.img");
    std::fs::File::create(&img).unwrap().set_len(256 << 20).unwrap();
    let tree = fixtures().join("tree");
    let made = std::process::Command::new("mkfs.btrfs")
        .args(["-q", "-f", "--csum", "xxhash", "--rootdir"])
        .arg(&tree)
        .arg(&img)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let dump = tool("btrfs", &["inspect-internal", "dump-super", img.to_str().unwrap()]);
    assert!(dump.contains("csum_type\t\t1 (xxhash64)"), "{dump}");
    let (code, out, err) = run(&["inspect", img.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["targets"][0]["os"]["id"], "debian", "read, unverified");
    let messages: Vec<&str> =
        report["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(
        messages,
        ["fs (btrfs) at offset 0x100c4: unsupported: checksum type other than crc32c: tree blocks not verified"]
    );
}

/// The btrfs partition of opensuse.img copied out as a bare filesystem (the btrfs tools read
/// bare filesystems), sparse.
fn opensuse_partition(dir: &std::path::Path) -> String {
    let img = btrfs_fixtures().join("opensuse.img");
    let table: serde_json::Value =
        serde_json::from_str(&tool("sfdisk", &["-J", img.to_str().unwrap()])).expect("sfdisk -J");
    let part = &table["partitiontable"]["partitions"][1];
    let (start, size) = (part["start"].as_u64().unwrap() * 512, part["size"].as_u64().unwrap() * 512);
    let out = dir.join("suse.btrfs");
    let status = std::process::Command::new("dd")
        .arg(format!("if={}", img.display()))
        .arg(format!("of={}", out.display()))
        .args(["bs=1M", &format!("skip={start}"), &format!("count={size}")])
        .args(["iflag=skip_bytes,count_bytes", "conv=sparse", "status=none"])
        .status()
        .unwrap();
    assert!(status.success());
    out.to_str().unwrap().to_string()
}

/// A btrfs key: (objectid, type, offset).
type Key = (u64, u8, u64);

/// Rewrites item keys of the root tree (tree 1) in every copy of the leaf holding them, with
/// the checksum fixed: each `(from, to)` pair is a 17-byte key.
fn rewrite_root_tree_keys(image: &str, keys: &[(Key, Key)]) {
    let key_bytes = |(objectid, kind, offset): Key| {
        let mut k = objectid.to_le_bytes().to_vec();
        k.push(kind);
        k.extend_from_slice(&offset.to_le_bytes());
        k
    };
    let nodesize: usize = tool("btrfs", &["inspect-internal", "dump-super", image])
        .lines()
        .find_map(|l| l.strip_prefix("nodesize")?.trim().parse().ok())
        .expect("dump-super nodesize");
    let dump = tool("btrfs", &["inspect-internal", "dump-tree", "-t", "1", image]);
    let leaves: Vec<u64> =
        dump.lines().filter_map(|l| l.strip_prefix("leaf ")?.split_whitespace().next()?.parse().ok()).collect();
    let mut rewritten = 0;
    for leaf in leaves {
        let copies = physical(image, leaf);
        let mut block = read_block(image, copies[0], nodesize);
        let mut changed = false;
        for (from, to) in keys {
            let from = key_bytes(*from);
            if let Some(at) = block.windows(17).position(|w| w == from.as_slice()) {
                block[at..at + 17].copy_from_slice(&key_bytes(*to));
                changed = true;
                rewritten += 1;
            }
        }
        if changed {
            fix_checksum(&mut block);
            let mut f = std::fs::OpenOptions::new().write(true).open(image).unwrap();
            for at in copies {
                std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at)).unwrap();
                std::io::Write::write_all(&mut f, &block).unwrap();
            }
        }
    }
    assert_eq!(rewritten, keys.len(), "every key was found in a root tree leaf");
}

#[test]
fn subvolume_parent_references_in_a_cycle() {
    const ROOT_REF: u8 = 156;
    let dir = tempfile::tempdir().unwrap();
    let image = opensuse_partition(dir.path());
    // Two keys rewritten, in valid order: `@` (256) loses its link to the top level, and the
    // link of `@/.snapshots/1/snapshot` (260) under `@/.snapshots` (259) now links `@` there:
    // 256 → 259 → 256.
    rewrite_root_tree_keys(
        &image,
        &[((5, ROOT_REF, 256), (5, ROOT_REF, 255)), ((259, ROOT_REF, 260), (259, ROOT_REF, 256))],
    );
    // btrfs-progs reads the rewritten tree: the keys are where they were put, in order.
    let dump = tool("btrfs", &["inspect-internal", "dump-tree", "-t", "1", &image]);
    assert!(dump.contains("key (FS_TREE ROOT_REF 255)") && dump.contains("key (259 ROOT_REF 256)"), "{dump}");
    let ended = common::crafted::scan_crafted(&[&image], None, dir.path());
    ended.assert_contained("btrfs subvolume cycle");
    assert_eq!(ended.code, 4, "{}", ended.stderr);
    let errors = ended.report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["message"].as_str().unwrap().contains("subvolume parent references form a cycle")),
        "{errors:?}"
    );
}

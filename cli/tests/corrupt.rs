//! Bad input: truncated images, damaged GPT, looping EBR chain, absurd superblock, an extent
//! tree that points at itself, a directory entry with rec_len 0, a symlink loop. Each gives a
//! clear error naming layer and offset — never a panic — and the rest is still read.
//! Damage is injected by a reader that overlays patches on a real fixture (smoltcp's
//! fault-injector idea), so the fixtures themselves stay intact.

mod common;

use coldscan_core::error::{ErrorKind, Layer};
use coldscan_core::fs::{resolve, FileType};
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::{Budget, ReadAt};
use common::*;

fn budget() -> Budget {
    Budget::new(8 << 20)
}

#[test]
fn truncated_image_reads_what_is_there() {
    // The root filesystem starts at 36 MiB and its file data around 46 MiB: cut at 48 MiB.
    let img = Damaged::new("gpt-cloud.raw").truncate(48 << 20);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let report = disk.inspect();
    assert_eq!(report.volumes.len(), 3);
    let (_, fs) = disk.open_volume(Some("gpt:1")).unwrap();
    let fs = fs.as_ref();
    // Walk everything that can be walked; every failure must be a clean end-of-data error.
    let (mut ok, mut failed) = (0, 0);
    let mut check = |e: coldscan_core::Error| {
        let ErrorKind::UnexpectedEof { wanted, .. } = e.kind else { panic!("{e}") };
        assert!(e.offset + wanted > 48 << 20, "{e}");
        failed += 1;
    };
    let mut dirs = vec![fs.root()];
    while let Some(dir) = dirs.pop() {
        let mut children = Vec::new();
        if let Err(e) = fs.read_dir(dir, &mut |e| {
            if e.name != b"." && e.name != b".." {
                children.push(e.node);
            }
            Ok(coldscan_core::fs::Walk::Continue)
        }) {
            check(e);
        }
        for node in children {
            match fs.metadata(node).map(|m| m.file_type) {
                Ok(FileType::Directory) => dirs.push(node),
                Ok(FileType::Regular) => {
                    let file = fs.open_file(node).unwrap();
                    let mut buf = vec![0u8; file.size() as usize];
                    match file.read_at(0, &mut buf) {
                        Ok(()) => ok += 1,
                        Err(e) => check(e),
                    }
                }
                Ok(_) => {}
                Err(e) => check(e),
            }
        }
    }
    eprintln!("truncated: {ok} files read, {failed} cut off");
    assert!(ok > 0 && failed > 0);

    // Cut inside the partition table: no panic, the whole disk is all that is left.
    for size in [0u64, 100, 1000, 17_000] {
        let img = Damaged::new("gpt-cloud.raw").truncate(size);
        let opened = Disk::open(&img, &NoFiles, &b).map(|disk| disk.inspect().volumes.len());
        if let Err(e) = opened {
            assert_eq!(e.layer, Layer::Image, "{e}");
        }
    }
}

#[test]
fn corrupt_primary_gpt_uses_backup() {
    let clean = Damaged::new("gpt-cloud.raw");
    let b = budget();
    let expected: Vec<_> =
        Disk::open(&clean, &NoFiles, &b).unwrap().table.volumes.iter().map(|v| (v.id(), v.start, v.size)).collect();
    // Flip a byte of the primary header's reserved field: its CRC no longer matches.
    let img = Damaged::new("gpt-cloud.raw").patch(512 + 20, &[0xFF]);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let got: Vec<_> = disk.table.volumes.iter().map(|v| (v.id(), v.start, v.size)).collect();
    assert_eq!(got, expected);
    let w = &disk.table.warnings;
    assert!(w.iter().any(|e| matches!(e.kind, ErrorKind::BadChecksum { .. }) && e.offset == 512 + 16), "{w:?}");
    assert!(w.iter().any(|e| e.kind == ErrorKind::Corrupt("primary GPT damaged; backup GPT used")), "{w:?}");
    let report = disk.inspect();
    assert!(report.errors.iter().any(|e| e.message.contains("checksum mismatch")));
    assert_eq!(report.targets.len(), 1, "the root is still found");

    // Both headers gone: no GPT, and the disk is still presented (not a panic).
    let last = clean.size() - 512;
    let img = Damaged::new("gpt-cloud.raw").patch(512, b"XXXXXXXX").patch(last, b"XXXXXXXX");
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    assert_eq!(disk.table.volumes.len(), 1);
}

#[test]
fn looping_ebr_chain_keeps_found_logicals() {
    let clean = Damaged::new("mbr-logical.raw");
    // Follow the real chain: extended partition in slot 3, its first EBR links to the second.
    let ext_start = u64::from(clean.read_u32(446 + 2 * 16 + 8));
    let link1 = u64::from(clean.read_u32(ext_start * 512 + 446 + 16 + 8));
    let ebr2 = ext_start + link1;
    // Make the second EBR link to itself.
    let img = Damaged::new("mbr-logical.raw").patch(ebr2 * 512 + 446 + 16 + 8, &(link1 as u32).to_le_bytes());
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let ids: Vec<String> = disk.table.volumes.iter().map(|v| v.id()).collect();
    assert_eq!(ids, ["mbr:1", "mbr:2", "mbr:3", "mbr:5", "mbr:6"]);
    let w = &disk.table.warnings;
    assert!(w.iter().any(|e| matches!(e.kind, ErrorKind::LoopLimit(_)) && e.offset == ebr2 * 512), "{w:?}");
    assert_eq!(disk.inspect().targets.len(), 3, "mbr:1, mbr:5 and mbr:6 are still read");
}

#[test]
fn absurd_superblock_counts_are_refused() {
    let b = budget();
    for (offset, value, field) in [
        (0u64, u32::MAX, "s_inodes_count"),
        (0x18, 40, "s_log_block_size"),
        (0x20, 0, "s_blocks_per_group"),
        (0x4, u32::MAX, "s_blocks_count"),
    ] {
        let img = Damaged::new("bare-ext4.img").patch(1024 + offset, &value.to_le_bytes());
        let disk = Disk::open(&img, &NoFiles, &b).unwrap();
        let report = disk.inspect();
        let err = report.volumes[0].error.as_deref().unwrap_or_else(|| panic!("{field}: no error"));
        assert!(err.starts_with("fs (ext4) at offset 0x"), "{err}");
        assert!(err.contains(field), "{field}: {err}");
        assert!(report.targets.is_empty());
    }
    // Unknown incompatible feature.
    let img = Damaged::new("bare-ext4.img").patch(1024 + 0x62, &[0x80]);
    let report = Disk::open(&img, &NoFiles, &b).unwrap().inspect();
    assert!(report.volumes[0].error.as_deref().unwrap().contains("unsupported incompatible features 0x800000"));
}

#[test]
fn extent_tree_pointing_at_itself() {
    let path = fixtures().join("ext4-1k.img");
    // debugfs tells where the index node's child (the leaf) is.
    let ex = debugfs(path.to_str().unwrap(), &[String::from("ex /data/spans-groups")]).remove(0);
    let line = ex.lines().find(|l| l.trim_start().starts_with("0/ 1")).expect("a depth-1 extent tree");
    // "0/ 1   1/  1     0 - 40959 41220   40960": the physical block is the 8th field.
    let child: u64 = line.split_whitespace().nth(7).unwrap().parse().unwrap();
    let at = child * 1024;
    // Turn the leaf into an index node (depth 1) whose only entry points at itself.
    let mut node = vec![0x0A, 0xF3, 1, 0, 84, 0, 1, 0, 0, 0, 0, 0];
    node.extend_from_slice(&0u32.to_le_bytes());
    node.extend_from_slice(&(child as u32).to_le_bytes());
    node.extend_from_slice(&[0, 0, 0, 0]);
    let img = Damaged::new("ext4-1k.img").patch(at, &node);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let node_id = resolve(fs.as_ref(), b"/data/spans-groups", true).unwrap();
    let file = fs.open_file(node_id).unwrap();
    let mut buf = [0u8; 4096];
    let err = file.read_at(0, &mut buf).unwrap_err();
    assert_eq!((err.layer, err.offset), (Layer::Fs, at + 6), "{err}");
    assert!(matches!(err.kind, ErrorKind::Corrupt(m) if m.contains("extent tree depth")), "{err}");
    // Other files are unaffected.
    let hostname = resolve(fs.as_ref(), b"/etc/hostname", true).unwrap();
    assert_eq!(sha256_through(fs.as_ref(), hostname), sha256(b"fixture\n"));
}

#[test]
fn directory_entry_with_zero_rec_len() {
    let path = fixtures().join("bare-ext4.img");
    let blocks = debugfs(path.to_str().unwrap(), &[String::from("blocks /many")]).remove(0);
    let first: u64 = blocks.split_whitespace().next().unwrap().parse().unwrap();
    let at = first * 4096;
    // The first entry ('.') keeps its inode; its rec_len becomes 0.
    let img = Damaged::new("bare-ext4.img").patch(at + 4, &[0, 0]);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let many = resolve(fs.as_ref(), b"/many", true).unwrap();
    let err = fs.read_dir(many, &mut |_| Ok(coldscan_core::fs::Walk::Continue)).unwrap_err();
    assert_eq!((err.layer, err.offset, err.kind), (Layer::Fs, at + 4, ErrorKind::Corrupt("directory entry rec_len")));
    // The OS is still detected from the intact directories.
    assert_eq!(disk.inspect().targets.len(), 1);
}

#[test]
fn symlink_loop_is_an_error() {
    let b = budget();
    let img = Damaged::new("bare-ext4.img");
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let err = resolve(fs.as_ref(), b"/data/loop-a", true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::SymlinkLoop);
    // Not following the last link gives the link itself.
    let node = resolve(fs.as_ref(), b"/data/loop-a", false).unwrap();
    assert_eq!(fs.metadata(node).unwrap().file_type, FileType::Symlink);
    // Absolute and relative links resolve inside the image.
    for link in ["/data/abs-link", "/data/rel-link", "/data/long-link"] {
        let node = resolve(fs.as_ref(), link.as_bytes(), true).unwrap();
        assert_eq!(sha256_through(fs.as_ref(), node), sha256(b"fixture\n"), "{link}");
    }
}

#[test]
fn memory_budget_is_enforced_not_aborted() {
    let img = Damaged::new("gpt-cloud.raw");
    let tiny = Budget::new(64 << 10);
    let disk = Disk::open(&img, &NoFiles, &tiny).unwrap();
    let report = disk.inspect();
    let err = report.volumes.iter().find(|v| v.id == "gpt:1").unwrap().error.as_deref().unwrap();
    assert!(err.contains("memory budget exceeded"), "{err}");
    drop(disk);
    assert_eq!(tiny.used(), 0, "everything reserved was given back");
}

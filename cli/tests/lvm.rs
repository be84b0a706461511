//! LVM2 and root assembly, against what the real lvm2 tools made and report:
//! - a VG on two PVs (two GPT partitions), made by pvcreate/vgcreate/lvcreate/lvextend/lvrename
//!   on loop devices: the LVs coldscan lists are those `lvs` lists (names, sizes); each LV's
//!   bytes equal the filesystem image written into it at the extents `lvs` reports (a linear LV
//!   of two segments, and a striped LV); the metadata used is the newest of the copies in the
//!   circular buffer (the rename shows);
//! - a RHEL-style qcow2 disk (ESP, /boot XFS, a PV with root, var and swap LVs; fstab by
//!   /dev/mapper name, /dev/VG/LV and UUID=): the rpmdb on /var is found only through the
//!   fstab assembly and lists what `rpm -qa` listed;
//! - damaged metadata, a segment past its PV's end, a missing PV: clear errors, the rest read.
//!
//! Fixtures: `testdata/make-lvm.sh` (root, loop devices, activation off).

mod common;

use coldscan_core::error::{ErrorKind, Layer};
use coldscan_core::fs::resolve;
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::progress::DEFAULT_READ_LIMIT;
use coldscan_core::{Budget, ReadAt};
use coldscan_host::source::FileSource;
use common::counting::{measure, serial, Counting};
use common::*;
use serde_json::Value;
use std::process::Command;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// (LV name → size in bytes) as `lvs` reported it.
fn lvs_sizes(file: &str) -> std::collections::BTreeMap<String, u64> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(lvm_fixtures().join(file)).unwrap()).unwrap();
    report["report"][0]["seg"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let vg = s["vg_name"].as_str().unwrap();
            let size = s["lv_size"].as_str().unwrap().trim_end_matches('B').parse().unwrap();
            (format!("lvm:{vg}/{}", s["lv_name"].as_str().unwrap()), size)
        })
        .collect()
}

#[test]
fn two_pv_volume_group_matches_lvs() {
    let _serial = serial();
    let dir = lvm_fixtures();
    assert_eq!(std::fs::read_to_string(dir.join("two-pv.vgck")).unwrap().trim(), "0", "vgck accepts the VG");
    let copies: u32 = std::fs::read_to_string(dir.join("two-pv.copies")).unwrap().trim().parse().unwrap();
    assert!(copies >= 8, "the circular buffers hold {copies} metadata copies");
    let source = FileSource::open(&dir.join("two-pv.raw")).unwrap();
    let budget = Budget::new(8 << 20);
    let (_, heap_peak, _) = measure(|| Disk::open(&source, &NoFiles, &budget).unwrap().inspect());
    assert!(heap_peak < 8 << 20, "heap peak {heap_peak}");
    let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
    let ours: std::collections::BTreeMap<String, u64> =
        disk.table.volumes.iter().filter(|v| v.id().starts_with("lvm:")).map(|v| (v.id(), v.size)).collect();
    assert_eq!(ours, lvs_sizes("two-pv.lvs.json"), "LVs and sizes as lvs reports them");
    // Each LV's bytes are the filesystem image written into it (root: two segments; striped:
    // 64 KiB stripes over both PVs).
    for (lv, image) in [("lvm:fixturevg/root", "two-pv.root.ext4"), ("lvm:fixturevg/striped", "two-pv.striped.ext4")] {
        let v = disk.table.volumes.iter().find(|v| v.id() == lv).unwrap();
        let bytes = disk.volume_bytes(v).unwrap();
        let written = FileSource::open(&dir.join(image)).unwrap();
        assert_eq!(bytes.size(), written.size(), "{lv}");
        assert_eq!(sha256_of(bytes.as_ref()), sha256_of(&written), "{lv}: bytes differ from {image}");
    }
    // The root LV holds the Debian tree: OS, packages, files.
    let report = disk.inspect();
    assert_eq!(report.targets.len(), 1);
    assert_eq!(report.targets[0].volume, "lvm:fixturevg/root");
    assert_eq!(report.targets[0].os.family, "debian");
    eprintln!("two-pv: {} LVs as lvs lists them; heap peak {heap_peak} bytes", ours.len());
}

#[test]
fn cli_inspect_lists_logical_volumes() {
    let _serial = serial();
    let img = lvm_fixtures().join("two-pv.raw");
    let (code, out, err) = run(&["inspect", img.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_slice(&out).unwrap();
    let fs_of = |id: &str| {
        report["volumes"].as_array().unwrap().iter().find(|v| v["id"] == id).map(|v| v["filesystem"].clone()).unwrap()
    };
    assert_eq!(fs_of("gpt:1"), "LVM2_member");
    assert_eq!(fs_of("lvm:fixturevg/root"), "ext4");
    assert_eq!(fs_of("lvm:fixturevg/striped"), "ext4");
    let (code, out, err) = run(&["ls", img.to_str().unwrap(), "/", "--volume", "lvm:fixturevg/striped"]);
    assert_eq!(code, 0, "{err}");
    assert!(String::from_utf8(out).unwrap().contains("lost+found"));
}

#[test]
fn rhel_style_disk_assembles_var_from_fstab() {
    let _serial = serial();
    let img = lvm_fixtures().join("rhel.qcow2");
    let img_s = img.to_str().unwrap();
    let (code, out, err) = run(&["inspect", img_s, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["errors"], Value::Array(vec![]), "swap, tmpfs and the ESP are not errors");
    let target = &report["targets"][0];
    assert_eq!(target["volume"], "lvm:rl-sys/root");
    let mounts: Vec<(String, String)> = target["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["path"].as_str().unwrap().to_string(), m["volume"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(mounts, [("/boot".into(), "gpt:2".into()), ("/var".into(), "lvm:rl-sys/var".into())]);
    assert_eq!(target["kernels"][0], "5.14.0-284.11.1.el9_2.x86_64", "from /boot, a separate XFS volume");
    // Memory: the whole inspection (qcow2, LVM, two XFS, fstab, 2,001 packages) under 8 MiB.
    let source = coldscan_host::ImageArgs { image: img.clone(), mem_limit: 8 << 20, read_limit: DEFAULT_READ_LIMIT }
        .open(&coldscan_core::progress::NoProgress)
        .unwrap();
    let (packages, heap_peak, _) = measure(|| {
        let disk = Disk::open(&source.source, &source.opener, &source.budget).unwrap();
        disk.inspect().targets[0].package_databases[0].packages
    });
    assert_eq!(packages, 2001);
    assert!(heap_peak < 8 << 20, "heap peak {heap_peak}");
    eprintln!("rhel.qcow2: inspected with a heap peak of {heap_peak} bytes");
    // The rpmdb is on /var: the root volume alone does not have it.
    let disk = Disk::open(&source.source, &source.opener, &source.budget).unwrap();
    let root = disk.table.volumes.iter().find(|v| v.id() == "lvm:rl-sys/root").unwrap();
    let (_, alone) = disk.filesystem(root).unwrap();
    let err = resolve(alone.unwrap().as_ref(), b"/var/lib/rpm/rpmdb.sqlite", true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    // Through the assembly: every package rpm -qa listed when the rpmdb was made.
    let (code, out, err) = run(&["packages", img_s, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_slice(&out).unwrap();
    let ours: std::collections::BTreeSet<String> = report["targets"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}\t{}", p["name"].as_str().unwrap(), p["version"].as_str().unwrap()))
        .collect();
    let expected = std::fs::read_to_string(fixtures().join("rpmdb/sqlite/expected.tsv")).unwrap();
    let theirs: std::collections::BTreeSet<String> = expected
        .lines()
        .map(|l| {
            let t: Vec<&str> = l.split('\t').collect();
            let epoch = if t[1] == "(none)" { String::new() } else { format!("{}:", t[1]) };
            format!("{}\t{epoch}{}-{}", t[0], t[2], t[3])
        })
        .collect();
    assert_eq!(ours, theirs);
    // cat through the mount.
    let (code, out, _) = run(&["cat", img_s, "/boot/grub2/grub.cfg"]);
    assert_eq!((code, out), (0, b"set default=0\n".to_vec()));
}

/// lvm2's `calc_crc`, computed with crc32fast (an implementation not written here).
fn lvm_crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(!0xf597_a6cf);
    h.update(data);
    !h.finalize()
}

/// The first PV's metadata area: (area offset on the disk, text offset, text).
fn first_pv_metadata(img: &Damaged, pv_start: u64) -> (u64, u64, Vec<u8>) {
    let area = pv_start + 4096;
    let mut header = [0u8; 64];
    img.read_at(area, &mut header).unwrap();
    let text_at = u64::from_le_bytes(header[40..48].try_into().unwrap());
    let len = u64::from_le_bytes(header[48..56].try_into().unwrap());
    let mut text = vec![0u8; len as usize];
    img.read_at(area + text_at, &mut text).unwrap();
    (area, area + text_at, text)
}

/// Rewrites the committed metadata text of both PVs of two-pv.raw with `edit`, CRCs fixed.
fn edit_metadata(edit: impl Fn(&str) -> String) -> Damaged {
    let path = lvm_fixtures().join("two-pv.raw");
    let mut img = Damaged::open(&path);
    for pv_start in [1_048_576u64, 158_334_976] {
        let (area, text_at, text) = first_pv_metadata(&img, pv_start);
        let new = edit(std::str::from_utf8(&text).unwrap().trim_end_matches('\0')).into_bytes();
        let mut header = [0u8; 512];
        img.read_at(area, &mut header).unwrap();
        header[48..56].copy_from_slice(&(new.len() as u64).to_le_bytes());
        header[56..60].copy_from_slice(&lvm_crc(&new).to_le_bytes());
        let crc = lvm_crc(&header[4..]);
        header[0..4].copy_from_slice(&crc.to_le_bytes());
        img = img.patch(text_at, &new).patch(area, &header);
    }
    img
}

#[test]
fn metadata_that_does_not_parse() {
    let _serial = serial();
    let img = edit_metadata(|t| t.replacen("seqno = ", "seqno = = ", 1));
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    assert!(disk.table.volumes.iter().all(|v| !v.id().starts_with("lvm:")), "no LVs from unparsable metadata");
    let w: Vec<_> = disk.table.warnings.iter().filter(|e| e.format == "lvm2").collect();
    assert_eq!(w.len(), 2, "one per PV: {w:?}");
    for e in w {
        assert_eq!((e.layer, e.kind), (Layer::Volume, ErrorKind::Corrupt("metadata text")), "{e}");
        assert!(e.offset > 1_048_576 + 4096, "offset on the disk, inside the metadata area: {e}");
    }
    // The partitions are still listed.
    assert_eq!(disk.inspect().volumes.len(), 2);
}

#[test]
fn metadata_tree_is_charged_to_the_budget_in_total() {
    let _serial = serial();
    // Sections of 4,000 small values each (every one under the per-section cap), filling the
    // metadata area after the volume group: about 150,000 values in all.
    let area_size = {
        let img = Damaged::open(&lvm_fixtures().join("two-pv.raw"));
        let mut header = [0u8; 64];
        img.read_at(1_048_576 + 4096, &mut header).unwrap();
        u64::from_le_bytes(header[32..40].try_into().unwrap())
    };
    let section = format!("s {{ {}}}\n", "a = 1 ".repeat(4000));
    let filler = section.repeat((area_size as usize * 9 / 10) / section.len());
    let img = edit_metadata(|t| format!("{t}\n{filler}"));
    let b = Budget::new(8 << 20);
    let (disk, heap_peak, _) = measure(|| Disk::open(&img, &NoFiles, &b).unwrap());
    assert!(heap_peak < 8 << 20, "heap peak {heap_peak} within the 8 MiB budget");
    assert!(disk.table.volumes.iter().all(|v| !v.id().starts_with("lvm:")), "no LVs from metadata over budget");
    let w: Vec<_> = disk.table.warnings.iter().filter(|e| e.format == "lvm2").collect();
    assert!(!w.is_empty());
    for e in w {
        assert!(matches!(e.kind, ErrorKind::MemoryLimit { .. }), "{e}");
        assert!(e.offset > 1_048_576 + 4096, "offset on the disk, inside the metadata text: {e}");
    }
    // The scan says it could not read the volume group: never a clean result.
    let report = disk.inspect();
    assert!(report.errors.iter().any(|e| e.message.contains("memory")), "{:?}", report.errors);
}

#[test]
fn extents_mapped_twice_are_refused() {
    let _serial = serial();
    // `other` (pv0 extents 8..12) moved onto extents 4..8, which `root`'s first segment maps.
    let img = edit_metadata(|t| t.replacen("\"pv0\", 8\n", "\"pv0\", 4\n", 1));
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let state = |id: &str| disk.table.volumes.iter().find(|v| v.id() == id).unwrap().unreadable.map(|e| e.kind);
    let shared = Some(ErrorKind::Corrupt("physical extents mapped more than once (overlapping or reused LV segments)"));
    assert_eq!(state("lvm:fixturevg/root"), shared);
    assert_eq!(state("lvm:fixturevg/other"), shared);
    assert_eq!(state("lvm:fixturevg/striped"), None, "an LV on extents of its own is still read");
    let report = disk.inspect();
    assert!(report.errors.iter().any(|e| e.volume.as_deref() == Some("lvm:fixturevg/root")), "{:?}", report.errors);
}

#[test]
fn segment_past_the_end_of_its_pv() {
    let _serial = serial();
    // The striped LV's second stripe (6 extents) moved to extent 35 of a 37-extent PV.
    let img = edit_metadata(|t| t.replacen("\"pv1\", 0", "\"pv1\", 35", 1));
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let striped = disk.table.volumes.iter().find(|v| v.id() == "lvm:fixturevg/striped").unwrap();
    let e = striped.unreadable.expect("the striped LV is unreadable");
    assert_eq!((e.layer, e.kind), (Layer::Volume, ErrorKind::Corrupt("segment runs past the end of its PV")));
    let report = disk.inspect();
    assert!(report.errors.iter().any(|e| e.volume.as_deref() == Some("lvm:fixturevg/striped")), "{:?}", report.errors);
    assert_eq!(report.targets.len(), 1, "the root LV is still read");
}

#[test]
fn missing_physical_volume() {
    let _serial = serial();
    // Cut the disk after the first partition: the second PV (and the backup GPT) are gone.
    let img = Damaged::open(&lvm_fixtures().join("two-pv.raw")).truncate(158_334_976);
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let striped = disk.table.volumes.iter().find(|v| v.id() == "lvm:fixturevg/striped").unwrap();
    assert_eq!(
        striped.unreadable.map(|e| e.kind),
        Some(ErrorKind::Missing("a physical volume of this LV is not in the image"))
    );
    let report = disk.inspect();
    assert_eq!(report.targets.len(), 1, "the root LV, all on the first PV, is still read");
    assert!(report.volumes.iter().any(|v| v.id == "lvm:fixturevg/striped" && v.error.is_some()));
}

#[test]
fn disk_from_the_shared_mklvm_writer() {
    let _serial = serial();
    let Some(tool) = shared("fixture-tools/mklvm.py") else { return };
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("hand.img");
    std::fs::File::create(&img).unwrap().set_len(256 << 20).unwrap();
    let out = Command::new("/usr/bin/python3")
        .arg(tool)
        .arg(&img)
        .args(["0", &(256u64 << 20).to_string(), "handvg", "root:96", "swap:32", "home:40"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // "lvname offset size" per LV, as the writer laid them out.
    let theirs: Vec<(String, u64, u64)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            (format!("lvm:handvg/{}", t[0]), t[1].parse().unwrap(), t[2].parse().unwrap())
        })
        .collect();
    let source = FileSource::open(&img).unwrap();
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&source, &NoFiles, &b).unwrap();
    let ours: Vec<(String, u64, u64)> =
        disk.table.volumes.iter().filter(|v| v.lv.is_some()).map(|v| (v.id(), v.start, v.size)).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn volume_with_a_filesystem_coldscan_does_not_read() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("root.squashfs");
    let made = Command::new("mksquashfs")
        .arg(fixtures().join("tree/etc"))
        .arg(&img)
        .args(["-quiet", "-no-progress", "-noappend"])
        .status()
        .unwrap();
    assert!(made.success(), "mksquashfs");
    let (code, out, err) = run(&["inspect", img.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["volumes"][0]["filesystem"], "squashfs");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["volume"], "whole");
    assert_eq!(errors[0]["message"], "whole holds a squashfs filesystem, which coldscan does not read: not scanned");
}

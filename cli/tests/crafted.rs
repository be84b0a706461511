//! Crafted images, made as an attacker would (with real tools where one writes the format):
//! each scan ends, within the memory a `--mem-limit 64MiB` scan may take (peak RSS measured by
//! GNU time, at most 128 MB), is never a complete exit-0 scan, and opens no file outside the
//! image's directory. The btrfs subvolume cycle and the LVM metadata tree are in `btrfs.rs`
//! and `lvm.rs`, beside the helpers that rewrite those formats.

mod common;

use common::crafted::scan_crafted;
use common::*;
use serde_json::Value;
use std::io::Read as _;
use std::path::Path;
use std::process::Command;

/// A monolithicFlat VMDK descriptor naming one flat extent of `sectors` sectors.
fn flat_descriptor(extent: &str, sectors: u64) -> String {
    format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n\
         # Extent description\nRW {sectors} FLAT \"{extent}\" 0\n\nddb.virtualHWVersion = \"4\"\n"
    )
}

/// A qcow2 overlay made by qemu-img whose backing file is `backing` (not opened when made).
fn qcow2_over(dir: &Path, backing: &str) -> std::path::PathBuf {
    let top = dir.join("top.qcow2");
    let made = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", "raw"])
        .arg(&top)
        .arg("64M")
        .status()
        .unwrap();
    assert!(made.success(), "qemu-img create");
    top
}

#[test]
fn a_fifo_named_by_the_image_is_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("disk-flat.vmdk");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::write(dir.path().join("disk.vmdk"), flat_descriptor("disk-flat.vmdk", 131_072)).unwrap();
    let top = qcow2_over(dir.path(), "disk-flat.vmdk");
    for image in [dir.path().join("disk.vmdk"), top] {
        let what = format!("FIFO beside {}", image.display());
        let ended = scan_crafted(&[image.to_str().unwrap()], None, dir.path());
        ended.assert_contained(&what);
        assert!(ended.stderr.contains("not a regular file beside it"), "{what}: {}", ended.stderr);
    }
}

#[test]
fn a_link_named_by_the_image_is_never_followed() {
    // The link points at a real disk outside the image's directory: reading it would report
    // that disk's OS and packages as the image's.
    let outside = fixtures().join("sample.img");
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("disk-flat.vmdk")).unwrap();
    let sectors = std::fs::metadata(&outside).unwrap().len() / 512;
    std::fs::write(dir.path().join("disk.vmdk"), flat_descriptor("disk-flat.vmdk", sectors)).unwrap();
    let top = qcow2_over(dir.path(), "disk-flat.vmdk");
    for image in [dir.path().join("disk.vmdk"), top] {
        let what = format!("link beside {}", image.display());
        let ended = scan_crafted(&[image.to_str().unwrap()], None, dir.path());
        ended.assert_contained(&what);
        assert!(ended.stderr.contains("not a regular file beside it"), "{what}: {}", ended.stderr);
        assert!(!ended.stderr.contains("alpine") && ended.report == Value::Null, "{what}: nothing of the outside disk");
    }
}

/// gzip of `len` zero bytes (what a gzip bomb inflates to), made with flate2.
fn zeros_gzip(len: u64) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::copy(&mut std::io::repeat(0).take(len), &mut enc).unwrap();
    enc.finish().unwrap()
}

#[test]
fn a_gzip_bomb_spools_no_more_than_the_read_limit() {
    let bomb = zeros_gzip(1 << 30);
    let dir = tempfile::tempdir().unwrap();
    let spool_dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb.img.gz");
    std::fs::write(&file, &bomb).unwrap();
    let limit = 64u64 << 20;
    let limit_arg = limit.to_string();
    for (what, args, stdin) in [
        ("gzip file", vec![file.to_str().unwrap(), "--read-limit", &limit_arg], None),
        ("gzip on standard input", vec!["-", "--read-limit", &limit_arg], Some(bomb.clone())),
    ] {
        let ended = scan_crafted(&args, stdin, spool_dir.path());
        ended.assert_contained(what);
        assert_eq!(ended.code, 4, "{what}: {}", ended.stderr);
        let spooled = ended.report["image"]["spooled"].as_u64().unwrap();
        assert!(spooled <= limit, "{what}: spooled {spooled}");
        let why = format!("source (spool) at offset {spooled:#x}: the scan's read limit of {limit} bytes");
        assert!(ended.reasons().iter().any(|r| r.starts_with(&why)), "{what}: {:?}", ended.reasons());
        assert_eq!(std::fs::read_dir(spool_dir.path()).unwrap().count(), 0, "{what}: the spool file is removed");
    }
    // The time limit stops spooling too.
    let ended = scan_crafted(&[file.to_str().unwrap(), "--timeout", "0s"], None, spool_dir.path());
    ended.assert_contained("gzip file with a time limit");
    assert_eq!(ended.reasons()[0], "the scan stopped early: the time limit was reached");
}

/// Writes `fstab` into the Alpine root (gpt:1) of a copy of the sample image with debugfs,
/// and `link` (name, target) as a symbolic link there when given.
fn sample_with_fstab(dir: &Path, fstab: &str, link: Option<(&str, &str)>) -> std::path::PathBuf {
    let image = dir.join("sample.img");
    std::fs::copy(fixtures().join("sample.img"), &image).unwrap();
    let file = dir.join("fstab");
    std::fs::write(&file, fstab).unwrap();
    let mut commands = vec!["rm /etc/fstab".to_string(), format!("write {} /etc/fstab", file.display())];
    if let Some((name, target)) = link {
        commands.push(format!("rmdir {name}"));
        commands.push(format!("symlink {name} {target}"));
    }
    let script = dir.join("debugfs.cmd");
    std::fs::write(&script, commands.join("\n") + "\n").unwrap();
    let out = Command::new("debugfs")
        .arg("-w")
        .arg("-f")
        .arg(&script)
        .arg(format!("{}?offset=1048576", image.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "debugfs: {}", String::from_utf8_lossy(&out.stderr));
    let check = debugfs(&format!("{}?offset=1048576", image.display()), &["cat /etc/fstab".to_string()]);
    assert_eq!(check[0], fstab, "debugfs wrote the fstab");
    image
}

#[test]
fn an_fstab_mount_over_the_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (mount_point, link) in [("/.", None), ("//", None), ("/etc/..", None), ("/srv", Some(("/srv", "/")))] {
        let what = format!("LABEL=rocky on {mount_point}");
        let fstab = format!("LABEL=rocky {mount_point} ext4 defaults 0 1\n");
        let image = sample_with_fstab(dir.path(), &fstab, link);
        let ended = scan_crafted(&[image.to_str().unwrap()], None, dir.path());
        ended.assert_contained(&what);
        assert_eq!(ended.code, 4, "{what}: {}", ended.stderr);
        // The Alpine root keeps its own OS and packages; the refused mount is a reason.
        let alpine = ended.report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["volume"] == "gpt:1")
            .unwrap_or_else(|| panic!("{what}: {}", ended.report["targets"]));
        assert_eq!(alpine["os"]["family"], "alpine", "{what}");
        assert_eq!(alpine["packages"].as_array().unwrap().len(), 14, "{what}");
        assert!(
            ended
                .reasons()
                .iter()
                .any(|r| r.contains(&format!("fstab: LABEL=rocky on {mount_point}"))
                    && r.contains("resolves to / itself")),
            "{what}: {:?}",
            ended.reasons()
        );
    }
}

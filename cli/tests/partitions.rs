//! `coldscan inspect --format json` lists exactly the partitions that util-linux sfdisk reports
//! (number, start, size, type), and the expected filesystems and OS on the fixture disks.

mod common;

use common::*;
use serde_json::Value;

fn inspect_json(image: &str) -> Value {
    let path = fixtures().join(image);
    let (code, out, err) = run(&["inspect", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_slice(&out).unwrap()
}

fn sfdisk_json(image: &str) -> Value {
    let out = std::process::Command::new("sfdisk").arg("--json").arg(fixtures().join(image)).output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn assert_same_partitions(image: &str) {
    let ours = inspect_json(image);
    let theirs = sfdisk_json(image);
    let table = &theirs["partitiontable"];
    let sector = table["sectorsize"].as_u64().unwrap();
    let scheme = match table["label"].as_str().unwrap() {
        "dos" => "mbr",
        other => other,
    };
    assert_eq!(ours["partition_table"]["scheme"], scheme);
    let mut expected: Vec<(String, u64, u64, String)> = table["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            // The node is the image path with the partition number appended.
            let node = p["node"].as_str().unwrap();
            let digits = node.chars().rev().take_while(char::is_ascii_digit).count();
            let number = &node[node.len() - digits..];
            let kind = p["type"].as_str().unwrap().to_ascii_uppercase();
            let kind = if scheme == "mbr" { format!("0X{:02X}", u8::from_str_radix(&kind, 16).unwrap()) } else { kind };
            (
                format!("{scheme}:{number}"),
                p["start"].as_u64().unwrap() * sector,
                p["size"].as_u64().unwrap() * sector,
                kind,
            )
        })
        .collect();
    let mut got: Vec<(String, u64, u64, String)> = ours["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["start"].as_u64().unwrap(),
                v["size"].as_u64().unwrap(),
                v["type"].as_str().unwrap().to_ascii_uppercase(),
            )
        })
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "{image}: partitions differ from sfdisk --json");
}

#[test]
fn gpt_cloud_matches_sfdisk() {
    assert_same_partitions("gpt-cloud.raw");
    let r = inspect_json("gpt-cloud.raw");
    let vol = |id: &str| r["volumes"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap().clone();
    assert_eq!(vol("gpt:15")["filesystem"], "vfat");
    assert_eq!(vol("gpt:15")["partition_name"], "esp");
    assert_eq!(vol("gpt:1")["filesystem"], "ext4");
    assert_eq!(vol("gpt:1")["label"], "cloudimg-rootfs");
    assert_eq!(vol("gpt:14")["type_name"], "BIOS boot");
    assert_eq!(r["image"]["format"], "raw");
    assert!(r["image"]["bytes_read"].as_u64().unwrap() > 0);
}

#[test]
fn mbr_with_logicals_matches_sfdisk() {
    assert_same_partitions("mbr-logical.raw");
    let r = inspect_json("mbr-logical.raw");
    let fs: Vec<(String, String)> = r["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap().into(), v["filesystem"].as_str().unwrap_or("-").into()))
        .collect();
    let fs: Vec<(&str, &str)> = fs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        fs,
        [("mbr:1", "ext4"), ("mbr:2", "swap"), ("mbr:3", "-"), ("mbr:5", "ext3"), ("mbr:6", "ext2"), ("mbr:7", "ext4")]
    );
}

#[test]
fn twenty_gib_disk_matches_sfdisk() {
    assert_same_partitions("big-sparse.raw");
}

#[test]
fn os_and_kernels_of_fixture_roots() {
    for (image, volume) in [("gpt-cloud.raw", "gpt:1"), ("bare-ext4.img", "whole"), ("big-sparse.raw", "gpt:1")] {
        let r = inspect_json(image);
        let t = r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["volume"] == volume)
            .unwrap_or_else(|| panic!("{image}: no target"));
        // The fixture root carries this machine's own os-release (Debian 12) and a
        // debian_version naming the point release (12.8), which trivy and virt-inspector report.
        let host = coldscan_core::os::from_os_release(&std::fs::read_to_string("/usr/lib/os-release").unwrap(), "host");
        let point = std::fs::read_to_string(fixtures().join("tree/etc/debian_version")).unwrap();
        assert_eq!(t["os"]["family"], host.family.as_str(), "{image}");
        assert!(point.starts_with(&format!("{}.", host.version_id.as_deref().unwrap())), "{point}");
        assert_eq!(t["os"]["version_id"], point.trim(), "{image}");
        assert_eq!(t["os"]["source"], "/etc/os-release", "{image}: found through the symlink");
        assert_eq!(t["kernels"], serde_json::json!(["6.1.0-13-amd64"]), "{image}");
    }
}

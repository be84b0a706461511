//! The `coldscan` binary as users and scripts meet it: exit codes, error lines, output formats.

mod common;

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> String {
    fixtures().join(name).to_str().unwrap().to_string()
}

#[test]
fn cat_streams_exact_bytes() {
    let img = fixture("gpt-cloud.raw");
    for path in ["/usr/bin/tool", "/data/random-3m", "/data/sparse-hole", "/etc/os-release", "/data/size-0"] {
        let (code, out, err) = run(&["cat", &img, path]);
        assert_eq!(code, 0, "{path}: {err}");
        let source = std::fs::read(fixtures().join("tree").join(&path[1..])).unwrap();
        assert_eq!(sha256(&out), sha256(&source), "{path}");
    }
    // An explicit volume, and a logical one on the MBR disk.
    let (code, out, _) = run(&["cat", &fixture("mbr-logical.raw"), "/etc/hostname", "--volume", "mbr:6"]);
    assert_eq!((code, out), (0, b"fixture\n".to_vec()));
}

#[test]
fn ls_lists_like_ls_l() {
    let img = fixture("bare-ext4.img");
    let (code, out, err) = run(&["ls", &img, "/data", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let entries: Vec<Value> =
        out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let find = |name: &str| entries.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{name} missing"));
    assert_eq!(find("size-4097")["size"], 4097);
    assert_eq!(find("size-4097")["type"], "file");
    assert_eq!(find("abs-link")["target"], "/etc/hostname");
    assert_eq!(find("..")["type"], "dir");
    let (code, out, _) = run(&["ls", &img, "/usr/bin"]);
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    let line = text.lines().find(|l| l.ends_with(" tool")).unwrap();
    assert!(line.starts_with("-rwsr-xr-x "), "{line}");
    assert!(line.contains(" 20000 "), "{line}");
    // A file lists itself; a link shows its target.
    let (_, out, _) = run(&["ls", &img, "/etc/os-release"]);
    assert!(String::from_utf8(out).unwrap().trim_end().ends_with("os-release -> ../usr/lib/os-release"));
}

#[test]
fn inspect_table_names_the_layers() {
    let (code, out, err) = run(&["inspect", &fixture("gpt-cloud.raw")]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(out).unwrap();
    for want in ["raw", "gpt:15", "EFI System", "vfat", "cloudimg-rootfs", "OS on gpt:1", "6.1.0-13-amd64"] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }
}

#[test]
fn unreadable_images_exit_3_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.vmdk");
    std::fs::write(&empty, b"").unwrap();
    let (code, _, err) = run(&["inspect", empty.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("image") && err.contains("empty image"), "{err}");

    let missing = dir.path().join("missing.img");
    let (code, _, err) = run(&["inspect", missing.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("missing.img"), "{err}");

    // A container feature coldscan does not read is named, not misread as raw.
    let qcow = dir.path().join("disk.img");
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-o", "compression_type=zstd"])
        .arg(&qcow)
        .arg("1M")
        .status()
        .expect("qemu-img");
    assert!(made.success());
    let (code, _, err) = run(&["inspect", qcow.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("qcow2") && err.contains("zstd"), "{err}");

    // A path that does not exist inside the image.
    let (code, _, err) = run(&["cat", &fixture("bare-ext4.img"), "/no/such/file"]);
    assert_eq!(code, 3);
    assert!(err.contains("no such file or directory"), "{err}");
    let (code, _, err) = run(&["cat", &fixture("bare-ext4.img"), "/data/loop-a"]);
    assert_eq!(code, 3);
    assert!(err.contains("too many levels of symbolic links"), "{err}");
}

#[test]
fn not_a_disk_is_reported_plainly() {
    // 4 bytes of text: a raw "disk" with nothing on it — reported, not an error.
    let dir = tempfile::tempdir().unwrap();
    let mock = dir.path().join("mock.img");
    std::fs::write(&mock, b"mock").unwrap();
    let (code, out, err) = run(&["inspect", "--format", "json", mock.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["volumes"][0]["id"], "whole");
    assert_eq!(r["volumes"][0]["filesystem"], Value::Null);
    assert_eq!(r["targets"], serde_json::json!([]));
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = run(&["inspect"]);
    assert_eq!(code, 2);
    let (code, _, err) = run(&["inspect", "x", "--mem-limit", "lots"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn mem_limit_flag_reaches_the_core() {
    let (code, out, _) = run(&["inspect", "--format", "json", "--mem-limit", "64KiB", &fixture("gpt-cloud.raw")]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_slice(&out).unwrap();
    let root = r["volumes"].as_array().unwrap().iter().find(|v| v["id"] == "gpt:1").unwrap();
    assert!(root["error"].as_str().unwrap().contains("memory budget exceeded"));
}

#[test]
fn packages_cyclonedx_round_trips_and_validates() {
    use cyclonedx_bom::models::bom::Bom;
    use cyclonedx_bom::validation::Validate;
    let (code, out, err) = run(&["packages", "--format", "cyclonedx", &fixture("rpm-root.img")]);
    assert_eq!(code, 0, "{err}");
    let bom = Bom::parse_from_json_v1_5(&out[..]).expect("CycloneDX 1.5 JSON");
    let result = bom.validate();
    assert!(result.passed(), "{result:?}");
    let components = bom.components.unwrap().0;
    let expected = std::fs::read_to_string(fixtures().join("rpmdb/sqlite/expected.tsv")).unwrap().lines().count();
    assert_eq!(components.len(), expected + 1, "packages plus the operating system");
    let purls: Vec<String> = components.iter().filter_map(|c| c.purl.as_ref().map(|p| p.to_string())).collect();
    assert!(
        purls.contains(&String::from("pkg:rpm/rocky/openssl-libs@1.0.2k-19.el7?arch=x86_64&distro=rocky-9.2&epoch=1")),
        "{:?}",
        &purls[..3]
    );
}

#[test]
fn packages_of_a_directory_and_a_database_file() {
    let tree = fixtures().join("tree");
    let (code, out, err) = run(&["packages", "--format", "json", tree.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["source"]["kind"], "dir");
    assert_eq!(r["targets"][0]["os"]["source"], "/etc/os-release", "the symlink is resolved inside the directory");
    assert!(r["targets"][0]["packages"].as_array().unwrap().len() > 50);
    let db = fixtures().join("rpmdb/bdb-be/Packages");
    let (code, out, _) = run(&["packages", "--format", "json", db.to_str().unwrap()]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["source"]["kind"], "db");
    assert_eq!(r["targets"][0]["package_databases"][0]["format"], "bdb");
}

//! Every file and directory of every fixture filesystem, read through coldscan, against
//! e2fsprogs' debugfs: same names, modes and sizes in every directory (`ls -l`), same bytes in
//! every regular file (`rdump`), same symlink targets.

mod common;

use coldscan_core::fs::FileType;
use common::*;
use std::collections::BTreeMap;

/// (name → (mode, size)) from `debugfs ls -l` output.
fn parse_ls(out: &str) -> BTreeMap<String, (u32, u64)> {
    let mut map = BTreeMap::new();
    for line in out.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        // inode mode (type) uid gid size date time name
        if t.len() < 9 || !t[2].starts_with('(') {
            continue;
        }
        let mode = u32::from_str_radix(t[1], 8).expect("mode");
        let size = t[5].parse().expect("size");
        map.insert(t[8..].join(" "), (mode, size));
    }
    map
}

fn compare_with_debugfs(image: &str, volume: &str) {
    let path = fixtures().join(image);
    with_volume(&path, volume, |fs, offset| {
        let spec = format!("{}?offset={offset}", path.display());
        let nodes = walk(fs);
        let mut dirs: Vec<String> =
            nodes.iter().filter(|n| n.file_type == FileType::Directory).map(|n| n.path.clone()).collect();
        dirs.push(String::from("/"));
        // Directory listings: names, modes and sizes.
        let listings = debugfs(&spec, &dirs.iter().map(|d| format!("ls -l \"{d}\"")).collect::<Vec<_>>());
        let mut entries = 0;
        for (dir, listing) in dirs.iter().zip(&listings) {
            let mut theirs = parse_ls(listing);
            theirs.remove(".");
            theirs.remove("..");
            let prefix = if dir == "/" { String::from("/") } else { format!("{dir}/") };
            let ours: BTreeMap<String, (u32, u64)> = nodes
                .iter()
                .filter(|n| n.path.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/')))
                .map(|n| (n.path[prefix.len()..].to_string(), (u32::from(n.mode), n.size)))
                .collect();
            assert_eq!(ours, theirs, "{image} {volume}: listing of {dir} differs from debugfs");
            entries += ours.len();
        }
        // File contents and link targets against debugfs rdump.
        let dump = tempfile::tempdir().unwrap();
        debugfs(&spec, &[format!("rdump / {}", dump.path().display())]);
        let (mut files, mut links) = (0, 0);
        for n in &nodes {
            let host = dump.path().join(n.path.trim_start_matches('/'));
            match n.file_type {
                FileType::Regular => {
                    // debugfs 1.47 dumps inline-data files padded to 60 bytes although its own
                    // `ls -l` gives the true size (checked above): cut the dump to that size.
                    let mut dumped = std::fs::read(&host).unwrap();
                    dumped.truncate(n.size as usize);
                    let expected = sha256(&dumped);
                    assert_eq!(sha256_through(fs, n.node), expected, "{image} {volume}: content of {}", n.path);
                    files += 1;
                }
                FileType::Symlink => {
                    let expected = std::fs::read_link(&host).unwrap();
                    let ours = fs.read_link(n.node).unwrap();
                    assert_eq!(ours, expected.as_os_str().as_encoded_bytes(), "{image} {volume}: target of {}", n.path);
                    links += 1;
                }
                _ => {}
            }
        }
        eprintln!(
            "{image} {volume}: {} directories, {entries} entries, {files} files, {links} symlinks match debugfs",
            dirs.len()
        );
        assert!(files > 0);
    });
}

#[test]
fn gpt_cloud_root_ext4() {
    compare_with_debugfs("gpt-cloud.raw", "gpt:1");
}

#[test]
fn mbr_primary_ext4() {
    compare_with_debugfs("mbr-logical.raw", "mbr:1");
}

#[test]
fn mbr_logical_ext3() {
    compare_with_debugfs("mbr-logical.raw", "mbr:5");
}

#[test]
fn mbr_logical_ext2_block_maps() {
    compare_with_debugfs("mbr-logical.raw", "mbr:6");
}

#[test]
fn mbr_logical_ext4_1k_blocks() {
    compare_with_debugfs("mbr-logical.raw", "mbr:7");
}

#[test]
fn bare_ext4() {
    compare_with_debugfs("bare-ext4.img", "whole");
}

#[test]
fn ext2_triple_indirect() {
    compare_with_debugfs("ext2.img", "whole");
}

#[test]
fn ext4_1k_blocks_extent_index() {
    compare_with_debugfs("ext4-1k.img", "whole");
}

#[test]
fn ext4_inline_data() {
    compare_with_debugfs("ext4-inline.img", "whole");
    // The source tree is the other witness for inline files (see the debugfs quirk above).
    with_volume(&fixtures().join("ext4-inline.img"), "whole", |fs, _| {
        for path in ["/usr/lib/modules/6.1.0-13-amd64/modules.dep", "/etc/hostname", "/data/size-59", "/data/size-60"] {
            let node = coldscan_core::fs::resolve(fs, path.as_bytes(), true).unwrap();
            let source = std::fs::read(fixtures().join("tree").join(&path[1..])).unwrap();
            assert_eq!(sha256_through(fs, node), sha256(&source), "{path}");
        }
    });
}

#[test]
fn ext4_meta_bg_2k_blocks() {
    compare_with_debugfs("ext4-metabg.img", "whole");
}

#[test]
fn ext4_64k_blocks() {
    compare_with_debugfs("ext4-64k.img", "whole");
}

#[test]
fn ext4_bigalloc() {
    compare_with_debugfs("ext4-bigalloc.img", "whole");
}

#[test]
fn htree_directory_lists_completely() {
    compare_with_debugfs("htree.img", "whole");
    let path = fixtures().join("htree.img");
    with_volume(&path, "whole", |fs, offset| {
        let spec = format!("{}?offset={offset}", path.display());
        let htree = debugfs(&spec, &[String::from("htree /big")]).remove(0);
        assert!(htree.contains("Root node dump"), "/big is not htree-indexed: {htree}");
        let big = coldscan_core::fs::resolve(fs, b"/big", true).unwrap();
        let mut count = 0;
        fs.read_dir(big, &mut |_| {
            count += 1;
            Ok(coldscan_core::fs::Walk::Continue)
        })
        .unwrap();
        assert_eq!(count, 20_000 + 2);
    });
}

#[test]
fn twenty_gib_sparse_disk() {
    compare_with_debugfs("big-sparse.raw", "gpt:1");
}

#[test]
fn file_over_4_gib() {
    let path = fixtures().join("large-file.img");
    with_volume(&path, "whole", |fs, _| {
        let node = coldscan_core::fs::resolve(fs, b"/over-4g", true).unwrap();
        let size = fs.metadata(node).unwrap().size;
        assert!(size > 4 << 30);
        let ours = sha256_through(fs, node);
        let theirs = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("debugfs -R 'cat /over-4g' '{}' 2>/dev/null | sha256sum", path.display()))
            .output()
            .unwrap();
        assert_eq!(ours, String::from_utf8_lossy(&theirs.stdout)[..64]);
    });
}

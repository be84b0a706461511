//! Damaged package databases: a truncated BerkeleyDB file, an overflow chain that loops, a
//! SQLite b-tree page that points at itself, a header blob whose index count is larger than
//! the blob, and a damaged apk/dpkg record. Each gives a clear error naming format and offset,
//! no panic, and the other packages are still listed.

mod common;

use coldscan_core::pkg::{DbFormat, Inventory};
use coldscan_core::{Budget, ErrorKind};
use common::*;

fn read(format: DbFormat, bytes: &[u8]) -> coldscan_core::Result<Inventory> {
    format.read(&bytes, None, "damaged", &Budget::new(64 << 20))
}

/// Packages rpm -qa lists in the undamaged fixture.
fn total() -> usize {
    std::fs::read_to_string(fixtures().join("rpmdb/bdb-le/expected.tsv")).unwrap().lines().count()
}

fn bdb() -> Vec<u8> {
    std::fs::read(fixtures().join("rpmdb/bdb-le/Packages")).unwrap()
}

const PAGE: usize = 4096;

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

/// Page numbers of the first pages of overflow chains (type 7, no previous page).
fn chain_heads(db: &[u8]) -> Vec<usize> {
    (1..db.len() / PAGE).filter(|&p| db[p * PAGE + 25] == 7 && u32_at(db, p * PAGE + 12) == 0).collect()
}

#[test]
fn truncated_bdb_lists_what_is_there() {
    let db = bdb();
    let cut = &db[..db.len() / 2 + 100];
    let inv = read(DbFormat::RpmBdb, cut).unwrap();
    eprintln!("truncated BDB: {} packages listed, {} records reported", inv.packages.len(), inv.errors.total());
    assert!(inv.packages.len() > 100);
    assert!(!inv.errors.is_empty());
    for e in inv.errors.iter() {
        assert_eq!(e.format, "bdb", "{e}");
    }
}

#[test]
fn bdb_overflow_chain_that_loops() {
    let mut db = bdb();
    let head = *chain_heads(&db).iter().find(|&&p| u32_at(&db, p * PAGE + 16) != 0).expect("a chain of 2+ pages");
    // The first page of the chain links to itself.
    db[head * PAGE + 16..head * PAGE + 20].copy_from_slice(&(head as u32).to_le_bytes());
    let inv = read(DbFormat::RpmBdb, &db).unwrap();
    assert_eq!(inv.packages.len(), total() - 1);
    assert_eq!(inv.errors.total(), 1, "{:?}", inv.errors);
    let e = inv.errors.iter().next().unwrap();
    assert!(matches!(e.kind, ErrorKind::Corrupt(_) | ErrorKind::LoopLimit(_)), "{e}");
    assert!(e.to_string().starts_with("pkg (bdb) at offset 0x"), "{e}");
}

#[test]
fn header_index_count_larger_than_the_blob() {
    let mut db = bdb();
    let head = chain_heads(&db)[0];
    // The blob starts right after the page header: its big-endian entry count comes first.
    db[head * PAGE + 26..head * PAGE + 30].copy_from_slice(&0x0000_FFFFu32.to_be_bytes());
    let inv = read(DbFormat::RpmBdb, &db).unwrap();
    assert_eq!(inv.packages.len(), total() - 1);
    assert_eq!(inv.errors.total(), 1);
    let e = inv.errors.iter().next().unwrap();
    assert_eq!(e.format, "rpm-header");
    assert_eq!(e.kind, ErrorKind::Corrupt("header index count or data length larger than the blob"));
    assert_eq!(e.offset, (head * PAGE + 4) as u64, "the offset points into the database file");
}

#[test]
fn sqlite_page_pointing_at_itself() {
    let path = fixtures().join("rpmdb/sqlite/rpmdb.sqlite");
    let mut db = std::fs::read(&path).unwrap();
    // Find the Packages table's root page with Python's sqlite3 (an independent reader).
    let out = std::process::Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(f'file:{sys.argv[1]}?immutable=1', uri=True).execute(\"select rootpage from sqlite_master where name='Packages'\").fetchone()[0])"])
        .arg(&path)
        .output()
        .unwrap();
    let root: usize = String::from_utf8(out.stdout).unwrap().trim().parse().unwrap();
    let page_size = usize::from(u16::from_be_bytes([db[16], db[17]]));
    let at = (root - 1) * page_size;
    assert_eq!(db[at], 0x05, "the Packages root is an interior page");
    // Its right-most child becomes the page itself.
    db[at + 8..at + 12].copy_from_slice(&(root as u32).to_be_bytes());
    let inv = read(DbFormat::RpmSqlite, &db).unwrap();
    eprintln!(
        "looping SQLite: {} packages listed before the loop, error: {}",
        inv.packages.len(),
        inv.errors.iter().next().unwrap()
    );
    assert!(!inv.packages.is_empty() && inv.packages.len() < total());
    assert!(matches!(inv.errors.iter().last().unwrap().kind, ErrorKind::LoopLimit(_)));
}

#[test]
fn damaged_text_records_are_skipped() {
    let status = b"Package: a\nStatus: install ok installed\nVersion: 1.0\n\nPackage: b\nStatus: install ok installed\nVersion: not a version!\n\nPackage: c\nStatus: install ok installed\nVersion: 2.0\n";
    let inv = read(DbFormat::DpkgStatus, status).unwrap();
    assert_eq!(inv.packages.as_slice().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
    assert_eq!(inv.errors.iter().next().unwrap().offset, 54, "the broken stanza's offset");
    let apk = b"P:a\nV:1.0-r0\n\nbroken line\nP:b\n\nP:c\nV:2.0-r1\n";
    let inv = read(DbFormat::ApkInstalled, apk).unwrap();
    assert_eq!(inv.packages.as_slice().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
    assert_eq!(inv.errors.total(), 2);
}

//! Hostile input: every repro in `../shared/fuzz-findings` (inputs that crashed, hung or bloated
//! a scan) and the crafted cases of the "hostile images" issue. Each must end with a clear
//! error or a partial result — asserted on the error, on bytes read and on heap used (a
//! counting allocator), never on wall time. The test profile has overflow checks on, so an
//! arithmetic wrap panics here as it did under the fuzzer.

mod common;

use coldscan_core::error::{ErrorKind, Layer};
use coldscan_core::fs::{resolve, Walk};
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::pkg::rpm::header::Header;
use coldscan_core::pkg::DbFormat;
use coldscan_core::progress::{NoProgress, ReadMeter};
use coldscan_core::{Budget, ReadAt};
use common::counting::{measure, serial, Counting};
use common::*;
use std::io::Read;
use std::path::PathBuf;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn finding(name: &str) -> Option<Vec<u8>> {
    let path: PathBuf = shared("fuzz-findings")?.join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        return Some(out);
    }
    Some(raw)
}

#[test]
fn bdb_item_ranges_after_a_rejected_pair() {
    let _serial = serial();
    for name in ["bdb-hash-key-end-oob.bin", "bdb-hash-key-end-oob-2.bin"] {
        let Some(bytes) = finding(name) else { return };
        let inv = DbFormat::RpmBdb.read(&&bytes[..], None, "Packages", &Budget::default()).unwrap();
        assert!(inv.packages.is_empty(), "{name}");
        let errors: Vec<_> = inv.errors.iter().collect();
        assert!(!errors.is_empty(), "{name}: the bad item is reported");
        for e in errors {
            assert_eq!((e.layer, e.format), (Layer::Pkg, "bdb"), "{name}: {e}");
            assert!(e.offset >= 8192 && e.offset < 12288, "{name}: the offset points into page 2: {e}");
        }
    }
}

#[test]
fn vmdk_marker_walk_that_wrapped_to_a_zero_step() {
    let _serial = serial();
    let Some(bytes) = finding("vmdk-scan-markers-pos-overflow.bin") else { return };
    let meter = ReadMeter::new(&NoProgress, 64 * bytes.len() as u64);
    let src = meter.watch(&bytes[..]);
    let b = Budget::new(8 << 20);
    // The marker walk ends at the crafted marker; the disk opens from what came before it,
    // saying that its grains were found by scanning.
    let disk = Disk::open(&src, &NoFiles, &b).unwrap();
    let _ = disk.inspect();
    assert!(!meter.exhausted(), "{} bytes read of a {}-byte file", meter.bytes_read(), bytes.len());
    let warning = disk.image.warnings.first().expect("the scanned markers are reported");
    assert_eq!(
        (warning.layer, warning.format, warning.kind),
        (Layer::Image, "vmdk", ErrorKind::Corrupt("grain directory missing: grains found by scanning markers"))
    );
}

#[test]
fn vmdk_header_overhead_that_overflows() {
    let _serial = serial();
    let Some(bytes) = finding("vmdk-scan-markers-overhead-mul-overflow.bin") else { return };
    let err = Disk::open(&&bytes[..], &NoFiles, &Budget::new(8 << 20)).unwrap_err();
    assert_eq!((err.layer, err.format), (Layer::Image, "vmdk"), "{err}");
    assert_eq!(err.kind, ErrorKind::Corrupt("stream header overhead"), "{err}");
}

#[test]
fn sqlite_child_page_zero() {
    let _serial = serial();
    let Some(bytes) = finding("sqlite-child-page-0.bin") else { return };
    let inv = DbFormat::RpmSqlite.read(&&bytes[..], None, "rpmdb.sqlite", &Budget::default());
    let err = match inv {
        Ok(inv) => inv.errors.iter().next().expect("the bad page is reported"),
        Err(e) => e,
    };
    assert_eq!((err.layer, err.format), (Layer::Pkg, "sqlite"), "{err}");
    assert_eq!(err.kind, ErrorKind::Corrupt("b-tree page number outside the database"), "{err}");
}

#[test]
fn millions_of_junk_lines_cost_no_memory() {
    let _serial = serial();
    for (name, format, fmt_name) in [
        ("apk-malformed-lines-overalloc.bin.gz", DbFormat::ApkInstalled, "apk-installed"),
        ("dpkg-malformed-lines-overalloc.bin.gz", DbFormat::DpkgStatus, "dpkg-status"),
    ] {
        let Some(bytes) = finding(name) else { return };
        let budget = Budget::default();
        let (inv, heap_peak, _) = measure(|| format.read(&&bytes[..], None, name, &budget).unwrap());
        eprintln!("{name}: {} errors counted, heap peak {heap_peak} bytes", inv.errors.total());
        assert!(inv.errors.total() >= 4_300_000, "{name}: every bad line is counted");
        let listed: Vec<_> = inv.errors.iter().collect();
        assert_eq!(listed.len(), coldscan_core::error::ERROR_LOG_CAPACITY + 1, "{name}");
        assert!(matches!(listed.last().unwrap().kind, ErrorKind::MoreErrors { count } if count > 4_000_000));
        assert!(listed.iter().all(|e| e.layer == Layer::Pkg && e.format == fmt_name), "{name}");
        assert!(heap_peak < 1 << 20, "{name}: heap peak {heap_peak} bytes for an {}-byte file", bytes.len());
    }
}

#[test]
fn rpm_file_list_with_alternating_directory_indexes() {
    let _serial = serial();
    let Some(bytes) = finding("for-each-file-quadratic-hang.bin") else { return };
    let header = Header::parse(&bytes).unwrap();
    let mut files = 0usize;
    header
        .for_each_file(&Budget::default(), |dir, base| {
            assert_eq!((dir, base), ("/", "a"));
            files += 1;
        })
        .unwrap();
    assert_eq!(files, 40_000);
}

/// The byte offset of `path`'s inode in a 64 KiB-block ext4 image, from debugfs `imap`
/// ("… located at block 37, offset 0x0b00").
fn inode_offset(image: &str, path: &str) -> u64 {
    let spec = fixtures().join(image);
    let out = debugfs(spec.to_str().unwrap(), &[format!("imap {path}")]).join(" ");
    let located = out.split("located at block ").nth(1).unwrap_or_else(|| panic!("debugfs imap: {out}"));
    let (block, offset) = located.split_once(", offset 0x").unwrap();
    let offset = u64::from_str_radix(offset.split_whitespace().next().unwrap(), 16).unwrap();
    block.trim().parse::<u64>().unwrap() * 65536 + offset
}

#[test]
fn ext4_directory_with_a_huge_size_and_no_blocks() {
    let _serial = serial();
    let at = inode_offset("ext4-64k.img", "/many");
    // i_size = 3 GiB (lo at 0x4, hi at 0x6C) and an extent root with no entries: every block
    // a hole. Before runs were skipped whole, a lookup read 49,152 holes block by block.
    let mut size = [0u8; 4];
    size.copy_from_slice(&(3u32 << 30).to_le_bytes());
    let img = Damaged::new("ext4-64k.img").patch(at + 4, &size).patch(at + 0x28 + 2, &[0, 0]);
    let meter = ReadMeter::new(&NoProgress, u64::MAX);
    let src = meter.watch(img);
    let b = Budget::new(8 << 20);
    let disk = Disk::open(&src, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let many = resolve(fs.as_ref(), b"/many", true).unwrap();
    let before = meter.bytes_read();
    let mut entries = 0;
    fs.read_dir(many, &mut |_| {
        entries += 1;
        Ok(Walk::Continue)
    })
    .unwrap();
    assert_eq!(entries, 0);
    assert!(meter.bytes_read() - before < 1 << 20, "{} bytes read", meter.bytes_read() - before);

    // i_size past 4 GiB: refused outright.
    let img = Damaged::new("ext4-64k.img").patch(at + 0x6C, &[0, 0, 1, 0]);
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let (_, fs) = disk.open_volume(None).unwrap();
    let many = resolve(fs.as_ref(), b"/many", true).unwrap();
    let err = fs.read_dir(many, &mut |_| Ok(Walk::Continue)).unwrap_err();
    assert_eq!(
        (err.layer, err.offset, err.kind),
        (Layer::Fs, at + 4, ErrorKind::Corrupt("directory larger than 4 GiB"))
    );
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// An NDB file of 2048 slot pages whose 524,286 slots all name one blob: the largest header
/// of SUSE's real Packages.db. Read naively that is 524,286 re-reads of the blob.
fn ndb_with_one_shared_blob() -> Option<(Vec<u8>, usize)> {
    let real = std::fs::read(shared_testdata()?.join("rpmdb/sle15-bci-ndb-2022/Packages.db")).unwrap();
    // Slots (16 bytes: "Slot", package, block offset, block count) fill the slot pages; the
    // blob they name starts "BlbS", package, generation, length, then the header.
    let slot_pages = le32(&real, 12) as usize;
    let (pkg, blob_at, len) = real[..slot_pages * 4096]
        .chunks_exact(16)
        .skip(2)
        .filter(|slot| &slot[..4] == b"Slot" && le32(slot, 4) != 0)
        .map(|slot| {
            let at = le32(slot, 8) as usize * 16;
            (le32(slot, 4), at, le32(&real, at + 12) as usize)
        })
        .max_by_key(|&(_, _, len)| len)?;
    let pages = 2048;
    let shared_at = pages * 4096;
    let mut db = vec![0u8; shared_at];
    db[..16].copy_from_slice(&real[..16]);
    db[12..16].copy_from_slice(&(pages as u32).to_le_bytes());
    for slot in db.chunks_exact_mut(16).skip(2) {
        slot[..4].copy_from_slice(b"Slot");
        slot[4..8].copy_from_slice(&pkg.to_le_bytes());
        slot[8..12].copy_from_slice(&((shared_at / 16) as u32).to_le_bytes());
        slot[12..16].copy_from_slice(&(((len + 16) / 16 + 1) as u32).to_le_bytes());
    }
    db.extend_from_slice(&real[blob_at..blob_at + 16 + len]);
    Some((db, len))
}

#[test]
fn ndb_slots_that_all_share_one_blob() {
    let _serial = serial();
    let Some((db, blob)) = ndb_with_one_shared_blob() else { return };
    // Generous: every byte of the file read twice.
    let meter = ReadMeter::new(&NoProgress, 2 * db.len() as u64);
    let inv = DbFormat::RpmNdb.read(&meter.watch(&db[..]), None, "Packages.db", &Budget::default()).unwrap();
    eprintln!(
        "shared NDB blob ({blob} bytes): {} packages, {} bytes read of a {}-byte file",
        inv.packages.len(),
        meter.bytes_read(),
        db.len()
    );
    assert!(!meter.exhausted() && meter.bytes_read() <= db.len() as u64 + blob as u64 + 16);
    assert!(inv.packages.len() <= db.len() / blob + 1, "{} packages", inv.packages.len());
    let last = inv.errors.iter().last().expect("the shared blob is reported");
    assert_eq!(
        (last.layer, last.format, last.kind),
        (Layer::Pkg, "ndb", ErrorKind::LoopLimit("NDB slots (blobs read more than once)"))
    );
}

/// 200 MB of a `status` file: one sound stanza, then lines none of which is a field, made on
/// the fly.
struct JunkStatus;

const SOUND_STANZA: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1.0\n\n";
const JUNK_LINE: &[u8] = b"this line of a damaged status file has no colon\n";
const JUNK_SIZE: u64 = 200_000_000;

impl ReadAt for JunkStatus {
    fn size(&self) -> u64 {
        JUNK_SIZE
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> coldscan_core::Result<()> {
        assert!(offset + buf.len() as u64 <= JUNK_SIZE);
        for (at, b) in (offset..).zip(buf.iter_mut()) {
            *b = match SOUND_STANZA.get(at as usize) {
                Some(&b) => b,
                None => JUNK_LINE[((at - SOUND_STANZA.len() as u64) % JUNK_LINE.len() as u64) as usize],
            };
        }
        Ok(())
    }
}

#[test]
fn a_200_mb_junk_dpkg_status() {
    let _serial = serial();
    let meter = ReadMeter::new(&NoProgress, 2 * JUNK_SIZE);
    let budget = Budget::default();
    let (inv, heap_peak, _) =
        measure(|| DbFormat::DpkgStatus.read(&meter.watch(JunkStatus), None, "status", &budget).unwrap());
    let lines = (JUNK_SIZE - SOUND_STANZA.len() as u64) / JUNK_LINE.len() as u64;
    eprintln!(
        "200 MB junk status: {} errors, {} bytes read, heap peak {heap_peak}",
        inv.errors.total(),
        meter.bytes_read()
    );
    assert_eq!(inv.packages.as_slice().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(meter.bytes_read(), JUNK_SIZE, "read once");
    assert!(inv.errors.total() >= lines, "{} errors for {lines} lines", inv.errors.total());
    let first = inv.errors.iter().next().unwrap();
    assert_eq!(
        (first.layer, first.format, first.offset),
        (Layer::Pkg, "dpkg-status", SOUND_STANZA.len() as u64),
        "{first}"
    );
    assert!(heap_peak < 1 << 20, "heap peak {heap_peak} bytes");
}

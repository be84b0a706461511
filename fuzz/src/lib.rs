//! One fuzz target per parser of coldscan-core, as plain functions: the libFuzzer binaries in
//! `fuzz_targets/` call them, and `tests/replay.rs` replays the committed corpora through them
//! on stable. Each target must return (an error is fine) without panicking, hanging or
//! allocating past [`HEAP_LIMIT`] — [`Capped`], the binaries' global allocator, aborts a run
//! that does.

use coldscan_core::fs::{FileSystem, FileType, NodeId, Walk};
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::pkg::rpm::header::Header;
use coldscan_core::pkg::DbFormat;
use coldscan_core::{Budget, ReadAt};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The scan budget each target runs under.
pub const BUDGET: usize = 16 << 20;
/// Most heap live at once, past which a run fails: the budget, libFuzzer's own copies of the
/// input (at most a few MiB with `-max_len`) and the slack of the front-end code (report
/// strings).
pub const HEAP_LIMIT: usize = BUDGET + (48 << 20);

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that aborts the process when more than [`HEAP_LIMIT`] bytes are live:
/// an input that makes the core allocate outside its budget is a finding, like a crash.
#[derive(Debug)]
pub struct Capped;

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > HEAP_LIMIT {
            // Not a panic: the allocator must not allocate, and libFuzzer reports the abort.
            std::process::abort();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// A sparse device described by its non-zero pieces, so that a small input can put structures
/// at the offsets a filesystem scatters them to (btrfs keeps its superblock at 64 KiB and its
/// trees megabytes further). The input is a list of pieces — byte offset (`u32`, little
/// endian), length (`u16`), then the bytes — and everything else reads as zeros, up to
/// [`Sparse::SIZE`] or the end of the last piece. `benches/fuzz.sh` writes such inputs from
/// small real images.
#[derive(Debug)]
pub struct Sparse<'a> {
    pieces: Vec<(u64, &'a [u8])>,
    size: u64,
}

impl<'a> Sparse<'a> {
    /// The device size at least.
    pub const SIZE: u64 = 16 << 20;

    /// The pieces `data` lists (a trailing partial piece is ignored; later pieces win).
    pub fn parse(mut data: &'a [u8]) -> Self {
        let mut pieces = Vec::new();
        let mut size = Self::SIZE;
        while let [a, b, c, d, l0, l1, rest @ ..] = data {
            let offset = u64::from(u32::from_le_bytes([*a, *b, *c, *d]));
            let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(rest.len());
            let (bytes, next) = rest.split_at(len);
            size = size.max(offset + len as u64);
            pieces.push((offset, bytes));
            data = next;
        }
        Sparse { pieces, size }
    }
}

impl ReadAt for Sparse<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> coldscan_core::Result<()> {
        let end = offset.checked_add(buf.len() as u64).filter(|&e| e <= self.size);
        let Some(end) = end else {
            return Err(coldscan_core::io::eof(coldscan_core::Layer::Source, "sparse", offset, buf.len(), self.size));
        };
        buf.fill(0);
        for &(at, bytes) in &self.pieces {
            let (from, to) = (at.max(offset), (at + bytes.len() as u64).min(end));
            if from < to {
                let src = &bytes[(from - at) as usize..(to - at) as usize];
                buf[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
            }
        }
        Ok(())
    }
}

fn budget() -> Budget {
    Budget::new(BUDGET)
}

/// Walks a filesystem, bounded: at most 2,000 nodes, 8 levels, 64 KiB of each file and link.
fn walk(fs: &dyn FileSystem) {
    let mut stack: Vec<(NodeId, usize)> = vec![(fs.root(), 0)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let mut children = Vec::new();
        let _ = fs.read_dir(dir, &mut |e| {
            seen += 1;
            if e.name != b"." && e.name != b".." && children.len() < 256 {
                children.push(e.node);
            }
            Ok(if seen > 2000 { Walk::Stop } else { Walk::Continue })
        });
        for node in children {
            let Ok(meta) = fs.metadata(node) else { continue };
            match meta.file_type {
                FileType::Directory if depth < 8 && seen < 2000 => stack.push((node, depth + 1)),
                FileType::Regular => {
                    if let Ok(file) = fs.open_file(node) {
                        let mut buf = vec![0u8; file.size().min(64 << 10) as usize];
                        let _ = file.read_at(0, &mut buf);
                    }
                }
                FileType::Symlink => {
                    let _ = fs.read_link(node);
                }
                _ => {}
            }
        }
    }
}

/// Container detection and opening, then reads across the guest disk.
pub fn image(data: &[u8]) {
    let b = budget();
    if let Ok(disk) = coldscan_core::image::open(data, &NoFiles, &b) {
        let size = disk.disk.size();
        let mut buf = [0u8; 4096];
        for i in 0..16u64 {
            let at = size / 16 * i;
            let n = (size - at).min(4096) as usize;
            let _ = disk.disk.read_at(at, &mut buf[..n]);
        }
    }
}

/// The whole pipeline over an in-memory image: container, volumes, filesystems, roots.
pub fn pipeline(data: &[u8]) {
    let b = budget();
    if let Ok(disk) = Disk::open(&data, &NoFiles, &b) {
        let _ = disk.inspect();
    }
}

/// Partition tables (GPT, MBR) and LVM2 on a raw disk.
pub fn volume(data: &[u8]) {
    let _ = coldscan_core::volume::read_volumes(&data, &budget());
}

/// ext2/3/4 on a bare volume.
pub fn ext4(data: &[u8]) {
    if let Ok(fs) = coldscan_core::fs::ext4::Ext4::open(&data, &budget()) {
        walk(&fs);
    }
}

/// XFS on a bare volume.
pub fn xfs(data: &[u8]) {
    if let Ok(fs) = coldscan_core::fs::xfs::Xfs::open(&data, &budget()) {
        walk(&fs);
    }
}

fn package_db(format: DbFormat, data: &[u8]) {
    let _ = format.read(&data, None, "fuzz", &budget());
}

/// btrfs on a bare volume (checksums pass under `cfg(fuzzing)`), with its subvolumes.
pub fn btrfs(data: &[u8]) {
    let device = Sparse::parse(data);
    if let Ok(fs) = coldscan_core::fs::btrfs::Btrfs::open(&device, &budget()) {
        let _ = fs.subvolumes();
        walk(&fs);
    }
}

/// rpm BerkeleyDB `Packages`.
pub fn bdb(data: &[u8]) {
    package_db(DbFormat::RpmBdb, data);
}

/// rpm `rpmdb.sqlite` (the input's second half, when it starts with a WAL header, as its WAL).
pub fn sqlite(data: &[u8]) {
    let half = data.len() / 2;
    let (db, wal) = data.split_at(half);
    if wal.starts_with(&[0x37, 0x7f, 0x06]) {
        let _ = DbFormat::RpmSqlite.read(&db, Some(&wal), "fuzz", &budget());
    } else {
        package_db(DbFormat::RpmSqlite, data);
    }
}

/// rpm NDB `Packages.db`.
pub fn ndb(data: &[u8]) {
    package_db(DbFormat::RpmNdb, data);
}

/// One rpm header blob: framing, every accessor, the file list.
pub fn rpm_header(data: &[u8]) {
    if let Ok(h) = Header::parse(data) {
        let _ = coldscan_core::pkg::rpm::package_from_header(&h);
        let _ = h.for_each_file(&budget(), |_, _| {});
    }
}

/// dpkg `status`.
pub fn dpkg(data: &[u8]) {
    package_db(DbFormat::DpkgStatus, data);
}

/// apk `installed`.
pub fn apk(data: &[u8]) {
    package_db(DbFormat::ApkInstalled, data);
}

/// os-release and the older release files.
pub fn os_release(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = coldscan_core::os::release::from_os_release(&text, "fuzz");
    for kind in [
        coldscan_core::os::release::ReleaseFile::RedHat,
        coldscan_core::os::release::ReleaseFile::Alpine,
        coldscan_core::os::release::ReleaseFile::Debian,
        coldscan_core::os::release::ReleaseFile::Lsb,
    ] {
        let _ = coldscan_core::os::release::from_release_file(kind, &text, "fuzz");
    }
}

/// The three version comparators on two versions split at the first NUL: each must be a total
/// order (antisymmetric and reflexive), whatever the bytes.
pub fn vercmp(data: &[u8]) {
    use coldscan_core::version::{apk, dpkg, rpm};
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\0').unwrap_or((&text, ""));
    for cmp in [rpm::vercmp, rpm::compare_evr, dpkg::compare, apk::compare] {
        assert_eq!(cmp(a, b), cmp(b, a).reverse(), "{a:?} vs {b:?}");
        assert_eq!(cmp(a, a), std::cmp::Ordering::Equal, "{a:?}");
    }
}

/// The vulnerability DB blob reader.
pub fn vulndb(data: &[u8]) {
    if let Ok(db) = coldscan_core::vulndb::VulnDb::open(data) {
        let _ = db.counts();
        for platform in ["alpine 3.18", "rocky 9", "debian 12"] {
            if let Ok(found) = db.advisories(platform, "openssl") {
                for &v in found.iter().flat_map(|a| &a.vulns).take(16) {
                    let _ = db.details(v);
                }
            }
        }
    }
}

/// The LVM2 metadata text grammar.
pub fn lvm_metadata(data: &[u8]) {
    let _ = coldscan_core::volume::lvm::parse_metadata_text(data, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_devices_read_their_pieces_and_zeros() {
        let mut input = Vec::new();
        for (at, bytes) in [(0x10000u32, &b"superblock"[..]), (0x10004, b"XY"), (0x20000, b"tree")] {
            input.extend_from_slice(&at.to_le_bytes());
            input.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
            input.extend_from_slice(bytes);
        }
        input.extend_from_slice(&[1, 2, 3]); // a partial piece: ignored
        let dev = Sparse::parse(&input);
        assert_eq!(dev.size(), Sparse::SIZE);
        let mut buf = [0xFFu8; 14];
        dev.read_at(0xFFFE, &mut buf).unwrap();
        assert_eq!(&buf, b"\0\0supeXYlock\0\0");
        let mut tree = [0u8; 4];
        dev.read_at(0x20000, &mut tree).unwrap();
        assert_eq!(&tree, b"tree");
        assert!(dev.read_at(Sparse::SIZE - 1, &mut tree).is_err());
    }
}

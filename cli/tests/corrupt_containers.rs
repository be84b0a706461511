//! Damaged containers: a truncated stream VMDK, a grain directory entry past the end of the
//! file, a grain whose deflate stream is broken, an absurd qcow2 L1 size and an L1 entry that
//! loops back onto the L1 table, a VHD BAT entry past the end, VHDX region tables with bad
//! checksums. Clear errors naming format and offset; no panic; the rest read where possible.

mod common;

use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::{Budget, ErrorKind, ReadAt};
use common::*;

fn budget() -> Budget {
    Budget::new(16 << 20)
}

fn be32(img: &Damaged, at: u64) -> u32 {
    let mut b = [0u8; 4];
    img.read_at(at, &mut b).unwrap();
    u32::from_be_bytes(b)
}

fn be64(img: &Damaged, at: u64) -> u64 {
    let mut b = [0u8; 8];
    img.read_at(at, &mut b).unwrap();
    u64::from_be_bytes(b)
}

fn le64(img: &Damaged, at: u64) -> u64 {
    let mut b = [0u8; 8];
    img.read_at(at, &mut b).unwrap();
    u64::from_le_bytes(b)
}

/// Byte offsets of the grain markers of a stream VMDK, in grain order (through its GD/GTs).
fn grain_markers(img: &Damaged) -> Vec<u64> {
    let gd = le64(img, 56) * 512;
    let (capacity, grain) = (le64(img, 12), le64(img, 20));
    let gd_entries = capacity.div_ceil(grain * 512);
    let mut out = Vec::new();
    for i in 0..gd_entries {
        let gt = u64::from(img.read_u32(gd + i * 4)) * 512;
        if gt == 0 {
            continue;
        }
        for j in 0..512 {
            let g = img.read_u32(gt + j * 4);
            if g > 1 {
                out.push(u64::from(g) * 512);
            }
        }
    }
    out
}

#[test]
fn truncated_vmware_stream_is_read_by_scanning_markers() {
    let full = Damaged::new("containers/vmware-stream.vmdk");
    let cut = full.size() * 7 / 10;
    let img = Damaged::new("containers/vmware-stream.vmdk").truncate(cut);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let report = disk.inspect();
    assert_eq!(report.volumes.len(), 3, "the partition table is still read");
    assert!(
        report.errors.iter().any(|e| e.message.contains("grains found by scanning markers")),
        "{:?}",
        report.errors
    );
}

#[test]
fn grain_directory_entry_past_the_end() {
    let clean = Damaged::new("containers/sparse.vmdk");
    let gd = le64(&clean, 56) * 512;
    let img = Damaged::new("containers/sparse.vmdk").patch(gd, &0x7FFF_FFFFu32.to_le_bytes());
    // The first grain table holds the primary GPT: it is reported, and the backup GPT (in
    // another grain table's range) gives the partitions back.
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let e = disk.table.warnings[0];
    assert_eq!((e.format, e.offset), ("vmdk", gd), "{e}");
    assert_eq!(e.kind, ErrorKind::Corrupt("grain directory entry points past the end of the file"));
    assert_eq!(disk.table.volumes.len(), 3);
}

#[test]
fn broken_deflate_stream_in_a_grain() {
    let clean = Damaged::new("containers/stream.vmdk");
    let markers = grain_markers(&clean);
    // Grain 0 holds the primary GPT: reported with its offset; the backup GPT is used.
    let first = markers[0];
    let img = Damaged::new("containers/stream.vmdk").patch(first + 14, &[0xFF; 64]);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let e = disk.table.warnings[0];
    assert_eq!((e.format, e.offset), ("vmdk", first + 12), "{e}");
    assert!(matches!(e.kind, ErrorKind::Corrupt(m) if m.contains("deflate") || m.contains("inflated")), "{e}");
    assert_eq!(disk.table.volumes.len(), 3);
    // A grain in the middle: the disk opens, the rest is read, that grain's reader fails.
    let middle = markers[markers.len() / 2];
    let img = Damaged::new("containers/stream.vmdk").patch(middle + 14, &[0xFF; 64]);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    assert_eq!(disk.inspect().volumes.len(), 3);
    let (_, fs) = disk.open_volume(Some("gpt:1")).unwrap();
    let failures: Vec<String> = walk(fs.as_ref())
        .iter()
        .filter(|n| n.file_type == coldscan_core::fs::FileType::Regular)
        .filter_map(|n| {
            let f = fs.open_file(n.node).ok()?;
            let mut buf = vec![0u8; f.size() as usize];
            f.read_at(0, &mut buf).err().map(|e| e.to_string())
        })
        .collect();
    eprintln!("broken middle grain: {} files fail, e.g. {:?}", failures.len(), failures.first());
    assert!(failures.iter().all(|m| m.starts_with("image (vmdk) at offset 0x")), "{failures:?}");
}

#[test]
fn qcow2_absurd_l1_size_and_looping_l1() {
    let img = Damaged::new("containers/plain.qcow2").patch(36, &0x0FFF_FFFFu32.to_be_bytes());
    let e = Disk::open(&img, &NoFiles, &budget()).unwrap_err();
    assert_eq!((e.format, e.offset), ("qcow2", 36), "{e}");
    // L1 entry 0 points back at the L1 table itself: no hang, no panic, bounded reads.
    let clean = Damaged::new("containers/plain.qcow2");
    let l1 = be64(&clean, 40);
    let img = Damaged::new("containers/plain.qcow2").patch(l1, &(l1 | 1 << 63).to_be_bytes());
    let b = budget();
    let volumes = Disk::open(&img, &NoFiles, &b).map(|disk| disk.inspect().volumes.len());
    eprintln!("looping L1: {volumes:?}");
}

#[test]
fn vhd_bat_entry_past_the_end() {
    let clean = Damaged::new("containers/dynamic.vhd");
    let header = be64(&clean, clean.size() - 512 + 16);
    let bat = be64(&clean, header + 16);
    assert_eq!(be32(&clean, header), u32::from_be_bytes(*b"cxsp"));
    let img = Damaged::new("containers/dynamic.vhd").patch(bat, &0x7FFF_FFFFu32.to_be_bytes());
    let e = Disk::open(&img, &NoFiles, &budget()).unwrap_err();
    assert_eq!((e.format, e.offset), ("vhd-dynamic", bat), "{e}");
}

#[test]
fn vhdx_region_table_checksums() {
    const FIRST: u64 = 192 * 1024;
    const SECOND: u64 = 256 * 1024;
    // One bad table: the other copy is used, and the damage is reported.
    let img = Damaged::new("containers/dynamic.vhdx").patch(FIRST + 20, &[0x5A]);
    let b = budget();
    let disk = Disk::open(&img, &NoFiles, &b).unwrap();
    let report = disk.inspect();
    assert_eq!(report.targets.len(), 1);
    assert!(
        report.errors.iter().any(|e| e.message.contains("checksum mismatch") && e.offset == FIRST + 4),
        "{:?}",
        report.errors
    );
    // Both bad: a clear error.
    let img = Damaged::new("containers/dynamic.vhdx").patch(FIRST + 20, &[0x5A]).patch(SECOND + 20, &[0x5A]);
    let e = Disk::open(&img, &NoFiles, &budget()).unwrap_err();
    assert_eq!((e.format, e.offset), ("vhdx", FIRST + 4), "{e}");
    assert!(matches!(e.kind, ErrorKind::BadChecksum { .. }));
}

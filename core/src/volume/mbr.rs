//! DOS/MBR partition table with extended partitions.
//!
//! Four primary slots in sector 0; an extended partition (types 0x05, 0x0F, 0x85) holds a chain
//! of EBRs, each with one logical partition (relative to that EBR) and a link to the next EBR
//! (relative to the extended partition's start). Logicals are numbered from 5 in chain order,
//! as Linux does. The chain walk is bounded and refuses to revisit an EBR, so a looping chain
//! yields the logicals found so far and a warning.

use super::{Scheme, Volume, VolumeTable, VOLUME_COST};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt};
use alloc::vec::Vec;

const FORMAT: &str = "mbr";
const SECTOR: u64 = 512;
const TABLE: usize = 446;
/// Most logical partitions followed in one EBR chain (Linux allows far fewer in practice).
const MAX_LOGICAL: usize = 128;

#[derive(Debug, Clone, Copy)]
struct Entry {
    status: u8,
    kind: u8,
    lba: u32,
    sectors: u32,
}

/// The four partition entries of the table in `sector` (read from disk offset `offset`).
fn entries(sector: &[u8; 512], offset: u64) -> Result<[Entry; 4]> {
    let b = Bytes::new(sector, offset, Layer::Volume, FORMAT);
    let mut out = [Entry { status: 0, kind: 0, lba: 0, sectors: 0 }; 4];
    for (at, slot) in (TABLE..).step_by(16).zip(out.iter_mut()) {
        *slot = Entry { status: b.u8(at)?, kind: b.u8(at + 4)?, lba: b.u32_le(at + 8)?, sectors: b.u32_le(at + 12)? };
    }
    Ok(out)
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0F | 0x85)
}

/// Whether sector 0 is a filesystem boot sector (FAT, NTFS, exFAT) rather than an MBR: those
/// also end in 0x55AA.
fn is_boot_sector(s: &[u8; 512]) -> bool {
    let jumps = s[0] == 0xEB || s[0] == 0xE9;
    jumps
        && (&s[0x36..0x39] == b"FAT"
            || &s[0x52..0x57] == b"FAT32"
            || &s[3..11] == b"NTFS    "
            || &s[3..11] == b"EXFAT   ")
}

fn type_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        0x01 | 0x04 | 0x06 | 0x0B | 0x0C | 0x0E => "FAT",
        0x05 | 0x0F | 0x85 => "Extended",
        0x07 => "NTFS/exFAT",
        0x82 => "Linux swap",
        0x83 => "Linux",
        0x8E => "Linux LVM",
        0xFD => "Linux RAID",
        0xEE => "GPT protective",
        0xEF => "EFI System",
        _ => return None,
    })
}

fn volume(number: u32, start_lba: u64, e: &Entry) -> Volume {
    Volume {
        scheme: Scheme::Mbr,
        number,
        start: start_lba * SECTOR,
        size: u64::from(e.sectors) * SECTOR,
        type_id: alloc::format!("{:#04x}", e.kind),
        type_name: type_name(e.kind),
        name: None,
        guid: None,
        bootable: e.status == 0x80,
        lv: None,
        unreadable: None,
    }
}

/// Reads the MBR of `disk`. `Ok(None)` when sector 0 is not a partition table.
pub(super) fn read(disk: &dyn ReadAt, budget: &Budget, warnings: &mut Vec<Error>) -> Result<Option<VolumeTable>> {
    if disk.size() < SECTOR {
        return Ok(None);
    }
    let mut s0 = [0u8; 512];
    disk.read_at(0, &mut s0)?;
    if s0[510..] != [0x55, 0xAA] || is_boot_sector(&s0) {
        return Ok(None);
    }
    let primaries = entries(&s0, 0)?;
    let used = || primaries.iter().filter(|e| e.kind != 0 && e.sectors != 0);
    if used().next().is_none()
        || primaries.iter().any(|e| e.status & 0x7F != 0)
        || used().any(|e| e.kind == 0xEE || e.lba == 0)
    {
        return Ok(None);
    }
    let charge = budget.reserve(Layer::Volume, FORMAT, 0, (4 + MAX_LOGICAL) * VOLUME_COST)?;
    let mut volumes = Vec::new();
    let mut extended = None;
    for (i, e) in primaries.iter().enumerate() {
        if e.kind == 0 || e.sectors == 0 {
            continue;
        }
        volumes.push(volume(i as u32 + 1, u64::from(e.lba), e));
        if is_extended(e.kind) && extended.is_none() {
            extended = Some(*e);
        }
    }
    if let Some(ext) = extended {
        walk_ebr_chain(disk, &ext, &mut volumes, warnings);
    }
    Ok(Some(VolumeTable {
        _charge: Some(charge),
        scheme: Scheme::Mbr,
        disk_id: Some(alloc::format!("0x{:08x}", Bytes::new(&s0, 0, Layer::Volume, FORMAT).u32_le(440)?)),
        sector_size: 512,
        volumes,
        warnings: core::mem::take(warnings),
    }))
}

/// Follows the EBR chain of extended partition `ext`, appending logicals numbered from 5.
/// Problems end the walk with a warning; what was found so far is kept.
fn walk_ebr_chain(disk: &dyn ReadAt, ext: &Entry, volumes: &mut Vec<Volume>, warnings: &mut Vec<Error>) {
    let ext_start = u64::from(ext.lba);
    let ext_end = ext_start + u64::from(ext.sectors);
    let mut visited = heapless::Vec::<u64, MAX_LOGICAL>::new();
    let mut ebr = ext_start;
    let mut number = 5u32;
    loop {
        let offset = ebr * SECTOR;
        if visited.contains(&ebr) {
            warnings.push(Error::new(
                Layer::Volume,
                FORMAT,
                offset,
                ErrorKind::LoopLimit("EBR chain (revisits an EBR)"),
            ));
            return;
        }
        if visited.push(ebr).is_err() {
            warnings.push(Error::new(Layer::Volume, FORMAT, offset, ErrorKind::LoopLimit("EBR chain")));
            return;
        }
        let mut sector = [0u8; 512];
        if !fits(offset, SECTOR, disk.size()) || ebr >= ext_end {
            warnings.push(Error::new(
                Layer::Volume,
                FORMAT,
                offset,
                ErrorKind::Corrupt("EBR outside the extended partition"),
            ));
            return;
        }
        if let Err(e) = disk.read_at(offset, &mut sector) {
            warnings.push(e);
            return;
        }
        if sector[510..] != [0x55, 0xAA] {
            warnings.push(Error::new(Layer::Volume, FORMAT, offset + 510, ErrorKind::BadMagic));
            return;
        }
        let [logical, link, ..] = match entries(&sector, offset) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(e);
                return;
            }
        };
        if logical.kind != 0 && logical.sectors != 0 {
            volumes.push(volume(number, ebr + u64::from(logical.lba), &logical));
            number += 1;
        }
        if !is_extended(link.kind) || link.lba == 0 {
            return;
        }
        ebr = ext_start + u64::from(link.lba);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_entry(s: &mut [u8], slot: usize, kind: u8, lba: u32, sectors: u32) {
        let e = &mut s[TABLE + slot * 16..TABLE + slot * 16 + 16];
        e[4] = kind;
        e[8..12].copy_from_slice(&lba.to_le_bytes());
        e[12..16].copy_from_slice(&sectors.to_le_bytes());
    }

    #[test]
    fn looping_ebr_chain_keeps_found_logicals() {
        let mut disk = alloc::vec![0u8; 64 * 512];
        put_entry(&mut disk[..512], 0, 0x05, 8, 48);
        disk[510] = 0x55;
        disk[511] = 0xAA;
        // EBR at 8: logical at 8+2, link to the EBR at 8+16 = 24, which links to itself.
        let ebr1 = &mut disk[8 * 512..9 * 512];
        put_entry(ebr1, 0, 0x83, 2, 4);
        put_entry(ebr1, 1, 0x05, 16, 8);
        ebr1[510] = 0x55;
        ebr1[511] = 0xAA;
        let ebr2 = &mut disk[24 * 512..25 * 512];
        put_entry(ebr2, 0, 0x83, 2, 4);
        // The link is relative to the extended start: 16 → the EBR at 24 itself.
        put_entry(ebr2, 1, 0x05, 16, 8);
        ebr2[510] = 0x55;
        ebr2[511] = 0xAA;
        let budget = Budget::new(1 << 20);
        let mut warnings = Vec::new();
        let table = read(&&disk[..], &budget, &mut warnings).unwrap().unwrap();
        let ids: Vec<_> = table.volumes.iter().map(|v| v.id()).collect();
        assert_eq!(ids, ["mbr:1", "mbr:5", "mbr:6"]);
        assert!(matches!(table.warnings[0].kind, ErrorKind::LoopLimit(_)));
        assert_eq!(table.warnings[0].offset, 24 * 512);
    }
}

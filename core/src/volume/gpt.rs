//! GUID Partition Table (UEFI 2.10, section 5.3).
//!
//! The primary header sits at LBA 1 and its backup at the last LBA. Both the header and the
//! entry array are CRC-32 checked; when the primary fails, the backup is used and a warning
//! says so. The entry array is streamed in small chunks (never held whole in memory) and only
//! used entries become [`Volume`]s, each charged to the budget. 512- and 4096-byte sectors.

use super::{Scheme, Volume, VolumeTable, VOLUME_COST};
use crate::budget::Budget;
use crate::bytes::Bytes;
use crate::crc32::{crc32, Crc32};
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{fits, ReadAt};
use alloc::string::String;
use alloc::vec::Vec;

const FORMAT: &str = "gpt";
const SIGNATURE: &[u8; 8] = b"EFI PART";
/// Entry arrays larger than this are refused (the spec minimum is 16 KiB; real disks use it).
const MAX_ENTRY_ARRAY: u64 = 4 << 20;
const MAX_ENTRY_SIZE: u32 = 4096;

// Header field offsets (UEFI 2.10 table 5.21).
const HDR_SIZE: usize = 12;
const HDR_CRC: usize = 16;
const HDR_MY_LBA: usize = 24;
const HDR_ALTERNATE_LBA: usize = 32;
const HDR_FIRST_USABLE: usize = 40;
const HDR_LAST_USABLE: usize = 48;
const HDR_DISK_GUID: usize = 56;
const HDR_ENTRIES_LBA: usize = 72;
const HDR_NUM_ENTRIES: usize = 80;
const HDR_ENTRY_SIZE: usize = 84;
const HDR_ENTRIES_CRC: usize = 88;

/// A validated GPT header.
#[derive(Debug, Clone, Copy)]
struct Header {
    alternate_lba: u64,
    disk_guid: [u8; 16],
    entries_lba: u64,
    num_entries: u32,
    entry_size: u32,
    entries_crc: u32,
}

fn err(offset: u64, kind: ErrorKind) -> Error {
    Error::new(Layer::Volume, FORMAT, offset, kind)
}

/// Reads the GPT of `disk`. `Ok(None)` when there is no GPT signature at all.
pub(super) fn read(disk: &dyn ReadAt, budget: &Budget, warnings: &mut Vec<Error>) -> Result<Option<VolumeTable>> {
    for sector in [512u32, 4096] {
        let ss = u64::from(sector);
        let last_lba = match (disk.size() / ss).checked_sub(1) {
            Some(l) if l >= 2 => l,
            _ => continue,
        };
        let primary = read_header(disk, sector, 1);
        let (header, used_backup) = match primary {
            Ok(Some(h)) => match check_entries(disk, sector, &h) {
                Ok(()) => (h, false),
                Err(e) => {
                    let backup_lba =
                        if h.alternate_lba > 1 && h.alternate_lba <= last_lba { h.alternate_lba } else { last_lba };
                    warnings.push(e);
                    match read_header(disk, sector, backup_lba)? {
                        Some(b) => (b, true),
                        None => return Err(err(backup_lba * ss, ErrorKind::BadMagic)),
                    }
                }
            },
            Ok(None) => {
                // No primary signature: a GPT disk whose first sectors were wiped still has its
                // backup, but only trust it when the protective MBR says GPT.
                if !has_protective_mbr(disk)? {
                    continue;
                }
                match read_header(disk, sector, last_lba) {
                    Ok(Some(b)) => {
                        warnings.push(err(ss, ErrorKind::Corrupt("primary GPT header missing")));
                        (b, true)
                    }
                    _ => continue,
                }
            }
            Err(e) => {
                warnings.push(e);
                match read_header(disk, sector, last_lba)? {
                    Some(b) => (b, true),
                    None => return Err(err(last_lba * ss, ErrorKind::BadMagic)),
                }
            }
        };
        if used_backup {
            check_entries(disk, sector, &header)?;
            warnings.push(err(ss, ErrorKind::Corrupt("primary GPT damaged; backup GPT used")));
        }
        // Every used entry may become a Volume: charge the table's upper bound once.
        let charge = budget.reserve(
            Layer::Volume,
            FORMAT,
            header.entries_lba.saturating_mul(ss),
            header.num_entries as usize * VOLUME_COST,
        )?;
        let volumes = read_entries(disk, sector, &header, warnings)?;
        return Ok(Some(VolumeTable {
            _charge: Some(charge),
            scheme: Scheme::Gpt,
            disk_id: Some(format_guid(&header.disk_guid)),
            sector_size: sector,
            volumes,
            warnings: core::mem::take(warnings),
        }));
    }
    Ok(None)
}

fn has_protective_mbr(disk: &dyn ReadAt) -> Result<bool> {
    let mut mbr = [0u8; 512];
    disk.read_at(0, &mut mbr)?;
    let b = Bytes::new(&mbr, 0, Layer::Volume, "mbr");
    let mut protective = false;
    for entry in 0..4 {
        protective |= b.u8(446 + entry * 16 + 4)? == 0xEE;
    }
    Ok(b.slice(510, 2)? == [0x55, 0xAA] && protective)
}

/// Reads and validates the header at `lba`. `Ok(None)` when the signature is absent.
fn read_header(disk: &dyn ReadAt, sector: u32, lba: u64) -> Result<Option<Header>> {
    let ss = u64::from(sector);
    let offset = lba * ss;
    let mut buf = [0u8; 4096];
    let buf = buf.get_mut(..sector as usize).ok_or(err(offset, ErrorKind::Unsupported("sector size")))?;
    if !fits(offset, ss, disk.size()) {
        return Ok(None);
    }
    disk.read_at(offset, buf)?;
    if buf.get(..8) != Some(&SIGNATURE[..]) {
        return Ok(None);
    }
    let header_size = Bytes::new(buf, offset, Layer::Volume, FORMAT).u32_le(HDR_SIZE)?;
    if !(92..=sector).contains(&header_size) {
        return Err(err(offset + HDR_SIZE as u64, ErrorKind::Corrupt("GPT header size")));
    }
    let stored = Bytes::new(buf, offset, Layer::Volume, FORMAT).u32_le(HDR_CRC)?;
    // The CRC covers the header with its own CRC field zeroed.
    if let Some(field) = buf.get_mut(HDR_CRC..HDR_CRC + 4) {
        field.fill(0);
    }
    let h = Bytes::new(buf, offset, Layer::Volume, FORMAT);
    let computed = crc32(h.slice(0, header_size as usize)?);
    if !crate::crc32::holds(stored, computed) {
        return Err(err(offset + HDR_CRC as u64, ErrorKind::BadChecksum { stored, computed }));
    }
    if h.u64_le(HDR_MY_LBA)? != lba {
        return Err(err(offset + HDR_MY_LBA as u64, ErrorKind::Corrupt("GPT header's own LBA")));
    }
    if h.u64_le(HDR_FIRST_USABLE)? > h.u64_le(HDR_LAST_USABLE)? {
        return Err(err(offset + HDR_FIRST_USABLE as u64, ErrorKind::Corrupt("GPT usable range")));
    }
    let entry_size = h.u32_le(HDR_ENTRY_SIZE)?;
    if !(128..=MAX_ENTRY_SIZE).contains(&entry_size) || !entry_size.is_multiple_of(8) {
        return Err(err(offset + HDR_ENTRY_SIZE as u64, ErrorKind::Corrupt("GPT entry size")));
    }
    let num_entries = h.u32_le(HDR_NUM_ENTRIES)?;
    if u64::from(num_entries) * u64::from(entry_size) > MAX_ENTRY_ARRAY {
        return Err(err(offset + HDR_NUM_ENTRIES as u64, ErrorKind::Corrupt("GPT entry count")));
    }
    let disk_guid = h.array::<16>(HDR_DISK_GUID)?;
    Ok(Some(Header {
        alternate_lba: h.u64_le(HDR_ALTERNATE_LBA)?,
        disk_guid,
        entries_lba: h.u64_le(HDR_ENTRIES_LBA)?,
        num_entries,
        entry_size,
        entries_crc: h.u32_le(HDR_ENTRIES_CRC)?,
    }))
}

/// Calls `each(index, entry_bytes)` for every entry, streaming the array in chunks.
fn for_each_entry(
    disk: &dyn ReadAt,
    sector: u32,
    h: &Header,
    mut each: impl FnMut(u32, &[u8]) -> Result<()>,
) -> Result<()> {
    let start = h.entries_lba.saturating_mul(u64::from(sector));
    let es = h.entry_size as usize;
    let total = u64::from(h.num_entries) * es as u64;
    if !fits(start, total, disk.size()) {
        return Err(err(start, ErrorKind::Corrupt("GPT entry array lies outside the disk")));
    }
    let mut chunk = [0u8; 4096];
    let per_chunk = (chunk.len() / es) as u32;
    let mut index = 0u32;
    while index < h.num_entries {
        let n = per_chunk.min(h.num_entries - index);
        let bytes = chunk.get_mut(..n as usize * es).ok_or(err(start, ErrorKind::Corrupt("GPT entry size")))?;
        disk.read_at(start + u64::from(index) * es as u64, bytes)?;
        for (i, entry) in bytes.chunks_exact(es).enumerate() {
            each(index + i as u32, entry)?;
        }
        index += n;
    }
    Ok(())
}

fn check_entries(disk: &dyn ReadAt, sector: u32, h: &Header) -> Result<()> {
    let mut crc = Crc32::new();
    for_each_entry(disk, sector, h, |_, e| {
        crc.update(e);
        Ok(())
    })?;
    let computed = crc.finish();
    if !crate::crc32::holds(h.entries_crc, computed) {
        let offset = h.entries_lba.saturating_mul(u64::from(sector));
        return Err(err(offset, ErrorKind::BadChecksum { stored: h.entries_crc, computed }));
    }
    Ok(())
}

fn read_entries(disk: &dyn ReadAt, sector: u32, h: &Header, warnings: &mut Vec<Error>) -> Result<Vec<Volume>> {
    let ss = u64::from(sector);
    let mut volumes = Vec::new();
    let array_offset = h.entries_lba.saturating_mul(ss);
    for_each_entry(disk, sector, h, |index, e| {
        let entry_offset = array_offset + u64::from(index) * u64::from(h.entry_size);
        let e = Bytes::new(e, entry_offset, Layer::Volume, FORMAT);
        let type_guid = e.array::<16>(0)?;
        if type_guid == [0; 16] {
            return Ok(());
        }
        let first = e.u64_le(32)?;
        let last = e.u64_le(40)?;
        if first > last || last.checked_add(1).and_then(|l| l.checked_mul(ss)).is_none() {
            warnings.push(err(entry_offset + 32, ErrorKind::Corrupt("GPT entry LBA range")));
            return Ok(());
        }
        let unique = e.array::<16>(16)?;
        let type_id = format_guid(&type_guid);
        volumes.push(Volume {
            scheme: Scheme::Gpt,
            number: index + 1,
            start: first * ss,
            size: (last - first + 1) * ss,
            type_name: type_name(&type_id),
            type_id,
            name: Some(utf16_name(e.slice(56, 72)?)).filter(|n| !n.is_empty()),
            guid: Some(format_guid(&unique)),
            bootable: false,
            lv: None,
            unreadable: None,
        });
        Ok(())
    })?;
    Ok(volumes)
}

/// Decodes a NUL-terminated UTF-16LE partition name.
fn utf16_name(raw: &[u8]) -> String {
    let units = raw
        .chunks_exact(2)
        .filter_map(|c| match *c {
            [lo, hi] => Some(u16::from_le_bytes([lo, hi])),
            _ => None,
        })
        .take_while(|&u| u != 0);
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

/// Formats a GUID stored in the mixed-endian on-disk layout, upper case like sgdisk/sfdisk.
pub fn format_guid(g: &[u8; 16]) -> String {
    alloc::format!(
        "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

/// Names of common partition type GUIDs.
fn type_name(guid: &str) -> Option<&'static str> {
    Some(match guid {
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" => "EFI System",
        "21686148-6449-6E6F-744E-656564454649" => "BIOS boot",
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4" => "Linux filesystem",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" => "Linux root (x86-64)",
        "B921B045-1DF0-41C3-AF44-4C6F280D3FAE" => "Linux root (ARM-64)",
        "44479540-F297-41B2-9AF7-D131D5F0458A" => "Linux root (x86)",
        "8484680C-9521-48C6-9C11-B0720656F69E" => "Linux /usr (x86-64)",
        "BC13C2FF-59E6-4262-A352-B275FD6F7172" => "Linux extended boot",
        "933AC7E1-2EB4-4F13-B844-0E14E2AEF915" => "Linux home",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F" => "Linux swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928" => "Linux LVM",
        "A19D880F-05FC-4D3B-A006-743F0F84911E" => "Linux RAID",
        "CA7D7CCB-63ED-4C53-861C-1742536059CC" => "Linux LUKS",
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" => "Microsoft basic data",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE" => "Microsoft reserved",
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC" => "Windows recovery",
        "48465300-0000-11AA-AA11-00306543ECAC" => "Apple HFS+",
        "7C3457EF-0000-11AA-AA11-00306543ECAC" => "Apple APFS",
        "516E7CB6-6ECF-11D6-8FF8-00022D09712B" => "FreeBSD UFS",
        "6A898CC3-1DD2-11B2-99A6-080020736631" => "ZFS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_is_mixed_endian() {
        // The EFI System type GUID as stored on disk.
        let raw = [0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B];
        assert_eq!(format_guid(&raw), "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    }

    #[test]
    fn utf16_names_stop_at_nul() {
        let mut raw = [0u8; 72];
        raw[0] = b'r';
        raw[2] = b'o';
        raw[4] = b'o';
        raw[6] = b't';
        assert_eq!(utf16_name(&raw), "root");
    }
}

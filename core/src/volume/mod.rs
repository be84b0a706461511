//! Volumes on a disk: partition tables (MBR with its EBR chain, GPT) or the whole disk.
//!
//! [`read_volumes`] decides the scheme from what is on disk: a valid GPT header (primary, or
//! backup when the primary is damaged), else a plausible MBR, else the whole disk as one volume
//! (a bare filesystem). Volume ids follow the report contract: `gpt:N`, `mbr:N`, `whole`.

pub mod gpt;
pub mod lvm;
pub mod mbr;

use crate::budget::{Budget, Reservation};
use crate::error::{Error, Result};
use crate::io::ReadAt;
use alloc::string::String;
use alloc::vec::Vec;

/// The partitioning scheme of a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// GUID partition table.
    Gpt,
    /// DOS/MBR partition table, logical partitions from the EBR chain numbered from 5.
    Mbr,
    /// No partition table: the whole disk is one volume.
    Whole,
    /// An LVM2 logical volume (id `lvm:VG/LV`).
    Lvm,
}

impl Scheme {
    /// Name used in reports and volume ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Gpt => "gpt",
            Scheme::Mbr => "mbr",
            Scheme::Whole => "whole",
            Scheme::Lvm => "lvm",
        }
    }
}

/// One volume: a byte range of the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Scheme it came from.
    pub scheme: Scheme,
    /// Partition number (GPT entry index from 1; MBR slot 1–4, logicals from 5; 0 for whole).
    pub number: u32,
    /// Start in bytes on the disk.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Partition type: GPT type GUID (upper case) or MBR type byte as `0x83`.
    pub type_id: String,
    /// Human name of the type when known (`Linux filesystem`, `EFI System`, …).
    pub type_name: Option<&'static str>,
    /// GPT partition name (PARTLABEL).
    pub name: Option<String>,
    /// GPT unique partition GUID (PARTUUID).
    pub guid: Option<String>,
    /// MBR boot flag.
    pub bootable: bool,
    /// For an LVM logical volume: where its extents are on the disk.
    pub lv: Option<alloc::sync::Arc<lvm::LogicalVolume>>,
    /// Why the volume cannot be read, when it is listed anyway (an LV of a type coldscan does
    /// not follow, or whose PV is not in the image).
    pub unreadable: Option<Error>,
}

impl Volume {
    /// The contract id: `gpt:2`, `mbr:5`, `whole`, `lvm:VG/LV`.
    pub fn id(&self) -> String {
        match self.scheme {
            Scheme::Whole => String::from("whole"),
            Scheme::Lvm => alloc::format!("lvm:{}", self.name.as_deref().unwrap_or_default()),
            s => alloc::format!("{}:{}", s.as_str(), self.number),
        }
    }

    /// Whether the type says this holds no filesystem worth opening (extended container,
    /// BIOS boot area).
    pub fn is_container(&self) -> bool {
        matches!(self.type_id.as_str(), "0x05" | "0x0f" | "0x85")
    }
}

/// Budget charged per possible volume: the struct plus its strings (GUIDs, a 36-char name).
pub(crate) const VOLUME_COST: usize = core::mem::size_of::<Volume>() + 256;

/// The volumes found on a disk, with what went wrong on the way.
#[derive(Debug)]
pub struct VolumeTable {
    /// The budget charge for `volumes`.
    _charge: Option<Reservation>,
    /// Scheme found.
    pub scheme: Scheme,
    /// GPT disk GUID or MBR disk signature.
    pub disk_id: Option<String>,
    /// Sector size used (512 or 4096).
    pub sector_size: u32,
    /// Volumes in table order.
    pub volumes: Vec<Volume>,
    /// Problems that did not stop the table from being read (e.g. backup GPT used).
    pub warnings: Vec<Error>,
}

/// Reads the partition table of `disk` (or presents the whole disk as one volume), then the
/// LVM2 logical volumes on its physical volumes.
pub fn read_volumes(disk: &dyn ReadAt, budget: &Budget) -> Result<VolumeTable> {
    let mut table = read_table(disk, budget)?;
    // A volume that runs past the end of the disk means the image was cut short.
    for v in &table.volumes {
        if v.start.checked_add(v.size).is_none_or(|end| end > disk.size()) {
            table.warnings.push(Error::new(
                crate::error::Layer::Volume,
                "disk",
                v.start,
                crate::error::ErrorKind::Corrupt("a volume runs past the end of the disk: the image is truncated"),
            ));
            break;
        }
    }
    let lvs = lvm::logical_volumes(disk, &table.volumes, budget, &mut table.warnings);
    table.volumes.extend(lvs);
    Ok(table)
}

/// The partition table of `disk`, or the whole disk as one volume.
fn read_table(disk: &dyn ReadAt, budget: &Budget) -> Result<VolumeTable> {
    let mut warnings = Vec::new();
    match gpt::read(disk, budget, &mut warnings) {
        Ok(Some(table)) => return Ok(table),
        Ok(None) => {}
        Err(e) => warnings.push(e),
    }
    match mbr::read(disk, budget, &mut warnings)? {
        Some(table) => Ok(table),
        None => Ok(VolumeTable {
            _charge: None,
            scheme: Scheme::Whole,
            disk_id: None,
            sector_size: 512,
            volumes: alloc::vec![Volume {
                scheme: Scheme::Whole,
                number: 0,
                start: 0,
                size: disk.size(),
                type_id: String::new(),
                type_name: None,
                name: None,
                guid: None,
                bootable: false,
                lv: None,
                unreadable: None,
            }],
            warnings,
        }),
    }
}

//! LVM2: physical volumes found among a disk's volumes, their volume groups (the newest
//! committed metadata of each), and linear and striped logical volumes presented as volumes
//! `lvm:VG/LV` that everything above reads like a partition.
//!
//! Supported: PV labels in sectors 0–3, one or two metadata areas, the circular metadata buffer
//! (the copy `raw_locn` names, CRC-checked), VGs whose PVs are spread over several partitions,
//! `striped` segments (linear LVs of any number of segments, and striped LVs).
//!
//! Not read (each a clear entry in the scan's errors, the other LVs still read): thin pools and
//! thin LVs, RAID and mirror, snapshots' copy-on-write view, cache and VDO, and any LV with a
//! PV that is not inside the image.
//!
//! Reference: lvm2's lib/format_text (layout.h, import_vsn1.c) and lib/metadata/lv.c.

mod label;
mod metadata;

use super::{Scheme, Volume};
use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{self, eof, fits, read_mapped, ReadAt, Window};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use metadata::{LvMeta, VgMeta};

const FORMAT: &str = "lvm2";
const SECTOR: u64 = 512;
/// Most stripes (segment × stripe) compared for shared extents in one volume group.
const MAX_STRIPES: usize = 1 << 16;

/// One segment of a logical volume, in disk byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// Start within the LV.
    start: u64,
    /// Length in bytes.
    len: u64,
    /// Stripe size in bytes (equal to `len` for a single stripe).
    stripe_size: u64,
    /// Disk offset where each stripe's part of the segment starts.
    stripes: Vec<u64>,
}

/// A logical volume's layout on the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalVolume {
    /// Size in bytes.
    pub size: u64,
    segments: Vec<Segment>,
}

impl LogicalVolume {
    /// Where LV byte `offset` is on the disk, and how many bytes follow it contiguously.
    fn locate(&self, offset: u64) -> Option<(u64, u64)> {
        let i = self.segments.partition_point(|s| s.start + s.len <= offset);
        let seg = self.segments.get(i)?;
        let rel = offset.checked_sub(seg.start)?;
        let chunk = rel / seg.stripe_size;
        let count = seg.stripes.len() as u64;
        let stripe = seg.stripes.get(usize::try_from(chunk % count).ok()?)?;
        let within = rel % seg.stripe_size;
        let at = stripe.checked_add((chunk / count).checked_mul(seg.stripe_size)?)?.checked_add(within)?;
        Some((at, (seg.stripe_size - within).min(seg.len - rel)))
    }
}

/// A logical volume as a [`ReadAt`] over the disk its PVs are on.
pub struct LvReader<'a> {
    lv: Arc<LogicalVolume>,
    disk: &'a dyn ReadAt,
}

impl<'a> LvReader<'a> {
    /// The bytes of `lv`, read from `disk`.
    pub fn new(lv: Arc<LogicalVolume>, disk: &'a dyn ReadAt) -> Self {
        LvReader { lv, disk }
    }
}

impl core::fmt::Debug for LvReader<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "LvReader({} bytes in {} segments)", self.lv.size, self.lv.segments.len())
    }
}

impl ReadAt for LvReader<'_> {
    fn size(&self) -> u64 {
        self.lv.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.lv.size) {
            return Err(eof(Layer::Volume, FORMAT, offset, buf.len(), self.lv.size));
        }
        let map = |pos, _| {
            let (at, run) =
                self.lv.locate(pos).ok_or(Error::new(Layer::Volume, FORMAT, pos, ErrorKind::Corrupt("LV map")))?;
            Ok((io::Segment::At(at), run))
        };
        read_mapped(offset, buf, (Layer::Volume, FORMAT), map, |at, piece| self.disk.read_at(at, piece))
    }
}

/// A physical volume found on the disk.
struct FoundPv {
    uuid: String,
    /// Disk offset of the PV's first byte, and its size.
    start: u64,
    size: u64,
}

/// Finds the PVs among `volumes` of `disk`, reads their volume groups and returns one volume
/// per readable logical volume. Problems (unreadable metadata, missing PVs, LV types not read)
/// go to `warnings`; the other LVs are still returned.
pub fn logical_volumes(
    disk: &dyn ReadAt,
    volumes: &[Volume],
    budget: &Budget,
    warnings: &mut Vec<Error>,
) -> Vec<Volume> {
    let mut pvs = Vec::new();
    let mut groups: Vec<VgMeta> = Vec::new();
    for v in volumes.iter().filter(|v| v.lv.is_none() && !v.is_container()) {
        let pv = Window::new(disk, v.start, v.size, Layer::Volume, FORMAT);
        let label = match label::read_label(&pv) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(e) => {
                warnings.push(at_disk(e, v.start));
                continue;
            }
        };
        for &area in &label.metadata_areas {
            match read_group(&pv, area, budget) {
                Ok(Some(vg)) => match groups.iter_mut().find(|g| g.id == vg.id) {
                    Some(known) if known.seqno >= vg.seqno => {}
                    Some(known) => *known = vg,
                    None => groups.push(vg),
                },
                Ok(None) => {}
                Err(e) => warnings.push(at_disk(e, v.start)),
            }
        }
        pvs.push(FoundPv { uuid: label.uuid, start: v.start, size: v.size });
    }
    let mut out = Vec::new();
    for vg in &groups {
        let shared = lvs_sharing_extents(vg, budget);
        for (index, lv) in vg.lvs.iter().enumerate().filter(|(_, lv)| lv.visible) {
            let checked = match shared {
                Err(e) => Err(e),
                Ok(ref shared) if shared.contains(&index) => Err(Error::new(
                    Layer::Volume,
                    FORMAT,
                    0,
                    ErrorKind::Corrupt("physical extents mapped more than once (overlapping or reused LV segments)"),
                )),
                Ok(_) => layout(vg, lv, &pvs),
            };
            let (layout, unreadable) = match checked {
                Ok(layout) => (Some(Arc::new(layout)), None),
                Err(e) => (None, Some(e)),
            };
            let extents: u64 = lv.segments.iter().map(|s| s.extent_count).fold(0, u64::saturating_add);
            out.push(Volume {
                scheme: Scheme::Lvm,
                number: out.len() as u32 + 1,
                start: layout.as_ref().and_then(|l| l.segments.first()?.stripes.first().copied()).unwrap_or(0),
                size: layout.as_ref().map_or(extents.saturating_mul(vg.extent_size * SECTOR), |l| l.size),
                type_id: String::from("lvm"),
                type_name: Some("LVM2 logical volume"),
                name: Some(alloc::format!("{}/{}", vg.name, lv.name)),
                guid: None,
                bootable: false,
                lv: layout,
                unreadable,
            });
        }
    }
    out
}

/// Moves a PV-relative error offset to a disk offset.
fn at_disk(e: Error, pv_start: u64) -> Error {
    Error { offset: e.offset.saturating_add(pv_start), ..e }
}

/// Parses and validates LVM2 metadata text found at `offset`: the volume group's name and
/// sequence number (for diagnostics, and the fuzz target of the grammar).
pub fn parse_metadata_text(text: &[u8], offset: u64) -> Result<(String, u64)> {
    let budget = Budget::default();
    let tree = metadata::parse(crate::bytes::Bytes::new(text, offset, Layer::Volume, FORMAT), &budget)?;
    let vg = metadata::volume_group(&tree.root, offset)?;
    Ok((vg.name, vg.seqno))
}

fn read_group(pv: &dyn ReadAt, area: (u64, u64), budget: &Budget) -> Result<Option<VgMeta>> {
    let Some((text, at)) = label::read_metadata(pv, area, budget)? else { return Ok(None) };
    let tree = metadata::parse(crate::bytes::Bytes::new(&text, at, Layer::Volume, FORMAT), budget)?;
    metadata::volume_group(&tree.root, at).map(Some)
}

/// The disk layout of `lv`, or why it cannot be read.
fn layout(vg: &VgMeta, lv: &LvMeta, found: &[FoundPv]) -> Result<LogicalVolume> {
    let err = |kind| Error::new(Layer::Volume, FORMAT, 0, kind);
    let extent = vg.extent_size * SECTOR;
    let mut segments = Vec::new();
    let mut next_extent = 0u64;
    for seg in &lv.segments {
        if seg.kind != "striped" {
            return Err(err(ErrorKind::Unsupported(unsupported_kind(&seg.kind))));
        }
        let count = seg.stripes.len() as u64;
        if seg.start_extent != next_extent || count == 0 || seg.extent_count == 0 || seg.extent_count % count != 0 {
            return Err(err(ErrorKind::Corrupt("LV segment extents")));
        }
        let per_stripe = seg.extent_count / count;
        let mut stripes = Vec::new();
        for (key, pe) in &seg.stripes {
            let pv =
                vg.pvs.iter().find(|p| &p.key == key).ok_or(err(ErrorKind::Corrupt("segment names an unknown PV")))?;
            let disk = found
                .iter()
                .find(|f| f.uuid == pv.id)
                .ok_or(err(ErrorKind::Missing("a physical volume of this LV is not in the image")))?;
            if pe.checked_add(per_stripe).is_none_or(|end| end > pv.pe_count) {
                return Err(err(ErrorKind::Corrupt("segment runs past the end of its PV")));
            }
            let at = pv.pe_start.checked_mul(SECTOR).and_then(|s| s.checked_add(pe.checked_mul(extent)?));
            let len = per_stripe.checked_mul(extent);
            match (at, len) {
                (Some(at), Some(len)) if at.checked_add(len).is_some_and(|end| end <= disk.size) => {
                    stripes.push(disk.start + at)
                }
                _ => {
                    return Err(Error::new(
                        Layer::Volume,
                        FORMAT,
                        disk.start,
                        ErrorKind::Corrupt("segment runs past the end of its PV"),
                    ))
                }
            }
        }
        let len = seg.extent_count.checked_mul(extent).ok_or(err(ErrorKind::Corrupt("LV size")))?;
        let stripe_size = if count == 1 { len } else { seg.stripe_size * SECTOR };
        if stripe_size == 0 {
            return Err(err(ErrorKind::Corrupt("stripe size")));
        }
        segments.push(Segment { start: next_extent * extent, len, stripe_size, stripes });
        next_extent += seg.extent_count;
    }
    let size = next_extent.checked_mul(extent).ok_or(err(ErrorKind::Corrupt("LV size")))?;
    if size == 0 {
        return Err(err(ErrorKind::Corrupt("LV without segments")));
    }
    Ok(LogicalVolume { size, segments })
}

/// The indexes of the LVs of `vg` whose segments map physical extents that another segment
/// (of the same or another LV) maps too: lvm2 never writes such metadata, and reading it would
/// let a few extents stand for a disk many times their size. At most [`MAX_STRIPES`] stripes
/// are compared in all, their list charged to `budget`.
fn lvs_sharing_extents(vg: &VgMeta, budget: &Budget) -> Result<Vec<usize>> {
    let stripes =
        vg.lvs.iter().flat_map(|lv| &lv.segments).map(|seg| seg.stripes.len()).fold(0usize, usize::saturating_add);
    if stripes > MAX_STRIPES {
        return Err(Error::new(
            Layer::Volume,
            FORMAT,
            0,
            ErrorKind::LoopLimit("LV segment stripes in one volume group"),
        ));
    }
    // (PV key, first extent, end extent, LV index), for every stripe of every segment.
    let mut used = budget.fixed_vec::<(&str, u64, u64, usize)>(Layer::Volume, FORMAT, 0, stripes)?;
    for (index, lv) in vg.lvs.iter().enumerate() {
        for seg in &lv.segments {
            let count = (seg.stripes.len() as u64).max(1);
            let per_stripe = seg.extent_count / count;
            for (key, pe) in &seg.stripes {
                used.push((key.as_str(), *pe, pe.saturating_add(per_stripe), index))?;
            }
        }
    }
    used.sort_unstable();
    let mut shared = Vec::new();
    // The furthest end seen so far on the current PV, and whose it is.
    let mut reach: Option<(&str, u64, usize)> = None;
    for &(pv, start, end, lv) in used.iter() {
        match reach {
            Some((reach_pv, reach_end, reach_lv)) if reach_pv == pv => {
                if start < reach_end {
                    shared.extend([reach_lv, lv]);
                }
                if end > reach_end {
                    reach = Some((pv, end, lv));
                }
            }
            _ => reach = Some((pv, end, lv)),
        }
    }
    shared.sort_unstable();
    shared.dedup();
    Ok(shared)
}

fn unsupported_kind(kind: &str) -> &'static str {
    match kind {
        "thin-pool" | "thin" => "thin-provisioned LV",
        "raid0" | "raid0_meta" | "raid1" | "raid4" | "raid5" | "raid5_la" | "raid5_ra" | "raid5_ls" | "raid5_rs"
        | "raid5_n" | "raid6" | "raid6_zr" | "raid6_nr" | "raid6_nc" | "raid10" | "mirror" => "RAID or mirrored LV",
        "snapshot" => "snapshot LV",
        "cache" | "cache-pool" | "writecache" => "cached LV",
        "vdo" | "vdo-pool" => "VDO LV",
        _ => "LV segment type",
    }
}

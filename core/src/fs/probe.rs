//! What a volume holds, from its magic numbers (as `blkid` tells): filesystem kind, label, UUID.
//! Probing reads a few small blocks and never fails on unknown content.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::bytes::Bytes;
use crate::error::{Layer, Result};
use crate::io::ReadAt;
use alloc::string::String;

/// The result of probing a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsProbe {
    /// Kind as blkid names it: `ext2`, `ext3`, `ext4`, `xfs`, `vfat`, `swap`, `LVM2_member`,
    /// `btrfs`, `crypto_LUKS`, `squashfs`.
    pub kind: &'static str,
    /// Volume label, when the format has one and it is set.
    pub label: Option<String>,
    /// Volume UUID (or FAT serial), when the format has one.
    pub uuid: Option<String>,
}

const FORMAT: &str = "probe";

fn read_opt<const N: usize>(vol: &dyn ReadAt, off: u64) -> Result<Option<[u8; N]>> {
    if !crate::io::fits(off, N as u64, vol.size()) {
        return Ok(None);
    }
    let mut b = [0u8; N];
    vol.read_at(off, &mut b)?;
    Ok(Some(b))
}

fn text(raw: &[u8]) -> Option<String> {
    let until_nul = raw.split(|&b| b == 0).next().unwrap_or(raw);
    let s = String::from_utf8_lossy(until_nul);
    let s = s.trim_end();
    (!s.is_empty()).then(|| String::from(s))
}

/// UUID in the plain big-endian byte order ext4, XFS and btrfs store it in.
fn plain_uuid(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, byte) in b.iter().take(16).enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&alloc::format!("{byte:02x}"));
    }
    s
}

/// Identifies the content of `vol`. `Ok(None)` when nothing known is found.
pub fn probe(vol: &dyn ReadAt) -> Result<Option<FsProbe>> {
    if let Some(raw) = read_opt::<1024>(vol, 1024)? {
        let sb = crate::fs::ext4::superblock::view(&raw);
        if sb.u16_le(0x38)? == 0xEF53 {
            return Ok(Some(FsProbe {
                kind: crate::fs::ext4::superblock::flavour(&sb)?,
                label: text(sb.slice(0x78, 16)?),
                uuid: Some(plain_uuid(sb.slice(0x68, 16)?)),
            }));
        }
    }
    if let Some(raw) = read_opt::<512>(vol, 0)? {
        let b = Bytes::new(&raw, 0, Layer::Fs, FORMAT);
        if b.slice(0, 4)? == b"XFSB" {
            let (label, uuid) = (text(b.slice(108, 12)?), Some(plain_uuid(b.slice(32, 16)?)));
            return Ok(Some(FsProbe { kind: "xfs", label, uuid }));
        }
        if b.slice(0, 6)? == b"LUKS\xba\xbe" {
            return Ok(Some(FsProbe { kind: "crypto_LUKS", label: None, uuid: text(b.slice(168, 40)?) }));
        }
        if b.slice(0, 4)? == b"hsqs" {
            return Ok(Some(FsProbe { kind: "squashfs", label: None, uuid: None }));
        }
        if b.slice(510, 2)? == [0x55, 0xAA] && matches!(b.u8(0)?, 0xEB | 0xE9) {
            let (label_at, serial_at) = if b.slice(0x52, 5)? == b"FAT32" {
                (0x47, 0x43)
            } else if b.slice(0x36, 3)? == b"FAT" {
                (0x2B, 0x27)
            } else {
                (0, 0)
            };
            if label_at != 0 {
                let serial = b.u32_le(serial_at)?;
                let label = text(b.slice(label_at, 11)?).filter(|l| l != "NO NAME");
                let uuid = alloc::format!("{:04X}-{:04X}", serial >> 16, serial & 0xFFFF);
                return Ok(Some(FsProbe { kind: "vfat", label, uuid: Some(uuid) }));
            }
        }
    }
    if let Some(raw) = read_opt::<32>(vol, 512)? {
        let b = Bytes::new(&raw, 512, Layer::Fs, FORMAT);
        if b.slice(0, 8)? == b"LABELONE" && b.slice(24, 8)? == b"LVM2 001" {
            let uuid = read_opt::<32>(vol, 512 + 32)?.and_then(|u| text(&u));
            return Ok(Some(FsProbe { kind: "LVM2_member", label: None, uuid }));
        }
    }
    if let Some(raw) = read_opt::<0x22B>(vol, 0x10000)? {
        let b = Bytes::new(&raw, 0x10000, Layer::Fs, FORMAT);
        if b.slice(0x40, 8)? == b"_BHRfS_M" {
            return Ok(Some(FsProbe {
                kind: "btrfs",
                label: text(b.slice(0x12B, 0x100)?),
                uuid: Some(plain_uuid(b.slice(0x20, 16)?)),
            }));
        }
    }
    if let Some(b) = read_opt::<10>(vol, 4086)? {
        if &b == b"SWAPSPACE2" || &b == b"SWAP-SPACE" {
            let (label, uuid) = match read_opt::<64>(vol, 1024)? {
                Some(raw) => {
                    let m = Bytes::new(&raw, 1024, Layer::Fs, FORMAT);
                    (text(m.slice(28, 16)?), Some(plain_uuid(m.slice(12, 16)?)))
                }
                None => (None, None),
            };
            return Ok(Some(FsProbe { kind: "swap", label, uuid }));
        }
    }
    Ok(None)
}

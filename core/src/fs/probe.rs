//! What a volume holds, from its magic numbers (as `blkid` tells): filesystem kind, label, UUID.
//! Probing reads a few small blocks and never fails on unknown content.

use crate::error::Result;
use crate::io::{le, ReadAt};
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

fn read_opt<const N: usize>(vol: &dyn ReadAt, off: u64) -> Result<Option<[u8; N]>> {
    if !crate::io::fits(off, N as u64, vol.size()) {
        return Ok(None);
    }
    let mut b = [0u8; N];
    vol.read_at(off, &mut b)?;
    Ok(Some(b))
}

fn text(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let s = String::from_utf8_lossy(&raw[..end]);
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
    if let Some(sb) = read_opt::<1024>(vol, 1024)? {
        if le::u16(&sb, 0x38) == 0xEF53 {
            return Ok(Some(FsProbe {
                kind: crate::fs::ext4::superblock::flavour(&sb),
                label: text(&sb[0x78..0x88]),
                uuid: Some(plain_uuid(&sb[0x68..0x78])),
            }));
        }
    }
    if let Some(b) = read_opt::<512>(vol, 0)? {
        if &b[0..4] == b"XFSB" {
            return Ok(Some(FsProbe { kind: "xfs", label: text(&b[108..120]), uuid: Some(plain_uuid(&b[32..48])) }));
        }
        if b[0..6] == *b"LUKS\xba\xbe" {
            return Ok(Some(FsProbe { kind: "crypto_LUKS", label: None, uuid: text(&b[168..208]) }));
        }
        if &b[0..4] == b"hsqs" {
            return Ok(Some(FsProbe { kind: "squashfs", label: None, uuid: None }));
        }
        if b[510..512] == [0x55, 0xAA] && (b[0] == 0xEB || b[0] == 0xE9) {
            let (label_at, serial_at) = if &b[0x52..0x57] == b"FAT32" {
                (0x47, 0x43)
            } else if &b[0x36..0x39] == b"FAT" {
                (0x2B, 0x27)
            } else {
                (0, 0)
            };
            if label_at != 0 {
                let serial = le::u32(&b, serial_at);
                let label = text(&b[label_at..label_at + 11]).filter(|l| l != "NO NAME");
                let uuid = alloc::format!("{:04X}-{:04X}", serial >> 16, serial & 0xFFFF);
                return Ok(Some(FsProbe { kind: "vfat", label, uuid: Some(uuid) }));
            }
        }
    }
    if let Some(b) = read_opt::<32>(vol, 512)? {
        if &b[0..8] == b"LABELONE" && &b[24..32] == b"LVM2 001" {
            let uuid = read_opt::<32>(vol, 512 + 32)?.and_then(|u| text(&u));
            return Ok(Some(FsProbe { kind: "LVM2_member", label: None, uuid }));
        }
    }
    if let Some(b) = read_opt::<0x22B>(vol, 0x10000)? {
        if &b[0x40..0x48] == b"_BHRfS_M" {
            return Ok(Some(FsProbe {
                kind: "btrfs",
                label: text(&b[0x12B..0x22B]),
                uuid: Some(plain_uuid(&b[0x20..0x30])),
            }));
        }
    }
    if let Some(b) = read_opt::<10>(vol, 4086)? {
        if &b == b"SWAPSPACE2" || &b == b"SWAP-SPACE" {
            let meta = read_opt::<64>(vol, 1024)?;
            return Ok(Some(FsProbe {
                kind: "swap",
                label: meta.as_ref().and_then(|m| text(&m[28..44])),
                uuid: meta.map(|m| plain_uuid(&m[12..28])),
            }));
        }
    }
    Ok(None)
}

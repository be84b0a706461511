//! `/etc/fstab`: which volumes a root mounts where, and how an entry's device names a volume of
//! the image.
//!
//! Fields are separated by blanks; `#` starts a comment; `\040`-style octal escapes are
//! decoded in the first two fields (as `getmntent` does). Devices are named by `UUID=`, `LABEL=`,
//! `PARTUUID=`, `PARTLABEL=`, `/dev/disk/by-*/…`, `/dev/mapper/VG-LV` (a `-` inside a VG or LV
//! name is doubled), `/dev/VG/LV`, or a kernel partition name of the first disk (`/dev/sda2`,
//! `/dev/vda2`, `/dev/xvda2`, `/dev/nvme0n1p2`).
//! Reference: fstab(5), getmntent(3), and lvm2's dm_split_lvm_name().

use alloc::string::String;
use alloc::vec::Vec;

/// Most fstab entries read (real ones have a dozen).
pub const MAX_ENTRIES: usize = 256;

/// One fstab line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// The device field, as written.
    pub spec: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// Filesystem type (`xfs`, `ext4`, `swap`, `auto`, …).
    pub fs_type: String,
    /// Mount options.
    pub options: String,
}

impl FstabEntry {
    /// Whether this entry mounts a filesystem from a local volume at boot: not swap, not a
    /// pseudo or network filesystem, not `noauto`, not a bind mount, and at an absolute path
    /// other than `/`.
    pub fn mounts_a_volume(&self) -> bool {
        const NOT_VOLUMES: [&str; 16] = [
            "swap",
            "none",
            "tmpfs",
            "proc",
            "sysfs",
            "devpts",
            "devtmpfs",
            "nfs",
            "nfs4",
            "cifs",
            "smbfs",
            "cgroup",
            "cgroup2",
            "securityfs",
            "efivarfs",
            "fuse",
        ];
        let options: Vec<&str> = self.options.split(',').collect();
        self.mount_point.starts_with('/')
            && self.mount_point != "/"
            && !NOT_VOLUMES.contains(&self.fs_type.as_str())
            && !self.fs_type.starts_with("fuse.")
            && !options.contains(&"noauto")
            && !options.contains(&"bind")
            && !options.contains(&"rbind")
    }

    /// The value of mount option `name=` (e.g. `subvol`), if given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.split(',').find_map(|o| o.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Decodes `getmntent`'s octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let octal = bytes.get(i + 1..i + 4).filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses fstab text; lines with fewer than two fields are skipped, at most [`MAX_ENTRIES`].
pub fn parse(text: &str) -> Vec<FstabEntry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let (Some(spec), Some(mount_point)) = (fields.next(), fields.next()) else { continue };
        let fs_type = fields.next().unwrap_or("auto");
        let options = fields.next().unwrap_or("defaults");
        entries.push(FstabEntry {
            spec: unescape(spec),
            mount_point: unescape(mount_point),
            fs_type: String::from(fs_type),
            options: String::from(options),
        });
        if entries.len() >= MAX_ENTRIES {
            break;
        }
    }
    entries
}

/// How an fstab device field names a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    /// Filesystem UUID.
    Uuid(String),
    /// Filesystem label.
    Label(String),
    /// GPT partition GUID.
    PartUuid(String),
    /// GPT partition name.
    PartLabel(String),
    /// An LVM logical volume (VG, LV).
    Lvm(String, String),
    /// Partition number N of the (first) disk.
    Partition(u32),
}

/// Decodes udev's `\xHH` escapes in `/dev/disk/by-label` names.
fn unescape_udev(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(pos) = rest.find("\\x") {
        let (head, tail) = rest.split_at(pos);
        out.push_str(head);
        match tail.get(2..4).and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(char::from(b));
                rest = tail.get(4..).unwrap_or_default();
            }
            None => {
                out.push_str("\\x");
                rest = tail.get(2..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits a device-mapper name `VG-LV` (dashes inside names doubled) into its parts.
fn split_mapper_name(name: &str) -> Option<(String, String)> {
    let bytes = name.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'-' {
            if bytes.get(i + 1) == Some(&b'-') {
                i += 2;
                continue;
            }
            let (vg, lv) = (name.get(..i)?, name.get(i + 1..)?);
            return (!vg.is_empty() && !lv.is_empty()).then(|| (vg.replace("--", "-"), lv.replace("--", "-")));
        }
        i += 1;
    }
    None
}

/// The partition number in a kernel device name of the first disk.
fn partition_number(dev: &str) -> Option<u32> {
    let digits = |s: &str| s.parse::<u32>().ok().filter(|&n| n > 0);
    if let Some(rest) = dev.strip_prefix("nvme0n1p") {
        return digits(rest);
    }
    for disk in ["sda", "vda", "xvda", "hda"] {
        if let Some(rest) = dev.strip_prefix(disk) {
            return digits(rest);
        }
    }
    None
}

impl DeviceRef {
    /// What an fstab device field names, or `None` for a form that names no local volume.
    pub fn parse(spec: &str) -> Option<Self> {
        let tagged = |prefix: &str| spec.strip_prefix(prefix).map(|v| String::from(v.trim_matches('"')));
        if let Some(v) = tagged("UUID=") {
            return Some(DeviceRef::Uuid(v));
        }
        if let Some(v) = tagged("LABEL=") {
            return Some(DeviceRef::Label(v));
        }
        if let Some(v) = tagged("PARTUUID=") {
            return Some(DeviceRef::PartUuid(v));
        }
        if let Some(v) = tagged("PARTLABEL=") {
            return Some(DeviceRef::PartLabel(v));
        }
        let dev = spec.strip_prefix("/dev/")?;
        if let Some(by) = dev.strip_prefix("disk/") {
            let (kind, name) = by.split_once('/')?;
            let name = unescape_udev(name);
            return match kind {
                "by-uuid" => Some(DeviceRef::Uuid(name)),
                "by-label" => Some(DeviceRef::Label(name)),
                "by-partuuid" => Some(DeviceRef::PartUuid(name)),
                "by-partlabel" => Some(DeviceRef::PartLabel(name)),
                _ => None,
            };
        }
        if let Some(name) = dev.strip_prefix("mapper/") {
            let (vg, lv) = split_mapper_name(name)?;
            return Some(DeviceRef::Lvm(vg, lv));
        }
        if let Some(n) = partition_number(dev) {
            return Some(DeviceRef::Partition(n));
        }
        match dev.split('/').collect::<Vec<_>>().as_slice() {
            [vg, lv] if !vg.is_empty() && !lv.is_empty() => Some(DeviceRef::Lvm(String::from(*vg), String::from(*lv))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_comments_and_escapes() {
        let text = "# comment\n/dev/mapper/rl--sys-root / xfs defaults 0 0\nUUID=abc /my\\040data ext4 noatime 0 2\n\n/swap none swap sw\nLABEL=x /opt auto noauto\n";
        let e = parse(text);
        assert_eq!(e.len(), 4);
        assert_eq!(e[1].mount_point, "/my data");
        assert!(
            !e[0].mounts_a_volume() && e[1].mounts_a_volume() && !e[2].mounts_a_volume() && !e[3].mounts_a_volume()
        );
    }

    #[test]
    fn device_forms() {
        let lvm = |vg: &str, lv: &str| Some(DeviceRef::Lvm(vg.into(), lv.into()));
        assert_eq!(DeviceRef::parse("/dev/mapper/rl--sys-root"), lvm("rl-sys", "root"));
        assert_eq!(DeviceRef::parse("/dev/mapper/vg-lv--x"), lvm("vg", "lv-x"));
        assert_eq!(DeviceRef::parse("/dev/rl-sys/var"), lvm("rl-sys", "var"));
        assert_eq!(DeviceRef::parse("UUID=\"ab\""), Some(DeviceRef::Uuid("ab".into())));
        assert_eq!(DeviceRef::parse("/dev/disk/by-label/my\\x20disk"), Some(DeviceRef::Label("my disk".into())));
        assert_eq!(DeviceRef::parse("/dev/nvme0n1p3"), Some(DeviceRef::Partition(3)));
        assert_eq!(DeviceRef::parse("/dev/sda1"), Some(DeviceRef::Partition(1)));
        assert_eq!(DeviceRef::parse("tmpfs"), None);
        assert_eq!(DeviceRef::parse("/dev/mapper/novg"), None);
    }
}

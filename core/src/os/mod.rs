//! Which operating system a filesystem holds, and which kernels it has installed.
//!
//! Sources, first match wins: `/etc/os-release`, `/usr/lib/os-release`; then the release files
//! of distributions without one (`/etc/centos-release`, `rocky-release`, `almalinux-release`,
//! `oracle-release`, `fedora-release`, `system-release` (Amazon), `redhat-release`), then
//! `/etc/alpine-release`, `/etc/debian_version`, `/etc/lsb-release`. Files are read through the
//! filesystem with symlinks resolved inside the image. The distribution `ID` is normalised to
//! the report's `family` (`almalinux` → `alma`, `amzn` → `amazon`, `ol` → `oracle`, …).

pub mod release;

pub use release::{family_of, from_os_release, from_release_file, parse_os_release, ReleaseFile};

use crate::budget::Budget;
use crate::error::{ErrorKind, Result};
use crate::fs::{self, FileSystem, FileType, Walk};
use alloc::string::String;
use alloc::vec::Vec;

/// Release files are small; anything larger is not one.
const MAX_RELEASE_FILE: usize = 64 << 10;
/// Most kernel versions listed per root.
const MAX_KERNELS: usize = 64;

/// What was found about the operating system of one root filesystem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsInfo {
    /// Normalised family (`alpine`, `debian`, `ubuntu`, `rhel`, `centos`, `rocky`, `alma`,
    /// `oracle`, `amazon`, `fedora`, `suse`, `opensuse`, `photon`, …).
    pub family: String,
    /// The distribution's own `ID`.
    pub id: String,
    /// `NAME`.
    pub name: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// `VERSION`.
    pub version: Option<String>,
    /// `VERSION_ID` (or the version from a release file).
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (or `UBUNTU_CODENAME`, or the codename of a release file).
    pub codename: Option<String>,
    /// The file the information came from.
    pub source: &'static str,
}

/// Reads a release file at `path` if it exists; `Ok(None)` when it does not.
fn read_release(fs: &dyn FileSystem, path: &str, budget: &Budget) -> Result<Option<String>> {
    let node = match fs::resolve(fs, path.as_bytes(), true) {
        Ok(n) => n,
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::NotADirectory) => return Ok(None),
        Err(e) => return Err(e),
    };
    if fs.metadata(node)?.file_type != FileType::Regular {
        return Ok(None);
    }
    let bytes = fs::read_small_file(fs, node, MAX_RELEASE_FILE, budget)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Detects the operating system on `fs`. `Ok(None)` when no release file is found.
pub fn detect(fs: &dyn FileSystem, budget: &Budget) -> Result<Option<OsInfo>> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(text) = read_release(fs, path, budget)? {
            let mut info = release::from_os_release(&text, path);
            if info.id.is_empty() {
                continue;
            }
            if info.id == "debian" {
                // Debian testing/sid ship no VERSION_ID (debian_version says e.g. "trixie/sid");
                // a stable release names only its major in os-release and its point release
                // ("12.8") in debian_version, which trivy and virt-inspector report.
                if let Some(v) = read_release(fs, "/etc/debian_version", budget)? {
                    let point = v.trim();
                    let refines = match info.version_id.as_deref() {
                        None => true,
                        Some(major) => point.strip_prefix(major).is_some_and(|rest| rest.starts_with('.')),
                    };
                    if refines {
                        info.version_id = Some(String::from(point));
                    }
                }
            }
            return Ok(Some(info));
        }
    }
    for (path, kind) in [
        ("/etc/centos-release", ReleaseFile::RedHat),
        ("/etc/rocky-release", ReleaseFile::RedHat),
        ("/etc/almalinux-release", ReleaseFile::RedHat),
        ("/etc/oracle-release", ReleaseFile::RedHat),
        ("/etc/fedora-release", ReleaseFile::RedHat),
        ("/etc/system-release", ReleaseFile::RedHat),
        ("/etc/redhat-release", ReleaseFile::RedHat),
        ("/etc/alpine-release", ReleaseFile::Alpine),
        ("/etc/debian_version", ReleaseFile::Debian),
        ("/etc/lsb-release", ReleaseFile::Lsb),
    ] {
        if let Some(text) = read_release(fs, path, budget)? {
            if let Some(info) = release::from_release_file(kind, &text, path) {
                return Ok(Some(info));
            }
        }
    }
    Ok(None)
}

/// Kernel versions installed on `fs`: `/boot/vmlinuz-*` and the directories of `/lib/modules`,
/// sorted and without duplicates.
pub fn kernels(fs: &dyn FileSystem, budget: &Budget) -> Result<Vec<String>> {
    let _charge = budget.reserve(crate::error::Layer::Os, "kernels", 0, MAX_KERNELS * 128)?;
    let mut found: Vec<String> = Vec::new();
    for (dir, prefix) in [("/boot", &b"vmlinuz-"[..]), ("/lib/modules", &b""[..]), ("/usr/lib/modules", &b""[..])] {
        let node = match fs::resolve(fs, dir.as_bytes(), true) {
            Ok(n) => n,
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::NotADirectory) => continue,
            Err(e) => return Err(e),
        };
        if fs.metadata(node)?.file_type != FileType::Directory {
            continue;
        }
        fs.read_dir(node, &mut |e| {
            if let Some(version) = e.name.strip_prefix(prefix) {
                if !version.is_empty() && e.name != b"." && e.name != b".." && version.len() < 128 {
                    let v = String::from_utf8_lossy(version).into_owned();
                    if !found.contains(&v) {
                        found.push(v);
                    }
                }
            }
            Ok(if found.len() >= MAX_KERNELS { Walk::Stop } else { Walk::Continue })
        })?;
    }
    found.sort();
    Ok(found)
}

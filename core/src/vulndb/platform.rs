//! Platform names: the one spelling of "which distribution release an advisory is for" that
//! the DB builder writes and detection looks up (`alpine 3.18`, `redhat 9`, `suse 15.5`,
//! `opensuse-tumbleweed`). Both sides build them here, so a mismatch cannot silently mean "no
//! data".

use alloc::string::String;
use core::fmt;

/// A distribution the DB can hold advisories for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Distro {
    /// Alpine Linux (`alpine 3.18`: major.minor).
    Alpine,
    /// Amazon Linux (`amazon 2`, `amazon 2023`; `amazon 1` for the AMI releases).
    Amazon,
    /// Rocky Linux (`rocky 9`).
    Rocky,
    /// AlmaLinux (`alma 9`).
    Alma,
    /// Ubuntu (`ubuntu 22.04`).
    Ubuntu,
    /// Photon OS (`photon 5.0`).
    Photon,
    /// Oracle Linux (`oracle 8`).
    Oracle,
    /// Red Hat Enterprise Linux, and CentOS matched with its data (`redhat 9`).
    Redhat,
    /// SUSE Linux Enterprise (`suse 15.5`).
    Suse,
    /// SUSE Linux Enterprise Micro (`suse-micro 5.3`).
    SuseMicro,
    /// openSUSE Leap (`opensuse-leap 15.5`).
    OpensuseLeap,
    /// openSUSE Leap Micro (`opensuse-leap-micro 5.2`).
    OpensuseLeapMicro,
    /// openSUSE Tumbleweed (rolling: no release).
    OpensuseTumbleweed,
    /// Debian (`debian 12`).
    Debian,
}

impl Distro {
    /// Every distribution.
    pub const ALL: [Distro; 14] = [
        Distro::Alpine,
        Distro::Amazon,
        Distro::Rocky,
        Distro::Alma,
        Distro::Ubuntu,
        Distro::Photon,
        Distro::Oracle,
        Distro::Redhat,
        Distro::Suse,
        Distro::SuseMicro,
        Distro::OpensuseLeap,
        Distro::OpensuseLeapMicro,
        Distro::OpensuseTumbleweed,
        Distro::Debian,
    ];

    /// The name platform names start with.
    pub fn name(self) -> &'static str {
        match self {
            Distro::Alpine => "alpine",
            Distro::Amazon => "amazon",
            Distro::Rocky => "rocky",
            Distro::Alma => "alma",
            Distro::Ubuntu => "ubuntu",
            Distro::Photon => "photon",
            Distro::Oracle => "oracle",
            Distro::Redhat => "redhat",
            Distro::Suse => "suse",
            Distro::SuseMicro => "suse-micro",
            Distro::OpensuseLeap => "opensuse-leap",
            Distro::OpensuseLeapMicro => "opensuse-leap-micro",
            Distro::OpensuseTumbleweed => "opensuse-tumbleweed",
            Distro::Debian => "debian",
        }
    }

    /// Whether its platforms name a release (all but the rolling Tumbleweed).
    pub fn versioned(self) -> bool {
        self != Distro::OpensuseTumbleweed
    }
}

/// One platform: a distribution and, unless it is rolling, its release.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    /// The distribution.
    pub distro: Distro,
    /// The release as the platform names it (`3.18`, `9`, `15.5`); `None` for a rolling one.
    pub release: Option<String>,
}

impl Platform {
    /// The platform of `release` of `distro` (a rolling distribution ignores the release).
    pub fn new(distro: Distro, release: &str) -> Self {
        Platform { distro, release: distro.versioned().then(|| String::from(release)) }
    }

    /// Reads a platform name back (`alpine 3.18` → Alpine, `3.18`); `None` for a name no
    /// distribution here spells.
    pub fn parse(name: &str) -> Option<Self> {
        let (head, release) = match name.split_once(' ') {
            Some((head, release)) => (head, Some(release)),
            None => (name, None),
        };
        let distro = Distro::ALL.into_iter().find(|d| d.name() == head)?;
        match (distro.versioned(), release) {
            (true, Some(r)) if !r.is_empty() && !r.contains(' ') => Some(Platform::new(distro, r)),
            (false, None) => Some(Platform { distro, release: None }),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.release {
            Some(release) => write!(f, "{} {release}", self.distro.name()),
            None => f.write_str(self.distro.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip() {
        for name in ["alpine 3.18", "redhat 9", "suse-micro 5.3", "opensuse-leap 15.5", "opensuse-tumbleweed"] {
            assert_eq!(Platform::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(Platform::new(Distro::OpensuseTumbleweed, "20240101").to_string(), "opensuse-tumbleweed");
        for bad in ["fedora 39", "alpine", "alpine ", "opensuse-tumbleweed 1", "suse 15 5"] {
            assert_eq!(Platform::parse(bad), None, "{bad}");
        }
    }
}

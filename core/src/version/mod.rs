//! Version comparison, each exactly as its distribution's own tool does it:
//! [`rpm`] (`rpmvercmp` and epoch:version-release), [`dpkg`] (Debian policy §5.6.12) and
//! [`apk`] (apk-tools' tokenizer). Comparators never fail: malformed versions still order
//! the way the upstream tool orders them.

pub mod apk;
pub mod dpkg;
pub mod rpm;

//! dpkg's `/var/lib/dpkg/status` (and distroless `status.d/*` files): RFC 822-style stanzas
//! separated by blank lines. A package counts when its `Status:` says it is installed
//! (want `install` or `hold`, no error flag, state `installed`); `status.d` files carry no
//! `Status:` and are all installed.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::lines::{colon_field, for_each_line};
use super::{Inventory, Package, PackageDb};
use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;
use alloc::string::String;

const FORMAT: &str = "dpkg-status";

#[derive(Default)]
struct Stanza {
    offset: u64,
    fields: usize,
    package: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    status: Option<String>,
    source: Option<String>,
    maintainer: Option<String>,
}

/// Whether a `Status:` value means the package is installed.
pub fn is_installed(status: &str) -> bool {
    let words: alloc::vec::Vec<&str> = status.split_whitespace().collect();
    matches!(words.as_slice(), [want, "ok", "installed"] if *want == "install" || *want == "hold")
}

impl Stanza {
    fn finish(self, inv: &mut Inventory) -> Result<()> {
        if self.fields == 0 {
            return Ok(());
        }
        if self.status.as_deref().is_some_and(|s| !is_installed(s)) {
            return Ok(());
        }
        let (Some(name), Some(full)) = (self.package, self.version) else {
            inv.errors.push(Error::new(
                Layer::Pkg,
                FORMAT,
                self.offset,
                ErrorKind::Corrupt("stanza without Package or Version"),
            ));
            return Ok(());
        };
        if crate::version::dpkg::Version::parse(&full).is_err() {
            inv.errors.push(Error::new(Layer::Pkg, FORMAT, self.offset, ErrorKind::Corrupt("invalid Debian version")));
            return Ok(());
        }
        let (epoch, version) = match full.split_once(':') {
            Some((e, v)) if e.bytes().all(|c| c.is_ascii_digit()) && !e.is_empty() => (e.parse().ok(), String::from(v)),
            _ => (None, full.clone()),
        };
        // "Source: name" or "Source: name (version)".
        let (source_name, source_version) = match self.source.as_deref().map(str::trim) {
            Some(src) => match src.split_once('(') {
                Some((n, v)) => (String::from(n.trim()), String::from(v.trim_end_matches(')').trim())),
                None => (String::from(src), full.clone()),
            },
            None => (name.clone(), full.clone()),
        };
        let p = Package {
            name,
            epoch,
            version,
            arch: self.arch,
            source_name: Some(source_name),
            source_version: Some(source_version),
            maintainer: self.maintainer,
            db: Some(PackageDb::Dpkg),
            ..Package::default()
        };
        inv.packages.push(p, self.offset)
    }
}

pub(super) fn read(file: &dyn ReadAt, budget: &Budget, inv: &mut Inventory) -> Result<()> {
    let mut stanza = Stanza::default();
    let mut any_field = false;
    for_each_line(file, budget, FORMAT, |line, offset| {
        if line.iter().all(u8::is_ascii_whitespace) {
            core::mem::take(&mut stanza).finish(inv)?;
            return Ok(Walk::Continue);
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Ok(Walk::Continue); // continuation of a multi-line field
        }
        let Some((key, value)) = colon_field(line) else {
            inv.errors.push(Error::new(Layer::Pkg, FORMAT, offset, ErrorKind::Corrupt("line is not a field")));
            return Ok(Walk::Continue);
        };
        if stanza.fields == 0 {
            stanza.offset = offset;
        }
        stanza.fields = stanza.fields.saturating_add(1);
        any_field = true;
        let slot = match key.to_ascii_lowercase().as_slice() {
            b"package" => &mut stanza.package,
            b"version" => &mut stanza.version,
            b"architecture" => &mut stanza.arch,
            b"status" => &mut stanza.status,
            b"source" => &mut stanza.source,
            b"maintainer" => &mut stanza.maintainer,
            _ => return Ok(Walk::Continue),
        };
        // Only the fields kept are copied (a long Description is never allocated).
        *slot = Some(String::from_utf8_lossy(value).trim().into());
        Ok(Walk::Continue)
    })?;
    stanza.finish(inv)?;
    if !any_field && file.size() > 0 {
        return Err(Error::new(Layer::Pkg, FORMAT, 0, ErrorKind::Corrupt("not a dpkg status file")));
    }
    Ok(())
}

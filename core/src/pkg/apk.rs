//! Alpine's `/lib/apk/db/installed`: one `X:value` line per field, packages separated by blank
//! lines. Fields used: `P` name, `V` version, `A` arch, `o` origin (the source package),
//! `L` licence, `m` maintainer, `c` commit, `I` installed size.

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use super::lines::{for_each_line, letter_field};
use super::{Inventory, Package, PackageDb};
use crate::budget::Budget;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;
use alloc::string::String;

const FORMAT: &str = "apk-installed";

#[derive(Default)]
struct Record {
    offset: u64,
    fields: usize,
    package: Package,
}

impl Record {
    fn finish(self, inv: &mut Inventory) -> Result<()> {
        if self.fields == 0 {
            return Ok(());
        }
        let mut p = self.package;
        if p.name.is_empty() || p.version.is_empty() {
            inv.errors.push(Error::new(
                Layer::Pkg,
                FORMAT,
                self.offset,
                ErrorKind::Corrupt("package without P: or V:"),
            ));
            return Ok(());
        }
        p.source_version = Some(p.version.clone());
        p.db = Some(PackageDb::Apk);
        inv.packages.push(p, self.offset)
    }
}

pub(super) fn read(file: &dyn ReadAt, budget: &Budget, inv: &mut Inventory) -> Result<()> {
    let mut rec = Record::default();
    let mut any_field = false;
    for_each_line(file, budget, FORMAT, |line, offset| {
        if line.is_empty() {
            core::mem::take(&mut rec).finish(inv)?;
            return Ok(Walk::Continue);
        }
        let Some((key, raw)) = letter_field(line) else {
            inv.errors.push(Error::new(Layer::Pkg, FORMAT, offset, ErrorKind::Corrupt("line is not an X:value field")));
            return Ok(Walk::Continue);
        };
        if rec.fields == 0 {
            rec.offset = offset;
        }
        rec.fields = rec.fields.saturating_add(1);
        any_field = true;
        let value = || String::from_utf8_lossy(raw).into_owned();
        let p = &mut rec.package;
        match key {
            b'P' => p.name = value(),
            b'V' => p.version = value(),
            b'A' => p.arch = Some(value()),
            b'o' => p.source_name = Some(value()).filter(|o| !o.is_empty()),
            b'L' => p.license = Some(value()),
            b'm' => p.maintainer = Some(value()),
            b'c' => p.commit = Some(value()),
            b'I' => p.size = value().parse().ok(),
            _ => {}
        }
        Ok(Walk::Continue)
    })?;
    rec.finish(inv)?;
    if !any_field && file.size() > 0 {
        return Err(Error::new(Layer::Pkg, FORMAT, 0, ErrorKind::Corrupt("not an apk installed database")));
    }
    Ok(())
}

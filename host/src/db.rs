//! The vulnerability database: the one compiled into the binaries, or a `--db` file.

use crate::HostError;
use std::borrow::Cow;
use std::path::Path;

/// The database compiled into the binary (see build.rs and assets/README.md).
pub static BUNDLED_DB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/coldscan.db"));

/// The database: the bytes of the file at `path`, or the bundled one.
pub fn load_db(path: Option<&Path>) -> Result<Cow<'static, [u8]>, HostError> {
    match path {
        Some(p) => std::fs::read(p).map(Cow::Owned).map_err(|e| HostError::Io(p.display().to_string(), e)),
        None => Ok(Cow::Borrowed(BUNDLED_DB)),
    }
}

//! coldscan's std host layer, shared by every front end (the CLI, the desktop app, and the
//! Python and C bindings to come): image sources (files, block devices, pipes spooled within
//! the scan's read limit), the opener for the files an image names (regular files in its own
//! directory, nothing else), host directories as filesystems, the vulnerability DB, and the
//! report writers (JSON, SARIF, CycloneDX, CSV, tables).
//!
//! A front end calls one function per command — [`scan::scan`], [`inspect::inspect`],
//! [`packages::packages`], [`inspect::with_root`] for `ls`/`cat` — and only presents what it
//! gets. The scan itself is the core's ([`coldscan_core::scan::scan_image`]).

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod codec;
pub mod cyclonedx;
pub mod db;
pub mod error;
pub mod hostfs;
pub mod inspect;
pub mod open;
pub mod output;
pub mod packages;
pub mod sarif;
pub mod scan;
pub mod source;
pub mod table;

pub use error::HostError;
pub use open::{ImageArgs, OpenImage};

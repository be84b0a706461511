//! coldscan's desktop app: scan virtual-machine disk images with file pickers, on Windows,
//! macOS and Linux. It presents what the one scan pipeline returns
//! ([`coldscan_host::scan::scan`] over [`coldscan_core::scan::scan_image`]) and exports with the
//! host crate's writers; it does no parsing or matching of its own, and does not link the CLI.
//!
//! - [`picker`]: the file dialogs, behind a trait so tests need no display;
//! - [`worker`]: scans on worker threads, with progress and cancel;
//! - [`app`]: the window — the queue of images, their results, the DB, the settings.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod app;
pub mod picker;
pub mod views;
pub mod worker;

pub use app::App;

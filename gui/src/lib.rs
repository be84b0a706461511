//! coldscan's desktop app: scan virtual-machine disk images with file pickers, on Windows,
//! macOS and Linux. It presents what the scan API of `coldscan-core`
//! ([`coldscan_core::scan::generate`], run through the CLI crate's image opener and writers)
//! returns, and does no parsing or matching of its own.
//!
//! - [`picker`]: the file dialogs, behind a trait so tests need no display;
//! - [`worker`]: scans on worker threads, with progress and cancel;
//! - [`app`]: the window — the queue of images, their results, the DB, the settings.

pub mod app;
pub mod picker;
pub mod views;
pub mod worker;

pub use app::App;

//! One module per subcommand. Each takes validated options and a writer, returns a
//! [`coldscan_host::HostError`]; exit codes are decided once, in `main`.

pub mod cat;
pub mod db;
pub mod inspect;
pub mod ls;
pub mod packages;
pub mod scan;

use std::sync::atomic::AtomicBool;

/// Set by the Ctrl-C (SIGINT/SIGTERM) handler: spooling and scans stop (the progress sink
/// reports it as cancelled), and temporary files are removed as they are dropped.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Output formats of `inspect` and `ls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// JSON for scripts (see DESIGN.md for the contract).
    Json,
}

/// Output formats of `packages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PackagesFormat {
    /// Aligned text for people.
    Table,
    /// JSON for scripts.
    Json,
    /// CycloneDX 1.5 JSON SBOM.
    Cyclonedx,
}

//! One module per subcommand. Each takes validated options and a writer, returns a
//! [`CommandError`]; exit codes are decided once, in `main`.

pub mod cat;
pub mod inspect;
pub mod ls;
pub mod packages;

use crate::source::FileSource;
use coldscan_core::Budget;
use std::fmt;
use std::path::Path;

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

/// Why a command failed.
#[derive(Debug)]
pub enum CommandError {
    /// The source could not be opened or read by the operating system.
    Io(String, std::io::Error),
    /// The image could not be read (container, table, filesystem or path).
    Scan(coldscan_core::Error),
    /// Writing the output failed (other than a closed pipe).
    Output(std::io::Error),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Io(path, e) => write!(f, "{path}: {e}"),
            CommandError::Scan(e) => write!(f, "{e}"),
            CommandError::Output(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl From<coldscan_core::Error> for CommandError {
    fn from(e: coldscan_core::Error) -> Self {
        CommandError::Scan(e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::Output(e)
    }
}

/// Options every command that reads an image shares.
#[derive(Debug, Clone)]
pub struct ImageArgs {
    /// Image path.
    pub image: std::path::PathBuf,
    /// Memory budget in bytes for the core.
    pub mem_limit: usize,
}

impl ImageArgs {
    /// Opens the image file read-only and a budget for it.
    pub fn open(&self) -> Result<(FileSource, Budget), CommandError> {
        let source = FileSource::open(&self.image).map_err(|e| CommandError::Io(display(&self.image), e))?;
        Ok((source, Budget::new(self.mem_limit)))
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

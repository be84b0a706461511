//! Why a host operation failed, in the terms a front end maps to its exit statuses.

use std::fmt;

/// Why a command failed.
#[derive(Debug)]
pub enum HostError {
    /// The source could not be opened or read by the operating system.
    Io(String, std::io::Error),
    /// The image could not be read (container, table, filesystem or path).
    Scan(coldscan_core::Error),
    /// Writing the output failed (other than a closed pipe).
    Output(std::io::Error),
    /// The request names something that does not exist (a volume id).
    Usage(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Io(path, e) => write!(f, "{path}: {e}"),
            HostError::Scan(e) => write!(f, "{e}"),
            HostError::Output(e) => write!(f, "writing output: {e}"),
            HostError::Usage(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for HostError {}

impl From<coldscan_core::Error> for HostError {
    fn from(e: coldscan_core::Error) -> Self {
        HostError::Scan(e)
    }
}

impl From<std::io::Error> for HostError {
    fn from(e: std::io::Error) -> Self {
        HostError::Output(e)
    }
}

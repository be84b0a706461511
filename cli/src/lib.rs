//! The `coldscan` command-line front end: byte sources, command implementations and output.
//! `main.rs` only parses arguments and maps results to exit codes.

pub mod commands;
pub mod cyclonedx;
pub mod hostfs;
pub mod sarif;
pub mod source;
pub mod table;

//! The `coldscan` command-line front end: argument-level choices (formats, the terminal's
//! progress display) and the command implementations, each one call into the host crate.
//! `main.rs` only parses arguments and maps results to exit codes.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod commands;

//! coldscan-core: the `no_std` heart of coldscan.
//!
//! coldscan finds known vulnerabilities in virtual-machine disk images without booting them.
//! This crate does all the parsing, layer by layer, each layer reading the one below through
//! the random-access trait [`io::ReadAt`]:
//!
//! ```text
//! source (handed in by a front end)
//!   └─ image    container format → guest disk            [image]
//!       └─ volume  MBR (+ EBR chain) · GPT · LVM2 · disk  [volume]
//!           └─ fs   ext2/3/4 · XFS · btrfs                [fs]
//!               └─ os   os-release & friends, kernels     [os]
//! ```
//!
//! Invariants every module keeps:
//! - **No I/O of its own.** Front ends hand in a [`io::ReadAt`]; core never opens files.
//! - **A strict memory budget.** Every allocation whose size comes from the image is charged to
//!   a [`budget::Budget`] before it is made; going over gives
//!   [`error::ErrorKind::MemoryLimit`], never an abort. Nothing reads a whole image or file.
//! - **Hostile input is expected.** Every length, offset and count read from disk is checked,
//!   every on-disk walk is bounded, and every error names its layer, format and offset.
//!   No input may panic: bytes from disk are read through [`bytes::Bytes`] or nom parsers,
//!   and indexing that could panic is refused by the compiler (`clippy::indexing_slicing`).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

extern crate alloc;

pub mod budget;
pub mod bytes;
pub mod cache;
pub mod codec;
mod crc32;
pub mod detect;
pub mod error;
pub mod fault;
pub mod fs;
pub mod image;
pub mod inspect;
pub mod io;
pub mod os;
pub mod pkg;
pub mod progress;
pub mod report;
pub mod scan;
pub mod version;
pub mod vex;
pub mod volume;
pub mod vulndb;

pub use budget::Budget;
pub use error::{Error, ErrorKind, ErrorLog, Layer, Result};
pub use io::ReadAt;

//! The one error type of the core: small, `Copy`, and always naming where it happened.

use core::fmt;

/// Result alias used throughout the core.
pub type Result<T> = core::result::Result<T, Error>;

/// The layer of the stack an error comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The byte source handed in by the front end (file, device, spool).
    Source,
    /// The image container (raw, VMDK, qcow2, …).
    Image,
    /// The partition table or volume manager.
    Volume,
    /// A filesystem.
    Fs,
    /// OS detection.
    Os,
}

impl Layer {
    /// Short lower-case name used in messages and in the JSON report's `errors[].layer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Source => "source",
            Layer::Image => "image",
            Layer::Volume => "volume",
            Layer::Fs => "fs",
            Layer::Os => "os",
        }
    }
}

/// What went wrong. Variants carry the offending values, never borrowed data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A read went past the end of its source.
    UnexpectedEof {
        /// Bytes asked for.
        wanted: u64,
        /// Size of the source.
        size: u64,
    },
    /// The front end's source failed to read (an OS error, with its raw code when known).
    Io {
        /// The operating system's error code, or 0.
        code: i32,
    },
    /// A magic number or signature did not match.
    BadMagic,
    /// A checksum did not match.
    BadChecksum {
        /// The checksum stored on disk.
        stored: u32,
        /// The checksum computed over the data.
        computed: u32,
    },
    /// A field holds a value that cannot be right; the text names the field.
    Corrupt(&'static str),
    /// A structure uses a feature coldscan cannot read; the text names it.
    Unsupported(&'static str),
    /// Unknown incompatible feature flags (ext4 `s_feature_incompat` and the like).
    UnsupportedFeatures {
        /// The flags that are not understood.
        flags: u64,
    },
    /// An allocation would exceed the caller's memory budget.
    MemoryLimit {
        /// Bytes the allocation wanted.
        wanted: u64,
        /// The budget's limit in bytes.
        limit: u64,
    },
    /// An on-disk walk exceeded its hop or depth limit (a loop, or absurd nesting).
    LoopLimit(&'static str),
    /// A path component does not exist.
    NotFound,
    /// A path component that must be a directory is not one.
    NotADirectory,
    /// The path names something that is not a regular file.
    NotAFile,
    /// Too many symbolic links while resolving a path (a loop, or absurd nesting).
    SymlinkLoop,
    /// A name, path or value is longer than its limit.
    TooLong,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::UnexpectedEof { wanted, size } => {
                write!(f, "read of {wanted} bytes runs past the end (size {size})")
            }
            ErrorKind::Io { code } => write!(f, "read failed (os error {code})"),
            ErrorKind::BadMagic => f.write_str("bad magic number"),
            ErrorKind::BadChecksum { stored, computed } => {
                write!(f, "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")
            }
            ErrorKind::Corrupt(what) => write!(f, "corrupt: {what}"),
            ErrorKind::Unsupported(what) => write!(f, "unsupported: {what}"),
            ErrorKind::UnsupportedFeatures { flags } => {
                write!(f, "unsupported incompatible features {flags:#x}")
            }
            ErrorKind::MemoryLimit { wanted, limit } => {
                write!(f, "memory budget exceeded: wanted {wanted} bytes more, limit {limit}")
            }
            ErrorKind::LoopLimit(what) => write!(f, "loop or excessive nesting in {what}"),
            ErrorKind::NotFound => f.write_str("no such file or directory"),
            ErrorKind::NotADirectory => f.write_str("not a directory"),
            ErrorKind::NotAFile => f.write_str("not a regular file"),
            ErrorKind::SymlinkLoop => f.write_str("too many levels of symbolic links"),
            ErrorKind::TooLong => f.write_str("name or value too long"),
        }
    }
}

/// An error: which layer and format, at which byte offset (within that layer's input), and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// Layer of the stack.
    pub layer: Layer,
    /// Format within the layer, e.g. `"gpt"`, `"ext4"`, `"os-release"`.
    pub format: &'static str,
    /// Byte offset within the layer's input where the problem was found.
    pub offset: u64,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// Builds an error.
    pub const fn new(layer: Layer, format: &'static str, offset: u64, kind: ErrorKind) -> Self {
        Error { layer, format, offset, kind }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) at offset {:#x}: {}", self.layer.as_str(), self.format, self.offset, self.kind)
    }
}

impl core::error::Error for Error {}

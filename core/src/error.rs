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
    /// A package database.
    Pkg,
    /// The vulnerability database.
    Db,
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
            Layer::Pkg => "pkg",
            Layer::Db => "db",
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
    /// Something the structure needs is not in the image; the text names it.
    Missing(&'static str),
    /// The scan was cancelled (by the user, or a time limit) before this read.
    Cancelled,
    /// The scan's read limit was used up before this read (an image that makes the scan
    /// re-read its bytes without end).
    ReadLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// More errors of one source than an [`ErrorLog`] keeps; this many were not listed.
    MoreErrors {
        /// How many errors were counted but not kept.
        count: u64,
    },
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
            ErrorKind::Missing(what) => write!(f, "missing: {what}"),
            ErrorKind::Cancelled => f.write_str("scan cancelled before this read"),
            ErrorKind::ReadLimit { limit } => {
                write!(f, "the scan's read limit of {limit} bytes was used up before this read")
            }
            ErrorKind::MoreErrors { count } => write!(f, "{count} more errors like the ones above, not listed"),
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
    /// The file (inside a filesystem) whose bytes the offset counts in, when the layer reads
    /// one: a package database's path.
    pub file: Option<&'static str>,
}

impl Error {
    /// Builds an error.
    pub const fn new(layer: Layer, format: &'static str, offset: u64, kind: ErrorKind) -> Self {
        Error { layer, format, offset, kind, file: None }
    }

    /// The error, said to be in `file` (unless it already names one).
    pub fn in_file(self, file: &'static str) -> Self {
        Error { file: self.file.or(Some(file)), ..self }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Offset 0 of a structure is a place worth naming; for a path or a limit it means nothing.
        let about_bytes = matches!(
            self.kind,
            ErrorKind::UnexpectedEof { .. }
                | ErrorKind::BadMagic
                | ErrorKind::BadChecksum { .. }
                | ErrorKind::Corrupt(_)
        );
        write!(f, "{} ({})", self.layer.as_str(), self.format)?;
        if let Some(file) = self.file {
            write!(f, " in {file}")?;
        }
        if self.offset != 0 || about_bytes {
            write!(f, " at offset {:#x}", self.offset)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl core::error::Error for Error {}

/// How many errors one [`ErrorLog`] keeps (the first ones met); the rest are only counted.
pub const ERROR_LOG_CAPACITY: usize = 16;

/// The errors of one source (a package database, a volume table): the first
/// [`ERROR_LOG_CAPACITY`] kept in fixed storage, the rest counted, so a file of a million bad
/// records costs no more memory than one with sixteen.
#[derive(Debug, Clone, Default)]
pub struct ErrorLog {
    kept: heapless::Vec<Error, ERROR_LOG_CAPACITY>,
    dropped: u64,
    last: Option<Error>,
}

impl ErrorLog {
    /// An empty log.
    pub const fn new() -> Self {
        ErrorLog { kept: heapless::Vec::new(), dropped: 0, last: None }
    }

    /// Records `e`: kept while there is room, else counted.
    pub fn push(&mut self, e: Error) {
        if self.kept.push(e).is_err() {
            self.dropped = self.dropped.saturating_add(1);
            self.last = Some(e);
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Number of errors recorded, kept or counted.
    pub fn total(&self) -> u64 {
        (self.kept.len() as u64).saturating_add(self.dropped)
    }

    /// Says every error recorded so far is in `file` (see [`Error::in_file`]).
    pub fn in_file(&mut self, file: &'static str) {
        for e in self.kept.iter_mut().chain(self.last.as_mut()) {
            *e = e.in_file(file);
        }
    }

    /// The kept errors, then (when some were only counted) one [`ErrorKind::MoreErrors`] entry
    /// placed where the last of them was.
    pub fn iter(&self) -> impl Iterator<Item = Error> + '_ {
        let more = self.last.map(|e| Error { kind: ErrorKind::MoreErrors { count: self.dropped }, ..e });
        self.kept.iter().copied().chain(more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_log_keeps_the_first_and_counts_the_rest() {
        let mut log = ErrorLog::new();
        for i in 0..1_000_000u64 {
            log.push(Error::new(Layer::Pkg, "dpkg-status", i, ErrorKind::Corrupt("line")));
        }
        assert_eq!(log.total(), 1_000_000);
        let all: alloc::vec::Vec<Error> = log.iter().collect();
        assert_eq!(all.len(), ERROR_LOG_CAPACITY + 1);
        assert_eq!(all[0].offset, 0);
        let last = all[ERROR_LOG_CAPACITY];
        assert_eq!(last.kind, ErrorKind::MoreErrors { count: 1_000_000 - ERROR_LOG_CAPACITY as u64 });
        assert_eq!(last.offset, 999_999);
        log.in_file("/var/lib/dpkg/status");
        assert!(log.iter().all(|e| e.file == Some("/var/lib/dpkg/status")));
    }

    #[test]
    fn messages_name_layer_format_file_and_offset() {
        use alloc::string::ToString;
        let e = Error::new(Layer::Pkg, "bdb", 0x2000, ErrorKind::Corrupt("hash item offset"));
        assert_eq!(e.to_string(), "pkg (bdb) at offset 0x2000: corrupt: hash item offset");
        let e = e.in_file("/var/lib/rpm/Packages").in_file("/elsewhere");
        assert_eq!(e.to_string(), "pkg (bdb) in /var/lib/rpm/Packages at offset 0x2000: corrupt: hash item offset");
        let e = Error::new(Layer::Pkg, "dpkg-status", 0, ErrorKind::TooLong).in_file("/var/lib/dpkg/status");
        assert_eq!(e.to_string(), "pkg (dpkg-status) in /var/lib/dpkg/status: name or value too long");
    }
}

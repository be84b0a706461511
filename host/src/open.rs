//! Opening an image for a scan: the file (or block device) read in place; a pipe or a gzip'd
//! file inflated into a spool file first, since the core reads at random offsets. Spooling is
//! bounded like the scan: it stops once the read limit is reached or the progress sink is
//! cancelled (Ctrl-C, a time limit, the app's Cancel), and the spool file is removed.

use crate::source::{BesideOpener, FileSource};
use crate::HostError;
use coldscan_core::progress::ProgressSink;
use coldscan_core::{Budget, Error, ErrorKind, Layer, ReadAt};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What every command that reads an image is given.
#[derive(Debug, Clone)]
pub struct ImageArgs {
    /// Image path, a directory, or `-` for standard input.
    pub image: PathBuf,
    /// Memory budget in bytes for the whole scan: parsing, matching and decoded advisories.
    pub mem_limit: usize,
    /// Most bytes a scan reads from the image and the files it names, and most bytes it
    /// spools from a pipe or a gzip stream
    /// ([`coldscan_core::progress::DEFAULT_READ_LIMIT`] unless the user says otherwise).
    pub read_limit: u64,
}

/// An opened image: its file, the opener for files beside it, and the scan's one budget.
#[derive(Debug)]
pub struct OpenImage {
    /// The image file (or the spool file of a pipe).
    pub source: FileSource,
    /// Opens files the image names, beside it.
    pub opener: BesideOpener,
    /// The scan's memory budget.
    pub budget: Budget,
    /// For `-` and gzip'd files: the bytes spooled (the temporary file is deleted on drop).
    pub spooled: Option<(u64, tempfile::TempPath)>,
}

impl OpenImage {
    /// Bytes read from the image and every file it named.
    pub fn bytes_read(&self) -> u64 {
        self.source.bytes_read()
    }
}

impl ImageArgs {
    /// Whether the image is standard input.
    pub fn is_stdin(&self) -> bool {
        self.image.as_os_str() == "-"
    }

    /// Opens the image read-only (spooling standard input or a gzip'd file to a temporary
    /// file), with an opener and a budget. Spooling reports the bytes written to `sink` and
    /// stops with [`ErrorKind::ReadLimit`] or [`ErrorKind::Cancelled`] (as
    /// [`HostError::Scan`]) when the limit is reached or `sink` is cancelled.
    pub fn open(&self, sink: &dyn ProgressSink) -> Result<OpenImage, HostError> {
        let budget = Budget::new(self.mem_limit);
        if self.is_stdin() {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                eprintln!("coldscan: reading the image from standard input (a terminal): pipe one in, or press Ctrl-D");
            }
            let spooled = self.spool_maybe_gzip(std::io::stdin().lock(), sink)?;
            return from_spool(spooled, None, budget);
        }
        let source = FileSource::open(&self.image).map_err(|e| HostError::Io(display(&self.image), e))?;
        if is_gzip(&source) {
            // A gzip'd archive (a Vagrant box) cannot be read at random offsets: inflate it
            // into a spool file first.
            let file = std::fs::File::open(&self.image).map_err(|e| HostError::Io(display(&self.image), e))?;
            let inflated = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
            let spooled = spool(inflated, self.read_limit, sink, &display(&self.image))?;
            return from_spool(spooled, Some(&self.image), budget);
        }
        let opener = BesideOpener::new(Some(&self.image), source.counter());
        Ok(OpenImage { source, opener, budget, spooled: None })
    }

    /// Spools a pipe, inflating it on the way when it is a gzip stream.
    fn spool_maybe_gzip(
        &self,
        input: impl Read,
        sink: &dyn ProgressSink,
    ) -> Result<(u64, tempfile::TempPath), HostError> {
        const WHAT: &str = "standard input";
        let mut input = std::io::BufReader::new(input);
        let head = std::io::BufRead::fill_buf(&mut input).map_err(|e| HostError::Io(String::from(WHAT), e))?;
        if head.starts_with(&[0x1F, 0x8B]) {
            spool(flate2::bufread::GzDecoder::new(input), self.read_limit, sink, WHAT)
        } else {
            spool(input, self.read_limit, sink, WHAT)
        }
    }
}

/// An image read from its spool file, the files it names looked up beside `beside` (the
/// original file; none for a pipe). The spool file is deleted when the image is dropped.
fn from_spool(
    (size, path): (u64, tempfile::TempPath),
    beside: Option<&Path>,
    budget: Budget,
) -> Result<OpenImage, HostError> {
    let source = FileSource::open(&path).map_err(|e| HostError::Io(display(&path), e))?;
    let opener = BesideOpener::new(beside, source.counter());
    Ok(OpenImage { source, opener, budget, spooled: Some((size, path)) })
}

fn is_gzip(source: &FileSource) -> bool {
    let mut magic = [0u8; 2];
    source.size() >= 2 && source.read_at(0, &mut magic).is_ok() && magic == [0x1F, 0x8B]
}

/// Copies a stream into a temporary file, skipping all-zero blocks so that the spool of a raw
/// disk stays sparse where the filesystem allows it. Stops (and the file is removed) once
/// `limit` bytes have come or `sink` is cancelled: [`HostError::Scan`] with the core's
/// [`ErrorKind::ReadLimit`] or [`ErrorKind::Cancelled`] at the bytes spooled so far. Failing
/// I/O is [`HostError::Io`] naming `what` is spooled.
fn spool(
    mut input: impl Read,
    limit: u64,
    sink: &dyn ProgressSink,
    what: &str,
) -> Result<(u64, tempfile::TempPath), HostError> {
    use std::io::{Seek, SeekFrom, Write};
    const BLOCK: usize = 1 << 20;
    let io = |e: std::io::Error| HostError::Io(String::from(what), e);
    let stopped = |at: u64, kind: ErrorKind| HostError::Scan(Error::new(Layer::Source, "spool", at, kind));
    let mut file = tempfile::NamedTempFile::new().map_err(io)?;
    let mut buf = vec![0u8; BLOCK];
    let mut size = 0u64;
    loop {
        if sink.cancelled() {
            return Err(stopped(size, ErrorKind::Cancelled));
        }
        // Never more than the limit on disk: ask for no more than what is left of it, plus
        // one byte to tell a stream that ends exactly at the limit from a longer one.
        let left = limit.saturating_sub(size).saturating_add(1);
        let want = usize::try_from(left).unwrap_or(BLOCK).min(BLOCK);
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let n = match input.read(chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        let data = chunk.get(..n).unwrap_or_default();
        let end = size.saturating_add(n as u64);
        if end > limit {
            return Err(stopped(size, ErrorKind::ReadLimit { limit }));
        }
        if data.iter().all(|&b| b == 0) {
            file.as_file_mut().seek(SeekFrom::Current(n as i64)).map_err(io)?;
        } else {
            file.as_file_mut().write_all(data).map_err(io)?;
        }
        size = end;
        sink.bytes_read(size);
    }
    file.as_file_mut().set_len(size).map_err(io)?;
    Ok((size, file.into_temp_path()))
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldscan_core::progress::NoProgress;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn spooling_stops_at_the_limit_and_keeps_what_fits() {
        let data = vec![7u8; 3000];
        let (size, path) = spool(&data[..], 3000, &NoProgress, "test").unwrap();
        assert_eq!((size, std::fs::read(&path).unwrap()), (3000, data.clone()));
        match spool(&data[..], 2999, &NoProgress, "test") {
            Err(HostError::Scan(e)) => assert_eq!(e.kind, ErrorKind::ReadLimit { limit: 2999 }),
            other => panic!("{other:?}"),
        }
        // An endless stream of zeros (a gzip bomb inflates to one) ends at the limit too.
        match spool(std::io::repeat(0).take(u64::MAX), 5 << 20, &NoProgress, "test") {
            Err(HostError::Scan(e)) => assert_eq!((e.layer, e.offset), (Layer::Source, 5 << 20)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spooling_stops_when_cancelled() {
        struct CancelAfter(AtomicBool);
        impl ProgressSink for CancelAfter {
            fn bytes_read(&self, total: u64) {
                if total >= 2 << 20 {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            fn cancelled(&self) -> bool {
                self.0.load(Ordering::Relaxed)
            }
        }
        let sink = CancelAfter(AtomicBool::new(false));
        match spool(std::io::repeat(1).take(u64::MAX), u64::MAX, &sink, "test") {
            Err(HostError::Scan(e)) => assert_eq!((e.kind, e.offset), (ErrorKind::Cancelled, 2 << 20)),
            other => panic!("{other:?}"),
        }
    }
}

//! One module per subcommand. Each takes validated options and a writer, returns a
//! [`CommandError`]; exit codes are decided once, in `main`.

pub mod cat;
pub mod db;
pub mod inspect;
pub mod ls;
pub mod packages;
pub mod scan;

use crate::source::{BesideOpener, FileSource};
use coldscan_core::inspect::{Disk, OpenFs};
use coldscan_core::Budget;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the Ctrl-C (SIGINT/SIGTERM) handler: spooling and scans stop, and temporary files
/// are removed as they are dropped.
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

/// Why a command failed.
#[derive(Debug)]
pub enum CommandError {
    /// The source could not be opened or read by the operating system.
    Io(String, std::io::Error),
    /// The image could not be read (container, table, filesystem or path).
    Scan(coldscan_core::Error),
    /// Writing the output failed (other than a closed pipe).
    Output(std::io::Error),
    /// The command line names something that does not exist (a volume id).
    Usage(String),
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Io(path, e) => write!(f, "{path}: {e}"),
            CommandError::Scan(e) => write!(f, "{e}"),
            CommandError::Output(e) => write!(f, "writing output: {e}"),
            CommandError::Usage(text) => f.write_str(text),
            CommandError::Interrupted => f.write_str("interrupted"),
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
    /// Most bytes a scan reads from the image and the files it names
    /// ([`coldscan_core::progress::DEFAULT_READ_LIMIT`] unless the user says otherwise).
    pub read_limit: u64,
}

/// An opened image: its file, the opener for files beside it, and the budget.
#[derive(Debug)]
pub struct OpenImage {
    /// The image file (or the spool file of a pipe).
    pub source: FileSource,
    /// Opens files the image names, beside it.
    pub opener: BesideOpener,
    /// The core's memory budget.
    pub budget: Budget,
    /// For `-`: the bytes spooled from standard input (the temporary file is deleted on drop).
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

    /// Opens the image read-only (spooling standard input to a temporary file for `-`, since
    /// the core reads at random offsets), with an opener and a budget.
    pub fn open(&self) -> Result<OpenImage, CommandError> {
        self.open_reporting(&|_| {})
    }

    /// [`ImageArgs::open`], calling `received` with the bytes spooled so far while a pipe or
    /// a gzip'd file is copied.
    pub fn open_reporting(&self, received: &dyn Fn(u64)) -> Result<OpenImage, CommandError> {
        let budget = Budget::new(self.mem_limit);
        if self.is_stdin() {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                eprintln!("coldscan: reading the image from standard input (a terminal): pipe one in, or press Ctrl-D");
            }
            let (size, path) = spool_maybe_gzip(std::io::stdin().lock(), received)?;
            let source = FileSource::open(&path).map_err(|e| CommandError::Io(display(&path), e))?;
            let opener = BesideOpener::new(None, source.counter());
            return Ok(OpenImage { source, opener, budget, spooled: Some((size, path)) });
        }
        let source = FileSource::open(&self.image).map_err(|e| CommandError::Io(display(&self.image), e))?;
        if is_gzip(&source) {
            // A gzip'd archive (a Vagrant box) cannot be read at random offsets: inflate it
            // into a spool file first.
            let file = std::fs::File::open(&self.image).map_err(|e| CommandError::Io(display(&self.image), e))?;
            let (size, path) = spool(flate2::read::GzDecoder::new(std::io::BufReader::new(file)), received)
                .map_err(|e| spool_error(&display(&self.image), e))?;
            let spooled = FileSource::open(&path).map_err(|e| CommandError::Io(display(&path), e))?;
            let opener = BesideOpener::new(Some(&self.image), spooled.counter());
            return Ok(OpenImage { source: spooled, opener, budget, spooled: Some((size, path)) });
        }
        let opener = BesideOpener::new(Some(&self.image), source.counter());
        Ok(OpenImage { source, opener, budget, spooled: None })
    }
}

fn spool_error(what: &str, e: std::io::Error) -> CommandError {
    if e.kind() == std::io::ErrorKind::Interrupted && INTERRUPTED.load(Ordering::Relaxed) {
        CommandError::Interrupted
    } else {
        CommandError::Io(String::from(what), e)
    }
}

/// Spools a pipe, inflating it on the way when it is a gzip stream.
fn spool_maybe_gzip(input: impl Read, received: &dyn Fn(u64)) -> Result<(u64, tempfile::TempPath), CommandError> {
    let mut input = std::io::BufReader::new(input);
    let head = std::io::BufRead::fill_buf(&mut input).map_err(|e| spool_error("standard input", e))?;
    let result = if head.starts_with(&[0x1F, 0x8B]) {
        spool(flate2::bufread::GzDecoder::new(input), received)
    } else {
        spool(input, received)
    };
    result.map_err(|e| spool_error("standard input", e))
}

/// Opens the root to read with `ls`/`cat`: volume `id`, or the one with an OS. An unknown id
/// is a usage error listing the volumes that exist; when several volumes hold an OS and none
/// was named, a note on standard error says which one is read.
pub fn open_root<'a>(disk: &'a Disk<'a>, id: Option<&str>) -> Result<(String, OpenFs<'a>), CommandError> {
    let ids: Vec<String> = disk.table.volumes.iter().map(|v| v.id()).collect();
    if let Some(id) = id {
        if !ids.iter().any(|v| v == id) {
            return Err(CommandError::Usage(format!("no volume {id} in this image; it has: {}", ids.join(", "))));
        }
        return Ok(disk.open_volume(Some(id))?);
    }
    let (chosen, fs) = disk.open_volume(None)?;
    let roots: Vec<String> = disk.scan().roots.into_iter().filter(|(_, r)| r.os.is_some()).map(|(id, _)| id).collect();
    if roots.len() > 1 {
        eprintln!(
            "coldscan: note: the image has several roots ({}); reading {chosen} (choose one with --volume)",
            roots.join(", ")
        );
    }
    Ok((chosen, fs))
}

fn is_gzip(source: &FileSource) -> bool {
    use coldscan_core::ReadAt;
    let mut magic = [0u8; 2];
    source.size() >= 2 && source.read_at(0, &mut magic).is_ok() && magic == [0x1F, 0x8B]
}

/// Copies a stream into a temporary file, skipping all-zero blocks so that the spool of a raw
/// disk stays sparse where the filesystem allows it. Stops (and the file is removed) when
/// Ctrl-C is pressed.
fn spool(mut input: impl Read, received: &dyn Fn(u64)) -> std::io::Result<(u64, tempfile::TempPath)> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = tempfile::NamedTempFile::new()?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        if INTERRUPTED.load(Ordering::Relaxed) {
            return Err(std::io::Error::from(std::io::ErrorKind::Interrupted));
        }
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf[..n].iter().all(|&b| b == 0) {
            file.as_file_mut().seek(SeekFrom::Current(n as i64))?;
        } else {
            file.as_file_mut().write_all(&buf[..n])?;
        }
        size += n as u64;
        received(size);
    }
    file.as_file_mut().set_len(size)?;
    Ok((size, file.into_temp_path()))
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

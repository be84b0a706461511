//! Byte sources the core reads through: files and block devices, by positional reads
//! (no mmap, no shared cursor), on Linux, macOS and Windows.

use coldscan_core::image::Opener;
use coldscan_core::{Error, ErrorKind, Layer, ReadAt};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A file or block device opened read-only, counting the bytes read from it.
#[derive(Debug)]
pub struct FileSource {
    file: File,
    size: u64,
    bytes_read: Arc<AtomicU64>,
}

impl FileSource {
    /// Opens `path` read-only. The size is found by seeking to the end, which also works for
    /// block devices (whose metadata length is 0).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Self::open_counted(path, Arc::new(AtomicU64::new(0)))
    }

    /// Opens `path` read-only, adding the bytes read to `counter` (shared by the files of one
    /// image: its extents and backing files).
    pub fn open_counted(path: &Path, counter: Arc<AtomicU64>) -> std::io::Result<Self> {
        let mut file = File::open(path)?;
        let size = file.seek(SeekFrom::End(0))?;
        Ok(FileSource { file, size, bytes_read: counter })
    }

    /// The counter this source adds to.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes_read)
    }

    /// Whether the file is empty.
    pub fn size_is_zero(&self) -> bool {
        self.size == 0
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    #[cfg(unix)]
    fn pread(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn pread(&self, mut offset: u64, mut buf: &mut [u8]) -> std::io::Result<()> {
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => {
                    // `seek_read` never reports more than it was given.
                    buf = std::mem::take(&mut buf).get_mut(n..).unwrap_or_default();
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> coldscan_core::Result<()> {
        if !coldscan_core::io::fits(offset, buf.len() as u64, self.size) {
            return Err(coldscan_core::io::eof(Layer::Source, "file", offset, buf.len(), self.size));
        }
        self.pread(offset, buf).map_err(|e| {
            Error::new(Layer::Source, "file", offset, ErrorKind::Io { code: e.raw_os_error().unwrap_or(0) })
        })?;
        self.bytes_read.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Opens the files an image names (qcow2 backing files, VMDK extents) from the image's own
/// directory, by file name only: a name with directory parts is looked up by its last part,
/// so an image can never make coldscan read elsewhere on the host. Only regular files are
/// opened: a symbolic link (which could point anywhere), a FIFO (whose `open` would block for
/// ever), a device or a directory beside the image is refused, and the file is opened without
/// following links and without blocking, then checked again, so a swap between the check and
/// the open is caught too.
#[derive(Debug)]
pub struct BesideOpener {
    dir: Option<PathBuf>,
    counter: Arc<AtomicU64>,
}

impl BesideOpener {
    /// An opener for the files beside `image` (none when `image` is not a real file, e.g. a
    /// spooled pipe), counting into `counter`.
    pub fn new(image: Option<&Path>, counter: Arc<AtomicU64>) -> Self {
        let dir = image.map(|p| p.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf));
        BesideOpener { dir, counter }
    }
}

/// The core's error for a file beside the image that could not be opened.
fn beside_error(e: &std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Io { code: e.raw_os_error().unwrap_or(0) },
    };
    Error::new(Layer::Image, "opener", 0, kind)
}

const NOT_A_FILE: ErrorKind = ErrorKind::Unsupported(
    "a file the image names is not a regular file beside it (links, FIFOs and devices are never opened)",
);

/// Opens `path` read-only without following a final symbolic link and without blocking on a
/// FIFO (where the platform allows), and checks that what was opened is a regular file.
fn open_regular(path: &Path) -> Result<File, Error> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| beside_error(&e))?;
    let meta = file.metadata().map_err(|e| beside_error(&e))?;
    if !meta.file_type().is_file() {
        return Err(Error::new(Layer::Image, "opener", 0, NOT_A_FILE));
    }
    Ok(file)
}

impl Opener for BesideOpener {
    fn open(&self, name: &str) -> coldscan_core::Result<Box<dyn ReadAt>> {
        let not_found = Error::new(Layer::Image, "opener", 0, ErrorKind::NotFound);
        let dir = self.dir.as_ref().ok_or(not_found)?;
        let file_name = Path::new(name).file_name().ok_or(not_found)?;
        let path = dir.join(file_name);
        // Judge the name itself, not what a link points to.
        let meta = std::fs::symlink_metadata(&path).map_err(|e| beside_error(&e))?;
        if !meta.file_type().is_file() {
            return Err(Error::new(Layer::Image, "opener", 0, NOT_A_FILE));
        }
        let mut file = open_regular(&path)?;
        let size = file.seek(SeekFrom::End(0)).map_err(|e| beside_error(&e))?;
        Ok(Box::new(FileSource { file, size, bytes_read: Arc::clone(&self.counter) }))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn opener(dir: &Path) -> BesideOpener {
        BesideOpener::new(Some(&dir.join("disk.vmdk")), Arc::new(AtomicU64::new(0)))
    }

    fn refusal(o: &BesideOpener, name: &str) -> ErrorKind {
        match o.open(name) {
            Ok(_) => panic!("{name} was opened"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn opens_regular_files_beside_the_image_only() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("extent.bin"), b"data").unwrap();
        std::fs::write(outside.path().join("secret.bin"), b"secret").unwrap();
        let o = opener(dir.path());
        let f = o.open("extent.bin").unwrap();
        assert_eq!(f.size(), 4);
        // A path names its last part only, beside the image.
        assert_eq!(refusal(&o, "../../secret.bin"), ErrorKind::NotFound);
        // A link beside the image is refused, wherever it points.
        std::os::unix::fs::symlink(outside.path().join("secret.bin"), dir.path().join("link.bin")).unwrap();
        assert_eq!(refusal(&o, "link.bin"), NOT_A_FILE);
        // A FIFO is refused without blocking.
        let fifo = dir.path().join("fifo.bin");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(refusal(&o, "fifo.bin"), NOT_A_FILE);
        // A directory is refused too.
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(refusal(&o, "sub"), NOT_A_FILE);
    }

    #[test]
    fn permission_errors_are_not_called_missing() {
        let e = beside_error(&std::io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(e.kind, ErrorKind::Io { code: libc::EACCES });
        assert_eq!(beside_error(&std::io::Error::from(std::io::ErrorKind::NotFound)).kind, ErrorKind::NotFound);
    }
}

//! Shared helpers for the integration tests: fixtures built by real tools, the shared test
//! data, and the independent oracles (debugfs, sfdisk).
#![allow(dead_code)]

pub mod counting;
pub mod crafted;

use coldscan_core::error::Layer;
use coldscan_core::fs::{FileSystem, FileType, NodeId, Walk};
use coldscan_core::image::NoFiles;
use coldscan_core::inspect::Disk;
use coldscan_core::{Budget, ReadAt};
use coldscan_host::source::FileSource;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The fixture directory, built by `testdata/make-images.sh` on first use.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = workspace().join("testdata/generated");
        let status = Command::new("bash")
            .arg(workspace().join("testdata/make-images.sh"))
            .arg(&dir)
            .status()
            .expect("run testdata/make-images.sh");
        assert!(status.success(), "testdata/make-images.sh failed");
        dir
    })
}

/// The output directory of a fixture script `testdata/SCRIPT` (one that builds with real tools
/// and is idempotent), built on first use.
fn built_by(script: &str, dir: &str, cell: &'static OnceLock<PathBuf>) -> &'static Path {
    cell.get_or_init(|| {
        let out = workspace().join("testdata").join(dir);
        let status = Command::new("bash").arg(workspace().join("testdata").join(script)).arg(&out).status().unwrap();
        assert!(status.success(), "testdata/{script} failed");
        out
    })
}

/// The XFS fixtures (`testdata/make-xfs.sh`).
pub fn xfs_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    built_by("make-xfs.sh", "generated-xfs", &DIR)
}

/// The LVM2 fixtures (`testdata/make-lvm.sh`).
pub fn lvm_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    built_by("make-lvm.sh", "generated-lvm", &DIR)
}

/// `../shared/SUB` (a file or directory of the read-only shared data), or `None` after printing
/// why when it is absent. Under `CI=true` the data must be there: its absence fails the test.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let path = workspace().join("../shared").join(sub);
    if path.exists() {
        return Some(path);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is absent", path.display());
    eprintln!("SKIP: {} is absent; this test needs the shared test data", path.display());
    None
}

/// `../shared/testdata-real`, or `None` (see [`shared`]).
pub fn shared_testdata() -> Option<PathBuf> {
    shared("testdata-real")
}

/// The real Amazon Linux 2 disk of the shared data (XFS v5 root in GPT), gunzipped into a
/// temporary directory once per test binary.
pub fn amazon_linux_2() -> Option<&'static Path> {
    static IMG: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    IMG.get_or_init(|| {
        let gz = shared("testdata-real/images/trivy/AmazonLinux2.img.gz")?;
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("AmazonLinux2.img");
        let mut out = std::fs::File::create(&img).unwrap();
        std::io::copy(&mut flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap()), &mut out).unwrap();
        Some((dir, img))
    })
    .as_ref()
    .map(|(_, p)| p.as_path())
}

/// The `coldscan` binary under test.
pub fn coldscan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coldscan"))
}

/// Runs `coldscan ARGS` and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = coldscan().args(args).output().expect("run coldscan");
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// sha256 of a byte slice, hex.
pub fn sha256(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs debugfs with `commands` on `spec` (an image path, optionally `?offset=N`) and returns
/// each command's output, in order.
pub fn debugfs(spec: &str, commands: &[String]) -> Vec<String> {
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), commands.join("\n") + "\n").unwrap();
    let out = Command::new("debugfs").arg("-f").arg(script.path()).arg(spec).output().expect("run debugfs");
    assert!(out.status.success(), "debugfs failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    // With -f, debugfs echoes each command as "debugfs: CMD" before its output.
    let mut outputs: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("debugfs: ") {
            outputs.push(String::new());
        } else if let Some(current) = outputs.last_mut() {
            current.push_str(line);
            current.push('\n');
        }
    }
    assert_eq!(outputs.len(), commands.len(), "debugfs output did not split per command");
    outputs
}

/// One node met while walking a filesystem through coldscan.
#[derive(Debug, Clone)]
pub struct Walked {
    pub path: String,
    pub node: NodeId,
    pub file_type: FileType,
    pub mode: u16,
    pub size: u64,
}

/// Every node below the root of `fs` (not following symlinks), depth first.
pub fn walk(fs: &dyn FileSystem) -> Vec<Walked> {
    let mut out = Vec::new();
    let mut dirs = vec![(String::from(""), fs.root())];
    while let Some((path, dir)) = dirs.pop() {
        let mut entries = Vec::new();
        fs.read_dir(dir, &mut |e| {
            if e.name != b"." && e.name != b".." {
                entries.push((String::from_utf8_lossy(e.name).into_owned(), e.node));
            }
            Ok(Walk::Continue)
        })
        .unwrap_or_else(|e| panic!("read_dir {path}/: {e}"));
        for (name, node) in entries {
            let m = fs.metadata(node).unwrap_or_else(|e| panic!("stat {path}/{name}: {e}"));
            let child = format!("{path}/{name}");
            if m.file_type == FileType::Directory {
                dirs.push((child.clone(), node));
            }
            out.push(Walked { path: child, node, file_type: m.file_type, mode: m.mode, size: m.size });
        }
    }
    out
}

/// One row of a tree manifest (`testdata/manifest.py`): type letter, mode, size, sha256 or
/// link target.
pub type Expected = (String, u32, u64, String);

/// A manifest file written by `testdata/manifest.py`: path → row.
pub fn read_manifest(path: &Path) -> std::collections::BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let t: Vec<&str> = l.split('\t').collect();
            let mode = u32::from_str_radix(t[2], 8).unwrap();
            (t[0].to_string(), (t[1].to_string(), mode, t[3].parse().unwrap(), t[4].to_string()))
        })
        .collect()
}

/// Everything below the root of `fs`, read through coldscan, as manifest rows (every regular
/// file hashed whole).
pub fn as_manifest(fs: &dyn FileSystem) -> std::collections::BTreeMap<String, Expected> {
    let mut ours = std::collections::BTreeMap::new();
    for n in walk(fs) {
        let (kind, what) = match n.file_type {
            FileType::Regular => ("f", sha256_through(fs, n.node)),
            FileType::Directory => ("d", String::from("-")),
            FileType::Symlink => ("l", String::from_utf8(fs.read_link(n.node).unwrap()).unwrap()),
            _ => ("o", String::from("-")),
        };
        let size = if matches!(kind, "f" | "l") { n.size } else { 0 };
        ours.insert(n.path, (kind.to_string(), u32::from(n.mode), size, what));
    }
    ours
}

/// Asserts that `ours` holds exactly the rows of `want` (`what` names the image in messages).
pub fn assert_same_tree(
    what: &str,
    ours: &std::collections::BTreeMap<String, Expected>,
    want: &std::collections::BTreeMap<String, Expected>,
) {
    for (path, expected) in want {
        assert_eq!(ours.get(path), Some(expected), "{what}: {path}");
    }
    let extra: Vec<&String> = ours.keys().filter(|p| !want.contains_key(*p)).take(5).collect();
    assert!(extra.is_empty(), "{what}: coldscan lists entries the tree does not have: {extra:?}");
}

/// The btrfs fixtures (`testdata/make-btrfs.sh`).
pub fn btrfs_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    built_by("make-btrfs.sh", "generated-btrfs", &DIR)
}

/// sha256 of everything `r` holds, read in 1 MiB pieces.
pub fn sha256_of(r: &dyn ReadAt) -> String {
    try_sha256_of(r).unwrap()
}

/// [`sha256_of`], or the first read error.
pub fn try_sha256_of(r: &dyn ReadAt) -> coldscan_core::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0;
    while pos < r.size() {
        let n = (r.size() - pos).min(buf.len() as u64) as usize;
        r.read_at(pos, &mut buf[..n])?;
        h.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(hex(&h.finalize()))
}

/// sha256 of a whole file read through coldscan.
pub fn sha256_through(fs: &dyn FileSystem, node: NodeId) -> String {
    sha256_of(fs.open_file(node).unwrap().as_ref())
}

/// Opens `image` and hands its volume `volume` (and the volume's byte offset) to `f`.
pub fn with_volume<T>(image: &Path, volume: &str, f: impl FnOnce(&dyn FileSystem, u64) -> T) -> T {
    let source = FileSource::open(image).unwrap();
    let budget = Budget::default();
    let disk = Disk::open(&source, &NoFiles, &budget).unwrap();
    let offset = disk.table.volumes.iter().find(|v| v.id() == volume).expect("volume").start;
    let (_, fs) = disk.open_volume(Some(volume)).unwrap();
    f(fs.as_ref(), offset)
}

/// Installed packages as `dpkg-query` lists them: `name\tversion\tsource\tsource version`
/// lines, sorted; `admindir` is a dpkg database directory (default: this machine's).
pub fn dpkg_query_installed(admindir: Option<&Path>, extra_format: &str) -> Vec<String> {
    let mut cmd = Command::new("dpkg-query");
    if let Some(dir) = admindir {
        cmd.arg(format!("--admindir={}", dir.display()));
    }
    let format = format!(
        "${{db:Status-Abbrev}}\t${{Package}}\t${{Version}}\t${{source:Package}}\t${{source:Version}}{extra_format}\n"
    );
    let out = cmd.args(["-W", "-f", &format]).output().expect("run dpkg-query");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("ii ") || l.starts_with("hi "))
        .map(|l| l.split_once('\t').unwrap().1.to_string())
        .collect();
    lines.sort();
    lines
}

/// A real image with bytes patched over it and an optional shorter size (truncation).
pub struct Damaged {
    inner: FileSource,
    size: u64,
    patches: Vec<(u64, Vec<u8>)>,
}

impl Damaged {
    /// A fixture (path relative to the fixture directory) to damage.
    pub fn new(image: &str) -> Self {
        Self::open(&fixtures().join(image))
    }
    /// Any image file to damage.
    pub fn open(path: &Path) -> Self {
        let inner = FileSource::open(path).unwrap();
        let size = inner.size();
        Damaged { inner, size, patches: Vec::new() }
    }
    /// Cuts the image at `size` bytes.
    pub fn truncate(mut self, size: u64) -> Self {
        self.size = size;
        self
    }
    /// Overlays `bytes` at `offset`.
    pub fn patch(mut self, offset: u64, bytes: &[u8]) -> Self {
        self.patches.push((offset, bytes.to_vec()));
        self
    }
    /// The little-endian u32 at `offset`.
    pub fn read_u32(&self, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.read_at(offset, &mut b).unwrap();
        u32::from_le_bytes(b)
    }
}

impl ReadAt for Damaged {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> coldscan_core::Result<()> {
        if offset.checked_add(buf.len() as u64).is_none_or(|end| end > self.size) {
            return Err(coldscan_core::io::eof(Layer::Source, "damaged", offset, buf.len(), self.size));
        }
        self.inner.read_at(offset, buf)?;
        for (at, bytes) in &self.patches {
            for (i, b) in bytes.iter().enumerate() {
                let pos = at + i as u64;
                if pos >= offset && pos < offset + buf.len() as u64 {
                    buf[(pos - offset) as usize] = *b;
                }
            }
        }
        Ok(())
    }
}

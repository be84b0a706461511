//! btrfs, read-only: a single-device filesystem as a VM disk holds it.
//!
//! Supported: the superblock and its mirrors (the valid copy with the highest generation), the
//! `sys_chunk_array` bootstrap and the chunk tree (SINGLE, DUP and mirrored profiles), B-trees
//! of any level with crc32c verification (other checksum types are read and reported as not
//! verified), subvolumes and snapshots (the default subvolume is the root, as a booted system
//! mounts it; nested subvolumes appear as the directories they are; any subvolume can be opened
//! by id or path for fstab's `subvol=`/`subvolid=`), inodes, directories in `DIR_INDEX` order,
//! symlinks, hard links, file extents inline, regular and preallocated, holes (with or without
//! NO_HOLES), shared (reflinked) extents, and compressed extents (zlib, LZO, zstd) decoded one
//! extent at a time into a budget-charged cache.
//!
//! Not done: RAID0/10/5/6 chunks across devices (refused with a clear error when read), the log
//! tree (read as on disk, like `btrfs restore`), encrypted or otherwise encoded extents.
//!
//! Node ids carry the subvolume in bits 48–55 (as an index into the subvolumes met so far, at
//! most 256) and the inode number in the low 48 bits; the top byte stays free for the mount
//! layer above.
//! Reference: include/uapi/linux/btrfs_tree.h, fs/btrfs (ctree.c, disk-io.c, inode.c), and the
//! btrfs documentation's "On-disk format" pages.

mod chunk;
mod compress;
mod items;
mod lzo;
mod superblock;
mod tree;

use self::chunk::{parse_chunk, ChunkMap, Logical};
use self::items::{dir_entries, kind, Compression, Extent, InodeItem, RootItem, RootRef, INLINE_HEADER};
use self::superblock::Superblock;
use self::tree::{NodeCache, Root};
use super::{DirEntry, FileSystem, FileType, Metadata, NodeId, Subvolume, Walk};
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::codec::{BuiltIn, Codecs};
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::io::{eof, fits, read_mapped, ReadAt, Segment};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::RefCell;

const FORMAT: &str = "btrfs";
/// The top-level subvolume (`BTRFS_FS_TREE_OBJECTID`).
const FS_TREE: u64 = 5;
/// The chunk tree's items live under this object id.
const FIRST_CHUNK_TREE_OBJECTID: u64 = 256;
/// A subvolume's root directory (`BTRFS_FIRST_FREE_OBJECTID`).
const SUBVOL_ROOT_DIR: u64 = 256;
/// Longest symlink target read (Linux `PATH_MAX`).
const MAX_LINK: u64 = 4096;
/// Deepest directory nesting followed when naming a subvolume's path.
const MAX_PATH_DEPTH: usize = 256;
/// Most subvolumes listed.
const MAX_SUBVOLUMES: usize = 4096;
/// Most directory lookups one subvolume listing makes, over all its subvolumes.
const MAX_LISTING_HOPS: usize = 1 << 16;
/// Most bytes of subvolume paths one listing builds (4,096 paths of 256 bytes).
const MAX_LISTING_PATH_BYTES: usize = 1 << 20;

/// What is left of one subvolume listing's work.
struct PathBudget {
    /// Directory lookups.
    hops: usize,
    /// Bytes of paths.
    bytes: usize,
}
const NODE_INO_BITS: u32 = 48;

/// A key: object id, item type, offset; ordered in that order, as btrfs sorts its trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub objectid: u64,
    pub kind: u8,
    pub offset: u64,
}

impl Key {
    const fn new(objectid: u64, kind: u8, offset: u64) -> Self {
        Key { objectid, kind, offset }
    }

    fn parse(b: Bytes<'_>) -> Result<Self> {
        Ok(Key { objectid: b.u64_le(0)?, kind: b.u8(8)?, offset: b.u64_le(9)? })
    }

    /// Every key of `objectid`/`kind`: (first, last).
    const fn range(objectid: u64, kind: u8) -> (Key, Key) {
        (Key::new(objectid, kind, 0), Key::new(objectid, kind, u64::MAX))
    }
}

/// Which subvolume to present as the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubvolumeSelector<'a> {
    /// The default subvolume (what a plain `mount` gives).
    Default,
    /// A subvolume by id (`subvolid=`).
    Id(u64),
    /// A subvolume by its path from the top level (`subvol=`; a leading `/` is optional).
    Path(&'a str),
}

/// Decoded compressed extents: one input buffer and two output slots.
struct ExtentCache {
    input: FixedVec<u8>,
    slots: FixedVec<u8>,
    /// (logical address of the extent, its decoded length, last use) per slot.
    tags: [(Option<u64>, usize, u64); 2],
    clock: u64,
}

/// A btrfs filesystem on a volume.
pub struct Btrfs<R> {
    dev: R,
    sb: Superblock,
    chunks: ChunkMap,
    cache: NodeCache,
    budget: Budget,
    /// Decoders of compressed extents.
    codecs: Arc<dyn Codecs>,
    /// The subvolume presented as the root, and its root directory.
    root_node: NodeId,
    /// The default subvolume's id.
    default_subvolume: u64,
    /// Subvolume tree roots already looked up.
    trees: RefCell<heapless::Vec<(u64, Root), 16>>,
    /// Subvolume ids met so far; a node id carries the index of its subvolume here.
    subvolume_index: RefCell<heapless::Vec<u64, 256>>,
    extents: RefCell<ExtentCache>,
    warnings: heapless::Vec<Error, 4>,
}

impl<R> core::fmt::Debug for Btrfs<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Btrfs(generation {}, {} chunks, node {})", self.sb.generation, self.chunks.len(), self.sb.node_size)
    }
}

fn corrupt(at: u64, what: &'static str) -> Error {
    Error::new(Layer::Fs, FORMAT, at, ErrorKind::Corrupt(what))
}

impl<R: ReadAt> Btrfs<R> {
    /// Opens the filesystem on `volume` with its default subvolume as the root, decoding
    /// compressed extents with the built-in decoders.
    pub fn open(volume: R, budget: &Budget) -> Result<Self> {
        Self::open_subvolume(volume, budget, SubvolumeSelector::Default, BuiltIn::shared())
    }

    /// Opens the filesystem on `volume` with the selected subvolume as the root, decoding
    /// compressed extents with `codecs`.
    pub fn open_subvolume(
        volume: R,
        budget: &Budget,
        select: SubvolumeSelector<'_>,
        codecs: Arc<dyn Codecs>,
    ) -> Result<Self> {
        let mut warnings = heapless::Vec::new();
        let sb = Superblock::read(&volume, &mut warnings)?;
        if sb.csum_type != superblock::CSUM_CRC32C {
            let _ = warnings.push(Error::new(
                Layer::Fs,
                FORMAT,
                sb.at + 0xC4,
                ErrorKind::Unsupported("checksum type other than crc32c: tree blocks not verified"),
            ));
        }
        // Bootstrap: the system chunks in the superblock are enough to read the chunk tree.
        let mut boot = ChunkMap::new(budget, 32)?;
        for item in sb.sys_chunk_items() {
            let (key, raw) = item?;
            let chunk = parse_chunk(key.offset, raw, sb.devid, volume.size())?;
            boot.insert(chunk, sb.at)?;
        }
        let cache = NodeCache::new(sb.node_size as usize, budget)?;
        let extents = ExtentCache {
            input: budget.zeroed(Layer::Fs, FORMAT, 0, compress::MAX_DECODED)?,
            slots: budget.zeroed(Layer::Fs, FORMAT, 0, 2 * compress::MAX_DECODED)?,
            tags: [(None, 0, 0); 2],
            clock: 0,
        };
        let mut fs = Btrfs {
            dev: volume,
            sb,
            chunks: boot,
            cache,
            budget: budget.clone(),
            codecs,
            root_node: 0,
            default_subvolume: FS_TREE,
            trees: RefCell::new(heapless::Vec::new()),
            subvolume_index: RefCell::new(heapless::Vec::new()),
            extents: RefCell::new(extents),
            warnings,
        };
        fs.read_chunk_tree()?;
        fs.default_subvolume = fs.find_default_subvolume()?;
        fs.root_node = match select {
            SubvolumeSelector::Default => fs.node_id(fs.default_subvolume, SUBVOL_ROOT_DIR)?,
            SubvolumeSelector::Id(id) => {
                fs.tree(id)?;
                fs.node_id(id, SUBVOL_ROOT_DIR)?
            }
            SubvolumeSelector::Path(path) => {
                fs.root_node = fs.node_id(FS_TREE, SUBVOL_ROOT_DIR)?;
                let node = super::resolve(&fs, path.as_bytes(), true)?;
                let (subvol, ino) = fs.split_node(node)?;
                if ino != SUBVOL_ROOT_DIR {
                    return Err(Error::new(
                        Layer::Fs,
                        FORMAT,
                        0,
                        ErrorKind::Corrupt("subvol= names a directory, not a subvolume"),
                    ));
                }
                fs.node_id(subvol, ino)?
            }
        };
        Ok(fs)
    }

    /// The node id of inode `ino` of subvolume `subvol`.
    fn node_id(&self, subvol: u64, ino: u64) -> Result<NodeId> {
        let too_big = || {
            Error::new(
                Layer::Fs,
                FORMAT,
                0,
                ErrorKind::Unsupported("more than 256 subvolumes in one walk, or an inode number past 2^48"),
            )
        };
        if ino >> NODE_INO_BITS != 0 {
            return Err(too_big());
        }
        let mut known = self.subvolume_index.borrow_mut();
        let index = match known.iter().position(|&s| s == subvol) {
            Some(i) => i,
            None => {
                known.push(subvol).map_err(|_| too_big())?;
                known.len() - 1
            }
        };
        Ok((index as u64) << NODE_INO_BITS | ino)
    }

    /// The subvolume and inode number a node id names.
    fn split_node(&self, node: NodeId) -> Result<(u64, u64)> {
        let index = usize::try_from(node >> NODE_INO_BITS).unwrap_or(usize::MAX);
        let subvol = self.subvolume_index.borrow().get(index).copied();
        let subvol = subvol.ok_or(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::NotFound))?;
        Ok((subvol, node & ((1 << NODE_INO_BITS) - 1)))
    }

    /// The logical address space.
    fn logical(&self) -> Logical<'_, R> {
        Logical { device: &self.dev, chunks: &self.chunks }
    }

    fn read_chunk_tree(&mut self) -> Result<()> {
        let root = Root { logical: self.sb.chunk_root.0, level: self.sb.chunk_root.1 };
        let (from, to) = Key::range(FIRST_CHUNK_TREE_OBJECTID, kind::CHUNK_ITEM);
        let mut count = 0usize;
        self.walk(root, from, to, &mut |_, _| {
            count += 1;
            Ok(if count > chunk::MAX_CHUNKS { Walk::Stop } else { Walk::Continue })
        })?;
        if count > chunk::MAX_CHUNKS {
            return Err(corrupt(root.logical, "more than 65,536 chunks"));
        }
        let mut full = ChunkMap::new(&self.budget, count + 32)?;
        let (devid, size) = (self.sb.devid, self.dev.size());
        self.walk(root, from, to, &mut |key, data| {
            full.insert(parse_chunk(key.offset, data, devid, size)?, data.offset_of(0))?;
            Ok(Walk::Continue)
        })?;
        self.chunks = full;
        Ok(())
    }

    fn root_tree(&self) -> Root {
        Root { logical: self.sb.root.0, level: self.sb.root.1 }
    }

    /// The subvolume the root tree's `default` directory entry names (5 when there is none).
    fn find_default_subvolume(&self) -> Result<u64> {
        let (from, to) = Key::range(self.sb.root_dir, kind::DIR_ITEM);
        let mut found = FS_TREE;
        self.walk(self.root_tree(), from, to, &mut |_, data| {
            for entry in dir_entries(data) {
                let entry = entry?;
                if entry.name == b"default" && entry.location.kind == kind::ROOT_ITEM {
                    found = entry.location.objectid;
                    return Ok(Walk::Stop);
                }
            }
            Ok(Walk::Continue)
        })?;
        Ok(found)
    }

    /// The root of subvolume `id`'s tree.
    fn tree(&self, id: u64) -> Result<Root> {
        if let Some((_, root)) = self.trees.borrow().iter().find(|(i, _)| *i == id) {
            return Ok(*root);
        }
        let item = self.find_le(self.root_tree(), &Key::new(id, kind::ROOT_ITEM, u64::MAX), |key, data| {
            if key.objectid != id || key.kind != kind::ROOT_ITEM {
                return Ok(None);
            }
            RootItem::parse(data).map(Some)
        })?;
        let item = item.flatten().ok_or(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::Missing("subvolume")))?;
        if item.level > tree::MAX_LEVEL || item.root_dirid != SUBVOL_ROOT_DIR {
            return Err(corrupt(item.bytenr, "subvolume root item"));
        }
        let root = Root { logical: item.bytenr, level: item.level };
        let mut trees = self.trees.borrow_mut();
        if trees.is_full() {
            trees.clear();
        }
        let _ = trees.push((id, root));
        Ok(root)
    }

    fn inode(&self, node: NodeId) -> Result<InodeItem> {
        let (subvol, ino) = self.split_node(node)?;
        let tree = self.tree(subvol)?;
        let key = Key::new(ino, kind::INODE_ITEM, 0);
        self.find_le(tree, &key, |k, data| if k == key { InodeItem::parse(data).map(Some) } else { Ok(None) })?
            .flatten()
            .ok_or(Error::new(Layer::Fs, FORMAT, tree.logical, ErrorKind::NotFound))
    }

    /// The parent directory of a subvolume's root: where the subvolume is linked in its parent.
    fn subvolume_parent(&self, subvol: u64) -> Result<Option<NodeId>> {
        let (from, to) = Key::range(subvol, kind::ROOT_BACKREF);
        let mut parent = None;
        self.walk(self.root_tree(), from, to, &mut |key, data| {
            parent = Some(self.node_id(key.offset, RootRef::parse(data)?.dirid)?);
            Ok(Walk::Stop)
        })?;
        Ok(parent)
    }

    /// Every subvolume with its path from the top level.
    fn list_subvolumes(&self) -> Result<Vec<Subvolume>> {
        // (id, parent id, directory in the parent, name)
        let mut refs: Vec<(u64, u64, u64, String)> = Vec::new();
        let from = Key::new(FS_TREE, 0, 0);
        let to = Key::new(u64::MAX, u8::MAX, u64::MAX);
        self.walk(self.root_tree(), from, to, &mut |key, data| {
            if key.kind == kind::ROOT_REF {
                let r = RootRef::parse(data)?;
                if refs.len() >= MAX_SUBVOLUMES {
                    return Ok(Walk::Stop);
                }
                refs.push((key.offset, key.objectid, r.dirid, String::from_utf8_lossy(r.name).into_owned()));
            }
            Ok(Walk::Continue)
        })?;
        // Each subvolume's path is its parent's path, the directory it is linked in, and its
        // name: found once per subvolume (memoised), climbing at most MAX_PATH_DEPTH parents,
        // refusing a cycle, and bounded in total hops and path bytes.
        let mut paths: BTreeMap<u64, String> = BTreeMap::new();
        paths.insert(FS_TREE, String::new());
        let mut budget = PathBudget { hops: MAX_LISTING_HOPS, bytes: MAX_LISTING_PATH_BYTES };
        let mut out = Vec::new();
        for (id, ..) in &refs {
            let path = self.subvolume_path(*id, &refs, &mut paths, &mut budget)?;
            out.push(Subvolume { id: *id, path, default: *id == self.default_subvolume });
        }
        Ok(out)
    }

    /// The path of subvolume `id` from the top level (see `list_subvolumes`).
    fn subvolume_path(
        &self,
        id: u64,
        refs: &[(u64, u64, u64, String)],
        paths: &mut BTreeMap<u64, String>,
        budget: &mut PathBudget,
    ) -> Result<String> {
        let cycle = || Error::new(Layer::Fs, FORMAT, 0, ErrorKind::Corrupt("subvolume parent references form a cycle"));
        // Climb to a subvolume whose path is known (the top level, or one found before).
        let mut chain: Vec<&(u64, u64, u64, String)> = Vec::new();
        let mut current = id;
        while !paths.contains_key(&current) {
            // A subvolume without a reference hangs off the top level.
            let Some(r) = refs.iter().find(|r| r.0 == current) else { break };
            if chain.iter().any(|c| c.0 == current) {
                return Err(cycle());
            }
            if chain.len() >= MAX_PATH_DEPTH {
                return Err(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::LoopLimit("subvolume parents")));
            }
            chain.push(r);
            current = r.1;
        }
        // Down again, naming each subvolume of the chain under its parent.
        let mut path = paths.get(&current).cloned().unwrap_or_default();
        for (sub, parent, dirid, name) in chain.into_iter().rev() {
            let mut dirs = self.dir_path(*parent, *dirid, &mut budget.hops)?;
            dirs.reverse();
            for part in dirs.iter().chain(core::iter::once(name)) {
                if !path.is_empty() {
                    path.push('/');
                }
                path.push_str(part);
            }
            budget.bytes = budget.bytes.checked_sub(path.len()).ok_or(Error::new(
                Layer::Fs,
                FORMAT,
                0,
                ErrorKind::LoopLimit("bytes of subvolume paths"),
            ))?;
            paths.insert(*sub, path.clone());
        }
        Ok(path)
    }

    /// Names from directory `dir` of subvolume `subvol` up to that subvolume's root, innermost
    /// first. Each step up is taken from `hops` (shared by a whole listing).
    fn dir_path(&self, subvol: u64, mut dir: u64, hops: &mut usize) -> Result<Vec<String>> {
        let tree = self.tree(subvol)?;
        let mut names = Vec::new();
        for _ in 0..MAX_PATH_DEPTH {
            if dir == SUBVOL_ROOT_DIR {
                return Ok(names);
            }
            *hops = hops.checked_sub(1).ok_or(Error::new(
                Layer::Fs,
                FORMAT,
                tree.logical,
                ErrorKind::LoopLimit("directory lookups while listing subvolumes"),
            ))?;
            let (from, to) = Key::range(dir, kind::INODE_REF);
            let mut up = None;
            self.walk(tree, from, to, &mut |key, data| {
                let len = usize::from(data.u16_le(8)?);
                up = Some((key.offset, String::from_utf8_lossy(data.slice(10, len)?).into_owned()));
                Ok(Walk::Stop)
            })?;
            let (parent, name) = up.ok_or(corrupt(tree.logical, "directory without a parent reference"))?;
            names.push(name);
            dir = parent;
        }
        Err(Error::new(Layer::Fs, FORMAT, tree.logical, ErrorKind::LoopLimit("directory parent references")))
    }

    fn file(&self, node: NodeId, inode: InodeItem) -> Result<BtrfsFile<'_, R>> {
        let (subvol, ino) = self.split_node(node)?;
        Ok(BtrfsFile { fs: self, tree: self.tree(subvol)?, ino, size: inode.size })
    }
}

/// A file of a btrfs filesystem as a [`ReadAt`].
struct BtrfsFile<'a, R> {
    fs: &'a Btrfs<R>,
    tree: Root,
    ino: u64,
    size: u64,
}

/// What serves the bytes at a file position.
enum Span {
    /// `len` zero bytes.
    Zeros(u64),
    /// `len` bytes at this logical address.
    Disk(u64, u64),
    /// `len` bytes from `from` of the decoded compressed extent at `extent` (`stored` bytes
    /// on disk, `decoded` bytes long).
    Compressed { extent: u64, stored: u64, decoded: u64, kind: Compression, from: u64, len: u64 },
    /// `len` bytes from `from` of the inline data copied into the scratch buffer (`decoded`
    /// bytes once decoded with `kind`).
    Inline { kind: Compression, decoded: u64, from: u64, len: u64 },
}

impl<R: ReadAt> BtrfsFile<'_, R> {
    /// What is at `pos` and for how long, the inline payload (if any) copied to `inline`.
    fn span(&self, pos: u64, inline: &mut FixedVec<u8>) -> Result<Span> {
        let fs = self.fs;
        let key = Key::new(self.ino, kind::EXTENT_DATA, pos);
        let found = fs.find_le(self.tree, &key, |k, data| {
            if k.objectid != self.ino || k.kind != kind::EXTENT_DATA {
                return Ok(None);
            }
            let extent = Extent::parse(data)?;
            if let Extent::Inline { .. } = extent {
                let payload = data.tail(INLINE_HEADER)?;
                fs.budget.reuse(inline, Layer::Fs, FORMAT, data.offset_of(0), payload.len())?;
                inline.copy_from_slice(payload.as_slice());
            }
            Ok(Some((k.offset, extent, data.offset_of(0))))
        })?;
        if let Some(Some((start, extent, at))) = found {
            let within = pos - start;
            let span = match extent {
                Extent::Zeros { len } if within < len => Some(Span::Zeros(len - within)),
                Extent::Inline { compression, ram_bytes } if within < ram_bytes => {
                    Some(Span::Inline { kind: compression, decoded: ram_bytes, from: within, len: ram_bytes - within })
                }
                Extent::Regular { compression, disk_bytenr, disk_len, ram_bytes, offset, len } if within < len => {
                    if compression == Compression::None {
                        let at = disk_bytenr
                            .checked_add(offset)
                            .and_then(|a| a.checked_add(within))
                            .ok_or(corrupt(at, "extent address"))?;
                        Some(Span::Disk(at, len - within))
                    } else {
                        Some(Span::Compressed {
                            extent: disk_bytenr,
                            stored: disk_len,
                            decoded: ram_bytes,
                            kind: compression,
                            from: offset + within,
                            len: len - within,
                        })
                    }
                }
                _ => None,
            };
            if let Some(span) = span {
                return Ok(span);
            }
        }
        // A hole up to the next extent (or to the end of the file).
        let mut next = self.size;
        let (from, to) =
            (Key::new(self.ino, kind::EXTENT_DATA, pos.saturating_add(1)), Key::range(self.ino, kind::EXTENT_DATA).1);
        fs.walk(self.tree, from, to, &mut |k, _| {
            next = next.min(k.offset);
            Ok(Walk::Stop)
        })?;
        Ok(Span::Zeros(next.saturating_sub(pos).max(1)))
    }

    /// Copies `out.len()` bytes from `from` of the decoded extent at logical `extent`.
    fn read_compressed(
        &self,
        extent: u64,
        stored: u64,
        decoded: u64,
        kind: Compression,
        from: u64,
        out: &mut [u8],
    ) -> Result<()> {
        let fs = self.fs;
        let max = compress::MAX_DECODED as u64;
        if decoded == 0 || decoded > max || stored == 0 || stored > max {
            return Err(corrupt(extent, "compressed extent larger than 128 KiB"));
        }
        let mut guard = fs.extents.borrow_mut();
        let cache = &mut *guard;
        cache.clock += 1;
        let clock = cache.clock;
        let slot = match cache.tags.iter().position(|t| t.0 == Some(extent) && t.1 == decoded as usize) {
            Some(s) => s,
            None => {
                let victim = if cache.tags[0].2 <= cache.tags[1].2 { 0 } else { 1 };
                let tag = cache.tags.get_mut(victim).ok_or(corrupt(extent, "extent cache"))?;
                tag.0 = None;
                let input = cache.input.get_mut(..stored as usize).ok_or(corrupt(extent, "compressed extent"))?;
                fs.logical().read_at(extent, input)?;
                let size = compress::MAX_DECODED;
                let out_slot = cache
                    .slots
                    .get_mut(victim * size..victim * size + decoded as usize)
                    .ok_or(corrupt(extent, "compressed extent"))?;
                let input = cache.input.get(..stored as usize).unwrap_or_default();
                compress::decode(
                    kind,
                    input,
                    out_slot,
                    extent,
                    fs.sb.sector_size as usize,
                    &fs.budget,
                    fs.codecs.as_ref(),
                )?;
                if let Some(tag) = cache.tags.get_mut(victim) {
                    *tag = (Some(extent), decoded as usize, clock);
                }
                victim
            }
        };
        if let Some(tag) = cache.tags.get_mut(slot) {
            tag.2 = clock;
        }
        let start = slot * compress::MAX_DECODED + from as usize;
        let src = cache.slots.get(start..start + out.len()).filter(|_| from + out.len() as u64 <= decoded);
        out.copy_from_slice(src.ok_or(corrupt(extent, "extent offset past its decoded size"))?);
        Ok(())
    }
}

impl<R: ReadAt> ReadAt for BtrfsFile<'_, R> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if !fits(offset, buf.len() as u64, self.size) {
            return Err(eof(Layer::Fs, FORMAT, offset, buf.len(), self.size));
        }
        // The inline payload `span` copies out, read back by the piece it maps.
        let inline = RefCell::new(self.fs.budget.zeroed(Layer::Fs, FORMAT, 0, 0)?);
        let map = |pos: u64, _| {
            let span = self.span(pos, &mut inline.borrow_mut())?;
            let len = match &span {
                Span::Zeros(len) | Span::Disk(_, len) => *len,
                Span::Compressed { len, .. } | Span::Inline { len, .. } => *len,
            };
            let segment = if let Span::Zeros(_) = span { Segment::Hole } else { Segment::At((span, pos)) };
            Ok((segment, len))
        };
        read_mapped(offset, buf, (Layer::Fs, FORMAT), map, |(span, pos), chunk| match span {
            Span::Zeros(_) => {
                chunk.fill(0);
                Ok(())
            }
            Span::Disk(at, _) => self.fs.logical().read_at(at, chunk),
            Span::Compressed { extent, stored, decoded, kind, from, .. } => {
                self.read_compressed(extent, stored, decoded, kind, from, chunk)
            }
            Span::Inline { kind, decoded, from, .. } => {
                self.read_inline(&inline.borrow(), kind, decoded, from, pos, chunk)
            }
        })
    }
}

impl<R: ReadAt> BtrfsFile<'_, R> {
    /// Fills `chunk` from an inline extent's payload: the bytes from `from` of the data,
    /// decoded first (at most 128 KiB, checked before anything is allocated) when compressed.
    fn read_inline(
        &self,
        inline: &[u8],
        kind: Compression,
        decoded: u64,
        from: u64,
        pos: u64,
        chunk: &mut [u8],
    ) -> Result<()> {
        let range = |len: usize| {
            let from = usize::try_from(from).ok()?;
            Some(from..from.checked_add(len)?)
        };
        if kind == Compression::None {
            let src = range(chunk.len())
                .and_then(|r| inline.get(r))
                .ok_or(corrupt(pos, "inline extent shorter than declared"))?;
            chunk.copy_from_slice(src);
            return Ok(());
        }
        if decoded > compress::MAX_DECODED as u64 {
            return Err(corrupt(pos, "inline extent larger than 128 KiB"));
        }
        let mut decoded_buf = self.fs.budget.zeroed(Layer::Fs, FORMAT, pos, decoded as usize)?;
        let sector = self.fs.sb.sector_size as usize;
        compress::decode(kind, inline, &mut decoded_buf, pos, sector, &self.fs.budget, self.fs.codecs.as_ref())?;
        let src = range(chunk.len()).and_then(|r| decoded_buf.get(r)).ok_or(corrupt(pos, "inline extent"))?;
        chunk.copy_from_slice(src);
        Ok(())
    }
}

impl<R: ReadAt> FileSystem for Btrfs<R> {
    fn kind(&self) -> &'static str {
        FORMAT
    }

    fn root(&self) -> NodeId {
        self.root_node
    }

    fn metadata(&self, node: NodeId) -> Result<Metadata> {
        let i = self.inode(node)?;
        Ok(Metadata::unix(node, i.mode as u16, i.uid, i.gid, i.size, i.mtime, i.nlink))
    }

    fn read_dir(&self, dir: NodeId, visit: &mut dyn FnMut(DirEntry<'_>) -> Result<Walk>) -> Result<()> {
        let inode = self.inode(dir)?;
        if FileType::from_mode(inode.mode as u16) != FileType::Directory {
            return Err(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::NotADirectory));
        }
        let (subvol, ino) = self.split_node(dir)?;
        let parent = if dir == self.root_node {
            dir
        } else if ino == SUBVOL_ROOT_DIR {
            self.subvolume_parent(subvol)?.unwrap_or(dir)
        } else {
            let tree = self.tree(subvol)?;
            let (from, to) = Key::range(ino, kind::INODE_REF);
            let mut parent = dir;
            self.walk(tree, from, to, &mut |key, _| {
                parent = self.node_id(subvol, key.offset)?;
                Ok(Walk::Stop)
            })?;
            parent
        };
        for (name, node) in [(&b"."[..], dir), (&b".."[..], parent)] {
            if visit(DirEntry { name, node })? == Walk::Stop {
                return Ok(());
            }
        }
        let tree = self.tree(subvol)?;
        let (from, to) = Key::range(ino, kind::DIR_INDEX);
        self.walk(tree, from, to, &mut |_, data| {
            for entry in dir_entries(data) {
                let entry = entry?;
                let node = match entry.location.kind {
                    kind::INODE_ITEM => self.node_id(subvol, entry.location.objectid)?,
                    kind::ROOT_ITEM => self.node_id(entry.location.objectid, SUBVOL_ROOT_DIR)?,
                    _ => return Err(corrupt(data.offset_of(0), "directory entry location type")),
                };
                if visit(DirEntry { name: entry.name, node })? == Walk::Stop {
                    return Ok(Walk::Stop);
                }
            }
            Ok(Walk::Continue)
        })
    }

    fn read_link(&self, node: NodeId) -> Result<Vec<u8>> {
        let inode = self.inode(node)?;
        if FileType::from_mode(inode.mode as u16) != FileType::Symlink {
            return Err(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::Corrupt("not a symbolic link")));
        }
        if inode.size > MAX_LINK {
            return Err(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::TooLong));
        }
        let file = self.file(node, inode)?;
        let mut target = alloc::vec![0u8; inode.size as usize];
        file.read_at(0, &mut target)?;
        Ok(target)
    }

    fn open_file(&self, node: NodeId) -> Result<Box<dyn ReadAt + '_>> {
        let inode = self.inode(node)?;
        if FileType::from_mode(inode.mode as u16) != FileType::Regular {
            return Err(Error::new(Layer::Fs, FORMAT, 0, ErrorKind::NotAFile));
        }
        Ok(Box::new(self.file(node, inode)?))
    }

    fn subvolumes(&self) -> Result<Vec<Subvolume>> {
        self.list_subvolumes()
    }

    fn warnings(&self) -> &[Error] {
        &self.warnings
    }
}

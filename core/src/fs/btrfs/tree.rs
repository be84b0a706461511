//! btrfs B-trees: nodes (a 101-byte header, then key pointers or items), read through a small
//! verified-node cache, searched and walked in key order.
//!
//! Every node is checked when loaded: checksum (crc32c), its own logical address, the
//! filesystem id, the level its parent expects (so a pointer back up the tree is caught), an
//! item count that fits, and strictly increasing keys. A walk yields keys in strictly
//! increasing order or stops with an error, so a crafted tree whose nodes share children
//! cannot make it loop.
//! Reference: include/uapi/linux/btrfs_tree.h (`btrfs_header`, `btrfs_item`,
//! `btrfs_key_ptr`), fs/btrfs/ctree.c.

use super::superblock::checksum_ok;
use super::{Btrfs, Key, FORMAT};
use crate::budget::{Budget, FixedVec};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use crate::fs::Walk;
use crate::io::ReadAt;
use core::cell::RefCell;

const HEADER: usize = 101;
const ITEM: usize = 25;
const KEY_PTR: usize = 33;
/// Deepest tree followed (the format's maximum is 8 levels).
pub(super) const MAX_LEVEL: u8 = 7;
/// Nodes kept in the cache.
const SLOTS: usize = 16;
/// Most copies of a tree block (RAID1C4 keeps four).
const MAX_COPIES: usize = 4;

/// A tree root: the logical address of its root node and that node's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Root {
    pub logical: u64,
    pub level: u8,
}

/// A verified node.
pub(super) struct Node<'a> {
    b: Bytes<'a>,
    level: u8,
    items: usize,
}

impl<'a> Node<'a> {
    fn parse(raw: &'a [u8], logical: u64, level: u8, fsid: &[u8; 16], csum_type: u16) -> Result<Self> {
        let b = Bytes::new(raw, logical, Layer::Fs, FORMAT);
        if !checksum_ok(csum_type, raw) {
            let stored = b.u32_le(0)?;
            let computed = super::superblock::crc32c(b.slice(32, raw.len() - 32)?);
            return Err(b.error(0, ErrorKind::BadChecksum { stored, computed }));
        }
        if b.u64_le(0x30)? != logical {
            return Err(b.corrupt(0x30, "tree block address (a misplaced block)"));
        }
        if &b.array::<16>(0x20)? != fsid {
            return Err(b.corrupt(0x20, "tree block of another filesystem"));
        }
        if b.u8(0x64)? != level {
            return Err(b.corrupt(0x64, "tree block level (a loop or a misplaced block)"));
        }
        let items = usize::try_from(b.u32_le(0x60)?).unwrap_or(usize::MAX);
        let per = if level == 0 { ITEM } else { KEY_PTR };
        if items == 0 || items.checked_mul(per).is_none_or(|n| HEADER + n > raw.len()) {
            return Err(b.corrupt(0x60, "tree block item count"));
        }
        let node = Node { b, level, items };
        for i in 1..items {
            if node.key(i)? <= node.key(i - 1)? {
                return Err(b.corrupt(HEADER + i * per, "tree block keys out of order (a key loop)"));
            }
        }
        if level == 0 {
            // Item data lies after the item headers and inside the block.
            for i in 0..items {
                let at = HEADER + i * ITEM;
                let (off, size) = (b.u32_le(at + 17)? as usize, b.u32_le(at + 21)? as usize);
                if HEADER + off < HEADER + items * ITEM
                    || off.checked_add(size).is_none_or(|end| HEADER + end > raw.len())
                {
                    return Err(b.corrupt(at + 17, "leaf item data location"));
                }
            }
        }
        Ok(node)
    }

    fn key(&self, i: usize) -> Result<Key> {
        let per = if self.level == 0 { ITEM } else { KEY_PTR };
        Key::parse(self.b.sub(HEADER + i * per, 17)?)
    }

    fn child(&self, i: usize) -> Result<u64> {
        self.b.u64_le(HEADER + i * KEY_PTR + 17)
    }

    fn item(&self, i: usize) -> Result<(Key, Bytes<'a>)> {
        let at = HEADER + i * ITEM;
        let (off, size) = (self.b.u32_le(at + 17)? as usize, self.b.u32_le(at + 21)? as usize);
        Ok((self.key(i)?, self.b.sub(HEADER + off, size)?))
    }

    /// The last entry whose key is `<= key`, if any.
    fn last_le(&self, key: &Key) -> Result<Option<usize>> {
        let (mut lo, mut hi) = (0usize, self.items);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.key(mid)? <= *key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo.checked_sub(1))
    }
}

struct Slot {
    logical: Option<u64>,
    level: u8,
    stamp: u64,
}

struct CacheState {
    data: FixedVec<u8>,
    slots: FixedVec<Slot>,
    clock: u64,
}

/// A few verified nodes, charged to the budget, least recently used evicted.
pub(super) struct NodeCache {
    node_size: usize,
    state: RefCell<CacheState>,
}

impl NodeCache {
    pub fn new(node_size: usize, budget: &Budget) -> Result<Self> {
        let data = budget.zeroed(Layer::Fs, FORMAT, 0, node_size * SLOTS)?;
        let mut slots = budget.fixed_vec(Layer::Fs, FORMAT, 0, SLOTS)?;
        for _ in 0..SLOTS {
            slots.push(Slot { logical: None, level: 0, stamp: 0 })?;
        }
        Ok(NodeCache { node_size, state: RefCell::new(CacheState { data, slots, clock: 0 }) })
    }
}

impl<R: ReadAt> Btrfs<R> {
    /// Runs `f` on the verified node at `logical`, which must be at `level`. `f` must not read
    /// other nodes (the cache is borrowed while it runs).
    fn with_node<T>(&self, logical: u64, level: u8, f: impl FnOnce(&Node<'_>) -> Result<T>) -> Result<T> {
        let size = self.cache.node_size;
        let mut guard = self
            .cache
            .state
            .try_borrow_mut()
            .map_err(|_| Error::new(Layer::Fs, FORMAT, logical, ErrorKind::Unsupported("re-entrant tree read")))?;
        let st = &mut *guard;
        st.clock += 1;
        let clock = st.clock;
        let index = match st.slots.iter().position(|s| s.logical == Some(logical) && s.level == level) {
            Some(i) => i,
            None => {
                let victim = st.slots.iter().enumerate().min_by_key(|(_, s)| s.stamp).map_or(0, |(i, _)| i);
                let buf = st.data.get_mut(victim * size..(victim + 1) * size).ok_or(Error::new(
                    Layer::Fs,
                    FORMAT,
                    logical,
                    ErrorKind::Corrupt("node cache"),
                ))?;
                if let Some(slot) = st.slots.get_mut(victim) {
                    slot.logical = None;
                }
                // A copy that cannot be read or fails verification is not the end: DUP and
                // RAID1 metadata have others (at most four: RAID1C4).
                let mut first_error = None;
                let mut loaded = false;
                for copy in 0..MAX_COPIES {
                    let verified = match self.logical().read_copy(logical, copy, buf) {
                        Ok(false) => break,
                        Ok(true) => Node::parse(buf, logical, level, &self.sb.fsid, self.sb.csum_type).map(|_| ()),
                        Err(e) => Err(e),
                    };
                    match verified {
                        Ok(()) => {
                            loaded = true;
                            break;
                        }
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                if !loaded {
                    return Err(first_error.unwrap_or(Error::new(
                        Layer::Fs,
                        FORMAT,
                        logical,
                        ErrorKind::Corrupt("tree block"),
                    )));
                }
                if let Some(slot) = st.slots.get_mut(victim) {
                    *slot = Slot { logical: Some(logical), level, stamp: clock };
                }
                victim
            }
        };
        if let Some(slot) = st.slots.get_mut(index) {
            slot.stamp = clock;
        }
        let raw = st.data.get(index * size..(index + 1) * size).ok_or(Error::new(
            Layer::Fs,
            FORMAT,
            logical,
            ErrorKind::Corrupt("node cache"),
        ))?;
        // Verified when loaded; parsing the header again is cheap and keeps the view honest.
        let node = Node { b: Bytes::new(raw, logical, Layer::Fs, FORMAT), level, items: 0 };
        let items = usize::try_from(node.b.u32_le(0x60)?).unwrap_or(0);
        f(&Node { items, ..node })
    }

    /// Calls `f` with the item of tree `root` whose key is the greatest `<= key`, if any.
    pub(super) fn find_le<T>(
        &self,
        root: Root,
        key: &Key,
        f: impl FnOnce(Key, Bytes<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let (mut logical, mut level) = (root.logical, root.level);
        if level > MAX_LEVEL {
            return Err(Error::new(
                Layer::Fs,
                FORMAT,
                logical,
                ErrorKind::LoopLimit("btrfs tree deeper than 8 levels"),
            ));
        }
        while level > 0 {
            let Some(child) = self.with_node(logical, level, |n| n.last_le(key)?.map(|i| n.child(i)).transpose())?
            else {
                return Ok(None);
            };
            logical = child;
            level -= 1;
        }
        let mut f = Some(f);
        self.with_node(logical, 0, |n| match n.last_le(key)? {
            Some(i) => {
                let (k, data) = n.item(i)?;
                f.take().map(|f| f(k, data)).transpose()
            }
            None => Ok(None),
        })
    }

    /// Calls `visit` for every item of tree `root` with `from <= key <= to`, in key order,
    /// until it returns [`Walk::Stop`]. Item data is copied out before `visit` runs, so it may
    /// read the trees itself.
    pub(super) fn walk(
        &self,
        root: Root,
        from: Key,
        to: Key,
        visit: &mut dyn FnMut(Key, Bytes<'_>) -> Result<Walk>,
    ) -> Result<()> {
        if root.level > MAX_LEVEL {
            return Err(Error::new(
                Layer::Fs,
                FORMAT,
                root.logical,
                ErrorKind::LoopLimit("btrfs tree deeper than 8 levels"),
            ));
        }
        // (node, level, next slot) from the root down; the slot of the leaf is the next item.
        let mut path: heapless::Vec<(u64, u8, usize), 8> = heapless::Vec::new();
        let mut scratch = self.budget.zeroed(Layer::Fs, FORMAT, root.logical, 0)?;
        let mut last: Option<Key> = None;
        // Descend to the first leaf that may hold `from`.
        let (mut logical, mut level) = (root.logical, root.level);
        loop {
            let start = self.with_node(logical, level, |n| Ok(n.last_le(&from)?.unwrap_or(0)))?;
            path.push((logical, level, start))
                .map_err(|_| Error::new(Layer::Fs, FORMAT, logical, ErrorKind::LoopLimit("btrfs tree depth")))?;
            if level == 0 {
                break;
            }
            logical = self.with_node(logical, level, |n| n.child(start))?;
            level -= 1;
        }
        loop {
            let Some(&(node, lvl, slot)) = path.last() else { return Ok(()) };
            // Next entry of the current node, or climb when it is exhausted.
            let step = self.with_node(node, lvl, |n| {
                if slot >= n.items {
                    return Ok(None);
                }
                if lvl == 0 {
                    let (key, data) = n.item(slot)?;
                    Ok(Some((key, Some(data.as_slice().len()), 0)))
                } else {
                    Ok(Some((n.key(slot)?, None, n.child(slot)?)))
                }
            })?;
            let Some((key, data_len, child)) = step else {
                // Node exhausted: back to its parent's next entry.
                path.pop();
                if let Some(top) = path.last_mut() {
                    top.2 += 1;
                }
                continue;
            };
            if key > to {
                return Ok(());
            }
            let Some(len) = data_len else {
                // Down into the child; the parent's slot moves on when the child is exhausted.
                path.push((child, lvl - 1, 0))
                    .map_err(|_| Error::new(Layer::Fs, FORMAT, node, ErrorKind::LoopLimit("btrfs tree depth")))?;
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.2 += 1;
            }
            if key < from {
                continue;
            }
            if last.is_some_and(|l| key <= l) {
                return Err(Error::new(
                    Layer::Fs,
                    FORMAT,
                    node,
                    ErrorKind::LoopLimit("btrfs tree (keys repeat: shared or looping blocks)"),
                ));
            }
            last = Some(key);
            self.budget.reuse(&mut scratch, Layer::Fs, FORMAT, node, len)?;
            let at = self.with_node(node, 0, |n| {
                let (_, data) = n.item(slot)?;
                if let Some(dst) = scratch.get_mut(..len) {
                    dst.copy_from_slice(data.as_slice());
                }
                Ok(data.offset_of(0))
            })?;
            let data = Bytes::new(scratch.get(..len).unwrap_or_default(), at, Layer::Fs, FORMAT);
            if visit(key, data)? == Walk::Stop {
                return Ok(());
            }
        }
    }
}

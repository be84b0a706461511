//! LVM2 text metadata: the grammar (`name = value`, `name { … }`, strings, integers, lists,
//! `#` comments) parsed with nom `complete` combinators into a small tree, then validated into
//! the volume group the rest of the reader uses.
//!
//! Reference: lvm2's lib/format_text/import_vsn1.c and the lvm2 metadata documentation
//! (`man lvm.conf`, "LVM2 metadata format").

#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use crate::budget::{Budget, Reservation};
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Layer, Result};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use nom::branch::alt;
use nom::bytes::complete::{take_till, take_while1};
use nom::character::complete::{char, digit1, multispace1};
use nom::combinator::{map, map_res, opt, recognize, value};
use nom::multi::many0;
use nom::sequence::pair;
use nom::{IResult, Parser};

const FORMAT: &str = "lvm2";
/// Deepest nesting of sections accepted (real metadata nests four deep).
const MAX_DEPTH: usize = 8;
/// Most physical volumes, logical volumes and segments taken from one VG.
const MAX_ITEMS: usize = 4096;
/// Most values (items, list elements) in one metadata text, in total: real metadata of a VG
/// with 4,096 LVs holds about 100,000.
const MAX_NODES: usize = 1 << 18;
/// What one value costs on the heap, charged as it is parsed: its slot in the parent's vector
/// (twice, as a growing vector may hold twice its length) plus its text.
const NODE_COST: usize = 2 * core::mem::size_of::<(String, Value)>();

/// A metadata value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// A list of values.
    List(Vec<Value>),
    /// A section of named items.
    Section(Vec<(String, Value)>),
}

impl Value {
    fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Section(items) => items.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    fn sections(&self) -> impl Iterator<Item = (&str, &Value)> {
        let items: &[(String, Value)] = match self {
            Value::Section(items) => items,
            _ => &[],
        };
        items.iter().filter(|(_, v)| matches!(v, Value::Section(_))).map(|(n, v)| (n.as_str(), v))
    }
}

type Parsed<'a, T> = IResult<&'a [u8], T>;

/// The cost of a metadata tree while it is parsed: every value counted against
/// [`MAX_NODES`] and charged to the scan's budget, so no text, however nested or long, builds
/// a tree larger than the budget allows.
struct Charge<'t> {
    text: Bytes<'t>,
    nodes: Cell<usize>,
    held: RefCell<Reservation>,
    /// Why the parse was stopped by the charge (reported instead of a grammar error).
    stopped: Cell<Option<Error>>,
}

impl Charge<'_> {
    /// Counts one value with `text_len` bytes of text, found at `at`; a failure stops the parse.
    fn node<'a>(
        &self,
        at: &'a [u8],
        text_len: usize,
    ) -> core::result::Result<(), nom::Err<nom::error::Error<&'a [u8]>>> {
        let stop = |e: Error| {
            self.stopped.set(Some(e));
            nom::Err::Failure(nom::error::Error::new(at, nom::error::ErrorKind::TooLarge))
        };
        let nodes = self.nodes.get().saturating_add(1);
        self.nodes.set(nodes);
        let offset = self.text.offset_of_suffix(at);
        if nodes > MAX_NODES {
            return Err(stop(Error::new(
                Layer::Volume,
                FORMAT,
                offset,
                ErrorKind::LoopLimit("values in LVM2 metadata"),
            )));
        }
        let mut held = self.held.try_borrow_mut().map_err(|_| {
            stop(Error::new(Layer::Volume, FORMAT, offset, ErrorKind::Corrupt("metadata parse re-entered")))
        })?;
        held.grow(Layer::Volume, FORMAT, offset, NODE_COST.saturating_add(text_len)).map_err(stop)
    }
}

/// Spaces, newlines and `#` comments.
fn blank(input: &[u8]) -> Parsed<'_, ()> {
    value((), many0(alt((value((), multispace1), value((), pair(char('#'), take_till(|c| c == b'\n'))))))).parse(input)
}

fn name(input: &[u8]) -> Parsed<'_, String> {
    map(take_while1(|c: u8| c.is_ascii_alphanumeric() || b"_.+-".contains(&c)), |n: &[u8]| {
        String::from_utf8_lossy(n).into_owned()
    })
    .parse(input)
}

/// A double-quoted string; `\\` and `\"` are the only escapes lvm2 writes.
fn string(input: &[u8]) -> Parsed<'_, String> {
    let (mut rest, _) = char('"').parse(input)?;
    let mut out = Vec::new();
    loop {
        let (after, chunk) = take_till(|c| c == b'"' || c == b'\\').parse(rest)?;
        out.extend_from_slice(chunk);
        let (after, quote_or_escape) = nom::number::complete::u8(after)?;
        if quote_or_escape == b'"' {
            return Ok((after, String::from_utf8_lossy(&out).into_owned()));
        }
        let (after, escaped) = nom::number::complete::u8(after)?;
        out.push(escaped);
        rest = after;
    }
}

fn int(input: &[u8]) -> Parsed<'_, i64> {
    map_res(recognize(pair(opt(char('-')), digit1)), |d: &[u8]| {
        core::str::from_utf8(d).map_err(|_| ()).and_then(|s| s.parse::<i64>().map_err(|_| ()))
    })
    .parse(input)
}

fn scalar(input: &[u8]) -> Parsed<'_, Value> {
    alt((map(string, Value::Str), map(int, Value::Int))).parse(input)
}

fn list<'a>(input: &'a [u8], charge: &Charge<'_>) -> Parsed<'a, Value> {
    let (mut rest, _) = char('[').parse(input)?;
    let mut items = Vec::new();
    loop {
        (rest, _) = blank(rest)?;
        if let Ok((after, _)) = char::<&[u8], nom::error::Error<&[u8]>>(']').parse(rest) {
            return Ok((after, Value::List(items)));
        }
        if !items.is_empty() {
            (rest, _) = char(',').parse(rest)?;
            (rest, _) = blank(rest)?;
        }
        let item;
        let at = rest;
        (rest, item) = scalar(rest)?;
        if items.len() >= MAX_ITEMS {
            return Err(nom::Err::Failure(nom::error::Error::new(rest, nom::error::ErrorKind::TooLarge)));
        }
        charge.node(at, text_len(&item))?;
        items.push(item);
    }
}

/// The items of a section body, up to (not including) its closing brace or the end of input.
fn items<'a>(mut input: &'a [u8], depth: usize, charge: &Charge<'_>) -> Parsed<'a, Vec<(String, Value)>> {
    let mut out = Vec::new();
    loop {
        (input, _) = blank(input)?;
        if input.is_empty() || input.first() == Some(&b'}') || input.first() == Some(&0) {
            return Ok((input, out));
        }
        let key;
        let at = input;
        (input, key) = name(input)?;
        (input, _) = blank(input)?;
        if let Ok((rest, _)) = char::<&[u8], nom::error::Error<&[u8]>>('{').parse(input) {
            if depth >= MAX_DEPTH {
                return Err(nom::Err::Failure(nom::error::Error::new(input, nom::error::ErrorKind::TooLarge)));
            }
            charge.node(at, key.len())?;
            let (rest, inner) = items(rest, depth.saturating_add(1), charge)?;
            let (rest, _) = char('}').parse(rest)?;
            input = rest;
            out.push((key, Value::Section(inner)));
        } else {
            let (rest, _) = char('=').parse(input)?;
            let (rest, _) = blank(rest)?;
            let (rest, v) = match list(rest, charge) {
                Err(nom::Err::Error(_)) => scalar(rest)?,
                other => other?,
            };
            charge.node(at, key.len().saturating_add(text_len(&v)))?;
            input = rest;
            out.push((key, v));
        }
        if out.len() > MAX_ITEMS {
            return Err(nom::Err::Failure(nom::error::Error::new(input, nom::error::ErrorKind::TooLarge)));
        }
    }
}

/// The text a scalar value holds on the heap.
fn text_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len(),
        _ => 0,
    }
}

/// A parsed metadata tree and the budget it is charged to (released when it is dropped).
#[derive(Debug)]
pub(super) struct Tree {
    /// The top-level section.
    pub root: Value,
    _charge: Reservation,
}

/// Parses a whole metadata text (found at `text.offset_of(0)` on its device), every value
/// charged to `budget`.
pub(super) fn parse(text: Bytes<'_>, budget: &Budget) -> Result<Tree> {
    let charge = Charge {
        text,
        nodes: Cell::new(0),
        held: RefCell::new(budget.reserve(Layer::Volume, FORMAT, text.offset_of(0), 0)?),
        stopped: Cell::new(None),
    };
    let parsed = items(text.as_slice(), 0, &charge);
    if let Some(e) = charge.stopped.take() {
        return Err(e);
    }
    let (rest, tree) = parsed.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => text.nom_error(e.input, "metadata text"),
        nom::Err::Incomplete(_) => text.corrupt(text.len(), "metadata text"),
    })?;
    if rest.first().is_some_and(|&c| c != 0) {
        return Err(text.nom_error(rest, "metadata text (unbalanced braces)"));
    }
    Ok(Tree { root: Value::Section(tree), _charge: charge.held.into_inner() })
}

/// A physical volume as the VG metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PvMeta {
    /// Key inside the VG (`pv0`), used by segments.
    pub key: String,
    /// PV UUID without dashes (as in the PV label).
    pub id: String,
    /// First sector of the data area on the PV.
    pub pe_start: u64,
    /// Physical extents on the PV.
    pub pe_count: u64,
}

/// One segment of a logical volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SegmentMeta {
    /// First logical extent.
    pub start_extent: u64,
    /// Extents in the segment.
    pub extent_count: u64,
    /// Segment type (`striped` for linear and striped LVs).
    pub kind: String,
    /// Stripe size in sectors (0 for a single stripe).
    pub stripe_size: u64,
    /// (PV key, first physical extent) per stripe.
    pub stripes: Vec<(String, u64)>,
}

/// A logical volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LvMeta {
    /// LV name.
    pub name: String,
    /// Whether the LV is visible (hidden LVs are parts of others: pool data, RAID images).
    pub visible: bool,
    /// Segments in logical order.
    pub segments: Vec<SegmentMeta>,
}

/// A volume group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct VgMeta {
    /// VG name.
    pub name: String,
    /// VG UUID.
    pub id: String,
    /// Metadata sequence number (higher is newer).
    pub seqno: u64,
    /// Extent size in sectors.
    pub extent_size: u64,
    /// Its physical volumes.
    pub pvs: Vec<PvMeta>,
    /// Its logical volumes.
    pub lvs: Vec<LvMeta>,
}

fn unsigned(v: &Value, key: &str, at: u64) -> Result<u64> {
    v.int(key).and_then(|i| u64::try_from(i).ok()).ok_or(Error::new(
        Layer::Volume,
        FORMAT,
        at,
        ErrorKind::Corrupt("metadata field missing or negative"),
    ))
}

/// Validates the parsed tree into a volume group (`at`: where the text is, for errors).
pub(super) fn volume_group(tree: &Value, at: u64) -> Result<VgMeta> {
    let bad = |what| Error::new(Layer::Volume, FORMAT, at, ErrorKind::Corrupt(what));
    let (name, vg) = tree.sections().next().ok_or(bad("metadata holds no volume group"))?;
    let extent_size = unsigned(vg, "extent_size", at)?;
    if extent_size == 0 || extent_size > 1 << 32 {
        return Err(bad("extent size"));
    }
    let mut pvs = Vec::new();
    for (key, pv) in vg.get("physical_volumes").map(|s| s.sections()).into_iter().flatten() {
        pvs.push(PvMeta {
            key: String::from(key),
            id: pv.str("id").ok_or(bad("physical volume without id"))?.chars().filter(|&c| c != '-').collect(),
            pe_start: unsigned(pv, "pe_start", at)?,
            pe_count: unsigned(pv, "pe_count", at)?,
        });
    }
    let mut lvs = Vec::new();
    let mut total_segments = 0usize;
    for (lv_name, lv) in vg.get("logical_volumes").map(|s| s.sections()).into_iter().flatten() {
        let visible = match lv.get("status") {
            Some(Value::List(flags)) => flags.iter().any(|f| *f == Value::Str(String::from("VISIBLE"))),
            _ => false,
        };
        let mut segments = Vec::new();
        for (_, seg) in lv.sections() {
            total_segments = total_segments.saturating_add(1);
            if total_segments > MAX_ITEMS {
                return Err(bad("more than 4096 segments in one volume group"));
            }
            let stripes = match seg.get("stripes") {
                Some(Value::List(items)) => items
                    .chunks(2)
                    .map(|pair| match pair {
                        [Value::Str(pv), Value::Int(pe)] => {
                            u64::try_from(*pe).map(|pe| (pv.clone(), pe)).map_err(|_| bad("stripe extent"))
                        }
                        _ => Err(bad("stripe list")),
                    })
                    .collect::<Result<Vec<_>>>()?,
                _ => Vec::new(),
            };
            segments.push(SegmentMeta {
                start_extent: unsigned(seg, "start_extent", at)?,
                extent_count: unsigned(seg, "extent_count", at)?,
                kind: String::from(seg.str("type").ok_or(bad("segment without type"))?),
                stripe_size: seg.int("stripe_size").and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                stripes,
            });
        }
        segments.sort_by_key(|s| s.start_extent);
        lvs.push(LvMeta { name: String::from(lv_name), visible, segments });
    }
    Ok(VgMeta {
        name: String::from(name),
        id: String::from(vg.str("id").ok_or(bad("volume group without id"))?),
        seqno: unsigned(vg, "seqno", at)?,
        extent_size,
        pvs,
        lvs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"vg0 {
id = "abc-def"
seqno = 3
format = "lvm2" # informational
status = ["RESIZEABLE", "READ", "WRITE"]
extent_size = 8192
physical_volumes {
pv0 {
id = "Pv0-uuid"
device = "/dev/loop0"
pe_start = 2048
pe_count = 10
}
}
logical_volumes {
root {
id = "lv-id"
status = ["READ", "WRITE", "VISIBLE"]
segment_count = 1
segment1 {
start_extent = 0
extent_count = 4
type = "striped"
stripe_count = 1
stripes = [
"pv0", 0
]
}
}
}
}
# Generated by LVM2: "quoted \"text\""
contents = "Text Format Volume Group"
version = 1
"#;

    #[test]
    fn parses_a_volume_group() {
        let budget = Budget::new(1 << 20);
        let tree = parse(Bytes::new(TEXT.as_bytes(), 0, Layer::Volume, FORMAT), &budget).unwrap();
        assert!(budget.used() > 0, "the tree is charged while it lives");
        let vg = volume_group(&tree.root, 0).unwrap();
        assert_eq!((vg.name.as_str(), vg.seqno, vg.extent_size), ("vg0", 3, 8192));
        assert_eq!(vg.pvs[0].id, "Pv0uuid");
        assert_eq!(vg.lvs[0].segments[0].stripes, [(String::from("pv0"), 0)]);
        assert!(vg.lvs[0].visible);
    }

    #[test]
    fn bad_text_is_an_error_with_its_offset() {
        let text = b"vg0 {\nid = \"x\"\nseqno = \n}";
        let budget = Budget::new(1 << 20);
        let e = parse(Bytes::new(text, 1000, Layer::Volume, FORMAT), &budget).unwrap_err();
        assert!(e.offset > 1000, "{e}");
        let deep = "a {".repeat(100);
        assert!(parse(Bytes::new(deep.as_bytes(), 0, Layer::Volume, FORMAT), &budget).is_err());
        assert_eq!(budget.used(), 0, "nothing is held after a failed parse");
    }

    #[test]
    fn the_whole_tree_is_bounded_not_only_each_section() {
        // Many small sections, each well under the per-section cap: the budget stops the tree.
        let wide: String = (0..20_000).map(|i| alloc::format!("s{i} {{ a = 1 b = \"xy\" }}\n")).collect();
        let budget = Budget::new(256 << 10);
        let e = parse(Bytes::new(wide.as_bytes(), 4096, Layer::Volume, FORMAT), &budget).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::MemoryLimit { .. }), "{e}");
        assert!(e.offset > 4096 && e.offset < 4096 + wide.len() as u64, "{e}");
        assert_eq!(budget.used(), 0);
        // And the node count, whatever the budget: 64 × 64 sections of 64 values each stay
        // under every per-section cap and add up to more than MAX_NODES.
        let inner = alloc::format!("y {{ {} }}\n", "a = 1 ".repeat(64));
        let many = alloc::format!("x {{ {} }}\n", inner.repeat(64)).repeat(64);
        let e = parse(Bytes::new(many.as_bytes(), 0, Layer::Volume, FORMAT), &Budget::new(1 << 30)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::LoopLimit("values in LVM2 metadata"));
    }
}

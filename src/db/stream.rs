//! The stream type, laid out as Redis lays it out (t_stream.c): an
//! ordered map from a node's master ID to a listpack node. A node starts
//! with its master entry (count, deleted, number of fields, the fields,
//! 0) and holds entries as flags, ms-delta, seq-delta, [number of fields,
//! fields,] values, lp-count. Entries with the master's fields only store
//! values (SAMEFIELDS); deleted entries stay as tombstones (DELETED) until
//! their node goes. Keeping Redis's bytes makes RDB saving a copy and
//! loading a validation.
//!
//! Consumer groups: a pending entries list (PEL) per group, ordered by ID,
//! and per consumer the IDs it owns.

use std::collections::{BTreeMap, BTreeSet};

use crate::persistence::compact::{backlen_size, lp_string_to_int, put_backlen, put_int, put_str};

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;
/// Redis refuses entries whose fields and values exceed this.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;
/// A group whose entries-read counter is unknown.
pub const INVALID_ENTRIES_READ: i64 = -1;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Debug, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID, or None past the maximum (Redis's streamIncrID).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// 128-bit big endian, as rax keys, RDB node keys and PEL IDs.
    pub fn to_be(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        Some(StreamId::new(
            u64::from_be_bytes(b[..8].try_into().ok()?),
            u64::from_be_bytes(b[8..].try_into().ok()?),
        ))
    }

    pub fn fmt(&self) -> String {
        format!("{}-{}", self.ms, self.seq)
    }
}

// ------------------------------------------------------------ listpack cursor

/// A listpack element: an integer or bytes inside the listpack.
#[derive(Clone, Copy, Debug)]
pub enum LpVal<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpVal<'_> {
    /// Integer value (strings holding an integer count as one), as
    /// lpGetIntegerIfValid.
    pub fn int(&self) -> Option<i64> {
        match self {
            LpVal::Int(n) => Some(*n),
            LpVal::Str(s) => crate::util::parse_i64(s),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            LpVal::Int(n) => n.to_string().into_bytes(),
            LpVal::Str(s) => s.to_vec(),
        }
    }

    /// Call `f` with the element's bytes (integers formatted on the stack).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            LpVal::Str(s) => f(s),
            LpVal::Int(n) => {
                let mut buf = itoa_buf(*n);
                let (b, len) = (&mut buf.0, buf.1);
                f(&b[b.len() - len..])
            }
        }
    }
}

fn itoa_buf(n: i64) -> ([u8; 21], usize) {
    let mut b = [0u8; 21];
    let mut i = b.len();
    let neg = n < 0;
    let mut u = n.unsigned_abs();
    loop {
        i -= 1;
        b[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        b[i] = b'-';
    }
    (b, 21 - i)
}

pub mod lp {
    //! Cursor operations over a listpack blob, by byte offset. Callers
    //! only walk listpacks that passed [`super::validate_node`], but every
    //! access is bounds-checked anyway: a bad offset yields None.
    use super::*;

    pub const HDR: usize = 6;
    pub const EOF: u8 = 0xFF;

    pub fn new() -> Vec<u8> {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[7, 0, 0, 0, 0, 0, EOF]);
        v
    }

    fn le(b: &[u8]) -> u64 {
        b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64)
    }

    fn sext(u: u64, bits: u32) -> i64 {
        let sh = 64 - bits;
        ((u << sh) as i64) >> sh
    }

    /// Decode the element at `p`: its value and encoded length (without
    /// the back-length).
    pub fn decode(lp: &[u8], p: usize) -> Option<(LpVal<'_>, usize)> {
        let e = *lp.get(p)?;
        let get = |a: usize, n: usize| lp.get(a..a.checked_add(n)?);
        Some(if e & 0x80 == 0 {
            (LpVal::Int((e & 0x7f) as i64), 1)
        } else if e & 0xC0 == 0x80 {
            let n = (e & 0x3f) as usize;
            (LpVal::Str(get(p + 1, n)?), 1 + n)
        } else if e & 0xE0 == 0xC0 {
            let u = (((e & 0x1f) as u64) << 8) | *lp.get(p + 1)? as u64;
            (LpVal::Int(sext(u, 13)), 2)
        } else if e & 0xF0 == 0xE0 {
            let n = (((e & 0x0f) as usize) << 8) | *lp.get(p + 1)? as usize;
            (LpVal::Str(get(p + 2, n)?), 2 + n)
        } else if e == 0xF0 {
            let n = le(get(p + 1, 4)?) as usize;
            (LpVal::Str(get(p + 5, n)?), 5 + n)
        } else {
            let w = match e {
                0xF1 => 2,
                0xF2 => 3,
                0xF3 => 4,
                0xF4 => 8,
                _ => return None,
            };
            let u = le(get(p + 1, w)?);
            (LpVal::Int(sext(u, 8 * w as u32)), 1 + w)
        })
    }

    pub fn get(lp: &[u8], p: usize) -> Option<LpVal<'_>> {
        decode(lp, p).map(|d| d.0)
    }

    pub fn get_int(lp: &[u8], p: usize) -> Option<i64> {
        get(lp, p)?.int()
    }

    /// Offset of the first element, None when empty.
    pub fn first(lp: &[u8]) -> Option<usize> {
        (*lp.get(HDR)? != EOF).then_some(HDR)
    }

    /// Offset of the element after the one at `p`, None at the end.
    pub fn next(lp: &[u8], p: usize) -> Option<usize> {
        let (_, l) = decode(lp, p)?;
        let np = p + l + backlen_size(l);
        (*lp.get(np)? != EOF).then_some(np)
    }

    /// Offset of the element before the one at `p` (or before the EOF).
    pub fn prev(lp: &[u8], p: usize) -> Option<usize> {
        if p <= HDR || p > lp.len() {
            return None;
        }
        let mut val = 0usize;
        let mut shift = 0;
        let mut q = p - 1;
        loop {
            let b = *lp.get(q)?;
            val |= ((b & 127) as usize) << shift;
            if b & 128 == 0 {
                break;
            }
            shift += 7;
            if shift > 28 || q <= HDR {
                return None;
            }
            q -= 1;
        }
        let start = p.checked_sub(backlen_size(val) + val)?;
        (start >= HDR).then_some(start)
    }

    pub fn last(lp: &[u8]) -> Option<usize> {
        prev(lp, lp.len().checked_sub(1)?)
    }

    fn set_header(lp: &mut [u8], count_delta: i64) {
        let total = lp.len() as u32;
        lp[0..4].copy_from_slice(&total.to_le_bytes());
        let n = le(&lp[4..6]);
        if n != u16::MAX as u64 {
            let nn = (n as i64 + count_delta).max(0) as u64;
            let nn = if nn >= u16::MAX as u64 {
                u16::MAX as u64
            } else {
                nn
            };
            lp[4..6].copy_from_slice(&(nn as u16).to_le_bytes());
        }
    }

    pub fn append_int(lp: &mut Vec<u8>, v: i64) {
        lp.pop();
        let l = put_int(lp, v);
        put_backlen(lp, l);
        lp.push(EOF);
        set_header(lp, 1);
    }

    /// Append bytes (stored as an integer when they are one, as lpAppend).
    pub fn append(lp: &mut Vec<u8>, s: &[u8]) {
        if let Some(v) = lp_string_to_int(s) {
            return append_int(lp, v);
        }
        lp.pop();
        let l = put_str(lp, s);
        put_backlen(lp, l);
        lp.push(EOF);
        set_header(lp, 1);
    }

    /// Replace the element at `p` with the integer `v`.
    pub fn replace_int(lp: &mut Vec<u8>, p: usize, v: i64) {
        let Some((_, l)) = decode(lp, p) else {
            return;
        };
        let old = l + backlen_size(l);
        let mut enc = Vec::with_capacity(12);
        let nl = put_int(&mut enc, v);
        put_backlen(&mut enc, nl);
        lp.splice(p..p + old, enc);
        set_header(lp, 0);
    }
}

// ------------------------------------------------------------ node parsing

/// One entry of a node, located by offsets into its listpack.
#[derive(Clone, Copy, Debug)]
pub struct EntryPos {
    pub id: StreamId,
    pub flags: i64,
    /// Offset of the flags element.
    pub flags_pos: usize,
    /// Offset of the first field (or value, for SAMEFIELDS entries).
    pub data_pos: usize,
    pub numfields: usize,
}

impl EntryPos {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
}

/// A node's master entry and every entry (tombstones included), in order.
pub struct NodeView {
    pub count: i64,
    pub deleted: i64,
    /// Offsets of the master fields.
    pub master_fields: Vec<usize>,
    pub entries: Vec<EntryPos>,
}

/// Walk a node. None when the listpack does not have the node layout.
pub fn parse_node(master: StreamId, lp: &[u8]) -> Option<NodeView> {
    let mut p = lp::first(lp)?;
    let count = lp::get_int(lp, p)?;
    p = lp::next(lp, p)?;
    let deleted = lp::get_int(lp, p)?;
    p = lp::next(lp, p)?;
    let nf = lp::get_int(lp, p)?;
    if nf < 0 {
        return None;
    }
    let mut master_fields = Vec::with_capacity(nf as usize);
    for _ in 0..nf {
        p = lp::next(lp, p)?;
        master_fields.push(p);
    }
    p = lp::next(lp, p)?; // master terminator
    if lp::get_int(lp, p)? != 0 {
        return None;
    }
    let mut entries = Vec::new();
    let mut cur = lp::next(lp, p);
    while let Some(fp) = cur {
        let flags = lp::get_int(lp, fp)?;
        let p1 = lp::next(lp, fp)?;
        let msd = lp::get_int(lp, p1)?;
        let p2 = lp::next(lp, p1)?;
        let seqd = lp::get_int(lp, p2)?;
        let mut q = lp::next(lp, p2)?;
        let numfields;
        let skip;
        if flags & FLAG_SAMEFIELDS != 0 {
            numfields = master_fields.len();
            skip = numfields;
        } else {
            let n = lp::get_int(lp, q)?;
            if n < 0 {
                return None;
            }
            numfields = n as usize;
            q = lp::next(lp, q)?;
            skip = numfields * 2;
        }
        let data_pos = q;
        // Step over the fields/values to the lp-count element.
        let mut last = q;
        for _ in 0..skip {
            last = lp::next(lp, last)?;
        }
        // With zero fields the lp-count is where the data would start.
        let countpos = if skip == 0 { data_pos } else { last };
        let id = StreamId::new(
            master.ms.wrapping_add(msd as u64),
            master.seq.wrapping_add(seqd as u64),
        );
        entries.push(EntryPos {
            id,
            flags,
            flags_pos: fp,
            data_pos,
            numfields,
        });
        cur = lp::next(lp, countpos);
    }
    Some(NodeView {
        count,
        deleted,
        master_fields,
        entries,
    })
}

/// The fields and values of an entry, in order.
pub fn entry_fields<'a>(
    lp: &'a [u8],
    node: &NodeView,
    e: &EntryPos,
) -> Vec<(LpVal<'a>, LpVal<'a>)> {
    let mut out = Vec::with_capacity(e.numfields);
    let mut p = Some(e.data_pos);
    if e.flags & FLAG_SAMEFIELDS != 0 {
        for &mf in &node.master_fields {
            let Some(vp) = p else { break };
            let (Some(f), Some(v)) = (lp::get(lp, mf), lp::get(lp, vp)) else {
                break;
            };
            out.push((f, v));
            p = lp::next(lp, vp);
        }
    } else {
        for _ in 0..e.numfields {
            let Some(fp) = p else { break };
            let Some(vp) = lp::next(lp, fp) else { break };
            let (Some(f), Some(v)) = (lp::get(lp, fp), lp::get(lp, vp)) else {
                break;
            };
            out.push((f, v));
            p = lp::next(lp, vp);
        }
    }
    out
}

/// Redis's streamValidateListpackIntegrity in its deep form: the
/// listpack's own structure, then the node layout with consistent
/// lp-counts and nothing after the last entry. Returns the entry count
/// it found (live + deleted) on success.
pub fn validate_node(lp: &[u8]) -> bool {
    // The listpack itself, with back-lengths and count.
    if crate::persistence::compact::lp_elems(lp, true).is_none() {
        return false;
    }
    let Some(mut p) = lp::first(lp) else {
        return false;
    };
    let next = |p: usize| lp::next(lp, p);
    let Some(entry_count) = lp::get_int(lp, p) else {
        return false;
    };
    let Some(np) = next(p) else { return false };
    p = np;
    let Some(deleted) = lp::get_int(lp, p) else {
        return false;
    };
    let Some(np) = next(p) else { return false };
    p = np;
    let Some(master_fields) = lp::get_int(lp, p) else {
        return false;
    };
    if master_fields < 0 {
        return false;
    }
    for _ in 0..master_fields {
        let Some(np) = next(p) else { return false };
        p = np;
    }
    let Some(np) = next(p) else { return false };
    p = np;
    if lp::get_int(lp, p) != Some(0) {
        return false;
    }
    let total = entry_count.saturating_add(deleted);
    if entry_count < 0 || deleted < 0 {
        return false;
    }
    let mut cur = next(p);
    for _ in 0..total {
        let Some(fp) = cur else { return false };
        let Some(flags) = lp::get_int(lp, fp) else {
            return false;
        };
        let mut q = fp;
        for _ in 0..2 {
            let Some(nq) = next(q) else { return false };
            if lp::get_int(lp, nq).is_none() {
                return false;
            }
            q = nq;
        }
        let mut fields = master_fields;
        let mut extra = 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            let Some(nq) = next(q) else { return false };
            q = nq;
            let Some(f) = lp::get_int(lp, q) else {
                return false;
            };
            if f < 0 {
                return false;
            }
            fields = f;
            for _ in 0..fields {
                let Some(nq) = next(q) else { return false };
                q = nq;
            }
            extra += fields + 1;
        }
        for _ in 0..fields {
            let Some(nq) = next(q) else { return false };
            q = nq;
        }
        let Some(cp) = next(q) else { return false };
        let Some(lpc) = lp::get_int(lp, cp) else {
            return false;
        };
        if lpc != fields + extra {
            return false;
        }
        cur = next(cp);
    }
    cur.is_none()
}

// ------------------------------------------------------------ groups

#[derive(Clone, Debug)]
pub struct Nack {
    /// Last delivery, unix ms.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// Name of the consumer that owns it.
    pub consumer: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct Consumer {
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Drop a PEL entry from the group and its owner.
    pub fn ack(&mut self, id: StreamId) -> Option<Nack> {
        let n = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&n.consumer) {
            c.pel.remove(&id);
        }
        Some(n)
    }

    /// Give a pending entry to `consumer` (which must exist).
    pub fn assign(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(n) = self.pel.get_mut(&id) else {
            return;
        };
        if n.consumer != consumer {
            if let Some(c) = self.consumers.get_mut(&n.consumer) {
                c.pel.remove(&id);
            }
            n.consumer = consumer.to_vec();
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Remove a consumer and its pending entries; returns how many it had.
    pub fn del_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }
}

// ------------------------------------------------------------ the stream

#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub rax: BTreeMap<StreamId, Vec<u8>>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    /// Consumer groups by name, created on demand.
    pub cgroups: Option<Box<BTreeMap<Vec<u8>, Group>>>,
}

/// Trimming strategy of XADD/XTRIM.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trim {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct TrimArgs {
    pub strategy: Trim,
    pub approx: bool,
    /// 0 = no limit.
    pub limit: i64,
}

/// Why an append failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the last one.
    IdTooSmall,
    TooLarge,
}

/// Node limits (stream-node-max-bytes / -entries).
#[derive(Clone, Copy)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: i64,
}

/// An entry copied out of the stream: its ID, fields and values.
pub type OwnedEntry = (StreamId, Vec<(Vec<u8>, Vec<u8>)>);

/// An entry as read out of the stream.
pub type Fields<'a> = Vec<(LpVal<'a>, LpVal<'a>)>;

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn groups(&self) -> impl Iterator<Item = (&Vec<u8>, &Group)> {
        self.cgroups.iter().flat_map(|g| g.iter())
    }

    pub fn group_count(&self) -> usize {
        self.cgroups.as_ref().map_or(0, |g| g.len())
    }

    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.cgroups.as_ref()?.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.cgroups.as_mut()?.get_mut(name)
    }

    /// Create a group; false when the name is taken.
    pub fn create_group(&mut self, name: &[u8], id: StreamId, entries_read: i64) -> bool {
        let g = self.cgroups.get_or_insert_with(Default::default);
        if g.contains_key(name) {
            return false;
        }
        g.insert(name.to_vec(), Group::new(id, entries_read));
        true
    }

    /// The ID a new entry gets: `use_id` as given (`seq_given`), its ms
    /// with the next sequence, or from the clock.
    fn next_id(&self, use_id: Option<StreamId>, seq_given: bool, now_ms: u64) -> Option<StreamId> {
        match use_id {
            Some(id) if seq_given => Some(id),
            Some(id) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        return None;
                    }
                    Some(StreamId::new(id.ms, self.last_id.seq + 1))
                } else {
                    Some(id)
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    Some(StreamId::new(now_ms, 0))
                } else {
                    self.last_id.incr().or(Some(StreamId::MIN))
                }
            }
        }
    }

    /// Redis's streamAppendItem. `fields` alternates field, value.
    pub fn append(
        &mut self,
        fields: &[&[u8]],
        use_id: Option<StreamId>,
        seq_given: bool,
        lim: NodeLimits,
        now_ms: u64,
    ) -> Result<StreamId, AppendError> {
        let id = self
            .next_id(use_id, seq_given, now_ms)
            .ok_or(AppendError::IdTooSmall)?;
        if id <= self.last_id {
            return Err(AppendError::IdTooSmall);
        }
        let numfields = fields.len() / 2;
        let totelelen: usize = fields.iter().map(|f| f.len()).sum();
        if totelelen > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let max_bytes = if lim.max_bytes == 0 || lim.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            lim.max_bytes
        };
        // Does the tail node take the entry?
        let mut tail = self.rax.last_key_value().map(|(k, _)| *k);
        if let Some(k) = tail {
            let lp = &self.rax[&k];
            let mut full = lp.len() + totelelen >= max_bytes;
            if !full && lim.max_entries > 0 {
                let p = lp::first(lp).unwrap_or(lp::HDR);
                let count = lp::get_int(lp, p).unwrap_or(0)
                    + lp::next(lp, p)
                        .and_then(|q| lp::get_int(lp, q))
                        .unwrap_or(0);
                full = count >= lim.max_entries;
            }
            if full {
                if let Some(lp) = self.rax.get_mut(&k) {
                    lp.shrink_to_fit();
                }
                tail = None;
            }
        }
        let mut flags = 0i64;
        let master = match tail {
            None => {
                let mut lp = lp::new();
                lp::append_int(&mut lp, 1);
                lp::append_int(&mut lp, 0);
                lp::append_int(&mut lp, numfields as i64);
                for i in 0..numfields {
                    lp::append(&mut lp, fields[i * 2]);
                }
                lp::append_int(&mut lp, 0);
                self.rax.insert(id, lp);
                flags |= FLAG_SAMEFIELDS;
                id
            }
            Some(k) => {
                let lp = self.rax.get_mut(&k).expect("tail node");
                let p = lp::first(lp).unwrap_or(lp::HDR);
                let count = lp::get_int(lp, p).unwrap_or(0);
                lp::replace_int(lp, p, count + 1);
                let same = (|| {
                    let p = lp::next(lp, p)?; // deleted
                    let mut p = lp::next(lp, p)?; // num fields
                    if lp::get_int(lp, p)? != numfields as i64 {
                        return None;
                    }
                    for i in 0..numfields {
                        p = lp::next(lp, p)?;
                        let eq = lp::get(lp, p)?.with_bytes(|b| b == fields[i * 2]);
                        if !eq {
                            return None;
                        }
                    }
                    Some(())
                })()
                .is_some();
                if same {
                    flags |= FLAG_SAMEFIELDS;
                }
                k
            }
        };
        let lp = self.rax.get_mut(&master).expect("node");
        lp::append_int(lp, flags);
        lp::append_int(lp, id.ms.wrapping_sub(master.ms) as i64);
        lp::append_int(lp, id.seq.wrapping_sub(master.seq) as i64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        if !same {
            lp::append_int(lp, numfields as i64);
        }
        for i in 0..numfields {
            if !same {
                lp::append(lp, fields[i * 2]);
            }
            lp::append(lp, fields[i * 2 + 1]);
        }
        let mut lp_count = numfields as i64 + 3;
        if !same {
            lp_count += numfields as i64 + 1;
        }
        lp::append_int(lp, lp_count);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Visit live entries with IDs in [start, end], ascending or (rev)
    /// descending, until `f` returns false.
    pub fn range<'a>(
        &'a self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, Fields<'a>) -> bool,
    ) {
        if start > end {
            return;
        }
        let visit = |k: &StreamId,
                     lp: &'a Vec<u8>,
                     f: &mut dyn FnMut(StreamId, Fields<'a>) -> bool|
         -> Option<bool> {
            let node = parse_node(*k, lp)?;
            let it: Box<dyn Iterator<Item = &EntryPos>> = if rev {
                Box::new(node.entries.iter().rev())
            } else {
                Box::new(node.entries.iter())
            };
            for e in it {
                if e.deleted() {
                    continue;
                }
                if rev {
                    if e.id > end {
                        continue;
                    }
                    if e.id < start {
                        return Some(false);
                    }
                } else {
                    if e.id < start {
                        continue;
                    }
                    if e.id > end {
                        return Some(false);
                    }
                }
                if !f(e.id, entry_fields(lp, &node, e)) {
                    return Some(false);
                }
            }
            Some(true)
        };
        if !rev {
            // The node holding `start` begins at the greatest master <= start.
            let from = self
                .rax
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(StreamId::MIN);
            for (k, lp) in self.rax.range(from..) {
                if *k > end {
                    break;
                }
                if visit(k, lp, &mut f) != Some(true) {
                    return;
                }
            }
        } else {
            for (k, lp) in self.rax.range(..=end).rev() {
                if visit(k, lp, &mut f) != Some(true) {
                    return;
                }
            }
        }
    }

    /// The first or last live entry ID (MIN/MAX-less: None when empty).
    pub fn edge_id(&self, first: bool) -> Option<StreamId> {
        let mut out = None;
        self.range(StreamId::MIN, StreamId::MAX, !first, |id, _| {
            out = Some(id);
            false
        });
        out
    }

    /// The ID of the last live entry, or 0-0.
    pub fn last_valid_id(&self) -> StreamId {
        self.edge_id(false).unwrap_or(StreamId::MIN)
    }

    pub fn exists(&self, id: StreamId) -> bool {
        let mut found = false;
        self.range(id, id, false, |_, _| {
            found = true;
            false
        });
        found
    }

    /// Mark one entry deleted (Redis's streamDeleteItem).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&k, _)) = self.rax.range(..=id).next_back() else {
            return false;
        };
        let lp = self.rax.get_mut(&k).expect("node");
        let Some(node) = parse_node(k, lp) else {
            return false;
        };
        let Some(e) = node.entries.iter().find(|e| e.id == id && !e.deleted()) else {
            return false;
        };
        if node.count <= 1 {
            self.rax.remove(&k);
        } else {
            lp::replace_int(lp, e.flags_pos, e.flags | FLAG_DELETED);
            // Header elements come before the flags: their offsets hold.
            let p = lp::HDR;
            lp::replace_int(lp, p, node.count - 1);
            if let Some(q) = lp::next(lp, p) {
                lp::replace_int(lp, q, node.deleted + 1);
            }
        }
        self.length -= 1;
        true
    }

    /// Redis's streamTrim: whole nodes first, then (unless approximate)
    /// entries of the first remaining node. Returns entries removed.
    pub fn trim(&mut self, args: &TrimArgs) -> i64 {
        if args.strategy == Trim::None {
            return 0;
        }
        let mut deleted: i64 = 0;
        let keys: Vec<StreamId> = self.rax.keys().copied().collect();
        for k in keys {
            if let Trim::MaxLen(m) = args.strategy {
                if self.length <= m {
                    break;
                }
            }
            let Some(node) = self.rax.get(&k).and_then(|lp| parse_node(k, lp)) else {
                break;
            };
            let entries = node.count;
            if args.limit != 0 && deleted + entries > args.limit {
                break;
            }
            let remove_node = match args.strategy {
                Trim::MaxLen(m) => self.length.saturating_sub(entries as u64) >= m,
                Trim::MinId(min) => node.entries.last().is_some_and(|e| e.id < min),
                Trim::None => false,
            };
            if remove_node {
                self.rax.remove(&k);
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            let lp = self.rax.get_mut(&k).expect("node");
            let mut from_lp = 0i64;
            // Flags are rewritten in place: each stays one byte (0..3),
            // so the offsets after it do not move.
            for e in &node.entries {
                let stop = match args.strategy {
                    Trim::MaxLen(m) => self.length <= m,
                    Trim::MinId(min) => e.id >= min,
                    Trim::None => true,
                };
                if stop {
                    break;
                }
                if !e.deleted() {
                    lp::replace_int(lp, e.flags_pos, e.flags | FLAG_DELETED);
                    from_lp += 1;
                    self.length -= 1;
                }
            }
            deleted += from_lp;
            let p = lp::HDR;
            lp::replace_int(lp, p, entries - from_lp);
            if let Some(q) = lp::next(lp, p) {
                lp::replace_int(lp, q, node.deleted + from_lp);
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted != 0 {
            self.first_id = self.edge_id(true).unwrap_or(StreamId::MIN);
        }
        deleted
    }

    /// Whether [start, end] may hold deleted entries (Redis's
    /// streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag, None when it cannot be known.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(g.last_id, None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let er = self.estimate_distance(g.last_id);
        (er != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - er)
    }

    /// A group delivered `id`: advance its last ID and read counter.
    pub fn group_delivered(&mut self, group: &[u8], id: StreamId) {
        let tomb = self.range_has_tombstones(id, None);
        let est = if self.entries_added != 0 {
            Some(self.estimate_distance(id))
        } else {
            None
        };
        let Some(g) = self.group_mut(group) else {
            return;
        };
        if id > g.last_id {
            if g.entries_read != INVALID_ENTRIES_READ && !tomb {
                g.entries_read += 1;
            } else if let Some(e) = est {
                g.entries_read = e;
            }
            g.last_id = id;
        }
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        let mut n = 96 + self.rax.len() * 48;
        for lp in self.rax.values() {
            n += lp.capacity();
        }
        for (name, g) in self.groups() {
            n += 96 + name.len() + g.pel.len() * 64;
            for (cn, c) in &g.consumers {
                n += 64 + cn.len() + c.pel.len() * 24;
            }
        }
        n
    }

    /// Number of nodes Redis's radix tree has for these node keys
    /// (XINFO radix-tree-nodes): a compressed trie over the 16-byte big
    /// endian IDs, counted as rax builds it (a node per shared run, per
    /// branch, and one per key end).
    pub fn rax_nodes(&self) -> usize {
        fn count(keys: &[[u8; 16]], depth: usize) -> usize {
            if keys.len() == 1 {
                return if depth == 16 { 1 } else { 2 };
            }
            // Shared run from `depth` (keys are sorted and distinct).
            let (first, last) = (&keys[0], &keys[keys.len() - 1]);
            let mut d = depth;
            while d < 16 && first[d] == last[d] {
                d += 1;
            }
            let mut n = usize::from(d > depth) + 1;
            let mut i = 0;
            while i < keys.len() {
                let c = keys[i][d];
                let j = i + keys[i..].iter().take_while(|k| k[d] == c).count();
                n += count(&keys[i..j], d + 1);
                i = j;
            }
            n
        }
        if self.rax.is_empty() {
            return 1;
        }
        let keys: Vec<[u8; 16]> = self.rax.keys().map(|k| k.to_be()).collect();
        count(&keys, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: NodeLimits = NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    };

    fn collect(s: &Stream, rev: bool) -> Vec<OwnedEntry> {
        let mut v = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, rev, |id, f| {
            v.push((
                id,
                f.iter().map(|(a, b)| (a.to_vec(), b.to_vec())).collect(),
            ));
            true
        });
        v
    }

    #[test]
    fn append_range_delete_trim() {
        let mut s = Stream::new();
        for i in 1..=10u64 {
            let v = i.to_string();
            let fields: Vec<&[u8]> = if i % 2 == 0 {
                vec![b"a", v.as_bytes()]
            } else {
                vec![b"a", v.as_bytes(), b"b", b"x"]
            };
            s.append(&fields, Some(StreamId::new(i, 0)), true, LIM, 0)
                .unwrap();
        }
        assert_eq!(s.rax.len(), 4);
        // Masters 1, 4, 7, 10: a 7-byte run, a branch, 4 x (run + end).
        assert_eq!(s.rax_nodes(), 10);
        for lp in s.rax.values() {
            assert!(validate_node(lp));
        }
        let all = collect(&s, false);
        assert_eq!(all.len(), 10);
        assert_eq!(all[1].1, vec![(b"a".to_vec(), b"2".to_vec())]);
        assert_eq!(all[2].1.len(), 2);
        let rev = collect(&s, true);
        assert_eq!(rev[0].0, StreamId::new(10, 0));
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.length, 9);
        for lp in s.rax.values() {
            assert!(validate_node(lp));
        }
        let n = s.trim(&TrimArgs {
            strategy: Trim::MaxLen(5),
            approx: false,
            limit: 0,
        });
        assert_eq!(n, 4);
        assert_eq!(s.length, 5);
        assert_eq!(s.first_id, StreamId::new(6, 0));
        assert_eq!(
            s.append(&[b"a", b"1"], Some(StreamId::new(3, 0)), true, LIM, 0),
            Err(AppendError::IdTooSmall)
        );
    }
}

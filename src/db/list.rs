//! The list type's in-memory representation: a deque of packed nodes, in
//! the spirit of Redis's quicklist. Each node is one byte buffer holding
//! its entries back to back as `len (varint) | bytes | len (reversed
//! varint)`, so a node can be walked from either end. Nodes are bounded by
//! `list-max-listpack-size` (negative: bytes, -1 = 4KB .. -5 = 64KB;
//! positive: entries per node).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Elements of at least this many bytes get a "plain" node of their own,
/// as Redis's quicklist does (1 GB by default; DEBUG
/// QUICKLIST-PACKED-THRESHOLD lowers it so tests can exercise plain nodes).
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(1 << 30);

/// Redis's quicklistisSetPackedThreshold: 0 restores the default; sizes
/// of 4 GB - 1 MB and more are refused.
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 { 1 << 30 } else { sz as usize };
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

#[inline]
fn is_large(n: usize) -> bool {
    n >= PACKED_THRESHOLD.load(Ordering::Relaxed)
}

fn varint_len(n: usize) -> usize {
    let mut n = n >> 7;
    let mut l = 1;
    while n > 0 {
        n >>= 7;
        l += 1;
    }
    l
}

/// Bytes an entry of `n` data bytes takes in a node.
fn entry_size(n: usize) -> usize {
    n + 2 * varint_len(n)
}

fn put_entry(out: &mut Vec<u8>, v: &[u8]) {
    let mut hdr = [0u8; 10];
    let mut n = v.len();
    let mut i = 0;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            hdr[i] = b;
            i += 1;
            break;
        }
        hdr[i] = b | 0x80;
        i += 1;
    }
    out.extend_from_slice(&hdr[..i]);
    out.extend_from_slice(v);
    for j in (0..i).rev() {
        out.push(hdr[j]);
    }
}

fn encode_entry(v: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(entry_size(v.len()));
    put_entry(&mut e, v);
    e
}

/// Read the entry starting at `pos`: (data start, data end, next pos).
#[inline]
fn read_fwd(buf: &[u8], pos: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut p = pos;
    loop {
        let b = buf[p];
        p += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let hl = p - pos;
    (p, p + n, p + n + hl)
}

/// Read the entry ending at `end`: (entry start, data start, data end).
#[inline]
fn read_back(buf: &[u8], end: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut p = end;
    loop {
        p -= 1;
        let b = buf[p];
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let hl = end - p;
    let dend = p;
    let dstart = dend - n;
    (dstart - hl, dstart, dend)
}

#[derive(Clone)]
struct Node {
    buf: Vec<u8>,
    count: u32,
    /// Bytes this node's entries would take as a Redis listpack (header
    /// and terminator included): Redis decides node fill, splits and
    /// merges on that size, and so does Ermine, so nodes split where
    /// Redis's would and RDB/DUMP output can match it.
    lp: usize,
    /// A "plain" node holding one element outside any listpack (loaded
    /// from an RDB that had one); nothing is ever added to it.
    plain: bool,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            buf: Vec::new(),
            count: 0,
            lp: LP_EMPTY,
            plain: false,
        }
    }
}

/// Bytes of an empty listpack (6-byte header + terminator).
const LP_EMPTY: usize = 7;

fn lp_size(v: &[u8]) -> usize {
    crate::persistence::compact::lp_entry_size(v)
}

/// Redis's byte limits for negative fill factors.
const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Redis's cap on node bytes for positive (count) fill factors.
const SAFETY_LIMIT: usize = 8192;

fn clamp_fill(fill: i64) -> i64 {
    fill.clamp(-5, 32767)
}

/// Redis's test for a node of `sz` (estimated) bytes and `count` entries.
fn fits(sz: usize, count: usize, fill: i64) -> bool {
    let fill = clamp_fill(fill);
    if fill < 0 {
        return sz <= LEVELS[(-fill - 1) as usize];
    }
    sz <= SAFETY_LIMIT && (count as i64) < fill
}

impl Node {
    /// Byte offset of the entry at `idx` (walking from the nearer end).
    fn offset_of(&self, idx: usize) -> usize {
        let count = self.count as usize;
        if idx <= count / 2 {
            let mut p = 0;
            for _ in 0..idx {
                p = read_fwd(&self.buf, p).2;
            }
            p
        } else {
            let mut p = self.buf.len();
            for _ in idx..count {
                p = read_back(&self.buf, p).0;
            }
            p
        }
    }

    fn get(&self, idx: usize) -> &[u8] {
        let p = self.offset_of(idx);
        let (s, e, _) = read_fwd(&self.buf, p);
        &self.buf[s..e]
    }

    fn iter(&self) -> NodeIter<'_> {
        NodeIter {
            buf: &self.buf,
            front: 0,
            back: self.buf.len(),
        }
    }
}

struct NodeIter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (s, e, n) = read_fwd(self.buf, self.front);
        self.front = n;
        Some(&self.buf[s..e])
    }
}

impl<'a> DoubleEndedIterator for NodeIter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (st, s, e) = read_back(self.buf, self.back);
        self.back = st;
        Some(&self.buf[s..e])
    }
}

/// A node from a listpack (header already checked) whose entries are all
/// strings under 64 bytes, checked as `lp_walk` would: such an entry is
/// 0x80|len, the bytes, then its back-length len+1, and ours is len, the
/// bytes, len, so the entries are moved at once and two bytes of each
/// patched. Err gives the blob back: some other entry, for the general
/// path (which also decides whether the blob is valid).
fn short_strings_node(blob: Cow<'_, [u8]>, deep: bool) -> Result<Node, Cow<'_, [u8]>> {
    let lp = &blob[..];
    let mut n = Node::default();
    let mut p = 6;
    let last = lp.len() - 1;
    while p < last {
        let e = lp[p];
        if e & 0xC0 != 0x80 {
            return Err(blob);
        }
        let len = (e & 0x3f) as usize;
        let end = p + 1 + len;
        if end >= last || lp[end] as usize != len + 1 {
            return Err(blob);
        }
        // Strings that look like integers would be integers in Redis's
        // listpack (and sized as such).
        n.lp += match lp.get(p + 1) {
            Some(c) if len > 0 && (c.is_ascii_digit() || *c == b'-') => lp_size(&lp[p + 1..end]),
            _ => len + 2,
        };
        n.count += 1;
        p = end + 1;
    }
    let numele = u16::from_le_bytes([lp[4], lp[5]]);
    if deep && numele != u16::MAX && numele as u32 != n.count {
        return Err(blob);
    }
    // 6-byte header and 1-byte terminator around the entries.
    let mut buf = match blob {
        Cow::Owned(mut v) => {
            v.copy_within(6..last, 0);
            v.truncate(last - 6);
            v
        }
        Cow::Borrowed(b) => b[6..last].to_vec(),
    };
    let mut p = 0;
    while p < buf.len() {
        let len = (buf[p] & 0x3f) as usize;
        buf[p] = len as u8;
        p += 1 + len;
        if let Some(b) = buf.get_mut(p) {
            *b = len as u8;
        }
        p += 1;
    }
    n.buf = buf;
    Ok(n)
}

#[derive(Clone, Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    /// Redis 7.0 reports every list as a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Can `node` take one more element of `vlen` bytes (Redis's
    /// _quicklistNodeAllowInsert: an estimate on the raw length)?
    fn allows(node: Option<&Node>, vlen: usize, fill: i64) -> bool {
        match node {
            Some(n) if !n.plain && !is_large(vlen) => fits(n.lp + vlen + 8, n.count as usize, fill),
            _ => false,
        }
    }

    /// Can two neighbouring nodes become one (_quicklistNodeAllowMerge)?
    fn allows_merge(a: &Node, b: &Node, fill: i64) -> bool {
        if a.plain || b.plain {
            return false;
        }
        let sz = (a.lp + b.lp).saturating_sub(11);
        let fill_c = clamp_fill(fill);
        if fill_c < 0 {
            return sz <= LEVELS[(-fill_c - 1) as usize];
        }
        sz <= SAFETY_LIMIT && (a.count + b.count) as i64 <= fill_c
    }

    fn single(v: &[u8]) -> Node {
        let mut n = Node {
            buf: Vec::with_capacity(entry_size(v.len()).max(64)),
            count: 1,
            lp: LP_EMPTY + lp_size(v),
            plain: false,
        };
        put_entry(&mut n.buf, v);
        n.plain = is_large(v.len());
        n
    }

    pub fn push_back(&mut self, v: &[u8], fill: i64) {
        if Self::allows(self.nodes.back(), v.len(), fill) {
            if let Some(n) = self.nodes.back_mut() {
                put_entry(&mut n.buf, v);
                n.count += 1;
                n.lp += lp_size(v);
            }
        } else {
            self.nodes.push_back(Self::single(v));
        }
        self.len += 1;
    }

    pub fn push_front(&mut self, v: &[u8], fill: i64) {
        if Self::allows(self.nodes.front(), v.len(), fill) {
            if let Some(n) = self.nodes.front_mut() {
                n.buf.splice(0..0, encode_entry(v));
                n.count += 1;
                n.lp += lp_size(v);
            }
        } else {
            self.nodes.push_front(Self::single(v));
        }
        self.len += 1;
    }

    /// Append a whole node as loaded from an RDB (kept as it was, as
    /// Redis does); `plain` marks a single-element plain node.
    pub fn push_node<'a, I: IntoIterator<Item = &'a [u8]>>(&mut self, elems: I, plain: bool) {
        let mut n = Node {
            plain,
            ..Node::default()
        };
        for v in elems {
            put_entry(&mut n.buf, v);
            n.count += 1;
            n.lp += lp_size(v);
        }
        if n.count > 0 {
            self.len += n.count as usize;
            self.nodes.push_back(n);
        }
    }

    /// Append a node built from a loaded listpack blob, without copying
    /// its elements anywhere else first (a blob we own, decompressed, may
    /// become the node itself); None (and the list unchanged) when the
    /// blob is invalid.
    pub fn push_listpack_node(&mut self, blob: Cow<'_, [u8]>, deep: bool) -> Option<()> {
        use crate::persistence::compact::{lp_check_header, lp_walk};
        if !lp_check_header(&blob) {
            return None;
        }
        let n = match short_strings_node(blob, deep) {
            Ok(n) => n,
            Err(blob) => {
                let lp = &blob[..];
                let mut n = Node::default();
                let mut tmp = [0u8; 24];
                n.buf.reserve_exact(lp.len() + lp.len() / 8);
                let count = lp_walk(lp, deep, |v| {
                    n.lp += v.entry_size();
                    put_entry(&mut n.buf, v.bytes(&mut tmp));
                })?;
                n.count = count as u32;
                n
            }
        };
        if n.count > 0 {
            self.len += n.count as usize;
            self.nodes.push_back(n);
        }
        Some(())
    }

    /// Each node's elements, head to tail, with its plain flag.
    pub fn nodes(&self) -> impl Iterator<Item = (bool, Vec<&[u8]>)> + '_ {
        self.nodes.iter().map(|n| (n.plain, n.iter().collect()))
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let (s, e, next) = read_fwd(&n.buf, 0);
        let v = n.buf[s..e].to_vec();
        n.buf.drain(0..next);
        n.count -= 1;
        n.lp -= lp_size(&v);
        if n.count == 0 {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(v)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let (st, s, e) = read_back(&n.buf, n.buf.len());
        let v = n.buf[s..e].to_vec();
        n.buf.truncate(st);
        n.count -= 1;
        n.lp -= lp_size(&v);
        if n.count == 0 {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(v)
    }

    /// (node index, index inside the node) of element `idx` (< len).
    fn locate(&self, idx: usize) -> (usize, usize) {
        if idx < self.len / 2 {
            let mut i = idx;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.count as usize {
                    return (ni, i);
                }
                i -= n.count as usize;
            }
        } else {
            let mut from_end = self.len - 1 - idx;
            for ni in (0..self.nodes.len()).rev() {
                let c = self.nodes[ni].count as usize;
                if from_end < c {
                    return (ni, c - 1 - from_end);
                }
                from_end -= c;
            }
        }
        (self.nodes.len() - 1, 0)
    }

    /// Element at `idx` (0-based from the head), if in range.
    pub fn get(&self, idx: usize) -> Option<&[u8]> {
        if idx >= self.len {
            return None;
        }
        let (ni, i) = self.locate(idx);
        Some(self.nodes[ni].get(i))
    }

    /// Replace element `idx`; false when out of range. Like Redis's
    /// quicklistReplaceEntry: in place inside a packed node, else the new
    /// value is inserted after the old one, which is then removed.
    pub fn set(&mut self, idx: usize, v: &[u8], fill: i64) -> bool {
        if idx >= self.len {
            return false;
        }
        let (ni, i) = self.locate(idx);
        let n = &mut self.nodes[ni];
        let large = is_large(v.len());
        if n.plain && large {
            n.buf.clear();
            put_entry(&mut n.buf, v);
            n.lp = LP_EMPTY + lp_size(v);
            return true;
        }
        if n.plain || large {
            self.insert_at(idx, true, v, fill);
            self.remove(idx);
            return true;
        }
        let p = n.offset_of(i);
        let (s, e, next) = read_fwd(&n.buf, p);
        n.lp = n.lp - lp_size(&n.buf[s..e]) + lp_size(v);
        n.buf.splice(p..next, encode_entry(v));
        true
    }

    /// Insert `v` into node `ni` at entry position `pos` (0..=count).
    fn node_insert(&mut self, ni: usize, pos: usize, v: &[u8]) {
        let n = &mut self.nodes[ni];
        let p = if pos >= n.count as usize {
            n.buf.len()
        } else {
            n.offset_of(pos)
        };
        n.buf.splice(p..p, encode_entry(v));
        n.count += 1;
        n.lp += lp_size(v);
    }

    /// Split node `ni` so that entries [0, at) stay and [at, count) move
    /// to a new node right after it.
    fn split_node(&mut self, ni: usize, at: usize) {
        let n = &mut self.nodes[ni];
        let off = if at >= n.count as usize {
            n.buf.len()
        } else {
            n.offset_of(at)
        };
        let tail = n.buf.split_off(off);
        let mut t = Node {
            buf: tail,
            count: n.count - at as u32,
            ..Node::default()
        };
        t.lp = LP_EMPTY + t.iter().map(lp_size).sum::<usize>();
        n.count = at as u32;
        n.lp = LP_EMPTY + n.iter().map(lp_size).sum::<usize>();
        self.nodes.insert(ni + 1, t);
    }

    /// Merge node `ni + 1` into node `ni`.
    fn merge_next(&mut self, ni: usize) {
        if let Some(b) = self.nodes.remove(ni + 1) {
            let a = &mut self.nodes[ni];
            a.buf.extend_from_slice(&b.buf);
            a.count += b.count;
            a.lp = a.lp + b.lp - LP_EMPTY;
        }
    }

    /// Redis's _quicklistMergeNodes around node `c` after a split.
    fn merge_around(&mut self, mut c: usize, fill: i64) {
        let ok = |l: &List, a: usize, b: usize| {
            b < l.nodes.len() && Self::allows_merge(&l.nodes[a], &l.nodes[b], fill)
        };
        // (prev_prev, prev)
        if c >= 2 && ok(self, c - 1, c - 2) {
            self.merge_next(c - 2);
            c -= 1;
        }
        // (next, next_next)
        if c + 2 < self.nodes.len() && ok(self, c + 1, c + 2) {
            self.merge_next(c + 1);
        }
        // (prev, center)
        let target = if c >= 1 && ok(self, c, c - 1) {
            self.merge_next(c - 1);
            c - 1
        } else {
            c
        };
        // (target, next)
        if target + 1 < self.nodes.len() && ok(self, target, target + 1) {
            self.merge_next(target);
        }
    }

    /// Insert `v` before (or after) the element at `idx`, as Redis's
    /// LINSERT does: into the pivot's node when it has room, else into a
    /// neighbour, a new node, or by splitting the pivot's node.
    pub fn insert_at(&mut self, idx: usize, after: bool, v: &[u8], fill: i64) {
        if self.nodes.is_empty() || idx >= self.len {
            return self.push_back(v, fill);
        }
        let (ni, off) = self.locate(idx);
        let count = self.nodes[ni].count as usize;
        let full = !Self::allows(Some(&self.nodes[ni]), v.len(), fill);
        let at_tail = after && off == count - 1;
        let at_head = !after && off == 0;
        if is_large(v.len()) {
            // A plain node of its own, next to the pivot's node, which is
            // split around the pivot first unless the value goes at one end.
            self.len += 1;
            let pos = if self.nodes[ni].plain || at_tail || at_head {
                if after {
                    ni + 1
                } else {
                    ni
                }
            } else {
                self.split_node(ni, if after { off + 1 } else { off });
                ni + 1
            };
            self.nodes.insert(pos, Self::single(v));
            return;
        }
        let avail_next = at_tail && Self::allows(self.nodes.get(ni + 1), v.len(), fill);
        let avail_prev = at_head && ni > 0 && Self::allows(self.nodes.get(ni - 1), v.len(), fill);
        self.len += 1;
        if !full {
            self.node_insert(ni, if after { off + 1 } else { off }, v);
        } else if at_tail && avail_next {
            self.node_insert(ni + 1, 0, v);
        } else if at_head && avail_prev {
            let c = self.nodes[ni - 1].count as usize;
            self.node_insert(ni - 1, c, v);
        } else if at_tail || at_head {
            let pos = if after { ni + 1 } else { ni };
            self.nodes.insert(pos, Self::single(v));
        } else if after {
            // The pivot's node keeps [0, off]; the new node gets the
            // value followed by the rest.
            self.split_node(ni, off + 1);
            self.node_insert(ni + 1, 0, v);
            self.merge_around(ni, fill);
        } else {
            // The new node gets [0, off) plus the value; the pivot's
            // node keeps [off, count).
            self.split_node(ni, off);
            self.node_insert(ni, off, v);
            self.merge_around(ni + 1, fill);
        }
    }

    /// Insert `v` so it becomes element `idx` (idx == len appends).
    pub fn insert(&mut self, idx: usize, v: &[u8], fill: i64) {
        if idx == 0 {
            return self.push_front(v, fill);
        }
        if idx >= self.len {
            return self.push_back(v, fill);
        }
        self.insert_at(idx, false, v, fill);
    }

    /// Remove `count` elements starting at `start`.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        if count == 0 || start >= self.len {
            return;
        }
        let count = count.min(self.len - start);
        let (mut ni, mut i) = self.locate(start);
        let mut left = count;
        while left > 0 && ni < self.nodes.len() {
            let n = &mut self.nodes[ni];
            let c = n.count as usize;
            let take = left.min(c - i);
            if take == c {
                self.nodes.remove(ni);
            } else {
                let a = n.offset_of(i);
                let b = if i + take == c {
                    n.buf.len()
                } else {
                    n.offset_of(i + take)
                };
                let gone: usize = NodeIter {
                    buf: &n.buf[a..b],
                    front: 0,
                    back: b - a,
                }
                .map(lp_size)
                .sum();
                n.buf.drain(a..b);
                n.count -= take as u32;
                n.lp -= gone;
                ni += 1;
            }
            left -= take;
            i = 0;
        }
        self.len -= count;
    }

    /// Remove the element at `idx`.
    pub fn remove(&mut self, idx: usize) {
        self.remove_range(idx, 1);
    }

    /// Remove the elements whose index has `drop[i]` set, in place (nodes
    /// left empty go away; no merging, as Redis's LREM).
    pub fn remove_marked(&mut self, drop: &[bool]) {
        let mut base = 0usize;
        let mut removed = 0usize;
        for n in self.nodes.iter_mut() {
            let c = n.count as usize;
            if (base..base + c).any(|i| drop.get(i).copied().unwrap_or(false)) {
                let mut buf = Vec::with_capacity(n.buf.len());
                let mut kept = 0u32;
                let mut lp = LP_EMPTY;
                for (k, v) in n.iter().enumerate() {
                    if drop.get(base + k).copied().unwrap_or(false) {
                        removed += 1;
                    } else {
                        put_entry(&mut buf, v);
                        kept += 1;
                        lp += lp_size(v);
                    }
                }
                n.buf = buf;
                n.count = kept;
                n.lp = lp;
            }
            base += c;
        }
        self.nodes.retain(|n| n.count > 0);
        self.len -= removed;
    }

    /// Every element from head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.nodes.iter().flat_map(|n| n.iter())
    }

    /// Elements from `start` (inclusive) onwards, head to tail.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let (ni, i) = if start < self.len {
            self.locate(start)
        } else {
            (self.nodes.len(), 0)
        };
        self.nodes
            .iter()
            .skip(ni)
            .enumerate()
            .flat_map(move |(k, n)| n.iter().skip(if k == 0 { i } else { 0 }))
    }

    /// Elements from `start` (inclusive) backwards towards the head.
    pub fn iter_rev_from(&self, start: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let (ni, i, nn) = if start < self.len {
            let (a, b) = self.locate(start);
            (a, b, self.nodes.len())
        } else {
            (0, 0, 0)
        };
        let nodes = &self.nodes;
        (0..nn).rev().filter(move |&k| k <= ni).flat_map(move |k| {
            let n = &nodes[k];
            let skip = if k == ni { n.count as usize - 1 - i } else { 0 };
            n.iter().rev().skip(skip)
        })
    }

    /// Build a list from elements.
    pub fn from_iter<'a, I: IntoIterator<Item = &'a [u8]>>(it: I, fill: i64) -> List {
        let mut l = List::new();
        for v in it {
            l.push_back(v, fill);
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_index() {
        let mut l = List::new();
        for i in 0..5000 {
            l.push_back(format!("v{i}").as_bytes(), -1);
            l.push_front(format!("f{i}").as_bytes(), 3);
        }
        assert_eq!(l.len(), 10000);
        assert_eq!(l.get(0).unwrap(), b"f4999");
        assert_eq!(l.get(9999).unwrap(), b"v4999");
        assert_eq!(l.get(5000).unwrap(), b"v0");
        let v: Vec<_> = l.iter_from(4998).take(3).collect();
        assert_eq!(v, vec![&b"f1"[..], b"f0", b"v0"]);
        let v: Vec<_> = l.iter_rev_from(5001).take(3).collect();
        assert_eq!(v, vec![&b"v1"[..], b"v0", b"f0"]);
        l.insert(5000, &[b'x'; 300], -2);
        assert_eq!(l.get(5000).unwrap(), &[b'x'; 300][..]);
        assert!(l.set(5000, b"y", -2));
        assert_eq!(l.get(5000).unwrap(), b"y");
        l.remove_range(10, 9000);
        assert_eq!(l.len(), 1001);
        assert_eq!(l.iter().count(), 1001);
        assert_eq!(l.pop_back().unwrap(), b"v4999");
        assert_eq!(l.pop_front().unwrap(), b"f4999");
        let big = vec![b'z'; 20000];
        l.push_back(&big, -2);
        assert_eq!(l.pop_back().unwrap(), big);
    }
}

//! The list type's in-memory representation: a deque of packed nodes, in
//! the spirit of Redis's quicklist. Each node is one byte buffer holding
//! its entries back to back as `len (varint) | bytes | len (reversed
//! varint)`, so a node can be walked from either end. Nodes are bounded by
//! `list-max-listpack-size` (negative: bytes, -1 = 4KB .. -5 = 64KB;
//! positive: entries per node).

use std::collections::VecDeque;

/// Bytes of a node's buffer allowed for a negative fill factor.
fn size_limit(fill: i64) -> usize {
    match fill {
        -1 => 4096,
        -2 => 8192,
        -3 => 16384,
        -4 => 32768,
        f if f <= -5 => 65536,
        _ => 8192,
    }
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

#[derive(Clone, Default)]
struct Node {
    buf: Vec<u8>,
    count: u32,
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

    fn allows(node: &Node, add: usize, fill: i64) -> bool {
        if fill >= 0 {
            let max = if fill == 0 { 1 } else { fill as usize };
            (node.count as usize) < max && node.buf.len() + add <= 8192
        } else {
            node.buf.len() + add <= size_limit(fill)
        }
    }

    /// Capacity to reserve for a fresh node (avoids doubling slack).
    fn node_cap(fill: i64, first: usize) -> usize {
        if fill < 0 {
            first.max(64)
        } else {
            first
        }
    }

    pub fn push_back(&mut self, v: &[u8], fill: i64) {
        let add = entry_size(v.len());
        match self.nodes.back_mut() {
            Some(n) if Self::allows(n, add, fill) => {
                put_entry(&mut n.buf, v);
                n.count += 1;
            }
            _ => {
                let mut n = Node {
                    buf: Vec::with_capacity(Self::node_cap(fill, add)),
                    count: 1,
                };
                put_entry(&mut n.buf, v);
                self.nodes.push_back(n);
            }
        }
        self.len += 1;
    }

    pub fn push_front(&mut self, v: &[u8], fill: i64) {
        let add = entry_size(v.len());
        match self.nodes.front_mut() {
            Some(n) if Self::allows(n, add, fill) => {
                let e = encode_entry(v);
                n.buf.splice(0..0, e);
                n.count += 1;
            }
            _ => {
                let mut n = Node {
                    buf: Vec::with_capacity(Self::node_cap(fill, add)),
                    count: 1,
                };
                put_entry(&mut n.buf, v);
                self.nodes.push_front(n);
            }
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let (s, e, next) = read_fwd(&n.buf, 0);
        let v = n.buf[s..e].to_vec();
        n.buf.drain(0..next);
        n.count -= 1;
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

    /// Replace element `idx`; false when out of range.
    pub fn set(&mut self, idx: usize, v: &[u8]) -> bool {
        if idx >= self.len {
            return false;
        }
        let (ni, i) = self.locate(idx);
        let n = &mut self.nodes[ni];
        let p = n.offset_of(i);
        let (_, _, next) = read_fwd(&n.buf, p);
        n.buf.splice(p..next, encode_entry(v));
        true
    }

    /// Insert `v` so it becomes element `idx` (idx == len appends).
    pub fn insert(&mut self, idx: usize, v: &[u8], fill: i64) {
        if idx == 0 {
            return self.push_front(v, fill);
        }
        if idx >= self.len {
            return self.push_back(v, fill);
        }
        let (ni, i) = self.locate(idx);
        let add = entry_size(v.len());
        let n = &mut self.nodes[ni];
        let p = n.offset_of(i);
        n.buf.splice(p..p, encode_entry(v));
        n.count += 1;
        self.len += 1;
        // Split an overfull node in two halves.
        let over = if fill >= 0 {
            let max = if fill == 0 { 1 } else { fill as usize };
            n.count as usize > max || n.buf.len() > 8192 + add
        } else {
            n.buf.len() > size_limit(fill)
        };
        if over && n.count > 1 {
            let half = n.count as usize / 2;
            let off = n.offset_of(half);
            let tail = n.buf.split_off(off);
            let tail_count = n.count - half as u32;
            n.count = half as u32;
            n.buf.shrink_to_fit();
            self.nodes.insert(
                ni + 1,
                Node {
                    buf: tail,
                    count: tail_count,
                },
            );
        }
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
                n.buf.drain(a..b);
                n.count -= take as u32;
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
        assert!(l.set(5000, b"y"));
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

//! The sorted set type's in-memory representation.
//!
//! Entries are kept ordered by (score, member) in a `ZTree`: a list of
//! sorted chunks with a Fenwick tree of chunk sizes, which gives O(log n)
//! rank lookups, rank-to-entry and score/lex range bounds. Small sorted
//! sets ("listpack") are just the tree with a single chunk, looked up
//! linearly; large ones ("skiplist") add a member -> score table.

use std::cell::{Cell, Ref, RefCell};
use std::cmp::Ordering;

use super::dict::hash_bytes;
use super::{Dict, SBytes};

pub const DEFAULT_MAX_LISTPACK_ENTRIES: usize = 128;
pub const DEFAULT_MAX_LISTPACK_VALUE: usize = 64;

/// Chunks split when they grow past this.
const CHUNK_MAX: usize = 128;

pub type Entry = (f64, SBytes);

#[inline]
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

#[derive(Default, Clone)]
pub struct ZTree {
    chunks: Vec<Vec<Entry>>,
    /// Fenwick tree (1-based) over chunk lengths. Only rank queries need
    /// it, so it is rebuilt lazily after chunks split or merge: a run of
    /// ZADDs never pays for it.
    fen: RefCell<Vec<usize>>,
    fen_ok: Cell<bool>,
    len: usize,
}

impl ZTree {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk index, up to date (O(chunks) after a split or merge).
    fn fen(&self) -> Ref<'_, Vec<usize>> {
        if !self.fen_ok.get() {
            let mut f = self.fen.borrow_mut();
            let k = self.chunks.len();
            f.clear();
            f.resize(k + 1, 0);
            for i in 1..=k {
                f[i] += self.chunks[i - 1].len();
                let j = i + (i & i.wrapping_neg());
                if j <= k {
                    let v = f[i];
                    f[j] += v;
                }
            }
            self.fen_ok.set(true);
        }
        self.fen.borrow()
    }

    /// Chunks were added or removed: the index must be rebuilt.
    fn reshaped(&mut self) {
        self.fen_ok.set(false);
    }

    fn fen_add(&mut self, ci: usize, delta: isize) {
        if !self.fen_ok.get() {
            return;
        }
        let k = self.chunks.len();
        let f = self.fen.get_mut();
        let mut j = ci + 1;
        while j <= k {
            f[j] = (f[j] as isize + delta) as usize;
            j += j & j.wrapping_neg();
        }
    }

    /// Entries in chunks before `ci`.
    fn prefix(&self, ci: usize) -> usize {
        let f = self.fen();
        let mut s = 0;
        let mut j = ci;
        while j > 0 {
            s += f[j];
            j &= j - 1;
        }
        s
    }

    /// (chunk, offset) of the entry at `rank` (< len).
    fn locate(&self, rank: usize) -> (usize, usize) {
        let k = self.chunks.len();
        // Common cases without the index: the first and last chunks.
        if let Some(first) = self.chunks.first() {
            if rank < first.len() {
                return (0, rank);
            }
        }
        if let Some(last) = self.chunks.last() {
            if rank + last.len() >= self.len && rank < self.len {
                return (k - 1, rank + last.len() - self.len);
            }
        }
        let f = self.fen();
        let mut pos = 0;
        let mut rem = rank;
        let mut step = if k == 0 {
            0
        } else {
            1 << (usize::BITS - 1 - k.leading_zeros())
        };
        while step > 0 {
            let nxt = pos + step;
            if nxt <= k && f[nxt] <= rem {
                pos = nxt;
                rem -= f[nxt];
            }
            step >>= 1;
        }
        (pos, rem)
    }

    pub fn get(&self, rank: usize) -> Option<&Entry> {
        if rank >= self.len {
            return None;
        }
        let (c, o) = self.locate(rank);
        self.chunks.get(c).and_then(|ch| ch.get(o))
    }

    /// Number of entries for which `before` holds; `before` must hold for
    /// a prefix of the order.
    pub fn partition_point<F: Fn(&Entry) -> bool>(&self, before: F) -> usize {
        // First chunk whose last entry is not "before".
        let ci = self
            .chunks
            .partition_point(|c| c.last().map(&before).unwrap_or(true));
        if ci >= self.chunks.len() {
            return self.len;
        }
        self.prefix(ci) + self.chunks[ci].partition_point(&before)
    }

    /// (chunk, offset) where (score, m) is or would be inserted.
    fn position(&self, score: f64, m: &[u8]) -> (usize, usize) {
        let before = |e: &Entry| cmp_entry(e.0, &e.1, score, m) == Ordering::Less;
        let ci = self
            .chunks
            .partition_point(|c| c.last().map(before).unwrap_or(true))
            .min(self.chunks.len().saturating_sub(1));
        match self.chunks.get(ci) {
            Some(c) => (ci, c.partition_point(before)),
            None => (0, 0),
        }
    }

    /// (chunk, offset) of an exact entry.
    fn find(&self, score: f64, m: &[u8]) -> Option<(usize, usize)> {
        let (ci, off) = self.position(score, m);
        match self.chunks.get(ci).and_then(|c| c.get(off)) {
            Some(e) if e.1.as_slice() == m => Some((ci, off)),
            _ => None,
        }
    }

    /// Rank of an exact entry.
    pub fn rank(&self, score: f64, m: &[u8]) -> Option<usize> {
        let (ci, off) = self.find(score, m)?;
        Some(self.prefix(ci) + off)
    }

    pub fn insert(&mut self, score: f64, m: SBytes) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![(score, m)]);
            self.len = 1;
            self.reshaped();
            return;
        }
        let (ci, pos) = self.position(score, &m);
        let c = &mut self.chunks[ci];
        c.insert(pos, (score, m));
        self.len += 1;
        if c.len() > CHUNK_MAX {
            let tail = c.split_off(c.len() / 2);
            self.chunks.insert(ci + 1, tail);
            self.reshaped();
        } else {
            self.fen_add(ci, 1);
        }
    }

    /// Remove an exact entry, returning its member.
    pub fn take(&mut self, score: f64, m: &[u8]) -> Option<SBytes> {
        let (ci, off) = self.find(score, m)?;
        let (_, member) = self.chunks[ci].remove(off);
        self.len -= 1;
        let n = self.chunks[ci].len();
        if n == 0 {
            self.chunks.remove(ci);
            self.reshaped();
        } else if ci + 1 < self.chunks.len() && n + self.chunks[ci + 1].len() <= CHUNK_MAX / 2 {
            let next = self.chunks.remove(ci + 1);
            self.chunks[ci].extend(next);
            self.reshaped();
        } else {
            self.fen_add(ci, -1);
        }
        Some(member)
    }

    pub fn remove(&mut self, score: f64, m: &[u8]) -> bool {
        self.take(score, m).is_some()
    }

    /// Remove ranks start..end, returning the removed entries.
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<Entry> {
        let end = end.min(self.len);
        if start >= end {
            return Vec::new();
        }
        // Fast path: the range lies inside one chunk (ZPOPMIN and friends).
        let (ci, off) = self.locate(start);
        if off + (end - start) <= self.chunks[ci].len() {
            let out: Vec<Entry> = self.chunks[ci].drain(off..off + (end - start)).collect();
            self.len -= out.len();
            if self.chunks[ci].is_empty() {
                self.chunks.remove(ci);
                self.reshaped();
            } else {
                self.fen_add(ci, -(out.len() as isize));
            }
            return out;
        }
        let mut out = Vec::with_capacity(end - start);
        let mut base = 0;
        for c in self.chunks.iter_mut() {
            let n = c.len();
            let (lo, hi) = (start.max(base), end.min(base + n));
            if lo < hi {
                out.extend(c.drain(lo - base..hi - base));
            }
            base += n;
        }
        // Merge undersized neighbours so chunks stay reasonably full.
        let mut merged: Vec<Vec<Entry>> = Vec::with_capacity(self.chunks.len());
        for c in std::mem::take(&mut self.chunks) {
            if c.is_empty() {
                continue;
            }
            match merged.last_mut() {
                Some(last) if last.len() + c.len() <= CHUNK_MAX / 2 => last.extend(c),
                _ => merged.push(c),
            }
        }
        self.chunks = merged;
        self.len -= out.len();
        self.reshaped();
        out
    }

    /// Build from entries already sorted by (score, member).
    pub fn from_sorted(v: Vec<Entry>) -> ZTree {
        let mut t = ZTree {
            len: v.len(),
            ..ZTree::default()
        };
        if v.len() <= CHUNK_MAX {
            if !v.is_empty() {
                t.chunks.push(v);
            }
        } else {
            let mut it = v.into_iter().peekable();
            while it.peek().is_some() {
                let c: Vec<Entry> = it.by_ref().take(CHUNK_MAX * 3 / 4).collect();
                t.chunks.push(c);
            }
        }
        t
    }

    /// Entries from `rank` onward.
    pub fn iter_from(&self, rank: usize) -> impl Iterator<Item = &Entry> + '_ {
        let (ci, off) = if rank >= self.len {
            (self.chunks.len(), 0)
        } else {
            self.locate(rank)
        };
        let first: &[Entry] = if ci < self.chunks.len() {
            &self.chunks[ci][off..]
        } else {
            &[]
        };
        let rest: &[Vec<Entry>] = if ci < self.chunks.len() {
            &self.chunks[ci + 1..]
        } else {
            &[]
        };
        first.iter().chain(rest.iter().flatten())
    }

    /// Entries from `rank` backwards to the first.
    pub fn iter_rev_from(&self, rank: usize) -> impl Iterator<Item = &Entry> + '_ {
        let (first, rest): (&[Entry], &[Vec<Entry>]) = if self.len == 0 {
            (&[], &[])
        } else {
            let (ci, off) = self.locate(rank.min(self.len - 1));
            (&self.chunks[ci][..=off], &self.chunks[..ci])
        };
        first
            .iter()
            .rev()
            .chain(rest.iter().rev().flat_map(|c| c.iter().rev()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.chunks.iter().flatten()
    }

    pub fn heap_size(&self) -> usize {
        let mut n = self.fen.borrow().capacity() * 8 + self.chunks.capacity() * 24;
        for c in &self.chunks {
            n += c.capacity() * 32;
            for e in c {
                n += e.1.heap_size();
            }
        }
        n
    }
}

#[derive(Default)]
pub struct ZSet {
    pub tree: ZTree,
    /// member -> score, present in the "skiplist" encoding.
    pub dict: Option<Dict<SBytes, f64>>,
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        ZSet {
            tree: self.tree.clone(),
            dict: self.dict.as_ref().map(|d| {
                let mut n = Dict::with_capacity(d.len());
                for (k, v) in d.iter() {
                    n.insert_new(k.clone(), *v);
                }
                n
            }),
        }
    }
}

/// Encoding thresholds (zset-max-listpack-entries / -value).
#[derive(Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: DEFAULT_MAX_LISTPACK_ENTRIES,
            value: DEFAULT_MAX_LISTPACK_VALUE,
        }
    }
}

impl ZSet {
    /// An empty sorted set with the encoding Redis picks for a new key
    /// whose first member has length `first_len`.
    pub fn new_for(lim: Limits, first_len: usize) -> ZSet {
        let mut z = ZSet::default();
        if lim.entries == 0 || first_len > lim.value {
            z.dict = Some(Dict::new());
        }
        z
    }

    pub fn encoding(&self) -> &'static str {
        if self.dict.is_some() {
            "skiplist"
        } else {
            "listpack"
        }
    }

    pub fn heap_size(&self) -> usize {
        let mut n = self.tree.heap_size();
        if let Some(d) = &self.dict {
            n += d.bucket_count() * 8 + d.len() * 48;
            for k in d.keys() {
                n += k.heap_size();
            }
        }
        n
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match &self.dict {
            Some(d) => d.get(m).copied(),
            None => self.tree.iter().find(|e| e.1.as_slice() == m).map(|e| e.0),
        }
    }

    fn convert_to_skiplist(&mut self) {
        if self.dict.is_some() {
            return;
        }
        let mut d = Dict::with_capacity(self.tree.len());
        for e in self.tree.iter() {
            d.insert_new(e.1.clone(), e.0);
        }
        self.dict = Some(d);
    }

    /// Insert or update a member's score. Returns the previous score.
    pub fn set(&mut self, m: &[u8], score: f64, lim: Limits) -> Option<f64> {
        self.upsert(m, lim, |_| Some(score)).0
    }

    /// Look a member up once (one hash of it), let `decide` pick the new
    /// score from the current one (None = leave it), and store it.
    /// Returns (previous score, score stored).
    pub fn upsert<F: FnOnce(Option<f64>) -> Option<f64>>(
        &mut self,
        m: &[u8],
        lim: Limits,
        decide: F,
    ) -> (Option<f64>, Option<f64>) {
        let mut h = match self.dict {
            Some(_) => hash_bytes(m),
            None => 0,
        };
        let old = match &self.dict {
            Some(d) => d.get_hashed(h, m).copied(),
            None => self.tree.iter().find(|e| e.1.as_slice() == m).map(|e| e.0),
        };
        let Some(mut score) = decide(old) else {
            return (old, None);
        };
        // A listpack stores "-0" as the integer 0.
        if score == 0.0 && self.dict.is_none() {
            score = 0.0;
        }
        if let Some(o) = old {
            if o == score {
                return (old, Some(score));
            }
            let member = self.tree.take(o, m).unwrap_or_else(|| SBytes::new(m));
            self.tree.insert(score, member);
            if let Some(d) = &mut self.dict {
                if let Some(v) = d.get_mut_hashed(h, m) {
                    *v = score;
                }
            }
            return (old, Some(score));
        }
        if self.dict.is_none() && (self.tree.len() + 1 > lim.entries || m.len() > lim.value) {
            self.convert_to_skiplist();
            h = hash_bytes(m);
        }
        self.tree.insert(score, SBytes::new(m));
        if let Some(d) = &mut self.dict {
            d.insert_new_hashed(h, SBytes::new(m), score);
        }
        (None, Some(score))
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.score(m) {
            Some(s) => {
                self.tree.remove(s, m);
                if let Some(d) = &mut self.dict {
                    d.remove(m);
                }
                true
            }
            None => false,
        }
    }

    /// Remove ranks start..end; returns the removed entries.
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<Entry> {
        let out = self.tree.remove_range(start, end);
        if let Some(d) = &mut self.dict {
            for e in &out {
                d.remove(&e.1);
            }
        }
        out
    }

    /// Rank of a member (ascending).
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        let s = self.score(m)?;
        self.tree.rank(s, m)
    }

    /// Build from unsorted (member, score) pairs with unique members,
    /// choosing the encoding by the final size (as Redis does for the
    /// destination of ZUNIONSTORE and friends).
    pub fn from_pairs(mut v: Vec<Entry>, lim: Limits) -> ZSet {
        v.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
        let maxlen = v.iter().map(|e| e.1.len()).max().unwrap_or(0);
        let skiplist = v.len() > lim.entries || maxlen > lim.value;
        if !skiplist {
            for e in v.iter_mut() {
                if e.0 == 0.0 {
                    e.0 = 0.0;
                }
            }
        }
        let tree = ZTree::from_sorted(v);
        let mut z = ZSet { tree, dict: None };
        if skiplist {
            z.convert_to_skiplist();
        }
        z
    }

    /// The dict for SCAN in skiplist encoding.
    pub fn dict(&self) -> Option<&Dict<SBytes, f64>> {
        self.dict.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_ranks() {
        let mut t = ZTree::default();
        for i in 0..2000u32 {
            let k = (i * 7919) % 2000;
            t.insert(k as f64, SBytes::new(format!("m{k}").as_bytes()));
        }
        assert_eq!(t.len(), 2000);
        for r in [0usize, 1, 500, 1999] {
            assert_eq!(t.get(r).unwrap().0, r as f64);
            assert_eq!(t.rank(r as f64, format!("m{r}").as_bytes()), Some(r));
        }
        assert_eq!(t.partition_point(|e| e.0 < 100.0), 100);
        let v: Vec<f64> = t.iter_from(1995).map(|e| e.0).collect();
        assert_eq!(v, vec![1995.0, 1996.0, 1997.0, 1998.0, 1999.0]);
        let v: Vec<f64> = t.iter_rev_from(2).map(|e| e.0).collect();
        assert_eq!(v, vec![2.0, 1.0, 0.0]);
        for i in 0..1000u32 {
            assert!(t.remove(i as f64, format!("m{i}").as_bytes()));
        }
        assert_eq!(t.len(), 1000);
        assert_eq!(t.get(0).unwrap().0, 1000.0);
        let gone = t.remove_range(10, 990);
        assert_eq!(gone.len(), 980);
        assert_eq!(t.len(), 20);
        assert_eq!(t.get(10).unwrap().0, 1990.0);
    }

    #[test]
    fn tree_matches_model() {
        let mut t = ZTree::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for step in 0..20000u64 {
            let r = crate::util::random_u64();
            let op = r % 10;
            let score = ((r >> 8) % 50) as f64;
            let m = format!("m{}", (r >> 20) % 3000).into_bytes();
            if op < 6 {
                if !model.iter().any(|e| e.1 == m) {
                    t.insert(score, SBytes::new(&m));
                    model.push((score, m));
                    model.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
                }
            } else if op < 9 {
                if let Some(i) = model.iter().position(|e| e.1 == m) {
                    let e = model.remove(i);
                    assert!(t.remove(e.0, &e.1));
                } else {
                    assert!(!t.remove(score, &m));
                }
            } else if !model.is_empty() {
                let a = (r >> 30) as usize % model.len();
                let b = (a + (r >> 40) as usize % 300).min(model.len());
                let gone = t.remove_range(a, b);
                let want: Vec<_> = model.drain(a..b).collect();
                assert_eq!(gone.len(), want.len());
            }
            assert_eq!(t.len(), model.len(), "step {step}");
            if step % 500 == 0 {
                let all: Vec<_> = t.iter().map(|e| (e.0, e.1.to_vec())).collect();
                assert_eq!(all, model);
                for (i, e) in model.iter().enumerate().step_by(37) {
                    assert_eq!(t.rank(e.0, &e.1), Some(i));
                    assert_eq!(t.get(i).map(|x| x.1.to_vec()), Some(e.1.clone()));
                }
                let pp = t.partition_point(|e| e.0 < 25.0);
                assert_eq!(pp, model.iter().filter(|e| e.0 < 25.0).count());
            }
        }
    }
}

#[cfg(test)]
mod encoding_tests {
    use super::*;

    #[test]
    fn listpack_to_skiplist() {
        let lim = Limits::default();
        let mut z = ZSet::new_for(lim, 1);
        for i in 0..128 {
            z.set(format!("m{i}").as_bytes(), i as f64, lim);
        }
        assert_eq!(z.encoding(), "listpack");
        z.set(b"one-more", 1.0, lim);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(b"m5"), Some(5.0));
        assert_eq!(z.rank(b"one-more"), Some(2));
        let mut y = ZSet::new_for(lim, 1);
        y.set(&[b'x'; 65], 1.0, lim);
        assert_eq!(y.encoding(), "skiplist");
        assert_eq!(ZSet::new_for(lim, 65).encoding(), "skiplist");
        let small = ZSet::from_pairs(
            vec![(2.0, SBytes::new(b"b")), (1.0, SBytes::new(b"a"))],
            lim,
        );
        assert_eq!(small.encoding(), "listpack");
        assert_eq!(small.rank(b"a"), Some(0));
    }
}

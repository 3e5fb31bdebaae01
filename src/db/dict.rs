//! A chained hash table with power-of-two bucket arrays, keyed by byte
//! strings. We own the table (rather than using std's HashMap) for two
//! things Redis users rely on: SCAN's reverse-binary cursor, which returns
//! every element present for the whole scan even across resizes, and
//! O(1) random sampling for RANDOMKEY, SPOP and the expire cycle.

use std::borrow::Borrow;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// SipHash key, random per process (from the OS, through std's RandomState).
static SEED: OnceLock<(u64, u64)> = OnceLock::new();

fn seed() -> (u64, u64) {
    *SEED.get_or_init(|| {
        let rs = std::collections::hash_map::RandomState::new();
        (rs.hash_one(0x5eed_u64), rs.hash_one(0xfeed_u64))
    })
}

/// SipHash-1-2 of a byte string with the process's random key: the keyed
/// hash Redis uses for its dicts (resistant to collision flooding), done
/// in one pass over the slice rather than through std's streaming Hasher.
#[inline]
pub fn hash_bytes(b: &[u8]) -> u64 {
    let (k0, k1) = seed();
    let mut v0 = 0x736f_6d65_7073_6575 ^ k0;
    let mut v1 = 0x646f_7261_6e64_6f6d ^ k1;
    let mut v2 = 0x6c79_6765_6e65_7261 ^ k0;
    let mut v3 = 0x7465_6462_7974_6573 ^ k1;
    macro_rules! round {
        () => {
            v0 = v0.wrapping_add(v1);
            v1 = v1.rotate_left(13);
            v1 ^= v0;
            v0 = v0.rotate_left(32);
            v2 = v2.wrapping_add(v3);
            v3 = v3.rotate_left(16);
            v3 ^= v2;
            v0 = v0.wrapping_add(v3);
            v3 = v3.rotate_left(21);
            v3 ^= v0;
            v2 = v2.wrapping_add(v1);
            v1 = v1.rotate_left(17);
            v1 ^= v2;
            v2 = v2.rotate_left(32);
        };
    }
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let m = u64::from_le_bytes(w);
        v3 ^= m;
        round!();
        v0 ^= m;
    }
    let mut last = (b.len() as u64) << 56;
    for (i, &x) in chunks.remainder().iter().enumerate() {
        last |= (x as u64) << (8 * i);
    }
    v3 ^= last;
    round!();
    v0 ^= last;
    v2 ^= 0xff;
    round!();
    round!();
    v0 ^ v1 ^ v2 ^ v3
}

#[inline]
fn prefetch_read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint; it never faults or reads
        // memory visibly, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

struct Node<K, V> {
    key: K,
    val: V,
    next: Option<Box<Node<K, V>>>,
}

type Bucket<K, V> = Option<Box<Node<K, V>>>;

/// Free a chain iteratively, so long chains cannot overflow the stack.
fn drop_chain<K, V>(b: &mut Bucket<K, V>) {
    let mut head = b.take();
    while let Some(mut n) = head {
        head = n.next.take();
    }
}

fn new_table<K, V>(n: usize) -> Vec<Bucket<K, V>> {
    let mut t = Vec::with_capacity(n);
    t.resize_with(n, || None);
    t
}

/// Buckets moved per rehash step, and empty buckets visited at most per
/// moved one (Redis's dictRehash(d, 1) with its empty_visits = n * 10).
const EMPTY_VISITS: usize = 10;

/// Tables with at most this many entries are resized in one go.
const SMALL_TABLE: usize = 128;

/// Like Redis's dict: two tables while a resize is in progress, entries
/// moved over a bucket at a time by later writes (and the cron), so growing
/// or shrinking a big table never stalls the server.
pub struct Dict<K, V> {
    /// `tables[0]` is the table in use; `tables[1]` the one being filled
    /// during a rehash (empty otherwise).
    tables: [Vec<Bucket<K, V>>; 2],
    /// Entries in each table.
    used: [usize; 2],
    /// Next bucket of `tables[0]` to move, or None when not rehashing.
    rehash_idx: Option<usize>,
}

impl<K, V> Default for Dict<K, V> {
    fn default() -> Self {
        Dict {
            tables: [Vec::new(), Vec::new()],
            used: [0, 0],
            rehash_idx: None,
        }
    }
}

impl<K: Borrow<[u8]>, V> Dict<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        let mut d = Self::default();
        if n > 0 {
            d.tables[0] = new_table(n.next_power_of_two().max(4));
        }
        d
    }

    /// Size an empty table for `n` entries, so that inserting them does
    /// not grow it (Redis's dictExpand on RESIZEDB when loading). A table
    /// holding entries is left to grow as usual.
    pub fn reserve(&mut self, n: usize) {
        let size = n.next_power_of_two().max(4);
        if self.is_empty() && !self.is_rehashing() && size > self.tables[0].len() {
            self.tables[0] = new_table(size);
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.used[0] + self.used[1]
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of buckets (for INFO / DEBUG HTSTATS and memory estimates).
    pub fn bucket_count(&self) -> usize {
        self.tables[0].len() + self.tables[1].len()
    }

    #[inline]
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// (table, bucket) holding the key of hash `h`, if present.
    #[inline]
    fn find_slot(&self, h: u64, key: &[u8]) -> Option<(usize, usize)> {
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in 0..tables {
            let tab = &self.tables[t];
            if tab.is_empty() {
                continue;
            }
            let idx = h as usize & (tab.len() - 1);
            let mut cur = tab[idx].as_deref();
            while let Some(n) = cur {
                if n.key.borrow() == key {
                    return Some((t, idx));
                }
                cur = n.next.as_deref();
            }
        }
        None
    }

    fn node_mut(&mut self, t: usize, idx: usize, key: &[u8]) -> Option<&mut Node<K, V>> {
        let mut cur = self.tables[t][idx].as_deref_mut();
        while let Some(n) = cur {
            if n.key.borrow() == key {
                return Some(n);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        self.kv_hashed(hash_bytes(key), key)
    }

    fn kv_hashed(&self, h: u64, key: &[u8]) -> Option<(&K, &V)> {
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in 0..tables {
            let tab = &self.tables[t];
            if tab.is_empty() {
                continue;
            }
            let mut cur = tab[h as usize & (tab.len() - 1)].as_deref();
            while let Some(n) = cur {
                if n.key.borrow() == key {
                    return Some((&n.key, &n.val));
                }
                cur = n.next.as_deref();
            }
        }
        None
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        self.get_mut_hashed(hash_bytes(key), key)
    }

    /// `get` with the key's hash already computed (`hash_bytes`).
    pub fn get_hashed(&self, h: u64, key: &[u8]) -> Option<&V> {
        self.kv_hashed(h, key).map(|(_, v)| v)
    }

    /// `get_mut` with the key's hash already computed (`hash_bytes`).
    pub fn get_mut_hashed(&mut self, h: u64, key: &[u8]) -> Option<&mut V> {
        self.rehash_step();
        let (t, idx) = self.find_slot(h, key)?;
        self.node_mut(t, idx, key).map(|n| &mut n.val)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Insert or replace; returns the previous value. The key is hashed
    /// once.
    pub fn insert(&mut self, key: K, val: V) -> Option<V> {
        let h = hash_bytes(key.borrow());
        self.insert_hashed(h, key, val)
    }

    /// Start fetching into the cache what inserting or finding a key of
    /// hash `h` reads: its bucket, or (`chain`, once the bucket is cached)
    /// the first entry there. Bulk inserts (loading) ask a few keys
    /// ahead, so that those memory accesses overlap instead of stalling
    /// one after another.
    #[inline]
    pub fn prefetch(&self, h: u64, chain: bool) {
        let tab = &self.tables[usize::from(self.is_rehashing())];
        if tab.is_empty() {
            return;
        }
        let slot = &tab[h as usize & (tab.len() - 1)];
        if !chain {
            prefetch_read(slot as *const Bucket<K, V>);
        } else if let Some(n) = slot.as_deref() {
            prefetch_read(n as *const Node<K, V>);
        }
    }

    /// `insert` with the key's hash already computed (`hash_bytes`).
    pub fn insert_hashed(&mut self, h: u64, key: K, val: V) -> Option<V> {
        self.rehash_step();
        if let Some((t, idx)) = self.find_slot(h, key.borrow()) {
            let n = self.node_mut(t, idx, key.borrow())?;
            return Some(std::mem::replace(&mut n.val, val));
        }
        self.link_new(h, key, val);
        None
    }

    /// The value under `key`, inserting `make()` first when absent (one
    /// hash computation either way). The flag says whether it was inserted.
    pub fn get_or_insert_with<F: FnOnce() -> (K, V)>(
        &mut self,
        key: &[u8],
        make: F,
    ) -> (&mut V, bool) {
        self.rehash_step();
        let h = hash_bytes(key);
        let (t, idx, inserted) = match self.find_slot(h, key) {
            Some((t, idx)) => (t, idx, false),
            None => {
                let (k, v) = make();
                let (t, idx) = self.link_new(h, k, v);
                (t, idx, true)
            }
        };
        let n = self
            .node_mut(t, idx, key)
            .expect("entry just found or linked");
        (&mut n.val, inserted)
    }

    /// Insert a key known to be absent.
    pub fn insert_new(&mut self, key: K, val: V) {
        let h = hash_bytes(key.borrow());
        self.insert_new_hashed(h, key, val);
    }

    /// `insert_new` with the key's hash already computed (`hash_bytes`).
    pub fn insert_new_hashed(&mut self, h: u64, key: K, val: V) {
        self.rehash_step();
        self.link_new(h, key, val);
    }

    /// Link a new node at the head of its bucket: in the new table while
    /// rehashing. Returns where it went.
    fn link_new(&mut self, h: u64, key: K, val: V) -> (usize, usize) {
        self.expand_if_needed();
        let t = if self.is_rehashing() { 1 } else { 0 };
        let tab = &mut self.tables[t];
        let idx = h as usize & (tab.len() - 1);
        let next = tab[idx].take();
        tab[idx] = Some(Box::new(Node { key, val, next }));
        self.used[t] += 1;
        (t, idx)
    }

    /// Start growing (to twice the entries) when full, as Redis's
    /// _dictExpandIfNeeded with a fill ratio of 1.
    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let size = self.tables[0].len();
        if size == 0 {
            self.tables[0] = new_table(4);
        } else if self.used[0] >= size {
            self.start_rehash((self.used[0] + 1).next_power_of_two().max(size * 2));
        }
    }

    fn start_rehash(&mut self, n: usize) {
        if n == self.tables[0].len() {
            return;
        }
        self.tables[1] = new_table(n);
        self.rehash_idx = Some(0);
        // Small tables are moved at once: no latency to save there, and
        // random sampling (SRANDMEMBER, SPOP) stays as even as in one table.
        if self.used[0] <= SMALL_TABLE {
            while self.rehash(SMALL_TABLE) {}
        }
    }

    fn finish_rehash(&mut self) {
        self.tables[0] = std::mem::take(&mut self.tables[1]);
        self.used[0] = self.used[1];
        self.used[1] = 0;
        self.rehash_idx = None;
    }

    /// Move up to `n` buckets to the new table; false when done.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * EMPTY_VISITS;
        let mut left = n;
        let mask1 = self.tables[1].len() - 1;
        while left > 0 && self.used[0] > 0 {
            while self.tables[0][idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut head = self.tables[0][idx].take();
            while let Some(mut node) = head {
                head = node.next.take();
                let j = hash_bytes(node.key.borrow()) as usize & mask1;
                node.next = self.tables[1][j].take();
                self.tables[1][j] = Some(node);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            idx += 1;
            left -= 1;
        }
        if self.used[0] == 0 {
            self.finish_rehash();
            // Deletes during the rehash may call for a smaller table still.
            self.maybe_shrink();
            return self.is_rehashing();
        }
        self.rehash_idx = Some(idx);
        true
    }

    #[inline]
    fn rehash_step(&mut self) {
        if self.rehash_idx.is_some() {
            self.rehash(1);
        }
    }

    /// Rehash for about `us` microseconds (the cron's activerehashing);
    /// true if work remains.
    pub fn rehash_for(&mut self, us: u64) -> bool {
        let start = std::time::Instant::now();
        while self.rehash(100) {
            if start.elapsed().as_micros() as u64 >= us {
                return true;
            }
        }
        false
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<(K, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = hash_bytes(key);
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in 0..tables {
            if self.tables[t].is_empty() {
                continue;
            }
            let idx = h as usize & (self.tables[t].len() - 1);
            let mut link = &mut self.tables[t][idx];
            loop {
                match link {
                    None => break,
                    Some(n) if n.key.borrow() == key => {
                        let mut node = link.take()?;
                        *link = node.next.take();
                        self.used[t] -= 1;
                        self.maybe_shrink();
                        return Some((node.key, node.val));
                    }
                    Some(n) => link = &mut n.next,
                }
            }
        }
        None
    }

    fn maybe_shrink(&mut self) {
        // Same fill threshold as Redis (10%), never below 4 buckets.
        let size = self.tables[0].len();
        let used = self.len();
        if !self.is_rehashing() && size > 4 && used * 10 < size {
            self.start_rehash(used.next_power_of_two().max(4));
        }
    }

    pub fn clear(&mut self) {
        for t in self.tables.iter_mut() {
            for b in t.iter_mut() {
                drop_chain(b);
            }
            *t = Vec::new();
        }
        self.used = [0, 0];
        self.rehash_idx = None;
    }

    /// Visit the buckets at `cursor` and return the next cursor (0 when the
    /// scan is complete), with Redis's reverse-binary increment; during a
    /// rehash both tables are visited as Redis's dictScan does, so every
    /// entry present for the whole scan is still returned.
    pub fn scan<F: FnMut(&K, &V)>(&self, cursor: u64, mut f: F) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let visit = |tab: &Vec<Bucket<K, V>>, i: usize, f: &mut F| {
            let mut cur = tab[i].as_deref();
            while let Some(n) = cur {
                f(&n.key, &n.val);
                cur = n.next.as_deref();
            }
        };
        let step = |v: u64, mask: u64| (v | !mask).reverse_bits().wrapping_add(1).reverse_bits();
        let mut v = cursor;
        if !self.is_rehashing() {
            let m0 = (self.tables[0].len() - 1) as u64;
            visit(&self.tables[0], (v & m0) as usize, &mut f);
            return step(v, m0);
        }
        let (small, big) = if self.tables[0].len() <= self.tables[1].len() {
            (&self.tables[0], &self.tables[1])
        } else {
            (&self.tables[1], &self.tables[0])
        };
        let m0 = (small.len() - 1) as u64;
        let m1 = (big.len() - 1) as u64;
        visit(small, (v & m0) as usize, &mut f);
        loop {
            visit(big, (v & m1) as usize, &mut f);
            v = step(v, m1);
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
        v
    }

    /// Like `scan` with mutable access to values.
    pub fn scan_mut<F: FnMut(&K, &mut V)>(&mut self, cursor: u64, mut f: F) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let visit = |tab: &mut Vec<Bucket<K, V>>, i: usize, f: &mut F| {
            let mut cur = tab[i].as_deref_mut();
            while let Some(n) = cur {
                f(&n.key, &mut n.val);
                cur = n.next.as_deref_mut();
            }
        };
        let step = |v: u64, mask: u64| (v | !mask).reverse_bits().wrapping_add(1).reverse_bits();
        let mut v = cursor;
        if !self.is_rehashing() {
            let m0 = (self.tables[0].len() - 1) as u64;
            visit(&mut self.tables[0], (v & m0) as usize, &mut f);
            return step(v, m0);
        }
        let [t0, t1] = &mut self.tables;
        let (small, big) = if t0.len() <= t1.len() {
            (t0, t1)
        } else {
            (t1, t0)
        };
        let m0 = (small.len() - 1) as u64;
        let m1 = (big.len() - 1) as u64;
        visit(small, (v & m0) as usize, &mut f);
        loop {
            visit(big, (v & m1) as usize, &mut f);
            v = step(v, m1);
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
        v
    }

    /// A random entry: a random non-empty bucket, then a random node of its
    /// chain (as Redis's dictGetRandomKey, over both tables while
    /// rehashing).
    pub fn random_entry(&self) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let s0 = self.tables[0].len() as u64;
        let s1 = self.tables[1].len() as u64;
        let from = self.rehash_idx.unwrap_or(0) as u64;
        let head = loop {
            let idx = from + crate::util::random_below(s0 + s1 - from);
            let b = if idx < s0 {
                &self.tables[0][idx as usize]
            } else {
                &self.tables[1][(idx - s0) as usize]
            };
            if let Some(h) = b.as_deref() {
                break h;
            }
        };
        let mut chain_len = 0;
        let mut cur = Some(head);
        while let Some(n) = cur {
            chain_len += 1;
            cur = n.next.as_deref();
        }
        let mut pick = crate::util::random_below(chain_len);
        let mut n = head;
        while pick > 0 {
            n = n.next.as_deref()?;
            pick -= 1;
        }
        Some((&n.key, &n.val))
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            tables: [&self.tables[0], &self.tables[1]],
            t: 0,
            idx: 0,
            cur: None,
            remaining: self.len(),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }
}

impl<K, V> Drop for Dict<K, V> {
    fn drop(&mut self) {
        for t in self.tables.iter_mut() {
            for b in t.iter_mut() {
                drop_chain(b);
            }
        }
    }
}

pub struct Iter<'a, K, V> {
    tables: [&'a [Bucket<K, V>]; 2],
    t: usize,
    idx: usize,
    cur: Option<&'a Node<K, V>>,
    remaining: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.cur {
                self.cur = n.next.as_deref();
                self.remaining -= 1;
                return Some((&n.key, &n.val));
            }
            if self.remaining == 0 {
                return None;
            }
            while self.idx >= self.tables[self.t].len() {
                if self.t == 1 {
                    return None;
                }
                self.t = 1;
                self.idx = 0;
            }
            self.cur = self.tables[self.t][self.idx].as_deref();
            self.idx += 1;
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn insert_get_remove() {
        let mut d: Dict<Vec<u8>, u32> = Dict::new();
        for i in 0..1000u32 {
            d.insert(i.to_string().into_bytes(), i);
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.get(b"500"), Some(&500));
        for i in 0..990u32 {
            assert!(d.remove(i.to_string().as_bytes()).is_some());
        }
        assert_eq!(d.len(), 10);
        assert!(d.bucket_count() <= 16);
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn incremental_rehash_keeps_everything() {
        let mut d: Dict<Vec<u8>, u32> = Dict::new();
        for i in 0..10000u32 {
            assert!(d.insert(i.to_string().into_bytes(), i).is_none());
            assert_eq!(d.get(i.to_string().as_bytes()), Some(&i));
        }
        assert_eq!(d.insert(b"5".to_vec(), 55), Some(5));
        let (v, new) = d.get_or_insert_with(b"x", || (b"x".to_vec(), 1));
        assert!(new);
        *v = 2;
        assert_eq!(
            d.get_or_insert_with(b"x", || unreachable!()),
            (&mut 2, false)
        );
        assert_eq!(d.len(), 10001);
        assert_eq!(d.iter().count(), 10001);
        for i in 0..9990u32 {
            assert!(d.remove(i.to_string().as_bytes()).is_some(), "{i}");
        }
        assert_eq!(d.len(), 11);
        while d.rehash(100) {}
        assert!(d.bucket_count() <= 64);
        assert_eq!(d.iter().count(), 11);
        assert!(d.random_entry().is_some());
    }

    #[test]
    fn scan_during_rehash() {
        let mut d: Dict<Vec<u8>, ()> = Dict::new();
        for i in 0..1024 {
            d.insert(format!("k{i}").into_bytes(), ());
        }
        while d.rehash(100) {}
        // Trigger a grow and leave it half done.
        d.insert(b"extra".to_vec(), ());
        assert!(d.is_rehashing());
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.clone());
            });
            d.rehash(3);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1024 {
            assert!(seen.contains(format!("k{i}").as_bytes()));
        }
    }

    #[test]
    fn scan_survives_resize() {
        let mut d: Dict<Vec<u8>, ()> = Dict::new();
        for i in 0..500 {
            d.insert(format!("k{i}").into_bytes(), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.clone());
            });
            steps += 1;
            if steps == 50 {
                for i in 500..3000 {
                    d.insert(format!("k{i}").into_bytes(), ());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(format!("k{i}").as_bytes()));
        }
    }
}

//! A chained hash table with power-of-two bucket arrays, keyed by byte
//! strings. We own the table (rather than using std's HashMap) for two
//! things Redis users rely on: SCAN's reverse-binary cursor, which returns
//! every element present for the whole scan even across resizes, and
//! O(1) random sampling for RANDOMKEY, SPOP and the expire cycle.

use std::borrow::Borrow;
use std::hash::BuildHasher;
use std::sync::OnceLock;

static SEED: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();

#[inline]
pub fn hash_bytes(b: &[u8]) -> u64 {
    SEED.get_or_init(std::collections::hash_map::RandomState::new)
        .hash_one(b)
}

struct Node<K, V> {
    key: K,
    val: V,
    next: Option<Box<Node<K, V>>>,
}

pub struct Dict<K, V> {
    buckets: Vec<Option<Box<Node<K, V>>>>,
    len: usize,
}

impl<K, V> Default for Dict<K, V> {
    fn default() -> Self {
        Dict {
            buckets: Vec::new(),
            len: 0,
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
            d.resize(n.next_power_of_two().max(4));
        }
        d
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Number of buckets (for INFO / DEBUG HTSTATS and memory estimates).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    pub fn get_key_value(&self, key: &[u8]) -> Option<(&K, &V)> {
        if self.len == 0 {
            return None;
        }
        let idx = hash_bytes(key) as usize & self.mask();
        let mut cur = self.buckets[idx].as_deref();
        while let Some(n) = cur {
            if n.key.borrow() == key {
                return Some((&n.key, &n.val));
            }
            cur = n.next.as_deref();
        }
        None
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let idx = hash_bytes(key) as usize & self.mask();
        let mut cur = self.buckets[idx].as_deref_mut();
        while let Some(n) = cur {
            if n.key.borrow() == key {
                return Some(&mut n.val);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Insert or replace; returns the previous value.
    pub fn insert(&mut self, key: K, val: V) -> Option<V> {
        if let Some(v) = self.get_mut(key.borrow()) {
            return Some(std::mem::replace(v, val));
        }
        self.insert_new(key, val);
        None
    }

    /// Insert a key known to be absent.
    pub fn insert_new(&mut self, key: K, val: V) {
        if self.len >= self.buckets.len() {
            let n = (self.buckets.len() * 2).max(4);
            self.resize(n);
        }
        let idx = hash_bytes(key.borrow()) as usize & self.mask();
        let next = self.buckets[idx].take();
        self.buckets[idx] = Some(Box::new(Node { key, val, next }));
        self.len += 1;
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<(K, V)> {
        if self.len == 0 {
            return None;
        }
        let idx = hash_bytes(key) as usize & self.mask();
        let mut link = &mut self.buckets[idx];
        loop {
            match link {
                None => return None,
                Some(n) if n.key.borrow() == key => {
                    let mut node = link.take().unwrap();
                    *link = node.next.take();
                    self.len -= 1;
                    self.maybe_shrink();
                    return Some((node.key, node.val));
                }
                Some(n) => link = &mut n.next,
            }
        }
    }

    fn maybe_shrink(&mut self) {
        // Same fill threshold as Redis (10%), never below 4 buckets.
        if self.buckets.len() > 4 && self.len * 10 < self.buckets.len() {
            let n = self.len.next_power_of_two().max(4);
            self.resize(n);
        }
    }

    fn resize(&mut self, n: usize) {
        let old = std::mem::take(&mut self.buckets);
        self.buckets = Vec::with_capacity(n);
        self.buckets.resize_with(n, || None);
        let mask = n - 1;
        for mut head in old {
            while let Some(mut node) = head {
                head = node.next.take();
                let idx = hash_bytes(node.key.borrow()) as usize & mask;
                node.next = self.buckets[idx].take();
                self.buckets[idx] = Some(node);
            }
        }
    }

    pub fn clear(&mut self) {
        // Unlink chains iteratively so long chains cannot overflow the stack.
        for b in self.buckets.iter_mut() {
            let mut head = b.take();
            while let Some(mut n) = head {
                head = n.next.take();
            }
        }
        self.buckets = Vec::new();
        self.len = 0;
    }

    /// Visit the bucket at `cursor` and return the next cursor (0 when the
    /// scan is complete), with Redis's reverse-binary increment.
    pub fn scan<F: FnMut(&K, &V)>(&self, cursor: u64, mut f: F) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(n) = cur {
            f(&n.key, &n.val);
            cur = n.next.as_deref();
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Like `scan` with mutable access to values.
    pub fn scan_mut<F: FnMut(&K, &mut V)>(&mut self, cursor: u64, mut f: F) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref_mut();
        while let Some(n) = cur {
            f(&n.key, &mut n.val);
            cur = n.next.as_deref_mut();
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A random entry: a random non-empty bucket, then a random node of its
    /// chain (as Redis's dictGetRandomKey).
    pub fn random_entry(&self) -> Option<(&K, &V)> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask() as u64;
        let head = loop {
            let idx = (crate::util::random_u64() & mask) as usize;
            if let Some(h) = self.buckets[idx].as_deref() {
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
            n = n.next.as_deref().unwrap();
            pick -= 1;
        }
        Some((&n.key, &n.val))
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            buckets: &self.buckets,
            idx: 0,
            cur: None,
            remaining: self.len,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }
}

impl<K, V> Drop for Dict<K, V> {
    fn drop(&mut self) {
        for b in self.buckets.iter_mut() {
            let mut head = b.take();
            while let Some(mut n) = head {
                head = n.next.take();
            }
        }
    }
}

pub struct Iter<'a, K, V> {
    buckets: &'a [Option<Box<Node<K, V>>>],
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
            if self.idx >= self.buckets.len() {
                return None;
            }
            self.cur = self.buckets[self.idx].as_deref();
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

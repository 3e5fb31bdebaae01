//! The set type's in-memory representation: a sorted array of integers
//! ("intset") while every member is an integer and the set is small, and a
//! hash table of members otherwise.

use super::{Dict, SBytes};

/// Default for set-max-intset-entries.
pub const DEFAULT_MAX_INTSET_ENTRIES: usize = 512;

pub enum Set {
    /// Sorted, deduplicated integers.
    Int(Vec<i64>),
    Hash(Dict<SBytes, ()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Int(Vec::new())
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        match self {
            Set::Int(v) => Set::Int(v.clone()),
            Set::Hash(h) => {
                let mut d = Dict::with_capacity(h.len());
                for (k, _) in h.iter() {
                    d.insert_new(k.clone(), ());
                }
                Set::Hash(d)
            }
        }
    }
}

/// A member as an intset would hold it: canonical integers only.
pub fn as_int(m: &[u8]) -> Option<i64> {
    if m.len() > 20 {
        return None;
    }
    crate::util::parse_i64(m)
}

/// A random member with (nearly) equal odds for every member: pick a
/// random bucket and accept it in proportion to its chain length, so that
/// members sharing a bucket are not under-represented.
fn fair_random(d: &Dict<SBytes, ()>) -> Option<Vec<u8>> {
    if d.is_empty() {
        return None;
    }
    const CAP: u64 = 4;
    let mut chain: Vec<Vec<u8>> = Vec::with_capacity(4);
    for _ in 0..1000 {
        chain.clear();
        d.scan(crate::util::random_u64(), |k, _| chain.push(k.to_vec()));
        let l = chain.len() as u64;
        if l == 0 || crate::util::random_below(CAP.max(l)) >= l {
            continue;
        }
        let i = crate::util::random_below(l) as usize;
        return Some(std::mem::take(&mut chain[i]));
    }
    d.random_entry().map(|(k, _)| k.to_vec())
}

impl Set {
    /// An empty set suited to hold `first` (intset if it is an integer).
    pub fn new_for(first: &[u8]) -> Set {
        if as_int(first).is_some() {
            Set::Int(Vec::new())
        } else {
            Set::Hash(Dict::new())
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Int(_) => "intset",
            Set::Hash(_) => "hashtable",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Set::Int(v) => v.capacity() * 8,
            Set::Hash(d) => {
                let mut n = d.bucket_count() * 8 + d.len() * 48;
                for k in d.keys() {
                    n += k.heap_size();
                }
                n
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Int(v) => v.len(),
            Set::Hash(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Int(v) => match as_int(m) {
                Some(n) => v.binary_search(&n).is_ok(),
                None => false,
            },
            Set::Hash(d) => d.contains_key(m),
        }
    }

    fn convert_to_hash(&mut self) {
        if let Set::Int(v) = self {
            let mut d = Dict::with_capacity(v.len() + 1);
            for n in v.iter() {
                d.insert_new(SBytes::new(n.to_string().as_bytes()), ());
            }
            *self = Set::Hash(d);
        }
    }

    /// Add a member; true if it was new. `max_intset` is
    /// set-max-intset-entries.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        match self {
            Set::Int(v) => {
                if let Some(n) = as_int(m) {
                    match v.binary_search(&n) {
                        Ok(_) => return false,
                        Err(pos) => {
                            if v.len() < max_intset {
                                v.insert(pos, n);
                                return true;
                            }
                        }
                    }
                }
                self.convert_to_hash();
                self.add(m, max_intset)
            }
            Set::Hash(d) => {
                if d.contains_key(m) {
                    false
                } else {
                    d.insert_new(SBytes::new(m), ());
                    true
                }
            }
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Int(v) => match as_int(m) {
                Some(n) => match v.binary_search(&n) {
                    Ok(pos) => {
                        v.remove(pos);
                        true
                    }
                    Err(_) => false,
                },
                None => false,
            },
            Set::Hash(d) => d.remove(m).is_some(),
        }
    }

    /// A random member (None when empty).
    pub fn random(&self) -> Option<Vec<u8>> {
        match self {
            Set::Int(v) => {
                if v.is_empty() {
                    return None;
                }
                let i = crate::util::random_below(v.len() as u64) as usize;
                Some(v[i].to_string().into_bytes())
            }
            Set::Hash(d) => fair_random(d),
        }
    }

    /// Remove and return a random member.
    pub fn pop_random(&mut self) -> Option<Vec<u8>> {
        let m = self.random()?;
        self.remove(&m);
        Some(m)
    }

    /// Every member (intset: ascending order; hashtable: table order).
    pub fn members(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(m.to_vec()));
        out
    }

    pub fn for_each<F: FnMut(&[u8])>(&self, mut f: F) {
        match self {
            Set::Int(v) => {
                for n in v {
                    f(n.to_string().as_bytes());
                }
            }
            Set::Hash(d) => {
                for k in d.keys() {
                    f(k);
                }
            }
        }
    }

    /// Build a set from members, with the encoding Redis would pick.
    pub fn from_members<I, T>(items: I, max_intset: usize) -> Set
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut s = Set::default();
        for m in items {
            s.add(m.as_ref(), max_intset);
        }
        s
    }

    /// One SSCAN step over the hashtable; intsets are returned whole by the
    /// caller.
    pub fn scan<F: FnMut(&[u8])>(&self, cursor: u64, mut f: F) -> u64 {
        match self {
            Set::Int(v) => {
                for n in v {
                    f(n.to_string().as_bytes());
                }
                0
            }
            Set::Hash(d) => d.scan(cursor, |k, _| f(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut s = Set::new_for(b"1");
        assert_eq!(s.encoding(), "intset");
        for i in 0..512 {
            assert!(s.add(i.to_string().as_bytes(), 512));
        }
        assert_eq!(s.encoding(), "intset");
        assert!(!s.add(b"7", 512));
        assert!(s.add(b"512", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 513);
        let mut t = Set::new_for(b"1");
        t.add(b"1", 512);
        t.add(b"01", 512);
        assert_eq!(t.encoding(), "hashtable");
        assert!(t.contains(b"1") && t.contains(b"01") && !t.contains(b"001"));
        assert_eq!(Set::new_for(b"x").encoding(), "hashtable");
        let u = Set::from_members(["3", "1", "2"], 512);
        assert_eq!(
            u.members(),
            vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]
        );
    }
}

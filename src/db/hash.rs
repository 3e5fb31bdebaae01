//! The hash type: a packed "listpack" of field/value entries while small,
//! a hash table once it crosses hash-max-listpack-entries/value (and never
//! back, as Redis).

use super::{Dict, SBytes};

/// 16 bytes, stored inline in the key's `Value`: a small hash costs one
/// allocation of exactly its packed bytes (no spare capacity, no box
/// around it), which is what keeps millions of small hashes compact.
#[derive(Clone)]
pub enum Hash {
    /// Entries back to back: varint length + bytes, field then value.
    Pack(Box<[u8]>),
    Table(Box<Dict<SBytes, SBytes>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Box::default())
    }
}

impl Clone for Dict<SBytes, SBytes> {
    fn clone(&self) -> Self {
        let mut d = Dict::with_capacity(self.len());
        for (k, v) in self.iter() {
            d.insert_new(k.clone(), v.clone());
        }
        d
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn get_varint(b: &[u8], pos: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    while *pos < b.len() {
        let c = b[*pos];
        *pos += 1;
        n |= ((c & 0x7f) as usize) << shift;
        if c & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    n
}

/// Iterator over a packed buffer's (field, value) pairs.
pub struct PackIter<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.b.len() {
            return None;
        }
        let n = get_varint(self.b, &mut self.pos);
        let f = &self.b[self.pos..self.pos + n];
        self.pos += n;
        let n = get_varint(self.b, &mut self.pos);
        let v = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Some((f, v))
    }
}

/// The (field, value) pairs of a packed buffer.
pub fn pack_pairs(b: &[u8]) -> PackIter<'_> {
    PackIter { b, pos: 0 }
}

/// Append a field or a value to a packed buffer (building `Hash::Pack`
/// directly, as loading does).
pub fn pack_push(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len());
    out.extend_from_slice(b);
}

/// Thresholds from the config (hash-max-listpack-entries / -value).
#[derive(Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Hash {
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Pack(b) => b.len(),
            Hash::Table(d) => {
                d.bucket_count() * 8
                    + d.iter()
                        .map(|(k, v)| 64 + k.heap_size() + v.heap_size())
                        .sum::<usize>()
            }
        }
    }

    fn pack_iter(b: &[u8]) -> PackIter<'_> {
        PackIter { b, pos: 0 }
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(b) => Self::pack_iter(b).count(),
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Hash::Pack(b) => b.is_empty(),
            Hash::Table(d) => d.is_empty(),
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(b) => Self::pack_iter(b)
                .find(|(f, _)| *f == field)
                .map(|(_, v)| v),
            Hash::Table(d) => d.get(field).map(|v| v.as_slice()),
        }
    }

    /// Every (field, value), in storage order.
    pub fn pairs(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        match self {
            Hash::Pack(b) => Self::pack_iter(b)
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect(),
            Hash::Table(d) => d.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect(),
        }
    }

    fn convert_to_table(&mut self) {
        if let Hash::Pack(b) = self {
            let mut d = Dict::with_capacity(16);
            for (f, v) in Self::pack_iter(b) {
                d.insert(SBytes::new(f), SBytes::new(v));
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    /// Set a field; returns true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        if let Hash::Pack(_) = self {
            if field.len() > lim.value || value.len() > lim.value {
                self.convert_to_table();
            }
        }
        match self {
            Hash::Pack(b) => {
                // Find the field's value (start of its length, end of data).
                let mut count = 0;
                let mut pos = 0;
                let mut found = None;
                while pos < b.len() {
                    let n = get_varint(b, &mut pos);
                    let is_field = &b[pos..pos + n] == field;
                    pos += n;
                    let vstart = pos;
                    let n = get_varint(b, &mut pos);
                    pos += n;
                    count += 1;
                    if is_field {
                        found = Some((vstart, pos));
                        break;
                    }
                }
                match found {
                    Some((vs, ve)) => {
                        // Replace in place; same-size values need no move.
                        let n = varint_len(value.len()) + value.len();
                        if n == ve - vs {
                            let mut enc = Vec::with_capacity(n);
                            put_varint(&mut enc, value.len());
                            enc.extend_from_slice(value);
                            b[vs..ve].copy_from_slice(&enc);
                        } else {
                            let mut out = Vec::with_capacity(b.len() - (ve - vs) + n);
                            out.extend_from_slice(&b[..vs]);
                            put_varint(&mut out, value.len());
                            out.extend_from_slice(value);
                            out.extend_from_slice(&b[ve..]);
                            *b = out.into_boxed_slice();
                        }
                        false
                    }
                    None => {
                        // Grow exactly: small hashes stay tight in memory.
                        let add = varint_len(field.len())
                            + field.len()
                            + varint_len(value.len())
                            + value.len();
                        let mut v = std::mem::take(b).into_vec();
                        v.reserve_exact(add);
                        put_varint(&mut v, field.len());
                        v.extend_from_slice(field);
                        put_varint(&mut v, value.len());
                        v.extend_from_slice(value);
                        *b = v.into_boxed_slice();
                        if count + 1 > lim.entries {
                            self.convert_to_table();
                        }
                        true
                    }
                }
            }
            Hash::Table(d) => d.insert(SBytes::new(field), SBytes::new(value)).is_none(),
        }
    }

    /// Remove a field; returns true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(b) => {
                let mut out = Vec::with_capacity(b.len());
                let mut found = false;
                for (f, v) in Self::pack_iter(b) {
                    if f == field {
                        found = true;
                        continue;
                    }
                    put_varint(&mut out, f.len());
                    out.extend_from_slice(f);
                    put_varint(&mut out, v.len());
                    out.extend_from_slice(v);
                }
                if found {
                    *b = out.into_boxed_slice();
                }
                found
            }
            Hash::Table(d) => d.remove(field).is_some(),
        }
    }

    /// One step of HSCAN on a table; packed hashes return everything with
    /// cursor 0, as Redis does for listpacks.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Vec<u8>>) {
        match self {
            Hash::Pack(_) => (
                0,
                self.pairs().into_iter().flat_map(|(f, v)| [f, v]).collect(),
            ),
            Hash::Table(d) => {
                let mut out = Vec::new();
                let mut cur = cursor;
                let mut visited = 0;
                loop {
                    cur = d.scan(cur, |k, v| {
                        out.push(k.to_vec());
                        out.push(v.to_vec());
                    });
                    visited += 1;
                    if cur == 0 || (out.len() / 2 >= count) || visited >= count * 10 {
                        break;
                    }
                }
                (cur, out)
            }
        }
    }

    /// A random (field, value).
    pub fn random_pair(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match self {
            Hash::Pack(_) => {
                let p = self.pairs();
                if p.is_empty() {
                    return None;
                }
                let i = crate::util::random_below(p.len() as u64) as usize;
                p.into_iter().nth(i)
            }
            Hash::Table(d) => d.random_entry().map(|(k, v)| (k.to_vec(), v.to_vec())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Hash>(), 16);
    }

    #[test]
    fn pack_then_table() {
        let lim = Limits {
            entries: 4,
            value: 8,
        };
        let mut h = Hash::default();
        assert!(h.set(b"a", b"1", lim));
        assert!(!h.set(b"a", b"2", lim));
        assert_eq!(h.get(b"a"), Some(&b"2"[..]));
        assert_eq!(h.encoding(), "listpack");
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", lim);
        }
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert!(h.remove(b"a"));
        assert_eq!(h.len(), 4);
        let mut h2 = Hash::default();
        h2.set(b"long", b"0123456789", lim);
        assert_eq!(h2.encoding(), "hashtable");
    }
}

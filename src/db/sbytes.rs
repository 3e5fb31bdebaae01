//! A byte string stored inline when short (up to 22 bytes) and on the heap
//! otherwise. Keys and small values make up most of a dataset; keeping them
//! inside the dictionary node saves an allocation each.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

pub const INLINE_CAP: usize = 22;

#[derive(Clone)]
pub enum SBytes {
    Inline { len: u8, data: [u8; INLINE_CAP] },
    Heap(Box<[u8]>),
}

impl SBytes {
    pub fn new(b: &[u8]) -> Self {
        if b.len() <= INLINE_CAP {
            let mut data = [0u8; INLINE_CAP];
            data[..b.len()].copy_from_slice(b);
            SBytes::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            SBytes::Heap(b.into())
        }
    }
    pub fn from_vec(v: Vec<u8>) -> Self {
        if v.len() <= INLINE_CAP {
            Self::new(&v)
        } else {
            SBytes::Heap(v.into_boxed_slice())
        }
    }
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SBytes::Inline { len, data } => &data[..*len as usize],
            SBytes::Heap(b) => b,
        }
    }
    /// Heap bytes owned beyond the struct itself.
    pub fn heap_size(&self) -> usize {
        match self {
            SBytes::Inline { .. } => 0,
            SBytes::Heap(b) => b.len(),
        }
    }
}

impl Deref for SBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for SBytes {
    fn eq(&self, o: &Self) -> bool {
        self.as_slice() == o.as_slice()
    }
}
impl Eq for SBytes {}

impl Hash for SBytes {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_slice().hash(h)
    }
}

impl PartialOrd for SBytes {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for SBytes {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(o.as_slice())
    }
}

impl fmt::Debug for SBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for SBytes {
    fn from(b: &[u8]) -> Self {
        SBytes::new(b)
    }
}

impl From<&str> for SBytes {
    fn from(b: &str) -> Self {
        SBytes::new(b.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn size_and_roundtrip() {
        assert_eq!(std::mem::size_of::<SBytes>(), 24);
        let s = SBytes::new(b"hello");
        assert_eq!(&*s, b"hello");
        let big = vec![7u8; 100];
        assert_eq!(&*SBytes::from_vec(big.clone()), &big[..]);
    }
}

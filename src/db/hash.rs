//! The hash type's in-memory representation.

#[derive(Default, Clone)]
pub struct Hash {}

impl Hash {
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
    pub fn heap_size(&self) -> usize {
        0
    }
}

//! The set type's in-memory representation.

#[derive(Default, Clone)]
pub struct Set {}

impl Set {
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
    pub fn heap_size(&self) -> usize {
        0
    }
}

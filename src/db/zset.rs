//! The zset type's in-memory representation.

#[derive(Default, Clone)]
pub struct ZSet {}

impl ZSet {
    pub fn encoding(&self) -> &'static str {
        "unknown"
    }
    pub fn heap_size(&self) -> usize {
        0
    }
}

//! The replication backlog: the last `repl-backlog-size` bytes of the
//! replication stream, so a replica that lost its link can continue from
//! its offset (PSYNC) instead of a full resynchronization.

use std::collections::VecDeque;

/// Redis's CONFIG_REPL_BACKLOG_MIN_SIZE.
pub const MIN_SIZE: usize = 16 * 1024;

pub struct Backlog {
    data: VecDeque<u8>,
    pub size: usize,
    /// Replication offset of the first byte held (Redis's
    /// repl_backlog->offset): master_repl_offset + 1 when empty.
    pub offset: i64,
}

impl Backlog {
    /// An empty backlog continuing the stream after `master_repl_offset`.
    pub fn new(size: usize, master_repl_offset: i64) -> Backlog {
        Backlog {
            data: VecDeque::new(),
            size: size.max(MIN_SIZE),
            offset: master_repl_offset + 1,
        }
    }

    pub fn histlen(&self) -> usize {
        self.data.len()
    }

    pub fn append(&mut self, b: &[u8]) {
        self.data.extend(b.iter());
        self.trim();
    }

    fn trim(&mut self) {
        if self.data.len() > self.size {
            let n = self.data.len() - self.size;
            self.data.drain(..n);
            self.offset += n as i64;
        }
    }

    pub fn resize(&mut self, size: usize) {
        self.size = size.max(MIN_SIZE);
        self.trim();
    }

    /// Whether the stream from `offset` on is still held.
    pub fn covers(&self, offset: i64) -> bool {
        offset >= self.offset && offset <= self.offset + self.data.len() as i64
    }

    /// The stream from `offset` to the end (`covers(offset)` must hold).
    pub fn copy_from(&self, offset: i64) -> Vec<u8> {
        let skip = (offset - self.offset).clamp(0, self.data.len() as i64) as usize;
        let (a, b) = self.data.as_slices();
        let mut out = Vec::with_capacity(self.data.len() - skip);
        if skip < a.len() {
            out.extend_from_slice(&a[skip..]);
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(&b[skip - a.len()..]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tail_and_its_offsets() {
        let mut b = Backlog::new(MIN_SIZE, 100);
        assert_eq!(b.offset, 101);
        assert!(b.covers(101));
        assert!(!b.covers(102));
        let chunk = vec![7u8; MIN_SIZE];
        b.append(&chunk);
        b.append(b"abc");
        assert_eq!(b.histlen(), MIN_SIZE);
        assert_eq!(b.offset, 104);
        assert!(!b.covers(103));
        assert!(b.covers(104 + MIN_SIZE as i64));
        let tail = b.copy_from(101 + MIN_SIZE as i64);
        assert_eq!(tail, b"abc");
        assert!(b.copy_from(104 + MIN_SIZE as i64).is_empty());
    }
}

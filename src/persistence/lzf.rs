//! LZF compression producing the same bytes as the liblzf 3.6 build Redis
//! ships (HLOG 16, "very fast" hashing), with an explicit output limit:
//! Redis gives up when the output would not fit in a caller-chosen size,
//! and whether it gives up decides the bytes an RDB holds.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn hslot(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// The hash table, kept between calls: each entry is tagged with the
/// call that wrote it, so a new call sees an empty table without clearing
/// 64K entries (which made saving many small values slow).
struct Table {
    call: u32,
    slots: Vec<u64>,
}

impl Table {
    /// Position + 1 of the last occurrence of a hash in this call; 0 = none.
    #[inline]
    fn get(&self, slot: usize) -> usize {
        let e = self.slots[slot];
        if (e >> 32) as u32 == self.call {
            (e & 0xffff_ffff) as usize
        } else {
            0
        }
    }
    #[inline]
    fn set(&mut self, slot: usize, pos: u32) {
        self.slots[slot] = ((self.call as u64) << 32) | pos as u64;
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<Table> = const {
        std::cell::RefCell::new(Table { call: 0, slots: Vec::new() })
    };
}

/// Compress `input` into at most `out_limit` bytes; None when the data
/// does not fit (or is empty), exactly when Redis's lzf_compress returns 0.
pub fn compress(input: &[u8], out_limit: usize) -> Option<Vec<u8>> {
    if input.is_empty() || out_limit == 0 {
        return None;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        if t.slots.is_empty() {
            t.slots = vec![0; HSIZE];
        }
        t.call = t.call.wrapping_add(1);
        if t.call == 0 {
            t.slots.fill(0);
            t.call = 1;
        }
        compress_with(input, out_limit, &mut t)
    })
}

fn compress_with(input: &[u8], out_limit: usize, htab: &mut Table) -> Option<Vec<u8>> {
    let in_len = input.len();
    let mut out = vec![0u8; out_limit + 4];
    let out_end = out_limit;
    let mut op = 1usize; // start run
    let mut lit = 0usize;
    let mut ip = 0usize;
    let frst = |p: usize| ((input[p] as u32) << 8) | input[p + 1] as u32;
    let next = |v: u32, p: usize| (v << 8) | input[p + 2] as u32;
    if in_len >= 2 {
        let mut hval = frst(0);
        while in_len > 2 && ip < in_len - 2 {
            hval = next(hval, ip);
            let slot = hslot(hval);
            let stored = htab.get(slot);
            htab.set(slot, ip as u32 + 1);
            let matched = if stored > 0 {
                let r = stored - 1;
                r < ip
                    && ip - r - 1 < MAX_OFF
                    && r > 0
                    && input[r + 2] == input[ip + 2]
                    && input[r] == input[ip]
                    && input[r + 1] == input[ip + 1]
            } else {
                false
            };
            if matched {
                let r = stored - 1;
                let off = ip - r - 1;
                let mut len = 2usize;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                    return None;
                }
                out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
                op -= usize::from(lit == 0); // undo run if length is zero
                let mut done = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            done = true;
                            break;
                        }
                    }
                }
                if !done {
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2; // len is now #octets - 1
                ip += 1;
                if len < 7 {
                    out[op] = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    out[op] = ((off >> 8) + (7 << 5)) as u8;
                    out[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                out[op] = off as u8;
                op += 1;
                lit = 0;
                op += 1; // start run
                ip += len + 1;
                if ip >= in_len - 2 {
                    break;
                }
                ip -= 2;
                hval = frst(ip);
                hval = next(hval, ip);
                htab.set(hslot(hval), ip as u32 + 1);
                ip += 1;
                hval = next(hval, ip);
                htab.set(hslot(hval), ip as u32 + 1);
                ip += 1;
            } else {
                if op >= out_end {
                    return None;
                }
                lit += 1;
                out[op] = input[ip];
                op += 1;
                ip += 1;
                if lit == MAX_LIT {
                    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                    lit = 0;
                    op += 1;
                }
            }
        }
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Decompress into exactly `out_len` bytes; None if the data is invalid
/// or does not produce that many bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // Every input byte yields at most ~88 output bytes (a 3-byte
    // back-reference copies up to 264): refuse absurd claimed sizes.
    if out_len > input.len().saturating_mul(90) + 64 {
        return None;
    }
    // Written through an index into a buffer of the final size: bounds
    // checks are per run, not per byte, and back-references copy whole
    // slices when they do not overlap.
    let mut out = vec![0u8; out_len];
    let mut op = 0usize;
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let n = ctrl + 1;
            if op + n > out_len || ip + n > input.len() {
                return None;
            }
            out[op..op + n].copy_from_slice(&input[ip..ip + n]);
            op += n;
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            let n = len + 2;
            if op + n > out_len || back > op {
                return None;
            }
            let start = op - back;
            if back >= n {
                out.copy_within(start..start + n, op);
            } else {
                // Overlapping: each byte may repeat one just written.
                for i in 0..n {
                    out[op + i] = out[start + i];
                }
            }
            op += n;
        }
    }
    if op != out_len {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("item:{}:{}", i % 97, i % 13).into_bytes())
            .collect();
        let c = compress(&data, data.len()).unwrap();
        assert!(c.len() < data.len() / 2);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        let a = vec![b'a'; 100];
        let c = compress(&a, 96).unwrap();
        assert_eq!(decompress(&c, 100).unwrap(), a);
        assert!(compress(b"abcdefghijklmnopqrstuvwxyz", 22).is_none());
        assert!(decompress(&c, 101).is_none());
    }
}

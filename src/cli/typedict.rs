//! The --bigkeys/--memkeys summary lists key types in the iteration order
//! of redis-cli's internal hash table (SipHash-1-2 with an all-zero seed,
//! incremental rehashing driven by lookups). This models that table so
//! the summary comes out in the same order.

fn rotl(x: u64, b: u32) -> u64 {
    x.rotate_left(b)
}

/// SipHash-1-2 with a zero key.
pub fn siphash12(data: &[u8]) -> u64 {
    let (mut v0, mut v1, mut v2, mut v3) = (
        0x736f6d6570736575u64,
        0x646f72616e646f6du64,
        0x6c7967656e657261u64,
        0x7465646279746573u64,
    );
    macro_rules! round {
        () => {
            v0 = v0.wrapping_add(v1);
            v1 = rotl(v1, 13);
            v1 ^= v0;
            v0 = rotl(v0, 32);
            v2 = v2.wrapping_add(v3);
            v3 = rotl(v3, 16);
            v3 ^= v2;
            v0 = v0.wrapping_add(v3);
            v3 = rotl(v3, 21);
            v3 ^= v0;
            v2 = v2.wrapping_add(v1);
            v1 = rotl(v1, 17);
            v1 ^= v2;
            v2 = rotl(v2, 32);
        };
    }
    let full = data.len() - data.len() % 8;
    for chunk in data[..full].chunks(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let m = u64::from_le_bytes(w);
        v3 ^= m;
        round!();
        v0 ^= m;
    }
    let mut b = (data.len() as u64) << 56;
    for (i, &c) in data[full..].iter().enumerate() {
        b |= (c as u64) << (8 * i);
    }
    v3 ^= b;
    round!();
    v0 ^= b;
    v2 ^= 0xff;
    round!();
    round!();
    v0 ^ v1 ^ v2 ^ v3
}

/// A model of the C dict holding type names (entry ids index `names`).
pub struct TypeDict {
    pub names: Vec<String>,
    tables: [Vec<Vec<usize>>; 2],
    used: [usize; 2],
    rehashidx: Option<usize>,
}

impl TypeDict {
    pub fn new() -> TypeDict {
        TypeDict {
            names: Vec::new(),
            tables: [Vec::new(), Vec::new()],
            used: [0, 0],
            rehashidx: None,
        }
    }

    fn hash(&self, id: usize) -> u64 {
        siphash12(self.names[id].as_bytes())
    }

    fn rehash_step(&mut self) {
        let Some(mut idx) = self.rehashidx else {
            return;
        };
        let mut empty_visits = 10;
        if self.used[0] != 0 {
            while self.tables[0][idx].is_empty() {
                idx += 1;
                self.rehashidx = Some(idx);
                empty_visits -= 1;
                if empty_visits == 0 {
                    return;
                }
            }
            // Move the chain head-first, each pushed on the front of its
            // new bucket.
            let chain = std::mem::take(&mut self.tables[0][idx]);
            let mask1 = self.tables[1].len() as u64 - 1;
            for id in chain {
                let h = (self.hash(id) & mask1) as usize;
                self.tables[1][h].insert(0, id);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            self.rehashidx = Some(idx + 1);
        }
        if self.used[0] == 0 {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.used[0] = self.used[1];
            self.used[1] = 0;
            self.rehashidx = None;
        }
    }

    fn expand(&mut self, size: usize) {
        let mut real = 4usize;
        while real < size {
            real *= 2;
        }
        if self.tables[0].is_empty() {
            self.tables[0] = vec![Vec::new(); real];
            return;
        }
        self.tables[1] = vec![Vec::new(); real];
        self.rehashidx = Some(0);
    }

    /// Add a new name; returns its id.
    pub fn add(&mut self, name: &str) -> usize {
        if self.rehashidx.is_some() {
            self.rehash_step();
        }
        // _dictExpandIfNeeded
        if self.rehashidx.is_none() {
            if self.tables[0].is_empty() {
                self.expand(4);
            } else if self.used[0] >= self.tables[0].len() {
                self.expand(self.used[0] + 1);
            }
        }
        self.names.push(name.to_string());
        let id = self.names.len() - 1;
        let t = if self.rehashidx.is_some() { 1 } else { 0 };
        let mask = self.tables[t].len() as u64 - 1;
        let h = (self.hash(id) & mask) as usize;
        self.tables[t][h].insert(0, id);
        self.used[t] += 1;
        id
    }

    /// Look a name up (advancing an ongoing rehash like dictFind).
    pub fn find(&mut self, name: &str) -> Option<usize> {
        if self.used[0] + self.used[1] == 0 {
            return None;
        }
        if self.rehashidx.is_some() {
            self.rehash_step();
        }
        self.names.iter().position(|n| n == name)
    }

    /// Ids in iteration order.
    pub fn order(&self) -> Vec<usize> {
        let mut v = Vec::new();
        let n = if self.rehashidx.is_some() { 2 } else { 1 };
        for t in &self.tables[..n] {
            for b in t {
                v.extend_from_slice(b);
            }
        }
        v
    }
}

impl Default for TypeDict {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_order() {
        let mut d = TypeDict::new();
        for n in ["string", "list", "set", "hash", "zset", "stream"] {
            d.add(n);
        }
        // One lookup, as for a single scanned key (observed order).
        d.find("list");
        let names: Vec<&str> = d.order().iter().map(|&i| d.names[i].as_str()).collect();
        assert_eq!(names, ["string", "list", "hash", "stream", "set", "zset"]);
    }
}

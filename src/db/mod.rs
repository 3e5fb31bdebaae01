//! The keyspace: databases of keys to objects, with expiry.

pub mod dict;
pub mod geohash;
pub mod hash;
pub mod list;
pub mod sbytes;
pub mod set;
pub mod stream;
pub mod zset;

pub use dict::Dict;
pub use sbytes::SBytes;

/// Strings longer than this are "raw" rather than "embstr" (as Redis).
pub const EMBSTR_SIZE_LIMIT: usize = 44;

#[derive(Clone)]
pub enum Value {
    /// A string that is a canonical integer ("int" encoding).
    Int(i64),
    /// A string stored as set ("embstr" up to 44 bytes, else "raw").
    Str(SBytes),
    /// A string that was modified in place (APPEND, SETRANGE, SETBIT...):
    /// growable, always "raw".
    Raw(Box<Vec<u8>>),
    List(Box<list::List>),
    Hash(hash::Hash),
    Set(Box<set::Set>),
    ZSet(Box<zset::ZSet>),
    Stream(Box<stream::Stream>),
}

impl Value {
    /// Build a string value with Redis's encoding choice: int when the bytes
    /// are a canonical integer of at most 20 chars, else embstr/raw.
    pub fn from_bytes(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = crate::util::parse_i64(b) {
                return Value::Int(n);
            }
        }
        Value::Str(SBytes::new(b))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_SIZE_LIMIT => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_) | Value::Raw(_))
    }

    /// The bytes of a string value (integers are formatted).
    pub fn string_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            Value::Int(n) => Some(std::borrow::Cow::Owned(n.to_string().into_bytes())),
            Value::Str(s) => Some(std::borrow::Cow::Borrowed(s.as_slice())),
            Value::Raw(v) => Some(std::borrow::Cow::Borrowed(v.as_slice())),
            _ => None,
        }
    }

    /// Approximate heap bytes owned by the value (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Raw(v) => v.capacity() + 24,
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }
}

/// A key's object: its value, absolute expiry and access clock.
pub struct Obj {
    pub val: Value,
    /// Absolute expiry in unix ms, or NO_EXPIRE.
    pub expire: i64,
    /// LRU clock (seconds resolution) or LFU data, as Redis's robj->lru.
    pub lru: u32,
}

pub const NO_EXPIRE: i64 = -1;

/// Set when some database has lazily expired keys waiting for
/// `Server::drain_expired`, so the server need not look at every database
/// after every command.
pub static EXPIRED_PENDING: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl Obj {
    pub fn new(val: Value) -> Obj {
        Obj {
            val,
            expire: NO_EXPIRE,
            lru: new_clock(),
        }
    }

    /// An access by a client command: the LRU clock, or (LFU policies)
    /// Redis's updateLFU.
    #[inline]
    pub fn touch(&mut self) {
        self.lru = if lfu_mode() {
            lfu_touch(self.lru)
        } else {
            lru_clock()
        };
    }
}

/// Seconds-resolution clock stored in objects for OBJECT IDLETIME.
pub fn lru_clock() -> u32 {
    (crate::util::mstime() / 1000) as u32
}

/// What `Obj::lru` holds, by maxmemory-policy (as Redis shares robj->lru
/// between the two): the LRU clock, or under an LFU policy 16 bits of
/// "last decrement" time in minutes and an 8-bit logarithmic counter.
pub static CLOCK_KIND: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
/// An LRU policy: RDB files carry each key's idle time.
pub const CLOCK_LRU_POLICY: u8 = 1;
/// An LFU policy: `lru` is LFU data; RDB files carry frequencies.
pub const CLOCK_LFU: u8 = 2;
/// lfu-log-factor and lfu-decay-time.
pub static LFU_LOG_FACTOR: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(10);
pub static LFU_DECAY_TIME: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
/// A new key's counter, so that it survives a few accesses (Redis's).
pub const LFU_INIT_VAL: u32 = 5;

#[inline]
pub fn lfu_mode() -> bool {
    CLOCK_KIND.load(std::sync::atomic::Ordering::Relaxed) == CLOCK_LFU
}

/// The clock a new object starts with under the current policy.
pub fn new_clock() -> u32 {
    if lfu_mode() {
        lfu_with_counter(LFU_INIT_VAL)
    } else {
        lru_clock()
    }
}

fn lfu_minutes() -> u32 {
    ((crate::util::mstime() / 60_000) & 65535) as u32
}

/// LFU data for `counter` (0..=255), decremented from now on.
pub fn lfu_with_counter(counter: u32) -> u32 {
    (lfu_minutes() << 8) | counter.min(255)
}

/// Redis's LFUDecrAndReturn: the counter less one per lfu-decay-time
/// minutes since its last decrement (the object is not changed).
pub fn lfu_counter(lru: u32) -> u32 {
    let ldt = (lru >> 8) & 65535;
    let counter = lru & 255;
    let now = lfu_minutes();
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    let decay = LFU_DECAY_TIME.load(std::sync::atomic::Ordering::Relaxed);
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Redis's updateLFU: decay, then a logarithmic increment (the higher the
/// counter, the less likely; lfu-log-factor scales it).
pub fn lfu_touch(lru: u32) -> u32 {
    let mut counter = lfu_counter(lru);
    if counter < 255 {
        let r = (crate::util::random_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let factor = LFU_LOG_FACTOR.load(std::sync::atomic::Ordering::Relaxed) as f64;
        if r < 1.0 / (base * factor + 1.0) {
            counter += 1;
        }
    }
    lfu_with_counter(counter)
}

/// The clock of a loaded or restored object given the frequency or idle
/// time its RDB/RESTORE carried (Redis's objectSetLRUOrLFU): a frequency
/// counts under an LFU policy, an idle time otherwise.
pub fn clock_from(freq: Option<u8>, idle_secs: Option<u64>) -> Option<u32> {
    if lfu_mode() {
        freq.map(|f| lfu_with_counter(f as u32))
    } else {
        idle_secs.map(|i| lru_clock().saturating_sub(i.min(u32::MAX as u64) as u32))
    }
}

/// How lookups treat keys whose TTL passed (`EXPIRE_*`). A replica never
/// deletes them itself: its master sends a DEL.
pub static EXPIRE_MODE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
/// Delete expired keys when looked up (a master).
pub const EXPIRE_DELETE: u8 = 0;
/// Keys are live until deleted (applying the master's stream).
pub const EXPIRE_KEEP: u8 = 1;
/// Expired keys look absent but stay (a read-only replica's clients).
pub const EXPIRE_HIDE: u8 = 2;

pub struct Db {
    pub id: usize,
    pub dict: Dict<SBytes, Obj>,
    /// Keys with an expiry set (INFO keyspace "expires").
    pub expires: usize,
    /// Where the active expire cycle resumes.
    pub expire_cursor: u64,
    /// Running estimate of average TTL for INFO keyspace avg_ttl.
    pub avg_ttl: i64,
    /// Keys deleted by lazy expiry since the caller last drained them; the
    /// server propagates a DEL and notifies for each.
    pub expired_pending: Vec<SBytes>,
    /// While an AOF replays, keys are never expired lazily (as Redis): a
    /// replay must see exactly what the original commands saw.
    pub keep_expired: bool,
    /// Keys created since the server last drained them, kept only while
    /// `NOTIFY_NEW_KEYS` is on (the "new" keyspace event).
    pub new_pending: Vec<SBytes>,
}

/// notify-keyspace-events includes 'n': remember created keys.
pub static NOTIFY_NEW_KEYS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn key_created(pending: &mut Vec<SBytes>, key: &[u8]) {
    if NOTIFY_NEW_KEYS.load(std::sync::atomic::Ordering::Relaxed) {
        pending.push(SBytes::new(key));
    }
}

impl Db {
    pub fn new(id: usize) -> Db {
        Db {
            id,
            dict: Dict::new(),
            expires: 0,
            expire_cursor: 0,
            avg_ttl: 0,
            expired_pending: Vec::new(),
            keep_expired: false,
            new_pending: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.dict.len()
    }
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// Delete `key` if its TTL has passed; returns true if it did.
    fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        let mode = EXPIRE_MODE.load(std::sync::atomic::Ordering::Relaxed);
        if mode == EXPIRE_KEEP {
            return false;
        }
        let expired = match self.dict.get(key) {
            Some(o) => o.expire != NO_EXPIRE && o.expire <= now && !self.keep_expired,
            None => false,
        };
        if expired && mode == EXPIRE_DELETE {
            if let Some((k, _)) = self.dict.remove(key) {
                self.expires -= 1;
                self.expired_pending.push(k);
                EXPIRED_PENDING.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        expired
    }

    /// Look a key up for reading or writing, expiring it lazily first
    /// (one hash lookup unless the key has expired).
    pub fn lookup(&mut self, key: &[u8], now: i64) -> Option<&mut Obj> {
        let h = dict::hash_bytes(key);
        let o = self.dict.get_hashed(h, key)?;
        // Only an expired key pays for a second lookup; a replica keeps it
        // (reported missing) and loading keeps it visible.
        if o.expire != NO_EXPIRE && o.expire <= now && self.expire_if_needed(key, now) {
            return None;
        }
        self.dict.get_mut_hashed(h, key)
    }

    /// Look up and touch the access clock (a read by a client command).
    pub fn lookup_touch(&mut self, key: &[u8], now: i64) -> Option<&mut Obj> {
        let o = self.lookup(key, now)?;
        o.touch();
        Some(o)
    }

    /// Does the key exist (not expired)?
    pub fn exists(&mut self, key: &[u8], now: i64) -> bool {
        self.lookup(key, now).is_some()
    }

    /// Set a key's value, dropping any TTL (SET semantics).
    pub fn set(&mut self, key: &[u8], val: Value) {
        let mut val = Some(val);
        let (o, inserted) = self.dict.get_or_insert_with(key, || {
            (
                SBytes::new(key),
                Obj::new(val.take().unwrap_or(Value::Int(0))),
            )
        });
        if !inserted {
            if o.expire != NO_EXPIRE {
                self.expires -= 1;
            }
            if let Some(v) = val {
                // An overwrite keeps the LFU data (Redis's dbSetValue).
                let lru = if lfu_mode() { o.lru } else { new_clock() };
                *o = Obj::new(v);
                o.lru = lru;
            }
        } else {
            key_created(&mut self.new_pending, key);
        }
    }

    /// Set a key's value, keeping its TTL if it has one.
    pub fn set_keep_ttl(&mut self, key: &[u8], val: Value) {
        let mut val = Some(val);
        let (o, inserted) = self.dict.get_or_insert_with(key, || {
            (
                SBytes::new(key),
                Obj::new(val.take().unwrap_or(Value::Int(0))),
            )
        });
        if !inserted {
            if let Some(v) = val {
                o.val = v;
                if !lfu_mode() {
                    o.lru = lru_clock();
                }
            }
        } else {
            key_created(&mut self.new_pending, key);
        }
    }

    /// Insert an object (value and expiry) under a key, replacing any.
    pub fn insert_obj(&mut self, key: &[u8], obj: Obj) {
        self.insert_obj_hashed(dict::hash_bytes(key), SBytes::new(key), obj)
    }

    /// `insert_obj` with the key already built and hashed (`hash_bytes`).
    pub fn insert_obj_hashed(&mut self, h: u64, key: SBytes, obj: Obj) {
        let has_exp = obj.expire != NO_EXPIRE;
        let created = NOTIFY_NEW_KEYS
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| key.clone());
        match self.dict.insert_hashed(h, key, obj) {
            Some(old) if old.expire != NO_EXPIRE => self.expires -= 1,
            Some(_) => {}
            None => {
                if let Some(k) = created {
                    self.new_pending.push(k);
                }
            }
        }
        if has_exp {
            self.expires += 1;
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Obj> {
        let (_, o) = self.dict.remove(key)?;
        if o.expire != NO_EXPIRE {
            self.expires -= 1;
        }
        Some(o)
    }

    /// Set an absolute expiry (ms) on an existing key.
    pub fn set_expire(&mut self, key: &[u8], when: i64) {
        if let Some(o) = self.dict.get_mut(key) {
            if o.expire == NO_EXPIRE {
                self.expires += 1;
            }
            o.expire = when;
        }
    }

    /// Remove the TTL; true if there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        if let Some(o) = self.dict.get_mut(key) {
            if o.expire != NO_EXPIRE {
                o.expire = NO_EXPIRE;
                self.expires -= 1;
                return true;
            }
        }
        false
    }

    pub fn get_expire(&self, key: &[u8]) -> i64 {
        self.dict.get(key).map(|o| o.expire).unwrap_or(NO_EXPIRE)
    }

    pub fn clear(&mut self) -> usize {
        let n = self.dict.len();
        self.dict.clear();
        self.expires = 0;
        self.avg_ttl = 0;
        self.expire_cursor = 0;
        n
    }

    /// A random non-expired key (RANDOMKEY); expired keys met on the way
    /// are reclaimed. Gives up on an all-volatile db after many tries, as
    /// Redis does, returning whatever it found last.
    pub fn random_key(&mut self, now: i64) -> Option<SBytes> {
        let mut tries = 0;
        loop {
            let (k, o) = self.dict.random_entry()?;
            let k = k.clone();
            if o.expire != NO_EXPIRE && o.expire <= now {
                tries += 1;
                if self.expires == self.dict.len() && tries > 100 {
                    return Some(k);
                }
                self.expire_if_needed(&k, now);
                continue;
            }
            return Some(k);
        }
    }

    /// One step of active expiry: scan up to `max_buckets` buckets from the
    /// saved cursor, deleting expired keys. Returns (checked, expired).
    pub fn active_expire_step(&mut self, now: i64, max_buckets: usize) -> (usize, usize) {
        if self.expires == 0 {
            return (0, 0);
        }
        let mut checked = 0;
        let mut victims: Vec<SBytes> = Vec::new();
        let mut ttl_sum: i64 = 0;
        let mut ttl_n: i64 = 0;
        let mut cursor = self.expire_cursor;
        for _ in 0..max_buckets {
            cursor = self.dict.scan(cursor, |k, o| {
                if o.expire != NO_EXPIRE {
                    checked += 1;
                    if o.expire <= now {
                        victims.push(k.clone());
                    } else {
                        ttl_sum += o.expire - now;
                        ttl_n += 1;
                    }
                }
            });
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        if ttl_n > 0 {
            let avg = ttl_sum / ttl_n;
            // Same smoothing as Redis: weight the old estimate 98%.
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                (self.avg_ttl / 50) * 49 + avg / 50
            };
        }
        let n = victims.len();
        for k in victims {
            if self.dict.remove(&k).is_some() {
                self.expires -= 1;
                self.expired_pending.push(k);
                EXPIRED_PENDING.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        (checked, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert!(
            std::mem::size_of::<Value>() <= 24,
            "{}",
            std::mem::size_of::<Value>()
        );
        assert!(std::mem::size_of::<Obj>() <= 40);
    }

    #[test]
    fn lazy_and_active_expiry() {
        let mut db = Db::new(0);
        db.set(b"a", Value::from_bytes(b"1"));
        db.set_expire(b"a", 100);
        assert_eq!(db.expires, 1);
        assert!(db.lookup(b"a", 50).is_some());
        assert!(db.lookup(b"a", 100).is_none());
        assert_eq!(db.expires, 0);
        assert_eq!(db.expired_pending.len(), 1);
        for i in 0..100 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), Value::Int(i));
            db.set_expire(k.as_bytes(), 10);
        }
        let (_, n) = db.active_expire_step(20, 1 << 20);
        assert_eq!(n, 100);
        assert_eq!(db.len(), 0);
    }
}

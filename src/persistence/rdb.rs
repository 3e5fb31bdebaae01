//! RDB files (version 10, as Redis 7.0 writes them): the encoder, and a
//! loader that also takes the encodings Redis 6 and 7.2 write (ziplist,
//! listpack, intset, zipmap, quicklist). The CRC-64 trailer is Redis's
//! (crc crate, CRC_64_REDIS).

use crate::db::hash::{Hash, Limits as HashLimits};
use crate::db::list::List;
use crate::db::set::Set;
use crate::db::zset::{Limits as ZLimits, ZSet};
use crate::db::{Db, Obj, SBytes, Value, NO_EXPIRE};
use std::borrow::Cow;

pub const RDB_VERSION: u16 = 10;

const T_STRING: u8 = 0;
const T_LIST: u8 = 1;
const T_SET: u8 = 2;
const T_ZSET: u8 = 3;
const T_HASH: u8 = 4;
const T_ZSET2: u8 = 5;
const T_HASH_ZIPMAP: u8 = 9;
const T_LIST_ZIPLIST: u8 = 10;
const T_SET_INTSET: u8 = 11;
const T_ZSET_ZIPLIST: u8 = 12;
const T_HASH_ZIPLIST: u8 = 13;
const T_LIST_QUICKLIST: u8 = 14;
const T_HASH_LISTPACK: u8 = 16;
const T_ZSET_LISTPACK: u8 = 17;
const T_LIST_QUICKLIST2: u8 = 18;
const T_STREAM_LISTPACKS: u8 = 15;
const T_STREAM_LISTPACKS_2: u8 = 19;
const T_SET_LISTPACK: u8 = 20;
const T_STREAM_LISTPACKS_3: u8 = 21;

const OP_FUNCTION2: u8 = 245;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

/// Redis's CRC-64, slicing-by-16 (the bytewise table was a tenth of a
/// load's time); the tables are built at compile time.
pub static CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

pub fn crc64(data: &[u8]) -> u64 {
    CRC64.checksum(data)
}

// ------------------------------------------------------------ writing

/// Quicklist nodes smaller than this are never compressed (Redis's
/// MIN_COMPRESS_BYTES), nor when LZF saves fewer than 8 bytes.
const MIN_COMPRESS_BYTES: usize = 48;
const MIN_COMPRESS_IMPROVE: usize = 8;

/// Elements of 1 GB and more sit in "plain" quicklist nodes.
const PACKED_THRESHOLD: usize = 1 << 30;

pub struct Writer {
    pub buf: Vec<u8>,
    /// rdbcompression: LZF-compress strings longer than 20 bytes.
    pub compress: bool,
    /// list-compress-depth: list nodes this far from both ends are kept
    /// plain; inner ones are written LZF-compressed, as Redis keeps them.
    pub list_compress_depth: usize,
}

impl Writer {
    pub fn new(compress: bool, list_compress_depth: usize) -> Writer {
        Writer {
            buf: Vec::new(),
            compress,
            list_compress_depth,
        }
    }

    pub fn write_len(&mut self, n: u64) {
        if n < 64 {
            self.buf.push(n as u8);
        } else if n < 16384 {
            self.buf.push(0x40 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else if n <= u32::MAX as u64 {
            self.buf.push(0x80);
            self.buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.buf.push(0x81);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// A string, as an integer encoding when it is a small canonical
    /// integer, LZF-compressed when that saves at least 4 bytes (Redis's
    /// rdbSaveRawString).
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = crate::util::parse_i64(s) {
                if self.int_string(v) {
                    return;
                }
            }
        }
        if self.compress && s.len() > 20 {
            if let Some(c) = super::lzf::compress(s, s.len() - 4) {
                self.lzf_blob(&c, s.len());
                return;
            }
        }
        self.write_len(s.len() as u64);
        self.buf.extend_from_slice(s);
    }

    fn lzf_blob(&mut self, c: &[u8], orig: usize) {
        self.buf.push(0xC3);
        self.write_len(c.len() as u64);
        self.write_len(orig as u64);
        self.buf.extend_from_slice(c);
    }

    fn int_string(&mut self, v: i64) -> bool {
        if (-128..=127).contains(&v) {
            self.buf.push(0xC0);
            self.buf.push(v as i8 as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xC1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xC2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            return false;
        }
        true
    }

    /// A key's idle time (LRU policies) or frequency (LFU policies), as
    /// Redis writes them before the key.
    fn clock_info(&mut self, lru: u32) {
        match crate::db::CLOCK_KIND.load(std::sync::atomic::Ordering::Relaxed) {
            crate::db::CLOCK_LRU_POLICY => {
                self.buf.push(OP_IDLE);
                self.write_len(crate::db::lru_clock().saturating_sub(lru) as u64);
            }
            crate::db::CLOCK_LFU => {
                self.buf.push(OP_FREQ);
                self.buf.push(crate::db::lfu_counter(lru) as u8);
            }
            _ => {}
        }
    }

    fn aux(&mut self, k: &str, v: &str) {
        self.buf.push(OP_AUX);
        self.string(k.as_bytes());
        self.string(v.as_bytes());
    }

    /// A quicklist: node count, then each node's container type and blob.
    fn list(&mut self, l: &List) {
        let nodes: Vec<(bool, Vec<&[u8]>)> = l.nodes().collect();
        self.write_len(nodes.len() as u64);
        let depth = self.list_compress_depth;
        let n = nodes.len();
        let compressing = depth > 0 && n >= depth * 2;
        for (i, (plain, elems)) in nodes.into_iter().enumerate() {
            let plain = plain || (elems.len() == 1 && elems[0].len() >= PACKED_THRESHOLD);
            self.write_len(if plain { 1 } else { 2 });
            let blob: std::borrow::Cow<[u8]> = if plain {
                std::borrow::Cow::Borrowed(elems[0])
            } else {
                let mut b = super::compact::LpBuilder::new();
                for e in &elems {
                    b.push(e);
                }
                std::borrow::Cow::Owned(b.finish())
            };
            if compressing && i >= depth && i < n - depth && blob.len() >= MIN_COMPRESS_BYTES {
                if let Some(c) = super::lzf::compress(&blob, blob.len()) {
                    if c.len() + MIN_COMPRESS_IMPROVE < blob.len() {
                        self.lzf_blob(&c, blob.len());
                        continue;
                    }
                }
            }
            self.string(&blob);
        }
    }

    /// A stream as RDB_TYPE_STREAM_LISTPACKS_2: the nodes as they are,
    /// the metadata, then every group with its PEL and consumers.
    fn stream(&mut self, st: &crate::db::stream::Stream) {
        self.write_len(st.rax.len() as u64);
        for (k, lp) in &st.rax {
            self.string(&k.to_be());
            self.string(lp);
        }
        self.write_len(st.length);
        for id in [st.last_id, st.first_id, st.max_deleted_entry_id] {
            self.write_len(id.ms);
            self.write_len(id.seq);
        }
        self.write_len(st.entries_added);
        self.write_len(st.group_count() as u64);
        for (name, g) in st.groups() {
            self.string(name);
            self.write_len(g.last_id.ms);
            self.write_len(g.last_id.seq);
            self.write_len(g.entries_read as u64);
            self.write_len(g.pel.len() as u64);
            for (id, n) in &g.pel {
                self.buf.extend_from_slice(&id.to_be());
                self.buf.extend_from_slice(&n.delivery_time.to_le_bytes());
                self.write_len(n.delivery_count);
            }
            self.write_len(g.consumers.len() as u64);
            for (cname, c) in &g.consumers {
                self.string(cname);
                self.buf.extend_from_slice(&c.seen_time.to_le_bytes());
                self.write_len(c.pel.len() as u64);
                for id in &c.pel {
                    self.buf.extend_from_slice(&id.to_be());
                }
            }
        }
    }

    /// Type byte and payload of a value (no key), in the encoding Redis
    /// 7.0 writes for the value's current in-memory encoding.
    pub fn value(&mut self, v: &Value) {
        self.buf.push(type_byte(v));
        self.payload(v);
    }

    /// The payload of a value, after its type byte (and key, in a file).
    fn payload(&mut self, v: &Value) {
        use super::compact::{intset_blob, intset_width, LpBuilder};
        match v {
            Value::Int(n) => {
                if !self.int_string(*n) {
                    self.string(n.to_string().as_bytes());
                }
            }
            Value::Str(s) => self.string(s),
            Value::Raw(s) => self.string(s),
            Value::List(l) => self.list(l),
            Value::Set(s) => match &**s {
                crate::db::set::Set::Int(v) => {
                    let blob = intset_blob(v, intset_width(v));
                    self.string(&blob);
                }
                _ => {
                    self.write_len(s.len() as u64);
                    s.for_each(|m| self.string(m));
                }
            },
            Value::ZSet(z) => {
                if z.encoding() == "listpack" {
                    let mut b = LpBuilder::new();
                    for (score, m) in z.tree.iter() {
                        b.push(m);
                        match double_to_int(*score) {
                            Some(i) => b.push_int(i),
                            None => b.push(crate::util::format_double_g17(*score).as_bytes()),
                        }
                    }
                    let blob = b.finish();
                    self.string(&blob);
                } else {
                    self.write_len(z.len() as u64);
                    // Redis writes skiplists from the tail.
                    for (score, m) in z.tree.iter_rev_from(z.len().saturating_sub(1)) {
                        self.string(m);
                        self.buf.extend_from_slice(&score.to_le_bytes());
                    }
                }
            }
            Value::Stream(st) => self.stream(st),
            Value::Hash(h) => {
                let pairs = h.pairs();
                if h.encoding() == "listpack" {
                    let mut b = LpBuilder::new();
                    for (f, v) in &pairs {
                        b.push(f);
                        b.push(v);
                    }
                    let blob = b.finish();
                    self.string(&blob);
                } else {
                    self.write_len(pairs.len() as u64);
                    for (f, v) in pairs {
                        self.string(&f);
                        self.string(&v);
                    }
                }
            }
        }
    }
}

/// The RDB type byte Redis 7.0 writes for a value's encoding.
fn type_byte(v: &Value) -> u8 {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => T_STRING,
        Value::List(_) => T_LIST_QUICKLIST2,
        Value::Set(s) => match &**s {
            crate::db::set::Set::Int(_) => T_SET_INTSET,
            _ => T_SET,
        },
        Value::ZSet(z) if z.encoding() == "listpack" => T_ZSET_LISTPACK,
        Value::ZSet(_) => T_ZSET2,
        Value::Hash(h) if h.encoding() == "listpack" => T_HASH_LISTPACK,
        Value::Hash(_) => T_HASH,
        Value::Stream(_) => T_STREAM_LISTPACKS_2,
    }
}

/// The integer a listpack zset stores for `d` (Redis's double2ll: whole
/// numbers within +-LLONG_MAX/2), else None (stored as %.17g text).
fn double_to_int(d: f64) -> Option<i64> {
    let lim = (i64::MAX / 2) as f64;
    if !(-lim..=lim).contains(&d) {
        return None;
    }
    let l = d as i64;
    (l as f64 == d).then_some(l)
}

/// How to write a snapshot.
#[derive(Clone, Copy, Default)]
pub struct DumpOptions {
    /// rdbcompression
    pub compress: bool,
    /// rdbchecksum
    pub checksum: bool,
    /// Written as an AOF base file (aof-base aux field).
    pub aof_base: bool,
    /// list-compress-depth
    pub list_compress_depth: usize,
    /// rdb-key-save-delay: microseconds slept after each key (a testing
    /// aid that makes background saves slow).
    pub key_save_delay_us: i64,
}

/// Serialize the whole dataset.
pub fn dump(dbs: &[Db], functions: &[Vec<u8>], opt: &DumpOptions) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 16);
    // Writing to a Vec cannot fail.
    let _ = dump_to(dbs, functions, opt, &mut out, &mut |_| {});
    out
}

/// Bytes buffered before they go to the sink while streaming a dump.
const STREAM_CHUNK: usize = 64 * 1024;

/// Serialize the whole dataset into `out` as it goes (a child saving a
/// snapshot writes its file this way, without holding the image in
/// memory). `on_key` is called after each key with the count so far.
pub fn dump_to<W: std::io::Write>(
    dbs: &[Db],
    functions: &[Vec<u8>],
    opt: &DumpOptions,
    out: &mut W,
    on_key: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let mut digest = CRC64.digest();
    let mut w = Writer::new(opt.compress, opt.list_compress_depth);
    w.buf.reserve(STREAM_CHUNK * 2);
    let mut spill = |w: &mut Writer, out: &mut W| -> std::io::Result<()> {
        if opt.checksum {
            digest.update(&w.buf);
        }
        out.write_all(&w.buf)?;
        w.buf.clear();
        Ok(())
    };
    w.buf
        .extend_from_slice(format!("REDIS{:04}", RDB_VERSION).as_bytes());
    w.aux("redis-ver", crate::REDIS_VERSION);
    w.aux("redis-bits", "64");
    w.aux("ctime", &(crate::util::mstime() / 1000).to_string());
    w.aux("used-mem", &crate::server::alloc::used_memory().to_string());
    w.aux("aof-base", if opt.aof_base { "1" } else { "0" });
    for code in functions {
        w.buf.push(OP_FUNCTION2);
        w.string(code);
    }
    let mut keys = 0u64;
    for db in dbs {
        if db.is_empty() {
            continue;
        }
        w.buf.push(OP_SELECTDB);
        w.write_len(db.id as u64);
        w.buf.push(OP_RESIZEDB);
        w.write_len(db.len() as u64);
        w.write_len(db.expires as u64);
        for (k, o) in db.dict.iter() {
            if o.expire != NO_EXPIRE {
                w.buf.push(OP_EXPIRETIME_MS);
                w.buf.extend_from_slice(&o.expire.to_le_bytes());
            }
            w.clock_info(o.lru);
            // Type byte first, then key, then payload.
            w.buf.push(type_byte(&o.val));
            w.string(k);
            w.payload(&o.val);
            if w.buf.len() >= STREAM_CHUNK {
                spill(&mut w, out)?;
            }
            keys += 1;
            on_key(keys);
            if opt.key_save_delay_us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(
                    opt.key_save_delay_us as u64,
                ));
            }
        }
    }
    w.buf.push(OP_EOF);
    spill(&mut w, out)?;
    let sum = if opt.checksum { digest.finalize() } else { 0 };
    out.write_all(&sum.to_le_bytes())
}

// ------------------------------------------------------------ reading

#[derive(Debug)]
pub struct LoadError(pub String);

type R<T> = Result<T, LoadError>;

fn short<T>() -> R<T> {
    Err(LoadError(
        "Short read or OOM loading DB. Unrecoverable error, aborting now.".into(),
    ))
}

fn corrupt<T>(msg: &str) -> R<T> {
    Err(LoadError(msg.to_string()))
}

pub struct Reader<'a> {
    pub b: &'a [u8],
    pub pos: usize,
    /// Deep sanitizations performed (INFO dump_payload_sanitizations).
    pub sanitized: u64,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8], pos: usize) -> Reader<'a> {
        Reader {
            b,
            pos,
            sanitized: 0,
        }
    }
    pub fn byte(&mut self) -> R<u8> {
        let c = *self.b.get(self.pos).ok_or(()).or_else(|_| short())?;
        self.pos += 1;
        Ok(c)
    }
    /// A millisecond time, 8 bytes little endian.
    fn ms_time(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or([0; 8]),
        ))
    }
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if self.pos.checked_add(n).is_none_or(|e| e > self.b.len()) {
            return short();
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    /// A length, or (value, true) for a special string encoding.
    fn len_enc(&mut self) -> R<(u64, bool)> {
        let c = self.byte()?;
        Ok(match c >> 6 {
            0 => ((c & 0x3f) as u64, false),
            1 => ((((c & 0x3f) as u64) << 8) | self.byte()? as u64, false),
            2 if c == 0x80 => (
                u32::from_be_bytes(self.take(4)?.try_into().unwrap_or([0; 4])) as u64,
                false,
            ),
            2 if c == 0x81 => (
                u64::from_be_bytes(self.take(8)?.try_into().unwrap_or([0; 8])),
                false,
            ),
            3 => ((c & 0x3f) as u64, true),
            _ => {
                return Err(LoadError(format!(
                    "Unknown length encoding {} in rdbLoadLen()",
                    c
                )))
            }
        })
    }
    pub fn read_len(&mut self) -> R<u64> {
        match self.len_enc()? {
            (n, false) => Ok(n),
            _ => Err(LoadError("Unexpected encoded length".into())),
        }
    }
    pub fn string(&mut self) -> R<Vec<u8>> {
        self.string_cow().map(Cow::into_owned)
    }
    /// A string, borrowed from the image unless it had to be decoded.
    pub fn string_cow(&mut self) -> R<Cow<'a, [u8]>> {
        let (n, special) = self.len_enc()?;
        if !special {
            return Ok(Cow::Borrowed(
                self.take(usize::try_from(n).unwrap_or(usize::MAX))?,
            ));
        }
        self.encoded_string(n).map(Cow::Owned)
    }
    fn encoded_string(&mut self, n: u64) -> R<Vec<u8>> {
        match n {
            0 => Ok((self.byte()? as i8).to_string().into_bytes()),
            1 => Ok(
                i16::from_le_bytes(self.take(2)?.try_into().unwrap_or([0; 2]))
                    .to_string()
                    .into_bytes(),
            ),
            2 => Ok(
                i32::from_le_bytes(self.take(4)?.try_into().unwrap_or([0; 4]))
                    .to_string()
                    .into_bytes(),
            ),
            3 => {
                let clen = self.read_len()?;
                let olen = self.read_len()?;
                let data = self.take(usize::try_from(clen).unwrap_or(usize::MAX))?;
                if olen == 0 {
                    return corrupt("Invalid LZF compressed string");
                }
                super::lzf::decompress(data, usize::try_from(olen).unwrap_or(usize::MAX))
                    .ok_or_else(|| LoadError("Invalid LZF compressed string".into()))
            }
            _ => Err(LoadError(format!("Unknown RDB string encoding type {}", n))),
        }
    }
    fn f64_bin(&mut self) -> R<f64> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or([0; 8]),
        ))
    }
    /// Old zset score: a length byte then the number as text.
    fn f64_text(&mut self) -> R<f64> {
        let n = self.byte()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let s = self.take(n as usize)?;
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| LoadError("Invalid double value".into()))
            }
        }
    }
}

/// Limits for building values on load (from the config).
#[derive(Clone, Copy)]
pub struct BuildLimits {
    pub hash: HashLimits,
    pub zset: ZLimits,
    pub intset: usize,
    pub list_fill: i64,
    /// Deep sanitization of compact encodings (sanitize-dump-payload).
    pub deep: bool,
    /// Ignore checksums (DEBUG SET-SKIP-CHECKSUM-VALIDATION).
    pub skip_checksum: bool,
}

const NO_LIMIT: usize = usize::MAX;

/// A hash from pairs in load order. `packed` keeps a listpack whatever
/// the value lengths (Redis converts loaded listpacks on count only).
fn build_hash(pairs: Vec<(Vec<u8>, Vec<u8>)>, lim: &BuildLimits, packed: bool) -> Value {
    let l = if packed && pairs.len() <= lim.hash.entries {
        HashLimits {
            entries: NO_LIMIT,
            value: NO_LIMIT,
        }
    } else {
        lim.hash
    };
    let mut h = Hash::default();
    for (f, v) in pairs {
        h.set(&f, &v, l);
    }
    Value::Hash(h)
}

/// A zset from unique (member, score) pairs; `packed` as for hashes.
fn build_zset(pairs: Vec<(Vec<u8>, f64)>, lim: &BuildLimits, packed: bool) -> Value {
    let l = if packed && pairs.len() <= lim.zset.entries {
        ZLimits {
            entries: NO_LIMIT,
            value: NO_LIMIT,
        }
    } else {
        lim.zset
    };
    let v: Vec<(f64, SBytes)> = pairs
        .into_iter()
        .map(|(m, s)| (s, SBytes::from_vec(m)))
        .collect();
    Value::ZSet(Box::new(ZSet::from_pairs(v, l)))
}

/// Split a flat element list into pairs, refusing odd counts and (when
/// asked) duplicate first elements.
fn pairs_of(elems: Vec<Elem>, dups: bool) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !elems.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(elems.len() / 2);
    let mut seen = std::collections::HashSet::new();
    let mut it = elems.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        let f = f.into_bytes();
        if dups && !seen.insert(f.clone()) {
            return None;
        }
        out.push((f, v.into_bytes()));
    }
    Some(out)
}

fn has_dup_fields(pairs: &[(Vec<u8>, Vec<u8>)]) -> bool {
    let mut seen = std::collections::HashSet::new();
    pairs.iter().any(|(f, _)| !seen.insert(f.as_slice()))
}

fn zset_pairs(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Option<Vec<(Vec<u8>, f64)>> {
    let mut v = Vec::with_capacity(pairs.len());
    for (m, s) in pairs {
        let score = crate::util::parse_f64(&s)?;
        if score.is_nan() {
            return None;
        }
        v.push((m, score));
    }
    Some(v)
}

fn list_from<'a, I: IntoIterator<Item = &'a [u8]>>(items: I, lim: &BuildLimits) -> Value {
    Value::List(Box::new(List::from_iter(items, lim.list_fill)))
}

use super::compact::{intset_members, lp_elems, lp_walk, ziplist_elems, zipmap_pairs, Elem};

/// Entries to pre-allocate for a collection claiming `n`: never more
/// than the bytes left, so a corrupt length cannot exhaust memory.
fn prealloc(r: &Reader, n: usize) -> usize {
    n.min(r.b.len().saturating_sub(r.pos))
}

/// A T_HASH too big for a listpack: straight into a table sized for it
/// (duplicates found by the table itself).
fn big_hash(r: &mut Reader, n: usize) -> R<Value> {
    let mut d = crate::db::Dict::with_capacity(prealloc(r, n));
    for _ in 0..n {
        let f = SBytes::new(&r.string_cow()?);
        let v = SBytes::new(&r.string_cow()?);
        if d.insert(f, v).is_some() {
            return corrupt("Duplicate hash fields detected");
        }
    }
    Ok(Value::Hash(Hash::Table(Box::new(d))))
}

/// The score after a member: binary in T_ZSET2, text in T_ZSET; NaN is
/// corrupt.
fn zset_score(r: &mut Reader, t: u8) -> R<f64> {
    let s = if t == T_ZSET2 {
        r.f64_bin()?
    } else {
        r.f64_text()?
    };
    if s.is_nan() {
        return corrupt("Zset with NAN score detected");
    }
    Ok(s)
}

/// A T_ZSET/T_ZSET2 too big for a listpack: the member table (which
/// finds duplicates) and the ordered entries, built once each.
fn big_zset(r: &mut Reader, t: u8, n: usize) -> R<Value> {
    let cap = prealloc(r, n);
    let mut d = crate::db::Dict::with_capacity(cap);
    let mut v: Vec<(f64, SBytes)> = Vec::with_capacity(cap);
    for _ in 0..n {
        let m = SBytes::new(&r.string_cow()?);
        let s = zset_score(r, t)?;
        if d.insert(m.clone(), s).is_some() {
            return corrupt("Duplicate zset fields detected");
        }
        v.push((s, m));
    }
    // Redis writes members highest first: the sort sees one descending run.
    v.sort_by(|a, b| crate::db::zset::cmp_entry(a.0, &a.1, b.0, &b.1));
    Ok(Value::ZSet(Box::new(ZSet {
        tree: crate::db::zset::ZTree::from_sorted(v),
        dict: Some(d),
    })))
}

/// Does a packed hash repeat a field? Small ones compare pairwise (no
/// allocation), bigger ones sort the fields.
fn packed_has_dup(pack: &[u8], pairs: usize) -> bool {
    let fields = || crate::db::hash::pack_pairs(pack).map(|(f, _)| f);
    if pairs <= 16 {
        let mut seen: [&[u8]; 16] = [&[]; 16];
        for (i, f) in fields().enumerate() {
            if seen[..i].contains(&f) {
                return true;
            }
            seen[i] = f;
        }
        return false;
    }
    let mut v: Vec<&[u8]> = fields().collect();
    v.sort_unstable();
    v.windows(2).any(|w| w[0] == w[1])
}

/// A hash from a listpack blob, validated as it is converted to our
/// packed form (no per-element allocation); a table when it has more
/// entries than hash-max-listpack-entries (Redis converts loaded
/// listpacks on count only).
fn hash_from_listpack(lp: &[u8], deep: bool, lim: &BuildLimits) -> R<Option<Value>> {
    let bad = || corrupt("Hash listpack integrity check failed.");
    let mut pack = Vec::with_capacity(lp.len());
    let mut tmp = [0u8; 24];
    let Some(n) = lp_walk(lp, deep, |v| {
        crate::db::hash::pack_push(&mut pack, v.bytes(&mut tmp))
    }) else {
        return bad();
    };
    if n % 2 != 0 {
        return bad();
    }
    if n == 0 {
        return Ok(None);
    }
    let pairs = n / 2;
    if pairs <= lim.hash.entries {
        if packed_has_dup(&pack, pairs) {
            return bad();
        }
        return Ok(Some(Value::Hash(Hash::Pack(pack.into_boxed_slice()))));
    }
    let mut d = crate::db::Dict::with_capacity(pairs);
    for (f, v) in crate::db::hash::pack_pairs(&pack) {
        if d.insert(SBytes::new(f), SBytes::new(v)).is_some() {
            if !deep {
                tracing::warn!("listpack with dup elements");
            }
            return bad();
        }
    }
    Ok(Some(Value::Hash(Hash::Table(Box::new(d)))))
}

/// Read one value of type `t`. Ok(None) is an empty collection, which
/// Redis skips when loading a file and refuses in RESTORE.
pub fn read_value(r: &mut Reader, t: u8, lim: &BuildLimits) -> R<Option<Value>> {
    let deep = lim.deep;
    Ok(Some(match t {
        T_STRING => Value::from_bytes(&r.string_cow()?),
        T_LIST => {
            let n = r.read_len()?;
            if n == 0 {
                return Ok(None);
            }
            let mut l = List::new();
            for _ in 0..n {
                l.push_back(&r.string_cow()?, lim.list_fill);
            }
            Value::List(Box::new(l))
        }
        T_SET => {
            let n = r.read_len()?;
            if n == 0 {
                return Ok(None);
            }
            let mut s = Set::default();
            for _ in 0..n {
                let m = r.string()?;
                if !s.add(&m, lim.intset) {
                    return corrupt("Duplicate set members detected");
                }
            }
            Value::Set(Box::new(s))
        }
        T_ZSET | T_ZSET2 => {
            let n = r.read_len()?;
            if n == 0 {
                return Ok(None);
            }
            if n as usize > lim.zset.entries {
                return big_zset(r, t, n as usize).map(Some);
            }
            let mut v = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for _ in 0..n {
                let m = r.string()?;
                let s = zset_score(r, t)?;
                if !seen.insert(m.clone()) {
                    return corrupt("Duplicate zset fields detected");
                }
                v.push((m, s));
            }
            build_zset(v, lim, false)
        }
        T_HASH => {
            let n = r.read_len()?;
            if n == 0 {
                return Ok(None);
            }
            if n as usize > lim.hash.entries {
                return big_hash(r, n as usize).map(Some);
            }
            let mut v = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for _ in 0..n {
                let f = r.string()?;
                let val = r.string()?;
                if !seen.insert(f.clone()) {
                    return corrupt(if deep && n as usize <= lim.hash.entries {
                        "Hash with dup elements"
                    } else {
                        "Duplicate hash fields detected"
                    });
                }
                v.push((f, val));
            }
            build_hash(v, lim, false)
        }
        T_HASH_ZIPMAP => {
            let Some(pairs) = zipmap_pairs(&r.string()?) else {
                return corrupt("Zipmap integrity check failed.");
            };
            if has_dup_fields(&pairs) {
                return Err(LoadError(format!(
                    "Hash zipmap with dup elements, or big length ({})",
                    pairs.len()
                )));
            }
            build_hash(pairs, lim, false)
        }
        T_HASH_ZIPLIST => {
            let Some(pairs) = ziplist_elems(&r.string()?).and_then(|e| pairs_of(e, true)) else {
                return corrupt("Hash ziplist integrity check failed.");
            };
            if pairs.is_empty() {
                return Ok(None);
            }
            build_hash(pairs, lim, true)
        }
        T_HASH_LISTPACK => {
            if deep {
                r.sanitized += 1;
            }
            return hash_from_listpack(&r.string_cow()?, deep, lim);
        }
        T_SET_INTSET => {
            if deep {
                r.sanitized += 1;
            }
            let Some((mut v, _)) = intset_members(&r.string()?, deep) else {
                return corrupt("Intset integrity check failed.");
            };
            v.sort_unstable();
            v.dedup();
            if v.len() <= lim.intset {
                Value::Set(Box::new(Set::Int(v)))
            } else {
                Value::Set(Box::new(Set::from_members(
                    v.iter().map(|n| n.to_string()),
                    0,
                )))
            }
        }
        T_SET_LISTPACK => {
            if deep {
                r.sanitized += 1;
            }
            let Some(e) = lp_elems(&r.string()?, deep) else {
                return corrupt("Set listpack integrity check failed.");
            };
            if e.is_empty() {
                return Ok(None);
            }
            let members: Vec<Vec<u8>> = e.into_iter().map(Elem::into_bytes).collect();
            let mut s = Set::default();
            for m in &members {
                if !s.add(m, lim.intset) && deep {
                    return corrupt("Set listpack integrity check failed.");
                }
            }
            Value::Set(Box::new(s))
        }
        T_ZSET_ZIPLIST => {
            let Some(pairs) = ziplist_elems(&r.string()?)
                .and_then(|e| pairs_of(e, true))
                .and_then(zset_pairs)
            else {
                return corrupt("Zset ziplist integrity check failed.");
            };
            if pairs.is_empty() {
                return Ok(None);
            }
            build_zset(pairs, lim, true)
        }
        T_ZSET_LISTPACK => {
            if deep {
                r.sanitized += 1;
            }
            let Some(pairs) = lp_elems(&r.string()?, deep)
                .and_then(|e| pairs_of(e, deep))
                .and_then(zset_pairs)
            else {
                return corrupt("Zset listpack integrity check failed.");
            };
            if pairs.is_empty() {
                return Ok(None);
            }
            // Without deep checks duplicates are not refused; keep the
            // first of each member.
            let mut seen = std::collections::HashSet::new();
            let pairs: Vec<_> = pairs
                .into_iter()
                .filter(|(m, _)| seen.insert(m.clone()))
                .collect();
            build_zset(pairs, lim, true)
        }
        T_LIST_ZIPLIST => {
            let Some(e) = ziplist_elems(&r.string()?) else {
                return corrupt("List ziplist integrity check failed.");
            };
            if e.is_empty() {
                return Ok(None);
            }
            let items: Vec<Vec<u8>> = e.into_iter().map(Elem::into_bytes).collect();
            list_from(items.iter().map(|i| i.as_slice()), lim)
        }
        T_LIST_QUICKLIST | T_LIST_QUICKLIST2 => {
            let nodes = r.read_len()?;
            if nodes == 0 {
                return Ok(None);
            }
            let mut l = List::new();
            for _ in 0..nodes {
                // Quicklist 2 nodes carry a container type: 1 plain, 2 packed.
                let container = if t == T_LIST_QUICKLIST2 {
                    r.read_len()?
                } else {
                    2
                };
                if container != 1 && container != 2 {
                    return corrupt("Quicklist integrity check failed.");
                }
                let blob = r.string_cow()?;
                if blob.is_empty() {
                    return corrupt("Quicklist node is empty");
                }
                if container == 1 {
                    l.push_node([&blob[..]], true);
                    continue;
                }
                if t == T_LIST_QUICKLIST2 {
                    if deep {
                        r.sanitized += 1;
                    }
                    if l.push_listpack_node(blob, deep).is_none() {
                        return corrupt("Listpack integrity check failed.");
                    }
                    continue;
                }
                let Some(elems) = ziplist_elems(&blob) else {
                    return corrupt("Ziplist integrity check failed.");
                };
                let items: Vec<Vec<u8>> = elems.into_iter().map(Elem::into_bytes).collect();
                l.push_node(items.iter().map(|i| i.as_slice()), false);
            }
            if l.is_empty() {
                return Ok(None);
            }
            Value::List(Box::new(l))
        }
        T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 | T_STREAM_LISTPACKS_3 => {
            Value::Stream(Box::new(read_stream(r, t, deep)?))
        }
        6 | 7 => return corrupt("Modules are not supported: this RDB holds a module key"),
        other => return Err(LoadError(format!("Unknown RDB encoding type {}", other))),
    }))
}

/// A stream of RDB type 15, 19 or 21 (Redis's rdbLoadObject). Nodes are
/// always validated deeply: a stream is walked by offsets, so a corrupt
/// node must never get in, whatever sanitize-dump-payload says.
fn read_stream(r: &mut Reader, t: u8, deep: bool) -> R<crate::db::stream::Stream> {
    use crate::db::stream::{validate_node, Consumer, Nack, Stream, StreamId};
    let mut s = Stream::new();
    let nodes = r.read_len()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let Some(master) = StreamId::from_be(&key) else {
            return corrupt("Stream node key entry is not the size of a stream ID");
        };
        let lp = r.string()?;
        if deep {
            r.sanitized += 1;
        }
        if !validate_node(&lp) {
            return corrupt("Stream listpack integrity check failed.");
        }
        if super::compact::lp_elems(&lp, false).is_none_or(|e| e.is_empty()) {
            return corrupt("Empty listpack inside stream");
        }
        if s.rax.insert(master, lp).is_some() {
            return corrupt("Listpack re-added with existing key");
        }
    }
    s.length = r.read_len()?;
    s.last_id = StreamId::new(r.read_len()?, r.read_len()?);
    if t == T_STREAM_LISTPACKS {
        s.entries_added = s.length;
        s.first_id = s.edge_id(true).unwrap_or(StreamId::MIN);
    } else {
        s.first_id = StreamId::new(r.read_len()?, r.read_len()?);
        s.max_deleted_entry_id = StreamId::new(r.read_len()?, r.read_len()?);
        s.entries_added = r.read_len()?;
    }
    if s.length != 0 && s.rax.is_empty() {
        return corrupt("Stream length inconsistent with rax entries");
    }
    // Walk every node once: the live count must match, and live entries
    // must increase (Redis trusts them; we index by them). Tombstones may
    // be out of order after an XSETID on an emptied stream, as in Redis.
    let mut live = 0u64;
    let mut prev: Option<StreamId> = None;
    for (k, lp) in &s.rax {
        let Some(node) = crate::db::stream::parse_node(*k, lp) else {
            return corrupt("Stream listpack integrity check failed.");
        };
        let mut node_live = 0i64;
        for e in node.entries.iter().filter(|e| !e.deleted()) {
            if prev.is_some_and(|p| e.id <= p) {
                return corrupt("Stream listpack integrity check failed.");
            }
            prev = Some(e.id);
            node_live += 1;
        }
        if node_live != node.count || node.entries.len() as i64 != node.count + node.deleted {
            return corrupt("Stream listpack integrity check failed.");
        }
        live += node_live as u64;
    }
    if live != s.length || prev.is_some_and(|p| p > s.last_id) {
        return corrupt("Stream listpack integrity check failed.");
    }
    let ngroups = r.read_len()?;
    for _ in 0..ngroups {
        let name = r.string()?;
        let last = StreamId::new(r.read_len()?, r.read_len()?);
        let entries_read = if t == T_STREAM_LISTPACKS {
            s.estimate_distance(last)
        } else {
            r.read_len()? as i64
        };
        if !s.create_group(&name, last, entries_read) {
            return Err(LoadError(format!(
                "Duplicated consumer group name {}",
                String::from_utf8_lossy(&name)
            )));
        }
        let g = s.group_mut(&name).expect("created group");
        let pel = r.read_len()?;
        for _ in 0..pel {
            let id = StreamId::from_be(r.take(16)?).unwrap_or_default();
            let delivery_time = r.ms_time()?;
            let delivery_count = r.read_len()?;
            let n = Nack {
                delivery_time,
                delivery_count,
                consumer: Vec::new(),
            };
            if g.pel.insert(id, n).is_some() {
                return corrupt("Duplicated global PEL entry loading stream consumer group");
            }
        }
        let consumers = r.read_len()?;
        for _ in 0..consumers {
            let cname = r.string()?;
            if g.consumers.contains_key(&cname) {
                return corrupt("Duplicate stream consumer detected.");
            }
            let seen_time = r.ms_time()?;
            if t == T_STREAM_LISTPACKS_3 {
                // 7.2's active-time: 7.0 has no such field.
                r.ms_time()?;
            }
            let mut c = Consumer {
                seen_time,
                ..Default::default()
            };
            let n = r.read_len()?;
            for _ in 0..n {
                let id = StreamId::from_be(r.take(16)?).unwrap_or_default();
                let Some(nack) = g.pel.get_mut(&id) else {
                    return corrupt("Consumer entry not found in group global PEL");
                };
                if !nack.consumer.is_empty() || !c.pel.insert(id) {
                    return corrupt(
                        "Duplicated consumer PEL entry  loading a stream consumer group",
                    );
                }
                nack.consumer = cname.clone();
            }
            g.consumers.insert(cname, c);
        }
        // Every pending entry needs its owner: commands rely on it.
        if g.pel
            .values()
            .any(|n| !g.consumers.contains_key(&n.consumer))
        {
            return corrupt("Stream CG PEL entry without consumer");
        }
    }
    Ok(s)
}

/// What a load produced.
pub struct Loaded {
    pub keys: usize,
    pub expired: usize,
    pub empty_skipped: usize,
    pub functions: Vec<Vec<u8>>,
    /// Bytes of `data` the image took (an AOF may continue after it).
    pub consumed: usize,
    /// Deep sanitizations performed.
    pub sanitized: u64,
}

/// Load an RDB image into `dbs` (which should be empty). Nothing is kept
/// unless the whole file parses and its checksum matches.
pub fn load(data: &[u8], dbs: &mut [Db], lim: &BuildLimits, now: i64) -> R<Loaded> {
    let (loaded, staged) = parse(data, dbs.len(), lim, now, &mut |_: usize| {})?;
    install(staged, dbs);
    Ok(loaded)
}

/// Keys parsed from an image, per database, not yet in the keyspace.
pub type Staged = Vec<Vec<(SBytes, Obj)>>;

/// Put parsed keys into the keyspace, sized for them first (as Redis
/// does on RESIZEDB) so it never rehashes while filling.
pub fn install(staged: Staged, dbs: &mut [Db]) {
    for (i, keys) in staged.into_iter().enumerate() {
        let db = &mut dbs[i];
        db.dict.reserve(keys.len());
        // Hash every key first, then prefetch the bucket of the key 16
        // ahead and the entry in the bucket of the key 8 ahead: filling a
        // big keyspace is otherwise two cache misses per key in a row.
        let hashes: Vec<u64> = keys
            .iter()
            .map(|(k, _)| crate::db::dict::hash_bytes(k))
            .collect();
        for (j, (k, o)) in keys.into_iter().enumerate() {
            if let Some(&h) = hashes.get(j + 16) {
                db.dict.prefetch(h, false);
            }
            if let Some(&h) = hashes.get(j + 8) {
                db.dict.prefetch(h, true);
            }
            db.insert_obj_hashed(hashes[j], k, o);
        }
        // Loading raises no "new" key events.
        dbs[i].new_pending.clear();
    }
}

/// What a parse is doing (redis-check-rdb's states, for error reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    Start,
    ReadType,
    ReadExpire,
    ReadKey,
    ReadObjectValue,
    CheckSum,
    ReadLen,
    ReadAux,
    ReadModuleAux,
    ReadFunctions,
}

impl Doing {
    pub fn name(self) -> &'static str {
        match self {
            Doing::Start => "start",
            Doing::ReadType => "read-type",
            Doing::ReadExpire => "read-expire",
            Doing::ReadKey => "read-key",
            Doing::ReadObjectValue => "read-object-value",
            Doing::CheckSum => "check-sum",
            Doing::ReadLen => "read-len",
            Doing::ReadAux => "read-aux",
            Doing::ReadModuleAux => "read-module-aux",
            Doing::ReadFunctions => "read-functions",
        }
    }
}

/// Follows a parse step by step (the loader serves clients from
/// `key_done`; the RDB checker reports everything). Offsets are bytes
/// consumed so far.
pub trait Observer {
    fn doing(&mut self, _d: Doing) {}
    fn aux(&mut self, _key: &[u8], _val: &[u8], _offset: usize) {}
    fn select_db(&mut self, _db: u64, _offset: usize) {}
    /// The type byte of a key about to be read; Err refuses it.
    fn key_type(&mut self, _t: u8) -> R<()> {
        Ok(())
    }
    fn key_read(&mut self, _key: &[u8]) {}
    /// A key and its value were read (`expire`: NO_EXPIRE or unix ms).
    fn key_done(&mut self, _offset: usize, _expire: i64) {}
    /// The stored and computed checksums (0 stored: none written).
    fn checksum(&mut self, _stored: u64, _computed: u64, _offset: usize) {}
    /// Whether parsed keys are kept (a checker only looks at them).
    fn keep(&self) -> bool {
        true
    }
}

/// A closure observer: called with the offset after each key.
impl<F: FnMut(usize)> Observer for F {
    fn key_done(&mut self, offset: usize, _expire: i64) {
        self(offset)
    }
}

/// Parse an RDB image for `ndbs` databases without touching the
/// keyspace (so the caller may serve clients while it runs).
pub fn parse(
    data: &[u8],
    ndbs: usize,
    lim: &BuildLimits,
    now: i64,
    obs: &mut dyn Observer,
) -> R<(Loaded, Staged)> {
    let mut at = 0;
    parse_at(data, ndbs, lim, now, obs, &mut at)
}

/// `parse`, telling where it failed (bytes consumed when the error was
/// found) in `failed_at`.
pub fn parse_at(
    data: &[u8],
    ndbs: usize,
    lim: &BuildLimits,
    now: i64,
    obs: &mut dyn Observer,
    failed_at: &mut usize,
) -> R<(Loaded, Staged)> {
    let mut r = Reader::new(data, 0);
    let res = parse_body(&mut r, ndbs, lim, now, obs);
    if res.is_err() {
        *failed_at = r.pos;
    }
    res
}

fn parse_body(
    r: &mut Reader,
    ndbs: usize,
    lim: &BuildLimits,
    now: i64,
    obs: &mut dyn Observer,
) -> R<(Loaded, Staged)> {
    obs.doing(Doing::Start);
    let header = r.take(9)?;
    if &header[..5] != b"REDIS" {
        return Err(LoadError(
            "Wrong signature trying to load DB from file".into(),
        ));
    }
    let ver: u32 = std::str::from_utf8(&header[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(1..=11).contains(&ver) {
        return Err(LoadError(format!(
            "Can't handle RDB format version {}",
            ver
        )));
    }
    let mut staged: Staged = Vec::new();
    let keep = obs.keep();
    // One access clock for every loaded key (a clock read per key showed).
    let clock = Obj::new(Value::Int(0)).lru;
    // OP_FREQ / OP_IDLE before the next key.
    let mut lfu_freq: Option<u8> = None;
    let mut lru_idle: Option<u64> = None;
    let mut db = 0usize;
    let mut expire = NO_EXPIRE;
    let mut loaded = Loaded {
        keys: 0,
        expired: 0,
        empty_skipped: 0,
        functions: Vec::new(),
        consumed: 0,
        sanitized: 0,
    };
    loop {
        obs.doing(Doing::ReadType);
        let t = r.byte()?;
        match t {
            OP_EOF => break,
            OP_SELECTDB => {
                obs.doing(Doing::ReadLen);
                let n = r.read_len()?;
                obs.select_db(n, r.pos);
                if n >= ndbs as u64 {
                    return Err(LoadError(format!("FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting\n", ndbs)));
                }
                db = n as usize;
            }
            OP_RESIZEDB => {
                obs.doing(Doing::ReadLen);
                let n = r.read_len()?;
                r.read_len()?;
                // Size the staging area (and so the keyspace) up front.
                if keep {
                    if staged.len() <= db {
                        staged.resize_with(db + 1, Vec::new);
                    }
                    let n = prealloc(r, usize::try_from(n).unwrap_or(usize::MAX));
                    staged[db].reserve(n);
                }
            }
            OP_AUX => {
                obs.doing(Doing::ReadAux);
                let k = r.string()?;
                let v = r.string()?;
                obs.aux(&k, &v, r.pos);
            }
            OP_EXPIRETIME_MS => {
                obs.doing(Doing::ReadExpire);
                expire = i64::from_le_bytes(r.take(8)?.try_into().unwrap_or([0; 8]))
            }
            OP_EXPIRETIME => {
                obs.doing(Doing::ReadExpire);
                expire = i32::from_le_bytes(r.take(4)?.try_into().unwrap_or([0; 4])) as i64 * 1000
            }
            OP_IDLE => {
                lru_idle = Some(r.read_len()?);
            }
            OP_FREQ => {
                lfu_freq = Some(r.byte()?);
            }
            OP_FUNCTION2 => {
                obs.doing(Doing::ReadFunctions);
                loaded.functions.push(r.string()?)
            }
            OP_MODULE_AUX => {
                obs.doing(Doing::ReadModuleAux);
                return Err(LoadError("Module auxiliary data is not supported".into()));
            }
            t => {
                obs.key_type(t)?;
                obs.doing(Doing::ReadKey);
                let key = r.string_cow()?;
                obs.key_read(&key);
                obs.doing(Doing::ReadObjectValue);
                match read_value(r, t, lim)? {
                    None => {
                        if loaded.empty_skipped < 10 && keep {
                            tracing::warn!(
                                "rdbLoadObject skipping empty key: {}",
                                String::from_utf8_lossy(&key)
                            );
                        }
                        loaded.empty_skipped += 1;
                    }
                    Some(val) => {
                        if expire != NO_EXPIRE && expire <= now {
                            loaded.expired += 1;
                        } else {
                            loaded.keys += 1;
                            if keep {
                                if staged.len() <= db {
                                    staged.resize_with(db + 1, Vec::new);
                                }
                                staged[db].push((
                                    SBytes::new(&key),
                                    Obj {
                                        val,
                                        expire,
                                        lru: crate::db::clock_from(lfu_freq, lru_idle)
                                            .unwrap_or(clock),
                                    },
                                ));
                            }
                        }
                    }
                }
                obs.key_done(r.pos, expire);
                expire = NO_EXPIRE;
                lfu_freq = None;
                lru_idle = None;
            }
        }
    }
    loaded.sanitized = r.sanitized;
    if ver >= 5 {
        obs.doing(Doing::CheckSum);
        let expected = u64::from_le_bytes(r.take(8)?.try_into().unwrap_or([0; 8]));
        let actual = crc64(&r.b[..r.pos - 8]);
        obs.checksum(expected, actual, r.pos);
        if expected != 0 && actual != expected && !lim.skip_checksum {
            if keep {
                tracing::warn!(
                    "Wrong RDB checksum expected: ({:x}) got ({:x}). Aborting now.",
                    expected,
                    actual
                );
            }
            return Err(LoadError("RDB CRC error".into()));
        }
    }
    loaded.consumed = r.pos;
    Ok((loaded, staged))
}

//! RDB files (version 10, as Redis 7.0 writes them): the encoder, and a
//! loader that also takes the encodings Redis 6 and 7.2 write (ziplist,
//! listpack, intset, zipmap, quicklist). The CRC-64 trailer is Redis's
//! (crc crate, CRC_64_REDIS).

use crate::db::hash::{Hash, Limits as HashLimits};
use crate::db::list::List;
use crate::db::set::Set;
use crate::db::zset::{Limits as ZLimits, ZSet};
use crate::db::{Db, Obj, SBytes, Value, NO_EXPIRE};

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
const T_SET_LISTPACK: u8 = 20;

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

pub fn crc64(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(data)
}

// ------------------------------------------------------------ writing

pub struct Writer {
    pub buf: Vec<u8>,
    pub compress: bool,
}

impl Writer {
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
    /// integer, LZF-compressed when that saves space.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = crate::util::parse_i64(s) {
                if self.int_string(v) {
                    return;
                }
            }
        }
        if self.compress && s.len() > 20 {
            if let Ok(c) = lzf::compress(s) {
                if c.len() < s.len() {
                    self.buf.push(0xC3);
                    self.write_len(c.len() as u64);
                    self.write_len(s.len() as u64);
                    self.buf.extend_from_slice(&c);
                    return;
                }
            }
        }
        self.write_len(s.len() as u64);
        self.buf.extend_from_slice(s);
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

    fn aux(&mut self, k: &str, v: &str) {
        self.buf.push(OP_AUX);
        self.string(k.as_bytes());
        self.string(v.as_bytes());
    }

    /// Type byte and payload of a value (no key).
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Int(n) => {
                self.buf.push(T_STRING);
                if !self.int_string(*n) {
                    self.string(n.to_string().as_bytes());
                }
            }
            Value::Str(s) => {
                self.buf.push(T_STRING);
                self.string(s);
            }
            Value::Raw(s) => {
                self.buf.push(T_STRING);
                self.string(s);
            }
            Value::List(l) => {
                self.buf.push(T_LIST);
                self.write_len(l.len() as u64);
                for e in l.iter() {
                    self.string(e);
                }
            }
            Value::Set(s) => {
                self.buf.push(T_SET);
                self.write_len(s.len() as u64);
                s.for_each(|m| self.string(m));
            }
            Value::ZSet(z) => {
                self.buf.push(T_ZSET2);
                self.write_len(z.len() as u64);
                // Redis writes skiplists from the tail; order does not matter.
                for (score, m) in z.tree.iter() {
                    self.string(m);
                    self.buf.extend_from_slice(&score.to_le_bytes());
                }
            }
            Value::Hash(h) => {
                self.buf.push(T_HASH);
                let pairs = h.pairs();
                self.write_len(pairs.len() as u64);
                for (f, v) in pairs {
                    self.string(&f);
                    self.string(&v);
                }
            }
        }
    }
}

/// Serialize the whole dataset.
pub fn dump(
    dbs: &[Db],
    functions: &[Vec<u8>],
    compress: bool,
    checksum: bool,
    aof_base: bool,
) -> Vec<u8> {
    let mut w = Writer {
        buf: Vec::with_capacity(1 << 16),
        compress,
    };
    w.buf
        .extend_from_slice(format!("REDIS{:04}", RDB_VERSION).as_bytes());
    w.aux("redis-ver", crate::REDIS_VERSION);
    w.aux("redis-bits", "64");
    w.aux("ctime", &(crate::util::mstime() / 1000).to_string());
    w.aux("used-mem", &crate::server::alloc::used_memory().to_string());
    w.aux("aof-base", if aof_base { "1" } else { "0" });
    for code in functions {
        w.buf.push(OP_FUNCTION2);
        w.string(code);
    }
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
            // Type byte first, then key, then payload.
            let mut vw = Writer {
                buf: Vec::new(),
                compress,
            };
            vw.value(&o.val);
            w.buf.push(vw.buf[0]);
            w.string(k);
            w.buf.extend_from_slice(&vw.buf[1..]);
        }
    }
    w.buf.push(OP_EOF);
    let crc = if checksum { crc64(&w.buf) } else { 0 };
    w.buf.extend_from_slice(&crc.to_le_bytes());
    w.buf
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

pub struct Reader<'a> {
    pub b: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> R<u8> {
        let c = *self.b.get(self.pos).ok_or(()).or_else(|_| short())?;
        self.pos += 1;
        Ok(c)
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
        let (n, special) = self.len_enc()?;
        if !special {
            return Ok(self.take(n as usize)?.to_vec());
        }
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
                let clen = self.read_len()? as usize;
                let olen = self.read_len()? as usize;
                let data = self.take(clen)?;
                if olen > 1 << 32 {
                    return short();
                }
                lzf::decompress(data, olen)
                    .map_err(|_| LoadError("Invalid LZF compressed string".into()))
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

/// Entries of a ziplist (Redis < 7 compact encoding).
fn ziplist_entries(z: &[u8]) -> R<Vec<Vec<u8>>> {
    let bad = || LoadError("Ziplist integrity check failed.".into());
    if z.len() < 11 {
        return Err(bad());
    }
    let mut p = 10;
    let mut out = Vec::new();
    while p < z.len() && z[p] != 0xFF {
        // prevlen
        p += if z[p] < 254 { 1 } else { 5 };
        let e = *z.get(p).ok_or_else(bad)?;
        let (data, adv): (Vec<u8>, usize) = match e >> 6 {
            0 => {
                let n = (e & 0x3f) as usize;
                (z.get(p + 1..p + 1 + n).ok_or_else(bad)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (((e & 0x3f) as usize) << 8) | *z.get(p + 1).ok_or_else(bad)? as usize;
                (z.get(p + 2..p + 2 + n).ok_or_else(bad)?.to_vec(), 2 + n)
            }
            2 => {
                let n = u32::from_be_bytes(
                    z.get(p + 1..p + 5)
                        .ok_or_else(bad)?
                        .try_into()
                        .unwrap_or([0; 4]),
                ) as usize;
                (z.get(p + 5..p + 5 + n).ok_or_else(bad)?.to_vec(), 5 + n)
            }
            _ => {
                let rd = |n: usize| z.get(p + 1..p + 1 + n).ok_or_else(bad);
                let (v, n): (i64, usize) = match e {
                    0xC0 => (
                        i16::from_le_bytes(rd(2)?.try_into().unwrap_or([0; 2])) as i64,
                        2,
                    ),
                    0xD0 => (
                        i32::from_le_bytes(rd(4)?.try_into().unwrap_or([0; 4])) as i64,
                        4,
                    ),
                    0xE0 => (i64::from_le_bytes(rd(8)?.try_into().unwrap_or([0; 8])), 8),
                    0xF0 => {
                        let b = rd(3)?;
                        (
                            (((b[2] as i32) << 24 | (b[1] as i32) << 16 | (b[0] as i32) << 8) >> 8)
                                as i64,
                            3,
                        )
                    }
                    0xFE => (rd(1)?[0] as i8 as i64, 1),
                    0xF1..=0xFD => (((e & 0x0f) as i64) - 1, 0),
                    _ => return Err(bad()),
                };
                (v.to_string().into_bytes(), 1 + n)
            }
        };
        out.push(data);
        p += adv;
    }
    Ok(out)
}

/// Entries of a listpack (Redis 7 compact encoding).
fn listpack_entries(lp: &[u8]) -> R<Vec<Vec<u8>>> {
    let bad = || LoadError("Listpack integrity check failed.".into());
    if lp.len() < 7 {
        return Err(bad());
    }
    let mut p = 6;
    let mut out = Vec::new();
    while p < lp.len() && lp[p] != 0xFF {
        let e = lp[p];
        let get = |a: usize, b: usize| lp.get(a..b).ok_or_else(bad);
        let (data, enc_len): (Vec<u8>, usize) = if e & 0x80 == 0 {
            ((e & 0x7f).to_string().into_bytes(), 1)
        } else if e & 0xC0 == 0x80 {
            let n = (e & 0x3f) as usize;
            (get(p + 1, p + 1 + n)?.to_vec(), 1 + n)
        } else if e & 0xE0 == 0xC0 {
            let raw = (((e & 0x1f) as u16) << 8) | *lp.get(p + 1).ok_or_else(bad)? as u16;
            let v = ((raw << 3) as i16 >> 3) as i64;
            (v.to_string().into_bytes(), 2)
        } else if e & 0xF0 == 0xE0 {
            let n = (((e & 0x0f) as usize) << 8) | *lp.get(p + 1).ok_or_else(bad)? as usize;
            (get(p + 2, p + 2 + n)?.to_vec(), 2 + n)
        } else {
            match e {
                0xF1 => (
                    i16::from_le_bytes(get(p + 1, p + 3)?.try_into().unwrap_or([0; 2]))
                        .to_string()
                        .into_bytes(),
                    3,
                ),
                0xF2 => {
                    let b = get(p + 1, p + 4)?;
                    let v = ((b[2] as i32) << 24 | (b[1] as i32) << 16 | (b[0] as i32) << 8) >> 8;
                    (v.to_string().into_bytes(), 4)
                }
                0xF3 => (
                    i32::from_le_bytes(get(p + 1, p + 5)?.try_into().unwrap_or([0; 4]))
                        .to_string()
                        .into_bytes(),
                    5,
                ),
                0xF4 => (
                    i64::from_le_bytes(get(p + 1, p + 9)?.try_into().unwrap_or([0; 8]))
                        .to_string()
                        .into_bytes(),
                    9,
                ),
                0xF0 => {
                    let n = u32::from_le_bytes(get(p + 1, p + 5)?.try_into().unwrap_or([0; 4]))
                        as usize;
                    (get(p + 5, p + 5 + n)?.to_vec(), 5 + n)
                }
                _ => return Err(bad()),
            }
        };
        // The backlen after the entry takes 1..5 bytes.
        let backlen = match enc_len {
            0..=127 => 1,
            128..=16383 => 2,
            16384..=2097151 => 3,
            2097152..=268435455 => 4,
            _ => 5,
        };
        out.push(data);
        p += enc_len + backlen;
    }
    Ok(out)
}

fn intset_entries(b: &[u8]) -> R<Vec<Vec<u8>>> {
    let bad = || LoadError("Intset integrity check failed.".into());
    if b.len() < 8 {
        return Err(bad());
    }
    let enc = u32::from_le_bytes(b[0..4].try_into().unwrap_or([0; 4])) as usize;
    let n = u32::from_le_bytes(b[4..8].try_into().unwrap_or([0; 4])) as usize;
    if !matches!(enc, 2 | 4 | 8) || b.len() < 8 + enc * n {
        return Err(bad());
    }
    Ok((0..n)
        .map(|i| {
            let s = &b[8 + i * enc..8 + (i + 1) * enc];
            let v: i64 = match enc {
                2 => i16::from_le_bytes([s[0], s[1]]) as i64,
                4 => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as i64,
                _ => i64::from_le_bytes(s.try_into().unwrap_or([0; 8])),
            };
            v.to_string().into_bytes()
        })
        .collect())
}

fn zipmap_pairs(b: &[u8]) -> R<Vec<Vec<u8>>> {
    let bad = || LoadError("Zipmap integrity check failed.".into());
    let mut p = 1;
    let mut out = Vec::new();
    let rd_len = |p: &mut usize| -> R<usize> {
        let c = *b.get(*p).ok_or_else(bad)?;
        if c < 254 {
            *p += 1;
            Ok(c as usize)
        } else if c == 254 {
            let v = u32::from_le_bytes(
                b.get(*p + 1..*p + 5)
                    .ok_or_else(bad)?
                    .try_into()
                    .unwrap_or([0; 4]),
            );
            *p += 5;
            Ok(v as usize)
        } else {
            Err(bad())
        }
    };
    while p < b.len() && b[p] != 0xFF {
        let klen = rd_len(&mut p)?;
        out.push(b.get(p..p + klen).ok_or_else(bad)?.to_vec());
        p += klen;
        let vlen = rd_len(&mut p)?;
        let free = *b.get(p).ok_or_else(bad)? as usize;
        p += 1;
        out.push(b.get(p..p + vlen).ok_or_else(bad)?.to_vec());
        p += vlen + free;
    }
    Ok(out)
}

/// Limits for building values on load (from the config).
#[derive(Clone, Copy)]
pub struct BuildLimits {
    pub hash: HashLimits,
    pub zset: ZLimits,
    pub intset: usize,
    pub list_fill: i64,
}

fn build_hash(pairs: Vec<Vec<u8>>, lim: &BuildLimits) -> R<Value> {
    if !pairs.len().is_multiple_of(2) {
        return Err(LoadError("Hash entries count is odd".into()));
    }
    let mut h = Hash::default();
    for p in pairs.chunks(2) {
        h.set(&p[0], &p[1], lim.hash);
    }
    Ok(Value::Hash(Box::new(h)))
}

fn build_zset(pairs: Vec<(Vec<u8>, f64)>, lim: &BuildLimits) -> Value {
    let mut seen = std::collections::HashSet::new();
    let v: Vec<(f64, SBytes)> = pairs
        .into_iter()
        .filter(|(m, _)| seen.insert(m.clone()))
        .map(|(m, s)| (s, SBytes::from_vec(m)))
        .collect();
    Value::ZSet(Box::new(ZSet::from_pairs(v, lim.zset)))
}

/// Read one value of type `t`.
pub fn read_value(r: &mut Reader, t: u8, lim: &BuildLimits) -> R<Value> {
    Ok(match t {
        T_STRING => Value::from_bytes(&r.string()?),
        T_LIST => {
            let n = r.read_len()?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(r.string()?);
            }
            Value::List(Box::new(List::from_iter(
                items.iter().map(|i| i.as_slice()),
                lim.list_fill,
            )))
        }
        T_SET => {
            let n = r.read_len()?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(r.string()?);
            }
            Value::Set(Box::new(Set::from_members(items, lim.intset)))
        }
        T_ZSET | T_ZSET2 => {
            let n = r.read_len()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == T_ZSET2 {
                    r.f64_bin()?
                } else {
                    r.f64_text()?
                };
                if s.is_nan() {
                    return Err(LoadError("Zset with NAN score detected".into()));
                }
                v.push((m, s));
            }
            build_zset(v, lim)
        }
        T_HASH => {
            let n = r.read_len()?;
            let mut v = Vec::new();
            for _ in 0..n * 2 {
                v.push(r.string()?);
            }
            build_hash(v, lim)?
        }
        T_HASH_ZIPMAP => build_hash(zipmap_pairs(&r.string()?)?, lim)?,
        T_HASH_ZIPLIST => build_hash(ziplist_entries(&r.string()?)?, lim)?,
        T_HASH_LISTPACK => build_hash(listpack_entries(&r.string()?)?, lim)?,
        T_SET_INTSET => Value::Set(Box::new(Set::from_members(
            intset_entries(&r.string()?)?,
            lim.intset,
        ))),
        T_SET_LISTPACK => Value::Set(Box::new(Set::from_members(
            listpack_entries(&r.string()?)?,
            lim.intset,
        ))),
        T_ZSET_ZIPLIST | T_ZSET_LISTPACK => {
            let e = if t == T_ZSET_ZIPLIST {
                ziplist_entries(&r.string()?)?
            } else {
                listpack_entries(&r.string()?)?
            };
            if !e.len().is_multiple_of(2) {
                return Err(LoadError("Zset entries count is odd".into()));
            }
            let mut v = Vec::new();
            for p in e.chunks(2) {
                let s = crate::util::parse_f64(&p[1])
                    .ok_or_else(|| LoadError("Invalid zset score".into()))?;
                v.push((p[0].clone(), s));
            }
            build_zset(v, lim)
        }
        T_LIST_ZIPLIST => {
            let e = ziplist_entries(&r.string()?)?;
            Value::List(Box::new(List::from_iter(
                e.iter().map(|i| i.as_slice()),
                lim.list_fill,
            )))
        }
        T_LIST_QUICKLIST | T_LIST_QUICKLIST2 => {
            let nodes = r.read_len()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                // Quicklist 2 nodes carry a container type: 1 plain, 2 packed.
                let container = if t == T_LIST_QUICKLIST2 {
                    r.read_len()?
                } else {
                    2
                };
                let blob = r.string()?;
                if container == 1 {
                    items.push(blob);
                } else if t == T_LIST_QUICKLIST {
                    items.extend(ziplist_entries(&blob)?);
                } else {
                    items.extend(listpack_entries(&blob)?);
                }
            }
            Value::List(Box::new(List::from_iter(
                items.iter().map(|i| i.as_slice()),
                lim.list_fill,
            )))
        }
        15 | 19 | 21 => {
            return Err(LoadError(
                "Streams are not supported by Ermine yet; this RDB holds a stream key".into(),
            ))
        }
        6 | 7 => {
            return Err(LoadError(
                "Modules are not supported: this RDB holds a module key".into(),
            ))
        }
        other => return Err(LoadError(format!("Unknown RDB value type {}", other))),
    })
}

/// What a load produced.
pub struct Loaded {
    pub keys: usize,
    pub expired: usize,
    pub functions: Vec<Vec<u8>>,
    /// Bytes of `data` the image took (an AOF may continue after it).
    pub consumed: usize,
}

/// Load an RDB image into `dbs` (which should be empty). Nothing is kept
/// unless the whole file parses and its checksum matches.
pub fn load(data: &[u8], dbs: &mut [Db], lim: &BuildLimits, now: i64) -> R<Loaded> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return Err(LoadError(
            "Wrong signature trying to load DB from file".into(),
        ));
    }
    let ver: u32 = std::str::from_utf8(&data[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(1..=11).contains(&ver) {
        return Err(LoadError(format!(
            "Can't handle RDB format version {}",
            ver
        )));
    }
    let mut r = Reader { b: data, pos: 9 };
    let mut staged: Vec<Vec<(Vec<u8>, Obj)>> = (0..dbs.len()).map(|_| Vec::new()).collect();
    let mut db = 0usize;
    let mut expire = NO_EXPIRE;
    let mut loaded = Loaded {
        keys: 0,
        expired: 0,
        functions: Vec::new(),
        consumed: 0,
    };
    loop {
        let t = r.byte()?;
        match t {
            OP_EOF => break,
            OP_SELECTDB => {
                let n = r.read_len()? as usize;
                if n >= dbs.len() {
                    return Err(LoadError(format!("FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting\n", dbs.len())));
                }
                db = n;
            }
            OP_RESIZEDB => {
                r.read_len()?;
                r.read_len()?;
            }
            OP_AUX => {
                r.string()?;
                r.string()?;
            }
            OP_EXPIRETIME_MS => {
                expire = i64::from_le_bytes(r.take(8)?.try_into().unwrap_or([0; 8]))
            }
            OP_EXPIRETIME => {
                expire = i32::from_le_bytes(r.take(4)?.try_into().unwrap_or([0; 4])) as i64 * 1000
            }
            OP_IDLE => {
                r.read_len()?;
            }
            OP_FREQ => {
                r.byte()?;
            }
            OP_FUNCTION2 => loaded.functions.push(r.string()?),
            OP_MODULE_AUX => {
                return Err(LoadError("Module auxiliary data is not supported".into()))
            }
            t => {
                let key = r.string()?;
                let val = read_value(&mut r, t, lim)?;
                if expire != NO_EXPIRE && expire <= now {
                    loaded.expired += 1;
                } else {
                    let mut o = Obj::new(val);
                    o.expire = expire;
                    staged[db].push((key, o));
                    loaded.keys += 1;
                }
                expire = NO_EXPIRE;
            }
        }
    }
    if ver >= 5 {
        let expected = u64::from_le_bytes(r.take(8)?.try_into().unwrap_or([0; 8]));
        if expected != 0 && crc64(&data[..r.pos - 8]) != expected {
            return Err(LoadError(
                "Wrong RDB checksum expected. Aborting now.".into(),
            ));
        }
    }
    for (i, keys) in staged.into_iter().enumerate() {
        for (k, o) in keys {
            dbs[i].insert_obj(&k, o);
        }
    }
    loaded.consumed = r.pos;
    Ok(loaded)
}

//! Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO) and LCS. Bit 0 is the most significant bit of byte 0.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_STRING};
use crate::db::Value;
use crate::util::eq_ic;

const B: CommandSpec = CommandSpec {
    group: "bitmap",
    acl: "bitmap",
    first_key: 1,
    last_key: 1,
    step: 1,
    since: "2.2.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "setbit", arity: 4, flags: "write denyoom", handler: setbit, summary: "Sets or clears the bit at offset in the string value stored at key", ..B },
    CommandSpec { name: "getbit", arity: 3, flags: "readonly fast", handler: getbit, summary: "Returns the bit value at offset in the string value stored at key", ..B },
    CommandSpec { name: "bitcount", arity: -2, flags: "readonly", handler: bitcount, since: "2.6.0", summary: "Count set bits in a string", ..B },
    CommandSpec { name: "bitpos", arity: -3, flags: "readonly", handler: bitpos, since: "2.8.7", summary: "Find first bit set or clear in a string", ..B },
    CommandSpec { name: "bitop", arity: -4, flags: "write denyoom", first_key: 2, last_key: -1, handler: bitop, since: "2.6.0", summary: "Perform bitwise operations between strings", ..B },
    CommandSpec { name: "bitfield", arity: -2, flags: "write denyoom", handler: bitfield, since: "3.2.0", summary: "Perform arbitrary bitfield integer operations on strings", ..B },
    CommandSpec { name: "bitfield_ro", arity: -2, flags: "readonly fast", handler: bitfield_ro, since: "6.0.0", summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", ..B },
    CommandSpec { name: "lcs", arity: -3, flags: "readonly", acl: "string", group: "string", last_key: 2, handler: lcs, since: "7.0.0", summary: "Find longest common substring", ..B },
];

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// Parse a bit offset (with "#n" multiples of `bits` when allowed).
fn bit_offset(ctx: &mut Ctx, a: &[u8], hash_bits: Option<u64>) -> Option<u64> {
    let (usehash, digits) = match (a.first(), hash_bits) {
        (Some(b'#'), Some(_)) => (true, &a[1..]),
        _ => (false, a),
    };
    let mut v = match crate::util::parse_i64(digits) {
        Some(v) => v,
        None => {
            ctx.error(OFFSET_ERR);
            return None;
        }
    };
    if usehash {
        v = match v.checked_mul(hash_bits.unwrap_or(1) as i64) {
            Some(v) => v,
            None => {
                ctx.error(OFFSET_ERR);
                return None;
            }
        };
    }
    if v < 0 || (v >> 3) >= ctx.srv.config.proto_max_bulk_len {
        ctx.error(OFFSET_ERR);
        return None;
    }
    Some(v as u64)
}

/// The string bytes at key for reading: Ok(None) missing, Err wrong type.
fn read_bytes(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(o) => o.val.string_bytes().map(|b| Some(b.into_owned())).ok_or(()),
    }
}

/// The growable string at key, created empty when missing; Err = wrong type.
fn raw_string<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Vec<u8>, ()> {
    let now = ctx.now;
    let created = match ctx.db().lookup(key, now) {
        Some(o) if !o.val.is_string() => return Err(()),
        Some(_) => false,
        None => {
            ctx.db().set(key, Value::Raw(Box::default()));
            true
        }
    };
    let _ = created;
    let o = ctx.db().lookup(key, now).ok_or(())?;
    if !matches!(o.val, Value::Raw(_)) {
        let b = o
            .val
            .string_bytes()
            .map(|b| b.into_owned())
            .unwrap_or_default();
        o.val = Value::Raw(Box::new(b));
    }
    match &mut o.val {
        Value::Raw(v) => Ok(v),
        _ => Err(()),
    }
}

fn get_bit(s: &[u8], off: u64) -> u8 {
    let byte = (off >> 3) as usize;
    if byte >= s.len() {
        return 0;
    }
    (s[byte] >> (7 - (off & 7))) & 1
}

fn setbit(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(off) = bit_offset(ctx, &argv[2], None) else {
        return;
    };
    let on = match &argv[3][..] {
        b"1" => 1u8,
        b"0" => 0u8,
        _ => return ctx.error("ERR bit is not an integer or out of range"),
    };
    let key = argv[1].clone();
    let existed = ctx.lookup_write(&key).is_some();
    let Ok(v) = raw_string(ctx, &key) else {
        return ctx.wrongtype();
    };
    let byte = (off >> 3) as usize;
    if v.len() <= byte {
        v.resize(byte + 1, 0);
    }
    let shift = 7 - (off & 7);
    let old = (v[byte] >> shift) & 1;
    v[byte] = (v[byte] & !(1 << shift)) | (on << shift);
    if !existed {
        ctx.signal_key_ready(&key);
    }
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_STRING, "setbit", &key);
    ctx.dirty(1);
    ctx.reply().int(old as i64);
}

fn getbit(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(off) = bit_offset(ctx, &argv[2], None) else {
        return;
    };
    match read_bytes(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(s) => {
            let b = s.map(|s| get_bit(&s, off)).unwrap_or(0);
            ctx.reply().int(b as i64)
        }
    }
}

/// Resolve a [start, end] range in BYTE or BIT units into a bit range.
/// None = empty range.
fn bit_range(len_bytes: usize, mut start: i64, mut end: i64, isbit: bool) -> Option<(u64, u64)> {
    let total = if isbit {
        (len_bytes as i64) << 3
    } else {
        len_bytes as i64
    };
    if start < 0 && end < 0 && start > end {
        return None;
    }
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end || total == 0 {
        return None;
    }
    if isbit {
        Some((start as u64, end as u64))
    } else {
        Some(((start as u64) << 3, ((end as u64) << 3) + 7))
    }
}

fn unit_arg(ctx: &mut Ctx, a: Option<&Bytes>) -> Option<bool> {
    match a {
        None => Some(false),
        Some(a) if eq_ic(a, "bit") => Some(true),
        Some(a) if eq_ic(a, "byte") => Some(false),
        Some(_) => {
            ctx.syntax_error();
            None
        }
    }
}

fn count_bits(s: &[u8], from: u64, to: u64) -> u64 {
    let mut n = 0u64;
    let mut i = from;
    while i <= to {
        if i & 7 == 0 && i + 7 <= to {
            n += s[(i >> 3) as usize].count_ones() as u64;
            i += 8;
        } else {
            n += get_bit(s, i) as u64;
            i += 1;
        }
    }
    n
}

fn bitcount(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() == 3 || argv.len() > 5 {
        return ctx.syntax_error();
    }
    let range = if argv.len() >= 4 {
        let Some(start) = ctx.int_arg(&argv[2]) else {
            return;
        };
        let Some(end) = ctx.int_arg(&argv[3]) else {
            return;
        };
        let Some(isbit) = unit_arg(ctx, argv.get(4)) else {
            return;
        };
        Some((start, end, isbit))
    } else {
        None
    };
    let s = match read_bytes(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().int(0),
        Ok(Some(s)) => s,
    };
    let r = match range {
        None if s.is_empty() => None,
        None => Some((0, (s.len() as u64) * 8 - 1)),
        Some((a, b, isbit)) => bit_range(s.len(), a, b, isbit),
    };
    let n = r.map(|(a, b)| count_bits(&s, a, b)).unwrap_or(0);
    ctx.reply().int(n as i64);
}

fn bitpos(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(bit) = ctx.int_arg(&argv[2]) else {
        return;
    };
    if bit != 0 && bit != 1 {
        return ctx.error("ERR The bit argument must be 1 or 0.");
    }
    if argv.len() > 6 {
        return ctx.syntax_error();
    }
    let s = match read_bytes(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().int(if bit == 1 { -1 } else { 0 }),
        Ok(Some(s)) => s,
    };
    let mut end_given = false;
    let range = if argv.len() >= 4 {
        let Some(start) = ctx.int_arg(&argv[3]) else {
            return;
        };
        let Some(isbit) = unit_arg(ctx, argv.get(5)) else {
            return;
        };
        let end = if argv.len() >= 5 {
            end_given = true;
            let Some(e) = ctx.int_arg(&argv[4]) else {
                return;
            };
            e
        } else if isbit {
            ((s.len() as i64) << 3) + 7
        } else {
            s.len() as i64 - 1
        };
        bit_range(s.len(), start, end, isbit)
    } else if s.is_empty() {
        None
    } else {
        Some((0, (s.len() as u64) * 8 - 1))
    };
    let Some((from, to)) = range else {
        return ctx.reply().int(-1);
    };
    let want = bit as u8;
    let skip = if want == 1 { 0x00 } else { 0xFF };
    let mut i = from;
    while i <= to {
        if i & 7 == 0 && i + 7 <= to && s[(i >> 3) as usize] == skip {
            i += 8;
            continue;
        }
        if get_bit(&s, i) == want {
            return ctx.reply().int(i as i64);
        }
        i += 1;
    }
    // No clear bit in range: without an explicit end the answer is the
    // first bit past it, as if the string were padded with zeros.
    if want == 0 && !end_given {
        return ctx.reply().int(to as i64 + 1);
    }
    ctx.reply().int(-1);
}

fn bitop(ctx: &mut Ctx, argv: &[Bytes]) {
    let op = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    if !matches!(op.as_str(), "and" | "or" | "xor" | "not") {
        return ctx.syntax_error();
    }
    if op == "not" && argv.len() != 4 {
        return ctx.error("ERR BITOP NOT must be called with a single source key.");
    }
    let mut srcs: Vec<Vec<u8>> = Vec::new();
    for k in &argv[3..] {
        match read_bytes(ctx, k) {
            Err(()) => return ctx.wrongtype(),
            Ok(v) => srcs.push(v.unwrap_or_default()),
        }
    }
    let maxlen = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; maxlen];
    for (i, o) in out.iter_mut().enumerate() {
        let byte = |s: &Vec<u8>| s.get(i).copied().unwrap_or(0);
        *o = match op.as_str() {
            "not" => !byte(&srcs[0]),
            "and" => srcs.iter().fold(0xFF, |a, s| a & byte(s)),
            "or" => srcs.iter().fold(0, |a, s| a | byte(s)),
            _ => srcs.iter().fold(0, |a, s| a ^ byte(s)),
        };
    }
    let dst = argv[2].clone();
    if out.is_empty() {
        let now = ctx.now;
        if ctx.db().lookup(&dst, now).is_some() {
            ctx.db().remove(&dst);
            ctx.signal_modified(&dst);
            ctx.notify(NOTIFY_GENERIC, "del", &dst);
            ctx.dirty(1);
        }
        return ctx.reply().int(0);
    }
    let n = out.len();
    ctx.db().set(&dst, Value::Raw(Box::new(out)));
    ctx.signal_modified(&dst);
    ctx.notify(NOTIFY_STRING, "set", &dst);
    ctx.dirty(1);
    ctx.reply().int(n as i64);
}

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

enum Op {
    Get,
    Set(i64),
    Incr(i64),
}

struct FieldOp {
    op: Op,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

fn read_field(s: &[u8], off: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        v = (v << 1) | get_bit(s, off + i) as u64;
    }
    v
}

fn write_field(s: &mut Vec<u8>, off: u64, bits: u32, v: u64) {
    let need = ((off + bits as u64 + 7) >> 3) as usize;
    if s.len() < need {
        s.resize(need, 0);
    }
    for i in 0..bits as u64 {
        let bit = ((v >> (bits as u64 - 1 - i)) & 1) as u8;
        let p = off + i;
        let byte = (p >> 3) as usize;
        let shift = 7 - (p & 7);
        s[byte] = (s[byte] & !(1 << shift)) | (bit << shift);
    }
}

fn to_signed(v: u64, bits: u32) -> i64 {
    if bits == 64 {
        v as i64
    } else if v & (1 << (bits - 1)) != 0 {
        (v | (!0u64 << bits)) as i64
    } else {
        v as i64
    }
}

/// Apply an increment with the overflow policy: Some(new) or None (FAIL).
fn add_checked(old: i64, incr: i64, signed: bool, bits: u32, ow: Overflow) -> Option<i64> {
    if signed {
        let (min, max) = if bits == 64 {
            (i64::MIN as i128, i64::MAX as i128)
        } else {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        };
        let sum = old as i128 + incr as i128;
        if sum > max || sum < min {
            match ow {
                Overflow::Fail => None,
                Overflow::Sat => Some(if sum > max { max as i64 } else { min as i64 }),
                Overflow::Wrap => {
                    let m = if bits == 64 {
                        sum as i64 as u64
                    } else {
                        (sum as i64 as u64) & ((1u64 << bits) - 1)
                    };
                    Some(to_signed(m, bits))
                }
            }
        } else {
            Some(sum as i64)
        }
    } else {
        let max = (1i128 << bits) - 1;
        let sum = old as i128 + incr as i128;
        if sum > max || sum < 0 {
            match ow {
                Overflow::Fail => None,
                Overflow::Sat => Some(if sum > max { max as i64 } else { 0 }),
                Overflow::Wrap => Some(((sum as i64 as u64) & ((1u64 << bits) - 1)) as i64),
            }
        } else {
            Some(sum as i64)
        }
    }
}

fn parse_type(ctx: &mut Ctx, a: &[u8]) -> Option<(bool, u32)> {
    let err = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    let signed = match a.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => {
            ctx.error(err);
            return None;
        }
    };
    match crate::util::parse_i64(&a[1..]) {
        Some(b) if b >= 1 && ((signed && b <= 64) || (!signed && b <= 63)) => {
            Some((signed, b as u32))
        }
        _ => {
            ctx.error(err);
            None
        }
    }
}

fn bitfield_generic(ctx: &mut Ctx, argv: &[Bytes], ro: bool) {
    let mut ops: Vec<FieldOp> = Vec::new();
    let mut ow = Overflow::Wrap;
    let mut j = 2;
    let mut writes = false;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub = &argv[j];
        if eq_ic(sub, "get") && rem >= 2 {
            let Some((signed, bits)) = parse_type(ctx, &argv[j + 1]) else {
                return;
            };
            let Some(offset) = bit_offset(ctx, &argv[j + 2], Some(bits as u64)) else {
                return;
            };
            ops.push(FieldOp {
                op: Op::Get,
                signed,
                bits,
                offset,
                overflow: ow,
            });
            j += 3;
        } else if (eq_ic(sub, "set") || eq_ic(sub, "incrby")) && rem >= 3 {
            let Some((signed, bits)) = parse_type(ctx, &argv[j + 1]) else {
                return;
            };
            let Some(offset) = bit_offset(ctx, &argv[j + 2], Some(bits as u64)) else {
                return;
            };
            let Some(v) = ctx.int_arg(&argv[j + 3]) else {
                return;
            };
            let op = if eq_ic(sub, "set") {
                Op::Set(v)
            } else {
                Op::Incr(v)
            };
            ops.push(FieldOp {
                op,
                signed,
                bits,
                offset,
                overflow: ow,
            });
            writes = true;
            j += 4;
        } else if eq_ic(sub, "overflow") && rem >= 1 {
            let t = &argv[j + 1];
            ow = if eq_ic(t, "wrap") {
                Overflow::Wrap
            } else if eq_ic(t, "sat") {
                Overflow::Sat
            } else if eq_ic(t, "fail") {
                Overflow::Fail
            } else {
                return ctx.error("ERR Invalid OVERFLOW type specified");
            };
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    if ro && writes {
        return ctx.error("ERR BITFIELD_RO only supports the GET subcommand");
    }
    let key = argv[1].clone();
    if !writes {
        let s = match read_bytes(ctx, &key) {
            Err(()) => return ctx.wrongtype(),
            Ok(s) => s.unwrap_or_default(),
        };
        let r = ctx.reply();
        r.array(ops.len());
        for o in &ops {
            let v = read_field(&s, o.offset, o.bits);
            r.int(if o.signed {
                to_signed(v, o.bits)
            } else {
                v as i64
            });
        }
        return;
    }
    let existed = ctx.lookup_write(&key).is_some();
    let mut results: Vec<Option<i64>> = Vec::new();
    let mut changed = 0;
    {
        let Ok(s) = raw_string(ctx, &key) else {
            return ctx.wrongtype();
        };
        for o in &ops {
            let raw = read_field(s, o.offset, o.bits);
            let old = if o.signed {
                to_signed(raw, o.bits)
            } else {
                raw as i64
            };
            match o.op {
                Op::Get => results.push(Some(old)),
                Op::Set(v) => {
                    // SET stores the value wrapped (or saturated) to the width.
                    let new = if o.overflow == Overflow::Wrap {
                        let m = if o.bits == 64 {
                            v as u64
                        } else {
                            (v as u64) & ((1u64 << o.bits) - 1)
                        };
                        Some(if o.signed {
                            to_signed(m, o.bits)
                        } else {
                            m as i64
                        })
                    } else {
                        add_checked(0, v, o.signed, o.bits, o.overflow)
                    };
                    match new {
                        Some(n) => {
                            let m = if o.bits == 64 {
                                n as u64
                            } else {
                                (n as u64) & ((1u64 << o.bits) - 1)
                            };
                            write_field(s, o.offset, o.bits, m);
                            changed += 1;
                            results.push(Some(old));
                        }
                        None => results.push(None),
                    }
                }
                Op::Incr(v) => match add_checked(old, v, o.signed, o.bits, o.overflow) {
                    Some(n) => {
                        let m = if o.bits == 64 {
                            n as u64
                        } else {
                            (n as u64) & ((1u64 << o.bits) - 1)
                        };
                        write_field(s, o.offset, o.bits, m);
                        changed += 1;
                        results.push(Some(n));
                    }
                    None => results.push(None),
                },
            }
        }
    }
    if changed > 0 {
        if !existed {
            ctx.signal_key_ready(&key);
        }
        ctx.signal_modified(&key);
        ctx.notify(NOTIFY_STRING, "setbit", &key);
        ctx.dirty(changed);
    } else if !existed {
        // Nothing written: do not leave an empty key behind.
        ctx.db().remove(&key);
    }
    let r = ctx.reply();
    r.array(results.len());
    for v in results {
        match v {
            Some(n) => r.int(n),
            None => r.null(),
        }
    }
}

fn bitfield(ctx: &mut Ctx, argv: &[Bytes]) {
    bitfield_generic(ctx, argv, false);
}

fn bitfield_ro(ctx: &mut Ctx, argv: &[Bytes]) {
    bitfield_generic(ctx, argv, true);
}

fn lcs(ctx: &mut Ctx, argv: &[Bytes]) {
    let a = read_bytes(ctx, &argv[1]);
    let b = read_bytes(ctx, &argv[2]);
    let (Ok(a), Ok(b)) = (a, b) else {
        return ctx.error("ERR The specified keys must contain string values");
    };
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let (mut getlen, mut getidx, mut withlen, mut minlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if eq_ic(&argv[j], "idx") {
            getidx = true;
        } else if eq_ic(&argv[j], "len") {
            getlen = true;
        } else if eq_ic(&argv[j], "withmatchlen") {
            withlen = true;
        } else if eq_ic(&argv[j], "minmatchlen") && more {
            let Some(n) = ctx.int_arg(&argv[j + 1]) else {
                return;
            };
            minlen = n.max(0);
            j += 1;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    if getlen && getidx {
        return ctx.error("ERR If you want both the length and indexes, please just use IDX.");
    }
    let (alen, blen) = (a.len(), b.len());
    if (alen + 1).saturating_mul(blen + 1).saturating_mul(4) as i64
        > ctx.srv.config.proto_max_bulk_len
    {
        return ctx
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let w = blen + 1;
    let mut t = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for jj in 1..=blen {
            t[i * w + jj] = if a[i - 1] == b[jj - 1] {
                t[(i - 1) * w + jj - 1] + 1
            } else {
                t[(i - 1) * w + jj].max(t[i * w + jj - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    // Walk back from the end, collecting the LCS and the matching ranges.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges: Vec<(usize, usize, usize, usize, usize)> = Vec::new();
    let (mut i, mut jj) = (alen, blen);
    let mut astart = alen;
    let (mut aend, mut bstart, mut bend) = (0, 0, 0);
    while i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if astart == alen {
                astart = i - 1;
                aend = i - 1;
                bstart = jj - 1;
                bend = jj - 1;
            } else if astart == i && bstart == jj {
                astart -= 1;
                bstart -= 1;
            } else {
                emit = true;
            }
            if astart == 0 || bstart == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            if t[(i - 1) * w + jj] > t[i * w + jj - 1] {
                i -= 1;
            } else {
                jj -= 1;
            }
            if astart != alen {
                emit = true;
            }
        }
        let mlen = aend.wrapping_sub(astart).wrapping_add(1);
        if emit {
            if minlen == 0 || mlen as i64 >= minlen {
                ranges.push((astart, aend, bstart, bend, mlen));
            }
            astart = alen;
        }
    }
    let r = ctx.reply();
    if getidx {
        r.map(2);
        r.bulk(b"matches");
        r.array(ranges.len());
        for (a0, a1, b0, b1, l) in ranges {
            r.array(if withlen { 3 } else { 2 });
            r.array(2);
            r.int(a0 as i64);
            r.int(a1 as i64);
            r.array(2);
            r.int(b0 as i64);
            r.int(b1 as i64);
            if withlen {
                r.int(l as i64);
            }
        }
        r.bulk(b"len");
        r.int(total as i64);
    } else if getlen {
        r.int(total as i64);
    } else {
        r.bulk(&result);
    }
}

//! String commands.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_STRING};
use crate::db::{Obj, SBytes, Value};
use crate::util::eq_ic;

const S: CommandSpec = CommandSpec {
    group: "string",
    acl: "string",
    first_key: 1,
    last_key: 1,
    step: 1,
    since: "1.0.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: "readonly fast",
        handler: get,
        summary: "Get the value of a key",
        ..S
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: "write denyoom",
        handler: set,
        summary: "Set the string value of a key",
        ..S
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: "write denyoom fast",
        handler: setnx,
        summary: "Set the value of a key, only if the key does not exist",
        ..S
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: "write denyoom",
        handler: setex,
        since: "2.0.0",
        summary: "Set the value and expiration of a key",
        ..S
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: "write denyoom",
        handler: psetex,
        since: "2.6.0",
        summary: "Set the value and expiration in milliseconds of a key",
        ..S
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: "write denyoom fast",
        handler: getset,
        summary: "Set the string value of a key and return its old value",
        ..S
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: "write fast",
        handler: getdel,
        since: "6.2.0",
        summary: "Get the value of a key and delete the key",
        ..S
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: "write fast",
        handler: getex,
        since: "6.2.0",
        summary: "Get the value of a key and optionally set its expiration",
        ..S
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: "readonly fast",
        last_key: -1,
        handler: mget,
        summary: "Get the values of all the given keys",
        ..S
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: "write denyoom",
        last_key: -1,
        step: 2,
        handler: mset,
        since: "1.0.1",
        summary: "Set multiple keys to multiple values",
        ..S
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: "write denyoom",
        last_key: -1,
        step: 2,
        handler: msetnx,
        since: "1.0.1",
        summary: "Set multiple keys to multiple values, only if none of the keys exist",
        ..S
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: "write denyoom fast",
        handler: append,
        since: "2.0.0",
        summary: "Append a value to a key",
        ..S
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: "readonly fast",
        handler: strlen,
        since: "2.2.0",
        summary: "Get the length of the value stored in a key",
        ..S
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: "write denyoom fast",
        handler: incr,
        summary: "Increment the integer value of a key by one",
        ..S
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: "write denyoom fast",
        handler: decr,
        summary: "Decrement the integer value of a key by one",
        ..S
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: "write denyoom fast",
        handler: incrby,
        summary: "Increment the integer value of a key by the given amount",
        ..S
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: "write denyoom fast",
        handler: decrby,
        summary: "Decrement the integer value of a key by the given number",
        ..S
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: "write denyoom fast",
        handler: incrbyfloat,
        since: "2.6.0",
        summary: "Increment the float value of a key by the given amount",
        ..S
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: "readonly",
        handler: getrange,
        since: "2.4.0",
        summary: "Get a substring of the string stored at a key",
        ..S
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: "readonly",
        handler: getrange,
        since: "1.0.0",
        summary: "Get a substring of the string stored at a key",
        ..S
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: "write denyoom",
        handler: setrange,
        since: "2.2.0",
        summary: "Overwrite part of a string at key starting at the specified offset",
        ..S
    },
];

/// Write a string value as a bulk reply without allocating for integers.
pub fn reply_value(r: &mut crate::protocol::Reply, v: &Value) {
    match v {
        Value::Int(n) => {
            let mut buf = [0u8; 24];
            let s = crate::util::fmt_i64(*n, &mut buf);
            r.bulk(s);
        }
        Value::Str(s) => r.bulk(s),
        Value::Raw(s) => r.bulk(s),
        _ => r.null(),
    }
}

/// The string at `key`: Ok(None) missing, Err(()) wrong type (not replied).
fn get_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(o) => match o.val.string_bytes() {
            Some(b) => Ok(Some(b.into_owned())),
            None => Err(()),
        },
    }
}

fn get(ctx: &mut Ctx, argv: &[Bytes]) {
    let Ctx {
        srv, client, now, ..
    } = ctx;
    let db = &mut srv.dbs[client.db];
    match db.lookup_touch(&argv[1], *now) {
        None => {
            srv.stats.keyspace_misses += 1;
            client.reply.null();
        }
        Some(o) if o.val.is_string() => {
            srv.stats.keyspace_hits += 1;
            reply_value(&mut client.reply, &o.val);
        }
        Some(_) => {
            srv.stats.keyspace_hits += 1;
            ctx.wrongtype();
        }
    }
}

const F_NX: u32 = 1;
const F_XX: u32 = 2;
const F_GET: u32 = 4;
const F_KEEPTTL: u32 = 8;
const F_PERSIST: u32 = 16;

/// Parsed expiry option: (flag name, absolute?, unit ms?, value arg).
struct Expiry {
    value: i64,
    absolute: bool,
    millis: bool,
}

/// Parse SET/GETEX options from argv[from..]; replies on error.
fn parse_opts(
    ctx: &mut Ctx,
    argv: &[Bytes],
    from: usize,
    is_set: bool,
) -> Option<(u32, Option<Expiry>)> {
    let mut flags = 0;
    let mut exp: Option<(bool, bool, Bytes)> = None;
    let mut j = from;
    while j < argv.len() {
        let a = &argv[j];
        let next = argv.get(j + 1);
        if is_set && eq_ic(a, "nx") && flags & F_XX == 0 {
            flags |= F_NX;
        } else if is_set && eq_ic(a, "xx") && flags & F_NX == 0 {
            flags |= F_XX;
        } else if is_set && eq_ic(a, "get") {
            flags |= F_GET;
        } else if is_set && eq_ic(a, "keepttl") && exp.is_none() && flags & F_PERSIST == 0 {
            flags |= F_KEEPTTL;
        } else if !is_set && eq_ic(a, "persist") && exp.is_none() && flags & F_KEEPTTL == 0 {
            flags |= F_PERSIST;
        } else if (eq_ic(a, "ex") || eq_ic(a, "px") || eq_ic(a, "exat") || eq_ic(a, "pxat"))
            && exp.is_none()
            && flags & (F_KEEPTTL | F_PERSIST) == 0
            && next.is_some()
        {
            let absolute = a.len() == 4;
            let millis = a[0] == b'p' || a[0] == b'P';
            exp = Some((absolute, millis, next.cloned().unwrap_or_default()));
            j += 1;
        } else {
            ctx.syntax_error();
            return None;
        }
        j += 1;
    }
    let exp = match exp {
        None => None,
        Some((absolute, millis, v)) => {
            let n = ctx.int_arg(&v)?;
            Some(Expiry {
                value: n,
                absolute,
                millis,
            })
        }
    };
    Some((flags, exp))
}

/// Absolute ms for an expiry option, replying "invalid expire time" on a
/// non-positive value or overflow.
fn expire_ms(ctx: &mut Ctx, e: &Expiry, cmd: &str) -> Option<i64> {
    let bad = |ctx: &mut Ctx| ctx.error(&format!("ERR invalid expire time in '{}' command", cmd));
    if e.value <= 0 || (!e.millis && e.value > i64::MAX / 1000) {
        bad(ctx);
        return None;
    }
    let mut ms = if e.millis { e.value } else { e.value * 1000 };
    if !e.absolute {
        ms = match ms.checked_add(ctx.now) {
            Some(v) => v,
            None => {
                bad(ctx);
                return None;
            }
        };
    }
    Some(ms)
}

/// The shared core of SET and friends.
fn set_generic(
    ctx: &mut Ctx,
    key: &Bytes,
    val: &Bytes,
    flags: u32,
    expire: Option<i64>,
    ok_reply: Option<i64>,
    cmd: &str,
) {
    let _ = cmd;
    if flags & F_GET != 0 {
        match get_string(ctx, key) {
            Err(()) => return ctx.wrongtype(),
            Ok(Some(old)) => ctx.reply().bulk(&old),
            Ok(None) => ctx.reply().null(),
        }
    }
    let now = ctx.now;
    let found = ctx.db().lookup(key, now).is_some();
    if (flags & F_NX != 0 && found) || (flags & F_XX != 0 && !found) {
        if flags & F_GET == 0 {
            match ok_reply {
                Some(_) => ctx.reply().int(0),
                None => ctx.reply().null(),
            }
        }
        return;
    }
    let value = Value::from_bytes(val);
    if flags & F_KEEPTTL != 0 {
        ctx.db().set_keep_ttl(key, value);
    } else {
        ctx.db().set(key, value);
    }
    ctx.signal_modified(key);
    ctx.notify(NOTIFY_STRING, "set", key);
    ctx.dirty(1);
    if !found {
        ctx.signal_key_ready(key);
    }
    if let Some(ms) = expire {
        ctx.db().set_expire(key, ms);
        ctx.notify(NOTIFY_GENERIC, "expire", key);
        // Replays must be exact: an absolute time in ms.
        ctx.rewrite_propagation(vec![
            Bytes::from_static(b"SET"),
            key.clone(),
            val.clone(),
            Bytes::from_static(b"PXAT"),
            Bytes::from(ms.to_string()),
        ]);
    } else if flags & F_GET != 0 {
        let mut v = vec![Bytes::from_static(b"SET"), key.clone(), val.clone()];
        if flags & F_NX != 0 {
            v.push(Bytes::from_static(b"NX"));
        }
        if flags & F_XX != 0 {
            v.push(Bytes::from_static(b"XX"));
        }
        if flags & F_KEEPTTL != 0 {
            v.push(Bytes::from_static(b"KEEPTTL"));
        }
        ctx.rewrite_propagation(v);
    }
    if flags & F_GET == 0 {
        match ok_reply {
            Some(n) => ctx.reply().int(n),
            None => ctx.reply().ok(),
        }
    }
}

fn set(ctx: &mut Ctx, argv: &[Bytes]) {
    // Fast path: plain SET key value.
    if argv.len() == 3 {
        return set_generic(ctx, &argv[1], &argv[2], 0, None, None, "set");
    }
    let Some((flags, exp)) = parse_opts(ctx, argv, 3, true) else {
        return;
    };
    let expire = match exp {
        Some(e) => match expire_ms(ctx, &e, "set") {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    set_generic(ctx, &argv[1], &argv[2], flags, expire, None, "set");
}

fn setnx(ctx: &mut Ctx, argv: &[Bytes]) {
    set_generic(ctx, &argv[1], &argv[2], F_NX, None, Some(1), "setnx");
}

fn setex_generic(ctx: &mut Ctx, argv: &[Bytes], millis: bool, cmd: &str) {
    let Some(n) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(ms) = expire_ms(
        ctx,
        &Expiry {
            value: n,
            absolute: false,
            millis,
        },
        cmd,
    ) else {
        return;
    };
    set_generic(ctx, &argv[1], &argv[3], 0, Some(ms), None, cmd);
}

fn setex(ctx: &mut Ctx, argv: &[Bytes]) {
    setex_generic(ctx, argv, false, "setex");
}

fn psetex(ctx: &mut Ctx, argv: &[Bytes]) {
    setex_generic(ctx, argv, true, "psetex");
}

fn getset(ctx: &mut Ctx, argv: &[Bytes]) {
    let old = match get_string(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(v) => v,
    };
    let key = argv[1].clone();
    ctx.db().set(&key, Value::from_bytes(&argv[2]));
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_STRING, "set", &key);
    ctx.dirty(1);
    ctx.rewrite_propagation(vec![Bytes::from_static(b"SET"), key, argv[2].clone()]);
    match old {
        Some(v) => ctx.reply().bulk(&v),
        None => ctx.reply().null(),
    }
}

fn getdel(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    match get_string(ctx, &key) {
        Err(()) => ctx.wrongtype(),
        Ok(None) => ctx.reply().null(),
        Ok(Some(v)) => {
            ctx.db().remove(&key);
            ctx.signal_modified(&key);
            ctx.notify(NOTIFY_GENERIC, "del", &key);
            ctx.dirty(1);
            ctx.rewrite_propagation(vec![Bytes::from_static(b"DEL"), key]);
            ctx.reply().bulk(&v);
        }
    }
}

fn getex(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some((flags, exp)) = parse_opts(ctx, argv, 2, false) else {
        return;
    };
    let key = argv[1].clone();
    let v = match get_string(ctx, &key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().null(),
        Ok(Some(v)) => v,
    };
    let expire = match &exp {
        Some(e) => match expire_ms(ctx, e, "getex") {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    if let Some(ms) = expire {
        if ms <= ctx.now {
            ctx.db().remove(&key);
            ctx.signal_modified(&key);
            ctx.notify(NOTIFY_GENERIC, "del", &key);
            ctx.dirty(1);
            ctx.rewrite_propagation(vec![Bytes::from_static(b"DEL"), key]);
        } else {
            ctx.db().set_expire(&key, ms);
            ctx.signal_modified(&key);
            ctx.notify(NOTIFY_GENERIC, "expire", &key);
            ctx.dirty(1);
            ctx.rewrite_propagation(vec![
                Bytes::from_static(b"PEXPIREAT"),
                key,
                Bytes::from(ms.to_string()),
            ]);
        }
    } else if flags & F_PERSIST != 0 && ctx.db().persist(&key) {
        ctx.signal_modified(&key);
        ctx.notify(NOTIFY_GENERIC, "persist", &key);
        ctx.dirty(1);
        ctx.rewrite_propagation(vec![Bytes::from_static(b"PERSIST"), key]);
    }
    ctx.reply().bulk(&v);
}

fn mget(ctx: &mut Ctx, argv: &[Bytes]) {
    let Ctx {
        srv, client, now, ..
    } = ctx;
    let db = &mut srv.dbs[client.db];
    client.reply.array(argv.len() - 1);
    for k in &argv[1..] {
        match db.lookup_touch(k, *now) {
            Some(o) if o.val.is_string() => {
                srv.stats.keyspace_hits += 1;
                reply_value(&mut client.reply, &o.val);
            }
            Some(_) => {
                srv.stats.keyspace_hits += 1;
                client.reply.null();
            }
            None => {
                srv.stats.keyspace_misses += 1;
                client.reply.null();
            }
        }
    }
}

fn mset_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) {
    if argv.len().is_multiple_of(2) {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        return ctx.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            name
        ));
    }
    let now = ctx.now;
    if nx && argv[1..].chunks(2).any(|p| ctx.db().exists(&p[0], now)) {
        return ctx.reply().int(0);
    }
    for p in argv[1..].chunks(2) {
        ctx.db().set(&p[0], Value::from_bytes(&p[1]));
        ctx.signal_modified(&p[0]);
        ctx.notify(NOTIFY_STRING, "set", &p[0]);
    }
    ctx.dirty(((argv.len() - 1) / 2) as u64);
    if nx {
        ctx.reply().int(1)
    } else {
        ctx.reply().ok()
    }
}

fn mset(ctx: &mut Ctx, argv: &[Bytes]) {
    mset_generic(ctx, argv, false);
}

fn msetnx(ctx: &mut Ctx, argv: &[Bytes]) {
    mset_generic(ctx, argv, true);
}

/// proto-max-bulk-len bounds every string a command builds.
fn check_len(ctx: &mut Ctx, total: u64) -> bool {
    if total > ctx.srv.config.proto_max_bulk_len as u64 {
        ctx.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    true
}

/// Turn the string at key into an in-place growable one and return it.
fn raw_mut(o: &mut Obj) -> &mut Vec<u8> {
    if !matches!(o.val, Value::Raw(_)) {
        let b = o
            .val
            .string_bytes()
            .map(|b| b.into_owned())
            .unwrap_or_default();
        o.val = Value::Raw(Box::new(b));
    }
    match &mut o.val {
        Value::Raw(v) => v,
        _ => unreachable!("converted above"),
    }
}

fn append(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let now = ctx.now;
    let len = match ctx.db().lookup(&key, now) {
        None => {
            // A new key gets the usual encoding choice, as in Redis.
            ctx.db().set(&key, Value::from_bytes(&argv[2]));
            ctx.signal_key_ready(&key);
            argv[2].len()
        }
        Some(o) => {
            let Some(cur) = o.val.string_bytes().map(|b| b.len()) else {
                return ctx.wrongtype();
            };
            if !check_len(ctx, (cur + argv[2].len()) as u64) {
                return;
            }
            let now = ctx.now;
            let o = ctx.db().lookup(&key, now).expect("looked up above");
            let v = raw_mut(o);
            v.extend_from_slice(&argv[2]);
            v.len()
        }
    };
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_STRING, "append", &key);
    ctx.dirty(1);
    ctx.reply().int(len as i64);
}

fn strlen(ctx: &mut Ctx, argv: &[Bytes]) {
    let n = match ctx.lookup_read(&argv[1]) {
        None => 0,
        Some(o) => match &o.val {
            Value::Int(n) => {
                let mut buf = [0u8; 24];
                crate::util::fmt_i64(*n, &mut buf).len()
            }
            v => match v.string_bytes() {
                Some(b) => b.len(),
                None => return ctx.wrongtype(),
            },
        },
    };
    ctx.reply().int(n as i64);
}

fn incr_by(ctx: &mut Ctx, key: &Bytes, incr: i64) {
    let now = ctx.now;
    let cur = match ctx.db().lookup(key, now) {
        None => 0,
        Some(o) => match &o.val {
            Value::Int(n) => *n,
            v => match v.string_bytes() {
                None => return ctx.wrongtype(),
                Some(b) => match crate::util::parse_i64(&b) {
                    Some(n) => n,
                    None => return ctx.not_int(),
                },
            },
        },
    };
    let Some(new) = cur.checked_add(incr) else {
        return ctx.error("ERR increment or decrement would overflow");
    };
    let existed = {
        let db = ctx.db();
        match db.dict.get_mut(&key[..]) {
            Some(o) => {
                o.val = Value::Int(new);
                if !crate::db::lfu_mode() {
                    o.lru = crate::db::lru_clock();
                }
                true
            }
            None => false,
        }
    };
    if !existed {
        ctx.db().set(key, Value::Int(new));
        ctx.signal_key_ready(key);
    }
    ctx.signal_modified(key);
    ctx.notify(NOTIFY_STRING, "incrby", key);
    ctx.dirty(1);
    ctx.reply().int(new);
}

fn incr(ctx: &mut Ctx, argv: &[Bytes]) {
    incr_by(ctx, &argv[1], 1);
}

fn decr(ctx: &mut Ctx, argv: &[Bytes]) {
    incr_by(ctx, &argv[1], -1);
}

fn incrby(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(n) = ctx.int_arg(&argv[2]) else {
        return;
    };
    incr_by(ctx, &argv[1], n);
}

fn decrby(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(n) = ctx.int_arg(&argv[2]) else {
        return;
    };
    if n == i64::MIN {
        return ctx.error("ERR decrement would overflow");
    }
    incr_by(ctx, &argv[1], -n);
}

fn incrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let now = ctx.now;
    let cur = match ctx.db().lookup(&key, now) {
        None => 0.0,
        Some(o) => match o.val.string_bytes() {
            None => return ctx.wrongtype(),
            Some(b) => match crate::util::parse_f64(&b) {
                Some(v) => v,
                None => return ctx.not_float(),
            },
        },
    };
    let Some(incr) = crate::util::parse_f64(&argv[2]) else {
        return ctx.not_float();
    };
    let new = cur + incr;
    if new.is_nan() || new.is_infinite() {
        return ctx.error("ERR increment would produce NaN or Infinity");
    }
    let text = super::hash::format_incr_float(new);
    ctx.db()
        .set_keep_ttl(&key, Value::Str(SBytes::new(text.as_bytes())));
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_STRING, "incrbyfloat", &key);
    ctx.dirty(1);
    ctx.rewrite_propagation(vec![
        Bytes::from_static(b"SET"),
        key,
        Bytes::from(text.clone()),
        Bytes::from_static(b"KEEPTTL"),
    ]);
    ctx.reply().bulk(text.as_bytes());
}

fn getrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(mut start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(mut end) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let s = match get_string(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().bulk(b""),
        Ok(Some(s)) => s,
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return ctx.reply().bulk(b"");
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return ctx.reply().bulk(b"");
    }
    ctx.reply().bulk(&s[start as usize..=end as usize]);
}

fn setrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let Some(offset) = ctx.int_arg(&argv[2]) else {
        return;
    };
    if offset < 0 {
        return ctx.error("ERR offset is out of range");
    }
    let val = &argv[3];
    let now = ctx.now;
    let exists = match ctx.db().lookup(&key, now) {
        None => false,
        Some(o) => {
            if !o.val.is_string() {
                return ctx.wrongtype();
            }
            true
        }
    };
    if !exists {
        if val.is_empty() {
            return ctx.reply().int(0);
        }
        if !check_len(ctx, offset as u64 + val.len() as u64) {
            return;
        }
        ctx.db().set(&key, Value::Raw(Box::default()));
        ctx.signal_key_ready(&key);
    } else if val.is_empty() {
        let n = ctx
            .db()
            .lookup(&key, now)
            .and_then(|o| o.val.string_bytes().map(|b| b.len()))
            .unwrap_or(0);
        return ctx.reply().int(n as i64);
    } else if !check_len(ctx, offset as u64 + val.len() as u64) {
        return;
    }
    let o = ctx.db().lookup(&key, now).expect("created above");
    let v = raw_mut(o);
    let end = offset as usize + val.len();
    if v.len() < end {
        v.resize(end, 0);
    }
    v[offset as usize..end].copy_from_slice(val);
    let n = v.len();
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_STRING, "setrange", &key);
    ctx.dirty(1);
    ctx.reply().int(n as i64);
}

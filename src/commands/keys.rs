//! Keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, MOVE, COPY,
//! SWAPDB, FLUSHDB/FLUSHALL, OBJECT and the expiry family.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::NOTIFY_GENERIC;
use crate::db::{Obj, Value, NO_EXPIRE};
use crate::util::{eq_ic, glob_match};

const BASE: CommandSpec = CommandSpec {
    group: "generic",
    acl: "keyspace",
    first_key: 1,
    last_key: 1,
    step: 1,
    ..CommandSpec::DEFAULT
};

const NOKEY: CommandSpec = CommandSpec {
    first_key: 0,
    last_key: 0,
    step: 0,
    ..BASE
};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $h:expr, $since:expr, $sum:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            handler: $h,
            since: $since,
            summary: $sum,
            ..BASE
        }
    };
}

pub static OBJECT_SUBS: &[CommandSpec] = &[
    CommandSpec {
        name: "encoding",
        arity: 3,
        flags: "readonly",
        handler: object_cmd,
        first_key: 2,
        last_key: 2,
        since: "2.2.3",
        summary: "Inspect the internal encoding of a Redis object",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "freq",
        arity: 3,
        flags: "readonly",
        handler: object_cmd,
        first_key: 2,
        last_key: 2,
        since: "4.0.0",
        summary: "Get the logarithmic access frequency counter of a Redis object",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "idletime",
        arity: 3,
        flags: "readonly",
        handler: object_cmd,
        first_key: 2,
        last_key: 2,
        since: "2.2.3",
        summary: "Get the time since a Redis object was last accessed",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "refcount",
        arity: 3,
        flags: "readonly",
        handler: object_cmd,
        first_key: 2,
        last_key: 2,
        since: "2.2.3",
        summary: "Get the number of references to the value of the key",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: "loading stale",
        handler: object_help,
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        ..NOKEY
    },
];

pub static COMMANDS: &[CommandSpec] = &[
    cmd!("del", -2, "write", del, "1.0.0", "Delete a key"),
    cmd!("unlink", -2, "write fast", unlink, "4.0.0", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking."),
    cmd!("exists", -2, "readonly fast", exists, "1.0.0", "Determine if a key exists"),
    cmd!("type", 2, "readonly fast", type_cmd, "1.0.0", "Determine the type stored at key"),
    cmd!("touch", -2, "readonly fast", touch, "3.2.1", "Alters the last access time of a key(s). Returns the number of existing keys specified."),
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: "readonly",
        handler: keys_cmd,
        summary: "Find all keys matching the given pattern",
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        ..NOKEY
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: "readonly",
        handler: scan,
        since: "2.8.0",
        summary: "Incrementally iterate the keys space",
        tips: &["nondeterministic_output", "request_policy:special"],
        ..NOKEY
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: "readonly",
        handler: randomkey,
        summary: "Return a random key from the keyspace",
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        ..NOKEY
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: "write",
        handler: rename,
        last_key: 2,
        summary: "Rename a key",
        ..BASE
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: "write fast",
        handler: renamenx,
        last_key: 2,
        summary: "Rename a key, only if the new key does not exist",
        ..BASE
    },
    cmd!("move", 3, "write fast", move_cmd, "1.0.0", "Move a key to another database"),
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: "write denyoom",
        handler: copy,
        last_key: 2,
        since: "6.2.0",
        summary: "Copy a key",
        ..BASE
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: "write fast",
        acl: "keyspace dangerous",
        handler: swapdb,
        since: "4.0.0",
        summary: "Swaps two Redis databases",
        ..NOKEY
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: "readonly fast",
        handler: dbsize,
        group: "server",
        summary: "Return the number of keys in the selected database",
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        ..NOKEY
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: "write",
        acl: "keyspace dangerous",
        handler: flushdb,
        group: "server",
        summary: "Remove all keys from the current database",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..NOKEY
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: "write",
        acl: "keyspace dangerous",
        handler: flushall,
        group: "server",
        summary: "Remove all keys from all databases",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..NOKEY
    },
    CommandSpec {
        name: "object",
        arity: -2,
        flags: "",
        handler: object_cmd,
        subcommands: OBJECT_SUBS,
        since: "2.2.3",
        summary: "A container for object introspection commands",
        ..NOKEY
    },
    cmd!("expire", -3, "write fast", expire, "1.0.0", "Set a key's time to live in seconds"),
    cmd!("pexpire", -3, "write fast", pexpire, "2.6.0", "Set a key's time to live in milliseconds"),
    cmd!("expireat", -3, "write fast", expireat, "1.2.0", "Set the expiration for a key as a UNIX timestamp"),
    cmd!("pexpireat", -3, "write fast", pexpireat, "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds"),
    cmd!("expiretime", 2, "readonly fast", expiretime, "7.0.0", "Get the expiration Unix timestamp for a key"),
    cmd!("pexpiretime", 2, "readonly fast", pexpiretime, "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds"),
    cmd!("ttl", 2, "readonly fast", ttl, "1.0.0", "Get the time to live for a key in seconds"),
    cmd!("pttl", 2, "readonly fast", pttl, "2.6.0", "Get the time to live for a key in milliseconds"),
    cmd!("persist", 2, "write fast", persist, "2.2.0", "Remove the expiration from a key"),
];

fn now_of(ctx: &Ctx) -> i64 {
    ctx.now
}

fn key_exists(ctx: &mut Ctx, key: &[u8]) -> bool {
    let now = now_of(ctx);
    ctx.db().exists(key, now)
}

fn del_generic(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut n = 0;
    for k in &argv[1..] {
        if !key_exists(ctx, k) {
            continue;
        }
        ctx.db().remove(k);
        ctx.signal_modified(k);
        ctx.notify(NOTIFY_GENERIC, "del", k);
        ctx.dirty(1);
        n += 1;
    }
    ctx.reply().int(n);
}

fn del(ctx: &mut Ctx, argv: &[Bytes]) {
    del_generic(ctx, argv)
}

fn unlink(ctx: &mut Ctx, argv: &[Bytes]) {
    del_generic(ctx, argv)
}

fn exists(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut n = 0;
    for k in &argv[1..] {
        if key_exists(ctx, k) {
            n += 1;
        }
    }
    ctx.reply().int(n);
}

fn touch(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut n = 0;
    for k in &argv[1..] {
        if ctx.lookup_write(k).is_some() {
            n += 1;
        }
    }
    ctx.reply().int(n);
}

fn type_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = now_of(ctx);
    let t = ctx
        .db()
        .lookup(&argv[1], now)
        .map(|o| o.val.type_name())
        .unwrap_or("none");
    ctx.reply().status(t);
}

fn keys_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = now_of(ctx);
    let pat = &argv[1];
    let all = pat.as_ref() == b"*";
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut expired: Vec<Vec<u8>> = Vec::new();
    for (k, o) in ctx.db().dict.iter() {
        if !all && !glob_match(pat, k.as_slice(), false) {
            continue;
        }
        if o.expire != NO_EXPIRE && o.expire <= now {
            expired.push(k.as_slice().to_vec());
            continue;
        }
        out.push(k.as_slice().to_vec());
    }
    for k in expired {
        ctx.db().lookup(&k, now);
    }
    ctx.reply().bulk_array(out.iter().map(|v| v.as_slice()));
}

/// Parse a SCAN cursor as Redis does (an unsigned 64-bit decimal).
pub fn parse_cursor(b: &[u8]) -> Option<u64> {
    // strtoul semantics: optional sign, decimal digits, no overflow;
    // a negative value wraps.
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn scan(ctx: &mut Ctx, argv: &[Bytes]) {
    let cursor = match parse_cursor(&argv[1]) {
        Some(c) => c,
        None => return ctx.error("ERR invalid cursor"),
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut typ: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if eq_ic(&argv[i], "count") && more >= 1 {
            let Some(c) = ctx.int_arg(&argv[i + 1]) else {
                return;
            };
            if c < 1 {
                return ctx.syntax_error();
            }
            count = c;
            i += 2;
        } else if eq_ic(&argv[i], "match") && more >= 1 {
            pattern = if argv[i + 1].as_ref() == b"*" {
                None
            } else {
                Some(&argv[i + 1])
            };
            i += 2;
        } else if eq_ic(&argv[i], "type") && more >= 1 {
            typ = Some(&argv[i + 1]);
            i += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    let now = now_of(ctx);
    let db = ctx.db();
    let mut found: Vec<(Vec<u8>, bool, &'static str)> = Vec::new();
    let mut cur = cursor;
    let mut maxiter = count.saturating_mul(10);
    loop {
        cur = db.dict.scan(cur, |k, o: &Obj| {
            found.push((
                k.as_slice().to_vec(),
                o.expire != NO_EXPIRE && o.expire <= now,
                o.val.type_name(),
            ))
        });
        maxiter -= 1;
        if cur == 0 || maxiter <= 0 || found.len() as i64 >= count {
            break;
        }
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (k, exp, t) in found {
        if let Some(p) = pattern {
            if !glob_match(p, &k, false) {
                continue;
            }
        }
        if exp {
            db.lookup(&k, now);
            continue;
        }
        if let Some(want) = typ {
            if !eq_ic(want, t) {
                continue;
            }
        }
        out.push(k);
    }
    let r = ctx.reply();
    r.array(2);
    r.bulk(cur.to_string().as_bytes());
    r.bulk_array(out.iter().map(|v| v.as_slice()));
}

fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) {
    let now = now_of(ctx);
    match ctx.db().random_key(now) {
        Some(k) => ctx.reply().bulk(k.as_slice()),
        None => ctx.reply().null(),
    }
}

fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) {
    let (src, dst) = (&argv[1], &argv[2]);
    if !key_exists(ctx, src) {
        return ctx.error("ERR no such key");
    }
    if src == dst {
        if nx {
            ctx.reply().int(0);
        } else {
            ctx.reply().ok();
        }
        return;
    }
    if key_exists(ctx, dst) {
        if nx {
            ctx.reply().int(0);
            return;
        }
        ctx.db().remove(dst);
    }
    let Some(obj) = ctx.db().remove(src) else {
        return ctx.error("ERR no such key");
    };
    ctx.db().insert_obj(dst, obj);
    ctx.signal_modified(src);
    ctx.signal_modified(dst);
    ctx.notify(NOTIFY_GENERIC, "rename_from", src);
    ctx.notify(NOTIFY_GENERIC, "rename_to", dst);
    ctx.dirty(1);
    if nx {
        ctx.reply().int(1);
    } else {
        ctx.reply().ok();
    }
}

fn rename(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, false)
}

fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, true)
}

/// Parse a DB index argument as an int; None after replying.
fn db_index_arg(ctx: &mut Ctx, a: &[u8]) -> Option<usize> {
    let n = ctx.int_arg(a)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        ctx.not_int();
        return None;
    }
    if n < 0 || n as usize >= ctx.srv.dbs.len() {
        ctx.error("ERR DB index is out of range");
        return None;
    }
    Some(n as usize)
}

fn move_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let Some(dst) = db_index_arg(ctx, &argv[2]) else {
        return;
    };
    let src = ctx.client.db;
    if src == dst {
        return ctx.error("ERR source and destination objects are the same");
    }
    let now = now_of(ctx);
    if !ctx.srv.dbs[src].exists(key, now) {
        return ctx.reply().int(0);
    }
    if ctx.srv.dbs[dst].exists(key, now) {
        return ctx.reply().int(0);
    }
    let Some(obj) = ctx.srv.dbs[src].remove(key) else {
        return ctx.reply().int(0);
    };
    ctx.srv.dbs[dst].insert_obj(key, obj);
    ctx.srv.signal_modified_key(src, key);
    ctx.srv.signal_modified_key(dst, key);
    ctx.srv
        .notify_keyspace_event(NOTIFY_GENERIC, "move_from", key, src);
    ctx.srv
        .notify_keyspace_event(NOTIFY_GENERIC, "move_to", key, dst);
    ctx.srv.signal_key_as_ready(dst, key);
    ctx.dirty(1);
    ctx.reply().int(1);
}

fn copy(ctx: &mut Ctx, argv: &[Bytes]) {
    let (key, newkey) = (&argv[1], &argv[2]);
    let src = ctx.client.db;
    let mut dst = src;
    let mut replace = false;
    let mut i = 3;
    while i < argv.len() {
        if eq_ic(&argv[i], "replace") {
            replace = true;
            i += 1;
        } else if eq_ic(&argv[i], "db") && i + 1 < argv.len() {
            let Some(d) = db_index_arg(ctx, &argv[i + 1]) else {
                return;
            };
            dst = d;
            i += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    if src == dst && key == newkey {
        return ctx.error("ERR source and destination objects are the same");
    }
    let now = now_of(ctx);
    let (val, expire) = match ctx.srv.dbs[src].lookup(key, now) {
        Some(o) => (o.val.clone(), o.expire),
        None => return ctx.reply().int(0),
    };
    if ctx.srv.dbs[dst].exists(newkey, now) {
        if !replace {
            return ctx.reply().int(0);
        }
        ctx.srv.dbs[dst].remove(newkey);
    }
    let mut obj = Obj::new(val);
    obj.expire = expire;
    ctx.srv.dbs[dst].insert_obj(newkey, obj);
    ctx.srv.signal_modified_key(dst, newkey);
    ctx.srv
        .notify_keyspace_event(NOTIFY_GENERIC, "copy_to", newkey, dst);
    ctx.srv.signal_key_as_ready(dst, newkey);
    ctx.dirty(1);
    ctx.reply().int(1);
}

fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) {
    let parse = |a: &[u8]| -> Option<i64> {
        let n = crate::util::parse_i64(a)?;
        if n < i32::MIN as i64 || n > i32::MAX as i64 {
            None
        } else {
            Some(n)
        }
    };
    let Some(a) = parse(&argv[1]) else {
        return ctx.error("ERR invalid first DB index");
    };
    let Some(b) = parse(&argv[2]) else {
        return ctx.error("ERR invalid second DB index");
    };
    let n = ctx.srv.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return ctx.error("ERR DB index is out of range");
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let (lo, hi) = (a.min(b), a.max(b));
        let (x, y) = ctx.srv.dbs.split_at_mut(hi);
        let (p, q) = (&mut x[lo], &mut y[0]);
        std::mem::swap(&mut p.dict, &mut q.dict);
        std::mem::swap(&mut p.expires, &mut q.expires);
        std::mem::swap(&mut p.avg_ttl, &mut q.avg_ttl);
        p.expire_cursor = 0;
        q.expire_cursor = 0;
        ctx.srv.signal_flushed_db(Some(a));
        ctx.srv.signal_flushed_db(Some(b));
    }
    ctx.dirty(1);
    ctx.reply().ok();
}

fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) {
    let n = ctx.db().len();
    ctx.reply().int(n as i64);
}

/// FLUSHDB/FLUSHALL option: [ASYNC|SYNC]. False after replying an error.
fn flush_flags(ctx: &mut Ctx, argv: &[Bytes]) -> bool {
    if argv.len() > 2 {
        ctx.syntax_error();
        return false;
    }
    if argv.len() == 2 && !eq_ic(&argv[1], "async") && !eq_ic(&argv[1], "sync") {
        ctx.syntax_error();
        return false;
    }
    true
}

fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) {
    if !flush_flags(ctx, argv) {
        return;
    }
    let db = ctx.client.db;
    ctx.srv.signal_flushed_db(Some(db));
    let n = ctx.db().clear();
    ctx.dirty(n as u64);
    // Propagate even when the db was empty, as Redis does.
    ctx.dirty(1);
    ctx.reply().ok();
}

fn flushall(ctx: &mut Ctx, argv: &[Bytes]) {
    if !flush_flags(ctx, argv) {
        return;
    }
    ctx.srv.signal_flushed_db(None);
    let mut n = 0;
    for db in ctx.srv.dbs.iter_mut() {
        n += db.clear();
    }
    ctx.dirty(n as u64 + 1);
    ctx.reply().ok();
}

fn policy_is_lfu(ctx: &Ctx) -> bool {
    ctx.srv
        .config
        .get("maxmemory-policy")
        .is_some_and(|p| p.contains("lfu"))
}

fn object_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() < 2 {
        return ctx.error("ERR wrong number of arguments for 'object' command");
    }
    let sub = crate::util::lower_str(&argv[1]);
    if argv.len() != 3 || !matches!(sub.as_str(), "encoding" | "freq" | "idletime" | "refcount") {
        let name = String::from_utf8_lossy(&argv[1]).into_owned();
        return ctx.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{name}'. Try OBJECT HELP."
        ));
    }
    let now = now_of(ctx);
    let lfu = policy_is_lfu(ctx);
    let Some(o) = ctx.db().lookup(&argv[2], now) else {
        return ctx.reply().null();
    };
    match sub.as_str() {
        "encoding" => {
            let e = o.val.encoding();
            ctx.reply().bulk_str(e);
        }
        "refcount" => {
            let shared = matches!(o.val, Value::Int(n) if (0..10000).contains(&n));
            ctx.reply().int(if shared { i32::MAX as i64 } else { 1 });
        }
        "idletime" => {
            let idle = (crate::db::lru_clock() as i64 - o.lru as i64).max(0);
            if lfu {
                return ctx.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            }
            ctx.reply().int(idle);
        }
        _ => {
            if !lfu {
                return ctx.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            }
            ctx.reply().int(0);
        }
    }
}

fn object_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    let lines = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    let r = ctx.reply();
    r.array(lines.len());
    for l in lines {
        r.status(l);
    }
}

const EXPIRE_NX: u8 = 1;
const EXPIRE_XX: u8 = 2;
const EXPIRE_GT: u8 = 4;
const EXPIRE_LT: u8 = 8;

fn expire_generic(ctx: &mut Ctx, argv: &[Bytes], basetime: i64, seconds: bool, name: &str) {
    let mut flag = 0u8;
    for a in &argv[3..] {
        let f = if eq_ic(a, "nx") {
            EXPIRE_NX
        } else if eq_ic(a, "xx") {
            EXPIRE_XX
        } else if eq_ic(a, "gt") {
            EXPIRE_GT
        } else if eq_ic(a, "lt") {
            EXPIRE_LT
        } else {
            let s = String::from_utf8_lossy(a).into_owned();
            return ctx.error(&format!("ERR Unsupported option {s}"));
        };
        flag |= f;
    }
    if flag & EXPIRE_NX != 0 && flag & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT) != 0 {
        return ctx.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if flag & EXPIRE_GT != 0 && flag & EXPIRE_LT != 0 {
        return ctx.error("ERR GT and LT options at the same time are not compatible");
    }
    let Some(mut when) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let bad = format!("ERR invalid expire time in '{name}' command");
    if seconds {
        match when.checked_mul(1000) {
            Some(w) => when = w,
            None => return ctx.error(&bad),
        }
    }
    match when.checked_add(basetime) {
        Some(w) if when <= i64::MAX - basetime => when = w,
        _ => return ctx.error(&bad),
    }
    let key = &argv[1];
    let Some(o) = ctx.lookup_write(key) else {
        return ctx.reply().int(0);
    };
    let cur = o.expire;
    if (flag & EXPIRE_NX != 0 && cur != NO_EXPIRE)
        || (flag & EXPIRE_XX != 0 && cur == NO_EXPIRE)
        || (flag & EXPIRE_GT != 0 && (cur == NO_EXPIRE || when <= cur))
        || (flag & EXPIRE_LT != 0 && cur != NO_EXPIRE && when >= cur)
    {
        return ctx.reply().int(0);
    }
    let replica = ctx.srv.loading;
    if when <= ctx.now && !replica {
        ctx.db().remove(key);
        ctx.dirty(1);
        let lazy = ctx.srv.config.get_bool("lazyfree-lazy-expire");
        let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        ctx.rewrite_propagation(vec![Bytes::from_static(cmd), key.clone()]);
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
        ctx.reply().int(1);
        return;
    }
    ctx.db().set_expire(key, when);
    ctx.reply().int(1);
    let mut prop: Vec<Bytes> = argv.to_vec();
    prop[0] = Bytes::from_static(b"PEXPIREAT");
    if basetime != 0 || seconds {
        prop[2] = Bytes::from(when.to_string());
    }
    ctx.rewrite_propagation(prop);
    ctx.signal_modified(key);
    ctx.notify(NOTIFY_GENERIC, "expire", key);
    ctx.dirty(1);
}

fn expire(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now;
    expire_generic(ctx, argv, now, true, "expire")
}
fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now;
    expire_generic(ctx, argv, now, false, "pexpire")
}
fn expireat(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, 0, true, "expireat")
}
fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, 0, false, "pexpireat")
}

/// Expiry of a live key: None if missing, Some(NO_EXPIRE) if persistent.
fn key_expire(ctx: &mut Ctx, key: &[u8]) -> Option<i64> {
    let now = now_of(ctx);
    ctx.db().lookup(key, now).map(|o| o.expire)
}

fn ttl_generic(ctx: &mut Ctx, argv: &[Bytes], ms: bool) {
    let now = ctx.now;
    let r = match key_expire(ctx, &argv[1]) {
        None => -2,
        Some(NO_EXPIRE) => -1,
        Some(e) => {
            let t = (e - now).max(0);
            if ms {
                t
            } else {
                (t + 500) / 1000
            }
        }
    };
    ctx.reply().int(r);
}

fn ttl(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, argv, false)
}
fn pttl(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, argv, true)
}

fn expiretime_generic(ctx: &mut Ctx, argv: &[Bytes], ms: bool) {
    let r = match key_expire(ctx, &argv[1]) {
        None => -2,
        Some(NO_EXPIRE) => -1,
        Some(e) => {
            if ms {
                e
            } else {
                e / 1000
            }
        }
    };
    ctx.reply().int(r);
}

fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    expiretime_generic(ctx, argv, false)
}
fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    expiretime_generic(ctx, argv, true)
}

fn persist(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    if ctx.lookup_write(key).is_none() {
        return ctx.reply().int(0);
    }
    if ctx.db().persist(key) {
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_GENERIC, "persist", key);
        ctx.dirty(1);
        ctx.reply().int(1);
    } else {
        ctx.reply().int(0);
    }
}

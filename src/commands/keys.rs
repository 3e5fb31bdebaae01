//! Keyspace and expiry commands.

use bytes::Bytes;

use super::command::help_reply;
use super::{CommandSpec, Ctx};
use crate::config::params::NOTIFY_GENERIC;
use crate::db::{Obj, SBytes, NO_EXPIRE};
use crate::util::{eq_ic, glob_match};

const G: CommandSpec = CommandSpec {
    group: "generic",
    acl: "keyspace",
    first_key: 1,
    last_key: 1,
    step: 1,
    since: "1.0.0",
    ..CommandSpec::DEFAULT
};
const G0: CommandSpec = CommandSpec {
    group: "generic",
    acl: "keyspace",
    since: "1.0.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "del", arity: -2, flags: "write", last_key: -1, handler: del, summary: "Delete a key", ..G },
    CommandSpec { name: "unlink", arity: -2, flags: "write fast", last_key: -1, handler: unlink, since: "4.0.0", summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", ..G },
    CommandSpec { name: "exists", arity: -2, flags: "readonly fast", last_key: -1, handler: exists, summary: "Determine if a key exists", ..G },
    CommandSpec { name: "type", arity: 2, flags: "readonly fast", handler: type_cmd, summary: "Determine the type stored at key", ..G },
    CommandSpec { name: "touch", arity: -2, flags: "readonly fast", last_key: -1, handler: touch, since: "3.2.1", summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", ..G },
    CommandSpec { name: "keys", arity: 2, flags: "readonly", acl: "keyspace dangerous", handler: keys, summary: "Find all keys matching the given pattern", tips: &["request_policy:all_shards", "nondeterministic_output_order"], ..G0 },
    CommandSpec { name: "scan", arity: -2, flags: "readonly", handler: scan, since: "2.8.0", summary: "Incrementally iterate the keys space", tips: &["nondeterministic_output", "request_policy:special"], ..G0 },
    CommandSpec { name: "randomkey", arity: 1, flags: "readonly", handler: randomkey, summary: "Return a random key from the keyspace", tips: &["request_policy:all_shards", "nondeterministic_output"], ..G0 },
    CommandSpec { name: "dbsize", arity: 1, flags: "readonly fast", handler: dbsize, group: "server", summary: "Return the number of keys in the selected database", tips: &["request_policy:all_shards", "response_policy:agg_sum"], ..G0 },
    CommandSpec { name: "flushdb", arity: -1, flags: "write", acl: "keyspace dangerous", handler: flushdb, group: "server", summary: "Remove all keys from the current database", tips: &["request_policy:all_shards", "response_policy:all_succeeded"], ..G0 },
    CommandSpec { name: "flushall", arity: -1, flags: "write", acl: "keyspace dangerous", handler: flushall, group: "server", summary: "Remove all keys from all databases", tips: &["request_policy:all_shards", "response_policy:all_succeeded"], ..G0 },
    CommandSpec { name: "rename", arity: 3, flags: "write", last_key: 2, handler: rename, summary: "Rename a key", ..G },
    CommandSpec { name: "renamenx", arity: 3, flags: "write fast", last_key: 2, handler: renamenx, summary: "Rename a key, only if the new key does not exist", ..G },
    CommandSpec { name: "move", arity: 3, flags: "write fast", handler: move_cmd, summary: "Move a key to another database", ..G },
    CommandSpec { name: "copy", arity: -3, flags: "write denyoom", last_key: 2, handler: copy, since: "6.2.0", summary: "Copy a key", ..G },
    CommandSpec { name: "swapdb", arity: 3, flags: "write fast", acl: "keyspace dangerous", handler: swapdb, since: "4.0.0", group: "server", summary: "Swaps two Redis databases", ..G0 },
    CommandSpec { name: "expire", arity: -3, flags: "write fast", handler: expire, summary: "Set a key's time to live in seconds", ..G },
    CommandSpec { name: "pexpire", arity: -3, flags: "write fast", handler: pexpire, since: "2.6.0", summary: "Set a key's time to live in milliseconds", ..G },
    CommandSpec { name: "expireat", arity: -3, flags: "write fast", handler: expireat, since: "1.2.0", summary: "Set the expiration for a key as a UNIX timestamp", ..G },
    CommandSpec { name: "pexpireat", arity: -3, flags: "write fast", handler: pexpireat, since: "2.6.0", summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", ..G },
    CommandSpec { name: "ttl", arity: 2, flags: "readonly fast", handler: ttl, summary: "Get the time to live for a key in seconds", tips: &["nondeterministic_output"], ..G },
    CommandSpec { name: "pttl", arity: 2, flags: "readonly fast", handler: pttl, since: "2.6.0", summary: "Get the time to live for a key in milliseconds", tips: &["nondeterministic_output"], ..G },
    CommandSpec { name: "expiretime", arity: 2, flags: "readonly fast", handler: expiretime, since: "7.0.0", summary: "Get the expiration Unix timestamp for a key", ..G },
    CommandSpec { name: "pexpiretime", arity: 2, flags: "readonly fast", handler: pexpiretime, since: "7.0.0", summary: "Get the expiration Unix timestamp for a key in milliseconds", ..G },
    CommandSpec { name: "persist", arity: 2, flags: "write fast", handler: persist, since: "2.2.0", summary: "Remove the expiration from a key", ..G },
    CommandSpec {
        name: "object",
        arity: -2,
        handler: super::container,
        // A container is only @slow, whatever its subcommands are.
        acl: "",
        since: "2.2.3",
        summary: "A container for object introspection commands",
        subcommands: &[
            CommandSpec { name: "encoding", arity: 3, flags: "readonly", first_key: 2, last_key: 2, step: 1, handler: object_encoding, since: "2.2.3", summary: "Inspect the internal encoding of a Redis object", tips: &["nondeterministic_output"], ..G0 },
            CommandSpec { name: "freq", arity: 3, flags: "readonly", first_key: 2, last_key: 2, step: 1, handler: object_freq, since: "4.0.0", summary: "Get the logarithmic access frequency counter of a Redis object", tips: &["nondeterministic_output"], ..G0 },
            CommandSpec { name: "idletime", arity: 3, flags: "readonly", first_key: 2, last_key: 2, step: 1, handler: object_idletime, since: "2.2.3", summary: "Get the time since a Redis object was last accessed", tips: &["nondeterministic_output"], ..G0 },
            CommandSpec { name: "refcount", arity: 3, flags: "readonly", first_key: 2, last_key: 2, step: 1, handler: object_refcount, since: "2.2.3", summary: "Get the number of references to the value of the key", tips: &["nondeterministic_output"], ..G0 },
            CommandSpec { name: "help", arity: 2, flags: "loading stale", handler: object_help, since: "6.2.0", summary: "Show helpful text about the different subcommands", ..G0 },
        ],
        ..G0
    },
];

/// Delete a key with the bookkeeping of a user delete.
pub fn delete_key(ctx: &mut Ctx, key: &[u8]) -> bool {
    let now = ctx.now;
    let db = ctx.db();
    if db.lookup(key, now).is_none() {
        return false;
    }
    db.remove(key);
    ctx.signal_modified(key);
    ctx.notify(NOTIFY_GENERIC, "del", key);
    ctx.dirty(1);
    true
}

fn del(ctx: &mut Ctx, argv: &[Bytes]) {
    let n = argv[1..].iter().filter(|k| delete_key(ctx, k)).count();
    ctx.reply().int(n as i64);
}

fn unlink(ctx: &mut Ctx, argv: &[Bytes]) {
    del(ctx, argv);
}

fn exists(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now;
    let n = argv[1..].iter().filter(|k| ctx.db().exists(k, now)).count();
    ctx.reply().int(n as i64);
}

fn type_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    // A read that leaves the access time alone (Redis's LOOKUP_NOTOUCH).
    let now = ctx.now;
    let t = ctx.db().lookup(&argv[1], now).map(|o| o.val.type_name());
    if t.is_some() {
        ctx.srv.stats.keyspace_hits += 1;
    } else {
        ctx.srv.stats.keyspace_misses += 1;
    }
    let t = t.unwrap_or("none");
    ctx.reply().status(t);
}

fn touch(ctx: &mut Ctx, argv: &[Bytes]) {
    let n = argv[1..]
        .iter()
        .filter(|k| ctx.lookup_read(k).is_some())
        .count();
    ctx.reply().int(n as i64);
}

fn keys(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now;
    let pat = argv[1].clone();
    let all = &pat[..] == b"*";
    let db = ctx.db();
    let found: Vec<SBytes> = db
        .dict
        .iter()
        .filter(|(k, o)| {
            (all || glob_match(&pat, k, false)) && (o.expire == NO_EXPIRE || o.expire > now)
        })
        .map(|(k, _)| k.clone())
        .collect();
    ctx.reply().bulk_array(found.iter());
}

/// A SCAN cursor: decimal, as Redis's strtoul-based parsing accepts.
/// Optional sign (a minus wraps around as strtoul does), then digits; an
/// empty string is cursor 0.
fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first() {
        None => return Some(0),
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

fn scan(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(mut cursor) = parse_cursor(&argv[1]) else {
        return ctx.error("ERR invalid cursor");
    };
    let mut count = 10usize;
    let mut pat: Option<Bytes> = None;
    let mut typ: Option<String> = None;
    let mut j = 2;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if eq_ic(&argv[j], "count") && more {
            match crate::util::parse_i64(&argv[j + 1]) {
                Some(n) if n >= 1 => count = n as usize,
                Some(_) => return ctx.syntax_error(),
                None => return ctx.not_int(),
            }
        } else if eq_ic(&argv[j], "match") && more {
            pat = Some(argv[j + 1].clone());
        } else if eq_ic(&argv[j], "type") && more {
            typ = Some(String::from_utf8_lossy(&argv[j + 1]).to_ascii_lowercase());
        } else {
            return ctx.syntax_error();
        }
        j += 2;
    }
    let now = ctx.now;
    let db = ctx.db();
    let mut out: Vec<SBytes> = Vec::new();
    let mut expired: Vec<SBytes> = Vec::new();
    // Visit buckets until COUNT keys are collected (bounded, as Redis).
    let mut iterations = count * 10;
    loop {
        cursor = db.dict.scan(cursor, |k, o| {
            if o.expire != NO_EXPIRE && o.expire <= now {
                expired.push(k.clone());
                return;
            }
            if let Some(p) = &pat {
                if !glob_match(p, k, false) {
                    return;
                }
            }
            if let Some(t) = &typ {
                if o.val.type_name() != t {
                    return;
                }
            }
            out.push(k.clone());
        });
        iterations -= 1;
        if cursor == 0 || out.len() >= count || iterations == 0 {
            break;
        }
    }
    // Expired keys met are deleted as on any access (each DEL propagated
    // on its own, as Redis's scan does).
    for k in &expired {
        db.lookup(k, now);
    }
    let r = ctx.reply();
    r.array(2);
    r.bulk(cursor.to_string().as_bytes());
    r.bulk_array(out.iter());
}

fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) {
    let now = ctx.now;
    match ctx.db().random_key(now) {
        Some(k) => ctx.reply().bulk(&k),
        None => ctx.reply().null(),
    }
}

fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) {
    let n = ctx.db().len() as i64;
    ctx.reply().int(n);
}

fn flush_mode(ctx: &mut Ctx, argv: &[Bytes]) -> bool {
    if argv.len() > 2 || (argv.len() == 2 && !eq_ic(&argv[1], "sync") && !eq_ic(&argv[1], "async"))
    {
        ctx.syntax_error();
        return false;
    }
    true
}

fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) {
    if !flush_mode(ctx, argv) {
        return;
    }
    let db = ctx.client.db;
    ctx.srv.signal_db_change(Some(db), None);
    let n = ctx.srv.dbs[db].clear();
    ctx.dirty(n as u64 + 1);
    ctx.reply().ok();
}

fn flushall(ctx: &mut Ctx, argv: &[Bytes]) {
    if !flush_mode(ctx, argv) {
        return;
    }
    ctx.srv.signal_db_change(None, None);
    let mut n = 0;
    for db in ctx.srv.dbs.iter_mut() {
        n += db.clear();
    }
    ctx.dirty(n as u64 + 1);
    crate::persistence::kill_rdb_child(ctx.srv);
    // Redis saves right away when save points exist, resetting the count.
    if crate::persistence::has_save_points(ctx.srv) {
        let _ = crate::persistence::save(ctx.srv);
        ctx.srv.dirty += 1;
    }
    // Propagated even though the save lowered the dirty count (Redis's
    // forceCommandPropagation).
    ctx.also_propagate(argv.to_vec());
    ctx.rewrite_propagation(Vec::new());
    ctx.reply().ok();
}

fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) {
    let (src, dst) = (argv[1].clone(), argv[2].clone());
    let now = ctx.now;
    if ctx.db().lookup(&src, now).is_none() {
        return ctx.error("ERR no such key");
    }
    if src == dst {
        return if nx {
            ctx.reply().int(0)
        } else {
            ctx.reply().ok()
        };
    }
    if ctx.db().lookup(&dst, now).is_some() {
        if nx {
            return ctx.reply().int(0);
        }
        ctx.db().remove(&dst);
    }
    let Some(o) = ctx.db().remove(&src) else {
        return ctx.error("ERR no such key");
    };
    ctx.db().insert_obj(&dst, o);
    ctx.signal_modified(&src);
    ctx.signal_modified(&dst);
    ctx.notify(NOTIFY_GENERIC, "rename_from", &src);
    ctx.notify(NOTIFY_GENERIC, "rename_to", &dst);
    ctx.signal_key_ready(&dst);
    ctx.dirty(1);
    if nx {
        ctx.reply().int(1)
    } else {
        ctx.reply().ok()
    }
}

fn rename(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, false);
}

fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) {
    rename_generic(ctx, argv, true);
}

fn db_index(ctx: &mut Ctx, a: &[u8]) -> Option<usize> {
    match crate::util::parse_i64(a) {
        Some(n) if n >= 0 && (n as usize) < ctx.srv.dbs.len() => Some(n as usize),
        Some(n) if n < i32::MIN as i64 || n > i32::MAX as i64 => {
            ctx.error("ERR value is out of range, value must between -2147483648 and 2147483647");
            None
        }
        Some(_) => {
            ctx.error("ERR DB index is out of range");
            None
        }
        None => {
            ctx.not_int();
            None
        }
    }
}

fn move_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let Some(dst) = db_index(ctx, &argv[2]) else {
        return;
    };
    let src = ctx.client.db;
    if src == dst {
        return ctx.error("ERR source and destination objects are the same");
    }
    let now = ctx.now;
    if ctx.srv.dbs[src].lookup(&key, now).is_none() {
        return ctx.reply().int(0);
    }
    if ctx.srv.dbs[dst].lookup(&key, now).is_some() {
        return ctx.reply().int(0);
    }
    let Some(o) = ctx.srv.dbs[src].remove(&key) else {
        return ctx.reply().int(0);
    };
    ctx.srv.dbs[dst].insert_obj(&key, o);
    ctx.signal_modified_in(src, &key);
    ctx.signal_modified_in(dst, &key);
    ctx.srv
        .notify_keyspace_event(NOTIFY_GENERIC, "move_from", &key, src);
    ctx.srv
        .notify_keyspace_event(NOTIFY_GENERIC, "move_to", &key, dst);
    ctx.srv.signal_key_as_ready(dst, &key);
    ctx.dirty(1);
    ctx.reply().int(1);
}

fn copy(ctx: &mut Ctx, argv: &[Bytes]) {
    let (src, dstkey) = (argv[1].clone(), argv[2].clone());
    let mut dstdb = ctx.client.db;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if eq_ic(&argv[j], "replace") {
            replace = true;
        } else if eq_ic(&argv[j], "db") && j + 1 < argv.len() {
            let Some(d) = db_index(ctx, &argv[j + 1]) else {
                return;
            };
            dstdb = d;
            j += 1;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let srcdb = ctx.client.db;
    if srcdb == dstdb && src == dstkey {
        return ctx.error("ERR source and destination objects are the same");
    }
    let now = ctx.now;
    let Some(o) = ctx.srv.dbs[srcdb].lookup(&src, now) else {
        return ctx.reply().int(0);
    };
    let copy = Obj {
        val: o.val.clone(),
        expire: o.expire,
        lru: o.lru,
    };
    if ctx.srv.dbs[dstdb].lookup(&dstkey, now).is_some() {
        if !replace {
            return ctx.reply().int(0);
        }
        ctx.srv.dbs[dstdb].remove(&dstkey);
    }
    ctx.srv.dbs[dstdb].insert_obj(&dstkey, copy);
    ctx.signal_modified_in(dstdb, &dstkey);
    ctx.srv
        .notify_keyspace_event(NOTIFY_GENERIC, "copy_to", &dstkey, dstdb);
    ctx.srv.signal_key_as_ready(dstdb, &dstkey);
    ctx.dirty(1);
    ctx.reply().int(1);
}

fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) {
    let a = match crate::util::parse_i64(&argv[1]) {
        Some(n) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => n,
        _ => return ctx.error("ERR invalid first DB index"),
    };
    let b = match crate::util::parse_i64(&argv[2]) {
        Some(n) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => n,
        _ => return ctx.error("ERR invalid second DB index"),
    };
    let n = ctx.srv.dbs.len() as i64;
    if a < 0 || b < 0 || a >= n || b >= n {
        return ctx.error("ERR DB index is out of range");
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        ctx.srv.signal_db_change(Some(a), Some(b));
        ctx.srv.signal_db_change(Some(b), Some(a));
        ctx.srv.dbs.swap(a, b);
        ctx.srv.dbs[a].id = a;
        ctx.srv.dbs[b].id = b;
        // Clients blocked on keys that now exist try again (Redis's
        // scanDatabaseForReadyKeys; an expired key is then deleted).
        let ready: Vec<(usize, Vec<u8>)> = ctx
            .srv
            .blocking
            .by_key
            .keys()
            .filter(|(d, k)| (*d == a || *d == b) && ctx.srv.dbs[*d].dict.get(k).is_some())
            .cloned()
            .collect();
        for (d, k) in ready {
            ctx.srv.signal_key_as_ready(d, &k);
        }
    }
    ctx.dirty(1);
    ctx.reply().ok();
}

// ------------------------------------------------------------ expiry

#[derive(PartialEq)]
enum Unit {
    Seconds,
    Millis,
}

fn expire_generic(ctx: &mut Ctx, argv: &[Bytes], relative: bool, unit: Unit) {
    let key = argv[1].clone();
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &argv[3..] {
        if eq_ic(a, "nx") {
            nx = true;
        } else if eq_ic(a, "xx") {
            xx = true;
        } else if eq_ic(a, "gt") {
            gt = true;
        } else if eq_ic(a, "lt") {
            lt = true;
        } else {
            return ctx.error(&format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            ));
        }
    }
    if nx && (xx || gt || lt) {
        return ctx.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return ctx.error("ERR GT and LT options at the same time are not compatible");
    }
    let Some(mut when) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let bad = |ctx: &mut Ctx| ctx.error(&format!("ERR invalid expire time in '{}' command", name));
    if unit == Unit::Seconds {
        match when.checked_mul(1000) {
            Some(v) => when = v,
            None => return bad(ctx),
        }
    }
    if relative {
        match when.checked_add(ctx.now) {
            Some(v) => when = v,
            None => return bad(ctx),
        }
    }
    let now = ctx.now;
    let Some(o) = ctx.db().lookup(&key, now) else {
        return ctx.reply().int(0);
    };
    let cur = o.expire;
    if (nx && cur != NO_EXPIRE)
        || (xx && cur == NO_EXPIRE)
        || (gt && (cur == NO_EXPIRE || when <= cur))
        || (lt && cur != NO_EXPIRE && when >= cur)
    {
        return ctx.reply().int(0);
    }
    // While loading, a past time is stored as is (the key expires later).
    if when <= now && !ctx.srv.loading {
        ctx.db().remove(&key);
        ctx.signal_modified(&key);
        ctx.notify(NOTIFY_GENERIC, "del", &key);
        ctx.dirty(1);
        ctx.rewrite_propagation(vec![Bytes::from_static(b"DEL"), key]);
        return ctx.reply().int(1);
    }
    ctx.db().set_expire(&key, when);
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_GENERIC, "expire", &key);
    ctx.dirty(1);
    // Replays must be exact: propagate the absolute time in ms.
    let mut prop = vec![
        Bytes::from_static(b"PEXPIREAT"),
        key,
        Bytes::from(when.to_string()),
    ];
    prop.extend(argv[3..].iter().cloned());
    ctx.rewrite_propagation(prop);
    ctx.reply().int(1);
}

fn expire(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, true, Unit::Seconds);
}
fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, true, Unit::Millis);
}
fn expireat(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, false, Unit::Seconds);
}
fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, false, Unit::Millis);
}

/// -2 missing, -1 no TTL, else the expiry.
/// A key's absolute expiry, -1 without one, -2 when missing; like Redis's
/// TTL it leaves the access time alone.
fn expire_of(ctx: &mut Ctx, key: &[u8]) -> i64 {
    let now = ctx.now;
    let e = match ctx.db().lookup(key, now) {
        None => -2,
        Some(o) if o.expire == NO_EXPIRE => -1,
        Some(o) => o.expire,
    };
    if e == -2 {
        ctx.srv.stats.keyspace_misses += 1;
    } else {
        ctx.srv.stats.keyspace_hits += 1;
    }
    e
}

fn ttl_generic(ctx: &mut Ctx, argv: &[Bytes], ms: bool, absolute: bool) {
    let e = expire_of(ctx, &argv[1]);
    let v = if e < 0 {
        e
    } else if absolute {
        if ms {
            e
        } else {
            // Rounded like TTL, as Redis does.
            (e + 500) / 1000
        }
    } else {
        let left = (e - ctx.now).max(0);
        if ms {
            left
        } else {
            (left + 500) / 1000
        }
    };
    ctx.reply().int(v);
}

fn ttl(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, argv, false, false);
}
fn pttl(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, argv, true, false);
}
fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, argv, false, true);
}
fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, argv, true, true);
}

fn persist(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let now = ctx.now;
    if ctx.db().lookup(&key, now).is_none() {
        return ctx.reply().int(0);
    }
    if ctx.db().persist(&key) {
        ctx.signal_modified(&key);
        ctx.notify(NOTIFY_GENERIC, "persist", &key);
        ctx.dirty(1);
        ctx.reply().int(1)
    } else {
        ctx.reply().int(0)
    }
}

// ------------------------------------------------------------ OBJECT

fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.srv
        .config
        .get("maxmemory-policy")
        .unwrap_or("")
        .contains("lfu")
}

/// Looks a key up without touching its access time (OBJECT must not).
fn peek(ctx: &mut Ctx, key: &[u8]) -> Option<(String, u32)> {
    let now = ctx.now;
    ctx.db()
        .lookup(key, now)
        .map(|o| (o.val.encoding().to_string(), o.lru))
}

fn object_encoding(ctx: &mut Ctx, argv: &[Bytes]) {
    match peek(ctx, &argv[2]) {
        Some((e, _)) => ctx.reply().bulk(e.as_bytes()),
        None => ctx.reply().null(),
    }
}

fn object_freq(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some((_, lru)) = peek(ctx, &argv[2]) else {
        return ctx.reply().null();
    };
    if !lfu_policy(ctx) {
        return ctx.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    ctx.reply().int(crate::db::lfu_counter(lru) as i64);
}

fn object_idletime(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some((_, lru)) = peek(ctx, &argv[2]) else {
        return ctx.reply().null();
    };
    if lfu_policy(ctx) {
        return ctx.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    let idle = crate::db::lru_clock().saturating_sub(lru) as i64;
    ctx.reply().int(idle);
}

fn object_refcount(ctx: &mut Ctx, argv: &[Bytes]) {
    match peek(ctx, &argv[2]) {
        Some((e, _)) => {
            // Small integers are shared objects in Redis (refcount INT_MAX).
            let shared = e == "int"
                && ctx.db().dict.get(&argv[2]).is_some_and(
                    |o| matches!(o.val, crate::db::Value::Int(n) if (0..10000).contains(&n)),
                );
            ctx.reply().int(if shared { i32::MAX as i64 } else { 1 })
        }
        None => ctx.reply().null(),
    }
}

fn object_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
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
        ],
    );
}

//! Hash commands.

use bytes::Bytes;

use super::set::{parse_scan, reply_scan};
use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_HASH};
use crate::db::hash::{Hash, Limits};
use crate::db::Value;
use crate::util::eq_ic;

const H: CommandSpec = CommandSpec {
    group: "hash",
    acl: "hash",
    first_key: 1,
    last_key: 1,
    step: 1,
    since: "2.0.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: "write denyoom fast",
        handler: hset,
        summary: "Set the string value of a hash field",
        ..H
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: "write denyoom fast",
        handler: hmset,
        summary: "Set multiple hash fields to multiple values",
        ..H
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: "write denyoom fast",
        handler: hsetnx,
        summary: "Set the value of a hash field, only if the field does not exist",
        ..H
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: "readonly fast",
        handler: hget,
        summary: "Get the value of a hash field",
        ..H
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: "readonly fast",
        handler: hmget,
        summary: "Get the values of all the given hash fields",
        ..H
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: "write fast",
        handler: hdel,
        summary: "Delete one or more hash fields",
        ..H
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: "readonly fast",
        handler: hlen,
        summary: "Get the number of fields in a hash",
        ..H
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: "readonly fast",
        handler: hstrlen,
        since: "3.2.0",
        summary: "Get the length of the value of a hash field",
        ..H
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: "readonly fast",
        handler: hexists,
        summary: "Determine if a hash field exists",
        ..H
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: "write denyoom fast",
        handler: hincrby,
        summary: "Increment the integer value of a hash field by the given number",
        ..H
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: "write denyoom fast",
        handler: hincrbyfloat,
        since: "2.6.0",
        summary: "Increment the float value of a hash field by the given amount",
        ..H
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: "readonly",
        handler: hkeys,
        summary: "Get all the fields in a hash",
        tips: &["nondeterministic_output_order"],
        ..H
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: "readonly",
        handler: hvals,
        summary: "Get all the values in a hash",
        tips: &["nondeterministic_output_order"],
        ..H
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: "readonly",
        handler: hgetall,
        summary: "Get all the fields and values in a hash",
        tips: &["nondeterministic_output_order"],
        ..H
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: "readonly",
        handler: hrandfield,
        since: "6.2.0",
        summary: "Get one or multiple random fields from a hash",
        tips: &["nondeterministic_output"],
        ..H
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: "readonly",
        handler: hscan,
        since: "2.8.0",
        summary: "Incrementally iterate hash fields and associated values",
        tips: &["nondeterministic_output"],
        ..H
    },
];

fn limits(ctx: &Ctx) -> Limits {
    let c = &ctx.srv.config;
    Limits {
        entries: c.hash_max_listpack_entries.max(0) as usize,
        value: c.hash_max_listpack_value.max(0) as usize,
    }
}

/// The hash at `key` for reading: Ok(None) when missing, Err after
/// replying WRONGTYPE.
fn read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Hash>, ()> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(o) => match &o.val {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(()),
        },
    }
}

/// The hash at `key` for writing, created when `create`; Err = WRONGTYPE.
fn write<'a>(ctx: &'a mut Ctx, key: &[u8], create: bool) -> Result<Option<&'a mut Hash>, ()> {
    let exists = match ctx.lookup_write(key) {
        None => false,
        Some(o) => {
            if !matches!(o.val, Value::Hash(_)) {
                return Err(());
            }
            true
        }
    };
    if !exists {
        if !create {
            return Ok(None);
        }
        ctx.db().set(key, Value::Hash(Default::default()));
    }
    match ctx.lookup_write(key) {
        Some(o) => match &mut o.val {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(()),
        },
        None => Ok(None),
    }
}

fn set_pairs(ctx: &mut Ctx, argv: &[Bytes]) -> Option<i64> {
    if !argv.len().is_multiple_of(2) {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        ctx.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            name
        ));
        return None;
    }
    let lim = limits(ctx);
    let key = argv[1].clone();
    let Ok(Some(h)) = write(ctx, &key, true) else {
        ctx.wrongtype();
        return None;
    };
    let mut created = 0;
    for pair in argv[2..].chunks(2) {
        if h.set(&pair[0], &pair[1], lim) {
            created += 1;
        }
    }
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_HASH, "hset", &key);
    ctx.dirty(((argv.len() - 2) / 2) as u64);
    Some(created)
}

fn hset(ctx: &mut Ctx, argv: &[Bytes]) {
    if let Some(n) = set_pairs(ctx, argv) {
        ctx.reply().int(n);
    }
}

fn hmset(ctx: &mut Ctx, argv: &[Bytes]) {
    if set_pairs(ctx, argv).is_some() {
        ctx.reply().ok();
    }
}

fn hsetnx(ctx: &mut Ctx, argv: &[Bytes]) {
    let lim = limits(ctx);
    let key = argv[1].clone();
    let Ok(Some(h)) = write(ctx, &key, true) else {
        return ctx.wrongtype();
    };
    if h.get(&argv[2]).is_some() {
        return ctx.reply().int(0);
    }
    h.set(&argv[2], &argv[3], lim);
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_HASH, "hset", &key);
    ctx.dirty(1);
    ctx.reply().int(1);
}

fn hget(ctx: &mut Ctx, argv: &[Bytes]) {
    let v = match read(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(h) => h.and_then(|h| h.get(&argv[2]).map(|v| v.to_vec())),
    };
    match v {
        Some(v) => ctx.reply().bulk(&v),
        None => ctx.reply().null(),
    }
}

fn hmget(ctx: &mut Ctx, argv: &[Bytes]) {
    let vals: Vec<Option<Vec<u8>>> = match read(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => vec![None; argv.len() - 2],
        Ok(Some(h)) => argv[2..]
            .iter()
            .map(|f| h.get(f).map(|v| v.to_vec()))
            .collect(),
    };
    let r = ctx.reply();
    r.array(vals.len());
    for v in vals {
        match v {
            Some(v) => r.bulk(&v),
            None => r.null(),
        }
    }
}

fn hdel(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let (deleted, empty) = match write(ctx, &key, false) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().int(0),
        Ok(Some(h)) => {
            let n = argv[2..].iter().filter(|f| h.remove(f)).count();
            (n, h.is_empty())
        }
    };
    if deleted > 0 {
        if empty {
            ctx.db().remove(&key);
        }
        ctx.signal_modified(&key);
        ctx.notify(NOTIFY_HASH, "hdel", &key);
        if empty {
            ctx.notify(NOTIFY_GENERIC, "del", &key);
        }
        ctx.dirty(deleted as u64);
    }
    ctx.reply().int(deleted as i64);
}

fn hlen(ctx: &mut Ctx, argv: &[Bytes]) {
    match read(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(h) => {
            let n = h.map(|h| h.len()).unwrap_or(0) as i64;
            ctx.reply().int(n)
        }
    }
}

fn hstrlen(ctx: &mut Ctx, argv: &[Bytes]) {
    match read(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(h) => {
            let n = h
                .and_then(|h| h.get(&argv[2]).map(|v| v.len()))
                .unwrap_or(0) as i64;
            ctx.reply().int(n)
        }
    }
}

fn hexists(ctx: &mut Ctx, argv: &[Bytes]) {
    match read(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(h) => {
            let n = h.is_some_and(|h| h.get(&argv[2]).is_some()) as i64;
            ctx.reply().int(n)
        }
    }
}

fn hincrby(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(incr) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let lim = limits(ctx);
    let key = argv[1].clone();
    let Ok(Some(h)) = write(ctx, &key, true) else {
        return ctx.wrongtype();
    };
    let cur = match h.get(&argv[2]) {
        None => 0,
        Some(v) => match crate::util::parse_i64(v) {
            Some(n) => n,
            None => {
                let empty = h.is_empty();
                if empty {
                    ctx.db().remove(&key);
                }
                return ctx.error("ERR hash value is not an integer");
            }
        },
    };
    let Some(new) = cur.checked_add(incr) else {
        let empty = h.is_empty();
        if empty {
            ctx.db().remove(&key);
        }
        return ctx.error("ERR increment or decrement would overflow");
    };
    h.set(&argv[2], new.to_string().as_bytes(), lim);
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_HASH, "hincrby", &key);
    ctx.dirty(1);
    ctx.reply().int(new);
}

/// Redis prints HINCRBYFLOAT results like "%.17Lf" with trailing zeros cut;
/// the shortest round-trip decimal gives the same text for doubles.
pub fn format_incr_float(v: f64) -> String {
    let s = format!("{}", v);
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn hincrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(incr) = crate::util::parse_f64(&argv[3]) else {
        return ctx.not_float();
    };
    if incr.is_infinite() {
        return ctx.error("ERR value is NaN or Infinity");
    }
    let lim = limits(ctx);
    let key = argv[1].clone();
    let Ok(Some(h)) = write(ctx, &key, true) else {
        return ctx.wrongtype();
    };
    let cur = match h.get(&argv[2]) {
        None => 0.0,
        Some(v) => match crate::util::parse_f64(v) {
            Some(n) => n,
            None => {
                let empty = h.is_empty();
                if empty {
                    ctx.db().remove(&key);
                }
                return ctx.error("ERR hash value is not a float");
            }
        },
    };
    let new = cur + incr;
    if new.is_nan() || new.is_infinite() {
        let empty = h.is_empty();
        if empty {
            ctx.db().remove(&key);
        }
        return ctx.error("ERR increment would produce NaN or Infinity");
    }
    let text = format_incr_float(new);
    h.set(&argv[2], text.as_bytes(), lim);
    ctx.signal_modified(&key);
    ctx.notify(NOTIFY_HASH, "hincrbyfloat", &key);
    ctx.dirty(1);
    // Replicate the result, not the increment, so replays are exact.
    ctx.rewrite_propagation(vec![
        Bytes::from_static(b"HSET"),
        key,
        argv[2].clone(),
        Bytes::from(text.clone()),
    ]);
    ctx.reply().bulk(text.as_bytes());
}

fn all(ctx: &mut Ctx, argv: &[Bytes], fields: bool, values: bool) {
    let pairs = match read(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(h) => h.map(|h| h.pairs()).unwrap_or_default(),
    };
    let r = ctx.reply();
    if fields && values {
        r.map(pairs.len());
    } else {
        r.array(pairs.len());
    }
    for (f, v) in pairs {
        if fields {
            r.bulk(&f);
        }
        if values {
            r.bulk(&v);
        }
    }
}

fn hkeys(ctx: &mut Ctx, argv: &[Bytes]) {
    all(ctx, argv, true, false);
}
fn hvals(ctx: &mut Ctx, argv: &[Bytes]) {
    all(ctx, argv, false, true);
}
fn hgetall(ctx: &mut Ctx, argv: &[Bytes]) {
    all(ctx, argv, true, true);
}

fn hrandfield(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() == 2 {
        let pick = match read(ctx, &argv[1]) {
            Err(()) => return ctx.wrongtype(),
            Ok(h) => h.and_then(|h| h.random_pair()),
        };
        return match pick {
            Some((f, _)) => ctx.reply().bulk(&f),
            None => ctx.reply().null(),
        };
    }
    let l = match crate::util::parse_i64(&argv[2]) {
        Some(n) if n >= -i64::MAX => n,
        _ => return ctx.error("ERR value is out of range"),
    };
    let mut withvalues = false;
    if argv.len() > 4 || (argv.len() == 4 && !eq_ic(&argv[3], "withvalues")) {
        return ctx.syntax_error();
    } else if argv.len() == 4 {
        withvalues = true;
        if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
            return ctx.error("ERR value is out of range");
        }
    }
    let pairs = match read(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().array(0),
        Ok(Some(h)) => h.pairs(),
    };
    let count = l.unsigned_abs() as usize;
    if count == 0 || pairs.is_empty() {
        return ctx.reply().array(0);
    }
    let picked: Vec<(Vec<u8>, Vec<u8>)> = if l < 0 {
        (0..count)
            .map(|_| pairs[crate::util::random_below(pairs.len() as u64) as usize].clone())
            .collect()
    } else if count >= pairs.len() {
        pairs
    } else {
        // Distinct fields: a partial Fisher-Yates shuffle.
        let mut p = pairs;
        for i in 0..count {
            let j = i + crate::util::random_below((p.len() - i) as u64) as usize;
            p.swap(i, j);
        }
        p.truncate(count);
        p
    };
    let resp3 = ctx.client.reply.resp >= 3;
    let r = ctx.reply();
    if withvalues && !resp3 {
        r.array(picked.len() * 2);
    } else {
        r.array(picked.len());
    }
    for (f, v) in picked {
        if withvalues && resp3 {
            r.array(2);
        }
        r.bulk(&f);
        if withvalues {
            r.bulk(&v);
        }
    }
}

fn hscan(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(o) = parse_scan(ctx, argv, 2) else {
        return;
    };
    let (cursor, items) = match read(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => (0, Vec::new()),
        Ok(Some(h)) => h.scan(o.cursor, o.count),
    };
    reply_scan(ctx, cursor, items, true, &o.pattern);
}

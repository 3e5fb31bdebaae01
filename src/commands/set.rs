//! Set commands: SADD, SREM, SPOP, SINTER and friends, SSCAN.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_SET};
use crate::db::set::{Set, DEFAULT_MAX_INTSET_ENTRIES};
use crate::db::{Db, Value};
use crate::util::{eq_ic, glob_match};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: "write denyoom fast",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: sadd_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Add one or more members to a set",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: "write fast",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: srem_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Remove one or more members from a set",
        complexity: "O(N) where N is the number of members to be removed.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: "readonly fast",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: scard_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Get the number of members in a set",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: "readonly fast",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: sismember_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Determine if a given value is a member of a set",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: "readonly fast",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: smismember_cmd,
        group: "set",
        since: "6.2.0",
        summary: "Returns the membership associated with the given elements for a set",
        complexity: "O(N) where N is the number of elements being checked for membership",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: "readonly",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: smembers_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Get all the members in a set",
        complexity: "O(N) where N is the set cardinality.",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: "write fast",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: spop_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Remove and return one or multiple random members from a set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: "readonly",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: srandmember_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Get one or multiple random members from a set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: "write fast",
        acl: "set",
        first_key: 1,
        last_key: 2,
        step: 1,
        handler: smove_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Move a member from one set to another",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: "readonly",
        acl: "set",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sinter_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Intersect multiple sets",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: "readonly",
        acl: "set",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: sintercard_cmd,
        getkeys: Some(sintercard_keys),
        group: "set",
        since: "7.0.0",
        summary: "Intersect multiple sets and return the cardinality of the result",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: "readonly",
        acl: "set",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sunion_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Add multiple sets",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: "readonly",
        acl: "set",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sdiff_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Subtract multiple sets",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: "write denyoom",
        acl: "set",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sinterstore_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Intersect multiple sets and store the resulting set in a key",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: "write denyoom",
        acl: "set",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sunionstore_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Add multiple sets and store the resulting set in a key",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: "write denyoom",
        acl: "set",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sdiffstore_cmd,
        group: "set",
        since: "1.0.0",
        summary: "Subtract multiple sets and store the resulting set in a key",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: "readonly",
        acl: "set",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: sscan_cmd,
        group: "set",
        since: "2.8.0",
        summary: "Incrementally iterate Set elements",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

/// set-max-intset-entries.
pub fn max_intset(ctx: &Ctx) -> usize {
    let v = ctx.srv.config.set_max_intset_entries;
    if v <= 0 {
        DEFAULT_MAX_INTSET_ENTRIES
    } else {
        v as usize
    }
}

/// Look a set up for reading. Ok(None) when missing; Err after replying
/// WRONGTYPE.
fn read_set<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Set>, ()> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(o) => match &mut o.val {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(()),
        },
    }
}

fn write_set<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Set>, ()> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(o) => match &mut o.val {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(()),
        },
    }
}

/// A set already looked up (expired keys are gone), by shared reference.
fn peek_set<'a>(db: &'a Db, key: &[u8]) -> Option<&'a Set> {
    match db.dict.get(key).map(|o| &o.val) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

fn reply_members(ctx: &mut Ctx, v: &[Vec<u8>]) {
    let r = ctx.reply();
    r.set(v.len());
    for m in v {
        r.bulk(m);
    }
}

fn sadd_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let max = max_intset(ctx);
    let added = match write_set(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(Some(s)) => argv[2..].iter().filter(|m| s.add(m, max)).count(),
        Ok(None) => {
            let mut s = Set::new_for(&argv[2]);
            let n = argv[2..].iter().filter(|m| s.add(m, max)).count();
            ctx.db().set(key, Value::Set(Box::new(s)));
            n
        }
    };
    if added > 0 {
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_SET, "sadd", key);
        ctx.dirty(added as u64);
    }
    ctx.reply().int(added as i64);
}

/// Delete `key` when its set became empty, with the "del" event.
fn del_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty =
        matches!(ctx.db().dict.get(key).map(|o| &o.val), Some(Value::Set(s)) if s.is_empty());
    if empty {
        ctx.db().remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    empty
}

fn srem_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let removed = match write_set(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => 0,
        Ok(Some(s)) => {
            let mut n = 0;
            for m in &argv[2..] {
                if s.remove(m) {
                    n += 1;
                    if s.is_empty() {
                        break;
                    }
                }
            }
            n
        }
    };
    if removed > 0 {
        ctx.notify(NOTIFY_SET, "srem", key);
        del_if_empty(ctx, key);
        ctx.signal_modified(key);
        ctx.dirty(removed);
    }
    ctx.reply().int(removed as i64);
}

fn scard_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    match read_set(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(s) => {
            let n = s.map(|s| s.len()).unwrap_or(0);
            ctx.reply().int(n as i64)
        }
    }
}

fn sismember_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    match read_set(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(s) => {
            let b = s.map(|s| s.contains(&argv[2])).unwrap_or(false);
            ctx.reply().int(b as i64)
        }
    }
}

fn smismember_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let v: Vec<bool> = match read_set(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(s) => argv[2..]
            .iter()
            .map(|m| s.as_ref().map(|s| s.contains(m)).unwrap_or(false))
            .collect(),
    };
    let r = ctx.reply();
    r.array(v.len());
    for b in v {
        r.int(b as i64);
    }
}

fn smembers_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let v = match read_set(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => Vec::new(),
        Ok(Some(s)) => s.members(),
    };
    reply_members(ctx, &v);
}

fn spop_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    if argv.len() > 3 {
        return ctx.syntax_error();
    }
    if argv.len() == 3 {
        return spop_count(ctx, argv);
    }
    let m = match write_set(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().null(),
        Ok(Some(s)) => s.pop_random(),
    };
    let Some(m) = m else {
        return ctx.reply().null();
    };
    ctx.notify(NOTIFY_SET, "spop", key);
    ctx.rewrite_propagation(vec![
        Bytes::from_static(b"SREM"),
        key.clone(),
        Bytes::from(m.clone()),
    ]);
    ctx.reply().bulk(&m);
    del_if_empty(ctx, key);
    ctx.signal_modified(key);
    ctx.dirty(1);
}

fn empty_set_reply(ctx: &mut Ctx) {
    ctx.reply().set(0);
}

fn spop_count(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let count = match crate::util::parse_i64(&argv[2]) {
        Some(n) if n >= 0 => n as u64,
        _ => return ctx.error("ERR value is out of range, must be positive"),
    };
    let size = match write_set(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return empty_set_reply(ctx),
        Ok(Some(s)) => s.len() as u64,
    };
    if count == 0 {
        return empty_set_reply(ctx);
    }
    ctx.notify(NOTIFY_SET, "spop", key);
    if count >= size {
        let members = match ctx.db().remove(key).map(|o| o.val) {
            Some(Value::Set(s)) => s.members(),
            _ => Vec::new(),
        };
        reply_members(ctx, &members);
        ctx.notify(NOTIFY_GENERIC, "del", key);
        ctx.rewrite_propagation(vec![Bytes::from_static(b"DEL"), key.clone()]);
        ctx.signal_modified(key);
        ctx.dirty(size);
        return;
    }
    let popped: Vec<Vec<u8>> = match write_set(ctx, key) {
        Ok(Some(s)) => (0..count).filter_map(|_| s.pop_random()).collect(),
        _ => Vec::new(),
    };
    reply_members(ctx, &popped);
    // Propagated as one SREM per element, as Redis does.
    let n = popped.len();
    for (i, m) in popped.into_iter().enumerate() {
        let a = vec![Bytes::from_static(b"SREM"), key.clone(), Bytes::from(m)];
        if i + 1 == n {
            ctx.rewrite_propagation(a);
        } else {
            ctx.also_propagate(a);
        }
    }
    ctx.signal_modified(key);
    ctx.dirty(count);
}

fn srandmember_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 3 {
        return ctx.syntax_error();
    }
    if argv.len() == 2 {
        let m = match read_set(ctx, &argv[1]) {
            Err(()) => return ctx.wrongtype(),
            Ok(None) => None,
            Ok(Some(s)) => s.random(),
        };
        return match m {
            Some(m) => ctx.reply().bulk(&m),
            None => ctx.reply().null(),
        };
    }
    let l = match crate::util::parse_i64(&argv[2]) {
        Some(n) if n != i64::MIN => n,
        Some(_) => {
            return ctx.error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        None => return ctx.not_int(),
    };
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    let out: Vec<Vec<u8>> = match read_set(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => Vec::new(),
        Ok(Some(_)) if count == 0 => Vec::new(),
        Ok(Some(s)) => {
            if count == 1 {
                s.random().into_iter().collect()
            } else if !uniq {
                // Sample from a snapshot so every member is equally likely,
                // writing straight into the reply.
                let all = s.members();
                let n = all.len() as u64;
                let r = ctx.reply();
                r.array(count as usize);
                for _ in 0..count {
                    r.bulk(&all[crate::util::random_below(n) as usize]);
                }
                return;
            } else if count >= s.len() as u64 {
                s.members()
            } else if count * 3 <= s.len() as u64 {
                // Small sample of a big set: draw until `count` distinct.
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::with_capacity(count as usize);
                while (out.len() as u64) < count {
                    match s.random() {
                        Some(m) => {
                            if seen.insert(m.clone()) {
                                out.push(m);
                            }
                        }
                        None => break,
                    }
                }
                out
            } else {
                let mut all = s.members();
                // Partial Fisher-Yates: the first `count` are a uniform sample.
                let n = all.len();
                for i in 0..count as usize {
                    let j = i + crate::util::random_below((n - i) as u64) as usize;
                    all.swap(i, j);
                }
                all.truncate(count as usize);
                all
            }
        }
    };
    let r = ctx.reply();
    r.array(out.len());
    for m in &out {
        r.bulk(m);
    }
}

fn smove_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let (src, dst, m) = (&argv[1], &argv[2], &argv[3]);
    let src_exists = match write_set(ctx, src) {
        Err(()) => return ctx.wrongtype(),
        Ok(s) => s.is_some(),
    };
    if !src_exists {
        // Redis answers 0 before looking at the destination's type.
        return ctx.reply().int(0);
    }
    if write_set(ctx, dst).is_err() {
        return ctx.wrongtype();
    }
    if src == dst {
        let b = matches!(write_set(ctx, src), Ok(Some(s)) if s.contains(m));
        return ctx.reply().int(b as i64);
    }
    let removed = match write_set(ctx, src) {
        Ok(Some(s)) => s.remove(m),
        _ => false,
    };
    if !removed {
        return ctx.reply().int(0);
    }
    ctx.notify(NOTIFY_SET, "srem", src);
    del_if_empty(ctx, src);
    let max = max_intset(ctx);
    let added = match write_set(ctx, dst) {
        Ok(Some(s)) => s.add(m, max),
        _ => {
            let mut s = Set::new_for(m);
            s.add(m, max);
            ctx.db().set(dst, Value::Set(Box::new(s)));
            true
        }
    };
    ctx.signal_modified(src);
    ctx.dirty(1);
    if added {
        ctx.dirty(1);
        ctx.signal_modified(dst);
        ctx.notify(NOTIFY_SET, "sadd", dst);
    }
    ctx.reply().int(1);
}

/// Look every key up (expiring lazily); false after replying WRONGTYPE.
fn check_sets(ctx: &mut Ctx, keys: &[Bytes]) -> bool {
    let mut ok = true;
    for k in keys {
        if read_set(ctx, k).is_err() {
            ok = false;
        }
    }
    if !ok {
        ctx.wrongtype();
    }
    ok
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Diff,
}

/// Members of the intersection of `keys` (stops at `limit` when non-zero).
fn inter_members(db: &Db, keys: &[Bytes], limit: usize) -> Vec<Vec<u8>> {
    let mut sets: Vec<&Set> = Vec::with_capacity(keys.len());
    for k in keys {
        match peek_set(db, k) {
            Some(s) => sets.push(s),
            None => return Vec::new(),
        }
    }
    sets.sort_by_key(|s| s.len());
    let mut out = Vec::new();
    let first = sets[0];
    let rest = &sets[1..];
    let mut done = false;
    first.for_each(|m| {
        if done {
            return;
        }
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains(m))
        {
            out.push(m.to_vec());
            if limit > 0 && out.len() >= limit {
                done = true;
            }
        }
    });
    out
}

fn union_diff_members(db: &Db, keys: &[Bytes], op: SetOp, max: usize) -> Set {
    let mut acc = Set::default();
    match op {
        SetOp::Union => {
            for k in keys {
                if let Some(s) = peek_set(db, k) {
                    s.for_each(|m| {
                        acc.add(m, max);
                    });
                }
            }
        }
        SetOp::Diff => {
            let Some(first) = peek_set(db, &keys[0]) else {
                return acc;
            };
            let others: Vec<&Set> = keys[1..]
                .iter()
                .filter_map(|k| peek_set(db, k))
                .filter(|s| !std::ptr::eq(*s, first))
                .collect();
            let same_as_first = keys[1..].iter().any(|k| k == &keys[0]);
            if same_as_first {
                return acc;
            }
            first.for_each(|m| {
                if !others.iter().any(|s| s.contains(m)) {
                    acc.add(m, max);
                }
            });
        }
    }
    acc
}

fn sinter_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    if !check_sets(ctx, &argv[1..]) {
        return;
    }
    let i = ctx.db_index();
    let v = inter_members(&ctx.srv.dbs[i], &argv[1..], 0);
    reply_members(ctx, &v);
}

fn sintercard_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let numkeys = match crate::util::parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as usize,
        _ => return ctx.error("ERR numkeys should be greater than 0"),
    };
    if numkeys > argv.len() - 2 {
        return ctx.error("ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if eq_ic(&argv[j], "limit") && j + 1 < argv.len() {
            j += 1;
            limit = match crate::util::parse_i64(&argv[j]) {
                Some(n) if n >= 0 => n as usize,
                _ => return ctx.error("ERR LIMIT can't be negative"),
            };
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let keys = &argv[2..2 + numkeys];
    if !check_sets(ctx, keys) {
        return;
    }
    let i = ctx.db_index();
    let v = inter_members(&ctx.srv.dbs[i], keys, limit);
    ctx.reply().int(v.len() as i64);
}

pub fn sintercard_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1, 0)
}

/// Keys of a "numkeys key [key ...]" command: numkeys at `at`, plus
/// `extra` leading key positions (a destination at 1).
pub fn numkeys_keys(argv: &[Bytes], at: usize, extra: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (1..1 + extra).collect();
    let n = argv
        .get(at)
        .and_then(|a| crate::util::parse_i64(a))
        .unwrap_or(0);
    if n <= 0 {
        return out;
    }
    let n = n as usize;
    for p in at + 1..(at + 1 + n).min(argv.len()) {
        out.push(p);
    }
    out
}

fn sunion_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    union_diff(ctx, &argv[1..], None, SetOp::Union);
}

fn sdiff_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    union_diff(ctx, &argv[1..], None, SetOp::Diff);
}

fn sunionstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    union_diff(ctx, &argv[2..], Some(&argv[1]), SetOp::Union);
}

fn sdiffstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    union_diff(ctx, &argv[2..], Some(&argv[1]), SetOp::Diff);
}

fn union_diff(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&Bytes>, op: SetOp) {
    if !check_sets(ctx, keys) {
        return;
    }
    let max = max_intset(ctx);
    let i = ctx.db_index();
    let res = union_diff_members(&ctx.srv.dbs[i], keys, op, max);
    match dst {
        None => reply_members(ctx, &res.members()),
        Some(d) => {
            let ev = if op == SetOp::Union {
                "sunionstore"
            } else {
                "sdiffstore"
            };
            store_set(ctx, d, res, ev);
        }
    }
}

/// Store a computed set at `dst` (deleting it when empty) and reply its
/// cardinality.
fn store_set(ctx: &mut Ctx, dst: &[u8], res: Set, event: &str) {
    let n = res.len();
    if n > 0 {
        ctx.set_key(dst, Value::Set(Box::new(res)));
        ctx.notify(NOTIFY_SET, event, dst);
        ctx.dirty(1);
    } else {
        let now = ctx.now;
        let existed = ctx.db().lookup(dst, now).is_some();
        if existed {
            ctx.db().remove(dst);
            ctx.dirty(1);
            ctx.signal_modified(dst);
            ctx.notify(NOTIFY_GENERIC, "del", dst);
        }
    }
    ctx.reply().int(n as i64);
}

fn sinterstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let keys = &argv[2..];
    if !check_sets(ctx, keys) {
        return;
    }
    let max = max_intset(ctx);
    let i = ctx.db_index();
    let v = inter_members(&ctx.srv.dbs[i], keys, 0);
    let res = Set::from_members(v, max);
    store_set(ctx, &argv[1], res, "sinterstore");
}

/// Parsed SCAN-family options.
pub struct ScanOpts {
    pub cursor: u64,
    pub count: usize,
    pub pattern: Option<Bytes>,
}

/// A cursor as strtoul reads it: optional sign (a minus wraps around),
/// decimal digits, nothing else.
fn parse_cursor(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parse "cursor [MATCH pat] [COUNT n]" starting at argv[at] (the cursor);
/// replies the error and returns None on bad input.
pub fn parse_scan(ctx: &mut Ctx, argv: &[Bytes], at: usize) -> Option<ScanOpts> {
    let cursor = match parse_cursor(&argv[at]) {
        Some(c) => c,
        None => {
            ctx.error("ERR invalid cursor");
            return None;
        }
    };
    let mut o = ScanOpts {
        cursor,
        count: 10,
        pattern: None,
    };
    let mut j = at + 1;
    while j < argv.len() {
        let more = argv.len() - j - 1;
        if eq_ic(&argv[j], "count") && more >= 1 {
            let n = ctx.int_arg(&argv[j + 1])?;
            if n < 1 {
                ctx.syntax_error();
                return None;
            }
            o.count = n as usize;
            j += 2;
        } else if eq_ic(&argv[j], "match") && more >= 1 {
            let p = argv[j + 1].clone();
            o.pattern = if &p[..] == b"*" { None } else { Some(p) };
            j += 2;
        } else {
            ctx.syntax_error();
            return None;
        }
    }
    Some(o)
}

/// Reply [cursor, items] keeping only items (or pairs' first halves) that
/// match the pattern.
pub fn reply_scan(
    ctx: &mut Ctx,
    cursor: u64,
    items: Vec<Vec<u8>>,
    pairs: bool,
    pat: &Option<Bytes>,
) {
    let step = if pairs { 2 } else { 1 };
    let mut keep: Vec<Vec<u8>> = Vec::with_capacity(items.len());
    let mut it = items.into_iter();
    while let Some(a) = it.next() {
        let b = if pairs { it.next() } else { None };
        let ok = match pat {
            Some(p) => glob_match(p, &a, false),
            None => true,
        };
        if ok {
            keep.push(a);
            if let Some(b) = b {
                keep.push(b);
            }
        }
    }
    let _ = step;
    let r = ctx.reply();
    r.array(2);
    r.bulk(cursor.to_string().as_bytes());
    r.array(keep.len());
    for k in &keep {
        r.bulk(k);
    }
}

fn sscan_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(o) = parse_scan(ctx, argv, 2) else {
        return;
    };
    let (cursor, items) = match read_set(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => (0, Vec::new()),
        Ok(Some(s)) => match s {
            Set::Int(_) => (0, s.members()),
            Set::Hash(_) => {
                let mut items = Vec::new();
                let mut cursor = o.cursor;
                let mut iters = o.count.saturating_mul(10);
                loop {
                    cursor = s.scan(cursor, |m| items.push(m.to_vec()));
                    iters -= 1;
                    if cursor == 0 || iters == 0 || items.len() >= o.count {
                        break;
                    }
                }
                (cursor, items)
            }
        },
    };
    reply_scan(ctx, cursor, items, false, &o.pattern);
}

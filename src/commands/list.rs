//! List commands: pushes, pops, ranges, edits, moves and their blocking
//! variants.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_LIST};
use crate::db::list::List;
use crate::db::Value;
use crate::server::blocking;
use crate::util::eq_ic;

const BASE: CommandSpec = CommandSpec {
    group: "list",
    acl: "list",
    first_key: 1,
    last_key: 1,
    step: 1,
    ..CommandSpec::DEFAULT
};

const PUSH_CX: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: "write denyoom fast",
        handler: lpush,
        summary: "Prepend one or multiple elements to a list",
        complexity: PUSH_CX,
        ..BASE
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: "write denyoom fast",
        handler: rpush,
        summary: "Append one or multiple elements to a list",
        complexity: PUSH_CX,
        ..BASE
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: "write denyoom fast",
        handler: lpushx,
        since: "2.2.0",
        summary: "Prepend an element to a list, only if the list exists",
        complexity: PUSH_CX,
        ..BASE
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: "write denyoom fast",
        handler: rpushx,
        since: "2.2.0",
        summary: "Append an element to a list, only if the list exists",
        complexity: PUSH_CX,
        ..BASE
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: "write fast",
        handler: lpop,
        summary: "Remove and get the first elements in a list",
        complexity: "O(N) where N is the number of elements returned",
        ..BASE
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: "write fast",
        handler: rpop,
        summary: "Remove and get the last elements in a list",
        complexity: "O(N) where N is the number of elements returned",
        ..BASE
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: "readonly fast",
        handler: llen,
        summary: "Get the length of a list",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: "readonly",
        handler: lrange,
        summary: "Get a range of elements from a list",
        complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        ..BASE
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: "readonly",
        handler: lindex,
        summary: "Get an element from a list by its index",
        complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        ..BASE
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: "write denyoom",
        handler: lset,
        summary: "Set the value of an element in a list by its index",
        complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        ..BASE
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: "write denyoom",
        handler: linsert,
        since: "2.2.0",
        summary: "Insert an element before or after another element in a list",
        complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        ..BASE
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: "write",
        handler: lrem,
        summary: "Remove elements from a list",
        complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
        ..BASE
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: "write",
        handler: ltrim,
        summary: "Trim a list to the specified range",
        complexity: "O(N) where N is the number of elements to be removed by the operation.",
        ..BASE
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: "readonly",
        handler: lpos,
        since: "6.0.6",
        summary: "Return the index of matching elements on a list",
        complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        ..BASE
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: "write denyoom",
        handler: lmove,
        last_key: 2,
        since: "6.2.0",
        summary: "Pop an element from a list, push it to another list and return it",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: "write denyoom",
        handler: rpoplpush,
        last_key: 2,
        since: "1.2.0",
        summary: "Remove the last element in a list, prepend it to another list and return it",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: "write",
        handler: lmpop,
        first_key: 0,
        last_key: 0,
        step: 0,
        getkeys: Some(lmpop_keys),
        since: "7.0.0",
        summary: "Pop elements from a list",
        complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        ..BASE
    },
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: "write noscript blocking",
        handler: blpop,
        last_key: -2,
        since: "2.0.0",
        summary: "Remove and get the first element in a list, or block until one is available",
        complexity: "O(N) where N is the number of provided keys.",
        ..BASE
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: "write noscript blocking",
        handler: brpop,
        last_key: -2,
        since: "2.0.0",
        summary: "Remove and get the last element in a list, or block until one is available",
        complexity: "O(N) where N is the number of provided keys.",
        ..BASE
    },
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: "write denyoom noscript blocking",
        handler: blmove,
        last_key: 2,
        since: "6.2.0",
        summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: "write denyoom noscript blocking",
        handler: brpoplpush,
        last_key: 2,
        since: "2.2.0",
        summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: "write blocking",
        handler: blmpop,
        first_key: 0,
        last_key: 0,
        step: 0,
        getkeys: Some(blmpop_keys),
        since: "7.0.0",
        summary: "Pop elements from a list, or block until one is available",
        complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        ..BASE
    },
];

/// Keys of a `numkeys key...` command whose numkeys is at `idx`.
fn numkeys_keys(argv: &[Bytes], idx: usize) -> Vec<usize> {
    let n = argv
        .get(idx)
        .and_then(|a| crate::util::parse_i64(a))
        .unwrap_or(0);
    if n <= 0 {
        return Vec::new();
    }
    let n = n as usize;
    if idx + n >= argv.len() {
        return Vec::new();
    }
    (idx + 1..=idx + n).collect()
}

fn lmpop_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1)
}

fn blmpop_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 2)
}

/// `list-max-listpack-size`, Redis's default when absent.
pub fn fill(ctx: &Ctx) -> i64 {
    ctx.srv.config.list_max_listpack_size
}

/// What a key holds, for a list command.
enum Look {
    Missing,
    Wrong,
    List,
}

fn look(ctx: &mut Ctx, key: &[u8], write: bool) -> Look {
    let o = if write {
        ctx.lookup_write(key)
    } else {
        ctx.lookup_read(key)
    };
    match o {
        None => Look::Missing,
        Some(o) => match o.val {
            Value::List(_) => Look::List,
            _ => Look::Wrong,
        },
    }
}

/// The list at `key` (already checked to exist and be a list).
fn list_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut List> {
    let db = ctx.client.db;
    match ctx.srv.dbs[db].dict.get_mut(key) {
        Some(o) => match &mut o.val {
            Value::List(l) => Some(l),
            _ => None,
        },
        None => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

fn parse_end(ctx: &mut Ctx, a: &[u8]) -> Option<End> {
    if eq_ic(a, "left") {
        Some(End::Head)
    } else if eq_ic(a, "right") {
        Some(End::Tail)
    } else {
        ctx.syntax_error();
        None
    }
}

fn end_name(e: End) -> &'static [u8] {
    match e {
        End::Head => b"LEFT",
        End::Tail => b"RIGHT",
    }
}

/// Parse a long with Redis's getRangeLong semantics: any failure yields
/// `msg` (or the default integer error).
fn range_long(ctx: &mut Ctx, a: &[u8], min: i64, max: i64, msg: &str) -> Option<i64> {
    match crate::util::parse_i64(a) {
        Some(v) if v >= min && v <= max => Some(v),
        _ => {
            ctx.error(msg);
            None
        }
    }
}

/// Delete `key` if its list became empty, with the "del" event.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty = list_mut(ctx, key).map(|l| l.is_empty()).unwrap_or(false);
    if empty {
        ctx.db().remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    empty
}

fn push_generic(ctx: &mut Ctx, argv: &[Bytes], end: End, xx: bool) {
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => {
            if xx {
                return ctx.reply().int(0);
            }
            ctx.db().set(key, Value::List(Box::default()));
            ctx.signal_key_ready(key);
        }
        Look::List => {}
    }
    let f = fill(ctx);
    let len = {
        let Some(l) = list_mut(ctx, key) else { return };
        for v in &argv[2..] {
            match end {
                End::Head => l.push_front(v, f),
                End::Tail => l.push_back(v, f),
            }
        }
        l.len()
    };
    ctx.dirty((argv.len() - 2) as u64);
    ctx.reply().int(len as i64);
    ctx.signal_modified(key);
    let ev = if end == End::Head { "lpush" } else { "rpush" };
    ctx.notify(NOTIFY_LIST, ev, key);
}

fn lpush(ctx: &mut Ctx, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Head, false)
}
fn rpush(ctx: &mut Ctx, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Tail, false)
}
fn lpushx(ctx: &mut Ctx, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Head, true)
}
fn rpushx(ctx: &mut Ctx, argv: &[Bytes]) {
    push_generic(ctx, argv, End::Tail, true)
}

/// Pop up to `count` elements from one end.
fn pop_n(l: &mut List, end: End, count: usize) -> Vec<Vec<u8>> {
    let n = count.min(l.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let v = match end {
            End::Head => l.pop_front(),
            End::Tail => l.pop_back(),
        };
        match v {
            Some(v) => out.push(v),
            None => break,
        }
    }
    out
}

/// Bookkeeping after popping `n` elements from `key`.
fn popped(ctx: &mut Ctx, key: &[u8], end: End, n: usize) {
    let ev = if end == End::Head { "lpop" } else { "rpop" };
    ctx.notify(NOTIFY_LIST, ev, key);
    delete_if_empty(ctx, key);
    ctx.signal_modified(key);
    ctx.dirty(n as u64);
}

fn pop_generic(ctx: &mut Ctx, argv: &[Bytes], end: End) {
    if argv.len() > 3 {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        return ctx.error(&super::arity_error(&name));
    }
    let count = if argv.len() == 3 {
        match range_long(
            ctx,
            &argv[2],
            0,
            i64::MAX,
            "ERR value is out of range, must be positive",
        ) {
            Some(c) => Some(c as usize),
            None => return,
        }
    } else {
        None
    };
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => {
            if count.is_some() {
                return ctx.reply().null_array();
            }
            return ctx.reply().null();
        }
        Look::List => {}
    }
    match count {
        Some(0) => ctx.reply().array(0),
        None => {
            let Some(l) = list_mut(ctx, key) else { return };
            let v = pop_n(l, end, 1);
            if let Some(v) = v.first() {
                ctx.reply().bulk(v);
            }
            popped(ctx, key, end, 1);
        }
        Some(c) => {
            let Some(l) = list_mut(ctx, key) else { return };
            let v = pop_n(l, end, c);
            let r = ctx.reply();
            r.array(v.len());
            for e in &v {
                r.bulk(e);
            }
            popped(ctx, key, end, v.len());
        }
    }
}

fn lpop(ctx: &mut Ctx, argv: &[Bytes]) {
    pop_generic(ctx, argv, End::Head)
}
fn rpop(ctx: &mut Ctx, argv: &[Bytes]) {
    pop_generic(ctx, argv, End::Tail)
}

fn llen(ctx: &mut Ctx, argv: &[Bytes]) {
    match look(ctx, &argv[1], false) {
        Look::Wrong => ctx.wrongtype(),
        Look::Missing => ctx.reply().int(0),
        Look::List => {
            let n = list_mut(ctx, &argv[1]).map(|l| l.len()).unwrap_or(0);
            ctx.reply().int(n as i64);
        }
    }
}

/// Normalize a Redis (start, end) range against `len`; None when empty.
fn norm_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

fn lrange(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(end) = ctx.int_arg(&argv[3]) else {
        return;
    };
    match look(ctx, &argv[1], false) {
        Look::Wrong => ctx.wrongtype(),
        Look::Missing => ctx.reply().array(0),
        Look::List => {
            let db = ctx.client.db;
            let reply = &mut ctx.client.reply;
            let Some(Value::List(l)) = ctx.srv.dbs[db].dict.get(&argv[1]).map(|o| &o.val) else {
                return;
            };
            match norm_range(start, end, l.len()) {
                None => reply.array(0),
                Some((s, e)) => {
                    let n = e - s + 1;
                    reply.array(n);
                    for v in l.iter_from(s).take(n) {
                        reply.bulk(v);
                    }
                }
            }
        }
    }
}

fn lindex(ctx: &mut Ctx, argv: &[Bytes]) {
    match look(ctx, &argv[1], false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().null(),
        Look::List => {}
    }
    let Some(idx) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let db = ctx.client.db;
    let reply = &mut ctx.client.reply;
    let Some(Value::List(l)) = ctx.srv.dbs[db].dict.get(&argv[1]).map(|o| &o.val) else {
        return;
    };
    let len = l.len() as i64;
    let i = if idx < 0 { len + idx } else { idx };
    match if i >= 0 && i < len {
        l.get(i as usize)
    } else {
        None
    } {
        Some(v) => reply.bulk(v),
        None => reply.null(),
    }
}

fn lset(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.error("ERR no such key"),
        Look::List => {}
    }
    let Some(idx) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let f = fill(ctx);
    let ok = {
        let Some(l) = list_mut(ctx, key) else { return };
        let len = l.len() as i64;
        let i = if idx < 0 { len + idx } else { idx };
        i >= 0 && i < len && l.set(i as usize, &argv[3], f)
    };
    if !ok {
        return ctx.error("ERR index out of range");
    }
    ctx.reply().ok();
    ctx.signal_modified(key);
    ctx.notify(NOTIFY_LIST, "lset", key);
    ctx.dirty(1);
}

fn linsert(ctx: &mut Ctx, argv: &[Bytes]) {
    let after = if eq_ic(&argv[2], "after") {
        true
    } else if eq_ic(&argv[2], "before") {
        false
    } else {
        return ctx.syntax_error();
    };
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().int(0),
        Look::List => {}
    }
    let f = fill(ctx);
    let res = {
        let Some(l) = list_mut(ctx, key) else { return };
        let pos = l.iter().position(|v| v == &argv[3][..]);
        match pos {
            None => None,
            Some(p) => {
                l.insert_at(p, after, &argv[4], f);
                Some(l.len())
            }
        }
    };
    match res {
        None => ctx.reply().int(-1),
        Some(n) => {
            ctx.signal_modified(key);
            ctx.notify(NOTIFY_LIST, "linsert", key);
            ctx.dirty(1);
            ctx.reply().int(n as i64);
        }
    }
}

fn lrem(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(count) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().int(0),
        Look::List => {}
    }
    let removed = {
        let Some(l) = list_mut(ctx, key) else { return };
        let limit = count.unsigned_abs() as usize;
        let elem = &argv[3][..];
        let len = l.len();
        let mut drop = vec![false; len];
        let mut removed = 0usize;
        if count >= 0 {
            for (i, v) in l.iter().enumerate() {
                if v == elem {
                    drop[i] = true;
                    removed += 1;
                    if limit != 0 && removed == limit {
                        break;
                    }
                }
            }
        } else {
            for (k, v) in l.iter().rev().enumerate() {
                if v == elem {
                    drop[len - 1 - k] = true;
                    removed += 1;
                    if removed == limit {
                        break;
                    }
                }
            }
        }
        if removed > 0 {
            l.remove_marked(&drop);
        }
        removed
    };
    if removed > 0 {
        ctx.dirty(removed as u64);
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_LIST, "lrem", key);
    }
    delete_if_empty(ctx, key);
    ctx.reply().int(removed as i64);
}

fn ltrim(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(start) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let Some(end) = ctx.int_arg(&argv[3]) else {
        return;
    };
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().ok(),
        Look::List => {}
    }
    let removed = {
        let Some(l) = list_mut(ctx, key) else { return };
        let len = l.len();
        let (lt, rt) = match norm_range(start, end, len) {
            None => (len, 0),
            Some((s, e)) => (s, len - e - 1),
        };
        l.remove_range(0, lt);
        let nl = l.len();
        l.remove_range(nl - rt.min(nl), rt);
        lt + rt
    };
    ctx.notify(NOTIFY_LIST, "ltrim", key);
    delete_if_empty(ctx, key);
    ctx.signal_modified(key);
    ctx.dirty(removed as u64);
    ctx.reply().ok();
}

fn lpos(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        if eq_ic(opt, "rank") && more {
            j += 1;
            let Some(r) = ctx.int_arg(&argv[j]) else {
                return;
            };
            if r == 0 {
                return ctx.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
            rank = r;
        } else if eq_ic(opt, "count") && more {
            j += 1;
            let Some(c) = range_long(ctx, &argv[j], 0, i64::MAX, "ERR COUNT can't be negative")
            else {
                return;
            };
            count = c;
        } else if eq_ic(opt, "maxlen") && more {
            j += 1;
            let Some(m) = range_long(ctx, &argv[j], 0, i64::MAX, "ERR MAXLEN can't be negative")
            else {
                return;
            };
            maxlen = m;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let from_tail = rank < 0;
    // |i64::MIN| does not fit: clamp (no list is that long anyway).
    let rank = rank.checked_abs().unwrap_or(i64::MAX) as u64;
    match look(ctx, &argv[1], false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => {
            if count != -1 {
                return ctx.reply().array(0);
            }
            return ctx.reply().null();
        }
        Look::List => {}
    }
    let db = ctx.client.db;
    let reply = &mut ctx.client.reply;
    let Some(Value::List(l)) = ctx.srv.dbs[db].dict.get(&argv[1]).map(|o| &o.val) else {
        return;
    };
    let len = l.len();
    let elem = &argv[2][..];
    let mut found: Vec<usize> = Vec::new();
    let mut matches: u64 = 0;
    let mut scan = |idx: usize, v: &[u8]| -> bool {
        if v == elem {
            matches += 1;
            if matches >= rank {
                found.push(idx);
                if count == -1 || (count != 0 && found.len() as i64 >= count) {
                    return true;
                }
            }
        }
        false
    };
    let limit = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen as usize
    };
    if from_tail {
        for (k, v) in l.iter().rev().take(limit).enumerate() {
            if scan(len - 1 - k, v) {
                break;
            }
        }
    } else {
        for (k, v) in l.iter().take(limit).enumerate() {
            if scan(k, v) {
                break;
            }
        }
    }
    if count != -1 {
        reply.array(found.len());
        for i in found {
            reply.int(i as i64);
        }
    } else {
        match found.first() {
            Some(&i) => reply.int(i as i64),
            None => reply.null(),
        }
    }
}

/// Move one element from `src` to `dst`; the caller checked `src` holds a
/// non-empty list. Replies with the element (or WRONGTYPE for `dst`).
fn do_move(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> bool {
    match look(ctx, dst, true) {
        Look::Wrong => {
            ctx.wrongtype();
            return false;
        }
        Look::Missing | Look::List => {}
    }
    let Some(l) = list_mut(ctx, src) else {
        return false;
    };
    let Some(v) = pop_n(l, from, 1).pop() else {
        return false;
    };
    let f = fill(ctx);
    // Destination (may be the source itself).
    if look(ctx, dst, true) == Look::Missing {
        ctx.db().set(dst, Value::List(Box::default()));
        ctx.signal_key_ready(dst);
    }
    ctx.signal_modified(dst);
    if let Some(d) = list_mut(ctx, dst) {
        match to {
            End::Head => d.push_front(&v, f),
            End::Tail => d.push_back(&v, f),
        }
    }
    ctx.notify(
        NOTIFY_LIST,
        if to == End::Head { "lpush" } else { "rpush" },
        dst,
    );
    ctx.reply().bulk(&v);
    ctx.notify(
        NOTIFY_LIST,
        if from == End::Head { "lpop" } else { "rpop" },
        src,
    );
    delete_if_empty(ctx, src);
    ctx.signal_modified(src);
    ctx.dirty(1);
    true
}

impl PartialEq for Look {
    fn eq(&self, o: &Look) -> bool {
        matches!(
            (self, o),
            (Look::Missing, Look::Missing) | (Look::Wrong, Look::Wrong) | (Look::List, Look::List)
        )
    }
}

fn lmove_generic(ctx: &mut Ctx, argv: &[Bytes], from: End, to: End) {
    match look(ctx, &argv[1], true) {
        Look::Wrong => ctx.wrongtype(),
        Look::Missing => ctx.reply().null(),
        Look::List => {
            do_move(ctx, &argv[1], &argv[2], from, to);
        }
    }
}

fn lmove(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(from) = parse_end(ctx, &argv[3]) else {
        return;
    };
    let Some(to) = parse_end(ctx, &argv[4]) else {
        return;
    };
    lmove_generic(ctx, argv, from, to)
}

fn rpoplpush(ctx: &mut Ctx, argv: &[Bytes]) {
    lmove_generic(ctx, argv, End::Tail, End::Head)
}

fn blmove_generic(ctx: &mut Ctx, argv: &[Bytes], from: End, to: End, deadline: i64) {
    match look(ctx, &argv[1], true) {
        Look::Wrong => ctx.wrongtype(),
        Look::Missing => {
            if !blocking::can_block(ctx) {
                return ctx.reply().null();
            }
            blocking::block_for_keys(ctx, &argv[1..2], deadline, "list", argv);
        }
        Look::List => {
            if do_move(ctx, &argv[1], &argv[2], from, to) {
                let mut a = vec![Bytes::from_static(b"LMOVE")];
                a.extend_from_slice(&argv[1..3]);
                a.push(Bytes::from_static(end_name(from)));
                a.push(Bytes::from_static(end_name(to)));
                if argv.len() == 4 {
                    a = vec![
                        Bytes::from_static(b"RPOPLPUSH"),
                        argv[1].clone(),
                        argv[2].clone(),
                    ];
                }
                ctx.rewrite_propagation(a);
            }
        }
    }
}

fn blmove(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(from) = parse_end(ctx, &argv[3]) else {
        return;
    };
    let Some(to) = parse_end(ctx, &argv[4]) else {
        return;
    };
    let Some(deadline) = blocking::parse_timeout(ctx, &argv[5]) else {
        return;
    };
    blmove_generic(ctx, argv, from, to, deadline)
}

fn brpoplpush(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(deadline) = blocking::parse_timeout(ctx, &argv[3]) else {
        return;
    };
    blmove_generic(ctx, argv, End::Tail, End::Head, deadline)
}

/// Pop from the first non-empty list among `keys`. `count` None = single
/// element reply `[key, value]`; Some(n) = `[key, [values...]]`.
/// Returns false when every key was missing (nothing replied).
fn mpop(ctx: &mut Ctx, keys: &[Bytes], end: End, count: Option<usize>) -> Option<bool> {
    for key in keys {
        match look(ctx, key, true) {
            Look::Wrong => {
                ctx.wrongtype();
                return None;
            }
            Look::Missing => continue,
            Look::List => {}
        }
        let Some(l) = list_mut(ctx, key) else {
            continue;
        };
        if l.is_empty() {
            continue;
        }
        let llen = l.len();
        let vals = pop_n(l, end, count.unwrap_or(1));
        let n = vals.len();
        let r = ctx.reply();
        r.array(2);
        r.bulk(key);
        match count {
            None => {
                if let Some(v) = vals.first() {
                    r.bulk(v);
                }
            }
            Some(_) => {
                r.array(n);
                for v in &vals {
                    r.bulk(v);
                }
            }
        }
        popped(ctx, key, end, n);
        let cmd = Bytes::from_static(if end == End::Head { b"LPOP" } else { b"RPOP" });
        match count {
            None => ctx.rewrite_propagation(vec![cmd, key.clone()]),
            Some(c) => ctx.rewrite_propagation(vec![
                cmd,
                key.clone(),
                Bytes::from(c.min(llen).to_string()),
            ]),
        }
        return Some(true);
    }
    Some(false)
}

fn bpop_generic(ctx: &mut Ctx, argv: &[Bytes], end: End) {
    let Some(deadline) = blocking::parse_timeout(ctx, &argv[argv.len() - 1]) else {
        return;
    };
    let keys = &argv[1..argv.len() - 1];
    match mpop(ctx, keys, end, None) {
        None | Some(true) => {}
        Some(false) => {
            if !blocking::can_block(ctx) {
                return ctx.reply().null_array();
            }
            blocking::block_for_keys(ctx, keys, deadline, "list", argv);
        }
    }
}

fn blpop(ctx: &mut Ctx, argv: &[Bytes]) {
    bpop_generic(ctx, argv, End::Head)
}
fn brpop(ctx: &mut Ctx, argv: &[Bytes]) {
    bpop_generic(ctx, argv, End::Tail)
}

/// Parse `numkeys key... LEFT|RIGHT [COUNT n]` from `idx` (numkeys).
fn parse_mpop(ctx: &mut Ctx, argv: &[Bytes], idx: usize) -> Option<(usize, End, usize)> {
    let nk = range_long(
        ctx,
        &argv[idx],
        1,
        i64::MAX,
        "ERR numkeys should be greater than 0",
    )? as usize;
    let where_idx = idx.checked_add(nk)?.checked_add(1)?;
    if where_idx >= argv.len() {
        ctx.syntax_error();
        return None;
    }
    let end = parse_end(ctx, &argv[where_idx])?;
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if count == -1 && eq_ic(&argv[j], "count") && more {
            j += 1;
            count = range_long(
                ctx,
                &argv[j],
                1,
                i64::MAX,
                "ERR count should be greater than 0",
            )?;
        } else {
            ctx.syntax_error();
            return None;
        }
        j += 1;
    }
    let count = if count == -1 { 1 } else { count as usize };
    Some((nk, end, count))
}

fn lmpop(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some((nk, end, count)) = parse_mpop(ctx, argv, 1) else {
        return;
    };
    if let Some(false) = mpop(ctx, &argv[2..2 + nk], end, Some(count)) {
        ctx.reply().null_array();
    }
}

fn blmpop(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some((nk, end, count)) = parse_mpop(ctx, argv, 2) else {
        return;
    };
    let Some(deadline) = blocking::parse_timeout(ctx, &argv[1]) else {
        return;
    };
    let keys = &argv[3..3 + nk];
    if let Some(false) = mpop(ctx, keys, end, Some(count)) {
        if !blocking::can_block(ctx) {
            return ctx.reply().null_array();
        }
        blocking::block_for_keys(ctx, keys, deadline, "list", argv);
    }
}

//! SORT and SORT_RO over lists, sets and sorted sets.

use std::cmp::Ordering;

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_LIST};
use crate::db::Value;
use crate::util::eq_ic;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: "write denyoom",
        acl: "set sortedset list dangerous",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: sort_cmd,
        getkeys: Some(sort_keys),
        group: "generic",
        since: "1.0.0",
        summary: "Sort the elements in a list, set or sorted set",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: "readonly",
        acl: "set sortedset list dangerous",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: sort_ro_cmd,
        getkeys: Some(sort_ro_keys),
        group: "generic",
        since: "7.0.0",
        summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        ..CommandSpec::DEFAULT
    },
];

/// Elements of a list value, head to tail.
fn list_elements(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::List(l) => l.iter().map(|e| e.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// A list value holding `items` (head to tail), for SORT ... STORE.
fn make_list(ctx: &Ctx, items: Vec<Vec<u8>>) -> Option<Value> {
    let fill = ctx.srv.config.list_max_listpack_size;
    Some(Value::List(Box::new(crate::db::list::List::from_iter(
        items.iter().map(|i| i.as_slice()),
        fill,
    ))))
}

/// The value of a hash field (BY/GET patterns with "->field").
fn hash_field(v: &Value, field: &[u8]) -> Option<Vec<u8>> {
    match v {
        Value::Hash(h) => h.get(field).map(|x| x.to_vec()),
        _ => None,
    }
}

// ---------------------------------------------------------------------

/// Resolve a BY/GET pattern for one element: "#" is the element itself,
/// otherwise the first '*' is replaced by the element and the key read
/// (a string, or a hash field after "->").
fn lookup_by_pattern(ctx: &mut Ctx, pat: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pat == b"#" {
        return Some(elem.to_vec());
    }
    let star = pat.iter().position(|&c| c == b'*')?;
    let after = &pat[star + 1..];
    let (post, field) = match after.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < after.len() => (&after[..i], Some(&after[i + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pat.len() + elem.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(post);
    let o = ctx.lookup_read(&key)?;
    match field {
        Some(f) => match &o.val {
            Value::Hash(_) => hash_field(&o.val, f),
            _ => None,
        },
        None => o.val.string_bytes().map(|b| b.into_owned()),
    }
}

/// strtod-style parse used by SORT: the whole string must be consumed,
/// leading blanks allowed, empty is 0, overflow is an error.
fn sort_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let t = b.iter().position(|c| !c.is_ascii_whitespace())?;
    let s = &b[t..];
    let v = crate::util::parse_f64(s)?;
    if v.is_infinite() {
        let l = String::from_utf8_lossy(s).to_ascii_lowercase();
        if !l.contains("inf") {
            return None;
        }
    }
    Some(v)
}

struct Item {
    obj: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

fn sort_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    sort_generic(ctx, argv, false);
}

fn sort_ro_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    sort_generic(ctx, argv, true);
}

/// Keys of SORT: the source, plus the destination of the last STORE (as
/// Redis's sortGetKeys, which does not skip STORE's argument).
pub fn sort_keys(argv: &[Bytes]) -> Vec<usize> {
    let mut store = None;
    let mut j = 2;
    while j < argv.len() {
        let a = &argv[j];
        if eq_ic(a, "limit") {
            j += 2;
        } else if eq_ic(a, "get") || eq_ic(a, "by") {
            j += 1;
        } else if eq_ic(a, "store") && j + 1 < argv.len() {
            store = Some(j + 1);
        }
        j += 1;
    }
    let mut out = vec![1];
    out.extend(store);
    out
}

fn sort_generic(ctx: &mut Ctx, argv: &[Bytes], readonly: bool) {
    let key = &argv[1];
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut sortby: Option<Bytes> = None;
    let mut store: Option<Bytes> = None;
    let mut gets: Vec<Bytes> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let a = &argv[j];
        let left = argv.len() - j - 1;
        if eq_ic(a, "asc") {
            desc = false;
        } else if eq_ic(a, "desc") {
            desc = true;
        } else if eq_ic(a, "alpha") {
            alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let Some(s) = ctx.int_arg(&argv[j + 1]) else {
                return;
            };
            let Some(c) = ctx.int_arg(&argv[j + 2]) else {
                return;
            };
            limit_start = s;
            limit_count = c;
            j += 2;
        } else if !readonly && eq_ic(a, "store") && left >= 1 {
            store = Some(argv[j + 1].clone());
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            let p = argv[j + 1].clone();
            if !p.contains(&b'*') {
                dontsort = true;
            }
            sortby = Some(p);
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            gets.push(argv[j + 1].clone());
            j += 1;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }

    enum Kind {
        List,
        Set,
        ZSet,
    }
    // Gather the elements.
    let (kind, elems): (Kind, Vec<Vec<u8>>) = match ctx.lookup_read(key) {
        None => (Kind::List, Vec::new()),
        Some(o) => match &o.val {
            Value::List(_) => (Kind::List, list_elements(&o.val)),
            Value::Set(s) => (Kind::Set, s.members()),
            Value::ZSet(z) => (Kind::ZSet, z.tree.iter().map(|e| e.1.to_vec()).collect()),
            _ => return ctx.wrongtype(),
        },
    };
    // Scripts run by id-0 clients (see scripting::LuaEngine).
    let from_script = ctx.client.id == 0;
    if dontsort && matches!(kind, Kind::Set) && (store.is_some() || from_script) {
        // A set has no meaningful order: sort to keep replicas identical.
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let vlen = elems.len() as i64;
    let start = limit_start.max(0).min(vlen);
    let count = limit_count.max(-1).min(vlen);
    let mut start = start;
    let mut end = if count < 0 {
        vlen - 1
    } else {
        start + count - 1
    };
    if start >= vlen {
        start = vlen - 1;
        end = vlen - 2;
    }
    if end >= vlen {
        end = vlen - 1;
    }
    let mut items: Vec<Item>;
    if dontsort && !matches!(kind, Kind::Set) {
        // Lists and sorted sets keep their order (reversed for DESC).
        let mut v = elems;
        if desc {
            v.reverse();
        }
        items = if end >= start {
            v.into_iter()
                .skip(start as usize)
                .take((end - start + 1) as usize)
                .map(|obj| Item {
                    obj,
                    score: 0.0,
                    cmp: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        end -= start;
        start = 0;
    } else {
        items = elems
            .into_iter()
            .map(|obj| Item {
                obj,
                score: 0.0,
                cmp: None,
            })
            .collect();
    }

    let mut conv_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let byval = match &sortby {
                Some(p) => match lookup_by_pattern(ctx, p, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.obj.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match sort_score(&byval) {
                    Some(s) => it.score = s,
                    None => conv_error = true,
                }
            }
        }
        let bypattern = sortby.is_some();
        items.sort_by(|a, b| {
            let c = if !alpha {
                match a.score.partial_cmp(&b.score) {
                    Some(Ordering::Equal) | None => a.obj.cmp(&b.obj),
                    Some(o) => o,
                }
            } else if bypattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.obj.cmp(&b.obj)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    let n = if end >= start {
        (end - start + 1) as usize
    } else {
        0
    };
    let outputlen = if gets.is_empty() { n } else { gets.len() * n };
    if conv_error {
        return ctx.error("ERR One or more scores can't be converted into double");
    }
    let range = if n > 0 {
        &items[start as usize..start as usize + n]
    } else {
        &items[0..0]
    };
    match store {
        None => {
            let mut out: Vec<Option<Vec<u8>>> = Vec::with_capacity(outputlen);
            for it in range {
                if gets.is_empty() {
                    out.push(Some(it.obj.clone()));
                }
                for g in &gets {
                    out.push(lookup_by_pattern(ctx, g, &it.obj));
                }
            }
            let r = ctx.reply();
            r.array(out.len());
            for v in out {
                match v {
                    Some(b) => r.bulk(&b),
                    None => r.null(),
                }
            }
        }
        Some(dst) => {
            let mut out: Vec<Vec<u8>> = Vec::with_capacity(outputlen);
            for it in range {
                if gets.is_empty() {
                    out.push(it.obj.clone());
                }
                for g in &gets {
                    out.push(lookup_by_pattern(ctx, g, &it.obj).unwrap_or_default());
                }
            }
            if outputlen > 0 {
                let Some(list) = make_list(ctx, out) else {
                    return ctx.error("ERR SORT STORE is not available");
                };
                ctx.set_key(&dst, list);
                ctx.signal_key_ready(&dst);
                ctx.notify(NOTIFY_LIST, "sortstore", &dst);
                ctx.dirty(outputlen as u64);
            } else {
                let now = ctx.now;
                if ctx.db().lookup(&dst, now).is_some() {
                    ctx.db().remove(&dst);
                    ctx.signal_modified(&dst);
                    ctx.notify(NOTIFY_GENERIC, "del", &dst);
                    ctx.dirty(1);
                }
            }
            ctx.reply().int(outputlen as i64);
        }
    }
}

/// SORT_RO's only key is the source.
pub fn sort_ro_keys(_argv: &[Bytes]) -> Vec<usize> {
    vec![1]
}

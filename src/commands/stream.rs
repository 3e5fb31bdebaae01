//! Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID,
//! XREAD, XREADGROUP, XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO.
//!
//! The data structure is `db::stream`. Replies, errors and propagation
//! follow Redis 7.0's t_stream.c: XADD propagates the ID it chose and
//! exact trimming, XREADGROUP/XCLAIM/XAUTOCLAIM propagate the XCLAIMs and
//! XGROUP SETID that reproduce their effect instead of themselves.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::NOTIFY_STREAM;
use crate::db::stream::{
    AppendError, Fields, Nack, NodeLimits, Stream, StreamId, Trim, TrimArgs, INVALID_ENTRIES_READ,
};
use crate::db::Value;
use crate::protocol::Reply;
use crate::server::client::cflags;
use crate::util::eq_ic;

const S: CommandSpec = CommandSpec {
    acl: "stream",
    first_key: 1,
    last_key: 1,
    step: 1,
    group: "stream",
    since: "5.0.0",
    ..CommandSpec::DEFAULT
};

/// Subcommands of XGROUP/XINFO: the key is the third argument.
const SUB: CommandSpec = CommandSpec {
    first_key: 2,
    last_key: 2,
    ..S
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: "write denyoom fast",
        handler: xadd_cmd,
        summary: "Appends a new entry to a stream",
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        tips: &["nondeterministic_output"],
        ..S
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: "readonly",
        handler: xrange_cmd,
        summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
        complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        ..S
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: "readonly",
        handler: xrevrange_cmd,
        summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        ..S
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: "readonly fast",
        handler: xlen_cmd,
        summary: "Return the number of entries in a stream",
        complexity: "O(1)",
        ..S
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: "write fast",
        handler: xdel_cmd,
        summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        ..S
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: "write",
        handler: xtrim_cmd,
        summary: "Trims the stream to (approximately if '~' is passed) a certain size",
        complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        tips: &["nondeterministic_output"],
        ..S
    },
    CommandSpec {
        name: "xsetid",
        arity: -3,
        flags: "write denyoom fast",
        handler: xsetid_cmd,
        summary: "An internal command for replicating stream values",
        complexity: "O(1)",
        ..S
    },
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: "readonly blocking",
        handler: xread_cmd,
        first_key: 0,
        last_key: 0,
        step: 0,
        getkeys: Some(xread_keys),
        summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
        complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        ..S
    },
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: "write blocking",
        handler: xread_cmd,
        first_key: 0,
        last_key: 0,
        step: 0,
        getkeys: Some(xread_keys),
        summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
        complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        ..S
    },
    CommandSpec {
        name: "xack",
        arity: -4,
        flags: "write fast",
        handler: xack_cmd,
        summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
        complexity: "O(1) for each message ID processed.",
        ..S
    },
    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: "readonly",
        handler: xpending_cmd,
        summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
        complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        tips: &["nondeterministic_output"],
        ..S
    },
    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: "write fast",
        handler: xclaim_cmd,
        summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
        complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
        tips: &["nondeterministic_output"],
        ..S
    },
    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: "write fast",
        handler: xautoclaim_cmd,
        since: "6.2.0",
        summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
        complexity: "O(1) if COUNT is small.",
        tips: &["nondeterministic_output"],
        ..S
    },
    CommandSpec {
        name: "xgroup",
        arity: -2,
        handler: super::container,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: "",
        summary: "A container for consumer groups commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "create",
                arity: -5,
                flags: "write denyoom",
                handler: xgroup_cmd,
                summary: "Create a consumer group.",
                complexity: "O(1)",
                ..SUB
            },
            CommandSpec {
                name: "createconsumer",
                arity: 5,
                flags: "write denyoom",
                handler: xgroup_cmd,
                since: "6.2.0",
                summary: "Create a consumer in a consumer group.",
                complexity: "O(1)",
                ..SUB
            },
            CommandSpec {
                name: "delconsumer",
                arity: 5,
                flags: "write",
                handler: xgroup_cmd,
                summary: "Delete a consumer from a consumer group.",
                complexity: "O(1)",
                ..SUB
            },
            CommandSpec {
                name: "destroy",
                arity: 4,
                flags: "write",
                handler: xgroup_cmd,
                summary: "Destroy a consumer group.",
                complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
                ..SUB
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: "loading stale",
                handler: xgroup_cmd,
                first_key: 0,
                last_key: 0,
                step: 0,
                summary: "Show helpful text about the different subcommands",
                complexity: "O(1)",
                ..SUB
            },
            CommandSpec {
                name: "setid",
                arity: -5,
                flags: "write",
                handler: xgroup_cmd,
                summary: "Set a consumer group to an arbitrary last delivered ID value.",
                complexity: "O(1)",
                ..SUB
            },
        ],
        ..S
    },
    CommandSpec {
        name: "xinfo",
        arity: -2,
        handler: super::container,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: "",
        summary: "A container for stream introspection commands",
        complexity: "Depends on subcommand.",
        subcommands: &[
            CommandSpec {
                name: "consumers",
                arity: 4,
                flags: "readonly",
                handler: xinfo_cmd,
                summary: "List the consumers in a consumer group",
                complexity: "O(1)",
                tips: &["nondeterministic_output"],
                ..SUB
            },
            CommandSpec {
                name: "groups",
                arity: 3,
                flags: "readonly",
                handler: xinfo_cmd,
                summary: "List the consumer groups of a stream",
                complexity: "O(1)",
                ..SUB
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: "loading stale",
                handler: xinfo_cmd,
                first_key: 0,
                last_key: 0,
                step: 0,
                summary: "Show helpful text about the different subcommands",
                complexity: "O(1)",
                ..SUB
            },
            CommandSpec {
                name: "stream",
                arity: -3,
                flags: "readonly",
                handler: xinfo_cmd,
                summary: "Get information about a stream",
                complexity: "O(1)",
                ..SUB
            },
        ],
        ..S
    },
];

/// XREAD/XREADGROUP keys: the first half of the arguments after STREAMS.
pub fn xread_keys(argv: &[Bytes]) -> Vec<usize> {
    let Some(pos) = argv.iter().skip(1).position(|a| eq_ic(a, "streams")) else {
        return Vec::new();
    };
    let first = pos + 2;
    let n = (argv.len() - first) / 2;
    (first..first + n).collect()
}

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

// ------------------------------------------------------------ parsing

/// Redis's string2ull: a canonical integer, or what strtoull accepts
/// (leading blanks and sign) when it consumes the whole string.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    if i >= s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parse a stream ID (Redis's streamGenericParseIDOrReply). `strict`
/// refuses "-" and "+"; `seq_given` (XADD) allows "ms-*", reporting
/// whether the sequence was given.
fn parse_id_raw(
    a: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_given: Option<&mut bool>,
) -> Option<StreamId> {
    if a.len() > 127 {
        return None;
    }
    // C strings stop at a NUL byte.
    let a = match a.iter().position(|&c| c == 0) {
        Some(n) => &a[..n],
        None => a,
    };
    if strict && (a == b"-" || a == b"+") {
        return None;
    }
    let mut sg = seq_given;
    if let Some(g) = sg.as_deref_mut() {
        *g = true;
    }
    if a == b"-" {
        return Some(StreamId::MIN);
    }
    if a == b"+" {
        return Some(StreamId::MAX);
    }
    let (ms_part, seq_part) = match a.iter().position(|&c| c == b'-') {
        Some(d) => (&a[..d], Some(&a[d + 1..])),
        None => (a, None),
    };
    let ms = string2ull(ms_part)?;
    let seq = match seq_part {
        Some(b"*") if sg.is_some() => {
            if let Some(g) = sg {
                *g = false;
            }
            0
        }
        Some(s) => string2ull(s)?,
        None => missing_seq,
    };
    Some(StreamId::new(ms, seq))
}

fn parse_id(ctx: &mut Ctx, a: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    let id = parse_id_raw(a, missing_seq, strict, None);
    if id.is_none() {
        ctx.error(INVALID_ID);
    }
    id
}

/// A range bound: "(" makes it exclusive (then strict parsing).
fn parse_interval(ctx: &mut Ctx, a: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
    if a.len() > 1 && a[0] == b'(' {
        parse_id(ctx, &a[1..], missing_seq, true).map(|i| (i, true))
    } else {
        parse_id(ctx, a, missing_seq, false).map(|i| (i, false))
    }
}

fn parse_start(ctx: &mut Ctx, a: &[u8]) -> Option<StreamId> {
    let (id, ex) = parse_interval(ctx, a, 0)?;
    if !ex {
        return Some(id);
    }
    let r = id.incr();
    if r.is_none() {
        ctx.error("ERR invalid start ID for the interval");
    }
    r
}

fn parse_end(ctx: &mut Ctx, a: &[u8]) -> Option<StreamId> {
    let (id, ex) = parse_interval(ctx, a, u64::MAX)?;
    if !ex {
        return Some(id);
    }
    let r = id.decr();
    if r.is_none() {
        ctx.error("ERR invalid end ID for the interval");
    }
    r
}

/// A master or the AOF: their commands are obeyed as written.
fn must_obey(ctx: &Ctx) -> bool {
    ctx.client.has(cflags::MASTER) || ctx.client.id == u64::MAX
}

fn node_limits(ctx: &Ctx) -> NodeLimits {
    NodeLimits {
        max_bytes: ctx.srv.config.get_i64("stream-node-max-bytes").max(0) as usize,
        max_entries: ctx.srv.config.get_i64("stream-node-max-entries").max(0),
    }
}

struct AddTrim {
    trim: TrimArgs,
    /// Index of the MAXLEN/MINID argument (for rewriting).
    arg_idx: usize,
    id: Option<StreamId>,
    seq_given: bool,
    nomkstream: bool,
    /// Index of the ID argument (XADD).
    idpos: usize,
}

/// Redis's streamParseAddOrTrimArgsOrReply.
fn parse_add_trim(ctx: &mut Ctx, argv: &[Bytes], xadd: bool) -> Option<AddTrim> {
    let mut a = AddTrim {
        trim: TrimArgs {
            strategy: Trim::None,
            approx: false,
            limit: 0,
        },
        arg_idx: 0,
        id: None,
        seq_given: true,
        nomkstream: false,
        idpos: 0,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (eq_ic(opt, "maxlen") || eq_ic(opt, "minid")) && more > 0 {
            if a.trim.strategy != Trim::None {
                ctx.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return None;
            }
            let maxlen = eq_ic(opt, "maxlen");
            a.trim.approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                a.trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let n = ctx.int_arg(&argv[i + 1])?;
                if n < 0 {
                    ctx.error("ERR The MAXLEN argument must be >= 0.");
                    return None;
                }
                a.trim.strategy = Trim::MaxLen(n as u64);
            } else {
                let id = parse_id(ctx, &argv[i + 1], 0, true)?;
                a.trim.strategy = Trim::MinId(id);
            }
            i += 1;
            a.arg_idx = i;
        } else if eq_ic(opt, "limit") && more > 0 {
            let n = ctx.int_arg(&argv[i + 1])?;
            if n < 0 {
                ctx.error("ERR The LIMIT argument must be >= 0.");
                return None;
            }
            a.trim.limit = n;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let mut sg = true;
            let Some(id) = parse_id_raw(opt, 0, true, Some(&mut sg)) else {
                ctx.error(INVALID_ID);
                return None;
            };
            a.id = Some(id);
            a.seq_given = sg;
            break;
        } else {
            ctx.syntax_error();
            return None;
        }
        i += 1;
    }
    a.idpos = i;
    if a.trim.limit != 0 && a.trim.strategy == Trim::None {
        ctx.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && a.trim.strategy == Trim::None {
        ctx.error("ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    if must_obey(ctx) {
        a.trim.limit = 0;
    } else if limit_given {
        if !a.trim.approx {
            ctx.error("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
    } else if a.trim.approx {
        let per = ctx.srv.config.get_i64("stream-node-max-entries");
        let mut l = per.saturating_mul(100);
        if l <= 0 {
            l = 10000;
        }
        a.trim.limit = l.min(1_000_000);
    } else {
        a.trim.limit = 0;
    }
    Some(a)
}

// ------------------------------------------------------------ lookups

enum Look {
    Missing,
    Wrong,
    Stream,
}

fn look(ctx: &mut Ctx, key: &[u8], read: bool) -> Look {
    let o = if read {
        ctx.lookup_read(key)
    } else {
        ctx.lookup_write(key)
    };
    match o {
        None => Look::Missing,
        Some(o) if matches!(o.val, Value::Stream(_)) => Look::Stream,
        Some(_) => Look::Wrong,
    }
}

/// The stream under `key` of the client's db and the client's reply,
/// borrowed together.
fn split<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<(&'a mut Stream, &'a mut Reply)> {
    let db = ctx.client.db;
    let now = ctx.now;
    let o = ctx.srv.dbs[db].lookup(key, now)?;
    match &mut o.val {
        Value::Stream(s) => Some((&mut **s, &mut ctx.client.reply)),
        _ => None,
    }
}

fn stream_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut Stream> {
    split(ctx, key).map(|(s, _)| s)
}

// ------------------------------------------------------------ replies

fn reply_id(r: &mut Reply, id: StreamId) {
    let mut buf = [0u8; 44];
    let n = {
        use std::io::Write;
        let mut c = std::io::Cursor::new(&mut buf[..]);
        let _ = write!(c, "{}-{}", id.ms, id.seq);
        c.position() as usize
    };
    r.bulk(&buf[..n]);
}

fn reply_entry(r: &mut Reply, id: StreamId, fields: &Fields) {
    r.array(2);
    reply_id(r, id);
    r.array(fields.len() * 2);
    for (f, v) in fields {
        f.with_bytes(|b| r.bulk(b));
        v.with_bytes(|b| r.bulk(b));
    }
}

/// Reply entries in [start, end] (array of entries), at most `count`
/// (0 = all). Returns how many.
fn reply_range(
    r: &mut Reply,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let mut items: Vec<(StreamId, Fields)> = Vec::new();
    s.range(start, end, rev, |id, f| {
        items.push((id, f));
        count == 0 || items.len() < count
    });
    r.array(items.len());
    for (id, f) in &items {
        reply_entry(r, *id, f);
    }
    items.len()
}

/// One entry without the array header, or false when it does not exist.
fn reply_one(r: &mut Reply, s: &Stream, id: StreamId) -> bool {
    let mut found = false;
    s.range(id, id, false, |id, f| {
        reply_entry(r, id, &f);
        found = true;
        false
    });
    found
}

fn help(ctx: &mut Ctx, cmd: &str, lines: &[&str]) {
    let r = ctx.reply();
    r.array(lines.len() + 3);
    r.status(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        r.status(l);
    }
    r.status("HELP");
    r.status("    Prints this help.");
}

fn sub_syntax_error(ctx: &mut Ctx, argv: &[Bytes]) {
    let msg = format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&argv[1]),
        String::from_utf8_lossy(&argv[0]).to_ascii_uppercase()
    );
    ctx.error(&msg);
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

// ------------------------------------------------------------ XADD / XTRIM

fn xadd_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(a) = parse_add_trim(ctx, argv, true) else {
        return;
    };
    let field_pos = a.idpos + 1;
    let nargs = argv.len().saturating_sub(field_pos);
    if argv.len() < field_pos + 2 || nargs % 2 == 1 {
        return ctx.error(&super::arity_error("xadd"));
    }
    if a.id.is_some() && a.seq_given && a.id == Some(StreamId::MIN) {
        return ctx.error("ERR The ID specified in XADD must be greater than 0-0");
    }
    let key = &argv[1];
    match look(ctx, key, false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing if a.nomkstream => return ctx.reply().null(),
        Look::Missing => ctx.db().set(key, Value::Stream(Box::default())),
        Look::Stream => {}
    }
    let lim = node_limits(ctx);
    let now = ctx.now.max(0) as u64;
    let fields: Vec<&[u8]> = argv[field_pos..].iter().map(|f| &f[..]).collect();
    let Some(s) = stream_mut(ctx, key) else {
        return;
    };
    if s.last_id == StreamId::MAX {
        return ctx
            .error("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match s.append(&fields, a.id, a.seq_given, lim, now) {
        Ok(id) => id,
        Err(AppendError::IdTooSmall) => {
            return ctx.error(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )
        }
        Err(AppendError::TooLarge) => return ctx.error("ERR Elements are too large to be stored"),
    };
    let idstr = id.fmt();
    ctx.reply().bulk(idstr.as_bytes());
    ctx.signal_modified(key);
    ctx.notify(NOTIFY_STREAM, "xadd", key);
    ctx.dirty(1);
    let mut prop: Option<Vec<Bytes>> = None;
    if a.trim.strategy != Trim::None {
        let Some((_, exact)) = trim_stream(ctx, key, argv, &a) else {
            return;
        };
        prop = exact;
    }
    if a.id.is_none() || !a.seq_given {
        let mut v = prop.unwrap_or_else(|| argv.to_vec());
        v[a.idpos] = b(&idstr);
        prop = Some(v);
    }
    if let Some(v) = prop {
        ctx.rewrite_propagation(v);
    }
    ctx.signal_key_ready(key);
}

/// Trim the stream at `key` as `a` asks (notifying when entries went):
/// how many went, and for an approximate (`~`) trim the command rewritten
/// as the exact trim it turned out to be, for propagation.
fn trim_stream(
    ctx: &mut Ctx,
    key: &[u8],
    argv: &[Bytes],
    a: &AddTrim,
) -> Option<(i64, Option<Vec<Bytes>>)> {
    let s = stream_mut(ctx, key)?;
    let deleted = s.trim(&a.trim);
    // Only an approximate trim is rewritten, so only then is the exact
    // bound worth formatting.
    let newarg = a.trim.approx.then(|| trim_rewrite_arg(s, a.trim.strategy));
    if deleted != 0 {
        ctx.notify(NOTIFY_STREAM, "xtrim", key);
    }
    let exact = newarg.map(|newarg| {
        let mut v = argv.to_vec();
        v[a.arg_idx - 1] = Bytes::from_static(b"=");
        v[a.arg_idx] = b(&newarg);
        v
    });
    Some((deleted, exact))
}

/// What an approximate trim is propagated as: the exact length or the
/// first ID it left.
fn trim_rewrite_arg(s: &Stream, t: Trim) -> String {
    match t {
        Trim::MaxLen(_) => s.length.to_string(),
        _ => {
            // streamGetEdgeID with tombstones: the first entry of the
            // first node, deleted or not.
            let first = s
                .rax
                .iter()
                .next()
                .and_then(|(k, lp)| crate::db::stream::parse_node(*k, lp))
                .and_then(|n| n.entries.first().map(|e| e.id));
            first.unwrap_or(StreamId::MAX).fmt()
        }
    }
}

fn xtrim_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(a) = parse_add_trim(ctx, argv, false) else {
        return;
    };
    let key = &argv[1];
    match look(ctx, key, false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().int(0),
        Look::Stream => {}
    }
    let Some((deleted, exact)) = trim_stream(ctx, key, argv, &a) else {
        return;
    };
    if deleted != 0 {
        if let Some(v) = exact {
            ctx.rewrite_propagation(v);
        }
        ctx.signal_modified(key);
        ctx.dirty(deleted as u64);
    }
    ctx.reply().int(deleted);
}

// ------------------------------------------------------------ XRANGE / XLEN / XDEL / XSETID

fn xrange_generic(ctx: &mut Ctx, argv: &[Bytes], rev: bool) {
    let (sa, ea) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let Some(start) = parse_start(ctx, sa) else {
        return;
    };
    let Some(end) = parse_end(ctx, ea) else {
        return;
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if eq_ic(&argv[j], "count") && j + 1 < argv.len() {
            let Some(n) = ctx.int_arg(&argv[j + 1]) else {
                return;
            };
            count = n.max(0);
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    match look(ctx, &argv[1], true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().array(0),
        Look::Stream => {}
    }
    let Some((s, r)) = split(ctx, &argv[1]) else {
        return;
    };
    if count == 0 {
        r.null_array();
    } else {
        let c = if count < 0 { 0 } else { count as usize };
        reply_range(r, s, start, end, c, rev);
    }
}

fn xrange_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    xrange_generic(ctx, argv, false);
}

fn xrevrange_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    xrange_generic(ctx, argv, true);
}

fn xlen_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    match look(ctx, &argv[1], true) {
        Look::Wrong => ctx.wrongtype(),
        Look::Missing => ctx.reply().int(0),
        Look::Stream => {
            let n = stream_mut(ctx, &argv[1]).map_or(0, |s| s.length);
            ctx.reply().int(n as i64);
        }
    }
}

fn xdel_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    match look(ctx, key, false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().int(0),
        Look::Stream => {}
    }
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for a in &argv[2..] {
        let Some(id) = parse_id(ctx, a, 0, true) else {
            return;
        };
        ids.push(id);
    }
    let Some(s) = stream_mut(ctx, key) else {
        return;
    };
    let mut deleted = 0;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted_entry_id {
                s.max_deleted_entry_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_entry {
            s.first_id = s.edge_id(true).unwrap_or(StreamId::MIN);
        }
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    ctx.reply().int(deleted as i64);
}

fn xsetid_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(id) = parse_id(ctx, &argv[2], 0, true) else {
        return;
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if eq_ic(&argv[i], "entriesadded") && more > 0 {
            let Some(n) = ctx.int_arg(&argv[i + 1]) else {
                return;
            };
            if n < 0 {
                return ctx.error("ERR entries_added must be positive");
            }
            entries_added = n;
            i += 2;
        } else if eq_ic(&argv[i], "maxdeletedid") && more > 0 {
            let Some(m) = parse_id(ctx, &argv[i + 1], 0, true) else {
                return;
            };
            if id < m {
                return ctx.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
            }
            max_xdel = m;
            i += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    let key = &argv[1];
    match look(ctx, key, false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.error("ERR no such key"),
        Look::Stream => {}
    }
    let Some(s) = stream_mut(ctx, key) else {
        return;
    };
    if s.length > 0 {
        if id < s.last_valid_id() {
            return ctx.error(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return ctx.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_entry_id = max_xdel;
    }
    ctx.reply().ok();
    ctx.signal_modified(key);
    ctx.dirty(1);
    ctx.notify(NOTIFY_STREAM, "xsetid", key);
}

// ------------------------------------------------------------ XREAD / XREADGROUP

/// Redis's default COUNT for a blocked XREAD once served.
const XREAD_BLOCKED_DEFAULT_COUNT: usize = 1000;

fn xgroup_setid_argv(key: &[u8], group: &[u8], last: StreamId, entries_read: i64) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        b(&last.fmt()),
        Bytes::from_static(b"ENTRIESREAD"),
        b(&entries_read.to_string()),
    ]
}

fn xclaim_argv(key: &[u8], group: &[u8], id: StreamId, n: &Nack, last: StreamId) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        Bytes::copy_from_slice(key),
        Bytes::copy_from_slice(group),
        Bytes::copy_from_slice(&n.consumer),
        Bytes::from_static(b"0"),
        b(&id.fmt()),
        Bytes::from_static(b"TIME"),
        b(&n.delivery_time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        b(&n.delivery_count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        b(&last.fmt()),
    ]
}

/// Create a consumer if missing (notifying and dirtying as Redis's
/// streamCreateConsumer); refreshes its seen-time either way. Returns
/// true when created.
fn ensure_consumer(ctx: &mut Ctx, key: &[u8], group: &[u8], name: &[u8], refresh: bool) -> bool {
    let now = ctx.now;
    let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(group)) else {
        return false;
    };
    if let Some(c) = g.consumers.get_mut(name) {
        if refresh {
            c.seen_time = now;
        }
        return false;
    }
    g.consumers.insert(
        name.to_vec(),
        crate::db::stream::Consumer {
            seen_time: now,
            ..Default::default()
        },
    );
    ctx.dirty(1);
    ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", key);
    true
}

/// Serve a group read of entries after the group's last ID (`>`):
/// deliver, record in the PEL (unless NOACK) and propagate.
fn serve_group_new(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
) {
    let now = ctx.now;
    let mut props: Vec<Vec<Bytes>> = Vec::new();
    {
        let Some((s, r)) = split(ctx, key) else {
            return;
        };
        let Some(start) = s.group(group).and_then(|g| g.last_id.incr()) else {
            r.array(0);
            return;
        };
        let mut items: Vec<crate::db::stream::OwnedEntry> = Vec::new();
        s.range(start, StreamId::MAX, false, |id, f| {
            items.push((
                id,
                f.iter().map(|(a, b)| (a.to_vec(), b.to_vec())).collect(),
            ));
            count == 0 || items.len() < count
        });
        r.array(items.len());
        for (id, f) in &items {
            r.array(2);
            reply_id(r, *id);
            r.array(f.len() * 2);
            for (a, b) in f {
                r.bulk(a);
                r.bulk(b);
            }
        }
        for (id, _) in &items {
            s.group_delivered(group, *id);
            let Some(g) = s.group_mut(group) else { break };
            if !noack {
                let nack = Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: consumer.to_vec(),
                };
                if let Some(old) = g.pel.insert(*id, nack) {
                    if let Some(c) = g.consumers.get_mut(&old.consumer) {
                        c.pel.remove(id);
                    }
                }
                if let Some(c) = g.consumers.get_mut(consumer) {
                    c.pel.insert(*id);
                }
                let n = &g.pel[id];
                props.push(xclaim_argv(key, group, *id, n, g.last_id));
            }
        }
        if noack && !items.is_empty() {
            if let Some(g) = s.group(group) {
                props.push(xgroup_setid_argv(key, group, g.last_id, g.entries_read));
            }
        }
    }
    for p in props {
        ctx.also_propagate(p);
    }
}

/// Serve a consumer's history (ID given): its PEL entries after `start`.
fn serve_group_history(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
) {
    let now = ctx.now;
    let Some((s, r)) = split(ctx, key) else {
        return;
    };
    let ids: Vec<StreamId> = s
        .group(group)
        .and_then(|g| g.consumers.get(consumer))
        .map(|c| {
            c.pel
                .range(start..)
                .take(if count == 0 { usize::MAX } else { count })
                .copied()
                .collect()
        })
        .unwrap_or_default();
    r.array(ids.len());
    let mut found = Vec::with_capacity(ids.len());
    for id in &ids {
        if reply_one(r, s, *id) {
            found.push(*id);
        } else {
            r.array(2);
            reply_id(r, *id);
            r.null_array();
        }
    }
    if let Some(g) = s.group_mut(group) {
        for id in found {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    }
}

fn parse_block_ms(ctx: &mut Ctx, a: &[u8]) -> Option<i64> {
    let Some(v) = crate::util::parse_i64(a) else {
        ctx.error("ERR timeout is not an integer or out of range");
        return None;
    };
    if v < 0 {
        ctx.error("ERR timeout is negative");
        return None;
    }
    if let Some(d) = ctx.srv.blocking.reprocess_deadline {
        return Some(d);
    }
    Some(if v == 0 { 0 } else { ctx.now.saturating_add(v) })
}

fn xread_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let xreadgroup = argv[0].len() == 10;
    let name = String::from_utf8_lossy(&argv[0]).into_owned();
    let mut deadline: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_arg = 0;
    let mut noack = false;
    let mut group: Option<(Bytes, Bytes)> = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let o = &argv[i][..];
        if eq_ic(o, "block") && more > 0 {
            if ctx.client.id == 0 {
                return ctx.error(&format!(
                    "ERR {name} command is not allowed with BLOCK option from scripts"
                ));
            }
            i += 1;
            let Some(d) = parse_block_ms(ctx, &argv[i]) else {
                return;
            };
            deadline = Some(d);
        } else if eq_ic(o, "count") && more > 0 {
            i += 1;
            let Some(n) = ctx.int_arg(&argv[i]) else {
                return;
            };
            count = n.max(0) as usize;
        } else if eq_ic(o, "streams") && more > 0 {
            streams_arg = i + 1;
            if !(argv.len() - streams_arg).is_multiple_of(2) {
                return ctx.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
            }
            break;
        } else if eq_ic(o, "group") && more >= 2 {
            if !xreadgroup {
                return ctx.error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                );
            }
            group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else if eq_ic(o, "noack") {
            if !xreadgroup {
                return ctx.error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                );
            }
            noack = true;
        } else {
            return ctx.syntax_error();
        }
        i += 1;
    }
    if streams_arg == 0 {
        return ctx.syntax_error();
    }
    if xreadgroup && group.is_none() {
        return ctx.error("ERR Missing GROUP option for XREADGROUP");
    }
    let n = (argv.len() - streams_arg) / 2;
    let keys = &argv[streams_arg..streams_arg + n];
    let idargs = &argv[streams_arg + n..];
    // Resolve the IDs: Some(id) = entries greater than id; None = ">".
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(n);
    for (k, a) in keys.iter().zip(idargs) {
        let exists = match look(ctx, k, true) {
            Look::Wrong => return ctx.wrongtype(),
            Look::Missing => false,
            Look::Stream => true,
        };
        if let Some((g, _)) = &group {
            let has = exists && stream_mut(ctx, k).is_some_and(|s| s.group(g).is_some());
            if !has {
                return ctx.error(&format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(g)
                ));
            }
        }
        if &a[..] == b"$" {
            if xreadgroup {
                return ctx.error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            }
            let last = if exists {
                stream_mut(ctx, k).map_or(StreamId::MIN, |s| s.last_id)
            } else {
                StreamId::MIN
            };
            ids.push(Some(last));
            continue;
        }
        if &a[..] == b">" {
            if !xreadgroup {
                return ctx.error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
            }
            ids.push(None);
            continue;
        }
        let Some(id) = parse_id(ctx, a, 0, true) else {
            return;
        };
        ids.push(Some(id));
    }
    // Which streams can be served now?
    let mut serve: Vec<usize> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let Some(s) = stream_mut(ctx, k) else {
            continue;
        };
        let ok = match (&group, ids[i]) {
            (Some(_), Some(_)) => true,
            (Some((g, _)), None) => {
                s.length > 0 && s.group(g).is_some_and(|g| s.last_valid_id() > g.last_id)
            }
            (None, Some(gt)) => s.length > 0 && s.last_valid_id() > gt,
            (None, None) => false,
        };
        if ok {
            serve.push(i);
        }
    }
    if !serve.is_empty() {
        let resp3 = ctx.client.reply.resp >= 3;
        if resp3 {
            ctx.reply().map(serve.len());
        } else {
            ctx.reply().array(serve.len());
        }
        for &i in &serve {
            let k = &keys[i];
            if !resp3 {
                ctx.reply().array(2);
            }
            ctx.reply().bulk(k);
            match &group {
                Some((g, c)) => {
                    if ensure_consumer(ctx, k, g, c, true) && noack {
                        ctx.also_propagate(vec![
                            Bytes::from_static(b"XGROUP"),
                            Bytes::from_static(b"CREATECONSUMER"),
                            k.clone(),
                            g.clone(),
                            c.clone(),
                        ]);
                    }
                    match ids[i] {
                        None => serve_group_new(ctx, k, g, c, count, noack),
                        Some(id) => {
                            let start = id.incr().unwrap_or(StreamId::MAX);
                            serve_group_history(ctx, k, g, c, start, count);
                        }
                    }
                    ctx.dirty(1);
                }
                None => {
                    let gt = ids[i].unwrap_or(StreamId::MAX);
                    let Some((s, r)) = split(ctx, k) else { return };
                    match gt.incr() {
                        Some(start) => {
                            reply_range(r, s, start, StreamId::MAX, count, false);
                        }
                        None => r.array(0),
                    }
                }
            }
        }
        // The effects were propagated as XCLAIM / XGROUP SETID.
        ctx.rewrite_propagation(Vec::new());
        return;
    }
    ctx.rewrite_propagation(Vec::new());
    let Some(deadline) = deadline else {
        return ctx.reply().null_array();
    };
    if !crate::server::blocking::can_block(ctx) {
        return ctx.reply().null_array();
    }
    // Block with the IDs resolved: "$" must mean the last ID as of now,
    // not when the command runs again after a wake-up. A served XREAD
    // without COUNT gets Redis's default.
    let mut again = argv.to_vec();
    for (j, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            again[streams_arg + n + j] = b(&id.fmt());
        }
    }
    if count == 0 {
        let mut v = Vec::with_capacity(again.len() + 2);
        v.push(again[0].clone());
        v.push(Bytes::from_static(b"COUNT"));
        v.push(b(&XREAD_BLOCKED_DEFAULT_COUNT.to_string()));
        v.extend_from_slice(&again[1..]);
        again = v;
    }
    let want = if xreadgroup {
        crate::server::blocking::XREADGROUP
    } else {
        "stream"
    };
    crate::server::blocking::block_for_keys(ctx, keys, deadline, want, &again);
}

// ------------------------------------------------------------ XGROUP

fn xgroup_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let opt = &argv[1][..];
    if eq_ic(opt, "help") {
        if argv.len() != 2 {
            return sub_syntax_error(ctx, argv);
        }
        return help(
            ctx,
            "XGROUP",
            &[
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter.",
            ],
        );
    }
    let create = eq_ic(opt, "create");
    let setid = eq_ic(opt, "setid");
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < argv.len() {
        if create && eq_ic(&argv[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && eq_ic(&argv[i], "entriesread") && i + 1 < argv.len() {
            let Some(n) = ctx.int_arg(&argv[i + 1]) else {
                return;
            };
            if n < 0 && n != INVALID_ENTRIES_READ {
                return ctx.error("ERR value for ENTRIESREAD must be positive or -1");
            }
            entries_read = n;
            i += 2;
        } else {
            return sub_syntax_error(ctx, argv);
        }
    }
    let key = &argv[2];
    let grp = &argv[3];
    let exists = match look(ctx, key, false) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => false,
        Look::Stream => true,
    };
    let has_group = exists && stream_mut(ctx, key).is_some_and(|s| s.group(grp).is_some());
    if !mkstream {
        if !exists {
            return ctx.error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        }
        if !has_group && (setid || eq_ic(opt, "createconsumer") || eq_ic(opt, "delconsumer")) {
            return ctx.error(&format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(grp),
                String::from_utf8_lossy(key)
            ));
        }
    }
    if create && (5..=8).contains(&argv.len()) {
        let id = if &argv[4][..] == b"$" {
            if exists {
                stream_mut(ctx, key).map_or(StreamId::MIN, |s| s.last_id)
            } else {
                StreamId::MIN
            }
        } else {
            let Some(id) = parse_id(ctx, &argv[4], 0, true) else {
                return;
            };
            id
        };
        if !exists {
            ctx.db().set(key, Value::Stream(Box::default()));
            ctx.signal_modified(key);
        }
        let Some(s) = stream_mut(ctx, key) else {
            return;
        };
        if s.create_group(grp, id, entries_read) {
            ctx.reply().ok();
            ctx.dirty(1);
            ctx.notify(NOTIFY_STREAM, "xgroup-create", key);
        } else {
            ctx.error("BUSYGROUP Consumer Group name already exists");
        }
    } else if setid && (argv.len() == 5 || argv.len() == 7) {
        let id = if &argv[4][..] == b"$" {
            stream_mut(ctx, key).map_or(StreamId::MIN, |s| s.last_id)
        } else {
            let Some(id) = parse_id(ctx, &argv[4], 0, false) else {
                return;
            };
            id
        };
        let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(grp)) else {
            return;
        };
        g.last_id = id;
        g.entries_read = entries_read;
        ctx.reply().ok();
        ctx.dirty(1);
        ctx.notify(NOTIFY_STREAM, "xgroup-setid", key);
    } else if eq_ic(opt, "destroy") && argv.len() == 4 {
        let removed = stream_mut(ctx, key)
            .and_then(|s| s.cgroups.as_mut())
            .and_then(|g| g.remove(&grp[..]))
            .is_some();
        if removed {
            ctx.reply().int(1);
            ctx.dirty(1);
            ctx.notify(NOTIFY_STREAM, "xgroup-destroy", key);
            ctx.signal_key_ready(key);
        } else {
            ctx.reply().int(0);
        }
    } else if eq_ic(opt, "createconsumer") && argv.len() == 5 {
        let created = ensure_consumer(ctx, key, grp, &argv[4], false);
        ctx.reply().int(created as i64);
    } else if eq_ic(opt, "delconsumer") && argv.len() == 5 {
        let pending = stream_mut(ctx, key)
            .and_then(|s| s.group_mut(grp))
            .and_then(|g| g.del_consumer(&argv[4]));
        if pending.is_some() {
            ctx.dirty(1);
            ctx.notify(NOTIFY_STREAM, "xgroup-delconsumer", key);
        }
        ctx.reply().int(pending.unwrap_or(0) as i64);
    } else {
        sub_syntax_error(ctx, argv);
    }
}

// ------------------------------------------------------------ XACK / XPENDING

fn nogroup(ctx: &mut Ctx, key: &[u8], grp: &[u8]) {
    ctx.error(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(grp)
    ));
}

fn xack_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.reply().int(0),
        Look::Stream => {}
    }
    if stream_mut(ctx, key)
        .and_then(|s| s.group(&argv[2]))
        .is_none()
    {
        return ctx.reply().int(0);
    }
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for a in &argv[3..] {
        let Some(id) = parse_id(ctx, a, 0, true) else {
            return;
        };
        ids.push(id);
    }
    let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(&argv[2])) else {
        return;
    };
    let mut acked = 0;
    for id in ids {
        if g.ack(id).is_some() {
            acked += 1;
        }
    }
    ctx.dirty(acked);
    ctx.reply().int(acked as i64);
}

fn xpending_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let justinfo = argv.len() == 3;
    let (key, grp) = (&argv[1], &argv[2]);
    if argv.len() != 3 && !(6..=9).contains(&argv.len()) {
        return ctx.syntax_error();
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<&Bytes> = None;
    if argv.len() >= 6 {
        let mut si = 3;
        if eq_ic(&argv[3], "idle") {
            let Some(n) = ctx.int_arg(&argv[4]) else {
                return;
            };
            minidle = n;
            if argv.len() < 8 {
                return ctx.syntax_error();
            }
            si += 2;
        }
        let Some(c) = ctx.int_arg(&argv[si + 2]) else {
            return;
        };
        count = c.max(0);
        let Some(s) = parse_start(ctx, &argv[si]) else {
            return;
        };
        let Some(e) = parse_end(ctx, &argv[si + 1]) else {
            return;
        };
        start = s;
        end = e;
        if si + 3 < argv.len() {
            consumer = Some(&argv[si + 3]);
        }
    }
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return nogroup(ctx, key, grp),
        Look::Stream => {}
    }
    let now = ctx.now;
    let Some((s, r)) = split(ctx, key) else {
        return;
    };
    let Some(g) = s.group(grp) else {
        return nogroup(ctx, key, grp);
    };
    if justinfo {
        r.array(4);
        r.int(g.pel.len() as i64);
        if g.pel.is_empty() {
            r.null();
            r.null();
            r.null_array();
        } else {
            reply_id(r, *g.pel.keys().next().expect("non-empty"));
            reply_id(r, *g.pel.keys().next_back().expect("non-empty"));
            let owners: Vec<_> = g
                .consumers
                .iter()
                .filter(|(_, c)| !c.pel.is_empty())
                .collect();
            r.array(owners.len());
            for (name, c) in owners {
                r.array(2);
                r.bulk(name);
                r.bulk_int(c.pel.len() as i64);
            }
        }
        return;
    }
    let ids: Vec<StreamId> = match consumer {
        Some(c) => match g.consumers.get(&c[..]) {
            Some(c) => c.pel.range(start..=end.max(start)).copied().collect(),
            None => {
                r.array(0);
                return;
            }
        },
        None => g
            .pel
            .range(start..=end.max(start))
            .map(|(k, _)| *k)
            .collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(n) = g.pel.get(&id) else { continue };
        if minidle != 0 && now - n.delivery_time < minidle {
            continue;
        }
        out.push((id, n));
        count -= 1;
    }
    r.array(out.len());
    for (id, n) in out {
        r.array(4);
        reply_id(r, id);
        r.bulk(&n.consumer);
        r.int((now - n.delivery_time).max(0));
        r.int(n.delivery_count as i64);
    }
}

// ------------------------------------------------------------ XCLAIM / XAUTOCLAIM

/// How a claim changes a pending entry's delivery count.
enum Delivery {
    /// RETRYCOUNT n.
    Set(u64),
    /// One more delivery.
    Bump,
    /// JUSTID: the message is not delivered.
    Keep,
}

/// What XCLAIM and XAUTOCLAIM do to each entry they claim: give it to
/// `consumer` with delivery time `time`, and return the XCLAIM that
/// replicas and the AOF get. None when the group is gone.
fn claim_pending(
    ctx: &mut Ctx,
    key: &[u8],
    grp: &[u8],
    consumer: &[u8],
    id: StreamId,
    time: i64,
    count: Delivery,
) -> Option<Vec<Bytes>> {
    let g = stream_mut(ctx, key).and_then(|s| s.group_mut(grp))?;
    g.assign(id, consumer);
    let n = g.pel.get_mut(&id)?;
    n.delivery_time = time;
    match count {
        Delivery::Set(c) => n.delivery_count = c,
        Delivery::Bump => n.delivery_count += 1,
        Delivery::Keep => {}
    }
    let n = n.clone();
    Some(xclaim_argv(key, grp, id, &n, g.last_id))
}

fn xclaim_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let (key, grp) = (&argv[1], &argv[2]);
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return nogroup(ctx, key, grp),
        Look::Stream => {}
    }
    if stream_mut(ctx, key).and_then(|s| s.group(grp)).is_none() {
        return nogroup(ctx, key, grp);
    }
    let Some(minidle) = crate::util::parse_i64(&argv[4]) else {
        return ctx.error("ERR Invalid min-idle-time argument for XCLAIM");
    };
    let minidle = minidle.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match parse_id_raw(&argv[j], 0, true, None) {
            Some(id) => ids.push((id, j)),
            None => break,
        }
        j += 1;
    }
    let now = ctx.now;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut force = false;
    let mut justid = false;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let o = &argv[j][..];
        let int_opt = |ctx: &mut Ctx, a: &[u8], what: &str| -> Option<i64> {
            let v = crate::util::parse_i64(a);
            if v.is_none() {
                ctx.error(&format!("ERR Invalid {what} option argument for XCLAIM"));
            }
            v
        };
        if eq_ic(o, "force") {
            force = true;
        } else if eq_ic(o, "justid") {
            justid = true;
        } else if eq_ic(o, "idle") && more > 0 {
            j += 1;
            let Some(v) = int_opt(ctx, &argv[j], "IDLE") else {
                return;
            };
            deliverytime = now - v;
        } else if eq_ic(o, "time") && more > 0 {
            j += 1;
            let Some(v) = int_opt(ctx, &argv[j], "TIME") else {
                return;
            };
            deliverytime = v;
        } else if eq_ic(o, "retrycount") && more > 0 {
            j += 1;
            let Some(v) = int_opt(ctx, &argv[j], "RETRYCOUNT") else {
                return;
            };
            retrycount = v;
        } else if eq_ic(o, "lastid") && more > 0 {
            j += 1;
            let Some(v) = parse_id(ctx, &argv[j], 0, true) else {
                return;
            };
            last_id = v;
        } else {
            return ctx.error(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(o)
            ));
        }
        j += 1;
    }
    let consumer = &argv[3];
    let mut propagate_last_id = false;
    if let Some(g) = stream_mut(ctx, key).and_then(|s| s.group_mut(grp)) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let mut props: Vec<Vec<Bytes>> = Vec::new();
    let mut dirty = 0;
    let mut claimed: Vec<StreamId> = Vec::new();
    let mut consumer_ready = false;
    for (id, _) in ids {
        let Some(s) = stream_mut(ctx, key) else {
            return;
        };
        let exists = s.exists(id);
        let Some(g) = s.group_mut(grp) else { return };
        if !exists {
            // A pending entry whose message is gone: drop it.
            if let Some(n) = g.pel.get(&id) {
                props.push(xclaim_argv(key, grp, id, n, g.last_id));
                propagate_last_id = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: Vec::new(),
                },
            );
        }
        let Some(n) = g.pel.get(&id) else { continue };
        if !n.consumer.is_empty() && minidle != 0 && now - n.delivery_time < minidle {
            continue;
        }
        if !consumer_ready {
            ensure_consumer(ctx, key, grp, consumer, true);
            consumer_ready = true;
        }
        let delivery = match (retrycount >= 0, justid) {
            (true, _) => Delivery::Set(retrycount as u64),
            (false, true) => Delivery::Keep,
            (false, false) => Delivery::Bump,
        };
        let Some(prop) = claim_pending(ctx, key, grp, consumer, id, deliverytime, delivery) else {
            return;
        };
        props.push(prop);
        propagate_last_id = false;
        dirty += 1;
        claimed.push(id);
    }
    if propagate_last_id {
        if let Some(g) = stream_mut(ctx, key).and_then(|s| s.group(grp)) {
            props.push(xgroup_setid_argv(key, grp, g.last_id, g.entries_read));
        }
        dirty += 1;
    }
    {
        let Some((s, r)) = split(ctx, key) else {
            return;
        };
        r.array(claimed.len());
        for id in &claimed {
            if justid {
                reply_id(r, *id);
            } else if !reply_one(r, s, *id) {
                r.null_array();
            }
        }
    }
    ctx.dirty(dirty);
    for p in props {
        ctx.also_propagate(p);
    }
    ctx.rewrite_propagation(Vec::new());
}

fn xautoclaim_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let (key, grp, consumer) = (&argv[1], &argv[2], &argv[3]);
    let Some(minidle) = crate::util::parse_i64(&argv[4]) else {
        return ctx.error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    };
    let minidle = minidle.max(0);
    let Some(start) = parse_start(ctx, &argv[5]) else {
        return;
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ic(&argv[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            match crate::util::parse_i64(&argv[j + 1]) {
                Some(n) if (1..=max).contains(&n) => count = n,
                _ => return ctx.error("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if eq_ic(&argv[j], "justid") {
            justid = true;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return nogroup(ctx, key, grp),
        Look::Stream => {}
    }
    if stream_mut(ctx, key).and_then(|s| s.group(grp)).is_none() {
        return nogroup(ctx, key, grp);
    }
    let now = ctx.now;
    let mut attempts = count.saturating_mul(10);
    let mut props: Vec<Vec<Bytes>> = Vec::new();
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut claimed: Vec<StreamId> = Vec::new();
    let mut dirty = 0;
    let mut cursor = start;
    let mut next: Option<StreamId>;
    let mut consumer_ready = false;
    loop {
        let Some(s) = stream_mut(ctx, key) else {
            return;
        };
        next = s
            .group(grp)
            .and_then(|g| g.pel.range(cursor..).next().map(|(k, _)| *k));
        let Some(id) = next else { break };
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        cursor = match id.incr() {
            Some(c) => c,
            None => {
                // Nothing can follow the maximum ID.
                cursor = StreamId::MAX;
                cursor
            }
        };
        let exists = s.exists(id);
        let Some(g) = s.group_mut(grp) else { return };
        if !exists {
            if let Some(n) = g.pel.get(&id) {
                props.push(xclaim_argv(key, grp, id, n, g.last_id));
            }
            g.ack(id);
            dirty += 1;
            deleted.push(id);
            count -= 1;
            if id == StreamId::MAX {
                next = None;
                break;
            }
            continue;
        }
        let Some(n) = g.pel.get(&id) else { continue };
        if minidle != 0 && now - n.delivery_time < minidle {
            if id == StreamId::MAX {
                next = None;
                break;
            }
            continue;
        }
        if !consumer_ready {
            ensure_consumer(ctx, key, grp, consumer, true);
            consumer_ready = true;
        }
        let delivery = if justid {
            Delivery::Keep
        } else {
            Delivery::Bump
        };
        let Some(prop) = claim_pending(ctx, key, grp, consumer, id, now, delivery) else {
            return;
        };
        props.push(prop);
        dirty += 1;
        claimed.push(id);
        count -= 1;
        if id == StreamId::MAX {
            next = None;
            break;
        }
    }
    // The cursor: the next pending ID after the last one looked at.
    let endid = if next.is_some() {
        stream_mut(ctx, key)
            .and_then(|s| s.group(grp))
            .and_then(|g| g.pel.range(cursor..).next().map(|(k, _)| *k))
            .unwrap_or(StreamId::MIN)
    } else {
        StreamId::MIN
    };
    {
        let Some((s, r)) = split(ctx, key) else {
            return;
        };
        r.array(3);
        reply_id(r, endid);
        r.array(claimed.len());
        for id in &claimed {
            if justid {
                reply_id(r, *id);
            } else if !reply_one(r, s, *id) {
                r.null_array();
            }
        }
        r.array(deleted.len());
        for id in &deleted {
            reply_id(r, *id);
        }
    }
    ctx.dirty(dirty);
    for p in props {
        ctx.also_propagate(p);
    }
    ctx.rewrite_propagation(Vec::new());
}

// ------------------------------------------------------------ XINFO

fn reply_lag(r: &mut Reply, s: &Stream, g: &crate::db::stream::Group) {
    match s.group_lag(g) {
        Some(l) => r.int(l),
        None => r.null(),
    }
}

fn reply_entries_read(r: &mut Reply, g: &crate::db::stream::Group) {
    if g.entries_read != INVALID_ENTRIES_READ {
        r.int(g.entries_read);
    } else {
        r.null();
    }
}

fn xinfo_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let opt = &argv[1][..];
    if eq_ic(opt, "help") {
        if argv.len() != 2 {
            return sub_syntax_error(ctx, argv);
        }
        return help(
            ctx,
            "XINFO",
            &[
                "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.",
                "GROUPS <key>",
                "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]",
                "    Show information about the stream.",
            ],
        );
    }
    if argv.len() < 3 {
        return sub_syntax_error(ctx, argv);
    }
    let key = &argv[2];
    match look(ctx, key, true) {
        Look::Wrong => return ctx.wrongtype(),
        Look::Missing => return ctx.error("ERR no such key"),
        Look::Stream => {}
    }
    let now = ctx.now;
    if eq_ic(opt, "consumers") && argv.len() == 4 {
        let Some((s, r)) = split(ctx, key) else {
            return;
        };
        let Some(g) = s.group(&argv[3]) else {
            return ctx.error(&format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(&argv[3]),
                String::from_utf8_lossy(key)
            ));
        };
        r.array(g.consumers.len());
        for (name, c) in &g.consumers {
            r.map(3);
            r.bulk(b"name");
            r.bulk(name);
            r.bulk(b"pending");
            r.int(c.pel.len() as i64);
            r.bulk(b"idle");
            r.int((now - c.seen_time).max(0));
        }
    } else if eq_ic(opt, "groups") && argv.len() == 3 {
        let Some((s, r)) = split(ctx, key) else {
            return;
        };
        r.array(s.group_count());
        for (name, g) in s.groups() {
            r.map(6);
            r.bulk(b"name");
            r.bulk(name);
            r.bulk(b"consumers");
            r.int(g.consumers.len() as i64);
            r.bulk(b"pending");
            r.int(g.pel.len() as i64);
            r.bulk(b"last-delivered-id");
            reply_id(r, g.last_id);
            r.bulk(b"entries-read");
            reply_entries_read(r, g);
            r.bulk(b"lag");
            reply_lag(r, s, g);
        }
    } else if eq_ic(opt, "stream") {
        xinfo_stream(ctx, argv);
    } else {
        sub_syntax_error(ctx, argv);
    }
}

fn xinfo_stream(ctx: &mut Ctx, argv: &[Bytes]) {
    let optc = argv.len() - 3;
    let mut full = false;
    let mut count: i64 = 10;
    if optc != 0 {
        if (optc != 1 && optc != 3) || !eq_ic(&argv[3], "full") {
            return sub_syntax_error(ctx, argv);
        }
        full = true;
        if optc == 3 {
            if !eq_ic(&argv[4], "count") {
                return sub_syntax_error(ctx, argv);
            }
            let Some(n) = ctx.int_arg(&argv[5]) else {
                return;
            };
            count = if n < 0 { 10 } else { n };
        }
    }
    let Some((s, r)) = split(ctx, &argv[2]) else {
        return;
    };
    r.map(if full { 9 } else { 10 });
    r.bulk(b"length");
    r.int(s.length as i64);
    r.bulk(b"radix-tree-keys");
    r.int(s.rax.len() as i64);
    r.bulk(b"radix-tree-nodes");
    r.int(s.rax_nodes() as i64);
    r.bulk(b"last-generated-id");
    reply_id(r, s.last_id);
    r.bulk(b"max-deleted-entry-id");
    reply_id(r, s.max_deleted_entry_id);
    r.bulk(b"entries-added");
    r.int(s.entries_added as i64);
    r.bulk(b"recorded-first-entry-id");
    reply_id(r, s.first_id);
    if !full {
        r.bulk(b"groups");
        r.int(s.group_count() as i64);
        for (label, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            r.bulk(label);
            let mut done = false;
            s.range(StreamId::MIN, StreamId::MAX, rev, |id, f| {
                reply_entry(r, id, &f);
                done = true;
                false
            });
            if !done {
                r.null();
            }
        }
        return;
    }
    let count = count as usize;
    r.bulk(b"entries");
    reply_range(r, s, StreamId::MIN, StreamId::MAX, count, false);
    r.bulk(b"groups");
    r.array(s.group_count());
    for (name, g) in s.groups() {
        r.map(7);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_entries_read(r, g);
        r.bulk(b"lag");
        reply_lag(r, s, g);
        r.bulk(b"pel-count");
        r.int(g.pel.len() as i64);
        r.bulk(b"pending");
        let shown: Vec<_> = g
            .pel
            .iter()
            .take(if count == 0 { usize::MAX } else { count })
            .collect();
        r.array(shown.len());
        for (id, n) in shown {
            r.array(4);
            reply_id(r, *id);
            r.bulk(&n.consumer);
            r.int(n.delivery_time);
            r.int(n.delivery_count as i64);
        }
        r.bulk(b"consumers");
        r.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            r.map(4);
            r.bulk(b"name");
            r.bulk(cname);
            r.bulk(b"seen-time");
            r.int(c.seen_time);
            r.bulk(b"pel-count");
            r.int(c.pel.len() as i64);
            r.bulk(b"pending");
            let shown: Vec<_> = c
                .pel
                .iter()
                .take(if count == 0 { usize::MAX } else { count })
                .collect();
            r.array(shown.len());
            for id in shown {
                let n = g.pel.get(id);
                r.array(3);
                reply_id(r, *id);
                r.int(n.map_or(0, |n| n.delivery_time));
                r.int(n.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_parsing() {
        assert_eq!(
            parse_id_raw(b"1-2", 0, true, None),
            Some(StreamId::new(1, 2))
        );
        assert_eq!(parse_id_raw(b"5", 7, true, None), Some(StreamId::new(5, 7)));
        assert_eq!(parse_id_raw(b"-", 0, true, None), None);
        assert_eq!(parse_id_raw(b"+", 0, false, None), Some(StreamId::MAX));
        assert_eq!(parse_id_raw(b"1-x", 0, false, None), None);
        assert_eq!(parse_id_raw(b"-1", 0, false, None), None);
        let mut sg = true;
        assert_eq!(
            parse_id_raw(b"3-*", 0, true, Some(&mut sg)),
            Some(StreamId::new(3, 0))
        );
        assert!(!sg);
        assert_eq!(parse_id_raw(b"3-*", 0, true, None), None);
        assert_eq!(string2ull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(string2ull(b"18446744073709551616"), None);
    }

    #[test]
    fn xread_key_positions() {
        let a: Vec<Bytes> = ["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        assert_eq!(xread_keys(&a), vec![4, 5]);
    }
}

//! Clients blocked on keys (BLPOP and friends): wake-ups when a key they
//! wait on receives data, and timeouts.
//!
//! A command that finds nothing to serve calls [`block_for_keys`]: the
//! client gets the BLOCKED flag (the reactor stops reading its input) and
//! is queued, first come first served, on every key it waits for. When a
//! write signals one of those keys ready and the key holds a value of the
//! awaited type, the oldest waiter is unblocked and its command is run
//! again from the start, exactly as if it had just arrived; if it blocks
//! again it keeps its original deadline. Timeouts reply with a null array.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::client::cflags;
use super::reactor::Reactor;
use super::{Client, Server};
use crate::commands::Ctx;

/// Per-client state while blocked (stored in `client.ext.blocked`).
pub struct BlockState {
    /// Keys waited on: (db, key).
    pub keys: Vec<(usize, Vec<u8>)>,
    /// The command to run again once a key is ready.
    pub argv: Vec<Bytes>,
    /// Absolute deadline in unix ms, 0 = forever.
    pub deadline: i64,
    /// Value type that serves the client ("list", "zset", ...).
    pub want: &'static str,
}

/// Clients waiting on one key, as (id, slot), oldest first.
pub type Waiters = VecDeque<(u64, usize)>;

/// Server-wide blocking bookkeeping.
#[derive(Default)]
pub struct Blocking {
    /// (db, key) -> waiting clients as (id, slot), oldest first.
    pub by_key: HashMap<(usize, Vec<u8>), Waiters>,
    /// Number of blocked clients.
    pub blocked: usize,
    /// While a served client's command is run again: its original deadline.
    pub reprocess_deadline: Option<i64>,
    /// Clients blocked in XREADGROUP: their key or group may vanish
    /// (DEL, SET, FLUSHALL, XGROUP DESTROY...), which must unblock them.
    pub group_waiters: usize,
}

impl Blocking {
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Parse a blocking timeout in seconds (fractions allowed), replying the
/// error on failure. Returns the absolute deadline in ms (0 = forever).
/// While a command is re-run after a wake-up, the original deadline wins.
pub fn parse_timeout(ctx: &mut Ctx, arg: &[u8]) -> Option<i64> {
    let v = match crate::util::parse_f64(arg) {
        Some(v) if !v.is_nan() => v,
        _ => {
            ctx.error("ERR timeout is not a float or out of range");
            return None;
        }
    };
    let ms = (v * 1000.0).ceil();
    if ms < 0.0 {
        ctx.error("ERR timeout is negative");
        return None;
    }
    if let Some(d) = ctx.srv.blocking.reprocess_deadline {
        return Some(d);
    }
    if ms == 0.0 {
        return Some(0);
    }
    let ms = if ms > 9.0e15 { 9.0e15 } else { ms };
    Some(ctx.now.saturating_add(ms as i64))
}

/// Whether the running client may block (not inside MULTI/EXEC).
pub fn can_block(ctx: &Ctx) -> bool {
    !ctx.client.has(cflags::MULTI)
}

/// Block the running client on `keys` (of the current db) until one holds
/// a value of type `want`, or `deadline` passes (0 = never). The handler
/// must not reply.
pub fn block_for_keys(
    ctx: &mut Ctx,
    keys: &[Bytes],
    deadline: i64,
    want: &'static str,
    argv: &[Bytes],
) {
    let db = ctx.client.db;
    let id = ctx.client.id;
    let slot = ctx.client.token;
    let mut ks: Vec<(usize, Vec<u8>)> = Vec::with_capacity(keys.len());
    for k in keys {
        let e = (db, k.to_vec());
        if ks.contains(&e) {
            continue;
        }
        ctx.srv
            .blocking
            .by_key
            .entry(e.clone())
            .or_default()
            .push_back((id, slot));
        ks.push(e);
    }
    ctx.srv.blocking.blocked += 1;
    if want == XREADGROUP {
        ctx.srv.blocking.group_waiters += 1;
    }
    ctx.client.flags |= cflags::BLOCKED;
    ctx.client.ext.block_timeout = deadline;
    ctx.client.ext.blocked = Some(Box::new(BlockState {
        keys: ks,
        argv: argv.to_vec(),
        deadline,
        want,
    }));
}

/// Take a client out of the blocked state, returning what it waited for.
pub fn unblock(srv: &mut Server, client: &mut Client) -> Option<BlockState> {
    if !client.has(cflags::BLOCKED) {
        return None;
    }
    client.flags &= !cflags::BLOCKED;
    client.ext.block_timeout = 0;
    srv.blocking.blocked = srv.blocking.blocked.saturating_sub(1);
    let st = client.ext.blocked.take()?.downcast::<BlockState>().ok()?;
    if st.want == XREADGROUP {
        srv.blocking.group_waiters = srv.blocking.group_waiters.saturating_sub(1);
    }
    for k in &st.keys {
        if let Some(q) = srv.blocking.by_key.get_mut(k) {
            q.retain(|&(id, _)| id != client.id);
            if q.is_empty() {
                srv.blocking.by_key.remove(k);
            }
        }
    }
    Some(*st)
}

/// Unblock a client as if its timeout passed (`error` = None) or with an
/// error reply (CLIENT UNBLOCK ... ERROR). The caller resumes its input.
pub fn unblock_with_reply(srv: &mut Server, client: &mut Client, error: Option<&str>) -> bool {
    let Some(st) = unblock(srv, client) else {
        return false;
    };
    match error {
        Some(e) => {
            // The blocked command failed (Redis's updateStatsOnUnblock).
            if let Some(id) = srv.commands.lookup(&st.argv).map(|c| c.id) {
                if let Some(cs) = srv.stats.cmd.get_mut(id) {
                    cs.failed_calls += 1;
                }
            }
            srv.stats.record_error(e);
            client.reply.error_raw(e);
        }
        None => client.reply.null_array(),
    }
    true
}

/// Connection closed: forget its waits.
pub fn on_client_close(srv: &mut Server, client: &mut Client) {
    unblock(srv, client);
}

fn key_serves(srv: &mut Server, db: usize, key: &[u8], want: &str, now: i64) -> bool {
    match srv.dbs.get_mut(db).and_then(|d| d.lookup(key, now)) {
        Some(o) => o.val.type_name() == want,
        None => false,
    }
}

/// `want` of XREADGROUP waiters: served by a stream that still has
/// their group, failed when the key or the group is gone.
pub const XREADGROUP: &str = "xreadgroup";

/// The group an XREADGROUP names (GROUP <group> <consumer>).
fn group_of(argv: &[Bytes]) -> Option<&[u8]> {
    let i = argv.iter().position(|a| crate::util::eq_ic(a, "group"))?;
    argv.get(i + 1).map(|g| &g[..])
}

/// What an XREADGROUP waiter on `key` gets now: Ok(true) run again (new
/// entries), Ok(false) keep waiting, Err(reply) fail with that error.
fn group_waiter_state(
    srv: &mut Server,
    db: usize,
    key: &[u8],
    argv: &[Bytes],
    now: i64,
) -> Result<bool, &'static str> {
    let Some(o) = srv.dbs.get_mut(db).and_then(|d| d.lookup(key, now)) else {
        return Err("UNBLOCKED the stream key no longer exists");
    };
    let crate::db::Value::Stream(s) = &o.val else {
        return Err("UNBLOCKED the stream key no longer exists");
    };
    let Some(g) = group_of(argv).and_then(|g| s.group(g)) else {
        return Err("NOGROUP the consumer group this client was blocked on no longer exists");
    };
    Ok(s.last_id > g.last_id)
}

/// Keys whose XREADGROUP waiters must be woken with an error because the
/// stream or the group went away (deletions do not signal keys ready).
fn vanished_group_keys(r: &mut Reactor) {
    let now = crate::util::mstime();
    let mut vanished = Vec::new();
    for (k, q) in &r.srv.blocking.by_key {
        for &(id, slot) in q {
            let Some(c) = r.clients.get(slot) else {
                continue;
            };
            if c.id != id {
                continue;
            }
            let Some(st) = c
                .ext
                .blocked
                .as_ref()
                .and_then(|b| b.downcast_ref::<BlockState>())
            else {
                continue;
            };
            if st.want == XREADGROUP {
                vanished.push((k.clone(), st.argv.clone()));
                break;
            }
        }
    }
    for (k, argv) in vanished {
        if group_waiter_state(&mut r.srv, k.0, &k.1, &argv, now).is_err() {
            r.srv.ready_keys.push(k);
        }
    }
}

/// Whether the reactor must look at blocked clients after this round.
pub fn needs_handling(srv: &Server) -> bool {
    !srv.ready_keys.is_empty() || srv.blocking.group_waiters > 0
}

/// Serve clients blocked on keys signalled ready by the last command.
pub fn handle_ready_keys(r: &mut Reactor) {
    if r.srv.blocking.is_empty() {
        r.srv.ready_keys.clear();
        return;
    }
    if r.srv.blocking.group_waiters > 0 {
        vanished_group_keys(r);
    }
    let mut resumed: Vec<usize> = Vec::new();
    loop {
        let keys = std::mem::take(&mut r.srv.ready_keys);
        if keys.is_empty() {
            break;
        }
        let mut seen: Vec<&(usize, Vec<u8>)> = Vec::new();
        for k in &keys {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            serve_key(r, k, &mut resumed);
        }
    }
    r.srv.drain_expired();
    // Now let the served clients go on with their buffered input.
    for slot in resumed {
        let blocked = r
            .clients
            .get(slot)
            .map(|c| c.has(cflags::BLOCKED))
            .unwrap_or(true);
        if !blocked {
            r.process_input(slot);
        }
    }
}

fn serve_key(r: &mut Reactor, k: &(usize, Vec<u8>), resumed: &mut Vec<usize>) {
    let mut served: Vec<u64> = Vec::new();
    loop {
        let Some(&(id, slot)) = r.srv.blocking.by_key.get(k).and_then(|q| q.front()) else {
            return;
        };
        if served.contains(&id) {
            return;
        }
        served.push(id);
        let now = crate::util::mstime();
        let Some(mut c) = r.clients.take(slot) else {
            // Stale entry: drop it.
            if let Some(q) = r.srv.blocking.by_key.get_mut(k) {
                q.pop_front();
                if q.is_empty() {
                    r.srv.blocking.by_key.remove(k);
                }
            }
            continue;
        };
        if c.id != id {
            r.clients.restore(slot, c);
            if let Some(q) = r.srv.blocking.by_key.get_mut(k) {
                q.pop_front();
                if q.is_empty() {
                    r.srv.blocking.by_key.remove(k);
                }
            }
            continue;
        }
        let (want, group_state) = match c
            .ext
            .blocked
            .as_ref()
            .and_then(|b| b.downcast_ref::<BlockState>())
        {
            Some(b) if b.want == XREADGROUP => {
                let argv = b.argv.clone();
                (
                    b.want,
                    Some(group_waiter_state(&mut r.srv, k.0, &k.1, &argv, now)),
                )
            }
            Some(b) => (b.want, None),
            None => ("list", None),
        };
        match group_state {
            Some(Err(e)) => {
                unblock_with_reply(&mut r.srv, &mut c, Some(e));
                r.clients.restore(slot, c);
                resumed.push(slot);
                continue;
            }
            Some(Ok(false)) => {
                // Nothing new for its group (another consumer took it):
                // it keeps waiting behind the others, who may be served.
                r.clients.restore(slot, c);
                if let Some(q) = r.srv.blocking.by_key.get_mut(k) {
                    if let Some(w) = q.pop_front() {
                        q.push_back(w);
                    }
                }
                continue;
            }
            _ => {}
        }
        if group_state.is_none() && !key_serves(&mut r.srv, k.0, &k.1, want, now) {
            r.clients.restore(slot, c);
            return;
        }
        let Some(st) = unblock(&mut r.srv, &mut c) else {
            r.clients.restore(slot, c);
            return;
        };
        // Run the command again in the db it blocked in.
        let saved_db = c.db;
        c.db = k.0;
        r.srv.blocking.reprocess_deadline = Some(st.deadline);
        super::exec::process_command(&mut r.srv, &mut r.clients, &mut c, st.argv);
        r.srv.blocking.reprocess_deadline = None;
        if c.db == k.0 {
            c.db = saved_db;
        }
        r.after_command(&mut c);
        r.clients.restore(slot, c);
        resumed.push(slot);
    }
}

/// Unblock clients whose timeout has passed (called from cron).
pub fn check_timeouts(r: &mut Reactor, now: i64) {
    if r.srv.blocking.blocked == 0 {
        return;
    }
    let expired: Vec<usize> = r
        .clients
        .iter()
        .filter(|c| {
            c.has(cflags::BLOCKED) && c.ext.block_timeout != 0 && c.ext.block_timeout <= now
        })
        .map(|c| c.token)
        .collect();
    for slot in expired {
        if let Some(c) = r.clients.get_mut(slot) {
            unblock_with_reply(&mut r.srv, c, None);
        }
        r.process_input(slot);
    }
}

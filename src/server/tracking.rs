//! Client-side caching (CLIENT TRACKING): the table of keys each tracking
//! client may hold in its local cache, the prefixes of clients in
//! broadcasting mode, and delivery of invalidation messages.
//!
//! Invalidations are queued in `Tracking::outbox` as (tracking client id,
//! message) while commands run, and written out by `deliver` once every
//! client is reachable again: after the command (so a client's own
//! invalidations follow its reply, and a transaction's or a script's follow
//! the whole EXEC or EVAL), from cron, or before the reactor sleeps. Where
//! a message goes (the client itself in RESP3, its redirection target as a
//! push or as a `__redis__:invalidate` Pub/Sub message) is decided at
//! delivery, as Redis decides it when it sends.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;

use super::client::cflags;
use super::{Client, Clients, Server};

/// Every tracking flag of a client.
pub const ALL_FLAGS: u32 = cflags::TRACKING
    | cflags::TRACKING_BCAST
    | cflags::TRACKING_OPTIN
    | cflags::TRACKING_OPTOUT
    | cflags::TRACKING_CACHING
    | cflags::TRACKING_NOLOOP
    | cflags::TRACKING_BROKEN_REDIR;

/// Pub/Sub channel RESP2 redirection targets receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// The payload of one invalidation message.
#[derive(Debug, Clone)]
pub enum Msg {
    /// One key: sent as a one-element array.
    Key(Bytes),
    /// Everything (after a flush): a null in the tracking client's protocol.
    Null,
    /// A ready-made RESP array of keys (broadcasting mode).
    Proto(Bytes),
}

/// Keys modified under one prefix since the last broadcast, and the
/// clients subscribed to it.
#[derive(Default)]
pub struct BcastState {
    /// Key -> id of the client that last modified it (0: none, e.g. expiry).
    pub keys: BTreeMap<Vec<u8>, u64>,
    pub clients: BTreeSet<u64>,
}

#[derive(Default)]
pub struct Tracking {
    /// Set once a client ever enabled tracking (Redis creates its tables
    /// then); until then key changes cost nothing.
    pub initialized: bool,
    /// Key -> ids of the clients that may have it cached (sorted). Keys are
    /// global, not per database, as in Redis.
    pub table: HashMap<Vec<u8>, Vec<u64>>,
    /// Ids stored across the whole table.
    pub total_items: u64,
    /// Prefix -> broadcasting state.
    pub prefixes: BTreeMap<Vec<u8>, BcastState>,
    /// Clients with tracking on: id -> their tracking flags (TRACKING,
    /// BCAST, NOLOOP...), so key changes can be checked without the client.
    pub modes: BTreeMap<u64, u32>,
    /// Invalidations waiting to be written: (tracking client id, message).
    pub outbox: Vec<(u64, Msg)>,
    /// The client whose command is running (0: none), for NOLOOP.
    pub current_client: u64,
    /// While a tracking client's command runs: its id, flags and argv, so a
    /// script it runs that reads data makes its declared keys tracked.
    pub script_caller: Option<(u64, u32, Vec<Bytes>)>,
    /// Consecutive table-limit passes that could not get under the limit.
    pub limit_effort: u32,
}

impl Tracking {
    /// Number of clients with tracking enabled (INFO tracking_clients).
    pub fn clients(&self) -> usize {
        self.modes.len()
    }
}

/// CLIENT TRACKING ON: options are already validated.
pub fn enable(srv: &mut Server, c: &mut Client, redirect: u64, options: u32, prefixes: &[Bytes]) {
    let t = &mut srv.tracking;
    c.flags |= cflags::TRACKING;
    c.flags &= !(cflags::TRACKING_BROKEN_REDIR
        | cflags::TRACKING_BCAST
        | cflags::TRACKING_OPTIN
        | cflags::TRACKING_OPTOUT
        | cflags::TRACKING_NOLOOP);
    c.ext.tracking_redirect = redirect;
    t.initialized = true;
    if options & cflags::TRACKING_BCAST != 0 {
        c.flags |= cflags::TRACKING_BCAST;
        if prefixes.is_empty() {
            enable_prefix(t, c, b"");
        }
        for p in prefixes {
            enable_prefix(t, c, p);
        }
    }
    c.flags |=
        options & (cflags::TRACKING_OPTIN | cflags::TRACKING_OPTOUT | cflags::TRACKING_NOLOOP);
    t.modes.insert(c.id, c.flags & ALL_FLAGS);
}

fn enable_prefix(t: &mut Tracking, c: &mut Client, prefix: &[u8]) {
    let bs = t.prefixes.entry(prefix.to_vec()).or_default();
    if bs.clients.insert(c.id) {
        c.ext.tracking_prefixes.insert(prefix.to_vec());
    }
}

/// CLIENT TRACKING OFF, RESET, disconnect. Keys the client read stay in
/// the table until they change (ids are dropped lazily, as in Redis).
pub fn disable(srv: &mut Server, c: &mut Client) {
    let t = &mut srv.tracking;
    if c.has(cflags::TRACKING_BCAST) {
        for p in std::mem::take(&mut c.ext.tracking_prefixes) {
            if let Some(bs) = t.prefixes.get_mut(&p) {
                bs.clients.remove(&c.id);
                if bs.clients.is_empty() {
                    t.prefixes.remove(&p);
                }
            }
        }
    }
    if c.has(cflags::TRACKING) {
        t.modes.remove(&c.id);
        c.flags &= !ALL_FLAGS;
    }
}

/// The first prefix of `existing` that overlaps one of `new`, or two of
/// `new` overlapping each other: Redis's error text, else None.
pub fn prefix_collision(existing: &BTreeSet<Vec<u8>>, new: &[Bytes]) -> Option<String> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let show = |b: &[u8]| {
        // Redis prints the prefixes as C strings.
        let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Some(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(e)
            ));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Some(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(q)
            ));
        }
    }
    None
}

/// After a read-only command of tracking client `id` (flags `flags`):
/// remember the keys of `argv` as cached by it.
pub fn remember_keys(srv: &mut Server, id: u64, flags: u32, argv: &[Bytes]) {
    let optin = flags & cflags::TRACKING_OPTIN != 0;
    let optout = flags & cflags::TRACKING_OPTOUT != 0;
    let caching = flags & cflags::TRACKING_CACHING != 0;
    if (optin && !caching) || (optout && caching) {
        return;
    }
    let Some(cmd) = srv.commands.lookup(argv) else {
        return;
    };
    // Shard channels are keys for routing only: never tracked.
    if cmd.has(crate::commands::flags::PUBSUB) {
        return;
    }
    let t = &mut srv.tracking;
    for pos in cmd.key_positions(argv) {
        let Some(key) = argv.get(pos) else {
            continue;
        };
        let ids = match t.table.get_mut(&key[..]) {
            Some(ids) => ids,
            None => t.table.entry(key.to_vec()).or_default(),
        };
        if let Err(at) = ids.binary_search(&id) {
            ids.insert(at, id);
            t.total_items += 1;
        }
    }
}

/// A key changed (`by`: the client that changed it, 0 for none): clients
/// that may cache it get an invalidation and the key leaves the table.
/// `bcast` also records the change for broadcasting clients (false when
/// the table merely evicts the key).
pub fn invalidate_key(srv: &mut Server, key: &[u8], by: u64, bcast: bool) {
    let t = &mut srv.tracking;
    if !t.initialized {
        return;
    }
    if bcast && !t.prefixes.is_empty() {
        for (p, bs) in t.prefixes.iter_mut() {
            if key.starts_with(p) {
                bs.keys.insert(key.to_vec(), by);
            }
        }
    }
    let Some(ids) = t.table.remove(key) else {
        return;
    };
    t.total_items -= ids.len() as u64;
    let key = Bytes::copy_from_slice(key);
    for id in ids {
        let Some(&mode) = t.modes.get(&id) else {
            continue;
        };
        // Keys read before switching to BCAST mode are not reported.
        if mode & cflags::TRACKING_BCAST != 0 {
            continue;
        }
        if mode & cflags::TRACKING_NOLOOP != 0 && id == t.current_client {
            continue;
        }
        t.outbox.push((id, Msg::Key(key.clone())));
    }
}

/// A database was flushed: every tracking client is told that all keys
/// are invalid (a null), and the table is emptied.
pub fn invalidate_on_flush(srv: &mut Server) {
    let t = &mut srv.tracking;
    for &id in t.modes.keys() {
        t.outbox.push((id, Msg::Null));
    }
    if t.initialized {
        t.table = HashMap::new();
        t.total_items = 0;
    }
}

/// Keep the table within tracking-table-max-keys: forget keys (telling
/// their clients, as if they had changed) until under the limit. The
/// effort grows while a pass cannot get there.
pub fn limit_used_slots(srv: &mut Server) {
    if !srv.tracking.initialized {
        return;
    }
    let max = srv.config.get_i64("tracking-table-max-keys");
    if max <= 0 {
        return;
    }
    let max = max as usize;
    if srv.tracking.table.len() <= max {
        srv.tracking.limit_effort = 0;
        return;
    }
    let effort = 100 * (srv.tracking.limit_effort as usize + 1);
    // The map's order is random per process: a random sample of keys.
    let victims: Vec<Vec<u8>> = srv.tracking.table.keys().take(effort).cloned().collect();
    for k in victims {
        invalidate_key(srv, &k, 0, false);
        if srv.tracking.table.len() <= max {
            srv.tracking.limit_effort = 0;
            return;
        }
    }
    srv.tracking.limit_effort += 1;
}

/// RESP array of the keys in `keys`, leaving out those last modified by
/// `skip` (NOLOOP). None when nothing is left.
fn broadcast_reply(keys: &BTreeMap<Vec<u8>, u64>, skip: Option<u64>) -> Option<Bytes> {
    let count = match skip {
        None => keys.len(),
        Some(id) => keys.values().filter(|&&by| by != id).count(),
    };
    if count == 0 && skip.is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(count * 16 + 8);
    out.extend_from_slice(format!("*{count}\r\n").as_bytes());
    for (k, &by) in keys {
        if skip.is_some_and(|id| id == by) {
            continue;
        }
        out.extend_from_slice(format!("${}\r\n", k.len()).as_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(b"\r\n");
    }
    Some(Bytes::from(out))
}

/// Before the event loop sleeps: send broadcasting clients the keys
/// modified under their prefixes since last time.
pub fn broadcast(srv: &mut Server) {
    let t = &mut srv.tracking;
    if !t.initialized || t.modes.is_empty() || t.prefixes.is_empty() {
        return;
    }
    let Tracking {
        prefixes,
        modes,
        outbox,
        ..
    } = t;
    for bs in prefixes.values_mut() {
        if bs.keys.is_empty() {
            continue;
        }
        let proto = broadcast_reply(&bs.keys, None);
        for &id in &bs.clients {
            let noloop = modes
                .get(&id)
                .is_some_and(|m| m & cflags::TRACKING_NOLOOP != 0);
            let msg = if noloop {
                broadcast_reply(&bs.keys, Some(id))
            } else {
                proto.clone()
            };
            if let Some(m) = msg {
                outbox.push((id, Msg::Proto(m)));
            }
        }
        bs.keys.clear();
    }
}

/// The client with id `id`: the running one or one in the table.
fn pick<'a>(
    clients: &'a mut Clients,
    current: &'a mut Option<&mut Client>,
    id: u64,
) -> Option<&'a mut Client> {
    match current {
        Some(c) if c.id == id => Some(&mut **c),
        _ => clients.by_id(id),
    }
}

/// Write queued invalidations. `current` is the client whose command just
/// ran (out of the table), if any. Other clients given output are queued
/// for writing in `srv.flush_slots`.
pub fn deliver(srv: &mut Server, clients: &mut Clients, current: Option<&mut Client>) {
    if srv.tracking.outbox.is_empty() {
        return;
    }
    let mut current = current;
    let msgs = std::mem::take(&mut srv.tracking.outbox);
    for (id, msg) in msgs {
        send(srv, clients, &mut current, id, &msg);
    }
}

/// One invalidation for tracking client `id` (Redis's sendTrackingMessage).
fn send(
    srv: &mut Server,
    clients: &mut Clients,
    current: &mut Option<&mut Client>,
    id: u64,
    msg: &Msg,
) {
    let cur_id = current.as_ref().map(|c| c.id);
    let Some(c) = pick(clients, current, id) else {
        return;
    };
    let redirect = c.ext.tracking_redirect;
    let own_resp = c.reply.resp;
    let mut target_id = id;
    if redirect != 0 {
        let exists = cur_id == Some(redirect) || clients.by_id(redirect).is_some();
        if !exists {
            let Some(c) = pick(clients, current, id) else {
                return;
            };
            // Tell the client its invalidations have nowhere to go.
            c.flags |= cflags::TRACKING_BROKEN_REDIR;
            if c.reply.resp > 2 {
                let b = &mut c.reply.buf;
                b.extend_from_slice(b">2\r\n$21\r\ntracking-redir-broken\r\n");
                b.extend_from_slice(format!(":{redirect}\r\n").as_bytes());
                if cur_id != Some(id) {
                    srv.flush_slots.push(c.token);
                }
            }
            return;
        }
        target_id = redirect;
    }
    let Some(t) = pick(clients, current, target_id) else {
        return;
    };
    let pubsub = t.has(cflags::PUBSUB);
    let b = &mut t.reply.buf;
    if t.reply.resp > 2 {
        b.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
    } else if redirect != 0 && pubsub {
        b.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n");
        b.extend_from_slice(CHANNEL);
        b.extend_from_slice(b"\r\n");
    } else {
        // RESP2 without redirection: nowhere to send it.
        return;
    }
    match msg {
        Msg::Key(k) => {
            b.extend_from_slice(format!("*1\r\n${}\r\n", k.len()).as_bytes());
            b.extend_from_slice(k);
            b.extend_from_slice(b"\r\n");
        }
        Msg::Null => {
            // A null in the protocol of the tracking client, even when a
            // redirection target speaks another one (as Redis does).
            b.extend_from_slice(if own_resp > 2 { b"_\r\n" } else { b"$-1\r\n" });
        }
        Msg::Proto(p) => b.extend_from_slice(p),
    }
    if cur_id != Some(target_id) {
        srv.flush_slots.push(t.token);
    }
}

//! The master side: replicas attached with SYNC/PSYNC, the full resync
//! through a forked child, the command stream, REPLCONF, WAIT.
//!
//! A replica is a client with the SLAVE flag plus a `Replica` entry. Its
//! state follows Redis's: wait_bgsave (waiting for a child to start, then
//! for it to finish), send_bulk (the RDB is in its output buffer), online.
//! The stream is handed out by offset: each replica remembers up to which
//! offset it was fed, so whatever was fed before its snapshot was taken is
//! never sent twice.

use bytes::Bytes;
use tracing::{info, warn};

use super::Repl;
use crate::commands::Ctx;
use crate::server::client::cflags;
use crate::server::reactor::Reactor;
use crate::server::{Client, Clients, Server};

/// REPLCONF rdb-filter-only: what the snapshot leaves out.
pub const REQ_EXCLUDE_DATA: u8 = 1;
pub const REQ_EXCLUDE_FUNCTIONS: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RState {
    WaitBgsaveStart,
    WaitBgsaveEnd,
    SendBulk,
    Online,
    /// An rdb-only replica got its snapshot (closing).
    RdbTransmitted,
}

impl RState {
    /// As INFO shows it (replstateToString).
    pub fn name(self) -> &'static str {
        match self {
            RState::WaitBgsaveStart | RState::WaitBgsaveEnd => "wait_bgsave",
            RState::SendBulk => "send_bulk",
            RState::Online => "online",
            RState::RdbTransmitted => "",
        }
    }
}

/// What a replica told us with REPLCONF.
#[derive(Debug, Default, Clone)]
pub struct ReplConf {
    pub port: i64,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub rdb_only: bool,
    pub req: u8,
}

pub struct Replica {
    pub id: u64,
    pub slot: usize,
    /// Peer IP, used when the replica did not announce one.
    pub peer_ip: String,
    pub conf: ReplConf,
    pub state: RState,
    /// Came with SYNC (no +FULLRESYNC, no ACKs expected).
    pub pre_psync: bool,
    pub ack_off: i64,
    /// Unix seconds of the last ACK.
    pub ack_time: i64,
    /// Offset of the snapshot it is getting.
    pub initial_offset: i64,
    /// Stream offset it was handed up to.
    pub fed_upto: i64,
    /// Stream accumulated while its snapshot is produced or loaded.
    pub held: Vec<u8>,
    /// `held` is to be sent with the next delivery (the replica ACKed).
    pub release_held: bool,
    /// Its snapshot goes straight to its socket (diskless).
    pub socket: bool,
    /// Output position (client net_out) where its RDB payload ends.
    pub bulk_end: u64,
    /// Diskless: the stream starts with its next REPLCONF ACK.
    pub start_on_ack: bool,
    /// Diskless: an ACK came while the child was still running.
    pub acked: bool,
    /// Unix seconds when it asked for the sync.
    pub since: i64,
}

impl Replica {
    pub fn ip(&self) -> &str {
        self.conf.ip.as_deref().unwrap_or(&self.peer_ip)
    }

    /// "ip:port" as Redis logs a replica (replicationGetSlaveName).
    pub fn name(&self) -> String {
        let ip = self.ip();
        let ip = if ip.contains(':') {
            format!("[{}]", ip)
        } else {
            ip.to_string()
        };
        if self.conf.port != 0 {
            format!("{}:{}", ip, self.conf.port)
        } else {
            format!("{}:<unknown-replica-port>", ip)
        }
    }
}

/// A client blocked in WAIT.
pub struct Waiter {
    pub id: u64,
    pub slot: usize,
    pub offset: i64,
    pub numreplicas: i64,
    /// Unix ms, 0 = forever.
    pub deadline: i64,
}

/// The RDB child serving replicas.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    pub pid: i32,
    pub socket: bool,
}

fn now_secs() -> i64 {
    crate::util::mstime() / 1000
}

/// The IP part of "ip:port" / "[ip6]:port".
fn peer_ip(addr: &str) -> String {
    let host = match addr.rfind(':') {
        Some(i) => &addr[..i],
        None => addr,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

impl Repl {
    fn replica_mut(&mut self, id: u64) -> Option<&mut Replica> {
        self.replicas.iter_mut().find(|r| r.id == id)
    }

    /// Online replicas that acknowledged `offset`.
    pub fn count_acks(&self, offset: i64) -> i64 {
        self.replicas
            .iter()
            .filter(|r| r.state == RState::Online && r.ack_off >= offset)
            .count() as i64
    }

    /// Online replicas whose last ACK is at most `max_lag` seconds old
    /// (min-replicas-to-write counts them).
    pub fn good_replicas(&self, max_lag: i64) -> usize {
        let now = now_secs();
        self.replicas
            .iter()
            .filter(|r| r.state == RState::Online && now - r.ack_time <= max_lag)
            .count()
    }
}

/// Every replica is disconnected (they must resync with us).
pub fn disconnect_replicas(srv: &mut Server) {
    for r in &srv.repl.replicas {
        srv.kill_ids.push(r.id);
    }
}

// ------------------------------------------------------------ SYNC / PSYNC

/// SYNC and PSYNC <replid> <offset>.
pub fn sync_command(ctx: &mut Ctx, argv: &[Bytes]) {
    if ctx.client.has(cflags::SLAVE) {
        return;
    }
    let psync = argv[0].eq_ignore_ascii_case(b"psync");
    if psync && argv.len() > 3 && argv[3].eq_ignore_ascii_case(b"failover") {
        warn!(
            "Failover request received for replid {}.",
            String::from_utf8_lossy(&argv[1])
        );
        if ctx.srv.repl.link.is_none() {
            ctx.error("ERR PSYNC FAILOVER can't be sent to a master.");
            return;
        }
        if !argv[1].eq_ignore_ascii_case(ctx.srv.repl.replid.as_bytes()) {
            ctx.error("ERR PSYNC FAILOVER replid must match my replid.");
            return;
        }
        super::replica::unset_master(ctx.srv);
        let who = ctx.client.info_line(ctx.now);
        info!("MASTER MODE enabled (failover request from '{}')", who);
    }
    if let Some(l) = &ctx.srv.repl.link {
        if l.state != super::replica::LinkState::Connected {
            ctx.error("NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
    }
    if ctx.client.pending_output() > 0 {
        ctx.error("ERR SYNC and PSYNC are invalid with pending output");
        return;
    }
    let id = ctx.client.id;
    let conf = ctx.srv.repl.conf.get(&id).cloned().unwrap_or_default();
    if conf.req != 0 && !conf.capa_eof {
        ctx.error("ERR Filtered replica requires EOF capability");
        return;
    }
    let mut rep = Replica {
        id,
        slot: ctx.client.token,
        peer_ip: peer_ip(&ctx.client.addr),
        conf,
        state: RState::WaitBgsaveStart,
        pre_psync: !psync,
        ack_off: 0,
        ack_time: now_secs(),
        initial_offset: 0,
        fed_upto: 0,
        held: Vec::new(),
        release_held: false,
        socket: false,
        bulk_end: 0,
        start_on_ack: false,
        acked: false,
        since: now_secs(),
    };
    info!("Replica {} asks for synchronization", rep.name());
    if psync {
        let Some(offset) = crate::util::parse_i64(&argv[2]) else {
            warn!(
                "Replica {} asks for synchronization but with a wrong offset",
                rep.name()
            );
            ctx.not_int();
            return;
        };
        rep = match try_partial_resync(ctx, rep, &argv[1], offset) {
            Ok(()) => {
                ctx.srv.repl.stat_sync_partial_ok += 1;
                return;
            }
            Err(rep) => *rep,
        };
        if !argv[1].starts_with(b"?") {
            ctx.srv.repl.stat_sync_partial_err += 1;
        }
    }
    let srv = &mut *ctx.srv;
    srv.repl.conf.remove(&id);
    srv.repl.stat_sync_full += 1;
    ctx.client.flags |= cflags::SLAVE;
    if srv.config.get_bool("repl-disable-tcp-nodelay") {
        if let crate::server::Conn::Tcp(s) = &ctx.client.conn {
            let _ = s.set_nodelay(false);
        }
    }
    if srv.repl.backlog.is_none() && srv.repl.replicas.is_empty() {
        // A new history: nobody can continue an older one from us.
        srv.repl.change_replid();
        srv.repl.clear_replid2();
        srv.repl
            .create_backlog(srv.config.get_i64("repl-backlog-size"));
        info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            srv.repl.replid, srv.repl.replid2
        );
    }
    let child = srv.repl.child;
    let child_running = srv.persist.child_pid != -1;
    if child_running && srv.persist.child_type == crate::persistence::ChildType::Rdb {
        match child {
            Some(c) if !c.socket => {
                // Attach to a replica already registering differences
                // since this child forked, if it needs no more than we do.
                let other = srv.repl.replicas.iter().find(|o| {
                    o.state == RState::WaitBgsaveEnd
                        && (!o.conf.rdb_only || rep.conf.rdb_only)
                        && (!o.conf.capa_eof || rep.conf.capa_eof)
                        && (!o.conf.capa_psync2 || rep.conf.capa_psync2)
                        && o.conf.req == rep.conf.req
                });
                if let Some(o) = other {
                    if !rep.conf.rdb_only {
                        rep.held = o.held.clone();
                    }
                    rep.initial_offset = o.initial_offset;
                    rep.fed_upto = o.fed_upto;
                    rep.state = RState::WaitBgsaveEnd;
                    if !rep.pre_psync {
                        let line =
                            format!("+FULLRESYNC {} {}\r\n", srv.repl.replid, rep.initial_offset);
                        ctx.client.reply.raw(line.as_bytes());
                    }
                    info!("Waiting for end of BGSAVE for SYNC");
                } else {
                    info!("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
                }
            }
            Some(_) => {
                info!("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
            }
            None => {
                info!("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
            }
        }
    } else if srv.config.get_bool("repl-diskless-sync")
        && rep.conf.capa_eof
        && srv.config.get_i64("repl-diskless-sync-delay") > 0
    {
        info!("Delay next BGSAVE for diskless SYNC");
    } else if child_running {
        info!("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed");
    }
    srv.repl.replicas.push(rep);
    srv.repl.fork_pending = true;
}

/// PSYNC: continue from `offset` if our history has it.
fn try_partial_resync(
    ctx: &mut Ctx,
    mut rep: Replica,
    replid: &[u8],
    offset: i64,
) -> Result<(), Box<Replica>> {
    let repl = &ctx.srv.repl;
    let asked = String::from_utf8_lossy(replid).into_owned();
    let is1 = asked.eq_ignore_ascii_case(&repl.replid);
    let is2 = asked.eq_ignore_ascii_case(&repl.replid2);
    if !is1 && (!is2 || offset > repl.second_replid_offset) {
        if asked.starts_with('?') {
            info!("Full resync requested by replica {}", rep.name());
        } else if !is1 && !is2 {
            info!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                asked, repl.replid, repl.replid2
            );
        } else {
            info!(
                "Partial resynchronization not accepted: Requested offset for second ID was {}, but I can reply up to {}",
                offset, repl.second_replid_offset
            );
        }
        return Err(Box::new(rep));
    }
    let covered = repl.backlog.as_ref().is_some_and(|b| b.covers(offset));
    if !covered {
        info!(
            "Unable to partial resync with replica {} for lack of backlog (Replica request was: {}).",
            rep.name(),
            offset
        );
        if offset > repl.master_repl_offset {
            warn!(
                "Warning: replica {} tried to PSYNC with an offset that is greater than the master replication offset.",
                rep.name()
            );
        }
        return Err(Box::new(rep));
    }
    let data = repl
        .backlog
        .as_ref()
        .map(|b| b.copy_from(offset))
        .unwrap_or_default();
    let line = if rep.conf.capa_psync2 {
        format!("+CONTINUE {}\r\n", repl.replid)
    } else {
        "+CONTINUE\r\n".to_string()
    };
    let srv = &mut *ctx.srv;
    ctx.client.flags |= cflags::SLAVE;
    ctx.client.reply.raw(line.as_bytes());
    ctx.client.reply.raw(&data);
    srv.repl.net_repl_output += data.len() as u64;
    info!(
        "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {}.",
        rep.name(),
        data.len(),
        offset
    );
    srv.repl.conf.remove(&rep.id);
    rep.state = RState::Online;
    rep.ack_time = now_secs();
    rep.fed_upto = srv.repl.master_repl_offset;
    srv.repl.replicas.push(rep);
    Ok(())
}

// ------------------------------------------------------------ REPLCONF

/// REPLCONF <option> <value> ...
pub fn replconf_command(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len().is_multiple_of(2) {
        ctx.syntax_error();
        return;
    }
    let id = ctx.client.id;
    let mut i = 1;
    while i < argv.len() {
        let opt = crate::util::lower_str(&argv[i]);
        let val = &argv[i + 1];
        i += 2;
        match opt.as_str() {
            "listening-port" => {
                let Some(port) = ctx.int_arg(val) else {
                    return;
                };
                conf_mut(&mut ctx.srv.repl, id).port = port;
            }
            "ip-address" => {
                if val.len() >= 256 {
                    let msg = format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        val.len()
                    );
                    ctx.error(&msg);
                    return;
                }
                conf_mut(&mut ctx.srv.repl, id).ip = Some(String::from_utf8_lossy(val).into());
            }
            "capa" => {
                let c = conf_mut(&mut ctx.srv.repl, id);
                if val.eq_ignore_ascii_case(b"eof") {
                    c.capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    c.capa_psync2 = true;
                }
            }
            "ack" => {
                // From a replica: how much of the stream it processed. No reply.
                if !ctx.client.has(cflags::SLAVE) {
                    return;
                }
                let Some(off) = crate::util::parse_i64(val) else {
                    return;
                };
                let repl = &mut ctx.srv.repl;
                let Some(r) = repl.replica_mut(id) else {
                    return;
                };
                if off > r.ack_off {
                    r.ack_off = off;
                }
                r.ack_time = now_secs();
                if r.state == RState::WaitBgsaveEnd && r.socket {
                    r.acked = true;
                }
                if r.start_on_ack && r.state == RState::Online {
                    start_stream(r, ctx.client);
                }
                return;
            }
            "getack" => {
                // From our master: ACK right away. No reply.
                super::replica::send_ack_now(ctx.srv, ctx.client);
                return;
            }
            "rdb-only" => {
                let v = match crate::util::parse_i64(val) {
                    Some(v @ 0..=1) => v,
                    _ => {
                        ctx.error("ERR value is out of range, value must between 0 and 1");
                        return;
                    }
                };
                conf_mut(&mut ctx.srv.repl, id).rdb_only = v == 1;
            }
            "rdb-filter-only" => {
                let Some(filters) = crate::protocol::parse::split_args(val) else {
                    ctx.error("ERR Missing rdb-filter-only values");
                    return;
                };
                let mut req = REQ_EXCLUDE_DATA | REQ_EXCLUDE_FUNCTIONS;
                for f in &filters {
                    if f.eq_ignore_ascii_case(b"functions") {
                        req &= !REQ_EXCLUDE_FUNCTIONS;
                    } else {
                        let msg = format!(
                            "ERR Unsupported rdb-filter-only option: {}",
                            String::from_utf8_lossy(f)
                        );
                        ctx.error(&msg);
                        return;
                    }
                }
                conf_mut(&mut ctx.srv.repl, id).req |= req;
            }
            _ => {
                let msg = format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(&argv[i - 2])
                );
                ctx.error(&msg);
                return;
            }
        }
    }
    ctx.reply().ok();
}

fn conf_mut(repl: &mut Repl, id: u64) -> &mut ReplConf {
    if let Some(i) = repl.replicas.iter().position(|r| r.id == id) {
        return &mut repl.replicas[i].conf;
    }
    repl.conf.entry(id).or_default()
}

/// The replica loaded its snapshot: send what accumulated since.
/// The held stream goes out with the next delivery, not as part of the
/// ACK's handling: a replica's command must not produce output.
fn start_stream(r: &mut Replica, _c: &mut Client) {
    r.start_on_ack = false;
    r.release_held = true;
}

// ------------------------------------------------------------ WAIT / ROLE

/// WAIT numreplicas timeout.
pub fn wait_command(ctx: &mut Ctx, argv: &[Bytes]) {
    if ctx.srv.repl.link.is_some() {
        ctx.error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        return;
    }
    let Some(num) = ctx.int_arg(&argv[1]) else {
        return;
    };
    let timeout = match crate::util::parse_i64(&argv[2]) {
        Some(t) if t < 0 => {
            ctx.error("ERR timeout is negative");
            return;
        }
        Some(t) => t,
        None => {
            ctx.error("ERR timeout is not an integer or out of range");
            return;
        }
    };
    // Everything written so far must be acknowledged.
    let offset = ctx.srv.repl.master_repl_offset;
    let acked = ctx.srv.repl.count_acks(offset);
    if acked >= num || ctx.client.has(cflags::MULTI) {
        ctx.reply().int(acked);
        return;
    }
    ctx.client.flags |= cflags::BLOCKED;
    ctx.srv.repl.waiting.push(Waiter {
        id: ctx.client.id,
        slot: ctx.client.token,
        offset,
        numreplicas: num,
        deadline: if timeout > 0 {
            ctx.now.saturating_add(timeout)
        } else {
            0
        },
    });
    ctx.srv.repl.get_ack = true;
}

/// ROLE as a master: offset and the online replicas.
pub fn role_reply(srv: &Server, r: &mut crate::protocol::Reply) {
    let online: Vec<&Replica> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == RState::Online)
        .collect();
    r.array(3);
    r.bulk(b"master");
    r.int(srv.repl.master_repl_offset);
    r.array(online.len());
    for rep in online {
        r.array(3);
        r.bulk(rep.ip().as_bytes());
        r.bulk(rep.conf.port.to_string().as_bytes());
        r.bulk(rep.ack_off.to_string().as_bytes());
    }
}

// ------------------------------------------------------------ the stream

/// Hand the stream fed since the last call to the replicas.
pub fn deliver(srv: &mut Server, clients: &mut Clients) -> Vec<usize> {
    let repl = &mut srv.repl;
    let mut slots = Vec::new();
    for r in repl.replicas.iter_mut().filter(|r| r.release_held) {
        r.release_held = false;
        if let Some(c) = clients.by_id(r.id) {
            repl.net_repl_output += r.held.len() as u64;
            c.reply.buf.extend_from_slice(&r.held);
            slots.push(c.token);
        }
        r.held = Vec::new();
    }
    if repl.out.is_empty() {
        return slots;
    }
    let out = std::mem::take(&mut repl.out);
    let start = repl.out_start;
    let end = start + out.len() as i64;
    for r in repl.replicas.iter_mut() {
        if r.conf.rdb_only {
            continue;
        }
        let from = r.fed_upto.max(start);
        if from >= end {
            continue;
        }
        let chunk = &out[(from - start) as usize..];
        r.fed_upto = end;
        match r.state {
            RState::WaitBgsaveStart | RState::RdbTransmitted => {}
            RState::WaitBgsaveEnd => r.held.extend_from_slice(chunk),
            RState::Online if r.start_on_ack => r.held.extend_from_slice(chunk),
            RState::SendBulk | RState::Online => {
                if let Some(c) = clients.by_id(r.id) {
                    c.reply.buf.extend_from_slice(chunk);
                    slots.push(c.token);
                    repl.net_repl_output += chunk.len() as u64;
                }
            }
        }
    }
    repl.out = out;
    repl.out.clear();
    slots
}

/// A command of a replica produced a reply (it would corrupt the stream
/// the replica reads): drop the reply and the replica, as Redis does.
pub fn replica_replied(srv: &mut Server, c: &mut Client, mark: usize, name: Option<String>) {
    if c.reply.buf.len() <= mark || c.has(cflags::MONITOR) {
        return;
    }
    let name = name.unwrap_or_else(|| "<unknown>".to_string());
    let from = mark.max(c.sent);
    if c.reply.buf.get(from) == Some(&b'-') {
        let end = memchr::memchr(b'\r', &c.reply.buf[from..]).unwrap_or(1);
        warn!(
            "== CRITICAL == This master is sending an error to its replica: '{}' after processing the command '{}'",
            String::from_utf8_lossy(&c.reply.buf[from + 1..from + end.max(1)]),
            name
        );
        srv.stats.unexpected_error_replies += 1;
    }
    c.reply.buf.truncate(from);
    warn!(
        "Replica generated a reply to command '{}', disconnecting it: {}",
        name,
        c.info_line(crate::util::mstime())
    );
    c.flags |= cflags::CLOSE_ASAP;
}

/// Before sleeping: start a full resync, wake WAIT clients, GETACK.
pub fn before_sleep(r: &mut Reactor) {
    if r.srv.repl.fork_pending {
        maybe_start_fork(r);
    }
    if !r.srv.repl.waiting.is_empty() {
        process_waiting(r);
    }
    if r.srv.repl.get_ack {
        let paused = r.srv.pause_kind.is_some() && crate::util::mstime() < r.srv.pause_until;
        if !paused {
            send_getack(&mut r.srv);
        }
    }
}

/// Ask every replica for its offset (REPLCONF GETACK *).
pub fn send_getack(srv: &mut Server) {
    srv.repl.get_ack = false;
    let db = srv.repl.slaveseldb;
    srv.repl.feed_command(
        db,
        &[
            Bytes::from_static(b"REPLCONF"),
            Bytes::from_static(b"GETACK"),
            Bytes::from_static(b"*"),
        ],
    );
}

/// Reply to the WAIT clients that have their ACKs or timed out.
fn process_waiting(r: &mut Reactor) {
    let now = crate::util::mstime();
    let mut i = 0;
    while i < r.srv.repl.waiting.len() {
        let w = &r.srv.repl.waiting[i];
        let count = r.srv.repl.count_acks(w.offset);
        if count < w.numreplicas && (w.deadline == 0 || now < w.deadline) {
            i += 1;
            continue;
        }
        let w = r.srv.repl.waiting.remove(i);
        let resume = match r.clients.get_mut(w.slot) {
            Some(c) if c.id == w.id && c.has(cflags::BLOCKED) => {
                c.flags &= !cflags::BLOCKED;
                c.reply.int(count);
                true
            }
            _ => false,
        };
        if resume {
            r.process_input(w.slot);
            r.srv.flush_slots.push(w.slot);
        }
    }
}

/// Start the BGSAVE replicas wait for, when no child runs (and, for a
/// diskless sync, once repl-diskless-sync-delay passed).
fn maybe_start_fork(r: &mut Reactor) {
    let srv = &mut r.srv;
    if srv.persist.child_pid != -1 {
        return;
    }
    let waiting: Vec<&Replica> = srv
        .repl
        .replicas
        .iter()
        .filter(|x| x.state == RState::WaitBgsaveStart)
        .collect();
    let Some(first) = waiting.first() else {
        srv.repl.fork_pending = false;
        return;
    };
    let req = first.conf.req;
    let now = now_secs();
    let mut count = 0;
    let mut max_idle = 0;
    let mut eof = true;
    for w in waiting.iter().filter(|w| w.conf.req == req) {
        count += 1;
        max_idle = max_idle.max(now - w.since);
        eof &= w.conf.capa_eof;
    }
    let diskless = srv.config.get_bool("repl-diskless-sync");
    let max = srv.config.get_i64("repl-diskless-sync-max-replicas");
    let delay = srv.config.get_i64("repl-diskless-sync-delay");
    if diskless && !(max > 0 && count >= max) && max_idle < delay {
        return;
    }
    let socket = (diskless || req != 0) && eof;
    start_bgsave_for_replication(r, socket, req);
}

/// Fork the child producing the snapshot for the waiting replicas whose
/// requirements are `req` (startBgsaveForReplication).
fn start_bgsave_for_replication(r: &mut Reactor, socket: bool, req: u8) {
    info!(
        "Starting BGSAVE for SYNC with target: {}",
        if socket { "replicas sockets" } else { "disk" }
    );
    let srv = &mut r.srv;
    let offset = srv.repl.master_repl_offset;
    let stream_db = match &srv.repl.link {
        Some(l) => l
            .client
            .and_then(|(_, slot)| r.clients.get(slot))
            .map(|c| c.db)
            .or(srv.repl.cached.as_ref().map(|c| c.db))
            .unwrap_or(0),
        None => srv.repl.slaveseldb.unwrap_or(0),
    };
    let replid = srv.repl.replid.clone();
    let mut ids = Vec::new();
    let mut targets: Vec<(i32, Vec<u8>)> = Vec::new();
    for rep in srv.repl.replicas.iter_mut() {
        if rep.state != RState::WaitBgsaveStart || rep.conf.req != req {
            continue;
        }
        rep.state = RState::WaitBgsaveEnd;
        rep.initial_offset = offset;
        rep.fed_upto = offset;
        rep.socket = socket;
        rep.held.clear();
        rep.acked = false;
        ids.push(rep.id);
        let Some(c) = r.clients.by_id(rep.id) else {
            continue;
        };
        if !rep.pre_psync {
            c.reply
                .raw(format!("+FULLRESYNC {} {}\r\n", replid, offset).as_bytes());
        }
        if socket {
            // The child writes to the socket from now on: what the
            // replica has not received yet goes first, through it.
            let _ = c.flush();
            let rest = c.reply.buf[c.sent..].to_vec();
            c.reply.buf.clear();
            c.sent = 0;
            targets.push((c.conn.fd(), rest));
        } else {
            srv.flush_slots.push(c.token);
        }
    }
    // The stream after the snapshot starts with a SELECT.
    srv.repl.slaveseldb = None;
    srv.repl.fork_pending = srv
        .repl
        .replicas
        .iter()
        .any(|x| x.state == RState::WaitBgsaveStart);
    if ids.is_empty() {
        return;
    }
    let mark = crate::util::random_hex(40);
    let start = std::time::Instant::now();
    // SAFETY: single-threaded server; the child only serializes memory it
    // inherited, writes it out and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        warn!("BGSAVE for replication failed");
        for id in ids {
            if let Some(c) = r.clients.by_id(id) {
                c.flags &= !cflags::SLAVE;
                c.reply
                    .error_raw("ERR BGSAVE failed, replication can't continue");
                c.flags |= cflags::CLOSE_AFTER_REPLY;
                let s = c.token;
                r.srv.flush_slots.push(s);
            }
            r.srv.repl.replicas.retain(|x| x.id != id);
        }
        return;
    }
    if pid == 0 {
        // The child must not keep the listeners open past our exit.
        crate::server::reactor::close_listeners(&r.srv, false);
        child_main(
            &r.srv, socket, req, stream_db, &replid, offset, &mark, targets,
        );
    }
    let srv = &mut r.srv;
    srv.persist.last_fork_usec = start.elapsed().as_micros() as i64;
    srv.persist.total_forks += 1;
    srv.persist.child_pid = pid;
    srv.persist.child_type = crate::persistence::ChildType::Rdb;
    srv.persist.child_start = crate::util::mstime();
    srv.persist.dirty_at_fork = srv.dirty;
    srv.repl.child = Some(Child { pid, socket });
    if socket {
        info!("Background RDB transfer started by pid {}", pid);
    } else {
        info!("Background saving started by pid {}", pid);
    }
}

/// The forked child: write the snapshot to the dump file or the sockets.
#[allow(clippy::too_many_arguments)]
fn child_main(
    srv: &Server,
    socket: bool,
    req: u8,
    stream_db: usize,
    replid: &str,
    offset: i64,
    mark: &str,
    targets: Vec<(i32, Vec<u8>)>,
) -> ! {
    if let Ok(mut r) = crate::server::log::ROLE.lock() {
        *r = 'C';
    }
    let img = replication_image(srv, req, stream_db, replid, offset);
    let ok = if socket {
        // SAFETY: ask for SIGKILL if the parent dies mid-transfer.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        let mut payload = Vec::with_capacity(img.len() + 100);
        payload.extend_from_slice(format!("$EOF:{}\r\n", mark).as_bytes());
        payload.extend_from_slice(&img);
        payload.extend_from_slice(mark.as_bytes());
        let timeout = srv.config.get_i64("repl-timeout").clamp(1, 1 << 20) as i32 * 1000;
        write_to_sockets(targets, &payload, timeout)
    } else {
        match crate::persistence::write_atomically(&crate::persistence::rdb_path(srv), &img) {
            Ok(()) => {
                info!("DB saved on disk");
                true
            }
            Err(e) => {
                warn!("Write error saving DB on disk: {}", e);
                false
            }
        }
    };
    // SAFETY: leave without running the parent's destructors.
    unsafe { libc::_exit(if ok { 0 } else { 1 }) }
}

/// The RDB image for replicas, with the replication aux fields Redis adds
/// (repl-stream-db lets a chained replica know the stream's database).
fn replication_image(
    srv: &Server,
    req: u8,
    stream_db: usize,
    replid: &str,
    offset: i64,
) -> Vec<u8> {
    use crate::persistence::rdb;
    let mut img = if req & REQ_EXCLUDE_DATA != 0 {
        let funcs: Vec<Vec<u8>> = if req & REQ_EXCLUDE_FUNCTIONS != 0 {
            Vec::new()
        } else {
            srv.functions
                .libraries
                .values()
                .map(|l| l.code.clone())
                .collect()
        };
        let opt = rdb::DumpOptions {
            compress: srv.config.get_bool("rdbcompression"),
            checksum: srv.config.get_bool("rdbchecksum"),
            ..Default::default()
        };
        rdb::dump(&[], &funcs, &opt)
    } else {
        crate::persistence::image(srv, false)
    };
    let mut w = rdb::Writer::new(false, 0);
    for (k, v) in [
        ("repl-stream-db", stream_db.to_string()),
        ("repl-id", replid.to_string()),
        ("repl-offset", offset.to_string()),
    ] {
        w.buf.push(250);
        w.string(k.as_bytes());
        w.string(v.as_bytes());
    }
    if img.len() >= 17 {
        img.splice(9..9, w.buf);
        let n = img.len();
        let had_crc = img[n - 8..] != [0u8; 8];
        if had_crc {
            let crc = rdb::crc64(&img[..n - 8]);
            img[n - 8..].copy_from_slice(&crc.to_le_bytes());
        }
    }
    img
}

/// Write each target's pending bytes then `payload` to its socket.
/// True when at least one replica got everything.
fn write_to_sockets(targets: Vec<(i32, Vec<u8>)>, payload: &[u8], timeout_ms: i32) -> bool {
    struct T {
        fd: i32,
        prefix: Vec<u8>,
        pos: usize,
        alive: bool,
    }
    let mut ts: Vec<T> = targets
        .into_iter()
        .map(|(fd, prefix)| T {
            fd,
            prefix,
            pos: 0,
            alive: fd >= 0,
        })
        .collect();
    loop {
        let pending: Vec<usize> = (0..ts.len())
            .filter(|&i| ts[i].alive && ts[i].pos < ts[i].prefix.len() + payload.len())
            .collect();
        if pending.is_empty() {
            break;
        }
        let mut pfds: Vec<libc::pollfd> = pending
            .iter()
            .map(|&i| libc::pollfd {
                fd: ts[i].fd,
                events: libc::POLLOUT,
                revents: 0,
            })
            .collect();
        // SAFETY: poll on a valid array of pollfd.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if n == 0 {
            break;
        }
        for (k, &i) in pending.iter().enumerate() {
            if pfds[k].revents == 0 {
                continue;
            }
            let t = &mut ts[i];
            let total = t.prefix.len() + payload.len();
            while t.pos < total {
                let buf = if t.pos < t.prefix.len() {
                    &t.prefix[t.pos..]
                } else {
                    &payload[t.pos - t.prefix.len()..]
                };
                let len = buf.len().min(1 << 20);
                // SAFETY: writing from a live buffer to our socket.
                let w = unsafe { libc::write(t.fd, buf.as_ptr() as *const libc::c_void, len) };
                if w > 0 {
                    t.pos += w as usize;
                    continue;
                }
                let e = std::io::Error::last_os_error();
                match e.kind() {
                    std::io::ErrorKind::WouldBlock => break,
                    std::io::ErrorKind::Interrupted => continue,
                    _ => {
                        t.alive = false;
                        break;
                    }
                }
            }
        }
    }
    ts.iter()
        .any(|t| t.alive && t.pos == t.prefix.len() + payload.len())
}

/// The RDB child ended (persistence reaped it). Returns true for a
/// diskless transfer (nothing was written to the dump file).
pub fn rdb_child_done(srv: &mut Server, pid: i32, ok: bool, signal: Option<i32>) -> bool {
    let Some(child) = srv.repl.child.filter(|c| c.pid == pid) else {
        return false;
    };
    srv.repl.child = None;
    srv.repl.child_done = Some(ok);
    if child.socket {
        if ok {
            info!("Background RDB transfer terminated with success");
        } else if let Some(sig) = signal {
            warn!("Background transfer terminated by signal {}", sig);
        } else {
            warn!("Background transfer error");
        }
    }
    child.socket
}

/// Periodic work at every cron tick.
pub fn cron(r: &mut Reactor) {
    if let Some(ok) = r.srv.repl.child_done.take() {
        update_waiting_bgsave(r, ok);
    }
    // Disk-based full resync: online once the payload left.
    let mut i = 0;
    while i < r.srv.repl.replicas.len() {
        let rep = &r.srv.repl.replicas[i];
        if rep.state == RState::SendBulk {
            let id = rep.id;
            let sent = r.clients.by_id(id).map(|c| c.net_out).unwrap_or(0);
            if sent >= rep.bulk_end {
                let rep = &mut r.srv.repl.replicas[i];
                put_online(rep, r.clients.by_id(id));
            }
        }
        i += 1;
    }
    if r.srv.repl.fork_pending {
        maybe_start_fork(r);
    }
}

/// The replica has its snapshot (replicaPutOnline). False for an rdb-only
/// replica, which is closed.
fn put_online(rep: &mut Replica, c: Option<&mut Client>) -> bool {
    if rep.conf.rdb_only {
        rep.state = RState::RdbTransmitted;
        info!(
            "RDB transfer completed, rdb only replica ({}) should be disconnected asap",
            rep.name()
        );
        if let Some(c) = c {
            c.flags |= cflags::CLOSE_AFTER_REPLY;
        }
        return false;
    }
    rep.state = RState::Online;
    rep.ack_time = now_secs();
    info!("Synchronization with replica {} succeeded", rep.name());
    true
}

/// The child for the waiting replicas ended (updateSlavesWaitingBgsave).
fn update_waiting_bgsave(r: &mut Reactor, ok: bool) {
    let srv = &mut r.srv;
    let path = crate::persistence::rdb_path(srv);
    let mut file: Option<Result<Vec<u8>, String>> = None;
    for rep in srv.repl.replicas.iter_mut() {
        if rep.state != RState::WaitBgsaveEnd {
            continue;
        }
        let Some(c) = r.clients.by_id(rep.id) else {
            continue;
        };
        srv.flush_slots.push(c.token);
        if !ok {
            warn!("SYNC failed. BGSAVE child returned an error");
            c.flags |= cflags::CLOSE_ASAP;
            continue;
        }
        if rep.socket {
            info!(
                "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming",
                rep.name()
            );
            if put_online(rep, Some(&mut *c)) {
                rep.start_on_ack = true;
                if rep.acked {
                    start_stream(rep, c);
                }
            }
            continue;
        }
        let data = file.get_or_insert_with(|| std::fs::read(&path).map_err(|e| e.to_string()));
        match data {
            Ok(d) => {
                c.reply.raw(format!("${}\r\n", d.len()).as_bytes());
                c.reply.raw(d);
                srv.repl.net_repl_output += d.len() as u64;
                rep.bulk_end = c.net_out + c.pending_output() as u64;
                rep.state = RState::SendBulk;
                c.reply.raw(&rep.held);
                rep.held = Vec::new();
                if rep.conf.rdb_only {
                    c.flags |= cflags::CLOSE_AFTER_REPLY;
                }
            }
            Err(e) => {
                warn!("SYNC failed. Can't open/stat DB after BGSAVE: {}", e);
                c.flags |= cflags::CLOSE_ASAP;
            }
        }
    }
    r.srv.repl.fork_pending = true;
}

/// Once a second: PING the replicas, keep waiting ones alive, drop timed
/// out ones, free an unused backlog.
pub fn cron_1hz(r: &mut Reactor) {
    let srv = &mut r.srv;
    let now = now_secs();
    if let Some(b) = srv.repl.backlog.as_mut() {
        let size = srv.config.get_i64("repl-backlog-size").max(0) as usize;
        if size.max(super::backlog::MIN_SIZE) != b.size {
            b.resize(size);
        }
    }
    if srv.repl.replicas.is_empty() {
        let ttl = srv.config.get_i64("repl-backlog-ttl");
        if ttl > 0
            && srv.repl.backlog.is_some()
            && srv.repl.link.is_none()
            && now - srv.repl.no_replicas_since > ttl
        {
            srv.repl.change_replid();
            srv.repl.clear_replid2();
            srv.repl.backlog = None;
            info!(
                "Replication backlog freed after {} seconds without connected replicas.",
                ttl
            );
        }
        return;
    }
    let period = srv.config.get_i64("repl-ping-replica-period").max(1) as u64;
    if srv.repl.cron_loops.is_multiple_of(period) && srv.repl.link.is_none() {
        let db = srv.repl.slaveseldb;
        srv.repl.feed_command(db, &[Bytes::from_static(b"PING")]);
    }
    let timeout = srv.config.get_i64("repl-timeout");
    for rep in &srv.repl.replicas {
        let Some(c) = r.clients.by_id(rep.id) else {
            continue;
        };
        let presync = rep.state == RState::WaitBgsaveStart
            || (rep.state == RState::WaitBgsaveEnd && !rep.socket);
        if presync {
            c.reply.buf.push(b'\n');
            srv.flush_slots.push(c.token);
        }
        if rep.state == RState::Online && !rep.pre_psync && now - rep.ack_time > timeout {
            warn!(
                "Disconnecting timedout replica (streaming sync): {}",
                rep.name()
            );
            c.flags |= cflags::CLOSE_ASAP;
            srv.flush_slots.push(c.token);
        }
    }
}

/// A client closes: it is no longer a replica nor waiting.
pub fn on_client_close(srv: &mut Server, c: &mut Client) {
    let repl = &mut srv.repl;
    repl.conf.remove(&c.id);
    if !repl.waiting.is_empty() {
        repl.waiting.retain(|w| w.id != c.id);
    }
    let Some(i) = repl.replicas.iter().position(|r| r.id == c.id) else {
        return;
    };
    let rep = repl.replicas.remove(i);
    warn!("Connection with replica {} lost.", rep.name());
    if repl.replicas.is_empty() {
        repl.no_replicas_since = now_secs();
    }
    if let Some(ch) = repl.child {
        let waiting = repl
            .replicas
            .iter()
            .any(|r| r.state == RState::WaitBgsaveEnd && r.socket == ch.socket);
        if ch.socket && !waiting && rep.state == RState::WaitBgsaveEnd {
            warn!("Diskless rdb transfer, last replica dropped, killing fork child.");
            // SAFETY: signalling our own child.
            unsafe { libc::kill(ch.pid, libc::SIGUSR1) };
        } else if !ch.socket
            && !waiting
            && !crate::persistence::has_save_points(srv)
            && srv.aof.state == crate::persistence::aof::AofState::Off
        {
            // Nobody needs the file it writes: persistence is off.
            crate::persistence::kill_rdb_child(srv);
        }
    }
}

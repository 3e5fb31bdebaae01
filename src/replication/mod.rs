//! Replication, as Redis 7.0 does it.
//!
//! * `master`: replicas attached to us (SYNC/PSYNC, full resync through
//!   a forked child writing the RDB to disk or straight to the replica
//!   sockets, streaming every propagated command, WAIT, REPLCONF ACK).
//! * `replica`: our link to a master (REPLICAOF, the non-blocking
//!   handshake, loading the RDB it sends, applying its stream as the
//!   master client, partial resynchronization after a reconnect).
//! * `backlog`: the tail of the stream kept for PSYNC.
//!
//! The stream is built from `Server::propagated`, the same list the AOF
//! consumes (`feed`), so replicas receive byte for byte what Redis sends:
//! the commands as propagated, a SELECT whenever the database changes,
//! PING every repl-ping-replica-period. A replica does not build a stream
//! of its own: it forwards the exact bytes it applied from its master.

pub mod backlog;
pub mod master;
pub mod replica;

use std::collections::HashMap;

use bytes::Bytes;

use crate::server::client::cflags;
use crate::server::reactor::Reactor;
use crate::server::{Client, Clients, Server};

/// Replication state kept on the server.
pub struct Repl {
    pub replid: String,
    pub replid2: String,
    pub second_replid_offset: i64,
    pub master_repl_offset: i64,
    pub backlog: Option<backlog::Backlog>,
    /// Database the stream last SELECTed (Redis's slaveseldb).
    pub slaveseldb: Option<usize>,
    /// Replicas attached to us.
    pub replicas: Vec<master::Replica>,
    /// REPLCONF settings of clients not yet replicas, by client id.
    pub conf: HashMap<u64, master::ReplConf>,
    /// Stream bytes fed but not handed to the replicas yet, and the
    /// offset just before its first byte.
    pub out: Vec<u8>,
    pub out_start: i64,
    pub no_replicas_since: i64,
    /// Runs of the 1 Hz replication cron.
    pub cron_loops: u64,
    pub last_cron_sec: i64,
    /// WAIT asked the replicas for an ACK (sent before sleeping).
    pub get_ack: bool,
    /// Clients blocked in WAIT.
    pub waiting: Vec<master::Waiter>,
    /// The RDB child serving replicas, and its result once reaped.
    pub child: Option<master::Child>,
    pub child_done: Option<bool>,
    /// Replicas wait for a BGSAVE to start.
    pub fork_pending: bool,
    pub stat_sync_full: u64,
    pub stat_sync_partial_ok: u64,
    pub stat_sync_partial_err: u64,
    pub net_repl_input: u64,
    pub net_repl_output: u64,
    /// Our master, when we are a replica.
    pub link: Option<replica::Link>,
    /// What a partial resync would continue from.
    pub cached: Option<replica::Cached>,
    /// `replicaof` from the config file was applied.
    pub started: bool,
    /// Clients blocked on keys are to be released (we became a replica).
    pub unblock_all: bool,
    /// The master's stream is being applied.
    pub applying: bool,
    /// Keys a writable replica's clients set a TTL on, (db, key).
    pub own_expires: std::collections::HashSet<(usize, Vec<u8>)>,
}

impl Default for Repl {
    fn default() -> Self {
        Repl {
            replid: crate::util::random_hex(40),
            replid2: NULL_REPLID.to_string(),
            second_replid_offset: -1,
            master_repl_offset: 0,
            backlog: None,
            slaveseldb: None,
            replicas: Vec::new(),
            conf: HashMap::new(),
            out: Vec::new(),
            out_start: 0,
            no_replicas_since: crate::util::mstime() / 1000,
            cron_loops: 0,
            last_cron_sec: 0,
            get_ack: false,
            waiting: Vec::new(),
            child: None,
            child_done: None,
            fork_pending: false,
            stat_sync_full: 0,
            stat_sync_partial_ok: 0,
            stat_sync_partial_err: 0,
            net_repl_input: 0,
            net_repl_output: 0,
            link: None,
            cached: None,
            started: false,
            unblock_all: false,
            applying: false,
            own_expires: Default::default(),
        }
    }
}

pub const NULL_REPLID: &str = "0000000000000000000000000000000000000000";

impl Repl {
    pub fn is_replica(&self) -> bool {
        self.link.is_some()
    }

    /// A new history: new replication ID (changeReplicationId).
    pub fn change_replid(&mut self) {
        self.replid = crate::util::random_hex(40);
    }

    pub fn clear_replid2(&mut self) {
        self.replid2 = NULL_REPLID.to_string();
        self.second_replid_offset = -1;
    }

    pub fn create_backlog(&mut self, size: i64) {
        self.backlog = Some(backlog::Backlog::new(
            size.max(0) as usize,
            self.master_repl_offset,
        ));
    }

    /// Append bytes to the stream: backlog, offset, and the replicas.
    pub fn feed_bytes(&mut self, b: &[u8]) {
        let Some(bl) = self.backlog.as_mut() else {
            return;
        };
        bl.append(b);
        if self.out.is_empty() {
            self.out_start = self.master_repl_offset;
        }
        self.master_repl_offset += b.len() as i64;
        if !self.replicas.is_empty() {
            self.out.extend_from_slice(b);
        }
    }

    /// Feed one command as a top-level master (replicationFeedSlaves):
    /// a SELECT first when `db` differs from the stream's.
    pub fn feed_command(&mut self, db: Option<usize>, argv: &[Bytes]) {
        if self.link.is_some() || self.backlog.is_none() {
            return;
        }
        let mut buf = Vec::with_capacity(64);
        if let Some(d) = db {
            if self.slaveseldb != Some(d) {
                let s = d.to_string();
                buf.extend_from_slice(
                    format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{}\r\n", s.len(), s).as_bytes(),
                );
                self.slaveseldb = Some(d);
            }
        }
        encode_command(&mut buf, argv);
        self.feed_bytes(&buf);
    }
}

/// RESP multibulk of `argv`.
pub fn encode_command(buf: &mut Vec<u8>, argv: &[Bytes]) {
    buf.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// The commands a command (or cron) propagated go to the replicas too.
/// Called wherever the AOF consumes `srv.propagated`, before it is cleared.
pub fn feed(srv: &mut Server) {
    if srv.propagated.is_empty() {
        return;
    }
    if srv.repl.link.is_some() {
        // A replica forwards its master's stream instead.
        if !srv.repl.applying {
            replica::track_own_expires(srv);
        }
        return;
    }
    if srv.repl.backlog.is_none() {
        return;
    }
    let props = std::mem::take(&mut srv.propagated);
    for (i, (db, argv)) in props.iter().enumerate() {
        // AOF-only entries (redis.set_repl(redis.REPL_AOF)).
        if srv.propagation_target(i) & crate::server::propagate::REPL == 0 {
            continue;
        }
        srv.repl.feed_command(Some(*db), argv);
    }
    srv.propagated = props;
}

/// Before the reactor sleeps: connect to the master, start a pending full
/// resync, release WAIT clients, ask replicas for ACKs.
pub fn before_sleep(r: &mut Reactor) {
    let repl = &r.srv.repl;
    if repl.link.is_none()
        && repl.replicas.is_empty()
        && repl.waiting.is_empty()
        && !repl.unblock_all
        && r.srv.kill_ids.is_empty()
    {
        return;
    }
    kill_pending(r);
    if r.srv.repl.unblock_all {
        r.srv.repl.unblock_all = false;
        replica::unblock_all_clients(r);
    }
    replica::before_sleep(r);
    master::before_sleep(r);
}

/// Close the clients a hook asked to close outside a command.
fn kill_pending(r: &mut Reactor) {
    for id in std::mem::take(&mut r.srv.kill_ids) {
        if let Some(c) = r.clients.by_id(id) {
            c.flags |= cflags::CLOSE_ASAP;
            let s = c.token;
            r.srv.flush_slots.push(s);
        }
    }
}

/// Hand the stream fed so far to the replicas. Returns the slots with new
/// output.
pub fn deliver(srv: &mut Server, clients: &mut Clients) -> Vec<usize> {
    master::deliver(srv, clients)
}

/// Periodic work (every cron tick; the 1 Hz part once a second).
pub fn cron(r: &mut Reactor) {
    if !r.srv.repl.started {
        r.srv.repl.started = true;
        replica::apply_config(&mut r.srv);
    }
    master::cron(r);
    let now = crate::util::mstime() / 1000;
    if now != r.srv.repl.last_cron_sec {
        r.srv.repl.last_cron_sec = now;
        replica::cron_1hz(r);
        master::cron_1hz(r);
        r.srv.repl.cron_loops += 1;
    }
}

/// A client is being closed: forget its replication roles.
pub fn on_client_close(srv: &mut Server, c: &mut Client) {
    master::on_client_close(srv, c);
    replica::on_client_close(srv, c);
}

/// The RDB child finished (from persistence's reaper). Returns true when
/// it wrote to replica sockets rather than the dump file.
pub fn rdb_child_done(srv: &mut Server, pid: i32, ok: bool, signal: Option<i32>) -> bool {
    master::rdb_child_done(srv, pid, ok, signal)
}

/// Before a client's command: the reply Redis rejects it with for
/// replication reasons (-NOREPLICAS, -READONLY, -MASTERDOWN), if any. On a
/// replica this also picks how its lookups treat expired keys: reads see
/// them as absent, writes delete them (the master's stream keeps them).
pub fn reject_command(
    srv: &Server,
    client: &Client,
    name: &str,
    argv: &[Bytes],
    cmd_flags: u32,
) -> Option<&'static str> {
    use crate::commands::flags;
    let repl = &srv.repl;
    let min_to_write = srv.config.min_replicas_to_write;
    if repl.link.is_none() && min_to_write == 0 && !client.has(cflags::SLAVE) {
        return None;
    }
    if client.has(cflags::MASTER) || repl.applying {
        return None;
    }
    // A script's shebang flags decide (no-writes, allow-stale).
    let cmd_flags = crate::commands::scripting::effective_flags(srv, client, argv, cmd_flags);
    if client.has(cflags::SLAVE)
        && cmd_flags & (flags::WRITE | flags::READONLY | flags::MAY_REPLICATE) != 0
    {
        return Some("ERR Replica can't interact with the keyspace");
    }
    let mut write = cmd_flags & flags::WRITE != 0;
    let mut stale_ok = cmd_flags & flags::STALE != 0;
    if name == "exec" && client.has(cflags::MULTI) {
        // EXEC counts as what it runs.
        for q in &client.ext.multi_queue {
            if let Some(c) = srv.commands.lookup(q) {
                write |= c.flags & flags::WRITE != 0;
                stale_ok &= c.flags & flags::STALE != 0;
            }
        }
    }
    if repl.link.is_some() {
        let mode = if write {
            crate::db::EXPIRE_DELETE
        } else {
            crate::db::EXPIRE_HIDE
        };
        crate::db::EXPIRE_MODE.store(mode, std::sync::atomic::Ordering::Relaxed);
    }
    if write
        && repl.link.is_none()
        && srv.config.min_replicas_max_lag > 0
        && (repl.good_replicas(srv.config.min_replicas_max_lag) as i64) < min_to_write
    {
        return Some("NOREPLICAS Not enough good replicas to write.");
    }
    if let Some(link) = &repl.link {
        if write && srv.config.get_bool("replica-read-only") {
            return Some("READONLY You can't write against a read only replica.");
        }
        if link.state != replica::LinkState::Connected
            && !stale_ok
            && !srv.config.get_bool("replica-serve-stale-data")
        {
            return Some(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            );
        }
    }
    None
}

/// Why a script may not write (`whole`: a script declaring it writes,
/// checked before it runs; else one write command it calls).
pub fn script_write_error(srv: &Server, whole: bool) -> Option<&'static str> {
    let repl = &srv.repl;
    if repl.applying {
        return None;
    }
    if repl.link.is_some() {
        if srv.config.get_bool("replica-read-only") {
            return Some(if whole {
                "READONLY Can not run script with write flag on readonly replica"
            } else {
                "READONLY You can't write against a read only replica."
            });
        }
        return None;
    }
    let min = srv.config.min_replicas_to_write;
    let lag = srv.config.min_replicas_max_lag;
    if min > 0 && lag > 0 && (repl.good_replicas(lag) as i64) < min {
        return Some("NOREPLICAS Not enough good replicas to write.");
    }
    None
}

/// Whether we are a replica (no active expiry, no own stream).
pub fn is_replica(srv: &Server) -> bool {
    srv.repl.link.is_some()
}

/// INFO replication.
pub fn info(srv: &Server) -> String {
    use std::fmt::Write;
    let repl = &srv.repl;
    let now = crate::util::mstime() / 1000;
    let mut o = String::from("# Replication\r\n");
    let _ = write!(
        o,
        "role:{}\r\n",
        if repl.link.is_some() {
            "slave"
        } else {
            "master"
        }
    );
    if let Some(l) = &repl.link {
        let (off, read_off) = match (&l.state, &repl.cached) {
            (replica::LinkState::Connected, _) => (l.reploff, l.read_reploff),
            (_, Some(c)) => (c.reploff, c.reploff),
            _ => (1, 1),
        };
        let _ = write!(
            o,
            "master_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
            l.host,
            l.port,
            if l.state == replica::LinkState::Connected { "up" } else { "down" },
            if l.state == replica::LinkState::Connected { now - l.lastio } else { -1 },
            (l.state == replica::LinkState::Transfer) as i32,
            read_off,
            off,
        );
        if l.state == replica::LinkState::Transfer {
            let perc = if l.transfer_size > 0 {
                l.transfer_read as f64 / l.transfer_size as f64 * 100.0
            } else {
                0.0
            };
            let _ = write!(
                o,
                "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                l.transfer_size,
                l.transfer_read,
                l.transfer_size - l.transfer_read,
                perc,
                now - l.lastio,
            );
        }
        if l.state != replica::LinkState::Connected {
            let _ = write!(
                o,
                "master_link_down_since_seconds:{}\r\n",
                if l.down_since != 0 {
                    now - l.down_since
                } else {
                    -1
                }
            );
        }
        let _ = write!(
            o,
            "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
            srv.config.get_i64("replica-priority"),
            srv.config.get_bool("replica-read-only") as i32,
            srv.config.get_bool("replica-announced") as i32,
        );
    }
    let _ = write!(o, "connected_slaves:{}\r\n", repl.replicas.len());
    if srv.config.min_replicas_to_write > 0 && srv.config.min_replicas_max_lag > 0 {
        let _ = write!(
            o,
            "min_slaves_good_slaves:{}\r\n",
            repl.good_replicas(srv.config.min_replicas_max_lag)
        );
    }
    let mut n = 0;
    for r in &repl.replicas {
        let state = r.state.name();
        if state.is_empty() {
            continue;
        }
        let lag = if r.state == master::RState::Online {
            now - r.ack_time
        } else {
            0
        };
        let _ = write!(
            o,
            "slave{}:ip={},port={},state={},offset={},lag={}\r\n",
            n,
            r.ip(),
            r.conf.port,
            state,
            r.ack_off,
            lag
        );
        n += 1;
    }
    let (bl_active, bl_first, bl_hist) = match &repl.backlog {
        Some(b) => (1, b.offset, b.histlen()),
        None => (0, 0, 0),
    };
    let _ = write!(
        o,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        repl.replid,
        repl.replid2,
        repl.master_repl_offset,
        repl.second_replid_offset,
        bl_active,
        srv.config.get_i64("repl-backlog-size").max(backlog::MIN_SIZE as i64),
        bl_first,
        bl_hist,
    );
    o
}

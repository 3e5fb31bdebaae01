//! The replica side: our link to a master.
//!
//! The link is a client in the client table (flag MASTER), so the reactor
//! does its I/O; `process_master_input` takes over its input: the
//! handshake (PING, AUTH, REPLCONF, PSYNC) one reply line at a time, then
//! the RDB payload ($<len> or $EOF:<mark> framing), then the command
//! stream, applied without replies. The offset counts the bytes of the
//! commands applied (a transaction counts at its EXEC), and exactly those
//! bytes are forwarded to our own backlog and replicas.

use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use tracing::{info, warn};

use super::master;
use crate::server::client::cflags;
use crate::server::exec::{process_command, Outcome};
use crate::server::reactor::Reactor;
use crate::server::{Client, Conn, Server};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkState {
    /// Must connect (at `connect_at`).
    Connect,
    Connecting,
    ReceivePong,
    ReceiveAuth,
    ReceivePort,
    ReceiveIp,
    ReceiveCapa,
    ReceivePsync,
    /// Receiving the RDB.
    Transfer,
    Connected,
}

impl LinkState {
    fn handshake(self) -> bool {
        (LinkState::ReceivePong..=LinkState::ReceivePsync).contains(&self)
    }
}

pub struct Link {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// (id, slot) of the connection's client.
    pub client: Option<(u64, usize)>,
    /// Unix ms of the next connection attempt.
    pub connect_at: i64,
    /// Unix seconds of the last data from the master.
    pub lastio: i64,
    pub transfer_size: i64,
    pub transfer_read: i64,
    pub eof_mark: Option<Vec<u8>>,
    pub master_replid: String,
    /// Offset +FULLRESYNC announced (-1: the master does not do PSYNC).
    pub initial_offset: i64,
    /// Stream applied so far, and read so far.
    pub reploff: i64,
    pub read_reploff: i64,
    /// Database the master client has selected.
    pub db: usize,
    pub down_since: i64,
    /// Commands applied inside a MULTI not yet counted.
    pending: Vec<Bytes>,
    /// Bytes of a command held by CLIENT PAUSE.
    postponed: Option<Bytes>,
}

impl Link {
    fn new(host: String, port: u16) -> Link {
        Link {
            host,
            port,
            state: LinkState::Connect,
            client: None,
            connect_at: 0,
            lastio: now_secs(),
            transfer_size: -1,
            transfer_read: 0,
            eof_mark: None,
            master_replid: String::new(),
            initial_offset: -1,
            reploff: 0,
            read_reploff: 0,
            db: 0,
            down_since: 0,
            pending: Vec::new(),
            postponed: None,
        }
    }
}

/// The master we may continue with (PSYNC).
pub struct Cached {
    pub replid: String,
    pub reploff: i64,
    pub db: usize,
}

fn now_secs() -> i64 {
    crate::util::mstime() / 1000
}

fn set_log_role(c: char) {
    if let Ok(mut r) = crate::server::log::ROLE.lock() {
        *r = c;
    }
}

/// `replicaof <host> <port>` from the config file.
pub fn apply_config(srv: &mut Server) {
    let v = srv.config.get("replicaof").unwrap_or("").to_string();
    let mut it = v.split_whitespace();
    let (Some(host), Some(port)) = (it.next(), it.next()) else {
        return;
    };
    let Ok(port) = port.parse::<u16>() else {
        return;
    };
    srv.repl.link = Some(Link::new(host.to_string(), port));
    set_log_role('S');
}

/// REPLICAOF host port (replicationSetMaster).
pub fn set_master(srv: &mut Server, host: &str, port: u16) {
    let was_master = srv.repl.link.is_none();
    if let Some(l) = srv.repl.link.take() {
        if let Some((id, _)) = l.client {
            srv.kill_ids.push(id);
            if l.state == LinkState::Connected {
                info!("Caching the disconnected master state.");
                srv.repl.cached = Some(Cached {
                    replid: l.master_replid.clone(),
                    reploff: l.reploff,
                    db: l.db,
                });
            }
        }
    }
    // Clients blocked in a master must not stay blocked in a replica.
    srv.repl.unblock_all = true;
    if was_master {
        discard_cached(srv);
        info!("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        srv.repl.cached = Some(Cached {
            replid: srv.repl.replid.clone(),
            reploff: srv.repl.master_repl_offset,
            db: 0,
        });
    }
    srv.repl.link = Some(Link::new(host.to_string(), port));
    set_log_role('S');
}

/// REPLICAOF NO ONE (replicationUnsetMaster).
pub fn unset_master(srv: &mut Server) {
    let Some(l) = srv.repl.link.take() else {
        return;
    };
    if let Some((id, _)) = l.client {
        srv.kill_ids.push(id);
    }
    discard_cached(srv);
    // Our history so far stays valid as ID2: replicas of our old master
    // can continue with us.
    let repl = &mut srv.repl;
    repl.replid2 = repl.replid.clone();
    repl.second_replid_offset = repl.master_repl_offset + 1;
    repl.change_replid();
    warn!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        repl.replid2, repl.second_replid_offset, repl.replid
    );
    master::disconnect_replicas(srv);
    crate::db::EXPIRE_MODE.store(crate::db::EXPIRE_DELETE, Ordering::Relaxed);
    let repl = &mut srv.repl;
    repl.slaveseldb = None;
    repl.no_replicas_since = now_secs();
    set_log_role('M');
}

fn discard_cached(srv: &mut Server) {
    if srv.repl.cached.take().is_some() {
        info!("Discarding previously cached master state.");
    }
}

/// Release every blocked client: the instance became a replica.
pub fn unblock_all_clients(r: &mut Reactor) {
    let slots: Vec<usize> = r
        .clients
        .iter()
        .filter(|c| c.has(cflags::BLOCKED))
        .map(|c| c.token)
        .collect();
    let msg = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
    for s in slots {
        let Some(c) = r.clients.get_mut(s) else {
            continue;
        };
        let id = c.id;
        if let Some(i) = r.srv.repl.waiting.iter().position(|w| w.id == id) {
            r.srv.repl.waiting.remove(i);
            c.flags &= !cflags::BLOCKED;
            r.srv.stats.record_error(msg);
            c.reply.error_raw(msg);
        } else {
            crate::server::blocking::unblock_with_reply(&mut r.srv, c, Some(msg));
        }
        r.process_input(s);
        r.srv.flush_slots.push(s);
    }
}

/// Before sleeping: connect when due, notice a completed connect.
pub fn before_sleep(r: &mut Reactor) {
    let Some(l) = r.srv.repl.link.as_mut() else {
        return;
    };
    match l.state {
        LinkState::Connect if crate::util::mstime() >= l.connect_at => connect(r),
        LinkState::Connecting => {
            let Some((_, slot)) = l.client else {
                return;
            };
            let Some(c) = r.clients.get_mut(slot) else {
                return;
            };
            let Conn::Tcp(s) = &c.conn else {
                return;
            };
            if let Ok(Some(e)) | Err(e) = s.take_error() {
                warn!(
                    "Error condition on socket for SYNC: {}",
                    crate::server::log_io_error(&e)
                );
                c.flags |= cflags::CLOSE_ASAP;
                r.srv.flush_slots.push(slot);
                return;
            }
            if s.peer_addr().is_ok() {
                info!("Non blocking connect for SYNC fired the event.");
                l.state = LinkState::ReceivePong;
                l.lastio = now_secs();
                // A PING checks the master replies before the handshake.
                send_command(c, &[b"PING"]);
                r.srv.flush_slots.push(slot);
            }
        }
        _ => {}
    }
}

/// Start the non-blocking connection to the master (connectWithMaster).
fn connect(r: &mut Reactor) {
    use std::net::ToSocketAddrs;
    let now = crate::util::mstime();
    let Some(l) = r.srv.repl.link.as_mut() else {
        return;
    };
    info!("Connecting to MASTER {}:{}", l.host, l.port);
    let addr = (l.host.as_str(), l.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next());
    let res = match addr {
        Some(a) => mio::net::TcpStream::connect(a).map(|s| (s, a)),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "Name or service not known",
        )),
    };
    let (mut stream, addr) = match res {
        Ok(x) => x,
        Err(e) => {
            warn!(
                "Unable to connect to MASTER: {}",
                crate::server::log_io_error(&e)
            );
            l.connect_at = now + 1000;
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let slot = r.clients.next_slot();
    let id = r.srv.next_client_id;
    r.srv.next_client_id += 1;
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    if r.poll
        .registry()
        .register(
            &mut stream,
            mio::Token(slot),
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )
        .is_err()
    {
        r.clients.release(slot);
        l.connect_at = now + 1000;
        return;
    }
    let mut c = Box::new(Client::new(
        id,
        slot,
        Conn::Tcp(stream),
        addr.to_string(),
        laddr,
        now,
    ));
    c.flags |= cflags::MASTER;
    c.authenticated = true;
    r.clients.put(slot, c);
    l.client = Some((id, slot));
    l.state = LinkState::Connecting;
    l.lastio = now / 1000;
    info!("MASTER <-> REPLICA sync started");
}

fn send_command(c: &mut Client, args: &[&[u8]]) {
    let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    super::encode_command(&mut c.reply.buf, &argv);
}

fn ack_bytes(off: i64) -> Vec<u8> {
    let mut b = Vec::new();
    super::encode_command(
        &mut b,
        &[
            Bytes::from_static(b"REPLCONF"),
            Bytes::from_static(b"ACK"),
            Bytes::from(off.to_string()),
        ],
    );
    b
}

/// REPLCONF GETACK from our master: answer with our offset, even though
/// the master's commands get no replies.
pub fn send_ack_now(srv: &mut Server, c: &Client) {
    let Some(l) = &srv.repl.link else {
        return;
    };
    if !c.has(cflags::MASTER) || l.state != LinkState::Connected {
        return;
    }
    let b = ack_bytes(l.reploff);
    srv.outbox.push((c.id, b));
}

/// Take one reply line ("\r\n" or "\n" terminated) from the buffer.
fn take_line(q: &mut BytesMut) -> Option<String> {
    let nl = memchr::memchr(b'\n', q)?;
    let line = q.split_to(nl + 1);
    let mut l = &line[..nl];
    if l.last() == Some(&b'\r') {
        l = &l[..l.len() - 1];
    }
    Some(String::from_utf8_lossy(l).into_owned())
}

/// The reactor read data from the master link: run what it sent.
pub fn process_master_input(r: &mut Reactor, slot: usize, mut client: Box<Client>) {
    let ours = r
        .srv
        .repl
        .link
        .as_ref()
        .and_then(|l| l.client)
        .is_some_and(|(id, _)| id == client.id);
    if !ours || client.has(cflags::CLOSE_ASAP) {
        client.query.clear();
        r.clients.restore(slot, client);
        return;
    }
    if let Some(l) = r.srv.repl.link.as_mut() {
        l.lastio = client.last_interaction / 1000;
    }
    if let Err(e) = drive(r, slot, &mut client) {
        if !e.is_empty() {
            warn!("{}", e);
        }
        // The attempt failed: close, try again in a second.
        if let Some(l) = r.srv.repl.link.as_mut() {
            let transfer = l.state == LinkState::Transfer;
            l.state = LinkState::Connect;
            l.client = None;
            l.connect_at = crate::util::mstime() + if transfer { 0 } else { 1000 };
            if transfer {
                info!("Reconnecting to MASTER {}:{} after failure", l.host, l.port);
            }
        }
        client.flags |= cflags::CLOSE_ASAP;
    }
    if client.pending_output() > 0 || client.has(cflags::CLOSE_ASAP) {
        r.srv.flush_slots.push(slot);
    }
    r.clients.restore(slot, client);
}

fn link(r: &mut Reactor) -> &mut Link {
    r.srv.repl.link.as_mut().expect("replica link")
}

/// Advance the link's state machine with the input at hand.
fn drive(r: &mut Reactor, slot: usize, client: &mut Client) -> Result<(), String> {
    loop {
        let state = link(r).state;
        match state {
            LinkState::Connect | LinkState::Connecting => return Ok(()),
            s if s.handshake() => {
                let Some(line) = take_line(&mut client.query) else {
                    return Ok(());
                };
                handshake_step(r, client, state, &line)?;
            }
            LinkState::Transfer => {
                if !transfer_step(r, client)? {
                    return Ok(());
                }
            }
            _ => return stream(r, slot, client),
        }
    }
}

fn handshake_step(
    r: &mut Reactor,
    client: &mut Client,
    state: LinkState,
    line: &str,
) -> Result<(), String> {
    let srv = &mut r.srv;
    match state {
        LinkState::ReceivePong => {
            if !(line.starts_with('+')
                || line.starts_with("-NOAUTH")
                || line.starts_with("-NOPERM")
                || line.starts_with("-ERR operation not permitted"))
            {
                return Err(format!("Error reply to PING from master: '{}'", line));
            }
            info!("Master replied to PING, replication can continue...");
            let auth = srv.config.get("masterauth").unwrap_or("").to_string();
            let user = srv.config.get("masteruser").unwrap_or("").to_string();
            if !auth.is_empty() {
                if user.is_empty() {
                    send_command(client, &[b"AUTH", auth.as_bytes()]);
                } else {
                    send_command(client, &[b"AUTH", user.as_bytes(), auth.as_bytes()]);
                }
            }
            let announced = srv.config.get_i64("replica-announce-port");
            let port = if announced != 0 {
                announced
            } else {
                srv.port as i64
            };
            send_command(
                client,
                &[b"REPLCONF", b"listening-port", port.to_string().as_bytes()],
            );
            let ip = srv
                .config
                .get("replica-announce-ip")
                .unwrap_or("")
                .to_string();
            if !ip.is_empty() {
                send_command(client, &[b"REPLCONF", b"ip-address", ip.as_bytes()]);
            }
            send_command(client, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]);
            link(r).state = if auth.is_empty() {
                LinkState::ReceivePort
            } else {
                LinkState::ReceiveAuth
            };
        }
        LinkState::ReceiveAuth => {
            if line.starts_with('-') {
                return Err(format!("Unable to AUTH to MASTER: {}", line));
            }
            link(r).state = LinkState::ReceivePort;
        }
        LinkState::ReceivePort => {
            if line.starts_with('-') {
                info!(
                    "(Non critical) Master does not understand REPLCONF listening-port: {}",
                    line
                );
            }
            let ip = srv.config.get("replica-announce-ip").unwrap_or("");
            link(r).state = if ip.is_empty() {
                LinkState::ReceiveCapa
            } else {
                LinkState::ReceiveIp
            };
        }
        LinkState::ReceiveIp => {
            if line.starts_with('-') {
                info!(
                    "(Non critical) Master does not understand REPLCONF ip-address: {}",
                    line
                );
            }
            link(r).state = LinkState::ReceiveCapa;
        }
        LinkState::ReceiveCapa => {
            if line.starts_with('-') {
                info!(
                    "(Non critical) Master does not understand REPLCONF capa: {}",
                    line
                );
            }
            let (id, off) = match &srv.repl.cached {
                Some(c) => {
                    let off = (c.reploff + 1).to_string();
                    info!(
                        "Trying a partial resynchronization (request {}:{}).",
                        c.replid, off
                    );
                    (c.replid.clone(), off)
                }
                None => {
                    info!("Partial resynchronization not possible (no cached master)");
                    ("?".to_string(), "-1".to_string())
                }
            };
            send_command(client, &[b"PSYNC", id.as_bytes(), off.as_bytes()]);
            let l = link(r);
            l.initial_offset = -1;
            l.state = LinkState::ReceivePsync;
        }
        LinkState::ReceivePsync => psync_reply(r, client, line)?,
        _ => {}
    }
    Ok(())
}

/// The master's answer to PSYNC.
fn psync_reply(r: &mut Reactor, client: &mut Client, line: &str) -> Result<(), String> {
    if line.is_empty() {
        // Newlines keep the link alive until the master replies.
        return Ok(());
    }
    let srv = &mut r.srv;
    if let Some(rest) = line.strip_prefix("+FULLRESYNC") {
        let mut it = rest.split_whitespace();
        let l = srv.repl.link.as_mut().expect("link");
        match (it.next(), it.next().and_then(|o| o.parse::<i64>().ok())) {
            (Some(id), Some(off)) if id.len() == 40 => {
                l.master_replid = id.to_string();
                l.initial_offset = off;
                info!("Full resync from master: {}:{}", id, off);
            }
            _ => {
                warn!("Master replied with wrong +FULLRESYNC syntax.");
                l.master_replid.clear();
            }
        }
        begin_transfer(l);
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix("+CONTINUE") {
        info!("Successful partial resynchronization with master.");
        let new = rest.trim();
        let cached = srv.repl.cached.take().unwrap_or(Cached {
            replid: String::new(),
            reploff: srv.repl.master_repl_offset,
            db: 0,
        });
        let mut replid = cached.replid.clone();
        if new.len() == 40 && new != cached.replid {
            warn!("Master replication ID changed to {}", new);
            srv.repl.replid2 = cached.replid.clone();
            srv.repl.second_replid_offset = srv.repl.master_repl_offset + 1;
            srv.repl.replid = new.to_string();
            replid = new.to_string();
            master::disconnect_replicas(srv);
        }
        let l = srv.repl.link.as_mut().expect("link");
        l.master_replid = replid;
        l.reploff = cached.reploff;
        l.read_reploff = cached.reploff;
        l.db = cached.db;
        l.state = LinkState::Connected;
        l.down_since = 0;
        client.db = cached.db;
        if srv.repl.backlog.is_none() {
            let size = srv.config.get_i64("repl-backlog-size");
            srv.repl.create_backlog(size);
        }
        info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        return Ok(());
    }
    if line.starts_with("-NOMASTERLINK") || line.starts_with("-LOADING") {
        return Err(format!(
            "Master is currently unable to PSYNC but should be in the future: {}",
            line
        ));
    }
    if line.starts_with("-ERR") {
        info!(
            "Master does not support PSYNC or is in error state (reply: {})",
            line
        );
    } else {
        warn!("Unexpected reply to PSYNC from master: {}", line);
    }
    info!("Retrying with SYNC...");
    client.reply.raw(b"SYNC\r\n");
    let l = srv.repl.link.as_mut().expect("link");
    l.master_replid.clear();
    l.initial_offset = -1;
    begin_transfer(l);
    Ok(())
}

fn begin_transfer(l: &mut Link) {
    l.state = LinkState::Transfer;
    l.transfer_size = -1;
    l.transfer_read = 0;
    l.eof_mark = None;
    l.lastio = now_secs();
}

fn diskless_load(srv: &Server) -> bool {
    match srv.config.get("repl-diskless-load").unwrap_or("disabled") {
        "swapdb" => true,
        "on-empty-db" => srv.dbs.iter().all(|d| d.is_empty()),
        _ => false,
    }
}

/// Receive the RDB. Returns true when it made progress.
fn transfer_step(r: &mut Reactor, client: &mut Client) -> Result<bool, String> {
    let to = if diskless_load(&r.srv) {
        "to parser"
    } else {
        "to disk"
    };
    let l = link(r);
    if l.transfer_size == -1 {
        let Some(line) = take_line(&mut client.query) else {
            return Ok(false);
        };
        if let Some(e) = line.strip_prefix('-') {
            return Err(format!("MASTER aborted replication with an error: {}", e));
        }
        if line.is_empty() {
            return Ok(true);
        }
        if !line.starts_with('$') {
            return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?", line));
        }
        if let Some(mark) = line.strip_prefix("$EOF:").filter(|m| m.len() >= 40) {
            l.eof_mark = Some(mark.as_bytes()[..40].to_vec());
            l.transfer_size = 0;
            info!(
                "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF {}",
                to
            );
        } else {
            l.transfer_size = line[1..].trim().parse().unwrap_or(0);
            info!(
                "MASTER <-> REPLICA sync: receiving {} bytes from master {}",
                l.transfer_size, to
            );
        }
        return Ok(true);
    }
    let payload = match &l.eof_mark {
        Some(mark) => {
            let n = client.query.len();
            if n < mark.len() || client.query[n - mark.len()..] != mark[..] {
                l.transfer_read = n as i64;
                return Ok(false);
            }
            let p = client.query.split_to(n - mark.len());
            client.query.clear();
            p
        }
        None => {
            let size = l.transfer_size.max(0) as usize;
            if client.query.len() < size {
                l.transfer_read = client.query.len() as i64;
                return Ok(false);
            }
            client.query.split_to(size)
        }
    };
    r.srv.repl.net_repl_input += payload.len() as u64;
    load_payload(r, client, &payload)?;
    Ok(true)
}

/// The "repl-stream-db" aux field of an RDB image, if present.
fn stream_db_of(rdb: &[u8]) -> Option<usize> {
    let mut rd = crate::persistence::rdb::Reader::new(rdb, 9);
    while rd.byte().ok()? == 250 {
        let k = rd.string().ok()?;
        let v = rd.string().ok()?;
        if k == b"repl-stream-db" {
            return std::str::from_utf8(&v).ok()?.parse().ok();
        }
    }
    None
}

/// The whole RDB arrived: replace our dataset with it (readSyncBulkPayload).
fn load_payload(r: &mut Reactor, client: &mut Client, payload: &[u8]) -> Result<(), String> {
    let srv = &mut r.srv;
    let diskless = diskless_load(srv);
    let aof_was_on = srv.aof.state != crate::persistence::aof::AofState::Off;
    if aof_was_on {
        crate::persistence::aof::stop(srv);
    }
    if srv.persist.child_pid != -1 && srv.persist.child_type == crate::persistence::ChildType::Rdb {
        if !diskless {
            info!("Replica is about to load the RDB file received from the master, but there is a pending RDB child running. Killing process {} and removing its temp file to avoid any race", srv.persist.child_pid);
        }
        crate::persistence::kill_rdb_child(srv);
    }
    // A different dataset: neither our replicas nor a cached master can
    // continue from what we had.
    discard_cached(srv);
    master::disconnect_replicas(srv);
    srv.repl.backlog = None;
    info!("MASTER <-> REPLICA sync: Flushing old data");
    srv.signal_db_change(None, None);
    for db in srv.dbs.iter_mut() {
        db.clear();
    }
    srv.functions = Default::default();
    if !diskless {
        let tmp = format!("temp-{}.{}.rdb", now_secs(), std::process::id());
        let dst = crate::persistence::rdb_path(srv);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut f, payload)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &dst)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!(
                "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {}",
                dst.display(),
                crate::server::log_io_error(&e)
            ));
        }
    }
    info!("MASTER <-> REPLICA sync: Loading DB in memory");
    srv.loading = true;
    let lim = crate::persistence::limits(srv);
    // A replica keeps keys that are already expired: the master deletes them.
    let res = crate::persistence::rdb::load(payload, &mut srv.dbs, &lim, i64::MIN);
    srv.loading = false;
    let loaded = match res {
        Ok(l) => l,
        Err(e) => {
            for db in srv.dbs.iter_mut() {
                db.clear();
            }
            return Err(format!(
                "Failed trying to load the MASTER synchronization DB from {}: {}",
                if diskless { "socket" } else { "disk" },
                e.0
            ));
        }
    };
    srv.stats.dump_payload_sanitizations += loaded.sanitized;
    crate::persistence::restore_functions(srv, &loaded.functions);
    if diskless {
        srv.dirty += 1;
    }
    let db = stream_db_of(payload)
        .filter(|&d| d < srv.dbs.len())
        .unwrap_or(0);
    let size = srv.config.get_i64("repl-backlog-size");
    let repl = &mut srv.repl;
    let l = repl.link.as_mut().expect("link");
    l.state = LinkState::Connected;
    l.reploff = l.initial_offset;
    l.read_reploff = l.initial_offset;
    l.db = db;
    l.down_since = 0;
    client.db = db;
    let replid = if l.master_replid.is_empty() {
        crate::util::random_hex(40)
    } else {
        l.master_replid.clone()
    };
    let off = l.reploff;
    let eof = l.eof_mark.is_some();
    repl.replid = replid;
    repl.master_repl_offset = off.max(0);
    repl.clear_replid2();
    repl.create_backlog(size);
    info!("MASTER <-> REPLICA sync: Finished with success");
    if eof {
        // Tell the master we are ready for the stream.
        client.reply.raw(&ack_bytes(off));
    }
    if aof_was_on || srv.config.get_bool("appendonly") {
        if let Err(e) = crate::persistence::aof::start(srv) {
            warn!(
                "Failed enabling the AOF after successful master synchronization! {}",
                e
            );
        }
    }
    Ok(())
}

/// The first complete command of the master's stream: its length and the
/// ranges of its arguments.
type Frame = (usize, Vec<(usize, usize)>);

fn parse_len(b: &[u8]) -> Option<usize> {
    let b = b.strip_suffix(b"\r").unwrap_or(b);
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn next_command(buf: &[u8]) -> Result<Option<Frame>, String> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        return Ok(None);
    };
    if buf[0] != b'*' {
        let line = buf[..nl].strip_suffix(b"\r").unwrap_or(&buf[..nl]);
        if !line.is_empty() {
            return Err("WARNING: Receiving inline protocol from master, master stream corruption? Closing the master connection and discarding the cached master.".into());
        }
        return Ok(Some((nl + 1, Vec::new())));
    }
    let count =
        parse_len(&buf[1..nl]).ok_or("Protocol error from MASTER: invalid multibulk length")?;
    let mut pos = nl + 1;
    let mut ranges = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(None);
        }
        if buf[pos] != b'$' {
            return Err(format!(
                "Protocol error from MASTER: expected '$', got '{}'",
                buf[pos] as char
            ));
        }
        let Some(rel) = memchr::memchr(b'\n', &buf[pos..]) else {
            return Ok(None);
        };
        let len = parse_len(&buf[pos + 1..pos + rel])
            .ok_or("Protocol error from MASTER: invalid bulk length")?;
        let start = pos + rel + 1;
        let Some(end) = start.checked_add(len).filter(|e| *e <= usize::MAX - 2) else {
            return Err("Protocol error from MASTER: invalid bulk length".into());
        };
        if end + 2 > buf.len() {
            return Ok(None);
        }
        ranges.push((start, end));
        pos = end + 2;
    }
    Ok(Some((pos, ranges)))
}

/// Apply the master's commands.
fn stream(r: &mut Reactor, slot: usize, client: &mut Client) -> Result<(), String> {
    if let Some(argv) = client.pending_argv.take() {
        client.flags &= !cflags::PAUSED;
        let raw = link(r).postponed.take().unwrap_or_default();
        if !run_master_command(r, client, argv, raw) {
            return Ok(());
        }
    }
    let mut ran = 0;
    loop {
        if client.flags
            & (cflags::CLOSE_AFTER_REPLY | cflags::CLOSE_ASAP | cflags::PAUSED | cflags::BLOCKED)
            != 0
        {
            break;
        }
        if ran >= 1024 {
            // Let other clients run; the reactor comes back to us.
            r.srv.busy_slots.push(slot);
            break;
        }
        if client.query.is_empty() {
            break;
        }
        let Some((len, ranges)) = next_command(&client.query)? else {
            break;
        };
        let raw = client.query.split_to(len).freeze();
        ran += 1;
        if ranges.is_empty() {
            account(r, raw, false);
            continue;
        }
        let argv: Vec<Bytes> = ranges.iter().map(|&(a, b)| raw.slice(a..b)).collect();
        if !run_master_command(r, client, argv, raw) {
            break;
        }
    }
    if let Some(l) = r.srv.repl.link.as_mut() {
        let pending: usize = l.pending.iter().map(|b| b.len()).sum();
        l.read_reploff = l.reploff + (pending + client.query.len()) as i64;
    }
    Ok(())
}

/// Run one command of the master. False when CLIENT PAUSE held it.
fn run_master_command(r: &mut Reactor, client: &mut Client, argv: Vec<Bytes>, raw: Bytes) -> bool {
    let mark = client.reply.buf.len();
    let name = r
        .srv
        .commands
        .lookup(&argv)
        .map(|c| c.fullname.clone())
        .unwrap_or_else(|| "<unknown>".to_string());
    let mode = crate::db::EXPIRE_MODE.swap(crate::db::EXPIRE_KEEP, Ordering::Relaxed);
    r.srv.repl.applying = true;
    let out = process_command(&mut r.srv, &mut r.clients, client, argv);
    crate::db::EXPIRE_MODE.store(mode, Ordering::Relaxed);
    if out == Outcome::Postponed {
        r.srv.repl.applying = false;
        link(r).postponed = Some(raw);
        return false;
    }
    // The master gets no replies (its ACKs come through the outbox).
    let from = mark.max(client.sent);
    if client.reply.buf.get(from) == Some(&b'-') {
        let end = memchr::memchr(b'\r', &client.reply.buf[from..]).unwrap_or(0);
        r.srv.stats.unexpected_error_replies += 1;
        warn!(
            "== CRITICAL == This replica is sending an error to its master: '{}' after processing the command '{}'",
            String::from_utf8_lossy(&client.reply.buf[from + 1..from + end.max(1)]),
            name
        );
    }
    client.reply.buf.truncate(from);
    r.after_command(client);
    r.srv.repl.applying = false;
    // The stream itself may have ended the link (a REPLICAOF in it).
    let ours = r
        .srv
        .repl
        .link
        .as_ref()
        .and_then(|l| l.client)
        .is_some_and(|(id, _)| id == client.id);
    if !ours {
        client.query.clear();
        return false;
    }
    link(r).db = client.db;
    account(r, raw, client.has(cflags::MULTI));
    true
}

/// Count applied bytes in the offset and forward them to our backlog and
/// replicas; inside MULTI they wait for the EXEC.
fn account(r: &mut Reactor, raw: Bytes, in_multi: bool) {
    let srv = &mut r.srv;
    let Some(l) = srv.repl.link.as_mut() else {
        return;
    };
    l.pending.push(raw);
    if in_multi {
        return;
    }
    let pending = std::mem::take(&mut l.pending);
    for b in &pending {
        l.reploff += b.len() as i64;
    }
    let repl = &mut srv.repl;
    for b in &pending {
        repl.net_repl_input += b.len() as u64;
        if repl.backlog.is_some() {
            repl.feed_bytes(b);
        } else {
            repl.master_repl_offset += b.len() as i64;
        }
    }
}

/// Keys a writable replica's own clients gave a TTL: nobody else will
/// expire them (Redis's slaveKeysWithExpire).
pub fn track_own_expires(srv: &mut Server) {
    for (db, argv) in &srv.propagated {
        let Some(key) = argv.get(1) else {
            continue;
        };
        let volatile = srv
            .dbs
            .get(*db)
            .and_then(|d| d.dict.get(&key[..]))
            .is_some_and(|o| o.expire != crate::db::NO_EXPIRE);
        if volatile {
            srv.repl.own_expires.insert((*db, key.to_vec()));
        }
    }
}

/// Delete the tracked keys whose TTL passed (expireSlaveKeys).
fn expire_own_keys(srv: &mut Server) {
    if srv.repl.own_expires.is_empty() {
        return;
    }
    let now = crate::util::mstime();
    let keys: Vec<(usize, Vec<u8>)> = srv.repl.own_expires.iter().cloned().collect();
    for (db, key) in keys {
        let exp = srv.dbs[db].dict.get(&key[..]).map(|o| o.expire);
        match exp {
            Some(e) if e != crate::db::NO_EXPIRE && e <= now => {
                srv.dbs[db].remove(&key);
                srv.stats.expired_keys += 1;
                srv.signal_modified_key(db, &key, 0);
                srv.propagate(
                    db,
                    vec![Bytes::from_static(b"DEL"), Bytes::from(key.clone())],
                );
                srv.repl.own_expires.remove(&(db, key));
            }
            Some(e) if e != crate::db::NO_EXPIRE => {}
            _ => {
                srv.repl.own_expires.remove(&(db, key));
            }
        }
    }
}

/// Once a second: timeouts of the link, ACKs to the master.
pub fn cron_1hz(r: &mut Reactor) {
    let now = now_secs();
    if r.srv.repl.link.is_some() {
        expire_own_keys(&mut r.srv);
    }
    let timeout = r.srv.config.get_i64("repl-timeout");
    let Some(l) = r.srv.repl.link.as_mut() else {
        return;
    };
    let client = l
        .client
        .and_then(|(id, slot)| r.clients.get_mut(slot).filter(|c| c.id == id));
    let Some(c) = client else {
        return;
    };
    let expired = match l.state {
        LinkState::Connect => None,
        LinkState::Transfer => (now - l.lastio > timeout).then_some("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."),
        LinkState::Connected => (now - c.last_interaction / 1000 > timeout)
            .then_some("MASTER timeout: no data nor PING received..."),
        _ => (now - l.lastio > timeout).then_some("Timeout connecting to the MASTER..."),
    };
    if let Some(msg) = expired {
        warn!("{}", msg);
        if l.state != LinkState::Connected {
            l.state = LinkState::Connect;
            l.client = None;
            l.connect_at = 0;
            info!("Reconnecting to MASTER {}:{} after failure", l.host, l.port);
        }
        c.flags |= cflags::CLOSE_ASAP;
        r.srv.flush_slots.push(c.token);
        return;
    }
    if l.state == LinkState::Connected && l.initial_offset != -1 {
        c.reply.raw(&ack_bytes(l.reploff));
        r.srv.flush_slots.push(c.token);
    }
}

/// The master link closed: keep what a partial resync needs, reconnect.
pub fn on_client_close(srv: &mut Server, c: &mut Client) {
    let Some(l) = srv.repl.link.as_mut() else {
        return;
    };
    if l.client.map(|x| x.0) != Some(c.id) {
        return;
    }
    l.client = None;
    l.pending.clear();
    l.postponed = None;
    let now = crate::util::mstime();
    match l.state {
        LinkState::Connected => {
            warn!("Connection with master lost.");
            info!("Caching the disconnected master state.");
            let cached = Cached {
                replid: l.master_replid.clone(),
                reploff: l.reploff,
                db: c.db,
            };
            l.state = LinkState::Connect;
            l.down_since = now / 1000;
            l.connect_at = now;
            info!("Reconnecting to MASTER {}:{}", l.host, l.port);
            srv.repl.cached = Some(cached);
        }
        LinkState::Transfer => {
            warn!("I/O error trying to sync with MASTER: connection lost");
            l.state = LinkState::Connect;
            l.connect_at = now;
            info!("Reconnecting to MASTER {}:{} after failure", l.host, l.port);
        }
        LinkState::Connect => {}
        _ => {
            l.state = LinkState::Connect;
            l.connect_at = now + 1000;
        }
    }
}

/// ROLE as a replica.
pub fn role_reply(srv: &Server, r: &mut crate::protocol::Reply) {
    let Some(l) = &srv.repl.link else {
        return;
    };
    let state = match l.state {
        s if s.handshake() => "handshake",
        LinkState::Connect => "connect",
        LinkState::Connecting => "connecting",
        LinkState::Transfer => "sync",
        LinkState::Connected => "connected",
        _ => "unknown",
    };
    r.array(5);
    r.bulk(b"slave");
    r.bulk(l.host.as_bytes());
    r.int(l.port as i64);
    r.bulk(state.as_bytes());
    r.int(if l.state == LinkState::Connected {
        l.reploff
    } else {
        -1
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_the_master_stream() {
        let b = b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r";
        let (n, r) = next_command(b).unwrap().unwrap();
        assert_eq!(n, 14);
        assert_eq!(r, vec![(8, 12)]);
        assert!(next_command(&b[n..]).unwrap().is_none());
        assert_eq!(next_command(b"\n*1").unwrap(), Some((1, vec![])));
        assert!(next_command(b"PING\r\n").is_err());
        assert!(next_command(b"*1\r\n+x\r\n").is_err());
        assert!(next_command(b"*1\r\n$18446744073709551615\r\nx").is_err());
    }
}

//! A connected client: its socket, buffers and per-connection state.

use std::io::{self, Read, Write};

use bytes::{Bytes, BytesMut};
use mio::net::{TcpStream, UnixStream};

use crate::protocol::{ParseState, Reply};

pub enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// No socket: the client scripts run their redis.call commands as.
    None,
}

impl Conn {
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
            Conn::None => Ok(0),
        }
    }
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
            Conn::None => Ok(buf.len()),
        }
    }
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Conn::Tcp(s) => s.as_raw_fd(),
            Conn::Unix(s) => s.as_raw_fd(),
            Conn::None => -1,
        }
    }
    pub fn shutdown(&self) {
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Conn::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Conn::None => Ok(()),
        };
    }
}

/// CLIENT REPLY state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set by SKIP: the current command's reply is dropped.
    SkipThis,
}

pub mod cflags {
    /// Close once the reply buffer is flushed (QUIT, protocol errors).
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 0;
    /// Close right away (CLIENT KILL, output buffer limit).
    pub const CLOSE_ASAP: u32 = 1 << 1;
    pub const MONITOR: u32 = 1 << 2;
    pub const PUBSUB: u32 = 1 << 3;
    pub const MULTI: u32 = 1 << 4;
    pub const DIRTY_CAS: u32 = 1 << 5;
    pub const DIRTY_EXEC: u32 = 1 << 6;
    pub const BLOCKED: u32 = 1 << 7;
    pub const NO_EVICT: u32 = 1 << 8;
    pub const TRACKING: u32 = 1 << 9;
    pub const UNIX_SOCKET: u32 = 1 << 10;
    pub const PROTOCOL_ERROR: u32 = 1 << 11;
    pub const NO_TOUCH: u32 = 1 << 12;
    /// A command is waiting for CLIENT PAUSE to end.
    pub const PAUSED: u32 = 1 << 13;
    /// A replica attached to us (SYNC/PSYNC).
    pub const SLAVE: u32 = 1 << 14;
    /// The link to our master.
    pub const MASTER: u32 = 1 << 15;
    /// CLIENT TRACKING modes (TRACKING itself is above).
    pub const TRACKING_BCAST: u32 = 1 << 24;
    pub const TRACKING_OPTIN: u32 = 1 << 25;
    pub const TRACKING_OPTOUT: u32 = 1 << 26;
    /// CLIENT CACHING yes/no given for the next command.
    pub const TRACKING_CACHING: u32 = 1 << 27;
    pub const TRACKING_NOLOOP: u32 = 1 << 28;
    /// The redirection target of invalidations is gone.
    pub const TRACKING_BROKEN_REDIR: u32 = 1 << 29;
}

pub struct Client {
    pub id: u64,
    pub token: usize,
    pub conn: Conn,
    pub addr: String,
    pub laddr: String,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub db: usize,
    pub reply: Reply,
    /// Bytes at the front of `reply.buf` already written to the socket.
    pub sent: usize,
    pub query: BytesMut,
    pub parse: ParseState,
    /// A parsed command waiting (client paused, or queued behind a block).
    pub pending_argv: Option<Vec<Bytes>>,
    pub authenticated: bool,
    pub user: String,
    pub flags: u32,
    pub reply_mode: ReplyMode,
    /// Creation and last-activity time, unix ms.
    pub ctime: i64,
    pub last_interaction: i64,
    pub last_cmd: String,
    pub cur_cmd: String,
    /// When the soft output limit was first exceeded (0 = not exceeded).
    pub obuf_soft_since: i64,
    pub net_in: u64,
    pub net_out: u64,
    pub commands_processed: u64,
    /// Peak size of the query buffer since the last cron check.
    pub qbuf_peak: usize,
    /// Bytes of the query buffer already parsed in the current batch: Redis
    /// keeps them in its buffer until the batch is done, and CLIENT LIST's
    /// qbuf counts them.
    pub qb_pos: usize,
    /// Extension slots for features built on the core (transactions,
    /// pub/sub, tracking, blocking) to keep per-client state.
    pub ext: ClientExt,
}

/// Per-client state owned by feature modules.
#[derive(Default)]
pub struct ClientExt {
    /// Queued MULTI commands.
    pub multi_queue: Vec<Vec<Bytes>>,
    /// Keys this client WATCHes: (db, key).
    pub watched: Vec<(usize, Vec<u8>)>,
    pub channels: std::collections::HashSet<Vec<u8>>,
    pub patterns: std::collections::HashSet<Vec<u8>>,
    pub shard_channels: std::collections::HashSet<Vec<u8>>,
    /// Blocking state while BLOCKED is set.
    pub blocked: Option<Box<dyn std::any::Any>>,
    pub block_timeout: i64,
    /// CLIENT TRACKING REDIRECT target (0: none).
    pub tracking_redirect: u64,
    /// CLIENT TRACKING BCAST prefixes.
    pub tracking_prefixes: std::collections::BTreeSet<Vec<u8>>,
}

impl Client {
    pub fn new(id: u64, token: usize, conn: Conn, addr: String, laddr: String, now: i64) -> Client {
        let unix = matches!(conn, Conn::Unix(_));
        Client {
            id,
            token,
            conn,
            addr,
            laddr,
            name: None,
            lib_name: None,
            lib_ver: None,
            db: 0,
            reply: Reply::new(),
            sent: 0,
            query: BytesMut::with_capacity(16 * 1024),
            parse: ParseState::new(),
            pending_argv: None,
            authenticated: false,
            user: "default".into(),
            flags: if unix { cflags::UNIX_SOCKET } else { 0 },
            reply_mode: ReplyMode::On,
            ctime: now,
            last_interaction: now,
            last_cmd: "NULL".into(),
            cur_cmd: "NULL".into(),
            obuf_soft_since: 0,
            net_in: 0,
            net_out: 0,
            commands_processed: 0,
            qbuf_peak: 0,
            qb_pos: 0,
            ext: ClientExt::default(),
        }
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Bytes waiting to be written.
    pub fn pending_output(&self) -> usize {
        self.reply.buf.len() - self.sent
    }

    /// Write as much pending output as the socket takes. Returns Err on a
    /// dead connection.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.sent < self.reply.buf.len() {
            match self.conn.write(&self.reply.buf[self.sent..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "closed")),
                Ok(n) => {
                    self.sent += n;
                    self.net_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if self.sent == self.reply.buf.len() {
            self.sent = 0;
            self.reply.buf.clear();
            // Give back memory after a huge reply.
            if self.reply.buf.capacity() > 1 << 20 {
                self.reply.buf = Vec::with_capacity(16 * 1024);
            }
        }
        Ok(())
    }

    /// CLIENT LIST / CLIENT INFO line for this client.
    pub fn info_line(&self, now: i64) -> String {
        let mut fl = String::new();
        if self.has(cflags::MONITOR) {
            fl.push('O');
        } else if self.has(cflags::SLAVE) {
            fl.push('S');
        }
        if self.has(cflags::MASTER) {
            fl.push('M');
        }
        if self.has(cflags::PUBSUB) {
            fl.push('P');
        }
        if self.has(cflags::MULTI) {
            fl.push('x');
        }
        if self.has(cflags::BLOCKED) {
            fl.push('b');
        }
        if self.has(cflags::TRACKING) {
            fl.push('t');
        }
        if self.has(cflags::TRACKING_BROKEN_REDIR) {
            fl.push('R');
        }
        if self.has(cflags::TRACKING_BCAST) {
            fl.push('B');
        }
        if self.has(cflags::DIRTY_CAS) {
            fl.push('d');
        }
        if self.has(cflags::CLOSE_AFTER_REPLY) {
            fl.push('c');
        }
        if self.has(cflags::CLOSE_ASAP) {
            fl.push('A');
        }
        if self.has(cflags::UNIX_SOCKET) {
            fl.push('U');
        }
        if self.has(cflags::NO_EVICT) {
            fl.push('e');
        }
        if self.has(cflags::NO_TOUCH) {
            fl.push('T');
        }
        if fl.is_empty() {
            fl.push('N');
        }
        let events = if self.pending_output() > 0 { "rw" } else { "r" };
        let name = self
            .name
            .as_deref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let multi = if self.has(cflags::MULTI) {
            self.ext.multi_queue.len() as i64
        } else {
            -1
        };
        let (addr, laddr) = if self.has(cflags::UNIX_SOCKET) {
            (format!("{}:0", self.addr), format!("{}:0", self.laddr))
        } else {
            (self.addr.clone(), self.laddr.clone())
        };
        // Redis's omem counts only the reply list beyond its 16 KB buffer.
        let omem = self.pending_output().saturating_sub(16 * 1024) as u64;
        let qbuf = self.query.len() + self.qb_pos;
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events={} cmd={} user={} redir={} resp={}{}",
            self.id,
            addr,
            laddr,
            self.conn.fd(),
            name,
            (now - self.ctime) / 1000,
            (now - self.last_interaction) / 1000,
            fl,
            self.db,
            self.ext.channels.len(),
            self.ext.patterns.len(),
            self.ext.shard_channels.len(),
            multi,
            qbuf,
            self.query.capacity().saturating_sub(self.query.len()),
            0,
            self.query.capacity(),
            self.qbuf_peak,
            self.pending_output(),
            omem,
            omem as usize + self.query.capacity() + 1024,
            events,
            self.last_cmd,
            self.user,
            if self.has(cflags::TRACKING) {
                self.ext.tracking_redirect as i64
            } else {
                -1
            },
            self.reply.resp,
            // Redis 7.2's library fields, shown once a client sets them.
            if self.lib_name.is_some() || self.lib_ver.is_some() {
                format!(
                    " lib-name={} lib-ver={}",
                    self.lib_name.as_deref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default(),
                    self.lib_ver.as_deref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default()
                )
            } else {
                String::new()
            },
        )
    }
}

/// All connected clients, indexed by their mio token.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Option<Box<Client>>>,
    free: Vec<usize>,
    count: usize,
    /// Client id -> slot, so messages reach a client in O(1).
    ids: std::collections::HashMap<u64, usize>,
}

impl Clients {
    pub fn next_slot(&mut self) -> usize {
        if let Some(i) = self.free.pop() {
            i
        } else {
            self.slots.push(None);
            self.slots.len() - 1
        }
    }
    pub fn put(&mut self, slot: usize, c: Box<Client>) {
        if self.slots[slot].is_none() {
            self.count += 1;
        }
        self.ids.insert(c.id, slot);
        self.slots[slot] = Some(c);
    }
    /// Take a client out (while it runs a command or is closed).
    pub fn take(&mut self, slot: usize) -> Option<Box<Client>> {
        let c = self.slots.get_mut(slot)?.take();
        if c.is_some() {
            self.count -= 1;
        }
        c
    }
    /// Put back a client taken with `take`.
    pub fn restore(&mut self, slot: usize, c: Box<Client>) {
        self.put(slot, c);
    }
    /// Free a slot for reuse after its client is gone.
    pub fn release(&mut self, slot: usize) {
        if slot < self.slots.len() && self.slots[slot].is_none() {
            self.ids.retain(|_, s| *s != slot);
            self.free.push(slot);
        }
    }
    /// Free the slot of a closed client (its id was forgotten already).
    pub fn free_slot(&mut self, slot: usize) {
        if slot < self.slots.len() && self.slots[slot].is_none() {
            self.free.push(slot);
        }
    }
    /// Forget a closed client's id.
    pub fn forget(&mut self, id: u64) {
        self.ids.remove(&id);
    }
    pub fn get(&self, slot: usize) -> Option<&Client> {
        self.slots.get(slot)?.as_deref()
    }
    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Client> {
        self.slots.get_mut(slot)?.as_deref_mut()
    }
    pub fn by_id(&mut self, id: u64) -> Option<&mut Client> {
        let slot = *self.ids.get(&id)?;
        self.get_mut(slot).filter(|c| c.id == id)
    }
    /// Clients present in the table (the running one excluded).
    pub fn len(&self) -> usize {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().filter_map(|c| c.as_deref())
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.slots.iter_mut().filter_map(|c| c.as_deref_mut())
    }
    pub fn slots(&self) -> usize {
        self.slots.len()
    }
}

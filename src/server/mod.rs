//! The server: state owned by the reactor thread, the command execution
//! path, and the single propagation step every write goes through.

pub mod alloc;
pub mod blocking;
pub mod client;
pub mod cron;
pub mod evict;
pub mod exec;
pub mod log;
pub mod reactor;
pub mod stats;
pub mod tracking;

use std::collections::HashMap;

use bytes::Bytes;

pub use client::{Client, Clients, Conn};
pub use stats::Stats;

use crate::commands::Registry;
use crate::config::Config;
use crate::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseKind {
    Write,
    All,
}

#[derive(Debug, Default)]
pub struct SlowlogEntry {
    pub id: u64,
    pub time: i64,
    pub duration_us: i64,
    pub argv: Vec<Vec<u8>>,
    pub addr: String,
    pub name: String,
}

/// Why the server stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShutdownRequest {
    pub save: Option<bool>,
    pub now: bool,
    pub force: bool,
}

pub struct Server {
    pub config: Config,
    pub dbs: Vec<Db>,
    /// The command table; built once and never freed, so a command can be
    /// held while the server is borrowed mutably.
    pub commands: &'static Registry,
    pub stats: Stats,
    /// Changes since the last save (Redis's server.dirty).
    pub dirty: u64,
    pub run_id: String,
    pub start_ms: i64,
    pub next_client_id: u64,
    pub pid: u32,
    /// Listening TCP port actually bound.
    pub port: u16,
    pub executable: String,
    pub slowlog: std::collections::VecDeque<SlowlogEntry>,
    pub slowlog_next_id: u64,
    pub pause_until: i64,
    pub pause_kind: Option<PauseKind>,
    pub shutdown: Option<ShutdownRequest>,
    pub active_expire_enabled: bool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: accept RDB/DUMP checksums as is.
    pub skip_checksum_validation: bool,
    /// MIGRATE's cached connections, by "host:port".
    pub migrate_sockets: std::collections::HashMap<String, crate::commands::dump::MigrateSocket>,
    /// Clients in MONITOR mode (ids).
    pub monitors: Vec<u64>,
    /// Keys with new data for blocked clients: (db, key).
    pub ready_keys: Vec<(usize, Vec<u8>)>,
    /// Clients blocked on keys (BLPOP...), see `blocking`.
    pub blocking: blocking::Blocking,
    /// Set by a command to propagate a different argv than it was called with.
    pub propagate_override: Option<Vec<Bytes>>,
    /// Extra commands to propagate before the current one (db, argv).
    pub also_propagate: Vec<(usize, Vec<Bytes>)>,
    /// Everything propagated, in order, for the AOF and replicas to consume.
    pub propagated: Vec<(usize, Vec<Bytes>)>,
    /// The entries of `propagated` meant for only one of them, as (index,
    /// `propagate::AOF` or `propagate::REPL`); every other entry goes to
    /// both. Read it with `propagation_target`.
    pub propagated_only: Vec<(usize, u8)>,
    /// Set by a command to be propagated even if it changed nothing
    /// (PUBLISH: to replicas), see `Ctx::force_propagation`.
    pub force_propagate: u8,
    /// Where the command about to be called may propagate: a script's
    /// redis.set_repl() narrows it for the commands the script calls.
    pub call_targets: u8,
    /// (db, key) -> ids of clients WATCHing it.
    pub watched_keys: HashMap<(usize, Vec<u8>), Vec<u64>>,
    /// WATCHes of keys that were already expired when watched: (id, (db, key)).
    pub watched_stale: std::collections::HashSet<(u64, (usize, Vec<u8>))>,
    /// Client ids whose WATCHed keys were touched (flagged dirty at the
    /// end of the command, when every client is back in the table).
    pub dirty_cas_pending: Vec<u64>,
    /// Keyspace notifications waiting to be published: (channel, message).
    pub pending_notifications: Vec<(Vec<u8>, Vec<u8>)>,
    /// Messages to deliver to specific clients (pub/sub, tracking): (id, RESP bytes).
    pub outbox: Vec<(u64, Vec<u8>)>,
    /// Clients to kill at the end of the command (CLIENT KILL).
    pub kill_ids: Vec<u64>,
    pub hz: u32,
    pub cronloops: u64,
    pub loading: bool,
    pub last_save: i64,
    /// Function libraries (FUNCTION LOAD).
    pub functions: crate::commands::scripting::Functions,
    /// The Lua interpreter, created on first use.
    pub lua: Option<Box<crate::scripting::LuaEngine>>,
    /// The reactor's poller, for serving clients while a script is busy.
    pub poll_ptr: *mut mio::Poll,
    pub listeners_ptr: *const Vec<reactor::Listener>,
    /// TCP listeners bound by CONFIG SET port/bind, for the reactor to
    /// put in place of the old ones.
    pub new_tcp_listeners: Option<Vec<mio::net::TcpListener>>,
    /// Clients touched while a script was busy: the reactor resumes them.
    pub busy_slots: Vec<usize>,
    /// Clients given output by another client's command (pub/sub).
    pub flush_slots: Vec<usize>,
    /// RDB snapshot state.
    pub persist: crate::persistence::State,
    /// The append-only file.
    pub aof: crate::persistence::aof::Aof,
    /// Pub/Sub subscriptions.
    pub pubsub: crate::commands::pubsub::PubSub,
    /// Client-side caching (CLIENT TRACKING) state.
    pub tracking: tracking::Tracking,
    /// DEBUG PAUSE-CRON: skip the periodic work.
    pub pause_cron: bool,
    /// Replication: replicas, backlog, the link to our master.
    pub repl: crate::replication::Repl,
}

pub const REDIS_VERSION: &str = crate::REDIS_VERSION;

impl Server {
    pub fn new(config: Config) -> Server {
        let n = config.databases;
        let now = crate::util::mstime();
        Server {
            dbs: (0..n).map(Db::new).collect(),
            commands: Box::leak(Box::new({
                let mut r = Registry::new();
                for (from, to) in &config.renames {
                    if !r.rename(from, to) {
                        tracing::warn!("No such command in rename-command: {}", from);
                    }
                }
                r
            })),
            stats: Stats::default(),
            dirty: 0,
            run_id: crate::util::random_hex(40),
            start_ms: now,
            next_client_id: 1,
            pid: std::process::id(),
            port: config.port,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            slowlog: Default::default(),
            slowlog_next_id: 0,
            pause_until: 0,
            pause_kind: None,
            shutdown: None,
            active_expire_enabled: true,
            skip_checksum_validation: false,
            migrate_sockets: Default::default(),
            monitors: Vec::new(),
            ready_keys: Vec::new(),
            blocking: Default::default(),
            propagate_override: None,
            also_propagate: Vec::new(),
            propagated: Vec::new(),
            propagated_only: Vec::new(),
            force_propagate: 0,
            call_targets: propagate::ALL,
            watched_keys: HashMap::new(),
            watched_stale: Default::default(),
            dirty_cas_pending: Vec::new(),
            pending_notifications: Vec::new(),
            outbox: Vec::new(),
            kill_ids: Vec::new(),
            hz: config.hz,
            cronloops: 0,
            loading: false,
            last_save: now / 1000,
            functions: Default::default(),
            lua: None,
            poll_ptr: std::ptr::null_mut(),
            listeners_ptr: std::ptr::null(),
            new_tcp_listeners: None,
            busy_slots: Vec::new(),
            pubsub: Default::default(),
            flush_slots: Vec::new(),
            persist: Default::default(),
            aof: Default::default(),
            tracking: Default::default(),
            pause_cron: false,
            repl: Default::default(),
            config,
        }
    }

    /// A key's value changed (Redis's signalModifiedKey): WATCHers become
    /// dirty. A key that was already expired when WATCHed and is now simply
    /// gone counts as unchanged. Clients that may cache the key are sent
    /// an invalidation; `by` is the id of the client that changed it (0
    /// when none did, e.g. expiry).
    pub fn signal_modified_key(&mut self, db: usize, key: &[u8], by: u64) {
        tracking::invalidate_key(self, key, by, true);
        if self.watched_keys.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        let Some(ids) = self.watched_keys.get(&k) else {
            return;
        };
        let present = self.dbs.get(db).is_some_and(|d| d.dict.contains_key(key));
        for &id in ids {
            if self.watched_stale.contains(&(id, k.clone())) && !present {
                continue;
            }
            self.dirty_cas_pending.push(id);
        }
    }

    /// A database is about to be emptied or swapped (FLUSHDB, FLUSHALL,
    /// SWAPDB): WATCHers of keys that exist in it (or in `other`, the db
    /// taking its place) become dirty; watched keys that do not exist, or
    /// were already expired when watched, are not affected. A flush (no
    /// `other`) also tells every tracking client that all keys are invalid.
    pub fn signal_db_change(&mut self, db: Option<usize>, other: Option<usize>) {
        if other.is_none() {
            tracking::invalidate_on_flush(self);
        }
        let now = crate::util::mstime();
        let live = |d: &Db, key: &[u8]| {
            d.dict
                .get(key)
                .is_some_and(|o| o.expire == crate::db::NO_EXPIRE || o.expire > now)
        };
        let (mut dirty, mut stale) = (Vec::new(), Vec::new());
        for ((d, key), ids) in self.watched_keys.iter() {
            if db.is_some_and(|x| x != *d) && other.is_none_or(|o| o != *d) {
                continue;
            }
            let exists = live(&self.dbs[*d], key) || other.is_some_and(|o| live(&self.dbs[o], key));
            if exists {
                dirty.extend(ids.iter().copied());
            } else if let Some(o) = other.filter(|_| db == Some(*d)) {
                // A missing key replaced with an expired one: logically
                // still missing, so it is watched as stale from now on.
                if !self.dbs[*d].dict.contains_key(key) && self.dbs[o].dict.contains_key(key) {
                    stale.extend(ids.iter().map(|&id| (id, (*d, key.clone()))));
                }
            }
        }
        self.dirty_cas_pending.extend(dirty);
        self.watched_stale.extend(stale);
    }

    /// Queue a keyspace notification (published after the command).
    pub fn notify_keyspace_event(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        use crate::config::params::{NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_NEW};
        let flags = self.config.notify_flags;
        // A created key's "new" event comes first, as Redis emits it
        // when the key is added.
        if flags & NOTIFY_NEW != 0 && class != NOTIFY_NEW {
            self.notify_new_keys();
        }
        if flags & class == 0 {
            return;
        }
        if flags & NOTIFY_KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            self.pending_notifications
                .push((ch, event.as_bytes().to_vec()));
        }
        if flags & NOTIFY_KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{event}").into_bytes();
            self.pending_notifications.push((ch, key.to_vec()));
        }
    }

    /// Emit the "new" events of keys created since the last call.
    pub fn notify_new_keys(&mut self) {
        for db in 0..self.dbs.len() {
            if self.dbs[db].new_pending.is_empty() {
                continue;
            }
            for k in std::mem::take(&mut self.dbs[db].new_pending) {
                self.notify_keyspace_event(crate::config::params::NOTIFY_NEW, "new", &k, db);
            }
        }
    }

    pub fn signal_key_as_ready(&mut self, db: usize, key: &[u8]) {
        if self.blocking.is_empty() {
            return;
        }
        self.ready_keys.push((db, key.to_vec()));
    }

    /// The single propagation step: every change to the dataset ends up
    /// here as a command (AOF, replicas).
    pub fn propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        self.propagate_to(db, argv, propagate::ALL);
    }

    /// Propagate to the AOF, the replicas, or both (`propagate::*`).
    pub fn propagate_to(&mut self, db: usize, argv: Vec<Bytes>, target: u8) {
        if target & propagate::ALL == 0 {
            return;
        }
        if self.propagated.is_empty() {
            // Consumers clear `propagated` once they are done with it.
            self.propagated_only.clear();
        }
        if target & propagate::ALL != propagate::ALL {
            self.propagated_only.push((self.propagated.len(), target));
        }
        self.propagated.push((db, argv));
    }

    /// Where `propagated[i]` goes (`propagate::*`).
    pub fn propagation_target(&self, i: usize) -> u8 {
        self.propagated_only
            .iter()
            .find(|(j, _)| *j == i)
            .map_or(propagate::ALL, |(_, t)| *t)
    }

    /// Wrap what was propagated from index `start` on in MULTI ... EXEC,
    /// so the AOF and replicas apply it atomically (Redis wraps an
    /// execution unit that propagated more than one command).
    pub fn wrap_propagated_in_transaction(&mut self, start: usize) {
        let Some(first_db) = self.propagated.get(start).map(|p| p.0) else {
            return;
        };
        let last_db = self.propagated.last().map_or(first_db, |p| p.0);
        for (i, _) in self.propagated_only.iter_mut() {
            if *i >= start {
                *i += 1;
            }
        }
        self.propagated
            .insert(start, (first_db, vec![Bytes::from_static(b"MULTI")]));
        self.propagated
            .push((last_db, vec![Bytes::from_static(b"EXEC")]));
    }

    /// Handle keys deleted by lazy/active expiry: propagate DEL, notify,
    /// invalidate WATCH, count them.
    pub fn drain_expired(&mut self) {
        if self.config.notify_flags & crate::config::params::NOTIFY_NEW != 0 {
            self.notify_new_keys();
        }
        if !crate::db::EXPIRED_PENDING.swap(false, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        for db in 0..self.dbs.len() {
            if self.dbs[db].expired_pending.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[db].expired_pending);
            for k in keys {
                self.stats.expired_keys += 1;
                self.notify_keyspace_event(
                    crate::config::params::NOTIFY_EXPIRED,
                    "expired",
                    &k,
                    db,
                );
                self.signal_modified_key(db, &k, 0);
                self.propagate(
                    db,
                    vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(&k)],
                );
            }
        }
    }

    pub fn uptime_secs(&self) -> i64 {
        (crate::util::mstime() - self.start_ms) / 1000
    }

    pub fn add_slowlog(&mut self, argv: &[Bytes], duration_us: i64, client: &Client) {
        let max_args = 32;
        let mut args: Vec<Vec<u8>> = Vec::new();
        let n = argv.len().min(max_args);
        for (i, a) in argv.iter().take(n).enumerate() {
            if i == max_args - 1 && argv.len() > max_args {
                args.push(
                    format!("... ({} more arguments)", argv.len() - max_args + 1).into_bytes(),
                );
            } else if a.len() > 128 {
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                args.push(v);
            } else {
                args.push(a.to_vec());
            }
        }
        let e = SlowlogEntry {
            id: self.slowlog_next_id,
            time: crate::util::mstime() / 1000,
            duration_us,
            argv: args,
            addr: client.addr.clone(),
            name: client
                .name
                .as_deref()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default(),
        };
        self.slowlog_next_id += 1;
        self.slowlog.push_front(e);
        while self.slowlog.len() > self.config.slowlog_max_len {
            self.slowlog.pop_back();
        }
    }
}

/// Targets of propagation (Redis's PROPAGATE_AOF / PROPAGATE_REPL).
pub mod propagate {
    pub const AOF: u8 = 1;
    pub const REPL: u8 = 2;
    pub const ALL: u8 = AOF | REPL;
}

/// "Address already in use" style text of an io error (without "(os error N)").
pub fn log_io_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The start-up banner: version, port, pid, config file. Its ` PID: `
/// line is what supervisors and test harnesses wait for.
pub fn log_banner(srv: &Server) {
    let cfg = srv
        .config
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let lines = [
        String::new(),
        format!(
            "  Ermine {} (Redis {} compatible) 64 bit",
            crate::ERMINE_VERSION,
            REDIS_VERSION
        ),
        "  Running in standalone mode".to_string(),
        format!("  Port: {}", srv.port),
        format!("  PID: {}", srv.pid),
        format!("  Config file: {}", cfg),
        String::new(),
    ];
    tracing::info!("{}", lines.join("\n"));
}

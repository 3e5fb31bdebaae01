//! The command table and the context every command runs with.
//!
//! Each family module (string, keys, list, ...) owns a `COMMANDS` table of
//! `CommandSpec`s: name, arity, flags, key positions, ACL categories and
//! the handler. `Registry::new` gathers them; the server dispatches through
//! it and COMMAND introspects it.

pub mod bitops;
pub mod client;
pub mod command;
pub mod connection;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod keys;
pub mod list;
pub mod meta;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod tx;
pub mod zset;

use std::collections::HashMap;

use bytes::Bytes;

use crate::db::{Db, Obj, Value};
use crate::server::{Client, Clients, Server};

/// A command handler. Replies go to `ctx.client.reply`.
pub type Handler = fn(&mut Ctx, &[Bytes]);
/// Extracts key positions for commands whose keys move (movablekeys).
pub type GetKeys = fn(&[Bytes]) -> Vec<usize>;

pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 4;
    pub const PUBSUB: u32 = 1 << 5;
    pub const NOSCRIPT: u32 = 1 << 6;
    pub const BLOCKING: u32 = 1 << 8;
    pub const LOADING: u32 = 1 << 9;
    pub const STALE: u32 = 1 << 10;
    pub const SKIP_MONITOR: u32 = 1 << 11;
    pub const SKIP_SLOWLOG: u32 = 1 << 12;
    pub const ASKING: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const NO_AUTH: u32 = 1 << 15;
    pub const MAY_REPLICATE: u32 = 1 << 16;
    pub const SENTINEL: u32 = 1 << 17;
    pub const ONLY_SENTINEL: u32 = 1 << 18;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 19;
    pub const PROTECTED: u32 = 1 << 20;
    pub const NO_ASYNC_LOADING: u32 = 1 << 23;
    pub const NO_MULTI: u32 = 1 << 24;
    pub const MOVABLE_KEYS: u32 = 1 << 25;
    pub const ALLOW_BUSY: u32 = 1 << 26;

    /// Names as COMMAND INFO prints them, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];

    /// Parse a space-separated flag list as written in the tables.
    pub fn parse(s: &str) -> u32 {
        let mut f = 0;
        for w in s.split_whitespace() {
            f |= match w {
                "write" => WRITE,
                "readonly" => READONLY,
                "denyoom" => DENYOOM,
                "admin" => ADMIN,
                "pubsub" => PUBSUB,
                "noscript" => NOSCRIPT,
                "blocking" => BLOCKING,
                "loading" => LOADING,
                "stale" => STALE,
                "skip_monitor" => SKIP_MONITOR,
                "skip_slowlog" => SKIP_SLOWLOG,
                "asking" => ASKING,
                "fast" => FAST,
                "no_auth" => NO_AUTH,
                "may_replicate" => MAY_REPLICATE,
                "sentinel" => SENTINEL,
                "only_sentinel" => ONLY_SENTINEL,
                "no_mandatory_keys" => NO_MANDATORY_KEYS,
                "protected" => PROTECTED,
                "no_async_loading" => NO_ASYNC_LOADING,
                "no_multi" => NO_MULTI,
                "movablekeys" => MOVABLE_KEYS,
                "allow_busy" => ALLOW_BUSY,
                other => panic!("unknown command flag {other}"),
            };
        }
        f
    }
}

/// ACL categories in Redis's order (ACL CAT lists them so).
pub const ACL_CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

pub fn acl_bit(name: &str) -> u64 {
    ACL_CATEGORIES
        .iter()
        .position(|c| *c == name)
        .map(|i| 1u64 << i)
        .unwrap_or_else(|| panic!("unknown ACL category {name}"))
}

/// One command as written in a family's table.
pub struct CommandSpec {
    /// Lowercase name ("get"; for a subcommand, the subcommand: "get" of CONFIG).
    pub name: &'static str,
    /// Positive: exact argc; negative: at least -arity.
    pub arity: i32,
    pub flags: &'static str,
    /// Explicit ACL categories without '@' ("keyspace string"); the implicit
    /// ones (read, write, fast/slow, admin...) are derived from the flags.
    pub acl: &'static str,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub handler: Handler,
    pub getkeys: Option<GetKeys>,
    pub subcommands: &'static [CommandSpec],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Hints for clients (COMMAND INFO "tips"), e.g. "nondeterministic_output".
    pub tips: &'static [&'static str],
}

fn no_handler(ctx: &mut Ctx, _: &[Bytes]) {
    ctx.client.reply.error_raw("ERR command has no handler");
}

impl CommandSpec {
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: "",
        acl: "",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: no_handler,
        getkeys: None,
        subcommands: &[],
        group: "generic",
        since: "1.0.0",
        summary: "",
        complexity: "",
        tips: &[],
    };
}

/// A resolved command: the spec plus parsed flags and categories.
pub struct Command {
    pub spec: &'static CommandSpec,
    /// "get" or "config|get".
    pub fullname: String,
    pub flags: u32,
    pub acl: u64,
    pub subcommands: HashMap<String, Command>,
    /// Index into the server's per-command statistics.
    pub id: usize,
    pub parent: Option<String>,
}

impl Command {
    fn new(spec: &'static CommandSpec, parent: Option<&str>, next_id: &mut usize) -> Command {
        let mut fl = flags::parse(spec.flags);
        if spec.getkeys.is_some() {
            fl |= flags::MOVABLE_KEYS;
        }
        let mut acl = 0u64;
        for c in spec.acl.split_whitespace() {
            acl |= acl_bit(c.trim_start_matches('@'));
        }
        if fl & flags::WRITE != 0 {
            acl |= acl_bit("write");
        }
        if fl & flags::READONLY != 0 && acl & acl_bit("scripting") == 0 {
            acl |= acl_bit("read");
        }
        if fl & flags::ADMIN != 0 {
            acl |= acl_bit("admin") | acl_bit("dangerous");
        }
        if fl & flags::PUBSUB != 0 {
            acl |= acl_bit("pubsub");
        }
        if fl & flags::FAST != 0 {
            acl |= acl_bit("fast");
        }
        if fl & flags::BLOCKING != 0 {
            acl |= acl_bit("blocking");
        }
        if acl & acl_bit("fast") == 0 {
            acl |= acl_bit("slow");
        }
        let fullname = match parent {
            Some(p) => format!("{}|{}", p, spec.name),
            None => spec.name.to_string(),
        };
        let id = *next_id;
        *next_id += 1;
        let mut subcommands = HashMap::new();
        for s in spec.subcommands {
            subcommands.insert(
                s.name.to_string(),
                Command::new(s, Some(spec.name), next_id),
            );
        }
        Command {
            spec,
            fullname,
            flags: fl,
            acl,
            subcommands,
            id,
            parent: parent.map(|s| s.to_string()),
        }
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Positions of key arguments in argv.
    pub fn key_positions(&self, argv: &[Bytes]) -> Vec<usize> {
        if let Some(gk) = self.spec.getkeys {
            return gk(argv);
        }
        let s = self.spec;
        if s.first_key <= 0 {
            return Vec::new();
        }
        let argc = argv.len() as i32;
        let last = if s.last_key < 0 {
            argc + s.last_key
        } else {
            s.last_key
        };
        let mut out = Vec::new();
        let mut i = s.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += s.step.max(1);
        }
        out
    }
}

/// Hasher of the command table, looked up once per command: the dict's
/// one-pass SipHash instead of std's streaming one.
#[derive(Default, Clone, Copy)]
pub struct NameHash;

pub struct NameHasher(u64);

impl std::hash::BuildHasher for NameHash {
    type Hasher = NameHasher;
    fn build_hasher(&self) -> NameHasher {
        NameHasher(0)
    }
}

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.rotate_left(7) ^ crate::db::dict::hash_bytes(bytes);
    }
    fn write_u8(&mut self, b: u8) {
        // str's terminator byte.
        self.0 ^= b as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub struct Registry {
    pub commands: HashMap<String, Command, NameHash>,
    /// Full names ("get", "config|get") by command id.
    pub names: Vec<String>,
    /// Total number of commands and subcommands (size of stats arrays).
    pub count: usize,
}

/// Every family's table.
fn tables() -> Vec<&'static [CommandSpec]> {
    vec![
        string::COMMANDS,
        keys::COMMANDS,
        connection::COMMANDS,
        server::COMMANDS,
        command::COMMANDS,
        list::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        zset::COMMANDS,
        client::COMMANDS,
        pubsub::COMMANDS,
        tx::COMMANDS,
        sort::COMMANDS,
        scripting::COMMANDS,
        dump::COMMANDS,
        bitops::COMMANDS,
        replication::COMMANDS,
        geo::COMMANDS,
        stream::COMMANDS,
    ]
}

impl Registry {
    pub fn new() -> Registry {
        let mut commands = HashMap::with_hasher(NameHash);
        let mut next_id = 0;
        for t in tables() {
            for spec in t {
                let c = Command::new(spec, None, &mut next_id);
                assert!(
                    commands.insert(spec.name.to_string(), c).is_none(),
                    "duplicate command {}",
                    spec.name
                );
            }
        }
        let mut names = vec![String::new(); next_id];
        for c in commands.values() {
            names[c.id] = c.fullname.clone();
            for s in c.subcommands.values() {
                names[s.id] = s.fullname.clone();
            }
        }
        Registry {
            commands,
            names,
            count: next_id,
        }
    }

    /// Look up argv's command, descending into a subcommand when the
    /// command is a container. Case-insensitive.
    pub fn lookup(&self, argv: &[Bytes]) -> Option<&Command> {
        // Lowercase into a stack buffer: this runs for every command.
        let a = &argv[0];
        let c = if a.len() <= 32 {
            let mut buf = [0u8; 32];
            for (d, s) in buf.iter_mut().zip(a.iter()) {
                *d = s.to_ascii_lowercase();
            }
            self.commands
                .get(std::str::from_utf8(&buf[..a.len()]).ok()?)?
        } else {
            self.commands.get(lower_key(a).as_str())?
        };
        if c.subcommands.is_empty() {
            return Some(c);
        }
        if argv.len() < 2 {
            return Some(c);
        }
        c.subcommands.get(lower_key(&argv[1]).as_str())
    }

    /// rename-command: the command answers to `to` only ("" = disabled).
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        let Some(c) = self.commands.remove(from) else {
            return false;
        };
        if !to.is_empty() {
            self.commands.insert(to.to_string(), c);
        }
        true
    }

    pub fn lookup_name(&self, name: &[u8]) -> Option<&Command> {
        let n = lower_key(name);
        if let Some((a, b)) = n.split_once('|') {
            return self.commands.get(a)?.subcommands.get(b);
        }
        self.commands.get(n.as_str())
    }

    /// Every command and subcommand (for stats output).
    pub fn all(&self) -> Vec<&Command> {
        let mut v = Vec::new();
        for c in self.commands.values() {
            v.push(c);
            for s in c.subcommands.values() {
                v.push(s);
            }
        }
        v
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

fn lower_key(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        s.push(c.to_ascii_lowercase() as char);
    }
    s
}

/// Everything a command handler can touch.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut Client,
    /// Every other client (the running one is taken out while it runs).
    pub clients: &'a mut Clients,
    /// Command start time in unix ms: one clock for the whole command, so
    /// a key cannot expire halfway through it.
    pub now: i64,
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX_ERR: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";

impl<'a> Ctx<'a> {
    pub fn db(&mut self) -> &mut Db {
        let i = self.client.db;
        &mut self.srv.dbs[i]
    }

    pub fn db_index(&self) -> usize {
        self.client.db
    }

    /// Look a key up (expiring it lazily), counting a hit or miss.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Obj> {
        let now = self.now;
        let i = self.client.db;
        let db = &mut self.srv.dbs[i];
        match db.lookup_touch(key, now) {
            Some(o) => {
                self.srv.stats.keyspace_hits += 1;
                Some(o)
            }
            None => {
                self.srv.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// Look a key up for writing (no hit/miss accounting).
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Obj> {
        let now = self.now;
        let i = self.client.db;
        self.srv.dbs[i].lookup_touch(key, now)
    }

    pub fn reply(&mut self) -> &mut crate::protocol::Reply {
        &mut self.client.reply
    }

    /// Reply with an error. `msg` includes its code ("ERR ...",
    /// "WRONGTYPE ..."); errors without a code get "ERR ".
    pub fn error(&mut self, msg: &str) {
        let full: std::borrow::Cow<str> = if msg.starts_with(|c: char| c.is_ascii_uppercase())
            && msg.split(' ').next().is_some_and(|w| {
                w.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
            }) {
            msg.into()
        } else {
            format!("ERR {msg}").into()
        };
        self.srv.stats.record_error(&full);
        self.client.reply.error_raw(&full);
    }

    pub fn wrongtype(&mut self) {
        self.error(WRONGTYPE);
    }
    pub fn syntax_error(&mut self) {
        self.error(SYNTAX_ERR);
    }
    pub fn not_int(&mut self) {
        self.error(NOT_INT);
    }
    pub fn not_float(&mut self) {
        self.error(NOT_FLOAT);
    }

    /// Parse an argument as i64, replying the standard error on failure.
    pub fn int_arg(&mut self, a: &[u8]) -> Option<i64> {
        let v = crate::util::parse_i64(a);
        if v.is_none() {
            self.not_int();
        }
        v
    }

    /// Parse an argument as f64, replying the standard error on failure.
    pub fn float_arg(&mut self, a: &[u8]) -> Option<f64> {
        let v = crate::util::parse_f64(a);
        if v.is_none() {
            self.not_float();
        }
        v
    }

    /// Count changes for persistence (save points, propagation).
    pub fn dirty(&mut self, n: u64) {
        self.srv.dirty += n;
    }

    /// A key's value changed: invalidates WATCH and client-side caches.
    pub fn signal_modified(&mut self, key: &[u8]) {
        let db = self.client.db;
        let by = self.client.id;
        self.srv.signal_modified_key(db, key, by);
    }

    /// `signal_modified` for a key of another database (MOVE, COPY).
    pub fn signal_modified_in(&mut self, db: usize, key: &[u8]) {
        let by = self.client.id;
        self.srv.signal_modified_key(db, key, by);
    }

    /// Emit a keyspace notification if its class is enabled.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.srv.notify_keyspace_event(class, event, key, db);
    }

    /// A key that blocked clients may wait on received data.
    pub fn signal_key_ready(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.srv.signal_key_as_ready(db, key);
    }

    /// Replace what is propagated to the AOF/replicas for this command
    /// (e.g. SET EX becomes SET PXAT for exact replays).
    pub fn rewrite_propagation(&mut self, argv: Vec<Bytes>) {
        self.srv.propagate_override = Some(argv);
    }

    /// Propagate this command even if it changed nothing, to
    /// `server::propagate::*` (PUBLISH goes to replicas).
    pub fn force_propagation(&mut self, target: u8) {
        self.srv.force_propagate |= target;
    }

    /// Propagate an extra command before this one's own (e.g. a DEL).
    pub fn also_propagate(&mut self, argv: Vec<Bytes>) {
        let db = self.client.db;
        self.srv.also_propagate.push((db, argv));
    }

    /// Store a fresh value under a key, replacing anything there, with the
    /// bookkeeping every write needs.
    pub fn set_key(&mut self, key: &[u8], val: Value) {
        self.db().set(key, val);
        self.signal_modified(key);
    }
}

/// Handler of a container command (CONFIG, CLIENT...) reached without a
/// known subcommand: Redis's "unknown subcommand" error.
pub fn container(ctx: &mut Ctx, argv: &[Bytes]) {
    let msg = format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(argv.get(1).map(|b| &b[..]).unwrap_or(b"")),
        String::from_utf8_lossy(&argv[0]).to_ascii_uppercase()
    );
    ctx.error(&msg);
}

/// Arity check helper for subcommands or options parsing.
pub fn arity_error(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

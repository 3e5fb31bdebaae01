//! Server configuration: the redis.conf parser, the parameter table behind
//! CONFIG GET/SET/REWRITE, and typed fields the hot paths read.
//!
//! Every parameter lives in `params::PARAMS` with its name, kind and
//! default. Values are kept in canonical string form (what CONFIG GET
//! prints); after any change `Config::apply` refreshes the typed fields.

pub mod file;
pub mod params;

use std::collections::HashMap;

pub use params::{Kind, Param, PARAMS};

/// Client output buffer limits for one class (normal, replica, pubsub).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Canonical value of each parameter, indexed like PARAMS.
    values: Vec<String>,
    index: HashMap<&'static str, usize>,
    /// Path of the config file, if any (CONFIG REWRITE writes it).
    pub file: Option<std::path::PathBuf>,
    /// rename-command directives, (old, new); new "" disables the command.
    pub renames: Vec<(String, String)>,

    // Typed copies of frequently read parameters.
    pub port: u16,
    pub bind: Vec<String>,
    pub databases: usize,
    pub hz: u32,
    pub timeout: u64,
    pub maxclients: usize,
    pub requirepass: Option<Vec<u8>>,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: usize,
    pub output_limits: [OutputLimit; 3],
    pub loglevel: u8,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    pub active_expire_effort: u32,
    pub protected_mode: bool,
    pub notify_flags: u32,
    pub enable_debug_command: String,
    pub maxmemory: u64,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub latency_tracking: bool,
    pub min_replicas_to_write: i64,
    pub min_replicas_max_lag: i64,
    // Encoding thresholds, read on every write of a collection.
    pub hash_max_listpack_entries: i64,
    pub hash_max_listpack_value: i64,
    pub zset_max_listpack_entries: i64,
    pub zset_max_listpack_value: i64,
    pub list_max_listpack_size: i64,
    pub set_max_intset_entries: i64,
}

impl Default for Config {
    fn default() -> Self {
        let values: Vec<String> = PARAMS.iter().map(|p| p.default.to_string()).collect();
        let mut index = HashMap::new();
        for (i, p) in PARAMS.iter().enumerate() {
            index.insert(p.name, i);
            if let Some(a) = p.alias {
                index.insert(a, i);
            }
        }
        let mut c = Config {
            values,
            index,
            file: None,
            renames: Vec::new(),
            port: 6379,
            bind: vec![],
            databases: 16,
            hz: 10,
            timeout: 0,
            maxclients: 10000,
            requirepass: None,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            output_limits: [OutputLimit::default(); 3],
            loglevel: 2,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            active_expire_effort: 1,
            protected_mode: true,
            notify_flags: 0,
            enable_debug_command: "no".into(),
            maxmemory: 0,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            latency_tracking: true,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            set_max_intset_entries: 512,
        };
        c.apply();
        c
    }
}

impl Config {
    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.index.get(name.to_ascii_lowercase().as_str()).copied()
    }

    /// The canonical value of a parameter by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lookup(name).map(|i| self.values[i].as_str())
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }

    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Name/value pairs for CONFIG GET with a glob pattern, in table order,
    /// each parameter once (aliases are listed under their own name too, as
    /// Redis does when the pattern matches the alias).
    pub fn matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (i, p) in PARAMS.iter().enumerate() {
            if p.flags & params::HIDDEN != 0 && !p.name.as_bytes().eq_ignore_ascii_case(pattern) {
                continue;
            }
            if crate::util::glob_match(pattern, p.name.as_bytes(), true) {
                out.push((p.name, self.values[i].clone()));
            }
            if let Some(a) = p.alias {
                if crate::util::glob_match(pattern, a.as_bytes(), true) {
                    out.push((a, self.values[i].clone()));
                }
            }
        }
        out
    }

    /// Validate and set one parameter from its arguments (a config file line
    /// or CONFIG SET). `startup` allows immutable parameters. On error
    /// returns the reason Redis gives.
    pub fn set(&mut self, name: &str, args: &[String], startup: bool) -> Result<(), String> {
        let i = self
            .lookup(name)
            .ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let p = &PARAMS[i];
        if !startup && p.flags & params::IMMUTABLE != 0 {
            return Err("can't set immutable config".into());
        }
        let v = params::canonicalize(p, args, &self.values[i], startup)?;
        if p.flags & params::UNSUPPORTED != 0 && v != params::canonicalize_default(p) {
            return Err(format!(
                "'{}' is not supported by Ermine yet; only its default value '{}' is accepted",
                p.name, p.default
            ));
        }
        self.values[i] = v;
        self.apply();
        Ok(())
    }

    /// Set a parameter from a raw string (single argument form).
    pub fn set_str(&mut self, name: &str, value: &str, startup: bool) -> Result<(), String> {
        self.set(name, &[value.to_string()], startup)
    }

    pub fn value_at(&self, i: usize) -> &str {
        &self.values[i]
    }

    /// Refresh typed fields from the canonical values.
    pub fn apply(&mut self) {
        let g = |c: &Config, n: &str| c.get(n).unwrap_or("").to_string();
        let n = |c: &Config, name: &str| c.get_i64(name);
        self.port = n(self, "port") as u16;
        self.bind = g(self, "bind")
            .split_whitespace()
            .map(|s| s.to_string())
            .collect();
        self.databases = n(self, "databases").max(1) as usize;
        self.hz = n(self, "hz").clamp(1, 500) as u32;
        self.timeout = n(self, "timeout").max(0) as u64;
        self.maxclients = n(self, "maxclients").max(1) as usize;
        let rp = g(self, "requirepass");
        self.requirepass = if rp.is_empty() {
            None
        } else {
            Some(rp.into_bytes())
        };
        self.proto_max_bulk_len = n(self, "proto-max-bulk-len");
        self.client_query_buffer_limit = n(self, "client-query-buffer-limit") as usize;
        self.output_limits = params::parse_output_limits(&g(self, "client-output-buffer-limit"));
        self.loglevel = match g(self, "loglevel").as_str() {
            "debug" => 0,
            "verbose" => 1,
            "notice" => 2,
            "warning" => 3,
            _ => 4,
        };
        self.slowlog_log_slower_than = n(self, "slowlog-log-slower-than");
        self.slowlog_max_len = n(self, "slowlog-max-len").max(0) as usize;
        self.active_expire_effort = n(self, "active-expire-effort").clamp(1, 10) as u32;
        self.protected_mode = self.get_bool("protected-mode");
        self.notify_flags =
            params::notify_flags_from_str(&g(self, "notify-keyspace-events")).unwrap_or(0);
        crate::db::NOTIFY_NEW_KEYS.store(
            self.notify_flags & params::NOTIFY_NEW != 0,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.enable_debug_command = g(self, "enable-debug-command");
        self.maxmemory = n(self, "maxmemory") as u64;
        {
            use std::sync::atomic::Ordering::Relaxed;
            let policy = g(self, "maxmemory-policy");
            let kind = if policy.ends_with("lfu") {
                crate::db::CLOCK_LFU
            } else if policy.ends_with("lru") {
                crate::db::CLOCK_LRU_POLICY
            } else {
                0
            };
            crate::db::CLOCK_KIND.store(kind, Relaxed);
            let lf = n(self, "lfu-log-factor").clamp(0, u32::MAX as i64) as u32;
            crate::db::LFU_LOG_FACTOR.store(lf, Relaxed);
            let dt = n(self, "lfu-decay-time").clamp(0, u32::MAX as i64) as u32;
            crate::db::LFU_DECAY_TIME.store(dt, Relaxed);
        }
        self.lazyfree_lazy_user_del = self.get_bool("lazyfree-lazy-user-del");
        self.lazyfree_lazy_user_flush = self.get_bool("lazyfree-lazy-user-flush");
        self.latency_tracking = self.get_bool("latency-tracking");
        self.min_replicas_to_write = n(self, "min-replicas-to-write");
        self.min_replicas_max_lag = n(self, "min-replicas-max-lag");
        self.hash_max_listpack_entries = n(self, "hash-max-listpack-entries");
        self.hash_max_listpack_value = n(self, "hash-max-listpack-value");
        self.zset_max_listpack_entries = n(self, "zset-max-listpack-entries");
        self.zset_max_listpack_value = n(self, "zset-max-listpack-value");
        self.list_max_listpack_size = n(self, "list-max-listpack-size");
        self.set_max_intset_entries = n(self, "set-max-intset-entries");
    }
}

//! The parameter table: every name CONFIG GET/SET and redis.conf accept.

use super::OutputLimit;

pub const IMMUTABLE: u32 = 1;
/// Known to Redis but the feature is not in Ermine yet: only the default
/// value is accepted, so nothing is silently ignored.
pub const UNSUPPORTED: u32 = 2;
/// Changing it needs enable-protected-configs.
pub const PROTECTED: u32 = 4;
/// Takes several arguments on a config line (save, bind...).
pub const MULTI_ARG: u32 = 8;
/// Not written back by CONFIG REWRITE (runtime-only state).
pub const NO_REWRITE: u32 = 16;
/// Listed by CONFIG GET only when asked for by its exact name.
pub const HIDDEN: u32 = 32;
/// Parameters CONFIG SET refuses while a dataset loads (Redis's
/// DENY_LOADING_CONFIG).
pub const DENY_LOADING: &[&str] = &["appendonly", "repl-diskless-load", "dir"];

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// A byte count that accepts units (1k, 5mb, 1gb).
    Mem {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    Str,
    Save,
    Bind,
    OutputLimit,
    Notify,
    /// File permissions written in octal (unixsocketperm).
    Octal,
    /// A memory value, or a percentage written "N%" (stored negative).
    Percent {
        min: i64,
        max: i64,
    },
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub flags: u32,
}

const fn p(name: &'static str, kind: Kind, default: &'static str, flags: u32) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        flags,
    }
}
const fn pa(
    name: &'static str,
    alias: &'static str,
    kind: Kind,
    default: &'static str,
    flags: u32,
) -> Param {
    Param {
        name,
        alias: Some(alias),
        kind,
        default,
        flags,
    }
}

const B: Kind = Kind::Bool;
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}
const fn mem(min: i64, max: i64) -> Kind {
    Kind::Mem { min, max }
}
const S: Kind = Kind::Str;

/// Every Redis 7.0 parameter, in name order, with Redis's defaults.
pub static PARAMS: &[Param] = &[
    p(
        "acl-pubsub-default",
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
        0,
    ),
    p("aclfile", S, "", IMMUTABLE),
    p("acllog-max-len", int(0, i64::MAX), "128", 0),
    p("active-defrag-cycle-max", int(1, 99), "25", 0),
    p("active-defrag-cycle-min", int(1, 99), "1", 0),
    p(
        "active-defrag-ignore-bytes",
        mem(1, i64::MAX),
        "104857600",
        0,
    ),
    p("active-defrag-max-scan-fields", int(1, i64::MAX), "1000", 0),
    p("active-defrag-threshold-lower", int(0, 1000), "10", 0),
    p("active-defrag-threshold-upper", int(0, 1000), "100", 0),
    p("active-expire-effort", int(1, 10), "1", 0),
    p("activedefrag", B, "no", 0),
    p("activerehashing", B, "yes", 0),
    p("always-show-logo", B, "no", IMMUTABLE),
    p("aof-disable-auto-gc", B, "no", 0),
    p("aof-load-truncated", B, "yes", 0),
    p("aof-rewrite-incremental-fsync", B, "yes", 0),
    p("aof-timestamp-enabled", B, "no", 0),
    p("aof-use-rdb-preamble", B, "yes", 0),
    p("aof_rewrite_cpulist", S, "", IMMUTABLE),
    p("appenddirname", S, "appendonlydir", IMMUTABLE),
    p("appendfilename", S, "appendonly.aof", IMMUTABLE),
    p(
        "appendfsync",
        Kind::Enum(&["everysec", "always", "no"]),
        "everysec",
        0,
    ),
    p("appendonly", B, "no", 0),
    p("auto-aof-rewrite-min-size", mem(0, i64::MAX), "67108864", 0),
    p("auto-aof-rewrite-percentage", int(0, 2147483647), "100", 0),
    p("bgsave_cpulist", S, "", IMMUTABLE),
    p("bind", Kind::Bind, "* -::*", MULTI_ARG),
    p("bind-source-addr", S, "", 0),
    p("bio_cpulist", S, "", IMMUTABLE),
    pa(
        "busy-reply-threshold",
        "lua-time-limit",
        int(0, i64::MAX),
        "5000",
        0,
    ),
    p(
        "client-output-buffer-limit",
        Kind::OutputLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        MULTI_ARG,
    ),
    p(
        "client-query-buffer-limit",
        mem(1048576, i64::MAX),
        "1073741824",
        0,
    ),
    p("cluster-allow-pubsubshard-when-down", B, "yes", 0),
    p("cluster-allow-reads-when-down", B, "no", 0),
    p("cluster-allow-replica-migration", B, "yes", 0),
    p("cluster-announce-bus-port", int(0, 65535), "0", 0),
    p("cluster-announce-hostname", S, "", 0),
    p("cluster-announce-ip", S, "", 0),
    p("cluster-announce-port", int(0, 65535), "0", 0),
    p("cluster-announce-tls-port", int(0, 65535), "0", 0),
    p("cluster-config-file", S, "nodes.conf", IMMUTABLE),
    p("cluster-enabled", B, "no", IMMUTABLE | UNSUPPORTED),
    p("cluster-link-sendbuf-limit", mem(0, i64::MAX), "0", 0),
    p("cluster-migration-barrier", int(0, 2147483647), "1", 0),
    p("cluster-node-timeout", int(0, i64::MAX), "15000", 0),
    p("cluster-port", int(0, 65535), "0", IMMUTABLE),
    p(
        "cluster-preferred-endpoint-type",
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
        0,
    ),
    pa(
        "cluster-replica-no-failover",
        "cluster-slave-no-failover",
        B,
        "no",
        0,
    ),
    pa(
        "cluster-replica-validity-factor",
        "cluster-slave-validity-factor",
        int(0, 2147483647),
        "10",
        0,
    ),
    p("cluster-require-full-coverage", B, "yes", 0),
    p("crash-log-enabled", B, "yes", 0),
    p("crash-memcheck-enabled", B, "yes", 0),
    p("daemonize", B, "no", IMMUTABLE),
    p("databases", int(1, 2147483647), "16", IMMUTABLE),
    p("dbfilename", S, "dump.rdb", PROTECTED),
    p("dir", Kind::Str, "", PROTECTED),
    p("disable-thp", B, "yes", IMMUTABLE),
    p("dynamic-hz", B, "yes", 0),
    p(
        "enable-debug-command",
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE,
    ),
    p(
        "enable-module-command",
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE,
    ),
    p(
        "enable-protected-configs",
        Kind::Enum(&["no", "yes", "local"]),
        "no",
        IMMUTABLE,
    ),
    pa(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        int(0, i64::MAX),
        "512",
        0,
    ),
    pa(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        mem(0, i64::MAX),
        "64",
        0,
    ),
    p("hll-sparse-max-bytes", mem(0, i64::MAX), "3000", 0),
    p("hz", int(0, 2147483647), "10", 0),
    p("ignore-warnings", S, "", 0),
    p("io-threads", int(1, 128), "1", IMMUTABLE | UNSUPPORTED),
    p("io-threads-do-reads", B, "no", IMMUTABLE | UNSUPPORTED),
    p("jemalloc-bg-thread", B, "yes", 0),
    p("key-load-delay", int(-2147483648, 2147483647), "0", HIDDEN),
    p("latency-monitor-threshold", int(0, i64::MAX), "0", 0),
    p("latency-tracking", B, "yes", 0),
    p(
        "latency-tracking-info-percentiles",
        Kind::Str,
        "50 99 99.9",
        MULTI_ARG,
    ),
    p("lazyfree-lazy-eviction", B, "no", 0),
    p("lazyfree-lazy-expire", B, "no", 0),
    p("lazyfree-lazy-server-del", B, "no", 0),
    p("lazyfree-lazy-user-del", B, "no", 0),
    p("lazyfree-lazy-user-flush", B, "no", 0),
    p("lfu-decay-time", int(0, 2147483647), "1", 0),
    p("lfu-log-factor", int(0, 2147483647), "10", 0),
    p("list-compress-depth", int(0, 2147483647), "0", 0),
    pa(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        int(-2147483648, 2147483647),
        "-2",
        0,
    ),
    p(
        "loading-process-events-interval-bytes",
        int(1024, 2147483647),
        "2097152",
        HIDDEN,
    ),
    p("logfile", S, "", IMMUTABLE),
    p(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
        0,
    ),
    p("masterauth", S, "", 0),
    p("masteruser", S, "", 0),
    p("maxclients", int(1, 4294967295), "10000", 0),
    p("maxmemory", mem(0, i64::MAX), "0", 0),
    p(
        "maxmemory-clients",
        Kind::Percent {
            min: -100,
            max: i64::MAX,
        },
        "0",
        0,
    ),
    p("maxmemory-eviction-tenacity", int(0, 100), "10", 0),
    p(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
        0,
    ),
    p("maxmemory-samples", int(1, 2147483647), "5", 0),
    pa(
        "min-replicas-max-lag",
        "min-slaves-max-lag",
        int(0, 2147483647),
        "10",
        0,
    ),
    pa(
        "min-replicas-to-write",
        "min-slaves-to-write",
        int(0, 2147483647),
        "0",
        0,
    ),
    p("no-appendfsync-on-rewrite", B, "no", 0),
    p("notify-keyspace-events", Kind::Notify, "", 0),
    p(
        "oom-score-adj",
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
        0,
    ),
    p("oom-score-adj-values", Kind::Str, "0 200 800", MULTI_ARG),
    p("pidfile", S, "", IMMUTABLE),
    p("port", int(0, 65535), "6379", 0),
    p(
        "proc-title-template",
        S,
        "CONFIG_DEFAULT_PROC_TITLE_TEMPLATE",
        0,
    ),
    p(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
        0,
    ),
    p("protected-mode", B, "yes", 0),
    p(
        "proto-max-bulk-len",
        Kind::Mem {
            min: 1048576,
            max: i64::MAX,
        },
        "536870912",
        0,
    ),
    p("rdb-del-sync-files", B, "no", 0),
    p(
        "rdb-key-save-delay",
        int(-2147483648, 2147483647),
        "0",
        HIDDEN,
    ),
    p("rdb-save-incremental-fsync", B, "yes", 0),
    p("rdbchecksum", B, "yes", IMMUTABLE),
    p("rdbcompression", B, "yes", 0),
    p("repl-backlog-size", mem(1, i64::MAX), "1048576", 0),
    p("repl-backlog-ttl", int(0, i64::MAX), "3600", 0),
    p("repl-disable-tcp-nodelay", B, "no", 0),
    p(
        "repl-diskless-load",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
        0,
    ),
    p("repl-diskless-sync", B, "yes", 0),
    p("repl-diskless-sync-delay", int(0, 2147483647), "5", 0),
    p(
        "repl-diskless-sync-max-replicas",
        int(0, 2147483647),
        "0",
        0,
    ),
    pa(
        "repl-ping-replica-period",
        "repl-ping-slave-period",
        int(1, 2147483647),
        "10",
        0,
    ),
    p("repl-timeout", int(1, 2147483647), "60", 0),
    pa("replica-announce-ip", "slave-announce-ip", S, "", 0),
    pa(
        "replica-announce-port",
        "slave-announce-port",
        int(0, 65535),
        "0",
        0,
    ),
    p("replica-announced", B, "yes", 0),
    p("replica-ignore-disk-write-errors", B, "no", 0),
    pa(
        "replica-ignore-maxmemory",
        "slave-ignore-maxmemory",
        B,
        "yes",
        0,
    ),
    pa("replica-lazy-flush", "slave-lazy-flush", B, "no", 0),
    pa(
        "replica-priority",
        "slave-priority",
        int(0, 2147483647),
        "100",
        0,
    ),
    pa("replica-read-only", "slave-read-only", B, "yes", 0),
    pa(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        B,
        "yes",
        0,
    ),
    pa("replicaof", "slaveof", Kind::Str, "", IMMUTABLE | MULTI_ARG),
    p("requirepass", S, "", 0),
    p(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
        0,
    ),
    p("save", Kind::Save, "3600 1 300 100 60 10000", MULTI_ARG),
    p("server_cpulist", S, "", IMMUTABLE),
    p("set-max-intset-entries", int(0, i64::MAX), "512", 0),
    p("set-proc-title", B, "yes", IMMUTABLE),
    p(
        "shutdown-on-sigint",
        Kind::Enum(&["default", "save", "nosave", "now", "force"]),
        "default",
        MULTI_ARG,
    ),
    p(
        "shutdown-on-sigterm",
        Kind::Enum(&["default", "save", "nosave", "now", "force"]),
        "default",
        MULTI_ARG,
    ),
    p("shutdown-timeout", int(0, 2147483647), "10", 0),
    p("slowlog-log-slower-than", int(-1, i64::MAX), "10000", 0),
    p("slowlog-max-len", int(0, i64::MAX), "128", 0),
    p("socket-mark-id", int(0, 4294967295), "0", IMMUTABLE),
    p("stop-writes-on-bgsave-error", B, "yes", 0),
    p("stream-node-max-bytes", mem(0, i64::MAX), "4096", 0),
    p("stream-node-max-entries", int(0, i64::MAX), "100", 0),
    p(
        "supervised",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
        IMMUTABLE,
    ),
    p("syslog-enabled", B, "no", IMMUTABLE),
    p(
        "syslog-facility",
        Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
        IMMUTABLE,
    ),
    p("syslog-ident", S, "redis", IMMUTABLE),
    p("tcp-backlog", int(0, 2147483647), "511", IMMUTABLE),
    p("tcp-keepalive", int(0, 2147483647), "300", 0),
    p("timeout", int(0, 2147483647), "0", 0),
    p(
        "tls-auth-clients",
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
        UNSUPPORTED,
    ),
    p("tls-ca-cert-dir", S, "", UNSUPPORTED),
    p("tls-ca-cert-file", S, "", UNSUPPORTED),
    p("tls-cert-file", S, "", UNSUPPORTED),
    p("tls-ciphers", S, "", UNSUPPORTED),
    p("tls-ciphersuites", S, "", UNSUPPORTED),
    p("tls-client-cert-file", S, "", UNSUPPORTED),
    p("tls-client-key-file", S, "", UNSUPPORTED),
    p("tls-client-key-file-pass", S, "", UNSUPPORTED),
    p("tls-cluster", B, "no", UNSUPPORTED),
    p("tls-dh-params-file", S, "", UNSUPPORTED),
    p("tls-key-file", S, "", UNSUPPORTED),
    p("tls-key-file-pass", S, "", UNSUPPORTED),
    p("tls-port", int(0, 65535), "0", UNSUPPORTED),
    p("tls-prefer-server-ciphers", B, "no", UNSUPPORTED),
    p("tls-protocols", S, "", UNSUPPORTED),
    p("tls-replication", B, "no", UNSUPPORTED),
    p(
        "tls-session-cache-size",
        int(0, 2147483647),
        "20480",
        UNSUPPORTED,
    ),
    p(
        "tls-session-cache-timeout",
        int(0, 2147483647),
        "300",
        UNSUPPORTED,
    ),
    p("tls-session-caching", B, "yes", UNSUPPORTED),
    p("tracking-table-max-keys", int(0, i64::MAX), "1000000", 0),
    p("unixsocket", S, "", IMMUTABLE),
    p("unixsocketperm", Kind::Octal, "0", IMMUTABLE),
    p("use-exit-on-panic", B, "no", HIDDEN),
    p("watchdog-period", int(0, 2147483647), "0", HIDDEN),
    pa(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        int(0, i64::MAX),
        "128",
        0,
    ),
    pa(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        mem(0, i64::MAX),
        "64",
        0,
    ),
];

pub fn canonicalize_default(p: &Param) -> String {
    p.default.to_string()
}

/// Parse a memory value with units as Redis's memtoull: k=1000, kb=1024,
/// m=1e6, mb=1024^2, g=1e9, gb=1024^3 (case-insensitive).
pub fn parse_memory(s: &str) -> Option<i64> {
    let l = s.to_ascii_lowercase();
    let (num, mul): (&str, i64) = if let Some(n) = l.strip_suffix("gb") {
        (n, 1 << 30)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1 << 20)
    } else if let Some(n) = l.strip_suffix("kb") {
        (n, 1 << 10)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1_000_000_000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    let v: i64 = if num.starts_with('-') {
        num.parse().ok()?
    } else {
        num.parse::<u64>().ok()?.try_into().ok()?
    };
    v.checked_mul(mul)
}

/// Turn the arguments of a config line / CONFIG SET into the canonical
/// string, validating them.
pub fn canonicalize(
    p: &Param,
    args: &[String],
    current: &str,
    startup: bool,
) -> Result<String, String> {
    if p.name == "replicaof" && !(args.len() == 1 && args[0].is_empty()) {
        // Redis's own check of the directive: host and port.
        if args.len() != 2 {
            return Err("wrong number of arguments".into());
        }
        let no_one = args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one");
        if !no_one
            && !args[1]
                .parse::<u16>()
                .is_ok_and(|_| !args[1].starts_with('+'))
        {
            return Err("Invalid master port".into());
        }
    }
    let single = || -> Result<&str, String> {
        if args.len() != 1 {
            Err("wrong number of arguments".into())
        } else {
            Ok(args[0].as_str())
        }
    };
    match p.kind {
        Kind::Bool => match single()?.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let s = single()?;
            let v: i64 = s
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Mem { min, max } => {
            let s = single()?;
            let v = parse_memory(s).ok_or_else(|| "argument must be a memory value".to_string())?;
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(v.to_string())
        }
        Kind::Enum(opts) if p.flags & MULTI_ARG != 0 => enum_flags(opts, args),
        Kind::Enum(opts) => {
            let s = single()?.to_ascii_lowercase();
            if opts.contains(&s.as_str()) {
                Ok(s)
            } else {
                Err(format!(
                    "argument(s) must be one of the following: {}",
                    opts.join(", ")
                ))
            }
        }
        Kind::Str if p.name == "latency-tracking-info-percentiles" => percentiles(args),
        Kind::Str if p.name == "replicaof" => {
            // `replicaof <host> <port>` or `replicaof no one`.
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if parts.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            if parts[0].eq_ignore_ascii_case("no") && parts[1].eq_ignore_ascii_case("one") {
                return Ok(String::new());
            }
            if parts[1].parse::<u16>().is_err() {
                return Err("Invalid master port".into());
            }
            Ok(parts.join(" "))
        }
        Kind::Str => {
            if p.flags & MULTI_ARG != 0 {
                Ok(args.join(" "))
            } else {
                Ok(single()?.to_string())
            }
        }
        Kind::Bind => {
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if parts.is_empty() {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(parts.join(" "))
        }
        Kind::Save => {
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if parts.is_empty() || (parts.len() == 1 && parts[0].is_empty()) {
                return Ok(String::new());
            }
            if !parts.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            for x in &parts {
                if x.parse::<u64>().is_err() {
                    return Err("Invalid save parameters".into());
                }
            }
            // On a config file, later "save" lines add to the first one.
            if startup && !current.is_empty() && current != p.default {
                return Ok(format!("{} {}", current, parts.join(" ")));
            }
            Ok(parts.join(" "))
        }
        Kind::OutputLimit => {
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if parts.is_empty() || !parts.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = parse_output_limits(current);
            for chunk in parts.chunks(4) {
                let class = match chunk[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "slave" | "replica" => 1,
                    "pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let hard = parse_memory(chunk[1]);
                let soft = parse_memory(chunk[2]);
                let secs = chunk[3].parse::<i64>().ok();
                match (hard, soft, secs) {
                    (Some(h), Some(s), Some(t)) if h >= 0 && s >= 0 && t >= 0 => {
                        limits[class] = OutputLimit { hard: h as u64, soft: s as u64, soft_seconds: t as u64 };
                    }
                    _ => return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()),
                }
            }
            Ok(format_output_limits(&limits))
        }
        Kind::Octal => {
            let s = single()?;
            let v = i64::from_str_radix(s, 8)
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if !(0..=0o777).contains(&v) {
                return Err("argument must be between 0 and 777 inclusive".into());
            }
            Ok(format!("{:o}", v))
        }
        Kind::Percent { min, max } => {
            let s = single()?;
            let v = if let Some(pct) = s.strip_suffix('%') {
                let n: i64 = pct
                    .parse()
                    .map_err(|_| "argument must be a memory or percent value".to_string())?;
                -n
            } else {
                parse_memory(s)
                    .ok_or_else(|| "argument must be a memory or percent value".to_string())?
            };
            if v < 0 && v < min {
                return Err(format!(
                    "percentage argument must be less or equal to {}",
                    -min
                ));
            }
            if v < min || v > max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(if v < 0 {
                format!("{}%", -v)
            } else {
                v.to_string()
            })
        }
        Kind::Notify => {
            let s = single()?;
            let f = notify_flags_from_str(s).ok_or_else(|| {
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()
            })?;
            Ok(notify_flags_to_str(f))
        }
    }
}

/// latency-tracking-info-percentiles: numbers in [0, 100], printed as
/// Redis's "%f" with trailing zeros trimmed ("99.9", "50").
fn percentiles(args: &[String]) -> Result<String, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(String::new());
    }
    let mut out = Vec::new();
    for a in args {
        let v = crate::util::parse_f64(a.as_bytes())
            .filter(|v| !v.is_nan())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&v) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        let f = format!("{v:.6}");
        out.push(f.trim_end_matches('0').trim_end_matches('.').to_string());
    }
    Ok(out.join(" "))
}

/// A set of flags (shutdown-on-sigterm "nosave now"): option i > 0 is bit
/// i - 1, option 0 ("default") is no bit. Printed in table order, as
/// Redis's configEnumGetName does for bit-flag enums.
fn enum_flags(opts: &[&str], args: &[String]) -> Result<String, String> {
    let bad = || {
        format!(
            "argument(s) must be one of the following: {}",
            opts.join(", ")
        )
    };
    if args.is_empty() {
        return Err(bad());
    }
    let mut bits = 0u32;
    for a in args {
        let i = opts
            .iter()
            .position(|o| o.eq_ignore_ascii_case(a))
            .ok_or_else(bad)?;
        if i > 0 {
            bits |= 1 << (i - 1);
        }
    }
    // SAVE and NOSAVE are the first two flags.
    if bits & 3 == 3 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    if bits == 0 {
        return Ok(opts[0].to_string());
    }
    let names: Vec<&str> = (1..opts.len())
        .filter(|i| bits & (1 << (i - 1)) != 0)
        .map(|i| opts[i])
        .collect();
    Ok(names.join(" "))
}

pub fn parse_output_limits(s: &str) -> [OutputLimit; 3] {
    let mut out = [OutputLimit::default(); 3];
    let parts: Vec<&str> = s.split_whitespace().collect();
    for chunk in parts.chunks(4) {
        if chunk.len() < 4 {
            break;
        }
        let class = match chunk[0] {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => continue,
        };
        out[class] = OutputLimit {
            hard: chunk[1].parse().unwrap_or(0),
            soft: chunk[2].parse().unwrap_or(0),
            soft_seconds: chunk[3].parse().unwrap_or(0),
        };
    }
    out
}

fn format_output_limits(l: &[OutputLimit; 3]) -> String {
    let names = ["normal", "slave", "pubsub"];
    let mut parts = Vec::new();
    for (i, n) in names.iter().enumerate() {
        parts.push(format!(
            "{} {} {} {}",
            n, l[i].hard, l[i].soft, l[i].soft_seconds
        ));
    }
    parts.join(" ")
}

// Keyspace notification classes, as Redis's NOTIFY_* bits.
pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;
pub const NOTIFY_GENERIC: u32 = 1 << 2;
pub const NOTIFY_STRING: u32 = 1 << 3;
pub const NOTIFY_LIST: u32 = 1 << 4;
pub const NOTIFY_SET: u32 = 1 << 5;
pub const NOTIFY_HASH: u32 = 1 << 6;
pub const NOTIFY_ZSET: u32 = 1 << 7;
pub const NOTIFY_EXPIRED: u32 = 1 << 8;
pub const NOTIFY_EVICTED: u32 = 1 << 9;
pub const NOTIFY_STREAM: u32 = 1 << 10;
pub const NOTIFY_KEY_MISS: u32 = 1 << 11;
pub const NOTIFY_LOADED: u32 = 1 << 12;
pub const NOTIFY_MODULE: u32 = 1 << 13;
pub const NOTIFY_NEW: u32 = 1 << 14;
pub const NOTIFY_ALL: u32 = NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE;

pub fn notify_flags_from_str(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => NOTIFY_ALL,
            'g' => NOTIFY_GENERIC,
            '$' => NOTIFY_STRING,
            'l' => NOTIFY_LIST,
            's' => NOTIFY_SET,
            'h' => NOTIFY_HASH,
            'z' => NOTIFY_ZSET,
            'x' => NOTIFY_EXPIRED,
            'e' => NOTIFY_EVICTED,
            'K' => NOTIFY_KEYSPACE,
            'E' => NOTIFY_KEYEVENT,
            't' => NOTIFY_STREAM,
            'm' => NOTIFY_KEY_MISS,
            'd' => NOTIFY_MODULE,
            'n' => NOTIFY_NEW,
            _ => return None,
        };
    }
    Some(f)
}

pub fn notify_flags_to_str(f: u32) -> String {
    let mut s = String::new();
    if f & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (NOTIFY_GENERIC, 'g'),
            (NOTIFY_STRING, '$'),
            (NOTIFY_LIST, 'l'),
            (NOTIFY_SET, 's'),
            (NOTIFY_HASH, 'h'),
            (NOTIFY_ZSET, 'z'),
            (NOTIFY_EXPIRED, 'x'),
            (NOTIFY_EVICTED, 'e'),
            (NOTIFY_STREAM, 't'),
            (NOTIFY_MODULE, 'd'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    if f & NOTIFY_KEYSPACE != 0 {
        s.push('K');
    }
    if f & NOTIFY_KEYEVENT != 0 {
        s.push('E');
    }
    if f & NOTIFY_KEY_MISS != 0 {
        s.push('m');
    }
    if f & NOTIFY_NEW != 0 {
        s.push('n');
    }
    s
}

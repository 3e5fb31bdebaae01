//! Server commands: INFO, CONFIG, TIME, SHUTDOWN, SLOWLOG, MONITOR, DEBUG,
//! MEMORY, ROLE.

use std::fmt::Write as _;

use bytes::Bytes;

use super::command::help_reply;
use super::{CommandSpec, Ctx};
use crate::server::alloc;
use crate::server::client::cflags;
use crate::util::{bytes_to_human, eq_ic};

const BASE: CommandSpec = CommandSpec {
    group: "server",
    ..CommandSpec::DEFAULT
};
const CFG: CommandSpec = CommandSpec {
    group: "server",
    since: "2.0.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "info",
        arity: -1,
        flags: "loading stale sentinel",
        acl: "dangerous",
        handler: info,
        summary: "Get information and statistics about the server",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "config",
        arity: -2,
        handler: super::container,
        summary: "A container for server configuration commands",
        subcommands: &[
            CommandSpec {
                name: "get",
                arity: -3,
                flags: "admin noscript loading stale",
                handler: config_get,
                summary: "Get the values of configuration parameters",
                ..CFG
            },
            CommandSpec {
                name: "set",
                arity: -4,
                flags: "admin noscript loading stale",
                handler: config_set,
                summary: "Set configuration parameters to the given values",
                ..CFG
            },
            CommandSpec {
                name: "resetstat",
                arity: 2,
                flags: "admin noscript loading stale",
                handler: config_resetstat,
                summary: "Reset the stats returned by INFO",
                ..CFG
            },
            CommandSpec {
                name: "rewrite",
                arity: 2,
                flags: "admin noscript loading stale",
                handler: config_rewrite,
                since: "2.8.0",
                summary: "Rewrite the configuration file with the in memory configuration",
                ..CFG
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: "loading stale",
                handler: config_help,
                since: "5.0.0",
                summary: "Show helpful text about the different subcommands",
                ..CFG
            },
        ],
        ..CFG
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: "loading stale fast",
        handler: time,
        since: "2.6.0",
        summary: "Return the current server time",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: "admin noscript loading stale no_multi sentinel allow_busy",
        handler: shutdown,
        summary: "Synchronously save the dataset to disk and then shut down the server",
        ..BASE
    },
    CommandSpec {
        name: "save",
        arity: 1,
        flags: "admin noscript no_async_loading no_multi",
        handler: save,
        summary: "Synchronously save the dataset to disk",
        ..BASE
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: "admin noscript no_async_loading",
        handler: bgsave,
        summary: "Asynchronously save the dataset to disk",
        ..BASE
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: "admin noscript no_async_loading",
        handler: bgrewriteaof,
        summary: "Asynchronously rewrite the append-only file",
        ..BASE
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: "loading stale fast",
        acl: "admin dangerous",
        handler: lastsave,
        summary: "Get the UNIX time stamp of the last successful save to disk",
        tips: &["nondeterministic_output"],
        ..BASE
    },
    CommandSpec {
        name: "monitor",
        arity: 1,
        flags: "admin noscript loading stale",
        handler: monitor,
        summary: "Listen for all requests received by the server in real time",
        ..BASE
    },
    CommandSpec {
        name: "slowlog",
        arity: -2,
        handler: super::container,
        since: "2.2.12",
        summary: "A container for slow log commands",
        subcommands: &[
            CommandSpec {
                name: "get",
                arity: -2,
                flags: "admin loading stale",
                handler: slowlog_get,
                since: "2.2.12",
                summary: "Get the slow log's entries",
                tips: &["request_policy:all_nodes", "nondeterministic_output"],
                ..BASE
            },
            CommandSpec {
                name: "len",
                arity: 2,
                flags: "admin loading stale",
                handler: slowlog_len,
                since: "2.2.12",
                summary: "Get the slow log's length",
                tips: &["request_policy:all_nodes", "nondeterministic_output"],
                ..BASE
            },
            CommandSpec {
                name: "reset",
                arity: 2,
                flags: "admin loading stale",
                handler: slowlog_reset,
                since: "2.2.12",
                summary: "Clear all entries from the slow log",
                ..BASE
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: "loading stale",
                handler: slowlog_help,
                since: "6.2.0",
                summary: "Show helpful text about the different subcommands",
                ..BASE
            },
        ],
        ..BASE
    },
    CommandSpec {
        name: "memory",
        arity: -2,
        handler: super::container,
        since: "4.0.0",
        summary: "A container for memory diagnostics commands",
        subcommands: &[
            CommandSpec {
                name: "usage",
                arity: -3,
                flags: "readonly",
                first_key: 2,
                last_key: 2,
                step: 1,
                handler: memory_usage,
                since: "4.0.0",
                summary: "Estimate the memory usage of a key",
                ..BASE
            },
            CommandSpec {
                name: "doctor",
                arity: 2,
                handler: memory_doctor,
                since: "4.0.0",
                summary: "Outputs memory problems report",
                tips: &["nondeterministic_output"],
                ..BASE
            },
            CommandSpec {
                name: "stats",
                arity: 2,
                handler: memory_stats,
                since: "4.0.0",
                summary: "Show memory usage details",
                tips: &["nondeterministic_output"],
                ..BASE
            },
            CommandSpec {
                name: "malloc-stats",
                arity: 2,
                handler: memory_malloc_stats,
                since: "4.0.0",
                summary: "Show allocator internal stats",
                tips: &["nondeterministic_output"],
                ..BASE
            },
            CommandSpec {
                name: "purge",
                arity: 2,
                handler: memory_purge,
                since: "4.0.0",
                summary: "Ask the allocator to release memory",
                ..BASE
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: "loading stale",
                handler: memory_help,
                since: "4.0.0",
                summary: "Show helpful text about the different subcommands",
                ..BASE
            },
        ],
        ..BASE
    },
    CommandSpec {
        name: "debug",
        arity: -2,
        flags: "admin noscript loading stale protected",
        handler: debug,
        summary: "A container for debugging commands",
        ..BASE
    },
];

// ---------------------------------------------------------------- INFO

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

fn info(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut wanted: Vec<String> = Vec::new();
    for a in &argv[1..] {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
                wanted.extend(ALL_EXTRA.iter().map(|s| s.to_string()));
            }
            _ => wanted.push(s),
        }
    }
    if argv.len() == 1 {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    let text = info_string(ctx, &wanted);
    ctx.reply().verbatim(text.as_bytes(), "txt");
}

/// The INFO text for the given (lowercase) section names, in Redis's order.
pub fn info_string(ctx: &mut Ctx, wanted: &[String]) -> String {
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    let mut out = String::new();
    for sec in order {
        if !wanted.iter().any(|w| w == sec) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx, sec, &mut out);
    }
    out
}

fn rusage(who: i32) -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn section(ctx: &mut Ctx, sec: &str, o: &mut String) {
    let srv = &*ctx.srv;
    let now = crate::util::mstime();
    match sec {
        "server" => {
            let uptime = (now - srv.start_ms) / 1000;
            let uname = {
                // SAFETY: uname fills the zeroed struct.
                let mut u: libc::utsname = unsafe { std::mem::zeroed() };
                unsafe { libc::uname(&mut u) };
                let f = |b: &[libc::c_char]| {
                    unsafe { std::ffi::CStr::from_ptr(b.as_ptr()) }
                        .to_string_lossy()
                        .into_owned()
                };
                format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
            };
            let _ = write!(
                o,
                "# Server\r\nredis_version:{}\r\nermine_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
                crate::REDIS_VERSION,
                crate::ERMINE_VERSION,
                uname,
                srv.pid,
                srv.run_id,
                srv.port,
                crate::util::ustime(),
                uptime,
                uptime / 86400,
                srv.config.hz,
                srv.config.hz,
                crate::db::lru_clock() & 0xffffff,
                srv.executable,
                srv.config.file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            );
            o.push_str(&crate::persistence::shutdown::info_field(srv));
        }
        "clients" => {
            // Replicas are not counted, as in Redis.
            let replicas = ctx.clients.iter().filter(|c| c.has(cflags::SLAVE)).count();
            let connected = ctx.clients.len() + 1 - replicas;
            let blocked = ctx
                .clients
                .iter()
                .filter(|c| c.has(cflags::BLOCKED))
                .count();
            let tracking = ctx.srv.tracking.clients();
            let max_in = ctx
                .clients
                .iter()
                .map(|c| c.qbuf_peak)
                .max()
                .unwrap_or(0)
                .max(ctx.client.qbuf_peak);
            let max_out = ctx
                .clients
                .iter()
                .map(|c| c.reply.buf.len())
                .max()
                .unwrap_or(0);
            let _ = write!(
                o,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
                connected, srv.config.maxclients, max_in, max_out, blocked, tracking, blocked
            );
        }
        "memory" => {
            let used = alloc::used_memory();
            let peak = alloc::peak_memory().max(used);
            let rss = alloc::rss_bytes();
            let sysmem = {
                // SAFETY: sysconf has no preconditions.
                let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) }.max(0) as u64;
                let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
                pages * page
            };
            let maxmem = srv.config.maxmemory;
            // Stream bytes replicas have not taken yet.
            let repl_bufs: usize = ctx
                .clients
                .iter()
                .filter(|c| c.has(cflags::SLAVE))
                .map(|c| c.pending_output())
                .sum();
            let policy = srv
                .config
                .get("maxmemory-policy")
                .unwrap_or("noeviction")
                .to_string();
            let frag = if used > 0 {
                rss as f64 / used as f64
            } else {
                0.0
            };
            let scripts = srv.lua.as_ref().map(|e| e.script_count()).unwrap_or(0);
            let funcs: usize = srv
                .functions
                .libraries
                .values()
                .map(|l| l.functions.len())
                .sum();
            let _ = write!(
                o,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:0\r\nused_memory_startup:0\r\nused_memory_dataset:{used}\r\nused_memory_dataset_perc:100.00%\r\nallocator_allocated:{used}\r\nallocator_active:{used}\r\nallocator_resident:{rss}\r\ntotal_system_memory:{sysmem}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:0\r\nused_memory_vm_eval:0\r\nused_memory_lua_human:0B\r\nused_memory_scripts_eval:0\r\nnumber_of_cached_scripts:{scripts}\r\nnumber_of_functions:{funcs}\r\nnumber_of_libraries:{}\r\nused_memory_vm_functions:0\r\nused_memory_vm_total:0\r\nused_memory_vm_total_human:0B\r\nused_memory_functions:0\r\nused_memory_scripts:0\r\nused_memory_scripts_human:0B\r\nmaxmemory:{maxmem}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{policy}\r\nallocator_frag_ratio:1.00\r\nallocator_frag_bytes:0\r\nallocator_rss_ratio:1.00\r\nallocator_rss_bytes:0\r\nrss_overhead_ratio:1.00\r\nrss_overhead_bytes:0\r\nmem_fragmentation_ratio:{frag:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:0\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:{repl_bufs}\r\nmem_clients_slaves:0\r\nmem_clients_normal:0\r\nmem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:libc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
                bytes_to_human(used as u64),
                bytes_to_human(rss as u64),
                bytes_to_human(peak as u64),
                if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 100.0 },
                bytes_to_human(sysmem),
                srv.functions.libraries.len(),
                bytes_to_human(maxmem),
                rss as i64 - used as i64,
            );
        }
        "persistence" => o.push_str(&crate::persistence::info_section(srv)),
        "stats" => {
            let st = &srv.stats;
            let (ops, inkb, outkb) = st.instantaneous();
            let channels: usize = 0;
            let _ = write!(
                o,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:{}\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:{}\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
                st.total_connections_received,
                st.total_commands_processed,
                ops,
                st.net_input_bytes,
                st.net_output_bytes,
                srv.repl.net_repl_input,
                srv.repl.net_repl_output,
                inkb,
                outkb,
                st.rejected_connections,
                srv.repl.stat_sync_full,
                srv.repl.stat_sync_partial_ok,
                srv.repl.stat_sync_partial_err,
                st.expired_keys,
                st.expire_cycle_cpu_ms,
                st.evicted_keys,
                st.keyspace_hits,
                st.keyspace_misses,
                channels,
                srv.persist.last_fork_usec,
                srv.persist.total_forks,
                srv.migrate_sockets.len(),
                srv.repl.own_expires.len(),
                srv.tracking.table.len(),
                srv.tracking.total_items,
                srv.tracking.prefixes.len(),
                st.unexpected_error_replies,
                st.total_error_replies,
                st.dump_payload_sanitizations,
                st.total_reads_processed,
                st.total_writes_processed,
            );
        }
        "replication" => o.push_str(&crate::replication::info(srv)),
        "cpu" => {
            let (sys, user) = rusage(libc::RUSAGE_SELF);
            let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
            let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
            let _ = write!(
                o,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:{csys:.6}\r\nused_cpu_user_children:{cuser:.6}\r\nused_cpu_sys_main_thread:{tsys:.6}\r\nused_cpu_user_main_thread:{tuser:.6}\r\n"
            );
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            let mut rows: Vec<(String, crate::server::stats::CmdStat)> = Vec::new();
            for (id, st) in srv.stats.cmd.iter().enumerate() {
                if st.calls == 0 && st.rejected_calls == 0 && st.failed_calls == 0 {
                    continue;
                }
                rows.push((srv.commands.names[id].clone(), *st));
            }
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, st) in rows {
                let per = if st.calls > 0 {
                    st.usec as f64 / st.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                    name, st.calls, st.usec, per, st.rejected_calls, st.failed_calls
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            for (code, n) in &srv.stats.error_stats {
                let _ = write!(o, "errorstat_{}:count={}\r\n", code, n);
            }
        }
        "latencystats" => {
            o.push_str("# Latencystats\r\n");
            let pcts: Vec<(String, f64)> = srv
                .config
                .get("latency-tracking-info-percentiles")
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|p| p.parse::<f64>().ok().map(|v| (p.to_string(), v)))
                .collect();
            let mut rows: Vec<(&str, &crate::server::stats::LatencyHistogram)> = srv
                .stats
                .latency
                .iter()
                .enumerate()
                .filter_map(|(id, h)| h.as_deref().map(|h| (srv.commands.names[id].as_str(), h)))
                .collect();
            rows.sort_by(|a, b| a.0.cmp(b.0));
            for (name, h) in rows {
                let vals: Vec<String> = pcts
                    .iter()
                    .map(|(n, p)| format!("p{}={:.3}", n, h.value_at(*p) as f64 / 1000.0))
                    .collect();
                let _ = write!(
                    o,
                    "latency_percentiles_usec_{}:{}\r\n",
                    name,
                    vals.join(",")
                );
            }
        }
        "cluster" => o.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for db in &srv.dbs {
                if !db.is_empty() {
                    let _ = write!(
                        o,
                        "db{}:keys={},expires={},avg_ttl={}\r\n",
                        db.id,
                        db.len(),
                        db.expires,
                        db.avg_ttl
                    );
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- CONFIG

fn config_get(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for a in &argv[2..] {
        let name = String::from_utf8_lossy(a).into_owned();
        if !name.contains(['*', '?', '[']) {
            if let Some(v) = ctx.srv.config.get(&name) {
                if seen.insert(name.to_ascii_lowercase()) {
                    out.push((name.clone(), v.to_string()));
                }
            }
            continue;
        }
        for (n, v) in ctx.srv.config.matching(a) {
            if seen.insert(n.to_string()) {
                out.push((n.to_string(), v));
            }
        }
    }
    let r = ctx.reply();
    r.map(out.len());
    for (n, v) in out {
        r.bulk(n.as_bytes());
        r.bulk(v.as_bytes());
    }
}

fn config_set(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() % 2 == 1 {
        ctx.syntax_error();
        return;
    }
    let pairs: Vec<(String, String)> = argv[2..]
        .chunks(2)
        .map(|c| {
            (
                String::from_utf8_lossy(&c[0]).into_owned(),
                String::from_utf8_lossy(&c[1]).into_owned(),
            )
        })
        .collect();
    // Validate names first, as Redis does, then apply all or nothing.
    let protected_ok = match ctx
        .srv
        .config
        .get("enable-protected-configs")
        .unwrap_or("no")
    {
        "yes" => true,
        "local" => is_local(&ctx.client.addr),
        _ => false,
    };
    let mut seen = Vec::new();
    for (name, _) in &pairs {
        let Some(i) = ctx.srv.config.lookup(name) else {
            ctx.error(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                name
            ));
            return;
        };
        let p = &crate::config::PARAMS[i];
        if p.flags & crate::config::params::IMMUTABLE != 0 {
            ctx.error(&format!("ERR CONFIG SET failed (possibly related to argument '{}') - can't set immutable config", name));
            return;
        }
        if p.flags & crate::config::params::PROTECTED != 0 && !protected_ok {
            ctx.error(&format!("ERR CONFIG SET failed (possibly related to argument '{}') - can't set protected config", name));
            return;
        }
        if ctx.srv.loading && crate::config::params::DENY_LOADING.contains(&p.name) {
            ctx.error("LOADING Redis is loading the dataset in memory");
            return;
        }
        if seen.contains(&i) {
            ctx.error(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - duplicate parameter",
                name
            ));
            return;
        }
        seen.push(i);
    }
    let backup = ctx.srv.config.clone();
    for (name, value) in &pairs {
        let i = ctx.srv.config.lookup(name).unwrap_or(0);
        let multi = crate::config::PARAMS[i].flags & crate::config::params::MULTI_ARG != 0;
        let args: Vec<String> = if multi && !value.is_empty() {
            match crate::protocol::parse::split_args(value.as_bytes()) {
                Some(a) => a
                    .into_iter()
                    .map(|x| String::from_utf8_lossy(&x).into_owned())
                    .collect(),
                None => vec![value.clone()],
            }
        } else {
            vec![value.clone()]
        };
        // dir takes effect at once: every file is relative to it.
        let chdir = || match eq_ic(name.as_bytes(), "dir") {
            true => {
                std::env::set_current_dir(&args[0]).map_err(|e| crate::server::log_io_error(&e))
            }
            false => Ok(()),
        };
        if let Err(e) = chdir().and_then(|_| ctx.srv.config.set(name, &args, false)) {
            ctx.srv.config = backup;
            ctx.error(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                crate::config::PARAMS[i].name,
                e
            ));
            return;
        }
    }
    // appendonly switches the AOF on (through a rewrite) or off now.
    {
        use crate::persistence::aof;
        let want = ctx.srv.config.get_bool("appendonly");
        let on = ctx.srv.aof.state != aof::AofState::Off;
        if want && !on && aof::start(ctx.srv).is_err() {
            ctx.srv.config = backup;
            ctx.error("ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs.");
            return;
        }
        if !want && on {
            aof::stop(ctx.srv);
        }
        // aof-disable-auto-gc no removes the history files right away.
        aof::delete_history(ctx.srv);
    }
    // A new port or bind list is bound now, so a failure can be reported
    // (and everything rolled back); the reactor swaps the sockets in.
    if ctx.srv.config.port != backup.port || ctx.srv.config.bind != backup.bind {
        match crate::server::reactor::bind_tcp_listeners(&ctx.srv.config) {
            Ok(ls) => ctx.srv.new_tcp_listeners = Some(ls),
            Err(_) => {
                let (arg, why) = if ctx.srv.config.port != backup.port {
                    ("port", "Unable to listen on this port")
                } else {
                    ("bind", "Failed to bind to specified addresses.")
                };
                ctx.srv.config = backup;
                ctx.error(&format!(
                    "ERR CONFIG SET failed (possibly related to argument '{arg}') - {why}"
                ));
                return;
            }
        }
    }
    apply_runtime(ctx);
    ctx.reply().ok();
}

fn is_local(addr: &str) -> bool {
    addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with('/')
}

/// Settings that need more than their typed field updated.
fn apply_runtime(ctx: &mut Ctx) {
    crate::server::log::set_level(ctx.srv.config.loglevel);
    ctx.srv.hz = ctx.srv.config.hz;
}

fn config_resetstat(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.srv.stats.reset();
    ctx.srv.slowlog.clear();
    alloc::reset_peak();
    ctx.reply().ok();
}

fn config_rewrite(ctx: &mut Ctx, _argv: &[Bytes]) {
    rewrite_config_file(ctx, false);
}

/// CONFIG REWRITE, and DEBUG CONFIG-REWRITE-FORCE-ALL with `force_all`.
fn rewrite_config_file(ctx: &mut Ctx, force_all: bool) {
    let Some(path) = ctx.srv.config.file.clone() else {
        ctx.error("ERR The server is running without a config file");
        return;
    };
    match crate::config::file::rewrite(&ctx.srv.config, &path, force_all) {
        Ok(()) => {
            tracing::info!("CONFIG REWRITE executed with success.");
            ctx.reply().ok();
        }
        Err(e) => {
            tracing::warn!("CONFIG REWRITE failed: {}", e);
            ctx.error(&format!("ERR Rewriting config file: {}", e));
        }
    }
}

fn config_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            "HELP",
            "    Print this help.",
        ],
    );
}

// ---------------------------------------------------------------- misc

fn time(ctx: &mut Ctx, _argv: &[Bytes]) {
    let us = crate::util::ustime();
    let r = ctx.reply();
    r.array(2);
    r.bulk((us / 1_000_000).to_string().as_bytes());
    r.bulk((us % 1_000_000).to_string().as_bytes());
}

fn shutdown(ctx: &mut Ctx, argv: &[Bytes]) {
    use crate::persistence::shutdown as sd;
    let mut req = crate::server::ShutdownRequest::default();
    let mut abort = false;
    for a in &argv[1..] {
        if eq_ic(a, "nosave") {
            req.save = Some(false);
        } else if eq_ic(a, "save") {
            req.save = Some(true);
        } else if eq_ic(a, "now") {
            req.now = true;
        } else if eq_ic(a, "force") {
            req.force = true;
        } else if eq_ic(a, "abort") {
            abort = true;
        } else {
            return ctx.syntax_error();
        }
    }
    let both_save =
        argv[1..].iter().any(|a| eq_ic(a, "nosave")) && argv[1..].iter().any(|a| eq_ic(a, "save"));
    if (abort && argv.len() != 2) || both_save {
        return ctx.syntax_error();
    }
    if abort {
        if sd::abort(ctx.srv) {
            return ctx.reply().ok();
        }
        return ctx.error("ERR No shutdown in progress.");
    }
    if ctx.client.has(cflags::MULTI) {
        return ctx.error("ERR Command not allowed inside a transaction");
    }
    // A busy script: only SHUTDOWN NOSAVE may stop the server.
    if req.save != Some(false) {
        if let Some(e) = crate::scripting::busy::busy_error() {
            return ctx.error(e);
        }
    }
    // The client waits for the outcome: the connection closing when the
    // server exits, an error when the shutdown fails or is aborted.
    sd::block_client(ctx.srv, ctx.client);
    if ctx.srv.shutdown.is_none() || req.save == Some(false) {
        ctx.srv.shutdown = Some(req);
    }
}

fn bgrewriteaof(ctx: &mut Ctx, _argv: &[Bytes]) {
    use crate::persistence::{aof, ChildType};
    let p = &ctx.srv.persist;
    if p.child_pid != -1 && p.child_type == ChildType::Aof {
        ctx.error("ERR Background append only file rewriting already in progress");
    } else if p.child_pid != -1 || ctx.client.has(cflags::MULTI) {
        ctx.srv.aof.rewrite_scheduled = true;
        ctx.srv.aof.consecutive_failures = 0;
        ctx.reply()
            .status("Background append only file rewriting scheduled");
    } else if aof::rewrite_background(ctx.srv).is_ok() {
        ctx.reply()
            .status("Background append only file rewriting started");
    } else {
        ctx.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
    }
}

fn save(ctx: &mut Ctx, _argv: &[Bytes]) {
    if ctx.srv.persist.child_pid != -1
        && ctx.srv.persist.child_type == crate::persistence::ChildType::Rdb
    {
        ctx.error("ERR Background save already in progress");
        return;
    }
    match crate::persistence::save(ctx.srv) {
        Ok(()) => ctx.reply().ok(),
        Err(e) => {
            tracing::warn!("Failed saving the DB: {}", e);
            ctx.error("ERR");
        }
    }
}

fn bgsave(ctx: &mut Ctx, argv: &[Bytes]) {
    let schedule = match argv.len() {
        1 => false,
        2 if eq_ic(&argv[1], "schedule") => true,
        _ => return ctx.syntax_error(),
    };
    let p = &ctx.srv.persist;
    if p.child_pid != -1 && p.child_type == crate::persistence::ChildType::Rdb {
        return ctx.error("ERR Background save already in progress");
    }
    if p.child_pid != -1 || ctx.client.has(cflags::MULTI) {
        if schedule || ctx.client.has(cflags::MULTI) {
            ctx.srv.persist.scheduled = true;
            return ctx.reply().status("Background saving scheduled");
        }
        return ctx.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
    match crate::persistence::bgsave(ctx.srv) {
        Ok(_) => ctx.reply().status("Background saving started"),
        Err(e) => ctx.error(&format!("ERR {e}")),
    }
}

fn lastsave(ctx: &mut Ctx, _argv: &[Bytes]) {
    let t = ctx.srv.last_save;
    ctx.reply().int(t);
}

fn monitor(ctx: &mut Ctx, _argv: &[Bytes]) {
    if ctx.client.has(cflags::MONITOR) {
        return;
    }
    ctx.client.flags |= cflags::MONITOR;
    let id = ctx.client.id;
    ctx.srv.monitors.push(id);
    ctx.reply().ok();
}

// ---------------------------------------------------------------- SLOWLOG

fn slowlog_get(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut count = 10usize;
    if argv.len() == 3 {
        match crate::util::parse_i64(&argv[2]) {
            Some(n) if n >= -1 => count = if n == -1 { usize::MAX } else { n as usize },
            _ => {
                ctx.error("ERR count should be greater than or equal to -1");
                return;
            }
        }
    } else if argv.len() > 3 {
        ctx.error("ERR wrong number of arguments for 'slowlog|get' command");
        return;
    }
    let entries: Vec<crate::server::SlowlogEntry> = ctx
        .srv
        .slowlog
        .iter()
        .take(count)
        .map(|e| crate::server::SlowlogEntry {
            id: e.id,
            time: e.time,
            duration_us: e.duration_us,
            argv: e.argv.clone(),
            addr: e.addr.clone(),
            name: e.name.clone(),
        })
        .collect();
    let r = ctx.reply();
    r.array(entries.len());
    for e in entries {
        r.array(6);
        r.int(e.id as i64);
        r.int(e.time);
        r.int(e.duration_us);
        r.array(e.argv.len());
        for a in &e.argv {
            r.bulk(a);
        }
        r.bulk(e.addr.as_bytes());
        r.bulk(e.name.as_bytes());
    }
}

fn slowlog_len(ctx: &mut Ctx, _argv: &[Bytes]) {
    let n = ctx.srv.slowlog.len() as i64;
    ctx.reply().int(n);
}

fn slowlog_reset(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.srv.slowlog.clear();
    ctx.reply().ok();
}

fn slowlog_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            "HELP",
            "    Print this help.",
        ],
    );
}

// ---------------------------------------------------------------- MEMORY

fn memory_usage(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut i = 3;
    while i < argv.len() {
        if eq_ic(&argv[i], "samples") && i + 1 < argv.len() {
            if crate::util::parse_i64(&argv[i + 1]).is_none_or(|n| n < 0) {
                ctx.not_int();
                return;
            }
            i += 2;
        } else {
            ctx.syntax_error();
            return;
        }
    }
    let key = argv[2].clone();
    let size = ctx.lookup_write(&key).map(|o| {
        // Our node: key + object + chain pointer, plus what the value owns.
        let key_heap = if key.len() > crate::db::sbytes::INLINE_CAP {
            key.len()
        } else {
            0
        };
        72 + key_heap + o.val.heap_size()
    });
    match size {
        Some(n) => ctx.reply().int(n as i64),
        None => ctx.reply().null(),
    }
}

fn memory_doctor(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply().verbatim(b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n", "txt");
}

fn memory_stats(ctx: &mut Ctx, _argv: &[Bytes]) {
    let used = alloc::used_memory() as i64;
    let peak = alloc::peak_memory() as i64;
    let keys: usize = ctx.srv.dbs.iter().map(|d| d.len()).sum();
    let r = ctx.reply();
    r.map(6);
    r.bulk(b"peak.allocated");
    r.int(peak);
    r.bulk(b"total.allocated");
    r.int(used);
    r.bulk(b"startup.allocated");
    r.int(0);
    r.bulk(b"keys.count");
    r.int(keys as i64);
    r.bulk(b"keys.bytes-per-key");
    r.int(if keys > 0 { used / keys as i64 } else { 0 });
    r.bulk(b"dataset.bytes");
    r.int(used);
}

fn memory_malloc_stats(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply()
        .verbatim(b"Stats not supported for the current allocator", "txt");
}

fn memory_purge(ctx: &mut Ctx, _argv: &[Bytes]) {
    // SAFETY: glibc's malloc_trim releases free heap pages to the OS.
    unsafe {
        libc::malloc_trim(0);
    }
    ctx.reply().ok();
}

fn memory_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Print this help.",
        ],
    );
}

// ---------------------------------------------------------------- DEBUG

fn debug(ctx: &mut Ctx, argv: &[Bytes]) {
    let allowed = match ctx.srv.config.enable_debug_command.as_str() {
        "yes" => true,
        "local" => is_local(&ctx.client.addr),
        _ => false,
    };
    if !allowed {
        ctx.error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        return;
    }
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "help" => help_reply(
            ctx,
            &[
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "RELOAD",
                "    Save the RDB on disk and reload it back to memory.",
                "CHANGE-REPL-ID",
                "    Change the replication IDs of the instance.",
                "CONFIG-REWRITE-FORCE-ALL",
                "    Like CONFIG REWRITE but writes all configuration options, including",
                "    keywords not listed in original configuration file or default values.",
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type.",
                "PAUSE-CRON <0|1>",
                "    Stop periodic cron job processing.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not accessed.",
                "QUICKLIST-PACKED-THRESHOLD <size>",
                "    Sets the threshold for elements to be inserted as plain vs packed nodes",
                "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
                "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
                "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "STRINGMATCH-LEN",
                "    Run a fuzz tester against the stringmatchlen() function.",
                "HELP",
                "    Print this help.",
            ],
        ),
        "sleep" if argv.len() == 3 => {
            let secs = crate::util::parse_f64(&argv[2]).unwrap_or(0.0).max(0.0);
            std::thread::sleep(std::time::Duration::from_micros((secs * 1e6) as u64));
            ctx.reply().ok();
        }
        "set-skip-checksum-validation" if argv.len() == 3 => {
            ctx.srv.skip_checksum_validation =
                crate::util::parse_i64(&argv[2]).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        "pause-cron" if argv.len() == 3 => {
            ctx.srv.pause_cron = crate::util::parse_i64(&argv[2]).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        "set-disable-deny-scripts" if argv.len() == 3 => {
            let on = crate::util::parse_i64(&argv[2]).unwrap_or(0) != 0;
            crate::scripting::DISABLE_DENY_SCRIPTS
                .store(on, std::sync::atomic::Ordering::Relaxed);
            ctx.reply().ok();
        }
        "set-active-expire" if argv.len() == 3 => {
            ctx.srv.active_expire_enabled = crate::util::parse_i64(&argv[2]).unwrap_or(0) != 0;
            ctx.reply().ok();
        }
        "digest" if argv.len() == 2 => {
            let d = dataset_digest(ctx);
            ctx.reply().status(&hex(&d));
        }
        "digest-value" => {
            let mut out = Vec::new();
            for k in &argv[2..] {
                let now = ctx.now;
                let d = match ctx.db().lookup(k, now) {
                    Some(o) => value_digest(&o.val, o.expire != crate::db::NO_EXPIRE),
                    None => [0u8; 20],
                };
                out.push(hex(&d));
            }
            let r = ctx.reply();
            r.array(out.len());
            for h in out {
                r.status(&h);
            }
        }
        "log" if argv.len() == 3 => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&argv[2]));
            ctx.reply().ok();
        }
        "aof-flush-sleep" if argv.len() == 3 => {
            ctx.srv.aof.flush_sleep_us = crate::util::parse_i64(&argv[2]).unwrap_or(0).max(0);
            ctx.reply().ok();
        }
        "loadaof" => match crate::persistence::loading::with_clients(&mut *ctx.clients, || {
            crate::persistence::debug_loadaof(ctx.srv)
        }) {
            Ok(()) => ctx.reply().ok(),
            Err(e) => ctx.error(&format!("ERR {e}")),
        },
        "reload" => {
            let (mut save, mut flush, mut merge) = (true, true, false);
            for opt in &argv[2..] {
                match opt.to_ascii_lowercase().as_slice() {
                    b"merge" => merge = true,
                    b"noflush" => flush = false,
                    b"nosave" => save = false,
                    _ => {
                        return ctx.error(
                            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                        )
                    }
                }
            }
            match crate::persistence::loading::with_clients(&mut *ctx.clients, || {
                crate::persistence::debug_reload(ctx.srv, save, flush, merge)
            }) {
                Ok(()) => ctx.reply().ok(),
                Err(e) => ctx.error(&format!("ERR {e}")),
            }
        }
        "populate" if (3..=5).contains(&argv.len()) => {
            let Some(n) = crate::util::parse_i64(&argv[2]).filter(|n| *n >= 0) else {
                return ctx.error("ERR value is out of range, must be positive");
            };
            let size = if argv.len() == 5 {
                match crate::util::parse_i64(&argv[4]).filter(|n| *n >= 0) {
                    Some(s) => s as usize,
                    None => return ctx.error("ERR value is out of range, must be positive"),
                }
            } else {
                0
            };
            let prefix = if argv.len() >= 4 {
                argv[3].to_vec()
            } else {
                b"key".to_vec()
            };
            let now = ctx.now;
            for j in 0..n {
                let mut key = prefix.clone();
                key.extend_from_slice(format!(":{}", j).as_bytes());
                if ctx.db().lookup(&key, now).is_some() {
                    continue;
                }
                let mut val = format!("value:{}", j).into_bytes();
                if size > 0 {
                    val.resize(size, 0);
                }
                let v = if size > 0 {
                    crate::db::Value::Str(crate::db::SBytes::from_vec(val))
                } else {
                    crate::db::Value::from_bytes(&val)
                };
                ctx.db().set(&key, v);
                ctx.signal_modified(&key);
            }
            ctx.reply().ok();
        }
        "change-repl-id" => {
            ctx.srv.run_id = crate::util::random_hex(40);
            ctx.reply().ok();
        }
        "stringmatch-len" => {
            // The matcher is bounded; a long pathological pattern cannot hang it.
            crate::util::glob_match(&[b'*'; 200], &[b'x'; 200], false);
            ctx.reply().status("OK");
        }
        "object" if argv.len() == 3 => {
            // The entry as stored, even when logically expired.
            let key = argv[2].clone();
            // Like Redis, a raw lookup: an expired key is still shown.
            let info = ctx.db().dict.get_mut(&key[..]).map(|o| {
                let ser = match &o.val {
                    crate::db::Value::Int(n) => n.to_string().len(),
                    v => v.string_bytes().map(|b| b.len()).unwrap_or(0) + 1,
                };
                format!(
                    "Value at:0x{:x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                    o as *const _ as usize,
                    o.val.encoding(),
                    ser,
                    o.lru & 0xffffff,
                    crate::db::lru_clock().saturating_sub(o.lru)
                )
            });
            match info {
                Some(s) => ctx.reply().status(&s),
                None => ctx.error("ERR no such key"),
            }
        }
        "protocol" if argv.len() == 3 => debug_protocol(ctx, &argv[2]),
        "config-rewrite-force-all" if argv.len() == 2 => rewrite_config_file(ctx, true),
        "quicklist-packed-threshold" if argv.len() == 3 => {
            let sz = std::str::from_utf8(&argv[2])
                .ok()
                .and_then(crate::config::params::parse_memory)
                .filter(|n| *n >= 0);
            match sz {
                Some(n) if crate::db::list::set_packed_threshold(n as u64) => ctx.reply().ok(),
                _ => ctx.error(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ),
            }
        }
        "replicate" if argv.len() >= 3 => {
            // Straight to the replicas, without running it here.
            ctx.srv.repl.feed_command(None, &argv[2..]);
            ctx.reply().ok();
        }
        _ => {
            let msg = format!("ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.", String::from_utf8_lossy(&argv[1]));
            ctx.error(&msg);
        }
    }
}

fn debug_protocol(ctx: &mut Ctx, t: &[u8]) {
    let name = String::from_utf8_lossy(t).to_ascii_lowercase();
    let r = ctx.reply();
    match name.as_str() {
        "string" => r.bulk(b"Hello World"),
        "integer" => r.int(12345),
        // Redis answers 3.141, not pi.
        #[allow(clippy::approx_constant)]
        "double" => r.double(3.141),
        "bignum" => r.bignum("1234567999999999999999999999999999999"),
        "null" => r.null(),
        "array" => {
            r.array(3);
            for i in 0..3 {
                r.int(i);
            }
        }
        "set" => {
            r.set(3);
            for i in 0..3 {
                r.int(i);
            }
        }
        "map" => {
            r.map(3);
            for i in 0..3 {
                r.int(i);
                r.boolean(i == 1);
            }
        }
        "attrib" => {
            if r.resp >= 3 {
                r.attribute(1);
                r.bulk(b"key-popularity");
                r.array(2);
                r.bulk(b"key:123");
                r.int(90);
            }
            r.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if r.resp < 3 {
                ctx.error("ERR RESP2 is not supported by this command");
                return;
            }
            r.push(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            r.bulk(b"Some real reply following the push reply");
        }
        "true" => r.boolean(true),
        "false" => r.boolean(false),
        "verbatim" => r.verbatim(b"This is a verbatim\nstring", "txt"),
        _ => ctx.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

// ---------------------------------------------------------------- DIGEST

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// digest ^= SHA1(data): order-independent mixing (Redis's xorDigest).
fn xor_in(d: &mut [u8; 20], data: &[u8]) {
    let h = crate::util::sha1(data);
    for (a, b) in d.iter_mut().zip(h.iter()) {
        *a ^= b;
    }
}

/// digest = SHA1(digest ^ SHA1(data)): order-dependent mixing (Redis's
/// mixDigest).
fn mix(d: &mut [u8; 20], data: &[u8]) {
    xor_in(d, data);
    *d = crate::util::sha1(&d[..]);
}

/// A value's digest exactly as Redis computes it (xorObjectDigest), so
/// DEBUG DIGEST-VALUE agrees between Ermine and Redis for equal data.
fn value_digest(v: &crate::db::Value, has_expire: bool) -> [u8; 20] {
    object_digest([0u8; 20], v, has_expire)
}

/// Mix a value (type, contents, expiry flag) into `d`.
fn object_digest(mut d: [u8; 20], v: &crate::db::Value, has_expire: bool) -> [u8; 20] {
    use crate::db::Value;
    let type_code: u32 = match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix(&mut d, &type_code.to_be_bytes());
    match v {
        Value::List(l) => {
            for e in l.iter() {
                mix(&mut d, e);
            }
        }
        Value::Set(s) => s.for_each(|m| xor_in(&mut d, m)),
        Value::Hash(h) => {
            for (f, v) in h.pairs() {
                let mut e = [0u8; 20];
                mix(&mut e, &f);
                mix(&mut e, &v);
                xor_in(&mut d, &e);
            }
        }
        Value::ZSet(z) => {
            for (score, m) in z.tree.iter() {
                let mut e = [0u8; 20];
                mix(&mut e, m);
                mix(&mut e, crate::util::format_double_g17(*score).as_bytes());
                xor_in(&mut d, &e);
            }
        }
        Value::Stream(st) => {
            use crate::db::stream::StreamId;
            st.range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
                mix(&mut d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (f, v) in fields {
                    f.with_bytes(|b| mix(&mut d, b));
                    v.with_bytes(|b| mix(&mut d, b));
                }
                true
            });
        }
        other => {
            if let Some(b) = other.string_bytes() {
                mix(&mut d, &b);
            }
        }
    }
    if has_expire {
        xor_in(&mut d, b"!!expire!!");
    }
    d
}

/// DEBUG DIGEST: Redis's computeDatasetDigest.
fn dataset_digest(ctx: &mut Ctx) -> [u8; 20] {
    let mut total = [0u8; 20];
    for db in &ctx.srv.dbs {
        if db.is_empty() {
            continue;
        }
        mix(&mut total, &(db.id as u32).to_be_bytes());
        for (k, o) in db.dict.iter() {
            let mut kd = [0u8; 20];
            mix(&mut kd, k);
            let kd = object_digest(kd, &o.val, o.expire != crate::db::NO_EXPIRE);
            xor_in(&mut total, &kd);
        }
    }
    total
}

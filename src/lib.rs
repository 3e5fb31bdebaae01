//! Ermine: a Redis-compatible server.

pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod persistence;
pub mod protocol;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod util;

/// The Redis version whose behaviour we implement (reported as
/// redis_version: clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";
/// Ermine's own version.
pub const ERMINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Entry point shared by every binary: the name we were invoked by picks
/// the program (`redis-cli` symlink runs the client, and so on).
pub fn main_dispatch(default: &str) -> i32 {
    // Lossy: arguments need not be UTF-8 (the client passes raw bytes on).
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = args
        .first()
        .and_then(|a| {
            std::path::Path::new(a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let which = if prog.contains("redis-cli") || prog.contains("ermine-cli") {
        "cli"
    } else if prog.contains("redis-check-rdb") || prog.contains("ermine-check-rdb") {
        "check-rdb"
    } else if prog.contains("redis-check-aof") || prog.contains("ermine-check-aof") {
        "check-aof"
    } else if prog.contains("redis-sentinel") {
        "sentinel"
    } else if prog.contains("redis-server") || prog.contains("ermine-server") {
        "server"
    } else {
        default
    };
    match which {
        "cli" => cli::main(args),
        "check-rdb" => persistence::check::check_rdb_main(&args),
        "check-aof" => persistence::check::check_aof_main(&args),
        "sentinel" => {
            eprintln!("Sentinel mode is not supported by Ermine yet.");
            1
        }
        _ => server_main(args),
    }
}

fn print_usage() {
    eprintln!(
        "Usage: ./redis-server [/path/to/redis.conf] [options] [-]\n       ./redis-server - (read config from stdin)\n       ./redis-server -v or --version\n       ./redis-server -h or --help\n       ./redis-server --test-memory <megabytes>\n\nExamples:\n       ./redis-server (run the server with default conf)\n       ./redis-server /etc/redis/6379.conf\n       ./redis-server --port 7777\n       ./redis-server --port 7777 --replicaof 127.0.0.1 8888\n       ./redis-server /etc/myredis.conf --loglevel verbose -\n       ./redis-server /etc/myredis.conf --loglevel verbose\n"
    );
}

/// ermine-server / redis-server.
pub fn server_main(args: Vec<String>) -> i32 {
    let rest: Vec<String> = args.iter().skip(1).cloned().collect();
    if let Some(a) = rest.first() {
        match a.as_str() {
            "-v" | "--version" => {
                println!(
                    "Redis server v={} sha=00000000:0 malloc=libc bits=64 build=ermine-{}",
                    REDIS_VERSION, ERMINE_VERSION
                );
                return 0;
            }
            "-h" | "--help" => {
                print_usage();
                return 0;
            }
            _ => {}
        }
    }
    let mut cfg = match config::file::from_args(&rest) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.report());
            return 1;
        }
    };
    if cfg.get_bool("daemonize") {
        server::reactor::daemonize();
    }
    server::log::init(cfg.loglevel, cfg.get("logfile").unwrap_or(""));
    let dir = cfg.get("dir").unwrap_or("").to_string();
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&dir) {
            tracing::warn!("Can't chdir to '{}': {}", dir, e);
            return 1;
        }
    }
    // CONFIG GET dir reports the absolute working directory, as Redis does.
    if let Ok(cwd) = std::env::current_dir() {
        let _ = cfg.set_str("dir", &cwd.display().to_string(), true);
    }
    tracing::warn!("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    tracing::warn!(
        "Redis version={}, bits=64, commit=00000000, modified=0, pid={}, just started",
        REDIS_VERSION,
        std::process::id()
    );
    match &cfg.file {
        Some(_) => tracing::warn!("Configuration loaded"),
        None => tracing::warn!(
            "Warning: no config file specified, using the default config. In order to specify a config file use {} /path/to/redis.conf",
            args.first().map(|s| s.as_str()).unwrap_or("ermine-server")
        ),
    }
    let srv = server::Server::new(cfg);
    let mut reactor = match server::reactor::Reactor::new(srv) {
        Ok(r) => r,
        Err(_) => return 1,
    };
    if let Some(p) = reactor.local_port() {
        reactor.srv.port = p;
    }
    let pidfile = reactor.srv.config.get("pidfile").unwrap_or("").to_string();
    if !pidfile.is_empty() {
        let _ = std::fs::write(&pidfile, format!("{}\n", std::process::id()));
    }
    server::log_banner(&reactor.srv);
    tracing::warn!("Server initialized");
    // Clients may connect while the dataset loads: they get -LOADING.
    reactor.expose_io();
    let clients: *mut server::Clients = &mut reactor.clients;
    let loaded = persistence::loading::with_clients(clients, || {
        persistence::load_at_startup(&mut reactor.srv)
    });
    if let Err(e) = loaded {
        if !e.is_empty() {
            tracing::warn!("{}", e);
        }
        return 1;
    }
    tracing::info!("Ready to accept connections");
    reactor.run()
}

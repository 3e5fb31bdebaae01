//! Persistence: RDB snapshots (SAVE, BGSAVE in a forked child, save
//! points, loading at start-up, saving on shutdown) and the AOF (`aof`).

pub mod aof;
pub mod check;
pub mod child;
pub mod compact;
pub mod loading;
pub mod lzf;
pub mod rdb;
pub mod shutdown;

use std::io::Write;

use crate::server::Server;

/// What the one background child (if any) is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildType {
    None,
    Rdb,
    Aof,
}

/// Persistence bookkeeping kept on the server.
#[derive(Debug)]
pub struct State {
    /// The background child (BGSAVE or AOF rewrite), if one runs.
    pub child_pid: i32,
    pub child_type: ChildType,
    pub child_start: i64,
    pub dirty_at_fork: u64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_secs: i64,
    pub rdb_saves: u64,
    pub total_forks: u64,
    pub last_fork_usec: i64,
    /// BGSAVE SCHEDULE asked for a save once the current child is done.
    pub scheduled: bool,
    pub loaded_keys: usize,
    pub loaded_expired: usize,
    /// When a failed BGSAVE may be retried (save points back off 5 s).
    pub retry_after: i64,
    /// Progress and copy-on-write reports of the child.
    pub info: child::Info,
    /// The load in progress, while `srv.loading`.
    pub load: LoadProgress,
    /// A shutdown waiting for replicas to catch up.
    pub shutdown: Option<shutdown::Pending>,
    /// Clients blocked in SHUTDOWN: (id, slot).
    pub shutdown_blocked: Vec<(u64, usize)>,
}

impl Default for State {
    fn default() -> Self {
        State {
            child_pid: -1,
            child_type: ChildType::None,
            child_start: 0,
            dirty_at_fork: 0,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            rdb_saves: 0,
            total_forks: 0,
            last_fork_usec: 0,
            scheduled: false,
            loaded_keys: 0,
            loaded_expired: 0,
            retry_after: 0,
            info: child::Info::new(),
            load: LoadProgress::default(),
            shutdown: None,
            shutdown_blocked: Vec::new(),
        }
    }
}

pub fn rdb_path(srv: &Server) -> std::path::PathBuf {
    let name = srv
        .config
        .get("dbfilename")
        .unwrap_or("dump.rdb")
        .to_string();
    std::path::PathBuf::from(name)
}

pub fn limits(srv: &Server) -> rdb::BuildLimits {
    let c = &srv.config;
    rdb::BuildLimits {
        hash: crate::db::hash::Limits {
            entries: c.get_i64("hash-max-listpack-entries").max(0) as usize,
            value: c.get_i64("hash-max-listpack-value").max(0) as usize,
        },
        zset: crate::db::zset::Limits {
            entries: c.get_i64("zset-max-listpack-entries").max(0) as usize,
            value: c.get_i64("zset-max-listpack-value").max(0) as usize,
        },
        intset: c.get_i64("set-max-intset-entries").max(0) as usize,
        list_fill: c.get_i64("list-max-listpack-size"),
        // Loading a file sanitizes deeply only under "yes" ("clients"
        // is for RESTORE, see restore_limits).
        deep: c.get("sanitize-dump-payload") == Some("yes"),
        skip_checksum: srv.skip_checksum_validation,
    }
}

/// Build limits for a RESTORE by a client: "clients" sanitizes deeply
/// too, except for the master's stream.
pub fn restore_limits(srv: &Server, from_master: bool) -> rdb::BuildLimits {
    let mut l = limits(srv);
    if srv.config.get("sanitize-dump-payload") == Some("clients") && !from_master {
        l.deep = true;
    }
    l
}

fn dump_options(srv: &Server, aof_base: bool) -> rdb::DumpOptions {
    rdb::DumpOptions {
        compress: srv.config.get_bool("rdbcompression"),
        checksum: srv.config.get_bool("rdbchecksum"),
        aof_base,
        list_compress_depth: srv.config.get_i64("list-compress-depth").clamp(0, 65535) as usize,
        key_save_delay_us: srv.config.get_i64("rdb-key-save-delay"),
    }
}

fn function_codes(srv: &Server) -> Vec<Vec<u8>> {
    srv.functions
        .libraries
        .values()
        .map(|l| l.code.clone())
        .collect()
}

/// The dataset as an RDB image (`aof_base`: as an AOF base file). Used
/// by SAVE, BGSAVE, DEBUG RELOAD and AOF rewrites alike, so
/// rdb-key-save-delay slows each of them, as in Redis.
pub fn image(srv: &Server, aof_base: bool) -> Vec<u8> {
    rdb::dump(&srv.dbs, &function_codes(srv), &dump_options(srv, aof_base))
}

/// Stream the RDB image into `out` (a file), calling `on_key` after each
/// key: what a saving child does, without holding the image in memory.
pub fn write_image<W: Write>(
    srv: &Server,
    aof_base: bool,
    out: &mut W,
    on_key: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let opt = dump_options(srv, aof_base);
    rdb::dump_to(&srv.dbs, &function_codes(srv), &opt, out, on_key)
}

const BGSAVE_ERR: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Why writes must be refused because data cannot reach the disk (the
/// last background save failed with stop-writes-on-bgsave-error and save
/// points set, or the AOF cannot be written), as Redis's MISCONF.
pub fn disk_error(srv: &Server) -> Option<String> {
    // The cheap flag first: this runs before every write command.
    if !srv.persist.last_bgsave_ok
        && srv.config.get_bool("stop-writes-on-bgsave-error")
        && has_save_points(srv)
    {
        return Some(BGSAVE_ERR.to_string());
    }
    aof::write_error(srv)
}

/// Write `data` to a temp file, fsync it, and rename it over `path`.
pub fn write_atomically(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = std::path::PathBuf::from(format!("temp-{}.rdb", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Write the snapshot to a temp file, fsync it, and rename it over
/// `path`, so a crash never leaves a partial dump.rdb.
fn save_file(
    srv: &Server,
    path: &std::path::Path,
    on_key: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let tmp = std::path::PathBuf::from(format!("temp-{}.rdb", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write_image(srv, false, &mut f, on_key)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // The rename itself must survive a crash too.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        std::fs::File::open(dir)?.sync_all()
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// SAVE: write the snapshot in the foreground.
pub fn save(srv: &mut Server) -> std::io::Result<()> {
    if let Err(e) = save_file(srv, &rdb_path(srv), &mut |_| {}) {
        tracing::warn!(
            "Write error saving DB on disk: {}",
            crate::server::log_io_error(&e)
        );
        return Err(e);
    }
    tracing::info!("DB saved on disk");
    srv.dirty = 0;
    srv.last_save = crate::util::mstime() / 1000;
    srv.persist.last_bgsave_ok = true;
    srv.persist.rdb_saves += 1;
    Ok(())
}

/// BGSAVE: fork a child that writes the snapshot. Returns its pid.
pub fn bgsave(srv: &mut Server) -> Result<i32, String> {
    if srv.persist.child_pid != -1 {
        return Err(if srv.persist.child_type == ChildType::Rdb {
            "Background save already in progress".into()
        } else {
            "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into()
        });
    }
    let path = rdb_path(srv);
    let res = child::fork_child(srv, ChildType::Rdb, |srv, rep| {
        match save_file(srv, &path, &mut |k| rep.key_done(k)) {
            Ok(()) => {
                tracing::info!("DB saved on disk");
                true
            }
            Err(e) => {
                tracing::warn!(
                    "Write error saving DB on disk: {}",
                    crate::server::log_io_error(&e)
                );
                false
            }
        }
    });
    let pid = match res {
        Ok(pid) => pid,
        Err(e) => {
            srv.persist.last_bgsave_ok = false;
            tracing::warn!("Can't save in background: fork: {}", e);
            return Err(format!("Can't save in background: fork: {}", e));
        }
    };
    srv.persist.dirty_at_fork = srv.dirty;
    tracing::info!("Background saving started by pid {}", pid);
    Ok(pid)
}

/// Abort a running BGSAVE (FLUSHALL does): the child gets SIGUSR1 and is
/// reaped by cron, which does not count it as a failed save.
pub fn kill_rdb_child(srv: &mut Server) {
    if srv.persist.child_pid != -1 && srv.persist.child_type == ChildType::Rdb {
        // SAFETY: signalling our own child process.
        unsafe {
            libc::kill(srv.persist.child_pid, libc::SIGUSR1);
        }
    }
}

/// Reap a finished child (called from cron).
pub fn check_child(srv: &mut Server) {
    child::receive(srv);
    if srv.persist.child_pid == -1 {
        if srv.persist.scheduled {
            srv.persist.scheduled = false;
            let _ = bgsave(srv);
        }
        return;
    }
    let mut status = 0;
    let pid = srv.persist.child_pid;
    // SAFETY: non-blocking wait for our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    if r == 0 {
        return;
    }
    let ok = r > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let signal = (r > 0 && libc::WIFSIGNALED(status)).then(|| libc::WTERMSIG(status));
    let kind = srv.persist.child_type;
    child::reset(srv);
    srv.persist.child_pid = -1;
    srv.persist.child_type = ChildType::None;
    if kind == ChildType::Aof {
        aof::rewrite_done(srv, pid, ok, signal);
        if srv.persist.scheduled {
            srv.persist.scheduled = false;
            let _ = bgsave(srv);
        }
        return;
    }
    // A transfer straight to replica sockets left nothing on disk.
    if crate::replication::rdb_child_done(srv, pid, ok, signal) {
        return;
    }
    let now = crate::util::mstime();
    srv.persist.last_bgsave_secs = (now - srv.persist.child_start) / 1000;
    if ok {
        tracing::info!("Background saving terminated with success");
        srv.dirty = srv.dirty.saturating_sub(srv.persist.dirty_at_fork);
        srv.last_save = now / 1000;
        srv.persist.last_bgsave_ok = true;
        srv.persist.rdb_saves += 1;
    } else if let Some(sig) = signal {
        tracing::warn!("Background saving terminated by signal {}", sig);
        let _ = std::fs::remove_file(format!("temp-{}.rdb", pid));
        // SIGUSR1 is how the server itself aborts a save: not an error.
        if sig != libc::SIGUSR1 {
            srv.persist.last_bgsave_ok = false;
            srv.persist.retry_after = now + 5000;
        }
    } else {
        tracing::warn!("Background saving error");
        srv.persist.last_bgsave_ok = false;
        srv.persist.retry_after = now + 5000;
    }
    if srv.persist.scheduled {
        srv.persist.scheduled = false;
        let _ = bgsave(srv);
    }
}

/// Save points: start a BGSAVE when one of `save <secs> <changes>` is met.
pub fn check_save_points(srv: &mut Server) {
    if srv.persist.child_pid != -1 || srv.dirty == 0 {
        return;
    }
    let now = crate::util::mstime();
    if !srv.persist.last_bgsave_ok && now < srv.persist.retry_after {
        return;
    }
    let points: Vec<i64> = srv
        .config
        .get("save")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    for p in points.chunks(2) {
        if p.len() == 2 && srv.dirty >= p[1] as u64 && now / 1000 - srv.last_save >= p[0] {
            tracing::info!("{} changes in {} seconds. Saving...", p[1], p[0]);
            let _ = bgsave(srv);
            return;
        }
    }
}

/// Whether save points are configured (shutdown then saves).
pub fn has_save_points(srv: &Server) -> bool {
    !srv.config.get("save").unwrap_or("").trim().is_empty()
}

/// Load dump file at start-up; Err is fatal (corrupt or unreadable file).
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    if srv.config.get_bool("appendonly") {
        srv.aof.state = aof::AofState::On;
        aof::load_manifest(srv)?;
        let start = std::time::Instant::now();
        let st = aof::load_files(srv);
        match st {
            // The reason is logged already, last, as Redis does (tests
            // read the last log line).
            aof::LoadStatus::Failed => return Err(String::new()),
            aof::LoadStatus::NotExist => {}
            _ => tracing::info!(
                "DB loaded from append only file: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ),
        }
        srv.dirty = 0;
        aof::open_on_start(srv)?;
        aof::delete_history(srv);
        return Ok(());
    }
    let path = rdb_path(srv);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB: {}. Exiting.", e)),
    };
    let start = std::time::Instant::now();
    tracing::info!("Loading RDB produced by version {}", crate::REDIS_VERSION);
    loading::start(srv, data.len() as u64);
    let res = load_image(srv, &data, 0);
    loading::stop(srv);
    let loaded = match res {
        Ok(l) => l,
        Err(e) => {
            // As Redis: report the error, the checker's verdict (what is
            // wrong and where), and stop without keeping anything.
            tracing::warn!("{}", e.0);
            let mut report = String::new();
            check::check_rdb_image(&data, &path.display().to_string(), &mut report);
            for line in report.lines() {
                tracing::warn!("{}", line);
            }
            return Err("Terminating server after rdb file reading failure.".into());
        }
    };
    if loaded.empty_skipped > 0 {
        tracing::warn!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            loaded.keys,
            loaded.expired,
            loaded.empty_skipped
        );
    } else {
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            loaded.keys,
            loaded.expired
        );
    }
    tracing::info!(
        "DB loaded from disk: {:.3} seconds",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Load an RDB image (at `base` bytes into what is being loaded) into the
/// keyspace, serving clients as it goes; records the load statistics.
pub fn load_image(srv: &mut Server, data: &[u8], base: u64) -> Result<rdb::Loaded, rdb::LoadError> {
    load_image_opts(srv, data, base, true)
}

/// `load_image`; without `merge`, a function library that already exists
/// fails the load, as Redis without RDBFLAGS_ALLOW_DUP.
fn load_image_opts(
    srv: &mut Server,
    data: &[u8],
    base: u64,
    merge: bool,
) -> Result<rdb::Loaded, rdb::LoadError> {
    let lim = limits(srv);
    let now = crate::util::mstime();
    let ndbs = srv.dbs.len();
    let mut hook = loading::KeyHook::new(srv);
    let (loaded, staged) = rdb::parse(data, ndbs, &lim, now, &mut |pos: usize| {
        hook.key_done(srv, base + pos as u64);
    })?;
    if !merge {
        for code in &loaded.functions {
            if let Some(name) = crate::commands::scripting::library_name(code) {
                if srv.functions.libraries.contains_key(&name) {
                    return Err(rdb::LoadError(format!("Library '{name}' already exists")));
                }
            }
        }
    }
    rdb::install(staged, &mut srv.dbs);
    srv.persist.loaded_keys = loaded.keys;
    srv.persist.loaded_expired = loaded.expired;
    srv.stats.dump_payload_sanitizations += loaded.sanitized;
    restore_functions(srv, &loaded.functions);
    Ok(loaded)
}

/// Re-create function libraries saved in an RDB.
pub fn restore_functions(srv: &mut Server, codes: &[Vec<u8>]) {
    for code in codes {
        if let Err(e) = crate::commands::scripting::install_library(srv, code, true) {
            tracing::warn!("Failed loading library from the RDB: {}", e);
        }
    }
}

/// DEBUG RELOAD: save, empty the dataset, load the file back.
/// NOSAVE loads the file as it is on disk; NOFLUSH keeps the dataset
/// (and the functions) and loads on top of it; MERGE lets the file's
/// function libraries replace existing ones.
pub fn debug_reload(
    srv: &mut Server,
    save_first: bool,
    flush: bool,
    merge: bool,
) -> Result<(), String> {
    if save_first {
        save(srv).map_err(|e| format!("Error trying to save the DB: {}", e))?;
    }
    if flush {
        for db in srv.dbs.iter_mut() {
            db.clear();
        }
        crate::commands::scripting::clear_functions(srv);
    }
    let data = std::fs::read(rdb_path(srv)).map_err(|e| e.to_string())?;
    loading::start(srv, data.len() as u64);
    let res = load_image_opts(srv, &data, 0, merge);
    loading::stop(srv);
    if let Err(e) = res {
        tracing::warn!("{}", e.0);
        return Err("Error trying to load the RDB dump, check server logs.".into());
    }
    Ok(())
}

/// DEBUG LOADAOF: write out the AOF, empty the dataset, load it back.
pub fn debug_loadaof(srv: &mut Server) -> Result<(), String> {
    if srv.aof.state != aof::AofState::Off {
        aof::flush(srv, true);
    }
    for db in srv.dbs.iter_mut() {
        db.clear();
    }
    crate::commands::scripting::clear_functions(srv);
    aof::load_manifest(srv)?;
    aof::delete_history(srv);
    match aof::load_files(srv) {
        aof::LoadStatus::Ok | aof::LoadStatus::Empty => {}
        // As Redis: a dataset that cannot be loaded back is fatal.
        _ => std::process::exit(1),
    }
    srv.dirty = 0;
    tracing::warn!("Append Only File loaded by DEBUG LOADAOF");
    Ok(())
}

/// Where a load in progress stands (INFO loading_* fields).
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadProgress {
    pub start_time: i64,
    pub total_bytes: u64,
    pub loaded_bytes: u64,
}

/// The INFO persistence section.
pub fn info_section(srv: &Server) -> String {
    let ci = &srv.persist.info;
    let age = if ci.cow_updated > 0 {
        ((crate::util::mstime() - ci.cow_updated).max(0) / 1000) as u64
    } else {
        0
    };
    let mut s = format!(
        "# Persistence\r\nloading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:{}\r\ncurrent_cow_size:{}\r\ncurrent_cow_size_age:{}\r\ncurrent_fork_perc:{:.2}\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\n{}{}",
        srv.loading as i32,
        ci.cow_peak,
        ci.cow_bytes,
        age,
        ci.fork_perc(),
        ci.keys_processed,
        ci.keys_total,
        info_fields(srv),
        aof::info_fields(srv),
    );
    if srv.loading {
        let p = &srv.persist.load;
        let perc = if p.total_bytes > 0 {
            p.loaded_bytes as f64 * 100.0 / p.total_bytes as f64
        } else {
            0.0
        };
        let remaining = p.total_bytes.saturating_sub(p.loaded_bytes).max(1);
        let elapsed = (crate::util::mstime() / 1000 - p.start_time).max(0) as u64;
        let eta = if elapsed == 0 {
            1
        } else {
            elapsed * remaining / (p.loaded_bytes + 1)
        };
        s.push_str(&format!(
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{}\r\nloading_loaded_perc:{:.2}\r\nloading_eta_seconds:{}\r\n",
            p.start_time, p.total_bytes, p.loaded_bytes, perc, eta
        ));
    }
    s
}

/// INFO persistence fields for the RDB part.
fn info_fields(srv: &Server) -> String {
    let p = &srv.persist;
    let in_progress = p.child_pid != -1 && p.child_type == ChildType::Rdb;
    format!(
        "rdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
        srv.dirty,
        in_progress as i32,
        srv.last_save,
        if p.last_bgsave_ok { "ok" } else { "err" },
        p.last_bgsave_secs,
        if in_progress { (crate::util::mstime() - p.child_start) / 1000 } else { -1 },
        p.rdb_saves,
        p.info.rdb_last_cow,
        p.loaded_expired,
        p.loaded_keys,
    )
}

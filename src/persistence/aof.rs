//! The append-only file in Redis 7.0's multi-part layout: a directory
//! (`appenddirname`) holding a manifest, at most one base file (an RDB
//! image or commands) and incremental files of the commands written since.
//!
//! Every write reaches the AOF through the server's single propagation
//! step: `feed` turns `srv.propagated` into RESP in a buffer, and `flush`
//! writes that buffer before any reply leaves (the reactor calls it before
//! writing to clients), fsyncing first under `appendfsync always`.
//! A rewrite forks a child that writes a new base while the parent keeps
//! appending to a fresh incremental file; no rewrite buffer is needed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use bytes::Bytes;

use super::ChildType;
use crate::server::Server;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AofState {
    Off,
    On,
    /// Turned on at run time: waiting for the first rewrite to finish.
    WaitRewrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Always,
    EverySec,
    No,
}

fn policy(srv: &Server) -> Policy {
    match srv.config.get("appendfsync").unwrap_or("everysec") {
        "always" => Policy::Always,
        "no" => Policy::No,
        _ => Policy::EverySec,
    }
}

// ------------------------------------------------------------ manifest

pub const TYPE_BASE: u8 = b'b';
pub const TYPE_HIST: u8 = b'h';
pub const TYPE_INCR: u8 = b'i';

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    pub seq: i64,
    pub kind: u8,
}

#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub base: Option<FileInfo>,
    pub history: Vec<FileInfo>,
    pub incr: Vec<FileInfo>,
    pub base_seq: i64,
    pub incr_seq: i64,
}

/// Whether a file name must be quoted in the manifest (sdsneedsrepr).
fn needs_repr(s: &str) -> bool {
    s.bytes().any(|c| {
        matches!(c, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 7 | 8)
            || !(0x20..0x7f).contains(&c)
            || c == b' '
    })
}

fn repr(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.bytes() {
        match c {
            b'\\' => o.push_str("\\\\"),
            b'"' => o.push_str("\\\""),
            b'\n' => o.push_str("\\n"),
            b'\r' => o.push_str("\\r"),
            b'\t' => o.push_str("\\t"),
            7 => o.push_str("\\a"),
            8 => o.push_str("\\b"),
            c if (0x20..0x7f).contains(&c) => o.push(c as char),
            c => o.push_str(&format!("\\x{:02x}", c)),
        }
    }
    o.push('"');
    o
}

impl Manifest {
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incr.is_empty()
    }

    /// The manifest text: base first, then history, then incremental files.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let all = self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incr.iter());
        for f in all {
            let name = if needs_repr(&f.name) {
                repr(&f.name)
            } else {
                f.name.clone()
            };
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                name, f.seq, f.kind as char
            ));
        }
        out
    }

    /// Parse a manifest; the error carries the offending line and reason,
    /// formatted like Redis's fatal manifest report.
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut maxseq = 0i64;
        let fail = |line: Option<(usize, &str)>, err: &str| -> String {
            let mut s = String::from("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if let Some((n, l)) = line {
                s.push_str(&format!("Reading the manifest file, at line {}\n", n));
                s.push_str(&format!(">>> '{}'\n", l));
            }
            s.push_str(err);
            s
        };
        if text.is_empty() {
            return Err(fail(None, "Found an empty AOF manifest"));
        }
        let mut rest = text;
        let mut linenum = 0usize;
        while !rest.is_empty() {
            let (raw, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i + 1], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            linenum += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            let text_line = String::from_utf8_lossy(raw);
            let line = text_line.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if raw.len() > 1024 || !raw.ends_with(b"\n") {
                return Err(fail(None, "The AOF manifest file contains too long line"));
            }
            if line.is_empty() {
                return Err(fail(
                    Some((linenum, line)),
                    "Invalid AOF manifest file format",
                ));
            }
            let args = crate::protocol::parse::split_args(line.as_bytes());
            let Some(args) = args.filter(|a| a.len() >= 6 && a.len() % 2 == 0) else {
                return Err(fail(
                    Some((linenum, line)),
                    "Invalid AOF manifest file format",
                ));
            };
            let mut name: Option<String> = None;
            let mut seq = 0i64;
            let mut kind = 0u8;
            for kv in args.chunks(2) {
                let k = String::from_utf8_lossy(&kv[0]).to_ascii_lowercase();
                match k.as_str() {
                    "file" => {
                        let n = String::from_utf8_lossy(&kv[1]).into_owned();
                        if n.contains('/') {
                            return Err(fail(
                                Some((linenum, line)),
                                "File can't be a path, just a filename",
                            ));
                        }
                        name = Some(n);
                    }
                    "seq" => {
                        seq = crate::util::parse_i64(&kv[1]).unwrap_or(0);
                    }
                    "type" => kind = kv[1].first().copied().unwrap_or(0),
                    _ => {}
                }
            }
            let (Some(name), true, true) = (name, seq != 0, kind != 0) else {
                return Err(fail(
                    Some((linenum, line)),
                    "Invalid AOF manifest file format",
                ));
            };
            let info = FileInfo { name, seq, kind };
            match kind {
                TYPE_BASE => {
                    if m.base.is_some() {
                        return Err(fail(
                            Some((linenum, line)),
                            "Found duplicate base file information",
                        ));
                    }
                    m.base_seq = seq;
                    m.base = Some(info);
                }
                TYPE_HIST => m.history.push(info),
                TYPE_INCR => {
                    if seq <= maxseq {
                        return Err(fail(
                            Some((linenum, line)),
                            "Found a non-monotonic sequence number",
                        ));
                    }
                    maxseq = seq;
                    m.incr_seq = seq;
                    m.incr.push(info);
                }
                _ => return Err(fail(Some((linenum, line)), "Unknown AOF file type")),
            }
        }
        Ok(m)
    }

    /// A new base name; the old base (if any) becomes history.
    fn new_base(&mut self, filename: &str, rdb: bool) -> String {
        if let Some(mut b) = self.base.take() {
            b.kind = TYPE_HIST;
            self.history.insert(0, b);
        }
        self.base_seq += 1;
        let name = format!(
            "{}.{}.base.{}",
            filename,
            self.base_seq,
            if rdb { "rdb" } else { "aof" }
        );
        self.base = Some(FileInfo {
            name: name.clone(),
            seq: self.base_seq,
            kind: TYPE_BASE,
        });
        name
    }

    fn new_incr(&mut self, filename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{}.{}.incr.aof", filename, self.incr_seq);
        self.incr.push(FileInfo {
            name: name.clone(),
            seq: self.incr_seq,
            kind: TYPE_INCR,
        });
        name
    }

    fn last_incr_or_new(&mut self, filename: &str) -> String {
        match self.incr.last() {
            Some(f) => f.name.clone(),
            None => self.new_incr(filename),
        }
    }

    /// After a rewrite: every incremental file but the one being written
    /// (when `keep_last`) is covered by the new base.
    fn incr_to_history(&mut self, keep_last: bool) {
        let keep = if keep_last { self.incr.pop() } else { None };
        for mut f in std::mem::take(&mut self.incr).into_iter().rev() {
            f.kind = TYPE_HIST;
            self.history.insert(0, f);
        }
        self.incr.extend(keep);
    }
}

// ------------------------------------------------------------ fsync thread

enum Job {
    Fsync(File),
    Close(File),
}

/// Background fsync and close, so `everysec` never stalls the reactor.
struct Worker {
    tx: mpsc::Sender<Job>,
    pending: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl Worker {
    fn start() -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        let pending = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let (p, f) = (pending.clone(), failed.clone());
        let _ = std::thread::Builder::new()
            .name("aof-fsync".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    match job {
                        Job::Fsync(file) => {
                            if let Err(e) = file.sync_data() {
                                tracing::warn!("Fail to fsync the AOF file: {}", e);
                                f.store(true, Ordering::SeqCst);
                            } else {
                                f.store(false, Ordering::SeqCst);
                            }
                        }
                        Job::Close(file) => {
                            let _ = file.sync_data();
                        }
                    }
                    p.fetch_sub(1, Ordering::SeqCst);
                }
            });
        Worker {
            tx,
            pending,
            failed,
        }
    }

    fn submit(&self, job: Job) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

// ------------------------------------------------------------ state

pub struct Aof {
    pub state: AofState,
    file: Option<File>,
    pub buf: Vec<u8>,
    selected_db: Option<usize>,
    pub manifest: Manifest,
    pub current_size: u64,
    /// Size after the last rewrite, the base of auto-rewrite growth.
    pub base_size: u64,
    last_incr_size: u64,
    last_incr_fsync_offset: u64,
    last_fsync: i64,
    flush_postponed_start: i64,
    pub rewrite_scheduled: bool,
    pub rewrite_time_start: i64,
    pub rewrite_time_last: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    pub last_write_ok: bool,
    pub last_write_error: String,
    pub delayed_fsync: u64,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds slept before each write.
    pub flush_sleep_us: i64,
    /// aof-timestamp-enabled: the second of the last `#TS:` annotation.
    last_timestamp: i64,
    worker: Option<Worker>,
    /// Back-off after repeated rewrite failures (unix seconds).
    next_rewrite_time: i64,
    next_delay_minutes: i64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            state: AofState::Off,
            file: None,
            buf: Vec::new(),
            selected_db: None,
            manifest: Manifest::default(),
            current_size: 0,
            base_size: 0,
            last_incr_size: 0,
            last_incr_fsync_offset: 0,
            last_fsync: 0,
            flush_postponed_start: 0,
            rewrite_scheduled: false,
            rewrite_time_start: -1,
            rewrite_time_last: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_write_ok: true,
            last_write_error: String::new(),
            delayed_fsync: 0,
            flush_sleep_us: 0,
            last_timestamp: 0,
            worker: None,
            next_rewrite_time: 0,
            next_delay_minutes: 0,
        }
    }
}

impl Aof {
    pub fn pending_fsyncs(&self) -> u64 {
        self.worker
            .as_ref()
            .map_or(0, |w| w.pending.load(Ordering::SeqCst))
    }

    fn fsync_failed(&self) -> bool {
        self.worker
            .as_ref()
            .is_some_and(|w| w.failed.load(Ordering::SeqCst))
    }

    fn worker(&mut self) -> &Worker {
        self.worker.get_or_insert_with(Worker::start)
    }
}

fn unix_now() -> i64 {
    crate::util::mstime() / 1000
}

fn dirname(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.get("appenddirname").unwrap_or("appendonlydir"))
}

fn filename(srv: &Server) -> String {
    srv.config
        .get("appendfilename")
        .unwrap_or("appendonly.aof")
        .to_string()
}

fn use_preamble(srv: &Server) -> bool {
    srv.config.get_bool("aof-use-rdb-preamble")
}

fn manifest_name(srv: &Server) -> String {
    format!("{}.manifest", filename(srv))
}

fn file_size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

fn fsync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Write the manifest atomically: temp file, fsync, rename, fsync the dir.
fn persist_manifest(srv: &Server, m: &Manifest) -> Result<(), String> {
    let dir = dirname(srv);
    let tmp = dir.join(format!("temp-{}", manifest_name(srv)));
    let dst = dir.join(manifest_name(srv));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(m.to_text().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &dst)?;
        fsync_dir(&dir);
        Ok(())
    };
    write().map_err(|e| {
        let msg = format!(
            "Can't persist the AOF manifest file {}: {}",
            manifest_name(srv),
            crate::server::log_io_error(&e)
        );
        tracing::warn!("{}", msg);
        msg
    })
}

// ------------------------------------------------------------ feeding

fn cat_command(buf: &mut Vec<u8>, argv: &[Bytes]) {
    let mut itoa = itoa_buf();
    buf.push(b'*');
    buf.extend_from_slice(itoa.format(argv.len()));
    buf.extend_from_slice(b"\r\n");
    for a in argv {
        buf.push(b'$');
        buf.extend_from_slice(itoa.format(a.len()));
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// A tiny integer formatter without allocation.
struct Itoa([u8; 20]);
fn itoa_buf() -> Itoa {
    Itoa([0; 20])
}
impl Itoa {
    fn format(&mut self, mut n: usize) -> &[u8] {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        &self.0[i..]
    }
}

/// Append what the last command(s) propagated to the AOF buffer. The
/// caller clears `srv.propagated` afterwards (replicas read it too).
pub fn feed(srv: &mut Server) {
    if srv.propagated.is_empty() {
        return;
    }
    let active = match srv.aof.state {
        AofState::On => true,
        AofState::WaitRewrite => srv.persist.child_type == ChildType::Aof,
        AofState::Off => false,
    };
    if !active {
        return;
    }
    let stamp = srv.config.get_bool("aof-timestamp-enabled");
    let aof = &mut srv.aof;
    if stamp {
        let now = unix_now();
        if now > aof.last_timestamp {
            aof.last_timestamp = now;
            aof.buf
                .extend_from_slice(format!("#TS:{}\r\n", now).as_bytes());
        }
    }
    for (i, (db, argv)) in srv.propagated.iter().enumerate() {
        // Replica-only entries (PUBLISH, redis.set_repl(REPL_REPLICA)).
        let only = &srv.propagated_only;
        if only
            .iter()
            .any(|&(j, t)| j == i && t & crate::server::propagate::AOF == 0)
        {
            continue;
        }
        if aof.selected_db != Some(*db) {
            let s = db.to_string();
            aof.buf.extend_from_slice(
                format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{}\r\n", s.len(), s).as_bytes(),
            );
            aof.selected_db = Some(*db);
        }
        cat_command(&mut aof.buf, argv);
    }
}

/// Write the buffer out (before replies leave) and fsync per policy.
/// `force` writes even while a background fsync is in progress.
pub fn flush(srv: &mut Server, force: bool) {
    if srv.aof.file.is_none() {
        srv.aof.buf.clear();
        return;
    }
    let pol = policy(srv);
    let now = unix_now();
    let child_active = srv.persist.child_pid != -1;
    let no_fsync_on_rewrite = srv.config.get_bool("no-appendfsync-on-rewrite");
    let aof = &mut srv.aof;
    let mut sync_in_progress = false;
    if aof.buf.is_empty() {
        let unsynced = aof.last_incr_fsync_offset != aof.last_incr_size;
        let go = match pol {
            Policy::EverySec => {
                sync_in_progress = aof.pending_fsyncs() > 0;
                unsynced && now > aof.last_fsync && !sync_in_progress
            }
            Policy::Always => unsynced,
            Policy::No => false,
        };
        if !go {
            return;
        }
    } else {
        if pol == Policy::EverySec {
            sync_in_progress = aof.pending_fsyncs() > 0;
        }
        if pol == Policy::EverySec && !force && sync_in_progress {
            if aof.flush_postponed_start == 0 {
                aof.flush_postponed_start = now;
                return;
            } else if now - aof.flush_postponed_start < 2 {
                return;
            }
            aof.delayed_fsync += 1;
            tracing::info!("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
        }
        aof.flush_postponed_start = 0;
        if aof.flush_sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(aof.flush_sleep_us as u64));
        }
        let Some(file) = aof.file.as_mut() else {
            return;
        };
        let mut written = 0usize;
        let mut err: Option<std::io::Error> = None;
        while written < aof.buf.len() {
            match file.write(&aof.buf[written..]) {
                Ok(0) => {
                    err = Some(std::io::Error::from_raw_os_error(libc::ENOSPC));
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = err {
            let msg = crate::server::log_io_error(&e);
            if written > 0 {
                // Undo the partial write so the file never ends mid-command.
                let keep = aof.last_incr_size;
                if file.set_len(keep).is_ok() {
                    written = 0;
                }
            }
            if pol == Policy::Always {
                tracing::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                std::process::exit(1);
            }
            if aof.last_write_ok {
                tracing::warn!("Error writing to the AOF file: {}", msg);
            }
            aof.last_write_ok = false;
            aof.last_write_error = msg;
            if written > 0 {
                aof.current_size += written as u64;
                aof.last_incr_size += written as u64;
                aof.buf.drain(..written);
            }
            return;
        }
        if !aof.last_write_ok {
            tracing::warn!("AOF write error looks solved, Redis can write again.");
            aof.last_write_ok = true;
        }
        aof.current_size += written as u64;
        aof.last_incr_size += written as u64;
        if aof.buf.capacity() > 1 << 20 {
            aof.buf = Vec::new();
        } else {
            aof.buf.clear();
        }
    }
    if no_fsync_on_rewrite && child_active {
        return;
    }
    match pol {
        Policy::Always => {
            if let Some(f) = aof.file.as_ref() {
                if let Err(e) = f.sync_data() {
                    tracing::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...", crate::server::log_io_error(&e));
                    std::process::exit(1);
                }
            }
            aof.last_incr_fsync_offset = aof.last_incr_size;
            aof.last_fsync = now;
        }
        Policy::EverySec if now > aof.last_fsync => {
            if !sync_in_progress {
                if let Some(dup) = aof.file.as_ref().and_then(|f| f.try_clone().ok()) {
                    aof.worker().submit(Job::Fsync(dup));
                }
                aof.last_incr_fsync_offset = aof.last_incr_size;
            }
            aof.last_fsync = now;
        }
        _ => {}
    }
}

/// Whether writes must be refused because the AOF cannot be written
/// (Redis's MISCONF for the AOF).
pub fn write_error(srv: &Server) -> Option<String> {
    if srv.aof.state == AofState::Off {
        return None;
    }
    if !srv.aof.last_write_ok || srv.aof.fsync_failed() {
        let e = if srv.aof.last_write_error.is_empty() {
            "Input/output error".to_string()
        } else {
            srv.aof.last_write_error.clone()
        };
        return Some(format!("MISCONF Errors writing to the AOF file: {}", e));
    }
    None
}

// ------------------------------------------------------------ start-up

/// Read the manifest from disk (start-up). Err is fatal.
pub fn load_manifest(srv: &mut Server) -> Result<(), String> {
    srv.aof.manifest = Manifest::default();
    let dir = dirname(srv);
    let path = dir.join(manifest_name(srv));
    if !dir.is_dir() || !path.exists() {
        return Ok(());
    }
    let data = std::fs::read(&path).map_err(|e| {
        format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            path.display(),
            crate::server::log_io_error(&e)
        )
    })?;
    srv.aof.manifest = Manifest::parse(&data)?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum LoadStatus {
    Ok,
    NotExist,
    Empty,
    Truncated,
    Failed,
}

/// Move an old single-file AOF (`appendfilename` in `dir`) into the
/// directory as the base of a new manifest.
fn upgrade_old_style(srv: &mut Server) -> Result<(), String> {
    let name = filename(srv);
    let dir = dirname(srv);
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::server::log_io_error(&e)
        )
    })?;
    let mut m = srv.aof.manifest.clone();
    m.base = Some(FileInfo {
        name: name.clone(),
        seq: 1,
        kind: TYPE_BASE,
    });
    m.base_seq = 1;
    persist_manifest(srv, &m)?;
    std::fs::rename(&name, dir.join(&name)).map_err(|e| {
        format!(
            "Error trying to move the old AOF file {} into dir {}: {}",
            name,
            dir.display(),
            crate::server::log_io_error(&e)
        )
    })?;
    srv.aof.manifest = m;
    tracing::info!(
        "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
        name,
        dir.display()
    );
    Ok(())
}

/// Load the base and incremental files named by the manifest.
pub fn load_files(srv: &mut Server) -> LoadStatus {
    let name = filename(srv);
    let dir = dirname(srv);
    if Path::new(&name).is_file() {
        let m = &srv.aof.manifest;
        let upgrade = !dir.is_dir()
            || m.is_empty()
            || (m.incr.is_empty()
                && m.base.as_ref().is_some_and(|b| b.name == name)
                && !dir.join(&name).exists());
        if upgrade {
            if let Err(e) = upgrade_old_style(srv) {
                tracing::warn!("{}", e);
                return LoadStatus::Failed;
            }
        }
    }
    let m = srv.aof.manifest.clone();
    if m.is_empty() {
        return LoadStatus::NotExist;
    }
    let files: Vec<&FileInfo> = m.base.iter().chain(m.incr.iter()).collect();
    let mut total = 0u64;
    for f in &files {
        match file_size(&dir.join(&f.name)) {
            Some(n) => total += n,
            None => {
                tracing::warn!(
                    "The append log file {} doesn't exist: No such file or directory",
                    f.name
                );
                return LoadStatus::Failed;
            }
        }
    }
    if total == 0 {
        return LoadStatus::Empty;
    }
    super::loading::start(srv, total);
    set_keep_expired(srv, true);
    let mut done_bytes = 0u64;
    let mut base_size = 0;
    let mut status = LoadStatus::Ok;
    let count = files.len();
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == count;
        let is_base = f.kind == TYPE_BASE;
        if is_base {
            base_size = file_size(&dir.join(&f.name)).unwrap_or(0);
        }
        let start = std::time::Instant::now();
        let mut r = load_single(srv, &f.name, done_bytes);
        done_bytes += file_size(&dir.join(&f.name)).unwrap_or(0);
        if r == LoadStatus::Ok || (r == LoadStatus::Truncated && last) {
            tracing::info!(
                "DB loaded from {} file {}: {:.3} seconds",
                if is_base { "base" } else { "incr" },
                f.name,
                start.elapsed().as_secs_f64()
            );
        }
        if r == LoadStatus::Empty {
            r = LoadStatus::Ok;
        }
        if r == LoadStatus::Truncated && !last {
            tracing::warn!("Fatal error: the truncated file is not the last file");
            r = LoadStatus::Failed;
        }
        if r == LoadStatus::Failed {
            status = r;
            break;
        }
        if r == LoadStatus::Truncated {
            status = r;
        }
    }
    super::loading::stop(srv);
    set_keep_expired(srv, false);
    srv.propagated.clear();
    if status != LoadStatus::Failed {
        // Sizes on disk after a possible truncation.
        srv.aof.current_size = files
            .iter()
            .filter_map(|f| file_size(&dir.join(&f.name)))
            .sum();
        srv.aof.base_size = base_size;
    }
    status
}

fn set_keep_expired(srv: &mut Server, on: bool) {
    for db in srv.dbs.iter_mut() {
        db.keep_expired = on;
    }
}

/// Outcome of parsing one command from an AOF buffer.
enum Parsed {
    Command(Vec<Bytes>),
    /// Ran out of bytes mid-command (a torn tail).
    Eof,
    /// Not the AOF format.
    Format,
    End,
}

fn read_line(data: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    if *pos >= data.len() {
        return None;
    }
    let rest = &data[*pos..];
    let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
    *pos += end;
    Some(rest[..end].to_vec())
}

fn atoi(s: &[u8]) -> i64 {
    // Like C's strtol: optional sign, digits, stop at the first non-digit.
    let mut i = 0;
    let neg = s.first() == Some(&b'-');
    if neg || s.first() == Some(&b'+') {
        i = 1;
    }
    let mut n: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -n
    } else {
        n
    }
}

fn next_command(data: &[u8], pos: &mut usize) -> Parsed {
    loop {
        let Some(line) = read_line(data, pos) else {
            return Parsed::End;
        };
        if line.first() == Some(&b'#') {
            continue;
        }
        if line.first() != Some(&b'*') {
            return Parsed::Format;
        }
        if line.len() == 1 {
            return Parsed::Eof;
        }
        let argc = atoi(&line[1..]);
        if argc < 1 {
            return Parsed::Format;
        }
        let mut argv = Vec::with_capacity((argc as usize).min(1024));
        for _ in 0..argc {
            let Some(l) = read_line(data, pos) else {
                return Parsed::Eof;
            };
            if l.first() != Some(&b'$') {
                return Parsed::Format;
            }
            let len = atoi(&l[1..]).max(0) as usize;
            if data.len() - *pos < len {
                return Parsed::Eof;
            }
            argv.push(Bytes::copy_from_slice(&data[*pos..*pos + len]));
            *pos += len;
            if data.len() - *pos < 2 {
                return Parsed::Eof;
            }
            // A wrong length would make the rest of the file garbage.
            if &data[*pos..*pos + 2] != b"\r\n" {
                return Parsed::Format;
            }
            *pos += 2;
        }
        return Parsed::Command(argv);
    }
}

/// Load one AOF file (an RDB image, commands, or an RDB preamble followed
/// by commands) into the dataset; `base`: bytes loaded before this file.
fn load_single(srv: &mut Server, name: &str, base: u64) -> LoadStatus {
    let path = dirname(srv).join(name);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(
                "Fatal error: can't open the append log file {} for reading: {}",
                name,
                crate::server::log_io_error(&e)
            );
            return LoadStatus::Failed;
        }
    };
    if data.is_empty() {
        return LoadStatus::Empty;
    }
    let mut pos = 0usize;
    if data.starts_with(b"REDIS") {
        let old_style = name == filename(srv);
        if old_style {
            tracing::info!("Reading RDB preamble from AOF file...");
        } else {
            tracing::info!("Reading RDB base file on AOF loading...");
        }
        match super::load_image(srv, &data, base) {
            Ok(loaded) => {
                pos = loaded.consumed;
                if old_style {
                    tracing::info!("Reading the remaining AOF tail...");
                }
            }
            Err(e) => {
                if old_style {
                    tracing::warn!("Error reading the RDB preamble of the AOF file {}, AOF loading aborted: {}", name, e.0);
                } else {
                    tracing::warn!(
                        "Error reading the RDB base file {}, AOF loading aborted: {}",
                        name,
                        e.0
                    );
                }
                return LoadStatus::Failed;
            }
        }
    }
    let mut fake = crate::server::Client::new(
        u64::MAX,
        usize::MAX,
        crate::server::Conn::None,
        String::new(),
        String::new(),
        crate::util::mstime(),
    );
    fake.authenticated = true;
    // The AOF client never blocks, as inside MULTI.
    fake.flags |= crate::server::client::cflags::MULTI;
    // The reactor's clients when it is blocked in this load, so a slow
    // script replayed from the file can answer them (-LOADING).
    let mut own = crate::server::Clients::default();
    let shared = super::loading::clients_ptr();
    let clients: &mut crate::server::Clients = if shared.is_null() {
        &mut own
    } else {
        // SAFETY: set by `loading::with_clients` from the reactor, which is
        // blocked in this load and does not touch its clients meanwhile.
        unsafe { &mut *shared }
    };
    let mut valid_up_to = pos;
    let mut valid_before_multi = pos;
    let mut queued: Option<Vec<Vec<Bytes>>> = None;
    let mut loops = 0u64;
    let truncated_at = loop {
        // Every 1024 commands, let clients in (they get -LOADING).
        loops += 1;
        if loops.is_multiple_of(1024) {
            srv.persist.load.loaded_bytes = base + pos as u64;
            super::loading::serve(srv);
        }
        match next_command(&data, &mut pos) {
            Parsed::End => {
                if queued.is_some() {
                    tracing::warn!(
                        "Revert incomplete MULTI/EXEC transaction in AOF file {}",
                        name
                    );
                    break valid_before_multi;
                }
                return LoadStatus::Ok;
            }
            Parsed::Eof => {
                if queued.is_some() {
                    break valid_before_multi;
                }
                break valid_up_to;
            }
            Parsed::Format => {
                tracing::warn!("Bad file format reading the append only file {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name);
                return LoadStatus::Failed;
            }
            Parsed::Command(argv) => {
                let Some(cmd) = srv.commands.lookup(&argv) else {
                    tracing::warn!(
                        "Unknown command '{}' reading the append only file {}",
                        String::from_utf8_lossy(&argv[0]),
                        name
                    );
                    return LoadStatus::Failed;
                };
                let argc = argv.len() as i32;
                if (cmd.spec.arity > 0 && cmd.spec.arity != argc) || argc < -cmd.spec.arity {
                    tracing::warn!(
                        "Wrong number of arguments for '{}' reading the append only file {}",
                        cmd.fullname,
                        name
                    );
                    tracing::warn!("Bad file format reading the append only file {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name);
                    return LoadStatus::Failed;
                }
                let fullname = cmd.fullname.as_str();
                if fullname == "multi" {
                    valid_before_multi = valid_up_to;
                    queued = Some(Vec::new());
                } else if fullname == "exec" {
                    for a in queued.take().unwrap_or_default() {
                        run(srv, clients, &mut fake, &a);
                    }
                } else if let Some(q) = queued.as_mut() {
                    q.push(argv);
                } else {
                    run(srv, clients, &mut fake, &argv);
                }
                valid_up_to = pos;
            }
        }
    };
    if srv.config.get_bool("aof-load-truncated") {
        tracing::warn!(
            "!!! Warning: short read while loading the AOF file {}!!!",
            name
        );
        tracing::warn!(
            "!!! Truncating the AOF {} at offset {} !!!",
            name,
            truncated_at
        );
        let res = OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(truncated_at as u64));
        match res {
            Ok(()) => {
                tracing::warn!(
                    "AOF {} loaded anyway because aof-load-truncated is enabled",
                    name
                );
                return LoadStatus::Truncated;
            }
            Err(e) => tracing::warn!(
                "Error truncating the AOF file {}: {}",
                name,
                crate::server::log_io_error(&e)
            ),
        }
    }
    tracing::warn!("Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name);
    LoadStatus::Failed
}

/// Run one command from the AOF with the fake client.
fn run(
    srv: &mut Server,
    clients: &mut crate::server::Clients,
    fake: &mut crate::server::Client,
    argv: &[Bytes],
) {
    let Some(cmd) = srv.commands.lookup(argv) else {
        return;
    };
    let (id, flags, handler) = (cmd.id, cmd.flags, cmd.spec.handler);
    if srv.stats.cmd.len() < srv.commands.count {
        srv.stats.cmd.resize(srv.commands.count, Default::default());
    }
    let now = crate::util::mstime();
    crate::server::exec::call(srv, clients, fake, argv, id, flags, handler, now);
    fake.reply.buf.clear();
    fake.sent = 0;
    srv.propagated.clear();
    srv.pending_notifications.clear();
    srv.dirty_cas_pending.clear();
    srv.outbox.clear();
}

/// After loading at start-up: make sure a base exists, open the last
/// incremental file for appending and persist the manifest.
pub fn open_on_start(srv: &mut Server) -> Result<(), String> {
    if srv.aof.state != AofState::On {
        return Ok(());
    }
    let dir = dirname(srv);
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::server::log_io_error(&e)
        )
    })?;
    let name = filename(srv);
    let mut m = srv.aof.manifest.clone();
    let had_incr = !m.incr.is_empty();
    if m.base.is_none() && m.incr.is_empty() {
        let base = m.new_base(&name, use_preamble(srv));
        let tmp = format!("temp-rewriteaof-{}.aof", std::process::id());
        write_rewrite(srv, Path::new(&tmp), &mut |_| {}).map_err(|e| {
            format!(
                "Write error writing append only file on disk: {}",
                crate::server::log_io_error(&e)
            )
        })?;
        std::fs::rename(&tmp, dir.join(&base)).map_err(|e| {
            format!(
                "Error moving temp append only file on the final destination: {}",
                crate::server::log_io_error(&e)
            )
        })?;
        tracing::info!("Creating AOF base file {} on server start", base);
    }
    let incr = m.last_incr_or_new(&name);
    let path = dir.join(&incr);
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| {
            format!(
                "Can't open the append-only file {}: {}",
                incr,
                crate::server::log_io_error(&e)
            )
        })?;
    persist_manifest(srv, &m)?;
    let size = file_size(&path).unwrap_or(0);
    srv.aof.manifest = m;
    if srv.aof.current_size == 0 {
        srv.aof.current_size = base_and_incr_size(srv);
    }
    let aof = &mut srv.aof;
    aof.file = Some(f);
    aof.last_incr_size = size;
    aof.last_incr_fsync_offset = size;
    aof.selected_db = None;
    if had_incr {
        tracing::info!("Opening AOF incr file {} on server start", incr);
    } else {
        tracing::info!("Creating AOF incr file {} on server start", incr);
    }
    Ok(())
}

fn base_and_incr_size(srv: &Server) -> u64 {
    let dir = dirname(srv);
    let m = &srv.aof.manifest;
    m.base
        .iter()
        .chain(m.incr.iter())
        .filter_map(|f| file_size(&dir.join(&f.name)))
        .sum()
}

/// Remove history files (after a rewrite, or at start-up).
pub fn delete_history(srv: &mut Server) {
    if srv.config.get_bool("aof-disable-auto-gc") || srv.aof.manifest.history.is_empty() {
        return;
    }
    let dir = dirname(srv);
    for f in std::mem::take(&mut srv.aof.manifest.history) {
        tracing::info!("Removing the history file {} in the background", f.name);
        let _ = std::fs::remove_file(dir.join(&f.name));
    }
    let m = srv.aof.manifest.clone();
    let _ = persist_manifest(srv, &m);
}

// ------------------------------------------------------------ rewrite

/// Items per variadic command in a rewritten AOF (Redis's
/// AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

fn bulk(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'$');
    buf.extend_from_slice(s.len().to_string().as_bytes());
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(s);
    buf.extend_from_slice(b"\r\n");
}

fn header(buf: &mut Vec<u8>, n: usize) {
    buf.extend_from_slice(format!("*{}\r\n", n).as_bytes());
}

/// The commands that rebuild a stream (Redis's rewriteStreamObject):
/// XADD per entry (or an XADD MAXLEN 0 for an empty stream), XSETID with
/// the counters, then per group XGROUP CREATE and the PEL as XCLAIMs.
fn rewrite_stream(buf: &mut Vec<u8>, k: &[u8], st: &crate::db::stream::Stream) {
    use crate::db::stream::StreamId;
    let cmd = |buf: &mut Vec<u8>, args: &[&[u8]]| {
        header(buf, args.len());
        for a in args {
            bulk(buf, a);
        }
    };
    if st.length != 0 {
        st.range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
            header(buf, 3 + fields.len() * 2);
            bulk(buf, b"XADD");
            bulk(buf, k);
            bulk(buf, id.fmt().as_bytes());
            for (f, v) in fields {
                f.with_bytes(|b| bulk(buf, b));
                v.with_bytes(|b| bulk(buf, b));
            }
            true
        });
    } else {
        cmd(buf, &[b"XADD", k, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    cmd(
        buf,
        &[
            b"XSETID",
            k,
            st.last_id.fmt().as_bytes(),
            b"ENTRIESADDED",
            st.entries_added.to_string().as_bytes(),
            b"MAXDELETEDID",
            st.max_deleted_entry_id.fmt().as_bytes(),
        ],
    );
    for (name, g) in st.groups() {
        cmd(
            buf,
            &[
                b"XGROUP",
                b"CREATE",
                k,
                name,
                g.last_id.fmt().as_bytes(),
                b"ENTRIESREAD",
                g.entries_read.to_string().as_bytes(),
            ],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                cmd(buf, &[b"XGROUP", b"CREATECONSUMER", k, name, cname]);
                continue;
            }
            for id in &c.pel {
                let Some(n) = g.pel.get(id) else { continue };
                cmd(
                    buf,
                    &[
                        b"XCLAIM",
                        k,
                        name,
                        cname,
                        b"0",
                        id.fmt().as_bytes(),
                        b"TIME",
                        n.delivery_time.to_string().as_bytes(),
                        b"RETRYCOUNT",
                        n.delivery_count.to_string().as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// Emit `cmd key items...` in batches of ITEMS_PER_CMD (each item being
/// `width` arguments).
fn batched(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[Vec<Vec<u8>>]) {
    for chunk in items.chunks(ITEMS_PER_CMD) {
        let width: usize = chunk.iter().map(|i| i.len()).sum();
        header(buf, 2 + width);
        bulk(buf, cmd);
        bulk(buf, key);
        for item in chunk {
            for a in item {
                bulk(buf, a);
            }
        }
    }
}

/// The dataset as commands (aof-use-rdb-preamble no).
pub fn rewrite_commands(srv: &Server) -> Vec<u8> {
    use crate::db::{Value, NO_EXPIRE};
    let mut buf = Vec::with_capacity(1 << 16);
    if srv.config.get_bool("aof-timestamp-enabled") {
        buf.extend_from_slice(format!("#TS:{}\r\n", unix_now()).as_bytes());
    }
    for lib in srv.functions.libraries.values() {
        header(&mut buf, 3);
        bulk(&mut buf, b"FUNCTION");
        bulk(&mut buf, b"LOAD");
        bulk(&mut buf, &lib.code);
    }
    for db in &srv.dbs {
        if db.is_empty() {
            continue;
        }
        header(&mut buf, 2);
        bulk(&mut buf, b"SELECT");
        bulk(&mut buf, db.id.to_string().as_bytes());
        for (k, o) in db.dict.iter() {
            match &o.val {
                Value::Int(n) => {
                    header(&mut buf, 3);
                    bulk(&mut buf, b"SET");
                    bulk(&mut buf, k);
                    bulk(&mut buf, n.to_string().as_bytes());
                }
                Value::Str(s) => {
                    header(&mut buf, 3);
                    bulk(&mut buf, b"SET");
                    bulk(&mut buf, k);
                    bulk(&mut buf, s);
                }
                Value::Raw(s) => {
                    header(&mut buf, 3);
                    bulk(&mut buf, b"SET");
                    bulk(&mut buf, k);
                    bulk(&mut buf, s);
                }
                Value::List(l) => {
                    let items: Vec<Vec<Vec<u8>>> = l.iter().map(|e| vec![e.to_vec()]).collect();
                    batched(&mut buf, b"RPUSH", k, &items);
                }
                Value::Set(s) => {
                    let mut items = Vec::with_capacity(s.len());
                    s.for_each(|m| items.push(vec![m.to_vec()]));
                    batched(&mut buf, b"SADD", k, &items);
                }
                Value::ZSet(z) => {
                    let items: Vec<Vec<Vec<u8>>> = z
                        .tree
                        .iter()
                        .map(|(score, m)| {
                            vec![
                                crate::util::format_double_g17(*score).into_bytes(),
                                m.to_vec(),
                            ]
                        })
                        .collect();
                    batched(&mut buf, b"ZADD", k, &items);
                }
                Value::Hash(h) => {
                    let items: Vec<Vec<Vec<u8>>> = h
                        .pairs()
                        .into_iter()
                        .map(|(f, v)| vec![f.to_vec(), v.to_vec()])
                        .collect();
                    batched(&mut buf, b"HMSET", k, &items);
                }
                Value::Stream(st) => rewrite_stream(&mut buf, k, st),
            }
            if o.expire != NO_EXPIRE {
                header(&mut buf, 3);
                bulk(&mut buf, b"PEXPIREAT");
                bulk(&mut buf, k);
                bulk(&mut buf, o.expire.to_string().as_bytes());
            }
        }
    }
    buf
}

/// Write a complete base file (RDB image or commands) to `path`, fsynced.
fn write_rewrite(srv: &Server, path: &Path, on_key: &mut dyn FnMut(u64)) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    if use_preamble(srv) {
        super::write_image(srv, true, &mut f, on_key)?;
    } else {
        f.write_all(&rewrite_commands(srv))?;
    }
    f.sync_all()
}

fn child_tmpfile(pid: i32) -> String {
    format!("temp-rewriteaof-bg-{}.aof", pid)
}

fn temp_incr_name(srv: &Server) -> String {
    format!("temp-{}.incr", filename(srv))
}

/// Open a new incremental file for the writes made during a rewrite
/// (a temporary one while AOF is being turned on).
fn open_new_incr(srv: &mut Server) -> Result<(), String> {
    let dir = dirname(srv);
    let name = filename(srv);
    let mut m = srv.aof.manifest.clone();
    let waiting = srv.aof.state == AofState::WaitRewrite;
    let new_name = if waiting {
        temp_incr_name(srv)
    } else {
        m.new_incr(&name)
    };
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(&new_name))
        .map_err(|e| {
            let msg = format!(
                "Can't open the append-only file {}: {}",
                new_name,
                crate::server::log_io_error(&e)
            );
            tracing::warn!("{}", msg);
            msg
        })?;
    if !waiting {
        persist_manifest(srv, &m)?;
    }
    tracing::info!("Creating AOF incr file {} on background rewrite", new_name);
    let aof = &mut srv.aof;
    if let Some(old) = aof.file.take() {
        aof.worker().submit(Job::Close(old));
    }
    aof.last_fsync = unix_now();
    aof.file = Some(f);
    aof.last_incr_size = 0;
    aof.last_incr_fsync_offset = 0;
    if !waiting {
        aof.manifest = m;
    }
    Ok(())
}

/// BGREWRITEAOF: fork a child writing a new base.
pub fn rewrite_background(srv: &mut Server) -> Result<(), String> {
    if srv.persist.child_pid != -1 {
        return Err("child active".into());
    }
    let dir = dirname(srv);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::server::log_io_error(&e)
        );
        srv.aof.last_bgrewrite_ok = false;
        return Err("dir".into());
    }
    srv.aof.selected_db = None;
    flush(srv, true);
    if srv.aof.state != AofState::Off {
        if let Err(e) = open_new_incr(srv) {
            srv.aof.last_bgrewrite_ok = false;
            return Err(e);
        }
    }
    srv.aof.rewrites += 1;
    let res = super::child::fork_child(srv, ChildType::Aof, |srv, rep| {
        let tmp = child_tmpfile(std::process::id() as i32);
        match write_rewrite(srv, Path::new(&tmp), &mut |k| rep.key_done(k)) {
            Ok(()) => {
                tracing::info!("Successfully created the temporary AOF base file {}", tmp);
                true
            }
            Err(e) => {
                tracing::warn!(
                    "Write error writing append only file on disk: {}",
                    crate::server::log_io_error(&e)
                );
                let _ = std::fs::remove_file(&tmp);
                false
            }
        }
    });
    let pid = match res {
        Ok(pid) => pid,
        Err(e) => {
            srv.aof.last_bgrewrite_ok = false;
            tracing::warn!(
                "Can't rewrite append only file in background: fork: {}",
                crate::server::log_io_error(&e)
            );
            return Err("fork".into());
        }
    };
    tracing::info!(
        "Background append only file rewriting started by pid {}",
        pid
    );
    srv.aof.rewrite_scheduled = false;
    srv.aof.rewrite_time_start = unix_now();
    Ok(())
}

/// The rewrite child finished (`ok`: exit 0; `signal`: killed by it).
pub fn rewrite_done(srv: &mut Server, pid: i32, ok: bool, signal: Option<i32>) {
    let tmp = child_tmpfile(pid);
    if ok {
        tracing::info!("Background AOF rewrite terminated with success");
        match finish_rewrite(srv, &tmp) {
            Ok(()) => {
                srv.aof.last_bgrewrite_ok = true;
                srv.aof.consecutive_failures = 0;
                tracing::info!("Background AOF rewrite finished successfully");
                if srv.aof.state == AofState::WaitRewrite {
                    srv.aof.state = AofState::On;
                }
            }
            Err(e) => {
                tracing::warn!("{}", e);
                srv.aof.last_bgrewrite_ok = false;
                srv.aof.consecutive_failures += 1;
            }
        }
    } else {
        match signal {
            Some(sig) => {
                if sig != libc::SIGUSR1 {
                    srv.aof.last_bgrewrite_ok = false;
                    srv.aof.consecutive_failures += 1;
                }
                tracing::warn!("Background AOF rewrite terminated by signal {}", sig);
            }
            None => {
                srv.aof.last_bgrewrite_ok = false;
                srv.aof.consecutive_failures += 1;
                tracing::warn!("Background AOF rewrite terminated with error");
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    if srv.aof.state == AofState::WaitRewrite {
        srv.aof.buf.clear();
        srv.aof.file = None;
        let p = dirname(srv).join(temp_incr_name(srv));
        tracing::info!(
            "Removing the temp incr aof file {} in the background",
            temp_incr_name(srv)
        );
        let _ = std::fs::remove_file(p);
        srv.aof.rewrite_scheduled = true;
    }
    srv.aof.rewrite_time_last = unix_now() - srv.aof.rewrite_time_start;
    srv.aof.rewrite_time_start = -1;
}

fn finish_rewrite(srv: &mut Server, tmp: &str) -> Result<(), String> {
    let dir = dirname(srv);
    let name = filename(srv);
    let mut m = srv.aof.manifest.clone();
    let base = m.new_base(&name, use_preamble(srv));
    std::fs::rename(tmp, dir.join(&base)).map_err(|e| {
        format!(
            "Error trying to rename the temporary AOF base file {} into {}: {}",
            tmp,
            base,
            crate::server::log_io_error(&e)
        )
    })?;
    tracing::info!(
        "Successfully renamed the temporary AOF base file {} into {}",
        tmp,
        base
    );
    let mut new_incr: Option<PathBuf> = None;
    if srv.aof.state == AofState::WaitRewrite {
        let from = dir.join(temp_incr_name(srv));
        let incr = m.new_incr(&name);
        let to = dir.join(&incr);
        if let Err(e) = std::fs::rename(&from, &to) {
            let _ = std::fs::remove_file(dir.join(&base));
            return Err(format!(
                "Error trying to rename the temporary AOF incr file {} into {}: {}",
                from.display(),
                to.display(),
                crate::server::log_io_error(&e)
            ));
        }
        tracing::info!(
            "Successfully renamed the temporary AOF incr file {} into {}",
            temp_incr_name(srv),
            incr
        );
        new_incr = Some(to);
    }
    m.incr_to_history(srv.aof.file.is_some());
    if let Err(e) = persist_manifest(srv, &m) {
        let _ = std::fs::remove_file(dir.join(&base));
        if let Some(p) = new_incr {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    srv.aof.manifest = m;
    if srv.aof.state != AofState::Off {
        srv.aof.current_size = file_size(&dir.join(&base)).unwrap_or(0) + srv.aof.last_incr_size;
        srv.aof.base_size = srv.aof.current_size;
    }
    delete_history(srv);
    Ok(())
}

/// Kill a running rewrite child and forget it.
pub fn kill_child(srv: &mut Server) {
    if srv.persist.child_type != ChildType::Aof || srv.persist.child_pid == -1 {
        return;
    }
    let pid = srv.persist.child_pid;
    tracing::info!("Killing running AOF rewrite child: {}", pid);
    // SAFETY: signalling and reaping our own child.
    unsafe {
        if libc::kill(pid, libc::SIGUSR1) != -1 {
            let mut st = 0;
            libc::waitpid(pid, &mut st, 0);
        }
    }
    let _ = std::fs::remove_file(child_tmpfile(pid));
    srv.persist.child_pid = -1;
    srv.persist.child_type = ChildType::None;
    super::child::reset(srv);
    srv.aof.rewrite_time_start = -1;
}

/// CONFIG SET appendonly no.
pub fn stop(srv: &mut Server) {
    if srv.aof.state == AofState::Off {
        return;
    }
    flush(srv, true);
    if let Some(f) = srv.aof.file.take() {
        if let Err(e) = f.sync_data() {
            tracing::warn!(
                "Fail to fsync the AOF file: {}",
                crate::server::log_io_error(&e)
            );
        } else {
            srv.aof.last_fsync = unix_now();
        }
    }
    let aof = &mut srv.aof;
    aof.selected_db = None;
    aof.state = AofState::Off;
    aof.rewrite_scheduled = false;
    aof.last_incr_size = 0;
    aof.last_incr_fsync_offset = 0;
    aof.buf.clear();
    kill_child(srv);
}

/// CONFIG SET appendonly yes: a rewrite builds the first base; writes
/// meanwhile go to a temporary incremental file.
pub fn start(srv: &mut Server) -> Result<(), String> {
    if srv.aof.state != AofState::Off {
        return Ok(());
    }
    srv.aof.state = AofState::WaitRewrite;
    if srv.persist.child_pid != -1 && srv.persist.child_type != ChildType::Aof {
        srv.aof.rewrite_scheduled = true;
        tracing::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
    } else if crate::commands::tx::IN_EXEC.load(std::sync::atomic::Ordering::Relaxed) {
        srv.aof.rewrite_scheduled = true;
        tracing::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else {
        if srv.persist.child_type == ChildType::Aof {
            tracing::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            kill_child(srv);
        }
        if rewrite_background(srv).is_err() {
            srv.aof.state = AofState::Off;
            srv.aof.file = None;
            tracing::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return Err("Unable to turn on AOF".into());
        }
    }
    srv.aof.last_fsync = unix_now();
    if !srv.aof.last_write_ok {
        tracing::warn!("AOF reopen, just ignore the last error.");
        srv.aof.last_write_ok = true;
    }
    Ok(())
}

/// Whether repeated failures hold automatic rewrites back (1, 2, 4 ...
/// up to 60 minutes after the third consecutive failure).
fn rewrite_limited(srv: &mut Server) -> bool {
    let now = unix_now();
    let a = &mut srv.aof;
    if a.consecutive_failures < 3 {
        a.next_delay_minutes = 0;
        a.next_rewrite_time = 0;
        return false;
    }
    if a.next_rewrite_time != 0 {
        if now < a.next_rewrite_time {
            return true;
        }
        a.next_rewrite_time = 0;
        return false;
    }
    a.next_delay_minutes = if a.next_delay_minutes == 0 {
        1
    } else {
        (a.next_delay_minutes * 2).min(60)
    };
    a.next_rewrite_time = now + a.next_delay_minutes * 60;
    tracing::warn!("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes", a.next_delay_minutes);
    true
}

/// Cron: scheduled and automatic rewrites, and the everysec fsync.
pub fn cron(srv: &mut Server) {
    if srv.persist.child_pid == -1 && srv.aof.rewrite_scheduled && !rewrite_limited(srv) {
        let _ = rewrite_background(srv);
    }
    if srv.aof.state == AofState::On && srv.persist.child_pid == -1 {
        let perc = srv.config.get_i64("auto-aof-rewrite-percentage");
        let min = srv.config.get_i64("auto-aof-rewrite-min-size").max(0) as u64;
        if perc > 0 && srv.aof.current_size > min {
            let base = srv.aof.base_size.max(1);
            let growth = (srv.aof.current_size * 100 / base) as i64 - 100;
            if growth >= perc && !rewrite_limited(srv) {
                tracing::info!("Starting automatic rewriting of AOF on {}% growth", growth);
                let _ = rewrite_background(srv);
            }
        }
    }
    if srv.aof.state == AofState::On {
        flush(srv, false);
    }
}

/// On shutdown: write and fsync everything, stop a rewrite child.
pub fn shutdown(srv: &mut Server) {
    kill_child(srv);
    if srv.aof.state == AofState::Off {
        return;
    }
    flush(srv, true);
    if let Some(f) = srv.aof.file.as_ref() {
        tracing::info!("Calling fsync() on the AOF file.");
        let _ = f.sync_data();
    }
}

/// INFO persistence: the AOF part.
pub fn info_fields(srv: &Server) -> String {
    let a = &srv.aof;
    let aof_child = srv.persist.child_type == ChildType::Aof && srv.persist.child_pid != -1;
    let mut s = format!(
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        (a.state != AofState::Off) as i32,
        aof_child as i32,
        a.rewrite_scheduled as i32,
        a.rewrite_time_last,
        if aof_child { unix_now() - a.rewrite_time_start } else { -1 },
        if a.last_bgrewrite_ok { "ok" } else { "err" },
        a.rewrites,
        a.consecutive_failures,
        if a.last_write_ok && !a.fsync_failed() { "ok" } else { "err" },
        srv.persist.info.aof_last_cow,
    );
    if srv.config.get_bool("appendonly") {
        s.push_str(&format!(
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
            a.current_size,
            a.base_size,
            a.rewrite_scheduled as i32,
            a.buf.len(),
            a.pending_fsyncs(),
            a.delayed_fsync,
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip() {
        let text = b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().seq, 2);
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incr_seq, 3);
        assert_eq!(m.to_text().as_bytes(), text);
    }

    #[test]
    fn manifest_errors() {
        assert!(Manifest::parse(b"")
            .unwrap_err()
            .contains("empty AOF manifest"));
        assert!(Manifest::parse(b"file a seq 1\n")
            .unwrap_err()
            .contains("Invalid AOF manifest file format"));
        assert!(Manifest::parse(b"file a seq 1 type x\n")
            .unwrap_err()
            .contains("Unknown AOF file type"));
        assert!(
            Manifest::parse(b"file a seq 2 type i\nfile b seq 1 type i\n")
                .unwrap_err()
                .contains("non-monotonic")
        );
        assert!(Manifest::parse(b"file a/b seq 1 type b\n")
            .unwrap_err()
            .contains("can't be a path"));
    }

    #[test]
    fn torn_commands() {
        let data = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk";
        let mut pos = 0;
        assert!(matches!(next_command(data, &mut pos), Parsed::Command(a) if a.len() == 2));
        assert!(matches!(next_command(data, &mut pos), Parsed::Eof));
        let mut pos = 0;
        assert!(matches!(next_command(b"+OK\r\n", &mut pos), Parsed::Format));
        let mut pos = 0;
        assert!(matches!(
            next_command(b"#TS:1\r\n*1\r\n$4\r\nPING\r\n", &mut pos),
            Parsed::Command(_)
        ));
    }
}

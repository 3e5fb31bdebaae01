//! Forked children (BGSAVE, AOF rewrite) and what they tell the parent
//! while they run: keys written so far and copy-on-write memory, sent
//! through a pipe as Redis's child info, so INFO shows current_cow_size,
//! current_save_keys_processed, current_fork_perc, rdb_last_cow_size and
//! aof_last_cow_size, and the log shows "Fork CoW for ...".

use std::time::Instant;

use super::ChildType;
use crate::server::Server;

/// Kinds of report (Redis's CHILD_INFO_TYPE_*).
const CURRENT_INFO: u64 = 0;
const AOF_COW_SIZE: u64 = 1;
const RDB_COW_SIZE: u64 = 2;

/// One report: kind, keys written, CoW bytes, when the CoW was read
/// (unix ms). Four u64s: well under PIPE_BUF, so each write is atomic.
const MSG_LEN: usize = 32;

/// What the parent knows about the running child's progress.
#[derive(Debug, Default)]
pub struct Info {
    /// Read end of the child's pipe, or -1.
    pub fd: i32,
    pub cow_bytes: u64,
    pub cow_peak: u64,
    /// When cow_bytes was measured (unix ms), 0 if never.
    pub cow_updated: i64,
    pub keys_processed: u64,
    pub keys_total: u64,
    pub rdb_last_cow: u64,
    pub aof_last_cow: u64,
}

impl Info {
    pub fn new() -> Info {
        Info {
            fd: -1,
            ..Default::default()
        }
    }

    /// Share of the keys written so far, in percent.
    pub fn fork_perc(&self) -> f64 {
        if self.keys_total == 0 {
            0.0
        } else {
            self.keys_processed as f64 * 100.0 / self.keys_total as f64
        }
    }
}

/// Private dirty memory of this process in bytes: in a forked child, the
/// pages the parent has modified since the fork (copy-on-write).
pub fn private_dirty() -> u64 {
    let data = std::fs::read_to_string("/proc/self/smaps_rollup")
        .or_else(|_| std::fs::read_to_string("/proc/self/smaps"))
        .unwrap_or_default();
    data.lines()
        .filter_map(|l| l.strip_prefix("Private_Dirty:"))
        .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// The child's side: reports progress to the parent.
pub struct Reporter {
    fd: i32,
    name: &'static str,
    last_sent: Instant,
    /// Next CoW reading not before this (a reading costs time; Redis
    /// keeps it to 1% of the child's time).
    next_read: Instant,
    cow: u64,
    peak: u64,
    sum: u64,
    readings: u64,
    cow_updated: i64,
}

impl Reporter {
    fn new(fd: i32, name: &'static str) -> Reporter {
        let now = Instant::now();
        Reporter {
            fd,
            name,
            last_sent: now,
            next_read: now,
            cow: 0,
            peak: 0,
            sum: 0,
            readings: 0,
            cow_updated: 0,
        }
    }

    fn read_cow(&mut self, final_report: bool) {
        let now = Instant::now();
        if !final_report && self.readings > 0 && now < self.next_read {
            return;
        }
        self.cow = private_dirty();
        let cost = now.elapsed();
        self.next_read = Instant::now() + cost * 100;
        self.cow_updated = crate::util::mstime();
        self.peak = self.peak.max(self.cow);
        self.sum += self.cow;
        self.readings += 1;
        if self.cow > 0 || final_report {
            let line = format!(
                "Fork CoW for {}: current {} MB, peak {} MB, average {} MB",
                self.name,
                self.cow >> 20,
                self.peak >> 20,
                (self.sum / self.readings) >> 20
            );
            if final_report {
                tracing::info!("{}", line);
            } else {
                tracing::debug!("{}", line);
            }
        }
    }

    fn send(&self, kind: u64, keys: u64) {
        let mut msg = [0u8; MSG_LEN];
        msg[0..8].copy_from_slice(&kind.to_le_bytes());
        msg[8..16].copy_from_slice(&keys.to_le_bytes());
        msg[16..24].copy_from_slice(&self.cow.to_le_bytes());
        msg[24..32].copy_from_slice(&(self.cow_updated as u64).to_le_bytes());
        // SAFETY: writing a local buffer to our pipe; a full or closed pipe
        // only loses a report.
        unsafe {
            libc::write(self.fd, msg.as_ptr() as *const libc::c_void, MSG_LEN);
        }
    }

    /// After each key: about once a second, tell the parent.
    pub fn key_done(&mut self, keys: u64) {
        if keys & 1023 != 0 && keys != 1 {
            return;
        }
        if self.last_sent.elapsed().as_millis() < 1000 {
            return;
        }
        self.read_cow(false);
        self.send(CURRENT_INFO, keys);
        self.last_sent = Instant::now();
    }

    /// Before exiting: the final copy-on-write size.
    fn finish(&mut self, kind: ChildType) {
        self.read_cow(true);
        let k = if kind == ChildType::Aof {
            AOF_COW_SIZE
        } else {
            RDB_COW_SIZE
        };
        self.send(k, 0);
    }
}

fn close_fd(fd: i32) {
    if fd >= 0 {
        // SAFETY: closing a descriptor we own.
        unsafe {
            libc::close(fd);
        }
    }
}

/// Fork a child running `job` (true = success, exit code 0). The parent
/// gets the pid and keeps serving; `check_child` (cron) reaps the child.
pub fn fork_child(
    srv: &mut Server,
    kind: ChildType,
    job: impl FnOnce(&Server, &mut Reporter) -> bool,
) -> std::io::Result<i32> {
    let mut fds = [-1i32; 2];
    // SAFETY: pipe2 fills the two descriptors; CLOEXEC keeps them out of
    // anything exec'd later.
    let piped = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } == 0;
    if !piped {
        fds = [-1, -1];
    }
    let start = Instant::now();
    // SAFETY: the reactor thread owns the dataset; other threads (fsync)
    // hold no lock the child needs. The child serializes memory it
    // inherited, writes a file and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        close_fd(fds[0]);
        close_fd(fds[1]);
        return Err(e);
    }
    if pid == 0 {
        if let Ok(mut r) = crate::server::log::ROLE.lock() {
            *r = 'C';
        }
        close_fd(fds[0]);
        // As Redis does: a child that outlives the parent's exit must not
        // keep accepting connections for it.
        crate::server::reactor::close_listeners(srv, false);
        let name = if kind == ChildType::Aof {
            "AOF rewrite"
        } else {
            "RDB"
        };
        let mut rep = Reporter::new(fds[1], name);
        let ok = job(srv, &mut rep);
        if ok {
            rep.finish(kind);
        }
        // SAFETY: leave without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    close_fd(fds[1]);
    let p = &mut srv.persist;
    close_fd(p.info.fd);
    let total: u64 = srv.dbs.iter().map(|d| d.len() as u64).sum();
    p.info = Info {
        fd: fds[0],
        keys_total: total,
        rdb_last_cow: p.info.rdb_last_cow,
        aof_last_cow: p.info.aof_last_cow,
        ..Info::new()
    };
    p.last_fork_usec = start.elapsed().as_micros() as i64;
    p.total_forks += 1;
    p.child_pid = pid;
    p.child_type = kind;
    p.child_start = crate::util::mstime();
    Ok(pid)
}

/// Read the reports the child sent (cron, and when it is reaped).
pub fn receive(srv: &mut Server) {
    let info = &mut srv.persist.info;
    if info.fd < 0 {
        return;
    }
    let mut msg = [0u8; MSG_LEN];
    loop {
        // SAFETY: reading into a local buffer from our non-blocking pipe.
        let n = unsafe { libc::read(info.fd, msg.as_mut_ptr() as *mut libc::c_void, MSG_LEN) };
        if n != MSG_LEN as isize {
            return;
        }
        let word =
            |i: usize| u64::from_le_bytes(msg[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        let (kind, keys, cow, updated) = (word(0), word(1), word(2), word(3) as i64);
        match kind {
            CURRENT_INFO => {
                info.cow_bytes = cow;
                info.cow_peak = info.cow_peak.max(cow);
                info.cow_updated = updated;
                info.keys_processed = keys;
            }
            AOF_COW_SIZE => info.aof_last_cow = cow,
            RDB_COW_SIZE => info.rdb_last_cow = cow,
            _ => {}
        }
    }
}

/// The child is gone: take its last reports, forget its progress.
pub fn reset(srv: &mut Server) {
    receive(srv);
    let info = &mut srv.persist.info;
    close_fd(info.fd);
    *info = Info {
        rdb_last_cow: info.rdb_last_cow,
        aof_last_cow: info.aof_last_cow,
        ..Info::new()
    };
}

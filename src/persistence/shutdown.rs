//! The shutdown sequence (Redis's prepareForShutdown / finishShutdown):
//! SHUTDOWN and SIGTERM first give lagging replicas up to
//! `shutdown-timeout` seconds to acknowledge the whole stream (writes are
//! paused meanwhile), then stop a running child, flush the AOF and write
//! the final RDB. SHUTDOWN blocks its client until then; when the sequence
//! fails or SHUTDOWN ABORT cancels it, every blocked SHUTDOWN gets an error.

use tracing::{info, warn};

use std::sync::atomic::Ordering;

use crate::server::client::cflags;
use crate::server::reactor::{Reactor, SHUTDOWN_ASAP, SHUTDOWN_SIGNAL};
use crate::server::{PauseKind, Server, ShutdownRequest};

/// A shutdown waiting for replicas (Redis's shutdown_mstime != 0).
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub req: ShutdownRequest,
    /// Unix ms when the server stops waiting.
    pub deadline: i64,
    /// The CLIENT PAUSE state before the shutdown paused writes.
    saved_pause: (Option<PauseKind>, i64),
}

/// SHUTDOWN without ABORT: the client waits for the outcome.
pub fn block_client(srv: &mut Server, c: &mut crate::server::Client) {
    c.flags |= cflags::BLOCKED;
    srv.persist.shutdown_blocked.push((c.id, c.token));
}

/// SHUTDOWN ABORT. False when no shutdown was in progress.
pub fn abort(srv: &mut Server) -> bool {
    // A signal not acted upon yet (DEBUG PAUSE-CRON) is dropped too.
    let signalled = SHUTDOWN_SIGNAL.swap(0, Ordering::SeqCst) != 0;
    if srv.persist.shutdown.is_some() {
        cancel(srv);
    } else if srv.shutdown.take().is_none() && !signalled {
        return false;
    }
    SHUTDOWN_ASAP.store(false, Ordering::SeqCst);
    info!("Shutdown manually aborted.");
    true
}

/// INFO server's shutdown_in_milliseconds, while waiting for replicas.
pub fn info_field(srv: &Server) -> String {
    match srv.persist.shutdown {
        Some(p) => format!(
            "shutdown_in_milliseconds:{}\r\n",
            (p.deadline - crate::util::mstime()).max(0)
        ),
        None => String::new(),
    }
}

/// Every replica acknowledged the whole stream (isReadyToShutdown).
fn replicas_in_sync(srv: &Server) -> bool {
    let off = srv.repl.master_repl_offset;
    srv.repl.replicas.iter().all(|r| r.ack_off == off)
}

/// Called from the event loop on every turn: starts a requested shutdown,
/// finishes a pending one once replicas caught up or time ran out, and
/// answers the blocked SHUTDOWNs of a cancelled one. Returns the exit code
/// when the server must stop now.
pub fn step(r: &mut Reactor) -> Option<i32> {
    if let Some(req) = r.srv.shutdown.take() {
        // A second SHUTDOWN while one is waiting just waits with it.
        if r.srv.persist.shutdown.is_none() {
            if let Some(code) = prepare(r, req) {
                return Some(code);
            }
        }
    }
    match r.srv.persist.shutdown {
        Some(p) => {
            if crate::util::mstime() >= p.deadline || replicas_in_sync(&r.srv) {
                return finish(r, p.req);
            }
        }
        None => fail_blocked(r),
    }
    None
}

fn prepare(r: &mut Reactor, mut req: ShutdownRequest) -> Option<i32> {
    if r.srv.loading {
        // Never overwrite the dump with a half-loaded dataset.
        req.save = Some(false);
    }
    warn!("User requested shutdown...");
    let timeout = r.srv.config.get_i64("shutdown-timeout");
    if !req.now && timeout != 0 && !replicas_in_sync(&r.srv) {
        let now = crate::util::mstime();
        let srv = &mut r.srv;
        let paused = srv.pause_kind.is_some() && now < srv.pause_until;
        if !paused {
            crate::replication::master::send_getack(srv);
        }
        let saved_pause = (srv.pause_kind, srv.pause_until);
        if !matches!(srv.pause_kind, Some(PauseKind::All)) || !paused {
            srv.pause_kind = Some(PauseKind::Write);
        }
        srv.pause_until = i64::MAX;
        srv.persist.shutdown = Some(Pending {
            req,
            deadline: now.saturating_add(timeout.saturating_mul(1000)),
            saved_pause,
        });
        info!("Waiting for replicas before shutting down.");
        return None;
    }
    finish(r, req)
}

/// The last steps (finishShutdown). On failure the shutdown is cancelled.
fn finish(r: &mut Reactor, req: ShutdownRequest) -> Option<i32> {
    let srv = &mut r.srv;
    let off = srv.repl.master_repl_offset;
    let now_secs = crate::util::mstime() / 1000;
    let mut lagging = 0;
    for rep in &srv.repl.replicas {
        if rep.ack_off != off {
            lagging += 1;
            let online = rep.state == crate::replication::master::RState::Online;
            warn!(
                "Lagging replica {} reported offset {} behind master, lag={}, state={}.",
                rep.name(),
                off - rep.ack_off,
                if online { now_secs - rep.ack_time } else { 0 },
                rep.state.name()
            );
        }
    }
    let total = srv.repl.replicas.len();
    if total > 0 {
        info!(
            "{} of {} replicas are in sync when shutting down.",
            total - lagging,
            total
        );
    }
    let child = srv.persist.child_pid != -1;
    if child && srv.persist.child_type == super::ChildType::Rdb {
        warn!("There is a child saving an .rdb. Killing it!");
        super::kill_rdb_child(srv);
        let _ = std::fs::remove_file(format!("temp-{}.rdb", srv.persist.child_pid));
        // The final save below must not wait for it.
        srv.persist.child_pid = -1;
        srv.persist.child_type = super::ChildType::None;
    }
    if child && srv.persist.child_type == super::ChildType::Aof {
        // Without its first rewrite the AOF does not hold the dataset yet.
        if srv.aof.state == super::aof::AofState::WaitRewrite {
            if req.force {
                warn!("Writing initial AOF. Exit anyway.");
            } else {
                warn!("Writing initial AOF, can't exit.");
                return failed(srv);
            }
        }
        warn!("There is a child rewriting the AOF. Killing it!");
    }
    super::aof::shutdown(srv);
    let want_save = req.save.unwrap_or_else(|| super::has_save_points(srv));
    if want_save {
        info!("Saving the final RDB snapshot before exiting.");
        if let Err(e) = super::save(srv) {
            if req.force {
                warn!("Error trying to save the DB. Exit anyway. ({})", e);
            } else {
                warn!("Error trying to save the DB, can't exit. ({})", e);
                return failed(srv);
            }
        }
    }
    srv.persist.shutdown = None;
    Some(r.exit_cleanup())
}

fn failed(srv: &mut Server) -> Option<i32> {
    warn!("Errors trying to shut down the server. Check the logs for more information.");
    cancel(srv);
    None
}

/// Stop waiting: writes resume; the blocked SHUTDOWNs are answered by the
/// next `step`.
fn cancel(srv: &mut Server) {
    srv.shutdown = None;
    SHUTDOWN_ASAP.store(false, Ordering::SeqCst);
    if let Some(p) = srv.persist.shutdown.take() {
        (srv.pause_kind, srv.pause_until) = p.saved_pause;
        if srv.pause_kind.is_none() {
            srv.pause_until = 0;
        }
    }
}

/// Answer every client blocked in SHUTDOWN with the failure.
fn fail_blocked(r: &mut Reactor) {
    if r.srv.persist.shutdown_blocked.is_empty() {
        return;
    }
    for (id, slot) in std::mem::take(&mut r.srv.persist.shutdown_blocked) {
        let resume = match r.clients.get_mut(slot) {
            Some(c) if c.id == id && c.has(cflags::BLOCKED) => {
                c.flags &= !cflags::BLOCKED;
                c.reply
                    .error_raw("ERR Errors trying to SHUTDOWN. Check logs.");
                true
            }
            _ => false,
        };
        if resume {
            r.process_input(slot);
            r.srv.flush_slots.push(slot);
        }
    }
}

/// From the signal handler, on a second SIGINT: remove the temp file of a
/// final save in progress and exit with an error ("You insist"). Only
/// async-signal-safe calls: the path is built on the stack.
pub fn insist_exit() -> ! {
    const MSG: &[u8] = b"You insist... exiting now.\n";
    let mut path = [0u8; 40];
    let mut n = 0;
    for &b in b"temp-" {
        path[n] = b;
        n += 1;
    }
    // SAFETY: getpid, write, unlink and _exit are async-signal-safe; `path`
    // is NUL-terminated (the buffer is zeroed and never filled up).
    unsafe {
        let pid = libc::getpid() as u32;
        let mut digits = [0u8; 10];
        let mut d = 0;
        let mut p = pid;
        loop {
            digits[d] = b'0' + (p % 10) as u8;
            d += 1;
            p /= 10;
            if p == 0 {
                break;
            }
        }
        while d > 0 {
            d -= 1;
            path[n] = digits[d];
            n += 1;
        }
        for &b in b".rdb" {
            path[n] = b;
            n += 1;
        }
        libc::write(1, MSG.as_ptr() as *const libc::c_void, MSG.len());
        libc::unlink(path.as_ptr() as *const libc::c_char);
        libc::_exit(1)
    }
}

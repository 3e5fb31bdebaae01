//! Long-running scripts. Past `busy-reply-threshold` the Lua hook serves
//! other clients from inside the script, through the normal dispatcher:
//! commands flagged allow-busy (SCRIPT KILL, FUNCTION KILL/STATS, SHUTDOWN
//! NOSAVE, MULTI, DISCARD, WATCH, AUTH, HELLO, RESET, QUIT...) run, every
//! other one gets -BUSY (see `busy_error`), as in Redis.

use std::cell::{Cell, RefCell};
use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::Events;

use crate::protocol::parse::{Limits, Parsed};
use crate::server::client::cflags;
use crate::server::exec::{process_command, Outcome};
use crate::server::reactor::LISTENER_BASE;
use crate::server::{Clients, Server};

pub const SLOWEVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const SLOWSCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// FUNCTION LOAD gives up on library code running longer than this.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// The script being run, for the hook.
pub struct Running {
    pub start: Instant,
    pub srv: *mut Server,
    pub clients: *mut Clients,
    pub is_eval: bool,
    pub name: String,
    /// The script called a write command: SCRIPT KILL can no longer stop it.
    pub wrote: bool,
    /// Where the commands it calls propagate (redis.set_repl).
    pub repl: u8,
    pub killed: bool,
    pub timed_out: bool,
    /// The command that started the script (FUNCTION STATS shows it).
    pub command: Vec<Bytes>,
}

impl Running {
    /// busy-reply-threshold, read when first needed: most runs end before
    /// the hook ever fires.
    fn threshold(&self) -> Duration {
        // SAFETY: the server outlives the run (see `hook`).
        let ms = unsafe { (*self.srv).config.get_i64("busy-reply-threshold") };
        Duration::from_millis(ms.max(0) as u64)
    }
}

thread_local! {
    pub static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
    /// The last run's name buffer, reused by the next.
    static SPARE_NAME: RefCell<String> = const { RefCell::new(String::new()) };
    /// Set by EVAL/FCALL just before a script runs.
    pub static COMMAND: RefCell<Vec<Bytes>> = const { RefCell::new(Vec::new()) };
    /// 0: no script past its threshold; 1: a busy EVAL; 2: a busy function.
    static BUSY: Cell<u8> = const { Cell::new(0) };
    /// When the library FUNCTION LOAD is running started.
    static LOADING: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Record the command about to run a script.
pub fn set_command(argv: &[Bytes]) {
    COMMAND.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        c.extend_from_slice(argv);
    });
}

/// A script (EVAL, or the function `name`) starts running.
pub fn start(srv: *mut Server, clients: *mut Clients, name: &str, is_eval: bool) {
    let mut n = SPARE_NAME.with(|s| std::mem::take(&mut *s.borrow_mut()));
    n.clear();
    n.push_str(name);
    let run = Running {
        start: Instant::now(),
        srv,
        clients,
        is_eval,
        name: n,
        wrote: false,
        repl: crate::server::propagate::ALL,
        killed: false,
        timed_out: false,
        command: COMMAND.with(|c| std::mem::take(&mut *c.borrow_mut())),
    };
    RUNNING.with(|r| *r.borrow_mut() = Some(run));
}

/// The running script ended; true when it was killed. Clients are served
/// normally again.
pub fn end() -> bool {
    let Some(mut run) = RUNNING.with(|r| r.borrow_mut().take()) else {
        finished();
        return false;
    };
    finished();
    // Their buffers serve the next run.
    run.command.clear();
    COMMAND.with(|c| *c.borrow_mut() = std::mem::take(&mut run.command));
    SPARE_NAME.with(|s| *s.borrow_mut() = std::mem::take(&mut run.name));
    run.killed
}

/// The -BUSY error for commands not allowed now, when a script is busy.
pub fn busy_error() -> Option<&'static str> {
    match BUSY.with(|b| b.get()) {
        0 => None,
        1 => Some(SLOWEVAL),
        _ => Some(SLOWSCRIPT),
    }
}

/// The script ended: clients are served normally again.
pub fn finished() {
    BUSY.with(|b| b.set(0));
}

/// The running script called a write command.
pub fn mark_write() {
    RUNNING.with(|r| {
        if let Some(run) = r.borrow_mut().as_mut() {
            run.wrote = true;
        }
    });
}

/// redis.set_repl(): where the script's next commands propagate; false
/// when no script runs.
pub fn set_repl(targets: u8) -> bool {
    RUNNING.with(|r| match r.borrow_mut().as_mut() {
        Some(run) => {
            run.repl = targets;
            true
        }
        None => false,
    })
}

/// Where the running script's commands propagate.
pub fn repl() -> u8 {
    RUNNING.with(|r| {
        r.borrow()
            .as_ref()
            .map_or(crate::server::propagate::ALL, |run| run.repl)
    })
}

/// The running script already called a write command.
pub fn has_written() -> bool {
    RUNNING.with(|r| r.borrow().as_ref().is_some_and(|run| run.wrote))
}

/// busy-reply-threshold of the running script, when set (not 0).
pub fn threshold() -> Option<Duration> {
    RUNNING.with(|r| {
        r.borrow()
            .as_ref()
            .map(|run| run.threshold())
            .filter(|t| !t.is_zero())
    })
}

/// SCRIPT KILL (is_eval) / FUNCTION KILL: Ok, or the error to reply.
pub fn kill(is_eval: bool) -> Result<(), &'static str> {
    RUNNING.with(|r| {
        let mut g = r.borrow_mut();
        let Some(run) = g.as_mut() else {
            return Err("NOTBUSY No scripts in execution right now.");
        };
        if run.wrote {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        if is_eval && !run.is_eval {
            return Err(SLOWSCRIPT);
        }
        if !is_eval && run.is_eval {
            return Err(SLOWEVAL);
        }
        run.killed = true;
        Ok(())
    })
}

/// FUNCTION STATS' running_script: (name, command, duration in ms).
pub fn running_info() -> Option<(String, Vec<Bytes>, u128, bool)> {
    RUNNING.with(|r| {
        r.borrow().as_ref().map(|run| {
            (
                run.name.clone(),
                run.command.clone(),
                run.start.elapsed().as_millis(),
                run.is_eval,
            )
        })
    })
}

/// The hook a script runs with: every 100k instructions.
pub fn install(lua: &mlua::Lua) {
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(100_000),
        |lua, _| hook(lua),
    );
}

/// Once killed, fire on every line: a script that catches the error with
/// pcall in a loop still meets it outside the pcall soon after.
fn on_every_line(lua: &mlua::Lua) {
    lua.set_hook(mlua::HookTriggers::EVERY_LINE, |lua, _| hook(lua));
}

/// FUNCTION LOAD runs the library's code with a time limit.
pub fn loading(on: bool) {
    LOADING.with(|l| l.set(on.then(Instant::now)));
}

/// A library's code is being loaded (FUNCTION LOAD).
pub fn is_loading() -> bool {
    LOADING.with(|l| l.get().is_some())
}

const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// Called by the Lua hook. Err stops the script (SCRIPT KILL).
pub fn hook(lua: &mlua::Lua) -> mlua::Result<mlua::VmState> {
    if let Some(t) = LOADING.with(|l| l.get()) {
        if t.elapsed() > LOAD_TIMEOUT {
            on_every_line(lua);
            return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
        }
        return Ok(mlua::VmState::Continue);
    }
    // The borrow is released before serving clients: their commands
    // (SCRIPT KILL, FUNCTION STATS) look at the running script.
    let ptrs = RUNNING.with(|r| {
        let mut guard = r.borrow_mut();
        let run = guard.as_mut()?;
        if run.killed {
            return Some(Err(()));
        }
        if run.start.elapsed() < run.threshold() {
            return None;
        }
        let first = !run.timed_out;
        if first {
            run.timed_out = true;
            BUSY.with(|b| b.set(if run.is_eval { 1 } else { 2 }));
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                run.start.elapsed().as_millis(),
                if run.is_eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
                run.name
            );
        }
        Some(Ok((run.srv, run.clients, first)))
    });
    let (srv, clients, first) = match ptrs {
        None => return Ok(mlua::VmState::Continue),
        Some(Err(())) => {
            on_every_line(lua);
            return Err(mlua::Error::runtime(KILLED));
        }
        Some(Ok(p)) => p,
    };
    // SAFETY: the script runs inside a command; while Lua code executes
    // (this hook), no Rust code holds these borrows, and the reactor
    // thread is the only one touching them.
    let (srv, clients) = unsafe { (&mut *srv, &mut *clients) };
    serve_while_busy(srv, clients, first);
    let killed = RUNNING.with(|r| r.borrow().as_ref().is_some_and(|run| run.killed));
    if killed {
        tracing::warn!("Lua script killed by user with SCRIPT KILL.");
        on_every_line(lua);
        return Err(mlua::Error::runtime(KILLED));
    }
    Ok(mlua::VmState::Continue)
}

/// Read other clients' commands and answer them while the script runs.
/// The first time, every client is tried: readiness the reactor fetched
/// in the same batch as the script's command is not reported again.
fn serve_while_busy(srv: &mut Server, clients: &mut Clients, all: bool) {
    if srv.poll_ptr.is_null() {
        return;
    }
    let mut events = Events::with_capacity(128);
    // SAFETY: the reactor's Poll is not in use while a command runs.
    let poll = unsafe { &mut *srv.poll_ptr };
    if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
        return;
    }
    let mut slots: Vec<usize> = events.iter().map(|e| e.token().0).collect();
    if all {
        slots.extend(clients.iter().map(|c| c.token));
        slots.sort_unstable();
        slots.dedup();
    }
    let mut buf = vec![0u8; 16 * 1024];
    for slot in slots {
        if slot >= LISTENER_BASE {
            // SAFETY: the listeners live in the reactor for the whole run.
            if let Some(l) =
                unsafe { srv.listeners_ptr.as_ref() }.and_then(|ls| ls.get(slot - LISTENER_BASE))
            {
                crate::server::reactor::accept_on(l, poll.registry(), srv, clients);
            }
            continue;
        }
        // Edge-triggered: the reactor resumes this client afterwards, also
        // when it is the one running the script (not in the table now).
        srv.busy_slots.push(slot);
        let Some(mut c) = clients.take(slot) else {
            continue;
        };
        loop {
            match c.conn.read(&mut buf) {
                Ok(0) => {
                    c.flags |= cflags::CLOSE_ASAP;
                    break;
                }
                Ok(n) => c.query.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            if c.query.len() > 1 << 20 {
                break;
            }
        }
        while !c.has(cflags::CLOSE_AFTER_REPLY | cflags::CLOSE_ASAP | cflags::PAUSED) {
            let limits = Limits {
                proto_max_bulk_len: srv.config.proto_max_bulk_len,
                auth_required: !c.authenticated,
            };
            match c.parse.parse(&mut c.query, limits) {
                Ok(Parsed::Command(argv)) if !argv.is_empty() => {
                    if process_command(srv, clients, &mut c, argv) == Outcome::Postponed {
                        break;
                    }
                }
                Ok(Parsed::Command(_)) => {}
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    c.reply.error_raw(&format!("ERR {}", e.reply));
                    c.flags |= cflags::CLOSE_AFTER_REPLY;
                }
            }
            if srv.shutdown.is_some_and(|r| r.save == Some(false)) {
                shutdown_now(srv);
            }
        }
        let _ = c.flush();
        // A connection that went away is freed now, as Redis does: a
        // script may be waiting for a replica to be gone (INFO).
        let gone = c.has(cflags::CLOSE_ASAP);
        clients.restore(slot, c);
        if gone {
            crate::server::reactor::close_client_in(poll.registry(), srv, clients, slot);
        }
    }
}

/// SHUTDOWN NOSAVE from a client while a script is busy: stop at once.
fn shutdown_now(srv: &mut Server) -> ! {
    tracing::warn!("User requested shutdown...");
    crate::persistence::aof::shutdown(srv);
    if srv.persist.child_pid != -1 {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(srv.persist.child_pid, libc::SIGUSR1) };
    }
    // Closed before exit so no new connection is accepted meanwhile.
    crate::server::reactor::close_listeners(srv, true);
    let pidfile = srv.config.get("pidfile").unwrap_or("").to_string();
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    tracing::warn!("Redis is now ready to exit, bye bye...");
    std::process::exit(0);
}

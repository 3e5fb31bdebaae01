//! Long-running scripts. Past `busy-reply-threshold` the Lua hook serves
//! other clients from inside the script: they get -BUSY, except SCRIPT
//! KILL / FUNCTION KILL (which stop a script that has not written yet) and
//! SHUTDOWN NOSAVE, as Redis does.

use std::cell::RefCell;
use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::Events;

use crate::protocol::parse::{Limits, Parsed};
use crate::server::client::cflags;
use crate::server::reactor::LISTENER_BASE;
use crate::server::{Client, Clients, Server};

const SLOWEVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const SLOWSCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The script being run, for the hook.
pub struct Running {
    pub start: Instant,
    pub threshold: Duration,
    pub srv: *mut Server,
    pub clients: *mut Clients,
    pub is_eval: bool,
    pub name: String,
    pub dirty_at_start: u64,
    pub killed: bool,
    pub timed_out: bool,
    /// The command that started the script (FUNCTION STATS shows it).
    pub command: Vec<Bytes>,
}

thread_local! {
    pub static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
    /// Set by EVAL/FCALL just before a script runs.
    pub static COMMAND: RefCell<Vec<Bytes>> = const { RefCell::new(Vec::new()) };
}

/// Record the command about to run a script.
pub fn set_command(argv: &[Bytes]) {
    COMMAND.with(|c| *c.borrow_mut() = argv.to_vec());
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

/// Called by the Lua hook. Err stops the script (SCRIPT KILL).
pub fn hook(lua: &mlua::Lua) -> mlua::Result<mlua::VmState> {
    RUNNING.with(|r| {
        let mut guard = r.borrow_mut();
        let Some(run) = guard.as_mut() else { return Ok(mlua::VmState::Continue) };
        if run.killed {
            on_every_line(lua);
            return Err(mlua::Error::runtime("Script killed by user with SCRIPT KILL..."));
        }
        if run.start.elapsed() < run.threshold {
            return Ok(mlua::VmState::Continue);
        }
        if !run.timed_out {
            run.timed_out = true;
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                run.start.elapsed().as_millis(),
                if run.is_eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
                run.name
            );
        }
        // SAFETY: the script runs inside a command; while Lua code executes
        // (this hook), no Rust code holds these borrows, and the reactor
        // thread is the only one touching them.
        let (srv, clients) = unsafe { (&mut *run.srv, &mut *run.clients) };
        serve_while_busy(srv, clients, run);
        if run.killed {
            tracing::warn!("Lua script killed by user with SCRIPT KILL.");
            on_every_line(lua);
            return Err(mlua::Error::runtime("Script killed by user with SCRIPT KILL..."));
        }
        Ok(mlua::VmState::Continue)
    })
}

/// Read other clients' commands and answer them while the script runs.
fn serve_while_busy(srv: &mut Server, clients: &mut Clients, run: &mut Running) {
    if srv.poll_ptr.is_null() {
        return;
    }
    let mut events = Events::with_capacity(128);
    // SAFETY: the reactor's Poll is not in use while a command runs.
    let poll = unsafe { &mut *srv.poll_ptr };
    if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
        return;
    }
    let mut buf = vec![0u8; 16 * 1024];
    for ev in events.iter() {
        let slot = ev.token().0;
        if slot >= LISTENER_BASE {
            // SAFETY: the listeners live in the reactor for the whole run.
            if let Some(l) =
                unsafe { srv.listeners_ptr.as_ref() }.and_then(|ls| ls.get(slot - LISTENER_BASE))
            {
                crate::server::reactor::accept_on(l, poll.registry(), srv, clients);
            }
            continue;
        }
        srv.busy_slots.push(slot);
        let Some(c) = clients.get_mut(slot) else {
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
        while !c.has(cflags::CLOSE_AFTER_REPLY | cflags::CLOSE_ASAP) {
            let limits = Limits {
                proto_max_bulk_len: srv.config.proto_max_bulk_len,
                auth_required: !c.authenticated,
            };
            match c.parse.parse(&mut c.query, limits) {
                Ok(Parsed::Command(argv)) if !argv.is_empty() => busy_command(srv, c, run, &argv),
                Ok(Parsed::Command(_)) => {}
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    c.reply.error_raw(&format!("ERR {}", e.reply));
                    c.flags |= cflags::CLOSE_AFTER_REPLY;
                }
            }
        }
        let _ = c.flush();
    }
}

fn busy_command(srv: &mut Server, c: &mut Client, run: &mut Running, argv: &[Bytes]) {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let sub = argv
        .get(1)
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .unwrap_or_default();
    let kill = match (name.as_str(), sub.as_str()) {
        ("script", "kill") if argv.len() == 2 => Some(true),
        ("function", "kill") if argv.len() == 2 => Some(false),
        _ => None,
    };
    // A script replayed from the AOF: loading answers come first.
    let loading_ok = srv
        .commands
        .lookup(argv)
        .is_some_and(|c| c.flags & crate::commands::flags::LOADING != 0);
    if srv.loading && !loading_ok {
        c.reply
            .error_raw("LOADING Redis is loading the dataset in memory");
        return;
    }
    if let Some(is_eval) = kill {
        if srv.dirty != run.dirty_at_start {
            c.reply.error_raw("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        } else if is_eval != run.is_eval {
            c.reply
                .error_raw(if run.is_eval { SLOWEVAL } else { SLOWSCRIPT });
        } else {
            run.killed = true;
            c.reply.ok();
        }
        return;
    }
    if name == "function" && sub == "stats" && argv.len() == 2 {
        if run.is_eval {
            c.reply.error_raw(SLOWEVAL);
            return;
        }
        let libs = srv.functions.libraries.len();
        let funcs: usize = srv
            .functions
            .libraries
            .values()
            .map(|l| l.functions.len())
            .sum();
        let r = &mut c.reply;
        r.map(2);
        r.bulk(b"running_script");
        r.map(3);
        r.bulk(b"name");
        r.bulk(run.name.as_bytes());
        r.bulk(b"command");
        r.array(run.command.len());
        for a in &run.command {
            r.bulk(a);
        }
        r.bulk(b"duration_ms");
        r.int(run.start.elapsed().as_millis() as i64);
        r.bulk(b"engines");
        r.map(1);
        r.bulk(b"LUA");
        r.map(2);
        r.bulk(b"libraries_count");
        r.int(libs as i64);
        r.bulk(b"functions_count");
        r.int(funcs as i64);
        return;
    }
    if name == "shutdown"
        && argv
            .iter()
            .skip(1)
            .any(|a| a.eq_ignore_ascii_case(b"nosave"))
    {
        tracing::warn!("User requested shutdown...");
        let pidfile = srv.config.get("pidfile").unwrap_or("").to_string();
        if !pidfile.is_empty() {
            let _ = std::fs::remove_file(&pidfile);
        }
        tracing::warn!("Redis is now ready to exit, bye bye...");
        std::process::exit(0);
    }
    let msg = if run.is_eval { SLOWEVAL } else { SLOWSCRIPT };
    srv.stats.record_error(msg);
    if c.has(cflags::MULTI) {
        // A rejected command dooms the transaction, as in Redis.
        if name == "exec" {
            crate::commands::tx::reset_transaction(srv, c);
            c.reply.error_raw(&format!(
                "EXECABORT Transaction discarded because of: {msg}"
            ));
            return;
        }
        c.flags |= cflags::DIRTY_EXEC;
    }
    c.reply.error_raw(msg);
}

//! From a parsed argv to a reply: lookup, checks, execution, statistics,
//! slowlog and propagation (Redis's processCommand + call).

use bytes::Bytes;

use super::client::{cflags, ReplyMode};
use super::{propagate, Client, Clients, PauseKind, Server};
use crate::commands::{flags, Ctx};

thread_local! {
    /// How many `call`s are running (a script's or EXEC's commands nest).
    static CALL_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// What the reactor should do after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The client is paused (CLIENT PAUSE): keep argv and stop reading.
    Postponed,
}

fn unknown_command_error(argv: &[Bytes]) -> String {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let s = String::from_utf8_lossy(a);
        let s: String = s.chars().take(room).collect();
        args.push_str(&format!("'{}' ", s));
    }
    let name: String = String::from_utf8_lossy(&argv[0])
        .chars()
        .take(128)
        .collect();
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        name, args
    )
}

/// Reject with an error, counting it like Redis (rejected_calls when the
/// command is known).
fn reject(srv: &mut Server, client: &mut Client, cmd_id: Option<usize>, msg: &str) {
    if let Some(id) = cmd_id {
        srv.stats.cmd[id].rejected_calls += 1;
    }
    if client.has(cflags::MULTI) {
        // A rejected EXEC ends the transaction, saying why (execCommandAbort).
        if cmd_id.is_some_and(|id| srv.commands.names[id] == "exec") {
            crate::commands::tx::reset_transaction(srv, client);
            let m = format!("EXECABORT Transaction discarded because of: {msg}");
            srv.stats.record_error(&m);
            client.reply.error_raw(&m);
            return;
        }
        client.flags |= cflags::DIRTY_EXEC;
    }
    srv.stats.record_error(msg);
    client.reply.error_raw(msg);
}

/// Process one command from `client`.
pub fn process_command(
    srv: &mut Server,
    clients: &mut Clients,
    client: &mut Client,
    argv: Vec<Bytes>,
) -> Outcome {
    if argv.is_empty() {
        return Outcome::Done;
    }
    let prev_current = std::mem::replace(&mut srv.tracking.current_client, client.id);
    let is_client_cmd = argv[0].eq_ignore_ascii_case(b"client");
    // A replica must not get replies inside its replication stream.
    let replica = client.has(cflags::SLAVE).then(|| {
        let name = srv.commands.lookup(&argv).map(|c| c.fullname.clone());
        (client.reply.buf.len(), name)
    });
    let out = process_command_inner(srv, clients, client, argv);
    if let Some((mark, name)) = replica {
        crate::replication::master::replica_replied(srv, client, mark, name);
    }
    // CLIENT CACHING applies to the next command (or transaction) only.
    if out == Outcome::Done && !client.has(cflags::MULTI) && !is_client_cmd {
        client.flags &= !cflags::TRACKING_CACHING;
    }
    srv.tracking.current_client = prev_current;
    out
}

fn process_command_inner(
    srv: &mut Server,
    clients: &mut Clients,
    client: &mut Client,
    argv: Vec<Bytes>,
) -> Outcome {
    let now = crate::util::mstime();
    client.last_interaction = now;

    if srv.stats.cmd.len() < srv.commands.count {
        srv.stats.cmd.resize(srv.commands.count, Default::default());
    }

    let cmd = match srv.commands.lookup(&argv) {
        Some(c) => c,
        None => {
            let container = srv
                .commands
                .lookup_name(&argv[0])
                .filter(|c| !c.subcommands.is_empty());
            let msg = match container {
                Some(c) => format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    String::from_utf8_lossy(&argv[1])
                        .chars()
                        .take(128)
                        .collect::<String>(),
                    c.spec.name.to_ascii_uppercase()
                ),
                None => unknown_command_error(&argv),
            };
            reject(srv, client, None, &msg);
            return Outcome::Done;
        }
    };
    let spec = cmd.spec;
    let cmd_flags = cmd.flags;
    let cmd_id = cmd.id;
    let fullname = &cmd.fullname;
    let argc = argv.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        let msg = format!("ERR wrong number of arguments for '{}' command", fullname);
        reject(srv, client, Some(cmd_id), &msg);
        return Outcome::Done;
    }

    if srv.config.requirepass.is_some() && !client.authenticated && cmd_flags & flags::NO_AUTH == 0
    {
        reject(srv, client, Some(cmd_id), "NOAUTH Authentication required.");
        return Outcome::Done;
    }

    // Keep the client-side caching table within its configured size; the
    // invalidations this causes go out before the command's reply.
    if srv.tracking.clients() > 0 {
        super::tracking::limit_used_slots(srv);
        super::tracking::deliver(srv, clients, Some(client));
    }

    // CLIENT PAUSE: hold writes (or everything) until the pause ends.
    if let Some(kind) = srv.pause_kind {
        if now < srv.pause_until {
            let is_write = cmd_flags & (flags::WRITE | flags::MAY_REPLICATE) != 0;
            let hold = match kind {
                PauseKind::All => true,
                PauseKind::Write => is_write,
            };
            if hold && !client.has(cflags::MULTI) {
                client.pending_argv = Some(argv);
                client.flags |= cflags::PAUSED;
                return Outcome::Postponed;
            }
        } else {
            srv.pause_kind = None;
        }
    }

    // RESP2 clients in subscribe mode may only manage subscriptions.
    if client.has(cflags::PUBSUB)
        && client.reply.resp == 2
        && !matches!(
            spec.name,
            "subscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "psubscribe"
                | "punsubscribe"
                | "ping"
                | "quit"
                | "reset"
        )
    {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            fullname
        );
        reject(srv, client, Some(cmd_id), &msg);
        return Outcome::Done;
    }

    // maxmemory: evict keys by policy; if memory stays over the limit the
    // commands that may use more are refused (and, in MULTI, all queueing).
    if srv.config.maxmemory > 0 && crate::scripting::busy::busy_error().is_none() {
        let evicted = srv.stats.evicted_keys;
        let oom = !super::evict::perform_evictions(srv);
        if srv.stats.evicted_keys != evicted && srv.tracking.clients() > 0 {
            // Invalidations of evicted keys go before the reply.
            super::tracking::deliver(srv, clients, Some(client));
        }
        crate::scripting::PRE_COMMAND_OOM.store(oom, std::sync::atomic::Ordering::Relaxed);
        if oom {
            let name = srv.commands.names[cmd_id].as_str();
            let refuse = if client.has(cflags::MULTI)
                && !matches!(name, "exec" | "discard" | "quit" | "reset")
            {
                true
            } else {
                crate::commands::scripting::effective_flags(srv, client, &argv, cmd_flags)
                    & flags::DENYOOM
                    != 0
            };
            if refuse {
                reject(srv, client, Some(cmd_id), super::evict::OOM_ERR);
                return Outcome::Done;
            }
        }
    }

    // MISCONF: no writes (nor PING, as Redis) while data can't be persisted.
    if (cmd_flags & flags::WRITE != 0 || spec.name == "ping") && !client.has(cflags::MASTER) {
        if let Some(e) = crate::persistence::disk_error(srv) {
            reject(srv, client, Some(cmd_id), &e);
            return Outcome::Done;
        }
    }

    // -NOREPLICAS, -READONLY (a read-only replica), -MASTERDOWN.
    if let Some(e) = crate::replication::reject_command(srv, client, spec.name, &argv, cmd_flags) {
        if spec.name == "exec" && client.has(cflags::MULTI) {
            // The transaction is discarded (execCommandAbort).
            crate::commands::tx::reset_transaction(srv, client);
            let msg = format!("EXECABORT Transaction discarded because of: {e}");
            reject(srv, client, Some(cmd_id), &msg);
        } else {
            reject(srv, client, Some(cmd_id), e);
        }
        return Outcome::Done;
    }

    // While the dataset loads, only commands flagged "loading" run.
    if srv.loading && cmd_flags & flags::LOADING == 0 {
        reject(
            srv,
            client,
            Some(cmd_id),
            "LOADING Redis is loading the dataset in memory",
        );
        return Outcome::Done;
    }

    // A script past busy-reply-threshold: only allow-busy commands run.
    if cmd_flags & flags::ALLOW_BUSY == 0 {
        if let Some(msg) = crate::scripting::busy::busy_error() {
            reject(srv, client, Some(cmd_id), msg);
            return Outcome::Done;
        }
    }

    if client.has(cflags::MULTI) {
        if cmd_flags & flags::NO_MULTI != 0 {
            reject(
                srv,
                client,
                Some(cmd_id),
                "ERR Command not allowed inside a transaction",
            );
            return Outcome::Done;
        }
        // Inside MULTI everything but the transaction commands is queued.
        if !matches!(
            spec.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        ) {
            client.ext.multi_queue.push(argv);
            client.reply.raw(b"+QUEUED\r\n");
            return Outcome::Done;
        }
    }

    call(
        srv,
        clients,
        client,
        &argv,
        cmd_id,
        cmd_flags,
        spec.handler,
        now,
    );
    Outcome::Done
}

/// Execute a resolved command and do the bookkeeping around it.
#[allow(clippy::too_many_arguments)]
pub fn call(
    srv: &mut Server,
    clients: &mut Clients,
    client: &mut Client,
    argv: &[Bytes],
    cmd_id: usize,
    cmd_flags: u32,
    handler: crate::commands::Handler,
    now: i64,
) {
    let dirty_before = srv.dirty;
    // Propagation: where this call may propagate (narrowed by a script's
    // redis.set_repl), a forced propagation (PUBLISH), and the start of
    // the execution unit a top-level command forms.
    let targets = std::mem::replace(&mut srv.call_targets, propagate::ALL);
    let saved_force = std::mem::take(&mut srv.force_propagate);
    let top_level = CALL_DEPTH.with(|d| d.replace(d.get() + 1)) == 0;
    let prop_start = srv.propagated.len();
    let reply_mark = client.reply.buf.len();
    client.reply.pushed = false;
    // Errors of commands run inside this one (EXEC, scripts) count for
    // them, not for this one: keep the caller's flag and restore it.
    let outer_error = std::mem::replace(&mut srv.stats.cur_cmd_error, false);
    if client.reply_mode == ReplyMode::Skip {
        client.reply_mode = ReplyMode::SkipThis;
    }
    // Set before running, so CLIENT LIST shows the command in progress.
    client.last_cmd.clear();
    client.last_cmd.push_str(&srv.commands.names[cmd_id]);
    // A tracking client's command: a script it runs that reads data makes
    // the script's declared keys tracked (see below).
    let tracking_caller = client.id != 0;
    let saved_caller = if tracking_caller {
        let caller = (client.has(cflags::TRACKING) && !client.has(cflags::TRACKING_BCAST))
            .then(|| (client.id, client.flags, argv.to_vec()));
        Some(std::mem::replace(&mut srv.tracking.script_caller, caller))
    } else {
        None
    };
    // Scripts are shown to MONITOR before the commands they run (Redis's
    // eval/fcall feed monitors themselves; their table entries skip it).
    if !srv.monitors.is_empty()
        && matches!(
            srv.commands.names[cmd_id].as_str(),
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
        )
    {
        feed_monitors(srv, clients, client, argv, now);
    }
    let start = std::time::Instant::now();
    {
        let mut ctx = Ctx {
            srv,
            client,
            clients,
            now,
        };
        // A bug in one command must not take the server down with it.
        let res =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&mut ctx, argv)));
        if res.is_err() {
            tracing::warn!(
                "Internal error while running '{}'",
                String::from_utf8_lossy(&argv[0])
            );
            ctx.error("ERR internal error");
        }
    }
    let elapsed = start.elapsed();
    let dur_us = elapsed.as_micros() as i64;
    CALL_DEPTH.with(|d| d.set(d.get() - 1));

    // CLIENT REPLY OFF/SKIP: drop what the command wrote, unless it is
    // RESP3 push data (subscribe confirmations), which Redis still sends.
    let keep = client.reply.pushed;
    match client.reply_mode {
        ReplyMode::Off if !keep => client.reply.buf.truncate(reply_mark.max(client.sent)),
        ReplyMode::SkipThis => {
            if !keep {
                client.reply.buf.truncate(reply_mark.max(client.sent));
            }
            client.reply_mode = ReplyMode::On;
        }
        _ => {}
    }

    let st = &mut srv.stats.cmd[cmd_id];
    st.calls += 1;
    st.usec += dur_us as u64;
    if std::mem::replace(&mut srv.stats.cur_cmd_error, outer_error) {
        st.failed_calls += 1;
    }
    srv.stats.total_commands_processed += 1;
    client.commands_processed += 1;
    if srv.config.latency_tracking {
        srv.stats.record_latency(cmd_id, elapsed.as_nanos() as u64);
    }

    if cmd_flags & flags::SKIP_SLOWLOG == 0
        && srv.config.slowlog_log_slower_than >= 0
        && dur_us >= srv.config.slowlog_log_slower_than
    {
        srv.add_slowlog(argv, dur_us, client);
    }

    srv.drain_expired();

    // Client-side caching: remember the keys a tracking client read. A
    // read from a script counts for the keys the script declared, on
    // behalf of the client running it; the read-only script commands
    // themselves track nothing.
    if let Some(saved) = saved_caller {
        srv.tracking.script_caller = saved;
    }
    if cmd_flags & flags::READONLY != 0
        && srv.tracking.clients() > 0
        && !matches!(
            srv.commands.names[cmd_id].as_str(),
            "eval_ro" | "evalsha_ro" | "fcall_ro"
        )
    {
        if !tracking_caller {
            if let Some((id, fl, a)) = srv.tracking.script_caller.clone() {
                super::tracking::remember_keys(srv, id, fl, &a);
            }
        } else if client.has(cflags::TRACKING) && !client.has(cflags::TRACKING_BCAST) {
            super::tracking::remember_keys(srv, client.id, client.flags, argv);
        }
    }

    let also = std::mem::take(&mut srv.also_propagate);
    for (db, a) in also {
        srv.propagate(db, a);
    }
    let over = srv.propagate_override.take();
    let force = std::mem::replace(&mut srv.force_propagate, saved_force);
    let changed = if srv.dirty > dirty_before {
        propagate::ALL
    } else {
        0
    };
    let target = (changed | force) & targets;
    if target != 0 {
        let db = client.db;
        match over {
            // An empty override: the command's effects were propagated
            // as the commands it ran (scripts, EXEC).
            Some(a) if a.is_empty() => {}
            Some(a) => srv.propagate_to(db, a, target),
            None => srv.propagate_to(db, argv.to_vec(), target),
        }
    }
    // An execution unit that propagated several commands (a transaction,
    // a script, a write that also deleted an expired key) is replayed
    // atomically, except for SCAN and RANDOMKEY whose expired-key
    // deletions are independent (Redis's touches-arbitrary-keys).
    if top_level
        && srv.propagated.len() > prop_start + 1
        && !matches!(srv.commands.names[cmd_id].as_str(), "scan" | "randomkey")
    {
        srv.wrap_propagated_in_transaction(prop_start);
    }

    if !srv.monitors.is_empty() && cmd_flags & (flags::SKIP_MONITOR | flags::ADMIN) == 0 {
        feed_monitors(srv, clients, client, argv, now);
    }
}

/// Send a command to MONITOR clients, formatted as Redis does.
fn feed_monitors(
    srv: &mut Server,
    clients: &mut Clients,
    client: &Client,
    argv: &[Bytes],
    now_ms: i64,
) {
    let us = crate::util::ustime();
    let _ = now_ms;
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        us / 1_000_000,
        us % 1_000_000,
        client.db,
        if client.has(cflags::UNIX_SOCKET) {
            format!("unix:{}", client.laddr)
        } else if client.id == 0 && client.addr.is_empty() {
            // The scripting engine's client.
            "lua".to_string()
        } else {
            client.addr.clone()
        }
    );
    let hidden = redacted_args(argv);
    for (i, a) in argv.iter().enumerate() {
        line.push_str(" \"");
        if hidden.contains(&i) {
            line.push_str("(redacted)");
        } else {
            line.push_str(&repr(a));
        }
        line.push('"');
    }
    line.push_str("\r\n");
    let ids = srv.monitors.clone();
    for id in ids {
        if let Some(m) = clients.by_id(id) {
            m.reply.buf.extend_from_slice(line.as_bytes());
        }
    }
}

/// Positions of secrets MONITOR must not show: AUTH's arguments, HELLO's
/// and MIGRATE's AUTH/AUTH2 credentials (Redis's redactClientCommandArgument).
fn redacted_args(argv: &[Bytes]) -> Vec<usize> {
    let name = &argv[0];
    if name.eq_ignore_ascii_case(b"auth") {
        return (1..argv.len()).collect();
    }
    let hello = name.eq_ignore_ascii_case(b"hello");
    if !hello && !name.eq_ignore_ascii_case(b"migrate") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = if hello { 2 } else { 6 };
    while i < argv.len() {
        let a = &argv[i];
        if !hello && a.eq_ignore_ascii_case(b"keys") {
            break;
        }
        let n = if a.eq_ignore_ascii_case(b"auth") {
            if hello {
                2
            } else {
                1
            }
        } else if !hello && a.eq_ignore_ascii_case(b"auth2") {
            2
        } else {
            0
        };
        out.extend((i + 1..=i + n).filter(|&j| j < argv.len()));
        i += n + 1;
    }
    out
}

/// Quote bytes like Redis's sdscatrepr (without the surrounding quotes).
pub fn repr(a: &[u8]) -> String {
    let mut s = String::new();
    for &c in a {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{:02x}", c)),
        }
    }
    s
}

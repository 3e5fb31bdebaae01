//! Scripting: EVAL/EVALSHA (and _RO), SCRIPT, and Functions (FUNCTION,
//! FCALL, FCALL_RO) with their library registry.
//!
//! Libraries are kept per engine; an engine compiles a library's code and
//! runs its functions. The registry, the commands' argument handling and
//! their replies live here; engines (Lua) register in `engines()`.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::command::help_reply;
use super::{CommandSpec, Ctx};
use crate::util::{eq_ic, glob_match};

/// A loaded library: its engine, name, code and the functions it registered.
#[derive(Clone, Debug)]
pub struct Library {
    pub engine: String,
    pub name: String,
    pub code: Vec<u8>,
    pub functions: BTreeMap<String, FunctionInfo>,
}

#[derive(Clone, Debug)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    pub flags: Vec<&'static str>,
}

/// All libraries, by name.
#[derive(Default, Clone, Debug)]
pub struct Functions {
    pub libraries: BTreeMap<String, Library>,
}

/// Engines compiled into this build. A library whose shebang names another
/// engine is refused as Redis refuses an unknown engine.
pub fn engines() -> &'static [&'static str] {
    &["LUA"]
}

const FUNC: CommandSpec = CommandSpec {
    group: "scripting",
    acl: "scripting",
    since: "7.0.0",
    ..CommandSpec::DEFAULT
};

const SCRIPT: CommandSpec = CommandSpec {
    group: "scripting",
    acl: "scripting",
    since: "2.6.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "eval",
        arity: -3,
        flags: "noscript skip_monitor may_replicate no_mandatory_keys stale",
        handler: eval,
        getkeys: Some(fcall_keys),
        summary: "Execute a Lua script server side",
        ..SCRIPT
    },
    CommandSpec {
        name: "evalsha",
        arity: -3,
        flags: "noscript skip_monitor may_replicate no_mandatory_keys stale",
        handler: evalsha,
        getkeys: Some(fcall_keys),
        summary: "Execute a Lua script server side",
        ..SCRIPT
    },
    CommandSpec {
        name: "eval_ro",
        arity: -3,
        flags: "noscript skip_monitor no_mandatory_keys stale readonly",
        handler: eval_ro,
        getkeys: Some(fcall_keys),
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        ..SCRIPT
    },
    CommandSpec {
        name: "evalsha_ro",
        arity: -3,
        flags: "noscript skip_monitor no_mandatory_keys stale readonly",
        handler: evalsha_ro,
        getkeys: Some(fcall_keys),
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        ..SCRIPT
    },
    CommandSpec {
        name: "script",
        arity: -2,
        handler: super::container,
        // A container is only @slow, whatever its subcommands are.
        acl: "",
        summary: "A container for Lua scripts management commands",
        subcommands: &[
            CommandSpec { name: "debug", arity: 3, flags: "noscript", handler: script_debug, since: "3.2.0", summary: "Set the debug mode for executed scripts.", ..SCRIPT },
            CommandSpec { name: "exists", arity: -3, flags: "noscript", handler: script_exists, summary: "Check existence of scripts in the script cache.", ..SCRIPT },
            CommandSpec { name: "flush", arity: -2, flags: "noscript", handler: script_flush, summary: "Remove all the scripts from the script cache.", ..SCRIPT },
            CommandSpec { name: "help", arity: 2, flags: "loading stale", handler: script_help, since: "5.0.0", summary: "Show helpful text about the different subcommands", ..SCRIPT },
            CommandSpec { name: "kill", arity: 2, flags: "noscript allow_busy", handler: kill, summary: "Kill the script currently in execution.", ..SCRIPT },
            CommandSpec { name: "load", arity: 3, flags: "noscript stale", handler: script_load, summary: "Load the specified Lua script into the script cache.", ..SCRIPT },
        ],
        ..SCRIPT
    },
    CommandSpec {
        name: "function",
        arity: -2,
        handler: super::container,
        // A container is only @slow, whatever its subcommands are.
        acl: "",
        summary: "A container for function commands",
        subcommands: &[
            CommandSpec { name: "delete", arity: 3, flags: "noscript write", handler: delete, summary: "Delete a function by name", ..FUNC },
            CommandSpec { name: "dump", arity: 2, flags: "noscript", handler: dump, summary: "Dump all functions into a serialized binary payload", ..FUNC },
            CommandSpec { name: "flush", arity: -2, flags: "noscript write", handler: flush, summary: "Deleting all functions", ..FUNC },
            CommandSpec { name: "help", arity: 2, flags: "loading stale", handler: help, summary: "Show helpful text about the different subcommands", ..FUNC },
            CommandSpec { name: "kill", arity: 2, flags: "noscript allow_busy", handler: kill, summary: "Kill the function currently in execution.", ..FUNC },
            CommandSpec { name: "list", arity: -2, flags: "noscript", handler: list, summary: "List information about all the functions", tips: &["nondeterministic_output_order"], ..FUNC },
            CommandSpec { name: "load", arity: -3, flags: "noscript write denyoom", handler: load, summary: "Create a function with the given arguments (name, code, description)", ..FUNC },
            CommandSpec { name: "restore", arity: -3, flags: "noscript write denyoom", handler: restore, summary: "Restore all the functions on the given payload", ..FUNC },
            CommandSpec { name: "stats", arity: 2, flags: "noscript allow_busy", handler: stats, summary: "Return information about the function currently running (name, description, duration)", tips: &["nondeterministic_output_order"], ..FUNC },
        ],
        ..FUNC
    },
    CommandSpec {
        name: "fcall",
        arity: -3,
        flags: "noscript skip_monitor may_replicate no_mandatory_keys stale",
        handler: fcall,
        getkeys: Some(fcall_keys),
        summary: "Invoke a function",
        ..FUNC
    },
    CommandSpec {
        name: "fcall_ro",
        arity: -3,
        flags: "noscript skip_monitor no_mandatory_keys stale readonly",
        handler: fcall,
        getkeys: Some(fcall_keys),
        summary: "Invoke a read-only function",
        ..FUNC
    },
];

/// Flags from an EVAL script's `#!lua flags=...` line; Ok(None) without one.
fn shebang_flags(body: &[u8]) -> Result<Option<Vec<String>>, String> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let end = memchr::memchr(b'\n', body).ok_or("Invalid script shebang")?;
    let parts = crate::protocol::parse::split_args(&body[..end])
        .ok_or("Invalid engine in script shebang")?;
    if parts.is_empty() {
        return Err("Invalid engine in script shebang".into());
    }
    if parts[0] != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = Vec::new();
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        };
        // "flags=" alone declares no flags.
        for f in list.split(|&c| c == b',').filter(|_| !list.is_empty()) {
            let f = String::from_utf8_lossy(f).into_owned();
            if ![
                "no-writes",
                "allow-oom",
                "allow-stale",
                "no-cluster",
                "allow-cross-slot-keys",
            ]
            .contains(&f.as_str())
            {
                return Err(format!("Unexpected flag in script shebang: {f}"));
            }
            flags.push(f);
        }
    }
    Ok(Some(flags))
}

/// A command's flags as declared by the script it runs (Redis's
/// scriptFlagsToCmdFlags): the script's flags replace write, deny-oom and
/// stale.
fn script_flags_to_cmd_flags(cmd_flags: u32, script: &[impl AsRef<str>]) -> u32 {
    use super::flags;
    let has = |f: &str| script.iter().any(|x| x.as_ref() == f);
    let mut out =
        cmd_flags & !(flags::STALE | flags::DENYOOM | flags::WRITE | flags::MAY_REPLICATE);
    if !has("allow-oom") && !has("no-writes") {
        out |= flags::DENYOOM;
    }
    if !has("no-writes") {
        out |= flags::WRITE;
    }
    if has("allow-stale") {
        out |= flags::STALE;
    }
    out
}

/// The flags a command runs with (Redis's getCommandFlags): EVAL of a
/// script with a shebang and FCALL take their script's flags, EXEC those
/// of the commands it queued.
pub fn effective_flags(
    srv: &crate::server::Server,
    client: &crate::server::Client,
    argv: &[Bytes],
    cmd_flags: u32,
) -> u32 {
    let Some(cmd) = srv.commands.lookup(argv) else {
        return cmd_flags;
    };
    match cmd.spec.name {
        "exec" => client
            .ext
            .multi_queue
            .iter()
            .filter(|a| !a.is_empty() && !a[0].eq_ignore_ascii_case(b"exec"))
            .filter_map(|a| srv.commands.lookup(a).map(|c| (a, c.flags)))
            .fold(cmd_flags, |acc, (a, f)| {
                acc | effective_flags(srv, client, a, f)
            }),
        "eval" | "eval_ro" | "evalsha" | "evalsha_ro" if argv.len() > 1 => {
            let body = if cmd.spec.name.starts_with("evalsha") {
                let sha = crate::scripting::sha_key(&argv[1]);
                match sha.and_then(|k| srv.lua.as_ref()?.script_body(&k)) {
                    Some(b) => b.clone(),
                    None => return cmd_flags,
                }
            } else {
                argv[1].clone()
            };
            match shebang_flags(&body) {
                Ok(Some(f)) => script_flags_to_cmd_flags(cmd_flags, &f),
                _ => cmd_flags,
            }
        }
        "fcall" | "fcall_ro" if argv.len() > 1 => match find_function(&srv.functions, &argv[1]) {
            Some(f) => script_flags_to_cmd_flags(cmd_flags, &f.flags),
            None => cmd_flags,
        },
        _ => cmd_flags,
    }
}

/// Checks before a script that declared its flags (a shebang, or any
/// function) runs; replies the error itself (scriptPrepareForRun).
fn script_may_run(ctx: &mut Ctx, script: &[impl AsRef<str>], ro: bool) -> bool {
    let has = |f: &str| script.iter().any(|x| x.as_ref() == f);
    if !has("no-writes") {
        if let Some(e) = crate::persistence::disk_error(ctx.srv) {
            let msg = match e.strip_prefix("MISCONF Errors writing to the AOF file: ") {
                Some(why) => format!("MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {why}"),
                None => "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".to_string(),
            };
            ctx.error(&msg);
            return false;
        }
        if ro {
            ctx.error("ERR Can not execute a script with write flag using *_ro command.");
            return false;
        }
    }
    if ctx.srv.config.maxmemory > 0
        && crate::scripting::PRE_COMMAND_OOM.load(std::sync::atomic::Ordering::Relaxed)
        && !has("allow-oom")
        && !has("no-writes")
    {
        ctx.error("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'");
        return false;
    }
    true
}

/// Check numkeys and split KEYS / ARGV; replies the error itself.
fn split_keys<'a>(ctx: &mut Ctx, argv: &'a [Bytes]) -> Option<(&'a [Bytes], &'a [Bytes])> {
    let n = if argv[0].len() >= 5 && argv[0][..5].eq_ignore_ascii_case(b"fcall") {
        let Some(n) = crate::util::parse_i64(&argv[2]) else {
            ctx.error("ERR Bad number of keys provided");
            return None;
        };
        n
    } else {
        ctx.int_arg(&argv[2])?
    };
    if n > (argv.len() - 3) as i64 {
        ctx.error("ERR Number of keys can't be greater than number of args");
        return None;
    }
    if n < 0 {
        ctx.error("ERR Number of keys can't be negative");
        return None;
    }
    let n = n as usize;
    Some((&argv[3..3 + n], &argv[3 + n..]))
}

fn engine(ctx: &mut Ctx) -> Option<Box<crate::scripting::LuaEngine>> {
    if let Some(e) = ctx.srv.lua.take() {
        return Some(e);
    }
    match crate::scripting::LuaEngine::new() {
        Ok(e) => Some(Box::new(e)),
        Err(e) => {
            let msg = format!("ERR Lua engine failed to start: {e}");
            ctx.error(&msg);
            None
        }
    }
}

fn eval_generic(ctx: &mut Ctx, argv: &[Bytes], by_sha: bool, ro: bool) {
    let Some((keys, args)) = split_keys(ctx, argv) else {
        return;
    };
    let Some(mut eng) = engine(ctx) else { return };
    let sha = if by_sha {
        match crate::scripting::sha_key(&argv[1]).filter(|k| eng.exists(k)) {
            Some(k) => k,
            None => {
                ctx.srv.lua = Some(eng);
                ctx.error("NOSCRIPT No matching script. Please use EVAL.");
                return;
            }
        }
    } else {
        match eng.load(&argv[1]) {
            Ok(s) => s,
            Err(e) => {
                ctx.srv.lua = Some(eng);
                ctx.error(&e);
                return;
            }
        }
    };
    let body = eng.script_body(&sha).cloned().unwrap_or_default();
    let flags = match shebang_flags(&body) {
        Ok(f) => f,
        Err(e) => {
            ctx.srv.lua = Some(eng);
            ctx.error(&format!("ERR {e}"));
            return;
        }
    };
    let no_writes = flags
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == "no-writes"));
    let allow_oom = flags
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == "allow-oom"));
    if let Some(f) = &flags {
        if !script_may_run(ctx, f, ro) {
            ctx.srv.lua = Some(eng);
            return;
        }
        if let Some(e) =
            crate::replication::script_write_error(ctx.srv, true).filter(|_| !no_writes)
        {
            ctx.srv.lua = Some(eng);
            ctx.error(e);
            return;
        }
    } else if crate::scripting::running_stale(ctx.srv) {
        // A script without a shebang (EVAL's compatibility mode) is let in
        // by EVAL's stale flag but refused here, as Redis does.
        ctx.srv.lua = Some(eng);
        ctx.error(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        );
        return;
    }
    crate::scripting::busy::set_command(argv);
    let res = eng.run(ctx, &sha, keys, args, ro || no_writes, allow_oom);
    ctx.srv.lua = Some(eng);
    // The commands the script ran were propagated one by one.
    ctx.srv.propagate_override = Some(Vec::new());
    reply_run_result(ctx, res);
}

/// A script's result as the command's reply.
fn reply_run_result(ctx: &mut Ctx, res: crate::scripting::RunResult) {
    use crate::scripting::RunResult;
    match res {
        RunResult::Replied => {}
        RunResult::Error(e) => ctx.error(&e),
        RunResult::ErrorCounted(e) => {
            // Not in the error statistics again, but the command failed.
            ctx.srv.stats.cur_cmd_error = true;
            ctx.reply().error_raw(&e);
        }
    }
}

fn eval(ctx: &mut Ctx, argv: &[Bytes]) {
    match crate::scripting::ldb::mode(ctx.client.id) {
        Some(mode) => eval_debug(ctx, argv, mode),
        None => eval_generic(ctx, argv, false, false),
    }
}

fn evalsha(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv[1].len() != 40 {
        return ctx.error("NOSCRIPT No matching script. Please use EVAL.");
    }
    if crate::scripting::ldb::mode(ctx.client.id).is_some() {
        return ctx.error("ERR Please use EVAL instead of EVALSHA for debugging");
    }
    eval_generic(ctx, argv, true, false);
}

/// SCRIPT DEBUG YES|SYNC|NO: how this client's next EVAL is debugged.
fn script_debug(ctx: &mut Ctx, argv: &[Bytes]) {
    use crate::scripting::ldb::{set_mode, DebugMode};
    if ctx.client.pending_output() > 0 {
        return ctx.error("ERR SCRIPT DEBUG must be called outside a pipeline");
    }
    let mode = match argv[2].to_ascii_lowercase().as_slice() {
        b"no" => None,
        b"yes" => Some(DebugMode::Fork),
        b"sync" => Some(DebugMode::Sync),
        _ => return ctx.error("ERR Use SCRIPT DEBUG YES/SYNC/NO"),
    };
    set_mode(ctx.client.id, mode);
    ctx.reply().ok();
}

/// EVAL in a debugging session: the session talks to the client socket
/// directly, then the EVAL reply goes out and the connection closes. In
/// YES mode the session runs in a forked child, so the server goes on and
/// the script's changes are lost with the child.
fn eval_debug(ctx: &mut Ctx, argv: &[Bytes], mode: crate::scripting::ldb::DebugMode) {
    use crate::scripting::ldb;
    ldb::set_mode(ctx.client.id, None);
    let fd = ctx.client.conn.fd();
    if fd < 0 {
        return eval_generic(ctx, argv, false, false);
    }
    // Earlier replies first: the session writes to the socket itself.
    ldb::write_all(fd, &ctx.client.reply.buf[ctx.client.sent..]);
    ctx.client.reply.buf.clear();
    ctx.client.sent = 0;
    let forked = mode == ldb::DebugMode::Fork;
    if forked {
        match fork_debug_session(ctx, fd) {
            Err(e) => {
                return ctx.error(&format!(
                    "ERR Fork() failed: can't run EVAL in debugging mode: {e}"
                ))
            }
            Ok(false) => return,
            Ok(true) => {}
        }
    } else {
        tracing::warn!("Redis synchronous debugging eval session started");
    }
    ldb::start(fd, &argv[1]);
    eval_generic(ctx, argv, false, false);
    ldb::end();
    if forked {
        ldb::write_all(fd, &ctx.client.reply.buf[ctx.client.sent..]);
        tracing::warn!("Lua debugging session child exiting");
        // SAFETY: the session process leaves without the server's cleanup.
        unsafe { libc::_exit(0) };
    }
    tracing::warn!("Redis synchronous debugging eval session ended");
    ctx.client.flags |= crate::server::client::cflags::CLOSE_AFTER_REPLY;
}

/// Fork the process that runs a YES-mode session: Ok(true) in it, Ok(false)
/// in the server, which gives the connection up. The fork is double, so
/// the session (reparented) never waits to be reaped by the server.
fn fork_debug_session(ctx: &mut Ctx, fd: i32) -> Result<bool, String> {
    // SAFETY: as for the RDB child: the reactor thread forks; the children
    // use only what they inherited and _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    if pid == 0 {
        // SAFETY: fork again, leaving at once in the middle process.
        let session = unsafe { libc::fork() };
        if session != 0 {
            unsafe { libc::_exit(i32::from(session < 0)) };
        }
        if let Ok(mut r) = crate::server::log::ROLE.lock() {
            *r = 'C';
        }
        // SAFETY: ignoring signals the server handles; closing listeners
        // so a dead server's clients are refused rather than queued.
        unsafe {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            libc::signal(libc::SIGINT, libc::SIG_IGN);
        }
        crate::server::reactor::close_listeners(ctx.srv, false);
        tracing::warn!("Redis forked for debugging eval");
        return Ok(true);
    }
    let mut status = 0;
    // SAFETY: reaping the middle process we just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err("fork of the session failed".into());
    }
    // The connection is the session's now. Closing the client here shuts
    // its socket down, so an unconnected socket takes over our descriptor.
    if !ctx.srv.poll_ptr.is_null() {
        use std::os::fd::AsRawFd;
        // SAFETY: the reactor's Poll outlives commands; removing one fd.
        let epfd = unsafe { &*ctx.srv.poll_ptr }.as_raw_fd();
        unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
    }
    // SAFETY: replacing our own descriptor with a fresh socket.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if s >= 0 {
            libc::dup2(s, fd);
            libc::close(s);
        }
    }
    ctx.client.flags |= crate::server::client::cflags::CLOSE_ASAP;
    Ok(false)
}

fn eval_ro(ctx: &mut Ctx, argv: &[Bytes]) {
    eval_generic(ctx, argv, false, true);
}

fn evalsha_ro(ctx: &mut Ctx, argv: &[Bytes]) {
    eval_generic(ctx, argv, true, true);
}

fn script_load(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(mut eng) = engine(ctx) else { return };
    let res = eng.load(&argv[2]);
    ctx.srv.lua = Some(eng);
    match res {
        Ok(sha) => ctx.reply().bulk(&sha),
        Err(e) => ctx.error(&e),
    }
}

fn script_exists(ctx: &mut Ctx, argv: &[Bytes]) {
    let found: Vec<bool> = argv[2..]
        .iter()
        .map(|a| {
            ctx.srv
                .lua
                .as_ref()
                .zip(crate::scripting::sha_key(a))
                .is_some_and(|(e, k)| e.exists(&k))
        })
        .collect();
    let r = ctx.reply();
    r.array(found.len());
    for f in found {
        r.int(f as i64);
    }
}

fn script_flush(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 3 || (argv.len() == 3 && !eq_ic(&argv[2], "sync") && !eq_ic(&argv[2], "async"))
    {
        ctx.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    if let Some(e) = ctx.srv.lua.as_mut() {
        e.flush();
    }
    ctx.reply().ok();
}

fn script_help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Print this help.",
        ],
    );
}

/// Keys of FCALL: `numkeys` names after the function name.
fn fcall_keys(argv: &[Bytes]) -> Vec<usize> {
    let n = argv
        .get(2)
        .and_then(|a| crate::util::parse_i64(a))
        .unwrap_or(0);
    if n <= 0 || (n as usize) > argv.len().saturating_sub(3) {
        return Vec::new();
    }
    (3..3 + n as usize).collect()
}

/// Split the `#!<engine> name=<lib>` shebang of a library's code
/// (functionExtractLibMetaData).
/// The library name in a function library's `#!` line.
pub fn library_name(code: &[u8]) -> Option<String> {
    parse_metadata(code).ok().map(|(_, name)| name)
}

fn parse_metadata(code: &[u8]) -> Result<(String, String), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let invalid = || "Invalid library metadata".to_string();
    let end = memchr::memchr(b'\n', code).ok_or_else(invalid)?;
    let parts = crate::protocol::parse::split_args(&code[..end]).ok_or_else(invalid)?;
    if parts.is_empty() {
        return Err(invalid());
    }
    let engine = String::from_utf8_lossy(parts[0].get(2..).unwrap_or_default()).into_owned();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
        } else {
            return Err(format!(
                "Invalid metadata value given: {}",
                String::from_utf8_lossy(p)
            ));
        }
    }
    name.map(|n| (engine, n))
        .ok_or_else(|| "Library name was not given".into())
}

fn load(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut replace = false;
    let mut i = 2;
    while i < argv.len() - 1 {
        if eq_ic(&argv[i], "replace") {
            replace = true;
            i += 1;
        } else {
            let msg = format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(&argv[i])
            );
            ctx.error(&msg);
            return;
        }
    }
    if i >= argv.len() {
        ctx.error("ERR Function code is missing");
        return;
    }
    let code = &argv[i];
    let (engine, name) = match parse_metadata(code) {
        Ok(m) => m,
        Err(e) => {
            ctx.error(&format!("ERR {e}"));
            return;
        }
    };
    match install_library(ctx.srv, code, replace) {
        Ok(name) => {
            ctx.dirty(1);
            ctx.reply().bulk(name.as_bytes());
        }
        Err(e) => ctx.error(&e),
    }
    let _ = (engine, name);
}

/// Compile a library's code and add it to the registry (FUNCTION LOAD and
/// RESTORE). Returns the library name, or the error reply.
pub fn install_library(
    srv: &mut crate::server::Server,
    code: &[u8],
    replace: bool,
) -> Result<String, String> {
    let (engine, name) = parse_metadata(code).map_err(|e| format!("ERR {e}"))?;
    if !engines().iter().any(|e| e.eq_ignore_ascii_case(&engine)) {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !replace && srv.functions.libraries.contains_key(&name) {
        return Err(format!("ERR Library '{name}' already exists"));
    }
    let body = match memchr::memchr(b'\n', code) {
        Some(i) => &code[i..],
        None => &code[code.len()..],
    };
    let Some(mut eng) = srv
        .lua
        .take()
        .or_else(|| crate::scripting::LuaEngine::new().ok().map(Box::new))
    else {
        return Err("ERR Lua engine failed to start".into());
    };
    let regs = eng.load_library(body);
    let result = regs.and_then(|regs| {
        for r in &regs {
            let owner = srv.functions.libraries.values().find(|l| {
                l.name != name && l.functions.keys().any(|f| f.eq_ignore_ascii_case(&r.name))
            });
            if owner.is_some() {
                return Err(format!("ERR Function {} already exists", r.name));
            }
        }
        if let Some(old) = srv.functions.libraries.remove(&name) {
            for f in old.functions.keys() {
                eng.lib_funcs.remove(f);
            }
        }
        let mut functions = BTreeMap::new();
        for r in regs {
            functions.insert(
                r.name.clone(),
                FunctionInfo {
                    name: r.name.clone(),
                    description: r.description,
                    flags: r.flags,
                },
            );
            eng.lib_funcs.insert(r.name, r.callback);
        }
        srv.functions.libraries.insert(
            name.clone(),
            Library {
                engine: "LUA".into(),
                name: name.clone(),
                code: code.to_vec(),
                functions,
            },
        );
        Ok(name)
    });
    srv.lua = Some(eng);
    result
}

/// Forget the compiled functions of removed libraries.
fn drop_library_functions(ctx: &mut Ctx, lib: &Library) {
    if let Some(eng) = ctx.srv.lua.as_mut() {
        for f in lib.functions.keys() {
            eng.lib_funcs.remove(f);
        }
    }
}

fn delete(ctx: &mut Ctx, argv: &[Bytes]) {
    let name = String::from_utf8_lossy(&argv[2]).into_owned();
    let Some(lib) = ctx.srv.functions.libraries.remove(&name) else {
        ctx.error("ERR Library not found");
        return;
    };
    drop_library_functions(ctx, &lib);
    ctx.dirty(1);
    ctx.reply().ok();
}

fn flush(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 3 {
        ctx.error(
            "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
        );
        return;
    }
    if argv.len() == 3 && !eq_ic(&argv[2], "sync") && !eq_ic(&argv[2], "async") {
        ctx.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    flush_libraries(ctx);
    ctx.dirty(1);
    ctx.reply().ok();
}

fn flush_libraries(ctx: &mut Ctx) {
    clear_functions(ctx.srv);
}

/// Drop every function library (FUNCTION FLUSH, a reload from disk).
pub fn clear_functions(srv: &mut crate::server::Server) {
    srv.functions.libraries.clear();
    if let Some(eng) = srv.lua.as_mut() {
        eng.lib_funcs.clear();
    }
}

fn list(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut with_code = false;
    let mut pattern: Option<Vec<u8>> = None;
    let mut i = 2;
    while i < argv.len() {
        if !with_code && eq_ic(&argv[i], "withcode") {
            with_code = true;
        } else if pattern.is_none() && eq_ic(&argv[i], "libraryname") {
            if i >= argv.len() - 1 {
                ctx.error("ERR library name argument was not given");
                return;
            }
            i += 1;
            pattern = Some(argv[i].to_vec());
        } else {
            let msg = format!("ERR Unknown argument {}", String::from_utf8_lossy(&argv[i]));
            ctx.error(&msg);
            return;
        }
        i += 1;
    }
    let libs: Vec<Library> = ctx
        .srv
        .functions
        .libraries
        .values()
        .filter(|l| {
            pattern
                .as_ref()
                .is_none_or(|p| glob_match(p, l.name.as_bytes(), false))
        })
        .cloned()
        .collect();
    let r = ctx.reply();
    r.array(libs.len());
    for l in libs {
        r.map(if with_code { 4 } else { 3 });
        r.bulk(b"library_name");
        r.bulk(l.name.as_bytes());
        r.bulk(b"engine");
        r.bulk(l.engine.as_bytes());
        r.bulk(b"functions");
        r.array(l.functions.len());
        for f in l.functions.values() {
            r.map(3);
            r.bulk(b"name");
            r.bulk(f.name.as_bytes());
            r.bulk(b"description");
            match &f.description {
                Some(d) => r.bulk(d.as_bytes()),
                None => r.null(),
            }
            r.bulk(b"flags");
            r.set(f.flags.len());
            for fl in &f.flags {
                r.status(fl);
            }
        }
        if with_code {
            r.bulk(b"library_code");
            r.bulk(&l.code);
        }
    }
}

fn stats(ctx: &mut Ctx, _argv: &[Bytes]) {
    let mut counts: BTreeMap<&str, (usize, usize)> =
        engines().iter().map(|e| (*e, (0, 0))).collect();
    for l in ctx.srv.functions.libraries.values() {
        if let Some(c) = counts.get_mut(l.engine.as_str()) {
            c.0 += 1;
            c.1 += l.functions.len();
        }
    }
    let running = crate::scripting::busy::running_info();
    if running.as_ref().is_some_and(|r| r.3) {
        ctx.error(crate::scripting::busy::SLOWEVAL);
        return;
    }
    let r = ctx.reply();
    r.map(2);
    r.bulk(b"running_script");
    match running {
        None => r.null(),
        Some((name, command, ms, _)) => {
            r.map(3);
            r.bulk(b"name");
            r.bulk(name.as_bytes());
            r.bulk(b"command");
            r.array(command.len());
            for a in &command {
                r.bulk(a);
            }
            r.bulk(b"duration_ms");
            r.int(ms as i64);
        }
    }
    r.bulk(b"engines");
    r.map(counts.len());
    for (e, (libs, funcs)) in counts {
        r.bulk(e.to_ascii_uppercase().as_bytes());
        r.map(2);
        r.bulk(b"libraries_count");
        r.int(libs as i64);
        r.bulk(b"functions_count");
        r.int(funcs as i64);
    }
}

/// SCRIPT KILL and FUNCTION KILL (served while a script is busy).
fn kill(ctx: &mut Ctx, argv: &[Bytes]) {
    match crate::scripting::busy::kill(argv[0].eq_ignore_ascii_case(b"script")) {
        Ok(()) => ctx.reply().ok(),
        Err(e) => ctx.error(e),
    }
}

const RDB_VERSION: u16 = 10;
const RDB_OPCODE_FUNCTION2: u8 = 245;

fn crc64(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(data)
}

/// Length-prefixed string in RDB encoding (plain form).
fn rdb_string(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn dump(ctx: &mut Ctx, _argv: &[Bytes]) {
    let mut out = Vec::new();
    for l in ctx.srv.functions.libraries.values() {
        out.push(RDB_OPCODE_FUNCTION2);
        rdb_string(&mut out, &l.code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    ctx.reply().bulk(&out);
}

fn restore(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 4 {
        ctx.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
            String::from_utf8_lossy(&argv[1])
        ));
        return;
    }
    if let Some(p) = argv.get(3) {
        if !(eq_ic(p, "flush") || eq_ic(p, "append") || eq_ic(p, "replace")) {
            ctx.error(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            );
            return;
        }
    }
    let data = &argv[2];
    if data.len() < 10 {
        ctx.error("ERR DUMP payload version or checksum are wrong");
        return;
    }
    let (body, footer) = data.split_at(data.len() - 10);
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..10].try_into().unwrap_or([0; 8]));
    if ver > RDB_VERSION || crc64(&data[..data.len() - 8]) != crc {
        ctx.error("ERR DUMP payload version or checksum are wrong");
        return;
    }
    let mut codes = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        if body[pos] != RDB_OPCODE_FUNCTION2 {
            ctx.error("ERR given type is not a function");
            return;
        }
        pos += 1;
        match read_rdb_string(body, &mut pos) {
            Some(c) => codes.push(c),
            None => {
                ctx.error("ERR payload is not valid");
                return;
            }
        }
    }
    let policy = argv
        .get(3)
        .map(|p| String::from_utf8_lossy(p).to_ascii_lowercase())
        .unwrap_or_else(|| "append".into());
    // All or nothing: restore into a copy, keep it only if every library loads.
    let saved_libs = ctx.srv.functions.clone();
    let saved_funcs = ctx.srv.lua.as_ref().map(|e| e.lib_funcs.clone());
    if policy == "flush" {
        flush_libraries(ctx);
    }
    for code in codes {
        let res = match parse_metadata(&code) {
            // RESTORE words this collision unlike LOAD (libraryJoin).
            Ok((_, name))
                if policy != "replace" && ctx.srv.functions.libraries.contains_key(&name) =>
            {
                Err(format!("ERR Library {name} already exists"))
            }
            _ => install_library(ctx.srv, &code, policy == "replace"),
        };
        if let Err(e) = res {
            ctx.srv.functions = saved_libs;
            if let (Some(eng), Some(f)) = (ctx.srv.lua.as_mut(), saved_funcs) {
                eng.lib_funcs = f;
            }
            ctx.error(&e);
            return;
        }
    }
    ctx.dirty(1);
    ctx.reply().ok();
}

/// An RDB length-prefixed string (plain or LZF-compressed).
fn read_rdb_string(b: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    fn len(b: &[u8], pos: &mut usize) -> Option<(u64, bool)> {
        let first = *b.get(*pos)?;
        *pos += 1;
        Some(match first >> 6 {
            0 => ((first & 0x3f) as u64, false),
            1 => {
                let second = *b.get(*pos)?;
                *pos += 1;
                ((((first & 0x3f) as u64) << 8) | second as u64, false)
            }
            2 if first == 0x80 => {
                let v = u32::from_be_bytes(b.get(*pos..*pos + 4)?.try_into().ok()?);
                *pos += 4;
                (v as u64, false)
            }
            2 if first == 0x81 => {
                let v = u64::from_be_bytes(b.get(*pos..*pos + 8)?.try_into().ok()?);
                *pos += 8;
                (v, false)
            }
            3 => ((first & 0x3f) as u64, true),
            _ => return None,
        })
    }
    let (n, special) = len(b, pos)?;
    if special {
        // 3 = LZF: compressed length, then original length, then data.
        if n != 3 {
            return None;
        }
        let (clen, _) = len(b, pos)?;
        let (olen, _) = len(b, pos)?;
        let data = b.get(*pos..*pos + clen as usize)?;
        *pos += clen as usize;
        return lzf::decompress(data, olen as usize).ok();
    }
    let data = b.get(*pos..*pos + n as usize)?.to_vec();
    *pos += n as usize;
    Some(data)
}

/// A function by name; names are case-insensitive, as in Redis.
fn find_function<'a>(f: &'a Functions, name: &[u8]) -> Option<&'a FunctionInfo> {
    let n = String::from_utf8_lossy(name);
    f.libraries
        .values()
        .find_map(|l| l.functions.get(n.as_ref()))
        .or_else(|| {
            f.libraries.values().find_map(|l| {
                l.functions
                    .values()
                    .find(|fi| fi.name.eq_ignore_ascii_case(&n))
            })
        })
}

fn fcall(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(info) = find_function(&ctx.srv.functions, &argv[1]).cloned() else {
        ctx.error("ERR Function not found");
        return;
    };
    let Some((keys, args)) = split_keys(ctx, argv) else {
        return;
    };
    let name = info.name.clone();
    let no_writes = info.flags.contains(&"no-writes");
    let allow_oom = info.flags.contains(&"allow-oom");
    let ro_call = argv[0].eq_ignore_ascii_case(b"fcall_ro");
    if !script_may_run(ctx, &info.flags, ro_call) {
        return;
    }
    if !no_writes {
        if let Some(e) = crate::replication::script_write_error(ctx.srv, true) {
            ctx.error(e);
            return;
        }
    }
    let Some(mut eng) = ctx.srv.lua.take() else {
        ctx.error("ERR Function not found");
        return;
    };
    crate::scripting::busy::set_command(argv);
    let res = eng.call_function(ctx, &name, keys, args, no_writes || ro_call, allow_oom);
    ctx.srv.lua = Some(eng);
    ctx.srv.propagate_override = Some(Vec::new());
    reply_run_result(ctx, res);
}

fn help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
            "HELP",
            "    Print this help.",
        ],
    );
}

//! CLIENT: connection introspection and control.

use bytes::Bytes;

use super::command::help_reply;
use super::connection::valid_client_name;
use super::{CommandSpec, Ctx};
use crate::server::client::{cflags, Client, ReplyMode};
use crate::server::PauseKind;
use crate::util::eq_ic;

const SUB: CommandSpec = CommandSpec {
    group: "connection",
    acl: "connection",
    flags: "noscript loading stale",
    ..CommandSpec::DEFAULT
};
const ADMIN: CommandSpec = CommandSpec {
    group: "connection",
    acl: "connection",
    flags: "admin noscript loading stale",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    handler: super::container,
    group: "connection",
    since: "2.4.0",
    summary: "A container for client connection commands",
    subcommands: &[
        CommandSpec { name: "id", arity: 2, handler: id, since: "5.0.0", summary: "Returns the client ID for the current connection", ..SUB },
        CommandSpec { name: "info", arity: 2, handler: info, since: "6.2.0", summary: "Returns information about the current client connection.", tips: &["nondeterministic_output"], ..SUB },
        CommandSpec { name: "list", arity: -2, handler: list, since: "2.4.0", summary: "Get the list of client connections", tips: &["nondeterministic_output"], ..ADMIN },
        CommandSpec { name: "kill", arity: -3, handler: kill, since: "2.4.0", summary: "Kill the connection of a client", ..ADMIN },
        CommandSpec { name: "setname", arity: 3, handler: setname, since: "2.6.9", summary: "Set the current connection name", ..SUB },
        CommandSpec { name: "getname", arity: 2, handler: getname, since: "2.6.9", summary: "Get the current connection name", ..SUB },
        CommandSpec { name: "pause", arity: -3, handler: pause, since: "2.9.50", summary: "Stop processing commands from clients for some time", ..ADMIN },
        CommandSpec { name: "unpause", arity: 2, handler: unpause, since: "6.2.0", summary: "Resume processing of clients that were paused", ..ADMIN },
        CommandSpec { name: "reply", arity: 3, handler: reply, since: "3.2.0", summary: "Instruct the server whether to reply to commands", ..SUB },
        CommandSpec { name: "no-evict", arity: 3, handler: no_evict, since: "7.0.0", summary: "Set client eviction mode for the current connection", ..ADMIN },
        CommandSpec { name: "no-touch", arity: 3, handler: no_touch, since: "7.2.0", summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", ..SUB },
        CommandSpec { name: "setinfo", arity: 4, handler: setinfo, since: "7.2.0", summary: "Set client or connection specific info", ..SUB },
        CommandSpec { name: "unblock", arity: -3, handler: unblock, since: "5.0.0", summary: "Unblock a client blocked in a blocking command from a different connection", ..ADMIN },
        CommandSpec { name: "tracking", arity: -3, handler: tracking, since: "6.0.0", summary: "Enable or disable server assisted client side caching support", complexity: "O(1). Some options may introduce additional complexity.", ..SUB },
        CommandSpec { name: "caching", arity: 3, handler: caching, since: "6.0.0", summary: "Instruct the server about tracking or not keys in the next request", complexity: "O(1)", ..SUB },
        CommandSpec { name: "getredir", arity: 2, handler: getredir, since: "6.0.0", summary: "Get tracking notifications redirection client ID if any", complexity: "O(1)", ..SUB },
        CommandSpec { name: "trackinginfo", arity: 2, handler: trackinginfo, since: "6.2.0", summary: "Return information about server assisted client side caching for the current connection", complexity: "O(1)", ..SUB },
        CommandSpec { name: "help", arity: 2, handler: help, since: "5.0.0", summary: "Show helpful text about the different subcommands", flags: "loading stale", ..SUB },
    ],
    ..CommandSpec::DEFAULT
}];

fn id(ctx: &mut Ctx, _argv: &[Bytes]) {
    let id = ctx.client.id as i64;
    ctx.reply().int(id);
}

fn info(ctx: &mut Ctx, _argv: &[Bytes]) {
    let line = format!("{}\n", ctx.client.info_line(ctx.now));
    ctx.reply().verbatim(line.as_bytes(), "txt");
}

/// normal / master / replica / pubsub, as CLIENT LIST TYPE names them.
fn client_type(c: &Client) -> &'static str {
    if c.has(cflags::MASTER) {
        "master"
    } else if c.has(cflags::SLAVE) && !c.has(cflags::MONITOR) {
        "replica"
    } else if c.has(cflags::PUBSUB) {
        "pubsub"
    } else {
        "normal"
    }
}

fn parse_type(name: &[u8]) -> Option<&'static str> {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    match n.as_str() {
        "normal" => Some("normal"),
        "slave" | "replica" => Some("replica"),
        "pubsub" => Some("pubsub"),
        "master" => Some("master"),
        _ => None,
    }
}

/// Every client, the running one included, in connection order.
fn all_clients<'a>(ctx: &'a Ctx) -> Vec<&'a Client> {
    let mut v: Vec<&Client> = ctx.clients.iter().collect();
    v.push(&*ctx.client);
    v.sort_by_key(|c| c.id);
    v
}

fn list(ctx: &mut Ctx, argv: &[Bytes]) {
    let now = ctx.now;
    let mut out = String::new();
    if argv.len() == 4 && eq_ic(&argv[2], "type") {
        let Some(t) = parse_type(&argv[3]) else {
            let msg = format!(
                "ERR Unknown client type '{}'",
                String::from_utf8_lossy(&argv[3])
            );
            ctx.error(&msg);
            return;
        };
        for c in all_clients(ctx) {
            if client_type(c) == t {
                out.push_str(&c.info_line(now));
                out.push('\n');
            }
        }
    } else if argv.len() > 3 && eq_ic(&argv[2], "id") {
        let mut ids = Vec::new();
        for a in &argv[3..] {
            match crate::util::parse_i64(a) {
                Some(n) => ids.push(n as u64),
                None => {
                    ctx.error("ERR Invalid client ID");
                    return;
                }
            }
        }
        let clients = all_clients(ctx);
        for id in ids {
            if let Some(c) = clients.iter().find(|c| c.id == id) {
                out.push_str(&c.info_line(now));
                out.push('\n');
            }
        }
    } else if argv.len() != 2 {
        ctx.syntax_error();
        return;
    } else {
        for c in all_clients(ctx) {
            out.push_str(&c.info_line(now));
            out.push('\n');
        }
    }
    ctx.reply().verbatim(out.as_bytes(), "txt");
}

fn kill(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut addr: Option<String> = None;
    let mut laddr: Option<String> = None;
    let mut typ: Option<&str> = None;
    let mut user: Option<String> = None;
    let mut id: Option<u64> = None;
    let mut maxage: Option<i64> = None;
    let mut skipme = true;
    let old_form = argv.len() == 3;
    if old_form {
        addr = Some(String::from_utf8_lossy(&argv[2]).into_owned());
        skipme = false;
    } else {
        let mut i = 2;
        while i < argv.len() {
            if i + 1 >= argv.len() {
                ctx.syntax_error();
                return;
            }
            let v = &argv[i + 1];
            if eq_ic(&argv[i], "id") {
                // Redis gives the same error for a non-number.
                match crate::util::parse_i64(v) {
                    Some(n) if n >= 1 => id = Some(n as u64),
                    _ => {
                        ctx.error("ERR client-id should be greater than 0");
                        return;
                    }
                }
            } else if eq_ic(&argv[i], "type") {
                match parse_type(v) {
                    Some(t) => typ = Some(t),
                    None => {
                        let msg =
                            format!("ERR Unknown client type '{}'", String::from_utf8_lossy(v));
                        ctx.error(&msg);
                        return;
                    }
                }
            } else if eq_ic(&argv[i], "addr") {
                addr = Some(String::from_utf8_lossy(v).into_owned());
            } else if eq_ic(&argv[i], "laddr") {
                laddr = Some(String::from_utf8_lossy(v).into_owned());
            } else if eq_ic(&argv[i], "user") {
                let u = String::from_utf8_lossy(v).into_owned();
                if u != "default" {
                    let msg = format!("ERR No such user '{}'", u);
                    ctx.error(&msg);
                    return;
                }
                user = Some(u);
            } else if eq_ic(&argv[i], "maxage") {
                match crate::util::parse_i64(v) {
                    Some(n) => maxage = Some(n),
                    None => {
                        ctx.not_int();
                        return;
                    }
                }
            } else if eq_ic(&argv[i], "skipme") {
                if eq_ic(v, "yes") {
                    skipme = true;
                } else if eq_ic(v, "no") {
                    skipme = false;
                } else {
                    ctx.syntax_error();
                    return;
                }
            } else {
                ctx.syntax_error();
                return;
            }
            i += 2;
        }
    }
    let me = ctx.client.id;
    let now = ctx.now;
    let peer = |c: &Client| {
        if c.has(cflags::UNIX_SOCKET) {
            (format!("{}:0", c.addr), format!("{}:0", c.laddr))
        } else {
            (c.addr.clone(), c.laddr.clone())
        }
    };
    let mut victims = Vec::new();
    for c in all_clients(ctx) {
        let (a, la) = peer(c);
        if addr.as_ref().is_some_and(|x| *x != a) || laddr.as_ref().is_some_and(|x| *x != la) {
            continue;
        }
        if typ.is_some_and(|t| t != client_type(c)) || id.is_some_and(|i| i != c.id) {
            continue;
        }
        if user.as_ref().is_some_and(|u| *u != c.user) {
            continue;
        }
        if maxage.is_some_and(|m| (now - c.ctime) / 1000 < m) {
            continue;
        }
        if c.id == me && skipme {
            continue;
        }
        victims.push(c.id);
    }
    let killed = victims.len();
    ctx.srv.kill_ids.extend(victims);
    if old_form {
        if killed == 0 {
            ctx.error("ERR No such client");
        } else {
            ctx.reply().ok();
        }
    } else {
        ctx.reply().int(killed as i64);
    }
}

fn setname(ctx: &mut Ctx, argv: &[Bytes]) {
    if !valid_client_name(&argv[2]) {
        ctx.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    ctx.client.name = if argv[2].is_empty() {
        None
    } else {
        Some(argv[2].to_vec())
    };
    ctx.reply().ok();
}

fn getname(ctx: &mut Ctx, _argv: &[Bytes]) {
    match ctx.client.name.clone() {
        Some(n) => ctx.reply().bulk(&n),
        None => ctx.reply().null(),
    }
}

fn pause(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 4 {
        ctx.error("ERR wrong number of arguments for 'client|pause' command");
        return;
    }
    let mut kind = PauseKind::All;
    if argv.len() == 4 {
        if eq_ic(&argv[3], "write") {
            kind = PauseKind::Write;
        } else if eq_ic(&argv[3], "all") {
            kind = PauseKind::All;
        } else {
            ctx.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    let ms = match crate::util::parse_i64(&argv[2]) {
        Some(n) if n >= 0 => n,
        Some(_) => {
            ctx.error("ERR timeout is negative");
            return;
        }
        None => {
            ctx.error("ERR timeout is not an integer or out of range");
            return;
        }
    };
    let end = ctx.now.saturating_add(ms);
    // A pause never shortens or weakens one already in force.
    let stronger = match (ctx.srv.pause_kind, kind) {
        (Some(PauseKind::All), PauseKind::Write) if ctx.srv.pause_until > ctx.now => PauseKind::All,
        _ => kind,
    };
    ctx.srv.pause_kind = Some(stronger);
    ctx.srv.pause_until = ctx.srv.pause_until.max(end);
    if ctx.srv.pause_until < end {
        ctx.srv.pause_until = end;
    }
    ctx.reply().ok();
}

fn unpause(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.srv.pause_kind = None;
    ctx.srv.pause_until = 0;
    // Paused clients resume at the next cron tick.
    ctx.reply().ok();
}

fn reply(ctx: &mut Ctx, argv: &[Bytes]) {
    if eq_ic(&argv[2], "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply().ok();
    } else if eq_ic(&argv[2], "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ic(&argv[2], "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        ctx.syntax_error();
    }
}

fn on_off(ctx: &mut Ctx, arg: &[u8], flag: u32) {
    if eq_ic(arg, "on") {
        ctx.client.flags |= flag;
        ctx.reply().ok();
    } else if eq_ic(arg, "off") {
        ctx.client.flags &= !flag;
        ctx.reply().ok();
    } else {
        ctx.syntax_error();
    }
}

fn no_evict(ctx: &mut Ctx, argv: &[Bytes]) {
    on_off(ctx, &argv[2], cflags::NO_EVICT);
}

fn no_touch(ctx: &mut Ctx, argv: &[Bytes]) {
    on_off(ctx, &argv[2], cflags::NO_TOUCH);
}

fn setinfo(ctx: &mut Ctx, argv: &[Bytes]) {
    let v = &argv[3];
    if !valid_client_name(v) && !v.is_empty() {
        let attr = String::from_utf8_lossy(&argv[2]).to_ascii_lowercase();
        let msg = format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            attr
        );
        ctx.error(&msg);
        return;
    }
    let val = if v.is_empty() { None } else { Some(v.to_vec()) };
    if eq_ic(&argv[2], "lib-name") {
        ctx.client.lib_name = val;
    } else if eq_ic(&argv[2], "lib-ver") {
        ctx.client.lib_ver = val;
    } else {
        let msg = format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(&argv[2])
        );
        ctx.error(&msg);
        return;
    }
    ctx.reply().ok();
}

fn unblock(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 4 {
        ctx.error("ERR wrong number of arguments for 'client|unblock' command");
        return;
    }
    let mut error = false;
    if argv.len() == 4 {
        if eq_ic(&argv[3], "timeout") {
            error = false;
        } else if eq_ic(&argv[3], "error") {
            error = true;
        } else {
            ctx.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    let Some(id) = ctx.int_arg(&argv[2]) else {
        return;
    };
    let srv = &mut *ctx.srv;
    let done = match ctx.clients.by_id(id as u64) {
        Some(target) if target.has(cflags::BLOCKED) => {
            let e = if error {
                Some("UNBLOCKED client unblocked via CLIENT UNBLOCK")
            } else {
                None
            };
            let ok = crate::server::blocking::unblock_with_reply(srv, target, e);
            if ok {
                // The reactor flushes its reply and resumes its input.
                srv.busy_slots.push(target.token);
            }
            ok
        }
        _ => false,
    };
    ctx.reply().int(done as i64);
}

/// CLIENT TRACKING (ON|OFF) [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP]
fn tracking(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut redirect: i64 = 0;
    let mut options = 0u32;
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - 1 - j > 0;
        let a = &argv[j];
        if eq_ic(a, "redirect") && more {
            j += 1;
            if redirect != 0 {
                ctx.error("ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = ctx.int_arg(&argv[j]) else {
                return;
            };
            redirect = id;
            // The target must exist now (it may go away later).
            let exists =
                id > 0 && (ctx.client.id == id as u64 || ctx.clients.by_id(id as u64).is_some());
            if !exists {
                ctx.error("ERR The client ID you want redirect to does not exist");
                return;
            }
        } else if eq_ic(a, "bcast") {
            options |= cflags::TRACKING_BCAST;
        } else if eq_ic(a, "optin") {
            options |= cflags::TRACKING_OPTIN;
        } else if eq_ic(a, "optout") {
            options |= cflags::TRACKING_OPTOUT;
        } else if eq_ic(a, "noloop") {
            options |= cflags::TRACKING_NOLOOP;
        } else if eq_ic(a, "prefix") && more {
            j += 1;
            prefixes.push(argv[j].clone());
        } else {
            ctx.syntax_error();
            return;
        }
        j += 1;
    }
    if eq_ic(&argv[2], "on") {
        let bcast = options & cflags::TRACKING_BCAST != 0;
        let optin = options & cflags::TRACKING_OPTIN != 0;
        let optout = options & cflags::TRACKING_OPTOUT != 0;
        if !bcast && !prefixes.is_empty() {
            ctx.error("ERR PREFIX option requires BCAST mode to be enabled");
            return;
        }
        if ctx.client.has(cflags::TRACKING) && ctx.client.has(cflags::TRACKING_BCAST) != bcast {
            ctx.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
            return;
        }
        if bcast && (optin || optout) {
            ctx.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
            return;
        }
        if optin && optout {
            ctx.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
            return;
        }
        if (optin && ctx.client.has(cflags::TRACKING_OPTOUT))
            || (optout && ctx.client.has(cflags::TRACKING_OPTIN))
        {
            ctx.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
            return;
        }
        if bcast {
            if let Some(msg) = crate::server::tracking::prefix_collision(
                &ctx.client.ext.tracking_prefixes,
                &prefixes,
            ) {
                ctx.error(&msg);
                return;
            }
        }
        crate::server::tracking::enable(ctx.srv, ctx.client, redirect as u64, options, &prefixes);
    } else if eq_ic(&argv[2], "off") {
        crate::server::tracking::disable(ctx.srv, ctx.client);
    } else {
        ctx.syntax_error();
        return;
    }
    ctx.reply().ok();
}

/// CLIENT CACHING (YES|NO): track (OPTIN) or skip (OPTOUT) the keys of
/// the next command.
fn caching(ctx: &mut Ctx, argv: &[Bytes]) {
    if !ctx.client.has(cflags::TRACKING) {
        ctx.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
        return;
    }
    if eq_ic(&argv[2], "yes") {
        if !ctx.client.has(cflags::TRACKING_OPTIN) {
            ctx.error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
            return;
        }
    } else if eq_ic(&argv[2], "no") {
        if !ctx.client.has(cflags::TRACKING_OPTOUT) {
            ctx.error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
            return;
        }
    } else {
        ctx.syntax_error();
        return;
    }
    ctx.client.flags |= cflags::TRACKING_CACHING;
    ctx.reply().ok();
}

fn getredir(ctx: &mut Ctx, _argv: &[Bytes]) {
    let r = if ctx.client.has(cflags::TRACKING) {
        ctx.client.ext.tracking_redirect as i64
    } else {
        -1
    };
    ctx.reply().int(r);
}

fn trackinginfo(ctx: &mut Ctx, _argv: &[Bytes]) {
    let c = &*ctx.client;
    let mut flags: Vec<&str> = Vec::new();
    flags.push(if c.has(cflags::TRACKING) { "on" } else { "off" });
    if c.has(cflags::TRACKING_BCAST) {
        flags.push("bcast");
    }
    if c.has(cflags::TRACKING_OPTIN) {
        flags.push("optin");
        if c.has(cflags::TRACKING_CACHING) {
            flags.push("caching-yes");
        }
    }
    if c.has(cflags::TRACKING_OPTOUT) {
        flags.push("optout");
        if c.has(cflags::TRACKING_CACHING) {
            flags.push("caching-no");
        }
    }
    if c.has(cflags::TRACKING_NOLOOP) {
        flags.push("noloop");
    }
    if c.has(cflags::TRACKING_BROKEN_REDIR) {
        flags.push("broken_redirect");
    }
    let redirect = if c.has(cflags::TRACKING) {
        c.ext.tracking_redirect as i64
    } else {
        -1
    };
    let prefixes: Vec<Vec<u8>> = c.ext.tracking_prefixes.iter().cloned().collect();
    let r = ctx.reply();
    r.map(3);
    r.bulk(b"flags");
    r.set(flags.len());
    for f in flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"redirect");
    r.int(redirect);
    r.bulk(b"prefixes");
    r.array(prefixes.len());
    for p in prefixes {
        r.bulk(&p);
    }
}

fn help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "HELP",
            "    Prints this help.",
        ],
    );
}

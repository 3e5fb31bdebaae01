//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET,
//! and the per-connection hooks other features extend.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::server::client::cflags;
use crate::server::{Client, Clients, Server};
use crate::util::eq_ic;

const BASE: CommandSpec = CommandSpec {
    group: "connection",
    acl: "connection",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: "fast sentinel",
        handler: ping,
        summary: "Ping the server",
        ..BASE
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: "loading stale fast",
        handler: echo,
        summary: "Echo the given string",
        ..BASE
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: "allow_busy noscript loading stale fast no_auth",
        handler: quit,
        summary: "Close the connection",
        ..BASE
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: "loading stale fast",
        handler: select,
        summary: "Change the selected database for the current connection",
        ..BASE
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: "noscript loading stale fast no_auth sentinel allow_busy",
        handler: hello,
        since: "6.0.0",
        summary: "Handshake with Redis",
        ..BASE
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: "noscript loading stale fast no_auth sentinel allow_busy",
        handler: auth,
        summary: "Authenticate to the server",
        ..BASE
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: "noscript loading stale fast no_auth allow_busy",
        handler: reset,
        since: "6.2.0",
        summary: "Reset the connection",
        ..BASE
    },
];

fn ping(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 2 {
        ctx.error("ERR wrong number of arguments for 'ping' command");
        return;
    }
    // In RESP2 subscribe mode PING answers with a pubsub-style array.
    if ctx.client.has(cflags::PUBSUB) && ctx.client.reply.resp == 2 {
        let r = ctx.reply();
        r.array(2);
        r.bulk(b"pong");
        r.bulk(argv.get(1).map(|b| &b[..]).unwrap_or(b""));
        return;
    }
    match argv.get(1) {
        Some(m) => ctx.reply().bulk(m),
        None => ctx.reply().raw(b"+PONG\r\n"),
    }
}

fn echo(ctx: &mut Ctx, argv: &[Bytes]) {
    ctx.reply().bulk(&argv[1]);
}

fn quit(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.reply().ok();
    ctx.client.flags |= cflags::CLOSE_AFTER_REPLY;
}

fn select(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(n) = crate::util::parse_i64(&argv[1]) else {
        ctx.error("ERR value is not an integer or out of range");
        return;
    };
    if n < 0 || n as usize >= ctx.srv.dbs.len() {
        ctx.error("ERR DB index is out of range");
        return;
    }
    ctx.client.db = n as usize;
    ctx.reply().ok();
}

/// Check a password for a user; only "default" with requirepass exists
/// until ACLs do.
fn check_password(ctx: &mut Ctx, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &ctx.srv.config.requirepass {
        Some(p) => p.as_slice() == pass,
        None => true,
    }
}

fn auth(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 3 {
        ctx.syntax_error();
        return;
    }
    if argv.len() == 2 && ctx.srv.config.requirepass.is_none() {
        ctx.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    let (user, pass): (&[u8], &[u8]) = if argv.len() == 3 {
        (&argv[1], &argv[2])
    } else {
        (b"default", &argv[1])
    };
    if check_password(ctx, user, pass) {
        ctx.client.authenticated = true;
        ctx.client.user = String::from_utf8_lossy(user).into_owned();
        ctx.reply().ok();
    } else {
        ctx.error("WRONGPASS invalid username-password pair or user is disabled.");
    }
}

fn hello(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut ver = 0;
    let mut next = 1;
    if argv.len() >= 2 {
        let Some(v) = crate::util::parse_i64(&argv[1]) else {
            ctx.error("ERR Protocol version is not an integer or out of range");
            return;
        };
        next = 2;
        if !(2..=3).contains(&v) {
            ctx.error("NOPROTO unsupported protocol version");
            return;
        }
        ver = v as u8;
    }
    let mut i = next;
    let mut setname: Option<Vec<u8>> = None;
    let mut creds: Option<(Vec<u8>, Vec<u8>)> = None;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if eq_ic(&argv[i], "auth") && more >= 2 {
            creds = Some((argv[i + 1].to_vec(), argv[i + 2].to_vec()));
            i += 3;
        } else if eq_ic(&argv[i], "setname") && more >= 1 {
            setname = Some(argv[i + 1].to_vec());
            i += 2;
        } else {
            let msg = format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&argv[i])
            );
            ctx.error(&msg);
            return;
        }
    }
    if let Some((u, p)) = &creds {
        if !check_password(ctx, u, p) {
            ctx.error("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        ctx.client.authenticated = true;
        ctx.client.user = String::from_utf8_lossy(u).into_owned();
    }
    if !ctx.client.authenticated {
        ctx.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(n) = setname {
        if !valid_client_name(&n) {
            ctx.error("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        ctx.client.name = if n.is_empty() { None } else { Some(n) };
    }
    if ver != 0 {
        ctx.client.reply.resp = ver;
    }
    let id = ctx.client.id as i64;
    let proto = ctx.client.reply.resp as i64;
    let r = ctx.reply();
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(proto);
    r.bulk(b"id");
    r.int(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
}

/// Names may not contain spaces or control characters (CLIENT SETNAME rules).
pub fn valid_client_name(n: &[u8]) -> bool {
    n.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn reset(ctx: &mut Ctx, _argv: &[Bytes]) {
    on_client_reset(ctx.srv, ctx.client);
    ctx.client.db = 0;
    ctx.client.reply.resp = 2;
    ctx.client.name = None;
    ctx.client.reply_mode = crate::server::client::ReplyMode::On;
    ctx.client.flags &= !(cflags::MONITOR | cflags::NO_EVICT | cflags::NO_TOUCH);
    ctx.srv.monitors.retain(|&id| id != ctx.client.id);
    ctx.client.authenticated = ctx.srv.config.requirepass.is_none();
    ctx.client.user = "default".into();
    ctx.reply().status("RESET");
}

/// Drop transaction, subscription and tracking state (RESET and close).
pub fn on_client_reset(srv: &mut Server, client: &mut Client) {
    super::tx::reset_transaction(srv, client);
    super::pubsub::unsubscribe_all(srv, client);
    crate::server::tracking::disable(srv, client);
}

/// A client is going away: release everything that refers to it.
pub fn on_client_close(srv: &mut Server, client: &mut Client) {
    on_client_reset(srv, client);
    crate::server::blocking::on_client_close(srv, client);
    srv.monitors.retain(|&id| id != client.id);
}

/// Deliver a message published while a command runs (keyspace
/// notifications).
pub fn publish_hook(
    srv: &mut Server,
    clients: &mut Clients,
    current: &mut Client,
    channel: &[u8],
    msg: &[u8],
) {
    super::pubsub::publish_message(srv, clients, Some(current), channel, msg, false);
}

/// Deliver a message published outside a command (expiry in cron).
pub fn publish_background(srv: &mut Server, clients: &mut Clients, channel: &[u8], msg: &[u8]) {
    super::pubsub::publish_message(srv, clients, None, channel, msg, false);
}

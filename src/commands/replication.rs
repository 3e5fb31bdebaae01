//! Replication commands: SYNC, PSYNC, REPLCONF, REPLICAOF / SLAVEOF, ROLE,
//! WAIT. The machinery behind them is in `crate::replication`.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::replication::{master, replica};
use crate::server::client::cflags;

const BASE: CommandSpec = CommandSpec {
    group: "server",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sync",
        arity: 1,
        flags: "admin noscript no_async_loading no_multi",
        handler: master::sync_command,
        summary: "Internal command used for replication",
        ..BASE
    },
    CommandSpec {
        name: "psync",
        arity: -3,
        flags: "admin noscript no_async_loading no_multi",
        handler: master::sync_command,
        since: "2.8.0",
        summary: "Internal command used for replication",
        ..BASE
    },
    CommandSpec {
        name: "replconf",
        arity: -1,
        flags: "admin noscript loading stale allow_busy",
        handler: master::replconf_command,
        since: "3.0.0",
        summary: "An internal command for configuring the replication stream",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "replicaof",
        arity: 3,
        flags: "admin noscript stale no_async_loading",
        handler: replicaof,
        since: "5.0.0",
        summary: "Make the server a replica of another instance, or promote it as master.",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "slaveof",
        arity: 3,
        flags: "admin noscript stale no_async_loading",
        handler: replicaof,
        summary: "Make the server a replica of another instance, or promote it as master.",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "role",
        arity: 1,
        flags: "noscript loading stale fast sentinel",
        acl: "admin dangerous",
        handler: role,
        since: "2.8.12",
        summary: "Return the role of the instance in the context of replication",
        complexity: "O(1)",
        ..BASE
    },
    CommandSpec {
        name: "wait",
        arity: 3,
        flags: "noscript",
        acl: "connection",
        handler: master::wait_command,
        group: "generic",
        since: "3.0.0",
        summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:agg_min"],
        ..BASE
    },
];

/// REPLICAOF host port | NO ONE (and its old name SLAVEOF).
fn replicaof(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv[1].eq_ignore_ascii_case(b"no") && argv[2].eq_ignore_ascii_case(b"one") {
        if ctx.srv.repl.is_replica() {
            replica::unset_master(ctx.srv);
            let who = ctx.client.info_line(ctx.now);
            tracing::info!("MASTER MODE enabled (user request from '{}')", who);
        }
        ctx.reply().ok();
        return;
    }
    if ctx.client.has(cflags::SLAVE) {
        ctx.error("ERR Command is not valid when client is a replica.");
        return;
    }
    let port = match crate::util::parse_i64(&argv[2]) {
        Some(p @ 0..=65535) => p as u16,
        _ => {
            ctx.error("ERR Invalid master port");
            return;
        }
    };
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    if let Some(l) = &ctx.srv.repl.link {
        if l.host.eq_ignore_ascii_case(&host) && l.port == port {
            tracing::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.reply()
                .raw(b"+OK Already connected to specified master\r\n");
            return;
        }
    }
    replica::set_master(ctx.srv, &host, port);
    let who = ctx.client.info_line(ctx.now);
    tracing::info!(
        "REPLICAOF {}:{} enabled (user request from '{}')",
        host,
        port,
        who
    );
    ctx.reply().ok();
}

/// ROLE: master with its replicas, or replica with its link state.
fn role(ctx: &mut Ctx, _argv: &[Bytes]) {
    let srv = &*ctx.srv;
    let r = &mut ctx.client.reply;
    if srv.repl.is_replica() {
        replica::role_reply(srv, r);
    } else {
        master::role_reply(srv, r);
    }
}

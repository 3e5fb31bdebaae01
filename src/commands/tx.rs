//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in the dispatcher (server::exec): while a client is in
//! MULTI every other command is answered +QUEUED. WATCHed keys live in
//! `Server::watched_keys`; any write to one (signal_modified_key), a flush
//! or an expiry marks the watchers DIRTY_CAS and their EXEC fails.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::server::client::cflags;
use crate::server::{Client, Server};

const TX: CommandSpec = CommandSpec {
    group: "transactions",
    acl: "transaction",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: "noscript loading stale fast allow_busy",
        handler: multi,
        since: "1.2.0",
        summary: "Mark the start of a transaction block",
        ..TX
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: "noscript loading stale skip_slowlog",
        handler: exec,
        since: "1.2.0",
        summary: "Execute all commands issued after MULTI",
        ..TX
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: "noscript loading stale fast allow_busy",
        handler: discard,
        since: "2.0.0",
        summary: "Discard all commands issued after MULTI",
        ..TX
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: "noscript loading stale fast allow_busy",
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: watch,
        since: "2.2.0",
        summary: "Monitor changes to keys to conditionally execute a transaction",
        ..TX
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: "noscript loading stale fast allow_busy",
        handler: unwatch,
        since: "2.2.0",
        summary: "Forget about all watched keys",
        ..TX
    },
];

fn multi(ctx: &mut Ctx, _argv: &[Bytes]) {
    if ctx.client.has(cflags::MULTI) {
        ctx.error("ERR MULTI calls can not be nested");
        return;
    }
    ctx.client.flags |= cflags::MULTI;
    ctx.reply().ok();
}

/// Leave MULTI state and forget every WATCHed key.
pub fn reset_transaction(srv: &mut Server, client: &mut Client) {
    client.ext.multi_queue.clear();
    client.flags &= !(cflags::MULTI | cflags::DIRTY_CAS | cflags::DIRTY_EXEC);
    unwatch_all(srv, client);
}

fn unwatch_all(srv: &mut Server, client: &mut Client) {
    for (db, key) in std::mem::take(&mut client.ext.watched) {
        let k = (db, key);
        srv.watched_stale.remove(&(client.id, k.clone()));
        if let Some(v) = srv.watched_keys.get_mut(&k) {
            v.retain(|&id| id != client.id);
            if v.is_empty() {
                srv.watched_keys.remove(&k);
            }
        }
    }
    client.flags &= !cflags::DIRTY_CAS;
}

fn discard(ctx: &mut Ctx, _argv: &[Bytes]) {
    if !ctx.client.has(cflags::MULTI) {
        ctx.error("ERR DISCARD without MULTI");
        return;
    }
    reset_transaction(ctx.srv, ctx.client);
    ctx.reply().ok();
}

fn watch(ctx: &mut Ctx, argv: &[Bytes]) {
    if ctx.client.has(cflags::MULTI) {
        ctx.error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    let db = ctx.client.db;
    for k in &argv[1..] {
        if ctx
            .client
            .ext
            .watched
            .iter()
            .any(|(d, key)| *d == db && key.as_slice() == &k[..])
        {
            continue;
        }
        ctx.client.ext.watched.push((db, k.to_vec()));
        let now = ctx.now;
        let stale = ctx.srv.dbs[db]
            .dict
            .get(&k[..])
            .is_some_and(|o| o.expire != crate::db::NO_EXPIRE && o.expire <= now);
        if stale {
            let id = ctx.client.id;
            ctx.srv.watched_stale.insert((id, (db, k.to_vec())));
        }
        ctx.srv
            .watched_keys
            .entry((db, k.to_vec()))
            .or_default()
            .push(ctx.client.id);
    }
    ctx.reply().ok();
}

fn unwatch(ctx: &mut Ctx, _argv: &[Bytes]) {
    unwatch_all(ctx.srv, ctx.client);
    ctx.reply().ok();
}

/// A WATCHed key that has expired but was not reclaimed yet also fails
/// the transaction (Redis 7 checks this at EXEC).
fn watched_key_expired(ctx: &Ctx) -> bool {
    let id = ctx.client.id;
    ctx.client.ext.watched.iter().any(|(db, key)| {
        if ctx.srv.watched_stale.contains(&(id, (*db, key.clone()))) {
            return false;
        }
        ctx.srv
            .dbs
            .get(*db)
            .and_then(|d| d.dict.get(key))
            .is_some_and(|o| o.expire != crate::db::NO_EXPIRE && o.expire <= ctx.now)
    })
}

/// Set while EXEC runs its queue (Redis's server.in_exec): work that must
/// not start inside a transaction, such as an AOF rewrite, is scheduled.
pub static IN_EXEC: AtomicBool = AtomicBool::new(false);

fn exec(ctx: &mut Ctx, _argv: &[Bytes]) {
    if !ctx.client.has(cflags::MULTI) {
        ctx.error("ERR EXEC without MULTI");
        return;
    }
    if ctx.client.has(cflags::DIRTY_EXEC) {
        reset_transaction(ctx.srv, ctx.client);
        ctx.error("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if ctx.client.has(cflags::DIRTY_CAS) || watched_key_expired(ctx) {
        reset_transaction(ctx.srv, ctx.client);
        ctx.reply().null_array();
        return;
    }
    let queue = std::mem::take(&mut ctx.client.ext.multi_queue);
    unwatch_all(ctx.srv, ctx.client);
    ctx.reply().array(queue.len());
    // MULTI stays set while the queue runs so blocking commands do not block.
    IN_EXEC.store(true, Ordering::Relaxed);
    for argv in &queue {
        let Some(cmd) = ctx.srv.commands.lookup(argv) else {
            ctx.error("ERR unknown command");
            continue;
        };
        crate::server::exec::call(
            ctx.srv,
            ctx.clients,
            ctx.client,
            argv,
            cmd.id,
            cmd.flags,
            cmd.spec.handler,
            ctx.now,
        );
        // A failing queued command does not make EXEC itself failed.
        ctx.srv.stats.cur_cmd_error = false;
    }
    IN_EXEC.store(false, Ordering::Relaxed);
    ctx.client.flags &= !(cflags::MULTI | cflags::DIRTY_CAS | cflags::DIRTY_EXEC);
    // What the queued commands propagated is wrapped in MULTI/EXEC by the
    // dispatcher (one execution unit); EXEC itself is never propagated.
    ctx.srv.propagate_override = Some(Vec::new());
}

//! Pub/Sub: channel, pattern and shard-channel subscriptions, PUBLISH,
//! PUBSUB introspection, and delivery of keyspace notifications.

use std::collections::HashMap;

use bytes::Bytes;

use super::command::help_reply;
use super::{CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::server::client::cflags;
use crate::server::{Client, Clients, Server};
use crate::util::glob_match;

/// Server-wide subscription registries: name -> subscriber ids.
#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<u64>>,
    pub patterns: HashMap<Vec<u8>, Vec<u64>>,
    pub shard: HashMap<Vec<u8>, Vec<u64>>,
}

const PS: CommandSpec = CommandSpec {
    group: "pubsub",
    flags: "pubsub noscript loading stale",
    since: "2.0.0",
    ..CommandSpec::DEFAULT
};
const PSI: CommandSpec = CommandSpec {
    group: "pubsub",
    flags: "pubsub loading stale",
    since: "2.8.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        arity: -2,
        handler: subscribe,
        summary: "Listen for messages published to the given channels",
        ..PS
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        handler: unsubscribe,
        summary: "Stop listening for messages posted to the given channels",
        ..PS
    },
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        handler: psubscribe,
        summary: "Listen for messages published to channels matching the given patterns",
        ..PS
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        handler: punsubscribe,
        summary: "Stop listening for messages posted to channels matching the given patterns",
        ..PS
    },
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: ssubscribe,
        since: "7.0.0",
        summary: "Listen for messages published to the given shard channels",
        ..PS
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        first_key: 1,
        last_key: -1,
        step: 1,
        handler: sunsubscribe,
        since: "7.0.0",
        summary: "Stop listening for messages posted to the given shard channels",
        ..PS
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: "pubsub loading stale fast may_replicate",
        handler: publish,
        group: "pubsub",
        since: "2.0.0",
        summary: "Post a message to a channel",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: "pubsub loading stale fast may_replicate",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: spublish,
        group: "pubsub",
        since: "7.0.0",
        summary: "Post a message to a shard channel",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        handler: super::container,
        group: "pubsub",
        since: "2.8.0",
        summary: "A container for Pub/Sub commands",
        subcommands: &[
            CommandSpec {
                name: "channels",
                arity: -2,
                handler: channels,
                summary: "List active channels",
                ..PSI
            },
            CommandSpec {
                name: "numsub",
                arity: -2,
                handler: numsub,
                summary: "Get the count of subscribers for channels",
                ..PSI
            },
            CommandSpec {
                name: "numpat",
                arity: 2,
                handler: numpat,
                summary: "Get the count of unique patterns pattern subscriptions",
                ..PSI
            },
            CommandSpec {
                name: "shardchannels",
                arity: -2,
                handler: shardchannels,
                since: "7.0.0",
                summary: "List active shard channels",
                ..PSI
            },
            CommandSpec {
                name: "shardnumsub",
                arity: -2,
                handler: shardnumsub,
                since: "7.0.0",
                summary: "Get the count of subscribers for shard channels",
                ..PSI
            },
            CommandSpec {
                name: "help",
                arity: 2,
                flags: "loading stale",
                handler: help,
                since: "6.2.0",
                summary: "Show helpful text about the different subcommands",
                ..PSI
            },
        ],
        ..CommandSpec::DEFAULT
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn sub_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }
    fn unsub_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

fn registry(srv: &mut Server, k: Kind) -> &mut HashMap<Vec<u8>, Vec<u64>> {
    match k {
        Kind::Channel => &mut srv.pubsub.channels,
        Kind::Pattern => &mut srv.pubsub.patterns,
        Kind::Shard => &mut srv.pubsub.shard,
    }
}

fn client_set(c: &mut Client, k: Kind) -> &mut std::collections::HashSet<Vec<u8>> {
    match k {
        Kind::Channel => &mut c.ext.channels,
        Kind::Pattern => &mut c.ext.patterns,
        Kind::Shard => &mut c.ext.shard_channels,
    }
}

/// The count Redis reports after (un)subscribing: channels + patterns, or
/// shard channels alone for the shard commands.
fn sub_count(c: &Client, k: Kind) -> usize {
    match k {
        Kind::Shard => c.ext.shard_channels.len(),
        _ => c.ext.channels.len() + c.ext.patterns.len(),
    }
}

fn update_flag(c: &mut Client) {
    if c.ext.channels.is_empty() && c.ext.patterns.is_empty() && c.ext.shard_channels.is_empty() {
        c.flags &= !cflags::PUBSUB;
    } else {
        c.flags |= cflags::PUBSUB;
    }
}

fn reply_sub(r: &mut Reply, name: &[u8], target: Option<&[u8]>, count: usize) {
    r.push(3);
    r.bulk(name);
    match target {
        Some(t) => r.bulk(t),
        None => r.null(),
    }
    r.int(count as i64);
}

fn subscribe_generic(ctx: &mut Ctx, argv: &[Bytes], k: Kind) {
    if ctx.client.has(cflags::MULTI) && k == Kind::Shard {
        ctx.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    for ch in &argv[1..] {
        if client_set(ctx.client, k).insert(ch.to_vec()) {
            let id = ctx.client.id;
            registry(ctx.srv, k)
                .entry(ch.to_vec())
                .or_default()
                .push(id);
        }
        update_flag(ctx.client);
        let n = sub_count(ctx.client, k);
        reply_sub(&mut ctx.client.reply, k.sub_name(), Some(ch), n);
    }
}

fn remove_sub(srv: &mut Server, k: Kind, name: &[u8], id: u64) {
    let reg = registry(srv, k);
    if let Some(v) = reg.get_mut(name) {
        v.retain(|&x| x != id);
        if v.is_empty() {
            reg.remove(name);
        }
    }
}

fn unsubscribe_generic(ctx: &mut Ctx, argv: &[Bytes], k: Kind) {
    let names: Vec<Vec<u8>> = if argv.len() > 1 {
        argv[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        let mut v: Vec<Vec<u8>> = client_set(ctx.client, k).iter().cloned().collect();
        v.sort();
        v
    };
    if names.is_empty() {
        let n = sub_count(ctx.client, k);
        reply_sub(&mut ctx.client.reply, k.unsub_name(), None, n);
        return;
    }
    for name in names {
        if client_set(ctx.client, k).remove(&name) {
            let id = ctx.client.id;
            remove_sub(ctx.srv, k, &name, id);
        }
        update_flag(ctx.client);
        let n = sub_count(ctx.client, k);
        reply_sub(&mut ctx.client.reply, k.unsub_name(), Some(&name), n);
    }
}

fn subscribe(ctx: &mut Ctx, argv: &[Bytes]) {
    subscribe_generic(ctx, argv, Kind::Channel);
}
fn unsubscribe(ctx: &mut Ctx, argv: &[Bytes]) {
    unsubscribe_generic(ctx, argv, Kind::Channel);
}
fn psubscribe(ctx: &mut Ctx, argv: &[Bytes]) {
    subscribe_generic(ctx, argv, Kind::Pattern);
}
fn punsubscribe(ctx: &mut Ctx, argv: &[Bytes]) {
    unsubscribe_generic(ctx, argv, Kind::Pattern);
}
fn ssubscribe(ctx: &mut Ctx, argv: &[Bytes]) {
    subscribe_generic(ctx, argv, Kind::Shard);
}
fn sunsubscribe(ctx: &mut Ctx, argv: &[Bytes]) {
    unsubscribe_generic(ctx, argv, Kind::Shard);
}

/// Drop every subscription of a client (RESET, disconnect).
pub fn unsubscribe_all(srv: &mut Server, c: &mut Client) {
    for k in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        let names: Vec<Vec<u8>> = client_set(c, k).drain().collect();
        for n in names {
            remove_sub(srv, k, &n, c.id);
        }
    }
    update_flag(c);
}

/// Append a message to a subscriber's output in its protocol.
fn deliver(c: &mut Client, parts: &[&[u8]]) {
    let r = &mut c.reply;
    r.push(parts.len());
    for p in parts {
        r.bulk(p);
    }
}

/// Publish to channel (or shard channel) subscribers and matching
/// patterns. `current` is the running client, out of the client table.
/// Returns the number of receivers.
pub fn publish_message(
    srv: &mut Server,
    clients: &mut Clients,
    current: Option<&mut Client>,
    channel: &[u8],
    msg: &[u8],
    shard: bool,
) -> usize {
    let mut current = current;
    let mut count = 0;
    let mut targets: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
    let reg = if shard {
        &srv.pubsub.shard
    } else {
        &srv.pubsub.channels
    };
    if let Some(ids) = reg.get(channel) {
        targets.extend(ids.iter().map(|&id| (id, None)));
    }
    if !shard {
        for (pat, ids) in &srv.pubsub.patterns {
            if glob_match(pat, channel, false) {
                targets.extend(ids.iter().map(|&id| (id, Some(pat.clone()))));
            }
        }
    }
    let kind: &[u8] = if shard { b"smessage" } else { b"message" };
    // A channel message is encoded once per protocol and copied to each
    // subscriber (they are the same bytes for everyone).
    let mut encoded: [Option<Vec<u8>>; 2] = [None, None];
    for (id, pat) in targets {
        let mut write = |c: &mut Client| match &pat {
            None => {
                let bytes = encoded[(c.reply.resp >= 3) as usize].get_or_insert_with(|| {
                    let mut r = crate::protocol::Reply {
                        buf: Vec::with_capacity(channel.len() + msg.len() + 32),
                        resp: c.reply.resp,
                        pushed: false,
                    };
                    r.push(3);
                    for p in [kind, channel, msg] {
                        r.bulk(p);
                    }
                    r.buf
                });
                c.reply.pushed = true;
                c.reply.buf.extend_from_slice(bytes);
            }
            Some(p) => deliver(c, &[b"pmessage", p, channel, msg]),
        };
        match current.as_deref_mut() {
            Some(cur) if cur.id == id => {
                write(cur);
                count += 1;
            }
            _ => {
                if let Some(c) = clients.by_id(id) {
                    write(c);
                    srv.flush_slots.push(c.token);
                    count += 1;
                }
            }
        }
    }
    count
}

fn publish(ctx: &mut Ctx, argv: &[Bytes]) {
    // Replicas deliver it to their own subscribers.
    ctx.force_propagation(crate::server::propagate::REPL);
    let n = publish_message(
        ctx.srv,
        ctx.clients,
        Some(ctx.client),
        &argv[1],
        &argv[2],
        false,
    );
    ctx.reply().int(n as i64);
}

fn spublish(ctx: &mut Ctx, argv: &[Bytes]) {
    ctx.force_propagation(crate::server::propagate::REPL);
    let n = publish_message(
        ctx.srv,
        ctx.clients,
        Some(ctx.client),
        &argv[1],
        &argv[2],
        true,
    );
    ctx.reply().int(n as i64);
}

fn list_names(ctx: &mut Ctx, argv: &[Bytes], shard: bool) {
    let pat = argv.get(2).map(|p| p.to_vec());
    let reg = if shard {
        &ctx.srv.pubsub.shard
    } else {
        &ctx.srv.pubsub.channels
    };
    let mut names: Vec<Vec<u8>> = reg
        .keys()
        .filter(|n| pat.as_ref().is_none_or(|p| glob_match(p, n, false)))
        .cloned()
        .collect();
    names.sort();
    ctx.reply().bulk_array(names.iter());
}

fn channels(ctx: &mut Ctx, argv: &[Bytes]) {
    list_names(ctx, argv, false);
}
fn shardchannels(ctx: &mut Ctx, argv: &[Bytes]) {
    list_names(ctx, argv, true);
}

fn numsub_generic(ctx: &mut Ctx, argv: &[Bytes], shard: bool) {
    let counts: Vec<(Vec<u8>, usize)> = argv[2..]
        .iter()
        .map(|c| {
            let reg = if shard {
                &ctx.srv.pubsub.shard
            } else {
                &ctx.srv.pubsub.channels
            };
            (c.to_vec(), reg.get(&c[..]).map(|v| v.len()).unwrap_or(0))
        })
        .collect();
    let r = ctx.reply();
    // A flat array even in RESP3, as Redis 7.0 replies.
    r.array(counts.len() * 2);
    for (c, n) in counts {
        r.bulk(&c);
        r.int(n as i64);
    }
}

fn numsub(ctx: &mut Ctx, argv: &[Bytes]) {
    numsub_generic(ctx, argv, false);
}
fn shardnumsub(ctx: &mut Ctx, argv: &[Bytes]) {
    numsub_generic(ctx, argv, true);
}

fn numpat(ctx: &mut Ctx, _argv: &[Bytes]) {
    let n = ctx.srv.pubsub.patterns.len() as i64;
    ctx.reply().int(n);
}

fn help(ctx: &mut Ctx, _argv: &[Bytes]) {
    help_reply(
        ctx,
        &[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Print this help.",
        ],
    );
}

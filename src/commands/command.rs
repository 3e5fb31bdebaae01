//! COMMAND and its subcommands: introspection of the command table.

use bytes::Bytes;

use super::{flags, Command, CommandSpec, Ctx, ACL_CATEGORIES};
use crate::protocol::Reply;
use crate::util::{eq_ic, glob_match};

/// What COMMAND INFO and COMMAND DOCS say about one command, beyond what
/// dispatch needs: the reference's key specs, tips and argument docs
/// (generated into meta.rs by tools/gen-command-meta.py).
pub struct Meta {
    pub name: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
    pub doc_flags: &'static [&'static str],
    pub deprecated_since: &'static str,
    pub replaced_by: &'static str,
    pub history: &'static [(&'static str, &'static str)],
    pub tips: &'static [&'static str],
    pub specs: &'static [Spec],
    pub args: &'static [Arg],
}

pub struct Spec {
    pub notes: &'static str,
    pub flags: &'static [&'static str],
    pub begin: Begin,
    pub find: Find,
}

pub enum Begin {
    Index(i32),
    /// Keyword, startfrom (negative: searched backwards from the end).
    Keyword(&'static str, i32),
    Unknown,
}

pub enum Find {
    /// lastkey, keystep, limit.
    Range(i32, i32, i32),
    /// keynumidx, firstkey, keystep.
    Keynum(i32, i32, i32),
    Unknown,
}

pub struct Arg {
    pub name: &'static str,
    pub typ: &'static str,
    pub key_spec: i32,
    pub token: Option<&'static str>,
    pub summary: &'static str,
    pub since: &'static str,
    pub deprecated_since: &'static str,
    /// Bits: optional, multiple, multiple_token.
    pub flags: u8,
    pub args: &'static [Arg],
}

/// The reference's facts for a command by full name ("client|kill").
pub fn meta(fullname: &str) -> Option<&'static Meta> {
    let m = super::meta::META;
    m.binary_search_by(|x| x.name.cmp(fullname))
        .ok()
        .map(|i| &m[i])
}

const SUB: CommandSpec = CommandSpec {
    group: "server",
    acl: "connection",
    flags: "loading stale",
    since: "2.8.13",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command",
    arity: -1,
    flags: "loading stale",
    acl: "connection",
    handler: command,
    group: "server",
    since: "2.8.13",
    summary: "Get array of Redis command details",
    tips: &["nondeterministic_output_order"],
    subcommands: &[
        CommandSpec {
            name: "count",
            arity: 2,
            handler: count,
            summary: "Get total number of Redis commands",
            ..SUB
        },
        CommandSpec {
            name: "docs",
            arity: -2,
            handler: docs,
            since: "7.0.0",
            summary: "Get array of specific Redis command documentation",
            tips: &["nondeterministic_output_order"],
            ..SUB
        },
        CommandSpec {
            name: "getkeys",
            arity: -4,
            handler: getkeys,
            summary: "Extract keys given a full Redis command",
            ..SUB
        },
        CommandSpec {
            name: "getkeysandflags",
            arity: -4,
            handler: getkeysandflags,
            since: "7.0.0",
            summary: "Extract keys and access flags given a full Redis command",
            ..SUB
        },
        CommandSpec {
            name: "help",
            arity: 2,
            handler: help,
            since: "5.0.0",
            summary: "Show helpful text about the different subcommands",
            ..SUB
        },
        CommandSpec {
            name: "info",
            arity: -2,
            handler: info,
            summary:
                "Get array of specific Redis command details, or all when no argument is given",
            tips: &["nondeterministic_output_order"],
            ..SUB
        },
        CommandSpec {
            name: "list",
            arity: -2,
            handler: list,
            since: "7.0.0",
            summary: "Get an array of Redis command names",
            tips: &["nondeterministic_output_order"],
            ..SUB
        },
    ],
    ..CommandSpec::DEFAULT
}];

fn write_set(r: &mut Reply, items: &[String]) {
    r.set(items.len());
    for i in items {
        r.status(i);
    }
}

fn acl_names(acl: u64) -> Vec<String> {
    ACL_CATEGORIES
        .iter()
        .enumerate()
        .filter(|(i, _)| acl & (1 << i) != 0)
        .map(|(_, n)| format!("@{n}"))
        .collect()
}

fn flag_names(f: u32) -> Vec<String> {
    flags::NAMES
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Key spec flags of a command without explicit specs, as Redis names them.
fn default_key_flags(c: &Command) -> &'static [&'static str] {
    if c.has(flags::WRITE) {
        &["RW", "update"]
    } else {
        &["RO", "access"]
    }
}

fn write_flag_set(r: &mut Reply, f: &[&str]) {
    r.set(f.len());
    for x in f {
        r.status(x);
    }
}

/// The one key spec first/last/step describe, for a command the
/// generated facts do not cover.
fn write_key_specs(r: &mut Reply, c: &Command) {
    let s = c.spec;
    if s.first_key <= 0 && s.getkeys.is_none() {
        return write_meta_specs(r, &[]);
    }
    let (begin, find) = if s.first_key <= 0 {
        (Begin::Unknown, Find::Unknown)
    } else {
        let lastkey = if s.last_key < 0 {
            s.last_key
        } else {
            s.last_key - s.first_key
        };
        (Begin::Index(s.first_key), Find::Range(lastkey, s.step, 0))
    };
    let spec = Spec {
        notes: "",
        flags: default_key_flags(c),
        begin,
        find,
    };
    write_meta_specs(r, &[spec]);
}

fn write_info(r: &mut Reply, c: &Command) {
    let s = c.spec;
    r.array(10);
    r.bulk(c.fullname.as_bytes());
    r.int(s.arity as i64);
    write_set(r, &flag_names(c.flags));
    r.int(s.first_key.max(0) as i64);
    r.int(if s.first_key <= 0 {
        0
    } else {
        s.last_key as i64
    });
    r.int(if s.first_key <= 0 { 0 } else { s.step as i64 });
    write_set(r, &acl_names(c.acl));
    let m = meta(&c.fullname);
    let tips = m.map_or(s.tips, |m| m.tips);
    r.set(tips.len());
    for t in tips {
        r.bulk(t.as_bytes());
    }
    match m {
        Some(m) => write_meta_specs(r, m.specs),
        None => write_key_specs(r, c),
    }
    let mut subs: Vec<&Command> = c.subcommands.values().collect();
    subs.sort_by(|a, b| a.fullname.cmp(&b.fullname));
    r.array(subs.len());
    for sc in subs {
        write_info(r, sc);
    }
}

fn write_meta_specs(r: &mut Reply, specs: &[Spec]) {
    r.set(specs.len());
    for k in specs {
        r.map(3 + usize::from(!k.notes.is_empty()));
        if !k.notes.is_empty() {
            r.bulk(b"notes");
            r.bulk(k.notes.as_bytes());
        }
        r.bulk(b"flags");
        write_flag_set(r, k.flags);
        r.bulk(b"begin_search");
        r.map(2);
        r.bulk(b"type");
        match k.begin {
            Begin::Index(i) => {
                r.bulk(b"index");
                write_int_map(r, &[("index", i)]);
            }
            Begin::Keyword(kw, from) => {
                r.bulk(b"keyword");
                r.bulk(b"spec");
                r.map(2);
                r.bulk(b"keyword");
                r.bulk(kw.as_bytes());
                r.bulk(b"startfrom");
                r.int(from as i64);
            }
            Begin::Unknown => {
                r.bulk(b"unknown");
                write_int_map(r, &[]);
            }
        }
        r.bulk(b"find_keys");
        r.map(2);
        r.bulk(b"type");
        match k.find {
            Find::Range(last, step, limit) => {
                r.bulk(b"range");
                write_int_map(r, &[("lastkey", last), ("keystep", step), ("limit", limit)]);
            }
            Find::Keynum(idx, first, step) => {
                r.bulk(b"keynum");
                write_int_map(
                    r,
                    &[("keynumidx", idx), ("firstkey", first), ("keystep", step)],
                );
            }
            Find::Unknown => {
                r.bulk(b"unknown");
                write_int_map(r, &[]);
            }
        }
    }
}

/// `"spec"` followed by a map of integer fields.
fn write_int_map(r: &mut Reply, fields: &[(&str, i32)]) {
    r.bulk(b"spec");
    r.map(fields.len());
    for (k, v) in fields {
        r.bulk(k.as_bytes());
        r.int(*v as i64);
    }
}

/// COMMAND DOCS of a command the reference documents, field for field as
/// Redis's addReplyCommandDocs writes them.
fn write_meta_docs(r: &mut Reply, c: &Command, m: &Meta) {
    let present = [
        !m.summary.is_empty(),
        !m.since.is_empty(),
        true,
        !m.complexity.is_empty(),
        !m.doc_flags.is_empty(),
        !m.deprecated_since.is_empty(),
        !m.replaced_by.is_empty(),
        !m.history.is_empty(),
        !m.args.is_empty(),
        !c.subcommands.is_empty(),
    ];
    r.map(present.iter().filter(|p| **p).count());
    for (name, val) in [
        ("summary", m.summary),
        ("since", m.since),
        ("group", m.group),
        ("complexity", m.complexity),
    ] {
        if !val.is_empty() || name == "group" {
            r.bulk(name.as_bytes());
            r.bulk(val.as_bytes());
        }
    }
    if !m.doc_flags.is_empty() {
        r.bulk(b"doc_flags");
        write_flag_set(r, m.doc_flags);
    }
    for (name, val) in [
        ("deprecated_since", m.deprecated_since),
        ("replaced_by", m.replaced_by),
    ] {
        if !val.is_empty() {
            r.bulk(name.as_bytes());
            r.bulk(val.as_bytes());
        }
    }
    if !m.history.is_empty() {
        r.bulk(b"history");
        r.set(m.history.len());
        for (v, t) in m.history {
            r.array(2);
            r.bulk(v.as_bytes());
            r.bulk(t.as_bytes());
        }
    }
    if !m.args.is_empty() {
        r.bulk(b"arguments");
        write_meta_args(r, m.args);
    }
    write_sub_docs(r, c);
}

fn write_meta_args(r: &mut Reply, args: &[Arg]) {
    const ARG_FLAGS: [&str; 3] = ["optional", "multiple", "multiple_token"];
    r.array(args.len());
    for a in args {
        let nested = a.typ == "oneof" || a.typ == "block";
        let strs = [
            ("summary", a.summary),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ];
        let n = 2
            + usize::from(a.key_spec >= 0)
            + usize::from(a.token.is_some())
            + strs.iter().filter(|(_, v)| !v.is_empty()).count()
            + usize::from(a.flags != 0)
            + usize::from(nested);
        r.map(n);
        r.bulk(b"name");
        r.bulk(a.name.as_bytes());
        r.bulk(b"type");
        r.bulk(a.typ.as_bytes());
        if a.key_spec >= 0 {
            r.bulk(b"key_spec_index");
            r.int(a.key_spec as i64);
        }
        if let Some(t) = a.token {
            r.bulk(b"token");
            r.bulk(t.as_bytes());
        }
        for (k, v) in strs {
            if !v.is_empty() {
                r.bulk(k.as_bytes());
                r.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            r.bulk(b"flags");
            let names: Vec<&str> = (0..3)
                .filter(|i| a.flags & (1 << i) != 0)
                .map(|i| ARG_FLAGS[i])
                .collect();
            write_flag_set(r, &names);
        }
        if nested {
            r.bulk(b"arguments");
            write_meta_args(r, a.args);
        }
    }
}

fn write_sub_docs(r: &mut Reply, c: &Command) {
    if !c.subcommands.is_empty() {
        r.bulk(b"subcommands");
        let mut subs: Vec<&Command> = c.subcommands.values().collect();
        subs.sort_by(|a, b| a.fullname.cmp(&b.fullname));
        r.map(subs.len());
        for sc in subs {
            r.bulk(sc.fullname.as_bytes());
            write_docs(r, sc);
        }
    }
}

fn write_docs(r: &mut Reply, c: &Command) {
    if let Some(m) = meta(&c.fullname) {
        return write_meta_docs(r, c, m);
    }
    let s = c.spec;
    let mut n = 1;
    if !s.summary.is_empty() {
        n += 1;
    }
    if !s.since.is_empty() {
        n += 1;
    }
    if !s.complexity.is_empty() {
        n += 1;
    }
    if !c.subcommands.is_empty() {
        n += 1;
    }
    r.map(n);
    if !s.summary.is_empty() {
        r.bulk(b"summary");
        r.bulk(s.summary.as_bytes());
    }
    if !s.since.is_empty() {
        r.bulk(b"since");
        r.bulk(s.since.as_bytes());
    }
    r.bulk(b"group");
    r.bulk(s.group.as_bytes());
    if !s.complexity.is_empty() {
        r.bulk(b"complexity");
        r.bulk(s.complexity.as_bytes());
    }
    write_sub_docs(r, c);
}

fn command(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() > 1 {
        // Reached only for an unknown subcommand.
        let msg = format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(&argv[1])
        );
        ctx.error(&msg);
        return;
    }
    let reg = &ctx.srv.commands;
    let r = &mut ctx.client.reply;
    r.array(reg.commands.len());
    for c in reg.commands.values() {
        write_info(r, c);
    }
}

fn count(ctx: &mut Ctx, _argv: &[Bytes]) {
    let n = ctx.srv.commands.commands.len() as i64;
    ctx.reply().int(n);
}

fn info(ctx: &mut Ctx, argv: &[Bytes]) {
    let reg = &ctx.srv.commands;
    let r = &mut ctx.client.reply;
    if argv.len() == 2 {
        r.array(reg.commands.len());
        for c in reg.commands.values() {
            write_info(r, c);
        }
        return;
    }
    r.array(argv.len() - 2);
    for a in &argv[2..] {
        match reg.lookup_name(a) {
            Some(c) => write_info(r, c),
            None => r.null_array(),
        }
    }
}

fn docs(ctx: &mut Ctx, argv: &[Bytes]) {
    let reg = &ctx.srv.commands;
    let r = &mut ctx.client.reply;
    if argv.len() == 2 {
        r.map(reg.commands.len());
        for c in reg.commands.values() {
            r.bulk(c.fullname.as_bytes());
            write_docs(r, c);
        }
        return;
    }
    let found: Vec<&Command> = argv[2..]
        .iter()
        .filter_map(|a| reg.lookup_name(a))
        .collect();
    r.map(found.len());
    for c in found {
        r.bulk(c.fullname.as_bytes());
        write_docs(r, c);
    }
}

fn list(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut filter: Option<(String, Vec<u8>)> = None;
    let mut i = 2;
    while i < argv.len() {
        if eq_ic(&argv[i], "filterby") && argv.len() - 1 - i == 2 {
            let t = String::from_utf8_lossy(&argv[i + 1]).to_ascii_lowercase();
            if !matches!(t.as_str(), "module" | "aclcat" | "pattern") {
                ctx.syntax_error();
                return;
            }
            filter = Some((t, argv[i + 2].to_vec()));
            i += 3;
        } else {
            ctx.syntax_error();
            return;
        }
    }
    let mut names: Vec<String> = Vec::new();
    for c in ctx.srv.commands.commands.values() {
        let mut all = vec![c];
        all.extend(c.subcommands.values());
        for x in all {
            let keep = match &filter {
                None => true,
                Some((t, arg)) if t == "module" => {
                    let _ = arg;
                    false
                }
                Some((t, arg)) if t == "aclcat" => {
                    let cat = String::from_utf8_lossy(arg).to_ascii_lowercase();
                    ACL_CATEGORIES
                        .iter()
                        .position(|c| *c == cat)
                        .is_some_and(|i| x.acl & (1 << i) != 0)
                }
                Some((_, arg)) => glob_match(arg, x.fullname.as_bytes(), true),
            };
            if keep {
                names.push(x.fullname.clone());
            }
        }
    }
    ctx.reply().bulk_array(names.iter());
}

type KeyRefs = Vec<(usize, &'static [&'static str])>;

/// Keys of `argv` with their flags, as Redis's getKeysUsingKeySpecs finds
/// them. A spec that cannot be resolved (unknown, incomplete, a bad key
/// count, out of range) makes it None, which sends the caller to the
/// command's own key finder, unless `partial` asks for what the other
/// specs found.
fn keys_by_meta_specs(specs: &[Spec], argv: &[Bytes], partial: bool) -> Option<KeyRefs> {
    let mut out = Vec::new();
    for k in specs {
        if k.flags.contains(&"not_key") {
            continue;
        }
        match spec_range(k, argv) {
            Ok(Some((first, last, step))) => {
                let mut i = first;
                while i <= last {
                    out.push((i as usize, k.flags));
                    i += step.max(1);
                }
                if !k.flags.contains(&"incomplete") || partial {
                    continue;
                }
                return None;
            }
            Ok(None) => continue,
            Err(()) if partial => continue,
            Err(()) => return None,
        }
    }
    Some(out)
}

/// The argument range one spec selects: Ok(None) when its keyword is
/// absent, Err when it cannot be resolved.
fn spec_range(k: &Spec, argv: &[Bytes]) -> Result<Option<(i32, i32, i32)>, ()> {
    let argc = argv.len() as i32;
    let mut first = match k.begin {
        Begin::Index(i) => i,
        Begin::Keyword(kw, from) => {
            let (start, end) = if from > 0 {
                (from, argc - 1)
            } else {
                (argc + from, 1)
            };
            let mut i = start;
            let mut found = 0;
            while i != end && (1..argc).contains(&i) {
                if eq_ic(&argv[i as usize], kw) {
                    found = i + 1;
                    break;
                }
                i += if start <= end { 1 } else { -1 };
            }
            if found == 0 {
                return Ok(None);
            }
            found
        }
        Begin::Unknown => return Err(()),
    };
    let (last, step) = match k.find {
        Find::Range(lastkey, step, limit) => {
            let last = if lastkey >= 0 {
                first + lastkey
            } else if limit == 0 {
                argc + lastkey
            } else {
                first + ((argc - first) / limit + lastkey)
            };
            (last, step)
        }
        Find::Keynum(idx, firstkey, step) => {
            let n = argv
                .get((first + idx) as usize)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|a| a.parse::<i32>().ok())
                .filter(|n| *n >= 0)
                .ok_or(())?;
            first += firstkey;
            (first + n - 1, step)
        }
        Find::Unknown => return Err(()),
    };
    if last >= argc || last < first || first >= argc {
        return Err(());
    }
    Ok(Some((first, last, step)))
}

/// Key positions of a command's generated specs, for the key finders of
/// commands whose keys hide behind keywords (GEORADIUS ... STORE).
pub fn spec_key_positions(name: &str, argv: &[Bytes]) -> Vec<usize> {
    let specs = meta(name).map_or(&[][..], |m| m.specs);
    keys_by_meta_specs(specs, argv, true)
        .unwrap_or_default()
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// The flags Redis's own key finders give, for the commands whose specs
/// cannot say (variable flags, keys found by parsing).
fn finder_key_flags(c: &Command, argv: &[Bytes], nth: usize) -> &'static [&'static str] {
    match c.fullname.as_str() {
        "set" if argv.iter().skip(3).any(|a| eq_ic(a, "get")) => &["RW", "access", "update"],
        "set" => &["OW", "update"],
        "bitfield" if bitfield_read_only(argv) => &["RO", "access"],
        "bitfield" => &["RW", "access", "update"],
        "sort" | "sort_ro" if nth == 0 => &["RO", "access"],
        "sort" => &["OW", "update"],
        "migrate" => &["RW", "access", "delete"],
        _ => &[],
    }
}

/// BITFIELD with only GET (and OVERFLOW) operations, as bitfieldGetKeys
/// decides it.
fn bitfield_read_only(argv: &[Bytes]) -> bool {
    let mut i = 2;
    while i < argv.len() {
        let rem = argv.len() - i - 1;
        if eq_ic(&argv[i], "get") && rem >= 2 {
            i += 3;
        } else if eq_ic(&argv[i], "overflow") && rem >= 1 {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS: key specs first when their flags are
/// reliable, else the command's own key finder (Redis's
/// getKeysFromCommandWithSpecs).
fn getkeys_impl(ctx: &mut Ctx, argv: &[Bytes], with_flags: bool) {
    let sub = &argv[2..];
    let Some(c) = ctx.srv.commands.lookup(sub) else {
        ctx.error("ERR Invalid command specified");
        return;
    };
    let m = meta(&c.fullname);
    let has_keyspec = m.is_some_and(|m| m.specs.iter().any(|k| !k.flags.contains(&"not_key")));
    let var_flags = m.is_some_and(|m| m.specs.iter().any(|k| k.flags.contains(&"variable_flags")));
    if !has_keyspec && c.spec.first_key <= 0 && c.spec.getkeys.is_none() {
        ctx.error("ERR The command has no key arguments");
        return;
    }
    let argc = sub.len() as i32;
    if (c.spec.arity > 0 && c.spec.arity != argc) || argc < -c.spec.arity {
        ctx.error("ERR Invalid number of arguments specified for command");
        return;
    }
    let by_specs = match m {
        Some(m) if has_keyspec && !var_flags => keys_by_meta_specs(m.specs, sub, false),
        _ => None,
    };
    let pos: KeyRefs = match by_specs {
        Some(p) => p,
        None if m.is_some() => c
            .key_positions(sub)
            .into_iter()
            .enumerate()
            .map(|(n, p)| (p, finder_key_flags(c, sub, n)))
            .collect(),
        None => {
            let f = default_key_flags(c);
            c.key_positions(sub).into_iter().map(|p| (p, f)).collect()
        }
    };
    if pos.is_empty() && !c.has(flags::NO_MANDATORY_KEYS) {
        ctx.error("ERR Invalid arguments specified for command");
        return;
    }
    let r = &mut ctx.client.reply;
    r.array(pos.len());
    for (p, f) in pos {
        if with_flags {
            r.array(2);
            r.bulk(&sub[p]);
            write_flag_set(r, f);
        } else {
            r.bulk(&sub[p]);
        }
    }
}

fn getkeys(ctx: &mut Ctx, argv: &[Bytes]) {
    getkeys_impl(ctx, argv, false);
}

fn getkeysandflags(ctx: &mut Ctx, argv: &[Bytes]) {
    getkeys_impl(ctx, argv, true);
}

fn help(ctx: &mut Ctx, _argv: &[Bytes]) {
    let lines = [
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Print this help.",
    ];
    help_reply(ctx, &lines);
}

/// Reply a HELP text as an array of status lines.
pub fn help_reply(ctx: &mut Ctx, lines: &[&str]) {
    let r = ctx.reply();
    r.array(lines.len());
    for l in lines {
        r.status(l);
    }
}

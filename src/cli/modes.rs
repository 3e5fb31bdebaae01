//! The special modes of redis-cli: interactive REPL, --pipe, --scan,
//! --bigkeys/--memkeys/--hotkeys, --stat, --latency, --eval, --rdb,
//! --replica, --intrinsic-latency, and the `help` command.

use super::format::{self, Output};
use super::reply::Reply;
use super::{err_str, exit, out, out_str, Cli, CC_FORCE, CC_QUIET, FORCE_CANCEL};
use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn mstime() -> i64 {
    crate::util::mstime()
}

fn ustime() -> i64 {
    crate::util::ustime()
}

fn usleep(us: i64) {
    if us > 0 {
        std::thread::sleep(Duration::from_micros(us as u64));
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/* ------------------------------------------------------------------ */
/* Help                                                                 */
/* ------------------------------------------------------------------ */

pub(crate) struct HelpEntry {
    argv: Vec<String>,
    full: String,
    is_group: bool,
    name: String,
    params: String,
    summary: String,
    since: Option<String>,
    group: String,
}

fn map_pairs(r: &Reply) -> Option<&[Reply]> {
    match r {
        Reply::Map(v) | Reply::Array(v) => Some(v),
        _ => None,
    }
}

fn or_empty(s: &str) -> String {
    if s.is_empty() {
        "\"\"".to_string()
    } else {
        s.to_string()
    }
}

fn concat_arguments(args: &Reply, sep: &str) -> String {
    let mut p = String::new();
    if let Reply::Array(v) = args {
        for (j, a) in v.iter().enumerate() {
            p.push_str(&add_argument(a));
            if j + 1 != v.len() {
                p.push_str(sep);
            }
        }
    }
    p
}

fn add_argument(arg: &Reply) -> String {
    let Some(kv) = map_pairs(arg) else {
        return String::new();
    };
    let (mut name, mut typ) = (String::new(), String::new());
    let (mut optional, mut multiple, mut multiple_token) = (false, false, false);
    let mut token_part = String::new();
    let mut arguments: Option<&Reply> = None;
    for pair in kv.chunks(2) {
        let [k, v] = pair else { continue };
        let key = k.str_bytes().map(lossy).unwrap_or_default();
        let val = v.str_bytes().map(lossy).unwrap_or_default();
        match key.as_str() {
            "name" => name = val,
            "token" => token_part.push_str(&or_empty(&val)),
            "type" => typ = val,
            "arguments" => arguments = Some(v),
            "flags" => {
                if let Reply::Set(f) | Reply::Array(f) = v {
                    for fl in f {
                        match fl.str_bytes() {
                            Some(b"optional") => optional = true,
                            Some(b"multiple") => multiple = true,
                            Some(b"multiple_token") => multiple_token = true,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let repeat_part = match typ.as_str() {
        "key" | "string" | "integer" | "double" | "pattern" | "unix-time" | "token" => {
            or_empty(&name)
        }
        "oneof" => arguments
            .map(|a| concat_arguments(a, "|"))
            .unwrap_or_default(),
        "block" => arguments
            .map(|a| concat_arguments(a, " "))
            .unwrap_or_default(),
        "pure-token" => String::new(),
        _ => {
            err_str(&format!(
                "Unknown type '{}' set for argument '{}'\n",
                typ, name
            ));
            String::new()
        }
    };
    if !token_part.is_empty() && typ != "pure-token" {
        token_part.push(' ');
    }
    let mut p = String::new();
    if optional {
        p.push('[');
    }
    p.push_str(&token_part);
    p.push_str(&repeat_part);
    if multiple {
        p.push_str(" [");
        if multiple_token {
            p.push_str(&token_part);
        }
        p.push_str(&repeat_part);
        p.push_str(" ...]");
    }
    if optional {
        p.push(']');
    }
    p
}

fn help_entry(
    cmd: &str,
    sub: Option<&str>,
    specs: &Reply,
    out: &mut Vec<HelpEntry>,
    groups: &mut Vec<String>,
) {
    let mut argv = vec![cmd.to_ascii_uppercase()];
    if let Some(s) = sub {
        let after = s.split_once('|').map(|x| x.1).unwrap_or(s);
        argv.push(after.to_ascii_uppercase());
    }
    let full = argv.join(" ");
    let mut e = HelpEntry {
        argv,
        full: full.clone(),
        is_group: false,
        name: full,
        params: String::new(),
        summary: String::new(),
        since: None,
        group: String::new(),
    };
    let mut subs = Vec::new();
    if let Some(kv) = map_pairs(specs) {
        for pair in kv.chunks(2) {
            let [k, v] = pair else { continue };
            match k.str_bytes() {
                Some(b"summary") => e.summary = v.str_bytes().map(lossy).unwrap_or_default(),
                Some(b"since") => e.since = v.str_bytes().map(lossy),
                Some(b"group") => {
                    e.group = v.str_bytes().map(lossy).unwrap_or_default();
                    if !groups.contains(&e.group) {
                        groups.push(e.group.clone());
                    }
                }
                Some(b"arguments") => e.params.push_str(&concat_arguments(v, " ")),
                Some(b"subcommands") => {
                    if let Some(sv) = map_pairs(v) {
                        for sp in sv.chunks(2) {
                            if let [sn, sspec] = sp {
                                subs.push((sn.str_bytes().map(lossy).unwrap_or_default(), sspec));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out.push(e);
    for (sn, sspec) in subs {
        help_entry(cmd, Some(&sn), sspec, out, groups);
    }
}

/// Command groups in the order redis-cli lists them when it cannot ask
/// the server.
const OFFLINE_GROUPS: &[&str] = &[
    "generic",
    "string",
    "list",
    "set",
    "sorted-set",
    "hash",
    "pubsub",
    "transactions",
    "connection",
    "server",
    "scripting",
    "hyperloglog",
    "cluster",
    "geo",
    "stream",
    "bitmap",
];

/// The help table used without a server (redis-cli falls back to the
/// table compiled into it): Ermine's own command table, groups first,
/// then commands and subcommands by name. It has no argument syntax, so
/// hints are empty.
fn builtin_help() -> Vec<HelpEntry> {
    let mut entries: Vec<HelpEntry> = OFFLINE_GROUPS
        .iter()
        .map(|g| HelpEntry {
            argv: vec![format!("@{}", g)],
            full: format!("@{}", g),
            is_group: true,
            name: String::new(),
            params: String::new(),
            summary: String::new(),
            since: None,
            group: String::new(),
        })
        .collect();
    let reg = crate::commands::Registry::new();
    let mut cmds = Vec::new();
    for c in reg.commands.values() {
        let mut argvs = vec![(vec![c.spec.name.to_ascii_uppercase()], c.spec)];
        for sc in c.subcommands.values() {
            argvs.push((
                vec![
                    c.spec.name.to_ascii_uppercase(),
                    sc.spec.name.to_ascii_uppercase(),
                ],
                sc.spec,
            ));
        }
        for (argv, spec) in argvs {
            let full = argv.join(" ");
            cmds.push(HelpEntry {
                argv,
                full: full.clone(),
                is_group: false,
                name: full,
                params: String::new(),
                summary: spec.summary.to_string(),
                since: Some(spec.since.to_string()),
                group: spec.group.replace('_', "-"),
            });
        }
    }
    cmds.sort_by(|a, b| a.full.cmp(&b.full));
    entries.extend(cmds);
    entries
}

/// cliInitHelp: build the help table from COMMAND DOCS (or COMMAND on
/// servers without it).
fn init_help(cli: &mut Cli) {
    let mut entries = Vec::new();
    if cli.connect(CC_QUIET).is_err() {
        cli.help = Some(builtin_help());
        return;
    }
    let table = cli.command(&[b"COMMAND", b"DOCS"]);
    match table {
        Some(Reply::Map(v)) | Some(Reply::Array(v)) => {
            let mut groups = Vec::new();
            for pair in v.chunks(2) {
                if let [name, specs] = pair {
                    let n = name.str_bytes().map(lossy).unwrap_or_default();
                    help_entry(&n, None, specs, &mut entries, &mut groups);
                }
            }
            for g in groups {
                entries.push(HelpEntry {
                    argv: vec![format!("@{}", g)],
                    full: format!("@{}", g),
                    is_group: true,
                    name: String::new(),
                    params: String::new(),
                    summary: String::new(),
                    since: None,
                    group: String::new(),
                });
            }
            // Groups sort with the commands ('@' before letters), as redis-cli's qsort does.
            entries.sort_by(|a, b| a.full.as_bytes().cmp(b.full.as_bytes()));
        }
        None | Some(Reply::Error(_)) => {
            // Older servers: the built-in table, plus what plain COMMAND
            // lists beyond it (names and arities only).
            entries = builtin_help();
            if let Some(Reply::Array(cmds)) = cli.command(&[b"COMMAND"]) {
                for c in cmds {
                    let Reply::Array(f) = c else { return };
                    if f.len() < 4 {
                        break;
                    }
                    let (Some(name), Reply::Int(arity), Reply::Int(first)) =
                        (f[0].str_bytes(), &f[1], &f[3])
                    else {
                        break;
                    };
                    let name = lossy(name).to_ascii_uppercase();
                    if entries
                        .iter()
                        .any(|e| e.argv[0].eq_ignore_ascii_case(&name))
                    {
                        continue;
                    }
                    let mut params = String::new();
                    let mut args = arity.unsigned_abs() as i64 - 1;
                    if *first == 1 {
                        params.push_str("key ");
                        args -= 1;
                    }
                    while args > 0 {
                        params.push_str("arg ");
                        args -= 1;
                    }
                    if *arity < 0 {
                        params.push_str("...options...");
                    }
                    entries.push(HelpEntry {
                        argv: vec![name.clone()],
                        full: name.clone(),
                        is_group: false,
                        name,
                        params,
                        summary: "Help not available".into(),
                        since: Some("Not known".into()),
                        group: "generic".into(),
                    });
                }
            }
        }
        _ => {}
    }
    cli.help = Some(entries);
}

fn generic_help() {
    out_str(&format!(
        "redis-cli {}\n\
To get help about Redis commands type:\n      \
\"help @<group>\" to get a list of commands in <group>\n      \
\"help <command>\" for help on <command>\n      \
\"help <tab>\" to get a list of possible help topics\n      \
\"quit\" to exit\n\
\n\
To set redis-cli preferences:\n      \
\":set hints\" enable online hints\n      \
\":set nohints\" disable online hints\n\
Set your preferences in ~/.redisclirc\n",
        super::cli_version()
    ));
}

fn command_help(e: &HelpEntry, with_group: bool) -> String {
    let mut s = format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
        e.name, e.params
    );
    s.push_str(&format!("  \x1b[33msummary:\x1b[0m {}\r\n", e.summary));
    if let Some(since) = &e.since {
        s.push_str(&format!("  \x1b[33msince:\x1b[0m {}\r\n", since));
    }
    if with_group {
        s.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", e.group));
    }
    s
}

/// cliOutputHelp.
pub(crate) fn output_help(cli: &mut Cli, argv: &[Vec<u8>]) {
    if argv.is_empty() {
        generic_help();
        return;
    }
    let args: Vec<String> = argv.iter().map(|a| lossy(a)).collect();
    let group = args[0].strip_prefix('@').map(|g| g.to_string());
    if cli.help.is_none() {
        init_help(cli);
    }
    let mut o = String::new();
    if let Some(entries) = &cli.help {
        for e in entries.iter().filter(|e| !e.is_group) {
            match &group {
                None => {
                    if args.len() <= e.argv.len()
                        && args
                            .iter()
                            .zip(e.argv.iter())
                            .all(|(a, b)| a.eq_ignore_ascii_case(b))
                    {
                        o.push_str(&command_help(e, true));
                    }
                }
                Some(g) => {
                    if g.eq_ignore_ascii_case(&e.group) {
                        o.push_str(&command_help(e, false));
                    }
                }
            }
        }
    }
    o.push_str("\r\n");
    out_str(&o);
}

/* ------------------------------------------------------------------ */
/* Interactive mode                                                     */
/* ------------------------------------------------------------------ */

fn history_path() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("REDISCLI_HISTFILE") {
        if p == "/dev/null" {
            return None;
        }
        return Some(p.into());
    }
    let home = std::env::var("HOME").ok()?;
    Some(std::path::Path::new(&home).join(".rediscli_history"))
}

fn rc_path() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("REDISCLI_RCFILE") {
        if p == "/dev/null" {
            return None;
        }
        return Some(p.into());
    }
    let home = std::env::var("HOME").ok()?;
    Some(std::path::Path::new(&home).join(".redisclirc"))
}

fn set_preferences(argv: &[Vec<u8>], interactive: bool) {
    let pfx = if interactive { "" } else { ".redisclirc: " };
    let a0 = lossy(&argv[0]);
    if a0.eq_ignore_ascii_case(":set") && argv.len() >= 2 {
        let a1 = lossy(&argv[1]);
        if a1.eq_ignore_ascii_case("hints") {
            super::edit::HINTS.store(true, Ordering::Relaxed);
        } else if a1.eq_ignore_ascii_case("nohints") {
            super::edit::HINTS.store(false, Ordering::Relaxed);
        } else {
            out_str(&format!("{}unknown redis-cli preference '{}'\n", pfx, a1));
        }
    } else {
        out_str(&format!(
            "{}unknown redis-cli internal command '{}'\n",
            pfx, a0
        ));
    }
}

fn load_preferences() {
    let Some(p) = rc_path() else { return };
    let Ok(text) = std::fs::read(p) else { return };
    for line in text.split(|&c| c == b'\n') {
        if let Some(argv) = format::split_args(line) {
            if !argv.is_empty() {
                set_preferences(&argv, false);
            }
        }
    }
}

fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let a: Vec<String> = argv.iter().map(|x| lossy(x).to_ascii_lowercase()).collect();
    let argc = a.len();
    if argc == 0 {
        return false;
    }
    if a[0] == "auth" {
        return true;
    }
    if argc > 1 && a[0] == "acl" && a[1] == "setuser" {
        return true;
    }
    if argc > 2
        && a[0] == "config"
        && a[1] == "set"
        && (a[2] == "masterauth" || a[2] == "masteruser" || a[2] == "requirepass")
    {
        return true;
    }
    if argc > 4 && a[0] == "hello" {
        let mut j = 2;
        while j < argc {
            let more = argc - 1 - j;
            if a[j] == "auth" && more >= 2 {
                return true;
            } else if a[j] == "setname" && more > 0 {
                j += 1;
            } else {
                return false;
            }
            j += 1;
        }
    } else if argc > 7 && a[0] == "migrate" {
        for (j, w) in a.iter().enumerate().skip(6) {
            let more = argc - 1 - j;
            if (w == "auth" && more > 0) || (w == "auth2" && more >= 2) {
                return true;
            } else if w == "keys" && more > 0 {
                return false;
            }
        }
    }
    false
}

/// C strtol() on the whole string: Some(value) only when every byte
/// was consumed; Err on overflow.
fn strtol_full(s: &[u8]) -> Option<Result<i64, ()>> {
    let t = std::str::from_utf8(s).ok()?;
    let trimmed = t.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let body = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if body.is_empty() {
        // No digits: endptr stays at the start, so a full match only
        // happens for the empty string (value 0).
        return if t.is_empty() { Some(Ok(0)) } else { None };
    }
    if !body.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(trimmed.parse::<i64>().map_err(|_| ()))
}

fn topics(cli: &Cli) -> Vec<super::edit::Topic> {
    cli.help
        .as_ref()
        .map(|h| {
            h.iter()
                .map(|e| super::edit::Topic {
                    full: e.full.clone(),
                    argv: e.argv.clone(),
                    params: e.params.clone(),
                    is_group: e.is_group,
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn repl(cli: &mut Cli) {
    if !cli.cfg.eval_ldb {
        init_help(cli);
    }
    cli.interactive = true;
    let tty = std::io::stdin().is_terminal();
    let mut editor = None;
    let mut hist_file = None;
    if tty {
        editor = super::edit::new_editor(topics(cli));
        hist_file = history_path();
        if let (Some(ed), Some(f)) = (editor.as_mut(), hist_file.as_ref()) {
            if let Ok(t) = std::fs::read(f) {
                for l in t.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                    let _ = ed.add_history_entry(String::from_utf8_lossy(l).as_ref());
                }
            }
        }
        load_preferences();
    }
    loop {
        let prompt = if cli.conn.is_some() {
            cli.prompt_override.clone().unwrap_or_else(|| cli.prompt())
        } else {
            "not connected> ".to_string()
        };
        if let Some(h) = editor.as_mut().and_then(|e| e.helper_mut()) {
            h.prompt_len = prompt.len();
        }
        let line = match editor.as_mut() {
            Some(ed) => match ed.readline(&prompt) {
                Ok(l) => l.into_bytes(),
                Err(_) => exit(0),
            },
            None => match super::read_line_stdin() {
                Some(l) => l,
                None => exit(0),
            },
        };
        let mut add_history = |line: &[u8]| {
            if let Some(ed) = editor.as_mut() {
                super::edit::history_add(ed, &lossy(line), hist_file.as_deref());
            }
        };
        if line.is_empty() {
            continue;
        }
        let Some(argv) = split_line(cli, &line) else {
            out_str("Invalid argument(s)\n");
            add_history(&line);
            continue;
        };
        if argv.is_empty() {
            continue;
        }
        let mut repeat = 1i64;
        let mut skip = 0usize;
        if argv.len() > 1 {
            if let Some(r) = strtol_full(&argv[0]) {
                match r {
                    Ok(n) if n > 0 => {
                        repeat = n;
                        skip = 1;
                    }
                    _ => {
                        out_str("Invalid redis-cli repeat command option value.\n");
                        continue;
                    }
                }
            }
        }
        if !is_sensitive(&argv[skip..]) {
            add_history(&line);
        }
        let a0 = lossy(&argv[0]);
        if a0.eq_ignore_ascii_case("quit") || a0.eq_ignore_ascii_case("exit") {
            exit(0);
        } else if a0.starts_with(':') {
            set_preferences(&argv, true);
            continue;
        } else if a0.eq_ignore_ascii_case("restart") {
            if cli.cfg.eval.is_some() {
                cli.cfg.eval_ldb = true;
                cli.cfg.output = Output::Raw;
                return;
            }
            out_str("Use 'restart' only in Lua debugging mode.\n");
        } else if argv.len() == 3 && a0.eq_ignore_ascii_case("connect") {
            cli.cfg.host = lossy(&argv[1]);
            cli.cfg.port = super::atoi32(&lossy(&argv[2]));
            let _ = cli.connect(CC_FORCE);
        } else if argv.len() == 1 && a0.eq_ignore_ascii_case("clear") {
            if let Some(ed) = editor.as_mut() {
                let _ = ed.clear_screen();
            }
        } else {
            let start = mstime();
            let _ = cli.issue_command_repeat(&argv[skip..], repeat);
            if cli.eval_ldb_end {
                cli.eval_ldb_end = false;
                let _ = cli.cli_read_reply(false);
                out_str(&format!(
                    "\n(Lua debugging session ended{})\n\n",
                    if cli.cfg.eval_ldb_sync {
                        ""
                    } else {
                        " -- dataset changes rolled back"
                    }
                ));
                init_help(cli);
                if let Some(h) = editor.as_mut().and_then(|e| e.helper_mut()) {
                    h.topics = topics(cli);
                }
            }
            let elapsed = mstime() - start;
            if elapsed >= 500 && cli.cfg.output == Output::Standard {
                out_str(&format!("({:.2}s)\n", elapsed as f64 / 1000.0));
            }
        }
    }
}

fn split_line(cli: &Cli, line: &[u8]) -> Option<Vec<Vec<u8>>> {
    if cli.cfg.eval_ldb && (line.starts_with(b"eval ") || line.starts_with(b"e ")) {
        let elen = if line.get(1) == Some(&b' ') { 2 } else { 5 };
        return Some(vec![line[..elen - 1].to_vec(), line[elen..].to_vec()]);
    }
    format::split_args(line)
}

/// Read a password from the terminal without echo (or a plain line
/// from a non-terminal stdin).
pub(crate) fn ask_password(msg: &str) -> Vec<u8> {
    let tty = std::io::stdin().is_terminal();
    if !tty {
        return super::read_line_stdin().unwrap_or_default();
    }
    out_str(msg);
    // SAFETY: plain termios calls on fd 0 with a zeroed struct that
    // tcgetattr fills in.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    let have = unsafe { libc::tcgetattr(0, &mut old) } == 0;
    if have {
        let mut raw = old;
        raw.c_lflag &= !(libc::ECHO);
        unsafe {
            libc::tcsetattr(0, libc::TCSAFLUSH, &raw);
        }
    }
    let line = super::read_line_stdin().unwrap_or_default();
    if have {
        unsafe {
            libc::tcsetattr(0, libc::TCSAFLUSH, &old);
        }
    }
    out_str("\n");
    line
}

/* ------------------------------------------------------------------ */
/* Eval mode                                                            */
/* ------------------------------------------------------------------ */

pub(crate) fn eval_mode(cli: &mut Cli, args: &[Vec<u8>]) -> i32 {
    let file = cli.cfg.eval.clone().unwrap_or_default();
    loop {
        if cli.cfg.eval_ldb {
            out_str(
                "Lua debugging session started, please use:\n\
quit    -- End the session.\n\
restart -- Restart the script in debug mode again.\n\
help    -- Show Lua script debugging commands.\n\n",
            );
        }
        let script = match std::fs::read(&file) {
            Ok(s) => s,
            Err(e) => {
                err_str(&format!(
                    "Can't open file '{}': {}\n",
                    file,
                    super::reply::strerror(&e)
                ));
                exit(1);
            }
        };
        if cli.cfg.eval_ldb {
            let mode: &[u8] = if cli.cfg.eval_ldb_sync {
                b"sync"
            } else {
                b"yes"
            };
            let _ = cli.command(&[b"SCRIPT", b"DEBUG", mode]);
        }
        let mut argv: Vec<Vec<u8>> = vec![b"EVAL".to_vec(), script, Vec::new()];
        let mut got_comma = false;
        let mut keys = 0;
        for a in args {
            if !got_comma && a == b"," {
                got_comma = true;
                continue;
            }
            argv.push(a.clone());
            if !got_comma {
                keys += 1;
            }
        }
        argv[2] = keys.to_string().into_bytes();
        let eval_ldb = cli.cfg.eval_ldb;
        let ok = cli.issue_command_repeat(&argv, cli.cfg.repeat).is_ok();
        if !eval_ldb {
            return if ok { 0 } else { 1 };
        }
        if !cli.cfg.eval_ldb {
            // The session ended at once: the script did not compile.
            out_str("Eval debugging session can't start:\n");
            let _ = cli.cli_read_reply(false);
            return if ok { 0 } else { 1 };
        }
        cli.prompt_override = Some("lua debugger> ".into());
        repl(cli);
        // repl() returns on "restart": start a fresh session.
        let _ = cli.connect(CC_FORCE);
        out_str("\n");
    }
}

/* ------------------------------------------------------------------ */
/* Replication based modes: --replica, --rdb                            */
/* ------------------------------------------------------------------ */

const RDB_EOF_MARK_SIZE: usize = 40;

pub(crate) fn send_replconf(cli: &mut Cli, a1: &str, a2: &str) -> bool {
    err_str(&format!("sending REPLCONF {} {}\n", a1, a2));
    match cli.command(&[b"REPLCONF", a1.as_bytes(), a2.as_bytes()]) {
        None => {
            err_str("\nI/O error\n");
            exit(1);
        }
        Some(Reply::Error(e)) => {
            err_str(&format!("REPLCONF {} error: {}\n", a1, lossy(&e)));
            false
        }
        Some(_) => true,
    }
}

/// Send SYNC and read the payload header; returns (length, eof mark).
fn send_sync(cli: &mut Cli) -> (u64, Option<Vec<u8>>) {
    let Some(c) = cli.conn.as_mut() else { exit(1) };
    if c.write_all(b"SYNC\r\n").is_err() {
        err_str("Error writing to master\n");
        exit(1);
    }
    let mut buf = Vec::new();
    loop {
        let mut b = [0u8; 1];
        match c.r.read(&mut b) {
            Ok(1) => {}
            _ => {
                err_str("Error reading bulk length while SYNCing\n");
                exit(1);
            }
        }
        if b[0] == b'\n' && !buf.is_empty() {
            break;
        }
        if b[0] != b'\n' {
            buf.push(b[0]);
        }
    }
    // The C code keeps the "\r" in the buffer.
    if buf.first() == Some(&b'-') {
        let mut v = b"SYNC with master failed: ".to_vec();
        v.extend_from_slice(&buf);
        v.push(b'\n');
        let _ = std::io::stderr().write_all(&v);
        exit(1);
    }
    if buf.len() > 5 && &buf[1..5] == b"EOF:" && buf.len() - 5 >= RDB_EOF_MARK_SIZE {
        return (0, Some(buf[5..5 + RDB_EOF_MARK_SIZE].to_vec()));
    }
    let n = super::strtoll(&lossy(buf.get(1..).unwrap_or(&[])));
    (n.max(0) as u64, None)
}

pub(crate) fn slave_mode(cli: &mut Cli) {
    let (mut payload, mark) = send_sync(cli);
    let usemark = mark.is_some();
    let mut last: Vec<u8> = vec![0; RDB_EOF_MARK_SIZE];
    if usemark {
        payload = u64::MAX;
        err_str("SYNC with master, discarding bytes of bulk transfer until EOF marker...\n");
    } else {
        err_str(&format!(
            "SYNC with master, discarding {} bytes of bulk transfer...\n",
            payload
        ));
    }
    let mut buf = [0u8; 1024];
    while payload > 0 {
        let want = (payload.min(buf.len() as u64)) as usize;
        let n = match cli.conn.as_mut().map(|c| c.r.read(&mut buf[..want])) {
            Some(Ok(n)) if n > 0 => n,
            _ => {
                err_str("Error reading RDB payload while SYNCing\n");
                exit(1);
            }
        };
        payload -= n as u64;
        if let Some(m) = &mark {
            last.extend_from_slice(&buf[..n]);
            let cut = last.len() - RDB_EOF_MARK_SIZE;
            last.drain(..cut);
            if &last == m {
                break;
            }
        }
    }
    if usemark {
        let offset = u64::MAX - payload;
        err_str(&format!(
            "SYNC done after {} bytes. Logging commands from master.\n",
            offset
        ));
        std::thread::sleep(Duration::from_secs(1));
        send_replconf(cli, "ACK", "0");
    } else {
        err_str("SYNC done. Logging commands from master.\n");
    }
    let orig = cli.cfg.output;
    cli.cfg.output = Output::Csv;
    while cli.cli_read_reply(false).is_ok() {}
    cli.cfg.output = orig;
}

pub(crate) fn get_rdb(cli: &mut Cli) {
    let filename = cli.cfg.rdb_filename.clone().unwrap_or_default();
    let (mut payload, mark) = send_sync(cli);
    let usemark = mark.is_some();
    let mut last: Vec<u8> = vec![0; RDB_EOF_MARK_SIZE];
    if usemark {
        payload = u64::MAX;
        err_str(&format!(
            "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{}'\n",
            filename
        ));
    } else {
        err_str(&format!(
            "SYNC sent to master, writing {} bytes to '{}'\n",
            payload, filename
        ));
    }
    let to_stdout = filename == "-";
    let mut file: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout())
    } else {
        use std::os::unix::fs::OpenOptionsExt;
        // O_CREAT|O_WRONLY, 0644, no truncation: what redis-cli does.
        match std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o644)
            .open(&filename)
        {
            Ok(f) => Box::new(f),
            Err(e) => {
                err_str(&format!(
                    "Error opening '{}': {}\n",
                    filename,
                    super::reply::strerror(&e)
                ));
                exit(1);
            }
        }
    };
    let mut buf = [0u8; 4096];
    while payload > 0 {
        let want = (payload.min(buf.len() as u64)) as usize;
        let n = match cli.conn.as_mut().map(|c| c.r.read(&mut buf[..want])) {
            Some(Ok(n)) if n > 0 => n,
            _ => {
                err_str("I/O Error reading RDB payload from socket\n");
                exit(1);
            }
        };
        if let Err(e) = file.write_all(&buf[..n]) {
            err_str(&format!(
                "Error writing data to file: {}\n",
                super::reply::strerror(&e)
            ));
            exit(1);
        }
        payload -= n as u64;
        if let Some(m) = &mark {
            last.extend_from_slice(&buf[..n]);
            let cut = last.len() - RDB_EOF_MARK_SIZE;
            last.drain(..cut);
            if &last == m {
                break;
            }
        }
    }
    let _ = file.flush();
    drop(file);
    if usemark {
        let size = u64::MAX - payload - RDB_EOF_MARK_SIZE as u64;
        if !to_stdout {
            if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&filename) {
                if let Err(e) = f.set_len(size) {
                    err_str(&format!(
                        "ftruncate failed: {}.\n",
                        super::reply::strerror(&e)
                    ));
                }
            }
        }
        err_str(&format!(
            "Transfer finished with success after {} bytes\n",
            size
        ));
    } else {
        err_str("Transfer finished with success.\n");
    }
    cli.conn = None;
    if !to_stdout {
        if let Ok(f) = std::fs::File::open(&filename) {
            if let Err(e) = f.sync_all() {
                err_str(&format!(
                    "Fail to fsync '{}': {}\n",
                    filename,
                    super::reply::strerror(&e)
                ));
                exit(1);
            }
        }
    }
    exit(0);
}

/* ------------------------------------------------------------------ */
/* Pipe mode                                                            */
/* ------------------------------------------------------------------ */

pub(crate) fn pipe_mode(cli: &mut Cli) {
    use std::sync::atomic::{AtomicBool, AtomicI64};
    use std::sync::Arc;

    let Some(conn) = cli.conn.take() else { exit(1) };
    let mut writer = match conn.w.try_clone() {
        Ok(w) => w,
        Err(_) => exit(1),
    };
    let mut reader = conn.r;
    let mut magic = [0u8; 20];
    for chunk in magic.chunks_mut(8) {
        let r = crate::util::random_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let eof = Arc::new(AtomicBool::new(false));
    let eof_time = Arc::new(AtomicI64::new(0));
    {
        let eof = eof.clone();
        let eof_time = eof_time.clone();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Err(e) = writer.write_all(&buf[..n]) {
                            err_str(&format!(
                                "Error writing to the server: {}\n",
                                super::reply::strerror(&e)
                            ));
                            exit(1);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        err_str(&format!(
                            "Error reading from stdin: {}\n",
                            super::reply::strerror(&e)
                        ));
                        exit(1);
                    }
                }
            }
            let mut echo = b"\r\n*2\r\n$4\r\nECHO\r\n$20\r\n".to_vec();
            echo.extend_from_slice(&magic);
            echo.extend_from_slice(b"\r\n");
            eof_time.store(crate::util::mstime(), Ordering::SeqCst);
            eof.store(true, Ordering::SeqCst);
            out_str("All data transferred. Waiting for the last reply...\n");
            if let Err(e) = writer.write_all(&echo) {
                err_str(&format!(
                    "Error writing to the server: {}\n",
                    super::reply::strerror(&e)
                ));
                exit(1);
            }
        });
    }

    let _ = reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)));
    let (mut errors, mut replies) = (0i64, 0i64);
    let mut pending: Vec<u8> = Vec::new();
    let mut last_read = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = false;
    let mut read_error = false;
    while !done {
        match reader.read(&mut buf) {
            Ok(0) => read_error = true,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut
                    || e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => read_error = true,
        }
        // Parse every complete reply in the buffer.
        let mut pos = 0usize;
        loop {
            let mut cur = std::io::Cursor::new(&pending[pos..]);
            match super::reply::read_reply(&mut cur) {
                Ok(r) => {
                    pos += cur.position() as usize;
                    last_read = Instant::now();
                    match &r {
                        Reply::Error(e) => {
                            let mut v = e.clone();
                            v.push(b'\n');
                            let _ = std::io::stderr().write_all(&v);
                            errors += 1;
                        }
                        Reply::Bulk(s)
                            if eof.load(Ordering::SeqCst)
                                && s.len() == 20
                                && s[..] == magic[..] =>
                        {
                            out_str("Last reply received from server.\n");
                            done = true;
                            replies -= 1;
                        }
                        _ => {}
                    }
                    replies += 1;
                    if done {
                        break;
                    }
                }
                Err(e) if e.io => break,
                Err(_) => {
                    err_str("Error reading replies from server\n");
                    exit(1);
                }
            }
        }
        pending.drain(..pos);
        if read_error && !done {
            exit(1);
        }
        if !done && eof.load(Ordering::SeqCst) && cli.cfg.pipe_timeout > 0 {
            let since_eof = crate::util::mstime() - eof_time.load(Ordering::SeqCst);
            let idle = last_read
                .elapsed()
                .as_secs_f64()
                .min(since_eof as f64 / 1000.0);
            // time(NULL) granularity: more than pipe_timeout whole seconds.
            if idle >= (cli.cfg.pipe_timeout as f64 + 1.0) {
                err_str(&format!(
                    "No replies for {} seconds: exiting.\n",
                    cli.cfg.pipe_timeout
                ));
                errors += 1;
                break;
            }
        }
    }
    out_str(&format!("errors: {}, replies: {}\n", errors, replies));
    exit(if errors > 0 { 1 } else { 0 });
}

/* ------------------------------------------------------------------ */
/* Keyspace modes: --scan, --bigkeys, --memkeys, --hotkeys              */
/* ------------------------------------------------------------------ */

fn send_scan(cli: &mut Cli, it: &mut u64) -> Vec<Vec<u8>> {
    let cur = it.to_string();
    let r = match cli.cfg.pattern.clone() {
        Some(p) => cli.command(&[b"SCAN", cur.as_bytes(), b"MATCH", &p]),
        None => cli.command(&[b"SCAN", cur.as_bytes()]),
    };
    match r {
        None => {
            err_str("\nI/O error\n");
            exit(1);
        }
        Some(Reply::Error(e)) => {
            err_str(&format!("SCAN error: {}\n", lossy(&e)));
            exit(1);
        }
        Some(Reply::Array(v)) => {
            if v.len() != 2 {
                err_str("Invalid element count from SCAN!\n");
                exit(1);
            }
            *it = super::strtoll(&lossy(v[0].str_bytes().unwrap_or(b"0"))) as u64;
            match &v[1] {
                Reply::Array(keys) => keys
                    .iter()
                    .map(|k| k.str_bytes().unwrap_or(b"").to_vec())
                    .collect(),
                _ => {
                    err_str("Non ARRAY response from SCAN!\n");
                    exit(1);
                }
            }
        }
        Some(_) => {
            err_str("Non ARRAY response from SCAN!\n");
            exit(1);
        }
    }
}

pub(crate) fn scan_mode(cli: &mut Cli) {
    super::install_cancel_handler();
    let mut cur = 0u64;
    loop {
        let keys = send_scan(cli, &mut cur);
        let mut o = Vec::new();
        for k in keys {
            if cli.cfg.output == Output::Standard {
                format::repr_into(&mut o, &k);
            } else {
                let end = k.iter().position(|&b| b == 0).unwrap_or(k.len());
                o.extend_from_slice(&k[..end]);
            }
            o.push(b'\n');
        }
        out(&o);
        usleep(cli.cfg.interval);
        if FORCE_CANCEL.load(Ordering::SeqCst) || cur == 0 {
            break;
        }
    }
    exit(0);
}

fn get_dbsize(cli: &mut Cli) -> u64 {
    match cli.command(&[b"DBSIZE"]) {
        None => {
            err_str("\nI/O error\n");
            exit(1);
        }
        Some(Reply::Error(e)) => {
            err_str(&format!("Couldn't determine DBSIZE: {}\n", lossy(&e)));
            exit(1);
        }
        Some(Reply::Int(n)) => n as i32 as i64 as u64,
        Some(_) => {
            err_str("Non INTEGER response from DBSIZE!\n");
            exit(1);
        }
    }
}

struct TypeInfo {
    name: String,
    sizecmd: Option<&'static str>,
    sizeunit: &'static str,
    biggest: u64,
    count: u64,
    totalsize: u64,
    biggest_key: Option<Vec<u8>>,
}

fn typeinfo(name: &str, sizecmd: Option<&'static str>, unit: &'static str) -> TypeInfo {
    TypeInfo {
        name: name.to_string(),
        sizecmd,
        sizeunit: unit,
        biggest: 0,
        count: 0,
        totalsize: 0,
        biggest_key: None,
    }
}

fn pipeline(cli: &mut Cli, cmds: &[Vec<Vec<u8>>]) -> Vec<Result<Reply, String>> {
    let mut buf = Vec::new();
    for c in cmds {
        buf.extend_from_slice(&super::reply::encode_command(c));
    }
    let mut res = Vec::with_capacity(cmds.len());
    let Some(conn) = cli.conn.as_mut() else {
        return res;
    };
    if let Err(e) = conn.write_all(&buf) {
        res.push(Err(e));
        return res;
    }
    for _ in cmds {
        match cli.read_reply() {
            Ok(r) => res.push(Ok(r)),
            Err(e) => {
                res.push(Err(e.msg));
                break;
            }
        }
    }
    res
}

fn pct_str(p: f64) -> String {
    if p.is_nan() {
        return " -nan".into();
    }
    format!("{:05.2}", p)
}

pub(crate) fn find_big_keys(cli: &mut Cli, memkeys: bool, samples: i32) {
    let mut types: Vec<TypeInfo> = vec![
        typeinfo("string", Some("STRLEN"), "bytes"),
        typeinfo("list", Some("LLEN"), "items"),
        typeinfo("set", Some("SCARD"), "members"),
        typeinfo("hash", Some("HLEN"), "fields"),
        typeinfo("zset", Some("ZCARD"), "members"),
        typeinfo("stream", Some("XLEN"), "entries"),
    ];
    let mut dict = super::typedict::TypeDict::new();
    for t in &types {
        dict.add(&t.name);
    }
    super::install_cancel_handler();
    let total_keys = get_dbsize(cli);
    out_str("\n# Scanning the entire keyspace to find biggest keys as well as\n");
    out_str("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n");
    out_str("# per 100 SCAN commands (not usually needed).\n\n");
    let (mut sampled, mut totlen, mut it, mut loops) = (0u64, 0u64, 0u64, 0u64);
    let mut pct;
    loop {
        pct = 100.0 * sampled as f64 / total_keys as f64;
        let keys = send_scan(cli, &mut it);
        loops += 1;
        // Types.
        let cmds: Vec<Vec<Vec<u8>>> = keys
            .iter()
            .map(|k| vec![b"TYPE".to_vec(), k.clone()])
            .collect();
        let replies = pipeline(cli, &cmds);
        let mut tidx: Vec<Option<usize>> = Vec::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            match replies.get(i) {
                Some(Ok(Reply::Status(t))) => {
                    let t = lossy(t);
                    if let Some(p) = dict.find(&t) {
                        tidx.push(Some(p));
                    } else if t != "none" {
                        types.push(typeinfo(&t, None, "?"));
                        tidx.push(Some(dict.add(&t)));
                    } else {
                        tidx.push(None);
                    }
                }
                Some(Ok(Reply::Error(e))) => {
                    err_str(&format!("TYPE returned an error: {}\n", lossy(e)));
                    exit(1);
                }
                Some(Ok(r)) => {
                    err_str(&format!(
                        "Invalid reply type ({}) for TYPE on key '{}'!\n",
                        r.type_code(),
                        lossy(k)
                    ));
                    exit(1);
                }
                other => {
                    let msg = match other {
                        Some(Err(e)) => e.clone(),
                        _ => "Server closed the connection".into(),
                    };
                    err_str(&format!(
                        "Error getting type for key '{}' (3: {})\n",
                        lossy(k),
                        msg
                    ));
                    exit(1);
                }
            }
        }
        // Sizes.
        let mut cmds = Vec::new();
        let mut which = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let Some(t) = tidx[i] else { continue };
            let ti = &types[t];
            if ti.sizecmd.is_none() && !memkeys {
                continue;
            }
            which.push(i);
            if !memkeys {
                cmds.push(vec![
                    ti.sizecmd.unwrap_or("").as_bytes().to_vec(),
                    k.clone(),
                ]);
            } else if samples == 0 {
                cmds.push(vec![b"MEMORY".to_vec(), b"USAGE".to_vec(), k.clone()]);
            } else {
                cmds.push(vec![
                    b"MEMORY".to_vec(),
                    b"USAGE".to_vec(),
                    k.clone(),
                    b"SAMPLES".to_vec(),
                    samples.to_string().into_bytes(),
                ]);
            }
        }
        let replies = pipeline(cli, &cmds);
        let mut sizes = vec![0u64; keys.len()];
        for (j, &i) in which.iter().enumerate() {
            match replies.get(j) {
                Some(Ok(Reply::Int(n))) => sizes[i] = *n as u64,
                Some(Ok(_)) => {
                    let t = tidx[i].map(|t| &types[t]);
                    err_str(&format!(
                        "Warning:  {} on '{}' failed (may have changed type)\n",
                        if !memkeys {
                            t.and_then(|t| t.sizecmd).unwrap_or("")
                        } else {
                            "MEMORY USAGE"
                        },
                        lossy(&keys[i])
                    ));
                }
                other => {
                    let msg = match other {
                        Some(Err(e)) => e.clone(),
                        _ => "Server closed the connection".into(),
                    };
                    err_str(&format!(
                        "Error getting size for key '{}' (3: {})\n",
                        lossy(&keys[i]),
                        msg
                    ));
                    exit(1);
                }
            }
        }
        let mut o = String::new();
        for (i, k) in keys.iter().enumerate() {
            let Some(t) = tidx[i] else { continue };
            let ti = &mut types[t];
            ti.totalsize = ti.totalsize.wrapping_add(sizes[i]);
            ti.count += 1;
            totlen += k.len() as u64;
            sampled += 1;
            if ti.biggest < sizes[i] {
                let name = format::repr(k);
                o.push_str(&format!(
                    "[{}%] Biggest {:<6} found so far '{}' with {} {}\n",
                    pct_str(pct),
                    ti.name,
                    lossy(&name),
                    sizes[i],
                    if !memkeys { ti.sizeunit } else { "bytes" }
                ));
                ti.biggest_key = Some(name);
                ti.biggest = sizes[i];
            }
            if sampled % 1_000_000 == 0 {
                o.push_str(&format!(
                    "[{}%] Sampled {} keys so far\n",
                    pct_str(pct),
                    sampled
                ));
            }
        }
        out_str(&o);
        if cli.cfg.interval > 0 && loops % 100 == 0 {
            usleep(cli.cfg.interval);
        }
        if FORCE_CANCEL.load(Ordering::SeqCst) || it == 0 {
            break;
        }
    }
    let mut o = String::from("\n-------- summary -------\n\n");
    if FORCE_CANCEL.load(Ordering::SeqCst) {
        o.push_str(&format!("[{}%] ", pct_str(pct)));
    }
    o.push_str(&format!("Sampled {} keys in the keyspace!\n", sampled));
    o.push_str(&format!(
        "Total key length in bytes is {} (avg len {:.2})\n\n",
        totlen,
        if totlen > 0 {
            totlen as f64 / sampled as f64
        } else {
            0.0
        }
    ));
    let order = dict.order();
    for t in order.iter().map(|&i| &types[i]) {
        if let Some(k) = &t.biggest_key {
            o.push_str(&format!(
                "Biggest {:>6} found '{}' has {} {}\n",
                t.name,
                lossy(k),
                t.biggest,
                if !memkeys { t.sizeunit } else { "bytes" }
            ));
        }
    }
    o.push('\n');
    for t in order.iter().map(|&i| &types[i]) {
        o.push_str(&format!(
            "{} {}s with {} {} ({}% of keys, avg size {:.2})\n",
            t.count,
            t.name,
            t.totalsize,
            if !memkeys { t.sizeunit } else { "bytes" },
            pct_str(if sampled > 0 {
                100.0 * t.count as f64 / sampled as f64
            } else {
                0.0
            }),
            if t.count > 0 {
                t.totalsize as f64 / t.count as f64
            } else {
                0.0
            }
        ));
    }
    out_str(&o);
    exit(0);
}

const HOTKEYS_SAMPLE: usize = 16;

pub(crate) fn find_hot_keys(cli: &mut Cli) {
    let mut counters = [0u64; HOTKEYS_SAMPLE];
    let mut hotkeys: Vec<Option<Vec<u8>>> = vec![None; HOTKEYS_SAMPLE];
    super::install_cancel_handler();
    let total_keys = get_dbsize(cli);
    out_str("\n# Scanning the entire keyspace to find hot keys as well as\n");
    out_str("# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n");
    out_str("# per 100 SCAN commands (not usually needed).\n\n");
    let (mut sampled, mut it, mut loops) = (0u64, 0u64, 0u64);
    let mut pct;
    loop {
        pct = 100.0 * sampled as f64 / total_keys as f64;
        let keys = send_scan(cli, &mut it);
        loops += 1;
        let cmds: Vec<Vec<Vec<u8>>> = keys
            .iter()
            .map(|k| vec![b"OBJECT".to_vec(), b"FREQ".to_vec(), k.clone()])
            .collect();
        let replies = pipeline(cli, &cmds);
        let mut freqs = vec![0u64; keys.len()];
        for (i, k) in keys.iter().enumerate() {
            match replies.get(i) {
                Some(Ok(Reply::Int(n))) => freqs[i] = *n as u64,
                Some(Ok(Reply::Error(e))) => {
                    err_str(&format!("Error: {}\n", lossy(e)));
                    exit(1);
                }
                Some(Ok(_)) => {
                    err_str(&format!(
                        "Warning: OBJECT freq on '{}' failed (may have been deleted)\n",
                        lossy(&format::repr(k))
                    ));
                }
                other => {
                    let msg = match other {
                        Some(Err(e)) => e.clone(),
                        _ => "Server closed the connection".into(),
                    };
                    err_str(&format!(
                        "Error getting freq for key '{}' (3: {})\n",
                        lossy(&format::repr(k)),
                        msg
                    ));
                    exit(1);
                }
            }
        }
        let mut o = String::new();
        for (i, k) in keys.iter().enumerate() {
            sampled += 1;
            if sampled % 1_000_000 == 0 {
                o.push_str(&format!(
                    "[{}%] Sampled {} keys so far\n",
                    pct_str(pct),
                    sampled
                ));
            }
            let mut kk = 0;
            while kk < HOTKEYS_SAMPLE && freqs[i] > counters[kk] {
                kk += 1;
            }
            if kk == 0 {
                continue;
            }
            kk -= 1;
            if !(kk == 0 || counters[kk] == 0) {
                counters.copy_within(1..=kk, 0);
                hotkeys[..=kk].rotate_left(1);
            }
            counters[kk] = freqs[i];
            let name = format::repr(k);
            o.push_str(&format!(
                "[{}%] Hot key '{}' found so far with counter {}\n",
                pct_str(pct),
                lossy(&name),
                freqs[i]
            ));
            hotkeys[kk] = Some(name);
        }
        out_str(&o);
        if cli.cfg.interval > 0 && loops % 100 == 0 {
            usleep(cli.cfg.interval);
        }
        if FORCE_CANCEL.load(Ordering::SeqCst) || it == 0 {
            break;
        }
    }
    let mut o = String::from("\n-------- summary -------\n\n");
    if FORCE_CANCEL.load(Ordering::SeqCst) {
        o.push_str(&format!("[{}%] ", pct_str(pct)));
    }
    o.push_str(&format!("Sampled {} keys in the keyspace!\n", sampled));
    for i in 1..=HOTKEYS_SAMPLE {
        let k = HOTKEYS_SAMPLE - i;
        if counters[k] > 0 {
            o.push_str(&format!(
                "hot key found with counter: {}\tkeyname: {}\n",
                counters[k],
                lossy(hotkeys[k].as_deref().unwrap_or(b""))
            ));
        }
    }
    out_str(&o);
    exit(0);
}

/* ------------------------------------------------------------------ */
/* --stat, --latency, --latency-history, --intrinsic-latency            */
/* ------------------------------------------------------------------ */

/// A command that reconnects (with a "Reconnecting... N" status line)
/// until the server answers.
fn reconnecting_command(cli: &mut Cli, args: &[&[u8]]) -> Reply {
    let mut tries = 0;
    loop {
        while cli.conn_broken() {
            tries += 1;
            out_str("\r\x1b[0K");
            out_str(&format!("Reconnecting... {}\r", tries));
            cli.conn =
                super::conn::Conn::connect(&cli.cfg.host, cli.cfg.port, cli.cfg.socket.as_deref())
                    .ok();
            std::thread::sleep(Duration::from_secs(1));
        }
        if let Some(r) = cli.command(args) {
            if tries > 0 {
                out_str("\r\x1b[0K");
            }
            return r;
        }
        if let Some(c) = &cli.conn {
            if c.err.is_none() {
                err_str("Error: Protocol error\n");
                exit(1);
            }
        }
    }
}

fn info_field(info: &str, field: &str) -> Option<String> {
    let p = info.find(field)?;
    let rest = &info[p + field.len() + 1.min(info.len() - p - field.len())..];
    let end = rest.find(['\r', ',']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

fn info_long(info: &str, field: &str) -> i64 {
    match info_field(info, field) {
        Some(v) => super::strtoll(&v),
        None => i64::MIN,
    }
}

fn bytes_to_human(n: i64) -> String {
    let (neg, n) = if n < 0 {
        ("-", n.unsigned_abs())
    } else {
        ("", n as u64)
    };
    let d = n as f64;
    let body = if n < 1024 {
        format!("{}B", n)
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024u64.pow(4) {
        format!("{:.2}G", d / (1024.0 * 1024.0 * 1024.0))
    } else {
        String::new()
    };
    format!("{}{}", neg, body)
}

pub(crate) fn stat_mode(cli: &mut Cli) {
    let mut requests: i64 = 0;
    let mut i = 0u64;
    loop {
        let r = reconnecting_command(cli, &[b"INFO"]);
        let info = match r {
            Reply::Error(e) => {
                err_str(&format!("ERROR: {}\n", lossy(&e)));
                exit(1);
            }
            other => lossy(other.str_bytes().unwrap_or(b"")),
        };
        let mut o = String::new();
        if i.is_multiple_of(20) {
            o.push_str(
                "------- data ------ --------------------- load -------------------- - child -\n",
            );
            o.push_str(
                "keys       mem      clients blocked requests            connections          \n",
            );
        }
        i += 1;
        let mut keys = 0i64;
        for j in 0..20 {
            let k = info_long(&info, &format!("db{}:keys", j));
            if k == i64::MIN {
                continue;
            }
            keys += k;
        }
        o.push_str(&format!("{:<11}", keys));
        o.push_str(&format!(
            "{:<8}",
            bytes_to_human(info_long(&info, "used_memory"))
        ));
        o.push_str(&format!(" {:<8}", info_long(&info, "connected_clients")));
        o.push_str(&format!("{:<8}", info_long(&info, "blocked_clients")));
        let aux = info_long(&info, "total_commands_processed");
        let s = format!(
            "{} (+{})",
            aux,
            if requests == 0 { 0 } else { aux - requests }
        );
        o.push_str(&format!("{:<19}", s));
        requests = aux;
        o.push_str(&format!(
            " {:<12}",
            info_long(&info, "total_connections_received")
        ));
        let mut child = info_long(&info, "bgsave_in_progress");
        child |= info_long(&info, "aof_rewrite_in_progress") << 1;
        child |= info_long(&info, "loading") << 2;
        match child {
            1 => o.push_str("SAVE"),
            2 => o.push_str("AOF"),
            3 => o.push_str("SAVE+AOF"),
            4 => o.push_str("LOAD"),
            _ => {}
        }
        o.push('\n');
        out_str(&o);
        usleep(cli.cfg.interval);
    }
}

fn latency_print(cli: &Cli, min: i64, max: i64, avg: f64, count: i64) {
    match cli.cfg.output {
        Output::Standard => out_str(&format!(
            "min: {}, max: {}, avg: {:.2} ({} samples)",
            min, max, avg, count
        )),
        Output::Csv => out_str(&format!("{},{},{:.2},{}\n", min, max, avg, count)),
        Output::Raw => out_str(&format!("{} {} {:.2} {}\n", min, max, avg, count)),
        Output::Json => out_str(&format!(
            "{{\"min\": {}, \"max\": {}, \"avg\": {:.2}, \"count\": {}}}\n",
            min, max, avg, count
        )),
        Output::QuotedJson => {}
    }
}

pub(crate) fn latency_mode(cli: &mut Cli) {
    let history_interval = if cli.cfg.interval > 0 {
        cli.cfg.interval / 1000
    } else {
        15000
    };
    let interval_ms = if cli.cfg.interval == 0 {
        1000
    } else {
        cli.cfg.interval / 1000
    };
    let mut history_start = mstime();
    let (mut min, mut max, mut tot, mut count) = (0i64, 0i64, 0i64, 0i64);
    let mut avg;
    if cli.conn.is_none() {
        exit(1);
    }
    loop {
        let start = mstime();
        let _ = reconnecting_command(cli, &[b"PING"]);
        let latency = mstime() - start;
        count += 1;
        if count == 1 {
            min = latency;
            max = latency;
            tot = latency;
            avg = latency as f64;
        } else {
            min = min.min(latency);
            max = max.max(latency);
            tot += latency;
            avg = tot as f64 / count as f64;
        }
        if cli.cfg.output == Output::Standard {
            out_str("\x1b[0G\x1b[2K");
            latency_print(cli, min, max, avg, count);
        } else if cli.cfg.latency_history {
            latency_print(cli, min, max, avg, count);
        } else if mstime() - history_start > interval_ms {
            latency_print(cli, min, max, avg, count);
            exit(0);
        }
        if cli.cfg.latency_history && mstime() - history_start > history_interval {
            out_str(&format!(
                " -- {:.2} seconds range\n",
                (mstime() - history_start) as f32 / 1000.0
            ));
            history_start = mstime();
            min = 0;
            max = 0;
            tot = 0;
            count = 0;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const PALETTE_COLOR: &[i32] = &[
    0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 144, 143, 142, 184, 226, 214, 208, 202, 196,
];
const PALETTE_MONO: &[i32] = &[
    0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253,
];

/// --latency-dist: a 256-color spectrum of PING latencies per interval.
pub(crate) fn latency_dist_mode(cli: &mut Cli, mono: bool) {
    let palette = if mono { PALETTE_MONO } else { PALETTE_COLOR };
    // (max latency in usec, 0 = the rest; label)
    const BUCKETS: &[(i64, u8)] = &[
        (10, b'.'),
        (125, b'-'),
        (250, b'*'),
        (500, b'#'),
        (1000, b'1'),
        (2000, b'2'),
        (3000, b'3'),
        (4000, b'4'),
        (5000, b'5'),
        (6000, b'6'),
        (7000, b'7'),
        (8000, b'8'),
        (9000, b'9'),
        (10000, b'A'),
        (20000, b'B'),
        (30000, b'C'),
        (40000, b'D'),
        (50000, b'E'),
        (100000, b'F'),
        (200000, b'G'),
        (300000, b'H'),
        (400000, b'I'),
        (500000, b'J'),
        (1000000, b'K'),
        (2000000, b'L'),
        (4000000, b'M'),
        (8000000, b'N'),
        (16000000, b'O'),
        (30000000, b'P'),
        (60000000, b'Q'),
        (0, b'?'),
    ];
    let mut counts = vec![0i64; BUCKETS.len()];
    let history_interval = if cli.cfg.interval > 0 {
        cli.cfg.interval / 1000
    } else {
        1000
    };
    let mut history_start = ustime();
    let (mut count, mut outputs) = (0i64, 0u64);
    if cli.conn.is_none() {
        exit(1);
    }
    loop {
        let start = ustime();
        let _ = reconnecting_command(cli, &[b"PING"]);
        let latency = ustime() - start;
        count += 1;
        let j = BUCKETS
            .iter()
            .position(|&(max, _)| max == 0 || latency <= max)
            .unwrap_or(BUCKETS.len() - 1);
        counts[j] += 1;
        if count > 0 && (ustime() - history_start) / 1000 > history_interval {
            let mut o = String::new();
            if outputs % 20 == 0 {
                o.push_str("---------------------------------------------\n");
                o.push_str(". - * #          .01 .125 .25 .5 milliseconds\n");
                o.push_str("1,2,3,...,9      from 1 to 9     milliseconds\n");
                o.push_str("A,B,C,D,E        10,20,30,40,50  milliseconds\n");
                o.push_str("F,G,H,I,J        .1,.2,.3,.4,.5       seconds\n");
                o.push_str("K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds\n");
                o.push_str("From 0 to 100%: ");
                for c in palette {
                    o.push_str(&format!("\x1b[48;5;{}m ", c));
                }
                o.push_str("\x1b[0m\n");
                o.push_str("---------------------------------------------\n");
            }
            outputs += 1;
            o.push_str("\x1b[38;5;0m");
            for (j, &(_, ch)) in BUCKETS.iter().enumerate() {
                let idx = ((counts[j] as f64 / count as f64) * (palette.len() - 1) as f64).ceil()
                    as usize;
                let color = palette[idx.min(palette.len() - 1)];
                o.push_str(&format!("\x1b[48;5;{}m{}", color, ch as char));
                counts[j] = 0;
            }
            o.push_str("\x1b[0m\n");
            out_str(&o);
            history_start = ustime();
            count = 0;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn rand_unit() -> f64 {
    (crate::util::random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn power_law_rand(min: i64, max: i64, alpha: f64) -> i64 {
    let max = max + 1;
    let r = rand_unit();
    let (maxf, minf) = (max as f64, min as f64);
    let pl = ((maxf.powf(alpha + 1.0) - minf.powf(alpha + 1.0)) * r + minf.powf(alpha + 1.0))
        .powf(1.0 / (alpha + 1.0));
    (max - 1 - pl as i64) + min
}

/// --lru-test: 80-20 SET/GET cache workload, one stats line per second.
pub(crate) fn lru_test_mode(cli: &mut Cli, keys: i64) {
    const PIPELINE: usize = 250;
    loop {
        let start = mstime();
        let (mut hits, mut misses) = (0i64, 0i64);
        while mstime() - start < 1000 {
            let mut cmds = Vec::with_capacity(PIPELINE);
            for _ in 0..PIPELINE {
                let val: Vec<u8> = (0..5)
                    .map(|_| b'A' + crate::util::random_below((b'z' - b'A') as u64) as u8)
                    .collect();
                let key = format!("lru:{}", power_law_rand(1, keys, 6.2));
                cmds.push(vec![b"SET".to_vec(), key.into_bytes(), val]);
            }
            let res = pipeline(cli, &cmds);
            if res.iter().any(|r| r.is_err()) || res.len() < cmds.len() {
                err_str("I/O error during LRU test\n");
                exit(1);
            }
            let cmds: Vec<Vec<Vec<u8>>> = (0..PIPELINE)
                .map(|_| {
                    let key = format!("lru:{}", power_law_rand(1, keys, 6.2));
                    vec![b"GET".to_vec(), key.into_bytes()]
                })
                .collect();
            let res = pipeline(cli, &cmds);
            for r in &res {
                match r {
                    Ok(Reply::Error(e)) => err_str(&format!("{}\n", lossy(e))),
                    Ok(Reply::Nil) => misses += 1,
                    Ok(_) => hits += 1,
                    Err(_) => {}
                }
            }
            if res.iter().any(|r| r.is_err()) || res.len() < cmds.len() {
                err_str("I/O error during LRU test\n");
                exit(1);
            }
        }
        let tot = (hits + misses) as f64;
        out_str(&format!(
            "{} Gets/sec | Hits: {} ({:.2}%) | Misses: {} ({:.2}%)\n",
            hits + misses,
            hits,
            hits as f64 / tot * 100.0,
            misses,
            misses as f64 / tot * 100.0
        ));
    }
}

fn compute_something_fast() -> u64 {
    let mut s = [0u8; 256];
    for (k, v) in s.iter_mut().enumerate() {
        *v = k as u8;
    }
    let (mut i, mut j) = (0u8, 0u8);
    let mut output = 0u64;
    for _ in 0..1000 {
        i = i.wrapping_add(1);
        j = j.wrapping_add(s[i as usize]);
        s.swap(i as usize, j as usize);
        output =
            output.wrapping_add(s[(s[i as usize].wrapping_add(s[j as usize])) as usize] as u64);
    }
    output
}

pub(crate) fn intrinsic_latency_mode(secs: i32) {
    let run_time = secs as i64 * 1_000_000;
    let test_end = ustime() + run_time;
    super::install_cancel_handler();
    let mut max_latency = 0i64;
    let mut runs = 0i64;
    loop {
        let start = ustime();
        std::hint::black_box(compute_something_fast());
        let end = ustime();
        let latency = end - start;
        runs += 1;
        if latency <= 0 {
            continue;
        }
        if latency > max_latency {
            max_latency = latency;
            out_str(&format!(
                "Max latency so far: {} microseconds.\n",
                max_latency
            ));
        }
        let avg_us = run_time as f64 / runs as f64;
        let avg_ns = avg_us * 1e3;
        if FORCE_CANCEL.load(Ordering::SeqCst) || end > test_end {
            out_str(&format!(
                "\n{} total runs (avg latency: {:.4} microseconds / {:.2} nanoseconds per run).\n",
                runs, avg_us, avg_ns
            ));
            out_str(&format!(
                "Worst run took {:.0}x longer than the average latency.\n",
                max_latency as f64 / avg_us
            ));
            exit(0);
        }
    }
}

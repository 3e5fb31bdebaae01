//! The Lua debugger (SCRIPT DEBUG YES|SYNC|NO, Redis's LDB).
//!
//! A client in debug mode has its next EVAL run as a debugging session: a
//! line hook stops the script, the log lines go to the client as an array
//! of status replies, and debugger commands (step, continue, print, eval,
//! redis ...) are read from its socket directly, with the server blocked
//! (SYNC) or in a forked child whose changes are thrown away (YES). The
//! session ends with `<endsession>`, the EVAL reply, and the connection
//! closing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use mlua::{Lua, Table, Value as LuaValue, VmState};

/// How a client's next EVAL is debugged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugMode {
    /// SCRIPT DEBUG YES: in a forked child, changes rolled back.
    Fork,
    /// SCRIPT DEBUG SYNC: in the server itself, changes kept.
    Sync,
}

const MAX_LEN_DEFAULT: usize = 256;
const BREAKPOINTS_MAX: usize = 64;
const MAX_DEPTH: usize = 10;

struct Session {
    fd: i32,
    lines: Vec<Vec<u8>>,
    logs: Vec<Vec<u8>>,
    cbuf: Vec<u8>,
    step: bool,
    luabp: bool,
    bp: Vec<i64>,
    maxlen: usize,
    maxlen_hint_sent: bool,
    current: i64,
    start: Instant,
    env: Option<Table>,
}

thread_local! {
    static MODES: RefCell<HashMap<u64, DebugMode>> = RefCell::new(HashMap::new());
    static LDB: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// SCRIPT DEBUG: set (or with None clear) a client's debug mode.
pub fn set_mode(client: u64, mode: Option<DebugMode>) {
    MODES.with(|m| match mode {
        Some(md) => {
            m.borrow_mut().insert(client, md);
        }
        None => {
            m.borrow_mut().remove(&client);
        }
    });
}

/// The client's debug mode, if SCRIPT DEBUG enabled one.
pub fn mode(client: u64) -> Option<DebugMode> {
    MODES.with(|m| m.borrow().get(&client).copied())
}

fn with<R>(f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    LDB.with(|l| l.borrow_mut().as_mut().map(f))
}

/// A debugging session is running.
pub fn active() -> bool {
    LDB.with(|l| l.borrow().is_some())
}

/// Stepping: redis.call logs its commands and replies.
pub fn enabled() -> bool {
    with(|s| s.step).unwrap_or(false)
}

/// Begin a session on the client socket `fd` for the script `src`.
pub fn start(fd: i32, src: &[u8]) {
    let mut src = src;
    while let [rest @ .., b'\n' | b'\r'] = src {
        src = rest;
    }
    let lines = src.split(|&c| c == b'\n').map(|l| l.to_vec()).collect();
    LDB.with(|l| {
        *l.borrow_mut() = Some(Session {
            fd,
            lines,
            logs: Vec::new(),
            cbuf: Vec::new(),
            step: true,
            luabp: false,
            bp: Vec::new(),
            maxlen: MAX_LEN_DEFAULT,
            maxlen_hint_sent: false,
            current: 0,
            start: Instant::now(),
            env: None,
        })
    });
}

/// End the session: the remaining logs and `<endsession>` go out.
pub fn end() {
    log(b"<endsession>".to_vec());
    send_logs();
    LDB.with(|l| l.borrow_mut().take());
}

/// Run the script with the debugger's line hook (`env`: the script's
/// globals, for `eval` and for printing KEYS and ARGV).
pub fn install_hook(lua: &Lua, env: &Table) {
    with(|s| s.env = Some(env.clone()));
    lua.set_hook(
        mlua::HookTriggers::EVERY_LINE.every_nth_instruction(100_000),
        line_hook,
    );
}

fn log(entry: Vec<u8>) {
    with(|s| s.logs.push(entry));
}

fn log_str(entry: &str) {
    log(entry.as_bytes().to_vec());
}

/// A log entry cut at `maxlen`, with a hint the first time.
fn log_max_len(mut entry: Vec<u8>) {
    let hint = with(|s| {
        if s.maxlen > 0 && entry.len() > s.maxlen {
            entry.truncate(s.maxlen);
            entry.extend_from_slice(b" ...");
            let first = !s.maxlen_hint_sent;
            s.maxlen_hint_sent = true;
            first
        } else {
            false
        }
    })
    .unwrap_or(false);
    log(entry);
    if hint {
        log_str("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
    }
}

/// The logs as an array of status replies (newlines become spaces).
fn send_logs() {
    let Some((fd, logs)) = with(|s| (s.fd, std::mem::take(&mut s.logs))) else {
        return;
    };
    let mut out = format!("*{}\r\n", logs.len()).into_bytes();
    for l in logs {
        out.push(b'+');
        out.extend(
            l.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        out.extend_from_slice(b"\r\n");
    }
    // A write error shows up as the next read failing.
    let _ = write_all(fd, &out);
}

/// Write everything to a (non-blocking) socket, waiting up to 5 seconds
/// for room, as Redis's send timeout.
pub fn write_all(fd: i32, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        // SAFETY: writing from a valid buffer to our own socket.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n > 0 {
            data = &data[n as usize..];
            continue;
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::Interrupted => continue,
            std::io::ErrorKind::WouldBlock if wait_fd(fd, libc::POLLOUT, 5000) => continue,
            _ => return false,
        }
    }
    true
}

fn wait_fd(fd: i32, events: i16, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

/// Read from the client, blocking; 0 when it is gone (or the server was
/// asked to stop).
fn read_some(fd: i32, buf: &mut [u8]) -> isize {
    loop {
        // SAFETY: reading into a valid buffer from our own socket.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return n;
        }
        let err = std::io::Error::last_os_error();
        if crate::server::reactor::SHUTDOWN_SIGNAL.load(std::sync::atomic::Ordering::Relaxed) != 0 {
            return 0;
        }
        match err.kind() {
            std::io::ErrorKind::Interrupted => continue,
            std::io::ErrorKind::WouldBlock => {
                wait_fd(fd, libc::POLLIN, 1000);
            }
            _ => return 0,
        }
    }
}

/// A debugger command from the buffer: Ok(None) when more input is needed.
/// The parser is as forgiving as Redis's (it looks for `*`, then bulks).
fn parse_command(buf: &[u8]) -> Result<Option<Vec<Vec<u8>>>, ()> {
    if buf.is_empty() {
        return Ok(None);
    }
    let Some(star) = memchr::memchr(b'*', buf) else {
        return Err(());
    };
    let mut p = star + 1;
    let line = |from: usize| memchr::memmem::find(&buf[from..], b"\r\n").map(|i| from + i);
    let Some(e) = line(p) else { return Ok(None) };
    let argc = atoi(&buf[p..e]);
    if argc <= 0 || argc > 1024 {
        return Err(());
    }
    p = e + 2;
    let mut argv = Vec::new();
    while argv.len() < argc as usize {
        if p >= buf.len() {
            return Ok(None);
        }
        if buf[p] != b'$' {
            return Err(());
        }
        let Some(e) = line(p + 1) else {
            return Ok(None);
        };
        let len = atoi(&buf[p + 1..e]);
        if len <= 0 || len > 1024 {
            return Err(());
        }
        p = e + 2;
        let len = len as usize;
        if p + len + 2 > buf.len() {
            return Ok(None);
        }
        argv.push(buf[p..p + len].to_vec());
        p += len;
        if &buf[p..p + 2] != b"\r\n" {
            return Err(());
        }
        p += 2;
    }
    Ok(Some(argv))
}

/// C's atoi: leading digits, 0 when none.
fn atoi(s: &[u8]) -> i64 {
    let s = std::str::from_utf8(s).unwrap_or("").trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n = digits[..end].parse::<i64>().unwrap_or(0);
    if neg {
        -n
    } else {
        n
    }
}

/// Quoted like Redis's sdscatrepr.
fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// A Lua value in the debugger's notation (ldbCatStackValue).
fn cat_value(out: &mut Vec<u8>, v: &LuaValue, depth: usize) {
    if depth == MAX_DEPTH {
        out.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    match v {
        LuaValue::String(s) => repr(out, &s.as_bytes()),
        LuaValue::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        LuaValue::Integer(n) => {
            out.extend_from_slice(crate::util::format_g(*n as f64, 6).as_bytes())
        }
        LuaValue::Number(n) => out.extend_from_slice(crate::util::format_g(*n, 6).as_bytes()),
        LuaValue::Nil => out.extend_from_slice(b"nil"),
        LuaValue::Table(t) => {
            let (mut arr, mut full) = (Vec::new(), Vec::new());
            let mut is_array = true;
            let entries = t.pairs::<LuaValue, LuaValue>().flatten();
            for (expected, (k, val)) in (1i64..).zip(entries) {
                let idx = match k {
                    LuaValue::Integer(n) => Some(n as f64),
                    LuaValue::Number(n) => Some(n),
                    _ => None,
                };
                if idx != Some(expected as f64) {
                    is_array = false;
                }
                if !arr.is_empty() {
                    arr.extend_from_slice(b"; ");
                    full.extend_from_slice(b"; ");
                }
                cat_value(&mut arr, &val, depth + 1);
                full.push(b'[');
                cat_value(&mut full, &k, depth + 1);
                full.extend_from_slice(b"]=");
                cat_value(&mut full, &val, depth + 1);
            }
            out.push(b'{');
            out.extend_from_slice(if is_array { &arr } else { &full });
            out.push(b'}');
        }
        other => {
            let name = match other {
                LuaValue::Function(_) => "function",
                LuaValue::Thread(_) => "thread",
                LuaValue::LightUserData(_) => "light-userdata",
                _ => "userdata",
            };
            out.extend_from_slice(format!("\"{name}@{:p}\"", other.to_pointer()).as_bytes());
        }
    }
}

fn log_value(prefix: &str, v: &LuaValue) {
    let mut s = prefix.as_bytes().to_vec();
    cat_value(&mut s, v, 0);
    log_max_len(s);
}

/// redis.breakpoint(): stop at the next line; false outside a session.
pub fn breakpoint() -> bool {
    with(|s| s.luabp = true).is_some()
}

/// redis.debug(...): a `<debug>` log line with the arguments.
pub fn debug_log(args: &[LuaValue]) {
    let Some(line) = with(|s| s.current) else {
        return;
    };
    let mut s = format!("<debug> line {line}: ").into_bytes();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            s.extend_from_slice(b", ");
        }
        cat_value(&mut s, v, 0);
    }
    log(s);
}

/// The `<redis>` line of a command a script calls while stepping.
pub fn log_command(argv: &[bytes::Bytes]) {
    let mut s = b"<redis>".to_vec();
    for (j, a) in argv.iter().enumerate() {
        if j == 10 {
            s.extend_from_slice(format!(" ... ({} more)", argv.len() - j - 1).as_bytes());
            break;
        }
        s.push(b' ');
        s.extend_from_slice(a);
    }
    log(s);
}

/// An error raised by the scripting API while stepping.
pub fn log_error(msg: &str) {
    log(format!("<error> {}", msg.strip_prefix("ERR ").unwrap_or(msg)).into_bytes());
}

/// The `<reply>` line: a RESP reply in readable form.
pub fn log_reply(reply: &[u8]) {
    let mut s = b"<reply> ".to_vec();
    human(&mut s, reply);
    log_max_len(s);
}

/// Append RESP `r` readably (ldbRedisProtocolToHuman); returns the rest.
fn human<'a>(o: &mut Vec<u8>, r: &'a [u8]) -> &'a [u8] {
    let Some(e) = memchr::memmem::find(r, b"\r\n") else {
        return &[];
    };
    let (head, mut rest) = (&r[1..e], &r[e + 2..]);
    let items =
        |o: &mut Vec<u8>, rest: &mut &'a [u8], n: i64, open: &[u8], close: u8, map: bool| {
            o.extend_from_slice(open);
            for j in 0..n.max(0) {
                *rest = human(o, rest);
                if map {
                    o.extend_from_slice(b" => ");
                    *rest = human(o, rest);
                }
                if j != n - 1 {
                    o.push(b',');
                }
            }
            o.push(close);
        };
    match r.first() {
        Some(b':') => o.extend_from_slice(head),
        Some(b'$') => {
            let n = atoi(head);
            if n < 0 {
                o.extend_from_slice(b"NULL");
            } else {
                let n = (n as usize).min(rest.len());
                repr(o, &rest[..n]);
                rest = rest.get(n + 2..).unwrap_or(&[]);
            }
        }
        Some(b'+' | b'-') => repr(o, &r[..e]),
        Some(b'*') => {
            let n = atoi(head);
            if n < 0 {
                o.extend_from_slice(b"NULL");
            } else {
                items(o, &mut rest, n, b"[", b']', false);
            }
        }
        Some(b'~') => items(o, &mut rest, atoi(head), b"~(", b')', false),
        Some(b'%') => items(o, &mut rest, atoi(head), b"{", b'}', true),
        Some(b'_') => o.extend_from_slice(b"(null)"),
        Some(b'#') => o.extend_from_slice(if head == b"t" { b"#true" } else { b"#false" }),
        Some(b',') => {
            o.extend_from_slice(b"(double) ");
            o.extend_from_slice(head);
        }
        _ => {}
    }
    rest
}

fn source_line(s: &Session, line: i64) -> Vec<u8> {
    let bp = s.bp.contains(&line);
    let current = s.current == line;
    let prefix = match (current, bp) {
        (true, true) => "->#",
        (true, false) => "-> ",
        (false, true) => "  #",
        (false, false) => "   ",
    };
    let text: &[u8] = match usize::try_from(line - 1).ok().and_then(|i| s.lines.get(i)) {
        Some(l) => l,
        None => b"<out of range source code line>",
    };
    let mut out = format!("{prefix}{line:<3} ").into_bytes();
    out.extend_from_slice(text);
    out
}

fn log_source_line(line: i64) {
    if let Some(l) = with(|s| source_line(s, line)) {
        log(l);
    }
}

fn list(around: i64, context: i64) {
    let n = with(|s| s.lines.len() as i64).unwrap_or(0);
    for j in 1..=n {
        if around != 0 && (around - j).abs() > context {
            continue;
        }
        log_source_line(j);
    }
}

/// The user script's frame level, as seen from a Lua function called now.
fn user_level(lua: &Lua) -> Option<(Table, i64)> {
    let debug: Table = lua.globals().get("debug").ok()?;
    let getinfo: mlua::Function = debug.get("getinfo").ok()?;
    for level in 1..200 {
        let info: Option<Table> = getinfo.call((level, "S")).ok()?;
        let info = info?;
        let src: String = info.get("short_src").unwrap_or_default();
        if src.contains("user_script") {
            return Some((debug, level));
        }
    }
    None
}

/// The locals of frame `level`, in order (names starting with `(` are
/// Lua's temporaries).
fn locals(debug: &Table, level: i64) -> Vec<(String, LuaValue)> {
    let Ok(getlocal) = debug.get::<mlua::Function>("getlocal") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in 1.. {
        match getlocal.call::<(Option<String>, LuaValue)>((level, i)) {
            Ok((Some(name), v)) => out.push((name, v)),
            _ => break,
        }
    }
    out
}

fn print_var(lua: &Lua, name: &[u8]) {
    if let Some((debug, level)) = user_level(lua) {
        let getinfo: Option<mlua::Function> = debug.get("getinfo").ok();
        let mut l = level;
        while getinfo
            .as_ref()
            .is_some_and(|g| g.call::<Option<Table>>((l, "S")).ok().flatten().is_some())
        {
            if let Some((_, v)) = locals(&debug, l)
                .into_iter()
                .find(|(n, _)| n.as_bytes() == name)
            {
                log_value("<value> ", &v);
                return;
            }
            l += 1;
        }
    }
    if name == b"ARGV" || name == b"KEYS" {
        let env = with(|s| s.env.clone()).flatten();
        let v = env
            .and_then(|e| {
                e.raw_get::<LuaValue>(String::from_utf8_lossy(name).as_ref())
                    .ok()
            })
            .unwrap_or(LuaValue::Nil);
        log_value("<value> ", &v);
    } else {
        log_str("No such variable.");
    }
}

fn print_all(lua: &Lua) {
    let mut vars = 0;
    if let Some((debug, level)) = user_level(lua) {
        for (name, v) in locals(&debug, level) {
            if name.contains("(*temporary)") {
                continue;
            }
            log_value(&format!("<value> {name} = "), &v);
            vars += 1;
        }
    }
    if vars == 0 {
        log_str("No local variables in the current context.");
    }
}

fn break_cmd(argv: &[Vec<u8>]) {
    if argv.len() == 1 {
        let bps = with(|s| s.bp.clone()).unwrap_or_default();
        if bps.is_empty() {
            log_str("No breakpoints set. Use 'b <line>' to add one.");
        } else {
            log_str(&format!("{} breakpoints set:", bps.len()));
            for b in bps {
                log_source_line(b);
            }
        }
        return;
    }
    for arg in &argv[1..] {
        let Some(line) = std::str::from_utf8(arg)
            .ok()
            .and_then(|a| a.parse::<i64>().ok())
        else {
            log(format!("Invalid argument:'{}'", String::from_utf8_lossy(arg)).into_bytes());
            continue;
        };
        if line == 0 {
            with(|s| s.bp.clear());
            log_str("All breakpoints removed.");
        } else if line > 0 {
            let res = with(|s| {
                if s.bp.len() == BREAKPOINTS_MAX {
                    Err("Too many breakpoints set.")
                } else if line > s.lines.len() as i64 {
                    Err("Wrong line number.")
                } else {
                    if !s.bp.contains(&line) {
                        s.bp.push(line);
                    }
                    Ok(())
                }
            });
            match res {
                Some(Ok(())) => list(line, 1),
                Some(Err(e)) => log_str(e),
                None => {}
            }
        } else {
            let removed = with(|s| {
                let before = s.bp.len();
                s.bp.retain(|&b| b != -line);
                s.bp.len() != before
            });
            log_str(if removed == Some(true) {
                "Breakpoint removed."
            } else {
                "No breakpoint in the specified line."
            });
        }
    }
}

/// `eval <code>`: run a fragment (as an expression first) in its own frame.
fn eval_cmd(lua: &Lua, argv: &[Vec<u8>]) {
    let code = argv[1..].join(&b' ');
    let mut expr = b"return ".to_vec();
    expr.extend_from_slice(&code);
    let env = with(|s| s.env.clone()).flatten();
    let compile = |src: &[u8]| {
        let mut chunk = lua.load(src).set_name("@ldb_eval");
        if let Some(e) = &env {
            chunk = chunk.set_environment(e.clone());
        }
        chunk.into_function()
    };
    let f = match compile(&expr).or_else(|_| compile(&code)) {
        Ok(f) => f,
        Err(e) => {
            log(format!("<error> {}", super::lua_error_text(&e)).into_bytes());
            return;
        }
    };
    match f.call::<LuaValue>(()) {
        Ok(v) => log_value("<retval> ", &v),
        Err(e) => log(format!("<error> {}", super::lua_error_text(&e)).into_bytes()),
    }
}

/// `redis <cmd> ...`: through redis.call, stepping so it logs itself.
fn redis_cmd(lua: &Lua, argv: &[Vec<u8>]) {
    let env = with(|s| s.env.clone()).flatten();
    let call = env
        .and_then(|e| e.get::<Table>("redis").ok())
        .and_then(|r| r.get::<mlua::Function>("call").ok());
    let Some(call) = call else {
        return;
    };
    let args: Vec<mlua::String> = argv[1..]
        .iter()
        .filter_map(|a| lua.create_string(a).ok())
        .collect();
    with(|s| s.step = true);
    let _ = call.call::<LuaValue>(mlua::MultiValue::from_iter(
        args.into_iter().map(LuaValue::String),
    ));
    with(|s| s.step = false);
}

fn maxlen_cmd(argv: &[Vec<u8>]) {
    let cur = with(|s| {
        if argv.len() == 2 {
            let mut n = atoi(&argv[1]).max(0) as usize;
            s.maxlen_hint_sent = true;
            if n != 0 && n <= 60 {
                n = 60;
            }
            s.maxlen = n;
        }
        s.maxlen
    })
    .unwrap_or(0);
    if cur > 0 {
        log_str(&format!("<value> replies are truncated at {cur} bytes."));
    } else {
        log_str("<value> replies are unlimited.");
    }
}

fn trace(lua: &Lua) {
    let Some((debug, level)) = user_level(lua) else {
        log_str("<error> Can't retrieve Lua stack.");
        return;
    };
    let Ok(getinfo) = debug.get::<mlua::Function>("getinfo") else {
        return;
    };
    let mut l = level;
    while let Ok(Some(info)) = getinfo.call::<Option<Table>>((l, "Snl")) {
        let src: String = info.get("short_src").unwrap_or_default();
        if src.contains("user_script") {
            let name: Option<String> = info.get("name").ok().flatten();
            log_str(&format!(
                "{} {}:",
                if l == level { "In" } else { "From" },
                name.as_deref().unwrap_or("top level")
            ));
            log_source_line(info.get("currentline").unwrap_or(0));
        }
        l += 1;
    }
}

const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

/// Read and run debugger commands until one resumes the script. Ok(false)
/// when the client went away.
fn repl(lua: &Lua) -> mlua::Result<bool> {
    let mut buf = [0u8; 1024];
    loop {
        let argv = loop {
            let parsed = with(|s| parse_command(&s.cbuf)).unwrap_or(Ok(None));
            match parsed {
                Ok(Some(argv)) => break argv,
                Err(()) => return Err(mlua::Error::runtime("protocol error")),
                Ok(None) => {}
            }
            let fd = with(|s| s.fd).unwrap_or(-1);
            let n = read_some(fd, &mut buf);
            if n <= 0 {
                // Without its client the script runs to its end.
                with(|s| {
                    s.step = false;
                    s.bp.clear();
                });
                return Ok(false);
            }
            let too_big = with(|s| {
                s.cbuf.extend_from_slice(&buf[..n as usize]);
                s.cbuf.len() > 1 << 20
            });
            if too_big == Some(true) {
                with(|s| s.cbuf.clear());
                return Err(mlua::Error::runtime("max client buffer reached"));
            }
        };
        with(|s| s.cbuf.clear());
        let cmd = argv[0].to_ascii_lowercase();
        match cmd.as_slice() {
            b"h" | b"help" => HELP.iter().for_each(|l| log_str(l)),
            b"s" | b"step" | b"n" | b"next" => {
                with(|s| s.step = true);
                return Ok(true);
            }
            b"c" | b"continue" => return Ok(true),
            b"t" | b"trace" => trace(lua),
            b"m" | b"maxlen" => maxlen_cmd(&argv),
            b"b" | b"break" => break_cmd(&argv),
            b"e" | b"eval" => eval_cmd(lua, &argv),
            b"a" | b"abort" => return Err(mlua::Error::runtime("script aborted for user request")),
            b"r" | b"redis" if argv.len() > 1 => redis_cmd(lua, &argv),
            b"p" | b"print" => {
                if argv.len() == 2 {
                    print_var(lua, &argv[1]);
                } else {
                    print_all(lua);
                }
            }
            b"l" | b"list" => {
                let mut around = with(|s| s.current).unwrap_or(0);
                if let Some(n) = argv.get(1).map(|a| atoi(a)).filter(|&n| n > 0) {
                    around = n;
                }
                let ctx = argv.get(2).map_or(5, |a| atoi(a));
                list(around, ctx);
            }
            b"w" | b"whole" => list(1, 1_000_000),
            _ => {
                log_str("<error> Unknown Redis Lua debugger command or wrong number of arguments.")
            }
        }
        send_logs();
    }
}

/// The hook of a debugged script: stop on steps, breakpoints, and after
/// the busy threshold (a likely infinite loop).
fn line_hook(lua: &Lua, ar: mlua::Debug) -> mlua::Result<VmState> {
    let src = ar.source();
    if !src
        .short_src
        .as_deref()
        .unwrap_or("")
        .contains("user_script")
    {
        return Ok(VmState::Continue);
    }
    let line = ar.curr_line() as i64;
    let count_event = matches!(ar.event(), mlua::DebugEvent::Count);
    let Some((stop, bp, luabp, timeout)) = with(|s| {
        s.current = line;
        let bp = s.bp.contains(&line) || s.luabp;
        let mut timeout = false;
        if count_event && !s.step && !bp {
            let limit = super::busy::threshold().unwrap_or(Duration::from_secs(5));
            if s.start.elapsed() < limit {
                return (false, false, false, false);
            }
            timeout = true;
            s.step = true;
        }
        let stop = s.step || bp;
        let luabp = s.luabp;
        if stop {
            s.step = false;
            s.luabp = false;
        }
        (stop, bp, luabp, timeout)
    }) else {
        return Ok(VmState::Continue);
    };
    if !stop {
        return Ok(VmState::Continue);
    }
    let reason = if bp {
        if luabp {
            "redis.breakpoint() called"
        } else {
            "break point"
        }
    } else if timeout {
        "timeout reached, infinite loop?"
    } else {
        "step over"
    };
    log_str(&format!("* Stopped at {line}, stop reason = {reason}"));
    log_source_line(line);
    send_logs();
    let connected = repl(lua)?;
    if !connected && timeout {
        return Err(mlua::Error::runtime(
            "timeout during Lua debugging with client closing connection",
        ));
    }
    with(|s| s.start = Instant::now());
    Ok(VmState::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_like_redis() {
        assert_eq!(parse_command(b""), Ok(None));
        assert_eq!(parse_command(b"*1\r\n$4\r\nstep"), Ok(None));
        assert_eq!(
            parse_command(b"*2\r\n$1\r\np\r\n$1\r\nx\r\n"),
            Ok(Some(vec![b"p".to_vec(), b"x".to_vec()]))
        );
        assert_eq!(parse_command(b"hello"), Err(()));
        assert_eq!(parse_command(b"*0\r\n"), Err(()));
        assert_eq!(parse_command(b"*1\r\n$0\r\n\r\n"), Err(()));
    }

    #[test]
    fn replies_in_readable_form() {
        let mut o = Vec::new();
        human(&mut o, b"*3\r\n:1\r\n$2\r\nhi\r\n$-1\r\n");
        assert_eq!(o, b"[1,\"hi\",NULL]");
        let mut o = Vec::new();
        human(&mut o, b"+OK\r\n");
        assert_eq!(o, b"\"+OK\"");
        let mut o = Vec::new();
        human(&mut o, b"%1\r\n$1\r\na\r\n,1.5\r\n");
        assert_eq!(o, b"{\"a\" => (double) 1.5}");
    }
}

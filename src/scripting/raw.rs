//! RESP <-> Lua conversions, following Redis's documented rules, for
//! redis.call replies and a script's result, on Lua's C API. Through mlua every value
//! crossing the boundary costs a reference and a protected call; here
//! values are read off and pushed onto the Lua stack directly, as Redis
//! does.
//!
//! Lua errors unwind by longjmp, so functions that may raise one (any
//! push can, on out-of-memory) hold no value with a destructor of their
//! own: buffers are borrowed from their owners.

use std::ffi::CStr;
use std::os::raw::c_int;

use bytes::Bytes;
use mlua::ffi::{self, lua_State};

use crate::protocol::Reply;

/// Marks an error table whose error was already counted in the error
/// statistics (a command's error reply, or a refusal by redis.call).
const IGNORE_STATS_C: &CStr = c"ignore_error_stats_update";

/// The bytes of the string (or number, converted) at `idx`.
///
/// # Safety
/// `idx` is a valid index; the slice lives as long as the value stays on
/// the stack.
pub(crate) unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return &[];
    }
    std::slice::from_raw_parts(p.cast(), len)
}

/// Push `t[name]` of the table at the top (raw); returns its type.
unsafe fn field(l: *mut lua_State, name: &CStr) -> c_int {
    field_of(l, ffi::lua_gettop(l), name)
}

/// Push `t[name]` of the table at absolute index `t` (raw); returns its
/// type.
unsafe fn field_of(l: *mut lua_State, t: c_int, name: &CStr) -> c_int {
    ffi::lua_pushstring(l, name.as_ptr());
    ffi::lua_rawget(l, t);
    ffi::lua_type(l, -1)
}

/// Push a new `{err = msg}` table, marked already counted when `counted`.
pub(crate) unsafe fn push_error_table(l: *mut lua_State, msg: &[u8], counted: bool) {
    ffi::lua_createtable(l, 0, 2);
    ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
    ffi::lua_setfield(l, -2, c"err".as_ptr());
    if counted {
        ffi::lua_pushboolean(l, 1);
        ffi::lua_setfield(l, -2, IGNORE_STATS_C.as_ptr());
    }
}

/// Push a Lua array of byte strings (KEYS, ARGV).
pub(crate) unsafe fn push_string_array(l: *mut lua_State, items: &[Bytes]) {
    ffi::lua_createtable(l, items.len() as c_int, 0);
    fill_array(l, items, 0);
}

/// Store `items` as t[1..] of the table at the top, clearing t[n+1..=old]
/// (the table held `old` items before).
unsafe fn fill_array(l: *mut lua_State, items: &[Bytes], old: c_int) {
    for (i, it) in items.iter().enumerate() {
        ffi::lua_pushlstring(l, it.as_ptr().cast(), it.len());
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
    for i in items.len() as c_int + 1..=old {
        ffi::lua_pushnil(l);
        ffi::lua_rawseti_(l, -2, i);
    }
}

/// Set the global `name` of the table at `env` (absolute index) to an
/// array of `items`. The previous run's table is refilled when it is
/// still a plain array (no metatable, keys exactly 1..n), as a script
/// left it; anything else gets a new table.
pub(crate) unsafe fn set_string_array(l: *mut lua_State, env: c_int, name: &CStr, items: &[Bytes]) {
    ffi::lua_pushstring(l, name.as_ptr());
    ffi::lua_rawget(l, env);
    if let Some(old) = plain_array_len(l) {
        fill_array(l, items, old);
    } else {
        ffi::lua_settop(l, -2);
        push_string_array(l, items);
        ffi::lua_pushstring(l, name.as_ptr());
        ffi::lua_pushvalue(l, -2);
        ffi::lua_rawset(l, env);
    }
    ffi::lua_settop(l, -2);
}

/// The length of the table at the top when its keys are exactly 1..n and
/// it has no metatable.
unsafe fn plain_array_len(l: *mut lua_State) -> Option<c_int> {
    if ffi::lua_type(l, -1) != ffi::LUA_TTABLE {
        return None;
    }
    if ffi::lua_getmetatable(l, -1) != 0 {
        ffi::lua_settop(l, -2);
        return None;
    }
    let len = ffi::lua_objlen(l, -1) as c_int;
    let mut count: c_int = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        count += 1;
        let k = if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
            ffi::lua_tonumber(l, -2)
        } else {
            0.0
        };
        ffi::lua_settop(l, -2);
        if k < 1.0 || k > len as f64 || k.fract() != 0.0 {
            ffi::lua_settop(l, -2);
            return None;
        }
    }
    (count == len).then_some(len)
}

// ---------------------------------------------------------------------
// RESP -> Lua

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let start = *pos;
    let end = memchr::memmem::find(&buf[start..], b"\r\n")
        .map(|i| start + i)
        .unwrap_or(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn num(b: &[u8]) -> i64 {
    crate::util::parse_i64(b).unwrap_or(0)
}

/// `{name = <the value at the top>}`, replacing it.
unsafe fn wrap_in_field(l: *mut lua_State, name: &CStr) {
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_insert(l, -2);
    ffi::lua_setfield(l, -2, name.as_ptr());
}

unsafe fn push_str(l: *mut lua_State, s: &[u8]) {
    ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
}

/// Push a complete RESP reply (as a command wrote it) as a Lua value,
/// following Redis's conversion rules.
pub(crate) unsafe fn push_resp(l: *mut lua_State, buf: &[u8]) {
    let mut pos = 0;
    push_value(l, buf, &mut pos);
}

/// Pushes one value; aggregates make room for their elements (a C
/// function starts with LUA_MINSTACK free slots, plenty for scalars).
unsafe fn push_value(l: *mut lua_State, buf: &[u8], pos: &mut usize) {
    if *pos >= buf.len() {
        ffi::lua_pushnil(l);
        return;
    }
    let t = buf[*pos];
    *pos += 1;
    let ln = line(buf, pos);
    if matches!(t, b'*' | b'>' | b'%' | b'~' | b'|' | b'=') {
        ffi::luaL_checkstack(l, 4, std::ptr::null());
    }
    match t {
        b'+' => {
            push_str(l, ln);
            wrap_in_field(l, c"ok");
        }
        // Counted already, when the command replied it.
        b'-' => push_error_table(l, ln, true),
        b':' => ffi::lua_pushnumber(l, num(ln) as f64),
        b'$' | b'=' => {
            let n = num(ln);
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return;
            }
            let end = (*pos + n as usize).min(buf.len());
            let data = &buf[*pos..end];
            *pos = (end + 2).min(buf.len());
            if t == b'$' {
                push_str(l, data);
                return;
            }
            let (fmt, s) = if data.len() >= 4 {
                (&data[..3], &data[4..])
            } else {
                (&b"txt"[..], data)
            };
            ffi::lua_createtable(l, 0, 2);
            push_str(l, fmt);
            ffi::lua_setfield(l, -2, c"format".as_ptr());
            push_str(l, s);
            ffi::lua_setfield(l, -2, c"string".as_ptr());
            wrap_in_field(l, c"verbatim_string");
        }
        b'*' | b'>' => {
            let n = num(ln);
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return;
            }
            ffi::lua_createtable(l, n.min(1 << 16) as c_int, 0);
            for i in 1..=n {
                push_value(l, buf, pos);
                ffi::lua_rawseti_(l, -2, i as c_int);
            }
        }
        b'%' | b'~' => {
            let n = num(ln);
            ffi::lua_createtable(l, 0, n.min(1 << 16) as c_int);
            for _ in 0..n {
                push_value(l, buf, pos);
                if t == b'%' {
                    push_value(l, buf, pos);
                } else {
                    ffi::lua_pushboolean(l, 1);
                }
                // A nil key cannot index a table.
                if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
                    ffi::lua_settop(l, -3);
                } else {
                    ffi::lua_rawset(l, -3);
                }
            }
            wrap_in_field(l, if t == b'%' { c"map" } else { c"set" });
        }
        b'_' => ffi::lua_pushnil(l),
        b'#' => ffi::lua_pushboolean(l, (ln == b"t") as c_int),
        b',' => {
            let s = String::from_utf8_lossy(ln).to_ascii_lowercase();
            let d = match s.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => other.parse().unwrap_or(0.0),
            };
            drop(s);
            ffi::lua_pushnumber(l, d);
            wrap_in_field(l, c"double");
        }
        b'(' => {
            push_str(l, ln);
            wrap_in_field(l, c"big_number");
        }
        b'|' => {
            // Attributes are skipped; the value follows.
            let n = num(ln);
            for _ in 0..2 * n {
                push_value(l, buf, pos);
                ffi::lua_settop(l, -2);
            }
            push_value(l, buf, pos);
        }
        _ => ffi::lua_pushnil(l),
    }
}

// ---------------------------------------------------------------------
// Lua -> RESP

/// `s` with CR and LF turned into spaces (status-like replies).
fn one_line(s: &[u8]) -> String {
    String::from_utf8_lossy(s)
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

/// The error table at the top must still be counted in the statistics.
pub(crate) unsafe fn counts_in_stats(l: *mut lua_State) -> bool {
    let counted = field(l, IGNORE_STATS_C) == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_settop(l, -2);
    !counted
}

/// Write the value at the top of the stack as a reply (Redis's
/// luaReplyToRedisReply); the stack is left as it was. `resp3_script` is
/// the protocol the script chose with redis.setresp. Error replies
/// written go to `errors` (empty when already counted).
pub(crate) unsafe fn write_reply(
    l: *mut lua_State,
    r: &mut Reply,
    resp3_script: bool,
    depth: usize,
    errors: &mut Vec<String>,
) {
    if depth > 1000 || ffi::lua_checkstack(l, 4) == 0 {
        r.error_raw("ERR reached lua stack limit");
        return;
    }
    match ffi::lua_type(l, -1) {
        ffi::LUA_TSTRING => r.bulk(to_bytes(l, -1)),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, -1) != 0;
            if resp3_script {
                r.boolean(b);
            } else if b {
                r.int(1);
            } else {
                r.null();
            }
        }
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, -1);
            r.int(if n.is_nan() { i64::MIN } else { n as i64 });
        }
        ffi::LUA_TTABLE => write_table(l, r, resp3_script, depth, errors),
        _ => r.null(),
    }
}

unsafe fn write_table(
    l: *mut lua_State,
    r: &mut Reply,
    resp3_script: bool,
    depth: usize,
    errors: &mut Vec<String>,
) {
    if field(l, c"err") == ffi::LUA_TSTRING {
        let msg = String::from_utf8_lossy(to_bytes(l, -1)).into_owned();
        ffi::lua_settop(l, -2);
        let msg = msg.strip_prefix('-').unwrap_or(&msg);
        r.error_raw(msg);
        // Already counted: the command still failed (empty entry).
        errors.push(if counts_in_stats(l) {
            msg.to_string()
        } else {
            String::new()
        });
        return;
    }
    ffi::lua_settop(l, -2);
    // {ok = status}, {double = n}, {big_number = digits}.
    let scalars = [
        (c"ok", ffi::LUA_TSTRING),
        (c"double", ffi::LUA_TNUMBER),
        (c"big_number", ffi::LUA_TSTRING),
    ];
    for (i, (name, ty)) in scalars.into_iter().enumerate() {
        let found = field(l, name) == ty;
        if found {
            match i {
                0 => r.status(&one_line(to_bytes(l, -1))),
                1 => r.double(ffi::lua_tonumber(l, -1)),
                _ => r.bignum(&one_line(to_bytes(l, -1))),
            }
        }
        ffi::lua_settop(l, -2);
        if found {
            return;
        }
    }
    if field(l, c"verbatim_string") == ffi::LUA_TTABLE {
        let vt = ffi::lua_gettop(l);
        let f = field_of(l, vt, c"format");
        let s = field_of(l, vt, c"string");
        if f == ffi::LUA_TSTRING && s == ffi::LUA_TSTRING {
            let mut ext: String = String::from_utf8_lossy(to_bytes(l, -2))
                .chars()
                .take(3)
                .collect();
            while ext.len() < 3 {
                ext.push(' ');
            }
            r.verbatim(to_bytes(l, -1), &ext);
            ffi::lua_settop(l, -4);
            return;
        }
        ffi::lua_settop(l, -3);
    }
    ffi::lua_settop(l, -2);
    for (name, is_map) in [(c"map", true), (c"set", false)] {
        if field(l, name) == ffi::LUA_TTABLE {
            let mut n = 0;
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                n += 1;
                ffi::lua_settop(l, -2);
            }
            if is_map {
                r.map(n);
            } else {
                r.set(n);
            }
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                // A copy of the key is converted: lua_next needs the
                // original untouched.
                ffi::lua_pushvalue(l, -2);
                write_reply(l, r, resp3_script, depth + 1, errors);
                ffi::lua_settop(l, -2);
                if is_map {
                    write_reply(l, r, resp3_script, depth + 1, errors);
                }
                ffi::lua_settop(l, -2);
            }
            ffi::lua_settop(l, -2);
            return;
        }
        ffi::lua_settop(l, -2);
    }
    let mut n: c_int = 0;
    loop {
        ffi::lua_rawgeti_(l, -1, n + 1);
        let t = ffi::lua_type(l, -1);
        ffi::lua_settop(l, -2);
        if t == ffi::LUA_TNIL {
            break;
        }
        n += 1;
    }
    r.array(n as usize);
    for i in 1..=n {
        ffi::lua_rawgeti_(l, -1, i);
        write_reply(l, r, resp3_script, depth + 1, errors);
        ffi::lua_settop(l, -2);
    }
}

/// The error reply for a failed script from the error value at the top:
/// `{err=..., source=..., line=...}` becomes "<err> script: <name>, on
/// <source>:<line>.". Also whether the error still counts in the
/// statistics.
pub(crate) unsafe fn error_text(l: *mut lua_State, sha: &str) -> (String, bool) {
    match ffi::lua_type(l, -1) {
        ffi::LUA_TTABLE => {
            let msg = if field(l, c"err") == ffi::LUA_TSTRING {
                String::from_utf8_lossy(to_bytes(l, -1)).into_owned()
            } else {
                "ERR unknown error".to_string()
            };
            ffi::lua_settop(l, -2);
            let t = ffi::lua_gettop(l);
            let source = field_of(l, t, c"source");
            let line = field_of(l, t, c"line");
            let text = if source == ffi::LUA_TSTRING && line == ffi::LUA_TNUMBER {
                format!(
                    "{} script: {}, on {}:{}.",
                    msg,
                    sha,
                    String::from_utf8_lossy(to_bytes(l, -2)),
                    ffi::lua_tonumber(l, -1) as i64
                )
            } else {
                msg
            };
            ffi::lua_settop(l, -3);
            (text, counts_in_stats(l))
        }
        ffi::LUA_TSTRING => (
            format!(
                "ERR Error running script f_{}, {:.100}",
                sha,
                String::from_utf8_lossy(to_bytes(l, -1))
            ),
            true,
        ),
        _ => (
            format!("ERR Error running script f_{}, execution failure", sha),
            true,
        ),
    }
}

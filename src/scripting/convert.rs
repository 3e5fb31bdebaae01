//! RESP <-> Lua conversions, following Redis's documented rules.

use mlua::{Lua, Table, Value as LuaValue};

use crate::protocol::Reply;

/// Marks an error table whose error was already counted in the error
/// statistics (a command's error reply, or a refusal by redis.call).
pub const IGNORE_STATS: &str = "ignore_error_stats_update";

/// `{err = msg, ignore_error_stats_update = true}`: what redis.call gives
/// for a refused command (counted by the caller).
pub fn error_table(lua: &Lua, msg: &str) -> mlua::Result<LuaValue> {
    let t = lua.create_table()?;
    t.set("err", msg)?;
    t.set(IGNORE_STATS, true)?;
    Ok(LuaValue::Table(t))
}

/// An error table's error must still be counted in the statistics.
pub fn counts_in_stats(t: &Table) -> bool {
    !matches!(
        t.raw_get::<LuaValue>(IGNORE_STATS),
        Ok(LuaValue::Boolean(true))
    )
}

fn single_field(lua: &Lua, name: &str, v: impl mlua::IntoLua) -> mlua::Result<LuaValue> {
    let t = lua.create_table()?;
    t.set(name, v)?;
    Ok(LuaValue::Table(t))
}

/// Convert a complete RESP reply (as a command wrote it) to a Lua value.
pub fn resp_to_lua(lua: &Lua, buf: &[u8]) -> mlua::Result<LuaValue> {
    let mut pos = 0;
    parse(lua, buf, &mut pos)
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let start = *pos;
    let end = memchr::memmem::find(&buf[start..], b"\r\n")
        .map(|i| start + i)
        .unwrap_or(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn num(b: &[u8]) -> i64 {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn parse(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<LuaValue> {
    if *pos >= buf.len() {
        return Ok(LuaValue::Nil);
    }
    let t = buf[*pos];
    *pos += 1;
    let l = line(buf, pos);
    Ok(match t {
        b'+' => single_field(lua, "ok", lua.create_string(l)?)?,
        b'-' => {
            // Counted already, when the command replied it.
            let t = lua.create_table()?;
            t.set("err", lua.create_string(l)?)?;
            t.set(IGNORE_STATS, true)?;
            LuaValue::Table(t)
        }
        b':' => LuaValue::Number(num(l) as f64),
        b'$' | b'=' => {
            let n = num(l);
            if n < 0 {
                LuaValue::Boolean(false)
            } else {
                let n = n as usize;
                let end = (*pos + n).min(buf.len());
                let data = &buf[*pos..end];
                *pos = (end + 2).min(buf.len());
                if t == b'=' {
                    let (fmt, s) = if data.len() >= 4 {
                        (&data[..3], &data[4..])
                    } else {
                        (&b"txt"[..], data)
                    };
                    let inner = lua.create_table()?;
                    inner.set("format", lua.create_string(fmt)?)?;
                    inner.set("string", lua.create_string(s)?)?;
                    single_field(lua, "verbatim_string", inner)?
                } else {
                    LuaValue::String(lua.create_string(data)?)
                }
            }
        }
        b'*' | b'>' => {
            let n = num(l);
            if n < 0 {
                LuaValue::Boolean(false)
            } else {
                let tbl = lua.create_table()?;
                for i in 1..=n {
                    let v = parse(lua, buf, pos)?;
                    tbl.raw_set(i, v)?;
                }
                LuaValue::Table(tbl)
            }
        }
        b'%' => {
            let n = num(l);
            let m = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos)?;
                let v = parse(lua, buf, pos)?;
                m.raw_set(k, v)?;
            }
            single_field(lua, "map", m)?
        }
        b'~' => {
            let n = num(l);
            let s = lua.create_table()?;
            for _ in 0..n {
                let k = parse(lua, buf, pos)?;
                s.raw_set(k, true)?;
            }
            single_field(lua, "set", s)?
        }
        b'_' => LuaValue::Nil,
        b'#' => LuaValue::Boolean(l == b"t"),
        b',' => {
            let s = String::from_utf8_lossy(l).to_ascii_lowercase();
            let d = match s.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => other.parse().unwrap_or(0.0),
            };
            single_field(lua, "double", d)?
        }
        b'(' => single_field(lua, "big_number", lua.create_string(l)?)?,
        b'|' => {
            // Attributes are skipped; the value follows.
            let n = num(l);
            for _ in 0..2 * n {
                parse(lua, buf, pos)?;
            }
            parse(lua, buf, pos)?
        }
        _ => LuaValue::Nil,
    })
}

fn as_table_field(t: &Table, name: &str) -> LuaValue {
    t.raw_get(name).unwrap_or(LuaValue::Nil)
}

/// The error reply for a failed script: `{err=..., source=..., line=...}`
/// becomes "<err> script: <name>, on <source>:<line>."
pub fn error_from_lua(v: &LuaValue, sha: &str) -> String {
    match v {
        LuaValue::Table(t) => {
            let msg = match as_table_field(t, "err") {
                LuaValue::String(s) => s.to_string_lossy().to_string(),
                _ => "ERR unknown error".to_string(),
            };
            let source = as_table_field(t, "source");
            let line = as_table_field(t, "line");
            match (source, line) {
                (LuaValue::String(s), LuaValue::Integer(n)) => {
                    format!("{} script: {}, on {}:{}.", msg, sha, s.to_string_lossy(), n)
                }
                (LuaValue::String(s), LuaValue::Number(n)) => format!(
                    "{} script: {}, on {}:{}.",
                    msg,
                    sha,
                    s.to_string_lossy(),
                    n as i64
                ),
                _ => msg,
            }
        }
        LuaValue::String(s) => format!(
            "ERR Error running script f_{}, {:.100}",
            sha,
            s.to_string_lossy()
        ),
        _ => format!("ERR Error running script f_{}, execution failure", sha),
    }
}

/// Write a Lua value as the reply (Redis's luaReplyToRedisReply).
/// `resp3_script` is the protocol the script chose with redis.setresp.
/// Error replies written go to `errors` (empty when already counted).
pub fn lua_to_reply(
    v: &LuaValue,
    r: &mut Reply,
    resp3_script: bool,
    depth: usize,
    errors: &mut Vec<String>,
) {
    if depth > 1000 {
        r.error_raw("ERR reached lua stack limit");
        return;
    }
    match v {
        LuaValue::String(s) => r.bulk(&s.as_bytes()),
        LuaValue::Boolean(b) => {
            if !resp3_script {
                if *b {
                    r.int(1);
                } else {
                    r.null();
                }
            } else {
                r.boolean(*b);
            }
        }
        LuaValue::Integer(n) => r.int(*n),
        LuaValue::Number(n) => r.int(if n.is_nan() { i64::MIN } else { *n as i64 }),
        LuaValue::Table(t) => {
            if let LuaValue::String(e) = as_table_field(t, "err") {
                let msg = e.to_string_lossy().to_string();
                let msg = msg.strip_prefix('-').unwrap_or(&msg);
                r.error_raw(msg);
                // Already counted: the command still failed (empty entry).
                errors.push(if counts_in_stats(t) {
                    msg.to_string()
                } else {
                    String::new()
                });
                return;
            }
            if let LuaValue::String(ok) = as_table_field(t, "ok") {
                let s: String = ok
                    .to_string_lossy()
                    .chars()
                    .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                    .collect();
                r.status(&s);
                return;
            }
            match as_table_field(t, "double") {
                LuaValue::Number(d) => return r.double(d),
                LuaValue::Integer(d) => return r.double(d as f64),
                _ => {}
            }
            if let LuaValue::String(b) = as_table_field(t, "big_number") {
                let s: String = b
                    .to_string_lossy()
                    .chars()
                    .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                    .collect();
                r.bignum(&s);
                return;
            }
            if let LuaValue::Table(vt) = as_table_field(t, "verbatim_string") {
                if let (LuaValue::String(f), LuaValue::String(s)) =
                    (as_table_field(&vt, "format"), as_table_field(&vt, "string"))
                {
                    let fmt = f.to_string_lossy().to_string();
                    let mut ext: String = fmt.chars().take(3).collect();
                    while ext.len() < 3 {
                        ext.push(' ');
                    }
                    r.verbatim(&s.as_bytes(), &ext);
                    return;
                }
            }
            // Values are converted one at a time: holding thousands of Lua
            // references at once would exhaust the interpreter's stack.
            if let LuaValue::Table(m) = as_table_field(t, "map") {
                let n = m.pairs::<LuaValue, LuaValue>().count();
                r.map(n);
                for (k, v) in m.pairs::<LuaValue, LuaValue>().flatten() {
                    lua_to_reply(&k, r, resp3_script, depth + 1, errors);
                    lua_to_reply(&v, r, resp3_script, depth + 1, errors);
                }
                return;
            }
            if let LuaValue::Table(s) = as_table_field(t, "set") {
                let n = s.pairs::<LuaValue, LuaValue>().count();
                r.set(n);
                for (k, _) in s.pairs::<LuaValue, LuaValue>().flatten() {
                    lua_to_reply(&k, r, resp3_script, depth + 1, errors);
                }
                return;
            }
            let mut n = 0;
            while !t
                .raw_get::<LuaValue>(n + 1)
                .unwrap_or(LuaValue::Nil)
                .is_nil()
            {
                n += 1;
            }
            r.array(n);
            for i in 1..=n {
                let v: LuaValue = t.raw_get(i).unwrap_or(LuaValue::Nil);
                lua_to_reply(&v, r, resp3_script, depth + 1, errors);
            }
        }
        _ => r.null(),
    }
}

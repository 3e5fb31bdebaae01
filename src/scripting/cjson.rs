//! The `cjson` library for scripts: encode/decode with lua-cjson's rules
//! (arrays for 1..n keys, "%.14g" numbers, "\/" escaping, cjson.null).

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Lua, MultiValue, Table, Value as LuaValue};

/// lua-cjson's settings (cjson.encode_max_depth() and friends); they last
/// across scripts, as in Redis.
#[derive(Clone, Copy)]
struct Cfg {
    encode_max_depth: i64,
    decode_max_depth: i64,
    /// 0 off (error), 1 on ("nan"/"inf"), 2 null.
    encode_invalid_numbers: i64,
    decode_invalid_numbers: bool,
    encode_number_precision: i64,
    encode_keep_buffer: bool,
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
}

const DEFAULT_CFG: Cfg = Cfg {
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: true,
    encode_number_precision: 14,
    encode_keep_buffer: true,
    sparse_convert: false,
    sparse_ratio: 2,
    sparse_safe: 10,
};

fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn encode_number(out: &mut Vec<u8>, n: f64, cfg: &Cfg) -> mlua::Result<()> {
    if n.is_nan() || n.is_infinite() {
        match cfg.encode_invalid_numbers {
            0 => {
                return Err(mlua::Error::runtime(
                    "Cannot serialise number: must not be NaN or Inf",
                ))
            }
            1 if n.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    let prec = cfg.encode_number_precision as usize;
    out.extend_from_slice(crate::util::format_g(n, prec).as_bytes());
    Ok(())
}

/// Array length if the table is an array (keys 1..n, not too sparse).
fn array_len(t: &Table, cfg: &Cfg) -> mlua::Result<Option<usize>> {
    let mut max = 0usize;
    let mut count = 0usize;
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair?;
        let idx = match k {
            LuaValue::Integer(i) if i >= 1 => i as usize,
            LuaValue::Number(f) if f >= 1.0 && f.fract() == 0.0 => f as usize,
            _ => return Ok(None),
        };
        max = max.max(idx);
        count += 1;
    }
    // Excessively sparse arrays are refused (or encoded as objects).
    let (ratio, safe) = (cfg.sparse_ratio as usize, cfg.sparse_safe as usize);
    if ratio > 0 && max > safe && max > count * ratio {
        if cfg.sparse_convert {
            return Ok(None);
        }
        return Err(mlua::Error::runtime(
            "Cannot serialise table: excessively sparse array",
        ));
    }
    Ok(Some(max))
}

/// `depth`: how many tables enclose `v`.
fn encode(out: &mut Vec<u8>, v: &LuaValue, depth: i64, cfg: &Cfg) -> mlua::Result<()> {
    if matches!(v, LuaValue::Table(_)) && depth + 1 > cfg.encode_max_depth {
        return Err(mlua::Error::runtime(format!(
            "Cannot serialise, excessive nesting ({})",
            depth + 1
        )));
    }
    match v {
        LuaValue::Nil => out.extend_from_slice(b"null"),
        LuaValue::LightUserData(_) => out.extend_from_slice(b"null"),
        LuaValue::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        LuaValue::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        LuaValue::Number(n) => encode_number(out, *n, cfg)?,
        LuaValue::String(s) => encode_string(out, &s.as_bytes()),
        LuaValue::Table(t) => match array_len(t, cfg)? {
            Some(n)
                if n > 0
                    || t.raw_len() == 0 && t.pairs::<LuaValue, LuaValue>().next().is_none() =>
            {
                if n == 0 {
                    // An empty table encodes as an object, as lua-cjson does.
                    out.extend_from_slice(b"{}");
                    return Ok(());
                }
                out.push(b'[');
                for i in 1..=n {
                    if i > 1 {
                        out.push(b',');
                    }
                    let item: LuaValue = t.raw_get(i)?;
                    encode(out, &item, depth + 1, cfg)?;
                }
                out.push(b']');
            }
            _ => {
                out.push(b'{');
                let mut first = true;
                for pair in t.pairs::<LuaValue, LuaValue>() {
                    let (k, val) = pair?;
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    match &k {
                        LuaValue::String(s) => encode_string(out, &s.as_bytes()),
                        LuaValue::Integer(i) => encode_string(out, i.to_string().as_bytes()),
                        LuaValue::Number(n) => {
                            let p = cfg.encode_number_precision as usize;
                            encode_string(out, crate::util::format_g(*n, p).as_bytes())
                        }
                        _ => {
                            return Err(mlua::Error::runtime(
                                "Cannot serialise table: table key must be a number or string",
                            ))
                        }
                    }
                    out.push(b':');
                    encode(out, &val, depth + 1, cfg)?;
                }
                out.push(b'}');
            }
        },
        other => {
            return Err(mlua::Error::runtime(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            )))
        }
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    max_depth: i64,
}

impl Parser<'_> {
    fn err<T>(&self, what: &str) -> mlua::Result<T> {
        let found = if self.pos >= self.s.len() {
            "T_END"
        } else {
            "invalid token"
        };
        Err(mlua::Error::runtime(format!(
            "Expected {} but found {} at character {}",
            what,
            found,
            self.pos + 1
        )))
    }
    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }
    /// `depth`: how many objects/arrays enclose the value.
    fn value(&mut self, lua: &Lua, null: &LuaValue, depth: i64) -> mlua::Result<LuaValue> {
        self.ws();
        let Some(&c) = self.s.get(self.pos) else {
            return self.err("value");
        };
        if (c == b'{' || c == b'[') && depth + 1 > self.max_depth {
            return Err(mlua::Error::runtime(format!(
                "Found too many nested data structures ({}) at character {}",
                depth + 1,
                self.pos + 1
            )));
        }
        match c {
            b'{' => {
                self.pos += 1;
                let t = lua.create_table()?;
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(LuaValue::Table(t));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return self.err("object key string");
                    }
                    let k = self.string(lua)?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return self.err("colon");
                    }
                    self.pos += 1;
                    let v = self.value(lua, null, depth + 1)?;
                    t.raw_set(k, v)?;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(LuaValue::Table(t));
                        }
                        _ => return self.err("comma or object end"),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let t = lua.create_table()?;
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(LuaValue::Table(t));
                }
                let mut i = 1;
                loop {
                    let v = self.value(lua, null, depth + 1)?;
                    t.raw_set(i, v)?;
                    i += 1;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(LuaValue::Table(t));
                        }
                        _ => return self.err("comma or array end"),
                    }
                }
            }
            b'"' => self.string(lua),
            b't' if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(LuaValue::Boolean(true))
            }
            b'f' if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(LuaValue::Boolean(false))
            }
            b'n' if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(null.clone())
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && matches!(
                        self.s[self.pos],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.pos += 1;
                }
                let txt = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                match txt.parse::<f64>() {
                    Ok(n) => Ok(LuaValue::Number(n)),
                    Err(_) => {
                        self.pos = start;
                        self.err("value")
                    }
                }
            }
            _ => self.err("value"),
        }
    }
    fn string(&mut self, lua: &Lua) -> mlua::Result<LuaValue> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return self.err("string end");
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return self.err("escape");
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self
                                .s
                                .get(self.pos..self.pos + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            let Some(mut cp) = hex else {
                                return self.err("unicode escape");
                            };
                            self.pos += 4;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                let lo = self
                                    .s
                                    .get(self.pos + 2..self.pos + 6)
                                    .and_then(|h| std::str::from_utf8(h).ok())
                                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                                if let Some(lo) = lo {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                    self.pos += 6;
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        Ok(LuaValue::String(lua.create_string(&out)?))
    }
}

pub fn install(lua: &Lua, env: &Table) -> mlua::Result<()> {
    let cjson = lua.create_table()?;
    let null = LuaValue::LightUserData(mlua::LightUserData(std::ptr::null_mut()));
    cjson.set("null", null.clone())?;
    let cfg = Rc::new(Cell::new(DEFAULT_CFG));
    let c = cfg.clone();
    cjson.set(
        "encode",
        lua.create_function(move |lua, v: LuaValue| {
            let mut out = Vec::new();
            encode(&mut out, &v, 0, &c.get())?;
            lua.create_string(&out)
        })?,
    )?;
    let c = cfg.clone();
    cjson.set(
        "decode",
        lua.create_function(move |lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut p = Parser {
                s: &bytes,
                pos: 0,
                max_depth: c.get().decode_max_depth,
            };
            let v = p.value(lua, &null, 0)?;
            p.ws();
            if p.pos != bytes.len() {
                return p.err("the end");
            }
            Ok(v)
        })?,
    )?;
    install_settings(lua, &cjson, &cfg)?;
    env.set("cjson", cjson)?;
    Ok(())
}

/// An integer setting: nil keeps it; returns the value in force.
fn int_option(v: Option<&LuaValue>, cur: &mut i64, min: i64, max: i64) -> mlua::Result<()> {
    let n = match v {
        None | Some(LuaValue::Nil) => return Ok(()),
        Some(LuaValue::Integer(n)) => *n,
        Some(LuaValue::Number(n)) => *n as i64,
        Some(LuaValue::String(s)) => s
            .to_str()
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map(|f| f as i64)
            .ok_or_else(|| mlua::Error::runtime("bad argument #1 (number expected)"))?,
        Some(_) => return Err(mlua::Error::runtime("bad argument #1 (number expected)")),
    };
    if n < min || n > max {
        return Err(mlua::Error::runtime(format!(
            "bad argument #1 (expected integer between {min} and {max})"
        )));
    }
    *cur = n;
    Ok(())
}

/// An on/off setting (true/false or "on"/"off"; `extra` adds a third
/// string option with value 2); nil keeps it.
fn enum_option(v: Option<&LuaValue>, cur: &mut i64, extra: Option<&str>) -> mlua::Result<()> {
    match v {
        None | Some(LuaValue::Nil) => {}
        Some(LuaValue::Boolean(b)) => *cur = *b as i64,
        Some(LuaValue::String(s)) => {
            let t = s.to_string_lossy();
            *cur = match t.as_ref() {
                "off" => 0,
                "on" => 1,
                x if Some(x) == extra => 2,
                _ => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #1 (invalid option '{t}')"
                    )))
                }
            };
        }
        Some(_) => return Err(mlua::Error::runtime("bad argument #1 (string expected)")),
    }
    Ok(())
}

fn enum_value(lua: &Lua, v: i64, extra: Option<&str>) -> mlua::Result<LuaValue> {
    Ok(match (v, extra) {
        (0, _) => LuaValue::Boolean(false),
        (1, _) => LuaValue::Boolean(true),
        (_, Some(e)) => LuaValue::String(lua.create_string(e)?),
        _ => LuaValue::Boolean(true),
    })
}

/// cjson.encode_max_depth(), decode_max_depth(), encode_number_precision(),
/// encode_keep_buffer(), encode_invalid_numbers(), decode_invalid_numbers()
/// and encode_sparse_array(): set with an argument, return the setting.
fn install_settings(lua: &Lua, cjson: &Table, cfg: &Rc<Cell<Cfg>>) -> mlua::Result<()> {
    type Field = fn(&mut Cfg) -> &mut i64;
    let ints: [(&str, Field, i64, i64); 3] = [
        (
            "encode_max_depth",
            |c| &mut c.encode_max_depth,
            1,
            i32::MAX as i64,
        ),
        (
            "decode_max_depth",
            |c| &mut c.decode_max_depth,
            1,
            i32::MAX as i64,
        ),
        (
            "encode_number_precision",
            |c| &mut c.encode_number_precision,
            1,
            14,
        ),
    ];
    for (name, field, min, max) in ints {
        let c = cfg.clone();
        cjson.set(
            name,
            lua.create_function(move |_, args: MultiValue| {
                let mut v = c.get();
                int_option(args.iter().next(), field(&mut v), min, max)?;
                c.set(v);
                Ok(*field(&mut v))
            })?,
        )?;
    }
    let c = cfg.clone();
    cjson.set(
        "encode_invalid_numbers",
        lua.create_function(move |lua, args: MultiValue| {
            let mut v = c.get();
            enum_option(
                args.iter().next(),
                &mut v.encode_invalid_numbers,
                Some("null"),
            )?;
            c.set(v);
            enum_value(lua, v.encode_invalid_numbers, Some("null"))
        })?,
    )?;
    type Flag = fn(&mut Cfg) -> &mut bool;
    let flags: [(&str, Flag); 2] = [
        ("decode_invalid_numbers", |c| &mut c.decode_invalid_numbers),
        ("encode_keep_buffer", |c| &mut c.encode_keep_buffer),
    ];
    for (name, field) in flags {
        let c = cfg.clone();
        cjson.set(
            name,
            lua.create_function(move |_, args: MultiValue| {
                let mut v = c.get();
                let mut n = *field(&mut v) as i64;
                enum_option(args.iter().next(), &mut n, None)?;
                *field(&mut v) = n != 0;
                c.set(v);
                Ok(n != 0)
            })?,
        )?;
    }
    let c = cfg.clone();
    cjson.set(
        "encode_sparse_array",
        lua.create_function(move |_, args: MultiValue| {
            let mut v = c.get();
            let a: Vec<LuaValue> = args.into_iter().collect();
            let mut conv = v.sparse_convert as i64;
            enum_option(a.first(), &mut conv, None)?;
            int_option(a.get(1), &mut v.sparse_ratio, 0, i32::MAX as i64)?;
            int_option(a.get(2), &mut v.sparse_safe, 0, i32::MAX as i64)?;
            v.sparse_convert = conv != 0;
            c.set(v);
            Ok((v.sparse_convert, v.sparse_ratio, v.sparse_safe))
        })?,
    )?;
    Ok(())
}

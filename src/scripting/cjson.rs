//! The `cjson` library for scripts: encode/decode with lua-cjson's rules
//! (arrays for 1..n keys, "%.14g" numbers, "\/" escaping, cjson.null).

use mlua::{Lua, Table, Value as LuaValue};

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

fn encode_number(out: &mut Vec<u8>, n: f64) -> mlua::Result<()> {
    if n.is_nan() || n.is_infinite() {
        return Err(mlua::Error::runtime(
            "Cannot serialise number: must not be NaN or Inf",
        ));
    }
    out.extend_from_slice(crate::util::format_g(n, 14).as_bytes());
    Ok(())
}

/// Array length if the table is an array (keys 1..n, not too sparse).
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
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
    // lua-cjson's default: sparse arrays (ratio 2, safe 10) are refused.
    if max > 10 && max > count * 2 {
        return Err(mlua::Error::runtime(
            "Cannot serialise table: excessively sparse array",
        ));
    }
    Ok(Some(max))
}

fn encode(out: &mut Vec<u8>, v: &LuaValue, depth: usize) -> mlua::Result<()> {
    if depth > 1000 {
        return Err(mlua::Error::runtime(
            "Cannot serialise, excessive nesting (1001)",
        ));
    }
    match v {
        LuaValue::Nil => out.extend_from_slice(b"null"),
        LuaValue::LightUserData(_) => out.extend_from_slice(b"null"),
        LuaValue::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        LuaValue::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        LuaValue::Number(n) => encode_number(out, *n)?,
        LuaValue::String(s) => encode_string(out, &s.as_bytes()),
        LuaValue::Table(t) => match array_len(t)? {
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
                    encode(out, &item, depth + 1)?;
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
                            encode_string(out, crate::util::format_g(*n, 14).as_bytes())
                        }
                        _ => {
                            return Err(mlua::Error::runtime(
                                "Cannot serialise table: table key must be a number or string",
                            ))
                        }
                    }
                    out.push(b':');
                    encode(out, &val, depth + 1)?;
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
    fn value(&mut self, lua: &Lua, null: &LuaValue, depth: usize) -> mlua::Result<LuaValue> {
        if depth > 1000 {
            return Err(mlua::Error::runtime(
                "Found too many nested data structures (1001)",
            ));
        }
        self.ws();
        let Some(&c) = self.s.get(self.pos) else {
            return self.err("value");
        };
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
    cjson.set(
        "encode",
        lua.create_function(|lua, v: LuaValue| {
            let mut out = Vec::new();
            encode(&mut out, &v, 0)?;
            lua.create_string(&out)
        })?,
    )?;
    cjson.set(
        "decode",
        lua.create_function(move |lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut p = Parser { s: &bytes, pos: 0 };
            let v = p.value(lua, &null, 0)?;
            p.ws();
            if p.pos != bytes.len() {
                return p.err("the end");
            }
            Ok(v)
        })?,
    )?;
    env.set("cjson", cjson)?;
    Ok(())
}

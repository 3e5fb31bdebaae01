//! The `cmsgpack` library for scripts (pack, unpack, unpack_one,
//! unpack_limit), encoding exactly as lua_cmsgpack does: smallest integer
//! forms, float32 when exact, str8 for 32..255-byte strings, tables as
//! arrays when their keys are 1..n.

use mlua::{Lua, MultiValue, Table, Value as LuaValue};

const MAX_NESTING: usize = 16;

fn enc_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn enc_number(out: &mut Vec<u8>, d: f64) {
    if d.fract() == 0.0 && d >= i64::MIN as f64 && d < i64::MAX as f64 {
        enc_int(out, d as i64);
    } else if (d as f32) as f64 == d || d.is_nan() && (d as f32).is_nan() {
        out.push(0xca);
        out.extend_from_slice(&(d as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

fn enc_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn enc_len(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair?;
        let n = match k {
            LuaValue::Integer(i) => i,
            LuaValue::Number(f) if f.fract() == 0.0 => f as i64,
            _ => return Ok(false),
        };
        if n <= 0 {
            return Ok(false);
        }
        max = max.max(n);
        count += 1;
    }
    Ok(max == count)
}

fn encode(out: &mut Vec<u8>, v: &LuaValue, level: usize) -> mlua::Result<()> {
    match v {
        LuaValue::String(s) => enc_bytes(out, &s.as_bytes()),
        LuaValue::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        LuaValue::Integer(i) => enc_int(out, *i),
        LuaValue::Number(n) => enc_number(out, *n),
        // Past the nesting limit a table is encoded as nil, as lua_cmsgpack does.
        LuaValue::Table(t) if level < MAX_NESTING => {
            if is_array(t)? {
                let n = t.raw_len();
                enc_len(out, n, 0x90, 0xdc, 0xdd);
                for i in 1..=n {
                    let item: LuaValue = t.get(i)?;
                    encode(out, &item, level + 1)?;
                }
            } else {
                // Count, then encode pair by pair: holding every value at
                // once could exhaust the interpreter's reference stack.
                let n = t.pairs::<LuaValue, LuaValue>().count();
                enc_len(out, n, 0x80, 0xde, 0xdf);
                for pair in t.pairs::<LuaValue, LuaValue>() {
                    let (k, val) = pair?;
                    encode(out, &k, level + 1)?;
                    encode(out, &val, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

enum DecErr {
    Eof,
    BadFmt,
}

struct Cur<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cur<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecErr> {
        if self.pos + n > self.s.len() {
            return Err(DecErr::Eof);
        }
        let r = &self.s[self.pos..self.pos + n];
        self.pos += n;
        Ok(r)
    }
    fn be(&mut self, n: usize) -> Result<u64, DecErr> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
    }
}

fn decode(lua: &Lua, c: &mut Cur, depth: usize) -> Result<LuaValue, DecErr> {
    if depth > 1000 {
        return Err(DecErr::BadFmt);
    }
    let t = c.take(1)?[0];
    let num = |n: f64| LuaValue::Number(n);
    let str_of = |lua: &Lua, b: &[u8]| {
        lua.create_string(b)
            .map(LuaValue::String)
            .map_err(|_| DecErr::BadFmt)
    };
    Ok(match t {
        0x00..=0x7f => num(t as f64),
        0xe0..=0xff => num(t as i8 as f64),
        0xcc => num(c.be(1)? as f64),
        0xcd => num(c.be(2)? as f64),
        0xce => num(c.be(4)? as f64),
        0xcf => num(c.be(8)? as f64),
        0xd0 => num(c.be(1)? as u8 as i8 as f64),
        0xd1 => num(c.be(2)? as u16 as i16 as f64),
        0xd2 => num(c.be(4)? as u32 as i32 as f64),
        0xd3 => num(c.be(8)? as i64 as f64),
        0xc0 => LuaValue::Nil,
        0xc3 => LuaValue::Boolean(true),
        0xc2 => LuaValue::Boolean(false),
        0xca => num(f32::from_bits(c.be(4)? as u32) as f64),
        0xcb => num(f64::from_bits(c.be(8)?)),
        0xa0..=0xbf => {
            let b = c.take((t & 0x1f) as usize)?.to_vec();
            str_of(lua, &b)?
        }
        0xd9..=0xdb => {
            let n = c.be(match t {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            })? as usize;
            let b = c.take(n)?.to_vec();
            str_of(lua, &b)?
        }
        0x90..=0x9f | 0xdc | 0xdd => {
            let n = match t {
                0xdc => c.be(2)? as usize,
                0xdd => c.be(4)? as usize,
                _ => (t & 0x0f) as usize,
            };
            let tbl = lua.create_table().map_err(|_| DecErr::BadFmt)?;
            for i in 1..=n {
                let v = decode(lua, c, depth + 1)?;
                tbl.raw_set(i, v).map_err(|_| DecErr::BadFmt)?;
            }
            LuaValue::Table(tbl)
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let n = match t {
                0xde => c.be(2)? as usize,
                0xdf => c.be(4)? as usize,
                _ => (t & 0x0f) as usize,
            };
            let tbl = lua.create_table().map_err(|_| DecErr::BadFmt)?;
            for _ in 0..n {
                let k = decode(lua, c, depth + 1)?;
                let v = decode(lua, c, depth + 1)?;
                if !k.is_nil() {
                    tbl.raw_set(k, v).map_err(|_| DecErr::BadFmt)?;
                }
            }
            LuaValue::Table(tbl)
        }
        _ => return Err(DecErr::BadFmt),
    })
}

fn unpack_full(lua: &Lua, s: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(mlua::Error::runtime(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset,
            s.len()
        )));
    }
    if offset as usize > s.len() {
        return Err(mlua::Error::runtime(format!(
            "Start offset {} greater than input length {}.",
            offset,
            s.len()
        )));
    }
    let limit = if decode_all { i64::MAX } else { limit };
    let mut c = Cur {
        s,
        pos: offset as usize,
    };
    let mut vals = Vec::new();
    let mut cnt = 0;
    while c.pos < s.len() && cnt < limit {
        match decode(lua, &mut c, 0) {
            Ok(v) => vals.push(v),
            Err(DecErr::Eof) => return Err(mlua::Error::runtime("Missing bytes in input.")),
            Err(DecErr::BadFmt) => return Err(mlua::Error::runtime("Bad data format in input.")),
        }
        cnt += 1;
    }
    if !decode_all {
        let next = if c.pos >= s.len() { -1 } else { c.pos as i64 };
        vals.insert(0, LuaValue::Number(next as f64));
    }
    Ok(MultiValue::from_iter(vals))
}

pub fn install(lua: &Lua, env: &Table) -> mlua::Result<()> {
    let m = lua.create_table()?;
    m.set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(mlua::Error::runtime(
                    "bad argument #0 to 'pack' (MessagePack pack needs input.)",
                ));
            }
            let mut out = Vec::new();
            for a in args.iter() {
                encode(&mut out, a, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    m.set(
        "unpack",
        lua.create_function(|lua, s: mlua::String| unpack_full(lua, &s.as_bytes(), 0, 0))?,
    )?;
    m.set(
        "unpack_one",
        lua.create_function(|lua, (s, off): (mlua::String, Option<i64>)| {
            unpack_full(lua, &s.as_bytes(), 1, off.unwrap_or(0))
        })?,
    )?;
    m.set(
        "unpack_limit",
        lua.create_function(|lua, (s, limit, off): (mlua::String, i64, Option<i64>)| {
            unpack_full(lua, &s.as_bytes(), limit, off.unwrap_or(0))
        })?,
    )?;
    env.set("cmsgpack", m)?;
    Ok(())
}

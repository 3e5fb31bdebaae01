//! The `struct` library for scripts (pack, unpack, size), with lua_struct's
//! format language: < > ! endianness and alignment, b B h H l L T i I[n]
//! f d x c[n] s.

use mlua::{Lua, MultiValue, Table, Value as LuaValue};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

fn err<T>(msg: impl Into<String>) -> mlua::Result<T> {
    Err(mlua::Error::runtime(msg.into()))
}

fn getnum(fmt: &[u8], i: &mut usize, default: usize) -> mlua::Result<usize> {
    if *i >= fmt.len() || !fmt[*i].is_ascii_digit() {
        return Ok(default);
    }
    let mut a: usize = 0;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        a = a
            .checked_mul(10)
            .and_then(|a| a.checked_add((fmt[*i] - b'0') as usize))
            .filter(|a| *a <= i32::MAX as usize)
            .ok_or_else(|| mlua::Error::runtime("integral size overflow"))?;
        *i += 1;
    }
    Ok(a)
}

fn optsize(opt: u8, fmt: &[u8], i: &mut usize) -> mlua::Result<usize> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => getnum(fmt, i, 1)?,
        b'i' | b'I' => {
            let sz = getnum(fmt, i, 4)?;
            if sz > MAXINTSIZE {
                return err(format!(
                    "integral size {} is larger than limit of {}",
                    sz, MAXINTSIZE
                ));
            }
            sz
        }
        _ => 0,
    })
}

fn toalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn control(opt: u8, fmt: &[u8], i: &mut usize, h: &mut Header, fname: &str) -> mlua::Result<()> {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = getnum(fmt, i, MAXALIGN)?;
            if a == 0 || a & (a - 1) != 0 {
                return err(format!("alignment {} is not a power of 2", a));
            }
            h.align = a;
        }
        c => {
            return err(format!(
                "bad argument #1 to '{}' (invalid format option '{}')",
                fname, c as char
            ))
        }
    }
    Ok(())
}

fn num(v: Option<&LuaValue>, argn: usize) -> mlua::Result<f64> {
    match v {
        Some(LuaValue::Integer(n)) => Ok(*n as f64),
        Some(LuaValue::Number(n)) => Ok(*n),
        Some(LuaValue::String(s)) => s.to_str()?.trim().parse().or_else(|_| {
            err(format!(
                "bad argument #{} to 'pack' (number expected, got string)",
                argn
            ))
        }),
        _ => err(format!(
            "bad argument #{} to 'pack' (number expected, got no value)",
            argn
        )),
    }
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    let args: Vec<LuaValue> = args.into_iter().collect();
    let fmt = match args.first() {
        Some(LuaValue::String(s)) => s.as_bytes().to_vec(),
        _ => return err("bad argument #1 to 'pack' (string expected)"),
    };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut out: Vec<u8> = Vec::new();
    let mut arg = 1;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, &fmt, &mut i)?;
        let pad = toalign(out.len(), &h, opt, size);
        out.extend(std::iter::repeat_n(0u8, pad));
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = num(args.get(arg), arg + 1)?;
                arg += 1;
                let mut v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut bytes = vec![0u8; size];
                for b in bytes.iter_mut() {
                    *b = (v & 0xff) as u8;
                    v = v.checked_shr(8).unwrap_or(0);
                }
                if !h.little {
                    bytes.reverse();
                }
                out.extend_from_slice(&bytes);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = num(args.get(arg), arg + 1)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                });
            }
            b'd' => {
                let d = num(args.get(arg), arg + 1)?;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    d.to_le_bytes()
                } else {
                    d.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = match args.get(arg) {
                    Some(LuaValue::String(s)) => s.as_bytes().to_vec(),
                    Some(LuaValue::Integer(n)) => n.to_string().into_bytes(),
                    Some(LuaValue::Number(n)) => crate::util::format_g(*n, 14).into_bytes(),
                    _ => {
                        return err(format!(
                            "bad argument #{} to 'pack' (string expected, got no value)",
                            arg + 1
                        ))
                    }
                };
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return err(format!(
                        "bad argument #{} to 'pack' (string too short)",
                        arg + 1
                    ));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => control(opt, &fmt, &mut i, &mut h, "pack")?,
        }
    }
    lua.create_string(&out)
}

fn unpack(
    lua: &Lua,
    (fmt, data, init): (mlua::String, mlua::String, Option<i64>),
) -> mlua::Result<MultiValue> {
    let fmt = fmt.as_bytes().to_vec();
    let data = data.as_bytes().to_vec();
    let init = init.unwrap_or(1);
    if init <= 0 {
        return err("bad argument #3 to 'unpack' (offset must be 1 or greater)");
    }
    let mut pos = (init - 1) as usize;
    let ld = data.len();
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut res: Vec<LuaValue> = Vec::new();
    let mut i = 0;
    let short = || err::<()>("bad argument #2 to 'unpack' (data string too short)");
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, &fmt, &mut i)?;
        pos += toalign(pos, &h, opt, size);
        if size > ld || pos > ld - size {
            short()?;
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let bytes = &data[pos..pos + size];
                let mut l: u64 = 0;
                let iter: Box<dyn Iterator<Item = &u8>> = if h.little {
                    Box::new(bytes.iter().rev())
                } else {
                    Box::new(bytes.iter())
                };
                for &b in iter {
                    l = l.checked_shl(8).unwrap_or(0) | b as u64;
                }
                let v = if opt.is_ascii_lowercase() && size > 0 && size <= 8 {
                    let shift = 64 - size * 8;
                    (((l << shift) as i64) >> shift) as f64
                } else {
                    l as f64
                };
                res.push(LuaValue::Number(v));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().unwrap_or([0; 4]);
                res.push(LuaValue::Number(if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                } as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().unwrap_or([0; 8]);
                res.push(LuaValue::Number(if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                }));
            }
            b'c' => {
                if size == 0 {
                    let prev = match res.pop() {
                        Some(LuaValue::Number(n)) => n,
                        Some(LuaValue::Integer(n)) => n as f64,
                        _ => return err("format 'c0' needs a previous size"),
                    };
                    size = prev as usize;
                    if size > ld || pos > ld - size {
                        short()?;
                    }
                }
                res.push(LuaValue::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(e) = memchr::memchr(0, &data[pos..]) else {
                    return err("unfinished string in data");
                };
                size = e + 1;
                res.push(LuaValue::String(lua.create_string(&data[pos..pos + e])?));
            }
            _ => control(opt, &fmt, &mut i, &mut h, "unpack")?,
        }
        pos += size;
    }
    res.push(LuaValue::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(res))
}

fn size(_: &Lua, fmt: mlua::String) -> mlua::Result<f64> {
    let fmt = fmt.as_bytes().to_vec();
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut pos = 0;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = optsize(opt, &fmt, &mut i)?;
        pos += toalign(pos, &h, opt, size);
        if opt == b's' {
            return err("bad argument #1 to 'size' (option 's' has no fixed size)");
        } else if opt == b'c' && size == 0 {
            return err("bad argument #1 to 'size' (option 'c0' has no fixed size)");
        }
        if !opt.is_ascii_alphanumeric() {
            control(opt, &fmt, &mut i, &mut h, "size")?;
        }
        pos += size;
    }
    Ok(pos as f64)
}

pub fn install(lua: &Lua, env: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.set("pack", lua.create_function(pack)?)?;
    t.set("unpack", lua.create_function(unpack)?)?;
    t.set("size", lua.create_function(size)?)?;
    env.set("struct", t)?;
    Ok(())
}

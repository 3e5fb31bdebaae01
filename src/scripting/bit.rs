//! The `bit` library (Lua BitOp's API) that Redis scripts can use.

use mlua::{Lua, MultiValue, Table, Value as LuaValue};

/// Normalize a Lua number to a 32-bit signed integer as BitOp does.
fn tobit(v: &LuaValue) -> mlua::Result<i32> {
    let n = match v {
        LuaValue::Integer(n) => *n as f64,
        LuaValue::Number(n) => *n,
        LuaValue::String(s) => s
            .to_str()?
            .trim()
            .parse::<f64>()
            .map_err(|_| mlua::Error::runtime("bad argument (number expected)"))?,
        _ => {
            return Err(mlua::Error::runtime(
                "bad argument (number expected, got no value)",
            ))
        }
    };
    // Add 2^52+2^51 and read the low 32 bits, BitOp's normalization.
    let t = n + 6755399441055744.0;
    Ok(t.to_bits() as u32 as i32)
}

fn args(m: &MultiValue) -> mlua::Result<Vec<i32>> {
    m.iter().map(tobit).collect()
}

pub fn install(lua: &Lua, env: &Table) -> mlua::Result<()> {
    let bit = lua.create_table()?;
    bit.set(
        "tobit",
        lua.create_function(|_, v: LuaValue| Ok(tobit(&v)? as f64))?,
    )?;
    bit.set(
        "bnot",
        lua.create_function(|_, v: LuaValue| Ok(!tobit(&v)? as f64))?,
    )?;
    bit.set(
        "band",
        lua.create_function(|_, m: MultiValue| {
            Ok(args(&m)?.into_iter().fold(-1i32, |a, b| a & b) as f64)
        })?,
    )?;
    bit.set(
        "bor",
        lua.create_function(|_, m: MultiValue| {
            Ok(args(&m)?.into_iter().fold(0i32, |a, b| a | b) as f64)
        })?,
    )?;
    bit.set(
        "bxor",
        lua.create_function(|_, m: MultiValue| {
            Ok(args(&m)?.into_iter().fold(0i32, |a, b| a ^ b) as f64)
        })?,
    )?;
    bit.set(
        "lshift",
        lua.create_function(|_, (a, n): (LuaValue, LuaValue)| {
            Ok(((tobit(&a)? as u32) << (tobit(&n)? & 31)) as i32 as f64)
        })?,
    )?;
    bit.set(
        "rshift",
        lua.create_function(|_, (a, n): (LuaValue, LuaValue)| {
            Ok(((tobit(&a)? as u32) >> (tobit(&n)? & 31)) as i32 as f64)
        })?,
    )?;
    bit.set(
        "arshift",
        lua.create_function(|_, (a, n): (LuaValue, LuaValue)| {
            Ok((tobit(&a)? >> (tobit(&n)? & 31)) as f64)
        })?,
    )?;
    bit.set(
        "rol",
        lua.create_function(|_, (a, n): (LuaValue, LuaValue)| {
            Ok((tobit(&a)? as u32).rotate_left((tobit(&n)? & 31) as u32) as i32 as f64)
        })?,
    )?;
    bit.set(
        "ror",
        lua.create_function(|_, (a, n): (LuaValue, LuaValue)| {
            Ok((tobit(&a)? as u32).rotate_right((tobit(&n)? & 31) as u32) as i32 as f64)
        })?,
    )?;
    bit.set(
        "bswap",
        lua.create_function(|_, a: LuaValue| Ok((tobit(&a)? as u32).swap_bytes() as i32 as f64))?,
    )?;
    bit.set(
        "tohex",
        lua.create_function(|_, (a, n): (LuaValue, Option<LuaValue>)| {
            let x = tobit(&a)? as u32;
            let mut n = match n {
                Some(v) => tobit(&v)?,
                None => 8,
            };
            let upper = n < 0;
            if upper {
                n = -n;
            }
            let n = n.clamp(1, 8) as usize;
            let s = format!("{:08x}", x);
            let s = &s[8 - n..];
            Ok(if upper {
                s.to_uppercase()
            } else {
                s.to_string()
            })
        })?,
    )?;
    env.set("bit", bit)?;
    Ok(())
}

//! The Lua 5.1 engine behind EVAL and friends: a sandboxed interpreter,
//! the `redis` library scripts call, and the conversions between Lua
//! values and RESP that Redis documents.
//!
//! Commands a script runs go through the normal execution path on a
//! socket-less client, so their replies, statistics and propagation are
//! exactly those of the same command sent by a client.

pub mod bit;
pub mod busy;
pub mod cjson;
pub mod cmsgpack;
pub mod ldb;
pub mod rand;
pub mod raw;
pub mod structlib;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::os::raw::c_int;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};

use crate::commands::{flags, Ctx};
use crate::server::client::{Client, Conn};

/// What a script run gives back: the Lua value converted to RESP bytes, or
/// an error line (with its code, no leading '-').
pub enum RunResult {
    /// The reply was written to the client.
    Replied,
    Error(String),
    /// An error already counted in the error statistics (raised by
    /// redis.call from a command's error).
    ErrorCounted(String),
}

pub struct LuaEngine {
    lua: Lua,
    /// The table scripts see as their globals (behind a read-only proxy).
    env: Table,
    /// The proxy scripts are compiled with.
    proxy: Table,
    /// Compiled scripts by SHA-1 (EVAL, SCRIPT LOAD / EXISTS, EVALSHA).
    scripts: HashMap<Sha, Script, BuildHasherDefault<ShaHasher>>,
    /// The client scripts run commands as; kept to avoid a new one per call.
    fake: Option<Box<Client>>,
    /// Globals of FUNCTION libraries: the load-time API while a library
    /// loads, the normal one when its functions run.
    lib_proxy: Table,
    lib_mode: Function,
    /// Functions registered by the library being loaded.
    registering: Rc<RefCell<Vec<Registered>>>,
    /// Callbacks of loaded library functions, by function name.
    pub lib_funcs: HashMap<String, Function>,
    /// Registry references of the callbacks FCALL ran, with the callback
    /// each was made for (a reloaded library has new ones).
    lib_refs: HashMap<String, (Function, c_int)>,
    /// The main Lua state and registry references of what every run uses,
    /// for the C API path in `raw`.
    state: *mut lua_State,
    handler_ref: c_int,
    runner_ref: c_int,
    env_ref: c_int,
}

/// A script id: the SHA-1 of its body in lowercase hex.
pub type Sha = [u8; 40];

/// `s` as a script id (lowercased), when it has the length of one.
pub fn sha_key(s: &[u8]) -> Option<Sha> {
    let mut k: Sha = s.try_into().ok()?;
    k.make_ascii_lowercase();
    Some(k)
}

/// A script id as text.
pub fn sha_str(k: &Sha) -> &str {
    std::str::from_utf8(k).unwrap_or("")
}

/// Script ids are SHA-1 digests: mixing their bytes a word at a time is
/// hash enough (SipHash costs more than the lookup).
#[derive(Default)]
pub struct ShaHasher(u64);

impl std::hash::Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, b: &[u8]) {
        for c in b.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

/// A cached script.
struct Script {
    /// Registry reference of the compiled function.
    func: c_int,
    body: Bytes,
}

/// The running script's context for redis.call / redis.setresp, set for
/// the duration of a run (the API functions are made once, so they find
/// the command's state here rather than capturing it).
struct Current {
    ctx: *mut std::ffi::c_void,
    fake: *mut Client,
    mode: Mode,
}

thread_local! {
    static CURRENT: std::cell::Cell<Option<Current>> = const { std::cell::Cell::new(None) };
    /// The argument vector redis.call builds, kept for the next call.
    static CALL_ARGS: std::cell::Cell<Vec<Bytes>> = const { std::cell::Cell::new(Vec::new()) };
    /// The buffer redis.call copies arguments into: one for all of them,
    /// as a client's arguments share its read buffer, and reused once the
    /// previous call's arguments are gone.
    static CALL_BUF: std::cell::Cell<BytesMut> = std::cell::Cell::new(BytesMut::new());
}

/// Run `f` with the running script's context.
fn with_current<R>(f: impl FnOnce(&mut Ctx<'static>, &mut Client, Mode) -> R) -> Option<R> {
    let cur = CURRENT.with(|c| c.take())?;
    // SAFETY: set by run_inner for the duration of xpcall, pointing at
    // live objects borrowed by it; the API is only reachable from the
    // script then, and taking the Cell stops a nested use from aliasing.
    let res = f(
        unsafe { &mut *(cur.ctx as *mut Ctx<'static>) },
        unsafe { &mut *cur.fake },
        cur.mode,
    );
    CURRENT.with(|c| c.set(Some(cur)));
    Some(res)
}

/// A function registered with redis.register_function.
pub struct Registered {
    pub name: String,
    pub description: Option<String>,
    pub flags: Vec<&'static str>,
    pub callback: Function,
}

pub const SCRIPT_FLAGS: &[&str] = &[
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn register_args(args: MultiValue) -> Result<Registered, String> {
    let v: Vec<LuaValue> = args.into_iter().collect();
    let named = match v.len() {
        1 => true,
        2 => false,
        _ => return Err("wrong number of arguments to redis.register_function".into()),
    };
    if !named {
        let name = match &v[0] {
            LuaValue::String(s) => s.to_string_lossy().to_string(),
            LuaValue::Integer(n) => n.to_string(),
            LuaValue::Number(n) => crate::util::format_g(*n, 14),
            _ => return Err("first argument to redis.register_function must be a string".into()),
        };
        let LuaValue::Function(f) = &v[1] else {
            return Err("second argument to redis.register_function must be a function".into());
        };
        return Ok(Registered {
            name,
            description: None,
            flags: Vec::new(),
            callback: f.clone(),
        });
    }
    let LuaValue::Table(t) = &v[0] else {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into());
    };
    let (mut name, mut desc, mut cb, mut flags) = (None, None, None, Vec::new());
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, val) = pair.map_err(|e| e.to_string())?;
        let LuaValue::String(k) = k else {
            return Err(
                "named argument key given to redis.register_function is not a string".into(),
            );
        };
        match k.to_string_lossy().to_ascii_lowercase().as_str() {
            "function_name" => {
                match val {
                    LuaValue::String(s) => name = Some(s.to_string_lossy().to_string()),
                    _ => return Err(
                        "function_name argument given to redis.register_function must be a string"
                            .into(),
                    ),
                }
            }
            "description" => {
                match val {
                    LuaValue::String(s) => desc = Some(s.to_string_lossy().to_string()),
                    _ => return Err(
                        "description argument given to redis.register_function must be a string"
                            .into(),
                    ),
                }
            }
            "callback" => match val {
                LuaValue::Function(f) => cb = Some(f),
                _ => {
                    return Err(
                        "callback argument given to redis.register_function must be a function"
                            .into(),
                    )
                }
            },
            "flags" => {
                let LuaValue::Table(ft) = val else {
                    return Err("flags argument to redis.register_function must be a table representing function flags".into());
                };
                for f in ft.sequence_values::<LuaValue>() {
                    let f = match f {
                        Ok(LuaValue::String(s)) => s.to_string_lossy().to_string(),
                        _ => return Err("unknown flag given".into()),
                    };
                    match SCRIPT_FLAGS.iter().find(|x| x.eq_ignore_ascii_case(&f)) {
                        Some(x) => flags.push(*x),
                        None => return Err("unknown flag given".into()),
                    }
                }
            }
            _ => return Err("unknown argument given to redis.register_function".into()),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = cb.ok_or("redis.register_function must get a callback argument")?;
    Ok(Registered {
        name,
        description: desc,
        flags,
        callback,
    })
}

/// Sandbox and helpers written in Lua: the error handler that records
/// where an error happened, read-only tables, and redis.call/pcall, which
/// raise a Redis error reply as a Lua error table.
const PRELUDE: &str = r#"
local getinfo = debug.getinfo
local string = string
local env = ...
function env.__redis__err__handler(err)
  local i
  for level = 2, 30 do
    local info = getinfo(level, 'nSl')
    if not info then break end
    if info.source == '@user_script' or info.source == '@user_function' then
      i = info
      break
    end
  end
  if type(err) == 'userdata' then
    -- An error raised by a library function written in Rust: keep the
    -- message and give it the script position, as a C library's would.
    local s = tostring(err)
    s = string.gsub(s, '^runtime error: ', '')
    s = string.gsub(s, '\nstack traceback:.*$', '')
    local api = string.match(s, '\1(.*)$')
    if api then
      -- A redis.* API error: Redis raises these as error tables.
      err = {err = 'ERR ' .. api}
    else
      if i then s = string.sub(i.source, 2) .. ':' .. i.currentline .. ': ' .. s end
      err = s
    end
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
-- Read-only tables, by proxy; setmetatable refuses them (see below).
local protected = setmetatable({}, {__mode = 'k'})
local function readonly(t)
  local proxy = {}
  setmetatable(proxy, {
    __index = t,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
  protected[proxy] = true
  return proxy
end
env.__readonly = readonly
env.__protected = protected
"#;

/// Run once the global proxy exists: its metatable, as getmetatable shows
/// it, is read-only too; setmetatable refuses read-only tables; chunks
/// from loadstring see the sandbox, never the real globals, and binary
/// chunks are refused as Redis's Lua (which only parses text) does.
const SANDBOX_TAIL: &str = r#"
local env, proxy, loadstring, setfenv, setmetatable, error, type, byte = ...
local protected, readonly = env.__protected, env.__readonly
protected[proxy] = true
env.__proxy_metatable = readonly({__index = readonly(env)})
env.setmetatable = function(t, mt)
  if protected[t] then error('Attempt to modify a readonly table', 2) end
  return setmetatable(t, mt)
end
env.loadstring = function(s, name)
  if type(s) == 'string' and byte(s, 1) == 27 then
    return nil, 'binary chunks are not allowed'
  end
  local f, e = loadstring(s, name)
  if f then setfenv(f, proxy) end
  return f, e
end
"#;

impl LuaEngine {
    pub fn new() -> mlua::Result<LuaEngine> {
        // The debug library is loaded for the error handler's getinfo only;
        // scripts never see it.
        let lua = unsafe { Lua::unsafe_new_with(mlua::StdLib::ALL, mlua::LuaOptions::default()) };
        let g = lua.globals();
        let env = lua.create_table()?;
        for lib in ["string", "table", "math"] {
            let t: Table = g.get(lib)?;
            env.set(lib, t)?;
        }
        let math: Table = g.get("math")?;
        rand::install(&lua, &math)?;
        for f in [
            "assert",
            "error",
            "ipairs",
            "next",
            "pairs",
            "pcall",
            "rawequal",
            "rawget",
            "rawset",
            "select",
            "tonumber",
            "tostring",
            "type",
            "unpack",
            "xpcall",
            "getmetatable",
            "setmetatable",
            "loadstring",
            "gcinfo",
        ] {
            let v: LuaValue = g.get(f)?;
            env.set(f, v)?;
        }
        env.set("_VERSION", "Lua 5.1")?;
        lua.load(PRELUDE)
            .set_name("=prelude")
            .call::<()>(env.clone())?;
        bit::install(&lua, &env)?;
        cjson::install(&lua, &env)?;
        cmsgpack::install(&lua, &env)?;
        structlib::install(&lua, &env)?;
        let redis = lua.create_table()?;
        redis.set("REDIS_VERSION", crate::REDIS_VERSION)?;
        let num = crate::REDIS_VERSION
            .split('.')
            .filter_map(|p| p.parse::<i64>().ok())
            .fold(0i64, |a, p| (a << 8) | p);
        redis.set("REDIS_VERSION_NUM", num)?;
        for (i, name) in ["LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"]
            .iter()
            .enumerate()
        {
            redis.set(*name, i as i64)?;
        }
        redis.set("REPL_NONE", 0)?;
        redis.set("REPL_AOF", 1)?;
        redis.set("REPL_SLAVE", 2)?;
        redis.set("REPL_REPLICA", 2)?;
        redis.set("REPL_ALL", 3)?;
        redis.set(
            "sha1hex",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(api_error("wrong number of arguments"));
                }
                let bytes: Vec<u8> = match args.into_iter().next() {
                    Some(LuaValue::String(s)) => s.as_bytes().to_vec(),
                    Some(LuaValue::Integer(n)) => n.to_string().into_bytes(),
                    Some(LuaValue::Number(n)) => crate::util::format_g(n, 14).into_bytes(),
                    _ => Vec::new(),
                };
                Ok(crate::util::sha1_hex(&bytes))
            })?,
        )?;
        redis.set(
            "error_reply",
            lua.create_function(|lua, args: MultiValue| {
                let t = lua.create_table()?;
                match single_string(&args) {
                    Some(s) => {
                        let mut e = s.as_bytes().to_vec();
                        if e.first() != Some(&b'-') {
                            e.insert(0, b'-');
                        }
                        t.set("err", lua.create_string(error_code_and_message(&e))?)?;
                    }
                    None => t.set("err", "ERR wrong number or type of arguments")?,
                }
                Ok(t)
            })?,
        )?;
        redis.set(
            "status_reply",
            lua.create_function(|lua, args: MultiValue| {
                let t = lua.create_table()?;
                match single_string(&args) {
                    Some(s) => t.set("ok", s)?,
                    None => t.set("err", "ERR wrong number or type of arguments")?,
                }
                Ok(t)
            })?,
        )?;
        redis.set(
            "log",
            lua.create_function(|_, args: MultiValue| {
                let mut it = args.into_iter();
                let level = match it.next() {
                    Some(LuaValue::Integer(n)) => n,
                    Some(LuaValue::Number(n)) => n as i64,
                    _ => return Err(api_error("First argument must be a number (log level).")),
                };
                let msg: Vec<String> = it.map(|v| v.to_string().unwrap_or_default()).collect();
                if msg.is_empty() {
                    return Err(api_error("redis.log() requires two arguments or more."));
                }
                let text = msg.join(" ");
                match level {
                    0 => tracing::trace!("{}", text),
                    1 => tracing::debug!("{}", text),
                    2 => tracing::info!("{}", text),
                    3 => tracing::warn!("{}", text),
                    _ => return Err(api_error("Invalid debug level.")),
                }
                Ok(())
            })?,
        )?;
        redis.set(
            "breakpoint",
            lua.create_function(|_, ()| Ok(ldb::breakpoint()))?,
        )?;
        redis.set(
            "debug",
            lua.create_function(|_, args: MultiValue| {
                ldb::debug_log(&args.into_iter().collect::<Vec<_>>());
                Ok(())
            })?,
        )?;
        redis.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
        redis.set(
            "set_repl",
            lua.create_function(|_, args: MultiValue| {
                if args.len() != 1 {
                    return Err(api_error("redis.set_repl() requires two arguments."));
                }
                // lua_tonumber: what is not a number counts as 0 (REPL_NONE).
                let flags = match args.into_iter().next() {
                    Some(LuaValue::Integer(n)) => n,
                    Some(LuaValue::Number(n)) => n as i64,
                    Some(LuaValue::String(s)) => s
                        .to_str()
                        .ok()
                        .and_then(|t| t.trim().parse::<f64>().ok())
                        .map_or(0, |f| f as i64),
                    _ => 0,
                };
                if flags & !(crate::server::propagate::ALL as i64) != 0 {
                    return Err(api_error(
                        "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    ));
                }
                if !busy::set_repl(flags as u8) {
                    return Err(api_error(
                        "redis.set_repl can only be called inside a script invocation",
                    ));
                }
                Ok(())
            })?,
        )?;
        env.set("redis", redis)?;
        let readonly: Function = env.get("__readonly")?;
        // Library tables are read-only, as Redis makes them.
        for lib in [
            "string", "table", "math", "redis", "bit", "cjson", "cmsgpack",
        ] {
            let t: Table = env.get(lib)?;
            let ro: Table = readonly.call(t)?;
            env.set(lib, ro)?;
        }
        // Globals: reading an undefined one or creating one is an error.
        // The proxy's __index is env itself, so a global is found without
        // a function call; env's own metatable raises for missing ones.
        let proxy = lua.create_table()?;
        let mt = lua.create_table()?;
        let missing: Function = lua
            .load(
                r#"local tostring, error = ...
                return function(_, k)
                  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
                end"#,
            )
            .set_name("=sandbox")
            .call((g.get::<Function>("tostring")?, g.get::<Function>("error")?))?;
        let env_mt = lua.create_table()?;
        env_mt.set("__index", missing)?;
        mt.set("__index", env.clone())?;
        mt.set(
            "__newindex",
            lua.load("return function() error('Attempt to modify a readonly table', 2) end")
                .set_name("=sandbox")
                .eval::<Function>()?,
        )?;
        proxy.set_metatable(Some(mt.clone()));
        env.set("_G", proxy.clone())?;
        let strlib: Table = g.get("string")?;
        lua.load(SANDBOX_TAIL).set_name("=sandbox").call::<()>((
            env.clone(),
            proxy.clone(),
            g.get::<Function>("loadstring")?,
            g.get::<Function>("setfenv")?,
            g.get::<Function>("setmetatable")?,
            g.get::<Function>("error")?,
            g.get::<Function>("type")?,
            strlib.get::<Function>("byte")?,
        ))?;
        let shown: Table = env.get("__proxy_metatable")?;
        mt.set("__metatable", shown)?;

        // The API a library sees while it loads: only register_function,
        // log and the constants on `redis`.
        // Nothing else is visible while a library loads (no math, string...).
        let registering: Rc<RefCell<Vec<Registered>>> = Rc::new(RefCell::new(Vec::new()));
        let load_env = lua.create_table()?;
        let load_redis = lua.create_table()?;
        let redis_ro: Table = env.get("redis")?;
        let redis_full: Table = match redis_ro.metatable() {
            Some(m) => m.get("__index")?,
            None => redis_ro,
        };
        for key in [
            "log",
            "LOG_DEBUG",
            "LOG_VERBOSE",
            "LOG_NOTICE",
            "LOG_WARNING",
            "REDIS_VERSION",
            "REDIS_VERSION_NUM",
        ] {
            load_redis.set(key, redis_full.get::<LuaValue>(key)?)?;
        }
        let reg = registering.clone();
        load_redis.set(
            "register_function",
            lua.create_function(move |_, args: MultiValue| {
                if !busy::is_loading() {
                    return Err(api_error(
                        "redis.register_function can only be called on FUNCTION LOAD command",
                    ));
                }
                let r = register_args(args).map_err(mlua::Error::runtime)?;
                if !valid_name(&r.name) {
                    return Err(mlua::Error::runtime(
                        "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
                    ));
                }
                let mut list = reg.borrow_mut();
                if list.iter().any(|x| x.name == r.name) {
                    return Err(mlua::Error::runtime("Function already exists in the library"));
                }
                list.push(r);
                Ok(())
            })?,
        )?;
        // Unlike the run-time `redis`, a missing field here is an error
        // (redis.call does not exist while a library loads).
        let strict: Function = lua
            .load(
                r#"local t, rawget, tostring, error, setmetatable = ...
                return setmetatable({}, {
                  __index = function(_, k)
                    local v = rawget(t, k)
                    if v == nil then
                      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
                    end
                    return v
                  end,
                  __newindex = function() error('Attempt to modify a readonly table', 2) end,
                  __metatable = false,
                })"#,
            )
            .set_name("=sandbox")
            .into_function()?;
        let load_redis_ro: Table = strict.call((
            load_redis,
            g.get::<Function>("rawget")?,
            g.get::<Function>("tostring")?,
            g.get::<Function>("error")?,
            g.get::<Function>("setmetatable")?,
        ))?;
        load_env.raw_set("redis", load_redis_ro)?;
        // At run time the proxy reads env directly (as the EVAL proxy does).
        let (lib_proxy, lib_mode): (Table, Function) = lua
            .load(
                r#"local env, load_env, rawget, tostring, error, setmetatable = ...
                local function load_index(_, k)
                  local v = rawget(load_env, k)
                  if v == nil then
                    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
                  end
                  return v
                end
                local mt = {
                  __index = env,
                  __newindex = function() error('Attempt to modify a readonly table', 2) end,
                  __metatable = false,
                }
                local proxy = setmetatable({}, mt)
                return proxy, function(loading) if loading then mt.__index = load_index else mt.__index = env end end"#,
            )
            .set_name("=sandbox")
            .call((
                env.clone(),
                load_env,
                g.get::<Function>("rawget")?,
                g.get::<Function>("tostring")?,
                g.get::<Function>("error")?,
                g.get::<Function>("setmetatable")?,
            ))?;
        // Every 100k instructions: check for timeout and SCRIPT KILL.
        busy::install(&lua);
        install_api(&lua, &env)?;
        let handler: Function = env.get("__redis__err__handler")?;
        env.set_metatable(Some(env_mt));
        let mut state = std::ptr::null_mut();
        // SAFETY: only reads the state pointer.
        unsafe { lua.exec_raw::<()>((), |l| state = l)? };
        // SAFETY: a plain Lua C function using only the stack API.
        let runner = unsafe { lua.create_c_function(run_job)? };
        Ok(LuaEngine {
            handler_ref: registry_ref(&lua, handler)?,
            runner_ref: registry_ref(&lua, runner)?,
            env_ref: registry_ref(&lua, env.clone())?,
            state,
            lua,
            env,
            proxy,
            scripts: HashMap::default(),
            fake: None,
            lib_proxy,
            lib_mode,
            registering,
            lib_funcs: HashMap::new(),
            lib_refs: HashMap::new(),
        })
    }

    /// Number of cached scripts (INFO's number_of_cached_scripts).
    pub fn script_count(&self) -> usize {
        self.scripts.len()
    }

    /// The body of a cached script.
    pub fn script_body(&self, sha: &Sha) -> Option<&Bytes> {
        self.scripts.get(sha).map(|s| &s.body)
    }

    /// Compile a script body (if not cached) and remember it by SHA-1.
    pub fn load(&mut self, body: &Bytes) -> Result<Sha, String> {
        let sha = crate::util::sha1_hex_bytes(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let code: &[u8] = body;
        let code = if code.starts_with(b"#!") {
            // A shebang line carries flags; the code starts after it.
            match memchr::memchr(b'\n', code) {
                Some(i) => &code[i..],
                None => &code[code.len()..],
            }
        } else {
            code
        };
        let f = self
            .lua
            .load(code)
            .set_name("@user_script")
            .set_environment(self.proxy.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    lua_error_text(&e)
                )
            })?;
        let func = registry_ref(&self.lua, f)
            .map_err(|e| format!("ERR Error compiling script: {}", lua_error_text(&e)))?;
        self.scripts.insert(
            sha,
            Script {
                func,
                body: body.clone(),
            },
        );
        Ok(sha)
    }

    pub fn flush(&mut self) {
        for (_, s) in self.scripts.drain() {
            // SAFETY: releases a reference this engine made.
            unsafe { ffi::luaL_unref(self.state, ffi::LUA_REGISTRYINDEX, s.func) };
        }
        self.lua.gc_collect().ok();
    }

    pub fn exists(&self, sha: &Sha) -> bool {
        self.scripts.contains_key(sha)
    }

    /// Run a loaded script with KEYS and ARGV.
    pub fn run(
        &mut self,
        ctx: &mut Ctx,
        sha: &Sha,
        keys: &[Bytes],
        args: &[Bytes],
        read_only: bool,
        allow_oom: bool,
    ) -> RunResult {
        let Some(func) = self.scripts.get(sha).map(|s| s.func) else {
            return RunResult::Error("NOSCRIPT No matching script. Please use EVAL.".into());
        };
        let target = Target {
            func,
            fcall: false,
            keys,
            args,
        };
        let mode = Mode {
            read_only,
            allow_oom,
        };
        self.execute(ctx, target, sha_str(sha), mode)
    }

    /// Run a library function (FCALL) with its keys and args tables.
    pub fn call_function(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        read_only: bool,
        allow_oom: bool,
    ) -> RunResult {
        let Some(cb) = self.lib_funcs.get(name) else {
            return RunResult::Error("ERR Function not found".into());
        };
        let cached = match self.lib_refs.get(name) {
            Some((f, r)) if f == cb => Some(*r),
            _ => None,
        };
        let func = match cached {
            Some(r) => r,
            None => {
                let cb = cb.clone();
                // References of callbacks no longer loaded go.
                let (funcs, state) = (&self.lib_funcs, self.state);
                self.lib_refs.retain(|n, (f, r)| {
                    let keep = funcs.get(n) == Some(f);
                    if !keep {
                        // SAFETY: releases a reference this engine made.
                        unsafe { ffi::luaL_unref(state, ffi::LUA_REGISTRYINDEX, *r) };
                    }
                    keep
                });
                match registry_ref(&self.lua, cb.clone()) {
                    Ok(r) => {
                        self.lib_refs.insert(name.to_string(), (cb, r));
                        r
                    }
                    Err(e) => return RunResult::Error(format!("ERR {}", lua_error_text(&e))),
                }
            }
        };
        let target = Target {
            func,
            fcall: true,
            keys,
            args,
        };
        let mode = Mode {
            read_only,
            allow_oom,
        };
        self.execute(ctx, target, name, mode)
    }

    /// Load a library's code (after its shebang line): run it with the
    /// load-time API and return the functions it registered.
    pub fn load_library(&mut self, code: &[u8]) -> Result<Vec<Registered>, String> {
        let f = self
            .lua
            .load(code)
            .set_name("@user_function")
            .set_environment(self.lib_proxy.clone())
            .into_function()
            .map_err(|e| format!("ERR Error compiling function: {}", lua_error_text(&e)))?;
        self.registering.borrow_mut().clear();
        self.lib_mode.call::<()>(true).map_err(|e| e.to_string())?;
        busy::loading(true);
        let res = f.call::<()>(());
        busy::loading(false);
        busy::install(&self.lua);
        let _ = self.lib_mode.call::<()>(false);
        let regs = std::mem::take(&mut *self.registering.borrow_mut());
        if let Err(e) = res {
            let msg = lua_error_text(&e);
            let msg = msg
                .split("\nstack traceback:")
                .next()
                .unwrap_or("")
                .to_string();
            return Err(format!("ERR Error registering functions: ERR {msg}"));
        }
        if regs.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok(regs)
    }

    fn execute(&mut self, ctx: &mut Ctx, target: Target, name: &str, mode: Mode) -> RunResult {
        let mut fake = self.fake.take().unwrap_or_else(|| {
            let mut c = Box::new(Client::new(
                0,
                usize::MAX,
                Conn::None,
                String::new(),
                String::new(),
                ctx.now,
            ));
            c.authenticated = true;
            c
        });
        fake.db = ctx.client.db;
        fake.reply.resp = 2;
        busy::start(&mut *ctx.srv, &mut *ctx.clients, name, !target.fcall);
        // A debugging session (SCRIPT DEBUG) stops the script at lines.
        let debugging = ldb::active();
        if debugging {
            ldb::install_hook(&self.lua, &self.env);
        }
        let res = self.run_inner(ctx, &mut fake, target, name, mode);
        if debugging {
            busy::install(&self.lua);
        }
        if busy::end() {
            // Back to the cheap hook after a kill switched it to every line.
            busy::install(&self.lua);
        }
        fake.reply.buf.clear();
        self.fake = Some(fake);
        res
    }

    fn run_inner(
        &mut self,
        ctx: &mut Ctx,
        fake: &mut Client,
        target: Target,
        name: &str,
        mode: Mode,
    ) -> RunResult {
        let prev = CURRENT.with(|c| {
            c.replace(Some(Current {
                ctx: ctx as *mut Ctx<'_> as *mut std::ffi::c_void,
                fake: fake as *mut Client,
                mode,
            }))
        });
        let mark = ctx.client.reply.buf.len();
        let mut errors = Vec::new();
        let mut job = Job {
            target,
            env: self.env_ref,
            out: &mut ctx.client.reply,
            fake,
            errors: &mut errors,
        };
        let l = self.state;
        // SAFETY: the main state, used by nothing else now; the stack is
        // restored to where it was.
        let failed = unsafe {
            let top = ffi::lua_gettop(l);
            ffi::lua_checkstack(l, 4);
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, self.handler_ref);
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, self.runner_ref);
            ffi::lua_pushlightuserdata(l, &mut job as *mut Job as *mut std::ffi::c_void);
            let status = ffi::lua_pcall(l, 1, 0, top + 1);
            let failed = (status != 0).then(|| raw::error_text(l, name));
            ffi::lua_settop(l, top);
            failed
        };
        CURRENT.with(|c| c.set(prev));
        if let Some((msg, counts)) = failed {
            // A conversion cut short leaves nothing behind.
            ctx.client.reply.buf.truncate(mark);
            return if counts {
                RunResult::Error(msg)
            } else {
                RunResult::ErrorCounted(msg)
            };
        }
        for e in errors {
            if e.is_empty() {
                ctx.srv.stats.cur_cmd_error = true;
            } else {
                ctx.srv.stats.record_error(&e);
            }
        }
        RunResult::Replied
    }
}

/// What a run calls: a compiled script (KEYS and ARGV as globals) or a
/// library function (called with them), by registry reference.
struct Target<'a> {
    func: c_int,
    fcall: bool,
    keys: &'a [Bytes],
    args: &'a [Bytes],
}

/// One run, for `run_job` (passed as light userdata).
struct Job<'a> {
    target: Target<'a>,
    env: c_int,
    out: *mut crate::protocol::Reply,
    fake: *mut Client,
    errors: *mut Vec<String>,
}

/// Run inside lua_pcall with the error handler: set up KEYS and ARGV, call
/// the script and write its result as the reply. It holds only borrowed
/// data, so a Lua error may unwind through it.
unsafe extern "C-unwind" fn run_job(l: *mut lua_State) -> c_int {
    let job = &mut *(ffi::lua_touserdata(l, 1) as *mut Job);
    let t = &job.target;
    ffi::luaL_checkstack(l, 6, std::ptr::null());
    if t.fcall {
        ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, t.func);
        raw::push_string_array(l, t.keys);
        raw::push_string_array(l, t.args);
        ffi::lua_call(l, 2, 1);
    } else {
        ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, job.env);
        let env = ffi::lua_gettop(l);
        raw::set_string_array(l, env, c"KEYS", t.keys);
        raw::set_string_array(l, env, c"ARGV", t.args);
        ffi::lua_settop(l, -2);
        ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, t.func);
        ffi::lua_call(l, 0, 1);
    }
    let resp3 = (*job.fake).reply.resp == 3;
    raw::write_reply(l, &mut *job.out, resp3, 0, &mut *job.errors);
    0
}

/// A registry reference to `v` (released with luaL_unref).
fn registry_ref(lua: &Lua, v: impl mlua::IntoLua) -> mlua::Result<c_int> {
    let mut r = ffi::LUA_NOREF;
    // SAFETY: luaL_ref pops the one value exec_raw pushed.
    unsafe { lua.exec_raw::<()>(v, |l| r = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX))? };
    Ok(r)
}

/// Install redis.call, redis.pcall and redis.setresp for good: outside a
/// run they find no context and fail (a library's load-time code has its
/// own `redis` without them).
fn install_api(lua: &Lua, env: &Table) -> mlua::Result<()> {
    let redis_ro: Table = env.get("redis")?;
    // The read-only proxy's backing table holds the functions.
    let redis: Table = redis_ro
        .metatable()
        .and_then(|m| m.get::<Table>("__index").ok())
        .unwrap_or(redis_ro);
    let setresp = lua.create_function(|_, v: LuaValue| {
        let n = match v {
            LuaValue::Integer(n) => n,
            LuaValue::Number(n) => n as i64,
            _ => 0,
        };
        if n != 2 && n != 3 {
            return Err(api_error("RESP version must be 2 or 3."));
        }
        with_current(|_, fake, _| fake.reply.resp = n as u8);
        Ok(())
    })?;
    // SAFETY: plain Lua C functions using only the stack API.
    redis.raw_set("call", unsafe { lua.create_c_function(redis_call_raise)? })?;
    redis.raw_set("pcall", unsafe {
        lua.create_c_function(redis_call_protected)?
    })?;
    redis.raw_set("setresp", setresp)?;
    Ok(())
}

/// The only argument, when it is a string (not a number).
fn single_string(args: &MultiValue) -> Option<mlua::String> {
    match args.iter().collect::<Vec<_>>().as_slice() {
        [LuaValue::String(s)] => Some(s.clone()),
        _ => None,
    }
}

/// "-CODE message" (or "-message", code ERR) as the "CODE message" text of
/// a Lua error table, the way Redis's luaPushErrorBuff splits it.
fn error_code_and_message(e: &[u8]) -> Vec<u8> {
    let body = e.strip_prefix(b"-").unwrap_or(e);
    let (code, msg): (&[u8], &[u8]) = match memchr::memchr(b' ', body) {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (b"ERR", body),
    };
    let trim = |c: &u8| *c == b'\r' || *c == b'\n';
    let start = msg.iter().position(|c| !trim(c)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|c| !trim(c)).map_or(start, |i| i + 1);
    let mut out = code.to_vec();
    out.push(b' ');
    out.extend_from_slice(&msg[start..end.max(start)]);
    out
}

/// An error of the redis.* API: the error handler turns it into an error
/// table without the script position prefix, as Redis raises them.
fn api_error(msg: &str) -> mlua::Error {
    mlua::Error::runtime(format!("\u{1}{msg}"))
}

/// What a script run may do: its declared flags and the command's kind.
#[derive(Clone, Copy)]
struct Mode {
    /// no-writes, or run by a *_RO command.
    read_only: bool,
    /// allow-oom: writes go on above maxmemory.
    allow_oom: bool,
}

/// The command running the script found memory over maxmemory: the
/// script's first write may not grow it further (scriptVerifyOOM).
pub static PRE_COMMAND_OOM: AtomicBool = AtomicBool::new(false);

/// DEBUG SET-DISABLE-DENY-SCRIPTS: let scripts call noscript commands.
pub static DISABLE_DENY_SCRIPTS: AtomicBool = AtomicBool::new(false);

/// redis.call: raises the error table when the command failed. A C
/// function, like Redis's, so `return redis.call(...)` keeps the script's
/// frame (Lua 5.1 only tail-calls Lua functions) and errors name its line.
unsafe extern "C-unwind" fn redis_call_raise(l: *mut lua_State) -> c_int {
    if call_from_lua(l) {
        ffi::lua_error(l);
    }
    1
}

/// redis.pcall: returns the error table instead of raising it.
unsafe extern "C-unwind" fn redis_call_protected(l: *mut lua_State) -> c_int {
    call_from_lua(l);
    1
}

/// Run the command whose arguments are on the stack, leaving its reply
/// (or error table) on top; true when that is an error.
unsafe fn call_from_lua(l: *mut lua_State) -> bool {
    let Some(cur) = CURRENT.with(|c| c.take()) else {
        raw::push_error_table(
            l,
            b"ERR redis.call can only be called inside a script invocation",
            false,
        );
        ffi::lua_error(l);
    };
    // SAFETY: set by run_inner for the duration of the run, pointing at
    // live objects borrowed by it; taking the Cell stops a nested use
    // from aliasing them.
    let is_err = script_call(
        l,
        &mut *(cur.ctx as *mut Ctx<'static>),
        &mut *cur.fake,
        cur.mode,
    );
    CURRENT.with(|c| c.set(Some(cur)));
    is_err
}

/// The text of a Lua error without mlua's decorations.
pub fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

/// A replica cut off from its master that must not serve stale data.
pub fn running_stale(srv: &crate::server::Server) -> bool {
    srv.repl
        .link
        .as_ref()
        .is_some_and(|l| l.state != crate::replication::replica::LinkState::Connected)
        && !srv.config.get_bool("replica-serve-stale-data")
}

/// redis.call / redis.pcall: run one command with the arguments on the
/// stack and push its reply (or an error table); true when it is an error.
unsafe fn script_call(l: *mut lua_State, ctx: &mut Ctx, fake: &mut Client, mode: Mode) -> bool {
    // Bad arguments: an error table counted only if the script returns it.
    let arg_error = |msg: &str| -> bool {
        if ldb::enabled() {
            ldb::log_error(msg);
        }
        ffi::lua_settop(l, 0);
        raw::push_error_table(l, msg.as_bytes(), false);
        true
    };
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return arg_error("ERR Please specify at least one argument for this redis lib call");
    }
    let mut total = 0;
    for i in 1..=argc {
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING => total += ffi::lua_objlen(l, i),
            ffi::LUA_TNUMBER => total += 32,
            _ => {
                return arg_error("ERR Lua redis lib command arguments must be strings or integers")
            }
        }
    }
    let mut buf = CALL_BUF.with(|b| b.take());
    buf.reserve(total);
    let mut args = CALL_ARGS.with(|a| a.take());
    args.clear();
    for i in 1..=argc {
        if ffi::lua_type(l, i) == ffi::LUA_TSTRING {
            buf.extend_from_slice(raw::to_bytes(l, i));
        } else {
            // Numbers as "%.17g", like Redis (Lua's own format loses digits).
            let n = crate::util::format_g(ffi::lua_tonumber(l, i), 17);
            buf.extend_from_slice(n.as_bytes());
        }
        args.push(buf.split().freeze());
    }
    // A big call's buffer is not kept.
    if total <= 1 << 16 {
        CALL_BUF.with(|b| b.set(buf));
    }
    // The arguments are copied: their stack slots are freed for the reply
    // (a call with thousands of arguments leaves no room otherwise).
    ffi::lua_settop(l, 0);
    if ldb::enabled() {
        ldb::log_command(&args);
    }
    let srv = &mut *ctx.srv;
    // A refused command: counted now, like a rejected command (and as the
    // command's rejected call when it exists).
    let refuse = |srv: &mut crate::server::Server, id: Option<usize>, msg: &str| -> bool {
        if ldb::enabled() {
            ldb::log_error(msg);
        }
        srv.stats.record_error(msg);
        // The script itself fails only if it raises or returns the error.
        srv.stats.cur_cmd_error = false;
        if let Some(st) = id.and_then(|i| srv.stats.cmd.get_mut(i)) {
            st.rejected_calls += 1;
        }
        raw::push_error_table(l, msg.as_bytes(), true);
        true
    };
    let Some(cmd) = srv.commands.lookup(&args) else {
        return refuse(srv, None, "ERR Unknown Redis command called from script");
    };
    let id = Some(cmd.id);
    let argc = args.len() as i32;
    if (cmd.spec.arity > 0 && cmd.spec.arity != argc) || argc < -cmd.spec.arity {
        return refuse(
            srv,
            id,
            "ERR Wrong number of args calling Redis command from script",
        );
    }
    if cmd.has(flags::NOSCRIPT) && !DISABLE_DENY_SCRIPTS.load(Ordering::Relaxed) {
        return refuse(srv, id, "ERR This Redis command is not allowed from script");
    }
    if mode.read_only && cmd.flags & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
        return refuse(
            srv,
            id,
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    // Refusals that depend on the server state stop only a script that
    // has not written yet: past its first write it must run to the end.
    let wrote = busy::has_written();
    if cmd.has(flags::WRITE) && !wrote {
        if let Some(e) = crate::persistence::disk_error(srv) {
            return refuse(srv, id, &e);
        }
        if let Some(e) = crate::replication::script_write_error(srv, false) {
            raw::push_error_table(l, e.as_bytes(), true);
            return true;
        }
    }
    if !mode.allow_oom
        && srv.config.maxmemory > 0
        && !wrote
        && PRE_COMMAND_OOM.load(Ordering::Relaxed)
        && cmd.has(flags::DENYOOM)
    {
        return refuse(
            srv,
            id,
            "OOM command not allowed when used memory > 'maxmemory'.",
        );
    }
    if cmd.has(flags::WRITE) {
        busy::mark_write();
    }
    // A replica cut off from its master serves only stale-flagged commands
    // (the script itself was let in by its allow-stale flag).
    if running_stale(srv) && !cmd.has(flags::STALE) {
        return refuse(
            srv,
            id,
            "ERR Can not execute the command on a stale replica",
        );
    }
    fake.reply.buf.clear();
    srv.call_targets = busy::repl();
    crate::server::exec::call(
        srv,
        ctx.clients,
        fake,
        &args,
        cmd.id,
        cmd.flags,
        cmd.spec.handler,
        ctx.now,
    );
    args.clear();
    CALL_ARGS.with(|a| a.set(args));
    // The script's own command is not failed by a command it called
    // (Redis compares error counts per call).
    srv.stats.cur_cmd_error = false;
    let reply = &fake.reply.buf;
    if ldb::enabled() {
        ldb::log_reply(reply);
    }
    let is_err = reply.first() == Some(&b'-');
    raw::push_resp(l, reply);
    // The buffer is kept for the next call, unless a big reply grew it.
    if fake.reply.buf.capacity() > 1 << 16 {
        fake.reply.buf = Vec::new();
    } else {
        fake.reply.buf.clear();
    }
    is_err
}

mod common;
use common::Server;

#[test]
fn eval_conversions_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["EVAL", "return 1", "0"]), ":1\r\n");
    assert_eq!(r.call(&["EVAL", "return 3.99", "0"]), ":3\r\n");
    assert_eq!(
        r.call(&["EVAL", "return {1,2,{3,'x'}}", "0"]),
        "*3\r\n:1\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n"
    );
    assert_eq!(r.call(&["EVAL", "return {1,nil,3}", "0"]), "*1\r\n:1\r\n");
    assert_eq!(r.call(&["EVAL", "return true", "0"]), ":1\r\n");
    assert_eq!(r.call(&["EVAL", "return false", "0"]), "$-1\r\n");
    assert_eq!(
        r.call(&["EVAL", "return redis.status_reply('FINE')", "0"]),
        "+FINE\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return redis.error_reply('E2 bad')", "0"]),
        "-E2 bad\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return redis.call('echo', ARGV[1])", "0", "hi"]),
        "$2\r\nhi\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return KEYS", "2", "a", "b", "c"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return redis.call('nosuch')", "0"]),
        "-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return a", "0"]),
        "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "x = 1", "0"]),
        "-ERR user_script:1: Attempt to modify a readonly table script: 34bce5f775de97f557a34088509c8bfe1ea17e52, on @user_script:1.\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return redis.pcall('select','x')", "0"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return 1", "-1"]),
        "-ERR Number of keys can't be negative\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return 1", "2", "a"]),
        "-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "syntax error here", "0"]),
        "-ERR Error compiling script (new function): user_script:1: '=' expected near 'error'\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return bit.tohex(65535)", "0"]),
        "$8\r\n0000ffff\r\n"
    );
}

#[test]
fn script_cache_and_evalsha() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["SCRIPT", "LOAD", "return 'cached'"]),
        "$40\r\n952f49ffc8f7b098d8ab5da45d3164ca36ed18b1\r\n"
    );
    assert_eq!(
        r.call(&["EVALSHA", "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1", "0"]),
        "$6\r\ncached\r\n"
    );
    assert_eq!(
        r.call(&[
            "SCRIPT",
            "EXISTS",
            "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1",
            "nope"
        ]),
        "*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(r.call(&["SCRIPT", "FLUSH"]), "+OK\r\n");
    assert_eq!(
        r.call(&["EVALSHA", "952f49ffc8f7b098d8ab5da45d3164ca36ed18b1", "0"]),
        "-NOSCRIPT No matching script. Please use EVAL.\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "#!lua flags=bogus\nreturn 1", "0"]),
        "-ERR Unexpected flag in script shebang: bogus\r\n"
    );
    assert_eq!(
        r.call(&["EVAL_RO", "#!lua\nreturn 1", "0"]),
        "-ERR Can not execute a script with write flag using *_ro command.\r\n"
    );
    assert_eq!(
        r.call(&["EVAL_RO", "#!lua flags=no-writes\nreturn 2", "0"]),
        ":2\r\n"
    );
}

#[test]
fn function_libraries_load_call_and_delete() {
    let s = Server::start();
    let mut r = s.raw();
    let lib = "#!lua name=mylib\nredis.register_function('echo1', function(keys, args) return args[1] end)\nredis.register_function{function_name='ro', callback=function(keys, args) return redis.call('ping') end, flags={'no-writes'}, description='d'}";
    assert_eq!(r.call(&["FUNCTION", "LOAD", lib]), "$5\r\nmylib\r\n");
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", lib]),
        "-ERR Library 'mylib' already exists\r\n"
    );
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", "REPLACE", lib]),
        "$5\r\nmylib\r\n"
    );
    assert_eq!(r.call(&["FCALL", "echo1", "0", "hello"]), "$5\r\nhello\r\n");
    assert_eq!(r.call(&["FCALL_RO", "ro", "0"]), "+PONG\r\n");
    assert_eq!(
        r.call(&["FCALL_RO", "echo1", "0", "x"]),
        "-ERR Can not execute a script with write flag using *_ro command.\r\n"
    );
    assert_eq!(
        r.call(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=other\nredis.register_function('echo1', function() end)"
        ]),
        "-ERR Function echo1 already exists\r\n"
    );
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", "#!lua name=d\nredis.call('ping')"]),
        "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'\r\n"
    );
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", "#!lua name=e\nreturn 1"]),
        "-ERR No functions registered\r\n"
    );
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", "#!nope name=e\nreturn 1"]),
        "-ERR Engine 'nope' not found\r\n"
    );
    let stats = r.call(&["FUNCTION", "STATS"]);
    assert!(
        stats.contains("$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n"),
        "{stats}"
    );
    // DUMP, FLUSH, RESTORE round trip.
    r.cmd(&[b"FUNCTION", b"DUMP"]);
    let dump = r.read_reply();
    let start = dump.iter().position(|&c| c == b'\n').unwrap() + 1;
    let payload = dump[start..dump.len() - 2].to_vec();
    assert_eq!(r.call(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert_eq!(
        r.call(&["FCALL", "echo1", "0", "x"]),
        "-ERR Function not found\r\n"
    );
    r.cmd(&[b"FUNCTION", b"RESTORE", &payload]);
    assert_eq!(r.read_reply(), b"+OK\r\n");
    assert_eq!(r.call(&["FCALL", "echo1", "0", "back"]), "$4\r\nback\r\n");
    assert_eq!(r.call(&["FUNCTION", "DELETE", "mylib"]), "+OK\r\n");
    assert_eq!(
        r.call(&["FCALL", "echo1", "0"]),
        "-ERR Function not found\r\n"
    );
}

#[test]
fn functions_without_libraries() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert_eq!(r.call(&["FUNCTION", "LIST"]), "*0\r\n");
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", "return 1"]),
        "-ERR Missing library metadata\r\n"
    );
    assert_eq!(r.call(&["FCALL", "f", "0"]), "-ERR Function not found\r\n");
    assert_eq!(
        r.call(&["FUNCTION", "DELETE", "x"]),
        "-ERR Library not found\r\n"
    );
    assert_eq!(
        r.call(&["FUNCTION", "KILL"]),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
}

#[test]
fn cjson_and_cmsgpack_libraries() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["EVAL", "return cjson.encode({1,2,3,{a='x/y'}})", "0"]),
        "$20\r\n[1,2,3,{\"a\":\"x\\/y\"}]\r\n"
    );
    assert_eq!(
        r.call(&[
            "EVAL",
            "return cjson.decode('[1,2,{\"k\":\"v\"}]')[3].k",
            "0"
        ]),
        "$1\r\nv\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return cjson.decode('[1,')", "0"]),
        "-ERR user_script:1: Expected value but found T_END at character 4 script: ad8248c68c719abd59f0dd09dea378bb946e7d3f, on @user_script:1.\r\n"
    );
    // Bytes identical to lua_cmsgpack's output.
    r.cmd(&[
        b"EVAL",
        b"return cmsgpack.pack({1,2,'abc'}, 1.5, -1, 300, 2^40, 0.1, true)",
        b"0",
    ]);
    let packed = r.read_reply();
    assert_eq!(
        &packed[..],
        b"$35\r\n\x93\x01\x02\xa3abc\xca\x3f\xc0\x00\x00\xff\xcd\x01\x2c\xcf\x00\x00\x01\x00\x00\x00\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a\xc3\r\n"
    );
    assert_eq!(
        r.call(&[
            "EVAL",
            "return {cmsgpack.unpack(cmsgpack.pack({1,{a='b'}}, 'str', 3))}",
            "0"
        ]),
        "*3\r\n*2\r\n:1\r\n*0\r\n$3\r\nstr\r\n:3\r\n"
    );
}

#[test]
fn busy_script_answers_busy_and_is_killed() {
    let s = Server::start_with(&["--busy-reply-threshold", "100"]);
    let mut a = s.raw();
    a.cmd(&[b"EVAL", b"local i = 0 while true do i = i + 1 end", b"0"]);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let mut b = s.raw();
    assert_eq!(b.call(&["PING"]), "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    assert_eq!(b.call(&["FUNCTION", "KILL"]), "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    assert_eq!(b.call(&["SCRIPT", "KILL"]), "+OK\r\n");
    let killed = String::from_utf8(a.read_reply()).unwrap();
    assert!(
        killed.starts_with("-ERR user_script:1: Script killed by user with SCRIPT KILL..."),
        "{killed}"
    );
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
    assert_eq!(
        b.call(&["SCRIPT", "KILL"]),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
}

#[test]
fn struct_library() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&[b"EVAL", b"return struct.pack('>iH', 1, 2)", b"0"]);
    assert_eq!(r.read_reply(), b"$6\r\n\x00\x00\x00\x01\x00\x02\r\n");
    assert_eq!(
        r.call(&[
            "EVAL",
            "return {struct.unpack('>iH', struct.pack('>iH', -5, 7))}",
            "0"
        ]),
        "*3\r\n:-5\r\n:7\r\n:7\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return struct.size('!4bi')", "0"]),
        ":8\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", "return struct.pack('q', 1)", "0"]),
        "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'q') script: 49599a2466f241bd45a2bd4f631df3a1a1ec9790, on @user_script:1.\r\n"
    );
}

#[test]
fn busy_script_catching_errors_with_pcall_is_still_killed() {
    let s = Server::start_with(&["--busy-reply-threshold", "50"]);
    let mut a = s.raw();
    a.cmd(&[
        b"EVAL",
        b"local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end",
        b"0",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut b = s.raw();
    assert_eq!(b.call(&["SCRIPT", "KILL"]), "+OK\r\n");
    let killed = String::from_utf8(a.read_reply()).unwrap();
    assert!(
        killed.contains("Script killed by user with SCRIPT KILL..."),
        "{killed}"
    );
    assert_eq!(a.call(&["EVAL", "return 1", "0"]), ":1\r\n");
}

/// Read the debugger's log lines (one array of status replies).
fn ldb_logs(r: &mut common::Raw) -> String {
    String::from_utf8_lossy(&r.read_reply()).into_owned()
}

#[test]
fn script_debug_sync_session() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["SCRIPT", "DEBUG", "maybe"]),
        "-ERR Use SCRIPT DEBUG YES/SYNC/NO\r\n"
    );
    assert_eq!(r.call(&["SCRIPT", "DEBUG", "SYNC"]), "+OK\r\n");
    assert_eq!(
        r.call(&["EVALSHA", &"a".repeat(40), "0"]),
        "-ERR Please use EVAL instead of EVALSHA for debugging\r\n"
    );
    let script = "local t = {1,'a',x=2}\nredis.call('set',KEYS[1],ARGV[1])\nredis.debug('hi', t)\nreturn redis.call('get',KEYS[1])";
    r.cmd(&[b"EVAL", script.as_bytes(), b"1", b"y", b"v1"]);
    assert_eq!(
        ldb_logs(&mut r),
        "*2\r\n+* Stopped at 1, stop reason = step over\r\n+-> 1   local t = {1,'a',x=2}\r\n"
    );
    assert_eq!(
        r.call(&["step"]),
        "*2\r\n+* Stopped at 2, stop reason = step over\r\n+-> 2   redis.call('set',KEYS[1],ARGV[1])\r\n"
    );
    assert_eq!(
        r.call(&["print"]),
        "*1\r\n+<value> t = {[1]=1; [2]=\"a\"; [\"x\"]=2}\r\n"
    );
    assert_eq!(r.call(&["p", "KEYS"]), "*1\r\n+<value> {\"y\"}\r\n");
    assert_eq!(r.call(&["p", "nope"]), "*1\r\n+No such variable.\r\n");
    assert_eq!(
        r.call(&["b", "4"]),
        "*2\r\n+   3   redis.debug('hi', t)\r\n+  #4   return redis.call('get',KEYS[1])\r\n"
    );
    assert_eq!(r.call(&["eval", "1+1"]), "*1\r\n+<retval> 2\r\n");
    assert_eq!(
        r.call(&["eval", "x="]),
        "*1\r\n+<error> ldb_eval:1: unexpected symbol near '<eof>'\r\n"
    );
    assert_eq!(
        r.call(&["redis", "incr", "n"]),
        "*2\r\n+<redis> incr n\r\n+<reply> 1\r\n"
    );
    assert_eq!(
        r.call(&["maxlen", "10"]),
        "*1\r\n+<value> replies are truncated at 60 bytes.\r\n"
    );
    assert_eq!(
        r.call(&["whatever"]),
        "*1\r\n+<error> Unknown Redis Lua debugger command or wrong number of arguments.\r\n"
    );
    assert_eq!(
        r.call(&["c"]),
        "*3\r\n+<debug> line 3: \"hi\", {[1]=1; [2]=\"a\"; [\"x\"]=2}\r\n+* Stopped at 4, stop reason = break point\r\n+->#4   return redis.call('get',KEYS[1])\r\n"
    );
    assert_eq!(
        r.call(&["s"]),
        "*3\r\n+<redis> get y\r\n+<reply> \"v1\"\r\n+<endsession>\r\n"
    );
    // Then the EVAL reply, and the connection closes.
    assert_eq!(r.read_reply(), b"$2\r\nv1\r\n");
    assert!(r.is_closed());
    // SYNC keeps the script's changes.
    let mut o = s.raw();
    assert_eq!(o.call(&["GET", "y"]), "$2\r\nv1\r\n");
    assert_eq!(o.call(&["GET", "n"]), "$1\r\n1\r\n");
}

#[test]
fn script_debug_forked_session_rolls_back() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["SCRIPT", "DEBUG", "YES"]), "+OK\r\n");
    r.cmd(&[
        b"EVAL",
        b"redis.call('set',KEYS[1],'v')\nredis.breakpoint()\nlocal a = 1\nreturn redis.call('nosuch')",
        b"1",
        b"y",
    ]);
    assert_eq!(
        ldb_logs(&mut r),
        "*2\r\n+* Stopped at 1, stop reason = step over\r\n+-> 1   redis.call('set',KEYS[1],'v')\r\n"
    );
    // The server itself goes on meanwhile.
    let mut o = s.raw();
    assert_eq!(o.call(&["PING"]), "+PONG\r\n");
    assert_eq!(
        r.call(&["s"]),
        "*4\r\n+<redis> set y v\r\n+<reply> \"+OK\"\r\n+* Stopped at 2, stop reason = step over\r\n+-> 2   redis.breakpoint()\r\n"
    );
    assert_eq!(
        r.call(&["c"]),
        "*2\r\n+* Stopped at 3, stop reason = redis.breakpoint() called\r\n+-> 3   local a = 1\r\n"
    );
    assert_eq!(
        r.call(&["n"]),
        "*2\r\n+* Stopped at 4, stop reason = step over\r\n+-> 4   return redis.call('nosuch')\r\n"
    );
    // Continuing: redis.call no longer logs.
    assert_eq!(r.call(&["c"]), "*1\r\n+<endsession>\r\n");
    let err = String::from_utf8_lossy(&r.read_reply()).into_owned();
    assert!(
        err.starts_with("-ERR Unknown Redis command called from script script: "),
        "{err}"
    );
    assert!(r.is_closed());
    // The child's write is gone with it.
    assert_eq!(o.call(&["EXISTS", "y"]), ":0\r\n");
}

/// DEBUG RELOAD NOFLUSH loads the file over what exists: a function
/// library already there fails it unless MERGE is given.
#[test]
fn debug_reload_noflush_needs_merge_for_existing_libraries() {
    let s = Server::start();
    let mut r = s.raw();
    let lib = "#!lua name=test\nredis.register_function('test', function() return 'hello' end)";
    assert_eq!(r.call(&["FUNCTION", "LOAD", lib]), "$4\r\ntest\r\n");
    assert_eq!(r.call(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(
        r.call(&["DEBUG", "RELOAD", "NOFLUSH"]),
        "-ERR Error trying to load the RDB dump, check server logs.\r\n"
    );
    assert_eq!(r.call(&["DEBUG", "RELOAD", "NOFLUSH", "MERGE"]), "+OK\r\n");
    assert_eq!(r.call(&["FCALL", "test", "0"]), "$5\r\nhello\r\n");
}

#[test]
fn redis_call_arguments_and_replies_on_the_stack() {
    let s = Server::start();
    let mut r = s.raw();
    // Thousands of arguments leave the reply room on the Lua stack.
    let many =
        "local a = {} for i=1,7999 do a[i] = 1 end return redis.call('lpush', 'l', unpack(a))";
    assert_eq!(r.call(&["EVAL", many, "0"]), ":7999\r\n");
    // Numbers are sent as %.17g; RESP3 replies convert to their tables.
    assert_eq!(
        r.call(&["EVAL", "return redis.call('set', KEYS[1], 0.5)", "1", "n"]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["GET", "n"]), "$3\r\n0.5\r\n");
    assert_eq!(r.call(&["HSET", "h", "a", "1"]), ":1\r\n");
    assert_eq!(r.call(&["ZADD", "z", "1.5", "m"]), ":1\r\n");
    assert_eq!(r.call(&["SADD", "s", "x"]), ":1\r\n");
    let resp3 = |cmd: &str| format!("redis.setresp(3) return redis.call({cmd})");
    assert_eq!(
        r.call(&[
            "EVAL",
            "redis.setresp(3) return redis.call('hgetall','h').map.a",
            "0"
        ]),
        "$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", &resp3("'hgetall','h'"), "0"]),
        "*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", &resp3("'zscore','z','m'"), "0"]),
        "$3\r\n1.5\r\n"
    );
    assert_eq!(
        r.call(&["EVAL", &resp3("'smembers','s'"), "0"]),
        "*1\r\n$1\r\nx\r\n"
    );
    // A command's error raised by redis.call is counted once.
    assert_eq!(r.call(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(
        r.call(&["EVAL", "return redis.call('incr', 'h')", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value script: 8b0ab7376b00abdc7d1e9c407abb98f4dab69fc2, on @user_script:1.\r\n"
    );
    let stats = r.call(&["INFO", "errorstats"]);
    assert!(stats.contains("errorstat_WRONGTYPE:count=1\r\n"), "{stats}");
    // EVALSHA finds the script whatever the case of its id.
    assert_eq!(
        r.call(&["EVALSHA", "8B0AB7376B00ABDC7D1E9C407ABB98F4DAB69FC2", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value script: 8b0ab7376b00abdc7d1e9c407abb98f4dab69fc2, on @user_script:1.\r\n"
    );
    // FCALL runs the callback of the library loaded last.
    let lib = |v: &str| {
        format!("#!lua name=l\nredis.register_function('f', function(keys, args) return {{keys[1], args[1], '{v}'}} end)")
    };
    assert_eq!(r.call(&["FUNCTION", "LOAD", &lib("old")]), "$1\r\nl\r\n");
    assert_eq!(
        r.call(&["FCALL", "f", "1", "k", "a"]),
        "*3\r\n$1\r\nk\r\n$1\r\na\r\n$3\r\nold\r\n"
    );
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", "REPLACE", &lib("new")]),
        "$1\r\nl\r\n"
    );
    assert_eq!(
        r.call(&["FCALL", "f", "1", "k", "a"]),
        "*3\r\n$1\r\nk\r\n$1\r\na\r\n$3\r\nnew\r\n"
    );
}

#[test]
fn keys_and_argv_start_fresh_whatever_the_last_script_did() {
    let s = Server::start();
    let mut r = s.raw();
    let eval = |r: &mut common::Raw, script: &str, args: &[&str]| {
        let mut argv = vec!["EVAL", script];
        argv.extend_from_slice(args);
        r.call(&argv)
    };
    assert_eq!(
        eval(&mut r, "table.insert(KEYS, 'x') return #KEYS", &["1", "a"]),
        ":2\r\n"
    );
    assert_eq!(
        eval(&mut r, "return KEYS", &["1", "b"]),
        "*1\r\n$1\r\nb\r\n"
    );
    assert_eq!(eval(&mut r, "KEYS.foo = 1 return 1", &["1", "a"]), ":1\r\n");
    assert_eq!(eval(&mut r, "return KEYS.foo", &["0"]), "$-1\r\n");
    let meta = "setmetatable(ARGV, {__index=function() return 'm' end}) return 1";
    assert_eq!(eval(&mut r, meta, &["0"]), ":1\r\n");
    assert_eq!(eval(&mut r, "return ARGV[5]", &["0"]), "$-1\r\n");
    let lens = "return {#KEYS, #ARGV}";
    assert_eq!(
        eval(&mut r, lens, &["2", "a", "b", "c"]),
        "*2\r\n:2\r\n:1\r\n"
    );
    assert_eq!(eval(&mut r, lens, &["0"]), "*2\r\n:0\r\n:0\r\n");
    assert_eq!(
        eval(&mut r, "KEYS[1] = nil return 1", &["2", "a", "b"]),
        ":1\r\n"
    );
    assert_eq!(
        eval(&mut r, "return KEYS", &["1", "z"]),
        "*1\r\n$1\r\nz\r\n"
    );
}

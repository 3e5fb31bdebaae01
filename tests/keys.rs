//! Keyspace and expiry commands: exact replies (recorded from Redis
//! 7.0.15) including error paths, SCAN guarantees and active expiry.

mod common;
use common::Server;
use std::collections::HashSet;

#[test]
fn del_unlink_exists_type_touch() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["del", "a", "b"]), ":0\r\n");
    assert_eq!(r.call(&["set", "a", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["set", "b", "2"]), "+OK\r\n");
    assert_eq!(r.call(&["exists", "a", "a", "b", "nokey"]), ":3\r\n");
    assert_eq!(r.call(&["del", "a", "nokey", "a"]), ":1\r\n");
    assert_eq!(r.call(&["exists", "a"]), ":0\r\n");
    assert_eq!(r.call(&["unlink", "b", "nokey"]), ":1\r\n");
    assert_eq!(r.call(&["rpush", "l", "x"]), ":1\r\n");
    assert_eq!(r.call(&["sadd", "s", "m"]), ":1\r\n");
    assert_eq!(r.call(&["hset", "h", "f", "v"]), ":1\r\n");
    assert_eq!(r.call(&["zadd", "z", "1", "m"]), ":1\r\n");
    assert_eq!(r.call(&["set", "str", "hello"]), "+OK\r\n");
    assert_eq!(r.call(&["type", "l"]), "+list\r\n");
    assert_eq!(r.call(&["type", "s"]), "+set\r\n");
    assert_eq!(r.call(&["type", "h"]), "+hash\r\n");
    assert_eq!(r.call(&["type", "z"]), "+zset\r\n");
    assert_eq!(r.call(&["type", "str"]), "+string\r\n");
    assert_eq!(r.call(&["type", "nokey"]), "+none\r\n");
    assert_eq!(r.call(&["touch", "l", "s", "nokey", "l"]), ":3\r\n");
    assert_eq!(
        r.call(&["del"]),
        "-ERR wrong number of arguments for 'del' command\r\n"
    );
    assert_eq!(
        r.call(&["exists"]),
        "-ERR wrong number of arguments for 'exists' command\r\n"
    );
    assert_eq!(
        r.call(&["type"]),
        "-ERR wrong number of arguments for 'type' command\r\n"
    );
}

#[test]
fn keys_randomkey_dbsize_flush() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["randomkey"]), "$-1\r\n");
    assert_eq!(r.call(&["keys", "*"]), "*0\r\n");
    assert_eq!(r.call(&["dbsize"]), ":0\r\n");
    assert_eq!(r.call(&["set", "foo", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["randomkey"]), "$3\r\nfoo\r\n");
    assert_eq!(r.call(&["keys", "*"]), "*1\r\n$3\r\nfoo\r\n");
    assert_eq!(r.call(&["keys", "f?o"]), "*1\r\n$3\r\nfoo\r\n");
    assert_eq!(r.call(&["keys", "b*"]), "*0\r\n");
    assert_eq!(r.call(&["set", "bar", "2"]), "+OK\r\n");
    assert_eq!(r.call(&["dbsize"]), ":2\r\n");
    assert_eq!(r.call(&["flushdb", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["flushdb", "async"]), "+OK\r\n");
    assert_eq!(r.call(&["dbsize"]), ":0\r\n");
    assert_eq!(r.call(&["set", "x", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["select", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["set", "y", "2"]), "+OK\r\n");
    assert_eq!(r.call(&["flushall", "sync", "x"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["flushall", "sync"]), "+OK\r\n");
    assert_eq!(r.call(&["dbsize"]), ":0\r\n");
    assert_eq!(r.call(&["select", "0"]), "+OK\r\n");
    assert_eq!(r.call(&["dbsize"]), ":0\r\n");
    assert_eq!(r.call(&["flushall"]), "+OK\r\n");
}

#[test]
fn rename_renamenx() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["rename", "a", "b"]), "-ERR no such key\r\n");
    assert_eq!(r.call(&["renamenx", "a", "b"]), "-ERR no such key\r\n");
    assert_eq!(r.call(&["set", "a", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["rename", "a", "a"]), "+OK\r\n");
    assert_eq!(r.call(&["renamenx", "a", "a"]), ":0\r\n");
    assert_eq!(r.call(&["rename", "a", "b"]), "+OK\r\n");
    assert_eq!(r.call(&["exists", "a"]), ":0\r\n");
    assert_eq!(r.call(&["get", "b"]), "$1\r\n1\r\n");
    assert_eq!(r.call(&["set", "c", "3"]), "+OK\r\n");
    assert_eq!(r.call(&["renamenx", "b", "c"]), ":0\r\n");
    assert_eq!(r.call(&["rename", "b", "c"]), "+OK\r\n");
    assert_eq!(r.call(&["get", "c"]), "$1\r\n1\r\n");
    assert_eq!(r.call(&["exists", "b"]), ":0\r\n");
    assert_eq!(r.call(&["rpush", "l", "x"]), ":1\r\n");
    assert_eq!(r.call(&["expire", "l", "100"]), ":1\r\n");
    assert_eq!(r.call(&["rename", "l", "l2"]), "+OK\r\n");
    assert_eq!(r.call(&["ttl", "l2"]), ":100\r\n");
}

#[test]
fn move_copy_swapdb() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["move", "a", "1"]), ":0\r\n");
    assert_eq!(r.call(&["set", "a", "1"]), "+OK\r\n");
    assert_eq!(
        r.call(&["move", "a", "0"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(
        r.call(&["move", "a", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["move", "a", "99"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        r.call(&["move", "a", "-1"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        r.call(&["move", "a", "2147483648"]),
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    assert_eq!(r.call(&["move", "a", "1"]), ":1\r\n");
    assert_eq!(r.call(&["exists", "a"]), ":0\r\n");
    assert_eq!(r.call(&["select", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["get", "a"]), "$1\r\n1\r\n");
    assert_eq!(r.call(&["set", "a", "5"]), "+OK\r\n");
    assert_eq!(r.call(&["select", "0"]), "+OK\r\n");
    assert_eq!(r.call(&["set", "a", "2"]), "+OK\r\n");
    assert_eq!(r.call(&["move", "a", "1"]), ":0\r\n");
    assert_eq!(r.call(&["copy", "a", "b"]), ":1\r\n");
    assert_eq!(
        r.call(&["copy", "a", "a"]),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(
        r.call(&["copy", "a", "b", "db", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["copy", "a", "b", "db", "99"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        r.call(&["copy", "a", "b", "db", "2147483648"]),
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    assert_eq!(r.call(&["copy", "a", "b", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["copy", "a", "b", "db"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["copy", "nokey", "b"]), ":0\r\n");
    assert_eq!(r.call(&["copy", "a", "b"]), ":0\r\n");
    assert_eq!(r.call(&["get", "b"]), "$1\r\n2\r\n");
    assert_eq!(r.call(&["copy", "a", "b"]), ":0\r\n");
    assert_eq!(r.call(&["copy", "a", "b", "replace"]), ":1\r\n");
    assert_eq!(r.call(&["copy", "a", "a", "db", "1"]), ":0\r\n");
    assert_eq!(r.call(&["copy", "a", "a", "db", "1", "replace"]), ":1\r\n");
    assert_eq!(r.call(&["select", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["get", "a"]), "$1\r\n2\r\n");
    assert_eq!(r.call(&["select", "0"]), "+OK\r\n");
    assert_eq!(
        r.call(&["swapdb", "0", "x"]),
        "-ERR invalid second DB index\r\n"
    );
    assert_eq!(
        r.call(&["swapdb", "x", "0"]),
        "-ERR invalid first DB index\r\n"
    );
    assert_eq!(
        r.call(&["swapdb", "0", "99"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        r.call(&["swapdb", "-1", "0"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(r.call(&["swapdb", "0", "0"]), "+OK\r\n");
    assert_eq!(r.call(&["swapdb", "0", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["get", "a"]), "$1\r\n2\r\n");
    assert_eq!(r.call(&["swapdb", "1", "0"]), "+OK\r\n");
    assert_eq!(r.call(&["get", "a"]), "$1\r\n2\r\n");
}

#[test]
fn object_subcommands() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["object", "encoding", "nokey"]), "$-1\r\n");
    assert_eq!(r.call(&["object", "refcount", "nokey"]), "$-1\r\n");
    assert_eq!(r.call(&["object", "idletime", "nokey"]), "$-1\r\n");
    assert_eq!(r.call(&["set", "a", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["set", "big", "123456"]), "+OK\r\n");
    assert_eq!(r.call(&["set", "s", "hello"]), "+OK\r\n");
    assert_eq!(
        r.call(&[
            "set",
            "r",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        ]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["object", "encoding", "a"]), "$3\r\nint\r\n");
    assert_eq!(r.call(&["object", "encoding", "s"]), "$6\r\nembstr\r\n");
    assert_eq!(r.call(&["object", "encoding", "r"]), "$3\r\nraw\r\n");
    assert_eq!(r.call(&["object", "refcount", "a"]), ":2147483647\r\n");
    assert_eq!(r.call(&["object", "refcount", "big"]), ":1\r\n");
    assert_eq!(r.call(&["object", "refcount", "s"]), ":1\r\n");
    assert_eq!(r.call(&["object", "freq", "a"]), "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n");
    assert_eq!(
        r.call(&["object", "foo", "a"]),
        "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
    );
    assert_eq!(
        r.call(&["object", "encoding"]),
        "-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_eq!(
        r.call(&["object", "encoding", "a", "b"]),
        "-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_eq!(
        r.call(&["object"]),
        "-ERR wrong number of arguments for 'object' command\r\n"
    );
    assert_eq!(r.call(&["object", "help"]), "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n+    Return the kind of internal representation used in order to store the value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access frequency index of the <key>. The returned integer is\r\n+    proportional to the logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    Return the idle time of the <key>, that is the approximated number of\r\n+    seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return the number of references of the value associated with the specified\r\n+    <key>.\r\n+HELP\r\n+    Prints this help.\r\n");
    assert_eq!(
        r.call(&["object", "help", "extra"]),
        "-ERR wrong number of arguments for 'object|help' command\r\n"
    );
}

#[test]
fn expire_family_errors_and_flags() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["expire", "a", "10"]), ":0\r\n");
    assert_eq!(r.call(&["ttl", "a"]), ":-2\r\n");
    assert_eq!(r.call(&["pttl", "a"]), ":-2\r\n");
    assert_eq!(r.call(&["expiretime", "a"]), ":-2\r\n");
    assert_eq!(r.call(&["pexpiretime", "a"]), ":-2\r\n");
    assert_eq!(r.call(&["persist", "a"]), ":0\r\n");
    assert_eq!(r.call(&["set", "a", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["ttl", "a"]), ":-1\r\n");
    assert_eq!(r.call(&["pttl", "a"]), ":-1\r\n");
    assert_eq!(r.call(&["expiretime", "a"]), ":-1\r\n");
    assert_eq!(r.call(&["pexpiretime", "a"]), ":-1\r\n");
    assert_eq!(
        r.call(&["expire", "a", "10", "nx", "xx"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "10", "nx", "gt"]),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "10", "gt", "lt"]),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "10", "foo"]),
        "-ERR Unsupported option foo\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "10.5"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "9223372036854775807"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        r.call(&["expire", "a", "-9223372036854775808"]),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        r.call(&["pexpire", "a", "9223372036854775807"]),
        "-ERR invalid expire time in 'pexpire' command\r\n"
    );
    assert_eq!(
        r.call(&["expireat", "a", "9223372036854775807"]),
        "-ERR invalid expire time in 'expireat' command\r\n"
    );
    assert_eq!(r.call(&["expireat", "a", "9223372036854775"]), ":1\r\n");
    assert_eq!(r.call(&["pexpireat", "a", "9223372036854775807"]), ":1\r\n");
    assert_eq!(r.call(&["expire", "a", "100", "xx"]), ":1\r\n");
    // A shorter TTL with GT is refused (the same TTL would race the clock).
    assert_eq!(r.call(&["expire", "a", "50", "gt"]), ":0\r\n");
    assert_eq!(r.call(&["expire", "a", "100", "lt"]), ":0\r\n");
    assert_eq!(r.call(&["expire", "a", "100", "nx"]), ":0\r\n");
    assert_eq!(r.call(&["ttl", "a"]), ":100\r\n");
    assert_eq!(r.call(&["expire", "a", "100", "nx"]), ":0\r\n");
    assert_eq!(r.call(&["expire", "a", "200", "xx"]), ":1\r\n");
    assert_eq!(r.call(&["expire", "a", "100", "gt"]), ":0\r\n");
    assert_eq!(r.call(&["expire", "a", "300", "gt"]), ":1\r\n");
    assert_eq!(r.call(&["expire", "a", "400", "lt"]), ":0\r\n");
    assert_eq!(r.call(&["expire", "a", "50", "lt"]), ":1\r\n");
    assert_eq!(r.call(&["ttl", "a"]), ":50\r\n");
    assert_eq!(r.call(&["expireat", "a", "4102444800"]), ":1\r\n");
    assert_eq!(r.call(&["expiretime", "a"]), ":4102444800\r\n");
    assert_eq!(r.call(&["pexpiretime", "a"]), ":4102444800000\r\n");
    assert_eq!(r.call(&["pexpireat", "a", "4102444800123"]), ":1\r\n");
    assert_eq!(r.call(&["pexpiretime", "a"]), ":4102444800123\r\n");
    assert_eq!(r.call(&["expiretime", "a"]), ":4102444800\r\n");
    assert_eq!(r.call(&["persist", "a"]), ":1\r\n");
    assert_eq!(r.call(&["persist", "a"]), ":0\r\n");
    assert_eq!(r.call(&["ttl", "a"]), ":-1\r\n");
    assert_eq!(r.call(&["expire", "a", "10", "NX"]), ":1\r\n");
    assert_eq!(r.call(&["expire", "a", "-1"]), ":1\r\n");
    assert_eq!(r.call(&["exists", "a"]), ":0\r\n");
    assert_eq!(r.call(&["set", "b", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["pexpireat", "b", "1"]), ":1\r\n");
    assert_eq!(r.call(&["exists", "b"]), ":0\r\n");
}

fn scan_all(
    r: &mut common::Raw,
    extra: &[&str],
    mut during: impl FnMut(&mut common::Raw, usize),
) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    let mut round = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let rep = r.call(&args);
        let lines: Vec<&str> = rep.split("\r\n").collect();
        assert_eq!(lines[0], "*2", "{rep}");
        let next = lines[2].to_string();
        let n: usize = lines[3][1..].parse().unwrap();
        for i in 0..n {
            keys.push(lines[5 + 2 * i].to_string());
        }
        during(r, round);
        round += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    keys
}

#[test]
fn scan_errors_and_options() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["SCAN", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(
        r.call(&["SCAN", "18446744073709551616"]),
        "-ERR invalid cursor\r\n"
    );
    assert_eq!(
        r.call(&["SCAN", "0", "COUNT", "0"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["SCAN", "0", "COUNT", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r.call(&["SCAN", "0", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["SCAN", "0", "MATCH"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["SCAN", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(r.call(&["SCAN", "-1"]), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(r.call(&["SCAN", ""]), "*2\r\n$1\r\n0\r\n*0\r\n");
    r.call(&["SET", "str", "1"]);
    r.call(&["RPUSH", "lst", "a"]);
    assert_eq!(
        r.call(&["SCAN", "0", "TYPE", "list"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nlst\r\n"
    );
    assert_eq!(
        r.call(&["SCAN", "0", "MATCH", "s*"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nstr\r\n"
    );
    assert_eq!(
        r.call(&["SCAN", "0", "TYPE", "nosuchtype"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    // Expired keys are not returned.
    r.call(&["PEXPIRE", "str", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(
        r.call(&["SCAN", "0", "MATCH", "s*"]),
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
}

#[test]
fn scan_returns_every_key_present_throughout() {
    let s = Server::start();
    let mut r = s.raw();
    let mut args = vec!["MSET".to_string()];
    for i in 0..1000 {
        args.push(format!("key:{i}"));
        args.push("v".into());
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(r.call(&a), "+OK\r\n");
    // Add many keys while scanning (forcing the table to grow).
    let keys = scan_all(&mut r, &["COUNT", "50"], |r, round| {
        for j in 0..200 {
            r.call(&["SET", &format!("new:{round}:{j}"), "x"]);
        }
    });
    let got: HashSet<&String> = keys.iter().collect();
    for i in 0..1000 {
        assert!(got.contains(&format!("key:{i}")), "key:{i} missing");
    }
    // Without changes, a plain scan returns each key exactly once.
    let total: usize = {
        let rep = r.call(&["DBSIZE"]);
        rep[1..rep.len() - 2].parse().unwrap()
    };
    let keys = scan_all(&mut r, &["COUNT", "100"], |_, _| {});
    let set: HashSet<&String> = keys.iter().collect();
    assert_eq!(set.len(), total);
    assert_eq!(keys.len(), total);
}

#[test]
fn expire_propagates_and_notifies() {
    let s = Server::start();
    let mut r = s.raw();
    let mut sub = s.raw();
    assert_eq!(
        r.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    r.call(&["SET", "a", "1"]);
    assert_eq!(r.call(&["EXPIRE", "a", "100"]), ":1\r\n");
    assert_eq!(r.call(&["PERSIST", "a"]), ":1\r\n");
    assert_eq!(r.call(&["RENAME", "a", "b"]), "+OK\r\n");
    assert_eq!(r.call(&["EXPIRE", "b", "-1"]), ":1\r\n");
    let mut events = Vec::new();
    for _ in 0..6 {
        let m = String::from_utf8(sub.read_reply()).unwrap();
        let parts: Vec<&str> = m.split("\r\n").collect();
        events.push(parts[6].to_string());
    }
    assert_eq!(
        events,
        [
            "__keyevent@0__:set",
            "__keyevent@0__:expire",
            "__keyevent@0__:persist",
            "__keyevent@0__:rename_from",
            "__keyevent@0__:rename_to",
            "__keyevent@0__:del",
        ]
    );
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let s = Server::start();
    let mut r = s.raw();
    let mut buf = Vec::new();
    let n = 100_000;
    for i in 0..n {
        let k = format!("k{i}");
        buf.extend_from_slice(
            format!(
                "*5\r\n$3\r\nSET\r\n${}\r\n{k}\r\n$1\r\nv\r\n$2\r\nPX\r\n$3\r\n100\r\n",
                k.len()
            )
            .as_bytes(),
        );
    }
    r.send(&buf);
    for _ in 0..n {
        assert_eq!(r.read_reply(), b"+OK\r\n");
    }
    let start = std::time::Instant::now();
    loop {
        if r.call(&["DBSIZE"]) == ":0\r\n" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "keys not reclaimed: {}",
            r.call(&["DBSIZE"])
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn scan_reclaims_expired_keys_it_meets() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    r.call(&["SET", "foo1", "bar", "PX", "1"]);
    r.call(&["SET", "foo2", "bar", "PX", "1"]);
    r.call(&["SET", "keep", "v"]);
    std::thread::sleep(std::time::Duration::from_millis(10));
    assert_eq!(r.call(&["DBSIZE"]), ":3\r\n");
    assert_eq!(
        r.call(&["SCAN", "0"]),
        "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkeep\r\n"
    );
    // Deleted, not just hidden: DBSIZE does not check expiry.
    assert_eq!(r.call(&["DBSIZE"]), ":1\r\n");
}

mod common;
use common::Server;

#[test]
fn hash_commands_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["HSET", "h", "a", "1", "b", "2"]), ":2\r\n");
    assert_eq!(r.call(&["HSET", "h", "a", "3"]), ":0\r\n");
    assert_eq!(
        r.call(&["HSET", "h", "a"]),
        "-ERR wrong number of arguments for 'hset' command\r\n"
    );
    assert_eq!(r.call(&["HGET", "h", "a"]), "$1\r\n3\r\n");
    assert_eq!(r.call(&["HGET", "h", "zz"]), "$-1\r\n");
    assert_eq!(
        r.call(&["HMGET", "h", "a", "x", "b"]),
        "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["HLEN", "h"]), ":2\r\n");
    assert_eq!(r.call(&["HSTRLEN", "h", "a"]), ":1\r\n");
    assert_eq!(r.call(&["HEXISTS", "h", "b"]), ":1\r\n");
    assert_eq!(
        r.call(&["HGETALL", "h"]),
        "*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["HKEYS", "h"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(r.call(&["HVALS", "h"]), "*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
    assert_eq!(r.call(&["HINCRBY", "h", "a", "5"]), ":8\r\n");
    assert_eq!(
        r.call(&["HINCRBY", "h", "a", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r.call(&["HSET", "h", "s", "str"]), ":1\r\n");
    assert_eq!(
        r.call(&["HINCRBY", "h", "s", "1"]),
        "-ERR hash value is not an integer\r\n"
    );
    assert_eq!(
        r.call(&["HINCRBYFLOAT", "h", "s", "1"]),
        "-ERR hash value is not a float\r\n"
    );
    assert_eq!(
        r.call(&["HINCRBYFLOAT", "h", "f", "10.5"]),
        "$4\r\n10.5\r\n"
    );
    assert_eq!(r.call(&["HINCRBYFLOAT", "h", "f", "0.1"]), "$4\r\n10.6\r\n");
    assert_eq!(
        r.call(&["HINCRBY", "h", "big", "9223372036854775807"]),
        ":9223372036854775807\r\n"
    );
    assert_eq!(
        r.call(&["HINCRBY", "h", "big", "1"]),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(r.call(&["HSETNX", "h", "a", "v"]), ":0\r\n");
    assert_eq!(r.call(&["HDEL", "h", "a", "b", "nope"]), ":2\r\n");
    assert_eq!(r.call(&["HRANDFIELD", "nokey", "5"]), "*0\r\n");
    assert_eq!(r.call(&["HRANDFIELD", "h", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["HRANDFIELD", "h", "1", "bad"]),
        "-ERR syntax error\r\n"
    );
    r.call(&["RPUSH", "list", "x"]);
    assert_eq!(
        r.call(&["HGET", "list", "f"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    // Deleting the last field deletes the key.
    assert_eq!(r.call(&["HSET", "one", "f", "v"]), ":1\r\n");
    assert_eq!(r.call(&["HDEL", "one", "f"]), ":1\r\n");
    assert_eq!(r.call(&["HLEN", "one"]), ":0\r\n");
}

#[test]
fn hash_resp3_map_and_scan() {
    let s = Server::start();
    let mut r = s.raw();
    r.call(&["HELLO", "3"]);
    r.call(&["HSET", "h", "a", "1"]);
    assert_eq!(r.call(&["HGETALL", "h"]), "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        r.call(&["HRANDFIELD", "h", "1", "WITHVALUES"]),
        "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    // Grow past the listpack limit and scan it all.
    for i in 0..300 {
        r.call(&["HSET", "big", &format!("f{i}"), "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        r.cmd(&[b"HSCAN", b"big", cursor.as_bytes(), b"COUNT", b"50"]);
        let reply = String::from_utf8(r.read_reply()).unwrap();
        let lines: Vec<&str> = reply.split("\r\n").collect();
        cursor = lines[2].to_string();
        for (i, l) in lines.iter().enumerate().skip(4) {
            if l.starts_with('f') && lines[i - 1].starts_with('$') {
                seen.insert(l.to_string());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
}

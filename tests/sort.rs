mod common;
use common::Server;

#[test]
fn sort_sets_and_zsets() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "s", "3", "1", "2", "10"]), ":4\r\n");
    assert_eq!(
        r.call(&["sort", "s"]),
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "desc"]),
        "*4\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "alpha"]),
        "*4\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "alpha", "desc"]),
        "*4\r\n$1\r\n3\r\n$1\r\n2\r\n$2\r\n10\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "limit", "1", "2"]),
        "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "limit", "1", "-5"]),
        "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"
    );
    assert_eq!(r.call(&["sort", "s", "limit", "10", "2"]), "*0\r\n");
    assert_eq!(
        r.call(&["sort", "s", "limit", "-3", "2"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["sort", "s", "limit", "0", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["sort", "s", "by", "w_*"]),
        "*4\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "by", "w_*", "desc"]),
        "*4\r\n$1\r\n3\r\n$1\r\n2\r\n$2\r\n10\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "get", "#"]),
        "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "get", "#", "get", "nokey_*"]),
        "*8\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n$-1\r\n$2\r\n10\r\n$-1\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "get", "nostar"]),
        "*4\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"
    );
    assert_eq!(r.call(&["sort", "s", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(
        r.call(&["sort", "s", "limit", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "limit", "x", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["sort", "s", "limit", "1", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r.call(&["sadd", "t", "a", "b", "1"]), ":3\r\n");
    assert_eq!(
        r.call(&["sort", "t"]),
        "-ERR One or more scores can't be converted into double\r\n"
    );
    assert_eq!(
        r.call(&["sort", "t", "alpha", "desc", "limit", "1", "1"]),
        "*1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "5", "a", "1", "b", "3", "c"]),
        ":3\r\n"
    );
    assert_eq!(
        r.call(&["sort", "z", "by", "nosort"]),
        "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"
    );
    assert_eq!(
        r.call(&["sort", "z", "by", "nosort", "desc"]),
        "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        r.call(&["sort", "z", "by", "nosort", "limit", "1", "1"]),
        "*1\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["sort", "z", "by", "nosort", "desc", "limit", "1", "5"]),
        "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        r.call(&["sort", "z", "alpha"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["sort", "z"]),
        "-ERR One or more scores can't be converted into double\r\n"
    );
    assert_eq!(
        r.call(&["sort_ro", "z", "alpha"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["sort_ro", "z", "alpha", "store", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["sort_ro", "z", "get", "#", "limit", "0", "1"]),
        "-ERR One or more scores can't be converted into double\r\n"
    );
    assert_eq!(r.call(&["sort", "nokey"]), "*0\r\n");
    assert_eq!(
        r.call(&["sort", "nokey", "alpha", "limit", "0", "10"]),
        "*0\r\n"
    );
    assert_eq!(r.call(&["sort", "nokey", "store", "dst"]), ":0\r\n");
    assert_eq!(r.call(&["sadd", "f", "1.5", "-2", "inf", "0x10"]), ":4\r\n");
    assert_eq!(
        r.call(&["sort", "f"]),
        "*4\r\n$2\r\n-2\r\n$3\r\n1.5\r\n$4\r\n0x10\r\n$3\r\ninf\r\n"
    );
    assert_eq!(r.call(&["sadd", "e", "1e400", "1"]), ":2\r\n");
    assert_eq!(
        r.call(&["sort", "e"]),
        "-ERR One or more scores can't be converted into double\r\n"
    );
    assert_eq!(r.call(&["sadd", "zz", "1"]), ":1\r\n");
    assert_eq!(r.call(&["zadd", "zzz", "1", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["sort", "zzz", "by", "nosort", "get", "#", "get", "#"]),
        "*2\r\n$1\r\na\r\n$1\r\na\r\n"
    );
}

mod common;
use common::Server;

#[test]
fn zadd_options_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3", "c"]),
        ":3\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "nx", "xx", "1", "a"]),
        "-ERR XX and NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "gt", "lt", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "nx", "gt", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "nx", "lt", "1", "a"]),
        "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "incr", "1", "a", "2", "b"]),
        "-ERR INCR option supports a single increment-element pair\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "1"]),
        "-ERR wrong number of arguments for 'zadd' command\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "x", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "nan", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(r.call(&["zadd", "z", "incr", "+inf", "a"]), "$3\r\ninf\r\n");
    assert_eq!(
        r.call(&["zadd", "z", "incr", "-inf", "a"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
    assert_eq!(r.call(&["zscore", "z", "a"]), "$3\r\ninf\r\n");
    assert_eq!(
        r.call(&["zadd", "z", "xx", "ch", "5", "a", "6", "newm"]),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "gt", "ch", "1", "a", "7", "b"]),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "z", "lt", "ch", "1", "a", "7", "b"]),
        ":1\r\n"
    );
    assert_eq!(r.call(&["zadd", "z", "lt", "incr", "100", "a"]), "$-1\r\n");
    assert_eq!(
        r.call(&["zadd", "z", "gt", "incr", "100", "a"]),
        "$3\r\n101\r\n"
    );
    assert_eq!(r.call(&["zadd", "z", "nx", "incr", "1", "a"]), "$-1\r\n");
    assert_eq!(
        r.call(&["zadd", "z", "xx", "incr", "1", "nosuch"]),
        "$-1\r\n"
    );
    assert_eq!(r.call(&["zadd", "z", "nx", "9", "a", "10", "d"]), ":1\r\n");
    assert_eq!(r.call(&["zadd", "z", "CH", "NX", "1", "e"]), ":1\r\n");
    assert_eq!(r.call(&["zrange", "z", "0", "-1", "withscores"]), "*10\r\n$1\r\ne\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n7\r\n$1\r\nd\r\n$2\r\n10\r\n$1\r\na\r\n$3\r\n101\r\n");
    assert_eq!(r.call(&["zadd", "nokey", "xx", "1", "a"]), ":0\r\n");
    assert_eq!(r.call(&["zcard", "nokey"]), ":0\r\n");
    assert_eq!(
        r.call(&["zadd", "z"]),
        "-ERR wrong number of arguments for 'zadd' command\r\n"
    );
}

#[test]
fn zincrby_zscore_formatting() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zincrby", "z", "1.1", "a"]),
        "$18\r\n1.1000000000000001\r\n"
    );
    assert_eq!(
        r.call(&["zscore", "z", "a"]),
        "$18\r\n1.1000000000000001\r\n"
    );
    assert_eq!(
        r.call(&["zincrby", "z", "0.1", "a"]),
        "$18\r\n1.2000000000000002\r\n"
    );
    assert_eq!(
        r.call(&["zincrby", "z", "x", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        r.call(&["zincrby", "z", "1", "a", "2"]),
        "-ERR wrong number of arguments for 'zincrby' command\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd",
            "f",
            "0.1",
            "b",
            "1e20",
            "c",
            "-0",
            "d",
            "3.0",
            "e",
            "-1.5e-10",
            "g",
            "123456789012345678",
            "h"
        ]),
        ":6\r\n"
    );
    assert_eq!(r.call(&["zrange", "f", "0", "-1", "withscores"]), "*12\r\n$1\r\ng\r\n$8\r\n-1.5e-10\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\nb\r\n$19\r\n0.10000000000000001\r\n$1\r\ne\r\n$1\r\n3\r\n$1\r\nh\r\n$22\r\n1.2345678901234568e+17\r\n$1\r\nc\r\n$5\r\n1e+20\r\n");
    assert_eq!(r.call(&["zscore", "f", "d"]), "$1\r\n0\r\n");
    assert_eq!(
        r.call(&["zmscore", "f", "b", "c", "nosuch"]),
        "*3\r\n$19\r\n0.10000000000000001\r\n$5\r\n1e+20\r\n$-1\r\n"
    );
    assert_eq!(r.call(&["zmscore", "nokey", "a"]), "*1\r\n$-1\r\n");
    assert_eq!(r.call(&["zscore", "nokey", "a"]), "$-1\r\n");
    assert_eq!(r.call(&["zscore", "f", "nosuch"]), "$-1\r\n");
    assert_eq!(r.call(&["zadd", "f", "inf", "i", "-inf", "j"]), ":2\r\n");
    assert_eq!(r.call(&["zscore", "f", "i"]), "$3\r\ninf\r\n");
    assert_eq!(r.call(&["zscore", "f", "j"]), "$4\r\n-inf\r\n");
    assert_eq!(
        r.call(&["zincrby", "f", "-inf", "i"]),
        "-ERR resulting score is not a number (NaN)\r\n"
    );
}

#[test]
fn rank_count_lex() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"]),
        ":4\r\n"
    );
    assert_eq!(r.call(&["zrank", "z", "a"]), ":0\r\n");
    assert_eq!(r.call(&["zrank", "z", "d"]), ":3\r\n");
    assert_eq!(r.call(&["zrevrank", "z", "a"]), ":3\r\n");
    assert_eq!(r.call(&["zrank", "z", "nosuch"]), "$-1\r\n");
    assert_eq!(r.call(&["zrank", "nokey", "a"]), "$-1\r\n");
    assert_eq!(r.call(&["zcard", "z"]), ":4\r\n");
    assert_eq!(r.call(&["zcount", "z", "-inf", "+inf"]), ":4\r\n");
    assert_eq!(r.call(&["zcount", "z", "(1", "3"]), ":2\r\n");
    assert_eq!(r.call(&["zcount", "z", "(1", "(3"]), ":1\r\n");
    assert_eq!(r.call(&["zcount", "z", "3", "1"]), ":0\r\n");
    assert_eq!(
        r.call(&["zcount", "z", "x", "3"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(
        r.call(&["zcount", "z", "1", "(x"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(r.call(&["zcount", "z", "", ""]), ":0\r\n");
    assert_eq!(r.call(&["zcount", "nokey", "0", "1"]), ":0\r\n");
    assert_eq!(
        r.call(&["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]),
        ":5\r\n"
    );
    assert_eq!(r.call(&["zlexcount", "l", "-", "+"]), ":5\r\n");
    assert_eq!(r.call(&["zlexcount", "l", "[b", "[c"]), ":2\r\n");
    assert_eq!(r.call(&["zlexcount", "l", "(b", "(d"]), ":1\r\n");
    assert_eq!(r.call(&["zlexcount", "l", "+", "-"]), ":0\r\n");
    assert_eq!(
        r.call(&["zlexcount", "l", "x", "y"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(
        r.call(&["zlexcount", "l", "[a", "x"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(
        r.call(&["zlexcount", "l", "--", "+"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(r.call(&["zlexcount", "nokey", "-", "+"]), ":0\r\n");
}

#[test]
fn zrange_variants() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]),
        ":5\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1"]),
        "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "-2", "-1", "withscores"]),
        "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"
    );
    assert_eq!(r.call(&["zrange", "z", "1", "0"]), "*0\r\n");
    assert_eq!(r.call(&["zrange", "z", "10", "20"]), "*0\r\n");
    assert_eq!(
        r.call(&["zrange", "z", "-100", "1"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(r.call(&["zrange", "z", "0", "-1", "rev", "withscores"]), "*10\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        r.call(&["zrange", "z", "(1", "4", "byscore", "withscores"]),
        "*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "4", "(1", "byscore", "rev", "withscores"]),
        "*6\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["zrange", "z", "0", "-1", "limit", "0", "1"]), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
    assert_eq!(
        r.call(&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "2"]),
        "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "-inf", "+inf", "byscore", "limit", "-1", "2"]),
        "*0\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "-1"]),
        "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "0"]),
        "*0\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "-", "+", "bylex", "withscores"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "[a", "[c", "bylex"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "+", "-", "bylex", "rev", "limit", "1", "2"]),
        "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1", "foo"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1", "byscore", "bylex"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1", "rev", "rev"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "x", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "a", "b", "byscore"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "a", "b", "bylex"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(
        r.call(&[
            "zrangebyscore",
            "z",
            "1",
            "3",
            "withscores",
            "limit",
            "0",
            "10"
        ]),
        "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["zrangebyscore", "z", "1", "3", "rev"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zrevrangebyscore", "z", "3", "1"]),
        "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"
    );
    assert_eq!(
        r.call(&[
            "zrevrangebyscore",
            "z",
            "3",
            "1",
            "withscores",
            "limit",
            "1",
            "1"
        ]),
        "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        r.call(&["zrevrange", "z", "0", "1", "withscores"]),
        "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n"
    );
    assert_eq!(r.call(&["zrevrange", "z", "0", "1", "limit", "0", "1"]), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
    assert_eq!(
        r.call(&["zrangebylex", "z", "-", "+", "withscores"]),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        r.call(&["zrevrangebylex", "z", "+", "-", "limit", "0", "2"]),
        "*2\r\n$1\r\ne\r\n$1\r\nd\r\n"
    );
    assert_eq!(
        r.call(&["zrevrangebylex", "z", "(d", "[b"]),
        "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    );
    assert_eq!(r.call(&["zrange", "nokey", "0", "-1"]), "*0\r\n");
    assert_eq!(r.call(&["zrangebyscore", "nokey", "0", "1"]), "*0\r\n");
}

#[test]
fn zrangestore_cmd() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3", "c"]),
        ":3\r\n"
    );
    assert_eq!(r.call(&["zrangestore", "d", "z", "0", "1"]), ":2\r\n");
    assert_eq!(
        r.call(&["zrange", "d", "0", "-1", "withscores"]),
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(r.call(&["zrangestore", "d", "z", "5", "6"]), ":0\r\n");
    assert_eq!(r.call(&["zcard", "d"]), ":0\r\n");
    assert_eq!(
        r.call(&["zrangestore", "d", "z", "0", "-1", "withscores"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&[
            "zrangestore",
            "d",
            "z",
            "(1",
            "+inf",
            "byscore",
            "limit",
            "0",
            "1"
        ]),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "d", "0", "-1", "withscores"]),
        "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        r.call(&["zrangestore", "d", "z", "[b", "+", "bylex", "rev"]),
        ":0\r\n"
    );
    assert_eq!(r.call(&["zrange", "d", "0", "-1", "withscores"]), "*0\r\n");
    assert_eq!(r.call(&["zrangestore", "d", "nokey", "0", "-1"]), ":0\r\n");
    assert_eq!(r.call(&["zcard", "d"]), ":0\r\n");
}

#[test]
fn zrem_zremrange() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"]),
        ":6\r\n"
    );
    assert_eq!(r.call(&["zrem", "z", "nosuch"]), ":0\r\n");
    assert_eq!(r.call(&["zrem", "z", "a", "b"]), ":2\r\n");
    assert_eq!(r.call(&["zrem", "nokey", "a"]), ":0\r\n");
    assert_eq!(r.call(&["zremrangebyrank", "z", "0", "0"]), ":1\r\n");
    assert_eq!(r.call(&["zremrangebyrank", "z", "-1", "-1"]), ":1\r\n");
    assert_eq!(r.call(&["zremrangebyrank", "z", "5", "10"]), ":0\r\n");
    assert_eq!(
        r.call(&["zremrangebyrank", "z", "x", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1"]),
        "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"
    );
    assert_eq!(r.call(&["zremrangebyscore", "z", "(3", "4"]), ":1\r\n");
    assert_eq!(
        r.call(&["zremrangebyscore", "z", "x", "1"]),
        "-ERR min or max is not a float\r\n"
    );
    assert_eq!(r.call(&["zremrangebyscore", "z", "-inf", "+inf"]), ":1\r\n");
    assert_eq!(r.call(&["zcard", "z"]), ":0\r\n");
    assert_eq!(
        r.call(&["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d"]),
        ":4\r\n"
    );
    assert_eq!(r.call(&["zremrangebylex", "l", "[a", "[b"]), ":2\r\n");
    assert_eq!(
        r.call(&["zremrangebylex", "l", "x", "y"]),
        "-ERR min or max not valid string range item\r\n"
    );
    assert_eq!(r.call(&["zremrangebylex", "l", "-", "+"]), ":2\r\n");
    assert_eq!(r.call(&["zcard", "l"]), ":0\r\n");
    assert_eq!(r.call(&["zremrangebyrank", "nokey", "0", "-1"]), ":0\r\n");
}

#[test]
fn zpop_zmpop() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"]),
        ":4\r\n"
    );
    assert_eq!(r.call(&["zpopmin", "z"]), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        r.call(&["zpopmax", "z", "2"]),
        "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.call(&["zpopmin", "z", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["zpopmin", "z", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(
        r.call(&["zpopmin", "z", "x"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(r.call(&["zpopmin", "z", "1", "2"]), "-ERR syntax error\r\n");
    assert_eq!(r.call(&["zpopmin", "nokey"]), "*0\r\n");
    assert_eq!(r.call(&["zpopmin", "nokey", "2"]), "*0\r\n");
    assert_eq!(
        r.call(&["zmpop", "1", "z", "min"]),
        "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        r.call(&["zmpop", "2", "nokey", "z", "max", "count", "5"]),
        "*-1\r\n"
    );
    assert_eq!(r.call(&["zcard", "z"]), ":0\r\n");
    assert_eq!(r.call(&["zmpop", "1", "z", "min"]), "*-1\r\n");
    assert_eq!(
        r.call(&["zmpop", "0", "z", "min"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["zmpop", "-1", "z", "min"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(r.call(&["zmpop", "1", "z", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(
        r.call(&["zmpop", "1", "z", "min", "count", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["zmpop", "1", "z", "min", "count", "x"]),
        "-ERR count should be greater than 0\r\n"
    );
    assert_eq!(
        r.call(&["zmpop", "1", "z", "min", "count", "1", "count", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zmpop", "1", "z"]),
        "-ERR wrong number of arguments for 'zmpop' command\r\n"
    );
    assert_eq!(r.call(&["zmpop", "5", "z", "min"]), "-ERR syntax error\r\n");
}

#[test]
fn zsetops() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "a", "1", "x", "2", "y", "3", "z"]),
        ":3\r\n"
    );
    assert_eq!(
        r.call(&["zadd", "b", "10", "y", "20", "z", "30", "w"]),
        ":3\r\n"
    );
    assert_eq!(r.call(&["sadd", "s", "x", "w"]), ":2\r\n");
    assert_eq!(r.call(&["zunion", "2", "a", "b", "withscores"]), "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n");
    assert_eq!(
        r.call(&["zunion", "2", "a", "b"]),
        "*4\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nw\r\n"
    );
    assert_eq!(r.call(&["zunion", "2", "a", "b", "weights", "1", "2", "aggregate", "max", "withscores"]), "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n20\r\n$1\r\nz\r\n$2\r\n40\r\n$1\r\nw\r\n$2\r\n60\r\n");
    assert_eq!(r.call(&["zunion", "2", "a", "b", "aggregate", "min", "withscores"]), "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\nw\r\n$2\r\n30\r\n");
    assert_eq!(
        r.call(&["zinter", "2", "a", "b", "withscores"]),
        "*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "2", "a", "b", "aggregate", "min", "withscores"]),
        "*4\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "2", "a", "b", "weights", "2", "0.5", "withscores"]),
        "*4\r\n$1\r\ny\r\n$1\r\n9\r\n$1\r\nz\r\n$2\r\n16\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "3", "a", "b", "s", "withscores"]),
        "*0\r\n"
    );
    assert_eq!(r.call(&["zunion", "3", "a", "b", "s", "withscores"]), "*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n31\r\n");
    assert_eq!(
        r.call(&["zunion", "2", "a", "a", "withscores"]),
        "*6\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$1\r\n4\r\n$1\r\nz\r\n$1\r\n6\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "2", "a", "a", "withscores"]),
        "*6\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$1\r\n4\r\n$1\r\nz\r\n$1\r\n6\r\n"
    );
    assert_eq!(
        r.call(&["zdiff", "2", "a", "b", "withscores"]),
        "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["zdiff", "2", "a", "s"]),
        "*2\r\n$1\r\ny\r\n$1\r\nz\r\n"
    );
    assert_eq!(r.call(&["zdiff", "2", "a", "a"]), "*0\r\n");
    assert_eq!(
        r.call(&["zdiff", "2", "a", "b", "weights", "1", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zdiff", "2", "a", "b", "aggregate", "sum"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "0", "a"]),
        "-ERR at least 1 input key is needed for 'zinter' command\r\n"
    );
    assert_eq!(
        r.call(&["zunion", "-1", "a"]),
        "-ERR at least 1 input key is needed for 'zunion' command\r\n"
    );
    assert_eq!(r.call(&["zinter", "3", "a", "b"]), "-ERR syntax error\r\n");
    assert_eq!(
        r.call(&["zinter", "x", "a"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        r.call(&["zunion", "2", "a", "b", "weights", "1", "x"]),
        "-ERR weight value is not a float\r\n"
    );
    assert_eq!(
        r.call(&["zunion", "2", "a", "b", "weights", "1"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zunion", "2", "a", "b", "aggregate", "foo"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zunion", "2", "a", "b", "aggregate"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(r.call(&["zunion", "1", "nokey"]), "*0\r\n");
    assert_eq!(r.call(&["zunionstore", "d", "2", "a", "b"]), ":4\r\n");
    assert_eq!(r.call(&["zrange", "d", "0", "-1", "withscores"]), "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n");
    assert_eq!(
        r.call(&["zunionstore", "d", "2", "a", "b", "withscores"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(r.call(&["zinterstore", "d", "2", "a", "nokey"]), ":0\r\n");
    assert_eq!(r.call(&["zcard", "d"]), ":0\r\n");
    assert_eq!(
        r.call(&[
            "zinterstore",
            "d",
            "2",
            "a",
            "b",
            "weights",
            "1",
            "1",
            "aggregate",
            "max"
        ]),
        ":2\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "d", "0", "-1", "withscores"]),
        "*4\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n"
    );
    assert_eq!(r.call(&["zdiffstore", "d", "1", "a"]), ":3\r\n");
    assert_eq!(
        r.call(&["zrange", "d", "0", "-1", "withscores"]),
        "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["zdiffstore", "d", "0", "a"]),
        "-ERR at least 1 input key is needed for 'zdiffstore' command\r\n"
    );
    assert_eq!(r.call(&["zintercard", "2", "a", "b"]), ":2\r\n");
    assert_eq!(
        r.call(&["zintercard", "2", "a", "b", "limit", "1"]),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["zintercard", "2", "a", "b", "limit", "0"]),
        ":2\r\n"
    );
    assert_eq!(
        r.call(&["zintercard", "2", "a", "b", "limit", "-1"]),
        "-ERR LIMIT can't be negative\r\n"
    );
    assert_eq!(
        r.call(&["zintercard", "2", "a", "b", "withscores"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zintercard", "0", "a"]),
        "-ERR at least 1 input key is needed for 'zintercard' command\r\n"
    );
    assert_eq!(
        r.call(&["zintercard", "3", "a", "b"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(r.call(&["zintercard", "1", "nokey"]), ":0\r\n");
    assert_eq!(r.call(&["zadd", "inf1", "+inf", "m"]), ":1\r\n");
    assert_eq!(r.call(&["zadd", "inf2", "-inf", "m"]), ":1\r\n");
    assert_eq!(
        r.call(&["zunion", "2", "inf1", "inf2", "withscores"]),
        "*2\r\n$1\r\nm\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "2", "inf1", "inf2", "withscores"]),
        "*2\r\n$1\r\nm\r\n$1\r\n0\r\n"
    );
}

#[test]
fn zrandmember_zscan() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["zadd", "a", "1", "x", "2", "y", "3", "z"]),
        ":3\r\n"
    );
    assert_eq!(r.call(&["zrandmember", "nokey"]), "$-1\r\n");
    assert_eq!(r.call(&["zrandmember", "nokey", "3"]), "*0\r\n");
    assert_eq!(r.call(&["zrandmember", "a", "0"]), "*0\r\n");
    assert_eq!(
        r.call(&["zrandmember", "a", "10", "withscores"]),
        "*6\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "a", "3"]),
        "*3\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "a", "1", "foo"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "a", "1", "withscores", "foo"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "a", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(r.call(&["zrandmember", "a", "-9223372036854775808"]), "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
    assert_eq!(
        r.call(&["zrandmember", "a", "9223372036854775807", "withscores"]),
        "-ERR value is out of range\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "a", "-9223372036854775807", "withscores"]),
        "-ERR value is out of range\r\n"
    );
    assert_eq!(
        r.call(&["zscan", "a", "0"]),
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        r.call(&["zscan", "a", "0", "match", "x*"]),
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        r.call(&["zscan", "a", "0", "count", "1"]),
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
    );
    assert_eq!(r.call(&["zscan", "a", "x"]), "-ERR invalid cursor\r\n");
    assert_eq!(r.call(&["zscan", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn wrongtype() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["sadd", "s", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["zadd", "s", "1", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zincrby", "s", "1", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zrem", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zcard", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zscore", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zmscore", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zrank", "s", "a"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zcount", "s", "0", "1"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zlexcount", "s", "-", "+"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "s", "0", "-1"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zrangestore", "d", "s", "0", "-1"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zremrangebyrank", "s", "0", "1"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zpopmin", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zmpop", "1", "s", "min"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "s"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        r.call(&["zscan", "s", "0"]),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(r.call(&["zinter", "1", "s"]), "*1\r\n$1\r\na\r\n");
    assert_eq!(r.call(&["zadd", "z", "1", "a"]), ":1\r\n");
    assert_eq!(r.call(&["zrangestore", "s", "z", "0", "-1"]), ":1\r\n");
    assert_eq!(r.call(&["zrange", "s", "0", "-1"]), "*1\r\n$1\r\na\r\n");
}

#[test]
fn resp3_shapes() {
    let s = Server::start();
    let mut r = s.raw();
    r.call(&["hello", "3"]);
    assert_eq!(
        r.call(&["zadd", "z", "1", "a", "2", "b", "3.5", "c"]),
        ":3\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1", "withscores"]),
        "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3.5\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "z", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.call(&["zrangebyscore", "z", "-inf", "+inf", "withscores"]),
        "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3.5\r\n"
    );
    assert_eq!(r.call(&["zscore", "z", "c"]), ",3.5\r\n");
    assert_eq!(r.call(&["zscore", "z", "nosuch"]), "_\r\n");
    assert_eq!(r.call(&["zmscore", "z", "a", "x"]), "*2\r\n,1\r\n_\r\n");
    assert_eq!(r.call(&["zincrby", "z", "1", "a"]), ",2\r\n");
    assert_eq!(r.call(&["zadd", "z", "incr", "1", "a"]), ",3\r\n");
    assert_eq!(r.call(&["zadd", "z", "nx", "incr", "1", "a"]), "_\r\n");
    assert_eq!(r.call(&["zpopmin", "z"]), "*2\r\n$1\r\nb\r\n,2\r\n");
    assert_eq!(
        r.call(&["zpopmin", "z", "1"]),
        "*1\r\n*2\r\n$1\r\na\r\n,3\r\n"
    );
    assert_eq!(
        r.call(&["zpopmax", "z", "5"]),
        "*1\r\n*2\r\n$1\r\nc\r\n,3.5\r\n"
    );
    assert_eq!(r.call(&["zpopmin", "nokey"]), "*0\r\n");
    assert_eq!(r.call(&["zadd", "z", "1", "a", "2", "b"]), ":2\r\n");
    assert_eq!(
        r.call(&["zmpop", "1", "z", "min", "count", "5"]),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    );
    assert_eq!(r.call(&["zmpop", "1", "z", "min"]), "_\r\n");
    assert_eq!(r.call(&["zadd", "a", "1", "x", "2", "y"]), ":2\r\n");
    assert_eq!(r.call(&["zadd", "b", "3", "y"]), ":1\r\n");
    assert_eq!(
        r.call(&["zunion", "2", "a", "b", "withscores"]),
        "*2\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,5\r\n"
    );
    assert_eq!(
        r.call(&["zinter", "2", "a", "b", "withscores"]),
        "*1\r\n*2\r\n$1\r\ny\r\n,5\r\n"
    );
    assert_eq!(
        r.call(&["zdiff", "2", "a", "b", "withscores"]),
        "*1\r\n*2\r\n$1\r\nx\r\n,1\r\n"
    );
    assert_eq!(
        r.call(&["zrandmember", "a", "5", "withscores"]),
        "*2\r\n*2\r\n$1\r\ny\r\n,2\r\n*2\r\n$1\r\nx\r\n,1\r\n"
    );
    assert_eq!(
        r.call(&["zscan", "a", "0"]),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n"
    );
}

#[test]
fn big_skiplist_zset() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&[
            "zadd", "big", "41.25", "m0000", "121.25", "m0001", "19.25", "m0002", "50.5", "m0003",
            "83.25", "m0004", "6.0", "m0005", "9.25", "m0006", "105.0", "m0007", "68.5", "m0008",
            "12.0", "m0009", "46.75", "m0010", "74.5", "m0011", "7.25", "m0012", "116.25", "m0013",
            "64.75", "m0014", "27.25", "m0015", "4.75", "m0016", "11.0", "m0017", "55.5", "m0018",
            "53.5", "m0019", "8.75", "m0020", "30.75", "m0021", "11.5", "m0022", "70.5", "m0023",
            "54.25", "m0024", "7.5", "m0025", "105.75", "m0026", "72.25", "m0027", "15.75",
            "m0028", "121.25", "m0029", "28.5", "m0030", "80.5", "m0031", "80.25", "m0032", "74.5",
            "m0033", "121.25", "m0034", "7.75", "m0035", "73.75", "m0036", "74.75", "m0037",
            "50.75", "m0038", "6.25", "m0039", "124.75", "m0040", "28.25", "m0041", "5.75",
            "m0042", "71.25", "m0043", "109.75", "m0044", "17.0", "m0045", "37.0", "m0046", "53.5",
            "m0047", "18.25", "m0048", "69.0", "m0049"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "15.0", "m0050", "73.0", "m0051", "39.25", "m0052", "71.5", "m0053",
            "104.25", "m0054", "87.25", "m0055", "23.0", "m0056", "13.0", "m0057", "74.25",
            "m0058", "73.0", "m0059", "81.75", "m0060", "24.0", "m0061", "47.5", "m0062", "12.25",
            "m0063", "70.0", "m0064", "91.0", "m0065", "8.0", "m0066", "72.0", "m0067", "7.5",
            "m0068", "79.0", "m0069", "26.25", "m0070", "63.5", "m0071", "87.0", "m0072", "68.0",
            "m0073", "54.5", "m0074", "99.25", "m0075", "40.0", "m0076", "59.5", "m0077", "74.75",
            "m0078", "118.0", "m0079", "58.0", "m0080", "46.25", "m0081", "38.25", "m0082",
            "31.75", "m0083", "101.5", "m0084", "23.0", "m0085", "89.25", "m0086", "99.75",
            "m0087", "31.0", "m0088", "10.25", "m0089", "73.5", "m0090", "38.25", "m0091", "67.0",
            "m0092", "63.25", "m0093", "112.0", "m0094", "43.75", "m0095", "93.25", "m0096",
            "57.25", "m0097", "36.75", "m0098", "77.75", "m0099"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "9.25", "m0100", "15.0", "m0101", "65.5", "m0102", "53.5", "m0103",
            "21.0", "m0104", "96.75", "m0105", "43.75", "m0106", "19.25", "m0107", "119.25",
            "m0108", "62.5", "m0109", "53.75", "m0110", "5.0", "m0111", "123.0", "m0112", "85.5",
            "m0113", "9.75", "m0114", "97.75", "m0115", "71.25", "m0116", "73.25", "m0117",
            "101.0", "m0118", "112.0", "m0119", "104.5", "m0120", "40.0", "m0121", "43.5", "m0122",
            "88.75", "m0123", "44.75", "m0124", "76.0", "m0125", "63.5", "m0126", "74.0", "m0127",
            "102.0", "m0128", "58.25", "m0129", "8.75", "m0130", "107.5", "m0131", "11.75",
            "m0132", "120.75", "m0133", "34.5", "m0134", "60.5", "m0135", "89.0", "m0136", "85.0",
            "m0137", "8.25", "m0138", "7.75", "m0139", "93.5", "m0140", "89.75", "m0141", "39.5",
            "m0142", "82.75", "m0143", "73.75", "m0144", "87.0", "m0145", "105.0", "m0146", "57.0",
            "m0147", "36.25", "m0148", "91.5", "m0149"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "49.25", "m0150", "113.5", "m0151", "85.5", "m0152", "44.25", "m0153",
            "2.75", "m0154", "120.25", "m0155", "59.0", "m0156", "45.25", "m0157", "21.5", "m0158",
            "78.0", "m0159", "14.75", "m0160", "63.0", "m0161", "7.5", "m0162", "27.75", "m0163",
            "98.25", "m0164", "36.75", "m0165", "16.5", "m0166", "94.5", "m0167", "31.5", "m0168",
            "50.75", "m0169", "50.0", "m0170", "117.25", "m0171", "111.5", "m0172", "63.5",
            "m0173", "10.25", "m0174", "21.25", "m0175", "57.25", "m0176", "51.25", "m0177",
            "70.25", "m0178", "35.5", "m0179", "113.0", "m0180", "17.5", "m0181", "104.75",
            "m0182", "55.0", "m0183", "110.5", "m0184", "70.25", "m0185", "35.5", "m0186", "90.25",
            "m0187", "53.0", "m0188", "45.75", "m0189", "87.25", "m0190", "113.0", "m0191", "48.5",
            "m0192", "122.5", "m0193", "29.5", "m0194", "19.25", "m0195", "10.5", "m0196", "22.5",
            "m0197", "19.25", "m0198", "29.5", "m0199"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "84.25", "m0200", "29.75", "m0201", "1.5", "m0202", "62.0", "m0203",
            "106.25", "m0204", "75.25", "m0205", "23.25", "m0206", "33.5", "m0207", "36.0",
            "m0208", "0.5", "m0209", "18.5", "m0210", "53.5", "m0211", "68.25", "m0212", "47.25",
            "m0213", "78.0", "m0214", "72.25", "m0215", "40.75", "m0216", "121.75", "m0217",
            "16.0", "m0218", "88.25", "m0219", "109.75", "m0220", "65.75", "m0221", "121.5",
            "m0222", "79.0", "m0223", "83.75", "m0224", "86.5", "m0225", "94.5", "m0226", "6.75",
            "m0227", "58.25", "m0228", "115.0", "m0229", "111.25", "m0230", "99.75", "m0231",
            "121.75", "m0232", "111.75", "m0233", "87.0", "m0234", "102.0", "m0235", "71.5",
            "m0236", "50.0", "m0237", "50.75", "m0238", "51.0", "m0239", "50.25", "m0240", "13.25",
            "m0241", "61.5", "m0242", "81.0", "m0243", "51.25", "m0244", "7.75", "m0245", "24.25",
            "m0246", "8.5", "m0247", "26.5", "m0248", "56.25", "m0249"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "20.75", "m0250", "14.0", "m0251", "43.5", "m0252", "76.75", "m0253",
            "6.5", "m0254", "13.0", "m0255", "0.0", "m0256", "72.5", "m0257", "19.25", "m0258",
            "68.5", "m0259", "12.75", "m0260", "121.25", "m0261", "46.5", "m0262", "78.5", "m0263",
            "3.25", "m0264", "9.0", "m0265", "111.75", "m0266", "26.5", "m0267", "78.5", "m0268",
            "48.0", "m0269", "19.0", "m0270", "81.0", "m0271", "32.25", "m0272", "122.25", "m0273",
            "44.25", "m0274", "77.0", "m0275", "46.5", "m0276", "60.5", "m0277", "15.5", "m0278",
            "14.75", "m0279", "108.5", "m0280", "62.25", "m0281", "125.0", "m0282", "59.5",
            "m0283", "61.25", "m0284", "61.75", "m0285", "39.75", "m0286", "10.75", "m0287",
            "18.25", "m0288", "13.0", "m0289", "95.75", "m0290", "43.75", "m0291", "94.75",
            "m0292", "33.75", "m0293", "61.25", "m0294", "106.0", "m0295", "88.5", "m0296", "20.5",
            "m0297", "66.0", "m0298", "2.75", "m0299"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "26.25", "m0300", "121.5", "m0301", "121.75", "m0302", "67.5", "m0303",
            "46.25", "m0304", "18.75", "m0305", "88.25", "m0306", "69.5", "m0307", "117.0",
            "m0308", "3.25", "m0309", "97.0", "m0310", "67.5", "m0311", "38.0", "m0312", "125.0",
            "m0313", "82.25", "m0314", "110.5", "m0315", "11.5", "m0316", "89.0", "m0317", "108.0",
            "m0318", "33.25", "m0319", "66.25", "m0320", "46.75", "m0321", "116.25", "m0322",
            "21.25", "m0323", "45.5", "m0324", "98.75", "m0325", "28.5", "m0326", "68.0", "m0327",
            "69.25", "m0328", "99.5", "m0329", "64.25", "m0330", "42.0", "m0331", "81.25", "m0332",
            "28.5", "m0333", "78.25", "m0334", "103.75", "m0335", "100.75", "m0336", "97.0",
            "m0337", "109.0", "m0338", "24.75", "m0339", "103.0", "m0340", "30.5", "m0341",
            "104.5", "m0342", "51.25", "m0343", "94.5", "m0344", "102.75", "m0345", "29.0",
            "m0346", "25.5", "m0347", "66.25", "m0348", "63.0", "m0349"
        ]),
        ":50\r\n"
    );
    assert_eq!(
        r.call(&[
            "zadd", "big", "45.5", "m0350", "93.5", "m0351", "3.5", "m0352", "3.5", "m0353",
            "101.0", "m0354", "35.75", "m0355", "60.25", "m0356", "33.0", "m0357", "24.75",
            "m0358", "88.5", "m0359", "77.25", "m0360", "122.25", "m0361", "44.0", "m0362", "57.0",
            "m0363", "103.25", "m0364", "119.75", "m0365", "92.5", "m0366", "44.5", "m0367",
            "122.0", "m0368", "124.5", "m0369", "46.5", "m0370", "10.25", "m0371", "28.0", "m0372",
            "13.0", "m0373", "29.0", "m0374", "60.0", "m0375", "25.0", "m0376", "43.0", "m0377",
            "26.0", "m0378", "61.75", "m0379", "79.75", "m0380", "115.0", "m0381", "78.0", "m0382",
            "107.5", "m0383", "0.0", "m0384", "61.25", "m0385", "116.25", "m0386", "83.5", "m0387",
            "44.0", "m0388", "102.25", "m0389", "82.25", "m0390", "10.75", "m0391", "106.75",
            "m0392", "84.5", "m0393", "15.25", "m0394", "116.25", "m0395", "49.5", "m0396",
            "100.0", "m0397", "91.0", "m0398", "96.0", "m0399"
        ]),
        ":50\r\n"
    );
    assert_eq!(r.call(&["zcard", "big"]), ":400\r\n");
    assert_eq!(r.call(&["zrank", "big", "m0007"]), ":345\r\n");
    assert_eq!(r.call(&["zrevrank", "big", "m0123"]), ":99\r\n");
    assert_eq!(r.call(&["zscore", "big", "m0200"]), "$5\r\n84.25\r\n");
    assert_eq!(r.call(&["zrange", "big", "100", "110", "withscores"]), "*22\r\n$5\r\nm0333\r\n$4\r\n28.5\r\n$5\r\nm0346\r\n$2\r\n29\r\n$5\r\nm0374\r\n$2\r\n29\r\n$5\r\nm0194\r\n$4\r\n29.5\r\n$5\r\nm0199\r\n$4\r\n29.5\r\n$5\r\nm0201\r\n$5\r\n29.75\r\n$5\r\nm0341\r\n$4\r\n30.5\r\n$5\r\nm0021\r\n$5\r\n30.75\r\n$5\r\nm0088\r\n$2\r\n31\r\n$5\r\nm0168\r\n$4\r\n31.5\r\n$5\r\nm0083\r\n$5\r\n31.75\r\n");
    assert_eq!(
        r.call(&["zrange", "big", "-5", "-1"]),
        "*5\r\n$5\r\nm0112\r\n$5\r\nm0369\r\n$5\r\nm0040\r\n$5\r\nm0282\r\n$5\r\nm0313\r\n"
    );
    assert_eq!(r.call(&["zrange", "big", "0", "-1", "rev", "limit", "0", "3"]), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
    assert_eq!(r.call(&["zrangebyscore", "big", "10", "(12", "withscores"]), "*20\r\n$5\r\nm0089\r\n$5\r\n10.25\r\n$5\r\nm0174\r\n$5\r\n10.25\r\n$5\r\nm0371\r\n$5\r\n10.25\r\n$5\r\nm0196\r\n$4\r\n10.5\r\n$5\r\nm0287\r\n$5\r\n10.75\r\n$5\r\nm0391\r\n$5\r\n10.75\r\n$5\r\nm0017\r\n$2\r\n11\r\n$5\r\nm0022\r\n$4\r\n11.5\r\n$5\r\nm0316\r\n$4\r\n11.5\r\n$5\r\nm0132\r\n$5\r\n11.75\r\n");
    assert_eq!(
        r.call(&["zrevrangebyscore", "big", "50", "40", "limit", "2", "5"]),
        "*5\r\n$5\r\nm0396\r\n$5\r\nm0150\r\n$5\r\nm0192\r\n$5\r\nm0269\r\n$5\r\nm0062\r\n"
    );
    assert_eq!(r.call(&["zcount", "big", "20", "60"]), ":125\r\n");
    assert_eq!(
        r.call(&["zrange", "big", "100", "(101", "byscore", "rev"]),
        "*0\r\n"
    );
    assert_eq!(r.call(&["zremrangebyrank", "big", "10", "200"]), ":191\r\n");
    assert_eq!(r.call(&["zcard", "big"]), ":209\r\n");
    assert_eq!(r.call(&["zrange", "big", "5", "15", "withscores"]), "*22\r\n$5\r\nm0299\r\n$4\r\n2.75\r\n$5\r\nm0264\r\n$4\r\n3.25\r\n$5\r\nm0309\r\n$4\r\n3.25\r\n$5\r\nm0352\r\n$3\r\n3.5\r\n$5\r\nm0353\r\n$3\r\n3.5\r\n$5\r\nm0284\r\n$5\r\n61.25\r\n$5\r\nm0294\r\n$5\r\n61.25\r\n$5\r\nm0385\r\n$5\r\n61.25\r\n$5\r\nm0242\r\n$4\r\n61.5\r\n$5\r\nm0285\r\n$5\r\n61.75\r\n$5\r\nm0379\r\n$5\r\n61.75\r\n");
    assert_eq!(
        r.call(&["zremrangebyscore", "big", "100", "110"]),
        ":29\r\n"
    );
    assert_eq!(r.call(&["zcard", "big"]), ":180\r\n");
    assert_eq!(r.call(&["zrange", "big", "-20", "-1", "withscores"]), "*40\r\n$5\r\nm0155\r\n$6\r\n120.25\r\n$5\r\nm0133\r\n$6\r\n120.75\r\n$5\r\nm0001\r\n$6\r\n121.25\r\n$5\r\nm0029\r\n$6\r\n121.25\r\n$5\r\nm0034\r\n$6\r\n121.25\r\n$5\r\nm0261\r\n$6\r\n121.25\r\n$5\r\nm0222\r\n$5\r\n121.5\r\n$5\r\nm0301\r\n$5\r\n121.5\r\n$5\r\nm0217\r\n$6\r\n121.75\r\n$5\r\nm0232\r\n$6\r\n121.75\r\n$5\r\nm0302\r\n$6\r\n121.75\r\n$5\r\nm0368\r\n$3\r\n122\r\n$5\r\nm0273\r\n$6\r\n122.25\r\n$5\r\nm0361\r\n$6\r\n122.25\r\n$5\r\nm0193\r\n$5\r\n122.5\r\n$5\r\nm0112\r\n$3\r\n123\r\n$5\r\nm0369\r\n$5\r\n124.5\r\n$5\r\nm0040\r\n$6\r\n124.75\r\n$5\r\nm0282\r\n$3\r\n125\r\n$5\r\nm0313\r\n$3\r\n125\r\n");
    assert_eq!(
        r.call(&["zpopmin", "big", "3"]),
        "*6\r\n$5\r\nm0256\r\n$1\r\n0\r\n$5\r\nm0384\r\n$1\r\n0\r\n$5\r\nm0209\r\n$3\r\n0.5\r\n"
    );
    assert_eq!(r.call(&["zpopmax", "big", "3"]), "*6\r\n$5\r\nm0313\r\n$3\r\n125\r\n$5\r\nm0282\r\n$3\r\n125\r\n$5\r\nm0040\r\n$6\r\n124.75\r\n");
    assert_eq!(r.call(&["zrank", "big", "m0300"]), "$-1\r\n");
    assert_eq!(
        r.call(&["zadd", "big", "1000", "m0001", "-1", "m0002"]),
        ":1\r\n"
    );
    assert_eq!(r.call(&["zrange", "big", "0", "2", "withscores"]), "*6\r\n$5\r\nm0002\r\n$2\r\n-1\r\n$5\r\nm0202\r\n$3\r\n1.5\r\n$5\r\nm0154\r\n$4\r\n2.75\r\n");
    assert_eq!(
        r.call(&["zrange", "big", "-2", "-1", "withscores"]),
        "*4\r\n$5\r\nm0369\r\n$5\r\n124.5\r\n$5\r\nm0001\r\n$4\r\n1000\r\n"
    );
    assert_eq!(
        r.call(&["zincrby", "big", "5000", "m0003"]),
        "$4\r\n5000\r\n"
    );
    assert_eq!(
        r.call(&["zrevrange", "big", "0", "0", "withscores"]),
        "*2\r\n$5\r\nm0003\r\n$4\r\n5000\r\n"
    );
    assert_eq!(r.call(&["zunionstore", "u", "1", "big"]), ":176\r\n");
    assert_eq!(r.call(&["zcard", "u"]), ":176\r\n");
    assert_eq!(r.call(&["zrange", "u", "50", "60", "withscores"]), "*22\r\n$5\r\nm0027\r\n$5\r\n72.25\r\n$5\r\nm0215\r\n$5\r\n72.25\r\n$5\r\nm0257\r\n$4\r\n72.5\r\n$5\r\nm0051\r\n$2\r\n73\r\n$5\r\nm0059\r\n$2\r\n73\r\n$5\r\nm0117\r\n$5\r\n73.25\r\n$5\r\nm0090\r\n$4\r\n73.5\r\n$5\r\nm0036\r\n$5\r\n73.75\r\n$5\r\nm0144\r\n$5\r\n73.75\r\n$5\r\nm0127\r\n$2\r\n74\r\n$5\r\nm0058\r\n$5\r\n74.25\r\n");
    assert_eq!(r.call(&["zrangestore", "rs", "big", "0", "9"]), ":10\r\n");
    assert_eq!(r.call(&["zrange", "rs", "0", "-1", "withscores"]), "*20\r\n$5\r\nm0002\r\n$2\r\n-1\r\n$5\r\nm0202\r\n$3\r\n1.5\r\n$5\r\nm0154\r\n$4\r\n2.75\r\n$5\r\nm0299\r\n$4\r\n2.75\r\n$5\r\nm0264\r\n$4\r\n3.25\r\n$5\r\nm0309\r\n$4\r\n3.25\r\n$5\r\nm0352\r\n$3\r\n3.5\r\n$5\r\nm0353\r\n$3\r\n3.5\r\n$5\r\nm0284\r\n$5\r\n61.25\r\n$5\r\nm0294\r\n$5\r\n61.25\r\n");
    assert_eq!(
        r.call(&["zinterstore", "i", "2", "big", "rs", "weights", "2", "3"]),
        ":10\r\n"
    );
    assert_eq!(r.call(&["zrange", "i", "0", "-1", "withscores"]), "*20\r\n$5\r\nm0002\r\n$2\r\n-5\r\n$5\r\nm0202\r\n$3\r\n7.5\r\n$5\r\nm0154\r\n$5\r\n13.75\r\n$5\r\nm0299\r\n$5\r\n13.75\r\n$5\r\nm0264\r\n$5\r\n16.25\r\n$5\r\nm0309\r\n$5\r\n16.25\r\n$5\r\nm0352\r\n$4\r\n17.5\r\n$5\r\nm0353\r\n$4\r\n17.5\r\n$5\r\nm0284\r\n$6\r\n306.25\r\n$5\r\nm0294\r\n$6\r\n306.25\r\n");
    assert_eq!(r.call(&["zdiffstore", "df", "2", "big", "rs"]), ":166\r\n");
    assert_eq!(r.call(&["zcard", "df"]), ":166\r\n");
    assert_eq!(
        r.call(&[
            "zrem", "big", "m0000", "m0001", "m0002", "m0003", "m0004", "m0005", "m0006", "m0007",
            "m0008", "m0009", "m0010", "m0011", "m0012", "m0013", "m0014", "m0015", "m0016",
            "m0017", "m0018", "m0019", "m0020", "m0021", "m0022", "m0023", "m0024", "m0025",
            "m0026", "m0027", "m0028", "m0029", "m0030", "m0031", "m0032", "m0033", "m0034",
            "m0035", "m0036", "m0037", "m0038", "m0039", "m0040", "m0041", "m0042", "m0043",
            "m0044", "m0045", "m0046", "m0047", "m0048", "m0049", "m0050", "m0051", "m0052",
            "m0053", "m0054", "m0055", "m0056", "m0057", "m0058", "m0059", "m0060", "m0061",
            "m0062", "m0063", "m0064", "m0065", "m0066", "m0067", "m0068", "m0069", "m0070",
            "m0071", "m0072", "m0073", "m0074", "m0075", "m0076", "m0077", "m0078", "m0079",
            "m0080", "m0081", "m0082", "m0083", "m0084", "m0085", "m0086", "m0087", "m0088",
            "m0089", "m0090", "m0091", "m0092", "m0093", "m0094", "m0095", "m0096", "m0097",
            "m0098", "m0099", "m0100", "m0101", "m0102", "m0103", "m0104", "m0105", "m0106",
            "m0107", "m0108", "m0109", "m0110", "m0111", "m0112", "m0113", "m0114", "m0115",
            "m0116", "m0117", "m0118", "m0119", "m0120", "m0121", "m0122", "m0123", "m0124",
            "m0125", "m0126", "m0127", "m0128", "m0129", "m0130", "m0131", "m0132", "m0133",
            "m0134", "m0135", "m0136", "m0137", "m0138", "m0139", "m0140", "m0141", "m0142",
            "m0143", "m0144", "m0145", "m0146", "m0147", "m0148", "m0149", "m0150", "m0151",
            "m0152", "m0153", "m0154", "m0155", "m0156", "m0157", "m0158", "m0159", "m0160",
            "m0161", "m0162", "m0163", "m0164", "m0165", "m0166", "m0167", "m0168", "m0169",
            "m0170", "m0171", "m0172", "m0173", "m0174", "m0175", "m0176", "m0177", "m0178",
            "m0179", "m0180", "m0181", "m0182", "m0183", "m0184", "m0185", "m0186", "m0187",
            "m0188", "m0189", "m0190", "m0191", "m0192", "m0193", "m0194", "m0195", "m0196",
            "m0197", "m0198", "m0199", "m0200", "m0201", "m0202", "m0203", "m0204", "m0205",
            "m0206", "m0207", "m0208", "m0209", "m0210", "m0211", "m0212", "m0213", "m0214",
            "m0215", "m0216", "m0217", "m0218", "m0219", "m0220", "m0221", "m0222", "m0223",
            "m0224", "m0225", "m0226", "m0227", "m0228", "m0229", "m0230", "m0231", "m0232",
            "m0233", "m0234", "m0235", "m0236", "m0237", "m0238", "m0239", "m0240", "m0241",
            "m0242", "m0243", "m0244", "m0245", "m0246", "m0247", "m0248", "m0249", "m0250",
            "m0251", "m0252", "m0253", "m0254", "m0255", "m0256", "m0257", "m0258", "m0259",
            "m0260", "m0261", "m0262", "m0263", "m0264", "m0265", "m0266", "m0267", "m0268",
            "m0269", "m0270", "m0271", "m0272", "m0273", "m0274", "m0275", "m0276", "m0277",
            "m0278", "m0279", "m0280", "m0281", "m0282", "m0283", "m0284", "m0285", "m0286",
            "m0287", "m0288", "m0289", "m0290", "m0291", "m0292", "m0293", "m0294", "m0295",
            "m0296", "m0297", "m0298", "m0299"
        ]),
        ":129\r\n"
    );
    assert_eq!(r.call(&["zcard", "big"]), ":47\r\n");
    assert_eq!(r.call(&["zrange", "big", "0", "-1", "withscores"]), "*94\r\n$5\r\nm0309\r\n$4\r\n3.25\r\n$5\r\nm0352\r\n$3\r\n3.5\r\n$5\r\nm0353\r\n$3\r\n3.5\r\n$5\r\nm0385\r\n$5\r\n61.25\r\n$5\r\nm0379\r\n$5\r\n61.75\r\n$5\r\nm0349\r\n$2\r\n63\r\n$5\r\nm0330\r\n$5\r\n64.25\r\n$5\r\nm0320\r\n$5\r\n66.25\r\n$5\r\nm0348\r\n$5\r\n66.25\r\n$5\r\nm0303\r\n$4\r\n67.5\r\n$5\r\nm0311\r\n$4\r\n67.5\r\n$5\r\nm0327\r\n$2\r\n68\r\n$5\r\nm0328\r\n$5\r\n69.25\r\n$5\r\nm0307\r\n$4\r\n69.5\r\n$5\r\nm0360\r\n$5\r\n77.25\r\n$5\r\nm0382\r\n$2\r\n78\r\n$5\r\nm0334\r\n$5\r\n78.25\r\n$5\r\nm0380\r\n$5\r\n79.75\r\n$5\r\nm0332\r\n$5\r\n81.25\r\n$5\r\nm0314\r\n$5\r\n82.25\r\n$5\r\nm0390\r\n$5\r\n82.25\r\n$5\r\nm0387\r\n$4\r\n83.5\r\n$5\r\nm0393\r\n$4\r\n84.5\r\n$5\r\nm0306\r\n$5\r\n88.25\r\n$5\r\nm0359\r\n$4\r\n88.5\r\n$5\r\nm0317\r\n$2\r\n89\r\n$5\r\nm0398\r\n$2\r\n91\r\n$5\r\nm0366\r\n$4\r\n92.5\r\n$5\r\nm0351\r\n$4\r\n93.5\r\n$5\r\nm0344\r\n$4\r\n94.5\r\n$5\r\nm0399\r\n$2\r\n96\r\n$5\r\nm0310\r\n$2\r\n97\r\n$5\r\nm0337\r\n$2\r\n97\r\n$5\r\nm0325\r\n$5\r\n98.75\r\n$5\r\nm0329\r\n$4\r\n99.5\r\n$5\r\nm0315\r\n$5\r\n110.5\r\n$5\r\nm0381\r\n$3\r\n115\r\n$5\r\nm0322\r\n$6\r\n116.25\r\n$5\r\nm0386\r\n$6\r\n116.25\r\n$5\r\nm0395\r\n$6\r\n116.25\r\n$5\r\nm0308\r\n$3\r\n117\r\n$5\r\nm0365\r\n$6\r\n119.75\r\n$5\r\nm0301\r\n$5\r\n121.5\r\n$5\r\nm0302\r\n$6\r\n121.75\r\n$5\r\nm0368\r\n$3\r\n122\r\n$5\r\nm0361\r\n$6\r\n122.25\r\n$5\r\nm0369\r\n$5\r\n124.5\r\n");
}

#[test]
fn bzpopmin_wakes_on_zadd_and_times_out() {
    let s = common::Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["ZADD", "z", "1", "a"]), ":1\r\n");
    assert_eq!(
        r.call(&["BZPOPMIN", "z", "0"]),
        "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(r.call(&["BZPOPMAX", "nokey", "0.05"]), "*-1\r\n");
    assert_eq!(r.call(&["BZMPOP", "0.05", "1", "nokey", "MIN"]), "*-1\r\n");
    let mut w = s.raw();
    r.cmd(&[
        b"BZMPOP", b"0", b"2", b"nokey", b"z2", b"MAX", b"COUNT", b"3",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(w.call(&["ZADD", "z2", "5", "x"]), ":1\r\n");
    assert_eq!(
        r.read_reply(),
        b"*2\r\n$2\r\nz2\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n5\r\n"
    );
    assert_eq!(
        r.call(&["BZPOPMIN", "z", "-1"]),
        "-ERR timeout is negative\r\n"
    );
}

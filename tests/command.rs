//! COMMAND INFO / DOCS / GETKEYS / GETKEYSANDFLAGS: the exact bytes Redis
//! 7.0.15 answers (cluster clients route by these key specs, redis-cli
//! and IDEs read the argument docs).

mod common;
use common::Server;

#[test]
fn getkeysandflags_follow_the_key_specs() {
    let s = Server::start();
    let mut r = s.raw();
    let flags = |r: &mut common::Raw, args: &[&str]| {
        let mut a = vec!["COMMAND", "GETKEYSANDFLAGS"];
        a.extend_from_slice(args);
        r.call(&a)
    };
    assert_eq!(
        flags(&mut r, &["SET", "k1", "v1"]),
        "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        flags(&mut r, &["SET", "k1", "v1", "get"]),
        "*1\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"
    );
    assert_eq!(
        flags(&mut r, &["LMOVE", "a", "b", "LEFT", "RIGHT"]),
        "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n*2\r\n+RW\r\n+insert\r\n"
    );
    assert_eq!(
        flags(&mut r, &["SORT", "k1", "STORE", "k2"]),
        "*2\r\n*2\r\n$2\r\nk1\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$2\r\nk2\r\n*2\r\n+OW\r\n+update\r\n"
    );
    assert_eq!(
        flags(&mut r, &["BITFIELD", "k", "GET", "u8", "0"]),
        "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n"
    );
    // A keynum spec: EVAL's key count.
    assert_eq!(
        flags(&mut r, &["EVAL", "s", "2", "a", "b", "c"]),
        "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+update\r\n*2\r\n$1\r\nb\r\n*3\r\n+RW\r\n+access\r\n+update\r\n"
    );
    assert_eq!(flags(&mut r, &["EVAL", "s", "0"]), "*0\r\n");
    // A keyword spec with a limit: XREAD's STREAMS keys are half the rest.
    assert_eq!(
        r.call(&["COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        r.call(&[
            "COMMAND",
            "GETKEYS",
            "GEORADIUS",
            "k",
            "1",
            "2",
            "3",
            "m",
            "STORE",
            "d"
        ]),
        "*2\r\n$1\r\nk\r\n$1\r\nd\r\n"
    );
    assert_eq!(
        r.call(&["COMMAND", "GETKEYS", "GET"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
    assert_eq!(
        r.call(&["COMMAND", "GETKEYS", "PING", "x"]),
        "-ERR The command has no key arguments\r\n"
    );
}

#[test]
fn info_reports_notes_tips_and_search_types() {
    let s = Server::start();
    let mut r = s.raw();
    let set = r.call(&["COMMAND", "INFO", "SET"]);
    assert!(
        set.contains("$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n"),
        "{set}"
    );
    let ping = r.call(&["COMMAND", "INFO", "PING"]);
    assert!(
        ping.contains(
            "*2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n"
        ),
        "{ping}"
    );
    let eval = r.call(&["COMMAND", "INFO", "EVAL"]);
    assert!(
        eval.contains("$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n"),
        "{eval}"
    );
    let usage = r.call(&["COMMAND", "INFO", "MEMORY|USAGE"]);
    assert!(usage.contains("*2\r\n+@read\r\n+@slow\r\n"), "{usage}");
}

#[test]
fn docs_carry_the_argument_tree() {
    let s = Server::start();
    let mut r = s.raw();
    let get = r.call(&["COMMAND", "DOCS", "GET"]);
    assert_eq!(
        get,
        "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
    );
    // Tokens are upper-cased, MIGRATE's empty-key token is empty, and
    // deprecated commands say so.
    let geodist = r.call(&["COMMAND", "DOCS", "GEODIST"]);
    assert!(geodist.contains("$5\r\ntoken\r\n$2\r\nKM\r\n"), "{geodist}");
    let migrate = r.call(&["COMMAND", "DOCS", "MIGRATE"]);
    assert!(
        migrate.contains(
            "$12\r\nempty_string\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$0\r\n\r\n"
        ),
        "{migrate}"
    );
    let georadius = r.call(&["COMMAND", "DOCS", "GEORADIUS"]);
    assert!(
        georadius.contains("$9\r\ndoc_flags\r\n*1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n$11\r\nreplaced_by\r\n"),
        "{georadius}"
    );
}

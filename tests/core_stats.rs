//! Core behaviours checked against Redis 7.0's exact replies: command-line
//! option parsing, latency tracking, error statistics, maxmemory, plain
//! list nodes, SWAPDB wake-ups and the flag-set configs.

mod common;
use common::Server;

fn run_fail(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

#[test]
fn command_line_errors_name_the_option_as_redis() {
    let e = run_fail(&["--port", "--loglevel", "verbose"]);
    assert!(
        e.contains("'port \"--loglevel\" \"verbose\"'\nwrong number of arguments"),
        "{e}"
    );
    let e = run_fail(&["--port", "6379", "6380"]);
    assert!(e.contains("'port \"6379\" \"6380\"'"), "{e}");
    let e = run_fail(&["--port", "--bla", "--loglevel", "verbose"]);
    assert!(
        e.contains("'port \"--bla\"'\nargument couldn't be parsed into an integer"),
        "{e}"
    );
    let e = run_fail(&["--shutdown-on-sigint"]);
    assert!(
        e.contains("'shutdown-on-sigint'\nargument(s) must be one of the following"),
        "{e}"
    );
    let e = run_fail(&["--replicaof", "127.0.0.1", "abc"]);
    assert!(e.contains("Invalid master port"), "{e}");
}

#[test]
fn command_line_values_may_start_with_dashes() {
    let s = Server::start_with(&[
        "--proc-title-template",
        "--my--title",
        "--save",
        "--loglevel",
        "verbose",
    ]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["CONFIG", "GET", "proc-title-template"]),
        "*2\r\n$19\r\nproc-title-template\r\n$11\r\n--my--title\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "GET", "loglevel"]),
        "*2\r\n$8\r\nloglevel\r\n$7\r\nverbose\r\n"
    );
}

#[test]
fn flag_set_and_percentile_configs() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.call(&["CONFIG", "SET", "shutdown-on-sigterm", "nosave force now"]),
        "+OK\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "GET", "shutdown-on-sigterm"]),
        "*2\r\n$19\r\nshutdown-on-sigterm\r\n$16\r\nnosave now force\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "SET", "shutdown-on-sigterm", "save nosave"]),
        "-ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - shutdown options SAVE and NOSAVE can't be used simultaneously\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "SET", "maxmemory-clients", "200%"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100\r\n"
    );
    assert_eq!(
        r.call(&[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "0.0 50.0 99.90"
        ]),
        "+OK\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "GET", "latency-tracking-info-percentiles"]),
        "*2\r\n$33\r\nlatency-tracking-info-percentiles\r\n$9\r\n0 50 99.9\r\n"
    );
    assert_eq!(
        r.call(&["CONFIG", "SET", "latency-tracking-info-percentiles", "10 101"]),
        "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]\r\n"
    );
}

fn info(r: &mut common::Raw, section: &str) -> String {
    r.call(&["INFO", section])
}

#[test]
fn latencystats_and_error_stats() {
    let s = Server::start();
    let mut r = s.raw();
    r.call(&[
        "CONFIG",
        "SET",
        "latency-tracking-info-percentiles",
        "50 99",
    ]);
    r.call(&["CONFIG", "RESETSTAT"]);
    r.call(&["SET", "a", "b"]);
    r.call(&["CLIENT", "ID"]);
    let l = info(&mut r, "latencystats");
    assert!(l.contains("latency_percentiles_usec_set:p50="), "{l}");
    assert!(l.contains(",p99="), "{l}");
    assert!(l.contains("latency_percentiles_usec_client|id:p50="), "{l}");
    r.call(&["CONFIG", "SET", "latency-tracking", "no"]);
    r.call(&["CONFIG", "RESETSTAT"]);
    r.call(&["GET", "a"]);
    assert!(!info(&mut r, "latencystats").contains("usec_get"));

    // An error inside EXEC counts for the command that failed, not EXEC.
    r.call(&["CONFIG", "RESETSTAT"]);
    r.call(&["MULTI"]);
    r.call(&["SET", "a", "b"]);
    r.call(&["AUTH", "a"]);
    assert!(r.call(&["EXEC"]).contains("-ERR AUTH"));
    let c = info(&mut r, "commandstats");
    let line = |name: &str| {
        c.lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or("")
            .to_string()
    };
    assert!(
        line("exec").ends_with("rejected_calls=0,failed_calls=0"),
        "{c}"
    );
    assert!(
        line("auth").ends_with("rejected_calls=0,failed_calls=1"),
        "{c}"
    );
    assert!(
        line("set").ends_with("rejected_calls=0,failed_calls=0"),
        "{c}"
    );

    // maxmemory with noeviction refuses writes, counted as rejected.
    r.call(&["CONFIG", "RESETSTAT"]);
    r.call(&["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(
        r.call(&["SET", "x", "y"]),
        "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    assert_eq!(r.call(&["GET", "a"]), "$1\r\nb\r\n");
    assert!(info(&mut r, "errorstats").contains("errorstat_OOM:count=1"));
    assert!(info(&mut r, "commandstats")
        .contains("cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"));
    // With an eviction policy, keys go instead.
    r.call(&["CONFIG", "SET", "maxmemory", "0"]);
    let mem = info(&mut r, "memory");
    let used: u64 = mem
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let limit = (used + (1 << 20)).to_string();
    r.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    r.call(&["CONFIG", "SET", "maxmemory", &limit]);
    let big = "v".repeat(1024);
    for i in 0..4000 {
        assert_eq!(r.call(&["SET", &format!("k{i}"), &big]), "+OK\r\n");
    }
    assert!(!info(&mut r, "stats").contains("evicted_keys:0\r\n"));
    r.call(&["CONFIG", "SET", "maxmemory", "0"]);
}

#[test]
fn plain_list_nodes_and_swapdb_wakeups() {
    let s = Server::start_with(&["--enable-debug-command", "yes"]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b"]),
        "+OK\r\n"
    );
    r.call(&["RPUSH", "l", "aa", "bb", "cc", "dd"]);
    assert_eq!(r.call(&["LSET", "l", "1", "xxxxxxxxxx"]), "+OK\r\n");
    assert_eq!(
        r.call(&["LINSERT", "l", "AFTER", "cc", "yyyyyyyy"]),
        ":5\r\n"
    );
    assert_eq!(r.call(&["LSET", "l", "1", "b"]), "+OK\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        "*5\r\n$2\r\naa\r\n$1\r\nb\r\n$2\r\ncc\r\n$8\r\nyyyyyyyy\r\n$2\r\ndd\r\n"
    );
    assert_eq!(
        r.call(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"]),
        "+OK\r\n"
    );
    assert_eq!(
        r.call(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"]),
        "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n"
    );
    assert_eq!(
        r.call(&["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "invalid", "STORE", "def"]),
        "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n"
    );

    // SWAPDB brings a key to a client blocked in the other db.
    r.call(&["SELECT", "1"]);
    r.call(&["RPUSH", "k", "hello"]);
    let mut b = s.raw();
    b.send(b"BRPOP k 5\r\n");
    while !info(&mut r, "clients").contains("blocked_clients:1") {
        std::thread::yield_now();
    }
    r.call(&["SWAPDB", "0", "1"]);
    assert_eq!(
        String::from_utf8(b.read_reply()).unwrap(),
        "*2\r\n$1\r\nk\r\n$5\r\nhello\r\n"
    );
}

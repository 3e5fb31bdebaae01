//! The append-only file: layout, restart, rewrite, torn and corrupt files,
//! turning it on at run time, crash safety, and files shared with Redis.
//! Servers that are killed or whose files are read while running use
//! `appendfsync always`: under `everysec` a write may wait behind a slow
//! background fsync, exactly as in Redis.
mod common;
use common::Server;
use std::process::Command;
use std::time::{Duration, Instant};

fn wait_rewrite(r: &mut common::Raw) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if r.info_field("aof_rewrite_in_progress") == "0"
            && r.info_field("aof_rewrite_scheduled") == "0"
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("AOF rewrite did not finish");
}

fn fill(r: &mut common::Raw) {
    assert_eq!(r.call(&["SET", "s", "hello"]), "+OK\r\n");
    assert_eq!(r.call(&["SET", "n", "12345"]), "+OK\r\n");
    assert_eq!(r.call(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
    assert_eq!(r.call(&["HSET", "h", "f", "v", "g", "w"]), ":2\r\n");
    assert_eq!(r.call(&["SADD", "si", "1", "2", "3"]), ":3\r\n");
    assert_eq!(r.call(&["SADD", "ss", "x", "y"]), ":2\r\n");
    assert_eq!(r.call(&["ZADD", "z", "1.5", "a", "2", "b"]), ":2\r\n");
    assert_eq!(r.call(&["SET", "e", "v", "EX", "1000"]), "+OK\r\n");
    assert_eq!(r.call(&["SELECT", "2"]), "+OK\r\n");
    assert_eq!(r.call(&["INCRBY", "c", "7"]), ":7\r\n");
    assert_eq!(r.call(&["SELECT", "0"]), "+OK\r\n");
}

fn manifest(d: &std::path::Path) -> String {
    std::fs::read_to_string(d.join("appendonlydir/appendonly.aof.manifest")).unwrap()
}

#[test]
fn aof_survives_restart_and_rewrite() {
    let d = common::temp_dir("aof-restart");
    let ds = d.to_str().unwrap();
    let digest;
    {
        let s = Server::start_with(&[
            "--dir",
            ds,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]);
        let mut r = s.raw();
        fill(&mut r);
        assert_eq!(
            manifest(&d),
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        let incr = std::fs::read(d.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
        // SELECT first, then the commands; relative expiries are absolute.
        assert!(
            incr.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n"),
            "{}",
            String::from_utf8_lossy(&incr)
        );
        assert!(
            String::from_utf8_lossy(&incr).contains("PXAT"),
            "{}",
            String::from_utf8_lossy(&incr)
        );
        assert_eq!(r.info_field("aof_enabled"), "1");
        assert_eq!(
            r.call(&["BGREWRITEAOF"]),
            "+Background append only file rewriting started\r\n"
        );
        wait_rewrite(&mut r);
        assert_eq!(r.info_field("aof_last_bgrewrite_status"), "ok");
        assert_eq!(
            manifest(&d),
            "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        // History files are gone.
        assert!(!d.join("appendonlydir/appendonly.aof.1.incr.aof").exists());
        assert_eq!(r.call(&["RPUSH", "l", "d"]), ":4\r\n");
        assert_eq!(r.call(&["DEL", "s"]), ":1\r\n");
        digest = r.call(&["DEBUG", "DIGEST"]);
    }
    let s = Server::start_with(&[
        "--dir",
        ds,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(r.call(&["LLEN", "l"]), ":4\r\n");
    assert_eq!(r.call(&["EXISTS", "s"]), ":0\r\n");
    let ttl = r.call(&["TTL", "e"]);
    assert!(ttl.starts_with(":99") || ttl == ":1000\r\n", "{ttl}");
    assert!(s.log().contains("DB loaded from append only file"));
    // DEBUG LOADAOF reloads the same data.
    assert_eq!(r.call(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
}

#[test]
fn aof_base_as_commands_without_preamble() {
    let d = common::temp_dir("aof-nopre");
    let ds = d.to_str().unwrap();
    let digest;
    {
        let s = Server::start_with(&[
            "--dir",
            ds,
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
        ]);
        let mut r = s.raw();
        fill(&mut r);
        r.call(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        ]);
        assert!(r.call(&["BGREWRITEAOF"]).starts_with('+'));
        wait_rewrite(&mut r);
        digest = r.call(&["DEBUG", "DIGEST"]);
    }
    assert!(manifest(&d).starts_with("file appendonly.aof.2.base.aof seq 2 type b\n"));
    let base = std::fs::read(d.join("appendonlydir/appendonly.aof.2.base.aof")).unwrap();
    assert!(base.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"));
    let text = String::from_utf8_lossy(&base);
    assert!(text.contains("RPUSH") && text.contains("PEXPIREAT") && text.contains("HMSET"));
    let s = Server::start_with(&[
        "--dir",
        ds,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(r.call(&["FCALL", "f", "0"]), ":1\r\n");
}

fn start_fails(d: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec![
        "--port",
        "0",
        "--dir",
        d.to_str().unwrap(),
        "--appendonly",
        "yes",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert_ne!(st.code(), Some(0));
            let mut out = String::new();
            use std::io::Read;
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return out;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("server started on a bad AOF");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn torn_tail_is_truncated_or_fatal() {
    let d = common::temp_dir("aof-torn");
    let ds = d.to_str().unwrap();
    {
        let s = Server::start_with(&[
            "--dir",
            ds,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]);
        let mut r = s.raw();
        fill(&mut r);
    }
    let incr = d.join("appendonlydir/appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).unwrap();
    let mut torn = good.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\nab");
    std::fs::write(&incr, &torn).unwrap();
    let log = start_fails(&d, &["--aof-load-truncated", "no"]);
    assert!(
        log.contains(
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );
    assert_eq!(std::fs::read(&incr).unwrap(), torn);
    // With aof-load-truncated (the default) the torn command is cut off.
    let s = Server::start_with(&[
        "--dir",
        ds,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut r = s.raw();
    assert_eq!(r.call(&["EXISTS", "x"]), ":0\r\n");
    assert_eq!(r.call(&["LLEN", "l"]), ":3\r\n");
    assert!(s
        .log()
        .contains("!!! Truncating the AOF appendonly.aof.1.incr.aof at offset"));
    drop(r);
    drop(s);
    assert_eq!(std::fs::read(&incr).unwrap(), good);

    // An unfinished MULTI/EXEC is reverted as a whole.
    let mut multi = good.clone();
    multi.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n1\r\n");
    std::fs::write(&incr, &multi).unwrap();
    let s = Server::start_with(&[
        "--dir",
        ds,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut r = s.raw();
    assert_eq!(r.call(&["EXISTS", "m"]), ":0\r\n");
    assert!(s.log().contains("Revert incomplete MULTI/EXEC transaction"));
}

#[test]
fn corrupt_aof_is_a_clear_fatal_error() {
    let d = common::temp_dir("aof-corrupt");
    let ds = d.to_str().unwrap();
    {
        let s = Server::start_with(&[
            "--dir",
            ds,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]);
        let mut r = s.raw();
        fill(&mut r);
    }
    let incr = d.join("appendonlydir/appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).unwrap();
    let mut bad = good[..40].to_vec();
    bad.extend_from_slice(b"!garbage\r\n");
    bad.extend_from_slice(&good[40..]);
    std::fs::write(&incr, &bad).unwrap();
    let log = start_fails(&d, &[]);
    assert!(
        log.contains("Bad file format reading the append only file"),
        "{log}"
    );

    let mut unknown = good.clone();
    unknown.extend_from_slice(b"*1\r\n$7\r\nNOSUCHC\r\n");
    std::fs::write(&incr, &unknown).unwrap();
    let log = start_fails(&d, &[]);
    assert!(
        log.contains("Unknown command 'NOSUCHC' reading the append only file"),
        "{log}"
    );

    // A file named by the manifest but missing.
    std::fs::remove_file(&incr).unwrap();
    let log = start_fails(&d, &[]);
    assert!(
        log.contains("appendonly.aof.1.incr.aof doesn't exist"),
        "{log}"
    );

    // A bad manifest.
    std::fs::write(
        d.join("appendonlydir/appendonly.aof.manifest"),
        "file x seq 1\n",
    )
    .unwrap();
    let log = start_fails(&d, &[]);
    assert!(
        log.contains("*** FATAL AOF MANIFEST FILE ERROR ***"),
        "{log}"
    );
    assert!(log.contains("Invalid AOF manifest file format"), "{log}");
}

#[test]
fn config_set_appendonly_at_run_time() {
    let d = common::temp_dir("aof-runtime");
    let ds = d.to_str().unwrap();
    let digest;
    {
        let s = Server::start_with(&["--dir", ds]);
        let mut r = s.raw();
        fill(&mut r);
        assert_eq!(r.info_field("aof_enabled"), "0");
        assert_eq!(r.call(&["CONFIG", "SET", "appendonly", "yes"]), "+OK\r\n");
        assert_eq!(r.call(&["SET", "during", "1"]), "+OK\r\n");
        wait_rewrite(&mut r);
        assert_eq!(r.info_field("aof_enabled"), "1");
        assert_eq!(r.call(&["SET", "after", "2"]), "+OK\r\n");
        digest = r.call(&["DEBUG", "DIGEST"]);
        assert_eq!(
            manifest(&d),
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        assert_eq!(r.call(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
        assert_eq!(r.info_field("aof_enabled"), "0");
        // Not in the AOF any more.
        assert_eq!(r.call(&["SET", "off", "3"]), "+OK\r\n");
    }
    let s = Server::start_with(&[
        "--dir",
        ds,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let mut r = s.raw();
    assert_eq!(r.call(&["EXISTS", "off"]), ":0\r\n");
    r.call(&["SET", "off", "3"]);
    r.call(&["DEL", "off"]);
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(r.call(&["GET", "during"]), "$1\r\n1\r\n");
}

#[test]
fn bgsave_and_bgrewriteaof_share_one_child() {
    let d = common::temp_dir("aof-child");
    let s = Server::start_with(&[
        "--dir",
        d.to_str().unwrap(),
        "--appendonly",
        "yes",
        "--rdb-key-save-delay",
        "100000",
    ]);
    let mut r = s.raw();
    for i in 0..20 {
        r.call(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(
        r.call(&["BGREWRITEAOF"]),
        "+Background append only file rewriting scheduled\r\n"
    );
    assert_eq!(r.info_field("aof_rewrite_scheduled"), "1");
}

fn redis_server() -> Option<&'static str> {
    let ok = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("redis-server not installed: skipping the Redis interop check");
        return None;
    }
    Some("redis-server")
}

fn start_redis(d: &std::path::Path, port: u16, extra: &[&str]) -> std::process::Child {
    let mut args = vec![
        "--port".to_string(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        d.to_str().unwrap().into(),
        "--save".into(),
        "".into(),
        "--appendonly".into(),
        "yes".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut child = Command::new("redis-server")
        .args(&args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server did not start");
}

fn snapshot(c: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    let q = |c: &mut redis::Connection, args: &[&str]| -> String {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        format!("{:?}", cmd.query::<redis::Value>(c).unwrap())
    };
    out.push(q(c, &["GET", "s"]));
    out.push(q(c, &["GET", "n"]));
    out.push(q(c, &["LRANGE", "l", "0", "-1"]));
    out.push(q(c, &["HGETALL", "h"]));
    out.push(q(c, &["SMEMBERS", "si"]));
    out.push(q(c, &["SCARD", "ss"]));
    out.push(q(c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]));
    out.push(q(c, &["GET", "e"]));
    out.push(q(c, &["EXPIRETIME", "e"]));
    out.push(q(c, &["DBSIZE"]));
    q(c, &["SELECT", "2"]);
    out.push(q(c, &["GET", "c"]));
    q(c, &["SELECT", "0"]);
    out
}

#[test]
fn aof_directories_move_between_ermine_and_redis() {
    if redis_server().is_none() {
        return;
    }
    for preamble in ["yes", "no"] {
        // Ermine writes, Redis reads.
        let d = common::temp_dir(&format!("aof-interop-{preamble}"));
        let ds = d.to_str().unwrap();
        let expect;
        {
            let s = Server::start_with(&[
                "--dir",
                ds,
                "--appendonly",
                "yes",
                "--aof-use-rdb-preamble",
                preamble,
                "--appendfsync",
                "always",
            ]);
            let mut r = s.raw();
            fill(&mut r);
            assert!(r.call(&["BGREWRITEAOF"]).starts_with('+'));
            wait_rewrite(&mut r);
            r.call(&["RPUSH", "l", "tail"]);
            expect = snapshot(&mut s.conn());
        }
        let port = common::free_port();
        let mut redis = start_redis(&d, port, &["--aof-use-rdb-preamble", preamble]);
        let cl = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = cl.get_connection().unwrap();
        assert_eq!(
            snapshot(&mut c),
            expect,
            "Redis reading Ermine's AOF (preamble {preamble})"
        );
        // Redis writes more and rewrites; Ermine reads it back.
        let _: () = redis::cmd("SADD").arg("ss").arg("z").query(&mut c).unwrap();
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let _: () = redis::cmd("SADD").arg("ss").arg("w").query(&mut c).unwrap();
        let expect = snapshot(&mut c);
        let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut c);
        let _ = redis.wait();
        let s = Server::start_with(&[
            "--dir",
            ds,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]);
        assert_eq!(
            snapshot(&mut s.conn()),
            expect,
            "Ermine reading Redis's AOF (preamble {preamble})"
        );
    }
}

mod common;
use common::Server;
use std::process::Command;

#[test]
fn save_restart_and_load_every_type() {
    let d = common::temp_dir("rdb");
    let ds = d.to_str().unwrap();
    {
        let s = Server::start_with(&["--dir", ds]);
        let mut r = s.raw();
        r.call(&["RPUSH", "l", "a", "b", "1"]);
        r.call(&["HSET", "h", "f", "v", "n", "12"]);
        r.call(&["SADD", "s", "1", "2", "3"]);
        r.call(&["SADD", "s2", "x", "y"]);
        r.call(&["ZADD", "z", "1.5", "a", "2", "b"]);
        r.call(&["SELECT", "3"]);
        r.call(&["RPUSH", "other", "v"]);
        assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
        let last = r.call(&["LASTSAVE"]);
        assert!(last.starts_with(':'));
    }
    let s = Server::start_with(&["--dir", ds]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\n1\r\n"
    );
    assert_eq!(r.call(&["HGET", "h", "n"]), "$2\r\n12\r\n");
    assert_eq!(r.call(&["SCARD", "s"]), ":3\r\n");
    assert_eq!(r.call(&["SISMEMBER", "s2", "y"]), ":1\r\n");
    assert_eq!(r.call(&["ZSCORE", "z", "a"]), "$3\r\n1.5\r\n");
    r.call(&["SELECT", "3"]);
    assert_eq!(r.call(&["LLEN", "other"]), ":1\r\n");
    assert!(s.log().contains("DB loaded from disk"));
}

#[test]
fn bgsave_forks_and_reports() {
    let d = common::temp_dir("bgsave");
    let s = Server::start_with(&["--dir", d.to_str().unwrap()]);
    let mut r = s.raw();
    r.call(&["RPUSH", "l", "a"]);
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    for _ in 0..100 {
        let info = r.call(&["INFO", "persistence"]);
        if info.contains("rdb_bgsave_in_progress:0") && info.contains("rdb_saves:1") {
            assert!(info.contains("rdb_last_bgsave_status:ok"));
            assert!(d.join("dump.rdb").exists());
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("BGSAVE did not finish");
}

#[test]
fn corrupt_or_truncated_rdb_is_a_clear_fatal_error() {
    let d = common::temp_dir("corrupt");
    {
        let s = Server::start_with(&["--dir", d.to_str().unwrap()]);
        let mut r = s.raw();
        r.call(&["RPUSH", "l", "a", "b", "c"]);
        r.call(&["HSET", "h", "f", "v"]);
        assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    }
    let path = d.join("dump.rdb");
    let good = std::fs::read(&path).unwrap();
    // Truncated file.
    std::fs::write(&path, &good[..good.len() - 12]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args(["--port", "0", "--dir", d.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Short read or OOM loading DB"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A flipped bit: the checksum catches it.
    let mut bad = good.clone();
    let i = bad.len() / 2;
    bad[i] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args(["--port", "0", "--dir", d.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("Wrong RDB checksum")
            || log.contains("Short read")
            || log.contains("integrity"),
        "{log}"
    );
}

#[test]
fn dump_restore_round_trip_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    r.call(&["RPUSH", "l", "a", "b"]);
    r.cmd(&[b"DUMP", b"l"]);
    let reply = r.read_reply();
    let start = reply.iter().position(|&c| c == b'\n').unwrap() + 1;
    let payload = reply[start..reply.len() - 2].to_vec();
    r.cmd(&[b"RESTORE", b"l", b"0", &payload]);
    assert_eq!(
        r.read_reply(),
        b"-BUSYKEY Target key name already exists.\r\n"
    );
    r.cmd(&[b"RESTORE", b"l2", b"0", &payload]);
    assert_eq!(r.read_reply(), b"+OK\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l2", "0", "-1"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    let mut bad = payload.clone();
    bad[1] ^= 0xff;
    r.cmd(&[b"RESTORE", b"l3", b"0", &bad]);
    assert_eq!(
        r.read_reply(),
        b"-ERR DUMP payload version or checksum are wrong\r\n"
    );
    assert_eq!(r.call(&["DUMP", "nokey"]), "$-1\r\n");
    r.cmd(&[b"RESTORE", b"l4", b"-5", &payload]);
    assert_eq!(r.read_reply(), b"-ERR Invalid TTL value, must be >= 0\r\n");
}

fn wait_child(r: &mut common::Raw) {
    for _ in 0..500 {
        if r.info_field("rdb_bgsave_in_progress") == "0"
            && r.info_field("aof_rewrite_in_progress") == "0"
            && r.info_field("aof_rewrite_scheduled") == "0"
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("background child did not finish");
}

/// Keys in every encoding Redis 7.0 writes, with their expected
/// OBJECT ENCODING.
fn fill_every_encoding(r: &mut common::Raw) -> Vec<(&'static str, &'static str)> {
    let long = "x".repeat(100);
    let many: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let nums: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    r.call(&["SET", "int", "12345"]);
    r.call(&["SET", "embstr", "hello"]);
    r.call(&["SET", "raw", &long]);
    r.call(&["SET", "lzf", &"abcd".repeat(50)]);
    r.call(&["SET", "ttl", "v", "PX", "100000000"]);
    r.call(&["RPUSH", "list-small", "a", "1", "-7"]);
    let mut big = vec!["RPUSH", "list-big"];
    big.extend(many.iter().map(String::as_str));
    big.extend(std::iter::repeat_n(long.as_str(), 40));
    r.call(&big);
    r.call(&["HSET", "hash-lp", "f", "v", "n", "12"]);
    r.call(&["HSET", "hash-ht", "f", &long]);
    r.call(&["SADD", "set-int", "1", "2", "-3"]);
    r.call(&["SADD", "set-ht", "x", "y"]);
    let mut sbig = vec!["SADD", "set-bigint"];
    sbig.extend(nums.iter().map(String::as_str));
    r.call(&sbig);
    r.call(&["ZADD", "zset-lp", "1.5", "a", "2", "b", "-inf", "c"]);
    let mut zbig = vec!["ZADD".to_string(), "zset-sl".to_string()];
    for (i, m) in many.iter().enumerate() {
        zbig.push(format!("{}.25", i));
        zbig.push(m.clone());
    }
    let zargs: Vec<&str> = zbig.iter().map(String::as_str).collect();
    r.call(&zargs);
    r.call(&["SELECT", "5"]);
    r.call(&["SET", "other-db", "1"]);
    r.call(&["SELECT", "0"]);
    vec![
        ("int", "int"),
        ("embstr", "embstr"),
        ("raw", "raw"),
        ("lzf", "raw"),
        ("list-small", "quicklist"),
        ("list-big", "quicklist"),
        ("hash-lp", "listpack"),
        ("hash-ht", "hashtable"),
        ("set-int", "intset"),
        ("set-ht", "hashtable"),
        ("set-bigint", "hashtable"),
        ("zset-lp", "listpack"),
        ("zset-sl", "skiplist"),
    ]
}

fn encodings(r: &mut common::Raw, keys: &[(&str, &str)]) {
    for (k, enc) in keys {
        assert_eq!(
            r.call(&["OBJECT", "ENCODING", k]),
            format!("${}\r\n{}\r\n", enc.len(), enc),
            "{k}"
        );
    }
}

/// SAVE, BGSAVE, DEBUG RELOAD and AOF rewrites (RDB preamble or
/// commands) all give back the same dataset: same DEBUG DIGEST, same
/// encodings, TTLs kept.
#[test]
fn every_type_and_encoding_round_trips_through_every_path() {
    let d = common::temp_dir("roundtrip");
    let ds = d.to_str().unwrap();
    let compress = [
        "--list-compress-depth",
        "1",
        "--list-max-listpack-size",
        "16",
    ];
    let mut args = vec!["--dir", ds, "--appendfsync", "always"];
    args.extend_from_slice(&compress);
    let s = Server::start_with(&args);
    let mut r = s.raw();
    let keys = fill_every_encoding(&mut r);
    let digest = r.call(&["DEBUG", "DIGEST"]);
    assert_ne!(digest, format!("+{}\r\n", "0".repeat(40)));
    encodings(&mut r, &keys);
    assert_eq!(r.call(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
    encodings(&mut r, &keys);
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    wait_child(&mut r);
    assert_eq!(r.info_field("rdb_last_bgsave_status"), "ok");
    assert_eq!(r.info_field("rdb_changes_since_last_save"), "0");
    drop(r);
    drop(s);
    // Restart on the BGSAVE file.
    let s = Server::start_with(&args);
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest);
    encodings(&mut r, &keys);
    assert!(r.call(&["PTTL", "ttl"]).starts_with(":9"));
    assert_eq!(r.info_field("rdb_last_load_keys_loaded"), "15");
    // The AOF, turned on at run time, with and without the preamble.
    for preamble in ["yes", "no"] {
        r.call(&["CONFIG", "SET", "aof-use-rdb-preamble", preamble]);
        r.call(&["CONFIG", "SET", "appendonly", "yes"]);
        wait_child(&mut r);
        assert!(r.call(&["BGREWRITEAOF"]).starts_with('+'));
        wait_child(&mut r);
        assert_eq!(r.call(&["DEBUG", "LOADAOF"]), "+OK\r\n");
        assert_eq!(r.call(&["DEBUG", "DIGEST"]), digest, "preamble {preamble}");
        encodings(&mut r, &keys);
        r.call(&["CONFIG", "SET", "appendonly", "no"]);
    }
}

/// While the dataset loads, clients are accepted and answered: INFO
/// shows the progress, other commands get -LOADING.
#[test]
fn clients_get_loading_while_the_dataset_loads() {
    let d = common::temp_dir("loading");
    let ds = d.to_str().unwrap();
    {
        let s = Server::start_with(&["--dir", ds]);
        let mut r = s.raw();
        assert_eq!(r.call(&["DEBUG", "POPULATE", "2000"]), "+OK\r\n");
        assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    }
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args(["--port", &port.to_string(), "--dir", ds, "--save", ""])
        .args([
            "--key-load-delay",
            "1000",
            "--loading-process-events-interval-bytes",
            "1024",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut conn = None;
    for _ in 0..500 {
        if let Ok(c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            conn = Some(c);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut r = common::Raw {
        s: conn.expect("no connection while loading"),
    };
    r.s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        r.call(&["GET", "key:1"]),
        "-LOADING Redis is loading the dataset in memory\r\n"
    );
    assert_eq!(r.info_field("loading"), "1");
    assert!(r.info_field("loading_loaded_bytes").parse::<u64>().unwrap() > 0);
    let _ = child.kill();
    let _ = child.wait();
}

/// A background save reports its progress and copy-on-write size.
#[test]
fn bgsave_reports_progress_and_copy_on_write() {
    let d = common::temp_dir("cow");
    let s = Server::start_with(&["--dir", d.to_str().unwrap()]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["DEBUG", "POPULATE", "2000", "key", "500"]),
        "+OK\r\n"
    );
    assert_eq!(r.info_field("current_save_keys_total"), "0");
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "1000"]);
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(r.info_field("current_save_keys_total"), "2000");
    let mut seen = 0u64;
    for _ in 0..300 {
        seen = r.info_field("current_save_keys_processed").parse().unwrap();
        if seen > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen > 0, "no progress reported");
    for i in 0..64 {
        r.call(&["SETRANGE", &format!("key:{i}"), "0", &"B".repeat(500)]);
    }
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    wait_child(&mut r);
    assert!(r.info_field("rdb_last_cow_size").parse::<u64>().unwrap() > 0);
    assert_eq!(r.info_field("current_cow_size"), "0");
    assert!(s.log().contains("Fork CoW for RDB: current"));
}

fn info_any(r: &mut common::Raw, section: &str, field: &str) -> String {
    let info = r.call(&["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn shutdown_arguments_and_failed_save() {
    let s = Server::start_with(&["--save", "900 1", "--enable-protected-configs", "yes"]);
    let mut r = s.raw();
    assert_eq!(
        r.call(&["SHUTDOWN", "ABORT"]),
        "-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(
        r.call(&["SHUTDOWN", "ABORT", "NOW"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["SHUTDOWN", "SAVE", "NOSAVE"]),
        "-ERR syntax error\r\n"
    );
    // The final save cannot be written: SHUTDOWN fails, the client stays
    // connected and the server keeps serving.
    let gone = s.dir.join("gone");
    std::fs::create_dir_all(&gone).unwrap();
    assert_eq!(
        r.call(&["CONFIG", "SET", "dir", gone.to_str().unwrap()]),
        "+OK\r\n"
    );
    std::fs::remove_dir(&gone).unwrap();
    r.call(&["SET", "k", "v"]);
    assert_eq!(
        r.call(&["SHUTDOWN"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(r.call(&["GET", "k"]), "$1\r\nv\r\n");
    assert!(s.log().contains("Errors trying to shut down the server"));
    r.cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    assert!(r.is_closed());
}

#[test]
fn shutdown_waits_for_a_lagging_replica_and_can_be_aborted() {
    let master = Server::start_with(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start();
    let mut m = master.raw();
    let mut rr = replica.raw();
    let port = master.port.to_string();
    assert_eq!(rr.call(&["REPLICAOF", "127.0.0.1", &port]), "+OK\r\n");
    wait_for("the link", || {
        info_any(&mut rr, "replication", "master_link_status") == "up"
    });
    m.call(&["SET", "k", "1"]);
    wait_for("the replica's ack", || {
        let off = info_any(&mut m, "replication", "master_repl_offset");
        m.call(&["INFO", "replication"])
            .contains(&format!("offset={off},"))
    });
    // SAFETY: stopping and resuming our own child process.
    unsafe { libc::kill(replica.child.id() as i32, libc::SIGSTOP) };
    m.call(&["INCR", "k"]);
    let mut waiting = master.raw();
    waiting.cmd(&[b"SHUTDOWN"]);
    wait_for("the shutdown to start", || {
        !info_any(&mut m, "server", "shutdown_in_milliseconds").is_empty()
    });
    assert_eq!(info_any(&mut m, "clients", "blocked_clients"), "1");
    assert_eq!(info_any(&mut m, "clients", "connected_clients"), "2");
    assert_eq!(m.call(&["SHUTDOWN", "ABORT"]), "+OK\r\n");
    assert_eq!(
        String::from_utf8(waiting.read_reply()).unwrap(),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    unsafe { libc::kill(replica.child.id() as i32, libc::SIGCONT) };
    assert!(info_any(&mut m, "server", "shutdown_in_milliseconds").is_empty());
    assert_eq!(m.call(&["INCR", "k"]), ":3\r\n");
    let log = master.log();
    assert!(
        log.contains("Waiting for replicas before shutting down."),
        "{log}"
    );
    assert!(log.contains("Shutdown manually aborted."), "{log}");
    // Now the replica is in sync: SHUTDOWN finishes at once.
    wait_for("the replica's ack", || {
        let off = info_any(&mut m, "replication", "master_repl_offset");
        m.call(&["INFO", "replication"])
            .contains(&format!("offset={off},"))
    });
    m.cmd(&[b"SHUTDOWN"]);
    assert!(m.is_closed());
    assert!(master
        .log()
        .contains("1 of 1 replicas are in sync when shutting down."));
}

#[test]
fn shutdown_abort_cancels_a_signal_and_a_second_sigint_exits_at_once() {
    let mut s = Server::start_with(&["--save", "900 1"]);
    let pid = s.child.id() as i32;
    let mut r = s.raw();
    // While cron is paused the SIGTERM is not acted upon: ABORT drops it.
    r.call(&["DEBUG", "PAUSE-CRON", "1"]);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(r.call(&["SHUTDOWN", "ABORT"]), "+OK\r\n");
    r.call(&["DEBUG", "PAUSE-CRON", "0"]);
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    assert!(s.log().contains("Shutdown manually aborted."));
    // A slow final save (20 keys x 100 ms) interrupted by a second SIGINT:
    // the server exits with an error and leaves no temp file behind.
    for i in 0..20 {
        r.call(&["SET", &i.to_string(), "v"]);
    }
    r.call(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    let temp = s.dir.join(format!("temp-{pid}.rdb"));
    unsafe { libc::kill(pid, libc::SIGINT) };
    wait_for("the final save to start", || temp.exists());
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(!temp.exists());
    assert!(!s.dir.join("dump.rdb").exists());
}

/// The BGSAVE child must not hold the listening socket: if it outlived a
/// SHUTDOWN it would accept connections for a server that is gone.
#[test]
fn bgsave_child_closes_the_listeners() {
    let d = common::temp_dir("bgchild");
    let s = Server::start_with(&["--dir", d.to_str().unwrap()]);
    let mut r = s.raw();
    for i in 0..20 {
        r.call(&["SET", &i.to_string(), "v"]);
    }
    // 20 keys at 100 ms each: the child lives for about 2 s.
    assert_eq!(
        r.call(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]),
        "+OK\r\n"
    );
    assert_eq!(r.call(&["BGSAVE"]), "+Background saving started\r\n");
    let parent = s.child.id().to_string();
    let mut child = None;
    for _ in 0..100 {
        child = std::fs::read_dir("/proc").unwrap().flatten().find_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // pid (comm) state ppid ...: the fields after the last ')'.
            let ppid = stat.rsplit(')').next()?.split_whitespace().nth(1)?;
            (ppid == parent).then(|| e.path())
        });
        if child.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let child = child.expect("no BGSAVE child found");
    let port = format!(":{:04X} ", s.port);
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let inode = tcp
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 9 && f[1].ends_with(port.trim_end()) && f[3] == "0A")
        .map(|f| format!("socket:[{}]", f[9]))
        .expect("listening socket not in /proc/net/tcp");
    let fds: Vec<String> = std::fs::read_dir(child.join("fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(!fds.is_empty(), "could not read the child's descriptors");
    assert!(
        !fds.contains(&inode),
        "the child holds the listener {}",
        inode
    );
    assert_eq!(
        r.call(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
}

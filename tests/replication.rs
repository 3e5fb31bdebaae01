//! Replication: Ermine masters and replicas with each other and with a
//! real Redis 7.0 in both directions.

mod common;

use std::time::{Duration, Instant};

use common::{have_tool, RealRedis, Server};

fn q(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
        .unwrap_or_else(|e| redis::Value::SimpleString(format!("ERR:{e}")))
}

/// A reply as text; arrays as `[a,b,...]`.
fn fmt(v: redis::Value) -> String {
    match v {
        redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        redis::Value::SimpleString(s) => s,
        redis::Value::Okay => "OK".into(),
        redis::Value::Int(n) => n.to_string(),
        redis::Value::Nil => "(nil)".into(),
        redis::Value::Array(a) => {
            let items: Vec<String> = a.into_iter().map(fmt).collect();
            format!("[{}]", items.join(","))
        }
        v => format!("{v:?}"),
    }
}

fn s(c: &mut redis::Connection, args: &[&str]) -> String {
    fmt(q(c, args))
}

/// An error reply's text, or "" when the command succeeded.
fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(c) {
        Ok(_) => String::new(),
        Err(e) => format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")),
    }
}

fn info_field(c: &mut redis::Connection, field: &str) -> String {
    let info = s(c, &["INFO", "replication"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .to_string()
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn wait_link_up(replica: &mut redis::Connection) {
    wait_until("master_link_status:up", || {
        info_field(replica, "master_link_status") == "up"
    });
}

fn wait_offsets(master: &mut redis::Connection, replica: &mut redis::Connection) {
    wait_until("equal replication offsets", || {
        info_field(master, "master_repl_offset") == info_field(replica, "master_repl_offset")
    });
}

/// A dataset with every type, an expiry and two databases.
fn populate(c: &mut redis::Connection) {
    q(c, &["SET", "str", "hello"]);
    q(c, &["SET", "num", "12345"]);
    q(c, &["RPUSH", "list", "a", "b", "c"]);
    q(c, &["HSET", "hash", "f1", "v1", "f2", "v2"]);
    q(c, &["SADD", "set", "x", "y", "z"]);
    q(c, &["SADD", "intset", "1", "2", "3"]);
    q(c, &["ZADD", "zset", "1", "one", "2.5", "two"]);
    q(c, &["SET", "ttl", "v", "EX", "1000"]);
    let big: Vec<String> = (0..300).map(|i| format!("member:{i}")).collect();
    let mut args = vec!["SADD", "bigset"];
    args.extend(big.iter().map(|s| s.as_str()));
    q(c, &args);
    q(c, &["SELECT", "3"]);
    q(c, &["SET", "in3", "three"]);
    q(c, &["SELECT", "0"]);
}

#[test]
fn ermine_master_and_replica() {
    let master = Server::start_with(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start();
    let mut m = master.conn();
    let mut r = replica.conn();
    populate(&mut m);
    assert_eq!(s(&mut m, &["ROLE"]), "[master,0,[]]");
    assert_eq!(
        s(
            &mut r,
            &["REPLICAOF", "127.0.0.1", &master.port.to_string()]
        ),
        "OK"
    );
    assert_eq!(info_field(&mut r, "role"), "slave");
    wait_link_up(&mut r);
    wait_offsets(&mut m, &mut r);
    assert_eq!(
        s(&mut r, &["DEBUG", "DIGEST"]),
        s(&mut m, &["DEBUG", "DIGEST"])
    );
    assert_eq!(s(&mut r, &["LRANGE", "list", "0", "-1"]), "[a,b,c]");
    let ttl: i64 = s(&mut r, &["TTL", "ttl"]).parse().unwrap();
    assert!(ttl > 990, "ttl {ttl}");

    // The stream: plain writes, another database, a transaction, expiry.
    q(&mut m, &["SET", "after", "1"]);
    q(&mut m, &["SELECT", "5"]);
    q(&mut m, &["INCRBY", "counter", "7"]);
    q(&mut m, &["SELECT", "0"]);
    q(&mut m, &["MULTI"]);
    q(&mut m, &["LPUSH", "list", "z"]);
    q(&mut m, &["HDEL", "hash", "f1"]);
    q(&mut m, &["EXEC"]);
    q(&mut m, &["SET", "short", "v", "PX", "50"]);
    assert_eq!(s(&mut m, &["WAIT", "1", "5000"]), "1");
    assert_eq!(s(&mut r, &["GET", "after"]), "1");
    q(&mut r, &["SELECT", "5"]);
    assert_eq!(s(&mut r, &["GET", "counter"]), "7");
    q(&mut r, &["SELECT", "0"]);
    assert_eq!(s(&mut r, &["LINDEX", "list", "0"]), "z");
    assert_eq!(s(&mut r, &["HGET", "hash", "f1"]), "(nil)");
    // The master expires the key and tells the replica with a DEL.
    wait_until("expired key gone on the replica", || {
        s(&mut r, &["EXISTS", "short"]) == "0"
    });
    wait_offsets(&mut m, &mut r);
    assert_eq!(
        s(&mut r, &["DEBUG", "DIGEST"]),
        s(&mut m, &["DEBUG", "DIGEST"])
    );

    // A read-only replica refuses writes, even inside MULTI.
    assert_eq!(
        err(&mut r, &["SET", "x", "1"]),
        "READONLY You can't write against a read only replica."
    );
    assert_eq!(
        err(&mut r, &["WAIT", "1", "0"]),
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."
    );

    // INFO and ROLE on both sides.
    let port = master.port.to_string();
    assert_eq!(info_field(&mut r, "master_host"), "127.0.0.1");
    assert_eq!(info_field(&mut r, "master_port"), port);
    assert_eq!(info_field(&mut r, "master_sync_in_progress"), "0");
    assert_eq!(info_field(&mut r, "slave_read_only"), "1");
    assert_eq!(
        info_field(&mut r, "master_replid"),
        info_field(&mut m, "master_replid")
    );
    assert_eq!(info_field(&mut m, "connected_slaves"), "1");
    let slave0 = info_field(&mut m, "slave0");
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            replica.port
        )),
        "{slave0}"
    );
    let off = info_field(&mut r, "slave_repl_offset");
    assert_eq!(
        s(&mut r, &["ROLE"]),
        format!("[slave,127.0.0.1,{},connected,{}]", master.port, off)
    );
    let moff = info_field(&mut m, "master_repl_offset");
    let role = s(&mut m, &["ROLE"]);
    let prefix = format!("[master,{moff},[[127.0.0.1,{},", replica.port);
    let acked: i64 = role
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix("]]]"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{role}"));
    assert!(acked > 0 && acked <= moff.parse().unwrap(), "{role}");

    // A dropped link resumes with a partial resync.
    let full_before = s(&mut m, &["INFO", "stats"]);
    assert!(full_before.contains("sync_full:1\r\n"), "{full_before}");
    q(&mut r, &["CLIENT", "KILL", "TYPE", "master"]);
    q(&mut m, &["SET", "during", "drop"]);
    wait_until("partial resync", || {
        s(&mut m, &["INFO", "stats"]).contains("sync_partial_ok:1\r\n")
    });
    wait_link_up(&mut r);
    assert_eq!(s(&mut m, &["WAIT", "1", "5000"]), "1");
    assert_eq!(s(&mut r, &["GET", "during"]), "drop");
    assert!(replica
        .log()
        .contains("Successful partial resynchronization with master."));
    assert!(master
        .log()
        .contains("Synchronization with replica 127.0.0.1:"));

    // Promoted, it keeps the data and accepts writes.
    assert_eq!(s(&mut r, &["REPLICAOF", "NO", "ONE"]), "OK");
    assert_eq!(info_field(&mut r, "role"), "master");
    assert_eq!(s(&mut r, &["SET", "x", "1"]), "OK");
    assert_eq!(
        info_field(&mut r, "master_replid2"),
        info_field(&mut m, "master_replid")
    );
}

/// What `attach_to_replication_stream` of Redis's test suite does: SYNC
/// on a raw socket, read the RDB bulk, then the command stream.
#[test]
fn sync_stream_is_byte_exact() {
    let master = Server::start_with(&["--repl-diskless-sync", "no"]);
    let mut m = master.conn();
    q(&mut m, &["SET", "before", "1"]);
    let mut raw = master.raw();
    raw.send(b"SYNC\r\n");
    // Newlines keep the link alive until the bulk count.
    let mut line = Vec::new();
    loop {
        let b = raw.read_n(1)[0];
        if line.is_empty() && b == b'\n' {
            continue;
        }
        line.push(b);
        if line.ends_with(b"\r\n") {
            break;
        }
    }
    assert_eq!(line[0], b'$', "{:?}", String::from_utf8_lossy(&line));
    let n: usize = String::from_utf8_lossy(&line[1..line.len() - 2])
        .parse()
        .unwrap();
    let rdb = raw.read_n(n);
    assert_eq!(&rdb[..9], b"REDIS0010");
    q(&mut m, &["SET", "foo", "bar"]);
    q(&mut m, &["SELECT", "2"]);
    q(&mut m, &["SET", "k", "v", "EX", "100"]);
    q(&mut m, &["DEL", "k"]);
    let want = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n";
    assert_eq!(
        String::from_utf8_lossy(&raw.read_n(want.len())),
        String::from_utf8_lossy(want)
    );
    // SET EX is propagated with an absolute time.
    let set = raw.read_reply();
    let set = String::from_utf8_lossy(&set);
    assert!(
        set.starts_with("*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n"),
        "{set}"
    );
    assert_eq!(raw.read_reply(), b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
    wait_until("replica online", || {
        info_field(&mut m, "slave0").starts_with("ip=127.0.0.1,port=0,state=online")
    });
}

#[test]
fn replication_command_errors() {
    let master = Server::start();
    let mut m = master.conn();
    assert_eq!(
        err(&mut m, &["REPLICAOF", "127.0.0.1", "notaport"]),
        "ERR Invalid master port"
    );
    assert_eq!(
        err(&mut m, &["REPLCONF", "foo", "bar"]),
        "ERR Unrecognized REPLCONF option: foo"
    );
    assert_eq!(
        err(&mut m, &["REPLCONF", "listening-port"]),
        "ERR syntax error"
    );
    assert_eq!(
        s(
            &mut m,
            &["REPLCONF", "listening-port", "1234", "capa", "eof"]
        ),
        "OK"
    );
    assert_eq!(
        err(&mut m, &["PSYNC", "?", "notanumber"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(s(&mut m, &["WAIT", "0", "0"]), "0");
    assert_eq!(s(&mut m, &["REPLICAOF", "NO", "ONE"]), "OK");
    // min-replicas-to-write without replicas refuses writes.
    q(&mut m, &["CONFIG", "SET", "min-replicas-to-write", "1"]);
    assert_eq!(
        err(&mut m, &["SET", "a", "1"]),
        "NOREPLICAS Not enough good replicas to write."
    );
    assert_eq!(s(&mut m, &["GET", "a"]), "(nil)");
    q(&mut m, &["CONFIG", "SET", "min-replicas-to-write", "0"]);
    assert_eq!(s(&mut m, &["SET", "a", "1"]), "OK");
    // A replica whose master is down and replica-serve-stale-data no.
    let dead = common::free_port().to_string();
    q(&mut m, &["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    assert_eq!(s(&mut m, &["REPLICAOF", "127.0.0.1", &dead]), "OK");
    assert_eq!(
        s(&mut m, &["REPLICAOF", "127.0.0.1", &dead]),
        "OK Already connected to specified master"
    );
    assert_eq!(
        err(&mut m, &["GET", "a"]),
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    );
    assert_eq!(info_field(&mut m, "master_link_status"), "down");
    q(
        &mut m,
        &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
    );
    assert_eq!(
        err(&mut m, &["SYNC"]),
        "NOMASTERLINK Can't SYNC while not connected with my master"
    );
}

#[test]
fn real_redis_replica_of_ermine() {
    if !have_tool("redis-server") {
        return;
    }
    let master = Server::start_with(&["--repl-diskless-sync", "no"]);
    let mut m = master.conn();
    populate(&mut m);
    let dir = master.dir.join("redis");
    std::fs::create_dir_all(&dir).unwrap();
    let redis = RealRedis::start(&dir);
    let mut r = redis.conn();
    q(
        &mut r,
        &["REPLICAOF", "127.0.0.1", &master.port.to_string()],
    );
    wait_link_up(&mut r);
    q(&mut m, &["HSET", "hash", "f3", "v3"]);
    q(&mut m, &["SELECT", "3"]);
    q(&mut m, &["DEL", "in3"]);
    assert_eq!(s(&mut m, &["WAIT", "1", "5000"]), "1");
    wait_offsets(&mut m, &mut r);
    assert_eq!(
        s(&mut r, &["DEBUG", "DIGEST"]),
        s(&mut m, &["DEBUG", "DIGEST"])
    );
    assert_eq!(s(&mut r, &["HGET", "hash", "f3"]), "v3");
    // Redis continues with a partial resync after a dropped link.
    q(&mut r, &["CLIENT", "KILL", "TYPE", "master"]);
    q(&mut m, &["SET", "later", "1"]);
    wait_until("partial resync", || {
        s(&mut m, &["INFO", "stats"]).contains("sync_partial_ok:1\r\n")
    });
    wait_offsets(&mut m, &mut r);
    q(&mut r, &["SELECT", "3"]);
    assert_eq!(s(&mut r, &["GET", "later"]), "1");
}

#[test]
fn ermine_replica_of_real_redis() {
    if !have_tool("redis-server") {
        return;
    }
    let replica = Server::start();
    let dir = replica.dir.join("redis");
    std::fs::create_dir_all(&dir).unwrap();
    let redis = RealRedis::start(&dir);
    let mut m = redis.conn();
    let mut r = replica.conn();
    q(&mut m, &["CONFIG", "SET", "repl-diskless-sync-delay", "0"]);
    populate(&mut m);
    q(&mut r, &["REPLICAOF", "127.0.0.1", &redis.port.to_string()]);
    wait_link_up(&mut r);
    wait_offsets(&mut m, &mut r);
    assert_eq!(
        s(&mut r, &["DEBUG", "DIGEST"]),
        s(&mut m, &["DEBUG", "DIGEST"])
    );
    q(&mut m, &["MULTI"]);
    q(&mut m, &["INCR", "num"]);
    q(&mut m, &["ZINCRBY", "zset", "1", "one"]);
    q(&mut m, &["EXEC"]);
    q(&mut m, &["SELECT", "4"]);
    q(&mut m, &["RPUSH", "l4", "x"]);
    assert_eq!(s(&mut m, &["WAIT", "1", "5000"]), "1");
    wait_offsets(&mut m, &mut r);
    assert_eq!(
        s(&mut r, &["DEBUG", "DIGEST"]),
        s(&mut m, &["DEBUG", "DIGEST"])
    );
    assert_eq!(s(&mut r, &["GET", "num"]), "12346");
    // Partial resync with Redis as the master.
    q(&mut r, &["CLIENT", "KILL", "TYPE", "master"]);
    q(&mut m, &["RPUSH", "l4", "y"]);
    wait_until("partial resync", || {
        s(&mut m, &["INFO", "stats"]).contains("sync_partial_ok:1\r\n")
    });
    wait_offsets(&mut m, &mut r);
    q(&mut r, &["SELECT", "4"]);
    assert_eq!(s(&mut r, &["LLEN", "l4"]), "2");
    assert!(replica
        .log()
        .contains("MASTER <-> REPLICA sync: Finished with success"));
}

//! Crash safety: kill -9 under a steady write load with appendfsync
//! always loses no acknowledged write; truncated or bit-flipped RDB and
//! AOF files are refused with a clear error and never load partially.
mod common;
use common::Server;
use std::process::Command;
use std::time::Duration;

const WRITERS: usize = 3;

/// Several clients push 1, 2, 3 ... to their own list as fast as the
/// server acknowledges; the server is killed with SIGKILL at a different
/// moment each round. After each restart every acknowledged element is
/// there, in order, with nothing invented.
#[test]
fn kill9_under_appendfsync_always_loses_no_acknowledged_write() {
    let d = common::temp_dir("crash-kill9");
    let ds = d.to_str().unwrap().to_string();
    let mut acked = [0i64; WRITERS];
    for round in 0..6u64 {
        let mut s = Server::start_with(&[
            "--dir",
            &ds,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ]);
        let mut writers = Vec::new();
        for (w, &ack) in acked.iter().enumerate() {
            let mut c = s.conn();
            let key = format!("log{w}");
            let len: i64 = redis::cmd("LLEN").arg(&key).query(&mut c).unwrap();
            assert!(
                len >= ack,
                "round {round}: {key} has {len} entries, {ack} acknowledged"
            );
            // Element i is always i + 1: a push applied but not
            // acknowledged before the kill is simply the next number.
            writers.push(std::thread::spawn(move || {
                let mut last = len;
                loop {
                    let r: redis::RedisResult<i64> =
                        redis::cmd("RPUSH").arg(&key).arg(last + 1).query(&mut c);
                    match r {
                        Ok(n) => {
                            assert_eq!(n, last + 1);
                            last = n;
                        }
                        Err(_) => return last,
                    }
                }
            }));
        }
        // A different moment each round, 40-300 ms into the load.
        std::thread::sleep(Duration::from_millis(40 + (round * 89) % 260));
        let _ = s.child.kill();
        let _ = s.child.wait();
        for (w, h) in writers.into_iter().enumerate() {
            let last = h.join().unwrap();
            assert!(
                last > acked[w],
                "round {round}: writer {w} made no progress"
            );
            acked[w] = last;
        }
    }
    let s = Server::start_with(&["--dir", &ds, "--appendonly", "yes"]);
    let mut c = s.conn();
    for (w, &ack) in acked.iter().enumerate() {
        let log: Vec<i64> = redis::cmd("LRANGE")
            .arg(format!("log{w}"))
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .unwrap();
        assert!(log.len() as i64 >= ack, "writer {w}: {} < {ack}", log.len());
        for (i, v) in log.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1, "writer {w}");
        }
    }
}

fn limits() -> ermine::persistence::rdb::BuildLimits {
    ermine::persistence::rdb::BuildLimits {
        hash: ermine::db::hash::Limits {
            entries: 128,
            value: 64,
        },
        zset: ermine::db::zset::Limits {
            entries: 128,
            value: 64,
        },
        intset: 512,
        list_fill: -2,
        deep: false,
        skip_checksum: false,
    }
}

/// Load `data` into fresh databases: Ok with the key count, or Err, and
/// then nothing may have been loaded.
fn load(data: &[u8]) -> Result<usize, String> {
    let mut dbs = vec![ermine::db::Db::new(0)];
    match ermine::persistence::rdb::load(data, &mut dbs, &limits(), 0) {
        Ok(l) => Ok(l.keys),
        Err(e) => {
            assert!(
                dbs.iter().all(|d| d.is_empty()),
                "partial load after: {}",
                e.0
            );
            Err(e.0)
        }
    }
}

/// Every type in every encoding, saved by the server.
fn saved_rdb(d: &std::path::Path) -> Vec<u8> {
    let s = Server::start_with(&["--dir", d.to_str().unwrap()]);
    let mut r = s.raw();
    r.call(&["SET", "s", "hello"]);
    r.call(&["SET", "n", "12345"]);
    r.call(&["SET", "big", &"x".repeat(300)]);
    r.call(&["RPUSH", "l", "a", "b", "1", "2"]);
    r.call(&["HSET", "h", "f", "v", "g", "w"]);
    r.call(&["SADD", "si", "1", "2", "3"]);
    r.call(&["SADD", "ss", "x", "y"]);
    r.call(&["ZADD", "z", "1.5", "a", "2", "b"]);
    r.call(&["SET", "e", "v", "PX", "100000000"]);
    // Values past the listpack limit (64 bytes) force the full encodings.
    let wide: Vec<String> = (0..3).map(|i| format!("{i}-{}", "m".repeat(70))).collect();
    let mut zadd = vec!["ZADD".to_string(), "zbig".to_string()];
    let mut hset = vec!["HSET".to_string(), "hbig".to_string()];
    let mut sadd = vec!["SADD".to_string(), "sbig".to_string()];
    for (i, m) in wide.iter().enumerate() {
        zadd.push(i.to_string());
        zadd.push(m.clone());
        hset.push(m.clone());
        hset.push(i.to_string());
        sadd.push(m.clone());
    }
    for cmd in [&zadd, &hset, &sadd] {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        r.call(&args);
    }
    assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    std::fs::read(d.join("dump.rdb")).unwrap()
}

fn start_refused(d: &std::path::Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args(["--port", "0", "--dir", d.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_ne!(out.status.code(), Some(0), "started on a bad file: {log}");
    assert!(!log.contains("Ready to accept connections"), "{log}");
    log
}

#[test]
fn truncated_or_bit_flipped_rdb_is_refused_and_never_loads_partially() {
    let d = common::temp_dir("crash-rdb");
    let good = saved_rdb(&d);
    assert_eq!(load(&good), Ok(12));
    // Every truncation point.
    for n in 0..good.len() {
        assert!(load(&good[..n]).is_err(), "loaded a file cut at {n}");
    }
    // A flipped bit in every byte (a different bit each time).
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 1 << (i % 8);
        assert!(load(&bad).is_err(), "loaded a file flipped at byte {i}");
    }
    // The server itself: a clear report of what is wrong and where.
    let path = d.join("dump.rdb");
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let log = start_refused(&d, &[]);
    assert!(log.contains("Short read or OOM loading DB"), "{log}");
    assert!(log.contains("--- RDB ERROR DETECTED ---"), "{log}");
    assert!(log.contains("Unexpected EOF reading RDB file"), "{log}");
    assert!(log.contains("[additional info] While doing:"), "{log}");
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x10;
    std::fs::write(&path, &bad).unwrap();
    let log = start_refused(&d, &[]);
    assert!(log.contains("--- RDB ERROR DETECTED ---"), "{log}");
    assert!(
        log.contains("Terminating server after rdb file reading failure."),
        "{log}"
    );
    // And the checker tool agrees with the server.
    let out = Command::new(env!("CARGO_BIN_EXE_ermine-check-rdb"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("--- RDB ERROR DETECTED ---"), "{report}");
    std::fs::write(&path, &good).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ermine-check-rdb"))
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("\\o/ RDB looks OK! \\o/"), "{report}");
    assert!(report.contains("[info] 12 keys read"), "{report}");
    assert!(report.contains("[info] 1 expires"), "{report}");
}

/// `RPUSH log 1` ... `RPUSH log n` as an AOF incremental file, with the
/// offset where each command starts.
fn aof_commands(n: usize) -> (Vec<u8>, Vec<usize>) {
    let mut data = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n".to_vec();
    let mut starts = Vec::new();
    for i in 1..=n {
        starts.push(data.len());
        let v = i.to_string();
        data.extend_from_slice(
            format!(
                "*3\r\n$5\r\nRPUSH\r\n$3\r\nlog\r\n${}\r\n{}\r\n",
                v.len(),
                v
            )
            .as_bytes(),
        );
    }
    (data, starts)
}

fn write_aof(d: &std::path::Path, data: &[u8]) {
    let a = d.join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    std::fs::write(a.join("appendonly.aof.1.incr.aof"), data).unwrap();
}

fn loaded_log(d: &std::path::Path) -> Vec<i64> {
    let s = Server::start_with(&["--dir", d.to_str().unwrap(), "--appendonly", "yes"]);
    let mut c = s.conn();
    redis::cmd("LRANGE")
        .arg("log")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap()
}

#[test]
fn truncated_or_corrupt_aof_is_refused_and_never_loads_partially() {
    let d = common::temp_dir("crash-aof");
    let (good, starts) = aof_commands(40);
    // A cut inside the last command: refused, or with aof-load-truncated
    // every complete command and nothing else.
    let cuts = [good.len() - 1, starts[39] + 5, starts[39] + 1];
    for &cut in &cuts {
        write_aof(&d, &good[..cut]);
        let log = start_refused(&d, &["--appendonly", "yes", "--aof-load-truncated", "no"]);
        assert!(
            log.contains("Unexpected end of file reading the append only file"),
            "{log}"
        );
        let log = loaded_log(&d);
        assert_eq!(log, (1..=39).collect::<Vec<i64>>(), "cut at {cut}");
    }
    // Corrupt framing in the middle (not a torn tail): always refused.
    let mid = starts[20];
    let flips = [
        (mid, b'!'),      // '*' of the array header
        (mid + 1, b'9'),  // its argument count
        (mid + 4, b'#'),  // '$' of the command name
        (mid + 5, b'4'),  // length of the command name
        (mid + 6, b'\n'), // CR of that line
        (mid + 14, b'x'), // CR after the command name
        (mid + 17, b'7'), // length of the key
    ];
    for (at, byte) in flips {
        let mut bad = good.clone();
        bad[at] = byte;
        write_aof(&d, &bad);
        let log = start_refused(&d, &["--appendonly", "yes", "--aof-load-truncated", "no"]);
        assert!(
            log.contains("Bad file format reading the append only file")
                || log.contains("Unexpected end of file reading the append only file")
                || log.contains("Unknown command"),
            "flip at {at}: {log}"
        );
    }
    // The checker finds the same and --fix cuts a torn tail back.
    write_aof(&d, &good[..good.len() - 3]);
    let manifest = d.join("appendonlydir/appendonly.aof.manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_ermine-check-aof"))
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!("ok_up_to={},", starts[39])),
        "{report}"
    );
    assert!(
        report.contains("is not valid. Use the --fix option"),
        "{report}"
    );
    let mut fix = Command::new(env!("CARGO_BIN_EXE_ermine-check-aof"))
        .arg("--fix")
        .arg(&manifest)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    fix.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let out = fix.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Successfully truncated AOF"));
    let incr = d.join("appendonlydir/appendonly.aof.1.incr.aof");
    assert_eq!(std::fs::read(&incr).unwrap(), &good[..starts[39]]);
    assert_eq!(loaded_log(&d), (1..=39).collect::<Vec<i64>>());
}

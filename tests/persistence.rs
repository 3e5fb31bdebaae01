mod common;
use common::Server;
use std::process::Command;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ermine-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn save_restart_and_load_every_type() {
    let d = dir("rdb");
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
    let d = dir("bgsave");
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
    let d = dir("corrupt");
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

//! LFU: OBJECT FREQ under LFU policies, RESTORE FREQ/IDLETIME, and the
//! frequency or idle time carried through an RDB file as Redis does.
mod common;
use common::Server;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ermine-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A key's DUMP payload (binary, so read through a real client).
fn dump(s: &Server, key: &str) -> Vec<u8> {
    let mut c = s.conn();
    redis::cmd("DUMP").arg(key).query(&mut c).unwrap()
}

#[test]
fn object_freq_needs_an_lfu_policy() {
    let s = Server::start();
    let mut r = s.raw();
    r.call(&["SET", "k", "v"]);
    assert_eq!(
        r.call(&["OBJECT", "FREQ", "k"]),
        "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
    );
    r.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    // A new key starts at Redis's LFU_INIT_VAL.
    r.call(&["SET", "n", "v"]);
    assert_eq!(r.call(&["OBJECT", "FREQ", "n"]), ":5\r\n");
    // With lfu-log-factor 0 every access counts.
    r.call(&["CONFIG", "SET", "lfu-log-factor", "0"]);
    for _ in 0..10 {
        r.call(&["GET", "n"]);
    }
    assert_eq!(r.call(&["OBJECT", "FREQ", "n"]), ":15\r\n");
    // An overwrite keeps the counter, as Redis's dbSetValue.
    r.call(&["SET", "n", "w"]);
    assert_eq!(r.call(&["OBJECT", "FREQ", "n"]), ":15\r\n");
    assert!(r
        .call(&["OBJECT", "IDLETIME", "n"])
        .starts_with("-ERR An LFU maxmemory policy is selected"));
}

#[test]
fn restore_freq_and_idletime() {
    let s = Server::start_with(&["--maxmemory-policy", "volatile-lfu"]);
    let mut r = s.raw();
    r.call(&["SET", "k", "v"]);
    let payload = dump(&s, "k");
    r.cmd(&[b"RESTORE", b"f", b"0", &payload, b"FREQ", b"100"]);
    assert_eq!(r.read_reply(), b"+OK\r\n");
    assert_eq!(r.call(&["OBJECT", "FREQ", "f"]), ":100\r\n");
    r.cmd(&[b"RESTORE", b"g", b"0", &payload, b"FREQ", b"256"]);
    assert_eq!(
        r.read_reply(),
        b"-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
    );
    // FREQ and IDLETIME exclude each other.
    r.cmd(&[
        b"RESTORE",
        b"g",
        b"0",
        &payload,
        b"FREQ",
        b"1",
        b"IDLETIME",
        b"1",
    ]);
    assert_eq!(r.read_reply(), b"-ERR syntax error\r\n");
    r.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    r.cmd(&[b"RESTORE", b"i", b"0", &payload, b"IDLETIME", b"1000"]);
    assert_eq!(r.read_reply(), b"+OK\r\n");
    let idle = r.call(&["OBJECT", "IDLETIME", "i"]);
    let idle: i64 = idle.trim_start_matches(':').trim().parse().unwrap();
    assert!((1000..1010).contains(&idle), "{idle}");
}

#[test]
fn rdb_carries_freq_and_idle() {
    let d = dir("lfu-rdb");
    let ds = d.to_str().unwrap();
    {
        let s = Server::start_with(&["--dir", ds, "--maxmemory-policy", "allkeys-lfu"]);
        let mut r = s.raw();
        r.call(&["SET", "k", "v"]);
        let payload = dump(&s, "k");
        r.cmd(&[b"RESTORE", b"f", b"0", &payload, b"FREQ", b"77"]);
        assert_eq!(r.read_reply(), b"+OK\r\n");
        assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    }
    {
        let s = Server::start_with(&["--dir", ds, "--maxmemory-policy", "allkeys-lfu"]);
        let mut r = s.raw();
        assert_eq!(r.call(&["OBJECT", "FREQ", "f"]), ":77\r\n");
        // 5 at creation, and DUMP's read counted (below 5 it always does).
        assert_eq!(r.call(&["OBJECT", "FREQ", "k"]), ":6\r\n");
        r.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
        let payload = dump(&s, "k");
        r.cmd(&[b"RESTORE", b"i", b"0", &payload, b"IDLETIME", b"5000"]);
        assert_eq!(r.read_reply(), b"+OK\r\n");
        assert_eq!(r.call(&["SAVE"]), "+OK\r\n");
    }
    let s = Server::start_with(&["--dir", ds, "--maxmemory-policy", "allkeys-lru"]);
    let mut r = s.raw();
    let idle = r.call(&["OBJECT", "IDLETIME", "i"]);
    let idle: i64 = idle.trim_start_matches(':').trim().parse().unwrap();
    assert!((5000..5010).contains(&idle), "{idle}");
    let _ = std::fs::remove_dir_all(&d);
}

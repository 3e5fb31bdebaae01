//! RDB and DUMP compatibility with Redis 7.0, checked against a real
//! `redis-server` when one is installed: the same commands run on both
//! servers must give byte-identical DUMP payloads, and each server must
//! load the other's dump.rdb to the same data (DEBUG DIGEST). Without
//! redis-server these differential tests print a note and return.
//! Also: rejection of corrupt payloads under sanitize-dump-payload.

mod common;
use common::{RealRedis, Server};
use redis::Value as V;
use std::path::{Path, PathBuf};

fn have_redis() -> bool {
    common::have_tool("redis-server")
}

fn real_redis(dir: &Path) -> RealRedis {
    RealRedis::start(dir)
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ermine-rdbcompat-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small deterministic generator (xorshift), so both servers get the
/// same commands and failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn run(c: &mut redis::Connection, args: &[String]) -> V {
    let mut cmd = redis::cmd(&args[0]);
    for a in &args[1..] {
        cmd.arg(a.as_bytes());
    }
    cmd.query(c).unwrap_or(V::Nil)
}

fn both(e: &mut redis::Connection, r: &mut redis::Connection, args: &[&str]) {
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let x = run(e, &a);
    let y = run(r, &a);
    assert_eq!(x, y, "different replies to {:?}", args);
}

fn dump(c: &mut redis::Connection, k: &str) -> Vec<u8> {
    let v: Option<Vec<u8>> = redis::cmd("DUMP").arg(k).query(c).unwrap();
    v.unwrap_or_else(|| panic!("no key {}", k))
}

fn digest(c: &mut redis::Connection) -> String {
    redis::cmd("DEBUG").arg("DIGEST").query(c).unwrap()
}

fn digest_value(c: &mut redis::Connection, k: &str) -> String {
    let v: Vec<String> = redis::cmd("DEBUG")
        .arg("DIGEST-VALUE")
        .arg(k)
        .query(c)
        .unwrap();
    v[0].clone()
}

fn config(c: &mut redis::Connection, k: &str, v: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(k)
        .arg(v)
        .query(c)
        .unwrap();
}

fn value(rng: &mut Rng, i: u64) -> String {
    match rng.below(6) {
        0 => i.to_string(),
        1 => "x".repeat(rng.below(100) as usize),
        2 => (rng.below(2_000_000_000_000) as i64 - 1_000_000_000_000).to_string(),
        3 => format!("item{}", i),
        4 => (rng.below(300) as i64 - 150).to_string(),
        _ => format!("{}", rng.next()),
    }
}

/// Build the same lists on both servers with pushes at both ends,
/// LINSERTs that split and merge nodes, LSET, LREM, LTRIM and pops.
fn list_workload(
    e: &mut redis::Connection,
    r: &mut redis::Connection,
    rng: &mut Rng,
    key: &str,
    n: u64,
) {
    for i in 0..n {
        let v = value(rng, i);
        let cmd = if rng.below(2) == 0 { "RPUSH" } else { "LPUSH" };
        both(e, r, &[cmd, key, &v]);
    }
    for i in 0..n / 10 {
        let len: i64 = redis::cmd("LLEN").arg(key).query(e).unwrap();
        let idx = rng.below(len as u64).to_string();
        let pivot: Vec<u8> = redis::cmd("LINDEX").arg(key).arg(&idx).query(e).unwrap();
        let pivot = String::from_utf8(pivot).unwrap();
        let pos = if rng.below(2) == 0 { "BEFORE" } else { "AFTER" };
        let v = format!("ins{}{}", i, "y".repeat(rng.below(60) as usize));
        both(e, r, &["LINSERT", key, pos, &pivot, &v]);
    }
    for i in 0..20 {
        let idx = rng.below(n / 2).to_string();
        both(e, r, &["LSET", key, &idx, &format!("set{}", i)]);
    }
    both(e, r, &["LREM", key, "3", "ins5"]);
    both(e, r, &["LREM", key, "-2", ""]);
    both(e, r, &["LTRIM", key, "5", "-7"]);
    for _ in 0..10 {
        both(e, r, &["LPOP", key]);
        both(e, r, &["RPOP", key]);
    }
}

fn assert_same_dump(
    e: &mut redis::Connection,
    r: &mut redis::Connection,
    keys: &[&str],
    what: &str,
) {
    for k in keys {
        let a = dump(e, k);
        let b = dump(r, k);
        assert!(
            a == b,
            "{}: DUMP of {} differs\nermine: {:?}\nredis:  {:?}",
            what,
            k,
            a,
            b
        );
    }
}

#[test]
fn dump_payloads_are_byte_identical_to_redis() {
    if !have_redis() {
        return;
    }
    let es = Server::start();
    let d = tmpdir("dump");
    let rs = real_redis(&d);
    let mut e = es.conn();
    let mut r = rs.conn();
    let mut rng = Rng(0x9E3779B97F4A7C15);

    // Lists: every fill factor kind, with and without node compression.
    for fill in ["-2", "-1", "-5", "5", "1", "128"] {
        for depth in ["0", "1", "2"] {
            both(&mut e, &mut r, &["FLUSHALL"]);
            for c in [&mut e, &mut r] {
                config(c, "list-max-listpack-size", fill);
                config(c, "list-compress-depth", depth);
            }
            list_workload(&mut e, &mut r, &mut rng, "l", 1500);
            assert_same_dump(
                &mut e,
                &mut r,
                &["l"],
                &format!("list fill {} depth {}", fill, depth),
            );
        }
    }
    for c in [&mut e, &mut r] {
        config(c, "list-max-listpack-size", "-2");
        config(c, "list-compress-depth", "0");
    }
    // Elements bigger than a node.
    both(&mut e, &mut r, &["FLUSHALL"]);
    for i in 0..20u64 {
        let v = "z".repeat(4000 + (rng.below(60000) as usize)) + &i.to_string();
        both(&mut e, &mut r, &["RPUSH", "big", &v]);
    }
    both(&mut e, &mut r, &["LPUSH", "big", "head"]);
    assert_same_dump(&mut e, &mut r, &["big"], "list of big elements");

    // Hashes in listpack encoding: insertion order, updates, deletes.
    both(&mut e, &mut r, &["FLUSHALL"]);
    for i in 0..120u64 {
        let f = format!("f{}", rng.below(60));
        let v = value(&mut rng, i).chars().take(64).collect::<String>();
        both(&mut e, &mut r, &["HSET", "h", &f, &v]);
        if i % 7 == 0 {
            let f = format!("f{}", rng.below(60));
            both(&mut e, &mut r, &["HDEL", "h", &f]);
        }
    }
    both(&mut e, &mut r, &["HINCRBY", "h", "counter", "-70000"]);
    both(&mut e, &mut r, &["HINCRBYFLOAT", "h", "float", "2.5"]);
    both(&mut e, &mut r, &["HSET", "h2", "a", "1"]);
    assert_same_dump(&mut e, &mut r, &["h", "h2"], "listpack hash");

    // Sorted sets: listpack scores (integers, doubles, infinities) and a
    // skiplist (written tail first).
    for i in 0..120u64 {
        let score = match rng.below(8) {
            0 => (rng.below(2000) as i64 - 1000).to_string(),
            1 => format!("{}", (rng.below(1_000_000) as f64) / 7.0),
            2 => "inf".into(),
            3 => "-inf".into(),
            4 => "-0".into(),
            5 => "4611686018427387904".into(),
            6 => "9007199254740993".into(),
            _ => "1e300".into(),
        };
        let m = format!("m{}", rng.below(150) + i % 2);
        both(&mut e, &mut r, &["ZADD", "z", &score, &m]);
    }
    both(&mut e, &mut r, &["ZINCRBY", "z", "0.25", "m3"]);
    for i in 0..300u64 {
        let score = format!("{}", (rng.below(2_000_000) as f64 - 1e6) / 3.0);
        both(
            &mut e,
            &mut r,
            &["ZADD", "zs", &score, &format!("member{}", i)],
        );
    }
    assert_same_dump(&mut e, &mut r, &["z", "zs"], "sorted sets");

    // Intsets of each width.
    let small: Vec<String> = (-100..100).map(|i: i32| i.to_string()).collect();
    let mut args = vec!["SADD", "s16"];
    args.extend(small.iter().map(|s| s.as_str()));
    both(&mut e, &mut r, &args);
    both(&mut e, &mut r, &["SADD", "s32", "1", "70000", "-5"]);
    both(&mut e, &mut r, &["SADD", "s64", "1", "1099511627776", "-3"]);
    assert_same_dump(&mut e, &mut r, &["s16", "s32", "s64"], "intsets");

    // Strings: integers, LZF-compressible and incompressible text.
    both(&mut e, &mut r, &["SET", "a", &"x".repeat(100)]);
    both(&mut e, &mut r, &["SET", "b", "12345"]);
    both(&mut e, &mut r, &["SET", "c", "1099511627776"]);
    both(&mut e, &mut r, &["SET", "d", &"abc".repeat(50)]);
    let noise: String = (0..300)
        .map(|_| (b'!' + rng.below(90) as u8) as char)
        .collect();
    both(&mut e, &mut r, &["SET", "n", &noise]);
    both(&mut e, &mut r, &["SET", "g", "-0"]);
    both(&mut e, &mut r, &["APPEND", "ap", "hello"]);
    assert_same_dump(
        &mut e,
        &mut r,
        &["a", "b", "c", "d", "n", "g", "ap"],
        "strings",
    );

    // Without rdbcompression.
    for c in [&mut e, &mut r] {
        config(c, "rdbcompression", "no");
    }
    let long = "v".repeat(30);
    let mut args = vec!["RPUSH", "lnc"];
    for _ in 0..400 {
        args.push(&long);
    }
    both(&mut e, &mut r, &args);
    assert_same_dump(&mut e, &mut r, &["a", "lnc", "h"], "rdbcompression no");

    // Redis's payloads restore into Ermine and dump back unchanged.
    for k in ["l", "big", "h", "z", "zs", "s16", "s64", "a", "n", "lnc"] {
        if let Ok(p) = redis::cmd("DUMP").arg(k).query::<Option<Vec<u8>>>(&mut r) {
            let Some(p) = p else { continue };
            let dst = format!("copy-{}", k);
            let _: () = redis::cmd("RESTORE")
                .arg(&dst)
                .arg(0)
                .arg(&p)
                .query(&mut e)
                .unwrap();
            assert_eq!(dump(&mut e, &dst), p, "RESTORE + DUMP round trip of {}", k);
            assert_eq!(digest_value(&mut e, &dst), digest_value(&mut r, k));
        }
    }
}

/// Fill a server with every type and encoding (same commands anywhere).
fn fill_dataset(c: &mut redis::Connection) {
    let mut rng = Rng(12345);
    let _: () = redis::cmd("FLUSHALL").query(c).unwrap();
    config(c, "list-compress-depth", "1");
    for i in 0..3000u64 {
        let v = value(&mut rng, i);
        let _: V = redis::cmd(if i % 3 == 0 { "LPUSH" } else { "RPUSH" })
            .arg("list")
            .arg(v)
            .query(c)
            .unwrap();
    }
    let _: V = redis::cmd("RPUSH")
        .arg("small")
        .arg("a")
        .arg("1")
        .query(c)
        .unwrap();
    let _: V = redis::cmd("HSET")
        .arg("hlp")
        .arg("f")
        .arg("v")
        .arg("n")
        .arg("-7")
        .query(c)
        .unwrap();
    for i in 0..600 {
        let _: V = redis::cmd("HSET")
            .arg("hht")
            .arg(format!("f{}", i))
            .arg(i)
            .query(c)
            .unwrap();
        let _: V = redis::cmd("SADD")
            .arg("sht")
            .arg(format!("m{}", i))
            .query(c)
            .unwrap();
        let _: V = redis::cmd("ZADD")
            .arg("zsl")
            .arg(i as f64 / 3.0)
            .arg(format!("m{}", i))
            .query(c)
            .unwrap();
    }
    let _: V = redis::cmd("SADD")
        .arg("sint")
        .arg(5)
        .arg(-70000)
        .arg(3)
        .query(c)
        .unwrap();
    let _: V = redis::cmd("ZADD")
        .arg("zlp")
        .arg(1.5)
        .arg("a")
        .arg(-2)
        .arg("b")
        .query(c)
        .unwrap();
    let _: V = redis::cmd("SET")
        .arg("str")
        .arg("x".repeat(500))
        .query(c)
        .unwrap();
    let _: V = redis::cmd("SET").arg("int").arg(42).query(c).unwrap();
    let _: V = redis::cmd("SET")
        .arg("ttl")
        .arg("v")
        .arg("PX")
        .arg(3_600_000)
        .query(c)
        .unwrap();
    let _: V = redis::cmd("SELECT").arg(5).query(c).unwrap();
    let _: V = redis::cmd("SET").arg("other").arg("db5").query(c).unwrap();
    let _: V = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

const KEYS: [&str; 12] = [
    "list", "small", "hlp", "hht", "sht", "zsl", "sint", "zlp", "str", "int", "ttl", "nokey",
];

#[test]
fn rdb_files_load_across_ermine_and_redis() {
    if !have_redis() {
        return;
    }
    // Ermine writes, Redis reads.
    let d1 = tmpdir("e2r");
    let (want, want_values, ermine_dumps) = {
        let es = Server::start_with(&["--dir", d1.to_str().unwrap()]);
        let mut e = es.conn();
        fill_dataset(&mut e);
        let _: () = redis::cmd("SAVE").query(&mut e).unwrap();
        let vals: Vec<String> = KEYS.iter().map(|k| digest_value(&mut e, k)).collect();
        let dumps: Vec<Vec<u8>> = ["list", "hlp", "zlp", "sint", "zsl"]
            .iter()
            .map(|k| dump(&mut e, k))
            .collect();
        (digest(&mut e), vals, dumps)
    };
    {
        let rs = real_redis(&d1);
        let mut r = rs.conn();
        assert_eq!(
            digest(&mut r),
            want,
            "Redis loaded Ermine's dump.rdb differently"
        );
        for (k, v) in KEYS.iter().zip(&want_values) {
            assert_eq!(&digest_value(&mut r, k), v, "key {}", k);
        }
        let enc: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg("hlp")
            .query(&mut r)
            .unwrap();
        assert_eq!(enc, "listpack");
        let enc: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg("sint")
            .query(&mut r)
            .unwrap();
        assert_eq!(enc, "intset");
        for (k, p) in ["list", "hlp", "zlp", "sint", "zsl"]
            .iter()
            .zip(&ermine_dumps)
        {
            assert_eq!(&dump(&mut r, k), p, "Redis re-dumps {} as Ermine did", k);
        }
        // Redis writes, Ermine reads.
        fill_dataset(&mut r);
        let _: () = redis::cmd("SAVE").query(&mut r).unwrap();
    }
    let rdump = d1.join("dump.rdb");
    let d2 = tmpdir("r2e");
    std::fs::copy(&rdump, d2.join("dump.rdb")).unwrap();
    let es = Server::start_with(&["--dir", d2.to_str().unwrap(), "--list-compress-depth", "1"]);
    let mut e = es.conn();
    assert_eq!(
        digest(&mut e),
        want,
        "Ermine loaded Redis's dump.rdb differently"
    );
    for (k, v) in KEYS.iter().zip(&want_values) {
        assert_eq!(&digest_value(&mut e, k), v, "key {}", k);
    }
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("zlp")
        .query(&mut e)
        .unwrap();
    assert_eq!(enc, "listpack");
    let ttl: i64 = redis::cmd("TTL").arg("ttl").query(&mut e).unwrap();
    assert!(ttl > 3500 && ttl <= 3600, "{}", ttl);
    let _: () = redis::cmd("SELECT").arg(5).query(&mut e).unwrap();
    let v: String = redis::cmd("GET").arg("other").query(&mut e).unwrap();
    assert_eq!(v, "db5");
}

// ---------------------------------------------------------------- corrupt payloads

fn restore(r: &mut common::Raw, key: &str, payload: &[u8]) -> String {
    r.cmd(&[b"RESTORE", key.as_bytes(), b"0", payload, b"REPLACE"]);
    String::from_utf8_lossy(&r.read_reply()).into_owned()
}

fn with_crc(body: &[u8]) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn stat(r: &mut common::Raw, field: &str) -> i64 {
    let info = r.call(&["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{}:", field)))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1)
}

#[test]
fn corrupt_payloads_are_refused() {
    let s = Server::start();
    let mut r = s.raw();
    // A hash listpack with a duplicate field ("a" twice).
    let dup_hash = b"\x10\x17\x17\x00\x00\x00\x04\x00\x82\x61\x00\x03\x82\x62\x00\x03\x82\x61\x00\x03\x82\x64\x00\x03\xff";
    r.call(&["CONFIG", "SET", "sanitize-dump-payload", "yes"]);
    assert_eq!(
        restore(&mut r, "h", &with_crc(dup_hash)),
        "-ERR Bad data format\r\n"
    );
    assert_eq!(stat(&mut r, "dump_payload_sanitizations"), 1);
    // Wrong checksum, then accepted once checksums are skipped.
    let mut bad = with_crc(b"\x00\x03abc");
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(
        restore(&mut r, "s", &bad),
        "-ERR DUMP payload version or checksum are wrong\r\n"
    );
    r.call(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    assert_eq!(restore(&mut r, "s", &bad), "+OK\r\n");
    r.call(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]);
    // A listpack whose header count is wrong: only deep checks see it.
    let mut lp = vec![0x0Cu8, 0, 0, 0, 3, 0, 0x81, b'a', 2, 0x01, 1, 0xFF];
    lp[0] = lp.len() as u8;
    let mut ql = vec![0x12u8, 0x01, 0x02, lp.len() as u8];
    ql.extend_from_slice(&lp);
    assert_eq!(
        restore(&mut r, "l", &with_crc(&ql)),
        "-ERR Bad data format\r\n"
    );
    r.call(&["CONFIG", "SET", "sanitize-dump-payload", "no"]);
    assert_eq!(restore(&mut r, "l", &with_crc(&ql)), "+OK\r\n");
    assert_eq!(
        r.call(&["LRANGE", "l", "0", "-1"]),
        "*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    // Entries running past the end are refused either way.
    let mut ql2 = ql.clone();
    let at = 4 + 6;
    ql2[at] = 0x85;
    assert_eq!(
        restore(&mut r, "l2", &with_crc(&ql2)),
        "-ERR Bad data format\r\n"
    );
    // Unsorted intset: accepted shallowly, refused deeply.
    let mut is = vec![0x0Bu8, 12];
    is.extend_from_slice(&2u32.to_le_bytes());
    is.extend_from_slice(&2u32.to_le_bytes());
    is.extend_from_slice(&5i16.to_le_bytes());
    is.extend_from_slice(&3i16.to_le_bytes());
    assert_eq!(restore(&mut r, "i", &with_crc(&is)), "+OK\r\n");
    assert_eq!(r.call(&["SMEMBERS", "i"]), "*2\r\n$1\r\n3\r\n$1\r\n5\r\n");
    r.call(&["CONFIG", "SET", "sanitize-dump-payload", "yes"]);
    assert_eq!(
        restore(&mut r, "i", &with_crc(&is)),
        "-ERR Bad data format\r\n"
    );
    // An empty list is refused.
    assert_eq!(
        restore(&mut r, "e", &with_crc(b"\x01\x00")),
        "-ERR Bad data format\r\n"
    );
    // Every single-byte corruption of real payloads is handled without
    // harm, with or without deep sanitization.
    r.call(&["RPUSH", "src-l", "a", "1", "hello", "-5000", "xyz"]);
    r.call(&["HSET", "src-h", "f", "1", "g", "two"]);
    r.call(&["ZADD", "src-z", "1", "a", "2.5", "b"]);
    r.call(&["SADD", "src-s", "1", "2", "300000"]);
    r.call(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    for mode in ["no", "yes"] {
        r.call(&["CONFIG", "SET", "sanitize-dump-payload", mode]);
        for k in ["src-l", "src-h", "src-z", "src-s"] {
            r.cmd(&[b"DUMP", k.as_bytes()]);
            let reply = r.read_reply();
            let start = reply.iter().position(|&b| b == b'\n').unwrap() + 1;
            let p = reply[start..reply.len() - 2].to_vec();
            for i in 0..p.len() - 10 {
                for x in [0x00u8, 0xFF, 0x7F, 0x80] {
                    let mut q = p.clone();
                    q[i] = x;
                    let rep = restore(&mut r, "fuzz", &q);
                    assert!(
                        rep == "+OK\r\n" || rep == "-ERR Bad data format\r\n",
                        "{}",
                        rep
                    );
                    r.call(&["DUMP", "fuzz"]);
                    r.call(&["DEL", "fuzz"]);
                }
            }
        }
    }
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
}

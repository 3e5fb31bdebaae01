//! Streams: exact replies and errors of the X commands, consumer groups,
//! blocking reads, what is propagated to the AOF, RDB round trips, and
//! DUMP payloads exchanged with a real Redis 7.0.
mod common;
use common::{have_tool, RealRedis, Server};
use std::time::Duration;

/// Commands written as one line of space-separated arguments.
trait Line {
    fn line(&mut self, cmd: &str) -> String;
}

impl Line for common::Raw {
    fn line(&mut self, cmd: &str) -> String {
        self.call(&cmd.split(' ').collect::<Vec<_>>())
    }
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

/// An entry as XRANGE replies it.
fn entry(id: &str, fv: &[&str]) -> String {
    let mut out = format!("*2\r\n{}*{}\r\n", bulk(id), fv.len());
    for x in fv {
        out += &bulk(x);
    }
    out
}

/// Send an XREADGROUP that waits forever for new entries of stream `s`
/// as consumer `c`, then give the server `ms` to block it.
fn block_on_group(client: &mut common::Raw, group: &str, ms: u64) {
    client.cmd(&[
        b"XREADGROUP",
        b"GROUP",
        group.as_bytes(),
        b"c",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]);
    std::thread::sleep(Duration::from_millis(ms));
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The payload of a bulk reply.
fn payload(reply: &[u8]) -> Vec<u8> {
    let nl = reply.iter().position(|&c| c == b'\r').unwrap();
    let n: usize = std::str::from_utf8(&reply[1..nl]).unwrap().parse().unwrap();
    reply[nl + 2..nl + 2 + n].to_vec()
}

/// DUMP of a stream made by Redis 7.0.15: entries 1-1, 3-0, 4-0 (2-0
/// deleted, so a tombstone), group "grp" with 1-1 pending for "alice"
/// and an empty consumer "bob".
const REDIS_DUMP: &str = "13011000000000000000010000000000000001404d4d0000001d000301010101018166020001020100010001817602040101010101dfff020201816602817702816702817802080102010201dfff02817902040102010301dfff02f13930030401ff03040001010200040103677270000081ffffffffffffffff010000000000000001000000000000000140420f0000000000030205616c6963653570e931a2010000010000000000000001000000000000000103626f626e71e931a2010000000a00c860946c8cfbe5ec";
/// DEBUG DIGEST-VALUE of that stream on Redis.
const REDIS_DIGEST: &str = "a48544b03579099361dfd575fd003bff766f6a3f";

#[test]
fn xadd_xrange_xdel_xtrim_replies_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.line("XADD s 1-1 a 1 b 2"), bulk("1-1"));
    assert_eq!(r.line("XADD s 1-* a 3 b 4"), bulk("1-2"));
    assert_eq!(r.line("XADD s 2 c 5"), bulk("2-0"));
    assert_eq!(r.line("TYPE s"), "+stream\r\n");
    assert_eq!(r.line("OBJECT ENCODING s"), bulk("stream"));
    assert_eq!(r.line("XLEN s"), ":3\r\n");
    assert_eq!(
        r.line("XRANGE s - +"),
        format!(
            "*3\r\n{}{}{}",
            entry("1-1", &["a", "1", "b", "2"]),
            entry("1-2", &["a", "3", "b", "4"]),
            entry("2-0", &["c", "5"])
        )
    );
    assert_eq!(
        r.line("XRANGE s (1-1 + COUNT 1"),
        format!("*1\r\n{}", entry("1-2", &["a", "3", "b", "4"]))
    );
    assert_eq!(
        r.line("XREVRANGE s + (1-1"),
        format!(
            "*2\r\n{}{}",
            entry("2-0", &["c", "5"]),
            entry("1-2", &["a", "3", "b", "4"])
        )
    );
    assert_eq!(r.line("XRANGE s 1 1"), {
        let a = entry("1-1", &["a", "1", "b", "2"]);
        let b = entry("1-2", &["a", "3", "b", "4"]);
        format!("*2\r\n{a}{b}")
    });
    assert_eq!(r.line("XRANGE s - + COUNT 0"), "*-1\r\n");
    assert_eq!(r.line("XRANGE nokey - +"), "*0\r\n");
    // Errors, with Redis's exact texts.
    assert_eq!(
        r.line("XADD s 0-1 x y"),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(
        r.line("XADD s 0-0 x y"),
        "-ERR The ID specified in XADD must be greater than 0-0\r\n"
    );
    assert_eq!(
        r.line("XADD s * x"),
        "-ERR wrong number of arguments for 'xadd' command\r\n"
    );
    assert_eq!(
        r.line("XADD s abc x y"),
        "-ERR Invalid stream ID specified as stream command argument\r\n"
    );
    assert_eq!(
        r.line("XADD s MAXLEN 1 MINID 1 * x y"),
        "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"
    );
    assert_eq!(
        r.line("XADD s MAXLEN 1 LIMIT 10 * x y"),
        "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"
    );
    assert_eq!(
        r.line("XADD s MAXLEN -1 * x y"),
        "-ERR The MAXLEN argument must be >= 0.\r\n"
    );
    assert_eq!(
        r.line("XTRIM s LIMIT 1"),
        "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"
    );
    assert_eq!(
        r.line("XRANGE s (18446744073709551615-18446744073709551615 +"),
        "-ERR invalid start ID for the interval\r\n"
    );
    assert_eq!(r.line("XADD t NOMKSTREAM * a b"), "$-1\r\n");
    assert_eq!(r.line("EXISTS t"), ":0\r\n");
    assert_eq!(r.line("SET str x"), "+OK\r\n");
    assert_eq!(
        r.line("XADD str * a b"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    // XDEL leaves a tombstone and moves the first ID.
    assert_eq!(r.line("XDEL s 1-1 9-9"), ":1\r\n");
    assert_eq!(r.line("XLEN s"), ":2\r\n");
    let info = r.line("XINFO STREAM s");
    assert!(
        info.contains(&format!("{}{}", bulk("max-deleted-entry-id"), bulk("1-1"))),
        "{info}"
    );
    assert!(
        info.contains(&format!(
            "{}{}",
            bulk("recorded-first-entry-id"),
            bulk("1-2")
        )),
        "{info}"
    );
    assert!(
        info.contains(&format!("{}:3\r\n", bulk("entries-added"))),
        "{info}"
    );
    // XSETID checks.
    assert_eq!(
        r.line("XSETID s 1-0"),
        "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n"
    );
    assert_eq!(r.line("XSETID s 5-0 ENTRIESADDED 10"), "+OK\r\n");
    assert_eq!(r.line("XSETID nokey 5-0"), "-ERR no such key\r\n");
    // Trimming: exact, then by ID.
    for i in 10..20 {
        r.call(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    assert_eq!(r.line("XTRIM s MAXLEN 5"), ":7\r\n");
    assert_eq!(r.line("XLEN s"), ":5\r\n");
    assert_eq!(r.line("XTRIM s MINID 17"), ":2\r\n");
    assert_eq!(
        r.line("XRANGE s - + COUNT 1"),
        format!("*1\r\n{}", entry("17-0", &["f", "v"]))
    );
    // An empty stream stays.
    assert_eq!(r.line("XTRIM s MAXLEN 0"), ":3\r\n");
    assert_eq!(r.line("EXISTS s"), ":1\r\n");
    assert_eq!(
        r.line("XADD s 19-0 x y"),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
}

#[test]
fn consumer_groups() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.line("XGROUP CREATE s g $"),
        "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"
    );
    assert_eq!(r.line("XGROUP CREATE s g $ MKSTREAM"), "+OK\r\n");
    assert_eq!(
        r.line("XGROUP CREATE s g $"),
        "-BUSYGROUP Consumer Group name already exists\r\n"
    );
    for i in 1..=4 {
        r.call(&["XADD", "s", &format!("{i}-0"), "f", &format!("v{i}")]);
    }
    assert_eq!(
        r.line("XREADGROUP GROUP g alice COUNT 2 STREAMS s >"),
        format!(
            "*1\r\n*2\r\n{}*2\r\n{}{}",
            bulk("s"),
            entry("1-0", &["f", "v1"]),
            entry("2-0", &["f", "v2"])
        )
    );
    // History of the consumer's own pending entries.
    assert_eq!(
        r.line("XREADGROUP GROUP g alice STREAMS s 1-0"),
        format!(
            "*1\r\n*2\r\n{}*1\r\n{}",
            bulk("s"),
            entry("2-0", &["f", "v2"])
        )
    );
    let summary = r.line("XPENDING s g");
    assert_eq!(
        summary,
        format!(
            "*4\r\n:2\r\n{}{}*1\r\n*2\r\n{}{}",
            bulk("1-0"),
            bulk("2-0"),
            bulk("alice"),
            bulk("2")
        )
    );
    assert_eq!(r.line("XACK s g 1-0 1-0 9-0"), ":1\r\n");
    assert_eq!(r.line("XACK s nogroup 1-0"), ":0\r\n");
    // XCLAIM to bob, JUSTID keeps the delivery count.
    assert_eq!(
        r.line("XCLAIM s g bob 0 2-0 JUSTID"),
        format!("*1\r\n{}", bulk("2-0"))
    );
    let ext = r.line("XPENDING s g - + 10 bob");
    assert!(
        ext.starts_with(&format!("*1\r\n*4\r\n{}{}:", bulk("2-0"), bulk("bob"))),
        "{ext}"
    );
    assert!(ext.ends_with(":2\r\n"), "{ext}");
    assert_eq!(
        r.line("XAUTOCLAIM s g carol 0 0 COUNT 10 JUSTID"),
        format!("*3\r\n{}*1\r\n{}*0\r\n", bulk("0-0"), bulk("2-0"))
    );
    assert_eq!(
        r.line("XAUTOCLAIM s g carol 0 0 COUNT 0"),
        "-ERR COUNT must be > 0\r\n"
    );
    assert_eq!(
        r.line("XCLAIM s g bob 0 2-0 BOGUS"),
        "-ERR Unrecognized XCLAIM option 'BOGUS'\r\n"
    );
    let groups = r.line("XINFO GROUPS s");
    assert!(
        groups.contains(&format!("{}:3\r\n", bulk("consumers"))),
        "{groups}"
    );
    assert!(
        groups.contains(&format!("{}{}", bulk("last-delivered-id"), bulk("2-0"))),
        "{groups}"
    );
    assert!(
        groups.contains(&format!(
            "{}:2\r\n{}:2\r\n",
            bulk("entries-read"),
            bulk("lag")
        )),
        "{groups}"
    );
    assert_eq!(r.line("XGROUP CREATECONSUMER s g dave"), ":1\r\n");
    assert_eq!(r.line("XGROUP CREATECONSUMER s g dave"), ":0\r\n");
    assert_eq!(r.line("XGROUP DELCONSUMER s g carol"), ":1\r\n");
    assert_eq!(
        r.line("XGROUP SETID s nog 0"),
        "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"
    );
    assert_eq!(
        r.line("XREADGROUP GROUP nog c STREAMS s >"),
        "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"
    );
    assert_eq!(
        r.line("XREAD STREAMS s >"),
        "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"
    );
    assert_eq!(
        r.line("XGROUP CREATE s g2 $ BOGUS"),
        "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"
    );
    assert_eq!(r.line("XGROUP DESTROY s g"), ":1\r\n");
    assert_eq!(r.line("XGROUP DESTROY s g"), ":0\r\n");
    assert_eq!(r.line("XINFO GROUPS s"), "*0\r\n");
    let help = r.line("XINFO HELP");
    assert!(
        help.starts_with(
            "*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ),
        "{help}"
    );
}

#[test]
fn blocking_reads() {
    let s = Server::start();
    let mut r = s.raw();
    let mut b = s.raw();
    r.line("XADD s 1-0 a 1");
    // XREAD $ waits for entries after the last ID as of the call.
    b.cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]);
    std::thread::sleep(Duration::from_millis(100));
    r.line("XADD s 2-0 a 2");
    let got = String::from_utf8_lossy(&b.read_reply()).into_owned();
    assert_eq!(
        got,
        format!(
            "*1\r\n*2\r\n{}*1\r\n{}",
            bulk("s"),
            entry("2-0", &["a", "2"])
        )
    );
    // A timeout answers a null array.
    assert_eq!(b.line("XREAD BLOCK 10 STREAMS s $"), "*-1\r\n");
    // XREADGROUP: served by XADD, failed when the key or group goes.
    r.line("XGROUP CREATE s g $");
    block_on_group(&mut b, "g", 100);
    r.line("XADD s 3-0 a 3");
    let got = String::from_utf8_lossy(&b.read_reply()).into_owned();
    assert_eq!(
        got,
        format!(
            "*1\r\n*2\r\n{}*1\r\n{}",
            bulk("s"),
            entry("3-0", &["a", "3"])
        )
    );
    block_on_group(&mut b, "g", 100);
    r.line("XGROUP DESTROY s g");
    assert_eq!(
        String::from_utf8_lossy(&b.read_reply()),
        "-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    );
    r.line("XGROUP CREATE s g $");
    block_on_group(&mut b, "g", 100);
    r.line("DEL s");
    assert_eq!(
        String::from_utf8_lossy(&b.read_reply()),
        "-UNBLOCKED the stream key no longer exists\r\n"
    );
    // Two consumers of a group and a plain reader: a new entry goes to the
    // first consumer and to the reader; the second consumer keeps waiting
    // until CLIENT UNBLOCK.
    r.line("XADD s 10-0 a 10");
    r.line("XGROUP CREATE s g2 $");
    let (mut c1, mut c2) = (s.raw(), s.raw());
    let c2id = c2.line("CLIENT ID");
    let c2id = c2id.trim_start_matches(':').trim_end();
    for c in [&mut c1, &mut c2] {
        block_on_group(c, "g2", 50);
    }
    b.cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]);
    std::thread::sleep(Duration::from_millis(100));
    r.line("XADD s 11-0 a 11");
    let want = format!(
        "*1\r\n*2\r\n{}*1\r\n{}",
        bulk("s"),
        entry("11-0", &["a", "11"])
    );
    assert_eq!(String::from_utf8_lossy(&c1.read_reply()), want);
    assert_eq!(String::from_utf8_lossy(&b.read_reply()), want);
    let clients = r.line("INFO clients");
    assert!(clients.contains("blocked_clients:1\r\n"), "{clients}");
    assert_eq!(r.call(&["CLIENT", "UNBLOCK", c2id]), ":1\r\n");
    assert_eq!(String::from_utf8_lossy(&c2.read_reply()), "*-1\r\n");
    assert_eq!(
        r.call(&[
            "EVAL",
            "return redis.pcall('xread','block','0','streams','s','0')",
            "0"
        ]),
        "-ERR xread command is not allowed with BLOCK option from scripts\r\n"
    );
}

#[test]
fn propagation_to_the_aof() {
    let s = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut r = s.raw();
    let id = r.line("XADD s * a 1");
    let id = id.lines().nth(1).unwrap().to_string();
    for i in 0..5 {
        r.call(&["XADD", "s", "MAXLEN", "~", "2", "*", "i", &i.to_string()]);
    }
    r.line("XGROUP CREATE s g 0");
    r.line("XREADGROUP GROUP g alice COUNT 1 STREAMS s >");
    r.line("XREADGROUP GROUP g bob NOACK COUNT 1 STREAMS s >");
    let aof =
        std::fs::read_to_string(s.dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    // XADD * is written with the ID it chose; "~" trimming as exact "=".
    assert!(
        aof.contains(&format!("$4\r\nXADD\r\n$1\r\ns\r\n{}", bulk(&id))),
        "{aof}"
    );
    assert!(aof.contains("$6\r\nMAXLEN\r\n$1\r\n=\r\n"), "{aof}");
    assert!(!aof.contains("$1\r\n*\r\n"), "{aof}");
    // XREADGROUP as the XCLAIM of what it delivered; NOACK as XGROUP SETID
    // and the consumer creation.
    assert!(!aof.contains("XREADGROUP"), "{aof}");
    assert!(
        aof.contains(&format!(
            "$6\r\nXCLAIM\r\n$1\r\ns\r\n$1\r\ng\r\n$5\r\nalice\r\n$1\r\n0\r\n{}",
            bulk(&id)
        )),
        "{aof}"
    );
    assert!(
        aof.contains(
            "$6\r\nXGROUP\r\n$14\r\nCREATECONSUMER\r\n$1\r\ns\r\n$1\r\ng\r\n$3\r\nbob\r\n"
        ),
        "{aof}"
    );
    assert!(aof.contains("$6\r\nXGROUP\r\n$5\r\nSETID\r\n"), "{aof}");
    // Loading the AOF rebuilds the same stream and group state (the
    // replayed XCLAIMs refresh the consumers' seen-time, as in Redis).
    let digest = r.line("DEBUG DIGEST-VALUE s");
    let info = r.line("XINFO STREAM s");
    let groups = r.line("XINFO GROUPS s");
    let pending = r.line("XPENDING s g - + 10");
    assert_eq!(r.line("DEBUG LOADAOF"), "+OK\r\n");
    assert_eq!(r.line("DEBUG DIGEST-VALUE s"), digest);
    assert_eq!(r.line("XINFO STREAM s"), info);
    assert_eq!(r.line("XINFO GROUPS s"), groups);
    let after = r.line("XPENDING s g - + 10");
    assert_eq!(
        after.split(':').next(),
        pending.split(':').next(),
        "{after}"
    );
}

#[test]
fn rdb_round_trip_and_redis_payloads() {
    let s = Server::start();
    let mut r = s.raw();
    // Several nodes, tombstones, a group with pending entries.
    assert_eq!(r.line("CONFIG SET stream-node-max-entries 4"), "+OK\r\n");
    for i in 1..=20 {
        let fields: &[&str] = if i % 3 == 0 {
            &["a", "x", "b", "y"]
        } else {
            &["a", "12345"]
        };
        let mut args = vec!["XADD", "s"];
        let id = format!("{i}-0");
        args.push(&id);
        args.extend_from_slice(fields);
        r.call(&args);
    }
    r.line("XDEL s 3-0 10-0");
    r.line("XGROUP CREATE s g 0");
    r.line("XREADGROUP GROUP g alice COUNT 5 STREAMS s >");
    let info = r.line("XINFO STREAM s");
    assert!(
        info.contains(&format!("{}:5\r\n", bulk("radix-tree-keys"))),
        "{info}"
    );
    let digest = r.line("DEBUG DIGEST-VALUE s");
    let full = r.line("XINFO STREAM s FULL");
    assert_eq!(r.line("DEBUG RELOAD"), "+OK\r\n");
    assert_eq!(r.line("DEBUG DIGEST-VALUE s"), digest);
    assert_eq!(r.line("XINFO STREAM s FULL"), full);
    // COPY duplicates the groups too.
    assert_eq!(r.line("COPY s s2"), ":1\r\n");
    assert_eq!(r.line("XINFO STREAM s2 FULL"), full);

    // A payload written by Redis 7.0.15: restored, and dumped back
    // byte for byte (the nodes are kept as Redis wrote them).
    let p = unhex(REDIS_DUMP);
    r.cmd(&[b"RESTORE", b"rs", b"0", &p]);
    assert_eq!(String::from_utf8_lossy(&r.read_reply()), "+OK\r\n");
    assert_eq!(
        r.line("DEBUG DIGEST-VALUE rs"),
        format!("*1\r\n+{REDIS_DIGEST}\r\n")
    );
    assert_eq!(
        r.line("XRANGE rs - +"),
        format!(
            "*3\r\n{}{}{}",
            entry("1-1", &["f", "v"]),
            entry("3-0", &["f", "y"]),
            entry("4-0", &["f", "12345"])
        )
    );
    let pend = r.line("XPENDING rs grp - + 10");
    assert!(
        pend.starts_with(&format!("*1\r\n*4\r\n{}{}", bulk("1-1"), bulk("alice"))),
        "{pend}"
    );
    assert!(pend.ends_with(":3\r\n"), "{pend}");
    r.cmd(&[b"DUMP", b"rs"]);
    assert_eq!(payload(&r.read_reply()), p);
    // A corrupt node is refused, whatever sanitize-dump-payload says.
    assert_eq!(r.line("DEBUG SET-SKIP-CHECKSUM-VALIDATION 1"), "+OK\r\n");
    let mut bad = p.clone();
    bad[40] ^= 0x40; // inside the listpack
    for sanitize in ["no", "yes"] {
        r.call(&["CONFIG", "SET", "sanitize-dump-payload", sanitize]);
        r.cmd(&[b"RESTORE", b"bad", b"0", &bad]);
        assert_eq!(
            String::from_utf8_lossy(&r.read_reply()),
            "-ERR Bad data format\r\n"
        );
    }
    assert_eq!(r.line("EXISTS bad"), ":0\r\n");

    // Ermine's DUMP restores in Redis with the same digest.
    if !have_tool("redis-server") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ermine-stream-redis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let real = RealRedis::start(&dir);
    let mut q = real.raw();
    r.cmd(&[b"DUMP", b"s"]);
    let ours = payload(&r.read_reply());
    q.cmd(&[b"RESTORE", b"s", b"0", &ours]);
    assert_eq!(String::from_utf8_lossy(&q.read_reply()), "+OK\r\n");
    assert_eq!(q.line("DEBUG DIGEST-VALUE s"), digest);
    assert_eq!(q.line("XINFO STREAM s FULL"), full);
    let _ = std::fs::remove_dir_all(&dir);
}

//! Client-side caching: CLIENT TRACKING and invalidation messages, checked
//! byte for byte against what Redis 7.0 sends.

mod common;
use common::{Raw, Server};

/// A RESP3 connection (HELLO 3 consumed).
fn resp3(s: &Server) -> Raw {
    let mut c = s.raw();
    let hello = c.call(&["HELLO", "3"]);
    assert!(hello.starts_with("%7\r\n"), "{hello}");
    c
}

fn client_id(c: &mut Raw) -> String {
    let r = c.call(&["CLIENT", "ID"]);
    r.trim_start_matches(':').trim_end().to_string()
}

fn push_invalidate(keys: &[&str]) -> String {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&format!("${}\r\n{}\r\n", k.len(), k));
    }
    s
}

fn pubsub_invalidate(keys: &[&str]) -> String {
    let mut s = format!(
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*{}\r\n",
        keys.len()
    );
    for k in keys {
        s.push_str(&format!("${}\r\n{}\r\n", k.len(), k));
    }
    s
}

fn read(c: &mut Raw) -> String {
    String::from_utf8_lossy(&c.read_reply()).into_owned()
}

/// Nothing is pending on a RESP3 connection: PING answers first.
fn assert_quiet(c: &mut Raw) {
    assert_eq!(c.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn invalidation_after_write_resp3() {
    let s = Server::start();
    let mut t = resp3(&s);
    let mut w = s.raw();
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(w.call(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(t.call(&["GET", "k"]), "$1\r\nv\r\n");
    // A key nobody read is not reported.
    assert_eq!(w.call(&["SET", "other", "1"]), "+OK\r\n");
    assert_eq!(w.call(&["APPEND", "k", "x"]), ":2\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["k"]));
    // The key left the table: a second write sends nothing.
    assert_eq!(w.call(&["SET", "k", "y"]), "+OK\r\n");
    assert_quiet(&mut t);

    // The client's own write: the invalidation follows the reply.
    assert_eq!(t.call(&["HGET", "h", "f"]), "_\r\n");
    assert_eq!(t.call(&["HSET", "h", "f", "1"]), ":1\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["h"]));

    // Inside MULTI/EXEC: after the whole EXEC reply.
    assert_eq!(t.call(&["MGET", "a", "b"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(t.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(t.call(&["INCR", "a"]), "+QUEUED\r\n");
    assert_eq!(t.call(&["SET", "b", "2"]), "+QUEUED\r\n");
    assert_eq!(t.call(&["EXEC"]), "*2\r\n:1\r\n+OK\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["a"]));
    assert_eq!(read(&mut t), push_invalidate(&["b"]));
    assert_quiet(&mut t);

    // Scripts: a script that reads makes its declared keys tracked; the
    // invalidation of a key it then writes follows the script's reply.
    assert_eq!(
        t.call(&[
            "EVAL",
            "redis.call('get', KEYS[1]) redis.call('set', KEYS[1], 'x') return 1",
            "1",
            "sk"
        ]),
        ":1\r\n"
    );
    assert_eq!(read(&mut t), push_invalidate(&["sk"]));
    // A script that only writes tracks nothing.
    assert_eq!(
        t.call(&["EVAL", "redis.call('set', 'zz', '1')", "1", "sk2"]),
        "_\r\n"
    );
    assert_eq!(w.call(&["SET", "sk2", "1"]), "+OK\r\n");
    assert_quiet(&mut t);
}

#[test]
fn bcast_with_prefixes_and_noloop() {
    let s = Server::start();
    let mut t = resp3(&s);
    let mut w = s.raw();
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:"]),
        "+OK\r\n"
    );
    assert_eq!(
        w.call(&["MSET", "a:2", "1", "a:1", "1", "b:1", "1", "c:1", "1"]),
        "+OK\r\n"
    );
    // One message per prefix, keys sorted, sent before the server sleeps.
    assert_eq!(read(&mut t), push_invalidate(&["a:1", "a:2"]));
    assert_eq!(read(&mut t), push_invalidate(&["b:1"]));
    assert_eq!(w.call(&["SET", "c:2", "1"]), "+OK\r\n");
    assert_quiet(&mut t);
    // Overlapping prefixes are refused.
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x"]),
        "-ERR Prefix 'a:x' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "q", "PREFIX", "qq"]),
        "-ERR Prefix 'q' overlaps with another provided prefix 'qq'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on"]),
        "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );

    // NOLOOP: keys this client changed itself are left out.
    assert_eq!(t.call(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"]),
        "+OK\r\n"
    );
    assert_eq!(t.call(&["SET", "mine", "1"]), "+OK\r\n");
    assert_quiet(&mut t);
    assert_eq!(w.call(&["SET", "theirs", "1"]), "+OK\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["theirs"]));
}

#[test]
fn noloop_default_mode() {
    let s = Server::start();
    let mut t = resp3(&s);
    let mut w = s.raw();
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on", "NOLOOP"]), "+OK\r\n");
    assert_eq!(t.call(&["MGET", "x", "y"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(t.call(&["SET", "x", "1"]), "+OK\r\n");
    assert_quiet(&mut t);
    assert_eq!(w.call(&["SET", "y", "1"]), "+OK\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["y"]));
}

#[test]
fn optin_and_optout() {
    let s = Server::start();
    let mut t = resp3(&s);
    let mut w = s.raw();
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on", "OPTIN"]), "+OK\r\n");
    assert_eq!(t.call(&["GET", "k1"]), "_\r\n");
    assert_eq!(t.call(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    assert_eq!(t.call(&["GET", "k2"]), "_\r\n");
    // CACHING covers only the next command.
    assert_eq!(t.call(&["GET", "k3"]), "_\r\n");
    assert_eq!(
        w.call(&["MSET", "k1", "1", "k2", "2", "k3", "3"]),
        "+OK\r\n"
    );
    assert_eq!(read(&mut t), push_invalidate(&["k2"]));
    assert_quiet(&mut t);
    assert_eq!(
        t.call(&["CLIENT", "CACHING", "no"]),
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "OPTOUT"]),
        "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );

    assert_eq!(t.call(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on", "OPTOUT"]), "+OK\r\n");
    assert_eq!(t.call(&["CLIENT", "CACHING", "no"]), "+OK\r\n");
    assert_eq!(t.call(&["GET", "k1"]), "$1\r\n1\r\n");
    assert_eq!(t.call(&["GET", "k2"]), "$1\r\n2\r\n");
    assert_eq!(w.call(&["MSET", "k1", "x", "k2", "y"]), "+OK\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["k2"]));
    assert_quiet(&mut t);

    assert_eq!(t.call(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(
        t.call(&["CLIENT", "CACHING", "yes"]),
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]),
        "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]),
        "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "PREFIX", "a"]),
        "-ERR PREFIX option requires BCAST mode to be enabled\r\n"
    );
}

#[test]
fn redirect_resp2_over_pubsub_and_flush() {
    let s = Server::start();
    let mut r = s.raw();
    let rid = client_id(&mut r);
    assert_eq!(
        r.call(&["SUBSCRIBE", "__redis__:invalidate"]),
        "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n"
    );
    let mut t = s.raw();
    let mut w = s.raw();
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "REDIRECT", "12345"]),
        "-ERR The client ID you want redirect to does not exist\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid, "REDIRECT", &rid]),
        "-ERR A client can only redirect to a single other client\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid]),
        "+OK\r\n"
    );
    assert_eq!(t.call(&["CLIENT", "GETREDIR"]), format!(":{rid}\r\n"));
    assert_eq!(t.call(&["GET", "key1"]), "$-1\r\n");
    assert_eq!(w.call(&["SET", "key1", "1"]), "+OK\r\n");
    assert_eq!(read(&mut r), pubsub_invalidate(&["key1"]));

    // A flush invalidates everything: a null in the tracking client's
    // protocol (RESP2 here).
    assert_eq!(w.call(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(
        read(&mut r),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );
    assert_eq!(w.call(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(
        read(&mut r),
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );

    // The redirection target goes away: a RESP3 client is told.
    assert!(t.call(&["HELLO", "3"]).starts_with("%"));
    assert_eq!(t.call(&["GET", "key2"]), "_\r\n");
    assert_eq!(r.call(&["QUIT"]), "+OK\r\n");
    assert!(r.is_closed());
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(w.call(&["SET", "key2", "1"]), "+OK\r\n");
    assert_eq!(
        read(&mut t),
        format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{rid}\r\n")
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKINGINFO"]),
        format!("%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{rid}\r\n$8\r\nprefixes\r\n*0\r\n")
    );
    let info = t.call(&["CLIENT", "INFO"]);
    assert!(info.contains(" flags=tR "), "{info}");
    assert!(info.contains(&format!(" redir={rid} ")), "{info}");
}

#[test]
fn flush_null_invalidation_resp3() {
    let s = Server::start();
    let mut t = resp3(&s);
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(t.call(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(t.call(&["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(t.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(t.call(&["FLUSHDB"]), "+QUEUED\r\n");
    assert_eq!(t.call(&["EXEC"]), "*1\r\n+OK\r\n");
    assert_eq!(read(&mut t), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
    assert_quiet(&mut t);
}

#[test]
fn trackinginfo_getredir_and_info() {
    let s = Server::start();
    let mut t = s.raw();
    let mut o = s.raw();
    assert_eq!(t.call(&["CLIENT", "GETREDIR"]), ":-1\r\n");
    assert_eq!(
        t.call(&["CLIENT", "TRACKINGINFO"]),
        "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP"]),
        "+OK\r\n"
    );
    assert_eq!(t.call(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    assert_eq!(
        t.call(&["CLIENT", "TRACKINGINFO"]),
        "*6\r\n$5\r\nflags\r\n*4\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n"
    );
    assert_eq!(t.call(&["CLIENT", "GETREDIR"]), ":0\r\n");
    assert_eq!(t.call(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "foo", "PREFIX", "bar"]),
        "+OK\r\n"
    );
    assert_eq!(
        t.call(&["CLIENT", "TRACKINGINFO"]),
        "*6\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$3\r\nbar\r\n$3\r\nfoo\r\n"
    );
    assert!(t.call(&["HELLO", "3"]).starts_with("%"));
    assert_eq!(
        t.call(&["CLIENT", "TRACKINGINFO"]),
        "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$3\r\nbar\r\n$3\r\nfoo\r\n"
    );
    let info = t.call(&["CLIENT", "INFO"]);
    assert!(info.contains(" flags=tB "), "{info}");
    assert!(info.contains(" redir=0 "), "{info}");

    // A second tracking client that read two keys.
    assert_eq!(o.call(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(
        o.call(&["MGET", "k1", "k2", "k1"]),
        "*3\r\n$-1\r\n$-1\r\n$-1\r\n"
    );
    let info = o.call(&["INFO"]);
    for line in [
        "tracking_clients:2\r\n",
        "tracking_total_keys:2\r\n",
        "tracking_total_items:2\r\n",
        "tracking_total_prefixes:2\r\n",
    ] {
        assert!(info.contains(line), "missing {line:?}");
    }
    assert_eq!(t.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(o.call(&["SET", "k1", "x"]), "+OK\r\n");
    let info = o.call(&["INFO"]);
    for line in [
        "tracking_clients:1\r\n",
        "tracking_total_keys:1\r\n",
        "tracking_total_items:1\r\n",
        "tracking_total_prefixes:0\r\n",
    ] {
        assert!(info.contains(line), "missing {line:?}");
    }
    let list = o.call(&["CLIENT", "LIST"]);
    assert!(list.contains(" flags=N db=0"), "{list}");
    assert!(list.contains(" redir=-1 "), "{list}");
}

#[test]
fn table_limit_evicts_keys() {
    let s = Server::start();
    let mut t = resp3(&s);
    let mut a = s.raw();
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(t.call(&["MGET", "k1", "k2", "k3"]), "*3\r\n_\r\n_\r\n_\r\n");
    assert_eq!(
        a.call(&["CONFIG", "SET", "tracking-table-max-keys", "1"]),
        "+OK\r\n"
    );
    // Two keys are forgotten (each reported), in cron or before the next
    // command; one stays.
    let mut got = Vec::new();
    for _ in 0..2 {
        let m = read(&mut t);
        assert!(
            m.starts_with(">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk"),
            "{m}"
        );
        got.push(m);
    }
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 2);
    let info = a.call(&["INFO", "stats"]);
    assert!(info.contains("tracking_total_keys:1\r\n"), "{info}");
}

#[test]
fn expired_keys_invalidate() {
    let s = Server::start();
    let mut t = resp3(&s);
    let mut w = s.raw();
    assert_eq!(t.call(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    // Lazy expiry while reading: the invalidation follows the reply.
    assert_eq!(w.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    assert_eq!(w.call(&["SET", "e", "1", "PX", "50"]), "+OK\r\n");
    assert_eq!(t.call(&["GET", "e"]), "$1\r\n1\r\n");
    std::thread::sleep(std::time::Duration::from_millis(80));
    assert_eq!(t.call(&["GET", "e"]), "_\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["e"]));
    // Active expiry, in BCAST mode.
    assert_eq!(w.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
    assert_eq!(t.call(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(
        t.call(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x"]),
        "+OK\r\n"
    );
    assert_eq!(w.call(&["SET", "xe", "1", "PX", "20"]), "+OK\r\n");
    assert_eq!(read(&mut t), push_invalidate(&["xe"]));
    assert_eq!(read(&mut t), push_invalidate(&["xe"]));
}

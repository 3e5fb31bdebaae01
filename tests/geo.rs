mod common;
use common::{have_tool, RealRedis, Server};

fn sicily(r: &mut common::Raw) {
    assert_eq!(
        r.line("geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania"),
        ":2\r\n"
    );
}

/// Commands written as one line of space-separated arguments.
trait Line {
    fn line(&mut self, cmd: &str) -> String;
}

impl Line for common::Raw {
    fn line(&mut self, cmd: &str) -> String {
        self.call(&cmd.split(' ').collect::<Vec<_>>())
    }
}

/// A server holding the Sicily geo set, and a connection to it.
fn with_sicily() -> (Server, common::Raw) {
    let s = Server::start();
    let mut r = s.raw();
    sicily(&mut r);
    (s, r)
}

/// GEORADIUS Sicily 15 37 200 km <extra...>
fn near(r: &mut common::Raw, extra: &[&str]) -> String {
    let mut a = vec!["georadius", "Sicily", "15", "37", "200", "km"];
    a.extend_from_slice(extra);
    r.call(&a)
}

#[test]
fn geoadd_stores_geohash_scores_in_a_zset() {
    let (_s, mut r) = with_sicily();
    assert_eq!(r.call(&["type", "Sicily"]), "+zset\r\n");
    assert_eq!(
        r.call(&["zrange", "Sicily", "0", "-1", "withscores"]),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    // Options: NX, XX, CH, in any order and repeated.
    assert_eq!(
        r.line("geoadd Sicily ch 13.361389 38.115556 Palermo 15 37 Catania"),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "xx", "ch", "1", "1", "Palermo", "2", "2", "new"]),
        ":1\r\n"
    );
    assert_eq!(r.call(&["zscore", "Sicily", "new"]), "$-1\r\n");
    assert_eq!(
        r.call(&["geoadd", "Sicily", "nx", "nx", "3", "3", "Palermo", "2", "2", "new"]),
        ":1\r\n"
    );
    assert_eq!(r.call(&["zcard", "Sicily"]), ":3\r\n");
    // Errors.
    assert_eq!(
        r.call(&["geoadd", "Sicily", "nx", "xx", "1", "1", "a"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "1", "1", "a", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "ch", "ch", "ch"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "1", "1"]),
        "-ERR wrong number of arguments for 'geoadd' command\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "200", "100", "a"]),
        "-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "1", "85.05112879", "a"]),
        "-ERR invalid longitude,latitude pair 1.000000,85.051129\r\n"
    );
    assert_eq!(
        r.call(&["geoadd", "Sicily", "gt", "1", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    // The limits themselves are valid (the top edge decodes clamped).
    assert_eq!(
        r.line("geoadd edge -180 -85.05112878 sw 180 85.05112878 ne"),
        ":2\r\n"
    );
    assert_eq!(
        r.call(&["geopos", "edge", "sw", "ne"]),
        "*2\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n"
    );
    r.call(&["set", "str", "x"]);
    let wrong = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    assert_eq!(r.call(&["geoadd", "str", "1", "1", "a"]), wrong);
    assert_eq!(r.call(&["geopos", "str", "a"]), wrong);
    assert_eq!(r.call(&["geohash", "str", "a"]), wrong);
    assert_eq!(r.call(&["geodist", "str", "a", "b"]), wrong);
    assert_eq!(r.line("geosearch str fromlonlat 1 1 byradius 1 m"), wrong);
}

#[test]
fn geopos_geohash_geodist() {
    let (_s, mut r) = with_sicily();
    assert_eq!(
        r.call(&["geopos", "Sicily", "Palermo", "nope"]),
        "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
    );
    assert_eq!(r.call(&["geopos", "nokey", "a"]), "*1\r\n*-1\r\n");
    assert_eq!(
        r.call(&["geohash", "Sicily", "Palermo", "Catania", "nope"]),
        "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"
    );
    assert_eq!(r.call(&["geohash", "Sicily"]), "*0\r\n");
    assert_eq!(
        r.call(&["geodist", "Sicily", "Palermo", "Catania"]),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(
        r.call(&["geodist", "Sicily", "Palermo", "Catania", "KM"]),
        "$8\r\n166.2742\r\n"
    );
    assert_eq!(
        r.call(&["geodist", "Sicily", "Palermo", "Catania", "mi"]),
        "$8\r\n103.3182\r\n"
    );
    assert_eq!(
        r.call(&["geodist", "Sicily", "Palermo", "Palermo", "ft"]),
        "$6\r\n0.0000\r\n"
    );
    assert_eq!(r.call(&["geodist", "Sicily", "Palermo", "nope"]), "$-1\r\n");
    assert_eq!(r.call(&["geodist", "nokey", "a", "b"]), "$-1\r\n");
    assert_eq!(
        r.call(&["geodist", "Sicily", "Palermo", "Catania", "yd"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        r.call(&["geodist", "Sicily", "Palermo", "Catania", "km", "x"]),
        "-ERR syntax error\r\n"
    );
    // RESP3: coordinates are doubles, distances stay bulk strings.
    r.call(&["hello", "3"]);
    assert_eq!(
        r.call(&["geopos", "Sicily", "Catania", "nope"]),
        "*2\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n_\r\n"
    );
    assert_eq!(r.call(&["geohash", "Sicily", "nope"]), "*1\r\n_\r\n");
    assert_eq!(r.call(&["geodist", "Sicily", "a", "b"]), "_\r\n");
}

#[test]
fn searches_and_their_options() {
    let (_s, mut r) = with_sicily();
    assert_eq!(
        near(&mut r, &["withdist", "withcoord", "withhash", "asc"]),
        "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n\
*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"
    );
    assert_eq!(
        near(&mut r, &["desc", "count", "1"]),
        "*1\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        r.call(&["georadiusbymember_ro", "Sicily", "Palermo", "100", "km"]),
        "*1\r\n$7\r\nPalermo\r\n"
    );
    assert_eq!(
        r.line("geosearch Sicily frommember Palermo bybox 400 400 km withdist asc"),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"
    );
    assert_eq!(
        r.line("geosearch Sicily fromlonlat 15 37 byradius 1 m"),
        "*0\r\n"
    );
    assert_eq!(
        r.line("geosearch nokey frommember x byradius 1 m"),
        "*0\r\n"
    );
    // Errors, in Redis's order of checks.
    let cases: &[(&[&str], &str)] = &[
        (
            &["georadius", "Sicily", "15", "37", "200", "km", "any"],
            "-ERR the ANY argument requires COUNT argument\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "37", "200", "km", "count", "0"],
            "-ERR COUNT must be > 0\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "37", "200", "km", "count", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "37", "200", "km", "count"],
            "-ERR syntax error\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "37", "-1", "km"],
            "-ERR radius cannot be negative\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "37", "x", "km"],
            "-ERR need numeric radius\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "95", "1", "km"],
            "-ERR invalid longitude,latitude pair 15.000000,95.000000\r\n",
        ),
        (
            &["georadius", "Sicily", "15", "37", "200", "km", "store", "d", "withdist"],
            "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n",
        ),
        (
            &["georadius_ro", "Sicily", "15", "37", "200", "km", "store", "d"],
            "-ERR syntax error\r\n",
        ),
        (
            &["georadiusbymember", "Sicily", "nope", "1", "km"],
            "-ERR could not decode requested zset member\r\n",
        ),
        (
            &["geosearch", "Sicily", "fromlonlat", "15", "37", "frommember", "Palermo", "bybox", "1", "1", "km"],
            "-ERR syntax error\r\n",
        ),
        (
            &["GeoSearch", "Sicily", "bybox", "1", "1", "km", "asc"],
            "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch\r\n",
        ),
        (
            &["geosearch", "Sicily", "fromlonlat", "15", "37", "count", "2"],
            "-ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch\r\n",
        ),
        (
            &["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "-1", "1", "km"],
            "-ERR height or width cannot be negative\r\n",
        ),
        (
            &["geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "1", "x", "km"],
            "-ERR need numeric height\r\n",
        ),
        (
            &["geosearch", "Sicily", "fromlonlat", "15", "37", "byradius", "1", "km", "storedist"],
            "-ERR syntax error\r\n",
        ),
        (
            &["geosearchstore", "d", "Sicily", "fromlonlat", "15", "37", "byradius", "1", "km", "withhash"],
            "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n",
        ),
        (
            &["geosearch", "Sicily", "fromlonlat", "15", "37", "byradius", "1", "parsec"],
            "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n",
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(r.call(cmd), *want, "{cmd:?}");
    }
}

#[test]
fn store_variants_write_zsets_and_notify() {
    let s = Server::start();
    let mut r = s.raw();
    let mut sub = s.raw();
    r.call(&["config", "set", "notify-keyspace-events", "KEA"]);
    sub.call(&["psubscribe", "__keyevent@0__:*"]);
    sicily(&mut r);
    assert_eq!(near(&mut r, &["store", "d1"]), ":2\r\n");
    assert_eq!(
        r.call(&["zrange", "d1", "0", "-1", "withscores"]),
        "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
    );
    assert_eq!(
        r.line("geosearchstore d2 Sicily fromlonlat 15 37 byradius 200 km storedist count 1"),
        ":1\r\n"
    );
    assert_eq!(
        r.call(&["zrange", "d2", "0", "-1", "withscores"]),
        "*2\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n"
    );
    // Nothing found, or no source: the destination is deleted.
    assert_eq!(
        r.line("georadiusbymember nokey x 1 km storedist d1"),
        ":0\r\n"
    );
    assert_eq!(r.call(&["exists", "d1"]), ":0\r\n");
    assert_eq!(
        r.line("geosearchstore d2 Sicily fromlonlat 0 0 byradius 1 m"),
        ":0\r\n"
    );
    assert_eq!(r.call(&["exists", "d2"]), ":0\r\n");
    let events: Vec<String> = (0..5)
        .map(|_| String::from_utf8_lossy(&sub.read_reply()).into_owned())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.rsplit("\r\n").nth(3).unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "__keyevent@0__:zadd",
            "__keyevent@0__:georadiusstore",
            "__keyevent@0__:geosearchstore",
            "__keyevent@0__:del",
            "__keyevent@0__:del"
        ],
        "{events:?}"
    );
    // GEOADD counts as geoadd in the stats, failures included.
    r.call(&["set", "str", "x"]);
    r.call(&["geoadd", "str", "0", "0", "a"]);
    let info = r.call(&["info", "commandstats"]);
    assert!(
        info.contains("cmdstat_geoadd:calls=2,") && info.contains("failed_calls=1"),
        "{info}"
    );
}

#[test]
fn geoadd_is_propagated_as_zadd() {
    let s = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut r = s.raw();
    sicily(&mut r);
    near(&mut r, &["store", "d"]);
    near(&mut r, &[]);
    let aof = std::fs::read(s.dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&aof),
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n\
*6\r\n$4\r\nzadd\r\n$6\r\nSicily\r\n$16\r\n3479099956230698\r\n$7\r\nPalermo\r\n$16\r\n3479447370796909\r\n$7\r\nCatania\r\n\
*8\r\n$9\r\ngeoradius\r\n$6\r\nSicily\r\n$2\r\n15\r\n$2\r\n37\r\n$3\r\n200\r\n$2\r\nkm\r\n$5\r\nstore\r\n$1\r\nd\r\n"
    );
}

#[test]
fn command_introspection() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(
        r.line("command getkeys georadius k 1 1 1 m store a storedist b"),
        "*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        r.line("command getkeysandflags geosearchstore d s frommember m byradius 1 m"),
        "*2\r\n*2\r\n$1\r\nd\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$1\r\ns\r\n*2\r\n+RO\r\n+access\r\n"
    );
    let info = r.call(&["command", "info", "georadius"]);
    assert!(info.contains("+movablekeys\r\n"), "{info}");
    assert!(
        info.contains("$7\r\nkeyword\r\n$9\r\nSTOREDIST\r\n$9\r\nstartfrom\r\n:6\r\n"),
        "{info}"
    );
    let info = r.call(&["command", "info", "georadius_ro"]);
    assert!(!info.contains("movablekeys"), "{info}");
}

/// Raw replies compared with a real Redis 7.0 for a deterministic spread of
/// searches over a few hundred points (including members at the same spot,
/// whose order depends on Redis's sort algorithms).
#[test]
fn same_bytes_as_redis() {
    if !have_tool("redis-server") {
        return;
    }
    let dir = common::temp_dir("geo-redis");
    let real = RealRedis::start(&dir);
    let s = Server::start();
    let (mut a, mut b) = (s.raw(), real.raw());
    let mut seed: u64 = 42;
    let mut rnd = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut add = vec!["geoadd".to_string(), "pts".into()];
    for i in 0..300 {
        let (lon, lat) = if i % 4 == 0 {
            (
                rnd(36000) as f64 / 100.0 - 180.0,
                rnd(17000) as f64 / 100.0 - 85.0,
            )
        } else {
            (
                5.0 + rnd(1000) as f64 / 100.0,
                40.0 + rnd(1000) as f64 / 100.0,
            )
        };
        add.extend([lon.to_string(), lat.to_string(), format!("m{i}")]);
    }
    for d in ["dupA", "dupB", "dupC", "dupD"] {
        add.extend(["10".into(), "45".into(), d.into()]);
    }
    cmds.push(add);
    let units = ["m", "km", "mi", "ft"];
    for _ in 0..250 {
        let unit = units[rnd(4) as usize];
        let radius = (rnd(3000) + 1).to_string();
        let mut opts: Vec<String> = Vec::new();
        for o in ["withdist", "withcoord", "withhash"] {
            if rnd(2) == 0 {
                opts.push(o.into());
            }
        }
        match rnd(3) {
            0 => opts.push("asc".into()),
            1 => opts.push("desc".into()),
            _ => {}
        }
        if rnd(2) == 0 {
            opts.extend(["count".into(), (rnd(20) + 1).to_string()]);
            if rnd(4) == 0 {
                opts.push("any".into());
            }
        }
        let lon = (5.0 + rnd(1000) as f64 / 100.0).to_string();
        let lat = (40.0 + rnd(1000) as f64 / 100.0).to_string();
        let member = format!("m{}", rnd(300));
        let unit_scaled = |km: &str| -> String {
            match unit {
                "m" => format!("{km}000"),
                _ => km.to_string(),
            }
        };
        let mut c: Vec<String> = match rnd(4) {
            0 => vec![
                "georadius".into(),
                "pts".into(),
                lon,
                lat,
                unit_scaled(&radius),
                unit.into(),
            ],
            1 => vec![
                "georadiusbymember".into(),
                "pts".into(),
                member,
                unit_scaled(&radius),
                unit.into(),
            ],
            2 => vec![
                "geosearch".into(),
                "pts".into(),
                "fromlonlat".into(),
                lon,
                lat,
                "bybox".into(),
                unit_scaled(&radius),
                unit_scaled(&(rnd(3000) + 1).to_string()),
                unit.into(),
            ],
            _ => vec![
                "geosearch".into(),
                "pts".into(),
                "frommember".into(),
                member,
                "byradius".into(),
                unit_scaled(&radius),
                unit.into(),
            ],
        };
        c.extend(opts);
        cmds.push(c);
    }
    for i in 0..40 {
        let m = |x: u64| format!("m{x}");
        cmds.push(vec![
            "geodist".into(),
            "pts".into(),
            m(rnd(300)),
            m(rnd(300)),
            units[i % 4].into(),
        ]);
        cmds.push(vec![
            "geopos".into(),
            "pts".into(),
            m(rnd(300)),
            m(rnd(300)),
            "nope".into(),
        ]);
        cmds.push(vec![
            "geohash".into(),
            "pts".into(),
            m(rnd(300)),
            m(rnd(300)),
            "nope".into(),
        ]);
    }
    for c in &cmds {
        let args: Vec<&str> = c.iter().map(|s| s.as_str()).collect();
        assert_eq!(a.call(&args), b.call(&args), "{args:?}");
    }
}

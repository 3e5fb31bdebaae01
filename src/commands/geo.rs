//! Geo commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
//! GEOSEARCHSTORE and the GEORADIUS family.
//!
//! A geo set is an ordinary sorted set whose scores are 52-bit geohashes
//! (see `db::geohash`), so TYPE, ZRANGE, DUMP and the RDB see a zset.
//! GEOADD is executed, propagated and notified as the ZADD it turns into.

use bytes::Bytes;

use super::command::spec_key_positions;
use super::zset::{limits, read_z, store_result, zadd_cmd};
use super::{CommandSpec, Ctx};
use crate::db::geohash::{self, HashBits, Shape, ShapeKind};
use crate::db::zset::ZSet;
use crate::db::{SBytes, Value};
use crate::util::{eq_ic, parse_f64};

const GEO: CommandSpec = CommandSpec {
    acl: "geo",
    first_key: 1,
    last_key: 1,
    step: 1,
    group: "geo",
    since: "3.2.0",
    ..CommandSpec::DEFAULT
};

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: "write denyoom",
        handler: geoadd_cmd,
        summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ..GEO
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: "readonly",
        handler: geodist_cmd,
        summary: "Returns the distance between two members of a geospatial index",
        complexity: "O(log(N))",
        ..GEO
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: "readonly",
        handler: geohash_cmd,
        summary: "Returns members of a geospatial index as standard geohash strings",
        complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        ..GEO
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: "readonly",
        handler: geopos_cmd,
        summary: "Returns longitude and latitude of members of a geospatial index",
        complexity: "O(N) where N is the number of members requested.",
        ..GEO
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: "readonly",
        handler: geosearch_cmd,
        since: "6.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        complexity: SEARCH_COMPLEXITY,
        ..GEO
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: "write denyoom",
        last_key: 2,
        handler: geosearchstore_cmd,
        since: "6.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
        complexity: SEARCH_COMPLEXITY,
        ..GEO
    },
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: "write denyoom",
        handler: georadius_cmd,
        getkeys: Some(georadius_keys),
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
        complexity: RADIUS_COMPLEXITY,
        ..GEO
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: "readonly",
        handler: georadius_ro_cmd,
        since: "3.2.10",
        summary: "A read-only variant for GEORADIUS",
        complexity: RADIUS_COMPLEXITY,
        ..GEO
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: "write denyoom",
        handler: georadiusbymember_cmd,
        getkeys: Some(georadiusbymember_keys),
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
        complexity: RADIUS_COMPLEXITY,
        ..GEO
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: "readonly",
        handler: georadiusbymember_ro_cmd,
        since: "3.2.10",
        summary: "A read-only variant for GEORADIUSBYMEMBER",
        complexity: RADIUS_COMPLEXITY,
        ..GEO
    },
];

/// GEORADIUS keys: the source, the STORE and STOREDIST destinations.
fn georadius_keys(argv: &[Bytes]) -> Vec<usize> {
    spec_key_positions("georadius", argv)
}

fn georadiusbymember_keys(argv: &[Bytes]) -> Vec<usize> {
    spec_key_positions("georadiusbymember", argv)
}

// ---------------------------------------------------------------- parsing

/// A longitude, latitude pair within Redis's limits.
#[allow(clippy::manual_range_contains)] // NaN-safe as Redis's test
fn parse_lonlat(ctx: &mut Ctx, lon: &[u8], lat: &[u8]) -> Option<[f64; 2]> {
    let lon = ctx.float_arg(lon)?;
    let lat = ctx.float_arg(lat)?;
    if lon < geohash::LONG_MIN
        || lon > geohash::LONG_MAX
        || lat < geohash::LAT_MIN
        || lat > geohash::LAT_MAX
    {
        ctx.error(&format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        ));
        return None;
    }
    Some([lon, lat])
}

/// Meters per unit.
fn parse_unit(ctx: &mut Ctx, u: &[u8]) -> Option<f64> {
    let m = if eq_ic(u, "m") {
        1.0
    } else if eq_ic(u, "km") {
        1000.0
    } else if eq_ic(u, "ft") {
        0.3048
    } else if eq_ic(u, "mi") {
        1609.34
    } else {
        ctx.error("ERR unsupported unit provided. please use M, KM, FT, MI");
        return None;
    };
    Some(m)
}

fn parse_number(ctx: &mut Ctx, a: &[u8], err: &str) -> Option<f64> {
    let v = parse_f64(a);
    if v.is_none() {
        ctx.error(err);
    }
    v
}

/// `<radius> <unit>`: (radius, meters per unit).
fn parse_radius(ctx: &mut Ctx, a: &[Bytes]) -> Option<(f64, f64)> {
    let r = parse_number(ctx, &a[0], "ERR need numeric radius")?;
    if r < 0.0 {
        ctx.error("ERR radius cannot be negative");
        return None;
    }
    Some((r, parse_unit(ctx, &a[1])?))
}

/// `<width> <height> <unit>`: (width, height, meters per unit).
fn parse_box(ctx: &mut Ctx, a: &[Bytes]) -> Option<(f64, f64, f64)> {
    let w = parse_number(ctx, &a[0], "ERR need numeric width")?;
    let h = parse_number(ctx, &a[1], "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        ctx.error("ERR height or width cannot be negative");
        return None;
    }
    Some((w, h, parse_unit(ctx, &a[2])?))
}

// ---------------------------------------------------------------- formatting

/// A distance with 4 decimals, rounded half to even like llrint.
fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    // llrint: out of range gives LLONG_MIN, as the cast.
    let v = geohash::c_double_to_i64((d * 10000.0).round_ties_even());
    let (neg, a) = (v < 0, v.unsigned_abs());
    format!(
        "{}{}.{:04}",
        if neg { "-" } else { "" },
        a / 10000,
        a % 10000
    )
}

/// A coordinate as Redis's "human" long double: "%.17Lf" without trailing
/// zeros (a double's value is exact in a long double).
fn format_human(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(t);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

// ---------------------------------------------------------------- commands

fn geoadd_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while longidx < argv.len() {
        let o = &argv[longidx];
        if eq_ic(o, "nx") {
            nx = true;
        } else if eq_ic(o, "xx") {
            xx = true;
        } else if !eq_ic(o, "ch") {
            break;
        }
        longidx += 1;
    }
    if !(argv.len() - longidx).is_multiple_of(3) || (xx && nx) {
        return ctx.syntax_error();
    }
    // ZADD key [options] score member ..., the score being the geohash.
    let elements = (argv.len() - longidx) / 3;
    let mut zargv = Vec::with_capacity(longidx + elements * 2);
    zargv.push(Bytes::from_static(b"zadd"));
    zargv.extend(argv[1..longidx].iter().cloned());
    for t in argv[longidx..].chunks_exact(3) {
        let Some([lon, lat]) = parse_lonlat(ctx, &t[0], &t[1]) else {
            return;
        };
        zargv.push(Bytes::from(geohash::encode_score(lon, lat).to_string()));
        zargv.push(t[2].clone());
    }
    zadd_cmd(ctx, &zargv);
    ctx.rewrite_propagation(zargv);
}

/// GEODIST key member1 member2 [unit]
fn geodist_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut to_meter = 1.0;
    if argv.len() == 5 {
        match parse_unit(ctx, &argv[4]) {
            Some(u) => to_meter = u,
            None => return,
        }
    } else if argv.len() > 5 {
        return ctx.syntax_error();
    }
    let scores = match read_z(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => None,
        Ok(Some(z)) => z.score(&argv[2]).zip(z.score(&argv[3])),
    };
    match scores {
        None => ctx.reply().null(),
        Some((s1, s2)) => {
            let [x1, y1] = geohash::decode_score(s1);
            let [x2, y2] = geohash::decode_score(s2);
            let d = geohash::distance(x1, y1, x2, y2) / to_meter;
            ctx.reply().bulk_str(&format_distance(d));
        }
    }
}

/// Scores of the requested members (None: missing), or Err for a key of
/// another type.
fn member_scores(ctx: &mut Ctx, argv: &[Bytes]) -> Result<Vec<Option<f64>>, ()> {
    let z = read_z(ctx, &argv[1])?;
    Ok(argv[2..]
        .iter()
        .map(|m| z.as_ref().and_then(|z| z.score(m)))
        .collect())
}

/// GEOHASH key [member ...]
fn geohash_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Ok(scores) = member_scores(ctx, argv) else {
        return ctx.wrongtype();
    };
    let r = ctx.reply();
    r.array(scores.len());
    for s in scores {
        match s {
            Some(s) => r.bulk(&geohash::geohash_string(s)),
            None => r.null(),
        }
    }
}

/// GEOPOS key [member ...]
fn geopos_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Ok(scores) = member_scores(ctx, argv) else {
        return ctx.wrongtype();
    };
    let r = ctx.reply();
    r.array(scores.len());
    for s in scores {
        match s {
            Some(s) => {
                let [lon, lat] = geohash::decode_score(s);
                r.array(2);
                r.double_str(&format_human(lon));
                r.double_str(&format_human(lat));
            }
            None => r.null_array(),
        }
    }
}

// ---------------------------------------------------------------- search

/// Which search command runs (Redis's georadiusGeneric flags).
#[derive(Clone, Copy, PartialEq)]
enum From {
    /// GEORADIUS: centre and radius at fixed positions.
    Coords,
    /// GEORADIUSBYMEMBER: a member and radius at fixed positions.
    Member,
    /// GEOSEARCH / GEOSEARCHSTORE: FROM... and BY... options.
    Search,
}

struct Variant {
    from: From,
    /// The _RO variants take no STORE / STOREDIST.
    nostore: bool,
    /// GEOSEARCHSTORE: the destination is argv[1].
    searchstore: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

struct Point {
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
    member: SBytes,
}

/// Members of one box (scores from its corner, inclusive, to the next
/// box's, exclusive) that fall inside the shape.
fn points_in_box(z: &ZSet, h: HashBits, shape: &Shape, out: &mut Vec<Point>, limit: usize) {
    let min = h.align52() as f64;
    let max = HashBits {
        bits: h.bits.wrapping_add(1),
        step: h.step,
    }
    .align52() as f64;
    let lo = z.tree.partition_point(|e| e.0 < min);
    for (score, member) in z.tree.iter_from(lo) {
        if *score >= max {
            break;
        }
        let [lon, lat] = geohash::decode_score(*score);
        if let Some(dist) = shape.contains(lon, lat) {
            out.push(Point {
                lon,
                lat,
                dist,
                score: *score,
                member: member.clone(),
            });
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
    }
}

/// Members inside the shape, box by box (at most `limit` when not 0).
fn points_in_shape(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let boxes = shape.covering_boxes();
    let mut out = Vec::new();
    let mut last = 0;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        // Huge radii make neighbours coincide: skip a repeat of the box
        // just searched (never of the centre, as Redis).
        if last != 0 && *b == boxes[last] {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        points_in_box(z, *b, shape, &mut out, limit);
        last = i;
    }
    out
}

/// Redis's pqsort (Bentley-McIlroy quicksort that only recurses into
/// partitions overlapping ranks 0..=last), so that members at equal
/// distances come out in the same order as in Redis.
fn partial_sort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i32, last: usize) {
    let n = v.len();
    pqsort_part(v, 0, n, cmp, 0, last);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Sorts v[a..a+n]; `lr..=rr` are the ranks that must end up in place.
fn pqsort_part<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> i32,
    lr: usize,
    rr: usize,
) {
    // Whether the partition [l, l+len) holds any wanted rank.
    let wanted = |l: usize, len: usize| {
        let r = l + len - 1;
        !((lr < l && rr < l) || (lr > r && rr > r))
    };
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && wanted(a, r) {
            pqsort_part(v, a, r, cmp, lr, rr);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if wanted(a, r) {
                continue;
            }
        }
        return;
    }
}

fn georadius_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    search(ctx, argv, From::Coords, false, false);
}

fn georadius_ro_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    search(ctx, argv, From::Coords, true, false);
}

fn georadiusbymember_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    search(ctx, argv, From::Member, false, false);
}

fn georadiusbymember_ro_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    search(ctx, argv, From::Member, true, false);
}

fn geosearch_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    search(ctx, argv, From::Search, false, false);
}

fn geosearchstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    search(ctx, argv, From::Search, false, true);
}

/// GEOSEARCHSTORE names its destination first, so its source is argv[2].
fn search(ctx: &mut Ctx, argv: &[Bytes], from: From, nostore: bool, searchstore: bool) {
    let v = Variant {
        from,
        nostore,
        searchstore,
    };
    search_generic(ctx, argv, if searchstore { 2 } else { 1 }, v);
}

const NO_MEMBER: &str = "ERR could not decode requested zset member";

/// The source set, looked up again without counting a keyspace hit
/// (Redis looks it up once).
fn src_set<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut ZSet> {
    match &mut ctx.lookup_write(key)?.val {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

/// The score of `member` in the source set (None: no such key or member).
fn src_score(ctx: &mut Ctx, key: &[u8], member: &[u8]) -> Option<f64> {
    src_set(ctx, key).and_then(|z| z.score(member))
}

/// The options of every search command, parsed in Redis's order (each
/// error is the first one Redis would report).
fn search_generic(ctx: &mut Ctx, argv: &[Bytes], src: usize, v: Variant) {
    let key = &argv[src];
    let exists = match read_z(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(z) => z.is_some(),
    };
    let mut store: Option<Bytes> = None;
    let mut storedist = false;
    let mut xy = [0.0f64; 2];
    let mut kind: Option<ShapeKind> = None;
    let mut conversion = 0.0;
    let base = match v.from {
        From::Coords => {
            let Some(c) = parse_lonlat(ctx, &argv[2], &argv[3]) else {
                return;
            };
            xy = c;
            let Some((radius, conv)) = parse_radius(ctx, &argv[4..6]) else {
                return;
            };
            (kind, conversion) = (Some(ShapeKind::Circle { radius }), conv);
            6
        }
        // Without a source the member and radius are not even parsed.
        From::Member if !exists => 5,
        From::Member => {
            let Some(s) = src_score(ctx, key, &argv[2]) else {
                return ctx.error(NO_MEMBER);
            };
            xy = geohash::decode_score(s);
            let Some((radius, conv)) = parse_radius(ctx, &argv[3..5]) else {
                return;
            };
            (kind, conversion) = (Some(ShapeKind::Circle { radius }), conv);
            5
        }
        From::Search if v.searchstore => {
            store = Some(argv[1].clone());
            3
        }
        From::Search => 2,
    };
    let search = v.from == From::Search;
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let n = argv.len();
    let mut i = base;
    while i < n {
        let a = &argv[i];
        let left = n - i - 1;
        if eq_ic(a, "withdist") {
            withdist = true;
        } else if eq_ic(a, "withhash") {
            withhash = true;
        } else if eq_ic(a, "withcoord") {
            withcoord = true;
        } else if eq_ic(a, "any") {
            any = true;
        } else if eq_ic(a, "asc") {
            sort = Sort::Asc;
        } else if eq_ic(a, "desc") {
            sort = Sort::Desc;
        } else if eq_ic(a, "count") && left >= 1 {
            let Some(c) = ctx.int_arg(&argv[i + 1]) else {
                return;
            };
            if c <= 0 {
                return ctx.error("ERR COUNT must be > 0");
            }
            count = c;
            i += 1;
        } else if (eq_ic(a, "store") || eq_ic(a, "storedist")) && left >= 1 && !v.nostore && !search
        {
            store = Some(argv[i + 1].clone());
            storedist = eq_ic(a, "storedist");
            i += 1;
        } else if eq_ic(a, "storedist") && v.searchstore {
            storedist = true;
        } else if eq_ic(a, "frommember") && left >= 1 && search && !fromloc {
            if exists {
                let Some(s) = src_score(ctx, key, &argv[i + 1]) else {
                    return ctx.error(NO_MEMBER);
                };
                xy = geohash::decode_score(s);
            }
            frommember = true;
            i += 1;
        } else if eq_ic(a, "fromlonlat") && left >= 2 && search && !frommember {
            let Some(c) = parse_lonlat(ctx, &argv[i + 1], &argv[i + 2]) else {
                return;
            };
            xy = c;
            fromloc = true;
            i += 2;
        } else if eq_ic(a, "byradius") && left >= 2 && search && !bybox {
            let Some((radius, conv)) = parse_radius(ctx, &argv[i + 1..i + 3]) else {
                return;
            };
            (kind, conversion) = (Some(ShapeKind::Circle { radius }), conv);
            byradius = true;
            i += 2;
        } else if eq_ic(a, "bybox") && left >= 3 && search && !byradius {
            let Some((width, height, conv)) = parse_box(ctx, &argv[i + 1..i + 4]) else {
                return;
            };
            (kind, conversion) = (Some(ShapeKind::Box { width, height }), conv);
            bybox = true;
            i += 3;
        } else {
            return ctx.syntax_error();
        }
        i += 1;
    }

    if store.is_some() && (withdist || withhash || withcoord) {
        let what = if v.searchstore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return ctx.error(&format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    let name = String::from_utf8_lossy(&argv[0]).into_owned();
    if search && !(frommember || fromloc) {
        return ctx.error(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if search && !(byradius || bybox) {
        return ctx.error(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if any && count == 0 {
        return ctx.error("ERR the ANY argument requires COUNT argument");
    }

    let lim = limits(ctx);
    let Some(kind) = kind.filter(|_| exists) else {
        // No source: an empty reply, or an empty (deleted) destination.
        match store {
            Some(dst) => store_result(ctx, &dst, Vec::new(), lim, "del"),
            None => ctx.reply().array(0),
        }
        return;
    };
    // COUNT without an order means the nearest ones (not with ANY).
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape {
        kind,
        xy,
        conversion,
    };
    let limit = if any { count as usize } else { 0 };
    let mut points = match src_set(ctx, key) {
        Some(z) => points_in_shape(z, &shape, limit),
        None => Vec::new(),
    };
    if points.is_empty() && store.is_none() {
        return ctx.reply().array(0);
    }
    let returned = if count == 0 {
        points.len()
    } else {
        points.len().min(count as usize)
    };
    if sort != Sort::None {
        let asc = |a: &Point, b: &Point| {
            if a.dist > b.dist {
                1
            } else if a.dist == b.dist {
                0
            } else {
                -1
            }
        };
        let cmp = |a: &Point, b: &Point| {
            if sort == Sort::Asc {
                asc(a, b)
            } else {
                -asc(a, b)
            }
        };
        if returned == points.len() {
            // glibc's qsort is a merge sort: stable, as sort_by.
            points.sort_by(|a, b| cmp(a, b).cmp(&0));
        } else {
            partial_sort(&mut points, &cmp, returned - 1);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= shape.conversion;
    }

    if let Some(dst) = store {
        let entries = points
            .into_iter()
            .map(|p| (if storedist { p.dist } else { p.score }, p.member))
            .collect();
        let event = if search {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        return store_result(ctx, &dst, entries, lim, event);
    }
    let options = withdist as usize + withhash as usize + withcoord as usize;
    let r = ctx.reply();
    r.array(points.len());
    for p in points {
        if options > 0 {
            r.array(options + 1);
        }
        r.bulk(p.member.as_slice());
        if withdist {
            r.bulk_str(&format_distance(p.dist));
        }
        if withhash {
            r.int(geohash::c_double_to_i64(p.score));
        }
        if withcoord {
            r.array(2);
            r.double_str(&format_human(p.lon));
            r.double_str(&format_human(p.lat));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_text() {
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(166274.1516), "166274.1516");
        assert_eq!(format_distance(0.00005), "0.0000");
        assert_eq!(format_distance(0.00015), "0.0001");
        assert_eq!(format_distance(0.775), "0.7750");
        assert_eq!(format_distance(12.3), "12.3000");
    }

    #[test]
    fn partial_sort_orders_the_prefix() {
        let cmp = |a: &(u32, u32), b: &(u32, u32)| (a.0 as i32) - (b.0 as i32);
        for n in [1usize, 5, 7, 8, 41, 200] {
            let mut v: Vec<(u32, u32)> = (0..n as u32).map(|i| ((i * 7919) % 13, i)).collect();
            let mut sorted = v.clone();
            sorted.sort_by_key(|e| e.0);
            let k = n.div_ceil(3);
            partial_sort(&mut v, &cmp, k - 1);
            let keys: Vec<u32> = v[..k].iter().map(|e| e.0).collect();
            let want: Vec<u32> = sorted[..k].iter().map(|e| e.0).collect();
            assert_eq!(keys, want, "n={n}");
        }
    }

    #[test]
    fn human_text() {
        assert_eq!(format_human(13.361389338970184), "13.36138933897018433");
        assert_eq!(format_human(-0.0), "0");
        assert_eq!(format_human(1.5), "1.5");
        assert_eq!(format_human(180.0), "180");
    }
}

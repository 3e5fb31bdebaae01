//! DUMP and RESTORE: a key's value in Redis's serialization (RDB object,
//! 2-byte RDB version, CRC-64), portable between Ermine and Redis.

use bytes::Bytes;

use super::{CommandSpec, Ctx};
use crate::config::params::NOTIFY_GENERIC;
use crate::db::Obj;
use crate::persistence::rdb;
use crate::util::eq_ic;

const K: CommandSpec = CommandSpec {
    group: "generic",
    acl: "keyspace",
    first_key: 1,
    last_key: 1,
    step: 1,
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: "readonly",
        handler: dump,
        since: "2.6.0",
        summary: "Return a serialized version of the value stored at the specified key.",
        tips: &["nondeterministic_output"],
        ..K
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: "write denyoom",
        acl: "keyspace dangerous",
        handler: restore,
        since: "2.6.0",
        summary:
            "Create a key using the provided serialized value, previously obtained using DUMP.",
        ..K
    },
    CommandSpec {
        name: "migrate",
        arity: -6,
        flags: "write movablekeys",
        acl: "keyspace dangerous",
        first_key: 3,
        last_key: 3,
        step: 1,
        handler: migrate,
        getkeys: Some(migrate_keys),
        since: "2.6.0",
        summary: "Atomically transfer a key from a Redis instance to another one.",
        complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
        tips: &["nondeterministic_output"],
        ..K
    },
];

/// MIGRATE's keys: argv[3], or everything after KEYS (when argv[3] is
/// empty), as Redis's migrateGetKeys.
fn migrate_keys(argv: &[Bytes]) -> Vec<usize> {
    if argv.len() > 6 {
        for i in 6..argv.len() {
            if eq_ic(&argv[i], "keys") {
                if !argv[3].is_empty() {
                    return Vec::new();
                }
                return (i + 1..argv.len()).collect();
            }
        }
    }
    if argv.len() > 3 {
        vec![3]
    } else {
        Vec::new()
    }
}

/// A connection MIGRATE keeps open to a target ("host:port"), reused
/// for 10 seconds (Redis's migrate socket cache).
pub struct MigrateSocket {
    stream: std::net::TcpStream,
    /// The db last SELECTed on it (-1: unknown).
    last_dbid: i64,
    last_use: i64,
}

const MIGRATE_CACHE_ITEMS: usize = 64;
const MIGRATE_CACHE_TTL: i64 = 10;

/// Close cached MIGRATE connections idle for more than 10 s (cron).
pub fn close_idle_migrate_sockets(srv: &mut crate::server::Server) {
    let now = crate::util::mstime() / 1000;
    srv.migrate_sockets
        .retain(|_, s| now - s.last_use <= MIGRATE_CACHE_TTL);
}

fn migrate_socket<'a>(
    srv: &'a mut crate::server::Server,
    host: &[u8],
    port: &[u8],
    timeout_ms: u64,
) -> Option<&'a mut MigrateSocket> {
    use std::net::ToSocketAddrs;
    let name = format!(
        "{}:{}",
        String::from_utf8_lossy(host),
        String::from_utf8_lossy(port)
    );
    let now = crate::util::mstime() / 1000;
    if !srv.migrate_sockets.contains_key(&name) {
        if srv.migrate_sockets.len() >= MIGRATE_CACHE_ITEMS {
            if let Some(k) = srv.migrate_sockets.keys().next().cloned() {
                srv.migrate_sockets.remove(&k);
            }
        }
        let port_n: u16 = std::str::from_utf8(port)
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let timeout = std::time::Duration::from_millis(timeout_ms.max(1));
        let addrs = (String::from_utf8_lossy(host).as_ref(), port_n)
            .to_socket_addrs()
            .ok()?;
        let mut stream = None;
        for a in addrs {
            if let Ok(s) = std::net::TcpStream::connect_timeout(&a, timeout) {
                stream = Some(s);
                break;
            }
        }
        let stream = stream?;
        let _ = stream.set_nodelay(true);
        srv.migrate_sockets.insert(
            name.clone(),
            MigrateSocket {
                stream,
                last_dbid: -1,
                last_use: now,
            },
        );
    }
    let s = srv.migrate_sockets.get_mut(&name)?;
    s.last_use = now;
    Some(s)
}

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Read one reply line (without CRLF) within the timeout.
fn read_line(s: &mut std::net::TcpStream, timeout_ms: u64) -> Result<Vec<u8>, std::io::ErrorKind> {
    use std::io::Read;
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms.max(1));
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut);
        }
        let _ = s.set_read_timeout(Some(left));
        match s.read(&mut b) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof),
            Ok(_) => {
                if b[0] == b'\n' {
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Ok(line);
                }
                line.push(b[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(std::io::ErrorKind::TimedOut)
            }
            Err(e) => return Err(e.kind()),
        }
    }
}

fn write_all(s: &mut std::net::TcpStream, data: &[u8], timeout_ms: u64) -> bool {
    use std::io::Write;
    let _ = s.set_write_timeout(Some(std::time::Duration::from_millis(timeout_ms.max(1))));
    data.chunks(64 * 1024).all(|c| s.write_all(c).is_ok())
}

fn migrate(ctx: &mut Ctx, argv: &[Bytes]) {
    let mut copy = false;
    let mut replace = false;
    let mut username: Option<Bytes> = None;
    let mut password: Option<Bytes> = None;
    let mut first_key = 3;
    let mut num_keys = 1;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ic(&argv[j], "copy") {
            copy = true;
        } else if eq_ic(&argv[j], "replace") {
            replace = true;
        } else if eq_ic(&argv[j], "auth") {
            if more == 0 {
                return ctx.syntax_error();
            }
            j += 1;
            password = Some(argv[j].clone());
        } else if eq_ic(&argv[j], "auth2") {
            if more < 2 {
                return ctx.syntax_error();
            }
            username = Some(argv[j + 1].clone());
            password = Some(argv[j + 2].clone());
            j += 2;
        } else if eq_ic(&argv[j], "keys") {
            if !argv[3].is_empty() {
                return ctx.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
            }
            first_key = j + 1;
            num_keys = argv.len() - j - 1;
            break;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let Some(mut timeout) = ctx.int_arg(&argv[5]) else {
        return;
    };
    let Some(dbid) = ctx.int_arg(&argv[4]) else {
        return;
    };
    if timeout <= 0 {
        timeout = 1000;
    }
    let timeout = timeout as u64;
    let compress = ctx.srv.config.get_bool("rdbcompression");
    let depth = ctx
        .srv
        .config
        .get_i64("list-compress-depth")
        .clamp(0, 65535) as usize;
    // The keys present here, with their payloads and TTLs.
    let mut keys: Vec<(Bytes, Vec<u8>, i64)> = Vec::new();
    for k in &argv[first_key..first_key + num_keys] {
        if let Some(o) = ctx.lookup_read(k) {
            let expire = o.expire;
            let p = payload(&o.val, compress, depth);
            keys.push((k.clone(), p, expire));
        }
    }
    if keys.is_empty() {
        return ctx.reply().status("NOKEY");
    }
    let mut may_retry = true;
    loop {
        let Some(sock) = migrate_socket(ctx.srv, &argv[1], &argv[2], timeout) else {
            return ctx.error("IOERR error or timeout connecting to the client");
        };
        let mut cmd = Vec::new();
        if let Some(pw) = &password {
            cmd.extend_from_slice(if username.is_some() {
                b"*3\r\n"
            } else {
                b"*2\r\n"
            });
            bulk(&mut cmd, b"AUTH");
            if let Some(u) = &username {
                bulk(&mut cmd, u);
            }
            bulk(&mut cmd, pw);
        }
        let select = sock.last_dbid != dbid;
        if select {
            cmd.extend_from_slice(b"*2\r\n");
            bulk(&mut cmd, b"SELECT");
            bulk(&mut cmd, dbid.to_string().as_bytes());
        }
        let now = crate::util::mstime();
        let mut sent: Vec<&Bytes> = Vec::new();
        for (k, p, expire) in &keys {
            let mut ttl = 0;
            if *expire != crate::db::NO_EXPIRE {
                ttl = expire - now;
                if ttl < 0 {
                    continue;
                }
                ttl = ttl.max(1);
            }
            sent.push(k);
            cmd.extend_from_slice(if replace { b"*5\r\n" } else { b"*4\r\n" });
            bulk(&mut cmd, b"RESTORE");
            bulk(&mut cmd, k);
            bulk(&mut cmd, ttl.to_string().as_bytes());
            bulk(&mut cmd, p);
            if replace {
                bulk(&mut cmd, b"REPLACE");
            }
        }
        let mut write_error = false;
        let mut timed_out = false;
        let mut error_from_target = false;
        let mut socket_error = false;
        let mut acked: Vec<Bytes> = Vec::new();
        let mut replies_read = 0usize;
        let mut target_err: Option<String> = None;
        if !write_all(&mut sock.stream, &cmd, timeout) {
            write_error = true;
        } else {
            let mut aux_err: Option<Vec<u8>> = None;
            let mut pre = Ok(());
            if password.is_some() {
                match read_line(&mut sock.stream, timeout) {
                    Ok(l) if l.first() == Some(&b'-') => aux_err = Some(l),
                    Ok(_) => {}
                    Err(e) => pre = Err(e),
                }
            }
            if pre.is_ok() && select {
                match read_line(&mut sock.stream, timeout) {
                    Ok(l) if l.first() == Some(&b'-') => {
                        if aux_err.is_none() {
                            aux_err = Some(l)
                        }
                    }
                    Ok(_) => {}
                    Err(e) => pre = Err(e),
                }
            }
            if let Err(e) = pre {
                timed_out = e == std::io::ErrorKind::TimedOut;
                socket_error = true;
                // The AUTH/SELECT replies never came: nothing was done.
                replies_read = 0;
            } else {
                for k in &sent {
                    match read_line(&mut sock.stream, timeout) {
                        Err(e) => {
                            timed_out = e == std::io::ErrorKind::TimedOut;
                            socket_error = true;
                            break;
                        }
                        Ok(l) => {
                            replies_read += 1;
                            let err = aux_err.clone().or(if l.first() == Some(&b'-') {
                                Some(l)
                            } else {
                                None
                            });
                            match err {
                                Some(e) => {
                                    if !error_from_target {
                                        sock.last_dbid = -1;
                                        error_from_target = true;
                                        target_err = Some(format!(
                                            "ERR Target instance replied with error: {}",
                                            String::from_utf8_lossy(&e[1..])
                                        ));
                                    }
                                }
                                None => acked.push((*k).clone()),
                            }
                        }
                    }
                }
            }
        }
        if !write_error
            && !error_from_target
            && socket_error
            && replies_read == 0
            && may_retry
            && !timed_out
        {
            // A stale cached connection: reconnect and try once more.
            ctx.srv.migrate_sockets.remove(&format!(
                "{}:{}",
                String::from_utf8_lossy(&argv[1]),
                String::from_utf8_lossy(&argv[2])
            ));
            may_retry = false;
            continue;
        }
        let name = format!(
            "{}:{}",
            String::from_utf8_lossy(&argv[1]),
            String::from_utf8_lossy(&argv[2])
        );
        if write_error || socket_error {
            ctx.srv.migrate_sockets.remove(&name);
        }
        if !copy && !acked.is_empty() {
            let mut del = vec![Bytes::from_static(b"DEL")];
            for k in &acked {
                ctx.db().remove(k);
                ctx.signal_modified(k);
                ctx.notify(NOTIFY_GENERIC, "del", k);
                ctx.dirty(1);
                del.push(k.clone());
            }
            ctx.rewrite_propagation(del);
        }
        if write_error && may_retry {
            may_retry = false;
            continue;
        }
        if (write_error || socket_error) && !error_from_target {
            return ctx.error(&format!(
                "IOERR error or timeout {} to target instance",
                if write_error { "writing" } else { "reading" }
            ));
        }
        if let Some(e) = target_err {
            return ctx.error(&e);
        }
        if let Some(s) = ctx.srv.migrate_sockets.get_mut(&name) {
            s.last_dbid = dbid;
        }
        ctx.reply().ok();
        return;
    }
}

/// Serialize a value as DUMP does.
pub fn payload(v: &crate::db::Value, compress: bool, list_compress_depth: usize) -> Vec<u8> {
    let mut w = rdb::Writer::new(compress, list_compress_depth);
    w.value(v);
    w.buf.extend_from_slice(&rdb::RDB_VERSION.to_le_bytes());
    let crc = rdb::crc64(&w.buf);
    w.buf.extend_from_slice(&crc.to_le_bytes());
    w.buf
}

/// DUMP's serialization of a value with the server's settings.
pub fn payload_for(srv: &crate::server::Server, v: &crate::db::Value) -> Vec<u8> {
    payload(
        v,
        srv.config.get_bool("rdbcompression"),
        srv.config.get_i64("list-compress-depth").clamp(0, 65535) as usize,
    )
}

/// Check a payload's footer (RDB version, CRC-64) as Redis's
/// verifyDumpPayload does.
pub fn verify_payload(srv: &crate::server::Server, data: &[u8]) -> bool {
    if data.len() < 10 {
        return false;
    }
    let footer = &data[data.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > rdb::RDB_VERSION {
        return false;
    }
    if srv.skip_checksum_validation {
        return true;
    }
    let crc = u64::from_le_bytes(footer[2..10].try_into().unwrap_or([0; 8]));
    rdb::crc64(&data[..data.len() - 8]) == crc
}

/// Decode a verified payload into a value; the error is logged (at
/// verbose level, as Redis does in a RESTORE) and None returned.
pub fn decode_payload(
    srv: &mut crate::server::Server,
    data: &[u8],
    from_master: bool,
) -> Option<crate::db::Value> {
    let lim = crate::persistence::restore_limits(srv, from_master);
    // Like Redis, read from the whole payload: nothing checks that the
    // value ends where the footer starts.
    let mut r = rdb::Reader::new(data, 0);
    let res = r.byte().and_then(|t| rdb::read_value(&mut r, t, &lim));
    srv.stats.dump_payload_sanitizations += r.sanitized;
    match res {
        Ok(Some(v)) => Some(v),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(
                "Internal error in RDB reading offset 0, function at rdb.c:0 -> {}",
                e.0
            );
            None
        }
    }
}

fn dump(ctx: &mut Ctx, argv: &[Bytes]) {
    let compress = ctx.srv.config.get_bool("rdbcompression");
    let depth = ctx
        .srv
        .config
        .get_i64("list-compress-depth")
        .clamp(0, 65535) as usize;
    let p = ctx
        .lookup_read(&argv[1])
        .map(|o| payload(&o.val, compress, depth));
    match p {
        None => ctx.reply().null(),
        Some(p) => ctx.reply().bulk(&p),
    }
}

fn restore(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = argv[1].clone();
    let mut replace = false;
    let mut absttl = false;
    let mut lru_idle: Option<i64> = None;
    let mut lfu_freq: Option<u8> = None;
    let mut j = 4;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if eq_ic(&argv[j], "replace") {
            replace = true;
        } else if eq_ic(&argv[j], "absttl") {
            absttl = true;
        } else if eq_ic(&argv[j], "idletime") && more && lfu_freq.is_none() {
            j += 1;
            match crate::util::parse_i64(&argv[j]) {
                Some(n) if n >= 0 => lru_idle = Some(n),
                Some(_) => return ctx.error("ERR Invalid IDLETIME value, must be >= 0"),
                None => return ctx.not_int(),
            }
        } else if eq_ic(&argv[j], "freq") && more && lru_idle.is_none() {
            j += 1;
            match crate::util::parse_i64(&argv[j]) {
                Some(n) if (0..=255).contains(&n) => lfu_freq = Some(n as u8),
                Some(_) => return ctx.error("ERR Invalid FREQ value, must be >= 0 and <= 255"),
                None => return ctx.not_int(),
            }
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let Some(ttl) = ctx.int_arg(&argv[2]) else {
        return;
    };
    if ttl < 0 {
        return ctx.error("ERR Invalid TTL value, must be >= 0");
    }
    if !replace && ctx.lookup_write(&key).is_some() {
        return ctx.error("BUSYKEY Target key name already exists.");
    }
    let data = &argv[3];
    if !verify_payload(ctx.srv, data) {
        return ctx.error("ERR DUMP payload version or checksum are wrong");
    }
    // Ermine has no replication link, so no RESTORE comes from a master.
    let Some(val) = decode_payload(ctx.srv, data, false) else {
        return ctx.error("ERR Bad data format");
    };
    let mut expire = crate::db::NO_EXPIRE;
    if ttl > 0 {
        expire = if absttl {
            ttl
        } else {
            ctx.now.saturating_add(ttl)
        };
    }
    let deleted = ctx.db().remove(&key).is_some();
    if expire != crate::db::NO_EXPIRE && expire <= ctx.now {
        // Already expired: the key is just gone.
        if deleted {
            ctx.rewrite_propagation(vec![Bytes::from_static(b"DEL"), key.clone()]);
            ctx.signal_modified(&key);
            ctx.notify(NOTIFY_GENERIC, "del", &key);
            ctx.dirty(1);
        }
        return ctx.reply().ok();
    }
    let mut o = Obj::new(val);
    o.expire = expire;
    if let Some(clock) = crate::db::clock_from(lfu_freq, lru_idle.map(|i| i as u64)) {
        o.lru = clock;
    }
    ctx.db().insert_obj(&key, o);
    if ttl > 0 && !absttl {
        // Replicate the TTL as an absolute time, as Redis does.
        let mut a: Vec<Bytes> = argv.to_vec();
        a[2] = Bytes::from(expire.to_string());
        a.push(Bytes::from_static(b"ABSTTL"));
        ctx.rewrite_propagation(a);
    }
    ctx.signal_modified(&key);
    ctx.signal_key_ready(&key);
    ctx.notify(NOTIFY_GENERIC, "restore", &key);
    ctx.dirty(1);
    ctx.reply().ok();
}

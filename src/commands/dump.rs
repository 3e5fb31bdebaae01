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
];

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
    let mut j = 4;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if eq_ic(&argv[j], "replace") {
            replace = true;
        } else if eq_ic(&argv[j], "absttl") {
            absttl = true;
        } else if eq_ic(&argv[j], "idletime") && more && lru_idle.is_none() {
            j += 1;
            match crate::util::parse_i64(&argv[j]) {
                Some(n) if n >= 0 => lru_idle = Some(n),
                Some(_) => return ctx.error("ERR Invalid IDLETIME value, must be >= 0"),
                None => return ctx.not_int(),
            }
        } else if eq_ic(&argv[j], "freq") && more {
            j += 1;
            match crate::util::parse_i64(&argv[j]) {
                Some(n) if (0..=255).contains(&n) => {}
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
            ctx.signal_modified(&key);
            ctx.notify(NOTIFY_GENERIC, "del", &key);
            ctx.dirty(1);
        }
        return ctx.reply().ok();
    }
    let mut o = Obj::new(val);
    o.expire = expire;
    if let Some(idle) = lru_idle {
        o.lru = crate::db::lru_clock().saturating_sub(idle as u32);
    }
    ctx.db().insert_obj(&key, o);
    ctx.signal_modified(&key);
    ctx.signal_key_ready(&key);
    ctx.notify(NOTIFY_GENERIC, "restore", &key);
    ctx.dirty(1);
    ctx.reply().ok();
}

//! maxmemory: when used memory is over the limit, delete keys chosen by
//! `maxmemory-policy` until it is under (Redis's performEvictions, with
//! sampling as the approximation of LRU/LFU/TTL order). Run before each
//! command and from cron (so a lowered limit takes effect by itself).

use bytes::Bytes;

use super::Server;
use crate::db::NO_EXPIRE;

#[derive(Clone, Copy, PartialEq)]
enum Pick {
    Random,
    /// Oldest access time (LRU; LFU approximated the same way).
    Idle,
    /// Nearest expiry.
    Ttl,
}

/// Evict until under maxmemory. Returns true when still over the limit
/// (nothing left to evict, or the noeviction policy): deny-oom commands
/// are then refused.
pub fn perform_evictions(srv: &mut Server) -> bool {
    let max = srv.config.maxmemory;
    if max == 0 || (super::alloc::used_memory() as u64) <= max {
        return false;
    }
    let (volatile, pick) = match srv.config.get("maxmemory-policy").unwrap_or("noeviction") {
        "allkeys-random" => (false, Pick::Random),
        "allkeys-lru" | "allkeys-lfu" => (false, Pick::Idle),
        "volatile-random" => (true, Pick::Random),
        "volatile-lru" | "volatile-lfu" => (true, Pick::Idle),
        "volatile-ttl" => (true, Pick::Ttl),
        _ => return true,
    };
    let samples = srv.config.get_i64("maxmemory-samples").clamp(1, 64) as usize;
    let lazy = srv.config.get_bool("lazyfree-lazy-eviction");
    while (super::alloc::used_memory() as u64) > max {
        let Some((db, key)) = choose(srv, volatile, pick, samples) else {
            return true;
        };
        if srv.dbs[db].remove(&key).is_none() {
            continue;
        }
        srv.stats.evicted_keys += 1;
        srv.signal_modified_key(db, &key, 0);
        srv.notify_keyspace_event(crate::config::params::NOTIFY_EVICTED, "evicted", &key, db);
        let cmd: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
        srv.propagate(
            db,
            vec![Bytes::from_static(cmd), Bytes::copy_from_slice(&key)],
        );
    }
    false
}

/// A victim among `samples` random keys of the databases that have
/// candidates.
fn choose(srv: &Server, volatile: bool, pick: Pick, samples: usize) -> Option<(usize, Vec<u8>)> {
    let mut best: Option<(usize, Vec<u8>, i64)> = None;
    for (i, db) in srv.dbs.iter().enumerate() {
        let candidates = if volatile { db.expires } else { db.len() };
        if candidates == 0 {
            continue;
        }
        // Volatile keys are found among random keys: try more when few.
        let tries = if volatile { samples * 16 } else { samples };
        let mut found = 0;
        for _ in 0..tries {
            let Some((k, o)) = db.dict.random_entry() else {
                break;
            };
            if volatile && o.expire == NO_EXPIRE {
                continue;
            }
            let score = match pick {
                Pick::Random => 0,
                Pick::Idle => o.lru as i64,
                Pick::Ttl => o.expire,
            };
            if best.as_ref().is_none_or(|b| score < b.2) {
                best = Some((i, k.to_vec(), score));
            }
            found += 1;
            if found >= samples || pick == Pick::Random {
                break;
            }
        }
        if pick == Pick::Random && best.is_some() {
            break;
        }
    }
    if best.is_none() && volatile {
        // Few volatile keys among many: find one by walking the table.
        for (i, db) in srv.dbs.iter().enumerate().filter(|(_, d)| d.expires > 0) {
            let mut cursor = 0;
            loop {
                cursor = db.dict.scan(cursor, |k, o| {
                    if best.is_none() && o.expire != NO_EXPIRE {
                        best = Some((i, k.to_vec(), 0));
                    }
                });
                if cursor == 0 || best.is_some() {
                    break;
                }
            }
            if best.is_some() {
                break;
            }
        }
    }
    best.map(|(db, k, _)| (db, k))
}

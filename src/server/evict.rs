//! maxmemory: before a command runs, keys are evicted by maxmemory-policy
//! until used memory is back under the limit; when nothing (more) can be
//! evicted, commands that may grow memory are refused with -OOM.

use bytes::Bytes;

use super::Server;
use crate::db::NO_EXPIRE;

pub const OOM_ERR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Longest time one call may spend evicting (Redis bounds it too, through
/// maxmemory-eviction-tenacity; the rest is left for the next command).
const EVICTION_BUDGET_US: u128 = 50_000;

/// Evict until under maxmemory. Returns false when memory stays above the
/// limit (policy noeviction, or no candidate key left).
pub fn perform_evictions(srv: &mut Server) -> bool {
    let max = srv.config.maxmemory as usize;
    if max == 0 || srv.loading || super::alloc::used_memory() <= max {
        return true;
    }
    let policy = srv
        .config
        .get("maxmemory-policy")
        .unwrap_or("noeviction")
        .to_string();
    if policy == "noeviction" {
        return false;
    }
    let volatile = policy.starts_with("volatile");
    let random = policy.ends_with("random");
    let samples = srv.config.get_i64("maxmemory-samples").clamp(1, 64) as usize;
    let start = std::time::Instant::now();
    while super::alloc::used_memory() > max {
        if start.elapsed().as_micros() > EVICTION_BUDGET_US {
            return false;
        }
        let Some((db, key)) = pick_victim(srv, &policy, volatile, random, samples) else {
            return false;
        };
        if srv.dbs[db].remove(&key).is_none() {
            continue;
        }
        srv.stats.evicted_keys += 1;
        srv.notify_keyspace_event(crate::config::params::NOTIFY_EVICTED, "evicted", &key, db);
        srv.signal_modified_key(db, &key, 0);
        srv.propagate(db, vec![Bytes::from_static(b"DEL"), Bytes::from(key)]);
    }
    true
}

/// The best of a few sampled keys per database, as Redis's approximated
/// LRU/LFU/TTL (without its eviction pool), or a random key.
fn pick_victim(
    srv: &Server,
    policy: &str,
    volatile: bool,
    random: bool,
    samples: usize,
) -> Option<(usize, Vec<u8>)> {
    let now_lru = crate::db::lru_clock();
    let mut best: Option<(u64, usize, Vec<u8>)> = None;
    for (i, db) in srv.dbs.iter().enumerate() {
        if db.is_empty() || (volatile && db.expires == 0) {
            continue;
        }
        // Volatile policies may need more draws to find keys with a TTL.
        let tries = if volatile { samples * 8 } else { samples };
        let mut got = 0;
        for _ in 0..tries {
            let Some((k, o)) = db.dict.random_entry() else {
                break;
            };
            if volatile && o.expire == NO_EXPIRE {
                continue;
            }
            if random {
                return Some((i, k.to_vec()));
            }
            let score = if policy.ends_with("lru") {
                now_lru.saturating_sub(o.lru) as u64
            } else if policy.ends_with("lfu") {
                255 - crate::db::lfu_counter(o.lru) as u64
            } else {
                // volatile-ttl: the soonest expiry goes first.
                u64::MAX - o.expire as u64
            };
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, i, k.to_vec()));
            }
            got += 1;
            if got >= samples {
                break;
            }
        }
    }
    best.map(|(_, db, k)| (db, k))
}

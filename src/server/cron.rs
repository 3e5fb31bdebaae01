//! Periodic work at `hz`: active expiry, idle-client timeouts, pause
//! expiry and the samples behind INFO's instantaneous figures.

use super::client::cflags;
use super::reactor::Reactor;

/// Runs every 1000/hz ms.
pub fn server_cron(r: &mut Reactor) {
    let now = crate::util::mstime();
    // DEBUG PAUSE-CRON: skip the periodic work.
    if r.srv.pause_cron {
        return;
    }
    r.srv.cronloops += 1;

    crate::persistence::check_child(&mut r.srv);
    crate::persistence::check_save_points(&mut r.srv);
    crate::commands::dump::close_idle_migrate_sockets(&mut r.srv);

    // A replica's keys expire when its master says so (DEL in the stream).
    if r.srv.active_expire_enabled && !crate::replication::is_replica(&r.srv) {
        active_expire_cycle(&mut r.srv, now);
    }
    r.srv.drain_expired();
    // activerehashing: 1 ms of incremental rehash on the first database
    // that is resizing, as Redis's databasesCron.
    if r.srv.config.get_bool("activerehashing") {
        if let Some(db) = r.srv.dbs.iter_mut().find(|d| d.dict.is_rehashing()) {
            db.dict.rehash_for(1000);
        }
    }
    // A maxmemory lowered below the memory in use (CONFIG SET).
    super::evict::perform_evictions(&mut r.srv);
    // Keep the client-side caching table within tracking-table-max-keys.
    if r.srv.tracking.clients() > 0 {
        super::tracking::limit_used_slots(&mut r.srv);
    }
    // Deliver expiry notifications, WATCH and client-side caching
    // invalidations.
    if !r.srv.pending_notifications.is_empty()
        || !r.srv.dirty_cas_pending.is_empty()
        || !r.srv.tracking.outbox.is_empty()
    {
        r.deliver_background_events();
    }
    crate::persistence::aof::feed(&mut r.srv);
    crate::replication::feed(&mut r.srv);
    r.srv.propagated.clear();
    crate::persistence::aof::cron(&mut r.srv);
    crate::replication::cron(r);

    super::blocking::check_timeouts(r, now);

    // Idle clients (timeout), as clientsCronHandleTimeout.
    let timeout = r.srv.config.timeout;
    if timeout > 0 {
        let idle: Vec<usize> = r
            .clients
            .iter()
            .filter(|c| {
                !c.has(cflags::PUBSUB)
                    && !c.has(cflags::BLOCKED)
                    && !c.has(cflags::SLAVE)
                    && !c.has(cflags::MASTER)
                    && !c.has(cflags::MONITOR)
                    && (now - c.last_interaction) / 1000 > timeout as i64
            })
            .map(|c| c.token)
            .collect();
        for s in idle {
            tracing::debug!("Closing idle client");
            r.close_client(s);
        }
    }

    // CLIENT PAUSE ended: resume held clients.
    if r.srv.pause_kind.is_none() || now >= r.srv.pause_until {
        r.srv.pause_kind = None;
        r.unpause_clients();
    }

    // Instantaneous metrics: keep ~1.6 s of samples, one per cron tick.
    let st = &mut r.srv.stats;
    st.ops_samples.push_back((
        now,
        st.total_commands_processed,
        st.net_input_bytes,
        st.net_output_bytes,
    ));
    while st.ops_samples.len() > 16 {
        st.ops_samples.pop_front();
    }
    for c in r.clients.iter_mut() {
        c.qbuf_peak = c.query.len();
    }
    r.queue_all_with_output();
}

/// Reclaim expired keys nobody reads. Like Redis's slow cycle: a time
/// budget per call (25% of the cron period at effort 1), repeating on a
/// database while many of the sampled keys were expired.
pub fn active_expire_cycle(srv: &mut super::Server, now: i64) {
    let effort = srv.config.active_expire_effort as u64;
    let period_us = 1_000_000 / srv.config.hz.max(1) as u64;
    let budget_us = period_us * (25 + 2 * (effort - 1)) / 100;
    let start = std::time::Instant::now();
    // We sweep the main table (expiry lives in the entry), so steps are
    // larger than Redis's samples of its expires table.
    let buckets_per_step = 256 * effort as usize;
    let min_steps = 16 * effort as usize;
    'dbs: for db in srv.dbs.iter_mut() {
        let mut steps = 0;
        while db.expires > 0 {
            let (checked, expired) = db.active_expire_step(now, buckets_per_step);
            steps += 1;
            if start.elapsed().as_micros() as u64 > budget_us {
                break 'dbs;
            }
            // A full pass done, or few stale keys left: next database.
            if db.expire_cursor == 0 || (steps >= min_steps && expired * 10 < checked.max(1)) {
                break;
            }
        }
    }
    srv.stats.expire_cycle_cpu_ms += start.elapsed().as_millis() as u64;
}

impl Reactor {
    /// Publish notifications and flag WATCHers raised outside a command
    /// (active expiry).
    pub fn deliver_background_events(&mut self) {
        super::tracking::deliver(&mut self.srv, &mut self.clients, None);
        for id in std::mem::take(&mut self.srv.dirty_cas_pending) {
            if let Some(c) = self.clients.by_id(id) {
                c.flags |= cflags::DIRTY_CAS;
            }
        }
        let notes = std::mem::take(&mut self.srv.pending_notifications);
        for (ch, msg) in notes {
            crate::commands::connection::publish_background(
                &mut self.srv,
                &mut self.clients,
                &ch,
                &msg,
            );
        }
    }
}

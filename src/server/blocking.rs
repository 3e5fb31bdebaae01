//! Clients blocked on keys (BLPOP and friends): wake-ups when a key they
//! wait on receives data, and timeouts.

use super::reactor::Reactor;

/// Serve clients blocked on keys signalled ready by the last command.
pub fn handle_ready_keys(r: &mut Reactor) {
    r.srv.ready_keys.clear();
}

/// Unblock clients whose timeout has passed (called from cron).
pub fn check_timeouts(r: &mut Reactor, now: i64) {
    let _ = (r, now);
}

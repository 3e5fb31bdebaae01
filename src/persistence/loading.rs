//! Serving clients while the dataset loads (start-up, DEBUG RELOAD,
//! DEBUG LOADAOF), as Redis's processEventsWhileBlocked: new connections
//! are accepted, commands flagged `loading` (INFO, DEBUG, CONFIG ...) run,
//! every other one gets -LOADING, and closed connections are freed. The
//! loaders call `progress` as they go; it serves once per
//! loading-process-events-interval-bytes.

use std::cell::Cell;
use std::io;
use std::time::Duration;

use mio::Events;

use crate::protocol::parse::{Limits, Parsed};
use crate::server::client::cflags;
use crate::server::reactor::{accept_on, close_client_in, LISTENER_BASE};
use crate::server::{Clients, Server};

thread_local! {
    /// The reactor's clients while a load runs (null: nobody to serve).
    static CLIENTS: Cell<*mut Clients> = const { Cell::new(std::ptr::null_mut()) };
    /// Bytes loaded when clients were last served.
    static LAST_SERVED: Cell<u64> = const { Cell::new(0) };
}

/// Run `f` (a load) with the reactor's clients reachable by `progress`.
/// The caller must not touch `clients` while `f` runs.
pub fn with_clients<R>(clients: *mut Clients, f: impl FnOnce() -> R) -> R {
    let prev = CLIENTS.with(|c| c.replace(clients));
    let r = f();
    CLIENTS.with(|c| c.set(prev));
    r
}

/// The clients `with_clients` made reachable (null when none).
pub fn clients_ptr() -> *mut Clients {
    CLIENTS.with(|c| c.get())
}

/// A load of `total_bytes` starts: INFO shows loading:1 from now on.
pub fn start(srv: &mut Server, total_bytes: u64) {
    srv.loading = true;
    srv.persist.load = super::LoadProgress {
        start_time: crate::util::mstime() / 1000,
        total_bytes,
        loaded_bytes: 0,
    };
    LAST_SERVED.with(|l| l.set(0));
    // Readiness the reactor polled but did not handle yet (it is blocked
    // in this load) will not be reported again: look at every client once.
    serve_clients(srv, true);
}

pub fn stop(srv: &mut Server) {
    srv.loading = false;
}

/// What the RDB loader does after each key: key-load-delay, and serving
/// clients once per loading-process-events-interval-bytes. Both settings
/// are looked up again only after clients were served, the only time a
/// CONFIG SET can change them (a lookup per key was a visible cost).
pub struct KeyHook {
    delay: i64,
    interval: u64,
}

impl KeyHook {
    pub fn new(srv: &Server) -> KeyHook {
        KeyHook {
            delay: srv.config.get_i64("key-load-delay"),
            interval: srv
                .config
                .get_i64("loading-process-events-interval-bytes")
                .max(1024) as u64,
        }
    }

    /// A key was loaded; `loaded` bytes are consumed so far.
    pub fn key_done(&mut self, srv: &mut Server, loaded: u64) {
        key_delay(self.delay);
        srv.persist.load.loaded_bytes = loaded;
        let last = LAST_SERVED.with(|l| l.get());
        if loaded / self.interval > last / self.interval {
            LAST_SERVED.with(|l| l.set(loaded));
            serve(srv);
            *self = KeyHook::new(srv);
        }
    }
}

/// key-load-delay `d`: microseconds slept after each key loaded (a
/// testing aid; negative values sleep one microsecond with probability
/// 1/-n).
fn key_delay(d: i64) {
    if d > 0 {
        std::thread::sleep(Duration::from_micros(d as u64));
    } else if d < 0 && (crate::util::ustime() as u64).is_multiple_of(d.unsigned_abs()) {
        std::thread::sleep(Duration::from_micros(1));
    }
}

/// One turn of event processing while the main loop is blocked.
pub fn serve(srv: &mut Server) {
    serve_clients(srv, false);
}

/// Serve the clients with new events, or (`all`) every client.
fn serve_clients(srv: &mut Server, all: bool) {
    let clients_ptr = CLIENTS.with(|c| c.get());
    if clients_ptr.is_null() || srv.poll_ptr.is_null() {
        return;
    }
    // SAFETY: `with_clients` got this pointer from the reactor, whose loop
    // is blocked in the load that called us; nothing else borrows the
    // clients or the poller until we return.
    let (clients, poll) = unsafe { (&mut *clients_ptr, &mut *srv.poll_ptr) };
    let mut events = Events::with_capacity(128);
    if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
        return;
    }
    let mut scratch = vec![0u8; 16 * 1024];
    let mut touched: Vec<usize> = if all {
        clients.iter().map(|c| c.token).collect()
    } else {
        Vec::new()
    };
    for ev in events.iter() {
        let slot = ev.token().0;
        if slot >= LISTENER_BASE {
            // SAFETY: the listeners live in the reactor for the whole run.
            let listener =
                unsafe { srv.listeners_ptr.as_ref() }.and_then(|ls| ls.get(slot - LISTENER_BASE));
            if let Some(l) = listener {
                accept_on(l, poll.registry(), srv, clients);
            }
            continue;
        }
        touched.push(slot);
    }
    touched.sort_unstable();
    touched.dedup();
    for slot in touched {
        let Some(mut c) = clients.take(slot) else {
            continue;
        };
        let mut closed = false;
        loop {
            match c.conn.read(&mut scratch) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    c.query.extend_from_slice(&scratch[..n]);
                    c.net_in += n as u64;
                    srv.stats.net_input_bytes += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        while !c
            .has(cflags::CLOSE_AFTER_REPLY | cflags::CLOSE_ASAP | cflags::PAUSED | cflags::BLOCKED)
        {
            let limits = Limits {
                proto_max_bulk_len: srv.config.proto_max_bulk_len,
                auth_required: !c.authenticated,
            };
            match c.parse.parse(&mut c.query, limits) {
                Ok(Parsed::Command(argv)) => {
                    crate::server::exec::process_command(srv, clients, &mut c, argv);
                }
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    c.reply.error_raw(&format!("ERR {}", e.reply));
                    c.flags |= cflags::CLOSE_AFTER_REPLY;
                }
            }
        }
        let failed = c.flush().is_err();
        let done = c.has(cflags::CLOSE_ASAP)
            || (c.has(cflags::CLOSE_AFTER_REPLY) && c.pending_output() == 0);
        clients.restore(slot, c);
        if closed || failed || done {
            close_client_in(poll.registry(), srv, clients, slot);
        } else {
            // Output a full socket kept back is sent by the main loop.
            srv.busy_slots.push(slot);
        }
    }
}

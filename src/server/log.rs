//! Logging in Redis's format (`pid:role dd Mon yyyy hh:mm:ss.mmm * msg`)
//! through `tracing`, so tests and tools that grep Redis logs keep working.
//!
//! Level mapping: TRACE = debug (.), DEBUG = verbose (-), INFO = notice (*),
//! WARN and ERROR = warning (#).

use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

struct RedisFormat;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date from days since the epoch (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// "22 Nov 2026 10:00:00.123" in UTC.
pub fn timestamp() -> String {
    let ms = crate::util::mstime();
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil(secs.div_euclid(86400));
    let sod = secs.rem_euclid(86400);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

/// Role letter in the log prefix: M master, C forked child.
pub static ROLE: Mutex<char> = Mutex::new('M');

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mark = match *event.metadata().level() {
            Level::TRACE => '.',
            Level::DEBUG => '-',
            Level::INFO => '*',
            _ => '#',
        };
        let role = ROLE.lock().map(|r| *r).unwrap_or('M');
        write!(
            w,
            "{}:{} {} {} ",
            std::process::id(),
            role,
            timestamp(),
            mark
        )?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// A writer that appends to the log file, or writes to stdout.
#[derive(Clone)]
struct LogTarget {
    path: Option<String>,
}

struct LogWriter {
    path: Option<String>,
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.path {
            // Opened per line with O_APPEND, as Redis does, so other writers
            // (and log rotation) interleave safely.
            Some(p) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?
                .write_all(buf)?,
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(buf)?;
                out.flush()?;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogTarget {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter {
            path: self.path.clone(),
        }
    }
}

/// Current verbosity: 0 debug, 1 verbose, 2 notice, 3 warning, 4 nothing.
/// CONFIG SET loglevel changes it at run time.
pub static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(2);

pub fn set_level(level: u8) {
    VERBOSITY.store(level, std::sync::atomic::Ordering::Relaxed);
}

fn level_rank(l: &Level) -> u8 {
    match *l {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        _ => 3,
    }
}

/// Install the global logger. `level` is 0..4 as in VERBOSITY.
pub fn init(level: u8, logfile: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    set_level(level);
    let target = LogTarget {
        path: if logfile.is_empty() {
            None
        } else {
            Some(logfile.to_string())
        },
    };
    let filter = tracing_subscriber::filter::filter_fn(|m| {
        level_rank(m.level()) >= VERBOSITY.load(std::sync::atomic::Ordering::Relaxed)
    });
    let layer = tracing_subscriber::fmt::layer()
        .event_format(RedisFormat)
        .with_writer(target)
        .with_filter(filter);
    let sub = tracing_subscriber::registry().with(layer);
    let _ = tracing::subscriber::set_global_default(sub);
}

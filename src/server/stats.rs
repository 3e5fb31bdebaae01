//! Counters behind INFO stats, commandstats and errorstats.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub client_qbuf_limit_disconnections: u64,
    pub client_outbuf_limit_disconnections: u64,
    pub expire_cycle_cpu_ms: u64,
    pub dump_payload_sanitizations: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub error_stats: BTreeMap<String, u64>,
    /// Per command id (Registry ids).
    pub cmd: Vec<CmdStat>,
    /// Samples for instantaneous_ops_per_sec: (ms, total commands).
    pub ops_samples: std::collections::VecDeque<(i64, u64, u64, u64)>,
    /// Set when the current command replied with an error.
    pub cur_cmd_error: bool,
    /// Per command id: latency histogram (latency-tracking), allocated on
    /// the command's first call.
    pub latency: Vec<Option<Box<LatencyHistogram>>>,
}

/// Log-linear histogram of command durations in nanoseconds, 1 ns .. 1 s
/// (Redis's HDR histogram range for latency-tracking): exact below 64 ns,
/// then 32 buckets per power of two (about 3% wide).
#[derive(Debug)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
}

const LAT_MAX_NS: u64 = 1_000_000_000;
const LAT_BUCKETS: usize = 64 + (30 - 6) * 32;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; LAT_BUCKETS],
            total: 0,
        }
    }
}

impl LatencyHistogram {
    fn index(v: u64) -> usize {
        let v = v.clamp(1, LAT_MAX_NS);
        if v < 64 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as usize;
        let m = (v >> (e - 5)) as usize;
        64 + (e - 6) * 32 + (m - 32)
    }

    /// The largest value that falls in bucket `i`.
    fn highest(i: usize) -> u64 {
        if i < 64 {
            return i as u64;
        }
        let e = (i - 64) / 32 + 6;
        let m = ((i - 64) % 32 + 32) as u64;
        ((m + 1) << (e - 5)) - 1
    }

    pub fn record(&mut self, ns: u64) {
        self.counts[Self::index(ns)] += 1;
        self.total += 1;
    }

    /// The value at percentile `p` (0..=100), as hdr_value_at_percentile.
    pub fn value_at(&self, p: f64) -> u64 {
        let want = (((p / 100.0) * self.total as f64) + 0.5) as u64;
        let want = want.max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Self::highest(i);
            }
        }
        0
    }
}

impl Stats {
    /// Count an error reply under its code (the first word), as
    /// INFO errorstats does.
    pub fn record_error(&mut self, full: &str) {
        let code = full.split(' ').next().unwrap_or("ERR");
        self.total_error_replies += 1;
        self.cur_cmd_error = true;
        // Redis caps the number of distinct error codes it tracks at 128.
        if self.error_stats.len() < 128 || self.error_stats.contains_key(code) {
            *self.error_stats.entry(code.to_string()).or_insert(0) += 1;
        }
    }

    pub fn reset(&mut self) {
        let cmds = self.cmd.len();
        *self = Stats::default();
        self.cmd = vec![CmdStat::default(); cmds];
    }

    /// Record a command's duration for INFO latencystats.
    #[inline]
    pub fn record_latency(&mut self, cmd_id: usize, ns: u64) {
        if self.latency.len() <= cmd_id {
            self.latency
                .resize_with(self.cmd.len().max(cmd_id + 1), || None);
        }
        self.latency[cmd_id]
            .get_or_insert_with(Default::default)
            .record(ns);
    }

    /// Instantaneous ops/sec, input and output kbps from the samples.
    pub fn instantaneous(&self) -> (u64, f64, f64) {
        let (Some(first), Some(last)) = (self.ops_samples.front(), self.ops_samples.back()) else {
            return (0, 0.0, 0.0);
        };
        let dt = (last.0 - first.0) as f64 / 1000.0;
        if dt <= 0.0 {
            return (0, 0.0, 0.0);
        }
        let ops = ((last.1 - first.1) as f64 / dt) as u64;
        let inkb = (last.2 - first.2) as f64 / dt / 1024.0;
        let outkb = (last.3 - first.3) as f64 / dt / 1024.0;
        (ops, inkb, outkb)
    }
}

#[cfg(test)]
mod tests {
    use super::LatencyHistogram;

    #[test]
    fn histogram_percentiles() {
        let mut h = LatencyHistogram::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.value_at(50.0);
        assert!((490_000..=520_000).contains(&p50), "{p50}");
        assert!(h.value_at(100.0) >= 1_000_000);
        assert!(h.value_at(0.0) >= 1000);
        h.record(5_000_000_000);
        assert_eq!(
            h.value_at(100.0),
            LatencyHistogram::highest(LatencyHistogram::index(1_000_000_000))
        );
    }
}

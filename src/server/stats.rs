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

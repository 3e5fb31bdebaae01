//! ermine-cli: the redis-cli of Ermine.
//!
//! Option parsing, output formats and modes follow redis-cli 7.0 so that
//! scripts (and people) get the same bytes from either program.

mod cluster;
pub mod conn;
mod edit;
pub mod format;
mod modes;
pub mod reply;
mod typedict;

use conn::Conn;
use format::Output;
use reply::Reply;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

const USAGE: &str = include_str!("usage.txt");
const DEFAULT_PIPE_TIMEOUT: i32 = 30;

/// Set by SIGINT in the long-running scan/stat modes.
pub(crate) static FORCE_CANCEL: AtomicBool = AtomicBool::new(false);
/// Socket of the current connection, for the interactive SIGINT handler.
static CONN_FD: AtomicI32 = AtomicI32::new(-1);
/// In MONITOR or SUBSCRIBE streaming (Ctrl-C returns to the prompt).
static BLOCKING: AtomicBool = AtomicBool::new(false);
/// Ctrl-C ended a MONITOR/SUBSCRIBE stream.
static ABORTED: AtomicBool = AtomicBool::new(false);

/// The version string redis-cli prints (its own version, then ours the
/// way a git build adds its commit).
pub fn cli_version() -> String {
    format!(
        "{} (ermine {})",
        crate::REDIS_VERSION,
        crate::ERMINE_VERSION
    )
}

/// Flush stdout and terminate.
pub(crate) fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

pub(crate) fn out(b: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(b);
    let _ = o.flush();
}

pub(crate) fn out_str(s: &str) {
    out(s.as_bytes())
}

pub(crate) fn err_str(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(s.as_bytes());
}

/// C atoi(): optional blanks and sign, then digits; 0 if none.
pub fn atoi(s: &str) -> i64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add((b[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// C atoi() narrowed to int.
pub fn atoi32(s: &str) -> i32 {
    atoi(s) as i32
}

/// C strtoll() base 10 with saturation.
pub fn strtoll(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let mut v: i64 = 0;
    for c in digits[..end].bytes() {
        let d = (c - b'0') as i64;
        v = match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => x,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
    }
    v
}

/// C atof(): the longest numeric prefix.
pub fn atof(s: &str) -> f64 {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let mantissa_end = i;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let ds = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > ds {
            i = j;
        }
    }
    t[..i]
        .parse::<f64>()
        .or_else(|_| t[..mantissa_end].parse::<f64>())
        .unwrap_or(0.0)
}

#[derive(Clone)]
pub struct Config {
    pub host: String,
    pub port: i32,
    pub socket: Option<String>,
    pub repeat: i64,
    /// Microseconds.
    pub interval: i64,
    pub input_dbnum: i32,
    pub auth: Option<Vec<u8>>,
    pub user: Option<Vec<u8>>,
    pub askpass: bool,
    pub no_auth_warning: bool,
    pub output: Output,
    pub push_output: bool,
    pub mb_delim: Vec<u8>,
    pub cmd_delim: Vec<u8>,
    pub stdin_lastarg: bool,
    pub stdin_tag: Option<String>,
    pub resp2: bool,
    /// 0: RESP2, 1: -3 (HELLO failure is fatal), 2: implied by --json.
    pub resp3: u8,
    pub set_errcode: bool,
    pub quoted_input: bool,
    pub latency_mode: bool,
    pub latency_history: bool,
    pub latency_dist: bool,
    pub stat_mode: bool,
    pub scan_mode: bool,
    pub pattern: Option<Vec<u8>>,
    pub rdb_filename: Option<String>,
    pub getrdb_mode: bool,
    pub functions_rdb_mode: bool,
    pub pipe_mode: bool,
    pub pipe_timeout: i32,
    pub bigkeys: bool,
    pub memkeys: bool,
    pub memkeys_samples: i32,
    pub hotkeys: bool,
    pub eval: Option<String>,
    pub eval_ldb: bool,
    pub eval_ldb_sync: bool,
    pub cluster_mode: bool,
    pub cluster_manager: Option<(String, Vec<String>)>,
    pub cluster_from: Option<String>,
    pub slave_mode: bool,
    pub lru_test: Option<i64>,
    pub intrinsic_latency: Option<i32>,
    pub verbose: bool,
    pub mono: bool,
    pub tls: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 6379,
            socket: None,
            repeat: 1,
            interval: 0,
            input_dbnum: 0,
            auth: None,
            user: None,
            askpass: false,
            no_auth_warning: false,
            output: Output::Standard,
            push_output: true,
            mb_delim: b"\n".to_vec(),
            cmd_delim: b"\n".to_vec(),
            stdin_lastarg: false,
            stdin_tag: None,
            resp2: false,
            resp3: 0,
            set_errcode: false,
            quoted_input: false,
            latency_mode: false,
            latency_history: false,
            latency_dist: false,
            stat_mode: false,
            scan_mode: false,
            pattern: None,
            rdb_filename: None,
            getrdb_mode: false,
            functions_rdb_mode: false,
            pipe_mode: false,
            pipe_timeout: DEFAULT_PIPE_TIMEOUT,
            bigkeys: false,
            memkeys: false,
            memkeys_samples: 0,
            hotkeys: false,
            eval: None,
            eval_ldb: false,
            eval_ldb_sync: false,
            cluster_mode: false,
            cluster_manager: None,
            cluster_from: None,
            slave_mode: false,
            lru_test: None,
            intrinsic_latency: None,
            verbose: false,
            mono: false,
            tls: false,
        }
    }
}

fn usage(err: bool) -> ! {
    let text = USAGE.replacen("@VERSION@", &cli_version(), 1);
    if err {
        err_str(&text);
    } else {
        out_str(&text);
    }
    exit(if err { 1 } else { 0 })
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if s.len() - i < 3 {
                err_str("Incomplete URI encoding\n");
                exit(1);
            }
            let h = (s[i + 1] as char).to_ascii_lowercase().to_digit(16);
            let l = (s[i + 2] as char).to_ascii_lowercase().to_digit(16);
            match (h, l) {
                (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                _ => {
                    err_str("Illegal character in URI encoding\n");
                    exit(1);
                }
            }
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// redis://[[user:]pass@]host[:port][/db]
fn parse_uri(uri: &str, cfg: &mut Config) {
    let b = uri.as_bytes();
    let lower: String = uri.chars().take(9).collect::<String>().to_ascii_lowercase();
    let mut cur: &[u8];
    if lower.starts_with("rediss://") {
        err_str("rediss:// is only supported when redis-cli is compiled with OpenSSL\n");
        exit(1);
    } else if lower.starts_with("redis://") {
        cur = &b[8..];
    } else {
        err_str("Invalid URI scheme\n");
        exit(1);
    }
    if cur.is_empty() {
        return;
    }
    if let Some(at) = cur.iter().position(|&c| c == b'@') {
        let mut start = 0;
        if let Some(colon) = cur.iter().position(|&c| c == b':') {
            if colon < at {
                cfg.user = Some(percent_decode(&cur[..colon]));
                start = colon + 1;
            }
        }
        cfg.auth = Some(percent_decode(&cur[start..at]));
        cur = &cur[at + 1..];
    }
    if cur.is_empty() {
        return;
    }
    let path = cur.iter().position(|&c| c == b'/');
    if cur[0] != b'/' {
        let mut host_end = path.unwrap_or(cur.len());
        if let Some(colon) = cur.iter().position(|&c| c == b':') {
            cfg.port = atoi32(&String::from_utf8_lossy(&cur[colon + 1..]));
            host_end = colon;
        }
        cfg.host = String::from_utf8_lossy(&cur[..host_end]).into_owned();
    }
    cur = match path {
        Some(p) => &cur[p + 1..],
        None => &[],
    };
    if cur.is_empty() {
        return;
    }
    cfg.input_dbnum = atoi32(&String::from_utf8_lossy(cur));
}

fn unrecognized(a: &str) -> ! {
    err_str(&format!(
        "Unrecognized option or bad number of args for: '{}'\n",
        a
    ));
    exit(1)
}

/// Parse options; returns the index of the first command argument.
pub fn parse_options(args: &[String], cfg: &mut Config) -> usize {
    let argc = args.len();
    let mut i = 1;
    while i < argc {
        let a = args[i].as_str();
        let lastarg = i == argc - 1;
        macro_rules! next {
            () => {{
                i += 1;
                args[i].as_str()
            }};
        }
        match a {
            "-h" if !lastarg => cfg.host = next!().to_string(),
            "-h" => usage(false),
            "--help" => usage(false),
            "-x" => cfg.stdin_lastarg = true,
            "-X" if !lastarg => cfg.stdin_tag = Some(next!().to_string()),
            "-p" if !lastarg => cfg.port = atoi32(next!()),
            "-s" if !lastarg => cfg.socket = Some(next!().to_string()),
            "-r" if !lastarg => cfg.repeat = strtoll(next!()),
            "-i" if !lastarg => cfg.interval = (atof(next!()) * 1_000_000.0) as i64,
            "-n" if !lastarg => cfg.input_dbnum = atoi32(next!()),
            "--no-auth-warning" => cfg.no_auth_warning = true,
            "--askpass" => cfg.askpass = true,
            "-a" | "--pass" if !lastarg => cfg.auth = Some(next!().as_bytes().to_vec()),
            "--user" if !lastarg => cfg.user = Some(next!().as_bytes().to_vec()),
            "-u" if !lastarg => {
                let u = next!().to_string();
                parse_uri(&u, cfg);
            }
            "--raw" => cfg.output = Output::Raw,
            "--no-raw" => cfg.output = Output::Standard,
            "--quoted-input" => cfg.quoted_input = true,
            "--csv" => cfg.output = Output::Csv,
            "--json" | "--quoted-json" => {
                if cfg.resp3 == 0 {
                    cfg.resp3 = 2;
                }
                cfg.output = if a == "--json" {
                    Output::Json
                } else {
                    Output::QuotedJson
                };
            }
            "--latency" => cfg.latency_mode = true,
            "--latency-dist" => cfg.latency_dist = true,
            "--mono" => cfg.mono = true,
            "--latency-history" => {
                cfg.latency_mode = true;
                cfg.latency_history = true;
            }
            "--lru-test" if !lastarg => cfg.lru_test = Some(strtoll(next!())),
            "--slave" | "--replica" => cfg.slave_mode = true,
            "--stat" => cfg.stat_mode = true,
            "--scan" => cfg.scan_mode = true,
            "--pattern" if !lastarg => cfg.pattern = Some(next!().as_bytes().to_vec()),
            "--quoted-pattern" if !lastarg => {
                let p = next!();
                match format::unquote(p.as_bytes()) {
                    Some(v) => cfg.pattern = Some(v),
                    None => {
                        err_str("Invalid quoted string specified for --quoted-pattern.\n");
                        exit(1);
                    }
                }
            }
            "--intrinsic-latency" if !lastarg => cfg.intrinsic_latency = Some(atoi32(next!())),
            "--rdb" if !lastarg => {
                cfg.getrdb_mode = true;
                cfg.rdb_filename = Some(next!().to_string());
            }
            "--functions-rdb" if !lastarg => {
                cfg.functions_rdb_mode = true;
                cfg.rdb_filename = Some(next!().to_string());
            }
            "--pipe" => cfg.pipe_mode = true,
            "--pipe-timeout" if !lastarg => cfg.pipe_timeout = atoi32(next!()),
            "--bigkeys" => cfg.bigkeys = true,
            "--memkeys" => {
                cfg.memkeys = true;
                cfg.memkeys_samples = 0;
            }
            "--memkeys-samples" => {
                cfg.memkeys = true;
                // redis-cli reads past the end here; treat a missing
                // value as 0 (server default).
                cfg.memkeys_samples = if lastarg { 0 } else { atoi32(next!()) };
            }
            "--hotkeys" => cfg.hotkeys = true,
            "--eval" if !lastarg => cfg.eval = Some(next!().to_string()),
            "--ldb" => {
                cfg.eval_ldb = true;
                cfg.output = Output::Raw;
            }
            "--ldb-sync-mode" => {
                cfg.eval_ldb = true;
                cfg.eval_ldb_sync = true;
                cfg.output = Output::Raw;
            }
            "-c" => cfg.cluster_mode = true,
            "-d" if !lastarg => cfg.mb_delim = next!().as_bytes().to_vec(),
            "-D" if !lastarg => cfg.cmd_delim = next!().as_bytes().to_vec(),
            "-e" => cfg.set_errcode = true,
            "--verbose" => cfg.verbose = true,
            "--cluster" if !lastarg => {
                if cfg.cluster_manager.is_some() {
                    usage(true);
                }
                i += 1;
                let name = args[i].clone();
                let mut j = i;
                while j < argc && !args[j].starts_with('-') {
                    j += 1;
                }
                if j > i {
                    j -= 1;
                }
                cfg.cluster_manager = Some((name, args[i + 1..=j.max(i)].to_vec()));
                i = j;
            }
            "--cluster-from" if !lastarg => cfg.cluster_from = Some(next!().to_string()),
            "--cluster" => usage(true),
            "--cluster-only-masters"
            | "--cluster-only-replicas"
            | "--cluster-from-askpass"
            | "--cluster-yes"
            | "--cluster-simulate"
            | "--cluster-replace"
            | "--cluster-copy"
            | "--cluster-slave"
            | "--cluster-use-empty-masters"
            | "--cluster-search-multiple-owners"
            | "--cluster-fix-with-unreachable-masters"
            | "--insecure" => {}
            "--tls" => cfg.tls = true,
            "--cluster-replicas"
            | "--cluster-master-id"
            | "--cluster-to"
            | "--cluster-from-user"
            | "--cluster-from-pass"
            | "--cluster-slots"
            | "--cluster-timeout"
            | "--cluster-pipeline"
            | "--cluster-threshold"
            | "--sni"
            | "--cacertdir"
            | "--cacert"
            | "--cert"
            | "--key"
            | "--tls-ciphers"
            | "--tls-ciphersuites"
                if !lastarg =>
            {
                i += 1;
            }
            "--cluster-weight" if !lastarg => {
                while i + 1 < argc && !args[i + 1].starts_with("--") && args[i + 1].contains('=') {
                    i += 1;
                }
            }
            "-v" | "--version" => {
                out_str(&format!("redis-cli {}\n", cli_version()));
                exit(0);
            }
            "-2" => cfg.resp2 = true,
            "-3" => cfg.resp3 = 1,
            "--show-pushes" if !lastarg => {
                let v = next!();
                let f = v.as_bytes().first().map(|c| c.to_ascii_lowercase());
                match f {
                    Some(b'n') => cfg.push_output = false,
                    Some(b'y') => cfg.push_output = true,
                    _ => err_str(&format!(
                        "Unknown --show-pushes value '{}' (valid: '[y]es', '[n]o')\n",
                        v
                    )),
                }
            }
            _ if cfg.cluster_manager.is_some() && !a.starts_with('-') => {
                let start = i;
                while i + 1 < argc && !args[i + 1].starts_with('-') {
                    i += 1;
                }
                if let Some((_, cargs)) = cfg.cluster_manager.as_mut() {
                    if cargs.is_empty() {
                        cargs.extend(args[start..=i].iter().cloned());
                    }
                }
            }
            _ => {
                if a.starts_with('-') {
                    unrecognized(a);
                }
                break;
            }
        }
        i += 1;
    }

    if cfg.socket.is_some() && cfg.cluster_mode {
        err_str("Options -c and -s are mutually exclusive.\n");
        exit(1);
    }
    if cfg.resp2 && cfg.resp3 == 1 {
        err_str("Options -2 and -3 are mutually exclusive.\n");
        exit(1);
    }
    if cfg.eval_ldb && cfg.eval.is_none() {
        err_str("Options --ldb and --ldb-sync-mode require --eval.\n");
        err_str(&format!(
            "Try {} --help for more information.\n",
            args.first().map(|s| s.as_str()).unwrap_or("redis-cli")
        ));
        exit(1);
    }
    if !cfg.no_auth_warning && cfg.auth.is_some() {
        err_str("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n");
    }
    if cfg.functions_rdb_mode && cfg.getrdb_mode {
        err_str("Option --functions-rdb and --rdb are mutually exclusive.\n");
        exit(1);
    }
    if cfg.stdin_lastarg && cfg.stdin_tag.is_some() {
        err_str("Options -x and -X are mutually exclusive.\n");
        exit(1);
    }
    i.min(argc)
}

/// How spontaneous RESP3 push messages are handled while reading.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushMode {
    /// Return them to the caller like any reply.
    Return,
    /// Print them as they arrive.
    Print,
    /// Silently drop them.
    Drop,
}

pub(crate) struct Cli {
    pub cfg: Config,
    pub conn: Option<Conn>,
    pub dbnum: i32,
    pub in_multi: bool,
    pub pre_multi_dbnum: i32,
    pub interactive: bool,
    pub shutdown: bool,
    pub monitor_mode: bool,
    pub pubsub_mode: bool,
    pub slave_mode: bool,
    pub last_cmd_type: i32,
    pub cluster_reissue: bool,
    pub cluster_send_asking: bool,
    pub push_mode: PushMode,
    pub help: Option<Vec<modes::HelpEntry>>,
    pub enable_ldb_on_eval: bool,
    pub eval_ldb_end: bool,
    /// "lua debugger> " while a session started by --ldb runs.
    pub prompt_override: Option<String>,
}

pub(crate) const CC_FORCE: u8 = 1;
pub(crate) const CC_QUIET: u8 = 2;

impl Cli {
    fn new(cfg: Config) -> Cli {
        Cli {
            cfg,
            conn: None,
            dbnum: 0,
            in_multi: false,
            pre_multi_dbnum: 0,
            interactive: false,
            shutdown: false,
            monitor_mode: false,
            pubsub_mode: false,
            slave_mode: false,
            last_cmd_type: -1,
            cluster_reissue: false,
            cluster_send_asking: false,
            push_mode: PushMode::Drop,
            help: None,
            enable_ldb_on_eval: false,
            eval_ldb_end: false,
            prompt_override: None,
        }
    }

    pub fn prompt(&self) -> String {
        let mut p = match &self.cfg.socket {
            Some(s) => format!("redis {}", s),
            None => {
                if self.cfg.host.contains(':') {
                    format!("[{}]:{}", self.cfg.host, self.cfg.port)
                } else {
                    format!("{}:{}", self.cfg.host, self.cfg.port)
                }
            }
        };
        if self.dbnum != 0 {
            p.push_str(&format!("[{}]", self.dbnum));
        }
        if self.in_multi {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    pub(crate) fn conn_broken(&self) -> bool {
        match &self.conn {
            None => true,
            Some(c) => c.err.is_some(),
        }
    }

    /// redisCommand on the current connection with push handling.
    pub fn command(&mut self, args: &[&[u8]]) -> Option<Reply> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        let c = self.conn.as_mut()?;
        if c.send(&v).is_err() {
            return None;
        }
        self.read_reply().ok()
    }

    /// Read a reply, dealing with RESP3 pushes according to push_mode.
    pub fn read_reply(&mut self) -> Result<Reply, reply::ReadError> {
        loop {
            let Some(c) = self.conn.as_mut() else {
                return Err(reply::ReadError {
                    msg: "not connected".into(),
                    io: true,
                });
            };
            let r = c.read()?;
            if let Reply::Push(_) = r {
                match self.push_mode {
                    PushMode::Return => return Ok(r),
                    PushMode::Drop => continue,
                    PushMode::Print => {
                        self.print_push(&r);
                        continue;
                    }
                }
            }
            return Ok(r);
        }
    }

    fn print_push(&mut self, r: &Reply) {
        if let Reply::Push(v) = r {
            if self.cfg.output == Output::Standard && v.len() == 2 {
                if let (Reply::Bulk(name), Reply::Array(keys)) = (&v[0], &v[1]) {
                    if name.starts_with(b"invalidate") {
                        let mut o = b"-> invalidate: ".to_vec();
                        for (i, k) in keys.iter().enumerate() {
                            o.push(b'\'');
                            if let Some(s) = k.str_bytes() {
                                o.extend_from_slice(s);
                            }
                            o.push(b'\'');
                            if i + 1 < keys.len() {
                                o.extend_from_slice(b", ");
                            }
                        }
                        o.push(b'\n');
                        out(&o);
                        return;
                    }
                }
            }
        }
        self.print_formatted(r, false);
    }

    pub fn print_formatted(&mut self, r: &Reply, raw_strings: bool) {
        if self.cfg.eval_ldb && (raw_strings || self.cfg.output == Output::Raw) {
            let mut o = Vec::new();
            let mut ldb = format::Ldb::default();
            if let Err(code) = format::raw_ldb(r, &self.cfg.mb_delim, &mut o, &mut ldb) {
                err_str(&format!("Unknown reply type: {}\n", code));
                exit(1);
            }
            if !raw_strings {
                o.extend_from_slice(&self.cfg.cmd_delim);
            }
            if ldb.ended {
                self.prompt_override = None;
                self.enable_ldb_on_eval = false;
                self.cfg.eval_ldb = false;
                self.eval_ldb_end = true;
                self.cfg.output = Output::Standard;
            }
            out(&o);
            return;
        }
        match format::format_reply(
            r,
            self.cfg.output,
            raw_strings,
            &self.cfg.mb_delim,
            &self.cfg.cmd_delim,
        ) {
            Ok(b) => out(&b),
            Err(code) => {
                err_str(&format!("Unknown reply type: {}\n", code));
                exit(1);
            }
        }
    }

    fn auth(&mut self) -> Result<(), ()> {
        let Some(pass) = self.cfg.auth.clone() else {
            return Ok(());
        };
        let r = match self.cfg.user.clone() {
            None => self.command(&[b"AUTH", &pass]),
            Some(u) => self.command(&[b"AUTH", &u, &pass]),
        };
        match r {
            None => {
                err_str("\nI/O error\n");
                Err(())
            }
            Some(Reply::Error(e)) => {
                err_str(&format!("AUTH failed: {}\n", String::from_utf8_lossy(&e)));
                Err(())
            }
            Some(_) => Ok(()),
        }
    }

    pub fn select(&mut self) -> Result<(), ()> {
        if self.cfg.input_dbnum == self.dbnum {
            return Ok(());
        }
        let db = self.cfg.input_dbnum.to_string();
        match self.command(&[b"SELECT", db.as_bytes()]) {
            None => {
                err_str("\nI/O error\n");
                Err(())
            }
            Some(Reply::Error(e)) => {
                err_str(&format!(
                    "SELECT {} failed: {}\n",
                    self.cfg.input_dbnum,
                    String::from_utf8_lossy(&e)
                ));
                Err(())
            }
            Some(_) => {
                self.dbnum = self.cfg.input_dbnum;
                Ok(())
            }
        }
    }

    fn switch_proto(&mut self) -> Result<(), ()> {
        if self.cfg.resp3 == 0 || self.cfg.resp2 {
            return Ok(());
        }
        match self.command(&[b"HELLO", b"3"]) {
            None => {
                err_str("\nI/O error\n");
                Err(())
            }
            Some(Reply::Error(e)) => {
                err_str(&format!(
                    "HELLO 3 failed: {}\n",
                    String::from_utf8_lossy(&e)
                ));
                if self.cfg.resp3 == 1 {
                    Err(())
                } else {
                    Ok(())
                }
            }
            Some(_) => Ok(()),
        }
    }

    /// cliConnect.
    pub fn connect(&mut self, flags: u8) -> Result<(), ()> {
        if self.conn.is_none() || flags & CC_FORCE != 0 {
            if self.conn.is_some() {
                self.conn = None;
                self.dbnum = 0;
                self.in_multi = false;
            }
            let use_socket = if self.cfg.cluster_mode && self.cluster_reissue {
                None
            } else {
                self.cfg.socket.clone()
            };
            match Conn::connect(&self.cfg.host, self.cfg.port, use_socket.as_deref()) {
                Ok(_) if self.cfg.tls => {
                    err_str("Could not negotiate a TLS connection: TLS is not supported by ermine-cli\n");
                    self.conn = None;
                    return Err(());
                }
                Ok(c) => {
                    CONN_FD.store(c.w.raw_fd(), Ordering::SeqCst);
                    self.conn = Some(c);
                }
                Err(e) => {
                    if flags & CC_QUIET == 0 {
                        match &use_socket {
                            None => err_str(&format!(
                                "Could not connect to Redis at {}:{}: {}\n",
                                self.cfg.host, self.cfg.port, e
                            )),
                            Some(s) => {
                                err_str(&format!("Could not connect to Redis at {}: {}\n", s, e))
                            }
                        }
                    }
                    self.conn = None;
                    return Err(());
                }
            }
            self.push_mode = PushMode::Drop;
            self.auth()?;
            self.select()?;
            self.switch_proto()?;
        }
        if self.cfg.push_output {
            self.push_mode = PushMode::Print;
        }
        Ok(())
    }

    fn print_context_error(&self) {
        if let Some(c) = &self.conn {
            err_str(&format!(
                "Error: {}\n",
                c.err.as_deref().unwrap_or("Unknown error")
            ));
        }
    }

    /// cliReadReply.
    pub fn cli_read_reply(&mut self, output_raw: bool) -> Result<(), ()> {
        let r = match self.read_reply() {
            Ok(r) => r,
            Err(e) => {
                if ABORTED.swap(false, Ordering::SeqCst) {
                    self.monitor_mode = false;
                    self.pubsub_mode = false;
                    BLOCKING.store(false, Ordering::SeqCst);
                    return self.connect(CC_FORCE);
                }
                if self.shutdown {
                    self.conn = None;
                    return Ok(());
                }
                if self.interactive && e.io {
                    return Err(());
                }
                err_str(&format!("Error: {}\n", e.msg));
                exit(1);
            }
        };
        self.last_cmd_type = r.type_code();
        let mut output = true;
        if let Reply::Error(e) = &r {
            if self.cfg.cluster_mode && (e.starts_with(b"MOVED ") || e.starts_with(b"ASK ")) {
                output = false;
                let s = String::from_utf8_lossy(e).into_owned();
                let parts: Vec<&str> = s.split(' ').collect();
                if parts.len() >= 3 {
                    let slot = atoi32(parts[1]);
                    if let Some(colon) = parts[2].rfind(':') {
                        self.cfg.host = parts[2][..colon].to_string();
                        self.cfg.port = atoi32(&parts[2][colon + 1..]);
                    }
                    if self.interactive {
                        out_str(&format!(
                            "-> Redirected to slot [{}] located at {}:{}\n",
                            slot, self.cfg.host, self.cfg.port
                        ));
                    }
                }
                self.cluster_reissue = true;
                if e.starts_with(b"ASK ") {
                    self.cluster_send_asking = true;
                }
            } else if !self.interactive && self.cfg.set_errcode {
                let mut v = cstr_bytes(e).to_vec();
                v.push(b'\n');
                let _ = std::io::stderr().write_all(&v);
                exit(1);
            }
        }
        if output {
            self.print_formatted(&r, output_raw);
        }
        Ok(())
    }

    /// cliSendCommand.
    pub fn send_command(&mut self, argv: &[Vec<u8>], mut repeat: i64) -> Result<(), ()> {
        if self.conn.is_none() {
            return Err(());
        }
        let cmd = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        let a1 = argv
            .get(1)
            .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
            .unwrap_or_default();
        let argc = argv.len();
        let output_raw = cmd == "info"
            || cmd == "lolwut"
            || (argc >= 2
                && cmd == "debug"
                && (a1 == "htstats" || a1 == "htstats-key" || a1 == "client-eviction"))
            || (argc >= 2 && cmd == "memory" && (a1 == "malloc-stats" || a1 == "doctor"))
            || (argc == 2 && cmd == "cluster" && (a1 == "nodes" || a1 == "info"))
            || (argc >= 2 && cmd == "client" && (a1 == "list" || a1 == "info"))
            || (argc == 3 && cmd == "latency" && a1 == "graph")
            || (argc == 2 && cmd == "latency" && a1 == "doctor")
            || (argc >= 2 && cmd == "proxy" && a1 == "info");

        if cmd == "shutdown" {
            self.shutdown = true;
        }
        if cmd == "monitor" {
            self.monitor_mode = true;
        }
        if cmd == "subscribe" || cmd == "psubscribe" || cmd == "ssubscribe" {
            self.pubsub_mode = true;
        }
        if cmd == "sync" || cmd == "psync" {
            self.slave_mode = true;
        }

        // SCRIPT DEBUG arms the debugger for the next EVAL.
        if argc == 3 && cmd == "script" && a1 == "debug" {
            let a2 = String::from_utf8_lossy(&argv[2]).to_ascii_lowercase();
            self.enable_ldb_on_eval = a2 == "yes" || a2 == "sync";
        }
        if cmd == "eval" && self.enable_ldb_on_eval {
            self.cfg.eval_ldb = true;
            self.cfg.output = Output::Raw;
        }

        while repeat < 0 || {
            let go = repeat > 0;
            repeat -= 1;
            go
        } {
            if let Some(c) = self.conn.as_mut() {
                if c.send(argv).is_err() && !self.interactive {
                    // The C client only notices on the following read.
                }
            }
            BLOCKING.store(self.monitor_mode || self.pubsub_mode, Ordering::SeqCst);
            if self.monitor_mode {
                loop {
                    if self.cli_read_reply(output_raw).is_err() {
                        self.print_context_error();
                        exit(1);
                    }
                    if self.last_cmd_type == 6 {
                        self.monitor_mode = false;
                    }
                    if !self.monitor_mode {
                        break;
                    }
                }
                return Ok(());
            }
            if self.pubsub_mode {
                if self.cfg.output != Output::Raw {
                    out_str("Reading messages... (press Ctrl-C to quit)\n");
                }
                self.push_mode = PushMode::Return;
                while self.pubsub_mode {
                    if self.cli_read_reply(output_raw).is_err() {
                        self.print_context_error();
                        exit(1);
                    }
                    if !self.pubsub_mode || self.last_cmd_type == 6 {
                        if self.cfg.push_output {
                            self.push_mode = PushMode::Print;
                        }
                        self.pubsub_mode = false;
                    }
                }
                BLOCKING.store(false, Ordering::SeqCst);
                continue;
            }
            if self.slave_mode {
                out_str("Entering replica output mode...  (press Ctrl-C to quit)\n");
                modes::slave_mode(self);
                self.slave_mode = false;
                return Err(());
            }
            if self.cli_read_reply(output_raw).is_err() {
                return Err(());
            }
            let not_err = self.last_cmd_type != 6;
            if cmd == "select" && argc == 2 && not_err {
                let db = atoi32(&String::from_utf8_lossy(&argv[1]));
                self.cfg.input_dbnum = db;
                self.dbnum = db;
            } else if cmd == "auth" && (argc == 2 || argc == 3) {
                let _ = self.select();
            } else if cmd == "multi" && argc == 1 && not_err {
                self.in_multi = true;
                self.pre_multi_dbnum = self.dbnum;
            } else if cmd == "exec" && argc == 1 && self.in_multi {
                self.in_multi = false;
                if self.last_cmd_type == 6 || self.last_cmd_type == 4 {
                    self.cfg.input_dbnum = self.pre_multi_dbnum;
                    self.dbnum = self.pre_multi_dbnum;
                }
            } else if cmd == "discard" && argc == 1 && not_err {
                self.in_multi = false;
                self.cfg.input_dbnum = self.pre_multi_dbnum;
                self.dbnum = self.pre_multi_dbnum;
            } else if cmd == "reset" && argc == 1 && not_err {
                self.in_multi = false;
                self.dbnum = 0;
                self.cfg.input_dbnum = 0;
                self.cfg.resp3 = 0;
            }
            if self.cluster_reissue {
                break;
            }
            if self.cfg.interval > 0 {
                std::thread::sleep(std::time::Duration::from_micros(self.cfg.interval as u64));
            }
        }
        Ok(())
    }

    /// issueCommandRepeat.
    pub fn issue_command_repeat(&mut self, argv: &[Vec<u8>], repeat: i64) -> Result<(), ()> {
        let first = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        if !self.cfg.eval_ldb && (first == "help" || first == "?") {
            modes::output_help(self, &argv[1..]);
            return Ok(());
        }
        loop {
            if (self.cluster_reissue || self.conn_broken()) && self.connect(CC_FORCE).is_err() {
                {
                    self.print_context_error();
                    self.cluster_reissue = false;
                    return Err(());
                }
            }
            self.cluster_reissue = false;
            if self.cluster_send_asking {
                self.cluster_send_asking = false;
                match self.command(&[b"ASKING"]) {
                    None => {
                        err_str("\nI/O error\n");
                        self.print_context_error();
                        return Err(());
                    }
                    Some(Reply::Error(e)) => {
                        err_str(&format!("ASKING failed: {}\n", String::from_utf8_lossy(&e)));
                        self.print_context_error();
                        return Err(());
                    }
                    _ => {}
                }
            }
            if self.send_command(argv, repeat).is_err() {
                self.print_context_error();
                self.conn = None;
                return Err(());
            }
            if self.cfg.cluster_mode && self.cluster_reissue {
                continue;
            }
            break;
        }
        Ok(())
    }
}

fn cstr_bytes(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

fn read_all_stdin() -> Vec<u8> {
    let mut v = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut v) {
        err_str(&format!(
            "Reading from standard input: {}\n",
            reply::strerror(&e)
        ));
        exit(1);
    }
    v
}

fn noninteractive(cli: &mut Cli, args: &[Vec<u8>]) -> i32 {
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(args.len() + 1);
    for a in args {
        if cli.cfg.quoted_input {
            match format::unquote(a) {
                Some(v) => argv.push(v),
                None => {
                    out_str("Invalid quoted string\n");
                    return 1;
                }
            }
        } else {
            argv.push(a.clone());
        }
    }
    if cli.cfg.stdin_lastarg {
        argv.push(read_all_stdin());
    } else if let Some(tag) = cli.cfg.stdin_tag.clone() {
        match argv.iter().position(|a| a == tag.as_bytes()) {
            Some(i) => argv[i] = read_all_stdin(),
            None => {
                err_str("Using -X option but stdin tag not match.\n");
                return 1;
            }
        }
    }
    let repeat = cli.cfg.repeat;
    if cli.issue_command_repeat(&argv, repeat).is_ok() {
        0
    } else {
        1
    }
}

extern "C" fn on_sigint_cancel(_: libc::c_int) {
    FORCE_CANCEL.store(true, Ordering::SeqCst);
}

pub(crate) fn install_cancel_handler() {
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint_cancel as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

extern "C" fn on_sigint_interactive(_: libc::c_int) {
    if BLOCKING.load(Ordering::SeqCst) {
        let fd = CONN_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: shutdown() is async-signal-safe; a stale fd at worst
            // fails with EBADF/ENOTSOCK.
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
            }
        }
        ABORTED.store(true, Ordering::SeqCst);
    } else {
        // SAFETY: _exit is async-signal-safe; stdout is flushed after
        // every write.
        unsafe { libc::_exit(1) }
    }
}

fn set_sigpipe(ignore: bool) {
    // SAFETY: setting a signal disposition has no preconditions.
    unsafe {
        libc::signal(
            libc::SIGPIPE,
            if ignore { libc::SIG_IGN } else { libc::SIG_DFL },
        );
    }
}

pub fn main(args: Vec<String>) -> i32 {
    let mut cfg = Config::default();
    if !std::io::stdout().is_terminal() && std::env::var_os("FAKETTY").is_none() {
        cfg.output = Output::Raw;
        cfg.push_output = false;
    }
    let first = parse_options(&args, &mut cfg);
    // Command arguments are passed on as raw bytes.
    let raw: Vec<Vec<u8>> = {
        use std::os::unix::ffi::OsStrExt;
        let os: Vec<Vec<u8>> = std::env::args_os().map(|a| a.as_bytes().to_vec()).collect();
        let same = os.len() == args.len()
            && os
                .iter()
                .zip(args.iter())
                .all(|(o, a)| String::from_utf8_lossy(o) == a.as_str());
        if same {
            os
        } else {
            args.iter().map(|a| a.as_bytes().to_vec()).collect()
        }
    };
    let rest: Vec<Vec<u8>> = raw[first..].to_vec();

    // REDISCLI_AUTH, unless a password was given on the command line.
    if cfg.auth.is_none() {
        if let Ok(a) = std::env::var("REDISCLI_AUTH") {
            cfg.auth = Some(a.into_bytes());
        }
    }
    if cfg.askpass {
        cfg.auth = Some(modes::ask_password("Please input password: "));
    }

    // Like redis-cli: a closed stdout (`| head`) ends the program, except
    // in interactive mode (set below) where a broken link reconnects.
    set_sigpipe(false);
    let mut cli = Cli::new(cfg);

    if let Some((name, cargs)) = cli.cfg.cluster_manager.clone() {
        cluster::run(&cli.cfg, &name, &cargs);
    }
    let need_conn = |cli: &mut Cli| {
        if cli.connect(0).is_err() {
            exit(1);
        }
    };
    if cli.cfg.latency_mode {
        need_conn(&mut cli);
        modes::latency_mode(&mut cli);
    }
    if cli.cfg.latency_dist {
        need_conn(&mut cli);
        let mono = cli.cfg.mono;
        modes::latency_dist_mode(&mut cli, mono);
    }
    if cli.cfg.slave_mode {
        need_conn(&mut cli);
        modes::send_replconf(&mut cli, "capa", "eof");
        modes::send_replconf(&mut cli, "rdb-filter-only", "");
        modes::slave_mode(&mut cli);
    }
    if cli.cfg.getrdb_mode || cli.cfg.functions_rdb_mode {
        need_conn(&mut cli);
        modes::send_replconf(&mut cli, "capa", "eof");
        modes::send_replconf(&mut cli, "rdb-only", "1");
        if cli.cfg.functions_rdb_mode
            && !modes::send_replconf(&mut cli, "rdb-filter-only", "functions")
        {
            err_str("Failed requesting functions only RDB from server, aborting\n");
            exit(1);
        }
        modes::get_rdb(&mut cli);
    }
    if cli.cfg.pipe_mode {
        need_conn(&mut cli);
        modes::pipe_mode(&mut cli);
    }
    if cli.cfg.bigkeys {
        need_conn(&mut cli);
        modes::find_big_keys(&mut cli, false, 0);
    }
    if cli.cfg.memkeys {
        need_conn(&mut cli);
        let s = cli.cfg.memkeys_samples;
        modes::find_big_keys(&mut cli, true, s);
    }
    if cli.cfg.hotkeys {
        need_conn(&mut cli);
        modes::find_hot_keys(&mut cli);
    }
    if cli.cfg.stat_mode {
        need_conn(&mut cli);
        if cli.cfg.interval == 0 {
            cli.cfg.interval = 1_000_000;
        }
        modes::stat_mode(&mut cli);
    }
    if cli.cfg.scan_mode {
        need_conn(&mut cli);
        modes::scan_mode(&mut cli);
    }
    if let Some(n) = cli.cfg.lru_test {
        need_conn(&mut cli);
        modes::lru_test_mode(&mut cli, n);
    }
    if let Some(secs) = cli.cfg.intrinsic_latency {
        modes::intrinsic_latency_mode(secs);
    }

    if rest.is_empty() && cli.cfg.eval.is_none() {
        // SAFETY: the handler only touches atomics and calls
        // async-signal-safe functions.
        unsafe {
            libc::signal(
                libc::SIGINT,
                on_sigint_interactive as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
        set_sigpipe(true);
        let _ = cli.connect(0);
        modes::repl(&mut cli);
        exit(0);
    }
    if cli.cfg.eval.is_some() {
        if cli.connect(0).is_err() {
            exit(1);
        }
        let code = modes::eval_mode(&mut cli, &rest);
        exit(code);
    }
    let _ = cli.connect(CC_QUIET);
    let code = noninteractive(&mut cli, &rest);
    exit(code)
}

/// Read one line from stdin without the newline; None at EOF.
pub(crate) fn read_line_stdin() -> Option<Vec<u8>> {
    let mut line = Vec::new();
    match std::io::stdin().lock().read_until(b'\n', &mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            Some(line)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_numbers() {
        assert_eq!(atoi(" 12x"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("x"), 0);
        assert_eq!(strtoll("99999999999999999999"), i64::MAX);
        assert_eq!(atof("0.5s"), 0.5);
        assert_eq!(atof("1e3"), 1000.0);
        assert_eq!(atof("abc"), 0.0);
    }

    #[test]
    fn uri() {
        let mut c = Config::default();
        parse_uri("redis://u%40x:p@h:7000/3", &mut c);
        assert_eq!(c.user.as_deref(), Some(&b"u@x"[..]));
        assert_eq!(c.auth.as_deref(), Some(&b"p"[..]));
        assert_eq!(c.host, "h");
        assert_eq!(c.port, 7000);
        assert_eq!(c.input_dbnum, 3);
    }
}

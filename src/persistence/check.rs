//! ermine-check-rdb and ermine-check-aof: what redis-check-rdb and
//! redis-check-aof 7.0 do, with their output and exit codes. The binary
//! behaves as one of them when invoked under that name (see
//! `main_dispatch`). The RDB report is also what the server logs when a
//! dump cannot be loaded.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::aof::{Manifest, TYPE_BASE};
use super::rdb::{self, Doing};

// ------------------------------------------------------------ RDB

/// RDB type names, by type byte, as redis-check-rdb prints them.
const TYPE_NAMES: [&str; 19] = [
    "string",
    "list-linked",
    "set-hashtable",
    "zset-v1",
    "hash-hashtable",
    "zset-v2",
    "module-value",
    "",
    "",
    "hash-zipmap",
    "list-ziplist",
    "set-intset",
    "zset-ziplist",
    "hash-ziplist",
    "quicklist",
    "stream",
    "hash-listpack",
    "zset-listpack",
    "quicklist-v2",
];

/// Object types redis-check-rdb 7.0 knows (rdbIsObjectType).
fn is_object_type(t: u8) -> bool {
    t <= 7 || (9..=19).contains(&t)
}

/// Follows the parse and writes the checker's report.
struct RdbChecker<'a> {
    out: &'a mut String,
    doing: Doing,
    key: Option<Vec<u8>>,
    key_type: Option<u8>,
    keys: u64,
    expires: u64,
    already_expired: u64,
    now: i64,
}

impl RdbChecker<'_> {
    fn info(&mut self, offset: usize, msg: &str) {
        let _ = writeln!(self.out, "[offset {}] {}", offset, msg);
    }

    fn generic_info(&mut self) {
        let _ = writeln!(self.out, "[info] {} keys read", self.keys);
        let _ = writeln!(self.out, "[info] {} expires", self.expires);
        let _ = writeln!(self.out, "[info] {} already expired", self.already_expired);
    }

    fn error(&mut self, offset: usize, msg: &str) {
        let _ = writeln!(self.out, "--- RDB ERROR DETECTED ---");
        self.info(offset, msg);
        let _ = writeln!(
            self.out,
            "[additional info] While doing: {}",
            self.doing.name()
        );
        if let Some(k) = &self.key {
            let _ = writeln!(
                self.out,
                "[additional info] Reading key '{}'",
                String::from_utf8_lossy(k)
            );
        }
        if let Some(t) = self.key_type {
            let name = TYPE_NAMES.get(t as usize).copied().unwrap_or("unknown");
            let _ = writeln!(self.out, "[additional info] Reading type {} ({})", t, name);
        }
        self.generic_info();
    }
}

impl rdb::Observer for RdbChecker<'_> {
    fn doing(&mut self, d: Doing) {
        self.doing = d;
    }
    fn aux(&mut self, key: &[u8], val: &[u8], offset: usize) {
        let line = format!(
            "AUX FIELD {} = '{}'",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(val)
        );
        self.info(offset, &line);
    }
    fn select_db(&mut self, db: u64, offset: usize) {
        self.info(offset, &format!("Selecting DB ID {}", db));
    }
    fn key_type(&mut self, t: u8) -> Result<(), rdb::LoadError> {
        if !is_object_type(t) {
            return Err(rdb::LoadError(format!("Invalid object type: {}", t)));
        }
        self.key_type = Some(t);
        Ok(())
    }
    fn key_read(&mut self, key: &[u8]) {
        self.key = Some(key.to_vec());
        self.keys += 1;
    }
    fn key_done(&mut self, _offset: usize, expire: i64) {
        if expire != crate::db::NO_EXPIRE {
            self.expires += 1;
            if expire < self.now {
                self.already_expired += 1;
            }
        }
        self.key = None;
        self.key_type = None;
    }
    fn checksum(&mut self, stored: u64, computed: u64, offset: usize) {
        if stored == 0 {
            self.info(
                offset,
                "RDB file was saved with checksum disabled: no check performed.",
            );
        } else if stored == computed {
            self.info(offset, "Checksum OK");
        }
    }
    fn keep(&self) -> bool {
        false
    }
}

/// Limits the checker parses with: deep sanitization, as redis-check-rdb
/// (sanitize-dump-payload yes).
fn check_limits() -> rdb::BuildLimits {
    rdb::BuildLimits {
        hash: crate::db::hash::Limits {
            entries: 128,
            value: 64,
        },
        zset: crate::db::zset::Limits {
            entries: 128,
            value: 64,
        },
        intset: 512,
        list_fill: -2,
        deep: true,
        skip_checksum: false,
    }
}

/// Check an RDB image, writing the report (from "Checking RDB file" on)
/// to `out`. Returns the bytes the image took when it is sane.
pub fn check_rdb_image(data: &[u8], name: &str, out: &mut String) -> Option<usize> {
    let _ = writeln!(out, "[offset 0] Checking RDB file {}", name);
    let mut c = RdbChecker {
        out,
        doing: Doing::Start,
        key: None,
        // redis-check-rdb starts with type 0 (its state is zeroed).
        key_type: Some(0),
        keys: 0,
        expires: 0,
        already_expired: 0,
        now: crate::util::mstime(),
    };
    let ndbs = usize::MAX;
    let mut failed_at = 0;
    let res = rdb::parse_at(data, ndbs, &check_limits(), c.now, &mut c, &mut failed_at);
    match res {
        Ok((loaded, _)) => {
            c.info(loaded.consumed, "\\o/ RDB looks OK! \\o/");
            c.generic_info();
            Some(loaded.consumed)
        }
        Err(e) => {
            let msg = if e.0.starts_with("Short read") {
                "Unexpected EOF reading RDB file".to_string()
            } else {
                e.0
            };
            c.error(failed_at, &msg);
            None
        }
    }
}

/// redis-check-rdb <file>
pub fn check_rdb_main(args: &[String]) -> i32 {
    let prog = args
        .first()
        .map(String::as_str)
        .unwrap_or("redis-check-rdb");
    if args.len() != 2 {
        eprintln!("Usage: {} <rdb-file-name>", prog);
        return 1;
    }
    if args[1] == "-v" || args[1] == "--version" {
        println!("redis-check-rdb {}", crate::REDIS_VERSION);
        return 0;
    }
    let name = &args[1];
    let data = match std::fs::read(name) {
        Ok(d) => d,
        Err(_) => {
            println!("[offset 0] Checking RDB file {}", name);
            return 1;
        }
    };
    let mut out = String::new();
    let ok = check_rdb_image(&data, name, &mut out).is_some();
    print!("{}", out);
    let _ = std::io::stdout().flush();
    if ok {
        0
    } else {
        1
    }
}

// ------------------------------------------------------------ AOF

/// Outcome of checking one AOF file.
enum Checked {
    Ok,
    Empty,
    Truncated,
    TimestampTruncated,
}

/// A failure that ends the program (exit 1) after its message.
struct Fatal;

/// State shared across the files of one run, as the C tool's globals:
/// the line counter and the error message carry over between files.
struct AofChecker {
    out: String,
    error: String,
    epos: usize,
    line: u64,
    to_timestamp: i64,
    fix: bool,
}

/// Reads lines and bytes from a file image like the stdio calls the C
/// tool makes (fgets with its size limit, fread).
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// fgets(buf, size): up to size-1 bytes, stopping after a newline.
    fn fgets(&mut self, size: usize) -> Option<&'a [u8]> {
        if self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let max = rest.len().min(size - 1);
        let n = memchr::memchr(b'\n', &rest[..max]).map_or(max, |i| i + 1);
        self.pos += n;
        Some(&rest[..n])
    }

    fn fread(&mut self, n: usize) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        let n = n.min(rest.len());
        self.pos += n;
        &rest[..n]
    }
}

/// strtol on a line: optional sign and digits; returns the value and the
/// rest of the line after the number.
fn strtol(s: &[u8]) -> (i64, &[u8]) {
    let mut i = 0;
    while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
        i += 1;
    }
    let neg = i < s.len() && s[i] == b'-';
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if i == start {
        return (0, s);
    }
    (if neg { -v } else { v }, &s[i..])
}

impl AofChecker {
    fn set_error(&mut self, msg: String) {
        self.error = format!("0x{:16x}: {}", self.epos, msg);
    }

    fn say(&mut self, msg: &str) {
        self.out.push_str(msg);
        self.out.push('\n');
    }

    fn consume_newline(&mut self, b: &[u8]) -> bool {
        if !b.starts_with(b"\r\n") {
            let c0 = b.first().copied().unwrap_or(0);
            let c1 = b.get(1).copied().unwrap_or(0);
            self.set_error(format!("Expected \\r\\n, got: {:02x}{:02x}", c0, c1));
            return false;
        }
        self.line += 1;
        true
    }

    fn read_long(&mut self, c: &mut Cursor, prefix: u8) -> Option<i64> {
        self.epos = c.pos;
        let buf = c.fgets(128)?;
        if buf[0] != prefix {
            self.set_error(format!(
                "Expected prefix '{}', got: '{}'",
                prefix as char, buf[0] as char
            ));
            return None;
        }
        let (v, rest) = strtol(&buf[1..]);
        self.consume_newline(rest).then_some(v)
    }

    fn read_string(&mut self, c: &mut Cursor) -> Option<Vec<u8>> {
        let len = self.read_long(c, b'$')?;
        if !(0..=i64::MAX - 2).contains(&len) {
            self.set_error(format!(
                "Expected to read string of {} bytes, which is not in the suitable range",
                len
            ));
            return None;
        }
        let want = len as usize + 2;
        self.epos = c.pos;
        let got = c.fread(want);
        if got.len() != want {
            self.set_error(format!(
                "Expected to read {} bytes, got {} bytes",
                want,
                got.len()
            ));
            return None;
        }
        if !self.consume_newline(&got[want - 2..]) {
            return None;
        }
        Some(got[..want - 2].to_vec())
    }

    /// One command; tracks MULTI/EXEC nesting in `multi`.
    fn process_resp(&mut self, c: &mut Cursor, file: &str, multi: &mut i32) -> bool {
        let Some(argc) = self.read_long(c, b'*') else {
            return false;
        };
        for i in 0..argc.max(0) {
            let Some(s) = self.read_string(c) else {
                return false;
            };
            if i == 0 {
                if s.eq_ignore_ascii_case(b"multi") {
                    *multi += 1;
                    if *multi > 1 {
                        self.set_error(format!("Unexpected MULTI in AOF {}", file));
                        return false;
                    }
                } else if s.eq_ignore_ascii_case(b"exec") {
                    *multi -= 1;
                    if *multi != 0 {
                        self.set_error(format!("Unexpected EXEC in AOF {}", file));
                        return false;
                    }
                }
            }
        }
        true
    }

    /// A `#` line: with --truncate-to-timestamp, truncate at the first
    /// timestamp past the limit. Ok(false): truncated here.
    fn process_annotation(
        &mut self,
        c: &mut Cursor,
        path: &Path,
        last_file: bool,
    ) -> Result<bool, Fatal> {
        self.epos = c.pos;
        let Some(buf) = c.fgets(1024) else {
            self.say(&format!(
                "Failed to read annotations from AOF {}, aborting...",
                path.display()
            ));
            return Err(Fatal);
        };
        if self.to_timestamp == 0 || !buf.starts_with(b"#TS:") {
            return Ok(true);
        }
        let (ts, rest) = strtol(&buf[4..]);
        if rest.first() != Some(&b'\r') {
            self.say("Invalid timestamp annotation");
            return Err(Fatal);
        }
        if ts <= self.to_timestamp {
            return Ok(true);
        }
        if self.epos == 0 {
            self.say(&format!(
                "AOF {} has nothing before timestamp {}, aborting...",
                path.display(),
                self.to_timestamp
            ));
            return Err(Fatal);
        }
        if !last_file {
            self.say(&format!("Failed to truncate AOF {} to timestamp {} to offset {} because it is not the last file.", path.display(), self.to_timestamp, self.epos));
            self.say("If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.");
            return Err(Fatal);
        }
        if truncate(path, self.epos as u64).is_err() {
            self.say(&format!(
                "Failed to truncate AOF {} to timestamp {}",
                path.display(),
                self.to_timestamp
            ));
            return Err(Fatal);
        }
        Ok(false)
    }

    /// Check one file (old-style AOF, base or incremental file).
    fn check_single(
        &mut self,
        name: &str,
        path: &Path,
        last_file: bool,
        preamble: bool,
    ) -> Result<Checked, Fatal> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                self.say(&format!(
                    "Cannot open file {}: {}, aborting...",
                    path.display(),
                    crate::server::log_io_error(&e)
                ));
                return Err(Fatal);
            }
        };
        let size = data.len();
        if size == 0 {
            return Ok(Checked::Empty);
        }
        let mut c = Cursor {
            data: &data,
            pos: 0,
        };
        if preamble {
            let mut report = String::new();
            let ok = check_rdb_image(&data, name, &mut report);
            self.out.push_str(&report);
            match ok {
                Some(end) => {
                    self.say("RDB preamble is OK, proceeding with AOF tail...");
                    c.pos = end;
                }
                None => {
                    self.say("RDB preamble of AOF file is not sane, aborting.");
                    return Err(Fatal);
                }
            }
        }
        let mut multi = 0;
        let mut pos = c.pos;
        loop {
            if multi == 0 {
                pos = c.pos;
            }
            let Some(&first) = data.get(c.pos) else {
                break;
            };
            if first == b'#' {
                if !self.process_annotation(&mut c, path, last_file)? {
                    return Ok(Checked::TimestampTruncated);
                }
            } else if first == b'*' {
                if !self.process_resp(&mut c, &path.display().to_string(), &mut multi) {
                    break;
                }
            } else {
                self.say(&format!("AOF {} format error", name));
                break;
            }
        }
        if c.pos >= size && multi != 0 && self.error.is_empty() {
            self.set_error("Reached EOF before reading EXEC for MULTI".into());
        }
        if !self.error.is_empty() {
            let e = self.error.clone();
            self.say(&e);
        }
        let diff = size - pos;
        if diff == 0 && self.to_timestamp != 0 {
            self.say(&format!(
                "Truncate nothing in AOF {} to timestamp {}",
                name, self.to_timestamp
            ));
            return Ok(Checked::Ok);
        }
        self.say(&format!(
            "AOF analyzed: filename={}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
            name, size, pos, self.line, diff
        ));
        if diff == 0 {
            return Ok(Checked::Ok);
        }
        if !self.fix {
            self.say(&format!(
                "AOF {} is not valid. Use the --fix option to try fixing it.",
                name
            ));
            return Err(Fatal);
        }
        if !last_file {
            self.say(&format!(
                "Failed to truncate AOF {} because it is not the last file",
                name
            ));
            return Err(Fatal);
        }
        self.say(&format!(
            "This will shrink the AOF {} from {} bytes, with {} bytes, to {} bytes",
            name, size, diff, pos
        ));
        self.out.push_str("Continue? [y/N]: ");
        self.flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !answer.trim_start().to_ascii_lowercase().starts_with('y') {
            self.say("Aborting...");
            return Err(Fatal);
        }
        if truncate(path, pos as u64).is_err() {
            self.say(&format!("Failed to truncate AOF {}", name));
            return Err(Fatal);
        }
        Ok(Checked::Truncated)
    }

    fn report(&mut self, what: &str, name: &str, r: Checked) {
        let line = match r {
            Checked::Ok => format!("{}{} is valid", what, name),
            Checked::Empty => format!("{}{} is empty", what, name),
            Checked::TimestampTruncated => format!(
                "Successfully truncated AOF {} to timestamp {}",
                name, self.to_timestamp
            ),
            Checked::Truncated => format!("Successfully truncated AOF {}", name),
        };
        self.say(&line);
    }

    fn check_multi_part(&mut self, dir: &Path, manifest: &Path) -> Result<(), Fatal> {
        self.say("Start checking Multi Part AOF");
        let text = match std::fs::read(manifest) {
            Ok(t) => t,
            Err(e) => {
                self.say(&format!(
                    "Fatal error: can't open the AOF manifest {} for reading: {}",
                    manifest.display(),
                    crate::server::log_io_error(&e)
                ));
                return Err(Fatal);
            }
        };
        let m = match Manifest::parse(&text) {
            Ok(m) => m,
            Err(e) => {
                self.say(e.trim_start_matches('\n'));
                return Err(Fatal);
            }
        };
        let total = m.base.iter().count() + m.incr.len();
        let mut n = 0;
        if let Some(b) = &m.base {
            n += 1;
            let path = dir.join(&b.name);
            let rdb = file_is_rdb(&path).map_err(|e| {
                self.say(&e);
                Fatal
            })?;
            self.say(&format!(
                "Start to check BASE AOF ({} format).",
                if rdb { "RDB" } else { "RESP" }
            ));
            let r = self.check_single(&b.name, &path, n == total, rdb)?;
            self.report("BASE AOF ", &b.name, r);
        }
        if !m.incr.is_empty() {
            self.say("Start to check INCR files.");
            for f in &m.incr {
                n += 1;
                let r = self.check_single(&f.name, &dir.join(&f.name), n == total, false)?;
                self.report("INCR AOF ", &f.name, r);
            }
        }
        debug_assert!(m.base.as_ref().is_none_or(|b| b.kind == TYPE_BASE));
        self.say("All AOF files and manifest are valid");
        Ok(())
    }

    fn flush(&mut self) {
        print!("{}", self.out);
        let _ = std::io::stdout().flush();
        self.out.clear();
    }
}

fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    OpenOptions::new().write(true).open(path)?.set_len(len)
}

/// Whether a file starts with an RDB header ("REDIS", 8 bytes at least).
fn file_is_rdb(path: &Path) -> Result<bool, String> {
    let data =
        std::fs::read(path).map_err(|e| format!("Cannot open file {}: {}", path.display(), e))?;
    Ok(data.len() >= 8 && data.starts_with(b"REDIS"))
}

/// Whether a file is a manifest: a line starting with "file".
fn file_is_manifest(path: &Path) -> Result<bool, String> {
    let data =
        std::fs::read(path).map_err(|e| format!("Cannot open file {}: {}", path.display(), e))?;
    let mut c = Cursor {
        data: &data,
        pos: 0,
    };
    let mut found = false;
    while let Some(line) = c.fgets(1025) {
        if line.first() != Some(&b'#') && line.starts_with(b"file") {
            found = true;
        }
    }
    Ok(found)
}

/// redis-check-aof [--fix|--truncate-to-timestamp $ts] <file.manifest|file.aof>
pub fn check_aof_main(args: &[String]) -> i32 {
    let prog = args
        .first()
        .map(String::as_str)
        .unwrap_or("redis-check-aof");
    let usage = || {
        println!(
            "Usage: {} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>",
            prog
        );
        1
    };
    let mut ck = AofChecker {
        out: String::new(),
        error: String::new(),
        epos: 0,
        line: 1,
        to_timestamp: 0,
        fix: false,
    };
    let file = match args.len() {
        2 => args[1].clone(),
        3 if args[1] == "--fix" => {
            ck.fix = true;
            args[2].clone()
        }
        4 if args[1] == "--truncate-to-timestamp" => {
            match args[2].parse::<i64>() {
                Ok(t) => ck.to_timestamp = t,
                Err(_) => {
                    println!("Invalid timestamp, aborting...");
                    return 1;
                }
            }
            args[3].clone()
        }
        _ => return usage(),
    };
    let path = PathBuf::from(&file);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let res = (|| -> Result<(), Fatal> {
        let fail = |ck: &mut AofChecker, e: String| {
            ck.say(&e);
            Fatal
        };
        if file_is_manifest(&path).map_err(|e| fail(&mut ck, e))? {
            return ck.check_multi_part(&dir, &path);
        }
        let preamble = file_is_rdb(&path).map_err(|e| fail(&mut ck, e))?;
        ck.say("Start checking Old-Style AOF");
        let r = ck.check_single(&file, &path, true, preamble)?;
        ck.report("AOF ", &file, r);
        Ok(())
    })();
    ck.flush();
    match res {
        Ok(()) => 0,
        Err(Fatal) => 1,
    }
}

//! Test harness: start the real ermine-server binary on a free port and
//! talk to it over TCP.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

/// A fresh directory of its own for one test: the counter keeps two tests
/// of one process apart, the pid two test processes.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ermine-{}-{}-{}",
        tag,
        std::process::id(),
        NEXT_DIR.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

static NEXT_DIR: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Server {
    /// Start with default options plus `args` (e.g. ["--requirepass", "x"]).
    pub fn start_with(args: &[&str]) -> Server {
        // A counter, not a port: two tests may be handed the same free port
        // in turn, and one's cleanup would delete the other's directory.
        let dir = temp_dir("test");
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ermine-server"));
            // A config file must come first, as with redis-server.
            let (file, opts) = match args.first() {
                Some(f) if !f.starts_with("--") => (Some(*f), &args[1..]),
                _ => (None, args),
            };
            if let Some(f) = file {
                cmd.arg(f);
            }
            cmd.arg("--port")
                .arg(port.to_string())
                .arg("--bind")
                .arg("127.0.0.1")
                .arg("--save")
                .arg("")
                .arg("--dir")
                .arg(&dir);
            cmd.arg("--enable-debug-command").arg("yes");
            for a in opts {
                cmd.arg(a);
            }
            cmd.stdout(Stdio::from(
                std::fs::File::create(dir.join("stdout.log")).unwrap(),
            ));
            cmd.stderr(Stdio::from(
                std::fs::File::create(dir.join("stderr.log")).unwrap(),
            ));
            let mut child = cmd.spawn().expect("spawn ermine-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
                    // The server on the port must be ours (another test may
                    // have been handed the same free port), and connections
                    // are accepted while the dataset loads (-LOADING).
                    if serves_as(&mut c, &mut child) {
                        return Server { child, port, dir };
                    }
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("ermine-server did not start");
    }

    pub fn start() -> Server {
        Self::start_with(&[])
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap()
    }

    pub fn conn(&self) -> redis::Connection {
        self.client().get_connection().unwrap()
    }

    /// A raw TCP connection for byte-exact protocol checks.
    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Raw { s }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default()
    }
}

/// Does the server on `c` run as process `pid` and has it loaded its data?
fn serves_as(c: &mut TcpStream, child: &mut Child) -> bool {
    let pid = child.id();
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    if c.write_all(b"INFO server\r\n").is_err() {
        return false;
    }
    let want = format!("process_id:{pid}\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return false,
        }
        if got.starts_with(b"-LOADING") {
            return false;
        }
        if got.starts_with(b"-") && got.ends_with(b"\r\n") {
            // INFO refused (-NOAUTH): ours if our process is still up.
            std::thread::sleep(Duration::from_millis(50));
            return matches!(child.try_wait(), Ok(None));
        }
        let text = String::from_utf8_lossy(&got);
        if text.contains(&want) {
            return true;
        }
        if text.contains("process_id:") && text.contains("\r\nrun_id:") {
            return false;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    /// Send a command in RESP form.
    pub fn cmd(&mut self, args: &[&[u8]]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.send(&out);
    }

    /// Read exactly `n` bytes.
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        self.s.read_exact(&mut buf).unwrap();
        buf
    }

    /// Read one complete RESP value and return its raw bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_value(&mut out);
        out
    }

    fn read_line(&mut self, out: &mut Vec<u8>) -> Vec<u8> {
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        loop {
            self.s.read_exact(&mut b).unwrap();
            line.push(b[0]);
            if line.ends_with(b"\r\n") {
                break;
            }
        }
        out.extend_from_slice(&line);
        line
    }

    fn read_value(&mut self, out: &mut Vec<u8>) {
        let line = self.read_line(out);
        let t = line[0];
        let n: i64 = String::from_utf8_lossy(&line[1..line.len() - 2])
            .parse()
            .unwrap_or(0);
        match t {
            b'$' | b'=' | b'!' if n >= 0 => {
                let d = self.read_n(n as usize + 2);
                out.extend_from_slice(&d);
            }
            b'*' | b'~' | b'>' if n > 0 => {
                for _ in 0..n {
                    self.read_value(out);
                }
            }
            b'%' | b'|' if n > 0 => {
                for _ in 0..2 * n {
                    self.read_value(out);
                }
            }
            _ => {}
        }
    }

    /// Send a command and return the raw reply bytes.
    /// One field of INFO ALL ("" when absent).
    pub fn info_field(&mut self, field: &str) -> String {
        let info = self.call(&["INFO", "all"]);
        info.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .unwrap_or("")
            .trim()
            .to_string()
    }

    pub fn call(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd(&a);
        String::from_utf8_lossy(&self.read_reply()).into_owned()
    }

    /// True when the server closed the connection (EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.s.read(&mut b), Ok(0) | Err(_))
    }
}

/// Whether an external program used by a differential test is installed.
/// Elsewhere the test notes the skip; under CI (`CI` set, as `.ci/run`
/// does) a missing program is a failure, so the comparison always runs there.
pub fn have_tool(bin: &str) -> bool {
    let ok = Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{bin} must be installed in CI"
        );
        println!("note: {bin} is not installed; skipping the differential check");
    }
    ok
}

/// A real Redis 7.0 server for differential checks.
pub struct RealRedis {
    pub child: Child,
    pub port: u16,
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealRedis {
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Raw { s }
    }

    /// Start a real Redis in `dir` (loading `dir/dump.rdb` if present).
    pub fn start(dir: &Path) -> RealRedis {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(["--enable-debug-command", "yes"])
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{}/", port))
                    .and_then(|c| c.get_connection())
                {
                    // Wait until it has loaded its dataset.
                    if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                        return RealRedis { child, port };
                    }
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }
}

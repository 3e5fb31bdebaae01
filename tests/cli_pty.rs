//! ermine-cli's interactive mode driven through a real pseudo-terminal, as
//! a person at a terminal would use it: prompt, argument hints, tab
//! completion, history (arrows and the history file), the SELECT and MULTI
//! prompt markers, `help`, and reconnecting after the server restarts.
//!
//! A small terminal emulator turns the bytes the cli writes into a screen,
//! so the checks read what a user sees. Where redis-cli and redis-server
//! are installed, the same keystrokes go through both clis and the screens
//! (text, colours, cursor) must be identical after every step.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: usize = 24;
const COLS: usize = 80;
/// The SGR redis-cli and ermine-cli use for hints.
const HINT_SGR: &str = "0;90;49";

/// Just enough of a VT100/xterm to render linenoise and rustyline output.
struct Screen {
    cells: Vec<Vec<(char, String)>>,
    row: usize,
    col: usize,
    /// xterm's deferred wrap after writing the last column.
    pending_wrap: bool,
    sgr: String,
    bells: usize,
    /// Undecoded tail (a partial escape sequence or UTF-8 character).
    partial: Vec<u8>,
}

impl Screen {
    fn new() -> Screen {
        Screen {
            cells: vec![vec![(' ', String::new()); COLS]; ROWS],
            row: 0,
            col: 0,
            pending_wrap: false,
            sgr: String::new(),
            bells: 0,
            partial: Vec::new(),
        }
    }

    fn line_feed(&mut self) {
        if self.row + 1 == ROWS {
            self.cells.remove(0);
            self.cells.push(vec![(' ', String::new()); COLS]);
        } else {
            self.row += 1;
        }
    }

    fn put(&mut self, c: char) {
        if self.pending_wrap {
            self.pending_wrap = false;
            self.col = 0;
            self.line_feed();
        }
        self.cells[self.row][self.col] = (c, self.sgr.clone());
        if self.col + 1 == COLS {
            self.pending_wrap = true;
        } else {
            self.col += 1;
        }
    }

    fn erase(&mut self, row: usize, from: usize) {
        for cell in &mut self.cells[row][from..] {
            *cell = (' ', String::new());
        }
    }

    fn csi(&mut self, params: &str, fin: u8) {
        let n = |d: usize| params.parse::<usize>().ok().filter(|&v| v > 0).unwrap_or(d);
        if fin != b'm' {
            self.pending_wrap = false;
        }
        match fin {
            b'K' => match params {
                "" | "0" => self.erase(self.row, self.col),
                "1" => {
                    for cell in &mut self.cells[self.row][..=self.col] {
                        *cell = (' ', String::new());
                    }
                }
                _ => self.erase(self.row, 0),
            },
            b'J' => {
                let start = if params == "2" { 0 } else { self.row + 1 };
                if params != "2" {
                    self.erase(self.row, self.col);
                }
                for r in start..ROWS {
                    self.erase(r, 0);
                }
            }
            b'C' => self.col = (self.col + n(1)).min(COLS - 1),
            b'D' => self.col = self.col.saturating_sub(n(1)),
            b'A' => self.row = self.row.saturating_sub(n(1)),
            b'B' => self.row = (self.row + n(1)).min(ROWS - 1),
            b'H' => {
                let mut it = params
                    .split(';')
                    .map(|p| p.parse::<usize>().unwrap_or(1).max(1));
                self.row = it.next().unwrap_or(1).min(ROWS) - 1;
                self.col = it.next().unwrap_or(1).min(COLS) - 1;
            }
            b'm' => {
                self.sgr = if params.is_empty() || params == "0" {
                    String::new()
                } else {
                    params.to_string()
                }
            }
            // Private modes (bracketed paste...) do not change the picture.
            _ => {}
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut data = std::mem::take(&mut self.partial);
        data.extend_from_slice(bytes);
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            match b {
                0x1b => {
                    if i + 1 >= data.len() {
                        break;
                    }
                    if data[i + 1] != b'[' {
                        i += 2;
                        continue;
                    }
                    let Some(end) = data[i + 2..].iter().position(|c| (0x40..=0x7e).contains(c))
                    else {
                        break;
                    };
                    let params = String::from_utf8_lossy(&data[i + 2..i + 2 + end]).into_owned();
                    self.csi(params.trim_start_matches('?'), data[i + 2 + end]);
                    i += 3 + end;
                    continue;
                }
                b'\r' => {
                    self.col = 0;
                    self.pending_wrap = false;
                }
                b'\n' => {
                    self.pending_wrap = false;
                    self.line_feed();
                }
                0x07 => self.bells += 1,
                0x08 => self.col = self.col.saturating_sub(1),
                _ if b < 0x20 => {}
                _ => {
                    let len = match b {
                        0xf0..=0xff => 4,
                        0xe0..=0xef => 3,
                        0xc0..=0xdf => 2,
                        _ => 1,
                    };
                    if i + len > data.len() {
                        break;
                    }
                    let s = String::from_utf8_lossy(&data[i..i + len]).into_owned();
                    for c in s.chars() {
                        self.put(c);
                    }
                    i += len;
                    continue;
                }
            }
            i += 1;
        }
        self.partial = data[i..].to_vec();
    }

    /// A row as text; `hints` false leaves hint-coloured cells out.
    fn text(&self, row: usize, hints: bool) -> String {
        let s: String = self.cells[row]
            .iter()
            .filter(|(_, a)| hints || a != HINT_SGR)
            .map(|(c, _)| *c)
            .collect();
        s.trim_end().to_string()
    }

    fn cursor_line(&self, hints: bool) -> String {
        self.text(self.row, hints)
    }

    /// Everything visible, attributes included, for side-by-side equality.
    fn dump(&self) -> String {
        let mut out = String::new();
        for (r, line) in self.cells.iter().enumerate() {
            let mut cur = String::new();
            let mut s = String::new();
            for (c, a) in line {
                if *a != cur {
                    s.push_str(&format!("<{}>", a));
                    cur = a.clone();
                }
                s.push(*c);
            }
            let s = s.trim_end();
            if !s.is_empty() {
                out.push_str(&format!("{:2}|{}\n", r, s));
            }
        }
        out.push_str(&format!("cursor {},{}\n", self.row, self.col));
        out
    }

    fn contains(&self, needle: &str) -> bool {
        (0..ROWS).any(|r| self.text(r, true).contains(needle))
    }
}

struct Pty {
    master: File,
    child: Child,
    screen: Screen,
    /// Bytes received since the last send().
    fresh: Vec<u8>,
    last_rx: Instant,
}

impl Pty {
    fn spawn(bin: &str, args: &[&str], home: &Path) -> Pty {
        let (mut master, mut slave): (RawFd, RawFd) = (-1, -1);
        let ws = libc::winsize {
            ws_row: ROWS as u16,
            ws_col: COLS as u16,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills in two fds; the name and termios are optional.
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(r, 0, "openpty");
        // SAFETY: both fds were just returned by openpty and are owned here.
        let slave_file = unsafe { File::from_raw_fd(slave) };
        let master = unsafe { File::from_raw_fd(master) };
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("TERM", "xterm")
            .env("HOME", home)
            .env("REDISCLI_HISTFILE", home.join("history"))
            .env("REDISCLI_RCFILE", "/dev/null")
            .env_remove("REDISCLI_AUTH")
            .env_remove("FAKETTY")
            .stdin(Stdio::from(slave_file.try_clone().unwrap()))
            .stdout(Stdio::from(slave_file.try_clone().unwrap()))
            .stderr(Stdio::from(slave_file));
        // SAFETY: only async-signal-safe calls between fork and exec: a new
        // session whose controlling terminal is the pty, as a shell does.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY as _, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn cli on a pty");
        drop(cmd);
        // SAFETY: fcntl on an fd we own.
        unsafe {
            let fd = std::os::fd::AsRawFd::as_raw_fd(&master);
            let fl = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        Pty {
            master,
            child,
            screen: Screen::new(),
            fresh: Vec::new(),
            last_rx: Instant::now(),
        }
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    self.last_rx = Instant::now();
                    self.screen.feed(&buf[..n]);
                    self.fresh.extend_from_slice(&buf[..n]);
                }
            }
        }
    }

    fn send(&mut self, keys: &[u8]) {
        self.pump();
        self.fresh.clear();
        self.master.write_all(keys).unwrap();
    }

    /// Wait (up to a generous deadline, not a timing assertion) until the
    /// screen satisfies `ok`.
    #[track_caller]
    fn wait(&mut self, what: &str, ok: impl Fn(&Screen) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.pump();
            if ok(&self.screen) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "waiting for {what}\nscreen:\n{}\nlast bytes: {:?}",
                    self.screen.dump(),
                    String::from_utf8_lossy(&self.fresh)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Send keys, then wait until the cli has answered, gone quiet, and the
    /// cursor line (hints left out unless `hints`) reads `line`; returns the
    /// bytes the cli wrote meanwhile.
    #[track_caller]
    fn settle(&mut self, keys: &[u8], line: &str, hints: bool) -> Vec<u8> {
        self.send(keys);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.pump();
            let answered = keys.is_empty() || !self.fresh.is_empty();
            if answered
                && self.last_rx.elapsed() >= Duration::from_millis(40)
                && self.screen.cursor_line(hints) == line
            {
                return self.fresh.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "waiting for cursor line {line:?}\nscreen:\n{}\nlast bytes: {:?}",
                    self.screen.dump(),
                    String::from_utf8_lossy(&self.fresh)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[track_caller]
    fn step(&mut self, keys: &[u8], line: &str) -> Vec<u8> {
        self.settle(keys, line, false)
    }

    #[track_caller]
    fn exit_status(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.pump();
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "cli did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli() -> &'static str {
    env!("CARGO_BIN_EXE_ermine-cli")
}

/// An ermine-server on a fixed port, so it can be restarted under the cli.
fn start_ermine(port: u16, dir: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ermine-server"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ermine-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "ermine-server exited");
        assert!(Instant::now() < deadline, "ermine-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn interactive_session_on_a_terminal() {
    let dir = common::temp_dir("cli-pty-session");
    let port = common::free_port();
    let mut server = start_ermine(port, &dir);
    let p = format!("127.0.0.1:{port}");
    let mut t = Pty::spawn(cli(), &["-p", &port.to_string()], &dir);
    t.wait("prompt", |s| s.cursor_line(true) == format!("{p}>"));
    assert_eq!(t.screen.col, p.len() + 2, "cursor after the prompt");

    // Completion cycles through the candidates, then back to what was
    // typed with a bell, like linenoise.
    t.step(b"ech", &format!("{p}> ech"));
    t.step(b"\t", &format!("{p}> ECHO"));
    let bells = t.screen.bells;
    t.step(b"\t", &format!("{p}> ech"));
    assert_eq!(t.screen.bells, bells + 1);
    t.step(b"\x15help @stri\t", &format!("{p}> help @string"));
    t.step(b"\x15", &format!("{p}>"));

    // SELECT and MULTI show in the prompt.
    t.step(b"select 2\r", &format!("{p}[2]>"));
    assert_eq!(t.screen.text(t.screen.row - 1, true), "OK");
    t.step(b"multi\r", &format!("{p}[2](TX)>"));
    t.step(b"set a 1\r", &format!("{p}[2](TX)>"));
    assert_eq!(t.screen.text(t.screen.row - 1, true), "QUEUED");
    t.step(b"exec\r", &format!("{p}[2]>"));
    assert_eq!(t.screen.text(t.screen.row - 1, true), "1) OK");
    t.step(b"get a\r", &format!("{p}[2]>"));
    assert_eq!(t.screen.text(t.screen.row - 1, true), "\"1\"");

    // History: arrows walk back; AUTH is never recorded.
    t.step(b"\x1b[A", &format!("{p}[2]> get a"));
    t.step(b"\x1b[A", &format!("{p}[2]> exec"));
    t.step(b"\x1b[B", &format!("{p}[2]> get a"));
    t.step(b"\x15auth secret\r", &format!("{p}[2]>"));
    t.step(b"\x1b[A", &format!("{p}[2]> get a"));
    t.step(b"\x15", &format!("{p}[2]>"));

    t.step(b"help get\r", &format!("{p}[2]>"));
    assert!(t.screen.contains("  summary: Get the value of a key"));
    assert!(t.screen.contains("  group: string"));

    // The server goes away: the next command reports it and the prompt
    // says so; once it is back, the cli reconnects and selects db 2 again.
    let _ = server.kill();
    let _ = server.wait();
    t.step(b"ping\r", "not connected>");
    // EOF or RST, depending on when the kernel sees the reset.
    let err = t.screen.text(t.screen.row - 1, true);
    assert!(
        err == "Error: Server closed the connection" || err == "Error: Connection reset by peer",
        "{err}"
    );
    t.step(b"ping\r", "not connected>");
    assert_eq!(
        t.screen.text(t.screen.row - 1, true),
        format!("Could not connect to Redis at {p}: Connection refused")
    );
    server = start_ermine(port, &dir);
    t.step(b"ping\r", &format!("{p}[2]>"));
    assert_eq!(t.screen.text(t.screen.row - 1, true), "PONG");

    t.send(b"\x04");
    assert_eq!(t.exit_status(), 0);
    let hist = std::fs::read_to_string(dir.join("history")).unwrap();
    assert_eq!(
        hist,
        "select 2\nmulti\nset a 1\nexec\nget a\nhelp get\nping\n"
    );

    // A new session starts with that history.
    let mut t = Pty::spawn(cli(), &["-p", &port.to_string()], &dir);
    t.wait("prompt", |s| s.cursor_line(true) == format!("{p}>"));
    t.step(b"\x1b[A", &format!("{p}> ping"));
    t.step(b"\x1b[A", &format!("{p}> help get"));
    drop(t);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in server that answers COMMAND DOCS with the reply Redis 7.0.15
/// gives for GET, SET, ECHO and SELECT (recorded), so hint bytes can be
/// checked exactly without a real Redis.
fn docs_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut r = std::io::BufReader::new(s.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if std::io::BufRead::read_line(&mut r, &mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let n: usize = line.trim()[1..].parse().unwrap_or(0);
                    let mut argv = Vec::new();
                    for _ in 0..n {
                        line.clear();
                        std::io::BufRead::read_line(&mut r, &mut line).unwrap();
                        let len: usize = line.trim()[1..].parse().unwrap();
                        let mut a = vec![0u8; len + 2];
                        r.read_exact(&mut a).unwrap();
                        a.truncate(len);
                        argv.push(String::from_utf8_lossy(&a).to_ascii_lowercase());
                    }
                    let reply: &[u8] = if argv.first().map(String::as_str) == Some("command") {
                        include_bytes!("data/redis7-command-docs.resp")
                    } else {
                        b"+OK\r\n"
                    };
                    if s.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn hint_and_completion_bytes() {
    let dir = common::temp_dir("cli-pty-hints");
    let port = docs_server();
    let prompt = format!("127.0.0.1:{port}> ");
    let pl = prompt.len();
    let mut t = Pty::spawn(cli(), &["-p", &port.to_string()], &dir);
    t.wait("prompt", |s| s.cursor_line(true) == prompt.trim_end());
    let refresh = |line: &str, hint: &str| {
        let mut v = format!("\r\x1b[K{prompt}{line}").into_bytes();
        if !hint.is_empty() {
            v.extend_from_slice(format!("\x1b[{HINT_SGR}m{hint}\x1b[0m").as_bytes());
        }
        v.extend_from_slice(format!("\r\x1b[{}C", pl + line.len()).as_bytes());
        v
    };
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    // Without a match the typed character is echoed; with one, the line
    // is redrawn with the grey hint after it.
    assert_eq!(s(&t.step(b"g", &format!("{prompt}g"))), "g");
    assert_eq!(s(&t.step(b"e", &format!("{prompt}ge"))), "e");
    assert_eq!(
        s(&t.step(b"t", &format!("{prompt}get"))),
        s(&refresh("get", " key"))
    );
    assert_eq!(
        s(&t.step(b" ", &format!("{prompt}get"))),
        s(&refresh("get ", "key"))
    );
    assert_eq!(
        s(&t.step(b"k", &format!("{prompt}get k"))),
        s(&refresh("get k", " "))
    );
    t.step(b"\x15", prompt.trim_end());

    // Typed arguments are taken off the hint; it is cut at the right edge
    // of the terminal, as linenoise does.
    t.step(b"set k v", &format!("{prompt}set k v"));
    let full = " [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]";
    let room = COLS - pl - "set k v".len();
    t.pump();
    assert!(
        s(&t.fresh).ends_with(&s(&refresh("set k v", &full[..room]))),
        "{:?}",
        s(&t.fresh)
    );
    t.step(b"\x15", prompt.trim_end());

    // Completion: the candidate replaces the line (with its hint); after
    // the last one, the typed text comes back with a bell.
    t.step(b"ec", &format!("{prompt}ec"));
    assert_eq!(
        s(&t.step(b"\t", &format!("{prompt}ECHO"))),
        s(&refresh("ECHO", " message"))
    );
    let mut back = b"\x07".to_vec();
    back.extend_from_slice(&refresh("ec", ""));
    assert_eq!(s(&t.step(b"\t", &format!("{prompt}ec"))), s(&back));
    t.step(b"\x15se\t", &format!("{prompt}SELECT"));
    t.step(b"\t", &format!("{prompt}SET"));
    t.step(b"\x15help @\t", &format!("{prompt}help @connection"));
    t.step(b"\t", &format!("{prompt}help @string"));
    drop(t);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same keystrokes through redis-cli and ermine-cli against a real
/// redis-server: the screens must match after every step.
#[test]
fn same_screen_as_redis_cli() {
    if !common::have_tool("redis-server") || !common::have_tool("redis-cli") {
        return;
    }
    let dir = common::temp_dir("cli-pty-side");
    let redis = common::RealRedis::start(&dir);
    let port = redis.port.to_string();
    // (keys, text the cursor line shows, hints aside, once the step is done).
    let p = format!("127.0.0.1:{port}");
    let steps: Vec<(&[u8], String)> = vec![
        (b"", format!("{p}>")),
        (b"flushall\r", format!("{p}>")),
        (b"ge", format!("{p}> ge")),
        (b"t", format!("{p}> get")),
        (b" ", format!("{p}> get")),
        (b"k", format!("{p}> get k")),
        (b"\x15set k v ex 10", format!("{p}> set k v ex 10")),
        (
            b"\x15set kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            format!("{p}> set kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"),
        ),
        (b"\x15config get ", format!("{p}> config get")),
        (b"\x15ech\t", format!("{p}> ECHO")),
        (b"\t", format!("{p}> ech")),
        (b"\x15help @stre\t", format!("{p}> help @stream")),
        (b"\x15client no\t", format!("{p}> CLIENT NO-EVICT")),
        (b"\x15select 3\r", format!("{p}[3]>")),
        (b"multi\r", format!("{p}[3](TX)>")),
        (b"incr n\r", format!("{p}[3](TX)>")),
        (b"exec\r", format!("{p}[3]>")),
        (b"hset h f v\r", format!("{p}[3]>")),
        (b"hgetall h\r", format!("{p}[3]>")),
        (b"\x1b[A", format!("{p}[3]> hgetall h")),
        (b"\x1b[A\x1b[A", format!("{p}[3]> exec")),
        (b"\x15help incr\r", format!("{p}[3]>")),
        (b"3 ping x\r", format!("{p}[3]>")),
        (b"set \"a\r", format!("{p}[3]>")),
        (b"discard\r", format!("{p}[3]>")),
        // (linenoise drops typeahead when it leaves raw mode: one line per step)
        (b":set nohints\r", format!("{p}[3]>")),
        (b"get", format!("{p}[3]> get")),
        (b"\x15:set hints\r", format!("{p}[3]>")),
        (b"get", format!("{p}[3]> get")),
        (b"\x15connect 127.0.0.1 1\r", "not connected>".to_string()),
        (
            format!("connect 127.0.0.1 {port}\r").into_bytes().leak(),
            format!("{p}[3]>"),
        ),
        // A hint that reaches the last column, on the bottom row.
        (
            b"set kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
            format!("{p}[3]> set kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"),
        ),
        (b"\x15", format!("{p}[3]>")),
    ];
    let run = |bin: &str, home: &Path| -> Vec<String> {
        let mut t = Pty::spawn(bin, &["-p", &port], home);
        let mut screens = Vec::new();
        for (keys, line) in &steps {
            t.step(keys, line);
            screens.push(t.screen.dump());
        }
        screens
    };
    let (hr, he) = (dir.join("r"), dir.join("e"));
    std::fs::create_dir_all(&hr).unwrap();
    std::fs::create_dir_all(&he).unwrap();
    let want = run("redis-cli", &hr);
    let got = run(cli(), &he);
    for (i, (w, g)) in want.iter().zip(got.iter()).enumerate() {
        assert_eq!(
            g,
            w,
            "screen after step {i} ({:?})",
            String::from_utf8_lossy(steps[i].0)
        );
    }
    assert_eq!(
        std::fs::read_to_string(he.join("history")).unwrap(),
        std::fs::read_to_string(hr.join("history")).unwrap()
    );
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

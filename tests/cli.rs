//! ermine-cli against a live server: one-shot, stdin and --pipe modes.
//! Expected bytes were recorded from redis-cli 7.0.15 talking to
//! redis-server 7.0.15 (stdout is a pipe here, so the default output is
//! the raw form; FAKETTY=1 / --no-raw select the human form).
//!
//! To check the literals against the reference implementation:
//!   ERMINE_CLI_REF_BIN=/usr/bin/redis-cli ERMINE_CLI_REF_PORT=<redis port> \
//!     cargo test --test cli
//! (the auth tests then need `requirepass` unset and are skipped).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

struct Out {
    stdout: String,
    stderr: String,
    code: i32,
}

struct Target {
    _server: Option<common::Server>,
    port: u16,
}

fn bin() -> String {
    std::env::var("ERMINE_CLI_REF_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ermine-cli").into())
}

fn reference_mode() -> bool {
    std::env::var("ERMINE_CLI_REF_PORT").is_ok()
}

fn target() -> Target {
    if let Ok(p) = std::env::var("ERMINE_CLI_REF_PORT") {
        return Target {
            _server: None,
            port: p.parse().unwrap(),
        };
    }
    let s = common::Server::start();
    let port = s.port;
    Target {
        _server: Some(s),
        port,
    }
}

fn run_env(port: u16, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(bin());
    cmd.arg("-p").arg(port.to_string());
    cmd.args(args);
    cmd.env_remove("REDISCLI_AUTH");
    cmd.env_remove("FAKETTY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn cli");
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            si.write_all(data).unwrap();
        }
    }
    let o = child.wait_with_output().unwrap();
    Out {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().unwrap_or(-1),
    }
}

fn run(port: u16, args: &[&str]) -> Out {
    run_env(port, args, None, &[])
}

fn run_in(port: u16, args: &[&str], stdin: &str) -> Out {
    run_env(port, args, Some(stdin.as_bytes()), &[])
}

#[track_caller]
fn check(o: &Out, stdout: &str, stderr: &str, code: i32) {
    // All three at once, so a failure shows the whole outcome.
    assert_eq!(
        (o.stdout.as_str(), o.stderr.as_str(), o.code),
        (stdout, stderr, code),
        "(stdout, stderr, exit code)"
    );
}

const UNKNOWN: &str = "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ";

/// (args, expected stdout). Exit code 0, nothing on stderr. Extend as the
/// server grows commands.
const ONE_SHOT: &[(&[&str], &str)] = &[
    (&["ping"], "PONG\n"),
    (&["PING", "hi"], "hi\n"),
    (&["--no-raw", "ping"], "PONG\n"),
    (&["--no-raw", "ping", "hi"], "\"hi\"\n"),
    (&["--csv", "ping"], "\"PONG\"\n"),
    (&["--json", "ping"], "\"PONG\"\n"),
    (&["-3", "ping"], "PONG\n"),
    (&["echo", "hello world"], "hello world\n"),
    (&["echo", ""], "\n"),
    (&["--no-raw", "echo", "a\"b\\c\n\t\r\u{7}\u{8}\u{1}é"], "\"a\\\"b\\\\c\\n\\t\\r\\a\\b\\x01\\xc3\\xa9\"\n"),
    (&["--csv", "echo", "a\"b\n"], "\"a\\\"b\\n\"\n"),
    (&["--json", "echo", "a\"b\\\n\u{c}\u{1}é"], "\"a\\\"b\\\\\\n\\f\\u0001é\"\n"),
    (&["--quoted-json", "echo", "a\"b\\\né"], "\"a\\\\\"b\\\\\\\\\\\\n\\\\xc3\\\\xa9\"\n"),
    (&["nosuch", "a", "b"], "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \n\n"),
    (&["--no-raw", "nosuch", "a", "b"], "(error) ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \n"),
    (&["--csv", "nosuch", "a", "b"], "ERROR,\"ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \"\n"),
    (&["--json", "nosuch", "a", "b"], "error:\"ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \"\n"),
    (&["ping", "a", "b"], "ERR wrong number of arguments for 'ping' command\n\n"),
    (&["--no-raw", "select", "1"], "OK\n"),
    (&["--no-raw", "select", "99"], "(error) ERR DB index is out of range\n"),
    (&["select", "x"], "ERR value is not an integer or out of range\n\n"),
    (&["-r", "3", "ping"], "PONG\nPONG\nPONG\n"),
    (&["-r", "2", "-i", "0.01", "--no-raw", "echo", "x"], "\"x\"\n\"x\"\n"),
    (&["-D", "|", "-r", "2", "ping"], "PONG|PONG|"),
    (&["-D", "", "echo", "x"], "x"),
    (&["-r", "0", "ping"], ""),
    (&["--quoted-input", "echo", "\"a\\x41\\n\""], "aA\n\n"),
    (&["--quoted-input", "echo", "'it\\'s'"], "it's\n"),
    (&["--no-raw", "auth", "x"], "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\n"),
    (&["--no-raw", "auth", "a", "b"], "(error) WRONGPASS invalid username-password pair or user is disabled.\n"),
    (&["-n", "3", "ping"], "PONG\n"),
];

#[test]
fn one_shot_table() {
    let t = target();
    for (args, want) in ONE_SHOT {
        let o = run(t.port, args);
        assert_eq!(o.stdout, *want, "stdout of {:?}", args);
        assert_eq!(o.stderr, "", "stderr of {:?}", args);
        assert_eq!(o.code, 0, "exit code of {:?}", args);
    }
}

#[test]
fn faketty_selects_human_form() {
    let t = target();
    let o = run_env(t.port, &["echo", "x y"], None, &[("FAKETTY", "1")]);
    check(&o, "\"x y\"\n", "", 0);
    let o = run_env(t.port, &["--raw", "echo", "x y"], None, &[("FAKETTY", "1")]);
    check(&o, "x y\n", "", 0);
    let o = run_env(t.port, &["nosuch", "a", "b"], None, &[("FAKETTY", "1")]);
    check(&o, &format!("(error) {}\n", UNKNOWN), "", 0);
}

#[test]
fn command_count_is_an_integer() {
    let t = target();
    let o = run(t.port, &["--no-raw", "command", "count"]);
    assert!(o.stdout.starts_with("(integer) "), "{:?}", o.stdout);
    let n: i64 = o.stdout["(integer) ".len()..].trim_end().parse().unwrap();
    assert!(n > 0);
    let o = run(t.port, &["command", "count"]);
    assert_eq!(o.stdout, format!("{}\n", n));
}

#[test]
fn hello3_map_forms() {
    let t = target();
    let mask_id = |s: &str| -> String {
        s.lines()
            .map(|l| {
                if l.contains("\"id\"") || l.starts_with("id ") {
                    let cut = l
                        .rfind(|c: char| !c.is_ascii_digit())
                        .map(|i| i + 1)
                        .unwrap_or(0);
                    format!("{}N", &l[..cut])
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let o = run(t.port, &["--no-raw", "hello", "3"]);
    assert_eq!(o.code, 0);
    assert_eq!(
        mask_id(&o.stdout),
        "1# \"server\" => \"redis\"\n2# \"version\" => \"7.0.15\"\n3# \"proto\" => (integer) 3\n4# \"id\" => (integer) N\n5# \"mode\" => \"standalone\"\n6# \"role\" => \"master\"\n7# \"modules\" => (empty array)"
    );
    let o = run(t.port, &["hello", "3"]);
    assert_eq!(
        mask_id(&o.stdout),
        "server redis\nversion 7.0.15\nproto 3\nid N\nmode standalone\nrole master\nmodules \n"
            .trim_end_matches('\n')
    );
    // RESP2 HELLO: a flat array.
    let o = run(t.port, &["--no-raw", "hello", "2"]);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines[0], " 1) \"server\"");
    assert_eq!(lines[13], "14) (empty array)");
}

#[test]
fn errors_with_e_flag() {
    let t = target();
    let o = run(t.port, &["-e", "nosuch", "a", "b"]);
    check(&o, "", &format!("{}\n", UNKNOWN), 1);
    let o = run(t.port, &["-e", "ping"]);
    check(&o, "PONG\n", "", 0);
    // Without -e an error reply still exits 0.
    let o = run(t.port, &["nosuch", "a", "b"]);
    assert_eq!(o.code, 0);
}

#[test]
fn stdin_last_argument() {
    let t = target();
    let o = run_in(t.port, &["-x", "echo"], "from stdin\n");
    check(&o, "from stdin\n\n", "", 0);
    let o = run_in(t.port, &["--no-raw", "-x", "echo"], "a\nb");
    check(&o, "\"a\\nb\"\n", "", 0);
    let o = run_in(t.port, &["-X", "TAG", "echo", "TAG"], "tagged");
    check(&o, "tagged\n", "", 0);
    let o = run_in(t.port, &["-X", "TAG", "echo", "x"], "tagged");
    check(&o, "", "Using -X option but stdin tag not match.\n", 1);
    let o = run_in(t.port, &["-x", "-X", "t", "ping"], "");
    check(&o, "", "Options -x and -X are mutually exclusive.\n", 1);
}

#[test]
fn quoted_input_errors() {
    let t = target();
    let o = run(t.port, &["--quoted-input", "echo", "\"a"]);
    check(&o, "Invalid quoted string\n", "", 1);
    let o = run(t.port, &["--quoted-input", "echo", "'it''s'"]);
    check(&o, "Invalid quoted string\n", "", 1);
}

#[test]
fn commands_from_stdin() {
    let t = target();
    let script = "ping\n\necho \"a b\"\necho 'c d'\n  echo   x  \nnosuch a b\n3 echo r\n0 ping\n-1 ping\n\"\" ping\necho \"unbalanced\nselect 1\n:set hints\n:foo\necho done\n";
    let o = run_in(t.port, &[], script);
    check(
        &o,
        &format!(
            "PONG\na b\nc d\nx\n{}\n\nr\nr\nr\nInvalid redis-cli repeat command option value.\nInvalid redis-cli repeat command option value.\nInvalid redis-cli repeat command option value.\nInvalid argument(s)\nOK\nunknown redis-cli internal command ':foo'\ndone\n",
            UNKNOWN
        ),
        "",
        0,
    );
    let o = run_in(t.port, &["--no-raw"], script);
    check(
        &o,
        &format!(
            "PONG\n\"a b\"\n\"c d\"\n\"x\"\n(error) {}\n\"r\"\n\"r\"\n\"r\"\nInvalid redis-cli repeat command option value.\nInvalid redis-cli repeat command option value.\nInvalid redis-cli repeat command option value.\nInvalid argument(s)\nOK\nunknown redis-cli internal command ':foo'\n\"done\"\n",
            UNKNOWN
        ),
        "",
        0,
    );
    // quit/exit stop reading; -e does not apply to stdin mode.
    let o = run_in(t.port, &["-e"], "nosuch a b\nping\nquit\nping\n");
    check(&o, &format!("{}\n\nPONG\n", UNKNOWN), "", 0);
    let o = run_in(t.port, &["--csv"], "ping\nEXIT\nping\n");
    check(&o, "\"PONG\"\n", "", 0);
}

#[test]
fn pipe_mode() {
    let t = target();
    let input = "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n";
    let o = run_in(t.port, &["--pipe"], input);
    check(
        &o,
        "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 2\n",
        "",
        0,
    );
    // Inline commands and errors.
    let o = run_in(
        t.port,
        &["--pipe"],
        "PING\r\nNOSUCH a b\r\nECHO x\r\nSELECT 99\r\n",
    );
    check(
        &o,
        "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 2, replies: 4\n",
        "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \nERR DB index is out of range\n",
        1,
    );
    let o = run_in(t.port, &["--pipe"], "");
    check(
        &o,
        "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 0\n",
        "",
        0,
    );
    // A larger stream.
    let mut big = String::new();
    for i in 0..5000 {
        big.push_str(&format!(
            "*2\r\n$4\r\nECHO\r\n${}\r\n{}\r\n",
            i.to_string().len(),
            i
        ));
    }
    let o = run_in(t.port, &["--pipe"], &big);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.ends_with("errors: 0, replies: 5000\n"),
        "{}",
        o.stdout
    );
}

#[test]
fn connection_failures() {
    let port = common::free_port();
    let o = run(port, &["ping"]);
    check(
        &o,
        "",
        &format!(
            "Could not connect to Redis at 127.0.0.1:{}: Connection refused\n",
            port
        ),
        1,
    );
    let o = run_in(port, &[], "ping\nping\n");
    let line = format!(
        "Could not connect to Redis at 127.0.0.1:{}: Connection refused\n",
        port
    );
    check(&o, "", &line.repeat(3), 0);
    let o = run(port, &["-s", "/nonexistent/ermine.sock", "ping"]);
    check(
        &o,
        "",
        "Could not connect to Redis at /nonexistent/ermine.sock: No such file or directory\n",
        1,
    );
    let o = run(port, &["--pipe"]);
    assert_eq!(o.code, 1);
}

#[test]
fn select_and_db_options() {
    let t = target();
    let o = run(t.port, &["-n", "99", "ping"]);
    check(
        &o,
        "PONG\n",
        "SELECT 99 failed: ERR DB index is out of range\n",
        0,
    );
    let o = run(
        t.port,
        &["-u", &format!("redis://127.0.0.1:{}/2", t.port), "ping"],
    );
    check(&o, "PONG\n", "", 0);
}

#[test]
fn auth_options() {
    if reference_mode() {
        return;
    }
    let s = common::Server::start_with(&["--requirepass", "secret"]);
    let warn = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n";
    let o = run(s.port, &["ping"]);
    check(&o, "NOAUTH Authentication required.\n\n", "", 0);
    let o = run(s.port, &["-a", "secret", "ping"]);
    check(&o, "PONG\n", warn, 0);
    let o = run(s.port, &["--no-auth-warning", "--pass", "secret", "ping"]);
    check(&o, "PONG\n", "", 0);
    let o = run(s.port, &["-a", "wrong", "ping"]);
    check(
        &o,
        "NOAUTH Authentication required.\n\n",
        &format!(
            "{}AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n",
            warn
        ),
        0,
    );
    let o = run(
        s.port,
        &[
            "--user",
            "default",
            "-a",
            "secret",
            "--no-auth-warning",
            "ping",
        ],
    );
    check(&o, "PONG\n", "", 0);
    // An empty user name before ':' is sent as such (and fails), like redis-cli.
    let o = run(
        s.port,
        &[
            "-u",
            &format!("redis://:secret@127.0.0.1:{}/0", s.port),
            "ping",
        ],
    );
    check(
        &o,
        "NOAUTH Authentication required.\n\n",
        &format!(
            "{}AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n",
            warn
        ),
        0,
    );
    let o = run(
        s.port,
        &[
            "-u",
            &format!("redis://secret@127.0.0.1:{}/0", s.port),
            "ping",
        ],
    );
    check(&o, "PONG\n", warn, 0);
    let o = run(
        s.port,
        &[
            "-u",
            &format!("redis://default:secret@127.0.0.1:{}", s.port),
            "--no-auth-warning",
            "ping",
        ],
    );
    check(&o, "PONG\n", "", 0);
    let o = run_env(s.port, &["ping"], None, &[("REDISCLI_AUTH", "secret")]);
    check(&o, "PONG\n", "", 0);
    let o = run_in(s.port, &["--askpass", "ping"], "secret\n");
    check(&o, "PONG\n", "", 0);
    // AUTH typed in stdin mode.
    let o = run_in(s.port, &[], "ping\nauth secret\nping\n");
    check(&o, "NOAUTH Authentication required.\n\nOK\nPONG\n", "", 0);
}

#[test]
fn option_errors_and_info() {
    let t = target();
    let o = run(t.port, &["--frobnicate"]);
    check(
        &o,
        "",
        "Unrecognized option or bad number of args for: '--frobnicate'\n",
        1,
    );
    let o = run(t.port, &["-t", "1", "ping"]);
    check(
        &o,
        "",
        "Unrecognized option or bad number of args for: '-t'\n",
        1,
    );
    let o = run(t.port, &["-2", "-3", "ping"]);
    check(&o, "", "Options -2 and -3 are mutually exclusive.\n", 1);
    let o = run(t.port, &["-u", "http://x", "ping"]);
    check(&o, "", "Invalid URI scheme\n", 1);
    let o = run(t.port, &["--version"]);
    assert!(o.stdout.starts_with("redis-cli 7.0.15"), "{}", o.stdout);
    assert_eq!(o.code, 0);
    let o = run(t.port, &["--help"]);
    assert!(o.stdout.starts_with("redis-cli 7.0.15"));
    assert!(o.stdout.contains("\nUsage: redis-cli [OPTIONS] [cmd [arg [arg ...]]]\n  -h <hostname>      Server hostname (default: 127.0.0.1).\n"));
    assert!(o.stdout.ends_with("When no command is given, redis-cli starts in interactive mode.\nType \"help\" in interactive mode for information on available commands\nand settings.\n\n"));
    assert_eq!(o.code, 0);
}

#[test]
fn scan_errors_cleanly_without_scan() {
    // Until SCAN exists on this branch the mode must fail with the
    // redis-cli message; with SCAN it lists keys.
    let t = target();
    let o = run(t.port, &["--scan"]);
    if o.code != 0 {
        assert!(o.stderr.starts_with("SCAN error: "), "{}", o.stderr);
    }
}

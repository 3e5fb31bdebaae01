//! `ermine-cli --rdb` and `--functions-rdb`: fetching a snapshot over the
//! replication protocol (REPLCONF rdb-only / rdb-filter-only, SYNC, a
//! `$<len>` payload from a disk-based master or an `$EOF:<mark>` stream
//! from a diskless one). Checked against a real redis-server: the
//! messages, the file (loaded back into Redis) and, where redis-cli is
//! installed, the same stderr as redis-cli. Against Ermine too: a full
//! transfer once Ermine answers SYNC, redis-cli's exact failure until then.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

struct Out {
    stdout: Vec<u8>,
    stderr: String,
    code: i32,
}

fn run(bin: &str, port: u16, args: &[&str]) -> Out {
    let o = Command::new(bin)
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .env_remove("REDISCLI_AUTH")
        .stdin(Stdio::null())
        .output()
        .expect("run cli");
    Out {
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().unwrap_or(-1),
    }
}

fn cli() -> &'static str {
    env!("CARGO_BIN_EXE_ermine-cli")
}

/// What redis-cli prints on stderr for a successful transfer of `len`
/// bytes to `file`.
fn expected_stderr(functions: bool, eof_mark: bool, len: usize, file: &str) -> String {
    let mut s = String::from("sending REPLCONF capa eof\nsending REPLCONF rdb-only 1\n");
    if functions {
        s.push_str("sending REPLCONF rdb-filter-only functions\n");
    }
    if eof_mark {
        s.push_str(&format!(
            "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{file}'\n\
             Transfer finished with success after {len} bytes\n"
        ));
    } else {
        s.push_str(&format!(
            "SYNC sent to master, writing {len} bytes to '{file}'\nTransfer finished with success.\n"
        ));
    }
    s
}

const LIB: &str = "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)";

fn fill(c: &mut redis::Connection) {
    let ok: String = redis::cmd("DEBUG")
        .arg(&["POPULATE", "1000", "key", "10"])
        .query(c)
        .unwrap();
    assert_eq!(ok, "OK");
    let _: () = redis::cmd("RPUSH")
        .arg(&["list", "a", "b"])
        .query(c)
        .unwrap();
    let _: () = redis::cmd("EXPIRE")
        .arg(&["key:7", "1000"])
        .query(c)
        .unwrap();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIB)
        .query(c)
        .unwrap();
}

/// Load `rdb` into a fresh real Redis and check what it holds.
fn check_loads(rdb: &Path, functions_only: bool) {
    let dir = rdb.parent().unwrap().join("load");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(rdb, dir.join("dump.rdb")).unwrap();
    let r = common::RealRedis::start(&dir);
    let mut c = r.conn();
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, if functions_only { 0 } else { 1001 });
    let libs: redis::Value = redis::cmd("FUNCTION").arg("LIST").query(&mut c).unwrap();
    assert!(format!("{libs:?}").contains("lib1"), "{libs:?}");
    if !functions_only {
        let l: Vec<String> = redis::cmd("LRANGE")
            .arg(&["list", "0", "-1"])
            .query(&mut c)
            .unwrap();
        assert_eq!(l, ["a", "b"]);
        let ttl: i64 = redis::cmd("TTL").arg("key:7").query(&mut c).unwrap();
        assert!(ttl > 0 && ttl <= 1000, "{ttl}");
    }
}

#[test]
fn rdb_from_real_redis() {
    if !common::have_tool("redis-server") {
        return;
    }
    let redis_cli = common::have_tool("redis-cli");
    let dir = common::temp_dir("cli-rdb-real");
    let src = common::RealRedis::start(&dir);
    let mut c = src.conn();
    fill(&mut c);
    for diskless in ["no", "yes"] {
        let _: () = redis::cmd("CONFIG")
            .arg(&[
                "SET",
                "repl-diskless-sync",
                diskless,
                "repl-diskless-sync-delay",
                "0",
            ])
            .query(&mut c)
            .unwrap();
        for functions in [false, true] {
            let file = dir.join(format!("cli-{diskless}-{functions}.rdb"));
            let name = file.to_str().unwrap();
            let flag = if functions {
                "--functions-rdb"
            } else {
                "--rdb"
            };
            let o = run(cli(), src.port, &[flag, name]);
            let data = std::fs::read(&file).unwrap();
            // A filtered RDB is always streamed (diskless) by the master.
            let eof_mark = diskless == "yes" || functions;
            assert_eq!(
                o.stderr,
                expected_stderr(functions, eof_mark, data.len(), name),
                "{flag} diskless={diskless}"
            );
            assert_eq!((o.code, o.stdout.len()), (0, 0));
            assert!(data.starts_with(b"REDIS0010"), "{:?}", &data[..9]);
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & !0o022, 0o644 & !0o022);
            check_loads(&file, functions);
            if redis_cli {
                std::fs::remove_file(&file).unwrap();
                let r = run("redis-cli", src.port, &[flag, name]);
                assert_eq!(r.stderr, o.stderr, "redis-cli {flag} diskless={diskless}");
                assert_eq!(r.code, o.code);
                assert_eq!(std::fs::read(&file).unwrap().len(), data.len());
            }
        }
    }

    // To stdout: the payload is the only output there, followed (as with
    // redis-cli, which cannot truncate a pipe) by the 40-byte EOF mark.
    let o = run(cli(), src.port, &["--rdb", "-"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with(b"REDIS0010"));
    let len = o.stdout.len() - 40;
    assert_eq!(o.stderr, expected_stderr(false, true, len, "-"));
    std::fs::write(dir.join("stdout.rdb"), &o.stdout[..len]).unwrap();
    check_loads(&dir.join("stdout.rdb"), false);

    // A file that cannot be created.
    let o = run(cli(), src.port, &["--rdb", "/nonexistent-dir/x.rdb"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .ends_with("Error opening '/nonexistent-dir/x.rdb': No such file or directory\n"),
        "{}",
        o.stderr
    );
    drop(src);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether the server starts a full synchronisation on SYNC.
fn answers_sync(port: u16) -> bool {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(b"SYNC\r\n").unwrap();
    let mut b = [0u8; 1];
    // A master may send newlines as keepalives before the payload header.
    loop {
        match s.read(&mut b) {
            Ok(1) if b[0] == b'\n' => continue,
            Ok(1) => return b[0] == b'$',
            _ => return false,
        }
    }
}

#[test]
fn rdb_from_ermine() {
    let dir = common::temp_dir("cli-rdb-ermine");
    let server = common::Server::start();
    let port = server.port;
    let file = dir.join("e.rdb");
    let name = file.to_str().unwrap();
    if answers_sync(port) {
        let mut c = server.conn();
        let _: () = redis::cmd("RPUSH")
            .arg(&["list", "a", "b"])
            .query(&mut c)
            .unwrap();
        let o = run(cli(), port, &["--rdb", name]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let data = std::fs::read(&file).unwrap();
        assert!(data.starts_with(b"REDIS"));
        assert!(
            o.stderr.starts_with("sending REPLCONF capa eof\n"),
            "{}",
            o.stderr
        );
        assert!(o.stderr.ends_with(&format!(
            "Transfer finished with success{}\n",
            if o.stderr.contains("EOF marker") {
                format!(" after {} bytes", data.len())
            } else {
                ".".to_string()
            }
        )));
    } else {
        let o = run(cli(), port, &["--rdb", name]);
        assert_eq!(o.code, 1);
        let last = o.stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with("SYNC with master failed: -"),
            "{}",
            o.stderr
        );
        assert!(!file.exists());
        if common::have_tool("redis-cli") {
            let r = run("redis-cli", port, &["--rdb", name]);
            assert_eq!((r.stderr, r.code), (o.stderr, o.code));
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

//! redis-py, a real client library, against the server. CI installs
//! redis-py; elsewhere the test says so and passes only if CI is unset.
mod common;

#[test]
fn redis_py_smoke() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import redis"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        assert!(
            std::env::var("CI").is_err(),
            "redis-py must be installed in CI"
        );
        eprintln!("redis-py not installed: skipped");
        return;
    }
    let s = common::Server::start();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/redis_py_smoke.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(s.port.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

//! redis-py, a real client library, against the server. CI installs
//! redis-py; elsewhere the test says so and passes only if CI is unset.
mod common;

/// Run tests/clients/NAME against a fresh server; false when redis-py is
/// missing outside CI.
fn run_client_script(name: &str) -> bool {
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
        return false;
    }
    let s = common::Server::start();
    let script = format!("{}/tests/clients/{name}", env!("CARGO_MANIFEST_DIR"));
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
    true
}

#[test]
fn redis_py_smoke() {
    run_client_script("redis_py_smoke.py");
}

/// Pub/sub in RESP2 and RESP3, pipelines and the WATCH retry loop,
/// register_script with its NOSCRIPT fallback, redis-py's Lock and classic
/// rate-limiter and unlock scripts, unchanged.
#[test]
fn redis_py_pubsub_transactions_scripts() {
    run_client_script("redis_py_scripting.py");
}

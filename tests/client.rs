mod common;
use common::Server;

#[test]
fn client_identity_and_list() {
    let s = Server::start();
    let mut r = s.raw();
    let id = r.call(&["CLIENT", "ID"]);
    assert!(id.starts_with(':'));
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(r.call(&["CLIENT", "SETNAME", "worker-1"]), "+OK\r\n");
    assert_eq!(r.call(&["CLIENT", "GETNAME"]), "$8\r\nworker-1\r\n");
    assert_eq!(
        r.call(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    let list = r.call(&["CLIENT", "LIST"]);
    assert!(list.contains(" name=worker-1 "), "{list}");
    assert!(
        list.contains(" cmd=client|list user=default redir=-1 resp=2\n"),
        "{list}"
    );
    assert_eq!(
        r.call(&["CLIENT", "LIST", "TYPE", "foo"]),
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(
        r.call(&["CLIENT", "KILL", "1.2.3.4:5"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(
        r.call(&["CLIENT", "FOO"]),
        "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
    );
}

#[test]
fn client_kill_by_id_and_skipme() {
    let s = Server::start();
    let mut a = s.raw();
    let mut b = s.raw();
    let bid = b.call(&["CLIENT", "ID"]);
    let bid = bid.trim_start_matches(':').trim_end().to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", &bid]), ":1\r\n");
    assert!(b.is_closed());
    assert_eq!(
        a.call(&["CLIENT", "KILL", "ID", "0"]),
        "-ERR client-id should be greater than 0\r\n"
    );
    // SKIPME yes (default): killing by type spares the caller.
    assert_eq!(a.call(&["CLIENT", "KILL", "TYPE", "normal"]), ":0\r\n");
    assert_eq!(a.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_reply_off_and_skip() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&[b"CLIENT", b"REPLY", b"SKIP"]);
    r.cmd(&[b"ECHO", b"skipped"]);
    r.cmd(&[b"ECHO", b"shown"]);
    assert_eq!(r.read_reply(), b"$5\r\nshown\r\n");
    r.cmd(&[b"CLIENT", b"REPLY", b"OFF"]);
    r.cmd(&[b"ECHO", b"hidden"]);
    r.cmd(&[b"CLIENT", b"REPLY", b"ON"]);
    assert_eq!(r.read_reply(), b"+OK\r\n");
}

#[test]
fn client_pause_write_holds_writes_only() {
    let s = Server::start();
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(a.call(&["CLIENT", "PAUSE", "300", "WRITE"]), "+OK\r\n");
    // Reads go through while writes wait for the pause to end.
    assert_eq!(b.call(&["PING"]), "+PONG\r\n");
    let start = std::time::Instant::now();
    assert_eq!(b.call(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(150),
        "write was not held"
    );
    assert_eq!(
        a.call(&["CLIENT", "PAUSE", "abc"]),
        "-ERR timeout is not an integer or out of range\r\n"
    );
    assert_eq!(
        a.call(&["CLIENT", "PAUSE", "10", "foo"]),
        "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
    );
    assert_eq!(a.call(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
}

mod common;
use common::Server;

#[test]
fn multi_exec_discard_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(r.call(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(r.call(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(r.call(&["RPUSH", "l", "a"]), "+QUEUED\r\n");
    assert_eq!(r.call(&["LPOP", "l", "x"]), "+QUEUED\r\n");
    assert_eq!(
        r.call(&["WATCH", "k"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(
        r.call(&["EXEC"]),
        "*2\r\n:1\r\n-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        r.call(&["NOSUCH"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
    );
    assert_eq!(r.call(&["RPUSH", "l", "b"]), "+QUEUED\r\n");
    assert_eq!(
        r.call(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(r.call(&["LLEN", "l"]), ":1\r\n");
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(r.call(&["RPUSH", "l", "c"]), "+QUEUED\r\n");
    assert_eq!(r.call(&["DISCARD"]), "+OK\r\n");
    assert_eq!(r.call(&["LLEN", "l"]), ":1\r\n");
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        r.call(&["SHUTDOWN"]),
        "-ERR Command not allowed inside a transaction\r\n"
    );
    assert_eq!(
        r.call(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}

#[test]
fn watch_is_invalidated_by_another_client() {
    let s = Server::start();
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(a.call(&["WATCH", "l"]), "+OK\r\n");
    assert_eq!(b.call(&["RPUSH", "l", "x"]), ":1\r\n");
    assert_eq!(a.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.call(&["RPUSH", "l", "y"]), "+QUEUED\r\n");
    assert_eq!(a.call(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.call(&["LLEN", "l"]), ":1\r\n");
    // Untouched WATCH lets the transaction through; UNWATCH forgets.
    assert_eq!(a.call(&["WATCH", "l"]), "+OK\r\n");
    assert_eq!(a.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.call(&["RPUSH", "l", "z"]), "+QUEUED\r\n");
    assert_eq!(a.call(&["EXEC"]), "*1\r\n:2\r\n");
    assert_eq!(a.call(&["WATCH", "l"]), "+OK\r\n");
    assert_eq!(a.call(&["UNWATCH"]), "+OK\r\n");
    b.call(&["RPUSH", "l", "w"]);
    assert_eq!(a.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.call(&["LLEN", "l"]), "+QUEUED\r\n");
    assert_eq!(a.call(&["EXEC"]), "*1\r\n:3\r\n");
}

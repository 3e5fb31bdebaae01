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

/// SWAPDB bringing an already expired key where the watched one was
/// missing changes nothing logically: EXEC runs (Redis 7.0).
#[test]
fn swapdb_with_expired_key_for_missing_watched_key_keeps_exec() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    assert_eq!(r.call(&["SET", "x", "foo", "PX", "1"]), "+OK\r\n");
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(r.call(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["WATCH", "x"]), "+OK\r\n");
    assert_eq!(r.call(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(r.call(&["PING"]), "+QUEUED\r\n");
    assert_eq!(r.call(&["EXEC"]), "*1\r\n+PONG\r\n");
    // A live key swapped in does touch it.
    assert_eq!(r.call(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(r.call(&["SET", "y", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["WATCH", "y"]), "+OK\r\n");
    assert_eq!(r.call(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    assert_eq!(r.call(&["PING"]), "+QUEUED\r\n");
    assert_eq!(r.call(&["EXEC"]), "*-1\r\n");
}

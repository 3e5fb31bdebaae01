mod common;
use common::Server;

#[test]
fn ping_echo_hello_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    assert_eq!(r.call(&["PING", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(r.call(&["ECHO", "x y"]), "$3\r\nx y\r\n");
    assert_eq!(
        r.call(&["ping", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(
        r.call(&["nosuch", "a", "b"]),
        "-ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        r.call(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        r.call(&["SELECT", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    let h = r.call(&["HELLO", "3"]);
    assert!(h.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"), "{h}");
    assert_eq!(
        r.call(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    // Inline commands work too (telnet).
    r.send(b"PING\r\n");
    assert_eq!(r.read_reply(), b"+PONG\r\n");
}

#[test]
fn protocol_errors_close_the_connection() {
    let s = Server::start();
    let mut r = s.raw();
    r.send(b"*1\r\n+foo\r\n");
    assert_eq!(
        r.read_reply(),
        b"-ERR Protocol error: expected '$', got '+'\r\n"
    );
    assert!(r.is_closed());
    let mut r = s.raw();
    r.send(b"*x\r\n");
    assert_eq!(
        r.read_reply(),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    assert!(r.is_closed());
    let mut r = s.raw();
    r.send(b"set \"a\r\n");
    assert_eq!(
        r.read_reply(),
        b"-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert!(r.is_closed());
    // The server keeps serving others.
    let mut r = s.raw();
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn requirepass_and_auth() {
    let s = Server::start_with(&["--requirepass", "secret"]);
    let mut r = s.raw();
    assert_eq!(r.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        r.call(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(r.call(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    let mut r2 = s.raw();
    assert_eq!(r2.call(&["AUTH", "default", "secret"]), "+OK\r\n");
}

#[test]
fn pipelined_commands_all_answered_in_order() {
    let s = Server::start();
    let mut r = s.raw();
    let mut buf = Vec::new();
    for i in 0..5000 {
        buf.extend_from_slice(
            format!("*2\r\n$4\r\nECHO\r\n${}\r\n{}\r\n", i.to_string().len(), i).as_bytes(),
        );
    }
    r.send(&buf);
    for i in 0..5000 {
        let want = format!("${}\r\n{}\r\n", i.to_string().len(), i);
        assert_eq!(String::from_utf8(r.read_reply()).unwrap(), want);
    }
}

mod common;
use common::Server;

#[test]
fn subscribe_publish_and_patterns() {
    let s = Server::start();
    let mut sub = s.raw();
    assert_eq!(
        sub.call(&["SUBSCRIBE", "news", "sport"]),
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n"
    );
    assert_eq!(
        sub.call(&["PSUBSCRIBE", "n*"]),
        "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"
    );
    // Only subscription commands are allowed in RESP2 subscribe mode.
    assert_eq!(
        sub.call(&["ECHO", "x"]),
        "-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(sub.call(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    let mut p = s.raw();
    assert_eq!(p.call(&["PUBLISH", "news", "hello"]), ":2\r\n");
    assert_eq!(
        sub.read_reply(),
        b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    );
    assert_eq!(
        sub.read_reply(),
        b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    );
    assert_eq!(p.call(&["PUBLISH", "nobody", "x"]), ":1\r\n");
    assert_eq!(
        sub.read_reply(),
        b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$6\r\nnobody\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        p.call(&["PUBSUB", "CHANNELS"]),
        "*2\r\n$4\r\nnews\r\n$5\r\nsport\r\n"
    );
    assert_eq!(
        p.call(&["PUBSUB", "NUMSUB", "news", "zzz"]),
        "*4\r\n$4\r\nnews\r\n:1\r\n$3\r\nzzz\r\n:0\r\n"
    );
    assert_eq!(p.call(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    assert_eq!(
        sub.call(&["UNSUBSCRIBE", "news"]),
        "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n"
    );
    assert_eq!(
        sub.call(&["PUNSUBSCRIBE"]),
        "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:1\r\n"
    );
    assert_eq!(
        sub.call(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:0\r\n"
    );
    assert_eq!(
        sub.call(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    assert_eq!(sub.call(&["ECHO", "back"]), "$4\r\nback\r\n");
}

#[test]
fn resp3_push_messages_mix_with_replies() {
    let s = Server::start();
    let mut sub = s.raw();
    sub.call(&["HELLO", "3"]);
    assert_eq!(
        sub.call(&["SUBSCRIBE", "ch"]),
        ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    );
    // RESP3 clients keep running commands while subscribed.
    assert_eq!(sub.call(&["ECHO", "x"]), "$1\r\nx\r\n");
    let mut p = s.raw();
    assert_eq!(p.call(&["PUBLISH", "ch", "m"]), ":1\r\n");
    assert_eq!(
        sub.read_reply(),
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"
    );
    assert_eq!(p.call(&["SPUBLISH", "ch", "m"]), ":0\r\n");
    assert_eq!(
        sub.call(&["SSUBSCRIBE", "sh"]),
        ">3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n"
    );
    assert_eq!(p.call(&["SPUBLISH", "sh", "v"]), ":1\r\n");
    assert_eq!(
        sub.read_reply(),
        b">3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$1\r\nv\r\n"
    );
    // NUMSUB stays a flat array in RESP3 (Redis 7.0; clients parse it so).
    assert_eq!(
        sub.call(&["PUBSUB", "NUMSUB", "ch", "zz"]),
        "*4\r\n$2\r\nch\r\n:1\r\n$2\r\nzz\r\n:0\r\n"
    );
    assert_eq!(
        sub.call(&["PUBSUB", "SHARDNUMSUB", "sh"]),
        "*2\r\n$2\r\nsh\r\n:1\r\n"
    );
}

#[test]
fn keyspace_notifications_are_published() {
    let s = Server::start_with(&["--notify-keyspace-events", "KEA"]);
    let mut sub = s.raw();
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    let mut w = s.raw();
    assert_eq!(w.call(&["RPUSH", "mylist", "a"]), ":1\r\n");
    assert_eq!(sub.read_reply(), b"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$21\r\n__keyspace@0__:mylist\r\n$5\r\nrpush\r\n");
    assert_eq!(sub.read_reply(), b"*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$20\r\n__keyevent@0__:rpush\r\n$6\r\nmylist\r\n");
}

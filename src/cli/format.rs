//! Reply formatting (human/TTY, raw, CSV, JSON) and argument splitting,
//! byte-for-byte like redis-cli.

use super::reply::Reply;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Standard,
    Raw,
    Csv,
    Json,
    QuotedJson,
}

/// Append `s` quoted with C-style escapes (sdscatrepr).
pub fn repr_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{:02x}", c).as_bytes()),
        }
    }
    out.push(b'"');
}

pub fn repr(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 2);
    repr_into(&mut v, s);
    v
}

/// Bytes up to the first NUL, as C string functions see them.
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Split a line into arguments, handling "double" and 'single' quotes
/// (sdssplitargs). None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = cstr(line);
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    let mut p = 0usize;
    let mut out = Vec::new();
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        cur.push(h * 16 + l);
                        p += 3;
                        p += 1;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        o => o,
                    });
                } else if c == b'"' {
                    let n = at(p + 1);
                    if n != 0 && !is_space(n) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    let n = at(p + 1);
                    if n != 0 && !is_space(n) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        out.push(cur);
    }
}

/// unquoteCString: exactly one quoted token, or None.
pub fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let mut v = split_args(s)?;
    if v.len() == 1 {
        v.pop()
    } else {
        None
    }
}

fn is_multiline_tty(r: &Reply) -> bool {
    match r {
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => match v.len() {
            0 => false,
            1 => is_multiline_tty(&v[0]),
            _ => true,
        },
        Reply::Map(v) => match v.len() {
            0 => false,
            1 | 2 => v.get(1).map(is_multiline_tty).unwrap_or(false),
            _ => true,
        },
        _ => false,
    }
}

/// Human-readable form (cliFormatReplyTTY). Err(code) for reply types
/// redis-cli can't show (it exits with "Unknown reply type").
pub fn tty(r: &Reply, prefix: &[u8], out: &mut Vec<u8>) -> Result<(), i32> {
    match r {
        Reply::Error(s) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(cstr(s));
            out.push(b'\n');
        }
        Reply::Status(s) => {
            out.extend_from_slice(cstr(s));
            out.push(b'\n');
        }
        Reply::Int(i) => out.extend_from_slice(format!("(integer) {}\n", i).as_bytes()),
        Reply::Double(s) => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(cstr(s));
            out.push(b'\n');
        }
        Reply::Bulk(s) => {
            repr_into(out, s);
            out.push(b'\n');
        }
        Reply::Verb(s) => {
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Reply::Nil => out.extend_from_slice(b"(nil)\n"),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Reply::Array(v) | Reply::Map(v) | Reply::Set(v) | Reply::Push(v) => {
            if v.is_empty() {
                out.extend_from_slice(match r {
                    Reply::Array(_) => b"(empty array)\n".as_slice(),
                    Reply::Map(_) => b"(empty hash)\n",
                    Reply::Set(_) => b"(empty set)\n",
                    _ => b"(empty push)\n",
                });
                return Ok(());
            }
            let is_map = matches!(r, Reply::Map(_));
            let mut n = v.len() as u64;
            if is_map {
                n /= 2;
            }
            let mut idxlen = 0usize;
            loop {
                idxlen += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let mut child_prefix = prefix.to_vec();
            child_prefix.extend(std::iter::repeat_n(b' ', idxlen + 2));
            let sep = match r {
                Reply::Set(_) => '~',
                Reply::Map(_) => '#',
                _ => ')',
            };
            let mut i = 0;
            while i < v.len() {
                let human = if is_map { i / 2 } else { i } + 1;
                if i != 0 {
                    out.extend_from_slice(prefix);
                }
                out.extend_from_slice(format!("{:>w$}{} ", human, sep, w = idxlen).as_bytes());
                tty(&v[i], &child_prefix, out)?;
                if is_map {
                    i += 1;
                    out.pop();
                    out.extend_from_slice(b" => ");
                    // A map with an odd element count can't come from the
                    // reader, but stay safe.
                    if let Some(val) = v.get(i) {
                        if is_multiline_tty(val) {
                            out.push(b'\n');
                            out.extend_from_slice(&child_prefix);
                        }
                        tty(val, &child_prefix, out)?;
                    }
                }
                i += 1;
            }
        }
        Reply::BigNum(_) => return Err(r.type_code()),
    }
    Ok(())
}

/// Raw form (cliFormatReplyRaw).
pub fn raw(r: &Reply, mb_delim: &[u8], out: &mut Vec<u8>) -> Result<(), i32> {
    match r {
        Reply::Nil => {}
        Reply::Error(s) => {
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Reply::Status(s) | Reply::Bulk(s) | Reply::Verb(s) => out.extend_from_slice(s),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Reply::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Reply::Double(s) => out.extend_from_slice(cstr(s)),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(cstr(mb_delim));
                }
                raw(e, mb_delim, out)?;
            }
        }
        Reply::Map(v) => {
            let mut i = 0;
            while i < v.len() {
                if i > 0 {
                    out.extend_from_slice(cstr(mb_delim));
                }
                raw(&v[i], mb_delim, out)?;
                out.push(b' ');
                if let Some(val) = v.get(i + 1) {
                    raw(val, mb_delim, out)?;
                }
                i += 2;
            }
        }
        Reply::BigNum(_) => return Err(r.type_code()),
    }
    Ok(())
}

/// State of a Lua debugging session seen by the raw formatter.
#[derive(Default)]
pub struct Ldb {
    /// Set when the server announced the end of the session.
    pub ended: bool,
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w == n)
}

fn is_color_term() -> bool {
    std::env::var("TERM")
        .map(|t| t.contains("xterm"))
        .unwrap_or(false)
}

/// Lua debugger output lines, colored by their tag on xterm-like
/// terminals.
fn colorized_ldb(out: &mut Vec<u8>, s: &[u8]) {
    let s = cstr(s);
    let mut color = "white";
    if contains(s, b"<debug>") {
        color = "bold";
    }
    if contains(s, b"<redis>") {
        color = "green";
    }
    if contains(s, b"<reply>") {
        color = "cyan";
    }
    if contains(s, b"<error>") {
        color = "red";
    }
    if contains(s, b"<hint>") {
        color = "bold";
    }
    if contains(s, b"<value>") || contains(s, b"<retval>") {
        color = "magenta";
    }
    if s.len() > 4 && s[3].is_ascii_digit() {
        if s[1] == b'>' {
            color = "yellow";
        } else if s[2] == b'#' {
            color = "bold";
        }
    }
    if !is_color_term() {
        out.extend_from_slice(s);
        return;
    }
    let bold = color.contains("bold") as i32;
    let code = match color {
        "red" => 31,
        "green" => 32,
        "yellow" => 33,
        "blue" => 34,
        "magenta" => 35,
        "cyan" => 36,
        _ => 37,
    };
    out.extend_from_slice(format!("\x1b[{};{};49m", bold, code).as_bytes());
    out.extend_from_slice(s);
    out.extend_from_slice(b"\x1b[0m");
}

/// Raw form while a Lua debugging session is active.
pub fn raw_ldb(r: &Reply, mb_delim: &[u8], out: &mut Vec<u8>, ldb: &mut Ldb) -> Result<(), i32> {
    match r {
        Reply::Status(s) if !ldb.ended => {
            if s.starts_with(b"<endsession>") {
                ldb.ended = true;
            } else {
                colorized_ldb(out, s);
            }
        }
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(cstr(mb_delim));
                }
                raw_ldb(e, mb_delim, out, ldb)?;
            }
        }
        Reply::Map(v) => {
            let mut i = 0;
            while i < v.len() {
                if i > 0 {
                    out.extend_from_slice(cstr(mb_delim));
                }
                raw_ldb(&v[i], mb_delim, out, ldb)?;
                out.push(b' ');
                if let Some(val) = v.get(i + 1) {
                    raw_ldb(val, mb_delim, out, ldb)?;
                }
                i += 2;
            }
        }
        other => raw(other, mb_delim, out)?,
    }
    Ok(())
}

/// CSV form (cliFormatReplyCSV).
pub fn csv(r: &Reply, out: &mut Vec<u8>) -> Result<(), i32> {
    match r {
        Reply::Error(s) => {
            out.extend_from_slice(b"ERROR,");
            repr_into(out, cstr(s));
        }
        Reply::Status(s) | Reply::Bulk(s) | Reply::Verb(s) => repr_into(out, s),
        Reply::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Reply::Double(s) => out.extend_from_slice(cstr(s)),
        Reply::Nil => out.extend_from_slice(b"NULL"),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) | Reply::Map(v) => {
            for (i, e) in v.iter().enumerate() {
                csv(e, out)?;
                if i + 1 != v.len() {
                    out.push(b',');
                }
            }
        }
        Reply::BigNum(_) => return Err(r.type_code()),
    }
    Ok(())
}

fn json_string(out: &mut Vec<u8>, s: &[u8], quoted: bool) {
    if quoted {
        for c in repr(s) {
            if c == b'\\' {
                out.extend_from_slice(b"\\\\");
            } else {
                out.push(c);
            }
        }
        return;
    }
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0..=0x1f => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// JSON form (cliFormatReplyJson).
pub fn json(r: &Reply, quoted: bool, out: &mut Vec<u8>) -> Result<(), i32> {
    match r {
        Reply::Error(s) => {
            out.extend_from_slice(b"error:");
            json_string(out, cstr(s), quoted);
        }
        Reply::Status(s) | Reply::Bulk(s) | Reply::Verb(s) => json_string(out, s, quoted),
        Reply::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Reply::Double(s) => out.extend_from_slice(cstr(s)),
        Reply::Nil => out.extend_from_slice(b"null"),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            out.push(b'[');
            for (i, e) in v.iter().enumerate() {
                json(e, quoted, out)?;
                if i + 1 != v.len() {
                    out.push(b',');
                }
            }
            out.push(b']');
        }
        Reply::Map(v) => {
            out.push(b'{');
            let mut i = 0;
            while i + 1 < v.len() {
                let key = &v[i];
                match key {
                    Reply::Error(_) | Reply::Status(_) | Reply::Bulk(_) | Reply::Verb(_) => {
                        json(key, quoted, out)?
                    }
                    _ => {
                        let mut ks = Vec::new();
                        json(key, quoted, &mut ks)?;
                        if ks.first() == Some(&b'"') {
                            out.extend_from_slice(&ks);
                        } else {
                            out.push(b'"');
                            out.extend_from_slice(&ks);
                            out.push(b'"');
                        }
                    }
                }
                out.push(b':');
                json(&v[i + 1], quoted, out)?;
                if i + 2 != v.len() {
                    out.push(b',');
                }
                i += 2;
            }
            out.push(b'}');
        }
        Reply::BigNum(_) => return Err(r.type_code()),
    }
    Ok(())
}

/// cliFormatReply: the full text printed for one reply.
pub fn format_reply(
    r: &Reply,
    mode: Output,
    raw_strings: bool,
    mb_delim: &[u8],
    cmd_delim: &[u8],
) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    if raw_strings {
        raw(r, mb_delim, &mut out)?;
        return Ok(out);
    }
    match mode {
        Output::Standard => tty(r, b"", &mut out)?,
        Output::Raw => {
            raw(r, mb_delim, &mut out)?;
            out.extend_from_slice(cstr(cmd_delim));
        }
        Output::Csv => {
            csv(r, &mut out)?;
            out.push(b'\n');
        }
        Output::Json | Output::QuotedJson => {
            json(r, mode == Output::QuotedJson, &mut out)?;
            out.push(b'\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn split() {
        assert_eq!(
            split_args(b"set \"a b\" 'c d' e\\x").unwrap(),
            vec![
                b"set".to_vec(),
                b"a b".to_vec(),
                b"c d".to_vec(),
                b"e\\x".to_vec()
            ]
        );
        assert_eq!(split_args(b"\"\\x41\\n\"").unwrap(), vec![b"A\n".to_vec()]);
        assert!(split_args(b"\"abc").is_none());
        assert!(split_args(b"\"abc\"x").is_none());
        assert_eq!(split_args(b"   ").unwrap().len(), 0);
    }

    #[test]
    fn tty_nested() {
        let r = Reply::Array(vec![
            b("a"),
            Reply::Array(vec![Reply::Int(1), Reply::Nil]),
            Reply::Array(vec![]),
        ]);
        let mut out = Vec::new();
        tty(&r, b"", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)\n3) (empty array)\n"
        );
    }

    #[test]
    fn tty_map() {
        let r = Reply::Map(vec![
            b("k"),
            b("v"),
            b("l"),
            Reply::Array(vec![b("x"), b("y")]),
        ]);
        let mut out = Vec::new();
        tty(&r, b"", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1# \"k\" => \"v\"\n2# \"l\" => \n   1) \"x\"\n   2) \"y\"\n"
        );
    }

    #[test]
    fn repr_escapes() {
        assert_eq!(
            repr(b"a\"\\\n\x01\xff"),
            b"\"a\\\"\\\\\\n\\x01\\xff\"".to_vec()
        );
    }

    /// The RESP3 reply of
    /// `EVAL "redis.setresp(3) return {1,{2,'x'},{},false,true,{map={a={1,2},b='x'}},{set={s=true}},{double=1.5}}" 0`,
    /// with each form as printed by redis-cli 7.0.
    fn resp3_sample() -> Reply {
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Array(vec![Reply::Int(2), b("x")]),
            Reply::Array(vec![]),
            Reply::Bool(false),
            Reply::Bool(true),
            Reply::Map(vec![
                b("a"),
                Reply::Array(vec![Reply::Int(1), Reply::Int(2)]),
                b("b"),
                b("x"),
            ]),
            Reply::Set(vec![b("s")]),
            Reply::Double(b"1.5".to_vec()),
        ])
    }

    fn fmt(mode: Output) -> String {
        String::from_utf8(format_reply(&resp3_sample(), mode, false, b"\n", b"\n").unwrap())
            .unwrap()
    }

    #[test]
    fn resp3_all_forms() {
        assert_eq!(
            fmt(Output::Standard),
            "1) (integer) 1\n2) 1) (integer) 2\n   2) \"x\"\n3) (empty array)\n4) (false)\n5) (true)\n6) 1# \"a\" => \n      1) (integer) 1\n      2) (integer) 2\n   2# \"b\" => \"x\"\n7) 1~ \"s\"\n8) (double) 1.5\n"
        );
        assert_eq!(
            fmt(Output::Raw),
            "1\n2\nx\n\n(false)\n(true)\na 1\n2\nb x\ns\n1.5\n"
        );
        assert_eq!(
            fmt(Output::Csv),
            "1,2,\"x\",,false,true,\"a\",1,2,\"b\",\"x\",\"s\",1.5\n"
        );
        assert_eq!(
            fmt(Output::Json),
            "[1,[2,\"x\"],[],false,true,{\"a\":[1,2],\"b\":\"x\"},[\"s\"],1.5]\n"
        );
    }

    #[test]
    fn bignum_is_unknown_type() {
        let r = Reply::BigNum(b"1".to_vec());
        assert_eq!(
            format_reply(&r, Output::Standard, false, b"\n", b"\n"),
            Err(13)
        );
    }

    #[test]
    fn wide_index_alignment() {
        let r = Reply::Array((1..=10).map(Reply::Int).collect());
        let mut out = Vec::new();
        tty(&r, b"", &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with(" 1) (integer) 1\n 2) (integer) 2\n"));
        assert!(s.ends_with("10) (integer) 10\n"));
    }
}

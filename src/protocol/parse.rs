//! Incremental request parser for the multibulk and inline protocols.
//!
//! The parser keeps its state between reads so that a command arriving in
//! many small pieces (or a huge argument) is never rescanned from the start.
//! Error strings are Redis's, byte for byte: clients and tests match on them.

use bytes::{Buf, Bytes, BytesMut};

/// Longest inline request / count line Redis accepts before a newline.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Arguments this big are read into a buffer reserved for them.
pub const PROTO_MBULK_BIG_ARG: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The reply sent to the client, without the leading '-'.
    pub reply: String,
}

impl ParseError {
    fn new(s: impl Into<String>) -> Self {
        ParseError { reply: s.into() }
    }
}

#[derive(Debug)]
pub enum Parsed {
    /// A complete command. May be empty (an empty inline line or `*0`).
    Command(Vec<Bytes>),
    /// More bytes are needed.
    Incomplete,
}

#[derive(Debug, Default)]
pub struct ParseState {
    /// Remaining bulk items of the current multibulk, 0 when between commands.
    multibulk_len: i64,
    /// Length of the bulk being read, -1 when its header is not read yet.
    bulk_len: i64,
    args: Vec<Bytes>,
}

/// Limits the parser enforces, from the config.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub proto_max_bulk_len: i64,
    /// Whether the client still has to authenticate (smaller limits apply).
    pub auth_required: bool,
}

impl ParseState {
    pub fn new() -> Self {
        ParseState {
            multibulk_len: 0,
            bulk_len: -1,
            args: Vec::new(),
        }
    }

    /// True while a multibulk command is partially read.
    pub fn in_progress(&self) -> bool {
        self.multibulk_len > 0
    }

    /// Bytes still wanted for the bulk being read (to size reads), if known.
    pub fn pending_bulk(&self) -> Option<usize> {
        if self.multibulk_len > 0 && self.bulk_len >= 0 {
            Some(self.bulk_len as usize + 2)
        } else {
            None
        }
    }

    /// Parse one command from the front of `buf`, consuming what it uses.
    pub fn parse(&mut self, buf: &mut BytesMut, limits: Limits) -> Result<Parsed, ParseError> {
        if self.multibulk_len == 0 {
            if buf.is_empty() {
                return Ok(Parsed::Incomplete);
            }
            if buf[0] != b'*' {
                return parse_inline(buf);
            }
        }
        self.parse_multibulk(buf, limits)
    }

    fn parse_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Parsed, ParseError> {
        if self.multibulk_len == 0 {
            let Some(cr) = memchr::memchr(b'\r', buf) else {
                if buf.len() > PROTO_INLINE_MAX_SIZE {
                    return Err(ParseError::new(
                        "Protocol error: too big mbulk count string",
                    ));
                }
                return Ok(Parsed::Incomplete);
            };
            if cr + 1 >= buf.len() {
                return Ok(Parsed::Incomplete);
            }
            let n = match parse_i64(&buf[1..cr]) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(ParseError::new("Protocol error: invalid multibulk length")),
            };
            if n > 10 && limits.auth_required {
                return Err(ParseError::new(
                    "Protocol error: unauthenticated multibulk length",
                ));
            }
            buf.advance(cr + 2);
            if n <= 0 {
                return Ok(Parsed::Command(Vec::new()));
            }
            self.multibulk_len = n;
            self.bulk_len = -1;
            self.args = Vec::with_capacity((n as usize).min(1024));
        }
        while self.multibulk_len > 0 {
            if self.bulk_len == -1 {
                let Some(cr) = memchr::memchr(b'\r', buf) else {
                    if buf.len() > PROTO_INLINE_MAX_SIZE {
                        return Err(ParseError::new("Protocol error: too big bulk count string"));
                    }
                    return Ok(Parsed::Incomplete);
                };
                if cr + 1 >= buf.len() {
                    return Ok(Parsed::Incomplete);
                }
                if buf[0] != b'$' {
                    return Err(ParseError::new(format!(
                        "Protocol error: expected '$', got '{}'",
                        buf[0] as char
                    )));
                }
                let n = match parse_i64(&buf[1..cr]) {
                    Some(n) if n >= 0 && n <= limits.proto_max_bulk_len => n,
                    _ => return Err(ParseError::new("Protocol error: invalid bulk length")),
                };
                if n > 16384 && limits.auth_required {
                    return Err(ParseError::new(
                        "Protocol error: unauthenticated bulk length",
                    ));
                }
                buf.advance(cr + 2);
                self.bulk_len = n;
                let want = n as usize + 2;
                if want >= PROTO_MBULK_BIG_ARG && buf.capacity() < want {
                    // Reserve the whole argument at once rather than growing
                    // the buffer read by read.
                    buf.reserve(want - buf.len());
                }
            }
            let n = self.bulk_len as usize;
            if buf.len() < n + 2 {
                return Ok(Parsed::Incomplete);
            }
            let arg = buf.split_to(n).freeze();
            buf.advance(2);
            self.args.push(arg);
            self.bulk_len = -1;
            self.multibulk_len -= 1;
        }
        Ok(Parsed::Command(std::mem::take(&mut self.args)))
    }
}

fn parse_inline(buf: &mut BytesMut) -> Result<Parsed, ParseError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ParseError::new("Protocol error: too big inline request"));
        }
        return Ok(Parsed::Incomplete);
    };
    let end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let args = split_args(&buf[..end])
        .ok_or_else(|| ParseError::new("Protocol error: unbalanced quotes in request"))?;
    buf.advance(nl + 1);
    Ok(Parsed::Command(args.into_iter().map(Bytes::from).collect()))
}

/// Parse a decimal i64 the way Redis's string2ll does: no leading '+', no
/// leading zeros (except "0"), no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Split a line into arguments like Redis's sdssplitargs: whitespace
/// separated, "double quotes" with escapes (\n \r \t \b \a \xHH), 'single
/// quotes' with only \' escaped. A closing quote must be followed by space or
/// the end. Returns None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    cur.push(hex_val(line[i + 2])? * 16 + hex_val(line[i + 3])?);
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if line[i] == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            auth_required: false,
        }
    }

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ParseError> {
        let mut st = ParseState::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match st.parse(&mut buf, limits())? {
                Parsed::Command(a) => out.push(a),
                Parsed::Incomplete => return Ok(out),
            }
        }
    }

    #[test]
    fn multibulk_and_inline() {
        let r = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\n").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(r[1], vec![Bytes::from("PING")]);
        assert_eq!(
            r[2],
            vec![Bytes::from("set"), Bytes::from("a"), Bytes::from("b c")]
        );
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let input = b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$10\r\n0123456789\r\n";
        let mut st = ParseState::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Parsed::Command(a) = st.parse(&mut buf, limits()).unwrap() {
                got = Some(a);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from("0123456789"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_all(b"*x\r\n").unwrap_err().reply,
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n+x\r\n").unwrap_err().reply,
            "Protocol error: expected '$', got '+'"
        );
        assert_eq!(
            parse_all(b"*1\r\n$-2\r\n").unwrap_err().reply,
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            parse_all(b"set \"a\r\n").unwrap_err().reply,
            "Protocol error: unbalanced quotes in request"
        );
    }

    #[test]
    fn split_args_rules() {
        assert_eq!(
            split_args(b"a \"\\x41\\n\" 'it\\'s'").unwrap(),
            vec![b"a".to_vec(), b"A\n".to_vec(), b"it's".to_vec()]
        );
        assert!(split_args(b"\"a\"b").is_none());
        assert_eq!(split_args(b"   ").unwrap().len(), 0);
    }

    #[test]
    fn int_parsing() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
    }
}

/// Property test: random and truncated input never panics the parser, and
/// whatever it accepts is consumed exactly.
#[cfg(test)]
mod fuzz {
    use super::*;

    fn rng(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// A valid command in RESP form.
    fn gen_command(st: &mut u64) -> Vec<u8> {
        let n = (rng(st) % 5) as usize + 1;
        let mut out = format!("*{n}\r\n").into_bytes();
        for _ in 0..n {
            let len = (rng(st) % 40) as usize;
            out.extend_from_slice(format!("${len}\r\n").as_bytes());
            for _ in 0..len {
                out.push(rng(st) as u8);
            }
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    const ALPHABET: &[u8] = b"*$\r\n0123456789-+ \"'\\x:abc";

    #[test]
    fn random_bytes_never_panic() {
        let mut st = 0x9e3779b97f4a7c15u64;
        let limits = Limits {
            proto_max_bulk_len: 1 << 20,
            auth_required: false,
        };
        for round in 0u32..20000 {
            let len = (rng(&mut st) % 64) as usize;
            let mut input: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng(&mut st);
                    if r.is_multiple_of(3) {
                        r as u8
                    } else {
                        ALPHABET[(r as usize >> 8) % ALPHABET.len()]
                    }
                })
                .collect();
            if round.is_multiple_of(2) {
                // Mutate a valid command: truncate or flip a byte.
                input = gen_command(&mut st);
                let cut = (rng(&mut st) as usize) % (input.len() + 1);
                input.truncate(cut);
                if !input.is_empty() && round.is_multiple_of(4) {
                    let i = (rng(&mut st) as usize) % input.len();
                    input[i] = rng(&mut st) as u8;
                }
            }
            let mut state = ParseState::new();
            let mut buf = BytesMut::new();
            // Feed in random-sized chunks.
            let mut pos = 0;
            'feed: while pos < input.len() {
                let step = ((rng(&mut st) % 8) as usize + 1).min(input.len() - pos);
                buf.extend_from_slice(&input[pos..pos + step]);
                pos += step;
                loop {
                    let before = buf.len();
                    match state.parse(&mut buf, limits) {
                        Ok(Parsed::Command(_)) => assert!(buf.len() <= before),
                        Ok(Parsed::Incomplete) => break,
                        Err(e) => {
                            assert!(e.reply.starts_with("Protocol error: "));
                            break 'feed;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn valid_commands_roundtrip_in_any_chunking() {
        let mut st = 42u64;
        let limits = Limits {
            proto_max_bulk_len: 1 << 20,
            auth_required: false,
        };
        for _ in 0..2000 {
            let cmds: Vec<Vec<u8>> = (0..3).map(|_| gen_command(&mut st)).collect();
            let all: Vec<u8> = cmds.concat();
            let mut state = ParseState::new();
            let mut buf = BytesMut::new();
            let mut got = 0;
            let mut pos = 0;
            while pos < all.len() {
                let step = ((rng(&mut st) % 16) as usize + 1).min(all.len() - pos);
                buf.extend_from_slice(&all[pos..pos + step]);
                pos += step;
                while let Parsed::Command(_) = state.parse(&mut buf, limits).unwrap() {
                    got += 1;
                }
            }
            assert_eq!(got, 3);
            assert!(buf.is_empty());
        }
    }
}

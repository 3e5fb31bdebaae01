//! RESP2/RESP3 reply model and a blocking reader, shaped like the
//! replies the client library of redis-cli hands to its formatters.

use std::io::{self, BufRead};

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
    /// Flat key, value, key, value...
    Map(Vec<Reply>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    /// The textual form exactly as sent by the server.
    Double(Vec<u8>),
    Bool(bool),
    /// Payload without the three-letter type and colon.
    Verb(Vec<u8>),
    BigNum(Vec<u8>),
}

impl Reply {
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The numeric reply type the C client library uses (for messages
    /// that print it).
    pub fn type_code(&self) -> i32 {
        match self {
            Reply::Bulk(_) => 1,
            Reply::Array(_) => 2,
            Reply::Int(_) => 3,
            Reply::Nil => 4,
            Reply::Status(_) => 5,
            Reply::Error(_) => 6,
            Reply::Double(_) => 7,
            Reply::Bool(_) => 8,
            Reply::Map(_) => 9,
            Reply::Set(_) => 10,
            Reply::Push(_) => 12,
            Reply::BigNum(_) => 13,
            Reply::Verb(_) => 14,
        }
    }

    /// Bytes of a string-ish reply.
    pub fn str_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Status(s)
            | Reply::Error(s)
            | Reply::Bulk(s)
            | Reply::Verb(s)
            | Reply::Double(s)
            | Reply::BigNum(s) => Some(s),
            _ => None,
        }
    }
}

/// Why a reply could not be read; `msg` is the text redis-cli shows
/// after "Error: ".
#[derive(Debug)]
pub struct ReadError {
    pub msg: String,
    /// Connection-level failure (EOF / reset) as opposed to protocol.
    pub io: bool,
}

pub fn strerror(e: &io::Error) -> String {
    if let Some(code) = e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a static NUL-terminated
        // string for any errno value.
        unsafe {
            let p = libc::strerror(code);
            if !p.is_null() {
                return std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
            }
        }
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "Server closed the connection".to_string(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            "Resource temporarily unavailable".to_string()
        }
        _ => e.to_string(),
    }
}

fn io_err(e: io::Error) -> ReadError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return ReadError {
            msg: "Server closed the connection".into(),
            io: true,
        };
    }
    ReadError {
        msg: strerror(&e),
        io: true,
    }
}

fn proto_err(msg: String) -> ReadError {
    ReadError { msg, io: false }
}

fn read_line<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line).map_err(io_err)?;
    if n == 0 || !line.ends_with(b"\n") {
        return Err(ReadError {
            msg: "Server closed the connection".into(),
            io: true,
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

fn parse_int(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse::<i64>().ok()
}

fn read_exact<R: BufRead>(r: &mut R, n: usize) -> Result<Vec<u8>, ReadError> {
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf).map_err(io_err)?;
    Ok(buf)
}

/// Read one complete reply.
pub fn read_reply<R: BufRead>(r: &mut R) -> Result<Reply, ReadError> {
    read_depth(r, 0)
}

fn read_depth<R: BufRead>(r: &mut R, depth: usize) -> Result<Reply, ReadError> {
    if depth > 512 {
        return Err(proto_err(
            "No support for nested multi bulk replies with depth > 7".into(),
        ));
    }
    let line = read_line(r)?;
    let Some((&t, rest)) = line.split_first() else {
        return Err(proto_err(
            "Protocol error, got \"\\r\" as reply type byte".into(),
        ));
    };
    let bad_len = || proto_err("Bad multi-bulk length".into());
    match t {
        b'+' => Ok(Reply::Status(rest.to_vec())),
        b'-' => Ok(Reply::Error(rest.to_vec())),
        b':' => parse_int(rest)
            .map(Reply::Int)
            .ok_or_else(|| proto_err("Bad integer value".into())),
        b',' => Ok(Reply::Double(rest.to_vec())),
        b'(' => Ok(Reply::BigNum(rest.to_vec())),
        b'_' => Ok(Reply::Nil),
        b'#' => match rest {
            b"t" => Ok(Reply::Bool(true)),
            b"f" => Ok(Reply::Bool(false)),
            _ => Err(proto_err("Bad bool value".into())),
        },
        b'$' | b'=' | b'!' => {
            let n = parse_int(rest).ok_or_else(|| proto_err("Bad bulk string length".into()))?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let mut data = read_exact(r, n as usize + 2)?;
            data.truncate(n as usize);
            match t {
                b'$' => Ok(Reply::Bulk(data)),
                b'!' => Ok(Reply::Error(data)),
                _ => {
                    if data.len() < 4 {
                        return Err(proto_err("Verbatim string 4 bytes of content type are missing or incorrectly encoded.".into()));
                    }
                    Ok(Reply::Verb(data[4..].to_vec()))
                }
            }
        }
        b'*' | b'%' | b'~' | b'>' => {
            let n = parse_int(rest).ok_or_else(bad_len)?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let count = if t == b'%' {
                (n as usize).checked_mul(2).ok_or_else(bad_len)?
            } else {
                n as usize
            };
            let mut v = Vec::with_capacity(count.min(1024));
            for _ in 0..count {
                v.push(read_depth(r, depth + 1)?);
            }
            Ok(match t {
                b'*' => Reply::Array(v),
                b'%' => Reply::Map(v),
                b'~' => Reply::Set(v),
                _ => Reply::Push(v),
            })
        }
        // '|' (attributes) included: the hiredis of redis-cli 7.0 does not
        // know them, and ends with this protocol error.
        other => {
            let shown = if other.is_ascii_graphic() || other == b' ' {
                (other as char).to_string()
            } else {
                format!("\\x{:02x}", other)
            };
            Err(proto_err(format!(
                "Protocol error, got \"{}\" as reply type byte",
                shown
            )))
        }
    }
}

/// Encode a command as a RESP multibulk.
pub fn encode_command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> Reply {
        read_reply(&mut std::io::Cursor::new(b.to_vec())).unwrap()
    }

    #[test]
    fn basic() {
        assert_eq!(parse(b"+OK\r\n"), Reply::Status(b"OK".to_vec()));
        assert_eq!(parse(b"$-1\r\n"), Reply::Nil);
        assert_eq!(parse(b"*-1\r\n"), Reply::Nil);
        assert_eq!(
            parse(b"*2\r\n:1\r\n$1\r\na\r\n"),
            Reply::Array(vec![Reply::Int(1), Reply::Bulk(b"a".to_vec())])
        );
        assert_eq!(parse(b"=7\r\ntxt:abc\r\n"), Reply::Verb(b"abc".to_vec()));
        assert_eq!(parse(b"%1\r\n+a\r\n#t\r\n").type_code(), 9);
    }
}

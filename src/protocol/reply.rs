//! Reply encoder. One `Reply` per client; it knows the client's protocol
//! version so commands write one call and get RESP2 or RESP3 framing.

use crate::util::format_double_g17;

#[derive(Debug, Default)]
pub struct Reply {
    pub buf: Vec<u8>,
    /// 2 or 3.
    pub resp: u8,
    /// Set when a RESP3 push header is written: pushes reach the client
    /// even under CLIENT REPLY OFF/SKIP, as in Redis.
    pub pushed: bool,
}

/// `<prefix><n>\r\n`, formatted without allocating (every reply header
/// goes through here).
fn push_int(buf: &mut Vec<u8>, prefix: u8, n: i64) {
    let mut tmp = [0u8; 24];
    buf.push(prefix);
    buf.extend_from_slice(crate::util::fmt_i64(n, &mut tmp));
    buf.extend_from_slice(b"\r\n");
}

impl Reply {
    pub fn new() -> Self {
        Reply {
            buf: Vec::with_capacity(64),
            resp: 2,
            pushed: false,
        }
    }

    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }
    /// `+status`; the text must not contain CR or LF.
    pub fn status(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
    /// `-ERR msg`-style error. `msg` is the full text after '-' (with its
    /// code, e.g. "ERR syntax error"). Newlines are replaced by spaces so a
    /// user-supplied string can never break the framing.
    pub fn error_raw(&mut self, msg: &str) {
        self.buf.push(b'-');
        for &c in msg.as_bytes() {
            self.buf
                .push(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.buf.extend_from_slice(b":0\r\n"),
            1 => self.buf.extend_from_slice(b":1\r\n"),
            _ => push_int(&mut self.buf, b':', n),
        }
    }
    pub fn bulk(&mut self, b: &[u8]) {
        push_int(&mut self.buf, b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes());
    }
    pub fn bulk_int(&mut self, n: i64) {
        self.bulk(n.to_string().as_bytes());
    }
    /// Null bulk (`$-1` / `_`).
    pub fn null(&mut self) {
        if self.resp >= 3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }
    /// Null array (`*-1` / `_`).
    pub fn null_array(&mut self) {
        if self.resp >= 3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }
    pub fn array(&mut self, n: usize) {
        push_int(&mut self.buf, b'*', n as i64);
    }
    /// Map header: `%n` in RESP3, a flat array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp >= 3 {
            push_int(&mut self.buf, b'%', n as i64);
        } else {
            push_int(&mut self.buf, b'*', 2 * n as i64);
        }
    }
    /// Set header: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        if self.resp >= 3 {
            push_int(&mut self.buf, b'~', n as i64);
        } else {
            push_int(&mut self.buf, b'*', n as i64);
        }
    }
    /// Push header (RESP3 out-of-band data); an array in RESP2.
    pub fn push(&mut self, n: usize) {
        // Pub/Sub data passes CLIENT REPLY OFF/SKIP in both protocols.
        self.pushed = true;
        if self.resp >= 3 {
            push_int(&mut self.buf, b'>', n as i64);
        } else {
            push_int(&mut self.buf, b'*', n as i64);
        }
    }
    /// Attribute header (RESP3 only).
    pub fn attribute(&mut self, n: usize) {
        push_int(&mut self.buf, b'|', n as i64);
    }
    pub fn boolean(&mut self, b: bool) {
        if self.resp >= 3 {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }
    /// A double as Redis's addReplyDouble writes it (%.17g).
    pub fn double(&mut self, d: f64) {
        if d.is_infinite() {
            let s = if d > 0.0 { "inf" } else { "-inf" };
            if self.resp >= 3 {
                self.buf.push(b',');
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            } else {
                self.bulk_str(s);
            }
            return;
        }
        let s = format_double_g17(d);
        if self.resp >= 3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk_str(&s);
        }
    }
    /// A pre-formatted number as a double (RESP3) or bulk (RESP2); used for
    /// scores that Redis formats in a human-readable way.
    pub fn double_str(&mut self, s: &str) {
        if self.resp >= 3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk_str(s);
        }
    }
    pub fn bignum(&mut self, s: &str) {
        if self.resp >= 3 {
            self.buf.push(b'(');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk_str(s);
        }
    }
    /// Verbatim string with a 3-letter format ("txt"); bulk in RESP2.
    pub fn verbatim(&mut self, s: &[u8], ext: &str) {
        if self.resp >= 3 {
            push_int(&mut self.buf, b'=', s.len() as i64 + 4);
            self.buf.extend_from_slice(ext.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }
    /// An array of bulk strings.
    pub fn bulk_array<I, T>(&mut self, items: I)
    where
        I: ExactSizeIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.array(items.len());
        for it in items {
            self.bulk(it.as_ref());
        }
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

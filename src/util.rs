//! Small helpers shared by every module: glob matching, number formatting
//! and parsing with Redis's exact rules, clocks and a fast PRNG.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn mstime() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch.
pub fn ustime() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let t = ustime() as u64 ^ (std::process::id() as u64) << 32;
        t | 1
    });
}

/// xorshift64*: fast, good enough for sampling keys; not for secrets.
pub fn random_u64() -> u64 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        x.wrapping_mul(0x2545F4914F6CDD1D)
    })
}

/// Uniform-ish integer in 0..n (n > 0).
pub fn random_below(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        random_u64() % n
    }
}

/// 40 hex chars of randomness, like Redis's run_id.
pub fn random_hex(len: usize) -> String {
    let mut s = String::with_capacity(len);
    while s.len() < len {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(len);
    s
}

/// Glob-style matching with Redis's stringmatchlen semantics
/// (`*`, `?`, `[...]` with ranges and `^`, `\` escapes).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip = false;
    glob_impl(pattern, string, nocase, &mut skip, 0)
}

fn lower(c: u8) -> u8 {
    c.to_ascii_lowercase()
}

fn glob_impl(mut p: &[u8], mut s: &[u8], nocase: bool, skip_longer: &mut bool, depth: u32) -> bool {
    // Redis bounds recursion too; a pathological pattern fails to match.
    if depth > 1000 {
        return false;
    }
    let at = |v: &[u8], i: usize| -> u8 { v.get(i).copied().unwrap_or(0) };
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if glob_impl(&p[1..], s, nocase, skip_longer, depth + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = at(p, 0) == b'^';
                if not {
                    p = &p[1..];
                }
                let mut matched = false;
                loop {
                    if at(p, 0) == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if p[0] == s[0] {
                            matched = true;
                        }
                    } else if p.is_empty() {
                        // Unterminated class: Redis steps back onto the last
                        // character so the outer loop advances past it.
                        break;
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut start, mut end, mut c) = (p[0], p[2], s[0]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            c = lower(c);
                        }
                        p = &p[2..];
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if (!nocase && p[0] == s[0]) || (nocase && lower(p[0]) == lower(s[0])) {
                        matched = true;
                    }
                    if p.is_empty() {
                        break;
                    }
                    p = &p[1..];
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s = &s[1..];
                if p.is_empty() {
                    // Pattern exhausted inside an unterminated class.
                    return s.is_empty();
                }
            }
            c => {
                let mut pc = c;
                if c == b'\\' && p.len() >= 2 {
                    p = &p[1..];
                    pc = p[0];
                }
                if (!nocase && pc != s[0]) || (nocase && lower(pc) != lower(s[0])) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while !p.is_empty() && p[0] == b'*' {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

/// Format like C's `%.17g`.
pub fn format_double_g17(d: f64) -> String {
    format_g(d, 17)
}

/// Format like C's `%.<prec>g`.
pub fn format_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let prec = prec.max(1);
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let e = format!("{:.*e}", prec - 1, d);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = strip_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", mant, sign, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Parse a double like Redis's string2d/getDoubleFromObject: the whole
/// string must be a number, no leading/trailing space, NaN is rejected.
/// Accepts "inf", "+inf", "-inf" (any case) as strtod does.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5000 {
        return None;
    }
    if s[0].is_ascii_whitespace() || s[s.len() - 1].is_ascii_whitespace() {
        return None;
    }
    // Fast paths for what clients send nearly always: a short integer
    // (exact in a double), or plain decimal notation.
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if !digits.is_empty() && digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
        let n = digits.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64) as f64;
        return Some(if neg { -n } else { n });
    }
    if s.iter()
        .all(|&c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        // ASCII only, so valid UTF-8; Rust's grammar for these characters
        // is strtod's. Like Redis, reject what strtod flags ERANGE with
        // an infinite or zero result (overflow, total underflow).
        let v = std::str::from_utf8(s).ok()?.parse::<f64>().ok()?;
        let mantissa = s.split(|&c| c == b'e' || c == b'E').next().unwrap_or(s);
        if v.is_infinite() || (v == 0.0 && mantissa.iter().any(|&c| matches!(c, b'1'..=b'9'))) {
            return None;
        }
        return Some(v);
    }
    let st = std::str::from_utf8(s).ok()?;
    let lower = st.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts forms strtod does not ("1_0" no, but "nan", "inf"
            // handled above); reject anything with letters other than e/E,
            // or hex floats which strtod accepts but are rare.
            if lower.starts_with("0x") || lower.starts_with("-0x") || lower.starts_with("+0x") {
                return parse_hex_float(&lower);
            }
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            lower.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[3..]),
        b'+' => (false, &s[3..]),
        _ => (false, &s[2..]),
    };
    if rest.is_empty() || rest.contains('.') || rest.contains('p') {
        return None;
    }
    let v = u64::from_str_radix(rest, 16).ok()? as f64;
    Some(if neg { -v } else { v })
}

/// Parse an i64 with Redis's strict rules (see protocol::parse::parse_i64).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    crate::protocol::parse::parse_i64(s)
}

/// Lowercase ASCII into a new String (command names are ASCII).
pub fn lower_str(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

/// Case-insensitive ASCII comparison of an argument with a keyword.
#[inline]
pub fn eq_ic(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

/// Human-readable bytes like Redis's bytesToHuman ("1.23M").
pub fn bytes_to_human(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else if n < 1024.0 * 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.2}T", n / (1024.0 * 1024.0 * 1024.0 * 1024.0))
    }
}

/// Decimal digits of n into buf; returns the used slice.
pub fn fmt_i64(n: i64, buf: &mut [u8; 24]) -> &[u8] {
    let mut i = buf.len();
    let neg = n < 0;
    let mut u = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(glob_match(b"*", b"anything", false));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"a\\*b", b"a*b", false));
        assert!(!glob_match(b"a\\*b", b"axb", false));
        assert!(glob_match(b"HELLO", b"hello", true));
        assert!(glob_match(b"*a*b*", b"xxaxxbxx", false));
        assert!(!glob_match(b"", b"a", false));
        assert!(glob_match(b"a*", b"a", false));
        assert!(!glob_match(b"[a", b"b", false));
        assert!(glob_match(b"[a", b"a", false));
    }

    #[test]
    fn g17() {
        assert_eq!(format_double_g17(1.5), "1.5");
        assert_eq!(format_double_g17(0.1), "0.10000000000000001");
        assert_eq!(format_double_g17(1e20), "1e+20");
        assert_eq!(format_double_g17(123.0), "123");
        assert_eq!(format_double_g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_g(3.0, 17), "3");
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-12"), Some(-12.0));
        assert!(parse_f64(b"-0").unwrap().is_sign_negative());
        assert_eq!(parse_f64(b"123456789012345678"), Some(123456789012345678.0));
        assert_eq!(parse_f64(b"-.5e1"), Some(-5.0));
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"0e-400"), Some(0.0));
        assert_eq!(parse_f64(b"1e"), None);
        assert_eq!(parse_f64(b"-"), None);
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b"abc"), None);
    }
}

/// SHA-1 of `data` as 40 lowercase hex chars (script ids, redis.sha1hex).
pub fn sha1_hex(data: &[u8]) -> String {
    let hex = sha1_hex_bytes(data);
    String::from_utf8_lossy(&hex).into_owned()
}

/// SHA-1 of `data` as 40 lowercase hex bytes, without allocating for them.
pub fn sha1_hex_bytes(data: &[u8]) -> [u8; 40] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 40];
    for (i, b) in sha1(data).iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// SHA-1 digest bytes.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod sha_tests {
    #[test]
    fn sha1_known_values() {
        assert_eq!(
            super::sha1_hex(b""),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            super::sha1_hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            super::sha1_hex(b"return 1"),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }
}

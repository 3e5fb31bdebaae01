//! Redis's compact encodings as they appear in RDB files and DUMP
//! payloads: listpacks (written and read), and ziplists, intsets and
//! zipmaps (read, from older versions). Readers check every structure
//! they walk so that a corrupt payload is rejected instead of misread;
//! `deep` adds the checks Redis only does under sanitize-dump-payload
//! (back-lengths, element counts, duplicates, ordering).

/// An element of a compact structure: bytes, or an integer as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Elem {
    Str(Vec<u8>),
    Int(i64),
}

impl Elem {
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Elem::Str(s) => s,
            Elem::Int(n) => n.to_string().into_bytes(),
        }
    }
}

// ------------------------------------------------------------ listpack writing

const LP_HDR: usize = 6;
const LP_EOF: u8 = 0xFF;

/// Integer value of `s` when a listpack stores it as an integer (Redis's
/// lpStringToInt64: canonical decimal, at most 20 chars, no "-0").
pub fn lp_string_to_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
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
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
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
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

fn int_enc_len(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    }
}

fn str_enc_len(n: usize) -> usize {
    if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    }
}

/// Bytes of the back-length field for an entry of `l` encoded bytes.
pub fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

/// Total bytes an element takes in a listpack (encoding + back-length).
pub fn lp_entry_size(s: &[u8]) -> usize {
    let e = match lp_string_to_int(s) {
        Some(v) => int_enc_len(v),
        None => str_enc_len(s.len()),
    };
    e + backlen_size(e)
}

pub(crate) fn put_backlen(out: &mut Vec<u8>, l: usize) {
    let n = backlen_size(l);
    let l = l as u64;
    if n == 1 {
        out.push(l as u8);
        return;
    }
    // Most significant 7-bit group first; every byte but the first
    // carries the continuation bit.
    for i in (0..n).rev() {
        let b = ((l >> (7 * i)) & 127) as u8;
        out.push(if i == n - 1 { b } else { b | 128 });
    }
}

pub(crate) fn put_int(out: &mut Vec<u8>, v: i64) -> usize {
    let start = out.len();
    match int_enc_len(v) {
        1 => out.push(v as u8),
        2 => {
            let u = (v as u64) & 0x1fff;
            out.push(0xC0 | (u >> 8) as u8);
            out.push(u as u8);
        }
        3 => {
            out.push(0xF1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        }
        4 => {
            out.push(0xF2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        5 => {
            out.push(0xF3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        _ => {
            out.push(0xF4);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.len() - start
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &[u8]) -> usize {
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.push(0xE0 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
    str_enc_len(n)
}

/// Builds a listpack blob element by element.
pub struct LpBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LpBuilder {
    pub fn new() -> LpBuilder {
        LpBuilder {
            buf: vec![0; LP_HDR],
            count: 0,
        }
    }

    /// Append a string element (stored as an integer when it is one).
    pub fn push(&mut self, s: &[u8]) {
        match lp_string_to_int(s) {
            Some(v) => self.push_int(v),
            None => {
                let l = put_str(&mut self.buf, s);
                put_backlen(&mut self.buf, l);
                self.count += 1;
            }
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let l = put_int(&mut self.buf, v);
        put_backlen(&mut self.buf, l);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(LP_EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(u16::MAX as usize) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

// ------------------------------------------------------------ listpack reading

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64)
}

/// Sign-extend the low `bits` bits of `u`.
fn sext(u: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((u << sh) as i64) >> sh
}

/// Decode the back-length ending at `end` (inclusive), reading backwards.
pub(crate) fn decode_backlen(lp: &[u8], end: usize, floor: usize) -> Option<u64> {
    let mut val = 0u64;
    let mut shift = 0;
    let mut p = end;
    loop {
        let b = lp[p];
        val |= ((b & 127) as u64) << shift;
        if b & 128 == 0 {
            return Some(val);
        }
        shift += 7;
        if shift > 28 || p <= floor {
            return None;
        }
        p -= 1;
    }
}

/// Check a listpack header (Redis's shallow validation).
pub fn lp_check_header(lp: &[u8]) -> bool {
    lp.len() > LP_HDR && le(&lp[0..4]) as usize == lp.len() && lp[lp.len() - 1] == LP_EOF
}

/// An element of a listpack as stored, borrowed from the blob.
#[derive(Clone, Copy)]
pub enum LpVal<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> LpVal<'a> {
    /// The element as bytes (integers formatted into `buf`).
    #[inline]
    pub fn bytes<'b>(self, buf: &'b mut [u8; 24]) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            LpVal::Str(s) => s,
            LpVal::Int(n) => crate::util::fmt_i64(n, buf),
        }
    }

    /// Bytes the element takes in a canonical listpack (`lp_entry_size`
    /// of its string form).
    #[inline]
    pub fn entry_size(self) -> usize {
        let e = match self {
            LpVal::Str(s) => match lp_string_to_int(s) {
                Some(v) => int_enc_len(v),
                None => str_enc_len(s.len()),
            },
            LpVal::Int(v) => int_enc_len(v),
        };
        e + backlen_size(e)
    }

    pub fn to_elem(self) -> Elem {
        match self {
            LpVal::Str(s) => Elem::Str(s.to_vec()),
            LpVal::Int(n) => Elem::Int(n),
        }
    }
}

/// Every element of a listpack. The header is always checked, and every
/// entry header is bounds-checked; `deep` also checks back-lengths and
/// the element count, as Redis's deep sanitization does.
pub fn lp_elems(lp: &[u8], deep: bool) -> Option<Vec<Elem>> {
    let mut out = Vec::with_capacity(lp_count_hint(lp).min(4096));
    lp_walk(lp, deep, |v| out.push(v.to_elem()))?;
    Some(out)
}

/// The element count a listpack header claims (0 when too short).
pub fn lp_count_hint(lp: &[u8]) -> usize {
    if lp.len() < LP_HDR {
        return 0;
    }
    le(&lp[4..6]) as usize
}

/// Walk a listpack's elements in order, with `lp_elems`'s checks, without
/// copying them; returns the number of elements, None when invalid
/// (`f` may have seen some elements by then).
pub fn lp_walk<'a, F: FnMut(LpVal<'a>)>(lp: &'a [u8], deep: bool, mut f: F) -> Option<usize> {
    if !lp_check_header(lp) {
        return None;
    }
    let last = lp.len() - 1; // the EOF byte
    let numele = le(&lp[4..6]) as usize;
    let mut count = 0usize;
    let mut p = LP_HDR;
    while lp[p] != LP_EOF {
        let e = lp[p];
        // Header bytes needed to know the entry's length.
        let lenbytes = if e & 0x80 == 0 || e & 0xC0 == 0x80 || e & 0xE0 == 0xC0 {
            1
        } else if e & 0xF0 == 0xE0 {
            2
        } else {
            match e {
                0xF0 => 5,
                0xF1..=0xF4 => 1,
                _ => return None,
            }
        };
        if p + lenbytes > last {
            return None;
        }
        let (elem, enc_len): (LpVal<'a>, usize) = if e & 0x80 == 0 {
            (LpVal::Int((e & 0x7f) as i64), 1)
        } else if e & 0xC0 == 0x80 {
            let n = (e & 0x3f) as usize;
            if p + 1 + n > last {
                return None;
            }
            (LpVal::Str(&lp[p + 1..p + 1 + n]), 1 + n)
        } else if e & 0xE0 == 0xC0 {
            let u = (((e & 0x1f) as u64) << 8) | lp[p + 1] as u64;
            (LpVal::Int(sext(u, 13)), 2)
        } else if e & 0xF0 == 0xE0 {
            let n = (((e & 0x0f) as usize) << 8) | lp[p + 1] as usize;
            if p + 2 + n > last {
                return None;
            }
            (LpVal::Str(&lp[p + 2..p + 2 + n]), 2 + n)
        } else if e == 0xF0 {
            let n = le(&lp[p + 1..p + 5]) as usize;
            if n > last || p + 5 + n > last {
                return None;
            }
            (LpVal::Str(&lp[p + 5..p + 5 + n]), 5 + n)
        } else {
            let w = match e {
                0xF1 => 2,
                0xF2 => 3,
                0xF3 => 4,
                _ => 8,
            };
            if p + 1 + w > last {
                return None;
            }
            let u = le(&lp[p + 1..p + 1 + w]);
            (LpVal::Int(sext(u, 8 * w as u32)), 1 + w)
        };
        let bl = backlen_size(enc_len);
        let next = p + enc_len + bl;
        if next > last {
            return None;
        }
        if deep {
            let prevlen = decode_backlen(lp, next - 1, p)?;
            if prevlen as usize != enc_len {
                return None;
            }
        }
        f(elem);
        count += 1;
        p = next;
    }
    if p != last {
        return None;
    }
    if deep && numele != u16::MAX as usize && numele != count {
        return None;
    }
    Some(count)
}

// ------------------------------------------------------------ ziplist reading

/// Every element of a ziplist, fully validated (Redis always validates
/// ziplists deeply, since it converts them on load).
pub fn ziplist_elems(zl: &[u8]) -> Option<Vec<Elem>> {
    const HDR: usize = 10;
    let size = zl.len();
    if size < HDR + 1 {
        return None;
    }
    if le(&zl[0..4]) as usize != size || zl[size - 1] != 0xFF {
        return None;
    }
    let tail = le(&zl[4..8]) as usize;
    if tail > size - 1 {
        return None;
    }
    let header_count = le(&zl[8..10]) as usize;
    let zllast = size - 1;
    let mut p = HDR;
    let mut prev_raw = 0usize;
    let mut prev: Option<usize> = None;
    let mut out = Vec::new();
    while zl[p] != 0xFF {
        if p < HDR || p > zllast {
            return None;
        }
        let prevlensize = if zl[p] < 254 { 1 } else { 5 };
        if p + prevlensize > zllast {
            return None;
        }
        let ep = p + prevlensize;
        let mut enc = zl[ep];
        if enc < 0xC0 {
            enc &= 0xC0;
        }
        let lensize = match enc {
            0xC0 | 0xD0 | 0xE0 | 0xF0 | 0xFE => 1,
            0xF1..=0xFD => 1,
            0x00 => 1,
            0x40 => 2,
            0x80 => 5,
            _ => return None,
        };
        if ep + lensize > zllast {
            return None;
        }
        let prevlen = if prevlensize == 1 {
            zl[p] as usize
        } else {
            le(&zl[p + 1..p + 5]) as usize
        };
        let len = match enc {
            0x00 => (zl[ep] & 0x3f) as usize,
            0x40 => (((zl[ep] & 0x3f) as usize) << 8) | zl[ep + 1] as usize,
            0x80 => u32::from_be_bytes([zl[ep + 1], zl[ep + 2], zl[ep + 3], zl[ep + 4]]) as usize,
            0xFE => 1,
            0xC0 => 2,
            0xF0 => 3,
            0xD0 => 4,
            0xE0 => 8,
            _ => 0,
        };
        let headersize = prevlensize + lensize;
        let data = p + headersize;
        if data.checked_add(len).is_none_or(|e| e > zllast) {
            return None;
        }
        if p < HDR + prevlen {
            return None;
        }
        if prevlen != prev_raw {
            return None;
        }
        let d = &zl[data..data + len];
        let elem = match enc {
            0x00 | 0x40 | 0x80 => Elem::Str(d.to_vec()),
            0xFE => Elem::Int(d[0] as i8 as i64),
            0xC0 => Elem::Int(sext(le(d), 16)),
            0xF0 => Elem::Int(sext(le(d), 24)),
            0xD0 => Elem::Int(sext(le(d), 32)),
            0xE0 => Elem::Int(le(d) as i64),
            imm => Elem::Int(((imm & 0x0f) as i64) - 1),
        };
        out.push(elem);
        prev_raw = headersize + len;
        prev = Some(p);
        p = data + len;
    }
    if p != zllast {
        return None;
    }
    if let Some(pv) = prev {
        if pv != tail {
            return None;
        }
    }
    if header_count != u16::MAX as usize && out.len() != header_count {
        return None;
    }
    Some(out)
}

// ------------------------------------------------------------ intset / zipmap

/// Members of an intset (with the width it is encoded in). Header and
/// size are always checked; `deep` checks strict ascending order.
pub fn intset_members(b: &[u8], deep: bool) -> Option<(Vec<i64>, usize)> {
    if b.len() < 8 {
        return None;
    }
    let enc = le(&b[0..4]) as usize;
    if !matches!(enc, 2 | 4 | 8) {
        return None;
    }
    let n = le(&b[4..8]) as usize;
    if 8 + n * enc != b.len() || n == 0 {
        return None;
    }
    let v: Vec<i64> = b[8..]
        .chunks_exact(enc)
        .map(|c| sext(le(c), 8 * enc as u32))
        .collect();
    if deep && v.windows(2).any(|w| w[1] <= w[0]) {
        return None;
    }
    Some((v, enc))
}

/// Field/value pairs of a zipmap (Redis 2.4 hashes), fully validated.
pub fn zipmap_pairs(zm: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let size = zm.len();
    if size < 2 || zm[size - 1] != 0xFF {
        return None;
    }
    let out_of_range = |p: usize| p < 2 || p > size - 1;
    let len_at = |p: usize| -> Option<(usize, usize)> {
        let c = *zm.get(p)?;
        if c < 254 {
            Some((c as usize, 1))
        } else {
            Some((le(zm.get(p + 1..p + 5)?) as usize, 5))
        }
    };
    let mut p = 1;
    let mut out = Vec::new();
    while zm[p] != 0xFF {
        let s = if zm[p] < 254 { 1 } else { 5 };
        if out_of_range(p + s) {
            return None;
        }
        let (l, _) = len_at(p)?;
        let f = p + s;
        p = f.checked_add(l)?;
        if out_of_range(p) {
            return None;
        }
        let field = zm[f..f + l].to_vec();
        let s = if zm[p] < 254 { 1 } else { 5 };
        if out_of_range(p + s) {
            return None;
        }
        let (l, _) = len_at(p)?;
        p += s;
        let free = zm[p] as usize;
        p += 1;
        let v = p;
        p = p.checked_add(l)?.checked_add(free)?;
        if out_of_range(p) {
            return None;
        }
        out.push((field, zm[v..v + l].to_vec()));
    }
    if out.is_empty() {
        return None;
    }
    if zm[0] != 254 && zm[0] as usize != out.len() {
        return None;
    }
    Some(out)
}

/// The smallest intset width holding every value.
pub fn intset_width(v: &[i64]) -> usize {
    let mut w = 2;
    for &x in v {
        if !(i16::MIN as i64..=i16::MAX as i64).contains(&x) {
            if !(i32::MIN as i64..=i32::MAX as i64).contains(&x) {
                return 8;
            }
            w = 4;
        }
    }
    w
}

/// An intset blob of the given width.
pub fn intset_blob(v: &[i64], width: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + v.len() * width);
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(v.len() as u32).to_le_bytes());
    for &x in v {
        b.extend_from_slice(&x.to_le_bytes()[..width]);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trip() {
        let items: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4096".to_vec(),
            b"-32768".to_vec(),
            b"40000".to_vec(),
            b"-8388609".to_vec(),
            b"2147483648".to_vec(),
            b"-0".to_vec(),
            b"007".to_vec(),
            b"hello".to_vec(),
            vec![b'x'; 100],
            vec![b'y'; 5000],
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"9223372036854775808".to_vec(),
        ];
        let mut b = LpBuilder::new();
        for i in &items {
            b.push(i);
        }
        let lp = b.finish();
        let sizes: usize = items.iter().map(|i| lp_entry_size(i)).sum();
        assert_eq!(lp.len(), sizes + 7);
        let back: Vec<Vec<u8>> = lp_elems(&lp, true)
            .unwrap()
            .into_iter()
            .map(Elem::into_bytes)
            .collect();
        assert_eq!(back, items);
        let mut bad = lp.clone();
        bad[4] = 3;
        assert!(lp_elems(&bad, true).is_none());
        assert!(lp_elems(&bad, false).is_some());
    }

    #[test]
    fn intsets() {
        let v = vec![-5, 1, 70000];
        let w = intset_width(&v);
        assert_eq!(w, 4);
        let b = intset_blob(&v, w);
        assert_eq!(intset_members(&b, true).unwrap(), (v, 4));
        let b = intset_blob(&[3, 2], 2);
        assert!(intset_members(&b, true).is_none());
        assert!(intset_members(&b, false).is_some());
    }
}

//! Geohash arithmetic behind the GEO commands.
//!
//! A geo set is a sorted set whose scores are 52-bit interleaved geohashes
//! (26 bits of latitude in the even positions, 26 of longitude in the odd
//! ones) over Redis's ranges: longitude -180..180, latitude
//! -85.05112878..85.05112878 (the Web Mercator limits). Every operation
//! here follows Redis's order of floating point operations so that
//! scores, decoded coordinates and distances are the same bits as Redis's.

pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// 26 * 2 = 52 bits, exactly representable in a double score.
pub const STEP_MAX: u8 = 26;

/// Earth's quadratic mean radius for WGS-84, Redis's value.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[inline]
fn deg_rad(a: f64) -> f64 {
    a * D_R
}
#[inline]
fn rad_deg(a: f64) -> f64 {
    a / D_R
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// The "no area" marker of an excluded neighbour.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// Left-aligned to 52 bits: the sorted set score of the area's corner.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - self.step as u32 * 2)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// Redis's coordinate ranges: (longitude, latitude).
pub const WGS84: (Range, Range) = (
    Range {
        min: LONG_MIN,
        max: LONG_MAX,
    },
    Range {
        min: LAT_MIN,
        max: LAT_MAX,
    },
);

#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub hash: HashBits,
    pub longitude: Range,
    pub latitude: Range,
}

/// Interleave the low 32 bits of x (even positions) and y (odd ones).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = xlo as u64;
    let mut y = ylo as u64;
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// Inverse of interleave64: even bits in the low word, odd in the high.
fn deinterleave64(v: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = v;
    let mut y = v >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// Geohash of a point over the given ranges with `step` bits per axis;
/// None outside the ranges (or Redis's absolute limits).
#[allow(clippy::manual_range_contains)] // NaN passes, as in Redis
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    let zero = |r: Range| r.min == 0.0 && r.max == 0.0;
    if step > 32 || step == 0 || zero(lat_r) || zero(lon_r) {
        return None;
    }
    if lon > LONG_MAX || lon < LONG_MIN || lat > LAT_MAX || lat < LAT_MIN {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let mut lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    let mut lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min);
    lat_off *= (1u64 << step) as f64;
    lon_off *= (1u64 << step) as f64;
    Some(HashBits {
        bits: interleave64(lat_off as u32, lon_off as u32),
        step,
    })
}

pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    encode(WGS84.0, WGS84.1, lon, lat, step)
}

/// The area a geohash covers.
pub fn decode(lon_r: Range, lat_r: Range, hash: HashBits) -> Option<Area> {
    let zero = |r: Range| r.min == 0.0 && r.max == 0.0;
    if hash.is_zero() || zero(lat_r) || zero(lon_r) {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    // The +1 wraps in 32 bits, as in Redis, for scores that are not geohashes.
    Some(Area {
        hash,
        latitude: Range {
            min: lat_r.min + (ilato as f64 / div) * lat_scale,
            max: lat_r.min + (ilato.wrapping_add(1) as f64 / div) * lat_scale,
        },
        longitude: Range {
            min: lon_r.min + (ilono as f64 / div) * lon_scale,
            max: lon_r.min + (ilono.wrapping_add(1) as f64 / div) * lon_scale,
        },
    })
}

/// The centre of an area, clamped to Redis's limits: [longitude, latitude].
pub fn area_center(a: &Area) -> [f64; 2] {
    let lon = ((a.longitude.min + a.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.latitude.min + a.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

const TWO63: f64 = 9223372036854775808.0;

/// C's (long long) cast of a double as x86-64 performs it (cvttsd2si):
/// NaN and out-of-range values give i64::MIN.
pub fn c_double_to_i64(v: f64) -> i64 {
    if (-TWO63..TWO63).contains(&v) {
        v as i64
    } else {
        i64::MIN
    }
}

/// C's (uint64_t) cast of a double as x86-64 code performs it, so that
/// scores that are not geohashes (negative, huge, infinite) decode to the
/// same coordinates as in Redis.
fn score_to_u64(d: f64) -> u64 {
    if d >= TWO63 {
        (c_double_to_i64(d - TWO63) as u64) ^ (1u64 << 63)
    } else {
        c_double_to_i64(d) as u64
    }
}

/// Coordinates [longitude, latitude] of a geo set score.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: score_to_u64(score),
        step: STEP_MAX,
    };
    // A step-26 hash is never the zero marker, so decoding cannot fail.
    area_center(&decode(WGS84.0, WGS84.1, hash).unwrap_or_default())
}

/// The score of a (validated) point.
pub fn encode_score(lon: f64, lat: f64) -> u64 {
    encode_wgs84(lon, lat, STEP_MAX)
        .map(|h| h.align52())
        .unwrap_or(0)
}

fn move_x(h: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaaaaaaaaaaaaaa;
    let y = h.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn move_y(h: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = h.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = h.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn moved(h: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

/// Bits per axis of the 9 boxes covering a search of `range_meters`
/// around latitude `lat`.
#[allow(clippy::manual_range_contains)]
pub fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    // Make sure the range is included in most of the base cases.
    step -= 2;
    // Wider boxes towards the poles.
    if lat > 66.0 || lat < -66.0 {
        step -= 1;
        if lat > 80.0 || lat < -80.0 {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// A search area: its centre, size in `conversion` units (meters per unit).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub kind: ShapeKind,
    /// [longitude, latitude] of the centre.
    pub xy: [f64; 2],
    pub conversion: f64,
}

impl Shape {
    /// [min_lon, min_lat, max_lon, max_lat] of the search area.
    pub fn bounding_box(&self) -> [f64; 4] {
        let [lon, lat] = self.xy;
        let (h, w) = match self.kind {
            ShapeKind::Circle { radius } => (radius, radius),
            ShapeKind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
        // The edges bend towards the poles: the wider side is the one
        // nearer the equator.
        let delta = if lat < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
    }

    /// The distance in meters from the centre to a point inside the
    /// shape, None when the point is outside.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        let [x1, y1] = self.xy;
        match self.kind {
            ShapeKind::Circle { radius } => {
                let d = distance(x1, y1, lon, lat);
                (d <= radius * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                // The latitude distance is cheaper: check it first.
                if lat_distance(lat, y1) > h / 2.0 {
                    return None;
                }
                if distance(lon, lat, x1, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, lon, lat))
            }
        }
    }

    /// The centre box and its 8 neighbours that cover the shape, in the
    /// order they are searched (centre, N, S, E, W, NE, NW, SE, SW);
    /// excluded neighbours are zero.
    pub fn covering_boxes(&self) -> [HashBits; 9] {
        let b = self.bounding_box();
        let (min_lon, min_lat, max_lon, max_lat) = (b[0], b[1], b[2], b[3]);
        let [lon, lat] = self.xy;
        let radius_meters = match self.kind {
            ShapeKind::Circle { radius } => radius,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let (lr, ar) = WGS84;
        let mut steps = estimate_steps_by_radius(radius_meters, lat);
        let boxes = |steps: u8| {
            let hash = encode(lr, ar, lon, lat, steps).unwrap_or_default();
            let area = decode(lr, ar, hash).unwrap_or_default();
            (hash, area)
        };
        let (mut hash, mut area) = boxes(steps);
        // Near a box edge the estimated step may be too fine for the
        // neighbours to reach the whole search area.
        let dec = |h: HashBits| decode(lr, ar, h).unwrap_or_default();
        let decrease = dec(moved(hash, 0, 1)).latitude.max < max_lat
            || dec(moved(hash, 0, -1)).latitude.min > min_lat
            || dec(moved(hash, 1, 0)).longitude.max < max_lon
            || dec(moved(hash, -1, 0)).longitude.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            (hash, area) = boxes(steps);
        }
        let (mut north, mut south, mut east, mut west) = (
            moved(hash, 0, 1),
            moved(hash, 0, -1),
            moved(hash, 1, 0),
            moved(hash, -1, 0),
        );
        let (mut ne, mut nw, mut se, mut sw) = (
            moved(hash, 1, 1),
            moved(hash, -1, 1),
            moved(hash, 1, -1),
            moved(hash, -1, -1),
        );
        // Drop the neighbours outside the search area.
        if steps >= 2 {
            let z = HashBits::default();
            if area.latitude.min < min_lat {
                (south, sw, se) = (z, z, z);
            }
            if area.latitude.max > max_lat {
                (north, ne, nw) = (z, z, z);
            }
            if area.longitude.min < min_lon {
                (west, sw, nw) = (z, z, z);
            }
            if area.longitude.max > max_lon {
                (east, se, ne) = (z, z, z);
            }
        }
        [hash, north, south, east, west, ne, nw, se, sw]
    }
}

/// Great-circle distance along a meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Haversine distance in meters.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The standard 11-character base32 geohash of a geo set score (Redis
/// re-encodes over latitude -90..90; the 11th character is always '0').
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score);
    let r = (
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
    );
    let bits = encode(r.0, r.1, lon, lat, 26).unwrap_or_default().bits;
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_roundtrip() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ffffff, 0x1234567),
            (u32::MAX, 7),
        ] {
            let v = deinterleave64(interleave64(a, b));
            assert_eq!((v as u32, (v >> 32) as u32), (a, b));
        }
    }

    #[test]
    fn palermo_score_and_hash() {
        // Values from Redis's documentation (GEOADD Sicily / GEOHASH).
        assert_eq!(encode_score(13.361389, 38.115556), 3479099956230698);
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
        let [lon, lat] = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
    }

    #[test]
    fn odd_scores_decode_like_c_casts() {
        assert_eq!(score_to_u64(-1.0), u64::MAX);
        assert_eq!(score_to_u64(f64::INFINITY), 0);
        assert_eq!(score_to_u64(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_to_u64(1e19), 10_000_000_000_000_000_000);
    }
}

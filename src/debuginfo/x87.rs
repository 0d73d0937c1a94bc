//! The x87 80-bit extended format of a C `long double` on x86-64 (stored
//! in 16 bytes, the last 6 padding), to and from `f64`: what pvtui shows
//! and writes. Precision beyond f64's 53 bits is not kept.

/// Bytes a `long double` occupies on x86-64.
pub const SIZE: usize = 16;

/// The value of the first 10 bytes of `bytes` (`None` when fewer).
pub fn decode(bytes: &[u8]) -> Option<f64> {
    let mant = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let se = u16::from_le_bytes(bytes.get(8..10)?.try_into().ok()?);
    let sign = if se & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from(se & 0x7fff);
    let magnitude = match exp {
        0 if mant == 0 => 0.0,
        0x7fff if mant << 1 == 0 => f64::INFINITY,
        0x7fff => return Some(f64::NAN),
        // Denormals have an exponent of 1 - 16383; `mant` holds the integer bit.
        _ => scaled(mant, exp.max(1) - 16383 - 63),
    };
    Some(sign * magnitude)
}

/// `mant * 2^exp` in two steps, so a small intermediate does not become 0.
fn scaled(mant: u64, exp: i32) -> f64 {
    let half = exp / 2;
    mant as f64 * 2f64.powi(half) * 2f64.powi(exp - half)
}

/// The 16 bytes of `v` as a `long double`.
pub fn encode(v: f64) -> Vec<u8> {
    let bits = v.to_bits();
    let sign: u16 = if bits >> 63 != 0 { 0x8000 } else { 0 };
    let exp = ((bits >> 52) & 0x7ff) as u16;
    let frac = bits & ((1 << 52) - 1);
    let (se, mant) = match exp {
        0 if frac == 0 => (sign, 0),
        0 => {
            // A subnormal f64 is a normal long double.
            let lz = frac.leading_zeros() as u16;
            (sign | (15372 - lz), frac << lz)
        }
        0x7ff if frac == 0 => (sign | 0x7fff, 1 << 63),
        0x7ff => (sign | 0x7fff, 0xc000_0000_0000_0000),
        _ => (sign | (exp + 16383 - 1023), (1 << 63) | (frac << 11)),
    };
    let mut out = Vec::with_capacity(SIZE);
    out.extend_from_slice(&mant.to_le_bytes());
    out.extend_from_slice(&se.to_le_bytes());
    out.resize(SIZE, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_long_doubles_decode() {
        // 3.25L as gcc stores it: 0xd000000000000000, exponent 0x4000.
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 0xd0, 0x00, 0x40];
        b.resize(SIZE, 0);
        assert_eq!(decode(&b), Some(3.25));
        assert_eq!(encode(3.25), b);
        assert_eq!(
            decode(&encode(-0.0)).map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(decode(&encode(f64::NEG_INFINITY)), Some(f64::NEG_INFINITY));
        assert!(decode(&encode(f64::NAN)).is_some_and(f64::is_nan));
        assert_eq!(decode(&b[..9]), None);
    }

    #[test]
    fn every_f64_survives_a_round_trip() {
        for v in [
            1.0,
            -2.5e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1.2345e-310,
            std::f64::consts::PI,
        ] {
            assert_eq!(decode(&encode(v)), Some(v), "{v:e}");
        }
    }
}

//! The one literal parser: integers, floats and hex bytes as a user types
//! them, for watches, writes, scans, the CLI and the TUI alike.
//!
//! ```
//! use pvtui::literal::{parse_hex_bytes, parse_integer, parse_u64, parse_wide};
//! assert_eq!(parse_u64("0x1_000"), Ok(4096));
//! assert!(parse_integer("-0b101").is_ok_and(|n| n.negative && n.magnitude == 5));
//! assert_eq!(parse_hex_bytes("de ad be ef"), Ok(vec![0xde, 0xad, 0xbe, 0xef]));
//! assert!(parse_wide("-0x10").is_ok_and(|n| n.negative && n.magnitude == 16));
//! assert!(parse_integer("010").is_err(), "octal in C: ambiguous");
//! ```

/// An integer as written: its sign, its magnitude (at most 2^64 - 1) and
/// the radix it was written in (a hex or binary literal may be a bit pattern).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Integer {
    pub negative: bool,
    pub magnitude: i128,
    pub radix: u32,
}

/// An integer as written, up to 128 bits: for the 128-bit types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wide {
    pub negative: bool,
    pub magnitude: u128,
    pub radix: u32,
}

/// Parses `[+|-]digits` in decimal, `0x` hex, `0o` octal or `0b` binary,
/// underscores allowed. Magnitudes beyond 2^64 - 1 are refused.
pub fn parse_integer(text: &str) -> Result<Integer, String> {
    let wide = parse_wide(text)?;
    if wide.magnitude > u128::from(u64::MAX) {
        return Err("out of range: more than 64 bits".to_string());
    }
    Ok(Integer {
        negative: wide.negative,
        magnitude: wide.magnitude as i128,
        radix: wide.radix,
    })
}

/// As [`parse_integer`], with magnitudes up to 2^128 - 1. A decimal with a
/// leading zero (`010`) is refused: C and gdb read it as octal, so either
/// reading would surprise someone.
pub fn parse_wide(text: &str) -> Result<Wide, String> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let prefixed = |lower: &str, upper: &str| {
        rest.strip_prefix(lower)
            .or_else(|| rest.strip_prefix(upper))
    };
    let (radix, digits) = if let Some(h) = prefixed("0x", "0X") {
        (16, h)
    } else if let Some(o) = prefixed("0o", "0O") {
        (8, o)
    } else if let Some(b) = prefixed("0b", "0B") {
        (2, b)
    } else {
        (10, rest)
    };
    let digits = digits.replace('_', "");
    // Checked here, not by from_str_radix, which would take a sign after the prefix.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err("not an integer (decimal, 0x hex, 0o octal or 0b binary)".to_string());
    }
    if radix == 10 && digits.len() > 1 && digits.starts_with('0') {
        let plain = digits.trim_start_matches('0');
        let plain = if plain.is_empty() { "0" } else { plain };
        return Err(format!(
            "a leading 0 is ambiguous (C and gdb read it as octal): \
             write 0o{plain} for octal or {plain} for decimal"
        ));
    }
    let magnitude = u128::from_str_radix(&digits, radix)
        .map_err(|_| "out of range: more than 128 bits".to_string())?;
    Ok(Wide {
        negative,
        magnitude,
        radix,
    })
}

/// A non-negative integer that fits 64 bits: an address, a length, a count.
pub fn parse_u64(text: &str) -> Result<u64, String> {
    match parse_integer(text.trim()) {
        Ok(n) if !n.negative || n.magnitude == 0 => Ok(n.magnitude as u64),
        Ok(_) => Err(format!("{text:?} is negative")),
        Err(why) if why.starts_with("a leading 0") => Err(format!("{text:?}: {why}")),
        Err(_) => Err(format!(
            "{text:?} is not a decimal or 0x-hex number (0b binary works too)"
        )),
    }
}

/// A float: decimal or exponent notation, `inf`, `-inf`, `nan`; underscores allowed.
pub fn parse_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ if lower.contains("inf") || lower.contains("nan") => None,
        _ => text.replace('_', "").parse().ok(),
    }
}

/// A float literal as the little-endian bytes of a float of `size` bytes
/// (4 or 8). A value the type cannot hold is refused, not written as
/// infinity or 0: beyond its range, or so small that it would round to 0.
pub fn parse_float_bytes(text: &str, size: usize) -> Result<Vec<u8>, String> {
    let v = parse_float(text).ok_or_else(|| "not a number".to_string())?;
    let name = if size == 4 { "f32" } else { "f64" };
    // An infinity written as a number (1e400) overflowed; `inf` is asked for.
    let literal_inf = text.to_ascii_lowercase().contains("inf");
    // A mantissa with a non-zero digit is not zero, whatever its exponent.
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let nonzero = mantissa.chars().any(|c| ('1'..='9').contains(&c));
    let (overflow, underflow) = if size == 4 {
        let f = v as f32;
        (
            f.is_infinite() && !literal_inf,
            f == 0.0 && (v != 0.0 || nonzero),
        )
    } else {
        (v.is_infinite() && !literal_inf, v == 0.0 && nonzero)
    };
    if overflow {
        return Err(format!("out of range for {name}"));
    }
    if underflow {
        return Err(format!("too small for {name}: it would be written as 0"));
    }
    Ok(if size == 4 {
        (v as f32).to_le_bytes().to_vec()
    } else {
        v.to_le_bytes().to_vec()
    })
}

/// Hex bytes: `de ad be ef`, `deadbeef`, `0xdeadbeef`, `de:ad,be ef`.
pub fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',' && *c != ':')
        .collect();
    if digits.len() % 2 != 0 {
        return Err("hex bytes need an even number of digits".to_string());
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{:?} is not a hex byte", String::from_utf8_lossy(pair)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_every_radix_with_signs_and_underscores() {
        let n = |t| parse_integer(t).map(|n| (n.negative, n.magnitude, n.radix));
        assert_eq!(n("1_234"), Ok((false, 1234, 10)));
        assert_eq!(n("-0x10"), Ok((true, 16, 16)));
        assert_eq!(n("+0b11"), Ok((false, 3, 2)));
        assert!(n("0x").is_err());
        assert!(n("12a").is_err());
        assert!(n("0x1_0000_0000_0000_0000").is_err(), "65 bits");
        assert_eq!(
            n("0xffff_ffff_ffff_ffff"),
            Ok((false, u64::MAX as i128, 16))
        );
        assert_eq!(n("0o17"), Ok((false, 15, 8)));
        assert_eq!(n("0"), Ok((false, 0, 10)));
        assert_eq!(n("-0"), Ok((true, 0, 10)));
    }

    #[test]
    fn a_sign_after_the_prefix_is_refused() {
        for text in ["0x-10", "0x+10", "-0x-10", "0b-1", "0o-7"] {
            assert!(parse_integer(text).is_err(), "{text}");
            assert!(parse_wide(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_leading_zero_is_refused_as_ambiguous_with_a_hint() {
        let e = parse_integer("010").expect_err("ambiguous");
        assert!(e.contains("0o10") && e.contains(" 10 "), "{e}");
        assert!(parse_integer("-007").is_err_and(|e| e.contains("0o7")));
        assert!(parse_integer("00").is_err_and(|e| e.contains("0o0")));
        assert_eq!(parse_integer("0x010").map(|n| n.magnitude), Ok(16));
    }

    #[test]
    fn wide_integers_reach_128_bits() {
        let max = "340282366920938463463374607431768211455";
        assert_eq!(parse_wide(max).map(|n| n.magnitude), Ok(u128::MAX));
        assert!(parse_wide("340282366920938463463374607431768211456").is_err());
        assert!(parse_integer(max).is_err(), "64 bits at most");
        let min = parse_wide("-170141183460469231731687303715884105728").expect("i128::MIN");
        assert!(min.negative && min.magnitude == 1u128 << 127);
    }

    #[test]
    fn addresses_and_lengths_are_not_negative() {
        assert_eq!(parse_u64(" 0x10 "), Ok(16));
        assert!(parse_u64("-1").is_err());
        assert!(parse_u64("4k").is_err_and(|e| e.contains("not a decimal or 0x-hex")));
    }

    #[test]
    fn floats_and_hex_bytes() {
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("info"), None);
        assert_eq!(parse_hex_bytes("0xdead"), Ok(vec![0xde, 0xad]));
        assert_eq!(parse_hex_bytes("de:ad, be"), Ok(vec![0xde, 0xad, 0xbe]));
        assert!(parse_hex_bytes("abc").is_err());
        assert!(parse_hex_bytes("zz").is_err());
    }

    #[test]
    fn floats_outside_their_type_are_refused_not_rounded_to_inf_or_0() {
        let f = parse_float_bytes;
        assert_eq!(f("1.5", 4), Ok(1.5f32.to_le_bytes().to_vec()));
        assert_eq!(f("-0.0", 8), Ok((-0.0f64).to_le_bytes().to_vec()));
        assert_eq!(f("-inf", 4), Ok(f32::NEG_INFINITY.to_le_bytes().to_vec()));
        assert!(f("1e39", 4).is_err_and(|e| e.contains("out of range for f32")));
        assert!(f("1e-300", 4).is_err_and(|e| e.contains("too small for f32")));
        assert!(f("1e400", 8).is_err_and(|e| e.contains("out of range for f64")));
        assert!(f("-1e400", 8).is_err_and(|e| e.contains("out of range for f64")));
        assert!(f("1e-400", 8).is_err_and(|e| e.contains("too small for f64")));
        assert!(f("0e-400", 8).is_ok());
        assert!(f("1e300", 8).is_ok());
        assert!(f("nan", 8).is_ok());
    }
}

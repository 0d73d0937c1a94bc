//! What the poller needs to know about a watch: where it reads, how many
//! bytes, and how to show and encode its value.
//!
//! A watch here is either a raw address with a type (`0x7ffd1234:u64`), which
//! this module parses itself so polling works with the engine alone.

use std::fmt;

/// A parse error with the 0-based column it points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column + 1, self.message)
    }
}

/// The type a watch reads at its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    Ptr,
    Char,
    /// `bytes[N]`: shown as hex.
    Bytes(usize),
    /// `str[N]`: N bytes shown as text up to the first NUL.
    Str(usize),
}

/// The longest `bytes[N]` / `str[N]` a watch may read.
pub const MAX_WATCH_LEN: usize = 4096;

impl ValueType {
    pub fn parse(text: &str) -> Result<ValueType, String> {
        let simple = match text {
            "u8" => Some(ValueType::U8),
            "u16" => Some(ValueType::U16),
            "u32" => Some(ValueType::U32),
            "u64" => Some(ValueType::U64),
            "i8" => Some(ValueType::I8),
            "i16" => Some(ValueType::I16),
            "i32" => Some(ValueType::I32),
            "i64" => Some(ValueType::I64),
            "f32" => Some(ValueType::F32),
            "f64" => Some(ValueType::F64),
            "bool" => Some(ValueType::Bool),
            "ptr" => Some(ValueType::Ptr),
            "char" => Some(ValueType::Char),
            _ => None,
        };
        if let Some(t) = simple {
            return Ok(t);
        }
        for (prefix, make) in [
            ("bytes[", ValueType::Bytes as fn(usize) -> ValueType),
            ("str[", ValueType::Str),
        ] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let n = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| (1..=MAX_WATCH_LEN).contains(n))
                    .ok_or_else(|| {
                        format!("expected {prefix}N] with N from 1 to {MAX_WATCH_LEN}")
                    })?;
                return Ok(make(n));
            }
        }
        Err(format!(
            "unknown type {text:?}: expected u8..u64, i8..i64, f32, f64, bool, ptr, char, bytes[N] or str[N]"
        ))
    }

    pub fn size(self) -> usize {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool | ValueType::Char => 1,
            ValueType::U16 | ValueType::I16 => 2,
            ValueType::U32 | ValueType::I32 | ValueType::F32 => 4,
            ValueType::U64 | ValueType::I64 | ValueType::F64 | ValueType::Ptr => 8,
            ValueType::Bytes(n) | ValueType::Str(n) => n,
        }
    }

    /// The value as text.
    pub fn show(self, b: &[u8]) -> String {
        let arr = |n: usize| -> [u8; 8] {
            let mut a = [0u8; 8];
            a[..n.min(b.len())].copy_from_slice(&b[..n.min(b.len())]);
            a
        };
        let u = |n| u64::from_le_bytes(arr(n));
        match self {
            ValueType::U8 | ValueType::U16 | ValueType::U32 | ValueType::U64 => {
                u(self.size()).to_string()
            }
            ValueType::I8 => (u(1) as u8 as i8).to_string(),
            ValueType::I16 => (u(2) as u16 as i16).to_string(),
            ValueType::I32 => (u(4) as u32 as i32).to_string(),
            ValueType::I64 => (u(8) as i64).to_string(),
            ValueType::F32 => format!("{}", f32::from_bits(u(4) as u32)),
            ValueType::F64 => format!("{}", f64::from_bits(u(8))),
            ValueType::Bool => match u(1) {
                0 => "false".into(),
                1 => "true".into(),
                n => format!("true ({n})"),
            },
            ValueType::Ptr => format!("{:#x}", u(8)),
            ValueType::Char => {
                let c = u(1) as u8;
                if c.is_ascii_graphic() || c == b' ' {
                    format!("'{}'", c as char)
                } else {
                    format!("'\\x{c:02x}'")
                }
            }
            ValueType::Bytes(_) => b
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
            ValueType::Str(_) => {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                format!("{:?}", String::from_utf8_lossy(&b[..end]))
            }
        }
    }

    /// The value as a number for history and charts, when it is one.
    pub fn number(self, b: &[u8]) -> Option<f64> {
        let mut a = [0u8; 8];
        let n = self.size().min(8).min(b.len());
        a[..n].copy_from_slice(&b[..n]);
        let u = u64::from_le_bytes(a);
        Some(match self {
            ValueType::U8 | ValueType::U16 | ValueType::U32 | ValueType::U64 => u as f64,
            ValueType::I8 => u as u8 as i8 as f64,
            ValueType::I16 => u as u16 as i16 as f64,
            ValueType::I32 => u as u32 as i32 as f64,
            ValueType::I64 => u as i64 as f64,
            ValueType::F32 => f64::from(f32::from_bits(u as u32)),
            ValueType::F64 => f64::from_bits(u),
            ValueType::Bool | ValueType::Char => u as f64,
            ValueType::Ptr | ValueType::Bytes(_) | ValueType::Str(_) => return None,
        })
        .filter(|x| x.is_finite())
    }

    /// Encodes a value typed by the user; out-of-range values are refused.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, String> {
        let text = text.trim();
        let int = |min: i128, max: i128, size: usize| -> Result<Vec<u8>, String> {
            let v = parse_int(text)?;
            if v < min || v > max {
                return Err(format!("{v} is out of range {min}..={max}"));
            }
            Ok((v as u64).to_le_bytes()[..size].to_vec())
        };
        match self {
            ValueType::U8 => int(0, u8::MAX.into(), 1),
            ValueType::U16 => int(0, u16::MAX.into(), 2),
            ValueType::U32 => int(0, u32::MAX.into(), 4),
            ValueType::U64 | ValueType::Ptr => int(0, u64::MAX.into(), 8),
            ValueType::I8 => int(i8::MIN.into(), i8::MAX.into(), 1),
            ValueType::I16 => int(i16::MIN.into(), i16::MAX.into(), 2),
            ValueType::I32 => int(i32::MIN.into(), i32::MAX.into(), 4),
            ValueType::I64 => int(i64::MIN.into(), i64::MAX.into(), 8),
            ValueType::F32 => text
                .parse::<f32>()
                .map(|f| f.to_le_bytes().to_vec())
                .map_err(|_| format!("{text:?} is not a number")),
            ValueType::F64 => text
                .parse::<f64>()
                .map(|f| f.to_le_bytes().to_vec())
                .map_err(|_| format!("{text:?} is not a number")),
            ValueType::Bool => match text {
                "true" | "1" => Ok(vec![1]),
                "false" | "0" => Ok(vec![0]),
                _ => Err("expected true or false".into()),
            },
            ValueType::Char => {
                let inner = text
                    .strip_prefix('\'')
                    .and_then(|t| t.strip_suffix('\''))
                    .unwrap_or(text);
                match inner.as_bytes() {
                    [c] => Ok(vec![*c]),
                    _ => int(0, 255, 1),
                }
            }
            ValueType::Bytes(n) => {
                let bytes = parse_hex_bytes(text)?;
                if bytes.len() > n {
                    return Err(format!("{} bytes do not fit in bytes[{n}]", bytes.len()));
                }
                Ok(bytes)
            }
            ValueType::Str(n) => {
                let s = text
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .ok_or("expected a quoted string, e.g. \"hello\"")?;
                let mut bytes = s.as_bytes().to_vec();
                if bytes.len() < n {
                    bytes.push(0);
                }
                if bytes.len() > n {
                    return Err(format!("{} bytes do not fit in str[{n}]", s.len()));
                }
                Ok(bytes)
            }
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Bytes(n) => write!(f, "bytes[{n}]"),
            ValueType::Str(n) => write!(f, "str[{n}]"),
            other => {
                let s = format!("{other:?}").to_lowercase();
                f.write_str(&s)
            }
        }
    }
}

/// Decimal, `0x` hex or negative decimal.
pub fn parse_int(text: &str) -> Result<i128, String> {
    let t = text.trim().replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t),
    };
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16),
        None => t.parse::<i128>(),
    }
    .map_err(|_| format!("{text:?} is not a number"))?;
    Ok(if neg { -v } else { v })
}

/// `de ad be ef` or `deadbeef`.
pub fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Err("expected hex bytes, e.g. de ad be ef".into());
    }
    if digits.len() % 2 != 0 {
        return Err("an odd number of hex digits".into());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| format!("{:?} is not a hex byte", &digits[i..i + 2]))
        })
        .collect()
}

/// A raw watch: a fixed address and a type, `0x7ffd1234:u64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawWatch {
    pub addr: u64,
    pub ty: ValueType,
}

impl RawWatch {
    pub fn parse(text: &str) -> Result<RawWatch, ParseError> {
        let (addr_text, ty_text, ty_col) = match text.rfind(':') {
            Some(i) => (&text[..i], &text[i + 1..], i + 1),
            None => (text, "u64", text.len()),
        };
        let lead = addr_text.len() - addr_text.trim_start().len();
        let addr = parse_int(addr_text)
            .ok()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| ParseError {
                column: lead,
                message: "expected an address such as 0x7ffd1234".into(),
            })?;
        let ty = ValueType::parse(ty_text.trim()).map_err(|message| ParseError {
            column: ty_col,
            message,
        })?;
        Ok(RawWatch { addr, ty })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_watches() {
        let w = RawWatch::parse("0x10:u32").expect("parse");
        assert_eq!(
            w,
            RawWatch {
                addr: 0x10,
                ty: ValueType::U32
            }
        );
        let w = RawWatch::parse("4096").expect("bare address");
        assert_eq!(w.ty, ValueType::U64);
        assert_eq!(
            RawWatch::parse("0x10:str[8]").expect("str").ty,
            ValueType::Str(8)
        );
    }

    #[test]
    fn raw_watch_errors_point_at_the_column() {
        assert_eq!(RawWatch::parse("0x10:u33").expect_err("type").column, 5);
        assert_eq!(RawWatch::parse("zz:u8").expect_err("addr").column, 0);
        assert!(RawWatch::parse("0x10:bytes[0]").is_err());
    }

    #[test]
    fn codecs_round_trip_and_refuse_out_of_range() {
        for (ty, text) in [
            (ValueType::U8, "255"),
            (ValueType::I16, "-2"),
            (ValueType::I64, "-9223372036854775808"),
            (ValueType::U64, "18446744073709551615"),
            (ValueType::F64, "1.5"),
            (ValueType::Bool, "true"),
        ] {
            let bytes = ty.encode(text).expect(text);
            assert_eq!(bytes.len(), ty.size());
            assert_eq!(ty.show(&bytes), text, "{ty}");
        }
        assert!(ValueType::U8.encode("256").is_err());
        assert!(ValueType::I8.encode("-129").is_err());
        assert!(ValueType::U32.encode("-1").is_err());
        assert_eq!(
            ValueType::U32.encode("0x10").expect("hex"),
            vec![16, 0, 0, 0]
        );
        assert_eq!(
            ValueType::Str(4).encode("\"ab\"").expect("str"),
            b"ab\0".to_vec()
        );
        assert!(ValueType::Str(2).encode("\"abc\"").is_err());
        assert_eq!(
            ValueType::Bytes(4).encode("de ad").expect("b"),
            vec![0xde, 0xad]
        );
    }

    #[test]
    fn numbers_for_history() {
        assert_eq!(ValueType::I8.number(&[0xff]), Some(-1.0));
        assert_eq!(ValueType::Ptr.number(&[0; 8]), None);
        assert_eq!(ValueType::F32.number(&f32::NAN.to_le_bytes()), None);
    }
}

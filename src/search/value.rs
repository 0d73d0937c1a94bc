//! Typed values for value scans: the types, parsing and formatting, and the
//! conditions a first scan or a narrowing step keeps a place by.
//!
//! A value is carried as its raw little-endian bits zero-extended to 64 bits,
//! so candidates store compactly and compare without allocation.

use std::fmt;

use crate::error::{Error, Result};
use crate::expr::Scalar;
use crate::literal::{parse_float, parse_integer};

/// The scalar types a scan looks for: the numeric watch scalars
/// ([`Scalar`]), so a scan and a watch name a type the same way, and
/// [`ValueType::INT`], which looks for an unsigned integer of every width
/// at once (each place then has one of [`ValueType::widths`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ValueType(Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    One(Scalar),
    /// u8, u16, u32 and u64 at once; a value is carried as a u64.
    AnyInt,
}

impl serde::Serialize for ValueType {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl ValueType {
    pub const U8: ValueType = ValueType(Kind::One(Scalar::U8));
    pub const U16: ValueType = ValueType(Kind::One(Scalar::U16));
    pub const U32: ValueType = ValueType(Kind::One(Scalar::U32));
    pub const U64: ValueType = ValueType(Kind::One(Scalar::U64));
    pub const I8: ValueType = ValueType(Kind::One(Scalar::I8));
    pub const I16: ValueType = ValueType(Kind::One(Scalar::I16));
    pub const I32: ValueType = ValueType(Kind::One(Scalar::I32));
    pub const I64: ValueType = ValueType(Kind::One(Scalar::I64));
    pub const F32: ValueType = ValueType(Kind::One(Scalar::F32));
    pub const F64: ValueType = ValueType(Kind::One(Scalar::F64));
    /// `int` (or `any`): u8, u16, u32 and u64 at once, as scanmem's default.
    pub const INT: ValueType = ValueType(Kind::AnyInt);

    /// In the order of their codes in scan files (which must not change).
    pub const ALL: [ValueType; 11] = [
        ValueType::U8,
        ValueType::U16,
        ValueType::U32,
        ValueType::U64,
        ValueType::I8,
        ValueType::I16,
        ValueType::I32,
        ValueType::I64,
        ValueType::F32,
        ValueType::F64,
        ValueType::INT,
    ];

    /// The concrete types a place of this scan can have: u8, u16, u32 and
    /// u64 for [`ValueType::INT`], else the type itself.
    pub fn widths(self) -> &'static [ValueType] {
        const INTS: [ValueType; 4] = [
            ValueType::U8,
            ValueType::U16,
            ValueType::U32,
            ValueType::U64,
        ];
        match self.0 {
            Kind::AnyInt => &INTS,
            Kind::One(_) => {
                static ALL: [ValueType; 11] = ValueType::ALL;
                let at = ALL.iter().position(|t| *t == self).unwrap_or(0);
                &ALL[at..=at]
            }
        }
    }

    /// The type of a place `width` bytes wide in a scan of this type.
    pub fn with_width(self, width: usize) -> Option<ValueType> {
        self.widths().iter().copied().find(|t| t.size() == width)
    }

    /// Whether this is [`ValueType::INT`].
    pub fn is_any_int(self) -> bool {
        self.0 == Kind::AnyInt
    }

    /// The scan type of a watch scalar; `None` for those a scan does not
    /// take (bool, ptr, char).
    pub fn of(scalar: Scalar) -> Option<ValueType> {
        ValueType::ALL
            .into_iter()
            .find(|t| t.0 == Kind::One(scalar))
    }

    /// The watch scalar; for [`ValueType::INT`] its widest, u64.
    pub fn scalar(self) -> Scalar {
        match self.0 {
            Kind::One(s) => s,
            Kind::AnyInt => Scalar::U64,
        }
    }

    /// Size in bytes; for [`ValueType::INT`] its widest, 8.
    pub fn size(self) -> usize {
        self.scalar().size()
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::One(s) => s.name(),
            Kind::AnyInt => "int",
        }
    }

    pub fn parse(name: &str) -> Result<ValueType> {
        if name == "int" || name == "any" {
            return Ok(ValueType::INT);
        }
        Scalar::from_name(name)
            .and_then(ValueType::of)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown value type {name:?}: expected one of u8 u16 u32 u64 i8 i16 i32 i64 f32 f64, or int (any: u8 to u64 at once)"
                ))
            })
    }

    pub(crate) fn code(self) -> u8 {
        ValueType::ALL.iter().position(|t| *t == self).unwrap_or(0) as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<ValueType> {
        ValueType::ALL.get(code as usize).copied()
    }

    pub fn is_float(self) -> bool {
        matches!(self.0, Kind::One(Scalar::F32 | Scalar::F64))
    }

    fn is_signed(self) -> bool {
        matches!(
            self.0,
            Kind::One(Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64)
        )
    }

    fn mask(self) -> u64 {
        match self.size() {
            8 => u64::MAX,
            n => (1u64 << (n * 8)) - 1,
        }
    }

    /// The bits of the value stored in `bytes` (at least [`size`](Self::size) long).
    pub fn load(self, bytes: &[u8]) -> u64 {
        let mut raw = [0u8; 8];
        let n = self.size();
        raw[..n].copy_from_slice(&bytes[..n]);
        u64::from_le_bytes(raw)
    }

    /// The bytes that store `bits` in memory.
    pub fn store(self, bits: u64) -> Vec<u8> {
        bits.to_le_bytes()[..self.size()].to_vec()
    }

    /// Parses a value written as a user would: `1234`, `-5`, `0x4d2`, `1.5`.
    pub fn parse_value(self, text: &str) -> Result<u64> {
        let bad = |why: &str| Error::Usage(format!("{text:?} is not a {}: {why}", self.name()));
        let t = text.trim();
        if self.is_float() {
            if parse_float(t).is_none() {
                return Err(bad("expected a number such as 1.5"));
            }
            // One range check for every float the user writes: a value the
            // type cannot hold is refused, never stored as infinity or 0.
            let bytes = crate::literal::parse_float_bytes(t, self.size()).map_err(|e| bad(&e))?;
            let mut le = [0u8; 8];
            le[..bytes.len()].copy_from_slice(&bytes);
            return Ok(u64::from_le_bytes(le));
        }
        let n = parse_integer(t).map_err(|_| bad("expected a decimal or 0x-hex integer"))?;
        let value = if n.negative {
            -n.magnitude
        } else {
            n.magnitude
        };
        let bits = self.size() as u32 * 8;
        let (lo, hi) = if self.is_any_int() {
            // Negative values as two's complement, at whichever width they fit.
            (i128::from(i64::MIN), i128::from(u64::MAX))
        } else if self.is_signed() {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        };
        if value < lo || value > hi {
            return Err(bad(&format!("out of range {lo}..={hi}")));
        }
        Ok((value as u64) & self.mask())
    }

    /// The number the bits hold.
    pub fn number(self, bits: u64) -> Number {
        let b = bits & self.mask();
        match self.scalar() {
            Scalar::I8 => Number::Int(i128::from(b as u8 as i8)),
            Scalar::I16 => Number::Int(i128::from(b as u16 as i16)),
            Scalar::I32 => Number::Int(i128::from(b as u32 as i32)),
            Scalar::I64 => Number::Int(i128::from(b as i64)),
            Scalar::F32 => Number::Float(f64::from(f32::from_bits(b as u32))),
            Scalar::F64 => Number::Float(f64::from_bits(b)),
            // The unsigned scalars and int (a scan takes no others).
            _ => Number::Int(i128::from(b)),
        }
    }

    /// `1234`, `-5`, `1.5`.
    pub fn format(self, bits: u64) -> String {
        match self.number(bits) {
            Number::Int(v) => v.to_string(),
            Number::Float(v) => v.to_string(),
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded value: integers widened losslessly, floats as `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i128),
    Float(f64),
}

/// What a scan keeps a place by. The first scan knows no previous value, so
/// only [`Eq`](Condition::Eq) and [`Range`](Condition::Range) start one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Condition {
    /// Equal to a value (floats: within the tolerance).
    Eq(u64),
    /// Between two values, both included.
    Range(u64, u64),
    Changed,
    Unchanged,
    Increased,
    Decreased,
    /// Grew by exactly this amount (bits of a value of the scan's type).
    IncreasedBy(u64),
    /// Shrank by exactly this amount.
    DecreasedBy(u64),
}

impl Condition {
    /// Parses the words after the type: `eq 5`, `5`, `range 1 9`, `changed`,
    /// `increased-by 3`.
    pub fn parse(ty: ValueType, words: &[String]) -> Result<Condition> {
        let word = |i: usize| {
            words.get(i).map(String::as_str).ok_or_else(|| {
                Error::Usage(format!("{:?} needs a value after it", words.join(" ")))
            })
        };
        let first = word(0)?;
        // An `int` scan compares its places unsigned: only `eq` takes a
        // negative value (as each width's two's complement).
        let unsigned = if ty.is_any_int() { ValueType::U64 } else { ty };
        let cond = match first {
            "eq" | "=" => Condition::Eq(ty.parse_value(word(1)?)?),
            "range" | "between" => Condition::Range(
                unsigned.parse_value(word(1)?)?,
                unsigned.parse_value(word(2)?)?,
            ),
            "changed" => Condition::Changed,
            "unchanged" => Condition::Unchanged,
            "increased" | "inc" => Condition::Increased,
            "decreased" | "dec" => Condition::Decreased,
            "increased-by" | "increased_by" | "inc-by" => {
                Condition::IncreasedBy(unsigned.parse_value(word(1)?)?)
            }
            "decreased-by" | "decreased_by" | "dec-by" => {
                Condition::DecreasedBy(unsigned.parse_value(word(1)?)?)
            }
            value => Condition::Eq(ty.parse_value(value)?),
        };
        let above = |lo: u64, hi: u64| match (unsigned.number(lo), unsigned.number(hi)) {
            (Number::Int(a), Number::Int(b)) => a > b,
            (Number::Float(a), Number::Float(b)) => a > b,
            _ => false,
        };
        if let Condition::Range(lo, hi) = cond
            && above(lo, hi)
        {
            return Err(Error::Usage(format!(
                "range {} {}: the low end is above the high end, so nothing can match",
                word(1)?,
                word(2)?
            )));
        }
        let used = match cond {
            Condition::Range(..) => 3,
            Condition::Eq(_) if first != "eq" && first != "=" => 1,
            Condition::Eq(_) | Condition::IncreasedBy(_) | Condition::DecreasedBy(_) => 2,
            _ => 1,
        };
        if words.len() > used {
            return Err(Error::Usage(format!(
                "unexpected {:?} after the condition",
                words[used..].join(" ")
            )));
        }
        Ok(cond)
    }

    /// What a place of type `width` (one of `scan`'s [`widths`](ValueType::widths))
    /// is kept by; `None` when no place that wide can satisfy it: a value
    /// or step that does not fit. Only [`ValueType::INT`] scans differ: a
    /// negative value fits where its two's complement does.
    pub(crate) fn for_width(self, scan: ValueType, width: ValueType) -> Option<Condition> {
        if !scan.is_any_int() {
            return Some(self);
        }
        let mask = width.mask();
        let bits = width.size() as u32 * 8;
        let fits = |x: u64| x & !mask == 0 || (x as i64) >> (bits - 1) == -1;
        match self {
            Condition::Eq(x) => fits(x).then_some(Condition::Eq(x & mask)),
            Condition::Range(lo, hi) => (lo <= mask).then_some(Condition::Range(lo, hi.min(mask))),
            Condition::IncreasedBy(d) | Condition::DecreasedBy(d) => (d <= mask).then_some(self),
            c => Some(c),
        }
    }

    /// Whether the condition compares with a previous value.
    pub fn needs_previous(&self) -> bool {
        !matches!(self, Condition::Eq(_) | Condition::Range(..))
    }

    /// Whether a place now holding `new` (and before `old`) is kept.
    pub fn keeps(&self, ty: ValueType, tolerance: f64, new: u64, old: u64) -> bool {
        let n = ty.number(new);
        let o = ty.number(old);
        let near = |a: Number, b: Number, tol: f64| match (a, b) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => (a - b).abs() <= tol,
            _ => false,
        };
        let diff = |a: Number, b: Number| match (a, b) {
            (Number::Int(a), Number::Int(b)) => Number::Int(a - b),
            (Number::Float(a), Number::Float(b)) => Number::Float(a - b),
            _ => Number::Float(f64::NAN),
        };
        let greater = |a: Number, b: Number| match (a, b) {
            (Number::Int(a), Number::Int(b)) => a > b,
            (Number::Float(a), Number::Float(b)) => a - b > tolerance,
            _ => false,
        };
        match *self {
            Condition::Eq(x) => near(n, ty.number(x), tolerance),
            Condition::Range(lo, hi) => {
                let (lo, hi) = (ty.number(lo), ty.number(hi));
                match (n, lo, hi) {
                    (Number::Int(v), Number::Int(l), Number::Int(h)) => l <= v && v <= h,
                    (Number::Float(v), Number::Float(l), Number::Float(h)) => {
                        l - tolerance <= v && v <= h + tolerance
                    }
                    _ => false,
                }
            }
            Condition::Changed => !near(n, o, tolerance),
            Condition::Unchanged => near(n, o, tolerance),
            Condition::Increased => greater(n, o),
            Condition::Decreased => greater(o, n),
            Condition::IncreasedBy(d) => near(diff(n, o), ty.number(d), tolerance),
            Condition::DecreasedBy(d) => near(diff(o, n), ty.number(d), tolerance),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_values_in_range_only() {
        assert_eq!(ValueType::U8.parse_value("255").expect("ok"), 255);
        assert!(ValueType::U8.parse_value("256").is_err());
        assert_eq!(ValueType::I8.parse_value("-1").expect("ok"), 0xff);
        assert!(ValueType::I8.parse_value("-129").is_err());
        assert_eq!(ValueType::U32.parse_value("0x4d2").expect("ok"), 1234);
        assert_eq!(
            ValueType::I64.parse_value("-2").expect("ok"),
            (-2i64) as u64
        );
        assert_eq!(
            ValueType::F32.parse_value("1.5").expect("ok"),
            u64::from(1.5f32.to_bits())
        );
        let err = ValueType::U16.parse_value("lots").expect_err("bad");
        assert!(err.to_string().contains("u16"), "{err}");
    }

    #[test]
    fn formats_signed_and_float() {
        assert_eq!(ValueType::I16.format(0xfffe), "-2");
        assert_eq!(ValueType::U16.format(0xfffe), "65534");
        assert_eq!(ValueType::F64.format(2.25f64.to_bits()), "2.25");
        let bytes = ValueType::U32.store(0x01020304);
        assert_eq!(bytes, vec![4, 3, 2, 1]);
        assert_eq!(ValueType::U32.load(&bytes), 0x01020304);
    }

    #[test]
    fn conditions() {
        let t = ValueType::I32;
        let v = |x: i32| x as u32 as u64;
        let c = |s: &str| Condition::parse(t, &words(s)).expect(s);
        assert!(c("5").keeps(t, 0.0, v(5), v(0)));
        assert!(c("eq -5").keeps(t, 0.0, v(-5), v(0)));
        assert!(c("range -3 3").keeps(t, 0.0, v(-3), 0));
        assert!(!c("range -3 3").keeps(t, 0.0, v(4), 0));
        assert!(c("increased").keeps(t, 0.0, v(1), v(-1)));
        assert!(!c("decreased").keeps(t, 0.0, v(1), v(-1)));
        assert!(c("changed").keeps(t, 0.0, v(1), v(2)));
        assert!(c("unchanged").keeps(t, 0.0, v(2), v(2)));
        assert!(c("increased-by 10").keeps(t, 0.0, v(5), v(-5)));
        assert!(!c("increased-by 10").keeps(t, 0.0, v(6), v(-5)));
        assert!(c("decreased-by 1").keeps(t, 0.0, v(4), v(5)));
        assert!(Condition::parse(t, &words("range 1")).is_err());
        assert!(Condition::parse(t, &words("changed 4")).is_err());
        assert!(Condition::parse(t, &words("sideways")).is_err());
    }

    #[test]
    fn int_names_every_unsigned_width_and_fits_values_to_each() {
        let int = ValueType::parse("any").expect("any");
        assert_eq!(int, ValueType::parse("int").expect("int"));
        assert_eq!(int.name(), "int");
        let sizes: Vec<usize> = int.widths().iter().map(|t| t.size()).collect();
        assert_eq!(sizes, [1, 2, 4, 8]);
        assert_eq!(int.with_width(2), Some(ValueType::U16));
        assert_eq!(int.with_width(3), None);
        assert_eq!(ValueType::I32.widths(), [ValueType::I32]);
        assert_eq!(ValueType::from_code(int.code()), Some(int));
        let at = |c: Condition, w: ValueType| c.for_width(int, w);
        let eq = Condition::Eq(int.parse_value("300").expect("300"));
        assert_eq!(at(eq, ValueType::U8), None);
        assert_eq!(at(eq, ValueType::U16), Some(Condition::Eq(300)));
        // -2 is 0xfe at u8, 0xfffe at u16, ...
        let minus = Condition::Eq(int.parse_value("-2").expect("-2"));
        assert_eq!(at(minus, ValueType::U8), Some(Condition::Eq(0xfe)));
        assert_eq!(at(minus, ValueType::U32), Some(Condition::Eq(0xffff_fffe)));
        assert_eq!(
            at(Condition::Range(200, 70000), ValueType::U8),
            Some(Condition::Range(200, 255))
        );
        assert_eq!(at(Condition::Range(256, 300), ValueType::U8), None);
        assert_eq!(at(Condition::IncreasedBy(256), ValueType::U8), None);
        assert_eq!(
            at(Condition::IncreasedBy(256), ValueType::U16),
            Some(Condition::IncreasedBy(256))
        );
        // Other scans keep their condition as it is.
        assert_eq!(
            Condition::Eq(300).for_width(ValueType::U8, ValueType::U8),
            Some(Condition::Eq(300))
        );
        assert!(int.parse_value("18446744073709551616").is_err());
        assert_eq!(
            Condition::parse(int, &words("-2")).expect("eq"),
            Condition::Eq(u64::MAX - 1)
        );
        assert!(Condition::parse(int, &words("range -5 5")).is_err());
        assert!(Condition::parse(int, &words("increased-by -1")).is_err());
    }

    #[test]
    fn float_tolerance() {
        let t = ValueType::F32;
        let f = |x: f32| u64::from(x.to_bits());
        let eq = Condition::Eq(f(100.0));
        assert!(eq.keeps(t, 0.01, f(100.005), 0));
        assert!(!eq.keeps(t, 0.0, f(100.005), 0));
        assert!(!eq.keeps(t, 0.01, f(f32::NAN), 0));
        assert!(!Condition::Increased.keeps(t, 0.5, f(1.2), f(1.0)));
        assert!(Condition::Increased.keeps(t, 0.5, f(1.6), f(1.0)));
    }
}

//! Value types and their codecs: how the bytes at an address are shown and
//! how a value typed by a user becomes bytes to write.

use std::fmt;

use crate::debuginfo;
pub use crate::expr::debug_type::DebugType;
use crate::literal::{Integer, parse_float_bytes, parse_hex_bytes, parse_integer};

/// How many bytes a `cstr` reads when looking for its terminating NUL.
pub const CSTR_WINDOW: usize = 256;

/// The largest element count an array, `str[N]` or `bytes[N]` may have, so a
/// typo cannot make one watch read megabytes every tick.
pub const MAX_LEN: usize = 1 << 20;

/// The fixed-size kinds a value can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
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
    /// A pointer: an unsigned 8-byte address shown in hex.
    Ptr,
    /// One byte shown as a character.
    Char,
}

impl Scalar {
    pub const ALL: [Scalar; 13] = [
        Scalar::U8,
        Scalar::U16,
        Scalar::U32,
        Scalar::U64,
        Scalar::I8,
        Scalar::I16,
        Scalar::I32,
        Scalar::I64,
        Scalar::F32,
        Scalar::F64,
        Scalar::Bool,
        Scalar::Ptr,
        Scalar::Char,
    ];

    pub fn size(self) -> usize {
        match self {
            Scalar::U8 | Scalar::I8 | Scalar::Bool | Scalar::Char => 1,
            Scalar::U16 | Scalar::I16 => 2,
            Scalar::U32 | Scalar::I32 | Scalar::F32 => 4,
            Scalar::U64 | Scalar::I64 | Scalar::F64 | Scalar::Ptr => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scalar::U8 => "u8",
            Scalar::U16 => "u16",
            Scalar::U32 => "u32",
            Scalar::U64 => "u64",
            Scalar::I8 => "i8",
            Scalar::I16 => "i16",
            Scalar::I32 => "i32",
            Scalar::I64 => "i64",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
            Scalar::Bool => "bool",
            Scalar::Ptr => "ptr",
            Scalar::Char => "char",
        }
    }

    pub fn from_name(name: &str) -> Option<Scalar> {
        Scalar::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The unsigned scalar of `size` bytes, if there is one.
    pub fn unsigned_of_size(size: u64) -> Option<Scalar> {
        match size {
            1 => Some(Scalar::U8),
            2 => Some(Scalar::U16),
            4 => Some(Scalar::U32),
            8 => Some(Scalar::U64),
            _ => None,
        }
    }

    /// Whether a big-endian variant means anything (more than one byte, a number).
    pub fn has_byte_order(self) -> bool {
        self.size() > 1
    }

    fn is_signed(self) -> bool {
        matches!(self, Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64)
    }
}

/// The type a watch reads at its address.
///
/// ```
/// use pvtui::expr::{Type, Value};
/// let ty: Type = "i16be".parse()?;
/// assert_eq!(ty.size(), 2);
/// assert_eq!(ty.decode(&[0xff, 0xfe]), Value::Signed(-2));
/// assert_eq!(ty.encode("-2")?, vec![0xff, 0xfe]);
/// assert!(ty.encode("40000").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Scalar {
        kind: Scalar,
        big_endian: bool,
    },
    /// `elem[len]`: `len` values laid out back to back.
    Array {
        elem: Box<Type>,
        len: usize,
    },
    /// A NUL-terminated string, read up to [`CSTR_WINDOW`] bytes.
    CStr,
    /// `str[N]`: a fixed buffer of `N` bytes shown as text up to its first NUL.
    Str(usize),
    /// `bytes[N]`: `N` raw bytes shown in hex.
    Bytes(usize),
    /// A type the target's debug info gives (a variable's, a field's).
    Debug(DebugType),
}

impl Type {
    pub fn scalar(kind: Scalar) -> Type {
        Type::Scalar {
            kind,
            big_endian: false,
        }
    }

    /// The default type of a bare address.
    pub fn u64() -> Type {
        Type::scalar(Scalar::U64)
    }

    /// The type a symbol's size implies: an unsigned integer of 1, 2, 4 or 8
    /// bytes, otherwise `bytes[size]` (capped), or `u64` when the size is unknown.
    pub fn for_symbol_size(size: u64) -> Type {
        match Scalar::unsigned_of_size(size) {
            Some(kind) => Type::scalar(kind),
            None if size == 0 => Type::u64(),
            None => Type::Bytes(usize::try_from(size).unwrap_or(MAX_LEN).min(MAX_LEN)),
        }
    }

    /// How many bytes a read of this type takes.
    pub fn size(&self) -> usize {
        match self {
            Type::Scalar { kind, .. } => kind.size(),
            Type::Array { elem, len } => elem.size().saturating_mul(*len),
            Type::CStr => CSTR_WINDOW,
            Type::Str(n) | Type::Bytes(n) => *n,
            Type::Debug(d) => d.size(),
        }
    }

    /// Whether the type's size can vary: a `cstr` may be shorter than its window,
    /// so a read cut short by an unmapped page can still give a value.
    pub fn reads_prefix(&self) -> bool {
        matches!(self, Type::CStr)
    }

    /// The part of `bytes` that makes the value: a `cstr` ends at its NUL,
    /// so what follows it in the window cannot make the value "changed".
    pub fn significant<'b>(&self, bytes: &'b [u8]) -> &'b [u8] {
        match self {
            Type::CStr => match bytes.iter().position(|&b| b == 0) {
                Some(nul) => &bytes[..=nul],
                None => bytes,
            },
            _ => bytes,
        }
    }

    /// Shows `bytes` (as many as [`Type::size`]; fewer only for `cstr`) as a value.
    /// Never fails: short input decodes what it has, missing bytes read as zero.
    pub fn decode(&self, bytes: &[u8]) -> Value {
        match self {
            Type::Scalar { kind, big_endian } => decode_scalar(*kind, *big_endian, bytes),
            Type::Array { elem, len } => {
                let step = elem.size().max(1);
                Value::Array(
                    (0..*len)
                        .map(|i| {
                            let from = (i * step).min(bytes.len());
                            let to = (from + step).min(bytes.len());
                            elem.decode(&bytes[from..to])
                        })
                        .collect(),
                )
            }
            Type::CStr | Type::Str(_) => {
                let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
                let limit = self.size().min(end);
                Value::Str(String::from_utf8_lossy(&bytes[..limit]).into_owned())
            }
            Type::Bytes(n) => Value::Bytes(bytes[..(*n).min(bytes.len())].to_vec()),
            Type::Debug(d) => d.decode(bytes),
        }
    }

    /// Turns what a user typed into the bytes to write, refusing anything
    /// that does not fit the type, before anything is written.
    ///
    /// Integers take decimal, `0x` hex or `0b` binary; signed ones also take a
    /// minus sign, and hex/binary as a bit pattern of their width (`0xff` is
    /// -1 as `i8`). Floats take decimal, exponent, `inf` and `nan`; `bool`
    /// takes `true`/`false`/`1`/`0`; `char` a quoted or bare character or its
    /// code. `cstr` and `str[N]` take a string, quoted with `"` to keep
    /// spaces or use escapes (`\n`, `\0`, `\x41`); `str[N]` is padded with NULs
    /// and `cstr` gets its NUL. `bytes[N]` takes exactly N hex bytes
    /// (`de ad be ef`, `deadbeef`). Arrays take their elements separated by
    /// commas, optionally in brackets: `[1, 2, 3]`.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, ValueError> {
        self.encode_over(text, &[])
    }

    /// How many bytes at the address a write must read first: a bitfield
    /// keeps the bits around it.
    pub fn needs_current(&self) -> Option<usize> {
        match self {
            Type::Debug(d) if d.bits.is_some() => Some(d.size()),
            _ => None,
        }
    }

    /// The same bytes as a type written without debug info (`int` → `i32`),
    /// for expressions that must parse anywhere: a pointer chain's end.
    pub fn plain(&self) -> Type {
        match self {
            Type::Debug(d) => d.plain(),
            other => other.clone(),
        }
    }

    /// The bits a value of this type owns in its bytes, where it shares
    /// them (a bitfield): a write or freeze keeps the others as they are.
    pub fn bit_mask(&self) -> Option<Vec<u8>> {
        match self {
            Type::Debug(d) => d.bit_mask(),
            _ => None,
        }
    }

    /// As [`Type::encode`], over `current`, the bytes now at the address
    /// (as many as [`Type::needs_current`] says; none for other types).
    pub fn encode_over(&self, text: &str, current: &[u8]) -> Result<Vec<u8>, ValueError> {
        let text = text.trim();
        match self {
            Type::Debug(d) => d
                .encode(text, current)
                .map_err(|why| ValueError::new(text, self, why)),
            Type::Scalar { kind, big_endian } => encode_scalar(*kind, *big_endian, text),
            Type::Array { elem, len } => {
                let inner = text
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .unwrap_or(text);
                let items = split_items(inner);
                if items.len() != *len {
                    return Err(ValueError::new(
                        text,
                        self,
                        format!("{len} elements expected, {} given", items.len()),
                    ));
                }
                let mut out = Vec::with_capacity(self.size());
                for item in items {
                    out.extend(elem.encode(item)?);
                }
                Ok(out)
            }
            Type::CStr => {
                let mut bytes = unquote(text).map_err(|why| ValueError::new(text, self, why))?;
                if bytes.contains(&0) {
                    return Err(ValueError::new(
                        text,
                        self,
                        "a C string cannot hold a NUL byte",
                    ));
                }
                bytes.push(0);
                Ok(bytes)
            }
            Type::Str(n) => {
                let mut bytes = unquote(text).map_err(|why| ValueError::new(text, self, why))?;
                if bytes.len() > *n {
                    return Err(ValueError::new(
                        text,
                        self,
                        format!("{} bytes do not fit in {n}", bytes.len()),
                    ));
                }
                bytes.resize(*n, 0);
                Ok(bytes)
            }
            Type::Bytes(n) => {
                let bytes =
                    parse_hex_bytes(text).map_err(|why| ValueError::new(text, self, why))?;
                if bytes.len() != *n {
                    return Err(ValueError::new(
                        text,
                        self,
                        format!("{n} bytes expected, {} given", bytes.len()),
                    ));
                }
                Ok(bytes)
            }
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar { kind, big_endian } => {
                write!(f, "{}{}", kind.name(), if *big_endian { "be" } else { "" })
            }
            Type::Array { elem, len } => write!(f, "{elem}[{len}]"),
            Type::CStr => f.write_str("cstr"),
            Type::Str(n) => write!(f, "str[{n}]"),
            Type::Bytes(n) => write!(f, "bytes[{n}]"),
            Type::Debug(d) => write!(f, "{d}"),
        }
    }
}

impl std::str::FromStr for Type {
    type Err = crate::expr::ParseError;

    fn from_str(s: &str) -> Result<Type, Self::Err> {
        crate::expr::parse::parse_type(s)
    }
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Char(u8),
    Pointer(u64),
    Str(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// A value of a debug-info type: a number, enum, struct, array...
    Typed(debuginfo::Value),
}

impl Value {
    /// The value as a number, for plotting; `None` for strings, bytes and arrays.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Unsigned(v) | Value::Pointer(v) => Some(*v as f64),
            Value::Signed(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Char(c) => Some(f64::from(*c)),
            Value::Str(_) | Value::Bytes(_) | Value::Array(_) => None,
            Value::Typed(v) => crate::expr::debug_type::number(v),
        }
    }

    /// The value as JSON: a number, bool, string (text, a character, hex
    /// bytes, a `0x` pointer) or an array.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Unsigned(v) => J::from(*v),
            Value::Signed(v) => J::from(*v),
            // Non-finite floats have no JSON number; they become their text.
            Value::Float(v) if v.is_finite() => J::from(*v),
            Value::Bool(b) => J::Bool(*b),
            Value::Array(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Char(c) => J::String(char::from(*c).to_string()),
            Value::Str(s) => J::String(s.clone()),
            Value::Typed(v) => v.to_json(),
            other => J::String(other.to_string()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unsigned(v) => write!(f, "{v}"),
            Value::Signed(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Char(c) => write!(f, "'{}'", std::ascii::escape_default(*c)),
            Value::Pointer(p) => write!(f, "{p:#x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(bytes) => {
                for (i, b) in bytes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Typed(v) => write!(f, "{v}"),
        }
    }
}

/// A value that cannot be written as the type asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot write {text:?} as {ty}: {why}")]
pub struct ValueError {
    pub text: String,
    pub ty: String,
    pub why: String,
}

impl ValueError {
    fn new(text: &str, ty: &Type, why: impl Into<String>) -> ValueError {
        ValueError {
            text: text.to_string(),
            ty: ty.to_string(),
            why: why.into(),
        }
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = N.min(bytes.len());
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fn decode_scalar(kind: Scalar, big_endian: bool, bytes: &[u8]) -> Value {
    macro_rules! num {
        ($t:ty, $n:literal) => {{
            let raw = fixed::<$n>(bytes);
            if big_endian {
                <$t>::from_be_bytes(raw)
            } else {
                <$t>::from_le_bytes(raw)
            }
        }};
    }
    match kind {
        Scalar::U8 => Value::Unsigned(u64::from(num!(u8, 1))),
        Scalar::U16 => Value::Unsigned(u64::from(num!(u16, 2))),
        Scalar::U32 => Value::Unsigned(u64::from(num!(u32, 4))),
        Scalar::U64 => Value::Unsigned(num!(u64, 8)),
        Scalar::I8 => Value::Signed(i64::from(num!(i8, 1))),
        Scalar::I16 => Value::Signed(i64::from(num!(i16, 2))),
        Scalar::I32 => Value::Signed(i64::from(num!(i32, 4))),
        Scalar::I64 => Value::Signed(num!(i64, 8)),
        Scalar::F32 => {
            // Through its shortest text, so 1.1f32 shows as 1.1, not 1.100000023841858.
            let v = num!(f32, 4);
            Value::Float(v.to_string().parse().unwrap_or(f64::from(v)))
        }
        Scalar::F64 => Value::Float(num!(f64, 8)),
        Scalar::Bool => Value::Bool(num!(u8, 1) != 0),
        Scalar::Ptr => Value::Pointer(num!(u64, 8)),
        Scalar::Char => Value::Char(num!(u8, 1)),
    }
}

fn encode_scalar(kind: Scalar, big_endian: bool, text: &str) -> Result<Vec<u8>, ValueError> {
    let ty = Type::Scalar { kind, big_endian };
    let err = |why: &str| ValueError::new(text, &ty, why);
    let size = kind.size();
    // Integers are encoded as their low `size` bytes of a u64 bit pattern.
    let bits: u64 = match kind {
        Scalar::F32 | Scalar::F64 => {
            let mut bytes = parse_float_bytes(text, size).map_err(|why| err(&why))?;
            if big_endian {
                bytes.reverse();
            }
            return Ok(bytes);
        }
        Scalar::Bool => match text {
            "true" | "1" => 1,
            "false" | "0" => 0,
            _ => return Err(err("expected true, false, 1 or 0")),
        },
        Scalar::Char => u64::from(parse_char(text).map_err(|why| err(&why))?),
        _ if kind.is_signed() => {
            let bits = (size * 8) as u32;
            let Integer {
                negative,
                magnitude,
                radix,
            } = parse_integer(text).map_err(|why| err(&why))?;
            let min = -(1i128 << (bits - 1));
            let max = (1i128 << (bits - 1)) - 1;
            let value = if negative { -magnitude } else { magnitude };
            if radix != 10 && !negative && magnitude < (1i128 << bits) {
                // A hex or binary bit pattern of the type's width.
                magnitude as u64
            } else if value < min || value > max {
                return Err(err(&format!("out of range {min}..={max}")));
            } else {
                value as i64 as u64
            }
        }
        _ => {
            let Integer {
                negative,
                magnitude,
                ..
            } = parse_integer(text).map_err(|why| err(&why))?;
            let max = if size == 8 {
                u64::MAX as i128
            } else {
                (1i128 << (size * 8)) - 1
            };
            if negative && magnitude != 0 {
                return Err(err("an unsigned type cannot be negative"));
            }
            if magnitude > max {
                return Err(err(&format!("out of range 0..={max}")));
            }
            magnitude as u64
        }
    };
    let le = bits.to_le_bytes();
    let mut out = le[..size].to_vec();
    if big_endian {
        out.reverse();
    }
    Ok(out)
}

fn parse_char(text: &str) -> Result<u8, String> {
    let inner = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .map(|t| t.to_string());
    let bytes = match inner {
        Some(quoted) => unescape(&quoted)?,
        None if text.chars().count() == 1 => text.as_bytes().to_vec(),
        None => {
            let Integer {
                negative,
                magnitude,
                ..
            } = parse_integer(text)?;
            if negative || magnitude > 255 {
                return Err("a character code is 0..=255".to_string());
            }
            return Ok(magnitude as u8);
        }
    };
    match bytes.as_slice() {
        [b] => Ok(*b),
        _ => Err("expected one byte-sized character".to_string()),
    }
}

/// The bytes of a string value: inside `"..."` escapes apply; bare text is taken as is.
pub(super) fn unquote(text: &str) -> Result<Vec<u8>, String> {
    match text.strip_prefix('"') {
        Some(rest) => match rest.strip_suffix('"') {
            Some(inner) if !rest.is_empty() => unescape(inner),
            _ => Err("unterminated quoted string".to_string()),
        },
        None => Ok(text.as_bytes().to_vec()),
    }
}

fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let escaped = chars.next().ok_or("a trailing backslash escapes nothing")?;
        match escaped {
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            '0' => out.push(0),
            '\\' | '"' | '\'' => out.push(escaped as u8),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .ok_or_else(|| format!("\\x needs two hex digits, got {hex:?}"))?;
                out.push(byte);
            }
            other => return Err(format!("unknown escape \\{other}")),
        }
    }
    Ok(out)
}

/// Splits array items at top-level commas, leaving commas inside quotes or brackets.
fn split_items(text: &str) -> Vec<&str> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut items = Vec::new();
    let (mut depth, mut quote, mut escaped, mut start) = (0i32, None, false, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(text[start..].trim());
    items
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;

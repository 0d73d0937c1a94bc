//! Typed values: bytes and a [`Type`] to a value tree, printed like gdb or
//! as JSON; and text to the bytes a write of a scalar, enum or bitfield needs.

use std::fmt::{self, Write as _};

use serde_json::{Map, Value as Json, json};

use super::file::{DResult, DebugError};
use super::path::Place;
use super::types::{BaseKind, Bits, Type, TypeKind};
use crate::literal::{Wide, parse_wide};

/// Elements of one array decoded at most; the rest are counted, not shown.
pub const MAX_ELEMENTS: usize = 4096;
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Signed(i128),
    Unsigned(u128),
    Float(f64),
    Bool(bool),
    /// A char-sized integer, shown as number and character.
    Char(i64),
    /// A UTF-32 character (Rust `char`).
    Utf(u32),
    Enum {
        value: i128,
        name: Option<String>,
    },
    /// A pointer's address; `string` is the C string it points to when
    /// the caller read it.
    Pointer {
        addr: u64,
        string: Option<String>,
    },
    /// A `char[N]`'s bytes up to its first NUL (shown escaped as C would).
    Str(Vec<u8>),
    /// A Rust `&str` with the text it points to, read by the caller:
    /// `length` bytes at `addr`, of which `bytes` holds the first (all
    /// unless the string is longer than a read takes).
    StrRef {
        addr: u64,
        length: u64,
        bytes: Vec<u8>,
    },
    Array {
        elements: Vec<Value>,
        /// Elements not decoded (past [`MAX_ELEMENTS`]).
        more: u64,
    },
    Struct {
        union: bool,
        fields: Vec<(String, Value)>,
    },
    /// A Rust enum's variant, by the name its DWARF gives.
    Variant {
        name: String,
        value: Box<Value>,
    },
    /// Bytes of a type pvtui does not model.
    Bytes(Vec<u8>),
}

fn le_uint(bytes: &[u8]) -> u128 {
    bytes
        .iter()
        .take(16)
        .rev()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

fn sign(u: u128, bytes: usize) -> i128 {
    let bits = (bytes.min(16) * 8) as u32;
    if bits == 0 || bits >= 128 {
        return u as i128;
    }
    let shift = 128 - bits;
    ((u << shift) as i128) >> shift
}

/// Extracts a bitfield's bits as an unsigned number.
fn extract_bits(bytes: &[u8], bits: Bits) -> u128 {
    let raw = le_uint(&bytes[..bytes.len().min(bits.span() as usize)]);
    let mask = if bits.size >= 128 {
        u128::MAX
    } else {
        (1u128 << bits.size) - 1
    };
    (raw >> bits.offset) & mask
}

/// Decodes the bytes of a place (`bytes` starts at `place.offset`).
pub fn decode_place(place: &Place, bytes: &[u8]) -> DResult<Value> {
    match place.bits {
        Some(bits) => {
            if bytes.len() < bits.span() as usize {
                return Err(short(place.len(), bytes.len()));
            }
            let raw = extract_bits(bytes, bits);
            Ok(bits_value(&place.ty, raw, bits.size))
        }
        None => decode(&place.ty, bytes),
    }
}

fn bits_value(ty: &Type, raw: u128, size: u32) -> Value {
    let t = ty.strip();
    let signed = matches!(
        t.kind,
        TypeKind::Base(BaseKind::Signed | BaseKind::SignedChar)
    ) || matches!(t.kind, TypeKind::Enum { signed: true, .. });
    let value = if signed {
        sign_bits(raw, size)
    } else {
        raw as i128
    };
    match &t.kind {
        TypeKind::Enum { enumerators, .. } => enum_value(enumerators, value),
        TypeKind::Base(BaseKind::Bool) => Value::Bool(raw != 0),
        _ if signed => Value::Signed(value),
        _ => Value::Unsigned(raw),
    }
}

fn sign_bits(u: u128, size: u32) -> i128 {
    if size == 0 || size >= 128 {
        return u as i128;
    }
    let shift = 128 - size;
    ((u << shift) as i128) >> shift
}

fn enum_value(enumerators: &[(String, i128)], value: i128) -> Value {
    Value::Enum {
        value,
        name: enumerators
            .iter()
            .find(|(_, v)| *v == value)
            .map(|(n, _)| n.clone()),
    }
}

fn short(want: u64, got: usize) -> DebugError {
    DebugError(format!("{want} bytes needed, {got} read"))
}

/// Whether `ty` is `wchar_t` (a typedef of `int` in C, its own type in C++)
/// under any qualifiers.
fn is_wchar(ty: &Type) -> bool {
    let mut ty = ty;
    loop {
        if ty.name == "wchar_t" {
            return true;
        }
        match &ty.kind {
            TypeKind::Typedef(t)
            | TypeKind::Const(t)
            | TypeKind::Volatile(t)
            | TypeKind::Atomic(t) => ty = t,
            _ => return false,
        }
    }
}

/// Decodes a value of type `ty` from `bytes` (at least its size).
pub fn decode(ty: &Type, bytes: &[u8]) -> DResult<Value> {
    decode_at(ty, bytes, 0)
}

fn decode_at(ty: &Type, bytes: &[u8], depth: usize) -> DResult<Value> {
    if depth > MAX_DEPTH {
        return Err(DebugError("value nests too deep".into()));
    }
    let t = ty.strip();
    let size = ty.byte_size();
    let Some(bytes) = bytes.get(..usize::try_from(size).unwrap_or(usize::MAX)) else {
        return Err(short(size, bytes.len()));
    };
    Ok(match &t.kind {
        TypeKind::Base(kind) => {
            let u = le_uint(bytes);
            match kind {
                // A wide character shows as its number and the character, as in gdb.
                BaseKind::Signed | BaseKind::Unsigned
                    if bytes.len() == 4 && is_wchar(ty) && char::from_u32(u as u32).is_some() =>
                {
                    Value::Utf(u as u32)
                }
                BaseKind::Signed => Value::Signed(sign(u, bytes.len())),
                BaseKind::Unsigned => Value::Unsigned(u),
                BaseKind::Bool => Value::Bool(u != 0),
                BaseKind::SignedChar => Value::Char(sign(u, bytes.len()) as i64),
                BaseKind::UnsignedChar => Value::Char(u as i64),
                BaseKind::Utf => Value::Utf(u as u32),
                BaseKind::Float => match bytes.len() {
                    4 => {
                        // Through its shortest text, as a plain f32 is: 12.1414223,
                        // not 12.141422271728516.
                        let v = f32::from_bits(u as u32);
                        Value::Float(v.to_string().parse().unwrap_or(f64::from(v)))
                    }
                    super::x87::SIZE => Value::Float(super::x87::decode(bytes).unwrap_or(f64::NAN)),
                    _ => Value::Float(f64::from_bits(u as u64)),
                },
            }
        }
        TypeKind::Enum {
            signed,
            enumerators,
        } => {
            let u = le_uint(bytes);
            let v = if *signed {
                sign(u, bytes.len())
            } else {
                u as i128
            };
            enum_value(enumerators, v)
        }
        TypeKind::Pointer { .. } => Value::Pointer {
            addr: le_uint(bytes) as u64,
            string: None,
        },
        TypeKind::Array { elem, count } => {
            if elem.is_char() && count.is_some() {
                // Up to the first NUL, unless bytes follow it (a buffer, not a
                // string): then all of it but trailing NULs, escaped when shown.
                let used = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
                let end = memchr::memchr(0, bytes).unwrap_or(bytes.len()).max(used);
                return Ok(Value::Str(bytes[..end].to_vec()));
            }
            let n = count.unwrap_or(0);
            let esize = elem.byte_size();
            let shown = n.min(MAX_ELEMENTS as u64);
            let mut elements = Vec::with_capacity(shown as usize);
            for i in 0..shown {
                let start = (i * esize) as usize;
                let part = bytes.get(start..).unwrap_or_default();
                elements.push(decode_at(elem, part, depth + 1)?);
            }
            Value::Array {
                elements,
                more: n - shown,
            }
        }
        TypeKind::Struct {
            aggregate,
            fields,
            variants,
            ..
        } => {
            if let Some(part) = variants {
                if let Some(v) = decode_variant(part, bytes, depth)? {
                    return Ok(v);
                }
            }
            let mut out = Vec::with_capacity(fields.len());
            for f in fields {
                let part = bytes
                    .get(usize::try_from(f.offset).unwrap_or(usize::MAX)..)
                    .unwrap_or_default();
                let place = Place {
                    offset: f.offset,
                    ty: f.ty.clone(),
                    bits: f.bits,
                };
                let v = match f.bits {
                    Some(_) => decode_place(&place, part)?,
                    None => decode_at(&f.ty, part, depth + 1)?,
                };
                out.push((f.name.clone(), v));
            }
            Value::Struct {
                union: *aggregate == super::types::Aggregate::Union,
                fields: out,
            }
        }
        _ => Value::Bytes(bytes.to_vec()),
    })
}

fn decode_variant(
    part: &super::types::VariantPart,
    bytes: &[u8],
    depth: usize,
) -> DResult<Option<Value>> {
    let discr = match &part.discr {
        Some(f) => {
            let place = Place {
                offset: f.offset,
                ty: f.ty.clone(),
                bits: f.bits,
            };
            let part_bytes = bytes
                .get(usize::try_from(f.offset).unwrap_or(usize::MAX)..)
                .unwrap_or_default();
            match decode_place(&place, part_bytes)? {
                Value::Unsigned(u) => Some(u as u64),
                Value::Signed(s) => Some(s as u64),
                Value::Enum { value, .. } => Some(value as u64),
                Value::Char(c) => Some(c as u64),
                _ => None,
            }
        }
        None => None,
    };
    let chosen = part
        .variants
        .iter()
        .find(|v| v.discr_value.is_some() && v.discr_value == discr)
        .or_else(|| part.variants.iter().find(|v| v.discr_value.is_none()));
    let Some(variant) = chosen else {
        return Ok(None);
    };
    // rustc puts each variant in one member of the variant's own struct type.
    let Some(member) = variant.fields.first() else {
        return Ok(None);
    };
    let part_bytes = bytes
        .get(usize::try_from(member.offset).unwrap_or(usize::MAX)..)
        .unwrap_or_default();
    let inner = decode_at(&member.ty, part_bytes, depth + 1)?;
    Ok(Some(Value::Variant {
        name: member.name.clone(),
        value: Box::new(inner),
    }))
}

/// A Rust tuple variant's fields (`__0`, `__1`, ...), in order.
fn tuple_fields(value: &Value) -> Option<Vec<&Value>> {
    let Value::Struct { fields, .. } = value else {
        return None;
    };
    fields
        .iter()
        .enumerate()
        .map(|(i, (n, v))| (n.strip_prefix("__") == Some(&i.to_string())).then_some(v))
        .collect()
}

fn escape(s: &str) -> String {
    s.escape_debug().to_string()
}

fn char_text(c: i64) -> String {
    match u8::try_from(c) {
        Ok(b) if b.is_ascii_graphic() || b == b' ' => {
            format!("'{}'", escape(&char::from(b).to_string()))
        }
        Ok(b) => format!("'\\{b:03o}'"),
        Err(_) => format!("'\\{:03o}'", c as u8),
    }
}

/// `bytes` in double quotes, escaped, an invalid UTF-8 byte in octal.
fn quoted(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_char('"')?;
    for chunk in bytes.utf8_chunks() {
        f.write_str(&escape(chunk.valid()))?;
        for b in chunk.invalid() {
            write!(f, "\\{b:03o}")?;
        }
    }
    f.write_char('"')
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Signed(v) => write!(f, "{v}"),
            Value::Unsigned(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Char(c) => write!(f, "{c} {}", char_text(*c)),
            Value::Utf(u) => match char::from_u32(*u) {
                Some(c) => write!(f, "{u} '{}'", escape(&c.to_string())),
                None => write!(f, "{u}"),
            },
            Value::Enum {
                name: Some(name), ..
            } => write!(f, "{}", escape(name)),
            Value::Enum { value, name: None } => write!(f, "{value} (no name)"),
            Value::Pointer { addr, string } => {
                write!(f, "{addr:#x}")?;
                if let Some(s) = string {
                    write!(f, " \"{}\"", escape(s))?;
                }
                Ok(())
            }
            Value::Str(bytes) => quoted(f, bytes),
            // As gdb shows a `&str`; `...` past the quote when cut.
            Value::StrRef { length, bytes, .. } => {
                quoted(f, bytes)?;
                if (bytes.len() as u64) < *length {
                    f.write_str("...")?;
                }
                Ok(())
            }
            Value::Array { elements, more } => {
                f.write_char('{')?;
                for (i, e) in elements.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                if *more > 0 {
                    write!(f, "...({more} more)")?;
                }
                f.write_char('}')
            }
            Value::Struct { fields, .. } => {
                f.write_char('{')?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if name.is_empty() {
                        write!(f, "{v}")?;
                    } else {
                        write!(f, "{} = {v}", escape(name))?;
                    }
                }
                f.write_char('}')
            }
            Value::Variant { name, value } => match tuple_fields(value) {
                Some(items) if items.is_empty() => write!(f, "{}", escape(name)),
                Some(items) => {
                    write!(f, "{}(", escape(name))?;
                    for (i, v) in items.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{v}")?;
                    }
                    f.write_char(')')
                }
                None => write!(f, "{} {value}", escape(name)),
            },
            Value::Bytes(b) => {
                f.write_str("bytes[")?;
                for (i, byte) in b.iter().take(64).enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                if b.len() > 64 {
                    f.write_str(" ...")?;
                }
                f.write_char(']')
            }
        }
    }
}

impl Value {
    /// JSON: structs as objects, arrays as arrays, enums by name, pointers as hex.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Signed(v) => {
                i64::try_from(*v).map_or_else(|_| json!(v.to_string()), |v| json!(v))
            }
            Value::Unsigned(v) => {
                u64::try_from(*v).map_or_else(|_| json!(v.to_string()), |v| json!(v))
            }
            // As a plain f64 is: a non-finite float has no JSON number.
            Value::Float(v) if v.is_finite() => json!(v),
            Value::Float(v) => json!(v.to_string()),
            Value::Bool(b) => json!(b),
            Value::Char(c) => json!(c),
            Value::Utf(u) => match char::from_u32(*u) {
                Some(c) => json!(c.to_string()),
                None => json!(u),
            },
            Value::Enum {
                name: Some(name), ..
            } => json!(name),
            Value::Enum { value, name: None } => {
                i64::try_from(*value).map_or_else(|_| json!(value.to_string()), |v| json!(v))
            }
            Value::Pointer { addr, string } => match string {
                Some(s) => json!({"address": format!("{addr:#x}"), "string": s}),
                None => json!(format!("{addr:#x}")),
            },
            Value::Str(bytes) => json!(String::from_utf8_lossy(bytes)),
            Value::StrRef {
                addr,
                length,
                bytes,
            } => json!({
                "address": format!("{addr:#x}"),
                "length": length,
                "string": String::from_utf8_lossy(bytes),
            }),
            Value::Array { elements, .. } => {
                Json::Array(elements.iter().map(Value::to_json).collect())
            }
            Value::Struct { fields, .. } => {
                let mut map = Map::new();
                for (i, (name, v)) in fields.iter().enumerate() {
                    let key = if name.is_empty() {
                        format!("<anonymous {i}>")
                    } else {
                        name.clone()
                    };
                    map.insert(key, v.to_json());
                }
                Json::Object(map)
            }
            Value::Variant { name, value } => {
                let inner = match tuple_fields(value) {
                    Some(items) if items.is_empty() => return json!(name),
                    Some(items) if items.len() == 1 => items[0].to_json(),
                    Some(items) => Json::Array(items.iter().map(|v| v.to_json()).collect()),
                    None => value.to_json(),
                };
                json!({ name.clone(): inner })
            }
            Value::Bytes(b) => Json::Array(b.iter().map(|x| json!(x)).collect()),
        }
    }
}

/// The bytes to write for `text` at `place`: a byte offset (relative to the
/// place's value start) and the new bytes. A bitfield is read-modify-write:
/// `current` holds the bytes now at the place, and only its bits change.
pub fn encode(place: &Place, text: &str, current: &[u8]) -> DResult<(u64, Vec<u8>)> {
    let ty = place.ty.strip();
    let text = text.trim();
    let width = match place.bits {
        Some(b) => b.size,
        None => u32::try_from(ty.size.min(16) * 8).unwrap_or(128),
    };
    let number: u128 = match &ty.kind {
        TypeKind::Base(BaseKind::Float) if place.bits.is_none() => {
            // The one float parser: a value outside the type is refused. A
            // long double takes any f64.
            let size = if ty.size == 4 { 4 } else { 8 };
            let bytes = crate::literal::parse_float_bytes(text, size).map_err(DebugError)?;
            let bytes = match (ty.size, <[u8; 8]>::try_from(bytes.as_slice())) {
                (16, Ok(b)) => super::x87::encode(f64::from_le_bytes(b)),
                _ => bytes,
            };
            return Ok((place.offset, bytes));
        }
        TypeKind::Base(BaseKind::Bool) => match text {
            "true" | "1" => 1,
            "false" | "0" => 0,
            _ => return Err(DebugError(format!("{text:?} is not true or false"))),
        },
        TypeKind::Enum {
            enumerators,
            signed,
        } => match enumerators.iter().find(|(n, _)| n == text) {
            Some((_, v)) => fit(wide(*v), width, *signed, text)?,
            None => fit(
                parse_int(text, &ty.name, enumerators)?,
                width,
                *signed,
                text,
            )?,
        },
        TypeKind::Base(kind) => {
            let signed = matches!(kind, BaseKind::Signed | BaseKind::SignedChar);
            let v = match (
                kind,
                text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')),
            ) {
                (BaseKind::SignedChar | BaseKind::UnsignedChar, Some(c)) if c.len() == 1 => {
                    wide(i128::from(c.as_bytes()[0]))
                }
                _ => parse_int(text, &ty.name, &[])?,
            };
            fit(v, width, signed, text)?
        }
        TypeKind::Pointer { .. } => fit(parse_int(text, &ty.name, &[])?, width, false, text)?,
        TypeKind::Array { .. } => {
            return Err(DebugError(format!(
                "{} is an array: write one of its elements",
                place.ty.name
            )));
        }
        _ => {
            return Err(DebugError(format!(
                "{} is not a scalar: write one of its fields",
                place.ty.name
            )));
        }
    };
    match place.bits {
        None => {
            let n = usize::try_from(ty.size.min(16)).unwrap_or(16);
            Ok((place.offset, number.to_le_bytes()[..n].to_vec()))
        }
        Some(bits) => {
            let span = bits.span() as usize;
            let Some(old) = current.get(..span) else {
                return Err(short(span as u64, current.len()));
            };
            let mask = ((1u128 << bits.size) - 1) << bits.offset;
            let merged = (le_uint(old) & !mask) | ((number << bits.offset) & mask);
            Ok((place.offset, merged.to_le_bytes()[..span].to_vec()))
        }
    }
}

/// An integer as written, by the one literal parser (128 bits wide).
fn parse_int(text: &str, ty: &str, enumerators: &[(String, i128)]) -> DResult<Wide> {
    match parse_wide(text) {
        Ok(n) => Ok(n),
        Err(_) if !enumerators.is_empty() => {
            let names: Vec<&str> = enumerators
                .iter()
                .map(|(n, _)| n.as_str())
                .take(16)
                .collect();
            Err(DebugError(format!(
                "{text:?} is not a number or a name of {ty} ({})",
                names.join(", ")
            )))
        }
        Err(why) => Err(DebugError(format!(
            "{text:?} is not a number for {ty}: {why}"
        ))),
    }
}

/// An enumerator's value as if written.
fn wide(v: i128) -> Wide {
    Wide {
        negative: v < 0,
        magnitude: v.unsigned_abs(),
        radix: 10,
    }
}

/// Checks `n` fits `width` bits (signed or unsigned) and returns its bits,
/// in two's complement over the whole width (128 bits for `__int128`).
fn fit(n: Wide, width: u32, signed: bool, text: &str) -> DResult<u128> {
    let width = width.clamp(1, 128);
    let mask = u128::MAX >> (128 - width);
    // The largest magnitude below zero, and the largest value.
    let (below, hi) = if signed {
        (1u128 << (width - 1), mask >> 1)
    } else {
        (0, mask)
    };
    let fits = if n.negative {
        n.magnitude <= below
    } else {
        n.magnitude <= hi
    };
    if !fits {
        let kind = if signed { "signed" } else { "unsigned" };
        let lo = if below == 0 {
            "0".to_string()
        } else {
            format!("-{below}")
        };
        return Err(DebugError(format!(
            "{text} does not fit in {width} bits ({kind}: {lo}..={hi})"
        )));
    }
    let bits = if n.negative {
        n.magnitude.wrapping_neg()
    } else {
        n.magnitude
    };
    Ok(bits & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_str_shows_its_text_escaped_and_says_when_cut() {
        let whole = Value::StrRef {
            addr: 0x1000,
            length: 7,
            bytes: b"a\"b\n\xffcd".to_vec(),
        };
        assert_eq!(whole.to_string(), r#""a\"b\n\377cd""#);
        assert_eq!(
            whole.to_json(),
            json!({"address": "0x1000", "length": 7, "string": "a\"b\n\u{fffd}cd"})
        );
        let cut = Value::StrRef {
            addr: 0x1000,
            length: 300,
            bytes: b"zz".to_vec(),
        };
        assert_eq!(cut.to_string(), r#""zz"..."#);
        assert_eq!(cut.to_json()["length"], 300);
    }
}

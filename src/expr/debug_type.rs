//! Watches whose type comes from the target's debug info: sizes, decoding
//! and writing (a bitfield over the bytes around it).

use std::fmt;
use std::sync::Arc;

use crate::debuginfo::{self, Bits, Place, TypeKind};
use crate::expr::types::{MAX_LEN, Value};

/// A type from the target's debug info (a C, C++ or Rust type), with a
/// bitfield's bits within the bytes it starts at.
#[derive(Clone, Debug)]
pub struct DebugType {
    pub ty: Arc<debuginfo::Type>,
    pub bits: Option<Bits>,
}

impl DebugType {
    /// The same bytes as a type written without debug info (`int` → `i32`,
    /// a struct → `bytes[N]`), for files that must read back anywhere.
    pub fn plain(&self) -> crate::expr::Type {
        use crate::expr::{Scalar, Type};
        use debuginfo::{BaseKind, TypeKind};
        let ty = self.ty.strip();
        let size = usize::try_from(ty.byte_size()).unwrap_or(0);
        let scalar = match (&ty.kind, size) {
            (TypeKind::Base(BaseKind::Float), 4) => Some(Scalar::F32),
            (TypeKind::Base(BaseKind::Float), 8) => Some(Scalar::F64),
            (TypeKind::Base(BaseKind::Bool), 1) => Some(Scalar::Bool),
            (TypeKind::Base(BaseKind::Signed | BaseKind::SignedChar), n)
            | (TypeKind::Enum { signed: true, .. }, n) => match n {
                1 => Some(Scalar::I8),
                2 => Some(Scalar::I16),
                4 => Some(Scalar::I32),
                8 => Some(Scalar::I64),
                _ => None,
            },
            (TypeKind::Base(_) | TypeKind::Enum { .. }, n) => match n {
                1 => Some(Scalar::U8),
                2 => Some(Scalar::U16),
                4 => Some(Scalar::U32),
                8 => Some(Scalar::U64),
                _ => None,
            },
            (TypeKind::Pointer { .. }, 8) => Some(Scalar::Ptr),
            _ => None,
        };
        match scalar {
            Some(kind) if self.bits.is_none() => Type::Scalar {
                kind,
                big_endian: false,
            },
            _ => Type::Bytes(size.max(1)),
        }
    }

    fn place(&self) -> Place {
        Place {
            offset: 0,
            ty: Arc::clone(&self.ty),
            bits: self.bits,
        }
    }

    /// How many bytes a read takes: a bitfield's span, else the type's
    /// size (capped, like any watch, at [`MAX_LEN`]).
    pub fn size(&self) -> usize {
        usize::try_from(self.place().len())
            .unwrap_or(MAX_LEN)
            .min(MAX_LEN)
    }

    /// Whether it has parts to show as a tree (struct, union, array).
    pub fn is_aggregate(&self) -> bool {
        self.bits.is_none()
            && matches!(
                self.ty.strip().kind,
                TypeKind::Struct { .. } | TypeKind::Array { .. }
            )
    }

    pub(super) fn decode(&self, bytes: &[u8]) -> Value {
        match debuginfo::decode_place(&self.place(), bytes) {
            Ok(v) => Value::Typed(v),
            // Only a value larger than a watch reads gets here.
            Err(_) => Value::Bytes(bytes.to_vec()),
        }
    }

    /// A bitfield's own bits within the bytes it spans (set bits are the
    /// field's); `None` for a value that owns all its bytes.
    pub fn bit_mask(&self) -> Option<Vec<u8>> {
        let bits = self.bits?;
        let span = usize::try_from(bits.span()).ok()?.min(16);
        let ones = 1u128.checked_shl(bits.size).map_or(u128::MAX, |v| v - 1);
        let mask = ones.checked_shl(bits.offset).unwrap_or(0);
        Some(mask.to_le_bytes()[..span].to_vec())
    }

    pub(super) fn encode(&self, text: &str, current: &[u8]) -> Result<Vec<u8>, String> {
        if let Some(len) = self.char_array() {
            return c_string_in(text, len);
        }
        if self.bits.is_some() && current.len() < self.size() {
            return Err("a bitfield is written over the bytes around it: read them first".into());
        }
        debuginfo::encode(&self.place(), text, current)
            .map(|(_, bytes)| bytes)
            .map_err(|e| e.0)
    }

    /// `char[N]`'s N: an array written as a string.
    fn char_array(&self) -> Option<usize> {
        match &self.ty.strip().kind {
            TypeKind::Array {
                elem,
                count: Some(n),
            } if self.bits.is_none() && elem.is_char() => usize::try_from(*n).ok(),
            _ => None,
        }
    }
}

/// A string (bare, or quoted with escapes) as the `len` bytes of a
/// `char[len]`: its bytes, a NUL, and NULs to the end; refused when it
/// leaves no room for the NUL.
fn c_string_in(text: &str, len: usize) -> Result<Vec<u8>, String> {
    let mut bytes = crate::expr::types::unquote(text)?;
    if bytes.len() >= len {
        return Err(format!(
            "{} bytes and a NUL do not fit in char[{len}]",
            bytes.len()
        ));
    }
    bytes.resize(len, 0);
    Ok(bytes)
}

// The same type when the same tree, or the same name, size and bits (a
// type found again after the maps changed).
impl PartialEq for DebugType {
    fn eq(&self, other: &DebugType) -> bool {
        self.bits == other.bits
            && (Arc::ptr_eq(&self.ty, &other.ty)
                || (self.ty.name == other.ty.name && self.ty.size == other.ty.size))
    }
}

impl Eq for DebugType {}

impl std::hash::Hash for DebugType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ty.name.hash(state);
        self.ty.size.hash(state);
        self.bits.map(|b| (b.offset, b.size)).hash(state);
    }
}

impl fmt::Display for DebugType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ty.name)?;
        if let Some(b) = self.bits {
            write!(f, ":{}", b.size)?;
        }
        Ok(())
    }
}

/// `held`'s bits where `mask` is set over `current`'s elsewhere: a
/// bitfield written into the bytes it shares with its neighbours.
pub fn merge_bits(current: &[u8], held: &[u8], mask: &[u8]) -> Vec<u8> {
    held.iter()
        .enumerate()
        .map(|(i, h)| {
            let m = mask.get(i).copied().unwrap_or(0xff);
            let c = current.get(i).copied().unwrap_or(*h);
            (c & !m) | (h & m)
        })
        .collect()
}

/// A typed value's exact integer, for the change between two readings;
/// `None` for floats and values that are not numbers.
pub(super) fn integer(value: &debuginfo::Value) -> Option<i128> {
    use debuginfo::Value as V;
    match value {
        V::Signed(v) => Some(*v),
        V::Unsigned(v) => i128::try_from(*v).ok(),
        V::Bool(b) => Some(i128::from(u8::from(*b))),
        V::Utf(u) => Some(i128::from(*u)),
        V::Enum { value, .. } => Some(*value),
        V::Pointer { addr, .. } => Some(i128::from(*addr)),
        _ => None,
    }
}

pub(super) fn number(value: &debuginfo::Value) -> Option<f64> {
    use debuginfo::Value as V;
    match value {
        V::Signed(v) => Some(*v as f64),
        V::Unsigned(v) => Some(*v as f64),
        V::Float(v) => Some(*v),
        V::Bool(b) => Some(f64::from(u8::from(*b))),
        V::Char(c) => Some(*c as f64),
        V::Utf(u) => Some(f64::from(*u)),
        V::Enum { value, .. } => Some(*value as f64),
        V::Pointer { addr, .. } => Some(*addr as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debuginfo::{BaseKind, Type};

    fn field(offset: u32, size: u32) -> DebugType {
        DebugType {
            ty: Arc::new(Type::new("int", 4, TypeKind::Base(BaseKind::Signed))),
            bits: Some(Bits { offset, size }),
        }
    }

    fn char_array(n: u64) -> DebugType {
        let char_ty = Arc::new(Type::new("char", 1, TypeKind::Base(BaseKind::SignedChar)));
        DebugType {
            ty: Arc::new(Type::new(
                format!("char[{n}]"),
                n,
                TypeKind::Array {
                    elem: char_ty,
                    count: Some(n),
                },
            )),
            bits: None,
        }
    }

    #[test]
    fn a_bitfield_mask_covers_its_own_bits_only() {
        assert_eq!(field(3, 5).bit_mask(), Some(vec![0b1111_1000]));
        assert_eq!(field(6, 4).bit_mask(), Some(vec![0b1100_0000, 0b0000_0011]));
        assert_eq!(field(1, 40).bit_mask().map(|m| m.len()), Some(6));
    }

    #[test]
    fn merging_keeps_the_neighbours_bits() {
        // The field is bits 3..8; the target has since set bits 0..3 to 0b001.
        let merged = merge_bits(&[0b0000_0001], &[0b1110_1101], &[0b1111_1000]);
        assert_eq!(merged, vec![0b1110_1001]);
    }

    #[test]
    fn a_char_array_takes_a_string_with_its_nul_inside_the_array() {
        let name = char_array(6);
        assert_eq!(name.encode("zed", &[]), Ok(b"zed\0\0\0".to_vec()));
        assert_eq!(name.encode("\"a\\tb\"", &[]), Ok(b"a\tb\0\0\0".to_vec()));
        assert_eq!(name.encode("12345", &[]), Ok(b"12345\0".to_vec()));
        let err = name.encode("123456", &[]).expect_err("no room for the NUL");
        assert!(err.contains("do not fit in char[6]"), "{err}");
        assert!(name.encode("\"open", &[]).is_err());
    }
}

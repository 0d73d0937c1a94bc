//! C `complex` types, which DWARF gives as base types: modelled as a
//! struct of two floats so they read, print and write like one.

use std::sync::Arc;

use super::types::{Aggregate, BaseKind, Field, Type, TypeKind};

/// A C `complex` as a struct of its real and imaginary parts, each a float
/// of half its size: read whole (`{real = 1.5, imag = 2.5}`) and written
/// part by part (`z.imag`). Parts of a size pvtui does not decode stay raw.
pub(super) fn complex(name: Option<String>, size: u64) -> Type {
    let name = name.unwrap_or_else(|| "complex".into());
    let half = size / 2;
    let part_name = name
        .strip_prefix("complex ")
        .or_else(|| name.strip_prefix("_Complex "))
        .unwrap_or("float")
        .to_string();
    let decodable = matches!(half, 4 | 8)
        || (half == 16 && cfg!(target_arch = "x86_64") && part_name == "long double");
    let kind = if decodable {
        TypeKind::Base(BaseKind::Float)
    } else {
        TypeKind::Other
    };
    let part = Arc::new(Type::new(part_name, half, kind));
    let field = |field: &str, offset| Field {
        name: field.into(),
        offset,
        ty: Arc::clone(&part),
        bits: None,
    };
    Type::new(
        name,
        size,
        TypeKind::Struct {
            aggregate: Aggregate::Struct,
            fields: vec![field("real", 0), field("imag", half)],
            variants: None,
            incomplete: false,
        },
    )
}

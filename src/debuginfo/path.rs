//! Field paths: `.field`, `[i]` steps from a typed value to one of its
//! parts, resolved once to a byte offset and a type.

use std::sync::Arc;

use super::file::{DResult, DebugError};
use super::types::{Bits, Type, TypeKind};

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(u64),
}

/// Where a part of a value lies: `offset` bytes from the value's start.
#[derive(Clone, Debug)]
pub struct Place {
    pub offset: u64,
    pub ty: Arc<Type>,
    pub bits: Option<Bits>,
}

impl Place {
    /// How many bytes to read for this place.
    pub fn len(&self) -> u64 {
        match self.bits {
            Some(b) => b.span(),
            None => self.ty.byte_size(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Splits `var.a[2].b` into `var` and its steps.
pub fn parse_path(text: &str) -> DResult<(String, Vec<Step>)> {
    let text = text.trim();
    let end = text.find(['.', '[']).unwrap_or(text.len());
    let (head, mut rest) = text.split_at(end);
    if head.is_empty() {
        return Err(DebugError(format!(
            "{text:?}: expected a variable name first"
        )));
    }
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(DebugError(format!(
                    "{text:?}: expected a field name after '.'"
                )));
            }
            steps.push(Step::Field(name.to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r
                .find(']')
                .ok_or_else(|| DebugError(format!("{text:?}: '[' without ']'")))?;
            let n = r[..close].trim();
            let index = match n.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => n.parse(),
            }
            .map_err(|_| DebugError(format!("{text:?}: {n:?} is not an index")))?;
            steps.push(Step::Index(index));
            rest = &r[close + 1..];
        } else {
            return Err(DebugError(format!("{text:?}: unexpected {rest:?}")));
        }
    }
    Ok((head.to_string(), steps))
}

/// Follows `steps` from a value of type `ty`. Pointers are not followed:
/// that needs a read, so the caller resolves the pointer and continues.
pub fn resolve(ty: &Arc<Type>, steps: &[Step]) -> DResult<Place> {
    let mut place = Place {
        offset: 0,
        ty: Arc::clone(ty),
        bits: None,
    };
    for step in steps {
        let cur = Arc::clone(&place.ty);
        let stripped = cur.strip();
        match (step, &stripped.kind) {
            (Step::Field(name), TypeKind::Struct { fields, .. }) => {
                let field = find_field(fields, name, 0).ok_or_else(|| {
                    let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    DebugError(format!(
                        "{} has no field {name:?} (fields: {})",
                        cur.name,
                        known.join(", ")
                    ))
                })?;
                place.offset = add(place.offset, field.0)?;
                place.ty = field.1;
                place.bits = field.2;
            }
            (Step::Index(i), TypeKind::Array { elem, count }) => {
                if let Some(n) = count {
                    if i >= n {
                        return Err(DebugError(format!(
                            "index {i} is out of bounds for {} ({n} elements)",
                            cur.name
                        )));
                    }
                }
                let step = elem
                    .byte_size()
                    .checked_mul(*i)
                    .ok_or_else(|| DebugError("index overflows".into()))?;
                place.offset = add(place.offset, step)?;
                place.ty = Arc::clone(elem);
                place.bits = None;
            }
            (Step::Field(name), TypeKind::Pointer { .. }) => {
                return Err(DebugError(format!(
                    "{} is a pointer: follow it with ->{name}",
                    cur.name
                )));
            }
            (Step::Field(name), _) => {
                return Err(DebugError(format!(
                    "{} is not a struct or union: no field {name:?}",
                    cur.name
                )));
            }
            (Step::Index(_), _) => {
                return Err(DebugError(format!("{} is not an array", cur.name)));
            }
        }
    }
    Ok(place)
}

/// A field by name, looking into anonymous members (C11 anonymous structs
/// and unions) as C does.
fn find_field(
    fields: &[super::types::Field],
    name: &str,
    depth: usize,
) -> Option<(u64, Arc<Type>, Option<Bits>)> {
    if let Some(f) = fields.iter().find(|f| f.name == name) {
        return Some((f.offset, Arc::clone(&f.ty), f.bits));
    }
    if depth > 8 {
        return None;
    }
    // Members of an anonymous struct or union, then of a base class (as
    // C++ finds them: `player.id` where `id` is declared in `Entity`).
    fields
        .iter()
        .filter(|f| f.name.is_empty() || is_base(f))
        .find_map(|f| {
            let (off, ty, bits) = find_field(f.ty.fields(), name, depth + 1)?;
            Some((f.offset.checked_add(off)?, ty, bits))
        })
}

/// A base class within a derived one: built under its type's name.
fn is_base(f: &super::types::Field) -> bool {
    f.name == f.ty.name && matches!(f.ty.strip().kind, TypeKind::Struct { .. })
}

fn add(a: u64, b: u64) -> DResult<u64> {
    a.checked_add(b)
        .ok_or_else(|| DebugError("field offset overflows".into()))
}

/// The part of a `ty` value that holds the byte `offset` bytes into it, as
/// a field path (`.pos.y`, `[2].name`), that part's type name, and how far
/// into that part the byte is. A union names its first member that covers it.
pub fn path_at(ty: &Type, offset: u64) -> (String, String, u64) {
    const MAX_STEPS: usize = 32;
    let mut path = String::new();
    let mut ty = ty;
    let mut offset = offset;
    for _ in 0..MAX_STEPS {
        match &ty.strip().kind {
            TypeKind::Struct { fields, .. } => {
                let Some(f) = fields.iter().find(|f| {
                    let len = f.bits.map_or_else(|| f.ty.byte_size(), Bits::span);
                    f.offset <= offset && offset - f.offset < len
                }) else {
                    break;
                };
                if !f.name.is_empty() {
                    path.push('.');
                    path.push_str(&f.name);
                }
                offset -= f.offset;
                ty = &f.ty;
                if f.bits.is_some() {
                    break;
                }
            }
            TypeKind::Array { elem, count } => {
                let size = elem.byte_size();
                let i = offset.checked_div(size).unwrap_or(u64::MAX);
                if count.is_none_or(|n| i >= n) {
                    break;
                }
                path.push_str(&format!("[{i}]"));
                offset -= i * size;
                ty = elem;
            }
            _ => break,
        }
    }
    (path, ty.name.clone(), offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debuginfo::types::{Aggregate, BaseKind, Field};

    #[test]
    fn a_byte_is_named_by_the_fields_and_elements_around_it() {
        let int = Arc::new(Type::new("int", 4, TypeKind::Base(BaseKind::Signed)));
        let field = |name: &str, offset: u64, ty: &Arc<Type>| Field {
            name: name.into(),
            offset,
            ty: Arc::clone(ty),
            bits: None,
        };
        let vec2 = Arc::new(Type::new(
            "struct vec2",
            8,
            TypeKind::Struct {
                aggregate: Aggregate::Struct,
                fields: vec![field("x", 0, &int), field("y", 4, &int)],
                variants: None,
                incomplete: false,
            },
        ));
        let arr = Arc::new(Type::new(
            "struct vec2[3]",
            24,
            TypeKind::Array {
                elem: Arc::clone(&vec2),
                count: Some(3),
            },
        ));
        let game = Type::new(
            "struct game",
            32,
            TypeKind::Struct {
                aggregate: Aggregate::Struct,
                fields: vec![field("tick", 0, &int), field("pts", 8, &arr)],
                variants: None,
                incomplete: false,
            },
        );
        let at = |off| path_at(&game, off);
        assert_eq!(at(0), (".tick".into(), "int".into(), 0));
        assert_eq!(at(22), (".pts[1].y".into(), "int".into(), 2));
        // Padding between fields is named by the struct itself.
        assert_eq!(at(5), (String::new(), "struct game".into(), 5));
        assert_eq!(at(40), (String::new(), "struct game".into(), 40));
    }
}

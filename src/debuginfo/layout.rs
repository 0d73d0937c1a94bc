//! A type's layout as gdb's `ptype /o` prints it: each field's offset and
//! size, bitfields' bit offsets, holes and padding, nested structs inline.

use std::fmt::Write as _;

use super::types::{Type, TypeKind};

const MAX_NESTING: usize = 8;

/// `ptype /o` text for `ty`.
pub fn layout(ty: &Type) -> String {
    let mut out = String::new();
    let t = ty.strip();
    match &t.kind {
        TypeKind::Struct { fields, .. } => {
            let _ = writeln!(
                out,
                "/* offset      |    size */  type = {} {{",
                keyworded(t)
            );
            body(&mut out, fields, 0, 1, t.byte_size());
            let _ = writeln!(
                out,
                "{:31}/* total size (bytes): {:4} */",
                "",
                t.byte_size()
            );
            out.push_str(&" ".repeat(29));
            out.push_str("}\n");
        }
        TypeKind::Enum { enumerators, .. } => {
            let _ = writeln!(out, "type = {} {{", keyworded(t));
            for (name, value) in enumerators {
                let _ = writeln!(out, "    {name} = {value},");
            }
            let _ = writeln!(out, "}}  /* {} bytes */", t.byte_size());
        }
        _ => {
            let _ = writeln!(out, "type = {}  /* {} bytes */", ty.name, ty.byte_size());
            if !std::ptr::eq(ty, t) {
                let _ = writeln!(out, "       = {}", t.name);
            }
        }
    }
    out
}

fn body(out: &mut String, fields: &[super::types::Field], base: u64, depth: usize, size: u64) {
    let indent = "    ".repeat(depth);
    let union = fields.len() > 1 && fields.iter().all(|f| f.offset == 0 && f.bits.is_none());
    let mut end_bits: u64 = 0;
    // In memory order: Rust reorders fields, and its DWARF keeps the source order.
    let mut fields: Vec<&super::types::Field> = fields.iter().collect();
    fields.sort_by_key(|f| (f.offset, f.bits.map_or(0, |b| b.offset)));
    for f in &fields {
        let start_bits = f.offset * 8 + f.bits.map_or(0, |b| u64::from(b.offset));
        if !union && start_bits > end_bits {
            hole(out, start_bits - end_bits);
        }
        let at = base + f.offset;
        let fsize = f.ty.byte_size();
        let offset = match f.bits {
            Some(b) => format!("{at:6}:{:2}", b.offset),
            None => format!("{at:6}   "),
        };
        let decl = declaration(&f.ty, &f.name);
        let bits = f.bits.map_or(String::new(), |b| format!(" : {}", b.size));
        let nested = match &f.ty.strip().kind {
            TypeKind::Struct { fields, .. } if depth < MAX_NESTING && !fields.is_empty() => {
                Some(fields)
            }
            _ => None,
        };
        match nested {
            Some(inner) => {
                let _ = writeln!(
                    out,
                    "/* {offset}   | {fsize:7} */{indent}{} {{",
                    keyworded(f.ty.strip())
                );
                body(out, inner, at, depth + 1, fsize);
                let _ = writeln!(
                    out,
                    "{:31}{indent}    /* total size (bytes): {fsize:4} */",
                    ""
                );
                let _ = writeln!(out, "{:29}{indent}}} {};", "", f.name);
            }
            None => {
                let _ = writeln!(out, "/* {offset}   | {fsize:7} */{indent}{decl}{bits};");
            }
        }
        let end = match f.bits {
            Some(b) => start_bits + u64::from(b.size),
            None => (f.offset + fsize) * 8,
        };
        end_bits = if union {
            end_bits.max(end)
        } else {
            end.max(end_bits)
        };
    }
    if !union && size * 8 > end_bits && !fields.is_empty() {
        // Counted in bits first: a bitfield may end inside a byte.
        let pad = size * 8 - end_bits;
        if pad % 8 != 0 {
            let _ = writeln!(out, "/* XXX {:2}-bit padding   */", pad % 8);
        }
        if pad / 8 > 0 {
            let _ = writeln!(out, "/* XXX {:2}-byte padding  */", pad / 8);
        }
    }
}

/// A struct, class, union or enum's name with its keyword, as gdb's
/// `ptype` shows it: C names carry it already (`struct node`), C++ and
/// Rust ones do not (`class game::Player`).
fn keyworded(ty: &Type) -> String {
    let keyword = match &ty.kind {
        TypeKind::Struct { aggregate, .. } => aggregate.keyword(),
        TypeKind::Enum { .. } => "enum",
        _ => return ty.name.clone(),
    };
    if ty.name.starts_with(keyword) && ty.name[keyword.len()..].starts_with(' ') {
        ty.name.clone()
    } else {
        format!("{keyword} {}", ty.name)
    }
}

fn hole(out: &mut String, bits: u64) {
    if bits % 8 != 0 {
        let _ = writeln!(out, "/* XXX {:2}-bit hole      */", bits % 8);
    }
    if bits / 8 > 0 {
        let _ = writeln!(out, "/* XXX {:2}-byte hole     */", bits / 8);
    }
}

/// `int id`, `char name[16]`, `struct node *next`.
pub fn declaration(ty: &Type, name: &str) -> String {
    match ty.name.find('[') {
        Some(i) if matches!(ty.kind, TypeKind::Array { .. }) => {
            format!("{} {name}{}", &ty.name[..i], &ty.name[i..])
        }
        _ if ty.name.ends_with('*') => format!("{}{name}", ty.name),
        _ => format!("{} {name}", ty.name),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::debuginfo::types::{Aggregate, BaseKind, Bits, Field};

    #[test]
    fn padding_after_a_bitfield_is_counted_in_bits_then_bytes() {
        // struct bits { char c; long d : 40; }: d ends at bit 49 of 64.
        let char_t = Arc::new(Type::new("char", 1, TypeKind::Base(BaseKind::SignedChar)));
        let long_t = Arc::new(Type::new("long", 8, TypeKind::Base(BaseKind::Signed)));
        let fields = vec![
            Field {
                name: "c".into(),
                offset: 0,
                ty: char_t,
                bits: None,
            },
            Field {
                name: "d".into(),
                offset: 1,
                ty: long_t,
                bits: Some(Bits {
                    offset: 1,
                    size: 40,
                }),
            },
        ];
        let ty = Type::new(
            "struct bits",
            8,
            TypeKind::Struct {
                aggregate: Aggregate::Struct,
                fields,
                variants: None,
                incomplete: false,
            },
        );
        let text = layout(&ty);
        assert!(text.contains("/* XXX  7-bit padding   */"), "{text}");
        assert!(text.contains("/* XXX  1-byte padding  */"), "{text}");
        assert!(!text.contains("2-byte padding"), "{text}");
    }
}

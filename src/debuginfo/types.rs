//! The type model: what a DWARF type says about the bytes of a value.
//!
//! Types are plain trees shared by `Arc`. A struct holds its fields by
//! value, so a tree is finite; a pointer names its target by [`TypeLink`]
//! and is resolved only when followed, which is what keeps a linked list
//! (`struct node { struct node *next; }`) from being a cycle.

use std::fmt;
use std::sync::Arc;

/// Where a type's DIE is: the unit's offset in `.debug_info` and the DIE's
/// offset in it. Unique within one debug file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DieRef {
    pub unit: usize,
    pub die: usize,
}

/// A pointer's target, named but not yet resolved.
#[derive(Clone, Debug)]
pub struct TypeLink {
    pub die: DieRef,
    pub name: String,
    /// The target itself, for a pointer type made outside the DWARF (a
    /// cast to `T **`); `die` is then [`DieRef::MADE`].
    pub known: Option<Arc<Type>>,
}

impl DieRef {
    /// The place of a type that no DIE describes.
    pub const MADE: DieRef = DieRef {
        unit: usize::MAX,
        die: usize::MAX,
    };
}

impl TypeLink {
    /// A link to a type already built.
    pub fn to(ty: Arc<Type>) -> TypeLink {
        TypeLink {
            die: DieRef::MADE,
            name: ty.name.clone(),
            known: Some(ty),
        }
    }
}

// Links are equal when they name the same DIE (or the same made type).
impl PartialEq for TypeLink {
    fn eq(&self, other: &TypeLink) -> bool {
        self.die == other.die
            && self.name == other.name
            && match (&self.known, &other.known) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
    }
}

impl Eq for TypeLink {}

/// How a base type's bytes are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseKind {
    Signed,
    Unsigned,
    Float,
    Bool,
    /// `char`, `signed char`: shown as a number and a character.
    SignedChar,
    UnsignedChar,
    /// A Rust `char` or a C `wchar_t`-like UTF-32 unit.
    Utf,
}

/// struct, class or union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Struct,
    Class,
    Union,
}

impl Aggregate {
    pub fn keyword(self) -> &'static str {
        match self {
            Aggregate::Struct => "struct",
            Aggregate::Class => "class",
            Aggregate::Union => "union",
        }
    }
}

/// A bitfield's bits within the bytes at its field's offset, counted from
/// the least significant bit of a little-endian load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bits {
    pub offset: u32,
    pub size: u32,
}

impl Bits {
    /// How many bytes from the field's offset hold these bits.
    pub fn span(self) -> u64 {
        u64::from((self.offset + self.size).div_ceil(8))
    }
}

/// A member of a struct, class or union.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// Byte offset from the start of the enclosing value.
    pub offset: u64,
    pub ty: Arc<Type>,
    pub bits: Option<Bits>,
}

/// One alternative of a variant part (a Rust enum's variant).
#[derive(Clone, Debug)]
pub struct Variant {
    /// The discriminant value that selects it; `None` for the default.
    pub discr_value: Option<u64>,
    pub fields: Vec<Field>,
}

/// A DWARF variant part: a discriminant member and the variants it selects.
#[derive(Clone, Debug)]
pub struct VariantPart {
    pub discr: Option<Field>,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug)]
pub enum TypeKind {
    Void,
    Base(BaseKind),
    Enum {
        signed: bool,
        enumerators: Vec<(String, i128)>,
    },
    Pointer {
        target: Option<TypeLink>,
    },
    Array {
        elem: Arc<Type>,
        /// `None` for a flexible or unknown bound (`int xs[]`).
        count: Option<u64>,
    },
    Struct {
        aggregate: Aggregate,
        fields: Vec<Field>,
        variants: Option<VariantPart>,
        /// A declaration only (`struct opaque;`): no fields known.
        incomplete: bool,
    },
    Typedef(Arc<Type>),
    Const(Arc<Type>),
    Volatile(Arc<Type>),
    /// C11 `_Atomic`: the same bytes as the type under it.
    Atomic(Arc<Type>),
    /// C99 `restrict` on a pointer: the pointer itself.
    Restrict(Arc<Type>),
    Function,
    /// A type pvtui does not model; its bytes are shown raw.
    Other,
}

/// A type: its name as C/C++/Rust spells it, its size and its shape.
#[derive(Clone, Debug)]
pub struct Type {
    pub name: String,
    pub size: u64,
    pub kind: TypeKind,
}

impl Type {
    pub fn new(name: impl Into<String>, size: u64, kind: TypeKind) -> Type {
        Type {
            name: name.into(),
            size,
            kind,
        }
    }

    /// `T *` for `target`, as a cast names it.
    pub fn pointer_to(target: Arc<Type>) -> Type {
        let name = if target.name.ends_with('*') {
            format!("{}*", target.name)
        } else {
            format!("{} *", target.name)
        };
        Type::new(
            name,
            8,
            TypeKind::Pointer {
                target: Some(TypeLink::to(target)),
            },
        )
    }

    /// `const T`; a pointer is made `T * const`, as C writes it.
    pub fn constant(target: Arc<Type>) -> Type {
        let name = if target.name.ends_with('*') {
            format!("{} const", target.name)
        } else {
            format!("const {}", target.name)
        };
        Type::new(name, target.byte_size(), TypeKind::Const(target))
    }

    /// The type under typedefs and qualifiers: what decides its layout.
    pub fn strip(&self) -> &Type {
        let mut ty = self;
        // Finite: each step goes one level down an owned tree.
        loop {
            match &ty.kind {
                TypeKind::Typedef(t)
                | TypeKind::Const(t)
                | TypeKind::Volatile(t)
                | TypeKind::Atomic(t)
                | TypeKind::Restrict(t) => ty = t,
                _ => return ty,
            }
        }
    }

    /// The byte size, with typedefs followed (a typedef's own size may be absent).
    pub fn byte_size(&self) -> u64 {
        let stripped = self.strip();
        match &stripped.kind {
            TypeKind::Array {
                elem,
                count: Some(n),
            } if stripped.size == 0 => elem.byte_size().saturating_mul(*n),
            _ => stripped.size,
        }
    }

    /// Whether this is a char-sized character type (for `char[N]` and `char *` strings).
    pub fn is_char(&self) -> bool {
        let t = self.strip();
        t.size == 1
            && matches!(
                t.kind,
                TypeKind::Base(BaseKind::SignedChar | BaseKind::UnsignedChar)
            )
    }

    /// The fields of a struct, class or union under typedefs.
    pub fn fields(&self) -> &[Field] {
        match &self.strip().kind {
            TypeKind::Struct { fields, .. } => fields,
            _ => &[],
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_types_made_by_a_cast_are_named_as_c_writes_them() {
        let node = Arc::new(Type::new("struct node", 16, TypeKind::Other));
        let p = Arc::new(Type::pointer_to(Arc::clone(&node)));
        let pc = Arc::new(Type::constant(Arc::clone(&p)));
        let pp = Type::pointer_to(pc);
        assert_eq!(p.name, "struct node *");
        assert_eq!(pp.name, "struct node * const *");
        let cc = Type::constant(Arc::new(Type::new("char", 1, TypeKind::Other)));
        assert_eq!(Type::pointer_to(Arc::new(cc)).name, "const char *");
        let TypeKind::Pointer { target: Some(link) } = &p.kind else {
            panic!("{p:?}")
        };
        assert!(link.known.as_ref().is_some_and(|t| Arc::ptr_eq(t, &node)));
    }
}

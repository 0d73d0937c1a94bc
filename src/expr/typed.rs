//! Typed evaluation: symbols with their debug-info types, and the C-like
//! steps (`.f`, `[i]`, `->f`, `*p`, `&x`, casts) folded into an address
//! computation once. Only the pointer hops are left to each tick, on the
//! same level-by-level reads as any `*` chain.

use std::sync::Arc;

use super::diagnostic::Diagnostic;
use super::node::{Bound, Indexed, Int, Node, add_offset, apply_int, binary};
use super::parse::{BinOp, Expr, SymbolName, TypeName};
use crate::debuginfo::{self, BaseKind, Bits, DebugFile, DebugInfo, Step, TypeKind};
use crate::process::{Maps, Region};
use crate::symbols::SymbolTable;

/// What the evaluator needs to resolve names.
pub(super) struct Scope<'a> {
    pub symbols: &'a SymbolTable,
    pub maps: &'a Maps,
    pub debug: Option<&'a DebugInfo>,
    /// Whether a bare symbol takes its debug-info type (not when `:type` overrides it).
    pub types: bool,
}

/// A value's type as its debug info gives it, and the file that defines it
/// (to follow its pointers to their targets).
#[derive(Clone, Debug)]
pub(super) struct Typed {
    pub ty: Arc<debuginfo::Type>,
    pub bits: Option<Bits>,
    pub file: Arc<DebugFile>,
}

/// A resolved (sub)expression.
pub(super) enum Operand {
    /// A plain address, as without debug info. `size` is a bare symbol's.
    Address { node: Node, size: Option<u64> },
    /// An object of a known type at the address `node` computes.
    Object { node: Node, typed: Typed },
    /// A pointer (`&x`, a cast): `node` computes its value.
    Pointer { node: Node, pointee: Typed },
}

type Res<T> = std::result::Result<T, Diagnostic>;

fn err(column: usize, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        column,
        message: message.into(),
    }
}

impl Operand {
    /// The address this operand stands for in byte arithmetic (`sym+8`).
    fn address(self) -> Node {
        match self {
            Operand::Address { node, .. }
            | Operand::Object { node, .. }
            | Operand::Pointer { node, .. } => node,
        }
    }
}

/// The mapping `[name]` names when it is an object counted in its own
/// offsets (a `/dev/shm` file, a memfd, a SysV segment, shared anonymous
/// memory, a data file): not an ELF module, whose `[module]+off` counts from
/// its first mapping as its symbols do, nor `[heap]`-like memory.
fn object_region<'a>(name: &str, scope: &Scope<'a>) -> Option<&'a Region> {
    let region = scope.maps.find_by_name(name)?;
    (region.is_file() && !scope.symbols.is_elf_at(region.start)).then_some(region)
}

/// Where byte `off` of the object behind `region` lies in this process, or
/// what it maps of it instead.
fn object_byte(
    name: &str,
    region: &Region,
    off: u64,
    column: usize,
    scope: &Scope<'_>,
) -> Res<u64> {
    scope.maps.object_byte(region, off).ok_or_else(|| {
        let mapped: Vec<String> = scope
            .maps
            .object_mappings(region)
            .map(|r| format!("{:#x}..{:#x}", r.offset, r.offset + (r.end - r.start)))
            .collect();
        err(
            column,
            format!(
                "byte {off:#x} of [{name}] is not mapped in this process (it maps bytes {})",
                mapped.join(", ")
            ),
        )
    })
}

pub(super) fn operand(expr: &Expr, scope: &Scope<'_>) -> Res<Operand> {
    Ok(match expr {
        Expr::Number(n) => Operand::Address {
            node: Node::Const(*n),
            size: None,
        },
        Expr::Region { name, column } => {
            if let Some(region) = object_region(name, scope) {
                return Ok(Operand::Address {
                    node: Node::Const(object_byte(name, region, 0, *column, scope)?),
                    size: None,
                });
            }
            // A mapping by its name, else a module by the name it was started as.
            let start = scope
                .maps
                .find_by_name(name)
                .map(|region| region.start)
                .or_else(|| scope.symbols.module_base(name))
                .ok_or_else(|| err(*column, format!("no mapping named {name}")))?;
            Operand::Address {
                node: Node::Const(start),
                size: None,
            }
        }
        Expr::Symbol(sym) => symbol(sym, scope)?,
        Expr::Deref(inner) => match operand(inner, scope)? {
            Operand::Object { node, typed } if is_pointer(&typed) => {
                let pointee = pointee(&typed, 0)?;
                Operand::Object {
                    node: Node::Deref(Box::new(node)),
                    typed: pointee,
                }
            }
            Operand::Pointer { node, pointee } => Operand::Object {
                node,
                typed: pointee,
            },
            // A struct or enum (a Rust `Option<Box<T>>` too) holds no address
            // to follow: an 8-byte read of it would be a number from nowhere.
            Operand::Object { typed, .. }
                if matches!(typed.ty.strip().kind, TypeKind::Struct { .. }) =>
            {
                return Err(err(
                    0,
                    format!(
                        "{} is not a pointer: '*' follows pointers (read a field that is one)",
                        typed.ty.name
                    ),
                ));
            }
            // Without a pointer type, today's 8-byte pointer read.
            other => Operand::Address {
                node: Node::Deref(Box::new(other.address())),
                size: None,
            },
        },
        Expr::Binary { op, left, right } => {
            // `[NAME]+off` of a file or shared-memory object: byte `off` of it.
            if *op == super::parse::BinOp::Add
                && let Expr::Region { name, column } = &**left
                && let Some(region) = object_region(name, scope)
            {
                let Node::Const(off) = operand(right, scope)?.address() else {
                    return Err(err(
                        *column,
                        format!("an offset into [{name}] must be a number, not a pointer read"),
                    ));
                };
                return Ok(Operand::Address {
                    node: Node::Const(object_byte(name, region, off, *column, scope)?),
                    size: None,
                });
            }
            let left = operand(left, scope)?.address();
            let right = operand(right, scope)?.address();
            Operand::Address {
                node: binary(*op, left, right)?,
                size: None,
            }
        }
        Expr::Field { base, name, column } => {
            let (node, typed) = object(operand(base, &typed_scope(scope))?, *column, "'.'")?;
            let (node, typed) = referred(node, typed, *column)?;
            step(node, &typed, Step::Field(name.clone()), *column)?
        }
        Expr::Index {
            base,
            index,
            column,
        } => {
            let index = index_value(index, scope, *column)?;
            match operand(base, &typed_scope(scope))? {
                Operand::Object { node, typed } if is_pointer(&typed) => {
                    let pointee = pointee(&typed, *column)?;
                    element(Node::Deref(Box::new(node)), index, pointee, None, *column)?
                }
                Operand::Pointer { node, pointee } => element(node, index, pointee, None, *column)?,
                other => {
                    let (node, typed) = object(other, *column, "'[i]'")?;
                    if typed.bits.is_some() {
                        return Err(err(*column, "a bitfield has no fields or elements"));
                    }
                    let TypeKind::Array { elem, count } = &typed.ty.strip().kind else {
                        return Err(err(*column, format!("{} is not an array", typed.ty.name)));
                    };
                    let bound = Bound::Array {
                        count: *count,
                        name: typed.ty.name.clone(),
                    };
                    let elem = Typed {
                        ty: Arc::clone(elem),
                        bits: None,
                        file: Arc::clone(&typed.file),
                    };
                    element(node, index, elem, Some(bound), *column)?
                }
            }
        }
        Expr::Arrow { base, name, column } => {
            let (node, typed) = match operand(base, &typed_scope(scope))? {
                Operand::Object { node, typed } if is_pointer(&typed) => {
                    (Node::Deref(Box::new(node)), pointee(&typed, *column)?)
                }
                Operand::Pointer { node, pointee } => (node, pointee),
                Operand::Object { typed, .. } => {
                    return Err(err(
                        *column,
                        format!("{} is not a pointer: use '.' for its fields", typed.ty.name),
                    ));
                }
                Operand::Address { .. } => {
                    return Err(err(
                        *column,
                        "'->' needs a pointer with a type: cast it, as in ((struct T *)ADDR)->f",
                    ));
                }
            };
            step(node, &typed, Step::Field(name.clone()), *column)?
        }
        Expr::AddressOf { expr, column } => match operand(expr, scope)? {
            Operand::Object { typed, .. } if typed.bits.is_some() => {
                return Err(err(*column, "a bitfield has no address"));
            }
            Operand::Object { node, typed } => Operand::Pointer {
                node,
                pointee: typed,
            },
            // `&&x`, `&(T *)X`: a value computed here, not stored in the target.
            Operand::Pointer { .. } => {
                return Err(err(
                    *column,
                    "an address made by & or a cast is not in memory: it has no address",
                ));
            }
            other => Operand::Address {
                node: other.address(),
                size: None,
            },
        },
        Expr::Cast { ty, expr } => {
            let value = pointer_value(operand(expr, scope)?, ty.column)?;
            // `(T **)X`: X points to a `T *`.
            let levels = ty.pointers.len().saturating_sub(1);
            Operand::Pointer {
                node: value,
                pointee: named_type(ty, levels, scope)?,
            }
        }
        Expr::View { expr, ty } => {
            let value = pointer_value(operand(expr, scope)?, ty.column)?;
            Operand::Object {
                node: value,
                typed: named_type(ty, ty.pointers.len(), scope)?,
            }
        }
    })
}

/// The scope for the base of `.f`, `[i]` and `->f`: it needs its debug-info
/// type even when the watch names one (`strs[1]:u64`), which applies to
/// the final place only.
fn typed_scope<'a>(scope: &Scope<'a>) -> Scope<'a> {
    Scope {
        types: true,
        ..*scope
    }
}

/// The address an operand points at, when it is used as an address value
/// (`(T *)X`, `X as T`): a number or address as it is, a typed pointer or
/// 8-byte integer read.
fn pointer_value(op: Operand, column: usize) -> Res<Node> {
    Ok(match op {
        Operand::Address { node, .. } | Operand::Pointer { node, .. } => node,
        // An array stands for its first element's address, as in C.
        Operand::Object { node, typed }
            if typed.bits.is_none() && matches!(typed.ty.strip().kind, TypeKind::Array { .. }) =>
        {
            node
        }
        Operand::Object { node, typed } => {
            let t = typed.ty.strip();
            let integer = matches!(
                t.kind,
                TypeKind::Pointer { .. } | TypeKind::Base(_) | TypeKind::Enum { .. }
            );
            if !integer || t.size != 8 || typed.bits.is_some() {
                return Err(err(
                    column,
                    format!(
                        "{} is not an address: take its address with &",
                        typed.ty.name
                    ),
                ));
            }
            Node::Deref(Box::new(node))
        }
    })
}

fn object(op: Operand, column: usize, what: &str) -> Res<(Node, Typed)> {
    match op {
        Operand::Object { node, typed } => Ok((node, typed)),
        Operand::Pointer { pointee, .. } => Err(err(
            column,
            format!(
                "this is a pointer to {}: use '->' (or '*') before {what}",
                pointee.ty.name
            ),
        )),
        Operand::Address { .. } => Err(err(
            column,
            format!("{what} needs a value with a type (a variable with debug info, or a cast)"),
        )),
    }
}

/// One `.field` or `[index]` step inside an object: a constant offset.
fn step(node: Node, typed: &Typed, step: Step, column: usize) -> Res<Operand> {
    if typed.bits.is_some() {
        return Err(err(column, "a bitfield has no fields or elements"));
    }
    let place =
        debuginfo::resolve(&typed.ty, std::slice::from_ref(&step)).map_err(|e| err(column, e.0))?;
    Ok(Operand::Object {
        node: add_offset(node, place.offset, column)?,
        typed: Typed {
            ty: place.ty,
            bits: place.bits,
            file: Arc::clone(&typed.file),
        },
    })
}

/// The element `index` of the array (`bound` given) or at the pointer
/// (`bound` none) at `base`: a constant offset when the index is a
/// constant, else an index read each tick.
fn element(
    base: Node,
    index: Int,
    elem: Typed,
    bound: Option<Bound>,
    column: usize,
) -> Res<Operand> {
    let scale = elem.ty.byte_size();
    let node = match (index, bound) {
        (Int::Const(i), Some(bound)) => {
            bound.check(i).map_err(|why| err(column, why))?;
            let offset = u64::try_from(i)
                .ok()
                .and_then(|i| i.checked_mul(scale))
                .ok_or_else(|| err(column, "the index overflows the address space"))?;
            add_offset(base, offset, column)?
        }
        (Int::Const(i), None) => {
            let offset = i
                .checked_mul(i128::from(scale))
                .ok_or_else(|| err(column, "the index overflows the address space"))?;
            let (op, magnitude) = if offset < 0 {
                (BinOp::Sub, offset.unsigned_abs())
            } else {
                (BinOp::Add, offset.unsigned_abs())
            };
            let magnitude = u64::try_from(magnitude)
                .map_err(|_| err(column, "the index overflows the address space"))?;
            if magnitude == 0 {
                base
            } else {
                binary(op, base, Node::Const(magnitude)).map_err(|mut e| {
                    e.column = column;
                    e
                })?
            }
        }
        (index, bound) => Node::Index(Box::new(Indexed {
            base,
            index,
            scale,
            bound: bound.unwrap_or(Bound::Pointer),
        })),
    };
    Ok(Operand::Object { node, typed: elem })
}

/// An index: integer arithmetic on numbers and the values of typed integer
/// variables (read each tick), folded where constant.
fn index_value(expr: &Expr, scope: &Scope<'_>, column: usize) -> Res<Int> {
    match expr {
        Expr::Number(n) => Ok(Int::Const(i128::from(*n))),
        Expr::Binary { op, left, right } => {
            let l = index_value(left, scope, column)?;
            let r = index_value(right, scope, column)?;
            Ok(match (l, r) {
                (Int::Const(a), Int::Const(b)) => Int::Const(
                    apply_int(*op, a, b)
                        .ok_or_else(|| err(column, "the index arithmetic overflows"))?,
                ),
                (l, r) => Int::Binary(*op, Box::new(l), Box::new(r)),
            })
        }
        _ => {
            // A variable in an index is a value: it takes its type whatever
            // the watch's own `:type` says.
            let typed_scope = Scope {
                symbols: scope.symbols,
                maps: scope.maps,
                debug: scope.debug,
                types: true,
            };
            let needs = || {
                err(
                    column,
                    format!(
                        "the index {expr} is not an integer: an index is numbers and variables \
                         with an integer type"
                    ),
                )
            };
            let Operand::Object { node, typed } = operand(expr, &typed_scope)? else {
                return Err(needs());
            };
            let t = typed.ty.strip();
            let signed = match t.kind {
                TypeKind::Base(BaseKind::Signed | BaseKind::SignedChar) => true,
                TypeKind::Base(
                    BaseKind::Unsigned | BaseKind::UnsignedChar | BaseKind::Bool | BaseKind::Utf,
                ) => false,
                TypeKind::Enum { signed, .. } => signed,
                _ => return Err(needs()),
            };
            let (size, bits) = match typed.bits {
                // A bitfield reads the bytes its bits span.
                Some(b) if b.span() <= 8 && b.offset < 8 && b.size <= 64 => {
                    (b.span() as u8, Some((b.offset as u8, b.size as u8)))
                }
                Some(_) => return Err(err(column, "this bitfield spans more than 8 bytes")),
                None => match t.byte_size() {
                    n @ (1 | 2 | 4 | 8) => (n as u8, None),
                    _ => return Err(needs()),
                },
            };
            Ok(Int::Load {
                at: node,
                size,
                signed,
                bits,
            })
        }
    }
}

fn is_pointer(typed: &Typed) -> bool {
    typed.bits.is_none() && matches!(typed.ty.strip().kind, TypeKind::Pointer { .. })
}

/// A C++ reference (`T &`, `T &&`) stands for what it refers to, as in
/// gdb: `ref.field` reads through it. Anything else is itself.
fn referred(node: Node, typed: Typed, column: usize) -> Res<(Node, Typed)> {
    // In memory a pointer; only its name (`T &`) tells it from one.
    if is_pointer(&typed) && typed.ty.strip().name.ends_with('&') {
        Ok((Node::Deref(Box::new(node)), pointee(&typed, column)?))
    } else {
        Ok((node, typed))
    }
}

/// What a typed pointer points to.
fn pointee(typed: &Typed, column: usize) -> Res<Typed> {
    let TypeKind::Pointer { target } = &typed.ty.strip().kind else {
        return Err(err(column, format!("{} is not a pointer", typed.ty.name)));
    };
    if typed.ty.byte_size() != 8 {
        return Err(err(
            column,
            format!("{} is not an 8-byte pointer", typed.ty.name),
        ));
    }
    let Some(link) = target else {
        return Err(err(
            column,
            format!(
                "{} points to no type: cast it, as in (struct T *)",
                typed.ty.name
            ),
        ));
    };
    let ty = match &link.known {
        Some(known) => Arc::clone(known),
        None => typed.file.resolve(link).map_err(|e| err(column, e.0))?,
    };
    Ok(Typed {
        ty,
        bits: None,
        file: Arc::clone(&typed.file),
    })
}

/// The type `ty` names, with its first `levels` pointers.
fn named_type(ty: &TypeName, levels: usize, scope: &Scope<'_>) -> Res<Typed> {
    let mut typed = base_type(ty, scope)?;
    if ty.constant {
        typed.ty = Arc::new(debuginfo::Type::constant(typed.ty));
    }
    for constant in ty.pointers.iter().take(levels) {
        typed.ty = Arc::new(debuginfo::Type::pointer_to(typed.ty));
        if *constant {
            typed.ty = Arc::new(debuginfo::Type::constant(typed.ty));
        }
    }
    Ok(typed)
}

fn base_type(ty: &TypeName, scope: &Scope<'_>) -> Res<Typed> {
    let debug = scope
        .debug
        .ok_or_else(|| err(ty.column, "types need debug info, which is not loaded here"))?;
    let (module, name) = match ty.name.split_once('!') {
        Some((m, n)) => (Some(m), n),
        None => (None, ty.name.as_str()),
    };
    let (_, file, found) = debug
        .type_in(module, name)
        .map_err(|e| err(ty.column, e.0))?;
    Ok(Typed {
        ty: found,
        bits: None,
        file,
    })
}

/// A symbol: by its ELF symbol (and then its debug-info type, when there is
/// one and none was given); a dotted name no symbol has is a variable and
/// its fields (`hero.pos.x`).
fn symbol(sym: &SymbolName, scope: &Scope<'_>) -> Res<Operand> {
    let module = sym.module.as_deref();
    if let Some((head, rest)) = split_fields(&sym.name) {
        // A symbol whose name holds a '.' (`counter.0`) wins; then fields.
        if let Some(found) = scope.symbols.find_qualified(module, &sym.name) {
            return Ok(Operand::Address {
                node: Node::Const(found.addr),
                size: Some(found.size),
            });
        }
        let base = SymbolName {
            module: sym.module.clone(),
            name: head.to_string(),
            column: sym.column,
        };
        let (mut node, mut typed) = match variable(&base, scope, true)? {
            Operand::Object { node, typed } => (node, typed),
            _ => return Err(err(sym.column, "no debug info")),
        };
        let mut column = sym.column + head.len();
        for field in rest.split('.') {
            (node, typed) = referred(node, typed, column)?;
            let Operand::Object { node: n, typed: t } =
                step(node, &typed, Step::Field(field.to_string()), column)?
            else {
                return Err(err(column, "no field"));
            };
            (node, typed) = (n, t);
            column += field.len() + 1;
        }
        return Ok(Operand::Object { node, typed });
    }
    variable(sym, scope, false)
}

/// `a.b.c` as `a` and `b.c` (`ns::a.b` as `ns::a` and `b`), when every
/// part is a plain name.
fn split_fields(name: &str) -> Option<(&str, &str)> {
    let (head, rest) = name.split_once('.')?;
    let plain = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (head.split("::").all(plain) && rest.split('.').all(plain)).then_some((head, rest))
}

/// A variable: its ELF symbol, with its debug-info type when the scope
/// wants types or the caller `needs` one (then missing debug info is an
/// error that says where pvtui looked).
fn variable(sym: &SymbolName, scope: &Scope<'_>, needs: bool) -> Res<Operand> {
    let module = sym.module.as_deref();
    let found = scope.symbols.lookup_qualified(module, &sym.name);
    let debug = match scope.debug {
        Some(debug) if needs || scope.types => debug,
        _ if needs => {
            return Err(err(
                sym.column,
                "fields need debug info, which is not loaded here",
            ));
        }
        _ => {
            let found = found.map_err(|e| err(sym.column, e.to_string()))?;
            return Ok(Operand::Address {
                node: Node::Const(found.addr),
                size: Some(found.size),
            });
        }
    };
    let object = |var: debuginfo::LiveVariable| Operand::Object {
        node: Node::Const(var.addr),
        typed: Typed {
            ty: var.ty,
            bits: None,
            file: var.file,
        },
    };
    match found {
        Ok(found) => match debug.variable(Some(&found.module), &sym.name) {
            Ok(var) if var.addr == found.addr => Ok(object(var)),
            Ok(var) if needs => Err(err(
                sym.column,
                format!(
                    "the debug info puts {} at {:#x}, its symbol at {:#x}",
                    sym.name, var.addr, found.addr
                ),
            )),
            Err(e) if needs => Err(err(sym.column, e.0)),
            // No type: the symbol as an address, as without debug info.
            _ => Ok(Operand::Address {
                node: Node::Const(found.addr),
                size: Some(found.size),
            }),
        },
        // A static the symbol table does not name, but the debug info does.
        Err(e) => match debug.variable(module, &sym.name) {
            Ok(var) => Ok(object(var)),
            // Found, but not where a symbol could say: the debug info says why.
            Err(d) if debuginfo::is_thread_local(&d) || debuginfo::is_ambiguous(&d) => {
                Err(err(sym.column, d.0))
            }
            Err(_) => Err(err(sym.column, e.to_string())),
        },
    }
}

/// The named fields of the value `expr` names (of what it points to when
/// `arrow`), each with its type's name: what completes after `.` or `->`.
pub fn fields_of(
    expr: &Expr,
    arrow: bool,
    symbols: &SymbolTable,
    maps: &Maps,
    debug: &DebugInfo,
) -> Res<Vec<(String, String)>> {
    let scope = Scope {
        symbols,
        maps,
        debug: Some(debug),
        types: true,
    };
    let typed = match operand(expr, &scope)? {
        Operand::Object { typed, .. } if arrow => pointee(&typed, 0)?,
        Operand::Object { typed, .. } => typed,
        Operand::Pointer { pointee, .. } => pointee,
        Operand::Address { .. } => return Err(err(0, "no type known here")),
    };
    Ok(typed
        .ty
        .fields()
        .iter()
        .filter(|f| !f.name.is_empty())
        .map(|f| (f.name.clone(), f.ty.name.clone()))
        .collect())
}

//! DIEs to [`Type`]s. Every walk is bounded: types nest at most
//! [`MAX_DEPTH`] deep (a struct that contains itself by value, which only
//! corrupt DWARF can say, ends there), names likewise, and arrays' counts
//! are checked against overflow.

use std::collections::HashMap;
use std::sync::Arc;

use gimli::{AttributeValue, DebuggingInformationEntry, Unit, UnitOffset};

use super::address::{find_variable, is_thread_local, location_addr};
use super::file::{DResult, DebugError, DebugFile, R, Variable};
use super::types::{
    Aggregate, BaseKind, Bits, DieRef, Field, Type, TypeKind, TypeLink, Variant, VariantPart,
};

const MAX_DEPTH: usize = 48;
/// Members, enumerators or variants read from one DIE at most.
const MAX_CHILDREN: usize = 1 << 16;

pub(super) struct Builder<'f, 'd> {
    file: &'f DebugFile,
    dwarf: &'d gimli::Dwarf<R<'f>>,
    units: HashMap<usize, Unit<R<'f>>>,
    unit_starts: Option<Vec<usize>>,
}

impl<'f, 'd> Builder<'f, 'd> {
    pub fn new(file: &'f DebugFile, dwarf: &'d gimli::Dwarf<R<'f>>) -> Builder<'f, 'd> {
        Builder {
            file,
            dwarf,
            units: HashMap::new(),
            unit_starts: None,
        }
    }

    fn unit(&mut self, off: usize) -> DResult<&Unit<R<'f>>> {
        if !self.units.contains_key(&off) {
            let unit = self
                .file
                .unit_at(self.dwarf, off)?
                .ok_or_else(|| DebugError(format!("no unit at {off:#x}")))?;
            self.units.insert(off, unit);
        }
        self.units
            .get(&off)
            .ok_or_else(|| DebugError("unit vanished".into()))
    }

    /// The unit holding a `.debug_info` offset (a reference across units).
    fn unit_of(&mut self, info_off: usize) -> DResult<Option<DieRef>> {
        if self.unit_starts.is_none() {
            self.unit_starts = Some(self.file.unit_starts()?);
        }
        let starts = self.unit_starts.as_deref().unwrap_or_default();
        let i = starts.partition_point(|s| *s <= info_off);
        Ok(i.checked_sub(1).map(|i| DieRef {
            unit: starts[i],
            die: info_off - starts[i],
        }))
    }

    fn with_entry<T>(
        &mut self,
        die: DieRef,
        f: impl for<'u> FnOnce(
            &'d gimli::Dwarf<R<'f>>,
            &'u Unit<R<'f>>,
            &DebuggingInformationEntry<'u, 'u, R<'f>>,
        ) -> DResult<T>,
    ) -> DResult<T> {
        let dwarf = self.dwarf;
        let unit = self.unit(die.unit)?;
        let entry = unit.entry(UnitOffset(die.die))?;
        f(dwarf, unit, &entry)
    }

    /// Where a reference attribute points.
    fn reference(&mut self, from: DieRef, v: AttributeValue<R<'f>>) -> DResult<Option<DieRef>> {
        match v {
            AttributeValue::UnitRef(o) => Ok(Some(DieRef {
                unit: from.unit,
                die: o.0,
            })),
            AttributeValue::DebugInfoRef(o) => self.unit_of(o.0),
            _ => Ok(None),
        }
    }

    fn type_ref(&mut self, die: DieRef) -> DResult<Option<DieRef>> {
        let v = self.with_entry(die, |_, _, e| Ok(e.attr_value(gimli::DW_AT_type)?))?;
        match v {
            Some(v) => self.reference(die, v),
            None => Ok(None),
        }
    }

    pub fn is_declaration(&mut self, die: DieRef) -> DResult<bool> {
        self.with_entry(die, |_, _, e| {
            Ok(matches!(
                e.attr_value(gimli::DW_AT_declaration)?,
                Some(AttributeValue::Flag(true))
            ))
        })
    }

    /// Whether the DIE's tag is the one `struct`/`class`/`union`/`enum` names.
    pub fn has_keyword(&mut self, die: DieRef, keyword: &str) -> DResult<bool> {
        let tag = self.with_entry(die, |_, _, e| Ok(e.tag()))?;
        Ok(match keyword {
            "struct" => matches!(tag, gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type),
            "class" => matches!(tag, gimli::DW_TAG_class_type | gimli::DW_TAG_structure_type),
            "union" => tag == gimli::DW_TAG_union_type,
            "enum" => tag == gimli::DW_TAG_enumeration_type,
            _ => false,
        })
    }

    fn is_c(&mut self, unit_off: usize) -> DResult<bool> {
        let unit = self.unit(unit_off)?;
        let lang = unit
            .entries()
            .next_dfs()?
            .and_then(|(_, e)| e.attr_value(gimli::DW_AT_language).ok().flatten());
        Ok(matches!(
            lang,
            Some(AttributeValue::Language(
                gimli::DW_LANG_C
                    | gimli::DW_LANG_C89
                    | gimli::DW_LANG_C99
                    | gimli::DW_LANG_C11
                    | gimli::DW_LANG_C17
            ))
        ))
    }

    /// The variable at `die`, named `name` for the caller.
    pub fn variable(&mut self, die: DieRef, name: &str) -> DResult<Variable> {
        let (link_addr, thread_local, spec) = self.with_entry(die, |dwarf, unit, e| {
            let addr = location_addr(dwarf, unit, e)?;
            Ok((
                addr,
                is_thread_local(unit, e)?,
                e.attr_value(gimli::DW_AT_specification)?,
            ))
        })?;
        let mut ty_die = self.type_ref(die)?;
        if ty_die.is_none() {
            if let Some(spec) = spec {
                if let Some(s) = self.reference(die, spec)? {
                    ty_die = self.type_ref(s)?;
                }
            }
        }
        let ty = match ty_die {
            Some(t) => self.type_at(t, 0)?,
            None => Arc::new(Type::new("void", 0, TypeKind::Void)),
        };
        Ok(Variable {
            name: name.to_string(),
            link_addr,
            ty,
            thread_local,
        })
    }

    /// The variable named `name` (or whose linkage name is `name`) at
    /// `addr` in one unit: the lookup `.debug_aranges` makes cheap.
    pub fn variable_in_unit(
        &mut self,
        unit_off: usize,
        name: &str,
        link: &str,
        addr: u64,
    ) -> DResult<Option<Variable>> {
        let found = {
            let dwarf = self.dwarf;
            let unit = self.unit(unit_off)?;
            let mut tree = unit.entries_tree(None)?;
            let root = tree.root()?;
            find_variable(dwarf, unit, root, &[name, link], addr, 0)?
        };
        match found {
            Some(die) => self
                .variable(
                    DieRef {
                        unit: unit_off,
                        die,
                    },
                    name,
                )
                .map(Some),
            None => Ok(None),
        }
    }

    /// The type at `die`, built once per file.
    pub fn type_at(&mut self, die: DieRef, depth: usize) -> DResult<Arc<Type>> {
        if let Some(t) = self.cached(die) {
            return Ok(t);
        }
        if depth > MAX_DEPTH {
            return Err(DebugError(format!(
                "types nest more than {MAX_DEPTH} deep at DIE {:#x}: corrupt or cyclic DWARF",
                die.unit + die.die
            )));
        }
        let ty = Arc::new(self.build(die, depth)?);
        if let Ok(mut cache) = self.file.types.lock() {
            cache.insert(die, Arc::clone(&ty));
        }
        Ok(ty)
    }

    fn cached(&self, die: DieRef) -> Option<Arc<Type>> {
        self.file.types.lock().ok()?.get(&die).cloned()
    }

    fn inner(&mut self, die: DieRef, depth: usize) -> DResult<Arc<Type>> {
        match self.type_ref(die)? {
            Some(t) => self.type_at(t, depth + 1),
            None => Ok(Arc::new(Type::new("void", 0, TypeKind::Void))),
        }
    }

    fn build(&mut self, die: DieRef, depth: usize) -> DResult<Type> {
        let (tag, name, size, encoding) = self.with_entry(die, |dwarf, unit, e| {
            let size = e
                .attr_value(gimli::DW_AT_byte_size)?
                .and_then(|v| v.udata_value())
                .unwrap_or(0);
            let enc = match e.attr_value(gimli::DW_AT_encoding)? {
                Some(AttributeValue::Encoding(enc)) => Some(enc),
                _ => None,
            };
            Ok((e.tag(), name(dwarf, unit, e)?, size, enc))
        })?;
        Ok(match tag {
            gimli::DW_TAG_base_type => {
                let kind = match encoding {
                    Some(gimli::DW_ATE_signed) => BaseKind::Signed,
                    Some(gimli::DW_ATE_unsigned) => BaseKind::Unsigned,
                    Some(gimli::DW_ATE_float) => BaseKind::Float,
                    Some(gimli::DW_ATE_boolean) => BaseKind::Bool,
                    Some(gimli::DW_ATE_signed_char) => BaseKind::SignedChar,
                    Some(gimli::DW_ATE_unsigned_char) => BaseKind::UnsignedChar,
                    Some(gimli::DW_ATE_UTF) if size == 4 => BaseKind::Utf,
                    Some(gimli::DW_ATE_UTF) => BaseKind::Unsigned,
                    Some(gimli::DW_ATE_complex_float) => {
                        return Ok(super::complex::complex(name, size));
                    }
                    _ => return Ok(Type::new(name.unwrap_or_default(), size, TypeKind::Other)),
                };
                let valid = match kind {
                    // A `long double` on x86-64 is x87 extended, in 16 bytes.
                    BaseKind::Float => {
                        matches!(size, 4 | 8)
                            || (size == 16
                                && cfg!(target_arch = "x86_64")
                                && name.as_deref() == Some("long double"))
                    }
                    _ => matches!(size, 1 | 2 | 4 | 8 | 16),
                };
                let kind = if valid {
                    TypeKind::Base(kind)
                } else {
                    TypeKind::Other
                };
                Type::new(name.unwrap_or_default(), size, kind)
            }
            gimli::DW_TAG_typedef => {
                let target = self.inner(die, depth)?;
                let size = target.byte_size();
                Type::new(
                    self.tagged_name(die, tag, name)?,
                    size,
                    TypeKind::Typedef(target),
                )
            }
            gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_atomic_type
            | gimli::DW_TAG_restrict_type => {
                let target = self.inner(die, depth)?;
                let size = target.byte_size();
                let name = qualified(tag, &target.name);
                let kind = match tag {
                    gimli::DW_TAG_const_type => TypeKind::Const(target),
                    gimli::DW_TAG_volatile_type => TypeKind::Volatile(target),
                    gimli::DW_TAG_atomic_type => TypeKind::Atomic(target),
                    _ => TypeKind::Restrict(target),
                };
                Type::new(name, size, kind)
            }
            gimli::DW_TAG_pointer_type
            | gimli::DW_TAG_reference_type
            | gimli::DW_TAG_rvalue_reference_type => {
                let target = self.type_ref(die)?;
                let target_name = match target {
                    Some(t) => self.type_name(t, 0)?,
                    None => "void".to_string(),
                };
                let sigil = match tag {
                    gimli::DW_TAG_pointer_type => " *",
                    gimli::DW_TAG_reference_type => " &",
                    _ => " &&",
                };
                let size = if size == 0 { 8 } else { size };
                Type::new(
                    name.unwrap_or_else(|| format!("{target_name}{sigil}")),
                    size,
                    TypeKind::Pointer {
                        target: target.map(|die| TypeLink {
                            die,
                            name: target_name,
                            known: None,
                        }),
                    },
                )
            }
            gimli::DW_TAG_array_type => self.array(die, depth)?,
            gimli::DW_TAG_enumeration_type => self.enumeration(die, name, size, depth)?,
            gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type | gimli::DW_TAG_union_type => {
                self.aggregate(die, tag, name, size, depth)?
            }
            gimli::DW_TAG_subroutine_type => Type::new("function", 0, TypeKind::Function),
            gimli::DW_TAG_unspecified_type => {
                Type::new(name.unwrap_or_else(|| "void".into()), 0, TypeKind::Void)
            }
            _ => Type::new(name.unwrap_or_else(|| "?".into()), size, TypeKind::Other),
        })
    }

    /// A type's name without building it (for a pointer's target).
    fn type_name(&mut self, die: DieRef, depth: usize) -> DResult<String> {
        if let Some(t) = self.cached(die) {
            return Ok(t.name.clone());
        }
        if depth > MAX_DEPTH {
            return Ok("?".into());
        }
        let (tag, name) =
            self.with_entry(die, |dwarf, unit, e| Ok((e.tag(), name(dwarf, unit, e)?)))?;
        let inner = |b: &mut Self| -> DResult<String> {
            match b.type_ref(die)? {
                Some(t) => b.type_name(t, depth + 1),
                None => Ok("void".into()),
            }
        };
        Ok(match tag {
            gimli::DW_TAG_pointer_type => match name {
                Some(n) => n,
                None => format!("{} *", inner(self)?),
            },
            gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_atomic_type
            | gimli::DW_TAG_restrict_type => qualified(tag, &inner(self)?),
            gimli::DW_TAG_array_type => format!("{}[]", inner(self)?),
            gimli::DW_TAG_subroutine_type => "function".into(),
            _ => self.tagged_name(die, tag, name)?,
        })
    }

    /// `struct x` in C, `x` in C++ and Rust; `<anonymous>` when unnamed.
    fn tagged_name(
        &mut self,
        die: DieRef,
        tag: gimli::DwTag,
        name: Option<String>,
    ) -> DResult<String> {
        let keyword = match tag {
            gimli::DW_TAG_structure_type => "struct",
            gimli::DW_TAG_class_type => "class",
            gimli::DW_TAG_union_type => "union",
            gimli::DW_TAG_enumeration_type => "enum",
            gimli::DW_TAG_typedef => "",
            _ => return Ok(name.unwrap_or_else(|| "?".into())),
        };
        let (dwarf, c) = (self.dwarf, self.is_c(die.unit)?);
        Ok(match name {
            Some(n) if c && keyword.is_empty() => n,
            Some(n) if c => format!("{keyword} {n}"),
            // C++ and Rust: with the scopes around it, as gdb names it.
            Some(n) => super::scope::qualify(dwarf, self.unit(die.unit)?, die.die, n)?,
            None if keyword.is_empty() => String::new(),
            None => format!("{keyword} {{...}}"),
        })
    }

    fn array(&mut self, die: DieRef, depth: usize) -> DResult<Type> {
        let elem = self.inner(die, depth)?;
        let mut dims: Vec<Option<u64>> = Vec::new();
        self.each_child(die, |_, _, e| {
            if e.tag() != gimli::DW_TAG_subrange_type {
                return Ok(());
            }
            if dims.len() >= 32 {
                return Err(DebugError("array with more than 32 dimensions".into()));
            }
            let count = match e
                .attr_value(gimli::DW_AT_count)?
                .and_then(|v| v.udata_value())
            {
                Some(c) => Some(c),
                None => {
                    let lower = e
                        .attr_value(gimli::DW_AT_lower_bound)?
                        .and_then(|v| v.udata_value())
                        .unwrap_or(0);
                    match e.attr_value(gimli::DW_AT_upper_bound)? {
                        Some(v) => match v.udata_value() {
                            // An upper bound of -1 (all ones) means "no elements".
                            Some(u) if u == u64::MAX || u32::try_from(u) == Ok(u32::MAX) => Some(0),
                            Some(u) => u.checked_sub(lower).and_then(|d| d.checked_add(1)),
                            None => None,
                        },
                        None => None,
                    }
                }
            };
            dims.push(count);
            Ok(())
        })?;
        if dims.is_empty() {
            dims.push(None);
        }
        let mut ty = elem;
        for count in dims.into_iter().rev() {
            let size = match count {
                Some(n) => ty.byte_size().checked_mul(n).ok_or_else(|| {
                    DebugError(format!("array of {n} × {} bytes overflows", ty.byte_size()))
                })?,
                None => 0,
            };
            let name = array_name(&ty.name, count);
            ty = Arc::new(Type::new(name, size, TypeKind::Array { elem: ty, count }));
        }
        Arc::try_unwrap(ty).or_else(|arc| Ok((*arc).clone()))
    }

    fn enumeration(
        &mut self,
        die: DieRef,
        name: Option<String>,
        size: u64,
        depth: usize,
    ) -> DResult<Type> {
        let signed = match self.type_ref(die)? {
            Some(t) => matches!(
                self.type_at(t, depth + 1)?.strip().kind,
                TypeKind::Base(BaseKind::Signed | BaseKind::SignedChar)
            ),
            None => true,
        };
        let mut enumerators = Vec::new();
        self.each_child(die, |dwarf, unit, e| {
            if e.tag() != gimli::DW_TAG_enumerator || enumerators.len() >= MAX_CHILDREN {
                return Ok(());
            }
            let n = match e.attr_value(gimli::DW_AT_name)? {
                Some(v) => string(dwarf, unit, v)?,
                None => return Ok(()),
            };
            let value = match e.attr_value(gimli::DW_AT_const_value)? {
                Some(AttributeValue::Sdata(v)) => i128::from(v),
                Some(AttributeValue::Udata(v)) => i128::from(v),
                Some(v) => match v.udata_value() {
                    Some(u) if signed => i128::from(sign_extend(u, size)),
                    Some(u) => i128::from(u),
                    None => return Ok(()),
                },
                None => return Ok(()),
            };
            enumerators.push((n, value));
            Ok(())
        })?;
        let ty_name = self.tagged_name(die, gimli::DW_TAG_enumeration_type, name)?;
        Ok(Type::new(
            ty_name,
            size,
            TypeKind::Enum {
                signed,
                enumerators,
            },
        ))
    }

    fn aggregate(
        &mut self,
        die: DieRef,
        tag: gimli::DwTag,
        name: Option<String>,
        size: u64,
        depth: usize,
    ) -> DResult<Type> {
        let aggregate = match tag {
            gimli::DW_TAG_class_type => Aggregate::Class,
            gimli::DW_TAG_union_type => Aggregate::Union,
            _ => Aggregate::Struct,
        };
        let incomplete = self.is_declaration(die)?;
        let ty_name = self.tagged_name(die, tag, name)?;
        let fields = self.members(die, depth)?;
        let variants = self.variant_part(die, depth)?;
        Ok(Type::new(
            ty_name,
            size,
            TypeKind::Struct {
                aggregate,
                fields,
                variants,
                incomplete,
            },
        ))
    }

    /// The DIE offsets of `die`'s children with one of `tags`.
    fn children(&mut self, die: DieRef, tags: &[gimli::DwTag]) -> DResult<Vec<DieRef>> {
        let mut out = Vec::new();
        self.each_child(die, |_, _, e| {
            if tags.contains(&e.tag()) {
                if out.len() >= MAX_CHILDREN {
                    return Err(DebugError("a type with more than 65536 members".into()));
                }
                out.push(DieRef {
                    unit: die.unit,
                    die: e.offset().0,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` on each child entry of `die` in order; the first error ends the walk.
    fn each_child(
        &mut self,
        die: DieRef,
        mut f: impl for<'u> FnMut(
            &'d gimli::Dwarf<R<'f>>,
            &'u Unit<R<'f>>,
            &DebuggingInformationEntry<'u, 'u, R<'f>>,
        ) -> DResult<()>,
    ) -> DResult<()> {
        let dwarf = self.dwarf;
        let unit = self.unit(die.unit)?;
        let mut tree = unit.entries_tree(Some(UnitOffset(die.die)))?;
        let root = tree.root()?;
        let mut children = root.children();
        while let Some(child) = children.next()? {
            f(dwarf, unit, child.entry())?;
        }
        Ok(())
    }

    fn members(&mut self, die: DieRef, depth: usize) -> DResult<Vec<Field>> {
        let mut fields = Vec::new();
        for member in self.children(die, &[gimli::DW_TAG_member, gimli::DW_TAG_inheritance])? {
            if let Some(f) = self.field(member, depth)? {
                fields.push(f);
            }
        }
        Ok(fields)
    }

    fn field(&mut self, member: DieRef, depth: usize) -> DResult<Option<Field>> {
        struct Raw {
            name: Option<String>,
            tag: gimli::DwTag,
            location: Option<u64>,
            is_static: bool,
            data_bit_offset: Option<u64>,
            bit_offset: Option<u64>,
            bit_size: Option<u64>,
            byte_size: Option<u64>,
        }
        let raw = self.with_entry(member, |dwarf, unit, e| {
            let location = match e.attr_value(gimli::DW_AT_data_member_location)? {
                Some(AttributeValue::Exprloc(expr)) => plus_uconst(expr.0.slice()),
                Some(v) => v.udata_value(),
                None => None,
            };
            let udata = |at| -> DResult<Option<u64>> {
                Ok(e.attr_value(at)?.and_then(|v| v.udata_value()))
            };
            Ok(Raw {
                name: name(dwarf, unit, e)?,
                tag: e.tag(),
                location,
                is_static: e.attr_value(gimli::DW_AT_external)?.is_some()
                    || (e.attr_value(gimli::DW_AT_declaration)?.is_some()
                        && e.attr_value(gimli::DW_AT_data_member_location)?.is_none()),
                data_bit_offset: udata(gimli::DW_AT_data_bit_offset)?,
                bit_offset: udata(gimli::DW_AT_bit_offset)?,
                bit_size: udata(gimli::DW_AT_bit_size)?,
                byte_size: udata(gimli::DW_AT_byte_size)?,
            })
        })?;
        if raw.is_static {
            return Ok(None);
        }
        let ty = self.inner(member, depth)?;
        let name = match (raw.name, raw.tag) {
            (Some(n), _) => n,
            (None, gimli::DW_TAG_inheritance) => ty.name.clone(),
            (None, _) => String::new(),
        };
        let loc = raw.location.unwrap_or(0);
        let too_big = || DebugError(format!("field {name:?}: bit offset out of range"));
        let total_bits = match (raw.bit_size, raw.data_bit_offset, raw.bit_offset) {
            (Some(_), Some(dbo), _) => Some(
                loc.checked_mul(8)
                    .and_then(|b| b.checked_add(dbo))
                    .ok_or_else(too_big)?,
            ),
            (Some(size), None, Some(bo)) => {
                // DWARF 2/3: counted from the most significant bit of the
                // storage unit; turned around for a little-endian load.
                let storage = raw.byte_size.unwrap_or_else(|| ty.byte_size());
                let lsb = storage
                    .checked_mul(8)
                    .and_then(|b| b.checked_sub(bo))
                    .and_then(|b| b.checked_sub(size))
                    .ok_or_else(too_big)?;
                Some(
                    loc.checked_mul(8)
                        .and_then(|b| b.checked_add(lsb))
                        .ok_or_else(too_big)?,
                )
            }
            (Some(_), None, None) => Some(loc.checked_mul(8).ok_or_else(too_big)?),
            _ => None,
        };
        let (offset, bits) = match (total_bits, raw.bit_size) {
            (Some(total), Some(size)) if (1..=64).contains(&size) => (
                total / 8,
                Some(Bits {
                    offset: (total % 8) as u32,
                    size: size as u32,
                }),
            ),
            (Some(_), Some(size)) => {
                return Err(DebugError(format!("field {name:?}: {size}-bit bitfield")));
            }
            _ => (loc, None),
        };
        Ok(Some(Field {
            name,
            offset,
            ty,
            bits,
        }))
    }

    /// A Rust enum's variants (`DW_TAG_variant_part`), if the type has one.
    fn variant_part(&mut self, die: DieRef, depth: usize) -> DResult<Option<VariantPart>> {
        let Some(part) = self
            .children(die, &[gimli::DW_TAG_variant_part])?
            .first()
            .copied()
        else {
            return Ok(None);
        };
        let discr_die =
            match self.with_entry(part, |_, _, e| Ok(e.attr_value(gimli::DW_AT_discr)?))? {
                Some(v) => self.reference(part, v)?,
                None => None,
            };
        let discr = match discr_die {
            Some(d) => self.field(d, depth)?,
            None => None,
        };
        let mut variants = Vec::new();
        for v in self.children(part, &[gimli::DW_TAG_variant])? {
            let discr_value = self.with_entry(v, |_, _, e| {
                Ok(match e.attr_value(gimli::DW_AT_discr_value)? {
                    Some(AttributeValue::Sdata(s)) => Some(s as u64),
                    Some(other) => other.udata_value(),
                    None => None,
                })
            })?;
            let fields = self.members(v, depth)?;
            variants.push(Variant {
                discr_value,
                fields,
            });
        }
        Ok(Some(VariantPart { discr, variants }))
    }
}

fn array_name(elem: &str, count: Option<u64>) -> String {
    let dim = match count {
        Some(n) => format!("[{n}]"),
        None => "[]".to_string(),
    };
    // `int[3]` then `int[2][3]`: outer dimensions go first.
    match elem.find('[') {
        Some(i) => format!("{}{dim}{}", &elem[..i], &elem[i..]),
        None => format!("{elem}{dim}"),
    }
}

fn sign_extend(u: u64, size: u64) -> i64 {
    match size {
        1 => i64::from(u as u8 as i8),
        2 => i64::from(u as u16 as i16),
        4 => i64::from(u as u32 as i32),
        _ => u as i64,
    }
}

/// `DW_OP_plus_uconst N` (the DWARF 2 form of a member offset).
fn plus_uconst(expr: &[u8]) -> Option<u64> {
    let (&op, rest) = expr.split_first()?;
    if op != gimli::DW_OP_plus_uconst.0 {
        return None;
    }
    let mut r = gimli::EndianSlice::new(rest, gimli::LittleEndian);
    gimli::Reader::read_uleb128(&mut r).ok()
}

fn string<'f>(
    dwarf: &gimli::Dwarf<R<'f>>,
    unit: &Unit<R<'f>>,
    v: AttributeValue<R<'f>>,
) -> DResult<String> {
    Ok(dwarf.attr_string(unit, v)?.to_string_lossy().into_owned())
}

fn name<'f>(
    dwarf: &gimli::Dwarf<R<'f>>,
    unit: &Unit<R<'f>>,
    entry: &DebuggingInformationEntry<'_, '_, R<'f>>,
) -> DResult<Option<String>> {
    match entry.attr_value(gimli::DW_AT_name)? {
        Some(v) => Ok(Some(string(dwarf, unit, v)?)),
        None => Ok(None),
    }
}

/// A qualified type's name as C spells it: `const int`, `_Atomic long`,
/// and `restrict` after the pointer it qualifies (`int * restrict`).
fn qualified(tag: gimli::DwTag, inner: &str) -> String {
    match tag {
        gimli::DW_TAG_const_type => format!("const {inner}"),
        gimli::DW_TAG_volatile_type => format!("volatile {inner}"),
        gimli::DW_TAG_atomic_type => format!("_Atomic {inner}"),
        _ => format!("{inner} restrict"),
    }
}

//! The name index: each unit's top-level DIE names (and those inside
//! namespaces and classes) to the DIEs, built for the whole file in one
//! pass, or for the few units `.gdb_index` lists for a name.

use std::collections::HashMap;
use std::sync::Arc;

use super::address::location_addr;
use super::build::Builder;
use super::file::{DResult, DebugError, DebugFile, R, Variable};
use super::types::{DieRef, Type};

/// Names to DIEs, built in one pass on first need.
#[derive(Default)]
pub(super) struct Index {
    pub vars: HashMap<String, Vec<DieRef>>,
    types: HashMap<String, Vec<DieRef>>,
    /// A qualified name's last component to the qualified names ending in it.
    short: HashMap<String, Vec<String>>,
    /// A declaration to the definition that names it in `DW_AT_specification`.
    defs: HashMap<DieRef, DieRef>,
}

pub(super) fn split_keyword(name: &str) -> (Option<&'static str>, &str) {
    let name = name.trim();
    for k in ["struct", "class", "union", "enum"] {
        if let Some(rest) = name.strip_prefix(k).and_then(|r| r.strip_prefix(' ')) {
            return (Some(k), rest.trim());
        }
    }
    (None, name)
}

fn lookup<'a>(
    map: &'a HashMap<String, Vec<DieRef>>,
    short: &HashMap<String, Vec<String>>,
    name: &str,
) -> Option<&'a Vec<DieRef>> {
    if let Some(found) = map.get(name) {
        return Some(found);
    }
    // `Class` for `ns::Class` when only one qualified name ends so.
    let mut quals = short.get(name)?.iter().filter(|q| map.contains_key(*q));
    let first = quals.next()?;
    if quals.next().is_some() {
        return None;
    }
    map.get(first)
}

/// How deep namespaces nest before the index stops descending.
pub(super) const MAX_SCOPE_DEPTH: usize = 32;

/// The names of every unit's top-level DIEs (and namespaces').
pub(super) fn build_index(file: &DebugFile, dwarf: &gimli::Dwarf<R<'_>>) -> DResult<Index> {
    let mut index = Index::default();
    let mut off = 0;
    while let Some(unit) = file.unit_at(dwarf, off)? {
        index_unit(dwarf, &unit, off, &mut index)?;
        off = off
            .checked_add(unit.header.length_including_self())
            .ok_or_else(|| DebugError("unit length out of range".into()))?;
    }
    Ok(index)
}

/// The names of the units at `units` only.
pub(super) fn units_index(
    file: &DebugFile,
    dwarf: &gimli::Dwarf<R<'_>>,
    units: &[usize],
) -> DResult<Index> {
    let mut index = Index::default();
    for &off in units {
        if let Some(unit) = file.unit_at(dwarf, off)? {
            index_unit(dwarf, &unit, off, &mut index)?;
        }
    }
    Ok(index)
}

fn index_unit(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &gimli::Unit<R<'_>>,
    unit_off: usize,
    index: &mut Index,
) -> DResult<()> {
    let mut tree = unit.entries_tree(None)?;
    let root = tree.root()?;
    let mut ctx = IndexCtx {
        dwarf,
        unit,
        unit_off,
        index,
    };
    ctx.scope(root, "", 0)
}

/// The variable `name` among `index`'s: a definition (with a location)
/// before a declaration.
pub(super) fn pick_variable(
    file: &DebugFile,
    dwarf: &gimli::Dwarf<R<'_>>,
    index: &Index,
    name: &str,
) -> DResult<Option<Variable>> {
    let Some(dies) = lookup(&index.vars, &index.short, name) else {
        return Ok(None);
    };
    let mut builder = Builder::new(file, dwarf);
    let mut best = None;
    for die in dies {
        let die = index.defs.get(die).copied().unwrap_or(*die);
        let var = builder.variable(die, name)?;
        if var.link_addr.is_some() {
            return Ok(Some(var));
        }
        best.get_or_insert(var);
    }
    Ok(best)
}

/// The type `bare` among `index`'s (a `struct`/`union`/... one when
/// `keyword` says): a complete definition before a forward declaration.
pub(super) fn pick_type(
    file: &DebugFile,
    dwarf: &gimli::Dwarf<R<'_>>,
    index: &Index,
    keyword: Option<&str>,
    bare: &str,
) -> DResult<Option<Arc<Type>>> {
    let Some(dies) = lookup(&index.types, &index.short, bare) else {
        return Ok(None);
    };
    let mut builder = Builder::new(file, dwarf);
    let mut fallback = None;
    for die in dies {
        let ty = builder.type_at(*die, 0)?;
        if let Some(k) = keyword {
            if !ty.name.starts_with(k) && !builder.has_keyword(*die, k)? {
                continue;
            }
        }
        if !ty.fields().is_empty() || !builder.is_declaration(*die)? {
            return Ok(Some(ty));
        }
        fallback.get_or_insert(ty);
    }
    Ok(fallback)
}

struct IndexCtx<'i, 'a> {
    dwarf: &'i gimli::Dwarf<R<'a>>,
    unit: &'i gimli::Unit<R<'a>>,
    unit_off: usize,
    index: &'i mut Index,
}

impl IndexCtx<'_, '_> {
    fn scope(
        &mut self,
        node: gimli::EntriesTreeNode<'_, '_, '_, R<'_>>,
        prefix: &str,
        depth: usize,
    ) -> DResult<()> {
        if depth > MAX_SCOPE_DEPTH {
            return Ok(());
        }
        let mut children = node.children();
        while let Some(child) = children.next()? {
            let entry = child.entry();
            let tag = entry.tag();
            let die = DieRef {
                unit: self.unit_off,
                die: entry.offset().0,
            };
            let name = match entry.attr_value(gimli::DW_AT_name)? {
                Some(v) => Some(
                    self.dwarf
                        .attr_string(self.unit, v)?
                        .to_string_lossy()
                        .into_owned(),
                ),
                None => None,
            };
            if let Some(gimli::AttributeValue::UnitRef(spec)) =
                entry.attr_value(gimli::DW_AT_specification)?
            {
                let spec = DieRef {
                    unit: self.unit_off,
                    die: spec.0,
                };
                self.index.defs.insert(spec, die);
            }
            let qualified = name.as_ref().map(|n| match prefix {
                "" => n.clone(),
                p => format!("{p}::{n}"),
            });
            match tag {
                gimli::DW_TAG_variable => {
                    if let Some(q) = qualified {
                        self.add(true, q, name.unwrap_or_default(), die);
                    }
                }
                gimli::DW_TAG_subprogram => {
                    if let Some(q) = qualified {
                        self.statics(child, &q, depth + 1)?;
                    }
                }
                gimli::DW_TAG_namespace | gimli::DW_TAG_module => {
                    let inner = qualified.unwrap_or_else(|| prefix.to_string());
                    self.scope(child, &inner, depth + 1)?;
                }
                gimli::DW_TAG_structure_type
                | gimli::DW_TAG_class_type
                | gimli::DW_TAG_union_type
                | gimli::DW_TAG_enumeration_type
                | gimli::DW_TAG_typedef
                | gimli::DW_TAG_base_type => {
                    if let Some(q) = qualified {
                        // Static members and nested types live inside classes.
                        if matches!(tag, gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type) {
                            self.scope(child, &q, depth + 1)?;
                        }
                        self.add(false, q, name.unwrap_or_default(), die);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A function's static locals (a fixed address, `DW_OP_addr`), as
    /// `function::name`; the bare name finds one when no other ends so.
    /// Locals on the stack or in registers have no address to read.
    fn statics(
        &mut self,
        node: gimli::EntriesTreeNode<'_, '_, '_, R<'_>>,
        function: &str,
        depth: usize,
    ) -> DResult<()> {
        if depth > MAX_SCOPE_DEPTH {
            return Ok(());
        }
        let mut children = node.children();
        while let Some(child) = children.next()? {
            let entry = child.entry();
            match entry.tag() {
                gimli::DW_TAG_lexical_block => self.statics(child, function, depth + 1)?,
                gimli::DW_TAG_variable => {
                    if location_addr(self.dwarf, self.unit, entry)?.is_none() {
                        continue;
                    }
                    let Some(name) = entry.attr_value(gimli::DW_AT_name)? else {
                        continue;
                    };
                    let name = self
                        .dwarf
                        .attr_string(self.unit, name)?
                        .to_string_lossy()
                        .into_owned();
                    let die = DieRef {
                        unit: self.unit_off,
                        die: entry.offset().0,
                    };
                    self.add(true, format!("{function}::{name}"), name, die);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn add(&mut self, var: bool, qualified: String, short: String, die: DieRef) {
        if qualified != short {
            let names = self.index.short.entry(short).or_default();
            if !names.contains(&qualified) {
                names.push(qualified.clone());
            }
        }
        let map = if var {
            &mut self.index.vars
        } else {
            &mut self.index.types
        };
        map.entry(qualified).or_default().push(die);
    }
}

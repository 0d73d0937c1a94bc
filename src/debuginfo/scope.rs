//! The scopes around a DIE: the namespaces, classes and Rust modules that
//! make `Player` in `namespace game` the type `game::Player`.
//!
//! DIEs do not point to their parents, so the path is found from the
//! unit's root down: at each level the child just before the DIE's offset
//! holds it, and the siblings before it are skipped whole.

use gimli::{Unit, UnitOffset};

use super::file::{DResult, R};

/// How deep scopes nest before the walk stops (corrupt DWARF only).
const MAX_SCOPES: usize = 32;

/// `name` with the scopes around the DIE at `target` (`game::Player`,
/// `core::option::Option<u32>`).
pub(super) fn qualify(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &Unit<R<'_>>,
    target: usize,
    name: String,
) -> DResult<String> {
    let prefix = prefix(dwarf, unit, target)?;
    Ok(if prefix.is_empty() {
        name
    } else {
        format!("{prefix}::{name}")
    })
}

/// The `a::b` path of the scopes around the DIE at `target` in `unit`:
/// empty at the top level, and inside a function (gdb names a local type
/// by itself).
fn prefix(dwarf: &gimli::Dwarf<R<'_>>, unit: &Unit<R<'_>>, target: usize) -> DResult<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut parent: Option<UnitOffset> = None;
    for _ in 0..MAX_SCOPES {
        let mut tree = unit.entries_tree(parent)?;
        let root = tree.root()?;
        let mut children = root.children();
        let mut holder = None;
        while let Some(child) = children.next()? {
            let entry = child.entry();
            let offset = entry.offset();
            if offset.0 == target {
                return Ok(parts.join("::"));
            }
            if offset.0 > target {
                break;
            }
            holder = Some((offset, entry.tag()));
        }
        // No child before it: `target` is not a DIE of this unit.
        let Some((offset, tag)) = holder else {
            return Ok(String::new());
        };
        let entry = unit.entry(offset)?;
        let name = match entry.attr_value(gimli::DW_AT_name)? {
            Some(v) => Some(dwarf.attr_string(unit, v)?.to_string_lossy().into_owned()),
            None => None,
        };
        match tag {
            gimli::DW_TAG_namespace => {
                parts.push(name.unwrap_or_else(|| "(anonymous namespace)".into()))
            }
            gimli::DW_TAG_structure_type
            | gimli::DW_TAG_class_type
            | gimli::DW_TAG_union_type
            | gimli::DW_TAG_module => parts.push(name.unwrap_or_else(|| "{unnamed}".into())),
            gimli::DW_TAG_subprogram | gimli::DW_TAG_lexical_block => parts.clear(),
            _ => {}
        }
        parent = Some(offset);
    }
    Ok(parts.join("::"))
}

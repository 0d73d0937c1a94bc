//! Where a variable lives: a static address from its location expression,
//! whether it is thread-local, and the DIE of the variable at an address.

use gimli::{AttributeValue, DebuggingInformationEntry, Unit};

use super::file::{DResult, R};

/// A static variable's address: a location that is exactly `DW_OP_addr A`
/// (or `DW_OP_addrx`).
pub(super) fn location_addr(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &Unit<R<'_>>,
    e: &DebuggingInformationEntry<'_, '_, R<'_>>,
) -> DResult<Option<u64>> {
    let Some(AttributeValue::Exprloc(expr)) = e.attr_value(gimli::DW_AT_location)? else {
        return Ok(None);
    };
    let mut ops = expr.operations(unit.encoding());
    let first = ops.next()?;
    if ops.next()?.is_some() {
        return Ok(None);
    }
    Ok(match first {
        Some(gimli::Operation::Address { address }) => Some(address),
        Some(gimli::Operation::AddressIndex { index }) => Some(dwarf.address(unit, index)?),
        _ => None,
    })
}

/// A location that asks for the thread's TLS block
/// (`DW_OP_form_tls_address`, `DW_OP_GNU_push_tls_address`).
pub(super) fn is_thread_local(
    unit: &Unit<R<'_>>,
    e: &DebuggingInformationEntry<'_, '_, R<'_>>,
) -> DResult<bool> {
    let Some(AttributeValue::Exprloc(expr)) = e.attr_value(gimli::DW_AT_location)? else {
        return Ok(false);
    };
    let mut ops = expr.operations(unit.encoding());
    while let Some(op) = ops.next()? {
        if matches!(op, gimli::Operation::TLS) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The DIE of the variable named (or linkage-named) one of `names` at
/// `addr`, among `node`'s children and inside its namespaces.
pub(super) fn find_variable(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &Unit<R<'_>>,
    node: gimli::EntriesTreeNode<'_, '_, '_, R<'_>>,
    names: &[&str],
    addr: u64,
    depth: usize,
) -> DResult<Option<usize>> {
    let mut children = node.children();
    while let Some(child) = children.next()? {
        let e = child.entry();
        match e.tag() {
            gimli::DW_TAG_variable => {
                if location_addr(dwarf, unit, e)? != Some(addr) {
                    continue;
                }
                for at in [gimli::DW_AT_name, gimli::DW_AT_linkage_name] {
                    if let Some(v) = e.attr_value(at)? {
                        let found = dwarf.attr_string(unit, v)?;
                        if names.iter().any(|n| found.slice() == n.as_bytes()) {
                            return Ok(Some(e.offset().0));
                        }
                    }
                }
            }
            gimli::DW_TAG_namespace | gimli::DW_TAG_module if depth < 16 => {
                if let Some(found) = find_variable(dwarf, unit, child, names, addr, depth + 1)? {
                    return Ok(Some(found));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

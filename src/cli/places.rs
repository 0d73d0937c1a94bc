//! Addresses as the CLI prints them: the number, and beside it the name
//! [`SymbolTable::place`] gives it (`module!symbol+0xOFF`, `[module]+0xOFF`),
//! escaped, since symbol and file names come from the target.

use serde_json::{Map, Value as Json, json};

use crate::expr::{Value, WatchReading};
use crate::symbols::SymbolTable;

/// `0x55d0c0a07928 <game!score+0x4>`, or the bare number in anonymous memory.
pub(super) fn at(symbols: &SymbolTable, addr: u64) -> String {
    match symbols.place(addr) {
        Some(place) => format!("{addr:#x} <{}>", crate::text::escape(&place)),
        None => format!("{addr:#x}"),
    }
}

/// The name of `addr` for a JSON record, unescaped (JSON escapes it).
pub(super) fn json(symbols: &SymbolTable, addr: u64) -> Option<Json> {
    symbols.place(addr).map(Json::String)
}

/// Adds `place` (where the value is) and, for a pointer, `points_to` (where
/// it points) to a reading's JSON object.
pub(super) fn annotate(obj: &mut Map<String, Json>, reading: &WatchReading, symbols: &SymbolTable) {
    if let Some(place) = reading.address.and_then(|a| json(symbols, a)) {
        obj.insert("place".into(), place);
    }
    let pointer = match &reading.value {
        Some(Value::Pointer(p))
        | Some(Value::Typed(crate::debuginfo::Value::Pointer { addr: p, .. })) => Some(*p),
        _ => None,
    };
    if let Some(target) = pointer.and_then(|p| json(symbols, p)) {
        obj.insert("points_to".into(), json!(target));
    }
}

/// Bytes longer than this print as a hex dump below their line, not on it.
pub(super) const INLINE_BYTES: usize = 32;

/// A value as a line of text shows it: a pointer with the name of where it
/// points (`0x7f12a0 -> libc.so.6!environ`); bytes too long for one line
/// as `(N bytes, below)`, for [`long_bytes`] to dump.
pub(super) fn value_text(value: &Value, symbols: &SymbolTable) -> String {
    match value {
        // A typed pointer without a string (a function pointer, a struct
        // pointer) is named where it points too, as an untyped one is.
        Value::Pointer(p)
        | Value::Typed(crate::debuginfo::Value::Pointer {
            addr: p,
            string: None,
        }) => match symbols.place(*p) {
            Some(place) => format!("{p:#x} -> {}", crate::text::escape(&place)),
            None => format!("{p:#x}"),
        },
        Value::Bytes(bytes) if bytes.len() > INLINE_BYTES => {
            format!("({} bytes, below)", bytes.len())
        }
        other => other.to_string(),
    }
}

/// The bytes of a value too long for one line, as hex dump lines from `addr`.
pub(super) fn long_bytes(value: &Value, addr: Option<u64>) -> Option<String> {
    match value {
        Value::Bytes(bytes) if bytes.len() > INLINE_BYTES => {
            Some(super::dump::hex_lines(addr.unwrap_or(0), bytes, |_| false))
        }
        _ => None,
    }
}

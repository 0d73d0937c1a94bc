//! The strings `char *` values point to, read once for printing.

use crate::debuginfo::{self, TypeKind};
use crate::expr::{Type, Value, WatchReading};
use crate::process::ReadMode;

use super::Session;

/// How many bytes of one string are read.
const STRING_MAX: u64 = 256;
/// How many strings one value's pointers may pull in.
const STRINGS_MAX: usize = 64;

impl Session {
    /// Reads the C strings the `char *` pointers in a typed reading point
    /// to (each up to 256 bytes, where the mapping allows), so they print
    /// with their text as gdb shows them. The poller reads them never-block
    /// (`ReadMode::NoWait`): a string on a page not in memory is left out.
    pub fn read_strings(&mut self, reading: &mut WatchReading, mode: ReadMode) {
        let (Type::Debug(d), Some(Value::Typed(value))) = (&reading.ty, &mut reading.value) else {
            return;
        };
        if d.bits.is_none() {
            let ty = std::sync::Arc::clone(&d.ty);
            let mut budget = STRINGS_MAX;
            self.fill(value, &ty, &mut budget, mode);
        }
    }

    fn fill(
        &mut self,
        value: &mut debuginfo::Value,
        ty: &debuginfo::Type,
        budget: &mut usize,
        mode: ReadMode,
    ) {
        if *budget == 0 {
            return;
        }
        if let Some((addr, length)) = rust_str(value, ty) {
            if let Some(bytes) = self.str_bytes(addr, length, mode) {
                *budget -= 1;
                *value = debuginfo::Value::StrRef {
                    addr,
                    length,
                    bytes,
                };
            }
            return;
        }
        match (value, &ty.strip().kind) {
            (
                debuginfo::Value::Pointer { addr, string },
                TypeKind::Pointer { target: Some(link) },
            ) => {
                let base = link
                    .name
                    .trim_start_matches("const ")
                    .trim_start_matches("volatile ");
                if matches!(base, "char" | "signed char" | "unsigned char") && *addr != 0 {
                    *budget -= 1;
                    *string = self.c_string(*addr, mode);
                }
            }
            (debuginfo::Value::Struct { fields, .. }, TypeKind::Struct { fields: defs, .. }) => {
                for ((_, v), def) in fields.iter_mut().zip(defs) {
                    self.fill(v, &def.ty, budget, mode);
                }
            }
            (debuginfo::Value::Array { elements, .. }, TypeKind::Array { elem, .. }) => {
                for v in elements {
                    self.fill(v, elem, budget, mode);
                }
            }
            _ => {}
        }
    }

    /// The first `length` bytes at `addr`, at most [`STRING_MAX`]; `None`
    /// when they cannot all be read.
    fn str_bytes(&mut self, addr: u64, length: u64, mode: ReadMode) -> Option<Vec<u8>> {
        let len = usize::try_from(length.min(STRING_MAX)).ok()?;
        if len == 0 {
            return Some(Vec::new());
        }
        let outcome = self.read(&[(addr, len)], mode).ok()?.pop()?;
        outcome.bytes().map(<[u8]>::to_vec)
    }

    /// The NUL-terminated string at `addr`, cut at [`STRING_MAX`] bytes or
    /// where its mapping ends; `None` when it cannot be read.
    fn c_string(&mut self, addr: u64, mode: ReadMode) -> Option<String> {
        let region = self.maps().find(addr)?;
        let len = usize::try_from(region.end.saturating_sub(addr).min(STRING_MAX)).ok()?;
        let outcome = self.read(&[(addr, len)], mode).ok()?.pop()?;
        let bytes = outcome.bytes()?;
        let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    }
}

/// A Rust `&str`'s data pointer and length, from its DWARF struct
/// (`data_ptr`, `length`).
fn rust_str(value: &debuginfo::Value, ty: &debuginfo::Type) -> Option<(u64, u64)> {
    let ty = ty.strip();
    if !matches!(ty.name.as_str(), "&str" | "&mut str") {
        return None;
    }
    let debuginfo::Value::Struct { fields, .. } = value else {
        return None;
    };
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    match (field("data_ptr")?, field("length")?) {
        (debuginfo::Value::Pointer { addr, .. }, debuginfo::Value::Unsigned(length)) => {
            Some((*addr, u64::try_from(*length).ok()?))
        }
        _ => None,
    }
}

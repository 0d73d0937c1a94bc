//! Watch expressions as the UI needs them: parse with the column of an
//! error, resolve to an address, and write back in a form that survives ASLR.
//!
//! Understood here: a number (`0x7ffd1234`), a mapping's start by name
//! (`[heap]`, `[libc.so.6]`), sums and differences of those, and an optional
//! `:type` (`[app]+0x4010:u32`).

use crate::poller::{ParseError, ValueType};
use crate::process::Maps;
use crate::tui::app::WatchRow;

/// A watch resolved to where it reads and as what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub addr: u64,
    pub ty: ValueType,
}

fn error(column: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        column,
        message: message.into(),
    }
}

/// Parses `EXPR[:TYPE]`; a bare expression reads a u64.
pub fn parse(text: &str, maps: &Maps) -> Result<Parsed, ParseError> {
    let (expr, ty) = match text.rfind(':') {
        Some(i) => {
            let ty = ValueType::parse(text[i + 1..].trim()).map_err(|m| error(i + 1, m))?;
            (&text[..i], ty)
        }
        None => (text, ValueType::U64),
    };
    Ok(Parsed {
        addr: parse_address(expr, maps)?,
        ty,
    })
}

/// Parses an address expression: terms joined by `+` and `-`.
pub fn parse_address(text: &str, maps: &Maps) -> Result<u64, ParseError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut total: i128 = 0;
    let mut sign = 1i128;
    let mut expect_term = true;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= bytes.len() {
            if expect_term {
                return Err(error(
                    i,
                    "expected an address, e.g. 0x7ffd1234 or [heap]+0x10",
                ));
            }
            break;
        }
        if !expect_term {
            match bytes[i] {
                b'+' => sign = 1,
                b'-' => sign = -1,
                _ => return Err(error(i, "expected + or - (or :type at the end)")),
            }
            i += 1;
            expect_term = true;
            continue;
        }
        let start = i;
        let value = if bytes[i] == b'[' {
            let Some(close) = text[i..].find(']') else {
                return Err(error(i, "expected ] to close the mapping name"));
            };
            let name = &text[i + 1..i + close];
            i += close + 1;
            let region = maps
                .find_by_name(name)
                .or_else(|| maps.find_by_name(&format!("[{name}]")))
                .ok_or_else(|| {
                    error(
                        start + 1,
                        format!("no mapping named {name:?} (see the Maps pane)"),
                    )
                })?;
            // A file mapped in several parts is named by its lowest part.
            let base = maps
                .regions()
                .iter()
                .filter(|r| !region.path.is_empty() && r.path == region.path)
                .map(|r| r.start)
                .min()
                .unwrap_or(region.start);
            i128::from(base)
        } else if bytes[i].is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            crate::poller::watch::parse_int(&text[start..i])
                .map_err(|_| error(start, format!("{:?} is not a number", &text[start..i])))?
        } else {
            return Err(error(i, "expected a number or [mapping]"));
        };
        total += sign * value;
        expect_term = false;
    }
    u64::try_from(total).map_err(|_| error(0, "the address is out of range"))
}

/// The watch written so it resolves again after a restart: relative to the
/// mapping that holds it where that has a name, else as it was typed.
pub fn portable(watch: &WatchRow, maps: &Maps) -> String {
    let Some(addr) = watch.addr else {
        return watch.expr.clone();
    };
    if watch.expr.contains('[') {
        return watch.expr.clone();
    }
    let Some(region) = maps.find(addr).filter(|r| !r.path.is_empty()) else {
        return watch.expr.clone();
    };
    let base = maps
        .regions()
        .iter()
        .filter(|r| r.path == region.path)
        .map(|r| r.start)
        .min()
        .unwrap_or(region.start);
    let name = region.name();
    let name = if name.starts_with('[') {
        name.to_string()
    } else {
        format!("[{name}]")
    };
    format!("{name}+{:#x}:{}", addr - base, watch.ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Maps {
        Maps::parse(
            "555500000000-555500001000 r--p 00000000 fd:01 7 /usr/bin/app\n\
             555500001000-555500003000 rw-p 00001000 fd:01 7 /usr/bin/app\n\
             555500100000-555500200000 rw-p 00000000 00:00 0 [heap]\n",
            "maps",
        )
        .expect("maps")
    }

    #[test]
    fn parses_numbers_mappings_and_types() {
        let m = maps();
        assert_eq!(
            parse("0x10:u8", &m),
            Ok(Parsed {
                addr: 0x10,
                ty: ValueType::U8
            })
        );
        assert_eq!(parse("[heap]+0x10", &m).map(|p| p.addr), Ok(0x555500100010));
        assert_eq!(
            parse("[app] + 0x1008 - 8:u32", &m).map(|p| p.addr),
            Ok(0x555500001000)
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        let m = maps();
        assert_eq!(parse("0x10 0x20", &m).map_err(|e| e.column), Err(5));
        assert_eq!(parse("[nope]", &m).map_err(|e| e.column), Err(1));
        assert_eq!(parse("0x10:u9", &m).map_err(|e| e.column), Err(5));
        assert_eq!(parse("0x10+", &m).map_err(|e| e.column), Err(5));
        assert_eq!(parse("zz", &m).map_err(|e| e.column), Err(0));
    }

    #[test]
    fn portable_form_is_relative_to_the_mapping() {
        let m = maps();
        let mut row = WatchRow {
            id: 1,
            expr: "0x555500001010:u32".into(),
            ty: ValueType::U32,
            addr: Some(0x555500001010),
            bytes: None,
            unread: None,
            changed_at: None,
            history: Default::default(),
            frozen: None,
            freeze_error: None,
        };
        let text = portable(&row, &m);
        assert_eq!(text, "[app]+0x1010:u32");
        assert_eq!(parse(&text, &m).map(|p| p.addr), Ok(0x555500001010));
        row.addr = Some(0x555500100020);
        assert_eq!(portable(&row, &m), "[heap]+0x20:u32");
        row.addr = Some(0x7000);
        assert_eq!(portable(&row, &m), "0x555500001010:u32");
    }
}

//! Names from the debug info: completing the variable or field name at
//! the end of a watch expression, and naming the field an address is in.

use crate::debuginfo::path_at;
use crate::expr::complete::{Completion, Want, matching, wanted};
use crate::expr::parse_watch;
use crate::expr::typed::fields_of;
use crate::symbols::Location;

use super::Session;

/// How many candidates one completion lists at most.
const MAX_CANDIDATES: usize = 40;

impl Session {
    /// The completions of the name being typed at the end of `text`:
    /// variables with debug info, or after `.` and `->` the fields of the
    /// value before it. None when nothing is known there.
    pub fn completions(&self, text: &str) -> Vec<Completion> {
        match wanted(text) {
            None => Vec::new(),
            Some(Want::Field {
                base,
                arrow,
                prefix,
            }) => {
                let Ok(watch) = parse_watch(base) else {
                    return Vec::new();
                };
                let fields = fields_of(
                    &watch.expr,
                    arrow,
                    self.symbols(),
                    self.maps(),
                    self.debug_info(),
                )
                .unwrap_or_default();
                matching(
                    text,
                    prefix,
                    fields.iter().map(|(n, t)| (n.as_str(), t.clone())),
                    MAX_CANDIDATES,
                )
            }
            Some(Want::Variable { prefix }) => {
                let head = &text[..text.len() - prefix.len()];
                let module = head
                    .strip_suffix('!')
                    .map(|h| h.rsplit(|c: char| !(c.is_alphanumeric() || "._-@".contains(c))))
                    .and_then(|mut parts| parts.next())
                    .filter(|m| !m.is_empty());
                let mut names = self
                    .debug_info()
                    .variable_names(module, prefix)
                    .unwrap_or_default();
                names.sort();
                names.dedup();
                names.truncate(MAX_CANDIDATES);
                // Types of the few shown only: each is a lookup.
                let typed: Vec<(String, String)> = names
                    .into_iter()
                    .map(|n| {
                        let ty = self
                            .debug_info()
                            .variable(module, &n)
                            .map(|v| v.ty.name.clone())
                            .unwrap_or_default();
                        (n, ty)
                    })
                    .collect();
                matching(
                    text,
                    prefix,
                    typed.iter().map(|(n, t)| (n.as_str(), t.clone())),
                    MAX_CANDIDATES,
                )
            }
        }
    }

    /// The variable and field the byte at `addr` belongs to, with the
    /// field's type: `hero.pos.y (int)`, `team[2].name+3 (char[16])`.
    /// `None` outside a variable with debug info.
    pub fn describe(&self, addr: u64) -> Option<String> {
        let Location::Symbol { module, symbol, .. } = self.symbols().locate(addr)? else {
            return None;
        };
        let var = self.debug_info().variable(Some(&module), &symbol).ok()?;
        let offset = addr.checked_sub(var.addr)?;
        if offset >= var.ty.byte_size() {
            return None;
        }
        let (path, ty, rest) = path_at(&var.ty, offset);
        let rest = if rest > 0 {
            format!("+{rest}")
        } else {
            String::new()
        };
        Some(format!("{symbol}{path}{rest} ({ty})"))
    }
}

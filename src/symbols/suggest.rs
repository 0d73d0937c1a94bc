//! Near-name suggestions for a symbol that does not exist.

use std::collections::BTreeSet;

use crate::symbols::elf::{ElfSymbol, SymbolKind};

const MAX_SUGGESTIONS: usize = 5;

/// Up to five names near `wanted`: by edit distance to the whole name or its
/// last `::` component, ignoring case; data before code.
pub fn nearest<'a>(wanted: &str, symbols: impl Iterator<Item = &'a ElfSymbol>) -> Vec<String> {
    let wanted_lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(1);
    let mut ranked = BTreeSet::new();
    for sym in symbols {
        let last = sym.name.rsplit("::").next().unwrap_or(&sym.name);
        let mut distance = edit_distance(&wanted_lower, &sym.name.to_lowercase());
        if last.len() != sym.name.len() {
            distance = distance.min(edit_distance(&wanted_lower, &last.to_lowercase()));
        }
        if distance > limit && wanted.len() >= 4 && sym.name.contains(wanted) {
            distance = limit;
        }
        if distance <= limit && distance > 0 || (distance == 0 && sym.name != wanted) {
            ranked.insert((
                distance,
                sym.kind != SymbolKind::Object,
                sym.name.len(),
                sym.name.clone(),
            ));
        }
    }
    let mut names: Vec<String> = Vec::new();
    for (_, _, _, name) in ranked {
        if !names.contains(&name) {
            names.push(name);
        }
        if names.len() == MAX_SUGGESTIONS {
            break;
        }
    }
    names
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, kind: SymbolKind) -> ElfSymbol {
        ElfSymbol {
            name: name.into(),
            mangled: None,
            value: 0x1000,
            size: 4,
            kind,
        }
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("counter", "counter"), 0);
        assert_eq!(edit_distance("countr", "counter"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_close_names_data_first() {
        let syms = [
            sym("counter", SymbolKind::Function),
            sym("counted", SymbolKind::Object),
            sym("app::Counter", SymbolKind::Object),
            sym("unrelated", SymbolKind::Object),
        ];
        let got = nearest("countr", syms.iter());
        assert_eq!(got, ["app::Counter", "counter", "counted"]);
        assert!(nearest("zzzzzz", syms.iter()).is_empty());
    }
}

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

/// Edit distance over characters, where swapping two neighbours counts as
/// one edit (optimal string alignment): `g_u23` is one typo from `g_u32`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut row);
    }
    previous[b.len()]
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
        assert_eq!(edit_distance("g_u23", "g_u32"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
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

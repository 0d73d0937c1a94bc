//! Near-name suggestions for a symbol that does not exist.

use std::collections::BTreeSet;

use crate::symbols::elf::{ElfSymbol, SymbolKind};

const MAX_SUGGESTIONS: usize = 5;
/// Names longer than this get no suggestions: nobody mistypes a name that
/// long, and the work grows with its length times every symbol's.
const MAX_WANTED_CHARS: usize = 256;

/// Up to five names near `wanted`: by edit distance to the whole name or its
/// last `::` component, ignoring case; data before code.
pub fn nearest<'a>(wanted: &str, symbols: impl Iterator<Item = &'a ElfSymbol>) -> Vec<String> {
    let chars = wanted.chars().count();
    if chars > MAX_WANTED_CHARS {
        return Vec::new();
    }
    let wanted_lower = wanted.to_lowercase();
    let limit = (chars / 3).max(1);
    let mut ranked = BTreeSet::new();
    for sym in symbols {
        let last = sym.name.rsplit("::").next().unwrap_or(&sym.name);
        let mut distance = edit_distance_within(&wanted_lower, &sym.name.to_lowercase(), limit);
        if last.len() != sym.name.len() {
            distance = distance.min(edit_distance_within(
                &wanted_lower,
                &last.to_lowercase(),
                limit,
            ));
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

/// [`edit_distance`] when it is at most `limit`, else something larger,
/// found without the full table: names of very different lengths are never
/// compared, and the rows stop once every cell is past the limit.
fn edit_distance_within(a: &str, b: &str, limit: usize) -> usize {
    if a.len().abs_diff(b.len()) > limit * 4 {
        // Bytes: a char is at most 4 of them, so the char counts differ by more than `limit`.
        return limit + 1;
    }
    osa(a, b, Some(limit))
}

/// Edit distance over characters, where swapping two neighbours counts as
/// one edit (optimal string alignment): `g_u23` is one typo from `g_u32`.
#[cfg(test)]
fn edit_distance(a: &str, b: &str) -> usize {
    osa(a, b, None)
}

fn osa(a: &str, b: &str, limit: Option<usize>) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if let Some(limit) = limit
        && a.len().abs_diff(b.len()) > limit
    {
        return limit + 1;
    }
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
        if let Some(limit) = limit
            && row.iter().min().is_some_and(|&m| m > limit)
            && previous.iter().min().is_some_and(|&m| m > limit)
        {
            // Every later cell is at least the smaller of these two rows' minimums.
            return limit + 1;
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

    #[test]
    fn bounded_distance_agrees_within_the_limit() {
        for (a, b) in [
            ("countr", "counter"),
            ("g_u23", "g_u32"),
            ("kitten", "sitting"),
        ] {
            let full = edit_distance(a, b);
            assert_eq!(edit_distance_within(a, b, full), full);
            assert!(edit_distance_within(a, b, full - 1) > full - 1);
        }
    }

    #[test]
    fn a_huge_unknown_name_gets_no_suggestions_quickly() {
        let many: Vec<ElfSymbol> = (0..50_000)
            .map(|i| sym(&format!("symbol_{i}"), SymbolKind::Object))
            .collect();
        let huge = "x".repeat(100_000);
        assert!(nearest(&huge, many.iter()).is_empty());
        // Just under the cap: the length filter skips every short symbol.
        let long = "y".repeat(MAX_WANTED_CHARS);
        assert!(nearest(&long, many.iter()).is_empty());
    }
}

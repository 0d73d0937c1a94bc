//! Completing the name being typed at the end of a watch expression: a
//! variable, or a field after `.` or `->`.

/// One completion: the whole input with the name completed, the name
/// alone, and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub name: String,
    pub ty: String,
}

/// What the end of `text` asks to complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want<'a> {
    /// A variable name starting with `prefix`.
    Variable { prefix: &'a str },
    /// A field of the value `base` names (through a pointer when `arrow`).
    Field {
        base: &'a str,
        arrow: bool,
        prefix: &'a str,
    },
}

/// Splits `text` at the name being typed at its end.
///
/// ```
/// use pvtui::expr::complete::{Want, wanted};
/// assert_eq!(wanted("hero.po"), Some(Want::Field { base: "hero", arrow: false, prefix: "po" }));
/// assert_eq!(wanted("list->ne"), Some(Want::Field { base: "list", arrow: true, prefix: "ne" }));
/// assert_eq!(wanted("he"), Some(Want::Variable { prefix: "he" }));
/// ```
pub fn wanted(text: &str) -> Option<Want<'_>> {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(i, _)| i);
    let (head, prefix) = text.split_at(start);
    if prefix.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if let Some(base) = head.strip_suffix('.') {
        return (!base.trim().is_empty()).then_some(Want::Field {
            base,
            arrow: false,
            prefix,
        });
    }
    if let Some(base) = head.strip_suffix("->") {
        return (!base.trim().is_empty()).then_some(Want::Field {
            base,
            arrow: true,
            prefix,
        });
    }
    // After a module's '!', or anywhere an operand may start.
    Some(Want::Variable { prefix })
}

/// The candidates that start with `prefix`, sorted by name, at most `max`,
/// each completing `text` (whose last `prefix.len()` bytes are the prefix).
pub fn matching<'n>(
    text: &str,
    prefix: &str,
    names: impl IntoIterator<Item = (&'n str, String)>,
    max: usize,
) -> Vec<Completion> {
    let head = &text[..text.len() - prefix.len()];
    let mut out: Vec<Completion> = names
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix) && !name.is_empty())
        .map(|(name, ty)| Completion {
            text: format!("{head}{name}"),
            name: name.to_string(),
            ty,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out.truncate(max);
    out
}

/// The longest text every completion starts with (what Tab fills in).
pub fn common_text(items: &[Completion]) -> Option<String> {
    let first = items.first()?;
    let mut len = first.text.len();
    for item in &items[1..] {
        len = first
            .text
            .bytes()
            .zip(item.text.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    while !first.text.is_char_boundary(len) {
        len -= 1;
    }
    Some(first.text[..len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_at_the_end_is_completed() {
        assert_eq!(
            wanted("team[2].pos."),
            Some(Want::Field {
                base: "team[2].pos",
                arrow: false,
                prefix: ""
            })
        );
        assert_eq!(
            wanted("libc!_IO_2"),
            Some(Want::Variable { prefix: "_IO_2" })
        );
        assert_eq!(wanted("g1+0x1"), None);
        assert_eq!(
            wanted("."),
            Some(Want::Variable { prefix: "" }).filter(|_| false)
        );
    }

    #[test]
    fn candidates_complete_the_text_with_their_type() {
        let names = [
            ("pos", "struct vec2".to_string()),
            ("pad", "unsigned int".to_string()),
            ("health", "double".to_string()),
        ];
        let got = matching(
            "hero.p",
            "p",
            names.iter().map(|(n, t)| (*n, t.clone())),
            10,
        );
        assert_eq!(
            got.iter()
                .map(|c| (c.text.as_str(), c.ty.as_str()))
                .collect::<Vec<_>>(),
            [("hero.pad", "unsigned int"), ("hero.pos", "struct vec2")]
        );
        assert_eq!(common_text(&got).as_deref(), Some("hero.p"));
        let one = matching(
            "hero.h",
            "h",
            names.iter().map(|(n, t)| (*n, t.clone())),
            10,
        );
        assert_eq!(common_text(&one).as_deref(), Some("hero.health"));
    }
}

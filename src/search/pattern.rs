//! What to look for: a regex, a byte pattern with `??` wildcards, or text in
//! UTF-8 / UTF-16LE. Every kind compiles to one `regex::bytes::Regex`, so the
//! searcher has a single matching path (and the regex engine's literal
//! prefilters make plain markers as fast as `memmem`).

use std::fmt::Write as _;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::{Error, Result};

/// The text encodings a [`Query::Text`] can be searched as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    Utf16Le,
}

/// A search query, as a user typed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// A `regex::bytes` regular expression (Unicode mode on; `(?-u)` for raw bytes).
    Regex(String),
    /// Hex bytes with `??` wildcards: `48 8b ?? ?? 00` (spaces optional).
    Bytes(String),
    /// Literal text in an encoding, optionally ignoring case.
    Text {
        text: String,
        encoding: Encoding,
        ignore_case: bool,
    },
}

/// A compiled query.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub(crate) regex: Regex,
    /// The longest match the pattern can produce, if bounded.
    max_len: Option<usize>,
    source: String,
}

impl Pattern {
    /// Compiles `query`; a malformed pattern is a [`Error::Usage`] naming the problem.
    pub fn new(query: &Query) -> Result<Pattern> {
        let source = match query {
            Query::Regex(re) => re.clone(),
            Query::Bytes(spec) => bytes_regex(spec)?,
            Query::Text {
                text,
                encoding,
                ignore_case,
            } => text_regex(text, *encoding, *ignore_case)?,
        };
        let regex = RegexBuilder::new(&source)
            .build()
            .map_err(|e| Error::Usage(format!("invalid pattern: {e}")))?;
        let max_len = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(&source)
            .ok()
            .and_then(|hir| hir.properties().maximum_len());
        Ok(Pattern {
            regex,
            max_len,
            source,
        })
    }

    /// The longest match possible, or `None` when unbounded (`a+`).
    pub fn max_len(&self) -> Option<usize> {
        self.max_len
    }

    /// The regex the query compiled to.
    pub fn as_regex_str(&self) -> &str {
        &self.source
    }
}

/// `48 8b ?? 00` → `(?s-u)\x48\x8b.\x00`.
fn bytes_regex(spec: &str) -> Result<String> {
    let digits: Vec<char> = spec.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Err(Error::Usage("empty byte pattern".into()));
    }
    if digits.len() % 2 != 0 {
        return Err(Error::Usage(format!(
            "byte pattern {spec:?} has an odd number of hex digits; write each byte as two (0a, ??)"
        )));
    }
    let mut re = String::from("(?s-u)");
    for (i, pair) in digits.chunks(2).enumerate() {
        match pair {
            ['?', '?'] => re.push('.'),
            [hi, lo] => {
                let byte = hi
                    .to_digit(16)
                    .zip(lo.to_digit(16))
                    .map(|(h, l)| h * 16 + l)
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "byte {} of pattern {spec:?} is {hi}{lo}: expected two hex digits or ??",
                            i + 1
                        ))
                    })?;
                let _ = write!(re, "\\x{byte:02x}");
            }
            _ => unreachable!("chunks(2) of an even-length slice"),
        }
    }
    Ok(re)
}

fn text_regex(text: &str, encoding: Encoding, ignore_case: bool) -> Result<String> {
    if text.is_empty() {
        return Err(Error::Usage("empty search text".into()));
    }
    Ok(match encoding {
        Encoding::Utf8 if ignore_case => format!("(?i){}", regex::escape(text)),
        Encoding::Utf8 => regex::escape(text),
        Encoding::Utf16Le => {
            let mut re = String::from("(?s-u)");
            for c in text.chars() {
                let mut forms = vec![c];
                if ignore_case {
                    forms.extend(c.to_lowercase().filter(|_| c.to_lowercase().count() == 1));
                    forms.extend(c.to_uppercase().filter(|_| c.to_uppercase().count() == 1));
                    forms.sort_unstable();
                    forms.dedup();
                }
                re.push_str("(?:");
                for (i, form) in forms.iter().enumerate() {
                    if i > 0 {
                        re.push('|');
                    }
                    let mut units = [0u16; 2];
                    for unit in form.encode_utf16(&mut units) {
                        for b in unit.to_le_bytes() {
                            let _ = write!(re, "\\x{b:02x}");
                        }
                    }
                }
                re.push(')');
            }
            re
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(q: Query, hay: &[u8]) -> Vec<(usize, usize)> {
        let p = Pattern::new(&q).expect("compiles");
        p.regex
            .find_iter(hay)
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    #[test]
    fn byte_pattern_with_wildcards() {
        let hay = b"\x00\x48\x8b\x05\x0a\x00\x48\x8b\x00";
        let q = Query::Bytes("48 8b ?? ?? 00".into());
        assert_eq!(finds(q.clone(), hay), vec![(1, 6)]);
        assert_eq!(finds(Query::Bytes("488b????00".into()), hay), vec![(1, 6)]);
        assert_eq!(Pattern::new(&q).expect("ok").max_len(), Some(5));
        // A wildcard matches a newline too.
        assert_eq!(finds(Query::Bytes("?? 0a".into()), b"\n\n"), vec![(0, 2)]);
    }

    #[test]
    fn byte_pattern_errors_name_the_byte() {
        let err = Pattern::new(&Query::Bytes("48 zz".into())).expect_err("bad");
        assert!(err.to_string().contains("byte 2"), "{err}");
        let err = Pattern::new(&Query::Bytes("48 8".into())).expect_err("odd");
        assert!(err.to_string().contains("odd"), "{err}");
        assert!(Pattern::new(&Query::Bytes("  ".into())).is_err());
    }

    #[test]
    fn utf16_text_ignoring_case() {
        let hay: Vec<u8> = "xxGoLd€"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let q = |text: &str, ignore_case| Query::Text {
            text: text.into(),
            encoding: Encoding::Utf16Le,
            ignore_case,
        };
        assert_eq!(finds(q("gold€", true), &hay), vec![(4, 14)]);
        assert!(finds(q("gold", false), &hay).is_empty());
        assert_eq!(finds(q("GoLd", false), &hay), vec![(4, 12)]);
    }

    #[test]
    fn utf8_text_escapes_and_folds_case() {
        let q = Query::Text {
            text: "a.b(Ä)".into(),
            encoding: Encoding::Utf8,
            ignore_case: true,
        };
        assert_eq!(finds(q, "xA.B(ä) axb(ä)".as_bytes()), vec![(1, 8)]);
    }

    #[test]
    fn regex_max_len() {
        let bounded = Pattern::new(&Query::Regex("PVTUI-MARK-[0-9]{6}".into())).expect("ok");
        assert_eq!(bounded.max_len(), Some(17));
        let open = Pattern::new(&Query::Regex("a+".into())).expect("ok");
        assert_eq!(open.max_len(), None);
        assert!(Pattern::new(&Query::Regex("(".into())).is_err());
    }
}

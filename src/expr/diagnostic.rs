//! What is wrong with an expression, and where.

use std::fmt;

use crate::expr::parse::{ParseError, Watch, parse_watch};

/// A parse error or a name that did not resolve, with the 0-based column
/// it points at: the one shape every caller shows (under the input, after
/// the expression, in JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn new(column: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl From<ParseError> for Diagnostic {
    fn from(e: ParseError) -> Diagnostic {
        Diagnostic {
            column: e.column,
            message: e.message,
        }
    }
}

/// Parses a watch as typed: spaces around it are allowed, and an error's
/// column counts in the text as given, so it lands under the right character.
pub fn parse_typed(text: &str) -> Result<Watch, Diagnostic> {
    let lead = text.len() - text.trim_start().len();
    parse_watch(text.trim()).map_err(|e| Diagnostic {
        column: e.column + lead,
        message: e.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_watch_points_at_its_column_in_the_text_as_given() {
        assert!(parse_typed("  counter:u32 ").is_ok());
        let e = parse_typed("  zz +").expect_err("incomplete");
        assert_eq!(e.column, 6);
    }
}

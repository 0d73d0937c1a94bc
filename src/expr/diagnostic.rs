//! What is wrong with an expression, and where.

use std::fmt;

use crate::expr::parse::ParseError;

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

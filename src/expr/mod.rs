//! Watch expressions: what the user wants to see, written the way they think
//! of it, and the codecs between a type and the bytes in the target.
//!
//! ```text
//! watch   := expr [' as ' ctype] [':' type]
//! expr    := term (('+' | '-') term)*
//! term    := unary ('*' unary)*
//! unary   := '*' unary | '&' unary | '(' ctype ')' unary | postfix
//!                                         '*' reads the 8-byte pointer at the address
//! postfix := primary ('.' NAME | '->' NAME | '[' expr ']')*
//!                                         an index is integer arithmetic on numbers
//!                                         and typed integer variables
//! primary := NUMBER | SYMBOL | MODULE '!' SYMBOL | '[' REGION ']' | '(' expr ')'
//! ctype   := ['const'] WORDS ('*' ['const'])*     `struct node`, `ns::Class`, `char **`
//! type    := u8|u16|u32|u64|i8|i16|i32|i64|f32|f64|bool|ptr|char ['be']
//!          | type '[' N ']' | cstr | str[N] | bytes[N]
//! ```
//!
//! An expression evaluates to an address; the watch reads its type there.
//! Arithmetic is on bytes (`table+8*3:u64` is the fourth u64 of `table`).
//! A symbol with odd characters can be quoted in backquotes:
//! `` `ns::Foo<int>::count` ``.
//!
//! - [`parse`]: [`parse_watch`] and the syntax tree ([`Watch`], [`Expr`]).
//! - [`types`]: [`Type`], [`Value`] and the encode/decode codecs.
//! - [`eval`]: resolving watches against a target's symbols and reading them
//!   many at a time ([`WatchSet`], [`WatchReading`]).

pub mod change;
pub mod complete;
mod debug_type;
pub mod diagnostic;
pub mod eval;
mod node;
pub mod parse;
pub mod typed;
pub mod types;

#[cfg(test)]
mod proptests;

pub use change::Delta;
pub use debug_type::merge_bits;
pub use diagnostic::{Diagnostic, parse_typed};
pub use eval::{Resolved, Status, WatchId, WatchReading, WatchSet, relocatable, resolve};
pub use parse::{BinOp, Expr, ParseError, SymbolName, TypeName, Watch, parse_type, parse_watch};
pub use types::{CSTR_WINDOW, DebugType, MAX_LEN, Scalar, Type, Value, ValueError};

//! The watch expression parser: a recursive descent over characters, so an
//! error can point at the exact column.

use std::fmt;

use crate::expr::types::{MAX_LEN, Scalar, Type};

/// A parsed watch: where to look and, optionally, what type to read there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Watch {
    /// The text as the user typed it.
    pub text: String,
    pub expr: Expr,
    /// The type after `:`; without one the symbol's size (or `u64`) decides.
    pub ty: Option<Type>,
}

impl fmt::Display for Watch {
    /// The canonical form, which parses back to the same watch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(ty) = &self.ty {
            write!(f, ":{ty}")?;
        }
        Ok(())
    }
}

/// An address expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    Number(u64),
    /// A symbol, optionally qualified by the module that defines it.
    Symbol(SymbolName),
    /// `[name]`: the start of a mapping (`[heap]`, `[libc.so.6]`).
    Region {
        name: String,
        column: usize,
    },
    /// `*expr`: the 8-byte pointer stored at the address.
    Deref(Box<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `base.name`: a field of a value whose type the debug info gives. A
    /// symbol swallows its dots (`hero.pos.x` is one symbol name, split into
    /// variable and fields when no symbol has the whole name).
    Field {
        base: Box<Expr>,
        name: String,
        column: usize,
    },
    /// `base->name`: a field of what a typed pointer points to.
    Arrow {
        base: Box<Expr>,
        name: String,
        column: usize,
    },
    /// `base[index]`: an element of an array, or at a typed pointer,
    /// scaled by the element's size. The index is integer arithmetic on
    /// numbers and typed variables (`grid[i][n - 1]`), read each tick.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
        column: usize,
    },
    /// `&expr`: the address of a typed value, as a pointer to it.
    AddressOf {
        expr: Box<Expr>,
        column: usize,
    },
    /// `(T *)expr`: the address `expr` computes, as a pointer to a `T`.
    Cast {
        ty: TypeName,
        expr: Box<Expr>,
    },
    /// `expr as T`: the `T` at the address `expr` computes.
    View {
        expr: Box<Expr>,
        ty: TypeName,
    },
}

/// A C, C++ or Rust type named in a cast or after `as`: `struct node`,
/// `const char *`, `ns::Class **`, `demo::Player`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeName {
    /// The named type (`module!` first when one object is meant).
    pub name: String,
    /// `const` on the named type.
    pub constant: bool,
    /// One per `*`, the named type's first: whether `const` follows it.
    pub pointers: Vec<bool>,
    pub column: usize,
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.constant {
            f.write_str("const ")?;
        }
        f.write_str(&self.name)?;
        let mut spaced = true;
        for constant in &self.pointers {
            f.write_str(if spaced { " *" } else { "*" })?;
            spaced = *constant;
            if *constant {
                f.write_str(" const")?;
            }
        }
        Ok(())
    }
}

/// A symbol as written: `name` or `module!name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymbolName {
    pub module: Option<String>,
    pub name: String,
    /// Where it starts in the text, for errors such as an unknown symbol.
    pub column: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
}

impl Expr {
    /// How many pointer reads deep the expression goes (`*(*a+8)` is 2).
    pub fn depth(&self) -> usize {
        match self {
            Expr::Number(_) | Expr::Symbol(_) | Expr::Region { .. } => 0,
            Expr::Deref(inner) | Expr::Arrow { base: inner, .. } => 1 + inner.depth(),
            Expr::Binary { left, right, .. } => left.depth().max(right.depth()),
            // An index that is not a number reads a variable's value.
            Expr::Index { base, index, .. } => match **index {
                Expr::Number(_) => base.depth(),
                _ => base.depth().max(1 + index.depth()),
            },
            Expr::Field { base: inner, .. }
            | Expr::AddressOf { expr: inner, .. }
            | Expr::Cast { expr: inner, .. }
            | Expr::View { expr: inner, .. } => inner.depth(),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Binary {
                op: BinOp::Add | BinOp::Sub,
                ..
            } => 1,
            Expr::Binary { op: BinOp::Mul, .. } => 2,
            Expr::View { .. } => 0,
            Expr::Deref(_) | Expr::AddressOf { .. } | Expr::Cast { .. } => 3,
            _ => 4,
        }
    }

    /// Whether a `.f`, `->f` or `[i]` written after this needs parentheses.
    fn wraps_as_base(&self) -> bool {
        self.precedence() < 4 || matches!(self, Expr::Number(_))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) if *n < 0x1000 => write!(f, "{n}"),
            Expr::Number(n) => write!(f, "{n:#x}"),
            Expr::Symbol(sym) => {
                if let Some(module) = &sym.module {
                    write!(f, "{module}!")?;
                }
                if is_plain_symbol(&sym.name) {
                    f.write_str(&sym.name)
                } else {
                    write!(f, "`{}`", sym.name)
                }
            }
            Expr::Region { name, .. } if name.starts_with('[') && name.ends_with(']') => {
                f.write_str(name)
            }
            Expr::Region { name, .. } => write!(f, "[{name}]"),
            Expr::Deref(inner) if inner.precedence() < 3 => write!(f, "*({inner})"),
            Expr::Deref(inner) => write!(f, "*{inner}"),
            Expr::AddressOf { expr, .. } if expr.precedence() < 3 => write!(f, "&({expr})"),
            Expr::AddressOf { expr, .. } => write!(f, "&{expr}"),
            Expr::Cast { ty, expr } if expr.precedence() < 3 => write!(f, "({ty})({expr})"),
            Expr::Cast { ty, expr } => write!(f, "({ty}){expr}"),
            Expr::View { expr, ty } if expr.precedence() == 0 => write!(f, "({expr}) as {ty}"),
            Expr::View { expr, ty } => write!(f, "{expr} as {ty}"),
            Expr::Field { base, .. } | Expr::Arrow { base, .. } | Expr::Index { base, .. } => {
                if base.wraps_as_base() {
                    write!(f, "({base})")?;
                } else {
                    write!(f, "{base}")?;
                }
                match self {
                    Expr::Field { name, .. } => write!(f, ".{name}"),
                    Expr::Arrow { name, .. } => write!(f, "->{name}"),
                    Expr::Index { index, .. } => write!(f, "[{index}]"),
                    _ => Ok(()),
                }
            }
            Expr::Binary { op, left, right } => {
                let own = self.precedence();
                let (sym, wrap_left, wrap_right) = match op {
                    BinOp::Add => ("+", left.precedence() < own, right.precedence() <= own),
                    BinOp::Sub => ("-", left.precedence() < own, right.precedence() <= own),
                    BinOp::Mul => ("*", left.precedence() < own, right.precedence() <= own),
                };
                let side = |f: &mut fmt::Formatter<'_>, e: &Expr, wrap: bool| {
                    if wrap {
                        write!(f, "({e})")
                    } else {
                        write!(f, "{e}")
                    }
                };
                side(f, left, wrap_left)?;
                write!(f, " {sym} ")?;
                side(f, right, wrap_right)
            }
        }
    }
}

/// A watch that does not parse: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The character offset (0-based) the error points at.
    pub column: usize,
    pub message: String,
    /// The text that was parsed.
    pub text: String,
}

impl fmt::Display for ParseError {
    /// The message, the text, and a `^` under the column:
    ///
    /// ```text
    /// expected a number, symbol, [region], '(' or '*' at column 10
    ///   counter + :u32
    ///             ^
    /// ```
    ///
    /// A long text is shown as a window around the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} at column {}", self.message, self.column + 1)?;
        let chars: Vec<char> = self.text.chars().collect();
        let from = self.column.saturating_sub(SHOWN / 2);
        let to = chars.len().min(from + SHOWN);
        let from = from.min(to);
        let head = if from > 0 { "..." } else { "" };
        let tail = if to < chars.len() { "..." } else { "" };
        let shown: String = chars[from..to].iter().collect();
        writeln!(f, "  {head}{shown}{tail}")?;
        write!(f, "  {}^", " ".repeat(head.len() + self.column - from))
    }
}

/// How many characters of the text an error shows around its column.
const SHOWN: usize = 100;

/// The longest expression accepted, in characters.
pub const MAX_EXPR_CHARS: usize = 4096;
/// How deep parentheses and `*` may nest.
pub const MAX_NESTING: usize = 64;
/// How many `+ - *` operators one expression may hold.
pub const MAX_OPERATORS: usize = 256;
/// How many `[N]` dimensions one type may have.
pub const MAX_DIMENSIONS: usize = 8;

impl std::error::Error for ParseError {}

/// Parses `expr [':' type]`.
///
/// ```
/// use pvtui::expr::{parse_watch, Expr};
/// let watch = parse_watch("*(*root+16)+8:i64")?;
/// assert_eq!(watch.expr.depth(), 2);
/// assert_eq!(watch.ty.map(|t| t.to_string()).as_deref(), Some("i64"));
/// let err = parse_watch("counter +").unwrap_err();
/// assert_eq!(err.column, 9);
/// # Ok::<(), pvtui::expr::ParseError>(())
/// ```
pub fn parse_watch(text: &str) -> Result<Watch, ParseError> {
    let mut p = Parser::new(text)?;
    p.skip_space();
    let expr = p.expr()?;
    let expr = p.view_suffix(expr)?;
    p.skip_space();
    let ty = if p.eat(':') {
        p.skip_space();
        let ty = p.ty()?;
        p.skip_space();
        Some(ty)
    } else {
        None
    };
    if !p.at_end() {
        let expected = if ty.is_some() {
            "expected the end after the type"
        } else {
            "expected an operator (+ - *), ':' and a type, or the end"
        };
        return Err(p.error(expected));
    }
    Ok(Watch {
        text: text.to_string(),
        expr,
        ty,
    })
}

/// Parses a type on its own, such as `u32be` or `str[16]`.
pub fn parse_type(text: &str) -> Result<Type, ParseError> {
    let mut p = Parser::new(text)?;
    p.skip_space();
    let ty = p.ty()?;
    p.skip_space();
    if !p.at_end() {
        return Err(p.error("expected the end after the type"));
    }
    Ok(ty)
}

const TYPE_LIST: &str =
    "u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool, ptr, char (+be), cstr, str[N], bytes[N]";

fn is_symbol_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$' || c == '.'
}

fn is_symbol_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '@')
}

fn is_module_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@')
}

/// Whether `name` can be written without backquotes.
fn is_plain_symbol(name: &str) -> bool {
    // Each `::` part must start as a symbol does: the parser ends a path
    // at a `::` followed by anything else.
    !name.ends_with(':')
        && name.split("::").all(|part| {
            part.chars().next().is_some_and(is_symbol_start) && part.chars().all(is_symbol_char)
        })
}

/// The parser recurses, and so do the evaluator, printer and drop of the
/// tree it builds: the limits keep every one of them far from the stack's end.
struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
    /// Open parentheses and `*` around the current position.
    nesting: usize,
    operators: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Parser<'a>, ParseError> {
        let p = Parser {
            text,
            chars: text.chars().take(MAX_EXPR_CHARS + 1).collect(),
            pos: 0,
            nesting: 0,
            operators: 0,
        };
        if p.chars.len() > MAX_EXPR_CHARS {
            return Err(p.error_at(
                MAX_EXPR_CHARS,
                format!("the expression is longer than {MAX_EXPR_CHARS} characters"),
            ));
        }
        Ok(p)
    }

    /// Goes one level deeper into parentheses or a `*`.
    fn nest(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(format!(
                "parentheses and '*' nest deeper than {MAX_NESTING} levels"
            )));
        }
        Ok(())
    }

    /// Counts one more `+ - *` operator.
    fn operator(&mut self) -> Result<(), ParseError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.error(format!("more than {MAX_OPERATORS} operators")));
        }
        Ok(())
    }

    fn error_at(&self, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            column,
            message: message.into(),
            text: self.text.to_string(),
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.term()?;
        loop {
            self.skip_space();
            let op = match self.peek() {
                Some('+') => BinOp::Add,
                Some('-') => BinOp::Sub,
                _ => return Ok(left),
            };
            self.operator()?;
            self.pos += 1;
            self.skip_space();
            let right = self.term()?;
            left = Expr::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            self.skip_space();
            if self.peek() != Some('*') {
                return Ok(left);
            }
            self.operator()?;
            self.pos += 1;
            self.skip_space();
            let right = self.unary()?;
            left = Expr::Binary {
                op: BinOp::Mul,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some('*') {
            self.nest()?;
            self.pos += 1;
            self.skip_space();
            let inner = self.unary()?;
            self.nesting -= 1;
            return Ok(Expr::Deref(Box::new(inner)));
        }
        if self.peek() == Some('&') {
            let column = self.pos;
            self.nest()?;
            self.pos += 1;
            self.skip_space();
            let inner = self.unary()?;
            self.nesting -= 1;
            return Ok(Expr::AddressOf {
                expr: Box::new(inner),
                column,
            });
        }
        if self.peek() == Some('(')
            && let Some(ty) = self.cast_prefix()?
        {
            self.nest()?;
            self.skip_space();
            let inner = self.unary()?;
            self.nesting -= 1;
            return Ok(Expr::Cast {
                ty,
                expr: Box::new(inner),
            });
        }
        self.postfix()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => self.number().map(Expr::Number),
            Some('(') => {
                self.nest()?;
                self.pos += 1;
                self.skip_space();
                let inner = self.expr()?;
                let inner = self.view_suffix(inner)?;
                self.nesting -= 1;
                self.skip_space();
                if !self.eat(')') {
                    return Err(self.error(format!(
                        "expected ')' to close the '(' at column {}",
                        start + 1
                    )));
                }
                Ok(inner)
            }
            Some('[') => {
                self.pos += 1;
                let name = self.take_while(|c| c != ']');
                if self.at_end() {
                    return Err(self.error("expected ']' after the region name"));
                }
                let trimmed = name.trim();
                if trimmed.is_empty() {
                    return Err(
                        self.error("expected a region name such as heap, stack or libc.so.6")
                    );
                }
                self.pos += 1;
                // `[heap]` names the region `[heap]`; `[libc.so.6]` names the file.
                let name = match trimmed {
                    "heap" | "stack" | "vdso" | "vvar" | "vsyscall" => format!("[{trimmed}]"),
                    other => other.to_string(),
                };
                Ok(Expr::Region {
                    name,
                    column: start,
                })
            }
            Some('`') => {
                let name = self.quoted_symbol()?;
                Ok(Expr::Symbol(SymbolName {
                    module: None,
                    name,
                    column: start,
                }))
            }
            Some(c) if is_module_char(c) => self.symbol(),
            Some(_) => Err(self.error("expected a number, symbol, [region], '(' or '*'")),
            None => Err(self
                .error("expected a number, symbol, [region], '(' or '*' (the expression ended)")),
        }
    }

    fn number(&mut self) -> Result<u64, ParseError> {
        let start = self.pos;
        let hex = self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X'));
        if hex {
            self.pos += 2;
        }
        let radix = if hex { 16 } else { 10 };
        let digits = self.take_while(|c| c.is_digit(radix) || c == '_');
        if self.peek().is_some_and(is_symbol_char) {
            return Err(self.error(if hex {
                "expected a hex digit"
            } else {
                "expected a decimal digit (hex numbers start with 0x)"
            }));
        }
        let digits = digits.replace('_', "");
        if digits.is_empty() {
            return Err(self.error("expected hex digits after 0x"));
        }
        if !hex && digits.len() > 1 && digits.starts_with('0') {
            // C and gdb read `010` as octal: either reading would surprise.
            let plain = digits.trim_start_matches('0');
            let plain = if plain.is_empty() { "0" } else { plain };
            return Err(self.error_at(
                start,
                format!("a leading 0 is ambiguous (octal in C and gdb): write {plain} or 0x…"),
            ));
        }
        u64::from_str_radix(&digits, radix)
            .map_err(|_| self.error_at(start, "number does not fit in 64 bits"))
    }

    fn quoted_symbol(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let name = self.take_while(|c| c != '`');
        if !self.eat('`') {
            return Err(self.error(format!(
                "expected '`' to close the symbol quoted at column {}",
                open + 1
            )));
        }
        if name.is_empty() {
            return Err(self.error_at(open, "expected a symbol name between the backquotes"));
        }
        Ok(name)
    }

    /// `name`, `a::b`, `module!name` or `module!OFFSET` (a module name may
    /// hold '-' and '.').
    fn symbol(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let module_run = self.take_while(is_module_char);
        if self.peek() == Some('!') {
            self.pos += 1;
            let column = self.pos;
            let name = match self.peek() {
                Some('`') => self.quoted_symbol()?,
                Some(c) if is_symbol_start(c) => self.symbol_path(),
                // `module!0x7928`: an offset into the module, as `[module]+0x7928`.
                Some(c) if c.is_ascii_digit() => {
                    let offset = self.number()?;
                    return Ok(Expr::Binary {
                        op: BinOp::Add,
                        left: Box::new(Expr::Region {
                            name: module_run,
                            column: start,
                        }),
                        right: Box::new(Expr::Number(offset)),
                    });
                }
                _ => {
                    return Err(self.error(format!(
                        "expected a symbol name or an offset after '{module_run}!'"
                    )));
                }
            };
            return Ok(Expr::Symbol(SymbolName {
                module: Some(module_run),
                name,
                column,
            }));
        }
        self.pos = start;
        if !self.peek().is_some_and(is_symbol_start) {
            return Err(self.error("expected a number, symbol, [region], '(' or '*'"));
        }
        Ok(Expr::Symbol(SymbolName {
            module: None,
            name: self.symbol_path(),
            column: start,
        }))
    }

    /// A symbol with `::` path separators; a single ':' ends it (the type follows).
    fn symbol_path(&mut self) -> String {
        let mut name = self.take_while(is_symbol_char);
        while self.peek() == Some(':')
            && self.peek_at(1) == Some(':')
            && self.peek_at(2).is_some_and(is_symbol_start)
        {
            self.pos += 2;
            name.push_str("::");
            name.push_str(&self.take_while(is_symbol_char));
        }
        name
    }

    fn ty(&mut self) -> Result<Type, ParseError> {
        let start = self.pos;
        let word = self.take_while(|c| c.is_ascii_alphanumeric());
        let base = match word.as_str() {
            "" => return Err(self.error(format!("expected a type: {TYPE_LIST}"))),
            "cstr" => Type::CStr,
            "str" => Type::Str(self.count(&word)?),
            "bytes" => Type::Bytes(self.count(&word)?),
            _ => {
                let (name, big_endian) = match Scalar::from_name(&word) {
                    Some(_) => (word.as_str(), false),
                    None => match word.strip_suffix("be") {
                        Some(name) => (name, true),
                        None => (word.as_str(), false),
                    },
                };
                let kind = Scalar::from_name(name).ok_or_else(|| {
                    self.error_at(
                        start,
                        format!("unknown type {word:?}; expected one of {TYPE_LIST}"),
                    )
                })?;
                if big_endian && !kind.has_byte_order() {
                    return Err(
                        self.error_at(start, format!("{name} is one byte: it has no byte order"))
                    );
                }
                Type::Scalar { kind, big_endian }
            }
        };
        let mut ty = base;
        let mut dimensions = 0;
        while self.peek() == Some('[') {
            dimensions += 1;
            if dimensions > MAX_DIMENSIONS {
                return Err(self.error(format!("more than {MAX_DIMENSIONS} array dimensions")));
            }
            if ty == Type::CStr {
                return Err(self.error("an array of cstr has no fixed element size; use str[N][M]"));
            }
            let len = self.count("an array")?;
            if ty.size().saturating_mul(len) > MAX_LEN {
                return Err(
                    self.error_at(start, format!("the type is larger than {MAX_LEN} bytes"))
                );
            }
            ty = Type::Array {
                elem: Box::new(ty),
                len,
            };
        }
        Ok(ty)
    }

    /// `[N]` after a type word: 1..=MAX_LEN, decimal or hex.
    fn count(&mut self, what: &str) -> Result<usize, ParseError> {
        if !self.eat('[') {
            return Err(self.error(format!(
                "expected '[' and a length after {what}, as in {what}[16]"
            )));
        }
        self.skip_space();
        let at = self.pos;
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.error("expected a length (a number)"));
        }
        let n = self.number()?;
        self.skip_space();
        if !self.eat(']') {
            return Err(self.error("expected ']' after the length"));
        }
        match usize::try_from(n) {
            Ok(n) if (1..=MAX_LEN).contains(&n) => Ok(n),
            _ => Err(self.error_at(at, format!("a length must be 1..={MAX_LEN}"))),
        }
    }
}

#[path = "access.rs"]
mod access;

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

//! C-like access in watch expressions: `a.b`, `a[i]`, `p->f`, `&x`,
//! `(T *)ADDR` and `ADDR as T`. They need the debug info's types, which the
//! evaluator looks up; the parser only builds the tree.

use super::{Expr, ParseError, Parser, TypeName};

/// How deep `<...>` template arguments nest in a type name.
const MAX_TEMPLATE_DEPTH: usize = 16;

/// `struct`, `union`, `enum` and `class` start a C type name.
const TAG_WORDS: [&str; 4] = ["struct", "union", "enum", "class"];

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Parser<'_> {
    /// A primary followed by any `.field`, `->field` and `[index]` steps.
    pub(super) fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.primary()?;
        loop {
            let column = self.pos;
            expr = match (self.peek(), self.peek_at(1)) {
                (Some('.'), _) => {
                    self.pos += 1;
                    let name = self.field_name('.')?;
                    Expr::Field {
                        base: Box::new(expr),
                        name,
                        column,
                    }
                }
                (Some('-'), Some('>')) => {
                    self.pos += 2;
                    let name = self.field_name('>')?;
                    Expr::Arrow {
                        base: Box::new(expr),
                        name,
                        column,
                    }
                }
                (Some('['), _) => {
                    self.nest()?;
                    self.pos += 1;
                    self.skip_space();
                    if self.peek() == Some(']') {
                        return Err(self.error("expected an index (a number or a variable)"));
                    }
                    let index = self.expr()?;
                    self.nesting -= 1;
                    self.skip_space();
                    if !self.eat(']') {
                        return Err(self.error("expected ']' after the index"));
                    }
                    Expr::Index {
                        base: Box::new(expr),
                        index: Box::new(index),
                        column,
                    }
                }
                _ => return Ok(expr),
            };
            // Each step is a node of the tree: bounded like the operators.
            self.operator()?;
        }
    }

    fn field_name(&mut self, after: char) -> Result<String, ParseError> {
        if !self.peek().is_some_and(is_name_start) {
            return Err(self.error(format!("expected a field name after '{after}'")));
        }
        Ok(self.take_while(is_name_char))
    }

    /// `(T *)` before an operand: a cast, told from a parenthesised
    /// expression by its `*` before the `)` or a `struct`-like word first.
    /// Leaves the position alone when it is not one.
    pub(super) fn cast_prefix(&mut self) -> Result<Option<TypeName>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        self.skip_space();
        let column = self.pos;
        let (words, constant) = self.type_words();
        let tagged = words
            .split_whitespace()
            .next()
            .is_some_and(|w| TAG_WORDS.contains(&w));
        let pointers = self.stars();
        self.skip_space();
        if words.is_empty() || (pointers.is_empty() && !tagged) || self.peek() != Some(')') {
            self.pos = start;
            return Ok(None);
        }
        self.pos += 1;
        let ty = TypeName {
            name: words,
            constant,
            pointers,
            column,
        };
        if ty.pointers.is_empty() {
            return Err(self.error_at(
                column,
                format!("a cast views an address: write ({ty} *)ADDR, or ADDR as {ty}"),
            ));
        }
        Ok(Some(ty))
    }

    /// After an expression: ` as T`, viewing the address as a `T`.
    pub(super) fn view_suffix(&mut self, expr: Expr) -> Result<Expr, ParseError> {
        let save = self.pos;
        self.skip_space();
        let spaced = self.pos > 0 && self.chars[self.pos - 1].is_whitespace();
        let is_as = spaced
            && self.peek() == Some('a')
            && self.peek_at(1) == Some('s')
            && self.peek_at(2).is_some_and(char::is_whitespace);
        if !is_as {
            self.pos = save;
            return Ok(expr);
        }
        self.pos += 2;
        self.skip_space();
        let column = self.pos;
        let (words, constant) = self.type_words();
        if words.is_empty() {
            return Err(self.error("expected a type name after 'as', such as struct node"));
        }
        let pointers = self.stars();
        Ok(Expr::View {
            expr: Box::new(expr),
            ty: TypeName {
                name: words,
                constant,
                pointers,
                column,
            },
        })
    }

    /// A C type name: words (`unsigned int`, `struct node`) and `::` paths,
    /// and whether `const` was among them (`const char`, `char const`).
    fn type_words(&mut self) -> (String, bool) {
        let mut words: Vec<String> = Vec::new();
        let mut constant = false;
        loop {
            let before = self.pos;
            self.skip_space();
            if !self.peek().is_some_and(is_name_start) {
                self.pos = before;
                break;
            }
            let mut word = self.take_while(is_name_char);
            if word == "const" {
                constant = true;
                continue;
            }
            loop {
                if self.peek() == Some('<') {
                    self.template_arguments(&mut word);
                }
                if !(self.peek() == Some(':')
                    && self.peek_at(1) == Some(':')
                    && self.peek_at(2).is_some_and(is_name_start))
                {
                    break;
                }
                self.pos += 2;
                word.push_str("::");
                word.push_str(&self.take_while(is_name_char));
            }
            words.push(word);
        }
        (words.join(" "), constant)
    }

    /// `<...>` after a type's name (`Option<u32>`, `vector<int, std::allocator<int> >`),
    /// taken as written, since the debug info names the type with its
    /// arguments; left alone when it does not close.
    fn template_arguments(&mut self, word: &mut String) {
        let mut depth = 0usize;
        let mut end = self.pos;
        while let Some(&c) = self.chars.get(end) {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                '(' | ')' | '[' | ']' | '!' => return,
                _ => {}
            }
            end += 1;
            if depth == 0 || depth > MAX_TEMPLATE_DEPTH {
                break;
            }
        }
        if depth != 0 {
            return;
        }
        word.extend(&self.chars[self.pos..end]);
        self.pos = end;
    }

    /// The `*`s after a type name, each with whether `const` follows it.
    fn stars(&mut self) -> Vec<bool> {
        let mut stars = Vec::new();
        loop {
            self.skip_space();
            if !self.eat('*') {
                return stars;
            }
            let before = self.pos;
            self.skip_space();
            let word_end = self.pos + "const".len();
            let constant = self.chars.get(self.pos..word_end).is_some_and(|w| {
                w.iter().copied().eq("const".chars())
                    && !self.chars.get(word_end).copied().is_some_and(is_name_char)
            });
            if constant {
                self.pos = word_end;
            } else {
                self.pos = before;
            }
            stars.push(constant);
        }
    }
}

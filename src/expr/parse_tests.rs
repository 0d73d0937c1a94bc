//! Unit tests of the watch expression parser.

use super::*;

fn parse(text: &str) -> Watch {
    parse_watch(text).unwrap_or_else(|e| panic!("{text:?} must parse:\n{e}"))
}

fn sym(name: &str) -> Expr {
    Expr::Symbol(SymbolName {
        module: None,
        name: name.into(),
        column: 0,
    })
}

fn strip_columns(e: &Expr) -> Expr {
    match e {
        Expr::Symbol(s) => Expr::Symbol(SymbolName {
            column: 0,
            ..s.clone()
        }),
        Expr::Region { name, .. } => Expr::Region {
            name: name.clone(),
            column: 0,
        },
        Expr::Deref(inner) => Expr::Deref(Box::new(strip_columns(inner))),
        Expr::Binary { op, left, right } => Expr::Binary {
            op: *op,
            left: Box::new(strip_columns(left)),
            right: Box::new(strip_columns(right)),
        },
        Expr::Number(n) => Expr::Number(*n),
        Expr::Field { base, name, .. } => Expr::Field {
            base: Box::new(strip_columns(base)),
            name: name.clone(),
            column: 0,
        },
        Expr::Arrow { base, name, .. } => Expr::Arrow {
            base: Box::new(strip_columns(base)),
            name: name.clone(),
            column: 0,
        },
        Expr::Index { base, index, .. } => Expr::Index {
            base: Box::new(strip_columns(base)),
            index: Box::new(strip_columns(index)),
            column: 0,
        },
        Expr::AddressOf { expr, .. } => Expr::AddressOf {
            expr: Box::new(strip_columns(expr)),
            column: 0,
        },
        Expr::Cast { ty, expr } => Expr::Cast {
            ty: TypeName {
                column: 0,
                ..ty.clone()
            },
            expr: Box::new(strip_columns(expr)),
        },
        Expr::View { expr, ty } => Expr::View {
            expr: Box::new(strip_columns(expr)),
            ty: TypeName {
                column: 0,
                ..ty.clone()
            },
        },
    }
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    }
}

fn err(text: &str) -> ParseError {
    match parse_watch(text) {
        Ok(w) => panic!("{text:?} must not parse, got {w:?}"),
        Err(e) => e,
    }
}

#[test]
fn numbers_decimal_and_hex() {
    assert_eq!(parse("42").expr, Expr::Number(42));
    assert_eq!(parse("0x7fff_0000").expr, Expr::Number(0x7fff_0000));
    assert_eq!(parse("0XFF").expr, Expr::Number(255));
    assert_eq!(parse("18446744073709551615").expr, Expr::Number(u64::MAX));
}

#[test]
fn symbols_paths_and_modules() {
    assert_eq!(parse("counter").expr, sym("counter"));
    assert_eq!(
        strip_columns(&parse("app::STATE:u32").expr),
        sym("app::STATE")
    );
    assert_eq!(parse("app::STATE:u32").ty, Some(Type::scalar(Scalar::U32)));
    let w = parse("libc.so.6!environ");
    assert_eq!(
        w.expr,
        Expr::Symbol(SymbolName {
            module: Some("libc.so.6".into()),
            name: "environ".into(),
            column: 10
        })
    );
    let w = parse("libfoo-1.2!ns::table");
    match w.expr {
        Expr::Symbol(s) => {
            assert_eq!(s.module.as_deref(), Some("libfoo-1.2"));
            assert_eq!(s.name, "ns::table");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        strip_columns(&parse("`operator new(unsigned long)`").expr),
        sym("operator new(unsigned long)")
    );
}

#[test]
fn regions() {
    assert_eq!(
        parse("[heap]+16").expr,
        bin(
            BinOp::Add,
            Expr::Region {
                name: "[heap]".into(),
                column: 0
            },
            Expr::Number(16)
        )
    );
    assert_eq!(
        strip_columns(&parse("[libc.so.6]").expr),
        Expr::Region {
            name: "libc.so.6".into(),
            column: 0
        }
    );
}

#[test]
fn module_offsets_are_module_starts_plus_the_offset() {
    let region = |name: &str| Expr::Region {
        name: name.into(),
        column: 0,
    };
    let watch = parse("ninvaders!0x7928:u32");
    assert_eq!(
        strip_columns(&watch.expr),
        bin(BinOp::Add, region("ninvaders"), Expr::Number(0x7928))
    );
    assert_eq!(watch.ty.map(|t| t.to_string()).as_deref(), Some("u32"));
    assert_eq!(
        strip_columns(&parse("libc.so.6!0x10+8").expr),
        strip_columns(&parse("[libc.so.6]+0x10+8").expr)
    );
    // The offset binds to its module before any operator around it.
    let scaled = parse("m!16*2");
    assert_eq!(
        strip_columns(&scaled.expr),
        bin(
            BinOp::Mul,
            bin(BinOp::Add, region("m"), Expr::Number(16)),
            Expr::Number(2)
        )
    );
    let shown = scaled.to_string();
    assert_eq!(
        strip_columns(&parse(&shown).expr),
        strip_columns(&scaled.expr)
    );
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(
        strip_columns(&parse("table+8*3").expr),
        bin(
            BinOp::Add,
            sym("table"),
            bin(BinOp::Mul, Expr::Number(8), Expr::Number(3))
        )
    );
    assert_eq!(
        strip_columns(&parse("a-b-c").expr),
        bin(BinOp::Sub, bin(BinOp::Sub, sym("a"), sym("b")), sym("c"))
    );
    assert_eq!(
        strip_columns(&parse("(a+b)*2").expr),
        bin(
            BinOp::Mul,
            bin(BinOp::Add, sym("a"), sym("b")),
            Expr::Number(2)
        )
    );
    // Subtraction does not glue into a symbol name.
    assert_eq!(
        strip_columns(&parse("counter-4").expr),
        bin(BinOp::Sub, sym("counter"), Expr::Number(4))
    );
}

#[test]
fn derefs_chain_and_multiply() {
    let w = parse("*(*root+16)+8:i64");
    assert_eq!(
        strip_columns(&w.expr),
        bin(
            BinOp::Add,
            Expr::Deref(Box::new(bin(
                BinOp::Add,
                Expr::Deref(Box::new(sym("root"))),
                Expr::Number(16)
            ))),
            Expr::Number(8)
        )
    );
    assert_eq!(w.expr.depth(), 2);
    assert_eq!(
        strip_columns(&parse("a * *b").expr),
        bin(BinOp::Mul, sym("a"), Expr::Deref(Box::new(sym("b"))))
    );
    assert_eq!(
        strip_columns(&parse("**pp").expr),
        Expr::Deref(Box::new(Expr::Deref(Box::new(sym("pp")))))
    );
}

#[test]
fn every_type() {
    for (text, size) in [
        ("u8", 1),
        ("u16", 2),
        ("u32", 4),
        ("u64", 8),
        ("i8", 1),
        ("i16", 2),
        ("i32", 4),
        ("i64", 8),
        ("f32", 4),
        ("f64", 8),
        ("bool", 1),
        ("ptr", 8),
        ("char", 1),
        ("u32be", 4),
        ("f64be", 8),
        ("ptrbe", 8),
        ("u32[4]", 16),
        ("u8[2][3]", 6),
        ("cstr", crate::expr::types::CSTR_WINDOW),
        ("str[16]", 16),
        ("bytes[0x10]", 16),
    ] {
        let w = parse(&format!("x : {text}"));
        let ty = w.ty.expect("a type");
        assert_eq!(ty.size(), size, "{text}");
        assert_eq!(ty.to_string(), text.replace("0x10", "16"));
    }
}

#[test]
fn display_parses_back() {
    for text in [
        "counter",
        "*(*root + 16) + 8:i64",
        "table + 8 * 3:u64",
        "(a + b) * 2",
        "a - (b - c)",
        "libc.so.6!environ:ptr",
        "[heap] + 0x1000:bytes[4]",
        "`weird name`:u8[2]",
        "*(a * 2)",
        // A region named "[" once printed as an unclosed bracket.
        "[[]",
    ] {
        let w = parse(text);
        let again = parse(&w.to_string());
        assert_eq!(
            strip_columns(&again.expr),
            strip_columns(&w.expr),
            "{text} -> {w}"
        );
        assert_eq!(again.ty, w.ty);
    }
}

#[test]
fn errors_point_at_the_column() {
    for (text, column, expected) in [
        ("", 0, "expected a number, symbol"),
        ("counter +", 9, "the expression ended"),
        ("counter + :u32", 10, "expected a number, symbol"),
        ("(a+b", 4, "expected ')'"),
        ("a)", 1, "expected an operator"),
        ("[heap", 5, "expected ']'"),
        ("[]", 1, "expected a region name"),
        ("12abc", 2, "expected a decimal digit"),
        ("0x", 2, "expected hex digits"),
        ("0xfg", 3, "expected a hex digit"),
        ("99999999999999999999", 0, "does not fit in 64 bits"),
        ("p+010", 2, "a leading 0 is ambiguous"),
        (
            "libc!",
            5,
            "expected a symbol name or an offset after 'libc!'",
        ),
        ("game!0x", 7, "expected hex digits"),
        ("`open", 5, "expected '`'"),
        ("``", 0, "between the backquotes"),
        ("x:", 2, "expected a type"),
        ("x:u33", 2, "unknown type"),
        ("x:u8be", 2, "no byte order"),
        ("x:str", 5, "expected '['"),
        ("x:bytes[", 8, "expected a length"),
        ("x:bytes[0]", 8, "1..="),
        ("x:str[4", 7, "expected ']'"),
        ("x:cstr[2]", 6, "array of cstr"),
        ("x:u64[999999999]", 6, "1..="),
        ("x:u64[1048576]", 2, "larger than"),
        ("x:u32 y", 6, "expected the end"),
        ("x # y", 2, "expected an operator"),
        ("%x", 0, "expected a number, symbol"),
    ] {
        let e = err(text);
        assert_eq!(e.column, column, "{text:?}: {e}");
        assert!(e.message.contains(expected), "{text:?}: {e}");
    }
}

#[test]
fn error_display_puts_a_caret_under_the_column() {
    let e = err("counter + :u32");
    assert_eq!(
        e.to_string(),
        "expected a number, symbol, [region], '(' or '*' at column 11\n  counter + :u32\n            ^"
    );
}

#[test]
fn hostile_sizes_are_refused_with_a_clear_error() {
    let deep_parens = format!("{}1{}", "(".repeat(8000), ")".repeat(8000));
    let deep_derefs = format!("{}p", "*".repeat(8000));
    let long_chain = format!("1{}", "+1".repeat(50_000));
    let many_suffixes = format!("x:u8{}", "[1]".repeat(40_000));
    let few_suffixes = format!("x:u8{}", "[1]".repeat(9));
    let many_ops = format!("1{}", "+1".repeat(MAX_OPERATORS + 1));
    for (text, expected) in [
        (deep_parens.as_str(), "longer than"),
        (deep_derefs.as_str(), "longer than"),
        (long_chain.as_str(), "longer than"),
        (many_suffixes.as_str(), "longer than"),
        (few_suffixes.as_str(), "array dimensions"),
        (many_ops.as_str(), "operators"),
        (
            &format!("{}1{}", "(".repeat(65), ")".repeat(65)),
            "nest deeper",
        ),
        (&format!("{}p", "*".repeat(65)), "nest deeper"),
    ] {
        let e = err(text);
        assert!(e.message.contains(expected), "{e}");
        // The error stays short enough to read, whatever the input's length.
        assert!(e.to_string().len() < 500, "{}", e.to_string().len());
    }
    // Right at the limits it still parses.
    parse(&format!("{}1{}", "(".repeat(64), ")".repeat(64)));
    parse(&format!("1{}", "+1".repeat(MAX_OPERATORS)));
    parse(&format!("x:u8{}", "[1]".repeat(MAX_DIMENSIONS)));
}

#[test]
fn a_long_error_shows_a_window_with_the_caret_under_the_column() {
    let text = format!("{}+ :u8", "a".repeat(300));
    let e = err(&text);
    let shown = e.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    let caret = lines[2].find('^').expect("a caret");
    assert_eq!(lines[1].chars().nth(caret), Some(':'), "{shown}");
}

/// The C-like forms parse to their trees, print back to text that parses
/// to the same tree, and leave what parsed before as it was.
#[test]
fn c_access_forms_parse_and_print_back() {
    let cases = [
        ("hero.pos.x", "hero.pos.x"),
        ("team[2].pos.y", "team[2].pos.y"),
        ("grid[1][2]", "grid[1][2]"),
        ("list->next->value", "list->next->value"),
        ("*list", "*list"),
        ("&hero", "&hero"),
        ("(struct node *)0x5000", "(struct node *)0x5000"),
        ("(player*) 0x5000", "(player *)0x5000"),
        (
            "((struct node *)nodes)->next",
            "((struct node *)nodes)->next",
        ),
        ("[heap]+0x40 as struct node", "[heap] + 64 as struct node"),
        (
            "([heap] as struct node).next",
            "([heap] as struct node).next",
        ),
        (
            "libc!_IO_2_1_stdout_.file._fileno",
            "libc!_IO_2_1_stdout_.file._fileno",
        ),
        ("(*p).f", "(*p).f"),
        ("(16).f", "(16).f"),
        ("ns::Class::instance.member", "ns::Class::instance.member"),
        ("(struct node**)0x5000", "(struct node **)0x5000"),
        ("(const char *)motto", "(const char *)motto"),
        ("(char const*const *)0x10", "(const char * const *)16"),
        ("0x10 as char **", "16 as char **"),
        ("0x10 as game::world::Map", "16 as game::world::Map"),
        ("grid[i][n-1]", "grid[i][n - 1]"),
        ("team[hero.level * 2].name", "team[hero.level * 2].name"),
        ("p[*q]", "p[*q]"),
        (
            "&MAYBE as core::option::Option<u32>",
            "&MAYBE as core::option::Option<u32>",
        ),
        (
            "(std::vector<int, std::allocator<int> >::iterator *)0x10",
            "(std::vector<int, std::allocator<int> >::iterator *)16",
        ),
    ];
    for (text, shown) in cases {
        let w = parse(text);
        assert_eq!(w.to_string(), shown, "{text}");
        let again = parse(&w.to_string());
        assert_eq!(
            strip_columns(&again.expr),
            strip_columns(&w.expr),
            "{text} prints as {w}"
        );
    }
    // A symbol keeps its dots (a static `counter.0`); the evaluator splits.
    assert_eq!(strip_columns(&parse("hero.pos").expr), sym("hero.pos"));
    let w = parse("team[2].name");
    let Expr::Field { base, name, column } = &w.expr else {
        panic!("{:?}", w.expr)
    };
    assert_eq!((name.as_str(), *column), ("name", 7));
    assert!(matches!(&**base, Expr::Index { index, .. } if **index == Expr::Number(2)));
    let w = parse("(unsigned int *)0x10");
    let Expr::Cast { ty, .. } = &w.expr else {
        panic!("{:?}", w.expr)
    };
    assert_eq!((ty.name.as_str(), ty.pointers.len()), ("unsigned int", 1));
    let w = parse("(const struct node * const **)0x10");
    let Expr::Cast { ty, .. } = &w.expr else {
        panic!("{:?}", w.expr)
    };
    assert_eq!(
        (ty.name.as_str(), ty.constant, ty.pointers.as_slice()),
        ("struct node", true, &[true, false, false][..])
    );
    // A name that starts with `const` is a name, not the qualifier.
    let w = parse("(constant *)0x10");
    let Expr::Cast { ty, .. } = &w.expr else {
        panic!("{:?}", w.expr)
    };
    assert_eq!((ty.name.as_str(), ty.constant), ("constant", false));
    // Arithmetic in parentheses is no cast; types keep their `[N]`.
    assert!(matches!(parse("(a * b)").expr, Expr::Binary { .. }));
    assert!(matches!(parse("(a)").expr, Expr::Symbol(_)));
    assert_eq!(
        parse("xs:i16[4]").ty.map(|t| t.to_string()).as_deref(),
        Some("i16[4]")
    );
}

#[test]
fn c_access_errors_point_at_their_column() {
    let cases = [
        ("team[1].", 8, "expected a field name after '.'"),
        ("list->", 6, "expected a field name after '>'"),
        ("grid[]", 5, "expected an index"),
        ("grid[1 +]", 8, "expected a number"),
        ("grid[1", 6, "expected ']' after the index"),
        ("(struct node)0x10", 1, "a cast views an address"),
        ("0x10 as ", 8, "expected a type name after 'as'"),
    ];
    for (text, column, message) in cases {
        let err = parse_watch(text).expect_err(text);
        assert_eq!(err.column, column, "{text}: {err}");
        assert!(err.message.contains(message), "{text}: {err}");
    }
}

#[test]
fn postfix_steps_count_against_the_operator_limit() {
    let text = format!("a{}", "[1]".repeat(MAX_OPERATORS + 1));
    let err = parse_watch(&text).expect_err("too many steps");
    assert!(err.message.contains("operators"), "{err}");
    let text = format!("{}a", "&".repeat(MAX_NESTING + 1));
    assert!(parse_watch(&text).is_err());
}

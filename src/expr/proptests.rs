//! Property tests: no input makes the parser or the codecs panic, and what
//! they print parses back to the same thing.

use proptest::prelude::*;

use crate::expr::{Scalar, Type, parse_type, parse_watch};

/// Text drawn mostly from the grammar's own characters, so the parser gets deep.
fn grammar_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("*"),
            Just("+"),
            Just("-"),
            Just("("),
            Just(")"),
            Just("["),
            Just("]"),
            Just(":"),
            Just("::"),
            Just("!"),
            Just("`"),
            Just(" "),
            Just("0x"),
            Just("12"),
            Just("ff"),
            Just("counter"),
            Just("libc.so.6"),
            Just("heap"),
            Just("u32"),
            Just("be"),
            Just("str"),
            Just("bytes"),
            Just("cstr"),
            Just("[4]"),
            Just("é"),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

fn any_type() -> impl Strategy<Value = Type> {
    let scalar = (
        proptest::sample::select(Scalar::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(kind, be)| Type::Scalar {
            kind,
            big_endian: be && kind.has_byte_order(),
        });
    let leaf = prop_oneof![
        scalar,
        Just(Type::CStr),
        (1usize..40).prop_map(Type::Str),
        (1usize..40).prop_map(Type::Bytes),
    ];
    leaf.prop_recursive(2, 8, 1, |inner| {
        (inner, 1usize..5)
            .prop_filter("no arrays of cstr", |(t, _)| *t != Type::CStr)
            .prop_map(|(elem, len)| Type::Array {
                elem: Box::new(elem),
                len,
            })
    })
}

/// Text nested `depth` deep in one of the ways the grammar allows.
fn nested(kind: u8, depth: usize) -> String {
    match kind {
        0 => format!("{}1{}", "(".repeat(depth), ")".repeat(depth)),
        1 => format!("{}p", "*".repeat(depth)),
        2 => format!("1{}", "+1".repeat(depth)),
        3 => format!("x:u8{}", "[1]".repeat(depth)),
        4 => format!("{}p{}", "*(".repeat(depth), ")".repeat(depth)),
        _ => format!("a{}", "*b".repeat(depth)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// However deep the input, the parser and everything that walks its tree
    /// (printing, depth, drop) finish on a thread with the default 2 MiB stack.
    #[test]
    fn nesting_of_any_depth_is_parsed_or_refused_on_a_small_stack(
        kind in 0u8..6,
        depth in prop_oneof![0usize..300, 0usize..60_000],
    ) {
        let text = nested(kind, depth);
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || match parse_watch(&text) {
                Ok(watch) => {
                    let again = parse_watch(&watch.to_string()).is_ok();
                    let _ = watch.expr.depth();
                    let _ = watch.ty.as_ref().map(|t| t.size());
                    Ok(again)
                }
                Err(e) => Err(e.to_string().len()),
            })
            .expect("spawn")
            .join()
            .expect("no panic");
        match outcome {
            Ok(printed_parses) => prop_assert!(printed_parses),
            // A refusal stays short, whatever the input's length.
            Err(shown) => prop_assert!(shown < 1000),
        }
    }
}

proptest! {
    #[test]
    fn parser_never_panics_on_any_text(text in any::<String>()) {
        let _ = parse_watch(&text);
        let _ = parse_type(&text);
    }

    #[test]
    fn parser_never_panics_on_grammar_soup(text in grammar_text()) {
        match parse_watch(&text) {
            Ok(watch) => {
                let again = parse_watch(&watch.to_string());
                prop_assert!(again.is_ok(), "{} printed as {} does not parse", text, watch);
            }
            Err(e) => {
                prop_assert!(e.column <= text.chars().count());
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn types_print_and_parse_back(ty in any_type()) {
        prop_assert_eq!(parse_type(&ty.to_string()).ok(), Some(ty));
    }

    #[test]
    fn codecs_never_panic(ty in any_type(), text in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(encoded) = ty.encode(&text) {
            if ty != Type::CStr {
                prop_assert_eq!(encoded.len(), ty.size());
            }
        }
        let value = ty.decode(&bytes);
        let _ = value.to_string();
        let _ = value.to_json();
        let _ = value.as_f64();
    }

    #[test]
    fn decoded_values_encode_back_to_the_same_bytes(ty in any_type(), seed in proptest::collection::vec(any::<u8>(), 700)) {
        // Text types lose bytes after a NUL or invalid UTF-8, and NaN has many
        // bit patterns: only types whose every byte pattern prints exactly.
        fn exact(ty: &Type) -> bool {
            match ty {
                Type::Scalar { kind, .. } => !matches!(kind, Scalar::F32 | Scalar::F64 | Scalar::Bool),
                Type::Array { elem, .. } => exact(elem),
                Type::Bytes(_) => true,
                Type::CStr | Type::Str(_) | Type::Debug(_) => false,
            }
        }
        prop_assume!(exact(&ty));
        let bytes = &seed[..ty.size().min(seed.len())];
        let shown = ty.decode(bytes).to_string();
        prop_assert_eq!(ty.encode(&shown).ok(), Some(bytes.to_vec()), "{} shown as {}", ty, shown);
    }
}

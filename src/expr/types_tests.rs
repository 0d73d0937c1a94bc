//! Tests of the value types and their codecs.
use super::*;

fn ty(s: &str) -> Type {
    s.parse().expect("type parses")
}

#[test]
fn every_scalar_round_trips_its_extremes() {
    let cases: &[(&str, &[&str])] = &[
        ("u8", &["0", "255", "0x7f"]),
        ("u16", &["0", "65535"]),
        ("u32", &["0", "4294967295", "0xdeadbeef"]),
        ("u64", &["0", "18446744073709551615"]),
        ("i8", &["-128", "127", "0"]),
        ("i16", &["-32768", "32767"]),
        ("i32", &["-2147483648", "2147483647"]),
        ("i64", &["-9223372036854775808", "9223372036854775807"]),
        ("f32", &["1.5", "-0.25", "3.4028235e38"]),
        ("f64", &["2.718281828459045", "-1e300"]),
        ("bool", &["true", "false"]),
        ("ptr", &["0x7fffdeadbeef", "0"]),
        ("char", &["'a'", "'\\n'"]),
    ];
    for (name, values) in cases {
        for endian in ["", "be"] {
            let Ok(t) = format!("{name}{endian}").parse::<Type>() else {
                assert!(endian == "be" && ty(name).size() == 1, "{name}{endian}");
                continue;
            };
            for v in *values {
                let bytes = t.encode(v).unwrap_or_else(|e| panic!("{t} {v}: {e}"));
                assert_eq!(bytes.len(), t.size(), "{t} {v}");
                let decoded = t.decode(&bytes);
                assert_eq!(
                    t.encode(&decoded.to_string()).expect("re-encode"),
                    bytes,
                    "{t} {v}"
                );
            }
        }
    }
}

#[test]
fn out_of_range_values_are_refused() {
    for (t, v) in [
        ("u8", "256"),
        ("u8", "-1"),
        ("u16", "65536"),
        ("u32", "4294967296"),
        ("u64", "18446744073709551616"),
        ("i8", "128"),
        ("i8", "-129"),
        ("i16", "-32769"),
        ("i32", "2147483648"),
        ("i64", "9223372036854775808"),
        ("i8", "0x100"),
        ("f32", "1e39"),
        ("f32", "1e-300"),
        ("f32[2]", "1, -1e-46"),
        ("bool", "2"),
        ("char", "256"),
        ("char", "'ab'"),
        ("str[3]", "abcd"),
        ("bytes[2]", "aabbcc"),
        ("u8[2]", "1, 2, 3"),
        ("u8[2]", "1, 300"),
    ] {
        let err = ty(t)
            .encode(v)
            .expect_err(&format!("{t} {v} must be refused"));
        let base = t.split('[').next().unwrap_or(t);
        assert!(err.to_string().contains(base), "{err}");
    }
}

#[test]
fn signed_types_take_hex_as_a_bit_pattern() {
    assert_eq!(ty("i8").encode("0xff").expect("i8 0xff"), vec![0xff]);
    assert_eq!(
        ty("i16").encode("-0x10").expect("-0x10"),
        (-16i16).to_le_bytes()
    );
    assert_eq!(ty("i8").decode(&[0xff]), Value::Signed(-1));
}

#[test]
fn endianness_orders_the_bytes() {
    assert_eq!(
        ty("u32").encode("0x01020304").expect("le"),
        vec![4, 3, 2, 1]
    );
    assert_eq!(
        ty("u32be").encode("0x01020304").expect("be"),
        vec![1, 2, 3, 4]
    );
    assert_eq!(ty("u16be").decode(&[0x12, 0x34]), Value::Unsigned(0x1234));
    assert_eq!(ty("u16").decode(&[0x12, 0x34]), Value::Unsigned(0x3412));
    assert_eq!(ty("f64be").decode(&2.5f64.to_be_bytes()), Value::Float(2.5));
}

#[test]
fn strings_bytes_and_arrays() {
    assert_eq!(ty("cstr").encode("\"hi\\n\"").expect("cstr"), b"hi\n\0");
    assert_eq!(
        ty("cstr").decode(b"hello\0junk"),
        Value::Str("hello".into())
    );
    assert_eq!(ty("str[4]").encode("ab").expect("str"), b"ab\0\0");
    assert_eq!(ty("str[4]").decode(b"abcdef"), Value::Str("abcd".into()));
    assert!(ty("cstr").encode("\"a\\0b\"").is_err());
    assert!(ty("cstr").encode("\"open").is_err());
    assert_eq!(
        ty("bytes[3]").encode("de ad be").expect("bytes"),
        vec![0xde, 0xad, 0xbe]
    );
    assert_eq!(
        ty("bytes[2]").encode("0xbeef").expect("bytes"),
        vec![0xbe, 0xef]
    );
    assert_eq!(ty("bytes[2]").decode(&[1, 0xab]).to_string(), "01 ab");
    let arr = ty("i16[3]");
    let bytes = arr.encode("[1, -2, 3]").expect("array");
    assert_eq!(
        bytes,
        [1i16, -2, 3]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>()
    );
    assert_eq!(arr.decode(&bytes).to_string(), "[1, -2, 3]");
    let strs = ty("str[2][2]");
    assert_eq!(strs.encode("\"a,\", b").expect("nested"), b"a,b\0");
}

#[test]
fn symbol_sizes_pick_a_type() {
    assert_eq!(Type::for_symbol_size(4).to_string(), "u32");
    assert_eq!(Type::for_symbol_size(1).to_string(), "u8");
    assert_eq!(Type::for_symbol_size(12).to_string(), "bytes[12]");
    assert_eq!(Type::for_symbol_size(0).to_string(), "u64");
}

#[test]
fn values_as_numbers_and_json() {
    assert_eq!(Value::Signed(-3).as_f64(), Some(-3.0));
    assert_eq!(Value::Bool(true).as_f64(), Some(1.0));
    assert_eq!(Value::Str("x".into()).as_f64(), None);
    assert_eq!(
        Value::Unsigned(u64::MAX).to_json(),
        serde_json::json!(u64::MAX)
    );
    assert_eq!(Value::Pointer(0x10).to_json(), serde_json::json!("0x10"));
    assert_eq!(Value::Float(f64::NAN).to_json(), serde_json::json!("NaN"));
    assert_eq!(
        Value::Array(vec![Value::Bool(true), Value::Char(b'a')]).to_json(),
        serde_json::json!([true, "a"])
    );
}

#[test]
fn f32_shows_its_shortest_form() {
    let t = ty("f32");
    let bytes = t.encode("1.1").expect("f32");
    assert_eq!(t.decode(&bytes).to_string(), "1.1");
    assert_eq!(t.encode("1.1").expect("again"), bytes);
}

#[test]
fn short_input_decodes_without_panicking() {
    assert_eq!(ty("u64").decode(&[1]), Value::Unsigned(1));
    assert_eq!(ty("u8[3]").decode(&[7]).to_string(), "[7, 0, 0]");
    assert_eq!(ty("bytes[4]").decode(&[1]), Value::Bytes(vec![1]));
}

#[test]
fn a_cstr_is_its_bytes_up_to_the_nul() {
    assert_eq!(Type::CStr.significant(b"ab\0junk"), b"ab\0");
    assert_eq!(ty("u8[3]").significant(b"a\0b"), b"a\0b");
}

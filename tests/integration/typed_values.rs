//! Values of the types the DWARF codec must follow, written and read in a
//! real target (`tests/fixtures/typed_values.c`), checked against what the
//! target itself prints.

use crate::util::{Fixture, fixture, pvtui_ok, skip_unless_root};

fn target() -> Fixture {
    Fixture::spawn(&fixture("typed_values", "", &["-O0"]), &[])
}

/// What the target says `name` holds now.
fn shown(fx: &mut Fixture, name: &str) -> String {
    fx.send("show");
    let line = fx.expect_line("show");
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        .to_string()
}

fn write(fx: &Fixture, expr: &str, value: &str) -> (bool, String) {
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["write", "--pid", &pid, expr, "--", value]);
    (ok, format!("{out}{err}"))
}

/// `pvtui read` of one expression: its value as printed.
fn read(fx: &Fixture, expr: &str) -> String {
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["read", "--pid", &pid, expr]);
    assert!(ok, "read {expr}: {err}");
    let value = out
        .trim()
        .strip_prefix(&format!("{expr} = "))
        .unwrap_or_else(|| panic!("unexpected {out:?}"));
    value.split("  (").next().unwrap_or(value).to_string()
}

#[test]
fn int128_writes_are_twos_complement_over_128_bits_with_the_full_ranges() {
    if skip_unless_root(
        "int128_writes_are_twos_complement_over_128_bits_with_the_full_ranges",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut fx = target();
    let cases = [
        ("wide_signed", "-5", "fffffffffffffffffffffffffffffffb"),
        ("wide_signed", "-1", "ffffffffffffffffffffffffffffffff"),
        (
            "wide_signed",
            "-170141183460469231731687303715884105728",
            "80000000000000000000000000000000",
        ),
        (
            "wide_signed",
            "170141183460469231731687303715884105727",
            "7fffffffffffffffffffffffffffffff",
        ),
        ("wide_unsigned", "0", "00000000000000000000000000000000"),
        (
            "wide_unsigned",
            "340282366920938463463374607431768211455",
            "ffffffffffffffffffffffffffffffff",
        ),
    ];
    for (expr, value, bits) in cases {
        let (ok, said) = write(&fx, expr, value);
        assert!(ok, "write {expr} {value}: {said}");
        assert_eq!(shown(&mut fx, expr), bits, "{expr} = {value}");
        assert_eq!(read(&fx, expr), value, "{expr} read back");
    }
    for (expr, value) in [
        ("wide_signed", "170141183460469231731687303715884105728"),
        ("wide_signed", "-170141183460469231731687303715884105729"),
        ("wide_unsigned", "-1"),
        ("wide_unsigned", "340282366920938463463374607431768211456"),
    ] {
        let before = shown(&mut fx, expr);
        let (ok, said) = write(&fx, expr, value);
        assert!(!ok, "{expr} = {value} was taken: {said}");
        assert!(said.contains("128 bits"), "{said}");
        assert_eq!(
            shown(&mut fx, expr),
            before,
            "a refused write changed {expr}"
        );
    }
}

#[test]
fn a_sign_after_the_radix_prefix_and_a_leading_zero_are_refused() {
    if skip_unless_root(
        "a_sign_after_the_radix_prefix_and_a_leading_zero_are_refused",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut fx = target();
    // Through the DWARF type and through an explicit one alike.
    for expr in ["plain", "plain:i32"] {
        let (ok, said) = write(&fx, expr, "0x-10");
        assert!(!ok, "{expr} = 0x-10 was taken: {said}");
        let (ok, said) = write(&fx, expr, "010");
        assert!(!ok, "{expr} = 010 was taken: {said}");
        assert!(
            said.contains("0o10") && said.contains("ambiguous"),
            "{said}"
        );
        assert_eq!(shown(&mut fx, "plain"), "1", "a refused write landed");
    }
    let (ok, said) = write(&fx, "plain", "0o10");
    assert!(ok, "{said}");
    assert_eq!(shown(&mut fx, "plain"), "8");
}

#[test]
fn atomic_and_restrict_types_read_and_write_as_the_types_under_them() {
    if skip_unless_root(
        "atomic_and_restrict_types_read_and_write_as_the_types_under_them",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut fx = target();
    assert_eq!(read(&fx, "atomic_count"), "5");
    assert_eq!(read(&fx, "with_atomic"), "{counter = 7, after = 8}");
    let (ok, said) = write(&fx, "atomic_count", "9");
    assert!(ok, "{said}");
    let (ok, said) = write(&fx, "with_atomic.counter", "-11");
    assert!(ok, "{said}");
    assert_eq!(shown(&mut fx, "atomic_count"), "9");
    assert_eq!(shown(&mut fx, "counter"), "-11");
    assert_eq!(
        shown(&mut fx, "after"),
        "8",
        "the field after kept its place"
    );
    // A restrict pointer is a typed pointer: `*` reads an int, not 8 bytes.
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["read", "--pid", &pid, "*restricted"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("*restricted = 1  (int at "), "{out}");
    let (ok, out, err) = pvtui_ok(&["type", "--pid", &pid, "struct with_atomic"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("|       8 */    _Atomic long int counter;"),
        "{out}"
    );
    assert!(
        !out.contains("8-byte padding"),
        "the atomic has its size:\n{out}"
    );
}

#[test]
fn an_explicit_type_after_an_index_on_a_variable_applies_to_the_final_place() {
    if skip_unless_root(
        "an_explicit_type_after_an_index_on_a_variable_applies_to_the_final_place",
        "reading a fixture's memory",
    ) {
        return;
    }
    let fx = target();
    assert_eq!(read(&fx, "packs[1].c:u8"), "98");
    assert_eq!(read(&fx, "packs[1].i:u16"), "3");
    assert_eq!(read(&fx, "packs[0].s:i16"), "2");
    // The pointer names[1] as a number: the same address its string is at.
    let as_number: u64 = read(&fx, "names[1]:u64").parse().expect("a number");
    let typed = read(&fx, "names[1]");
    assert!(
        typed.starts_with(&format!("{as_number:#x} ")),
        "{typed} vs {as_number:#x}"
    );
    assert_eq!(read(&fx, "*names[1]:u8"), "116", "'t' of \"two\"");
}

#[test]
fn a_long_double_reads_and_writes_as_a_number() {
    if skip_unless_root(
        "a_long_double_reads_and_writes_as_a_number",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut fx = target();
    assert_eq!(read(&fx, "extended"), "3.25");
    let (ok, said) = write(&fx, "extended", "-1234.5");
    assert!(ok, "{said}");
    assert_eq!(shown(&mut fx, "extended"), "-1234.5");
    assert_eq!(read(&fx, "extended"), "-1234.5");
}

#[test]
fn a_wchar_t_shows_its_character_as_gdb_does() {
    if skip_unless_root(
        "a_wchar_t_shows_its_character_as_gdb_does",
        "reading a fixture's memory",
    ) {
        return;
    }
    let fx = target();
    assert_eq!(read(&fx, "wide_char"), "1046 '\u{416}'");
}

#[test]
fn a_typed_pointer_is_named_where_it_points() {
    if skip_unless_root(
        "a_typed_pointer_is_named_where_it_points",
        "reading a fixture's memory",
    ) {
        return;
    }
    let fx = target();
    let shown = read(&fx, "callback");
    assert!(shown.ends_with(" -> typed_values!square"), "{shown}");
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["read", "--json", "--pid", &pid, "callback"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(r#""points_to":"typed_values!square""#),
        "{out}"
    );
}

#[test]
fn a_complex_reads_as_its_parts_and_writes_part_by_part() {
    if skip_unless_root(
        "a_complex_reads_as_its_parts_and_writes_part_by_part",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut fx = target();
    assert_eq!(read(&fx, "wave"), "{real = 1.5, imag = 2.5}");
    let (ok, said) = write(&fx, "wave.imag", "-4");
    assert!(ok, "{said}");
    assert_eq!(shown(&mut fx, "wave"), "1.5-4i");
}

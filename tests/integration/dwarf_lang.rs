//! The C-like grammar over DWARF types, end to end on the C fixture:
//! casts with any number of `*` and `const`, indexes computed from the
//! target's own variables each tick, `char[N]` written as a string, and
//! the exit status of a name nobody defines.

use pvtui::expr::{Status, WatchSet, parse_watch};
use pvtui::process::ReadMode;
use pvtui::session::{DEFAULT_DEADLINE, Session};
use serde_json::Value as Json;

use crate::debuginfo::{as_text, c_fixture, inspect, rust_fixture, same, write};
use crate::util::{Fixture, run_pvtui};

fn c_target() -> Fixture {
    Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[])
}

/// A read's value, or the value inside a pointer's `{value, string}`.
fn text_of(got: &Json) -> String {
    as_text(&got["value"])
}

#[test]
fn casts_take_any_number_of_stars_and_const() {
    let fx = c_target();
    let cases: &[(&str, &str)] = &[
        ("(*(struct node **)&list)->value", "list.value"),
        ("(&list as struct node *)->next->value", "list.next.value"),
        (
            "(*(struct node * const *)&list)->next->value",
            "list.next.value",
        ),
        ("((const struct node *)nodes)->value", "list.value"),
        ("((const char **)titles)[1]", "titles[1]"),
        ("*(&title_ref as char **)", "titles[1]"),
    ];
    let exprs: Vec<&str> = cases.iter().map(|(e, _)| *e).collect();
    let got = inspect(fx.pid, &[], &exprs);
    for ((expr, key), got) in cases.iter().zip(&got) {
        assert!(same(&text_of(got), fx.var(key)), "{expr}: {got}");
    }
    // The types the casts name, as C writes them.
    let types = [
        ("*(const struct node *)nodes", "const struct node"),
        ("((const char **)titles)[1]", "const char *"),
        ("&list as struct node * const", "struct node * const"),
        ("&title_ref as char **", "char **"),
        ("*(struct node **)&list", "struct node *"),
    ];
    let exprs: Vec<&str> = types.iter().map(|(e, _)| *e).collect();
    for ((expr, ty), got) in types.iter().zip(inspect(fx.pid, &[], &exprs)) {
        assert_eq!(got["type"], *ty, "{expr}: {got}");
    }
    // A cast with no '*' is an error pointing at the type.
    let pid = fx.pid.to_string();
    let (code, _, err) = run_pvtui(&["read", "--pid", &pid, "(struct node)nodes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a cast views an address"), "{err}");
}

#[test]
fn indexes_computed_from_variables_match_the_fixture() {
    let fx = c_target();
    let cases: &[(&str, &str)] = &[
        ("grid[row][col]", "grid[row][col]"),
        ("team[slot].pos.y", "team[slot].pos.y"),
        ("grid[row - 1 + 1][col * 2 - col]", "grid[row][col]"),
        ("titles[row]", "titles[1]"),
        ("list[row].value", "list.next.value"),
        // Bitfields as indexes: alive = 1, and mood = -3 sign-extended.
        ("grid[hero.alive - 1][hero.mood + 4]", "grid[0][1]"),
    ];
    let exprs: Vec<&str> = cases.iter().map(|(e, _)| *e).collect();
    let got = inspect(fx.pid, &[], &exprs);
    for ((expr, key), got) in cases.iter().zip(&got) {
        assert!(same(&text_of(got), fx.var(key)), "{expr}: {got}");
    }
    let pid = fx.pid.to_string();
    let (code, out, _) = run_pvtui(&[
        "read",
        "--pid",
        &pid,
        "--json",
        "grid[row][col + 1]",
        "team[slot - 3]",
        "grid[ratio]",
    ]);
    // grid[ratio] is a bad expression (exit status 2); the two indexes past
    // the arrays' ends are values that were not read.
    assert_eq!(code, 2, "{out}");
    let errors: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("JSON"))
        .map(|j| j["error"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        errors[0].contains("index 3 is out of bounds for int[3] (3 elements)"),
        "{errors:?}"
    );
    assert!(errors[1].contains("index -1 is negative"), "{errors:?}");
    assert!(errors[2].contains("not an integer"), "{errors:?}");
}

/// One watch set, resolved once: writing the index variables moves the
/// element it reads, on the next poll, with no new resolution.
#[test]
fn an_index_variable_is_read_on_every_poll() {
    let fx = c_target();
    let mut session = Session::attach(fx.pid, DEFAULT_DEADLINE).expect("attach");
    let mut set = WatchSet::new();
    let cell = set.add(parse_watch("grid[row][col]").expect("parses"));
    let next = set.add(parse_watch("grid[row][col + 1]").expect("parses"));
    let mut poll = |session: &mut Session| {
        let readings = session.poll(&mut set, ReadMode::Force).expect("poll");
        let shown = |i: usize| match &readings[i].status {
            Status::Error(why) => format!("error: {why}"),
            _ => readings[i]
                .value
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        };
        assert_eq!((readings[0].id, readings[1].id), (cell, next));
        (shown(0), shown(1))
    };
    let (a, b) = poll(&mut session);
    assert_eq!(a, fx.var("grid[row][col]"));
    assert!(b.contains("out of bounds"), "{b}");

    let at = |session: &Session, name: &str| session.lookup(None, name).expect(name).addr;
    let (row, col) = (at(&session, "row"), at(&session, "col"));
    session.write(row, &0i32.to_le_bytes()).expect("write row");
    session.write(col, &1i32.to_le_bytes()).expect("write col");
    // grid[0][1] and grid[0][2], as the fixture printed them.
    assert_eq!(poll(&mut session), ("2".to_string(), "3".to_string()));
    session
        .write(row, &(-1i32).to_le_bytes())
        .expect("write row");
    let (a, _) = poll(&mut session);
    assert!(a.contains("index -1 is negative"), "{a}");
}

#[test]
fn a_char_array_is_written_as_a_string() {
    let mut fx = c_target();
    let wrote = write(fx.pid, "hero.name", "\"zed\"");
    assert_eq!(
        (&wrote["old"], &wrote["new"]),
        (&Json::from("ada"), &Json::from("zed"))
    );
    write(fx.pid, "greeting", "bye");
    fx.send("names");
    assert_eq!(fx.expect_line("names "), "names hero.name=zed greeting=bye");
    // Eight bytes leave no room for the NUL of a char[8]: refused, unchanged.
    let pid = fx.pid.to_string();
    let (code, _, err) = run_pvtui(&["write", "--pid", &pid, "greeting", "12345678"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("do not fit in char[8]"), "{err}");
    fx.send("names");
    assert_eq!(fx.expect_line("names "), "names hero.name=zed greeting=bye");
    // A whole array of numbers is still written one element at a time.
    let (code, _, err) = run_pvtui(&["write", "--pid", &pid, "grid[0]", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("write one of its elements"), "{err}");
}

/// `type` of an unknown type exits as `write` of an unknown symbol does:
/// both are the user's input naming nothing (status 2).
#[test]
fn a_missing_type_exits_as_a_missing_symbol_does() {
    let fx = c_target();
    let pid = fx.pid.to_string();
    let (type_code, _, type_err) = run_pvtui(&["type", "--pid", &pid, "struct nosuch"]);
    let (write_code, _, write_err) = run_pvtui(&["write", "--pid", &pid, "nosuch", "1"]);
    assert_eq!(type_code, 2, "{type_err}");
    assert_eq!(write_code, type_code, "{write_err}");
    assert!(type_err.contains("no type \"struct nosuch\""), "{type_err}");
    let (code, _, err) = run_pvtui(&["type", "--pid", &pid, "nosuch!player"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = run_pvtui(&["type", "--pid", &pid, "struct player"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("type = struct player {"), "{out}");
}

#[test]
fn a_function_static_reads_by_its_debug_info_name_with_its_type() {
    let fx = c_target();
    let got = inspect(fx.pid, &[], &["fn_static", "main::fn_static"]);
    for read in &got {
        assert_eq!(read["type"], "int", "{read}");
        assert_eq!(as_text(&read["value"]), fx.var("fn_static"), "{read}");
        // The symbol table names it apart (`fn_static.N`), at that address.
        let place = read["place"].as_str().unwrap_or_default();
        assert!(place.contains("!fn_static."), "{read}");
    }
    // Two functions hold a `shared_name`: the bare name picks neither.
    let pid = fx.pid.to_string();
    let (code, out, err) = run_pvtui(&["read", "--pid", &pid, "shared_name"]);
    assert_ne!(code, 0, "an ambiguous name read: {out}");
    assert!(
        format!("{out}{err}").contains(
            "\"shared_name\" is ambiguous: say which of main::shared_name, other::shared_name"
        ),
        "{out}{err}"
    );
}

#[test]
fn a_rust_str_shows_its_text() {
    let fx = Fixture::spawn(&rust_fixture(), &[]);
    let got = inspect(fx.pid, &[], &["MOTTO", "LONG"]);
    let motto = &got[0]["value"];
    assert_eq!(got[0]["type"], "&str", "{}", got[0]);
    assert_eq!(as_text(motto), fx.var("MOTTO"), "{motto}");
    assert_eq!(
        motto["length"].to_string(),
        fx.var("MOTTO").len().to_string()
    );
    // A long one: its length whole, its text cut where a read stops.
    let long = &got[1]["value"];
    assert_eq!(long["length"].to_string(), fx.var("LONG.len"), "{long}");
    let text = as_text(long);
    assert!(
        !text.is_empty() && text.len() < 300 && text.bytes().all(|b| b == b'z'),
        "{long}"
    );
    let pid = fx.pid.to_string();
    let (code, out, err) = run_pvtui(&["read", "--pid", &pid, "MOTTO", "LONG"]);
    assert_eq!(code, 0, "{err}");
    let escaped = format!("{:?}", fx.var("MOTTO"));
    assert!(out.contains(&format!("MOTTO = {escaped}  (&str")), "{out}");
    assert!(out.contains("zzz\"...  (&str"), "{out}");
}

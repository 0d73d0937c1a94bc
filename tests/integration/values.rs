//! Values typed by the target's debug info, written and held: a bitfield
//! changes only its own bits, and every write respects its type's range.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use crossterm::event::KeyCode;
use pvtui::expr::Value;
use pvtui::tui::hunt::HuntList;
use serde_json::Value as Json;

use crate::tui::Ui;
use crate::util::{Fixture, PATIENCE, fixture, pvtui_bin, run_pvtui};

fn dwarf_types() -> Fixture {
    Fixture::spawn(&fixture("dwarf_types", "dwarf5", &["-gdwarf-5"]), &[])
}

/// `pvtui read --json EXPR` of one expression.
fn read_json(pid: i32, expr: &str) -> Json {
    let (code, out, err) = run_pvtui(&["read", "--json", "--pid", &pid.to_string(), expr]);
    assert_eq!(code, 0, "read {expr}: {err}{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{out}: {e}"))
}

/// The fixture's own view of its bitfields, from its `bits` command.
fn bits(fx: &mut Fixture) -> String {
    fx.send("bits");
    fx.expect_line("bits ")
}

/// Sets hero's bitfields in one 16-bit store, as the target's own code
/// would: alive 1, level 1, mood 2, pad 100.
fn store_bits(fx: &Fixture) {
    let at = read_json(fx.pid, "hero.level")["address"]
        .as_str()
        .expect("an address")
        .to_string();
    let word = 1 | (1 << 1) | (2 << 6) | (100 << 9);
    let (code, out, err) = run_pvtui(&[
        "write",
        "--pid",
        &fx.pid.to_string(),
        &format!("{at}:u16"),
        &word.to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_frozen_bitfield_in_the_ui_leaves_its_neighbours_to_the_target() {
    let mut fx = dwarf_types();
    let mut ui = Ui::start(&fx, &["hero.level".to_string()]);
    ui.until("hero.level", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    ui.key(KeyCode::Char('f'));
    ui.until("the freeze", |app| app.watches.rows[0].frozen.is_some());
    store_bits(&fx);
    // The poller holds on its own thread: once the target sees level 17
    // again, a rewrite came after the store.
    let until = Instant::now() + PATIENCE;
    let seen = loop {
        let seen = bits(&mut fx);
        if seen.contains("level=17") {
            break seen;
        }
        assert!(Instant::now() < until, "the freeze never put level back");
    };
    assert_eq!(seen, "bits alive=1 level=17 mood=2 pad=100");
    drop(ui);
}

#[test]
fn cli_freeze_of_a_bitfield_holds_its_own_bits_only() {
    let mut fx = dwarf_types();
    let pid = fx.pid.to_string();
    let mut freeze = Command::new(pvtui_bin())
        .args(["freeze", "--json", "--pid", &pid, "hero.level", "9"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui freeze");
    let mut out = BufReader::new(freeze.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a line");
    let holding: Json = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(holding["event"], "holding", "{line}");
    assert_eq!(bits(&mut fx), "bits alive=1 level=9 mood=-3 pad=100");
    store_bits(&fx);
    let until = Instant::now() + PATIENCE;
    while read_json(fx.pid, "hero.level")["value"] != 9 {
        assert!(Instant::now() < until, "the freeze never put level back");
    }
    assert_eq!(bits(&mut fx), "bits alive=1 level=9 mood=2 pad=100");
    let _ = freeze.kill();
    let _ = freeze.wait();
}

#[test]
fn float_writes_outside_the_type_are_refused_and_nothing_is_written() {
    let fx = dwarf_types();
    let pid = fx.pid.to_string();
    for (expr, value, why) in [
        ("ratio", "1e400", "out of range for f64"),
        ("ratio:f64", "-1e400", "out of range for f64"),
        ("ratio", "1e-400", "too small for f64"),
        ("pun.f", "1e39", "out of range for f32"),
        ("pun.f", "1e-300", "too small for f32"),
    ] {
        let (code, out, err) = run_pvtui(&["write", "--pid", &pid, expr, value]);
        assert_eq!(code, 2, "{expr} = {value}: {out}{err}");
        assert!(err.contains(why), "{expr} = {value}: {err}");
    }
    assert_eq!(read_json(fx.pid, "ratio")["value"], 0.25);
    assert_eq!(read_json(fx.pid, "pun.f")["value"], 1.5);
    // In range, the same paths write.
    let (code, out, err) = run_pvtui(&["write", "--pid", &pid, "ratio", "-inf"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_pvtui(&["write", "--pid", &pid, "pun.f", "3e38"]);
    assert_eq!(code, 0, "{out}{err}");
    let got = read_json(fx.pid, "pun.f")["value"].as_f64();
    assert_eq!(got.map(|v| v as f32), Some(3e38f32));
}

#[test]
fn a_pointer_chain_to_a_debug_info_watch_adds_a_working_watch() {
    let fx = dwarf_types();
    let mut ui = Ui::start(&fx, &["nodes[1].value".to_string()]);
    ui.until("nodes[1].value", |app| {
        app.watches.rows.first().is_some_and(|w| w.addr.is_some())
    });
    ui.key(KeyCode::Char('P'));
    // The bounds prompt opens with the defaults; Enter takes them.
    ui.until("the bounds prompt", |app| app.input.is_some());
    ui.key(KeyCode::Enter);
    ui.until("the pointer scan's end", |app| {
        app.hunt.as_ref().is_some_and(|h| !h.running)
    });
    let chain = match &ui.app().hunt.as_ref().expect("the overlay").list {
        HuntList::Pointers(chains) => chains.first().map(|c| c.expr.clone()),
        HuntList::Writers(_) => None,
    }
    .unwrap_or_else(|| panic!("no chain to nodes[1]:\n{}", ui.screen()));
    // `int` is named as the type every expression knows.
    assert!(chain.ends_with(":i32"), "{chain}");
    ui.key(KeyCode::Enter);
    ui.until("the chain added as a watch reading 200", |app| {
        app.hunt.is_none()
            && app
                .watches
                .rows
                .get(1)
                .is_some_and(|w| w.expr == chain && w.value == Some(Value::Signed(200)))
    });
}

#[test]
fn a_failure_in_the_write_log_reads_whole_under_the_table() {
    let fx = dwarf_types();
    // A constant string: its page is read-only, so the freeze fails.
    let expr = "*(motto + 0x0000000000000000):u8";
    let mut ui = Ui::start(&fx, &[expr.to_string()]);
    ui.until("the string's first byte", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    ui.key(KeyCode::Char('f'));
    ui.until("the refused freeze in the log", |app| {
        app.log.entries.first().is_some_and(|e| !e.ok)
    });
    let result = ui.app().log.entries[0].result.clone();
    ui.key(KeyCode::Char('5'));
    ui.until("the write log", |app| {
        app.pane == pvtui::tui::app::Pane::Log
    });
    let screen = ui.screen();
    let row = screen
        .lines()
        .find(|l| l.contains("freeze"))
        .unwrap_or_else(|| panic!("no freeze row:\n{screen}"));
    assert!(
        !row.contains(&result),
        "the table cuts it here: {row}\n{screen}"
    );
    let wrapped = pvtui::tui::layout::wrap(&format!("result: {result}"), 108);
    for part in &wrapped {
        assert!(
            screen.contains(part.as_str()),
            "{part:?} is not shown:\n{screen}"
        );
    }
}

#[test]
fn cpp_members_of_a_base_class_are_reached_through_the_derived_one() {
    if crate::util::skip_without_program(
        "cpp_members_of_a_base_class_are_reached_through_the_derived_one",
        "g++",
    ) {
        return;
    }
    let bin = crate::debuginfo::build_with(
        "dwarf_bases",
        "cc",
        Command::new("g++").args(["-O1", "-g", "-o"]),
    );
    let fx = Fixture::spawn(&bin, &[]);
    for (expr, key) in [
        ("game::world::pp->id", "id"),
        ("game::world::player.id", "id"),
        ("game::world::player.pos.y", "pos.y"),
        ("game::world::pp->pos.y", "pos.y"),
        ("game::world::player.hp", "hp"),
    ] {
        let got = read_json(fx.pid, expr);
        assert_eq!(got["value"].to_string(), fx.var(key), "{expr}: {got}");
    }
}

#[test]
fn non_finite_floats_read_the_same_in_json_with_or_without_debug_info() {
    let fx = dwarf_types();
    let pid = fx.pid.to_string();
    for (expr, value) in [("ratio", "nan"), ("pun.f", "-inf")] {
        let (code, out, err) = run_pvtui(&["write", "--pid", &pid, expr, value]);
        assert_eq!(code, 0, "{out}{err}");
    }
    assert_eq!(read_json(fx.pid, "ratio")["value"], "NaN");
    assert_eq!(read_json(fx.pid, "ratio:f64")["value"], "NaN");
    assert_eq!(read_json(fx.pid, "pun.f")["value"], "-inf");
    assert_eq!(read_json(fx.pid, "pun.f:f32")["value"], "-inf");
}

#[test]
fn a_stripped_program_names_places_by_its_debug_files_symbols() {
    use crate::debuginfo::{scratch, split_by_build_id};
    if crate::util::skip_without_program(
        "a_stripped_program_names_places_by_its_debug_files_symbols",
        "objcopy",
    ) {
        return;
    }
    let (dir, bin) = scratch(
        "stripall",
        &fixture("dwarf_types", "buildid", &["-gdwarf-5", "-Wl,--build-id"]),
    );
    // No .symtab left: the program's own file names nothing but its exports.
    let (root, _debug) = split_by_build_id(&dir, &bin, "--strip-all");
    let fx = Fixture::spawn(&bin, &[]);
    let (code, out, err) = run_pvtui(&[
        "read",
        "--json",
        "--pid",
        &fx.pid.to_string(),
        "--debug-dir",
        root.to_str().expect("utf-8"),
        "hero.level",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let got: Json = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(got["value"], 17, "{got}");
    assert_eq!(got["place"], "stripall!hero+0x24", "{got}");
}

#[test]
fn a_debug_info_float_prints_with_float_digits_not_double_ones() {
    let fx = dwarf_types();
    let pid = fx.pid.to_string();
    let (code, out, err) = run_pvtui(&["write", "--pid", &pid, "pun.f", "12.141422"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run_pvtui(&["read", "--pid", &pid, "pun.f", "pun.f:f32"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("pun.f = 12.141422 "), "{out}");
    assert!(lines[1].starts_with("pun.f:f32 = 12.141422 "), "{out}");
    assert_eq!(read_json(fx.pid, "pun.f")["value"], 12.141422);
}

#[test]
fn a_thread_local_variable_is_named_as_such_not_as_missing() {
    let fx = Fixture::spawn(&fixture("thread_local", "", &[]), &[]);
    let (code, out, err) = run_pvtui(&["read", "--pid", &fx.pid.to_string(), "tls_counter"]);
    assert_ne!(code, 0, "{out}{err}");
    let said = format!("{out}{err}");
    assert!(
        said.contains("tls_counter is a thread-local variable"),
        "{said}"
    );
    assert!(!said.contains("no symbol"), "{said}");
}

#[test]
fn the_address_of_an_address_is_refused() {
    let fx = dwarf_types();
    let pid = fx.pid.to_string();
    let (code, out, err) = run_pvtui(&["read", "--pid", &pid, "&&hero"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("has no address"),
        "{out}{err}"
    );
    // One `&` is the address itself.
    let (code, out, err) = run_pvtui(&["read", "--pid", &pid, "&hero"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// A `char *` watch in the terminal UI shows the text it points to, as
/// `read` does, read never-block on every tick.
#[test]
fn a_char_pointer_watch_shows_its_string_in_the_ui() {
    let fx = dwarf_types();
    let mut ui = Ui::start(&fx, &["motto".to_string()]);
    let want = fx.var("motto");
    ui.until("motto's text", |app| {
        app.watches.rows.first().is_some_and(|w| {
            matches!(
                &w.value,
                Some(Value::Typed(pvtui::debuginfo::Value::Pointer { string: Some(s), .. }))
                    if *s == want
            )
        })
    });
    ui.until_screen("never stop the target");
}

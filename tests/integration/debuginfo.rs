//! Debug info end to end: fixtures built here with DWARF 4 and 5, with
//! compressed sections, and stripped with their DWARF in a build-id or
//! debuglink file; every value `pvtui read` reads is compared with what
//! the fixture itself printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use pvtui::session::{DEFAULT_DEADLINE, Session};
use serde_json::Value as Json;

use crate::util::{Fixture, fixture, pvtui_ok, skip_without_program};

/// (what `pvtui read` reads, the key the fixture printed its value as)
const C_VALUES: &[(&str, &str)] = &[
    ("hero.name", "hero.name"),
    ("hero.pos.x", "hero.pos.x"),
    ("hero.pos.y", "hero.pos.y"),
    ("hero.health", "hero.health"),
    ("hero.alive", "hero.alive"),
    ("hero.level", "hero.level"),
    ("hero.mood", "hero.mood"),
    ("hero.pad", "hero.pad"),
    ("hero.title", "hero.title"),
    ("team[2].pos.y", "team[2].pos.y"),
    ("team[1].name", "team[1].name"),
    ("team[2].level", "team[2].level"),
    ("list->value", "list.value"),
    ("list->next->value", "list.next.value"),
    ("list->next->next->value", "list.next.next.value"),
    ("pun.u", "pun.u"),
    ("pun.b[0]", "pun.b0"),
    ("pun.b[3]", "pun.b3"),
    ("grid[1][2]", "grid[1][2]"),
    ("grid[0][1]", "grid[0][1]"),
    ("greeting", "greeting"),
    ("motto", "motto"),
    ("signed_value", "signed_value"),
    ("ratio", "ratio"),
    ("big", "big"),
    ("fn_static", "fn_static"),
    ("main::fn_static", "fn_static"),
    ("main::shared_name", "main::shared_name"),
    ("other::shared_name", "other::shared_name"),
];

/// `pvtui read --json` of each expression, one JSON object each.
pub(super) fn inspect(pid: i32, extra: &[&str], exprs: &[&str]) -> Vec<Json> {
    let pid = pid.to_string();
    let mut args = vec!["read", "--pid", &pid, "--json"];
    args.extend_from_slice(extra);
    args.extend_from_slice(exprs);
    let (ok, out, err) = pvtui_ok(&args);
    assert!(ok, "pvtui read failed: {err}\n{out}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A JSON value as the fixture's printf would print it.
pub(super) fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Object(o) if o.contains_key("string") => as_text(&o["string"]),
        other => other.to_string(),
    }
}

pub(super) fn same(got: &str, want: &str) -> bool {
    match (got.parse::<f64>(), want.parse::<f64>()) {
        (Ok(a), Ok(b)) if !got.contains('"') => a == b,
        _ => got == want,
    }
}

pub(super) fn check_c_values(fx: &Fixture, extra: &[&str]) {
    let exprs: Vec<&str> = C_VALUES.iter().map(|(e, _)| *e).collect();
    let results = inspect(fx.pid, extra, &exprs);
    assert_eq!(results.len(), C_VALUES.len());
    for ((expr, key), got) in C_VALUES.iter().zip(&results) {
        let value = got
            .get("value")
            .unwrap_or_else(|| panic!("{expr}: no value: {got}"));
        let text = as_text(value);
        assert!(
            same(&text, fx.var(key)),
            "{expr}: pvtui read {text}, the fixture printed {}",
            fx.var(key)
        );
    }
}

pub(super) fn c_fixture(variant: &str, flags: &[&str]) -> PathBuf {
    fixture("dwarf_types", variant, flags)
}

pub(super) fn module_report(pid: i32, extra: &[&str], module: &str) -> Json {
    let pid = pid.to_string();
    let mut args = vec!["debuginfo", "--pid", &pid, "--json"];
    args.extend_from_slice(extra);
    let (ok, out, err) = pvtui_ok(&args);
    assert!(ok, "pvtui debuginfo failed: {err}");
    out.lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("JSON"))
        .find(|j| j["module"] == module)
        .unwrap_or_else(|| panic!("no module {module} in {out}"))
}

#[test]
fn dwarf4_values_match_the_fixture() {
    let fx = Fixture::spawn(&c_fixture("dwarf4", &["-gdwarf-4"]), &[]);
    check_c_values(&fx, &[]);
}

#[test]
fn dwarf5_values_match_the_fixture() {
    let fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    check_c_values(&fx, &[]);
}

#[test]
fn zlib_compressed_sections_are_read() {
    let bin = c_fixture("gz", &["-gdwarf-5", "-gz=zlib"]);
    let fx = Fixture::spawn(&bin, &[]);
    let name = bin.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let report = module_report(fx.pid, &[], name);
    assert_eq!(report["compression"], "zlib", "{report}");
    check_c_values(&fx, &[]);
}

/// A copy of a fixture in a fresh directory under the test tmpdir.
pub(crate) fn scratch(name: &str, from: &Path) -> (PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("debuginfo-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bin = dir.join(name);
    std::fs::copy(from, &bin).expect("copy fixture");
    (dir, bin)
}

pub(crate) fn objcopy(args: &[&str]) -> bool {
    Command::new("objcopy")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn zstd_compressed_sections_are_read() {
    if skip_without_program("zstd_compressed_sections_are_read", "objcopy") {
        return;
    }
    let (_dir, bin) = scratch("zstd", &c_fixture("dwarf5", &["-gdwarf-5"]));
    let path = bin.to_str().expect("utf-8 path");
    if !objcopy(&["--compress-debug-sections=zstd", path]) {
        eprintln!(
            "SKIPPED zstd_compressed_sections_are_read: this objcopy cannot compress with zstd"
        );
        return;
    }
    let fx = Fixture::spawn(&bin, &[]);
    let report = module_report(fx.pid, &[], "zstd");
    assert_eq!(report["compression"], "zstd", "{report}");
    check_c_values(&fx, &[]);
}

pub(crate) fn build_id(bin: &Path) -> String {
    let bytes = std::fs::read(bin).expect("read binary");
    let obj = object::File::parse(&*bytes).expect("ELF");
    let id = object::Object::build_id(&obj)
        .expect("notes")
        .expect("a build-id note");
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the debug file of `bin` lies under the debug root `root` by its
/// build-id, the directory made.
pub(crate) fn build_id_debug_path(root: &Path, bin: &Path) -> PathBuf {
    let id = build_id(bin);
    let debug = root.join(format!(".build-id/{}/{}.debug", &id[..2], &id[2..]));
    std::fs::create_dir_all(debug.parent().expect("parent")).expect("mkdir");
    debug
}

/// Moves `bin`'s debug info to its build-id file under the debug root
/// `dir/debug`, then strips `bin` with `strip` (`--strip-debug` or
/// `--strip-all`): (the debug root, the debug file).
pub(crate) fn split_by_build_id(dir: &Path, bin: &Path, strip: &str) -> (PathBuf, PathBuf) {
    let root = dir.join("debug");
    let debug = build_id_debug_path(&root, bin);
    let (b, d) = (bin.to_str().expect("utf-8"), debug.to_str().expect("utf-8"));
    assert!(objcopy(&["--only-keep-debug", b, d]));
    assert!(objcopy(&[strip, b]));
    (root, debug)
}

#[test]
fn stripped_binary_finds_its_dwarf_by_build_id() {
    if skip_without_program("stripped_binary_finds_its_dwarf_by_build_id", "objcopy") {
        return;
    }
    let (dir, bin) = scratch(
        "buildid",
        &c_fixture("buildid", &["-gdwarf-5", "-Wl,--build-id"]),
    );
    let id = build_id(&bin);
    let (root, debug) = split_by_build_id(&dir, &bin, "--strip-debug");
    let d = debug.to_str().expect("utf-8");
    let fx = Fixture::spawn(&bin, &[]);

    // Without the root: a clear error that says where it looked.
    let pid = fx.pid.to_string();
    let (ok, out, _) = pvtui_ok(&["read", "--pid", &pid, "buildid!hero.level"]);
    assert!(!ok);
    let err = out;
    assert!(err.contains("no debug info for buildid"), "{err}");
    assert!(err.contains(&format!(".build-id/{}/", &id[..2])), "{err}");

    let root_arg = root.to_str().expect("utf-8");
    let report = module_report(fx.pid, &["--debug-dir", root_arg], "buildid");
    let source = report["dwarf"].as_str().unwrap_or_default();
    assert!(source.starts_with("build-id file"), "{report}");
    assert!(source.contains(d), "{report}");
    check_c_values(&fx, &["--debug-dir", root_arg]);
}

#[test]
fn stripped_binary_finds_its_dwarf_by_debuglink() {
    if skip_without_program("stripped_binary_finds_its_dwarf_by_debuglink", "objcopy") {
        return;
    }
    let (dir, bin) = scratch("linked", &c_fixture("dwarf4", &["-gdwarf-4"]));
    let debug = dir.join("linked.debug");
    let (b, d) = (bin.to_str().expect("utf-8"), debug.to_str().expect("utf-8"));
    assert!(objcopy(&["--only-keep-debug", b, d]));
    assert!(objcopy(&[
        "--strip-debug",
        &format!("--add-gnu-debuglink={d}"),
        b
    ]));
    let fx = Fixture::spawn(&bin, &[]);
    let report = module_report(fx.pid, &[], "linked");
    let source = report["dwarf"].as_str().unwrap_or_default();
    assert!(source.starts_with("debuglink file"), "{report}");
    check_c_values(&fx, &[]);
}

#[test]
fn type_layout_shows_offsets_bitfields_and_holes() {
    let fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["type", "--pid", &pid, "struct player"]);
    assert!(ok, "{err}");
    for line in [
        "type = struct player {",
        "/*      0      |      16 */    char name[16];",
        "/*     16      |       4 */        int x;",
        "/*     36: 1   |       4 */    unsigned int level : 5;",
        "/* XXX  2-byte hole     */",
        "/*     40      |       8 */    const char *title;",
        "/* total size (bytes):   48 */",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
    let (ok, out, _) = pvtui_ok(&["type", "--pid", &pid, "pv_state_t"]);
    assert!(ok);
    assert!(out.contains("PV_RUNNING = 3"), "{out}");
}

#[test]
fn enum_without_a_name_and_whole_struct_as_json() {
    let fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    let got = inspect(fx.pid, &[], &["odd_state", "state", "hero", "grid"]);
    assert_eq!(got[0]["value"], 7);
    assert_eq!(got[1]["value"], "PV_RUNNING");
    let hero = &got[2]["value"];
    assert_eq!(hero["pos"]["x"].to_string(), fx.var("hero.pos.x"));
    assert_eq!(hero["name"], fx.var("hero.name"));
    assert_eq!(hero["state"], "PV_RUNNING");
    assert_eq!(got[3]["value"], serde_json::json!([[1, 2, 3], [4, 5, 6]]));
    let pid = fx.pid.to_string();
    let (_, text, _) = pvtui_ok(&["read", "--pid", &pid, "odd_state"]);
    assert!(text.starts_with("odd_state = 7 (no name)"), "{text}");
}

/// `pvtui write --json`: the JSON object it prints.
pub(super) fn write(pid: i32, expr: &str, value: &str) -> Json {
    let pid = pid.to_string();
    let (ok, out, err) = pvtui_ok(&["write", "--pid", &pid, "--json", expr, value]);
    assert!(ok, "pvtui write {expr} {value} failed: {err}\n{out}");
    serde_json::from_str(out.trim()).expect("a JSON object")
}

#[test]
fn bitfield_write_keeps_its_neighbours() {
    let mut fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    let wrote = write(fx.pid, "hero.level", "9");
    assert_eq!(
        (&wrote["old"], &wrote["new"]),
        (&Json::from(17), &Json::from(9))
    );
    assert_eq!(wrote["type"], "unsigned int:5");
    fx.send("bits");
    assert_eq!(
        fx.expect_line("bits "),
        "bits alive=1 level=9 mood=-3 pad=100"
    );
    // A signed bitfield takes a negative value; its neighbours stay.
    write(fx.pid, "hero.mood", "-4");
    fx.send("bits");
    assert_eq!(
        fx.expect_line("bits "),
        "bits alive=1 level=9 mood=-4 pad=100"
    );
    // Out of range for 5 bits: refused, nothing written.
    let pid = fx.pid.to_string();
    let (ok, _, err) = pvtui_ok(&["write", "--pid", &pid, "hero.level", "32"]);
    assert!(!ok && err.contains("does not fit in 5 bits"), "{err}");
    fx.send("bits");
    assert_eq!(
        fx.expect_line("bits "),
        "bits alive=1 level=9 mood=-4 pad=100"
    );

    // An enum by name, then by number; a float; a field through a pointer.
    assert_eq!(write(fx.pid, "state", "PV_DONE")["new"], "PV_DONE");
    assert_eq!(write(fx.pid, "state", "3")["new"], "PV_RUNNING");
    assert_eq!(write(fx.pid, "ratio", "-2.5")["new"], -2.5);
    assert_eq!(write(fx.pid, "list->next->value", "-200")["new"], -200);
    let got = inspect(fx.pid, &[], &["state", "ratio", "nodes[1].value"]);
    let values: Vec<&Json> = got.iter().map(|g| &g["value"]).collect();
    assert_eq!(
        values,
        [
            &Json::from("PV_RUNNING"),
            &Json::from(-2.5),
            &Json::from(-200)
        ]
    );
}

/// Each form of the grammar, read through `pvtui read` and compared with
/// what the fixture printed.
#[test]
fn every_access_form_reads_what_the_fixture_printed() {
    let fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    let cases: &[(&str, &str)] = &[
        ("*list", "list.value"),
        ("(*list).next->value", "list.next.value"),
        ("((struct node *)&nodes[1])->value", "list.next.value"),
        ("(struct node *)nodes", "list.value"),
        ("&nodes[2] as struct node", "list.next.next.value"),
        (
            "(&nodes[1] as struct node).next->value",
            "list.next.next.value",
        ),
        ("nodes[0].next->next->value", "list.next.next.value"),
        ("team[1].name", "team[1].name"),
        ("grid[1][2]", "grid[1][2]"),
        ("pun.b[3]", "pun.b3"),
        ("hero.mood", "hero.mood"),
    ];
    let exprs: Vec<&str> = cases.iter().map(|(e, _)| *e).collect();
    let got = inspect(fx.pid, &[], &exprs);
    for ((expr, key), got) in cases.iter().zip(&got) {
        let value = match &got["value"] {
            Json::Object(o) if o.contains_key("value") => o["value"].clone(),
            v => v.clone(),
        };
        assert!(same(&as_text(&value), fx.var(key)), "{expr}: {got}");
    }
    // An explicit type overrides the debug info's; `&` and casts keep the address.
    let got = inspect(fx.pid, &[], &["signed_value:u32", "&hero", "hero"]);
    assert_eq!(got[0]["value"], 4294967289u64);
    assert_eq!(got[1]["address"], got[2]["address"]);
    // Text: a struct as gdb prints it, a char * with its string.
    let pid = fx.pid.to_string();
    let (ok, text, err) = pvtui_ok(&["read", "--pid", &pid, "hero.pos", "motto"]);
    assert!(ok, "{err}");
    assert!(
        text.starts_with("hero.pos = {x = -12, y = 34}  (struct vec2 at 0x"),
        "{text}"
    );
    assert!(
        text.contains("motto = 0x")
            && text.contains(" \"never stop the target\"  (const char * at"),
        "{text}"
    );
    // Errors point at the step that fails.
    let (ok, _, err) = pvtui_ok(&["read", "--pid", &pid, "--json", "hero.pos.z", "ratio->x"]);
    assert!(!ok);
    assert!(err.is_empty(), "{err}");
}

/// Without debug info, a field needs it and says where pvtui looked; a
/// bare symbol reads as before.
#[test]
fn no_debug_info_says_where_it_looked() {
    if skip_without_program("no_debug_info_says_where_it_looked", "objcopy") {
        return;
    }
    let (_dir, bin) = scratch("nodebug", &c_fixture("dwarf5", &["-gdwarf-5"]));
    let path = bin.to_str().expect("utf-8 path");
    assert!(objcopy(&["--strip-debug", path]));
    let fx = Fixture::spawn(&bin, &[]);
    let pid = fx.pid.to_string();
    let (ok, out, _) = pvtui_ok(&[
        "read",
        "--pid",
        &pid,
        "--json",
        "hero.pos.x",
        "signed_value",
    ]);
    assert!(!ok);
    let lines: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let error = lines[0]["error"].as_str().expect("an error");
    assert!(
        error.contains("no debug info for nodebug (looked in: "),
        "{error}"
    );
    assert_eq!(lines[1]["type"], "u32");
    assert_eq!(lines[1]["value"], 4294967289u64);
}

#[test]
fn cpp_namespaced_class_member() {
    if skip_without_program("cpp_namespaced_class_member", "g++") {
        return;
    }
    let bin = build_with(
        "dwarf_cpp",
        "cc",
        Command::new("g++").args(["-O1", "-g", "-o"]),
    );
    let fx = Fixture::spawn(&bin, &[]);
    let got = inspect(
        fx.pid,
        &[],
        &["game::hero.hp", "game::hero.level", "game::hero.tag"],
    );
    assert_eq!(got[0]["value"].to_string(), fx.var("game::hero.hp"));
    assert_eq!(got[1]["value"].to_string(), fx.var("game::hero.level"));
    assert_eq!(as_text(&got[2]["value"]), fx.var("game::hero.tag"));
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["type", "--pid", &pid, "game::Player"]);
    assert!(ok, "{err}");
    assert!(out.contains("int hp;"), "{out}");
    // A reference reads through for its fields, as in gdb (the same
    // fixture: this test builds it, and another build would race it).
    let got = inspect(fx.pid, &[], &["game::hero_ref.hp", "game::hero_ref.tag"]);
    assert_eq!(got[0]["value"].to_string(), fx.var("game::hero.hp"));
    assert_eq!(got[0]["type"], "int");
    assert_eq!(as_text(&got[1]["value"]), fx.var("game::hero.tag"));
    // Types are named by their namespaces and classes, as gdb names them.
    for line in [
        "type = class game::Player {",
        "*/    struct game::Player::Stats {",
        "*/    game::world::Map *map;",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
    let (ok, out, err) = pvtui_ok(&["type", "--pid", &pid, "Stats"]);
    assert!(
        ok && out.contains("type = struct game::Player::Stats {"),
        "{err}{out}"
    );
    let got = inspect(
        fx.pid,
        &[],
        &[
            "game::hero",
            "game::leader",
            "((game::Player *)&game::hero)->stats.speed",
            "(&game::overworld as game::world::Map).height",
            "((game::world::Map *)game::hero.map)->height",
            "game::leader->map->height",
        ],
    );
    assert_eq!(got[0]["type"], "game::Player");
    assert_eq!(got[1]["type"], "game::Hero *");
    assert_eq!(
        got[2]["value"].to_string(),
        fx.var("game::hero.stats.speed")
    );
    for g in &got[3..] {
        assert_eq!(
            g["value"].to_string(),
            fx.var("game::leader->map->height"),
            "{g}"
        );
    }
}

/// The Rust fixture, built with debug info.
pub(crate) fn rust_fixture() -> PathBuf {
    build_with(
        "dwarf_rust",
        "rs",
        Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).args([
            "-g",
            "-C",
            "opt-level=1",
            "--edition",
            "2021",
            "-o",
        ]),
    )
}

#[test]
fn rust_struct_and_enum_statics() {
    let fx = Fixture::spawn(&rust_fixture(), &[]);
    let got = inspect(fx.pid, &[], &["ORIGIN.x", "ORIGIN.y", "SHAPE", "MAYBE"]);
    assert_eq!(got[0]["value"].to_string(), fx.var("ORIGIN.x"));
    assert_eq!(got[1]["value"].to_string(), fx.var("ORIGIN.y"));
    assert_eq!(got[2]["value"]["Rect"]["w"].to_string(), fx.var("SHAPE.w"));
    assert_eq!(got[2]["value"]["Rect"]["h"].to_string(), fx.var("SHAPE.h"));
    assert_eq!(got[3]["value"]["Some"].to_string(), fx.var("MAYBE"));
    // An enum is no pointer: `*` on it is refused, not an 8-byte read.
    let pid = fx.pid.to_string();
    let (ok, out, err) = pvtui_ok(&["read", "--pid", &pid, "*MAYBE"]);
    assert!(!ok, "{out}");
    assert!(
        format!("{out}{err}").contains("is not a pointer"),
        "{out}{err}"
    );
    // Types by their full path; fields in memory order, without false holes.
    assert_eq!(got[0]["type"], "i32");
    let got = inspect(
        fx.pid,
        &[],
        &[
            "ORIGIN",
            "MAYBE",
            "(&ORIGIN as dwarf_rust::Point).x",
            "&MAYBE as core::option::Option<u32>",
        ],
    );
    assert_eq!(got[0]["type"], "dwarf_rust::Point");
    assert_eq!(got[1]["type"], "core::option::Option<u32>");
    assert_eq!(got[2]["value"].to_string(), fx.var("ORIGIN.x"));
    assert_eq!(got[3]["value"]["Some"].to_string(), fx.var("MAYBE"));
    let (ok, out, err) = pvtui_ok(&["type", "--pid", &pid, "dwarf_rust::Point"]);
    assert!(ok, "{err}");
    assert!(out.contains("type = struct dwarf_rust::Point {"), "{out}");
    assert!(!out.contains("hole"), "{out}");
    let y = out.find("i64 y;").expect("y");
    assert!(
        y < out.find("i32 x;").expect("x"),
        "y is first in memory:\n{out}"
    );
}

/// Builds `tests/fixtures/NAME.EXT` with `cmd` (which ends in `-o`).
/// With `PVTUI_FIXTURE_DIR` set (a machine without the compiler) the binary
/// the host run built is looked up there as `NAME`.
pub(crate) fn build_with(name: &str, ext: &str, cmd: &mut Command) -> PathBuf {
    if let Ok(dir) = std::env::var("PVTUI_FIXTURE_DIR") {
        let prebuilt = Path::new(&dir).join(name);
        assert!(
            prebuilt.exists(),
            "prebuilt fixture {} is missing (tests/kernel/run.sh)",
            prebuilt.display()
        );
        return prebuilt;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let out = dir.join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.{ext}"));
    let status = cmd.arg(&out).arg(&src).status().expect("run the compiler");
    assert!(status.success(), "building {} failed", src.display());
    out
}

#[test]
fn libc_stdout_fileno_with_libc6_dbg() {
    let mut child = Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    let pid = child.id() as i32;
    // Wait until the dynamic loader has mapped libc.
    let mut report = Json::Null;
    for _ in 0..200 {
        let pid_s = pid.to_string();
        let (_, out, _) = pvtui_ok(&["debuginfo", "--pid", &pid_s, "--json"]);
        if let Some(r) = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Json>(l).ok())
            .find(|j| j["module"] == "libc.so.6")
        {
            report = r;
            break;
        }
        std::thread::yield_now();
    }
    if report["dwarf"].is_null() {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!(
            "SKIPPED libc_stdout_fileno_with_libc6_dbg: no debug info for libc here \
             (install libc6-dbg); looked at {}",
            report["tried"]
        );
        return;
    }
    let got = inspect(
        pid,
        &[],
        &[
            "_IO_2_1_stdout_.file._fileno",
            "libc!_IO_2_1_stderr_.file._fileno",
        ],
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got[0]["value"], 1);
    assert_eq!(got[1]["value"], 2);
    assert_eq!(got[0]["type"], "int");
}

/// The byte range of each DWARF section of an ELF image.
fn dwarf_ranges(bytes: &[u8]) -> Vec<(usize, usize)> {
    use object::{Object, ObjectSection};
    let obj = object::File::parse(bytes).expect("ELF");
    obj.sections()
        .filter(|s| s.name().is_ok_and(|n| n.starts_with(".debug_")))
        .filter_map(|s| s.file_range())
        .map(|(o, l)| (o as usize, l as usize))
        .filter(|(_, l)| *l > 0)
        .collect()
}

/// Every lookup over `bytes` ends in a value or an error.
fn exercise(bytes: Vec<u8>) {
    let Ok(file) = pvtui::debuginfo::DebugFile::from_bytes(bytes) else {
        return;
    };
    for name in ["hero", "list", "pun", "grid", "no_such"] {
        if let Ok(Some(var)) = file.variable(name) {
            let _ = pvtui::debuginfo::layout(&var.ty);
            let zeros = vec![0u8; var.ty.byte_size().min(1 << 16) as usize];
            let _ = pvtui::debuginfo::decode(&var.ty, &zeros);
        }
    }
    for name in ["struct player", "pv_state_t", "node"] {
        if let Ok(Some(ty)) = file.type_named(name) {
            let _ = pvtui::debuginfo::layout(&ty);
        }
    }
}

fn fuzz_inputs() -> &'static [Vec<u8>] {
    static INPUTS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    INPUTS.get_or_init(|| {
        [
            c_fixture("dwarf4", &["-gdwarf-4"]),
            c_fixture("dwarf5", &["-gdwarf-5"]),
            c_fixture("gz", &["-gdwarf-5", "-gz=zlib"]),
        ]
        .iter()
        .map(|p| std::fs::read(p).expect("read fixture"))
        .collect()
    })
}

mod malformed {
    use proptest::prelude::*;

    use super::{dwarf_ranges, exercise, fuzz_inputs};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn fuzzed_dwarf_sections_give_errors_not_panics(
            which in 0usize..3,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        ) {
            let mut bytes = fuzz_inputs()[which].clone();
            let ranges = dwarf_ranges(&bytes);
            for (i, b) in flips {
                let (start, len) = ranges[i.index(ranges.len())];
                let at = start + i.index(len);
                bytes[at] = b;
            }
            exercise(bytes);
        }

        #[test]
        fn truncated_sections_give_errors_not_panics(
            which in 0usize..3,
            section in any::<prop::sample::Index>(),
            keep in any::<prop::sample::Index>(),
        ) {
            let mut bytes = fuzz_inputs()[which].clone();
            let ranges = dwarf_ranges(&bytes);
            let (start, len) = ranges[section.index(ranges.len())];
            // Zero the section's tail: its headers now promise bytes that are not there.
            let cut = start + keep.index(len);
            bytes[cut..start + len].fill(0);
            exercise(bytes.clone());
            bytes.truncate(cut);
            exercise(bytes);
        }
    }
}

#[test]
fn targets_mapping_one_build_share_its_debug_file() {
    let bin = c_fixture("dwarf5", &["-gdwarf-5"]);
    let (a, b) = (Fixture::spawn(&bin, &[]), Fixture::spawn(&bin, &[]));
    let open = |fx: &Fixture| Session::attach(fx.pid, DEFAULT_DEADLINE).expect("attach");
    let (session_a, session_b) = (open(&a), open(&b));
    let (info_a, info_b) = (session_a.debug_info(), session_b.debug_info());
    let var_a = info_a.variable(None, "hero").expect("hero in a");
    let var_b = info_b.variable(None, "hero").expect("hero in b");
    assert!(
        Arc::ptr_eq(&var_a.file, &var_b.file),
        "one build-id, one index"
    );
    assert!(Arc::ptr_eq(&var_a.ty, &var_b.ty), "types built once");
}

/// Tab's candidates come from the target's debug info: variables by
/// prefix, fields after `.` and `->`, each with its type.
#[test]
fn completions_name_variables_and_fields_with_their_types() {
    let fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    let session = Session::attach(fx.pid, DEFAULT_DEADLINE).expect("attach");
    let names = |text: &str| -> Vec<(String, String)> {
        session
            .completions(text)
            .into_iter()
            .map(|c| (c.text, c.ty))
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        names("hero.p"),
        [
            pair("hero.pad", "unsigned int"),
            pair("hero.pos", "struct vec2")
        ]
    );
    assert_eq!(names("list->n"), [pair("list->next", "struct node *")]);
    assert_eq!(
        names("team[1].pos."),
        [pair("team[1].pos.x", "int"), pair("team[1].pos.y", "int")]
    );
    assert!(
        names("her").contains(&pair("hero", "player_t")),
        "{:?}",
        names("her")
    );
    assert!(names("nosuch.").is_empty());

    // The hex view's label: the variable and field under an address.
    let at = |name: &str| session.lookup(None, name).expect("a symbol").addr;
    let pos_y = session.describe(at("hero") + 20);
    assert_eq!(pos_y.as_deref(), Some("hero.pos.y (int)"));
    let team = session.describe(at("team") + 48 + 2).expect("inside team");
    assert_eq!(team, "team[1].name[2] (char)");
}

#[test]
fn pointer_chains_to_a_typed_variable_save_a_type_that_reads_back() {
    let fx = Fixture::spawn(&c_fixture("dwarf5", &["-gdwarf-5"]), &[]);
    let pid = fx.pid.to_string();
    let file = std::env::temp_dir().join(format!("pvtui-typed-chains-{pid}"));
    let path = file.display().to_string();
    // `grid[1][2]` is an `int` by its debug info; the file says `i32`.
    let (ok, out, err) = pvtui_ok(&["pointers", "--pid", &pid, "grid[1][2]", "--save", &path]);
    assert!(ok, "pointers --save failed: {err}\n{out}");
    let saved = std::fs::read_to_string(&file).expect("the chain file");
    assert!(saved.contains("i32"), "{saved}");
    let (ok, out, err) = pvtui_ok(&["pointers", "--pid", &pid, "--from", &path, "grid[1][2]"]);
    let _ = std::fs::remove_file(&file);
    assert!(ok, "pointers --from failed: {err}\n{out}");
}

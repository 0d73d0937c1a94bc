//! Name lookups through a `.gdb_index` that `gdb-add-index` wrote: the
//! index is reported, lookups go through it (no scan of every unit), and
//! the values read through it are the ones the fixture printed. And where
//! debug info is looked for: gdb's places, in gdb's order, and no others.

use std::path::{Path, PathBuf};
use std::process::Command;

use pvtui::session::{DEFAULT_DEADLINE, Session};
use serde_json::Value as Json;

use crate::util::{Fixture, fixture, pvtui_ok, skip_without_program};

/// The C++ fixture built into its own directory as `name`, with a
/// `.gdb_index` when `indexed`.
fn build(name: &str, indexed: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("debuginfo-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bin = dir.join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dwarf_cpp.cc");
    let built = Command::new("g++")
        .args(["-O1", "-g", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("run g++");
    assert!(built.success(), "building {} failed", src.display());
    if indexed {
        let added = Command::new("gdb-add-index")
            .arg(&bin)
            .output()
            .expect("run gdb-add-index");
        assert!(
            added.status.success(),
            "gdb-add-index failed: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        let bytes = std::fs::read(&bin).expect("read the binary");
        let obj = object::File::parse(&*bytes).expect("ELF");
        assert!(
            object::Object::section_by_name(&obj, ".gdb_index").is_some(),
            "gdb-add-index wrote no .gdb_index"
        );
    }
    bin
}

fn run(args: &[&str]) -> (bool, String) {
    let (ok, out, err) = pvtui_ok(args);
    assert!(ok, "pvtui {args:?}: {err}");
    (ok, out)
}

fn report(pid: i32, module: &str) -> Json {
    let (_, out) = run(&["debuginfo", "--pid", &pid.to_string(), "--json"]);
    out.lines()
        .map(|l| serde_json::from_str::<Json>(l).expect("JSON"))
        .find(|j| j["module"] == module)
        .unwrap_or_else(|| panic!("no module {module} in {out}"))
}

fn skipped(test: &str) -> bool {
    skip_without_program(test, "g++") || skip_without_program(test, "gdb-add-index")
}

#[test]
fn names_are_looked_up_through_gdb_index() {
    if skipped("names_are_looked_up_through_gdb_index") {
        return;
    }
    let fx = Fixture::spawn(&build("indexed", true), &[]);
    let r = report(fx.pid, "indexed");
    let kind = r["name_index"].as_str().unwrap_or_default();
    assert!(kind.starts_with("gdb_index (version "), "{r}");

    let pid = fx.pid.to_string();
    let (_, out) = run(&[
        "read",
        "--pid",
        &pid,
        "--json",
        "game::hero.hp",
        "game::hero.level",
    ]);
    let got: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(got[0]["value"].to_string(), fx.var("game::hero.hp"));
    assert_eq!(got[1]["value"].to_string(), fx.var("game::hero.level"));

    // In one session: the index answers, and no unit scan is built.
    let session = Session::attach(fx.pid, DEFAULT_DEADLINE).expect("attach");
    let info = session.debug_info();
    let var = info
        .variable(Some("indexed"), "game::hero")
        .expect("game::hero");
    let (_, ty) = info
        .type_named(Some("indexed"), "game::Player")
        .expect("game::Player");
    assert!(ty.fields().iter().any(|f| f.name == "hp"), "{ty:?}");
    // The variable has an ELF symbol, so it is found by address; the type
    // only by name: through the index, with no unit scan built.
    assert_eq!(var.file.index_use(), (1, false));
}

#[test]
fn without_gdb_index_names_come_from_a_unit_scan() {
    if skipped("without_gdb_index_names_come_from_a_unit_scan") {
        return;
    }
    let fx = Fixture::spawn(&build("scanned", false), &[]);
    assert_eq!(report(fx.pid, "scanned")["name_index"], "unit scan");
    let session = Session::attach(fx.pid, DEFAULT_DEADLINE).expect("attach");
    let var = session
        .debug_info()
        .variable(Some("scanned"), "game::hero")
        .expect("game::hero");
    // Found by its (mangled) symbol's address: no scan yet.
    assert_eq!(var.file.index_use(), (0, false));
    session
        .debug_info()
        .type_named(Some("scanned"), "game::Player")
        .expect("game::Player");
    assert_eq!(var.file.index_use(), (0, true));
}

#[test]
fn the_places_looked_at_are_gdbs_in_its_order() {
    if skip_without_program("the_places_looked_at_are_gdbs_in_its_order", "objcopy") {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debuginfo-looked");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bin = dir.join("looked");
    let built = fixture("dwarf_types", "buildid", &["-gdwarf-5", "-Wl,--build-id"]);
    std::fs::copy(built, &bin).expect("copy fixture");
    // A debuglink to a file that is then removed: looked for, not found.
    let debug = dir.join("gone.debug");
    let objcopy = |args: &[&str]| {
        let ok = Command::new("objcopy").args(args).status();
        assert!(ok.is_ok_and(|s| s.success()), "objcopy {args:?}");
    };
    let (b, d) = (bin.to_str().expect("utf-8"), debug.to_str().expect("utf-8"));
    objcopy(&["--only-keep-debug", b, d]);
    objcopy(&["--strip-debug", &format!("--add-gnu-debuglink={d}"), b]);
    std::fs::remove_file(&debug).expect("remove the debug file");
    let fx = Fixture::spawn(&bin, &[]);
    let r = report(fx.pid, "looked");
    assert_eq!(r["debuglink"], "gone.debug", "{r}");
    let id = r["build_id"].as_str().expect("a build-id");
    let dir = dir.to_str().expect("utf-8");
    let root = " (in the target's root): not found";
    let want = [
        format!("{b}: no .debug_info"),
        format!(
            "/usr/lib/debug/.build-id/{}/{}.debug{root}",
            &id[..2],
            &id[2..]
        ),
        format!("{dir}/gone.debug{root}"),
        format!("{dir}/.debug/gone.debug{root}"),
        format!("/usr/lib/debug{dir}/gone.debug{root}"),
    ];
    let tried: Vec<&str> = r["tried"]
        .as_array()
        .expect("tried")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    assert_eq!(tried, want, "{r}");
}

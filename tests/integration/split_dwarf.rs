//! Split DWARF end to end: the C fixture built with `-gsplit-dwarf`
//! (DWARF 5 and 4), its types and variables read from the `.dwo` file its
//! skeleton unit names, beside the object when the pair was moved, from a
//! `.dwp` package, and a missing `.dwo` reported with where pvtui looked.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::debuginfo::{check_c_values, module_report};
use crate::util::{Fixture, skip_without_program};

/// Builds the C fixture with split DWARF in a directory of its own (where
/// the compiler leaves the `.dwo`); `None`, having said why, where the
/// suite runs on prebuilt fixtures.
pub(crate) fn build_split(name: &str, flags: &[&str]) -> Option<(PathBuf, PathBuf)> {
    if std::env::var_os("PVTUI_FIXTURE_DIR").is_some() {
        eprintln!("SKIPPED {name}: split DWARF needs its .dwo at the path the build named");
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("split-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dwarf_types.c");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .current_dir(&dir)
        .args(["-O1", "-g", "-gsplit-dwarf"])
        .args(flags)
        .args(["-o", name])
        .arg(&src)
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "building {name} failed");
    Some((dir.join(name), dir.join(format!("{name}-dwarf_types.dwo"))))
}

fn reads_through_its_dwo(name: &str, flags: &[&str]) {
    let Some((bin, dwo)) = build_split(name, flags) else {
        return;
    };
    assert!(dwo.is_file(), "the compiler left no {}", dwo.display());
    let fx = Fixture::spawn(&bin, &[]);
    let report = module_report(fx.pid, &[], name);
    assert_eq!(report["split_dwarf"], 1, "{report}");
    check_c_values(&fx, &[]);
}

#[test]
fn split_dwarf5_values_come_from_the_dwo() {
    reads_through_its_dwo("split5", &["-gdwarf-5"]);
}

#[test]
fn split_dwarf4_values_come_from_the_dwo() {
    reads_through_its_dwo("split4", &["-gdwarf-4"]);
}

#[test]
fn a_moved_dwo_is_found_beside_its_object_and_a_missing_one_is_reported() {
    let Some((bin, dwo)) = build_split("splitmove", &["-gdwarf-5"]) else {
        return;
    };
    let elsewhere = bin.with_file_name("moved");
    std::fs::create_dir_all(&elsewhere).expect("dir");
    let moved_bin = elsewhere.join("splitmove");
    let moved_dwo = elsewhere.join(dwo.file_name().expect("a file name"));
    std::fs::rename(&bin, &moved_bin).expect("move the object");
    std::fs::rename(&dwo, &moved_dwo).expect("move its .dwo");
    let fx = Fixture::spawn(&moved_bin, &[]);
    assert_eq!(module_report(fx.pid, &[], "splitmove")["split_dwarf"], 1);
    check_c_values(&fx, &[]);
    drop(fx);

    std::fs::remove_file(&moved_dwo).expect("remove the .dwo");
    let fx = Fixture::spawn(&moved_bin, &[]);
    let report = module_report(fx.pid, &[], "splitmove");
    assert_eq!(report["split_dwarf"], 0, "{report}");
    let tried = report["tried"].to_string();
    assert!(
        tried.contains(&dwo.display().to_string()) && tried.contains("split unit, missing"),
        "{report}"
    );
    let pid = fx.pid.to_string();
    let (code, _, err) =
        crate::util::run_pvtui(&["type", "--pid", &pid, "splitmove!struct player"]);
    assert_eq!(code, 2, "{err}");
}

/// binutils' `dwp` packs DWARF 4 split units (it cannot read DWARF 5's).
#[test]
fn a_dwp_package_beside_the_object_holds_its_units() {
    if skip_without_program("a_dwp_package_beside_the_object_holds_its_units", "dwp") {
        return;
    }
    let Some((bin, dwo)) = build_split("splitpack", &["-gdwarf-4"]) else {
        return;
    };
    let package = bin.with_file_name("splitpack.dwp");
    // dwp looks for a relative .dwo name from where it runs.
    let status = Command::new("dwp")
        .current_dir(bin.parent().expect("a directory"))
        .arg("-e")
        .arg(&bin)
        .arg("-o")
        .arg(&package)
        .status()
        .expect("run dwp");
    assert!(status.success(), "dwp failed");
    std::fs::remove_file(&dwo).expect("remove the .dwo");
    let fx = Fixture::spawn(&bin, &[]);
    assert_eq!(module_report(fx.pid, &[], "splitpack")["split_dwarf"], 1);
    check_c_values(&fx, &[]);
}

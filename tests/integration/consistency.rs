//! One thing, one meaning, across commands: an object named in an
//! expression resolves to the object (not a process's private copy of
//! it), and one mistake gets one exit status and JSON kind everywhere.

use std::process::Command;

use serde_json::Value;

use crate::util::{Fixture, fixture, pvtui_bin, run_pvtui as run};

#[test]
fn a_named_object_resolves_to_its_shared_mapping_not_a_private_copy_below_it() {
    let mut fx = Fixture::spawn(&fixture("shm_twice", "", &[]), &[]);
    let (shared, private) = (fx.addr("shared"), fx.addr("private"));
    assert!(
        private < shared,
        "the private mapping lies below the shared one"
    );
    let expr = format!("[{}]+0x48:u32", fx.var("name"));
    let (pid, child) = (fx.pid.to_string(), fx.number("child_pid").to_string());

    let (code, out, err) = run(&["read", "--pid", &pid, "--json", &expr]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("one JSON record");
    assert_eq!(v["address"], format!("{:#x}", shared + 0x48), "{v}");
    assert_eq!(
        v["value"], 1,
        "the object's value, not the private copy's 0: {v}"
    );

    // Written through the parent, the object changes for the child too.
    let (code, out, err) = run(&["write", "--pid", &pid, "--pid", &child, &expr, "5"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("not reached"), "{out}");
    fx.send("show");
    assert_eq!(fx.next_line(), "shared=5 child=5");
}

#[test]
fn filters_that_cannot_match_anything_are_usage_errors() {
    let fx = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let pid = fx.pid.to_string();
    for (args, why) in [
        (
            vec!["search", "--pid", &pid, ".", "--region", "nope"],
            "region filter \"nope\": no mapping's path or name contains it",
        ),
        (
            vec!["scan", "--pid", &pid, "--type", "u32", "range", "10", "5"],
            "the low end is above the high end",
        ),
        (
            vec!["scan", "--pid", &pid, "--type", "i32", "range", "-5", "-10"],
            "the low end is above the high end",
        ),
        (
            vec!["scan", "--pid", &pid, "--type", "f32", "1e39"],
            "out of range for f32",
        ),
        (
            vec!["scan", "--pid", &pid, "--type", "f32", "1e-300"],
            "too small for f32",
        ),
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
    // The same filters that can match still run.
    let (code, _, err) = run(&[
        "search", "--pid", &pid, ".", "--region", "heap", "--max", "1",
    ]);
    assert_eq!(code, 0, "{err}");
}

/// The pid of a process that has exited and been reaped.
fn gone_pid() -> String {
    // pvtui itself: present wherever the tests run (the test VM has no `true`).
    let mut child = Command::new(pvtui_bin())
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn pvtui --version");
    child.wait().expect("wait");
    child.id().to_string()
}

#[test]
fn a_name_that_does_not_resolve_is_a_usage_error_in_every_command() {
    let fx = Fixture::spawn(&fixture("dwarf_types", "dwarf5", &["-gdwarf-5"]), &[]);
    let pid = fx.pid.to_string();
    for expr in ["nosuch", "grid[2][0]", "hero.nofield"] {
        for args in [
            vec!["read", "--pid", &pid, expr],
            vec!["pointers", "--pid", &pid, expr],
            vec!["dump", "--pid", &pid, expr, "8"],
            vec!["freeze", "--pid", &pid, "--seconds", "1", expr, "1"],
        ] {
            let (code, out, err) = run(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
        }
        let (code, out, err) = run(&["read", "--pid", &pid, "--json", expr]);
        assert_eq!(code, 2, "{out}{err}");
        let v: Value = serde_json::from_str(out.trim()).expect("one JSON record");
        assert_eq!(v["kind"], "usage", "{v}");
        assert!(v["error"].is_string(), "{v}");
        // No type was given, and none was found: none is made up.
        assert!(v.get("type").is_none(), "{v}");
    }
    let (code, out, _) = run(&["read", "--pid", &pid, "nosuch"]);
    assert_eq!(code, 2);
    assert!(!out.contains("(u64)"), "{out}");
}

#[test]
fn a_watch_never_read_ends_incomplete() {
    let fx = Fixture::spawn(&fixture("dwarf_types", "dwarf5", &["-gdwarf-5"]), &[]);
    let pid = fx.pid.to_string();
    for expr in ["0x10:u32", "grid[2][0]"] {
        let (code, out, err) = watch_twice(&pid, expr);
        assert_eq!(code, 3, "{expr}: {out}{err}");
        assert_eq!(out.lines().count(), 2, "{out}");
    }
    let (code, out, err) = watch_twice(&pid, "grid[1][2]");
    assert_eq!(code, 0, "{out}{err}");
}

/// `pvtui watch` of `expr` in `pid` for two samples a millisecond apart.
fn watch_twice(pid: &str, expr: &str) -> (i32, String, String) {
    run(&[
        "watch",
        "--pid",
        pid,
        "--count",
        "2",
        "--interval",
        "1",
        expr,
    ])
}

#[test]
fn a_missing_target_exits_4_with_a_json_kind_that_says_so() {
    let gone = gone_pid();
    let no_pid = gone.as_str();
    for args in [
        vec!["read", "--pid", no_pid, "--json", "x"],
        vec!["maps", "--pid", no_pid, "--json"],
        vec!["shared", "--pid", no_pid, "--json"],
        vec!["debuginfo", "--pid", no_pid, "--json"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 4, "{args:?}: {out}{err}");
        let v: Value = serde_json::from_str(out.trim()).expect("one JSON error");
        assert_eq!(v["kind"], "target", "{args:?}: {v}");
    }
    // A refused argument is a usage error, and its kind says so.
    let (code, out, _) = run(&["read", "--pid", "x", "--json", "y"]);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(out.trim()).expect("one JSON error");
    assert_eq!(v["kind"], "usage", "{v}");
}

#[test]
fn every_json_record_carries_its_pid() {
    let fx = Fixture::spawn(&fixture("dwarf_types", "dwarf5", &["-gdwarf-5"]), &[]);
    let pid = fx.pid.to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("s.scan");
    let saved = saved.to_str().expect("utf-8");
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "scan", "--pid", &pid, "--type", "u8", "17", "--max", "3", "--save", saved,
        ],
        vec!["scan", "--from", saved, "unchanged", "--max", "3"],
        vec!["pointers", "--pid", &pid, "list->value", "--depth", "1"],
        vec![
            "freeze",
            "--pid",
            &pid,
            "--seconds",
            "0.05",
            "hero.pos.x",
            "7",
        ],
        vec!["debuginfo", "--pid", &pid],
        vec!["maps", "--pid", &pid],
    ];
    for mut args in runs {
        args.push("--json");
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert!(!out.trim().is_empty(), "{args:?}: no records");
        for line in out.lines() {
            let v: Value = serde_json::from_str(line).expect("a JSON record");
            assert_eq!(v["pid"], fx.pid, "{args:?}: {line}");
        }
    }
}

#[test]
fn a_name_the_kernel_escaped_is_printed_escaped_once_and_reads_back() {
    let fx = Fixture::spawn(&fixture("shm_twice", "", &[]), &[]);
    let pid = fx.pid.to_string();
    let printed = r"memfd:pvtui esc\u{1b}[7m ring\n";
    let (code, out, err) = run(&["maps", "--pid", &pid]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(printed), "{out}");
    assert!(!out.contains(r"\\012") && !out.contains('\x1b'), "{out}");
    // The name as printed is itself an expression.
    let expr = format!("[{printed}]+0x40:u32");
    let (code, out, err) = run(&["read", "--pid", &pid, "--json", &expr]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("one JSON record");
    assert_eq!(v["value"], 77, "{v}");
}

//! One thing, one meaning, across commands: an object named in an
//! expression resolves to the object (not a process's private copy of
//! it), and one mistake gets one exit status and JSON kind everywhere.

use std::process::Command;

use serde_json::Value;

use crate::util::{Fixture, fixture, pvtui_bin};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(pvtui_bin())
        .args(args)
        .output()
        .expect("run pvtui");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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

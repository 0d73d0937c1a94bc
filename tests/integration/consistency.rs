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

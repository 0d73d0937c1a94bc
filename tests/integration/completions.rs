//! Shell completion against the real process list.

use std::process::Command;

use crate::util::{Fixture, fixture, have_program, pvtui_bin, skip_unless_root};

#[test]
fn bash_name_completion_leaves_out_control_characters_and_kernel_threads() {
    if skip_unless_root(
        "bash_name_completion_leaves_out_control_characters_and_kernel_threads",
        "reading every process's program link",
    ) || !have_program("bash")
    {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Its comm: a terminal title command and a right-to-left override.
    let hostile = dir.path().join("e\x1b]0;X\x07\u{202e}v");
    std::fs::copy(fixture("tui_target", "", &[]), &hostile).expect("copy the fixture");
    let _fx = Fixture::spawn(&hostile, &[]);
    let script = format!(
        "source <('{}' completions bash) && _pvtui_names",
        pvtui_bin()
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = String::from_utf8_lossy(&out.stdout);
    assert!(!names.is_empty(), "no names at all");
    assert!(
        names.bytes().all(|b| b == b'\n' || b.is_ascii_graphic()),
        "{names:?}"
    );
    assert!(!names.lines().any(|n| n == "kthreadd"), "{names}");
    // The test itself is a process with a plain name.
    let me = std::fs::read_to_string("/proc/self/comm").expect("comm");
    assert!(names.lines().any(|n| n == me.trim_end()), "{me} in {names}");
}

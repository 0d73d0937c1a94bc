//! Settings checked when they are loaded, through the real binary: a
//! mistake names its line and the UI never starts (nothing is drawn, no
//! escape code reaches a redirected stdout).

use std::process::Command;

use crate::util::{Fixture, fixture, pvtui_bin};

fn with_config(test: &str, config: &str) -> (std::process::Output, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("pvtui-settings-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pvtui")).expect("config dir");
    std::fs::write(dir.join("pvtui/config.toml"), config).expect("config");
    let fx = Fixture::spawn(&fixture("tui_target", "", &[]), &[]);
    let out = Command::new(pvtui_bin())
        .args(["--pid", &fx.pid.to_string()])
        .env("XDG_CONFIG_HOME", &dir)
        .output()
        .expect("run pvtui");
    (out, dir)
}

#[test]
fn conflicting_key_bindings_are_refused_at_load_naming_the_line() {
    let (out, dir) = with_config(
        "conflict",
        "theme = \"dark\"\n[keys]\nfreeze = \"f\"\nquit = \"f\"\n",
    );
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("config.toml:4: quit = \"f\""), "{err}");
    assert!(err.contains("freeze on line 3"), "{err}");
    assert!(out.stdout.is_empty(), "the UI wrote {:?}", out.stdout);
}

#[test]
fn an_interval_of_zero_is_refused_at_load_naming_the_line() {
    let (out, dir) = with_config("interval", "interval_ms = 0\n");
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("config.toml:1: interval_ms = 0 is out of range 1..=60000"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_ui_without_a_terminal_writes_no_escape_codes_to_redirected_stdout() {
    let fx = Fixture::spawn(&fixture("tui_target", "", &[]), &[]);
    let out = Command::new(pvtui_bin())
        .args(["--pid", &fx.pid.to_string()])
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("pvtui-no-config"),
        )
        .output()
        .expect("run pvtui");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("needs a terminal on stdout"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "escape codes in stdout: {:?}",
        out.stdout
    );
}

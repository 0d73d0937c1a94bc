//! Files whose path a user or a target controls, made hostile: a FIFO where
//! a scan, watch, config or debug file is looked for, a target that mounts
//! over its own executable, and compressed debug info that claims to
//! inflate far past its size. Each must end at once with a clear message;
//! none may hang pvtui (every run here is bounded by `timeout`, whose exit
//! status 124 would mean a hang).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::debuginfo::{build_id_debug_path, objcopy};
use crate::util::{Fixture, fixture, pvtui_bin, skip_unless_root, skip_without_program};

/// The exit status of `timeout` when it had to kill the command.
const HUNG: i32 = 124;

/// Runs pvtui under `timeout 20`, with `env` set.
fn bounded(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("20")
        .arg(pvtui_bin())
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run timeout pvtui");
    assert_ne!(
        out.status.code(),
        Some(HUNG),
        "pvtui {args:?} hung: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A fresh directory under the test tmpdir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn dwarf_fixture() -> PathBuf {
    fixture("dwarf_types", "dwarf5", &["-gdwarf-5"])
}

#[test]
fn scan_from_a_fifo_is_refused_at_once() {
    let dir = scratch("scan-fifo");
    let fifo = dir.join("fifo.scan");
    mkfifo(&fifo);
    let from = fifo.to_str().expect("utf-8");
    let out = bounded(&["scan", "--from", from, "changed"], &[]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn a_fifo_as_the_watch_file_or_the_config_is_refused_before_the_ui_starts() {
    let fx = Fixture::spawn(&fixture("tui_target", "", &[]), &[]);
    let pid = fx.pid.to_string();
    let dir = scratch("settings-fifo");
    let watches = dir.join("watches");
    mkfifo(&watches);
    let empty = dir.join("no-config");
    let out = bounded(
        &["--pid", &pid, "--watches", watches.to_str().expect("utf-8")],
        &[("XDG_CONFIG_HOME", &empty)],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("watch file"), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(out.stdout.is_empty(), "the UI wrote {:?}", out.stdout);

    std::fs::create_dir_all(dir.join("cfg/pvtui")).expect("config dir");
    mkfifo(&dir.join("cfg/pvtui/config.toml"));
    let out = bounded(&["--pid", &pid], &[("XDG_CONFIG_HOME", &dir.join("cfg"))]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("config"), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

/// The `debuginfo --json` record of `module`.
fn module_report(pid: &str, extra: &[&str], module: &str) -> Value {
    let mut args = vec!["debuginfo", "--pid", pid, "--json"];
    args.extend_from_slice(extra);
    let out = bounded(&args, &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .find(|j| j["module"] == module)
        .unwrap_or_else(|| panic!("no module {module} in {stdout}"))
}

#[test]
fn a_fifo_where_a_debug_file_is_looked_for_is_skipped_not_waited_on() {
    if skip_without_program("a_fifo_where_a_debug_file_is_looked_for", "objcopy") {
        return;
    }
    let dir = scratch("debug-fifo");
    // Stripped, with both a build-id and a debuglink whose files are FIFOs.
    let bin = dir.join("fifodbg");
    std::fs::copy(dwarf_fixture(), &bin).expect("copy fixture");
    let b = bin.to_str().expect("utf-8");
    let link = dir.join("fifodbg.debug");
    let l = link.to_str().expect("utf-8");
    assert!(objcopy(&["--only-keep-debug", b, l]));
    assert!(objcopy(&[
        "--strip-debug",
        &format!("--add-gnu-debuglink={l}"),
        b
    ]));
    mkfifo(&link);
    let root = dir.join("debug");
    let by_id = build_id_debug_path(&root, &bin);
    mkfifo(&by_id);
    let fx = Fixture::spawn(&bin, &[]);
    let pid = fx.pid.to_string();
    let dirs = ["--debug-dir", root.to_str().expect("utf-8")];

    let mut args = vec!["read", "--pid", &pid, "fifodbg!hero.level"];
    args.extend_from_slice(&dirs);
    let out = bounded(&args, &[]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("no debug info for fifodbg"), "{said}");

    let report = module_report(&pid, &dirs, "fifodbg");
    let tried: Vec<&str> = report["tried"]
        .as_array()
        .expect("tried")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for fifo in [&by_id, &link] {
        let fifo = fifo.to_str().expect("utf-8");
        assert!(
            tried
                .iter()
                .any(|t| t.contains(fifo) && t.ends_with("not a regular file")),
            "{fifo} not listed as skipped: {report}"
        );
    }
}

/// Runs `script` in the mount namespace of `pid`.
fn in_mount_namespace(pid: i32, script: &str) {
    let done = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "--", "sh", "-c", script])
        .status()
        .expect("nsenter");
    assert!(done.success(), "nsenter {script}");
}

#[test]
fn a_target_that_mounts_over_its_executable_is_read_through_the_mapped_file() {
    if skip_unless_root(
        "a_target_that_mounts_over_its_executable",
        "a private mount namespace",
    ) || skip_without_program("a_target_that_mounts_over_its_executable", "unshare")
        || skip_without_program("a_target_that_mounts_over_its_executable", "nsenter")
    {
        return;
    }
    let dir = scratch("mounted-over");
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).expect("mnt");
    let prog = mnt.join("prog");
    std::fs::copy(dwarf_fixture(), &prog).expect("copy fixture");
    // Another build of the same source with its globals moved: the wrong
    // file gives wrong addresses that are still mapped.
    let other = fixture("globals", "", &[]);
    let m = mnt.to_str().expect("utf-8");

    // `unshare` execs the program, so the fixture's pid is the target's.
    for planted in ["mkfifo {m}/prog", "cp {other} {m}/prog"] {
        let fx = Fixture::spawn_command(
            Command::new("unshare")
                .args(["-m", "--propagation", "private"])
                .arg(&prog),
        );
        let planted = planted
            .replace("{m}", m)
            .replace("{other}", other.to_str().expect("utf-8"));
        in_mount_namespace(fx.pid, &format!("mount -t tmpfs none {m} && {planted}"));
        let pid = fx.pid.to_string();
        let out = bounded(
            &["read", "--pid", &pid, "--json", "hero.level", "hero.pos.y"],
            &[],
        );
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{planted}: {stdout}{}",
            text(&out.stderr)
        );
        let values: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        assert_eq!(values.len(), 2, "{stdout}");
        for (v, key) in values.iter().zip(["hero.level", "hero.pos.y"]) {
            assert_eq!(v["value"].to_string(), fx.var(key), "{planted}: {v}");
        }
    }
}

#[test]
fn compressed_debug_info_that_claims_to_inflate_a_thousandfold_is_refused() {
    if skip_without_program("compressed_debug_info_that_claims", "objcopy") {
        return;
    }
    let dir = scratch("inflate");
    let bin = dir.join("bomb");
    std::fs::copy(dwarf_fixture(), &bin).expect("copy fixture");
    let zeros = dir.join("zeros");
    std::fs::write(&zeros, vec![0u8; 16 << 20]).expect("zeros");
    let b = bin.to_str().expect("utf-8");
    assert!(objcopy(&["--strip-debug", b]));
    let section = format!(".debug_info={}", zeros.to_str().expect("utf-8"));
    assert!(objcopy(&["--add-section", &section, b]));
    assert!(objcopy(&["--compress-debug-sections=zlib", b]));
    assert!(
        std::fs::metadata(&bin).expect("bomb").len() < 1 << 20,
        "16 MiB of zeros compress to a few KiB"
    );
    let fx = Fixture::spawn(&bin, &[]);
    let pid = fx.pid.to_string();

    let out = bounded(&["read", "--pid", &pid, "hero.level"], &[]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(".debug_info"), "{said}");
    assert!(said.contains("times its size: refused"), "{said}");

    let report = module_report(&pid, &[], "bomb");
    let error = report["error"].as_str().unwrap_or_default();
    assert!(error.contains("times its size: refused"), "{report}");
}

#[test]
fn a_fifo_where_a_split_dwarf_unit_is_looked_for_is_skipped() {
    let Some((bin, dwo)) = crate::split_dwarf::build_split("splitfifo", &["-gdwarf-5"]) else {
        return;
    };
    std::fs::remove_file(&dwo).expect("remove the .dwo");
    mkfifo(&dwo);
    let fx = Fixture::spawn(&bin, &[]);
    let pid = fx.pid.to_string();
    let out = bounded(&["read", "--pid", &pid, "hero.level"], &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let report = module_report(&pid, &[], "splitfifo");
    assert_eq!(report["split_dwarf"], 0, "{report}");
}

//! A stripped binary whose symbols survive only in `.gnu_debugdata`
//! (MiniDebugInfo, made as Fedora makes it): its names resolve, and
//! addresses inside it are named, through those symbols.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::util::{Fixture, fixture, pvtui_ok, skip_without_program};

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a build tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Defined names `nm` lists (`-D`: the dynamic ones), optionally only of
/// the given kinds.
fn names(bin: &Path, dynamic: bool, kinds: &str) -> Vec<String> {
    let mut nm = Command::new("nm");
    if dynamic {
        nm.arg("-D");
    }
    let out = ok(nm.args(["--format=posix", "--defined-only"]).arg(bin));
    out.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (name, kind) = (f.next()?, f.next()?);
            (kinds.is_empty() || kinds.contains(kind)).then(|| name.to_string())
        })
        .collect()
}

/// The globals fixture stripped of every symbol; with `mini`, its code and
/// data symbols (less the dynamic ones) xz-packed into `.gnu_debugdata`.
fn stripped(name: &str, mini: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("minidebuginfo-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bin = dir.join(name);
    std::fs::copy(fixture("globals", "pie", &["-fPIE", "-pie"]), &bin).expect("copy fixture");
    let debug = dir.join("mini");
    if mini {
        let dynamic = names(&bin, true, "");
        let keep: Vec<String> = names(&bin, false, "TtDdBb")
            .into_iter()
            .filter(|n| !dynamic.contains(n))
            .collect();
        let list = dir.join("keep");
        std::fs::write(&list, keep.join("\n")).expect("write the keep list");
        ok(Command::new("objcopy")
            .arg("--only-keep-debug")
            .arg(&bin)
            .arg(&debug));
        ok(Command::new("objcopy")
            .args(["-S", "--remove-section", ".comment"])
            .arg(format!("--keep-symbols={}", list.display()))
            .arg(&debug));
        ok(Command::new("xz").arg("-f").arg(&debug));
    }
    ok(Command::new("strip")
        .args(["--strip-all", "-R", ".comment"])
        .arg(&bin));
    if mini {
        ok(Command::new("objcopy")
            .arg(format!(
                "--add-section=.gnu_debugdata={}.xz",
                debug.display()
            ))
            .arg(&bin));
    }
    let nm = Command::new("nm").arg(&bin).output().expect("run nm");
    assert!(
        String::from_utf8_lossy(&nm.stderr).contains("no symbols"),
        "{name} still has a .symtab"
    );
    bin
}

/// `pvtui read --json`: (success, the JSON lines, all it printed).
fn read(pid: i32, exprs: &[&str]) -> (bool, Vec<Value>, String) {
    let pid = pid.to_string();
    let mut args = vec!["read", "--json", "--pid", &pid];
    args.extend_from_slice(exprs);
    let (ok, stdout, stderr) = pvtui_ok(&args);
    let values = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // With --json an error is a JSON line too; say everything on failure.
    (ok, values, format!("{stdout}{stderr}"))
}

fn skipped(test: &str) -> bool {
    ["objcopy", "strip", "nm", "xz"]
        .iter()
        .any(|p| skip_without_program(test, p))
}

#[test]
fn a_stripped_binary_names_its_statics_through_minidebuginfo() {
    if skipped("a_stripped_binary_names_its_statics_through_minidebuginfo") {
        return;
    }
    let fx = Fixture::spawn(&stripped("with-mini", true), &[]);
    let (ok, got, err) = read(fx.pid, &["with-mini!g_u32", "lib_counter", "*g_ptr:u32"]);
    assert!(ok, "{err}");
    assert_eq!(got[0]["value"], json!(4_000_000_000u64), "{}", got[0]);
    assert_eq!(got[0]["address"], json!(format!("{:#x}", fx.addr("g_u32"))));
    // A static (file-local) variable, and an address named by its symbol.
    assert_eq!(
        got[1]["place"],
        json!("with-mini!lib_counter"),
        "{}",
        got[1]
    );
    assert_eq!(got[2]["place"], json!("with-mini!g_u32"), "{}", got[2]);
}

#[test]
fn without_minidebuginfo_the_same_strip_leaves_no_names() {
    if skipped("without_minidebuginfo_the_same_strip_leaves_no_names") {
        return;
    }
    let fx = Fixture::spawn(&stripped("no-mini", false), &[]);
    let (ok, _, said) = read(fx.pid, &["no-mini!g_u32"]);
    assert!(!ok, "g_u32 resolved without any symbol table: {said}");
    assert!(said.contains("no symbol \\\"g_u32\\\""), "{said}");
}

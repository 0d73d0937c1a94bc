//! Bad input and hostile targets, each against real processes: numbers out
//! of range, expressions nested past any stack, corrupt and crafted scan
//! files, reused pids, and escape sequences in paths and argv. Every one
//! must end in a clear error (or escaped output), never a panic, an abort,
//! a hang, or a file lost.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::util::{
    Fixture, fixture, inside_pid_namespace, pvtui_bin, run_in_pid_namespace, skip_unless_root,
    skip_without_program,
};

/// Runs pvtui; the outcome must be an orderly exit, not a signal or a panic.
fn pvtui<S: AsRef<OsStr>>(args: &[S]) -> Output {
    let out = Command::new(pvtui_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run pvtui");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.signal().is_none(),
        "pvtui died of signal {:?}: {err}",
        out.status.signal()
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("stack overflow"), "{err}");
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn globals() -> Fixture {
    Fixture::spawn(&fixture("globals", "pie", &["-fPIE", "-pie"]), &[])
}

fn target() -> Fixture {
    Fixture::spawn(&fixture("target", "", &[]), &[])
}

#[test]
fn deep_and_long_expressions_are_refused_in_read_dump_write_watch() {
    let fx = globals();
    let pid = fx.pid.to_string();
    let hostile = [
        format!("{}g_u8{}", "(".repeat(8000), ")".repeat(8000)),
        format!("g_u8{}", "+1".repeat(50_000)),
        format!("g_u8:u8{}", "[1]".repeat(40_000)),
        format!("{}g_u8", "*".repeat(8000)),
        format!("{}g_u8{}", "(".repeat(100), ")".repeat(100)),
    ];
    let mut tried = 0;
    for expr in &hostile {
        for args in [
            vec!["read", "--pid", &pid, expr],
            vec!["dump", "--pid", &pid, expr, "8"],
            vec!["write", "--pid", &pid, expr, "1"],
            vec!["watch", "--pid", &pid, "--count", "1", expr],
        ] {
            let out = pvtui(&args);
            assert!(!out.status.success(), "{} accepted", args[0]);
            let err = stderr(&out);
            assert!(
                err.contains("longer than")
                    || err.contains("nest deeper")
                    || err.contains("operators")
                    || err.contains("dimensions"),
                "{}: {err}",
                args[0]
            );
            assert!(
                err.len() < 20_000,
                "{}: {} bytes of error",
                args[0],
                err.len()
            );
            tried += 1;
        }
    }
    assert_eq!(tried, 20);
}

#[test]
fn overflowing_address_arithmetic_is_an_error_and_writes_nothing() {
    let mut fx = globals();
    let pid = fx.pid.to_string();
    for expr in [
        "g_flag+0xffffffffffffffff+1",
        "g_flag-0x7fffffffffffffff-0x7fffffffffffffff-2",
        "g_flag*0x100000000*0x100000000",
        "*g_ptr+0xffffffffffffffff",
    ] {
        let out = pvtui(&["read", "--pid", &pid, &format!("{expr}:u8")]);
        assert!(!out.status.success(), "{expr}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("overflows"),
            "{expr}: {}",
            stdout(&out)
        );
        let out = pvtui(&["write", "--pid", &pid, &format!("{expr}:u8"), "7"]);
        assert!(!out.status.success(), "{expr} was written");
        assert!(
            stderr(&out).contains("overflows"),
            "{expr}: {}",
            stderr(&out)
        );
    }
    // The target never saw a write: a real one shows up as a `changed` line.
    let out = pvtui(&["write", "--pid", &pid, "g_flag:u8", "9"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.expect_line("changed g_flag="), "changed g_flag=9");
}

#[test]
fn reads_past_the_top_of_memory_are_errors_not_zeros() {
    let fx = globals();
    let pid = fx.pid.to_string();
    for expr in [
        "0xffffffffffffffff:u64",
        "0xfffffffffffffffc:u64",
        "*0xfffffffffffffffd",
    ] {
        let out = pvtui(&["read", "--json", "--pid", &pid, expr]);
        assert!(!out.status.success(), "{expr}: {}", stdout(&out));
        let json: Value = serde_json::from_str(stdout(&out).trim()).expect("json");
        assert!(json.get("value").is_none(), "{expr}: {json}");
        assert!(
            json["error"]
                .as_str()
                .is_some_and(|e| e.contains("top of memory")),
            "{expr}: {json}"
        );
    }
    let out = pvtui(&["dump", "--pid", &pid, "0xfffffffffffffff8", "0x20"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("top of memory"), "{}", stderr(&out));
}

#[test]
fn f32_too_small_to_hold_is_refused_not_written_as_zero() {
    let fx = globals();
    let pid = fx.pid.to_string();
    for value in ["1e-300", "-1e-46"] {
        let out = pvtui(&["write", "--pid", &pid, "g_f32:f32", value]);
        assert!(!out.status.success(), "{value} accepted");
        assert!(
            stderr(&out).contains("too small for f32"),
            "{}",
            stderr(&out)
        );
    }
    let out = pvtui(&["read", "--json", "--pid", &pid, "g_f32:f32"]);
    let json: Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(json["value"], serde_json::json!(1.5));
}

#[test]
fn constant_cstr_does_not_show_changed_every_tick_in_watch() {
    let fx = globals();
    let pid = fx.pid.to_string();
    // g_name's 256-byte window reaches g_ticks, which moves every 2 ms.
    let out = pvtui(&[
        "watch",
        "--json",
        "--pid",
        &pid,
        "--interval",
        "20",
        "--count",
        "8",
        "g_name:cstr",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ticks: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(ticks.len(), 8);
    for tick in &ticks {
        assert_eq!(tick["values"][0]["value"], "pvtui fixture", "{tick}");
        assert_eq!(tick["values"][0]["status"], "ok", "{tick}");
    }
}

#[test]
fn numeric_options_out_of_range_are_refused_at_parse_time() {
    let fx = target();
    let pid = fx.pid.to_string();
    let p = pid.as_str();
    let bad: Vec<Vec<&str>> = vec![
        vec!["search", "--pid", p, "x", "--lanes", "100000"],
        vec!["search", "--pid", p, "x", "--lanes", "18446744073709551615"],
        vec![
            "search",
            "--pid",
            p,
            "x",
            "--overlap",
            "9223372036854775808",
        ],
        vec!["search", "--pid", p, "x", "--chunk", "1T"],
        vec!["search", "--pid", p, "x", "--chunk", "1152921504606846976"],
        vec!["search", "--pid", p, "x", "--chunk", "0"],
        vec!["search", "--pid", p, "x", "--max", "1000000001"],
        vec!["scan", "--pid", p, "-t", "u32", "1", "--lanes", "100000"],
        vec![
            "scan",
            "--pid",
            p,
            "-t",
            "u32",
            "1",
            "--max",
            "18446744073709551615",
        ],
        vec!["scan", "--pid", p, "-t", "f32", "1", "--tolerance", "NaN"],
        vec!["scan", "--pid", p, "-t", "f32", "1", "--tolerance", "-1"],
        vec!["watch", "--pid", p, "--interval", "0", "0x10"],
        vec!["watch", "--pid", p, "--count", "0", "0x10"],
        vec!["watch", "--pid", p, "--timeout", "0", "0x10"],
        vec![
            "read",
            "--pid",
            p,
            "--timeout",
            "18446744073709551615",
            "0x10",
        ],
        vec!["write", "--pid", p, "--timeout", "0", "0x10", "1"],
        vec!["dump", "--pid", p, "0x10", "0"],
        vec!["dump", "--pid", p, "0x10", "18446744073709551615"],
        vec!["dump", "--pid", p, "0x10", "8", "--deadline-ms", "0"],
        vec!["read", "--pid", "0", "0x10"],
        vec!["read", "--pid=-1", "0x10"],
        vec!["maps", "--pid", "2147483648"],
        vec!["--pid", "0"],
        vec!["--interval", "0", "--pid", p],
    ];
    for args in &bad {
        let out = pvtui(args);
        assert_eq!(out.status.code(), Some(2), "{args:?} was accepted");
        assert!(
            stderr(&out).contains("invalid value"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn watch_file_from_dev_zero_or_with_a_huge_line_is_refused() {
    let fx = target();
    let pid = fx.pid.to_string();
    let out = pvtui(&["--watches", "/dev/zero", "--pid", &pid]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("watches");
    std::fs::write(&file, vec![b'\n'; (1 << 20) + 1]).expect("write");
    let out = pvtui(&[
        OsStr::new("--watches"),
        file.as_os_str(),
        OsStr::new("--pid"),
        OsStr::new(&pid),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
    std::fs::write(&file, format!("counter\n{}\n", "a".repeat(50_000))).expect("write");
    let out = pvtui(&[
        OsStr::new("--watches"),
        file.as_os_str(),
        OsStr::new("--pid"),
        OsStr::new(&pid),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("line 2 is longer"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn empty_name_is_refused_instead_of_picking_a_process() {
    let out = pvtui(&["--name", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot be empty"), "{}", stderr(&out));
}

#[test]
fn json_commands_write_their_errors_as_json() {
    let fx = globals();
    let pid = fx.pid.to_string();
    for args in [
        vec!["write", "--json", "--pid", &pid, "g_nope", "1"],
        vec!["write", "--json", "--pid", &pid, "g_u8", "300"],
        vec!["write", "--json", "--pid", "4000000", "g_u8", "1"],
        vec!["write", "--json", "--pid", &pid, "(", "1"],
        vec!["dump", "--json", "--pid", &pid, "g_nope", "8"],
        vec!["watch", "--json", "--pid", &pid, "--interval", "0", "g_u8"],
        vec!["maps", "--json", "--pid", "4000000"],
        vec!["search", "--json", "--pid", &pid, "(unclosed"],
        vec!["scan", "--json", "--pid", &pid, "-t", "u32", "nonsense"],
    ] {
        let out = pvtui(&args);
        assert!(!out.status.success(), "{args:?}");
        let text = stdout(&out);
        let json: Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("{args:?}: {e}: stdout {text:?}, stderr {}", stderr(&out)));
        assert!(
            json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{json}"
        );
        assert!(json["kind"].is_string(), "{json}");
    }
}

/// A file whose name carries terminal escapes, mapped by a fixture.
struct EscapedMapping {
    _dir: tempfile::TempDir,
    fx: Fixture,
}

const EVIL: &str = "evil\x1b]0;pwned\x07\x1b[2J\u{9b}31m";

fn escaped_mapping() -> EscapedMapping {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(EVIL);
    std::fs::write(&path, "PVTUI-ESCAPE-MARK-0001\n".repeat(200)).expect("write");
    let fx = Fixture::spawn_command(Command::new(fixture("mapped", "", &[])).arg(&path));
    EscapedMapping { _dir: dir, fx }
}

fn assert_no_raw_escapes(what: &str, text: &str) {
    assert!(
        !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{9b}'),
        "{what} printed raw escapes: {text:?}"
    );
}

#[test]
fn maps_escapes_a_mapping_path_holding_escape_sequences() {
    let m = escaped_mapping();
    let out = pvtui(&["maps", "--pid", &m.fx.pid.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_no_raw_escapes("maps", &text);
    assert!(
        text.contains("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m"),
        "{text}"
    );
    // JSON carries the exact path, escaped the JSON way.
    let out = pvtui(&["maps", "--json", "--pid", &m.fx.pid.to_string()]);
    assert_no_raw_escapes("maps --json", &stdout(&out));
    assert!(
        stdout(&out).contains("evil\\u001b]0;pwned"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn search_escapes_the_region_column() {
    let m = escaped_mapping();
    let out = pvtui(&[
        "search",
        "--pid",
        &m.fx.pid.to_string(),
        "--text",
        "PVTUI-ESCAPE-MARK-0001",
        "--max",
        "3",
        // The fixture never touched the file's pages: fault them in.
        "--force",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let found = text.lines().filter(|l| !l.starts_with("... and ")).count();
    assert_eq!(found, 3, "{text}");
    assert_no_raw_escapes("search", &text);
    assert_no_raw_escapes("search's notes", &stderr(&out));
    assert!(text.contains("evil\\u{1b}"), "{text}");
    let out = pvtui(&[
        "search",
        "--json",
        "--pid",
        &m.fx.pid.to_string(),
        "--text",
        "PVTUI-ESCAPE",
        "--max",
        "1",
        "--force",
    ]);
    assert_no_raw_escapes("search --json", &stdout(&out));
}

#[test]
fn name_candidates_with_escapes_in_argv_are_escaped() {
    let bin = fixture("globals", "pie", &["-fPIE", "-pie"]);
    // As `exec -a NAME` does: argv[0] chosen by whoever starts the process.
    let argv0 = "pvtui-evil\x1b[31m\x1b]0;x\x07";
    let spawn = || Fixture::spawn_command(Command::new(&bin).arg0(argv0));
    let (_a, _b) = (spawn(), spawn());
    let out = pvtui(&["--name", argv0]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("2 processes are named"), "{err}");
    assert_no_raw_escapes("--name", &err);
    assert!(err.contains("pvtui-evil\\u{1b}[31m"), "{err}");
}

/// Saves a first scan of `pid` for `value` (u64) in `file`.
fn save_scan(pid: i32, value: &str, file: &Path) {
    let out = pvtui(&[
        OsStr::new("scan"),
        OsStr::new("--pid"),
        OsStr::new(&pid.to_string()),
        OsStr::new("-t"),
        OsStr::new("u64"),
        OsStr::new(value),
        OsStr::new("--save"),
        file.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn narrow(file: &Path, value: &str) -> Output {
    pvtui(&[
        OsStr::new("scan"),
        OsStr::new("--from"),
        file.as_os_str(),
        OsStr::new(value),
    ])
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn corrupt_scan_file_is_reported_and_left_as_it_was() {
    let fx = target();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("scan.pvs");
    save_scan(fx.pid, "42", &file);
    let good = std::fs::read(&file).expect("read");
    // A byte in the header, in the identity, and in the records.
    for at in [20, 40, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&file, &bad).expect("write");
        let out = narrow(&file, "42");
        assert!(!out.status.success(), "byte {at}: narrowed a corrupt file");
        assert!(stderr(&out).contains("corrupt"), "{}", stderr(&out));
        assert_eq!(
            std::fs::read(&file).expect("read"),
            bad,
            "byte {at}: file changed"
        );
        assert_eq!(names_in(dir.path()), ["scan.pvs"], "a file was left behind");
    }
    // Intact, it narrows in place and leaves nothing behind but the step
    // before, kept for undo.
    std::fs::write(&file, &good).expect("write");
    let out = narrow(&file, "42");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names_in(dir.path()), ["scan.pvs", "scan.pvs.undo-1"]);
    assert_eq!(
        std::fs::read(dir.path().join("scan.pvs.undo-1")).expect("read"),
        good
    );
}

/// Scan file layout: where the records start and the CRC sits.
const HEADER_LEN: usize = 82;
const CRC_AT: usize = 78;

fn reseal(bytes: &mut [u8]) {
    let mut head = bytes[..HEADER_LEN].to_vec();
    head[CRC_AT..].fill(0);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&bytes[HEADER_LEN..]);
    crc.update(&head);
    bytes[CRC_AT..HEADER_LEN].copy_from_slice(&crc.finalize().to_le_bytes());
}

#[test]
fn crafted_scan_record_near_the_top_of_memory_is_an_error() {
    let fx = target();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("scan.pvs");
    save_scan(fx.pid, "42", &file);
    let mut bytes = std::fs::read(&file).expect("read");
    assert!(
        bytes.len() > HEADER_LEN,
        "the scan found nothing to craft from"
    );
    for base in [
        0xffff_ffff_ffff_0000u64,
        0xffff_ffff_ffff_fff8,
        0x7fff_ffff_ffff_0001,
    ] {
        bytes[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&base.to_le_bytes());
        reseal(&mut bytes);
        std::fs::write(&file, &bytes).expect("write");
        let out = narrow(&file, "42");
        assert!(!out.status.success(), "{base:#x} accepted");
        assert!(stderr(&out).contains("corrupt record"), "{}", stderr(&out));
        assert_eq!(std::fs::read(&file).expect("read"), bytes);
        assert_eq!(names_in(dir.path()), ["scan.pvs"], "a file was left behind");
    }
}

#[test]
fn scan_file_of_a_process_that_ran_exec_is_refused() {
    if skip_without_program("scan_file_of_a_process_that_ran_exec_is_refused", "sh") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mapped = fixture("mapped", "", &[]);
    let data = dir.path().join("data");
    std::fs::write(&data, "x").expect("write");
    // A shell that says ready, then becomes the mapped fixture: same pid and start time.
    let mut child = Command::new("sh")
        .args(["-c", "echo ready; read line; exec \"$0\" \"$1\""])
        .arg(&mapped)
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().expect("a line").expect("text");
    assert_eq!(next(), "ready");
    let pid = child.id() as i32;
    let file = dir.path().join("scan.pvs");
    save_scan(pid, "0x5eed5eed5eed5eed", &file);
    writeln!(child.stdin.as_mut().expect("stdin"), "go").expect("write");
    while next() != "ready" {}
    let out = pvtui(&[
        OsStr::new("scan"),
        OsStr::new("--from"),
        file.as_os_str(),
        OsStr::new("0x5eed5eed5eed5eed"),
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(!out.status.success(), "narrowed across an exec");
    assert!(stderr(&out).contains("exec"), "{}", stderr(&out));
}

/// `scan --from` refuses a process that took a scanned process's pid. Runs in
/// a private pid namespace, where `ns_last_pid` steers the next pid.
#[test]
fn scan_file_of_a_reused_pid_is_refused() {
    run_in_pid_namespace(
        "scan_file_of_a_reused_pid_is_refused",
        "hardening::scan_file_of_a_reused_pid_inside_namespace",
    );
}

#[test]
#[ignore = "run inside a pid namespace by scan_file_of_a_reused_pid_is_refused"]
fn scan_file_of_a_reused_pid_inside_namespace() {
    if !inside_pid_namespace() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file: PathBuf = dir.path().join("scan.pvs");
    let mut old = target();
    let old_pid = old.pid;
    save_scan(old_pid, "42", &file);
    old.kill();
    std::fs::write("/proc/sys/kernel/ns_last_pid", format!("{}", old_pid - 1))
        .expect("set ns_last_pid");
    let new = target();
    assert_eq!(new.pid, old_pid, "the new process took the old pid");
    let before = std::fs::read(&file).expect("read");
    let out = narrow(&file, "42");
    assert!(
        !out.status.success(),
        "narrowed a stranger: {}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("earlier process"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&file).expect("read"), before);
}

#[test]
fn long_expressions_and_names_are_named_shortly_by_the_hunting_commands() {
    if skip_unless_root(
        "long_expressions_and_names_are_named_shortly_by_the_hunting_commands",
        "attaching to a fixture",
    ) {
        return;
    }
    let target = globals();
    let pid = target.pid.to_string();
    let long = "(".repeat(100_000);
    for command in ["writers", "pointers"] {
        let out = pvtui(&[command, "--pid", &pid, &long]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = stderr(&out);
        assert!(err.len() < 2000, "{command}: {} bytes of error", err.len());
        assert!(err.contains("(100000 characters)"), "{command}: {err}");
    }
    let out = pvtui(&["freeze", "--pid", &pid, &long, "1"]);
    assert!(stderr(&out).len() < 2000, "freeze");
    let out = pvtui(&["shared", "--name", &"a".repeat(100_000)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).len() < 2000, "shared --name");
}

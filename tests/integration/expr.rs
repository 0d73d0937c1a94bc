//! Watch expressions against real fixture processes: symbols of PIE,
//! non-PIE, static, stripped, dlopen'd, deleted and Rust binaries resolve to
//! the right values; writes are seen by the target itself.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Fixture, fixture, pvtui_bin, pvtui_ok, rust_fixture};

fn globals(variant: &str, flags: &[&str]) -> PathBuf {
    fixture("globals", variant, flags)
}

/// Runs `pvtui ARGS`: (success, stdout lines, stderr).
fn pvtui(args: &[&str]) -> (bool, Vec<String>, String) {
    let (ok, stdout, stderr) = pvtui_ok(args);
    (ok, stdout.lines().map(str::to_string).collect(), stderr)
}

/// `pvtui read --json` of `exprs`: one JSON object per expression.
fn read_json(pid: i32, exprs: &[&str]) -> Vec<Value> {
    let pid = pid.to_string();
    let mut args = vec!["read", "--json", "--pid", &pid];
    args.extend_from_slice(exprs);
    let (_, lines, stderr) = pvtui(&args);
    assert_eq!(
        lines.len(),
        exprs.len(),
        "stdout {lines:?}, stderr {stderr}"
    );
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn read_one(pid: i32, expr: &str) -> Value {
    read_json(pid, &[expr]).remove(0)
}

/// Every global of the C fixture reads as its initial value, at the address
/// the fixture printed.
fn reads_every_global(bin: &Path) {
    reads_every_global_as(bin, true);
}

/// As [`reads_every_global`]; `typed`: the binary has its debug info, so
/// a bare variable reads as its DWARF type.
fn reads_every_global_as(bin: &Path, typed: bool) {
    let target = Fixture::spawn(bin, &[]);
    let expected = [
        // A bare variable reads as its debug info's type (the fixture has -g).
        ("g_u8", json!(200), if typed { "uint8_t" } else { "u8" }),
        (
            "g_u16",
            json!(60000),
            if typed { "uint16_t" } else { "u16" },
        ),
        (
            "g_u32",
            json!(4_000_000_000u64),
            if typed { "uint32_t" } else { "u32" },
        ),
        (
            "g_u64",
            json!(18_000_000_000_000_000_000u64),
            if typed { "uint64_t" } else { "u64" },
        ),
        ("g_i8:i8", json!(-100), "i8"),
        ("g_i16:i16", json!(-30000), "i16"),
        ("g_i32:i32", json!(-2_000_000_000), "i32"),
        ("g_i64:i64", json!(-9_000_000_000_000_000_000i64), "i64"),
        ("g_f32:f32", json!(1.5), "f32"),
        ("g_f64:f64", json!(-2.25), "f64"),
        ("g_name:cstr", json!("pvtui fixture"), "cstr"),
        ("g_name:str[5]", json!("pvtui"), "str[5]"),
        ("g_table:u32[4]", json!([10, 20, 30, 40]), "u32[4]"),
        ("g_table + 4*3:u32", json!(40), "u32"),
        ("*g_ptr:u32", json!(4_000_000_000u64), "u32"),
        ("*(*g_root + 8) + 16:i64", json!(-77), "i64"),
        ("g_u16:u16be", json!(0x60ea), "u16be"),
        ("g_flag:bool", json!(false), "bool"),
        ("g_name:char", json!("p"), "char"),
    ];
    let exprs: Vec<&str> = expected.iter().map(|(e, _, _)| *e).collect();
    let got = read_json(target.pid, &exprs);
    for ((expr, value, ty), obj) in expected.iter().zip(&got) {
        assert_eq!(obj["expr"], json!(expr), "{obj}");
        assert_eq!(&obj["value"], value, "{bin:?} {expr}: {obj}");
        assert_eq!(obj["type"], json!(ty), "{expr}: {obj}");
    }
    let addr = |key: &str| json!(format!("{:#x}", target.addr(key)));
    assert_eq!(got[2]["address"], addr("g_u32"));
    assert_eq!(got[14]["address"], addr("g_u32"), "*g_ptr points at g_u32");
    let leaf_payload = format!("{:#x}", target.addr("g_leaf") + 16);
    assert_eq!(got[15]["address"], json!(leaf_payload));
    let table3 = format!("{:#x}", target.addr("g_table") + 12);
    assert_eq!(got[13]["address"], json!(table3));
}

#[test]
fn reads_globals_of_a_pie_binary() {
    reads_every_global(&globals("pie", &["-fPIE", "-pie"]));
}

#[test]
fn reads_globals_of_a_non_pie_binary() {
    reads_every_global(&globals("nopie", &["-fno-PIE", "-no-pie"]));
}

#[test]
fn reads_globals_of_a_static_binary() {
    reads_every_global(&globals("static", &["-static"]));
}

#[test]
fn reads_exported_globals_of_a_stripped_binary() {
    let bin = globals("stripped", &["-rdynamic", "-s"]);
    let nm = Command::new("nm").arg(&bin).output().expect("run nm");
    assert!(
        String::from_utf8_lossy(&nm.stderr).contains("no symbols"),
        "the stripped fixture still has a .symtab"
    );
    reads_every_global_as(&bin, false);
}

#[test]
fn reads_globals_of_a_binary_deleted_after_start() {
    let built = globals("pie", &["-fPIE", "-pie"]);
    let dir = std::env::temp_dir().join(format!("pvtui-deleted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let copy = dir.join("globals-deleted");
    std::fs::copy(&built, &copy).expect("copy fixture");
    let target = Fixture::spawn(&copy, &[]);
    std::fs::remove_file(&copy).expect("delete the running binary");
    let _ = std::fs::remove_dir(&dir);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", target.pid)).expect("maps");
    assert!(maps.contains("globals-deleted (deleted)"), "{maps}");
    let got = read_json(target.pid, &["g_u32", "*(*g_root+8)+16:i64"]);
    assert_eq!(got[0]["value"], json!(4_000_000_000u64), "{}", got[0]);
    assert_eq!(got[1]["value"], json!(-77), "{}", got[1]);
}

#[test]
fn reads_a_mangled_rust_static_by_its_path() {
    let bin = rust_fixture("mangled");
    let mut target = Fixture::spawn(&bin, &[]);
    let got = read_one(target.pid, "mangled::app::STATE");
    assert_eq!(got["value"], json!(0x1234_5678_9abcu64), "{got}");
    assert_eq!(got["type"], json!("u64"));
    assert_eq!(
        got["address"],
        json!(format!("{:#x}", target.addr("state")))
    );
    let (ok, lines, stderr) = pvtui(&[
        "write",
        "--pid",
        &target.pid.to_string(),
        "mangled::app::STATE",
        "42",
    ]);
    assert!(ok, "{lines:?} {stderr}");
    assert_eq!(target.expect_line("changed STATE="), "changed STATE=42");
}

#[test]
fn writes_are_seen_by_the_target() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let mut target = Fixture::spawn(&bin, &[]);
    let pid = target.pid.to_string();
    for (expr, value, line) in [
        ("g_flag", "1", "changed g_flag=1"),
        ("g_i16:i16", "-5", "changed g_i16=-5"),
        ("g_f64:f64", "6.5", "changed g_f64=6.5"),
        ("g_name:cstr", "\"hello\"", "changed g_name=hello"),
        ("g_table+8:u32", "0x21", "changed g_table2=33"),
        (
            "*(*g_root+8)+16:i64",
            "-12345",
            "changed g_leaf.payload=-12345",
        ),
    ] {
        let (ok, lines, stderr) = pvtui(&["write", "--pid", &pid, "--json", expr, value]);
        assert!(ok, "{expr} {value}: {lines:?} {stderr}");
        let report: Value = serde_json::from_str(&lines[0]).expect("json");
        assert_eq!(report["landed"], json!(true), "{report}");
        assert_eq!(
            target.expect_line(&format!("{}=", line.split('=').next().unwrap_or(line))),
            line
        );
    }
    assert_eq!(read_one(target.pid, "g_i16:i16")["value"], json!(-5));
}

#[test]
fn out_of_range_writes_are_refused_before_writing() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let target = Fixture::spawn(&bin, &[]);
    let pid = target.pid.to_string();
    for (expr, value) in [
        ("g_u8", "256"),
        ("g_i8:i8", "-129"),
        ("g_u16", "-1"),
        ("g_name:str[4]", "toolong"),
    ] {
        let (ok, _, stderr) = pvtui(&["write", "--pid", &pid, expr, value]);
        assert!(!ok, "{expr} = {value} must be refused");
        assert!(stderr.contains("cannot write"), "{stderr}");
    }
    let (ok, _, stderr) = pvtui(&["write", "--pid", &pid, "g_name:cstr", "sixteen bytes..."]);
    assert!(!ok, "a C string longer than g_name was written");
    assert!(stderr.contains("which is 16 bytes"), "{stderr}");
    assert_eq!(read_one(target.pid, "g_u8")["value"], json!(200));
    assert_eq!(read_one(target.pid, "g_i8:i8")["value"], json!(-100));
    assert_eq!(
        read_one(target.pid, "g_name:cstr")["value"],
        json!("pvtui fixture")
    );
}

#[test]
fn a_write_to_read_only_data_does_not_land() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let target = Fixture::spawn(&bin, &[]);
    let (ok, lines, stderr) = pvtui(&["write", "--pid", &target.pid.to_string(), "g_const", "5"]);
    assert!(!ok, "a write to .rodata reported success: {lines:?}");
    assert!(!stderr.is_empty() || !lines.is_empty());
    assert_eq!(read_one(target.pid, "g_const")["value"], json!(77));
}

#[test]
fn unknown_symbols_suggest_near_names_and_parse_errors_point_at_the_column() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let target = Fixture::spawn(&bin, &[]);
    let got = read_one(target.pid, "g_u33");
    let error = got["error"].as_str().expect("an error");
    assert!(
        error.contains("did you mean") && error.contains("g_u32"),
        "{error}"
    );
    let got = read_one(target.pid, "g_u32 + :u8");
    assert_eq!(
        got["error"],
        json!("expected a number, symbol, [region], '(' or '*' at column 9")
    );
    let (ok, _, stderr) = pvtui(&["read", "--pid", &target.pid.to_string(), "g_u32 +"]);
    assert!(!ok);
    assert!(stderr.contains("  g_u32 +\n         ^"), "{stderr}");
    let got = read_one(target.pid, "nosuchlib!x");
    assert!(
        got["error"]
            .as_str()
            .is_some_and(|e| e.contains("no loaded object")),
        "{got}"
    );
}

#[test]
fn a_c_string_may_end_just_before_an_unmapped_page() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let target = Fixture::spawn(&bin, &[]);
    let edge = target.addr("edge");
    let got = read_json(
        target.pid,
        &[&format!("{edge:#x}:cstr"), &format!("{edge:#x}:str[8]")],
    );
    assert_eq!(got[0]["value"], json!("edge"), "{}", got[0]);
    assert_eq!(got[1]["error"], json!("unmapped"), "{}", got[1]);
}

#[test]
fn module_qualified_and_region_relative_expressions() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let target = Fixture::spawn(&bin, &[]);
    let module = "globals-pie";
    let got = read_json(
        target.pid,
        &[
            &format!("{module}!g_u32"),
            "libc!environ:ptr",
            "[heap]:u8",
            &format!("[{module}]:bytes[4]"),
        ],
    );
    assert_eq!(got[0]["value"], json!(4_000_000_000u64), "{}", got[0]);
    assert!(
        got[1]["value"]
            .as_str()
            .is_some_and(|p| p.starts_with("0x7")),
        "{}",
        got[1]
    );
    assert!(got[2].get("value").is_some(), "{}", got[2]);
    assert_eq!(got[3]["value"], json!("7f 45 4c 46"), "{}", got[3]);
}

/// Runs `pvtui watch` in the background, handing its JSON lines to a channel.
struct WatchProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl WatchProcess {
    fn start(args: &[&str]) -> WatchProcess {
        let mut child = Command::new(pvtui_bin())
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn pvtui watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        WatchProcess { child, lines }
    }

    /// The next tick (or event) as JSON.
    fn next(&self) -> Option<Value> {
        let line = self.lines.recv_timeout(Duration::from_secs(20)).ok()?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}")))
    }
}

impl Drop for WatchProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_watch_on_a_library_starts_working_once_it_is_loaded() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let lib = fixture("globals_lib", "so", &["-shared", "-fPIC"]);
    let mut target = Fixture::spawn(&bin, &[]);
    let pid = target.pid.to_string();
    let watch = WatchProcess::start(&[
        "--pid",
        &pid,
        "--json",
        "--interval",
        "20",
        "globals_lib!lib_counter",
    ]);
    let first = watch.next().expect("a first tick");
    let value = &first["values"][0];
    assert_eq!(value["status"], json!("error"), "{first}");
    assert!(
        value["error"]
            .as_str()
            .is_some_and(|e| e.contains("globals_lib")),
        "{first}"
    );

    target.send(&format!("dlopen {}", lib.display()));
    target.expect_line("loaded lib_counter=");
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            Instant::now() < until,
            "the watch never resolved after dlopen"
        );
        let tick = watch.next().expect("ticks keep coming");
        if tick["values"][0]["value"] == json!(1234) {
            assert_eq!(tick["values"][0]["status"], json!("ok"), "{tick}");
            break;
        }
    }
    let (ok, lines, stderr) = pvtui(&["write", "--pid", &pid, "globals_lib!lib_counter", "4321"]);
    assert!(ok, "{lines:?} {stderr}");
    assert_eq!(
        target.expect_line("changed lib_counter="),
        "changed lib_counter=4321"
    );
    loop {
        assert!(Instant::now() < until, "the watch never saw the write");
        let tick = watch.next().expect("ticks keep coming");
        if tick["values"][0]["value"] == json!(4321) {
            assert_eq!(tick["values"][0]["status"], json!("changed"), "{tick}");
            break;
        }
    }
}

#[test]
fn watch_reports_changes_and_the_target_exit() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let mut target = Fixture::spawn(&bin, &[]);
    let pid = target.pid.to_string();
    let watch = WatchProcess::start(&[
        "--pid",
        &pid,
        "--json",
        "--interval",
        "20",
        "g_ticks",
        "g_u8",
        "0x10",
    ]);
    let mut saw_changed = false;
    for _ in 0..10 {
        let tick = watch.next().expect("tick");
        let values = tick["values"].as_array().expect("values");
        assert_eq!(values.len(), 3, "{tick}");
        assert_eq!(values[1]["value"], json!(200), "{tick}");
        assert_eq!(values[2]["status"], json!("unmapped"), "{tick}");
        assert_eq!(values[2]["address"], json!("0x10"), "{tick}");
        saw_changed |= values[0]["status"] == json!("changed");
    }
    assert!(
        saw_changed,
        "g_ticks moves every 2 ms, yet no tick said changed"
    );
    target.kill();
    loop {
        let event = watch.next().expect("an exit event");
        if event.get("event").is_some() {
            assert_eq!(event, json!({"event": "exited", "pid": target.pid}));
            break;
        }
    }
}

#[test]
fn watch_stops_after_count_ticks() {
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let target = Fixture::spawn(&bin, &[]);
    let (ok, lines, stderr) = pvtui(&[
        "watch",
        "--pid",
        &target.pid.to_string(),
        "--interval",
        "10",
        "--count",
        "3",
        "g_u32",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.contains("g_u32 = 4000000000 (ok)")),
        "{lines:?}"
    );
}

#[test]
fn addresses_show_as_symbols_and_relocate_across_runs() {
    use std::sync::Arc;

    use pvtui::expr::{WatchSet, parse_watch, relocatable};
    use pvtui::process::{MemoryWorker, ReadMode, Target};
    use pvtui::symbols::SymbolTable;

    let bin = globals("pie", &["-fPIE", "-pie"]);
    let fixture = Fixture::spawn(&bin, &[]);
    let target = Arc::new(Target::attach(fixture.pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let symbols = SymbolTable::new(&target, &maps);
    let g_u32 = fixture.addr("g_u32");
    assert_eq!(
        symbols.symbol_at(g_u32 + 2),
        Some(("globals-pie!g_u32".to_string(), 2))
    );
    let base = maps.find_by_name("globals-pie").expect("exe mapped").start;
    assert_eq!(symbols.module_at(base + 3), Some(("globals-pie", 3)));

    // An absolute address typed in one run becomes `module!symbol`, which
    // reads the same value in another run at another address.
    let absolute = parse_watch(&format!("{:#x} + 0:u32", g_u32)).expect("parses");
    let moved = relocatable(&absolute, &symbols);
    assert_eq!(moved.to_string(), "globals-pie!g_u32 + 0:u32");
    let header = relocatable(
        &parse_watch(&format!("{base:#x}:bytes[4]")).expect("parses"),
        &symbols,
    );
    assert_eq!(header.to_string(), "[globals-pie]:bytes[4]");

    let other = Fixture::spawn(&bin, &[]);
    assert_ne!(other.addr("g_u32"), g_u32, "ASLR moved the second run");
    let target = Arc::new(Target::attach(other.pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let symbols = SymbolTable::new(&target, &maps);
    let mut worker = MemoryWorker::new(Arc::clone(&target), Duration::from_millis(500));
    let mut set = WatchSet::new();
    set.add(parse_watch(&moved.to_string()).expect("relocated text parses"));
    set.add(parse_watch(&header.to_string()).expect("relocated text parses"));
    let readings = set
        .poll(&mut worker, &maps, &symbols, ReadMode::Force)
        .expect("poll");
    assert_eq!(readings[0].address, Some(other.addr("g_u32")));
    assert_eq!(
        readings[0]
            .value
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("4000000000")
    );
    assert_eq!(
        readings[1]
            .value
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("7f 45 4c 46")
    );

    // An edit keeps the watch's place; an unknown symbol says where it is.
    let first = set.watches().next().map(|(id, _)| id).expect("a watch");
    assert!(set.replace(first, parse_watch("g_leaf + g_nope").expect("parses")));
    let readings = set
        .poll(&mut worker, &maps, &symbols, ReadMode::Force)
        .expect("poll");
    assert!(matches!(&readings[0].status, pvtui::expr::Status::Error(m) if m.contains("g_nope")));
    assert_eq!(set.resolve_error(first).map(|e| e.column), Some(9));
    assert_eq!(readings[1].status, pvtui::expr::Status::Ok);
}

#[test]
fn reads_globals_of_a_target_in_another_mount_namespace() {
    if crate::util::skip_unless_root(
        "reads_globals_of_a_target_in_another_mount_namespace",
        "unshare -m and mounting a tmpfs",
    ) {
        return;
    }
    let bin = globals("pie", &["-fPIE", "-pie"]);
    let dir = std::env::temp_dir().join(format!("pvtui-mntns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mount point");
    // The binary lives on a tmpfs only the target's namespace sees.
    let script = format!(
        "mount -t tmpfs none {dir} && cp {bin} {dir}/hidden && exec {dir}/hidden",
        dir = dir.display(),
        bin = bin.display()
    );
    let target = Fixture::spawn_command(Command::new("unshare").args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
    ]));
    let hidden = dir.join("hidden");
    assert!(!hidden.exists(), "the tmpfs leaked into our namespace");
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", target.pid)).expect("maps");
    assert!(maps.contains(&hidden.display().to_string()), "{maps}");
    let got = read_json(target.pid, &["g_u32", "*g_ptr:u32"]);
    assert_eq!(got[0]["value"], json!(4_000_000_000u64), "{}", got[0]);
    assert_eq!(got[1]["value"], json!(4_000_000_000u64), "{}", got[1]);
    drop(target);
    let _ = std::fs::remove_dir(&dir);
}

#[test]
fn a_dereferenced_watch_says_changed_when_its_pointer_moves_to_another_value() {
    use std::sync::Arc;

    use pvtui::expr::{Status, WatchSet, parse_watch};
    use pvtui::process::{MemoryWorker, ReadMode, Target};
    use pvtui::symbols::SymbolTable;

    let bin = globals("pie", &["-fPIE", "-pie"]);
    let fixture = Fixture::spawn(&bin, &[]);
    let target = Arc::new(Target::attach(fixture.pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let symbols = SymbolTable::new(&target, &maps);
    let mut worker = MemoryWorker::new(Arc::clone(&target), Duration::from_millis(500));
    let mut set = WatchSet::new();
    set.add(parse_watch("*g_ptr:u32").expect("parses"));
    set.add(parse_watch("g_ptr:ptr").expect("parses"));
    let mut poll = || {
        set.poll(&mut worker, &maps, &symbols, ReadMode::Force)
            .expect("poll")
    };
    let first = poll();
    assert_eq!(first[0].status, Status::Ok);
    assert_eq!(first[0].address, Some(fixture.addr("g_u32")));
    // Point g_ptr at g_table[0] (10) instead of g_u32 (4000000000).
    let g_ptr = symbols
        .lookup("g_ptr")
        .map(|s| s.addr)
        .expect("g_ptr is a symbol");
    let table = fixture.addr("g_table");
    let report = target
        .write(&maps, g_ptr, &table.to_le_bytes())
        .expect("write");
    assert!(report.landed());
    let moved = poll();
    assert_eq!(moved[0].address, Some(table));
    assert_eq!(moved[1].status, Status::Changed, "the pointer changed");
    assert_eq!(
        moved[0].status,
        Status::Changed,
        "the value it points at changed too: {:?}",
        moved[0].value
    );
    assert_eq!(poll()[0].status, Status::Ok, "and then stays");
}

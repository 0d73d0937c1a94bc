//! 1,000 watches over globals scattered through a real target's data:
//!
//! 1. the cost of one tick of the resident poll loop (`WatchSet::poll`
//!    with never-block reads), averaged over many ticks;
//! 2. `pvtui read` of the 1,000 expressions as one command, against
//!    `gdb -batch -p PID` printing the same 1,000 values; the values must
//!    be identical.
//!
//! Run with `cargo bench --bench watch`. Needs `cc` and `gdb`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pvtui::debuginfo::DebugInfo;
use pvtui::expr::{Status, WatchSet, parse_watch};
use pvtui::process::{Memory, MemoryWorker, ReadBatch, ReadMode, Target};
use pvtui::symbols::SymbolTable;

mod common;

const GLOBALS: usize = 1000;
const TICKS: u32 = 2000;

/// (C type, pvtui type suffix) for each global; 8-bit types are left out
/// because gdb prints them as characters.
const TYPES: [(&str, &str); 6] = [
    ("unsigned short", ""),
    ("unsigned int", ""),
    ("unsigned long", ""),
    ("short", ":i16"),
    ("int", ":i32"),
    ("long", ":i64"),
];

fn value_of(i: usize) -> i64 {
    let magnitude = (i as i64 * 7919 + 13) % 30000;
    if i % 2 == 0 { magnitude } else { -magnitude }
}

/// A C program with `GLOBALS` globals separated by initialised padding of
/// varying size, so they spread over many pages of `.data`.
fn write_target(dir: &Path) -> PathBuf {
    let mut src = String::from("#include <stdio.h>\n#include <unistd.h>\n");
    for i in 0..GLOBALS {
        let (ty, _) = TYPES[i % TYPES.len()];
        let value = if ty.starts_with("unsigned") {
            value_of(i).unsigned_abs() as i64
        } else {
            value_of(i)
        };
        src.push_str(&format!("{ty} g{i} = {value};\n"));
        src.push_str(&format!(
            "char pad{i}[{}] = {{1}};\n",
            64 + (i * 977) % 3000
        ));
    }
    // Records for the typed field watches: `recs[i].hp` through the DWARF.
    src.push_str("struct rec { long id; int hp; short lvl; double x; };\n");
    src.push_str(&format!(
        "struct rec recs[{GLOBALS}] = {{{{1, 2, 3, 4.0}}}};\n"
    ));
    src.push_str("long touch(void) { long s = recs[0].hp;\n");
    for i in 0..GLOBALS {
        src.push_str(&format!("s += (long)g{i} + pad{i}[0];\n"));
    }
    src.push_str("return s; }\n");
    src.push_str(
        "int main(void) { setvbuf(stdout, NULL, _IOLBF, 0); printf(\"sum=%ld\\nready\\n\", touch()); \
         char line[64]; while (fgets(line, sizeof line, stdin)) {} return 0; }\n",
    );
    common::compile_c(dir, "scattered", &src, &["-O0", "-g"])
}

fn expressions() -> Vec<String> {
    (0..GLOBALS)
        .map(|i| format!("g{i}{}", TYPES[i % TYPES.len()].1))
        .collect()
}

/// (per tick of `WatchSet::poll`, per bare `MemoryWorker::read` of the same ranges).
fn poll_loop(pid: i32, exprs: &[String]) -> (Duration, Duration) {
    let target = Arc::new(Target::attach(pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let symbols = SymbolTable::new(&target, &maps);
    let mut worker = MemoryWorker::new(Arc::clone(&target), Duration::from_millis(100));
    let mut set = WatchSet::new();
    for e in exprs {
        set.add(parse_watch(e).expect("expression parses"));
    }
    // The first poll resolves the symbols; the loop measures steady ticks.
    let first = set
        .poll(&mut worker, &maps, &symbols, ReadMode::NoWait)
        .expect("first poll");
    let bad: Vec<_> = first.iter().filter(|r| r.status != Status::Ok).collect();
    assert!(
        bad.is_empty(),
        "watches not ok: {:?}",
        &bad[..bad.len().min(3)]
    );
    let start = Instant::now();
    for _ in 0..TICKS {
        let readings = set
            .poll(&mut worker, &maps, &symbols, ReadMode::NoWait)
            .expect("poll");
        assert_eq!(readings.len(), exprs.len());
    }
    let per_tick = start.elapsed() / TICKS;
    // The engine's share: the one read call a tick makes, alone.
    let ranges: Vec<(u64, usize)> = first
        .iter()
        .filter_map(|r| Some((r.address?, r.ty.size())))
        .collect();
    let start = Instant::now();
    let mut batch = ReadBatch::default();
    for _ in 0..TICKS {
        worker
            .read_batch(&maps, &ranges, ReadMode::NoWait, &mut batch)
            .expect("read");
        assert_eq!(batch.len(), ranges.len());
    }
    (per_tick, start.elapsed() / TICKS)
}

/// Per tick of 1,000 typed field watches (`recs[i].hp`, `.lvl`, `.x`):
/// resolved once through the debug info, then polled like plain ones.
fn typed_poll_loop(pid: i32) -> Duration {
    let target = Arc::new(Target::attach(pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let symbols = SymbolTable::new(&target, &maps);
    let debug = DebugInfo::with_opener(target.proc_opener(), &maps, Vec::new());
    let mut worker = MemoryWorker::new(Arc::clone(&target), Duration::from_millis(100));
    let mut set = WatchSet::new();
    for i in 0..GLOBALS {
        let field = ["hp", "lvl", "x"][i % 3];
        set.add(parse_watch(&format!("recs[{i}].{field}")).expect("expression parses"));
    }
    let first = set
        .poll_typed(&mut worker, &maps, &symbols, Some(&debug), ReadMode::NoWait)
        .expect("first poll");
    assert!(
        first
            .iter()
            .all(|r| r.status == Status::Ok && r.ty.to_string() != "u64"),
        "typed watches not ok: {:?}",
        first.iter().find(|r| r.status != Status::Ok)
    );
    let start = Instant::now();
    for _ in 0..TICKS {
        let readings = set
            .poll_typed(&mut worker, &maps, &symbols, Some(&debug), ReadMode::NoWait)
            .expect("poll");
        assert_eq!(readings.len(), GLOBALS);
    }
    start.elapsed() / TICKS
}

fn pvtui_read(pid: i32, exprs: &[String]) -> (Duration, Vec<String>) {
    let mut best = Duration::MAX;
    let mut values = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_pvtui"))
            .args(["read", "--json", "--pid", &pid.to_string()])
            .args(exprs)
            .output()
            .expect("run pvtui read");
        best = best.min(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        values = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let obj: serde_json::Value = serde_json::from_str(l).expect("json line");
                obj["value"].to_string()
            })
            .collect();
    }
    (best, values)
}

fn gdb_read(pid: i32) -> (Duration, Vec<String>) {
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch", "-p", &pid.to_string()]);
    for i in 0..GLOBALS {
        cmd.arg("-ex").arg(format!("print g{i}"));
    }
    let start = Instant::now();
    let out = cmd.stdin(Stdio::null()).output().expect("run gdb");
    let elapsed = start.elapsed();
    let values = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('$'))
        .filter_map(|l| l.split_once(" = ").map(|(_, v)| v.trim().to_string()))
        .collect();
    (elapsed, values)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pvtui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let bin = write_target(&dir);
    let mut child = common::spawn_ready(&bin);
    let pid = child.id() as i32;
    let exprs = expressions();

    let (per_tick, engine_read) = poll_loop(pid, &exprs);
    println!(
        "poll loop: {GLOBALS} watches, {TICKS} ticks: {:.3} ms per tick (goal <= 0.5 ms), \
         of which the engine's read of the {GLOBALS} ranges alone takes {:.3} ms",
        per_tick.as_secs_f64() * 1e3,
        engine_read.as_secs_f64() * 1e3
    );

    let typed = typed_poll_loop(pid);
    println!(
        "typed poll loop: {GLOBALS} field watches (recs[i].hp/.lvl/.x), {TICKS} ticks: \
         {:.3} ms per tick (goal <= 0.5 ms, as plain ones)",
        typed.as_secs_f64() * 1e3
    );

    let (pvtui_time, pvtui_values) = pvtui_read(pid, &exprs);
    let (gdb_time, gdb_values) = gdb_read(pid);
    let same = pvtui_values == gdb_values;
    println!(
        "pvtui read of {GLOBALS} expressions: {:.1} ms (best of 3)",
        pvtui_time.as_secs_f64() * 1e3
    );
    println!(
        "gdb -batch -p PID printing the same {GLOBALS}: {:.1} ms",
        gdb_time.as_secs_f64() * 1e3
    );
    println!(
        "ratio: pvtui is {:.1}x faster (goal >= 20x); values identical: {same} ({} from pvtui, {} from gdb)",
        gdb_time.as_secs_f64() / pvtui_time.as_secs_f64(),
        pvtui_values.len(),
        gdb_values.len()
    );
    if !same {
        let first = pvtui_values
            .iter()
            .zip(&gdb_values)
            .position(|(a, b)| a != b);
        println!("first difference at g{first:?}");
    }

    if let Some(stdin) = child.stdin.as_mut() {
        let _ = stdin.flush();
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(same, "pvtui and gdb disagree");
}

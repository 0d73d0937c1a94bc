//! Debug-info benchmark: a typed read of `_IO_2_1_stdout_.file._fileno` in
//! a fresh process, by `pvtui read` and by `gdb -batch -p`, in the same
//! run: the median wall time of each and their peak RSS.
//!
//! `cargo bench --bench debuginfo` (needs libc's debug info: libc6-dbg;
//! gdb for the comparison; `PVTUI_BENCH_RUNS` runs each, 7 by default).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

const EXPR: &str = "_IO_2_1_stdout_.file._fileno";

/// A fresh `sleep`, with libc mapped: its debug info is cold in pvtui.
fn cold_target() -> Child {
    let child = Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("spawn sleep");
    let maps = format!("/proc/{}/maps", child.id());
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if std::fs::read_to_string(&maps).is_ok_and(|m| m.contains("libc.so")) {
            break;
        }
        std::thread::yield_now();
    }
    child
}

/// Runs `cmd` against a cold target each time: the median wall time and
/// the last output.
fn measure(runs: usize, cmd: impl Fn(u32) -> Command) -> (Duration, String) {
    let mut times = Vec::with_capacity(runs);
    let mut last = String::new();
    for _ in 0..runs {
        let mut target = cold_target();
        let start = Instant::now();
        let out = cmd(target.id())
            .stderr(Stdio::null())
            .output()
            .expect("run the reader");
        times.push(start.elapsed());
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        let _ = target.kill();
        let _ = target.wait();
    }
    times.sort();
    (times[runs / 2], last)
}

/// Peak RSS of the children reaped so far, in MiB (the largest one's).
fn children_peak_mib() -> f64 {
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(0.0, |u| u.max_rss() as f64 / 1024.0)
}

fn main() {
    let runs: usize = std::env::var("PVTUI_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7)
        .max(1);
    let pvtui = env!("CARGO_BIN_EXE_pvtui");
    let (ours, out) = measure(runs, |pid| {
        let mut c = Command::new(pvtui);
        c.args(["read", "--pid", &pid.to_string(), EXPR]);
        c
    });
    if !out.contains(" = ") {
        println!("skipped: pvtui could not read {EXPR} (is libc6-dbg installed?): {out}");
        return;
    }
    // sleep's RSS is tiny, so the largest child so far is pvtui.
    let our_rss = children_peak_mib();
    println!("pvtui read {EXPR}: median {ours:?} over {runs} cold runs, peak RSS {our_rss:.1} MiB");
    println!("  {}", out.trim());
    if Command::new("gdb").arg("--version").output().is_err() {
        println!("gdb is not installed: no comparison");
        return;
    }
    let (theirs, gdb_out) = measure(runs, |pid| {
        let mut c = Command::new("gdb");
        c.args([
            "-batch",
            "-p",
            &pid.to_string(),
            "-ex",
            &format!("p {EXPR}"),
        ]);
        c
    });
    let gdb_rss = children_peak_mib();
    println!("gdb -batch -p P -ex 'p {EXPR}': median {theirs:?}, peak RSS {gdb_rss:.1} MiB");
    let value = gdb_out.lines().find(|l| l.starts_with("$1 ="));
    println!("  {}", value.unwrap_or("(gdb printed no value)").trim());
    println!(
        "pvtui is {:.1}x faster",
        theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    );
}

//! Shared-memory map benchmark: `pvtui shared --all` against `cat
//! /proc/*/maps` of the same processes, in the same run. Where the machine
//! runs fewer than `PVTUI_BENCH_PROCS` processes (300 by default), a fixture
//! forks sleeping children that share a memfd and an anonymous region, so the
//! walk has a few hundred processes and shared objects to group.
//!
//! `cargo bench --bench shared`

mod common;
#[path = "../tests/integration/util.rs"]
mod util;

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::Duration;

use pvtui::shared::{self, Options, Selection};

const RUNS: usize = 15;

/// Median of `RUNS` timings of `f`, after one warm-up run.
fn median<F: FnMut()>(f: F) -> Duration {
    common::sorted_timings(RUNS, f)[RUNS / 2]
}

fn processes() -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|s| s.parse::<u32>().is_ok())
                })
                .count()
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let want: usize = std::env::var("PVTUI_BENCH_PROCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let have = processes();
    let mut swarm = (have < want).then(|| {
        let n = (want - have).to_string();
        util::Fixture::spawn(&util::fixture("swarm", "", &[]), &[&n])
    });
    let procs = processes();
    let bin = util::pvtui_bin();
    println!("{procs} processes (/proc entries, kernel threads included)");

    // The raw read: every maps file, by one process started for it.
    let cat = median(|| {
        let status = Command::new("sh")
            .args(["-c", "cat /proc/[0-9]*/maps"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run sh -c cat");
        black_box(status);
    });
    let cli = median(|| {
        let status = Command::new(bin)
            .args(["shared", "--all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run pvtui shared --all");
        assert!(status.success(), "pvtui shared --all failed");
    });
    let cli_json = median(|| {
        let status = Command::new(bin)
            .args(["shared", "--all", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run pvtui shared --all --json");
        assert!(status.success());
    });

    // In process, without start-up costs on either side.
    let raw = median(|| {
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|s| s.parse::<u32>().is_ok())
            {
                black_box(std::fs::read_to_string(entry.path().join("maps")).ok());
            }
        }
    });
    let mut objects = 0;
    let lib = median(|| {
        let report = shared::collect(&Selection::All, &Options::default()).expect("collect");
        objects = report.objects.len();
        black_box(report);
    });

    println!("\nmedian of {RUNS} runs");
    println!("  cat /proc/[0-9]*/maps          {:>8.2} ms", ms(cat));
    println!(
        "  pvtui shared --all             {:>8.2} ms   {:.2}x the raw read",
        ms(cli),
        cli.as_secs_f64() / cat.as_secs_f64()
    );
    println!(
        "  pvtui shared --all --json      {:>8.2} ms   {:.2}x",
        ms(cli_json),
        cli_json.as_secs_f64() / cat.as_secs_f64()
    );
    println!("\nin process ({objects} shared objects found)");
    println!("  read every /proc/PID/maps      {:>8.2} ms", ms(raw));
    println!(
        "  shared::collect(All)           {:>8.2} ms   {:.2}x",
        ms(lib),
        lib.as_secs_f64() / raw.as_secs_f64()
    );
    if let Some(fx) = swarm.as_mut() {
        fx.send("quit");
        // It reaps its children before it exits.
        let _ = fx.child.wait();
    }
}

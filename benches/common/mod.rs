//! Helpers the benchmarks share: timing, fixture builds, peak memory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `runs` timings of `f`, sorted, after one warm-up run.
pub fn sorted_timings<F: FnMut()>(runs: usize, mut f: F) -> Vec<Duration> {
    f();
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples
}

/// The C fixture `tests/fixtures/NAME.c` built with `-O2` as `bench-NAME`.
pub fn build_fixture(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.c"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-{name}"));
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| {
            panic!("run cc to build the {name} fixture (apt-get install gcc): {e}")
        });
    assert!(status.success(), "building {} failed", src.display());
    out
}

/// Peak resident memory in KiB from the text of `/proc/PID/status` (0 when absent).
pub fn vm_hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

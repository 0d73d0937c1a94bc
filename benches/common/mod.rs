//! Helpers the benchmarks share: timing, fixture builds, peak memory.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// `src` written to `dir/NAME.c` and built with `cc FLAGS` as `dir/NAME`:
/// the targets the benchmarks generate.
pub fn compile_c(dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).expect("write the target source");
    let bin = dir.join(name);
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(flags)
        .arg("-o")
        .arg(&bin)
        .arg(&c)
        .status()
        .expect("run cc (apt-get install gcc)");
    assert!(status.success(), "cc failed on {}", c.display());
    bin
}

/// `bin` started with piped stdin and stdout, once it printed `ready`.
pub fn spawn_ready(bin: &Path) -> Child {
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the target");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line == "ready" => break,
            Some(Ok(_)) => {}
            _ => panic!("the target ended before it was ready"),
        }
    }
    child
}

//! Pointer scan benchmark: `pvtui pointers --depth 3 --max-offset 4096`
//!
//! - on the `pointer_heap` fixture: 100 MiB (`PVTUI_BENCH_HEAP=MIB` to
//!   change it) of 64-byte nodes with three pointers each, and a score
//!   reached from a global through two heap pointers;
//! - on a CPython interpreter (when `python3` is installed): the value of an
//!   int held in a dict held in a list held by a module global.
//!
//! Prints wall time, pvtui's own split (memory pass, chain search), the
//! pointers found, chains and peak memory (VmHWM of the pvtui child).
//!
//! Run: `cargo bench --bench pointers` (as root, to read another process).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let mib = std::env::var("PVTUI_BENCH_HEAP").unwrap_or_else(|_| "100".into());
    let fixture = common::build_fixture("pointer_heap");
    let (mut heap, vars) = start(Command::new(&fixture).arg(&mib));
    let score = vars
        .iter()
        .find_map(|l| l.strip_prefix("score="))
        .expect("the fixture prints score=")
        .to_string();
    run(
        &format!("pointer_heap {mib} MiB"),
        heap.id(),
        &format!("{score}:u32"),
    );
    let _ = heap.kill();
    let _ = heap.wait();

    let script = "import sys\n\
        class Game: pass\n\
        g = Game(); g.state = [{'score': 123456789}]\n\
        print('addr=' + hex(id(g.state[0]['score']) + 24)); print('ready'); sys.stdout.flush()\n\
        sys.stdin.read()\n";
    match Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => {
            let (mut py, vars) = wait_ready(child);
            let addr = vars
                .iter()
                .find_map(|l| l.strip_prefix("addr="))
                .expect("python prints addr=")
                .to_string();
            run("python3 (an int's digits)", py.id(), &format!("{addr}:u32"));
            let _ = py.kill();
            let _ = py.wait();
        }
        Err(e) => println!("python3: skipped ({e})"),
    }
}

fn run(what: &str, pid: u32, target: &str) {
    let pid = pid.to_string();
    let args = [
        "pointers",
        "--depth",
        "3",
        "--max-offset",
        "4096",
        "--limit",
        "1000",
        "--pid",
        &pid,
        target,
    ];
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvtui"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pvtui");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let out = std::thread::scope(|s| {
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let o = s.spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
        let e = s.spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        while child.try_wait().ok().flatten().is_none() {
            if let Ok(status) = std::fs::read_to_string(&status_path) {
                peak = peak.max(common::vm_hwm(&status));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        (o.join().unwrap_or_default(), e.join().unwrap_or_default())
    });
    let secs = started.elapsed().as_secs_f64();
    let summary = out.0.lines().last().unwrap_or("").to_string();
    println!(
        "{what}: {secs:.2} s wall, peak {} MiB; {}; {summary}",
        peak / 1024,
        out.1.lines().next().unwrap_or("").trim()
    );
}

fn start(cmd: &mut Command) -> (Child, Vec<String>) {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the fixture");
    wait_ready(child)
}

fn wait_ready(mut child: Child) -> (Child, Vec<String>) {
    let stdout = child.stdout.take().expect("stdout");
    let mut vars = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("fixture output");
        if line == "ready" {
            break;
        }
        vars.push(line);
    }
    (child, vars)
}

//! Search and value-scan benchmark against ripgrep, YARA and scanmem, all on
//! one target in one run.
//!
//! The target is the `haystack` test fixture: a heap of pseudo-random bytes
//! (1 GiB unless `PVTUI_BENCH_SIZE` says otherwise, e.g. `256M`) with 300
//! markers `PVTUI-MARK-NNNNNN` and 40 places holding a u32.
//!
//! - `pvtui search` for the marker regex over the whole process,
//! - ripgrep over a dump of the same bytes (the page cache warmed first),
//! - YARA scanning the pid (`yara rule.yar PID`),
//! - scanmem's string search for the marker prefix,
//! - `pvtui scan --type u32` against scanmem's int32 scan,
//! - an unknown-value scan and its first narrowing (`pvtui scan unknown`
//!   then `--from F increased`) against scanmem's `snapshot` then `>`, on
//!   the random heap (incompressible: the worst case for a snapshot) and on
//!   a second target filled with game-like records (`--fill records`).
//!
//! Each tool runs as a child process; its peak memory is the VmHWM of
//! `/proc/CHILD/status`, sampled until it exits. Peers that are not
//! installed are skipped with a message (`benches/setup.sh` installs them).
//!
//! Run: `cargo bench --bench search` (root, for YARA and scanmem to read
//! another process).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pvtui::process::{ReadMode, Target};

const MARK_REGEX: &str = "PVTUI-MARK-[0-9]{6}";
const MARKS: &str = "300";
/// Fits in an int32, so scanmem's int32 scan looks for the same bytes.
const VALUE: u32 = 0x1234_5678;

struct Run {
    tool: &'static str,
    secs: f64,
    peak_kib: u64,
    count: Option<u64>,
}

fn main() {
    let size = std::env::var("PVTUI_BENCH_SIZE").unwrap_or_else(|_| "1G".into());
    let fixture = common::build_fixture("haystack");
    let mut target = Command::new(&fixture)
        .args([
            "--size", &size, "--marks", MARKS, "--values", "40", "--quiet",
        ])
        .arg("--value")
        .arg(VALUE.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the haystack fixture");
    let pid = target.id() as i32;
    let mut planted_marks = 0u64;
    let mut lines = BufReader::new(target.stdout.take().expect("fixture stdout")).lines();
    for line in lines.by_ref() {
        let line = line.expect("fixture output");
        if line == "ready" {
            break;
        }
        if let Some(n) = line.strip_prefix("marks=") {
            planted_marks = n.parse().expect("marks count");
        }
    }
    println!("target: pid {pid}, heap {size}, {planted_marks} markers, u32 {VALUE} at 40 places");
    let pid_s = pid.to_string();
    let pvtui = env!("CARGO_BIN_EXE_pvtui");
    let mut search_runs = Vec::new();
    let mut scan_runs = Vec::new();

    let (run, out, err) =
        measure(Command::new(pvtui).args(["search", "--pid", &pid_s, MARK_REGEX]));
    search_runs.push(Run {
        tool: "pvtui search",
        count: Some(out.lines().count() as u64),
        ..run
    });
    eprint!("{err}");

    match dump_process(pid) {
        Ok(dump) if have("rg") => {
            let rg = || {
                let mut c = Command::new("rg");
                c.args(["--count-matches", "-a", "--no-filename", MARK_REGEX])
                    .arg(&dump);
                c
            };
            let _ = measure(&mut rg());
            let (run, out, _) = measure(&mut rg());
            search_runs.push(Run {
                tool: "ripgrep (dump in page cache)",
                count: out.trim().parse().ok(),
                ..run
            });
            let _ = std::fs::remove_file(&dump);
        }
        Ok(dump) => {
            println!("skipped ripgrep: not installed (apt-get install ripgrep)");
            let _ = std::fs::remove_file(&dump);
        }
        Err(why) => println!("skipped ripgrep: cannot dump the target: {why}"),
    }

    if have("yara") {
        let rule = std::env::temp_dir().join("pvtui-bench.yar");
        std::fs::write(
            &rule,
            format!("rule marker {{ strings: $m = /{MARK_REGEX}/ condition: $m }}\n"),
        )
        .expect("write the YARA rule");
        let (run, out, _) = measure(Command::new("yara").arg("-s").arg(&rule).arg(&pid_s));
        search_runs.push(Run {
            tool: "yara rule.yar PID",
            count: Some(out.lines().filter(|l| l.starts_with("0x")).count() as u64),
            ..run
        });
        let _ = std::fs::remove_file(&rule);
    } else {
        println!("skipped YARA: not installed (apt-get install yara)");
    }

    if have("scanmem") {
        let (run, out, err) = measure(Command::new("scanmem").args([
            "-p",
            &pid_s,
            "-c",
            "option scan_data_type string;\" PVTUI-MARK-;exit",
        ]));
        search_runs.push(Run {
            tool: "scanmem string",
            count: scanmem_count(&format!("{out}{err}")),
            ..run
        });
    } else {
        println!("skipped scanmem: not installed (apt-get install scanmem)");
    }

    let (run, _, err) = measure(Command::new(pvtui).args([
        "scan",
        "--pid",
        &pid_s,
        "--type",
        "u32",
        &VALUE.to_string(),
        "--max",
        "0",
    ]));
    scan_runs.push(Run {
        tool: "pvtui scan --type u32",
        count: err.split_whitespace().next().and_then(|n| n.parse().ok()),
        ..run
    });
    if have("scanmem") {
        let (run, out, err) = measure(Command::new("scanmem").args([
            "-p",
            &pid_s,
            "-c",
            &format!("option scan_data_type int32;{VALUE};exit"),
        ]));
        scan_runs.push(Run {
            tool: "scanmem int32",
            count: scanmem_count(&format!("{out}{err}")),
            ..run
        });
    }

    let random_runs = unknown_runs(pvtui, &pid_s);
    if let Some(mut stdin) = target.stdin.take() {
        let _ = writeln!(stdin, "exit");
    }
    let _ = target.kill();
    let _ = target.wait();

    let mut records = Command::new(&fixture)
        .args([
            "--size", &size, "--marks", "0", "--values", "0", "--quiet", "--fill", "records",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the haystack fixture");
    let records_pid = records.id().to_string();
    let lines = BufReader::new(records.stdout.take().expect("fixture stdout")).lines();
    for line in lines {
        if line.expect("fixture output") == "ready" {
            break;
        }
    }
    let record_runs = unknown_runs(pvtui, &records_pid);
    let _ = records.kill();
    let _ = records.wait();

    table("search PVTUI-MARK-[0-9]{6}", &search_runs);
    table("value scan u32", &scan_runs);
    table("unknown u32, then increased (random heap)", &random_runs);
    table(
        "unknown u32, then increased (game-like records)",
        &record_runs,
    );
}

/// An unknown-value scan and its first narrowing, by pvtui and by scanmem.
fn unknown_runs(pvtui: &str, pid: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let snap = temp_file("snapshot");
    let path = snap.to_str().expect("utf-8 temp path");
    let (first, _, err) = measure(Command::new(pvtui).args([
        "scan", "--pid", pid, "--type", "u32", "unknown", "--save", path,
    ]));
    eprint!("{err}");
    let bytes = std::fs::metadata(&snap).map_or(0, |m| m.len());
    let (then, _, err) =
        measure(Command::new(pvtui).args(["scan", "--from", path, "increased", "--max", "0"]));
    eprint!("{err}");
    println!(
        "pvtui unknown: snapshot {:.3} s, file {:.1} MiB; increased {:.3} s",
        first.secs,
        bytes as f64 / (1 << 20) as f64,
        then.secs
    );
    runs.push(Run {
        tool: "pvtui unknown + increased",
        secs: first.secs + then.secs,
        peak_kib: first.peak_kib.max(then.peak_kib),
        count: err.split_whitespace().next().and_then(|n| n.parse().ok()),
    });
    for n in 1..=pvtui::search::UNDO_STEPS {
        let _ = std::fs::remove_file(pvtui::search::undo_path(&snap, n));
    }
    let _ = std::fs::remove_file(&snap);
    if have("scanmem") {
        let (run, out, err) = measure(Command::new("scanmem").args([
            "-p",
            pid,
            "-c",
            "option scan_data_type int32;snapshot;>;exit",
        ]));
        runs.push(Run {
            tool: "scanmem snapshot + >",
            count: scanmem_count(&format!("{out}{err}")),
            ..run
        });
    }
    runs
}

fn table(title: &str, runs: &[Run]) {
    let Some(base) = runs.first() else { return };
    println!("\n{title}");
    println!(
        "{:<30} {:>9} {:>12} {:>10} {:>12}",
        "tool", "seconds", "vs pvtui", "count", "peak MiB"
    );
    for r in runs {
        println!(
            "{:<30} {:>9.3} {:>11.1}x {:>10} {:>12.1}",
            r.tool,
            r.secs,
            r.secs / base.secs,
            r.count.map_or("?".into(), |c| c.to_string()),
            r.peak_kib as f64 / 1024.0
        );
    }
}

/// Runs `cmd` to the end: wall time, peak resident memory, stdout, stderr.
fn measure(cmd: &mut Command) -> (Run, String, String) {
    let out_path = temp_file("out");
    let err_path = temp_file("err");
    let started = Instant::now();
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start a benchmarked tool");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            peak = peak.max(common::vm_hwm(&status));
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let secs = started.elapsed().as_secs_f64();
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(out_path);
    let _ = std::fs::remove_file(err_path);
    (
        Run {
            tool: "",
            secs,
            peak_kib: peak,
            count: None,
        },
        out,
        err,
    )
}

fn scanmem_count(out: &str) -> Option<u64> {
    out.lines()
        .rev()
        .filter_map(|l| l.split("we currently have ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|n| n.parse().ok())
        .next()
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn temp_file(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pvtui-bench-{}-{what}", std::process::id()))
}

/// Every readable region of `pid`, concatenated into a file (unread bytes zero).
fn dump_process(pid: i32) -> pvtui::Result<PathBuf> {
    let target = Target::attach(pid)?;
    let maps = target.maps()?;
    let path = temp_file("dump");
    let file = std::fs::File::create(&path).map_err(|e| pvtui::Error::Usage(e.to_string()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 20];
    for region in maps.readable() {
        let mut at = region.start;
        while at < region.end {
            let len = ((region.end - at) as usize).min(buf.len());
            target.read_into(&maps, at, &mut buf[..len], ReadMode::NoWait)?;
            out.write_all(&buf[..len])
                .map_err(|e| pvtui::Error::Usage(e.to_string()))?;
            at += len as u64;
        }
    }
    out.flush()
        .map_err(|e| pvtui::Error::Usage(e.to_string()))?;
    Ok(path)
}

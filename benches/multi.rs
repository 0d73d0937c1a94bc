//! The poll cost per tick of several targets at once: 2, 8 and 32 copies of
//! a small C program, 100 watches each, polled by one `PollGroup` (one
//! thread per target, one batched never-block read each per tick). For
//! scale, the same watches polled one target after another on this thread.
//!
//! Run with `cargo bench --bench multi`. Needs `cc`.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use pvtui::expr::{Status, Watch, WatchSet, parse_watch};
use pvtui::poller::group::{PollGroup, TickOutcome};
use pvtui::process::ReadMode;
use pvtui::session::Session;

mod common;

const WATCHES: usize = 100;
const TICKS: u32 = 500;
const COUNTS: [usize; 3] = [2, 8, 32];

fn write_target(dir: &Path) -> PathBuf {
    let mut src = String::from("#include <stdio.h>\n");
    for i in 0..WATCHES {
        src.push_str(&format!(
            "unsigned int g{i} = {i};\nchar pad{i}[{}] = {{1}};\n",
            200 + i * 37
        ));
    }
    src.push_str("int main(void) { setvbuf(stdout, NULL, _IOLBF, 0); unsigned long s = 0;\n");
    for i in 0..WATCHES {
        src.push_str(&format!("s += g{i} + pad{i}[0];\n"));
    }
    src.push_str(
        "printf(\"sum=%lu\\nready\\n\", s); char line[64]; while (fgets(line, sizeof line, stdin)) {} return 0; }\n",
    );
    common::compile_c(dir, "multi", &src, &["-O0"])
}

fn sessions(children: &[Child]) -> Vec<Session> {
    children
        .iter()
        .map(|c| Session::attach(c.id() as i32, Duration::from_millis(100)).expect("attach"))
        .collect()
}

/// Mean wall time of one group tick over `TICKS`, after a first tick that resolves.
fn group_tick(children: &[Child], watches: &[Watch]) -> Duration {
    let mut group = PollGroup::start(sessions(children), watches).expect("start the group");
    let first = group.tick(Instant::now() + Duration::from_secs(5));
    for target in &first.targets {
        match &target.outcome {
            TickOutcome::Read { readings, .. } => {
                assert!(
                    readings.iter().all(|r| r.status == Status::Ok),
                    "a watch of {} did not read",
                    target.pid
                );
            }
            other => panic!("{} gave {other:?}", target.pid),
        }
    }
    let start = Instant::now();
    for _ in 0..TICKS {
        let tick = group.tick(Instant::now() + Duration::from_secs(1));
        assert!(
            tick.targets
                .iter()
                .all(|t| matches!(t.outcome, TickOutcome::Read { .. })),
            "a target was late or failed"
        );
    }
    start.elapsed() / TICKS
}

/// The same reads, one target after another on this thread.
fn serial_tick(children: &[Child], watches: &[Watch]) -> Duration {
    let mut polled: Vec<(Session, WatchSet)> = sessions(children)
        .into_iter()
        .map(|s| {
            let mut set = WatchSet::new();
            for w in watches {
                set.add(w.clone());
            }
            (s, set)
        })
        .collect();
    for (session, set) in &mut polled {
        session.poll(set, ReadMode::NoWait).expect("first poll");
    }
    let start = Instant::now();
    for _ in 0..TICKS {
        for (session, set) in &mut polled {
            session.refresh().expect("maps");
            session.poll(set, ReadMode::NoWait).expect("poll");
        }
    }
    start.elapsed() / TICKS
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = write_target(dir.path());
    let watches: Vec<Watch> = (0..WATCHES)
        .map(|i| parse_watch(&format!("g{i}")).expect("parses"))
        .collect();
    let most = COUNTS.iter().copied().max().unwrap_or(0);
    let mut children: Vec<Child> = (0..most).map(|_| common::spawn_ready(&bin)).collect();
    println!("targets  watches/target  group tick   per target  serial tick (one thread)");
    for n in COUNTS {
        let group = group_tick(&children[..n], &watches);
        let serial = serial_tick(&children[..n], &watches);
        println!(
            "{n:>7}  {WATCHES:>14}  {:>7.3} ms  {:>7.1} µs  {:>7.3} ms",
            group.as_secs_f64() * 1e3,
            group.as_secs_f64() * 1e6 / n as f64,
            serial.as_secs_f64() * 1e3,
        );
    }
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

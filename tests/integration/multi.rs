//! Several targets at once, over the shared fixture's parent and forked
//! child: per-process values of one expression, why they differ, a write
//! read back in the other process, and one target exiting mid-watch.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value as Json;

use pvtui::expr::parse_watch;
use pvtui::poller::group::{PollGroup, TickOutcome};
use pvtui::session::Session;

use crate::shared::{Pair, spawn_pair};
use crate::util::{PATIENCE, pvtui_bin};

impl Pair {
    /// `-p PARENT -p CHILD` then `rest`.
    fn run(&self, command: &str, rest: &[&str]) -> Output {
        let (p, c) = (self.parent.to_string(), self.child.to_string());
        Command::new(pvtui_bin())
            .arg(command)
            .args(["-p", &p, "-p", &c])
            .args(rest)
            .output()
            .expect("run pvtui")
    }

    /// The shm object's name, as a watch expression names it.
    fn shm(&self) -> String {
        format!("pvtui-shared-{}", self.parent)
    }
}

fn json_lines(out: &Output) -> Vec<Json> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The record of `pid` among `records`.
fn of(records: &[Json], pid: i32) -> &Json {
    records
        .iter()
        .find(|r| r["pid"] == pid)
        .unwrap_or_else(|| panic!("no record for {pid} in {records:?}"))
}

#[test]
fn read_with_two_pids_gives_one_value_per_process_and_says_why_they_differ() {
    let pair = spawn_pair();
    let expr = format!("[{}]+{}:u8", pair.shm(), pair.page);
    let out = pair.run(
        "read",
        &["--json", &expr, "[memfd:pvtui-ring]:u8", "[zero]:u8"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let records = json_lines(&out);
    assert_eq!(records.len(), 6, "{records:?}");

    // The parent maps the object from offset 0: page 1 holds 'B'. The child
    // maps it at another address, from another offset, so the same
    // expression lands elsewhere in the object (or in its private copy).
    let shm: Vec<Json> = records
        .iter()
        .filter(|r| r["expr"] == expr.as_str())
        .cloned()
        .collect();
    let parent = of(&shm, pair.parent);
    assert_eq!(parent["value"], u64::from(b'B'), "{parent}");
    assert_eq!(parent["shared"], true);
    assert_eq!(parent["object_offset"], format!("{:#x}", pair.page));
    assert_eq!(
        parent["address"],
        format!("{:#x}", pair.fx.addr("parent_shm") + pair.page)
    );
    let child = of(&shm, pair.child);
    assert_ne!(child["value"], parent["value"], "{child}");
    for r in [parent, child] {
        assert_eq!(r["differs"], true, "{r}");
        let why = r["why"].as_str().expect("a reason");
        assert!(
            why.contains("different offsets") || why.contains("private copy"),
            "{why}"
        );
    }

    // The memfd and the shared anonymous page are inherited: the same
    // address, the same bytes in both.
    for name in ["[memfd:pvtui-ring]:u8", "[zero]:u8"] {
        let same: Vec<Json> = records
            .iter()
            .filter(|r| r["expr"] == name)
            .cloned()
            .collect();
        let (p, c) = (of(&same, pair.parent), of(&same, pair.child));
        assert_eq!(p["value"], c["value"], "{name}");
        assert_eq!(p["address"], c["address"], "{name}");
        assert_eq!(p["differs"], false, "{name}");
    }
    let memfd = of(&records, pair.parent);
    assert_eq!(memfd["pid"], pair.parent);

    // Text output labels each line with its pid and names the difference.
    let text = pair.run("read", &[&expr]);
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(
        shown.contains(&format!("{}: {expr} = 66", pair.parent)),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("{}: {expr} = ", pair.child)),
        "{shown}"
    );
    assert!(shown.contains("the values differ"), "{shown}");
}

#[test]
fn a_write_through_one_process_is_read_back_in_the_other() {
    let pair = spawn_pair();
    let out = pair.run("write", &["--json", "[memfd:pvtui-ring]+1:u8", "42"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record = &json_lines(&out)[0];
    assert_eq!(record["pid"], pair.parent);
    assert_eq!(record["landed"], true);
    let back = &record["read_back"][0];
    assert_eq!(back["pid"], pair.child, "{record}");
    assert_eq!(back["value"], 42);
    assert_eq!(back["reached"], true);
    assert_eq!(back["address"], format!("{:#x}", pair.fx.addr("memfd") + 1));

    // The child really holds it, read on its own.
    let alone = Command::new(pvtui_bin())
        .args(["read", "--json", "-p", &pair.child.to_string()])
        .arg("[memfd:pvtui-ring]+1:u8")
        .output()
        .expect("run pvtui");
    assert_eq!(json_lines(&alone)[0]["value"], 42);
    assert_eq!(json_lines(&alone)[0]["pid"], pair.child);

    // The same expression lands on another offset of the shm object in the
    // child: a write through the parent does not reach it, and says so.
    let expr = format!("[{}]+{}:u8", pair.shm(), pair.page);
    let out = pair.run("write", &[&expr, "90"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("through {}: 66 → 90", pair.parent)),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} reads ", pair.child)) && text.contains("not reached"),
        "{text}"
    );
}

#[test]
fn watch_goes_on_when_one_of_two_targets_exits() {
    let pair = spawn_pair();
    let (p, c) = (pair.parent.to_string(), pair.child.to_string());
    // Pages each process has touched: a never-block read of an inherited
    // shared page the child never touched is (rightly) not resident there.
    let expr = format!("[{}]:u8", pair.shm());
    let mut watch = Command::new(pvtui_bin())
        .args(["watch", "--json", "--interval", "20", "--count", "400"])
        .args(["-p", &p, "-p", &c, &expr])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pvtui watch");
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || -> Json {
        let line = lines.recv_timeout(PATIENCE).expect("a line from watch");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    // Both are read before the child is killed.
    let mut seen_child = false;
    while !seen_child {
        let r = next();
        assert!(r["values"][0]["value"].is_u64(), "{r}");
        seen_child = r["pid"] == pair.child;
    }
    kill(Pid::from_raw(pair.child), Signal::SIGKILL).expect("kill the child");
    let until = Instant::now() + PATIENCE;
    let mut exited = false;
    let mut parent_after = 0;
    while Instant::now() < until && parent_after < 3 {
        let r = next();
        if r["event"] == "exited" {
            assert_eq!(r["pid"], pair.child, "{r}");
            exited = true;
        } else if exited {
            assert_eq!(r["pid"], pair.parent, "only the parent is read now: {r}");
            assert_eq!(r["values"][0]["value"], u64::from(b'A'), "{r}");
            parent_after += 1;
        }
    }
    assert!(exited, "the child's exit was never reported");
    assert_eq!(
        parent_after, 3,
        "the parent was not read after the child left"
    );
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn a_poll_group_reports_an_exit_once_and_keeps_reading_the_others() {
    let pair = spawn_pair();
    let deadline = Duration::from_millis(500);
    let sessions = vec![
        Session::attach(pair.parent, deadline).expect("attach the parent"),
        Session::attach(pair.child, deadline).expect("attach the child"),
    ];
    let expr = format!("[{}]:u8", pair.shm());
    let watches = vec![parse_watch(&expr).expect("parses")];
    let mut group = PollGroup::start(sessions, &watches).expect("start");
    assert_eq!(group.pids(), vec![pair.parent, pair.child]);
    let tick = group.tick(Instant::now() + PATIENCE);
    for t in &tick.targets {
        match &t.outcome {
            TickOutcome::Read {
                readings,
                placements,
                ..
            } => {
                assert!(readings[0].value.is_some(), "{:?}", readings[0]);
                let placed = placements[0].as_ref().expect("a placement");
                assert!(placed.object.contains(&pair.shm()), "{placed:?}");
                if t.pid == pair.parent {
                    assert_eq!(
                        readings[0].value,
                        Some(pvtui::expr::Value::Unsigned(u64::from(b'A')))
                    );
                    assert!(placed.shared && placed.offset == 0, "{placed:?}");
                }
            }
            other => panic!("{}: {other:?}", t.pid),
        }
    }
    kill(Pid::from_raw(pair.child), Signal::SIGKILL).expect("kill the child");
    let until = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < until, "the child's exit was never seen");
        let tick = group.tick(Instant::now() + PATIENCE);
        assert!(
            matches!(tick.targets[0].outcome, TickOutcome::Read { .. }),
            "{:?}",
            tick.targets[0]
        );
        if matches!(tick.targets[1].outcome, TickOutcome::Exited) {
            break;
        }
    }
    let after = group.tick(Instant::now() + PATIENCE);
    assert!(matches!(after.targets[0].outcome, TickOutcome::Read { .. }));
    assert!(matches!(after.targets[1].outcome, TickOutcome::Exited));
    assert!(!after.all_exited());
}

#[test]
fn a_name_of_several_processes_is_listed_or_taken_whole() {
    let pair = spawn_pair();
    // The child renamed itself; its argv[0] still names the fixture.
    let listed = Command::new(pvtui_bin())
        .args(["read", "-n", "shared", "[zero]:u8"])
        .output()
        .expect("run pvtui");
    assert_eq!(listed.status.code(), Some(2), "{}", stderr(&listed));
    let why = stderr(&listed);
    assert!(why.contains("--all-matching"), "{why}");
    for pid in [pair.parent, pair.child] {
        assert!(why.contains(&pid.to_string()), "{why}");
    }
    let all = Command::new(pvtui_bin())
        .args(["read", "--json", "-n", "shared", "--all-matching"])
        .arg("[zero]:u8")
        .output()
        .expect("run pvtui");
    let records = json_lines(&all);
    for pid in [pair.parent, pair.child] {
        assert_eq!(of(&records, pid)["value"], u64::from(b'a'));
    }
}

#[test]
fn commands_that_work_on_one_process_refuse_two_by_name() {
    let pair = spawn_pair();
    for (command, rest) in [
        ("freeze", &["[zero]:u8", "1"][..]),
        ("pointers", &["[zero]"][..]),
        ("writers", &["[zero]:u8"][..]),
        ("scan", &["--type", "u8", "97"][..]),
    ] {
        let out = pair.run(command, rest);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("one process at a time"),
            "{command}: {}",
            stderr(&out)
        );
    }
    // maps and dump take both, each under its pid.
    let maps = pair.run("maps", &["--json"]);
    let arrays = json_lines(&maps);
    assert_eq!(arrays.len(), 2);
    assert_eq!(arrays[0][0]["pid"], pair.parent);
    assert_eq!(arrays[1][0]["pid"], pair.child);
    let dump = pair.run("dump", &["--json", "[zero]", "4"]);
    let dumps = json_lines(&dump);
    assert_eq!(dumps.len(), 2);
    for (d, pid) in dumps.iter().zip([pair.parent, pair.child]) {
        assert_eq!(d["pid"], pid);
        assert!(
            d["hex"].as_str().is_some_and(|h| h.starts_with("61")),
            "{d}"
        );
    }
}

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
use pvtui::process::{ReadMode, Target};
use pvtui::session::Session;

use crate::shared::{Pair, spawn_pair};
use crate::util::{Fixture, PATIENCE, fixture, pvtui_bin, skip_unless_root};

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

    // `[NAME]+off` is byte `off` of the object wherever each process maps
    // it: the parent maps it from offset 0, the child pages 1..2 at another
    // address (and the whole object privately, which a shared mapping
    // covering the byte wins over). Page 1 holds 'B' seen by both.
    let shm: Vec<Json> = records
        .iter()
        .filter(|r| r["expr"] == expr.as_str())
        .cloned()
        .collect();
    let parent = of(&shm, pair.parent);
    let child = of(&shm, pair.child);
    assert_eq!(
        parent["address"],
        format!("{:#x}", pair.fx.addr("parent_shm") + pair.page)
    );
    assert_eq!(
        child["address"],
        format!("{:#x}", pair.fx.addr("child_shm"))
    );
    for r in [parent, child] {
        assert_eq!(r["value"], u64::from(b'B'), "{r}");
        assert_eq!(r["shared"], true, "{r}");
        assert_eq!(r["object_offset"], format!("{:#x}", pair.page), "{r}");
        assert_eq!(r["differs"], false, "{r}");
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

    // Text output labels each line with its pid; an absolute address lands
    // in the child's own copy of page 1 there ('X') and in nothing of the
    // object in the parent, and the text says the values differ.
    let text = pair.run("read", &[&expr]);
    let shown = String::from_utf8_lossy(&text.stdout);
    for pid in [pair.parent, pair.child] {
        assert!(shown.contains(&format!("{pid}: {expr} = 66")), "{shown}");
    }
    // No symbol names shared memory: the object is named beside it.
    assert!(
        shown.contains(&format!(
            ", shared /dev/shm/{}+{:#x})",
            pair.shm(),
            pair.page
        )),
        "{shown}"
    );
    let copy = format!("{:#x}:u8", pair.fx.addr("child_priv") + pair.page);
    let text = pair.run("read", &[&copy]);
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(
        shown.contains(&format!("{}: {copy} = 88", pair.child)),
        "{shown}"
    );
}

#[test]
fn an_object_offset_means_the_same_byte_in_every_mapping_of_the_object() {
    let pair = spawn_pair();
    let shm = pair.shm();
    let page = pair.page;
    let (child_shm, child_priv) = (pair.fx.addr("child_shm"), pair.fx.addr("child_priv"));
    // The child maps the object twice: pages 1..2 shared at child_shm (file
    // offset one page), and all three privately at child_priv (offset 0).
    let cases = [
        // Byte 0x10: only the private mapping covers it.
        (format!("[{shm}]+0x10:u8"), child_priv + 0x10, b'A'),
        // Page 1: both cover it; the shared mapping is the object's own.
        (
            format!("[{shm}]+{:#x}:u8", page + 0x10),
            child_shm + 0x10,
            b'B',
        ),
        (
            format!("[{shm}]+{:#x}:u8", 2 * page),
            child_shm + page,
            b'C',
        ),
        // Plain `[NAME]` is byte 0.
        (format!("[{shm}]:u8"), child_priv, b'A'),
    ];
    let c = pair.child.to_string();
    for (expr, want, value) in &cases {
        let out = Command::new(pvtui_bin())
            .args(["read", "-p", &c, "--json", expr])
            .output()
            .expect("run pvtui");
        assert!(out.status.success(), "{expr}: {}", stderr(&out));
        let records = json_lines(&out);
        let r = of(&records, pair.child);
        assert_eq!(r["address"], format!("{want:#x}"), "{expr}: {r}");
        assert_eq!(r["value"], u64::from(*value), "{expr}: {r}");
    }
    // Past the object's end nothing maps it: a clear error, not a guess.
    let past = format!("[{shm}]+{:#x}:u8", 3 * page);
    let out = Command::new(pvtui_bin())
        .args(["read", "-p", &c, &past])
        .output()
        .expect("run pvtui");
    assert!(!out.status.success());
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(said.contains("is not mapped in this process"), "{said}");
    assert!(said.contains(&format!("0x0..{:#x}", 3 * page)), "{said}");
    // A module keeps counting from its first mapping, as its symbols do.
    let base = Command::new(pvtui_bin())
        .args(["read", "-p", &c, "--json", "[libc.so.6]+0x10:u8"])
        .output()
        .expect("run pvtui");
    assert!(base.status.success(), "{}", stderr(&base));
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

    // The shm object's page 1 is mapped from another file offset at another
    // address in the child: the same object byte, so the write reaches it.
    let expr = format!("[{}]+{}:u8", pair.shm(), pair.page);
    let out = pair.run("write", &[&expr, "90"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("through {}: 66 → 90", pair.parent)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} reads 90 at {:#x}: reached",
            pair.child,
            pair.fx.addr("child_shm")
        )),
        "{text}"
    );
    // The child's private copy of that page is its own: not written.
    let copy = format!("{:#x}:u8", pair.fx.addr("child_priv") + pair.page);
    let alone = Command::new(pvtui_bin())
        .args(["read", "--json", "-p", &pair.child.to_string(), &copy])
        .output()
        .expect("run pvtui");
    assert_eq!(json_lines(&alone)[0]["value"], u64::from(b'X'));
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
    // Both are read before the child is killed. A target still reading
    // when a tick's time is up is reported late (an emulated CPU is slow):
    // that is no reading, not a wrong one.
    let mut seen_child = false;
    while !seen_child {
        let r = next();
        if r["late"] == true {
            continue;
        }
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
        } else if exited && r["late"] != true {
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
    let regions = json_lines(&maps);
    let pids: Vec<&Json> = regions.iter().map(|r| &r["pid"]).collect();
    let parent = pids.iter().take_while(|p| **p == pair.parent).count();
    assert!(parent > 0, "{pids:?}");
    assert!(pids[parent..].iter().all(|p| *p == pair.child), "{pids:?}");
    assert!(pids.len() > parent, "{pids:?}");
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

#[test]
fn a_stalled_target_never_delays_the_others_in_the_poll_group() {
    let test = "a_stalled_target_never_delays_the_others_in_the_poll_group";
    if skip_unless_root(test, "the fixture needs a userfaultfd") {
        return;
    }
    // A reads a page registered missing with a userfaultfd nobody serves:
    // faulting it in waits until A exits. B is the same program, ticking.
    let a = Fixture::spawn(&fixture("target", "", &[]), &[]);
    if a.var("uffd").starts_with("unavailable") {
        eprintln!("SKIPPED {test}: {}", a.var("uffd"));
        return;
    }
    let stall = a.addr("uffd");
    let b = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let b_maps = Target::attach(b.pid)
        .and_then(|t| t.maps())
        .expect("B's maps");
    assert!(
        b_maps.find(stall).is_none(),
        "B happens to map A's stalled page's address; run again"
    );
    let watches = vec![
        parse_watch(&format!("{stall:#x}:u64")).expect("parses"),
        parse_watch("counter:u64").expect("parses"),
    ];
    // A deadline far past the test: A's read stays stuck until A exits.
    let deadline = Duration::from_secs(600);
    let sessions = vec![
        Session::attach(a.pid, deadline).expect("attach A"),
        Session::attach(b.pid, deadline).expect("attach B"),
    ];
    let mut group = PollGroup::start_with_mode(sessions, &watches, ReadMode::Force).expect("start");
    let mut b_counter: Vec<u64> = Vec::new();
    let mut ticks = 0;
    let give_up = Instant::now() + PATIENCE;
    while !(b_counter.len() >= 5 && b_counter.last() > b_counter.first()) {
        assert!(
            Instant::now() < give_up,
            "B was read in {} of {ticks} ticks: {b_counter:?}",
            b_counter.len()
        );
        let tick = group.tick(Instant::now() + Duration::from_millis(50));
        ticks += 1;
        let [ta, tb] = &tick.targets[..] else {
            panic!("two targets: {tick:?}");
        };
        assert_eq!((ta.pid, tb.pid), (a.pid, b.pid));
        // A is still inside its first read, in every tick.
        assert!(matches!(ta.outcome, TickOutcome::Late), "{:?}", ta.outcome);
        match &tb.outcome {
            TickOutcome::Read { readings, .. } => match readings[1].value {
                Some(pvtui::expr::Value::Unsigned(v)) => b_counter.push(v),
                ref other => panic!("B's counter: {other:?} ({:?})", readings[1].status),
            },
            // A busy machine may answer after the tick; never because of A.
            TickOutcome::Late => {}
            other => panic!("B: {other:?}"),
        }
    }
    assert!(
        b_counter.windows(2).all(|w| w[0] <= w[1]),
        "B's counter read tick after tick: {b_counter:?}"
    );
    // A's exit releases its stuck read; then the group's threads end.
    drop(a);
    drop(group);
}

#[test]
fn read_with_two_pids_names_each_place_by_symbol_as_one_target_does() {
    let a = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let b = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let (pa, pb) = (a.pid.to_string(), b.pid.to_string());
    let run = |rest: &[&str]| {
        Command::new(pvtui_bin())
            .args(["read", "-p", &pa, "-p", &pb])
            .args(rest)
            .output()
            .expect("run pvtui")
    };
    let out = run(&["value:u64"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for fx in [&a, &b] {
        // The same words a single target's read prints for it.
        let one = Command::new(pvtui_bin())
            .args(["read", "-p", &fx.pid.to_string(), "value:u64"])
            .output()
            .expect("run pvtui");
        let alone = String::from_utf8_lossy(&one.stdout);
        let alone = alone.trim_end();
        assert!(alone.contains("!value>)"), "{alone}");
        let line = format!("{}: {alone}", fx.pid);
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        assert!(
            alone.starts_with(&format!(
                "value:u64 = 42  (u64 at {:#x} <",
                fx.addr("value")
            )),
            "{alone}"
        );
    }
    // Private data of the program: no object beside the symbol.
    assert!(!text.contains("private"), "{text}");
    let out = run(&["--json", "value:u64"]);
    for r in json_lines(&out) {
        let place = r["place"].as_str().expect("a place");
        assert!(place.ends_with("!value"), "{r}");
    }
}

/// `pvtui ARGS...`, checked to succeed; its JSON lines.
fn pvtui_json(args: &[&str]) -> Vec<Json> {
    let out = Command::new(pvtui_bin())
        .args(args)
        .output()
        .expect("run pvtui");
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    json_lines(&out)
}

/// The addresses of `pid`'s places among scan records.
fn places_of(records: &[Json], pid: i32) -> Vec<u64> {
    records
        .iter()
        .filter(|r| r["pid"] == pid)
        .filter_map(|r| {
            let a = r["address"].as_str()?.trim_start_matches("0x");
            u64::from_str_radix(a, 16).ok()
        })
        .collect()
}

#[test]
fn scan_takes_several_targets_each_with_its_own_set_saved_under_one_name() {
    let mut a = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let b = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let (pa, pb) = (a.pid.to_string(), b.pid.to_string());
    let marker: u64 = 0x5ca9_0000_7e57_0001;
    for pid in [&pa, &pb] {
        let out = Command::new(pvtui_bin())
            .args(["write", "-p", pid, "value:u64", &marker.to_string()])
            .output()
            .expect("run pvtui");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    a.expect_line(&format!("changed value={marker}"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let set = dir.path().join("both.scan");
    let set_arg = set.to_string_lossy().into_owned();
    let first = pvtui_json(&[
        "scan",
        "-p",
        &pa,
        "-p",
        &pb,
        "--type",
        "u64",
        &marker.to_string(),
        "--save",
        &set_arg,
        "--json",
    ]);
    // Each process's own `value` is among its own places, under its pid.
    assert!(
        places_of(&first, a.pid).contains(&a.addr("value")),
        "{first:?}"
    );
    assert!(
        places_of(&first, b.pid).contains(&b.addr("value")),
        "{first:?}"
    );
    assert!(
        first.iter().all(|r| r["pid"] == a.pid || r["pid"] == b.pid),
        "{first:?}"
    );
    // One name for both sets, each an ordinary scan file beside it.
    for pid in [a.pid, b.pid] {
        assert!(dir.path().join(format!("both.scan.{pid}")).exists());
    }
    // A changes; narrowing the set narrows each process in its own memory.
    let out = Command::new(pvtui_bin())
        .args(["write", "-p", &pa, "value:u64", &(marker + 1).to_string()])
        .output()
        .expect("run pvtui");
    assert!(out.status.success(), "{}", stderr(&out));
    a.expect_line(&format!("changed value={}", marker + 1));
    let changed = pvtui_json(&["scan", "--from", &set_arg, "changed", "--json"]);
    assert!(
        places_of(&changed, a.pid).contains(&a.addr("value")),
        "{changed:?}"
    );
    assert!(places_of(&changed, b.pid).is_empty(), "{changed:?}");
    // Undo puts both back; one pid of the set narrows alone.
    let out = Command::new(pvtui_bin())
        .args(["scan", "--from", &set_arg, "undo"])
        .output()
        .expect("run pvtui");
    assert!(out.status.success(), "{}", stderr(&out));
    let only_b = pvtui_json(&["scan", "--from", &set_arg, "-p", &pb, "unchanged", "--json"]);
    assert!(
        places_of(&only_b, b.pid).contains(&b.addr("value")),
        "{only_b:?}"
    );
    assert!(places_of(&only_b, a.pid).is_empty(), "{only_b:?}");
    // A value neither can see: a snapshot of each, narrowed together.
    let snap = dir.path().join("unseen.scan");
    let snap_arg = snap.to_string_lossy().into_owned();
    let out = Command::new(pvtui_bin())
        .args([
            "scan", "-p", &pa, "-p", &pb, "--type", "u64", "unknown", "--save", &snap_arg,
        ])
        .output()
        .expect("run pvtui");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = Command::new(pvtui_bin())
        .args(["write", "-p", &pa, "value:u64", &(marker + 2).to_string()])
        .output()
        .expect("run pvtui");
    assert!(out.status.success(), "{}", stderr(&out));
    a.expect_line(&format!("changed value={}", marker + 2));
    let moved = pvtui_json(&["scan", "--from", &snap_arg, "increased", "--json"]);
    assert!(
        places_of(&moved, a.pid).contains(&a.addr("value")),
        "{moved:?}"
    );
    assert!(
        !places_of(&moved, b.pid).contains(&b.addr("value")),
        "{moved:?}"
    );
    // A pid the set does not hold, and a one-process file given two pids,
    // are refused with a clear message.
    let out = Command::new(pvtui_bin())
        .args(["scan", "--from", &set_arg, "-p", "1", "changed"])
        .output()
        .expect("run pvtui");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holds no scan of 1"),
        "{}",
        stderr(&out)
    );
    let member = dir.path().join(format!("both.scan.{}", a.pid));
    let out = Command::new(pvtui_bin())
        .args([
            "scan",
            "--from",
            &member.to_string_lossy(),
            "-p",
            &pa,
            "-p",
            &pb,
            "changed",
        ])
        .output()
        .expect("run pvtui");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holds the places of one process"),
        "{}",
        stderr(&out)
    );
}

/// `watch` with several targets names a pointer's target through each
/// process's own symbols, in text and JSON, as a single target's does.
#[test]
fn watch_with_two_pids_names_where_each_pointer_points() {
    let names = fixture("names", "", &[]);
    let a = Fixture::spawn(&names, &[]);
    let b = Fixture::spawn(&names, &[]);
    let (pa, pb) = (a.pid.to_string(), b.pid.to_string());
    let run = |rest: &[&str]| {
        Command::new(pvtui_bin())
            .args(["watch", "-p", &pa, "-p", &pb, "--count", "2"])
            .args(rest)
            .output()
            .expect("run pvtui")
    };
    let out = run(&["score_ptr:ptr", "score:u32"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for fx in [&a, &b] {
        let score = format!("{:#x}", fx.addr("score"));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(&format!("] {}: ", fx.pid)))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for line in lines {
            assert!(
                line.contains(&format!("score_ptr:ptr = {score} -> names!score (")),
                "{line}"
            );
            // Not a pointer: no arrow.
            assert!(line.contains("score:u32 = 1544426036 ("), "{line}");
        }
    }
    let out = run(&["--json", "score_ptr:ptr"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ticks = json_lines(&out);
    assert_eq!(ticks.len(), 4, "{ticks:?}");
    for fx in [&a, &b] {
        let mine: Vec<&Json> = ticks.iter().filter(|t| t["pid"] == fx.pid).collect();
        assert_eq!(mine.len(), 2, "{ticks:?}");
        for tick in mine {
            let value = &tick["values"][0];
            assert_eq!(
                value["value"],
                format!("{:#x}", fx.addr("score")).as_str(),
                "{value}"
            );
            assert_eq!(value["points_to"], "names!score", "{value}");
            assert_eq!(value["place"], "names!score_ptr", "{value}");
        }
    }
}

//! Nothing late, nothing held without bound: writes that could wait on a
//! userfaultfd handler, stalled pages in one command, and a target that
//! prints without end or prints bytes that are not UTF-8.

use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use pvtui::Error;
use pvtui::expr::{WatchSet, parse_watch};
use pvtui::process::helper::{HelperOutcome, write_in_helper};
use pvtui::process::{ReadMode, Unread};
use pvtui::session::Session;
use pvtui::sys;
use pvtui::tui::Event;
use pvtui::tui::app::OutputPane;
use pvtui::tui::app::output::{MAX_BYTES, MAX_LINE, MAX_LINES};
use pvtui::tui::event::forward_output;

use crate::util::{Fixture, PATIENCE, fixture, skip_unless_root, skip_without_program};

/// The late-serving userfaultfd target, or `None` (said why) where this
/// kernel or user cannot register one.
fn late_target(test: &str) -> Option<Fixture> {
    if skip_unless_root(test, "userfaultfd needs root here") {
        return None;
    }
    let fx = Fixture::spawn(&fixture("late_uffd", "", &[]), &[]);
    if let Some(why) = fx.vars.get("uffd") {
        eprintln!("SKIPPED {test}: userfaultfd {why}");
        return None;
    }
    Some(fx)
}

/// The first u64 of each page, as the target itself reads it once served.
fn served_values(fx: &mut Fixture) -> (u64, u64) {
    fx.send("serve");
    fx.expect_line("served");
    fx.send("show");
    let line = fx.expect_line("missing_value=");
    let mut values = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('=')?.1.parse::<u64>().ok());
    (
        values.next().expect("missing_value"),
        values.next().expect("wp_value"),
    )
}

/// The late target with a write-protected page, or `None` (said why).
fn wp_target(test: &str) -> Option<Fixture> {
    let fx = late_target(test)?;
    if let Some(why) = fx.vars.get("uffd_wp") {
        eprintln!("SKIPPED {test}: userfaultfd write-protect {why}");
        return None;
    }
    Some(fx)
}

#[test]
fn a_helper_write_that_missed_its_deadline_is_killed_and_never_lands() {
    let Some(mut fx) =
        wp_target("a_helper_write_that_missed_its_deadline_is_killed_and_never_lands")
    else {
        return;
    };
    let wp = fx.addr("wp");
    // process_vm_writev waits on the handler (a write to /proc/PID/mem
    // would fail instead); by pid is safe here, the fixture is our child.
    let to = sys::HelperTarget {
        target: fx.pid,
        flags: 0,
        mem: None,
    };
    let outcome =
        write_in_helper(to, wp, &[0x77; 8], Duration::from_millis(100)).expect("start the helper");
    assert!(matches!(outcome, HelperOutcome::Killed), "{outcome:?}");
    // The handler now lets writers on: a write left on a thread would land here.
    let (_, wp_value) = served_values(&mut fx);
    assert_eq!(
        wp_value, 0x2222_2222_2222_2222,
        "the stopped write landed late"
    );
}

#[test]
fn a_write_the_ui_reports_refused_never_lands_later() {
    let Some(mut fx) = wp_target("a_write_the_ui_reports_refused_never_lands_later") else {
        return;
    };
    let wp = fx.addr("wp");
    let mut session = Session::attach(fx.pid, Duration::from_millis(100)).expect("attach");
    // Stopped at the deadline (process_vm_writev waits), or refused by the
    // kernel (a write to /proc/PID/mem does not wait): either way not landed.
    match session.write(wp, &[0x77; 8]) {
        Err(e) => assert!(matches!(e, Error::Stalled { .. }), "{e}"),
        Ok(report) => assert!(!report.landed() && report.written == 0, "{report:?}"),
    }
    let (_, wp_value) = served_values(&mut fx);
    assert_eq!(
        wp_value, 0x2222_2222_2222_2222,
        "the refused write landed late"
    );
    // The page is writable now: the same write lands, and says so.
    let report = session.write(wp, &[0x77; 8]).expect("write");
    assert!(report.landed(), "{report:?}");
}

#[test]
fn a_write_to_a_missing_userfaultfd_page_is_refused_and_never_lands() {
    let Some(mut fx) =
        late_target("a_write_to_a_missing_userfaultfd_page_is_refused_and_never_lands")
    else {
        return;
    };
    let missing = fx.addr("missing");
    let mut session = Session::attach(fx.pid, Duration::from_millis(100)).expect("attach");
    let err = session.write(missing, &[0x77; 8]).expect_err("refused");
    assert!(
        matches!(err, Error::WriteRefused { addr, .. } if addr == missing),
        "{err}"
    );
    assert!(err.to_string().contains("userfaultfd"), "{err}");
    assert_eq!(session.stalls(), 0, "refused before anything waited");
    let (missing_value, _) = served_values(&mut fx);
    assert_eq!(
        missing_value, 0x1111_1111_1111_1111,
        "the refused write landed"
    );
}

#[test]
fn sixteen_expressions_on_a_stalled_page_cost_one_deadline() {
    let Some(fx) = late_target("sixteen_expressions_on_a_stalled_page_cost_one_deadline") else {
        return;
    };
    let missing = fx.addr("missing");
    let mut session = Session::attach(fx.pid, Duration::from_millis(100)).expect("attach");
    let mut set = WatchSet::new();
    for i in 0..16u64 {
        let text = format!("{:#x}:u64", missing + 8 * i);
        set.add(parse_watch(&text).expect("parses"));
    }
    let readings = session.poll(&mut set, ReadMode::Force).expect("read");
    assert_eq!(readings.len(), 16);
    assert!(
        readings.iter().all(|r| r.value.is_none()),
        "nothing invented for a page that never came"
    );
    assert_eq!(
        session.stalls(),
        1,
        "one deadline for the page, not one per expression"
    );
    let again = session
        .read(&[(missing, 8)], ReadMode::Force)
        .expect("read");
    assert_eq!(again[0].first_unread(), Some(Unread::Stalled));
    assert_eq!(
        session.stalls(),
        1,
        "the stalled page is not tried again in the same command"
    );
}

/// Runs `sh -c SCRIPT` with its output forwarded into a pane.
fn forwarded(
    script: &str,
) -> (
    std::process::Child,
    OutputPane,
    std::sync::mpsc::Receiver<Event>,
) {
    let mut child = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let pane = OutputPane::default();
    let (tx, rx) = channel();
    forward_output(child.stdout.take().expect("stdout"), pane.clone(), tx);
    (child, pane, rx)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < until, "never saw {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn yes_under_the_ui_keeps_a_bounded_ring_and_one_wake_up() {
    if skip_without_program(
        "yes_under_the_ui_keeps_a_bounded_ring_and_one_wake_up",
        "sh",
    ) {
        return;
    }
    if skip_without_program(
        "yes_under_the_ui_keeps_a_bounded_ring_and_one_wake_up",
        "yes",
    ) {
        return;
    }
    let (mut child, pane, rx) = forwarded("exec yes");
    wait_for("a million lines dropped", || pane.dropped() > 1_000_000);
    let ring = pane.snapshot();
    assert!(ring.bytes() <= MAX_BYTES, "{} bytes held", ring.bytes());
    assert!(ring.lines().len() <= MAX_LINES);
    assert_eq!(ring.lines().back().map(String::as_str), Some("y"));
    // The UI never looked: one wake-up waits for it, not a million lines.
    assert_eq!(rx.try_iter().count(), 1);
    pane.woke();
    wait_for("the next wake-up", || rx.try_recv().is_ok());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn output_that_is_not_utf8_is_escaped_and_the_target_lives_on() {
    if skip_without_program(
        "output_that_is_not_utf8_is_escaped_and_the_target_lives_on",
        "sh",
    ) {
        return;
    }
    if skip_without_program(
        "output_that_is_not_utf8_is_escaped_and_the_target_lives_on",
        "printf",
    ) {
        return;
    }
    let (mut child, pane, _rx) =
        forwarded("printf '\\377\\376bad \\033[2J\\n'; echo after; exit 3");
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(3),
        "the target ran to its end: {status:?}"
    );
    wait_for("both lines", || pane.last(2).len() == 2);
    assert_eq!(pane.last(2), vec!["\\xff\\xfebad \\u{1b}[2J", "after"]);
}

#[test]
fn a_300_mib_line_is_not_held_whole() {
    if skip_without_program("a_300_mib_line_is_not_held_whole", "sh") {
        return;
    }
    if skip_without_program("a_300_mib_line_is_not_held_whole", "head") {
        return;
    }
    if skip_without_program("a_300_mib_line_is_not_held_whole", "tr") {
        return;
    }
    let (mut child, pane, _rx) =
        forwarded("head -c 314572800 /dev/zero | tr '\\0' a; echo; echo end");
    let status = child.wait().expect("wait");
    assert!(status.success());
    wait_for("the end line", || pane.last(1) == vec!["end".to_string()]);
    let long = pane.last(2).remove(0);
    assert!(long.starts_with(&"a".repeat(MAX_LINE)), "the start is kept");
    assert!(
        long.ends_with(&format!("({} more bytes)", 314_572_800 - MAX_LINE)),
        "{}",
        &long[MAX_LINE..]
    );
    assert!(pane.bytes() <= MAX_BYTES);
}

#[test]
fn after_exec_the_session_follows_the_new_program_and_its_name() {
    let mut fx = Fixture::spawn(&fixture("execer", "", &[]), &[]);
    let mut session = Session::attach(fx.pid, Duration::from_millis(500)).expect("attach");
    let mut set = WatchSet::new();
    set.add(parse_watch("exec_value:u64").expect("parses"));
    let value = |session: &mut Session, set: &mut WatchSet| {
        session.refresh().expect("maps");
        let reading = session.poll(set, ReadMode::NoWait).expect("poll").remove(0);
        reading.value.map(|v| v.to_string())
    };
    assert_eq!(value(&mut session, &mut set).as_deref(), Some("1"));
    assert_eq!(session.name(), "execer");
    fx.send("exec");
    fx.expect_line("second");
    let until = Instant::now() + PATIENCE;
    let mut seen = None;
    while seen.as_deref() != Some("2") {
        assert!(
            Instant::now() < until,
            "never read the new program: {seen:?}"
        );
        seen = value(&mut session, &mut set);
    }
    assert_eq!(session.execs(), 1);
    assert_eq!(session.name(), "exe", "the name the new program runs under");
    // Writes reach the new program too.
    let addr = session.lookup(None, "exec_value").expect("symbol").addr;
    let report = session.write(addr, &9u64.to_ne_bytes()).expect("write");
    assert!(report.landed(), "{report:?}");
}

#[test]
fn watch_says_when_the_target_ran_exec_and_reads_the_new_program() {
    use std::io::{BufRead, BufReader};
    let mut fx = Fixture::spawn(&fixture("execer", "", &[]), &[]);
    // Ends by itself within --count ticks, so reading its output cannot hang.
    let mut watch = Command::new(crate::util::pvtui_bin())
        .args(["watch", "--pid", &fx.pid.to_string(), "--interval", "20"])
        .args(["--count", "1000", "exec_value:u64"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run pvtui watch");
    let mut lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    let mut next = || {
        lines
            .next()
            .and_then(|l| l.ok())
            .expect("pvtui watch ended early")
    };
    while !next().contains("exec_value:u64 = 1") {}
    fx.send("exec");
    let said = loop {
        let line = next();
        if line.contains("ran exec") {
            break line;
        }
    };
    assert!(
        said.contains(&format!("target {} ran exec: now exe", fx.pid)),
        "{said}"
    );
    while !next().contains("exec_value:u64 = 2") {}
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn a_write_after_its_read_stalled_costs_no_second_deadline() {
    let Some(fx) = late_target("a_write_after_its_read_stalled_costs_no_second_deadline") else {
        return;
    };
    let missing = fx.addr("missing");
    let mut session = Session::attach(fx.pid, Duration::from_millis(100)).expect("attach");
    // As `pvtui write` does: read the old value (it stalls), then write.
    let watch = parse_watch(&format!("{missing:#x}:u64")).expect("parses");
    let reading = session.evaluate(&watch, ReadMode::Force).expect("evaluate");
    assert!(
        reading.map_or(true, |r| r.value.is_none()),
        "nothing invented"
    );
    assert_eq!(session.stalls(), 1);
    let err = session.write(missing, &[5; 8]).expect_err("refused");
    assert!(matches!(err, Error::Stalled { .. }), "{err}");
    assert_eq!(
        session.stalls(),
        1,
        "the write waited for no second deadline"
    );
}

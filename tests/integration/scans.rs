//! Unknown-value scans, narrowing and undo against the "hidden_score" fixture,
//! a game whose score grows by a hidden amount on SIGUSR1, as a player would hunt it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::util::{Fixture, fixture, run_pvtui, skip_unless_root};

fn game() -> Fixture {
    Fixture::spawn(&fixture("hidden_score", "", &[]), &[])
}

fn signal(fx: &mut Fixture, sig: Signal) {
    kill(Pid::from_raw(fx.pid), sig).expect("signal the game");
}

/// Bumps the score by its hidden amount and waits until it has.
fn bump(fx: &mut Fixture) {
    signal(fx, Signal::SIGUSR1);
    fx.expect_line("bumped");
}

/// Ticks the game without scoring.
fn noise(fx: &mut Fixture) {
    fx.send("noise");
    fx.expect_line("noised");
}

/// A scan file in a directory of its own (its undo steps go beside it).
struct ScanDir {
    dir: tempfile::TempDir,
}

impl ScanDir {
    fn new() -> ScanDir {
        ScanDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("game.scan")
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Each JSON place printed: address, value, and the whole object.
fn places(stdout: &str) -> Vec<(u64, String, serde_json::Value)> {
    stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let a = v["address"].as_str().expect("address");
            let addr = u64::from_str_radix(a.trim_start_matches("0x"), 16).expect("hex");
            let value = v["value"].as_str().expect("value").to_string();
            (addr, value, v)
        })
        .collect()
}

fn addrs(stdout: &str) -> BTreeSet<u64> {
    places(stdout).into_iter().map(|p| p.0).collect()
}

/// Narrows the file; returns the places left.
fn narrow(file: &Path, words: &[&str]) -> BTreeSet<u64> {
    let mut args = vec!["scan", "--from", path(file), "--json"];
    args.extend_from_slice(words);
    let (code, out, err) = run_pvtui(&args);
    assert_eq!(code, 0, "{words:?}: {err}");
    addrs(&out)
}

/// `pvtui scan --pid PID --type u32 WHAT --save FILE EXTRA...`.
fn save_u32_scan(fx: &Fixture, what: &str, file: &Path, extra: &[&str]) -> (i32, String, String) {
    save_scan(fx, "u32", what, file, extra)
}

/// `pvtui scan --pid PID --type TY WHAT --save FILE EXTRA...`.
fn save_scan(
    fx: &Fixture,
    ty: &str,
    what: &str,
    file: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let pid = fx.pid.to_string();
    let mut args = vec![
        "scan",
        "--pid",
        &pid,
        "--type",
        ty,
        what,
        "--save",
        path(file),
    ];
    args.extend_from_slice(extra);
    run_pvtui(&args)
}

/// The count a first scan reports first on stderr.
fn leading_count(err: &str) -> u64 {
    err.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count first: {err}"))
}

fn snapshot(fx: &Fixture, file: &Path) {
    let (code, out, err) = save_u32_scan(fx, "unknown", file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "a snapshot prints no places: {out}");
    assert!(leading_count(&err) > 1000, "{err}");
}

fn score_at(fx: &mut Fixture) -> u64 {
    fx.send("where");
    let line = fx.expect_line("score_at=");
    let v = line.trim_start_matches("score_at=0x");
    u64::from_str_radix(v, 16).expect("hex address")
}

#[test]
fn unknown_scan_then_increased_and_unchanged_rounds_find_the_score() {
    let mut fx = game();
    let scans = ScanDir::new();
    let file = scans.file();
    snapshot(&fx, &file);
    let mut left = BTreeSet::new();
    for round in 0..6 {
        bump(&mut fx);
        left = narrow(&file, &["increased"]);
        noise(&mut fx);
        left = left
            .intersection(&narrow(&file, &["unchanged"]))
            .copied()
            .collect();
        if left.len() <= 1 {
            eprintln!("found after {} rounds", round + 1);
            break;
        }
    }
    let score = score_at(&mut fx);
    assert_eq!(left, BTreeSet::from([score]));
    // The value it shows is the score the game reports.
    let (code, out, err) = run_pvtui(&["scan", "--from", path(&file), "--json", "unchanged"]);
    assert_eq!(code, 0, "{err}");
    let found = places(&out);
    signal(&mut fx, Signal::SIGUSR2);
    let told = fx.expect_line("score=");
    assert_eq!(format!("score={}", found[0].1), told);
    assert_eq!(found[0].2["region"], "[heap]");
    assert_eq!(found[0].2["type"], "u32");
}

/// The count a narrowing or undo reports on stderr.
fn count_of(args: &[&str]) -> u64 {
    let (code, _, err) = run_pvtui(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    let words: Vec<&str> = err.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "with")
        .map(|i| i + 1)
        .unwrap_or(0);
    words[at]
        .parse()
        .unwrap_or_else(|_| panic!("a count in {err:?}"))
}

#[test]
fn undo_restores_each_narrowing_step() {
    let mut fx = game();
    let scans = ScanDir::new();
    let file = scans.file();
    snapshot(&fx, &file);
    let f = path(&file);
    let snapped = count_of(&["scan", "--from", f, "unchanged", "--max", "0"]);
    bump(&mut fx);
    let increased = count_of(&["scan", "--from", f, "increased", "--max", "0"]);
    noise(&mut fx);
    let unchanged = count_of(&["scan", "--from", f, "unchanged", "--max", "0"]);
    assert!(unchanged < increased && increased < snapped);
    // Back one step: the places the `increased` step kept, no fewer.
    assert_eq!(count_of(&["scan", "--from", f, "undo"]), increased);
    assert_eq!(count_of(&["scan", "--from", f, "undo"]), snapped);
    // The restored step narrows as before.
    let again = count_of(&["scan", "--from", f, "changed", "--max", "0"]);
    assert!(again < snapped);
    assert_eq!(count_of(&["scan", "--from", f, "undo"]), snapped);
    let (code, _, err) = run_pvtui(&["scan", "--from", f, "undo"]);
    let (code2, _, _) = run_pvtui(&["scan", "--from", f, "undo"]);
    // Below the first step (the `unchanged` right after the snapshot) there is the snapshot only.
    assert!(code != 0 || code2 != 0, "{err}");
    let (_, _, err) = run_pvtui(&["scan", "--from", f, "undo", "undo"]);
    assert!(!err.is_empty());
}

#[test]
fn a_new_scan_into_a_file_forgets_the_old_steps() {
    let mut fx = game();
    let scans = ScanDir::new();
    let file = scans.file();
    snapshot(&fx, &file);
    bump(&mut fx);
    narrow(&file, &["increased"]);
    snapshot(&fx, &file);
    let (code, _, err) = run_pvtui(&["scan", "--from", path(&file), "undo"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no earlier step"), "{err}");
}

#[test]
fn scans_look_in_writable_regions_unless_told() {
    // The table is never read here, so no copy of it lands on the stack.
    let fx = game();
    let pid = fx.pid.to_string();
    let level = 0x51ed51edu32.to_string();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--pid", &pid, "--type", "u32", &level, "--json"];
        args.extend_from_slice(extra);
        let (code, out, err) = run_pvtui(&args);
        assert_eq!(code, 0, "{err}");
        places(&out)
    };
    let writable = scan(&[]);
    assert!(
        writable.is_empty(),
        "the table is in read-only memory: {:?}",
        writable.iter().map(|p| &p.2).collect::<Vec<_>>()
    );
    let all = scan(&["--all-regions"]);
    assert!(!all.is_empty());
    // Named by its place in the program, not only by its address.
    let named = all
        .iter()
        .filter_map(|p| p.2["place"].as_str())
        .collect::<Vec<_>>();
    assert!(named.iter().any(|n| n.contains("levels")), "{named:?}");
}

#[test]
fn max_prints_at_most_n_and_says_how_many_were_left_out() {
    let fx = game();
    let pid = fx.pid.to_string();
    let args = ["scan", "--pid", &pid, "--type", "u8", "range", "0", "255"];
    let (code, text, err) = run_pvtui(&args);
    assert_eq!(code, 0, "{err}");
    let total = leading_count(&err);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 21, "20 places and a line saying how many more");
    assert_eq!(
        lines[20],
        format!("... and {} more (--max N prints more)", total - 20)
    );
    // JSON prints every place unless told. Every writable byte is a place:
    // only the addresses are kept, so the test stays small in a small VM.
    let (_, json, _) = run_pvtui(&[&args[..], &["--json"]].concat());
    let sorted: Vec<u64> = json.lines().map(|line| places(line)[0].0).collect();
    drop(json);
    assert_eq!(sorted.len() as u64, total);
    assert!(sorted.windows(2).all(|w| w[0] < w[1]), "in address order");
    let (_, json, err) = run_pvtui(&[&args[..], &["--json", "--max", "5"]].concat());
    assert_eq!(places(&json).len(), 5);
    assert!(
        err.contains(&format!("{} more places not printed", total - 5)),
        "{err}"
    );
}

#[test]
fn candidates_not_in_memory_are_kept_and_counted() {
    let test = "candidates_not_in_memory_are_kept_and_counted";
    if skip_unless_root(test, "the game drops a page under a userfaultfd") {
        return;
    }
    let mut fx = game();
    fx.send("cold");
    let line = fx.expect_line("cold=");
    assert!(
        !line.contains("unavailable"),
        "root can make a userfaultfd: {line}"
    );
    let cold = u64::from_str_radix(line.trim_start_matches("cold=0x"), 16).expect("hex");
    let scans = ScanDir::new();
    let file = scans.file();
    let cold_value = 0x0c01_d0c0u32.to_string();
    let (code, out, err) = save_u32_scan(&fx, &cold_value, &file, &["--json"]);
    assert_eq!(code, 0, "{err}");
    let page: BTreeSet<u64> = (0..1024).map(|i| cold + 4 * i).collect();
    assert!(addrs(&out).is_superset(&page));
    fx.send("drop");
    fx.expect_line("dropped");
    let (code, out, err) = run_pvtui(&["scan", "--from", path(&file), "--json", "changed"]);
    assert_eq!(code, 0, "{err}");
    // Not read is not changed: each place is kept, with its last value, and counted.
    assert!(addrs(&out).is_superset(&page), "{err}");
    assert!(
        err.contains("1024 candidates are not in memory now and were kept"),
        "{err}"
    );
}

#[test]
fn narrowing_a_scan_of_an_exited_game_fails_at_once_and_keeps_the_file() {
    let mut fx = game();
    let scans = ScanDir::new();
    let file = scans.file();
    snapshot(&fx, &file);
    let before = std::fs::read(&file).expect("read");
    fx.kill();
    let (code, out, _) = run_pvtui(&["scan", "--from", path(&file), "--json", "increased"]);
    assert_eq!(code, 4, "the target is gone");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("a JSON error");
    assert_eq!(v["kind"], "target-exited", "{v}");
    assert_eq!(std::fs::read(&file).expect("read"), before);
}

/// The "widths" fixture: 183 stored as a u8, u16, u32 and u64 at +0, +8,
/// +16 and +24 of the struct it prints as `at=`.
fn widths() -> (Fixture, u64) {
    let fx = Fixture::spawn(&fixture("widths", "", &[]), &[]);
    let at = fx.addr("at");
    (fx, at)
}

/// Each JSON place printed, as (address, type).
fn typed(stdout: &str) -> BTreeSet<(u64, String)> {
    places(stdout)
        .into_iter()
        .map(|(addr, _, v)| (addr, v["type"].as_str().expect("type").to_string()))
        .collect()
}

/// The places among `found` that lie in the fixture's struct.
fn in_struct(found: &BTreeSet<(u64, String)>, at: u64) -> BTreeSet<(u64, String)> {
    found
        .iter()
        .filter(|(addr, _)| (at..at + 32).contains(addr))
        .cloned()
        .collect()
}

fn place(addr: u64, ty: &str) -> (u64, String) {
    (addr, ty.to_string())
}

#[test]
fn an_int_scan_finds_a_value_at_every_width_and_narrows_each_at_its_own() {
    let (mut fx, at) = widths();
    let scans = ScanDir::new();
    let file = scans.file();
    let (code, out, err) = save_scan(&fx, "int", "183", &file, &["--json"]);
    assert_eq!(code, 0, "{err}");
    // A wider place holding 183 holds it at each narrower width too; the
    // guards after each place keep the wider reads from matching.
    let want = BTreeSet::from([
        place(at, "u8"),
        place(at + 8, "u8"),
        place(at + 8, "u16"),
        place(at + 16, "u8"),
        place(at + 16, "u16"),
        place(at + 16, "u32"),
        place(at + 24, "u8"),
        place(at + 24, "u16"),
        place(at + 24, "u32"),
        place(at + 24, "u64"),
    ]);
    assert_eq!(in_struct(&typed(&out), at), want);
    let u64_place = places(&out)
        .into_iter()
        .find(|p| p.0 == at + 24 && p.2["type"] == "u64")
        .expect("the u64");
    assert_eq!(u64_place.2["len"], 8);
    assert_eq!(u64_place.1, "183");

    // The u16 grows by 256: its low byte, a u8 place of its own, does not.
    fx.send("bump16");
    fx.expect_line("bumped");
    let f = path(&file);
    let (code, out, err) = run_pvtui(&["scan", "--from", f, "--json", "increased"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        in_struct(&typed(&out), at),
        BTreeSet::from([place(at + 8, "u16")])
    );
    // Once more, and nothing else in the program grew in step with it.
    fx.send("bump16");
    fx.expect_line("bumped");
    let (code, out, err) = run_pvtui(&["scan", "--from", f, "--json", "increased"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(typed(&out), BTreeSet::from([place(at + 8, "u16")]));
    assert_eq!(places(&out)[0].1, (183 + 512).to_string());
    // Text names the place's own type too.
    let (code, text, err) = run_pvtui(&["scan", "--from", f, "unchanged"]);
    assert_eq!(code, 0, "{err}");
    let line = text.lines().next().expect("a place");
    assert!(line.starts_with(&format!("{:#x} ", at + 8)), "{line}");
    assert!(line.ends_with("  u16  695"), "{line}");
}

#[test]
fn an_int_snapshot_narrows_each_width_and_undo_brings_it_back() {
    let (mut fx, at) = widths();
    let scans = ScanDir::new();
    let file = scans.file();
    let f = path(&file);
    let (code, out, err) = save_scan(&fx, "any", "unknown", &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    let snapped = leading_count(&err);
    // Every page holds 4096 + 2048 + 1024 + 512 places.
    assert_eq!(snapped % 7680, 0, "{err}");

    fx.send("bump16");
    fx.expect_line("bumped");
    let (code, out, err) = run_pvtui(&["scan", "--from", f, "--json", "increased-by", "256"]);
    assert_eq!(code, 0, "{err}");
    // 256 does not fit a byte: the u16's low byte is no candidate for it.
    let found = in_struct(&typed(&out), at);
    assert!(found.contains(&place(at + 8, "u16")), "{found:?}");
    assert!(!found.contains(&place(at + 8, "u8")), "{found:?}");

    assert_eq!(count_of(&["scan", "--from", f, "undo"]), snapped);
    fx.send("bump64");
    fx.expect_line("bumped");
    let (code, out, err) = run_pvtui(&["scan", "--from", f, "--json", "increased-by", "1"]);
    assert_eq!(code, 0, "{err}");
    // Since the snapshot, the u16's high byte went from 0 to 1 as well.
    assert_eq!(
        in_struct(&typed(&out), at),
        BTreeSet::from([
            place(at + 9, "u8"),
            place(at + 24, "u8"),
            place(at + 24, "u16"),
            place(at + 24, "u32"),
            place(at + 24, "u64"),
        ])
    );
}

//! `writers` names the accessing instruction itself (decoded from the running
//! game's code), and the hunter's long-running commands stopped by a signal
//! print what they have and exit with 128 + its number.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::util::{Fixture, fixture, pvtui_bin, skip_unless_root};

fn game_bin() -> std::path::PathBuf {
    fixture("game", "", &[])
}

/// The score as a u32 at its address.
fn score_at(game: &Fixture) -> String {
    format!("{:#x}:u32", game.addr("score"))
}

/// The score the game prints on `show`.
fn show(game: &mut Fixture) -> u64 {
    game.send("show");
    let line = game.expect_line("score=");
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("score=")?.parse().ok())
        .unwrap_or_else(|| panic!("unexpected show line {line:?}"))
}

fn terminate(child: &Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("send SIGTERM");
}

/// An instruction's text without spaces and in lower case, so objdump's
/// `add    DWORD PTR [rax+0xc],edi` and `add dword ptr [rax+0xc], edi` compare equal.
fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// objdump's Intel-syntax text of the instruction at `vaddr` in `bin`, when
/// objdump is installed.
fn objdump_at(bin: &std::path::Path, vaddr: u64) -> Option<String> {
    let out = Command::new("objdump")
        .args(["-d", "--no-show-raw-insn", "-M", "intel"])
        .arg(bin)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let label = format!("{vaddr:x}:");
    let line = text.lines().find(|l| l.trim_start().starts_with(&label))?;
    let insn = line.trim_start().strip_prefix(&label)?;
    // Drop the `# 40c8 <g_world>` note objdump adds to RIP-relative operands.
    Some(insn.split('#').next().unwrap_or(insn).trim().to_string())
}

#[test]
fn writers_names_the_store_in_add_score_and_exits_143_on_sigterm() {
    if skip_unless_root(
        "writers_names_the_store_in_add_score_and_exits_143_on_sigterm",
        "perf breakpoints on another process need CAP_PERFMON",
    ) {
        return;
    }
    let bin = game_bin();
    let mut game = Fixture::spawn(&bin, &[]);
    game.send("auto 1");
    let pid = game.pid.to_string();
    let mut child = Command::new(pvtui_bin())
        .args(["writers", "--json", "--pid", &pid, &score_at(&game)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui writers");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("pvtui stderr");
    if first.contains("no hardware breakpoints") {
        let _ = child.wait();
        eprintln!("SKIPPED writers test: {}", first.trim());
        return;
    }
    assert!(first.starts_with("watching writes"), "{first}");
    // The breakpoints are set: let the game write the score a few times.
    let before = show(&mut game);
    while show(&mut game) <= before {}
    terminate(&child);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr");
    let out = child.wait_with_output().expect("pvtui output");
    assert_eq!(
        out.status.code(),
        Some(143),
        "writers stopped by SIGTERM: {first}{rest}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let hit = report["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["function"] == "add_score")
        .unwrap_or_else(|| panic!("no hit in add_score: {report}"));
    let access = &hit["access"];
    let hex = |v: &Value| {
        u64::from_str_radix(v.as_str().expect("hex").trim_start_matches("0x"), 16).expect("hex")
    };
    let (ip, at) = (hex(&hit["ip"]), hex(&access["ip"]));
    let len = access["len"].as_u64().expect("len");
    // The access ends where the sampled IP begins, inside add_score.
    assert_eq!(at + len, ip, "{report}");
    assert!(
        access["where"]
            .as_str()
            .is_some_and(|w| w.starts_with("add_score+")),
        "{report}"
    );
    // add_score's one store: a read-modify-write of the score in memory.
    let text = access["text"].as_str().expect("text");
    assert!(text.starts_with("add dword ptr ["), "not the store: {text}");
    // objdump agrees, at the same offset in the file (the game is PIE:
    // its offset from the first mapping is its link-time address).
    let offset = hit["module_offset"].as_u64().expect("offset") - (ip - at);
    match objdump_at(&bin, offset) {
        Some(theirs) => assert_eq!(squeezed(text), squeezed(&theirs), "objdump: {theirs}"),
        None => eprintln!("NOTE writers test: objdump is not installed; its text is not compared"),
    }
}

#[test]
fn freeze_stopped_by_sigterm_reports_and_exits_143() {
    if skip_unless_root(
        "freeze_stopped_by_sigterm_reports_and_exits_143",
        "writing a fixture's memory",
    ) {
        return;
    }
    let game = Fixture::spawn(&game_bin(), &[]);
    let pid = game.pid.to_string();
    let mut child = Command::new(pvtui_bin())
        .args(["freeze", "--pid", &pid, &score_at(&game), "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui freeze");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("pvtui stdout");
    assert!(first.starts_with("holding"), "{first}");
    terminate(&child);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    let out = child.wait_with_output().expect("pvtui output");
    assert_eq!(
        out.status.code(),
        Some(143),
        "{first}{rest}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        rest.starts_with("held ") && rest.contains("(stopped)"),
        "{rest}"
    );
}

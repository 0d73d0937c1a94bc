//! The value hunter's tools against the "game" fixture: who writes the score
//! (hardware breakpoints, the game never stops), pointer chains to it that
//! survive a restart, and holding it from the command line.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::util::{Fixture, fixture, pvtui_bin, run_pvtui, skip_unless_root, start_freeze_json};

fn game(args: &[&str]) -> Fixture {
    Fixture::spawn(&fixture("game", "", &[]), args)
}

/// `score=S ticks=T`, printed by the game on `show`.
fn show(game: &mut Fixture) -> (u64, u64) {
    game.send("show");
    let line = game.expect_line("score=");
    let mut fields = line
        .split_whitespace()
        .filter_map(|f| f.split_once('=')?.1.parse::<u64>().ok());
    match (fields.next(), fields.next()) {
        (Some(s), Some(t)) => (s, t),
        _ => panic!("unexpected show line {line:?}"),
    }
}

/// The score as a watch expression through the game's own pointers.
fn score_expr(game: &Fixture) -> String {
    format!(
        "*(*(*g_world+{})+{})+{}:u32",
        game.number("level_off"),
        game.number("box_off"),
        game.number("score_off")
    )
}

/// The score as a u32 at its address.
fn score_at(game: &Fixture) -> String {
    format!("{:#x}:u32", game.addr("score"))
}

#[test]
fn writers_names_add_score_while_the_game_keeps_ticking() {
    if skip_unless_root(
        "writers_names_add_score_while_the_game_keeps_ticking",
        "perf breakpoints on another process need CAP_PERFMON",
    ) {
        return;
    }
    let mut game = game(&[]);
    let pid = game.pid.to_string();
    let expr = score_expr(&game);
    let mut child = Command::new(pvtui_bin())
        .args(["writers", "--json", "--seconds", "2", "--pid", &pid, &expr])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui writers");
    // Once the breakpoints are set, a thread started now must be picked up.
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).expect("pvtui stderr");
    if first.contains("no hardware breakpoints") {
        let _ = child.wait();
        eprintln!("SKIPPED writers test: {}", first.trim());
        return;
    }
    assert!(first.starts_with("watching writes"), "{first}");
    game.send("spawn");
    let late_tid: u64 = game
        .expect_line("thread=")
        .trim_start_matches("thread=")
        .parse()
        .expect("a thread id");
    // While it samples, poke the game and watch its tick counter move.
    let mut ticks = Vec::new();
    while child.try_wait().expect("wait for pvtui").is_none() {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(game.pid),
            nix::sys::signal::Signal::SIGUSR1,
        )
        .expect("signal the game");
        ticks.push(show(&mut game).1);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    let out = child.wait_with_output().expect("pvtui output");
    assert!(out.status.success(), "pvtui writers failed: {first}{rest}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let hits = report["hits"].as_array().expect("hits");
    let add_score = hits
        .iter()
        .find(|h| h["function"] == "add_score")
        .unwrap_or_else(|| panic!("no hit in add_score: {report}"));
    assert!(add_score["count"].as_u64().unwrap_or(0) >= 1, "{report}");
    assert_eq!(add_score["module"], "game", "{report}");
    // The fixture is built with -g: its line table names the source line.
    assert!(
        add_score["line"]
            .as_str()
            .is_some_and(|l| l.starts_with("game.c:")),
        "{report}"
    );
    let tids: Vec<u64> = add_score["tids"]
        .as_array()
        .expect("tids")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(
        tids.contains(&(game.pid as u64)),
        "main thread missing: {report}"
    );
    assert!(
        tids.contains(&late_tid),
        "the thread started during sampling was not watched: {report}"
    );
    // Nothing else writes the score. QEMU's software emulation (TCG) also
    // reports the game's printf copying into its stdout buffer as writes to
    // it: the breakpoint hardware itself is emulated, so there only add_score's
    // own hits are checked.
    let emulated = emulated_cpu();
    if let Some(cpu) = &emulated {
        eprintln!(
            "NOTE writers test: the CPU is emulated ({cpu}), whose watchpoints also fire on \
             other writes: only add_score's hits are checked"
        );
    } else {
        assert!(
            hits.iter().all(|h| h["function"] == "add_score"),
            "{report}"
        );
    }
    // The game was never stopped: its own counter advanced while sampled.
    assert!(
        ticks.len() >= 2,
        "too few samples during sampling: {ticks:?}"
    );
    assert!(
        ticks.windows(2).all(|w| w[1] > w[0]),
        "the tick counter stalled during sampling: {ticks:?}"
    );
    let (score, _) = show(&mut game);
    let total = match emulated {
        Some(_) => add_score["count"].as_u64().expect("count"),
        None => report["total"].as_u64().expect("total"),
    };
    assert!(score >= total, "score {score} below {total} writes seen");
}

/// The CPU's model name when it is QEMU's software emulation (TCG).
fn emulated_cpu() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .filter_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .find(|name| name.contains("QEMU TCG"))
}

#[test]
fn writers_refuses_an_unaligned_place_clearly() {
    if skip_unless_root(
        "writers_refuses_an_unaligned_place_clearly",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    let out = Command::new(pvtui_bin())
        .args(["writers", "--seconds", "1", "--pid", &pid, "g_world+1:u32"])
        .output()
        .expect("run pvtui writers");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not aligned to 4 bytes"), "{stderr}");
}

/// `pvtui ARGS`: (success, stdout lines, stderr).
fn pvtui(args: &[&str]) -> (bool, Vec<String>, String) {
    let (code, stdout, stderr) = run_pvtui(args);
    (
        code == 0,
        stdout.lines().map(str::to_string).collect(),
        stderr,
    )
}

/// `pvtui freeze --json` holding `place` at `value` for `seconds`, rewriting
/// every `interval` ms: (success, stdout lines, stderr).
fn freeze_json(
    pid: &str,
    seconds: &str,
    interval: &str,
    place: &str,
    value: &str,
) -> (bool, Vec<String>, String) {
    pvtui(&[
        "freeze",
        "--json",
        "--seconds",
        seconds,
        "--interval",
        interval,
        "--pid",
        pid,
        place,
        value,
    ])
}

/// `pvtui pointers --save PATH` to the game's score.
fn save_chains(game: &Fixture, path: &str) -> (bool, Vec<String>, String) {
    let pid = game.pid.to_string();
    pvtui(&["pointers", "--pid", &pid, "--save", path, &score_at(game)])
}

fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn pointer_chain_is_found_and_survives_a_restart_with_another_heap_layout() {
    if skip_unless_root(
        "pointer_chain_is_found_and_survives_a_restart_with_another_heap_layout",
        "reading a fixture's memory",
    ) {
        return;
    }
    let first = game(&[]);
    let pid = first.pid.to_string();
    let score = score_at(&first);
    let saved = std::env::temp_dir().join(format!("pvtui-chains-{}.ptr", first.pid));
    let saved_arg = saved.to_str().expect("utf-8 path");
    let (ok, lines, stderr) = pvtui(&[
        "pointers", "--json", "--pid", &pid, "--depth", "3", "--save", saved_arg, &score,
    ]);
    assert!(ok, "pointers failed: {stderr}");
    let found = json_lines(&lines);
    let true_offsets = json!([
        first.number("level_off"),
        first.number("box_off"),
        first.number("score_off")
    ]);
    let chain = found
        .iter()
        .find(|c| c["symbol"] == "g_world" && c["offsets"] == true_offsets)
        .unwrap_or_else(|| panic!("the true chain is missing: {lines:#?}"));
    assert_eq!(chain["module"], "game");
    assert_eq!(
        chain["expr"],
        format!(
            "*(*(*game!g_world+{:#x})+{:#x})+{:#x}:u32",
            first.number("level_off"),
            first.number("box_off"),
            first.number("score_off")
        )
    );
    let done = found.last().expect("summary");
    assert_eq!(done["event"], "done");

    // Another run, with the structs at other heap offsets.
    let second = game(&["300"]);
    let moved = second.addr("score");
    assert_ne!(
        moved - second.addr("world"),
        first.addr("score") - first.addr("world"),
        "the padding did not change the heap layout"
    );
    let pid2 = second.pid.to_string();
    let want = format!("{moved:#x}");
    let (ok, lines, stderr) = pvtui(&[
        "pointers", "--json", "--pid", &pid2, "--from", saved_arg, &want,
    ]);
    assert!(ok, "re-check failed: {stderr}");
    let kept = json_lines(&lines);
    let (summary, kept) = kept.split_last().expect("summary");
    assert!(
        kept.iter()
            .any(|c| c["symbol"] == "g_world" && c["offsets"] == true_offsets),
        "the true chain did not survive: {lines:#?}"
    );
    assert!(kept.iter().all(|c| c["address"] == want.as_str()));
    assert!(
        summary["dropped"].as_u64().unwrap_or(0) > 0,
        "the short cut through the old layout should be dropped: {lines:#?}"
    );
    // Without an address, every chain that still resolves is kept.
    let (ok, lines, stderr) = pvtui(&["pointers", "--json", "--pid", &pid2, "--from", saved_arg]);
    assert!(ok, "re-check failed: {stderr}");
    let resolving = json_lines(&lines);
    let (all, resolving) = resolving.split_last().expect("summary");
    assert!(resolving.len() >= kept.len(), "{lines:#?}");
    assert_eq!(
        all["kept"].as_u64().unwrap_or(0) + all["dropped"].as_u64().unwrap_or(0),
        (found.len() - 1) as u64
    );
    // The kept expression reads the new score.
    let expr = kept[0]["expr"].as_str().expect("expr");
    let (ok, lines, stderr) = pvtui(&["read", "--json", "--pid", &pid2, expr]);
    assert!(ok, "{stderr}");
    let reading: Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(reading["address"], want.as_str());
    let _ = std::fs::remove_file(&saved);
}

#[test]
fn pointers_refuses_damaged_files_and_bad_bounds() {
    if skip_unless_root(
        "pointers_refuses_damaged_files_and_bad_bounds",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    let junk = std::env::temp_dir().join(format!("pvtui-junk-{}.ptr", game.pid));
    std::fs::write(&junk, "pvtui-pointers 1 0000000000000000\n{}\n").expect("write");
    let (ok, _, stderr) = pvtui(&[
        "pointers",
        "--pid",
        &pid,
        "--from",
        junk.to_str().expect("utf-8"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let (ok, _, stderr) = pvtui(&["pointers", "--pid", &pid, "--depth", "0", "g_world"]);
    assert!(!ok);
    assert!(
        stderr.contains("--depth") && stderr.contains("out of range"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&junk);
}

#[test]
fn freeze_holds_the_score_against_the_games_own_writes() {
    if skip_unless_root(
        "freeze_holds_the_score_against_the_games_own_writes",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut game = game(&[]);
    game.send("auto 10");
    let pid = game.pid.to_string();
    let expr = score_expr(&game);
    let (mut child, mut lines) = start_freeze_json(&pid, &expr, "777", "1.5");
    let first = lines.next().expect("a first line").expect("utf-8");
    let holding: Value = serde_json::from_str(&first).expect("json");
    assert_eq!(holding["event"], "holding", "{first}");
    // Sample while the hold runs: the game adds 1 every 10 ticks meanwhile.
    let mut samples = Vec::new();
    while child.try_wait().expect("wait").is_none() {
        samples.push(show(&mut game).0);
    }
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.expect("utf-8")).expect("json"))
        .collect();
    let done = rest.last().expect("summary");
    assert_eq!(done["event"], "done", "{rest:?}");
    assert_eq!(done["failed"], 0, "{rest:?}");
    assert!(child.wait().expect("status").success());
    // The game fought back: the hold restored the value many times.
    assert!(done["restored"].as_u64().unwrap_or(0) >= 10, "{done}");
    assert!(samples.len() >= 20, "too few samples: {}", samples.len());
    let held = samples.iter().filter(|&&s| s == 777).count();
    assert!(
        held * 10 >= samples.len() * 6,
        "only {held} of {} samples read 777: {samples:?}",
        samples.len()
    );
    assert!(
        samples.iter().all(|&s| (777..=790).contains(&s)),
        "the score escaped the hold: {samples:?}"
    );
    // Released: the game's own writes take over again.
    let after = show(&mut game).0;
    let mut later = after;
    while later <= after + 2 {
        later = show(&mut game).0;
    }
    assert!(later > 777);
}

#[test]
fn freeze_of_code_is_refused_at_the_first_rewrite_not_repeated() {
    if skip_unless_root(
        "freeze_of_code_is_refused_at_the_first_rewrite_not_repeated",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    // Code is mapped r-xp: the first rewrite is refused, and the hold ends
    // there with that error instead of repeating it every interval.
    let (ok, lines, stderr) = freeze_json(&pid, "5", "10", "add_score:u8", "0x90");
    assert!(!ok, "a hold that never landed must fail");
    let events = json_lines(&lines);
    assert_eq!(events.len(), 1, "one error, no hold: {lines:?} {stderr}");
    assert_eq!(events[0]["kind"], "failed", "{lines:?}");
    assert!(
        events[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("r-xp, not writable")),
        "{lines:?}"
    );
    let (ok, _, stderr) = pvtui(&[
        "freeze",
        "--seconds",
        "1",
        "--pid",
        &pid,
        "add_score:u8",
        "0x90",
    ]);
    assert!(!ok);
    assert_eq!(stderr.matches("not writable").count(), 1, "{stderr}");
    let (ok, _, stderr) = pvtui(&["freeze", "--pid", &pid, "--interval", "0", "g_ticks", "1"]);
    assert!(!ok);
    assert!(
        stderr.contains("--interval") && stderr.contains("out of range"),
        "{stderr}"
    );
}

/// Runs `pvtui writers --json` for `seconds` while poking the game; the report.
fn writers_while_playing(game: &mut Fixture, extra: &[&str], expr: &str) -> Value {
    let pid = game.pid.to_string();
    let mut args = vec!["writers", "--json", "--seconds", "1", "--pid", &pid];
    args.extend_from_slice(extra);
    args.push(expr);
    let mut child = Command::new(pvtui_bin())
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui writers");
    while child.try_wait().expect("wait for pvtui").is_none() {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(game.pid),
            nix::sys::signal::Signal::SIGUSR1,
        )
        .expect("signal the game");
        show(game);
    }
    let out = child.wait_with_output().expect("pvtui output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pvtui writers failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("one JSON report")
}

#[test]
fn writers_with_reads_sees_the_readers_of_a_pointer_nobody_writes() {
    if skip_unless_root(
        "writers_with_reads_sees_the_readers_of_a_pointer_nobody_writes",
        "perf breakpoints on another process need CAP_PERFMON",
    ) {
        return;
    }
    let mut game = game(&[]);
    let probe = Command::new(pvtui_bin())
        .args([
            "writers",
            "--seconds",
            "0.1",
            "--pid",
            &game.pid.to_string(),
            "g_world",
        ])
        .output()
        .expect("run pvtui writers");
    if String::from_utf8_lossy(&probe.stderr).contains("no hardware breakpoints") {
        eprintln!("SKIPPED: no hardware breakpoints on this machine");
        return;
    }
    // g_world is set once at start: no writes, but add_score reads it.
    let writes = writers_while_playing(&mut game, &[], "g_world");
    assert_eq!(writes["total"], 0, "{writes}");
    let reads = writers_while_playing(&mut game, &["--reads"], "g_world");
    assert_eq!(reads["access"], "read-write");
    let functions: Vec<&str> = reads["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["function"].as_str())
        .collect();
    assert!(functions.contains(&"add_score"), "{reads}");
}

#[test]
fn writers_closes_the_events_of_threads_that_ended() {
    if skip_unless_root(
        "writers_closes_the_events_of_threads_that_ended",
        "perf breakpoints on another process need root or CAP_PERFMON",
    ) || !crate::util::have_program("prlimit")
    {
        return;
    }
    let churn = Fixture::spawn(&fixture("churn", "", &[]), &[]);
    let place = format!("{:#x}:u64", churn.addr("value"));
    let pid = churn.pid.to_string();
    // About five threads live at a time; thousands start during the run.
    // Holding the events of ended threads would use up 48 descriptors
    // within a second and refuse every later thread.
    let out = Command::new("prlimit")
        .args(["--nofile=48:48", "--"])
        .arg(pvtui_bin())
        .args(["writers", "--pid", &pid, "--seconds", "3", "--json", &place])
        .output()
        .expect("run pvtui under prlimit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("no hardware breakpoints on this machine") {
        eprintln!("skipped: no breakpoint PMU here: {stderr}");
        return;
    }
    assert!(out.status.success(), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(report["refused"], json!([]), "{report}");
}

#[test]
fn pointers_from_a_fifo_or_dev_zero_is_refused_at_once() {
    if skip_unless_root(
        "pointers_from_a_fifo_or_dev_zero_is_refused_at_once",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    let fifo = std::env::temp_dir().join(format!("pvtui-fifo-{}.ptr", game.pid));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Before the fix a FIFO blocked forever and /dev/zero read until memory ran out.
    for from in [fifo.to_str().expect("utf-8"), "/dev/zero", "/"] {
        let out = Command::new("timeout")
            .args(["20", pvtui_bin(), "pointers", "--pid", &pid, "--from", from])
            .output()
            .expect("run pvtui");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{from}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{from}: {stderr}");
    }
    let _ = std::fs::remove_file(&fifo);
}

#[test]
fn pointers_that_find_nothing_leave_the_save_file_as_it_was() {
    if skip_unless_root(
        "pointers_that_find_nothing_leave_the_save_file_as_it_was",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    let file = std::env::temp_dir().join(format!("pvtui-keep-{}.ptr", game.pid));
    let path = file.to_str().expect("utf-8");
    let (ok, _, stderr) = save_chains(&game, path);
    assert!(ok, "{stderr}");
    let saved = std::fs::read(&file).expect("chains saved");
    // Nothing points at address 0: the scan fails and must not empty the file.
    let (ok, _, stderr) = pvtui(&["pointers", "--pid", &pid, "--save", path, "0:u32"]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("not written"), "{stderr}");
    assert_eq!(std::fs::read(&file).expect("still there"), saved);
    // Nor a re-check, into the same file, that keeps no chain.
    let (ok, _, stderr) = pvtui(&[
        "pointers", "--pid", &pid, "--from", path, "--save", path, "0x10:u32",
    ]);
    assert!(!ok, "{stderr}");
    assert_eq!(std::fs::read(&file).expect("still there"), saved);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn pointers_and_shared_escape_invisible_characters_in_module_names() {
    if skip_unless_root(
        "pointers_and_shared_escape_invisible_characters_in_module_names",
        "attaching to a fixture",
    ) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pvtui-rlo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // A right-to-left override makes a terminal show the rest of a line reversed.
    let exe = dir.join("g\u{202e}ame");
    let copied = Command::new("cp")
        .arg(fixture("game", "", &[]))
        .arg(&exe)
        .status()
        .expect("cp");
    assert!(copied.success());
    let game = Fixture::spawn(&exe, &[]);
    let pid = game.pid.to_string();
    let score = score_at(&game);
    let (ok, lines, stderr) = pvtui(&["pointers", "--pid", &pid, &score]);
    assert!(ok, "{stderr}");
    let (ok, shared, stderr) = pvtui(&["shared", "--pid", &pid, "--every-object"]);
    assert!(ok, "{stderr}");
    for (what, text) in [
        ("pointers", lines.join("\n")),
        ("shared", shared.join("\n")),
    ] {
        assert!(!text.contains('\u{202e}'), "{what}: {text}");
        assert!(text.contains("g\\u{202e}ame"), "{what}: {text}");
    }
    drop(game);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn freeze_does_not_count_its_first_write_as_the_target_changing_the_value() {
    if skip_unless_root(
        "freeze_does_not_count_its_first_write_as_the_target_changing_the_value",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    // Nobody else writes the score (auto is off): the hold sets it once and
    // then finds it as it left it every time.
    let score = score_at(&game);
    let (ok, lines, stderr) = freeze_json(&pid, "0.3", "20", &score, "4242");
    assert!(ok, "{stderr}");
    let done = json_lines(&lines).pop().expect("summary");
    assert!(done["rewrites"].as_u64().unwrap_or(0) >= 2, "{done}");
    assert_eq!(done["restored"].as_u64(), Some(0), "{done}");
}

/// FNV-1a, the chain file's checksum: resealing an edited file.
fn reseal_chains(text: &str) -> String {
    let (_, body) = text.split_once('\n').expect("header line");
    let body = body.strip_suffix('\n').unwrap_or(body);
    let sum = body.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("pvtui-pointers 1 {sum:016x}\n{body}\n")
}

#[test]
fn pointers_refuses_a_resealed_chain_file_with_an_edited_type() {
    if skip_unless_root(
        "pointers_refuses_a_resealed_chain_file_with_an_edited_type",
        "attaching to a fixture",
    ) {
        return;
    }
    let game = game(&[]);
    let pid = game.pid.to_string();
    let file = std::env::temp_dir().join(format!("pvtui-edited-{}.ptr", game.pid));
    let path = file.to_str().expect("utf-8");
    let (ok, _, stderr) = save_chains(&game, path);
    assert!(ok, "{stderr}");
    let text = std::fs::read_to_string(&file).expect("saved");
    assert!(text.contains("\"ty\": \"u32\""), "{text}");
    // The type is printed in every chain's expression; an edited one must
    // not reach the terminal as an escape or name a type pvtui cannot read.
    let edited = reseal_chains(&text.replace("\"ty\": \"u32\"", "\"ty\": \"u32\\u001b[2J\""));
    std::fs::write(&file, edited).expect("edit");
    let (ok, lines, stderr) = pvtui(&["pointers", "--pid", &pid, "--from", path]);
    assert!(!ok, "{lines:?}");
    assert!(lines.is_empty(), "{lines:?}");
    assert!(stderr.contains("is not a type"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn freeze_on_a_page_that_stalls_writes_ends_instead_of_piling_up_writes() {
    if skip_unless_root(
        "freeze_on_a_page_that_stalls_writes_ends_instead_of_piling_up_writes",
        "a userfaultfd region in a fixture needs root here",
    ) {
        return;
    }
    let target = Fixture::spawn(&fixture("target", "", &[]), &[]);
    if target.var("uffd").starts_with("unavailable") {
        eprintln!("skipped: the fixture could not create a userfaultfd region");
        return;
    }
    let place = format!("{:#x}:u64", target.addr("uffd"));
    let pid = target.pid.to_string();
    // Nobody serves the page's faults: each write waits on it. Before the
    // fix every tick issued another one, left pending to land later.
    let (ok, lines, stderr) = freeze_json(&pid, "30", "10", &place, "5");
    assert!(!ok, "{lines:?} {stderr}");
    let events = json_lines(&lines);
    let done = events.last().expect("summary");
    assert_eq!(done["event"], "done", "{events:?}");
    assert_eq!(done["rewrites"].as_u64(), Some(1), "{done}");
    assert_eq!(done["failed"].as_u64(), Some(1), "{done}");
    assert!(
        done["why"].as_str().is_some_and(|w| w.contains("stalled")),
        "{done}"
    );
}

#[test]
fn writers_lists_only_live_threads_as_refused_under_churn() {
    if skip_unless_root(
        "writers_lists_only_live_threads_as_refused_under_churn",
        "perf breakpoints on another process need root or CAP_PERFMON",
    ) {
        return;
    }
    // Threads of 50 ms: about fifty live at a time, hundreds seen per run.
    let churn = Fixture::spawn(&fixture("churn", "", &[]), &["50"]);
    let place = format!("{:#x}:u64", churn.addr("value"));
    let pid = churn.pid.to_string();
    // Five runs at once want five breakpoints per thread; x86 has four, so
    // some run is refused on most new threads, which end within milliseconds.
    let runs: Vec<_> = (0..5)
        .map(|_| {
            Command::new(pvtui_bin())
                .args(["writers", "--pid", &pid, "--seconds", "3", "--json", &place])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run pvtui writers")
        })
        .collect();
    let mut total = 0;
    for run in runs {
        let out = run.wait_with_output().expect("pvtui writers");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("no hardware breakpoints on this machine") {
            eprintln!("skipped: no breakpoint PMU here: {stderr}");
            return;
        }
        if !out.status.success() {
            // Refused on every thread it looked at: a clear JSON error, not a report.
            assert!(stdout.contains("breakpoint"), "{stdout}{stderr}");
            continue;
        }
        let report: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        let listed = report["refused"].as_array().map_or(0, Vec::len) as u64;
        let refused = report["refused_total"].as_u64().expect("refused_total");
        assert!(listed <= refused, "{report}");
        // About fifty threads live at a time; many more end during the run.
        assert!(listed < 100, "{listed} of {refused} refused threads listed");
        total += refused;
    }
    eprintln!("{total} threads refused over the five runs");
}

#[test]
fn pointers_save_never_replaces_a_device_node() {
    if skip_unless_root(
        "pointers_save_never_replaces_a_device_node",
        "mknod and attaching to a fixture need root",
    ) {
        return;
    }
    let game = game(&[]);
    let node = std::env::temp_dir().join(format!("pvtui-null-{}", game.pid));
    let _ = std::fs::remove_file(&node);
    // A copy of /dev/null: `--save /dev/null` must not replace the real one.
    let made = Command::new("mknod")
        .arg(&node)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(made.success());
    let path = node.to_str().expect("utf-8");
    let (ok, _, stderr) = save_chains(&game, path);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("not replaced"), "{stderr}");
    let meta = std::fs::symlink_metadata(&node).expect("node");
    assert!(!meta.file_type().is_file(), "the device node became a file");
    let _ = std::fs::remove_file(&node);
}

#[test]
fn writers_says_its_count_is_a_lower_bound_when_threads_were_found_late() {
    if skip_unless_root(
        "writers_says_its_count_is_a_lower_bound_when_threads_were_found_late",
        "perf breakpoints on another process need root or CAP_PERFMON",
    ) {
        return;
    }
    // A thread every millisecond, each living 10 ms: most start and end
    // between two looks at the thread list.
    let churn = Fixture::spawn(&fixture("churn", "", &[]), &["10"]);
    let place = format!("{:#x}:u64", churn.addr("value"));
    let pid = churn.pid.to_string();
    let (ok, lines, stderr) =
        pvtui(&["writers", "--pid", &pid, "--seconds", "1", "--json", &place]);
    if stderr.contains("no hardware breakpoints on this machine") {
        eprintln!("skipped: no breakpoint PMU here: {stderr}");
        return;
    }
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(&lines.join("\n")).expect("one JSON object");
    let late = report["threads_late"].as_u64().expect("threads_late");
    assert!(late > 0, "{report}");
    assert_eq!(report["lower_bound"], true, "{report}");
    let (ok, lines, stderr) = pvtui(&["writers", "--pid", &pid, "--seconds", "0.5", &place]);
    assert!(ok, "{stderr}");
    let text = lines.join("\n");
    assert!(text.contains("so the count is a lower bound"), "{text}");
}

//! The value hunter's tools against the "game" fixture: who writes the score
//! (hardware breakpoints, the game never stops), pointer chains to it that
//! survive a restart, and holding it from the command line.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{Fixture, fixture, pvtui_bin, skip_unless_root};

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
    let child = Command::new(pvtui_bin())
        .args(["writers", "--json", "--seconds", "2", "--pid", &pid, &expr])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui writers");
    let mut child = child;
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
    let out = child.wait_with_output().expect("pvtui output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("no hardware breakpoints") {
        eprintln!("SKIPPED writers test: {}", stderr.trim());
        return;
    }
    assert!(out.status.success(), "pvtui writers failed: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let hits = report["hits"].as_array().expect("hits");
    let add_score = hits
        .iter()
        .find(|h| h["function"] == "add_score")
        .unwrap_or_else(|| panic!("no hit in add_score: {report}"));
    assert!(add_score["count"].as_u64().unwrap_or(0) >= 1, "{report}");
    assert_eq!(add_score["module"], "game", "{report}");
    assert_eq!(add_score["tids"][0].as_u64(), Some(game.pid as u64));
    // Nothing else writes the score.
    assert!(
        hits.iter().all(|h| h["function"] == "add_score"),
        "{report}"
    );
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
    let total = report["total"].as_u64().expect("total");
    assert!(score >= total, "score {score} below {total} writes seen");
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

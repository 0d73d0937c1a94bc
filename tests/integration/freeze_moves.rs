//! A freeze through pointers follows the path when the target repoints it:
//! the place the target left is never written again.

use std::sync::mpsc::channel;
use std::time::Duration;

use pvtui::expr::parse_watch;
use pvtui::poller::{Command as PollerCommand, Poller, PollerEvent, PollerOptions, WatchId};
use pvtui::session::Session;
use serde_json::Value;

use crate::util::{Fixture, PATIENCE, fixture, skip_unless_root, start_freeze_json};

fn game() -> Fixture {
    Fixture::spawn(&fixture("game", "", &[]), &[])
}

/// The score through the game's own pointers: `g_world->level->box->score`.
fn score_expr(game: &Fixture) -> String {
    format!(
        "*(*(*g_world+{})+{})+{}:u32",
        game.number("level_off"),
        game.number("box_off"),
        game.number("score_off")
    )
}

/// `(score, old)` from the game's `show` after a `move`: the live box's
/// score and what was written into the old box since the tick before.
fn show_moved(game: &mut Fixture) -> (u64, u64) {
    game.send("show");
    let line = game.expect_line("score=");
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(name)?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    (field("score="), field("old="))
}

/// Moves the box; the new score's address.
fn move_box(game: &mut Fixture) -> u64 {
    game.send("move");
    let line = game.expect_line("moved box=");
    let at = line
        .trim_start_matches("moved box=")
        .trim_start_matches("0x");
    u64::from_str_radix(at, 16).expect("a box address") + game.number("score_off")
}

/// Until the live score reads 777 (the hold reached the new box), then a
/// few more ticks: the old box must stay unwritten. `running` says whether
/// the hold is still on.
fn assert_held_at_the_new_box(game: &mut Fixture, mut running: impl FnMut() -> bool) {
    let mut seen = Vec::new();
    loop {
        assert!(
            running(),
            "the hold ended before the new box read 777: {seen:?}"
        );
        let (score, old) = show_moved(game);
        seen.push((score, old));
        if score == 777 {
            break;
        }
    }
    // A write to the old place made before the hold followed the move was
    // wiped by the game's next tick; any later one shows here.
    for _ in 0..20 {
        let (score, old) = show_moved(game);
        assert_eq!(old, 0, "the old box was written after the move: {seen:?}");
        assert_eq!(score, 777, "the new box escaped the hold: {seen:?}");
    }
}

#[test]
fn freeze_through_pointers_follows_a_repointed_path_and_never_writes_the_old_place() {
    if skip_unless_root(
        "freeze_through_pointers_follows_a_repointed_path_and_never_writes_the_old_place",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut game = game();
    let pid = game.pid.to_string();
    let expr = score_expr(&game);
    let (mut child, mut lines) = start_freeze_json(&pid, &expr, "777", "30");
    let mut next_json = || -> Value {
        let line = lines.next().expect("a line").expect("utf-8");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    let holding = next_json();
    assert_eq!(holding["event"], "holding", "{holding}");
    let new_score = move_box(&mut game);
    let moved = next_json();
    assert_eq!(moved["event"], "moved", "{moved}");
    assert_eq!(moved["address"], format!("{new_score:#x}"), "{moved}");
    assert_held_at_the_new_box(&mut game, || child.try_wait().expect("wait").is_none());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn tui_freeze_through_pointers_follows_a_repointed_path() {
    if skip_unless_root(
        "tui_freeze_through_pointers_follows_a_repointed_path",
        "writing a fixture's memory",
    ) {
        return;
    }
    let mut game = game();
    let session = Session::attach(game.pid, Duration::from_secs(1)).expect("attach");
    let (tx, rx) = channel();
    let options = PollerOptions {
        interval: Duration::from_millis(2),
        ..PollerOptions::default()
    };
    let poller = Poller::start(session, options, move |e| tx.send(e).is_ok()).expect("poller");
    let id = WatchId(1);
    let watch = parse_watch(&score_expr(&game)).expect("parses");
    poller.send(PollerCommand::AddWatches(vec![(id, watch)]));
    let first = loop {
        if let PollerEvent::Snapshot(s) = rx.recv_timeout(PATIENCE).expect("a snapshot")
            && let Some(addr) = s.watches.first().and_then(|w| w.address)
        {
            break addr;
        }
    };
    poller.send(PollerCommand::Freeze {
        watch: id,
        addr: first,
        len: 4,
        bytes: Some(777u32.to_le_bytes().to_vec()),
        mask: None,
    });
    loop {
        if let PollerEvent::Frozen { watch, result } = rx.recv_timeout(PATIENCE).expect("frozen") {
            assert_eq!(watch, id);
            assert!(result.is_ok(), "{result:?}");
            break;
        }
    }
    let new_score = move_box(&mut game);
    // The watch itself follows the move; the hold goes with it.
    let mut errors = Vec::new();
    loop {
        if let PollerEvent::Snapshot(s) = rx.recv_timeout(PATIENCE).expect("a snapshot") {
            errors.extend(s.freeze_errors);
            if s.watches.first().and_then(|w| w.address) == Some(new_score) {
                break;
            }
        }
    }
    // Bounded by rounds, not time: the hold follows within a few ticks.
    let mut rounds = 0;
    assert_held_at_the_new_box(&mut game, || {
        rounds += 1;
        rounds < 5000
    });
    assert!(errors.is_empty(), "{errors:?}");
    drop(poller);
}

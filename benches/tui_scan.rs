//! A value scan typed into the UI against the same scan from the command
//! line, on one target: a `haystack` fixture of pseudo-random bytes (2 GiB
//! unless `PVTUI_BENCH_SIZE` says otherwise), scanned for a u8, so about one
//! byte in 256 is a place. The UI runs its real loop on a `TestBackend`
//! with its poller; the time runs from the Enter that starts the scan to the
//! frame that shows it finished.
//!
//! `cargo bench --bench tui_scan`

#[path = "../tests/integration/util.rs"]
mod util;

use std::process::Command;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pvtui::session::{DEFAULT_DEADLINE, Session};
use pvtui::tui::app::AppOptions;
use pvtui::tui::keys::KeyMap;
use pvtui::tui::theme::Theme;
use pvtui::tui::{Event, Tui, run_until};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROUNDS: usize = 3;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE), Instant::now())
}

fn tui_scan(pid: i32, line: &str) -> (Duration, u64) {
    let session = Session::attach(pid, DEFAULT_DEADLINE).expect("attach");
    let options = AppOptions {
        pid,
        name: session.name().to_string(),
        access: session.access(),
        interval: Duration::from_millis(100),
        theme: Theme::fallback(),
        keys: KeyMap::default(),
        spawned: false,
    };
    let mut tui = Tui::start(session, options, Vec::new()).expect("tui");
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    for event in [key(KeyCode::Char('4')), key(KeyCode::Char('/'))] {
        tui.app.update(event);
    }
    for c in line.chars() {
        tui.app.update(key(KeyCode::Char(c)));
    }
    // Let the first maps arrive before the scan starts.
    run_until(
        &mut terminal,
        &mut tui.app,
        &tui.events,
        Duration::from_secs(10),
        |app| app.poll.tick > 0,
    )
    .expect("first tick");
    let started = Instant::now();
    tui.app.update(key(KeyCode::Enter));
    let done = run_until(
        &mut terminal,
        &mut tui.app,
        &tui.events,
        Duration::from_secs(300),
        |app| app.search.summary.is_some(),
    )
    .expect("run");
    assert!(done, "the scan did not finish");
    (started.elapsed(), tui.app.search.found)
}

fn cli_scan(pid: i32, ty: &str, value: &str) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_pvtui"))
        .args(["scan", "--pid", &pid.to_string(), "--type", ty, value])
        .output()
        .expect("run pvtui scan");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    let size = std::env::var("PVTUI_BENCH_SIZE").unwrap_or_else(|_| "2G".into());
    let bin = util::fixture("haystack", "", &[]);
    let fx = util::Fixture::spawn(
        &bin,
        &["--size", &size, "--marks", "0", "--values", "0", "--quiet"],
    );
    println!("u8 scan for 7 over a {size} haystack (pid {})", fx.pid);
    for round in 1..=ROUNDS {
        let cli = cli_scan(fx.pid, "u8", "7");
        let (tui, found) = tui_scan(fx.pid, "u8 7");
        println!(
            "  round {round}: cli {:.2} s · tui {:.2} s ({found} places)",
            cli.as_secs_f64(),
            tui.as_secs_f64()
        );
    }
}

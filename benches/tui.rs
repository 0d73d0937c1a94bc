//! The UI under load, driven through its real event loop on a `TestBackend`
//! against a real target with 1,000 watches, 100 of them on a page registered
//! with a userfaultfd that nobody serves (a read that faults it in would wait
//! forever):
//!
//! 1. input-to-frame latency (from the moment a key is read to the end of the
//!    frame that shows it), p50 and p99, polling at 10 Hz;
//! 2. the same with searches of the target's memory running back to back;
//! 3. idle CPU of the whole UI process (loop, poller, workers) polling the
//!    1,000 watches at 10 Hz, as a share of one core.
//!
//! `cargo bench --bench tui` (needs root for the userfaultfd, and `cc`).

#[path = "../tests/integration/util.rs"]
mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pvtui::expr::Status;
use pvtui::process::Target;
use pvtui::search::{Query, SearchOptions};
use pvtui::session::{DEFAULT_DEADLINE, Session};
use pvtui::tui::app::AppOptions;
use pvtui::tui::keys::KeyMap;
use pvtui::tui::theme::Theme;
use pvtui::tui::{Event, Tui, run_until};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const KEYS: usize = 400;
const KEY_EVERY: Duration = Duration::from_millis(20);
const IDLE_FOR: Duration = Duration::from_secs(10);

fn watches(fx: &util::Fixture) -> Vec<String> {
    let known = fx.addr("known");
    let uffd = fx.addr("uffd");
    let mut list: Vec<String> = (0..900u64)
        .map(|i| format!("{:#x}:u64", known + (i * 8) % 8192))
        .collect();
    list.extend((0..100u64).map(|i| format!("{:#x}:u64", uffd + i * 8)));
    list
}

fn tui(fx: &util::Fixture) -> (Tui, Arc<Target>) {
    let target = Arc::new(Target::attach(fx.pid).expect("attach"));
    let options = AppOptions {
        pid: fx.pid,
        name: target.name().to_string(),
        access: target.access(),
        interval: Duration::from_millis(100),
        theme: Theme::fallback(),
        keys: KeyMap::default(),
        spawned: false,
    };
    let session = Session::over(Arc::clone(&target), DEFAULT_DEADLINE).expect("session");
    let tui = Tui::start(session, options, watches(fx)).expect("tui");
    (tui, target)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sends `KEYS` keys (down, up, ...) into the loop and returns the latencies.
fn measure_latency(fx: &util::Fixture, with_search: bool) -> Vec<Duration> {
    let (mut s, target) = tui(fx);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    // Let the first readings arrive and check what the watches say.
    run_until(
        &mut terminal,
        &mut s.app,
        &s.events,
        util::PATIENCE,
        |app| app.watches.rows.iter().all(|w| w.status.is_some()),
    )
    .expect("loop");
    let stalled = s
        .app
        .watches
        .rows
        .iter()
        .filter(|w| matches!(w.status, Some(Status::NotResident | Status::Stalled)))
        .count();
    let ok = s
        .app
        .watches
        .rows
        .iter()
        .filter(|w| w.value.is_some())
        .count();
    println!("  watches: {ok} read, {stalled} not resident or stalled (the userfaultfd page)");

    let stop = Arc::new(AtomicBool::new(false));
    let searcher = with_search.then(|| {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut searches = 0u64;
            let Ok(mut session) = Session::over(target, DEFAULT_DEADLINE) else {
                return searches;
            };
            while !stop.load(Ordering::Relaxed) {
                let Ok(maps) = session.reload().cloned() else {
                    break;
                };
                let query = Query::Regex("[a-z]{6,}[0-9]".into());
                let Ok(job) = session
                    .searches()
                    .search(&maps, &query, SearchOptions::default())
                else {
                    break;
                };
                job.collect();
                searches += 1;
            }
            searches
        })
    });

    let tx = s.sender.clone();
    let sender = std::thread::spawn(move || {
        for i in 0..KEYS {
            let code = if i % 2 == 0 {
                KeyCode::Down
            } else {
                KeyCode::Up
            };
            let key = KeyEvent::new(code, KeyModifiers::NONE);
            if tx.send(Event::Key(key, Instant::now())).is_err() {
                return;
            }
            std::thread::sleep(KEY_EVERY);
        }
    });
    s.app.latencies.clear();
    run_until(
        &mut terminal,
        &mut s.app,
        &s.events,
        Duration::from_secs(60),
        |app| app.latencies.len() >= KEYS,
    )
    .expect("loop");
    let _ = sender.join();
    stop.store(true, Ordering::Relaxed);
    if let Some(searcher) = searcher {
        let searches = searcher.join().unwrap_or(0);
        println!("  searches completed meanwhile: {searches}");
    }
    s.app.latencies.iter().copied().collect()
}

/// User + system CPU time of this whole process, threads that ended included
/// (`/proc/self/stat` fields 14 and 15, in clock ticks).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    let after_comm = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<u64> = after_comm
        .split(' ')
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    // Fields 14 and 15 of the whole line are 11 and 12 after the comm.
    Duration::from_nanos((fields[11] + fields[12]) * 1_000_000_000 / ticks)
}

fn main() {
    if !util::is_root() {
        println!("SKIPPED: the userfaultfd page needs root");
        return;
    }
    let bin = util::fixture("target", "", &[]);
    let fx = util::Fixture::spawn(&bin, &[]);
    if fx.vars.get("uffd").is_none_or(|v| !v.starts_with("0x")) {
        println!("SKIPPED: no userfaultfd here: {:?}", fx.vars.get("uffd"));
        return;
    }
    println!(
        "pvtui UI benchmark: 1,000 watches (100 on a never-served userfaultfd page), 10 Hz, 120x40 frame"
    );
    for (label, search) in [("without search", false), ("with searches running", true)] {
        println!("input-to-frame latency, {label}:");
        let mut samples = measure_latency(&fx, search);
        samples.sort();
        println!(
            "  {} keys: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (goal: p99 <= 16 ms)",
            samples.len(),
            ms(percentile(&samples, 50)),
            ms(percentile(&samples, 99)),
            ms(*samples.last().unwrap_or(&Duration::ZERO))
        );
    }

    println!(
        "idle CPU polling 1,000 watches at 10 Hz for {} s:",
        IDLE_FOR.as_secs()
    );
    let (mut s, _target) = tui(&fx);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    run_until(
        &mut terminal,
        &mut s.app,
        &s.events,
        Duration::from_secs(2),
        |_| false,
    )
    .expect("loop");
    let ticks_before = s.app.poll.tick;
    let (wall, cpu) = (Instant::now(), cpu_time());
    run_until(&mut terminal, &mut s.app, &s.events, IDLE_FOR, |_| false).expect("loop");
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    println!(
        "  {:.2}% of one core ({:.0} ms CPU in {:.1} s, {} ticks, last tick's reads {:.2} ms) (goal: <= 2%)",
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        ms(cpu),
        wall.as_secs_f64(),
        s.app.poll.tick - ticks_before,
        ms(s.app.poll.took)
    );
}

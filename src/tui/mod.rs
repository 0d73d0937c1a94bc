//! The terminal user interface.
//!
//! - [`event`]: the one event enum, and the threads that feed it.
//! - [`app`]: the state, and `update` (how an event changes it).
//! - [`view`]: `draw(&App)`, which renders and never mutates.
//! - [`layout`]: where each part sits on the screen, read by both.
//! - [`terminal`]: raw mode and the alternate screen, restored on exit,
//!   panic and signals.
//!
//! The loop is `receive → update → draw`, generic over the ratatui backend,
//! so tests drive the real loop on a `TestBackend`.

pub mod app;
pub mod config;
pub mod event;
pub mod files;
pub mod hunt;
pub mod input;
pub mod keys;
pub mod layout;
pub mod search;
pub mod terminal;
pub mod theme;
pub mod view;

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::Backend;

pub use app::{App, AppOptions};
pub use event::Event;

use crate::error::{Error, Result};
use crate::poller::{Poller, PollerOptions};
use crate::session::Session;

/// How often the screen is redrawn with no event (highlights fade).
const IDLE_REDRAW: Duration = Duration::from_millis(250);
/// Most events handled before a frame is drawn, so a flood cannot starve input.
const BATCH: usize = 512;
/// Latency samples kept.
const LATENCY_SAMPLES: usize = 10_000;

fn terminal_error(e: impl std::fmt::Display) -> Error {
    Error::Io {
        what: "the terminal".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Runs the loop until the app quits or every event sender is gone.
pub fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &Receiver<Event>,
) -> Result<()> {
    run_until(terminal, app, events, Duration::MAX, |_| false).map(|_| ())
}

/// Runs the loop until `done(app)` holds after a frame (true), the app quits
/// or `timeout` passes (false). Tests use it to wait for what the screen shows.
pub fn run_until<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &Receiver<Event>,
    timeout: Duration,
    mut done: impl FnMut(&App) -> bool,
) -> Result<bool> {
    let until = Instant::now().checked_add(timeout);
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }
    {
        let _frame = terminal::drawing();
        terminal
            .draw(|f| view::draw(f, app))
            .map_err(terminal_error)?;
    }
    loop {
        if done(app) {
            return Ok(true);
        }
        if app.quit {
            return Ok(false);
        }
        let wait = match until {
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                left.min(IDLE_REDRAW)
            }
            None => IDLE_REDRAW,
        };
        let mut keys_at = Vec::new();
        match events.recv_timeout(wait) {
            Ok(event) => {
                if matches!(event, Event::Redraw) {
                    // What ratatui thinks is on screen is gone: start afresh.
                    terminal.clear().map_err(terminal_error)?;
                }
                note_key(&event, &mut keys_at);
                app.update(event);
                for _ in 0..BATCH {
                    match events.try_recv() {
                        Ok(event) => {
                            if matches!(event, Event::Redraw) {
                                terminal.clear().map_err(terminal_error)?;
                            }
                            note_key(&event, &mut keys_at);
                            app.update(event);
                        }
                        Err(_) => break,
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(false),
        }
        {
            let _frame = terminal::drawing();
            terminal
                .draw(|f| view::draw(f, app))
                .map_err(terminal_error)?;
        }
        let drawn = Instant::now();
        for at in keys_at {
            if app.latencies.len() == LATENCY_SAMPLES {
                app.latencies.pop_front();
            }
            app.latencies.push_back(drawn.saturating_duration_since(at));
        }
    }
}

fn note_key(event: &Event, keys_at: &mut Vec<Instant>) {
    if let Event::Key(_, at) = event {
        keys_at.push(*at);
    }
}

/// Everything the UI needs, wired together: the poller over the
/// target, and the app with its event channel.
pub struct Tui {
    pub app: App,
    pub events: Receiver<Event>,
    /// Feeds the same channel: input, output forwarding, signals, tests.
    pub sender: Sender<Event>,
    pub poller: Poller,
}

impl Tui {
    /// Starts polling the session's target and builds the app. `watches`
    /// are added once the first maps arrive.
    pub fn start(session: Session, options: AppOptions, watches: Vec<String>) -> Result<Tui> {
        let (tx, rx) = channel();
        let poller_tx = tx.clone();
        let searches = session.searches();
        let hunts = session.hunts();
        let poller = Poller::start(
            session,
            PollerOptions {
                interval: options.interval,
                read_deadline: (options.interval / 2)
                    .clamp(Duration::from_millis(5), Duration::from_millis(200)),
            },
            move |e| poller_tx.send(Event::Poller(e)).is_ok(),
        )?;
        let commands = poller
            .sender()
            .ok_or_else(|| Error::Internal("the poller stopped during start-up".into()))?;
        let mut app = App::new(options, commands);
        app.searcher = Some(search::Searcher::new(searches, tx.clone()));
        app.events = Some(tx.clone());
        app.hunter = Some(hunt::Hunter::new(hunts, tx.clone()));
        app.queue_watches(watches);
        Ok(Tui {
            app,
            events: rx,
            sender: tx,
            poller,
        })
    }

    /// Runs the UI in the real terminal until the user quits.
    /// Returns the exit status: 0, or 128 + the signal that ended it.
    pub fn run_in_terminal(mut self) -> Result<std::process::ExitCode> {
        terminal::forward_signals(self.sender.clone())?;
        let mut guard = terminal::TerminalGuard::enter()?;
        let _input = event::InputThread::spawn(self.sender.clone()).map_err(|e| Error::Io {
            what: "reading terminal input".into(),
            source: e,
        })?;
        let result = run(guard.terminal(), &mut self.app, &self.events);
        drop(guard);
        // The poller is joined here: freezes stop with it.
        drop(self.poller);
        result?;
        Ok(match self.app.quit_signal {
            Some(signal) => std::process::ExitCode::from(128u8.saturating_add(signal as u8)),
            None => std::process::ExitCode::SUCCESS,
        })
    }
}

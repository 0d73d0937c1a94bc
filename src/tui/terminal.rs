//! The real terminal: raw mode, the alternate screen and mouse capture, and
//! the guarantee that they are undone on every way out — a normal exit, an
//! error, a panic (a hook restores before the message prints) and SIGINT,
//! SIGTERM or SIGHUP (blocked in every thread and taken by one thread with
//! sigwait(2), which asks the loop to quit; a second signal restores and exits).

use std::io::{Stdout, Write, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use crossterm::ExecutableCommand;
use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use nix::sys::signal::{SigSet, Signal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::error::{Error, Result};
use crate::tui::event::Event;

/// Whether the terminal is in pvtui's mode, so restoring happens once.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Puts the terminal back as it was; safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = stdout();
        let _ = out.execute(DisableMouseCapture);
        let _ = out.execute(LeaveAlternateScreen);
        let _ = out.execute(Show);
        let _ = disable_raw_mode();
    }
}

/// The terminal in raw mode on the alternate screen; restored on drop.
pub struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    pub fn enter() -> Result<TerminalGuard> {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        let err = |source: std::io::Error| Error::Io {
            what: "setting up the terminal".into(),
            source,
        };
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = || -> std::io::Result<Terminal<CrosstermBackend<Stdout>>> {
            enable_raw_mode()?;
            let mut out = stdout();
            out.execute(EnterAlternateScreen)?;
            out.execute(EnableMouseCapture)?;
            let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
            terminal.clear()?;
            Ok(terminal)
        };
        match setup() {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(err(e))
            }
        }
    }

    pub fn terminal(&mut self) -> &mut Terminal<CrosstermBackend<Stdout>> {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn quit_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set
}

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and so in every
/// thread it starts afterwards. Call it first, before any thread exists.
/// (Children started with `std::process::Command` get a clean mask.)
pub fn block_signals() -> Result<()> {
    quit_signals().thread_block().map_err(|e| Error::Kernel {
        call: "pthread_sigmask",
        source: e.into(),
    })
}

/// Takes the blocked quit signals on a thread of their own and turns the
/// first into [`Event::Signal`]; a second one restores the terminal and exits
/// at once, should the loop not answer.
pub fn forward_signals(tx: Sender<Event>) -> Result<()> {
    std::thread::Builder::new()
        .name("pvtui-signals".into())
        .spawn(move || {
            let set = quit_signals();
            let mut seen = 0;
            loop {
                let Ok(signal) = set.wait() else { return };
                seen += 1;
                if seen > 1 || tx.send(Event::Signal(signal)).is_err() {
                    restore();
                    // The terminal may be gone (SIGHUP): a failed write must not stop the exit.
                    let _ = writeln!(std::io::stderr(), "pvtui: {}", signal.as_str());
                    std::process::exit(128 + signal as i32);
                }
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Internal(format!("cannot start the signal thread: {e}")))
}

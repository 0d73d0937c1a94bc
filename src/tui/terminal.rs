//! The real terminal: raw mode, the alternate screen and mouse capture, and
//! the guarantee that they are undone on every way out — a normal exit, an
//! error, a panic (a hook restores before the message prints) and SIGINT,
//! SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 or SIGUSR2 (blocked in every thread and
//! taken by one thread with sigwait(2), which asks the loop to quit; a second
//! signal restores and exits). SIGTSTP (Ctrl-Z) restores the terminal and
//! stops; on SIGCONT (`fg`) raw mode, the alternate screen and the mouse come
//! back and the screen is drawn anew. Without a terminal on stdout nothing
//! is set up and no escape code is written.

use std::io::{IsTerminal, Stdout, Write, stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, MutexGuard, Once};

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

/// Raw mode, the alternate screen and the mouse, as the UI runs.
fn enter_mode() -> std::io::Result<()> {
    enable_raw_mode()?;
    let mut out = stdout();
    out.execute(EnterAlternateScreen)?;
    out.execute(EnableMouseCapture)?;
    Ok(())
}

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
        if !stdout().is_terminal() {
            // Escape codes would land in a file or a pipe: write none.
            return Err(Error::Usage(
                "the terminal UI needs a terminal on stdout (for scripts: pvtui read, watch, dump)"
                    .into(),
            ));
        }
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = || -> std::io::Result<Terminal<CrosstermBackend<Stdout>>> {
            enter_mode()?;
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

/// The signals that end the UI cleanly.
const QUIT_SIGNALS: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

fn quit_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in QUIT_SIGNALS {
        set.add(signal);
    }
    set.add(Signal::SIGTSTP);
    set
}

/// Held while a frame is drawn, and while the UI is stopped: a frame can
/// never land on the shell's screen between the restore and the stop.
static DRAWING: Mutex<()> = Mutex::new(());

/// Taken by the loop around each frame it draws.
pub fn drawing() -> MutexGuard<'static, ()> {
    DRAWING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ctrl-Z: the terminal restored, the process stopped; once continued, the
/// UI's terminal mode back and a redraw asked for.
fn suspend(tx: &Sender<Event>) {
    let _no_frames = drawing();
    let active = ACTIVE.load(Ordering::SeqCst);
    restore();
    // Stops every thread; SIGSTOP cannot be blocked. The stop may take hold
    // a moment after kill returns, so wait for the SIGCONT that ends it
    // (blocked everywhere, and any earlier one was discarded by the stop).
    let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), Signal::SIGSTOP);
    let mut cont = SigSet::empty();
    cont.add(Signal::SIGCONT);
    let _ = cont.wait();
    if active && enter_mode().is_ok() {
        ACTIVE.store(true, Ordering::SeqCst);
        let _ = tx.send(Event::Redraw);
    }
}

/// Blocks the quit signals and SIGTSTP in the calling thread and so in every
/// thread it starts afterwards. Call it first, before any thread exists.
/// (Children started with `std::process::Command` get a clean mask.)
pub fn block_signals() -> Result<()> {
    let mut set = quit_signals();
    // Taken by sigwait after a stop; blocking it does not keep it from continuing us.
    set.add(Signal::SIGCONT);
    set.thread_block().map_err(|e| Error::Kernel {
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
                if signal == Signal::SIGTSTP {
                    suspend(&tx);
                    continue;
                }
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

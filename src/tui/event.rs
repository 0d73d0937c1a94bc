//! The one event type of the UI loop, and the threads that feed it.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};

use crate::poller::PollerEvent;
use crate::tui::app::output::{LineSplitter, MAX_LINES, OutputPane};

/// Everything the UI reacts to. Input, the poller, the target's output and
/// signals all arrive here, in one channel, in order.
#[derive(Debug)]
pub enum Event {
    /// A key, with when it was read (input-to-frame latency is measured from here).
    Key(KeyEvent, Instant),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Poller(PollerEvent),
    /// The shared-memory map the `S` overlay asked for.
    Shared(Result<crate::shared::Report, String>),
    /// From the poller of another target, by its pid.
    Peer(i32, PollerEvent),
    /// A line the spawned target printed.
    TargetOutput(String),
    /// The spawned target printed lines, waiting in the app's output pane.
    TargetOutputReady,
    /// How the spawned target ended: "exited with status 0", "killed by SIGKILL".
    TargetEnded(String),
    /// The terminal was given back after a stop (Ctrl-Z, then `fg`): draw
    /// the whole screen anew.
    Redraw,
    /// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 or SIGUSR2: quit cleanly.
    Signal(nix::sys::signal::Signal),
    /// From the search job numbered by the first field.
    Search(u64, crate::tui::search::SearchUpdate),
    /// From the hunt job (pointer scan, writers watch) numbered by the first field.
    Hunt(u64, crate::session::HuntEvent),
}

/// Reads terminal input on its own thread until stopped. Dropping it asks the
/// thread to stop but does not wait: a read of a terminal that hung up can
/// spin inside crossterm and never return, and that must not keep pvtui from
/// exiting.
pub struct InputThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl InputThread {
    pub fn spawn(tx: Sender<Event>) -> std::io::Result<InputThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pvtui-input".into())
            .spawn(move || {
                use crossterm::event::{self, Event as Term, KeyEventKind};
                // Poll with a timeout so the thread sees `stop` and can be joined.
                while !flag.load(Ordering::Relaxed) {
                    match event::poll(Duration::from_millis(50)) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(_) => return,
                    }
                    let event = match event::read() {
                        // Raw mode turns Ctrl-Z into a key: stop as the
                        // terminal would have (the signal thread restores first).
                        Ok(Term::Key(key))
                            if key.code == KeyCode::Char('z')
                                && key.modifiers.contains(KeyModifiers::CONTROL)
                                && key.kind == KeyEventKind::Press =>
                        {
                            let _ = nix::sys::signal::kill(
                                nix::unistd::Pid::this(),
                                nix::sys::signal::Signal::SIGTSTP,
                            );
                            continue;
                        }
                        Ok(Term::Key(key)) if key.kind != KeyEventKind::Release => {
                            Event::Key(key, Instant::now())
                        }
                        Ok(Term::Mouse(mouse)) => Event::Mouse(mouse),
                        Ok(Term::Resize(w, h)) => Event::Resize(w, h),
                        Ok(_) => continue,
                        Err(_) => return,
                    };
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            })?;
        Ok(InputThread {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for InputThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Joined only when it has already finished.
        if let Some(thread) = self.thread.take().filter(|t| t.is_finished()) {
            let _ = thread.join();
        }
    }
}

/// Reads what a spawned target prints on `reader` (as bytes, until it
/// closes) into `output`, on a thread of its own, and wakes the UI with
/// [`Event::TargetOutputReady`] when it is not already awake. It never stops
/// reading before the end: the target must not die of a closed pipe.
pub fn forward_output<R: Read + Send + 'static>(
    mut reader: R,
    output: OutputPane,
    tx: Sender<Event>,
) {
    let _ = std::thread::Builder::new()
        .name("pvtui-target-output".into())
        .spawn(move || {
            let mut splitter = LineSplitter::default();
            let mut buf = vec![0u8; 64 * 1024];
            let mut lines = Vec::new();
            let mut listening = true;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                splitter.feed(&buf[..n], &mut lines);
                // A chunk of more lines than the ring holds keeps its last ones.
                let extra = lines.len().saturating_sub(MAX_LINES);
                lines.drain(..extra);
                if output.push_lines(&mut lines, extra as u64) && listening {
                    listening = tx.send(Event::TargetOutputReady).is_ok();
                }
            }
            lines.extend(splitter.finish());
            if output.push_lines(&mut lines, 0) && listening {
                let _ = tx.send(Event::TargetOutputReady);
            }
        });
}

//! The one event type of the UI loop, and the threads that feed it.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{KeyEvent, MouseEvent};

use crate::poller::PollerEvent;

/// Everything the UI reacts to. Input, the poller, the target's output and
/// signals all arrive here, in one channel, in order.
#[derive(Debug)]
pub enum Event {
    /// A key, with when it was read (input-to-frame latency is measured from here).
    Key(KeyEvent, Instant),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Poller(PollerEvent),
    /// A line the spawned target printed.
    TargetOutput(String),
    /// How the spawned target ended: "exited with status 0", "killed by SIGKILL".
    TargetEnded(String),
    /// SIGINT, SIGTERM or SIGHUP: quit cleanly.
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

/// Forwards each line a spawned target prints as [`Event::TargetOutput`].
/// The thread ends when the target closes its output.
pub fn forward_output<R: Read + Send + 'static>(reader: R, tx: Sender<Event>) {
    let _ = std::thread::Builder::new()
        .name("pvtui-target-output".into())
        .spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { return };
                if tx.send(Event::TargetOutput(line)).is_err() {
                    return;
                }
            }
        });
}

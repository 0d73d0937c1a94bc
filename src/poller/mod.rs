//! The poller: the one thread that owns a target's [`Session`].
//!
//! It takes [`Command`]s over a channel (add, replace and remove watches
//! under the caller's ids; write, freeze, pause, interval, hex range), polls
//! on a fixed schedule, and hands back [`PollerEvent`]s through a sink. Writes go through it, so they are ordered
//! with the reads. It sleeps to deadlines and reports how late each tick
//! started; it notices the target's exit at once through the pidfd; it ends
//! when its handle is dropped, which joins it.
//!
//! ```no_run
//! use std::time::Duration;
//! use pvtui::poller::{Poller, PollerOptions};
//! use pvtui::session::Session;
//! let session = Session::attach(1234, Duration::from_millis(50))?;
//! let poller = Poller::start(session, PollerOptions::default(), |event| {
//!     println!("{event:?}");
//!     true
//! })?;
//! drop(poller); // stops and joins the thread
//! # Ok::<(), pvtui::Error>(())
//! ```

mod freezes;
pub mod group;
mod tick;

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::{Error, Result};
use crate::expr::complete::Completion;
use crate::expr::{Diagnostic, Type, Watch, WatchReading, WatchSet, relocatable};
use crate::process::{Gap, Maps, ReadMode, ReadOutcome, Unread, WriteReport};
use crate::session::Session;

pub use crate::expr::WatchId;

/// Where an expression points, and the type a watch of it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluated {
    pub addr: u64,
    pub ty: Type,
}

/// Commands to the poller.
#[derive(Clone, Debug)]
pub enum Command {
    /// Add watches after the others (or put them in place of those with
    /// the same ids); readings come back with the caller's ids.
    AddWatches(Vec<(WatchId, Watch)>),
    /// An edited watch: same id, same place; its freeze is dropped.
    ReplaceWatch(WatchId, Watch),
    RemoveWatch(WatchId),
    /// Write bytes; the result comes back as [`PollerEvent::Wrote`] with `tag`.
    Write {
        tag: u64,
        addr: u64,
        bytes: Vec<u8>,
    },
    /// Name the variable and field at `addr`; answered by [`PollerEvent::Described`].
    Describe(u64),
    /// Name `addr` by [`crate::symbols::SymbolTable::place`]; answered by
    /// [`PollerEvent::Placed`].
    Place(u64),
    /// Complete the name at the end of `text`; answered by
    /// [`PollerEvent::Completions`].
    Complete {
        tag: u64,
        text: String,
    },
    /// Write `text` as a value of `ty` (a bitfield over the bytes around
    /// it); answered like [`Command::Write`].
    WriteValue {
        tag: u64,
        addr: u64,
        ty: Type,
        text: String,
    },
    /// Rewrite `bytes` at `addr` every tick until unfrozen; without bytes,
    /// the `len` bytes there now; with a mask, only its bits (a
    /// bitfield's). Answered by [`PollerEvent::Frozen`].
    Freeze {
        watch: WatchId,
        addr: u64,
        len: usize,
        bytes: Option<Vec<u8>>,
        mask: Option<Vec<u8>>,
    },
    Unfreeze {
        watch: WatchId,
    },
    /// Stop or resume reading (freezes keep being held).
    Pause(bool),
    Interval(Duration),
    /// The bytes the hex view shows, read every tick.
    HexRange(Option<(u64, usize)>),
    /// Read `/proc/PID/smaps` for per-region residency every few seconds.
    WantResidency(bool),
    /// Poll now rather than at the next deadline.
    PollNow,
    /// Resolve and follow a parsed watch once; answered by
    /// [`PollerEvent::Evaluated`] with `tag`.
    Evaluate {
        tag: u64,
        watch: Watch,
    },
    /// The watch list written to survive ASLR and restarts; answered by
    /// [`PollerEvent::Portable`].
    Portable {
        tag: u64,
    },
    /// Sent by the exit watcher: the pidfd became readable.
    TargetExited,
    /// Stop polling and end the thread (sent by the handle when dropped;
    /// other senders may still be alive then).
    Shutdown,
}

/// What one tick saw.
#[derive(Clone, Debug)]
#[cfg_attr(test, derive(Default))]
pub struct Snapshot {
    pub tick: u64,
    /// How late the tick started after its deadline.
    pub lateness: Duration,
    /// How long the reads took.
    pub took: Duration,
    pub watches: Vec<WatchReading>,
    pub hex: Option<ReadOutcome>,
    /// The maps, when they changed since the last snapshot.
    pub maps: Option<Maps>,
    /// Resident bytes per region start, when freshly measured.
    pub residency: Option<HashMap<u64, u64>>,
    /// Freeze rewrites done this tick, and the errors of those that failed.
    pub freeze_errors: Vec<(WatchId, String)>,
}

/// Events from the poller.
#[derive(Debug)]
pub enum PollerEvent {
    Snapshot(Box<Snapshot>),
    Wrote {
        tag: u64,
        result: Result<WriteReport>,
        /// The address's name (`module!symbol+0xOFF`), for the write log.
        place: Option<String>,
    },
    /// A freeze took hold (with the bytes it holds) or could not.
    Frozen {
        watch: WatchId,
        result: Result<(u64, Vec<u8>)>,
    },
    Evaluated {
        tag: u64,
        result: std::result::Result<Evaluated, Diagnostic>,
    },
    Portable {
        tag: u64,
        lines: Vec<String>,
    },
    Completions {
        tag: u64,
        items: Vec<Completion>,
    },
    Described {
        addr: u64,
        label: Option<String>,
    },
    /// `module!symbol+0xOFF` or `[module]+0xOFF` for `addr`; none in
    /// anonymous memory.
    Placed {
        addr: u64,
        place: Option<String>,
    },
    /// The target exited; the poller stops reading.
    Exited,
    /// The target was stopped (true) or continued (false).
    Stopped(bool),
    /// The target ran `exec`: the poller follows the new program (watches
    /// resolve again, freezes are dropped); `name` is its new name.
    Exec {
        name: String,
    },
    /// A problem worth showing that did not stop polling.
    Warning(String),
}

#[derive(Clone, Debug)]
pub struct PollerOptions {
    pub interval: Duration,
    /// How long one batch of reads may take before it is reported stalled.
    pub read_deadline: Duration,
}

impl Default for PollerOptions {
    fn default() -> Self {
        PollerOptions {
            interval: Duration::from_millis(100),
            read_deadline: Duration::from_millis(50),
        }
    }
}

/// The handle: send commands; dropping it stops and joins the thread.
pub struct Poller {
    commands: Option<Sender<Command>>,
    thread: Option<JoinHandle<()>>,
    exit_watch: Option<(OwnedFd, JoinHandle<()>)>,
}

impl Poller {
    /// Starts polling the session's target; `sink` gets each event and
    /// returns false once nobody listens, which stops the poller. The
    /// session's worker reads under `options.read_deadline`.
    pub fn start<F>(session: Session, options: PollerOptions, sink: F) -> Result<Poller>
    where
        F: FnMut(PollerEvent) -> bool + Send + 'static,
    {
        let (tx, rx) = channel();
        let (ready_tx, ready_rx) = channel::<Result<()>>();
        let exit_fd = session
            .exit_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::Kernel {
                call: "dup(pidfd)",
                source: e,
            })?;
        let thread = std::thread::Builder::new()
            .name("pvtui-poller".into())
            .spawn(move || {
                let mut state = match PollerState::new(session, options) {
                    Ok(state) => {
                        let _ = ready_tx.send(Ok(()));
                        state
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                state.run(rx, sink);
            })
            .map_err(|e| Error::Internal(format!("cannot start the poller thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Error::Internal(
                    "the poller thread ended during start-up".into(),
                ));
            }
        }
        let exit_watch = spawn_exit_watch(exit_fd, tx.clone())?;
        Ok(Poller {
            commands: Some(tx),
            thread: Some(thread),
            exit_watch: Some(exit_watch),
        })
    }

    /// Sends a command; false when the poller has stopped.
    pub fn send(&self, command: Command) -> bool {
        self.commands
            .as_ref()
            .is_some_and(|tx| tx.send(command).is_ok())
    }

    /// A sender for commands, for code that outlives a borrow of the handle.
    pub fn sender(&self) -> Option<Sender<Command>> {
        self.commands.clone()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // Closing the pipe's write end wakes the exit watcher.
        if let Some(tx) = self.commands.take() {
            let _ = tx.send(Command::Shutdown);
        }
        if let Some((wake, thread)) = self.exit_watch.take() {
            drop(wake);
            let _ = thread.join();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A thread that blocks in poll(2) on the target's pidfd and a pipe; it tells
/// the poller when the target exits, and ends when the pipe's write end closes.
fn spawn_exit_watch(pidfd: OwnedFd, tx: Sender<Command>) -> Result<(OwnedFd, JoinHandle<()>)> {
    let (wake_read, wake_write) = nix::unistd::pipe().map_err(|e| Error::Kernel {
        call: "pipe",
        source: e.into(),
    })?;
    let thread = std::thread::Builder::new()
        .name("pvtui-exit-watch".into())
        .spawn(move || {
            loop {
                let mut fds = [
                    PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
                    PollFd::new(wake_read.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::NONE) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                    Ok(_) => {}
                }
                let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
                if ready(&fds[1]) {
                    return;
                }
                if ready(&fds[0]) {
                    let _ = tx.send(Command::TargetExited);
                    return;
                }
            }
        })
        .map_err(|e| Error::Internal(format!("cannot start the exit watcher: {e}")))?;
    Ok((wake_write, thread))
}

#[derive(Clone)]
struct Freeze {
    addr: u64,
    bytes: Vec<u8>,
    mask: Option<Vec<u8>>,
}

struct PollerState {
    session: Session,
    /// The caller's watches, under the caller's ids.
    set: WatchSet,
    maps_sent: bool,
    interval: Duration,
    paused: bool,
    freezes: HashMap<WatchId, Freeze>,
    /// The frozen watches, under the same ids: their pointer hops are read
    /// again before every rewrite, so a repointed path is followed.
    held: WatchSet,
    hex: Option<(u64, usize)>,
    want_residency: bool,
    residency_at: Option<Instant>,
    tick: u64,
    exited: bool,
    poll_now: bool,
    stopped: bool,
    /// The session's exec count last reported.
    execs: u64,
}

/// How often residency is re-measured while the maps pane wants it.
const RESIDENCY_EVERY: Duration = Duration::from_secs(2);

impl PollerState {
    fn new(session: Session, options: PollerOptions) -> Result<PollerState> {
        let session = session.with_deadline(options.read_deadline);
        Ok(PollerState {
            session,
            set: WatchSet::new(),
            maps_sent: false,
            interval: options.interval,
            paused: false,
            freezes: HashMap::new(),
            held: WatchSet::new(),
            hex: None,
            want_residency: false,
            residency_at: None,
            tick: 0,
            exited: false,
            poll_now: false,
            stopped: false,
            execs: 0,
        })
    }

    fn run<F: FnMut(PollerEvent) -> bool>(&mut self, rx: Receiver<Command>, mut sink: F) {
        let mut deadline = Instant::now();
        loop {
            let now = Instant::now();
            if now >= deadline {
                let lateness = now - deadline;
                if !self.exited && !self.tick_once(lateness, &mut sink) {
                    return;
                }
                deadline += self.interval;
                // After a long stall, start the schedule again rather than
                // running a burst of catch-up ticks.
                if deadline < Instant::now() {
                    deadline = Instant::now() + self.interval;
                }
                continue;
            }
            let wait = if self.exited {
                Duration::from_secs(3600)
            } else {
                deadline - now
            };
            match rx.recv_timeout(wait) {
                Ok(command) => {
                    if !self.handle(command, &mut sink) {
                        return;
                    }
                    if self.poll_now {
                        self.poll_now = false;
                        deadline = Instant::now();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

impl PollerState {
    /// Handles one command; false when the UI is gone.
    fn handle<F: FnMut(PollerEvent) -> bool>(&mut self, command: Command, sink: &mut F) -> bool {
        match command {
            Command::AddWatches(watches) => {
                for (id, watch) in watches {
                    self.set.insert(id, watch);
                }
                self.poll_now = true;
            }
            Command::ReplaceWatch(id, watch) => {
                self.unfreeze(id);
                self.set.insert(id, watch);
                self.poll_now = true;
            }
            Command::RemoveWatch(id) => {
                self.unfreeze(id);
                self.set.remove(id);
            }
            Command::Write { tag, addr, bytes } => {
                let result = self.write(addr, &bytes);
                self.poll_now = true;
                let place = self.session.symbols().place(addr);
                return sink(PollerEvent::Wrote { tag, result, place });
            }
            Command::WriteValue {
                tag,
                addr,
                ty,
                text,
            } => {
                let result = if self.exited {
                    Err(Error::TargetExited {
                        pid: self.session.pid(),
                    })
                } else {
                    self.session.write_value(addr, &ty, &text)
                };
                self.poll_now = true;
                let place = self.session.symbols().place(addr);
                return sink(PollerEvent::Wrote { tag, result, place });
            }
            Command::Freeze {
                watch,
                addr,
                len,
                bytes,
                mask,
            } => {
                // The UI's address is its last snapshot's (minutes old when
                // paused): follow the watch's path now, where it has one.
                let addr = match self.set.get(watch).cloned().map(|w| self.evaluate(&w)) {
                    Some(Ok(now)) => now.addr,
                    Some(Err(e)) => {
                        return sink(PollerEvent::Frozen {
                            watch,
                            result: Err(Error::Usage(format!(
                                "not frozen: the path leads nowhere now ({})",
                                e.message
                            ))),
                        });
                    }
                    None => addr,
                };
                let result = match bytes {
                    Some(bytes) => Ok(bytes),
                    None => self.read_now(addr, len),
                };
                // Held only if it can be written: a read-only page (or one
                // whose write would wait) refuses the freeze now, not every tick.
                let result = result.and_then(|bytes| {
                    let report = self.write_held(addr, &bytes, mask.as_deref())?;
                    // Written whole is enough: a target that keeps changing
                    // the value may have changed it again before the read-back.
                    if report.written == bytes.len() {
                        Ok(bytes)
                    } else {
                        Err(Error::WriteRefused {
                            addr,
                            len: len as u64,
                            why: format!(
                                "the first rewrite wrote {} of {} bytes",
                                report.written,
                                bytes.len()
                            ),
                        })
                    }
                });
                if let Ok(bytes) = &result {
                    if let Some(w) = self.set.get(watch) {
                        self.held.insert(watch, w.clone());
                    }
                    self.freezes.insert(
                        watch,
                        Freeze {
                            addr,
                            bytes: bytes.clone(),
                            mask,
                        },
                    );
                }
                self.poll_now = true;
                return sink(PollerEvent::Frozen {
                    watch,
                    result: result.map(|b| (addr, b)),
                });
            }
            Command::Unfreeze { watch } => self.unfreeze(watch),
            Command::Pause(paused) => self.paused = paused,
            Command::Interval(interval) => {
                self.interval = interval.max(Duration::from_millis(1));
                self.poll_now = true;
            }
            Command::HexRange(range) => {
                self.hex = range;
                self.poll_now = true;
            }
            Command::WantResidency(want) => {
                self.want_residency = want;
                if want {
                    self.residency_at = None;
                    self.poll_now = true;
                }
            }
            Command::PollNow => self.poll_now = true,
            Command::Describe(addr) => {
                let label = self.session.describe(addr);
                return sink(PollerEvent::Described { addr, label });
            }
            Command::Place(addr) => {
                let place = self.session.symbols().place(addr);
                return sink(PollerEvent::Placed { addr, place });
            }
            Command::Complete { tag, text } => {
                let items = self.session.completions(&text);
                return sink(PollerEvent::Completions { tag, items });
            }
            Command::Evaluate { tag, watch } => {
                let result = self.evaluate(&watch);
                return sink(PollerEvent::Evaluated { tag, result });
            }
            Command::Portable { tag } => {
                let lines = self
                    .set
                    .watches()
                    .map(|(_, w)| relocatable(w, self.session.symbols()).to_string())
                    .collect();
                return sink(PollerEvent::Portable { tag, lines });
            }
            Command::Shutdown => return false,
            Command::TargetExited => {
                if !self.exited {
                    self.exited = true;
                    self.unfreeze_all();
                    return sink(PollerEvent::Exited);
                }
            }
        }
        true
    }

    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        if self.exited {
            return Err(Error::TargetExited {
                pid: self.session.pid(),
            });
        }
        self.session.write(addr, bytes)
    }

    /// A freeze's first write; a masked one goes by the maps of the last
    /// tick, as its rewrites do.
    fn write_held(&mut self, addr: u64, bytes: &[u8], mask: Option<&[u8]>) -> Result<WriteReport> {
        if mask.is_none() {
            return self.write(addr, bytes);
        }
        if self.exited {
            return Err(Error::TargetExited {
                pid: self.session.pid(),
            });
        }
        self.session.write_held(addr, bytes, mask)
    }

    /// Reads `len` bytes at `addr` now, all or nothing. The user asked for
    /// this one value, so after a never-block try it may fault the page in
    /// (still under the worker's deadline), and a read that missed its
    /// deadline on a busy machine is tried again before giving up.
    fn read_now(&mut self, addr: u64, len: usize) -> Result<Vec<u8>> {
        let mut why = Unread::Stalled;
        for attempt in 0..3 {
            let mode = if attempt == 0 {
                ReadMode::NoWait
            } else {
                ReadMode::Force
            };
            let outcomes = self.session.read(&[(addr, len)], mode)?;
            let Some(outcome) = outcomes.first() else {
                break;
            };
            match outcome.first_unread() {
                None => return Ok(outcome.data.clone()),
                Some(w @ (Unread::Stalled | Unread::NotResident)) => why = w,
                Some(other) => {
                    why = other;
                    break;
                }
            }
        }
        Err(Error::NotRead {
            addr,
            len,
            why: why.to_string(),
        })
    }

    /// Resolves and follows `watch` once.
    fn evaluate(&mut self, watch: &Watch) -> std::result::Result<Evaluated, Diagnostic> {
        match self.session.evaluate(watch, ReadMode::NoWait) {
            Ok(Ok(reading)) => match reading.address {
                Some(addr) => Ok(Evaluated {
                    addr,
                    ty: reading.ty,
                }),
                None => Err(Diagnostic::new(
                    0,
                    format!("no address: {}", reading.status),
                )),
            },
            Ok(Err(e)) => Err(e),
            Err(e) => Err(Diagnostic::new(0, e.to_string())),
        }
    }
}

fn stall_or_fault(e: &Error) -> Unread {
    match e {
        Error::Stalled { .. } => Unread::Stalled,
        _ => Unread::Faulted,
    }
}

//! Several targets polled together: one thread per [`Session`], each reading
//! its watches in one batched never-block read per tick. A tick gathers what
//! came back before its deadline, so a target whose reads stall is reported
//! late instead of holding up the others, and one that exits is reported
//! once and left behind while the others run on.
//!
//! ```no_run
//! use std::time::{Duration, Instant};
//! use pvtui::expr::parse_watch;
//! use pvtui::poller::group::PollGroup;
//! use pvtui::session::Session;
//! let sessions = vec![
//!     Session::attach(1234, Duration::from_millis(50))?,
//!     Session::attach(1235, Duration::from_millis(50))?,
//! ];
//! let watches = vec![parse_watch("counter").expect("parses")];
//! let mut group = PollGroup::start(sessions, &watches)?;
//! let tick = group.tick(Instant::now() + Duration::from_millis(100));
//! for target in &tick.targets {
//!     println!("{}: {:?}", target.pid, target.outcome);
//! }
//! # Ok::<(), pvtui::Error>(())
//! ```

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::expr::{Value, Watch, WatchReading, WatchSet};
use crate::process::ReadMode;
use crate::session::{Placement, Session};

/// What one target gave in one tick.
#[derive(Debug)]
pub enum TickOutcome {
    /// Every watch, in the order given, each with where its address lies
    /// and what the target's own symbols call it.
    Read {
        readings: Vec<WatchReading>,
        placements: Vec<Option<Placement>>,
        names: Vec<Names>,
        took: Duration,
    },
    /// Still busy with an earlier tick when this one's deadline passed.
    Late,
    /// The target exited (reported in the tick that noticed, and after).
    Exited,
    /// Reading failed for another reason; the target is still polled.
    Failed(Error),
}

/// A reading's addresses by name in its own target (`module!symbol+0xOFF`,
/// as [`crate::symbols::SymbolTable::place`] gives them); unescaped, since
/// the names come from the target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Where the value is.
    pub place: Option<String>,
    /// Where a pointer value points.
    pub points_to: Option<String>,
}

/// One target in a tick.
#[derive(Debug)]
pub struct TargetTick {
    pub pid: i32,
    pub outcome: TickOutcome,
}

/// What every target gave in one tick, in the order the sessions were given.
#[derive(Debug)]
pub struct GroupTick {
    pub tick: u64,
    pub targets: Vec<TargetTick>,
}

impl GroupTick {
    /// Whether every target has exited.
    pub fn all_exited(&self) -> bool {
        self.targets
            .iter()
            .all(|t| matches!(t.outcome, TickOutcome::Exited))
    }
}

/// A reply from a member's thread: (member, tick, outcome).
type Reply = (usize, u64, TickOutcome);

struct Member {
    pid: i32,
    requests: Option<Sender<u64>>,
    thread: Option<JoinHandle<()>>,
    /// A tick was sent and not answered yet.
    busy: bool,
    exited: bool,
}

/// The handle on the member threads; dropping it stops and joins them
/// (a thread stuck in a stalled read is joined once its deadline passes).
pub struct PollGroup {
    members: Vec<Member>,
    replies: Receiver<Reply>,
    tick: u64,
}

impl std::fmt::Debug for PollGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pids: Vec<i32> = self.members.iter().map(|m| m.pid).collect();
        f.debug_struct("PollGroup")
            .field("pids", &pids)
            .field("tick", &self.tick)
            .finish()
    }
}

impl PollGroup {
    /// Starts one thread per session, each with its own copy of `watches`,
    /// reading them never-block.
    pub fn start(sessions: Vec<Session>, watches: &[Watch]) -> Result<PollGroup> {
        PollGroup::start_with_mode(sessions, watches, ReadMode::NoWait)
    }

    /// As [`PollGroup::start`], reading in `mode`: [`ReadMode::Force`]
    /// faults pages in as the target would (under each session's deadline),
    /// so a page that never arrives stalls its own thread and only that.
    pub fn start_with_mode(
        sessions: Vec<Session>,
        watches: &[Watch],
        mode: ReadMode,
    ) -> Result<PollGroup> {
        let (reply_tx, replies) = channel();
        let mut members = Vec::with_capacity(sessions.len());
        for (index, session) in sessions.into_iter().enumerate() {
            let pid = session.pid();
            let (tx, rx) = channel();
            let mut set = WatchSet::new();
            for watch in watches {
                set.add(watch.clone());
            }
            let reply = reply_tx.clone();
            let thread = std::thread::Builder::new()
                .name(format!("pvtui-poll-{pid}"))
                .spawn(move || member_loop(index, session, set, mode, &rx, &reply))
                .map_err(|e| Error::Internal(format!("cannot start a poll thread: {e}")))?;
            members.push(Member {
                pid,
                requests: Some(tx),
                thread: Some(thread),
                busy: false,
                exited: false,
            });
        }
        Ok(PollGroup {
            members,
            replies,
            tick: 0,
        })
    }

    /// The targets' pids, in order.
    pub fn pids(&self) -> Vec<i32> {
        self.members.iter().map(|m| m.pid).collect()
    }

    /// Asks every running target to read, and gathers the answers that come
    /// back before `deadline`; a target still reading then is [`TickOutcome::Late`].
    pub fn tick(&mut self, deadline: Instant) -> GroupTick {
        self.tick += 1;
        let tick = self.tick;
        let mut outcomes: Vec<Option<TickOutcome>> = self.members.iter().map(|_| None).collect();
        for (member, outcome) in self.members.iter_mut().zip(outcomes.iter_mut()) {
            if member.exited {
                *outcome = Some(TickOutcome::Exited);
            } else if !member.busy {
                let sent = member
                    .requests
                    .as_ref()
                    .is_some_and(|tx| tx.send(tick).is_ok());
                if sent {
                    member.busy = true;
                } else {
                    // The thread ended: only a target that exited ends it.
                    member.exited = true;
                    *outcome = Some(TickOutcome::Exited);
                }
            }
        }
        while outcomes.iter().any(Option::is_none) && self.members.iter().any(|m| m.busy) {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = if left.is_zero() {
                self.replies.try_recv().ok()
            } else {
                match self.replies.recv_timeout(left) {
                    Ok(reply) => Some(reply),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => None,
                }
            };
            let Some((index, answered, outcome)) = reply else {
                break;
            };
            let Some(member) = self.members.get_mut(index) else {
                continue;
            };
            member.busy = false;
            if matches!(outcome, TickOutcome::Exited) {
                member.exited = true;
            }
            // An answer to an earlier tick arrives late: only an exit in it counts now.
            if answered == tick || member.exited {
                if let Some(slot) = outcomes.get_mut(index) {
                    *slot = Some(outcome);
                }
            }
        }
        let targets = self
            .members
            .iter()
            .zip(outcomes)
            .map(|(member, outcome)| TargetTick {
                pid: member.pid,
                outcome: outcome.unwrap_or(TickOutcome::Late),
            })
            .collect();
        GroupTick { tick, targets }
    }
}

impl Drop for PollGroup {
    fn drop(&mut self) {
        for member in &mut self.members {
            member.requests.take();
        }
        for member in &mut self.members {
            if let Some(thread) = member.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

/// A member's thread: one read of every watch per tick asked for, until the
/// target exits or the group is dropped.
fn member_loop(
    index: usize,
    mut session: Session,
    mut set: WatchSet,
    mode: ReadMode,
    requests: &Receiver<u64>,
    reply: &Sender<Reply>,
) {
    let mut namer = Namer::default();
    while let Ok(tick) = requests.recv() {
        let outcome = read_once(&mut session, &mut set, mode, &mut namer);
        let exited = matches!(outcome, TickOutcome::Exited);
        if reply.send((index, tick, outcome)).is_err() || exited {
            return;
        }
    }
}

fn read_once(
    session: &mut Session,
    set: &mut WatchSet,
    mode: ReadMode,
    namer: &mut Namer,
) -> TickOutcome {
    let started = Instant::now();
    if !session.is_alive() {
        return TickOutcome::Exited;
    }
    let result = session
        .refresh()
        .map(|changed| {
            // New maps may move or drop what a name was found in.
            if changed.is_some() {
                namer.forget();
            }
        })
        .and_then(|()| session.poll(set, mode));
    match result {
        Ok(readings) => {
            // A tick whose reads failed because the target was being torn
            // down must not publish them: check the pidfd first.
            if !session.is_alive() {
                return TickOutcome::Exited;
            }
            let placements = readings
                .iter()
                .map(|r| r.address.and_then(|a| session.placement(a)))
                .collect();
            let names = readings.iter().map(|r| namer.names(session, r)).collect();
            TickOutcome::Read {
                readings,
                placements,
                names,
                took: started.elapsed(),
            }
        }
        Err(e) if e.is_exit() || !session.is_alive() => TickOutcome::Exited,
        Err(e) => TickOutcome::Failed(e),
    }
}

/// Names of addresses in one target, each looked up once while the maps
/// stay the same: a watch's address and a pointer's value rarely change
/// from tick to tick, and a symbol lookup is more than a read.
#[derive(Default)]
struct Namer {
    known: HashMap<u64, Option<String>>,
}

impl Namer {
    /// More distinct addresses than this (a pointer walking a heap) start
    /// the memory over rather than grow it without end.
    const MOST: usize = 4096;

    fn forget(&mut self) {
        self.known.clear();
    }

    fn place(&mut self, session: &Session, addr: u64) -> Option<String> {
        if let Some(name) = self.known.get(&addr) {
            return name.clone();
        }
        if self.known.len() >= Namer::MOST {
            self.forget();
        }
        let name = session.symbols().place(addr);
        self.known.insert(addr, name.clone());
        name
    }

    fn names(&mut self, session: &Session, reading: &WatchReading) -> Names {
        let pointer = match &reading.value {
            Some(Value::Pointer(p))
            | Some(Value::Typed(crate::debuginfo::Value::Pointer { addr: p, .. })) => Some(*p),
            _ => None,
        };
        Names {
            place: reading.address.and_then(|a| self.place(session, a)),
            points_to: pointer.and_then(|p| self.place(session, p)),
        }
    }
}

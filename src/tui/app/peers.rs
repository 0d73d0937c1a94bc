//! Other targets shown beside the main one. Each has a poller of its own
//! (one session, one thread), so a stalled or exited peer never holds up
//! the others; it reads the same watches under the same ids, and its
//! values fill a column of their own in the watches pane.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::expr::{Value, WatchReading};
use crate::poller::{Command, Poller, PollerEvent, PollerOptions, WatchId};
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::tui::app::TargetState;
use crate::tui::event::Event;

/// One more target.
pub struct Peer {
    pub pid: i32,
    /// As the target named itself: escape before printing.
    pub name: String,
    pub state: TargetState,
    /// The last reading of each watch.
    pub readings: HashMap<WatchId, WatchReading>,
    /// Dropping it stops and joins the peer's poller.
    poller: Option<Poller>,
}

impl Peer {
    /// A peer whose readings arrive from elsewhere (tests drive it by events).
    pub fn detached(pid: i32, name: &str) -> Peer {
        Peer {
            pid,
            name: name.to_string(),
            state: TargetState::Running,
            readings: HashMap::new(),
            poller: None,
        }
    }

    /// The value this peer last read for `id`, or why there is none.
    pub fn value_text(&self, id: WatchId) -> String {
        match self.readings.get(&id) {
            Some(WatchReading { value: Some(v), .. }) => v.to_string(),
            Some(r) => format!("({})", r.status),
            None => "…".into(),
        }
    }

    pub fn value(&self, id: WatchId) -> Option<&Value> {
        self.readings.get(&id)?.value.as_ref()
    }

    pub fn exited(&self) -> bool {
        matches!(self.state, TargetState::Exited(_))
    }
}

/// The targets beside the main one, in the order they were added.
#[derive(Default)]
pub struct Peers {
    pub list: Vec<Peer>,
    /// The peer the drop key acts on.
    pub selected: usize,
}

impl Peers {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Attaches to `pid` and starts polling it every `interval`, with
    /// `watches` already in place; its events come back on `events` tagged
    /// with its pid.
    pub fn attach(
        &mut self,
        pid: i32,
        interval: Duration,
        watches: Vec<(WatchId, crate::expr::Watch)>,
        events: Sender<Event>,
    ) -> crate::Result<()> {
        if self.list.iter().any(|p| p.pid == pid) {
            return Err(crate::Error::Usage(format!("{pid} is shown already")));
        }
        let session = Session::attach(pid, DEFAULT_DEADLINE)?;
        let name = session.name().to_string();
        let options = PollerOptions {
            interval,
            read_deadline: (interval / 2)
                .clamp(Duration::from_millis(5), Duration::from_millis(200)),
        };
        let poller = Poller::start(session, options, move |e| {
            events.send(Event::Peer(pid, e)).is_ok()
        })?;
        poller.send(Command::AddWatches(watches));
        let mut peer = Peer::detached(pid, &name);
        peer.poller = Some(poller);
        self.list.push(peer);
        Ok(())
    }

    /// Sends a watch change to every peer's poller.
    pub fn forward(&self, command: &Command) {
        if !matches!(
            command,
            Command::AddWatches(_)
                | Command::ReplaceWatch(..)
                | Command::RemoveWatch(_)
                | Command::Pause(_)
                | Command::Interval(_)
        ) {
            return;
        }
        for peer in &self.list {
            if let Some(poller) = &peer.poller {
                poller.send(command.clone());
            }
        }
    }

    /// Takes in what a peer's poller reports; the pid of a peer that just
    /// exited comes back, for the banner.
    pub fn update(&mut self, pid: i32, event: PollerEvent) -> Option<i32> {
        let peer = self.list.iter_mut().find(|p| p.pid == pid)?;
        match event {
            PollerEvent::Snapshot(s) => {
                for reading in s.watches {
                    peer.readings.insert(reading.id, reading);
                }
                None
            }
            PollerEvent::Exited if !peer.exited() => {
                peer.state = TargetState::Exited(None);
                Some(pid)
            }
            _ => None,
        }
    }

    /// Drops the selected peer; its poller stops. Returns its pid.
    pub fn drop_selected(&mut self) -> Option<i32> {
        if self.list.is_empty() {
            return None;
        }
        let i = self.selected.min(self.list.len() - 1);
        let peer = self.list.remove(i);
        self.selected = self.selected.min(self.list.len().saturating_sub(1));
        Some(peer.pid)
    }

    /// Selects the next peer (the drop key's target).
    pub fn select_next(&mut self) {
        if !self.list.is_empty() {
            self.selected = (self.selected + 1) % self.list.len();
        }
    }
}

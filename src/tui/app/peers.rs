//! Other targets shown beside the main one. Each has a poller of its own
//! (one session, one thread), so a stalled or exited peer never holds up
//! the others; it reads the same watches under the same ids, and its
//! values fill a column of their own in the watches pane.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::expr::{Value, WatchReading};
use crate::poller::{Command, Poller, PollerEvent, PollerOptions, WatchId};
use crate::process::Maps;
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::tui::app::{Level, TargetState};
use crate::tui::event::Event;

/// One more target.
pub struct Peer {
    pub pid: i32,
    /// As the target named itself: escape before printing.
    pub name: String,
    pub state: TargetState,
    /// The last reading of each watch.
    pub readings: HashMap<WatchId, WatchReading>,
    /// Its maps as its poller last sent them (the hex view names places by them).
    pub maps: Maps,
    /// Where its commands go: its poller's channel.
    commands: Option<Sender<Command>>,
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
            maps: Maps::default(),
            commands: None,
            poller: None,
        }
    }

    /// The peer with its commands sent to `commands` (tests read them there).
    pub fn with_commands(mut self, commands: Sender<Command>) -> Peer {
        self.commands = Some(commands);
        self
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
        peer.commands = poller.sender();
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
            if let Some(tx) = &peer.commands {
                let _ = tx.send(command.clone());
            }
        }
    }

    /// Sends `command` to the poller of peer `pid` alone; false when there
    /// is no such peer (dropped) or it has no poller.
    pub fn send_to(&self, pid: i32, command: Command) -> bool {
        match self.list.iter().find(|p| p.pid == pid) {
            Some(Peer {
                commands: Some(tx), ..
            }) => tx.send(command).is_ok(),
            _ => false,
        }
    }

    pub fn get(&self, pid: i32) -> Option<&Peer> {
        self.list.iter().find(|p| p.pid == pid)
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
                if let Some(maps) = s.maps {
                    peer.maps = maps;
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

    /// Drops the peer added last; its poller stops. Returns its pid.
    pub fn drop_last(&mut self) -> Option<i32> {
        self.list.pop().map(|peer| peer.pid)
    }
}

impl super::App {
    /// Shows another target beside this one: `text` is a pid or a process
    /// name (of exactly one process).
    pub fn add_target(&mut self, text: &str) {
        let Some(events) = self.events.clone() else {
            self.say(Level::Error, "no other target can be attached here");
            return;
        };
        let pid = match text.parse::<i32>() {
            Ok(pid) if pid > 0 => Ok(pid),
            _ => match crate::session::processes_named(text.trim()) {
                Ok(found) => match found.as_slice() {
                    [(pid, _)] => Ok(*pid),
                    [] => Err(crate::Error::Usage(format!("no process is named {text:?}"))),
                    many => Err(crate::Error::Usage(format!(
                        "{} processes are named {text:?}: give a pid",
                        many.len()
                    ))),
                },
                Err(e) => Err(e),
            },
        };
        let watches = self
            .watches
            .rows
            .iter()
            .map(|w| (w.id, w.watch.clone()))
            .collect();
        let result = pid.and_then(|pid| {
            self.peers
                .attach(pid, self.poll.interval, watches, events)
                .map(|()| pid)
        });
        match result {
            Ok(pid) => self.say(
                Level::Info,
                format!("showing {pid} beside {}", self.process.pid),
            ),
            Err(e) => self.say(
                Level::Error,
                crate::text::escape_lines(&e.to_string()).into_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Status, Type};
    use crate::poller::Snapshot;

    fn snapshot(id: WatchId, value: Option<Value>, status: Status) -> PollerEvent {
        PollerEvent::Snapshot(Box::new(Snapshot {
            tick: 1,
            watches: vec![WatchReading {
                id,
                address: Some(0x1000),
                ty: Type::u64(),
                status,
                value,
            }],
            ..Snapshot::default()
        }))
    }

    #[test]
    fn readings_fill_the_peer_and_an_exit_is_reported_once() {
        let mut peers = Peers::default();
        peers.list.push(Peer::detached(41, "worker"));
        let id = WatchId(7);
        assert_eq!(peers.list[0].value_text(id), "…");
        assert_eq!(
            peers.update(41, snapshot(id, Some(Value::Unsigned(5)), Status::Ok)),
            None
        );
        assert_eq!(peers.list[0].value_text(id), "5");
        peers.update(41, snapshot(id, None, Status::NotResident));
        assert_eq!(peers.list[0].value_text(id), "(not-resident)");
        // Another pid's events do not touch this peer.
        assert_eq!(peers.update(99, PollerEvent::Exited), None);
        assert_eq!(peers.update(41, PollerEvent::Exited), Some(41));
        assert_eq!(peers.update(41, PollerEvent::Exited), None);
        assert!(peers.list[0].exited());
    }

    #[test]
    fn dropping_takes_the_peer_added_last() {
        let mut peers = Peers::default();
        assert_eq!(peers.drop_last(), None);
        peers.list.push(Peer::detached(1, "a"));
        peers.list.push(Peer::detached(2, "b"));
        assert_eq!(peers.drop_last(), Some(2));
        assert_eq!(peers.drop_last(), Some(1));
        assert!(peers.is_empty());
    }
}

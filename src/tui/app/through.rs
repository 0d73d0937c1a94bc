//! The hex view reads through any target shown: the main one, or another
//! target's own poller (its session and worker; never the UI thread). The
//! hex range, go-to, the cursor's name and byte writes all go to the
//! target chosen, and its answers come back tagged with its pid.

use std::time::Instant;

use crate::poller::{Command, PollerEvent};
use crate::process::Maps;
use crate::tui::app::{App, Level};

impl App {
    /// The pid the hex view reads through.
    pub fn hex_pid(&self) -> i32 {
        self.hex.through.unwrap_or(self.process.pid)
    }

    /// The name of the process the hex view reads through, as it named
    /// itself (escape before printing).
    pub fn hex_name(&self) -> &str {
        match self.hex.through.and_then(|pid| self.peers.get(pid)) {
            Some(peer) => &peer.name,
            None => &self.process.name,
        }
    }

    /// The maps of the process the hex view reads through.
    pub fn hex_maps(&self) -> &Maps {
        match self.hex.through.and_then(|pid| self.peers.get(pid)) {
            Some(peer) => &peer.maps,
            None => &self.maps.maps,
        }
    }

    /// Whether the process the hex view reads through has exited.
    pub(super) fn hex_exited(&self) -> bool {
        match self.hex.through.and_then(|pid| self.peers.get(pid)) {
            Some(peer) => peer.exited(),
            None => self.exited(),
        }
    }

    /// Sends a hex-view command to the target it reads through.
    pub(super) fn send_hex(&mut self, command: Command) {
        match self.hex.through {
            None => self.send(command),
            Some(pid) => {
                if !self.peers.send_to(pid, command) {
                    self.hex.through = None;
                    self.say(
                        Level::Warning,
                        format!("{pid} is no longer shown: the hex view reads the main target"),
                    );
                }
            }
        }
    }

    /// Reads the hex view through `through` (none: the main target) from
    /// now on; the target read before stops reading the range.
    pub(super) fn set_through(&mut self, through: Option<i32>) {
        if through == self.hex.through {
            return;
        }
        self.send_hex(Command::HexRange(None));
        self.hex.through = through;
        // Where pointers were followed from are another process's addresses.
        self.hex.back.clear();
        self.hex.data = None;
        self.hex.label = None;
        self.hex.changed.clear();
        self.request_hex();
        self.send_hex(Command::Describe(self.hex.cursor));
    }

    /// Opens an address of the main target (from its maps, its search
    /// results, a watch) in the hex view, read through the main target.
    pub(super) fn open_main_hex(&mut self, addr: u64) {
        self.set_through(None);
        self.open_hex(addr);
    }

    /// The Through key in the hex view: the next target shown (not exited),
    /// after the main one the others in the order they were added.
    pub(super) fn next_through(&mut self) {
        let mut order: Vec<Option<i32>> = vec![None];
        order.extend(
            self.peers
                .list
                .iter()
                .filter(|p| !p.exited())
                .map(|p| Some(p.pid)),
        );
        if order.len() == 1 {
            self.say(
                Level::Info,
                "one target is shown: A adds another to read through",
            );
            return;
        }
        let at = order
            .iter()
            .position(|t| *t == self.hex.through)
            .map_or(0, |i| (i + 1) % order.len());
        self.set_through(order[at]);
        let text = format!(
            "the hex view reads through {} ({})",
            self.hex_pid(),
            crate::text::escape_lines(self.hex_name())
        );
        self.say(Level::Info, text);
    }

    /// What another target's poller reports: its watch values for their
    /// column, and the hex view's answers when it reads through it.
    pub(super) fn peer_event(&mut self, pid: i32, event: PollerEvent) {
        let through = self.hex.through == Some(pid);
        match event {
            PollerEvent::Snapshot(mut s) => {
                if through && let Some(hex) = s.hex.take() {
                    self.hex.apply(hex, Instant::now());
                }
                self.peers.update(pid, PollerEvent::Snapshot(s));
            }
            PollerEvent::Described { addr, label } => {
                if through {
                    self.hex.label = label.map(|l| (addr, l));
                }
            }
            // Tags are the app's own, unique across targets.
            PollerEvent::Evaluated { tag, result } => self.evaluated(tag, result),
            PollerEvent::Wrote { tag, result, place } => {
                self.wrote(tag, result.map_err(|e| e.to_string()), place)
            }
            other => {
                if let Some(pid) = self.peers.update(pid, other) {
                    self.say(
                        Level::Warning,
                        format!("target {pid} exited: its last values kept; the others go on"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, channel};

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::poller::{Command, PollerEvent, Snapshot};
    use crate::process::{Access, Maps, ReadOutcome};
    use crate::shared::{Mapping, Report, SharedObject};
    use crate::tui::app::tests::app_of;
    use crate::tui::app::{App, Pane, Peer};
    use crate::tui::event::Event;
    use crate::tui::keys::KeyMap;

    const MAIN: i32 = 100;
    const PEER: i32 = 200;

    fn app() -> (App, Receiver<Command>, Receiver<Command>) {
        let access = Access {
            pidfd: true,
            nowait: true,
        };
        let (mut app, main) = app_of(MAIN, "producer", access, KeyMap::default());
        let (ptx, peer) = channel();
        app.peers
            .list
            .push(Peer::detached(PEER, "consumer").with_commands(ptx));
        (app, main, peer)
    }

    fn key(app: &mut App, c: char) {
        app.update(Event::Key(
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            std::time::Instant::now(),
        ));
    }

    fn hex_ranges(rx: &Receiver<Command>) -> Vec<Option<(u64, usize)>> {
        rx.try_iter()
            .filter_map(|c| match c {
                Command::HexRange(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn snapshot(hex: Option<ReadOutcome>, maps: Option<Maps>) -> PollerEvent {
        PollerEvent::Snapshot(Box::new(Snapshot {
            tick: 1,
            hex,
            maps,
            ..Snapshot::default()
        }))
    }

    fn bytes(addr: u64, data: &[u8]) -> ReadOutcome {
        ReadOutcome {
            addr,
            data: data.to_vec(),
            gaps: Vec::new(),
        }
    }

    #[test]
    fn the_through_key_moves_the_hex_range_to_the_other_targets_poller() {
        let (mut app, main, peer) = app();
        app.open_hex(0x7000);
        assert!(matches!(hex_ranges(&main).last(), Some(Some((0x7000, _)))));
        key(&mut app, 'v');
        assert_eq!(app.hex.through, Some(PEER));
        // The main target stops reading the range; the peer starts.
        assert_eq!(hex_ranges(&main), vec![None]);
        let to_peer: Vec<Command> = peer.try_iter().collect();
        assert!(
            to_peer
                .iter()
                .any(|c| matches!(c, Command::HexRange(Some((0x7000, _))))),
            "{to_peer:?}"
        );
        assert!(
            to_peer
                .iter()
                .any(|c| matches!(c, Command::Describe(0x7000)))
        );
        // Bytes the main target read late are not shown; the peer's are.
        app.update(Event::Poller(snapshot(Some(bytes(0x7000, b"main")), None)));
        assert!(app.hex.data.is_none());
        app.update(Event::Peer(
            PEER,
            snapshot(Some(bytes(0x7000, b"peer")), None),
        ));
        assert_eq!(app.hex.bytes_at_cursor(4), Some(&b"peer"[..]));
        // A write from the hex view goes to the peer, and so does its undo.
        app.write_hex(0x7000, vec![1]);
        assert!(main.try_iter().all(|c| !matches!(c, Command::Write { .. })));
        let tag = peer
            .try_iter()
            .find_map(|c| match c {
                Command::Write { tag, .. } => Some(tag),
                _ => None,
            })
            .expect("the write went to the peer");
        // Its report comes back from the peer, and `u` undoes it there.
        let report = crate::process::WriteReport {
            addr: 0x7000,
            before: vec![b'p'],
            requested: vec![1],
            written: 1,
            after: vec![1],
        };
        app.update(Event::Peer(
            PEER,
            PollerEvent::Wrote {
                tag,
                result: Ok(report),
                place: None,
            },
        ));
        let logged = app.log.entries.last().expect("the write is logged");
        assert_eq!(logged.expr, format!("0x7000 in {PEER}"));
        assert!(logged.ok);
        app.set_pane(Pane::Log);
        key(&mut app, 'u');
        let undo = peer.try_iter().find_map(|c| match c {
            Command::Write { bytes, .. } => Some(bytes),
            _ => None,
        });
        assert_eq!(undo, Some(vec![b'p']));
        assert!(main.try_iter().all(|c| !matches!(c, Command::Write { .. })));
        app.set_pane(Pane::Hex);
        // Around again: the main target reads it.
        key(&mut app, 'v');
        assert_eq!(app.hex.through, None);
        assert_eq!(hex_ranges(&peer).last(), Some(&None));
        assert!(matches!(hex_ranges(&main).last(), Some(Some((0x7000, _)))));
    }

    #[test]
    fn enter_in_the_shared_pane_opens_the_object_where_the_chosen_process_maps_it() {
        let (mut app, main, peer) = app();
        let mapping = |pid: i32, start: u64, offset: u64| {
            let comm = if pid == MAIN { "producer" } else { "consumer" };
            Mapping::rw(pid, comm, start, offset, true)
        };
        let object = SharedObject::ring(
            7,
            vec![
                mapping(MAIN, 0x7f00_0000_0000, 0),
                mapping(PEER, 0x7e00_0000_0000, 0x1000),
                mapping(PEER, 0x7d00_0000_0000, 0),
            ],
        );
        key(&mut app, '7');
        assert_eq!(app.pane, Pane::Shared);
        app.update(Event::Shared(Ok(Report {
            objects: vec![object],
            processes: 2,
            skipped: Default::default(),
        })));
        key(&mut app, 'v');
        assert_eq!(app.shared.through, Some(PEER));
        app.update(Event::Key(
            KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
            std::time::Instant::now(),
        ));
        // The peer's mapping of the object's first byte.
        assert_eq!(app.pane, Pane::Hex);
        assert_eq!(app.hex.through, Some(PEER));
        assert_eq!(app.hex.cursor, 0x7d00_0000_0000);
        assert!(
            peer.try_iter()
                .any(|c| matches!(c, Command::HexRange(Some((0x7d00_0000_0000, _)))))
        );
        assert!(
            main.try_iter()
                .all(|c| !matches!(c, Command::HexRange(Some(_))))
        );
        // The peer's maps name places in the view once its poller sends them.
        let maps = Maps::parse(
            "7d0000000000-7d0000002000 rw-s 00000000 00:1a 7 /dev/shm/ring\n",
            "test",
        )
        .expect("maps");
        app.update(Event::Peer(PEER, snapshot(None, Some(maps))));
        assert!(app.hex_maps().find(0x7d00_0000_0010).is_some());
        // A region of the main target's maps opens read through the main one.
        let main_maps = Maps::parse(
            "560000000000-560000001000 rw-p 00000000 00:00 0 [heap]\n",
            "test",
        )
        .expect("maps");
        app.maps.apply(Some(main_maps), None);
        app.set_pane(Pane::Maps);
        app.update(Event::Key(
            KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
            std::time::Instant::now(),
        ));
        assert_eq!(app.hex.through, None);
        assert_eq!(app.hex.cursor, 0x5600_0000_0000);
        // Back to the peer, for the drop below.
        app.open_shared_object();
        assert_eq!(app.hex.through, Some(PEER));
        // Dropping the peer returns the view to the main target.
        key(&mut app, 'X');
        assert_eq!(app.hex.through, None);
        assert!(matches!(hex_ranges(&main).last(), Some(Some(_))));
    }
}

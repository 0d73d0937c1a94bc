//! The shared-memory map of the targets shown (`S`): which objects they map
//! and where, collected off the UI thread; Enter opens an object in the hex
//! view, through the process `v` chooses.

use crossterm::event::{KeyCode, KeyEvent};

use crate::shared::{Report, SharedObject};
use crate::tui::app::{App, Level};
use crate::tui::event::Event;
use crate::tui::keys::Action;

/// The overlay's state.
#[derive(Debug, Default)]
pub struct SharedMap {
    /// None while it is being collected; the error in words if it failed.
    pub report: Option<Result<Report, String>>,
    /// The object selected.
    pub selected: usize,
    /// The process to view the object through, by pid.
    pub through: Option<i32>,
}

impl SharedMap {
    pub fn objects(&self) -> &[SharedObject] {
        match &self.report {
            Some(Ok(report)) => &report.objects,
            _ => &[],
        }
    }

    pub fn selected_object(&self) -> Option<&SharedObject> {
        self.objects().get(self.selected)
    }

    pub fn move_by(&mut self, by: i64) {
        let len = self.objects().len();
        if len > 0 {
            self.selected = (self.selected as i64 + by).clamp(0, len as i64 - 1) as usize;
        }
    }

    /// The next process mapping the selected object, after the one chosen
    /// (at first, `main`).
    pub fn next_process(&mut self, main: i32) {
        let Some(object) = self.selected_object() else {
            return;
        };
        let mut pids: Vec<i32> = object.mappings.iter().map(|m| m.pid).collect();
        pids.dedup();
        let now = self.through.unwrap_or(main);
        let at = pids
            .iter()
            .position(|&q| q == now)
            .map_or(0, |i| (i + 1) % pids.len().max(1));
        self.through = pids.get(at).copied();
    }

    /// Where the selected object starts in the chosen process (or the
    /// first that maps it): (pid, address).
    pub fn target(&self, default: i32) -> Option<(i32, u64)> {
        let object = self.selected_object()?;
        let want = self.through.unwrap_or(default);
        object
            .mappings
            .iter()
            .find(|m| m.pid == want)
            .or_else(|| object.mappings.first())
            .map(|m| (m.pid, m.start))
    }
}

impl App {
    /// Opens the shared-memory map of every target shown, collected on a
    /// thread of its own: it reads /proc of each, and the UI never waits.
    pub(super) fn open_shared(&mut self) {
        self.shared = Some(SharedMap::default());
        let Some(events) = self.events.clone() else {
            return;
        };
        let mut pids = vec![self.process.pid];
        pids.extend(self.peers.list.iter().map(|p| p.pid));
        let spawned = std::thread::Builder::new()
            .name("pvtui-shared".into())
            .spawn(move || {
                let report = crate::shared::collect(
                    &crate::shared::Selection::Pids(pids),
                    &crate::shared::Options::default(),
                )
                .map_err(|e| e.to_string());
                let _ = events.send(Event::Shared(report));
            });
        if let Err(e) = spawned {
            self.shared = None;
            self.say(
                Level::Error,
                format!("cannot collect the shared-memory map: {e}"),
            );
        }
    }

    /// Keys while the shared-memory map is open: move, choose the process,
    /// open in hex; anything else closes it.
    pub(super) fn shared_key(&mut self, key: KeyEvent, action: Option<Action>) {
        let main = self.process.pid;
        let Some(map) = &mut self.shared else {
            return;
        };
        match (action, key.code) {
            (Some(Action::Up), _) => map.move_by(-1),
            (Some(Action::Down), _) => map.move_by(1),
            (Some(Action::PageUp), _) => map.move_by(-10),
            (Some(Action::PageDown), _) => map.move_by(10),
            (_, KeyCode::Char('v')) => map.next_process(main),
            (Some(Action::Activate), _) => match map.target(main) {
                Some((pid, addr)) if pid == main => {
                    self.shared = None;
                    self.open_hex(addr);
                }
                Some((pid, addr)) => self.say(
                    Level::Info,
                    format!(
                        "the hex view reads {main}; in {pid} the object starts at {addr:#x} (v chooses {main})"
                    ),
                ),
                None => {}
            },
            _ => self.shared = None,
        }
    }
}

//! The Shared pane: the shared-memory map of the targets shown (which
//! objects they map and where), collected off the UI thread; Enter opens an
//! object in the hex view, read through the process the Through key chose.

use crate::shared::{Report, SharedObject};
use crate::tui::app::{App, Level, Pane};
use crate::tui::event::Event;

/// The pane's state.
#[derive(Debug, Default)]
pub struct SharedMap {
    /// None until first collected; the error in words if it failed. A new
    /// collection keeps the last report on screen until it arrives.
    pub report: Option<Result<Report, String>>,
    /// A collection is under way.
    pub collecting: bool,
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
            self.selected = (self.selected as i64)
                .saturating_add(by)
                .clamp(0, len as i64 - 1) as usize;
        }
    }

    /// The line object `i` starts on as the pane draws the map: each
    /// object a head line, then a line per mapping.
    pub fn first_line(&self, i: usize) -> usize {
        self.objects()
            .iter()
            .take(i)
            .map(|o| 1 + o.mappings.len())
            .sum()
    }

    /// How far the map is scrolled in `rows` rows: the selected object's
    /// first lines stay in view.
    pub fn scroll(&self, rows: usize) -> usize {
        let at = self.first_line(self.selected);
        at.saturating_sub(rows.saturating_sub(4).min(at))
    }

    /// The object drawn on `line` (counted from the map's first line).
    pub fn object_at(&self, line: usize) -> Option<usize> {
        let mut start = 0;
        for (i, o) in self.objects().iter().enumerate() {
            let end = start + 1 + o.mappings.len();
            if line < end {
                return Some(i);
            }
            start = end;
        }
        None
    }

    /// Takes a fresh report; the selection stays on the same object where
    /// it is still there.
    pub fn collected(&mut self, report: Result<Report, String>) {
        let was = self.selected_object().map(|o| o.key.clone());
        self.report = Some(report);
        self.collecting = false;
        let again = was.and_then(|key| self.objects().iter().position(|o| o.key == key));
        self.selected = again.unwrap_or(0);
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
    /// first that maps it): (pid, address). A process mapping it more than
    /// once offers its mapping of the object's lowest offset, shared first.
    pub fn target(&self, default: i32) -> Option<(i32, u64)> {
        let object = self.selected_object()?;
        let want = self.through.unwrap_or(default);
        let pid = if object.mappings.iter().any(|m| m.pid == want) {
            want
        } else {
            object.mappings.first()?.pid
        };
        object
            .mappings
            .iter()
            .filter(|m| m.pid == pid)
            .min_by_key(|m| (m.offset, !m.is_shared(), m.start))
            .map(|m| (m.pid, m.start))
    }
}

impl App {
    /// Collects the shared-memory map of every target shown, on a thread of
    /// its own: it reads /proc of each, and the UI never waits.
    pub(super) fn collect_shared(&mut self) {
        if self.shared.collecting {
            return;
        }
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
        match spawned {
            Ok(_) => self.shared.collecting = true,
            Err(e) => self.say(
                Level::Error,
                format!("cannot collect the shared-memory map: {e}"),
            ),
        }
    }

    /// Opens the Shared pane, collecting the map when it has none yet.
    pub(super) fn open_shared(&mut self) {
        self.set_pane(Pane::Shared);
        if self.shared.report.is_none() {
            self.collect_shared();
        }
    }

    /// Enter in the Shared pane: the selected object in the hex view, read
    /// through the process chosen, at that process's address of it.
    pub(super) fn open_shared_object(&mut self) {
        let main = self.process.pid;
        let Some((pid, addr)) = self.shared.target(main) else {
            return;
        };
        let through = (pid != main).then_some(pid);
        if through.is_some() && !self.peers.list.iter().any(|p| p.pid == pid) {
            self.say(
                Level::Warning,
                format!("{pid} is no longer shown: A adds it again"),
            );
            return;
        }
        self.set_through(through);
        self.hex.back.clear();
        self.open_hex(addr);
    }
}

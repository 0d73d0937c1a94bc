//! The hunt overlay's actions: `P` asks for the depth and largest offset
//! of a pointer scan to the selected watch or search result, then starts it; `W` a live list of who writes the selected
//! watch; Enter adds a chain as a watch; Esc closes the overlay and stops
//! its job (a writers watch's breakpoints go with it).

use crossterm::event::{KeyCode, KeyEvent};

use crate::hunt::pointers::Bounds;
use crate::tui::app::{App, Level, Pane};
use crate::tui::hunt::{POINTER_BOUNDS, PointerScan};
use crate::tui::input::Purpose;
use crate::tui::keys::Action;

impl App {
    /// A fresh number for a hunt job, so a closed job's late events are ignored.
    fn hunt_seq(&mut self) -> u64 {
        self.hunt_seq += 1;
        self.hunt_seq
    }

    /// The selected place of the pane: its address, its type's name and
    /// length, and how to name it.
    fn hunted_place(&self) -> Option<(u64, String, usize, String)> {
        match self.pane {
            Pane::Search => {
                let hit = self.search.hits.get(self.search.selected)?;
                let expr = self.search.watch_for(hit, &self.maps.maps);
                let ty = expr.rsplit_once(':').map_or("u8", |(_, t)| t).to_string();
                Some((hit.addr, ty, hit.len, format!("{expr} at {:#x}", hit.addr)))
            }
            _ => {
                let row = self.watches.selected_row()?;
                let (addr, ty) = (row.addr?, row.ty.as_ref()?);
                // A chain's expression names its end without the debug
                // info, as saved chains do: `int` ends as `i32`.
                Some((
                    addr,
                    ty.plain().to_string(),
                    ty.size(),
                    format!("{} at {addr:#x}", row.expr),
                ))
            }
        }
    }

    /// Opens the prompt for the scan's bounds, filled with the defaults.
    pub(super) fn start_pointers(&mut self) {
        if self.exited() {
            return self.say(Level::Info, "the target exited: nothing to scan");
        }
        let Some((addr, ty, _, subject)) = self.hunted_place() else {
            return self.say(
                Level::Info,
                "P scans for pointers to a watch or a search result: select one that has an address",
            );
        };
        let scan = PointerScan { addr, ty, subject };
        let defaults = format!("{} {}", POINTER_BOUNDS.depth, POINTER_BOUNDS.max_offset);
        self.start_input(Purpose::Pointers(scan), defaults);
    }

    /// Starts the scan the bounds prompt was opened for.
    pub(super) fn run_pointers(&mut self, scan: PointerScan, bounds: &str) {
        let bounds = match Bounds::parse(bounds, POINTER_BOUNDS.max_chains) {
            Ok(b) => b,
            Err(e) => return self.say(Level::Error, format!("pointer scan: {e}")),
        };
        if self.exited() {
            return self.say(Level::Info, "the target exited: nothing to scan");
        }
        let Some(hunter) = self.hunter.clone() else {
            return self.say(Level::Error, "no target to scan");
        };
        let seq = self.hunt_seq();
        self.hunt = None;
        match hunter.pointers(seq, scan, bounds) {
            Ok(view) => self.hunt = Some(view),
            Err(e) => self.say(Level::Error, e.to_string()),
        }
    }

    pub(super) fn start_writers(&mut self) {
        if self.exited() {
            return self.say(Level::Info, "the target exited: nothing writes any more");
        }
        if self.pane != Pane::Watches {
            return self.say(
                Level::Info,
                "W lists who writes a watch: select one in the watches pane",
            );
        }
        let Some((addr, _, len, subject)) = self.hunted_place() else {
            return self.say(Level::Info, "W needs a watch that has an address");
        };
        let Some(hunter) = self.hunter.clone() else {
            return self.say(Level::Error, "no target to watch");
        };
        let seq = self.hunt_seq();
        // The old job's breakpoints go before new ones are asked for.
        self.hunt = None;
        match hunter.writers(seq, subject, addr, len) {
            Ok(view) => self.hunt = Some(view),
            Err(e) => self.say(Level::Error, format!("writers: {e}")),
        }
    }

    /// A key while the overlay is open: it moves, adds a chain, or closes.
    pub(super) fn hunt_key(&mut self, key: KeyEvent, action: Option<Action>) {
        let Some(view) = self.hunt.as_mut() else {
            return;
        };
        let page = self.size.1.saturating_sub(8).max(1) as i64;
        let by = match action {
            Some(Action::Up) => -1,
            Some(Action::Down) => 1,
            Some(Action::PageUp) => -page,
            Some(Action::PageDown) => page,
            Some(Action::Top) => i64::MIN / 2,
            Some(Action::Bottom) => i64::MAX / 2,
            _ => 0,
        };
        if by != 0 {
            let last = view.len().saturating_sub(1) as i64;
            view.selected = (view.selected as i64).saturating_add(by).clamp(0, last) as usize;
            return;
        }
        if action == Some(Action::Activate) {
            return self.add_chain();
        }
        if key.code == KeyCode::Esc || action == Some(Action::Quit) {
            let writers = !view.is_pointers();
            self.hunt = None;
            if writers {
                self.say(
                    Level::Info,
                    "writers watch stopped: its breakpoints are removed",
                );
            }
        }
    }

    fn add_chain(&mut self) {
        let Some(expr) = self
            .hunt
            .as_ref()
            .and_then(|v| v.selected_chain())
            .map(|c| c.expr.clone())
        else {
            return;
        };
        match self.add_watch(&expr) {
            Ok(id) => {
                self.hunt = None;
                self.set_pane(Pane::Watches);
                self.watches.selected = self.watches.len().saturating_sub(1);
                self.say_about(id, Level::Info, format!("added watch {expr}"));
            }
            Err(e) => self.say(Level::Error, format!("{expr}: {}", e.message)),
        }
    }
}

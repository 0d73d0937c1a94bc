//! The search pane's actions: starting a search or value scan, narrowing
//! it (or undoing a narrowing), and adding a result as a watch. The pane's
//! state and the job runner are in [`crate::tui::search`].

use crate::search::{Condition, ValueType};
use crate::tui::app::{App, Level};
use crate::tui::input::Purpose;
use crate::tui::search::{Request, parse_request};

impl App {
    pub(super) fn start_search(&mut self, text: String) {
        let request = match parse_request(&text) {
            Ok(r) => r,
            Err(e) => return self.say(Level::Error, e.to_string()),
        };
        let Some(searcher) = self.searcher.clone() else {
            return self.say(Level::Error, "no target to search");
        };
        if let Some(c) = self.search.running.take() {
            c.cancel();
        }
        let seq = self.search.seq + 1;
        self.search.restart(text, seq);
        match &request {
            Request::Scan(ty, _) => self.search.scan_ty = Some(*ty),
            Request::Unknown(ty) => {
                self.search.scan_ty = Some(*ty);
                self.search.snapshot = true;
            }
            Request::Pattern(_) => {}
        }
        let save = match self.search.scan_path() {
            Ok(path) => path,
            Err(e) => return self.say(Level::Error, e.to_string()),
        };
        match searcher.start(seq, &request, &self.maps.maps, &save) {
            Ok(canceller) => self.search.running = Some(canceller),
            Err(e) => self.say(Level::Error, e.to_string()),
        }
    }

    pub(super) fn start_narrow(&mut self) {
        match (&self.search.scan, self.search.scan_ty) {
            (Some(_), Some(ty)) if !self.search.is_running() => {
                self.start_input(Purpose::Narrow(ty), String::new())
            }
            _ if self.search.is_running() => self.say(
                Level::Info,
                "the scan is still running: wait for it, or Esc stops it",
            ),
            _ => self.say(
                Level::Info,
                "narrowing follows a value scan: / then e.g. u32 1234, or u32 unknown",
            ),
        }
    }

    pub(super) fn narrow(&mut self, ty: ValueType, text: &str) {
        let undo = text.trim() == "undo";
        let condition = if undo {
            None
        } else {
            let words: Vec<String> = text.split_whitespace().map(String::from).collect();
            match Condition::parse(ty, &words) {
                Ok(c) => Some(c),
                Err(e) => return self.say(Level::Error, e.to_string()),
            }
        };
        let Some(searcher) = self.searcher.clone() else {
            return;
        };
        let save = match self.search.scan_path() {
            Ok(path) => path,
            Err(e) => return self.say(Level::Error, e.to_string()),
        };
        let Some(from) = self.search.scan.take() else {
            return;
        };
        let query = format!("{} · narrow: {}", self.search.query, text.trim());
        let seq = self.search.seq + 1;
        let ty = self.search.scan_ty;
        self.search.restart(query, seq);
        self.search.scan_ty = ty;
        self.search.counts_places = true;
        match condition {
            None => {
                // The file is put back from its step before.
                drop(from);
                searcher.undo(seq, &save, &self.maps.maps);
            }
            Some(condition) => {
                match searcher.narrow(seq, from, condition, &self.maps.maps, &save) {
                    Ok(canceller) => self.search.running = Some(canceller),
                    Err(e) => self.say(Level::Error, e.to_string()),
                }
            }
        }
    }

    pub(super) fn add_hit_as_watch(&mut self) {
        let Some(hit) = self.search.hits.get(self.search.selected).cloned() else {
            return self.say(Level::Info, "no result selected: / starts a search");
        };
        let expr = self.search.watch_for(&hit, &self.maps.maps);
        match self.add_watch(&expr) {
            Ok(id) => self.say_about(id, Level::Info, format!("added watch {expr}")),
            Err(e) => self.say(Level::Error, format!("{expr}: {}", e.message)),
        }
    }
}

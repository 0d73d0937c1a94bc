//! The search pane's actions: starting a search or value scan, narrowing
//! it, and adding a result as a watch. The pane's state and the job runner
//! are in [`crate::tui::search`].

use crate::search::{Condition, ValueType};
use crate::tui::app::{App, Level};
use crate::tui::input::Purpose;
use crate::tui::search::{Request, SearchState, parse_request};

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
        let scan_ty = match &request {
            Request::Scan(ty, _) => Some(*ty),
            Request::Pattern(_) => None,
        };
        self.search = SearchState {
            query: text,
            seq,
            scan_ty,
            ..SearchState::default()
        };
        match searcher.start(seq, &request, &self.maps.maps) {
            Ok(canceller) => self.search.running = Some(canceller),
            Err(e) => self.say(Level::Error, e.to_string()),
        }
    }

    pub(super) fn start_narrow(&mut self) {
        match (&self.search.scan, self.search.scan_ty) {
            (Some(_), Some(ty)) if !self.search.is_running() => {
                self.start_input(Purpose::Narrow(ty), String::new())
            }
            _ => self.say(
                Level::Info,
                "narrowing follows a value scan: / then e.g. u32 1234",
            ),
        }
    }

    pub(super) fn narrow(&mut self, ty: ValueType, text: &str) {
        let words: Vec<String> = text.split_whitespace().map(String::from).collect();
        let condition = match Condition::parse(ty, &words) {
            Ok(c) => c,
            Err(e) => return self.say(Level::Error, e.to_string()),
        };
        let (Some(searcher), Some(from)) = (self.searcher.clone(), self.search.scan.take()) else {
            return;
        };
        self.search.seq += 1;
        self.search.hits.clear();
        self.search.summary = None;
        self.search.progress = None;
        self.search.query = format!("{} · narrow: {text}", self.search.query);
        match searcher.narrow(self.search.seq, from, condition, &self.maps.maps) {
            Ok(canceller) => self.search.running = Some(canceller),
            Err(e) => self.say(Level::Error, e.to_string()),
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

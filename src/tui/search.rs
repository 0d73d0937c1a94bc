//! The search pane's state and the worker that feeds it: a search or scan
//! [`Job`] runs on its own threads, and a forwarding thread turns its events
//! into [`Event::Search`] on the UI's one channel. The UI thread only keeps
//! the job's canceller.
//!
//! What the user types picks the kind of search:
//!
//! ```text
//! gold=[0-9]+          a regex (regex::bytes)
//! hex 48 8b ?? ?? 00   bytes with ?? wildcards
//! text Hello           literal UTF-8 text   (itext: ignoring case; utf16: UTF-16LE)
//! u32 1234             a value scan (u8..u64, i8..i64, f32, f64; `u32 range 1 10`)
//! ```
//! After a value scan, `n` narrows it: `changed`, `unchanged`, `increased`,
//! `decreased`, `increased-by N`, `= N`, `range A B`.

use std::sync::mpsc::Sender;

use crate::error::{Error, Result};
use crate::process::{Maps, ReadMode};
use crate::search::{
    Canceller, Condition, Encoding, Pattern, Progress, Query, ScanFile, ScanSpec, SearchEvent,
    SearchJob, SearchOptions, Summary, ValueType,
};
use crate::session::Searches;
use crate::tui::event::Event;
use crate::units::human_bytes;

/// Results kept for display; the count goes on past it.
pub const MAX_SHOWN: usize = 10_000;

/// What a typed line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Pattern(Query),
    Scan(ValueType, Condition),
}

/// Parses the search line (see the module docs).
pub fn parse_request(text: &str) -> Result<Request> {
    let text = text.trim();
    let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    let literal = |encoding, ignore_case| {
        Ok(Request::Pattern(Query::Text {
            text: rest.to_string(),
            encoding,
            ignore_case,
        }))
    };
    if text.is_empty() {
        return Err(Error::Usage(
            "type a regex, `hex 48 8b ??`, `text word` or `u32 1234`".into(),
        ));
    }
    let request = match first {
        "hex" => Request::Pattern(Query::Bytes(rest.to_string())),
        "text" => literal(Encoding::Utf8, false)?,
        "itext" => literal(Encoding::Utf8, true)?,
        "utf16" => literal(Encoding::Utf16Le, false)?,
        _ => match ValueType::parse(first) {
            Ok(ty) => {
                let words: Vec<String> = rest.split_whitespace().map(String::from).collect();
                Request::Scan(ty, Condition::parse(ty, &words)?)
            }
            Err(_) => Request::Pattern(Query::Regex(text.to_string())),
        },
    };
    if let Request::Pattern(query) = &request {
        // Compiling now reports a bad regex or byte pattern while typing.
        Pattern::new(query)?;
    }
    if let Request::Scan(_, condition) = &request {
        if condition.needs_previous() {
            return Err(Error::Usage(
                "a first scan needs a value or a range; narrow with n afterwards".into(),
            ));
        }
    }
    Ok(request)
}

/// One row of the results.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub addr: u64,
    pub len: usize,
    pub region: String,
    /// The matched bytes (a search) or the value's text (a scan).
    pub preview: Vec<u8>,
    pub value: Option<String>,
}

#[derive(Default)]
pub struct SearchState {
    pub query: String,
    pub seq: u64,
    pub running: Option<Canceller>,
    pub progress: Option<Progress>,
    pub hits: Vec<Hit>,
    pub found: u64,
    /// The end of the last job, said plainly.
    pub summary: Option<String>,
    /// The candidates of the last scan, for narrowing.
    pub scan: Option<ScanFile>,
    pub scan_ty: Option<ValueType>,
    pub selected: usize,
}

impl SearchState {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Takes a job's event; `maps` names the regions of scan results.
    pub fn update(&mut self, seq: u64, event: SearchEvent, maps: &Maps) {
        if seq != self.seq {
            return;
        }
        match event {
            SearchEvent::Found(batch) => {
                self.found += batch.len() as u64;
                let room = MAX_SHOWN.saturating_sub(self.hits.len());
                self.hits.extend(batch.into_iter().take(room).map(|m| Hit {
                    addr: m.addr,
                    len: m.len,
                    region: m.region.to_string(),
                    preview: m.bytes,
                    value: None,
                }));
            }
            SearchEvent::Progress(p) => self.progress = Some(p),
            SearchEvent::Finished(summary) => self.finish(summary, maps),
        }
    }

    fn finish(&mut self, mut summary: Summary, maps: &Maps) {
        self.running = None;
        let mut line = if summary.narrow.is_some() {
            format!(
                "{} kept · {} of {} candidates re-read in {:.2} s",
                summary.found,
                summary.done,
                summary.total,
                summary.elapsed.as_secs_f64()
            )
        } else {
            format!(
                "{} found · {} of {} in {} regions in {:.2} s",
                summary.found,
                human_bytes(summary.done),
                human_bytes(summary.total),
                summary.regions,
                summary.elapsed.as_secs_f64()
            )
        };
        // What was not read is one of the job's notes ("not searched: …"),
        // by reason; it is said once.
        match &summary.end {
            crate::search::End::Complete => {}
            crate::search::End::Cancelled => line.push_str(" · cancelled, results so far kept"),
            crate::search::End::Limit => line.push_str(" · stopped at the result limit"),
            crate::search::End::Failed(why) => line.push_str(&format!(" · stopped: {why}")),
        }
        for note in &summary.notes {
            line.push_str(&format!(" · {note}"));
        }
        if let Some(scan) = summary.scan.take() {
            self.found = scan.count();
            let ty = scan.header().ty;
            self.scan_ty = Some(ty);
            self.hits = scan
                .first(MAX_SHOWN)
                .unwrap_or_default()
                .into_iter()
                .map(|c| Hit {
                    addr: c.addr,
                    len: c.ty(ty).size(),
                    region: maps
                        .find(c.addr)
                        .map(crate::search::walk::region_label)
                        .unwrap_or_default(),
                    preview: Vec::new(),
                    value: Some(ty.format(c.bits)),
                })
                .collect();
            self.scan = Some(scan);
        }
        self.selected = self.selected.min(self.hits.len().saturating_sub(1));
        self.summary = Some(line);
    }

    /// The watch expression for a hit: relative to the file it lies in, when
    /// it lies in one, so it survives ASLR.
    pub fn watch_for(&self, hit: &Hit, maps: &Maps) -> String {
        let ty = match self.scan_ty {
            // An `int` scan's place has its own width's type.
            Some(ty) if hit.value.is_some() => {
                ty.with_width(hit.len).unwrap_or(ty).name().to_string()
            }
            _ => format!("bytes[{}]", hit.len.clamp(1, 64)),
        };
        let place = maps
            .find(hit.addr)
            .filter(|r| r.is_file())
            .map(|r| {
                let base = maps
                    .regions()
                    .iter()
                    .filter(|o| o.path == r.path)
                    .map(|o| o.start)
                    .min()
                    .unwrap_or(r.start);
                format!("[{}]+{:#x}", r.name(), hit.addr - base)
            })
            .unwrap_or_else(|| format!("{:#x}", hit.addr));
        format!("{place}:{ty}")
    }
}

/// Starts jobs on the target and forwards their events to the UI.
#[derive(Clone)]
pub struct Searcher {
    searches: Searches,
    tx: Sender<Event>,
}

impl Searcher {
    pub fn new(searches: Searches, tx: Sender<Event>) -> Searcher {
        Searcher { searches, tx }
    }

    /// Starts a search or first scan numbered `seq`.
    pub fn start(&self, seq: u64, request: &Request, maps: &Maps) -> Result<Canceller> {
        let options = SearchOptions {
            mode: ReadMode::NoWait,
            ..SearchOptions::default()
        };
        let job = match request {
            Request::Pattern(query) => self.searches.search(maps, query, options)?,
            Request::Scan(ty, condition) => {
                self.searches
                    .scan(maps, ScanSpec::new(*ty, *condition), None, options)?
            }
        };
        Ok(self.forward(seq, job))
    }

    /// Narrows the candidates of a previous scan.
    pub fn narrow(
        &self,
        seq: u64,
        from: ScanFile,
        condition: Condition,
        maps: &Maps,
    ) -> Result<Canceller> {
        let job = self
            .searches
            .narrow(maps, from, condition, None, ReadMode::NoWait)?;
        Ok(self.forward(seq, job))
    }

    fn forward(&self, seq: u64, job: SearchJob) -> Canceller {
        let canceller = job.canceller();
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("pvtui-search-events".into())
            .spawn(move || {
                for event in job.events() {
                    let last = matches!(event, SearchEvent::Finished(_));
                    if tx.send(Event::Search(seq, event)).is_err() || last {
                        break;
                    }
                }
                // Dropping the job here cancels and joins it.
            });
        if spawned.is_err() {
            canceller.cancel();
        }
        canceller
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_picks_the_kind() {
        assert_eq!(
            parse_request("gold=[0-9]+").expect("regex"),
            Request::Pattern(Query::Regex("gold=[0-9]+".into()))
        );
        assert_eq!(
            parse_request("hex 48 8b ?? 00").expect("bytes"),
            Request::Pattern(Query::Bytes("48 8b ?? 00".into()))
        );
        assert!(matches!(
            parse_request("itext Hello").expect("text"),
            Request::Pattern(Query::Text {
                ignore_case: true,
                ..
            })
        ));
        assert!(matches!(
            parse_request("u32 1234").expect("scan"),
            Request::Scan(ValueType::U32, _)
        ));
    }

    #[test]
    fn an_int_scan_hit_watches_its_own_width() {
        assert!(matches!(
            parse_request("int 300").expect("scan"),
            Request::Scan(ValueType::INT, _)
        ));
        let state = SearchState {
            scan_ty: Some(ValueType::INT),
            ..SearchState::default()
        };
        let hit = Hit {
            addr: 0x1000,
            len: 2,
            region: "[heap]".into(),
            preview: Vec::new(),
            value: Some("300".into()),
        };
        let maps = Maps::default();
        assert_eq!(state.watch_for(&hit, &maps), "0x1000:u16");
    }

    #[test]
    fn bad_requests_say_why() {
        assert!(parse_request("").is_err());
        assert!(parse_request("a(").is_err());
        assert!(parse_request("u8 300").is_err());
        assert!(parse_request("u32 changed").is_err());
        assert!(parse_request("hex zz").is_err());
    }
}

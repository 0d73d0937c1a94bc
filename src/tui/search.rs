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
//! u32 unknown          an unknown-value scan: a snapshot of every u32 place
//! ```
//! After a value scan, `n` narrows it: `changed`, `unchanged`, `increased`,
//! `decreased`, `increased-by N`, `decreased-by N`, `= N`, `range A B`, and
//! `undo` goes back a step.
//!
//! The forwarding thread also does the work a result needs before it is
//! shown (naming places by module and symbol, reading a finished scan's
//! first places), so the UI thread only files what arrives.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use crate::error::{Error, Result};
use crate::process::{Maps, ReadMode};
use crate::search::{
    Canceller, Candidate, Condition, Encoding, End, Match, Pattern, Progress, Query, RegionFilter,
    ScanFile, ScanSpec, SearchEvent, SearchJob, SearchOptions, Summary, ValueType,
};
use crate::session::Searches;
use crate::symbols::SymbolTable;
use crate::tui::event::Event;
use crate::units::human_bytes;

/// Results kept for display; the count goes on past it.
pub const MAX_SHOWN: usize = 10_000;

/// What a typed line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Pattern(Query),
    Scan(ValueType, Condition),
    /// A snapshot of every place of the type, for narrowing by change.
    Unknown(ValueType),
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
            "type a regex, `hex 48 8b ??`, `text word`, `u32 1234` or `u32 unknown`".into(),
        ));
    }
    let request = match first {
        "hex" => Request::Pattern(Query::Bytes(rest.to_string())),
        "text" => literal(Encoding::Utf8, false)?,
        "itext" => literal(Encoding::Utf8, true)?,
        "utf16" => literal(Encoding::Utf16Le, false)?,
        _ => match ValueType::parse(first) {
            Ok(ty) if matches!(rest, "unknown" | "?") => Request::Unknown(ty),
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
                "a first scan needs a value, a range or `unknown`; narrow with n afterwards".into(),
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
    /// Where it lies: by module and symbol (`game!g_world+0x10`,
    /// `[game]+0x4010`), else the region's name (`[heap]`).
    pub place: String,
    /// The matched bytes (a search).
    pub preview: Vec<u8>,
    /// The value's text (a scan).
    pub value: Option<String>,
}

/// What the forwarding thread sends the pane, ready to show.
#[derive(Debug)]
pub enum SearchUpdate {
    /// Matches or places found, named; each batch in address order.
    Hits(Vec<Hit>),
    Progress(Progress),
    Finished(Box<Finished>),
}

/// How a job ended, worked out off the UI thread.
#[derive(Debug)]
pub struct Finished {
    /// The end, said plainly.
    pub line: String,
    pub found: u64,
    /// A scan's places, for narrowing.
    pub scan: Option<ScanFile>,
    /// A scan's first places in address order, named: they replace what
    /// streamed in.
    pub hits: Option<Vec<Hit>>,
}

#[derive(Default)]
pub struct SearchState {
    pub query: String,
    pub seq: u64,
    pub running: Option<Canceller>,
    pub progress: Option<Progress>,
    /// Progress counts places (narrowing), not bytes.
    pub counts_places: bool,
    /// The first [`MAX_SHOWN`] results by address.
    pub hits: Vec<Hit>,
    pub found: u64,
    /// The end of the last job, said plainly.
    pub summary: Option<String>,
    /// The places of the last scan, for narrowing.
    pub scan: Option<ScanFile>,
    pub scan_ty: Option<ValueType>,
    /// The last scan is an unknown-value snapshot (every place, not listed).
    pub snapshot: bool,
    /// Where this pane keeps its scan files and their undo steps; removed with it.
    dir: Option<tempfile::TempDir>,
    pub selected: usize,
}

impl SearchState {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The file the pane's scan lives in (narrowed in place, its earlier
    /// steps beside it for undo).
    pub fn scan_path(&mut self) -> Result<PathBuf> {
        if self.dir.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("pvtui-scans-")
                .tempdir()
                .map_err(|e| Error::Io {
                    what: "a directory for scan files".into(),
                    source: e,
                })?;
            self.dir = Some(dir);
        }
        Ok(self
            .dir
            .as_ref()
            .map_or_else(std::env::temp_dir, |d| d.path().to_path_buf())
            .join("scan"))
    }

    /// A new job numbered `seq` starts: what the last one showed goes, the
    /// scan directory stays.
    pub fn restart(&mut self, query: String, seq: u64) {
        let dir = self.dir.take();
        *self = SearchState {
            query,
            seq,
            dir,
            ..SearchState::default()
        };
    }

    /// Takes a job's update.
    pub fn update(&mut self, seq: u64, update: SearchUpdate) {
        if seq != self.seq {
            return;
        }
        match update {
            SearchUpdate::Hits(batch) => {
                self.found += batch.len() as u64;
                let full = self.hits.len() >= MAX_SHOWN;
                let last = self.hits.last().map_or(0, |h| h.addr);
                if full && batch.first().is_some_and(|h| h.addr > last) {
                    return;
                }
                self.hits.extend(batch);
                // Lanes find in any order; the list stays by address.
                self.hits.sort_by_key(|h| h.addr);
                self.hits.truncate(MAX_SHOWN);
            }
            SearchUpdate::Progress(p) => self.progress = Some(p),
            SearchUpdate::Finished(end) => {
                self.running = None;
                self.found = end.found;
                if let Some(hits) = end.hits {
                    self.hits = hits;
                }
                if let Some(scan) = end.scan {
                    self.scan_ty = Some(scan.header().ty);
                    self.scan = Some(scan);
                }
                self.summary = Some(end.line);
            }
        }
        self.selected = self.selected.min(self.hits.len().saturating_sub(1));
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

/// What a job's results are, for naming them.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Search,
    /// Places of a value scan or narrowing of this type.
    Places(ValueType),
    /// An unknown-value snapshot of this type.
    Snapshot(ValueType),
}

/// Names places by module and symbol; the symbol table is read on first need.
struct Namer {
    searches: Searches,
    maps: Maps,
    symbols: Option<SymbolTable>,
}

impl Namer {
    fn place(&mut self, addr: u64) -> String {
        let (searches, maps) = (&self.searches, &self.maps);
        let symbols = self.symbols.get_or_insert_with(|| searches.symbols(maps));
        symbols.place(addr).unwrap_or_else(|| {
            maps.find(addr)
                .map_or_else(|| "[unmapped]".into(), crate::search::walk::region_label)
        })
    }

    fn matched(&mut self, m: Match) -> Hit {
        Hit {
            addr: m.addr,
            len: m.len,
            place: self.place(m.addr),
            preview: m.bytes,
            value: None,
        }
    }

    fn placed(&mut self, c: Candidate, ty: ValueType) -> Hit {
        // An `int` scan's place has its own width's type.
        let ty = c.ty(ty);
        Hit {
            addr: c.addr,
            len: ty.size(),
            place: self.place(c.addr),
            preview: Vec::new(),
            value: Some(ty.format(c.bits)),
        }
    }

    /// The summary line, and a scan's first places read from its file.
    fn finish(&mut self, mut summary: Summary, kind: Kind) -> Finished {
        let secs = summary.elapsed.as_secs_f64();
        let mut line = match (&summary.narrow, kind) {
            (Some(_), _) => format!(
                "{} kept · {} of {} places re-read in {secs:.2} s",
                summary.found, summary.done, summary.total
            ),
            (None, Kind::Snapshot(ty)) => format!(
                "snapshot of {} {ty} places · {} of {} in {} regions in {secs:.2} s · \
                 n narrows it: changed, increased, …",
                summary.found,
                human_bytes(summary.done),
                human_bytes(summary.total),
                summary.regions,
            ),
            (None, _) => format!(
                "{} found · {} of {} in {} regions in {secs:.2} s",
                summary.found,
                human_bytes(summary.done),
                human_bytes(summary.total),
                summary.regions,
            ),
        };
        // What was not read is one of the job's notes ("not searched: …"),
        // by reason; it is said once.
        match &summary.end {
            End::Complete => {}
            End::Cancelled => line.push_str(" · cancelled, results so far kept"),
            End::Limit => line.push_str(" · stopped at the result limit"),
            End::Failed(why) => line.push_str(&format!(" · stopped: {why}")),
        }
        for note in &summary.notes {
            line.push_str(&format!(" · {note}"));
        }
        let scan = summary.scan.take();
        let (found, hits) = match (&scan, kind) {
            (Some(file), Kind::Snapshot(_)) => (file.count(), Some(Vec::new())),
            (Some(file), _) => {
                let ty = file.header().ty;
                let first = file.first(MAX_SHOWN).unwrap_or_else(|e| {
                    line.push_str(&format!(" · places not listed: {e}"));
                    Vec::new()
                });
                let hits = first.into_iter().map(|c| self.placed(c, ty)).collect();
                (file.count(), Some(hits))
            }
            (None, _) => (summary.found, None),
        };
        Finished {
            line,
            found,
            scan,
            hits,
        }
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

    /// Starts a search or first scan numbered `seq`; a scan's places go to `save`.
    pub fn start(
        &self,
        seq: u64,
        request: &Request,
        maps: &Maps,
        save: &Path,
    ) -> Result<Canceller> {
        let mut options = SearchOptions {
            mode: ReadMode::NoWait,
            ..SearchOptions::default()
        };
        if !matches!(request, Request::Pattern(_)) {
            // As the command line's scans and scanmem: writable places.
            options.regions = RegionFilter {
                perms: Some("rw".into()),
                ..RegionFilter::default()
            };
        }
        let (job, kind) = match request {
            Request::Pattern(query) => (self.searches.search(maps, query, options)?, Kind::Search),
            Request::Scan(ty, condition) => (
                self.searches
                    .scan(maps, ScanSpec::new(*ty, *condition), Some(save), options)?,
                Kind::Places(*ty),
            ),
            Request::Unknown(ty) => (
                self.searches.snapshot(maps, *ty, Some(save), options)?,
                Kind::Snapshot(*ty),
            ),
        };
        Ok(self.forward(seq, job, maps, kind))
    }

    /// Narrows the places of a previous scan into `save` (its own file:
    /// the step before is kept beside it for undo).
    pub fn narrow(
        &self,
        seq: u64,
        from: ScanFile,
        condition: Condition,
        maps: &Maps,
        save: &Path,
    ) -> Result<Canceller> {
        let ty = from.header().ty;
        let job = self
            .searches
            .narrow(maps, from, condition, Some(save), ReadMode::NoWait)?;
        Ok(self.forward(seq, job, maps, Kind::Places(ty)))
    }

    /// Puts back the step before the last narrowing of the scan in `path`.
    pub fn undo(&self, seq: u64, path: &Path, maps: &Maps) {
        let (tx, path) = (self.tx.clone(), path.to_path_buf());
        let mut namer = self.namer(maps);
        let spawned = std::thread::Builder::new()
            .name("pvtui-scan-undo".into())
            .spawn(move || {
                let end = match crate::search::undo(&path) {
                    Ok(file) => {
                        let ty = file.header().ty;
                        let hits = file
                            .first(MAX_SHOWN)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|c| namer.placed(c, ty))
                            .collect();
                        Finished {
                            line: format!("back one step: {} places", file.count()),
                            found: file.count(),
                            scan: Some(file),
                            hits: Some(hits),
                        }
                    }
                    Err(e) => Finished {
                        line: format!("undo: {e}"),
                        found: 0,
                        scan: ScanFile::open(&path).ok(),
                        hits: None,
                    },
                };
                let _ = tx.send(Event::Search(seq, SearchUpdate::Finished(Box::new(end))));
            });
        if let Err(e) = spawned {
            let end = Finished {
                line: format!("undo: cannot start a thread: {e}"),
                found: 0,
                scan: None,
                hits: None,
            };
            let _ = self
                .tx
                .send(Event::Search(seq, SearchUpdate::Finished(Box::new(end))));
        }
    }

    fn namer(&self, maps: &Maps) -> Namer {
        Namer {
            searches: self.searches.clone(),
            maps: maps.clone(),
            symbols: None,
        }
    }

    fn forward(&self, seq: u64, job: SearchJob, maps: &Maps, kind: Kind) -> Canceller {
        let canceller = job.canceller();
        let tx = self.tx.clone();
        let mut namer = self.namer(maps);
        let spawned = std::thread::Builder::new()
            .name("pvtui-search-events".into())
            .spawn(move || {
                for event in job.events() {
                    let update = match event {
                        SearchEvent::Found(batch) => SearchUpdate::Hits(
                            batch.into_iter().map(|m| namer.matched(m)).collect(),
                        ),
                        SearchEvent::Places(places) => {
                            let ty = match kind {
                                Kind::Places(ty) | Kind::Snapshot(ty) => ty,
                                Kind::Search => continue,
                            };
                            SearchUpdate::Hits(
                                places.into_iter().map(|c| namer.placed(c, ty)).collect(),
                            )
                        }
                        SearchEvent::Progress(p) => SearchUpdate::Progress(p),
                        SearchEvent::Searched(_) => continue,
                        SearchEvent::Finished(summary) => {
                            let end = namer.finish(summary, kind);
                            let _ =
                                tx.send(Event::Search(seq, SearchUpdate::Finished(Box::new(end))));
                            break;
                        }
                    };
                    if tx.send(Event::Search(seq, update)).is_err() {
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
            place: "[heap]".into(),
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

    #[test]
    fn unknown_starts_a_snapshot() {
        assert_eq!(
            parse_request("u32 unknown").expect("unknown"),
            Request::Unknown(ValueType::U32)
        );
        assert_eq!(
            parse_request("i16 ?").expect("unknown"),
            Request::Unknown(ValueType::I16)
        );
    }

    fn hit(addr: u64) -> Hit {
        Hit {
            addr,
            len: 4,
            place: "[heap]".into(),
            preview: Vec::new(),
            value: Some("1".into()),
        }
    }

    #[test]
    fn streamed_results_stay_in_address_order_and_bounded() {
        let mut state = SearchState {
            seq: 1,
            ..SearchState::default()
        };
        state.update(1, SearchUpdate::Hits(vec![hit(0x3000), hit(0x4000)]));
        state.update(1, SearchUpdate::Hits(vec![hit(0x1000), hit(0x2000)]));
        // A late batch of an older job is ignored.
        state.update(0, SearchUpdate::Hits(vec![hit(0x10)]));
        let addrs: Vec<u64> = state.hits.iter().map(|h| h.addr).collect();
        assert_eq!(addrs, [0x1000, 0x2000, 0x3000, 0x4000]);
        assert_eq!(state.found, 4);
        let many: Vec<Hit> = (0..MAX_SHOWN as u64)
            .map(|i| hit(0x10_0000 + i * 4))
            .collect();
        state.update(1, SearchUpdate::Hits(many));
        assert_eq!(state.hits.len(), MAX_SHOWN);
        assert_eq!(state.hits[0].addr, 0x1000);
        assert_eq!(state.found, 4 + MAX_SHOWN as u64);
    }
}

//! `pvtui search`: find a regex, byte pattern or text in a process's memory.
use std::collections::BinaryHeap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use crate::error::{Error, Result};
use crate::process::ReadMode;
use crate::search::{
    Canceller, Encoding, End, Geometry, Match, Progress, Query, RegionFilter, SearchEvent,
    SearchOptions, Summary,
};
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::units::human_bytes;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The process to search
    #[arg(long, value_parser = super::numbers::pid)]
    pub pid: i32,
    /// A regular expression (regex crate syntax; `(?-u)` for raw bytes)
    #[arg(required_unless_present_any = ["bytes", "text"], conflicts_with_all = ["bytes", "text"])]
    pub regex: Option<String>,
    /// Hex bytes with ?? wildcards: '48 8b ?? ?? 00'
    #[arg(long, conflicts_with = "text")]
    pub bytes: Option<String>,
    /// Literal text
    #[arg(long)]
    pub text: Option<String>,
    /// Search the text as UTF-16LE instead of UTF-8
    #[arg(long, requires = "text")]
    pub utf16: bool,
    /// Ignore case (text searches)
    #[arg(long, short = 'i', requires = "text")]
    pub ignore_case: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print at most N matches, those at the lowest addresses, and say how
    /// many more there are (0 only counts); all are printed unless told
    #[arg(long, value_parser = super::numbers::max_results)]
    pub max: Option<u64>,
    /// The longest match guaranteed to be found whole across chunk edges
    #[arg(long, default_value_t = Geometry::DEFAULT_OVERLAP, value_parser = super::numbers::overlap)]
    pub overlap: usize,
    /// Print one JSON object per match
    #[arg(long)]
    pub json: bool,
}

/// Options shared by `search` and `scan`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Only regions whose path or name contains this (heap, libc, /usr/bin/app)
    #[arg(long)]
    pub region: Option<String>,
    /// Only regions with these permissions (rw, x, ...)
    #[arg(long)]
    pub perms: Option<String>,
    /// Only addresses from this one on (decimal or 0x-hex)
    #[arg(long, value_parser = super::parse_u64)]
    pub start: Option<u64>,
    /// Only addresses below this one
    #[arg(long, value_parser = super::parse_u64)]
    pub end: Option<u64>,
    /// Fault in pages that are not resident instead of skipping them
    #[arg(long)]
    pub force: bool,
    /// Bytes read per chunk
    #[arg(long, default_value_t = Geometry::DEFAULT_CHUNK, value_parser = super::numbers::chunk)]
    pub chunk: usize,
    /// Threads that read and match (0: one per core)
    #[arg(long, default_value_t = 0, value_parser = super::numbers::lanes)]
    pub lanes: usize,
}

impl CommonArgs {
    pub(super) fn options(&self) -> SearchOptions {
        SearchOptions {
            regions: RegionFilter {
                name: self.region.clone(),
                perms: self.perms.clone(),
                range: (self.start.is_some() || self.end.is_some())
                    .then(|| (self.start.unwrap_or(0), self.end.unwrap_or(u64::MAX))),
            },
            mode: if self.force {
                ReadMode::Force
            } else {
                ReadMode::NoWait
            },
            lanes: self.lanes,
            geometry: Geometry {
                chunk: self.chunk.max(1),
                ..Geometry::default()
            },
            ..SearchOptions::default()
        }
    }
}

#[derive(serde::Serialize)]
pub(super) struct JsonHit<'a> {
    pub address: String,
    /// `module!symbol+0xOFF` or `[module]+0xOFF`, where a mapped file holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub region: &'a str,
    pub len: usize,
    pub text: String,
    pub hex: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run(args: &SearchArgs) -> Result<ExitCode> {
    let query = match (&args.regex, &args.bytes, &args.text) {
        (Some(re), _, _) => Query::Regex(re.clone()),
        (_, Some(b), _) => Query::Bytes(b.clone()),
        (_, _, Some(t)) => Query::Text {
            text: t.clone(),
            encoding: if args.utf16 {
                Encoding::Utf16Le
            } else {
                Encoding::Utf8
            },
            ignore_case: args.ignore_case,
        },
        _ => return Err(Error::Usage("give a REGEX, --bytes or --text".into())),
    };
    let mut options = args.common.options();
    options.geometry.overlap = args.overlap;
    options.preview_len = usize::MAX;
    let interrupt = Interrupt::install();
    let session = Session::attach(args.pid, DEFAULT_DEADLINE)?;
    let maps = session.maps();
    let job = session.searches().search(maps, &query, options)?;
    interrupt.cancels(job.canceller());
    // Nothing prints until the end (results come sorted): say it started.
    eprintln!(
        "searching pid {}; Ctrl-C stops and prints what was found",
        session.pid()
    );
    let mut meter = Meter::new();
    // Lanes find matches out of order: keep them (the lowest --max of them)
    // and print in address order at the end.
    let mut kept = Lowest::new(args.max);
    let summary = loop {
        match job.events().recv() {
            Ok(SearchEvent::Found(batch)) => {
                for m in batch {
                    kept.offer(m);
                }
            }
            Ok(SearchEvent::Progress(p)) => meter.show(&p, "B"),
            Ok(SearchEvent::Finished(summary)) => break summary,
            Err(_) => return Err(Error::Internal("the search stopped unexpectedly".into())),
        }
    };
    meter.clear();
    let symbols = session.symbols();
    let (matches, left) = kept.into_sorted();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for m in &matches {
        let region = maps
            .find(m.addr)
            .map_or_else(|| m.region.to_string(), |r| symbols.region_name(r));
        let line = if args.json {
            serde_json::to_string(&JsonHit {
                address: format!("{:#x}", m.addr),
                place: symbols.place(m.addr),
                region: &region,
                len: m.len,
                text: String::from_utf8_lossy(&m.bytes).into_owned(),
                hex: hex(&m.bytes),
                value: None,
            })
            .map(crate::text::json_line)
            .map_err(|e| Error::Internal(e.to_string()))?
        } else {
            format!(
                "{}  {}  {}  {}",
                super::places::at(symbols, m.addr),
                crate::text::escape(&region),
                m.len,
                m.bytes.escape_ascii()
            )
        };
        if writeln!(out, "{line}").is_err() {
            // stdout closed (| head): nothing more to say.
            return Ok(ExitCode::SUCCESS);
        }
    }
    if let Some(max) = args.max {
        left_out(&mut out, left, max, args.json, "matches");
    }
    if out.flush().is_err() {
        return Ok(ExitCode::SUCCESS);
    }
    report(&summary, "matches")
}

/// Says how many results `--max` (or scan's default of 20) left out: a
/// line of text after the results, or a note on stderr beside JSON (whose
/// lines are all records). The same words for search and scan.
pub(super) fn left_out(out: &mut impl Write, left: u64, limit: u64, json: bool, what: &str) {
    if left == 0 {
        return;
    }
    if json {
        eprintln!("note: {left} more {what} not printed (--max {limit})");
    } else {
        let _ = writeln!(out, "... and {left} more (--max N prints more)");
    }
}

/// The matches with the lowest addresses, at most `max` of them, and how
/// many others were seen: memory stays bounded by `--max`.
struct Lowest {
    max: Option<u64>,
    heap: BinaryHeap<ByAddr>,
    dropped: u64,
}

struct ByAddr(Match);

impl PartialEq for ByAddr {
    fn eq(&self, other: &Self) -> bool {
        self.0.addr == other.0.addr
    }
}
impl Eq for ByAddr {}
impl PartialOrd for ByAddr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByAddr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.addr.cmp(&other.0.addr)
    }
}

impl Lowest {
    fn new(max: Option<u64>) -> Lowest {
        Lowest {
            max,
            heap: BinaryHeap::new(),
            dropped: 0,
        }
    }

    fn offer(&mut self, m: Match) {
        self.heap.push(ByAddr(m));
        if self.max.is_some_and(|max| self.heap.len() as u64 > max) {
            self.heap.pop();
            self.dropped += 1;
        }
    }

    /// The kept matches in address order, and how many were left out.
    fn into_sorted(self) -> (Vec<Match>, u64) {
        let kept = self.heap.into_sorted_vec().into_iter().map(|b| b.0);
        (kept.collect(), self.dropped)
    }
}

/// Prints the summary line and notes to stderr; picks the exit status.
/// Narrowing counts places, not bytes.
pub(super) fn report(summary: &Summary, what: &str) -> Result<ExitCode> {
    let secs = summary.elapsed.as_secs_f64();
    if summary.narrow.is_some() {
        eprintln!(
            "{} {what} remain of {} in {secs:.3} s",
            summary.found, summary.total
        );
    } else {
        let rate = if secs > 0.0 {
            summary.done as f64 / secs
        } else {
            0.0
        };
        eprintln!(
            "{} {what} in {} regions, {} covered in {secs:.3} s ({}/s)",
            summary.found,
            summary.regions,
            human_bytes(summary.done),
            human_bytes(rate as u64)
        );
    }
    for note in &summary.notes {
        eprintln!("note: {}", crate::text::escape(note));
    }
    Ok(match &summary.end {
        End::Complete | End::Limit => ExitCode::SUCCESS,
        End::Cancelled => {
            eprintln!("pvtui: cancelled; results so far are shown");
            ExitCode::from(130)
        }
        End::Failed(why) => {
            eprintln!("pvtui: {}", crate::text::escape(why));
            ExitCode::FAILURE
        }
    })
}

/// A one-line progress meter on stderr, shown only on a terminal.
pub(super) struct Meter {
    shown: bool,
    tty: bool,
}

impl Meter {
    pub fn new() -> Meter {
        Meter {
            shown: false,
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&mut self, p: &Progress, unit: &str) {
        if !self.tty {
            return;
        }
        let rate = if unit == "B" {
            format!("{}/s", human_bytes(p.rate() as u64))
        } else {
            format!("{:.0} {unit}/s", p.rate())
        };
        eprint!("\r{:5.1}%  {rate}   ", p.fraction() * 100.0);
        self.shown = true;
    }

    pub fn clear(&mut self) {
        if self.shown {
            eprint!("\r{:40}\r", "");
            self.shown = false;
        }
    }
}

/// Ctrl-C and SIGTERM cancel the running job instead of killing pvtui, so
/// the results so far are printed. The signals are blocked in every thread
/// and taken by one waiting thread, which needs no signal handler.
pub(super) struct Interrupt {
    canceller: Arc<std::sync::Mutex<Option<Canceller>>>,
}

impl Interrupt {
    pub fn install() -> Interrupt {
        use nix::sys::signal::{SigSet, Signal};
        let canceller: Arc<std::sync::Mutex<Option<Canceller>>> = Arc::default();
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        if set.thread_block().is_ok() {
            let slot = canceller.clone();
            let _ = std::thread::Builder::new()
                .name("pvtui-sigwait".into())
                .spawn(move || {
                    while set.wait().is_ok() {
                        match &*slot.lock().unwrap_or_else(|e| e.into_inner()) {
                            Some(c) => c.cancel(),
                            None => std::process::exit(130),
                        }
                    }
                });
        }
        Interrupt { canceller }
    }

    pub fn cancels(&self, canceller: Canceller) {
        *self.canceller.lock().unwrap_or_else(|e| e.into_inner()) = Some(canceller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(addr: u64) -> Match {
        Match {
            addr,
            len: 1,
            region: Arc::from("[heap]"),
            bytes: vec![0],
        }
    }

    #[test]
    fn the_lowest_matches_are_kept_in_address_order_and_the_rest_counted() {
        let mut kept = Lowest::new(Some(3));
        for addr in [50, 10, 40, 20, 60, 30] {
            kept.offer(at(addr));
        }
        let (matches, left) = kept.into_sorted();
        let addrs: Vec<u64> = matches.iter().map(|m| m.addr).collect();
        assert_eq!(addrs, [10, 20, 30]);
        assert_eq!(left, 3);
        let mut all = Lowest::new(None);
        for addr in [5, 1, 3] {
            all.offer(at(addr));
        }
        let (matches, left) = all.into_sorted();
        assert_eq!(
            matches.iter().map(|m| m.addr).collect::<Vec<_>>(),
            [1, 3, 5]
        );
        assert_eq!(left, 0);
    }

    #[test]
    fn text_says_how_many_were_left_out_and_json_stays_records() {
        let mut text = Vec::new();
        left_out(&mut text, 7, 3, false, "matches");
        assert_eq!(
            String::from_utf8_lossy(&text),
            "... and 7 more (--max N prints more)\n"
        );
        let mut json = Vec::new();
        left_out(&mut json, 7, 3, true, "matches");
        assert!(json.is_empty());
        let mut none = Vec::new();
        left_out(&mut none, 0, 3, false, "matches");
        assert!(none.is_empty());
    }
}

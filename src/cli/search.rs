//! `pvtui search`: find a regex, byte pattern or text in a process's memory.
use std::cmp::Reverse;
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
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
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
    pub pid: i32,
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
    let pids = args.targets.pids()?;
    let several = pids.len() > 1;
    let mut worst = ExitCode::SUCCESS;
    for pid in pids {
        let code = search_one(args, &query, options.clone(), pid, several, &interrupt)?;
        if code == cancelled_code() {
            // Ctrl-C ends the whole command, not one target's search.
            return Ok(code);
        }
        if code != ExitCode::SUCCESS {
            worst = code;
        }
    }
    Ok(worst)
}

/// Searches one process; with several, each text line starts with its pid.
fn search_one(
    args: &SearchArgs,
    query: &Query,
    options: SearchOptions,
    pid: i32,
    several: bool,
    interrupt: &Interrupt,
) -> Result<ExitCode> {
    let session = Session::attach(pid, DEFAULT_DEADLINE)?;
    let maps = session.maps();
    let options = SearchOptions {
        in_order: true,
        ..options
    };
    let job = session.searches().search(maps, query, options)?;
    interrupt.cancels(job.canceller());
    errln!(
        "searching pid {}; Ctrl-C stops, keeping what was printed",
        session.pid()
    );
    let symbols = session.symbols();
    let print = Printer {
        args,
        pid,
        several,
        maps,
        symbols,
    };
    let mut out = super::stdout();
    let mut meter = Meter::new();
    // Lanes find matches out of order; those past the address the search
    // has finished below wait here, a few segments' worth at most.
    let mut order = InOrder::new(args.max);
    let summary = loop {
        match job.events().recv() {
            Ok(SearchEvent::Found(batch)) => order.found(batch),
            Ok(SearchEvent::Searched(below)) => {
                meter.clear();
                order.release(below, |m| print.line(&mut out, m))?;
                out.flush().map_err(super::stdout_error)?;
            }
            Ok(SearchEvent::Progress(p)) => meter.show(&p, "B"),
            Ok(SearchEvent::Places(_)) => {}
            Ok(SearchEvent::Finished(summary)) => break summary,
            Err(_) => return Err(Error::Internal("the search stopped unexpectedly".into())),
        }
    };
    meter.clear();
    // A stopped search never passed the rest: what it found is complete.
    order.release(u64::MAX, |m| print.line(&mut out, m))?;
    if let Some(max) = args.max {
        left_out(&mut out, order.left, max, args.json, "matches")?;
    }
    out.flush().map_err(super::stdout_error)?;
    report(&summary, "matches")
}

/// How one match prints: a JSON record or a line of text.
struct Printer<'a> {
    args: &'a SearchArgs,
    pid: i32,
    several: bool,
    maps: &'a crate::process::Maps,
    symbols: &'a crate::symbols::SymbolTable,
}

impl Printer<'_> {
    fn line(&self, out: &mut impl Write, m: &Match) -> Result<()> {
        let region = self
            .maps
            .find(m.addr)
            .map_or_else(|| m.region.to_string(), |r| self.symbols.region_name(r));
        let line = if self.args.json {
            serde_json::to_string(&JsonHit {
                pid: self.pid,
                address: format!("{:#x}", m.addr),
                place: self.symbols.place(m.addr),
                region: &region,
                len: m.len,
                text: String::from_utf8_lossy(&m.bytes).into_owned(),
                hex: hex(&m.bytes),
                value: None,
            })
            .map(crate::text::json_line)
            .map_err(|e| Error::Internal(e.to_string()))?
        } else {
            let who = if self.several {
                format!("{}  ", self.pid)
            } else {
                String::new()
            };
            format!(
                "{who}{}  {}  {}  {}",
                super::places::at(self.symbols, m.addr),
                crate::text::escape(&region),
                m.len,
                m.bytes.escape_ascii()
            )
        };
        writeln!(out, "{line}").map_err(super::stdout_error)
    }
}

/// Says how many results `--max` (or scan's default of 20) left out: a
/// line of text after the results, or a note on stderr beside JSON (whose
/// lines are all records). The same words for search and scan.
pub(super) fn left_out(
    out: &mut impl Write,
    left: u64,
    limit: u64,
    json: bool,
    what: &str,
) -> Result<()> {
    if left == 0 {
        return Ok(());
    }
    if json {
        errln!("note: {left} more {what} not printed (--max {limit})");
        Ok(())
    } else {
        writeln!(out, "... and {left} more (--max N prints more)").map_err(super::stdout_error)
    }
}

/// The reorder buffer: matches wait here until the search has passed
/// their address, then leave in address order; past `--max` they are only
/// counted.
struct InOrder {
    max: Option<u64>,
    waiting: BinaryHeap<Reverse<ByAddr>>,
    printed: u64,
    /// Matches `--max` left out.
    left: u64,
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

impl InOrder {
    fn new(max: Option<u64>) -> InOrder {
        InOrder {
            max,
            waiting: BinaryHeap::new(),
            printed: 0,
            left: 0,
        }
    }

    fn found(&mut self, batch: Vec<Match>) {
        for m in batch {
            if self.max.is_some_and(|max| self.printed >= max) {
                self.left += 1;
            } else {
                self.waiting.push(Reverse(ByAddr(m)));
            }
        }
    }

    /// Hands every waiting match below `below` to `print`, lowest first.
    fn release(&mut self, below: u64, mut print: impl FnMut(&Match) -> Result<()>) -> Result<()> {
        while let Some(Reverse(ByAddr(m))) = self.waiting.peek() {
            if m.addr >= below {
                break;
            }
            let Some(Reverse(ByAddr(m))) = self.waiting.pop() else {
                break;
            };
            if self.max.is_some_and(|max| self.printed >= max) {
                self.left += 1;
                continue;
            }
            print(&m)?;
            self.printed += 1;
        }
        Ok(())
    }
}

/// Prints the summary line and notes to stderr; picks the exit status.
/// Narrowing counts places, not bytes.
pub(super) fn report(summary: &Summary, what: &str) -> Result<ExitCode> {
    let secs = summary.elapsed.as_secs_f64();
    if summary.narrow.is_some() {
        errln!(
            "{} {what} remain of {} in {secs:.3} s",
            summary.found,
            summary.total
        );
    } else {
        let rate = if secs > 0.0 {
            summary.done as f64 / secs
        } else {
            0.0
        };
        errln!(
            "{} {what} in {} regions, {} covered in {secs:.3} s ({}/s)",
            summary.found,
            summary.regions,
            human_bytes(summary.done),
            human_bytes(rate as u64)
        );
    }
    for note in &summary.notes {
        errln!("note: {}", crate::text::escape(note));
    }
    Ok(match &summary.end {
        End::Complete | End::Limit => ExitCode::SUCCESS,
        End::Cancelled => {
            errln!("pvtui: cancelled; results so far are shown");
            cancelled_code()
        }
        End::Failed(why) => {
            errln!("pvtui: {}", crate::text::escape(why));
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
        super::write_stderr(format!("\r{:5.1}%  {rate}   ", p.fraction() * 100.0).as_bytes());
        self.shown = true;
    }

    pub fn clear(&mut self) {
        if self.shown {
            super::write_stderr(format!("\r{:40}\r", "").as_bytes());
            self.shown = false;
        }
    }
}

/// Ctrl-C and SIGTERM cancel the running job instead of killing pvtui, so
/// the results so far are printed. The signals are blocked in every thread
/// and taken by one waiting thread, which needs no signal handler.
/// 128 + the signal that cancelled the command: 130 for Ctrl-C, 143 for
/// `kill` (130 until a signal comes).
static CANCEL_STATUS: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(130);

/// The exit status of a command cancelled by a signal.
pub(super) fn cancelled_code() -> ExitCode {
    ExitCode::from(CANCEL_STATUS.load(std::sync::atomic::Ordering::SeqCst))
}

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
                    while let Ok(signal) = set.wait() {
                        let status = crate::hunt::stop::exit_status(signal);
                        CANCEL_STATUS.store(status, std::sync::atomic::Ordering::SeqCst);
                        match &*slot.lock().unwrap_or_else(|e| e.into_inner()) {
                            Some(c) => c.cancel(),
                            None => std::process::exit(i32::from(status)),
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

    fn released(order: &mut InOrder, below: u64) -> Vec<u64> {
        let mut addrs = Vec::new();
        order
            .release(below, |m| {
                addrs.push(m.addr);
                Ok(())
            })
            .expect("printing to a vector");
        addrs
    }

    #[test]
    fn matches_leave_in_address_order_once_the_search_passed_them() {
        let mut order = InOrder::new(None);
        order.found(vec![at(50), at(10)]);
        order.found(vec![at(40), at(20)]);
        assert_eq!(released(&mut order, 30), [10, 20]);
        assert_eq!(order.waiting.len(), 2, "40 and 50 wait");
        order.found(vec![at(35)]);
        assert_eq!(released(&mut order, u64::MAX), [35, 40, 50]);
        assert_eq!(order.left, 0);
    }

    #[test]
    fn max_prints_the_lowest_and_counts_the_rest() {
        let mut order = InOrder::new(Some(3));
        order.found(vec![at(50), at(10), at(40), at(20)]);
        assert_eq!(released(&mut order, 45), [10, 20, 40]);
        order.found(vec![at(60), at(70)]);
        assert!(order.waiting.len() <= 1, "nothing more is kept past --max");
        assert_eq!(released(&mut order, u64::MAX), Vec::<u64>::new());
        assert_eq!(order.left, 3);
    }

    #[test]
    fn text_says_how_many_were_left_out_and_json_stays_records() {
        let mut text = Vec::new();
        left_out(&mut text, 7, 3, false, "matches").expect("to a vector");
        assert_eq!(
            String::from_utf8_lossy(&text),
            "... and 7 more (--max N prints more)\n"
        );
        let mut json = Vec::new();
        left_out(&mut json, 7, 3, true, "matches").expect("to a vector");
        assert!(json.is_empty());
        let mut none = Vec::new();
        left_out(&mut none, 0, 3, false, "matches").expect("to a vector");
        assert!(none.is_empty());
    }
}

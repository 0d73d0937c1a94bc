//! Search jobs on their own thread: results and progress stream over a
//! channel, a handle cancels.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::process::{ReadMode, Region};
use crate::search::find::{FindVisitor, Match};
use crate::search::pattern::Pattern;
use crate::search::scan::NarrowStats;
use crate::search::source::Source;
use crate::search::store::ScanFile;
use crate::search::walk::{
    Control, Geometry, InOrder, Segment, Skipped, Visitor, region_label, run_lane, segments,
};

/// Which regions a search covers. The default: every readable region.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionFilter {
    /// Keep regions whose path or name contains this (`heap`, `libc`, `/usr/bin/app`).
    pub name: Option<String>,
    /// Keep regions that have all these permissions (`rw`, `x`).
    pub perms: Option<String>,
    /// Only search inside `[start, end)`.
    pub range: Option<(u64, u64)>,
}

impl RegionFilter {
    /// The ranges to search: `(region index, start, end)`.
    pub fn select(&self, regions: &[Region]) -> Vec<(usize, u64, u64)> {
        regions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_readable() && !r.is_empty())
            .filter(|(_, r)| {
                self.name
                    .as_deref()
                    .is_none_or(|n| r.path.contains(n) || r.name().contains(n))
            })
            .filter(|(_, r)| {
                self.perms.as_deref().is_none_or(|p| {
                    p.chars().all(|c| match c {
                        'r' => r.perms.read,
                        'w' => r.perms.write,
                        'x' => r.perms.exec,
                        's' => r.perms.shared,
                        'p' => !r.perms.shared,
                        _ => false,
                    })
                })
            })
            .filter_map(|(i, r)| {
                let (lo, hi) = self.range.unwrap_or((0, u64::MAX));
                let start = r.start.max(lo);
                let end = r.end.min(hi);
                (start < end).then_some((i, start, end))
            })
            .collect()
    }

    /// Checks the permission letters and that the name matches some
    /// mapping of `regions`, so a typo is an error rather than an empty search.
    pub fn validate(&self, regions: &[Region]) -> Result<()> {
        if let Some(n) = &self.name
            && !regions
                .iter()
                .any(|r| r.path.contains(n.as_str()) || r.name().contains(n.as_str()))
        {
            return Err(Error::Usage(format!(
                "region filter \"{}\": no mapping's path or name contains it",
                crate::text::escape(n)
            )));
        }
        if let Some(p) = &self.perms
            && let Some(bad) = p.chars().find(|c| !"rwxsp".contains(*c))
        {
            return Err(Error::Usage(format!(
                "permission filter {p:?}: {bad:?} is not one of r w x s p"
            )));
        }
        if let Some((lo, hi)) = self.range
            && lo >= hi
        {
            return Err(Error::Usage(format!(
                "address range {lo:#x}..{hi:#x} is empty"
            )));
        }
        Ok(())
    }
}

/// How a search or scan runs.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    pub regions: RegionFilter,
    /// Stop after this many matches.
    pub max_results: Option<u64>,
    pub geometry: Geometry,
    /// [`ReadMode::NoWait`] skips (and counts) pages not in memory;
    /// [`ReadMode::Force`] faults them in.
    pub mode: ReadMode,
    /// Threads that read and match; 0 means one per core.
    pub lanes: usize,
    /// The most bytes of each match kept in [`Match::bytes`].
    pub preview_len: usize,
    /// Send [`SearchEvent::Searched`] as the search passes each address, and
    /// keep lanes near each other, so a reader can print the matches in
    /// address order as they come while holding only a few segments' worth.
    pub in_order: bool,
}

impl Default for SearchOptions {
    fn default() -> SearchOptions {
        SearchOptions {
            regions: RegionFilter::default(),
            max_results: None,
            geometry: Geometry::default(),
            mode: ReadMode::NoWait,
            lanes: 0,
            preview_len: 64,
            in_order: false,
        }
    }
}

impl SearchOptions {
    pub(crate) fn lane_count(&self) -> usize {
        match self.lanes {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

/// How far a job has come.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Units done: bytes for searches and first scans, candidates for narrowing.
    pub done: u64,
    pub total: u64,
    pub elapsed: Duration,
}

impl Progress {
    /// Units per second so far.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        }
    }

    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        }
    }
}

/// Why a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Everything was covered.
    Complete,
    /// The user cancelled; results so far were kept.
    Cancelled,
    /// `max_results` was reached.
    Limit,
    /// Reading failed (the target exited); results so far were kept.
    Failed(String),
}

/// What a finished job reports.
#[derive(Debug)]
pub struct Summary {
    /// Matches found, or places that survive a scan.
    pub found: u64,
    /// Regions searched.
    pub regions: usize,
    /// Progress units covered and planned (see [`Progress`]).
    pub done: u64,
    pub total: u64,
    pub skipped: Skipped,
    pub elapsed: Duration,
    pub end: End,
    /// Things worth telling the user (matches possibly cut, regions that
    /// vanished, candidates unreadable).
    pub notes: Vec<String>,
    /// The candidates of a scan or narrowing job.
    pub scan: Option<ScanFile>,
    pub narrow: Option<NarrowStats>,
}

/// A message from a running job.
#[derive(Debug)]
pub enum SearchEvent {
    /// New matches of a search, in address order within each batch.
    Found(Vec<Match>),
    /// Places a value scan or narrowing kept, as they are written: the
    /// first [`STREAMED_PLACES`] of them, in address order within each
    /// batch. The summary's [`ScanFile`] holds them all.
    Places(Vec<crate::search::Candidate>),
    /// Every match starting below this address has been sent (`u64::MAX`:
    /// all of them); only with [`SearchOptions::in_order`].
    Searched(u64),
    Progress(Progress),
    /// Always the last event.
    Finished(Summary),
}

/// How many places a scan job sends as it finds them, for a front end to
/// show before the scan ends; its file holds every place.
pub const STREAMED_PLACES: usize = 10_000;

/// Cancels a job from anywhere (a signal thread, a key handler).
#[derive(Clone, Debug)]
pub struct Canceller(Arc<AtomicBool>);

impl Canceller {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A search or scan running on its own thread.
///
/// ```no_run
/// use std::time::Duration;
/// use pvtui::search::{SearchEvent, Query, SearchOptions};
/// use pvtui::session::Session;
/// let session = Session::attach(1234, Duration::from_millis(500))?;
/// let query = Query::Regex("gold=[0-9]+".into());
/// let job = session.searches().search(session.maps(), &query, SearchOptions::default())?;
/// for event in job.events() {
///     match event {
///         SearchEvent::Found(matches) => for m in matches { println!("{:#x} {}", m.addr, m.region) },
///         SearchEvent::Progress(p) => eprintln!("{:.0}%", p.fraction() * 100.0),
///         // A value scan's first places, as they are written.
///         SearchEvent::Places(_) | SearchEvent::Searched(_) => {}
///         SearchEvent::Finished(summary) => { eprintln!("{} found", summary.found); break }
///     }
/// }
/// # Ok::<(), pvtui::Error>(())
/// ```
#[derive(Debug)]
pub struct SearchJob {
    events: Receiver<SearchEvent>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Batches in flight before lanes wait for the receiver.
const CHANNEL_DEPTH: usize = 256;
pub(crate) const TICK: Duration = Duration::from_millis(100);

impl SearchJob {
    /// Searches a live process for `query`.
    /// Searches any [`Source`]; `make_source` is called once per lane.
    pub fn search_in<S, F>(
        make_source: F,
        regions: &[Region],
        pattern: Pattern,
        options: SearchOptions,
    ) -> SearchJob
    where
        S: Source + 'static,
        F: FnMut() -> S,
    {
        let mut geometry = options.geometry;
        geometry.chunk = geometry.chunk.max(1);
        let plan = SearchPlan::new(regions, &options.regions, &geometry);
        let sources: Vec<S> = std::iter::repeat_with(make_source)
            .take(options.lane_count())
            .collect();
        SearchJob::spawn(move |tx, ctl| {
            run_search(sources, plan, pattern, options, geometry, tx, ctl)
        })
    }

    pub(crate) fn spawn<F>(body: F) -> SearchJob
    where
        F: FnOnce(&SyncSender<SearchEvent>, &Control) -> Summary + Send + 'static,
    {
        let (tx, events) = sync_channel(CHANNEL_DEPTH);
        let cancel = Arc::new(AtomicBool::new(false));
        let ctl = Control::with_cancel(cancel.clone());
        let thread = std::thread::Builder::new()
            .name("pvtui-search".into())
            .spawn(move || {
                let summary = body(&tx, &ctl);
                let _ = tx.send(SearchEvent::Finished(summary));
            })
            .ok();
        if thread.is_none() {
            // Without a thread there is no job; say so as its only event.
            let (tx, rx) = sync_channel(1);
            let _ = tx.send(SearchEvent::Finished(failed_summary(
                "cannot start a thread",
            )));
            return SearchJob {
                events: rx,
                cancel,
                thread: None,
            };
        }
        SearchJob {
            events,
            cancel,
            thread,
        }
    }

    /// The job's events; the last one is [`SearchEvent::Finished`].
    pub fn events(&self) -> &Receiver<SearchEvent> {
        &self.events
    }

    /// Asks the job to stop soon; it still sends [`SearchEvent::Finished`].
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancel.clone())
    }

    /// Waits for the end, collecting every match on the way.
    pub fn collect(self) -> (Vec<Match>, Summary) {
        let mut found = Vec::new();
        loop {
            match self.events.recv() {
                Ok(SearchEvent::Found(batch)) => found.extend(batch),
                Ok(
                    SearchEvent::Progress(_) | SearchEvent::Places(_) | SearchEvent::Searched(_),
                ) => {}
                Ok(SearchEvent::Finished(summary)) => return (found, summary),
                Err(_) => return (found, failed_summary("the search thread died")),
            }
        }
    }
}

impl Drop for SearchJob {
    fn drop(&mut self) {
        self.cancel();
        if let Some(thread) = self.thread.take() {
            // Keep draining so lanes blocked on a full channel can finish.
            while !thread.is_finished() {
                let _ = self.events.recv_timeout(Duration::from_millis(10));
            }
            let _ = thread.join();
        }
    }
}

pub(crate) fn failed_summary(why: &str) -> Summary {
    Summary {
        found: 0,
        regions: 0,
        done: 0,
        total: 0,
        skipped: Skipped::default(),
        elapsed: Duration::ZERO,
        end: End::Failed(why.to_string()),
        notes: Vec::new(),
        scan: None,
        narrow: None,
    }
}

/// The work of a walk: segments and the labels of their regions.
pub(crate) struct SearchPlan {
    pub(crate) segments: Vec<Segment>,
    pub(crate) labels: Vec<Arc<str>>,
    pub(crate) names: Vec<String>,
    pub(crate) regions: usize,
    pub(crate) total: u64,
}

impl SearchPlan {
    pub(crate) fn new(
        regions: &[Region],
        filter: &RegionFilter,
        geometry: &Geometry,
    ) -> SearchPlan {
        let ranges = filter.select(regions);
        let total = ranges.iter().map(|(_, s, e)| e - s).sum();
        SearchPlan {
            segments: segments(&ranges, geometry),
            labels: regions.iter().map(|r| Arc::from(region_label(r))).collect(),
            names: regions.iter().map(Region::describe).collect(),
            regions: ranges.len(),
            total,
        }
    }
}

/// Sends unless the job was cancelled; false when nobody listens any more.
pub(crate) fn send_or_cancel(
    tx: &SyncSender<SearchEvent>,
    mut event: SearchEvent,
    cancel: &AtomicBool,
) -> bool {
    loop {
        match tx.try_send(event) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                if cancel.load(Ordering::Relaxed) {
                    return false;
                }
                event = back;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// Runs the lanes of a walk; `idle` runs on the calling thread meanwhile
/// and must block briefly (it paces the progress ticks).
pub(crate) fn walk_all<S: Source, V: Visitor + Send>(
    sources: &mut [S],
    visitors: &mut [V],
    plan: &SearchPlan,
    geometry: &Geometry,
    ctl: &Control,
    finish: &(dyn Fn(&mut V) + Sync),
    idle: &mut dyn FnMut(),
) -> Skipped {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let lanes: Vec<_> = sources
            .iter_mut()
            .zip(visitors.iter_mut())
            .map(|(source, visitor)| {
                let next = &next;
                scope.spawn(move || {
                    let skipped = run_lane(source, &plan.segments, next, geometry, ctl, visitor);
                    finish(visitor);
                    skipped
                })
            })
            .collect();
        while !lanes.iter().all(|l| l.is_finished()) {
            idle();
        }
        let mut skipped = Skipped::default();
        for lane in lanes {
            match lane.join() {
                Ok(s) => skipped.merge(&s),
                Err(_) => {
                    let mut slot = ctl.error.lock().unwrap_or_else(|e| e.into_inner());
                    slot.get_or_insert(Error::Usage("a search thread panicked".into()));
                }
            }
        }
        skipped
    })
}

/// Turns the walk's state into the summary every job ends with.
pub(crate) fn summarize(
    plan: &SearchPlan,
    ctl: &Control,
    found: u64,
    skipped: Skipped,
    started: Instant,
    limit_hit: bool,
) -> Summary {
    let mut notes = Vec::new();
    let end = match ctl.take_error() {
        Some(err) => End::Failed(if err.is_exit() {
            format!("{err} during the search; results found before are kept")
        } else {
            err.to_string()
        }),
        None if ctl.cancelled() => End::Cancelled,
        None if limit_hit => End::Limit,
        None => End::Complete,
    };
    let vanished = ctl
        .vanished
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for i in vanished {
        if let Some(name) = plan.names.get(i) {
            notes.push(format!("{name} was unmapped during the search"));
        }
    }
    if skipped.total() > 0 {
        notes.push(format!("not searched: {}", skipped.describe()));
    }
    Summary {
        found,
        regions: plan.regions,
        done: ctl.covered.load(Ordering::Relaxed),
        total: plan.total,
        skipped,
        elapsed: started.elapsed(),
        end,
        notes,
        scan: None,
        narrow: None,
    }
}

pub(crate) fn progress_ticker<'a>(
    tx: &'a SyncSender<SearchEvent>,
    total: u64,
    started: Instant,
) -> impl FnMut(&AtomicU64) + 'a {
    let mut last = Instant::now();
    move |done: &AtomicU64| {
        if last.elapsed() >= TICK {
            last = Instant::now();
            let _ = tx.try_send(SearchEvent::Progress(Progress {
                done: done.load(Ordering::Relaxed),
                total,
                elapsed: started.elapsed(),
            }));
        }
    }
}

fn run_search<S: Source>(
    mut sources: Vec<S>,
    plan: SearchPlan,
    pattern: Pattern,
    options: SearchOptions,
    geometry: Geometry,
    tx: &SyncSender<SearchEvent>,
    ctl: &Control,
) -> Summary {
    let started = Instant::now();
    let found = AtomicU64::new(0);
    let maybe_cut = AtomicBool::new(false);
    let sink = |batch: Vec<Match>| send_or_cancel(tx, SearchEvent::Found(batch), &ctl.cancel);
    if options.in_order {
        let (tx, cancel) = (tx.clone(), ctl.cancel.clone());
        let report = move |below| {
            send_or_cancel(&tx, SearchEvent::Searched(below), &cancel);
        };
        // Two segments a lane: enough that a lane seldom waits.
        let ahead = 2 * sources.len();
        let _ = ctl
            .in_order
            .set(InOrder::new(plan.segments.len(), ahead, Box::new(report)));
    }
    let mut visitors: Vec<FindVisitor<'_>> = (0..sources.len())
        .map(|_| {
            FindVisitor::new(
                &pattern,
                &plan.labels,
                options.preview_len,
                options.max_results,
                &found,
                &ctl.stop,
                &maybe_cut,
                &sink,
            )
        })
        .collect();
    let mut tick = progress_ticker(tx, plan.total, started);
    let skipped = walk_all(
        &mut sources,
        &mut visitors,
        &plan,
        &geometry,
        ctl,
        &|v: &mut FindVisitor<'_>| v.flush(),
        &mut || {
            std::thread::sleep(Duration::from_millis(10));
            tick(&ctl.covered);
        },
    );
    let raw = found.load(Ordering::Relaxed);
    let limit_hit = options.max_results.is_some_and(|max| raw >= max);
    let count = options.max_results.map_or(raw, |max| raw.min(max));
    let mut summary = summarize(&plan, ctl, count, skipped, started, limit_hit);
    let overlap = geometry.overlap;
    if maybe_cut.load(Ordering::Relaxed) {
        summary.notes.push(format!(
            "some matches end at a chunk edge and may be longer than found: matches longer than {overlap} bytes can be cut (raise the overlap)"
        ));
    } else if pattern.max_len().is_none_or(|m| m > overlap) {
        summary.notes.push(format!(
            "the pattern can match more than {overlap} bytes; a longer match crossing a chunk edge could be missed or cut"
        ));
    }
    summary
}

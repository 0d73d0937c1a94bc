//! The hunter's tools on a session's target, run in the background for an
//! interactive front end: a pointer scan that reports its chains once, and
//! a writers watch that reports the instructions it has seen, live, until
//! it is dropped (which closes its breakpoints).
//!
//! Each job runs on its own thread with its own readers and symbol table,
//! so it never waits behind the poller; events go to a callback.

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::debuginfo::DebugInfo;
use crate::error::{Error, Result};
use crate::hunt::chains::SavedChain;
use crate::hunt::disasm;
use crate::hunt::pointers::{Bounds, PointerMap, ScanPlan, find_chains, static_areas};
use crate::hunt::writers::{
    Access, CodePlace, NoLines, SourceLines, Writers, breakpoint, place_of_ip,
};
use crate::process::{Gap, Maps, PageBuffer, ReadMode, ReadOutcome, Target};
use crate::search::{ProcessSource, Source};
use crate::symbols::SymbolTable;

/// How often a writers watch looks for threads started since, and the
/// longest it keeps new samples to itself.
const WRITERS_TICK: Duration = Duration::from_millis(200);

/// A chain found by a pointer scan, as the user sees and uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundChain {
    /// `game+0x4010 -> +0x8 -> +0x18 -> +0xc`
    pub text: String,
    /// The same chain as a watch expression of the scanned type.
    pub expr: String,
}

/// One instruction seen touching the watched place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterRow {
    /// The sampled IP: the instruction after the access.
    pub ip: u64,
    pub count: u64,
    pub threads: usize,
    /// `add_score+0x19 in game (game.c:51)`, escaped for printing.
    pub place: String,
    /// The instruction that made the access, just before `ip`, where its
    /// function could be decoded: `add dword ptr [rax+0xc], edi`.
    pub access: Option<String>,
}

/// What a writers watch has seen so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WritersReport {
    /// By count, most first.
    pub rows: Vec<WriterRow>,
    pub threads: usize,
    pub lost: u64,
    /// Threads that could not get a breakpoint, with why.
    pub refused: Vec<String>,
}

/// A message from a hunt job.
#[derive(Debug)]
pub enum HuntEvent {
    /// The pointer scan finished.
    Chains {
        pointers: usize,
        chains: Vec<FoundChain>,
        elapsed: Duration,
    },
    /// A writers watch saw something new.
    Writers(WritersReport),
    /// The job stopped; why, said plainly.
    Failed(String),
}

/// Where the writers watch looks, and for what.
#[derive(Clone, Copy, Debug)]
pub struct WritersRequest {
    pub addr: u64,
    pub len: usize,
    pub access: Access,
}

/// Starts hunt jobs on one target; cheap to clone and to send to another thread.
#[derive(Clone, Debug)]
pub struct Hunts {
    target: Arc<Target>,
}

/// Where a job's events go; returns false once nobody listens.
pub type Notify = Box<dyn FnMut(HuntEvent) -> bool + Send>;

/// A running job. Dropping it stops the job and waits for its thread, so a
/// writers watch's breakpoints are gone once the drop returns.
#[derive(Debug)]
pub struct HuntJob {
    stop: Arc<AtomicBool>,
    /// Dropped to wake a job waiting on its breakpoints.
    wake: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for HuntJob {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Hunts {
    pub(crate) fn new(target: Arc<Target>) -> Hunts {
        Hunts { target }
    }

    /// Looks for pointer chains from static places to `addr`; the chains
    /// read as watch expressions of type `ty`.
    pub fn pointers(&self, addr: u64, ty: &str, bounds: Bounds, notify: Notify) -> Result<HuntJob> {
        let target = Arc::clone(&self.target);
        let ty = ty.to_string();
        spawn("pvtui-pointers", None, notify, move |stop, notify| {
            let event = match pointer_scan(&target, addr, &ty, bounds, stop) {
                Ok(event) => event,
                Err(_) if stop.load(Ordering::Relaxed) => return,
                Err(e) => HuntEvent::Failed(format!("pointer scan: {e}")),
            };
            notify(event);
        })
    }

    /// Puts a hardware breakpoint on every thread and reports who touches
    /// the place, until dropped. Fails at once when no thread could get one.
    pub fn writers(&self, request: WritersRequest, notify: Notify) -> Result<HuntJob> {
        let bp = breakpoint(request.addr, request.len, request.access)?;
        let writers = Writers::open(self.target.pid(), bp)?;
        let target = Arc::clone(&self.target);
        let (wake_rx, wake_tx) = nix::unistd::pipe().map_err(|e| Error::Kernel {
            call: "pipe",
            source: e.into(),
        })?;
        spawn(
            "pvtui-writers",
            Some(wake_tx),
            notify,
            move |stop, notify| {
                watch_writers(&target, writers, stop, &wake_rx, notify);
            },
        )
    }
}

fn spawn(
    name: &str,
    wake: Option<OwnedFd>,
    mut notify: Notify,
    body: impl FnOnce(&AtomicBool, &mut Notify) + Send + 'static,
) -> Result<HuntJob> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || body(&flag, &mut notify))
        .map_err(|e| Error::Io {
            what: format!("starting the {name} thread"),
            source: e,
        })?;
    Ok(HuntJob {
        stop,
        wake,
        thread: Some(thread),
    })
}

/// A reader that fails once its job is stopped, so a long walk of memory
/// ends at the next chunk.
struct Stoppable<'a> {
    inner: ProcessSource,
    stop: &'a AtomicBool,
}

impl Stoppable<'_> {
    fn check(&self) -> Result<()> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(Error::Usage("stopped".into()));
        }
        Ok(())
    }
}

impl Source for Stoppable<'_> {
    fn read_chunk(&mut self, addr: u64, buf: &mut PageBuffer) -> Result<Vec<Gap>> {
        self.check()?;
        self.inner.read_chunk(addr, buf)
    }

    fn read_ranges(&mut self, ranges: &[(u64, usize)]) -> Result<Vec<ReadOutcome>> {
        self.check()?;
        self.inner.read_ranges(ranges)
    }
}

fn pointer_scan(
    target: &Arc<Target>,
    addr: u64,
    ty: &str,
    bounds: Bounds,
    stop: &AtomicBool,
) -> Result<HuntEvent> {
    let started = Instant::now();
    let maps = target.maps()?;
    let symbols = SymbolTable::new(target, &maps);
    let plan = ScanPlan::for_maps(&maps);
    // Two lanes: one reads while the other looks for pointers.
    let mut sources: Vec<Stoppable<'_>> = (0..2)
        .map(|_| Stoppable {
            inner: ProcessSource::new(Arc::clone(target), maps.clone(), ReadMode::NoWait),
            stop,
        })
        .collect();
    let map = PointerMap::build(&mut sources, &plan)?;
    let statics = static_areas(&maps);
    let chains = find_chains(&map, &statics, addr, bounds)
        .iter()
        .filter_map(|c| SavedChain::new(c, &statics, &symbols))
        .map(|c| FoundChain {
            text: c.text(),
            expr: c.expr(ty),
        })
        .collect();
    Ok(HuntEvent::Chains {
        pointers: map.len(),
        chains,
        elapsed: started.elapsed(),
    })
}

fn watch_writers(
    target: &Arc<Target>,
    mut writers: Writers,
    stop: &AtomicBool,
    wake: &OwnedFd,
    notify: &mut Notify,
) {
    let maps = target.maps().ok();
    let mut symbols = maps.as_ref().map(|maps| SymbolTable::new(target, maps));
    // File and line where the objects' DWARF has them.
    let lines: Box<dyn SourceLines> = match &maps {
        Some(maps) => Box::new(DebugInfo::with_opener(
            target.proc_opener(),
            maps,
            Vec::new(),
        )),
        None => Box::new(NoLines),
    };
    let mut places: HashMap<u64, (String, Option<String>)> = HashMap::new();
    let mut sent: Option<WritersReport> = None;
    let mut next = Instant::now();
    loop {
        let left = next.saturating_duration_since(Instant::now());
        let ready = match writers.wait(left, &[wake.as_fd(), target.exit_fd()]) {
            Ok(ready) => ready,
            Err(e) => {
                notify(HuntEvent::Failed(e.to_string()));
                return;
            }
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let exited = ready && !target.is_alive();
        if !exited && Instant::now() < next {
            // Samples wake the wait at every write: gather them for a
            // while rather than report (and list threads) at each one.
            std::thread::sleep(Duration::from_millis(20).min(left));
            continue;
        }
        next = Instant::now() + WRITERS_TICK;
        let fresh = writers.take_new();
        if !fresh.is_empty() {
            // Code loaded since the last look names its module.
            if let (Some(table), Ok(maps)) = (symbols.as_mut(), target.maps()) {
                table.refresh(&maps);
            }
        }
        let code_maps = target.maps().ok();
        for ip in fresh {
            let named = match (&symbols, &code_maps) {
                (Some(table), Some(maps)) => {
                    let place = place_of_ip(ip, table, &*lines);
                    let access = access_before(target, maps, &place);
                    (place.label(), access)
                }
                _ => (format!("{ip:#x}"), None),
            };
            places.insert(ip, named);
        }
        let report = report(&writers, &places);
        if sent.as_ref() != Some(&report) {
            if !notify(HuntEvent::Writers(report.clone())) {
                return;
            }
            sent = Some(report);
        }
        if exited {
            notify(HuntEvent::Failed(format!("target {} exited", target.pid())));
            return;
        }
        match writers.rescan() {
            Ok(_) => {}
            Err(e) if e.is_exit() => {
                notify(HuntEvent::Failed(e.to_string()));
                return;
            }
            // A thread that could not get a breakpoint is listed as refused.
            Err(_) => {}
        }
    }
}

/// The text of the instruction before `place`'s IP (the access itself),
/// decoded from its function's start; code is read without waiting.
fn access_before(target: &Target, maps: &Maps, place: &CodePlace) -> Option<String> {
    let offset = place.function.as_ref().map(|_| place.function_offset);
    disasm::access_before(place.ip, offset, &mut |addr, len| {
        let outcome = target
            .read(maps, &[(addr, len)], ReadMode::NoWait)
            .ok()?
            .into_iter()
            .next()?;
        outcome.bytes().map(<[u8]>::to_vec)
    })
    .map(|a| a.text)
}

fn report(writers: &Writers, places: &HashMap<u64, (String, Option<String>)>) -> WritersReport {
    let mut rows: Vec<WriterRow> = writers
        .hits()
        .iter()
        .map(|(&ip, hit)| WriterRow {
            ip,
            count: hit.count,
            threads: hit.tids.len(),
            place: places
                .get(&ip)
                .map_or_else(|| format!("{ip:#x}"), |(label, _)| label.clone()),
            access: places.get(&ip).and_then(|(_, access)| access.clone()),
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.ip.cmp(&b.ip)));
    WritersReport {
        rows,
        threads: writers.threads_watched(),
        lost: writers.lost(),
        refused: writers
            .refused()
            .iter()
            .map(|(tid, why)| format!("thread {tid}: {why}"))
            .collect(),
    }
}

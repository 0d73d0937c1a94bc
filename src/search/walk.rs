//! The rolling-window walk shared by every scan.
//!
//! The address ranges to search are cut into segments; each lane (one thread
//! with its own [`Source`]) takes the next segment and walks it in windows of
//! `chunk + overlap` bytes. Window `k` owns the match *starts* in
//! `[s_k, e_k - overlap)` and the next window begins there, so a match of at
//! most `overlap` bytes that crosses a chunk edge lies whole in the window
//! that owns its start, and is found exactly once. The overlap is re-read from
//! the target rather than copied, which keeps every buffer a plain read target.
//!
//! A segment's last window reaches `overlap` bytes past the segment (its
//! `data_end`) so matches starting near the seam are whole there too; starts
//! past the seam belong to the next segment. Unreadable bytes (gaps) split a
//! window into pieces; a match never spans a gap or a region boundary.
//! Within a segment the matches are those of one pass; at a seam the search
//! starts afresh, so the two overlapping matches of a self-overlapping
//! pattern (`aa` in `aaa`) can both be reported there.
//!
//! Two lanes on two cores overlap reading with matching: while one lane's
//! read is in the kernel, the other lane matches the window it just read.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::error::Error;
use crate::process::{Gap, PageBuffer, Region, Unread};
use crate::search::source::Source;

/// Buffer geometry of a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes a window advances by (its owned part).
    pub chunk: usize,
    /// Bytes each window re-reads past its owned part: the longest match
    /// that is guaranteed to be found whole.
    pub overlap: usize,
    /// Chunks per segment: the unit of work a lane takes at a time.
    pub chunks_per_segment: usize,
}

impl Geometry {
    pub const DEFAULT_CHUNK: usize = 2 << 20;
    pub const DEFAULT_OVERLAP: usize = 4096;

    /// The smallest geometry allowed: one-byte chunks, one-chunk segments.
    pub fn smallest(overlap: usize) -> Geometry {
        Geometry {
            chunk: 1,
            overlap,
            chunks_per_segment: 1,
        }
    }

    fn segment_len(&self) -> u64 {
        self.chunk.max(1) as u64 * self.chunks_per_segment.max(1) as u64
    }
}

impl Default for Geometry {
    fn default() -> Geometry {
        Geometry {
            chunk: Self::DEFAULT_CHUNK,
            overlap: Self::DEFAULT_OVERLAP,
            chunks_per_segment: 16,
        }
    }
}

/// A unit of work: owns the starts in `[start, own_end)`, may read up to `data_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub region: usize,
    pub start: u64,
    pub own_end: u64,
    pub data_end: u64,
}

/// Cuts `[start, end)` ranges of regions into segments.
pub(crate) fn segments(ranges: &[(usize, u64, u64)], geom: &Geometry) -> Vec<Segment> {
    let seg_len = geom.segment_len();
    let mut out = Vec::new();
    for &(region, start, end) in ranges {
        let mut s = start;
        while s < end {
            let own_end = s.saturating_add(seg_len).min(end);
            let data_end = own_end.saturating_add(geom.overlap as u64).min(end);
            out.push(Segment {
                region,
                start: s,
                own_end,
                data_end,
            });
            s = own_end;
        }
    }
    out
}

/// A run of readable bytes handed to a visitor.
#[derive(Debug)]
pub(crate) struct Piece<'a> {
    pub region: usize,
    pub addr: u64,
    pub bytes: &'a [u8],
    /// Only items starting before this offset belong to this piece.
    pub owned: usize,
    /// The piece ends at the window edge with more data after it, so an item
    /// ending exactly at the end may have been cut.
    pub open_end: bool,
}

/// What a scan does with each piece of bytes.
pub(crate) trait Visitor {
    /// A lane starts a new segment (matching state does not carry across).
    fn start_segment(&mut self) {}
    fn piece(&mut self, piece: &Piece<'_>);
    /// A window is done: a good moment to hand results over.
    fn end_window(&mut self) {}
}

/// Bytes not read, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub not_resident: u64,
    pub unmapped: u64,
    pub protected: u64,
    pub faulted: u64,
    pub stalled: u64,
}

impl Skipped {
    pub(crate) fn add(&mut self, why: Unread, n: u64) {
        let slot = match why {
            Unread::NotResident => &mut self.not_resident,
            Unread::Unmapped => &mut self.unmapped,
            Unread::Protected => &mut self.protected,
            Unread::Faulted => &mut self.faulted,
            Unread::Stalled => &mut self.stalled,
        };
        *slot += n;
    }

    pub(crate) fn merge(&mut self, other: &Skipped) {
        self.not_resident += other.not_resident;
        self.unmapped += other.unmapped;
        self.protected += other.protected;
        self.faulted += other.faulted;
        self.stalled += other.stalled;
    }

    pub fn total(&self) -> u64 {
        self.not_resident + self.unmapped + self.protected + self.faulted + self.stalled
    }

    /// `12 KiB not resident, 4 KiB unmapped`, or empty when nothing was skipped.
    pub fn describe(&self) -> String {
        let parts = [
            (self.not_resident, "not resident"),
            (self.unmapped, "unmapped"),
            (self.protected, "not readable"),
            (self.faulted, "faulted"),
            (self.stalled, "stalled"),
        ];
        parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{} {what}", crate::units::human_bytes(*n)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Shared state of one walk: progress counters and the stop switches.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// Set by the user (Esc, Ctrl-C): stop soon, keep what was found.
    pub cancel: std::sync::Arc<AtomicBool>,
    /// Set internally: enough results, or the target is gone.
    pub stop: AtomicBool,
    /// Bytes covered so far (read or skipped).
    pub covered: AtomicU64,
    pub error: Mutex<Option<Error>>,
    /// Names of regions that lost bytes to `Unmapped` during the walk.
    pub vanished: Mutex<Vec<usize>>,
    /// Set for a walk whose reader wants its results in address order.
    pub in_order: OnceLock<InOrder>,
}

/// Segments finished in address order, for a reader that prints results
/// in address order as they come: says how far every result has been
/// handed over, and keeps lanes from running more than `ahead` segments
/// past the lowest unfinished one, so that reader holds a bounded number.
pub(crate) struct InOrder {
    state: Mutex<InOrderState>,
    moved: Condvar,
    ahead: usize,
    /// Called with an address below which every result has been handed
    /// over (`u64::MAX` at the end), after those results.
    report: Box<dyn Fn(u64) + Send + Sync>,
}

struct InOrderState {
    done: Vec<bool>,
    /// The lowest segment not finished.
    first: usize,
}

impl std::fmt::Debug for InOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InOrder")
            .field("ahead", &self.ahead)
            .finish_non_exhaustive()
    }
}

impl InOrder {
    pub fn new(segments: usize, ahead: usize, report: Box<dyn Fn(u64) + Send + Sync>) -> InOrder {
        InOrder {
            state: Mutex::new(InOrderState {
                done: vec![false; segments],
                first: 0,
            }),
            moved: Condvar::new(),
            ahead: ahead.max(1),
            report,
        }
    }

    /// Waits until segment `i` is close enough to the lowest unfinished
    /// one; false when the walk stops meanwhile.
    fn wait_turn(&self, i: usize, ctl: &Control) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while i >= state.first + self.ahead {
            if ctl.should_stop() {
                return false;
            }
            state = self
                .moved
                .wait_timeout(state, Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Segment `i` is finished and its results handed over.
    fn finished(&self, i: usize, segs: &[Segment]) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(done) = state.done.get_mut(i) {
            *done = true;
        }
        let before = state.first;
        while state.done.get(state.first) == Some(&true) {
            state.first += 1;
        }
        if state.first > before {
            // Reported under the lock: the reports go out in order, each
            // after the results of every segment below it.
            (self.report)(segs.get(state.first).map_or(u64::MAX, |s| s.start));
            self.moved.notify_all();
        }
    }
}

impl Control {
    pub fn with_cancel(cancel: std::sync::Arc<AtomicBool>) -> Control {
        Control {
            cancel,
            ..Control::default()
        }
    }

    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn fail(&self, err: Error) {
        let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(err);
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn take_error(&self) -> Option<Error> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Walks the segments on one lane until they run out or the walk stops.
pub(crate) fn run_lane<S: Source, V: Visitor>(
    source: &mut S,
    segs: &[Segment],
    next: &AtomicUsize,
    geom: &Geometry,
    ctl: &Control,
    visitor: &mut V,
) -> Skipped {
    let chunk = geom.chunk.max(1) as u64;
    let overlap = geom.overlap as u64;
    let mut skipped = Skipped::default();
    // Page aligned: windows start on page boundaries, and the kernel copies
    // into an equally aligned buffer much faster.
    let mut buf = PageBuffer::new((chunk + overlap) as usize);
    'segments: loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(seg) = segs.get(i) else { break };
        let in_order = ctl.in_order.get();
        if in_order.is_some_and(|o| !o.wait_turn(i, ctl)) {
            break;
        }
        visitor.start_segment();
        let mut s = seg.start;
        loop {
            if ctl.should_stop() {
                break 'segments;
            }
            let e = s.saturating_add(chunk + overlap).min(seg.data_end);
            buf.resize((e - s) as usize);
            let gaps = match source.read_chunk(s, &mut buf) {
                Ok(gaps) => gaps,
                Err(err) => {
                    ctl.fail(err);
                    break 'segments;
                }
            };
            let commit = if e >= seg.data_end {
                seg.own_end
            } else {
                (e - overlap).min(seg.own_end)
            };
            let lost = visit_pieces(seg.region, s, e, commit, &buf, &gaps, visitor);
            if lost.unmapped > 0 {
                let mut v = ctl.vanished.lock().unwrap_or_else(|e| e.into_inner());
                if !v.contains(&seg.region) {
                    v.push(seg.region);
                }
            }
            skipped.merge(&lost);
            visitor.end_window();
            ctl.covered.fetch_add(commit - s, Ordering::Relaxed);
            if commit >= seg.own_end {
                if let Some(order) = in_order {
                    order.finished(i, segs);
                }
                break;
            }
            s = commit;
        }
    }
    skipped
}

/// Hands the readable runs of window `[s, e)` to the visitor; returns the
/// unread bytes of its owned part `[s, commit)`.
fn visit_pieces<V: Visitor>(
    region: usize,
    s: u64,
    e: u64,
    commit: u64,
    buf: &[u8],
    gaps: &[Gap],
    visitor: &mut V,
) -> Skipped {
    let mut lost = Skipped::default();
    let mut emit = |from: u64, to: u64| {
        if from >= to || from >= commit {
            return;
        }
        visitor.piece(&Piece {
            region,
            addr: from,
            bytes: &buf[(from - s) as usize..(to - s) as usize],
            owned: (commit.min(to) - from) as usize,
            open_end: to == e && commit < e,
        });
    };
    let mut p = s;
    for g in gaps {
        let g_start = g.addr.clamp(s, e);
        let g_end = g.end().clamp(s, e);
        if g_start >= g_end {
            continue;
        }
        emit(p, g_start);
        let owned_lost = g_end.min(commit).saturating_sub(g_start);
        lost.add(g.why, owned_lost);
        p = p.max(g_end);
    }
    emit(p, e);
    lost
}

/// The name a result shows for its region: the file name, the pseudo-name,
/// or `[anonymous]`.
pub fn region_label(region: &Region) -> String {
    region.label()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<(u64, Vec<u8>, usize, bool)>);
    impl Visitor for Collect {
        fn piece(&mut self, p: &Piece<'_>) {
            self.0.push((p.addr, p.bytes.to_vec(), p.owned, p.open_end));
        }
    }

    #[test]
    fn windows_own_every_byte_once_at_every_size() {
        let data: Vec<u8> = (0..=255).cycle().take(300).collect();
        for chunk in 1..12 {
            for overlap in 0..5 {
                for per_seg in 1..4 {
                    let geom = Geometry {
                        chunk,
                        overlap,
                        chunks_per_segment: per_seg,
                    };
                    let mut mem = crate::search::MemorySource::new();
                    mem.map(1000, data.clone());
                    let segs = segments(&[(0, 1000, 1300)], &geom);
                    let mut v = Collect(Vec::new());
                    let ctl = Control::default();
                    let skipped =
                        run_lane(&mut mem, &segs, &AtomicUsize::new(0), &geom, &ctl, &mut v);
                    assert_eq!(skipped.total(), 0);
                    let mut owned = Vec::new();
                    for (addr, bytes, own, _) in &v.0 {
                        assert!(bytes.len() <= chunk + overlap);
                        assert!(*own >= 1);
                        // Everything owned is followed by `overlap` bytes of context (or the end).
                        let visible_after = bytes.len() - own;
                        assert!(
                            visible_after >= overlap || addr + bytes.len() as u64 == 1300,
                            "chunk {chunk} overlap {overlap}"
                        );
                        owned.extend((0..*own).map(|i| addr + i as u64));
                    }
                    assert_eq!(
                        owned,
                        (1000..1300).collect::<Vec<_>>(),
                        "chunk {chunk} overlap {overlap}"
                    );
                    assert_eq!(ctl.covered.load(Ordering::Relaxed), 300);
                }
            }
        }
    }

    #[test]
    fn gaps_split_pieces_and_are_counted_once() {
        let geom = Geometry {
            chunk: 7,
            overlap: 3,
            chunks_per_segment: 2,
        };
        let mut mem = crate::search::MemorySource::new();
        mem.map(0, vec![1; 40]);
        mem.hole(10, 5, Unread::NotResident);
        mem.hole(30, 2, Unread::Faulted);
        let segs = segments(&[(0, 0, 40)], &geom);
        let mut v = Collect(Vec::new());
        let ctl = Control::default();
        let skipped = run_lane(&mut mem, &segs, &AtomicUsize::new(0), &geom, &ctl, &mut v);
        assert_eq!(skipped.not_resident, 5);
        assert_eq!(skipped.faulted, 2);
        for (addr, bytes, _, _) in &v.0 {
            let end = addr + bytes.len() as u64;
            assert!(
                end <= 10 || *addr >= 15,
                "piece {addr}..{end} crosses the hole"
            );
            assert!(
                end <= 30 || *addr >= 32,
                "piece {addr}..{end} crosses the hole"
            );
        }
    }
}

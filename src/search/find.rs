//! Pattern search: the visitor that runs a compiled [`Pattern`] over each
//! piece of a walk and reports matches with their absolute addresses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::search::pattern::Pattern;
use crate::search::walk::{Piece, Visitor};

/// One match in the target's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub addr: u64,
    /// Length of the whole match.
    pub len: usize,
    /// The region's name (`[heap]`, `libc.so.6`, `[anonymous]`).
    pub region: Arc<str>,
    /// The matched bytes, cut to the search's preview length.
    pub bytes: Vec<u8>,
}

/// Where a lane's matches go; returns false when nobody wants more.
pub(crate) type MatchSink<'a> = dyn Fn(Vec<Match>) -> bool + Sync + 'a;

pub(crate) struct FindVisitor<'a> {
    pub pattern: &'a Pattern,
    pub labels: &'a [Arc<str>],
    pub preview: usize,
    pub max: Option<u64>,
    pub found: &'a AtomicU64,
    pub stop: &'a AtomicBool,
    /// Set when a match ended at a window edge and may have been longer.
    pub maybe_cut: &'a AtomicBool,
    pub sink: &'a MatchSink<'a>,
    /// End of the last reported match: the next search resumes there, so the
    /// matches are the ones a single pass over the segment would report.
    last_end: u64,
    batch: Vec<Match>,
}

impl<'a> FindVisitor<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pattern: &'a Pattern,
        labels: &'a [Arc<str>],
        preview: usize,
        max: Option<u64>,
        found: &'a AtomicU64,
        stop: &'a AtomicBool,
        maybe_cut: &'a AtomicBool,
        sink: &'a MatchSink<'a>,
    ) -> FindVisitor<'a> {
        FindVisitor {
            pattern,
            labels,
            preview,
            max,
            found,
            stop,
            maybe_cut,
            sink,
            last_end: 0,
            batch: Vec::new(),
        }
    }

    /// Hands the batch over; stops the walk when the receiver is gone.
    pub fn flush(&mut self) {
        if !self.batch.is_empty() && !(self.sink)(std::mem::take(&mut self.batch)) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

impl Visitor for FindVisitor<'_> {
    fn start_segment(&mut self) {
        self.last_end = 0;
    }

    fn piece(&mut self, p: &Piece<'_>) {
        let end = p.addr + p.bytes.len() as u64;
        let mut at = if self.last_end > p.addr && self.last_end <= end {
            (self.last_end - p.addr) as usize
        } else {
            0
        };
        let label = self
            .labels
            .get(p.region)
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        while at < p.owned {
            let Some(m) = self.pattern.regex.find_at(p.bytes, at) else {
                break;
            };
            if m.start() >= p.owned {
                break;
            }
            if m.is_empty() {
                at = m.end() + 1;
                continue;
            }
            if let Some(max) = self.max {
                if self.found.fetch_add(1, Ordering::Relaxed) >= max {
                    self.stop.store(true, Ordering::Relaxed);
                    return;
                }
            } else {
                self.found.fetch_add(1, Ordering::Relaxed);
            }
            if p.open_end && m.end() == p.bytes.len() {
                self.maybe_cut.store(true, Ordering::Relaxed);
            }
            let bytes = m.as_bytes();
            self.batch.push(Match {
                addr: p.addr + m.start() as u64,
                len: bytes.len(),
                region: label.clone(),
                bytes: bytes[..bytes.len().min(self.preview)].to_vec(),
            });
            self.last_end = p.addr + m.end() as u64;
            at = m.end();
        }
    }

    fn end_window(&mut self) {
        // Per window, so results stream in while a long search runs.
        self.flush();
    }
}

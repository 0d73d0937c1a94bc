//! Unknown-value scans: a snapshot of every page in the chosen regions,
//! and the first narrowing from it, which compares whole pages before it
//! looks at a single value.
//!
//! A snapshot stores pages, not places: a 64 KiB block's pages go in one
//! record, all-zero blocks as nothing and the rest LZ4-compressed (or raw
//! when that is not smaller), so a snapshot of a mostly idle gigabyte costs
//! far less disk than its places would, and memory stays one block per lane.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::Result;
use crate::process::Unread;
use crate::search::records::{PageRecord, PageRecordOut, SNAP_PAGE};
use crate::search::scan::NarrowStats;
use crate::search::source::Source;
use crate::search::store::{BLOCK, Blocks, ScanHeader, ScanWriter};
use crate::search::value::{Condition, Number, ValueType};
use crate::search::walk::{Piece, Visitor};

pub(crate) type PageSink<'a> = dyn Fn(Vec<PageRecordOut>) -> bool + Sync + 'a;

/// Bytes of encoded records a lane hands the writer at once: one hand-off
/// per 64 KiB record cost a wake-up of the writer each, which a busy machine
/// makes slow.
const SEND_BYTES: usize = 1 << 20;

/// Collects whole pages into per-block records and hands them, encoded, to a sink.
pub(crate) struct SnapshotVisitor<'a> {
    places_per_page: u64,
    found: &'a AtomicU64,
    stop: &'a AtomicBool,
    sink: &'a PageSink<'a>,
    base: u64,
    mask: u16,
    raw: Vec<u8>,
    /// Encoded records not yet handed over, and their payload bytes.
    ready: Vec<PageRecordOut>,
    ready_bytes: usize,
}

impl<'a> SnapshotVisitor<'a> {
    pub fn new(
        ty: ValueType,
        found: &'a AtomicU64,
        stop: &'a AtomicBool,
        sink: &'a PageSink<'a>,
    ) -> SnapshotVisitor<'a> {
        SnapshotVisitor {
            places_per_page: ty
                .widths()
                .iter()
                .map(|w| (SNAP_PAGE / w.size()) as u64)
                .sum(),
            found,
            stop,
            sink,
            base: 0,
            mask: 0,
            raw: Vec::with_capacity(BLOCK as usize),
            ready: Vec::new(),
            ready_bytes: 0,
        }
    }

    /// Encodes the block being gathered; hands the records over once there
    /// are enough of them.
    fn seal(&mut self) {
        if self.mask == 0 {
            return;
        }
        let rec = PageRecordOut::encode(self.base, self.mask, &self.raw);
        self.found.fetch_add(
            u64::from(self.mask.count_ones()) * self.places_per_page,
            Ordering::Relaxed,
        );
        self.mask = 0;
        self.raw.clear();
        self.ready_bytes += rec.payload.len();
        self.ready.push(rec);
        if self.ready_bytes >= SEND_BYTES {
            self.send();
        }
    }

    fn send(&mut self) {
        self.ready_bytes = 0;
        if self.ready.is_empty() {
            return;
        }
        if !(self.sink)(std::mem::take(&mut self.ready)) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Hands over everything gathered: the lane is done.
    pub fn finish(&mut self) {
        self.seal();
        self.send();
    }
}

impl Visitor for SnapshotVisitor<'_> {
    fn start_segment(&mut self) {
        // Pages of one record must come in address order.
        self.seal();
    }

    fn piece(&mut self, p: &Piece<'_>) {
        // Only whole pages are kept: aligned values never cross one.
        let end = p.addr + p.owned.min(p.bytes.len()) as u64;
        let page = SNAP_PAGE as u64;
        let mut at = p.addr.next_multiple_of(page);
        while at + page <= end {
            let base = at & !(BLOCK - 1);
            if base != self.base {
                self.seal();
                self.base = base;
            }
            self.mask |= 1 << ((at - base) / page);
            let from = (at - p.addr) as usize;
            self.raw.extend_from_slice(&p.bytes[from..from + SNAP_PAGE]);
            at += page;
        }
    }
}

/// Whether a place whose value did not change is kept, for every such
/// place at once; `None` when it depends on the value (floats, `eq`, `range`).
fn keeps_unchanged(condition: Condition, ty: ValueType) -> Option<bool> {
    if ty.is_float() {
        return None;
    }
    match condition {
        Condition::Changed | Condition::Increased | Condition::Decreased => Some(false),
        Condition::Unchanged => Some(true),
        Condition::IncreasedBy(d) | Condition::DecreasedBy(d) => {
            Some(ty.number(d) == Number::Int(0))
        }
        Condition::Eq(_) | Condition::Range(..) => None,
    }
}

/// Bytes of pages narrowed in one batch: one read of the target each, so
/// few hand-offs to the reading thread (each waits on the scheduler on a
/// busy machine), in memory bounded to twice this.
pub(crate) const PAGE_BATCH: usize = 4 << 20;

/// Narrows a batch of snapshot records (in address order) against memory
/// now: pages that are byte-for-byte the same are settled at once; only
/// the others are compared value by value.
pub(crate) fn narrow_pages<S: Source>(
    source: &mut S,
    h: &ScanHeader,
    condition: Condition,
    records: &[PageRecord],
    blocks: &mut Blocks,
    out: &mut ScanWriter,
    stats: &mut NarrowStats,
) -> Result<()> {
    let mut pages: Vec<(u64, &[u8])> = records.iter().flat_map(PageRecord::pages).collect();
    pages.sort_unstable_by_key(|p| p.0);
    let page = SNAP_PAGE as u64;
    let mut spans: Vec<(u64, usize)> = Vec::new();
    for &(addr, _) in &pages {
        match spans.last_mut() {
            Some((start, len)) if *start + *len as u64 == addr && *len < PAGE_BATCH => {
                *len += SNAP_PAGE;
            }
            _ => spans.push((addr, SNAP_PAGE)),
        }
    }
    let outcomes = source.read_ranges(&spans)?;
    let mut push = |addr: u64, width: usize, bits: u64, out: &mut ScanWriter| -> Result<()> {
        match blocks.push(addr, width, bits) {
            Some(full) => out.write_block(&full),
            None => Ok(()),
        }
    };
    let places = h.places_in(SNAP_PAGE);
    let mut j = 0;
    for (addr, old) in pages {
        while j < outcomes.len() && outcomes[j].addr + outcomes[j].data.len() as u64 <= addr {
            j += 1;
        }
        stats.checked += places;
        let Some(o) = outcomes.get(j).filter(|o| o.addr <= addr) else {
            stats.unreadable += places;
            continue;
        };
        let at = (addr - o.addr) as usize;
        let new = &o.data[at..at + SNAP_PAGE];
        let gaps: Vec<_> = o
            .gaps
            .iter()
            .filter(|g| g.addr < addr + page && addr < g.end())
            .collect();
        // An `int` snapshot's page holds places of every width.
        for &ty in h.ty.widths() {
            let size = ty.size();
            let step = h.step_of(size) as usize;
            let Some(condition) = condition.for_width(h.ty, ty) else {
                continue;
            };
            if gaps.is_empty()
                && new == old
                && let Some(keep) = keeps_unchanged(condition, ty)
            {
                if keep {
                    for i in (0..=SNAP_PAGE - size).step_by(step) {
                        push(addr + i as u64, size, ty.load(&old[i..]), out)?;
                    }
                }
                continue;
            }
            for i in (0..=SNAP_PAGE - size).step_by(step) {
                let a = addr + i as u64;
                let was = ty.load(&old[i..]);
                if let Some(g) = gaps
                    .iter()
                    .find(|g| g.addr < a + size as u64 && a < g.end())
                {
                    // Not in memory now is not a changed value: keep the place,
                    // with its last known value, for the next narrowing.
                    if g.why == Unread::NotResident {
                        stats.not_resident += 1;
                        push(a, size, was, out)?;
                    } else {
                        stats.unreadable += 1;
                    }
                    continue;
                }
                let now = ty.load(&new[i..]);
                if condition.keeps(ty, h.tolerance, now, was) {
                    push(a, size, now, out)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_pages_settle_without_values_for_integers_only() {
        let u = ValueType::U32;
        assert_eq!(keeps_unchanged(Condition::Increased, u), Some(false));
        assert_eq!(keeps_unchanged(Condition::Unchanged, u), Some(true));
        assert_eq!(keeps_unchanged(Condition::IncreasedBy(0), u), Some(true));
        assert_eq!(keeps_unchanged(Condition::DecreasedBy(3), u), Some(false));
        assert_eq!(keeps_unchanged(Condition::Eq(3), u), None);
        // NaN is not equal to itself: a float page's values are looked at.
        assert_eq!(keeps_unchanged(Condition::Changed, ValueType::F32), None);
    }
}

//! The pointer map: every aligned pointer-sized value in the memory read
//! that points into writable memory, packed in 8 bytes each.
//!
//! A pointer's address is one of the 8-byte slots of the memory read, and
//! its value one of the 4-byte steps of the memory pointed into. Numbering
//! the slots (and the steps) of the sorted spans one after another gives
//! each a 32-bit index that keeps address order, so a pointer is one `u64`:
//! value index high, address index low. Sorted, the map is ordered by value
//! (then address), so "who points into `[lo, hi]`" is two binary searches,
//! and a pointer's position in it is its id. Nothing else is kept per
//! pointer: 8 bytes each, against 16 for the pair and 4 for an index by value.

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use crate::error::{Error, Result};
use crate::search::Source;
use crate::search::walk::{Control, Geometry, Piece, Visitor, run_lane, segments};

use super::pointers::{POINTER, ScanPlan};

/// The alignment a value must have to count as a pointer: heap and static
/// objects that hold pointers are at least 4-aligned.
const VALUE_STEP: u64 = 4;

/// Pointers a lane gathers before adding them to the map under its lock.
const FLUSH: usize = 1 << 14;

/// Sorted spans numbered in `unit`-byte steps, one span after the other.
#[derive(Debug, Default)]
struct Packing {
    /// `(base, end)`: each span's start rounded down to `unit`, and its end.
    spans: Vec<(u64, u64)>,
    /// The index of each span's first step.
    firsts: Vec<u64>,
    unit: u64,
    /// Steps in all spans.
    total: u64,
}

impl Packing {
    fn new(spans: &[(u64, u64)], unit: u64) -> Packing {
        let mut sorted: Vec<(u64, u64)> = spans
            .iter()
            .filter(|(s, e)| s < e)
            .map(|&(s, e)| (s - s % unit, e))
            .collect();
        sorted.sort_unstable();
        let mut firsts = Vec::with_capacity(sorted.len());
        let mut total = 0u64;
        for &(base, end) in &sorted {
            firsts.push(total);
            total = total.saturating_add((end - base).div_ceil(unit));
        }
        Packing {
            spans: sorted,
            firsts,
            unit,
            total,
        }
    }

    /// The span holding `addr`.
    fn span_of(&self, addr: u64) -> Option<usize> {
        let i = self.spans.partition_point(|&(_, end)| end <= addr);
        self.spans
            .get(i)
            .is_some_and(|&(base, _)| base <= addr)
            .then_some(i)
    }

    /// The index of `addr` in span `i` (which holds it).
    fn index_in(&self, i: usize, addr: u64) -> u64 {
        self.firsts[i] + (addr - self.spans[i].0) / self.unit
    }

    /// The first index whose address is at least `addr`.
    fn first_from(&self, addr: u64) -> u64 {
        let i = self.spans.partition_point(|&(_, end)| end <= addr);
        match self.spans.get(i) {
            Some(&(base, _)) if base <= addr => self.index_in(i, addr.next_multiple_of(self.unit)),
            Some(_) => self.firsts[i],
            None => self.total,
        }
    }

    /// The address of index `index`.
    fn address(&self, index: u64) -> u64 {
        let i = self
            .firsts
            .partition_point(|&f| f <= index)
            .saturating_sub(1);
        self.spans[i].0 + (index - self.firsts[i]) * self.unit
    }
}

/// Every pointer found, packed and sorted by value; see the module doc.
#[derive(Debug, Default)]
pub struct PointerMap {
    entries: Vec<u64>,
    addrs: Packing,
    values: Packing,
    /// Bytes read to build it.
    pub bytes_read: u64,
}

/// Collects pointers from the pieces one lane reads.
struct Collector<'a> {
    addrs: &'a Packing,
    values: &'a Packing,
    found: Vec<u64>,
    map: &'a Mutex<Vec<u64>>,
    bytes: u64,
}

impl Collector<'_> {
    /// Adds what this lane found to the map: one growing array for all
    /// lanes, so they are never copied into it at the end.
    fn flush(&mut self) {
        if self.found.is_empty() {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.extend_from_slice(&self.found);
        self.found.clear();
    }
}

impl Visitor for Collector<'_> {
    fn piece(&mut self, piece: &Piece<'_>) {
        self.bytes += piece.owned as u64;
        let Some(span) = self.addrs.span_of(piece.addr) else {
            return;
        };
        let misalign = (POINTER - piece.addr % POINTER) % POINTER;
        let mut i = misalign as usize;
        while i < piece.owned && i + POINTER as usize <= piece.bytes.len() {
            let word: [u8; 8] = match piece.bytes[i..i + 8].try_into() {
                Ok(w) => w,
                Err(_) => break,
            };
            let value = u64::from_le_bytes(word);
            if value % VALUE_STEP == 0
                && let Some(into) = self.values.span_of(value)
            {
                let at = self.addrs.index_in(span, piece.addr + i as u64);
                self.found
                    .push(self.values.index_in(into, value) << 32 | at);
            }
            i += POINTER as usize;
        }
        if self.found.len() >= FLUSH {
            self.flush();
        }
    }
}

impl PointerMap {
    /// One pass over `plan.read` through `sources` (one lane each, so reads
    /// and matching overlap on two cores). Unreadable bytes are skipped.
    pub fn build<S: Source>(sources: &mut [S], plan: &ScanPlan) -> Result<PointerMap> {
        let addrs = Packing::new(&plan.read, POINTER);
        let values = Packing::new(&plan.targets, VALUE_STEP);
        if addrs.total > 1 << 32 || values.total > 1 << 32 {
            return Err(Error::Usage(format!(
                "{} GiB of writable memory: more than a pointer map indexes (32 GiB read, 16 GiB \
                 pointed into); scan a smaller process",
                plan.read.iter().map(|(s, e)| e - s).sum::<u64>() >> 30
            )));
        }
        let geometry = Geometry {
            overlap: POINTER as usize,
            ..Geometry::default()
        };
        let ranges: Vec<(usize, u64, u64)> = plan
            .read
            .iter()
            .enumerate()
            .map(|(i, &(s, e))| (i, s, e))
            .collect();
        let segs = segments(&ranges, &geometry);
        let next = AtomicUsize::new(0);
        let ctl = Control::default();
        let map = Mutex::new(Vec::new());
        let mut collectors: Vec<Collector<'_>> = sources
            .iter()
            .map(|_| Collector {
                addrs: &addrs,
                values: &values,
                found: Vec::with_capacity(FLUSH),
                map: &map,
                bytes: 0,
            })
            .collect();
        std::thread::scope(|scope| {
            for (source, collector) in sources.iter_mut().zip(collectors.iter_mut()) {
                let (segs, next, geometry, ctl) = (&segs, &next, &geometry, &ctl);
                scope.spawn(move || {
                    run_lane(source, segs, next, geometry, ctl, collector);
                    collector.flush();
                });
            }
        });
        if let Some(err) = ctl.take_error() {
            return Err(err);
        }
        let bytes_read = collectors.iter().map(|c| c.bytes).sum();
        drop(collectors);
        let mut entries = map.into_inner().unwrap_or_else(|e| e.into_inner());
        if u32::try_from(entries.len()).is_err() {
            return Err(Error::Usage(format!(
                "{} pointers found: more than a pointer map indexes; scan a smaller process",
                entries.len()
            )));
        }
        // In place: no second copy of the map while sorting.
        entries.sort_unstable();
        entries.dedup();
        entries.shrink_to_fit();
        Ok(PointerMap {
            entries,
            addrs,
            values,
            bytes_read,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The address of pointer `e`.
    pub(super) fn addr(&self, e: usize) -> u64 {
        self.addrs.address(self.entries[e] & u64::from(u32::MAX))
    }

    /// The value of pointer `e`.
    pub(super) fn value(&self, e: usize) -> u64 {
        self.values.address(self.entries[e] >> 32)
    }

    /// A key that orders pointers by address, as [`PointerMap::addr`] does.
    pub(super) fn addr_order(&self, e: usize) -> u32 {
        self.entries[e] as u32
    }

    /// The pointers whose value lies in `[lo, hi]`, as a range of ids.
    pub(super) fn pointing_into(&self, lo: u64, hi: u64) -> std::ops::Range<usize> {
        let from = self.values.first_from(lo);
        let to = match hi.checked_add(1) {
            Some(past) => self.values.first_from(past),
            None => self.values.total,
        };
        if from >= to {
            return 0..0;
        }
        let start = self.entries.partition_point(|&p| p >> 32 < from);
        let end = self.entries.partition_point(|&p| p >> 32 < to);
        start..end
    }

    /// `(address, value)` of every pointer, by address.
    #[cfg(test)]
    pub(super) fn pairs(&self) -> Vec<(u64, u64)> {
        let mut pairs: Vec<_> = (0..self.len())
            .map(|e| (self.addr(e), self.value(e)))
            .collect();
        pairs.sort_unstable();
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_numbers_spans_in_order_and_back() {
        let p = Packing::new(&[(0x3000, 0x3010), (0x1000, 0x1010)], 4);
        assert_eq!(p.total, 8);
        let at = |a| p.index_in(p.span_of(a).expect("inside"), a);
        assert_eq!(
            (at(0x1000), at(0x100c), at(0x3000), at(0x300c)),
            (0, 3, 4, 7)
        );
        assert_eq!(p.address(3), 0x100c);
        assert_eq!(p.address(4), 0x3000);
        assert_eq!(p.span_of(0x1010), None);
        assert_eq!(p.span_of(0xfff), None);
        // Lower bounds: inside (rounded up), in a gap, before and past all.
        assert_eq!(p.first_from(0x1001), 1);
        assert_eq!(p.first_from(0x2000), 4);
        assert_eq!(p.first_from(0), 0);
        assert_eq!(p.first_from(0x4000), 8);
    }

    #[test]
    fn a_range_query_finds_exactly_the_values_inside() {
        let mut mem = crate::search::MemorySource::new();
        let mut data = vec![0u8; 0x40];
        for (slot, value) in [0x1000u64, 0x1004, 0x100c, 0x1020, 0x3000]
            .iter()
            .enumerate()
        {
            data[slot * 8..slot * 8 + 8].copy_from_slice(&value.to_le_bytes());
        }
        mem.map(0x1000, data);
        mem.map(0x3000, vec![0u8; 0x10]);
        let spans = vec![(0x1000, 0x1040), (0x3000, 0x3010)];
        let plan = ScanPlan {
            read: spans.clone(),
            targets: spans,
        };
        let map = PointerMap::build(&mut [mem], &plan).expect("scan");
        let values =
            |lo, hi| -> Vec<u64> { map.pointing_into(lo, hi).map(|e| map.value(e)).collect() };
        assert_eq!(values(0x1001, 0x100c), vec![0x1004, 0x100c]);
        assert_eq!(values(0x1021, 0x2fff), Vec::<u64>::new());
        assert_eq!(values(0x1021, 0x3000), vec![0x3000]);
        assert_eq!(values(0, u64::MAX).len(), 5);
        assert_eq!(map.addr(map.pointing_into(0x3000, 0x3000).start), 0x1020);
    }
}

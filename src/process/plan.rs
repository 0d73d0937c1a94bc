//! How a batch of requested ranges becomes few remote reads: the readable
//! stretches merged into spans ([`ReadPlan`]), and the bytes of each
//! request found again in the spans read ([`SpanData`]).

use crate::process::maps::Maps;
use crate::process::memory::{Gap, Unread, clamp_len};
use crate::sys::{self, RemoteRange};

/// The readable stretches of many requests, merged into as few remote
/// ranges as possible.
#[derive(Default)]
pub(crate) struct ReadPlan {
    /// Merged as pieces arrive while they come in address order; sorted and
    /// merged at the end otherwise.
    spans: Vec<RemoteRange>,
    unsorted: bool,
    /// The readable region the last range fell in: watches cluster, so most
    /// ranges need no search of the maps.
    last_region: Option<(u64, u64)>,
}

impl ReadPlan {
    /// Adds every range; returns `(range index, from, to)` for each range
    /// that has gaps, with its gaps at `gaps[from..to]`.
    ///
    /// Sorted ranges inside the region of the range before need no maps
    /// lookup: they stretch a run kept in locals, pushed as one piece when
    /// the run ends (10,000 adjacent watches make one piece).
    pub(crate) fn add_ranges(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        gaps: &mut Vec<Gap>,
    ) -> Vec<(usize, usize, usize)> {
        let mut gapped = Vec::new();
        let (mut region_start, mut region_stop) = self.last_region.unwrap_or((1, 0));
        let mut run: Option<(u64, u64)> = None;
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            let end = addr + clamp_len(addr, len) as u64;
            let inside = region_start <= addr && end <= region_stop;
            if inside {
                match &mut run {
                    Some((from, to)) if *from <= addr && addr <= *to => {
                        *to = (*to).max(end);
                        continue;
                    }
                    _ => {}
                }
            }
            if let Some((from, to)) = run.take() {
                self.push(piece(from, to));
            }
            if inside {
                run = Some((addr, end));
                continue;
            }
            let before = gaps.len();
            self.add(maps, addr, end - addr, gaps);
            if gaps.len() > before {
                gapped.push((i, before, gaps.len()));
            }
            (region_start, region_stop) = self.last_region.unwrap_or((1, 0));
        }
        if let Some((from, to)) = run {
            self.push(piece(from, to));
        }
        gapped
    }

    /// Adds `[addr, addr + len)`: readable parts become pieces, the rest gaps.
    pub(crate) fn add(&mut self, maps: &Maps, addr: u64, len: u64, gaps: &mut Vec<Gap>) {
        let end = addr + len;
        if let Some((start, stop)) = self.last_region
            && start <= addr
            && end <= stop
        {
            self.push(RemoteRange {
                addr,
                len: len as usize,
            });
            return;
        }
        let mut at = addr;
        for region in maps.overlapping(addr, len) {
            if region.start > at {
                gaps.push(Gap {
                    addr: at,
                    len: region.start - at,
                    why: Unread::Unmapped,
                });
                at = region.start;
            }
            let stop = region.end.min(end);
            if region.is_readable() {
                self.last_region = Some((region.start, region.end));
                self.push(RemoteRange {
                    addr: at,
                    len: (stop - at) as usize,
                });
            } else {
                gaps.push(Gap {
                    addr: at,
                    len: stop - at,
                    why: Unread::Protected,
                });
            }
            at = stop;
        }
        if at < end {
            gaps.push(Gap {
                addr: at,
                len: end - at,
                why: Unread::Unmapped,
            });
        }
    }

    fn push(&mut self, piece: RemoteRange) {
        if piece.len == 0 {
            return;
        }
        match self.spans.last_mut() {
            Some(last) if piece.addr >= last.addr => {
                if !merge_into(last, &piece) {
                    self.spans.push(piece);
                }
            }
            Some(_) => {
                self.unsorted = true;
                self.spans.push(piece);
            }
            None => self.spans.push(piece),
        }
    }

    /// Sorted, disjoint remote ranges covering every piece. Pieces merge when
    /// they overlap or when the bytes between them lie on pages read anyway,
    /// so merging never touches a page no request asked for.
    pub(crate) fn spans(self) -> Vec<RemoteRange> {
        if !self.unsorted {
            return self.spans;
        }
        let mut pieces = self.spans;
        pieces.sort_by_key(|p| p.addr);
        let mut spans: Vec<RemoteRange> = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let merged = spans
                .last_mut()
                .is_some_and(|last| merge_into(last, &piece));
            if !merged {
                spans.push(piece);
            }
        }
        spans
    }
}

fn piece(from: u64, to: u64) -> RemoteRange {
    RemoteRange {
        addr: from,
        len: (to - from) as usize,
    }
}

/// Extends `last` over `piece` (which starts at or after it) when no new
/// page would be read in between; false when they must stay apart.
fn merge_into(last: &mut RemoteRange, piece: &RemoteRange) -> bool {
    let last_end = last.addr + last.len as u64;
    // Touching or overlapping ranges (the common case for adjacent watches)
    // merge without asking which pages lie between.
    if piece.addr > last_end {
        let page = sys::page_size();
        if piece.addr / page > (last_end - 1) / page + 1 {
            return false;
        }
    }
    let end = last_end.max(piece.addr + piece.len as u64);
    last.len = (end - last.addr) as usize;
    true
}

/// The spans read in one batch, with where each landed in the buffer.
pub(crate) struct SpanData<'a> {
    pub(crate) spans: &'a [RemoteRange],
    pub(crate) offsets: &'a [usize],
    /// Bytes of the spans that were not read, sorted by address.
    pub(crate) gaps: &'a [Gap],
}

impl SpanData<'_> {
    /// Where `[addr, addr + len)` lies in the buffer when one span holds all
    /// of it and none of it is a gap: `(span index, buffer offset)`. Ranges
    /// usually come in address order, so the span of the previous range
    /// (`hint`) is tried before a search.
    #[inline]
    pub(crate) fn whole(&self, addr: u64, len: usize, hint: usize) -> Option<(usize, usize)> {
        let end = addr + len as u64;
        let holds = |s: &RemoteRange| s.addr <= addr && end <= s.addr + s.len as u64;
        let k = match self.spans.get(hint) {
            Some(s) if holds(s) => hint,
            _ => {
                let k = self
                    .spans
                    .partition_point(|s| s.addr + s.len as u64 <= addr);
                if !self.spans.get(k).is_some_and(holds) {
                    return None;
                }
                k
            }
        };
        if !self.gaps.is_empty() {
            let g = self.gaps.partition_point(|g| g.end() <= addr);
            if self.gaps.get(g).is_some_and(|g| g.addr < end) {
                return None;
            }
        }
        Some((k, self.offsets[k] + (addr - self.spans[k].addr) as usize))
    }

    /// Copies the bytes of `[addr, addr + data.len())` out of the spans in
    /// `buffer` and adds the gaps that fall inside it to `gaps`, leaving them
    /// sorted.
    pub(crate) fn fill(&self, buffer: &[u8], addr: u64, data: &mut [u8], gaps: &mut Vec<Gap>) {
        let end = addr + data.len() as u64;
        let first = self
            .spans
            .partition_point(|s| s.addr + s.len as u64 <= addr);
        for (span, &off) in self.spans[first..].iter().zip(&self.offsets[first..]) {
            if span.addr >= end {
                break;
            }
            let from = span.addr.max(addr);
            let to = (span.addr + span.len as u64).min(end);
            let src = off + (from - span.addr) as usize;
            let dst = (from - addr) as usize;
            let n = (to - from) as usize;
            data[dst..dst + n].copy_from_slice(&buffer[src..src + n]);
        }
        let first = self.gaps.partition_point(|g| g.end() <= addr);
        for gap in &self.gaps[first..] {
            if gap.addr >= end {
                break;
            }
            let from = gap.addr.max(addr);
            let to = gap.end().min(end);
            gaps.push(Gap {
                addr: from,
                len: to - from,
                why: gap.why,
            });
            data[(from - addr) as usize..(to - addr) as usize].fill(0);
        }
        if gaps.len() > 1 {
            gaps.sort_by_key(|g| g.addr);
            merge_gaps_in_place(gaps);
        }
    }
}

/// Joins touching gaps with the same reason; `gaps` is sorted.
pub(crate) fn merge_gaps_in_place(gaps: &mut Vec<Gap>) {
    gaps.dedup_by(|next, last| {
        let touches = last.end() == next.addr && last.why == next.why;
        if touches {
            last.len += next.len;
        }
        touches
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Maps {
        Maps::parse(
            "1000-3000 rw-p 00000000 00:00 0\n\
             3000-4000 ---p 00000000 00:00 0\n\
             5000-9000 r--p 00000000 00:00 0\n",
            "test",
        )
        .expect("maps")
    }

    fn range(addr: u64, len: usize) -> RemoteRange {
        RemoteRange { addr, len }
    }

    fn gap(addr: u64, len: u64, why: Unread) -> Gap {
        Gap { addr, len, why }
    }

    #[test]
    fn plan_marks_unmapped_and_protected_bytes() {
        let mut plan = ReadPlan::default();
        let mut gaps = Vec::new();
        plan.add(&maps(), 0x2ff0, 0x2020, &mut gaps);
        assert_eq!(
            gaps,
            vec![
                gap(0x3000, 0x1000, Unread::Protected),
                gap(0x4000, 0x1000, Unread::Unmapped),
            ]
        );
        assert_eq!(plan.spans(), vec![range(0x2ff0, 0x10), range(0x5000, 0x10)]);
    }

    #[test]
    fn plan_merges_only_across_pages_already_read() {
        let mut plan = ReadPlan::default();
        let mut gaps = Vec::new();
        for addr in [0x1008, 0x1000, 0x1ff8, 0x2004, 0x5000, 0x7000] {
            plan.add(&maps(), addr, 8, &mut gaps);
        }
        assert!(gaps.is_empty());
        assert_eq!(
            plan.spans(),
            vec![range(0x1000, 0x100c), range(0x5000, 8), range(0x7000, 8)]
        );
    }

    #[test]
    fn sorted_adjacent_ranges_make_one_piece_without_lookups() {
        let mut plan = ReadPlan::default();
        let mut gaps = Vec::new();
        let ranges: Vec<(u64, usize)> = (0..512).map(|i| (0x1000 + i * 8, 8)).collect();
        let gapped = plan.add_ranges(&maps(), &ranges, &mut gaps);
        assert!(gapped.is_empty() && gaps.is_empty());
        assert_eq!(plan.spans(), vec![range(0x1000, 0x1000)]);
    }

    #[test]
    fn runs_and_single_adds_plan_the_same() {
        let ranges = [
            (0x1000, 8),
            (0x1008, 8),
            (0x2ff8, 0x10),
            (0x3008, 4),
            (0x1004, 8),
            (0x5000, 8),
            (0x4ff8, 0x10),
            (0x9000, 8),
            (0x5008, 0),
            (0x5010, 8),
        ];
        let mut one_by_one = ReadPlan::default();
        let mut single_gaps = Vec::new();
        for &(addr, len) in &ranges {
            one_by_one.add(&maps(), addr, len as u64, &mut single_gaps);
        }
        let mut runs = ReadPlan::default();
        let mut run_gaps = Vec::new();
        let gapped = runs.add_ranges(&maps(), &ranges, &mut run_gaps);
        assert_eq!(run_gaps, single_gaps);
        assert_eq!(runs.spans(), one_by_one.spans());
        let with_gaps: Vec<usize> = gapped.iter().map(|&(i, _, _)| i).collect();
        assert_eq!(with_gaps, [2, 3, 6, 7]);
    }

    #[test]
    fn fill_copies_overlapping_requests_and_clips_gaps() {
        let spans = [range(0x100, 16)];
        let buffer: Vec<u8> = (0..16).collect();
        let span_gaps = [gap(0x10c, 4, Unread::NotResident)];
        let read = SpanData {
            spans: &spans,
            offsets: &[0],
            gaps: &span_gaps,
        };
        let (mut a, mut a_gaps) = (vec![0; 4], Vec::new());
        let (mut b, mut b_gaps) = (vec![0; 6], Vec::new());
        read.fill(&buffer, 0x104, &mut a, &mut a_gaps);
        read.fill(&buffer, 0x10a, &mut b, &mut b_gaps);
        assert_eq!(read.whole(0x104, 4, 7), Some((0, 4)));
        assert_eq!(read.whole(0x10a, 4, 0), None, "touches the gap");
        assert_eq!(read.whole(0x0fc, 8, 0), None, "starts before the span");
        assert_eq!((a, a_gaps), (vec![4u8, 5, 6, 7], vec![]));
        assert_eq!(b, vec![10, 11, 0, 0, 0, 0]);
        assert_eq!(b_gaps, vec![gap(0x10c, 4, Unread::NotResident)]);
    }

    #[test]
    fn touching_gaps_with_one_reason_merge() {
        let mut gaps = vec![
            gap(0x1000, 0x10, Unread::Unmapped),
            gap(0x1010, 0x10, Unread::Unmapped),
            gap(0x1020, 0x10, Unread::Protected),
        ];
        merge_gaps_in_place(&mut gaps);
        assert_eq!(
            gaps,
            vec![
                gap(0x1000, 0x20, Unread::Unmapped),
                gap(0x1020, 0x10, Unread::Protected)
            ]
        );
    }
}

//! Value scans: the first pass over memory for places holding a value, and
//! narrowing, which re-reads only the surviving places.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::Result;
use crate::process::Unread;
use crate::search::records::{PageRecord, PageRecordOut, Record};
use crate::search::snapshot::{PAGE_BATCH, narrow_pages};
use crate::search::source::Source;
use crate::search::store::{BlockBuf, Blocks, Candidate, ScanFile, ScanHeader, ScanWriter};
use crate::search::value::{Condition, ValueType};
use crate::search::walk::{Piece, Visitor};

/// What to look for in a first scan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScanSpec {
    pub ty: ValueType,
    /// [`Condition::Eq`] or [`Condition::Range`]: there is no previous value yet.
    pub condition: Condition,
    /// Only consider places aligned to the type's size (the default); for
    /// `int`, each width's places aligned to that width.
    pub aligned: bool,
    /// Floats this close count as equal.
    pub tolerance: f64,
}

impl ScanSpec {
    pub fn new(ty: ValueType, condition: Condition) -> ScanSpec {
        ScanSpec {
            ty,
            condition,
            aligned: true,
            tolerance: 0.0,
        }
    }

    pub(crate) fn step(&self) -> u64 {
        if self.aligned {
            self.ty.size() as u64
        } else {
            1
        }
    }
}

pub(crate) type BlockSink<'a> = dyn Fn(BlockBuf) -> bool + Sync + 'a;

pub(crate) struct ScanVisitor<'a> {
    spec: ScanSpec,
    found: &'a AtomicU64,
    stop: &'a AtomicBool,
    sink: &'a BlockSink<'a>,
    /// Boxed: four widths' buffers are large beside a snapshot's visitor.
    blocks: Box<Blocks>,
}

impl<'a> ScanVisitor<'a> {
    pub fn new(
        spec: ScanSpec,
        found: &'a AtomicU64,
        stop: &'a AtomicBool,
        sink: &'a BlockSink<'a>,
    ) -> ScanVisitor<'a> {
        ScanVisitor {
            spec,
            found,
            stop,
            sink,
            blocks: Box::default(),
        }
    }

    pub fn finish(&mut self) {
        for block in self.blocks.take() {
            emit(self.found, self.stop, self.sink, block);
        }
    }
}

fn emit(found: &AtomicU64, stop: &AtomicBool, sink: &BlockSink<'_>, block: BlockBuf) {
    found.fetch_add(block.len() as u64, Ordering::Relaxed);
    if !sink(block) {
        stop.store(true, Ordering::Relaxed);
    }
}

impl Visitor for ScanVisitor<'_> {
    fn piece(&mut self, p: &Piece<'_>) {
        // An `int` scan looks at each width in turn, each with the value as
        // that width holds it.
        for &ty in self.spec.ty.widths() {
            let Some(condition) = self.spec.condition.for_width(self.spec.ty, ty) else {
                continue;
            };
            let spec = ScanSpec {
                ty,
                condition,
                ..self.spec
            };
            self.piece_of(&spec, p);
        }
    }
}

impl ScanVisitor<'_> {
    /// Scans a piece for places of one concrete type.
    fn piece_of(&mut self, spec: &ScanSpec, p: &Piece<'_>) {
        let size = spec.ty.size();
        let step = spec.step();
        let first = (p.addr.next_multiple_of(step) - p.addr) as usize;
        // Starts in [first, stop) are owned and hold a whole value.
        let stop = p.owned.min((p.bytes.len() + 1).saturating_sub(size));
        if first >= stop {
            return;
        }
        let hay = &p.bytes[first..stop - 1 + size];
        let base = p.addr + first as u64;
        // Straight into the block: a piece where every place matches must
        // not need memory in proportion to its size.
        let ScanVisitor {
            found,
            stop: halt,
            sink,
            blocks,
            ..
        } = self;
        find_values(spec, hay, &mut |off, bits| {
            if let Some(done) = blocks.push(base + off as u64, size, bits) {
                emit(found, halt, *sink, done);
            }
        });
    }
}

/// Calls `hit(offset, bits)` for each place of `hay` (whose offset 0 is a
/// slot) that satisfies the spec.
fn find_values(spec: &ScanSpec, hay: &[u8], hit: &mut dyn FnMut(usize, u64)) {
    let ty = spec.ty;
    let size = ty.size();
    if let Condition::Eq(x) = spec.condition
        && !ty.is_float()
    {
        let needle = ty.store(x);
        if size == 1 {
            for i in memchr::memchr_iter(needle[0], hay) {
                hit(i, x);
            }
            return;
        }
        if spec.aligned {
            match size {
                2 => find_eq_u16(hay, x as u16, &mut |i| hit(i, x)),
                4 => find_eq_u32(hay, x as u32, &mut |i| hit(i, x)),
                _ => find_eq_u64(hay, x, &mut |i| hit(i, x)),
            }
        } else {
            for i in memchr::memchr_iter(needle[0], &hay[..hay.len() + 1 - size]) {
                if hay[i..i + size] == needle[..] {
                    hit(i, x);
                }
            }
        }
        return;
    }
    let step = spec.step() as usize;
    let mut i = 0;
    while i + size <= hay.len() {
        let bits = ty.load(&hay[i..]);
        if spec.condition.keeps(ty, spec.tolerance, bits, bits) {
            hit(i, bits);
        }
        i += step;
    }
}

// Aligned equality, a group of words at a time: the group test compiles to
// vector compares, and only groups with a hit are looked at word by word.
macro_rules! find_eq_words {
    ($name:ident, $t:ty) => {
        fn $name(hay: &[u8], needle: $t, hit: &mut dyn FnMut(usize)) {
            const N: usize = std::mem::size_of::<$t>();
            const GROUP: usize = 128 / N;
            let load = |w: &[u8]| {
                let mut a = [0u8; N];
                a.copy_from_slice(w);
                <$t>::from_le_bytes(a)
            };
            let mut groups = hay.chunks_exact(N * GROUP);
            let mut at = 0;
            for group in &mut groups {
                let any = group
                    .chunks_exact(N)
                    .fold(false, |any, w| any | (load(w) == needle));
                if any {
                    for (k, w) in group.chunks_exact(N).enumerate() {
                        if load(w) == needle {
                            hit(at + k * N);
                        }
                    }
                }
                at += N * GROUP;
            }
            for (k, w) in groups.remainder().chunks_exact(N).enumerate() {
                if load(w) == needle {
                    hit(at + k * N);
                }
            }
        }
    };
}

find_eq_words!(find_eq_u16, u16);
find_eq_words!(find_eq_u32, u32);
find_eq_words!(find_eq_u64, u64);

/// Places closer than this are read in one range when narrowing.
const MERGE_GAP: u64 = 256;
/// The longest range one narrowing read asks for.
const MAX_SPAN: u64 = 64 << 10;
/// Candidates checked per batch of reads: bounds memory while narrowing.
const BATCH: usize = 1 << 14;

/// How a narrowing went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NarrowStats {
    /// Candidates looked at (re-read or found unreadable).
    pub checked: u64,
    /// Candidates dropped because their bytes could not be read now
    /// (unmapped, not readable, a fault).
    pub unreadable: u64,
    /// Candidates whose pages are not in memory now: kept with their last
    /// value, since not being read is not a change.
    pub not_resident: u64,
    /// Candidates not looked at because the narrowing stopped early; they are
    /// kept unchanged so nothing is lost.
    pub unchecked: u64,
}

/// Re-reads the candidates of `from` in address order and writes the ones
/// `condition` keeps, with their new values, to `out`. A snapshot's pages
/// are compared whole first (see [`crate::search::snapshot`]). When `stop`
/// is raised or a read fails, the rest are copied unchanged and the read
/// error is returned with the stats.
pub(crate) fn narrow<S: Source>(
    source: &mut S,
    from: &ScanFile,
    condition: Condition,
    out: &mut ScanWriter,
    stop: &dyn Fn() -> bool,
    done: &AtomicU64,
) -> Result<(NarrowStats, Option<crate::Error>)> {
    let h = *from.header();
    let mut n = Narrowing {
        h,
        condition,
        stats: NarrowStats::default(),
        blocks: Blocks::default(),
        failure: None,
        places: Vec::new(),
        pages: Vec::new(),
        page_bytes: 0,
    };
    let mut groups = from.ordered()?;
    // Records are read and decompressed on a second thread while this one
    // reads the target and compares; a few batches in flight bound memory.
    // Groups (one per 64 KiB block) travel in batches of about SEND_WEIGHT
    // bytes: one hand-off per block cost a wake-up of each thread, which a
    // busy machine makes slow.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Option<Vec<Record>>>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch: Vec<Record> = Vec::new();
            let mut weight = 0usize;
            loop {
                let next = match groups.next_group() {
                    Ok(Some(group)) => {
                        weight += group.iter().map(Record::weight).sum::<usize>();
                        batch.extend(group);
                        if weight < SEND_WEIGHT {
                            continue;
                        }
                        weight = 0;
                        Ok(Some(std::mem::take(&mut batch)))
                    }
                    Ok(None) if !batch.is_empty() => {
                        // The last batch, then the end on the next turn.
                        weight = 0;
                        if tx.send(Ok(Some(std::mem::take(&mut batch)))).is_err() {
                            break;
                        }
                        Ok(None)
                    }
                    other => other,
                };
                let last = !matches!(next, Ok(Some(_)));
                if tx.send(next).is_err() || last {
                    break;
                }
            }
        });
        n.run(&rx, source, out, stop, done)
    })?;
    Ok((n.stats, n.failure))
}

/// Bytes of records the file reader hands over at once.
const SEND_WEIGHT: usize = 1 << 20;

impl Narrowing {
    fn run<S: Source>(
        &mut self,
        groups: &std::sync::mpsc::Receiver<Result<Option<Vec<Record>>>>,
        source: &mut S,
        out: &mut ScanWriter,
        stop: &dyn Fn() -> bool,
        done: &AtomicU64,
    ) -> Result<()> {
        let n = self;
        loop {
            let group = groups.recv().unwrap_or_else(|_| {
                Err(crate::Error::Usage("the scan file reader stopped".into()))
            })?;
            let end = group.is_none();
            for record in group.into_iter().flatten() {
                match record {
                    Record::Places(c) => {
                        if !n.pages.is_empty() {
                            n.flush_pages(source, out, stop, done)?;
                        }
                        n.places.extend(c);
                    }
                    Record::Pages(p) => {
                        if !n.places.is_empty() {
                            n.flush_places(source, out, stop, done)?;
                        }
                        n.page_bytes += p.data.len();
                        n.pages.push(p);
                    }
                }
            }
            if n.places.len() >= BATCH || end {
                n.flush_places(source, out, stop, done)?;
            }
            if n.page_bytes >= PAGE_BATCH || end {
                n.flush_pages(source, out, stop, done)?;
            }
            if end {
                break;
            }
        }
        for full in n.blocks.take() {
            out.write_block(&full)?;
        }
        Ok(())
    }
}

/// The state of one narrowing: what is pending and what came of it.
struct Narrowing {
    h: ScanHeader,
    condition: Condition,
    stats: NarrowStats,
    blocks: Blocks,
    failure: Option<crate::Error>,
    places: Vec<Candidate>,
    pages: Vec<PageRecord>,
    page_bytes: usize,
}

impl Narrowing {
    /// Runs one check unless an earlier one failed or the job was stopped;
    /// whether it ran through. A failure is kept, and later checks skipped.
    fn attempt(
        &mut self,
        stop: &dyn Fn() -> bool,
        check: impl FnOnce(&ScanHeader, Condition, &mut Blocks, &mut NarrowStats) -> Result<()>,
    ) -> bool {
        if self.failure.is_some() || stop() {
            return false;
        }
        match check(&self.h, self.condition, &mut self.blocks, &mut self.stats) {
            Ok(()) => true,
            Err(e) => {
                self.failure = Some(e);
                false
            }
        }
    }

    fn flush_places<S: Source>(
        &mut self,
        source: &mut S,
        out: &mut ScanWriter,
        stop: &dyn Fn() -> bool,
        done: &AtomicU64,
    ) -> Result<()> {
        if self.places.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.places);
        // Records of one block may come from two lanes: reads coalesce in address order.
        pending.sort_unstable_by_key(|c| (c.addr, c.width));
        let checked = self.attempt(stop, |h, condition, blocks, stats| {
            check_batch(source, h, condition, &pending, blocks, out, stats)
        });
        if checked {
            done.fetch_add(pending.len() as u64, Ordering::Relaxed);
        } else {
            self.stats.unchecked += pending.len() as u64;
            for c in &pending {
                if let Some(full) = self.blocks.push(c.addr, c.width.into(), c.bits) {
                    out.write_block(&full)?;
                }
            }
        }
        Ok(())
    }

    fn flush_pages<S: Source>(
        &mut self,
        source: &mut S,
        out: &mut ScanWriter,
        stop: &dyn Fn() -> bool,
        done: &AtomicU64,
    ) -> Result<()> {
        if self.pages.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pages);
        self.page_bytes = 0;
        let places: u64 = pending.iter().map(|p| self.h.places_in(p.data.len())).sum();
        if self.attempt(stop, |h, condition, blocks, stats| {
            narrow_pages(source, h, condition, &pending, blocks, out, stats)
        }) {
            done.fetch_add(places, Ordering::Relaxed);
            return Ok(());
        }
        // Not checked: the pages go on as they were, still a snapshot.
        self.stats.unchecked += places;
        for full in self.blocks.take() {
            out.write_block(&full)?;
        }
        for p in &pending {
            out.write_pages(&PageRecordOut::encode(p.base, p.mask, &p.data))?;
        }
        Ok(())
    }
}

fn check_batch<S: Source>(
    source: &mut S,
    h: &ScanHeader,
    condition: Condition,
    cands: &[Candidate],
    blocks: &mut Blocks,
    out: &mut ScanWriter,
    stats: &mut NarrowStats,
) -> Result<()> {
    // The condition each width keeps by (`None`: no place that wide can pass).
    let widths: Vec<(ValueType, Option<Condition>)> =
        h.ty.widths()
            .iter()
            .map(|&ty| (ty, condition.for_width(h.ty, ty)))
            .collect();
    let mut spans: Vec<(u64, usize)> = Vec::new();
    for c in cands {
        let size = u64::from(c.width);
        match spans.last_mut() {
            Some((start, len))
                if c.addr <= *start + *len as u64 + MERGE_GAP
                    && c.addr + size - *start <= MAX_SPAN
                    && c.addr >= *start =>
            {
                *len = (*len).max((c.addr + size - *start) as usize);
            }
            _ => spans.push((c.addr, size as usize)),
        }
    }
    let outcomes = source.read_ranges(&spans)?;
    let mut j = 0;
    for c in cands {
        let size = u64::from(c.width);
        while j < outcomes.len() && outcomes[j].addr + outcomes[j].data.len() as u64 <= c.addr {
            j += 1;
        }
        stats.checked += 1;
        let Some(o) = outcomes.get(j).filter(|o| o.addr <= c.addr) else {
            stats.unreadable += 1;
            continue;
        };
        if let Some(g) = o
            .gaps
            .iter()
            .find(|g| g.addr < c.addr + size && c.addr < g.end())
        {
            // Not in memory now is not a change: keep the place as it was.
            if g.why == Unread::NotResident {
                stats.not_resident += 1;
                if let Some(full) = blocks.push(c.addr, size as usize, c.bits) {
                    out.write_block(&full)?;
                }
            } else {
                stats.unreadable += 1;
            }
            continue;
        }
        let Some(&(ty, Some(condition))) = widths.iter().find(|w| w.0.size() == size as usize)
        else {
            continue;
        };
        let at = (c.addr - o.addr) as usize;
        // The span holds the whole place: the read covers `c.addr + size`.
        let Some(bytes) = o.data.get(at..at + size as usize) else {
            stats.unreadable += 1;
            continue;
        };
        let now = ty.load(bytes);
        if condition.keeps(ty, h.tolerance, now, c.bits)
            && let Some(full) = blocks.push(c.addr, size as usize, now)
        {
            out.write_block(&full)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(spec: ScanSpec, hay: &[u8]) -> Vec<(usize, u64)> {
        let mut hits = Vec::new();
        find_values(&spec, hay, &mut |i, b| hits.push((i, b)));
        hits
    }

    #[test]
    fn aligned_eq_matches_the_slow_path_for_every_width() {
        let mut hay = vec![0u8; 1000];
        let mut x: u32 = 7;
        for b in hay.iter_mut() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (x >> 24) as u8 & 3;
        }
        for ty in [ValueType::U16, ValueType::I32, ValueType::U64] {
            let bits = ty.load(&hay[8 * 40..]);
            let fast = scan(ScanSpec::new(ty, Condition::Eq(bits)), &hay);
            let mut slow = ScanSpec::new(ty, Condition::Range(bits, bits));
            let want = scan(slow, &hay);
            assert_eq!(fast, want, "{ty}");
            assert!(fast.contains(&(320, bits)));
            slow.aligned = false;
            let mut unaligned = ScanSpec::new(ty, Condition::Eq(bits));
            unaligned.aligned = false;
            assert_eq!(scan(unaligned, &hay), scan(slow, &hay), "{ty} unaligned");
        }
    }

    #[test]
    fn float_scan_with_tolerance() {
        let mut hay = Vec::new();
        for v in [1.0f32, 99.99, 100.0, 100.02, -100.0] {
            hay.extend_from_slice(&v.to_le_bytes());
        }
        let mut spec = ScanSpec::new(ValueType::F32, Condition::Eq(u64::from(100.0f32.to_bits())));
        spec.tolerance = 0.015;
        let offsets: Vec<usize> = scan(spec, &hay).iter().map(|h| h.0).collect();
        assert_eq!(offsets, vec![4, 8]);
    }

    #[test]
    fn narrowing_records_out_of_address_order() {
        use crate::search::source::MemorySource;
        use crate::search::store::ScanWriter;
        let ty = ValueType::U32;
        let mut mem = MemorySource::new();
        mem.map(0, vec![0; 0x1000]);
        let h = ScanHeader {
            pid: 1,
            ty,
            aligned: true,
            tolerance: 0.0,
            count: 0,
            scans: 1,
            identity: Default::default(),
        };
        let mut w = ScanWriter::create(None, h).expect("create");
        // Two lanes' records of the same block, the later addresses first.
        for addrs in [[0x100u64, 0x200], [0x80, 0x180]] {
            let mut block = BlockBuf::default();
            for a in addrs {
                assert!(block.push(a, 0).is_none());
            }
            w.write_block(&block).expect("write");
        }
        let from = w.finish().expect("finish");
        let mut out = ScanWriter::create(None, h).expect("create");
        let (stats, failure) = narrow(
            &mut mem,
            &from,
            Condition::Unchanged,
            &mut out,
            &|| false,
            &AtomicU64::new(0),
        )
        .expect("narrow");
        assert!(failure.is_none());
        assert_eq!(stats.unreadable, 0);
        let file = out.finish().expect("finish");
        let addrs: Vec<u64> = file
            .first(10)
            .expect("read")
            .iter()
            .map(|c| c.addr)
            .collect();
        assert_eq!(addrs, vec![0x80, 0x100, 0x180, 0x200]);
    }
}

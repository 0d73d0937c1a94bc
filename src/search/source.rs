//! Where the searcher's bytes come from.
//!
//! The searcher only needs "fill this buffer from address A and tell me which
//! bytes you could not read". Keeping that behind a small trait lets the core
//! run over an in-memory address space in unit tests (with tiny buffers) and
//! over a live process through the engine's deadline worker in real use.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::process::{
    Gap, Maps, Memory, MemoryWorker, PageBuffer, ReadMode, ReadOutcome, Target, Unread,
};

/// A readable address space.
pub trait Source: Send {
    /// Fills `buf` (its whole length) with the bytes at `addr`. Bytes that
    /// could not be read are returned as gaps, sorted and disjoint; their
    /// contents in `buf` are meaningless. The buffer is passed as a `Vec` so an
    /// implementation may hand it to another thread and back; it must come
    /// back with the same length.
    ///
    /// An `Err` means the whole address space is gone (the target exited).
    fn read_chunk(&mut self, addr: u64, buf: &mut PageBuffer) -> Result<Vec<Gap>>;

    /// Reads many small ranges; one outcome per range, in order. The default
    /// reads them one by one; a process source batches them into few syscalls.
    fn read_ranges(&mut self, ranges: &[(u64, usize)]) -> Result<Vec<ReadOutcome>> {
        let mut out = Vec::with_capacity(ranges.len());
        for &(addr, len) in ranges {
            let mut buf = PageBuffer::new(len);
            let gaps = self.read_chunk(addr, &mut buf)?;
            out.push(ReadOutcome {
                addr,
                data: buf.to_vec(),
                gaps,
            });
        }
        Ok(out)
    }
}

/// A live process read through the engine's [`MemoryWorker`], so a read that
/// blocks is abandoned at its deadline instead of hanging the search.
pub struct ProcessSource {
    worker: MemoryWorker,
    maps: Maps,
    mode: ReadMode,
    refreshed: Option<Instant>,
}

impl ProcessSource {
    /// How long one chunk read may take before it is reported `Stalled`.
    pub const DEADLINE: Duration = Duration::from_secs(2);
    /// The shortest time between two re-reads of the maps.
    pub const REFRESH: Duration = Duration::from_millis(50);

    pub fn new(target: Arc<Target>, maps: Maps, mode: ReadMode) -> ProcessSource {
        ProcessSource {
            worker: MemoryWorker::new(target, Self::DEADLINE),
            maps,
            mode,
            refreshed: None,
        }
    }

    /// A region unmapped after the search began still reads through the old
    /// maps and fails as a fault (or, through pagemap, as not resident).
    /// Re-reading the maps, at most every [`Self::REFRESH`], tells those
    /// bytes apart as unmapped, and later reads skip them without a syscall.
    fn reclassify(&mut self, gaps: &mut [Gap]) {
        let suspect = |g: &Gap| matches!(g.why, Unread::Faulted | Unread::NotResident);
        if !gaps.iter().any(suspect) || self.refreshed.is_some_and(|t| t.elapsed() < Self::REFRESH)
        {
            return;
        }
        self.refreshed = Some(Instant::now());
        let Ok(fresh) = self.worker.memory().maps() else {
            return;
        };
        self.maps = fresh;
        for g in gaps.iter_mut().filter(|g| suspect(g)) {
            if self.maps.overlapping(g.addr, g.len).is_empty() {
                g.why = Unread::Unmapped;
            }
        }
    }
}

impl Source for ProcessSource {
    fn read_chunk(&mut self, addr: u64, buf: &mut PageBuffer) -> Result<Vec<Gap>> {
        let len = buf.len();
        let mut gaps = self.worker.read_into(&self.maps, addr, buf, self.mode)?;
        buf.resize(len);
        self.reclassify(&mut gaps);
        Ok(gaps)
    }

    fn read_ranges(&mut self, ranges: &[(u64, usize)]) -> Result<Vec<ReadOutcome>> {
        self.worker.read(&self.maps, ranges, self.mode)
    }
}

/// An in-memory address space: mapped spans of bytes, with holes that read
/// as a chosen [`Unread`] reason. For tests and examples.
///
/// ```
/// use pvtui::process::PageBuffer;
/// use pvtui::search::{MemorySource, Source};
/// let mut mem = MemorySource::new();
/// mem.map(0x1000, b"hello".to_vec());
/// let mut buf = PageBuffer::new(8);
/// let gaps = mem.read_chunk(0x0ffe, &mut buf)?;
/// assert_eq!(&buf[2..7], b"hello");
/// assert_eq!(gaps.len(), 2); // before and after the span
/// # Ok::<(), pvtui::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    spans: Vec<(u64, Vec<u8>)>,
    holes: Vec<Gap>,
    /// Reads at or past this address fail as if the process had exited.
    exit_at: Option<u64>,
}

impl MemorySource {
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Maps `bytes` at `addr` (spans must not overlap).
    pub fn map(&mut self, addr: u64, bytes: Vec<u8>) {
        self.spans.push((addr, bytes));
        self.spans.sort_by_key(|s| s.0);
    }

    /// Makes `[addr, addr+len)` unreadable for reason `why`.
    pub fn hole(&mut self, addr: u64, len: u64, why: Unread) {
        self.holes.push(Gap { addr, len, why });
    }

    /// Makes any read that reaches `addr` fail with "target exited".
    pub fn exit_at(&mut self, addr: u64) {
        self.exit_at = Some(addr);
    }

    /// Changes the bytes at `addr` (which must be mapped).
    pub fn poke(&mut self, addr: u64, bytes: &[u8]) {
        for (start, data) in &mut self.spans {
            if *start <= addr && addr + bytes.len() as u64 <= *start + data.len() as u64 {
                let at = (addr - *start) as usize;
                data[at..at + bytes.len()].copy_from_slice(bytes);
                return;
            }
        }
    }

    fn unread_at(&self, addr: u64) -> Option<Unread> {
        if let Some(g) = self.holes.iter().find(|g| g.addr <= addr && addr < g.end()) {
            return Some(g.why);
        }
        let mapped = self
            .spans
            .iter()
            .any(|(s, d)| *s <= addr && addr < *s + d.len() as u64);
        (!mapped).then_some(Unread::Unmapped)
    }
}

impl Source for MemorySource {
    fn read_chunk(&mut self, addr: u64, buf: &mut PageBuffer) -> Result<Vec<Gap>> {
        let end = addr + buf.len() as u64;
        if self.exit_at.is_some_and(|x| x < end) {
            return Err(crate::Error::TargetExited { pid: 0 });
        }
        buf.fill(0);
        for (start, data) in &self.spans {
            let s_end = *start + data.len() as u64;
            let lo = addr.max(*start);
            let hi = end.min(s_end);
            if lo < hi {
                let src = &data[(lo - start) as usize..(hi - start) as usize];
                buf[(lo - addr) as usize..(hi - addr) as usize].copy_from_slice(src);
            }
        }
        // Byte-by-byte is fine for test-sized spaces and keeps gap merging obvious.
        let mut gaps: Vec<Gap> = Vec::new();
        for a in addr..end {
            if let Some(why) = self.unread_at(a) {
                match gaps.last_mut() {
                    Some(g) if g.end() == a && g.why == why => g.len += 1,
                    _ => gaps.push(Gap {
                        addr: a,
                        len: 1,
                        why,
                    }),
                }
            }
        }
        Ok(gaps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_source_reports_holes_and_unmapped() {
        let mut mem = MemorySource::new();
        mem.map(10, (0..10).collect());
        mem.hole(12, 2, Unread::NotResident);
        let mut buf = PageBuffer::from(&[0xff; 14][..]);
        let gaps = mem.read_chunk(8, &mut buf).expect("read");
        assert_eq!(&buf[2..4], &[0, 1]);
        assert_eq!(&buf[6..12], &[4, 5, 6, 7, 8, 9]);
        let whys: Vec<_> = gaps.iter().map(|g| (g.addr, g.len, g.why)).collect();
        assert_eq!(
            whys,
            vec![
                (8, 2, Unread::Unmapped),
                (12, 2, Unread::NotResident),
                (20, 2, Unread::Unmapped)
            ]
        );
    }
}

//! What a read or write of target memory gives back.

use std::fmt;

use crate::error::Result;
use crate::process::maps::Maps;

/// Keeps `addr + len` inside the address space.
#[inline]
pub(crate) fn clamp_len(addr: u64, len: usize) -> usize {
    let room = u64::MAX - addr;
    len.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Whether a read may fault pages in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// Never block: pages that would need IO (or a userfaultfd handler) are
    /// reported [`Unread::NotResident`] instead of being faulted in.
    NoWait,
    /// Fault pages in as the target itself would: a "force read".
    Force,
}

/// Why some bytes of a requested range were not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unread {
    /// The page is mapped but not in memory; reading it would block.
    NotResident,
    /// No mapping covers these bytes.
    Unmapped,
    /// Mapped without read permission (or a kernel region such as `[vvar]`).
    Protected,
    /// Mapped and readable, yet the kernel refused (past the end of a mapped
    /// file, or the mapping changed under us).
    Faulted,
    /// The read did not finish before its deadline and was abandoned.
    Stalled,
}

impl Unread {
    pub fn as_str(self) -> &'static str {
        match self {
            Unread::NotResident => "not resident",
            Unread::Unmapped => "unmapped",
            Unread::Protected => "not readable",
            Unread::Faulted => "fault",
            Unread::Stalled => "stalled",
        }
    }
}

impl fmt::Display for Unread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run of bytes that was not read, with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub addr: u64,
    pub len: u64,
    pub why: Unread,
}

impl Gap {
    pub fn end(&self) -> u64 {
        self.addr + self.len
    }
}

/// The result of reading one requested range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOutcome {
    pub addr: u64,
    /// As long as requested; bytes inside a gap are zero and must not be used.
    pub data: Vec<u8>,
    /// The bytes not read, sorted and disjoint; empty when all were read.
    pub gaps: Vec<Gap>,
}

impl ReadOutcome {
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// The bytes, only when every one of them was read.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.is_complete().then_some(self.data.as_slice())
    }

    /// Why the byte at `addr` was not read, or `None` if it was.
    pub fn unread_at(&self, addr: u64) -> Option<Unread> {
        self.gaps
            .iter()
            .find(|g| g.addr <= addr && addr < g.end())
            .map(|g| g.why)
    }

    /// The first reason any byte was not read.
    pub fn first_unread(&self) -> Option<Unread> {
        self.gaps.first().map(|g| g.why)
    }
}

/// What a write did, checked by reading the bytes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteReport {
    pub addr: u64,
    /// The bytes that were there before the write.
    pub before: Vec<u8>,
    /// The bytes asked for.
    pub requested: Vec<u8>,
    /// How many bytes the kernel said it wrote, from `addr` on.
    pub written: usize,
    /// The bytes read back after the write (empty where the read-back failed).
    pub after: Vec<u8>,
}

impl WriteReport {
    /// Every byte was written and reads back as asked.
    pub fn landed(&self) -> bool {
        self.written == self.requested.len() && self.after == self.requested
    }
}

/// The results of one batched read: every range's bytes in one buffer, so a
/// tick of thousands of watches costs no allocation once the batch has grown.
///
/// The ranges are kept as parallel columns (address, offset, length, end of
/// its gaps): a steady tick only appends numbers to four vectors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadBatch {
    data: Vec<u8>,
    addrs: Vec<u64>,
    offsets: Vec<usize>,
    lens: Vec<usize>,
    /// Where each range's gaps end in `gaps`; they start where the previous
    /// range's end.
    gap_ends: Vec<u32>,
    gaps: Vec<Gap>,
}

/// One range of a [`ReadBatch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeRead<'a> {
    pub addr: u64,
    /// As long as requested; bytes inside a gap are zero and must not be used.
    pub data: &'a [u8],
    /// The bytes not read, sorted and disjoint.
    pub gaps: &'a [Gap],
}

impl<'a> RangeRead<'a> {
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// The bytes, only when every one of them was read.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        self.is_complete().then_some(self.data)
    }

    /// The first reason any byte was not read.
    pub fn first_unread(&self) -> Option<Unread> {
        self.gaps.first().map(|g| g.why)
    }

    pub fn to_outcome(&self) -> ReadOutcome {
        ReadOutcome {
            addr: self.addr,
            data: self.data.to_vec(),
            gaps: self.gaps.to_vec(),
        }
    }
}

impl ReadBatch {
    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.data.clear();
        self.addrs.clear();
        self.offsets.clear();
        self.lens.clear();
        self.gap_ends.clear();
        self.gaps.clear();
    }

    /// Forgets the ranges, keeping the buffer's bytes.
    pub(crate) fn clear_entries(&mut self) {
        self.addrs.clear();
        self.offsets.clear();
        self.lens.clear();
        self.gap_ends.clear();
        self.gaps.clear();
    }

    /// Empties the batch and gives back a buffer of `bytes` at its start,
    /// for the spans of a read; ranges are then pushed as windows on it.
    ///
    /// The buffer is not zeroed (that would cost a pass over it every tick):
    /// it may hold last tick's bytes where this read fails. Only ranges read
    /// whole become windows; the others are copied out with their unread
    /// bytes zeroed, so stale bytes are never reported.
    pub(crate) fn reset(&mut self, bytes: usize, ranges: usize) -> &mut [u8] {
        self.clear_entries();
        self.addrs.reserve(ranges);
        self.offsets.reserve(ranges);
        self.lens.reserve(ranges);
        self.gap_ends.reserve(ranges);
        self.data.resize(bytes, 0);
        &mut self.data
    }

    pub(crate) fn buffer(&self) -> &[u8] {
        &self.data
    }

    /// Appends a range read whole whose bytes are already in the buffer at `offset`.
    #[inline]
    pub(crate) fn push_window(&mut self, addr: u64, offset: usize, len: usize) {
        let at = self.gaps_len();
        self.push_entry(addr, offset, len, at);
    }

    /// Makes the entries `ranges`, each read whole: a window at its offset
    /// in the buffer. The common tick, with no gap anywhere; each column is
    /// filled in one pass.
    pub(crate) fn set_windows(
        &mut self,
        ranges: &[(u64, usize)],
        offsets: impl Iterator<Item = usize>,
    ) {
        self.clear_entries();
        self.addrs.extend(ranges.iter().map(|&(addr, _)| addr));
        self.lens
            .extend(ranges.iter().map(|&(addr, len)| clamp_len(addr, len)));
        self.offsets.extend(offsets);
        self.gap_ends.resize(ranges.len(), 0);
    }

    /// Appends a range: its bytes, and its gaps (sorted, disjoint).
    pub fn push(&mut self, addr: u64, data: &[u8], gaps: impl IntoIterator<Item = Gap>) {
        let offset = self.data.len();
        self.data.extend_from_slice(data);
        self.gaps.extend(gaps);
        let end = self.gaps_len();
        self.push_entry(addr, offset, data.len(), end);
    }

    #[inline]
    fn push_entry(&mut self, addr: u64, offset: usize, len: usize, gaps_end: u32) {
        self.addrs.push(addr);
        self.offsets.push(offset);
        self.lens.push(len);
        self.gap_ends.push(gaps_end);
    }

    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// Gaps are few (each is a run of unread bytes); a batch of four billion
    /// of them would not fit in memory first.
    fn gaps_len(&self) -> u32 {
        u32::try_from(self.gaps.len()).unwrap_or(u32::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// The `i`th range asked for.
    pub fn get(&self, i: usize) -> Option<RangeRead<'_>> {
        let addr = *self.addrs.get(i)?;
        let (offset, len) = (self.offsets[i], self.lens[i]);
        let gaps_from = match i {
            0 => 0,
            _ => self.gap_ends[i - 1] as usize,
        };
        Some(RangeRead {
            addr,
            data: &self.data[offset..offset + len],
            gaps: &self.gaps[gaps_from..self.gap_ends[i] as usize],
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = RangeRead<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub fn to_outcomes(&self) -> Vec<ReadOutcome> {
        self.iter().map(|r| r.to_outcome()).collect()
    }
}

/// Reads and writes of one address space: the live target, the deadline
/// worker over it, or an in-memory fake in unit tests.
///
/// Every read reports, per range, exactly which bytes were not read and why;
/// an `Err` means the address space as a whole is gone (the target exited).
pub trait Memory {
    /// Reads many ranges into `batch` (cleared first; its allocations are
    /// reused), one entry per range, in order.
    fn read_batch(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
        batch: &mut ReadBatch,
    ) -> Result<()>;

    /// Fills `buf` (its whole length) with the bytes at `addr`; returns the
    /// runs not read (zero in `buf`), sorted.
    fn read_into(
        &mut self,
        maps: &Maps,
        addr: u64,
        buf: &mut PageBuffer,
        mode: ReadMode,
    ) -> Result<Vec<Gap>>;

    /// Writes `bytes` at `addr`, then reads them back.
    fn write(&mut self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport>;

    /// Reads many ranges, each into an outcome of its own.
    fn read(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
    ) -> Result<Vec<ReadOutcome>> {
        let mut batch = ReadBatch::default();
        self.read_batch(maps, ranges, mode, &mut batch)?;
        Ok(batch.to_outcomes())
    }
}

/// A byte buffer that starts on a page boundary.
///
/// `process_vm_readv` copies a page-aligned remote range much faster into a
/// local buffer with the same alignment (measured here: 7.6 GB/s aligned
/// against 4.3 GB/s with the local buffer 16 bytes off), and a `Vec` of this
/// size starts 16 bytes past a page. Safe code gets the alignment by slack.
#[derive(Clone, Debug, Default)]
pub struct PageBuffer {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl PageBuffer {
    pub fn new(len: usize) -> PageBuffer {
        let page = crate::sys::page_size() as usize;
        let raw = vec![0u8; len + page];
        let start = (page - raw.as_ptr() as usize % page) % page;
        PageBuffer { raw, start, len }
    }

    /// Sets the length, keeping the start aligned; new bytes are zero.
    pub fn resize(&mut self, len: usize) {
        if self.start + len > self.raw.len() {
            let mut grown = PageBuffer::new(len);
            let keep = self.len.min(len);
            grown[..keep].copy_from_slice(&self[..keep]);
            *self = grown;
            return;
        }
        if len > self.len {
            let (from, to) = (self.start + self.len, self.start + len);
            self.raw[from..to].fill(0);
        }
        self.len = len;
    }
}

impl From<&[u8]> for PageBuffer {
    fn from(bytes: &[u8]) -> PageBuffer {
        let mut buf = PageBuffer::new(bytes.len());
        buf.copy_from_slice(bytes);
        buf
    }
}

impl std::ops::Deref for PageBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

impl std::ops::DerefMut for PageBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

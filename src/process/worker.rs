//! Runs target accesses on a worker thread under a deadline.
//!
//! Even with residency checks a read can block: a page can go missing between
//! the check and the read, or the kernel may wait on a userfaultfd handler
//! that never answers. Such a read sleeps uninterruptibly and a thread cannot
//! be cancelled, so each access runs on a worker thread; a caller waits for it
//! only until the deadline. A worker that misses it is abandoned (it ends by
//! itself once the kernel lets it go) and the ranges it held are found by
//! bisection and quarantined, so later calls skip them instead of stalling
//! again.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::process::maps::Maps;
use crate::process::memory::{Gap, Memory, PageBuffer, ReadBatch, ReadMode, Unread, WriteReport};
use crate::process::target::Target;
use crate::sys;

/// Abandoned workers still stuck in the kernel; past this many, accesses that
/// would need a new worker are reported stalled instead of started.
const MAX_STUCK_WORKERS: usize = 32;

/// How long a stalled page stays quarantined before it is tried again.
const QUARANTINE: Duration = Duration::from_secs(5);

/// An access handed to the worker thread; buffers travel with it and back.
enum WorkerJob {
    Read(Maps, Vec<(u64, usize)>, ReadMode, ReadBatch),
    ReadInto(Maps, u64, PageBuffer, ReadMode),
    Write(Maps, u64, Vec<u8>),
}

enum Done {
    Read(Result<()>, ReadBatch),
    ReadInto(Result<Vec<Gap>>, PageBuffer),
    Write(Result<WriteReport>),
}

struct Thread {
    jobs: Sender<WorkerJob>,
    done: Receiver<Done>,
}

impl Thread {
    fn spawn<M: Memory + Send + 'static>(mut memory: M) -> Result<Thread> {
        let (jobs, job_rx) = channel::<WorkerJob>();
        let (done_tx, done) = channel();
        std::thread::Builder::new()
            .name("pvtui-memory".into())
            .spawn(move || {
                for job in job_rx {
                    let done = match job {
                        WorkerJob::Read(maps, ranges, mode, mut batch) => {
                            let result = memory.read_batch(&maps, &ranges, mode, &mut batch);
                            Done::Read(result, batch)
                        }
                        WorkerJob::ReadInto(maps, addr, mut buf, mode) => {
                            let result = memory.read_into(&maps, addr, &mut buf, mode);
                            Done::ReadInto(result, buf)
                        }
                        WorkerJob::Write(maps, addr, bytes) => {
                            Done::Write(memory.write(&maps, addr, &bytes))
                        }
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start a memory worker thread: {e}")))?;
        Ok(Thread { jobs, done })
    }
}

/// Accesses to one address space that never hold the caller past a deadline.
///
/// `M` is what the worker threads read through: the shared target in real
/// use, a fake whose pages can stall or fault in unit tests. Each new thread
/// gets a clone of it.
pub struct MemoryWorker<M = Arc<Target>> {
    memory: M,
    deadline: Duration,
    thread: Option<Thread>,
    stuck: usize,
    /// Pages whose reads stalled, and when.
    quarantine: Vec<(u64, Instant)>,
    stalls: u64,
}

impl<M: Memory + Clone + Send + 'static> MemoryWorker<M> {
    pub fn new(memory: M, deadline: Duration) -> MemoryWorker<M> {
        MemoryWorker {
            memory,
            deadline,
            thread: None,
            stuck: 0,
            quarantine: Vec::new(),
            stalls: 0,
        }
    }

    /// What the worker reads through.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// How many accesses have missed their deadline so far.
    pub fn stalls(&self) -> u64 {
        self.stalls
    }

    /// Runs `job` on the worker; `None` when it missed the deadline.
    fn run(&mut self, job: WorkerJob) -> Result<Option<Done>> {
        if self.thread.is_none() {
            if self.stuck >= MAX_STUCK_WORKERS {
                return Ok(None);
            }
            self.thread = Some(Thread::spawn(self.memory.clone())?);
        }
        let Some(thread) = self.thread.as_ref() else {
            return Ok(None);
        };
        if thread.jobs.send(job).is_err() {
            self.thread = None;
            return Ok(None);
        }
        match thread.done.recv_timeout(self.deadline) {
            Ok(done) => Ok(Some(done)),
            Err(RecvTimeoutError::Timeout) => {
                self.thread = None;
                self.stuck += 1;
                self.stalls += 1;
                Ok(None)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.thread = None;
                Ok(None)
            }
        }
    }

    fn quarantined(&mut self, addr: u64, len: usize) -> bool {
        self.quarantine.retain(|(_, at)| at.elapsed() < QUARANTINE);
        let page = sys::page_size();
        let (first, last) = (addr / page, (addr + len.max(1) as u64 - 1) / page);
        self.quarantine
            .iter()
            .any(|&(p, _)| first <= p && p <= last)
    }

    fn quarantine_range(&mut self, addr: u64, len: usize) {
        let page = sys::page_size();
        let now = Instant::now();
        for p in addr / page..=(addr + len.max(1) as u64 - 1) / page {
            self.quarantine.push((p, now));
        }
    }

    /// Reads `ranges` on the worker into a batch of its own.
    fn read_group(
        &mut self,
        maps: &Maps,
        ranges: Vec<(u64, usize)>,
        mode: ReadMode,
        batch: ReadBatch,
    ) -> Result<Option<(Result<()>, ReadBatch)>> {
        match self.run(WorkerJob::Read(maps.clone(), ranges, mode, batch))? {
            Some(Done::Read(result, batch)) => Ok(Some((result, batch))),
            Some(_) => Err(mismatch()),
            None => Ok(None),
        }
    }

    fn quarantine_all(&mut self, ranges: &[(u64, usize)], which: &[usize]) {
        if self.stuck >= MAX_STUCK_WORKERS {
            return;
        }
        for &i in which {
            let (addr, len) = ranges[i];
            self.quarantine_range(addr, len);
        }
    }
}

impl<M: Memory + Clone + Send + 'static> Memory for MemoryWorker<M> {
    /// Reads under the deadline: ranges whose read stalled come back with an
    /// [`Unread::Stalled`] gap, and their pages are skipped for a while.
    fn read_batch(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
        batch: &mut ReadBatch,
    ) -> Result<()> {
        let mut pending: Vec<usize> = Vec::with_capacity(ranges.len());
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            if !self.quarantined(addr, len) {
                pending.push(i);
            }
        }
        if pending.len() == ranges.len() {
            // The common case: one job, the caller's batch sent and filled.
            let sent = std::mem::take(batch);
            if let Some((result, filled)) = self.read_group(maps, ranges.to_vec(), mode, sent)? {
                *batch = filled;
                return result;
            }
        }
        // Some ranges stalled or are quarantined: bisect until the stalling
        // ranges stand alone, then put the answers back in order.
        let mut answers: Vec<Option<(usize, usize)>> = vec![None; ranges.len()];
        let mut batches: Vec<ReadBatch> = Vec::new();
        let mut groups = if pending.len() == ranges.len() && pending.len() > 1 {
            let (a, b) = pending.split_at(pending.len() / 2);
            vec![a.to_vec(), b.to_vec()]
        } else if pending.len() == ranges.len() {
            self.quarantine_all(ranges, &pending);
            Vec::new()
        } else {
            vec![pending]
        };
        while let Some(group) = groups.pop() {
            if group.is_empty() {
                continue;
            }
            let part: Vec<(u64, usize)> = group.iter().map(|&i| ranges[i]).collect();
            match self.read_group(maps, part, mode, ReadBatch::default())? {
                Some((result, read)) => {
                    result?;
                    let b = batches.len();
                    batches.push(read);
                    for (k, i) in group.into_iter().enumerate() {
                        answers[i] = Some((b, k));
                    }
                }
                None if group.len() == 1 || self.stuck >= MAX_STUCK_WORKERS => {
                    self.quarantine_all(ranges, &group);
                }
                None => {
                    let (a, b) = group.split_at(group.len() / 2);
                    groups.push(a.to_vec());
                    groups.push(b.to_vec());
                }
            }
        }
        batch.clear();
        let mut zeros = Vec::new();
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            match answers[i].and_then(|(b, k)| batches[b].get(k)) {
                Some(r) => batch.push(r.addr, r.data, r.gaps.iter().copied()),
                None => {
                    zeros.clear();
                    zeros.resize(len, 0);
                    batch.push(addr, &zeros, (len > 0).then(|| stalled_gap(addr, len)));
                }
            }
        }
        Ok(())
    }

    /// Reads under the deadline; a read that stalled leaves `buf` zeroed
    /// with a [`Unread::Stalled`] gap (its buffer stays with the stuck thread).
    fn read_into(
        &mut self,
        maps: &Maps,
        addr: u64,
        buf: &mut PageBuffer,
        mode: ReadMode,
    ) -> Result<Vec<Gap>> {
        let len = buf.len();
        if self.quarantined(addr, len) {
            buf.fill(0);
            return Ok(vec![stalled_gap(addr, len)]);
        }
        let sent = std::mem::take(buf);
        match self.run(WorkerJob::ReadInto(maps.clone(), addr, sent, mode))? {
            Some(Done::ReadInto(result, back)) => {
                *buf = back;
                result
            }
            Some(_) => Err(mismatch()),
            None => {
                *buf = PageBuffer::new(len);
                Ok(vec![stalled_gap(addr, len)])
            }
        }
    }

    /// Writes under the deadline; a write that stalled is an error.
    fn write(&mut self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        match self.run(WorkerJob::Write(maps.clone(), addr, bytes.to_vec()))? {
            Some(Done::Write(result)) => result,
            Some(_) => Err(mismatch()),
            None => Err(Error::Stalled {
                what: format!("write of {} bytes at {addr:#x}", bytes.len()),
                millis: self.deadline.as_millis(),
            }),
        }
    }
}

/// The worker answers each job with the matching kind; anything else is a
/// bug in this module, reported without taking the caller down.
fn mismatch() -> Error {
    Error::Internal("the memory worker answered a job with another kind of result".into())
}

fn stalled_gap(addr: u64, len: usize) -> Gap {
    Gap {
        addr,
        len: len as u64,
        why: Unread::Stalled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::fake::FakeMemory;

    const PAGE: u64 = 0x1000;
    const BASE: u64 = 0x10_0000;

    /// Four mapped pages, each byte its page number.
    fn memory() -> FakeMemory {
        let fake = FakeMemory::new();
        for p in 0..4u8 {
            fake.map(BASE + u64::from(p) * PAGE, vec![p + 1; PAGE as usize]);
        }
        fake
    }

    fn maps() -> Maps {
        Maps::parse("100000-104000 rw-p 00000000 00:00 0\n", "test").expect("maps")
    }

    fn worker(fake: &FakeMemory) -> MemoryWorker<FakeMemory> {
        // Every stall here waits it out once; long enough that a read that
        // does not stall never misses it on a loaded machine.
        MemoryWorker::new(fake.clone(), Duration::from_millis(200))
    }

    fn one_per_page() -> Vec<(u64, usize)> {
        (0..4).map(|p| (BASE + p * PAGE + 8, 8)).collect()
    }

    #[test]
    fn a_stalling_range_is_bisected_out_and_the_others_are_read() {
        let fake = memory();
        fake.stall_page(BASE + 2 * PAGE);
        let mut worker = worker(&fake);
        let out = worker
            .read(&maps(), &one_per_page(), ReadMode::Force)
            .expect("read");
        assert_eq!(out[0].bytes(), Some(&[1u8; 8][..]));
        assert_eq!(out[1].bytes(), Some(&[2u8; 8][..]));
        assert_eq!(out[2].first_unread(), Some(Unread::Stalled));
        assert_eq!(out[2].data, vec![0; 8], "no bytes shown for a stalled read");
        assert_eq!(out[3].bytes(), Some(&[4u8; 8][..]));
        assert!(worker.stalls() >= 2, "the whole batch, then its half");
        fake.release();
    }

    #[test]
    fn a_quarantined_page_is_not_read_again_and_does_not_stall() {
        let fake = memory();
        fake.stall_page(BASE + PAGE);
        let mut worker = worker(&fake);
        let ranges = [(BASE + PAGE, 8)];
        let first = worker
            .read(&maps(), &ranges, ReadMode::Force)
            .expect("read");
        assert_eq!(first[0].first_unread(), Some(Unread::Stalled));
        let (stalls, calls) = (worker.stalls(), fake.calls());
        let again = worker
            .read(&maps(), &one_per_page(), ReadMode::Force)
            .expect("read");
        assert_eq!(again[1].first_unread(), Some(Unread::Stalled));
        assert_eq!(again[0].bytes(), Some(&[1u8; 8][..]));
        assert_eq!(again[3].bytes(), Some(&[4u8; 8][..]));
        assert_eq!(worker.stalls(), stalls, "the quarantined page was skipped");
        assert_eq!(
            fake.calls(),
            calls + 3,
            "only the three other ranges were read"
        );
        fake.release();
    }

    #[test]
    fn a_faulting_page_is_a_gap_not_a_stall() {
        let fake = memory();
        fake.fault_page(BASE + 3 * PAGE);
        let mut worker = worker(&fake);
        for _ in 0..2 {
            let out = worker
                .read(&maps(), &one_per_page(), ReadMode::NoWait)
                .expect("read");
            assert_eq!(out[3].first_unread(), Some(Unread::Faulted));
            assert!(out[..3].iter().all(|o| o.is_complete()));
        }
        assert_eq!(worker.stalls(), 0);
        assert_eq!(
            fake.calls(),
            8,
            "nothing was quarantined: both reads asked for all"
        );
    }

    #[test]
    fn a_batch_is_reused_and_refilled() {
        let fake = memory();
        let mut worker = worker(&fake);
        let mut batch = ReadBatch::default();
        worker
            .read_batch(&maps(), &one_per_page(), ReadMode::NoWait, &mut batch)
            .expect("read");
        assert_eq!(batch.len(), 4);
        worker
            .read_batch(&maps(), &[(BASE, 2)], ReadMode::NoWait, &mut batch)
            .expect("read");
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.get(0).and_then(|r| r.bytes()), Some(&[1u8, 1][..]));
    }

    #[test]
    fn a_stalled_read_into_gives_back_a_zeroed_buffer_of_the_same_length() {
        let fake = memory();
        fake.stall_page(BASE);
        let mut worker = worker(&fake);
        let mut buf = PageBuffer::from(&[9u8; 16][..]);
        let gaps = worker
            .read_into(&maps(), BASE, &mut buf, ReadMode::Force)
            .expect("read");
        assert_eq!(gaps, vec![stalled_gap(BASE, 16)]);
        assert_eq!(&buf[..], &[0u8; 16][..]);
        fake.release();
    }

    #[test]
    fn a_stalled_write_is_an_error_and_a_landed_one_reads_back() {
        let fake = memory();
        fake.stall_page(BASE + PAGE);
        let mut worker = worker(&fake);
        let err = worker
            .write(&maps(), BASE + PAGE, &[7; 4])
            .expect_err("stalls");
        assert!(matches!(err, Error::Stalled { .. }), "{err}");
        let report = worker.write(&maps(), BASE, &[7; 4]).expect("write");
        assert!(report.landed());
        assert_eq!(report.before, vec![1; 4]);
        fake.release();
    }

    #[test]
    fn an_exit_fails_the_whole_read() {
        let fake = memory();
        fake.exit();
        let mut worker = worker(&fake);
        let err = worker
            .read(&maps(), &one_per_page(), ReadMode::NoWait)
            .expect_err("exited");
        assert!(err.is_exit());
    }
}

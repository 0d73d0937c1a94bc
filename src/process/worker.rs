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

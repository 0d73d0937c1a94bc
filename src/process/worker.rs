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
use crate::process::memory::{
    Gap, PageBuffer, ReadBatch, ReadMode, ReadOutcome, Unread, WriteReport,
};
use crate::process::target::Target;
use crate::sys;

/// Abandoned workers still stuck in the kernel; past this many, accesses that
/// would need a new worker are reported stalled instead of started.
const MAX_STUCK_WORKERS: usize = 32;

/// How long a stalled page stays quarantined before it is tried again.
const QUARANTINE: Duration = Duration::from_secs(5);

enum Job {
    Read(Maps, Vec<(u64, usize)>, ReadMode),
    ReadInto(Maps, u64, PageBuffer, ReadMode),
    Write(Maps, u64, Vec<u8>),
}

enum Done {
    Read(Result<ReadBatch>),
    ReadInto(Result<(PageBuffer, Vec<Gap>)>),
    Write(Result<WriteReport>),
}

struct Thread {
    jobs: Sender<Job>,
    done: Receiver<Done>,
}

impl Thread {
    fn spawn(target: Arc<Target>) -> Result<Thread> {
        let (jobs, job_rx) = channel::<Job>();
        let (done_tx, done) = channel();
        std::thread::Builder::new()
            .name("pvtui-memory".into())
            .spawn(move || {
                for job in job_rx {
                    let done = match job {
                        Job::Read(maps, ranges, mode) => {
                            Done::Read(target.read_batch(&maps, &ranges, mode))
                        }
                        Job::ReadInto(maps, addr, mut buf, mode) => Done::ReadInto(
                            target
                                .read_into(&maps, addr, &mut buf, mode)
                                .map(|gaps| (buf, gaps)),
                        ),
                        Job::Write(maps, addr, bytes) => {
                            Done::Write(target.write(&maps, addr, &bytes))
                        }
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::Kernel {
                call: "spawn worker thread",
                source: e,
            })?;
        Ok(Thread { jobs, done })
    }
}

/// Accesses to one target that never hold the caller past a deadline.
pub struct MemoryWorker {
    target: Arc<Target>,
    deadline: Duration,
    thread: Option<Thread>,
    stuck: usize,
    /// Pages whose reads stalled, and when.
    quarantine: Vec<(u64, Instant)>,
    stalls: u64,
}

impl MemoryWorker {
    pub fn new(target: Arc<Target>, deadline: Duration) -> MemoryWorker {
        MemoryWorker {
            target,
            deadline,
            thread: None,
            stuck: 0,
            quarantine: Vec::new(),
            stalls: 0,
        }
    }

    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// How many accesses have missed their deadline so far.
    pub fn stalls(&self) -> u64 {
        self.stalls
    }

    /// Runs `job` on the worker; `None` when it missed the deadline.
    fn run(&mut self, job: Job) -> Result<Option<Done>> {
        if self.thread.is_none() {
            if self.stuck >= MAX_STUCK_WORKERS {
                return Ok(None);
            }
            self.thread = Some(Thread::spawn(Arc::clone(&self.target))?);
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

    /// Like [`Target::read`], under the deadline: ranges whose read stalled
    /// come back with a [`Unread::Stalled`] gap.
    pub fn read(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
    ) -> Result<Vec<ReadOutcome>> {
        Ok(self.read_batch(maps, ranges, mode)?.to_outcomes())
    }

    /// Like [`Target::read_batch`], under the deadline.
    pub fn read_batch(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
    ) -> Result<ReadBatch> {
        let mut pending: Vec<usize> = Vec::with_capacity(ranges.len());
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            if !self.quarantined(addr, len) {
                pending.push(i);
            }
        }
        if pending.len() == ranges.len() {
            // The common case: one job, its batch returned as it is.
            match self.run(Job::Read(maps.clone(), ranges.to_vec(), mode))? {
                Some(Done::Read(result)) => return result,
                Some(_) => return Err(mismatch()),
                None => {}
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
            let batch: Vec<(u64, usize)> = group.iter().map(|&i| ranges[i]).collect();
            match self.run(Job::Read(maps.clone(), batch, mode))? {
                Some(Done::Read(result)) => {
                    let b = batches.len();
                    batches.push(result?);
                    for (k, i) in group.into_iter().enumerate() {
                        answers[i] = Some((b, k));
                    }
                }
                Some(_) => return Err(mismatch()),
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
        let mut out = ReadBatch::with_capacity(ranges.len(), 0);
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            match answers[i].and_then(|(b, k)| batches[b].get(k)) {
                Some(r) => out.push(r.addr, r.data, r.gaps.iter().copied()),
                None => out.push(
                    addr,
                    &vec![0; len],
                    (len > 0).then(|| stalled_gap(addr, len)),
                ),
            }
        }
        Ok(out)
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

    /// Like [`Target::read_into`], under the deadline; the buffer comes back
    /// (a fresh one of the same length if the read stalled and kept it).
    pub fn read_into(
        &mut self,
        maps: &Maps,
        addr: u64,
        buf: PageBuffer,
        mode: ReadMode,
    ) -> Result<(PageBuffer, Vec<Gap>)> {
        let len = buf.len();
        if self.quarantined(addr, len) {
            return Ok((PageBuffer::new(len), vec![stalled_gap(addr, len)]));
        }
        match self.run(Job::ReadInto(maps.clone(), addr, buf, mode))? {
            Some(Done::ReadInto(result)) => result,
            Some(_) => Err(mismatch()),
            // The buffer stays with the stuck thread.
            None => Ok((PageBuffer::new(len), vec![stalled_gap(addr, len)])),
        }
    }

    /// Like [`Target::write`], under the deadline.
    pub fn write(&mut self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        match self.run(Job::Write(maps.clone(), addr, bytes.to_vec()))? {
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
    Error::Kernel {
        call: "memory worker",
        source: std::io::Error::other("answered a job with another kind of result"),
    }
}

fn stalled_gap(addr: u64, len: usize) -> Gap {
    Gap {
        addr,
        len: len as u64,
        why: Unread::Stalled,
    }
}

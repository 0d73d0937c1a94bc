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
//!
//! A page stays quarantined while the worker stuck on it is still stuck (and
//! at least [`QUARANTINE`]): trying it again then would only strand another
//! thread on the same wait. Abandoned workers are counted while they are
//! stuck and no longer once the kernel lets them go, so a busy machine that
//! made a few reads miss their deadline does not, in the end, refuse every
//! read. Writes never run on an abandoned thread: see [`Memory::write_within`].
//!
//! The deadline counts time the worker is blocked, not time it waits for a
//! CPU: at the deadline a worker that is still runnable (on a loaded machine,
//! or copying a large batch) is given more time, up to [`RUNNABLE_GRACE`]
//! deadlines, before it is abandoned. A read sleeping on a page fault is not
//! runnable, so it is abandoned at the first deadline as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
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

/// How many deadlines in all a worker that is still runnable may take.
const RUNNABLE_GRACE: u32 = 20;

/// An access handed to the worker thread; buffers travel with it and back.
enum WorkerJob {
    Read(Maps, Vec<(u64, usize)>, ReadMode, ReadBatch),
    ReadInto(Maps, u64, PageBuffer, ReadMode),
}

enum Done {
    Read(Result<()>, ReadBatch),
    ReadInto(Result<Vec<Gap>>, PageBuffer),
}

struct Thread {
    jobs: Sender<WorkerJob>,
    done: Receiver<Done>,
    /// Set when this thread is abandoned at a deadline.
    abandoned: Arc<AtomicBool>,
    /// Set when the thread has ended: the kernel let it go.
    ended: Arc<AtomicBool>,
    /// The thread's kernel id once it runs (0 before), to see whether it is
    /// blocked or only waiting for a CPU.
    tid: Arc<AtomicI32>,
}

impl Thread {
    /// A worker thread; while abandoned and not yet ended it counts in `stuck`.
    fn spawn<M: Memory + Send + 'static>(mut memory: M, stuck: Arc<AtomicUsize>) -> Result<Thread> {
        let (jobs, job_rx) = channel::<WorkerJob>();
        let (done_tx, done) = channel();
        let abandoned = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let (was_abandoned, has_ended) = (Arc::clone(&abandoned), Arc::clone(&ended));
        let tid = Arc::new(AtomicI32::new(0));
        let my_tid = Arc::clone(&tid);
        std::thread::Builder::new()
            .name("pvtui-memory".into())
            .spawn(move || {
                my_tid.store(nix::unistd::gettid().as_raw(), Ordering::SeqCst);
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
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
                has_ended.store(true, Ordering::SeqCst);
                // The owner marks a thread abandoned before it drops the
                // channels this loop waits on, so the flag is seen here.
                if was_abandoned.load(Ordering::SeqCst) {
                    stuck.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start a memory worker thread: {e}")))?;
        Ok(Thread {
            jobs,
            done,
            abandoned,
            ended,
            tid,
        })
    }

    /// Whether the thread is running or waiting for a CPU, rather than
    /// asleep in the kernel (`R` in its stat); a thread not yet started
    /// counts as runnable.
    fn runnable(&self) -> bool {
        let tid = self.tid.load(Ordering::SeqCst);
        if tid == 0 {
            return true;
        }
        std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
            .ok()
            .and_then(|stat| stat_state(&stat))
            .is_some_and(|state| state == 'R')
    }

    /// Leaves the thread to finish alone; it counts as stuck until it does.
    fn abandon(self, stuck: &AtomicUsize) -> Arc<AtomicBool> {
        self.abandoned.store(true, Ordering::SeqCst);
        stuck.fetch_add(1, Ordering::SeqCst);
        if self.ended.load(Ordering::SeqCst) {
            // It ended between the deadline and the flag: not stuck after all.
            stuck.fetch_sub(1, Ordering::SeqCst);
        }
        self.ended
    }
}

/// A quarantined page: when its read stalled, and whether the thread stuck
/// on it has been let go.
struct Quarantined {
    page: u64,
    at: Instant,
    let_go: Arc<AtomicBool>,
}

impl Quarantined {
    fn expired(&self) -> bool {
        self.at.elapsed() >= QUARANTINE && self.let_go.load(Ordering::SeqCst)
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
    /// Abandoned threads not yet let go by the kernel.
    stuck: Arc<AtomicUsize>,
    /// Whether the thread abandoned last has ended.
    last_abandoned: Arc<AtomicBool>,
    /// Pages whose reads stalled.
    quarantine: Vec<Quarantined>,
    stalls: u64,
}

impl<M: Memory + Clone + Send + 'static> MemoryWorker<M> {
    pub fn new(memory: M, deadline: Duration) -> MemoryWorker<M> {
        MemoryWorker {
            memory,
            deadline,
            thread: None,
            stuck: Arc::new(AtomicUsize::new(0)),
            last_abandoned: Arc::new(AtomicBool::new(true)),
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

    /// Abandoned threads still stuck in the kernel.
    pub fn stuck(&self) -> usize {
        self.stuck.load(Ordering::SeqCst)
    }

    fn too_many_stuck(&self) -> bool {
        self.stuck() >= MAX_STUCK_WORKERS
    }

    /// Runs `job` on the worker; `None` when it missed the deadline.
    fn run(&mut self, job: WorkerJob) -> Result<Option<Done>> {
        if self.thread.is_none() {
            if self.too_many_stuck() {
                return Ok(None);
            }
            self.thread = Some(Thread::spawn(self.memory.clone(), Arc::clone(&self.stuck))?);
        }
        let Some(thread) = self.thread.as_ref() else {
            return Ok(None);
        };
        if thread.jobs.send(job).is_err() {
            self.thread = None;
            return Ok(None);
        }
        let mut waited = 1;
        let result = loop {
            match thread.done.recv_timeout(self.deadline) {
                Err(RecvTimeoutError::Timeout) if waited < RUNNABLE_GRACE && thread.runnable() => {
                    waited += 1;
                }
                // It may have answered between the timeout and the look at
                // its state (and be asleep waiting for the next job).
                Err(RecvTimeoutError::Timeout) => {
                    break thread
                        .done
                        .try_recv()
                        .map_err(|_| RecvTimeoutError::Timeout);
                }
                other => break other,
            }
        };
        match result {
            Ok(done) => Ok(Some(done)),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(thread) = self.thread.take() {
                    self.last_abandoned = thread.abandon(&self.stuck);
                }
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
        self.quarantine.retain(|q| !q.expired());
        let (first, last) = pages(addr, len);
        self.quarantine
            .iter()
            .any(|q| first <= q.page && q.page <= last)
    }

    /// Whether a reader is still stuck on a page of the range: a read that
    /// only missed its deadline on a busy machine does not hold writes back.
    fn stuck_on(&mut self, addr: u64, len: usize) -> bool {
        let (first, last) = pages(addr, len);
        self.quarantined(addr, len)
            && self
                .quarantine
                .iter()
                .any(|q| first <= q.page && q.page <= last && !q.let_go.load(Ordering::SeqCst))
    }

    fn quarantine_range(&mut self, addr: u64, len: usize) {
        let now = Instant::now();
        let (first, last) = pages(addr, len);
        for page in first..=last {
            self.quarantine.push(Quarantined {
                page,
                at: now,
                let_go: Arc::clone(&self.last_abandoned),
            });
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
        let mut groups = if pending.len() < ranges.len() {
            vec![pending]
        } else {
            match split_by_page(ranges, &pending) {
                Some(halves) => halves,
                None => {
                    // The whole batch stalled on one page: no need to look further.
                    self.quarantine_all(ranges, &pending);
                    Vec::new()
                }
            }
        };
        while let Some(mut group) = groups.pop() {
            // A page quarantined since this group was formed is not tried again.
            group.retain(|&i| !self.quarantined(ranges[i].0, ranges[i].1));
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
                None => match split_by_page(ranges, &group) {
                    Some(halves) if !self.too_many_stuck() => groups.extend(halves),
                    _ => self.quarantine_all(ranges, &group),
                },
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

    /// Writes under the deadline, in the caller's thread: a write is never
    /// left on an abandoned thread, where it would land whenever the
    /// kernel let it go, after the caller was told it did not. A page a
    /// reader is still stuck on is refused at once.
    fn write(&mut self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        if self.stuck_on(addr, bytes.len()) {
            return Err(Error::Stalled {
                what: format!(
                    "write of {} bytes at {addr:#x} (a read there just stalled)",
                    bytes.len()
                ),
                millis: self.deadline.as_millis(),
            });
        }
        let deadline = self.deadline;
        self.memory.write_within(maps, addr, bytes, deadline)
    }
}

/// The worker answers each job with the matching kind; anything else is a
/// bug in this module, reported without taking the caller down.
/// The state letter of a `/proc/.../stat` line: the field after the
/// command name, which is in parentheses and may itself hold `)`.
fn stat_state(stat: &str) -> Option<char> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.trim_start().chars().next()
}

fn mismatch() -> Error {
    Error::Internal("the memory worker answered a job with another kind of result".into())
}

/// The first and last page numbers of a range (an empty one counts its first byte).
fn pages(addr: u64, len: usize) -> (u64, u64) {
    let page = sys::page_size();
    let last = addr.saturating_add(len.max(1) as u64 - 1);
    (addr / page, last / page)
}

/// Splits a stalled group in two by the page each range starts on, so
/// ranges on one page stay together: the search for the stalling page
/// halves the pages, and sixteen values on one stalled page cost one
/// deadline, not one each. `None` when the group starts on one page only,
/// or is one range: then it is the culprit.
fn split_by_page(ranges: &[(u64, usize)], group: &[usize]) -> Option<Vec<Vec<usize>>> {
    let first_page = |i: usize| pages(ranges[i].0, ranges[i].1).0;
    let mut distinct: Vec<u64> = group.iter().map(|&i| first_page(i)).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return None;
    }
    let middle = distinct[distinct.len() / 2];
    let (a, b): (Vec<usize>, Vec<usize>) = group.iter().partition(|&&i| first_page(i) < middle);
    Some(vec![a, b])
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
    fn a_read_still_running_at_the_deadline_is_waited_for_not_called_stalled() {
        let fake = memory();
        // Busy on a CPU for several deadlines: slow, not blocked.
        fake.busy_page(BASE, Duration::from_millis(150));
        let mut worker = MemoryWorker::new(fake.clone(), Duration::from_millis(30));
        let out = worker
            .read(&maps(), &[(BASE, 8)], ReadMode::Force)
            .expect("read");
        assert!(out[0].is_complete(), "{:?}", out[0].first_unread());
        assert_eq!(worker.stalls(), 0);
    }

    #[test]
    fn stat_state_is_read_after_the_command_name() {
        assert_eq!(stat_state("12 (a) b) R 1 2"), Some('R'));
        assert_eq!(stat_state("12 (pvtui-memory) D 1"), Some('D'));
        assert_eq!(stat_state("garbage"), None);
    }

    #[test]
    fn sixteen_values_on_one_stalled_page_cost_one_deadline() {
        let fake = memory();
        fake.stall_page(BASE + PAGE);
        let mut worker = worker(&fake);
        let ranges: Vec<(u64, usize)> = (0..16).map(|i| (BASE + PAGE + i * 8, 8)).collect();
        let out = worker
            .read(&maps(), &ranges, ReadMode::Force)
            .expect("read");
        assert!(
            out.iter()
                .all(|o| o.first_unread() == Some(Unread::Stalled))
        );
        assert_eq!(
            worker.stalls(),
            1,
            "one deadline for the page, not one per value"
        );
        let again = worker
            .read(&maps(), &ranges, ReadMode::Force)
            .expect("read");
        assert!(
            again
                .iter()
                .all(|o| o.first_unread() == Some(Unread::Stalled))
        );
        assert_eq!(
            worker.stalls(),
            1,
            "the quarantined page is not tried again"
        );
        assert_eq!(
            worker.stuck(),
            1,
            "one thread waits on the page, not one per value"
        );
        fake.release();
    }

    #[test]
    fn a_write_to_a_page_whose_read_stalled_is_refused_at_once() {
        let fake = memory();
        fake.stall_page(BASE + PAGE);
        let mut worker = worker(&fake);
        worker
            .read(&maps(), &[(BASE + PAGE, 8)], ReadMode::Force)
            .expect("read");
        let calls = fake.calls();
        let err = worker
            .write(&maps(), BASE + PAGE, &[7; 4])
            .expect_err("quarantined");
        assert!(matches!(err, Error::Stalled { .. }), "{err}");
        assert_eq!(fake.calls(), calls, "the write did not touch the page");
        assert_eq!(worker.stalls(), 1, "and cost no second deadline");
        fake.release();
    }

    #[test]
    fn reads_that_missed_their_deadline_and_finished_do_not_refuse_later_reads() {
        let fake = memory();
        // Every read here stalls for sure: a short deadline finds it soon.
        let mut worker = MemoryWorker::new(fake.clone(), Duration::from_millis(20));
        // More late readers than the worker lets stay stuck at once.
        for p in 0..(MAX_STUCK_WORKERS as u64 + 4) {
            let addr = BASE + 0x10_0000 + p * PAGE;
            fake.map(addr, vec![9; PAGE as usize]);
            fake.stall_page(addr);
            worker
                .read(&maps(), &[(addr, 8)], ReadMode::Force)
                .expect("read");
        }
        assert!(worker.stuck() >= MAX_STUCK_WORKERS);
        fake.release();
        let until = Instant::now() + Duration::from_secs(20);
        while worker.stuck() > 0 && Instant::now() < until {
            std::thread::yield_now();
        }
        assert_eq!(worker.stuck(), 0, "every late reader was let go");
        let out = worker
            .read(&maps(), &one_per_page(), ReadMode::Force)
            .expect("read");
        assert!(out.iter().all(|o| o.is_complete()), "{out:?}");
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

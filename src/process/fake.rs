//! An in-memory address space behind [`Memory`], for unit tests: mapped
//! spans of bytes, pages that fault, and pages whose reads stall (block
//! until released), as a page waiting on a userfaultfd handler would.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::process::maps::Maps;
use crate::process::memory::{Gap, Memory, PageBuffer, ReadBatch, ReadMode, Unread, WriteReport};
use crate::sys;

#[derive(Default)]
struct Space {
    spans: Vec<(u64, Vec<u8>)>,
    faulting: HashSet<u64>,
    stalling: HashSet<u64>,
    /// Pages whose reads keep the thread busy (runnable) this long.
    busy: Vec<(u64, std::time::Duration)>,
}

#[derive(Default)]
struct Shared {
    space: Mutex<Space>,
    released: Mutex<bool>,
    wake: Condvar,
    exited: AtomicBool,
    calls: AtomicU64,
}

/// Clones share one address space, so the deadline worker's threads see
/// what the test sets up. Dropping the last clone does not release stuck
/// readers: call [`FakeMemory::release`].
#[derive(Clone, Default)]
pub struct FakeMemory {
    shared: Arc<Shared>,
}

impl FakeMemory {
    pub fn new() -> FakeMemory {
        FakeMemory::default()
    }

    fn space(&self) -> MutexGuard<'_, Space> {
        self.shared
            .space
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Maps `bytes` at `addr`.
    pub fn map(&self, addr: u64, bytes: Vec<u8>) {
        self.space().spans.push((addr, bytes));
    }

    /// Stores `value` little-endian at `addr` (which must be mapped).
    pub fn put_u64(&self, addr: u64, value: u64) {
        let mut space = self.space();
        for (i, b) in value.to_le_bytes().into_iter().enumerate() {
            if let Some(slot) = byte_mut(&mut space.spans, addr + i as u64) {
                *slot = b;
            }
        }
    }

    /// Reads of the page holding `addr` fault.
    pub fn fault_page(&self, addr: u64) {
        self.space().faulting.insert(addr / sys::page_size());
    }

    /// Accesses of the page holding `addr` block until [`FakeMemory::release`].
    pub fn stall_page(&self, addr: u64) {
        self.space().stalling.insert(addr / sys::page_size());
    }

    /// Accesses of the page holding `addr` keep the reading thread busy on a
    /// CPU for `time`, as a large copy on a loaded machine does.
    pub fn busy_page(&self, addr: u64, time: std::time::Duration) {
        self.space().busy.push((addr / sys::page_size(), time));
    }

    /// Lets every stalled access go on (and later ones not stall).
    pub fn release(&self) {
        let mut released = self
            .shared
            .released
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *released = true;
        self.shared.wake.notify_all();
    }

    /// Every later access fails as if the process had exited.
    pub fn exit(&self) {
        self.shared.exited.store(true, Ordering::SeqCst);
    }

    /// How many accesses (reads or writes) reached this memory.
    pub fn calls(&self) -> u64 {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Blocks while `[addr, addr + len)` touches a stalling page; fails once exited.
    fn enter(&self, addr: u64, len: usize) -> Result<()> {
        self.shared.calls.fetch_add(1, Ordering::SeqCst);
        let page = sys::page_size();
        let last = (addr + len.max(1) as u64 - 1) / page;
        let (stalls, busy) = {
            let space = self.space();
            let pages = addr / page..=last;
            let busy = space.busy.iter().filter(|(p, _)| pages.contains(p));
            (
                pages.clone().any(|p| space.stalling.contains(&p)),
                busy.map(|(_, t)| *t).max(),
            )
        };
        if let Some(time) = busy {
            let start = std::time::Instant::now();
            while start.elapsed() < time {
                std::hint::spin_loop();
            }
        }
        if stalls {
            let mut released = self
                .shared
                .released
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            while !*released {
                released = self
                    .shared
                    .wake
                    .wait(released)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        if self.shared.exited.load(Ordering::SeqCst) {
            return Err(Error::TargetExited { pid: 0 });
        }
        Ok(())
    }

    /// Copies `[addr, addr + out.len())` into `out`; returns the gaps.
    fn copy(&self, addr: u64, out: &mut [u8]) -> Vec<Gap> {
        let space = self.space();
        let page = sys::page_size();
        let mut gaps: Vec<Gap> = Vec::new();
        for (i, slot) in out.iter_mut().enumerate() {
            let at = addr + i as u64;
            let why = if space.faulting.contains(&(at / page)) {
                Some(Unread::Faulted)
            } else {
                match byte(&space.spans, at) {
                    Some(b) => {
                        *slot = b;
                        None
                    }
                    None => Some(Unread::Unmapped),
                }
            };
            if let Some(why) = why {
                *slot = 0;
                match gaps.last_mut() {
                    Some(g) if g.end() == at && g.why == why => g.len += 1,
                    _ => gaps.push(Gap {
                        addr: at,
                        len: 1,
                        why,
                    }),
                }
            }
        }
        gaps
    }
}

fn byte(spans: &[(u64, Vec<u8>)], at: u64) -> Option<u8> {
    spans.iter().find_map(|(start, bytes)| {
        let i = usize::try_from(at.checked_sub(*start)?).ok()?;
        bytes.get(i).copied()
    })
}

fn byte_mut(spans: &mut [(u64, Vec<u8>)], at: u64) -> Option<&mut u8> {
    spans.iter_mut().find_map(|(start, bytes)| {
        let i = usize::try_from(at.checked_sub(*start)?).ok()?;
        bytes.get_mut(i)
    })
}

impl Memory for FakeMemory {
    fn read_batch(
        &mut self,
        _maps: &Maps,
        ranges: &[(u64, usize)],
        _mode: ReadMode,
        batch: &mut ReadBatch,
    ) -> Result<()> {
        batch.clear();
        for &(addr, len) in ranges {
            self.enter(addr, len)?;
        }
        let mut data = Vec::new();
        for &(addr, len) in ranges {
            data.clear();
            data.resize(len, 0);
            let gaps = self.copy(addr, &mut data);
            batch.push(addr, &data, gaps);
        }
        Ok(())
    }

    fn read_into(
        &mut self,
        _maps: &Maps,
        addr: u64,
        buf: &mut PageBuffer,
        _mode: ReadMode,
    ) -> Result<Vec<Gap>> {
        self.enter(addr, buf.len())?;
        Ok(self.copy(addr, buf))
    }

    /// A write to a stalling page is stopped at the deadline, as a killed
    /// helper process would be: nothing lands, then or later.
    fn write_within(
        &mut self,
        maps: &Maps,
        addr: u64,
        bytes: &[u8],
        deadline: std::time::Duration,
    ) -> Result<WriteReport> {
        let page = sys::page_size();
        let last = (addr + bytes.len().max(1) as u64 - 1) / page;
        let stalls = {
            let space = self.space();
            (addr / page..=last).any(|p| space.stalling.contains(&p))
        };
        let released = *self
            .shared
            .released
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if stalls && !released {
            self.shared.calls.fetch_add(1, Ordering::SeqCst);
            return Err(Error::Stalled {
                what: format!("write of {} bytes at {addr:#x}", bytes.len()),
                millis: deadline.as_millis(),
            });
        }
        self.write(maps, addr, bytes)
    }

    fn write(&mut self, _maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        self.enter(addr, bytes.len())?;
        let mut before = vec![0; bytes.len()];
        self.copy(addr, &mut before);
        let mut written = 0;
        {
            let mut space = self.space();
            for (i, &b) in bytes.iter().enumerate() {
                match byte_mut(&mut space.spans, addr + i as u64) {
                    Some(slot) => *slot = b,
                    None => break,
                }
                written += 1;
            }
        }
        let mut after = vec![0; bytes.len()];
        self.copy(addr, &mut after);
        Ok(WriteReport {
            addr,
            before,
            requested: bytes.to_vec(),
            written,
            after,
        })
    }
}

//! Who writes (or reads) an address: a hardware breakpoint on every thread of
//! the target through `perf_event_open`, sampled without stopping anyone.
//!
//! The kernel takes the debug trap, appends the thread's instruction pointer
//! to the event's ring buffer and returns to the thread at once. On x86 a
//! data breakpoint traps *after* the accessing instruction, so the sampled
//! address is the instruction following the write.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::error::{Error, Result};
use crate::sys::{self, Breakpoint, PerfBreakpoint, PerfRecord};

/// Ring buffer pages per thread: room for thousands of 24-byte samples
/// between two drains.
const RING_PAGES: usize = 8;

/// What to trap on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Writes,
    ReadsAndWrites,
}

/// The breakpoint for `len` bytes at `addr`: the hardware watches 1, 2, 4 or
/// 8 bytes aligned to their length.
pub fn breakpoint(addr: u64, len: usize, access: Access) -> Result<Breakpoint> {
    let len = len as u64;
    if ![1, 2, 4, 8].contains(&len) {
        return Err(Error::Usage(format!(
            "a hardware breakpoint covers 1, 2, 4 or 8 bytes, not {len}: give the expression a type such as :u32"
        )));
    }
    if addr % len != 0 {
        return Err(Error::Usage(format!(
            "{addr:#x} is not aligned to {len} bytes, which a hardware breakpoint needs: watch a smaller type (:u8) at it"
        )));
    }
    Ok(Breakpoint {
        addr,
        len,
        access: match access {
            Access::Writes => sys::HW_BREAKPOINT_W,
            Access::ReadsAndWrites => sys::HW_BREAKPOINT_RW,
        },
    })
}

/// The instructions seen touching the address, by sampled IP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hit {
    pub count: u64,
    pub tids: BTreeSet<u32>,
}

/// Breakpoints on every thread of one target and what they saw.
#[derive(Debug)]
pub struct Writers {
    pid: i32,
    bp: Breakpoint,
    events: HashMap<i32, PerfBreakpoint>,
    hits: BTreeMap<u64, Hit>,
    /// Instruction addresses seen for the first time since [`Writers::take_new`].
    fresh: Vec<u64>,
    lost: u64,
    /// Threads that could not get a breakpoint (and why), e.g. slots used up.
    refused: BTreeMap<i32, String>,
    /// Every thread ever refused, the ended ones included.
    refused_total: u64,
    /// Threads found by a rescan, not at the start: each ran unwatched
    /// until then, so its earlier accesses are not counted.
    late: u64,
}

impl Writers {
    /// Opens the breakpoint on each thread of process `pid` (attached, so
    /// checked). Fails when no thread could get one, with the reason the
    /// kernel gave.
    pub fn open(pid: i32, bp: Breakpoint) -> Result<Writers> {
        let mut writers = Writers {
            pid,
            bp,
            events: HashMap::new(),
            hits: BTreeMap::new(),
            fresh: Vec::new(),
            lost: 0,
            refused: BTreeMap::new(),
            refused_total: 0,
            late: 0,
        };
        let mut first_error = None;
        for tid in writers.threads()? {
            if let Err(e) = writers.add_thread(tid) {
                first_error.get_or_insert(e);
            }
        }
        if writers.events.is_empty() {
            return Err(first_error.unwrap_or(Error::TargetExited { pid: writers.pid }));
        }
        Ok(writers)
    }

    fn threads(&self) -> Result<Vec<i32>> {
        let path = format!("/proc/{}/task", self.pid);
        let dir = std::fs::read_dir(&path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => Error::TargetExited { pid: self.pid },
            _ => Error::Proc {
                path: path.clone(),
                source,
            },
        })?;
        Ok(dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect())
    }

    fn add_thread(&mut self, tid: i32) -> Result<()> {
        match PerfBreakpoint::open(tid, self.bp, RING_PAGES) {
            Ok(event) => {
                self.events.insert(tid, event);
                self.refused.remove(&tid);
                Ok(())
            }
            // The thread ended between the listing and the open.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            Err(e) => {
                let err = explain(&e, tid, self.bp);
                if self.refused.insert(tid, err.to_string()).is_none() {
                    self.refused_total += 1;
                }
                Err(err)
            }
        }
    }

    /// Opens breakpoints on threads started since the last look; returns how
    /// many were added. Threads that ended keep their samples, but their
    /// events are closed: a target that keeps starting threads would
    /// otherwise use up our descriptors and locked ring-buffer memory.
    pub fn rescan(&mut self) -> Result<usize> {
        let live: BTreeSet<i32> = self.threads()?.into_iter().collect();
        if self.events.keys().any(|tid| !live.contains(tid)) {
            self.drain();
            self.events.retain(|tid, _| live.contains(tid));
        }
        // Only live threads are listed as refused (each ended one is still
        // counted): under thread churn the list would otherwise grow without end.
        self.refused.retain(|tid, _| live.contains(tid));
        let mut added = 0;
        for &tid in &live {
            if !self.events.contains_key(&tid) && !self.refused.contains_key(&tid) {
                let before = self.events.len();
                let _ = self.add_thread(tid);
                added += self.events.len() - before;
            }
        }
        self.late += added as u64;
        Ok(added)
    }

    /// Waits up to `timeout` for samples (or for `also` to become readable)
    /// and collects every sample waiting. Returns whether `also` is readable.
    pub fn wait(
        &mut self,
        timeout: Duration,
        also: &[std::os::fd::BorrowedFd<'_>],
    ) -> Result<bool> {
        let mut fds: Vec<PollFd<'_>> = also
            .iter()
            .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        fds.extend(
            self.events
                .values()
                .map(|e| PollFd::new(e.fd(), PollFlags::POLLIN)),
        );
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let also_ready = match poll(&mut fds, timeout) {
            Ok(_) => fds[..also.len()]
                .iter()
                .any(|f| f.revents().is_some_and(|r| !r.is_empty())),
            Err(nix::errno::Errno::EINTR) => false,
            Err(e) => {
                return Err(Error::Kernel {
                    call: "poll",
                    source: e.into(),
                });
            }
        };
        drop(fds);
        self.drain();
        Ok(also_ready)
    }

    /// Collects the samples waiting in every ring buffer.
    pub fn drain(&mut self) {
        let (hits, lost, fresh) = (&mut self.hits, &mut self.lost, &mut self.fresh);
        for event in self.events.values_mut() {
            event.drain(|record| match record {
                PerfRecord::Sample { ip, tid, .. } => {
                    let hit = hits.entry(ip).or_insert_with(|| {
                        fresh.push(ip);
                        Hit::default()
                    });
                    hit.count += 1;
                    hit.tids.insert(tid);
                }
                PerfRecord::Lost { count } => *lost += count,
            });
        }
    }

    /// Each sampled instruction address with its count and threads, by address.
    pub fn hits(&self) -> &BTreeMap<u64, Hit> {
        &self.hits
    }

    /// The instruction addresses seen for the first time since the last call.
    pub fn take_new(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.fresh)
    }

    /// Samples the kernel dropped because a buffer was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Threads carrying the breakpoint now.
    pub fn threads_watched(&self) -> usize {
        self.events.len()
    }

    /// Live threads that were refused one, with the reason.
    pub fn refused(&self) -> &BTreeMap<i32, String> {
        &self.refused
    }

    /// How many threads were refused one over the whole run.
    /// How many threads were watched only from a rescan on (started
    /// after the watch began): while there are any, counts are lower bounds.
    /// (An inherited breakpoint would follow new threads from their first
    /// instruction, but the kernel maps the ring buffer of an inherited
    /// event only when it is bound to one CPU: one per thread and CPU.)
    pub fn late_threads(&self) -> u64 {
        self.late
    }

    pub fn refused_total(&self) -> u64 {
        self.refused_total
    }
}

/// Where a code address lies, for a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CodePlace {
    pub ip: u64,
    /// The function holding `ip` and the offset into it, where a symbol covers it.
    pub function: Option<String>,
    pub function_offset: u64,
    /// The mapped file and the offset from its first mapping.
    pub module: Option<String>,
    pub module_offset: u64,
    /// `file:line`, where a [`SourceLines`] knows it.
    pub line: Option<String>,
}

impl CodePlace {
    /// `add_score+0x19 in game`, `game+0x1234`, or the bare address.
    pub fn label(&self) -> String {
        let text = match (&self.function, &self.module) {
            (Some(f), Some(m)) => format!("{f}+{:#x} in {m}", self.function_offset),
            (Some(f), None) => format!("{f}+{:#x}", self.function_offset),
            (None, Some(m)) => format!("{m}+{:#x}", self.module_offset),
            (None, None) => format!("{:#x}", self.ip),
        };
        let text = match &self.line {
            Some(line) => format!("{text} ({line})"),
            None => text,
        };
        super::printable(&text)
    }
}

/// File and line of a code address: the hook for debug information.
pub trait SourceLines {
    fn line_at(&self, ip: u64) -> Option<String>;
}

/// Lines from the DWARF line tables of the target's objects.
impl SourceLines for crate::debuginfo::DebugInfo {
    fn line_at(&self, ip: u64) -> Option<String> {
        crate::debuginfo::DebugInfo::line_at(self, ip)
    }
}

/// No line information: ELF symbols only.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLines;

impl SourceLines for NoLines {
    fn line_at(&self, _ip: u64) -> Option<String> {
        None
    }
}

/// Names `ip` with the target's symbols (and lines, where known).
pub fn place_of_ip(
    ip: u64,
    symbols: &crate::symbols::SymbolTable,
    lines: &dyn SourceLines,
) -> CodePlace {
    let (module, module_offset) = match symbols.module_at(ip) {
        Some((m, off)) => (Some(m.to_string()), off),
        None => (None, 0),
    };
    let (function, function_offset) = match symbols.symbol_at(ip) {
        Some((name, off)) => {
            let bare = name.split_once('!').map_or(name.as_str(), |(_, s)| s);
            (Some(bare.to_string()), off)
        }
        None => (None, 0),
    };
    CodePlace {
        ip,
        function,
        function_offset,
        module,
        module_offset,
        line: lines.line_at(ip),
    }
}

/// `perf_event_open`'s errno as the reason and the way out.
fn explain(e: &io::Error, tid: i32, bp: Breakpoint) -> Error {
    let why = match e.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => {
            let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into());
            format!(
                "perf_event_open refused access to thread {tid} (kernel.perf_event_paranoid = {paranoid}): \
                 run as root or give pvtui CAP_PERFMON (or CAP_SYS_ADMIN), or lower perf_event_paranoid to 1"
            )
        }
        Some(libc::ENOSPC) => format!(
            "no free hardware breakpoint slot on thread {tid}: x86 has 4 per thread, and a debugger \
             or another `pvtui writers` may hold them"
        ),
        Some(libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV) => format!(
            "no hardware breakpoints on this machine ({e}): perf has no breakpoint PMU here, \
             as in many virtual machines"
        ),
        Some(libc::ENOSYS) => format!(
            "no hardware breakpoints on this machine ({e}): the kernel was built without perf \
             events (CONFIG_PERF_EVENTS)"
        ),
        Some(libc::EINVAL) => format!(
            "the kernel refused a {}-byte breakpoint at {:#x} ({e}): it must be aligned to its length \
             and lie in user space",
            bp.len, bp.addr
        ),
        _ => format!("perf_event_open on thread {tid}: {e}"),
    };
    Error::Breakpoint(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakpoint_lengths_and_alignment_are_checked() {
        assert!(breakpoint(0x1000, 4, Access::Writes).is_ok());
        assert!(breakpoint(0x1002, 2, Access::ReadsAndWrites).is_ok());
        let err = breakpoint(0x1002, 4, Access::Writes).expect_err("unaligned");
        assert!(err.to_string().contains("not aligned"), "{err}");
        let err = breakpoint(0x1000, 16, Access::Writes).expect_err("too long");
        assert!(err.to_string().contains("1, 2, 4 or 8"), "{err}");
        let err = breakpoint(0x1000, 3, Access::Writes).expect_err("odd length");
        assert!(err.to_string().contains("not 3"), "{err}");
    }

    #[test]
    fn kernel_refusals_name_their_cause() {
        let bp = Breakpoint {
            addr: 0x1000,
            len: 8,
            access: sys::HW_BREAKPOINT_W,
        };
        let slots = explain(&io::Error::from_raw_os_error(libc::ENOSPC), 7, bp);
        assert!(slots.to_string().contains("4 per thread"), "{slots}");
        let vm = explain(&io::Error::from_raw_os_error(libc::ENOENT), 7, bp);
        assert!(vm.to_string().contains("no hardware breakpoints"), "{vm}");
        let perm = explain(&io::Error::from_raw_os_error(libc::EACCES), 7, bp);
        assert!(perm.to_string().contains("CAP_PERFMON"), "{perm}");
    }
}

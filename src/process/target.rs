//! Attaching to a target process by pidfd, and every access to its memory.
//!
//! A pid can be reused once its process has been reaped, so pvtui never
//! trusts a bare pid. At attach it opens a pidfd, the `/proc/PID` directory
//! and `/proc/PID/mem`, then checks through the pidfd that the process is
//! still alive: the directory and `mem` opened before that check belong to
//! our process and stay bound to it whatever happens to the pid later.
//!
//! Reads go through `process_vm_readv`. With `PROCESS_VM_PIDFD` the pidfd is
//! passed; without it the read goes by pid and its data is kept only if the
//! pidfd shows the process still alive after the read (a pid cannot be reused
//! before its process has exited). Writes go through the pidfd, or else
//! through the `mem` descriptor, which cannot reach another process.

use std::fs::File;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::error::{Error, Result};
use crate::process::caps::capabilities;
use crate::process::maps::Maps;
use crate::process::memory::clamp_len;
use crate::process::memory::{
    Gap, Memory, PageBuffer, ReadBatch, ReadMode, ReadOutcome, Unread, WriteReport,
};
use crate::process::plan::{ReadPlan, SpanData, merge_gaps_in_place};
use crate::process::procfs::{
    ProcDir, ProcOpener, caps_of, explain_permission, is_kernel_thread, open_error, read_status,
};
use crate::process::residency::Residency;
use crate::sys::{self, RemoteRange};

mod writes;

/// Which native kernel paths the accesses use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Pass the pidfd with `PROCESS_VM_PIDFD`; otherwise go by pid and check the pidfd.
    pub pidfd: bool,
    /// Pass `PROCESS_VM_NOWAIT`; otherwise check residency in `/proc/PID/pagemap`.
    pub nowait: bool,
}

impl Access {
    /// The best this kernel offers. `PVTUI_ACCESS=fallback` forces the
    /// fallbacks even where the flags exist, so both paths can be tested.
    pub fn detect() -> Access {
        let caps = capabilities();
        let forced = std::env::var("PVTUI_ACCESS").is_ok_and(|v| v == "fallback");
        Access {
            pidfd: caps.process_vm_pidfd && !forced,
            nowait: caps.process_vm_nowait && !forced,
        }
    }

    /// A one-line description: `pidfd: native | nowait: emulated (pagemap)`.
    pub fn describe(&self) -> String {
        format!(
            "pidfd: {} | nowait: {}",
            if self.pidfd {
                "native"
            } else {
                "emulated (pid + pidfd check)"
            },
            if self.nowait {
                "native"
            } else {
                "emulated (pagemap)"
            }
        )
    }
}

/// An attached target process.
pub struct Target {
    pid: i32,
    name: String,
    note: Option<String>,
    /// `/proc/PID` and the pidfd, opened before the liveness check: bound to our process.
    proc: Arc<ProcDir>,
    /// `/proc/PID/mem`, bound to our process's address space.
    mem: File,
    mem_writable: bool,
    residency: Mutex<Option<Residency>>,
    access: Access,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("pid", &self.pid)
            .field("name", &self.name)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Attaches to `pid` with the best access this kernel offers.
    ///
    /// A thread id attaches to its process (see [`Target::note`]).
    pub fn attach(pid: i32) -> Result<Target> {
        Target::attach_with(pid, Access::detect())
    }

    /// Attaches to `pid` with the given access paths.
    pub fn attach_with(pid: i32, access: Access) -> Result<Target> {
        if pid <= 0 {
            return Err(Error::InvalidPid { pid });
        }
        let mut status = read_status(pid)?;
        let mut note = None;
        let asked = pid;
        let pid = if status.tgid != pid && status.tgid > 0 {
            let tgid = status.tgid;
            status = read_status(tgid)?;
            note = Some(format!(
                "{asked} is a thread of process {tgid} ({}); attached to the process",
                status.name
            ));
            tgid
        } else {
            pid
        };
        if is_kernel_thread(pid) {
            return Err(Error::KernelThread {
                pid,
                name: status.name,
            });
        }
        if matches!(status.state, 'Z' | 'X') {
            return Err(Error::Zombie { pid });
        }
        let pidfd = sys::pidfd_open(pid).map_err(|e| match e.raw_os_error() {
            Some(libc::ESRCH) => Error::NoSuchProcess { pid },
            _ => Error::Kernel {
                call: "pidfd_open",
                source: e,
            },
        })?;
        let proc = Arc::new(ProcDir::open(pid, pidfd)?);
        let open_mem = |flags| proc.open_at("mem", flags);
        let (mem, mem_writable) = match open_mem(OFlag::O_RDWR) {
            Ok(fd) => (fd, true),
            Err(Errno::EACCES | Errno::EPERM) => match open_mem(OFlag::O_RDONLY) {
                Ok(fd) => (fd, false),
                Err(Errno::EACCES | Errno::EPERM) => {
                    return Err(Error::PermissionDenied {
                        pid,
                        why: explain_permission(status.uid, caps_of(&pid.to_string(), "CapPrm:")),
                    });
                }
                Err(e) => return Err(open_error(pid, "mem", e)),
            },
            Err(e) => return Err(open_error(pid, "mem", e)),
        };
        let target = Target {
            pid,
            name: status.name,
            note,
            proc,
            mem: File::from(mem),
            mem_writable,
            residency: Mutex::new(None),
            access,
        };
        // Only now do the descriptors opened by pid provably belong to our process.
        if !target.is_alive() {
            return Err(Error::TargetExited { pid });
        }
        Ok(target)
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The process name (`comm`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Something the user should know about the attach, such as a thread id
    /// that was resolved to its process.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// Readable once the target has exited: poll it to notice the exit at once.
    pub fn exit_fd(&self) -> BorrowedFd<'_> {
        self.proc.pidfd()
    }

    /// Whether the process has not exited (its pidfd is not yet readable).
    pub fn is_alive(&self) -> bool {
        self.proc.is_alive()
    }

    fn exited(&self) -> Error {
        Error::TargetExited { pid: self.pid }
    }

    /// Whether the process has called `exec` since attach: the address
    /// space our `mem` descriptor is bound to is gone while the process
    /// lives. A read of that descriptor then gives 0 bytes (the old address
    /// space is checked before any address: a live one answers EIO at 0).
    pub fn ran_exec(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.mem.read_at(&mut byte, 0), Ok(0)) && self.is_alive()
    }

    /// The same process after an `exec`: `mem` and `pagemap` opened again
    /// for its new address space, its new name read. The pidfd and the
    /// `/proc/PID` directory stay: they name the process, not its memory.
    pub fn after_exec(&self) -> Result<Target> {
        let open_mem = |flags| self.proc.open_at("mem", flags);
        let (mem, mem_writable) = match open_mem(OFlag::O_RDWR) {
            Ok(fd) => (fd, true),
            Err(_) => (
                open_mem(OFlag::O_RDONLY).map_err(|e| open_error(self.pid, "mem", e))?,
                false,
            ),
        };
        let name = self
            .proc
            .read_text("comm")
            .map(|c| c.trim_end_matches('\n').to_string())
            .unwrap_or_else(|_| self.name.clone());
        let target = Target {
            pid: self.pid,
            name,
            note: None,
            proc: Arc::clone(&self.proc),
            mem: File::from(mem),
            mem_writable,
            residency: Mutex::new(None),
            access: self.access,
        };
        if !target.is_alive() {
            return Err(Error::TargetExited { pid: self.pid });
        }
        Ok(target)
    }

    /// The process state letter from `/proc/PID/stat` (`R`, `S`, `T` for
    /// stopped by a signal, `t` by a tracer, `Z`...).
    pub fn state(&self) -> Result<char> {
        let stat = self.proc.read_text("stat")?;
        // The name in parentheses may hold anything: the state follows its last ')'.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .ok_or_else(|| Error::ProcFormat {
                path: format!("/proc/{}/stat", self.pid),
                line: 1,
                text: stat.chars().take(80).collect(),
            })
    }

    /// Opens `/proc/PID/<rel>` through the directory opened at attach, so it
    /// is the target's even if the pid has since been reused.
    pub fn open_proc(&self, rel: &str) -> Result<File> {
        self.proc.open_file(rel)
    }

    /// Opens the target's `/proc/PID/<rel>` files for whoever needs them
    /// later (symbols, residency), without holding the target.
    pub fn proc_opener(&self) -> ProcOpener {
        self.proc.opener()
    }

    /// The target's memory regions, read fresh.
    pub fn maps(&self) -> Result<Maps> {
        let text = self.maps_text()?;
        Maps::parse(&text, &format!("/proc/{}/maps", self.pid))
    }

    /// The target's memory regions if they differ from `previous`: `None`
    /// when nothing changed, so callers keep what they derived from them.
    pub fn maps_if_changed(&self, previous: &Maps) -> Result<Option<Maps>> {
        let text = self.maps_text()?;
        if previous.is_parsed_from(&text) {
            return Ok(None);
        }
        // Only exit takes every mapping away; the pidfd says so a little
        // later, and until then the last values must not turn "unmapped".
        if text.is_empty() && !previous.regions().is_empty() {
            return Err(self.exited());
        }
        Maps::parse(&text, &format!("/proc/{}/maps", self.pid)).map(Some)
    }

    fn maps_text(&self) -> Result<String> {
        let text = self.proc.read_text("maps")?;
        if text.is_empty() && !self.is_alive() {
            return Err(self.exited());
        }
        Ok(text)
    }

    /// Reads many ranges in as few syscalls as it can. Each range gets its own
    /// outcome: its bytes, and exactly which of them were not read and why.
    ///
    /// Fails as a whole only when the target has exited: then nothing read is
    /// returned, since it might have come from another process.
    pub fn read(
        &self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
    ) -> Result<Vec<ReadOutcome>> {
        let mut batch = ReadBatch::default();
        self.read_batch(maps, ranges, mode, &mut batch)?;
        Ok(batch.to_outcomes())
    }

    /// Like [`Target::read`], with every range's bytes in one buffer: the
    /// form for polling many watches. `batch` is the caller's, cleared and
    /// refilled, so a poll loop reuses its allocations tick after tick.
    pub fn read_batch(
        &self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
        batch: &mut ReadBatch,
    ) -> Result<()> {
        let result = self.fill_batch(maps, ranges, mode, batch);
        if result.is_err() {
            // Nothing read may be used once the target is gone.
            batch.clear();
        }
        result
    }

    fn fill_batch(
        &self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
        batch: &mut ReadBatch,
    ) -> Result<()> {
        let mut plan = ReadPlan::default();
        let mut plan_gaps = Vec::new();
        // (range index, its gaps in plan_gaps): only ranges that have some.
        let gapped = plan.add_ranges(maps, ranges, &mut plan_gaps);
        let mut span_gaps = Vec::new();
        let spans = self.filter_resident(maps, plan.spans(), mode, &mut span_gaps)?;
        let total: usize = spans.iter().map(|s| s.len).sum();
        // The batch keeps the span buffer: a range read whole is a window on
        // it, with no copy. Only ranges with unread bytes get bytes of their own.
        let buffer = batch.reset(total, ranges.len());
        let mut offsets = Vec::with_capacity(spans.len());
        {
            let mut ios: Vec<(RemoteRange, &mut [u8])> = Vec::with_capacity(spans.len());
            let mut rest = &mut buffer[..];
            let mut off = 0usize;
            for span in &spans {
                let (head, tail) = rest.split_at_mut(span.len);
                ios.push((*span, head));
                offsets.push(off);
                off += span.len;
                rest = tail;
            }
            self.transfer(maps, &mut ios, mode, &mut span_gaps)?;
        }
        span_gaps.sort_by_key(|g| g.addr);
        let read = SpanData {
            spans: &spans,
            offsets: &offsets,
            gaps: &span_gaps,
        };
        if plan_gaps.is_empty() && span_gaps.is_empty() && self.all_windows(ranges, &read, batch) {
            return Ok(());
        }
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        let mut hint = 0;
        let mut gapped = gapped.into_iter().peekable();
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            let len = clamp_len(addr, len);
            let own_gaps = match gapped.next_if(|&(k, _, _)| k == i) {
                Some((_, from, to)) => &plan_gaps[from..to],
                None => &[],
            };
            if own_gaps.is_empty()
                && let Some((k, offset)) = read.whole(addr, len, hint)
            {
                hint = k;
                batch.push_window(addr, offset, len);
                continue;
            }
            data.clear();
            data.resize(len, 0);
            gaps.clear();
            gaps.extend_from_slice(own_gaps);
            read.fill(batch.buffer(), addr, &mut data, &mut gaps);
            batch.push(addr, &data, gaps.drain(..));
        }
        Ok(())
    }

    /// With nothing unread anywhere, every range lies whole in one span:
    /// each becomes a window, with no per-range gap bookkeeping. False (and
    /// the batch's entries left empty) if one does not.
    fn all_windows(
        &self,
        ranges: &[(u64, usize)],
        read: &SpanData<'_>,
        batch: &mut ReadBatch,
    ) -> bool {
        // The span of the range before, as (start, end, buffer offset):
        // sorted ranges mostly fall in it, so no search is needed.
        let mut span = (1u64, 0u64, 0usize);
        let mut whole = true;
        let offsets = ranges.iter().map(|&(addr, len)| {
            let len = clamp_len(addr, len);
            let end = addr + len as u64;
            if span.0 <= addr && end <= span.1 {
                return span.2 + (addr - span.0) as usize;
            }
            match read.whole(addr, len, 0) {
                Some((k, offset)) => {
                    let s = read.spans[k];
                    span = (s.addr, s.addr + s.len as u64, read.offsets[k]);
                    offset
                }
                None => {
                    whole = false;
                    0
                }
            }
        });
        batch.set_windows(ranges, offsets);
        if !whole {
            batch.clear_entries();
        }
        whole
    }

    /// Reads `[addr, addr + buf.len())` into `buf`; returns the runs of bytes
    /// not read (left zero in `buf`), sorted.
    pub fn read_into(
        &self,
        maps: &Maps,
        addr: u64,
        buf: &mut [u8],
        mode: ReadMode,
    ) -> Result<Vec<Gap>> {
        let len = clamp_len(addr, buf.len());
        let buf = &mut buf[..len];
        let mut gaps = Vec::new();
        let mut plan = ReadPlan::default();
        plan.add(maps, addr, len as u64, &mut gaps);
        let spans = self.filter_resident(maps, plan.spans(), mode, &mut gaps)?;
        let mut ios = Vec::with_capacity(spans.len());
        let mut rest = &mut *buf;
        let mut at = addr;
        for span in &spans {
            let (_, tail) = rest.split_at_mut((span.addr - at) as usize);
            let (head, tail) = tail.split_at_mut(span.len);
            ios.push((*span, head));
            rest = tail;
            at = span.addr + span.len as u64;
        }
        self.transfer(maps, &mut ios, mode, &mut gaps)?;
        gaps.sort_by_key(|g| g.addr);
        merge_gaps_in_place(&mut gaps);
        // Only the bytes not read need clearing: zeroing the whole buffer first
        // would cost another pass over it.
        for gap in &gaps {
            let from = (gap.addr - addr) as usize;
            buf[from..from + gap.len as usize].fill(0);
        }
        Ok(gaps)
    }

    /// Splits spans at pages that could block, where the kernel cannot be
    /// told not to (no `PROCESS_VM_NOWAIT`).
    fn filter_resident(
        &self,
        maps: &Maps,
        spans: Vec<RemoteRange>,
        mode: ReadMode,
        gaps: &mut Vec<Gap>,
    ) -> Result<Vec<RemoteRange>> {
        if mode == ReadMode::Force || self.access.nowait || spans.is_empty() {
            return Ok(spans);
        }
        let mut guard = self
            .residency
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            match self.open_proc("pagemap") {
                Ok(file) => *guard = Some(Residency::new(file, self.proc_opener())),
                Err(Error::TargetExited { pid }) => return Err(Error::TargetExited { pid }),
                // Without pagemap nothing can be checked; the deadline worker is the last guard.
                Err(_) => return Ok(spans),
            }
        }
        let Some(residency) = guard.as_mut() else {
            return Ok(spans);
        };
        residency
            .split_resident(maps, spans, gaps)
            .map_err(|e| self.proc.read_error("pagemap", e))
    }

    fn vm_target(&self) -> (i32, u64) {
        if self.access.pidfd {
            (self.proc.pidfd().as_raw_fd(), sys::PROCESS_VM_PIDFD)
        } else {
            (self.pid, 0)
        }
    }

    /// Copies each remote span into its buffer, batching up to `IOV_MAX`
    /// spans a call. `process_vm_readv` stops at the first range it cannot
    /// read; the page there is retried alone to learn whether it is really
    /// bad, marked, and the batch resumes after it, so one bad page never
    /// hides the rest.
    fn transfer(
        &self,
        maps: &Maps,
        ios: &mut [(RemoteRange, &mut [u8])],
        mode: ReadMode,
        gaps: &mut Vec<Gap>,
    ) -> Result<()> {
        let (who, mut flags) = self.vm_target();
        let nowait = mode == ReadMode::NoWait && self.access.nowait;
        if nowait {
            flags |= sys::PROCESS_VM_NOWAIT;
        }
        let page = sys::page_size();
        // The caller's maps may be stale; on the first fault they are read
        // again, since EFAULT alone cannot tell an unmapped page from one
        // that NOWAIT would not fault in.
        let mut fresh_maps: Option<Maps> = None;
        let mut i = 0;
        let mut skip = 0usize;
        while i < ios.len() {
            let end = (i + sys::IOV_MAX).min(ios.len());
            let mut remote = Vec::with_capacity(end - i);
            let mut local = Vec::with_capacity(end - i);
            for (k, (range, buf)) in ios[i..end].iter_mut().enumerate() {
                let from = if k == 0 { skip } else { 0 };
                remote.push(RemoteRange {
                    addr: range.addr + from as u64,
                    len: range.len - from,
                });
                local.push(IoSliceMut::new(&mut buf[from..]));
            }
            let want: usize = remote.iter().map(|r| r.len).sum();
            let got = match sys::process_vm_readv(who, &mut local, &remote, flags) {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) => 0,
                Err(e) => return Err(self.vm_error(e, "process_vm_readv")),
            };
            drop(local);
            if got >= want {
                i = end;
                skip = 0;
                continue;
            }
            // Walk to the range and offset where the copy stopped.
            let mut left = got;
            let mut j = i;
            let mut off = skip;
            while left >= ios[j].0.len - off {
                left -= ios[j].0.len - off;
                j += 1;
                off = 0;
            }
            off += left;
            let (range, buf) = &mut ios[j];
            let bad_addr = range.addr + off as u64;
            let page_end = ((bad_addr / page + 1) * page).min(range.addr + range.len as u64);
            let page_len = (page_end - bad_addr) as usize;
            // The kernel may stop short at an iovec boundary rather than at the
            // faulting page: read this page alone to tell.
            let alone = RemoteRange {
                addr: bad_addr,
                len: page_len,
            };
            let slice = &mut buf[off..off + page_len];
            let read_alone =
                match sys::process_vm_readv(who, &mut [IoSliceMut::new(slice)], &[alone], flags) {
                    Ok(n) => n,
                    Err(e) if e.raw_os_error() == Some(libc::EFAULT) => 0,
                    Err(e) => return Err(self.vm_error(e, "process_vm_readv")),
                };
            if read_alone < page_len {
                let from = bad_addr + read_alone as u64;
                if fresh_maps.is_none() {
                    fresh_maps = Some(self.maps().unwrap_or_else(|_| maps.clone()));
                }
                let current = fresh_maps.as_ref().unwrap_or(maps);
                gaps.push(Gap {
                    addr: from,
                    len: page_end - from,
                    why: fault_reason(current, from, nowait),
                });
            }
            i = j;
            skip = off + page_len;
            if skip >= range.len {
                i += 1;
                skip = 0;
            }
        }
        // By pid, the pid may already name another process: discard what was
        // read. By pidfd, the kernel says ESRCH, but only if it was asked:
        // with nothing to read, the pidfd answers instead.
        if (!self.access.pidfd || ios.is_empty()) && !self.is_alive() {
            return Err(self.exited());
        }
        Ok(())
    }

    fn vm_error(&self, e: std::io::Error, call: &'static str) -> Error {
        match e.raw_os_error() {
            Some(libc::ESRCH) => self.exited(),
            Some(libc::EPERM | libc::EACCES) if !self.is_alive() => self.exited(),
            Some(libc::EPERM | libc::EACCES) => Error::PermissionDenied {
                pid: self.pid,
                why: "the kernel refused access to its memory (did its credentials change after attach?)"
                    .into(),
            },
            _ => Error::Kernel { call, source: e },
        }
    }

    /// Writes `bytes` at `addr`, then reads them back.
    ///
    /// The mapping must be writable: `/proc/PID/mem` would force a write into
    /// a read-only page, so the permissions are checked here first.
    pub fn write(&self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        self.check_writable(maps, addr, bytes.len() as u64)?;
        self.write_checked(maps, addr, bytes)
    }

    /// Every byte lies in a writable mapping: `/proc/PID/mem` would force a
    /// write into a read-only page.
    fn check_writable(&self, maps: &Maps, addr: u64, len: u64) -> Result<()> {
        let mut at = addr;
        for region in maps.overlapping(addr, len) {
            if region.start > at {
                break;
            }
            if !region.perms.write {
                return Err(Error::ReadOnly {
                    addr,
                    len,
                    region: region.describe(),
                    perms: region.perms.to_string(),
                });
            }
            at = region.end;
        }
        if at < addr.saturating_add(len) {
            return Err(Error::Unmapped {
                pid: self.pid,
                addr,
                len,
            });
        }
        Ok(())
    }

    /// The write and its read-back, the mapping already checked.
    fn write_checked(&self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        let span = [(addr, bytes.len())];
        let before = self.read(maps, &span, ReadMode::Force)?.remove(0).data;
        let written = if self.access.pidfd {
            let (who, flags) = self.vm_target();
            let remote = [RemoteRange {
                addr,
                len: bytes.len(),
            }];
            match sys::process_vm_writev(who, &[std::io::IoSlice::new(bytes)], &remote, flags) {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) => 0,
                Err(e) => return Err(self.vm_error(e, "process_vm_writev")),
            }
        } else {
            self.write_mem(addr, bytes)?
        };
        let after = self.read(maps, &span, ReadMode::Force)?.remove(0);
        Ok(WriteReport {
            addr,
            before,
            requested: bytes.to_vec(),
            written,
            after: if after.is_complete() {
                after.data
            } else {
                Vec::new()
            },
        })
    }

    fn write_mem(&self, addr: u64, bytes: &[u8]) -> Result<usize> {
        if !self.mem_writable {
            return Err(Error::PermissionDenied {
                pid: self.pid,
                why: "/proc/PID/mem could only be opened read-only".into(),
            });
        }
        let mut done = 0;
        while done < bytes.len() {
            match self.mem.write_at(&bytes[done..], addr + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EIO | libc::EFAULT)) => break,
                Err(e) if !self.is_alive() || e.raw_os_error() == Some(libc::ESRCH) => {
                    return Err(self.exited());
                }
                Err(e) => {
                    return Err(Error::Kernel {
                        call: "pwrite(/proc/PID/mem)",
                        source: e,
                    });
                }
            }
        }
        Ok(done)
    }
}

/// The target shared with the deadline worker's threads.
impl Memory for Arc<Target> {
    fn read_batch(
        &mut self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
        batch: &mut ReadBatch,
    ) -> Result<()> {
        Target::read_batch(self, maps, ranges, mode, batch)
    }

    fn read_into(
        &mut self,
        maps: &Maps,
        addr: u64,
        buf: &mut PageBuffer,
        mode: ReadMode,
    ) -> Result<Vec<Gap>> {
        Target::read_into(self, maps, addr, buf, mode)
    }

    fn write(&mut self, maps: &Maps, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        Target::write(self, maps, addr, bytes)
    }

    fn write_within(
        &mut self,
        maps: &Maps,
        addr: u64,
        bytes: &[u8],
        deadline: Duration,
    ) -> Result<WriteReport> {
        Target::write_within(self, maps, addr, bytes, deadline)
    }
}

/// Why the kernel refused a page that the maps say is readable.
fn fault_reason(maps: &Maps, addr: u64, nowait: bool) -> Unread {
    match maps.find(addr) {
        None => Unread::Unmapped,
        Some(r) if !r.is_readable() => Unread::Protected,
        // Under NOWAIT a page that needs IO gives EFAULT too; the maps tell it apart.
        Some(_) if nowait => Unread::NotResident,
        Some(_) => Unread::Faulted,
    }
}

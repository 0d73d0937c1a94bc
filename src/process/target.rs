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
use std::io::{IoSliceMut, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};
use crate::process::caps::capabilities;
use crate::process::maps::Maps;
use crate::process::memory::{Gap, ReadBatch, ReadMode, ReadOutcome, Unread, WriteReport};
use crate::process::residency::Residency;
use crate::sys::{self, RemoteRange};

/// `CAP_SYS_PTRACE` from `include/uapi/linux/capability.h`.
const CAP_SYS_PTRACE: u32 = 19;

/// `PF_KTHREAD` in the flags field of `/proc/PID/stat`.
const PF_KTHREAD: u64 = 0x0020_0000;

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

/// What `/proc/PID/status` says about a process.
struct Status {
    name: String,
    state: char,
    tgid: i32,
    uid: u32,
}

fn read_status(pid: i32) -> Result<Status> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT | libc::ESRCH) => Error::NoSuchProcess { pid },
        _ => Error::Proc {
            path: path.clone(),
            source: e,
        },
    })?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .unwrap_or("")
    };
    let bad = |line: &str| Error::ProcFormat {
        path: path.clone(),
        line: 0,
        text: line.to_string(),
    };
    Ok(Status {
        name: field("Name:").to_string(),
        state: field("State:").chars().next().unwrap_or('?'),
        tgid: field("Tgid:").parse().map_err(|_| bad("Tgid"))?,
        uid: field("Uid:")
            .split_whitespace()
            .nth(1)
            .and_then(|u| u.parse().ok())
            .ok_or_else(|| bad("Uid"))?,
    })
}

fn is_kernel_thread(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The name in parentheses may hold spaces; fields resume after the last ')'.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .nth(6)
        .and_then(|f| f.parse::<u64>().ok())
        .is_some_and(|flags| flags & PF_KTHREAD != 0)
}

/// A capability set (`CapEff:`, `CapPrm:`) from `/proc/<who>/status`.
fn caps_of(who: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{who}/status")).ok()?;
    let value = status.lines().find_map(|l| l.strip_prefix(field))?;
    u64::from_str_radix(value.trim(), 16).ok()
}

/// Why we may not access a process owned by `target_uid`: the facts a user
/// needs to fix it.
fn explain_permission(target_uid: u32, target_caps: Option<u64>) -> String {
    let our_uid = nix::unistd::geteuid().as_raw();
    let has_ptrace_cap =
        caps_of("self", "CapEff:").is_some_and(|caps| caps & (1 << CAP_SYS_PTRACE) != 0);
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    let mut why = Vec::new();
    if our_uid != target_uid {
        why.push(format!(
            "the target runs as uid {target_uid} and pvtui as uid {our_uid}"
        ));
    } else {
        why.push(format!("both run as uid {our_uid}, yet the kernel refused"));
        match (caps_of("self", "CapEff:"), target_caps) {
            (Some(ours), Some(theirs)) if theirs & !ours != 0 => why.push(format!(
                "the target holds capabilities pvtui lacks (its CapPrm {theirs:#x}, pvtui's CapEff {ours:#x})"
            )),
            _ => why.push(
                "the target may be non-dumpable (setuid, file capabilities, prctl(PR_SET_DUMPABLE, 0)) or guarded by an LSM (SELinux, AppArmor)".to_string(),
            ),
        }
    }
    if !has_ptrace_cap {
        why.push("pvtui lacks CAP_SYS_PTRACE".to_string());
    }
    match yama {
        Some(1) => why.push(
            "Yama ptrace_scope is 1: only a parent may attach (start the target under pvtui, or set /proc/sys/kernel/yama/ptrace_scope to 0)".to_string(),
        ),
        Some(2) => why.push("Yama ptrace_scope is 2: only CAP_SYS_PTRACE may attach".to_string()),
        Some(3) => why.push("Yama ptrace_scope is 3: no process may attach until reboot".to_string()),
        _ => {}
    }
    let fix = if our_uid != 0 {
        "; run pvtui as the target's user or as root, or grant it CAP_SYS_PTRACE"
    } else {
        ""
    };
    format!("{}{fix}", why.join(", and "))
}

/// An attached target process.
pub struct Target {
    pid: i32,
    name: String,
    note: Option<String>,
    pidfd: OwnedFd,
    /// `/proc/PID`, opened before the liveness check: bound to our process.
    proc_dir: OwnedFd,
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
        let proc_dir = open(
            format!("/proc/{pid}").as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::Proc {
            path: format!("/proc/{pid}"),
            source: e.into(),
        })?;
        let open_mem = |flags| openat(&proc_dir, "mem", flags | OFlag::O_CLOEXEC, Mode::empty());
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
            pidfd,
            proc_dir,
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
        self.pidfd.as_fd()
    }

    /// Whether the process has not exited (its pidfd is not yet readable).
    pub fn is_alive(&self) -> bool {
        let mut fds = [PollFd::new(self.pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(0) => true,
            Ok(_) => false,
            Err(_) => true,
        }
    }

    fn exited(&self) -> Error {
        Error::TargetExited { pid: self.pid }
    }

    /// Opens `/proc/PID/<rel>` through the directory opened at attach, so it
    /// is the target's even if the pid has since been reused.
    pub fn open_proc(&self, rel: &str) -> Result<File> {
        openat(
            &self.proc_dir,
            rel,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(File::from)
        .map_err(|e| match e {
            Errno::ESRCH => self.exited(),
            Errno::ENOENT if !self.is_alive() => self.exited(),
            e => open_error(self.pid, rel, e),
        })
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
        Maps::parse(&text, &format!("/proc/{}/maps", self.pid)).map(Some)
    }

    fn maps_text(&self) -> Result<String> {
        let mut text = String::new();
        self.open_proc("maps")?
            .read_to_string(&mut text)
            .map_err(|e| self.proc_read_error("maps", e))?;
        if text.is_empty() && !self.is_alive() {
            return Err(self.exited());
        }
        Ok(text)
    }

    fn proc_read_error(&self, rel: &str, e: std::io::Error) -> Error {
        if e.raw_os_error() == Some(libc::ESRCH) || !self.is_alive() {
            self.exited()
        } else {
            Error::Proc {
                path: format!("/proc/{}/{rel}", self.pid),
                source: e,
            }
        }
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
        Ok(self.read_batch(maps, ranges, mode)?.to_outcomes())
    }

    /// Like [`Target::read`], with every range's bytes in one buffer: the
    /// form for polling many watches.
    pub fn read_batch(
        &self,
        maps: &Maps,
        ranges: &[(u64, usize)],
        mode: ReadMode,
    ) -> Result<ReadBatch> {
        let mut plan = Plan::default();
        let mut plan_gaps = Vec::new();
        // (range index, its gaps in plan_gaps): only ranges that have some.
        let mut gapped: Vec<(usize, usize, usize)> = Vec::new();
        for (i, &(addr, len)) in ranges.iter().enumerate() {
            let before = plan_gaps.len();
            plan.add(maps, addr, clamp_len(addr, len) as u64, &mut plan_gaps);
            if plan_gaps.len() > before {
                gapped.push((i, before, plan_gaps.len()));
            }
        }
        let mut span_gaps = Vec::new();
        let spans = self.filter_resident(maps, plan.spans(), mode, &mut span_gaps)?;
        let total: usize = spans.iter().map(|s| s.len).sum();
        let mut buffer = vec![0u8; total];
        let mut offsets = Vec::with_capacity(spans.len());
        {
            let mut ios: Vec<(RemoteRange, &mut [u8])> = Vec::with_capacity(spans.len());
            let mut rest = buffer.as_mut_slice();
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
        // The batch keeps the span buffer: a range read whole is a window on
        // it, with no copy. Only ranges with unread bytes get bytes of their own.
        let mut batch = ReadBatch::over(buffer, ranges.len());
        let read = SpanData {
            spans: &spans,
            offsets: &offsets,
            gaps: &span_gaps,
        };
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
        Ok(batch)
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
        let mut plan = Plan::default();
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
                Ok(file) => *guard = Some(Residency::new(file)),
                Err(Error::TargetExited { pid }) => return Err(Error::TargetExited { pid }),
                // Without pagemap nothing can be checked; the deadline worker is the last guard.
                Err(_) => return Ok(spans),
            }
        }
        let Some(residency) = guard.as_mut() else {
            return Ok(spans);
        };
        residency
            .split_resident(self, maps, spans, gaps)
            .map_err(|e| self.proc_read_error("pagemap", e))
    }

    fn vm_target(&self) -> (i32, u64) {
        if self.access.pidfd {
            (self.pidfd.as_raw_fd(), sys::PROCESS_VM_PIDFD)
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
        let len = bytes.len() as u64;
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

fn open_error(pid: i32, rel: &str, e: Errno) -> Error {
    Error::Proc {
        path: format!("/proc/{pid}/{rel}"),
        source: e.into(),
    }
}

/// Keeps `addr + len` inside the address space.
fn clamp_len(addr: u64, len: usize) -> usize {
    let room = u64::MAX - addr;
    len.min(usize::try_from(room).unwrap_or(usize::MAX))
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

/// The readable stretches of many requests, merged into as few remote
/// ranges as possible.
#[derive(Default)]
struct Plan {
    /// Merged as pieces arrive while they come in address order; sorted and
    /// merged at the end otherwise.
    spans: Vec<RemoteRange>,
    unsorted: bool,
    /// The readable region the last range fell in: watches cluster, so most
    /// ranges need no search of the maps.
    last_region: Option<(u64, u64)>,
}

impl Plan {
    /// Adds `[addr, addr + len)`: readable parts become pieces, the rest gaps.
    fn add(&mut self, maps: &Maps, addr: u64, len: u64, gaps: &mut Vec<Gap>) {
        let end = addr + len;
        if let Some((start, stop)) = self.last_region
            && start <= addr
            && end <= stop
        {
            self.push(RemoteRange {
                addr,
                len: len as usize,
            });
            return;
        }
        let mut at = addr;
        for region in maps.overlapping(addr, len) {
            if region.start > at {
                gaps.push(Gap {
                    addr: at,
                    len: region.start - at,
                    why: Unread::Unmapped,
                });
                at = region.start;
            }
            let stop = region.end.min(end);
            if region.is_readable() {
                self.last_region = Some((region.start, region.end));
                self.push(RemoteRange {
                    addr: at,
                    len: (stop - at) as usize,
                });
            } else {
                gaps.push(Gap {
                    addr: at,
                    len: stop - at,
                    why: Unread::Protected,
                });
            }
            at = stop;
        }
        if at < end {
            gaps.push(Gap {
                addr: at,
                len: end - at,
                why: Unread::Unmapped,
            });
        }
    }

    fn push(&mut self, piece: RemoteRange) {
        if piece.len == 0 {
            return;
        }
        match self.spans.last_mut() {
            Some(last) if piece.addr >= last.addr => {
                if !merge_into(last, &piece) {
                    self.spans.push(piece);
                }
            }
            Some(_) => {
                self.unsorted = true;
                self.spans.push(piece);
            }
            None => self.spans.push(piece),
        }
    }

    /// Sorted, disjoint remote ranges covering every piece. Pieces merge when
    /// they overlap or when the bytes between them lie on pages read anyway,
    /// so merging never touches a page no request asked for.
    fn spans(self) -> Vec<RemoteRange> {
        if !self.unsorted {
            return self.spans;
        }
        let mut pieces = self.spans;
        pieces.sort_by_key(|p| p.addr);
        let mut spans: Vec<RemoteRange> = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let merged = spans
                .last_mut()
                .is_some_and(|last| merge_into(last, &piece));
            if !merged {
                spans.push(piece);
            }
        }
        spans
    }
}

/// Extends `last` over `piece` (which starts at or after it) when no new
/// page would be read in between; false when they must stay apart.
fn merge_into(last: &mut RemoteRange, piece: &RemoteRange) -> bool {
    let last_end = last.addr + last.len as u64;
    // Touching or overlapping ranges (the common case for adjacent watches)
    // merge without asking which pages lie between.
    if piece.addr > last_end {
        let page = sys::page_size();
        if piece.addr / page > (last_end - 1) / page + 1 {
            return false;
        }
    }
    let end = last_end.max(piece.addr + piece.len as u64);
    last.len = (end - last.addr) as usize;
    true
}

/// The spans read in one batch, with where each landed in the buffer.
struct SpanData<'a> {
    spans: &'a [RemoteRange],
    offsets: &'a [usize],
    /// Bytes of the spans that were not read, sorted by address.
    gaps: &'a [Gap],
}

impl SpanData<'_> {
    /// Where `[addr, addr + len)` lies in the buffer when one span holds all
    /// of it and none of it is a gap: `(span index, buffer offset)`. Ranges
    /// usually come in address order, so the span of the previous range
    /// (`hint`) is tried before a search.
    fn whole(&self, addr: u64, len: usize, hint: usize) -> Option<(usize, usize)> {
        let end = addr + len as u64;
        let holds = |s: &RemoteRange| s.addr <= addr && end <= s.addr + s.len as u64;
        let k = match self.spans.get(hint) {
            Some(s) if holds(s) => hint,
            _ => {
                let k = self
                    .spans
                    .partition_point(|s| s.addr + s.len as u64 <= addr);
                if !self.spans.get(k).is_some_and(holds) {
                    return None;
                }
                k
            }
        };
        if !self.gaps.is_empty() {
            let g = self.gaps.partition_point(|g| g.end() <= addr);
            if self.gaps.get(g).is_some_and(|g| g.addr < end) {
                return None;
            }
        }
        Some((k, self.offsets[k] + (addr - self.spans[k].addr) as usize))
    }

    /// Copies the bytes of `[addr, addr + data.len())` out of the spans in
    /// `buffer` and adds the gaps that fall inside it to `gaps`, leaving them
    /// sorted.
    fn fill(&self, buffer: &[u8], addr: u64, data: &mut [u8], gaps: &mut Vec<Gap>) {
        let end = addr + data.len() as u64;
        let first = self
            .spans
            .partition_point(|s| s.addr + s.len as u64 <= addr);
        for (span, &off) in self.spans[first..].iter().zip(&self.offsets[first..]) {
            if span.addr >= end {
                break;
            }
            let from = span.addr.max(addr);
            let to = (span.addr + span.len as u64).min(end);
            let src = off + (from - span.addr) as usize;
            let dst = (from - addr) as usize;
            let n = (to - from) as usize;
            data[dst..dst + n].copy_from_slice(&buffer[src..src + n]);
        }
        let first = self.gaps.partition_point(|g| g.end() <= addr);
        for gap in &self.gaps[first..] {
            if gap.addr >= end {
                break;
            }
            let from = gap.addr.max(addr);
            let to = gap.end().min(end);
            gaps.push(Gap {
                addr: from,
                len: to - from,
                why: gap.why,
            });
            data[(from - addr) as usize..(to - addr) as usize].fill(0);
        }
        if gaps.len() > 1 {
            gaps.sort_by_key(|g| g.addr);
            merge_gaps_in_place(gaps);
        }
    }
}

/// Joins touching gaps with the same reason; `gaps` is sorted.
fn merge_gaps_in_place(gaps: &mut Vec<Gap>) {
    gaps.dedup_by(|next, last| {
        let touches = last.end() == next.addr && last.why == next.why;
        if touches {
            last.len += next.len;
        }
        touches
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Maps {
        Maps::parse(
            "1000-3000 rw-p 00000000 00:00 0\n\
             3000-4000 ---p 00000000 00:00 0\n\
             5000-9000 r--p 00000000 00:00 0\n",
            "test",
        )
        .expect("maps")
    }

    fn range(addr: u64, len: usize) -> RemoteRange {
        RemoteRange { addr, len }
    }

    fn gap(addr: u64, len: u64, why: Unread) -> Gap {
        Gap { addr, len, why }
    }

    #[test]
    fn plan_marks_unmapped_and_protected_bytes() {
        let mut plan = Plan::default();
        let mut gaps = Vec::new();
        plan.add(&maps(), 0x2ff0, 0x2020, &mut gaps);
        assert_eq!(
            gaps,
            vec![
                gap(0x3000, 0x1000, Unread::Protected),
                gap(0x4000, 0x1000, Unread::Unmapped),
            ]
        );
        assert_eq!(plan.spans(), vec![range(0x2ff0, 0x10), range(0x5000, 0x10)]);
    }

    #[test]
    fn plan_merges_only_across_pages_already_read() {
        let mut plan = Plan::default();
        let mut gaps = Vec::new();
        for addr in [0x1008, 0x1000, 0x1ff8, 0x2004, 0x5000, 0x7000] {
            plan.add(&maps(), addr, 8, &mut gaps);
        }
        assert!(gaps.is_empty());
        assert_eq!(
            plan.spans(),
            vec![range(0x1000, 0x100c), range(0x5000, 8), range(0x7000, 8)]
        );
    }

    #[test]
    fn fill_copies_overlapping_requests_and_clips_gaps() {
        let spans = [range(0x100, 16)];
        let buffer: Vec<u8> = (0..16).collect();
        let span_gaps = [gap(0x10c, 4, Unread::NotResident)];
        let read = SpanData {
            spans: &spans,
            offsets: &[0],
            gaps: &span_gaps,
        };
        let (mut a, mut a_gaps) = (vec![0; 4], Vec::new());
        let (mut b, mut b_gaps) = (vec![0; 6], Vec::new());
        read.fill(&buffer, 0x104, &mut a, &mut a_gaps);
        read.fill(&buffer, 0x10a, &mut b, &mut b_gaps);
        assert_eq!(read.whole(0x104, 4, 7), Some((0, 4)));
        assert_eq!(read.whole(0x10a, 4, 0), None, "touches the gap");
        assert_eq!(read.whole(0x0fc, 8, 0), None, "starts before the span");
        assert_eq!((a, a_gaps), (vec![4u8, 5, 6, 7], vec![]));
        assert_eq!(b, vec![10, 11, 0, 0, 0, 0]);
        assert_eq!(b_gaps, vec![gap(0x10c, 4, Unread::NotResident)]);
    }

    #[test]
    fn touching_gaps_with_one_reason_merge() {
        let mut gaps = vec![
            gap(0x1000, 0x10, Unread::Unmapped),
            gap(0x1010, 0x10, Unread::Unmapped),
            gap(0x1020, 0x10, Unread::Protected),
        ];
        merge_gaps_in_place(&mut gaps);
        assert_eq!(
            gaps,
            vec![
                gap(0x1000, 0x20, Unread::Unmapped),
                gap(0x1020, 0x10, Unread::Protected)
            ]
        );
    }
}

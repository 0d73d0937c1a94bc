//! The raw kernel interface: the only module of the crate with `unsafe` code.
//!
//! libc and nix call `process_vm_readv(2)` and `process_vm_writev(2)` with a
//! `flags` argument of 0. The proposed kernel patch gives that argument two
//! flags, defined below, so the calls are made here through `syscall(2)`.
//! Every other part of pvtui reaches the kernel through these wrappers or
//! through safe crates.
#![allow(unsafe_code)]

pub mod file;

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The first argument of `process_vm_readv/writev` is a pidfd, not a pid.
///
/// From the proposed `include/uapi/linux/process_vm.h`: `#define PROCESS_VM_PIDFD (1UL << 0)`.
pub const PROCESS_VM_PIDFD: u64 = 1 << 0;

/// Do not block on IO when the access faults a page in; the call comes back
/// short (or with `EFAULT` when nothing was copied) instead.
///
/// From the proposed `include/uapi/linux/process_vm.h`: `#define PROCESS_VM_NOWAIT (1UL << 1)`.
pub const PROCESS_VM_NOWAIT: u64 = 1 << 1;

/// The most iovecs one `process_vm_readv/writev` call takes (`UIO_MAXIOV`).
pub const IOV_MAX: usize = 1024;

/// One range of the remote process's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteRange {
    pub addr: u64,
    pub len: usize,
}

/// `int pidfd_open(pid_t pid, unsigned int flags)`: a file descriptor that
/// refers to the process `pid` and stays bound to it even after the pid is
/// reused. See pidfd_open(2).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this descriptor to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn to_iovecs(remote: &[RemoteRange]) -> Vec<libc::iovec> {
    remote
        .iter()
        .map(|r| libc::iovec {
            iov_base: r.addr as usize as *mut libc::c_void,
            iov_len: r.len,
        })
        .collect()
}

fn check_counts(local: usize, remote: usize) -> io::Result<()> {
    if local > IOV_MAX || remote > IOV_MAX {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(())
}

fn byte_count(ret: libc::c_long) -> io::Result<usize> {
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    usize::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))
}

/// `ssize_t process_vm_readv(pid_t pid, const struct iovec *local_iov,
/// unsigned long liovcnt, const struct iovec *remote_iov, unsigned long
/// riovcnt, unsigned long flags)`. See process_vm_readv(2).
///
/// `target` is a pid, or a pidfd when `flags` has [`PROCESS_VM_PIDFD`]. The
/// kernel copies the remote ranges in order into the local buffers and stops
/// at the first remote range it cannot read: the count returned may be short.
pub fn process_vm_readv(
    target: i32,
    local: &mut [IoSliceMut<'_>],
    remote: &[RemoteRange],
    flags: u64,
) -> io::Result<usize> {
    check_counts(local.len(), remote.len())?;
    let remote = to_iovecs(remote);
    // SAFETY: `IoSliceMut` is ABI-compatible with `struct iovec` on Unix and
    // each one borrows writable memory of ours for the whole call; the remote
    // iovecs name memory of the other process, which the kernel checks itself.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_process_vm_readv,
            target,
            local.as_mut_ptr().cast::<libc::iovec>(),
            local.len() as libc::c_ulong,
            remote.as_ptr(),
            remote.len() as libc::c_ulong,
            flags as libc::c_ulong,
        )
    };
    byte_count(ret)
}

/// `ssize_t process_vm_writev(pid_t pid, const struct iovec *local_iov,
/// unsigned long liovcnt, const struct iovec *remote_iov, unsigned long
/// riovcnt, unsigned long flags)`. See process_vm_writev(2).
///
/// Unlike a write to `/proc/PID/mem`, this does not force: a read-only page
/// of the target gives `EFAULT`.
pub fn process_vm_writev(
    target: i32,
    local: &[IoSlice<'_>],
    remote: &[RemoteRange],
    flags: u64,
) -> io::Result<usize> {
    check_counts(local.len(), remote.len())?;
    let remote = to_iovecs(remote);
    // SAFETY: `IoSlice` is ABI-compatible with `struct iovec` on Unix and each
    // one borrows readable memory of ours for the whole call; the kernel only
    // reads from them.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_process_vm_writev,
            target,
            local.as_ptr().cast::<libc::iovec>(),
            local.len() as libc::c_ulong,
            remote.as_ptr(),
            remote.len() as libc::c_ulong,
            flags as libc::c_ulong,
        )
    };
    byte_count(ret)
}

/// Whether this kernel accepts `flag` in `process_vm_readv`, probed the way
/// the patch describes: `process_vm_readv(getpid(), NULL, 1, NULL, 1, flag)`
/// gives `EINVAL` where the flag is unknown (flags are checked before the
/// buffers) and `EFAULT` where it is known (the NULL buffers fail).
///
/// For [`PROCESS_VM_PIDFD`] the first argument must then be a pidfd; a pidfd
/// of our own process is opened for the probe.
pub fn process_vm_flag_supported(flag: u64) -> io::Result<bool> {
    let own_pidfd;
    let target = if flag & PROCESS_VM_PIDFD != 0 {
        own_pidfd = pidfd_open(std::process::id() as i32)?;
        std::os::fd::AsRawFd::as_raw_fd(&own_pidfd)
    } else {
        std::process::id() as i32
    };
    // SAFETY: NULL iovec arrays with a count of 1: the kernel either rejects
    // the flags first (EINVAL) or fails to copy the iovec array (EFAULT). It
    // never dereferences anything of ours.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_process_vm_readv,
            target,
            std::ptr::null::<libc::iovec>(),
            1 as libc::c_ulong,
            std::ptr::null::<libc::iovec>(),
            1 as libc::c_ulong,
            flag as libc::c_ulong,
        )
    };
    if ret >= 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EFAULT) => Ok(true),
        Some(libc::EINVAL) => Ok(false),
        _ => Err(err),
    }
}

/// `int userfaultfd(int flags)`: whether this process may create a
/// userfaultfd (root, `vm.unprivileged_userfaultfd`, or `/dev/userfaultfd`).
/// See userfaultfd(2). The descriptor is closed at once.
pub fn userfaultfd_available() -> io::Result<()> {
    // SAFETY: userfaultfd takes one integer of flags and touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC | libc::O_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this descriptor to us; wrapping it closes it on drop.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(())
}

/// How a write helper process reaches the target's memory.
#[derive(Clone, Copy, Debug)]
pub struct HelperTarget {
    /// For `process_vm_readv/writev`: a pid, or a pidfd with [`PROCESS_VM_PIDFD`] in `flags`.
    pub target: i32,
    pub flags: u64,
    /// When set, the write goes by `pwrite` on this `/proc/PID/mem`
    /// descriptor (opened for writing) instead of `process_vm_writev`.
    pub mem: Option<RawFd>,
}

/// The helper's report before the bytes: the before-read count, the write
/// count, the write's errno and the after-read count, as native `i64`s.
pub const HELPER_HEADER: usize = 32;

/// Reads `buf.len()` bytes at `addr` of `to` into `buf`: the count read, or
/// -1. Only a syscall: safe to call in a forked child.
fn raw_read(to: &HelperTarget, addr: u64, buf: &mut [u8]) -> i64 {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: one local iovec over `buf`, writable and ours for the call; the
    // remote iovec names the target's memory, which the kernel checks itself.
    unsafe {
        libc::syscall(
            libc::SYS_process_vm_readv,
            to.target,
            &local as *const libc::iovec,
            1 as libc::c_ulong,
            &remote as *const libc::iovec,
            1 as libc::c_ulong,
            to.flags as libc::c_ulong,
        )
    }
}

fn errno() -> i64 {
    // SAFETY: errno is thread-local and always valid to read.
    i64::from(unsafe { *libc::__errno_location() })
}

/// Writes `bytes` at `addr` of `to`: (count, errno). Only syscalls: safe to
/// call in a forked child.
fn raw_write(to: &HelperTarget, addr: u64, bytes: &[u8]) -> (i64, i64) {
    let Some(mem) = to.mem else {
        let local = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        let remote = libc::iovec {
            iov_base: addr as usize as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        // SAFETY: one local iovec over `bytes`, which the kernel only reads;
        // the remote iovec names the target's memory, checked by the kernel.
        let n = unsafe {
            libc::syscall(
                libc::SYS_process_vm_writev,
                to.target,
                &local as *const libc::iovec,
                1 as libc::c_ulong,
                &remote as *const libc::iovec,
                1 as libc::c_ulong,
                to.flags as libc::c_ulong,
            )
        };
        return if n < 0 { (-1, errno()) } else { (n, 0) };
    };
    let mut done = 0usize;
    while done < bytes.len() {
        let rest = &bytes[done..];
        // SAFETY: `rest` is readable memory of ours for the call; `mem` is a
        // descriptor the caller keeps open until the helper is reaped.
        let n = unsafe {
            libc::pwrite(
                mem,
                rest.as_ptr().cast(),
                rest.len(),
                (addr + done as u64) as libc::off_t,
            )
        };
        match n {
            n if n > 0 => done += n as usize,
            0 => break,
            _ => {
                let e = errno();
                if e == i64::from(libc::EINTR) {
                    continue;
                }
                if done == 0 {
                    return (-1, e);
                }
                break;
            }
        }
    }
    (done as i64, 0)
}

/// Writes all of `bytes` to `fd`, retrying on EINTR. Only syscalls.
fn raw_write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable memory of ours for the call.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
        } else if n < 0 && errno() == i64::from(libc::EINTR) {
            continue;
        } else {
            return;
        }
    }
}

/// What the forked helper does: read the bytes before, write, read them
/// back, report on `report`, exit. It runs in a copy of a multi-threaded
/// process, so it makes only async-signal-safe calls: no allocation, no
/// lock, no unwinding.
fn helper_child(
    to: &HelperTarget,
    addr: u64,
    bytes: &[u8],
    before: &mut [u8],
    after: &mut [u8],
    report: RawFd,
) -> ! {
    let b = raw_read(to, addr, before);
    let (w, e) = raw_write(to, addr, bytes);
    let a = raw_read(to, addr, after);
    let mut header = [0u8; HELPER_HEADER];
    for (i, v) in [b, w, e, a].into_iter().enumerate() {
        header[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
    }
    raw_write_all(report, &header);
    if b == before.len() as i64 {
        raw_write_all(report, before);
    }
    if a == after.len() as i64 {
        raw_write_all(report, after);
    }
    // SAFETY: _exit ends this child at once, running no destructor or
    // atexit handler of the parent's copy.
    unsafe { libc::_exit(0) }
}

/// Starts a write helper with fork(2): a child process that reads the
/// `bytes.len()` bytes at `addr` of `to`, writes `bytes` there, reads them
/// back, reports on a pipe and exits. The report is [`HELPER_HEADER`] bytes
/// (before-read count, write count, write errno, after-read count, each a
/// native `i64`), then the bytes before and the bytes after, each only when
/// read whole. Returns the child's pid and the pipe's read end; the caller
/// kills and reaps it (see `process::helper`).
pub fn spawn_write_helper(to: HelperTarget, addr: u64, bytes: &[u8]) -> io::Result<(i32, OwnedFd)> {
    use std::os::fd::AsRawFd;
    let mut before = vec![0u8; bytes.len()];
    let mut after = vec![0u8; bytes.len()];
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let report = write_end.as_raw_fd();
    // SAFETY: the child calls only `helper_child`, which makes nothing but
    // async-signal-safe syscalls on memory prepared before the fork and then
    // `_exit`s, as fork(2) in a multi-threaded process requires.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        helper_child(&to, addr, bytes, &mut before, &mut after, report);
    }
    drop(write_end);
    Ok((pid, read_end))
}

/// The size of a page, from `sysconf(_SC_PAGESIZE)`, asked once.
pub fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(4096)
    })
}

/// `PERF_TYPE_BREAKPOINT` from `include/uapi/linux/perf_event.h`: a hardware
/// breakpoint (debug register) event.
pub const PERF_TYPE_BREAKPOINT: u32 = 5;
/// `HW_BREAKPOINT_W` from `include/uapi/linux/hw_breakpoint.h`: trap on writes.
pub const HW_BREAKPOINT_W: u32 = 2;
/// `HW_BREAKPOINT_RW` from `include/uapi/linux/hw_breakpoint.h`: trap on reads
/// and writes (x86 has no read-only data breakpoint).
pub const HW_BREAKPOINT_RW: u32 = 3;
/// `PERF_SAMPLE_IP` from `include/uapi/linux/perf_event.h`.
pub const PERF_SAMPLE_IP: u64 = 1 << 0;
/// `PERF_SAMPLE_TID` from `include/uapi/linux/perf_event.h`.
pub const PERF_SAMPLE_TID: u64 = 1 << 1;
/// `PERF_RECORD_LOST` from `include/uapi/linux/perf_event.h`.
const PERF_RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE` from `include/uapi/linux/perf_event.h`.
const PERF_RECORD_SAMPLE: u32 = 9;
/// `PERF_FLAG_FD_CLOEXEC` from `include/uapi/linux/perf_event.h`.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// `perf_event_attr` flag bits (`include/uapi/linux/perf_event.h`), in the
/// order the kernel declares its bit-field: `exclude_kernel` is bit 5,
/// `exclude_hv` bit 6.
const ATTR_EXCLUDE_KERNEL: u64 = 1 << 5;
const ATTR_EXCLUDE_HV: u64 = 1 << 6;
/// `PERF_ATTR_SIZE_VER8`: the size of the structure below.
const PERF_ATTR_SIZE_VER8: u32 = 136;
/// Offset of `data_head` in `struct perf_event_mmap_page` (after 1024 bytes
/// of header fields and padding); `data_tail`, `data_offset` and `data_size`
/// follow it.
const MMAP_DATA_HEAD: usize = 1024;
const MMAP_DATA_TAIL: usize = 1032;
const MMAP_DATA_OFFSET: usize = 1040;
const MMAP_DATA_SIZE: usize = 1048;

/// `struct perf_event_attr` as of `PERF_ATTR_SIZE_VER8`, with the unions
/// named for the members a breakpoint uses.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    bp_addr: u64,
    bp_len: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved_2: u16,
    aux_sample_size: u32,
    reserved_3: u32,
    sig_data: u64,
    config3: u64,
}

/// A data breakpoint to open on one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breakpoint {
    pub addr: u64,
    /// 1, 2, 4 or 8 bytes.
    pub len: u64,
    /// [`HW_BREAKPOINT_W`] or [`HW_BREAKPOINT_RW`].
    pub access: u32,
}

/// One record out of a breakpoint's ring buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerfRecord {
    /// The breakpoint fired: `ip` is where the thread was when the trap was
    /// taken (after the accessing instruction on x86).
    Sample { ip: u64, pid: u32, tid: u32 },
    /// The kernel dropped `count` samples because the buffer was full.
    Lost { count: u64 },
}

/// A breakpoint event on one thread with its mapped ring buffer. The thread
/// is never stopped: the kernel takes the debug trap, writes a sample and
/// lets the thread go on.
#[derive(Debug)]
pub struct PerfBreakpoint {
    fd: OwnedFd,
    map: *mut libc::c_void,
    map_len: usize,
    data_offset: usize,
    data_size: usize,
}

// SAFETY: the mapping is owned by this value alone and only touched through
// `&mut self`; moving it to another thread is as safe as moving the fd.
unsafe impl Send for PerfBreakpoint {}

impl PerfBreakpoint {
    /// `int perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu,
    /// int group_fd, unsigned long flags)` for `bp` on thread `tid`, any CPU,
    /// user space only, one sample per hit (IP and TID), then `mmap(2)` of
    /// `1 + data_pages` pages of ring buffer. See perf_event_open(2).
    /// `data_pages` is rounded up to a power of two.
    pub fn open(tid: i32, bp: Breakpoint, data_pages: usize) -> io::Result<PerfBreakpoint> {
        let attr = PerfEventAttr {
            kind: PERF_TYPE_BREAKPOINT,
            size: PERF_ATTR_SIZE_VER8,
            sample_period: 1,
            sample_type: PERF_SAMPLE_IP | PERF_SAMPLE_TID,
            flags: ATTR_EXCLUDE_KERNEL | ATTR_EXCLUDE_HV,
            wakeup_events: 1,
            bp_type: bp.access,
            bp_addr: bp.addr,
            bp_len: bp.len,
            ..PerfEventAttr::default()
        };
        // SAFETY: `attr` is a fully initialised perf_event_attr whose `size`
        // matches its layout; the kernel only reads it during the call.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const PerfEventAttr,
                tid as libc::pid_t,
                -1 as libc::c_int,
                -1 as libc::c_int,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: the kernel just returned this descriptor to us and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let page = page_size() as usize;
        let map_len = page * (1 + data_pages.max(1).next_power_of_two());
        // SAFETY: a fresh shared mapping of the event's ring buffer; the
        // kernel picks the address, and the length is a whole number of pages.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut event = PerfBreakpoint {
            fd,
            map,
            map_len,
            data_offset: page,
            data_size: map_len - page,
        };
        // Kernels since 4.1 say where the data area is; older ones leave zeros.
        let (offset, size) = (event.header(MMAP_DATA_OFFSET), event.header(MMAP_DATA_SIZE));
        if size != 0
            && offset
                .checked_add(size)
                .is_some_and(|end| end <= map_len as u64)
        {
            event.data_offset = offset as usize;
            event.data_size = size as usize;
        }
        Ok(event)
    }

    /// The descriptor, to `poll(2)` for new samples.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.fd)
    }

    fn header(&self, offset: usize) -> u64 {
        // SAFETY: `offset` is one of the u64 fields of perf_event_mmap_page,
        // inside the first page of our live mapping and 8-byte aligned.
        unsafe { std::ptr::read_volatile(self.map.cast::<u8>().add(offset).cast::<u64>()) }
    }

    /// Reads every record the kernel has written since the last call and
    /// hands the buffer space back to it.
    pub fn drain(&mut self, mut each: impl FnMut(PerfRecord)) {
        use std::sync::atomic::{AtomicU64, Ordering};
        let base = self.map.cast::<u8>();
        // SAFETY: data_head and data_tail are 8-byte aligned u64 fields of the
        // first page of our live mapping; the kernel updates data_head
        // concurrently, which is what the atomic view is for.
        let (head_ref, tail_ref) = unsafe {
            (
                &*base.add(MMAP_DATA_HEAD).cast::<AtomicU64>(),
                &*base.add(MMAP_DATA_TAIL).cast::<AtomicU64>(),
            )
        };
        // Acquire pairs with the kernel's store of data_head after the records.
        let head = head_ref.load(Ordering::Acquire);
        let mut tail = tail_ref.load(Ordering::Relaxed);
        let size = self.data_size as u64;
        let copy = |at: u64, out: &mut [u8]| {
            for (i, byte) in out.iter_mut().enumerate() {
                let pos = (at + i as u64) % size;
                // SAFETY: `pos < data_size`, so the byte lies in the data area
                // of our live mapping, which the kernel does not rewrite
                // between data_tail and data_head.
                *byte =
                    unsafe { std::ptr::read_volatile(base.add(self.data_offset + pos as usize)) };
            }
        };
        while head.wrapping_sub(tail) >= 8 {
            let mut header = [0u8; 8];
            copy(tail, &mut header);
            let kind = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
            let len = u64::from(u16::from_ne_bytes([header[6], header[7]]));
            if len < 8 || head.wrapping_sub(tail) < len {
                break;
            }
            let mut body = vec![0u8; (len - 8) as usize];
            copy(tail + 8, &mut body);
            let word = |i: usize| {
                body.get(i..i + 8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_ne_bytes)
            };
            match kind {
                PERF_RECORD_SAMPLE => {
                    if let (Some(ip), Some(ids)) = (word(0), word(8)) {
                        each(PerfRecord::Sample {
                            ip,
                            pid: ids as u32,
                            tid: (ids >> 32) as u32,
                        });
                    }
                }
                // The lost record is { u64 id; u64 lost; }.
                PERF_RECORD_LOST => {
                    if let Some(count) = word(8) {
                        each(PerfRecord::Lost { count });
                    }
                }
                _ => {}
            }
            tail = tail.wrapping_add(len);
        }
        // Release: our reads of the records happen before the kernel may reuse them.
        tail_ref.store(tail, Ordering::Release);
    }
}

impl Drop for PerfBreakpoint {
    fn drop(&mut self) {
        // SAFETY: the mapping was made in `open` with this address and length
        // and nothing borrows it past `&mut self`.
        unsafe {
            libc::munmap(self.map, self.map_len);
        }
    }
}

/// Maps a whole file read-only (`mmap(2)` through memmap2), so debug info is
/// paged in as it is used instead of being read up front.
pub fn map_file(file: &std::fs::File) -> io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is private and read-only, and its bytes are parsed
    // as untrusted input. Debug files are not rewritten in place by package
    // managers (they are replaced by rename), so the pages do not change under
    // the parser; a file truncated meanwhile would raise SIGBUS, as in gdb.
    unsafe { memmap2::Mmap::map(file) }
}

/// Bytes written front to back while the part already written is read (a
/// section inflated as far as it is needed): a fixed capacity, one writer
/// at a time, and readers that see only the complete prefix, which never
/// moves or changes once written.
pub struct FillBuffer {
    /// A leaked `Box<[u8]>` of `cap` bytes, owned (freed in `Drop`).
    ptr: std::ptr::NonNull<[u8]>,
    cap: usize,
    filled: std::sync::atomic::AtomicUsize,
    writer: std::sync::Mutex<()>,
}

// SAFETY: the buffer is owned memory; readers only read the prefix below
// `filled`, and only the one writer holding `writer` writes above it.
unsafe impl Send for FillBuffer {}
// SAFETY: as above: shared readers and the writer touch disjoint bytes.
unsafe impl Sync for FillBuffer {}

impl FillBuffer {
    /// An empty buffer for `cap` bytes (zeroed lazily by the allocator).
    pub fn new(cap: usize) -> FillBuffer {
        let ptr = std::ptr::NonNull::from(Box::leak(vec![0u8; cap].into_boxed_slice()));
        FillBuffer {
            ptr,
            cap,
            filled: std::sync::atomic::AtomicUsize::new(0),
            writer: std::sync::Mutex::new(()),
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The bytes written so far.
    pub fn filled(&self) -> &[u8] {
        let len = self.filled.load(std::sync::atomic::Ordering::Acquire);
        // SAFETY: `ptr` holds `cap` initialised bytes and `len <= cap`; the
        // prefix below `filled` is never written again, so a shared slice
        // of it may live as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), len) }
    }

    /// Lets `write` fill the front of the unwritten rest and returns how
    /// many bytes it says it wrote (at most the rest's length).
    pub fn fill<E>(&self, write: impl FnOnce(&mut [u8]) -> Result<usize, E>) -> Result<usize, E> {
        let _only_writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let start = self.filled.load(std::sync::atomic::Ordering::Acquire);
        let rest = self.cap - start;
        // SAFETY: `start <= cap`, so the range lies in the buffer; no reader
        // sees bytes at or past `filled`, and the lock makes this the only
        // mutable view of them.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<u8>().add(start), rest)
        };
        let wrote = write(spare)?.min(rest);
        self.filled
            .store(start + wrote, std::sync::atomic::Ordering::Release);
        Ok(wrote)
    }
}

impl Drop for FillBuffer {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::leak` in `new` and is freed once,
        // here; `&mut self` means no slice of the buffer is still alive.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

#[cfg(test)]
mod tests;

//! The raw kernel interface: the only module of the crate with `unsafe` code.
//!
//! libc and nix call `process_vm_readv(2)` and `process_vm_writev(2)` with a
//! `flags` argument of 0. The proposed kernel patch gives that argument two
//! flags, defined below, so the calls are made here through `syscall(2)`.
//! Every other part of pvtui reaches the kernel through these wrappers or
//! through safe crates.
#![allow(unsafe_code)]

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

/// `signal(SIGPIPE, SIG_DFL)`: a command whose output is piped into `head`
/// ends quietly when the reader goes away, as Unix tools do, instead of
/// failing on EPIPE (Rust ignores SIGPIPE by default). See signal(2).
/// Only for commands that print and exit; the UI keeps SIGPIPE ignored.
pub fn exit_quietly_on_broken_pipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_DFL installs no handler of ours, so nothing can run in
    // signal context; it is set before any thread starts.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
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

/// Maps a whole file read-only (`mmap(2)` through memmap2), so debug info is
/// paged in as it is used instead of being read up front.
pub fn map_file(file: &std::fs::File) -> io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is private and read-only, and its bytes are parsed
    // as untrusted input. Debug files are not rewritten in place by package
    // managers (they are replaced by rename), so the pages do not change under
    // the parser; a file truncated meanwhile would raise SIGBUS, as in gdb.
    unsafe { memmap2::Mmap::map(file) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_memory_through_raw_syscall() {
        let source = *b"pvtui raw syscall";
        let mut dest = [0u8; 17];
        let remote = [RemoteRange {
            addr: source.as_ptr() as u64,
            len: source.len(),
        }];
        let n = process_vm_readv(
            std::process::id() as i32,
            &mut [IoSliceMut::new(&mut dest)],
            &remote,
            0,
        )
        .expect("read own memory");
        assert_eq!(n, source.len());
        assert_eq!(dest, source);
    }

    #[test]
    fn unknown_flag_is_reported_unsupported() {
        // Bit 40 is not defined by any kernel, patched or not.
        assert!(!process_vm_flag_supported(1 << 40).expect("probe"));
    }

    #[test]
    fn too_many_iovecs_is_refused_before_the_kernel() {
        let remote = vec![RemoteRange { addr: 0, len: 0 }; IOV_MAX + 1];
        let err = process_vm_readv(std::process::id() as i32, &mut [], &remote, 0)
            .expect_err("more than IOV_MAX");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    }
}

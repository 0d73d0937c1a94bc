//! Writes that may wait, made in a helper process that can be stopped.
//!
//! A thread stuck in the kernel cannot be cancelled, and its write lands
//! whenever the kernel lets it go: after the caller was told it did not. A
//! process can be killed. The helper ([`sys::spawn_write_helper`]) reads the
//! bytes before, writes, reads them back and reports on a pipe; past the
//! deadline it gets SIGKILL (which ends even a wait on a userfaultfd
//! handler) and is reaped before the caller hears anything.

use std::io;

use crate::sys::{self, HELPER_HEADER};

/// What a write in a helper process did.
#[derive(Debug)]
pub enum HelperOutcome {
    /// It finished: the bytes before (when read whole), how many it wrote
    /// (or why none), the bytes after (when read whole).
    Finished {
        before: Option<Vec<u8>>,
        written: io::Result<usize>,
        after: Option<Vec<u8>>,
    },
    /// It missed the deadline, was killed and reaped before it reported:
    /// whatever it did is done, nothing more will land.
    Killed,
    /// It missed the deadline and did not die within another one (a wait
    /// the kernel does not break for SIGKILL): the write may still land.
    Unkillable,
}

/// Writes `bytes` at `addr` of the target from a child process (fork(2))
/// that reads the bytes before, writes, and reads them back. A thread stuck
/// in the kernel cannot be cancelled, and its write would land whenever the
/// kernel lets it go; a process can be killed: past `deadline` the helper
/// gets SIGKILL, which ends even the wait on a userfaultfd handler, and it
/// is reaped before this returns, so nothing lands after the caller has
/// been told it did not.
pub fn write_in_helper(
    to: sys::HelperTarget,
    addr: u64,
    bytes: &[u8],
    deadline: std::time::Duration,
) -> io::Result<HelperOutcome> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::{Signal, kill};
    use nix::sys::wait::{WaitPidFlag, waitpid};
    use nix::unistd::Pid;
    use std::os::fd::AsFd;
    use std::time::Instant;

    let (pid, read_end) = sys::spawn_write_helper(to, addr, bytes)?;
    let child = Pid::from_raw(pid);
    let mut got = Vec::with_capacity(HELPER_HEADER + 2 * bytes.len());
    let started = Instant::now();
    let mut eof = false;
    let drain = |got: &mut Vec<u8>, wait: std::time::Duration| -> io::Result<bool> {
        let mut fds = [PollFd::new(read_end.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(false),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let mut chunk = [0u8; 4096];
        match nix::unistd::read(&read_end, &mut chunk) {
            Ok(0) => Ok(true),
            Ok(n) => {
                got.extend_from_slice(&chunk[..n]);
                Ok(false)
            }
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    };
    while !eof {
        let left = deadline.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        eof = drain(&mut got, left)?;
    }
    if !eof {
        let _ = kill(child, Signal::SIGKILL);
        // Wait (another deadline at most) for it to die; the report may
        // still come whole if it finished just before the signal.
        let pidfd = sys::pidfd_open(pid)?;
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(deadline).unwrap_or(PollTimeout::MAX);
        let died = matches!(poll(&mut fds, timeout), Ok(n) if n > 0);
        if !died {
            // Reaped whenever the kernel lets it go.
            let _ = std::thread::Builder::new()
                .name("pvtui-reap".into())
                .spawn(move || {
                    let _ = waitpid(child, None);
                });
            return Ok(HelperOutcome::Unkillable);
        }
        while !drain(&mut got, std::time::Duration::ZERO)? {
            if got.len() >= HELPER_HEADER + 2 * bytes.len() {
                break;
            }
        }
    }
    let _ = waitpid(child, Some(WaitPidFlag::empty()));
    let Some(header) = got.get(..HELPER_HEADER) else {
        return Ok(HelperOutcome::Killed);
    };
    let field = |i: usize| {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&header[i * 8..i * 8 + 8]);
        i64::from_ne_bytes(raw)
    };
    let (b, w, e, a) = (field(0), field(1), field(2), field(3));
    let len = bytes.len();
    let mut rest = &got[HELPER_HEADER..];
    let mut take = |whole: bool| -> Option<Vec<u8>> {
        if !whole || rest.len() < len {
            return None;
        }
        let (head, tail) = rest.split_at(len);
        rest = tail;
        Some(head.to_vec())
    };
    let before = take(b == len as i64);
    let after = take(a == len as i64);
    let written = if w < 0 {
        Err(io::Error::from_raw_os_error(
            i32::try_from(e).unwrap_or(libc::EIO),
        ))
    } else {
        Ok(w as usize)
    };
    Ok(HelperOutcome::Finished {
        before,
        written,
        after,
    })
}

//! SIGINT and SIGTERM as a descriptor: a long-running command polls it beside
//! its other descriptors and ends cleanly, printing what it found so far.

use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::{Error, Result};

/// Blocks SIGINT and SIGTERM for this thread (and the threads it starts
/// afterwards) and delivers them through a signalfd instead.
#[derive(Debug)]
pub struct StopSignals {
    fd: SignalFd,
}

impl StopSignals {
    /// Call before starting any thread, so no thread takes the signal the
    /// default way.
    pub fn install() -> Result<StopSignals> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        set.add(Signal::SIGTERM);
        set.thread_block().map_err(|e| Error::Kernel {
            call: "pthread_sigmask",
            source: e.into(),
        })?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| Error::Kernel {
                call: "signalfd",
                source: e.into(),
            })?;
        Ok(StopSignals { fd })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The stop signal that arrived, if one did.
    pub fn received(&self) -> Option<Signal> {
        match self.fd.read_signal() {
            Ok(Some(info)) => Signal::try_from(info.ssi_signo as i32).ok(),
            _ => None,
        }
    }
}

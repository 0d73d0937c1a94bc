//! SIGINT and SIGTERM as a descriptor: a long-running command polls it beside
//! its other descriptors and ends cleanly, printing what it found so far.

use std::os::fd::{AsFd, BorrowedFd};
use std::process::ExitCode;

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

/// The exit status of a command ended by `signal`: 128 + its number, as a
/// shell reports a process the signal killed (130 for Ctrl-C, 143 for `kill`).
pub fn exit_code(signal: Signal) -> ExitCode {
    ExitCode::from(exit_status(signal))
}

/// 128 + the signal's number.
pub fn exit_status(signal: Signal) -> u8 {
    128u8.saturating_add(u8::try_from(signal as i32).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_signal_exits_with_128_plus_its_number() {
        assert_eq!(exit_status(Signal::SIGINT), 130);
        assert_eq!(exit_status(Signal::SIGTERM), 143);
        assert_eq!(exit_code(Signal::SIGTERM), ExitCode::from(143));
    }
}

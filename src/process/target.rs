//! Attaching to a target process by pidfd.

use std::fs::File;
use std::os::fd::{BorrowedFd, OwnedFd};

use crate::error::{Error, Result};
use crate::process::maps::Maps;
use crate::process::memory::{Gap, ReadMode, ReadOutcome, WriteReport};

/// Which native kernel paths the accesses use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Pass the pidfd with `PROCESS_VM_PIDFD`; otherwise go by pid and check the pidfd.
    pub pidfd: bool,
    /// Pass `PROCESS_VM_NOWAIT`; otherwise check residency in `/proc/PID/pagemap`.
    pub nowait: bool,
}

/// An attached target process.
pub struct Target {
    pid: i32,
    #[allow(dead_code)]
    pidfd: OwnedFd,
    #[allow(dead_code)]
    mem: File,
    access: Access,
}

impl Target {
    /// Attaches to `pid` with the best access this kernel offers.
    pub fn attach(pid: i32) -> Result<Target> {
        Err(Error::NoSuchProcess { pid })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// Readable once the target has exited: poll it to notice the exit at once.
    pub fn exit_fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.pidfd.as_fd()
    }

    pub fn maps(&self) -> Result<Maps> {
        Err(Error::TargetExited { pid: self.pid })
    }

    /// Reads many ranges in as few syscalls as it can; each range gets its own outcome.
    pub fn read(
        &self,
        _maps: &Maps,
        _ranges: &[(u64, usize)],
        _mode: ReadMode,
    ) -> Result<Vec<ReadOutcome>> {
        Err(Error::TargetExited { pid: self.pid })
    }

    /// Reads one range into `buf`; returns the bytes it could not read.
    pub fn read_into(
        &self,
        _maps: &Maps,
        _addr: u64,
        _buf: &mut [u8],
        _mode: ReadMode,
    ) -> Result<Vec<Gap>> {
        Err(Error::TargetExited { pid: self.pid })
    }

    /// Writes `bytes` at `addr` after checking the mapping is writable, then reads them back.
    pub fn write(&self, _maps: &Maps, _addr: u64, _bytes: &[u8]) -> Result<WriteReport> {
        Err(Error::TargetExited { pid: self.pid })
    }
}

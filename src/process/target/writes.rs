//! Writes that never land late (see [`Target::write_within`]).

use std::os::fd::AsRawFd;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::process::helper::{HelperOutcome, write_in_helper};
use crate::process::maps::Maps;
use crate::process::memory::WriteReport;
use crate::process::residency::{Residency, WriteRisk};
use crate::process::target::Target;
use crate::sys;

impl Target {
    /// Writes `bytes` at `addr` and reads them back, never letting the write
    /// land after `deadline`.
    ///
    /// A write that cannot wait (every page present, no userfaultfd) is made
    /// here. One that could wait on a userfaultfd handler for a missing page
    /// is refused. Any other that could wait (IO, a userfaultfd region where
    /// a page may go missing) runs in a helper process that is killed at the
    /// deadline and reaped before this returns: a thread stuck in the kernel
    /// cannot be stopped and would land its write whenever it was let go.
    pub fn write_within(
        &self,
        maps: &Maps,
        addr: u64,
        bytes: &[u8],
        deadline: Duration,
    ) -> Result<WriteReport> {
        self.check_writable(maps, addr, bytes.len() as u64)?;
        match self.write_risk(maps, addr, bytes.len()) {
            WriteRisk::None => self.write_checked(maps, addr, bytes),
            WriteRisk::Userfault { addr: page } => Err(Error::WriteRefused {
                addr,
                len: bytes.len() as u64,
                why: format!(
                    "the page at {page:#x} is not present and a userfaultfd handler serves it: \
                     the write would wait on that handler"
                ),
            }),
            WriteRisk::MayBlock => self.write_in_helper(addr, bytes, deadline),
        }
    }

    fn write_risk(&self, maps: &Maps, addr: u64, len: usize) -> WriteRisk {
        let mut guard = self
            .residency
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            match self.open_proc("pagemap") {
                Ok(file) => *guard = Some(Residency::new(file, self.proc_opener())),
                // Nothing can be checked: assume the write could wait.
                Err(_) => return WriteRisk::MayBlock,
            }
        }
        match guard.as_mut() {
            Some(residency) => residency
                .write_risk(maps, addr, len)
                .unwrap_or(WriteRisk::MayBlock),
            None => WriteRisk::MayBlock,
        }
    }

    /// The write, the bytes before and the read-back, in a helper process
    /// killed at `deadline`.
    fn write_in_helper(&self, addr: u64, bytes: &[u8], deadline: Duration) -> Result<WriteReport> {
        let (target, flags) = self.vm_target();
        let mem = if self.access.pidfd {
            None
        } else if self.mem_writable {
            Some(self.mem.as_raw_fd())
        } else {
            return Err(Error::PermissionDenied {
                pid: self.pid,
                why: "/proc/PID/mem could only be opened read-only".into(),
            });
        };
        let to = sys::HelperTarget { target, flags, mem };
        let outcome =
            write_in_helper(to, addr, bytes, deadline).map_err(|source| Error::Kernel {
                call: "fork (write helper)",
                source,
            })?;
        let stalled = |how: &str| Error::Stalled {
            what: format!("write of {} bytes at {addr:#x} ({how})", bytes.len()),
            millis: deadline.as_millis(),
        };
        let (before, written, after) = match outcome {
            HelperOutcome::Finished {
                before,
                written,
                after,
            } => (before, written, after),
            HelperOutcome::Killed => {
                return Err(stalled(
                    "stopped: its helper was killed, nothing more will land",
                ));
            }
            HelperOutcome::Unkillable => {
                return Err(stalled(
                    "its helper could not be killed yet: the write may still land",
                ));
            }
        };
        // By pid, the pid may name another process by now: nothing it saw counts.
        if !self.access.pidfd && !self.is_alive() {
            return Err(self.exited());
        }
        let written = match written {
            Ok(n) => n,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EFAULT | libc::EIO)) => 0,
            Err(e) => return Err(self.vm_error(e, "process_vm_writev (write helper)")),
        };
        Ok(WriteReport {
            addr,
            before: before.unwrap_or_default(),
            requested: bytes.to_vec(),
            written,
            after: after.unwrap_or_default(),
        })
    }
}

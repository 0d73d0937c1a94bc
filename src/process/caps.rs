//! What this kernel supports, probed once per process.

use std::sync::OnceLock;

use serde::Serialize;

use crate::sys;

/// The kernel features pvtui looks for, and what it does about each.
#[derive(Clone, Debug, Serialize)]
pub struct Capabilities {
    /// `pidfd_open(2)` works (Linux 5.3+): required.
    pub pidfd_open: bool,
    /// `process_vm_readv/writev` themselves work (not blocked by seccomp, built with CROSS_MEMORY_ATTACH).
    pub process_vm_readv: bool,
    /// The kernel accepts `PROCESS_VM_PIDFD`.
    pub process_vm_pidfd: bool,
    /// The kernel accepts `PROCESS_VM_NOWAIT`.
    pub process_vm_nowait: bool,
    /// `/proc/self/pagemap` is readable, so residency can be checked without the flag.
    pub pagemap: bool,
    /// This process may create a userfaultfd (only the tests and probes use one).
    pub userfaultfd: bool,
    /// Why the userfaultfd could not be created, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userfaultfd_error: Option<String>,
}

impl Capabilities {
    fn probe() -> Capabilities {
        let flag = |f| sys::process_vm_flag_supported(f).unwrap_or(false);
        let uffd = sys::userfaultfd_available();
        Capabilities {
            pidfd_open: sys::pidfd_open(std::process::id() as i32).is_ok(),
            process_vm_readv: sys::process_vm_flag_supported(0).is_ok_and(|ok| ok),
            process_vm_pidfd: flag(sys::PROCESS_VM_PIDFD),
            process_vm_nowait: flag(sys::PROCESS_VM_NOWAIT),
            pagemap: std::fs::File::open("/proc/self/pagemap").is_ok(),
            userfaultfd: uffd.is_ok(),
            userfaultfd_error: uffd.err().map(|e| e.to_string()),
        }
    }
}

/// The capabilities of the running kernel, probed on first use.
pub fn capabilities() -> &'static Capabilities {
    static CAPS: OnceLock<Capabilities> = OnceLock::new();
    CAPS.get_or_init(Capabilities::probe)
}

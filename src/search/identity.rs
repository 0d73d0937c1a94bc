//! Which process a saved scan was taken of, beyond its pid: a pid is reused
//! once its process is reaped, and narrowing a stranger's memory with an old
//! scan's addresses would report nonsense as found.
//!
//! A process is the same one when the boot, its start time (field 22 of
//! `/proc/PID/stat`, in clock ticks since boot) and its executable (device
//! and inode of `/proc/PID/exe`) all match; `exec` keeps the start time but
//! changes the executable.

use std::os::unix::fs::MetadataExt;

/// What identifies a process across pid reuse; zero where it is unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`) as 16 bytes.
    pub boot_id: [u8; 16],
    /// Clock ticks after boot when the process started.
    pub start_time: u64,
    pub exe_dev: u64,
    pub exe_ino: u64,
}

impl ProcessIdentity {
    /// The identity of `pid` now; `None` when `/proc` does not say (the
    /// process is gone). An executable that cannot be looked at stays 0.
    pub fn of(pid: i32) -> Option<ProcessIdentity> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let start_time = start_time(&stat)?;
        let (exe_dev, exe_ino) = std::fs::metadata(format!("/proc/{pid}/exe"))
            .map(|m| (m.dev(), m.ino()))
            .unwrap_or((0, 0));
        Some(ProcessIdentity {
            boot_id: boot_id().unwrap_or_default(),
            start_time,
            exe_dev,
            exe_ino,
        })
    }

    /// Whether nothing is known (a scan of an in-memory source).
    pub fn is_unknown(&self) -> bool {
        *self == ProcessIdentity::default()
    }

    /// Why `now` is not the process this identity was taken of, if it is not.
    pub fn mismatch(&self, now: &ProcessIdentity) -> Option<&'static str> {
        if self.is_unknown() {
            return None;
        }
        if self.boot_id != now.boot_id {
            Some("the machine has restarted since")
        } else if self.start_time != now.start_time {
            Some("the pid now belongs to a different process")
        } else if (self.exe_dev, self.exe_ino) != (now.exe_dev, now.exe_ino) {
            Some("the process has run a different program (exec) since")
        } else {
            None
        }
    }

    /// Packed for a scan file: boot id, start time, exe device, exe inode.
    pub(crate) fn to_bytes(self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..16].copy_from_slice(&self.boot_id);
        out[16..24].copy_from_slice(&self.start_time.to_le_bytes());
        out[24..32].copy_from_slice(&self.exe_dev.to_le_bytes());
        out[32..].copy_from_slice(&self.exe_ino.to_le_bytes());
        out
    }

    pub(crate) fn from_bytes(b: &[u8; 40]) -> ProcessIdentity {
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let mut boot_id = [0u8; 16];
        boot_id.copy_from_slice(&b[..16]);
        ProcessIdentity {
            boot_id,
            start_time: u64_at(16),
            exe_dev: u64_at(24),
            exe_ino: u64_at(32),
        }
    }
}

/// Field 22 of `/proc/PID/stat`. The comm (field 2) may hold spaces and
/// parentheses, so fields are counted after its last ')'.
fn start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the comm come field 3 (state) onwards: field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn boot_id() -> Option<[u8; 16]> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let hex: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks_exact(2).take(16).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_counted_after_a_comm_with_spaces_and_parens() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(start_time(stat), Some(98765));
        assert_eq!(start_time("42 (x"), None);
    }

    #[test]
    fn this_process_is_itself_and_a_changed_field_is_named() {
        let me = ProcessIdentity::of(std::process::id() as i32).expect("own identity");
        assert!(me.start_time > 0 && me.exe_ino > 0);
        assert_eq!(me.mismatch(&me), None);
        assert_eq!(ProcessIdentity::from_bytes(&me.to_bytes()), me);
        let later = ProcessIdentity {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(
            me.mismatch(&later)
                .is_some_and(|w| w.contains("different process"))
        );
        let exec = ProcessIdentity { exe_ino: 1, ..me };
        assert!(me.mismatch(&exec).is_some_and(|w| w.contains("exec")));
    }
}

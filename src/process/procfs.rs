//! Everything pvtui reads from `/proc`: a process's status and
//! capabilities, `smaps` (resident bytes and userfaultfd flags per region),
//! and the directory handle every later `/proc/PID/<file>` is opened through.
//!
//! `/proc/PID/maps` is parsed by [`crate::process::Maps`], the type it fills.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};

/// `CAP_SYS_PTRACE` from `include/uapi/linux/capability.h`.
const CAP_SYS_PTRACE: u32 = 19;

/// `PF_KTHREAD` in the flags field of `/proc/PID/stat`.
const PF_KTHREAD: u64 = 0x0020_0000;

/// Opens a path relative to one process's `/proc/PID/` directory.
pub type ProcOpener = Arc<dyn Fn(&str) -> Result<File> + Send + Sync>;

/// What `/proc/PID/status` says about a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStatus {
    pub name: String,
    pub state: char,
    pub tgid: i32,
    pub uid: u32,
}

/// Reads `/proc/PID/status`.
pub fn read_status(pid: i32) -> Result<ProcStatus> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT | libc::ESRCH) => Error::NoSuchProcess { pid },
        _ => Error::Proc {
            path: path.clone(),
            source: e,
        },
    })?;
    parse_status(&text, &path)
}

fn parse_status(text: &str, path: &str) -> Result<ProcStatus> {
    let field = |key: &str| status_field(text, key).unwrap_or("");
    let bad = |line: &str| Error::ProcFormat {
        path: path.to_string(),
        line: 0,
        text: line.to_string(),
    };
    Ok(ProcStatus {
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

fn status_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
}

/// Whether `/proc/PID/stat` marks `pid` as a kernel thread.
pub fn is_kernel_thread(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat_is_kernel_thread(&stat))
}

fn stat_is_kernel_thread(stat: &str) -> bool {
    // The name in parentheses may hold spaces; fields resume after the last ')'.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name
        .split_whitespace()
        .nth(6)
        .and_then(|f| f.parse::<u64>().ok())
        .is_some_and(|flags| flags & PF_KTHREAD != 0)
}

/// A capability set (`CapEff:`, `CapPrm:`) from `/proc/<who>/status`;
/// `who` is a pid or `self`.
pub fn caps_of(who: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{who}/status")).ok()?;
    parse_caps(&status, field)
}

fn parse_caps(status: &str, field: &str) -> Option<u64> {
    u64::from_str_radix(status_field(status, field)?, 16).ok()
}

/// Why we may not access a process owned by `target_uid`: the facts a user
/// needs to fix it.
pub fn explain_permission(target_uid: u32, target_caps: Option<u64>) -> String {
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

/// One region of `/proc/PID/smaps`, with the fields pvtui uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmapsRegion {
    pub start: u64,
    pub end: u64,
    /// Resident bytes (`Rss:`), when the line was there.
    pub rss: Option<u64>,
    /// Registered with userfaultfd in missing mode (`um` in `VmFlags:`).
    pub uffd_missing: bool,
}

/// The regions of a `/proc/PID/smaps` text, in order.
pub fn parse_smaps(text: &str) -> Vec<SmapsRegion> {
    let mut regions: Vec<SmapsRegion> = Vec::new();
    for line in text.lines() {
        if let Some(kb) = line.strip_prefix("Rss:") {
            if let (Some(last), Ok(kb)) = (
                regions.last_mut(),
                kb.trim().trim_end_matches("kB").trim().parse::<u64>(),
            ) {
                last.rss = Some(kb.saturating_mul(1024));
            }
        } else if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(last) = regions.last_mut() {
                last.uffd_missing = flags.split_whitespace().any(|f| f == "um");
            }
        } else if let Some((range, _)) = line.split_once(' ')
            && let Some((s, e)) = range.split_once('-')
            && let (Ok(start), Ok(end)) = (u64::from_str_radix(s, 16), u64::from_str_radix(e, 16))
        {
            regions.push(SmapsRegion {
                start,
                end,
                ..SmapsRegion::default()
            });
        }
    }
    regions
}

/// Reads and parses `smaps` through `opener`.
pub fn read_smaps(opener: &ProcOpener) -> Result<Vec<SmapsRegion>> {
    let mut text = String::new();
    opener("smaps")?
        .read_to_string(&mut text)
        .map_err(|source| Error::Proc {
            path: "/proc/PID/smaps".into(),
            source,
        })?;
    Ok(parse_smaps(&text))
}

/// A process's `/proc/PID` directory and pidfd, opened at attach: files
/// opened through it are that process's even after the pid is reused.
#[derive(Debug)]
pub struct ProcDir {
    pid: i32,
    pidfd: OwnedFd,
    dir: OwnedFd,
}

impl ProcDir {
    /// Opens `/proc/PID` beside an already open pidfd of the same pid. The
    /// caller checks liveness through the pidfd afterwards: only then is the
    /// directory provably the pidfd's process.
    pub fn open(pid: i32, pidfd: OwnedFd) -> Result<ProcDir> {
        let dir = open(
            format!("/proc/{pid}").as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::Proc {
            path: format!("/proc/{pid}"),
            source: e.into(),
        })?;
        Ok(ProcDir { pid, pidfd, dir })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn pidfd(&self) -> BorrowedFd<'_> {
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

    /// Opens `/proc/PID/<rel>` with `flags` (read-only unless asked).
    pub fn open_at(&self, rel: &str, flags: OFlag) -> std::result::Result<OwnedFd, Errno> {
        openat(&self.dir, rel, flags | OFlag::O_CLOEXEC, Mode::empty())
    }

    /// Opens `/proc/PID/<rel>` for reading. Non-blocking: `rel` may lead
    /// into the target's root (`root/...`), where the target can put a FIFO.
    pub fn open_file(&self, rel: &str) -> Result<File> {
        self.open_at(rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
            .map(File::from)
            .map_err(|e| match e {
                Errno::ESRCH => self.exited(),
                Errno::ENOENT if !self.is_alive() => self.exited(),
                e => open_error(self.pid, rel, e),
            })
    }

    /// The error for a failed read of `/proc/PID/<rel>`: the exit when that
    /// is the cause.
    pub fn read_error(&self, rel: &str, e: std::io::Error) -> Error {
        if e.raw_os_error() == Some(libc::ESRCH) || !self.is_alive() {
            self.exited()
        } else {
            Error::Proc {
                path: format!("/proc/{}/{rel}", self.pid),
                source: e,
            }
        }
    }

    /// Reads `/proc/PID/<rel>` whole as text.
    pub fn read_text(&self, rel: &str) -> Result<String> {
        let mut text = String::new();
        self.open_file(rel)?
            .read_to_string(&mut text)
            .map_err(|e| self.read_error(rel, e))?;
        Ok(text)
    }

    /// An opener of this directory's files that can outlive a borrow of it.
    pub fn opener(self: &Arc<Self>) -> ProcOpener {
        let dir = Arc::clone(self);
        Arc::new(move |rel: &str| dir.open_file(rel))
    }
}

/// Opens the file an object is mapped from, as the target maps it: through
/// `map_files/` (the mapped file itself; needs CAP_SYS_ADMIN), else through
/// the target's `exe` link (a deleted executable) or its root. A path in
/// the root is the target's to change (a mount over it, a FIFO), so a file
/// opened there is used only when its device and inode are those `maps`
/// lists for the mapping. The error says what each try met.
pub fn open_mapped(
    opener: &ProcOpener,
    regions: &[crate::process::Region],
    is_main: bool,
) -> std::result::Result<File, String> {
    let Some(first) = regions.first() else {
        return Err("no mapping".into());
    };
    let mut tries = vec![format!("map_files/{:x}-{:x}", first.start, first.end)];
    if !regions.iter().any(|r| r.deleted) {
        tries.push(format!("root{}", first.path));
    } else if is_main {
        tries.push("exe".to_string());
    }
    let mut errors = Vec::new();
    for rel in &tries {
        let checked = opener(rel).map_err(|e| e.to_string()).and_then(|file| {
            let meta = file
                .metadata()
                .map_err(|e| format!("/proc/PID/{rel}: {e}"))?;
            // map_files/ and exe are the mapped file itself, resolved by the
            // kernel; a path under root/ may name another file since.
            let by_path = rel.starts_with("root");
            if !meta.is_file() {
                Err(format!("{}: not a regular file", first.path))
            } else if by_path && !first.is_file_of(&meta) && !same_btrfs_inode(&file, &meta, first)
            {
                Err(format!(
                    "{}: not the mapped file (device or inode differ from the mapping's)",
                    first.path
                ))
            } else {
                Ok(file)
            }
        });
        match checked {
            Ok(file) => return Ok(file),
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("; "))
}

/// Whether `file` is `region`'s file on btrfs, whose `stat` gives each
/// subvolume its own device number while `maps` prints the superblock's:
/// there only the inode can be compared.
fn same_btrfs_inode(
    file: &File,
    meta: &std::fs::Metadata,
    region: &crate::process::Region,
) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    meta.ino() == region.inode
        && nix::sys::statfs::fstatfs(file)
            .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::BTRFS_SUPER_MAGIC)
}

pub fn open_error(pid: i32, rel: &str, e: Errno) -> Error {
    Error::Proc {
        path: format!("/proc/{pid}/{rel}"),
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_and_caps() {
        let text = "Name:\tmy game\nState:\tS (sleeping)\nTgid:\t42\nUid:\t1000\t1001\t1000\t1000\nCapEff:\t0000000000080000\n";
        let status = parse_status(text, "status").expect("parses");
        assert_eq!(
            status,
            ProcStatus {
                name: "my game".into(),
                state: 'S',
                tgid: 42,
                uid: 1001,
            }
        );
        assert_eq!(parse_caps(text, "CapEff:"), Some(1 << CAP_SYS_PTRACE));
        assert!(parse_status("Name:\tx\n", "status").is_err());
    }

    #[test]
    fn kernel_threads_by_stat_flags() {
        assert!(stat_is_kernel_thread(
            "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0"
        ));
        assert!(!stat_is_kernel_thread("7 (a) b) S 1 7 7 0 -1 4194560 0"));
    }

    #[test]
    fn smaps_rss_and_userfaultfd_per_region() {
        let text = "\
55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234 /usr/bin/app
Size:                  8 kB
Rss:                   4 kB
VmFlags: rd mr mw me
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
Size:                132 kB
Rss:                  12 kB
VmFlags: rd wr mr mw me ac um
";
        let regions = parse_smaps(text);
        assert_eq!(regions.len(), 2);
        assert_eq!(regions[0].start, 0x55d0c0a00000);
        assert_eq!(regions[0].rss, Some(4096));
        assert!(!regions[0].uffd_missing);
        assert_eq!(
            (regions[1].end, regions[1].rss, regions[1].uffd_missing),
            (0x7ffd00021000, Some(12 * 1024), true)
        );
    }

    /// This process's own executable mapping, and an opener of its
    /// `/proc/self/` files that is refused `map_files/` (as without
    /// CAP_SYS_ADMIN), so the path in the root is what is tried.
    fn own_exe() -> (ProcOpener, crate::process::Region) {
        let text = std::fs::read_to_string("/proc/self/maps").expect("own maps");
        let maps = crate::process::Maps::parse(&text, "/proc/self/maps").expect("maps");
        let exe = std::fs::read_link("/proc/self/exe").expect("exe");
        let region = maps
            .iter()
            .find(|r| std::path::Path::new(&r.path) == exe)
            .expect("the executable is mapped")
            .clone();
        let opener: ProcOpener = Arc::new(|rel: &str| {
            let path = format!("/proc/self/{rel}");
            if rel.starts_with("map_files/") {
                return Err(Error::Proc {
                    path,
                    source: std::io::Error::from_raw_os_error(libc::EPERM),
                });
            }
            File::open(&path).map_err(|source| Error::Proc { path, source })
        });
        (opener, region)
    }

    #[test]
    fn a_mapped_file_is_opened_only_when_it_is_the_mapped_inode() {
        let (opener, region) = own_exe();
        let file = open_mapped(&opener, std::slice::from_ref(&region), true).expect("own exe");
        assert!(region.is_file_of(&file.metadata().expect("stat")));

        // Another file at the path (a mount over it, a replaced file).
        let mut moved = region.clone();
        moved.inode += 1;
        let err = open_mapped(&opener, &[moved], true).expect_err("another inode");
        assert!(err.contains("not the mapped file"), "{err}");
        let mut moved = region.clone();
        moved.dev = "ff:ff".into();
        let err = open_mapped(&opener, &[moved], true).expect_err("another device");
        assert!(err.contains("not the mapped file"), "{err}");
    }
}

//! The shared-memory map: which processes map which object (a file, a
//! `/dev/shm` object, a SysV segment, a memfd, a shared anonymous region),
//! where, how, and whether a private mapping's pages still show the object.
//!
//! ```no_run
//! use pvtui::shared::{self, Options, Selection};
//! let report = shared::collect(&Selection::Pids(vec![1234, 1235]), &Options::default())?;
//! for object in &report.objects {
//!     println!("{} mapped by {} processes", object.name, object.processes());
//! }
//! # Ok::<(), pvtui::Error>(())
//! ```

pub mod object;
pub mod pages;
pub mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::{Error, Result};
use crate::process::Perms;
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::sys;

pub use object::{ObjectKey, SysvSegment, escape};
pub use pages::{Divergence, Method, PageData};

/// The processes to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// These pids; any that cannot be inspected is an error.
    Pids(Vec<i32>),
    /// Every process of this name; those that cannot be inspected are skipped.
    Named(String),
    /// Every process; those that cannot be inspected are skipped.
    All,
}

/// How a private mapping's pages are compared with the object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compare {
    /// pagemap (with page frames as root); bytes where pagemap is unreadable.
    #[default]
    Auto,
    /// Always bytes, read without blocking.
    Bytes,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Show every object mapped, libraries and executables included. By
    /// default only shared memory is shown: objects some process maps
    /// `MAP_SHARED`, and in-memory objects (`/dev/shm`, memfd, SysV).
    pub every_object: bool,
    pub compare: Compare,
}

/// One process's mapping of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub pid: i32,
    /// As the process named itself: escape before printing.
    pub comm: String,
    pub start: u64,
    pub end: u64,
    pub perms: Perms,
    /// The object offset mapped at `start`.
    pub offset: u64,
    /// Resident bytes, where the pages were looked at.
    pub resident: Option<u64>,
    /// For a private mapping whose pages were looked at: its own copies.
    pub divergence: Option<Divergence>,
}

impl Mapping {
    /// `MAP_SHARED` (an `s` in the maps permissions), else private.
    pub fn is_shared(&self) -> bool {
        self.perms.shared
    }
}

#[cfg(test)]
impl Mapping {
    /// A read-write mapping of 0x2000 bytes at `start` of the object from
    /// `offset`, its pages not looked at.
    pub(crate) fn rw(pid: i32, comm: &str, start: u64, offset: u64, shared: bool) -> Mapping {
        Mapping {
            pid,
            comm: comm.into(),
            start,
            end: start + 0x2000,
            perms: crate::process::Perms {
                read: true,
                write: true,
                exec: false,
                shared,
            },
            offset,
            resident: None,
            divergence: None,
        }
    }
}

/// One object and every chosen process's mappings of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedObject {
    pub key: ObjectKey,
    /// The path of the object as maps shows it: escape before printing.
    pub name: String,
    /// The path no longer names the object.
    pub deleted: bool,
    /// The object's size, where it could be found out.
    pub size: Option<u64>,
    /// The end of the furthest mapped byte of the object.
    pub extent: u64,
    /// Resident bytes of the object itself (not of private copies), as seen
    /// through the mappings looked at; for SysV, as the kernel counts them.
    pub resident: Option<u64>,
    /// Sorted by pid, then address.
    pub mappings: Vec<Mapping>,
}

impl SharedObject {
    /// How many distinct processes map the object.
    pub fn processes(&self) -> usize {
        self.mappings
            .iter()
            .map(|m| m.pid)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

#[cfg(test)]
impl SharedObject {
    /// The 0x3000-byte file `/dev/shm/ring`, inode `inode` of device 0:1a,
    /// mapped by `mappings`.
    pub(crate) fn ring(inode: u64, mappings: Vec<Mapping>) -> SharedObject {
        SharedObject {
            key: ObjectKey::File {
                dev: "0:1a".into(),
                inode,
            },
            name: "/dev/shm/ring".into(),
            deleted: false,
            size: Some(0x3000),
            extent: 0x3000,
            resident: None,
            mappings,
        }
    }
}

/// Processes left out of a walk, by why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// The kernel would not let us read them.
    pub denied: usize,
    /// They exited while being looked at.
    pub exited: usize,
    /// Kernel threads and zombies: no user memory.
    pub no_memory: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Sorted by key.
    pub objects: Vec<SharedObject>,
    /// Processes inspected.
    pub processes: usize,
    pub skipped: Skipped,
}

/// Walks the selected processes and groups their mappings by object.
pub fn collect(selection: &Selection, options: &Options) -> Result<Report> {
    let (pids, strict) = match selection {
        Selection::Pids(pids) => (dedup(pids), true),
        Selection::Named(name) => (walk::pids_named(name)?, false),
        Selection::All => (walk::all_pids()?, false),
    };
    let mut report = Report::default();
    let mut captured = Vec::new();
    let mut sizes = HashMap::new();
    let mut scratch = walk::Scratch::default();
    let mut mine = Vec::new();
    for pid in pids {
        mine.clear();
        // Chosen by pid: an attach first, for its checks and clear errors.
        let checked = if strict {
            Session::attach(pid, DEFAULT_DEADLINE).map(|s| s.pid())
        } else {
            Ok(pid)
        };
        let result = checked.and_then(|pid| {
            let proc = walk::ProcDir::open(pid)?;
            walk::capture(&proc, options, &mut scratch, &mut sizes, &mut mine)
        });
        match result {
            Ok(true) => {
                report.processes += 1;
                captured.append(&mut mine);
            }
            Ok(false) if strict => return Err(Error::TargetExited { pid }),
            Ok(false) => report.skipped.no_memory += 1,
            Err(e) if strict => return Err(e),
            Err(Error::PermissionDenied { .. }) => report.skipped.denied += 1,
            Err(Error::KernelThread { .. }) => report.skipped.no_memory += 1,
            Err(
                Error::NoSuchProcess { .. } | Error::TargetExited { .. } | Error::Zombie { .. },
            ) => report.skipped.exited += 1,
            Err(e) => return Err(e),
        }
    }
    look_into_late(&mut captured, options, &mut scratch);
    let sysv = read_sysvipc();
    report.objects = group(captured, &sizes, &sysv, options, sys::page_size());
    Ok(report)
}

/// Captures the private mappings of ordinary files that turned out to be
/// shared by some other mapping. A process gone since is left as it was.
fn look_into_late(captured: &mut [walk::Captured], options: &Options, scratch: &mut walk::Scratch) {
    let mut shown: HashMap<&ObjectKey, bool> = HashMap::new();
    for c in captured.iter() {
        *shown.entry(&c.key).or_default() |= walk::wanted(&c.key, &c.region, options);
    }
    let mut late: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, c) in captured.iter().enumerate() {
        if matches!(c.pages, PageData::None) && shown.get(&c.key) == Some(&true) {
            late.entry(c.pid).or_default().push(i);
        }
    }
    for (pid, which) in late {
        if let Ok(proc) = walk::ProcDir::open(pid) {
            // Best effort: the mappings stay listed, only not compared.
            let _ = walk::recapture(&proc, options, scratch, captured, &which);
        }
    }
}

fn dedup(pids: &[i32]) -> Vec<i32> {
    let mut seen = BTreeSet::new();
    pids.iter().copied().filter(|p| seen.insert(*p)).collect()
}

/// `/proc/sysvipc/shm`, or nothing where it cannot be read (no SysV IPC).
fn read_sysvipc() -> Vec<SysvSegment> {
    std::fs::read_to_string("/proc/sysvipc/shm")
        .map(|t| object::parse_sysvipc(&t))
        .unwrap_or_default()
}

/// Groups captured mappings by object and works out sizes, residency and
/// divergence. Pure: tested with made-up captures.
pub fn group(
    captured: Vec<walk::Captured>,
    sizes: &HashMap<ObjectKey, u64>,
    sysv: &[SysvSegment],
    options: &Options,
    page: u64,
) -> Vec<SharedObject> {
    let mut by_key: BTreeMap<ObjectKey, Vec<walk::Captured>> = BTreeMap::new();
    for c in captured {
        by_key.entry(c.key.clone()).or_default().push(c);
    }
    let mut objects = Vec::new();
    for (key, mut maps) in by_key {
        if !walk::shown(&key, maps.iter().map(|c| &c.region), options) {
            continue;
        }
        maps.sort_by_key(|c| (c.pid, c.region.start));
        objects.push(object_of(key, &maps, sizes, sysv, page));
    }
    // By name, as a reader looks for them; devices and inodes differ between
    // machines and say little.
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    objects
}

fn object_of(
    key: ObjectKey,
    maps: &[walk::Captured],
    sizes: &HashMap<ObjectKey, u64>,
    sysv: &[SysvSegment],
    page: u64,
) -> SharedObject {
    let segment = match &key {
        ObjectKey::Sysv { key: k, shmid } => sysv.iter().find(|s| s.key == *k && s.shmid == *shmid),
        _ => None,
    };
    // The frames and bytes of the shared mappings, to compare private ones with.
    let mut frames = HashMap::new();
    let mut shared_bytes = Vec::new();
    let mut resident_pages = BTreeSet::new();
    let mut looked = false;
    // A mapping too large to keep per-page entries leaves the union unknown.
    let mut partial = false;
    for c in maps {
        match &c.pages {
            PageData::Entries(e) => {
                looked = true;
                resident_pages.extend(pages::object_pages(e, c.region.offset, page));
                if c.region.perms.shared {
                    pages::frames(e, c.region.offset, page, &mut frames);
                }
            }
            PageData::Bytes(b) if c.region.perms.shared => shared_bytes.push((c.region.offset, b)),
            PageData::Present(_) => partial = true,
            _ => {}
        }
    }
    let mappings = maps
        .iter()
        .map(|c| {
            let r = &c.region;
            let (resident, divergence) = match &c.pages {
                PageData::Entries(e) => (
                    Some(pages::present_pages(e) * page),
                    (!r.perms.shared)
                        .then(|| pages::diverged_by_pagemap(e, r.offset, page, &frames)),
                ),
                PageData::Bytes(b) => (
                    None,
                    (!r.perms.shared)
                        .then(|| pages::diverged_by_bytes(b, r.offset, page, &shared_bytes)),
                ),
                PageData::Present(n) => (Some(n * page), None),
                PageData::None => (None, None),
            };
            Mapping {
                pid: c.pid,
                comm: c.comm.clone(),
                start: r.start,
                end: r.end,
                perms: r.perms,
                offset: r.offset,
                resident,
                divergence,
            }
        })
        .collect();
    let first = &maps[0].region;
    SharedObject {
        name: first.path.clone(),
        deleted: first.deleted,
        size: segment.map(|s| s.size).or_else(|| sizes.get(&key).copied()),
        extent: maps
            .iter()
            .map(|c| c.region.offset.saturating_add(c.region.len()))
            .max()
            .unwrap_or(0),
        resident: segment
            .map(|s| s.rss)
            .or_else(|| (looked && !partial).then(|| resident_pages.len() as u64 * page)),
        key,
        mappings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Maps;
    use pages::{FILE_OR_SHARED, PRESENT};

    const PAGE: u64 = 4096;

    fn captured(pid: i32, line: &str, pages: PageData) -> walk::Captured {
        let region = Maps::parse(line, "test").expect("parses").regions()[0].clone();
        walk::Captured {
            key: ObjectKey::of(&region).expect("an object"),
            pid,
            comm: format!("p{pid}"),
            region,
            pages,
        }
    }

    #[test]
    fn groups_by_object_and_hides_private_only_files_by_default() {
        let file = FILE_OR_SHARED | PRESENT;
        let list = vec![
            captured(
                2,
                "7000-9000 rw-s 00000000 00:1a 7 /dev/shm/ring",
                PageData::Entries(vec![file, file]),
            ),
            captured(
                1,
                "5000-7000 rw-s 00000000 00:1a 7 /dev/shm/ring",
                PageData::Entries(vec![file, 0]),
            ),
            captured(
                1,
                "a000-c000 rw-p 00000000 00:1a 7 /dev/shm/ring",
                PageData::Entries(vec![file, PRESENT]),
            ),
            captured(
                1,
                "d000-e000 r-xp 00000000 fd:01 99 /usr/lib/libc.so.6",
                PageData::None,
            ),
            captured(
                2,
                "d000-e000 r-xp 00000000 fd:01 99 /usr/lib/libc.so.6",
                PageData::None,
            ),
        ];
        let objects = group(
            list.clone(),
            &HashMap::new(),
            &[],
            &Options::default(),
            PAGE,
        );
        assert_eq!(objects.len(), 1, "{objects:#?}");
        let ring = &objects[0];
        assert_eq!(ring.processes(), 2);
        let at: Vec<(i32, u64)> = ring.mappings.iter().map(|m| (m.pid, m.start)).collect();
        assert_eq!(at, vec![(1, 0x5000), (1, 0xa000), (2, 0x7000)]);
        assert_eq!(ring.resident, Some(2 * PAGE));
        assert_eq!(ring.extent, 2 * PAGE);
        let private = &ring.mappings[1];
        let d = private
            .divergence
            .as_ref()
            .expect("private mapping compared");
        assert_eq!((d.diverged, d.first.clone()), (1, vec![PAGE]));
        assert!(ring.mappings[0].divergence.is_none());

        let every = Options {
            every_object: true,
            ..Options::default()
        };
        let all = group(list, &HashMap::new(), &[], &every, PAGE);
        assert_eq!(all.len(), 2);
        assert!(all.iter().any(|o| o.name == "/usr/lib/libc.so.6"));
    }

    #[test]
    fn sysv_sizes_come_from_the_kernel_table() {
        let list = vec![captured(
            1,
            "5000-6000 rw-s 00000000 00:01 32 /SYSV00000000 (deleted)",
            PageData::None,
        )];
        let seg = SysvSegment {
            key: 0,
            shmid: 32,
            size: 4000,
            rss: 4096,
        };
        let objects = group(list, &HashMap::new(), &[seg], &Options::default(), PAGE);
        assert_eq!(objects[0].size, Some(4000));
        assert_eq!(objects[0].resident, Some(4096));
        assert!(objects[0].deleted);
    }

    #[test]
    fn large_mappings_count_pages_without_claiming_the_object_residency() {
        let list = vec![
            captured(
                1,
                "5000-7000 rw-s 00000000 00:01 9 /memfd:big (deleted)",
                PageData::Entries(vec![FILE_OR_SHARED | PRESENT, 0]),
            ),
            captured(
                2,
                "5000-7000 rw-s 00000000 00:01 9 /memfd:big (deleted)",
                PageData::Present(2),
            ),
        ];
        let objects = group(list, &HashMap::new(), &[], &Options::default(), PAGE);
        assert_eq!(objects[0].mappings[1].resident, Some(2 * PAGE));
        assert_eq!(objects[0].resident, None);
    }

    #[test]
    fn pids_are_taken_once() {
        assert_eq!(dedup(&[3, 1, 3, 2, 1]), vec![3, 1, 2]);
    }
}

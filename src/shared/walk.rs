//! Choosing the processes and capturing, one process at a time, the mappings
//! of objects and what their pages look like.
//!
//! A process is opened, read and let go before the next one, so walking
//! every process of a machine holds a handful of descriptors at a time.
//! Everything of one process is read through its `/proc/PID` directory,
//! opened once: a pid reused meanwhile makes the reads fail, never mixes two
//! processes. A walk needs no pidfd nor `/proc/PID/mem` (what an attach
//! opens, and most of what it costs) until bytes must be compared.

use std::collections::HashMap;
use std::fs::File;

use crate::error::{Error, Result};
use crate::process::residency::Pagemap;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::sys::stat::Mode;

use crate::process::{Maps, ReadMode, Region};
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::shared::object::ObjectKey;
use crate::shared::pages::{self, PageData};
use crate::shared::{Compare, Options};
use crate::sys;

/// Bytes are captured for mappings up to this size only: a byte comparison
/// holds both sides in memory.
pub const MAX_BYTES: u64 = 64 << 20;

/// Mappings of more pages than this keep only their count of present pages,
/// read in chunks of this size: a walk's memory stays bounded however large
/// the shared segments (8 bytes a page kept otherwise).
pub const MAX_PAGEMAP_PAGES: u64 = 1 << 16;

/// One mapping of an object in one process, with its pages as captured.
#[derive(Clone, Debug)]
pub struct Captured {
    pub key: ObjectKey,
    pub pid: i32,
    pub comm: String,
    pub region: Region,
    pub pages: PageData,
}

/// Buffers reused from one process to the next.
#[derive(Debug, Default)]
pub struct Scratch {
    chunk: Vec<u8>,
    text: Vec<u8>,
}

/// `/proc/PID/maps` is generated anew by every `read`, each walking the
/// address space up to where the last stopped: one large read costs far
/// less than the many small ones of `read_to_string` (whose first read
/// probes 32 bytes, since proc files report a size of 0).
const MAPS_CHUNK: usize = 256 << 10;

/// Every pid in `/proc` but our own.
pub fn all_pids() -> Result<Vec<i32>> {
    let me = std::process::id() as i32;
    let entries = std::fs::read_dir("/proc").map_err(|source| Error::Proc {
        path: "/proc".into(),
        source,
    })?;
    let mut pids: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// The pids of the processes called `name`: their comm, or the file name of
/// their argv[0]. Processes that vanish while being looked at are left out.
pub fn pids_named(name: &str) -> Result<Vec<i32>> {
    let mut found = Vec::new();
    for pid in all_pids()? {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end_matches('\n') == name {
            found.push(pid);
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        let base = argv0.rsplit(|b| *b == b'/').next().unwrap_or_default();
        if !base.is_empty() && base == name.as_bytes() {
            found.push(pid);
        }
    }
    if found.is_empty() {
        let name = crate::text::shortened(name, 60);
        return Err(Error::Usage(format!("no process is named {name:?}")));
    }
    Ok(found)
}

/// Whether a mapping's pages are worth capturing under `options`: mappings
/// of shared memory always, private mappings of ordinary files (libraries)
/// only when every object is asked for.
pub fn wanted(key: &ObjectKey, region: &Region, options: &Options) -> bool {
    options.every_object || region.perms.shared || key.is_memory(&region.path)
}

/// Whether an object is reported, given all its mappings: when one of them
/// is [`wanted`], so a private mapping of a file some other process maps
/// shared is reported (and compared) too.
pub fn shown<'a>(
    key: &ObjectKey,
    mut regions: impl Iterator<Item = &'a Region>,
    options: &Options,
) -> bool {
    regions.any(|r| wanted(key, r, options))
}

/// A process seen through its `/proc/PID` directory.
#[derive(Debug)]
pub struct ProcDir {
    pid: i32,
    dir: OwnedFd,
}

impl ProcDir {
    pub fn open(pid: i32) -> Result<ProcDir> {
        let dir = open(
            format!("/proc/{pid}").as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::ENOENT | Errno::ESRCH => Error::NoSuchProcess { pid },
            e => Error::Proc {
                path: format!("/proc/{pid}"),
                source: e.into(),
            },
        })?;
        Ok(ProcDir { pid, dir })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Opens `/proc/PID/<rel>` of this process.
    pub fn file(&self, rel: &str) -> Result<File> {
        openat(
            &self.dir,
            rel,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(File::from)
        .map_err(|e| self.error(rel, e.into()))
    }

    /// Reads all of `/proc/PID/<rel>` into `into`, in chunks of `chunk`'s size.
    fn read(&self, rel: &str, chunk: &mut [u8], into: &mut Vec<u8>) -> Result<()> {
        use std::io::Read;
        let mut file = self.file(rel)?;
        into.clear();
        loop {
            match file.read(chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => into.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(rel, e)),
            }
        }
    }

    fn error(&self, rel: &str, e: std::io::Error) -> Error {
        let pid = self.pid;
        match e.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) => Error::TargetExited { pid },
            Some(libc::EACCES | libc::EPERM) => Error::PermissionDenied {
                pid,
                why: format!("/proc/{pid}/{rel}: {e}"),
            },
            _ => Error::Proc {
                path: format!("/proc/{pid}/{rel}"),
                source: e,
            },
        }
    }
}

/// Captures the object mappings of process `proc` into `out`, and the sizes
/// of objects not yet in `sizes`. A process with no user memory (a kernel
/// thread, a zombie) gives `Ok(false)`.
pub fn capture(
    proc: &ProcDir,
    options: &Options,
    scratch: &mut Scratch,
    sizes: &mut HashMap<ObjectKey, u64>,
    out: &mut Vec<Captured>,
) -> Result<bool> {
    let Some(maps) = read_maps(proc, scratch)? else {
        return Ok(false);
    };
    let mut comm = Vec::new();
    proc.read("comm", &mut scratch.chunk[..64], &mut comm)?;
    let comm = String::from_utf8_lossy(comm.strip_suffix(b"\n").unwrap_or(&comm)).into_owned();
    let page = sys::page_size();
    let mut pages = Pages::new(proc, options);
    for region in maps.iter() {
        let Some(key) = ObjectKey::of(region) else {
            continue;
        };
        let data = if wanted(&key, region, options) {
            if !sizes.contains_key(&key)
                && let Some(size) = object_size(proc.pid(), region)
            {
                sizes.insert(key.clone(), size);
            }
            pages.of(region, page)?
        } else {
            PageData::None
        };
        out.push(Captured {
            key,
            pid: proc.pid(),
            comm: comm.clone(),
            region: region.clone(),
            pages: data,
        });
    }
    Ok(true)
}

/// Captures the pages of `captured[i]` for each `i` in `which`, all
/// mappings of process `proc` not looked into by [`capture`] (private
/// mappings of ordinary files, which matter only once another process is
/// found to share the file). A mapping no longer in the process's maps is
/// left as it was.
pub fn recapture(
    proc: &ProcDir,
    options: &Options,
    scratch: &mut Scratch,
    captured: &mut [Captured],
    which: &[usize],
) -> Result<()> {
    let Some(maps) = read_maps(proc, scratch)? else {
        return Ok(());
    };
    let page = sys::page_size();
    let mut pages = Pages::new(proc, options);
    for &i in which {
        let Some(c) = captured.get_mut(i) else {
            continue;
        };
        if c.pid == proc.pid() && maps.iter().any(|r| *r == c.region) {
            c.pages = pages.of(&c.region, page)?;
        }
    }
    Ok(())
}

/// The maps of `proc`, read in large chunks; `None` when it has no user
/// memory. Paths that are not UTF-8 are kept lossily rather than failing.
fn read_maps(proc: &ProcDir, scratch: &mut Scratch) -> Result<Option<Maps>> {
    scratch.chunk.resize(MAPS_CHUNK, 0);
    proc.read("maps", &mut scratch.chunk, &mut scratch.text)?;
    if scratch.text.is_empty() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&scratch.text);
    Maps::parse(&text, &format!("/proc/{}/maps", proc.pid())).map(Some)
}

/// Reads pages of one process's mappings, opening pagemap, and attaching
/// for bytes, only when first needed.
struct Pages<'a> {
    proc: &'a ProcDir,
    /// Not yet opened; opened (or `Some(None)`: unreadable, or bytes asked for).
    pagemap: Option<Option<Pagemap>>,
    session: Option<Session>,
}

impl<'a> Pages<'a> {
    fn new(proc: &'a ProcDir, options: &Options) -> Pages<'a> {
        Pages {
            proc,
            pagemap: match options.compare {
                Compare::Auto => None,
                Compare::Bytes => Some(None),
            },
            session: None,
        }
    }

    /// The pagemap entries of `region`, or failing that its bytes.
    fn of(&mut self, region: &Region, page: u64) -> Result<PageData> {
        let pagemap = self
            .pagemap
            .get_or_insert_with(|| self.proc.file("pagemap").ok().map(Pagemap::new));
        if let Some(pagemap) = pagemap {
            let (first, count) = (region.start / page, region.len() / page);
            let read = if count <= MAX_PAGEMAP_PAGES {
                pagemap.entries(first, count).map(PageData::Entries)
            } else {
                count_present(pagemap, first, count).map(PageData::Present)
            };
            match read {
                Ok(data) => return Ok(data),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ESRCH)) => {
                    return Err(Error::TargetExited {
                        pid: self.proc.pid(),
                    });
                }
                Err(_) => {}
            }
        }
        if !region.is_readable() || region.len() > MAX_BYTES {
            return Ok(PageData::None);
        }
        let session = match &mut self.session {
            Some(s) => s,
            None => self
                .session
                .insert(Session::attach(self.proc.pid(), DEFAULT_DEADLINE)?),
        };
        let mut read = session.read(&[(region.start, region.len() as usize)], ReadMode::NoWait)?;
        Ok(read.pop().map_or(PageData::None, PageData::Bytes))
    }
}

/// Present pages among `count` from page `first`, a chunk at a time.
fn count_present(pagemap: &Pagemap, first: u64, count: u64) -> std::io::Result<u64> {
    let mut present = 0;
    let mut done = 0;
    while done < count {
        let n = (count - done).min(MAX_PAGEMAP_PAGES);
        present += pages::present_pages(&pagemap.entries(first + done, n)?);
        done += n;
    }
    Ok(present)
}

/// The object's size: a `stat` (never an `open`, which could act on a
/// device) of `/proc/PID/map_files/START-END`, which reaches the object even
/// when its path is deleted (root only), else of its path; either counts only
/// when it names the mapping's inode.
fn object_size(pid: i32, region: &Region) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let link = format!("/proc/{pid}/map_files/{:x}-{:x}", region.start, region.end);
    let meta = std::fs::metadata(link).ok().or_else(|| {
        (!region.deleted && region.path.starts_with('/'))
            .then(|| std::fs::metadata(&region.path).ok())
            .flatten()
    })?;
    (meta.ino() == region.inode && meta.is_file()).then_some(meta.len())
}

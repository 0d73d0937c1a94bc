//! Choosing the processes and capturing, one process at a time, the mappings
//! of objects and what their pages look like.
//!
//! A process is attached, read and let go before the next one, so walking
//! every process of a machine holds a handful of descriptors at a time.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::process::residency::Residency;
use crate::process::{ReadMode, Region, Target};
use crate::shared::object::ObjectKey;
use crate::shared::pages::PageData;
use crate::shared::{Compare, Options};
use crate::sys;

/// Bytes are captured for mappings up to this size only: a byte comparison
/// holds both sides in memory.
pub const MAX_BYTES: u64 = 64 << 20;

/// One mapping of an object in one process, with its pages as captured.
#[derive(Clone, Debug)]
pub struct Captured {
    pub key: ObjectKey,
    pub pid: i32,
    pub comm: String,
    pub region: Region,
    pub pages: PageData,
}

/// What one process gave.
#[derive(Debug, Default)]
pub struct ProcessCapture {
    pub mappings: Vec<Captured>,
    /// The object sizes found through `/proc/PID/map_files`.
    pub sizes: HashMap<ObjectKey, u64>,
}

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

/// Captures the object mappings of an attached process.
pub fn capture(target: &Target, options: &Options) -> Result<ProcessCapture> {
    let maps = target.maps()?;
    let page = sys::page_size();
    let pagemap = match options.compare {
        Compare::Auto => target.open_proc("pagemap").ok().map(Residency::new),
        Compare::Bytes => None,
    };
    let mut out = ProcessCapture::default();
    for region in maps.iter() {
        let Some(key) = ObjectKey::of(region) else {
            continue;
        };
        let pages = if wanted(&key, region, options) {
            if !out.sizes.contains_key(&key)
                && let Some(size) = object_size(target, region)
            {
                out.sizes.insert(key.clone(), size);
            }
            pages_of(target, &maps, region, pagemap.as_ref(), page)?
        } else {
            PageData::None
        };
        out.mappings.push(Captured {
            key,
            pid: target.pid(),
            comm: target.name().to_string(),
            region: region.clone(),
            pages,
        });
    }
    Ok(out)
}

/// The pagemap entries of `region`, or failing that its bytes.
fn pages_of(
    target: &Target,
    maps: &crate::process::Maps,
    region: &Region,
    pagemap: Option<&Residency>,
    page: u64,
) -> Result<PageData> {
    if let Some(pagemap) = pagemap {
        match pagemap.entries(region.start / page, region.len() / page) {
            Ok(entries) => return Ok(PageData::Entries(entries)),
            Err(_) if !target.is_alive() => return Err(Error::TargetExited { pid: target.pid() }),
            Err(_) => {}
        }
    }
    if !region.is_readable() || region.len() > MAX_BYTES {
        return Ok(PageData::None);
    }
    let mut read = target.read(
        maps,
        &[(region.start, region.len() as usize)],
        ReadMode::NoWait,
    )?;
    Ok(read.pop().map_or(PageData::None, PageData::Bytes))
}

/// The object's size: a `stat` (never an `open`, which could act on a
/// device) of `/proc/PID/map_files/START-END`, which reaches the object even
/// when its path is deleted (root only), else of its path; either counts only
/// when it names the mapping's inode.
fn object_size(target: &Target, region: &Region) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let link = format!(
        "/proc/{}/map_files/{:x}-{:x}",
        target.pid(),
        region.start,
        region.end
    );
    let meta = std::fs::metadata(link).ok().or_else(|| {
        (!region.deleted && region.path.starts_with('/'))
            .then(|| std::fs::metadata(&region.path).ok())
            .flatten()
    })?;
    (meta.ino() == region.inode && meta.is_file()).then_some(meta.len())
}

//! Finding a module's debug info where gdb looks, in gdb's order: the
//! object itself, a build-id file, `.gnu_debuglink` (CRC checked), then
//! `.gnu_debugdata` (MiniDebugInfo: symbols only). Every place tried is
//! kept, so "no debug info" can say where it looked.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use object::{Object, ObjectSection, ObjectSegment};

use super::file::{DResult, DebugError, DebugFile};

/// Where a file is opened: inside the target's root (through its
/// `/proc/PID/` directory) or on this host (`--debug-dir`, or `/` when the
/// target shares it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Target(String),
    Host(PathBuf),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Target(p) => write!(f, "{p} (in the target's root)"),
            Location::Host(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Opens a location.
pub type Open<'a> = &'a dyn Fn(&Location) -> DResult<File>;

/// Where the debug info came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `.debug_*` sections in the object itself.
    Embedded,
    BuildId(Location),
    DebugLink(Location),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Embedded => f.write_str("in the object"),
            Source::BuildId(l) => write!(f, "build-id file {l}"),
            Source::DebugLink(l) => write!(f, "debuglink file {l}"),
        }
    }
}

/// What was found for one module.
pub struct Found {
    pub dwarf: Option<(Source, Arc<DebugFile>)>,
    /// Places looked at without success, with why.
    pub tried: Vec<String>,
    pub build_id: Option<String>,
    /// The file name in the object's `.gnu_debuglink`.
    pub debuglink: Option<String>,
    /// Symbols in `.gnu_debugdata`, when the object has MiniDebugInfo.
    pub minidebuginfo: Option<Result<usize, String>>,
    /// The module's load segments: (page-aligned file offset, page-aligned address).
    pub loads: Vec<(u64, u64)>,
    build_id_bytes: Option<Vec<u8>>,
}

const PAGE: u64 = 4096;
/// MiniDebugInfo is a small symtab; more than this decompressed is corrupt.
const MAX_DEBUGDATA: usize = 256 << 20;

/// Looks for the debug info of the object at `path` (as the target sees
/// it), already opened as `object`, under each of `debug_dirs`.
pub fn locate(object: Arc<DebugFile>, path: &str, debug_dirs: &[Location], open: Open) -> Found {
    let cached = object.build_id.as_deref().and_then(cached);
    let mut found = search(object, path, debug_dirs, open, cached);
    if let (Some(id), Some((source, file))) = (&found.build_id_bytes, &found.dwarf) {
        if let Ok(mut cache) = CACHE.lock() {
            cache.retain(|_, (_, weak)| weak.strong_count() > 0);
            cache.insert(id.clone(), (source.clone(), Arc::downgrade(file)));
        }
    }
    found.build_id_bytes = None;
    found
}

/// Debug files by build-id, shared by every target that maps the same
/// object while any of them holds it: its index and types are built once.
type BuildIdCache = BTreeMap<Vec<u8>, (Source, Weak<DebugFile>)>;
static CACHE: Mutex<BuildIdCache> = Mutex::new(BTreeMap::new());

fn cached(id: &[u8]) -> Option<(Source, Arc<DebugFile>)> {
    let cache = CACHE.lock().ok()?;
    let (source, weak) = cache.get(id)?;
    Some((source.clone(), weak.upgrade()?))
}

fn search(
    object: Arc<DebugFile>,
    path: &str,
    debug_dirs: &[Location],
    open: Open,
    cached: Option<(Source, Arc<DebugFile>)>,
) -> Found {
    let mut found = Found {
        dwarf: None,
        tried: Vec::new(),
        build_id: object.build_id.as_ref().map(|b| hex(b)),
        debuglink: object.debuglink.as_ref().map(|(name, _)| name.clone()),
        minidebuginfo: None,
        loads: loads(object.raw()),
        build_id_bytes: object.build_id.clone(),
    };
    if object.has_debugdata {
        found.minidebuginfo = Some(minidebuginfo(object.raw()));
    }
    if let Some(hit) = cached {
        found.dwarf = Some(hit);
        return found;
    }
    if object.has_dwarf() {
        found.dwarf = Some((Source::Embedded, object));
        return found;
    }
    found.tried.push(format!("{path}: no .debug_info"));
    if let Some(id) = object.build_id.as_deref().filter(|id| id.len() >= 2) {
        let rel = format!(".build-id/{:02x}/{}.debug", id[0], hex(&id[1..]));
        for dir in debug_dirs {
            let loc = join(dir, &rel);
            match open_debug(&loc, open, |f| f.build_id.as_deref() == Some(id)) {
                Ok(file) => {
                    found.dwarf = Some((Source::BuildId(loc), file));
                    return found;
                }
                Err(why) => found.tried.push(format!("{loc}: {why}")),
            }
        }
    }
    if let Some((name, crc)) = object.debuglink.clone() {
        let dir = Path::new(path)
            .parent()
            .map_or("/".into(), |p| p.display().to_string());
        let mut candidates = vec![
            Location::Target(format!("{dir}/{name}")),
            Location::Target(format!("{dir}/.debug/{name}")),
        ];
        for d in debug_dirs {
            candidates.push(join(d, &format!("{}/{name}", dir.trim_start_matches('/'))));
        }
        for loc in candidates {
            // The link names a file beside the object: not the object itself.
            if loc == Location::Target(path.to_string()) {
                continue;
            }
            let check = |f: &DebugFile| crc32fast::hash(f.raw()) == crc;
            match open_debug(&loc, open, check) {
                Ok(file) => {
                    found.dwarf = Some((Source::DebugLink(loc), file));
                    return found;
                }
                Err(why) => found.tried.push(format!("{loc}: {why}")),
            }
        }
    }
    found
}

fn join(dir: &Location, rel: &str) -> Location {
    match dir {
        Location::Target(d) => Location::Target(format!("{}/{rel}", d.trim_end_matches('/'))),
        Location::Host(d) => Location::Host(d.join(rel)),
    }
}

fn open_debug(
    loc: &Location,
    open: Open,
    matches: impl Fn(&DebugFile) -> bool,
) -> Result<Arc<DebugFile>, String> {
    let file = open(loc).map_err(|e| e.to_string())?;
    // Opened non-blocking; a FIFO or device here is skipped, not waited on.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err("not a regular file".into());
    }
    let debug = DebugFile::open(&file).map_err(|e| e.to_string())?;
    if !matches(&debug) {
        return Err("belongs to another build (build-id or CRC differs)".into());
    }
    if !debug.has_dwarf() {
        return Err("has no .debug_info".into());
    }
    Ok(Arc::new(debug))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn loads(bytes: &[u8]) -> Vec<(u64, u64)> {
    let Ok(obj) = object::File::parse(bytes) else {
        return Vec::new();
    };
    obj.segments()
        .map(|s| (s.file_range().0 & !(PAGE - 1), s.address() & !(PAGE - 1)))
        .collect()
}

/// Decompresses `.gnu_debugdata` (an xz-compressed ELF with a `.symtab`)
/// and counts its symbols.
fn minidebuginfo(bytes: &[u8]) -> Result<usize, String> {
    let obj = object::File::parse(bytes).map_err(|e| e.to_string())?;
    let section = obj
        .section_by_name(".gnu_debugdata")
        .ok_or("no .gnu_debugdata")?;
    let data = section.data().map_err(|e| e.to_string())?;
    let mut out = Capped(Vec::new());
    lzma_rs::xz_decompress(&mut std::io::BufReader::new(data), &mut out)
        .map_err(|e| format!("xz: {e}"))?;
    let inner = object::File::parse(&*out.0).map_err(|e| e.to_string())?;
    Ok(inner.symbols().count())
}

/// A Vec that refuses to grow past [`MAX_DEBUGDATA`].
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_DEBUGDATA {
            return Err(std::io::Error::other("decompresses to more than 256 MiB"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Opens a host path (for [`Location::Host`]).
pub fn open_host(path: &Path) -> DResult<File> {
    crate::sys::file::open_regular(path).map_err(|e| open_error(&e))
}

/// Why a candidate debug file did not open, as the list of places tried
/// says it (its path is already there).
pub fn open_error(e: &std::io::Error) -> DebugError {
    match e.kind() {
        std::io::ErrorKind::NotFound => DebugError("not found".into()),
        _ => DebugError(e.to_string()),
    }
}

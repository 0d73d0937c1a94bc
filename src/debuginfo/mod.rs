//! DWARF debug info of every object mapped in a target: types, variables,
//! field paths and typed values.
//!
//! [`DebugInfo`] lists a target's mapped ELF objects and finds each one's
//! debug info on first need ([`locate`]: in the object, by build-id, by
//! `.gnu_debuglink`), keeping what it found per object across
//! [`DebugInfo::refresh`]. A [`DebugFile`] indexes names lazily and builds
//! a [`Type`] only when one is asked for.
//!
//! A field path resolves once, to an offset and a type; values then decode
//! from bytes, so a watch on `player.pos.x` costs one read per tick:
//!
//! ```no_run
//! use pvtui::expr::parse_watch;
//! use pvtui::process::ReadMode;
//! use pvtui::session::{DEFAULT_DEADLINE, Session};
//! let mut session = Session::attach(1234, DEFAULT_DEADLINE)?;
//! let watch = parse_watch("player.pos.x").expect("parses");
//! if let Ok(reading) = session.evaluate(&watch, ReadMode::Force)? {
//!     println!("{:?} at {:?}", reading.value, reading.address);
//! }
//! # Ok::<(), pvtui::Error>(())
//! ```

mod address;
mod build;
mod complex;
mod file;
mod gdb_index;
pub mod layout;
mod lazy;
mod lines;
pub mod locate;
mod names;
mod path;
#[cfg(test)]
mod proptests;
mod scope;
mod split;
pub mod types;
pub mod value;
mod x87;

use std::fmt;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub use file::{DResult, DebugError, DebugFile, Variable};
pub use layout::layout;
pub use locate::{Found, Location, Source};
pub use path::{Place, Step, parse_path, path_at, resolve};
pub use types::{Aggregate, BaseKind, Bits, Field, Type, TypeKind, TypeLink};
pub use value::{Value, decode, decode_place, encode};

use crate::process::{Maps, Region};

/// Opens a path relative to the target's `/proc/PID/` directory.
pub type Opener = crate::process::procfs::ProcOpener;

/// A variable at its live address, with the module that defines it.
#[derive(Clone, Debug)]
pub struct LiveVariable {
    pub module: String,
    pub addr: u64,
    pub ty: Arc<Type>,
    /// The debug file it came from, to resolve its pointers' targets.
    pub file: Arc<DebugFile>,
}

/// A mapped object and, once asked for, its debug info.
pub struct Module {
    pub name: String,
    /// The path the target mapped it from.
    pub path: String,
    key: (String, u64, String),
    regions: Vec<Region>,
    is_main: bool,
    found: OnceLock<Result<Found, String>>,
    /// Split DWARF: the split units its skeleton units name.
    split: OnceLock<split::Parts>,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module").field("path", &self.path).finish()
    }
}

/// One line of `pvtui debuginfo`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModuleReport {
    pub module: String,
    pub path: String,
    pub build_id: Option<String>,
    /// `in the object`, `build-id file PATH`, `debuglink file PATH`, or null.
    pub dwarf: Option<String>,
    pub compression: Option<String>,
    /// The file name the object's `.gnu_debuglink` gives (Debian's is
    /// named after the build-id).
    pub debuglink: Option<String>,
    /// What lookups by name use: `gdb_index (version N)` or `unit scan`.
    pub name_index: Option<String>,
    pub minidebuginfo_symbols: Option<usize>,
    /// Split DWARF: how many split units were found (in `.dwo` files or a
    /// `.dwp` package), when the object has skeleton units.
    pub split_dwarf: Option<usize>,
    /// Where pvtui looked without finding DWARF.
    pub tried: Vec<String>,
    pub error: Option<String>,
}

/// What the error for a thread-local variable says it is.
pub const THREAD_LOCAL: &str = "is a thread-local variable";

/// Whether `e` says a variable is thread-local (found, but not readable).
pub fn is_thread_local(e: &DebugError) -> bool {
    e.0.contains(THREAD_LOCAL)
}

pub const AMBIGUOUS: &str = "is ambiguous";

/// Whether `e` says a bare name ends more than one scoped name.
pub fn is_ambiguous(e: &DebugError) -> bool {
    e.0.contains(AMBIGUOUS)
}

/// How many scoped names an ambiguous name's error lists.
const AMBIGUOUS_SHOWN: usize = 8;

/// The debug info of every object a target maps. A clone shares what was
/// found per object.
#[derive(Clone)]
pub struct DebugInfo {
    opener: Opener,
    dirs: Vec<locate::Location>,
    modules: Vec<Arc<Module>>,
}

impl fmt::Debug for DebugInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugInfo")
            .field("modules", &self.modules.len())
            .finish()
    }
}

impl DebugInfo {
    /// The debug info of the objects a process maps (as `maps` lists them),
    /// whose `/proc/PID/<rel>` files `opener` opens: looked for in its root's
    /// `/usr/lib/debug`, then each of `extra_dirs`, then this host's.
    pub fn with_opener(opener: Opener, maps: &Maps, extra_dirs: Vec<PathBuf>) -> DebugInfo {
        let mut dirs = vec![Location::Target("/usr/lib/debug".into())];
        dirs.extend(extra_dirs.into_iter().map(Location::Host));
        // The host's own directory, unless the target already shares this root.
        let same_root = match (opener("root").map(|f| f.metadata()), std::fs::metadata("/")) {
            (Ok(Ok(a)), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if !same_root {
            dirs.push(Location::Host("/usr/lib/debug".into()));
        }
        let mut info = DebugInfo {
            opener,
            dirs,
            modules: Vec::new(),
        };
        info.refresh(maps);
        info
    }

    /// Follows the maps: objects still mapped keep what was found for them.
    pub fn refresh(&mut self, maps: &Maps) {
        let exe_inode = (self.opener)("exe")
            .ok()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.ino());
        let old = std::mem::take(&mut self.modules);
        let mut modules: Vec<Module> = Vec::new();
        for region in maps
            .iter()
            .filter(|r| r.is_file() && r.path.starts_with('/') && !r.path.starts_with("/dev/"))
        {
            let key = (region.dev.clone(), region.inode, region.path.clone());
            if let Some(m) = modules.iter_mut().find(|m| m.key == key) {
                m.regions.push(region.clone());
                continue;
            }
            modules.push(Module {
                name: region.name().to_string(),
                path: region.path.clone(),
                key,
                regions: vec![region.clone()],
                is_main: Some(region.inode) == exe_inode,
                found: OnceLock::new(),
                split: OnceLock::new(),
            });
        }
        modules.sort_by_key(|m| !m.is_main);
        self.modules = modules
            .into_iter()
            .map(|m| {
                match old
                    .iter()
                    .find(|o| o.key == m.key && o.regions == m.regions)
                {
                    Some(o) => Arc::clone(o),
                    None => Arc::new(m),
                }
            })
            .collect();
    }

    /// The mapped objects, the executable first.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().map(|m| &**m)
    }

    /// The separate debug file (build-id or debuglink) of the object the
    /// target maps from `path`, looked for now if it was not yet.
    pub fn separate_file(&self, path: &str) -> Option<Arc<DebugFile>> {
        let module = self.modules.iter().find(|m| m.path == path)?;
        match &self.found(module).ok()?.dwarf {
            Some((Source::BuildId(_) | Source::DebugLink(_), file)) => Some(Arc::clone(file)),
            _ => None,
        }
    }

    fn found<'m>(&self, module: &'m Module) -> Result<&'m Found, String> {
        module
            .found
            .get_or_init(|| {
                let file = self.open_object(module)?;
                let object = DebugFile::open(&file).map_err(|e| e.to_string())?;
                let open = |loc: &Location| match loc {
                    Location::Target(p) => {
                        (self.opener)(&format!("root{p}")).map_err(|e| match e {
                            crate::Error::Proc { source, .. } => locate::open_error(&source),
                            other => DebugError(other.to_string()),
                        })
                    }
                    Location::Host(p) => locate::open_host(p),
                };
                Ok(locate::locate(
                    Arc::new(object),
                    &module.path,
                    &self.dirs,
                    &open,
                ))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The split units of a module whose DWARF (`main`) is split, opened
    /// on first need through the target's root.
    fn split_parts<'m>(&self, module: &'m Module, main: &Arc<DebugFile>) -> &'m split::Parts {
        module.split.get_or_init(|| {
            let open = |path: &str| {
                let file =
                    (self.opener)(&format!("root{path}")).map_err(|e| DebugError(e.to_string()))?;
                // Opened non-blocking; a FIFO or device there is skipped.
                match file.metadata() {
                    Ok(m) if m.is_file() => Ok(file),
                    _ => Err(DebugError("not a regular file".into())),
                }
            };
            split::open_parts(main, &module.path, &open)
        })
    }

    /// A variable in a split module's split units, and the file it is in.
    fn split_variable<'m>(
        &self,
        module: &'m Module,
        main: &Arc<DebugFile>,
        name: &str,
    ) -> DResult<Option<(&'m Arc<DebugFile>, Variable)>> {
        for dwo in &self.split_parts(module, main).files {
            if let Some(var) = dwo.variable(name)? {
                return Ok(Some((dwo, var)));
            }
        }
        Ok(None)
    }

    fn open_object(&self, module: &Module) -> Result<File, String> {
        crate::process::procfs::open_mapped(&self.opener, &module.regions, module.is_main)
    }

    /// What was found for each module, and from where.
    pub fn report(&self) -> Vec<ModuleReport> {
        self.modules()
            .filter(|m| !matches!(self.found(m), Err(e) if e == file::NOT_ELF))
            .map(|m| {
                let mut r = ModuleReport {
                    module: m.name.clone(),
                    path: m.path.clone(),
                    build_id: None,
                    dwarf: None,
                    compression: None,
                    debuglink: None,
                    name_index: None,
                    minidebuginfo_symbols: None,
                    split_dwarf: None,
                    tried: Vec::new(),
                    error: None,
                };
                match self.found(m) {
                    Ok(found) => {
                        r.build_id = found.build_id.clone();
                        r.debuglink = found.debuglink.clone();
                        if let Some((source, file)) = &found.dwarf {
                            r.dwarf = Some(source.to_string());
                            r.compression = file.compression().map(str::to_string);
                            r.error = file.refused_section().map(|e| e.to_string());
                            r.name_index = Some(file.name_index());
                        }
                        r.tried = found.tried.clone();
                        if let Some((_, file)) = &found.dwarf {
                            let parts = self.split_parts(m, file);
                            if !parts.files.is_empty() || !parts.missing.is_empty() {
                                r.split_dwarf = Some(parts.files.len());
                                r.tried.extend(
                                    parts
                                        .missing
                                        .iter()
                                        .map(|p| format!("{p} (split unit, missing)")),
                                );
                            }
                        }
                        match &found.minidebuginfo {
                            Some(Ok(n)) => r.minidebuginfo_symbols = Some(*n),
                            Some(Err(e)) => r.error = Some(format!(".gnu_debugdata: {e}")),
                            None => {}
                        }
                    }
                    Err(e) => r.error = Some(e),
                }
                r
            })
            .collect()
    }

    fn candidates(&self, module: Option<&str>) -> DResult<Vec<&Module>> {
        let Some(want) = module else {
            return Ok(self.modules().collect());
        };
        let exact: Vec<&Module> = self.modules().filter(|m| m.name == want).collect();
        if !exact.is_empty() {
            return Ok(exact);
        }
        let prefixed: Vec<&Module> = self
            .modules()
            .filter(|m| m.name.starts_with(want))
            .collect();
        if prefixed.is_empty() {
            let names: Vec<&str> = self.modules().map(|m| m.name.as_str()).take(8).collect();
            return Err(DebugError(format!(
                "no loaded object named {want:?} (loaded: {})",
                names.join(", ")
            )));
        }
        Ok(prefixed)
    }

    /// A variable by name, in one module or in each (the executable first).
    pub fn variable(&self, module: Option<&str>, name: &str) -> DResult<LiveVariable> {
        let candidates = self.candidates(module)?;
        let mut missing = Vec::new();
        // First by ELF symbol (cheap), then through each file's name index.
        for by_symbol in [true, false] {
            for m in &candidates {
                let found = match self.found(m) {
                    Ok(f) => f,
                    Err(e) => {
                        if !by_symbol {
                            missing.push(format!("{}: {e}", m.name));
                        }
                        continue;
                    }
                };
                let Some((_, file)) = &found.dwarf else {
                    if !by_symbol {
                        missing.push(no_debug_info(m, found));
                    }
                    continue;
                };
                let (file, var) = if by_symbol {
                    (file, file.variable_by_symbol(name)?)
                } else {
                    match file.variable(name)? {
                        Some(var) if var.link_addr.is_some() => (file, Some(var)),
                        other => match self.split_variable(m, file, name)? {
                            Some((dwo, var)) => (dwo, Some(var)),
                            None => (file, other),
                        },
                    }
                };
                if var.as_ref().is_some_and(|v| v.thread_local) {
                    return Err(DebugError(format!(
                        "{name} {THREAD_LOCAL} in {}: each thread has its own, in its \
                         thread-local storage, which pvtui does not read",
                        m.name
                    )));
                }
                let Some(Variable {
                    link_addr: Some(link),
                    ty,
                    ..
                }) = var
                else {
                    continue;
                };
                let bias = bias(&found.loads, &m.regions).ok_or_else(|| {
                    DebugError(format!("{}: cannot tell where it is loaded", m.name))
                })?;
                return Ok(LiveVariable {
                    module: m.name.clone(),
                    addr: link.wrapping_add(bias),
                    ty,
                    file: Arc::clone(file),
                });
            }
        }
        // `count` when only `main::count` and `tick::count` exist.
        let suffix = format!("::{name}");
        let mut scoped: Vec<String> = self
            .variable_names(module, "")
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.ends_with(&suffix))
            .collect();
        scoped.sort();
        scoped.dedup();
        if scoped.len() > 1 {
            let more = scoped.len().saturating_sub(AMBIGUOUS_SHOWN);
            scoped.truncate(AMBIGUOUS_SHOWN);
            let mut msg = format!("{name:?} {AMBIGUOUS}: say which of {}", scoped.join(", "));
            if more > 0 {
                msg.push_str(&format!(" (and {more} more)"));
            }
            return Err(DebugError(msg));
        }
        let mut msg = match module {
            Some(m) => format!("no variable {name:?} with debug info in {m}"),
            None => format!("no variable {name:?} with debug info in any loaded object"),
        };
        if !missing.is_empty() && module.is_some() {
            msg.push_str(&format!("; {}", missing.join("; ")));
        } else if !missing.is_empty() {
            msg.push_str(&format!(
                " ({} object(s) without debug info: `pvtui debuginfo` says where pvtui looked)",
                missing.len()
            ));
        }
        Err(DebugError(msg))
    }

    /// The names of the variables with debug info in `module` (or in every
    /// object, the executable first) that start with `prefix`.
    pub fn variable_names(&self, module: Option<&str>, prefix: &str) -> DResult<Vec<String>> {
        let mut names = Vec::new();
        for m in self.candidates(module)? {
            let Ok(found) = self.found(m) else { continue };
            let Some((_, file)) = &found.dwarf else {
                continue;
            };
            names.extend(
                file.variable_names()?
                    .into_iter()
                    .filter(|n| n.starts_with(prefix)),
            );
            for dwo in &self.split_parts(m, file).files {
                names.extend(
                    dwo.variable_names()?
                        .into_iter()
                        .filter(|n| n.starts_with(prefix)),
                );
            }
        }
        Ok(names)
    }

    /// A type by name, in one module or the first that has it.
    pub fn type_named(&self, module: Option<&str>, name: &str) -> DResult<(String, Arc<Type>)> {
        self.type_in(module, name).map(|(m, _, ty)| (m, ty))
    }

    /// As [`DebugInfo::type_named`], with the debug file that defines the
    /// type (to follow its pointers).
    pub fn type_in(
        &self,
        module: Option<&str>,
        name: &str,
    ) -> DResult<(String, Arc<DebugFile>, Arc<Type>)> {
        let mut missing = Vec::new();
        for m in self.candidates(module)? {
            let found = match self.found(m) {
                Ok(f) => f,
                Err(e) => {
                    missing.push(format!("{}: {e}", m.name));
                    continue;
                }
            };
            let Some((_, file)) = &found.dwarf else {
                missing.push(no_debug_info(m, found));
                continue;
            };
            if let Some(ty) = file.type_named(name)? {
                return Ok((m.name.clone(), Arc::clone(file), ty));
            }
            for dwo in &self.split_parts(m, file).files {
                if let Some(ty) = dwo.type_named(name)? {
                    return Ok((m.name.clone(), Arc::clone(dwo), ty));
                }
            }
        }
        let mut msg = format!("no type {name:?} in the debug info of any loaded object");
        if module.is_some() && !missing.is_empty() {
            msg = format!("{msg}; {}", missing.join("; "));
        }
        Err(DebugError(msg))
    }
}

fn no_debug_info(m: &Module, found: &Found) -> String {
    format!(
        "no debug info for {} (looked in: {})",
        m.name,
        found.tried.join(", ")
    )
}

/// How far the object was moved when mapped (zero for a non-PIE executable).
fn bias(loads: &[(u64, u64)], regions: &[Region]) -> Option<u64> {
    regions.iter().find_map(|r| {
        loads
            .iter()
            .find(|(offset, _)| *offset == r.offset)
            .map(|(_, vaddr)| r.start.wrapping_sub(*vaddr))
    })
}

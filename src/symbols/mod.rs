//! ELF symbols of every object mapped in a target, at their live addresses.
//!
//! The table lists the mapped ELF files (the executable first, then shared
//! objects in address order) and reads each one's `.symtab` and `.dynsym`
//! only when a lookup needs it; parsed files are cached by identity, so
//! [`SymbolTable::refresh`] after a `dlopen` parses only the new library.
//! Files are opened through `/proc/PID/`: `root/<path>` (the target's mount
//! namespace), `exe` or `map_files/<range>` (a file deleted after it was mapped).
//!
//! ```no_run
//! use std::sync::Arc;
//! use pvtui::process::Target;
//! use pvtui::symbols::SymbolTable;
//! let target = Arc::new(Target::attach(1234)?);
//! let maps = target.maps()?;
//! let symbols = SymbolTable::new(&target, &maps);
//! match symbols.lookup("counter") {
//!     Ok(sym) => println!("{} at {:#x}, {} bytes", sym.name, sym.addr, sym.size),
//!     Err(e) => println!("{e}"),
//! }
//! # Ok::<(), pvtui::Error>(())
//! ```

pub mod elf;
mod place;
mod suggest;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex, OnceLock};

pub use elf::{ElfSymbol, LoadError, ObjectFile, SymbolKind, demangle};
pub use place::{Location, short_module_name, started_name};

use crate::process::{Maps, Region, Target};

/// A symbol at its address in the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// The file name of the object that defines it (`libc.so.6`).
    pub module: String,
    pub addr: u64,
    pub size: u64,
    pub kind: SymbolKind,
}

/// A symbol that could not be resolved, with the names it may have meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbolError {
    UnknownSymbol {
        name: String,
        module: Option<String>,
        suggestions: Vec<String>,
    },
    UnknownModule {
        module: String,
        modules: Vec<String>,
        /// `module!name` where the name was found in another module.
        elsewhere: Option<String>,
    },
    /// The module's file could not be read (`why`).
    Unreadable { module: String, why: String },
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SymbolError::UnknownSymbol {
                name,
                module,
                suggestions,
            } => {
                match module {
                    Some(m) => write!(f, "no symbol {name:?} in {m}")?,
                    None => write!(f, "no symbol {name:?} in any loaded object")?,
                }
                if !suggestions.is_empty() {
                    write!(f, "; did you mean {}?", suggestions.join(", "))?;
                }
                Ok(())
            }
            SymbolError::UnknownModule {
                module,
                modules,
                elsewhere,
            } => {
                write!(f, "no loaded object named {module:?}")?;
                if let Some(there) = elsewhere {
                    return write!(f, "; did you mean {there}?");
                }
                if !modules.is_empty() {
                    let shown: Vec<&str> = modules.iter().take(8).map(String::as_str).collect();
                    write!(f, " (loaded: {}", shown.join(", "))?;
                    if modules.len() > shown.len() {
                        write!(f, ", ...")?;
                    }
                    write!(f, ")")?;
                }
                Ok(())
            }
            SymbolError::Unreadable { module, why } => {
                write!(f, "cannot read the symbols of {module}: {why}")
            }
        }
    }
}

impl std::error::Error for SymbolError {}

/// Opens a path relative to the target's `/proc/PID/` directory.
pub type Opener = crate::process::procfs::ProcOpener;

/// Identifies a mapped file across maps snapshots: device, inode and path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ObjectKey {
    dev: String,
    inode: u64,
    path: String,
}

/// A mapped file and, once needed, its symbols.
struct Module {
    key: ObjectKey,
    /// The name shown: the file name, or for the executable the name the
    /// process was started as when that differs (a symlink's).
    name: String,
    /// The mapped file's own name (`redis-check-rdb`, `libc.so.6`).
    file_name: String,
    regions: Vec<Region>,
    is_main: bool,
    loaded: OnceLock<std::result::Result<Loaded, LoadError>>,
}

#[derive(Clone)]
struct Loaded {
    object: Arc<ObjectFile>,
    bias: u64,
}

impl Module {
    fn base(&self) -> u64 {
        self.regions.first().map_or(0, |r| r.start)
    }

    fn contains(&self, addr: u64) -> bool {
        self.regions.iter().any(|r| r.contains(addr))
    }
}

/// The symbols of every ELF object mapped in one target.
pub struct SymbolTable {
    opener: Opener,
    /// The executable's inode, to tell it apart from the libraries.
    exe_inode: Option<u64>,
    /// The name the process was started as (see [`started_name`]).
    started: Option<String>,
    modules: Vec<Module>,
    /// The file-backed regions the module list was built from.
    fingerprint: Vec<(u64, u64, u64, u64)>,
    objects: Arc<Mutex<HashMap<ObjectKey, Arc<ObjectFile>>>>,
    generation: u64,
    /// The separate debug file's symbols of a stripped object, by its path.
    debug_symbols: Option<DebugSymbols>,
}

/// The symbols of the separate debug file (build-id or debuglink) of the
/// object mapped from a path, where there is one: a stripped object names
/// its local statics (`main_arena`) only there.
pub type DebugSymbols = Arc<dyn Fn(&str) -> Option<ObjectFile> + Send + Sync>;

impl fmt::Debug for SymbolTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymbolTable")
            .field(
                "modules",
                &self.modules.iter().map(|m| &m.key.path).collect::<Vec<_>>(),
            )
            .field("generation", &self.generation)
            .finish()
    }
}

impl SymbolTable {
    /// The symbol table of `target` as mapped in `maps`. Reads no file yet.
    pub fn new(target: &Arc<Target>, maps: &Maps) -> SymbolTable {
        SymbolTable::with_opener(target.proc_opener(), maps)
    }

    /// The symbol table of a process whose `/proc/PID/<rel>` files `opener` opens.
    pub fn with_opener(opener: Opener, maps: &Maps) -> SymbolTable {
        let exe_inode = opener("exe")
            .ok()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.ino());
        let read = |rel: &str| {
            let mut bytes = Vec::new();
            opener(rel)
                .ok()
                .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut bytes).ok())
                .map(|_| bytes)
        };
        let started = match (read("comm"), read("cmdline")) {
            (Some(comm), Some(cmdline)) => started_name(&String::from_utf8_lossy(&comm), &cmdline),
            _ => None,
        };
        let mut table = SymbolTable {
            opener,
            exe_inode,
            started,
            modules: Vec::new(),
            fingerprint: Vec::new(),
            objects: Arc::default(),
            generation: 0,
            debug_symbols: None,
        };
        table.rebuild(maps);
        table
    }

    /// Where the symbols of stripped objects' debug files come from, for
    /// objects not read yet.
    pub fn set_debug_symbols(&mut self, source: DebugSymbols) {
        self.debug_symbols = Some(source);
    }

    /// Counts the changes of the module list: a watch resolved at an older
    /// generation may resolve differently now.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Follows new maps; returns whether the mapped objects changed. Cheap
    /// when they did not (one pass over the regions); files already parsed
    /// are not parsed again.
    pub fn refresh(&mut self, maps: &Maps) -> bool {
        if fingerprint(maps) == self.fingerprint {
            return false;
        }
        self.rebuild(maps);
        self.generation += 1;
        true
    }

    fn rebuild(&mut self, maps: &Maps) {
        self.fingerprint = fingerprint(maps);
        let mut modules: Vec<Module> = Vec::new();
        let mut index: HashMap<ObjectKey, usize> = HashMap::new();
        for region in maps.iter().filter(|r| is_object_candidate(r)) {
            let key = ObjectKey {
                dev: region.dev.clone(),
                inode: region.inode,
                path: region.path.clone(),
            };
            match index.get(&key) {
                Some(&i) => modules[i].regions.push(region.clone()),
                None => {
                    index.insert(key.clone(), modules.len());
                    let is_main = Some(region.inode) == self.exe_inode;
                    let file_name = region.name().to_string();
                    let name = match &self.started {
                        Some(started) if is_main => started.clone(),
                        _ => file_name.clone(),
                    };
                    modules.push(Module {
                        name,
                        file_name,
                        is_main,
                        key,
                        regions: vec![region.clone()],
                        loaded: OnceLock::new(),
                    });
                }
            }
        }
        // A loaded object maps its code executable; a file mapped only as
        // data (a debug file a debugger reads, a font, an ELF read as bytes)
        // is not one of the process's modules.
        modules.retain(|m| m.is_main || m.regions.iter().any(|r| r.perms.exec));
        // The executable first: an unqualified name resolves there before any library.
        modules.sort_by_key(|m| !m.is_main);
        self.modules = modules;
    }

    /// The file names of the mapped objects, the executable first.
    pub fn modules(&self) -> impl Iterator<Item = &str> {
        self.modules.iter().map(|m| m.name.as_str())
    }

    /// Resolves `name` in `module` when one is given (`libc!environ`), else
    /// in the executable, then each library.
    pub fn lookup_qualified(
        &self,
        module: Option<&str>,
        name: &str,
    ) -> std::result::Result<Symbol, SymbolError> {
        match module {
            Some(m) => self.lookup_in(m, name),
            None => self.lookup(name),
        }
    }

    /// Resolves `name` (raw or demangled) in the executable, then each library.
    pub fn lookup(&self, name: &str) -> std::result::Result<Symbol, SymbolError> {
        if let Some(found) = self.find(name) {
            return Ok(found);
        }
        Err(SymbolError::UnknownSymbol {
            name: name.to_string(),
            module: None,
            suggestions: self.suggest(name),
        })
    }

    /// As [`SymbolTable::lookup_qualified`] without the why of a miss (no
    /// suggestions to compute): for a caller with another reading to try.
    pub fn find_qualified(&self, module: Option<&str>, name: &str) -> Option<Symbol> {
        match module {
            Some(m) => self.find_modules(m).into_iter().find_map(|m| {
                let loaded = self.load(m).ok()?;
                loaded
                    .object
                    .lookup(name)
                    .map(|sym| located(m, loaded, sym))
            }),
            None => self.find(name),
        }
    }

    fn find(&self, name: &str) -> Option<Symbol> {
        self.modules.iter().find_map(|module| {
            let loaded = self.load(module).ok()?;
            loaded
                .object
                .lookup(name)
                .map(|sym| located(module, loaded, sym))
        })
    }

    /// Resolves `name` in the module whose file name is `module`, or starts with it.
    pub fn lookup_in(&self, module: &str, name: &str) -> std::result::Result<Symbol, SymbolError> {
        let candidates = self.find_modules(module);
        if candidates.is_empty() {
            return Err(SymbolError::UnknownModule {
                module: module.to_string(),
                modules: self.modules().map(str::to_string).collect(),
                elsewhere: self.elsewhere(&[], name),
            });
        }
        let mut unreadable = None;
        for m in &candidates {
            match self.load(m) {
                Ok(loaded) => {
                    if let Some(sym) = loaded.object.lookup(name) {
                        return Ok(located(m, loaded, sym));
                    }
                }
                Err(why) => unreadable = Some((m.name.clone(), why)),
            }
        }
        if let (Some((module, why)), 1) = (unreadable, candidates.len()) {
            return Err(SymbolError::Unreadable { module, why });
        }
        let mut suggestions = suggest::nearest(
            name,
            candidates
                .iter()
                .filter_map(|m| self.load(m).ok())
                .flat_map(|l| l.object.symbols().iter()),
        );
        // The name itself, defined in another module, is the likeliest meaning.
        if let Some(there) = self.elsewhere(&candidates, name) {
            suggestions.insert(0, there);
        }
        Err(SymbolError::UnknownSymbol {
            name: name.to_string(),
            module: candidates.first().map(|m| m.name.clone()),
            suggestions,
        })
    }

    /// `module!name` for the first module outside `skip` that defines
    /// `name`, the module by the shortest prefix that still finds it.
    fn elsewhere(&self, skip: &[&Module], name: &str) -> Option<String> {
        let module = self.modules.iter().find(|m| {
            !skip.iter().any(|s| s.key == m.key)
                && self
                    .load(m)
                    .is_ok_and(|loaded| loaded.object.lookup(name).is_some())
        })?;
        let short = short_module_name(&module.name);
        let found_first = self
            .find_modules(short)
            .first()
            .is_some_and(|m| m.key == module.key);
        let spelled = if found_first { short } else { &module.name };
        Some(format!("{spelled}!{name}"))
    }

    /// Up to five known names close to `name`, nearest first.
    pub fn suggest(&self, name: &str) -> Vec<String> {
        suggest::nearest(
            name,
            self.modules
                .iter()
                .filter_map(|m| self.load(m).ok())
                .flat_map(|l| l.object.symbols().iter()),
        )
    }

    /// The one spelling of an address wherever pvtui prints it:
    /// `module!symbol+0xOFF` inside a symbol, else `[module]+0xOFF` inside a
    /// mapped file; `None` in anonymous memory. It parses back as a watch
    /// expression for the same place. Escape it before printing: symbol and
    /// file names come from the target.
    pub fn place(&self, addr: u64) -> Option<String> {
        self.locate(addr).map(|location| location.to_string())
    }

    /// The start of the first mapping of the module called `name` (file
    /// name, started name, path, or a prefix of a name), for `[name]` and
    /// `name!OFFSET`.
    pub fn module_base(&self, name: &str) -> Option<u64> {
        self.find_modules(name).first().map(|m| m.base())
    }

    /// A region's name as pvtui shows it: the executable's regions by the
    /// name the process was started as, others by their file or kind
    /// (`[heap]`, `[anonymous]`).
    pub fn region_name(&self, region: &Region) -> String {
        match &self.started {
            Some(started) if region.is_file() && Some(region.inode) == self.exe_inode => {
                started.clone()
            }
            _ => region.label(),
        }
    }

    /// The name the process was started as, when `comm` and `argv[0]`
    /// agree on one and it is not the executable's file name (a symlink's
    /// name; see [`started_name`]).
    pub fn started_name(&self) -> Option<&str> {
        let main = self.modules.iter().find(|m| m.is_main)?;
        self.started
            .as_deref()
            .filter(|started| *started != main.file_name)
    }

    /// The executable's path as mapped.
    pub fn executable_path(&self) -> Option<&str> {
        let main = self.modules.iter().find(|m| m.is_main)?;
        Some(main.key.path.as_str())
    }

    /// The symbol holding `addr`, as (`module!symbol`, offset into it).
    pub fn symbol_at(&self, addr: u64) -> Option<(String, u64)> {
        match self.locate(addr)? {
            Location::Symbol {
                module,
                symbol,
                offset,
            } => Some((format!("{module}!{symbol}"), offset)),
            Location::Module { .. } => None,
        }
    }

    /// Where `addr` lies in terms that survive address randomisation: in a
    /// symbol, else in a mapped file; `None` in anonymous memory.
    pub fn locate(&self, addr: u64) -> Option<Location> {
        let symbol_in = |module: &Module| {
            self.load(module).ok().and_then(|loaded| {
                let vaddr = addr.wrapping_sub(loaded.bias);
                let sym = loaded.object.containing(vaddr)?;
                Some((sym.name.clone(), vaddr - sym.value))
            })
        };
        let Some(module) = self.modules.iter().find(|m| m.contains(addr)) else {
            // `.bss` past a module's file mapping is anonymous memory: named
            // only by a symbol of the module just below that holds it.
            let module = self.modules.iter().find(|m| {
                m.regions
                    .last()
                    .is_some_and(|r| r.end <= addr && addr - r.end < BSS_REACH)
            })?;
            let (symbol, offset) = symbol_in(module)?;
            return Some(Location::Symbol {
                module: module.name.clone(),
                symbol,
                offset,
            });
        };
        let symbol = symbol_in(module);
        Some(match symbol {
            Some((symbol, offset)) => Location::Symbol {
                module: module.name.clone(),
                symbol,
                offset,
            },
            // A data file (not ELF) is named by the object offset, which
            // `[file]+off` reads back wherever the file is mapped.
            None if self.load(module).is_err() => Location::Module {
                module: module.name.clone(),
                offset: module
                    .regions
                    .iter()
                    .find(|r| r.contains(addr))
                    .map_or(addr - module.base(), |r| addr - r.start + r.offset),
            },
            None => Location::Module {
                module: module.name.clone(),
                offset: addr - module.base(),
            },
        })
    }

    /// Whether `addr` lies in a mapped ELF object (whose `[module]+off`
    /// counts from its first mapping, as its symbols do).
    pub fn is_elf_at(&self, addr: u64) -> bool {
        self.modules
            .iter()
            .find(|m| m.contains(addr))
            .is_some_and(|m| self.load(m).is_ok())
    }

    /// The mapped object holding `addr`, as (file name, offset from its first mapping).
    pub fn module_at(&self, addr: u64) -> Option<(&str, u64)> {
        let module = self.modules.iter().find(|m| m.contains(addr))?;
        Some((module.name.as_str(), addr - module.base()))
    }

    fn find_modules(&self, module: &str) -> Vec<&Module> {
        let exact: Vec<&Module> = self
            .modules
            .iter()
            .filter(|m| m.name == module || m.file_name == module || m.key.path == module)
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        self.modules
            .iter()
            .filter(|m| m.name.starts_with(module) || m.file_name.starts_with(module))
            .collect()
    }

    fn load<'a>(&self, module: &'a Module) -> std::result::Result<&'a Loaded, String> {
        let loaded = module.loaded.get_or_init(|| {
            let object = self.object(module)?;
            let bias = object
                .bias(&module.regions)
                .ok_or_else(|| LoadError::Failed("no mapping matches a loadable segment".into()))?;
            Ok(Loaded { object, bias })
        });
        loaded.as_ref().map_err(|e| match e {
            LoadError::NotElf => "not an ELF file".to_string(),
            LoadError::Failed(why) => why.clone(),
        })
    }

    fn object(&self, module: &Module) -> std::result::Result<Arc<ObjectFile>, LoadError> {
        let cached = self
            .objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&module.key)
            .cloned();
        if let Some(object) = cached {
            return Ok(object);
        }
        let file = self.open(module).map_err(LoadError::Failed)?;
        let mut object = ObjectFile::open(file)?;
        if !object.has_symtab() {
            if let Some(debug) = self
                .debug_symbols
                .as_ref()
                .and_then(|f| f(&module.key.path))
            {
                object.absorb(debug);
            }
        }
        let object = Arc::new(object);
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(module.key.clone(), Arc::clone(&object));
        Ok(object)
    }

    /// Opens the module's file as the target maps it, even when deleted.
    fn open(&self, module: &Module) -> std::result::Result<File, String> {
        crate::process::procfs::open_mapped(&self.opener, &module.regions, module.is_main)
    }
}

fn located(module: &Module, loaded: &Loaded, sym: &ElfSymbol) -> Symbol {
    Symbol {
        name: sym.name.clone(),
        module: module.name.clone(),
        addr: sym.value.wrapping_add(loaded.bias),
        size: sym.size,
        kind: sym.kind,
    }
}

/// How far past a module's last file mapping its `.bss` may reach.
const BSS_REACH: u64 = 64 << 20;

/// Files that may be ELF objects; device files and memfd rings are left out.
fn is_object_candidate(region: &Region) -> bool {
    region.is_file() && region.path.starts_with('/') && !region.path.starts_with("/dev/")
}

fn fingerprint(maps: &Maps) -> Vec<(u64, u64, u64, u64)> {
    maps.iter()
        .filter(|r| is_object_candidate(r))
        .map(|r| (r.start, r.end, r.offset, r.inode))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[used]
    static TABLE_PROBE: [u32; 4] = [7, 0x5151_0002, 9, 10];

    /// Opens this process's own files the way `/proc/PID/` would.
    fn own_table() -> SymbolTable {
        let text = std::fs::read_to_string("/proc/self/maps").expect("own maps");
        let maps = Maps::parse(&text, "/proc/self/maps").expect("parse own maps");
        let opener = Arc::new(|rel: &str| {
            let path = format!("/proc/self/{rel}");
            File::open(&path).map_err(|source| crate::Error::Proc { path, source })
        });
        SymbolTable::with_opener(opener, &maps)
    }

    fn probe_name(table: &SymbolTable) -> String {
        let main = table
            .modules
            .iter()
            .find(|m| m.is_main)
            .expect("executable found");
        let loaded = table.load(main).expect("own exe loads");
        loaded
            .object
            .symbols()
            .iter()
            .find(|s| s.name.ends_with("::TABLE_PROBE"))
            .map(|s| s.name.clone())
            .expect("probe symbol")
    }

    #[test]
    fn resolves_own_static_by_demangled_name() {
        let table = own_table();
        assert!(table.modules().next().is_some());
        let name = probe_name(&table);
        let sym = table.lookup(&name).expect("lookup");
        assert_eq!(sym.addr, TABLE_PROBE.as_ptr() as u64);
        assert_eq!(sym.size, 16);
        let exe = table.modules().next().expect("exe first").to_string();
        let again = table.lookup_in(&exe, &name).expect("lookup_in");
        assert_eq!(again.addr, sym.addr);
    }

    #[test]
    fn resolves_libc_exports_by_module_prefix() {
        let table = own_table();
        let sym = table.lookup_in("libc", "environ").expect("libc!environ");
        assert!(sym.module.starts_with("libc"));
        assert!(sym.addr != 0);
    }

    #[test]
    fn names_the_symbol_at_an_address() {
        let table = own_table();
        let name = probe_name(&table);
        let addr = TABLE_PROBE.as_ptr() as u64 + 4;
        let (at, off) = table.symbol_at(addr).expect("symbol at");
        assert!(at.ends_with(&format!("!{name}")), "{at}");
        assert_eq!(off, 4);
        match table.locate(addr).expect("located") {
            Location::Symbol { symbol, offset, .. } => {
                assert_eq!((symbol, offset), (name.clone(), 4))
            }
            other => panic!("not in a symbol: {other:?}"),
        }
        let (module, _) = table.module_at(addr).expect("module at");
        assert_eq!(format!("{module}!{name}"), at);
    }

    #[test]
    fn unknown_names_suggest_near_ones() {
        let table = own_table();
        let err = table.lookup("TABLE_PROBX").expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.contains("did you mean") && text.contains("TABLE_PROBE"),
            "{text}"
        );
        let err = table
            .lookup_in("no-such-lib", "x")
            .expect_err("unknown module");
        assert!(matches!(err, SymbolError::UnknownModule { .. }), "{err}");
    }

    #[test]
    fn a_name_defined_in_another_module_is_suggested_there() {
        let table = own_table();
        let exe = table.modules().next().expect("exe first").to_string();
        let err = table
            .lookup_in(&exe, "environ")
            .expect_err("libc's, not ours");
        match &err {
            SymbolError::UnknownSymbol { suggestions, .. } => {
                assert_eq!(
                    suggestions.first().map(String::as_str),
                    Some("libc!environ")
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string().contains("did you mean libc!environ"),
            "{err}"
        );
        let err = table
            .lookup_in("libnothere", "environ")
            .expect_err("no module");
        assert!(
            err.to_string().ends_with("did you mean libc!environ?"),
            "{err}"
        );
    }

    #[test]
    fn places_name_symbols_and_module_offsets() {
        let table = own_table();
        let name = probe_name(&table);
        let addr = TABLE_PROBE.as_ptr() as u64;
        let exe = table.modules().next().expect("exe first").to_string();
        let place = table.place(addr + 8).expect("named");
        assert!(place.starts_with(&format!("{exe}!")), "{place}");
        assert!(place.ends_with("+0x8"), "{place}");
        assert!(place.contains(&*name) || place.contains('`'), "{place}");
        let base = table.module_base(&exe).expect("exe base");
        assert!(base <= addr);
        let environ = table.lookup_in("libc", "environ").expect("environ");
        assert!(
            table
                .place(environ.addr)
                .is_some_and(|p| p.ends_with("!environ"))
        );
    }

    #[test]
    fn refresh_is_a_no_op_on_the_same_maps() {
        let mut table = own_table();
        let text = std::fs::read_to_string("/proc/self/maps").expect("own maps");
        let maps = Maps::parse(&text, "maps").expect("parse");
        let same = Maps::parse(&text, "maps").expect("parse");
        table.refresh(&maps);
        let generation = table.generation();
        assert!(!table.refresh(&same));
        assert_eq!(table.generation(), generation);
    }
}

//! One ELF file's debug info: its sections (mapped, decompressed on first
//! use), a name index built on first need, and typed variable lookup.
//!
//! A lookup of a variable that also has an ELF symbol goes straight to the
//! unit `.debug_aranges` names for its address and parses only that unit;
//! anything else uses the name index, one pass over each unit's top-level
//! DIEs (and namespaces), skipping every subtree through its sibling link.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::sync::{Arc, Mutex, OnceLock};

use gimli::{EndianSlice, RunTimeEndian, SectionId};
use object::{CompressionFormat, Object, ObjectSection, ObjectSymbol};

use super::build::Builder;
use super::types::{DieRef, Type};

pub(super) type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// Debug info that could not be read, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugError(pub String);

impl fmt::Display for DebugError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DebugError {}

impl From<gimli::Error> for DebugError {
    fn from(e: gimli::Error) -> DebugError {
        DebugError(format!("malformed DWARF: {e}"))
    }
}

impl From<object::Error> for DebugError {
    fn from(e: object::Error) -> DebugError {
        DebugError(format!("malformed ELF: {e}"))
    }
}

/// The error for a mapped file that is not an ELF object (a locale, a cache).
pub const NOT_ELF: &str = "not an ELF object";

pub type DResult<T> = Result<T, DebugError>;

/// The most a compressed section may claim to grow. Real DWARF shrinks 2-7
/// times under zlib or zstd; a section of zeros shrinks 1000 times, so a
/// claim past this ratio (beyond [`RATIO_SLACK`]) is refused rather than
/// letting a target's file choose how much memory pvtui allocates.
const MAX_RATIO: u64 = 64;
/// Small sections may claim any ratio up to this size.
const RATIO_SLACK: u64 = 64 << 10;
const MAX_SECTION: u64 = 4 << 30;

/// Why a compressed section's claimed size is not believed, if it is not.
fn refused_claim(id: SectionId, range: &object::CompressedFileRange) -> Option<DebugError> {
    if range.format == CompressionFormat::None {
        return None;
    }
    let (len, claimed) = (range.compressed_size, range.uncompressed_size);
    let why = if claimed > MAX_SECTION {
        format!("more than the {} GiB a section may have", MAX_SECTION >> 30)
    } else if claimed > len.saturating_mul(MAX_RATIO).saturating_add(RATIO_SLACK) {
        format!("more than {MAX_RATIO} times its size")
    } else {
        return None;
    };
    Some(DebugError(format!(
        "{}: a compressed section of {len} bytes claims to inflate to {claimed} bytes, {why}: \
         refused",
        id.name()
    )))
}

/// The sections gimli reads for types and variables (lines only because
/// unit parsing reads the line program header).
const SECTIONS: [SectionId; 10] = [
    SectionId::DebugInfo,
    SectionId::DebugAbbrev,
    SectionId::DebugStr,
    SectionId::DebugLineStr,
    SectionId::DebugStrOffsets,
    SectionId::DebugAddr,
    SectionId::DebugLine,
    SectionId::DebugAranges,
    // A `.dwp` package's unit index (split DWARF).
    SectionId::DebugCuIndex,
    SectionId::DebugTuIndex,
];

enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

enum Section {
    Missing,
    /// Uncompressed: a range of the file.
    Range(usize, usize),
    Owned(Vec<u8>),
}

/// A variable with its DWARF type.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    /// Its address in the file (add the module's load bias for the live one);
    /// `None` for a variable without a static location.
    pub link_addr: Option<u64>,
    pub ty: Arc<Type>,
}

/// Names to DIEs, built in one pass on first need.
#[derive(Default)]
struct Index {
    vars: HashMap<String, Vec<DieRef>>,
    types: HashMap<String, Vec<DieRef>>,
    /// A qualified name's last component to the qualified names ending in it.
    short: HashMap<String, Vec<String>>,
    /// A declaration to the definition that names it in `DW_AT_specification`.
    defs: HashMap<DieRef, DieRef>,
}

/// Lookups by symbol a file answers by scanning a unit before it builds
/// its name index instead.
const BY_SYMBOL_LOOKUPS: usize = 8;

/// One ELF file's debug info.
pub struct DebugFile {
    bytes: Bytes,
    endian: RunTimeEndian,
    ranges: HashMap<SectionId, object::CompressedFileRange>,
    loaded: HashMap<SectionId, OnceLock<Result<Section, DebugError>>>,
    index: OnceLock<Result<Index, DebugError>>,
    /// Lookups by symbol so far: past a few, one name index serves them better.
    by_symbol: std::sync::atomic::AtomicUsize,
    pub(super) types: Mutex<HashMap<DieRef, Arc<Type>>>,
    /// The file's build-id note, `.gnu_debuglink` (name, CRC) and whether
    /// it carries `.gnu_debugdata`.
    pub build_id: Option<Vec<u8>>,
    pub debuglink: Option<(String, u32)>,
    pub has_debugdata: bool,
    /// For split DWARF: the skeleton unit this file's unit belongs to.
    split: Option<super::split::SplitOf>,
}

impl fmt::Debug for DebugFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugFile")
            .field("len", &self.bytes.len())
            .field("has_dwarf", &self.has_dwarf())
            .finish()
    }
}

impl DebugFile {
    /// Maps and opens `file`.
    pub fn open(file: &File) -> DResult<DebugFile> {
        let map = crate::sys::map_file(file).map_err(|e| DebugError(format!("mmap: {e}")))?;
        DebugFile::new(Bytes::Mapped(map))
    }

    /// Opens an ELF image held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> DResult<DebugFile> {
        DebugFile::new(Bytes::Owned(bytes))
    }

    fn new(bytes: Bytes) -> DResult<DebugFile> {
        if !bytes.starts_with(b"\x7fELF") {
            return Err(DebugError(NOT_ELF.into()));
        }
        let obj = object::File::parse(&*bytes)?;
        let endian = if obj.is_little_endian() {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        };
        let mut ranges = HashMap::new();
        for id in SECTIONS {
            let found = obj
                .section_by_name(id.name())
                .or_else(|| id.dwo_name().and_then(|n| obj.section_by_name(n)));
            if let Some(section) = found {
                ranges.insert(id, section.compressed_file_range()?);
            }
        }
        let build_id = obj.build_id().ok().flatten().map(<[u8]>::to_vec);
        let debuglink = obj
            .gnu_debuglink()
            .ok()
            .flatten()
            .map(|(name, crc)| (String::from_utf8_lossy(name).into_owned(), crc));
        let has_debugdata = obj.section_by_name(".gnu_debugdata").is_some();
        let loaded = SECTIONS.iter().map(|id| (*id, OnceLock::new())).collect();
        drop(obj);
        Ok(DebugFile {
            bytes,
            endian,
            ranges,
            loaded,
            index: OnceLock::new(),
            by_symbol: std::sync::atomic::AtomicUsize::new(0),
            types: Mutex::new(HashMap::new()),
            build_id,
            debuglink,
            has_debugdata,
            split: None,
        })
    }

    /// Maps and opens the `.dwo` file (or the `.dwp` package holding the
    /// unit) of a skeleton unit: its addresses index the skeleton's file's
    /// `.debug_addr`.
    pub(super) fn open_split(file: &File, of: super::split::SplitOf) -> DResult<DebugFile> {
        let mut dwo = DebugFile::open(file)?;
        dwo.split = Some(of);
        Ok(dwo)
    }

    /// A unit of this file; a split unit takes the address base and other
    /// relocated attributes of its skeleton.
    pub(super) fn unit<'a>(
        &'a self,
        dwarf: &gimli::Dwarf<R<'a>>,
        header: gimli::UnitHeader<R<'a>>,
    ) -> DResult<gimli::Unit<R<'a>>> {
        let mut unit = dwarf.unit(header)?;
        if let Some(split) = &self.split {
            let parent = split.parent.dwarf()?;
            let header = parent
                .debug_info
                .header_from_offset(gimli::DebugInfoOffset(split.unit))?;
            unit.copy_relocated_attributes(&parent.unit(header)?);
        }
        Ok(unit)
    }

    /// Whether the file has DWARF type info (a `.debug_info` section).
    pub fn has_dwarf(&self) -> bool {
        self.ranges
            .get(&SectionId::DebugInfo)
            .is_some_and(|r| r.uncompressed_size > 0)
    }

    /// The first compressed section whose claimed size is refused (see
    /// [`MAX_RATIO`]), found without inflating anything.
    pub fn refused_section(&self) -> Option<DebugError> {
        SECTIONS
            .iter()
            .find_map(|id| refused_claim(*id, self.ranges.get(id)?))
    }

    /// Whether the DWARF sections are compressed, and how.
    pub fn compression(&self) -> Option<&'static str> {
        match self.ranges.get(&SectionId::DebugInfo)?.format {
            CompressionFormat::Zlib => Some("zlib"),
            CompressionFormat::Zstandard => Some("zstd"),
            CompressionFormat::None => None,
            _ => Some("unknown"),
        }
    }

    /// The whole file's bytes (for a CRC check).
    pub fn raw(&self) -> &[u8] {
        &self.bytes
    }

    fn section(&self, id: SectionId) -> DResult<&[u8]> {
        let Some(cell) = self.loaded.get(&id) else {
            return Ok(&[]);
        };
        let section = cell.get_or_init(|| self.load_section(id));
        match section {
            Ok(Section::Missing) => Ok(&[]),
            Ok(Section::Range(start, end)) => Ok(self.bytes.get(*start..*end).unwrap_or_default()),
            Ok(Section::Owned(v)) => Ok(v),
            Err(e) => Err(e.clone()),
        }
    }

    fn load_section(&self, id: SectionId) -> DResult<Section> {
        let Some(range) = self.ranges.get(&id) else {
            return Ok(Section::Missing);
        };
        let bad = || DebugError(format!("{}: section outside the file", id.name()));
        let start = usize::try_from(range.offset).map_err(|_| bad())?;
        let len = usize::try_from(range.compressed_size).map_err(|_| bad())?;
        let end = start.checked_add(len).ok_or_else(bad)?;
        let data = self.bytes.get(start..end).ok_or_else(bad)?;
        if range.format == CompressionFormat::None {
            return Ok(Section::Range(start, end));
        }
        if let Some(refused) = refused_claim(id, range) {
            return Err(refused);
        }
        let claimed = range.uncompressed_size;
        let compressed = object::CompressedData {
            format: range.format,
            data,
            uncompressed_size: claimed,
        };
        let out = compressed
            .decompress()
            .map_err(|e| DebugError(format!("{}: cannot decompress: {e}", id.name())))?;
        Ok(Section::Owned(out.into_owned()))
    }

    /// gimli's view of the sections this file has (cheap: slices only).
    pub(super) fn dwarf(&self) -> DResult<gimli::Dwarf<R<'_>>> {
        self.dwarf_with(&SECTIONS)
    }

    /// As [`DebugFile::dwarf`] with only `ids` (the others empty), so a
    /// scan decompresses no more than it reads.
    fn dwarf_with(&self, ids: &[SectionId]) -> DResult<gimli::Dwarf<R<'_>>> {
        let load = |id| -> DResult<R<'_>> {
            let data = if ids.contains(&id) {
                self.section(id)?
            } else {
                &[]
            };
            Ok(EndianSlice::new(data, self.endian))
        };
        let Some(split) = &self.split else {
            return gimli::Dwarf::load(load);
        };
        let parent = split.parent.dwarf()?;
        if let Some(id) = split.package_unit {
            let package = gimli::DwarfPackage::load(load, EndianSlice::new(&[], self.endian))?;
            return package
                .find_cu(gimli::DwoId(id), &parent)?
                .ok_or_else(|| DebugError(format!("the .dwp package has no unit {id:#x}")));
        }
        let mut dwarf = gimli::Dwarf::load(load)?;
        dwarf.make_dwo(&parent);
        Ok(dwarf)
    }

    /// The address of an ELF symbol defined in this file (`.symtab`, then `.dynsym`).
    pub fn elf_symbol(&self, name: &str) -> Option<u64> {
        let obj = object::File::parse(&*self.bytes).ok()?;
        obj.symbols()
            .chain(obj.dynamic_symbols())
            .find(|s| s.is_definition() && s.name_bytes().ok() == Some(name.as_bytes()))
            .map(|s| s.address())
    }

    /// A variable that has an ELF symbol of the same name, found by its
    /// address: the unit `.debug_aranges` names, else a scan of the units'
    /// top-level DIEs that compares only variables' locations (no names, no
    /// line tables), so it costs a fraction of building the name index.
    pub fn variable_by_symbol(&self, name: &str) -> DResult<Option<Variable>> {
        // Each lookup by symbol scans a unit; many (a thousand watches)
        // cost less through the name index, built once in one pass.
        let done = self
            .by_symbol
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if done >= BY_SYMBOL_LOOKUPS || self.index.get().is_some() {
            return self.variable_indexed(name);
        }
        let Some(addr) = self.elf_symbol(name) else {
            return Ok(None);
        };
        let dwarf = self.dwarf_with(&[
            SectionId::DebugInfo,
            SectionId::DebugAbbrev,
            SectionId::DebugAranges,
        ])?;
        let mut units = Vec::new();
        if let Some(unit) = unit_for_address(&dwarf, addr)? {
            units.push(unit);
        }
        let full = self.dwarf()?;
        let mut builder = Builder::new(self, &full);
        for unit in units {
            if let Some(var) = builder.variable_in_unit(unit, name, addr)? {
                return Ok(Some(var));
            }
        }
        match scan_for_address(&dwarf, addr)? {
            Some(die) => builder.variable(die, name).map(Some),
            None => Ok(None),
        }
    }

    /// A variable by name: `counter`, `ns::Class::instance`, `crate::STATIC`.
    pub fn variable(&self, name: &str) -> DResult<Option<Variable>> {
        if let Some(var) = self.variable_by_symbol(name)? {
            return Ok(Some(var));
        }
        self.variable_indexed(name)
    }

    /// A variable through the name index (built on first use).
    fn variable_indexed(&self, name: &str) -> DResult<Option<Variable>> {
        let dwarf = self.dwarf()?;
        let mut builder = Builder::new(self, &dwarf);
        let index = self.index(&dwarf)?;
        let Some(dies) = lookup(&index.vars, &index.short, name) else {
            return Ok(None);
        };
        // A definition (with a location) beats a declaration.
        let mut best = None;
        for die in dies {
            let die = index.defs.get(die).copied().unwrap_or(*die);
            let var = builder.variable(die, name)?;
            if var.link_addr.is_some() {
                return Ok(Some(var));
            }
            best.get_or_insert(var);
        }
        Ok(best)
    }

    /// A type by name: `struct player`, `player`, `ns::Class`, `crate::Point`.
    pub fn type_named(&self, name: &str) -> DResult<Option<Arc<Type>>> {
        let (keyword, bare) = split_keyword(name);
        let dwarf = self.dwarf()?;
        let index = self.index(&dwarf)?;
        let Some(dies) = lookup(&index.types, &index.short, bare) else {
            return Ok(None);
        };
        let mut builder = Builder::new(self, &dwarf);
        let mut fallback = None;
        for die in dies {
            let ty = builder.type_at(*die, 0)?;
            if let Some(k) = keyword {
                if !ty.name.starts_with(k) && !builder.has_keyword(*die, k)? {
                    continue;
                }
            }
            // A complete definition beats a forward declaration.
            if !ty.fields().is_empty() || !builder.is_declaration(*die)? {
                return Ok(Some(ty));
            }
            fallback.get_or_insert(ty);
        }
        Ok(fallback)
    }

    /// Resolves a pointer's target type.
    pub fn resolve(&self, link: &super::types::TypeLink) -> DResult<Arc<Type>> {
        let dwarf = self.dwarf()?;
        Builder::new(self, &dwarf).type_at(link.die, 0)
    }

    /// Variable names the index knows (for completion and suggestions).
    pub fn variable_names(&self) -> DResult<Vec<String>> {
        let dwarf = self.dwarf()?;
        let mut names: Vec<String> = self.index(&dwarf)?.vars.keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    fn index(&self, dwarf: &gimli::Dwarf<R<'_>>) -> DResult<&Index> {
        self.index
            .get_or_init(|| build_index(dwarf))
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn split_keyword(name: &str) -> (Option<&'static str>, &str) {
    let name = name.trim();
    for k in ["struct", "class", "union", "enum"] {
        if let Some(rest) = name.strip_prefix(k).and_then(|r| r.strip_prefix(' ')) {
            return (Some(k), rest.trim());
        }
    }
    (None, name)
}

fn lookup<'a>(
    map: &'a HashMap<String, Vec<DieRef>>,
    short: &HashMap<String, Vec<String>>,
    name: &str,
) -> Option<&'a Vec<DieRef>> {
    if let Some(found) = map.get(name) {
        return Some(found);
    }
    // `Class` for `ns::Class` when only one qualified name ends so.
    let mut quals = short.get(name)?.iter().filter(|q| map.contains_key(*q));
    let first = quals.next()?;
    if quals.next().is_some() {
        return None;
    }
    map.get(first)
}

/// The unit whose `.debug_aranges` ranges hold `addr`.
fn unit_for_address(dwarf: &gimli::Dwarf<R<'_>>, addr: u64) -> DResult<Option<usize>> {
    let mut headers = dwarf.debug_aranges.headers();
    while let Some(header) = headers.next()? {
        let mut entries = header.entries();
        while let Some(entry) = entries.next()? {
            let range = entry.range();
            if range.begin <= addr && addr < range.end {
                return Ok(Some(header.debug_info_offset().0));
            }
        }
    }
    Ok(None)
}

/// The variable DIE whose location is `DW_OP_addr addr`, among each unit's
/// top-level DIEs and namespaces. Reads only `.debug_info` and `.debug_abbrev`.
fn scan_for_address(dwarf: &gimli::Dwarf<R<'_>>, addr: u64) -> DResult<Option<DieRef>> {
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let Some(unit_off) = header.offset().as_debug_info_offset() else {
            continue;
        };
        let abbrevs = dwarf.abbreviations(&header)?;
        let mut tree = header.entries_tree(&abbrevs, None)?;
        let root = tree.root()?;
        if let Some(die) = scan_scope(root, addr, header.address_size(), 0)? {
            return Ok(Some(DieRef {
                unit: unit_off.0,
                die,
            }));
        }
    }
    Ok(None)
}

fn scan_scope(
    node: gimli::EntriesTreeNode<'_, '_, '_, R<'_>>,
    addr: u64,
    address_size: u8,
    depth: usize,
) -> DResult<Option<usize>> {
    let mut children = node.children();
    while let Some(child) = children.next()? {
        let entry = child.entry();
        match entry.tag() {
            gimli::DW_TAG_variable => {
                if let Some(gimli::AttributeValue::Exprloc(expr)) =
                    entry.attr_value(gimli::DW_AT_location)?
                {
                    let bytes = expr.0.slice();
                    if bytes.len() == 1 + usize::from(address_size)
                        && bytes[0] == gimli::DW_OP_addr.0
                    {
                        let mut r =
                            gimli::EndianSlice::new(&bytes[1..], gimli::Reader::endian(&expr.0));
                        if gimli::Reader::read_address(&mut r, address_size)? == addr {
                            return Ok(Some(entry.offset().0));
                        }
                    }
                }
            }
            gimli::DW_TAG_namespace | gimli::DW_TAG_module if depth < MAX_SCOPE_DEPTH => {
                if let Some(found) = scan_scope(child, addr, address_size, depth + 1)? {
                    return Ok(Some(found));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// How deep namespaces nest before the index stops descending.
const MAX_SCOPE_DEPTH: usize = 32;

fn build_index(dwarf: &gimli::Dwarf<R<'_>>) -> DResult<Index> {
    let mut index = Index::default();
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let Some(unit_off) = header.offset().as_debug_info_offset() else {
            continue;
        };
        let unit = dwarf.unit(header)?;
        let mut tree = unit.entries_tree(None)?;
        let root = tree.root()?;
        let mut ctx = IndexCtx {
            dwarf,
            unit: &unit,
            unit_off: unit_off.0,
            index: &mut index,
        };
        ctx.scope(root, "", 0)?;
    }
    Ok(index)
}

struct IndexCtx<'i, 'a> {
    dwarf: &'i gimli::Dwarf<R<'a>>,
    unit: &'i gimli::Unit<R<'a>>,
    unit_off: usize,
    index: &'i mut Index,
}

impl IndexCtx<'_, '_> {
    fn scope(
        &mut self,
        node: gimli::EntriesTreeNode<'_, '_, '_, R<'_>>,
        prefix: &str,
        depth: usize,
    ) -> DResult<()> {
        if depth > MAX_SCOPE_DEPTH {
            return Ok(());
        }
        let mut children = node.children();
        while let Some(child) = children.next()? {
            let entry = child.entry();
            let tag = entry.tag();
            let die = DieRef {
                unit: self.unit_off,
                die: entry.offset().0,
            };
            let name = match entry.attr_value(gimli::DW_AT_name)? {
                Some(v) => Some(
                    self.dwarf
                        .attr_string(self.unit, v)?
                        .to_string_lossy()
                        .into_owned(),
                ),
                None => None,
            };
            if let Some(gimli::AttributeValue::UnitRef(spec)) =
                entry.attr_value(gimli::DW_AT_specification)?
            {
                let spec = DieRef {
                    unit: self.unit_off,
                    die: spec.0,
                };
                self.index.defs.insert(spec, die);
            }
            let qualified = name.as_ref().map(|n| match prefix {
                "" => n.clone(),
                p => format!("{p}::{n}"),
            });
            match tag {
                gimli::DW_TAG_variable => {
                    if let Some(q) = qualified {
                        self.add(true, q, name.unwrap_or_default(), die);
                    }
                }
                gimli::DW_TAG_namespace | gimli::DW_TAG_module => {
                    let inner = qualified.unwrap_or_else(|| prefix.to_string());
                    self.scope(child, &inner, depth + 1)?;
                }
                gimli::DW_TAG_structure_type
                | gimli::DW_TAG_class_type
                | gimli::DW_TAG_union_type
                | gimli::DW_TAG_enumeration_type
                | gimli::DW_TAG_typedef
                | gimli::DW_TAG_base_type => {
                    if let Some(q) = qualified {
                        // Static members and nested types live inside classes.
                        if matches!(tag, gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type) {
                            self.scope(child, &q, depth + 1)?;
                        }
                        self.add(false, q, name.unwrap_or_default(), die);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn add(&mut self, var: bool, qualified: String, short: String, die: DieRef) {
        if qualified != short {
            let names = self.index.short.entry(short).or_default();
            if !names.contains(&qualified) {
                names.push(qualified.clone());
            }
        }
        let map = if var {
            &mut self.index.vars
        } else {
            &mut self.index.types
        };
        map.entry(qualified).or_default().push(die);
    }
}

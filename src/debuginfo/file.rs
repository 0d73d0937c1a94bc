//! One ELF file's debug info: its sections (mapped; a zlib-compressed one
//! inflated only as far as it is read), its units, and typed variable lookup.
//!
//! A lookup of a variable that also has an ELF symbol goes to the unit
//! `.debug_aranges` names for its address, else walks the units in order,
//! comparing only variables' locations, and stops at the one that defines
//! it: `.debug_info` is inflated no further. Anything else goes through
//! `.gdb_index` where the file has one, else the name index ([`super::names`]).

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::sync::{Arc, Mutex, OnceLock};

use gimli::{EndianSlice, RunTimeEndian, SectionId};
use object::{CompressionFormat, Object, ObjectSection, ObjectSymbol};

use super::build::Builder;
use super::gdb_index::{GdbIndex, Kind};
use super::lazy::Lazy;
use super::names::{
    Index, MAX_SCOPE_DEPTH, build_index, pick_type, pick_variable, split_keyword, units_index,
};
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

/// The DWARF sections pvtui reads (`.debug_line` only for source lines
/// and split units: other units are opened without their line program).
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

/// What else a `.dwp` package's unit index may give a unit a part of:
/// gimli cuts each part out of its section, so an empty one fails the unit.
/// Read only for split units.
const PACKAGE_PARTS: [SectionId; 4] = [
    SectionId::DebugLoc,
    SectionId::DebugLocLists,
    SectionId::DebugRngLists,
    SectionId::DebugTypes,
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
    /// zlib-compressed (the file range of its compressed bytes): inflated
    /// as far as it is read.
    Lazy(usize, usize, Box<Lazy>),
}

/// A variable with its DWARF type.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    /// Its address in the file (add the module's load bias for the live one);
    /// `None` for a variable without a static location.
    pub link_addr: Option<u64>,
    pub ty: Arc<Type>,
    /// Thread-local: each thread has its own, at an offset in its TLS block.
    pub thread_local: bool,
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
    /// The file range of an uncompressed `.gdb_index`.
    gdb_index: Option<(usize, usize)>,
    /// Lookups `.gdb_index` answered.
    by_gdb_index: std::sync::atomic::AtomicUsize,
    /// Abbreviation tables by offset (units often share one).
    abbrevs: Mutex<HashMap<usize, Arc<gimli::Abbreviations>>>,
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
        for id in SECTIONS.into_iter().chain(PACKAGE_PARTS) {
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
        let gdb_index = obj
            .section_by_name(".gdb_index")
            .and_then(|s| s.compressed_file_range().ok())
            .filter(|r| r.format == CompressionFormat::None)
            .and_then(|r| {
                let start = usize::try_from(r.offset).ok()?;
                let end = start.checked_add(usize::try_from(r.compressed_size).ok()?)?;
                (end <= bytes.len()).then_some((start, end))
            });
        let loaded = SECTIONS
            .iter()
            .chain(&PACKAGE_PARTS)
            .map(|id| (*id, OnceLock::new()))
            .collect();
        drop(obj);
        Ok(DebugFile {
            bytes,
            endian,
            ranges,
            loaded,
            index: OnceLock::new(),
            by_symbol: std::sync::atomic::AtomicUsize::new(0),
            types: Mutex::new(HashMap::new()),
            abbrevs: Mutex::new(HashMap::new()),
            gdb_index,
            by_gdb_index: std::sync::atomic::AtomicUsize::new(0),
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
        self.upto(id, usize::MAX)
    }

    /// A section's first `end` bytes, or all of it when shorter; a
    /// compressed one may give more (what an earlier read inflated).
    fn upto(&self, id: SectionId, end: usize) -> DResult<&[u8]> {
        let Some(cell) = self.loaded.get(&id) else {
            return Ok(&[]);
        };
        let section = cell.get_or_init(|| self.load_section(id));
        match section {
            Ok(Section::Missing) => Ok(&[]),
            Ok(Section::Range(start, end)) => Ok(self.bytes.get(*start..*end).unwrap_or_default()),
            Ok(Section::Owned(v)) => Ok(v),
            Ok(Section::Lazy(start, stop, lazy)) => {
                lazy.upto(self.bytes.get(*start..*stop).unwrap_or_default(), end)
            }
            Err(e) => Err(e.clone()),
        }
    }

    /// Whether all of a section is at hand (a compressed one fully inflated).
    fn complete(&self, id: SectionId) -> bool {
        match self.loaded.get(&id).and_then(OnceLock::get) {
            Some(Ok(Section::Lazy(_, _, lazy))) => lazy.complete(),
            _ => true,
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
        if range.format == CompressionFormat::Zlib {
            let size = usize::try_from(claimed).map_err(|_| bad())?;
            return Ok(Section::Lazy(
                start,
                end,
                Box::new(Lazy::new(id.name(), size)),
            ));
        }
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

    /// gimli's view of every section, each read whole (for line programs).
    pub(super) fn dwarf(&self) -> DResult<gimli::Dwarf<R<'_>>> {
        self.dwarf_with(&SECTIONS)
    }

    /// As [`DebugFile::dwarf`] with only `ids` (the others empty), so a
    /// scan decompresses no more than it reads.
    fn dwarf_with(&self, ids: &[SectionId]) -> DResult<gimli::Dwarf<R<'_>>> {
        let load = |id| -> DResult<R<'_>> {
            let wanted = ids.contains(&id) || (self.split.is_some() && PACKAGE_PARTS.contains(&id));
            let data = if wanted { self.section(id)? } else { &[] };
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

    /// gimli's view of the small sections a unit's DIEs refer to (strings,
    /// addresses, aranges), without `.debug_info`, `.debug_abbrev` and
    /// `.debug_line`: units come from [`DebugFile::unit_at`], which
    /// inflates no more of them than it reads.
    pub(super) fn dwarf_lite(&self) -> DResult<gimli::Dwarf<R<'_>>> {
        // A split unit's file is small, and its sections are the package's
        // parts or read with its skeleton's: gimli's view of all of it.
        if self.split.is_some() {
            return self.dwarf();
        }
        self.dwarf_with(&[
            SectionId::DebugStr,
            SectionId::DebugLineStr,
            SectionId::DebugStrOffsets,
            SectionId::DebugAddr,
            SectionId::DebugAranges,
        ])
    }

    /// The unit at `.debug_info` offset `off` with its abbreviations (no
    /// line program), or `None` past the last one. Inflates the section
    /// only through the unit's end.
    pub(super) fn unit_at<'a>(
        &'a self,
        dwarf: &gimli::Dwarf<R<'a>>,
        off: usize,
    ) -> DResult<Option<gimli::Unit<R<'a>>>> {
        if self.split.is_some() {
            if off >= gimli::Section::reader(&dwarf.debug_info).len() {
                return Ok(None);
            }
            let header = dwarf
                .debug_info
                .header_from_offset(gimli::DebugInfoOffset(off))?;
            return self.unit(dwarf, header).map(Some);
        }
        let head = self.upto(SectionId::DebugInfo, off.saturating_add(12))?;
        let Some(rest) = head.get(off..).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let mut r = EndianSlice::new(rest, self.endian);
        let (len, format) = gimli::Reader::read_initial_length(&mut r)?;
        let end = len
            .checked_add(usize::from(format.initial_length_size()))
            .and_then(|l| l.checked_add(off))
            .ok_or_else(|| DebugError(format!("unit at {off:#x}: length out of range")))?;
        let info = self.upto(SectionId::DebugInfo, end)?;
        let header = gimli::DebugInfo::new(info, self.endian)
            .header_from_offset(gimli::DebugInfoOffset(off))?;
        let abbrevs = self.abbreviations(header.debug_abbrev_offset().0)?;
        open_unit(dwarf, header, abbrevs).map(Some)
    }

    /// The `.debug_info` offset of every unit (inflating all of it).
    pub(super) fn unit_starts(&self) -> DResult<Vec<usize>> {
        let dwarf = match self.split {
            Some(_) => self.dwarf()?,
            None => self.dwarf_with(&[SectionId::DebugInfo])?,
        };
        let mut units = dwarf.debug_info.units();
        let mut starts = Vec::new();
        while let Some(h) = units.next()? {
            if let Some(o) = h.offset().as_debug_info_offset() {
                starts.push(o.0);
            }
        }
        Ok(starts)
    }

    /// The abbreviation table at `off`, inflating `.debug_abbrev` until it
    /// is whole.
    fn abbreviations(&self, off: usize) -> DResult<Arc<gimli::Abbreviations>> {
        if let Some(found) = self.abbrevs.lock().ok().and_then(|a| a.get(&off).cloned()) {
            return Ok(found);
        }
        let mut span: usize = 16 << 10;
        let table = loop {
            let data = self.upto(SectionId::DebugAbbrev, off.saturating_add(span))?;
            let complete = self.complete(SectionId::DebugAbbrev);
            match gimli::DebugAbbrev::new(data, self.endian)
                .abbreviations(gimli::DebugAbbrevOffset(off))
            {
                Ok(table) => break Arc::new(table),
                // Cut short by what is inflated so far: inflate more.
                Err(gimli::Error::UnexpectedEof(_)) if !complete => span = span.saturating_mul(4),
                Err(e) => return Err(e.into()),
            }
        };
        if let Ok(mut cache) = self.abbrevs.lock() {
            cache.insert(off, Arc::clone(&table));
        }
        Ok(table)
    }

    /// The address of an ELF symbol defined in this file (`.symtab`, then
    /// `.dynsym`), and its name as the file spells it. A qualified name
    /// (`app::STATE`, `ns::counter`) also matches a mangled symbol that
    /// demangles to it; only symbols holding its last part are demangled.
    pub fn elf_symbol(&self, name: &str) -> Option<(u64, String)> {
        let obj = object::File::parse(&*self.bytes).ok()?;
        let defined = || {
            obj.symbols()
                .chain(obj.dynamic_symbols())
                .filter(|s| s.is_definition())
        };
        // Two definitions of the name (a file's static and another's global)
        // are left to the name index, which picks one the same way always.
        let one = |mut found: Vec<(u64, String)>| {
            found.sort();
            found.dedup_by_key(|f| f.0);
            (found.len() == 1).then(|| found.remove(0))
        };
        let exact: Vec<(u64, String)> = defined()
            .filter(|s| s.name_bytes().ok() == Some(name.as_bytes()))
            .map(|s| (s.address(), name.to_string()))
            .collect();
        if !exact.is_empty() {
            return one(exact);
        }
        let last = name.rsplit("::").next().filter(|_| name.contains("::"))?;
        one(defined()
            .filter_map(|s| {
                let raw = s.name().ok()?;
                (raw.contains(last) && crate::symbols::demangle(raw).as_deref() == Some(name))
                    .then(|| (s.address(), raw.to_string()))
            })
            .collect())
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
        let Some((addr, link)) = self.elf_symbol(name) else {
            return Ok(None);
        };
        let dwarf = self.dwarf_lite()?;
        let mut builder = Builder::new(self, &dwarf);
        if let Some(unit) = unit_for_address(&dwarf, addr)? {
            if let Some(var) = builder.variable_in_unit(unit, name, &link, addr)? {
                return Ok(Some(var));
            }
        }
        // Unit by unit, inflating no further than the one that defines it.
        let mut off = 0;
        while let Some(unit) = self.unit_at(&dwarf, off)? {
            let mut tree = unit.header.entries_tree(&unit.abbreviations, None)?;
            if let Some(die) = scan_scope(&dwarf, &unit, tree.root()?, addr, 0)? {
                return builder.variable(DieRef { unit: off, die }, name).map(Some);
            }
            off = off
                .checked_add(unit.header.length_including_self())
                .ok_or_else(|| DebugError("unit length out of range".into()))?;
        }
        Ok(None)
    }

    /// A variable by name: `counter`, `ns::Class::instance`, `crate::STATIC`.
    pub fn variable(&self, name: &str) -> DResult<Option<Variable>> {
        if let Some(var) = self.variable_by_symbol(name)? {
            return Ok(Some(var));
        }
        self.variable_indexed(name)
    }

    /// A variable through `.gdb_index` when the file has one that knows
    /// the name, else through the name index (built on first use).
    fn variable_indexed(&self, name: &str) -> DResult<Option<Variable>> {
        if let Some(units) = self.gdb_units(name, Kind::Variable) {
            let dwarf = self.dwarf_lite()?;
            let index = units_index(self, &dwarf, &units)?;
            if let Some(var) = pick_variable(self, &dwarf, &index, name)? {
                if var.link_addr.is_some() {
                    self.counted_gdb_index();
                    return Ok(Some(var));
                }
            }
        }
        let dwarf = self.dwarf_lite()?;
        let index = self.index(&dwarf)?;
        pick_variable(self, &dwarf, index, name)
    }

    /// A type by name: `struct player`, `player`, `ns::Class`, `crate::Point`.
    pub fn type_named(&self, name: &str) -> DResult<Option<Arc<Type>>> {
        let (keyword, bare) = split_keyword(name);
        let dwarf = self.dwarf_lite()?;
        if let Some(units) = self.gdb_units(bare, Kind::Type) {
            let index = units_index(self, &dwarf, &units)?;
            if let Some(ty) = pick_type(self, &dwarf, &index, keyword, bare)? {
                self.counted_gdb_index();
                return Ok(Some(ty));
            }
        }
        let index = self.index(&dwarf)?;
        pick_type(self, &dwarf, index, keyword, bare)
    }

    /// The units `.gdb_index` says define `name`, when the file has a
    /// usable one that knows it.
    fn gdb_units(&self, name: &str, kind: Kind) -> Option<Vec<usize>> {
        let (start, end) = self.gdb_index?;
        let index = GdbIndex::parse(self.bytes.get(start..end)?).ok()?;
        index.units(name, kind)
    }

    fn counted_gdb_index(&self) {
        self.by_gdb_index
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The name index lookups use: `gdb_index (version N)`, or `unit scan`
    /// (with why a `.gdb_index` present is not used).
    pub fn name_index(&self) -> String {
        let Some((start, end)) = self.gdb_index else {
            return "unit scan".into();
        };
        match GdbIndex::parse(self.bytes.get(start..end).unwrap_or_default()) {
            Ok(index) => format!("gdb_index (version {})", index.version),
            Err(why) => format!("unit scan (.gdb_index not used: {why})"),
        }
    }

    /// How many lookups `.gdb_index` answered, and whether the name index
    /// of the whole file (a scan of every unit) was built.
    pub fn index_use(&self) -> (usize, bool) {
        (
            self.by_gdb_index.load(std::sync::atomic::Ordering::Relaxed),
            self.index.get().is_some(),
        )
    }

    /// Resolves a pointer's target type.
    pub fn resolve(&self, link: &super::types::TypeLink) -> DResult<Arc<Type>> {
        let dwarf = self.dwarf_lite()?;
        Builder::new(self, &dwarf).type_at(link.die, 0)
    }

    /// Variable names the index knows (for completion and suggestions).
    pub fn variable_names(&self) -> DResult<Vec<String>> {
        let dwarf = self.dwarf_lite()?;
        let mut names: Vec<String> = self.index(&dwarf)?.vars.keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    fn index(&self, dwarf: &gimli::Dwarf<R<'_>>) -> DResult<&Index> {
        self.index
            .get_or_init(|| build_index(self, dwarf))
            .as_ref()
            .map_err(Clone::clone)
    }
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

/// The variable DIE whose location is `addr` (`DW_OP_addr`, or clang's
/// `DW_OP_addrx`) among a unit's top-level DIEs and namespaces.
fn scan_scope(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &gimli::Unit<R<'_>>,
    node: gimli::EntriesTreeNode<'_, '_, '_, R<'_>>,
    addr: u64,
    depth: usize,
) -> DResult<Option<usize>> {
    let mut children = node.children();
    while let Some(child) = children.next()? {
        let entry = child.entry();
        match entry.tag() {
            gimli::DW_TAG_variable
                if super::address::location_addr(dwarf, unit, entry)? == Some(addr) =>
            {
                return Ok(Some(entry.offset().0));
            }
            gimli::DW_TAG_namespace | gimli::DW_TAG_module if depth < MAX_SCOPE_DEPTH => {
                if let Some(found) = scan_scope(dwarf, unit, child, addr, depth + 1)? {
                    return Ok(Some(found));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// A unit as [`gimli::Unit::new`] makes it, without its line program: a
/// lookup reads no `.debug_line`.
pub(super) fn open_unit<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    header: gimli::UnitHeader<R<'a>>,
    abbreviations: Arc<gimli::Abbreviations>,
) -> DResult<gimli::Unit<R<'a>>> {
    let encoding = header.encoding();
    let file = dwarf.file_type;
    let mut unit = gimli::Unit {
        abbreviations,
        name: None,
        comp_dir: None,
        low_pc: 0,
        str_offsets_base: gimli::DebugStrOffsetsBase::default_for_encoding_and_file(encoding, file),
        addr_base: gimli::DebugAddrBase(0),
        loclists_base: gimli::DebugLocListsBase::default_for_encoding_and_file(encoding, file),
        rnglists_base: gimli::DebugRngListsBase::default_for_encoding_and_file(encoding, file),
        line_program: None,
        dwo_id: match header.type_() {
            gimli::UnitType::Skeleton(id) | gimli::UnitType::SplitCompilation(id) => Some(id),
            _ => None,
        },
        header,
    };
    let mut low_pc = None;
    {
        let mut cursor = unit.header.entries(&unit.abbreviations);
        cursor.next_dfs()?;
        let root = cursor.current().ok_or(gimli::Error::MissingUnitDie)?;
        let mut attrs = root.attrs();
        while let Some(attr) = attrs.next()? {
            match (attr.name(), attr.value()) {
                (gimli::DW_AT_str_offsets_base, gimli::AttributeValue::DebugStrOffsetsBase(b)) => {
                    unit.str_offsets_base = b;
                }
                (
                    gimli::DW_AT_addr_base | gimli::DW_AT_GNU_addr_base,
                    gimli::AttributeValue::DebugAddrBase(b),
                ) => unit.addr_base = b,
                (gimli::DW_AT_loclists_base, gimli::AttributeValue::DebugLocListsBase(b)) => {
                    unit.loclists_base = b;
                }
                (
                    gimli::DW_AT_rnglists_base | gimli::DW_AT_GNU_ranges_base,
                    gimli::AttributeValue::DebugRngListsBase(b),
                ) => unit.rnglists_base = b,
                (gimli::DW_AT_GNU_dwo_id, gimli::AttributeValue::DwoId(id)) => {
                    unit.dwo_id.get_or_insert(id);
                }
                (gimli::DW_AT_low_pc, v) => low_pc = Some(v),
                _ => {}
            }
        }
    }
    if let Some(v) = low_pc {
        if let Some(addr) = dwarf.attr_address(&unit, v)? {
            unit.low_pc = addr;
        }
    }
    Ok(unit)
}

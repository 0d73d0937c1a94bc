//! One ELF object's symbols, read with goblin, and its load bias.

use std::collections::HashMap;
use std::io::Read;

use goblin::elf::Elf;
use goblin::elf::program_header::PT_LOAD;
use goblin::elf::section_header::{SHN_ABS, SHN_UNDEF};
use goblin::elf::sym::{STT_COMMON, STT_FUNC, STT_GNU_IFUNC, STT_NOTYPE, STT_OBJECT};

use crate::process::Region;

const PAGE_MASK: u64 = !0xfff;

/// What a symbol names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// Data: a global or static variable.
    Object,
    Function,
    Other,
}

/// A symbol as the file defines it (its address before relocation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfSymbol {
    /// Demangled when it was mangled (`app::STATE`, without Rust's hash).
    pub name: String,
    /// The name in the file, when it differs from `name`.
    pub mangled: Option<String>,
    pub value: u64,
    pub size: u64,
    pub kind: SymbolKind,
}

/// The symbols of one ELF file, indexed by name and by address.
#[derive(Debug, Default)]
pub struct ObjectFile {
    /// Sorted by value.
    symbols: Vec<ElfSymbol>,
    /// Both the demangled and the mangled name lead to the symbol.
    by_name: HashMap<String, Vec<u32>>,
    /// `(file offset, virtual address)` of each loadable segment, page-aligned.
    loads: Vec<(u64, u64)>,
    /// Whether it has a full `.symtab` (a stripped object has `.dynsym` only).
    has_symtab: bool,
}

/// Why an ELF object's symbols could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Not an ELF file (a mapped font, locale archive, data file): not an error to show.
    NotElf,
    Failed(String),
}

/// Adds the defined data and code symbols of one symbol table.
fn collect(
    syms: &goblin::elf::Symtab<'_>,
    strtab: &goblin::strtab::Strtab<'_>,
    out: &mut Vec<ElfSymbol>,
) {
    for sym in syms.iter() {
        let kind = match sym.st_type() {
            STT_OBJECT | STT_COMMON => SymbolKind::Object,
            STT_FUNC | STT_GNU_IFUNC => SymbolKind::Function,
            STT_NOTYPE => SymbolKind::Other,
            _ => continue,
        };
        let shndx = sym.st_shndx as u32;
        if shndx == SHN_UNDEF || shndx == SHN_ABS || sym.st_value == 0 {
            continue;
        }
        let Some(raw) = strtab.get_at(sym.st_name).filter(|n| !n.is_empty()) else {
            continue;
        };
        let demangled = demangle(raw);
        out.push(ElfSymbol {
            name: demangled.clone().unwrap_or_else(|| raw.to_string()),
            mangled: demangled.map(|_| raw.to_string()),
            value: sym.st_value,
            size: sym.st_size,
            kind,
        });
    }
}

/// MiniDebugInfo decompresses to more than this only when corrupt (it is a
/// symtab: a few MiB for the largest programs).
const MAX_MINIDEBUGINFO: usize = 256 << 20;

/// The ELF image in `.gnu_debugdata` (MiniDebugInfo: an xz-compressed
/// object holding a `.symtab`), when there is one and it decompresses.
fn minidebuginfo(elf: &Elf<'_>, bytes: &[u8]) -> Option<Vec<u8>> {
    let section = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".gnu_debugdata"))?;
    let start = usize::try_from(section.sh_offset).ok()?;
    let data = bytes.get(start..start.checked_add(usize::try_from(section.sh_size).ok()?)?)?;
    let mut out = CappedVec(Vec::new());
    lzma_rs::xz_decompress(&mut std::io::BufReader::new(data), &mut out).ok()?;
    out.0.starts_with(b"\x7fELF").then_some(out.0)
}

/// A Vec that refuses to grow past [`MAX_MINIDEBUGINFO`].
struct CappedVec(Vec<u8>);

impl std::io::Write for CappedVec {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len().saturating_add(buf.len()) > MAX_MINIDEBUGINFO {
            return Err(std::io::Error::other(
                "MiniDebugInfo decompresses past 256 MiB",
            ));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ObjectFile {
    /// Reads an ELF file; checks the magic first so large data files are not read whole.
    pub fn read(mut file: impl Read) -> Result<ObjectFile, LoadError> {
        let mut magic = [0u8; 4];
        if file.read_exact(&mut magic).is_err() || &magic != b"\x7fELF" {
            return Err(LoadError::NotElf);
        }
        let mut bytes = magic.to_vec();
        file.read_to_end(&mut bytes)
            .map_err(|e| LoadError::Failed(format!("cannot read it: {e}")))?;
        ObjectFile::parse(&bytes)
    }

    /// As [`ObjectFile::read`], mapping the file rather than copying it: only
    /// the pages of its headers and symbol tables are touched.
    pub fn open(mut file: std::fs::File) -> Result<ObjectFile, LoadError> {
        let mut magic = [0u8; 4];
        if file.read_exact(&mut magic).is_err() || &magic != b"\x7fELF" {
            return Err(LoadError::NotElf);
        }
        match crate::sys::map_file(&file) {
            Ok(map) => ObjectFile::parse(&map),
            // Not mappable (a special file): read it after the magic.
            Err(_) => {
                let mut bytes = magic.to_vec();
                file.read_to_end(&mut bytes)
                    .map_err(|e| LoadError::Failed(format!("cannot read it: {e}")))?;
                ObjectFile::parse(&bytes)
            }
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<ObjectFile, LoadError> {
        let elf = Elf::parse(bytes)
            .map_err(|e| LoadError::Failed(format!("not a valid ELF file: {e}")))?;
        let loads = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == PT_LOAD)
            .map(|ph| (ph.p_offset & PAGE_MASK, ph.p_vaddr & PAGE_MASK))
            .collect();
        let mut symbols = Vec::new();
        collect(&elf.syms, &elf.strtab, &mut symbols);
        collect(&elf.dynsyms, &elf.dynstrtab, &mut symbols);
        // A stripped object may carry its symtab in MiniDebugInfo. Unreadable
        // MiniDebugInfo leaves the other symbols usable (`pvtui debuginfo`
        // says what is wrong with it).
        if let Some(inner) = minidebuginfo(&elf, bytes) {
            if let Ok(mini) = Elf::parse(&inner) {
                collect(&mini.syms, &mini.strtab, &mut symbols);
            }
        }
        let mut object = ObjectFile {
            symbols: Vec::new(),
            by_name: HashMap::new(),
            loads,
            has_symtab: !elf.syms.is_empty(),
        };
        object.index(symbols);
        Ok(object)
    }

    /// Sorts `symbols` in and indexes them by name. `.symtab` and `.dynsym`
    /// (or a debug file's `.symtab`) repeat each other; one of each
    /// (name, value) is kept.
    fn index(&mut self, mut symbols: Vec<ElfSymbol>) {
        symbols.sort_by(|a, b| (a.value, &a.name).cmp(&(b.value, &b.name)));
        symbols.dedup_by(|a, b| a.value == b.value && a.name == b.name);
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::with_capacity(symbols.len());
        for (i, sym) in symbols.iter().enumerate() {
            let i = i as u32;
            by_name.entry(sym.name.clone()).or_default().push(i);
            if let Some(mangled) = &sym.mangled {
                by_name.entry(mangled.clone()).or_default().push(i);
            }
        }
        self.symbols = symbols;
        self.by_name = by_name;
    }

    /// Whether it has a full `.symtab`, local symbols included.
    pub fn has_symtab(&self) -> bool {
        self.has_symtab
    }

    /// Takes in the symbols of the object's separate debug file (the same
    /// addresses, and the `.symtab` a stripped object lacks).
    pub fn absorb(&mut self, debug: ObjectFile) {
        let mut symbols = std::mem::take(&mut self.symbols);
        symbols.extend(debug.symbols);
        self.index(symbols);
        self.has_symtab |= debug.has_symtab;
    }

    pub fn symbols(&self) -> &[ElfSymbol] {
        &self.symbols
    }

    /// The best definition of `name`: data before code, sized before unsized.
    pub fn lookup(&self, name: &str) -> Option<&ElfSymbol> {
        let rank = |s: &ElfSymbol| (s.kind != SymbolKind::Object, s.size == 0);
        self.by_name
            .get(name)?
            .iter()
            .filter_map(|&i| self.symbols.get(i as usize))
            .min_by_key(|s| rank(s))
    }

    /// The symbol whose extent holds the unrelocated address `vaddr`.
    pub fn containing(&self, vaddr: u64) -> Option<&ElfSymbol> {
        let end = self.symbols.partition_point(|s| s.value <= vaddr);
        self.symbols[..end]
            .iter()
            .rev()
            .take(64)
            .filter(|s| vaddr < s.value.saturating_add(s.size.max(1)))
            // A marker of no size (`__TMC_END__`) sharing an address with a
            // real object loses to it.
            .min_by_key(|s| (s.kind != SymbolKind::Object, vaddr - s.value, s.size == 0))
    }

    /// How far the file was moved when mapped: the first region whose file
    /// offset starts a loadable segment maps that segment's first page.
    /// Zero for a non-PIE executable; the load base for PIE and shared objects.
    pub fn bias<'a>(&self, regions: impl IntoIterator<Item = &'a Region>) -> Option<u64> {
        regions.into_iter().find_map(|region| {
            self.loads
                .iter()
                .find(|(offset, _)| *offset == region.offset)
                .map(|(_, vaddr)| region.start.wrapping_sub(*vaddr))
        })
    }
}

/// The readable form of a Rust or C++ mangled name, if `raw` is one.
pub fn demangle(raw: &str) -> Option<String> {
    if let Ok(rust) = rustc_demangle::try_demangle(raw) {
        // `{:#}` leaves out the hash, so `app::STATE` matches what users write.
        return Some(format!("{rust:#}"));
    }
    if raw.starts_with("_Z") {
        return cpp_demangle::Symbol::new(raw)
            .ok()
            .and_then(|sym| sym.demangle().ok());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Maps;

    #[used]
    static SYMBOL_PROBE: [u64; 3] = [0x5157_4e41_4c20_0001, 2, 3];

    fn own_object() -> ObjectFile {
        let exe = std::env::current_exe().expect("current exe");
        ObjectFile::read(std::fs::File::open(exe).expect("open own exe")).expect("own exe parses")
    }

    #[test]
    fn a_sized_object_names_its_address_before_a_marker_of_no_size() {
        let sym = |name: &str, size| ElfSymbol {
            name: name.into(),
            mangled: None,
            value: 0x1000,
            size,
            kind: SymbolKind::Object,
        };
        // Sorted by (value, name): the marker comes last, and is seen first.
        let object = ObjectFile {
            symbols: vec![sym("_PyRuntime", 0x100), sym("__TMC_END__", 0)],
            by_name: HashMap::new(),
            loads: Vec::new(),
            has_symtab: true,
        };
        let name = |vaddr| object.containing(vaddr).map(|s| s.name.as_str());
        assert_eq!(name(0x1000), Some("_PyRuntime"));
        assert_eq!(name(0x1010), Some("_PyRuntime"));
        assert_eq!(name(0x1100), None);
    }

    #[test]
    fn finds_a_demangled_rust_static_and_its_mangled_name() {
        let object = own_object();
        let sym = object
            .symbols()
            .iter()
            .find(|s| s.name.ends_with("::SYMBOL_PROBE"))
            .expect("SYMBOL_PROBE in the test binary's symbols");
        assert_eq!(sym.size, 24);
        assert_eq!(sym.kind, SymbolKind::Object);
        let mangled = sym.mangled.as_deref().expect("a Rust static is mangled");
        assert_eq!(object.lookup(mangled).map(|s| s.value), Some(sym.value));
        assert_eq!(object.lookup(&sym.name).map(|s| s.value), Some(sym.value));
        assert_eq!(
            object.containing(sym.value + 9).map(|s| s.value),
            Some(sym.value)
        );
    }

    #[test]
    fn bias_from_own_maps_puts_a_static_at_its_real_address() {
        let object = own_object();
        let text = std::fs::read_to_string("/proc/self/maps").expect("own maps");
        let maps = Maps::parse(&text, "/proc/self/maps").expect("parse own maps");
        let exe = std::fs::read_link("/proc/self/exe").expect("own exe link");
        let exe = exe.to_string_lossy();
        let regions = maps.iter().filter(|r| r.path == exe);
        let bias = object.bias(regions).expect("bias of own exe");
        let sym = object
            .symbols()
            .iter()
            .find(|s| s.name.ends_with("::SYMBOL_PROBE"))
            .expect("probe symbol");
        assert_eq!(sym.value.wrapping_add(bias), SYMBOL_PROBE.as_ptr() as u64);
    }

    #[test]
    fn demangles_rust_and_cpp_and_leaves_c_alone() {
        assert_eq!(
            demangle("_ZN6my_app7COUNTER17h0123456789abcdefE").as_deref(),
            Some("my_app::COUNTER")
        );
        assert_eq!(demangle("_ZN2ns7counterE").as_deref(), Some("ns::counter"));
        assert_eq!(demangle("counter"), None);
    }

    #[test]
    fn refuses_non_elf_without_reading_it_all() {
        assert_eq!(
            ObjectFile::read(&b"GIF89a..."[..]).err(),
            Some(LoadError::NotElf)
        );
        assert!(matches!(
            ObjectFile::read(&b"\x7fELF\x02\x01garbage"[..]),
            Err(LoadError::Failed(_))
        ));
    }
}

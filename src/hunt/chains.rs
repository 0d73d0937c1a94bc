//! Pointer chains as the user keeps them: relative to a module (never an
//! absolute address), printed as a watch expression, saved to a versioned
//! and checksummed file, and re-checked in a later run of the program.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hunt::pointers::{Chain, POINTER, StaticArea};
use crate::process::Maps;
use crate::search::Source;
use crate::symbols::SymbolTable;

/// The first line of a chain file: magic and format version, then the checksum.
const MAGIC: &str = "pvtui-pointers";
const VERSION: u32 = 1;
/// Longer chains than this are refused when loading: nobody scans that deep.
const MAX_DEPTH: usize = 16;
/// Chain files larger than this are refused rather than read into memory.
const MAX_FILE: u64 = 256 << 20;

/// A chain relative to a module: `module + module_offset -> +o1 -> ...`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedChain {
    pub module: String,
    pub module_offset: u64,
    /// The symbol covering the static place and the offset into it, when one does.
    pub symbol: Option<String>,
    #[serde(default)]
    pub symbol_offset: u64,
    pub offsets: Vec<u64>,
}

impl SavedChain {
    /// `chain` with its base named by module (and symbol where one covers it).
    pub fn new(chain: &Chain, statics: &[StaticArea], symbols: &SymbolTable) -> Option<SavedChain> {
        let area = statics
            .iter()
            .find(|s| s.start <= chain.base && chain.base < s.end)?;
        let (symbol, symbol_offset) = match symbols.symbol_at(chain.base) {
            Some((name, off)) => {
                let bare = name
                    .split_once('!')
                    .map_or(name.clone(), |(_, s)| s.to_string());
                if plain_symbol(&bare) {
                    (Some(bare), off)
                } else {
                    (None, 0)
                }
            }
            None => (None, 0),
        };
        Some(SavedChain {
            module: area.module.clone(),
            module_offset: chain.base - area.base,
            symbol,
            symbol_offset,
            offsets: chain.offsets.clone(),
        })
    }

    /// `game+0x4010 -> +0x8 -> +0x18 -> +0xc`
    pub fn text(&self) -> String {
        let mut out = format!("{}+{:#x}", self.module, self.module_offset);
        for off in &self.offsets {
            out.push_str(&format!(" -> +{off:#x}"));
        }
        crate::hunt::printable(&out)
    }

    /// The chain as a watch expression of type `ty`:
    /// `*(*(*game!g_world+0x8)+0x18)+0xc:u32`.
    pub fn expr(&self, ty: &str) -> String {
        let mut e = match &self.symbol {
            Some(sym) if self.symbol_offset == 0 => format!("{}!{sym}", self.module),
            Some(sym) => format!("({}!{sym}+{:#x})", self.module, self.symbol_offset),
            None => format!("([{}]+{:#x})", self.module, self.module_offset),
        };
        let last = self.offsets.len().saturating_sub(1);
        for (i, off) in self.offsets.iter().enumerate() {
            e = format!("*{e}+{off:#x}");
            if i < last {
                e = format!("({e})");
            }
        }
        crate::hunt::printable(&format!("{e}:{ty}"))
    }

    /// Where the static place is in a run mapped as `maps`.
    fn base_in(&self, maps: &Maps) -> Option<u64> {
        let first = maps
            .iter()
            .find(|r| r.is_file() && r.name() == self.module)?;
        first.start.checked_add(self.module_offset)
    }
}

/// Only a name the expression syntax reads back unquoted, as one symbol.
fn plain_symbol(name: &str) -> bool {
    crate::expr::parse_watch(name).is_ok_and(|w| matches!(w.expr, crate::expr::Expr::Symbol(_)))
}

/// The target the chains were found for, as the file records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainFile {
    pub version: u32,
    /// The expression or address scanned for (informative: addresses change).
    pub target: String,
    /// The type the chains' expressions read.
    pub ty: String,
    pub depth: usize,
    pub max_offset: u64,
    pub chains: Vec<SavedChain>,
}

/// FNV-1a: a stable checksum that needs no dependency; it guards against
/// truncation and editing mistakes, not against an adversary.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn file_err(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::ScanFile {
        path: path.display().to_string(),
        why: why.to_string(),
    }
}

impl ChainFile {
    /// Writes the file through a temporary file renamed into place, so a
    /// reader never sees half a file.
    pub fn save(&self, path: &Path) -> Result<()> {
        // Renaming over a device or FIFO would replace it (as root, even
        // /dev/null): only a regular file, or a new name, is written.
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.file_type().is_file()
            && !meta.file_type().is_symlink()
        {
            return Err(file_err(path, "is not a regular file: not replaced"));
        }
        let body = serde_json::to_string_pretty(self).map_err(|e| file_err(path, e))?;
        let text = format!(
            "{MAGIC} {VERSION} {:016x}\n{body}\n",
            checksum(body.as_bytes())
        );
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let name = path
            .file_name()
            .ok_or_else(|| file_err(path, "is not a file name"))?;
        let tmp = dir.unwrap_or(Path::new(".")).join(format!(
            ".{}.tmp{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        // A new file (O_EXCL): a planted file or symlink at the temporary
        // name is refused rather than followed and overwritten.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(text.as_bytes())?;
                f.sync_all()
            });
        if let Err(e) = written {
            // Only a file this call created is removed: never a planted one.
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                let _ = std::fs::remove_file(&tmp);
            }
            return Err(file_err(path, e));
        }
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(file_err(path, e));
        }
        Ok(())
    }

    /// Reads a chain file: only a regular file, and only up to
    /// [`MAX_FILE`] bytes (a device such as /dev/zero claims a length of 0).
    pub fn load(path: &Path) -> Result<ChainFile> {
        let bytes =
            crate::sys::file::read_regular(path, MAX_FILE).map_err(|e| file_err(path, e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| file_err(path, "not a pointer chain file (not UTF-8 text)"))?;
        ChainFile::parse(&text).map_err(|why| file_err(path, why))
    }

    fn parse(text: &str) -> std::result::Result<ChainFile, String> {
        let (head, body) = text
            .split_once('\n')
            .ok_or("not a pointer chain file (no header line)")?;
        let mut fields = head.split(' ');
        if fields.next() != Some(MAGIC) {
            return Err("not a pointer chain file (written by `pvtui pointers --save`)".into());
        }
        let version: u32 = fields
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or("the header has no version")?;
        if version != VERSION {
            return Err(format!(
                "format version {version}; this pvtui reads version {VERSION}"
            ));
        }
        let sum = fields
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or("the header has no checksum")?;
        let body = body.strip_suffix('\n').unwrap_or(body);
        if checksum(body.as_bytes()) != sum {
            return Err("checksum mismatch: the file is damaged or was edited".into());
        }
        let file: ChainFile = serde_json::from_str(body).map_err(|e| e.to_string())?;
        // The printed expressions are built from these fields: an edited file
        // must not make them name another place than the chain reaches.
        if file.ty.parse::<crate::expr::Type>().is_err() {
            return Err(format!(
                "the chains' type {:?} is not a type pvtui reads",
                crate::hunt::printable(&file.ty)
            ));
        }
        if let Some(bad) = file.chains.iter().find(|c| {
            c.symbol.as_deref().is_some_and(|s| !plain_symbol(s))
                || c.symbol_offset > c.module_offset
        }) {
            return Err(format!(
                "a chain from {} names its base as {:?}+{:#x}, which is not a plain symbol \
                 inside the module",
                crate::hunt::printable(&bad.module),
                crate::hunt::printable(bad.symbol.as_deref().unwrap_or("")),
                bad.symbol_offset
            ));
        }
        if let Some(bad) = file
            .chains
            .iter()
            .find(|c| c.offsets.is_empty() || c.offsets.len() > MAX_DEPTH)
        {
            return Err(format!(
                "a chain from {} has {} offsets (1 to {MAX_DEPTH} allowed)",
                crate::hunt::printable(&bad.module),
                bad.offsets.len()
            ));
        }
        Ok(file)
    }
}

/// Follows each chain in the current run: the address it leads to, or why
/// it does not resolve. One batched read per level for all chains.
pub fn resolve_all<S: Source>(
    chains: &[SavedChain],
    maps: &Maps,
    source: &mut S,
) -> Result<Vec<std::result::Result<u64, String>>> {
    let mut at: Vec<std::result::Result<u64, String>> = chains
        .iter()
        .map(|c| {
            c.base_in(maps).ok_or_else(|| {
                format!("module {} is not mapped", crate::hunt::printable(&c.module))
            })
        })
        .collect();
    let depth = chains.iter().map(|c| c.offsets.len()).max().unwrap_or(0);
    for level in 0..depth {
        let want: Vec<usize> = (0..chains.len())
            .filter(|&i| at[i].is_ok() && level < chains[i].offsets.len())
            .collect();
        let ranges: Vec<(u64, usize)> = want
            .iter()
            .filter_map(|&i| at[i].as_ref().ok().map(|&a| (a, POINTER as usize)))
            .collect();
        let outcomes = source.read_ranges(&ranges)?;
        for (&i, outcome) in want.iter().zip(&outcomes) {
            let read = outcome
                .bytes()
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_le_bytes);
            at[i] = match read {
                Some(ptr) if maps.find(ptr).is_some() => {
                    Ok(ptr.wrapping_add(chains[i].offsets[level]))
                }
                Some(ptr) => Err(format!(
                    "the pointer at {:#x} (step {}) is {ptr:#x}, not a mapped address",
                    outcome.addr,
                    level + 1
                )),
                None => Err(format!(
                    "the pointer at {:#x} (step {}) could not be read: {}",
                    outcome.addr,
                    level + 1,
                    outcome.first_unread().map_or("short read", |u| u.as_str())
                )),
            };
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::MemorySource;

    fn chain() -> SavedChain {
        SavedChain {
            module: "game".into(),
            module_offset: 0x4010,
            symbol: Some("g_world".into()),
            symbol_offset: 0,
            offsets: vec![8, 0x18, 0xc],
        }
    }

    /// A file of the one chain above to a u32 score.
    fn chain_file() -> ChainFile {
        ChainFile {
            version: VERSION,
            target: "score".into(),
            ty: "u32".into(),
            depth: 3,
            max_offset: 4096,
            chains: vec![chain()],
        }
    }

    #[test]
    fn a_chain_prints_as_text_and_as_an_expression_pvtui_parses() {
        let c = chain();
        assert_eq!(c.text(), "game+0x4010 -> +0x8 -> +0x18 -> +0xc");
        assert_eq!(c.expr("u32"), "*(*(*game!g_world+0x8)+0x18)+0xc:u32");
        let by_module = SavedChain {
            symbol: None,
            ..chain()
        };
        let e = by_module.expr("u32");
        assert_eq!(e, "*(*(*([game]+0x4010)+0x8)+0x18)+0xc:u32");
        for text in [c.expr("u32"), e] {
            let w = crate::expr::parse_watch(&text).expect("parses");
            assert_eq!(w.expr.depth(), 3, "{text}");
        }
    }

    #[test]
    fn files_round_trip_and_damage_is_refused() {
        let dir = std::env::temp_dir().join(format!("pvtui-chains-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("chains.ptr");
        let file = chain_file();
        file.save(&path).expect("save");
        assert_eq!(ChainFile::load(&path).expect("load"), file);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(
            &path,
            text.replace("0x4010", "0x4011").replace("16400", "16401"),
        )
        .expect("edit");
        let err = ChainFile::load(&path).expect_err("edited");
        assert!(err.to_string().contains("checksum"), "{err}");
        std::fs::write(&path, "hello\nworld").expect("junk");
        let err = ChainFile::load(&path).expect_err("junk");
        assert!(
            err.to_string().contains("not a pointer chain file"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn chain_file_save_refuses_a_planted_temporary_symlink() {
        let dir = std::env::temp_dir().join(format!("pvtui-chains-link-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep me").expect("victim");
        let path = dir.join("chains.ptr");
        let planted = dir.join(format!(".chains.ptr.tmp{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).expect("symlink");
        let file = chain_file();
        assert!(
            file.save(&path).is_err(),
            "a planted temporary name is refused"
        );
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep me");
        assert!(std::fs::symlink_metadata(&planted).is_ok(), "left as found");
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn chain_file_with_an_edited_symbol_or_type_is_refused() {
        let sealed = |file: &ChainFile| {
            let body = serde_json::to_string(file).expect("json");
            format!(
                "{MAGIC} {VERSION} {:016x}\n{body}\n",
                checksum(body.as_bytes())
            )
        };
        let good = ChainFile {
            chains: vec![SavedChain {
                symbol_offset: 0x10,
                ..chain()
            }],
            ..chain_file()
        };
        assert!(ChainFile::parse(&sealed(&good)).is_ok());
        let escape = ChainFile {
            chains: vec![SavedChain {
                symbol: Some("x\u{1b}[2J".into()),
                ..chain()
            }],
            ..good.clone()
        };
        let past = ChainFile {
            chains: vec![SavedChain {
                symbol_offset: u64::MAX,
                ..chain()
            }],
            ..good.clone()
        };
        let ty = ChainFile {
            ty: "u64\u{1b}[2J".into(),
            ..good.clone()
        };
        for bad in [escape, past, ty] {
            assert!(ChainFile::parse(&sealed(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn chain_file_save_never_replaces_a_device_or_directory() {
        let file = chain_file();
        let dir = std::env::temp_dir();
        for path in [Path::new("/dev/null"), dir.as_path()] {
            let err = file.save(path).expect_err("refused");
            assert!(err.to_string().contains("not replaced"), "{err}");
        }
        let meta = std::fs::metadata("/dev/null").expect("/dev/null");
        assert!(!meta.file_type().is_file(), "/dev/null is still a device");
    }

    #[test]
    fn chain_file_load_refuses_devices_and_directories() {
        for path in ["/dev/zero", "/dev/null", "/"] {
            let err = ChainFile::load(Path::new(path)).expect_err(path);
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn chains_resolve_through_memory_or_say_where_they_broke() {
        let maps = Maps::parse(
            "1000-2000 r--p 00000000 08:01 42 /usr/bin/game\n\
             5000-6000 rw-p 00004000 08:01 42 /usr/bin/game\n\
             10000-40000 rw-p 00000000 00:00 0 [heap]\n",
            "test",
        )
        .expect("maps");
        let mut mem = MemorySource::new();
        crate::hunt::pointers::map_test_chain(&mut mem, 0x5000, 0x1000);
        let good = chain();
        let broken = SavedChain {
            offsets: vec![8, 0x30, 0xc],
            ..chain()
        };
        let absent = SavedChain {
            module: "other".into(),
            ..chain()
        };
        let got = resolve_all(&[good, broken, absent], &maps, &mut mem).expect("resolve");
        assert_eq!(got[0], Ok(0x3000c));
        assert!(
            got[1]
                .as_ref()
                .is_err_and(|e| e.contains("(step 3) is 0x0")),
            "{got:?}"
        );
        assert!(
            got[2].as_ref().is_err_and(|e| e.contains("not mapped")),
            "{got:?}"
        );
    }
}

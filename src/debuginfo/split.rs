//! Split DWARF (`-gsplit-dwarf`): an object keeps only skeleton units, each
//! naming the `.dwo` file that holds its types and variables
//! (`DW_AT_dwo_name`, or `DW_AT_GNU_dwo_name` before DWARF 5, relative to
//! `DW_AT_comp_dir`), or a `NAME.dwp` package beside the object holds them
//! all. Each unit opens as a [`DebugFile`] of its own whose addresses index
//! its skeleton's `.debug_addr`; a package's unit is the part of each
//! section the package's index gives it.

use std::fs::File;
use std::sync::Arc;

use super::file::{DResult, DebugError, DebugFile};

/// `.dwo` files one object may name at most (one per compilation unit).
const MAX_PARTS: usize = 4096;

/// The split units of one object: those opened, and where each missing
/// one was looked for.
#[derive(Debug, Default)]
pub struct Parts {
    pub files: Vec<Arc<DebugFile>>,
    pub missing: Vec<String>,
}

/// What a split unit's file needs of its skeleton.
pub(super) struct SplitOf {
    /// The file with the skeleton unit (and the `.debug_addr` it indexes).
    pub parent: Arc<DebugFile>,
    /// The skeleton unit's offset in `parent`.
    pub unit: usize,
    /// In a `.dwp` package: the unit's id in the package's index.
    pub package_unit: Option<u64>,
}

/// A skeleton unit and the `.dwo` path it names.
struct Skeleton {
    unit: usize,
    path: String,
    /// The unit id its split unit repeats.
    id: Option<u64>,
}

fn skeletons(file: &DebugFile) -> DResult<Vec<Skeleton>> {
    let dwarf = file.dwarf()?;
    let mut out = Vec::new();
    let mut headers = dwarf.units();
    while let Some(header) = headers.next()? {
        let Some(offset) = header.offset().as_debug_info_offset() else {
            continue;
        };
        // DWARF 5 says so in the header; before, only the unit's DIE does.
        let skeleton = match header.type_() {
            gimli::UnitType::Skeleton(_) => true,
            gimli::UnitType::Compilation if header.version() < 5 => {
                let abbrevs = dwarf.abbreviations(&header)?;
                let mut entries = header.entries(&abbrevs);
                match entries.next_dfs()? {
                    Some((_, e)) => e.attr_value(gimli::DW_AT_GNU_dwo_name)?.is_some(),
                    None => false,
                }
            }
            _ => false,
        };
        if !skeleton {
            continue;
        }
        let unit = dwarf.unit(header)?;
        let Some(name) = unit.dwo_name()? else {
            continue;
        };
        let name = dwarf
            .attr_string(&unit, name)?
            .to_string_lossy()
            .into_owned();
        let path = match &unit.comp_dir {
            Some(dir) if !name.starts_with('/') => {
                format!("{}/{name}", dir.to_string_lossy().trim_end_matches('/'))
            }
            _ => name,
        };
        out.push(Skeleton {
            unit: offset.0,
            path,
            id: unit.dwo_id.map(|id| id.0),
        });
        if out.len() >= MAX_PARTS {
            break;
        }
    }
    Ok(out)
}

/// Opens the split units `main`'s skeleton units name: each `.dwo` where
/// the unit says, then beside the object (`object_path`'s directory), then
/// in `OBJECT.dwp`; each through `open` (a path as the target sees it).
pub(super) fn open_parts(
    main: &Arc<DebugFile>,
    object_path: &str,
    open: &dyn Fn(&str) -> Result<File, DebugError>,
) -> Parts {
    let mut parts = Parts::default();
    let skeletons = match skeletons(main) {
        Ok(s) => s,
        Err(e) => {
            parts.missing.push(format!("skeleton units: {e}"));
            return parts;
        }
    };
    let beside = object_path.rsplit_once('/').map(|(dir, _)| dir);
    let package = format!("{object_path}.dwp");
    for skeleton in skeletons {
        let of = |package_unit| SplitOf {
            parent: Arc::clone(main),
            unit: skeleton.unit,
            package_unit,
        };
        let mut tries = vec![skeleton.path.clone()];
        if let (Some(dir), Some((_, base))) = (beside, skeleton.path.rsplit_once('/')) {
            let moved = format!("{dir}/{base}");
            if moved != skeleton.path {
                tries.push(moved);
            }
        }
        let opened = tries
            .iter()
            .find_map(|path| checked(open(path).ok()?, of(None), skeleton.id))
            .or_else(|| {
                let id = skeleton.id?;
                checked(open(&package).ok()?, of(Some(id)), Some(id))
            });
        match opened {
            Some(dwo) => parts.files.push(Arc::new(dwo)),
            None => {
                tries.push(package.clone());
                parts.missing.push(tries.join(" or "));
            }
        }
    }
    parts
}

/// The split unit in `file`, when its id is the skeleton's: a `.dwo` of
/// another build would put every variable elsewhere.
fn checked(file: File, of: SplitOf, id: Option<u64>) -> Option<DebugFile> {
    let dwo = DebugFile::open_split(&file, of).ok()?;
    let dwarf = dwo.dwarf().ok()?;
    let header = dwarf.units().next().ok()??;
    let found = dwarf.unit(header).ok()?.dwo_id.map(|d| d.0);
    drop(dwarf);
    (id.is_none() || found == id).then_some(dwo)
}

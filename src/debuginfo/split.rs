//! Split DWARF (`-gsplit-dwarf`): an object keeps only skeleton units, each
//! naming the `.dwo` file that holds its types and variables
//! (`DW_AT_dwo_name`, or `DW_AT_GNU_dwo_name` before DWARF 5, relative to
//! `DW_AT_comp_dir`). Each `.dwo` opens as a [`DebugFile`] of its own whose
//! addresses index its skeleton's `.debug_addr`.
//!
//! `.dwp` packages are not read: their units would share one file's
//! sections at offsets an index gives, which a `DebugFile` (one unit
//! offset space per file) does not model.

use std::fs::File;
use std::sync::Arc;

use super::file::{DResult, DebugError, DebugFile};

/// `.dwo` files one object may name at most (one per compilation unit).
const MAX_PARTS: usize = 4096;

/// The `.dwo` files of one object: those opened, and where each missing
/// one was looked for.
#[derive(Debug, Default)]
pub struct Parts {
    pub files: Vec<Arc<DebugFile>>,
    pub missing: Vec<String>,
}

/// A skeleton unit and the `.dwo` path it names.
struct Skeleton {
    unit: usize,
    path: String,
    /// DWARF 5's unit id, which its `.dwo` unit repeats.
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
        let id = match header.type_() {
            gimli::UnitType::Skeleton(id) => Some(id.0),
            _ => None,
        };
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
            id,
        });
        if out.len() >= MAX_PARTS {
            break;
        }
    }
    Ok(out)
}

/// Opens the `.dwo` files `main`'s skeleton units name: where the unit
/// says, then beside the object (`object_path`'s directory), each through
/// `open` (a path as the target sees it).
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
    for skeleton in skeletons {
        let mut tries = vec![skeleton.path.clone()];
        if let (Some(dir), Some((_, base))) = (beside, skeleton.path.rsplit_once('/')) {
            let moved = format!("{dir}/{base}");
            if moved != skeleton.path {
                tries.push(moved);
            }
        }
        let opened = tries.iter().find_map(|path| {
            let file = open(path).ok()?;
            let dwo = DebugFile::open_split(&file, Arc::clone(main), skeleton.unit).ok()?;
            // A `.dwo` of another build would put every variable elsewhere.
            let same = skeleton.id.is_none() || split_id(&dwo).ok()? == skeleton.id;
            same.then_some(dwo)
        });
        match opened {
            Some(dwo) => parts.files.push(Arc::new(dwo)),
            None => parts.missing.push(tries.join(" or ")),
        }
    }
    parts
}

/// The unit id of a `.dwo` file's (first) split unit.
fn split_id(dwo: &DebugFile) -> DResult<Option<u64>> {
    let dwarf = dwo.dwarf()?;
    let mut headers = dwarf.units();
    Ok(match headers.next()?.map(|h| h.type_()) {
        Some(gimli::UnitType::SplitCompilation(id)) => Some(id.0),
        _ => None,
    })
}

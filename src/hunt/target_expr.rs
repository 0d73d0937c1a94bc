//! A watch expression turned into the address and size it names now.

use crate::error::{Error, Result};
use crate::expr::{Type, WatchSet, parse_watch};
use crate::process::{Maps, MemoryWorker, ReadMode};
use crate::symbols::SymbolTable;

/// Where a watch expression points at this moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub addr: u64,
    pub ty: Type,
}

/// Resolves `text` against the target, following its pointers once.
pub fn place_of(
    text: &str,
    worker: &mut MemoryWorker,
    maps: &Maps,
    symbols: &SymbolTable,
) -> Result<Place> {
    // A long expression is named shortly: its parse error shows where it failed.
    let name = crate::text::shortened(text, 60);
    let watch = parse_watch(text).map_err(|e| Error::Usage(format!("{name}:\n{e}")))?;
    let mut set = WatchSet::new();
    set.add(watch);
    let reading = set
        .poll(worker, maps, symbols, ReadMode::Force)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage(format!("{name}: nothing to read")))?;
    match reading.address {
        Some(addr) => Ok(Place {
            addr,
            ty: reading.ty,
        }),
        None => Err(Error::Usage(format!("{name}: {}", reading.status))),
    }
}

//! Starting searches and scans of a session's target: each job reads through
//! deadline workers of its own, so a search never waits behind the poller.

use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::process::{Maps, ReadMode, Target};
use crate::search::{
    Condition, Pattern, ProcessSource, Query, ScanFile, ScanSpec, SearchJob, SearchOptions,
    ValueType,
};

/// Starts jobs on one target; cheap to clone and to send to another thread.
#[derive(Clone, Debug)]
pub struct Searches {
    target: Arc<Target>,
}

impl Searches {
    pub(crate) fn new(target: Arc<Target>) -> Searches {
        Searches { target }
    }

    fn source(&self, maps: &Maps, mode: ReadMode) -> impl FnMut() -> ProcessSource + use<> {
        let (target, maps) = (Arc::clone(&self.target), maps.clone());
        move || ProcessSource::new(Arc::clone(&target), maps.clone(), mode)
    }

    /// A reader of this target over `maps`, for walks of its memory that
    /// are not search jobs (the pointer map, saved pointer chains).
    pub fn process_source(&self, maps: &Maps, mode: ReadMode) -> ProcessSource {
        ProcessSource::new(Arc::clone(&self.target), maps.clone(), mode)
    }

    /// The symbols of this target's objects as mapped in `maps`, for
    /// naming what a job found.
    pub fn symbols(&self, maps: &Maps) -> crate::symbols::SymbolTable {
        crate::symbols::SymbolTable::new(&self.target, maps)
    }

    /// Searches the regions of `maps` for `query`.
    pub fn search(&self, maps: &Maps, query: &Query, options: SearchOptions) -> Result<SearchJob> {
        let pattern = Pattern::new(query)?;
        options.regions.validate(maps.regions())?;
        let make_source = self.source(maps, options.mode);
        Ok(SearchJob::search_in(
            make_source,
            maps.regions(),
            pattern,
            options,
        ))
    }

    /// A first value scan; the candidates go to `save` (or a temporary file).
    pub fn scan(
        &self,
        maps: &Maps,
        spec: ScanSpec,
        save: Option<&Path>,
        options: SearchOptions,
    ) -> Result<SearchJob> {
        options.regions.validate(maps.regions())?;
        let make_source = self.source(maps, options.mode);
        SearchJob::scan_in(
            make_source,
            self.target.pid(),
            maps.regions(),
            spec,
            save,
            options,
        )
    }

    /// An unknown-value scan: a snapshot of every page in the chosen
    /// regions, which a later narrowing compares with memory then.
    pub fn snapshot(
        &self,
        maps: &Maps,
        ty: ValueType,
        save: Option<&Path>,
        options: SearchOptions,
    ) -> Result<SearchJob> {
        options.regions.validate(maps.regions())?;
        let make_source = self.source(maps, options.mode);
        SearchJob::snapshot_in(
            make_source,
            self.target.pid(),
            maps.regions(),
            ty,
            save,
            options,
        )
    }

    /// Narrows a previous scan: re-reads only its candidates.
    pub fn narrow(
        &self,
        maps: &Maps,
        from: ScanFile,
        condition: Condition,
        save: Option<&Path>,
        mode: ReadMode,
    ) -> Result<SearchJob> {
        let source = ProcessSource::new(Arc::clone(&self.target), maps.clone(), mode);
        SearchJob::narrow_in(source, from, condition, save)
    }
}

//! Search over a target's memory: regex, byte patterns with wildcards,
//! UTF-8 / UTF-16LE text, and value scans with narrowing.
//!
//! Every search streams through fixed-size buffers, so memory stays bounded
//! whatever the target's size, and runs as a [`SearchJob`] on its own thread:
//! matches and progress arrive as [`SearchEvent`]s over a channel and
//! [`SearchJob::cancel`] stops it promptly, keeping what was found.
//!
//! - [`walk`] cuts the address space into segments and windows; a match that
//!   crosses a chunk edge is found exactly once (see its docs for how).
//! - [`Source`] is where bytes come from: a live process through the engine's
//!   deadline worker ([`ProcessSource`]), or an in-memory space in tests
//!   ([`MemorySource`]).
//! - [`Pattern`] compiles every [`Query`] kind to one byte regex.
//! - Value scans ([`ScanSpec`], [`Condition`]) keep their candidates in a
//!   compact file ([`ScanFile`]) and narrow by re-reading only those.
//!
//! ```
//! use pvtui::process::{Perms, Region};
//! use pvtui::search::{SearchJob, MemorySource, Pattern, Query, SearchOptions};
//!
//! let mut mem = MemorySource::new();
//! mem.map(0x1000, b"....gold=1234....".to_vec());
//! let region = Region {
//!     start: 0x1000, end: 0x1011, perms: Perms { read: true, ..Perms::default() },
//!     offset: 0, dev: "00:00".into(), inode: 0, path: "[heap]".into(), deleted: false,
//! };
//! let pattern = Pattern::new(&Query::Regex("gold=[0-9]+".into()))?;
//! let job = SearchJob::search_in(move || mem.clone(), &[region], pattern, SearchOptions::default());
//! let (matches, summary) = job.collect();
//! assert_eq!(matches[0].addr, 0x1004);
//! assert_eq!(&*matches[0].region, "[heap]");
//! assert_eq!(summary.found, 1);
//! # Ok::<(), pvtui::Error>(())
//! ```

mod find;
mod history;
mod identity;
mod job;
mod pattern;
mod records;
mod scan;
mod scan_job;
mod snapshot;
mod source;
mod store;
mod value;
pub mod walk;

pub use find::Match;
pub use history::{UNDO_STEPS, undo, undo_path};
pub use identity::ProcessIdentity;
pub use job::{
    Canceller, End, Progress, RegionFilter, STREAMED_PLACES, SearchEvent, SearchJob, SearchOptions,
    Summary,
};
pub use pattern::{Encoding, Pattern, Query};
pub use records::{BlockReader, OrderedReader};
pub use scan::{NarrowStats, ScanSpec};
pub use source::{MemorySource, ProcessSource, Source};
pub use store::{Candidate, ScanFile, ScanHeader};
pub use value::{Condition, Number, ValueType};
pub use walk::{Geometry, Skipped};

#[cfg(test)]
mod tests;

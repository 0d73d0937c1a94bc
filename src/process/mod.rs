//! The target process: attaching by pidfd, its memory maps, batched
//! never-block reads, verified writes, residency checks, and the worker that
//! runs accesses under a deadline.
//!
//! ```no_run
//! use pvtui::process::{ReadMode, Target};
//! let target = Target::attach(1234)?;
//! let maps = target.maps()?;
//! let outcomes = target.read(&maps, &[(0x5555_5555_8010, 8)], ReadMode::NoWait)?;
//! if let Some(bytes) = outcomes[0].bytes() {
//!     println!("{bytes:02x?}");
//! }
//! # Ok::<(), pvtui::Error>(())
//! ```

pub mod caps;
#[cfg(test)]
pub(crate) mod fake;
pub mod helper;
pub mod maps;
pub mod memory;
mod plan;
pub mod procfs;
pub mod residency;
pub mod target;
pub mod worker;

pub use caps::{Capabilities, capabilities};
pub use maps::{Maps, Perms, Region};
pub use memory::{
    Gap, Memory, PageBuffer, RangeRead, ReadBatch, ReadMode, ReadOutcome, Unread, WriteReport,
};
pub use target::{Access, Target};
pub use worker::MemoryWorker;

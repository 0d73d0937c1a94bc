//! pvtui: a terminal debugger for the live memory of another Linux process.
//!
//! The crate is a library with a thin binary over it. Each top-level module
//! owns one concern:
//!
//! - [`sys`]: the raw kernel interface (`pidfd_open`, `process_vm_readv/writev`
//!   with flags, the capability probe). The only module with `unsafe`.
//! - [`process`]: attaching to a target, its memory maps, batched never-block
//!   reads, verified writes, residency checks and the deadline worker.
//! - [`symbols`]: ELF symbols of every mapped object, with load bias.
//! - [`debuginfo`]: DWARF types, variables, field paths and typed values.
//! - [`expr`]: watch expressions, types and value codecs.
//! - [`search`]: regex, byte-pattern and value scans over target memory.
//! - [`poller`]: the thread that owns the target and polls watches.
//! - [`tui`]: the terminal user interface.
//! - [`demo`]: the built-in demo target (`pvtui demo`).
//! - [`cli`]: the command-line front end.
#![deny(unsafe_code)]

pub mod cli;
pub mod debuginfo;
pub mod demo;
pub mod error;
pub mod expr;
pub mod poller;
pub mod process;
pub mod search;
pub mod symbols;
pub mod sys;
pub mod tui;
pub mod units;

pub use error::{Error, Result};

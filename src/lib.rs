//! pvtui: a terminal debugger for the live memory of another Linux process.
//!
//! The crate is a library with a thin binary over it. Each top-level module
//! owns one concern:
//!
//! - [`sys`]: the raw kernel interface (`pidfd_open`, `process_vm_readv/writev`
//!   with flags, perf breakpoints, the capability probe). The only module with `unsafe`.
//! - [`process`]: attaching to a target, its memory maps, batched never-block
//!   reads, verified writes, residency checks and the deadline worker.
//! - [`symbols`]: ELF symbols of every mapped object, with load bias.
//! - [`debuginfo`]: DWARF types, variables, field paths and typed values.
//! - [`expr`]: watch expressions, types and value codecs.
//! - [`search`]: regex, byte-pattern and value scans over target memory.
//! - [`hunt`]: who writes an address, pointer chains to it, holding a value.
//! - [`shared`]: the shared-memory map: which processes map which object.
//! - [`session`]: one attached target with its maps, symbols and worker;
//!   every command, the poller and the searches go through it.
//! - [`poller`]: the thread that owns a session and polls watches.
//! - [`tui`]: the terminal user interface.
//! - [`demo`]: the built-in demo target (`pvtui demo`).
//! - [`cli`]: the command-line front end.
//! - [`text`]: escaping target-controlled text for the terminal.
//! - [`literal`]: the one parser of the numbers and bytes a user types.
#![deny(unsafe_code)]
// `eprintln!` panics on a closed stderr: diagnostics go through `errln!`.
#![deny(clippy::print_stderr)]

pub mod cli;
pub mod debuginfo;
pub mod demo;
pub mod error;
pub mod expr;
pub mod hunt;
pub mod literal;
pub mod poller;
pub mod process;
pub mod search;
pub mod session;
pub mod shared;
pub mod symbols;
pub mod sys;
pub mod text;
pub mod tui;
pub mod units;

pub use error::{Error, Result};

//! Integration tests: each spawns real target processes (the fixtures in
//! `tests/fixtures/`) and reads, writes and searches their real memory.

mod cli;
mod debuginfo;
mod engine;
mod expr;
mod hardening;
mod hunt;
mod names;
mod native;
mod scans;
mod search;
mod shared;
mod tui;
mod util;

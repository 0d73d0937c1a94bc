//! Integration tests: each spawns real target processes (the fixtures in
//! `tests/fixtures/`) and reads, writes and searches their real memory.

mod engine;
mod expr;
mod hardening;
mod native;
mod scans;
mod search;
mod tui;
mod util;

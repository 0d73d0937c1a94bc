//! Integration tests: each spawns real target processes (the fixtures in
//! `tests/fixtures/`) and reads, writes and searches their real memory.

mod debuginfo;
mod engine;
mod expr;
mod native;
mod search;
mod tui;
mod util;

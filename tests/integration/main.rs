//! Integration tests: each spawns real target processes (the fixtures in
//! `tests/fixtures/`) and reads, writes and searches their real memory.

mod cli;
mod completions;
mod consistency;
mod debuginfo;
mod debuginfo_index;
mod dwarf_lang;
mod engine;
mod expr;
mod freeze_moves;
mod hardening;
mod hostile_files;
mod hunt;
mod hunt_access;
mod late;
mod minidebuginfo;
mod multi;
mod names;
mod native;
mod scans;
mod search;
mod settings;
mod shared;
mod signals;
mod split_dwarf;
mod tmux;
mod tui;
mod tui_hostile;
mod tui_hunt;
mod tui_multi;
mod typed_values;
mod util;
mod values;
mod watch_change;

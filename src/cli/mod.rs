//! The command-line front end: parses arguments and runs one command.
//!
//! Each subcommand lives in its own file; this module only dispatches and
//! turns a library error into one line on stderr and an exit status.

mod demo;
mod dump;
mod inspect;
mod maps;
mod probe;
mod read;
mod scan;
mod search;
mod ui;
mod watch;
mod write;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};

#[derive(Debug, Parser)]
#[command(
    name = "pvtui",
    version,
    about = "A terminal debugger for the live memory of another Linux process",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    ui: ui::UiArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// What this kernel supports and the access strategy pvtui will use
    Probe(probe::ProbeArgs),
    /// The memory regions of a process
    Maps(maps::MapsArgs),
    /// A hex dump of a process's memory; bytes not read show as ??
    Dump(dump::DumpArgs),
    /// Resolve watch expressions and print their values
    Read(read::ReadArgs),
    /// Write a value at a watch expression and read it back
    Write(write::WriteArgs),
    /// Print watch expressions' values every interval until the target exits
    Watch(watch::WatchArgs),
    /// Start a built-in demo program and watch it: the quickest way to see pvtui work
    Demo(demo::DemoArgs),
    /// The demo program itself, run by `pvtui demo`
    #[command(hide = true)]
    DemoTarget,
    /// Find a regex, byte pattern (--bytes '48 8b ?? 00') or text in a process's memory
    Search(search::SearchArgs),
    /// Find the places holding a value; narrow them with --save / --from
    Scan(scan::ScanArgs),
    /// Read variables with their DWARF types: `player.pos.x`, `list->next->value`
    Inspect(inspect::InspectArgs),
    /// A type's layout from debug info, like gdb's `ptype /o`
    Type(inspect::TypeArgs),
    /// Each mapped object's debug info, and where it was found or looked for
    Debuginfo(inspect::DebugInfoArgs),
}

/// Runs pvtui with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, None | Some(Command::Demo(_))) {
        crate::sys::exit_quietly_on_broken_pipe();
    }
    let result = match cli.command {
        Some(Command::Probe(args)) => probe::run(&args),
        Some(Command::Maps(args)) => maps::run(&args),
        Some(Command::Dump(args)) => dump::run(&args),
        Some(Command::Read(args)) => read::run(&args),
        Some(Command::Write(args)) => write::run(&args),
        Some(Command::Watch(args)) => watch::run(&args),
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::DemoTarget) => Ok(crate::demo::run()),
        Some(Command::Search(args)) => search::run(&args),
        Some(Command::Scan(args)) => scan::run(&args),
        Some(Command::Inspect(args)) => inspect::run_inspect(&args),
        Some(Command::Type(args)) => inspect::run_type(&args),
        Some(Command::Debuginfo(args)) => inspect::run_debuginfo(&args),
        None => ui::run(cli.ui),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pvtui: {err}");
            ExitCode::from(exit_status(&err))
        }
    }
}

fn exit_status(err: &Error) -> u8 {
    match err {
        Error::Usage(_) => 2,
        _ => 1,
    }
}

/// Prints `value` as one line of JSON.
fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let line = serde_json::to_string(value).map_err(|e| Error::Usage(e.to_string()))?;
    println!("{line}");
    Ok(())
}

/// Parses a number as decimal or `0x` hex (clap value parser).
fn parse_u64(s: &str) -> std::result::Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => s.replace('_', "").parse(),
    };
    parsed.map_err(|_| format!("{s:?} is not a decimal or 0x-hex number"))
}

/// Parses a size as bytes with an optional K/M/G suffix (`64K`, `1M`).
fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a size such as 4096, 64K or 1M"))
}

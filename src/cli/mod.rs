//! The command-line front end: parses arguments and runs one command.
//!
//! Each subcommand lives in its own file; this module only dispatches and
//! turns a library error into one line on stderr and an exit status.

mod completions;
mod demo;
mod dump;
mod freeze;
mod man;
mod maps;
mod numbers;
mod pointers;
mod probe;
mod read;
mod scan;
mod search;
mod shared;
mod ui;
mod watch;
mod write;
mod writers;

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
    /// Which instructions write (or read) a place: hardware breakpoints, the target never stops
    Writers(writers::WritersArgs),
    /// Chains of pointers from static places to an address, that survive a restart
    Pointers(pointers::PointersArgs),
    /// Hold a value at a watch expression, rewriting it every interval
    Freeze(freeze::FreezeArgs),
    /// Which processes map which shared object (a /dev/shm file, SysV, memfd, shared anonymous), where, and which private pages diverged
    Shared(shared::SharedArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell)
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), or write every page to a directory with --out
    Man(man::ManArgs),
}

/// Runs pvtui with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if wants_json() && e.use_stderr() => {
            // Help and version stay text; a refused argument is an error like any other.
            print_json_error(&e.kind().to_string(), &e.to_string());
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let json = cli.command.as_ref().is_some_and(Command::json);
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
        Some(Command::Writers(args)) => writers::run(&args),
        Some(Command::Pointers(args)) => pointers::run(&args),
        Some(Command::Freeze(args)) => freeze::run(&args),
        Some(Command::Shared(args)) => shared::run(&args),
        Some(Command::Completions(args)) => completions::run(&args),
        Some(Command::Man(args)) => man::run(&args),
        None => ui::run(cli.ui),
    };
    match result {
        Ok(code) => code,
        Err(err) if json => {
            print_json_error(error_kind(&err), &err.to_string());
            ExitCode::from(exit_status(&err))
        }
        Err(err) => {
            eprintln!("pvtui: {}", crate::text::escape_lines(&err.to_string()));
            ExitCode::from(exit_status(&err))
        }
    }
}

impl Command {
    /// Whether the command was asked for JSON output, so its errors are JSON too.
    fn json(&self) -> bool {
        match self {
            Command::Maps(a) => a.json,
            Command::Dump(a) => a.json,
            Command::Read(a) => a.json,
            Command::Write(a) => a.json,
            Command::Watch(a) => a.json,
            Command::Search(a) => a.json,
            Command::Scan(a) => a.json,
            Command::Probe(a) => a.json,
            Command::Writers(a) => a.json,
            Command::Pointers(a) => a.json,
            Command::Freeze(a) => a.json,
            Command::Shared(a) => a.json,
            Command::Demo(_) | Command::DemoTarget => false,
            Command::Completions(_) | Command::Man(_) => false,
        }
    }
}

/// `--json` among the arguments, for errors found before they parse.
fn wants_json() -> bool {
    std::env::args_os().skip(1).any(|a| a == "--json")
}

/// An error as one JSON line on stdout, where a `--json` reader looks.
fn print_json_error(kind: &str, message: &str) {
    let line = serde_json::json!({"error": message.trim_end(), "kind": kind});
    println!("{}", crate::text::json_line(line.to_string()));
}

/// What kind of failure an error is, for a JSON reader.
fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::Usage(_) => "usage",
        _ if err.is_exit() => "target-exited",
        _ => "failed",
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
    let line = crate::text::json_line(line);
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

/// Parses a duration in seconds (`2`, `0.5`), more than 0 and at most a week.
fn parse_seconds(s: &str) -> std::result::Result<std::time::Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 7.0 * 86400.0) {
        return Err(format!(
            "{s:?}: give more than 0 and at most 604800 seconds"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

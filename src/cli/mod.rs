//! The command-line front end: parses arguments and runs one command.
//!
//! Each subcommand lives in its own file; this module only dispatches and
//! turns a library error into one line on stderr and an exit status.
//!
//! Everything a command prints on stdout goes through [`write_stdout`] (or
//! [`outln!`], or a writer from [`stdout`]): a reader that goes away (`|
//! head -1`) ends the command quietly with status 0, the same in every
//! command, as ripgrep does.

/// `println!` through [`write_stdout`]: a closed stdout is an error the
/// caller returns with `?`, never a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// `eprintln!` through [`write_stderr`]: a diagnostic to a closed stderr
/// is lost, never a panic, and the command's status stays as it was.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::write_stderr(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

mod completions;
pub(crate) mod debuginfo;
mod demo;
mod dump;
mod freeze;
mod man;
mod maps;
mod numbers;
mod place_of;
mod places;
mod pointers;
mod probe;
mod read;
mod scan;
mod scan_set;
mod search;
mod several;
mod shared;
mod target;
mod ui;
mod watch;
mod write;
mod writers;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};

/// What each exit status means; one meaning each.
pub mod exit {
    /// Done: everything asked was read or written.
    pub const OK: u8 = 0;
    /// The operation failed (the kernel, a file or /proc refused; a read stalled).
    pub const FAILED: u8 = 1;
    /// The user's mistake: a bad argument, expression or value.
    pub const USAGE: u8 = 2;
    /// Done, but incomplete: some bytes or values were not read, or a write
    /// did not land as asked.
    pub const INCOMPLETE: u8 = 3;
    /// The target is gone, or cannot be attached (no such process, zombie,
    /// kernel thread, permission denied).
    pub const TARGET: u8 = 4;
    /// pvtui itself failed.
    pub const INTERNAL: u8 = 5;
}

const EXIT_HELP: &str = "\
Exit status:
  0    done
  1    the operation failed (the kernel, a file or /proc refused; a read stalled)
  2    usage: a bad argument, expression or value
  3    done, but incomplete: bytes or values not read, or a write that did not land
  4    the target is gone or cannot be attached
  5    internal error
  128+N  ended by signal N (130: Ctrl-C stopped a search, keeping its results,
         or a watch, after a last line; 143: SIGTERM did)";

#[derive(Debug, Parser)]
#[command(
    name = "pvtui",
    version,
    about = "A terminal debugger for the live memory of another Linux process",
    after_help = EXIT_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<CliCommand>,

    #[command(flatten)]
    ui: ui::UiArgs,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
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
    /// A type's layout from debug info, like gdb's `ptype /o`
    Type(debuginfo::TypeArgs),
    /// Each mapped object's debug info, and where it was found or looked for
    Debuginfo(debuginfo::DebugInfoArgs),
}

/// Runs pvtui with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if wants_json() && e.use_stderr() => {
            // Help and version stay text; a refused argument is an error like any other.
            print_json_error("usage", &e.to_string());
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => e.exit(),
    };
    let json = cli.command.as_ref().is_some_and(CliCommand::json);
    let result = match cli.command {
        Some(CliCommand::Probe(args)) => probe::run(&args),
        Some(CliCommand::Maps(args)) => maps::run(&args),
        Some(CliCommand::Dump(args)) => dump::run(&args),
        Some(CliCommand::Read(args)) => read::run(&args),
        Some(CliCommand::Write(args)) => write::run(&args),
        Some(CliCommand::Watch(args)) => watch::run(&args),
        Some(CliCommand::Demo(args)) => demo::run(args),
        Some(CliCommand::DemoTarget) => Ok(crate::demo::run()),
        Some(CliCommand::Search(args)) => search::run(&args),
        Some(CliCommand::Scan(args)) => scan::run(&args),
        Some(CliCommand::Writers(args)) => writers::run(&args),
        Some(CliCommand::Pointers(args)) => pointers::run(&args),
        Some(CliCommand::Freeze(args)) => freeze::run(&args),
        Some(CliCommand::Shared(args)) => shared::run(&args),
        Some(CliCommand::Completions(args)) => completions::run(&args),
        Some(CliCommand::Man(args)) => man::run(&args),
        Some(CliCommand::Type(args)) => debuginfo::run_type(&args),
        Some(CliCommand::Debuginfo(args)) => debuginfo::run_debuginfo(&args),
        None => ui::run(cli.ui),
    };
    match result {
        Ok(code) => code,
        // The reader has all it wanted: nothing is wrong, and nothing to say.
        Err(err) if is_closed_stdout(&err) => ExitCode::SUCCESS,
        Err(err) if json => {
            print_json_error(error_kind(&err), &err.to_string());
            ExitCode::from(exit_status(&err))
        }
        Err(err) => {
            errln!("pvtui: {}", crate::text::escape_lines(&err.to_string()));
            ExitCode::from(exit_status(&err))
        }
    }
}

impl CliCommand {
    /// Whether the command was asked for JSON output, so its errors are JSON too.
    fn json(&self) -> bool {
        match self {
            CliCommand::Maps(a) => a.json,
            CliCommand::Dump(a) => a.json,
            CliCommand::Read(a) => a.json,
            CliCommand::Write(a) => a.json,
            CliCommand::Watch(a) => a.json,
            CliCommand::Search(a) => a.json,
            CliCommand::Scan(a) => a.json,
            CliCommand::Probe(a) => a.json,
            CliCommand::Writers(a) => a.json,
            CliCommand::Pointers(a) => a.json,
            CliCommand::Freeze(a) => a.json,
            CliCommand::Shared(a) => a.json,
            CliCommand::Demo(_) | CliCommand::DemoTarget => false,
            CliCommand::Debuginfo(a) => a.json,
            CliCommand::Type(_) | CliCommand::Completions(_) | CliCommand::Man(_) => false,
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
    // Nobody is left to tell when stdout is closed.
    let _ = outln!("{}", crate::text::json_line(line.to_string()));
}

/// What kind of failure an error is, for a JSON reader: one kind per exit
/// status, with a target that exited told apart from one never attached.
fn error_kind(err: &Error) -> &'static str {
    match exit_status(err) {
        exit::USAGE => "usage",
        exit::INTERNAL => "internal",
        exit::TARGET if err.is_exit() => "target-exited",
        exit::TARGET => "target",
        _ => "failed",
    }
}

fn exit_status(err: &Error) -> u8 {
    match err {
        Error::Usage(_) | Error::InvalidPid { .. } => exit::USAGE,
        Error::NoSuchProcess { .. }
        | Error::Zombie { .. }
        | Error::KernelThread { .. }
        | Error::PermissionDenied { .. }
        | Error::TargetExited { .. } => exit::TARGET,
        Error::Internal(_) => exit::INTERNAL,
        Error::Breakpoint(_) | Error::DebugInfo(_) => exit::FAILED,
        Error::Unmapped { .. }
        | Error::ReadOnly { .. }
        | Error::WriteRefused { .. }
        | Error::NotRead { .. }
        | Error::Stalled { .. }
        | Error::Kernel { .. }
        | Error::Proc { .. }
        | Error::ProcFormat { .. }
        | Error::ScanFile { .. }
        | Error::Io { .. } => exit::FAILED,
    }
}

/// Prints `value` as one line of JSON.
fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let line = serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))?;
    outln!("{}", crate::text::json_line(line))
}

/// What [`write_stdout`] calls stdout in its errors, and how
/// [`is_closed_stdout`] knows them.
const STDOUT: &str = "write to stdout";

/// Writes `bytes` to stdout and flushes, so a closed pipe is an error here:
/// the one way commands print.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(stdout_error)
}

/// Writes a diagnostic to stderr. A closed one (`2>&-`, or a pipe whose
/// reader left: SIGPIPE is ignored, so that is EPIPE) leaves nobody to
/// tell: the message is dropped, as `eprintln!` would panic instead.
pub(crate) fn write_stderr(bytes: &[u8]) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(bytes).and_then(|()| stderr.flush());
}

/// A buffered stdout for long output; its write errors go through
/// [`stdout_error`] like [`write_stdout`]'s.
fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::new(std::io::stdout().lock())
}

/// A failed write to stdout, as every command reports it.
fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        what: STDOUT.into(),
        source,
    }
}

/// Whether `err` is stdout's reader gone away (`| head`).
fn is_closed_stdout(err: &Error) -> bool {
    matches!(err, Error::Io { what, source }
        if what == STDOUT && source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Parses a number as decimal or `0x` hex (clap value parser).
fn parse_u64(s: &str) -> std::result::Result<u64, String> {
    crate::literal::parse_u64(s)
}

//! The command-line front end: parses arguments and runs one command.

use std::process::ExitCode;

/// Runs pvtui with the process's arguments.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}

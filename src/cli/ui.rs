//! The default command: the interactive terminal UI.

use std::process::ExitCode;

use clap::Args;

use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct UiArgs {
    /// The process to attach to
    #[arg(long, short)]
    pub pid: Option<i32>,
}

pub fn run(_args: UiArgs) -> Result<ExitCode> {
    Err(Error::Usage(
        "the terminal UI is not built yet; try `pvtui probe`".into(),
    ))
}

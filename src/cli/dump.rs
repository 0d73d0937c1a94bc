//! `pvtui dump`.
use std::process::ExitCode;

use clap::Args;

use crate::error::Result;

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &DumpArgs) -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}

//! `pvtui probe`.
use std::process::ExitCode;

use clap::Args;

use crate::error::Result;

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &ProbeArgs) -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}

//! `pvtui maps`.
use std::process::ExitCode;

use clap::Args;

use crate::error::Result;

#[derive(Debug, Args)]
pub struct MapsArgs {
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &MapsArgs) -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}

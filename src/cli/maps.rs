//! `pvtui maps`: the memory regions of a process.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::error::Result;
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::units::human_bytes;

#[derive(Debug, Args)]
pub struct MapsArgs {
    /// The process to inspect
    #[arg(long, short, value_parser = super::numbers::pid)]
    pub pid: i32,
    /// Print a JSON array
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RegionJson<'a> {
    start: String,
    end: String,
    perms: String,
    offset: String,
    path: &'a str,
    deleted: bool,
}

pub fn run(args: &MapsArgs) -> Result<ExitCode> {
    let session = Session::attach(args.pid, DEFAULT_DEADLINE)?;
    if let Some(note) = session.note() {
        eprintln!("pvtui: {}", crate::text::escape(note));
    }
    let maps = session.maps();
    if args.json {
        let regions: Vec<RegionJson> = maps
            .iter()
            .map(|r| RegionJson {
                start: format!("{:#x}", r.start),
                end: format!("{:#x}", r.end),
                perms: r.perms.to_string(),
                offset: format!("{:#x}", r.offset),
                path: &r.path,
                deleted: r.deleted,
            })
            .collect();
        super::print_json(&regions)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<16} {:<16} {:<4} {:>10} {:>10}  path",
        "start", "end", "perm", "offset", "size"
    );
    for r in maps.iter() {
        let deleted = if r.deleted { " (deleted)" } else { "" };
        println!(
            "{:016x} {:016x} {} {:>10x} {:>10}  {}{deleted}",
            r.start,
            r.end,
            r.perms,
            r.offset,
            human_bytes(r.len()),
            crate::text::escape(&r.path)
        );
    }
    Ok(ExitCode::SUCCESS)
}

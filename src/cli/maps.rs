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
    /// What pvtui calls the region: the file name, `[heap]`, `[anonymous]`,
    /// or for the executable the name the process was started as.
    name: String,
    path: &'a str,
    deleted: bool,
}

pub fn run(args: &MapsArgs) -> Result<ExitCode> {
    let session = Session::attach(args.pid, DEFAULT_DEADLINE)?;
    if let Some(note) = session.note() {
        eprintln!("pvtui: {}", crate::text::escape(note));
    }
    let maps = session.maps();
    let symbols = session.symbols();
    if args.json {
        let regions: Vec<RegionJson> = maps
            .iter()
            .map(|r| RegionJson {
                start: format!("{:#x}", r.start),
                end: format!("{:#x}", r.end),
                perms: r.perms.to_string(),
                offset: format!("{:#x}", r.offset),
                name: symbols.region_name(r),
                path: &r.path,
                deleted: r.deleted,
            })
            .collect();
        super::print_json(&regions)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Started through a symlink: the name it was started as, the real file beside it.
    let started = symbols.started_name();
    if let (Some(name), Some(exe)) = (started, symbols.executable_path()) {
        println!(
            "pid {}  {}  ({})",
            session.pid(),
            crate::text::escape(name),
            crate::text::escape(exe)
        );
    }
    println!(
        "{:<16} {:<16} {:<4} {:>10} {:>10}  path",
        "start", "end", "perm", "offset", "size"
    );
    for r in maps.iter() {
        let deleted = if r.deleted { " (deleted)" } else { "" };
        let name = symbols.region_name(r);
        let path = crate::text::escape(&r.path);
        let shown = if r.is_file() && name != r.name() {
            format!("{} ({path})", crate::text::escape(&name))
        } else {
            path.into_owned()
        };
        println!(
            "{:016x} {:016x} {} {:>10x} {:>10}  {shown}{deleted}",
            r.start,
            r.end,
            r.perms,
            r.offset,
            human_bytes(r.len()),
        );
    }
    Ok(ExitCode::SUCCESS)
}

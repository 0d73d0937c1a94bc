//! `pvtui maps`: the memory regions of a process.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::error::Result;
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::units::human_bytes;

#[derive(Debug, Args)]
pub struct MapsArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// Print one JSON object per region, one a line
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RegionJson<'a> {
    pid: i32,
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
    let pids = args.targets.pids()?;
    let several = pids.len() > 1;
    for pid in pids {
        print_one(args, pid, several)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One process's regions: JSON lines, or a table (under its pid and name
/// when there are several).
fn print_one(args: &MapsArgs, pid: i32, several: bool) -> Result<()> {
    let session = Session::attach(pid, DEFAULT_DEADLINE)?;
    if let Some(note) = session.note() {
        errln!("pvtui: {}", crate::text::escape(note));
    }
    let maps = session.maps();
    let symbols = session.symbols();
    if args.json {
        // One record a line, as every other command prints.
        for r in maps.iter() {
            super::print_json(&RegionJson {
                pid,
                start: format!("{:#x}", r.start),
                end: format!("{:#x}", r.end),
                perms: r.perms.to_string(),
                offset: format!("{:#x}", r.offset),
                name: symbols.region_name(r),
                path: &r.path,
                deleted: r.deleted,
            })?;
        }
        return Ok(());
    }
    if several {
        outln!("pid {pid} ({}):", crate::text::escape(session.name()))?;
    }
    // Started through a symlink: the name it was started as, the real file beside it.
    let started = symbols.started_name();
    if let (Some(name), Some(exe)) = (started, symbols.executable_path()) {
        outln!(
            "pid {}  {}  ({})",
            session.pid(),
            crate::text::escape(name),
            crate::text::escape(exe)
        )?;
    }
    outln!(
        "{:<16} {:<16} {:<4} {:>10} {:>10}  path",
        "start",
        "end",
        "perm",
        "offset",
        "size"
    )?;
    for r in maps.iter() {
        let deleted = if r.deleted { " (deleted)" } else { "" };
        let name = symbols.region_name(r);
        let path = crate::text::escape(&r.path);
        let shown = if r.is_file() && name != r.name() {
            format!("{} ({path})", crate::text::escape(&name))
        } else {
            path.into_owned()
        };
        outln!(
            "{:016x} {:016x} {} {:>10x} {:>10}  {shown}{deleted}",
            r.start,
            r.end,
            r.perms,
            r.offset,
            human_bytes(r.len()),
        )?;
    }
    Ok(())
}

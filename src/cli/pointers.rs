//! `pvtui pointers`: chains of pointers from static places to an address,
//! found in one pass over the target's memory, saved by module and offset,
//! and re-checked in a later run of the program.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::place_of::place_of;
use crate::cli::print_json;
use crate::error::{Error, Result};
use crate::hunt::chains::{ChainFile, SavedChain, resolve_all};
use crate::hunt::pointers::{Bounds, PointerMap, ScanPlan, find_chains, static_areas};
use crate::hunt::printable;
use crate::process::ReadMode;
use crate::search::ProcessSource;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct PointersArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// The address to reach, as a watch expression (`0x55d0c0ffe0:u32`, `*(*p+8)+0x1c:u32`);
    /// with --from, keep only the chains that reach it
    #[arg(value_name = "ADDR|EXPR")]
    pub target: Option<String>,
    /// Most pointers followed from a static place
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = super::numbers::pointer_depth)]
    pub depth: usize,
    /// Largest offset added after each pointer (a struct's size)
    #[arg(long, value_name = "N", value_parser = super::numbers::pointer_offset, default_value = "4096")]
    pub max_offset: u64,
    /// Most chains reported
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = super::numbers::chain_limit)]
    pub limit: usize,
    /// Save the chains (by module and offset) to this file
    #[arg(long, value_name = "F")]
    pub save: Option<PathBuf>,
    /// Re-check the chains saved in this file against this run
    #[arg(long, value_name = "F")]
    pub from: Option<PathBuf>,
    /// Print one JSON object per chain, then a summary
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &PointersArgs) -> Result<ExitCode> {
    let pid = args.targets.one("pointers")?;
    let mut session = Session::attach(pid, Duration::from_secs(1))?;
    match &args.from {
        Some(path) => recheck(args, &mut session, path),
        None => scan(args, &mut session),
    }
}

fn scan(args: &PointersArgs, session: &mut Session) -> Result<ExitCode> {
    let Some(text) = &args.target else {
        return Err(Error::Usage(
            "give the address to reach (ADDR or EXPR), or --from F to re-check saved chains".into(),
        ));
    };
    let place = place_of(text, session)?;
    let started = Instant::now();
    let plan = ScanPlan::for_maps(session.maps());
    // Two lanes: one reads while the other looks for pointers.
    let mut sources: Vec<ProcessSource> = (0..2)
        .map(|_| {
            session
                .searches()
                .process_source(session.maps(), ReadMode::NoWait)
        })
        .collect();
    let map = PointerMap::build(&mut sources, &plan)?;
    let scanned = started.elapsed();
    let statics = static_areas(session.maps());
    let bounds = Bounds {
        depth: args.depth,
        max_offset: args.max_offset,
        max_chains: args.limit,
    };
    let chains = find_chains(&map, &statics, place.addr, bounds);
    let searched = started.elapsed() - scanned;
    let saved: Vec<SavedChain> = chains
        .iter()
        .filter_map(|c| SavedChain::new(c, &statics, session.symbols()))
        .collect();
    // Saved chains read back without the debug info: `int` is saved as `i32`.
    let ty = place.ty.plain().to_string();
    errln!(
        "{} pointers in {} read in {:.2} s; chains searched in {:.2} s",
        map.len(),
        crate::units::human_bytes(map.bytes_read),
        scanned.as_secs_f64(),
        searched.as_secs_f64()
    );
    print_chains(args, &saved, &ty, place.addr, None, session)?;
    if let Some(path) = &args.save {
        save(args, path, text, &ty, saved.clone())?;
    }
    let summary = json!({
        "event": "done",
        "pid": session.pid(),
        "chains": saved.len(),
        "pointers": map.len(),
        "bytes_read": map.bytes_read,
        "scan_seconds": scanned.as_secs_f64(),
        "search_seconds": searched.as_secs_f64(),
        "limit_reached": saved.len() >= args.limit,
    });
    if args.json {
        print_json(&summary)?;
    } else {
        outln!(
            "{} chains to {}{}",
            saved.len(),
            super::places::at(session.symbols(), place.addr),
            if saved.len() >= args.limit {
                " (the limit: raise --limit for more)"
            } else {
                ""
            }
        )?;
    }
    Ok(if saved.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn save(
    args: &PointersArgs,
    path: &std::path::Path,
    target: &str,
    ty: &str,
    chains: Vec<SavedChain>,
) -> Result<()> {
    if chains.is_empty() {
        // The command fails: an earlier file there (perhaps the one re-checked) stays.
        errln!(
            "no chains: {} not written",
            printable(&path.display().to_string())
        );
        return Ok(());
    }
    let file = ChainFile {
        version: 1,
        target: target.to_string(),
        ty: ty.to_string(),
        depth: args.depth,
        max_offset: args.max_offset,
        chains,
    };
    file.save(path)?;
    errln!(
        "saved {} chains to {}",
        file.chains.len(),
        printable(&path.display().to_string())
    );
    Ok(())
}

fn recheck(args: &PointersArgs, session: &mut Session, path: &std::path::Path) -> Result<ExitCode> {
    let file = ChainFile::load(path)?;
    let want = match &args.target {
        Some(text) => Some(place_of(text, session)?.addr),
        None => None,
    };
    let mut source = session
        .searches()
        .process_source(session.maps(), ReadMode::NoWait);
    let resolved = resolve_all(&file.chains, session.maps(), &mut source)?;
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    for (chain, at) in file.chains.iter().zip(&resolved) {
        match at {
            Ok(addr) if want.is_none_or(|w| w == *addr) => kept.push((chain.clone(), *addr)),
            Ok(addr) => {
                dropped += 1;
                if !args.json {
                    let at = super::places::at(session.symbols(), *addr);
                    errln!("dropped {}: reaches {at}", chain.text());
                }
            }
            Err(why) => {
                dropped += 1;
                if !args.json {
                    errln!("dropped {}: {why}", chain.text());
                }
            }
        }
    }
    let chains: Vec<SavedChain> = kept.iter().map(|(c, _)| c.clone()).collect();
    let addrs: Vec<u64> = kept.iter().map(|(_, a)| *a).collect();
    print_chains(args, &chains, &file.ty, 0, Some(&addrs), session)?;
    if args.json {
        print_json(&json!({
            "event": "done", "pid": session.pid(), "kept": chains.len(), "dropped": dropped,
        }))?;
    } else {
        let what = match want {
            Some(w) => format!("reach {}", super::places::at(session.symbols(), w)),
            None => "still resolve".to_string(),
        };
        outln!(
            "{} of {} saved chains {what}",
            chains.len(),
            file.chains.len()
        )?;
    }
    if let Some(out) = &args.save {
        save(args, out, &file.target, &file.ty, chains.clone())?;
    }
    Ok(if chains.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One line (or JSON object) per chain; `addrs` gives each chain's own end.
fn print_chains(
    args: &PointersArgs,
    chains: &[SavedChain],
    ty: &str,
    addr: u64,
    addrs: Option<&[u64]>,
    session: &Session,
) -> Result<()> {
    let symbols = session.symbols();
    for (i, chain) in chains.iter().enumerate() {
        let end = addrs.and_then(|a| a.get(i).copied()).unwrap_or(addr);
        if args.json {
            print_json(&json!({
                "pid": session.pid(),
                "chain": chain.text(),
                "expr": chain.expr(ty),
                "module": printable(&chain.module),
                "module_offset": chain.module_offset,
                "symbol": chain.symbol.as_deref().map(printable),
                "offsets": chain.offsets,
                "address": format!("{end:#x}"),
                "place": symbols.place(end),
            }))?;
        } else {
            let at = super::places::at(symbols, end);
            outln!("{} = {at}    {}", chain.text(), chain.expr(ty))?;
        }
    }
    Ok(())
}

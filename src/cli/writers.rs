//! `pvtui writers`: which instructions write (or read) a watched place,
//! sampled by hardware breakpoints while the target runs on.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::place_of::place_of;
use crate::cli::print_json;
use crate::error::Result;
use crate::hunt::disasm::{self, AccessInstruction};
use crate::hunt::stop::{self, StopSignals};
use crate::hunt::writers::{Access, CodePlace, Hit, Writers, breakpoint, place_of_ip};
use crate::session::Session;

#[derive(Debug, Args)]
pub struct WritersArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// The place, as a watch expression; its type gives the length (`score:u32`, `*(*p+8)+0x1c:u32`)
    #[arg(value_name = "EXPR")]
    pub expr: String,
    /// Sample this long (default: until Ctrl-C or the target exits)
    #[arg(long, value_name = "S", value_parser = super::numbers::parse_seconds)]
    pub seconds: Option<Duration>,
    /// Trap reads as well as writes
    #[arg(long)]
    pub reads: bool,
    /// Print the report as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// How often threads started since the last look get their breakpoint.
const RESCAN: Duration = Duration::from_millis(200);

pub fn run(args: &WritersArgs) -> Result<ExitCode> {
    let pid = args.targets.one("writers")?;
    // Before any thread starts, so Ctrl-C reaches us as a readable fd.
    let stop = StopSignals::install()?;
    let mut session = Session::attach(pid, Duration::from_secs(1))?;
    let place = place_of(&args.expr, &mut session)?;
    let access = if args.reads {
        Access::ReadsAndWrites
    } else {
        Access::Writes
    };
    let bp = breakpoint(place.addr, place.ty.size(), access)?;
    let mut writers = Writers::open(session.pid(), bp)?;
    let what = if args.reads {
        "reads and writes"
    } else {
        "writes"
    };
    errln!(
        "watching {what} of {} bytes at {:#x} on {} threads of pid {}{}",
        bp.len,
        bp.addr,
        writers.threads_watched(),
        pid,
        if args.seconds.is_none() {
            " (Ctrl-C to stop)"
        } else {
            ""
        }
    );
    let start = Instant::now();
    let deadline = args.seconds.map(|s| start + s);
    let mut scanned = start;
    let mut exited = false;
    let mut stopped_by = None;
    loop {
        let now = Instant::now();
        let left = deadline.map_or(RESCAN, |d| d.saturating_duration_since(now).min(RESCAN));
        let ready = writers.wait(left, &[stop.fd(), session.exit_fd()])?;
        if !args.json {
            // Live, so a run ended by Ctrl-C shows progress: each new instruction once.
            for ip in writers.take_new() {
                // File and line where the objects' DWARF has them.
                let place = place_of_ip(ip, session.symbols(), session.debug_info());
                let at = code_at(&place, session.symbols());
                match access_at(&mut session, &place) {
                    Some(access) => {
                        errln!("new: {at} by {:#x}: {}", access.addr, access.text)
                    }
                    None => errln!("new: {at}"),
                }
            }
        }
        if ready {
            if let Some(signal) = stop.received() {
                stopped_by = Some(signal);
                break;
            }
            if !session.is_alive() {
                exited = true;
                break;
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if scanned.elapsed() >= RESCAN {
            scanned = Instant::now();
            match writers.rescan() {
                Ok(_) => {}
                Err(e) if e.is_exit() => {
                    exited = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    writers.drain();
    // Refresh so code loaded during sampling names its module.
    let _ = session.refresh();
    report(args, &mut session, &writers, start.elapsed(), exited)?;
    // Stopped by Ctrl-C or `kill`, after printing what it saw: 128 + the signal.
    Ok(stopped_by.map_or(ExitCode::SUCCESS, stop::exit_code))
}

/// A sampled instruction address, where it lies, and the access before it.
struct Sampled<'a> {
    place: CodePlace,
    hit: &'a Hit,
    access: Option<AccessInstruction>,
}

/// The instruction that made the access sampled at `place`: decoded from the
/// start of its function, with code read from the running target.
fn access_at(session: &mut Session, place: &CodePlace) -> Option<AccessInstruction> {
    let offset = place.function.as_ref().map(|_| place.function_offset);
    disasm::access_before(place.ip, offset, &mut |addr, len| {
        session.read_exact(addr, len).ok()
    })
}

fn report(
    args: &WritersArgs,
    session: &mut Session,
    writers: &Writers,
    elapsed: Duration,
    exited: bool,
) -> Result<()> {
    let mut places = Vec::with_capacity(writers.hits().len());
    for (&ip, hit) in writers.hits() {
        let place = place_of_ip(ip, session.symbols(), session.debug_info());
        let access = access_at(session, &place);
        places.push(Sampled { place, hit, access });
    }
    let total: u64 = places.iter().map(|s| s.hit.count).sum();
    if args.json {
        let hits: Vec<_> = places
            .iter()
            .map(|Sampled { place: p, hit: h, access }| {
                json!({
                    "ip": format!("{:#x}", p.ip),
                    "count": h.count,
                    "tids": h.tids,
                    "function": p.function,
                    "function_offset": p.function_offset,
                    "module": p.module,
                    "module_offset": p.module_offset,
                    "line": p.line,
                    "where": p.label(),
                    "place": session.symbols().place(p.ip),
                    "access": access.as_ref().map(|a| json!({
                        "ip": format!("{:#x}", a.addr),
                        "len": a.len,
                        "text": a.text,
                        "where": place_of_ip(a.addr, session.symbols(), session.debug_info()).label(),
                        "place": session.symbols().place(a.addr),
                    })),
                })
            })
            .collect();
        let refused: Vec<_> = writers
            .refused()
            .iter()
            .map(|(tid, why)| json!({"tid": tid, "error": why}))
            .collect();
        return print_json(&json!({
            "pid": session.pid(),
            "expr": args.expr,
            "access": if args.reads { "read-write" } else { "write" },
            "seconds": elapsed.as_secs_f64(),
            "threads": writers.threads_watched(),
            "hits": hits,
            "total": total,
            "lost": writers.lost(),
            "refused": refused,
            "refused_total": writers.refused_total(),
            "threads_late": writers.late_threads(),
            "lower_bound": writers.late_threads() > 0 || writers.lost() > 0,
            "target_exited": exited,
            "ip_after_access": true,
        }));
    }
    let what = if args.reads { "accesses" } else { "writes" };
    outln!(
        "{total} {what} to {} by {} instruction{} in {:.1} s{}",
        crate::hunt::printable(&args.expr),
        places.len(),
        if places.len() == 1 { "" } else { "s" },
        elapsed.as_secs_f64(),
        if exited { " (the target exited)" } else { "" }
    )?;
    if !places.is_empty() {
        outln!("{:>9}  {:<18}  {:<40}  THREADS", "COUNT", "IP", "WHERE")?;
    }
    let mut sorted = places;
    sorted.sort_by(|a, b| {
        b.hit
            .count
            .cmp(&a.hit.count)
            .then(a.place.ip.cmp(&b.place.ip))
    });
    for Sampled { place, hit, access } in &sorted {
        let tids: Vec<String> = hit.tids.iter().map(u32::to_string).collect();
        outln!(
            "{:>9}  {:<18}  {:<40}  {}",
            hit.count,
            format!("{:#x}", place.ip),
            code_place(place, session.symbols()),
            tids.join(",")
        )?;
        if let Some(access) = access {
            outln!(
                "{:>9}  {:<18}  {}",
                "by",
                format!("{:#x}", access.addr),
                access.text
            )?;
        }
    }
    if sorted.iter().any(|s| s.access.is_none()) {
        outln!(
            "each IP is the instruction after the access: the breakpoint traps once it completes{}",
            if sorted.iter().any(|s| s.access.is_some()) {
                " (\"by\" names the access where its function could be decoded)"
            } else {
                ""
            }
        )?;
    } else if !sorted.is_empty() {
        outln!(
            "each IP is the instruction after the access (the breakpoint traps once it completes); \"by\" is the access"
        )?;
    }
    if writers.lost() > 0 {
        outln!("{} samples lost (the ring buffer was full)", writers.lost())?;
    }
    let late = writers.late_threads();
    if late > 0 {
        println!(
            "{late} thread{} started while watching got {} breakpoint up to {} ms after {}: \
             {what} made before that are not counted, so the count is a lower bound",
            if late == 1 { "" } else { "s" },
            if late == 1 { "its" } else { "their" },
            RESCAN.as_millis(),
            if late == 1 {
                "it started"
            } else {
                "they started"
            },
        );
    }
    for (tid, why) in writers.refused() {
        outln!("thread {tid} not watched: {why}")?;
    }
    let ended = writers
        .refused_total()
        .saturating_sub(writers.refused().len() as u64);
    if ended > 0 {
        outln!("{ended} more threads that have ended were not watched")?;
    }
    Ok(())
}

/// Where an instruction is, by the one place formatter (`game!add_score+0x19`),
/// with its source line where debug info has it; escaped.
fn code_place(place: &CodePlace, symbols: &crate::symbols::SymbolTable) -> String {
    let Some(at) = symbols.place(place.ip) else {
        return place.label();
    };
    let text = match &place.line {
        Some(line) => format!("{at} ({line})"),
        None => at,
    };
    crate::text::escape(&text).into_owned()
}

/// `0x55d0c0a07928 <game!add_score+0x19> (game.c:42)`: an instruction's
/// address named as every address is ([`super::places::at`]), and its line.
fn code_at(place: &CodePlace, symbols: &crate::symbols::SymbolTable) -> String {
    let at = super::places::at(symbols, place.ip);
    match &place.line {
        Some(line) => format!("{at} ({})", crate::text::escape(line)),
        None => at,
    }
}

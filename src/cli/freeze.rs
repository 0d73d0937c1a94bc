//! `pvtui freeze`: hold a value at a watch expression, rewriting it every
//! interval (and checking each rewrite) until Ctrl-C, a time limit or the
//! target's exit, as the UI's freeze does.

use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::json;

use super::place_of::{Place, place_of};
use crate::cli::print_json;
use crate::error::{Error, Result};
use crate::expr::{Status, WatchSet, parse_watch};
use crate::hunt::printable;
use crate::hunt::stop::StopSignals;
use crate::process::ReadMode;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct FreezeArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// Where, as a watch expression with its type (`score:u32`, `*(*p+8)+0x1c:i32`);
    /// its pointers are read again before every rewrite, so a target that
    /// repoints them is followed (only a repoint in the instant between that
    /// read and the write can still meet the old place)
    #[arg(value_name = "EXPR")]
    pub expr: String,
    /// The value to hold, written as for `pvtui write`
    #[arg(value_name = "VALUE", allow_hyphen_values = true)]
    pub value: String,
    /// Time between rewrites, 1 to 60000 ms
    #[arg(long, value_name = "MS", default_value_t = 10, value_parser = super::numbers::hold_interval_ms)]
    pub interval: u64,
    /// Hold this long (default: until Ctrl-C or the target exits)
    #[arg(long, value_name = "S", value_parser = super::numbers::parse_seconds)]
    pub seconds: Option<Duration>,
    /// Print events and the summary as JSON objects, one a line
    #[arg(long)]
    pub json: bool,
}

/// What the hold did.
#[derive(Debug, Default)]
struct Tally {
    rewrites: u64,
    /// The target had changed the value since the last rewrite.
    restored: u64,
    /// The value read back differed: the target wrote between our write and the check.
    contested: u64,
    failed: u64,
}

/// Why the hold ended.
enum End {
    Signal(nix::sys::signal::Signal),
    Time,
    Exited,
    /// A rewrite stalled: the place is not retried.
    Stalled,
}

pub fn run(args: &FreezeArgs) -> Result<ExitCode> {
    let pid = args.targets.one("freeze")?;
    let stop = StopSignals::install()?;
    let mut session = Session::attach(pid, Duration::from_secs(1))?;
    let mut place = place_of(&args.expr, &mut session)?;
    // Parsed again (place_of checked it): the path is followed on every rewrite.
    let mut path = WatchSet::new();
    path.add(parse_watch(&args.expr).map_err(|e| Error::Usage(e.to_string()))?);
    // A bitfield is held alone: its neighbours' bits are the target's.
    let mask = place.ty.bit_mask();
    let current = match place.ty.needs_current() {
        Some(len) => session.read_exact(place.addr, len)?,
        None => Vec::new(),
    };
    let bytes = place
        .ty
        .encode_over(&args.value, &current)
        .map_err(|e| Error::Usage(format!("{}: {e}", printable(&args.value))))?;
    let differs = |got: &[u8]| match &mask {
        Some(mask) => crate::expr::merge_bits(got, &bytes, mask) != got,
        None => got != bytes.as_slice(),
    };
    let expr = printable(&args.expr);
    let interval = Duration::from_millis(args.interval);
    let start = Instant::now();
    let deadline = args.seconds.map(|s| start + s);
    let mut tally = Tally::default();
    let mut next = start;
    let mut landed = false;
    let end = loop {
        if let Some(end) = wait(&session, &stop, next, deadline)? {
            break end;
        }
        next += interval;
        // Far behind (the machine was suspended): do not rewrite in a burst.
        if next < Instant::now() {
            next = Instant::now();
        }
        if let Err(e) = session.refresh() {
            if e.is_exit() || !session.is_alive() {
                break End::Exited;
            }
            report_failure(args, pid, start, &tally, &e.to_string())?;
            tally.failed += 1;
            continue;
        }
        tally.rewrites += 1;
        match follow(&mut session, &mut path) {
            Ok(Ok(addr)) if addr != place.addr => {
                place.addr = addr;
                if tally.rewrites > 1 {
                    moved(args, pid, start, addr, session.symbols().place(addr))?;
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(status)) => {
                tally.failed += 1;
                let why = format!("the path leads nowhere now ({status}): nothing written");
                report_failure(args, pid, start, &tally, &why)?;
                // As a stalled write: a stalled read is not tried again every tick.
                if status == Status::Stalled {
                    break End::Stalled;
                }
                continue;
            }
            Err(e) if e.is_exit() || !session.is_alive() => break End::Exited,
            Err(e) => {
                tally.failed += 1;
                report_failure(args, pid, start, &tally, &e.to_string())?;
                continue;
            }
        }
        match session.write_held(place.addr, &bytes, mask.as_deref()) {
            Ok(report) if report.written == bytes.len() => {
                // The first landed write sets the value: only later ones restore it.
                tally.restored += u64::from(landed && differs(&report.before));
                landed = true;
                tally.contested +=
                    u64::from(report.after.len() != bytes.len() || differs(&report.after));
            }
            // The first write refused (a read-only or unmapped place): nothing
            // is held, and retrying every interval would only repeat it.
            Ok(report) if tally.rewrites == 1 => {
                return Err(Error::WriteRefused {
                    addr: place.addr,
                    len: bytes.len() as u64,
                    why: format!("wrote {} of {} bytes", report.written, bytes.len()),
                });
            }
            Err(
                e @ (Error::ReadOnly { .. } | Error::Unmapped { .. } | Error::WriteRefused { .. }),
            ) if tally.rewrites == 1 => return Err(e),
            Ok(report) => {
                tally.failed += 1;
                let why = format!("wrote {} of {} bytes", report.written, bytes.len());
                report_failure(args, pid, start, &tally, &why)?;
            }
            Err(e) if e.is_exit() || !session.is_alive() => break End::Exited,
            // A stalled write may still land when the page is served: another
            // one every tick would pile up pending writes (and their threads).
            Err(e @ Error::Stalled { .. }) => {
                tally.failed += 1;
                report_failure(args, pid, start, &tally, &e.to_string())?;
                break End::Stalled;
            }
            Err(e) => {
                tally.failed += 1;
                report_failure(args, pid, start, &tally, &e.to_string())?;
            }
        }
        if tally.rewrites == 1 && tally.failed == 0 {
            announce(args, pid, &place, session.symbols().place(place.addr))?;
        }
    };
    let why = match end {
        End::Signal(_) => "stopped",
        End::Time => "time is up",
        End::Exited => "the target exited",
        End::Stalled => "a rewrite stalled, so the place is not written again",
    };
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        print_json(&json!({
            "event": "done", "pid": pid, "why": why, "seconds": seconds,
            "rewrites": tally.rewrites, "restored": tally.restored,
            "contested": tally.contested, "failed": tally.failed,
        }))?;
    } else {
        outln!(
            "held {expr} for {seconds:.1} s ({why}): {} rewrites, the target changed it {} times, \
             {} rewrites raced a write of its own, {} failed",
            tally.rewrites,
            tally.restored,
            tally.contested,
            tally.failed
        )?;
    }
    // Stopped by a signal, the status says so (the failures are printed).
    Ok(match end {
        End::Signal(signal) => crate::hunt::stop::exit_code(signal),
        _ if tally.failed > 0 => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    })
}

/// Says the hold has begun, once the first rewrite was made.
fn announce(args: &FreezeArgs, pid: i32, place: &Place, name: Option<String>) -> Result<()> {
    let expr = printable(&args.expr);
    if args.json {
        print_json(&json!({
            "event": "holding", "pid": pid, "expr": expr, "value": args.value,
            "address": format!("{:#x}", place.addr), "place": name,
            "type": place.ty.to_string(), "interval_ms": args.interval,
        }))?;
    } else {
        let at = match name {
            Some(name) => format!("{:#x} <{}>", place.addr, crate::text::escape(&name)),
            None => format!("{:#x}", place.addr),
        };
        outln!(
            "holding {expr} = {} ({} at {at}) every {} ms",
            printable(&args.value),
            place.ty,
            args.interval
        )?;
    }
    Ok(())
}

/// Where the path leads now: its pointer hops are read again, as a watch's
/// are every tick. `Err` says why it leads nowhere.
fn follow(session: &mut Session, path: &mut WatchSet) -> Result<std::result::Result<u64, Status>> {
    let reading = session.poll(path, ReadMode::Force)?.into_iter().next();
    Ok(match reading {
        Some(crate::expr::WatchReading {
            address: Some(addr),
            ..
        }) => Ok(addr),
        Some(reading) => Err(reading.status),
        None => Err(Status::Error("nothing was evaluated".into())),
    })
}

/// Says the target repointed the path: the hold follows it to `addr`.
fn moved(
    args: &FreezeArgs,
    pid: i32,
    start: Instant,
    addr: u64,
    name: Option<String>,
) -> Result<()> {
    let at = start.elapsed().as_secs_f64();
    if args.json {
        print_json(&json!({
            "event": "moved", "pid": pid, "seconds": at,
            "address": format!("{addr:#x}"), "place": name,
        }))
    } else {
        let name = name.map_or(String::new(), |n| format!(" <{}>", printable(&n)));
        outln!("[{at:>8.3}s] the path now leads to {addr:#x}{name}: held there",)
    }
}

fn report_failure(
    args: &FreezeArgs,
    pid: i32,
    start: Instant,
    tally: &Tally,
    why: &str,
) -> Result<()> {
    let at = start.elapsed().as_secs_f64();
    if args.json {
        print_json(&json!({
            "event": "failed", "pid": pid, "seconds": at, "rewrite": tally.rewrites,
            "error": why,
        }))
    } else {
        errln!("[{at:>8.3}s] rewrite {} failed: {why}", tally.rewrites);
        Ok(())
    }
}

/// Sleeps until `next`; says why the hold ends if it must.
fn wait(
    session: &Session,
    stop: &StopSignals,
    next: Instant,
    deadline: Option<Instant>,
) -> Result<Option<End>> {
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(Some(End::Time));
        }
        let until = deadline.map_or(next, |d| next.min(d));
        let left = until.saturating_duration_since(now);
        let exit_fd = session.exit_fd();
        let mut fds = [
            PollFd::new(stop.fd(), PollFlags::POLLIN),
            PollFd::new(exit_fd.as_fd(), PollFlags::POLLIN),
        ];
        // Rounded up: a timeout rounded down to 0 ms would spin until `next`.
        let millis = i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(0) => {
                if Instant::now() >= next {
                    return Ok(None);
                }
            }
            Ok(_) => {
                let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
                if ready(&fds[0]) {
                    if let Some(signal) = stop.received() {
                        return Ok(Some(End::Signal(signal)));
                    }
                }
                if ready(&fds[1]) || !session.is_alive() {
                    return Ok(Some(End::Exited));
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                return Err(Error::Kernel {
                    call: "poll",
                    source: e.into(),
                });
            }
        }
    }
}

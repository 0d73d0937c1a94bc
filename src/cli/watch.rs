//! `pvtui watch`: poll watch expressions with never-block reads, one line per tick.

use std::os::fd::{AsFd, BorrowedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use serde_json::{Value as Json, json};

use crate::cli::places;
use crate::cli::print_json;
use crate::cli::read::{expr_label, parse_error_line, reading_json};
use crate::error::{Error, Result};
use crate::expr::change::signed_number;
use crate::expr::{Delta, Value, WatchSet, parse_watch};
use crate::hunt::stop::StopSignals;
use crate::process::ReadMode;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// Watch expressions, as for `pvtui read`
    #[arg(required = true, value_name = "EXPR")]
    pub exprs: Vec<String>,
    /// Time between ticks
    #[arg(long, value_name = "MS", default_value_t = 500, value_parser = super::numbers::interval_ms)]
    pub interval: u64,
    /// Stop after this many ticks (default: until the target exits or Ctrl-C)
    #[arg(long, value_name = "N", value_parser = super::numbers::count)]
    pub count: Option<u64>,
    /// How long one tick's reads may take before they are reported stalled
    #[arg(long, value_name = "MS", default_value_t = 100, value_parser = super::numbers::timeout_ms)]
    pub timeout: u64,
    /// Also print each value's change since the tick before
    #[arg(long)]
    pub delta: bool,
    /// Also print each value's change per second since the tick before
    #[arg(long)]
    pub rate: bool,
    /// Print one JSON object per tick
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub debug: super::debuginfo::DebugDirs,
}

pub fn run(args: &WatchArgs) -> Result<ExitCode> {
    // Before any thread starts, so every thread leaves the signals to it.
    let stop = Stop::install()?;
    let pids = args.targets.pids()?;
    let mut set = WatchSet::new();
    let mut watches = Vec::with_capacity(args.exprs.len());
    for text in &args.exprs {
        let watch = parse_watch(text).map_err(|e| {
            if args.json {
                Error::Usage(format!("{}: {}", expr_label(text), parse_error_line(&e)))
            } else {
                Error::Usage(format!("{}:\n{e}", expr_label(text)))
            }
        })?;
        watches.push(watch.clone());
        set.add(watch);
    }
    if pids.len() > 1 {
        return super::several::watch(args, &watches, &pids, &stop);
    }
    let pid = args.targets.one("watch")?;
    let mut session = Session::attach(pid, Duration::from_millis(args.timeout))?;
    args.debug.apply(&mut session)?;
    let start = Instant::now();
    let interval = Duration::from_millis(args.interval);
    let mut next = start;
    let mut tick = 0u64;
    // Each watch's value at the tick before, and when it was read.
    let mut before: Vec<Option<(Value, Instant)>> = vec![None; args.exprs.len()];
    // Whether each watch was read at least once: one never read makes the
    // run incomplete (exit status 3), as for `read`.
    let mut ever_read = vec![false; args.exprs.len()];
    while args.count.is_none_or(|n| tick < n) {
        if tick > 0 {
            match stop.wait(next, Some(session.exit_fd().as_fd()))? {
                Wake::Time if !session.is_alive() => return report_exit(args, pid),
                Wake::Time => {}
                Wake::Ready => return report_exit(args, pid),
                Wake::Signal(signal) => return report_signal(args.json, signal, tick),
            }
        }
        next += interval;
        tick += 1;
        let execs = session.execs();
        let result = session
            .refresh()
            .map(|_| ())
            .and_then(|()| session.poll(&mut set, ReadMode::NoWait));
        if session.execs() != execs {
            report_exec(args, &session)?;
        }
        let readings = match result {
            Ok(readings) => readings,
            Err(e) if e.is_exit() || !session.is_alive() => return report_exit(args, pid),
            Err(e) => return Err(e),
        };
        let read_at = Instant::now();
        for (seen, r) in ever_read.iter_mut().zip(&readings) {
            *seen |= r.value.is_some();
        }
        let changes: Vec<Change> = readings
            .iter()
            .zip(before.iter_mut())
            .map(|(r, last)| {
                let now = r.value.clone().map(|v| (v, read_at));
                Change::since(std::mem::replace(last, now).as_ref(), last.as_ref())
            })
            .collect();
        let elapsed = start.elapsed().as_millis();
        let symbols = session.symbols();
        if args.json {
            let values: Vec<Json> = args
                .exprs
                .iter()
                .zip(&readings)
                .zip(&changes)
                .map(|((text, r), change)| {
                    let mut obj = reading_json(text, r);
                    places::annotate(&mut obj, r, symbols);
                    obj.insert("status".into(), json!(r.status.as_str()));
                    if args.delta {
                        obj.insert(
                            "delta".into(),
                            change.delta.map_or(Json::Null, Delta::to_json),
                        );
                    }
                    if args.rate {
                        obj.insert("rate".into(), change.rate.map_or(Json::Null, Json::from));
                    }
                    Json::Object(obj)
                })
                .collect();
            print_json(
                &json!({"tick": tick, "elapsed_ms": elapsed, "pid": pid, "values": values}),
            )?;
        } else {
            let cells: Vec<String> = args
                .exprs
                .iter()
                .zip(&readings)
                .zip(&changes)
                .map(|((text, r), change)| match &r.value {
                    Some(v) => format!(
                        "{text} = {} ({}){}",
                        shown(v, symbols),
                        r.status,
                        change.text(args)
                    ),
                    None => format!(
                        "{text}: {}",
                        crate::text::escape_lines(&r.status.to_string())
                    ),
                })
                .collect();
            outln!(
                "[{:>6}.{:03}s] {}",
                elapsed / 1000,
                elapsed % 1000,
                cells.join(" | ")
            )?;
        }
    }
    Ok(if ever_read.iter().all(|&seen| seen) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::exit::INCOMPLETE)
    })
}

/// A value on a watch line: a pointer named by where it points, as `read`
/// names it (`0x7f12a0 -> libc.so.6!environ`); others as they are.
fn shown(value: &Value, symbols: &crate::symbols::SymbolTable) -> String {
    match value {
        Value::Pointer(_) => places::value_text(value, symbols),
        other => other.to_string(),
    }
}

/// How one watch's value moved since the tick before; nothing when either
/// reading had no number.
#[derive(Clone, Copy, Debug, Default)]
struct Change {
    delta: Option<Delta>,
    /// Per second, over the time between the two reads.
    rate: Option<f64>,
}

impl Change {
    fn since(before: Option<&(Value, Instant)>, now: Option<&(Value, Instant)>) -> Change {
        let (Some((old, then)), Some((new, at))) = (before, now) else {
            return Change::default();
        };
        let delta = Delta::between(old, new);
        Change {
            delta,
            rate: delta.and_then(|d| d.per_second(at.saturating_duration_since(*then))),
        }
    }

    /// ` delta +7 rate +70/s`, as asked for; `?` before a change is known.
    fn text(&self, args: &WatchArgs) -> String {
        let mut out = String::new();
        if args.delta {
            let d = self
                .delta
                .map_or_else(|| "?".to_string(), |d| d.to_string());
            out.push_str(&format!(" delta {d}"));
        }
        if args.rate {
            let r = self
                .rate
                .map_or_else(|| "?".to_string(), |r| format!("{}/s", signed_number(r)));
            out.push_str(&format!(" rate {r}"));
        }
        out
    }
}

/// SIGINT and SIGTERM for `watch`: blocked in every thread and read from a
/// signalfd between ticks, so they stop the command after a last line even
/// where the shell started it with SIGINT ignored (a blocked signal is kept
/// pending whatever its disposition; see signal(7)).
pub(super) struct Stop {
    signals: StopSignals,
}

/// Why [`Stop::wait`] returned.
pub(super) enum Wake {
    /// The deadline came.
    Time,
    /// The other descriptor became readable (the target exited).
    Ready,
    /// A signal asked to stop.
    Signal(Signal),
}

impl Stop {
    pub fn install() -> Result<Stop> {
        Ok(Stop {
            signals: StopSignals::install()?,
        })
    }

    /// Sleeps until `deadline`, unless `other` becomes readable or a signal
    /// comes first.
    pub fn wait(&self, deadline: Instant, other: Option<BorrowedFd<'_>>) -> Result<Wake> {
        loop {
            if let Some(signal) = self.signals.received() {
                return Ok(Wake::Signal(signal));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Wake::Time);
            }
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            let mut fds = vec![PollFd::new(self.signals.fd(), PollFlags::POLLIN)];
            if let Some(other) = other {
                fds.push(PollFd::new(other, PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(0) => return Ok(Wake::Time),
                Ok(_) => {
                    let other_ready = other.is_some()
                        && fds
                            .last()
                            .and_then(PollFd::revents)
                            .is_some_and(|r| !r.is_empty());
                    if let Some(signal) = self.signals.received() {
                        return Ok(Wake::Signal(signal));
                    }
                    if other_ready {
                        return Ok(Wake::Ready);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    return Err(Error::Kernel {
                        call: "poll",
                        source: e.into(),
                    });
                }
            }
        }
    }
}

/// The last line after a signal, and the status a shell expects: 128 + N.
pub(super) fn report_signal(json: bool, signal: Signal, ticks: u64) -> Result<ExitCode> {
    let name = signal.as_str();
    if json {
        print_json(&json!({"event": "stopped", "signal": name, "ticks": ticks}))?;
    } else {
        outln!("stopped by {name} after {ticks} ticks")?;
    }
    Ok(ExitCode::from(128 + signal as u8))
}

/// The target ran `exec`: the watches now read the new program.
fn report_exec(args: &WatchArgs, session: &Session) -> Result<()> {
    let name = session.name();
    if args.json {
        print_json(&json!({"event": "exec", "pid": session.pid(), "name": name}))
    } else {
        outln!(
            "target {} ran exec: now {}; watches resolved again",
            session.pid(),
            crate::text::escape(name)
        )?;
        Ok(())
    }
}

fn report_exit(args: &WatchArgs, pid: i32) -> Result<ExitCode> {
    if args.json {
        print_json(&json!({"event": "exited", "pid": pid}))?;
    } else {
        outln!("target {pid} exited")?;
    }
    Ok(ExitCode::SUCCESS)
}

//! `pvtui watch`: poll watch expressions with never-block reads, one line per tick.

use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::{Value as Json, json};

use crate::cli::print_json;
use crate::cli::read::{expr_label, parse_error_line, reading_json};
use crate::error::{Error, Result};
use crate::expr::{WatchSet, parse_watch};
use crate::process::ReadMode;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The process to watch
    #[arg(long, value_parser = super::numbers::pid)]
    pub pid: i32,
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
    /// Print one JSON object per tick
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub debug: super::debuginfo::DebugDirs,
}

pub fn run(args: &WatchArgs) -> Result<ExitCode> {
    let mut set = WatchSet::new();
    for text in &args.exprs {
        let watch = parse_watch(text).map_err(|e| {
            if args.json {
                Error::Usage(format!("{}: {}", expr_label(text), parse_error_line(&e)))
            } else {
                Error::Usage(format!("{}:\n{e}", expr_label(text)))
            }
        })?;
        set.add(watch);
    }
    let mut session = Session::attach(args.pid, Duration::from_millis(args.timeout))?;
    args.debug.apply(&mut session)?;
    let start = Instant::now();
    let interval = Duration::from_millis(args.interval);
    let mut next = start;
    let mut tick = 0u64;
    while args.count.is_none_or(|n| tick < n) {
        if tick > 0 && wait_or_exit(&session, next)? {
            return report_exit(args);
        }
        next += interval;
        tick += 1;
        let result = session
            .refresh()
            .map(|_| ())
            .and_then(|()| session.poll(&mut set, ReadMode::NoWait));
        let readings = match result {
            Ok(readings) => readings,
            Err(e) if e.is_exit() || !session.is_alive() => return report_exit(args),
            Err(e) => return Err(e),
        };
        let elapsed = start.elapsed().as_millis();
        if args.json {
            let values: Vec<Json> = args
                .exprs
                .iter()
                .zip(&readings)
                .map(|(text, r)| {
                    let mut obj = reading_json(text, r);
                    obj.insert("status".into(), json!(r.status.as_str()));
                    Json::Object(obj)
                })
                .collect();
            print_json(&json!({"tick": tick, "elapsed_ms": elapsed, "values": values}))?;
        } else {
            let cells: Vec<String> = args
                .exprs
                .iter()
                .zip(&readings)
                .map(|(text, r)| match &r.value {
                    Some(v) => format!("{text} = {v} ({})", r.status),
                    None => format!(
                        "{text}: {}",
                        crate::text::escape_lines(&r.status.to_string())
                    ),
                })
                .collect();
            println!(
                "[{:>6}.{:03}s] {}",
                elapsed / 1000,
                elapsed % 1000,
                cells.join(" | ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sleeps until `deadline` unless the target exits first; returns whether it did.
fn wait_or_exit(session: &Session, deadline: Instant) -> Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(!session.is_alive());
        }
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let fd = session.exit_fd();
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(!session.is_alive()),
            Ok(_) => return Ok(true),
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

fn report_exit(args: &WatchArgs) -> Result<ExitCode> {
    if args.json {
        print_json(&json!({"event": "exited", "pid": args.pid}))?;
    } else {
        println!("target {} exited", args.pid);
    }
    Ok(ExitCode::SUCCESS)
}

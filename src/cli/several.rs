//! `read`, `watch` and `write` over several targets: one session per
//! target, each expression read in every process, and where the values of
//! one expression differ, why (a private copy, another object offset).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};

use crate::cli::places;
use crate::cli::print_json;
use crate::cli::read::reading_json;
use crate::cli::watch::WatchArgs;
use crate::error::{Error, Result};
use crate::expr::{Value, Watch, WatchReading, WatchSet};
use crate::poller::group::{Names, PollGroup, TickOutcome};
use crate::process::ReadMode;
use crate::session::{Placement, Session, Spread};
use crate::text::escape;

/// Attaches to every pid, in order; the first that cannot be attached is
/// the error, naming it. Processes found by name that are gone by now were
/// never asked for one by one: they are left out, and said so on stderr.
pub(super) fn attach_all(pids: &[i32], deadline: Duration, by_name: bool) -> Result<Vec<Session>> {
    let mut sessions = Vec::with_capacity(pids.len());
    for &pid in pids {
        match Session::attach(pid, deadline) {
            Ok(session) => sessions.push(session),
            Err(
                Error::NoSuchProcess { .. } | Error::Zombie { .. } | Error::TargetExited { .. },
            ) if by_name => {
                errln!("pvtui: {pid} exited before it could be attached; left out");
            }
            Err(e) => return Err(e),
        }
    }
    if sessions.is_empty() && !pids.is_empty() {
        return Err(Error::Usage("every process named has exited".into()));
    }
    Ok(sessions)
}

/// One expression's reading in one process.
pub(super) struct Seen {
    pub pid: i32,
    pub reading: WatchReading,
    pub placement: Option<Placement>,
    /// The address's name in this process (`module!symbol+0xOFF`), as a
    /// single target's `read` prints it; unescaped.
    pub place: Option<String>,
    /// Where a pointer value points, named the same way; unescaped.
    pub points_to: Option<String>,
    /// The value as a line of text shows it (a pointer with its target's name).
    pub shown: Option<String>,
    /// A value too long for its line, as hex dump lines.
    pub long: Option<String>,
}

/// Reads every watch once in `session`, with where each address lies.
pub(super) fn read_in(
    session: &mut Session,
    watches: &[Watch],
    mode: ReadMode,
) -> Result<Vec<Seen>> {
    let mut set = WatchSet::new();
    for watch in watches {
        set.add(watch.clone());
    }
    let readings = session.poll(&mut set, mode)?;
    Ok(readings
        .into_iter()
        .map(|mut reading| {
            session.read_strings(&mut reading, ReadMode::Force);
            let symbols = session.symbols();
            let points_to = match reading.value {
                Some(Value::Pointer(p)) => symbols.place(p),
                _ => None,
            };
            Seen {
                pid: session.pid(),
                placement: reading.address.and_then(|a| session.placement(a)),
                place: reading.address.and_then(|a| symbols.place(a)),
                points_to,
                shown: reading
                    .value
                    .as_ref()
                    .map(|v| places::value_text(v, symbols)),
                long: reading
                    .value
                    .as_ref()
                    .and_then(|v| places::long_bytes(v, reading.address)),
                reading,
            }
        })
        .collect())
}

/// How one expression's readings compare across processes.
pub(super) fn spread(seen: &[&Seen]) -> Spread {
    let rows: Vec<(i32, Option<&Value>, Option<&Placement>)> = seen
        .iter()
        .map(|s| (s.pid, s.reading.value.as_ref(), s.placement.as_ref()))
        .collect();
    Spread::of(&rows)
}

/// `expr`'s reading in one process as JSON: the reading's fields, its pid,
/// the object it lies in, and whether it differs from the other processes.
pub(super) fn seen_json(expr: &str, seen: &Seen, spread: Option<&Spread>) -> Map<String, Json> {
    let mut obj = reading_json(expr, &seen.reading);
    obj.insert("pid".into(), json!(seen.pid));
    if let Some(place) = &seen.place {
        obj.insert("place".into(), json!(place));
    }
    if let Some(target) = &seen.points_to {
        obj.insert("points_to".into(), json!(target));
    }
    if let Some(p) = &seen.placement {
        obj.insert("object".into(), json!(p.object));
        obj.insert("shared".into(), json!(p.shared));
        obj.insert("object_offset".into(), json!(format!("{:#x}", p.offset)));
    }
    if let Some(spread) = spread {
        obj.insert("differs".into(), json!(spread.differs));
        if let Some(why) = spread.reason() {
            obj.insert("why".into(), json!(why));
        }
    }
    obj
}

/// One process's line: the address named as a single target's `read`
/// names it (`counter = 5  (u32 at 0x55.. <game!counter>)`), and the object
/// beside it where it says more: shared memory, or a place no symbol names
/// (`(u32 at 0x7f.., shared /dev/shm/ring+0x40)`).
pub(super) fn seen_text(expr: &str, seen: &Seen) -> String {
    // A debug-info type's name comes from the target's files: escaped.
    let ty = escape(&seen.reading.ty.to_string()).into_owned();
    let mut place = match (seen.reading.address, &seen.place) {
        (Some(addr), Some(name)) => format!("{ty} at {addr:#x} <{}>", escape(name)),
        (Some(addr), None) => format!("{ty} at {addr:#x}"),
        (None, _) => ty,
    };
    let object = seen
        .placement
        .as_ref()
        .filter(|p| p.shared || seen.place.is_none());
    if let Some(p) = object {
        let how = if p.shared { "shared" } else { "private" };
        let object = if p.object.is_empty() {
            "anonymous".into()
        } else {
            escape(&p.object)
        };
        let _ = write!(place, ", {how} {object}+{:#x}", p.offset);
    }
    match &seen.shown {
        Some(value) => format!("{expr} = {value}  ({place})"),
        None => format!(
            "{expr}: {}  ({place})",
            crate::text::escape_lines(&seen.reading.status.to_string())
        ),
    }
}

/// `pvtui read` with several targets: each expression, then its value in
/// every process.
pub(super) fn read(
    exprs: &[String],
    watches: &[Watch],
    pids: &[i32],
    by_name: bool,
    timeout: Duration,
    json_out: bool,
) -> Result<(String, bool)> {
    let mut per_target = Vec::with_capacity(pids.len());
    let mut failed = false;
    for mut session in attach_all(pids, timeout, by_name)? {
        match read_in(&mut session, watches, ReadMode::Force) {
            Ok(seen) => per_target.push(seen),
            // One target exiting leaves the others read. A process named by
            // its pid makes the output incomplete; one taken by its name is
            // left out, as one that exited before it was attached is.
            Err(e) if e.is_exit() => {
                errln!(
                    "pvtui: {} exited while it was read; left out",
                    session.pid()
                );
                failed |= !by_name;
            }
            Err(e) => return Err(e),
        }
    }
    if per_target.is_empty() {
        return Err(Error::TargetExited {
            pid: pids.first().copied().unwrap_or(0),
        });
    }
    let mut out = String::new();
    for (i, expr) in exprs.iter().enumerate() {
        let seen: Vec<&Seen> = per_target.iter().filter_map(|t| t.get(i)).collect();
        let spread = spread(&seen);
        for s in &seen {
            failed |= s.reading.value.is_none();
            if json_out {
                let obj = Json::Object(seen_json(expr, s, Some(&spread)));
                let _ = writeln!(out, "{}", crate::text::json_line(obj.to_string()));
            } else {
                let _ = writeln!(out, "{}: {}", s.pid, seen_text(expr, s));
                if let Some(dump) = &s.long {
                    out.push_str(dump);
                }
            }
        }
        if !json_out && spread.differs {
            let why = spread
                .reason()
                .unwrap_or_else(|| "each process holds its own".into());
            let _ = writeln!(out, "{expr}: the values differ ({why})");
        }
    }
    Ok((out, failed))
}

/// `pvtui watch` with several targets: one thread per target, one line per
/// target per tick; a target that exits is reported once and the others
/// go on; a target still reading when the tick's time is up is `late`.
pub(super) fn watch(
    args: &WatchArgs,
    watches: &[Watch],
    pids: &[i32],
    stop: &super::watch::Stop,
) -> Result<ExitCode> {
    let exprs = &args.exprs;
    let interval = Duration::from_millis(args.interval);
    let timeout = Duration::from_millis(args.timeout);
    let (count, json_out) = (args.count, args.json);
    let by_name = args.targets.by_name();
    let mut group = PollGroup::start(attach_all(pids, timeout, by_name)?, watches)?;
    let start = Instant::now();
    let mut next = start;
    let mut reported = vec![false; pids.len()];
    let mut ticks = 0u64;
    while count.is_none_or(|n| ticks < n) {
        if ticks > 0
            && let super::watch::Wake::Signal(signal) = stop.wait(next, None)?
        {
            return super::watch::report_signal(json_out, signal, ticks);
        }
        next += interval;
        ticks += 1;
        // A tick waits for its targets no longer than its own interval (or
        // the read timeout, if longer): a stalled target is reported late.
        let tick = group.tick(Instant::now() + interval.max(timeout));
        let elapsed = start.elapsed().as_millis();
        let read: Vec<&[WatchReading]> = tick
            .targets
            .iter()
            .filter_map(|t| match &t.outcome {
                TickOutcome::Read { readings, .. } => Some(readings.as_slice()),
                _ => None,
            })
            .collect();
        let differs: Vec<bool> = (0..exprs.len())
            .map(|i| {
                let mut values = read.iter().filter_map(|r| r.get(i)?.value.as_ref());
                let first = values.next();
                values.any(|v| Some(v) != first)
            })
            .collect();
        let several = read.len() > 1;
        for (target, done) in tick.targets.iter().zip(reported.iter_mut()) {
            let pid = target.pid;
            match &target.outcome {
                TickOutcome::Read {
                    readings,
                    placements,
                    names,
                    ..
                } => {
                    if json_out {
                        let values: Vec<Json> = exprs
                            .iter()
                            .zip(readings)
                            .zip(placements)
                            .zip(names)
                            .zip(&differs)
                            .map(|((((text, r), p), n), d)| {
                                let mut obj = reading_json(text, r);
                                if let Some(place) = &n.place {
                                    obj.insert("place".into(), json!(place));
                                }
                                if let Some(target) = &n.points_to {
                                    obj.insert("points_to".into(), json!(target));
                                }
                                obj.insert("status".into(), json!(r.status.as_str()));
                                if let Some(p) = p {
                                    obj.insert("shared".into(), json!(p.shared));
                                    obj.insert(
                                        "object_offset".into(),
                                        json!(format!("{:#x}", p.offset)),
                                    );
                                }
                                if several {
                                    obj.insert("differs".into(), json!(d));
                                }
                                Json::Object(obj)
                            })
                            .collect();
                        print_json(&json!({
                            "tick": tick.tick,
                            "elapsed_ms": elapsed,
                            "pid": pid,
                            "values": values,
                        }))?;
                    } else {
                        let cells: Vec<String> = exprs
                            .iter()
                            .zip(readings)
                            .zip(names)
                            .zip(&differs)
                            .map(|(((text, r), n), d)| {
                                let mark = if several && *d { " ≠" } else { "" };
                                match &r.value {
                                    Some(v) => {
                                        format!("{text} = {} ({}){mark}", shown(v, n), r.status)
                                    }
                                    None => format!(
                                        "{text}: {}",
                                        crate::text::escape_lines(&r.status.to_string())
                                    ),
                                }
                            })
                            .collect();
                        outln!(
                            "[{:>6}.{:03}s] {pid}: {}",
                            elapsed / 1000,
                            elapsed % 1000,
                            cells.join(" | ")
                        )?;
                    }
                }
                TickOutcome::Late => {
                    if json_out {
                        print_json(&json!({"tick": tick.tick, "pid": pid, "late": true}))?;
                    } else {
                        outln!(
                            "[{:>6}.{:03}s] {pid}: late (still reading an earlier tick)",
                            elapsed / 1000,
                            elapsed % 1000
                        )?;
                    }
                }
                TickOutcome::Failed(e) => {
                    let why = crate::text::escape_lines(&e.to_string()).into_owned();
                    if json_out {
                        print_json(&json!({"tick": tick.tick, "pid": pid, "error": why}))?;
                    } else {
                        outln!(
                            "[{:>6}.{:03}s] {pid}: {why}",
                            elapsed / 1000,
                            elapsed % 1000
                        )?;
                    }
                }
                TickOutcome::Exited if !*done => {
                    *done = true;
                    if json_out {
                        print_json(&json!({"event": "exited", "pid": pid}))?;
                    } else {
                        outln!("target {pid} exited")?;
                    }
                }
                TickOutcome::Exited => {}
            }
        }
        if tick.all_exited() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A value on a several-target watch line as on a single target's: a
/// pointer named by where it points in its own process
/// (`0x7f12a0 -> libc.so.6!environ`); others as they are.
fn shown(value: &Value, names: &Names) -> String {
    match (value, &names.points_to) {
        (Value::Pointer(p), Some(target)) => format!("{p:#x} -> {}", escape(target)),
        (other, _) => other.to_string(),
    }
}

/// What a write through one process looks like from another.
pub(super) struct ReadBack {
    pub pid: i32,
    pub address: Option<u64>,
    pub value: Option<Value>,
    /// The other process reads the value written.
    pub reached: bool,
    /// Why there is no value, when there is none.
    pub why: Option<String>,
}

/// Reads `watch` in each of `pids` after a write of `written` through
/// another process: does each see it?
pub(super) fn read_back(
    watch: &Watch,
    pids: &[i32],
    timeout: Duration,
    written: &Value,
) -> Result<Vec<ReadBack>> {
    let mut out = Vec::with_capacity(pids.len());
    for mut session in attach_all(pids, timeout, false)? {
        let pid = session.pid();
        out.push(match session.evaluate(watch, ReadMode::Force)? {
            Ok(reading) => ReadBack {
                pid,
                address: reading.address,
                reached: reading.value.as_ref() == Some(written),
                why: reading.value.is_none().then(|| reading.status.to_string()),
                value: reading.value,
            },
            Err(diagnostic) => ReadBack {
                pid,
                address: None,
                value: None,
                reached: false,
                why: Some(diagnostic.to_string()),
            },
        });
    }
    Ok(out)
}

/// The read-backs as JSON objects.
pub(super) fn read_back_json(seen: &[ReadBack]) -> Vec<Json> {
    seen.iter()
        .map(|r| {
            let mut obj = Map::new();
            obj.insert("pid".into(), json!(r.pid));
            if let Some(addr) = r.address {
                obj.insert("address".into(), json!(format!("{addr:#x}")));
            }
            if let Some(v) = &r.value {
                obj.insert("value".into(), v.to_json());
            }
            if let Some(why) = &r.why {
                obj.insert("error".into(), json!(why));
            }
            obj.insert("reached".into(), json!(r.reached));
            Json::Object(obj)
        })
        .collect()
}

/// One line per read-back: `1235 reads 7 at 0x7f..: reached`.
pub(super) fn read_back_text(seen: &[ReadBack]) -> String {
    let mut out = String::new();
    for r in seen {
        let at = r.address.map(|a| format!(" at {a:#x}")).unwrap_or_default();
        let _ = match (&r.value, r.reached) {
            (Some(v), true) => writeln!(out, "  {} reads {v}{at}: reached", r.pid),
            (Some(v), false) => writeln!(out, "  {} reads {v}{at}: not reached", r.pid),
            (None, _) => writeln!(
                out,
                "  {}: {}{at}: not reached",
                r.pid,
                crate::text::escape_lines(r.why.as_deref().unwrap_or("not read"))
            ),
        };
    }
    out
}

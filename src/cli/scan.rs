//! `pvtui scan`: find the places holding a value, then narrow them down
//! across later scans through a saved scan file.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::search::{CommonArgs, Interrupt, Meter, hex, report};
use crate::error::{Error, Result};
use crate::process::Maps;
use crate::search::{
    Condition, ProcessIdentity, ScanFile, ScanHeader, ScanSpec, SearchEvent, SearchJob, Summary,
    ValueType,
};
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::symbols::SymbolTable;

#[derive(Debug, Args)]
pub struct ScanArgs {
    // The processes to scan (with --from, default to those the file was
    // taken of); several targets each get a candidate set of their own.
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// The value type: u8 u16 u32 u64 i8 i16 i32 i64 f32 f64, or int (alias
    /// any): u8, u16, u32 and u64 at once, each place keeping the width it
    /// matched
    #[arg(long = "type", short = 't', value_parser = parse_type, required_unless_present = "from")]
    pub ty: Option<ValueType>,
    /// A value (`1234`, `eq 1234`), `range LO HI`, or `unknown` (a snapshot
    /// of every place, to narrow later); after --from also `changed`,
    /// `unchanged`, `increased`, `decreased`, `increased-by N`,
    /// `decreased-by N`, and `undo` (back to the step before the last narrowing)
    #[arg(required = true, num_args = 1.., allow_negative_numbers = true)]
    pub condition: Vec<String>,
    /// Narrow the scan saved in FILE (rewritten with the survivors unless --save)
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Save the places found to FILE, for narrowing with --from
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Also consider places not aligned to the type's size
    #[arg(long)]
    pub unaligned: bool,
    /// Floats within this distance count as equal
    #[arg(long, default_value_t = 0.0, value_parser = super::numbers::tolerance)]
    pub tolerance: f64,
    /// Scan every readable region, not only the writable ones (the default,
    /// where a program keeps what changes)
    #[arg(long, conflicts_with = "perms")]
    pub all_regions: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print at most N places, those at the lowest addresses, and say how
    /// many more there are (text prints 20 unless told; JSON prints all
    /// unless told; 0 only counts). The saved file always holds every place
    #[arg(long, value_parser = super::numbers::max_results)]
    pub max: Option<u64>,
    /// Print one JSON object per place
    #[arg(long)]
    pub json: bool,
}

/// Places printed as text when --max does not say.
const TEXT_PLACES: u64 = 20;

fn parse_type(s: &str) -> std::result::Result<ValueType, String> {
    ValueType::parse(s).map_err(|e| e.to_string())
}

/// The first word of a condition, when it is one of the scan's own commands.
pub(super) fn command_word(args: &ScanArgs) -> Option<&str> {
    match args.condition.as_slice() {
        [word] if word == "unknown" || word == "undo" => Some(word.as_str()),
        _ => None,
    }
}

pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let pids = if args.targets.given() {
        Some(args.targets.pids()?)
    } else {
        None
    };
    // Several targets: a set of scans, one per process (see `scan_set`).
    if let Some(path) = &args.from
        && super::scan_set::is_set(path)?
    {
        return super::scan_set::narrow(args, path, pids.as_deref());
    }
    let pid_given = match pids.as_deref() {
        None => None,
        Some([pid]) => Some(*pid),
        Some(many) => match &args.from {
            Some(path) => {
                return Err(Error::Usage(format!(
                    "{} holds the places of one process: give one --pid (a scan of several \
                     targets started with --save narrows them together)",
                    crate::text::escape(&path.display().to_string())
                )));
            }
            None => return super::scan_set::first(args, many),
        },
    };
    let interrupt = Interrupt::install();
    let word = command_word(args);
    let unknown = word == Some("unknown");
    let (job, session, maps) = match &args.from {
        Some(path) if word == Some("undo") => return undo(path, args),
        Some(_) if unknown => return Err(unknown_from()),
        Some(path) => {
            let h = *ScanFile::open(path)?.header();
            let pid = pid_given.unwrap_or(h.pid);
            if pid != h.pid {
                return Err(Error::Usage(format!(
                    "{} was scanned in pid {}, not {pid}",
                    path.display(),
                    h.pid
                )));
            }
            let session = attach_scanned(pid)?;
            let maps = session.maps().clone();
            let save = args.save.clone().unwrap_or_else(|| path.clone());
            let job = narrow_job(&session, &maps, path, &save, args)?;
            (job, session, maps)
        }
        None => {
            let (Some(pid), Some(_)) = (pid_given, args.ty) else {
                return Err(Error::Usage("a first scan needs --pid and --type".into()));
            };
            let session = Session::attach(pid, DEFAULT_DEADLINE)?;
            let maps = session.maps().clone();
            let job = first_job(&session, &maps, args.save.as_deref(), args)?;
            (job, session, maps)
        }
    };
    let summary = finish(job, &interrupt, args.from.is_some())?;
    if !unknown {
        print_places(&summary, &maps, session.symbols(), args, None)?;
    }
    let code = report(&summary, "places")?;
    if let Some(file) = &summary.scan
        && (args.save.is_some() || args.from.is_some())
    {
        errln!("saved to {}", file.path().display());
    }
    Ok(code)
}

pub(super) fn unknown_from() -> Error {
    Error::Usage(
        "`unknown` starts a new scan: give --pid, --type and --save instead of --from".into(),
    )
}

/// Attaches to the process a scan file was taken of; gone by now, it says so.
pub(super) fn attach_scanned(pid: i32) -> Result<Session> {
    Session::attach(pid, DEFAULT_DEADLINE).map_err(|e| match e {
        Error::NoSuchProcess { pid } | Error::Zombie { pid } => Error::TargetExited { pid },
        e => e,
    })
}

/// The first scan of `session`: a value, a range, or `unknown` (a
/// snapshot); the places go to `save` when given.
pub(super) fn first_job(
    session: &Session,
    maps: &Maps,
    save: Option<&std::path::Path>,
    args: &ScanArgs,
) -> Result<SearchJob> {
    let Some(ty) = args.ty else {
        return Err(Error::Usage("a first scan needs --pid and --type".into()));
    };
    let word = command_word(args);
    if word == Some("undo") {
        return Err(Error::Usage(
            "`undo` goes back a step of a saved scan: give --from FILE".into(),
        ));
    }
    let mut options = args.common.options();
    if !args.all_regions && options.regions.perms.is_none() {
        options.regions.perms = Some("rw".into());
    }
    if word == Some("unknown") {
        if args.unaligned {
            return Err(Error::Usage(
                "an unknown-value scan takes aligned places only: drop --unaligned".into(),
            ));
        }
        let Some(save) = save else {
            return Err(Error::Usage(
                "an unknown-value scan is only useful narrowed later: give --save FILE".into(),
            ));
        };
        return session.searches().snapshot(maps, ty, Some(save), options);
    }
    let spec = ScanSpec {
        ty,
        condition: Condition::parse(ty, &args.condition)?,
        aligned: !args.unaligned,
        tolerance: args.tolerance,
    };
    session.searches().scan(maps, spec, save, options)
}

/// Narrows the scan in `path` in `session`'s process, writing the places
/// left to `save`. Refuses another type, or another process than the one
/// the file was taken of.
pub(super) fn narrow_job(
    session: &Session,
    maps: &Maps,
    path: &std::path::Path,
    save: &std::path::Path,
    args: &ScanArgs,
) -> Result<SearchJob> {
    let from = ScanFile::open(path)?;
    let h = *from.header();
    if let Some(ty) = args.ty
        && ty != h.ty
    {
        return Err(Error::Usage(format!(
            "{} holds a {} scan, not {ty}",
            path.display(),
            h.ty
        )));
    }
    let pid = session.pid();
    if pid != h.pid {
        return Err(Error::Usage(format!(
            "{} was scanned in pid {}, not {pid}",
            path.display(),
            h.pid
        )));
    }
    let condition = Condition::parse(h.ty, &args.condition)?;
    same_process(path, pid, &h)?;
    let mode = args.common.options().mode;
    session
        .searches()
        .narrow(maps, from, condition, Some(save), mode)
}

/// Runs `job` to its end (Ctrl-C cancels it), with a progress meter.
pub(super) fn finish(job: SearchJob, interrupt: &Interrupt, narrowing: bool) -> Result<Summary> {
    interrupt.cancels(job.canceller());
    let unit = if narrowing { "places" } else { "B" };
    let mut meter = Meter::new();
    let summary = loop {
        match job.events().recv() {
            Ok(SearchEvent::Progress(p)) => meter.show(&p, unit),
            Ok(SearchEvent::Found(_) | SearchEvent::Places(_) | SearchEvent::Searched(_)) => {}
            Ok(SearchEvent::Finished(summary)) => break summary,
            Err(_) => return Err(Error::Internal("the scan stopped unexpectedly".into())),
        }
    };
    meter.clear();
    Ok(summary)
}

/// `scan --from FILE undo`: puts back the step before the last narrowing.
pub(super) fn undo(path: &std::path::Path, args: &ScanArgs) -> Result<ExitCode> {
    let file = crate::search::undo(path)?;
    let h = file.header();
    if args.json {
        super::print_json(&serde_json::json!({
            "pid": h.pid,
            "file": path.display().to_string(),
            "places": h.count,
            "step": h.scans,
        }))?;
    }
    errln!(
        "{}: back to step {} with {} places",
        crate::text::escape(&path.display().to_string()),
        h.scans,
        h.count
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses to narrow `path` in `pid` when `pid` is no longer the process
/// the scan was taken of (the pid was reused, or the process ran `exec`).
fn same_process(path: &std::path::Path, pid: i32, h: &ScanHeader) -> Result<()> {
    let now = ProcessIdentity::of(pid).ok_or(Error::NoSuchProcess { pid })?;
    match h.identity.mismatch(&now) {
        None => Ok(()),
        Some(why) => Err(Error::ScanFile {
            path: path.display().to_string(),
            why: format!(
                "it was taken of an earlier process with pid {pid}: {why}; start a new scan"
            ),
        }),
    }
}

#[derive(serde::Serialize)]
struct JsonPlace<'a> {
    /// The process the place is in.
    pid: i32,
    address: String,
    /// `module!symbol+0xOFF` or `[module]+0xOFF`, where a mapped file holds the place.
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    region: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    len: usize,
    text: String,
    hex: String,
    value: String,
}

/// Prints the places of a scan; with several targets (`pid` given) each
/// line starts with the pid and each JSON object carries it.
pub(super) fn print_places(
    summary: &Summary,
    maps: &Maps,
    symbols: &SymbolTable,
    args: &ScanArgs,
    pid: Option<i32>,
) -> Result<()> {
    let Some(file) = &summary.scan else {
        return Ok(());
    };
    let scan_ty = file.header().ty;
    let limit = match (args.max, args.json) {
        (Some(n), _) => n,
        (None, true) => u64::MAX,
        (None, false) => TEXT_PLACES,
    };
    let mut out = super::stdout();
    let places = file.first(usize::try_from(limit).unwrap_or(usize::MAX))?;
    let shown = places.len() as u64;
    for c in places {
        let ty = c.ty(scan_ty);
        let region = maps
            .find(c.addr)
            .map(|r| symbols.region_name(r))
            .unwrap_or_else(|| "[unmapped]".to_string());
        let place = symbols.place(c.addr);
        let value = ty.format(c.bits);
        let bytes = ty.store(c.bits);
        let line = if args.json {
            serde_json::to_string(&JsonPlace {
                pid: pid.unwrap_or(file.header().pid),
                address: format!("{:#x}", c.addr),
                place,
                region: &region,
                ty: ty.name(),
                len: ty.size(),
                text: value.clone(),
                hex: hex(&bytes),
                value,
            })
            .map(crate::text::json_line)
            .map_err(|e| Error::Internal(e.to_string()))?
        } else {
            let name = place.unwrap_or_else(|| region.clone());
            let who = pid.map(|p| format!("{p}  ")).unwrap_or_default();
            format!(
                "{who}{:#x}  {}  {ty}  {value}",
                c.addr,
                crate::text::escape(&name)
            )
        };
        writeln!(out, "{line}").map_err(super::stdout_error)?;
    }
    let left = file.count().saturating_sub(shown);
    super::search::left_out(&mut out, left, limit, args.json, "places")?;
    out.flush().map_err(super::stdout_error)
}

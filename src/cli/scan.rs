//! `pvtui scan`: find the places holding a value, then narrow them down
//! across later scans through a saved scan file.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::search::{CommonArgs, Interrupt, JsonHit, Meter, hex, report};
use crate::error::{Error, Result};
use crate::process::Maps;
use crate::search::{
    Condition, ProcessIdentity, ScanFile, ScanHeader, ScanSpec, SearchEvent, Summary, ValueType,
};
use crate::session::{DEFAULT_DEADLINE, Session};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The process to scan (defaults to the one a --from file was taken of)
    #[arg(long, required_unless_present = "from", value_parser = super::numbers::pid)]
    pub pid: Option<i32>,
    /// The value type: u8 u16 u32 u64 i8 i16 i32 i64 f32 f64
    #[arg(long = "type", short = 't', value_parser = parse_type, required_unless_present = "from")]
    pub ty: Option<ValueType>,
    /// A value (`1234`, `eq 1234`), `range LO HI`; after --from also
    /// `changed`, `unchanged`, `increased`, `decreased`, `increased-by N`, `decreased-by N`
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
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print at most N places
    #[arg(long, default_value_t = 20, value_parser = super::numbers::max_places)]
    pub max: usize,
    /// Print one JSON object per place
    #[arg(long)]
    pub json: bool,
}

fn parse_type(s: &str) -> std::result::Result<ValueType, String> {
    ValueType::parse(s).map_err(|e| e.to_string())
}

pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let interrupt = Interrupt::install();
    let (job, maps) = match &args.from {
        Some(path) => {
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
            let pid = args.pid.unwrap_or(h.pid);
            if pid != h.pid {
                return Err(Error::Usage(format!(
                    "{} was scanned in pid {}, not {pid}",
                    path.display(),
                    h.pid
                )));
            }
            let condition = Condition::parse(h.ty, &args.condition)?;
            let session = Session::attach(pid, DEFAULT_DEADLINE)?;
            same_process(path, pid, &h)?;
            let maps = session.maps().clone();
            let save = args.save.clone().unwrap_or_else(|| path.clone());
            let mode = args.common.options().mode;
            let job = session
                .searches()
                .narrow(&maps, from, condition, Some(&save), mode)?;
            (job, maps)
        }
        None => {
            let (Some(pid), Some(ty)) = (args.pid, args.ty) else {
                return Err(Error::Usage("a first scan needs --pid and --type".into()));
            };
            let condition = Condition::parse(ty, &args.condition)?;
            let spec = ScanSpec {
                ty,
                condition,
                aligned: !args.unaligned,
                tolerance: args.tolerance,
            };
            let session = Session::attach(pid, DEFAULT_DEADLINE)?;
            let maps = session.maps().clone();
            let job = session.searches().scan(
                &maps,
                spec,
                args.save.as_deref(),
                args.common.options(),
            )?;
            (job, maps)
        }
    };
    interrupt.cancels(job.canceller());
    let unit = if args.from.is_some() { "places" } else { "B" };
    let mut meter = Meter::new();
    let summary = loop {
        match job.events().recv() {
            Ok(SearchEvent::Progress(p)) => meter.show(&p, unit),
            Ok(SearchEvent::Found(_)) => {}
            Ok(SearchEvent::Finished(summary)) => break summary,
            Err(_) => return Err(Error::Internal("the scan stopped unexpectedly".into())),
        }
    };
    meter.clear();
    print_places(&summary, &maps, args)?;
    let code = report(&summary, "places")?;
    if let Some(file) = &summary.scan
        && (args.save.is_some() || args.from.is_some())
    {
        eprintln!("saved to {}", file.path().display());
    }
    Ok(code)
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

fn print_places(summary: &Summary, maps: &Maps, args: &ScanArgs) -> Result<()> {
    let Some(file) = &summary.scan else {
        return Ok(());
    };
    let ty = file.header().ty;
    let mut out = std::io::stdout().lock();
    for c in file.first(args.max)? {
        let region = maps
            .find(c.addr)
            .map(crate::search::walk::region_label)
            .unwrap_or_else(|| "[unmapped]".to_string());
        let value = ty.format(c.bits);
        let bytes = ty.store(c.bits);
        let line = if args.json {
            serde_json::to_string(&JsonHit {
                address: format!("{:#x}", c.addr),
                region: &region,
                len: ty.size(),
                text: value.clone(),
                hex: hex(&bytes),
                value: Some(value),
            })
            .map(crate::text::json_line)
            .map_err(|e| Error::Internal(e.to_string()))?
        } else {
            format!(
                "{:#x}  {}  {ty}  {value}",
                c.addr,
                crate::text::escape(&region)
            )
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    if file.count() > args.max as u64 && args.max > 0 && !args.json {
        let _ = writeln!(out, "... and {} more", file.count() - args.max as u64);
    }
    Ok(())
}

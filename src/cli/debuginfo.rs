//! `pvtui type` and `pvtui debuginfo`: type layouts, and where each
//! module's debug info is. Variables are read by `pvtui read`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::debuginfo::{DebugError, layout};
use crate::error::{Error, Result};
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::text::escape;

/// Where to look for debug info, beyond the target's `/usr/lib/debug`.
#[derive(Debug, Args)]
pub struct DebugDirs {
    /// Another directory laid out like /usr/lib/debug (`.build-id/xx/...`, debuglink paths)
    #[arg(long = "debug-dir", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TypeArgs {
    /// The process whose objects' debug info to use
    #[arg(short, long, value_parser = super::numbers::pid)]
    pub pid: i32,
    /// A type: `struct player`, `player`, `ns::Class`, `crate::Point`; `MODULE!TYPE` for one object
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub debug: DebugDirs,
}

#[derive(Debug, Args)]
pub struct DebugInfoArgs {
    /// The process whose mapped objects to list
    #[arg(short, long, value_parser = super::numbers::pid)]
    pub pid: i32,
    #[command(flatten)]
    pub debug: DebugDirs,
    /// Print one JSON object per module
    #[arg(long)]
    pub json: bool,
}

fn split_module(text: &str) -> (Option<&str>, &str) {
    match text.split_once('!') {
        Some((m, rest)) => (Some(m.trim()), rest.trim()),
        None => (None, text.trim()),
    }
}

impl DebugDirs {
    /// Makes `session` look in these directories too, once each is checked to be one.
    pub fn apply(&self, session: &mut Session) -> Result<()> {
        for d in &self.dirs {
            if !d.is_dir() {
                return Err(Error::Usage(format!(
                    "--debug-dir {}: not a directory",
                    escape(&d.display().to_string())
                )));
            }
        }
        if !self.dirs.is_empty() {
            session.set_debug_dirs(self.dirs.clone());
        }
        Ok(())
    }
}

fn session(pid: i32, dirs: &DebugDirs) -> Result<Session> {
    let mut session = Session::attach(pid, DEFAULT_DEADLINE)?;
    dirs.apply(&mut session)?;
    Ok(session)
}

pub fn run_type(args: &TypeArgs) -> Result<ExitCode> {
    let session = session(args.pid, &args.debug)?;
    let info = session.debug_info();
    let (module, name) = split_module(&args.name);
    let (found_in, ty) = info.type_named(module, name).map_err(|e| {
        // A name nobody defines is the user's input, as an unknown symbol is.
        if e.0.starts_with("no type ") || e.0.starts_with("no loaded object named ") {
            Error::Usage(e.0)
        } else {
            dbg(e)
        }
    })?;
    let mut out = layout(&ty);
    writeln!(out, "(from {})", escape(&found_in)).map_err(|e| Error::Usage(e.to_string()))?;
    super::write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_debuginfo(args: &DebugInfoArgs) -> Result<ExitCode> {
    let session = session(args.pid, &args.debug)?;
    let info = session.debug_info();
    let mut out = String::new();
    for r in info.report() {
        let line = if args.json {
            let mut record =
                serde_json::to_value(&r).map_err(|e| Error::Internal(e.to_string()))?;
            if let Some(fields) = record.as_object_mut() {
                fields.insert("pid".into(), session.pid().into());
            }
            record.to_string()
        } else {
            let mut l = format!("{:24} ", escape(&r.module));
            match (&r.dwarf, &r.error) {
                (Some(d), e) => {
                    l.push_str(&format!("DWARF {}", escape(d)));
                    if let Some(c) = &r.compression {
                        l.push_str(&format!(" ({c}-compressed)"));
                    }
                    if let Some(e) = e {
                        l.push_str(&format!("; error: {}", escape(e)));
                    }
                    if let Some(n) = &r.name_index {
                        l.push_str(&format!("; names by {n}"));
                    }
                }
                (None, Some(e)) => l.push_str(&format!("error: {}", escape(e))),
                (None, None) => l.push_str("no DWARF"),
            }
            if let Some(n) = r.split_dwarf {
                l.push_str(&format!("; split DWARF: {n} unit(s) found"));
            }
            if let Some(n) = r.minidebuginfo_symbols {
                l.push_str(&format!("; MiniDebugInfo: {n} symbols"));
            }
            if let Some(id) = &r.build_id {
                l.push_str(&format!("; build-id {id}"));
            }
            if let (None, Some(link)) = (&r.dwarf, &r.debuglink) {
                l.push_str(&format!("; .gnu_debuglink names {}", escape(link)));
            }
            if (r.dwarf.is_none() || r.split_dwarf.is_some()) && !r.tried.is_empty() {
                let tried: Vec<String> = r.tried.iter().map(|t| escape(t).into_owned()).collect();
                l.push_str(&format!(
                    "\n    looked at: {}",
                    tried.join("\n               ")
                ));
            }
            l
        };
        writeln!(out, "{line}").map_err(|e| Error::Usage(e.to_string()))?;
    }
    super::write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn dbg(e: DebugError) -> Error {
    Error::DebugInfo(e.0)
}

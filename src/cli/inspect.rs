//! `pvtui inspect`, `pvtui type` and `pvtui debuginfo`: variables read with
//! their DWARF types, type layouts, and where each module's debug info is.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use crate::debuginfo::{
    DebugError, DebugInfo, LiveVariable, Place, Step, Type, TypeKind, Value, decode_place, layout,
    parse_path, resolve,
};
use crate::error::{Error, Result};
use crate::process::ReadMode;
use crate::session::{DEFAULT_DEADLINE, Session};

/// Where to look for debug info, beyond the target's `/usr/lib/debug`.
#[derive(Debug, Args)]
pub struct DebugDirs {
    /// Another directory laid out like /usr/lib/debug (`.build-id/xx/...`, debuglink paths)
    #[arg(long = "debug-dir", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The process to read
    #[arg(short, long, value_parser = super::numbers::pid)]
    pub pid: i32,
    /// Variables with field paths: `player`, `game.players[2].name`, `list->next->value`, `libc!_IO_2_1_stdout_.file._fileno`
    #[arg(required = true, value_name = "VAR")]
    pub exprs: Vec<String>,
    #[command(flatten)]
    pub debug: DebugDirs,
    /// How long a read may block (on a page that must be faulted in) before it is abandoned
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub timeout: u64,
    /// Print one JSON object per variable
    #[arg(long)]
    pub json: bool,
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

/// Strings that `char *` values point to are read up to this many bytes.
const STRING_MAX: usize = 256;

fn split_module(text: &str) -> (Option<&str>, &str) {
    match text.split_once('!') {
        Some((m, rest)) => (Some(m.trim()), rest.trim()),
        None => (None, text.trim()),
    }
}

struct Reader {
    session: Session,
}

impl Reader {
    /// Exactly `len` bytes at `addr`, or why not.
    fn read(&mut self, addr: u64, len: u64) -> Result<Vec<u8>> {
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l <= 64 << 20)
            .ok_or_else(|| Error::DebugInfo(format!("{len} bytes is too large to read at once")))?;
        let out = self.session.read(&[(addr, len)], ReadMode::Force)?;
        let outcome = out
            .into_iter()
            .next()
            .ok_or_else(|| Error::DebugInfo("no read result".into()))?;
        match outcome.bytes() {
            Some(b) => Ok(b.to_vec()),
            None => Err(Error::DebugInfo(format!(
                "{addr:#x}+{len}: {}",
                outcome.first_unread().map_or("not read", |u| u.as_str())
            ))),
        }
    }

    /// The NUL-terminated string at `addr`, up to [`STRING_MAX`] bytes
    /// (fewer where the mapping ends).
    fn c_string(&mut self, addr: u64) -> Option<String> {
        let region = self.session.maps().find(addr)?;
        let len = (region.end - addr).min(STRING_MAX as u64);
        let bytes = self.read(addr, len).ok()?;
        let end = memchr::memchr(0, &bytes).unwrap_or(bytes.len());
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    }
}

/// The place `text` names: a variable, its field path, and `->` steps
/// through pointers (each read once).
fn locate_place(
    info: &DebugInfo,
    reader: &mut Reader,
    text: &str,
) -> Result<(LiveVariable, u64, Place)> {
    let (module, path) = split_module(text);
    let mut segments = path.split("->");
    let first = segments.next().unwrap_or_default();
    let (name, steps) = parse_path(first).map_err(dbg)?;
    let var = info.variable(module, &name).map_err(dbg)?;
    let mut place = resolve(&var.ty, &steps).map_err(dbg)?;
    let mut addr = var.addr.wrapping_add(place.offset);
    for seg in segments {
        let (field, mut more) = parse_path(seg).map_err(dbg)?;
        let link = match &place.ty.strip().kind {
            TypeKind::Pointer { target: Some(link) } => link.clone(),
            _ => {
                return Err(Error::DebugInfo(format!(
                    "{} is not a pointer to a struct: cannot follow ->{field}",
                    place.ty.name
                )));
            }
        };
        let bytes = reader.read(addr, place.ty.byte_size())?;
        let Value::Pointer { addr: target, .. } = decode_place(&place, &bytes).map_err(dbg)? else {
            return Err(Error::DebugInfo("pointer did not decode".into()));
        };
        if target == 0 {
            return Err(Error::DebugInfo(format!(
                "{} is NULL: cannot follow ->{field}",
                place.ty.name
            )));
        }
        let pointee = var.file.resolve(&link).map_err(dbg)?;
        more.insert(0, Step::Field(field));
        place = resolve(&pointee, &more).map_err(dbg)?;
        addr = target.wrapping_add(place.offset);
    }
    Ok((var, addr, place))
}

/// Reads the strings `char *` values point to, walking value and type together.
fn fill_strings(value: &mut Value, ty: &Type, reader: &mut Reader, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    let t = ty.strip();
    match (value, &t.kind) {
        (Value::Pointer { addr, string }, TypeKind::Pointer { target: Some(link) }) => {
            let base = link
                .name
                .trim_start_matches("const ")
                .trim_start_matches("volatile ");
            if matches!(base, "char" | "signed char" | "unsigned char") && *addr != 0 {
                *budget -= 1;
                *string = reader.c_string(*addr);
            }
        }
        (Value::Struct { fields, .. }, TypeKind::Struct { fields: defs, .. }) => {
            for ((_, v), def) in fields.iter_mut().zip(defs) {
                fill_strings(v, &def.ty, reader, budget);
            }
        }
        (Value::Array { elements, .. }, TypeKind::Array { elem, .. }) => {
            for v in elements {
                fill_strings(v, elem, reader, budget);
            }
        }
        _ => {}
    }
}

fn debug_info(pid: i32, dirs: &DebugDirs, deadline: Duration) -> Result<(Session, DebugInfo)> {
    for d in &dirs.dirs {
        if !d.is_dir() {
            return Err(Error::Usage(format!(
                "--debug-dir {}: not a directory",
                d.display()
            )));
        }
    }
    let session = Session::attach(pid, deadline)?;
    let info = session.debug_info(dirs.dirs.clone());
    Ok((session, info))
}

pub fn run_inspect(args: &InspectArgs) -> Result<ExitCode> {
    let deadline = Duration::from_millis(args.timeout);
    let (session, info) = debug_info(args.pid, &args.debug, deadline)?;
    let mut reader = Reader { session };
    let mut out = String::new();
    let mut failed = false;
    for text in &args.exprs {
        let result = locate_place(&info, &mut reader, text).and_then(|(var, addr, place)| {
            let bytes = reader.read(addr, place.len())?;
            let mut value = decode_place(&place, &bytes).map_err(dbg)?;
            fill_strings(&mut value, &place.ty, &mut reader, &mut 64);
            Ok((var, addr, place, value))
        });
        let line = match result {
            Ok((var, addr, place, value)) if args.json => json!({
                "expr": text,
                "module": var.module,
                "address": format!("{addr:#x}"),
                "type": place.ty.name,
                "value": value.to_json(),
            })
            .to_string(),
            Ok((var, addr, place, value)) => format!(
                "{} = {value}  ({} at {addr:#x} in {})",
                escape(text),
                place.ty.name,
                escape(&var.module)
            ),
            Err(e) => {
                failed = true;
                if args.json {
                    json!({"expr": text, "error": e.to_string()}).to_string()
                } else {
                    eprintln!("{}: {e}", escape(text));
                    continue;
                }
            }
        };
        writeln!(out, "{line}").map_err(|e| Error::Usage(e.to_string()))?;
    }
    print_out(&out)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub fn run_type(args: &TypeArgs) -> Result<ExitCode> {
    let (_session, info) = debug_info(args.pid, &args.debug, DEFAULT_DEADLINE)?;
    let (module, name) = split_module(&args.name);
    let (found_in, ty) = info.type_named(module, name).map_err(dbg)?;
    let mut out = layout(&ty);
    writeln!(out, "(from {})", escape(&found_in)).map_err(|e| Error::Usage(e.to_string()))?;
    print_out(&out)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_debuginfo(args: &DebugInfoArgs) -> Result<ExitCode> {
    let (_session, info) = debug_info(args.pid, &args.debug, DEFAULT_DEADLINE)?;
    let mut out = String::new();
    for r in info.report() {
        let line = if args.json {
            serde_json::to_string(&r).map_err(|e| Error::Usage(e.to_string()))?
        } else {
            let mut l = format!("{:24} ", escape(&r.module));
            match (&r.dwarf, &r.error) {
                (Some(d), _) => {
                    l.push_str(&format!("DWARF {}", escape(d)));
                    if let Some(c) = &r.compression {
                        l.push_str(&format!(" ({c}-compressed)"));
                    }
                }
                (None, Some(e)) => l.push_str(&format!("error: {}", escape(e))),
                (None, None) => l.push_str("no DWARF"),
            }
            if let Some(n) = r.minidebuginfo_symbols {
                l.push_str(&format!("; MiniDebugInfo: {n} symbols"));
            }
            if let Some(id) = &r.build_id {
                l.push_str(&format!("; build-id {id}"));
            }
            if r.dwarf.is_none() && !r.tried.is_empty() {
                let tried: Vec<String> = r.tried.iter().map(|t| escape(t)).collect();
                l.push_str(&format!(
                    "\n    looked at: {}",
                    tried.join("\n               ")
                ));
            }
            l
        };
        writeln!(out, "{line}").map_err(|e| Error::Usage(e.to_string()))?;
    }
    print_out(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Target-controlled text (paths, names) with control characters escaped.
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn print_out(out: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Proc {
            path: "stdout".into(),
            source,
        })
}

fn dbg(e: DebugError) -> Error {
    Error::DebugInfo(e.0)
}

//! `pvtui read`: resolve watch expressions and print their values once.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value as Json, json};

use crate::error::{Error, Result};
use crate::expr::{ParseError, Status, WatchReading, WatchSet, parse_watch};
use crate::process::ReadMode;
use crate::session::Session;

use super::places;

#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// Watch expressions: `counter`, `*ptr:u32`, `libc.so.6!environ:ptr`, `[heap]+16:bytes[8]`;
    /// with debug info `hero.pos.x`, `team[2].name`, `list->next->value`, `(struct node *)0x5000`
    /// and `[heap]+0x40 as struct node`
    #[arg(required = true, value_name = "EXPR")]
    pub exprs: Vec<String>,
    /// How long a read may block (on a page that must be faulted in) before it is abandoned
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = super::numbers::timeout_ms)]
    pub timeout: u64,
    /// Print one JSON object per expression
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub debug: super::debuginfo::DebugDirs,
}

/// One JSON object for a reading: `expr`, `address`, `type`, then `value` or `error`.
pub(super) fn reading_json(expr: &str, reading: &WatchReading) -> Map<String, Json> {
    let mut obj = Map::new();
    obj.insert("expr".into(), json!(expr));
    if let Some(addr) = reading.address {
        obj.insert("address".into(), json!(format!("{addr:#x}")));
    }
    obj.insert("type".into(), json!(reading.ty.to_string()));
    match (&reading.value, &reading.status) {
        (Some(value), _) => {
            obj.insert("value".into(), value.to_json());
        }
        (None, Status::Error(msg)) => {
            obj.insert("error".into(), json!(msg));
        }
        (None, status) => {
            obj.insert("error".into(), json!(status.as_str()));
        }
    }
    obj
}

/// An expression as an error names it: a very long one is cut (its parse
/// error shows the place that matters).
pub(super) fn expr_label(text: &str) -> String {
    const SHOWN: usize = 60;
    if text.chars().count() <= SHOWN {
        return text.to_string();
    }
    let head: String = text.chars().take(SHOWN).collect();
    format!("{head}... ({} characters)", text.chars().count())
}

/// The first line of a parse error, with its column: JSON has no room for the caret.
pub(super) fn parse_error_line(err: &ParseError) -> String {
    format!("{} at column {}", err.message, err.column + 1)
}

pub fn run(args: &ReadArgs) -> Result<ExitCode> {
    let pids = args.targets.pids()?;
    if pids.len() > 1 {
        return run_several(args, &pids);
    }
    let mut session = Session::attach(
        args.targets.one("read")?,
        Duration::from_millis(args.timeout),
    )?;
    args.debug.apply(&mut session)?;
    let mut set = WatchSet::new();
    let mut parsed = Vec::with_capacity(args.exprs.len());
    for text in &args.exprs {
        parsed.push(match parse_watch(text) {
            Ok(watch) => Ok(set.add(watch)),
            Err(e) => Err(e),
        });
    }
    let readings = session.poll(&mut set, ReadMode::Force)?;
    let mut readings = readings.into_iter();
    let mut failed = false;
    // An expression that does not parse is the user's mistake: exit status 2.
    let mut misused = false;
    // One write at the end: a thousand expressions must not cost a thousand syscalls.
    let mut out = String::new();
    for (text, parsed) in args.exprs.iter().zip(parsed) {
        let reading = match parsed {
            Ok(_) => readings.next(),
            Err(e) => {
                misused = true;
                if args.json {
                    let obj = json!({"expr": text, "error": parse_error_line(&e), "kind": "usage", "pid": session.pid()});
                    writeln!(out, "{}", crate::text::json_line(obj.to_string()))
                        .map_err(output_error)?;
                } else {
                    errln!("{}: {e}", expr_label(text));
                }
                continue;
            }
        };
        let Some(mut reading) = reading else { continue };
        // A name, field or index that does not resolve is a bad expression
        // (exit status 2, as in every command); its type is then only the
        // one the expression gave, if it gave one.
        let unresolved = set.resolve_error(reading.id).is_some();
        let typed = set.get(reading.id).is_some_and(|w| w.ty.is_some());
        misused |= unresolved;
        failed |= reading.value.is_none();
        session.read_strings(&mut reading, ReadMode::Force);
        let symbols = session.symbols();
        if args.json {
            let mut obj = reading_json(text, &reading);
            obj.insert("pid".into(), json!(session.pid()));
            if unresolved {
                obj.insert("kind".into(), json!("usage"));
                if !typed {
                    obj.remove("type");
                }
            }
            places::annotate(&mut obj, &reading, symbols);
            let obj = Json::Object(obj);
            writeln!(out, "{}", crate::text::json_line(obj.to_string())).map_err(output_error)?;
            continue;
        }
        // A debug-info type's name comes from the target's files: escaped.
        let ty = crate::text::escape(&reading.ty.to_string()).into_owned();
        let place = match reading.address {
            Some(addr) => format!("{ty} at {}", places::at(symbols, addr)),
            None if unresolved && !typed => String::new(),
            None => ty,
        };
        let place = if place.is_empty() {
            place
        } else {
            format!("  ({place})")
        };
        match &reading.value {
            Some(value) => {
                let shown = places::value_text(value, symbols);
                writeln!(out, "{text} = {shown}{place}").map_err(output_error)?;
                match places::long_bytes(value, reading.address) {
                    Some(dump) => out.write_str(&dump),
                    None => Ok(()),
                }
            }
            None => writeln!(
                out,
                "{text}: {}{place}",
                crate::text::escape_lines(&reading.status.to_string())
            ),
        }
        .map_err(output_error)?;
    }
    let code = finish(&out, failed)?;
    Ok(if misused {
        ExitCode::from(super::exit::USAGE)
    } else {
        code
    })
}

/// Several targets: every expression that parses is read in each of them.
fn run_several(args: &ReadArgs, pids: &[i32]) -> Result<ExitCode> {
    let mut watches = Vec::with_capacity(args.exprs.len());
    let mut texts = Vec::with_capacity(args.exprs.len());
    let mut out = String::new();
    let mut misused = false;
    for text in &args.exprs {
        match parse_watch(text) {
            Ok(watch) => {
                watches.push(watch);
                texts.push(text.clone());
            }
            Err(e) => {
                misused = true;
                if args.json {
                    let obj = json!({"expr": text, "error": parse_error_line(&e), "kind": "usage", "pids": pids});
                    writeln!(out, "{}", crate::text::json_line(obj.to_string()))
                        .map_err(output_error)?;
                } else {
                    errln!("{}: {e}", expr_label(text));
                }
            }
        }
    }
    let (text, unread) = super::several::read(
        &texts,
        &watches,
        pids,
        args.targets.by_name(),
        Duration::from_millis(args.timeout),
        args.json,
    )?;
    out.push_str(&text);
    let code = finish(&out, unread)?;
    Ok(if misused {
        ExitCode::from(super::exit::USAGE)
    } else {
        code
    })
}

/// Writes the output at once; the exit status says whether all was read.
fn finish(out: &str, failed: bool) -> Result<ExitCode> {
    super::write_stdout(out.as_bytes())?;
    Ok(if failed {
        ExitCode::from(super::exit::INCOMPLETE)
    } else {
        ExitCode::SUCCESS
    })
}

fn output_error(e: std::fmt::Error) -> Error {
    Error::Internal(format!("formatting the output failed: {e}"))
}

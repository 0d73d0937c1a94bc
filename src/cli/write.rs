//! `pvtui write`: encode a value, write it, read it back.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Value as Json, json};

use crate::cli::print_json;
use crate::cli::read::{expr_label, parse_error_line};
use crate::error::{Error, Result};
use crate::expr::{Expr, Type, Watch, parse_watch};
use crate::process::ReadMode;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct WriteArgs {
    // With several targets, the write goes through the first; the value is
    // then read back in each of the others, to show who sees it.
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// Where, and as what type: `counter:u32`, `*(*root+8):f64`, `name:cstr`; with debug info `hero.level`, `state` (a bitfield keeps its neighbours; an enum takes a name)
    #[arg(value_name = "EXPR")]
    pub expr: String,
    /// The value: decimal, 0x hex, negative, float, true/false, "quoted text", hex bytes
    #[arg(value_name = "VALUE", allow_hyphen_values = true)]
    pub value: String,
    /// How long a read or write may block before it is abandoned
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = super::numbers::timeout_ms)]
    pub timeout: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub debug: super::debuginfo::DebugDirs,
}

pub fn run(args: &WriteArgs) -> Result<ExitCode> {
    let watch = parse_watch(&args.expr).map_err(|e| {
        if args.json {
            Error::Usage(format!(
                "{}: {}",
                expr_label(&args.expr),
                parse_error_line(&e)
            ))
        } else {
            Error::Usage(format!("{}:\n{e}", expr_label(&args.expr)))
        }
    })?;
    let pids = args.targets.pids()?;
    let (through, others) = pids
        .split_first()
        .ok_or_else(|| Error::Usage("say which process to write to".into()))?;
    let mut session = Session::attach(*through, Duration::from_millis(args.timeout))?;
    args.debug.apply(&mut session)?;
    let reading = match session.evaluate(&watch, ReadMode::Force)? {
        Ok(reading) => reading,
        Err(diagnostic) => {
            return Err(Error::Usage(format!(
                "{}: {diagnostic}",
                expr_label(&args.expr)
            )));
        }
    };
    let Some(addr) = reading.address else {
        return Err(Error::Usage(format!(
            "{}: no address",
            expr_label(&args.expr)
        )));
    };
    // A bitfield changes only its bits of the bytes there now.
    let current = match reading.ty.needs_current() {
        Some(len) => session.read_exact(addr, len)?,
        None => Vec::new(),
    };
    let bytes = reading
        .ty
        .encode_over(&args.value, &current)
        .map_err(|e| Error::Usage(e.to_string()))?;
    check_fits(&watch, &session, &bytes)?;
    let report = session.write(addr, &bytes)?;
    // Decode `before`/`after` as the value written: a cstr spans only its bytes.
    let shown = match &reading.ty {
        Type::CStr => Type::CStr,
        ty => ty.clone(),
    };
    let old = reading
        .value
        .clone()
        .unwrap_or_else(|| shown.decode(&report.before));
    let new = shown.decode(&report.after);
    let landed = report.landed();
    // The others read back what was written through the first.
    let seen =
        super::several::read_back(&watch, others, Duration::from_millis(args.timeout), &new)?;
    if args.json {
        let mut obj = json!({
            "pid": session.pid(),
            "expr": args.expr,
            "address": format!("{addr:#x}"),
            "place": session.symbols().place(addr),
            "type": reading.ty.to_string(),
            "old": old.to_json(),
            "new": new.to_json(),
            "landed": landed,
        });
        if !seen.is_empty() {
            obj["read_back"] = Json::Array(super::several::read_back_json(&seen));
        }
        print_json(&obj)?;
    } else if landed {
        let by = if seen.is_empty() {
            String::new()
        } else {
            format!(" through {}", session.pid())
        };
        let at = super::places::at(session.symbols(), addr);
        outln!("{} ({} at {at}){by}: {old} → {new}", args.expr, reading.ty)?;
    } else {
        outln!(
            "{} ({} at {}): {old} → {new}: did not land ({} of {} bytes written, {} read back as asked)",
            args.expr,
            reading.ty,
            super::places::at(session.symbols(), addr),
            report.written,
            report.requested.len(),
            report
                .after
                .iter()
                .zip(&report.requested)
                .filter(|(a, r)| a == r)
                .count(),
        )?;
    }
    let read_back = super::several::read_back_text(if args.json { &[] } else { &seen });
    super::write_stdout(read_back.as_bytes())?;
    Ok(if landed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::exit::INCOMPLETE)
    })
}

/// A C string is as long as its text: refuse one that would run past the
/// end of the symbol it is written to, rather than clobber its neighbours.
fn check_fits(watch: &Watch, session: &Session, bytes: &[u8]) -> Result<()> {
    let Expr::Symbol(name) = &watch.expr else {
        return Ok(());
    };
    if watch.ty != Some(Type::CStr) {
        return Ok(());
    }
    match session.lookup(name.module.as_deref(), &name.name) {
        Ok(sym) if sym.size > 0 && bytes.len() as u64 > sym.size => Err(Error::Usage(format!(
            "cannot write {} bytes (with the NUL) into {}, which is {} bytes",
            bytes.len(),
            sym.name,
            sym.size
        ))),
        _ => Ok(()),
    }
}

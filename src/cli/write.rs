//! `pvtui write`: encode a value, write it, read it back.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use crate::cli::print_json;
use crate::cli::read::{Attached, expr_label, parse_error_line};
use crate::error::{Error, Result};
use crate::expr::{Expr, Type, Watch, WatchSet, parse_watch};
use crate::process::ReadMode;

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The process to write to
    #[arg(long, value_parser = super::numbers::pid)]
    pub pid: i32,
    /// Where, and as what type: `counter:u32`, `*(*root+8):f64`, `name:cstr`
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
    let mut attached = Attached::open(args.pid, Duration::from_millis(args.timeout))?;
    let mut set = WatchSet::new();
    set.add(watch.clone());
    let readings = set.poll(
        &mut attached.worker,
        &attached.maps,
        &attached.symbols,
        ReadMode::Force,
    )?;
    let reading = readings
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage("nothing to write".into()))?;
    let Some(addr) = reading.address else {
        return Err(Error::Usage(format!("{}: {}", args.expr, reading.status)));
    };
    let bytes = reading
        .ty
        .encode(&args.value)
        .map_err(|e| Error::Usage(e.to_string()))?;
    check_fits(&watch, &attached, &bytes)?;
    let report = attached.worker.write(&attached.maps, addr, &bytes)?;
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
    if args.json {
        print_json(&json!({
            "expr": args.expr,
            "address": format!("{addr:#x}"),
            "type": reading.ty.to_string(),
            "old": old.to_json(),
            "new": new.to_json(),
            "landed": landed,
        }))?;
    } else if landed {
        println!("{} ({} at {addr:#x}): {old} → {new}", args.expr, reading.ty);
    } else {
        println!(
            "{} ({} at {addr:#x}): {old} → {new}: did not land ({} of {} bytes written, {} read back as asked)",
            args.expr,
            reading.ty,
            report.written,
            report.requested.len(),
            report
                .after
                .iter()
                .zip(&report.requested)
                .filter(|(a, r)| a == r)
                .count(),
        );
    }
    Ok(if landed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A C string is as long as its text: refuse one that would run past the
/// end of the symbol it is written to, rather than clobber its neighbours.
fn check_fits(watch: &Watch, attached: &Attached, bytes: &[u8]) -> Result<()> {
    let Expr::Symbol(name) = &watch.expr else {
        return Ok(());
    };
    if watch.ty != Some(Type::CStr) {
        return Ok(());
    }
    let symbol = match &name.module {
        Some(m) => attached.symbols.lookup_in(m, &name.name),
        None => attached.symbols.lookup(&name.name),
    };
    match symbol {
        Ok(sym) if sym.size > 0 && bytes.len() as u64 > sym.size => Err(Error::Usage(format!(
            "cannot write {} bytes (with the NUL) into {}, which is {} bytes",
            bytes.len(),
            sym.name,
            sym.size
        ))),
        _ => Ok(()),
    }
}

//! `pvtui dump`: a hex dump of target memory; bytes not read show as `??`.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::expr::parse_watch;
use crate::process::{Gap, PageBuffer, ReadMode};
use crate::session::Session;

/// Dumps larger than this are refused: a terminal is the wrong place for them.
const MAX_DUMP: u64 = 64 << 20;

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    /// Where to start: a number (decimal or 0x hex) or a watch expression
    /// (`counter`, `*root+16`, `[heap]`, `libc.so.6!environ`)
    pub addr: String,
    /// Number of bytes (decimal or 0x hex)
    #[arg(value_parser = |s: &str| super::numbers::dump_len(s, MAX_DUMP))]
    pub len: u64,
    /// Fault pages in instead of skipping those not resident
    #[arg(long)]
    pub force: bool,
    /// Give up on a read that takes longer than this many milliseconds
    #[arg(long, default_value_t = 500, value_parser = super::numbers::timeout_ms)]
    pub deadline_ms: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct GapJson {
    address: String,
    len: u64,
    reason: &'static str,
}

#[derive(Serialize)]
struct DumpJson {
    pid: i32,
    address: String,
    /// The start's name: `module!symbol+0xOFF` or `[module]+0xOFF`.
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    len: u64,
    /// Two hex digits a byte, `??` for a byte not read.
    hex: String,
    gaps: Vec<GapJson>,
}

pub fn run(args: &DumpArgs) -> Result<ExitCode> {
    if args.len > MAX_DUMP {
        return Err(Error::Usage(format!(
            "dump of {} bytes refused: at most {MAX_DUMP} at a time",
            args.len
        )));
    }
    let pids = args.targets.pids()?;
    let several = pids.len() > 1;
    let mut worst = ExitCode::SUCCESS;
    for pid in pids {
        let code = dump_one(args, pid, several)?;
        if code != ExitCode::SUCCESS {
            worst = code;
        }
    }
    Ok(worst)
}

/// Dumps from one process; with several, the text starts with its pid.
fn dump_one(args: &DumpArgs, pid: i32, several: bool) -> Result<ExitCode> {
    let mut session = Session::attach(pid, Duration::from_millis(args.deadline_ms))?;
    if let Some(note) = session.note() {
        errln!("pvtui: {}", crate::text::escape(note));
    }
    let mode = if args.force {
        ReadMode::Force
    } else {
        ReadMode::NoWait
    };
    let addr = match super::parse_u64(&args.addr) {
        Ok(addr) => addr,
        Err(_) => address_of(&args.addr, &mut session)?,
    };
    if addr.checked_add(args.len).is_none() {
        return Err(Error::Usage(format!(
            "{addr:#x} + {} runs past the top of memory",
            args.len
        )));
    }
    let mut data = PageBuffer::new(args.len as usize);
    let gaps = session.read_into(addr, &mut data, mode)?;
    let unread = |i: usize| {
        let a = addr + i as u64;
        gaps.iter().any(|g| g.addr <= a && a < g.end())
    };
    if args.json {
        let mut hex = String::with_capacity(data.len() * 2);
        for (i, b) in data.iter().enumerate() {
            if unread(i) {
                hex.push_str("??");
            } else {
                let _ = write!(hex, "{b:02x}");
            }
        }
        super::print_json(&DumpJson {
            pid,
            address: format!("{addr:#x}"),
            place: session.symbols().place(addr),
            len: args.len,
            hex,
            gaps: gaps.iter().map(gap_json).collect(),
        })?;
    } else {
        if several {
            outln!("pid {pid}:")?;
        }
        let symbols = session.symbols();
        let lines = named_lines(addr, &data, unread, |a| symbols.place(a));
        super::write_stdout(lines.as_bytes())?;
        for gap in &gaps {
            outln!(
                "?? {:#x}..{:#x} ({} bytes): {}",
                gap.addr,
                gap.end(),
                gap.len,
                gap.why
            )?;
        }
    }
    Ok(if gaps.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::exit::INCOMPLETE)
    })
}

/// Where a watch expression points, following any pointers on the way.
fn address_of(text: &str, session: &mut Session) -> Result<u64> {
    let watch = parse_watch(text).map_err(|e| Error::Usage(e.to_string()))?;
    match session.evaluate(&watch, ReadMode::Force)? {
        Ok(reading) => reading
            .address
            .ok_or_else(|| Error::Usage(format!("{text}: no address"))),
        Err(diagnostic) => Err(Error::Usage(format!("{text}: {diagnostic}"))),
    }
}

fn gap_json(g: &Gap) -> GapJson {
    GapJson {
        address: format!("{:#x}", g.addr),
        len: g.len,
        reason: g.why.as_str(),
    }
}

/// Classic 16-bytes-a-line dump: address, hex, ASCII; unread bytes as `??` / ` `.
pub fn hex_lines(addr: u64, data: &[u8], unread: impl Fn(usize) -> bool) -> String {
    named_lines(addr, data, unread, |_| None)
}

/// [`hex_lines`] with each line's address followed by its name (`<game!table+0x10>`),
/// padded so the bytes stay in columns.
pub fn named_lines(
    addr: u64,
    data: &[u8],
    unread: impl Fn(usize) -> bool,
    name: impl Fn(u64) -> Option<String>,
) -> String {
    let names: Vec<String> = (0..data.len().div_ceil(16))
        .map(|line| {
            name(addr + (line * 16) as u64)
                .map(|n| format!(" <{}>", crate::text::escape(&n)))
                .unwrap_or_default()
        })
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (line, chunk) in data.chunks(16).enumerate() {
        let base = line * 16;
        let _ = write!(
            out,
            "{:016x}{:<width$}  ",
            addr + base as u64,
            names.get(line).map_or("", String::as_str)
        );
        for i in 0..16 {
            match chunk.get(i) {
                Some(_) if unread(base + i) => out.push_str("?? "),
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        for (i, &b) in chunk.iter().enumerate() {
            out.push(match b {
                _ if unread(base + i) => ' ',
                0x20..=0x7e => b as char,
                _ => '.',
            });
        }
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lines_mark_unread_bytes() {
        let text = hex_lines(0x1000, b"AB\x00CDEFGHIJKLMNOPQ", |i| i == 1);
        let first = text.lines().next().expect("a line");
        assert!(
            first.starts_with("0000000000001000  41 ?? 00 43"),
            "{first}"
        );
        assert!(first.ends_with("|A .CDEFGHIJKLMNO|"), "{first}");
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn named_lines_keep_the_bytes_in_columns() {
        let name = |a: u64| (a == 0x1010).then(|| "game!table+0x10".to_string());
        let text = named_lines(0x1000, &[0x41; 32], |_| false, name);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("0000000000001010 <game!table+0x10>  41 41"),
            "{text}"
        );
        assert_eq!(lines[0].find("41"), lines[1].find("41"), "{text}");
    }
}

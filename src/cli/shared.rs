//! `pvtui shared`: which processes map which shared object, where, and
//! whether private mappings of it still show the same pages.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::shared::{self, Compare, Divergence, Options, Report, Selection, SharedObject, escape};
use crate::units::human_bytes;

#[derive(Debug, Args)]
pub struct SharedArgs {
    /// A process to look at; give it several times
    #[arg(long, short, value_name = "PID", conflicts_with_all = ["name", "all"], value_parser = super::numbers::pid)]
    pub pid: Vec<i32>,
    /// Every process with this name (its comm or executable's file name)
    #[arg(long, conflicts_with = "all")]
    pub name: Option<String>,
    /// Every process pvtui may read; the others are skipped and counted
    #[arg(long)]
    pub all: bool,
    /// Show every mapped object, libraries and executables too, not only shared memory
    #[arg(long)]
    pub every_object: bool,
    /// How private mappings are compared with the object
    #[arg(long, value_enum, default_value_t = CompareArg::Auto)]
    pub compare: CompareArg,
    /// Print one JSON object a line, one per mapping
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CompareArg {
    /// pagemap (page frames too, as root); bytes where pagemap cannot be read
    Auto,
    /// bytes, read without blocking
    Bytes,
}

pub fn run(args: &SharedArgs) -> Result<ExitCode> {
    let selection = match (&args.pid[..], &args.name, args.all) {
        ([], None, true) => Selection::All,
        ([], Some(name), false) => Selection::Named(name.clone()),
        (pids, None, false) if !pids.is_empty() => Selection::Pids(pids.to_vec()),
        _ => {
            return Err(Error::Usage(
                "say which processes: --pid PID (several times), --name NAME or --all".into(),
            ));
        }
    };
    let options = Options {
        every_object: args.every_object,
        compare: match args.compare {
            CompareArg::Auto => Compare::Auto,
            CompareArg::Bytes => Compare::Bytes,
        },
    };
    let report = shared::collect(&selection, &options)?;
    if args.json {
        print_json_lines(&report)?;
    } else {
        super::write_stdout(render(&report).as_bytes())?;
    }
    if let Some(line) = skipped_line(&report) {
        errln!("pvtui: {line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// "skipped 12 processes: permission denied".
fn skipped_line(report: &Report) -> Option<String> {
    match report.skipped.denied {
        0 => None,
        1 => Some("skipped 1 process: permission denied".into()),
        n => Some(format!("skipped {n} processes: permission denied")),
    }
}

/// The report as text: one block per object, one line per mapping.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for object in &report.objects {
        render_object(&mut out, object);
    }
    let _ = write!(
        out,
        "{} in {}",
        count(report.objects.len(), "object"),
        count(report.processes, "process")
    );
    // Processes that exit mid-walk are routine on a busy machine: counted, not errors.
    match report.skipped.exited {
        0 => out.push('\n'),
        n => {
            let _ = writeln!(out, " ({n} exited while being read)");
        }
    }
    out
}

/// "1 object", "2 processes".
fn count(n: usize, noun: &str) -> String {
    match (n, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

fn render_object(out: &mut String, o: &SharedObject) {
    let deleted = if o.deleted { " (deleted)" } else { "" };
    let size = match o.size {
        Some(size) => human_bytes(size),
        None => format!("? (mapped to {})", human_bytes(o.extent)),
    };
    let resident = o.resident.map_or_else(|| "?".to_string(), human_bytes);
    let _ = writeln!(
        out,
        "{}{deleted}  [{}]  size {size}  resident {resident}  {}",
        escape(&o.name),
        o.key,
        count(o.processes(), "process")
    );
    for m in &o.mappings {
        let resident = m.resident.map_or_else(|| "?".to_string(), human_bytes);
        let how = if m.is_shared() { "shared" } else { "private" };
        let _ = write!(
            out,
            "  {:>7} {:<16} {:016x}-{:016x} {} off {:#x} {how} rss {resident}",
            m.pid,
            escape(&m.comm),
            m.start,
            m.end,
            m.perms,
            m.offset
        );
        if let Some(d) = &m.divergence {
            let _ = write!(out, "  {}", describe(d));
        }
        out.push('\n');
    }
}

/// "diverged 1 of 3 pages (pagemap) at 0x1000".
fn describe(d: &Divergence) -> String {
    let method = serde_json::to_value(d.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut text = format!("diverged {} of {} pages ({method})", d.diverged, d.pages);
    if !d.first.is_empty() {
        let at: Vec<String> = d.first.iter().map(|o| format!("{o:#x}")).collect();
        let more = if d.diverged > d.first.len() as u64 {
            ", ..."
        } else {
            ""
        };
        let _ = write!(text, " at {}{more}", at.join(", "));
    }
    if d.unknown > 0 {
        let _ = write!(text, "; {} not compared", d.unknown);
    }
    text
}

#[derive(Serialize)]
struct MappingJson<'a> {
    pid: i32,
    comm: &'a str,
    #[serde(flatten)]
    object: &'a shared::ObjectKey,
    name: &'a str,
    deleted: bool,
    size: Option<u64>,
    extent: u64,
    object_resident: Option<u64>,
    processes: usize,
    start: String,
    end: String,
    perms: String,
    offset: String,
    shared: bool,
    resident: Option<u64>,
    divergence: Option<&'a Divergence>,
}

fn print_json_lines(report: &Report) -> Result<()> {
    for o in &report.objects {
        let processes = o.processes();
        for m in &o.mappings {
            super::print_json(&MappingJson {
                pid: m.pid,
                comm: &m.comm,
                object: &o.key,
                name: &o.name,
                deleted: o.deleted,
                size: o.size,
                extent: o.extent,
                object_resident: o.resident,
                processes,
                start: format!("{:#x}", m.start),
                end: format!("{:#x}", m.end),
                perms: m.perms.to_string(),
                offset: format!("{:#x}", m.offset),
                shared: m.is_shared(),
                resident: m.resident,
                divergence: m.divergence.as_ref(),
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::{Mapping, Method, ObjectKey, Skipped};

    fn report() -> Report {
        let mapping = |pid, shared: bool, divergence| Mapping {
            pid,
            comm: "a\u{1b}[2Jb".into(),
            start: 0x7000,
            end: 0x9000,
            perms: crate::process::Perms {
                read: true,
                write: true,
                exec: false,
                shared,
            },
            offset: 0x1000,
            resident: Some(4096),
            divergence,
        };
        let d = Divergence {
            method: Method::Pagemap,
            pages: 20,
            diverged: 9,
            first: (0..8).map(|i| i * 0x1000).collect(),
            unknown: 2,
        };
        Report {
            objects: vec![SharedObject {
                key: ObjectKey::Memfd {
                    dev: "00:01".into(),
                    inode: 5,
                },
                name: "/memfd:ring\n".into(),
                deleted: true,
                size: None,
                extent: 0x3000,
                resident: Some(8192),
                mappings: vec![mapping(10, true, None), mapping(11, false, Some(d))],
            }],
            processes: 2,
            skipped: Skipped {
                denied: 12,
                exited: 3,
                no_memory: 40,
            },
        }
    }

    #[test]
    fn text_escapes_target_names_and_summarises_divergence() {
        let text = render(&report());
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("a\\u{1b}[2Jb"), "{text}");
        assert!(text.contains("/memfd:ring\\n (deleted)"), "{text}");
        assert!(text.contains("size ? (mapped to 12.0 KiB)"), "{text}");
        assert!(
            text.contains("diverged 9 of 20 pages (pagemap) at 0x0, 0x1000,"),
            "{text}"
        );
        assert!(text.contains("0x7000, ...; 2 not compared"), "{text}");
        assert!(
            text.ends_with("1 object in 2 processes (3 exited while being read)\n"),
            "{text}"
        );
    }

    #[test]
    fn skipped_processes_are_counted_in_one_line() {
        assert_eq!(
            skipped_line(&report()).as_deref(),
            Some("skipped 12 processes: permission denied")
        );
        assert_eq!(skipped_line(&Report::default()), None);
    }
}

//! The write log pane, and the writes it records: those sent and waiting
//! for their report, and those that can be undone.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::expr::Type;
use crate::process::WriteReport;
use crate::text::escape;
use crate::tui::app::hex::hex_bytes;

/// One line of the write log.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub time: SystemTime,
    pub what: &'static str,
    pub addr: u64,
    pub expr: String,
    pub old: String,
    pub new: String,
    pub result: String,
    pub ok: bool,
    /// The address's name (`module!symbol+0xOFF`), where a mapped file holds it.
    pub place: Option<String>,
}

impl LogEntry {
    /// The line the status bar shows for it.
    pub fn said(&self) -> String {
        format!(
            "{} {}: {} → {}: {}",
            self.what, self.expr, self.old, self.new, self.result
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct WriteLog {
    pub entries: Vec<LogEntry>,
    pub selected: usize,
}

impl WriteLog {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, LogEntry> {
        self.entries.iter()
    }

    /// Appends an entry and selects it.
    pub fn push(&mut self, entry: LogEntry) {
        self.entries.push(entry);
        self.selected = self.entries.len() - 1;
    }

    /// The log as tab-separated values, a header line first.
    pub fn tsv(&self) -> String {
        let mut text = String::from("time\twhat\taddress\tplace\texpression\told\tnew\tresult\n");
        for e in &self.entries {
            text.push_str(&format!(
                "{}\t{}\t{:#x}\t{}\t{}\t{}\t{}\t{}\n",
                clock(e.time),
                e.what,
                e.addr,
                escape(e.place.as_deref().unwrap_or("")),
                escape(&e.expr),
                escape(&e.old),
                escape(&e.new),
                escape(&e.result)
            ));
        }
        text
    }
}

/// A write sent to the poller, waiting for its report.
#[derive(Clone, Debug)]
pub struct PendingWrite {
    pub what: &'static str,
    /// Where it was sent: the log shows it even when the write was refused.
    pub addr: u64,
    pub expr: String,
    pub ty: Option<Type>,
    /// The other target it went to, by pid; none for the main one.
    pub through: Option<i32>,
}

/// A write that can be undone: where, and the bytes that were there.
#[derive(Clone, Debug)]
pub struct Undo {
    pub addr: u64,
    pub before: Vec<u8>,
    pub expr: String,
    pub ty: Option<Type>,
    /// The target to undo it in: the one written.
    pub through: Option<i32>,
}

/// Writes in flight by tag, and the undo stack.
#[derive(Debug, Default)]
pub struct Writes {
    pending: HashMap<u64, PendingWrite>,
    undo: Vec<Undo>,
}

impl Writes {
    pub fn sent(&mut self, tag: u64, write: PendingWrite) {
        self.pending.insert(tag, write);
    }

    pub fn pop_undo(&mut self) -> Option<Undo> {
        self.undo.pop()
    }

    /// The log entry for the report of write `tag`; a write that changed
    /// something (and is not itself an undo) can be undone.
    pub fn finish(&mut self, tag: u64, result: Result<WriteReport, String>) -> Option<LogEntry> {
        let pending = self.pending.remove(&tag)?;
        let show = |bytes: &[u8]| show(pending.ty.as_ref(), bytes);
        let entry = match &result {
            Ok(report) => {
                let landed = report.landed();
                let outcome = if landed {
                    "landed".to_string()
                } else if report.written == 0 {
                    "refused: nothing was written".to_string()
                } else if report.written < report.requested.len() {
                    format!(
                        "partial: {} of {} bytes",
                        report.written,
                        report.requested.len()
                    )
                } else {
                    "written, but reads back different (the target changed it?)".to_string()
                };
                if pending.what != "undo" && report.written > 0 {
                    self.undo.push(Undo {
                        addr: report.addr,
                        before: report.before.clone(),
                        expr: pending.expr.clone(),
                        ty: pending.ty.clone(),
                        through: pending.through,
                    });
                }
                LogEntry {
                    time: SystemTime::now(),
                    what: pending.what,
                    addr: report.addr,
                    expr: pending.expr.clone(),
                    old: show(&report.before),
                    new: show(&report.requested),
                    result: outcome,
                    ok: landed,
                    place: None,
                }
            }
            Err(why) => LogEntry {
                time: SystemTime::now(),
                what: pending.what,
                addr: pending.addr,
                expr: pending.expr.clone(),
                old: String::new(),
                new: String::new(),
                result: format!("refused: {why}"),
                ok: false,
                place: None,
            },
        };
        Some(entry)
    }
}

/// A value's bytes as its type shows them, or as hex.
pub fn show(ty: Option<&Type>, bytes: &[u8]) -> String {
    match ty {
        Some(ty) if bytes.len() >= ty.size() || ty.reads_prefix() => ty.decode(bytes).to_string(),
        _ => hex_bytes(bytes),
    }
}

/// `HH:MM:SS` (UTC) of a time.
pub fn clock(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

//! Changing the target from the UI: writes, undo and freezes. Each is a
//! command to the poller; its report comes back as an event and goes to the
//! write log.

use std::time::SystemTime;

use crate::expr::Type;
use crate::poller::{Command, WatchId};
use crate::process::WriteReport;
use crate::tui::app::log::{LogEntry, PendingWrite, show};
use crate::tui::app::{App, Level};

impl App {
    pub(super) fn write(
        &mut self,
        what: &'static str,
        expr: String,
        ty: Option<Type>,
        addr: u64,
        bytes: Vec<u8>,
    ) {
        self.write_in(None, what, expr, ty, addr, bytes);
    }

    /// Writes bytes at the hex cursor through the target the hex view reads.
    pub(super) fn write_hex(&mut self, addr: u64, bytes: Vec<u8>) {
        let through = self.hex.through;
        let expr = match through {
            Some(pid) => format!("{addr:#x} in {pid}"),
            None => format!("{addr:#x}"),
        };
        self.write_in(through, "write", expr, None, addr, bytes);
    }

    /// Writes through the main target (`through` none) or another shown.
    fn write_in(
        &mut self,
        through: Option<i32>,
        what: &'static str,
        expr: String,
        ty: Option<Type>,
        addr: u64,
        bytes: Vec<u8>,
    ) {
        let gone = match through {
            Some(pid) => self.peers.get(pid).is_none_or(|p| p.exited()),
            None => self.exited(),
        };
        if gone {
            self.say(
                Level::Warning,
                "the target has exited: nothing can be written",
            );
            return;
        }
        let tag = self.tag();
        self.writes.sent(
            tag,
            PendingWrite {
                what,
                addr,
                expr,
                ty,
                through,
            },
        );
        let command = Command::Write { tag, addr, bytes };
        match through {
            Some(pid) => {
                if !self.peers.send_to(pid, command) {
                    self.say(Level::Error, format!("{pid} is no longer shown"));
                }
            }
            None => self.send(command),
        }
    }

    /// Writes `text` as a value of `ty`, encoded by the poller over the
    /// bytes there now (a bitfield keeps its neighbours).
    pub(super) fn write_value(&mut self, expr: String, ty: Type, addr: u64, text: String) {
        if self.exited() {
            self.say(
                Level::Warning,
                "the target has exited: nothing can be written",
            );
            return;
        }
        let tag = self.tag();
        self.writes.sent(
            tag,
            PendingWrite {
                what: "write",
                addr,
                expr,
                ty: Some(ty.clone()),
                through: None,
            },
        );
        self.send(Command::WriteValue {
            tag,
            addr,
            ty,
            text,
        });
    }

    pub(super) fn wrote(
        &mut self,
        tag: u64,
        result: Result<WriteReport, String>,
        place: Option<String>,
    ) {
        let Some(mut entry) = self.writes.finish(tag, result) else {
            return;
        };
        entry.place = place.filter(|_| entry.addr != 0);
        let level = if entry.ok { Level::Info } else { Level::Error };
        self.say(level, entry.said());
        self.log.push(entry);
    }

    pub(super) fn undo(&mut self) {
        let Some(u) = self.writes.pop_undo() else {
            self.say(Level::Info, "nothing to undo");
            return;
        };
        self.write_in(u.through, "undo", u.expr, u.ty, u.addr, u.before);
    }

    pub(super) fn toggle_freeze(&mut self) {
        if self.exited() {
            self.say(Level::Warning, "the target has exited: nothing to freeze");
            return;
        }
        let selected = self.watches.selected;
        let Some(w) = self.watches.rows.get_mut(selected) else {
            return;
        };
        let (id, expr) = (w.id, w.expr.clone());
        if let Some((addr, bytes)) = w.frozen.take() {
            w.freeze_error = None;
            let value = w.value_text().unwrap_or_default();
            let ty = w.ty.clone();
            self.send(Command::Unfreeze { watch: id });
            self.say(Level::Info, format!("unfreeze {expr}"));
            self.log.push(LogEntry {
                time: SystemTime::now(),
                what: "unfreeze",
                addr,
                expr,
                old: show(ty.as_ref(), &bytes),
                new: value,
                result: "released".into(),
                ok: true,
                place: None,
            });
            return;
        }
        let (Some(addr), Some(ty)) = (w.addr, w.ty.clone()) else {
            self.say(
                Level::Warning,
                "the value was not read: nothing to freeze at",
            );
            return;
        };
        self.send(Command::Freeze {
            watch: id,
            addr,
            len: ty.size(),
            bytes: None,
            mask: ty.bit_mask(),
        });
    }

    /// A freeze took hold, or could not.
    pub(super) fn frozen(&mut self, watch: WatchId, result: Result<(u64, Vec<u8>), String>) {
        let Some(w) = self.watches.get_mut(watch) else {
            return;
        };
        let expr = w.expr.clone();
        match result {
            Ok((addr, bytes)) => {
                let value = show(w.ty.as_ref(), &bytes);
                let ty = w.ty.as_ref().map(Type::to_string).unwrap_or_default();
                let was_frozen = w.frozen.replace((addr, bytes)).is_some();
                if was_frozen {
                    return;
                }
                self.say(Level::Info, format!("freeze {expr} at {value}"));
                self.log.push(LogEntry {
                    time: SystemTime::now(),
                    what: "freeze",
                    addr,
                    expr,
                    old: value.clone(),
                    new: value,
                    result: format!("held every tick as {ty}"),
                    ok: true,
                    place: None,
                });
            }
            Err(why) => self.freeze_failed(watch, why),
        }
    }

    /// A freeze could not take hold or be kept: said, and logged as a failure.
    pub(super) fn freeze_failed(&mut self, watch: WatchId, why: String) {
        let Some(w) = self.watches.get(watch) else {
            return;
        };
        let (expr, addr) = (w.expr.clone(), w.frozen.as_ref().map(|f| f.0).or(w.addr));
        let value = w.value_text().unwrap_or_default();
        self.say_about(watch, Level::Error, format!("freeze {expr}: {why}"));
        self.log.push(LogEntry {
            time: SystemTime::now(),
            what: "freeze",
            addr: addr.unwrap_or(0),
            expr,
            old: value.clone(),
            new: value,
            result: format!("failed: {why}"),
            ok: false,
            place: None,
        });
    }

    /// The target ran `exec`: a new program with a new name; its watches
    /// resolve again and freezes on the old program's addresses are gone.
    pub(super) fn ran_exec(&mut self, name: String) {
        let old = std::mem::replace(&mut self.process.name, name);
        for w in &mut self.watches.rows {
            w.frozen = None;
            w.freeze_error = None;
        }
        let said = format!(
            "{} ran exec: now {}; watches resolved again, freezes dropped",
            crate::text::escape(&old),
            crate::text::escape(&self.process.name)
        );
        self.say(Level::Warning, said.clone());
        self.log.push(LogEntry {
            time: SystemTime::now(),
            what: "exec",
            addr: 0,
            place: None,
            expr: String::new(),
            old,
            new: self.process.name.clone(),
            result: said,
            ok: true,
        });
    }
}

//! The input line: opening it for a purpose, checking its text as it is
//! typed, and doing what it was opened for on Enter.

use crossterm::event::{KeyCode, KeyEvent};

use crate::expr::complete::{Completion, common_text};
use crate::expr::{Diagnostic, parse_typed};
use crate::poller::{Command, Evaluated};
use crate::tui::app::hex::parse_hex_bytes;
use crate::tui::app::{App, Level};
use crate::tui::files::{Saved, write_new};
use crate::tui::hunt::POINTER_BOUNDS;
use crate::tui::input::{Input, Purpose};
use crate::tui::search::parse_request;

/// What a value scan can be narrowed by, shown while the narrow line is empty.
const NARROW_CHOICES: &str =
    "changed unchanged increased decreased increased-by N decreased-by N = N range A B undo";

impl App {
    pub(super) fn start_input(&mut self, purpose: Purpose, text: String) {
        if purpose.writes() && self.exited() {
            self.say(Level::Warning, "the target has exited: editing is disabled");
            return;
        }
        let mut input = Input::new(purpose, text);
        self.check_input(&mut input);
        self.input = Some(input);
    }

    pub(super) fn start_edit(&mut self) {
        let Some(w) = self.watches.selected_row() else {
            self.say(Level::Info, "no watch selected: add one with a");
            return;
        };
        let Some(ty) = w.ty.clone() else {
            self.say(Level::Warning, "the watch's type is not known yet");
            return;
        };
        let (id, text) = (w.id, w.value_text().unwrap_or_default());
        self.start_input(Purpose::EditWatch(id, ty), text);
    }

    pub(super) fn start_hex_write(&mut self) {
        let cursor = self.hex.cursor;
        self.start_input(Purpose::HexWrite(cursor), String::new());
    }

    /// What is wrong with the input's text, as far as the UI can tell;
    /// unknown symbols and unmapped regions come back from the poller.
    fn validate(&self, input: &Input) -> Option<Diagnostic> {
        let err = |message: String| Some(Diagnostic::new(0, message));
        match &input.purpose {
            // Parsed as typed, in `check_input`.
            Purpose::AddWatch | Purpose::Goto => match (&input.watch, &input.error) {
                (Some(_), _) => None,
                (None, Some(e)) => Some(e.clone()),
                (None, None) => err("an expression".into()),
            },
            // A bitfield is checked over zeros: its range does not depend on them.
            Purpose::EditWatch(_, ty) => ty
                .encode_over(&input.text, &vec![0; ty.needs_current().unwrap_or(0)])
                .err()
                .and_then(|e| err(e.why)),
            Purpose::HexWrite(_) => parse_hex_bytes(&input.text).err().and_then(err),
            Purpose::SaveWatches | Purpose::ExportLog => input
                .text
                .trim()
                .is_empty()
                .then(|| "a file name".to_string())
                .and_then(err),
            Purpose::MapsFilter | Purpose::AddTarget => None,
            Purpose::Search => parse_request(&input.text)
                .err()
                .and_then(|e| err(e.to_string())),
            // Empty, the line lists the choices (see `check_input`), not an error.
            Purpose::Narrow(_) if matches!(input.text.trim(), "" | "undo") => None,
            Purpose::Pointers(_) => {
                crate::hunt::pointers::Bounds::parse(&input.text, POINTER_BOUNDS.max_chains)
                    .err()
                    .and_then(err)
            }
            Purpose::Narrow(ty) => {
                let words: Vec<String> = input.text.split_whitespace().map(String::from).collect();
                crate::search::Condition::parse(*ty, &words)
                    .err()
                    .and_then(|e| err(e.to_string()))
            }
        }
    }

    /// Checks the input again, and asks the poller to resolve an expression.
    fn check_input(&mut self, input: &mut Input) {
        if matches!(input.purpose, Purpose::AddWatch | Purpose::Goto) {
            // The one parse of what was typed; the watch travels parsed.
            input.error = None;
            input.watch = match parse_typed(&input.text) {
                Ok(watch) => Some(watch),
                Err(e) => {
                    input.error = Some(e);
                    None
                }
            };
        }
        input.error = self.validate(input);
        input.hint = None;
        input.candidates = None;
        self.waiting.complete = None;
        self.waiting.input = None;
        if matches!(input.purpose, Purpose::Narrow(_)) && input.text.trim().is_empty() {
            input.hint = Some(NARROW_CHOICES.into());
        }
        if let Purpose::Pointers(scan) = &input.purpose {
            input.hint = Some(format!(
                "to {}: pointers followed (1 to {}), largest offset after each (up to {:#x})",
                scan.subject,
                crate::hunt::pointers::MAX_DEPTH,
                crate::hunt::pointers::MAX_OFFSET
            ));
        }
        if let Some(watch) = &input.watch
            && input.error.is_none()
        {
            let tag = self.tag();
            self.waiting.input = Some(tag);
            let command = Command::Evaluate {
                tag,
                watch: watch.clone(),
            };
            // A go-to resolves in the process the hex view reads.
            if input.purpose == Purpose::Goto {
                self.send_hex(command);
            } else {
                self.send(command);
            }
        }
    }

    pub(super) fn input_key(&mut self, key: KeyEvent) {
        let Some(mut input) = self.input.take() else {
            return;
        };
        match key.code {
            KeyCode::Esc => {
                if input.purpose == Purpose::MapsFilter {
                    self.maps.filter.clear();
                }
                return;
            }
            KeyCode::Enter
                if matches!(input.purpose, Purpose::Narrow(_)) && input.text.trim().is_empty() =>
            {
                // Nothing typed yet: keep the line open with its choices.
                self.input = Some(input);
                return;
            }
            KeyCode::Enter => {
                // An unknown symbol does not block adding a watch (its library may
                // load later), but a syntax error does.
                if let Some(e) = self.validate(&input) {
                    input.error = Some(e);
                    self.input = Some(input);
                } else {
                    self.submit(input);
                }
                return;
            }
            KeyCode::Tab if matches!(input.purpose, Purpose::AddWatch | Purpose::Goto) => {
                let tag = self.tag();
                self.waiting.complete = Some(tag);
                self.send(Command::Complete {
                    tag,
                    text: input.text.clone(),
                });
                self.input = Some(input);
                return;
            }
            _ => input.edit(key),
        }
        self.check_input(&mut input);
        if input.purpose == Purpose::MapsFilter {
            self.maps.set_filter(input.text.clone());
        }
        self.input = Some(input);
    }

    fn submit(&mut self, input: Input) {
        let text = input.text.trim().to_string();
        match input.purpose {
            Purpose::AddWatch => match input.watch {
                Some(watch) => {
                    self.add_parsed(&text, watch);
                }
                None => self.say(Level::Error, "nothing to add"),
            },
            Purpose::EditWatch(id, ty) => {
                let Some(w) = self.watches.get(id) else {
                    return;
                };
                let (expr, addr, frozen) = (w.expr.clone(), w.addr, w.frozen.is_some());
                let Some(addr) = addr else {
                    self.say(Level::Error, "the watch has no address to write to");
                    return;
                };
                if ty.needs_current().is_some() {
                    // The poller reads the bytes around the bits and writes them back.
                    let (len, mask) = (ty.size(), ty.bit_mask());
                    self.write_value(expr, ty, addr, text);
                    if frozen {
                        // Held from the bytes as written: the new value.
                        self.send(Command::Freeze {
                            watch: id,
                            addr,
                            len,
                            bytes: None,
                            mask,
                        });
                    }
                    return;
                }
                match ty.encode(&text) {
                    Ok(bytes) => {
                        if frozen {
                            // Editing a frozen value freezes the new one.
                            self.send(Command::Freeze {
                                watch: id,
                                addr,
                                len: bytes.len(),
                                bytes: Some(bytes.clone()),
                                mask: None,
                            });
                        }
                        self.write("write", expr, Some(ty), addr, bytes);
                    }
                    Err(e) => self.say(Level::Error, e.to_string()),
                }
            }
            Purpose::HexWrite(addr) => match parse_hex_bytes(&text) {
                Ok(bytes) => self.write_hex(addr, bytes),
                Err(e) => self.say(Level::Error, e),
            },
            Purpose::Goto => {
                let Some(watch) = input.watch else {
                    return;
                };
                let tag = self.tag();
                self.waiting.goto = Some(tag);
                self.send_hex(Command::Evaluate { tag, watch });
            }
            Purpose::SaveWatches => {
                let tag = self.tag();
                self.waiting.save = Some((tag, text));
                self.send(Command::Portable { tag });
            }
            Purpose::ExportLog => self.export_log(&text),
            Purpose::MapsFilter => self.maps.filter = text,
            Purpose::Search => self.start_search(text),
            Purpose::Narrow(ty) => self.narrow(ty, &text),
            Purpose::AddTarget => self.add_target(&text),
            Purpose::Pointers(scan) => self.run_pointers(scan, &text),
        }
    }

    /// An expression the input line asked about was evaluated.
    pub(super) fn evaluated(&mut self, tag: u64, result: Result<Evaluated, Diagnostic>) {
        if self.waiting.goto == Some(tag) {
            self.waiting.goto = None;
            match result {
                Ok(found) => {
                    self.hex.back.push(self.hex.cursor);
                    self.open_hex(found.addr);
                }
                Err(e) => self.say(Level::Error, format!("go to: {}", e.message)),
            }
            return;
        }
        if self.waiting.input != Some(tag) {
            return;
        }
        let Some(input) = self.input.as_mut() else {
            return;
        };
        // A parse error found locally stays; otherwise show what the poller said.
        if input.error.is_none() {
            match result {
                Ok(found) => input.hint = Some(format!("→ {:#x} as {}", found.addr, found.ty)),
                Err(e) => input.error = Some(e),
            }
        }
    }

    /// The poller completed the name at the end of the input: one
    /// candidate fills it in; several fill in what they share and are
    /// listed with their types.
    pub(super) fn completed(&mut self, tag: u64, items: &[Completion]) {
        if self.waiting.complete != Some(tag) {
            return;
        }
        let Some(mut input) = self.input.take() else {
            return;
        };
        if let Some(text) = common_text(items).filter(|t| t.len() > input.text.len()) {
            input.cursor = text.chars().count();
            input.text = text;
            self.check_input(&mut input);
        }
        input.candidates = Some(match items {
            [] => "no names known here".to_string(),
            [one] => format!("{}: {}", one.name, one.ty),
            many => many
                .iter()
                .map(|c| format!("{}: {}", c.name, c.ty))
                .collect::<Vec<_>>()
                .join("  "),
        });
        self.input = Some(input);
    }

    /// Writes the watch list, as the poller made it portable: addresses in
    /// mapped files as `module!symbol+off` or `[module]+off`.
    pub(super) fn save_watches(&mut self, path: &str, lines: &[String]) {
        let mut text =
            String::from("# pvtui watch list: one expression a line (pvtui --watches FILE)\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        self.write_file(path, &text, &format!("saved {} watches", lines.len()));
    }

    fn export_log(&mut self, path: &str) {
        let done = format!("exported {} log entries", self.log.len());
        self.write_file(path, &self.log.tsv(), &done);
    }

    /// Writes a new file at `path` (see [`crate::tui::files`]); one already
    /// there, or a symbolic link, is replaced only when the same path is
    /// given again.
    fn write_file(&mut self, path: &str, text: &str, done: &str) {
        let replace = self.waiting.overwrite.as_deref() == Some(path);
        self.waiting.overwrite = None;
        match write_new(std::path::Path::new(path), text.as_bytes(), replace) {
            Ok(Saved::Written) => self.say(Level::Info, format!("{done} to {path}")),
            Ok(Saved::Exists { link }) => {
                let what = if link {
                    "is a symbolic link (not followed)"
                } else {
                    "already exists"
                };
                self.say(
                    Level::Warning,
                    format!(
                        "{path} {what}: nothing written; give the same name again to replace it"
                    ),
                );
                self.waiting.overwrite = Some(path.to_string());
            }
            Err(e) => self.say(Level::Error, format!("cannot write {path}: {e}")),
        }
    }
}

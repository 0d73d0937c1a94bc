//! The input line: what it is for, its text and cursor, and the parse error
//! shown under the column as the user types.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::expr::{Diagnostic, Type, Watch};
use crate::poller::WatchId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    AddWatch,
    EditWatch(WatchId, Type),
    /// Hex bytes to write at an address.
    HexWrite(u64),
    Goto,
    SaveWatches,
    ExportLog,
    MapsFilter,
    Search,
    /// Narrow the last value scan of this type.
    Narrow(crate::search::ValueType),
    /// Another target to show beside the main one: a pid or a name.
    AddTarget,
    /// The depth and largest offset of a pointer scan to this place.
    Pointers(crate::tui::hunt::PointerScan),
}

impl Purpose {
    pub fn prompt(&self) -> String {
        match self {
            Purpose::AddWatch => "add watch> ".into(),
            Purpose::EditWatch(_, ty) => format!("new value ({ty})> "),
            Purpose::HexWrite(addr) => format!("bytes at {addr:#x}> "),
            Purpose::Goto => "go to> ".into(),
            Purpose::SaveWatches => "save watches to> ".into(),
            Purpose::ExportLog => "export log to> ".into(),
            Purpose::MapsFilter => "filter> ".into(),
            Purpose::Search => "search> ".into(),
            Purpose::Narrow(ty) => format!("narrow {ty}> "),
            Purpose::AddTarget => "add target (pid or name)> ".into(),
            Purpose::Pointers(_) => "pointer scan: depth max-offset> ".into(),
        }
    }

    /// Whether submitting writes to the target.
    pub fn writes(&self) -> bool {
        matches!(self, Purpose::EditWatch(..) | Purpose::HexWrite(_))
    }
}

#[derive(Clone, Debug)]
pub struct Input {
    pub purpose: Purpose,
    pub text: String,
    /// In characters.
    pub cursor: usize,
    pub error: Option<Diagnostic>,
    /// The text parsed as a watch, for the purposes that take one (add,
    /// go to): parsed here as it is typed, then sent on as it is.
    pub watch: Option<Watch>,
    /// What the text resolves to, once the poller has said.
    pub hint: Option<String>,
    /// The names Tab found for the end of the text, with their types.
    pub candidates: Option<String>,
}

impl Input {
    pub fn new(purpose: Purpose, text: String) -> Input {
        let cursor = text.chars().count();
        Input {
            purpose,
            text,
            cursor,
            error: None,
            watch: None,
            hint: None,
            candidates: None,
        }
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    /// Applies an editing key.
    pub fn edit(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.text.clear();
                self.cursor = 0;
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = len,
            KeyCode::Char(c) if !ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_in_the_middle_with_multibyte_text() {
        let mut input = Input::new(Purpose::Goto, "aé".into());
        input.edit(key(KeyCode::Left));
        input.edit(key(KeyCode::Char('x')));
        assert_eq!(input.text, "axé");
        input.edit(key(KeyCode::Backspace));
        input.edit(key(KeyCode::Delete));
        assert_eq!(input.text, "a");
        input.edit(key(KeyCode::Backspace));
        input.edit(key(KeyCode::Backspace));
        assert_eq!((input.text.as_str(), input.cursor), ("", 0));
    }
}

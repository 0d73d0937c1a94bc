//! Keys and what they do: one table drives both the dispatch and the help
//! overlay, so the help can never list a key that does something else.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::error::{Error, Result};

/// Everything a key can ask for; what it means depends on the pane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    Watches,
    Maps,
    Hex,
    Search,
    Log,
    Output,
    Pause,
    Faster,
    Slower,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Activate,
    Add,
    Edit,
    Freeze,
    Delete,
    Undo,
    Save,
    Chart,
    Goto,
    Follow,
    Back,
    Filter,
    Export,
    OpenHex,
    Narrow,
}

/// Name (as in the config file), default keys, and what the help says.
pub const ACTIONS: &[(Action, &str, &[&str], &str)] = &[
    (
        Action::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit: freezes stop; a target pvtui started is stopped",
    ),
    (Action::Help, "help", &["?", "f1"], "this help"),
    (Action::NextPane, "next_pane", &["tab"], "next pane"),
    (Action::PrevPane, "prev_pane", &["backtab"], "previous pane"),
    (Action::Watches, "watches", &["1"], "watches pane"),
    (Action::Maps, "maps", &["2"], "maps pane"),
    (Action::Hex, "hex", &["3"], "hex pane"),
    (Action::Search, "search", &["4"], "search pane"),
    (Action::Log, "log", &["5"], "write log pane"),
    (
        Action::Output,
        "output",
        &["6"],
        "target output pane (spawned targets)",
    ),
    (
        Action::Pause,
        "pause",
        &["space"],
        "pause / resume polling (freezes hold)",
    ),
    (
        Action::Faster,
        "faster",
        &["+", "="],
        "poll faster (halve the interval)",
    ),
    (
        Action::Slower,
        "slower",
        &["-"],
        "poll slower (double the interval)",
    ),
    (Action::Up, "up", &["up", "k"], "move up"),
    (Action::Down, "down", &["down", "j"], "move down"),
    (Action::Left, "left", &["left", "h"], "hex: previous byte"),
    (Action::Right, "right", &["right", "l"], "hex: next byte"),
    (Action::PageUp, "page_up", &["pageup", "ctrl-u"], "page up"),
    (
        Action::PageDown,
        "page_down",
        &["pagedown", "ctrl-d"],
        "page down",
    ),
    (Action::Top, "top", &["home"], "first row"),
    (Action::Bottom, "bottom", &["end", "G"], "last row"),
    (
        Action::Activate,
        "activate",
        &["enter"],
        "watches: edit value · maps/search: open in hex · hex: follow pointer",
    ),
    (
        Action::Add,
        "add",
        &["a"],
        "add a watch (search: add the result)",
    ),
    (
        Action::Edit,
        "edit",
        &["e"],
        "watches: edit value · hex: write bytes at cursor",
    ),
    (
        Action::Freeze,
        "freeze",
        &["f"],
        "freeze / unfreeze the watch's value",
    ),
    (
        Action::Delete,
        "delete",
        &["d", "delete"],
        "remove the watch",
    ),
    (Action::Undo, "undo", &["u"], "undo the last write"),
    (
        Action::Save,
        "save",
        &["s"],
        "save the watch list (module-relative)",
    ),
    (
        Action::Chart,
        "chart",
        &["c"],
        "chart of the watch's history",
    ),
    (
        Action::Goto,
        "goto",
        &["g"],
        "hex: go to an address or expression",
    ),
    (
        Action::Follow,
        "follow",
        &["p"],
        "hex: follow the pointer under the cursor",
    ),
    (
        Action::Back,
        "back",
        &["backspace"],
        "hex: back to where you followed from",
    ),
    (
        Action::Filter,
        "filter",
        &["/"],
        "maps: filter · search: new search",
    ),
    (
        Action::Export,
        "export",
        &["E"],
        "log: export the write log to a file",
    ),
    (
        Action::OpenHex,
        "open_hex",
        &["x"],
        "watches: open the watch's address in hex",
    ),
    (
        Action::Narrow,
        "narrow",
        &["n"],
        "search: narrow a value scan",
    ),
];

/// A key with modifiers, as written in the config file: `q`, `ctrl-c`, `enter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// The key codes pvtui binds, ordered so they can key a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

impl Key {
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(' ') => KeyCodeOrd::Char(' '),
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `q`, `G`, `ctrl-c`, `alt-x`, `enter`, `f1`, `space`.
    pub fn parse(text: &str) -> Option<Key> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCodeOrd::Enter,
            "esc" => KeyCodeOrd::Esc,
            "tab" => KeyCodeOrd::Tab,
            "backtab" => KeyCodeOrd::BackTab,
            "backspace" => KeyCodeOrd::Backspace,
            "delete" => KeyCodeOrd::Delete,
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "pageup" => KeyCodeOrd::PageUp,
            "pagedown" => KeyCodeOrd::PageDown,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "space" => KeyCodeOrd::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => KeyCodeOrd::F(f[1..].parse().ok()?),
            c => {
                let mut chars = c.chars();
                let ch = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyCodeOrd::Char(ch)
            }
        };
        Some(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("Space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Which action each key asks for.
#[derive(Clone, Debug)]
pub struct KeyMap {
    bindings: BTreeMap<Key, Action>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::with_overrides(&BTreeMap::new()).unwrap_or(KeyMap {
            bindings: BTreeMap::new(),
        })
    }
}

impl KeyMap {
    /// The default keys, with the actions named in `overrides` (config
    /// `[keys]`: `freeze = ["f", "F"]`) bound to the keys given instead.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap> {
        let mut bindings = BTreeMap::new();
        for (name, keys) in overrides {
            if !ACTIONS.iter().any(|(_, n, _, _)| n == name) {
                let names: Vec<&str> = ACTIONS.iter().map(|(_, n, _, _)| *n).collect();
                return Err(Error::Usage(format!(
                    "config [keys]: no action {name:?}; the actions are {}",
                    names.join(", ")
                )));
            }
            for key in keys {
                if Key::parse(key).is_none() {
                    return Err(Error::Usage(format!(
                        "config [keys]: {name} = {key:?} is not a key (e.g. \"q\", \"ctrl-c\", \"enter\", \"f1\")"
                    )));
                }
            }
        }
        for (action, name, defaults, _) in ACTIONS {
            let keys: Vec<&str> = match overrides.get(*name) {
                Some(keys) => keys.iter().map(String::as_str).collect(),
                None => defaults.to_vec(),
            };
            for key in keys.iter().filter_map(|k| Key::parse(k)) {
                // An override wins over a default on the same key.
                if overrides.contains_key(*name) || !bindings.contains_key(&key) {
                    bindings.insert(key, *action);
                }
            }
        }
        Ok(KeyMap { bindings })
    }

    pub fn action(&self, event: &KeyEvent) -> Option<Action> {
        let mut key = Key::from_event(event)?;
        if let Some(action) = self.bindings.get(&key) {
            return Some(*action);
        }
        // Terminals report shifted letters with SHIFT; the letter already says it.
        key.alt = false;
        self.bindings.get(&key).copied()
    }

    /// The keys bound to `action`, for the help overlay.
    pub fn keys_for(&self, action: Action) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| *k)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_bind_vim_and_arrows() {
        let map = KeyMap::default();
        assert_eq!(
            map.action(&press(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::Chart)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
    }

    #[test]
    fn every_action_has_a_key_and_no_default_key_is_taken_twice() {
        let map = KeyMap::default();
        let mut seen = std::collections::HashSet::new();
        for (action, name, keys, _) in ACTIONS {
            assert!(!map.keys_for(*action).is_empty(), "{name} has no key");
            for key in keys.iter() {
                let key =
                    Key::parse(key).unwrap_or_else(|| panic!("{name}: {key:?} does not parse"));
                assert!(seen.insert(key), "{key} is bound twice");
            }
        }
    }

    #[test]
    fn overrides_rebind_and_bad_ones_are_named() {
        let mut o = BTreeMap::new();
        o.insert("freeze".to_string(), vec!["z".to_string()]);
        let map = KeyMap::with_overrides(&o).expect("override");
        assert_eq!(
            map.action(&press(KeyCode::Char('z'), KeyModifiers::NONE)),
            Some(Action::Freeze)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('f'), KeyModifiers::NONE)),
            None
        );
        o.insert("fly".to_string(), vec!["y".to_string()]);
        assert!(
            KeyMap::with_overrides(&o)
                .expect_err("bad")
                .to_string()
                .contains("fly")
        );
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["ctrl-".to_string()]);
        assert!(KeyMap::with_overrides(&o).is_err());
    }
}

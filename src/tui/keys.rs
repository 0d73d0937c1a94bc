//! Keys and what they do: one table drives the dispatch, the help overlay
//! and the footer's hints, so a rebound key shows as rebound everywhere.

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
    Trend,
    AddTarget,
    DropTarget,
    Shared,
    Through,
    Refresh,
    Pointers,
    Writers,
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
    (
        Action::Left,
        "left",
        &["left", "h"],
        "hex: previous byte · watches: close a struct",
    ),
    (
        Action::Right,
        "right",
        &["right", "l"],
        "hex: next byte · watches: open a struct",
    ),
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
        "watches: edit value, open a struct · maps/search: open in hex · hex: follow pointer",
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
    (
        Action::Trend,
        "trend",
        &["t"],
        "watches: show the change per tick, per second, or neither",
    ),
    (
        Action::AddTarget,
        "add_target",
        &["A"],
        "show another process beside this one (a pid or a name)",
    ),
    (
        Action::DropTarget,
        "drop_target",
        &["X"],
        "stop showing the last other process added",
    ),
    (
        Action::Shared,
        "shared",
        &["7", "S"],
        "shared-memory map pane: what the targets map, and where",
    ),
    (
        Action::Through,
        "through",
        &["v"],
        "hex: read through the next target · shared: choose the process",
    ),
    (
        Action::Refresh,
        "refresh",
        &["r"],
        "shared: collect the shared-memory map again",
    ),
    (
        Action::Pointers,
        "pointers",
        &["P"],
        "watches/search: pointer chains to it",
    ),
    (
        Action::Writers,
        "writers",
        &["W"],
        "watches: who writes it, live",
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

/// A footer hint: the actions whose keys it shows, and what they do.
/// `Hint { actions: &[Action::Edit, Action::Activate], label: "edit" }`
/// reads `e/Enter edit` with the default keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint {
    pub actions: &'static [Action],
    pub label: &'static str,
}

/// Which action each key asks for.
#[derive(Clone, Debug)]
pub struct KeyMap {
    bindings: BTreeMap<Key, Action>,
    /// Each action's keys, the one hints show first.
    keys: BTreeMap<Action, Vec<Key>>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::with_overrides(&BTreeMap::new()).unwrap_or(KeyMap {
            bindings: BTreeMap::new(),
            keys: BTreeMap::new(),
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
        // Each action's keys as declared, less those another action took;
        // the shortest to read goes first (`k` before `Up`).
        let mut keys = BTreeMap::new();
        for (action, name, defaults, _) in ACTIONS {
            let declared: Vec<Key> = match overrides.get(*name) {
                Some(keys) => keys.iter().filter_map(|k| Key::parse(k)).collect(),
                None => defaults.iter().filter_map(|k| Key::parse(k)).collect(),
            };
            let mut mine: Vec<Key> = Vec::new();
            for key in declared {
                if bindings.get(&key) == Some(action) && !mine.contains(&key) {
                    mine.push(key);
                }
            }
            mine.sort_by_key(|k| k.to_string().chars().count());
            keys.insert(*action, mine);
        }
        Ok(KeyMap { bindings, keys })
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

    /// The keys bound to `action`, the shortest first.
    pub fn keys_for(&self, action: Action) -> &[Key] {
        self.keys.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The key hints show for `action`: the shortest bound to it.
    pub fn primary(&self, action: Action) -> Option<Key> {
        self.keys_for(action).first().copied()
    }

    /// `e/Enter`: the primary key of each action that has one.
    pub fn keys_text(&self, actions: &[Action]) -> String {
        actions
            .iter()
            .filter_map(|a| self.primary(*a))
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `e/Enter edit`; none when no key is bound to any of its actions.
    pub fn hint(&self, hint: &Hint) -> Option<String> {
        let keys = self.keys_text(hint.actions);
        (!keys.is_empty()).then(|| format!("{keys} {}", hint.label))
    }

    /// Every action's keys (all of them) and what the help says, in table order.
    pub fn help_entries(&self) -> Vec<(String, &'static str)> {
        ACTIONS
            .iter()
            .map(|(action, _, _, what)| {
                let keys: Vec<String> = self
                    .keys_for(*action)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                (keys.join(" "), *what)
            })
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

    #[test]
    fn hints_and_help_follow_a_rebound_key() {
        let freeze = Hint {
            actions: &[Action::Freeze],
            label: "freeze",
        };
        let edit = Hint {
            actions: &[Action::Edit, Action::Activate],
            label: "edit",
        };
        let map = KeyMap::default();
        assert_eq!(map.hint(&freeze).as_deref(), Some("f freeze"));
        assert_eq!(map.hint(&edit).as_deref(), Some("e/Enter edit"));
        let mut o = BTreeMap::new();
        o.insert("freeze".to_string(), vec!["F".to_string()]);
        let map = KeyMap::with_overrides(&o).expect("override");
        assert_eq!(map.hint(&freeze).as_deref(), Some("F freeze"));
        let help = map.help_entries();
        let row = help
            .iter()
            .find(|(_, what)| what.starts_with("freeze"))
            .expect("freeze in the help");
        assert_eq!(row.0, "F");
        assert_eq!(map.keys_for(Action::Freeze), &[Key::parse("F").expect("F")]);
        // A key taken from another action leaves that action's hint out.
        let mut o = BTreeMap::new();
        o.insert("freeze".to_string(), vec!["c".to_string()]);
        let map = KeyMap::with_overrides(&o).expect("override");
        let chart = Hint {
            actions: &[Action::Chart],
            label: "chart",
        };
        assert_eq!(map.hint(&chart), None);
        assert_eq!(map.hint(&freeze).as_deref(), Some("c freeze"));
    }

    #[test]
    fn the_shortest_key_is_shown_first() {
        let map = KeyMap::default();
        assert_eq!(map.keys_text(&[Action::Left, Action::Down]), "h/j");
        assert_eq!(map.keys_text(&[Action::Quit]), "q");
        assert_eq!(map.keys_text(&[Action::Faster, Action::Slower]), "+/-");
        assert_eq!(map.keys_text(&[Action::Bottom]), "G");
    }
}

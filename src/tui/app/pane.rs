//! The panes: their names, the keys that open them, and the hints the
//! footer shows in each.

use crate::tui::keys::{Action, Hint};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Watches,
    Maps,
    Hex,
    Search,
    Log,
    Output,
    /// The shared-memory map of the targets shown.
    Shared,
}

impl Pane {
    pub const ALL: [Pane; 7] = [
        Pane::Watches,
        Pane::Maps,
        Pane::Hex,
        Pane::Search,
        Pane::Log,
        Pane::Output,
        Pane::Shared,
    ];

    /// The action that opens this pane.
    pub fn action(self) -> Action {
        match self {
            Pane::Watches => Action::Watches,
            Pane::Maps => Action::Maps,
            Pane::Hex => Action::Hex,
            Pane::Search => Action::Search,
            Pane::Log => Action::Log,
            Pane::Output => Action::Output,
            Pane::Shared => Action::Shared,
        }
    }

    /// The footer's hints in this pane, most used first.
    pub fn hints(self) -> &'static [Hint] {
        const fn h(actions: &'static [Action], label: &'static str) -> Hint {
            Hint { actions, label }
        }
        const WATCHES: &[Hint] = &[
            h(&[Action::Add], "add"),
            h(&[Action::Edit, Action::Activate], "edit"),
            h(&[Action::Right, Action::Left], "open/close struct"),
            h(&[Action::Freeze], "freeze"),
            h(&[Action::Undo], "undo"),
            h(&[Action::Delete], "delete"),
            h(&[Action::Chart], "chart"),
            h(&[Action::Trend], "delta/rate"),
            h(&[Action::OpenHex], "hex"),
            h(&[Action::Save], "save"),
            h(&[Action::Pause], "pause"),
            h(&[Action::Faster, Action::Slower], "interval"),
            h(&[Action::Pointers], "pointers"),
            h(&[Action::Writers], "writers"),
        ];
        const MAPS: &[Hint] = &[
            h(&[Action::Filter], "filter"),
            h(&[Action::Down, Action::Up], "move"),
            h(&[Action::Activate], "open in hex"),
            h(&[Action::NextPane], "next pane"),
        ];
        const HEX: &[Hint] = &[
            h(&[Action::Goto], "go to"),
            h(&[Action::Activate, Action::Follow], "follow pointer"),
            h(&[Action::Back], "back"),
            h(&[Action::Edit], "write bytes"),
            h(
                &[Action::Left, Action::Down, Action::Up, Action::Right],
                "move",
            ),
            h(&[Action::Through], "through process"),
        ];
        const SEARCH: &[Hint] = &[
            h(&[Action::Filter], "search"),
            h(&[Action::Narrow], "narrow a scan"),
            h(&[Action::Activate], "open in hex"),
            h(&[Action::Add], "add as watch"),
            h(&[Action::Pointers], "pointers"),
        ];
        const SHARED: &[Hint] = &[
            h(&[Action::Down, Action::Up], "object"),
            h(&[Action::Through], "process"),
            h(&[Action::Activate], "open in hex"),
            h(&[Action::Refresh], "collect again"),
        ];
        const LOG: &[Hint] = &[
            h(&[Action::Export], "export"),
            h(&[Action::Undo], "undo the last write"),
        ];
        match self {
            Pane::Watches => WATCHES,
            Pane::Maps => MAPS,
            Pane::Hex => HEX,
            Pane::Search => SEARCH,
            Pane::Log => LOG,
            Pane::Output => &[],
            Pane::Shared => SHARED,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Watches => "Watches",
            Pane::Maps => "Maps",
            Pane::Hex => "Hex",
            Pane::Search => "Search",
            Pane::Log => "Write log",
            Pane::Output => "Output",
            Pane::Shared => "Shared",
        }
    }
}

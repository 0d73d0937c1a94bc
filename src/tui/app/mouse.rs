//! The mouse: a click selects what is under it in every pane, and the
//! wheel scrolls the pane under the pointer (or the help).

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::tui::app::{App, Pane};
use crate::tui::layout;

impl App {
    pub(super) fn mouse(&mut self, mouse: MouseEvent) {
        if self.input.is_some() || self.watches.chart.is_some() {
            return;
        }
        let body = layout::areas(self.screen()).body;
        let inside = |r: ratatui::layout::Rect| {
            mouse.column >= r.x
                && mouse.column < r.right()
                && mouse.row >= r.y
                && mouse.row < r.bottom()
        };
        if self.help {
            let by = match mouse.kind {
                MouseEventKind::ScrollUp => -3,
                MouseEventKind::ScrollDown => 3,
                _ => return,
            };
            let max = layout::help(self.screen(), &self.help_entries()).max_scroll();
            self.help_scroll = (self.help_scroll as i64 + by).clamp(0, max as i64) as usize;
            return;
        }
        // The wheel scrolls the pane under the pointer; only the pane's body scrolls.
        if !inside(body) {
            return;
        }
        match mouse.kind {
            MouseEventKind::ScrollUp => self.move_by(-3),
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::Down(MouseButton::Left) => self.click(body, mouse.column, mouse.row),
            _ => {}
        }
    }

    /// Selects what is under a click at (`x`, `y`) in the pane's `body`.
    fn click(&mut self, body: ratatui::layout::Rect, x: u16, y: u16) {
        match self.pane {
            Pane::Watches => {
                let has_output = self.process.spawned && !self.output.is_empty();
                let table = layout::watches(body, has_output, !self.watches.is_empty()).table;
                let (selected, len) = (self.watches.selected, self.watches.len());
                if let Some(i) = layout::table_row_at(table, y, selected, len) {
                    self.watches.selected = i;
                }
            }
            Pane::Maps => {
                let len = self.maps.visible().len();
                let table = layout::inner(body);
                if let Some(i) = layout::table_row_at(table, y, self.maps.selected, len) {
                    self.maps.selected = i;
                }
            }
            Pane::Search => {
                let [_, _, table] = layout::search(body);
                let len = self.search.hits.len();
                if let Some(i) = layout::table_row_at(table, y, self.search.selected, len) {
                    self.search.selected = i;
                }
            }
            Pane::Log => {
                let selected = self.log.entries.get(self.log.selected);
                let (table, _) = layout::log(body, selected.map(|e| e.result.as_str()));
                if let Some(i) = layout::table_row_at(table, y, self.log.selected, self.log.len()) {
                    self.log.selected = i;
                }
            }
            Pane::Hex => {
                let Some(row) =
                    layout::body_row_at(self.size, y).filter(|r| *r < layout::hex_rows(self.size))
                else {
                    return;
                };
                let cols = self.hex_cols();
                if let Some(col) = layout::hex_col_at(x, cols) {
                    self.hex.cursor = self.hex.base + row as u64 * cols + col;
                }
            }
            Pane::Shared => {
                let inner = layout::inner(body);
                if y >= inner.y && y < inner.bottom() {
                    let line = usize::from(y - inner.y) + self.shared.scroll(inner.height.into());
                    if let Some(i) = self.shared.object_at(line) {
                        self.shared.selected = i;
                    }
                }
            }
            Pane::Output => {}
        }
    }
}

//! The help overlay: every action with its keys, from the same table the
//! dispatch uses, in two columns.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear, Row, Table};

use crate::tui::app::App;
use crate::tui::keys::ACTIONS;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let rows: Vec<Row> = ACTIONS
        .iter()
        .map(|(action, _, _, what)| {
            let keys: Vec<String> = app
                .keys
                .keys_for(*action)
                .iter()
                .map(|k| k.to_string())
                .collect();
            Row::new(vec![
                Span::styled(keys.join(" "), t.accent()),
                Span::raw(*what),
            ])
        })
        .collect();
    let half = rows.len().div_ceil(2);
    let mut right = rows;
    let left: Vec<Row> = right.drain(..half).collect();
    let popup = crate::tui::layout::centered(area, 150, half as u16 + 2);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent())
        .title(Span::styled(" Keys — any key closes ", t.accent()))
        .title_bottom(Span::styled(
            " mouse: wheel scrolls, click selects · input line: ←/→ Home/End Ctrl-U, Enter, Esc ",
            t.muted(),
        ))
        .style(t.base());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    let widths = [Constraint::Length(14), Constraint::Min(10)];
    frame.render_widget(Table::new(left, widths).style(t.base()), l);
    frame.render_widget(Table::new(right, widths).style(t.base()), r);
}

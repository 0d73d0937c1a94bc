//! The help overlay: every action with its keys, from the same table the
//! dispatch uses.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
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
    let height = rows.len() as u16 + 4;
    let popup = super::centered(area, 92, height);
    frame.render_widget(Clear, popup);
    let table = Table::new(rows, [Constraint::Length(18), Constraint::Min(20)])
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.accent())
                .title(Span::styled(" Keys — any key closes ", t.accent()))
                .title_bottom(Span::styled(
                    " mouse: wheel scrolls, click selects · input: ←/→ Home/End Ctrl-U, Enter, Esc ",
                    t.muted(),
                )),
        )
        .style(t.base());
    frame.render_widget(table, popup);
}

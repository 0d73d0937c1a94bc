//! The help overlay: every action with its keys, from the key map the
//! dispatch uses, in one or two columns; it scrolls when it does not fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keys::{Action, Hint};
use crate::tui::layout::{self, fit};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let entries = app.help_entries();
    let help = layout::help(area, &entries);
    let scroll = app.help_scroll.min(help.max_scroll());
    let title = if help.max_scroll() > 0 {
        let keys = app.keys.hint(&Hint {
            actions: &[Action::Down, Action::Up],
            label: "scroll",
        });
        let keys = keys.map(|k| format!("{k}, ")).unwrap_or_default();
        format!(" Keys — {keys}any other key closes ")
    } else {
        " Keys — any key closes ".to_string()
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent())
        .title(Span::styled(title, t.accent()))
        .style(t.base());
    if help.max_scroll() > 0 {
        let longest = help.lines.iter().map(Vec::len).max().unwrap_or(0);
        let last = (scroll + help.visible).min(longest);
        block = block.title_bottom(Span::styled(
            format!(" lines {}–{last} of {longest} ", scroll + 1),
            t.muted(),
        ));
    }
    frame.render_widget(Clear, help.popup);
    frame.render_widget(block, help.popup);
    let key_width = usize::from(help.key_width);
    for (column, lines) in help.columns.iter().zip(&help.lines) {
        let shown: Vec<Line> = lines
            .iter()
            .skip(scroll)
            .take(help.visible)
            .map(|(keys, text)| {
                Line::from(vec![
                    Span::styled(
                        format!("{:<key_width$}  ", fit(keys, key_width)),
                        t.accent(),
                    ),
                    Span::raw(text.clone()),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(shown).style(t.base()), *column);
    }
}

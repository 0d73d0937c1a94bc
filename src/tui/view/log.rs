//! The write log and the target's output.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::tui::app::{App, clock};
use crate::tui::layout::scroll_offset;

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    if app.log.is_empty() {
        let text = "No writes yet. Edit a watch (e), write bytes in the hex view (e), or freeze a watch (f).";
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.muted())).block(block),
            area,
        );
        return;
    }
    let rows_fit = area.height.saturating_sub(3) as usize;
    let offset = scroll_offset(app.log.selected, rows_fit);
    let rows: Vec<Row> = app
        .log
        .entries
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .map(|(i, e)| {
            let style = if i == app.log.selected {
                t.selected()
            } else {
                t.base()
            };
            let result_style = if e.ok { t.ok() } else { t.error() };
            Row::new(vec![
                Span::raw(clock(e.time)),
                Span::raw(e.what),
                Span::raw(format!("{:#x}", e.addr)),
                Span::raw(e.expr.clone()),
                Span::raw(format!("{} → {}", e.old, e.new)),
                Span::styled(e.result.clone(), result_style),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(14),
            Constraint::Length(24),
            Constraint::Length(28),
            Constraint::Min(10),
        ],
    )
    .header(
        Row::new([
            "time",
            "what",
            "address",
            "expression",
            "old → new",
            "result",
        ])
        .style(t.accent()),
    )
    .block(block);
    frame.render_widget(table, area);
}

pub fn draw_output(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let fit = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = if app.output.is_empty() {
        vec![Line::styled("The target has printed nothing.", t.muted())]
    } else {
        app.output
            .lines
            .iter()
            .skip(app.output.lines.len().saturating_sub(fit))
            .map(|l| Line::raw(l.clone()))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

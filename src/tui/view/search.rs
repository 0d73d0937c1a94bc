//! The search pane: the query, progress with rate, how it ended, and the
//! results as they stream in (address, region, preview or value).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Row, Table};

use crate::tui::app::App;
use crate::tui::layout::scroll_offset;
use crate::tui::view::mark_selected;
use crate::units::human_bytes;

/// The matched bytes as text where printable, dots elsewhere.
fn preview(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            }
        })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let s = &app.search;
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head, gauge, table_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    if s.query.is_empty() {
        let lines = vec![
            Line::styled("/ starts a search of the target's memory:", t.muted()),
            Line::styled("  gold=[0-9]+         a regex", t.muted()),
            Line::styled("  hex 48 8b ?? ?? 00  bytes, ?? for any", t.muted()),
            Line::styled(
                "  text Hello          text (itext: any case; utf16: UTF-16LE)",
                t.muted(),
            ),
            Line::styled(
                "  u32 1234            a value scan; then n narrows: changed, increased, = 1240",
                t.muted(),
            ),
            Line::styled(
                "Enter opens a result in the hex view; a adds it as a watch; Esc stops a search.",
                t.muted(),
            ),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let state = if s.is_running() { "running" } else { "done" };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{state}: "), t.accent()),
            Span::raw(s.query.clone()),
            Span::styled(format!("   {} found", s.found), t.accent()),
        ])),
        head,
    );
    match (&s.summary, &s.progress) {
        (Some(summary), _) => frame.render_widget(
            Paragraph::new(Line::styled(summary.clone(), t.muted()))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            gauge,
        ),
        (None, Some(p)) => {
            let label = format!(
                "{} of {} · {}/s",
                human_bytes(p.done),
                human_bytes(p.total),
                human_bytes(p.rate() as u64)
            );
            let [bar, _] =
                Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(gauge);
            frame.render_widget(
                Gauge::default()
                    .ratio(p.fraction().clamp(0.0, 1.0))
                    .label(label)
                    .gauge_style(t.sparkline()),
                bar,
            );
        }
        (None, None) => {
            frame.render_widget(Paragraph::new(Line::styled("starting…", t.muted())), gauge)
        }
    }
    let rows_fit = table_area.height.saturating_sub(1) as usize;
    let offset = scroll_offset(s.selected, rows_fit);
    let rows: Vec<Row> = s
        .hits
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .map(|(i, h)| {
            let shown = match &h.value {
                Some(v) => v.clone(),
                None => preview(&h.preview),
            };
            let row = Row::new(vec![
                Span::raw(format!("{:#x}", h.addr)),
                Span::styled(h.region.clone(), t.muted()),
                Span::raw(h.len.to_string()),
                Span::raw(shown),
            ]);
            mark_selected(row, i == s.selected, t)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(24),
            Constraint::Length(5),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["address", "region", "len", "match / value"]).style(t.accent()));
    frame.render_widget(table, table_area);
}

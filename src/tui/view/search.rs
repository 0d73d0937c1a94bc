//! The search pane: the query, progress with rate, how it ended, and the
//! results as they stream in (address, region, preview or value).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Row, Table};

use crate::tui::app::App;
use crate::tui::layout::{Column, column_widths, fit, hang, scroll_offset};
use crate::tui::view::{mark_selected, printable};
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
    let [head, gauge, table_area] = crate::tui::layout::search(area);
    if s.query.is_empty() {
        let width = usize::from(inner.width);
        let help = [
            ("", "/ starts a search of the target's memory:"),
            ("  gold=[0-9]+         ", "a regex"),
            ("  hex 48 8b ?? ?? 00  ", "bytes, ?? for any"),
            (
                "  text Hello          ",
                "text (itext: any case; utf16: UTF-16LE)",
            ),
            (
                "  u32 1234            ",
                "a value scan; then n narrows: changed, increased, = 1240",
            ),
            (
                "  u32 unknown         ",
                "every u32 place, for a value you cannot see; n narrows, n undo goes back",
            ),
            (
                "",
                "Enter opens a result in the hex view; a adds it as a watch; Esc stops a search.",
            ),
        ];
        let lines: Vec<Line> = help
            .iter()
            .flat_map(|(key, what)| hang(key, what, width))
            .map(|l| Line::styled(l, t.muted()))
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let state = if s.is_running() { "running" } else { "done" };
    // The query gives way, cut visibly, so the count always shows.
    let found = format!("   {} found", s.found);
    let room = usize::from(head.width).saturating_sub(state.len() + 2 + found.chars().count());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{state}: "), t.accent()),
            Span::raw(fit(&s.query, room)),
            Span::styled(found, t.accent()),
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
            let label = if s.counts_places {
                format!(
                    "{} of {} places · {:.0} places/s",
                    p.done,
                    p.total,
                    p.rate()
                )
            } else {
                format!(
                    "{} of {} · {}/s",
                    human_bytes(p.done),
                    human_bytes(p.total),
                    human_bytes(p.rate() as u64)
                )
            };
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
    let shown_hits: Vec<[String; 4]> = s
        .hits
        .iter()
        .skip(offset)
        .take(rows_fit)
        .map(|h| {
            let shown = match &h.value {
                Some(v) => v.clone(),
                None => preview(&h.preview),
            };
            [
                format!("{:#x}", h.addr),
                printable(&h.place),
                h.len.to_string(),
                shown,
            ]
        })
        .collect();
    let headers = ["address", "place", "len", "match / value"];
    let mins = [8, 8, 3, 10];
    let columns: Vec<Column> = (0..headers.len())
        .map(|i| Column {
            want: shown_hits
                .iter()
                .map(|h| h[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(headers[i].len())
                .min(usize::from(u16::MAX)) as u16,
            min: mins[i],
        })
        .collect();
    let widths = column_widths(table_area.width, &columns, 1, 3);
    let cell = |text: &str, i: usize| fit(text, usize::from(widths[i]));
    let rows: Vec<Row> = shown_hits
        .iter()
        .enumerate()
        .map(|(k, h)| {
            let row = Row::new(vec![
                Span::raw(cell(&h[0], 0)),
                Span::styled(cell(&h[1], 1), t.muted()),
                Span::raw(cell(&h[2], 2)),
                Span::raw(cell(&h[3], 3)),
            ]);
            mark_selected(row, offset + k == s.selected, t)
        })
        .collect();
    let header: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| cell(h, i))
        .collect();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .column_spacing(1)
        .header(Row::new(header).style(t.accent()));
    frame.render_widget(table, table_area);
}

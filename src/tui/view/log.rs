//! The write log and the target's output.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::tui::app::{App, clock};
use crate::tui::layout::{self, Column, column_widths, columns_that_fit, fit, scroll_offset};
use crate::tui::view::printable;

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    if app.log.is_empty() {
        let text = "No writes yet. Edit a watch (e), write bytes in the hex view (e), \
                    or freeze a watch (f).";
        let width = usize::from(layout::inner(area).width);
        let lines: Vec<Line> = layout::wrap(text, width)
            .into_iter()
            .map(|l| Line::styled(l, t.muted()))
            .collect();
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let selected = app.log.entries.get(app.log.selected);
    let (table_area, detail) = layout::log(area, selected.map(|e| e.result.as_str()));
    let rows_fit = table_area.height.saturating_sub(1) as usize;
    let offset = scroll_offset(app.log.selected, rows_fit);
    let headers = [
        "time",
        "what",
        "address",
        "expression",
        "old → new",
        "result",
    ];
    let cells: Vec<[String; 6]> = app
        .log
        .entries
        .iter()
        .map(|e| {
            [
                clock(e.time),
                e.what.to_string(),
                match &e.place {
                    Some(place) => format!("{:#x} <{}>", e.addr, printable(place)),
                    None => format!("{:#x}", e.addr),
                },
                printable(&e.expr),
                format!("{} → {}", e.old, e.new),
                e.result.clone(),
            ]
        })
        .collect();
    let mins = [8, 6, 8, 10, 10, 10];
    let columns: Vec<Column> = (0..headers.len())
        .map(|i| Column {
            want: cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(headers[i].chars().count())
                .min(usize::from(u16::MAX)) as u16,
            min: mins[i],
        })
        .collect();
    // Too narrow for every column: whole columns give way (time first),
    // and the address last; what is shown is cut with `…`, never silently.
    let room = table_area.width;
    let kept = columns_that_fit(room, &columns, 1, &[0, 1, 4, 5, 3]);
    let shown: Vec<Column> = kept.iter().map(|&i| columns[i]).collect();
    let grow = kept.iter().position(|&i| i == 5).unwrap_or(kept.len() - 1);
    let mut widths = column_widths(room, &shown, 1, grow);
    if let [only] = widths.as_mut_slice() {
        *only = (*only).min(room);
    }
    let cell = |text: &str, k: usize| fit(text, usize::from(widths[k]));
    let rows: Vec<Row> = app
        .log
        .entries
        .iter()
        .zip(&cells)
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .map(|(i, (e, c))| {
            let style = if i == app.log.selected {
                t.selected()
            } else {
                t.base()
            };
            let result_style = if e.ok { t.ok() } else { t.error() };
            let spans: Vec<Span> = kept
                .iter()
                .enumerate()
                .map(|(k, &col)| {
                    let text = cell(&c[col], k);
                    if col == 5 {
                        Span::styled(text, result_style)
                    } else {
                        Span::raw(text)
                    }
                })
                .collect();
            Row::new(spans).style(style)
        })
        .collect();
    let header: Vec<String> = kept
        .iter()
        .enumerate()
        .map(|(k, &col)| cell(headers[col], k))
        .collect();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .column_spacing(1)
        .header(Row::new(header).style(t.accent()));
    frame.render_widget(block, area);
    frame.render_widget(table, table_area);
    if let (Some(detail), Some(c)) = (detail, cells.get(app.log.selected)) {
        let ok = app.log.entries.get(app.log.selected).is_some_and(|e| e.ok);
        draw_detail(frame, detail, c, ok, app);
    }
}

/// The selected entry whole: what the table cuts reads here, a long
/// failure wrapped over the lines left.
fn draw_detail(frame: &mut Frame, area: Rect, c: &[String; 6], ok: bool, app: &App) {
    let t = &app.theme;
    let width = usize::from(area.width);
    let mut lines = vec![
        Line::styled(
            fit(&format!("{} {} {} at {}", c[0], c[1], c[3], c[2]), width),
            t.accent(),
        ),
        Line::styled(fit(&c[4], width), t.text()),
    ];
    let room = usize::from(area.height).saturating_sub(lines.len()).max(1);
    let mut result = layout::wrap(&format!("result: {}", c[5]), width);
    if result.len() > room {
        let rest = result.split_off(room - 1).join(" ");
        result.push(fit(&rest, width));
    }
    let style = if ok { t.ok() } else { t.error() };
    lines.extend(result.into_iter().map(|l| Line::styled(l, style)));
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn draw_output(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let fit = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = if app.output.is_empty() {
        vec![Line::styled("The target has printed nothing.", t.muted())]
    } else {
        let dropped = app.output.dropped();
        let mut lines: Vec<Line> = Vec::with_capacity(fit);
        if dropped > 0 {
            lines.push(Line::styled(
                format!("({dropped} earlier lines dropped: pvtui keeps the last ones)"),
                t.muted(),
            ));
        }
        let room = fit.saturating_sub(lines.len());
        lines.extend(
            app.output.last(room).into_iter().map(Line::raw), // escaped as they were read (show_bytes),
        );
        lines
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

//! The watches pane: expression, address, type, value, a sparkline of its
//! history, and its status said plainly; a chart on request.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph, Row, Table,
};

use crate::expr::Status;
use crate::poller::WatchId;
use crate::tui::app::{App, WatchRow};
use crate::tui::layout::scroll_offset;
use crate::tui::view::mark_selected;

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as a line of block characters, scaled between
/// their minimum and maximum.
pub fn sparkline(history: &std::collections::VecDeque<f64>, width: usize) -> String {
    let values: Vec<f64> = history
        .iter()
        .skip(history.len().saturating_sub(width))
        .copied()
        .collect();
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    values
        .iter()
        .map(|v| {
            if max > min {
                let level = ((v - min) / (max - min) * 7.0).round() as usize;
                SPARK[level.min(7)]
            } else {
                SPARK[3]
            }
        })
        .collect()
}

fn status(w: &WatchRow) -> (String, bool) {
    if let Some(err) = &w.freeze_error {
        return (format!("freeze failed: {err}"), true);
    }
    match (&w.status, &w.frozen) {
        (None, _) => ("waiting".into(), false),
        (Some(Status::Ok | Status::Changed), Some((addr, _))) => {
            (format!("frozen at {addr:#x}"), false)
        }
        (Some(Status::Ok | Status::Changed), None) => ("ok".into(), false),
        (Some(Status::NotResident), _) => ("not resident".into(), true),
        (Some(other), _) => (other.to_string(), true),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let (table_area, output_area) = if app.process.spawned && !app.output.is_empty() {
        let [a, b] = Layout::vertical([Constraint::Min(4), Constraint::Length(5)]).areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    if let Some(out) = output_area {
        let lines: Vec<Line> = app
            .output
            .lines
            .iter()
            .skip(app.output.lines.len().saturating_sub(3))
            .map(|l| Line::raw(l.clone()))
            .collect();
        let b = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border())
            .title(Span::styled(" target says ", t.muted()));
        frame.render_widget(Paragraph::new(lines).block(b), out);
    }
    if app.watches.is_empty() {
        let text = vec![
            Line::styled("No watches yet.", t.muted()),
            Line::styled(
                "Press a and type an address with a type, e.g. 0x7ffd1234:u32 or [heap]+0x10:i64.",
                t.muted(),
            ),
        ];
        frame.render_widget(Paragraph::new(text).block(block), table_area);
        return;
    }
    let rows_fit = table_area.height.saturating_sub(3) as usize;
    let offset = scroll_offset(app.watches.selected, rows_fit);
    let spark_width = 16;
    let rows: Vec<Row> = app
        .watches
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .map(|(i, w)| {
            let (status_text, bad) = status(w);
            let unread = match &w.status {
                Some(Status::NotResident) => Some("not resident"),
                Some(Status::Unmapped) => Some("unmapped"),
                Some(Status::Stalled) => Some("stalled"),
                Some(Status::Error(_)) => Some("error"),
                _ => None,
            };
            let value = match (w.value_text(), unread) {
                (Some(v), _) => Span::styled(
                    v,
                    if w.frozen.is_some() {
                        t.frozen()
                    } else if App::highlighted(w.changed_at) {
                        t.changed()
                    } else {
                        t.text()
                    },
                ),
                (None, Some(why)) => Span::styled(format!("({why})"), t.unread()),
                (None, None) => Span::styled("…", t.muted()),
            };
            let row = Row::new(vec![
                Span::raw(w.expr.clone()),
                Span::styled(
                    w.addr
                        .map(|a| format!("{a:#x}"))
                        .unwrap_or_else(|| "?".into()),
                    t.muted(),
                ),
                Span::styled(
                    w.ty.as_ref().map(ToString::to_string).unwrap_or_default(),
                    t.muted(),
                ),
                value,
                Span::styled(sparkline(&w.history, spark_width), t.sparkline()),
                Span::styled(status_text, if bad { t.warning() } else { t.muted() }),
            ]);
            mark_selected(row, i == app.watches.selected, t)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(15),
            Constraint::Length(8),
            Constraint::Length(28),
            Constraint::Length(spark_width as u16),
            Constraint::Length(16),
        ],
    )
    .header(
        Row::new([
            "expression",
            "address",
            "type",
            "value",
            "history",
            "status",
        ])
        .style(t.accent()),
    )
    .block(block);
    frame.render_widget(table, table_area);
}

/// A chart of one watch's history over the pane.
pub fn draw_chart(frame: &mut Frame, area: Rect, app: &App, id: WatchId) {
    let t = &app.theme;
    let Some(w) = app.watches.get(id) else {
        return;
    };
    let points: Vec<(f64, f64)> = w
        .history
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64, *v))
        .collect();
    let (min, max) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let (min, max) = if min < max {
        (min, max)
    } else {
        (min - 1.0, max + 1.0)
    };
    let n = points.len().max(2) as f64;
    let datasets = vec![
        Dataset::default()
            .name(w.expr.clone())
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.sparkline())
            .data(&points),
    ];
    let label = |v: f64| {
        Span::styled(
            format!("{v:.6}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string(),
            t.muted(),
        )
    };
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.accent())
                .title(Span::styled(
                    format!(
                        " {} — last {} values, any key closes ",
                        w.expr,
                        w.history.len()
                    ),
                    t.accent(),
                )),
        )
        .x_axis(Axis::default().bounds([0.0, n - 1.0]).style(t.muted()))
        .y_axis(
            Axis::default()
                .bounds([min, max])
                .labels(vec![label(min), label((min + max) / 2.0), label(max)])
                .style(t.muted()),
        )
        .style(t.base());
    frame.render_widget(Clear, area);
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_range() {
        let h: std::collections::VecDeque<f64> = [0.0, 7.0, 3.5, 7.0].into_iter().collect();
        assert_eq!(sparkline(&h, 10), "▁█▅█");
        assert_eq!(sparkline(&h, 2), "▁█");
        let flat: std::collections::VecDeque<f64> = [5.0, 5.0].into_iter().collect();
        assert_eq!(sparkline(&flat, 10), "▄▄");
    }
}

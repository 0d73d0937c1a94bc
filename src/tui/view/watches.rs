//! The watches pane: expression, address, type, value, the optional change
//! column, a sparkline of its history, and its status said plainly; under
//! the table, the selected watch whole; a chart on request.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph, Row, Table,
};

use crate::expr::Status;
use crate::poller::WatchId;
use crate::tui::app::{App, Sample, Trend, WatchRow};
use crate::tui::layout::{self, Column, column_widths, fit, fit_parts, scroll_offset};
use crate::tui::theme::Theme;
use crate::tui::view::{mark_selected, printable};

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// The sparkline's width when there is room for it.
const SPARK_WIDTH: u16 = 16;
/// Space between columns.
const SPACING: u16 = 1;

/// The last `width` values as a line of block characters, scaled between
/// their minimum and maximum.
pub fn sparkline<'a>(history: impl DoubleEndedIterator<Item = &'a Sample>, width: usize) -> String {
    let mut values: Vec<f64> = history.rev().take(width).map(|s| s.value).collect();
    values.reverse();
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

/// The watch's status in words, and whether it is bad news.
fn status(w: &WatchRow) -> (String, bool) {
    if let Some(err) = &w.freeze_error {
        return (format!("freeze failed: {err}"), true);
    }
    match (&w.status, &w.frozen) {
        (None, _) => ("waiting".into(), false),
        (Some(Status::Ok | Status::Changed), Some((addr, _))) => {
            (format!("frozen at {addr:#x}"), false)
        }
        // Changed while the highlight lasts, so a change is said, not only coloured.
        (Some(Status::Ok | Status::Changed), None) if App::highlighted(w.changed_at) => {
            ("changed".into(), false)
        }
        (Some(Status::Ok | Status::Changed), None) => ("ok".into(), false),
        (Some(Status::NotResident), _) => ("not resident".into(), true),
        (Some(other), _) => (other.to_string(), true),
    }
}

/// Why a watch has no value, shown in the value column.
fn unread(w: &WatchRow) -> Option<&'static str> {
    match &w.status {
        Some(Status::NotResident) => Some("not resident"),
        Some(Status::Unmapped) => Some("unmapped"),
        Some(Status::Stalled) => Some("stalled"),
        Some(Status::Error(_)) => Some("error"),
        _ => None,
    }
}

/// One watch's cells as text, before fitting.
struct Cells {
    expr: String,
    addr: String,
    ty: String,
    value: String,
    trend: String,
    status: String,
    bad: bool,
}

/// The expression, or inside a struct watch's tree the step to this row
/// (`.pos`, `[2]`) indented under its parent; `▸`/`▾` mark closed and
/// open structs and arrays.
fn tree_label(w: &WatchRow) -> String {
    let marker = match (w.is_aggregate(), w.expanded) {
        (true, true) => "▾ ",
        (true, false) => "▸ ",
        _ if w.depth > 0 => "  ",
        _ => "",
    };
    let text = if w.depth == 0 {
        w.expr.as_str()
    } else {
        let step = w.expr.rfind(['.', '[']).unwrap_or(0);
        &w.expr[step..]
    };
    format!("{}{marker}{}", "  ".repeat(w.depth), printable(text))
}

fn cells(w: &WatchRow, trend: Trend) -> Cells {
    let (status, bad) = status(w);
    let value = match (w.value_text(), unread(w)) {
        (Some(v), _) => v,
        (None, Some(why)) => format!("({why})"),
        (None, None) => "…".into(),
    };
    Cells {
        expr: tree_label(w),
        addr: w
            .addr
            .map(|a| format!("{a:#x}"))
            .unwrap_or_else(|| "?".into()),
        ty: w.ty.as_ref().map(ToString::to_string).unwrap_or_default(),
        value,
        trend: w.trend_text(trend).unwrap_or_default(),
        status,
        bad,
    }
}

fn width_of(text: &str) -> u16 {
    text.chars().count().min(u16::MAX as usize) as u16
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let has_output = app.process.spawned && !app.output.is_empty();
    let areas = layout::watches(area, has_output, !app.watches.is_empty());
    if let Some(out) = areas.output {
        let lines: Vec<Line> = app
            .output
            .last(3)
            .into_iter()
            .map(Line::raw) // escaped as they were read (show_bytes)
            .collect();
        let b = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border())
            .title(Span::styled(" target says ", t.muted()));
        frame.render_widget(Paragraph::new(lines).block(b), out);
    }
    frame.render_widget(block, areas.block);
    if app.watches.is_empty() {
        let hint = "No watches yet. Press a and type an address with a type, \
                    e.g. 0x7ffd1234:u32 or [heap]+0x10:i64.";
        let text: Vec<Line> = crate::tui::layout::wrap(hint, usize::from(areas.table.width))
            .into_iter()
            .map(|l| Line::styled(l, t.muted()))
            .collect();
        frame.render_widget(Paragraph::new(text), areas.table);
        return;
    }
    let trend = app.watches.trend;
    // Columns fit the rows on screen: a long list costs no more per frame
    // than a screenful.
    let rows_fit = usize::from(areas.table.height.saturating_sub(1));
    let offset = scroll_offset(app.watches.selected, rows_fit);
    let shown = app.watches.rows.iter().skip(offset).take(rows_fit);
    let all: Vec<Cells> = shown.map(|w| cells(w, trend)).collect();
    // One value column per other target, after the main one's.
    let peers = &app.peers.list;
    let peer_values: Vec<Vec<String>> = app
        .watches
        .rows
        .iter()
        .skip(offset)
        .take(rows_fit)
        .map(|w| peers.iter().map(|p| p.value_text(w.id)).collect())
        .collect();
    let peer_headers: Vec<String> = peers.iter().map(|p| format!("pid {}", p.pid)).collect();
    let want = |header: &str, f: &dyn Fn(&Cells) -> &str| {
        all.iter()
            .map(|c| width_of(f(c)))
            .max()
            .unwrap_or(0)
            .max(width_of(header))
    };
    let mut columns = vec![
        Column {
            want: want("expression", &|c| &c.expr),
            min: 10,
        },
        Column {
            want: want("address", &|c| &c.addr),
            min: 7,
        },
        Column {
            want: want("type", &|c| &c.ty),
            min: 4,
        },
        Column {
            want: want("value", &|c| &c.value),
            min: 8,
        },
    ];
    for (k, header) in peer_headers.iter().enumerate() {
        columns.push(Column {
            want: peer_values
                .iter()
                .filter_map(|v| v.get(k))
                .map(|v| width_of(v))
                .max()
                .unwrap_or(0)
                .max(width_of(header)),
            min: 6,
        });
    }
    let trend_at = 4 + peers.len();
    if trend != Trend::Hidden {
        columns.push(Column {
            want: want("change", &|c| &c.trend),
            min: 6,
        });
    }
    columns.push(Column {
        want: SPARK_WIDTH,
        min: 4,
    });
    columns.push(Column {
        want: want("status", &|c| &c.status),
        min: 8,
    });
    let widths = column_widths(areas.table.width, &columns, SPACING, 0);
    let spark_width = usize::from(widths[widths.len() - 2]);
    let cell = |text: &str, i: usize| fit(text, usize::from(widths[i]));
    let rows: Vec<Row> = app
        .watches
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .zip(&all)
        .zip(&peer_values)
        .map(|(((i, w), c), theirs)| {
            let value_style = if w.value.is_none() {
                if unread(w).is_some() {
                    t.unread()
                } else {
                    t.muted()
                }
            } else if w.frozen.is_some() {
                t.frozen()
            } else if App::highlighted(w.changed_at) {
                t.changed()
            } else {
                t.text()
            };
            let mut spans = vec![
                Span::raw(cell(&c.expr, 0)),
                Span::styled(cell(&c.addr, 1), t.muted()),
                Span::styled(cell(&c.ty, 2), t.muted()),
                Span::styled(cell(&c.value, 3), value_style),
            ];
            for (k, (text, peer)) in theirs.iter().zip(peers).enumerate() {
                // A value unlike the main target's stands out: a private
                // copy, or another offset of the object.
                let differs = peer
                    .value(w.id)
                    .is_some_and(|v| Some(v) != w.value.as_ref());
                let style = if differs {
                    t.changed()
                } else if peer.value(w.id).is_none() {
                    t.unread()
                } else {
                    t.text()
                };
                spans.push(Span::styled(cell(text, 4 + k), style));
            }
            if trend != Trend::Hidden {
                spans.push(Span::styled(cell(&c.trend, trend_at), t.muted()));
            }
            spans.push(Span::styled(
                sparkline(w.history.iter(), spark_width),
                t.sparkline(),
            ));
            spans.push(Span::styled(
                cell(&c.status, widths.len() - 1),
                if c.bad { t.warning() } else { t.muted() },
            ));
            mark_selected(Row::new(spans), i == app.watches.selected, t)
        })
        .collect();
    let mut header = vec!["expression", "address", "type", "value"];
    header.extend(peer_headers.iter().map(String::as_str));
    if trend != Trend::Hidden {
        header.push(match trend {
            Trend::Rate => "change/s",
            _ => "change",
        });
    }
    header.extend(["history", "status"]);
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| fit(h, usize::from(widths[i])))
        .collect();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .column_spacing(SPACING)
        .header(Row::new(header).style(t.accent()));
    frame.render_widget(table, areas.table);
    if let (Some(detail), Some(c)) = (
        areas.detail,
        all.get(app.watches.selected.saturating_sub(offset)),
    ) {
        draw_detail(frame, detail, c, t);
    }
}

/// The selected watch whole: what is cut in the table reads here.
fn draw_detail(frame: &mut Frame, area: Rect, c: &Cells, t: &Theme) {
    let width = usize::from(area.width);
    let line = |label: &str, text: &str| {
        format!(
            "{label}{}",
            fit(text, width.saturating_sub(label.chars().count()))
        )
    };
    let mut at = format!("{} → {}", c.expr, c.addr);
    if !c.ty.is_empty() {
        at.push_str(&format!(" as {}", c.ty));
    }
    let mut value = c.value.clone();
    if !c.trend.is_empty() {
        value.push_str(&format!("  ({})", c.trend));
    }
    let mut lines = vec![
        Line::styled(line("", &at), t.accent()),
        Line::styled(line("= ", &value), t.text()),
    ];
    // The status wraps over the lines left, so a long failure reads whole.
    let room = usize::from(area.height).saturating_sub(lines.len()).max(1);
    let mut status = layout::wrap(&format!("status: {}", c.status), width);
    if status.len() > room {
        let rest = status.split_off(room - 1).join(" ");
        status.push(fit(&rest, width));
    }
    let style = if c.bad { t.warning() } else { t.muted() };
    lines.extend(status.into_iter().map(|l| Line::styled(l, style)));
    frame.render_widget(Paragraph::new(lines), area);
}

/// `-2.4s`, `-24s`: how long before the latest reading.
fn ago(secs: f64) -> String {
    if secs.abs() < 10.0 {
        format!("-{:.1}s", secs.abs())
    } else {
        format!("-{:.0}s", secs.abs())
    }
}

/// A chart of one watch's history over the pane, with time on the x axis:
/// seconds before the latest reading.
pub fn draw_chart(frame: &mut Frame, area: Rect, app: &App, id: WatchId) {
    let t = &app.theme;
    let Some(w) = app.watches.get(id) else {
        return;
    };
    let latest = w.history.back().map(|s| s.at);
    let points: Vec<(f64, f64)> = w
        .history
        .iter()
        .map(|s| {
            let before = latest.map_or(0.0, |l| l.saturating_duration_since(s.at).as_secs_f64());
            (-before, s.value)
        })
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
    let span = points.first().map_or(0.0, |p| -p.0).max(0.001);
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
    let time = |secs: f64| Span::styled(ago(secs), t.muted());
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.accent())
                .title(Span::styled(
                    format!(
                        " {} ",
                        fit_parts(
                            &[
                                format!(
                                    "{} — last {} values",
                                    fit(&w.expr, usize::from(area.width) / 2),
                                    w.history.len()
                                ),
                                "any key closes".into(),
                            ],
                            ", ",
                            usize::from(area.width.saturating_sub(4)),
                        )
                    ),
                    t.accent(),
                )),
        )
        .x_axis(
            Axis::default()
                .bounds([-span, 0.0])
                .labels(vec![
                    time(span),
                    time(span / 2.0),
                    Span::styled("now", t.muted()),
                ])
                .style(t.muted()),
        )
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
    use std::time::Instant;

    fn samples(values: &[f64]) -> Vec<Sample> {
        let at = Instant::now();
        values.iter().map(|v| Sample { at, value: *v }).collect()
    }

    #[test]
    fn sparkline_scales_to_the_range() {
        let h = samples(&[0.0, 7.0, 3.5, 7.0]);
        assert_eq!(sparkline(h.iter(), 10), "▁█▅█");
        assert_eq!(sparkline(h.iter(), 2), "▁█");
        let flat = samples(&[5.0, 5.0]);
        assert_eq!(sparkline(flat.iter(), 10), "▄▄");
    }

    #[test]
    fn time_labels_count_back_from_the_latest() {
        assert_eq!(ago(0.01), "-0.0s");
        assert_eq!(ago(2.44), "-2.4s");
        assert_eq!(ago(24.4), "-24s");
    }
}

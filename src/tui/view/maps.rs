//! The maps pane: regions with perms, size, resident share and path,
//! filtered by what the user typed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::search::walk::region_label;
use crate::tui::app::App;
use crate::tui::layout::{self, Column, column_widths, columns_that_fit, fit, scroll_offset};
use crate::tui::view::{mark_selected, printable};
use crate::units::human_bytes;

/// Two spaces between columns: addresses side by side stay apart.
const SPACING: u16 = 2;

const HEADERS: [&str; 6] = ["start", "end", "perm", "      size", "res", "path"];

/// start, end, perms, size, residency, path: the addresses whole or not at
/// all; the path takes what is left, and gives way with a `…`.
const COLUMNS: [Column; 6] = [
    Column { want: 12, min: 12 },
    Column { want: 12, min: 12 },
    Column { want: 4, min: 4 },
    Column { want: 10, min: 10 },
    Column { want: 4, min: 4 },
    Column {
        want: u16::MAX,
        min: 10,
    },
];

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let visible = app.maps.visible();
    if visible.is_empty() {
        let text = if app.maps.maps.regions().is_empty() {
            "Reading the maps…"
        } else {
            "No region matches the filter (/ to change it, Esc in the filter to clear)."
        };
        frame.render_widget(
            Paragraph::new(Span::styled(text, t.muted())).block(block),
            area,
        );
        return;
    }
    let rows_fit = area.height.saturating_sub(3) as usize;
    let offset = scroll_offset(app.maps.selected, rows_fit);
    let regions = app.maps.maps.regions();
    let room = layout::inner(area).width;
    let kept = columns_that_fit(room, &COLUMNS, SPACING, &[4, 3, 2, 1, 5]);
    let shown: Vec<Column> = kept.iter().map(|&i| COLUMNS[i]).collect();
    let grow = kept.iter().position(|&i| i == 5).unwrap_or(kept.len() - 1);
    let mut widths = column_widths(room, &shown, SPACING, grow);
    if let [only] = widths.as_mut_slice() {
        *only = (*only).min(room);
    }
    // Each shown cell whole, or cut with `…` (a path keeps its file name).
    let cell = |text: &str, k: usize, col: usize| {
        let width = usize::from(widths[k]);
        if col == 5 {
            keep_tail(text, width)
        } else {
            fit(text, width)
        }
    };
    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_fit)
        .filter_map(|(i, idx)| {
            let r = regions.get(*idx)?;
            let resident = match app.maps.residency.get(&r.start) {
                Some(rss) if !r.is_empty() => format!("{:>3}%", rss * 100 / r.len()),
                _ => "   ?".into(),
            };
            let path = match (r.path.is_empty(), r.deleted) {
                (true, _) => region_label(r),
                (false, true) => format!("{} (deleted)", r.path),
                (false, false) => r.path.clone(),
            };
            let style = if !r.is_readable() {
                t.muted()
            } else {
                t.base()
            };
            let all = [
                format!("{:012x}", r.start),
                format!("{:012x}", r.end),
                r.perms.to_string(),
                format!("{:>10}", human_bytes(r.len())),
                resident,
                printable(&path),
            ];
            let cells: Vec<Span> = kept
                .iter()
                .enumerate()
                .map(|(k, &col)| Span::raw(cell(&all[col], k, col)))
                .collect();
            Some(mark_selected(
                Row::new(cells).style(style),
                i == app.maps.selected,
                t,
            ))
        })
        .collect();
    let header: Vec<String> = kept
        .iter()
        .enumerate()
        .map(|(k, &col)| cell(HEADERS[col], k, col))
        .collect();
    let table = Table::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .column_spacing(SPACING)
        .header(Row::new(header).style(t.accent()))
        .block(block);
    frame.render_widget(table, area);
}

/// `path` cut to `width` characters from the left, so the file name stays in
/// view: `…/lib/x86_64-linux-gnu/libc.so.6`.
fn keep_tail(path: &str, width: usize) -> String {
    let len = path.chars().count();
    if len <= width || width == 0 {
        return path.to_string();
    }
    let tail: String = path.chars().skip(len - (width - 1)).collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::keep_tail;

    #[test]
    fn long_paths_keep_their_file_name() {
        assert_eq!(keep_tail("/usr/lib/libc.so.6", 40), "/usr/lib/libc.so.6");
        assert_eq!(keep_tail("/usr/lib/libc.so.6", 10), "…libc.so.6");
    }
}

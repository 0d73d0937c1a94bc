//! The maps pane: regions with perms, size, resident share and path,
//! filtered by what the user typed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::search::walk::region_label;
use crate::tui::app::App;
use crate::tui::layout::scroll_offset;
use crate::tui::view::{mark_selected, printable};
use crate::units::human_bytes;

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
    // Borders, the fixed columns and the spaces between them.
    let path_width = usize::from(area.width).saturating_sub(2 + 13 + 13 + 5 + 11 + 5 + 5);
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
            let row = Row::new(vec![
                Span::raw(format!("{:012x}", r.start)),
                Span::raw(format!("{:012x}", r.end)),
                Span::raw(r.perms.to_string()),
                Span::raw(format!("{:>10}", human_bytes(r.len()))),
                Span::raw(resident),
                Span::raw(keep_tail(&printable(&path), path_width)),
            ])
            .style(style);
            Some(mark_selected(row, i == app.maps.selected, t))
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(13),
            Constraint::Length(13),
            Constraint::Length(5),
            Constraint::Length(11),
            Constraint::Length(5),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["start", "end", "perm", "      size", "res", "path"]).style(t.accent()))
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

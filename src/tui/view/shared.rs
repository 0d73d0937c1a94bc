//! The shared-memory map overlay (`S`): each object the targets map, then
//! each process's mapping of it; the selected object highlighted, and the
//! process Enter views it through marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::{App, SharedMap};
use crate::tui::layout::{fit, fit_parts};
use crate::tui::view::printable;
use crate::units::human_bytes;

/// The lines of the map, and the line the selected object starts on.
fn lines<'a>(map: &SharedMap, main: i32, app: &'a App, width: usize) -> (Vec<Line<'a>>, usize) {
    let t = &app.theme;
    let mut out = Vec::new();
    let mut at = 0;
    let objects = match &map.report {
        None => return (vec![Line::styled("collecting…", t.muted())], 0),
        Some(Err(why)) => return (vec![Line::styled(printable(why), t.error())], 0),
        Some(Ok(report)) if report.objects.is_empty() => {
            return (
                vec![Line::styled(
                    "no shared memory mapped by these targets",
                    t.muted(),
                )],
                0,
            );
        }
        Some(Ok(report)) => &report.objects,
    };
    let through = map.through.unwrap_or(main);
    for (i, object) in objects.iter().enumerate() {
        if i == map.selected {
            at = out.len();
        }
        let size = object.size.map_or_else(|| "?".into(), human_bytes);
        let deleted = if object.deleted { " (deleted)" } else { "" };
        let head = format!(
            "{}{deleted}  [{}]  size {size}  {} processes",
            printable(&object.name),
            object.key,
            object.processes()
        );
        let style = if i == map.selected {
            t.selected()
        } else {
            t.accent()
        };
        out.push(Line::styled(fit(&head, width), style));
        for m in &object.mappings {
            let how = if m.is_shared() { "shared" } else { "private" };
            let diverged = m
                .divergence
                .as_ref()
                .filter(|d| d.diverged > 0)
                .map(|d| format!("  {} of {} pages diverged", d.diverged, d.pages))
                .unwrap_or_default();
            let mark = if i == map.selected && m.pid == through {
                "▶"
            } else {
                " "
            };
            let text = format!(
                "{mark} {:>7} {:<16} {:#x}-{:#x} {} off {:#x} {how}{diverged}",
                m.pid,
                printable(&m.comm),
                m.start,
                m.end,
                m.perms,
                m.offset
            );
            let style = if diverged.is_empty() {
                t.text()
            } else {
                t.changed()
            };
            out.push(Line::styled(fit(&text, width), style));
        }
    }
    (out, at)
}

/// The overlay's title, then its keys, most needed first: a narrow
/// terminal drops the last whole.
const TITLE: [&str; 4] = [
    "Shared memory — ↑/↓ object",
    "v process",
    "Enter opens in hex",
    "any other key closes",
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(map) = &app.shared else {
        return;
    };
    let t = &app.theme;
    let popup = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    let inner_height = usize::from(popup.height.saturating_sub(2));
    let width = usize::from(popup.width.saturating_sub(2));
    let (lines, at) = lines(map, app.process.pid, app, width);
    // Keep the selected object's first lines in view.
    let scroll = at.saturating_sub(inner_height.saturating_sub(4).min(at));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent())
        .title(Span::styled(
            format!(" {} ", fit_parts(&TITLE, ", ", width.saturating_sub(2))),
            t.accent(),
        ))
        .style(t.base());
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(usize::from(u16::MAX)) as u16, 0)),
        popup,
    );
}

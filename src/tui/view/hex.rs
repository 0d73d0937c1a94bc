//! The live hex view: address, hex and ASCII; changed bytes highlighted;
//! bytes that were not read shown as `??`, with the reason in the status line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::tui::app::App;
use crate::tui::layout::HEX_COLS;

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let rows = area.height.saturating_sub(2) as u64;
    let data = app.hex.data.as_ref();
    let mut lines = Vec::with_capacity(rows as usize);
    for row in 0..rows {
        let row_addr = app.hex.base.saturating_add(row * HEX_COLS);
        let mut spans = vec![Span::styled(format!("{row_addr:012x}  "), t.muted())];
        let mut ascii = Vec::with_capacity(HEX_COLS as usize);
        for col in 0..HEX_COLS {
            let addr = row_addr.saturating_add(col);
            let byte = data.and_then(|d| {
                let off = addr.checked_sub(d.addr)? as usize;
                let b = *d.data.get(off)?;
                d.unread_at(addr).is_none().then_some(b)
            });
            let mut style = match byte {
                None => t.unread(),
                Some(_)
                    if app
                        .hex
                        .changed
                        .get(&addr)
                        .is_some_and(|at| App::highlighted(Some(*at))) =>
                {
                    t.changed()
                }
                Some(0) => t.muted(),
                Some(_) => t.base(),
            };
            if addr == app.hex.cursor {
                style = t.selected();
            }
            let text = byte
                .map(|b| format!("{b:02x}"))
                .unwrap_or_else(|| "??".into());
            spans.push(Span::styled(text, style));
            spans.push(Span::raw(if col == 7 { "  " } else { " " }));
            let c = match byte {
                Some(b) if b.is_ascii_graphic() || b == b' ' => (b as char).to_string(),
                Some(_) => ".".into(),
                None => "?".into(),
            };
            ascii.push(Span::styled(c, style));
        }
        spans.push(Span::styled("│", t.border()));
        spans.extend(ascii);
        spans.push(Span::styled("│", t.border()));
        lines.push(Line::from(spans));
    }
    let block = block.title_bottom(Span::styled(
        format!(" {} ", cursor_status(app)),
        status_style(app),
    ));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn status_style(app: &App) -> ratatui::style::Style {
    let unread = app
        .hex
        .data
        .as_ref()
        .and_then(|d| d.unread_at(app.hex.cursor));
    if unread.is_some() {
        app.theme.warning()
    } else {
        app.theme.accent()
    }
}

/// What is under the cursor: where it is, and its value or why it was not read.
pub fn cursor_status(app: &App) -> String {
    let cursor = app.hex.cursor;
    let region = app
        .maps
        .maps
        .find(cursor)
        .map(|r| {
            let name = if r.path.is_empty() {
                "anonymous"
            } else {
                r.name()
            };
            format!("{name} {} +{:#x}", r.perms, cursor - r.start)
        })
        .unwrap_or_else(|| "unmapped".into());
    let Some(data) = &app.hex.data else {
        return format!("{cursor:#x} · {region} · reading…");
    };
    if let Some(why) = data.unread_at(cursor) {
        let gap = data
            .gaps
            .iter()
            .find(|g| g.addr <= cursor && cursor < g.end());
        let span = gap
            .map(|g| format!(" ({:#x}..{:#x})", g.addr, g.end()))
            .unwrap_or_default();
        return format!("{cursor:#x} · {region} · ?? {why}{span}");
    }
    let off = (cursor - data.addr) as usize;
    let byte = data.data.get(off).copied().unwrap_or(0);
    let value = match app.hex.pointer_at_cursor() {
        Some(p) if app.maps.maps.find(p).is_some() => {
            format!("u8 {byte} · ptr {p:#x} → Enter follows")
        }
        Some(p) => format!("u8 {byte} · u64 {p}"),
        None => format!("u8 {byte}"),
    };
    format!("{cursor:#x} · {region} · {value}")
}

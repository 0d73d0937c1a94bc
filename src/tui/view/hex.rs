//! The live hex view: address, hex and ASCII; changed bytes highlighted;
//! bytes that were not read shown as `??`, with the reason in the status
//! line; under the bytes, what those at the cursor read as each type.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::process::Maps;
use crate::search::walk::region_label;
use crate::tui::app::App;
use crate::tui::layout;

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let t = &app.theme;
    let inner = layout::inner(area);
    let room = layout::hex_inspector(area.width);
    let rows = u64::from(inner.height.saturating_sub(room));
    let data = app.hex.data.as_ref();
    let cols = layout::hex_cols(area.width);
    let mut lines = Vec::with_capacity(rows as usize);
    for row in 0..rows {
        // Rows past the top of the address space do not exist: stop there.
        let Some(row_addr) = app.hex.base.checked_add(row * cols) else {
            break;
        };
        let mut spans = vec![Span::styled(format!("{row_addr:012x}  "), t.muted())];
        let mut ascii = Vec::with_capacity(cols as usize);
        for col in 0..cols {
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
            spans.push(Span::raw(if col + 1 == cols / 2 { "  " } else { " " }));
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
    let status = layout::fit(
        &cursor_status(app),
        usize::from(area.width.saturating_sub(4)),
    );
    let block = block.title_bottom(Span::styled(format!(" {status} "), status_style(app)));
    let width = usize::from(inner.width);
    let mut shown = layout::flow(&inspect(app), width, "  ");
    let room = usize::from(room);
    if shown.len() > room {
        // What does not fit joins the last line, which then ends with `…`.
        let rest = shown.split_off(room - 1).join("  ");
        shown.push(layout::fit_end(&rest, width));
    }
    let pad = (inner.height as usize).saturating_sub(lines.len() + shown.len());
    lines.extend((0..pad).map(|_| Line::raw("")));
    lines.extend(
        shown
            .into_iter()
            .map(|l| Line::styled(layout::fit_end(&l, width), t.accent())),
    );
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
        .hex_maps()
        .find(cursor)
        .map(|r| {
            format!(
                "{} {} +{:#x}",
                super::printable(&region_label(r)),
                r.perms,
                cursor - r.start
            )
        })
        .unwrap_or_else(|| "unmapped".into());
    let Some(data) = &app.hex.data else {
        return format!("{cursor:#x} · {region} · reading…");
    };
    let region = match &app.hex.label {
        Some((at, label)) if *at == cursor => format!("{region} · {}", super::printable(label)),
        _ => region,
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
    format!("{cursor:#x} · {region}")
}

/// Where `addr` lies, as a user would name it: `libc.so.6+0x1a2b` (from the
/// start of the file's first mapping), `[heap]+0x40`, or none when unmapped.
pub fn place(maps: &Maps, addr: u64) -> Option<String> {
    let r = maps.find(addr)?;
    let base = if r.is_file() {
        maps.regions()
            .iter()
            .filter(|o| o.path == r.path)
            .map(|o| o.start)
            .min()
            .unwrap_or(r.start)
    } else {
        r.start
    };
    Some(format!("{}+{:#x}", region_label(r), addr - base))
}

/// The bytes at the cursor read as each type (little-endian), those that
/// were read in full; and where they point, as a pointer.
fn inspect(app: &App) -> Vec<String> {
    let hex = &app.hex;
    let mut parts = Vec::new();
    let le = |n: usize| -> Option<u64> {
        let bytes = hex.bytes_at_cursor(n)?;
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(bytes);
        Some(u64::from_le_bytes(a))
    };
    if let Some(x) = le(1) {
        parts.push(format!("u8 {x}  i8 {}", x as u8 as i8));
    }
    if let Some(x) = le(2) {
        parts.push(format!("u16 {x}  i16 {}", x as u16 as i16));
    }
    if let Some(x) = le(4) {
        parts.push(format!("u32 {x}  i32 {}", x as u32 as i32));
    }
    if let Some(x) = le(8) {
        parts.push(format!("u64 {x}  i64 {}", x as i64));
        // The symbol's name once the poller gave it (the main target's
        // only); the region's meanwhile, in anonymous memory, and through
        // another target.
        let named = (app.hex.through.is_none())
            .then(|| hex.pointee_of(x).map(super::printable))
            .flatten();
        match named.or_else(|| place(app.hex_maps(), x).map(|p| super::printable(&p))) {
            Some(at) => parts.push(format!("ptr {x:#x} → {at} (Enter follows)")),
            None => parts.push(format!("ptr {x:#x} (not mapped)")),
        }
    }
    if let Some(x) = le(4) {
        // Through its shortest text: f32 digits, not f64's.
        let v = f32::from_bits(x as u32);
        let v = v.to_string().parse().unwrap_or(f64::from(v));
        parts.push(format!("f32 {}", float(v)));
    }
    if let Some(x) = le(8) {
        parts.push(format!("f64 {}", float(f64::from_bits(x))));
    }
    parts
}

/// A float short enough for one line: plain in the usual range, else with
/// an exponent (`4.6e-310`).
fn float(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-6..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

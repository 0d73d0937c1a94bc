//! Drawing: `draw(&App)` renders the state and never changes it.
//!
//! Where each part goes is [`crate::tui::layout`]'s, so the update code can
//! map mouse rows and page sizes without asking the renderer.

mod header;
mod help;
mod hex;
mod hunt;
mod log;
mod maps;
mod search;
mod shared;
mod watches;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row};

use crate::tui::app::{App, Pane};
use crate::tui::keys::{Action, Hint};
use crate::tui::layout::{areas, fit};
use crate::tui::theme::Theme;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    frame.render_widget(Block::default().style(app.theme.base()), area);
    let a = areas(area);
    header::draw(frame, a.header, app);
    draw_tabs(frame, a.tabs, app);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border())
        .title(Span::styled(
            format!(
                " {} ",
                fit(&pane_title(app), usize::from(area.width.saturating_sub(4)))
            ),
            app.theme.accent(),
        ));
    match app.pane {
        Pane::Watches => watches::draw(frame, a.body, block, app),
        Pane::Maps => maps::draw(frame, a.body, block, app),
        Pane::Hex => hex::draw(frame, a.body, block, app),
        Pane::Search => search::draw(frame, a.body, block, app),
        Pane::Log => log::draw(frame, a.body, block, app),
        Pane::Output => log::draw_output(frame, a.body, block, app),
        Pane::Shared => shared::draw(frame, a.body, block, app),
    }
    draw_footer(frame, a.footer, app);
    if let Some(id) = app.watches.chart {
        watches::draw_chart(frame, a.body, app, id);
    }
    if let Some(view) = &app.hunt {
        hunt::draw(frame, a.body, app, view);
    }
    if app.help {
        help::draw(frame, area, app);
    }
}

fn pane_title(app: &App) -> String {
    match app.pane {
        Pane::Watches => format!("Watches ({})", app.watches.len()),
        Pane::Maps if !app.maps.filter.is_empty() => {
            format!(
                "Maps ({} of {}, filter {:?})",
                app.maps.visible().len(),
                app.maps.maps.regions().len(),
                app.maps.filter
            )
        }
        Pane::Maps => format!("Maps ({})", app.maps.maps.regions().len()),
        // With several targets, the process the bytes are read through.
        Pane::Hex if !app.peers.is_empty() => format!(
            "Hex {:#x} through {} {}",
            app.hex.base,
            app.hex_pid(),
            printable(app.hex_name())
        ),
        Pane::Hex => format!("Hex {:#x}", app.hex.base),
        Pane::Search => "Search".to_string(),
        Pane::Log => format!("Write log ({})", app.log.len()),
        Pane::Output if app.process.spawned => "Target output".to_string(),
        Pane::Output => "Target output (only for targets pvtui started)".to_string(),
        Pane::Shared => shared::title(app),
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App) {
    let global = [
        Hint {
            actions: &[Action::Help],
            label: "help",
        },
        Hint {
            actions: &[Action::Quit],
            label: "quit",
        },
    ];
    let global: Vec<String> = global.iter().filter_map(|h| app.keys.hint(h)).collect();
    let global = format!(" {}", global.join("  "));
    // On a narrow terminal only the current pane's tab keeps its title.
    let full: usize = Pane::ALL
        .iter()
        .map(|p| {
            let key = app
                .keys
                .primary(p.action())
                .map_or(0, |k| k.to_string().len() + 1);
            key + p.title().len() + 3
        })
        .sum::<usize>()
        + 1
        + global.chars().count();
    let short = full > usize::from(area.width);
    let mut spans = vec![Span::raw(" ")];
    for pane in Pane::ALL {
        let style = if pane == app.pane {
            app.theme.selected()
        } else {
            app.theme.muted()
        };
        let key = app
            .keys
            .primary(pane.action())
            .map(|k| format!("{k} "))
            .unwrap_or_default();
        let title = if short && pane != app.pane && !key.is_empty() {
            ""
        } else {
            pane.title()
        };
        let key = if title.is_empty() {
            key.trim_end()
        } else {
            &key
        };
        spans.push(Span::styled(format!(" {key}{title} "), style));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(global, app.theme.muted()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The footer's hints for the pane, from the key map, as many as fit in
/// `width`; when some are left out, the help key says where they all are.
fn hints(app: &App, width: usize) -> String {
    let mut parts: Vec<String> = app
        .pane
        .hints()
        .iter()
        // Reading through another target needs one to be shown.
        .filter(|h| {
            !(app.pane == Pane::Hex && app.peers.is_empty() && h.actions == [Action::Through])
        })
        .filter_map(|h| app.keys.hint(h))
        .collect();
    match app.pane {
        // Esc always stops a search; it is not a rebindable action.
        Pane::Search => parts.push("Esc stop".into()),
        Pane::Output => parts.push("lines the target printed (newest last)".into()),
        _ => {}
    }
    let full = parts.join("  ");
    if full.chars().count() <= width {
        return full;
    }
    let more = app
        .keys
        .hint(&Hint {
            actions: &[Action::Help],
            label: "all keys",
        })
        .map(|h| format!("  … {h}"))
        .unwrap_or_default();
    let room = width.saturating_sub(more.chars().count());
    let mut line = String::new();
    for part in parts {
        let sep = if line.is_empty() { 0 } else { 2 };
        if line.chars().count() + sep + part.chars().count() > room {
            break;
        }
        if sep > 0 {
            line.push_str("  ");
        }
        line.push_str(&part);
    }
    line.push_str(&more);
    line
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    let [first, second] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let Some(input) = &app.input else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    " {}",
                    hints(app, usize::from(second.width).saturating_sub(1))
                ),
                app.theme.muted(),
            )),
            second,
        );
        return;
    };
    let prompt = input.purpose.prompt();
    let line = Line::from(vec![
        Span::styled(format!(" {prompt}"), app.theme.accent()),
        // A completed name comes from the target: shown escaped, and the
        // cursor placed after the escaped text before it.
        Span::styled(printable(&input.text), Style::default()),
    ]);
    frame.render_widget(Paragraph::new(line), first);
    let prompt_width = 1 + prompt.chars().count() as u16;
    let before: String = input.text.chars().take(input.cursor).collect();
    let cursor_x = first.x + prompt_width + printable(&before).chars().count() as u16;
    frame.set_cursor_position((cursor_x.min(first.right().saturating_sub(1)), first.y));
    let width = usize::from(second.width);
    if let Some(names) = &input.candidates {
        let text = fit(
            &format!("{}{}", " ".repeat(prompt_width as usize), printable(names)),
            width,
        );
        frame.render_widget(Paragraph::new(Line::styled(text, app.theme.ok())), second);
    } else if let Some(err) = &input.error {
        // The caret sits under the column the error points at; a message too
        // long for the rest of the line is cut in its middle, never silently.
        let at = (prompt_width as usize + err.column).min(width.saturating_sub(12));
        let text = format!(
            "{}^ {}",
            " ".repeat(at),
            fit(&err.message, width.saturating_sub(at + 2))
        );
        frame.render_widget(
            Paragraph::new(Line::styled(text, app.theme.error())),
            second,
        );
    } else if let Some(hint) = &input.hint {
        let hint = crate::text::escape_lines(hint).replace('\n', " ");
        let pad = " ".repeat(prompt_width as usize);
        let mut text = format!("{pad}{hint}   (Enter to confirm, Esc to cancel)");
        if text.chars().count() > width {
            text = fit(&format!(" {hint}"), width);
        }
        frame.render_widget(Paragraph::new(Line::styled(text, app.theme.ok())), second);
    } else {
        let text = " Enter to confirm, Esc to cancel";
        frame.render_widget(
            Paragraph::new(Line::styled(text, app.theme.muted())),
            second,
        );
    }
}

/// The text a drawn screen shows, a line a row, trailing blanks cut: what
/// the view tests and snapshots compare.
///
/// ```
/// use ratatui::{buffer::Buffer, layout::Rect};
/// let mut buffer = Buffer::empty(Rect::new(0, 0, 4, 2));
/// buffer.set_string(0, 0, "ab", ratatui::style::Style::default());
/// assert_eq!(pvtui::tui::view::screen_text(&buffer), "ab\n");
/// ```
pub fn screen_text(buffer: &ratatui::buffer::Buffer) -> String {
    let width = usize::from(buffer.area.width).max(1);
    buffer
        .content
        .chunks(width)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` escaped by the one helper ([`crate::text::escape`]): control,
/// invisible and bidi characters, so text the target controls (its name,
/// paths, symbols) cannot drive the terminal or reorder a line.
pub(super) fn printable(text: &str) -> String {
    crate::text::escape(text).into_owned()
}

/// `row` in the selection style when it is the selected one.
pub(super) fn mark_selected<'a>(row: Row<'a>, selected: bool, t: &Theme) -> Row<'a> {
    if selected {
        row.style(t.selected())
    } else {
        row
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tree_tests;

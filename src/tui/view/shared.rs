//! The Shared pane: each object the targets map, then each process's
//! mapping of it; the selected object highlighted, and the process Enter
//! opens it in marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use crate::tui::app::{App, SharedMap};
use crate::tui::layout::{self, fit};
use crate::tui::view::printable;
use crate::units::human_bytes;

/// The lines of the map ([`SharedMap::first_line`] says where each object starts).
fn lines<'a>(map: &SharedMap, main: i32, app: &'a App, width: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut out = Vec::new();
    let objects = match &map.report {
        None if map.collecting => return vec![Line::styled("collecting…", t.muted())],
        None => return vec![Line::styled("not collected yet", t.muted())],
        Some(Err(why)) => return vec![Line::styled(printable(why), t.error())],
        Some(Ok(report)) if report.objects.is_empty() => {
            return vec![Line::styled(
                "no shared memory mapped by these targets",
                t.muted(),
            )];
        }
        Some(Ok(report)) => &report.objects,
    };
    // The mapping Enter opens: the chosen process's of the lowest offset.
    let chosen = map.target(main);
    for (i, object) in objects.iter().enumerate() {
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
            let mark = if i == map.selected && chosen == Some((m.pid, m.start)) {
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
    out
}

/// The pane's title: how many objects, and whether a collection is under way.
pub fn title(app: &App) -> String {
    let map = &app.shared;
    let busy = if map.collecting {
        ", collecting…"
    } else {
        ""
    };
    match &map.report {
        Some(Ok(report)) => format!(
            "Shared memory ({} objects, {} processes{busy})",
            report.objects.len(),
            report.processes
        ),
        _ => format!(
            "Shared memory{}",
            if map.collecting {
                " (collecting…)"
            } else {
                ""
            }
        ),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, block: Block, app: &App) {
    let map = &app.shared;
    let inner = layout::inner(area);
    let inner_height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let lines = lines(map, app.process.pid, app, width);
    let scroll = map.scroll(inner_height);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(usize::from(u16::MAX)) as u16, 0)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::shared::{Divergence, Mapping, Method, ObjectKey, Report, SharedObject};
    use crate::tui::app::{Pane, Peer};
    use crate::tui::event::Event;
    use crate::tui::keys::KeyMap;
    use crate::tui::view::tests::{app_with, press, screen};

    fn mapping(pid: i32, start: u64, offset: u64, shared: bool) -> Mapping {
        let comm = if pid == 4242 { "game" } else { "worker" };
        Mapping::rw(pid, comm, start, offset, shared)
    }

    fn report() -> Report {
        let mut private = mapping(4343, 0x7f10_0000_0000, 0, false);
        private.divergence = Some(Divergence {
            method: Method::Pagemap,
            pages: 2,
            diverged: 1,
            first: vec![0x1000],
            unknown: 0,
        });
        Report {
            objects: vec![
                SharedObject::ring(
                    77,
                    vec![
                        mapping(4242, 0x7f00_0000_0000, 0, true),
                        mapping(4343, 0x7e00_0000_0000, 0x1000, true),
                        private,
                    ],
                ),
                SharedObject {
                    key: ObjectKey::Memfd {
                        dev: "0:1".into(),
                        inode: 9,
                    },
                    name: "/memfd:jobs".into(),
                    deleted: true,
                    size: Some(0x2000),
                    extent: 0x2000,
                    resident: None,
                    mappings: vec![
                        mapping(4242, 0x7f20_0000_0000, 0, true),
                        mapping(4343, 0x7e20_0000_0000, 0, true),
                    ],
                },
            ],
            processes: 2,
            skipped: Default::default(),
        }
    }

    #[test]
    fn the_shared_pane_lists_each_object_and_each_process_mapping_it() {
        let (mut app, _rx) = app_with(KeyMap::default(), (100, 20));
        app.peers.list.push(Peer::detached(4343, "worker"));
        press(&mut app, KeyCode::Char('7'));
        assert_eq!(app.pane, Pane::Shared);
        app.update(Event::Shared(Ok(report())));
        insta::assert_snapshot!("shared_pane_two_targets", screen(&app));
        // `v` marks the other process; j moves to the next object.
        press(&mut app, KeyCode::Char('v'));
        let text = screen(&app);
        assert!(text.contains("▶    4343"), "{text}");
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(app.shared.selected, 1);
        insta::assert_snapshot!("shared_pane_second_object", screen(&app));
        // A click selects the object whose lines it lands on: header 2 rows,
        // tabs 1, the border 1, then the first object's 4 lines.
        let click = |row| {
            Event::Mouse(crossterm::event::MouseEvent {
                kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
                column: 10,
                row,
                modifiers: crossterm::event::KeyModifiers::NONE,
            })
        };
        app.update(click(6));
        assert_eq!(app.shared.selected, 0);
        app.update(click(9));
        assert_eq!(app.shared.selected, 1);
        // Below the last object, nothing changes.
        app.update(click(15));
        assert_eq!(app.shared.selected, 1);
    }

    #[test]
    fn the_hex_title_names_the_process_it_reads_through() {
        let (mut app, _rx) = app_with(KeyMap::default(), (100, 12));
        app.peers.list.push(Peer::detached(4343, "wor\u{1b}ker"));
        app.open_hex(0x7000);
        assert!(screen(&app).contains("Hex 0x7000 through 4242 game"));
        app.hex.through = Some(4343);
        let text = screen(&app);
        assert!(
            text.contains("Hex 0x7000 through 4343 wor\\u{1b}ker"),
            "{text}"
        );
        assert!(text.contains("v through process"), "{text}");
    }
}

//! The hunt overlay: pointer chains (chain and watch expression), or the
//! instructions writing a watch (count, threads, where), with the job's
//! status above them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};

use crate::tui::app::App;
use crate::tui::hunt::{HuntList, HuntView};
use crate::tui::layout::{fit, scroll_offset};
use crate::tui::view::{mark_selected, printable};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, view: &HuntView) {
    let t = &app.theme;
    let (what, keys) = if view.is_pointers() {
        ("Pointer chains to", "Enter adds as a watch · Esc closes")
    } else {
        ("Who writes", "Esc stops and removes the breakpoints")
    };
    let title = format!(" {what} {} — {keys} ", printable(&view.subject));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent())
        .title(Span::styled(
            fit(&title, usize::from(area.width.saturating_sub(2))),
            t.accent(),
        ))
        .style(t.base());
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let [status, table] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    let style = if view.running { t.accent() } else { t.muted() };
    frame.render_widget(
        Paragraph::new(Line::styled(printable(&view.status), style)).wrap(Wrap { trim: true }),
        status,
    );
    let rows_fit = table.height.saturating_sub(1) as usize;
    let offset = scroll_offset(view.selected, rows_fit);
    let width = usize::from(table.width);
    let (header, widths, cells): (Row, Vec<Constraint>, Vec<Vec<String>>) = match &view.list {
        HuntList::Pointers(chains) => {
            let half = width.saturating_sub(1) / 2;
            (
                Row::new(vec![fit("chain", half), fit("watch expression", half)]),
                vec![
                    Constraint::Length(half as u16),
                    Constraint::Length(half as u16),
                ],
                chains
                    .iter()
                    .skip(offset)
                    .take(rows_fit)
                    .map(|c| vec![fit(&c.text, half), fit(&c.expr, half)])
                    .collect(),
            )
        }
        HuntList::Writers(report) => {
            let rest = width.saturating_sub(9 + 7 + 18 + 3);
            // The access instruction gets its own column with the room the
            // places leave, when that is at least 12 columns; else none.
            let longest = |text: fn(&crate::session::WriterRow) -> Option<&str>| {
                report
                    .rows
                    .iter()
                    .filter_map(text)
                    .map(|a| a.chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let places = longest(|r| Some(r.place.as_str())).min(rest.saturating_sub(13));
            let access = longest(|r| r.access.as_deref())
                .min(rest.saturating_sub(places + 1))
                .max(6);
            let access = if longest(|r| r.access.as_deref()) > 0 && access >= 12 {
                access
            } else {
                0
            };
            let place = rest.saturating_sub(access + usize::from(access > 0));
            let mut header = vec![
                format!("{:>9}", "count"),
                format!("{:>7}", "threads"),
                fit("ip", 18),
                fit("where", place),
            ];
            let mut widths = vec![
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(18),
                Constraint::Length(place as u16),
            ];
            if access > 0 {
                header.push(fit("access", access));
                widths.push(Constraint::Length(access as u16));
            }
            (
                Row::new(header),
                widths,
                report
                    .rows
                    .iter()
                    .skip(offset)
                    .take(rows_fit)
                    .map(|r| {
                        let mut cells = vec![
                            format!("{:>9}", r.count),
                            format!("{:>7}", r.threads),
                            format!("{:#x}", r.ip),
                            fit(&printable(&r.place), place),
                        ];
                        if access > 0 {
                            cells.push(fit(&printable(r.access.as_deref().unwrap_or("")), access));
                        }
                        cells
                    })
                    .collect(),
            )
        }
    };
    let rows: Vec<Row> = cells
        .into_iter()
        .enumerate()
        .map(|(k, c)| mark_selected(Row::new(c), offset + k == view.selected, t))
        .collect();
    frame.render_widget(
        Table::new(rows, widths)
            .column_spacing(1)
            .header(header.style(t.accent())),
        table,
    );
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::session::{FoundChain, WriterRow, WritersReport};
    use crate::tui::app::Pane;
    use crate::tui::hunt::{HuntList, HuntView};
    use crate::tui::keys::KeyMap;
    use crate::tui::search::{Hit, SearchState};
    use crate::tui::view::tests::{app_with, press, screen};

    fn chains() -> HuntList {
        HuntList::Pointers(vec![
            FoundChain {
                text: "game+0x4010 -> +0x8 -> +0x18 -> +0xc".into(),
                expr: "*(*(*game!g_world+0x8)+0x18)+0xc:u32".into(),
            },
            FoundChain {
                text: "libc.so.6+0x1d8a0 -> +0x40 -> +0x18 -> +0xc".into(),
                expr: "*(*(*([libc.so.6]+0x1d8a0)+0x40)+0x18)+0xc:u32".into(),
            },
        ])
    }

    #[test]
    fn pointer_chains_overlay() {
        let (mut app, _rx) = app_with(KeyMap::default(), (100, 16));
        app.hunt = Some(HuntView::listing(
            "score:u32 at 0x55d0c0ffe0",
            chains(),
            "2 chains from 6613 pointers in 0.02 s · Enter adds one as a watch",
        ));
        press(&mut app, KeyCode::Down);
        insta::assert_snapshot!(screen(&app));
    }

    #[test]
    fn writers_overlay() {
        let (mut app, _rx) = app_with(KeyMap::default(), (100, 14));
        let report = WritersReport {
            rows: vec![
                WriterRow {
                    ip: 0x5555_5555_52a9,
                    count: 1830,
                    threads: 2,
                    place: "add_score+0x19 in game (game.c:51)".into(),
                    access: Some("add dword ptr [rax+0xc], edi".into()),
                },
                WriterRow {
                    ip: 0x5555_5555_5301,
                    count: 3,
                    threads: 1,
                    place: "main+0x81 in game".into(),
                    access: None,
                },
            ],
            threads: 3,
            lost: 0,
            refused: Vec::new(),
        };
        app.hunt = Some(HuntView::listing(
            "score:u32 at 0x55d0c0ffe0",
            HuntList::Writers(report),
            "1833 accesses by 2 instructions · 3 threads watched · each IP is the instruction after the access",
        ));
        insta::assert_snapshot!(screen(&app));
        // Esc closes it.
        press(&mut app, KeyCode::Esc);
        assert!(app.hunt.is_none());
    }

    #[test]
    fn scan_results_named_by_place() {
        let (mut app, _rx) = app_with(KeyMap::default(), (100, 14));
        app.set_pane(Pane::Search);
        let mut search = SearchState::default();
        search.query = "u32 unknown · increased · unchanged".into();
        search.found = 3;
        search.summary = Some("3 kept · 41 of 41 places re-read in 0.01 s".into());
        search.hits = [
            (0x5555_5555_8010, "game!g_hits"),
            (0x5555_5555_9a3c, "[game]+0x5a3c"),
            (0x5555_5556_b2ac, "[heap]"),
        ]
        .into_iter()
        .map(|(addr, place)| Hit {
            addr,
            len: 4,
            place: place.into(),
            preview: Vec::new(),
            value: Some("17".into()),
        })
        .collect();
        app.search = search;
        insta::assert_snapshot!(screen(&app));
    }
}

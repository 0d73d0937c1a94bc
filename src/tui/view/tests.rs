//! The views drawn from app state on a `TestBackend`: what a screen shows
//! for given keys, watches and sizes.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::poller::Command;
use crate::process::Access;
use crate::tui::app::{App, AppOptions};
use crate::tui::event::Event;
use crate::tui::keys::KeyMap;
use crate::tui::theme::Theme;

pub(super) fn app_with(keys: KeyMap, size: (u16, u16)) -> (App, Receiver<Command>) {
    let (tx, rx) = channel();
    let options = AppOptions {
        pid: 4242,
        name: "game".into(),
        access: Access {
            pidfd: true,
            nowait: true,
        },
        interval: Duration::from_millis(100),
        theme: Theme::fallback(),
        keys,
        spawned: false,
    };
    let mut app = App::new(options, tx);
    app.size = size;
    (app, rx)
}

pub(super) fn screen(app: &App) -> String {
    let mut terminal =
        Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test terminal");
    terminal
        .draw(|f| super::draw(f, app))
        .expect("draw on a test backend");
    let buffer = terminal.backend().buffer();
    let width = usize::from(buffer.area.width);
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

pub(super) fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(
        KeyEvent::new(code, KeyModifiers::NONE),
        Instant::now(),
    ));
}

fn freeze_on_shift_f() -> KeyMap {
    let mut o = BTreeMap::new();
    o.insert("freeze".to_string(), vec!["F".to_string()]);
    KeyMap::with_overrides(&o).expect("a valid override")
}

#[test]
fn a_rebound_key_shows_in_the_footer_and_the_help() {
    let (mut app, _rx) = app_with(freeze_on_shift_f(), (120, 40));
    app.queue_watches(vec!["0x1000:u32".into()]);
    let watches = screen(&app);
    let footer = watches.lines().last().expect("a footer");
    assert!(footer.contains("F freeze"), "{footer}");
    assert!(!footer.contains("f freeze"), "{footer}");
    press(&mut app, KeyCode::Char('?'));
    let help = screen(&app);
    let row = help
        .lines()
        .find(|l| l.contains("freeze / unfreeze"))
        .expect("freeze in the help");
    let keys = &row[..row.find("freeze / unfreeze").unwrap_or(0)];
    let keys = keys.trim_end();
    assert!(keys.ends_with(" F") || keys.ends_with("│F"), "{row}");
    insta::assert_snapshot!("rebound_freeze_watches", watches);
    insta::assert_snapshot!("rebound_freeze_help", help);
}

#[test]
fn the_help_fits_or_scrolls_at_80x24() {
    let (mut app, _rx) = app_with(KeyMap::default(), (80, 24));
    press(&mut app, KeyCode::Char('?'));
    let top = screen(&app);
    assert!(top.contains("PageDown Ctrl-d  page down") || top.contains("lines 1–"));
    assert!(top.contains("j/k scroll"), "{top}");
    // Scrolled to the end, the last entries show and nothing is cut.
    press(&mut app, KeyCode::End);
    assert!(app.help, "scrolling keeps the help open");
    let end = screen(&app);
    assert!(end.contains("Esc cancels"), "{end}");
    assert!(end.contains("search: narrow a value scan"), "{end}");
    insta::assert_snapshot!("help_80x24_top", top);
    insta::assert_snapshot!("help_80x24_end", end);
    press(&mut app, KeyCode::Char('x'));
    assert!(!app.help, "any other key closes it");
}

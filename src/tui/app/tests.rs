//! Unit tests of the app: events in, state and poller commands out.

use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use std::time::Instant;

fn app() -> (App, std::sync::mpsc::Receiver<Command>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let options = AppOptions {
        pid: 1,
        name: "t".into(),
        access: Access {
            pidfd: false,
            nowait: false,
        },
        interval: Duration::from_millis(100),
        theme: Theme::fallback(),
        keys: KeyMap::default(),
        spawned: false,
    };
    let mut app = App::new(options, tx);
    app.size = (100, 30);
    (app, rx)
}

fn mouse(kind: MouseEventKind, row: u16) -> Event {
    Event::Mouse(MouseEvent {
        kind,
        column: 5,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn mouse_clicks_select_rows_and_the_wheel_scrolls() {
    let (mut app, _rx) = app();
    app.queue_watches((0..10).map(|i| format!("{:#x}:u8", 0x1000 + i)).collect());
    // Header 2 + tabs 1 + border 1 + table header 1: the first watch is on row 5.
    app.update(mouse(MouseEventKind::Down(MouseButton::Left), 5 + 3));
    assert_eq!(app.watches.selected, 3);
    app.update(mouse(MouseEventKind::ScrollDown, 10));
    assert_eq!(app.watches.selected, 6);
    app.update(mouse(MouseEventKind::ScrollUp, 10));
    app.update(mouse(MouseEventKind::ScrollUp, 10));
    assert_eq!(app.watches.selected, 0);
    // A click below the last watch selects nothing new.
    app.update(mouse(MouseEventKind::Down(MouseButton::Left), 25));
    assert_eq!(app.watches.selected, 0);
}

#[test]
fn every_watch_change_is_sent_to_the_poller() {
    let (mut app, rx) = app();
    app.queue_watches(vec!["0x10:u32".into(), "0x20".into()]);
    let last = rx.try_iter().last();
    assert!(matches!(last, Some(Command::SetWatches(list)) if list.len() == 2));
    app.update(Event::Key(
        KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE),
        Instant::now(),
    ));
    let last = rx.try_iter().last();
    assert!(matches!(last, Some(Command::SetWatches(list)) if list.len() == 1));
}

#[test]
fn exit_disables_editing_and_keeps_values() {
    let (mut app, _rx) = app();
    app.queue_watches(vec!["0x10:u32".into()]);
    app.update(Event::Poller(PollerEvent::Exited));
    assert!(app.exited());
    app.update(Event::Key(
        KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE),
        Instant::now(),
    ));
    assert!(app.input.is_none(), "no edit after exit");
    app.update(Event::Key(
        KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE),
        Instant::now(),
    ));
    assert!(app.watches.rows[0].frozen.is_none());
}

//! Unit tests of the app: events in, state and poller commands out.

use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use std::time::Instant;

fn app() -> (App, std::sync::mpsc::Receiver<Command>) {
    let access = Access {
        pidfd: false,
        nowait: false,
    };
    app_of(1, "t", access, KeyMap::default())
}

/// An app of target `pid` named `name` with the key map `keys`, 100x30,
/// polling every 100 ms, and the receiving end of its poller commands.
pub(crate) fn app_of(
    pid: i32,
    name: &str,
    access: Access,
    keys: KeyMap,
) -> (App, std::sync::mpsc::Receiver<Command>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let options = AppOptions {
        pid,
        name: name.into(),
        access,
        interval: Duration::from_millis(100),
        theme: Theme::fallback(),
        keys,
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
    let Some(Command::AddWatches(added)) = last else {
        panic!("the watches were not added: {last:?}");
    };
    let ids: Vec<_> = added.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each watch has its own id");
    app.update(Event::Key(
        KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE),
        Instant::now(),
    ));
    let last = rx.try_iter().last();
    assert!(
        matches!(last, Some(Command::RemoveWatch(id)) if id == ids[0]),
        "{last:?}"
    );
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

fn key(app: &mut App, code: KeyCode) {
    app.update(Event::Key(
        KeyEvent::new(code, KeyModifiers::NONE),
        Instant::now(),
    ));
}

fn click(app: &mut App, column: u16, row: u16) {
    app.update(Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
}

fn maps() -> crate::process::Maps {
    let text = "1000-2000 r--p 00000000 08:01 7 /usr/bin/game\n\
                3000-4000 rw-p 00000000 00:00 0\n\
                5000-6000 rw-p 00000000 00:00 0 [heap]\n";
    crate::process::Maps::parse(text, "test").expect("maps")
}

#[test]
fn clicks_select_in_maps_search_and_the_log_and_the_wheel_needs_the_pane() {
    let (mut app, _rx) = app();
    app.maps.apply(Some(maps()), None);
    app.set_pane(Pane::Maps);
    // Body border at row 3, table header at 4: the second region is on row 6.
    click(&mut app, 10, 6);
    assert_eq!(app.maps.selected, 1);
    app.set_pane(Pane::Search);
    app.search.hits = (0..5)
        .map(|i| crate::tui::search::Hit {
            addr: 0x1000 + i,
            len: 1,
            place: "game".into(),
            preview: vec![0],
            value: None,
        })
        .collect();
    // Border 3, query 4, progress 5-6, header 7: the third hit is on row 10.
    click(&mut app, 10, 10);
    assert_eq!(app.search.selected, 2);
    app.set_pane(Pane::Log);
    for _ in 0..3 {
        app.log.push(LogEntry {
            time: std::time::SystemTime::now(),
            what: "write",
            addr: 0,
            expr: "x".into(),
            old: String::new(),
            new: String::new(),
            result: "landed".into(),
            ok: true,
            place: None,
        });
    }
    click(&mut app, 10, 5);
    assert_eq!(app.log.selected, 0);
    // The wheel over the header or footer scrolls nothing.
    app.update(mouse(MouseEventKind::ScrollDown, 0));
    assert_eq!(app.log.selected, 0);
    app.update(mouse(MouseEventKind::ScrollDown, 10));
    assert_eq!(app.log.selected, 2);
}

#[test]
fn the_maps_filter_anon_finds_anonymous_memory() {
    let (mut app, _rx) = app();
    app.maps.apply(Some(maps()), None);
    app.maps.set_filter("anon".into());
    assert_eq!(app.maps.visible(), vec![1]);
}

#[test]
fn the_narrow_line_starts_empty_and_lists_the_choices() {
    let (mut app, _rx) = app();
    app.start_input(
        Purpose::Narrow(crate::search::ValueType::U32),
        String::new(),
    );
    let input = app.input.as_ref().expect("the line is open");
    assert_eq!(input.text, "");
    assert!(input.error.is_none());
    assert!(
        input
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("decreased"))
    );
    // Enter with nothing typed keeps it open.
    key(&mut app, KeyCode::Enter);
    assert!(app.input.is_some());
    key(&mut app, KeyCode::Char('x'));
    assert!(app.input.as_ref().is_some_and(|i| i.error.is_some()));
}

#[test]
fn added_watch_message_goes_with_the_watch() {
    let (mut app, _rx) = app();
    app.search.hits = vec![crate::tui::search::Hit {
        addr: 0x1234,
        len: 4,
        place: "[anonymous]".into(),
        preview: vec![1, 2, 3, 4],
        value: None,
    }];
    app.set_pane(Pane::Search);
    key(&mut app, KeyCode::Char('a'));
    assert!(matches!(&app.message, Some((_, m)) if m.starts_with("added watch")));
    app.set_pane(Pane::Watches);
    key(&mut app, KeyCode::Char('d'));
    assert!(app.watches.is_empty());
    assert!(app.message.is_none(), "{:?}", app.message);
}

#[test]
fn a_failing_freeze_is_logged_once() {
    let (mut app, _rx) = app();
    app.queue_watches(vec!["0x10:u32".into()]);
    let id = app.watches.rows[0].id;
    for _ in 0..3 {
        app.update(Event::Poller(PollerEvent::Snapshot(Box::new(Snapshot {
            tick: 1,
            freeze_errors: vec![(id, "the page is read-only".into())],
            ..Snapshot::default()
        }))));
    }
    assert_eq!(app.log.len(), 1);
    assert!(!app.log.entries[0].ok);
    assert!(app.log.entries[0].result.contains("read-only"));
}

#[test]
fn the_search_prompt_opens_empty_after_a_search() {
    let (mut app, _rx) = app();
    app.set_pane(Pane::Search);
    app.search.query = "Conan".into();
    key(&mut app, KeyCode::Char('/'));
    for c in "heap".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let text = app.input.as_ref().map(|i| i.text.clone());
    assert_eq!(text.as_deref(), Some("heap"));
}

#[test]
fn the_hex_pane_first_opens_at_the_selected_watch_then_stays_where_it_was() {
    let (mut ui, _rx) = app();
    ui.maps.apply(Some(maps()), None);
    ui.queue_watches(vec!["0x5010:u32".into()]);
    if let Some(row) = ui.watches.rows.first_mut() {
        row.addr = Some(0x5010);
    }
    ui.set_pane(Pane::Hex);
    assert_eq!(ui.hex.cursor, 0x5010);
    ui.hex.open(0x3800, ui.hex_cols());
    ui.set_pane(Pane::Watches);
    ui.set_pane(Pane::Hex);
    assert_eq!(ui.hex.cursor, 0x3800, "a later visit keeps its place");
    // Without a watch, the first writable mapping.
    let (mut fresh, _rx) = app();
    fresh.maps.apply(Some(maps()), None);
    fresh.set_pane(Pane::Hex);
    assert_eq!(fresh.hex.cursor, 0x3000);
}

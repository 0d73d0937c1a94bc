//! A struct watch opened into a tree of live fields: what the watches pane
//! shows, and the watches the app asks the poller for and drops.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use crossterm::event::KeyCode;

use super::tests::{app_with, press, screen};
use crate::debuginfo::{self, Aggregate, BaseKind, Bits, Field, TypeKind};
use crate::expr::{DebugType, Status, Type, Value, WatchReading};
use crate::poller::{Command, PollerEvent, Snapshot, WatchId};
use crate::tui::app::App;
use crate::tui::event::Event;
use crate::tui::keys::KeyMap;

fn base(name: &str, size: u64, kind: BaseKind) -> Arc<debuginfo::Type> {
    Arc::new(debuginfo::Type::new(name, size, TypeKind::Base(kind)))
}

fn field(name: &str, offset: u64, ty: Arc<debuginfo::Type>, bits: Option<Bits>) -> Field {
    Field {
        name: name.into(),
        offset,
        ty,
        bits,
    }
}

fn player() -> Arc<debuginfo::Type> {
    let int = base("int", 4, BaseKind::Signed);
    let vec2 = Arc::new(debuginfo::Type::new(
        "struct vec2",
        8,
        TypeKind::Struct {
            aggregate: Aggregate::Struct,
            fields: vec![
                field("x", 0, Arc::clone(&int), None),
                field("y", 4, int, None),
            ],
            variants: None,
            incomplete: false,
        },
    ));
    let level = Bits { offset: 1, size: 5 };
    Arc::new(debuginfo::Type::new(
        "struct player",
        24,
        TypeKind::Struct {
            aggregate: Aggregate::Struct,
            fields: vec![
                field("pos", 0, vec2, None),
                field("health", 8, base("double", 8, BaseKind::Float), None),
                field(
                    "level",
                    16,
                    base("unsigned int", 4, BaseKind::Unsigned),
                    Some(level),
                ),
            ],
            variants: None,
            incomplete: false,
        },
    ))
}

fn debug(ty: Arc<debuginfo::Type>, bits: Option<Bits>) -> Type {
    Type::Debug(DebugType { ty, bits })
}

fn reading(id: u64, address: u64, ty: Type, value: debuginfo::Value) -> WatchReading {
    WatchReading {
        id: WatchId(id),
        address: Some(address),
        ty,
        status: Status::Ok,
        value: Some(Value::Typed(value)),
    }
}

fn tick(app: &mut App, readings: Vec<WatchReading>) {
    app.update(Event::Poller(PollerEvent::Snapshot(Box::new(Snapshot {
        tick: 1,
        watches: readings,
        ..Snapshot::default()
    }))));
}

fn pos_value() -> debuginfo::Value {
    debuginfo::Value::Struct {
        union: false,
        fields: vec![
            ("x".into(), debuginfo::Value::Signed(-12)),
            ("y".into(), debuginfo::Value::Signed(34)),
        ],
    }
}

fn commands(rx: &Receiver<Command>) -> Vec<Command> {
    rx.try_iter().collect()
}

#[test]
fn a_struct_watch_opens_into_live_fields_and_closes() {
    let (mut app, rx) = app_with(KeyMap::default(), (100, 20));
    app.add_watch("hero").expect("parses");
    let hero = debuginfo::Value::Struct {
        union: false,
        fields: vec![
            ("pos".into(), pos_value()),
            ("health".into(), debuginfo::Value::Float(97.5)),
            ("level".into(), debuginfo::Value::Unsigned(17)),
        ],
    };
    tick(
        &mut app,
        vec![reading(1, 0x5000, debug(player(), None), hero)],
    );
    commands(&rx);

    // Enter opens it: one watch per field, each sent to the poller.
    press(&mut app, KeyCode::Enter);
    let added: Vec<String> = commands(&rx)
        .into_iter()
        .flat_map(|c| match c {
            Command::AddWatches(ws) => ws.into_iter().map(|(_, w)| w.text).collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(added, ["hero.pos", "hero.health", "hero.level"]);
    let ids: Vec<u64> = app.watches.rows.iter().map(|w| w.id.0).collect();
    assert_eq!(ids, [1, 2, 3, 4]);

    let fields = player();
    let (pos, health, level) = (
        Arc::clone(&fields.fields()[0].ty),
        Arc::clone(&fields.fields()[1].ty),
        Arc::clone(&fields.fields()[2].ty),
    );
    let ticks = [97.5, 96.0, 94.5];
    for hp in ticks {
        tick(
            &mut app,
            vec![
                reading(2, 0x5000, debug(Arc::clone(&pos), None), pos_value()),
                reading(
                    3,
                    0x5008,
                    debug(Arc::clone(&health), None),
                    debuginfo::Value::Float(hp),
                ),
                reading(
                    4,
                    0x5010,
                    debug(Arc::clone(&level), Some(Bits { offset: 1, size: 5 })),
                    debuginfo::Value::Unsigned(17),
                ),
            ],
        );
    }
    // A field opens too; each numeric field keeps its own history.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Right);
    let added = commands(&rx);
    assert!(
        matches!(&added[..], [Command::AddWatches(ws)] if ws.len() == 2),
        "{added:?}"
    );
    assert_eq!(app.watches.rows[4].history.len(), 3, "health plots");
    insta::assert_snapshot!("struct_watch_tree", screen(&app));

    // Left on a field selects its parent; Left on an open row closes it.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Left);
    assert_eq!(app.watches.selected, 1);
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Left);
    let removed: Vec<u64> = commands(&rx)
        .into_iter()
        .filter_map(|c| match c {
            Command::RemoveWatch(id) => Some(id.0),
            _ => None,
        })
        .collect();
    assert_eq!(removed, [2, 5, 6, 3, 4]);
    assert_eq!(app.watches.rows.len(), 1);
    assert!(!app.watches.rows[0].expanded);
}

#[test]
fn a_bitfield_is_edited_in_place_by_the_poller() {
    let (mut app, rx) = app_with(KeyMap::default(), (100, 20));
    app.add_watch("hero.level").expect("parses");
    let level = Arc::clone(&player().fields()[2].ty);
    let ty = debug(level, Some(Bits { offset: 1, size: 5 }));
    tick(
        &mut app,
        vec![reading(
            1,
            0x5010,
            ty.clone(),
            debuginfo::Value::Unsigned(17),
        )],
    );
    commands(&rx);
    press(&mut app, KeyCode::Enter);
    for _ in 0..2 {
        press(&mut app, KeyCode::Backspace);
    }
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('0'));
    let error = app.input.as_ref().and_then(|i| i.error.clone());
    assert!(
        error.is_some_and(|e| e.message.contains("does not fit in 5 bits")),
        "5 bits hold 0..=31"
    );
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Enter);
    let sent = commands(&rx);
    assert!(
        sent.iter().any(|c| matches!(
            c,
            Command::WriteValue { addr: 0x5010, ty: t, text, .. } if *t == ty && text == "4"
        )),
        "{sent:?}"
    );
}

#[test]
fn tab_completes_the_name_with_the_poller_s_candidates() {
    use crate::expr::complete::Completion;
    let (mut app, rx) = app_with(KeyMap::default(), (100, 20));
    press(&mut app, KeyCode::Char('a'));
    for c in "hero.p".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    commands(&rx);
    press(&mut app, KeyCode::Tab);
    let tag = commands(&rx)
        .into_iter()
        .find_map(|c| match c {
            Command::Complete { tag, text } if text == "hero.p" => Some(tag),
            _ => None,
        })
        .expect("a completion asked for");
    let item = |name: &str, ty: &str| Completion {
        text: format!("hero.{name}"),
        name: name.into(),
        ty: ty.into(),
    };
    app.update(Event::Poller(PollerEvent::Completions {
        tag,
        items: vec![item("pad", "unsigned int"), item("pos", "struct vec2")],
    }));
    let input = app.input.as_ref().expect("still typing");
    assert_eq!(input.text, "hero.p", "nothing shared beyond the prefix");
    let screen = screen(&app);
    assert!(
        screen.contains("pad: unsigned int  pos: struct vec2"),
        "{screen}"
    );
    press(&mut app, KeyCode::Char('o'));
    press(&mut app, KeyCode::Tab);
    let tag = commands(&rx)
        .into_iter()
        .find_map(|c| match c {
            Command::Complete { tag, .. } => Some(tag),
            _ => None,
        })
        .expect("asked again");
    app.update(Event::Poller(PollerEvent::Completions {
        tag,
        items: vec![item("pos", "struct vec2")],
    }));
    assert_eq!(
        app.input.as_ref().map(|i| i.text.as_str()),
        Some("hero.pos")
    );
}

#[test]
fn the_hex_cursor_asks_which_variable_and_field_it_is_in() {
    let (mut app, rx) = app_with(KeyMap::default(), (100, 20));
    app.open_hex(0x5014);
    commands(&rx);
    press(&mut app, KeyCode::Right);
    let asked: Vec<u64> = commands(&rx)
        .into_iter()
        .filter_map(|c| match c {
            Command::Describe(addr) => Some(addr),
            _ => None,
        })
        .collect();
    assert_eq!(asked, [0x5015]);
    app.update(Event::Poller(PollerEvent::Described {
        addr: 0x5015,
        label: Some("hero.pos.y+1 (int)".into()),
    }));
    assert_eq!(
        app.hex.label,
        Some((0x5015, "hero.pos.y+1 (int)".to_string()))
    );
}

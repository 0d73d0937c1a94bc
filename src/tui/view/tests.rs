//! The views drawn from app state on a `TestBackend`: what a screen shows
//! for given keys, watches and sizes.

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::poller::Command;
use crate::process::Access;
use crate::tui::app::App;
use crate::tui::app::tests::app_of;
use crate::tui::event::Event;
use crate::tui::keys::KeyMap;

pub(super) fn app_with(keys: KeyMap, size: (u16, u16)) -> (App, Receiver<Command>) {
    let access = Access {
        pidfd: true,
        nowait: true,
    };
    let (mut app, rx) = app_of(4242, "game", access, keys);
    app.size = size;
    (app, rx)
}

pub(super) fn screen(app: &App) -> String {
    let mut terminal =
        Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test terminal");
    terminal
        .draw(|f| super::draw(f, app))
        .expect("draw on a test backend");
    super::screen_text(terminal.backend().buffer())
}

/// The screen's lines joined by spaces without their box sides, so that
/// text wrapped over lines reads whole.
fn joined(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_matches('│').trim_end())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn press(app: &mut App, code: KeyCode) {
    app.update(Event::Key(
        KeyEvent::new(code, KeyModifiers::NONE),
        Instant::now(),
    ));
}

#[test]
fn target_text_cannot_drive_the_terminal() {
    assert_eq!(super::printable("plain"), "plain");
    assert_eq!(super::printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
    let (mut app, _rx) = app_with(KeyMap::default(), (80, 24));
    app.update(Event::TargetOutput("evil \u{1b}]0;title\u{7}".into()));
    app.process.spawned = true;
    app.set_pane(crate::tui::app::Pane::Output);
    let screen = screen(&app);
    assert!(screen.contains("evil \\u{1b}]0;title\\u{7}"), "{screen}");
    assert!(!screen.contains('\u{1b}'));
}

#[test]
fn target_text_in_the_prompt_is_escaped_and_the_cursor_follows() {
    let (mut app, _rx) = app_with(KeyMap::default(), (80, 24));
    press(&mut app, KeyCode::Char('a'));
    // As a completed name from the target would put it there.
    for c in "x\u{1b}[2J\u{202e}y".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    terminal
        .draw(|f| super::draw(f, &app))
        .expect("draw on a test backend");
    let screen = super::screen_text(terminal.backend().buffer());
    assert!(screen.contains("x\\u{1b}[2J\\u{202e}y"), "{screen}");
    assert!(!screen.contains(['\u{1b}', '\u{202e}']), "{screen}");
    let prompt = screen
        .lines()
        .find(|l| l.contains("x\\u{1b}"))
        .expect("the prompt line");
    let end = prompt.find('y').expect("y") + 1;
    let cursor = terminal.get_cursor_position().expect("a cursor");
    assert_eq!(
        usize::from(cursor.x),
        prompt[..end].chars().count(),
        "the cursor sits after the escaped text"
    );
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

mod wide_and_narrow {
    //! A busy screen at three sizes: long expressions, values and statuses
    //! must be cut only with `…`, and read whole in the detail lines.

    use super::*;
    use crate::expr::{Status, Type, Value, WatchReading, parse_watch};
    use crate::poller::{PollerEvent, Snapshot, WatchId};
    use crate::process::{Maps, ReadOutcome};

    const EXE: &str = "/opt/games/a/rather/long/installation/directory/bin/ninvaders";
    const GREETING: &str = "hello from a target whose greeting goes on and on, much longer than any value column could ever hold at eighty columns";
    const FREEZE_ERROR: &str =
        "write refused: the page is read-only (r-xp at 0x555555556000, ninvaders+0x2000)";

    fn maps() -> Maps {
        let text = format!(
            "555555554000-555555556000 r--p 00000000 08:01 1234 {EXE}\n\
             555555556000-555555558000 r-xp 00002000 08:01 1234 {EXE}\n\
             555555558000-55555555a000 rw-p 00004000 08:01 1234 {EXE}\n\
             55555555a000-55555557b000 rw-p 00000000 00:00 0 [heap]\n\
             7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n\
             7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n"
        );
        Maps::parse(&text, "test maps").expect("valid maps")
    }

    fn ty(text: &str) -> Type {
        parse_watch(&format!("0:{text}"))
            .ok()
            .and_then(|w| w.ty)
            .expect("a type")
    }

    fn reading(id: u64, address: u64, ty_text: &str, value: Value, status: Status) -> WatchReading {
        WatchReading {
            id: WatchId(id),
            address: Some(address),
            ty: ty(ty_text),
            status,
            value: Some(value),
        }
    }

    /// The app after one tick over five watches: an array behind a pointer,
    /// a long string, bytes, a changed counter and a failed freeze.
    fn busy(size: (u16, u16)) -> (App, Receiver<Command>) {
        let (mut app, rx) = app_with(KeyMap::default(), size);
        app.queue_watches(vec![
            "*(pvtui::demo::PLAYER+16):u32[8]".into(),
            "pvtui::demo::GREETING:cstr".into(),
            "[heap]+0x40:bytes[25]".into(),
            "ninvaders!score:u64".into(),
            "ninvaders!lives:u8".into(),
        ]);
        let readings = vec![
            reading(
                1,
                0x55555555a010,
                "u32[8]",
                Value::Array((1..=8).map(|i| Value::Unsigned(i * 1111)).collect()),
                Status::Ok,
            ),
            reading(
                2,
                0x555555558040,
                "cstr",
                Value::Str(GREETING.into()),
                Status::Ok,
            ),
            reading(
                3,
                0x55555555a040,
                "bytes[25]",
                Value::Bytes((0..25).collect()),
                Status::Ok,
            ),
            reading(
                4,
                0x555555558100,
                "u64",
                Value::Unsigned(123_456_789),
                Status::Changed,
            ),
            reading(5, 0x555555556010, "u8", Value::Unsigned(3), Status::Ok),
        ];
        app.update(Event::Poller(PollerEvent::Snapshot(Box::new(Snapshot {
            tick: 42,
            watches: readings,
            maps: Some(maps()),
            freeze_errors: vec![(WatchId(5), FREEZE_ERROR.into())],
            ..Snapshot::default()
        }))));
        app.watches.rows[4].frozen = Some((0x555555556010, vec![3]));
        (app, rx)
    }

    fn check(size: (u16, u16), name: &str) {
        let (mut app, _rx) = busy(size);
        app.watches.selected = 4;
        let screen = screen(&app);
        // The failed freeze reads whole in the detail, and in the write log.
        let joined = joined(&screen);
        assert!(joined.contains(FREEZE_ERROR), "{screen}");
        assert_eq!(app.log.len(), 1);
        assert!(!app.log.entries[0].ok);
        // Each cut cell says so.
        for (expr, value) in [
            ("*(pvtui::demo::PLAYER+16):u32[8]", "[1111, 2222"),
            ("pvtui::demo::GREETING:cstr", "\"hello from"),
        ] {
            let row = screen
                .lines()
                .find(|l| l.starts_with(&format!("│{}", &expr[..5])) && !l.contains('→'))
                .unwrap_or_else(|| panic!("{expr} has a row:\n{screen}"));
            assert!(
                row.contains(expr) || row.contains('…'),
                "{expr} is cut silently: {row}"
            );
            assert!(
                row.contains(value) || row.contains('…'),
                "{value} is cut silently: {row}"
            );
        }
        assert!(screen.contains("bytes[25]"), "the type is whole: {screen}");
        insta::assert_snapshot!(format!("busy_watches_{name}"), screen);
        // The long string reads whole (as far as the width allows) when selected.
        app.watches.selected = 1;
        let screen = super::screen(&app);
        assert!(
            screen.contains("pvtui::demo::GREETING:cstr → 0x555555558040 as cstr"),
            "{screen}"
        );
    }

    #[test]
    fn at_80x24() {
        check((80, 24), "80x24");
    }

    #[test]
    fn at_120x40() {
        check((120, 40), "120x40");
    }

    #[test]
    fn at_250x60() {
        check((250, 60), "250x60");
    }

    #[test]
    fn the_change_column_shows_after_t() {
        let (mut app, _rx) = busy((120, 40));
        press(&mut app, KeyCode::Char('t'));
        let screen = screen(&app);
        assert!(screen.contains("change"), "{screen}");
    }

    /// The poller's read of the hex view: `data` from `addr`, all of it read.
    fn show_hex(app: &mut App, addr: u64, data: Vec<u8>) {
        app.update(Event::Poller(PollerEvent::Snapshot(Box::new(Snapshot {
            tick: 43,
            hex: Some(ReadOutcome {
                addr,
                data,
                gaps: Vec::new(),
            }),
            ..Snapshot::default()
        }))));
    }

    /// The hex view at `size` over the executable's data, a pointer to
    /// `lives` under the cursor.
    fn hex_screen(size: (u16, u16)) -> (App, String) {
        let (mut app, _rx) = busy(size);
        let addr = 0x555555558000u64;
        app.open_hex(addr);
        let mut data = vec![0u8; 16 * 40];
        data[..8].copy_from_slice(&0x555555556010u64.to_le_bytes());
        data[8..16].copy_from_slice(b"ninvade!");
        show_hex(&mut app, addr, data);
        let screen = screen(&app);
        (app, screen)
    }

    #[test]
    fn the_hex_inspector_reads_the_cursor_as_every_type() {
        let (_app, screen) = hex_screen((120, 40));
        for part in [
            "u8 16  i8 16",
            "u16 24592  i16 24592",
            "u32 1431658512  i32 1431658512",
            "f32 ",
            "u64 93824992239632  i64 93824992239632",
            "f64 ",
            "ptr 0x555555556010 → ninvaders+0x2010",
        ] {
            assert!(screen.contains(part), "{part:?} not in\n{screen}");
        }
        insta::assert_snapshot!("hex_inspector_120x40", screen);
    }

    #[test]
    fn the_hex_inspector_names_a_pointer_by_its_symbol() {
        let (mut app, rx) = busy((120, 40));
        let addr = 0x555555558000u64;
        app.open_hex(addr);
        let mut data = vec![0u8; 16 * 40];
        data[..8].copy_from_slice(&0x555555556010u64.to_le_bytes());
        show_hex(&mut app, addr, data);
        // The app asks the poller once to name where the pointer goes.
        let asked: Vec<u64> = rx
            .try_iter()
            .filter_map(|c| match c {
                Command::Place(at) => Some(at),
                _ => None,
            })
            .collect();
        assert_eq!(asked, [0x555555556010]);
        app.update(Event::Poller(PollerEvent::Placed {
            addr: 0x555555556010,
            place: Some("ninvaders!lives".into()),
        }));
        let screen = screen(&app);
        assert!(
            screen.contains("ptr 0x555555556010 → ninvaders!lives (Enter follows)"),
            "{screen}"
        );
    }

    #[test]
    fn hex_rows_keep_their_ascii_column_at_80_columns() {
        let (app, screen) = hex_screen((80, 24));
        assert_eq!(app.hex_cols(), 8);
        // Both halves of the first 16 bytes, each row closed by its bar.
        assert!(
            screen.contains("│555555558000  10 60 55 55  55 55 00 00 │.`UUUU..│"),
            "{screen}"
        );
        assert!(screen.contains("│555555558008  6e 69 6e 76  61 64 65 21 │ninvade!│"));
        assert!(screen.contains("f64 4.63557053869237e-310"), "{screen}");
        insta::assert_snapshot!("hex_80x24", screen);
    }

    /// Hex runs of five or more digits in `line` (addresses, whole or cut).
    fn hex_runs(line: &str) -> Vec<&str> {
        line.split(|c: char| !c.is_ascii_hexdigit())
            .filter(|run| run.len() >= 5)
            .collect()
    }

    #[test]
    fn narrow_maps_and_write_log_drop_columns_or_mark_cuts_never_cut_an_address() {
        for width in [30, 40, 50, 60, 70, 80] {
            let (mut app, _rx) = busy((width, 24));
            app.set_pane(crate::tui::app::Pane::Maps);
            let maps_screen = screen(&app);
            let body: Vec<&str> = maps_screen.lines().filter(|l| l.starts_with('│')).collect();
            assert!(
                body.iter().any(|l| l.contains("555555554000")),
                "{maps_screen}"
            );
            for line in &body {
                for run in hex_runs(line) {
                    assert_eq!(run.len(), 12, "a cut address at {width}:\n{maps_screen}");
                }
                // A size is shown with its unit, or not at all.
                assert!(!line.contains(" KiB") || line.contains(".0 KiB"), "{line}");
            }
            app.set_pane(crate::tui::app::Pane::Log);
            let screen = screen(&app);
            let row = screen
                .lines()
                .find(|l| l.contains("555555556010") || l.contains("0x5"))
                .unwrap_or_else(|| panic!("the log row at {width}:\n{screen}"));
            assert!(
                row.contains("0x555555556010") || row.contains('…'),
                "the address is cut silently at {width}: {row}"
            );
            for part in ["ninvaders!lives:u8", "freeze"] {
                let start = &part[..4];
                assert!(
                    !row.contains(start) || row.contains(part) || row.contains('…'),
                    "{part} is cut silently at {width}: {row}"
                );
            }
        }
    }
}

/// Every hint on an empty pane at 80 columns reads whole (wrapped), or
/// gives way by whole hints; none is cut in a word.
#[test]
fn empty_panes_cut_no_hint_at_80x24() {
    use crate::tui::app::Pane;
    let (mut app, _rx) = app_with(KeyMap::default(), (80, 24));
    let mut screens = Vec::new();
    for (pane, whole) in [
        (Pane::Watches, "[heap]+0x10:i64."),
        (Pane::Search, "n undo goes back"),
        (Pane::Log, "or freeze a watch (f)."),
    ] {
        app.set_pane(pane);
        let screen = screen(&app);
        let joined = joined(&screen);
        assert!(joined.contains(whole), "{whole:?} not in\n{screen}");
        let header = screen.lines().next().unwrap_or_default();
        assert!(
            header.ends_with(" ms") || header.contains("tick"),
            "{header}"
        );
        screens.push(screen);
    }
    insta::assert_snapshot!("empty_panes_80x24", screens.join("\n\n"));
}

/// Several targets on a narrow header: those that fit are named, the rest
/// counted, and the interval still shows; nothing runs off the line.
#[test]
fn many_targets_give_way_in_the_header() {
    use crate::tui::app::peers::Peer;
    for (width, named) in [(80u16, 0), (120, 2)] {
        let (mut app, _rx) = app_with(KeyMap::default(), (width, 24));
        for pid in 5001..5007 {
            app.peers.list.push(Peer::detached(pid, "game2"));
        }
        let screen = screen(&app);
        let header = screen.lines().next().unwrap_or_default();
        for pid in 5001..5007 {
            let shown = header.contains(&format!("pid {pid} game2"));
            assert_eq!(shown, pid < 5001 + named, "{pid} at {width}: {header}");
        }
        let more = format!("+{} more │ every 100 ms", 6 - named);
        assert!(header.contains(&more), "{header}");
        assert!(header.chars().count() <= usize::from(width), "{header}");
    }
}

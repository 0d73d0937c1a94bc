//! The UI against hostile or unusual targets: a symlink planted where the
//! log is exported, a freeze on a read-only value.

use crossterm::event::{KeyCode, KeyModifiers};

use crate::tui::{Ui, spawn_target, watch};
use crate::util::{Fixture, fixture};

#[test]
fn export_to_a_planted_symlink_never_follows_it() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[watch(&fx, "flag", "u32")]);
    ui.until("the flag's value", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    let dir = std::env::temp_dir().join(format!("pvtui-planted-{}", fx.pid));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let planted = dir.join("log.tsv");
    std::os::unix::fs::symlink(&victim, &planted).expect("plant");
    let export = |ui: &mut Ui| {
        ui.key(KeyCode::Char('5'));
        ui.key(KeyCode::Char('E'));
        ui.send(KeyCode::Char('u'), KeyModifiers::CONTROL);
        ui.type_text(&planted.display().to_string());
        ui.key(KeyCode::Enter);
    };
    export(&mut ui);
    ui.until_screen("symbolic link");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    // Given again, the link itself is replaced, never what it points to.
    export(&mut ui);
    ui.until_screen("exported 0 log entries");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    let meta = std::fs::symlink_metadata(&planted).expect("exported");
    assert!(!meta.file_type().is_symlink());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn freeze_on_a_read_only_value_is_refused_not_held() {
    let fx = Fixture::spawn(&fixture("target", "", &[]), &[]);
    let mut ui = Ui::start(&fx, &[format!("{:#x}:u32", fx.addr("ro"))]);
    ui.until("the read-only value", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    ui.key(KeyCode::Char('f'));
    ui.until("the refusal in the log", |app| {
        app.log.iter().any(|e| e.what == "freeze" && !e.ok)
    });
    let app = ui.app();
    assert!(app.watches.rows[0].frozen.is_none());
    assert!(
        app.log
            .iter()
            .all(|e| !e.result.contains("held every tick")),
        "{:?}",
        app.log.entries
    );
    let refused = app.log.iter().find(|e| e.what == "freeze").expect("entry");
    assert!(
        refused.result.contains("not writable"),
        "{}",
        refused.result
    );
    assert_eq!(
        refused.addr,
        fx.addr("ro"),
        "the log shows the real address"
    );
}

/// The first mapping of the program file `path` in `pid`: its start.
fn first_mapping(pid: i32, name_part: &str) -> u64 {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let line = maps
        .lines()
        .find(|l| l.contains(name_part))
        .unwrap_or_else(|| panic!("no mapping of {name_part} in\n{maps}"));
    let start = line.split('-').next().expect("a range");
    u64::from_str_radix(start, 16).expect("hex")
}

#[test]
fn a_hostile_program_path_is_escaped_in_the_maps_pane_and_the_hex_status_line() {
    if crate::util::skip_unless_root(
        "a_hostile_program_path_is_escaped_in_the_maps_pane_and_the_hex_status_line",
        "reading a fixture's memory",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A terminal title command, a line break and a right-to-left override.
    let hostile = dir.path().join("ev\x1b]0;PWNED\x07il\nx\u{202e}");
    std::fs::copy(fixture("tui_target", "", &[]), &hostile).expect("copy the fixture");
    let fx = Fixture::spawn(&hostile, &[]);
    let mut ui = Ui::start(&fx, &[watch(&fx, "flag", "u32")]);
    ui.key(KeyCode::Char('2'));
    ui.until_screen("\\u{202e}");
    let clean = |screen: &str| {
        assert!(
            !screen.contains(['\u{202e}', '\x1b', '\x07', '\n']),
            "raw target text reached the screen:\n{screen:?}"
        );
    };
    // The screen's rows are joined by line breaks: checked row by row.
    for row in ui.screen().lines() {
        clean(row);
    }
    let start = first_mapping(fx.pid, "PWNED");
    ui.key(KeyCode::Char('3'));
    ui.key(KeyCode::Char('g'));
    ui.type_text(&format!("{start:#x}"));
    ui.key(KeyCode::Enter);
    ui.until_screen("\\u{202e} r");
    for row in ui.screen().lines() {
        clean(row);
    }
}

#[test]
fn hex_view_at_the_top_of_memory_shows_no_rows_past_it() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    ui.until("the maps", |app| !app.maps.maps.regions().is_empty());
    ui.key(KeyCode::Char('3'));
    ui.key(KeyCode::Char('g'));
    ui.type_text("0xfffffffffffffff0");
    ui.key(KeyCode::Enter);
    ui.until("the last row read", |app| {
        app.hex
            .data
            .as_ref()
            .is_some_and(|d| d.addr == 0xffff_ffff_ffff_fff0)
    });
    ui.until_screen("fffffffffffffff0  ??");
    let screen = ui.screen();
    // Before the fix every further row was labelled with the saturated
    // address ffffffffffffffff and 16 bytes that do not exist.
    assert!(!screen.contains("ffffffffffffffff "), "{screen}");
    assert_eq!(screen.matches(" ?? ?? ?? ??").count(), 4, "{screen}");
    assert_eq!(ui.app().hex.range(20, 16), (0xffff_ffff_ffff_fff0, 16));
}

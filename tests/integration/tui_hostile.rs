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

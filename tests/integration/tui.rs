//! The terminal UI, driven through its real event loop on ratatui's
//! `TestBackend` against a real fixture target; and once end to end in a real
//! terminal (tmux) with `pvtui demo`.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pvtui::process::Target;
use pvtui::session::{DEFAULT_DEADLINE, Session};
use pvtui::tui::app::{App, AppOptions, Pane};
use pvtui::tui::keys::KeyMap;
use pvtui::tui::theme::Theme;
use pvtui::tui::{Event, Tui, run_until};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tmux::{Tmux, skip};
use crate::util::{Fixture, PATIENCE, fixture, pvtui_bin};

pub(crate) fn spawn_target() -> Fixture {
    Fixture::spawn(&fixture("tui_target", "", &[]), &[])
}

/// The UI over a fixture, drawn on a 110×30 test terminal.
pub(crate) struct Ui {
    tui: Tui,
    terminal: Terminal<TestBackend>,
}

impl Ui {
    pub(crate) fn start(fx: &Fixture, watches: &[String]) -> Ui {
        let target = Arc::new(Target::attach(fx.pid).expect("attach to the fixture"));
        let options = AppOptions {
            pid: fx.pid,
            name: target.name().to_string(),
            access: target.access(),
            interval: Duration::from_millis(10),
            theme: Theme::fallback(),
            keys: KeyMap::default(),
            spawned: false,
        };
        let session = Session::over(target, DEFAULT_DEADLINE).expect("a session");
        let tui = Tui::start(session, options, watches.to_vec()).expect("start the UI");
        let terminal = Terminal::new(TestBackend::new(110, 30)).expect("test terminal");
        Ui { tui, terminal }
    }

    pub(crate) fn app(&self) -> &App {
        &self.tui.app
    }

    pub(crate) fn send(&self, code: KeyCode, modifiers: KeyModifiers) {
        let key = KeyEvent::new(code, modifiers);
        self.tui
            .sender
            .send(Event::Key(key, Instant::now()))
            .expect("the loop's channel is open");
    }

    pub(crate) fn key(&self, code: KeyCode) {
        self.send(code, KeyModifiers::NONE);
    }

    pub(crate) fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Runs the real loop until `done` holds; fails with the screen if it never does.
    pub(crate) fn until(&mut self, what: &str, done: impl FnMut(&App) -> bool) {
        let Tui { app, events, .. } = &mut self.tui;
        let ok = run_until(&mut self.terminal, app, events, PATIENCE, done).expect("the loop runs");
        assert!(ok, "never saw {what}; the screen:\n{}", self.screen());
    }

    /// Runs the loop until the screen shows `text`.
    pub(crate) fn until_screen(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if self.screen().contains(text) {
                return;
            }
            let Tui { app, events, .. } = &mut self.tui;
            run_until(
                &mut self.terminal,
                app,
                events,
                Duration::from_millis(20),
                |_| false,
            )
            .expect("the loop runs");
        }
        panic!("the screen never showed {text:?}:\n{}", self.screen());
    }

    pub(crate) fn screen(&self) -> String {
        crate::util::buffer_text(self.terminal.backend().buffer())
    }
}

/// The screen with what differs between runs replaced: addresses, pids,
/// times, tick counts, residency and sparklines.
pub(crate) fn normalized(screen: &str, fx: &Fixture) -> String {
    let rules: &[(&str, &str)] = &[
        (r"0x[0-9a-f]+", "0xADDR"),
        (r"\b[0-9a-f]{12}\b", "ADDRESS_____"),
        // Native or emulated, and right-aligned: the padding before it varies too.
        (r" *pidfd: .*\| nowait: [a-z]+( \([a-z]+\))?", " ACCESS"),
        // How many regions a process has depends on the kernel and libc.
        (r"\b(\d+) of \d+, filter", "$1 of N, filter"),
        (r"\d+\.\d ms", "N ms"),
        (r"tick \d+", "tick N"),
        (r"last \d+ values", "last N values"),
        // The chart's time axis: seconds before the latest reading.
        (r"-\d+(\.\d)?s\b", "-Ns"),
        (r"\b\d{2}:\d{2}:\d{2}\b", "HH:MM:SS"),
        (r"\s*\d+%", " N%"),
        (r"[▁▂▃▄▅▆▇█]+ *", "~spark~ "),
    ];
    // Whole numbers only: a small pid (as in the test VM) also occurs inside values.
    let pid = regex::Regex::new(&format!(r"\b{}\b", fx.pid)).expect("pattern");
    let mut text = pid.replace_all(screen, "PID").into_owned();
    // The checkout's path (whole, or cut to its tail to fit) varies with
    // where the tests run, and so does the padding after it.
    text = text.replace(env!("CARGO_TARGET_TMPDIR"), "$TMP");
    let path = regex::Regex::new(r"(…|/)\S*/fixtures/").expect("pattern");
    text = path.replace_all(&text, "$$TMP/fixtures/").into_owned();
    text = replace_each(text, rules);
    let padding = regex::Regex::new(r"([^ │\n]) *│").expect("pattern");
    text = padding.replace_all(&text, "$1 │").into_owned();
    one_border_dash(&text)
}

/// `text` with each (pattern, replacement) rule applied in turn.
pub(crate) fn replace_each(mut text: String, rules: &[(&str, &str)]) -> String {
    for (pattern, with) in rules {
        let re = regex::Regex::new(pattern).expect("pattern");
        text = re.replace_all(&text, *with).into_owned();
    }
    text
}

/// `text` with every run of border dashes as one (a border's length follows
/// its title, which holds counts such as `last 12 values`) and no spaces at
/// the ends of lines.
pub(crate) fn one_border_dash(text: &str) -> String {
    let border = regex::Regex::new(r"─+").expect("pattern");
    border
        .replace_all(text, "─")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn watch(fx: &Fixture, key: &str, ty: &str) -> String {
    format!("{:#x}:{ty}", fx.addr(key))
}

#[test]
fn added_watch_shows_its_value() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    ui.until("the maps", |app| !app.maps.maps.regions().is_empty());
    ui.key(KeyCode::Char('a'));
    ui.type_text(&watch(&fx, "magic", "u32"));
    ui.key(KeyCode::Enter);
    ui.until("the value of magic", |app| {
        app.watches
            .rows
            .first()
            .and_then(|w| w.value_text())
            .as_deref()
            == Some("12648430")
    });
    ui.until_screen("12648430");
    insta::assert_snapshot!("watches", normalized(&ui.screen(), &fx));
    // A constant charts as a flat line between its value ± 1.
    ui.until("some history", |app| app.watches.rows[0].history.len() >= 3);
    ui.key(KeyCode::Char('c'));
    ui.until("the chart", |app| app.watches.chart.is_some());
    ui.until_screen("any key closes");
    insta::assert_snapshot!("chart", normalized(&ui.screen(), &fx));
}

#[test]
fn symbol_watch_resolves_as_you_type_and_saves_portably() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    ui.key(KeyCode::Char('a'));
    ui.type_text("magci");
    ui.until_screen("^ ");
    assert!(ui.screen().contains("magci"), "{}", ui.screen());
    for _ in 0..2 {
        ui.key(KeyCode::Backspace);
    }
    ui.type_text("ic:u32");
    // The poller resolves the symbol and the input line says where it points.
    ui.until_screen(&format!("→ {:#x} as u32", fx.addr("magic")));
    ui.key(KeyCode::Enter);
    ui.until("the value", |app| {
        app.watches
            .rows
            .first()
            .and_then(|w| w.value_text())
            .as_deref()
            == Some("12648430")
    });
    // A raw address in the executable saves relative to it.
    ui.key(KeyCode::Char('a'));
    ui.type_text(&watch(&fx, "flag", "u32"));
    ui.key(KeyCode::Enter);
    let path = std::env::temp_dir().join(format!("pvtui-watches-{}.txt", fx.pid));
    ui.key(KeyCode::Char('s'));
    ui.send(KeyCode::Char('u'), KeyModifiers::CONTROL);
    ui.type_text(&path.display().to_string());
    ui.key(KeyCode::Enter);
    ui.until_screen("saved 2 watches");
    let text = std::fs::read_to_string(&path).expect("saved file");
    let _ = std::fs::remove_file(&path);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("magic"), "{text}");
    assert!(
        !lines[1].contains(&format!("{:#x}", fx.addr("flag"))),
        "not absolute: {text}"
    );
    // Loaded again (as --watches does), both read the same values.
    let mut again = Ui::start(
        &fx,
        &lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
    );
    again.until("both values", |app| {
        app.watches.len() == 2
            && app.watches.rows[0].value_text().as_deref() == Some("12648430")
            && app.watches.rows[1].addr == Some(fx.addr("flag"))
    });
}

#[test]
fn parse_error_is_shown_under_its_column() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    ui.key(KeyCode::Char('a'));
    ui.type_text("0x10:u33");
    ui.until_screen("^ unknown type");
    let screen = ui.screen();
    let lines: Vec<&str> = screen.lines().collect();
    let input = lines
        .iter()
        .position(|l| l.contains("add watch> 0x10:u33"))
        .expect("input line");
    let caret = lines[input + 1].find('^').expect("caret");
    assert_eq!(
        &lines[input][caret..caret + 3],
        "u33",
        "the caret points at the type:\n{screen}"
    );
    // Enter with an error keeps the input open and adds nothing.
    ui.key(KeyCode::Enter);
    ui.until_screen("add watch> 0x10:u33");
    assert!(ui.app().watches.is_empty());
}

#[test]
fn edited_value_reaches_the_target_and_is_logged() {
    let mut fx = spawn_target();
    let mut ui = Ui::start(&fx, &[watch(&fx, "flag", "u32")]);
    ui.until("the flag's value", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    ui.key(KeyCode::Char('e'));
    ui.send(KeyCode::Char('u'), KeyModifiers::CONTROL);
    ui.type_text("7");
    ui.key(KeyCode::Enter);
    ui.until("the write in the log", |app| {
        app.log.iter().any(|e| e.ok && e.new == "7")
    });
    fx.expect_line("flag=7");
    ui.until("the write in the log", |app| {
        app.log.iter().any(|e| e.ok && e.new == "7")
    });
    ui.until("the new value", |app| {
        app.watches.rows[0].value_text().as_deref() == Some("7")
    });
    // Undo writes the old value back, and the target sees that too.
    ui.key(KeyCode::Char('u'));
    ui.until("the undo in the log", |app| app.log.len() == 2);
    fx.expect_line("flag=0");
    ui.key(KeyCode::Char('5'));
    ui.until_screen("0 → 7");
    insta::assert_snapshot!("write_log", normalized(&ui.screen(), &fx));
    let export = std::env::temp_dir().join(format!("pvtui-log-{}.tsv", fx.pid));
    ui.key(KeyCode::Char('E'));
    ui.send(KeyCode::Char('u'), KeyModifiers::CONTROL);
    ui.type_text(&export.display().to_string());
    ui.key(KeyCode::Enter);
    ui.until_screen("exported 2 log entries");
    let tsv = std::fs::read_to_string(&export).expect("exported log");
    let _ = std::fs::remove_file(&export);
    assert!(tsv.starts_with("time\twhat\taddress\tplace"), "{tsv}");
    // The write's address by name, as the CLI prints it.
    assert!(tsv.contains("\ttui_target!flag\t"), "{tsv}");
    assert!(
        tsv.contains("\twrite\t") && tsv.contains("\tundo\t") && tsv.contains("landed"),
        "{tsv}"
    );
}

#[test]
fn out_of_range_value_is_refused_before_writing() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[watch(&fx, "flag", "u8")]);
    ui.until("the flag's value", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    ui.key(KeyCode::Char('e'));
    ui.send(KeyCode::Char('u'), KeyModifiers::CONTROL);
    ui.type_text("256");
    ui.until_screen("^ out of range 0..=255");
    ui.key(KeyCode::Enter);
    ui.until_screen("new value (u8)> 256");
    assert!(ui.app().log.is_empty(), "nothing was written");
}

/// Parses `score=V steps=S`.
fn score_line(fx: &mut Fixture) -> (u64, u64) {
    let line = fx.expect_line("score=");
    let mut parts = line.split_whitespace().map(|kv| {
        kv.split_once('=')
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("bad line {line:?}"))
    });
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[test]
fn freeze_holds_a_value_the_target_keeps_changing() {
    let mut fx = spawn_target();
    let mut ui = Ui::start(&fx, &[watch(&fx, "score", "u64")]);
    ui.until("the score", |app| {
        app.watches.rows.first().is_some_and(|w| w.value.is_some())
    });
    ui.key(KeyCode::Char('f'));
    ui.until("the freeze", |app| app.watches.rows[0].frozen.is_some());
    let (_, frozen) = ui.app().watches.rows[0]
        .frozen
        .clone()
        .expect("frozen bytes");
    let frozen = u64::from_le_bytes(frozen.try_into().expect("8 bytes"));
    // Let the freeze take hold, then watch what the target itself sees.
    score_line(&mut fx);
    score_line(&mut fx);
    let (_, first_steps) = score_line(&mut fx);
    let mut drift = Vec::new();
    let mut last_steps = first_steps;
    for _ in 0..11 {
        let (value, steps) = score_line(&mut fx);
        drift.push(value.saturating_sub(frozen));
        last_steps = steps;
    }
    let climbed = last_steps - first_steps;
    assert!(climbed >= 200, "the target kept adding: {climbed} steps");
    // Held, what the target sees stays near the frozen value (a late tick on
    // a busy machine lets it run a little); free, it would be `climbed` ahead.
    drift.sort_unstable();
    let median = drift[drift.len() / 2];
    assert!(
        median < climbed / 4,
        "frozen at {frozen}, the target saw it drift by {drift:?} over {climbed} additions"
    );
    ui.until_screen("frozen");
    // Unfrozen, the value runs on again.
    ui.key(KeyCode::Char('f'));
    ui.until("the release", |app| app.watches.rows[0].frozen.is_none());
    loop {
        let (value, _) = score_line(&mut fx);
        if value > frozen + 200 {
            break;
        }
    }
}

#[test]
fn target_killed_shows_the_exit_banner_and_keeps_last_values() {
    let mut fx = spawn_target();
    let mut ui = Ui::start(&fx, &[watch(&fx, "magic", "u32")]);
    ui.until("magic", |app| {
        app.watches
            .rows
            .first()
            .and_then(|w| w.value_text())
            .is_some()
    });
    fx.kill();
    ui.until("the exit", App::exited);
    ui.until_screen("TARGET EXITED");
    assert!(
        ui.screen().contains("12648430"),
        "the last value is kept:\n{}",
        ui.screen()
    );
    // Editing is disabled, and nothing panics.
    ui.key(KeyCode::Char('e'));
    ui.key(KeyCode::Char('f'));
    ui.key(KeyCode::Char('2'));
    ui.key(KeyCode::Char('3'));
    ui.key(KeyCode::Char('1'));
    ui.until_screen("TARGET EXITED");
    assert!(ui.app().input.is_none());
    insta::assert_snapshot!("exited", normalized(&ui.screen(), &fx));
}

#[test]
fn maps_filter_and_enter_opens_the_hex_view() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    ui.key(KeyCode::Char('2'));
    ui.until("the residency", |app| !app.maps.residency.is_empty());
    ui.key(KeyCode::Char('/'));
    ui.type_text("tui_target");
    ui.key(KeyCode::Enter);
    ui.until_screen("filter \"tui_target\"");
    insta::assert_snapshot!("maps", normalized(&ui.screen(), &fx));
    let first = ui.app().maps.visible()[0];
    let start = ui.app().maps.maps.regions()[first].start;
    ui.key(KeyCode::Enter);
    ui.until("the hex view", |app| {
        app.pane == Pane::Hex && app.hex.data.as_ref().is_some_and(|d| d.addr == start)
    });
    // The ELF magic at the start of the executable's first mapping.
    ui.until_screen("7f 45 4c 46");
}

#[test]
fn hex_view_marks_unread_bytes_and_says_why() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    let page = fx.addr("page");
    let size = pvtui::sys::page_size();
    ui.until("the maps", |app| !app.maps.maps.regions().is_empty());
    ui.key(KeyCode::Char('3'));
    ui.key(KeyCode::Char('g'));
    ui.type_text(&format!("{:#x}", page + size - 64));
    ui.key(KeyCode::Enter);
    ui.until("the page", |app| {
        app.hex.data.is_some() && app.hex.base == page + size - 64
    });
    // The known pattern: byte i is i*7+3, here i = size-64.
    let i = size - 64;
    let expect: String = (0..4)
        .map(|k| format!("{:02x} ", ((i + k) * 7 + 3) as u8))
        .collect();
    ui.until_screen(expect.trim_end());
    ui.until_screen("?? ?? ?? ??");
    // With the cursor on an unread byte the status line says why.
    for _ in 0..4 {
        ui.key(KeyCode::Char('j'));
    }
    ui.until_screen("?? unmapped");
    insta::assert_snapshot!("hex", normalized(&ui.screen(), &fx));
}

#[test]
fn search_finds_bytes_opens_hex_and_adds_a_watch() {
    let fx = spawn_target();
    let magic = fx.addr("magic");
    let mut ui = Ui::start(&fx, &[]);
    ui.until("the maps", |app| !app.maps.maps.regions().is_empty());
    ui.key(KeyCode::Char('4'));
    ui.key(KeyCode::Char('/'));
    // 0xC0FFEE as a little-endian u32.
    ui.type_text("hex ee ff c0 00");
    ui.key(KeyCode::Enter);
    ui.until("the search to end", |app| app.search.summary.is_some());
    let at = ui.app().search.hits.iter().position(|h| h.addr == magic);
    let at = at.unwrap_or_else(|| panic!("magic not among the hits:\n{}", ui.screen()));
    ui.until_screen(&format!("{magic:#x}"));
    for _ in 0..at {
        ui.key(KeyCode::Down);
    }
    ui.until("the selection", |app| app.search.selected == at);
    ui.key(KeyCode::Char('a'));
    ui.until("the watch", |app| {
        app.watches
            .rows
            .first()
            .and_then(|w| w.value_text())
            .as_deref()
            == Some("ee ff c0 00")
    });
    // Added relative to the executable, not as an absolute address.
    assert!(
        ui.app().watches.rows[0].expr.starts_with("[tui_target]+"),
        "{}",
        ui.app().watches.rows[0].expr
    );
    ui.key(KeyCode::Enter);
    ui.until("the hex view at magic", |app| {
        app.pane == Pane::Hex && app.hex.cursor == magic
    });
}

#[test]
fn value_scan_then_narrowing_keeps_the_unchanged_magic() {
    let fx = spawn_target();
    let magic = fx.addr("magic");
    let mut ui = Ui::start(&fx, &[]);
    ui.until("the maps", |app| !app.maps.maps.regions().is_empty());
    ui.key(KeyCode::Char('4'));
    ui.key(KeyCode::Char('/'));
    ui.type_text("u32 12648430");
    ui.key(KeyCode::Enter);
    ui.until("the scan", |app| {
        app.search.summary.is_some() && app.search.scan.is_some()
    });
    assert!(
        ui.app()
            .search
            .hits
            .iter()
            .any(|h| h.addr == magic && h.value.as_deref() == Some("12648430"))
    );
    ui.key(KeyCode::Char('n'));
    ui.send(KeyCode::Char('u'), KeyModifiers::CONTROL);
    ui.type_text("unchanged");
    ui.key(KeyCode::Enter);
    ui.until("the narrowing", |app| {
        app.search.summary.is_some() && app.search.query.contains("narrow")
    });
    assert!(
        ui.app().search.hits.iter().any(|h| h.addr == magic),
        "{}",
        ui.screen()
    );
    ui.until_screen("narrow: unchanged");
}

#[test]
fn help_lists_every_key() {
    let fx = spawn_target();
    let mut ui = Ui::start(&fx, &[]);
    ui.key(KeyCode::Char('?'));
    ui.until("the help", |app| app.help);
    ui.until_screen("Keys");
    let screen = ui.screen();
    insta::assert_snapshot!("help", normalized(&screen, &fx));
    // The help scrolls when it does not fit: every action is on some page,
    // and the help scrolls until each was seen (or fails at its end).
    let starts: Vec<String> = pvtui::tui::keys::ACTIONS
        .iter()
        .map(|(_, _, _, what)| what.chars().take(20).collect())
        .collect();
    let mut seen = screen.clone();
    while let Some(missing) = starts.iter().find(|s| !seen.contains(s.as_str())) {
        let before = ui.tui.app.help_scroll;
        ui.key(KeyCode::Down);
        ui.until(&format!("the help to scroll on to {missing:?}"), |app| {
            app.help_scroll > before
        });
        seen.push_str(&ui.screen());
    }
    ui.key(KeyCode::Esc);
    ui.until("the help to close", |app| !app.help);
    ui.key(KeyCode::Char('q'));
    ui.until("quit", |app| app.quit);
}

#[test]
fn demo_in_a_real_terminal_and_the_terminal_is_restored_after_q() {
    if skip("demo_in_a_real_terminal_and_the_terminal_is_restored_after_q") {
        return;
    }
    // After pvtui: its status, whether the tty is back in canonical mode, and
    // whether tmux still shows the alternate screen.
    let script = format!(
        "{} demo --interval 50; echo \"pvtui-status=$?\"; stty -a | grep -o -- '-\\?icanon' | sed 's/^/mode=/'; sleep 60",
        pvtui_bin()
    );
    let tmux = Tmux::start("demo", (120, 40), &script);
    tmux.wait_for("Watches (8)");
    // The demo's watches name its statics: the symbols resolve and read.
    tmux.wait_for("\"hello from the pvtui demo\"");
    tmux.wait_for("pvtui::demo::TICKS");
    tmux.wait_for("[11, 22, 33");
    assert!(tmux.alternate_on());
    // Patch the flag (the last watch): the demo prints that its vault opened.
    tmux.keys(&["G", "e", "C-u", "1", "Enter"]);
    tmux.wait_for("landed");
    tmux.wait_for("THE VAULT IS OPEN");
    tmux.keys(&["2"]);
    tmux.wait_for("Maps (");
    tmux.keys(&["?"]);
    tmux.wait_for("Keys");
    tmux.keys(&["Escape", "q"]);
    let screen = tmux.wait_for("pvtui-status=");
    assert!(screen.contains("pvtui-status=0"), "{screen}");
    let screen = tmux.wait_for("mode=");
    assert!(
        screen.contains("mode=icanon"),
        "the tty is left raw:\n{screen}"
    );
    assert!(!tmux.alternate_on());
}

#[test]
fn name_lookup_lists_every_candidate_when_ambiguous() {
    let a = spawn_target();
    let b = spawn_target();
    let out = Command::new(pvtui_bin())
        .args(["--name", "tui_target"])
        .output()
        .expect("run pvtui");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pick one with --pid"), "{err}");
    for pid in [a.pid, b.pid] {
        assert!(err.contains(&pid.to_string()), "{pid} is not listed: {err}");
    }
    let out = Command::new(pvtui_bin())
        .args(["--name", "no-such-process-pvtui"])
        .output()
        .expect("run pvtui");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("no process is named"), "{err}");
}

#[test]
fn spawned_command_shows_its_output_and_sigterm_restores_the_terminal() {
    if skip("spawned_command_shows_its_output_and_sigterm_restores_the_terminal") {
        return;
    }
    let bin = fixture("tui_target", "", &[]);
    // A config file that rebinds a key and sets the interval.
    let config = std::env::temp_dir().join(format!("pvtui-config-{}", std::process::id()));
    std::fs::create_dir_all(config.join("pvtui")).expect("config dir");
    std::fs::write(
        config.join("pvtui/config.toml"),
        "interval_ms = 50\ntheme = \"gruvbox\"\n[keys]\noutput = \"o\"\n",
    )
    .expect("config file");
    let script = format!(
        "XDG_CONFIG_HOME={} {} --watch magic:u32 -- {}; echo \"pvtui-status=$?\"; stty -a | grep -o -- '-\\?icanon' | sed 's/^/mode=/'; sleep 60",
        config.display(),
        pvtui_bin(),
        bin.display()
    );
    let tmux = Tmux::start("spawn", (120, 40), &script);
    // The symbol of a C target resolves; its output shows under the watches.
    tmux.wait_for("12648430");
    tmux.wait_for("score=");
    tmux.wait_for("every 50 ms");
    tmux.keys(&["o"]);
    tmux.wait_for("Target output");
    // The pane runs a shell; pvtui is its child.
    let shell = tmux.pane_pid();
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .expect("the shell's children");
    let pid: i32 = children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pvtui's pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal pvtui");
    let screen = tmux.wait_for("mode=");
    assert!(
        screen.contains("mode=icanon"),
        "the tty is left raw:\n{screen}"
    );
    assert!(
        screen.contains("pvtui-status=143"),
        "128 + SIGTERM:\n{screen}"
    );
    let _ = std::fs::remove_dir_all(&config);
    assert!(!tmux.alternate_on());
}

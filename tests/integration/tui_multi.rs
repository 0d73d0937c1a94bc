//! The terminal UI over two targets (the shared fixture's parent and
//! child): the header lists both with their state, the watches pane shows a
//! value column per process, and one target exiting leaves the other read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use pvtui::process::Target;
use pvtui::session::{DEFAULT_DEADLINE, Session};
use pvtui::tui::app::Pane;
use pvtui::tui::app::{App, AppOptions};
use pvtui::tui::keys::KeyMap;
use pvtui::tui::theme::Theme;
use pvtui::tui::{Event, Tui, run_until};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tmux::{Tmux, skip};
use crate::util::{Fixture, PATIENCE, fixture, pvtui_bin};

struct Ui {
    tui: Tui,
    terminal: Terminal<TestBackend>,
}

impl Ui {
    /// The UI on `main`, with `peer` added as a second target.
    fn start(main: i32, peer: i32, watches: &[String]) -> Ui {
        let target = Arc::new(Target::attach(main).expect("attach to the parent"));
        let options = AppOptions {
            pid: main,
            name: target.name().to_string(),
            access: target.access(),
            interval: Duration::from_millis(10),
            theme: Theme::fallback(),
            keys: KeyMap::default(),
            spawned: false,
        };
        let session = Session::over(target, DEFAULT_DEADLINE).expect("a session");
        let mut tui = Tui::start(session, options, watches.to_vec()).expect("start the UI");
        tui.app.add_target(&peer.to_string());
        assert_eq!(tui.app.peers.list.len(), 1, "{:?}", tui.app.message);
        let terminal = Terminal::new(TestBackend::new(120, 14)).expect("test terminal");
        Ui { tui, terminal }
    }

    fn until(&mut self, what: &str, done: impl FnMut(&App) -> bool) {
        let Tui { app, events, .. } = &mut self.tui;
        let ok = run_until(&mut self.terminal, app, events, PATIENCE, done).expect("the loop runs");
        assert!(ok, "never saw {what}; the screen:\n{}", self.screen());
    }

    fn screen(&self) -> String {
        crate::util::buffer_text(self.terminal.backend().buffer())
    }

    fn key(&self, c: char) {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        self.tui
            .sender
            .send(Event::Key(key, Instant::now()))
            .expect("the loop's channel is open");
    }

    fn enter(&self) {
        let key = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        self.tui
            .sender
            .send(Event::Key(key, Instant::now()))
            .expect("the loop's channel is open");
    }

    /// Draws once more, so the screen shows the state just reached.
    fn redraw(&mut self) {
        let Tui { app, events, .. } = &mut self.tui;
        run_until(&mut self.terminal, app, events, Duration::ZERO, |_| true).expect("draw");
    }
}

/// The screen with what varies between runs replaced.
fn normalized(screen: &str, parent: i32, child: i32) -> String {
    let mut text = screen.to_string();
    for (pid, with) in [(parent, "PARENT"), (child, "CHILD")] {
        let re = regex::Regex::new(&format!(r"\b{pid}\b")).expect("pattern");
        text = re.replace_all(&text, with).into_owned();
    }
    let rules: &[(&str, &str)] = &[
        (r"0x[0-9a-f]+", "0xADDR"),
        (r" *pidfd: .*\| nowait: [a-z]+( \([a-z]+\))?", " ACCESS"),
        (r"every \d+ ms.*", "every SCHEDULE"),
        (r"tick \d+", "tick N"),
        (r"[▁▂▃▄▅▆▇█]+ *", "~spark~ "),
        (r"sh\\u\{1b\}\[7mchild", "CHILD-NAME"),
        (r"inode \d+", "inode N"),
        (r"shmid \d+", "shmid N"),
        (r"dev [0-9a-f]+:[0-9a-f]+", "dev D"),
        (r"pvtui-shared-file-\w+", "pvtui-shared-file-XXXXXX"),
    ];
    text = crate::tui::replace_each(text, rules);
    // Column widths follow the pids' lengths: runs of spaces count as one.
    let padding = regex::Regex::new(r" {2,}").expect("pattern");
    text = padding.replace_all(&text, " ").into_owned();
    crate::tui::one_border_dash(&text)
}

fn pair() -> (Fixture, i32, i32) {
    let fx = Fixture::spawn(&fixture("shared", "", &[]), &[]);
    let (parent, child) = (fx.pid, fx.number("child_pid") as i32);
    (fx, parent, child)
}

#[test]
fn two_targets_show_a_value_column_each_and_one_leaving_keeps_the_other() {
    let (_fx, parent, child) = pair();
    // The object's first byte: the parent maps it shared, the child only
    // through its private mapping; both read 'A'.
    let expr = format!("[pvtui-shared-{parent}]:u8");
    let mut ui = Ui::start(parent, child, std::slice::from_ref(&expr));
    ui.until("both values", |app| {
        let Some(row) = app.watches.rows.first() else {
            return false;
        };
        row.value.is_some() && app.peers.list[0].value(row.id).is_some()
    });
    ui.redraw();
    let row_id = ui.tui.app.watches.rows[0].id;
    assert_eq!(
        ui.tui.app.watches.rows[0].value,
        Some(pvtui::expr::Value::Unsigned(u64::from(b'A')))
    );
    assert!(ui.tui.app.peers.list[0].value(row_id).is_some());
    let screen = ui.screen();
    assert!(screen.contains(&format!("pid {child}")), "{screen}");
    assert!(screen.contains("● running"), "{screen}");
    insta::assert_snapshot!(
        "two_targets_header_and_watches",
        normalized(&screen, parent, child)
    );

    kill(Pid::from_raw(child), Signal::SIGKILL).expect("kill the child");
    ui.until("the child's exit", |app| app.peers.list[0].exited());
    let tick = ui.tui.app.poll.tick;
    ui.until("the parent still read", |app| app.poll.tick > tick + 2);
    ui.redraw();
    let screen = ui.screen();
    assert!(screen.contains("■ exited"), "{screen}");
    assert!(
        screen.contains(&format!("target {child} exited")),
        "{screen}"
    );
    assert!(!ui.tui.app.exited(), "the parent is still attached");
}

#[test]
fn the_shared_pane_lists_both_processes_and_opens_an_object_in_hex_through_either() {
    let (fx, parent, child) = pair();
    let mut ui = Ui::start(parent, child, &[]);
    ui.key('7');
    ui.until("the shared-memory map", |app| {
        app.pane == Pane::Shared && matches!(app.shared.report, Some(Ok(_)))
    });
    ui.redraw();
    let screen = ui.screen();
    assert!(screen.contains("Shared memory ("), "{screen}");
    assert!(screen.contains("7 Shared"), "{screen}");
    assert!(
        screen.contains(&format!("/dev/shm/pvtui-shared-{parent}")),
        "{screen}"
    );
    let names: Vec<String> = ui
        .tui
        .app
        .shared
        .objects()
        .iter()
        .map(|o| o.name.clone())
        .collect();
    for want in ["memfd:pvtui-ring", "/dev/zero", "SYSV"] {
        assert!(names.iter().any(|n| n.contains(want)), "{want}: {names:?}");
    }
    insta::assert_snapshot!("shared_pane", normalized(&screen, parent, child));
    // The shm object: the parent maps it from offset 0 ('A' in page 0, 'B'
    // in page 1); the child maps pages 1..2 shared, and the whole object
    // privately, its page 1 its own copy ('X').
    let shm = format!("pvtui-shared-{parent}");
    let index = {
        let objects = ui.tui.app.shared.objects();
        let i = objects
            .iter()
            .position(|o| o.name.contains(&shm))
            .expect("the shm object is listed");
        let pids: Vec<i32> = objects[i].mappings.iter().map(|m| m.pid).collect();
        assert!(pids.contains(&parent) && pids.contains(&child), "{pids:?}");
        i
    };
    for _ in 0..index {
        ui.key('j');
    }
    ui.until("the shm object selected", |app| {
        app.shared.selected == index
    });
    // v chooses the child; Enter reads the object through it, where the
    // child maps its first byte.
    ui.key('v');
    ui.enter();
    let child_priv = fx.addr("child_priv");
    ui.until("the hex view through the child", |app| {
        app.pane == Pane::Hex
            && app.hex.through == Some(child)
            && app.hex.cursor == child_priv
            && app.hex.bytes_at_cursor(1) == Some(&b"A"[..])
    });
    ui.redraw();
    let screen = ui.screen();
    assert!(screen.contains(&format!("through {child} ")), "{screen}");
    // The child's own copy of page 1, read through the child.
    let page = fx.number("page");
    ui.tui.app.open_hex(child_priv + page);
    ui.until("the child's copy", |app| {
        app.hex.bytes_at_cursor(1) == Some(&b"X"[..])
    });
    // v in the hex view: the main target reads from now on.
    ui.key('v');
    ui.until("the hex view through the parent", |app| {
        app.hex.through.is_none() && app.hex_pid() == parent
    });
    // Back in the Shared pane, v comes round to the parent: Enter opens the
    // parent's mapping of the object.
    ui.key('7');
    ui.key('v');
    ui.enter();
    let parent_shm = fx.addr("parent_shm");
    ui.until("the hex view on the parent's mapping", |app| {
        app.pane == Pane::Hex
            && app.hex.through.is_none()
            && app.hex.cursor == parent_shm
            && app.hex.bytes_at_cursor(1) == Some(&b"A"[..])
    });
}

#[test]
fn the_terminal_ui_takes_two_pids_and_drops_one() {
    if skip("the_terminal_ui_takes_two_pids_and_drops_one") {
        return;
    }
    let (_fx, parent, child) = pair();
    let script = format!(
        "{} -p {parent} -p {child} -w '[pvtui-shared-{parent}]:u8' --interval 50; sleep 60",
        pvtui_bin()
    );
    let tmux = Tmux::start("multi", (140, 30), &script);
    let screen = tmux.wait_for(&format!("pid {child}"));
    assert!(screen.contains(&format!("pid {parent}")), "{screen}");
    // 'A' in the parent's column; the child's column fills in too.
    tmux.wait_for(" 65 ");
    tmux.keys(&["X"]);
    tmux.wait_for(&format!("no longer showing {child}"));
    tmux.keys(&["A"]);
    tmux.wait_for("add target (pid or name)>");
    let pid = child.to_string();
    tmux.keys(&[&pid, "Enter"]);
    tmux.wait_for(&format!("showing {child} beside {parent}"));
    tmux.keys(&["q"]);
}

#[test]
fn the_terminal_ui_shows_the_shared_pane_and_reads_hex_through_either_target() {
    if skip("the_terminal_ui_shows_the_shared_pane_and_reads_hex_through_either_target") {
        return;
    }
    let (_fx, parent, child) = pair();
    let script = format!(
        "{} -p {parent} -p {child} --interval 50; sleep 60",
        pvtui_bin()
    );
    let tmux = Tmux::start("shared-pane", (140, 30), &script);
    tmux.wait_for(&format!("pid {child}"));
    tmux.keys(&["7"]);
    let screen = tmux.wait_for(&format!("/dev/shm/pvtui-shared-{parent}"));
    assert!(screen.contains("Shared memory ("), "{screen}");
    assert!(screen.contains("v process"), "{screen}");
    // Enter opens the first object through the main target; v turns the
    // hex view to the other.
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("through {parent} "));
    tmux.keys(&["v"]);
    tmux.wait_for(&format!("through {child} "));
    tmux.keys(&["q"]);
}

//! A real terminal for the tests: a tmux server of our own with one window,
//! killed on drop. The screen is read with `capture-pane`, and waits poll
//! it until what is expected shows (no fixed sleeps).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{PATIENCE, have_program};

/// The window's name inside our server.
const WINDOW: &str = "t";

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A `width`×`height` window running `command` under a server named
    /// after `name` and this test process.
    pub fn start(name: &str, (width, height): (u16, u16), command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("pvtui-{name}-{}", std::process::id()),
        };
        let (width, height) = (width.to_string(), height.to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            WINDOW,
            "-x",
            &width,
            "-y",
            &height,
            command,
        ]);
        tmux
    }

    /// A 120×40 window running an interactive shell (for job control).
    pub fn shell(name: &str) -> Tmux {
        Tmux::start(name, (120, 40), "bash --norc --noprofile -i")
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", WINDOW])
    }

    /// `"A M"`: whether the alternate screen (A) and mouse reporting (M) are on.
    pub fn flags(&self) -> String {
        self.run(&[
            "display",
            "-p",
            "-t",
            WINDOW,
            "#{alternate_on} #{mouse_any_flag}",
        ])
        .trim()
        .to_string()
    }

    /// Whether the alternate screen is on.
    pub fn alternate_on(&self) -> bool {
        self.flags().starts_with('1')
    }

    /// The pid of the window's first process (the shell or the command).
    pub fn pane_pid(&self) -> i32 {
        self.run(&["display", "-p", "-t", WINDOW, "#{pane_pid}"])
            .trim()
            .parse()
            .expect("the pane's pid")
    }

    /// Waits until `done(screen, flags)` holds.
    pub fn wait(&self, what: &str, mut done: impl FnMut(&str, &str) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (screen, flags) = (self.screen(), self.flags());
            if done(&screen, &flags) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tmux never showed {what} (flags {flags}):\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen shows `text`; the screen then.
    pub fn wait_for(&self, text: &str) -> String {
        let mut seen = String::new();
        self.wait(&format!("{text:?}"), |screen, _| {
            seen = screen.to_string();
            screen.contains(text)
        });
        seen
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", WINDOW];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` and Enter.
    pub fn line(&self, text: &str) {
        self.keys(&[text, "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// Skips (returning true) with a reason when tmux or bash is missing.
pub fn skip(test: &str) -> bool {
    for program in ["tmux", "bash"] {
        if !have_program(program) {
            eprintln!("SKIPPED {test}: needs {program}");
            return true;
        }
    }
    false
}

//! Signals in a real terminal (tmux): Ctrl-Z gives the terminal back and
//! `fg` takes it again with the screen drawn anew; SIGQUIT and SIGUSR1 end
//! the UI with the terminal restored; a stopped target says so.

use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::tmux::{Tmux, skip};
use crate::util::{Fixture, PATIENCE, fixture, have_program, pvtui_bin};

#[test]
fn ctrl_z_restores_the_terminal_and_fg_redraws_in_raw_mode() {
    if skip("ctrl_z_restores_the_terminal_and_fg_redraws_in_raw_mode") {
        return;
    }
    let fx = Fixture::spawn(&fixture("tui_target", "", &[]), &[]);
    let tmux = Tmux::shell("tstp");
    tmux.line(&format!(
        "{} --pid {}; echo pvtui-status=$?",
        pvtui_bin(),
        fx.pid
    ));
    tmux.wait("the UI", |s, f| s.contains("running") && f == "1 1");
    tmux.keys(&["C-z"]);
    tmux.wait("the shell, the terminal restored", |s, f| {
        s.contains("Stopped") && f == "0 0"
    });
    tmux.line("fg");
    tmux.wait("the UI drawn again", |s, f| {
        s.contains("running") && !s.contains("Stopped") && f == "1 1"
    });
    // Raw mode is back: a key reaches the UI without Enter.
    tmux.keys(&["2"]);
    tmux.wait("the maps pane", |s, _| s.contains("Maps ("));
    // A target stopped by SIGSTOP says so, and running once continued.
    kill(Pid::from_raw(fx.pid), Signal::SIGSTOP).expect("stop the fixture");
    tmux.wait("stopped", |s, _| s.contains("■ stopped"));
    kill(Pid::from_raw(fx.pid), Signal::SIGCONT).expect("continue the fixture");
    tmux.wait("running", |s, _| s.contains("● running"));
    tmux.keys(&["q"]);
    tmux.wait("the UI gone", |_, f| f == "0 0" && find_ui(&fx).is_none());
    // The list after it ran at the stop; `fg` gave back the UI alone. The
    // shell may flush what is typed while it takes the terminal back: ask
    // again until it answers.
    let mut asked: Option<Instant> = None;
    tmux.wait("a clean exit", |s, _| {
        if !s.contains("after-fg=") && asked.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
            tmux.line("echo after-fg=$?");
            asked = Some(Instant::now());
        }
        s.contains("after-fg=0")
    });
}

#[test]
fn sigquit_and_sigusr1_end_the_ui_with_the_terminal_restored() {
    if skip("sigquit_and_sigusr1_end_the_ui_with_the_terminal_restored") {
        return;
    }
    let fx = Fixture::spawn(&fixture("tui_target", "", &[]), &[]);
    let tmux = Tmux::shell("quit");
    for (signal, status) in [(Signal::SIGQUIT, 131), (Signal::SIGUSR1, 138)] {
        tmux.line("clear");
        tmux.line(&format!(
            "{} --pid {}; echo pvtui-status=$?",
            pvtui_bin(),
            fx.pid
        ));
        tmux.wait("the UI", |s, f| s.contains("running") && f == "1 1");
        let pid = ui_pid(&fx);
        kill(Pid::from_raw(pid), signal).expect("signal the UI");
        tmux.wait("the exit", |s, f| {
            s.contains(&format!("pvtui-status={status}")) && f == "0 0"
        });
    }
}

/// The pid of the pvtui attached to the fixture: the one process whose
/// command line names it.
fn ui_pid(fx: &Fixture) -> i32 {
    find_ui(fx).expect("the UI's process")
}

fn find_ui(fx: &Fixture) -> Option<i32> {
    let want = format!("--pid\0{}", fx.pid);
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&want))
        })
}

#[test]
fn q_quits_while_the_started_target_prints_without_end() {
    if skip("q_quits_while_the_started_target_prints_without_end") || !have_program("yes") {
        return;
    }
    let tmux = Tmux::shell("yes");
    tmux.line(&format!("{} -- yes; echo pvtui-status=$?", pvtui_bin()));
    tmux.wait("the UI with the output dropped", |s, f| {
        s.contains("target says") && f == "1 1"
    });
    tmux.keys(&["6"]);
    tmux.wait("the count of dropped lines", |s, _| {
        s.contains("earlier lines dropped")
    });
    tmux.keys(&["q"]);
    tmux.wait("the exit", |s, f| {
        s.contains("pvtui-status=0") && f == "0 0"
    });
}

/// `pvtui watch` under a shell that started it with SIGINT ignored (a
/// background job, `nohup`): Ctrl-C still stops it after a last line, with
/// 130; SIGTERM with 143.
#[test]
fn watch_stops_on_sigint_even_when_started_with_it_ignored() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc::channel;
    if !have_program("sh") {
        eprintln!("SKIPPED watch_stops_on_sigint_even_when_started_with_it_ignored: needs sh");
        return;
    }
    let fx = Fixture::spawn(&fixture("target", "", &[]), &[]);
    for (signal, status, json) in [(Signal::SIGINT, 130, false), (Signal::SIGTERM, 143, true)] {
        let pid = fx.pid.to_string();
        let mut args = vec!["watch", "--pid", &pid, "value", "--interval", "20"];
        if json {
            args.push("--json");
        }
        // `trap "" INT` ignores SIGINT, and exec keeps it ignored in pvtui.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("trap '' INT; exec \"$0\" \"$@\"")
            .arg(pvtui_bin())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pvtui watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                let _ = tx.send(line);
            }
        });
        let first = lines.recv_timeout(PATIENCE).expect("a first tick");
        assert!(first.contains("42"), "{first}");
        let status_file = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .expect("pvtui's status");
        let ignored = status_file
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .expect("SigIgn");
        assert_ne!(
            ignored & (1 << (Signal::SIGINT as u64 - 1)),
            0,
            "SIGINT is ignored"
        );
        let pvtui = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
        kill(pvtui, signal).expect("signal pvtui");
        let out = child.wait_with_output().expect("wait for pvtui");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{signal}: {err}");
        let last = lines.iter().last().expect("a last line after the signal");
        if json {
            let v: serde_json::Value = serde_json::from_str(&last).expect("a JSON line");
            assert_eq!(v["event"], "stopped", "{last}");
            assert_eq!(v["signal"], signal.as_str(), "{last}");
        } else {
            assert!(
                last.starts_with(&format!("stopped by {signal} after ")),
                "{last}"
            );
        }
    }
}

//! The command line as a whole: shell completions, manual pages, the
//! version, and the target options every command shares.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use clap::CommandFactory;

use crate::util::{Fixture, fixture, pvtui_bin, skip_without_program};

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

/// Subcommands that take a `--pid` option and still have no `-p` for it.
/// The list may only shrink: a command that gains `-p` leaves it unchecked.
const WITHOUT_SHORT_PID: [&str; 8] = [
    "read", "write", "watch", "search", "scan", "writers", "pointers", "freeze",
];

fn pvtui<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(pvtui_bin())
        .args(args)
        .output()
        .expect("run pvtui")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The visible subcommands, from the definitions the binary parses with.
fn subcommands() -> Vec<String> {
    pvtui::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

/// The subcommands with a `--pid` option.
fn subcommands_with_pid() -> Vec<String> {
    pvtui::cli::Cli::command()
        .get_subcommands()
        .filter(|s| s.get_arguments().any(|a| a.get_long() == Some("pid")))
        .map(|s| s.get_name().to_string())
        .collect()
}

fn spawn_target() -> Fixture {
    Fixture::spawn(&fixture("target", "", &[]), &[])
}

#[test]
fn completions_generate_for_every_shell() {
    let subs = subcommands();
    assert!(subs.len() >= 10, "{subs:?}");
    for shell in SHELLS {
        let out = pvtui(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for sub in &subs {
            assert!(script.contains(sub.as_str()), "{shell} script lacks {sub}");
        }
        let pid = if shell == "fish" { "-l pid" } else { "--pid" };
        assert!(script.contains(pid), "{shell} script lacks {pid}");
    }
    let out = pvtui(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&out)
    );
}

/// Runs the bash completion function for `words` (the last one being
/// completed) with the generated script sourced, and returns the candidates.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let program = format!(
        "source '{}' || exit 9; COMP_WORDS=({}); COMP_CWORD={cword}; \
         _pvtui pvtui '{}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words[cword],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("run bash");
    assert!(out.status.success(), "bash: {}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_live_pids_and_names() {
    if skip_without_program("bash_completes_live_pids_and_names", "bash") {
        return;
    }
    let fx = spawn_target();
    let dir = tempfile::tempdir().expect("temp dir");
    let script = script_file(dir.path(), "bash");
    assert_parses("bash", &script);

    let pid = fx.pid.to_string();
    for words in [
        ["pvtui", "read", "--pid", ""],
        ["pvtui", "maps", "-p", ""],
        ["pvtui", "shared", "--pid", ""],
    ] {
        let got = bash_complete(&script, &words);
        assert!(got.contains(&pid), "{words:?} offered no {pid}: {got:?}");
        assert!(got.iter().all(|c| c.parse::<u32>().is_ok()), "{got:?}");
    }
    let prefix = &pid[..pid.len() - 1];
    let got = bash_complete(&script, &["pvtui", "dump", "--pid", prefix]);
    assert!(got.contains(&pid), "{got:?}");
    assert!(got.iter().all(|c| c.starts_with(prefix)), "{got:?}");

    let comm = comm(&fx);
    let comm = comm.as_str();
    let got = bash_complete(&script, &["pvtui", "--name", &comm[..2]]);
    assert!(got.iter().any(|c| c == comm), "{comm}: {got:?}");

    let got = bash_complete(&script, &["pvtui", "rea"]);
    assert_eq!(got, ["read"]);
}

#[test]
fn man_pages_render_without_warnings() {
    let out = pvtui(&["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(".TH pvtui 1"), "{}", stdout(&out));
    let out = pvtui(&["man", "read"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(".TH pvtui-read 1"),
        "{}",
        stdout(&out)
    );
    let out = pvtui(&["man", "no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the subcommands are: probe"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().to_str().expect("utf-8 temp dir");
    let out = pvtui(&["man", "--out", out_dir]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut expected = vec!["pvtui.1".to_string()];
    expected.extend(subcommands().iter().map(|s| format!("pvtui-{s}.1")));
    expected.sort();
    assert_eq!(pages, expected);

    if skip_without_program("man_pages_render_without_warnings (rendering)", "groff") {
        return;
    }
    for page in &pages {
        let path = dir.path().join(page);
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("run groff");
        assert!(out.status.success(), "groff {page}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "groff warns about {page}");
    }
    if !skip_without_program("man_pages_render_without_warnings (man -l)", "man") {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("pvtui-read.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("run man");
        assert!(out.status.success(), "man -l: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("--pid"), "{text}");
    }
}

#[test]
fn version_and_probe_name_the_version() {
    let version = env!("CARGO_PKG_VERSION");
    let out = pvtui(&["--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim_end(), format!("pvtui {version}"));

    let out = pvtui(&["probe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert_eq!(
        first.split_whitespace().collect::<Vec<_>>(),
        ["pvtui", version]
    );

    let out = pvtui(&["probe", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe json");
    assert_eq!(value["version"], version);
    assert!(value["pidfd_open"].is_boolean(), "{value}");
}

/// `-p PID` parses like `--pid PID` in every command that has it: both stop
/// at the same unknown option with the same message, and `maps` prints the
/// same regions. Commands without `-p` are printed and must be listed above.
#[test]
fn short_p_works_like_long_pid() {
    let fx = spawn_target();
    let pid = fx.pid.to_string();
    let mut without = Vec::new();
    let mut top = vec![String::new()];
    top.extend(subcommands_with_pid());
    for sub in &top {
        let args = |flag: &str| -> Vec<String> {
            let mut v: Vec<String> = Vec::new();
            if !sub.is_empty() {
                v.push(sub.clone());
            }
            v.extend([flag.to_string(), pid.clone(), "--no-such-option".into()]);
            v
        };
        let short = pvtui(&args("-p"));
        let long = pvtui(&args("--pid"));
        assert_eq!(long.status.code(), Some(2), "{sub}: {}", stderr(&long));
        assert!(
            stderr(&long).contains("'--no-such-option'"),
            "{sub}: {}",
            stderr(&long)
        );
        if stderr(&short).contains("unexpected argument '-p'") {
            without.push(sub.clone());
            continue;
        }
        assert_eq!(short.status.code(), long.status.code(), "{sub}");
        assert_eq!(stderr(&short), stderr(&long), "{sub}");
    }
    eprintln!("commands without -p: {without:?}");
    for sub in &without {
        assert!(
            WITHOUT_SHORT_PID.contains(&sub.as_str()),
            "`pvtui {sub}` takes --pid but not -p"
        );
    }

    let short = pvtui(&["maps", "-p", &pid]);
    let long = pvtui(&["maps", "--pid", &pid]);
    assert!(long.status.success(), "{}", stderr(&long));
    assert!(stdout(&long).contains("[stack]"), "{}", stdout(&long));
    assert_eq!(stdout(&short), stdout(&long));
}

/// The script for `shell`, written to a file in `dir`.
fn script_file(dir: &Path, shell: &str) -> std::path::PathBuf {
    let out = pvtui(&["completions", shell]);
    assert!(out.status.success(), "{shell}: {}", stderr(&out));
    let path = dir.join(format!("pvtui.{shell}"));
    std::fs::write(&path, &out.stdout).expect("write script");
    path
}

/// `shell -n script`: the script parses.
fn assert_parses(shell: &str, script: &Path) {
    let out = Command::new(shell)
        .arg("-n")
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("run {shell} -n: {e}"));
    assert!(out.status.success(), "{shell} -n: {}", stderr(&out));
}

/// The fixture's command name, as completions offer it.
fn comm(fx: &Fixture) -> String {
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", fx.pid)).expect("comm");
    comm.trim_end().to_string()
}

#[test]
fn fish_completes_live_pids_and_names() {
    if skip_without_program("fish_completes_live_pids_and_names", "fish") {
        return;
    }
    let fx = spawn_target();
    let dir = tempfile::tempdir().expect("temp dir");
    let script = script_file(dir.path(), "fish");
    let complete = |line: &str| -> Vec<String> {
        let program = format!("source '{}'; complete -C '{line}'", script.display());
        let out = Command::new("fish")
            .args(["--no-config", "-c", &program])
            .output()
            .expect("run fish");
        assert!(out.status.success(), "fish: {}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_string())
            .collect()
    };
    let pid = fx.pid.to_string();
    for line in ["pvtui read --pid ", "pvtui maps -p ", "pvtui --pid "] {
        let got = complete(line);
        assert!(got.contains(&pid), "{line:?} offered no {pid}: {got:?}");
    }
    let comm = comm(&fx);
    let comm = comm.as_str();
    let got = complete(&format!("pvtui shared --name {}", &comm[..2]));
    assert!(got.iter().any(|c| c == comm), "{comm}: {got:?}");
}

#[test]
fn zsh_script_parses_and_lists_processes() {
    if skip_without_program("zsh_script_parses_and_lists_processes", "zsh") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = script_file(dir.path(), "zsh");
    assert_parses("zsh", &script);
    let text = std::fs::read_to_string(&script).expect("read script");
    assert!(text.contains(":PID:_pids'"), "{text}");
    assert!(text.contains(":NAME:_process_names'"), "{text}");
    // Both actions are functions zsh ships: loading them now (+X) fails
    // when their files are not on its fpath.
    let out = Command::new("zsh")
        .args(["-fc", "autoload -Uz +X _pids _process_names"])
        .output()
        .expect("run zsh");
    assert!(out.status.success(), "zsh: {}", stderr(&out));
}

/// An expression that does not parse is a usage error (exit 2), in text and
/// in JSON, where the error object says its kind.
#[test]
fn read_of_an_expression_that_does_not_parse_exits_with_usage() {
    let fx = crate::tui::spawn_target();
    let pid = fx.pid.to_string();
    let (code, _, err) = crate::util::run_pvtui(&["read", "--pid", &pid, "magic+"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = crate::util::run_pvtui(&["read", "--pid", &pid, "--json", "magic+"]);
    assert_eq!(code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["kind"], "usage", "{v}");
}

/// How pvtui's stderr is left for one run.
#[derive(Clone, Copy, Debug)]
enum Stderr {
    /// A pipe, read to its end.
    Read,
    /// A pipe whose read end is gone: writes fail with EPIPE.
    ReaderGone,
    /// No stderr at all (`2>&-`).
    Closed,
}

fn pvtui_with_stderr(args: &[&str], how: Stderr) -> Output {
    match how {
        Stderr::Read => pvtui(args),
        Stderr::ReaderGone => {
            let (reader, writer) = nix::unistd::pipe().expect("a pipe");
            drop(reader);
            Command::new(pvtui_bin())
                .args(args)
                .stderr(writer)
                .stdout(std::process::Stdio::piped())
                .output()
                .expect("run pvtui")
        }
        Stderr::Closed => Command::new("sh")
            .args(["-c", r#"exec "$0" "$@" 2>&-"#, pvtui_bin()])
            .args(args)
            .output()
            .expect("run pvtui under sh"),
    }
}

/// A diagnostic to a stderr that cannot take it is lost; the command does
/// not panic, prints the same on stdout and ends with the same status.
#[test]
fn a_closed_stderr_loses_diagnostics_and_changes_nothing_else() {
    let fx = Fixture::spawn(&fixture("names", "", &[]), &[]);
    let pid = fx.pid.to_string();
    // A pid that was in use and is not now: a child already reaped.
    // pvtui itself: present wherever the tests run (the test VM has no `true`).
    let mut gone = Command::new(pvtui_bin())
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run pvtui --version");
    gone.wait().expect("reap it");
    let gone = gone.id().to_string();
    let runs: [&[&str]; 3] = [
        // Succeeds, with a line on stderr before its results.
        &["search", "-p", &pid, "--text", "PVTUI-NAMES-MARKER"],
        // Fails: only stderr says why.
        &["read", "-p", &gone, "score:u32"],
        // Succeeds, with a summary on stderr after its results.
        &["scan", "-p", &pid, "--type", "u32", "1544426036"],
    ];
    for args in runs {
        let told = pvtui_with_stderr(args, Stderr::Read);
        assert!(!told.stderr.is_empty(), "{args:?} says nothing on stderr");
        assert_ne!(told.status.code(), Some(101), "{}", stderr(&told));
        // `2>&-` needs a shell (the test VM has none): then the closed
        // pipe is the case tried.
        let hows: &[Stderr] = if crate::util::have_program("sh") {
            &[Stderr::ReaderGone, Stderr::Closed]
        } else {
            eprintln!("NOTE a_closed_stderr: no sh here; stderr closed outright is not tried");
            &[Stderr::ReaderGone]
        };
        for &how in hows {
            let out = pvtui_with_stderr(args, how);
            assert_eq!(out.status.code(), told.status.code(), "{args:?} {how:?}");
            assert_eq!(stdout(&out), stdout(&told), "{args:?} {how:?}");
        }
    }
}

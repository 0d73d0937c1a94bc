//! The default command: the interactive terminal UI, attached by pid, by
//! name, or to a command it starts (`pvtui -- CMD ARGS`).

use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::Duration;

use clap::Args;

use crate::error::{Error, Result};
use crate::session::{DEFAULT_DEADLINE, Session};
use crate::tui::app::OutputPane;
use crate::tui::config::Config;
use crate::tui::keys::KeyMap;
use crate::tui::theme::Theme;
use crate::tui::{AppOptions, Event, Tui, terminal};

/// Options every way of starting the UI shares.
#[derive(Debug, Args, Clone)]
pub struct UiOptions {
    /// A watch to start with, e.g. 0x7ffd1234:u32 or [heap]+0x10:i64 (repeatable)
    #[arg(long = "watch", short = 'w', value_name = "EXPR")]
    pub watch: Vec<String>,
    /// A file of watch expressions, one a line (as saved with `s`)
    #[arg(long, value_name = "FILE")]
    pub watches: Option<PathBuf>,
    /// A theme: dark, light, high-contrast, gruvbox, catppuccin, or a path to a .toml
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Poll interval in milliseconds
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub interval: Option<u64>,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    #[command(flatten)]
    pub targets: super::target::TargetArgs,
    #[command(flatten)]
    pub options: UiOptions,
    /// Start this command and attach to it: `pvtui -- ./game --level 3`
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub fn run(args: UiArgs) -> Result<ExitCode> {
    let settings = Settings::load(&args.options)?;
    match (args.targets.given(), args.command.is_empty()) {
        (true, true) => {
            // The first target is the main one (maps, hex, search, writes);
            // the others show their values beside it.
            let pids = args.targets.pids()?;
            let (main, others) = pids
                .split_first()
                .ok_or_else(|| Error::Usage("say which process".into()))?;
            attach_and_run(*main, None, &settings, Vec::new(), others)
        }
        (false, false) => {
            let mut cmd = std::process::Command::new(&args.command[0]);
            cmd.args(&args.command[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let child = cmd
                .spawn()
                .map_err(|e| Error::Usage(format!("cannot start {:?}: {e}", args.command[0])))?;
            let pid = child_pid(&child)?;
            let started_as = exec_comm(Path::new(&args.command[0]));
            attach_and_run(pid, Some((child, started_as)), &settings, Vec::new(), &[])
        }
        (false, true) => Err(Error::Usage(
            "say which process: --pid PID, --name NAME, or -- CMD ARGS (or try `pvtui demo`)"
                .into(),
        )),
        _ => Err(Error::Usage(
            "use one of --pid, --name or -- CMD, not several".into(),
        )),
    }
}

/// Theme, interval, keys and watches from the config file and the options.
pub struct Settings {
    pub theme: Theme,
    pub interval: Duration,
    pub keys: KeyMap,
    pub watches: Vec<String>,
}

impl Settings {
    pub fn load(options: &UiOptions) -> Result<Settings> {
        let dir = Config::dir();
        let config = Config::load(dir.as_deref())?;
        let theme_name = options
            .theme
            .clone()
            .or(config.theme.clone())
            .unwrap_or_else(|| "dark".into());
        let mut theme = Theme::load(&theme_name, dir.as_deref())?;
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            theme = theme.without_color();
        }
        let interval = Duration::from_millis(
            options
                .interval
                .or(config.interval_ms())
                .unwrap_or(100)
                .max(1),
        );
        let keys = KeyMap::with_overrides(&config.key_overrides())?;
        let mut watches = Vec::new();
        if let Some(file) = &options.watches {
            watches.extend(read_watch_file(file)?);
        }
        watches.extend(options.watch.iter().cloned());
        Ok(Settings {
            theme,
            interval,
            keys,
            watches,
        })
    }
}

/// The largest watch file read: far more watches than a screen shows.
const MAX_WATCH_FILE: u64 = 1 << 20;

/// Expressions from a watch file: one a line; blank lines and `#` comments
/// skipped. The file is read only up to [`MAX_WATCH_FILE`] bytes (it could
/// be `/dev/zero`) and a line longer than an expression can be is refused.
pub fn read_watch_file(path: &Path) -> Result<Vec<String>> {
    let refuse = |why: String| Error::Usage(format!("watch file {}: {why}", path.display()));
    let bytes = crate::sys::file::read_regular(path, MAX_WATCH_FILE).map_err(|source| {
        // A FIFO, device or oversized file is the wrong argument; a file
        // that cannot be read is a failure.
        match source.kind() {
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                refuse(source.to_string())
            }
            _ => Error::Proc {
                path: path.display().to_string(),
                source,
            },
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        refuse(format!(
            "not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut watches = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.chars().count() > crate::expr::parse::MAX_EXPR_CHARS {
            return Err(refuse(format!(
                "line {} is longer than {} characters",
                i + 1,
                crate::expr::parse::MAX_EXPR_CHARS
            )));
        }
        watches.push(line.to_string());
    }
    Ok(watches)
}

fn child_pid(child: &Child) -> Result<i32> {
    i32::try_from(child.id())
        .map_err(|_| Error::Usage(format!("child pid {} is out of range", child.id())))
}

/// How a child ended, in words.
pub fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => match nix::sys::signal::Signal::try_from(sig) {
            Ok(s) => format!("killed by {}", s.as_str()),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => "exited".into(),
    }
}

/// Waits for a child we started and reports how it ended; on drop, a child
/// still running is killed and reaped.
struct ChildWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ChildWatch {
    fn spawn(mut child: Child, tx: Sender<Event>, output: &OutputPane) -> ChildWatch {
        if let Some(out) = child.stdout.take() {
            crate::tui::event::forward_output(out, output.clone(), tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            crate::tui::event::forward_output(err, output.clone(), tx.clone());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pvtui-child".into())
            .spawn(move || {
                loop {
                    match child.try_wait() {
                        Ok(Some(status)) => {
                            let _ = tx.send(Event::TargetEnded(describe_exit(status)));
                            return;
                        }
                        Ok(None) => {}
                        Err(_) => return,
                    }
                    if flag.load(Ordering::Relaxed) {
                        let _ = child.kill();
                        let _ = child.wait();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
            .ok();
        ChildWatch { stop, thread }
    }
}

impl Drop for ChildWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The name the kernel gives a process that runs `program`: its file name,
/// cut to the 15 bytes `comm` holds (see proc(5)).
fn exec_comm(program: &Path) -> String {
    const COMM_MAX: usize = 15;
    let base = program.file_name().map_or_else(
        || program.as_os_str().as_encoded_bytes(),
        |n| n.as_encoded_bytes(),
    );
    String::from_utf8_lossy(&base[..base.len().min(COMM_MAX)]).into_owned()
}

/// The name to show for a started child. The kernel wakes the starter
/// once `exec` has replaced the child's memory, a moment before it renames
/// the child: attached in that moment, the child still bears our name, and
/// the name `exec` is about to give it is the true one.
fn child_name(read: &str, ours: &str, started_as: &str) -> String {
    if read == ours && read != started_as {
        started_as.to_string()
    } else {
        read.to_string()
    }
}

/// Attaches to `pid` and runs the UI in the terminal; a `child` we started
/// (with the name its `exec` gives it) is watched for its exit and stopped
/// when the UI quits. `peers` are shown beside it, each polled on its own.
pub fn attach_and_run(
    pid: i32,
    child: Option<(Child, String)>,
    settings: &Settings,
    extra: Vec<String>,
    peers: &[i32],
) -> Result<ExitCode> {
    // Before any thread exists, so every thread inherits the mask; and after
    // the child was started, which would inherit it too.
    let (child, started_as) = child.unzip();
    if let Err(e) = terminal::block_signals() {
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
        return Err(e);
    }
    let session = match Session::attach(pid, DEFAULT_DEADLINE) {
        Ok(s) => s,
        Err(e) => {
            if let Some(mut child) = child {
                let _ = child.kill();
                let _ = child.wait();
            }
            return Err(e);
        }
    };
    let name = match &started_as {
        Some(started_as) => {
            let ours = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
            child_name(session.name(), ours.trim_end_matches('\n'), started_as)
        }
        None => session.name().to_string(),
    };
    let options = AppOptions {
        pid,
        name,
        access: session.access(),
        interval: settings.interval,
        theme: settings.theme.clone(),
        keys: settings.keys.clone(),
        spawned: child.is_some(),
    };
    let mut watches = extra;
    watches.extend(settings.watches.iter().cloned());
    let mut tui = Tui::start(session, options, watches)?;
    for &pid in peers {
        tui.app.add_target(&pid.to_string());
        if matches!(tui.app.message, Some((crate::tui::app::Level::Error, _))) {
            let why = tui.app.message.take().map(|(_, m)| m).unwrap_or_default();
            return Err(Error::Usage(format!("cannot show {pid}: {why}")));
        }
    }
    let _child = child.map(|c| ChildWatch::spawn(c, tui.sender.clone(), &tui.app.output));
    tui.run_in_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_child_is_named_as_its_exec_names_it() {
        assert_eq!(exec_comm(Path::new("/usr/bin/python3")), "python3");
        assert_eq!(exec_comm(Path::new("yes")), "yes");
        // comm holds 15 bytes.
        assert_eq!(
            exec_comm(Path::new("./a-very-long-program-name")),
            "a-very-long-pro"
        );
        // Caught between exec and its rename: still ours, so the exec's name.
        assert_eq!(child_name("pvtui", "pvtui", "python3"), "python3");
        // Renamed already, or renamed itself since: what it says.
        assert_eq!(child_name("python3", "pvtui", "python3"), "python3");
        assert_eq!(child_name("worker", "pvtui", "python3"), "worker");
        // A child that is pvtui itself is named pvtui either way.
        assert_eq!(child_name("pvtui", "pvtui", "pvtui"), "pvtui");
    }
}

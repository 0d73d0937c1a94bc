//! Fixture targets: compiled from `tests/fixtures/*.c` on first use, spawned,
//! and killed on drop.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a fixture may take to say something we wait for.
pub const PATIENCE: Duration = Duration::from_secs(20);

static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// The path of fixture `name` compiled with `flags`, built once per flag set.
///
/// `PVTUI_FIXTURE_DIR` points at prebuilt fixtures (a machine without a C
/// compiler, such as the test kernel's VM); there the binary is looked up as
/// `NAME` or `NAME-VARIANT` where `variant` names the flag set.
/// `tests/kernel/run.sh` fills that directory by running the suite on the
/// host first, so it holds every fixture the suite uses.
pub fn fixture(name: &str, variant: &str, flags: &[&str]) -> PathBuf {
    let file = if variant.is_empty() {
        name.to_string()
    } else {
        format!("{name}-{variant}")
    };
    if let Ok(dir) = std::env::var("PVTUI_FIXTURE_DIR") {
        let prebuilt = Path::new(&dir).join(file);
        assert!(
            prebuilt.exists(),
            "prebuilt fixture {} is missing: PVTUI_FIXTURE_DIR holds only the fixtures the \
             host run of the suite built (tests/kernel/run.sh)",
            prebuilt.display()
        );
        return prebuilt;
    }
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    std::fs::create_dir_all(&dir).expect("create fixture dir");
    let out = dir.join(&file);
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.c"));
    let fresh = match (out.metadata(), src.metadata()) {
        (Ok(o), Ok(s)) => o.modified().ok() >= s.modified().ok(),
        _ => false,
    };
    if !fresh {
        let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-O1", "-g", "-pthread", "-o"])
            .arg(&out)
            .arg(&src)
            .args(flags)
            .status()
            .expect("run the C compiler (cc) to build a fixture; install gcc");
        assert!(
            status.success(),
            "building fixture {} failed",
            src.display()
        );
    }
    out
}

/// Spawns `cmd`, whose program may have just been written. Another test
/// thread that forks in that moment holds the writer's descriptor open in
/// its child until that child execs, and exec then fails with ETXTBSY: the
/// spawn is tried again (a few times, on that error only).
pub fn spawn_fresh(cmd: &mut Command) -> Child {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other.expect("spawn fixture"),
        }
    }
}

/// A running fixture process. It prints `key=value` lines, then `ready`;
/// it takes commands on stdin, one a line.
pub struct Fixture {
    pub child: Child,
    pub pid: i32,
    pub vars: HashMap<String, String>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Fixture {
    pub fn spawn(bin: &Path, args: &[&str]) -> Fixture {
        Self::spawn_command(Command::new(bin).args(args))
    }

    pub fn spawn_command(cmd: &mut Command) -> Fixture {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = spawn_fresh(cmd);
        let stdout = child.stdout.take().expect("fixture stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let pid = child.id() as i32;
        let mut fixture = Fixture {
            child,
            pid,
            vars: HashMap::new(),
            stdin: None,
            lines,
        };
        fixture.stdin = fixture.child.stdin.take();
        loop {
            let line = fixture.next_line();
            if line == "ready" {
                break;
            }
            if let Some((k, v)) = line.split_once('=') {
                fixture.vars.insert(k.to_string(), v.to_string());
            }
        }
        fixture
    }

    /// The value the fixture printed for `key`.
    pub fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("fixture printed no {key}=; it printed {:?}", self.vars))
    }

    /// An address the fixture printed as `key=0x...`.
    pub fn addr(&self, key: &str) -> u64 {
        let v = self.var(key);
        u64::from_str_radix(v.trim_start_matches("0x"), 16)
            .unwrap_or_else(|_| panic!("{key}={v} is not a hex address"))
    }

    /// A decimal number the fixture printed as `key=N`.
    pub fn number(&self, key: &str) -> u64 {
        let v = self.var(key);
        v.parse()
            .unwrap_or_else(|_| panic!("{key}={v} is not a decimal number"))
    }

    pub fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("fixture stdin");
        writeln!(stdin, "{command}").expect("write to fixture");
        stdin.flush().expect("flush fixture stdin");
    }

    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!("fixture {} said nothing for {PATIENCE:?}", self.pid)
            }
            Err(RecvTimeoutError::Disconnected) => panic!("fixture {} closed its output", self.pid),
        }
    }

    /// Waits for a line that starts with `prefix` and returns it.
    pub fn expect_line(&mut self, prefix: &str) -> String {
        let until = Instant::now() + PATIENCE;
        while Instant::now() < until {
            let line = self.next_line();
            if line.starts_with(prefix) {
                return line;
            }
        }
        panic!(
            "fixture {} never printed a line starting with {prefix:?}",
            self.pid
        )
    }

    /// Kills the fixture and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether we run as root; tests that need it say why when we do not.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Skips (returning true) with a reason when not root. CI runs as root, so
/// there these tests always run: with `PVTUI_REQUIRE_ROOT_TESTS=1` a skip fails.
pub fn skip_unless_root(test: &str, why: &str) -> bool {
    if is_root() {
        return false;
    }
    assert!(
        std::env::var_os("PVTUI_REQUIRE_ROOT_TESTS").is_none(),
        "{test} needs root ({why}) and PVTUI_REQUIRE_ROOT_TESTS is set"
    );
    eprintln!("SKIPPED {test}: needs root: {why}");
    true
}

/// The path of the pvtui binary built for these tests, or `PVTUI_BIN` (the
/// static binary the test kernel's VM runs).
pub fn pvtui_bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("PVTUI_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pvtui").to_string())
    })
}

/// `pvtui ARGS` run to the end: (exit code, or -1 if killed by a signal; stdout; stderr).
pub fn run_pvtui(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(pvtui_bin())
        .args(args)
        .output()
        .expect("run pvtui");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `pvtui ARGS` run to the end: (whether it exited 0; stdout; stderr).
pub fn pvtui_ok(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = run_pvtui(args);
    (code == 0, out, err)
}

/// Set in the environment of a test run inside a pid namespace by `run_in_pid_namespace`.
const PID_NAMESPACE_ENV: &str = "PVTUI_INSIDE_PID_NAMESPACE";

/// Runs the ignored test `inner` (`module::name`) of this test binary in a
/// private pid namespace, where `ns_last_pid` can steer the next pid without
/// racing the host, and asserts that it ran and passed. `outer`, the calling
/// test, skips without root or `unshare`.
pub fn run_in_pid_namespace(outer: &str, inner: &str) {
    if skip_unless_root(
        outer,
        "a private pid namespace and ns_last_pid need CAP_SYS_ADMIN",
    ) {
        return;
    }
    if skip_without_program(outer, "unshare") {
        return;
    }
    // Built out here, where a compiler and the fixture cache are at hand.
    let _ = fixture("target", "", &[]);
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(exe)
        .args([
            "--exact",
            inner,
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PID_NAMESPACE_ENV, "1")
        .output()
        .expect("run unshare (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 passed"),
        "the inner test did not run: {text}"
    );
}

/// Whether this is the run inside the namespace `run_in_pid_namespace`
/// makes; elsewhere the inner test says it skips.
pub fn inside_pid_namespace() -> bool {
    if std::env::var_os(PID_NAMESPACE_ENV).is_some() {
        return true;
    }
    eprintln!("SKIPPED: only meaningful inside the namespace the outer test creates");
    false
}

/// Whether `program` can be run from `PATH`. The test kernel's VM has no
/// shell tools and no C compiler.
pub fn have_program(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}

/// Skips (returning true) with a reason when `program` is not installed.
pub fn skip_without_program(test: &str, program: &str) -> bool {
    if have_program(program) {
        return false;
    }
    eprintln!("SKIPPED {test}: needs the program {program}, which is not installed here");
    true
}

/// The path of the Rust fixture `tests/fixtures/<name>.rs`, built once with `rustc`.
/// With `PVTUI_FIXTURE_DIR` set it is looked up there as `NAME`.
pub fn rust_fixture(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("PVTUI_FIXTURE_DIR") {
        return Path::new(&dir).join(name);
    }
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    std::fs::create_dir_all(&dir).expect("create fixture dir");
    let out = dir.join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.rs"));
    let fresh = match (out.metadata(), src.metadata()) {
        (Ok(o), Ok(s)) => o.modified().ok() >= s.modified().ok(),
        _ => false,
    };
    if !fresh {
        let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .args(["-C", "opt-level=1", "--edition", "2021", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("run rustc to build a fixture");
        assert!(
            status.success(),
            "building fixture {} failed",
            src.display()
        );
    }
    out
}

/// The text of a ratatui test buffer, a line a row, trailing blanks cut:
/// the library's own, so unit and integration tests see screens alike.
pub fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    pvtui::tui::view::screen_text(buffer)
}

/// `pvtui freeze --json --interval 1 --seconds SECONDS --pid PID EXPR VALUE`
/// started with its output piped, and its stdout read line by line.
pub fn start_freeze_json(
    pid: &str,
    expr: &str,
    value: &str,
    seconds: &str,
) -> (Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = Command::new(pvtui_bin())
        .args(["freeze", "--json", "--interval", "1", "--seconds", seconds])
        .args(["--pid", pid, expr, value])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui freeze");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}

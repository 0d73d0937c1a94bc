//! `pvtui demo`: starts the built-in demo target (this same binary, run as
//! `pvtui demo-target`) and attaches the UI to it with a few watches.

use std::io::{BufRead, BufReader};
use std::process::{ExitCode, Stdio};

use clap::Args;

use crate::cli::ui::{Settings, UiOptions, attach_and_run};
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub options: UiOptions,
}

/// The watches the demo starts with: its statics by name, a field of a
/// struct, and an array behind the struct's pointer.
pub fn suggested_watches() -> Vec<String> {
    [
        "pvtui::demo::TICKS",
        "pvtui::demo::WAVE:i32",
        "pvtui::demo::TEMPERATURE:f64",
        "pvtui::demo::PLAYER:u32",
        "pvtui::demo::PLAYER+8:u64",
        "*(pvtui::demo::PLAYER+16):u32[8]",
        "pvtui::demo::GREETING:cstr",
        "pvtui::demo::UNLOCKED:u8",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let settings = Settings::load(&args.options)?;
    let exe = std::env::current_exe().map_err(|source| Error::Io {
        what: "finding the pvtui binary".into(),
        source,
    })?;
    let mut child = std::process::Command::new(exe)
        .arg("demo-target")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| Error::Io {
            what: "starting the demo target".into(),
            source,
        })?;
    let pid =
        i32::try_from(child.id()).map_err(|_| Error::Usage("demo pid out of range".into()))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(Error::Internal("the demo target printed nothing".into()));
    };
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Internal(
                    "the demo target ended before it was ready".into(),
                ));
            }
            Ok(_) => {}
        }
        // It prints where its statics are, then `ready`; the watches name them instead.
        if line.trim_end() == "ready" {
            break;
        }
    }
    // The rest of its output goes to the UI, line by line.
    child.stdout = Some(reader.into_inner());
    // The demo target is this very program: it keeps pvtui's name.
    attach_and_run(
        pid,
        Some((child, "pvtui".into())),
        &settings,
        suggested_watches(),
        &[],
    )
}

//! `pvtui demo`: starts the built-in demo target (this same binary, run as
//! `pvtui demo-target`) and attaches the UI to it with a few watches.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{ExitCode, Stdio};

use clap::Args;

use crate::cli::ui::{Settings, UiOptions, attach_and_run};
use crate::error::{Error, Result};
use crate::tui::terminal;

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub options: UiOptions,
}

/// The watches the demo starts with, from the addresses the target printed.
pub fn suggested_watches(addrs: &HashMap<String, String>) -> Vec<String> {
    let at = |name: &str| addrs.get(name).cloned().unwrap_or_default();
    vec![
        format!("{}:u64", at("ticks")),
        format!("{}:i32", at("wave")),
        format!("{}:f64", at("temperature")),
        format!("{}:u32", at("player.hp")),
        format!("{}:u64", at("player.gold")),
        format!("{}:ptr", at("player.inventory")),
        format!("{}:str[32]", at("greeting")),
        format!("{}:u8", at("unlocked")),
    ]
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    terminal::block_signals()?;
    let settings = Settings::load(&args.options)?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::Usage(format!("cannot find the pvtui binary: {e}")))?;
    let mut child = std::process::Command::new(exe)
        .arg("demo-target")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Usage(format!("cannot start the demo target: {e}")))?;
    let pid =
        i32::try_from(child.id()).map_err(|_| Error::Usage("demo pid out of range".into()))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(Error::Usage("the demo target has no output".into()));
    };
    let mut reader = BufReader::new(stdout);
    let mut addrs = HashMap::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Usage(
                    "the demo target ended before it was ready".into(),
                ));
            }
            Ok(_) => {}
        }
        let l = line.trim_end();
        if l == "ready" {
            break;
        }
        if let Some((k, v)) = l.split_once('=') {
            addrs.insert(k.to_string(), v.to_string());
        }
    }
    // The rest of its output goes to the UI, line by line.
    child.stdout = Some(reader.into_inner());
    attach_and_run(pid, Some(child), &settings, suggested_watches(&addrs))
}

//! The target options every command shares: `-p/--pid` (repeatable),
//! `-n/--name`, `--all-matching`.

use clap::Args;

use crate::error::{Error, Result};
use crate::text::escape;

/// Which processes a command works on.
#[derive(Clone, Debug, Default, Args)]
pub struct TargetArgs {
    /// A process to attach to; give it several times for several targets
    #[arg(long, short, value_name = "PID", value_parser = super::numbers::pid)]
    pub pid: Vec<i32>,
    /// The process with this name (its comm or executable's file name)
    #[arg(long, short, value_name = "NAME", conflicts_with = "pid", value_parser = process_name)]
    pub name: Option<String>,
    /// With --name: take every process of that name instead of listing them
    #[arg(long, requires = "name")]
    pub all_matching: bool,
}

impl TargetArgs {
    /// Whether any target was named at all.
    pub fn given(&self) -> bool {
        !self.pid.is_empty() || self.name.is_some()
    }

    /// The targets were found by name, not named one by one.
    pub fn by_name(&self) -> bool {
        self.name.is_some()
    }

    /// The pids chosen, in the order given, each once. Several processes of
    /// one name are an error listing them, unless `--all-matching`.
    pub fn pids(&self) -> Result<Vec<i32>> {
        if let Some(name) = &self.name {
            let found = crate::session::processes_named(name)?;
            return match found.as_slice() {
                [] => Err(Error::Usage(format!("no process is named {name:?}"))),
                [(pid, _)] => Ok(vec![*pid]),
                _ if self.all_matching => Ok(found.iter().map(|(pid, _)| *pid).collect()),
                many => {
                    let list: Vec<String> = many
                        .iter()
                        .map(|(pid, cmd)| format!("  {pid:>7}  {}", escape(cmd)))
                        .collect();
                    Err(Error::Usage(format!(
                        "{} processes are named {name:?}; pick one with --pid, or take them all with --all-matching:\n{}",
                        many.len(),
                        list.join("\n")
                    )))
                }
            };
        }
        if self.pid.is_empty() {
            return Err(Error::Usage(
                "say which process: --pid PID (several times for several) or --name NAME".into(),
            ));
        }
        let mut pids = Vec::with_capacity(self.pid.len());
        for pid in &self.pid {
            if !pids.contains(pid) {
                pids.push(*pid);
            }
        }
        Ok(pids)
    }

    /// The one pid chosen; several are refused for a command that works on one.
    pub fn one(&self, command: &str) -> Result<i32> {
        match self.pids()?.as_slice() {
            [pid] => Ok(*pid),
            many => Err(Error::Usage(format!(
                "{command} works on one process at a time; {} were given ({})",
                many.len(),
                many.iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// A process name as `--name` takes it: not empty, not absurdly long.
fn process_name(s: &str) -> std::result::Result<String, String> {
    match s.len() {
        0 => Err("a process name cannot be empty".into()),
        1..=4096 => Ok(s.to_string()),
        _ => Err("a process name is at most 4096 bytes".into()),
    }
}

//! Finding processes by name, for every command and the TUI alike.

use crate::error::{Error, Result};

/// The processes called `name` (their comm, or argv[0]'s file name), with
/// their command lines, by pid; pvtui itself left out.
pub fn processes_named(name: &str) -> Result<Vec<(i32, String)>> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    let entries = std::fs::read_dir("/proc").map_err(|source| Error::Proc {
        path: "/proc".into(),
        source,
    })?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let dir = entry.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let argv0 = argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string());
        if comm.trim_end_matches('\n') == name || argv0.as_deref() == Some(name) {
            found.push((pid, argv.join(" ")));
        }
    }
    found.sort();
    Ok(found)
}

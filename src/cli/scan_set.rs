//! `pvtui scan` over several targets. Each process gets a candidate set of
//! its own, scanned and narrowed in its own session, as one scan of it
//! alone would be. `--save FILE` keeps the sets together under one name,
//! as a scanmem user narrows one session: FILE lists them, each an
//! ordinary scan file `FILE.PID` beside it (with its own identity check,
//! checksum and undo steps), so `--from FILE` narrows, or undoes, every
//! set at once, and a `--from FILE.PID` narrows one alone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::scan::{
    ScanArgs, attach_scanned, command_word, finish, first_job, narrow_job, print_places,
    unknown_from,
};
use super::search::{Interrupt, report};
use crate::error::{Error, Result};
use crate::search::ScanFile;

/// What the set file says it is, first of all.
const FORMAT: &str = "pvtui scan set";
const VERSION: u32 = 1;
/// A set file is a short list: anything larger is not one.
const MAX_SET_BYTES: u64 = 1 << 20;

/// The set file: which processes, and the scan file of each.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct SetFile {
    format: String,
    version: u32,
    members: Vec<Member>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Member {
    pid: i32,
    /// A file name in the set file's directory.
    file: String,
}

fn set_err(path: &Path, why: impl Into<String>) -> Error {
    Error::ScanFile {
        path: crate::text::escape(&path.display().to_string()).into_owned(),
        why: why.into(),
    }
}

/// The scan file of `pid` in the set saved as `set`: `FILE.PID` beside it.
fn member_path(set: &Path, pid: i32) -> PathBuf {
    let mut name = set.as_os_str().to_owned();
    name.push(format!(".{pid}"));
    PathBuf::from(name)
}

/// Whether `path` is a set file (a scan of one process is not).
pub(super) fn is_set(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 64];
    // Non-blocking: a FIFO is left for ScanFile::open to refuse, not waited on.
    let n = match crate::sys::file::open_regular(path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => n,
        // ScanFile::open says what is wrong with the path.
        Err(_) => return Ok(false),
    };
    let head = String::from_utf8_lossy(&head[..n]);
    Ok(head.trim_start().starts_with('{') && head.contains(FORMAT))
}

/// Reads and checks a set file: its format, and members that name their
/// files plainly, beside it, each pid once.
fn read_set(path: &Path) -> Result<SetFile> {
    let bytes = crate::sys::file::read_regular(path, MAX_SET_BYTES)
        .map_err(|e| set_err(path, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| set_err(path, "not a scan set: not UTF-8"))?;
    let set: SetFile =
        serde_json::from_str(&text).map_err(|e| set_err(path, format!("not a scan set: {e}")))?;
    if set.format != FORMAT || set.version != VERSION {
        return Err(set_err(
            path,
            format!(
                "a {:?} version {} file; this pvtui reads {FORMAT:?} version {VERSION}",
                set.format, set.version
            ),
        ));
    }
    if set.members.is_empty() {
        return Err(set_err(path, "it lists no process"));
    }
    let mut seen = std::collections::HashSet::new();
    for m in &set.members {
        let plain = !m.file.is_empty()
            && !m.file.contains('/')
            && m.file != "."
            && m.file != ".."
            && !m.file.chars().any(char::is_control);
        if m.pid <= 0 || !plain || !seen.insert(m.pid) {
            return Err(set_err(
                path,
                format!(
                    "a bad member: pid {} file {}",
                    m.pid,
                    crate::text::escape(&m.file)
                ),
            ));
        }
    }
    Ok(set)
}

/// Writes the set file under a temporary name, then renames it into place.
fn write_set(path: &Path, pids: &[i32]) -> Result<()> {
    let members = pids
        .iter()
        .map(|&pid| {
            let file = member_path(path, pid);
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Member { pid, file: name }
        })
        .collect();
    let set = SetFile {
        format: FORMAT.into(),
        version: VERSION,
        members,
    };
    let text = serde_json::to_string_pretty(&set).map_err(|e| Error::Internal(e.to_string()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| set_err(path, e.to_string());
    let mut tmp = tempfile::Builder::new()
        .prefix(".pvtui-scan-set-")
        .tempfile_in(dir)
        .map_err(fail)?;
    use std::io::Write;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.write_all(b"\n"))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The worse of two exit statuses: the first that is not success.
fn worse(a: ExitCode, b: ExitCode) -> ExitCode {
    if a == ExitCode::SUCCESS { b } else { a }
}

/// A first scan of several targets: each scanned in turn, its places
/// printed under its pid; with `--save FILE`, the sets saved as one.
pub(super) fn first(args: &ScanArgs, pids: &[i32]) -> Result<ExitCode> {
    if args.from.is_some() {
        return Err(Error::Internal("a first scan has no --from".into()));
    }
    let unknown = command_word(args) == Some("unknown");
    // Every target attached before any is scanned: one that cannot be is
    // the error, and nothing is written.
    let sessions = super::several::attach_all(
        pids,
        crate::session::DEFAULT_DEADLINE,
        args.targets.by_name(),
    )?;
    let interrupt = Interrupt::install();
    let mut code = ExitCode::SUCCESS;
    let mut saved = Vec::new();
    for session in &sessions {
        let pid = session.pid();
        let maps = session.maps().clone();
        let save = args.save.as_deref().map(|s| member_path(s, pid));
        let job = first_job(session, &maps, save.as_deref(), args)?;
        let summary = finish(job, &interrupt, false)?;
        if !unknown {
            print_places(&summary, &maps, session.symbols(), args, Some(pid))?;
        }
        super::write_stderr(format!("{pid}: ").as_bytes());
        code = worse(code, report(&summary, "places")?);
        if summary.scan.is_some() && save.is_some() {
            saved.push(pid);
        }
        if code == super::search::cancelled_code() {
            break;
        }
    }
    if let Some(path) = &args.save
        && !saved.is_empty()
    {
        write_set(path, &saved)?;
        errln!(
            "saved to {} (one scan per process: {})",
            path.display(),
            saved
                .iter()
                .map(|p| member_path(path, *p).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(code)
}

/// `--from SET`: narrows (or undoes) the set of every process it lists, or
/// of those `pids` names among them.
pub(super) fn narrow(args: &ScanArgs, path: &Path, pids: Option<&[i32]>) -> Result<ExitCode> {
    let set = read_set(path)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let listed: Vec<i32> = set.members.iter().map(|m| m.pid).collect();
    let chosen: Vec<&Member> = match pids {
        None => set.members.iter().collect(),
        Some(pids) => {
            let mut chosen = Vec::with_capacity(pids.len());
            for pid in pids {
                match set.members.iter().find(|m| m.pid == *pid) {
                    Some(m) => chosen.push(m),
                    None => {
                        return Err(Error::Usage(format!(
                            "{} holds no scan of {pid}; it holds {}",
                            path.display(),
                            listed
                                .iter()
                                .map(i32::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
            chosen
        }
    };
    match command_word(args) {
        Some("unknown") => return Err(unknown_from()),
        Some("undo") => {
            let mut code = ExitCode::SUCCESS;
            for m in &chosen {
                super::write_stderr(format!("{}: ", m.pid).as_bytes());
                code = worse(code, super::scan::undo(&dir.join(&m.file), args)?);
            }
            return Ok(code);
        }
        _ => {}
    }
    // Every process is checked before any file is rewritten: one that has
    // exited stops the narrowing with the files as they were.
    let mut sessions = Vec::with_capacity(chosen.len());
    for m in &chosen {
        let file = dir.join(&m.file);
        let h = *ScanFile::open(&file)?.header();
        if h.pid != m.pid {
            return Err(set_err(
                path,
                format!("{} holds a scan of {}, not {}", m.file, h.pid, m.pid),
            ));
        }
        sessions.push((attach_scanned(m.pid)?, file));
    }
    let interrupt = Interrupt::install();
    let mut code = ExitCode::SUCCESS;
    let mut saved = Vec::new();
    for (session, file) in &sessions {
        let pid = session.pid();
        let maps = session.maps().clone();
        let save = match &args.save {
            Some(s) => member_path(s, pid),
            None => file.clone(),
        };
        let job = narrow_job(session, &maps, file, &save, args)?;
        let summary = finish(job, &interrupt, true)?;
        print_places(&summary, &maps, session.symbols(), args, Some(pid))?;
        super::write_stderr(format!("{pid}: ").as_bytes());
        code = worse(code, report(&summary, "places")?);
        if summary.scan.is_some() {
            saved.push(pid);
        }
        if code == super::search::cancelled_code() {
            break;
        }
    }
    match &args.save {
        Some(new) if !saved.is_empty() => {
            write_set(new, &saved)?;
            errln!("saved to {}", new.display());
        }
        Some(_) => {}
        None => errln!("saved to {}", path.display()),
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_written_whole_and_read_back_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("scan");
        write_set(&path, &[41, 42]).expect("write");
        assert!(is_set(&path).expect("look"));
        let set = read_set(&path).expect("read");
        assert_eq!(
            set.members,
            vec![
                Member {
                    pid: 41,
                    file: "scan.41".into()
                },
                Member {
                    pid: 42,
                    file: "scan.42".into()
                }
            ]
        );
        assert_eq!(member_path(&path, 41), dir.path().join("scan.41"));
        // A scan of one process is not a set.
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"PVTSCAN\x00binary").expect("write");
        assert!(!is_set(&plain).expect("look"));
        // A member naming a file elsewhere, a pid twice, or nothing at all.
        for bad in [
            r#"{"format":"pvtui scan set","version":1,"members":[{"pid":1,"file":"../x"}]}"#,
            r#"{"format":"pvtui scan set","version":1,"members":[{"pid":1,"file":"a"},{"pid":1,"file":"b"}]}"#,
            r#"{"format":"pvtui scan set","version":1,"members":[]}"#,
            r#"{"format":"pvtui scan set","version":2,"members":[{"pid":1,"file":"a"}]}"#,
            r#"{"format":"pvtui scan set","version":1,"members":[{"pid":-4,"file":"a"}]}"#,
        ] {
            std::fs::write(&path, bad).expect("write");
            let err = read_set(&path).expect_err(bad).to_string();
            assert!(err.starts_with("scan file "), "{err}");
        }
    }
}

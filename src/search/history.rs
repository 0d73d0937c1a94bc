//! Undo for narrowing. Before a narrowing replaces a scan file, the step it
//! narrowed is kept beside it as `FILE.undo-1`, older steps shifting to
//! `FILE.undo-2` and on, at most [`UNDO_STEPS`] of them; [`undo`] moves the
//! newest back. Steps are hard links where the filesystem allows, so
//! narrowing a file into itself keeps its previous step without a copy.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::search::store::{ScanFile, scan_err};

/// How many earlier steps are kept beside a scan file.
pub const UNDO_STEPS: usize = 8;

/// Where step `n` before `file` is kept (1: the one just before).
pub fn undo_path(file: &Path, n: usize) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".undo-{n}"));
    PathBuf::from(name)
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    let _ = std::fs::remove_file(to);
    std::fs::hard_link(from, to)
        .or_else(|_| std::fs::copy(from, to).map(|_| ()))
        .map_err(|e| scan_err(to, e))
}

/// Keeps `from` (the step being narrowed) as `dest`'s previous step, before
/// the narrowed result replaces `dest`. When `from` is another file, its own
/// earlier steps come along, so undo walks back through them.
pub(crate) fn keep_previous(from: &Path, dest: &Path) -> Result<()> {
    if from == dest {
        let _ = std::fs::remove_file(undo_path(dest, UNDO_STEPS));
        for n in (1..UNDO_STEPS).rev() {
            let older = undo_path(dest, n);
            if older.exists() {
                std::fs::rename(&older, undo_path(dest, n + 1)).map_err(|e| scan_err(&older, e))?;
            }
        }
        return link_or_copy(dest, &undo_path(dest, 1));
    }
    forget(dest);
    link_or_copy(from, &undo_path(dest, 1))?;
    for n in 1..UNDO_STEPS {
        let older = undo_path(from, n);
        if !older.exists() {
            break;
        }
        link_or_copy(&older, &undo_path(dest, n + 1))?;
    }
    Ok(())
}

/// Removes the earlier steps kept beside `file` (a new first scan starts afresh).
pub(crate) fn forget(file: &Path) {
    for n in 1..=UNDO_STEPS {
        let _ = std::fs::remove_file(undo_path(file, n));
    }
}

/// Puts back the step before `file`'s last narrowing, checked before
/// anything moves; returns the restored file.
pub fn undo(file: &Path) -> Result<ScanFile> {
    let prev = undo_path(file, 1);
    if !prev.exists() {
        return Err(scan_err(
            file,
            format!(
                "no earlier step to go back to (each narrowing keeps up to {UNDO_STEPS} beside the file as {}-N)",
                undo_path(file, 0)
                    .display()
                    .to_string()
                    .trim_end_matches("-0")
            ),
        ));
    }
    // A corrupt step is refused and left where it is.
    drop(ScanFile::open(&prev)?);
    std::fs::rename(&prev, file).map_err(|e| scan_err(file, e))?;
    for n in 2..=UNDO_STEPS {
        let older = undo_path(file, n);
        if !older.exists() {
            break;
        }
        std::fs::rename(&older, undo_path(file, n - 1)).map_err(|e| scan_err(&older, e))?;
    }
    ScanFile::open(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_shift_and_come_back_in_order_and_stay_bounded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = dir.path().join("scan");
        // Plain files stand in for steps here: only names move.
        for step in 0..UNDO_STEPS + 3 {
            if f.exists() {
                keep_previous(&f, &f).expect("keep");
            }
            // Replaced by a rename, as a finished scan file is.
            let next = dir.path().join("next");
            std::fs::write(&next, format!("step {step}")).expect("write");
            std::fs::rename(&next, &f).expect("rename");
        }
        let kept = (1..=UNDO_STEPS + 2)
            .filter(|n| undo_path(&f, *n).exists())
            .count();
        assert_eq!(kept, UNDO_STEPS);
        let last = UNDO_STEPS + 2;
        assert_eq!(
            std::fs::read_to_string(undo_path(&f, 1)).expect("read"),
            format!("step {}", last - 1)
        );
        // Not scan files: undo refuses them and moves nothing.
        assert!(undo(&f).is_err());
        assert!(undo_path(&f, 1).exists());
        forget(&f);
        assert!(!undo_path(&f, 1).exists());
        let err = undo(&f).expect_err("nothing to undo");
        assert!(err.to_string().contains("no earlier step"), "{err}");
    }
}

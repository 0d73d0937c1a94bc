//! Files the UI writes at a path the user typed (`s` saves the watches, `E`
//! exports the write log), possibly in a directory others can write to.
//!
//! The bytes go to a new temporary file beside the destination, created with
//! `O_EXCL | O_NOFOLLOW` (a name planted in advance is refused, not
//! followed), and are renamed into place only when complete. The rename
//! replaces nothing unless the caller said so: a path that already exists,
//! a symbolic link included, is left alone and reported, so the user can
//! confirm. A confirmed rename replaces the link itself, never what it
//! points to.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};

/// How [`write_new`] ended.
#[derive(Debug)]
pub enum Saved {
    Written,
    /// Something is already at the path (a symbolic link says so): nothing
    /// was written; call again with `replace` to overwrite it.
    Exists {
        link: bool,
    },
}

/// Writes `bytes` to `path` through a temporary file and a rename; an
/// existing path is replaced only when `replace` is set.
pub fn write_new(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<Saved> {
    if !replace && let Ok(meta) = std::fs::symlink_metadata(path) {
        return Ok(Saved::Exists {
            link: meta.file_type().is_symlink(),
        });
    }
    let temp = temp_beside(path)?;
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if replace {
            std::fs::rename(&temp, path)?;
            return Ok(Saved::Written);
        }
        match renameat2(
            AT_FDCWD,
            &temp,
            AT_FDCWD,
            path,
            RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => Ok(Saved::Written),
            Err(nix::errno::Errno::EEXIST) => {
                let link =
                    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                Ok(Saved::Exists { link })
            }
            Err(e) => Err(e.into()),
        }
    })();
    if !matches!(result, Ok(Saved::Written)) {
        // Not left behind when nothing was renamed into place.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A name for the temporary file next to `path`, unlikely to be taken;
/// `create_new` refuses it if it is.
fn temp_beside(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".{}.{nanos:08x}.tmp", std::process::id()));
    Ok(path.with_file_name(temp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pvtui-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_new_file_is_written_whole_and_no_temporary_is_left() {
        let dir = dir("new");
        let path = dir.join("watches.pvtui");
        assert!(matches!(
            write_new(&path, b"a\n", false),
            Ok(Saved::Written)
        ));
        assert_eq!(std::fs::read(&path).expect("read"), b"a\n");
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_planted_symlink_is_not_followed_and_replaced_only_when_confirmed() {
        let dir = dir("link");
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        let path = dir.join("log.tsv");
        std::os::unix::fs::symlink(&victim, &path).expect("plant the link");
        let saved = write_new(&path, b"log", false).expect("write");
        assert!(matches!(saved, Saved::Exists { link: true }), "{saved:?}");
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(matches!(write_new(&path, b"log", true), Ok(Saved::Written)));
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(
            !std::fs::symlink_metadata(&path)
                .expect("path")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&path).expect("path"), b"log");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Opening files whose path a user or a target controls: scan and chain
//! files, watch files, settings, debug files and mapped objects.
//!
//! A FIFO blocks `open(2)` until a writer appears and a device may never end,
//! so every such file is opened non-blocking, checked to be a regular file
//! on the opened descriptor (no race with a rename), and read up to a cap.

use std::fs::File;
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// The error for a path that names a FIFO, device, socket or directory.
fn not_regular() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")
}

/// Opens `path` for reading and refuses anything but a regular file. The
/// path is first opened with `O_PATH`, which runs no driver's `open` (a
/// watchdog device armed by opening it, a tape rewound) and never blocks on
/// a FIFO; only a regular file is then opened for reading, through that
/// same descriptor (`/proc/self/fd/N`), so a rename in between changes
/// nothing.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let probe = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path)?;
    if !probe.metadata()?.is_file() {
        return Err(not_regular());
    }
    let fd = std::os::fd::AsRawFd::as_raw_fd(&probe);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("/proc/self/fd/{fd}"))?;
    // The reopened file is the probed one; checked again all the same.
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// The whole of a regular file of at most `max` bytes, opened as
/// [`open_regular`] does. A longer file is refused, not cut.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        let err = open_regular(&fifo).expect_err("a FIFO");
        assert_eq!(err.to_string(), "not a regular file");
        let err = open_regular(dir.path()).expect_err("a directory");
        assert_eq!(err.to_string(), "not a regular file");
        let err = read_regular(Path::new("/dev/zero"), 10).expect_err("a device");
        assert_eq!(err.to_string(), "not a regular file");
    }

    #[test]
    fn a_file_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").expect("write");
        assert_eq!(read_regular(&path, 5).expect("fits"), b"12345");
        let err = read_regular(&path, 4).expect_err("too long");
        assert_eq!(err.to_string(), "larger than 4 bytes");
    }
}

//! The library's error type: each variant carries what a user needs to act
//! on it (pid, address, region, what the kernel said).

use std::io;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no process with pid {pid}")]
    NoSuchProcess { pid: i32 },

    #[error("{pid} is not a valid process id")]
    InvalidPid { pid: i32 },

    #[error(
        "pid {pid} is a zombie: it has exited and waits for its parent to reap it; it has no memory left to read"
    )]
    Zombie { pid: i32 },

    #[error("pid {pid} ({name}) is a kernel thread: it has no user memory")]
    KernelThread { pid: i32, name: String },

    #[error("permission denied for pid {pid}: {why}")]
    PermissionDenied { pid: i32, why: String },

    #[error("target {pid} exited")]
    TargetExited { pid: i32 },

    #[error("{addr:#x}+{len}: not mapped in pid {pid}")]
    Unmapped { pid: i32, addr: u64, len: u64 },

    #[error("write to {addr:#x}+{len} refused: {region} is mapped {perms}, not writable")]
    ReadOnly {
        addr: u64,
        len: u64,
        region: String,
        perms: String,
    },

    #[error("write to {addr:#x}+{len} refused: {why}")]
    WriteRefused { addr: u64, len: u64, why: String },

    #[error("{addr:#x}+{len}: the value was not read: {why}")]
    NotRead { addr: u64, len: usize, why: String },

    #[error(
        "{what} timed out after {millis} ms: the target did not answer (a page that never faults in?)"
    )]
    Stalled { what: String, millis: u128 },

    #[error("the kernel interface failed: {call}: {source}")]
    Kernel {
        call: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("{path}: {source}")]
    Proc {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("{path}:{line}: cannot parse: {text}")]
    ProcFormat {
        path: String,
        line: usize,
        text: String,
    },

    #[error("scan file {path}: {why}")]
    ScanFile { path: String, why: String },

    #[error("hardware breakpoint: {0}")]
    Breakpoint(String),

    /// The user's mistake: a bad argument, expression or value.
    #[error("{0}")]
    Usage(String),

    /// Reading or writing a file or the terminal failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },

    /// pvtui itself failed (a thread would not start, a worker answered
    /// out of turn): not the user's mistake nor the target's.
    #[error("internal error: {0}")]
    Internal(String),
    /// Debug info missing, malformed, or without the name asked for.
    #[error("{0}")]
    DebugInfo(String),
}

impl Error {
    /// Whether the target is gone: a UI keeps its last values and stops polling.
    pub fn is_exit(&self) -> bool {
        matches!(self, Error::TargetExited { .. } | Error::Zombie { .. })
    }
}

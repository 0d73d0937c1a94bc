//! A session: one attached target with its maps, its symbol table and the
//! deadline worker that reads it. Every command, the poller and the searches
//! reach the target through one; nothing else holds the [`Target`].
//!
//! ```no_run
//! use std::time::Duration;
//! use pvtui::expr::parse_watch;
//! use pvtui::process::ReadMode;
//! use pvtui::session::Session;
//! let mut session = Session::attach(1234, Duration::from_millis(500))?;
//! let watch = parse_watch("*(*root+16)+8:i64").expect("parses");
//! match session.evaluate(&watch, ReadMode::Force)? {
//!     Ok(reading) => println!("{:?} at {:?}", reading.value, reading.address),
//!     Err(diagnostic) => println!("{diagnostic}"),
//! }
//! # Ok::<(), pvtui::Error>(())
//! ```

mod complete;
mod hunts;
mod named;
mod placement;
mod searches;
mod strings;

use std::collections::HashMap;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use hunts::{
    FoundChain, HuntEvent, HuntJob, Hunts, Notify, WriterRow, WritersReport, WritersRequest,
};
pub use named::processes_named;
pub use placement::{Placement, Spread};
pub use searches::Searches;

use crate::debuginfo::DebugInfo;
use crate::error::{Error, Result};
use crate::expr::{Diagnostic, Type, Watch, WatchReading, WatchSet};
use crate::process::procfs::read_smaps;
use crate::process::{
    Access, Gap, Maps, Memory, MemoryWorker, PageBuffer, ReadMode, ReadOutcome, Target, WriteReport,
};
use crate::symbols::{Symbol, SymbolError, SymbolTable};

/// How long one access may take in a command that did not choose.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(500);

/// One attached target and what is derived from it.
pub struct Session {
    target: Arc<Target>,
    maps: Maps,
    symbols: SymbolTable,
    /// Found per object on first need; follows the maps like the symbols.
    debug: DebugInfo,
    worker: MemoryWorker,
    /// How many times the target ran `exec` since attach.
    execs: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.target)
            .field("regions", &self.maps.regions().len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Attaches to `pid`; accesses that take longer than `deadline` are
    /// abandoned and reported stalled.
    pub fn attach(pid: i32, deadline: Duration) -> Result<Session> {
        Session::over(Arc::new(Target::attach(pid)?), deadline)
    }

    /// A session over a target already attached (with chosen access paths,
    /// or shared with a test that inspects it).
    pub fn over(target: Arc<Target>, deadline: Duration) -> Result<Session> {
        let maps = target.maps()?;
        let symbols = SymbolTable::new(&target, &maps);
        let debug = DebugInfo::with_opener(target.proc_opener(), &maps, Vec::new());
        let worker = MemoryWorker::new(Arc::clone(&target), deadline);
        let mut session = Session {
            target,
            maps,
            symbols,
            debug,
            worker,
            execs: 0,
        };
        session.feed_debug_symbols();
        Ok(session)
    }

    /// The same session with accesses abandoned after `deadline` instead.
    pub fn with_deadline(mut self, deadline: Duration) -> Session {
        if deadline != self.worker.deadline() {
            self.worker = MemoryWorker::new(Arc::clone(&self.target), deadline);
        }
        self
    }

    pub fn pid(&self) -> i32 {
        self.target.pid()
    }

    /// The process name (`comm`), as the target set it: escape before printing.
    pub fn name(&self) -> &str {
        self.target.name()
    }

    /// Something the user should know about the attach (a thread id resolved
    /// to its process).
    pub fn note(&self) -> Option<&str> {
        self.target.note()
    }

    pub fn access(&self) -> Access {
        self.target.access()
    }

    /// Whether the target has not exited.
    pub fn is_alive(&self) -> bool {
        self.target.is_alive()
    }

    /// Whether the target is stopped (SIGSTOP, SIGTSTP, a tracer): its
    /// values cannot change until it is continued.
    pub fn is_stopped(&self) -> bool {
        self.target.state().is_ok_and(|s| matches!(s, 'T' | 't'))
    }

    /// Readable once the target has exited.
    pub fn exit_fd(&self) -> BorrowedFd<'_> {
        self.target.exit_fd()
    }

    /// Where `addr` lies in the object behind its mapping, by the maps of
    /// the last refresh; None for private anonymous memory or no mapping.
    pub fn placement(&self, addr: u64) -> Option<Placement> {
        Placement::of(self.maps.find(addr)?, addr)
    }

    /// The maps as of the last [`Session::refresh`].
    pub fn maps(&self) -> &Maps {
        &self.maps
    }

    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    pub fn deadline(&self) -> Duration {
        self.worker.deadline()
    }

    /// How many accesses have missed their deadline so far.
    pub fn stalls(&self) -> u64 {
        self.worker.stalls()
    }

    /// Follows the target's current maps (a library loaded or unloaded);
    /// returns the new maps when they changed. Unchanged maps are told by
    /// fingerprint, not parsed.
    ///
    /// Maps that changed may mean the target ran `exec`: then the session
    /// follows it (see [`Session::execs`]), with its new memory, symbols
    /// and name, so watches resolve anew in the new program.
    pub fn refresh(&mut self) -> Result<Option<&Maps>> {
        match self.target.maps_if_changed(&self.maps)? {
            Some(maps) => {
                if self.target.ran_exec() {
                    self.follow_exec()?;
                    return Ok(Some(&self.maps));
                }
                self.set_maps(maps);
                Ok(Some(&self.maps))
            }
            None => Ok(None),
        }
    }

    /// How many times the target ran `exec` since attach (each one was followed).
    pub fn execs(&self) -> u64 {
        self.execs
    }

    /// Re-attaches to the new program of the same process.
    fn follow_exec(&mut self) -> Result<()> {
        let target = Arc::new(self.target.after_exec()?);
        let maps = target.maps()?;
        self.worker = MemoryWorker::new(Arc::clone(&target), self.worker.deadline());
        self.target = target;
        // The table follows the new program's objects and moves its
        // generation, so every watch resolves again.
        self.set_maps(maps);
        self.execs += 1;
        Ok(())
    }

    /// Reads the maps afresh, changed or not.
    pub fn reload(&mut self) -> Result<&Maps> {
        let maps = self.target.maps()?;
        self.set_maps(maps);
        Ok(&self.maps)
    }

    fn set_maps(&mut self, maps: Maps) {
        self.debug.refresh(&maps);
        self.symbols.refresh(&maps);
        self.maps = maps;
        self.feed_debug_symbols();
    }

    /// Stripped objects take their names from their debug files too (as
    /// gdb does): from the debug info as it follows the maps now.
    fn feed_debug_symbols(&mut self) {
        let debug = self.debug.clone();
        self.symbols.set_debug_symbols(Arc::new(move |path: &str| {
            let file = debug.separate_file(path)?;
            crate::symbols::ObjectFile::parse(file.raw()).ok()
        }));
    }

    /// Resolves a symbol, in one module when `module` is given.
    pub fn lookup(
        &self,
        module: Option<&str>,
        name: &str,
    ) -> std::result::Result<Symbol, SymbolError> {
        self.symbols.lookup_qualified(module, name)
    }

    /// Reads every watch of `set` once (see [`WatchSet::poll`]).
    pub fn poll(&mut self, set: &mut WatchSet, mode: ReadMode) -> Result<Vec<WatchReading>> {
        set.poll_typed(
            &mut self.worker,
            &self.maps,
            &self.symbols,
            Some(&self.debug),
            mode,
        )
    }

    /// Resolves one watch, follows its pointers and reads its value. The
    /// outer error is the target's (it exited); the inner one says why the
    /// watch points nowhere, with the column to show it at.
    pub fn evaluate(
        &mut self,
        watch: &Watch,
        mode: ReadMode,
    ) -> Result<std::result::Result<WatchReading, Diagnostic>> {
        let mut once = WatchSet::new();
        let id = once.add(watch.clone());
        let reading = self.poll(&mut once, mode)?.into_iter().next();
        if let Some(e) = once.resolve_error(id) {
            return Ok(Err(e.clone()));
        }
        Ok(match reading {
            Some(reading) if reading.address.is_some() => Ok(reading),
            Some(reading) => Err(Diagnostic::new(0, reading.status.to_string())),
            None => Err(Diagnostic::new(0, "nothing was evaluated")),
        })
    }

    /// Reads many ranges under the deadline.
    pub fn read(&mut self, ranges: &[(u64, usize)], mode: ReadMode) -> Result<Vec<ReadOutcome>> {
        self.worker.read(&self.maps, ranges, mode)
    }

    /// Fills `buf` from `addr` under the deadline; returns the runs not read.
    pub fn read_into(
        &mut self,
        addr: u64,
        buf: &mut PageBuffer,
        mode: ReadMode,
    ) -> Result<Vec<Gap>> {
        self.worker.read_into(&self.maps, addr, buf, mode)
    }

    /// Writes and reads back under the deadline, by the maps as they are
    /// now: a write never goes by a stale view of what is writable.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        if let Ok(maps) = self.target.maps() {
            self.set_maps(maps);
        }
        self.write_cached(addr, bytes)
    }

    /// Writes by the maps of the last refresh: for rewrites every tick
    /// (freezes), where the maps were just refreshed.
    pub fn write_cached(&mut self, addr: u64, bytes: &[u8]) -> Result<WriteReport> {
        self.worker.write(&self.maps, addr, bytes)
    }

    /// [`Session::write_cached`] of the bits `mask` marks (all of them
    /// without a mask): the others are read just before and written back
    /// as the target has them, so a held bitfield leaves its neighbours be.
    pub fn write_held(
        &mut self,
        addr: u64,
        bytes: &[u8],
        mask: Option<&[u8]>,
    ) -> Result<WriteReport> {
        let Some(mask) = mask else {
            return self.write_cached(addr, bytes);
        };
        let current = self.read_exact(addr, bytes.len())?;
        let merged = crate::expr::merge_bits(&current, bytes, mask);
        self.write_cached(addr, &merged)
    }

    /// Resident bytes per region start, from `/proc/PID/smaps`.
    pub fn residency(&self) -> Result<HashMap<u64, u64>> {
        Ok(read_smaps(&self.target.proc_opener())?
            .into_iter()
            .filter_map(|r| Some((r.start, r.rss?)))
            .collect())
    }

    /// Looks for debug info in `dirs` too (laid out like /usr/lib/debug),
    /// after the target's own `/usr/lib/debug` and before this host's.
    pub fn set_debug_dirs(&mut self, dirs: Vec<PathBuf>) {
        self.debug = DebugInfo::with_opener(self.target.proc_opener(), &self.maps, dirs);
        self.feed_debug_symbols();
    }

    /// The debug info of the target's objects, found per object on first need.
    pub fn debug_info(&self) -> &DebugInfo {
        &self.debug
    }

    /// Exactly `len` bytes at `addr`, or why not.
    pub fn read_exact(&mut self, addr: u64, len: usize) -> Result<Vec<u8>> {
        let outcome = self
            .read(&[(addr, len)], ReadMode::Force)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("a read returned no result".into()))?;
        match outcome.bytes() {
            Some(bytes) => Ok(bytes.to_vec()),
            None => Err(Error::Usage(format!(
                "{addr:#x}+{len} could not be read: {}",
                outcome.first_unread().map_or("not read", |u| u.as_str())
            ))),
        }
    }

    /// Writes `text` as a value of `ty` at `addr`, and reads it back. A
    /// bitfield is read first and written back with only its bits changed.
    pub fn write_value(&mut self, addr: u64, ty: &Type, text: &str) -> Result<WriteReport> {
        let current = match ty.needs_current() {
            Some(len) => self.read_exact(addr, len)?,
            None => Vec::new(),
        };
        let bytes = ty
            .encode_over(text, &current)
            .map_err(|e| Error::Usage(e.to_string()))?;
        self.write(addr, &bytes)
    }

    /// Starts searches and scans of this target on their own threads.
    pub fn searches(&self) -> Searches {
        Searches::new(Arc::clone(&self.target))
    }

    /// Starts pointer scans and writers watches of this target on their own threads.
    pub fn hunts(&self) -> Hunts {
        Hunts::new(Arc::clone(&self.target))
    }
}

//! Evaluating watches against a live target: symbols resolved once, pointer
//! chains followed level by level, every value of a tick read in one call.

use std::fmt;

use crate::debuginfo::DebugInfo;
use crate::error::Result;
use crate::expr::diagnostic::Diagnostic;
use crate::expr::node::{Node, PointerReads, Step, depth, step};
use crate::expr::parse::{BinOp, Expr, SymbolName, Watch};
use crate::expr::typed::{Operand, Scope, operand};
use crate::expr::types::{DebugType, Type, Value};
use crate::process::{Maps, Memory, ReadBatch, ReadMode, Unread};
use crate::symbols::{Location, SymbolTable};

/// A watch resolved against the target's symbols and maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    node: Node,
    /// The type read at the address: the watch's own, or the one its symbol's size implies.
    pub ty: Type,
}

impl Resolved {
    /// The address when no pointer has to be read to know it.
    pub fn fixed_address(&self) -> Option<u64> {
        match self.node {
            Node::Const(addr) => Some(addr),
            _ => None,
        }
    }
}

/// Resolves the symbols and regions of `watch`, folding what is constant.
pub fn resolve(watch: &Watch, symbols: &SymbolTable, maps: &Maps) -> Result<Resolved, Diagnostic> {
    resolve_typed(watch, symbols, maps, None)
}

/// As [`resolve`], with the types of `debug`: a variable reads as its type
/// unless the watch names one, and `.f`, `[i]`, `->f`, casts and `as`
/// resolve once to an address computation and a type.
pub fn resolve_typed(
    watch: &Watch,
    symbols: &SymbolTable,
    maps: &Maps,
    debug: Option<&DebugInfo>,
) -> Result<Resolved, Diagnostic> {
    let scope = Scope {
        symbols,
        maps,
        debug,
        types: watch.ty.is_none(),
    };
    Ok(match operand(&watch.expr, &scope)? {
        Operand::Address { node, size } => Resolved {
            node,
            // A bare symbol: its size picks the type when none was given.
            ty: watch
                .ty
                .clone()
                .unwrap_or_else(|| size.map_or_else(Type::u64, Type::for_symbol_size)),
        },
        Operand::Object { node, typed }
        | Operand::Pointer {
            node,
            pointee: typed,
        } => Resolved {
            node,
            ty: watch.ty.clone().unwrap_or(Type::Debug(DebugType {
                ty: typed.ty,
                bits: typed.bits,
            })),
        },
    })
}

/// A located address as an expression: `module!symbol + off` or `[module] + off`.
fn located(location: Location) -> Expr {
    let (base, offset) = match location {
        Location::Symbol {
            module,
            symbol,
            offset,
        } => (
            Expr::Symbol(SymbolName {
                module: Some(module),
                name: symbol,
                column: 0,
            }),
            offset,
        ),
        Location::Module { module, offset } => (
            Expr::Region {
                name: module,
                column: 0,
            },
            offset,
        ),
    };
    match offset {
        0 => base,
        off => Expr::Binary {
            op: BinOp::Add,
            left: Box::new(base),
            right: Box::new(Expr::Number(off)),
        },
    }
}

/// `watch` with each absolute address inside a mapped file rewritten as
/// `module!symbol+off` or `[module]+off`, so a saved watch list still points
/// at the same data after the next run moves everything.
pub fn relocatable(watch: &Watch, symbols: &SymbolTable) -> Watch {
    fn walk(expr: &Expr, symbols: &SymbolTable) -> Expr {
        match expr {
            Expr::Number(n) => symbols.locate(*n).map_or_else(|| expr.clone(), located),
            Expr::Deref(inner) => Expr::Deref(Box::new(walk(inner, symbols))),
            Expr::Cast { ty, expr } => Expr::Cast {
                ty: ty.clone(),
                expr: Box::new(walk(expr, symbols)),
            },
            Expr::View { expr, ty } => Expr::View {
                expr: Box::new(walk(expr, symbols)),
                ty: ty.clone(),
            },
            Expr::Binary { op, left, right } => Expr::Binary {
                op: *op,
                left: Box::new(walk(left, symbols)),
                right: Box::new(walk(right, symbols)),
            },
            other => other.clone(),
        }
    }
    let expr = walk(&watch.expr, symbols);
    let mut out = Watch {
        text: String::new(),
        expr,
        ty: watch.ty.clone(),
    };
    out.text = out.to_string();
    out
}

/// How one watch fared in one tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Read; the same bytes as last tick (or the first reading).
    Ok,
    /// Read; different bytes than last tick.
    Changed,
    /// A page on the way is not in memory; a never-block read left it alone.
    NotResident,
    /// The address (or a pointer on the way) is not mapped.
    Unmapped,
    /// The read did not finish before its deadline.
    Stalled,
    Error(String),
}

impl Status {
    pub fn as_str(&self) -> &str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::NotResident => "not-resident",
            Status::Unmapped => "unmapped",
            Status::Stalled => "stalled",
            Status::Error(_) => "error",
        }
    }

    fn from_unread(why: Unread, what: &str, addr: u64) -> Status {
        match why {
            Unread::NotResident => Status::NotResident,
            Unread::Unmapped => Status::Unmapped,
            Unread::Stalled => Status::Stalled,
            Unread::Protected | Unread::Faulted => {
                Status::Error(format!("{what} at {addr:#x}: {why}"))
            }
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Error(msg) => write!(f, "error: {msg}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Identifies a watch in a [`WatchSet`]; stays valid while others are added or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatchId(pub u64);

/// One watch's result in one tick.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchReading {
    pub id: WatchId,
    /// Where the value is, once every pointer on the way was read.
    pub address: Option<u64>,
    /// The type read (the watch's, or the one its symbol implies; `u64` until resolved).
    pub ty: Type,
    pub status: Status,
    /// The value, when it could be read.
    pub value: Option<Value>,
}

struct Entry {
    id: WatchId,
    watch: Watch,
    resolved: Option<Result<Resolved, Diagnostic>>,
    /// The bytes of the last reading, to tell `changed` from `ok`.
    last: Option<(u64, Vec<u8>)>,
}

/// Many watches evaluated together: each tick takes one `read` call per
/// level of pointer indirection plus one for all the values.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use pvtui::expr::{parse_watch, WatchSet};
/// use pvtui::process::{MemoryWorker, ReadMode, Target};
/// use pvtui::symbols::SymbolTable;
/// let target = Arc::new(Target::attach(1234)?);
/// let maps = target.maps()?;
/// let symbols = SymbolTable::new(&target, &maps);
/// let mut worker = MemoryWorker::new(Arc::clone(&target), Duration::from_millis(50));
/// let mut set = WatchSet::new();
/// let id = set.add(parse_watch("*(*root+16)+8:i64").expect("parses"));
/// for reading in set.poll(&mut worker, &maps, &symbols, ReadMode::NoWait)? {
///     println!("{:?} {} {:?}", reading.id, reading.status, reading.value);
/// }
/// # let _ = id;
/// # Ok::<(), pvtui::Error>(())
/// ```
#[derive(Default)]
pub struct WatchSet {
    entries: Vec<Entry>,
    next_id: u64,
    /// The symbol generation the watches were resolved at.
    generation: Option<u64>,
    /// Reused tick after tick: a steady poll allocates no read buffers.
    pointer_batch: ReadBatch,
    value_batch: ReadBatch,
}

impl fmt::Debug for WatchSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.watch.text))
            .finish()
    }
}

impl WatchSet {
    pub fn new() -> WatchSet {
        WatchSet::default()
    }

    /// Adds a watch under an id not in use in this set. A set filled by
    /// another owner's ids (the UI's) takes them with [`WatchSet::insert`].
    pub fn add(&mut self, watch: Watch) -> WatchId {
        let id = WatchId(self.next_id);
        self.insert(id, watch);
        id
    }

    /// Puts `watch` under the caller's `id`: after the others when new, in
    /// place of the old one (keeping its position) when not.
    pub fn insert(&mut self, id: WatchId, watch: Watch) {
        self.next_id = self.next_id.max(id.0.saturating_add(1));
        if !self.replace(id, watch.clone()) {
            self.entries.push(Entry {
                id,
                watch,
                resolved: None,
                last: None,
            });
        }
    }

    /// Removes a watch; returns it if it was there.
    pub fn remove(&mut self, id: WatchId) -> Option<Watch> {
        let i = self.entries.iter().position(|e| e.id == id)?;
        Some(self.entries.remove(i).watch)
    }

    /// Puts `watch` in place of watch `id` (an edit keeps its place and id);
    /// returns whether `id` was there.
    pub fn replace(&mut self, id: WatchId, watch: Watch) -> bool {
        match self.entries.iter_mut().find(|e| e.id == id) {
            Some(entry) => {
                entry.watch = watch;
                entry.resolved = None;
                entry.last = None;
                true
            }
            None => false,
        }
    }

    pub fn get(&self, id: WatchId) -> Option<&Watch> {
        self.entries.iter().find(|e| e.id == id).map(|e| &e.watch)
    }

    /// Why watch `id` has no address (unknown symbol or region), with the
    /// column to point at; `None` when it resolved or was not tried yet.
    pub fn resolve_error(&self, id: WatchId) -> Option<&Diagnostic> {
        match &self.entries.iter().find(|e| e.id == id)?.resolved {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The watches in the order they were added.
    pub fn watches(&self) -> impl Iterator<Item = (WatchId, &Watch)> {
        self.entries.iter().map(|e| (e.id, &e.watch))
    }

    /// Forgets every resolution, so the next poll looks symbols and regions up again.
    pub fn invalidate(&mut self) {
        self.generation = None;
    }

    /// Resolves the watches not yet resolved, and all of them when the
    /// symbols changed (a library was loaded or unloaded).
    pub fn resolve(&mut self, symbols: &SymbolTable, maps: &Maps) {
        self.resolve_typed(symbols, maps, None);
    }

    /// As [`WatchSet::resolve`], with the types of `debug` (see [`resolve_typed`]).
    pub fn resolve_typed(&mut self, symbols: &SymbolTable, maps: &Maps, debug: Option<&DebugInfo>) {
        let stale = self.generation != Some(symbols.generation());
        for entry in &mut self.entries {
            if stale || entry.resolved.is_none() {
                let resolved = resolve_typed(&entry.watch, symbols, maps, debug);
                if entry.resolved.as_ref() != Some(&resolved) {
                    entry.last = None;
                }
                entry.resolved = Some(resolved);
            }
        }
        self.generation = Some(symbols.generation());
    }

    /// Reads every watch once, in the order they were added. Fails only when
    /// the target is gone; everything else is a watch's status.
    ///
    /// Keep `symbols` current with [`SymbolTable::refresh`] when the maps
    /// change: the watches re-resolve when its generation moves, so a watch
    /// on a library that is not loaded yet starts reading once it is.
    pub fn poll<M: Memory>(
        &mut self,
        memory: &mut M,
        maps: &Maps,
        symbols: &SymbolTable,
        mode: ReadMode,
    ) -> Result<Vec<WatchReading>> {
        self.poll_typed(memory, maps, symbols, None, mode)
    }

    /// As [`WatchSet::poll`], with variables and fields typed by `debug`.
    pub fn poll_typed<M: Memory>(
        &mut self,
        memory: &mut M,
        maps: &Maps,
        symbols: &SymbolTable,
        debug: Option<&DebugInfo>,
        mode: ReadMode,
    ) -> Result<Vec<WatchReading>> {
        self.resolve_typed(symbols, maps, debug);
        let mut pointers = PointerReads::new();
        let mut steps: Vec<Option<Step>> = self.entries.iter().map(|_| None).collect();
        let max_depth = self
            .entries
            .iter()
            .filter_map(|e| e.resolved.as_ref()?.as_ref().ok())
            .map(|r| depth(&r.node))
            .max()
            .unwrap_or(0);
        for _round in 0..=max_depth {
            let mut need = Vec::new();
            for (entry, slot) in self.entries.iter().zip(steps.iter_mut()) {
                if let Some(Ok(resolved)) = &entry.resolved
                    && !matches!(
                        slot,
                        Some(Step::Done(_) | Step::Failed(..) | Step::Overflow(_))
                    )
                {
                    *slot = Some(step(&resolved.node, &pointers, &mut need));
                }
            }
            if need.is_empty() {
                break;
            }
            need.sort_unstable();
            need.dedup();
            memory.read_batch(maps, &need, mode, &mut self.pointer_batch)?;
            for (range, outcome) in need.iter().zip(self.pointer_batch.iter()) {
                let read = match outcome.bytes() {
                    Some(b) if b.len() == range.1 && b.len() <= 8 => {
                        let mut le = [0u8; 8];
                        le[..b.len()].copy_from_slice(b);
                        Ok(u64::from_le_bytes(le))
                    }
                    // Fewer bytes than asked for is no value.
                    Some(_) => Err(Unread::Faulted),
                    None => Err(outcome.first_unread().unwrap_or(Unread::Faulted)),
                };
                pointers.insert(*range, read);
            }
        }

        let mut value_ranges = Vec::new();
        let mut readings = Vec::with_capacity(self.entries.len());
        for (entry, slot) in self.entries.iter().zip(&steps) {
            let ty = match &entry.resolved {
                Some(Ok(r)) => r.ty.clone(),
                _ => entry.watch.ty.clone().unwrap_or_else(Type::u64),
            };
            let (address, status) = match (&entry.resolved, slot) {
                (Some(Err(e)), _) => (None, Status::Error(e.message.clone())),
                (_, Some(Step::Done(addr))) if addr.checked_add(ty.size() as u64).is_none() => (
                    None,
                    Status::Error(format!("the {ty} at {addr:#x} runs past the top of memory")),
                ),
                (_, Some(Step::Done(addr))) => {
                    value_ranges.push((*addr, ty.size()));
                    (Some(*addr), Status::Ok)
                }
                (_, Some(Step::Failed(at, why))) => {
                    (None, Status::from_unread(*why, "pointer", *at))
                }
                (_, Some(Step::Overflow(why))) => (None, Status::Error(why.clone())),
                _ => (
                    None,
                    Status::Error("pointer chain deeper than expected".into()),
                ),
            };
            readings.push(WatchReading {
                id: entry.id,
                address,
                ty,
                status,
                value: None,
            });
        }
        if value_ranges.is_empty() {
            self.value_batch.clear();
        } else {
            memory.read_batch(maps, &value_ranges, mode, &mut self.value_batch)?;
        }
        let mut outcomes = self.value_batch.iter();
        for (entry, reading) in self.entries.iter_mut().zip(&mut readings) {
            let Some(addr) = reading.address else {
                entry.last = None;
                continue;
            };
            let Some(outcome) = outcomes.next() else {
                reading.status = Status::Error("the read returned too few results".into());
                continue;
            };
            let bytes = match outcome.bytes() {
                Some(b) => Some(b),
                None if reading.ty.reads_prefix() => {
                    // A C string may end before the unreadable part of its window.
                    let readable = outcome
                        .gaps
                        .first()
                        .map_or(0, |g| g.addr.saturating_sub(outcome.addr) as usize);
                    let prefix = &outcome.data[..readable.min(outcome.data.len())];
                    prefix.contains(&0).then_some(prefix)
                }
                None => None,
            };
            match bytes {
                Some(bytes) => {
                    reading.value = Some(reading.ty.decode(bytes));
                    // Bytes after a C string's NUL are not part of its value.
                    let bytes = reading.ty.significant(bytes);
                    // Compared and kept in place: no allocation on a steady tick.
                    // A pointer that moved to different bytes changed the value too.
                    match &mut entry.last {
                        Some((a, last)) if *a == addr && last.as_slice() == bytes => {}
                        Some((a, last)) => {
                            if last.as_slice() != bytes {
                                reading.status = Status::Changed;
                            }
                            *a = addr;
                            last.clear();
                            last.extend_from_slice(bytes);
                        }
                        None => entry.last = Some((addr, bytes.to_vec())),
                    }
                }
                None => {
                    let why = outcome.first_unread().unwrap_or(Unread::Faulted);
                    let at = outcome.gaps.first().map_or(addr, |g| g.addr);
                    reading.status = Status::from_unread(why, "value", at);
                }
            }
        }
        Ok(readings)
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;

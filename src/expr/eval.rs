//! Evaluating watches against a live target: symbols resolved once, pointer
//! chains followed level by level, every value of a tick read in one call.

use std::collections::HashMap;
use std::fmt;

use crate::error::Result;
use crate::expr::parse::{BinOp, Expr, SymbolName, Watch, parse_watch};
use crate::expr::types::{Type, Value};
use crate::process::{Maps, MemoryWorker, ReadBatch, ReadMode, Unread};
use crate::symbols::{Symbol, SymbolTable};

/// Why a watch has no address: an unknown symbol or region, with the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResolveError {}

/// An address computation with symbols and regions replaced by their
/// addresses; only the pointer reads are left to do.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Const(u64),
    Deref(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
}

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
pub fn resolve(
    watch: &Watch,
    symbols: &SymbolTable,
    maps: &Maps,
) -> Result<Resolved, ResolveError> {
    if let Expr::Symbol(name) = &watch.expr {
        // A bare symbol: its size picks the type when none was given.
        let symbol = lookup(name, symbols)?;
        let ty = watch
            .ty
            .clone()
            .unwrap_or_else(|| Type::for_symbol_size(symbol.size));
        return Ok(Resolved {
            node: Node::Const(symbol.addr),
            ty,
        });
    }
    let node = resolve_expr(&watch.expr, symbols, maps)?;
    let ty = watch.ty.clone().unwrap_or_else(Type::u64);
    Ok(Resolved { node, ty })
}

fn lookup(name: &SymbolName, symbols: &SymbolTable) -> Result<Symbol, ResolveError> {
    let found = match &name.module {
        Some(m) => symbols.lookup_in(m, &name.name),
        None => symbols.lookup(&name.name),
    };
    found.map_err(|e| ResolveError {
        column: name.column,
        message: e.to_string(),
    })
}

fn resolve_expr(expr: &Expr, symbols: &SymbolTable, maps: &Maps) -> Result<Node, ResolveError> {
    Ok(match expr {
        Expr::Number(n) => Node::Const(*n),
        Expr::Symbol(sym) => Node::Const(lookup(sym, symbols)?.addr),
        Expr::Region { name, column } => {
            let region = maps.find_by_name(name).ok_or_else(|| ResolveError {
                column: *column,
                message: format!("no mapping named {name}"),
            })?;
            Node::Const(region.start)
        }
        Expr::Deref(inner) => Node::Deref(Box::new(resolve_expr(inner, symbols, maps)?)),
        Expr::Binary { op, left, right } => {
            let left = resolve_expr(left, symbols, maps)?;
            let right = resolve_expr(right, symbols, maps)?;
            match (&left, &right) {
                (Node::Const(a), Node::Const(b)) => Node::Const(apply(*op, *a, *b)),
                _ => Node::Binary(*op, Box::new(left), Box::new(right)),
            }
        }
    })
}

fn apply(op: BinOp, a: u64, b: u64) -> u64 {
    match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
    }
}

/// `watch` with each absolute address inside a mapped file rewritten as
/// `module!symbol+off` or `[module]+off`, so a saved watch list still points
/// at the same data after the next run moves everything.
pub fn relocatable(watch: &Watch, symbols: &SymbolTable) -> Watch {
    fn walk(expr: &Expr, symbols: &SymbolTable) -> Expr {
        match expr {
            Expr::Number(n) => symbols
                .relocatable(*n)
                .and_then(|text| parse_watch(&text).ok())
                .map_or_else(|| expr.clone(), |w| w.expr),
            Expr::Deref(inner) => Expr::Deref(Box::new(walk(inner, symbols))),
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
    resolved: Option<Result<Resolved, ResolveError>>,
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
}

impl fmt::Debug for WatchSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.watch.text))
            .finish()
    }
}

/// A pointer read in one tick: its value, or why it could not be read.
type PointerReads = HashMap<u64, std::result::Result<u64, Unread>>;

enum Step {
    Done(u64),
    /// Waits for pointer reads (their addresses were pushed to the need list).
    Waiting,
    /// A pointer on the way could not be read: (where, why).
    Failed(u64, Unread),
}

fn step(node: &Node, pointers: &PointerReads, need: &mut Vec<u64>) -> Step {
    match node {
        Node::Const(v) => Step::Done(*v),
        Node::Deref(inner) => match step(inner, pointers, need) {
            Step::Done(addr) => match pointers.get(&addr) {
                Some(Ok(v)) => Step::Done(*v),
                Some(Err(why)) => Step::Failed(addr, *why),
                None => {
                    need.push(addr);
                    Step::Waiting
                }
            },
            other => other,
        },
        Node::Binary(op, left, right) => {
            // Both sides, so their pointers are read in the same round.
            let l = step(left, pointers, need);
            let r = step(right, pointers, need);
            match (l, r) {
                (Step::Done(a), Step::Done(b)) => Step::Done(apply(*op, a, b)),
                (f @ Step::Failed(..), _) | (_, f @ Step::Failed(..)) => f,
                _ => Step::Waiting,
            }
        }
    }
}

impl WatchSet {
    pub fn new() -> WatchSet {
        WatchSet::default()
    }

    pub fn add(&mut self, watch: Watch) -> WatchId {
        let id = WatchId(self.next_id);
        self.next_id += 1;
        self.entries.push(Entry {
            id,
            watch,
            resolved: None,
            last: None,
        });
        id
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
    pub fn resolve_error(&self, id: WatchId) -> Option<&ResolveError> {
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
        let stale = self.generation != Some(symbols.generation());
        for entry in &mut self.entries {
            if stale || entry.resolved.is_none() {
                let resolved = resolve(&entry.watch, symbols, maps);
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
    pub fn poll(
        &mut self,
        worker: &mut MemoryWorker,
        maps: &Maps,
        symbols: &SymbolTable,
        mode: ReadMode,
    ) -> Result<Vec<WatchReading>> {
        self.resolve(symbols, maps);
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
                    && !matches!(slot, Some(Step::Done(_) | Step::Failed(..)))
                {
                    *slot = Some(step(&resolved.node, &pointers, &mut need));
                }
            }
            if need.is_empty() {
                break;
            }
            need.sort_unstable();
            need.dedup();
            let ranges: Vec<(u64, usize)> = need.iter().map(|&a| (a, 8)).collect();
            let batch = worker.read_batch(maps, &ranges, mode)?;
            for (addr, outcome) in need.iter().zip(batch.iter()) {
                let read = match outcome.bytes() {
                    Some(b) => Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))),
                    None => Err(outcome.first_unread().unwrap_or(Unread::Faulted)),
                };
                pointers.insert(*addr, read);
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
                (_, Some(Step::Done(addr))) => {
                    value_ranges.push((*addr, ty.size()));
                    (Some(*addr), Status::Ok)
                }
                (_, Some(Step::Failed(at, why))) => {
                    (None, Status::from_unread(*why, "pointer", *at))
                }
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
        let batch = if value_ranges.is_empty() {
            ReadBatch::default()
        } else {
            worker.read_batch(maps, &value_ranges, mode)?
        };
        let mut outcomes = batch.iter();
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

fn depth(node: &Node) -> usize {
    match node {
        Node::Const(_) => 0,
        Node::Deref(inner) => 1 + depth(inner),
        Node::Binary(_, l, r) => depth(l).max(depth(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: u64) -> Node {
        Node::Const(v)
    }

    #[test]
    fn steps_collect_every_pointer_a_level_needs() {
        // *(*a + *b) + 8: a and b are read in the same round.
        let node = Node::Binary(
            BinOp::Add,
            Box::new(Node::Deref(Box::new(Node::Binary(
                BinOp::Add,
                Box::new(Node::Deref(Box::new(c(0x100)))),
                Box::new(Node::Deref(Box::new(c(0x200)))),
            )))),
            Box::new(c(8)),
        );
        let mut pointers = PointerReads::new();
        let mut need = Vec::new();
        assert!(matches!(step(&node, &pointers, &mut need), Step::Waiting));
        assert_eq!(need, [0x100, 0x200]);
        pointers.insert(0x100, Ok(0x1000));
        pointers.insert(0x200, Ok(0x10));
        need.clear();
        assert!(matches!(step(&node, &pointers, &mut need), Step::Waiting));
        assert_eq!(need, [0x1010]);
        pointers.insert(0x1010, Ok(0x5000));
        need.clear();
        assert!(matches!(
            step(&node, &pointers, &mut need),
            Step::Done(0x5008)
        ));
        assert_eq!(depth(&node), 2);
    }

    #[test]
    fn watch_sets_and_symbol_tables_can_move_to_a_poller_thread() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<WatchSet>();
        send_and_sync::<crate::symbols::SymbolTable>();
    }

    #[test]
    fn a_failed_pointer_fails_the_chain() {
        let node = Node::Deref(Box::new(Node::Deref(Box::new(c(0x100)))));
        let mut pointers = PointerReads::new();
        pointers.insert(0x100, Err(Unread::Unmapped));
        let mut need = Vec::new();
        assert!(matches!(
            step(&node, &pointers, &mut need),
            Step::Failed(0x100, Unread::Unmapped)
        ));
        assert!(need.is_empty());
    }
}

//! Address computations: what is left of a watch once its symbols,
//! fields and constant indexes are folded. Each tick steps them: a step
//! either finishes or names the pointers (and index variables) it needs
//! read, so every watch's reads of one level go in one batch.

use std::collections::HashMap;

use crate::expr::diagnostic::Diagnostic;
use crate::expr::parse::BinOp;
use crate::process::Unread;

/// An address computation with symbols and regions replaced by their
/// addresses; only the pointer reads are left to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Node {
    Const(u64),
    Deref(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    /// An element whose index is read from the target each tick.
    Index(Box<Indexed>),
}

/// `base + index * scale`, the index checked against `bound` once known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Indexed {
    pub base: Node,
    pub index: Int,
    pub scale: u64,
    pub bound: Bound,
}

/// Which indexes an element access takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Bound {
    /// Any, as C indexes a pointer.
    Pointer,
    /// `0..count` of the array type named (`0..` when its bound is unknown).
    Array { count: Option<u64>, name: String },
}

/// Integer arithmetic on numbers and variables' values: an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Int {
    Const(i128),
    /// The `size`-byte little-endian integer at the address, or the
    /// `(offset, width)` bits of it a bitfield holds.
    Load {
        at: Node,
        size: u8,
        signed: bool,
        bits: Option<(u8, u8)>,
    },
    Binary(BinOp, Box<Int>, Box<Int>),
}

impl Bound {
    /// Whether `index` is in bounds; why not when it is not.
    pub(super) fn check(&self, index: i128) -> std::result::Result<(), String> {
        match self {
            Bound::Pointer => Ok(()),
            Bound::Array { .. } if index < 0 => {
                Err(format!("index {index} is negative: an array starts at 0"))
            }
            Bound::Array {
                count: Some(n),
                name,
            } if index >= i128::from(*n) => Err(format!(
                "index {index} is out of bounds for {name} ({n} elements)"
            )),
            Bound::Array { .. } => Ok(()),
        }
    }
}

/// `base + index * scale` in the address space; `None` outside it.
pub(super) fn element_address(base: u64, index: i128, scale: u64) -> Option<u64> {
    let offset = index.checked_mul(i128::from(scale))?;
    u64::try_from(i128::from(base).checked_add(offset)?).ok()
}

/// Integer arithmetic on an index; `None` when it overflows.
pub(super) fn apply_int(op: BinOp, a: i128, b: i128) -> Option<i128> {
    match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
    }
}

/// `left op right`, folded when both are known.
pub(super) fn binary(op: BinOp, left: Node, right: Node) -> std::result::Result<Node, Diagnostic> {
    Ok(match (&left, &right) {
        (Node::Const(a), Node::Const(b)) => {
            Node::Const(apply(op, *a, *b).ok_or_else(|| Diagnostic {
                column: 0,
                message: overflow(op, *a, *b),
            })?)
        }
        _ => Node::Binary(op, Box::new(left), Box::new(right)),
    })
}

/// `node + offset`: a field's or element's place, folded when known.
pub(super) fn add_offset(
    node: Node,
    offset: u64,
    column: usize,
) -> std::result::Result<Node, Diagnostic> {
    if offset == 0 {
        return Ok(node);
    }
    binary(BinOp::Add, node, Node::Const(offset)).map_err(|mut e| {
        e.column = column;
        e
    })
}

/// Address arithmetic; `None` when it leaves 0..=u64::MAX, which would
/// silently point somewhere else.
pub(super) fn apply(op: BinOp, a: u64, b: u64) -> Option<u64> {
    match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
    }
}

fn sign(op: BinOp) -> char {
    match op {
        BinOp::Add => '+',
        BinOp::Sub => '-',
        BinOp::Mul => '*',
    }
}

pub(super) fn overflow(op: BinOp, a: u64, b: u64) -> String {
    let sign = sign(op);
    format!("address arithmetic overflows: {a:#x} {sign} {b:#x} is outside 0..=0xffffffffffffffff")
}

/// The integers read in one tick (pointers, and variables an index
/// reads), by address and width: the value, or why it could not be read.
pub(super) type PointerReads = HashMap<(u64, usize), std::result::Result<u64, Unread>>;

pub(super) enum Step<T = u64> {
    Done(T),
    /// Waits for reads (their addresses and widths were pushed to the need list).
    Waiting,
    /// A pointer (or an index's variable) on the way could not be read: (where, why).
    Failed(u64, Unread),
    /// Arithmetic left the address space, or an index its array.
    Overflow(String),
}

impl<T> Step<T> {
    /// A step that did not finish, as a step of another kind.
    fn unfinished<U>(self) -> Step<U> {
        match self {
            Step::Done(_) | Step::Waiting => Step::Waiting,
            Step::Failed(at, why) => Step::Failed(at, why),
            Step::Overflow(why) => Step::Overflow(why),
        }
    }

    fn is_failure(&self) -> bool {
        matches!(self, Step::Failed(..) | Step::Overflow(_))
    }
}

/// The `size`-byte integer at the step's address, once read.
fn load(at: Step, size: usize, pointers: &PointerReads, need: &mut Vec<(u64, usize)>) -> Step {
    let Step::Done(addr) = at else {
        return at;
    };
    match pointers.get(&(addr, size)) {
        Some(Ok(v)) => Step::Done(*v),
        Some(Err(why)) => Step::Failed(addr, *why),
        None if addr.checked_add(size as u64).is_none() => Step::Overflow(format!(
            "the {size} bytes at {addr:#x} run past the top of memory"
        )),
        None => {
            need.push((addr, size));
            Step::Waiting
        }
    }
}

pub(super) fn step(node: &Node, pointers: &PointerReads, need: &mut Vec<(u64, usize)>) -> Step {
    match node {
        Node::Const(v) => Step::Done(*v),
        Node::Deref(inner) => load(step(inner, pointers, need), 8, pointers, need),
        Node::Binary(op, left, right) => {
            // Both sides, so their pointers are read in the same round.
            let l = step(left, pointers, need);
            let r = step(right, pointers, need);
            match (l, r) {
                (Step::Done(a), Step::Done(b)) => match apply(*op, a, b) {
                    Some(v) => Step::Done(v),
                    None => Step::Overflow(overflow(*op, a, b)),
                },
                (f, _) if f.is_failure() => f,
                (_, f) if f.is_failure() => f,
                _ => Step::Waiting,
            }
        }
        Node::Index(ix) => {
            let base = step(&ix.base, pointers, need);
            let index = int_step(&ix.index, pointers, need);
            match (base, index) {
                (Step::Done(base), Step::Done(i)) => match ix.bound.check(i) {
                    Err(why) => Step::Overflow(why),
                    Ok(()) => match element_address(base, i, ix.scale) {
                        Some(addr) => Step::Done(addr),
                        None => Step::Overflow(format!(
                            "element {i} of {ix_scale} bytes from {base:#x} is outside the address space",
                            ix_scale = ix.scale
                        )),
                    },
                },
                (f, _) if f.is_failure() => f,
                (_, f) if f.is_failure() => f.unfinished(),
                _ => Step::Waiting,
            }
        }
    }
}

pub(super) fn int_step(
    int: &Int,
    pointers: &PointerReads,
    need: &mut Vec<(u64, usize)>,
) -> Step<i128> {
    match int {
        Int::Const(v) => Step::Done(*v),
        Int::Load {
            at,
            size,
            signed,
            bits,
        } => {
            let (offset, width) = bits.unwrap_or((0, size.saturating_mul(8)));
            let (offset, width) = (u32::from(offset), u32::from(width).clamp(1, 64));
            match load(step(at, pointers, need), usize::from(*size), pointers, need) {
                Step::Done(raw) => {
                    // The value's bits moved to the top, then back down:
                    // sign-extended when signed.
                    let top = (raw >> offset.min(63)) << (64 - width);
                    Step::Done(if *signed {
                        i128::from((top as i64) >> (64 - width))
                    } else {
                        i128::from(top >> (64 - width))
                    })
                }
                other => other.unfinished(),
            }
        }
        Int::Binary(op, left, right) => {
            let l = int_step(left, pointers, need);
            let r = int_step(right, pointers, need);
            match (l, r) {
                (Step::Done(a), Step::Done(b)) => match apply_int(*op, a, b) {
                    Some(v) => Step::Done(v),
                    None => Step::Overflow(format!("the index {a} {} {b} overflows", sign(*op))),
                },
                (f, _) if f.is_failure() => f,
                (_, f) if f.is_failure() => f,
                _ => Step::Waiting,
            }
        }
    }
}

pub(super) fn depth(node: &Node) -> usize {
    match node {
        Node::Const(_) => 0,
        Node::Deref(inner) => 1 + depth(inner),
        Node::Binary(_, l, r) => depth(l).max(depth(r)),
        Node::Index(ix) => depth(&ix.base).max(int_depth(&ix.index)),
    }
}

fn int_depth(int: &Int) -> usize {
    match int {
        Int::Const(_) => 0,
        Int::Load { at, .. } => 1 + depth(at),
        Int::Binary(_, l, r) => int_depth(l).max(int_depth(r)),
    }
}

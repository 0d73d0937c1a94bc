//! The hunt overlay: the pointer chains to a place (`P`), or the live list
//! of the instructions that write a watch (`W`), drawn over the pane. The
//! job runs through the session's [`Hunts`]; a forwarding callback turns
//! its events into [`Event::Hunt`]. Closing the overlay drops the job,
//! which removes a writers watch's breakpoints.

use std::sync::mpsc::Sender;

use crate::error::Result;
use crate::hunt::pointers::Bounds;
use crate::hunt::writers::Access;
use crate::session::{FoundChain, HuntEvent, HuntJob, Hunts, WritersReport, WritersRequest};
use crate::tui::event::Event;

/// The place a pointer scan started from the UI looks for, carried from the
/// key that asked for it to the prompt that sets its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointerScan {
    pub addr: u64,
    /// The type its chains read as.
    pub ty: String,
    /// How the overlay names it.
    pub subject: String,
}

/// Depth and offsets a pointer scan from the UI starts with (the command
/// line's defaults): the prompt shows them, to change or accept.
pub const POINTER_BOUNDS: Bounds = Bounds {
    depth: 3,
    max_offset: 4096,
    max_chains: 200,
};

/// What the overlay lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HuntList {
    Pointers(Vec<FoundChain>),
    Writers(WritersReport),
}

/// The open overlay.
#[derive(Debug)]
pub struct HuntView {
    pub seq: u64,
    /// What is hunted: `score:u32 at 0x55d0c0ffe0`.
    pub subject: String,
    pub list: HuntList,
    /// How the job is going, or how it ended.
    pub status: String,
    pub running: bool,
    pub selected: usize,
    /// The bounds a pointer scan runs within, for its status.
    bounds: Bounds,
    job: Option<HuntJob>,
}

impl HuntView {
    /// A finished list with no job behind it (what the views draw in tests).
    pub fn listing(subject: &str, list: HuntList, status: &str) -> HuntView {
        HuntView {
            seq: 0,
            subject: subject.into(),
            list,
            status: status.into(),
            running: false,
            selected: 0,
            bounds: POINTER_BOUNDS,
            job: None,
        }
    }

    pub fn is_pointers(&self) -> bool {
        matches!(self.list, HuntList::Pointers(_))
    }

    pub fn len(&self) -> usize {
        match &self.list {
            HuntList::Pointers(chains) => chains.len(),
            HuntList::Writers(report) => report.rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chain under the cursor, in a pointer list.
    pub fn selected_chain(&self) -> Option<&FoundChain> {
        match &self.list {
            HuntList::Pointers(chains) => chains.get(self.selected),
            HuntList::Writers(_) => None,
        }
    }

    /// Takes a job's event.
    pub fn update(&mut self, seq: u64, event: HuntEvent) {
        if seq != self.seq {
            return;
        }
        match event {
            HuntEvent::Chains {
                pointers,
                chains,
                elapsed,
            } => {
                self.running = false;
                self.job = None;
                self.status = match chains.len() {
                    0 => format!(
                        "no chain from a static place within depth {} and offsets up to {:#x} \
                         ({pointers} pointers looked at in {:.2} s)",
                        self.bounds.depth,
                        self.bounds.max_offset,
                        elapsed.as_secs_f64()
                    ),
                    n => format!(
                        "{n} chain{} from {pointers} pointers in {:.2} s (depth {}, offsets up to \
                         {:#x}) · Enter adds one as a watch",
                        if n == 1 { "" } else { "s" },
                        elapsed.as_secs_f64(),
                        self.bounds.depth,
                        self.bounds.max_offset
                    ),
                };
                self.list = HuntList::Pointers(chains);
            }
            HuntEvent::Writers(report) => {
                let total: u64 = report.rows.iter().map(|r| r.count).sum();
                let mut status = format!(
                    "{total} accesses by {} instruction{} · {} thread{} watched · each IP is the \
                     instruction after the access{}",
                    report.rows.len(),
                    if report.rows.len() == 1 { "" } else { "s" },
                    report.threads,
                    if report.threads == 1 { "" } else { "s" },
                    if report.rows.iter().any(|r| r.access.is_some()) {
                        " · ← the access"
                    } else {
                        ""
                    },
                );
                if report.lost > 0 {
                    status.push_str(&format!(" · {} samples lost", report.lost));
                }
                if let Some(first) = report.refused.first() {
                    status.push_str(&format!(" · not watched: {first}"));
                }
                self.status = status;
                self.list = HuntList::Writers(report);
            }
            HuntEvent::Failed(why) => {
                self.running = false;
                self.job = None;
                self.status = why;
            }
        }
        self.selected = self.selected.min(self.len().saturating_sub(1));
    }
}

/// Starts hunt jobs and forwards their events to the UI.
#[derive(Clone, Debug)]
pub struct Hunter {
    hunts: Hunts,
    tx: Sender<Event>,
}

impl Hunter {
    pub fn new(hunts: Hunts, tx: Sender<Event>) -> Hunter {
        Hunter { hunts, tx }
    }

    fn notify(&self, seq: u64) -> crate::session::Notify {
        let tx = self.tx.clone();
        Box::new(move |event| tx.send(Event::Hunt(seq, event)).is_ok())
    }

    /// Starts a pointer scan to `scan.addr` within `bounds`.
    pub fn pointers(&self, seq: u64, scan: PointerScan, bounds: Bounds) -> Result<HuntView> {
        let job = self
            .hunts
            .pointers(scan.addr, &scan.ty, bounds, self.notify(seq))?;
        Ok(HuntView {
            seq,
            subject: scan.subject,
            list: HuntList::Pointers(Vec::new()),
            status: format!(
                "reading the target's writable memory for pointers (depth {}, offsets up to {:#x})…",
                bounds.depth, bounds.max_offset
            ),
            running: true,
            selected: 0,
            bounds,
            job: Some(job),
        })
    }

    /// Starts a writers watch on `len` bytes at `addr`.
    pub fn writers(&self, seq: u64, subject: String, addr: u64, len: usize) -> Result<HuntView> {
        let request = WritersRequest {
            addr,
            len,
            access: Access::Writes,
        };
        let job = self.hunts.writers(request, self.notify(seq))?;
        Ok(HuntView {
            seq,
            subject,
            list: HuntList::Writers(WritersReport::default()),
            status: "waiting for the first write…".into(),
            running: true,
            selected: 0,
            bounds: POINTER_BOUNDS,
            job: Some(job),
        })
    }
}

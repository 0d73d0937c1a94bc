//! Freezes held by the poller: where each is rewritten this tick. A frozen
//! watch's pointer hops are read again before every rewrite, so a path the
//! target repoints is followed: the place it left is written again only if
//! the target repoints it in the instant between that read and the write.

use super::{Freeze, PollerState};
use crate::expr::{WatchId, WatchSet};
use crate::process::ReadMode;

impl PollerState {
    pub(super) fn unfreeze(&mut self, id: WatchId) {
        self.freezes.remove(&id);
        self.held.remove(id);
    }

    pub(super) fn unfreeze_all(&mut self) {
        self.freezes.clear();
        self.held = WatchSet::new();
    }

    /// The freezes to rewrite this tick, each where its path leads now: the
    /// pointer hops are read again (as a watch's are), and a freeze whose
    /// path leads nowhere is not written but reported. `None` when the
    /// target is gone.
    pub(super) fn follow_freezes(
        &mut self,
        errors: &mut Vec<(WatchId, String)>,
    ) -> Option<Vec<(WatchId, Freeze)>> {
        if self.freezes.is_empty() {
            return Some(Vec::new());
        }
        let readings = match self.session.poll(&mut self.held, ReadMode::NoWait) {
            Ok(readings) => readings,
            Err(e) if e.is_exit() => return None,
            Err(e) => {
                errors.extend(self.freezes.keys().map(|id| (*id, e.to_string())));
                return Some(Vec::new());
            }
        };
        let mut due = Vec::with_capacity(self.freezes.len());
        for (id, freeze) in &mut self.freezes {
            match readings.iter().find(|r| r.id == *id) {
                // Not a watch of the set (it was never one): held where it was.
                None => {}
                Some(reading) => match reading.address {
                    Some(addr) => freeze.addr = addr,
                    None => {
                        errors.push((
                            *id,
                            format!(
                                "the path leads nowhere now ({}): not rewritten",
                                reading.status
                            ),
                        ));
                        continue;
                    }
                },
            }
            due.push((*id, freeze.clone()));
        }
        Some(due)
    }
}

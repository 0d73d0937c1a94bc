//! One tick of the poller: hold freezes, refresh maps, read the watches
//! and the hex range in batches, and publish one snapshot.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::*;

impl PollerState {
    /// One tick: hold freezes, refresh maps, read watches and the hex range.
    pub(super) fn tick_once<F: FnMut(PollerEvent) -> bool>(
        &mut self,
        lateness: Duration,
        sink: &mut F,
    ) -> bool {
        let started = Instant::now();
        self.tick += 1;
        let stopped = self.session.is_stopped();
        if stopped != self.stopped {
            self.stopped = stopped;
            if !sink(PollerEvent::Stopped(stopped)) {
                return false;
            }
        }
        let mut maps_changed = None;
        // Unchanged maps (the usual tick) are told by fingerprint, not parsed.
        // A library loaded or unloaded: the session's symbols follow, and
        // watches on it resolve anew.
        let fresh = if self.maps_sent {
            self.session.refresh().map(|m| m.cloned())
        } else {
            self.session.reload().map(|m| Some(m.clone()))
        };
        if self.session.execs() != self.execs {
            self.execs = self.session.execs();
            // Addresses of the old program mean nothing in the new one.
            self.unfreeze_all();
            self.hex = None;
            let name = self.session.name().to_string();
            if !sink(PollerEvent::Exec { name }) {
                return false;
            }
        }
        match fresh {
            // A live process always has mappings: none means it is being
            // torn down, and what this tick would read is not the target's.
            Ok(Some(maps)) if maps.regions().is_empty() => {
                return self.drop_tick(sink);
            }
            Ok(Some(maps)) => {
                maps_changed = Some(maps);
                self.maps_sent = true;
            }
            Ok(None) => {}
            Err(e) if e.is_exit() => return self.handle(Command::TargetExited, sink),
            Err(e) => {
                if !sink(PollerEvent::Warning(format!(
                    "reading the maps failed: {e}"
                ))) {
                    return false;
                }
            }
        }
        let mut freeze_errors = Vec::new();
        let freezes = match self.follow_freezes(&mut freeze_errors) {
            Some(freezes) => freezes,
            None => return self.handle(Command::TargetExited, sink),
        };
        for (id, Freeze { addr, bytes, mask }) in freezes {
            match self.session.write_held(addr, &bytes, mask.as_deref()) {
                Ok(report) if report.landed() => {}
                Ok(report) => freeze_errors.push((
                    id,
                    format!("freeze wrote {} of {} bytes", report.written, bytes.len()),
                )),
                Err(e) if e.is_exit() => return self.handle(Command::TargetExited, sink),
                Err(e) => freeze_errors.push((id, e.to_string())),
            }
        }
        if self.paused {
            if maps_changed.is_none() && freeze_errors.is_empty() {
                return true;
            }
            let snapshot = Snapshot {
                tick: self.tick,
                lateness,
                took: started.elapsed(),
                watches: Vec::new(),
                hex: None,
                maps: maps_changed,
                residency: None,
                freeze_errors,
            };
            return sink(PollerEvent::Snapshot(Box::new(snapshot)));
        }
        let watches = match self.read_watches() {
            Ok(w) => w,
            Err(e) if e.is_exit() => return self.handle(Command::TargetExited, sink),
            Err(e) => {
                return sink(PollerEvent::Warning(format!(
                    "reading the watches failed: {e}"
                )));
            }
        };
        let hex = match self.hex {
            Some((addr, len)) => match self.session.read(&[(addr, len)], ReadMode::NoWait) {
                Ok(mut outcomes) => outcomes.pop(),
                Err(e) if e.is_exit() => return self.handle(Command::TargetExited, sink),
                Err(e) => Some(ReadOutcome {
                    addr,
                    data: vec![0; len],
                    gaps: vec![Gap {
                        addr,
                        len: len as u64,
                        why: stall_or_fault(&e),
                    }],
                }),
            },
            None => None,
        };
        let failed = watches.iter().any(|w| w.value.is_none())
            || hex.as_ref().is_some_and(|h| !h.is_complete());
        if failed && !self.session.is_alive() {
            // Reads fail while an exiting target is torn down: those failures
            // say nothing about its memory and must not replace what was read.
            return self.handle(Command::TargetExited, sink);
        }
        let residency = self.residency();
        let snapshot = Snapshot {
            tick: self.tick,
            lateness,
            took: started.elapsed(),
            watches,
            hex,
            maps: maps_changed,
            residency,
            freeze_errors,
        };
        sink(PollerEvent::Snapshot(Box::new(snapshot)))
    }

    /// Publishes nothing this tick; a target that is gone is reported so.
    pub(super) fn drop_tick<F: FnMut(PollerEvent) -> bool>(&mut self, sink: &mut F) -> bool {
        if self.session.is_alive() {
            true
        } else {
            self.handle(Command::TargetExited, sink)
        }
    }

    /// Every watch, batched by the watch set: one read per pointer level;
    /// then the text of each `char *` (and Rust `&str`) a typed watch
    /// holds, never-block, so it shows as the command line shows it.
    pub(super) fn read_watches(&mut self) -> Result<Vec<WatchReading>> {
        if self.set.is_empty() {
            return Ok(Vec::new());
        }
        let mut readings = self.session.poll(&mut self.set, ReadMode::NoWait)?;
        for reading in &mut readings {
            self.session.read_strings(reading, ReadMode::NoWait);
        }
        Ok(readings)
    }

    /// Resident bytes per region from `/proc/PID/smaps`, every few seconds.
    pub(super) fn residency(&mut self) -> Option<HashMap<u64, u64>> {
        if !self.want_residency
            || self
                .residency_at
                .is_some_and(|t| t.elapsed() < RESIDENCY_EVERY)
        {
            return None;
        }
        self.residency_at = Some(Instant::now());
        self.session.residency().ok()
    }
}

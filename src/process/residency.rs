//! Residency checks through `/proc/PID/pagemap`, for kernels without
//! `PROCESS_VM_NOWAIT`: read only the pages that cannot block.
//!
//! A page can be read without waiting when it is present, or when it is a
//! not-yet-touched page of private anonymous memory (the kernel maps the
//! zero page) that no userfaultfd watches. A swapped page, a non-present page
//! of a file or of shared memory, and a missing page of a region registered
//! with userfaultfd (`um` in `/proc/PID/smaps` VmFlags) may wait on IO or on
//! another thread, so they are reported not resident instead.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use crate::process::maps::{Maps, Region};
use crate::process::memory::{Gap, Unread};
use crate::process::procfs::{ProcOpener, read_smaps};
use crate::sys::{self, RemoteRange};

const PRESENT: u64 = 1 << 63;
const SWAPPED: u64 = 1 << 62;
/// pagemap: the page is write-protected by userfaultfd (a write waits on its handler).
const UFFD_WP: u64 = 1 << 57;

/// What a write could wait on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteRisk {
    /// Every page is present (or fresh anonymous memory): nothing to wait on.
    None,
    /// A page is missing in a region a userfaultfd handler serves: the write
    /// would wait on that handler, for as long as it likes.
    Userfault { addr: u64 },
    /// A page may need IO, or sits in a userfaultfd region where it could
    /// go missing: the write must run where it can be stopped.
    MayBlock,
}

/// Spans at most this many pages apart share one pagemap `pread`: reading
/// the entries between them costs less than another syscall (measured here:
/// about 80 ns a page walked, against 0.8 µs a `pread`).
const CLUSTER_GAP_PAGES: u64 = 8;

/// A page seen present is trusted for this long, plus a per-page share of
/// [`PRESENT_JITTER`] so the re-checks of many watches spread over ticks
/// instead of landing on one. A page evicted inside that window may still be
/// read; the deadline worker bounds what such a read can cost.
const PRESENT_TRUST: Duration = Duration::from_millis(500);
const PRESENT_JITTER: Duration = Duration::from_millis(500);

/// Only spans this small (watch-sized) are remembered; bulk reads re-check.
const REMEMBER_MAX_PAGES: u64 = 4;

/// At most this many pages are remembered.
const REMEMBER_CAPACITY: usize = 1 << 16;

/// How long a reading of smaps VmFlags is trusted while the maps stay the
/// same: registering a whole region with userfaultfd does not change
/// `/proc/PID/maps`. Reading smaps walks every page of the target (about 7%
/// of a search of 1 GiB at one read a second), hence not more often; a
/// region registered within this window is still caught by the deadline.
const UFFD_FRESHNESS: Duration = Duration::from_secs(5);

/// The raw 64-bit pagemap entry of one page.
pub type PageEntry = u64;

pub fn is_present(entry: PageEntry) -> bool {
    entry & PRESENT != 0
}

pub fn is_swapped(entry: PageEntry) -> bool {
    entry & SWAPPED != 0
}

/// Regions registered with userfaultfd, and when and for which maps that was read.
struct UffdRegions {
    read_at: Instant,
    maps_fingerprint: u64,
    ranges: Vec<(u64, u64)>,
}

/// A process's `/proc/PID/pagemap`, read by page number.
#[derive(Debug)]
pub struct Pagemap(File);

impl Pagemap {
    pub fn new(file: File) -> Pagemap {
        Pagemap(file)
    }

    /// The pagemap entries of `count` pages from page number `first`.
    pub fn entries(&self, first: u64, count: u64) -> io::Result<Vec<PageEntry>> {
        let mut raw = vec![0u8; (count * 8) as usize];
        let mut done = 0;
        while done < raw.len() {
            match self.0.read_at(&mut raw[done..], first * 8 + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(raw
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }
}

pub struct Residency {
    pagemap: Pagemap,
    /// Opens the target's `smaps`, for its userfaultfd flags.
    opener: ProcOpener,
    uffd: Option<UffdRegions>,
    /// Pages recently seen present, with when that stops being trusted.
    present_until: HashMap<u64, Instant>,
}

impl Residency {
    pub fn new(pagemap: File, opener: ProcOpener) -> Residency {
        Residency {
            pagemap: Pagemap::new(pagemap),
            opener,
            uffd: None,
            present_until: HashMap::new(),
        }
    }

    /// The pagemap entries of `count` pages from page number `first`.
    pub fn entries(&self, first: u64, count: u64) -> io::Result<Vec<PageEntry>> {
        self.pagemap.entries(first, count)
    }

    /// Splits `spans` (sorted) into the parts that can be read without
    /// blocking; the rest become [`Unread::NotResident`] gaps.
    pub fn split_resident(
        &mut self,
        maps: &Maps,
        spans: Vec<RemoteRange>,
        gaps: &mut Vec<Gap>,
    ) -> io::Result<Vec<RemoteRange>> {
        let page = sys::page_size();
        let mut out = Vec::with_capacity(spans.len());
        let mut window_start = 0u64;
        let mut window: Vec<PageEntry> = Vec::new();
        let now = Instant::now();
        if self.present_until.len() > REMEMBER_CAPACITY {
            self.present_until.clear();
        }
        for (i, span) in spans.iter().enumerate() {
            let end = span.addr + span.len as u64;
            let (p0, p1) = (span.addr / page, (end - 1) / page);
            let small = p1 - p0 < REMEMBER_MAX_PAGES;
            if small && (p0..=p1).all(|p| self.present_until.get(&p).is_some_and(|&t| t > now)) {
                out.push(*span);
                continue;
            }
            if p0 < window_start || p1 >= window_start + window.len() as u64 {
                // One pread for this span and the spans close after it.
                let mut last = p1;
                for next in &spans[i + 1..] {
                    let next_last = (next.addr + next.len as u64 - 1) / page;
                    if next.addr / page > last + CLUSTER_GAP_PAGES {
                        break;
                    }
                    last = next_last;
                }
                window_start = p0;
                window = self.entries(p0, last - p0 + 1)?;
            }
            let mut run_start = span.addr;
            let mut run_safe: Option<bool> = None;
            for p in p0..=p1 {
                let at = (p * page).max(span.addr);
                let entry = window[(p - window_start) as usize];
                let present = is_present(entry);
                if present && small {
                    let jitter = PRESENT_JITTER
                        .mul_f64((p.wrapping_mul(0x9e37_79b9) % 1024) as f64 / 1024.0);
                    self.present_until.insert(p, now + PRESENT_TRUST + jitter);
                }
                let safe = present || self.zero_fill(maps, at, entry);
                match run_safe {
                    Some(s) if s == safe => {}
                    Some(s) => {
                        emit(&mut out, gaps, run_start, at, s);
                        run_start = at;
                        run_safe = Some(safe);
                    }
                    None => run_safe = Some(safe),
                }
            }
            if let Some(s) = run_safe {
                emit(&mut out, gaps, run_start, end, s);
            }
        }
        Ok(out)
    }

    /// Whether a write of `[addr, addr + len)` could wait: read fresh from
    /// pagemap (no page is trusted from before) and smaps.
    pub fn write_risk(&mut self, maps: &Maps, addr: u64, len: usize) -> io::Result<WriteRisk> {
        let page = sys::page_size();
        let end = addr.saturating_add(len.max(1) as u64);
        let (p0, p1) = (addr / page, (end - 1) / page);
        let entries = self.entries(p0, p1 - p0 + 1)?;
        let mut risk = WriteRisk::None;
        for (k, &entry) in entries.iter().enumerate() {
            let at = ((p0 + k as u64) * page).max(addr);
            let Some(region) = maps.find(at) else {
                continue;
            };
            let uffd = self.is_uffd(maps, region);
            if !is_present(entry) && uffd {
                return Ok(WriteRisk::Userfault { addr: at });
            }
            let waits = !is_present(entry) && !self.zero_fill(maps, at, entry);
            if waits || uffd || entry & UFFD_WP != 0 {
                risk = WriteRisk::MayBlock;
            }
        }
        Ok(risk)
    }

    /// Whether a non-present page reads as zeros without waiting.
    fn zero_fill(&mut self, maps: &Maps, addr: u64, entry: PageEntry) -> bool {
        let Some(region) = maps.find(addr) else {
            return false;
        };
        !is_swapped(entry)
            && region.is_anonymous()
            && !region.perms.shared
            && !self.is_uffd(maps, region)
    }

    fn is_uffd(&mut self, maps: &Maps, region: &Region) -> bool {
        let stale = self.uffd.as_ref().is_none_or(|u| {
            u.read_at.elapsed() > UFFD_FRESHNESS || u.maps_fingerprint != maps.fingerprint()
        });
        if stale {
            // If smaps cannot be read, assume the worst: the page may block.
            let Ok(ranges) = uffd_ranges(&self.opener) else {
                return true;
            };
            self.uffd = Some(UffdRegions {
                read_at: Instant::now(),
                maps_fingerprint: maps.fingerprint(),
                ranges,
            });
        }
        self.uffd.as_ref().is_some_and(|u| {
            u.ranges
                .iter()
                .any(|&(s, e)| s <= region.start && region.start < e)
        })
    }
}

fn emit(out: &mut Vec<RemoteRange>, gaps: &mut Vec<Gap>, from: u64, to: u64, safe: bool) {
    if to <= from {
        return;
    }
    if safe {
        out.push(RemoteRange {
            addr: from,
            len: (to - from) as usize,
        });
    } else {
        gaps.push(Gap {
            addr: from,
            len: to - from,
            why: Unread::NotResident,
        });
    }
}

/// The regions registered with userfaultfd in missing mode.
fn uffd_ranges(opener: &ProcOpener) -> crate::Result<Vec<(u64, u64)>> {
    Ok(read_smaps(opener)?
        .into_iter()
        .filter(|r| r.uffd_missing)
        .map(|r| (r.start, r.end))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_stack_page_is_present() {
        let file = File::open("/proc/self/pagemap").expect("pagemap");
        let opener: ProcOpener = std::sync::Arc::new(|rel: &str| {
            File::open(format!("/proc/self/{rel}")).map_err(|source| crate::Error::Proc {
                path: rel.to_string(),
                source,
            })
        });
        let residency = Residency::new(file, opener);
        let local = 7u64;
        let addr = std::ptr::addr_of!(local) as u64;
        let entries = residency
            .entries(addr / sys::page_size(), 1)
            .expect("entries");
        assert!(is_present(entries[0]));
    }
}

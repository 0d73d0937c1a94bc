//! Page-level facts about one mapping of a shared object: how much of it is
//! resident, and for a private mapping, which pages became its own copy.
//!
//! Pure functions over what was captured (pagemap entries or bytes), so the
//! rules are tested here without a target.

use std::collections::HashMap;

use serde::Serialize;

use crate::process::ReadOutcome;
use crate::process::residency::PageEntry;

/// pagemap bit 63: the page is present in RAM.
pub const PRESENT: u64 = 1 << 63;
/// pagemap bit 62: the page is swapped out.
pub const SWAPPED: u64 = 1 << 62;
/// pagemap bit 61: a file page or shared anonymous page. Clear on a present
/// page of a private file mapping, the page is the mapping's own anonymous
/// copy: it was written (copy-on-write) and no longer follows the file.
pub const FILE_OR_SHARED: u64 = 1 << 61;
/// pagemap bits 0-54: the page frame number, zero unless we hold CAP_SYS_ADMIN.
pub const PFN_MASK: u64 = (1 << 55) - 1;

/// How many diverged offsets a report names; the count covers the rest.
pub const FIRST_DIVERGED: usize = 8;

/// What was captured of one mapping's pages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PageData {
    /// One pagemap entry per page of the mapping.
    Entries(Vec<PageEntry>),
    /// The mapping's bytes, read without blocking.
    Bytes(ReadOutcome),
    /// Only how many pages are present: the mapping is too large to keep an
    /// entry per page (see `walk::MAX_PAGEMAP_PAGES`).
    Present(u64),
    /// Nothing: the mapping was not looked into.
    #[default]
    None,
}

/// How divergence was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// pagemap's file-page bit: a private page that is no longer a file page
    /// is a copy.
    Pagemap,
    /// As [`Method::Pagemap`], and page frame numbers compared with a shared
    /// mapping of the same object (only root sees them).
    Pfn,
    /// Bytes compared with a shared mapping of the same object: a copy that
    /// still holds the same bytes is not seen.
    Bytes,
}

/// Which pages of a private mapping no longer show the shared object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    pub method: Method,
    /// Pages of the mapping looked at.
    pub pages: u64,
    /// Pages that hold their own copy.
    pub diverged: u64,
    /// The object offsets of the first [`FIRST_DIVERGED`] diverged pages.
    pub first: Vec<u64>,
    /// Pages that could not be decided (not read, or no shared mapping to
    /// compare bytes with).
    pub unknown: u64,
}

impl Divergence {
    fn new(method: Method) -> Divergence {
        Divergence {
            method,
            pages: 0,
            diverged: 0,
            first: Vec::new(),
            unknown: 0,
        }
    }

    fn mark(&mut self, object_offset: u64) {
        self.diverged += 1;
        if self.first.len() < FIRST_DIVERGED {
            self.first.push(object_offset);
        }
    }
}

/// Pages present in RAM.
pub fn present_pages(entries: &[PageEntry]) -> u64 {
    entries.iter().filter(|e| *e & PRESENT != 0).count() as u64
}

/// The page frames of a shared mapping, by object page index (`offset /
/// page`), where root can see them.
pub fn frames(entries: &[PageEntry], offset: u64, page: u64, into: &mut HashMap<u64, u64>) {
    let first = offset / page;
    for (i, e) in entries.iter().enumerate() {
        let pfn = e & PFN_MASK;
        if e & PRESENT != 0 && e & FILE_OR_SHARED != 0 && pfn != 0 {
            into.insert(first + i as u64, pfn);
        }
    }
}

/// The object pages (`offset / page` indexes) a mapping shows resident from
/// the object itself, not from a private copy.
pub fn object_pages(entries: &[PageEntry], offset: u64, page: u64) -> impl Iterator<Item = u64> {
    let first = offset / page;
    entries.iter().enumerate().filter_map(move |(i, e)| {
        (e & PRESENT != 0 && e & FILE_OR_SHARED != 0).then_some(first + i as u64)
    })
}

/// Divergence of a private mapping at object `offset` from its pagemap
/// entries; `shared` holds the frames of shared mappings of the object.
pub fn diverged_by_pagemap(
    entries: &[PageEntry],
    offset: u64,
    page: u64,
    shared: &HashMap<u64, u64>,
) -> Divergence {
    let first = offset / page;
    let mut d = Divergence::new(Method::Pagemap);
    for (i, e) in entries.iter().enumerate() {
        let index = first + i as u64;
        d.pages += 1;
        let copied = e & (PRESENT | SWAPPED) != 0 && e & FILE_OR_SHARED == 0;
        let pfn = e & PFN_MASK;
        let other_frame = if e & PRESENT != 0 && pfn != 0 {
            shared.get(&index).copied()
        } else {
            None
        };
        if other_frame.is_some() {
            d.method = Method::Pfn;
        }
        if copied || other_frame.is_some_and(|f| f != pfn) {
            d.mark(index * page);
        }
    }
    d
}

/// Divergence of a private mapping at object `offset` from its bytes,
/// against the bytes of shared mappings (`(object offset, bytes)`).
pub fn diverged_by_bytes(
    private: &ReadOutcome,
    offset: u64,
    page: u64,
    shared: &[(u64, &ReadOutcome)],
) -> Divergence {
    let mut d = Divergence::new(Method::Bytes);
    let pages = private.data.len() as u64 / page;
    for i in 0..pages {
        d.pages += 1;
        let at = offset + i * page;
        let mine = page_bytes(private, i * page, page);
        let theirs = shared.iter().find_map(|(off, other)| {
            let rel = at.checked_sub(*off)?;
            page_bytes(other, rel, page)
        });
        match (mine, theirs) {
            (Some(a), Some(b)) if a != b => d.mark(at),
            (Some(_), Some(_)) => {}
            _ => d.unknown += 1,
        }
    }
    d
}

/// The page at `rel` of a read, only if every byte of it was read.
fn page_bytes(read: &ReadOutcome, rel: u64, page: u64) -> Option<&[u8]> {
    let end = rel.checked_add(page)?;
    if end > read.data.len() as u64 {
        return None;
    }
    let (from, to) = (read.addr + rel, read.addr + end);
    if read.gaps.iter().any(|g| g.addr < to && g.end() > from) {
        return None;
    }
    read.data.get(rel as usize..end as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Gap, Unread};

    const PAGE: u64 = 4096;

    #[test]
    fn copied_pages_diverge_and_file_pages_do_not() {
        let entries = [
            PRESENT | FILE_OR_SHARED, // read, still the file's page
            PRESENT,                  // written: its own anonymous copy
            0,                        // never touched
            SWAPPED,                  // a copy, swapped out
        ];
        let d = diverged_by_pagemap(&entries, 2 * PAGE, PAGE, &HashMap::new());
        assert_eq!(d.method, Method::Pagemap);
        assert_eq!((d.pages, d.diverged, d.unknown), (4, 2, 0));
        assert_eq!(d.first, vec![3 * PAGE, 5 * PAGE]);
    }

    #[test]
    fn frames_are_compared_when_root_sees_them() {
        let mut shared = HashMap::new();
        frames(
            &[PRESENT | FILE_OR_SHARED | 10, PRESENT | FILE_OR_SHARED | 11],
            0,
            PAGE,
            &mut shared,
        );
        let entries = [PRESENT | FILE_OR_SHARED | 10, PRESENT | FILE_OR_SHARED | 99];
        let d = diverged_by_pagemap(&entries, 0, PAGE, &shared);
        assert_eq!(d.method, Method::Pfn);
        assert_eq!(d.first, vec![PAGE]);
    }

    #[test]
    fn first_offsets_are_capped() {
        let entries = vec![PRESENT; 20];
        let d = diverged_by_pagemap(&entries, 0, PAGE, &HashMap::new());
        assert_eq!(d.diverged, 20);
        assert_eq!(d.first.len(), FIRST_DIVERGED);
    }

    #[test]
    fn resident_object_pages_skip_private_copies() {
        let entries = [PRESENT | FILE_OR_SHARED, PRESENT, 0];
        assert_eq!(present_pages(&entries), 2);
        assert_eq!(
            object_pages(&entries, PAGE, PAGE).collect::<Vec<_>>(),
            vec![1]
        );
    }

    fn outcome(addr: u64, pages: &[u8], gaps: Vec<Gap>) -> ReadOutcome {
        let data = pages
            .iter()
            .flat_map(|b| std::iter::repeat_n(*b, PAGE as usize))
            .collect();
        ReadOutcome { addr, data, gaps }
    }

    #[test]
    fn bytes_compare_against_the_shared_mapping_at_the_same_offset() {
        // The shared mapping covers object pages 1..4; the private one 0..3.
        let shared = outcome(0x10_0000, &[1, 2, 3], Vec::new());
        let private = outcome(0x20_0000, &[0, 1, 9], Vec::new());
        let d = diverged_by_bytes(&private, 0, PAGE, &[(PAGE, &shared)]);
        assert_eq!(d.method, Method::Bytes);
        // Page 0 has nothing to compare with; page 1 matches; page 2 differs.
        assert_eq!((d.pages, d.diverged, d.unknown), (3, 1, 1));
        assert_eq!(d.first, vec![2 * PAGE]);
    }

    #[test]
    fn unread_bytes_are_never_compared() {
        let shared = outcome(0x10_0000, &[1, 2], Vec::new());
        let gap = Gap {
            addr: 0x20_0000 + PAGE + 8,
            len: 8,
            why: Unread::NotResident,
        };
        let private = outcome(0x20_0000, &[1, 7], vec![gap]);
        let d = diverged_by_bytes(&private, 0, PAGE, &[(0, &shared)]);
        assert_eq!((d.diverged, d.unknown), (0, 1));
    }
}

//! Pointer scans, the way Cheat Engine does them: one pass over readable
//! memory collects every aligned pointer-sized value that points into
//! writable mapped memory, and a reverse search over that map finds the
//! chains `static place -> +o1 -> +o2 ... = address`.
//!
//! The map ([`PointerMap`]) packs each pointer in 8 bytes, sorted by value:
//! a range query for "who points into `[t - max_offset, t]`" is two binary
//! searches.

use crate::process::{Maps, Region};

pub use super::pointer_map::PointerMap;

/// Width and alignment of the pointers looked for (64-bit targets).
pub const POINTER: u64 = 8;

/// A place whose address is the same from run to run, relative to a module:
/// a module's writable data, or the anonymous `.bss` right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticArea {
    pub start: u64,
    pub end: u64,
    /// The file name of the module (`game`, `libc.so.6`).
    pub module: String,
    /// The start of the module's first mapping: the base offsets count from.
    pub base: u64,
}

/// The static areas of a target: writable file mappings and anonymous
/// writable mappings that start where such a module's mapping ends.
pub fn static_areas(maps: &Maps) -> Vec<StaticArea> {
    let regions = maps.regions();
    // Each module's lowest start, found in one pass: a target with tens of
    // thousands of mappings must not cost a scan of all of them per mapping.
    let mut bases: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for r in regions {
        let base = bases.entry(r.path.as_str()).or_insert(r.start);
        *base = (*base).min(r.start);
    }
    let base_of = |path: &str| bases.get(path).copied();
    let mut out = Vec::new();
    let mut last_file: Option<&Region> = None;
    for r in regions {
        if r.is_file() {
            last_file = Some(r);
            if r.perms.write
                && r.perms.read
                && let Some(base) = base_of(&r.path)
            {
                out.push(StaticArea {
                    start: r.start,
                    end: r.end,
                    module: r.name().to_string(),
                    base,
                });
            }
            continue;
        }
        let follows = last_file.filter(|f| f.end == r.start);
        if let Some(file) = follows
            && r.path.is_empty()
            && r.perms.write
            && r.perms.read
            && let Some(base) = base_of(&file.path)
        {
            out.push(StaticArea {
                start: r.start,
                end: r.end,
                module: file.name().to_string(),
                base,
            });
        }
        last_file = None;
    }
    out
}

/// What to scan: regions to read, and the ranges a value must fall in.
#[derive(Debug)]
pub struct ScanPlan {
    /// `(start, end)` of the memory read, sorted.
    pub read: Vec<(u64, u64)>,
    /// `(start, end)` a value must point into, sorted and disjoint.
    pub targets: Vec<(u64, u64)>,
}

impl ScanPlan {
    /// Reads every readable and writable region, and counts as pointers the
    /// values that point into writable memory. A chain to a changing value
    /// passes only through writable memory: read-only data (RELRO included)
    /// is fixed at load time and cannot hold a pointer to the heap, and
    /// pointers into code or constants never lead to a changing value.
    pub fn for_maps(maps: &Maps) -> ScanPlan {
        let read = maps
            .readable()
            .filter(|r| r.perms.write)
            .map(|r| (r.start, r.end))
            .collect();
        let targets = maps
            .readable()
            .filter(|r| r.perms.write)
            .map(|r| (r.start, r.end))
            .collect();
        ScanPlan { read, targets }
    }
}

/// Bounds of a reverse search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Most pointers followed from a static place to the address.
    pub depth: usize,
    /// Largest offset added after a pointer.
    pub max_offset: u64,
    /// Most chains reported.
    pub max_chains: usize,
}

/// The largest offset after a pointer a scan takes: 1 MiB, a large struct.
pub const MAX_OFFSET: u64 = 1 << 20;

impl Bounds {
    /// `DEPTH MAX-OFFSET` as typed (`3 4096`, `4 0x800`): depth 1 to
    /// [`MAX_DEPTH`], offset up to [`MAX_OFFSET`], with at most `max_chains`.
    pub fn parse(text: &str, max_chains: usize) -> std::result::Result<Bounds, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let [depth, offset] = words[..] else {
            return Err(format!(
                "two numbers: the depth (1 to {MAX_DEPTH}) and the largest offset after a \
                 pointer (up to {MAX_OFFSET:#x}), e.g. 3 4096"
            ));
        };
        let number = |word: &str, what: &str, max: u64, min: u64| {
            let n = crate::literal::parse_u64(word).map_err(|e| format!("{what} {word:?}: {e}"))?;
            if (min..=max).contains(&n) {
                Ok(n)
            } else {
                Err(format!("{what} {word:?} is out of range: {min} to {max}"))
            }
        };
        let depth = number(depth, "depth", MAX_DEPTH as u64, 1)?;
        let max_offset = number(offset, "offset", MAX_OFFSET, 0)?;
        Ok(Bounds {
            depth: usize::try_from(depth).map_err(|e| e.to_string())?,
            max_offset,
            max_chains,
        })
    }
}

/// `base -> +offsets[0] -> ... = address`: read the pointer at `base`, add
/// the first offset, read the pointer there, ... the last offset gives the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub base: u64,
    pub offsets: Vec<u64>,
}

/// The deepest search [`find_chains`] does.
pub const MAX_DEPTH: usize = 8;

/// Which pointers sit on each level of a reverse search: one bit per
/// pointer and level, for the levels a chain passes through.
struct Levels {
    bits: Vec<Vec<u64>>,
}

impl Levels {
    fn new(levels: usize, pointers: usize) -> Levels {
        Levels {
            bits: vec![vec![0; pointers.div_ceil(64)]; levels],
        }
    }

    /// Marks pointer `e` on level `k` (from 1); false if it was already.
    fn mark(&mut self, k: usize, e: usize) -> bool {
        let word = &mut self.bits[k - 1][e / 64];
        let bit = 1u64 << (e % 64);
        let fresh = *word & bit == 0;
        *word |= bit;
        fresh
    }

    fn has(&self, k: usize, e: usize) -> bool {
        self.bits
            .get(k - 1)
            .is_some_and(|b| b[e / 64] & (1u64 << (e % 64)) != 0)
    }
}

/// Chains from static places to `target`, shortest first, at most
/// `bounds.max_chains`; `bounds.depth` is capped at [`MAX_DEPTH`].
///
/// Breadth first, backwards: level 1 holds the pointers into
/// `[target - max_offset, target]`, level k those into the same window
/// before a level k-1 pointer's address. A pointer may sit on several
/// levels (a struct's field is both near the target and on a longer, more
/// stable path to it), but enters each level once, so each level costs at
/// most one pass over the map. Chains are then read forwards from the
/// static pointers found, each step going down exactly one level.
///
/// Only the levels a chain continues from are marked (a bit per pointer
/// each); the last level keeps just its static pointers.
pub fn find_chains(
    map: &PointerMap,
    statics: &[StaticArea],
    target: u64,
    bounds: Bounds,
) -> Vec<Chain> {
    let depth = bounds.depth.clamp(1, MAX_DEPTH);
    let mut levels = Levels::new(depth - 1, map.len());
    let is_static = |addr: u64| {
        let i = statics.partition_point(|s| s.end <= addr);
        statics.get(i).is_some_and(|s| s.start <= addr)
    };
    let mut frontier: Vec<u64> = vec![target];
    let mut roots: Vec<(usize, usize)> = Vec::new();
    for k in 1..=depth {
        let mut next = Vec::new();
        for &t in &frontier {
            for e in map.pointing_into(t.saturating_sub(bounds.max_offset), t) {
                let addr = map.addr(e);
                if k == depth {
                    // The last level: nothing continues from here.
                    if is_static(addr) {
                        roots.push((k, e));
                    }
                    continue;
                }
                if !levels.mark(k, e) {
                    continue;
                }
                if is_static(addr) {
                    // A chain ends here; following it further only makes it longer.
                    roots.push((k, e));
                } else {
                    next.push(addr);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    drop(frontier);
    roots.sort_unstable_by_key(|&(k, e)| (k, map.addr(e)));
    roots.dedup();
    // The pointers a chain steps down to, by address, for the walk forwards.
    let mut stepped: Vec<u32> = (0..map.len())
        .filter(|&e| (1..depth).any(|k| levels.has(k, e)))
        .filter_map(|e| u32::try_from(e).ok())
        .collect();
    stepped.sort_unstable_by_key(|&e| map.addr_order(e as usize));
    let walk = Walk {
        map,
        levels: &levels,
        stepped: &stepped,
        target,
        bounds,
    };
    let mut chains = Vec::new();
    for (k, e) in roots {
        let mut path = Path {
            root: map.addr(e),
            offsets: Vec::with_capacity(k),
        };
        walk.forward(e, k, &mut path, &mut chains);
        if chains.len() >= bounds.max_chains {
            chains.truncate(bounds.max_chains);
            break;
        }
    }
    chains
}

/// A chain being built: its static root and the offsets so far.
struct Path {
    root: u64,
    offsets: Vec<u64>,
}

/// What the walk forwards from the roots reads.
struct Walk<'a> {
    map: &'a PointerMap,
    levels: &'a Levels,
    /// The pointers on levels below the last, by address.
    stepped: &'a [u32],
    target: u64,
    bounds: Bounds,
}

impl Walk<'_> {
    /// Every path from pointer `e` at level `k` down to the target, appended to `chains`.
    fn forward(&self, e: usize, k: usize, path: &mut Path, chains: &mut Vec<Chain>) {
        let bounds = self.bounds;
        if chains.len() >= bounds.max_chains {
            return;
        }
        let value = self.map.value(e);
        let reach = value.saturating_add(bounds.max_offset);
        if k == 1 {
            if (value..=reach).contains(&self.target) {
                let mut offsets = path.offsets.clone();
                offsets.push(self.target - value);
                chains.push(Chain {
                    base: path.root,
                    offsets,
                });
            }
            return;
        }
        let map = self.map;
        let from = self
            .stepped
            .partition_point(|&c| map.addr(c as usize) < value);
        for &c in &self.stepped[from..] {
            let c = c as usize;
            let addr = map.addr(c);
            if addr > reach {
                break;
            }
            if !self.levels.has(k - 1, c) {
                continue;
            }
            path.offsets.push(addr - value);
            self.forward(c, k - 1, path, chains);
            path.offsets.pop();
            if chains.len() >= bounds.max_chains {
                return;
            }
        }
    }
}

/// Test memory holding one chain of heap pointers: `static_at + 0x10` ->
/// 0x10000 (+8) -> 0x20000 (+0x18) -> 0x30000, in a static area of
/// `static_len` bytes. The last hop's page is left to the caller.
#[cfg(test)]
pub(super) fn map_test_chain(
    mem: &mut crate::search::MemorySource,
    static_at: u64,
    static_len: usize,
) {
    mem.map(static_at, vec![0u8; static_len]);
    mem.poke(static_at + 0x10, &0x10000u64.to_le_bytes());
    mem.map(0x10000, vec![0u8; 0x100]);
    mem.poke(0x10008, &0x20000u64.to_le_bytes());
    mem.map(0x20000, vec![0u8; 0x100]);
    mem.poke(0x20018, &0x30000u64.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::MemorySource;

    fn area(start: u64, end: u64) -> StaticArea {
        StaticArea {
            start,
            end,
            module: "game".into(),
            base: start,
        }
    }

    /// static 0x1000 -> heap 0x10000 (+8) -> 0x20000 (+0x18) -> 0x30000 (+0xc) = target
    fn game_memory() -> (MemorySource, ScanPlan, u64) {
        let mut mem = MemorySource::new();
        map_test_chain(&mut mem, 0x1000, 0x100);
        // A decoy pointing far past the window.
        mem.poke(0x20040, &0x2f000u64.to_le_bytes());
        mem.map(0x30000, vec![0u8; 0x100]);
        let spans = [
            (0x1000, 0x1100),
            (0x10000, 0x10100),
            (0x20000, 0x20100),
            (0x30000, 0x30100),
        ];
        let plan = ScanPlan {
            read: spans.to_vec(),
            targets: spans.to_vec(),
        };
        (mem, plan, 0x3000c)
    }

    #[test]
    fn the_map_holds_aligned_pointers_into_targets_only() {
        let (mem, plan, _) = game_memory();
        let map = PointerMap::build(&mut [mem], &plan).expect("scan");
        assert_eq!(
            map.pairs(),
            vec![(0x1010, 0x10000), (0x10008, 0x20000), (0x20018, 0x30000)]
        );
    }

    #[test]
    fn two_lanes_find_the_same_map() {
        let (mem, plan, _) = game_memory();
        let map = PointerMap::build(&mut [mem.clone(), mem], &plan).expect("scan");
        let addrs: Vec<u64> = map.pairs().iter().map(|p| p.0).collect();
        assert_eq!(addrs, vec![0x1010, 0x10008, 0x20018]);
    }

    #[test]
    fn finds_the_three_level_chain_from_the_static_place() {
        let (mem, plan, target) = game_memory();
        let map = PointerMap::build(&mut [mem], &plan).expect("scan");
        let statics = [area(0x1000, 0x1100)];
        let bounds = Bounds {
            depth: 3,
            max_offset: 0x100,
            max_chains: 10,
        };
        let chains = find_chains(&map, &statics, target, bounds);
        assert_eq!(
            chains,
            vec![Chain {
                base: 0x1010,
                offsets: vec![8, 0x18, 0xc]
            }]
        );
        // Too shallow, or offsets too small: no chain.
        let shallow = Bounds { depth: 2, ..bounds };
        assert!(find_chains(&map, &statics, target, shallow).is_empty());
        let narrow = Bounds {
            max_offset: 0x10,
            ..bounds
        };
        assert!(find_chains(&map, &statics, target, narrow).is_empty());
    }

    #[test]
    fn a_short_cut_does_not_hide_the_longer_chain() {
        // With a wide window the static pointer reaches the target directly,
        // and the heap pointers sit on two levels at once.
        let (mem, plan, target) = game_memory();
        let map = PointerMap::build(&mut [mem], &plan).expect("scan");
        let bounds = Bounds {
            depth: 3,
            max_offset: 0x20100,
            max_chains: 100,
        };
        let chains = find_chains(&map, &[area(0x1000, 0x1100)], target, bounds);
        assert_eq!(
            chains[0].offsets,
            vec![0x2000c],
            "shortest first: {chains:?}"
        );
        let true_chain = Chain {
            base: 0x1010,
            offsets: vec![8, 0x18, 0xc],
        };
        assert!(chains.contains(&true_chain), "{chains:?}");
        assert!(
            chains
                .iter()
                .all(|c| c.base == 0x1010 && c.offsets.len() <= 3)
        );
    }

    #[test]
    fn chains_are_capped() {
        // Many static pointers straight at the target's struct.
        let mut mem = MemorySource::new();
        let mut data = vec![0u8; 0x100];
        for i in 0..0x20usize {
            data[i * 8..i * 8 + 8].copy_from_slice(&0x30000u64.to_le_bytes());
        }
        mem.map(0x1000, data);
        mem.map(0x30000, vec![0u8; 0x10]);
        let spans = [(0x1000, 0x1100), (0x30000, 0x30010)];
        let plan = ScanPlan {
            read: spans.to_vec(),
            targets: spans.to_vec(),
        };
        let map = PointerMap::build(&mut [mem], &plan).expect("scan");
        let bounds = Bounds {
            depth: 3,
            max_offset: 0x100,
            max_chains: 5,
        };
        let chains = find_chains(&map, &[area(0x1000, 0x1100)], 0x30008, bounds);
        assert_eq!(chains.len(), 5);
        assert!(chains.iter().all(|c| c.offsets == vec![8]));
    }

    #[test]
    fn bounds_parse_two_checked_numbers() {
        let b = Bounds::parse(" 4  0x800 ", 50).expect("bounds");
        assert_eq!((b.depth, b.max_offset, b.max_chains), (4, 0x800, 50));
        assert_eq!(Bounds::parse("1 0", 1).map(|b| b.depth), Ok(1));
        for (text, why) in [
            ("", "two numbers"),
            ("3", "two numbers"),
            ("3 4096 1", "two numbers"),
            ("0 4096", "depth \"0\" is out of range"),
            ("9 4096", "out of range: 1 to 8"),
            ("3 0x100001", "offset \"0x100001\" is out of range"),
            ("three 4096", "depth \"three\""),
            ("3 -1", "offset \"-1\""),
        ] {
            let err = Bounds::parse(text, 10).expect_err(text);
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    fn region(line: &str) -> Maps {
        Maps::parse(line, "test").expect("maps")
    }

    #[test]
    fn static_areas_are_module_data_and_the_bss_after_it() {
        let maps = region(
            "1000-2000 r--p 00000000 08:01 42 /usr/bin/game\n\
             2000-3000 r-xp 00001000 08:01 42 /usr/bin/game\n\
             3000-4000 rw-p 00002000 08:01 42 /usr/bin/game\n\
             4000-5000 rw-p 00000000 00:00 0 \n\
             9000-a000 rw-p 00000000 00:00 0 [heap]\n\
             b000-c000 rw-p 00000000 00:00 0 \n",
        );
        let areas = static_areas(&maps);
        assert_eq!(areas.len(), 2, "{areas:?}");
        assert_eq!((areas[0].start, areas[0].base), (0x3000, 0x1000));
        assert_eq!((areas[1].start, areas[1].module.as_str()), (0x4000, "game"));
    }
}

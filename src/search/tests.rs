//! The searcher over an in-memory address space, at every buffer size down
//! to the smallest it allows.

use crate::process::{Perms, Region, Unread};
use crate::search::*;

const MARK_LEN: usize = 17;

fn region(start: u64, end: u64, path: &str) -> Region {
    Region {
        start,
        end,
        perms: Perms {
            read: true,
            write: true,
            ..Perms::default()
        },
        offset: 0,
        dev: "00:00".into(),
        inode: 0,
        path: path.into(),
        deleted: false,
    }
}

/// Pseudo-random bytes that never contain the marker's prefix by chance.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8 & 0x7f
        })
        .collect()
}

fn mark(n: u32) -> Vec<u8> {
    format!("PVTUI-MARK-{n:06}").into_bytes()
}

/// A space with markers straddling every chunk edge of `geom` in one region
/// and at scattered offsets in another; returns it with the planted addresses.
fn haystack(geom: &Geometry) -> (MemorySource, Vec<Region>, Vec<u64>) {
    let mut planted = Vec::new();
    let mut mem = MemorySource::new();
    let base = 0x10000u64;
    let len = 4000usize;
    let mut bytes = noise(len, 7);
    let chunk = geom.chunk;
    let mut n = 0;
    // Window k owns [k*chunk, (k+1)*chunk): straddle each edge at a different
    // split, without overlapping the previous marker.
    let mut next_free = 0usize;
    let mut edge = chunk;
    while edge + MARK_LEN < len {
        let split = 1 + n as usize % (MARK_LEN - 1);
        let at = edge - split.min(edge);
        if at >= next_free {
            bytes[at..at + MARK_LEN].copy_from_slice(&mark(n));
            planted.push(base + at as u64);
            next_free = at + MARK_LEN;
            n += 1;
        }
        edge += chunk.max(MARK_LEN / 2);
    }
    mem.map(base, bytes);
    let base2 = 0x40000u64;
    let mut bytes2 = noise(3000, 11);
    for k in 0..20u64 {
        let at = (k * 140 + k % 3) as usize;
        bytes2[at..at + MARK_LEN].copy_from_slice(&mark(900 + k as u32));
        planted.push(base2 + at as u64);
    }
    // A marker ending exactly at the region's end.
    let at = 3000 - MARK_LEN;
    bytes2[at..].copy_from_slice(&mark(999));
    planted.push(base2 + at as u64);
    mem.map(base2, bytes2);
    let regions = vec![
        region(base, base + len as u64, "[heap]"),
        region(base2, base2 + 3000, ""),
    ];
    (mem, regions, planted)
}

fn search(
    mem: &MemorySource,
    regions: &[Region],
    query: &str,
    opts: SearchOptions,
) -> (Vec<Match>, Summary) {
    let pattern = Pattern::new(&Query::Regex(query.into())).expect("pattern");
    let mem = mem.clone();
    let (mut found, summary) =
        SearchJob::search_in(move || mem.clone(), regions, pattern, opts).collect();
    found.sort_by_key(|m| m.addr);
    (found, summary)
}

#[test]
fn markers_across_every_chunk_edge_are_found_exactly_once() {
    let geometries = [
        Geometry::smallest(MARK_LEN),
        Geometry {
            chunk: 1,
            overlap: MARK_LEN,
            chunks_per_segment: 5,
        },
        Geometry {
            chunk: 2,
            overlap: MARK_LEN,
            chunks_per_segment: 1,
        },
        Geometry {
            chunk: 16,
            overlap: MARK_LEN,
            chunks_per_segment: 3,
        },
        Geometry {
            chunk: 17,
            overlap: MARK_LEN + 1,
            chunks_per_segment: 2,
        },
        Geometry {
            chunk: 64,
            overlap: 4096,
            chunks_per_segment: 4,
        },
        Geometry {
            chunk: 333,
            overlap: 20,
            chunks_per_segment: 1,
        },
        Geometry::default(),
    ];
    for geom in geometries {
        for lanes in [1, 2, 3] {
            let (mem, regions, planted) = haystack(&geom);
            let opts = SearchOptions {
                geometry: geom,
                lanes,
                ..SearchOptions::default()
            };
            let (found, summary) = search(&mem, &regions, "PVTUI-MARK-[0-9]{6}", opts);
            let addrs: Vec<u64> = found.iter().map(|m| m.addr).collect();
            assert_eq!(addrs, planted, "{geom:?} lanes {lanes}");
            assert_eq!(summary.found, planted.len() as u64);
            assert_eq!(summary.end, End::Complete);
            assert_eq!(summary.done, summary.total);
            assert!(
                found
                    .iter()
                    .all(|m| m.len == MARK_LEN && m.bytes.starts_with(b"PVTUI-MARK-"))
            );
            for m in &found {
                let want = if m.addr < 0x40000 {
                    "[heap]"
                } else {
                    "[anonymous]"
                };
                assert_eq!(&*m.region, want);
            }
        }
    }
}

#[test]
fn self_overlapping_matches_follow_one_pass_within_a_segment() {
    let mut mem = MemorySource::new();
    let text = b"aaaaabaaaaaaabaaba".repeat(5);
    mem.map(0x1000, text.clone());
    let regions = [region(0x1000, 0x1000 + text.len() as u64, "x")];
    let want: Vec<u64> = regex::bytes::Regex::new("aa|ab")
        .expect("re")
        .find_iter(&text)
        .map(|m| 0x1000 + m.start() as u64)
        .collect();
    for chunk in 1..8 {
        let geom = Geometry {
            chunk,
            overlap: 2,
            chunks_per_segment: 1000,
        };
        let opts = SearchOptions {
            geometry: geom,
            lanes: 1,
            ..SearchOptions::default()
        };
        let (found, _) = search(&mem, &regions, "aa|ab", opts);
        let got: Vec<u64> = found.iter().map(|m| m.addr).collect();
        assert_eq!(got, want, "chunk {chunk}");
    }
}

#[test]
fn non_resident_pages_are_skipped_and_counted() {
    let geom = Geometry {
        chunk: 50,
        overlap: MARK_LEN,
        chunks_per_segment: 2,
    };
    let (mut mem, regions, planted) = haystack(&geom);
    // Hide the first marker: its page is "not resident".
    mem.hole(planted[0], 5, Unread::NotResident);
    let opts = SearchOptions {
        geometry: geom,
        lanes: 2,
        ..SearchOptions::default()
    };
    let (found, summary) = search(&mem, &regions, "PVTUI-MARK-[0-9]{6}", opts);
    assert_eq!(found.len(), planted.len() - 1);
    assert_eq!(summary.skipped.not_resident, 5);
    assert!(
        summary.notes.iter().any(|n| n.contains("not resident")),
        "{:?}",
        summary.notes
    );
}

#[test]
fn target_exit_mid_search_keeps_results_so_far() {
    let geom = Geometry {
        chunk: 100,
        overlap: MARK_LEN,
        chunks_per_segment: 1,
    };
    let (mut mem, regions, planted) = haystack(&geom);
    mem.exit_at(0x10000 + 2000);
    let opts = SearchOptions {
        geometry: geom,
        lanes: 1,
        ..SearchOptions::default()
    };
    let (found, summary) = search(&mem, &regions, "PVTUI-MARK-[0-9]{6}", opts);
    assert!(!found.is_empty() && found.len() < planted.len());
    assert!(found.iter().all(|m| m.addr < 0x10000 + 2000));
    match &summary.end {
        End::Failed(why) => assert!(why.contains("exited"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn max_results_stops_at_exactly_n() {
    let geom = Geometry {
        chunk: 64,
        overlap: MARK_LEN,
        chunks_per_segment: 1,
    };
    let (mem, regions, _) = haystack(&geom);
    let opts = SearchOptions {
        geometry: geom,
        lanes: 2,
        max_results: Some(7),
        ..SearchOptions::default()
    };
    let (found, summary) = search(&mem, &regions, "PVTUI-MARK-[0-9]{6}", opts);
    assert_eq!(found.len(), 7);
    assert_eq!(summary.found, 7);
    assert_eq!(summary.end, End::Limit);
}

#[test]
fn cancel_ends_the_job_promptly_with_a_summary() {
    let geom = Geometry {
        chunk: 1,
        overlap: MARK_LEN,
        chunks_per_segment: 1,
    };
    let (mem, regions, _) = haystack(&geom);
    let pattern = Pattern::new(&Query::Regex("PVTUI".into())).expect("pattern");
    let opts = SearchOptions {
        geometry: geom,
        lanes: 1,
        ..SearchOptions::default()
    };
    let job = SearchJob::search_in(move || mem.clone(), &regions, pattern, opts);
    job.cancel();
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Cancelled);
    assert!(summary.done < summary.total);
}

#[test]
fn long_patterns_get_a_note() {
    let geom = Geometry {
        chunk: 64,
        overlap: 8,
        chunks_per_segment: 1,
    };
    let (mem, regions, _) = haystack(&geom);
    let opts = SearchOptions {
        geometry: geom,
        lanes: 1,
        ..SearchOptions::default()
    };
    let (_, summary) = search(&mem, &regions, "PVTUI-MARK-[0-9]+", opts);
    assert!(
        summary.notes.iter().any(|n| n.contains("than 8 bytes")),
        "{:?}",
        summary.notes
    );
}

fn value_space() -> (MemorySource, Vec<Region>, Vec<u64>) {
    let mut mem = MemorySource::new();
    let mut bytes = noise(10_000, 3);
    let mut places = Vec::new();
    // 1234 at aligned places, one straddling no edge but every geometry's edges vary.
    for k in 0..40u64 {
        let at = (k * 244) as usize & !3;
        bytes[at..at + 4].copy_from_slice(&1234u32.to_le_bytes());
        places.push(0x20000 + at as u64);
    }
    // An unaligned 1234 that aligned scans must skip.
    bytes[9001..9005].copy_from_slice(&1234u32.to_le_bytes());
    mem.map(0x20000, bytes);
    (
        mem,
        vec![region(0x20000, 0x20000 + 10_000, "[heap]")],
        places,
    )
}

fn first_scan(mem: &MemorySource, regions: &[Region], spec: ScanSpec, geom: Geometry) -> ScanFile {
    let mem = mem.clone();
    let opts = SearchOptions {
        geometry: geom,
        lanes: 2,
        ..SearchOptions::default()
    };
    let job = SearchJob::scan_in(move || mem.clone(), 7, regions, spec, None, opts).expect("scan");
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Complete);
    summary.scan.expect("scan file")
}

fn narrow(mem: &MemorySource, from: ScanFile, cond: Condition) -> ScanFile {
    let job = SearchJob::narrow_in(mem.clone(), from, cond, None).expect("narrow");
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Complete, "{:?}", summary.notes);
    summary.scan.expect("scan file")
}

fn addrs(file: &ScanFile) -> Vec<u64> {
    file.first(usize::MAX)
        .expect("read")
        .iter()
        .map(|c| c.addr)
        .collect()
}

#[test]
fn value_scan_and_every_narrowing_step() {
    let (mut mem, regions, places) = value_space();
    let ty = ValueType::U32;
    let spec = ScanSpec::new(ty, Condition::Eq(1234));
    for geom in [
        Geometry::smallest(3),
        Geometry {
            chunk: 7,
            overlap: 3,
            chunks_per_segment: 3,
        },
        Geometry::default(),
    ] {
        let file = first_scan(&mem, &regions, spec, geom);
        let mut got = addrs(&file);
        got.sort_unstable();
        assert_eq!(got, places, "{geom:?}");
    }
    let mut unaligned = spec;
    unaligned.aligned = false;
    let file = first_scan(&mem, &regions, unaligned, Geometry::smallest(3));
    assert_eq!(file.count(), places.len() as u64 + 1);

    // Small segments over two lanes: records of one block arrive out of order.
    let geom = Geometry {
        chunk: 64,
        overlap: 3,
        chunks_per_segment: 2,
    };
    let file = first_scan(&mem, &regions, spec, geom);
    assert_eq!(file.header().pid, 7);
    // Change half the places: +5 for even k, -3 for k % 4 == 1.
    for (k, &addr) in places.iter().enumerate() {
        match k % 4 {
            0 | 2 => mem.poke(addr, &1239u32.to_le_bytes()),
            1 => mem.poke(addr, &1231u32.to_le_bytes()),
            _ => {}
        }
    }
    let pick = |f: &dyn Fn(usize) -> bool| -> Vec<u64> {
        places
            .iter()
            .enumerate()
            .filter(|(k, _)| f(*k))
            .map(|(_, a)| *a)
            .collect()
    };
    let sorted = |f: &ScanFile| {
        let mut a = addrs(f);
        a.sort_unstable();
        a
    };
    let changed = narrow(&mem, file, Condition::Changed);
    assert_eq!(sorted(&changed), pick(&|k| k % 4 != 3));
    assert_eq!(changed.header().scans, 2);
    let increased = narrow(&mem, changed, Condition::Unchanged);
    assert_eq!(sorted(&increased), pick(&|k| k % 4 != 3));
    for &addr in &places {
        mem.poke(addr, &1300u32.to_le_bytes());
    }
    // 1239 -> 1300 is +61; 1231 -> 1300 is +69.
    let by = narrow(&mem, increased, Condition::IncreasedBy(61));
    assert_eq!(sorted(&by), pick(&|k| k % 2 == 0));
    let values = by.first(usize::MAX).expect("read");
    assert!(values.iter().all(|c| c.bits == 1300));
    mem.poke(places[0], &1000u32.to_le_bytes());
    let dec = narrow(&mem, by, Condition::Decreased);
    assert_eq!(sorted(&dec), vec![places[0]]);
    let range = narrow(&mem, dec, Condition::Range(999, 1001));
    assert_eq!(sorted(&range), vec![places[0]]);
    let eq = narrow(&mem, range, Condition::Eq(5));
    assert_eq!(eq.count(), 0);
}

#[test]
fn a_first_scan_needs_a_value() {
    let (mem, regions, _) = value_space();
    let spec = ScanSpec::new(ValueType::U32, Condition::Changed);
    let err = SearchJob::scan_in(
        move || mem.clone(),
        1,
        &regions,
        spec,
        None,
        SearchOptions::default(),
    )
    .expect_err("changed needs a previous scan");
    assert!(err.to_string().contains("first scan"), "{err}");
}

#[test]
fn narrowing_unreadable_candidates_drops_and_says_so() {
    let (mut mem, regions, places) = value_space();
    let file = first_scan(
        &mem,
        &regions,
        ScanSpec::new(ValueType::U32, Condition::Eq(1234)),
        Geometry::default(),
    );
    mem.hole(places[3], 2, Unread::Unmapped);
    let job = SearchJob::narrow_in(mem.clone(), file, Condition::Unchanged, None).expect("narrow");
    let (_, summary) = job.collect();
    assert_eq!(summary.found, places.len() as u64 - 1);
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.contains("could not be read")),
        "{:?}",
        summary.notes
    );
}

#[test]
fn narrowing_after_exit_fails_at_once_and_replaces_nothing() {
    let (mut mem, regions, places) = value_space();
    let file = first_scan(
        &mem,
        &regions,
        ScanSpec::new(ValueType::U32, Condition::Eq(1234)),
        Geometry::default(),
    );
    mem.exit_at(0);
    let job = SearchJob::narrow_in(mem.clone(), file, Condition::Changed, None).expect("narrow");
    let (_, summary) = job.collect();
    assert!(
        matches!(&summary.end, End::Failed(why) if why.contains("exited") && why.contains("left as it was")),
        "{:?}",
        summary.end
    );
    assert!(summary.scan.is_none());
    let stats = summary.narrow.expect("stats");
    assert_eq!(stats.checked, 0);
    assert_eq!(stats.unchecked, places.len() as u64);
}

fn snapshot_of(mem: &MemorySource, regions: &[Region]) -> Summary {
    let mem = mem.clone();
    let opts = SearchOptions {
        geometry: Geometry {
            chunk: 8192,
            ..Geometry::default()
        },
        lanes: 2,
        ..SearchOptions::default()
    };
    let job = SearchJob::snapshot_in(move || mem.clone(), 7, regions, ValueType::U32, None, opts)
        .expect("snap");
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Complete);
    summary
}

#[test]
fn a_snapshot_narrows_page_by_page_and_keeps_places_not_in_memory() {
    const BASE: u64 = 0x40000;
    let mut mem = MemorySource::new();
    let mut bytes = noise(5 * 4096, 9);
    // Zero pages and noise pages, across two 64 KiB blocks' worth of records.
    bytes[..4096].fill(0);
    bytes[3 * 4096..4 * 4096].fill(0);
    bytes[0x1008..0x100c].copy_from_slice(&100u32.to_le_bytes());
    bytes[0x4010..0x4014].copy_from_slice(&200u32.to_le_bytes());
    mem.map(BASE, bytes);
    let regions = vec![region(BASE, BASE + 5 * 4096, "[heap]")];
    let summary = snapshot_of(&mem, &regions);
    assert_eq!(summary.found, 5 * 1024);
    let snap = summary.scan.expect("file");
    // Every place reads back with the value the snapshot holds.
    let all = snap.first(usize::MAX).expect("read");
    assert_eq!(all.len(), 5 * 1024);
    assert!(all.windows(2).all(|w| w[0].addr + 4 == w[1].addr));
    assert!(all.contains(&Candidate {
        addr: BASE + 0x1008,
        bits: 100,
        width: 4,
    }));

    mem.poke(BASE + 0x1008, &105u32.to_le_bytes());
    mem.poke(BASE + 0x4010, &150u32.to_le_bytes());
    mem.hole(BASE + 0x2000, 4096, Unread::NotResident);
    mem.hole(BASE + 0x3000, 4096, Unread::Unmapped);
    let job = SearchJob::narrow_in(mem.clone(), snap, Condition::Increased, None).expect("narrow");
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Complete);
    let stats = summary.narrow.expect("stats");
    assert_eq!(stats.not_resident, 1024);
    assert_eq!(stats.unreadable, 1024);
    let file = summary.scan.expect("file");
    let mut want = vec![BASE + 0x1008];
    want.extend((0..1024).map(|i| BASE + 0x2000 + 4 * i));
    assert_eq!(addrs(&file), want);
    // The place that increased carries its new value; those not read, their old one.
    let kept = file.first(2).expect("read");
    assert_eq!(kept[0].bits, 105);
}

#[test]
fn a_snapshot_larger_than_its_hand_off_batches_narrows_every_page() {
    // 5 MiB of noise: several batches of records from each lane to the
    // writer, from the file reader to the narrowing, and reads of the target.
    const BASE: u64 = 0x1000_0000;
    const LEN: usize = 5 << 20;
    let mut mem = MemorySource::new();
    mem.map(BASE, noise(LEN, 11));
    let regions = vec![region(BASE, BASE + LEN as u64, "[heap]")];
    let summary = snapshot_of(&mem, &regions);
    assert_eq!(summary.found, (LEN / 4) as u64);
    let snap = summary.scan.expect("file");
    // One place raised in each 768 KiB, the first and last places too.
    let mut want: Vec<u64> = (0..LEN as u64 - 4).step_by(768 << 10).collect();
    want.push(LEN as u64 - 4);
    for &off in &want {
        mem.poke(BASE + off, &u32::MAX.to_le_bytes());
    }
    let job = SearchJob::narrow_in(mem.clone(), snap, Condition::Changed, None).expect("narrow");
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Complete);
    let file = summary.scan.expect("file");
    let want: Vec<u64> = want.iter().map(|off| BASE + off).collect();
    assert_eq!(addrs(&file), want);
}

#[test]
fn a_snapshot_narrowed_by_unchanged_and_decreased_by() {
    const BASE: u64 = 0x80000;
    let mut mem = MemorySource::new();
    mem.map(BASE, noise(3 * 4096, 4));
    mem.poke(BASE + 0x1ff0, &50u32.to_le_bytes());
    let regions = vec![region(BASE, BASE + 3 * 4096, "[heap]")];
    let snap = snapshot_of(&mem, &regions).scan.expect("file");
    mem.poke(BASE + 0x1ff0, &43u32.to_le_bytes());
    let file = narrow(&mem, snap, Condition::DecreasedBy(7));
    assert_eq!(addrs(&file), vec![BASE + 0x1ff0]);
    let snap = snapshot_of(&mem, &regions).scan.expect("file");
    mem.poke(BASE + 0x10, &1u32.to_le_bytes());
    let file = narrow(&mem, snap, Condition::Unchanged);
    assert_eq!(file.count(), 3 * 1024 - 1);
    assert!(!addrs(&file).contains(&(BASE + 0x10)));
}

/// Two pages of 0xff holding 200 as a u8, a u16, a u32 and a u64.
fn widths_space() -> (MemorySource, Vec<Region>) {
    const BASE: u64 = 0x10000;
    let mut mem = MemorySource::new();
    mem.map(BASE, vec![0xff; 2 * 4096]);
    mem.poke(BASE + 0x01, &[200]);
    mem.poke(BASE + 0x12, &200u16.to_le_bytes());
    mem.poke(BASE + 0x24, &200u32.to_le_bytes());
    mem.poke(BASE + 0x38, &200u64.to_le_bytes());
    (mem, vec![region(BASE, BASE + 2 * 4096, "[heap]")])
}

fn places(file: &ScanFile) -> Vec<(u64, u8, u64)> {
    let all = file.first(usize::MAX).expect("read");
    all.iter()
        .map(|c| (c.addr - 0x10000, c.width, c.bits))
        .collect()
}

#[test]
fn an_int_scan_finds_every_width_and_narrows_each_at_its_own() {
    let (mut mem, regions) = widths_space();
    let spec = ScanSpec::new(ValueType::INT, Condition::Eq(200));
    // A u64 holding 200 reads as 200 at every narrower width too.
    let want = vec![
        (0x01, 1, 200),
        (0x12, 1, 200),
        (0x12, 2, 200),
        (0x24, 1, 200),
        (0x24, 2, 200),
        (0x24, 4, 200),
        (0x38, 1, 200),
        (0x38, 2, 200),
        (0x38, 4, 200),
        (0x38, 8, 200),
    ];
    for geom in [Geometry::default(), Geometry::smallest(7)] {
        let file = first_scan(&mem, &regions, spec, geom);
        assert_eq!(places(&file), want, "{geom:?}");
    }
    let file = first_scan(&mem, &regions, spec, Geometry::default());
    assert_eq!(file.header().ty, ValueType::INT);
    // 200 + 256: the u16 grew, the byte under it did not.
    mem.poke(0x10012, &456u16.to_le_bytes());
    let file = narrow(&mem, file, Condition::Increased);
    assert_eq!(places(&file), vec![(0x12, 2, 456)]);
    let c = file.first(1).expect("read")[0];
    assert_eq!(c.ty(ValueType::INT), ValueType::U16);
    // A value too wide for a byte is looked for at the wider widths only.
    let file = first_scan(
        &mem,
        &regions,
        ScanSpec::new(ValueType::INT, Condition::Eq(456)),
        Geometry::default(),
    );
    assert_eq!(places(&file), vec![(0x12, 2, 456)]);
}

#[test]
fn an_int_snapshot_holds_every_width_and_narrows_by_each() {
    let (mut mem, regions) = widths_space();
    let m = mem.clone();
    let opts = SearchOptions {
        lanes: 2,
        ..SearchOptions::default()
    };
    let job = SearchJob::snapshot_in(move || m.clone(), 7, &regions, ValueType::INT, None, opts)
        .expect("snap");
    let (_, summary) = job.collect();
    assert_eq!(summary.end, End::Complete);
    // Per page: 4096 u8, 2048 u16, 1024 u32 and 512 u64 places.
    assert_eq!(summary.found, 2 * 7680);
    let snap = summary.scan.expect("file");
    assert_eq!(snap.count(), 2 * 7680);
    mem.poke(0x10038, &201u64.to_le_bytes());
    let file = narrow(&mem, snap, Condition::IncreasedBy(1));
    assert_eq!(
        places(&file),
        vec![
            (0x38, 1, 201),
            (0x38, 2, 201),
            (0x38, 4, 201),
            (0x38, 8, 201)
        ]
    );
    mem.poke(0x10038, &457u64.to_le_bytes());
    // A step of 256 does not fit a byte: only the wider places can have taken it.
    let file = narrow(&mem, file, Condition::IncreasedBy(256));
    assert_eq!(
        places(&file),
        vec![(0x38, 2, 457), (0x38, 4, 457), (0x38, 8, 457)]
    );
}

/// Every event of a job, in order.
fn events(job: SearchJob) -> Vec<SearchEvent> {
    let mut out = Vec::new();
    for event in job.events() {
        let last = matches!(event, SearchEvent::Finished(_));
        out.push(event);
        if last {
            break;
        }
    }
    out
}

#[test]
fn scans_and_narrowings_stream_their_places_before_they_end() {
    let (mem, regions, places) = value_space();
    let spec = ScanSpec::new(ValueType::U32, Condition::Eq(1234));
    let opts = SearchOptions {
        geometry: Geometry {
            chunk: 4096,
            ..Geometry::default()
        },
        lanes: 2,
        ..SearchOptions::default()
    };
    let source = mem.clone();
    let job =
        SearchJob::scan_in(move || source.clone(), 7, &regions, spec, None, opts).expect("scan");
    let events = events(job);
    let mut streamed: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            SearchEvent::Places(batch) => Some(batch.iter().map(|c| c.addr)),
            _ => None,
        })
        .flatten()
        .collect();
    streamed.sort_unstable();
    assert_eq!(streamed, places, "every place is streamed, each once");
    let Some(SearchEvent::Finished(summary)) = events.into_iter().last() else {
        panic!("the job did not finish last");
    };
    let file = summary.scan.expect("scan file");
    let job = SearchJob::narrow_in(mem.clone(), file, Condition::Unchanged, None).expect("narrow");
    let kept: usize = events_places(job);
    assert_eq!(kept, places.len(), "a narrowing streams what it keeps");
}

fn events_places(job: SearchJob) -> usize {
    events(job)
        .iter()
        .map(|e| match e {
            SearchEvent::Places(batch) => batch.len(),
            _ => 0,
        })
        .sum()
}

/// With `in_order`, no match arrives for an address the search already
/// said it had passed, the reports rise, and the last covers everything:
/// a reader can print in address order as the reports come.
#[test]
fn in_order_searches_say_how_far_every_match_was_sent() {
    for lanes in [1, 2, 4] {
        let geom = Geometry {
            chunk: 16,
            overlap: MARK_LEN,
            chunks_per_segment: 2,
        };
        let (mem, regions, planted) = haystack(&geom);
        let opts = SearchOptions {
            geometry: geom,
            lanes,
            in_order: true,
            ..SearchOptions::default()
        };
        let pattern = Pattern::new(&Query::Regex("PVTUI-MARK-[0-9]{6}".into())).expect("pattern");
        let job = SearchJob::search_in(move || mem.clone(), &regions, pattern, opts);
        let mut passed = 0u64;
        let mut found = Vec::new();
        for event in events(job) {
            match event {
                SearchEvent::Found(batch) => {
                    for m in batch {
                        assert!(m.addr >= passed, "{:#x} came after {passed:#x}", m.addr);
                        found.push(m.addr);
                    }
                }
                SearchEvent::Searched(below) => {
                    assert!(below > passed, "reports rise: {below:#x} after {passed:#x}");
                    passed = below;
                }
                _ => {}
            }
        }
        assert_eq!(passed, u64::MAX, "the last report covers everything");
        found.sort_unstable();
        assert_eq!(found, planted, "{lanes} lanes");
    }
}

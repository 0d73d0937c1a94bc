//! Engine benchmark: bulk read throughput against the limits (an in-process
//! memcpy and a bare `process_vm_readv` loop), batched watch-style reads, and
//! the cost of the residency check, on a large real target.
//!
//! `cargo bench --bench engine` (`PVTUI_BENCH_MIB` sets the target size, 1024 by default).

mod common;
#[path = "../tests/integration/util.rs"]
mod util;

use std::hint::black_box;
use std::io::IoSliceMut;
use std::time::Duration;

use pvtui::process::{PageBuffer, ReadBatch, ReadMode, Target};
use pvtui::sys::{self, RemoteRange};

const CHUNK: usize = 1 << 20;
const PAGE: u64 = 4096;

/// Median and 99th percentile of `runs` timings of `f`.
fn time<F: FnMut()>(runs: usize, f: F) -> (Duration, Duration) {
    let samples = common::sorted_timings(runs, f);
    (samples[runs / 2], samples[(runs * 99 / 100).min(runs - 1)])
}

fn gbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

/// A deterministic scatter of addresses, one per distinct page.
fn scattered(base: u64, len: u64, n: usize) -> Vec<(u64, usize)> {
    let pages = len / PAGE;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut picked = std::collections::BTreeSet::new();
    while picked.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        picked.insert(x % pages);
    }
    picked
        .into_iter()
        .map(|p| (base + p * PAGE + (x % 64) * 8, 8))
        .collect()
}

fn main() {
    let mib: usize = std::env::var("PVTUI_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let bin = util::fixture("target", "", &[]);
    let fx = util::Fixture::spawn(&bin, &[&mib.to_string()]);
    let (big, len) = (
        fx.addr("big"),
        fx.var("big_len").parse::<usize>().expect("len"),
    );
    let target = Target::attach(fx.pid).expect("attach");
    let maps = target.maps().expect("maps");
    println!(
        "target: pid {} with {mib} MiB filled; access {}",
        fx.pid,
        target.access().describe()
    );

    // The limits: memcpy of the same size, and bare process_vm_readv in 1 MiB chunks.
    let src = vec![1u8; len];
    let mut dst = vec![0u8; len];
    let (memcpy, _) = time(5, || {
        dst.copy_from_slice(black_box(&src));
        black_box(&dst);
    });
    drop((src, dst));
    let mut page_buffer = PageBuffer::new(CHUNK);
    let buf = &mut page_buffer[..];
    let bare = |buf: &mut [u8]| {
        for off in (0..len).step_by(CHUNK) {
            let remote = [RemoteRange {
                addr: big + off as u64,
                len: CHUNK,
            }];
            let n = sys::process_vm_readv(fx.pid, &mut [IoSliceMut::new(buf)], &remote, 0)
                .expect("bare read");
            assert_eq!(n, CHUNK);
        }
    };
    let (bare_aligned, _) = time(5, || bare(buf));
    let mut raw_mis = vec![0u8; CHUNK + 64];
    let (bare_misaligned, _) = time(5, || bare(&mut raw_mis[16..16 + CHUNK]));

    let bulk = |mode: ReadMode, buf: &mut [u8]| {
        for off in (0..len).step_by(CHUNK) {
            let gaps = target
                .read_into(&maps, big + off as u64, buf, mode)
                .expect("read");
            assert!(gaps.is_empty(), "{gaps:?}");
        }
    };
    let (pvtui_force, _) = time(5, || bulk(ReadMode::Force, buf));
    let (pvtui_nowait, _) = time(5, || bulk(ReadMode::NoWait, buf));

    println!("\nbulk read of {mib} MiB (median of 5)");
    println!(
        "  memcpy in process          {:6.2} GB/s",
        gbps(len, memcpy)
    );
    println!(
        "  process_vm_readv, 1 MiB    {:6.2} GB/s  (local buffer misaligned by 16: {:.2} GB/s)",
        gbps(len, bare_aligned),
        gbps(len, bare_misaligned)
    );
    println!(
        "  pvtui read_into, force     {:6.2} GB/s  = {:.0}% of process_vm_readv",
        gbps(len, pvtui_force),
        100.0 * bare_aligned.as_secs_f64() / pvtui_force.as_secs_f64()
    );
    println!(
        "  pvtui read_into, no-wait   {:6.2} GB/s  = {:.0}% of process_vm_readv (pagemap residency check: +{:.1}%)",
        gbps(len, pvtui_nowait),
        100.0 * bare_aligned.as_secs_f64() / pvtui_nowait.as_secs_f64(),
        100.0 * (pvtui_nowait.as_secs_f64() / pvtui_force.as_secs_f64() - 1.0)
    );

    println!("\nbatched watch reads per tick (median / p99 of 200)");
    let scatter = scattered(big, len as u64, 1000);
    let adjacent: Vec<(u64, usize)> = (0..10_000).map(|i| (big + i * 8, 8)).collect();
    for (name, ranges) in [
        ("1,000 scattered u64", &scatter),
        ("10,000 adjacent u64", &adjacent),
    ] {
        for mode in [ReadMode::Force, ReadMode::NoWait] {
            // The caller's batch, reused tick after tick as the poller does.
            let mut out = ReadBatch::default();
            let (p50, p99) = time(200, || {
                target
                    .read_batch(&maps, ranges, mode, &mut out)
                    .expect("read");
                assert!(out.iter().all(|o| o.is_complete()));
                black_box(&out);
            });
            println!(
                "  {name:<22} {:<8} {:8.1} µs  p99 {:8.1} µs",
                format!("{mode:?}"),
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6
            );
        }
    }
    let one = [(big, 80_000usize)];
    let (single, _) = time(200, || {
        black_box(target.read(&maps, &one, ReadMode::Force).expect("read"));
    });
    println!(
        "  one 80,000-byte range: {:.1} µs",
        single.as_secs_f64() * 1e6
    );
    // Uncoalesced, one iovec a value: what batching saves.
    let (one_each, _) = time(50, || {
        for chunk in adjacent.chunks(sys::IOV_MAX) {
            let remote: Vec<RemoteRange> = chunk
                .iter()
                .map(|&(addr, len)| RemoteRange { addr, len })
                .collect();
            let mut bufs = vec![[0u8; 8]; chunk.len()];
            let mut local: Vec<IoSliceMut> = bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
            sys::process_vm_readv(fx.pid, &mut local, &remote, 0).expect("read");
        }
    });
    println!(
        "  10,000 adjacent u64 as one iovec each (bare, no coalescing): {:.1} µs",
        one_each.as_secs_f64() * 1e6
    );
}

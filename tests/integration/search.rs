//! Search and value scans over real processes: the haystack fixture plants
//! markers (some straddling every chunk edge) and values, and says where.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use pvtui::process::{Gap, PageBuffer, ReadMode, ReadOutcome, Target};
use pvtui::search::{
    Encoding, End, Geometry, Pattern, ProcessSource, Query, RegionFilter, SearchJob, SearchOptions,
    Source, Summary,
};
use pvtui::session::{DEFAULT_DEADLINE, Session};

use crate::util::{Fixture, fixture, pvtui_bin, run_pvtui};

const MARK: &str = "PVTUI-MARK-[0-9]{6}";
const MARK_LEN: u64 = 17;

fn haystack(args: &[&str]) -> Fixture {
    Fixture::spawn(&fixture("haystack", "", &[]), args)
}

fn addr_list(fx: &Fixture, key: &str) -> Vec<u64> {
    let v = fx.var(key);
    if v.is_empty() {
        return Vec::new();
    }
    v.split(',')
        .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).expect("hex address"))
        .collect()
}

fn heap_range(fx: &Fixture) -> (u64, u64) {
    let heap = fx.addr("heap");
    let size: u64 = fx.var("size").parse().expect("size");
    (heap, heap + size)
}

fn search(fx: &Fixture, query: Query, options: SearchOptions) -> (BTreeSet<u64>, Summary) {
    let session = Session::attach(fx.pid, DEFAULT_DEADLINE).expect("attach");
    let job = session
        .searches()
        .search(session.maps(), &query, options)
        .expect("start");
    let (found, summary) = job.collect();
    let addrs: BTreeSet<u64> = found.iter().map(|m| m.addr).collect();
    assert_eq!(addrs.len(), found.len(), "a match was reported twice");
    (addrs, summary)
}

#[test]
fn every_marker_across_every_chunk_edge_is_found_once() {
    let default_edge = Geometry::DEFAULT_CHUNK.to_string();
    let fx = haystack(&[
        "--size",
        "8M",
        "--edge",
        &default_edge,
        "--edge",
        "64K",
        "--marks",
        "300",
    ]);
    let planted: BTreeSet<u64> = addr_list(&fx, "mark_addrs").into_iter().collect();
    assert_eq!(
        planted.len(),
        fx.var("marks").parse::<usize>().expect("marks")
    );
    for chunk in [Geometry::DEFAULT_CHUNK, 64 << 10] {
        for lanes in [1, 2] {
            let options = SearchOptions {
                geometry: Geometry {
                    chunk,
                    ..Geometry::default()
                },
                lanes,
                ..SearchOptions::default()
            };
            // The whole process: the markers live nowhere else.
            let (found, summary) = search(&fx, Query::Regex(MARK.into()), options);
            assert_eq!(found, planted, "chunk {chunk} lanes {lanes}");
            assert_eq!(summary.end, End::Complete);
            assert!(summary.regions > 5, "searched {} regions", summary.regions);
        }
    }
}

#[test]
fn smallest_buffers_still_find_each_marker_once() {
    let fx = haystack(&[
        "--size", "12K", "--edge", "5", "--marks", "20", "--values", "0",
    ]);
    let planted: BTreeSet<u64> = addr_list(&fx, "mark_addrs").into_iter().collect();
    assert!(planted.len() > 100, "dense markers: {}", planted.len());
    let options = SearchOptions {
        regions: RegionFilter {
            range: Some(heap_range(&fx)),
            ..RegionFilter::default()
        },
        geometry: Geometry::smallest(MARK_LEN as usize),
        lanes: 2,
        ..SearchOptions::default()
    };
    let (found, summary) = search(&fx, Query::Regex(MARK.into()), options);
    assert_eq!(found, planted);
    assert_eq!(summary.done, summary.total);
}

#[test]
fn byte_patterns_with_wildcards_find_markers_and_values() {
    let fx = haystack(&["--size", "4M", "--marks", "50", "--values", "25"]);
    let range = Some(heap_range(&fx));
    let options = || SearchOptions {
        regions: RegionFilter {
            range,
            ..RegionFilter::default()
        },
        ..SearchOptions::default()
    };
    // "MARK-" then six bytes of anything.
    let (found, _) = search(
        &fx,
        Query::Bytes("4d 41 52 4b 2d ?? ?? ?? ?? ?? ??".into()),
        options(),
    );
    let want: BTreeSet<u64> = addr_list(&fx, "mark_addrs").iter().map(|a| a + 6).collect();
    assert_eq!(found, want);
    let value: u32 = fx.var("value").parse().expect("value");
    let spec: String = value
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x} "))
        .collect();
    let (found, _) = search(&fx, Query::Bytes(spec), options());
    let want: BTreeSet<u64> = addr_list(&fx, "values").into_iter().collect();
    assert_eq!(found, want);
}

#[test]
fn utf16_text_ignoring_case() {
    let fx = haystack(&["--size", "1M", "--marks", "5"]);
    let wide = fx.addr("wide");
    let text = |text: &str, ignore_case| Query::Text {
        text: text.into(),
        encoding: Encoding::Utf16Le,
        ignore_case,
    };
    let options = || SearchOptions {
        regions: RegionFilter {
            range: Some(heap_range(&fx)),
            ..RegionFilter::default()
        },
        ..SearchOptions::default()
    };
    let (found, _) = search(&fx, text("gold COINS", true), options());
    assert_eq!(found, BTreeSet::from([wide]));
    let (found, _) = search(&fx, text("gold COINS", false), options());
    assert!(found.is_empty());
    let (code, out, err) = run_pvtui(&[
        "search",
        "--pid",
        &fx.pid.to_string(),
        "--text",
        "Gold Coins",
        "--utf16",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json_addrs(&out), BTreeSet::from([wide]));
}

fn json_addrs(stdout: &str) -> BTreeSet<u64> {
    stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let a = v["address"].as_str().expect("address string");
            u64::from_str_radix(a.trim_start_matches("0x"), 16).expect("hex")
        })
        .collect()
}

#[test]
fn cli_search_prints_json_lines() {
    let fx = haystack(&["--size", "2M", "--marks", "30"]);
    let pid = fx.pid.to_string();
    let (code, out, err) = run_pvtui(&["search", "--pid", &pid, MARK, "--json"]);
    assert_eq!(code, 0, "{err}");
    let planted: BTreeSet<u64> = addr_list(&fx, "mark_addrs").into_iter().collect();
    assert_eq!(json_addrs(&out), planted);
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("a line")).expect("json");
    assert_eq!(first["len"], 17);
    assert_eq!(first["region"], "[anonymous]");
    let text = first["text"].as_str().expect("text");
    assert!(text.starts_with("PVTUI-MARK-"), "{text}");
    assert_eq!(first["hex"].as_str().map(|h| h.len()), Some(34));
    assert!(err.contains("30 matches"), "{err}");

    // --max prints the lowest addresses, in order, and says how many more.
    let (code, out, _) = run_pvtui(&["search", "--pid", &pid, MARK, "--max", "4"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[4], "... and 26 more (--max N prints more)");
    let addrs: Vec<u64> = lines[..4]
        .iter()
        .map(|l| {
            let hex = l.split_whitespace().next().expect("an address");
            u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("hex")
        })
        .collect();
    assert!(addrs.windows(2).all(|w| w[0] < w[1]), "{out}");

    let (code, _, err) = run_pvtui(&["search", "--pid", &pid, "--bytes", "4d zz"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("byte 2"), "{err}");
}

/// Thousands of matches found by four lanes out of order come out in
/// address order, every one, as they stream.
#[test]
fn cli_search_streams_many_matches_in_address_order() {
    let fx = haystack(&["--size", "8M", "--marks", "4000"]);
    let pid = fx.pid.to_string();
    let args = ["search", "--pid", &pid, MARK, "--json", "--lanes", "4"];
    let (code, out, err) = run_pvtui(&[&args[..], &["--chunk", "65536"]].concat());
    assert_eq!(code, 0, "{err}");
    let addrs: Vec<u64> = out
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let a = v["address"].as_str().expect("address string");
            u64::from_str_radix(a.trim_start_matches("0x"), 16).expect("hex")
        })
        .collect();
    assert!(
        addrs.windows(2).all(|w| w[0] < w[1]),
        "not in address order"
    );
    let planted: BTreeSet<u64> = addr_list(&fx, "mark_addrs").into_iter().collect();
    assert!(planted.len() > 3000, "{}", planted.len());
    assert_eq!(addrs.into_iter().collect::<BTreeSet<_>>(), planted);
}

/// `pvtui search ... | head -1`: the reader goes away after one line, and
/// pvtui ends quietly with status 0, as other Unix tools do.
#[test]
fn cli_search_into_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    let fx = haystack(&["--size", "8M", "--marks", "4000"]);
    let pid = fx.pid.to_string();
    // 4000 JSON lines are far more than a pipe holds: the writes must fail.
    let mut child = Command::new(pvtui_bin())
        .args(["search", "--pid", &pid, MARK, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pvtui search");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line");
    assert!(first.contains("PVTUI-MARK-"), "{first}");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("pvtui:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn cli_value_scan_and_narrowing_through_a_saved_file() {
    let mut fx = haystack(&["--size", "4M", "--marks", "10", "--values", "40"]);
    let (lo, hi) = heap_range(&fx);
    let (lo, hi) = (format!("{lo:#x}"), format!("{hi:#x}"));
    let pid = fx.pid.to_string();
    let places = addr_list(&fx, "values");
    let value = fx.var("value").to_string();
    // A directory of its own: the narrowings keep their undo steps beside
    // the file, and all go with it, whatever the test's outcome.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("test.scan");
    let f = file.to_str().expect("utf-8 path");
    let pick = |keep: &dyn Fn(usize) -> bool| -> BTreeSet<u64> {
        places
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, a)| *a)
            .collect()
    };
    let scan = |words: &[&str]| {
        let mut args = vec![
            "scan", "--json", "--max", "1000", "--start", &lo, "--end", &hi,
        ];
        args.extend_from_slice(words);
        let (code, out, err) = run_pvtui(&args);
        assert_eq!(code, 0, "{words:?}: {err}");
        json_addrs(&out)
    };
    assert_eq!(
        scan(&["--pid", &pid, "--type", "u32", &value, "--save", f]),
        pick(&|_| true)
    );
    fx.send("step");
    fx.expect_line("stepped");
    assert_eq!(scan(&["--from", f, "changed"]), pick(&|i| i % 4 != 3));
    fx.send("step");
    fx.expect_line("stepped");
    assert_eq!(
        scan(&["--from", f, "increased"]),
        pick(&|i| i % 4 == 0 || i % 4 == 2)
    );
    assert_eq!(
        scan(&["--from", f, "unchanged"]),
        pick(&|i| i % 4 == 0 || i % 4 == 2)
    );
    fx.send("set 7");
    fx.expect_line("set");
    let v: u64 = value.parse().expect("value");
    let by = (v + 10 - 7).to_string();
    assert_eq!(
        scan(&["--from", f, "decreased-by", &by]),
        pick(&|i| i % 4 == 0 || i % 4 == 2)
    );
    assert_eq!(
        scan(&["--from", f, "range", "0", "10"]),
        pick(&|i| i % 4 == 0 || i % 4 == 2)
    );
    assert_eq!(scan(&["--from", f, "eq", "8"]), BTreeSet::new());
    // The values the JSON shows are the current ones.
    let (code, out, err) = run_pvtui(&[
        "scan", "--pid", &pid, "--type", "u32", "7", "--json", "--start", &lo, "--end", &hi,
    ]);
    assert_eq!(code, 0, "{err}");
    let line: serde_json::Value =
        serde_json::from_str(out.lines().next().expect("line")).expect("json");
    assert_eq!(line["value"], "7");
    assert_eq!(line["hex"], "07000000");
}

/// Wraps the real source and stops before its `after`-th chunk until the
/// test lets it go, so a test can change the target mid-search.
struct Paused {
    inner: ProcessSource,
    reads: usize,
    after: usize,
    paused: Sender<()>,
    resume: Arc<Mutex<Receiver<()>>>,
}

impl Source for Paused {
    fn read_chunk(&mut self, addr: u64, buf: &mut PageBuffer) -> pvtui::Result<Vec<Gap>> {
        self.reads += 1;
        if self.reads == self.after {
            let _ = self.paused.send(());
            // Bounded, so a failing test cannot hang the job it drops.
            let _ = self
                .resume
                .lock()
                .expect("resume lock")
                .recv_timeout(crate::util::PATIENCE);
        }
        self.inner.read_chunk(addr, buf)
    }

    fn read_ranges(&mut self, ranges: &[(u64, usize)]) -> pvtui::Result<Vec<ReadOutcome>> {
        self.inner.read_ranges(ranges)
    }
}

/// Searches the heap on one lane in 64 KiB chunks, running `meanwhile` at the
/// pause after the first chunks.
fn search_with_pause(
    fx: &mut Fixture,
    meanwhile: impl FnOnce(&mut Fixture),
) -> (BTreeSet<u64>, Summary) {
    let target = Arc::new(Target::attach(fx.pid).expect("attach"));
    let maps = target.maps().expect("maps");
    let (paused_tx, paused_rx) = channel();
    let (resume_tx, resume_rx) = channel();
    let resume = Arc::new(Mutex::new(resume_rx));
    let options = SearchOptions {
        regions: RegionFilter {
            range: Some(heap_range(fx)),
            ..RegionFilter::default()
        },
        geometry: Geometry {
            chunk: 64 << 10,
            ..Geometry::default()
        },
        lanes: 1,
        ..SearchOptions::default()
    };
    let m = maps.clone();
    let job = SearchJob::search_in(
        move || Paused {
            inner: ProcessSource::new(target.clone(), m.clone(), ReadMode::NoWait),
            reads: 0,
            after: 3,
            paused: paused_tx.clone(),
            resume: resume.clone(),
        },
        maps.regions(),
        Pattern::new(&Query::Regex(MARK.into())).expect("pattern"),
        options,
    );
    paused_rx.recv().expect("the search reached the pause");
    meanwhile(fx);
    resume_tx.send(()).expect("resume");
    let (found, summary) = job.collect();
    (found.iter().map(|m| m.addr).collect(), summary)
}

#[test]
fn target_exit_mid_search_keeps_the_matches_so_far() {
    let mut fx = haystack(&["--size", "4M", "--marks", "200", "--edge", "64K"]);
    let planted: BTreeSet<u64> = addr_list(&fx, "mark_addrs").into_iter().collect();
    let (found, summary) = search_with_pause(&mut fx, |fx| fx.kill());
    assert!(!found.is_empty(), "matches before the exit are kept");
    assert!(found.len() < planted.len());
    assert!(found.is_subset(&planted));
    match &summary.end {
        End::Failed(why) => assert!(why.contains("exited"), "{why}"),
        other => panic!("expected the exit to be reported, got {other:?}"),
    }
}

#[test]
fn region_unmapped_mid_search_gives_partial_results_and_says_so() {
    let mut fx = haystack(&["--size", "4M", "--marks", "200", "--edge", "64K"]);
    let (heap, end) = heap_range(&fx);
    let half = heap + (end - heap) / 2;
    let planted: BTreeSet<u64> = addr_list(&fx, "mark_addrs")
        .into_iter()
        .filter(|a| a + MARK_LEN <= half)
        .collect();
    let (found, summary) = search_with_pause(&mut fx, |fx| {
        fx.send("unmap");
        fx.expect_line("unmapped");
    });
    assert_eq!(found, planted);
    assert_eq!(summary.end, End::Complete);
    assert!(
        summary.skipped.unmapped >= end - half - (64 << 10),
        "{:?}",
        summary.skipped
    );
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.contains("unmapped during the search")),
        "{:?}",
        summary.notes
    );
}

#[test]
fn ctrl_c_or_kill_cancels_and_keeps_the_matches_so_far() {
    use nix::sys::signal::Signal;
    let fx = haystack(&["--size", "64M", "--edge", "64K", "--quiet"]);
    let pid = fx.pid.to_string();
    let marks: usize = fx.var("marks").parse().expect("marks");
    // The status says which signal ended it, as a shell would: 128 + N.
    for (signal, status) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let mut child = Command::new(pvtui_bin())
            .args([
                "search", "--pid", &pid, MARK, "--chunk", "4K", "--lanes", "1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pvtui");
        // The start is announced on stderr.
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut started = String::new();
        std::io::BufRead::read_line(&mut stderr, &mut started).expect("a start line");
        assert!(started.starts_with("searching pid"), "{started}");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal)
            .expect("send the signal");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut err).expect("stderr");
        let out = child.wait_with_output().expect("wait");
        let rest = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(status), "{signal}: {err}");
        assert!(err.contains("cancelled"), "{err}");
        let printed = rest.lines().count();
        assert!(printed < marks, "printed {printed} of {marks}");
    }
}

//! `pvtui watch --delta --rate` against a target whose counters move by a
//! known step: every delta is a whole number of steps, matches the values
//! printed, and the rate is the delta over the same time for every watch.

use std::process::Command;

use serde_json::Value;

use crate::util::{Fixture, fixture, pvtui_bin, skip_unless_root};

#[test]
fn watch_delta_and_rate_follow_counters_with_known_steps() {
    if skip_unless_root(
        "watch_delta_and_rate_follow_counters_with_known_steps",
        "reading a fixture's memory",
    ) {
        return;
    }
    let fx = Fixture::spawn(&fixture("stepper", "", &[]), &[]);
    let out = Command::new(pvtui_bin())
        .args([
            "watch",
            "--json",
            "--delta",
            "--rate",
            "--interval",
            "30",
            "--count",
            "6",
            "--pid",
        ])
        .arg(fx.pid.to_string())
        .args(["rising:u64", "falling:i64"])
        .output()
        .expect("run pvtui watch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ticks: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(ticks.len(), 6, "{ticks:?}");
    // The first tick has nothing to compare with.
    for v in ticks[0]["values"].as_array().expect("values") {
        assert!(v["delta"].is_null() && v["rate"].is_null(), "{v}");
    }
    let value = |tick: &Value, i: usize| -> i128 {
        let v = &tick["values"][i]["value"];
        v.as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
            .unwrap_or_else(|| panic!("not a number: {v}"))
    };
    for pair in ticks.windows(2) {
        let (before, now) = (&pair[0], &pair[1]);
        let mut per_delta = Vec::new();
        for (i, step) in [(0, 7i128), (1, -3i128)] {
            let w = &now["values"][i];
            let delta = w["delta"]
                .as_i64()
                .map(i128::from)
                .expect("an integer delta");
            assert_eq!(delta, value(now, i) - value(before, i), "{w}");
            assert_eq!(delta % step, 0, "not whole steps of {step}: {w}");
            assert!(delta / step >= 0, "{w} moved the wrong way");
            let rate = w["rate"].as_f64().expect("a rate");
            if delta == 0 {
                // A tick the stepper was not scheduled in.
                assert_eq!(rate, 0.0, "{w}");
                continue;
            }
            assert_eq!(rate.signum(), (delta as f64).signum(), "{w}");
            per_delta.push(rate / delta as f64);
        }
        let [a, b] = per_delta[..] else { continue };
        // Both watches were read in one batch: one time between ticks.
        assert!((a - b).abs() <= a.abs() * 1e-9, "{now}");
        // That time, in seconds, is about the milliseconds between the ticks' stamps.
        let ms =
            now["elapsed_ms"].as_f64().expect("ms") - before["elapsed_ms"].as_f64().expect("ms");
        let secs = 1.0 / a;
        assert!(
            (secs * 1000.0 - ms).abs() <= 2.0,
            "rate over {secs} s, stamps {ms} ms apart: {now}"
        );
    }
    // Text: each value followed by its change.
    let text = Command::new(pvtui_bin())
        .args([
            "watch",
            "--delta",
            "--rate",
            "--interval",
            "20",
            "--count",
            "2",
            "--pid",
        ])
        .arg(fx.pid.to_string())
        .arg("rising:u64")
        .output()
        .expect("run pvtui watch");
    let text = String::from_utf8_lossy(&text.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with("delta ? rate ?"), "{text}");
    let re = regex::Regex::new(r"rising:u64 = \d+ \(\w+\) delta \+\d+ rate \+[\d.e+-]+/s$")
        .expect("pattern");
    assert!(re.is_match(lines[1]), "{text}");
}

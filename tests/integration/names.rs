//! Places by name, against a real process: `module!OFFSET` and `[module]+OFF`
//! as input; `module!symbol+0xOFF` beside every address search, scan, dump
//! and read print; a symlinked executable known by the name it was started
//! as; a large value dumped in text and whole in JSON.

use std::path::PathBuf;

use serde_json::Value;

use crate::util::{Fixture, fixture, pvtui_ok};

fn names() -> PathBuf {
    fixture("names", "", &[])
}

/// Every stdout line of `pvtui ARGS --json` as JSON; the command must succeed.
fn json_lines(args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, out, err) = pvtui_ok(&all);
    assert!(ok, "pvtui {args:?} failed: {out}\n{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn read_json(pid: &str, expr: &str) -> Value {
    let mut lines = json_lines(&["read", "--pid", pid, expr]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

/// The start of the first mapping of the file whose name is `name`.
fn module_base(pid: &str, name: &str) -> u64 {
    let regions = json_lines(&["maps", "--pid", pid]);
    let first = regions
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.rsplit('/').next() == Some(name))
        })
        .unwrap_or_else(|| panic!("no mapping of {name} in {regions:?}"));
    let start = first["start"].as_str().expect("start");
    u64::from_str_radix(start.trim_start_matches("0x"), 16).expect("hex start")
}

#[test]
fn module_offsets_read_the_same_bytes_as_the_symbol() {
    let target = Fixture::spawn(&names(), &[]);
    let pid = target.pid.to_string();
    let score = read_json(&pid, "score:u32");
    assert_eq!(score["value"], 0x5c0e_1234u32);
    assert_eq!(score["place"], "names!score");
    let addr = target.addr("score");
    let off = addr - module_base(&pid, "names");
    for expr in [
        format!("names!{off:#x}:u32"),
        format!("names!{off}:u32"),
        format!("[names]+{off:#x}:u32"),
    ] {
        let via = read_json(&pid, &expr);
        assert_eq!(via["value"], score["value"], "{expr}: {via}");
        assert_eq!(via["address"], format!("{addr:#x}"), "{expr}: {via}");
        assert_eq!(via["place"], "names!score", "{expr}: {via}");
    }
    // The name printed is itself an expression for the same place.
    let (ok, out, err) = pvtui_ok(&["read", "--pid", &pid, "names!score+0x2:u16"]);
    assert!(ok, "{err}");
    assert!(out.contains("<names!score+0x2>"), "{out}");
}

#[test]
fn a_symbol_in_another_module_says_where_it_is() {
    let target = Fixture::spawn(&names(), &[]);
    let pid = target.pid.to_string();
    let (ok, out, _) = pvtui_ok(&["read", "--pid", &pid, "names!environ:ptr"]);
    assert!(!ok, "environ is libc's, not the executable's");
    assert!(out.contains("did you mean libc!environ?"), "{out}");
    // The suggestion works as written.
    let there = read_json(&pid, "libc!environ:ptr");
    assert!(there["value"].as_str().is_some(), "{there}");
    // environ lies in libc's .bss, past its file mapping: still named.
    assert_eq!(there["place"], "libc.so.6!environ", "{there}");
    // A module that is not loaded at all also points at the one defining it.
    let (ok, out, _) = pvtui_ok(&["read", "--pid", &pid, "libnothere!environ:ptr"]);
    assert!(!ok);
    assert!(out.contains("did you mean libc!environ?"), "{out}");
}

#[test]
fn results_carry_module_relative_names_in_text_and_json() {
    let target = Fixture::spawn(&names(), &[]);
    let pid = target.pid.to_string();
    let marker = format!("{:#x}", target.addr("marker"));

    // search
    let hits = json_lines(&["search", "--pid", &pid, "--text", "PVTUI-NAMES-MARKER"]);
    let hit = hits
        .iter()
        .find(|h| h["address"] == marker.as_str())
        .unwrap_or_else(|| panic!("marker not found in {hits:?}"));
    assert_eq!(hit["place"], "names!marker", "{hit}");
    let (ok, out, err) = pvtui_ok(&["search", "--pid", &pid, "--text", "PVTUI-NAMES-MARKER"]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{marker} <names!marker>")), "{out}");

    // scan
    let value = 0x5c0e_1234u32.to_string();
    let places = json_lines(&["scan", "--pid", &pid, "--type", "u32", &value]);
    let score = format!("{:#x}", target.addr("score"));
    let place = places
        .iter()
        .find(|p| p["address"] == score.as_str())
        .unwrap_or_else(|| panic!("score not found in {places:?}"));
    assert_eq!(place["place"], "names!score", "{place}");
    let (ok, out, err) = pvtui_ok(&["scan", "--pid", &pid, "--type", "u32", &value]);
    assert!(ok, "{err}");
    assert!(out.contains("names!score"), "{out}");

    // dump: every line named
    let (ok, out, err) = pvtui_ok(&["dump", "--pid", &pid, "marker", "32"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("<names!marker>"), "{out}");
    assert!(lines[1].contains("<names!marker+0x10>"), "{out}");
    let dump = json_lines(&["dump", "--pid", &pid, "marker", "32"]).remove(0);
    assert_eq!(dump["place"], "names!marker", "{dump}");

    // read of a pointer: where it is and where it points
    let (ok, out, err) = pvtui_ok(&["read", "--pid", &pid, "score_ptr:ptr"]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("{score} -> names!score")), "{out}");
    assert!(out.contains("<names!score_ptr>"), "{out}");
    let ptr = read_json(&pid, "score_ptr:ptr");
    assert_eq!(ptr["place"], "names!score_ptr", "{ptr}");
    assert_eq!(ptr["points_to"], "names!score", "{ptr}");
}

#[test]
fn a_symlinked_executable_is_known_by_the_name_it_was_started_as() {
    let real = names();
    let dir = std::env::temp_dir().join(format!("pvtui-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let link = dir.join("linked-names");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let target = Fixture::spawn(&link, &[]);
    let pid = target.pid.to_string();
    let real_path = std::fs::canonicalize(&real).expect("real path");
    let real_path = real_path.to_string_lossy();

    let (ok, out, err) = pvtui_ok(&["maps", "--pid", &pid]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("linked-names ({real_path})")),
        "{out}"
    );
    let maps = json_lines(&["maps", "--pid", &pid]);
    let exe = maps
        .iter()
        .find(|r| r["path"] == real_path.as_ref())
        .unwrap_or_else(|| panic!("no {real_path} in {maps:?}"));
    assert_eq!(exe["name"], "linked-names", "{exe}");

    // Both names find it; what is printed uses the started name.
    let by_link = read_json(&pid, "linked-names!score:u32");
    let by_file = read_json(&pid, "names!score:u32");
    assert_eq!(by_link["address"], by_file["address"]);
    assert_eq!(by_link["place"], "linked-names!score", "{by_link}");
    let off = target.addr("score") - module_base(&pid, "names");
    let by_offset = read_json(&pid, &format!("linked-names!{off:#x}:u32"));
    assert_eq!(by_offset["value"], by_file["value"], "{by_offset}");
    drop(target);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_large_value_wraps_as_a_hex_dump_in_text_and_stays_whole_in_json() {
    let target = Fixture::spawn(&names(), &[]);
    let pid = target.pid.to_string();
    // As bytes: the fixture's debug info would show its unsigned char[] as text.
    let (ok, out, err) = pvtui_ok(&["read", "--pid", &pid, "server:bytes[4368]"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("(4368 bytes, below)"), "{}", lines[0]);
    assert_eq!(lines.len(), 1 + 4368 / 16, "{out}");
    assert!(lines.iter().all(|l| l.len() < 120), "a line is too long");
    // Byte i is i*7: the second line starts at byte 16.
    assert!(lines[2].contains("70 77 7e 85"), "{}", lines[2]);

    let whole = read_json(&pid, "server:bytes[4368]");
    let hex = whole["value"].as_str().expect("bytes as hex text");
    let bytes: Vec<u8> = hex
        .split(' ')
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect();
    assert_eq!(bytes.len(), 4368);
    assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i * 7) as u8));
}

/// `watch` names a pointer's target as `read` does, in text and JSON.
#[test]
fn watch_names_where_a_pointer_points() {
    let target = Fixture::spawn(&names(), &[]);
    let pid = target.pid.to_string();
    let args = ["watch", "--pid", &pid, "score_ptr:ptr", "--count", "1"];
    let (ok, out, err) = pvtui_ok(&args);
    assert!(ok, "{err}");
    let score = format!("{:#x}", target.addr("score"));
    assert!(
        out.contains(&format!("score_ptr:ptr = {score} -> names!score (")),
        "{out}"
    );
    let ticks = json_lines(&args);
    let value = &ticks[0]["values"][0];
    assert_eq!(value["points_to"], "names!score", "{value}");
    assert_eq!(value["place"], "names!score_ptr", "{value}");
}

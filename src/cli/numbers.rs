//! Value parsers for every numeric option, each with the range it makes
//! sense in: a number outside it is refused when the arguments are parsed,
//! before it can size an allocation, a thread count or a loop.

use std::ops::RangeInclusive;

use super::parse_u64;
use crate::literal::parse_float;

/// The largest pid Linux hands out (`PID_MAX_LIMIT` on 64-bit).
const PID_MAX: u64 = 1 << 22;

fn within<T>(s: &str, n: T, range: RangeInclusive<T>, what: &str) -> Result<T, String>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{s:?} is out of range: {what} must be {}..={}",
            range.start(),
            range.end()
        ))
    }
}

/// A process id: 1..=4194304.
pub(super) fn pid(s: &str) -> Result<i32, String> {
    let n = parse_u64(s).map_err(|_| format!("{s:?} is not a pid (a positive whole number)"))?;
    let n = within(s, n, 1..=PID_MAX, "a pid")?;
    i32::try_from(n).map_err(|_| format!("{s:?} is not a pid"))
}

/// How long a read or write may block: 1 ms to 10 minutes.
pub(super) fn timeout_ms(s: &str) -> Result<u64, String> {
    within(s, parse_u64(s)?, 1..=600_000, "a timeout in ms")
}

/// Time between ticks: 1 ms (0 would spin a core) to an hour.
pub(super) fn interval_ms(s: &str) -> Result<u64, String> {
    within(s, parse_u64(s)?, 1..=3_600_000, "an interval in ms")
}

/// A number of ticks: at least one.
pub(super) fn count(s: &str) -> Result<u64, String> {
    within(s, parse_u64(s)?, 1..=u64::MAX, "a count")
}

/// Bytes read per chunk: 1 KiB to 64 MiB (each lane holds one).
pub(super) fn chunk(s: &str) -> Result<usize, String> {
    within(s, parse_size(s)?, 1 << 10..=64 << 20, "a chunk size")
}

/// Bytes re-read across a chunk edge: up to 1 MiB.
pub(super) fn overlap(s: &str) -> Result<usize, String> {
    let n = usize::try_from(parse_u64(s)?).map_err(|_| format!("{s:?} is too large"))?;
    within(s, n, 0..=1 << 20, "an overlap in bytes")
}

/// Reading threads: 0 (one per core) to 64.
pub(super) fn lanes(s: &str) -> Result<usize, String> {
    let n = usize::try_from(parse_u64(s)?).map_err(|_| format!("{s:?} is too large"))?;
    within(s, n, 0..=64, "a lane count")
}

/// Results `search` and `scan` print (`--max`): 0 (count only) to a billion.
pub(super) fn max_results(s: &str) -> Result<u64, String> {
    within(
        s,
        parse_u64(s)?,
        0..=1_000_000_000,
        "a number of results to print",
    )
}

/// Bytes a dump shows: 1 to `max`.
pub(super) fn dump_len(s: &str, max: u64) -> Result<u64, String> {
    within(s, parse_u64(s)?, 1..=max, "a dump length")
}

/// Time between a hold's rewrites: 1 ms to a minute (a hold that rarely
/// rewrites is no hold).
pub(super) fn hold_interval_ms(s: &str) -> Result<u64, String> {
    within(s, parse_u64(s)?, 1..=60_000, "a hold interval in ms")
}

/// Pointers followed from a static place: 1 to the search's own limit.
pub(super) fn pointer_depth(s: &str) -> Result<usize, String> {
    let n = usize::try_from(parse_u64(s)?).map_err(|_| format!("{s:?} is too large"))?;
    within(
        s,
        n,
        1..=crate::hunt::pointers::MAX_DEPTH,
        "a pointer depth",
    )
}

/// Offset added after a pointer (a struct's size): up to 1 MiB.
pub(super) fn pointer_offset(s: &str) -> Result<u64, String> {
    within(s, parse_u64(s)?, 0..=1 << 20, "an offset after a pointer")
}

/// Chains a pointer search reports: 1 to a million.
pub(super) fn chain_limit(s: &str) -> Result<usize, String> {
    let n = usize::try_from(parse_u64(s)?).map_err(|_| format!("{s:?} is too large"))?;
    within(s, n, 1..=1_000_000, "a chain limit")
}

/// A float tolerance: finite and not negative.
pub(super) fn tolerance(s: &str) -> Result<f64, String> {
    match parse_float(s.trim()) {
        Some(t) if t.is_finite() && t >= 0.0 => Ok(t),
        _ => Err(format!(
            "{s:?} is not a tolerance (a finite number, 0 or more)"
        )),
    }
}

/// Parses a size as bytes with an optional K/M/G suffix (`64K`, `1M`).
pub(super) fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    parse_u64(digits)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a size such as 4096, 64K or 1M"))
}

/// Parses a duration in seconds (`2`, `0.5`), more than 0 and at most a week.
pub(super) fn parse_seconds(s: &str) -> std::result::Result<std::time::Duration, String> {
    let secs = parse_float(s.trim()).ok_or_else(|| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 7.0 * 86400.0) {
        return Err(format!(
            "{s:?}: give more than 0 and at most 604800 seconds"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Parser = fn(&str) -> Result<u64, String>;

    fn widened() -> Vec<(&'static str, Parser)> {
        vec![
            ("pid", |s| pid(s).map(|n| n as u64)),
            ("timeout", timeout_ms),
            ("interval", interval_ms),
            ("count", count),
            ("chunk", |s| chunk(s).map(|n| n as u64)),
            ("overlap", |s| overlap(s).map(|n| n as u64)),
            ("lanes", |s| lanes(s).map(|n| n as u64)),
            ("max", max_results),
            ("dump", |s| dump_len(s, 64 << 20)),
            ("tolerance", |s| tolerance(s).map(|t| t as u64)),
            ("hold", hold_interval_ms),
            ("depth", |s| pointer_depth(s).map(|n| n as u64)),
            ("offset", pointer_offset),
            ("chains", |s| chain_limit(s).map(|n| n as u64)),
        ]
    }

    #[test]
    fn hostile_numbers_are_refused_at_parse_time() {
        for (text, parser) in [
            ("100000", lanes as fn(&str) -> Result<usize, String>),
            ("18446744073709551615", lanes),
            ("9223372036854775808", overlap),
            ("1T", chunk),
            ("1152921504606846976", chunk),
            ("1G", chunk),
            ("0", chunk),
        ] {
            assert!(parser(text).is_err(), "{text} must be refused");
        }
        for bad in ["0", "-1", "4194305", "2147483648", "", "x"] {
            assert!(pid(bad).is_err(), "pid {bad}");
        }
        assert!(interval_ms("0").is_err());
        assert!(count("0").is_err());
        assert!(timeout_ms("0").is_err());
        assert!(dump_len("0", 16).is_err() && dump_len("17", 16).is_err());
        for bad in ["NaN", "inf", "-0.5", "1e400"] {
            assert!(tolerance(bad).is_err(), "tolerance {bad}");
        }
        assert_eq!(chunk("4K"), Ok(4096));
        assert_eq!(lanes("0"), Ok(0));
        assert_eq!(pid("1"), Ok(1));
        assert_eq!(interval_ms("0x10"), Ok(16));
        for bad in ["0", "60001", "18446744073709551616"] {
            assert!(hold_interval_ms(bad).is_err(), "hold interval {bad}");
        }
        for bad in ["0", "9", "18446744073709551615"] {
            assert!(pointer_depth(bad).is_err(), "depth {bad}");
        }
        assert!(pointer_offset("0x100001").is_err() && pointer_offset("0") == Ok(0));
        assert!(chain_limit("0").is_err() && chain_limit("18446744073709551615").is_err());
    }

    /// Every numeric option of every command, as `(command words, option)`.
    const OPTIONS: &[(&[&str], &str)] = &[
        (&["read", "0x10"], "--pid"),
        (&["read", "--pid", "1", "0x10"], "--timeout"),
        (&["write", "0x10", "1"], "--pid"),
        (&["write", "--pid", "1", "0x10", "1"], "--timeout"),
        (&["watch", "--pid", "1", "0x10"], "--interval"),
        (&["watch", "--pid", "1", "0x10"], "--count"),
        (&["watch", "--pid", "1", "0x10"], "--timeout"),
        (&["maps"], "--pid"),
        (&["dump", "--pid", "1", "0x10", "8"], "--deadline-ms"),
        (&["search", "--pid", "1", "x"], "--max"),
        (&["search", "--pid", "1", "x"], "--overlap"),
        (&["search", "--pid", "1", "x"], "--chunk"),
        (&["search", "--pid", "1", "x"], "--lanes"),
        (&["search", "--pid", "1", "x"], "--start"),
        (&["search", "--pid", "1", "x"], "--end"),
        (&["scan", "--pid", "1", "-t", "u32", "1"], "--max"),
        (&["scan", "--pid", "1", "-t", "f32", "1"], "--tolerance"),
        (&["scan", "--pid", "1", "-t", "u32", "1"], "--lanes"),
        (&["scan", "--pid", "1", "-t", "u32", "1"], "--chunk"),
        (&[], "--pid"),
        (&["--pid", "1"], "--interval"),
        (&["writers", "0x10:u32"], "--pid"),
        (&["writers", "--pid", "1", "0x10:u32"], "--seconds"),
        (&["freeze", "0x10:u32", "1"], "--pid"),
        (&["freeze", "--pid", "1", "0x10:u32", "1"], "--interval"),
        (&["freeze", "--pid", "1", "0x10:u32", "1"], "--seconds"),
        (&["pointers", "0x10:u32"], "--pid"),
        (&["pointers", "--pid", "1", "0x10:u32"], "--depth"),
        (&["pointers", "--pid", "1", "0x10:u32"], "--max-offset"),
        (&["pointers", "--pid", "1", "0x10:u32"], "--limit"),
        (&["shared"], "--pid"),
    ];

    #[test]
    fn the_argument_definitions_are_consistent() {
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Whole command lines with any value for a numeric option parse or
        /// are refused, never a panic; the dump length too.
        #[test]
        fn every_numeric_option_of_every_command_parses_any_value(
            value in prop_oneof!["\\PC{0,20}", "-?[0-9xX_kKmMgGtT]{0,24}"],
        ) {
            use clap::Parser as _;
            for (words, option) in OPTIONS {
                let mut argv = vec!["pvtui"];
                argv.extend_from_slice(words);
                let flag = format!("{option}={value}");
                argv.push(&flag);
                let _ = crate::cli::Cli::try_parse_from(&argv);
            }
            let _ = crate::cli::Cli::try_parse_from(["pvtui", "dump", "--pid", "1", "0x10", &value]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// No string makes a numeric option's parser panic, and what passes is in range.
        #[test]
        fn every_numeric_option_parses_any_string_without_panic(
            s in prop_oneof![
                "\\PC{0,24}",
                "[0-9xX_kKmMgGtT.eE+-]{0,30}",
            ]
        ) {
            for (name, parser) in widened() {
                if let Ok(n) = parser(&s) {
                    prop_assert!(name != "lanes" || n <= 64, "{name} {s:?} -> {n}");
                    prop_assert!(name != "chunk" || n <= 64 << 20, "{name} {s:?} -> {n}");
                    prop_assert!(name != "depth" || (1..=8).contains(&n), "{name} {s:?} -> {n}");
                    prop_assert!(name != "chains" || (1..=1_000_000).contains(&n), "{name} {s:?} -> {n}");
                    prop_assert!(name != "hold" || (1..=60_000).contains(&n), "{name} {s:?} -> {n}");
                }
            }
        }
    }
}

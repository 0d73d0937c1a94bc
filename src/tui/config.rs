//! The config file: `$XDG_CONFIG_HOME/pvtui/config.toml` (or
//! `~/.config/pvtui/config.toml`).
//!
//! ```toml
//! theme = "gruvbox"        # a built-in name or a path
//! interval_ms = 100        # poll interval
//! [keys]                   # rebind actions; see `?` in the UI for the names
//! freeze = ["f", "F"]
//! quit = "q"
//! ```
//! Command-line options win over the file. Everything is checked when the
//! file is loaded, and a mistake names its line: an interval out of range, a
//! key that is not a key, or one key bound to two actions (neither would
//! work then).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::tui::keys::Key;

/// The poll interval's range, in milliseconds (as `--interval`).
pub const INTERVAL_MS: std::ops::RangeInclusive<u64> = 1..=60_000;

/// The most bytes read of a config or theme file: a settings file is small,
/// and a path such as `/dev/zero` must not be read until memory runs out.
pub const MAX_SETTINGS_FILE: u64 = 256 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub theme: Option<String>,
    interval_ms: Option<Spanned<u64>>,
    #[serde(default)]
    keys: BTreeMap<String, Spanned<OneOrMany>>,
}

/// Reads a settings file of at most [`MAX_SETTINGS_FILE`] bytes; a FIFO or
/// device is refused without blocking on it.
pub fn read_settings_file(path: &Path) -> std::io::Result<String> {
    let bytes = crate::sys::file::read_regular(path, MAX_SETTINGS_FILE)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// A settings file that is there but is not one (a FIFO, a device, too
/// long, not text) is a usage error; one that cannot be read is a failure.
pub fn settings_file_err(what: &str, path: &Path, source: std::io::Error) -> Error {
    match source.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            Error::Usage(format!("{what} {}: {source}", path.display()))
        }
        _ => Error::Proc {
            path: path.display().to_string(),
            source,
        },
    }
}

/// The line (from 1) of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(0, |head| head.matches('\n').count()) + 1
}

/// A key binding written as one key or a list of keys.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Config {
    /// The folder of pvtui's config: `$XDG_CONFIG_HOME/pvtui` or `~/.config/pvtui`.
    pub fn dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
        Some(base.join("pvtui"))
    }

    /// Loads `config.toml` from `dir`; a missing file is the default config.
    pub fn load(dir: Option<&Path>) -> Result<Config> {
        let Some(path) = dir.map(|d| d.join("config.toml")) else {
            return Ok(Config::default());
        };
        let text = match read_settings_file(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(settings_file_err("config", &path, source)),
        };
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| format!(":{}", line_of(text, s.start)));
            Error::Usage(format!(
                "{source}{}: {}",
                line.unwrap_or_default(),
                e.message()
            ))
        })?;
        if let Some(ms) = &config.interval_ms
            && !INTERVAL_MS.contains(ms.get_ref())
        {
            return Err(Error::Usage(format!(
                "{source}:{}: interval_ms = {} is out of range {}..={}",
                line_of(text, ms.span().start),
                ms.get_ref(),
                INTERVAL_MS.start(),
                INTERVAL_MS.end()
            )));
        }
        config.check_keys(text, source)?;
        Ok(config)
    }

    /// Refuses a key bound to two actions, naming both lines.
    fn check_keys(&self, text: &str, source: &str) -> Result<()> {
        let mut taken: BTreeMap<Key, (&str, usize)> = BTreeMap::new();
        for (action, keys) in &self.keys {
            let line = line_of(text, keys.span().start);
            for name in one_or_many(keys.get_ref()) {
                let Some(key) = Key::parse(name) else {
                    return Err(Error::Usage(format!(
                        "{source}:{line}: {action} = {name:?} is not a key (e.g. \"q\", \"ctrl-c\", \"enter\", \"f1\")"
                    )));
                };
                match taken.get(&key) {
                    Some(&(other, other_line)) if other != action => {
                        return Err(Error::Usage(format!(
                            "{source}:{line}: {action} = {name:?}: {key} is bound to {other} on line {other_line} too; one key does one thing"
                        )));
                    }
                    _ => {
                        taken.insert(key, (action, line));
                    }
                }
            }
        }
        Ok(())
    }

    /// The poll interval, when the file sets one (checked in range).
    pub fn interval_ms(&self) -> Option<u64> {
        self.interval_ms.as_ref().map(|ms| *ms.get_ref())
    }

    /// The `[keys]` table with every value as a list.
    pub fn key_overrides(&self) -> BTreeMap<String, Vec<String>> {
        self.keys
            .iter()
            .map(|(k, v)| {
                let keys = match v.get_ref() {
                    OneOrMany::One(k) => vec![k.clone()],
                    OneOrMany::Many(ks) => ks.clone(),
                };
                (k.clone(), keys)
            })
            .collect()
    }
}

/// The keys of a binding, one or many.
fn one_or_many(keys: &OneOrMany) -> &[String] {
    match keys {
        OneOrMany::One(k) => std::slice::from_ref(k),
        OneOrMany::Many(ks) => ks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_theme_interval_and_keys() {
        let c = Config::parse(
            "theme = \"light\"\ninterval_ms = 250\n[keys]\nquit = \"x\"\nfreeze = [\"f\", \"F\"]\n",
            "config.toml",
        )
        .expect("parse");
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.interval_ms(), Some(250));
        let keys = c.key_overrides();
        assert_eq!(keys["quit"], vec!["x"]);
        assert_eq!(keys["freeze"], vec!["f", "F"]);
    }

    #[test]
    fn an_interval_out_of_range_is_refused_naming_its_line() {
        for bad in ["0", "60001", "18446744073709551615"] {
            let err = Config::parse(
                &format!("theme = \"dark\"\ninterval_ms = {bad}\n"),
                "config.toml",
            )
            .expect_err("out of range");
            assert!(err.to_string().starts_with("config.toml:2: "), "{err}");
        }
        let err = Config::parse("interval_ms = -1\n", "config.toml").expect_err("negative");
        assert!(err.to_string().starts_with("config.toml:1"), "{err}");
        assert!(Config::parse("interval_ms = 60000\n", "c").is_ok());
    }

    #[test]
    fn one_key_for_two_actions_is_refused_naming_both_lines() {
        let err = Config::parse(
            "[keys]\nfreeze = \"f\"\nquit = [\"x\", \"f\"]\n",
            "config.toml",
        )
        .expect_err("conflict");
        let text = err.to_string();
        assert!(text.starts_with("config.toml:3: quit"), "{text}");
        assert!(text.contains("freeze on line 2"), "{text}");
        // One action may list a key twice, and take a key from a default.
        assert!(Config::parse("[keys]\nquit = [\"f\", \"f\"]\n", "c").is_ok());
        let err = Config::parse("[keys]\nquit = \"notakey\"\n", "c").expect_err("bad key");
        assert!(err.to_string().starts_with("c:2: quit"), "{err}");
    }

    #[test]
    fn a_settings_file_that_never_ends_is_refused() {
        let err = read_settings_file(Path::new("/dev/zero")).expect_err("endless");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn any_config_text_loads_or_is_refused(text in "(?s).{0,400}") {
            let _ = Config::parse(&text, "config.toml");
        }

        #[test]
        fn any_toml_like_config_loads_or_is_refused(
            interval in proptest::num::i64::ANY,
            key in "[a-z-]{0,12}",
            action in "(quit|freeze|help|[a-z]{1,8})",
            other in "(quit|freeze|help|[a-z]{1,8})",
        ) {
            let text = format!(
                "interval_ms = {interval}\n[keys]\n{action} = {key:?}\n{other} = [{key:?}]\n"
            );
            if let Ok(config) = Config::parse(&text, "c") {
                proptest::prop_assert!(config.interval_ms().is_some_and(|ms| INTERVAL_MS.contains(&ms)));
                let _ = crate::tui::keys::KeyMap::with_overrides(&config.key_overrides());
            }
        }

        #[test]
        fn any_theme_text_loads_or_is_refused(text in "(?s).{0,400}", value in ".{0,20}") {
            let _ = crate::tui::theme::Theme::parse(&text, "t.toml");
            let _ = crate::tui::theme::Theme::parse(&format!("[colors]\nfg = {value:?}\n"), "t.toml");
        }
    }

    #[test]
    fn unknown_settings_are_refused_with_the_file_name() {
        let err = Config::parse("colour = \"red\"\n", "/home/me/.config/pvtui/config.toml")
            .expect_err("unknown key");
        assert!(err.to_string().contains("config.toml"), "{err}");
    }

    #[test]
    fn missing_file_is_the_default() {
        let dir = std::env::temp_dir().join(format!("pvtui-config-test-{}", std::process::id()));
        assert_eq!(
            Config::load(Some(&dir)).expect("missing"),
            Config::default()
        );
    }
}

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
//! Command-line options win over the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub theme: Option<String>,
    pub interval_ms: Option<u64>,
    #[serde(default)]
    pub keys: BTreeMap<String, OneOrMany>,
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
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(Error::Proc {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Config::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Usage(format!("{source}: {}", e.message())))
    }

    /// The `[keys]` table with every value as a list.
    pub fn key_overrides(&self) -> BTreeMap<String, Vec<String>> {
        self.keys
            .iter()
            .map(|(k, v)| {
                let keys = match v {
                    OneOrMany::One(k) => vec![k.clone()],
                    OneOrMany::Many(ks) => ks.clone(),
                };
                (k.clone(), keys)
            })
            .collect()
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
        assert_eq!(c.interval_ms, Some(250));
        let keys = c.key_overrides();
        assert_eq!(keys["quit"], vec!["x"]);
        assert_eq!(keys["freeze"], vec!["f", "F"]);
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

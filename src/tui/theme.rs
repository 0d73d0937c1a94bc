//! Colours, loaded from `themes/*.toml`.
//!
//! The themes in the repository's `themes/` folder are built into the binary,
//! so `--theme gruvbox` works wherever pvtui runs; `--theme PATH` loads any
//! file of the same shape, and so does `$XDG_CONFIG_HOME/pvtui/themes/NAME.toml`.
//! With `NO_COLOR` set, every colour is dropped and emphasis is carried by
//! bold, reverse and underline alone.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The themes shipped in the binary: name and TOML text.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("gruvbox", include_str!("../../themes/gruvbox.toml")),
    ("catppuccin", include_str!("../../themes/catppuccin.toml")),
];

#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub name: String,
    /// No colours at all (`NO_COLOR`).
    pub monochrome: bool,
    fg: Color,
    bg: Color,
    muted: Color,
    accent: Color,
    header_fg: Color,
    header_bg: Color,
    selected_fg: Color,
    selected_bg: Color,
    border: Color,
    changed: Color,
    frozen: Color,
    ok: Color,
    warning: Color,
    error: Color,
    unread: Color,
    sparkline: Color,
    banner_fg: Color,
    banner_bg: Color,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    colors: BTreeMap<String, String>,
}

const COLOR_KEYS: &[&str] = &[
    "fg",
    "bg",
    "muted",
    "accent",
    "header_fg",
    "header_bg",
    "selected_fg",
    "selected_bg",
    "border",
    "changed",
    "frozen",
    "ok",
    "warning",
    "error",
    "unread",
    "sparkline",
    "banner_fg",
    "banner_bg",
];

impl Theme {
    /// A built-in theme by name, a file `NAME.toml` under the config folder's
    /// `themes/`, or a path to a theme file.
    pub fn load(name_or_path: &str, config_dir: Option<&Path>) -> Result<Theme> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Theme::parse(text, name_or_path);
        }
        let user = config_dir.map(|d| d.join("themes").join(format!("{name_or_path}.toml")));
        let path = match user {
            Some(p) if p.is_file() => p,
            _ => Path::new(name_or_path).to_path_buf(),
        };
        if !path.is_file() {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(Error::Usage(format!(
                "no theme {name_or_path:?}: use one of {} or a path to a .toml theme file",
                names.join(", ")
            )));
        }
        let text = crate::tui::config::read_settings_file(&path)
            .map_err(|source| crate::tui::config::settings_file_err("theme", &path, source))?;
        Theme::parse(&text, &path.display().to_string())
    }

    /// Parses a theme's TOML; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Theme> {
        let file: ThemeFile = toml::from_str(text)
            .map_err(|e| Error::Usage(format!("theme {source}: {}", e.message())))?;
        let mut colors = BTreeMap::new();
        for (key, value) in &file.colors {
            if !COLOR_KEYS.contains(&key.as_str()) {
                return Err(Error::Usage(format!(
                    "theme {source}: unknown colour {key:?}; the colours are {}",
                    COLOR_KEYS.join(", ")
                )));
            }
            let color = if value == "reset" {
                Color::Reset
            } else {
                Color::from_str(value).map_err(|_| {
                    Error::Usage(format!(
                        "theme {source}: {key} = {value:?} is not a colour (#rrggbb, a name such as red, or reset)"
                    ))
                })?
            };
            colors.insert(key.as_str(), color);
        }
        let get = |key: &str| colors.get(key).copied().unwrap_or(Color::Reset);
        Ok(Theme {
            name: file.name.unwrap_or_else(|| source.to_string()),
            monochrome: false,
            fg: get("fg"),
            bg: get("bg"),
            muted: get("muted"),
            accent: get("accent"),
            header_fg: get("header_fg"),
            header_bg: get("header_bg"),
            selected_fg: get("selected_fg"),
            selected_bg: get("selected_bg"),
            border: get("border"),
            changed: get("changed"),
            frozen: get("frozen"),
            ok: get("ok"),
            warning: get("warning"),
            error: get("error"),
            unread: get("unread"),
            sparkline: get("sparkline"),
            banner_fg: get("banner_fg"),
            banner_bg: get("banner_bg"),
        })
    }

    /// The same theme with every colour dropped, for `NO_COLOR`.
    pub fn without_color(mut self) -> Theme {
        self.monochrome = true;
        for c in [
            &mut self.fg,
            &mut self.bg,
            &mut self.muted,
            &mut self.accent,
            &mut self.header_fg,
            &mut self.header_bg,
            &mut self.selected_fg,
            &mut self.selected_bg,
            &mut self.border,
            &mut self.changed,
            &mut self.frozen,
            &mut self.ok,
            &mut self.warning,
            &mut self.error,
            &mut self.unread,
            &mut self.sparkline,
            &mut self.banner_fg,
            &mut self.banner_bg,
        ] {
            *c = Color::Reset;
        }
        self
    }

    /// The default theme.
    pub fn fallback() -> Theme {
        BUILTIN
            .first()
            .and_then(|(name, text)| Theme::parse(text, name).ok())
            .unwrap_or_else(plain)
    }

    fn mono(&self, color: Color, emphasis: Modifier) -> Style {
        if self.monochrome {
            Style::default().add_modifier(emphasis)
        } else {
            Style::default().fg(color)
        }
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }
    /// Plain text colour without a background, for spans inside a highlighted row.
    pub fn text(&self) -> Style {
        Style::default().fg(self.fg)
    }
    pub fn muted(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.muted)
        }
    }
    pub fn accent(&self) -> Style {
        self.mono(self.accent, Modifier::BOLD)
    }
    pub fn header(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(self.header_fg).bg(self.header_bg)
        }
    }
    pub fn selected(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .fg(self.selected_fg)
                .bg(self.selected_bg)
                .add_modifier(Modifier::BOLD)
        }
    }
    pub fn border(&self) -> Style {
        if self.monochrome {
            Style::default()
        } else {
            Style::default().fg(self.border)
        }
    }
    pub fn changed(&self) -> Style {
        self.mono(self.changed, Modifier::BOLD)
            .add_modifier(Modifier::BOLD)
    }
    pub fn frozen(&self) -> Style {
        self.mono(self.frozen, Modifier::UNDERLINED)
    }
    pub fn ok(&self) -> Style {
        self.mono(self.ok, Modifier::empty())
    }
    pub fn warning(&self) -> Style {
        self.mono(self.warning, Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        self.mono(self.error, Modifier::BOLD)
    }
    pub fn unread(&self) -> Style {
        self.mono(self.unread, Modifier::DIM)
    }
    pub fn sparkline(&self) -> Style {
        self.mono(self.sparkline, Modifier::empty())
    }
    pub fn banner(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
                .fg(self.banner_fg)
                .bg(self.banner_bg)
                .add_modifier(Modifier::BOLD)
        }
    }
}

/// Every colour the terminal's own: the last resort if a built-in theme failed to parse.
fn plain() -> Theme {
    Theme {
        name: "plain".into(),
        monochrome: true,
        fg: Color::Reset,
        bg: Color::Reset,
        muted: Color::Reset,
        accent: Color::Reset,
        header_fg: Color::Reset,
        header_bg: Color::Reset,
        selected_fg: Color::Reset,
        selected_bg: Color::Reset,
        border: Color::Reset,
        changed: Color::Reset,
        frozen: Color::Reset,
        ok: Color::Reset,
        warning: Color::Reset,
        error: Color::Reset,
        unread: Color::Reset,
        sparkline: Color::Reset,
        banner_fg: Color::Reset,
        banner_bg: Color::Reset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_with_every_colour() {
        for (name, text) in BUILTIN {
            let theme = Theme::parse(text, name).expect(name);
            assert_eq!(&theme.name, name);
            let file: ThemeFile = toml::from_str(text).expect(name);
            for key in COLOR_KEYS {
                assert!(file.colors.contains_key(*key), "{name} lacks {key}");
            }
        }
    }

    #[test]
    fn bad_colours_and_keys_are_named() {
        let err = Theme::parse("[colors]\nfg = \"nope\"\n", "t.toml").expect_err("bad colour");
        assert!(err.to_string().contains("fg"), "{err}");
        let err = Theme::parse("[colors]\nfgg = \"red\"\n", "t.toml").expect_err("bad key");
        assert!(err.to_string().contains("fgg"), "{err}");
        let err = Theme::load("no-such-theme", None).expect_err("missing");
        assert!(err.to_string().contains("gruvbox"), "{err}");
    }

    #[test]
    fn no_color_drops_every_colour() {
        let theme = Theme::fallback().without_color();
        assert_eq!(theme.error().fg, None);
        assert!(theme.selected().add_modifier.contains(Modifier::REVERSED));
    }
}

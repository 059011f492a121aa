//! UI colours and the syntect theme, from `themes/*.toml` (bundled) or the user's themes dir.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;

const BUNDLED: &[(&str, &str)] = &[
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    syntect_theme: Option<String>,
    #[serde(default)]
    colors: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    /// False under NO_COLOR: only modifiers (bold, reverse, …) are used.
    pub color: bool,
    pub syntect_theme: String,
    pub text: Color,
    pub muted: Color,
    pub accent: Color,
    pub user: Color,
    pub assistant: Color,
    pub reasoning: Color,
    pub error: Color,
    pub warning: Color,
    pub border: Color,
    pub border_focus: Color,
    pub status_bg: Color,
    pub status_fg: Color,
    pub heading: Color,
    pub link: Color,
    pub inline_code: Color,
    pub selection: Color,
}

pub fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() == 6 {
            let v = u32::from_str_radix(hex, 16).ok()?;
            return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return None;
    }
    s.parse::<Color>().ok()
}

/// Names of the bundled themes.
pub fn bundled_names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(n, _)| *n).collect()
}

impl Theme {
    /// Loads a bundled theme or `<config dir>/themes/NAME.toml`.
    pub fn load(name: &str, color: bool) -> Result<Theme, String> {
        let text = match BUNDLED.iter().find(|(n, _)| *n == name) {
            Some((_, t)) => t.to_string(),
            None => {
                let path = directories::ProjectDirs::from("", "", "grokpair")
                    .map(|d| d.config_dir().join("themes").join(format!("{name}.toml")))
                    .ok_or_else(|| format!("unknown theme `{name}`"))?;
                std::fs::read_to_string(&path).map_err(|_| {
                    format!(
                        "unknown theme `{name}` (bundled: {}; or create {})",
                        bundled_names().join(", "),
                        path.display()
                    )
                })?
            }
        };
        Self::parse(name, &text, color)
    }

    pub fn parse(name: &str, text: &str, color: bool) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| format!("theme `{name}`: {e}"))?;
        let get = |k: &str, d: Color| -> Result<Color, String> {
            match f.colors.get(k) {
                None => Ok(d),
                Some(v) => parse_color(v)
                    .ok_or_else(|| format!("theme `{name}`: colors.{k}: bad colour {v:?}")),
            }
        };
        Ok(Theme {
            name: name.to_string(),
            color,
            syntect_theme: f
                .syntect_theme
                .unwrap_or_else(|| "base16-ocean.dark".into()),
            text: get("text", Color::Reset)?,
            muted: get("muted", Color::DarkGray)?,
            accent: get("accent", Color::Cyan)?,
            user: get("user", Color::Green)?,
            assistant: get("assistant", Color::Blue)?,
            reasoning: get("reasoning", Color::Magenta)?,
            error: get("error", Color::Red)?,
            warning: get("warning", Color::Yellow)?,
            border: get("border", Color::DarkGray)?,
            border_focus: get("border_focus", Color::Cyan)?,
            status_bg: get("status_bg", Color::Reset)?,
            status_fg: get("status_fg", Color::Reset)?,
            heading: get("heading", Color::Yellow)?,
            link: get("link", Color::Cyan)?,
            inline_code: get("inline_code", Color::Yellow)?,
            selection: get("selection", Color::DarkGray)?,
        })
    }

    /// The default theme, falling back to built-in colours if the bundled file is broken.
    pub fn default_dark(color: bool) -> Theme {
        Self::load("dark", color).expect("bundled dark theme parses")
    }

    pub fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn bg(&self, s: Style, c: Color) -> Style {
        if self.color {
            s.bg(c)
        } else {
            s
        }
    }

    pub fn muted(&self) -> Style {
        self.fg(self.muted)
    }

    pub fn error(&self) -> Style {
        self.fg(self.error).add_modifier(Modifier::BOLD)
    }

    pub fn warning(&self) -> Style {
        self.fg(self.warning)
    }

    /// The style for the selected row or block: reverse video works without colour too.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::default().bg(self.selection)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

/// Colour is off when NO_COLOR is set to anything non-empty.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_themes_parse() {
        for n in bundled_names() {
            let t = Theme::load(n, true).unwrap();
            assert!(crate::ui::highlight::theme_exists(&t.syntect_theme), "{n}");
        }
    }

    #[test]
    fn bad_colour_is_named() {
        let e = Theme::parse("x", "[colors]\ntext = \"#12\"\n", true).unwrap_err();
        assert!(e.contains("colors.text"), "{e}");
    }
}

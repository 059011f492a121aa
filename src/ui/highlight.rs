//! Incremental syntax highlighting with syntect: each finished line is highlighted exactly once;
//! the parser state after it is kept for the next one. Syntaxes load lazily, on the first code
//! block, so start-up never pays for them.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::sync::OnceLock;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::SyntaxSet;

static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
static THEMES: OnceLock<ThemeSet> = OnceLock::new();

pub fn syntaxes() -> &'static SyntaxSet {
    SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines)
}

pub fn themes() -> &'static ThemeSet {
    THEMES.get_or_init(ThemeSet::load_defaults)
}

pub fn theme_exists(name: &str) -> bool {
    themes().themes.contains_key(name)
}

/// Loads syntaxes and themes on a background thread (after the first frame).
pub fn prewarm() {
    std::thread::spawn(|| {
        let _ = syntaxes();
        let _ = themes();
    });
}

fn syntax_for(lang: &str) -> &'static syntect::parsing::SyntaxReference {
    let ss = syntaxes();
    let l = lang.trim().to_ascii_lowercase();
    let alias = match l.as_str() {
        "rs" => "rust",
        "py" | "python3" => "python",
        "js" | "jsx" | "mjs" | "ts" | "tsx" | "typescript" => "javascript",
        "sh" | "shell" | "zsh" | "console" => "bash",
        "yml" => "yaml",
        "c++" | "cc" | "hpp" => "cpp",
        "golang" => "go",
        "md" => "markdown",
        "toml" | "ini" | "cfg" => "makefile",
        other => other,
    };
    ss.find_syntax_by_token(alias)
        .or_else(|| ss.find_syntax_by_token(&l))
        .unwrap_or_else(|| ss.find_syntax_plain_text())
}

/// Highlights one code block as its source grows.
pub struct BlockHighlighter {
    hl: Option<HighlightLines<'static>>,
    lang: String,
    theme: String,
    color: bool,
    /// Highlighted complete lines.
    pub lines: Vec<Line<'static>>,
    /// Bytes of the source already highlighted (always at a line boundary).
    consumed: usize,
}

impl BlockHighlighter {
    pub fn new(lang: &str, theme: &str, color: bool) -> Self {
        BlockHighlighter {
            hl: None,
            lang: lang.to_string(),
            theme: theme.to_string(),
            color,
            lines: Vec::new(),
            consumed: 0,
        }
    }

    /// Highlights the complete lines of `source` not seen yet. `source` only ever grows.
    pub fn update(&mut self, source: &str) {
        if self.consumed >= source.len() {
            return;
        }
        let rest = &source[self.consumed..];
        let Some(last_nl) = rest.rfind('\n') else {
            return;
        };
        if self.color && self.hl.is_none() {
            let th = themes()
                .themes
                .get(&self.theme)
                .or_else(|| themes().themes.values().next())
                .expect("syntect has themes");
            self.hl = Some(HighlightLines::new(syntax_for(&self.lang), th));
        }
        for line in rest[..=last_nl].split_inclusive('\n') {
            let spans = match &mut self.hl {
                Some(hl) => match hl.highlight_line(line, syntaxes()) {
                    Ok(regions) => regions
                        .into_iter()
                        .filter_map(|(st, text)| {
                            let t = text.trim_end_matches(['\n', '\r']);
                            (!t.is_empty()).then(|| Span::styled(expand_tabs(t), convert(st)))
                        })
                        .collect(),
                    Err(_) => vec![Span::raw(expand_tabs(line.trim_end_matches(['\n', '\r'])))],
                },
                None => vec![Span::raw(expand_tabs(line.trim_end_matches(['\n', '\r'])))],
            };
            self.lines.push(Line::from(spans));
        }
        self.consumed += last_nl + 1;
    }

    /// The unfinished last line, shown plain until it completes.
    pub fn partial<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.consumed..).unwrap_or("")
    }
}

fn expand_tabs(s: &str) -> String {
    s.replace('\t', "    ")
}

fn convert(st: syntect::highlighting::Style) -> Style {
    let c = st.foreground;
    let mut s = Style::default().fg(Color::Rgb(c.r, c.g, c.b));
    if st.font_style.contains(FontStyle::BOLD) {
        s = s.add_modifier(Modifier::BOLD);
    }
    if st.font_style.contains(FontStyle::ITALIC) {
        s = s.add_modifier(Modifier::ITALIC);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_lines_are_highlighted_once() {
        let mut h = BlockHighlighter::new("rust", "base16-ocean.dark", true);
        h.update("fn main() {\n    let x");
        assert_eq!(h.lines.len(), 1);
        assert_eq!(h.partial("fn main() {\n    let x"), "    let x");
        let first = h.lines[0].clone();
        h.update("fn main() {\n    let x = 1;\n}\n");
        assert_eq!(h.lines.len(), 3);
        assert_eq!(h.lines[0], first);
        assert!(h.lines[0].spans.len() > 1, "keywords get their own style");
        assert_eq!(h.partial("fn main() {\n    let x = 1;\n}\n"), "");
    }

    #[test]
    fn no_color_is_plain() {
        let mut h = BlockHighlighter::new("python", "base16-ocean.dark", false);
        h.update("def f():\n\treturn 1\n");
        assert_eq!(h.lines[1].spans[0].content, "    return 1");
        assert_eq!(h.lines[1].spans[0].style, Style::default());
    }
}

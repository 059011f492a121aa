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

pub fn syntax_for(lang: &str) -> &'static syntect::parsing::SyntaxReference {
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

/// Highlights one code block as its source grows. Lines are stored compactly (style runs as
/// byte offsets into the block's source plus a small palette), because a long session holds
/// thousands of code lines; `line()` builds the spans of one line when it is drawn.
pub struct BlockHighlighter {
    hl: Option<HighlightLines<'static>>,
    lang: String,
    theme: String,
    color: bool,
    /// Style runs: end offset in the source (exclusive) and palette index.
    runs: Vec<(u32, u16)>,
    /// Per highlighted line: its start offset in the source and its first run.
    starts: Vec<(u32, u32)>,
    palette: Vec<Style>,
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
            runs: Vec::new(),
            starts: Vec::new(),
            palette: Vec::new(),
            consumed: 0,
        }
    }

    /// Number of highlighted (complete) lines.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    fn style_id(&mut self, st: Style) -> u16 {
        if let Some(i) = self.palette.iter().position(|s| *s == st) {
            return i as u16;
        }
        if self.palette.len() >= u16::MAX as usize {
            return 0;
        }
        self.palette.push(st);
        (self.palette.len() - 1) as u16
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
        let mut at = self.consumed;
        let base = self.consumed;
        for line in source[base..base + last_nl + 1].split_inclusive('\n') {
            self.starts.push((at as u32, self.runs.len() as u32));
            let regions = match &mut self.hl {
                Some(hl) => hl.highlight_line(line, syntaxes()).ok(),
                None => None,
            };
            match regions {
                Some(regions) => {
                    let mut end = at;
                    for (st, text) in regions {
                        end += text.len();
                        let id = self.style_id(convert(st));
                        self.runs.push((end as u32, id));
                    }
                }
                None => {
                    let id = self.style_id(Style::default());
                    self.runs.push(((at + line.len()) as u32, id));
                }
            }
            at += line.len();
        }
        self.consumed = at;
    }

    /// Highlighted line `i` of `source` (the same source given to `update`).
    pub fn line(&self, i: usize, source: &str) -> Line<'static> {
        let (start, first) = self.starts[i];
        let last = self
            .starts
            .get(i + 1)
            .map(|s| s.1 as usize)
            .unwrap_or(self.runs.len());
        let mut from = start as usize;
        let mut spans = Vec::with_capacity(last - first as usize);
        for &(end, id) in &self.runs[first as usize..last] {
            let end = end as usize;
            let t = source
                .get(from..end)
                .unwrap_or("")
                .trim_end_matches(['\n', '\r']);
            if !t.is_empty() {
                spans.push(Span::styled(expand_tabs(t), self.palette[id as usize]));
            }
            from = end;
        }
        Line::from(spans)
    }

    /// The block is complete and every line highlighted: the parser state (a few KB per
    /// block, thousands of blocks in a long session) is not needed again.
    pub fn finish(&mut self) {
        self.hl = None;
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
        let a = "fn main() {\n    let x";
        h.update(a);
        assert_eq!(h.len(), 1);
        assert_eq!(h.partial(a), "    let x");
        let first = h.line(0, a);
        let before = h.runs.clone();
        let b = "fn main() {\n    let x = 1;\n}\n";
        h.update(b);
        assert_eq!(h.len(), 3);
        assert_eq!(h.line(0, b), first);
        assert_eq!(
            h.runs[..before.len()],
            before[..],
            "finished lines are not redone"
        );
        assert!(first.spans.len() > 1, "keywords get their own style");
        let text: String = h
            .line(1, b)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(text, "    let x = 1;");
        assert_eq!(h.partial(b), "");
    }

    #[test]
    fn no_color_is_plain() {
        let mut h = BlockHighlighter::new("python", "base16-ocean.dark", false);
        let src = "def f():\n\treturn 1\n";
        h.update(src);
        assert_eq!(h.line(1, src).spans[0].content, "    return 1");
        assert_eq!(h.line(1, src).spans[0].style, Style::default());
    }
}

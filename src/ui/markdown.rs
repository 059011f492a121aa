//! Streaming markdown. Text is split into blocks as it arrives: paragraph-level text blocks and
//! fenced code blocks. A finished block is rendered once per width and cached; a growing code
//! block only wraps its new lines; only the open text block is rendered again on a new token.
//! So the cost of a token does not grow with the length of the answer.

use pulldown_cmark::{Alignment, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::highlight::BlockHighlighter;
use super::theme::Theme;

/// A fenced code block of an answer, shared by the conversation and the code pane.
pub struct CodeBlock {
    pub lang: String,
    /// Complete lines only.
    pub source: String,
    /// The unfinished last line while streaming.
    pub partial: String,
    pub complete: bool,
    pub hl: BlockHighlighter,
    /// Which message it belongs to.
    pub message: usize,
}

impl CodeBlock {
    pub fn new(lang: &str, theme: &Theme, message: usize) -> Self {
        CodeBlock {
            lang: lang.to_string(),
            source: String::new(),
            partial: String::new(),
            complete: false,
            hl: BlockHighlighter::new(lang, &theme.syntect_theme, theme.color),
            message,
        }
    }

    /// The full text (what copy and save write).
    pub fn text(&self) -> String {
        let mut s = self.source.clone();
        s.push_str(&self.partial);
        s
    }

    /// Highlights any new complete lines; returns how many there are.
    pub fn highlight(&mut self) -> usize {
        self.hl.update(&self.source);
        if self.complete {
            self.hl.finish();
        }
        self.hl.len()
    }

    pub fn label(&self) -> &str {
        if self.lang.is_empty() {
            "text"
        } else {
            &self.lang
        }
    }
}

pub struct CodeCache {
    width: u16,
    done: usize,
    lines: Vec<Line<'static>>,
    tail: Vec<Line<'static>>,
    /// The block is complete and fully wrapped.
    sealed: bool,
}

/// Rendered lines of a finished text block at one width. The lines may be dropped while the
/// block is far outside the visible window; the height stays known.
pub struct TextCache {
    width: u16,
    height: usize,
    lines: Option<Vec<Line<'static>>>,
}

pub enum Block {
    Text {
        src: String,
        cache: Option<TextCache>,
    },
    Code {
        idx: usize,
        cache: Option<CodeCache>,
        /// Height of the sealed block at a width, kept when its lines are dropped.
        height: Option<(u16, usize)>,
    },
}

/// Where rendered lines go. Two passes draw a pane: one counts lines (rendering only what has
/// no known height), one copies the visible window and drops the cached lines of blocks far
/// from it, so memory stays flat however long the transcript grows.
pub struct Sink {
    /// Lines seen so far.
    pub pos: usize,
    /// Lines wanted as lines; `None` while counting.
    want: Option<std::ops::Range<usize>>,
    /// Blocks overlapping these lines keep their rendered lines.
    keep: std::ops::Range<usize>,
    pub out: Vec<Line<'static>>,
    /// Line positions recorded by `mark()` (where each conversation entry starts).
    pub marks: Vec<usize>,
    track: bool,
}

impl Sink {
    /// Counts lines only.
    pub fn count() -> Self {
        Sink {
            pos: 0,
            want: None,
            keep: 0..0,
            out: Vec::new(),
            marks: Vec::new(),
            track: false,
        }
    }

    /// Collects every line (tests, exports).
    pub fn all() -> Self {
        Sink {
            pos: 0,
            want: Some(0..usize::MAX),
            keep: 0..usize::MAX,
            out: Vec::new(),
            marks: Vec::new(),
            track: true,
        }
    }

    /// Collects the lines in `want`; blocks within `margin` lines of it stay cached.
    pub fn window(want: std::ops::Range<usize>, margin: usize) -> Self {
        Sink {
            pos: 0,
            keep: want.start.saturating_sub(margin)..want.end.saturating_add(margin),
            out: Vec::with_capacity(want.len()),
            want: Some(want),
            marks: Vec::new(),
            track: false,
        }
    }

    /// Records entry starts from now on.
    pub fn track_marks(&mut self) {
        self.track = true;
    }

    pub fn mark(&mut self) {
        if self.track {
            self.marks.push(self.pos);
        }
    }

    fn overlaps(&self, r: &std::ops::Range<usize>, n: usize) -> bool {
        self.pos < r.end && self.pos + n > r.start
    }

    /// Whether the next `n` lines are needed as lines.
    pub fn wants(&self, n: usize) -> bool {
        self.want.as_ref().is_some_and(|w| self.overlaps(w, n))
    }

    /// Whether a block of `n` lines at the current position keeps its rendered lines. While
    /// counting, a block keeps what it had and drops what was rendered only to be measured.
    fn keeps(&self, n: usize, was_cached: bool) -> bool {
        match self.want {
            None => was_cached,
            Some(_) => self.overlaps(&self.keep, n),
        }
    }

    pub fn lines(&mut self, ls: &[Line<'static>]) {
        if let Some(w) = &self.want {
            if self.overlaps(w, ls.len()) {
                let a = w.start.saturating_sub(self.pos);
                let b = (w.end - self.pos).min(ls.len());
                self.out.extend_from_slice(&ls[a..b]);
            }
        }
        self.pos += ls.len();
    }

    pub fn skip(&mut self, n: usize) {
        self.pos += n;
    }
}

/// Splits one message into blocks as its text streams in.
#[derive(Default)]
pub struct Segmenter {
    pub blocks: Vec<Block>,
    line: String,
    /// Inside a fence: the fence and its code block's index.
    fence: Option<(crate::session::fence::Fence, usize)>,
    text_open: bool,
    /// Rendered unfinished line (text outside a fence), re-rendered when it changes.
    tail: Option<(u16, Vec<Line<'static>>)>,
}

impl Segmenter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends streamed text. New code blocks are pushed onto `code`.
    pub fn push(&mut self, text: &str, code: &mut Vec<CodeBlock>, theme: &Theme, message: usize) {
        let mut rest = text;
        while let Some(i) = rest.find('\n') {
            self.line.push_str(&rest[..i]);
            let line = std::mem::take(&mut self.line);
            self.complete_line(&line, code, theme, message);
            rest = &rest[i + 1..];
        }
        self.line.push_str(rest);
        self.tail = None;
        if let Some((f, idx)) = &self.fence {
            code[*idx].partial = f.partial(&self.line).to_string();
        }
    }

    /// The message ended: whatever is unfinished is final.
    pub fn finish(&mut self, code: &mut Vec<CodeBlock>, theme: &Theme, message: usize) {
        if !self.line.is_empty() {
            // The last line may itself open a fence ("```rust" with nothing after it).
            let line = std::mem::take(&mut self.line);
            self.complete_line(&line, code, theme, message);
        }
        if let Some((_, idx)) = self.fence.take() {
            code[idx].complete = true;
            code[idx].partial.clear();
        }
        self.tail = None;
    }

    fn complete_line(
        &mut self,
        line: &str,
        code: &mut Vec<CodeBlock>,
        theme: &Theme,
        message: usize,
    ) {
        if let Some((f, idx)) = &self.fence {
            let cb = &mut code[*idx];
            cb.partial.clear();
            if f.closes(line) {
                self.fence = None;
                cb.complete = true;
            } else {
                cb.source.push_str(f.content(line));
                cb.source.push('\n');
            }
            return;
        }
        if let Some(f) = crate::session::fence::open(line) {
            self.text_open = false;
            let idx = code.len();
            code.push(CodeBlock::new(&f.lang, theme, message));
            self.blocks.push(Block::Code {
                idx,
                cache: None,
                height: None,
            });
            self.fence = Some((f, idx));
            return;
        }
        if line.trim().is_empty() {
            self.text_open = false;
            return;
        }
        if !self.text_open {
            self.blocks.push(Block::Text {
                src: String::new(),
                cache: None,
            });
            self.text_open = true;
        }
        if let Some(Block::Text { src, cache }) = self.blocks.last_mut() {
            src.push_str(line);
            src.push('\n');
            *cache = None;
        }
    }

    /// Sends every block's lines at `width` to `sink`, in order, reusing and dropping cached
    /// renderings as the sink directs; see the module docs.
    pub fn render(&mut self, width: u16, theme: &Theme, code: &mut [CodeBlock], sink: &mut Sink) {
        let width = width.max(4);
        let n = self.blocks.len();
        let text_open = self.text_open;
        // An unfinished line that may yet open a code block waits for its end (no lone ` that
        // turns into a fence a moment later).
        let partial_in_text = self.fence.is_none()
            && !self.line.is_empty()
            && !crate::session::fence::may_open(&self.line);
        for (i, b) in self.blocks.iter_mut().enumerate() {
            let last = i + 1 == n;
            match b {
                Block::Text { src, cache } => {
                    if last && text_open && partial_in_text {
                        // Rendered with the unfinished line below, as one paragraph.
                        continue;
                    }
                    let mut was_cached = true;
                    if cache.as_ref().is_none_or(|c| c.width != width) {
                        let lines = render_text(src, width, theme);
                        *cache = Some(TextCache {
                            width,
                            height: lines.len(),
                            lines: Some(lines),
                        });
                        was_cached = false;
                    }
                    let c = cache.as_mut().expect("cached");
                    let h = c.height;
                    if sink.wants(h) {
                        let lines = c
                            .lines
                            .get_or_insert_with(|| render_text(src, width, theme));
                        sink.lines(lines);
                        // A block being drawn is always kept.
                        continue;
                    }
                    was_cached &= c.lines.is_some();
                    let keep = sink.keeps(h, was_cached);
                    sink.skip(h);
                    if !keep {
                        c.lines = None;
                    }
                }
                Block::Code { idx, cache, height } => {
                    let cb = &mut code[*idx];
                    let was_cached = cache.as_ref().is_some_and(|c| c.width == width);
                    if !was_cached {
                        // Not drawn: measured from its text, not highlighted for it (at full
                        // speed most blocks scroll by between two frames; highlighting them
                        // all was half the CPU). Highlighted once drawn.
                        let h = match *height {
                            Some((w, h)) if w == width => h,
                            _ => code_height(cb, width),
                        };
                        if !sink.wants(h) {
                            if cb.complete && cb.partial.is_empty() {
                                *height = Some((width, h));
                            }
                            // Lines wrapped at another width are of no more use.
                            *cache = None;
                            sink.skip(h);
                            continue;
                        }
                    }
                    render_code(cb, cache, width, theme);
                    let c = cache.as_ref().expect("cached");
                    let h = c.lines.len() + c.tail.len();
                    let drop = c.sealed && !sink.wants(h) && !sink.keeps(h, was_cached);
                    if c.sealed {
                        *height = Some((width, h));
                    }
                    sink.lines(&c.lines);
                    sink.lines(&c.tail);
                    if drop {
                        *cache = None;
                    }
                }
            }
        }
        if partial_in_text {
            if self.tail.as_ref().is_none_or(|(w, _)| *w != width) {
                let mut src = String::new();
                if text_open {
                    if let Some(Block::Text { src: s, .. }) = self.blocks.last() {
                        src.push_str(s);
                    }
                }
                src.push_str(&self.line);
                self.tail = Some((width, render_text(&src, width, theme)));
            }
            sink.lines(&self.tail.as_ref().expect("tail").1);
        }
    }
}

fn render_code(cb: &mut CodeBlock, cache: &mut Option<CodeCache>, width: u16, theme: &Theme) {
    // A finished block whose lines are all wrapped is final: nothing to do.
    if let Some(c) = cache.as_ref() {
        if c.width == width && c.sealed {
            return;
        }
    }
    let total = cb.highlight();
    if cache.as_ref().is_none_or(|c| c.width != width) {
        let mut lines = Vec::new();
        let label = format!("── {} ", cb.label());
        lines.push(Line::from(Span::styled(label, theme.muted())));
        *cache = Some(CodeCache {
            width,
            done: 0,
            lines,
            tail: Vec::new(),
            sealed: false,
        });
    }
    let c = cache.as_mut().expect("cache");
    let gutter = || Span::styled("▏ ", theme.muted());
    for i in c.done..total {
        let l = cb.hl.line(i, &cb.source);
        c.lines
            .extend(wrap_hard(&l, width.saturating_sub(2) as usize, &gutter));
    }
    c.done = total;
    c.tail.clear();
    if !cb.partial.is_empty() {
        let l = Line::raw(cb.partial.replace('\t', "    "));
        c.tail
            .extend(wrap_hard(&l, width.saturating_sub(2) as usize, &gutter));
    }
    c.tail.push(Line::from(Span::styled(
        if cb.complete { "──" } else { "── …" },
        theme.muted(),
    )));
    c.tail.push(Line::default());
    c.sealed = cb.complete && cb.partial.is_empty() && c.done == cb.hl.len();
}

/// The lines `render_code` makes of `cb` at `width`, counted from its text (the label, each
/// line hard-wrapped as `wrap_hard` does, the unfinished line, the closing rule and a blank).
fn code_height(cb: &CodeBlock, width: u16) -> usize {
    let w = (width.saturating_sub(2) as usize).max(1);
    let rows = |line: &str| {
        // Tabs as four spaces, as drawn.
        let cells: Vec<(char, usize)> = line
            .chars()
            .flat_map(|c| match c {
                '\t' => std::iter::repeat_n(' ', 4),
                c => std::iter::repeat_n(c, 1),
            })
            .map(|c| (c, c.width().unwrap_or(0)))
            .collect();
        1 + code_breaks(&cells, w).len()
    };
    let lines: usize = cb
        .source
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| rows(l.trim_end_matches(['\n', '\r'])))
        .sum();
    let partial = if cb.partial.is_empty() {
        0
    } else {
        rows(&cb.partial)
    };
    1 + lines + partial + 2
}

/// Where a code line of these characters' widths breaks at `width` columns: the index of
/// each row's first character after the first row's. A row ends after its last space or
/// punctuation (not `_`), so an identifier is not cut (`saturatin|g_add`); a run with no
/// such place is cut at the width.
fn code_breaks(cells: &[(char, usize)], width: usize) -> Vec<usize> {
    let width = width.max(1);
    let mut breaks = Vec::new();
    let (mut start, mut used) = (0, 0);
    // After which character of the current row it may break (an index into `cells`).
    let mut after: Option<usize> = None;
    let mut i = 0;
    while i < cells.len() {
        let (c, w) = cells[i];
        if used + w > width && used > 0 {
            let at = match after {
                Some(a) if a + 1 > start && a + 1 < i + 1 => a + 1,
                _ => i,
            };
            breaks.push(at);
            start = at;
            used = cells[at..i].iter().map(|c| c.1).sum();
            after = (at..i).rev().find(|&k| breaks_after(cells[k].0));
            continue;
        }
        used += w;
        if breaks_after(c) {
            after = Some(i);
        }
        i += 1;
    }
    breaks
}

/// A code line may break after a space or punctuation (not `_`, which joins identifiers).
fn breaks_after(c: char) -> bool {
    c == ' ' || (c.is_ascii_punctuation() && c != '_')
}

/// A code line wrapped at `width` (`code_breaks`: between tokens where it can). The first row
/// starts with `gutter`; the rows it goes on in start with `┆` in the gutter's place, so a
/// wrapped line does not read as a line of its own.
fn wrap_hard(
    line: &Line<'static>,
    width: usize,
    gutter: &dyn Fn() -> Span<'static>,
) -> Vec<Line<'static>> {
    let cells: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|sp| sp.content.chars().map(move |c| (c, sp.style)))
        .collect();
    let widths: Vec<(char, usize)> = cells
        .iter()
        .map(|&(c, _)| (c, c.width().unwrap_or(0)))
        .collect();
    let mut bounds = code_breaks(&widths, width);
    bounds.push(cells.len());
    let mut out = Vec::new();
    let mut from = 0;
    for to in bounds {
        let mut g = gutter();
        if from > 0 && !g.content.is_empty() {
            g.content = "┆ ".into();
        }
        let mut row = vec![g];
        for &(c, style) in &cells[from..to] {
            let joins = row.len() > 1 && row.last().is_some_and(|l| l.style == style);
            match row.last_mut() {
                Some(last) if joins => last.content.to_mut().push(c),
                _ => row.push(Span::styled(c.to_string(), style)),
            }
        }
        out.push(Line::from(row));
        from = to;
    }
    out
}

/// A logical line before wrapping: prefixes for the first and the following visual lines.
struct LogLine {
    first: Vec<Span<'static>>,
    rest: Vec<Span<'static>>,
    spans: Vec<Span<'static>>,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: u16,
    out: Vec<LogLine>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// List stack: next number for ordered lists.
    lists: Vec<Option<u64>>,
    quote: usize,
    /// Marker for the first line of the current item.
    marker: Option<String>,
    links: Vec<String>,
    table: Option<Table>,
    in_code: bool,
}

struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Vec<Span<'static>>>>,
    row: Vec<Vec<Span<'static>>>,
    cell: Vec<Span<'static>>,
}

impl<'t> Renderer<'t> {
    fn style(&self) -> Style {
        *self.styles.last().unwrap_or(&Style::default())
    }

    fn push_style(&mut self, f: impl FnOnce(Style) -> Style) {
        let s = f(self.style());
        self.styles.push(s);
    }

    fn indent(&self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for _ in 0..self.quote {
            first.push(Span::styled("│ ", self.theme.muted()));
            rest.push(Span::styled("│ ", self.theme.muted()));
        }
        let depth = self.lists.len();
        if depth > 0 {
            let pad = "  ".repeat(depth - 1);
            match &self.marker {
                Some(m) => {
                    first.push(Span::raw(pad.clone()));
                    first.push(Span::styled(m.clone(), self.theme.fg(self.theme.accent)));
                    rest.push(Span::raw(format!("{pad}{}", " ".repeat(m.width()))));
                }
                None => {
                    let p = format!("{pad}  ");
                    first.push(Span::raw(p.clone()));
                    rest.push(Span::raw(p));
                }
            }
        }
        (first, rest)
    }

    fn text(&mut self, t: &str) {
        let st = self.style();
        if let Some(tb) = &mut self.table {
            tb.cell.push(Span::styled(t.to_string(), st));
            return;
        }
        let mut first = true;
        for piece in t.split('\n') {
            if !first {
                self.flush();
            }
            first = false;
            if !piece.is_empty() {
                self.spans
                    .push(Span::styled(piece.replace('\t', "    "), st));
            }
        }
    }

    fn flush(&mut self) {
        if self.spans.is_empty() && self.marker.is_none() {
            return;
        }
        let (first, rest) = self.indent();
        self.marker = None;
        let spans = std::mem::take(&mut self.spans);
        self.out.push(LogLine { first, rest, spans });
    }

    fn blank(&mut self) {
        if self
            .out
            .last()
            .is_some_and(|l| l.spans.is_empty() && l.first.is_empty())
            || self.out.is_empty()
        {
            return;
        }
        self.out.push(LogLine {
            first: vec![],
            rest: vec![],
            spans: vec![],
        });
    }

    fn event(&mut self, ev: Event<'_>) {
        let th = self.theme;
        match ev {
            Event::Start(tag) => match tag {
                Tag::Paragraph => {}
                Tag::Heading { level, .. } => {
                    self.flush();
                    let mut s = th.fg(th.heading).add_modifier(Modifier::BOLD);
                    if level == HeadingLevel::H1 {
                        s = s.add_modifier(Modifier::UNDERLINED);
                    }
                    self.styles.push(s);
                }
                Tag::BlockQuote(_) => {
                    self.flush();
                    self.quote += 1;
                    self.push_style(|s| s.add_modifier(Modifier::ITALIC));
                }
                Tag::CodeBlock(_) => {
                    self.flush();
                    self.in_code = true;
                    self.styles.push(th.fg(th.inline_code));
                }
                Tag::List(start) => {
                    self.flush();
                    self.lists.push(start);
                }
                Tag::Item => {
                    self.flush();
                    let m = match self.lists.last_mut() {
                        Some(Some(n)) => {
                            let m = format!("{n}. ");
                            *n += 1;
                            m
                        }
                        _ => "• ".to_string(),
                    };
                    self.marker = Some(m);
                }
                Tag::Emphasis => self.push_style(|s| s.add_modifier(Modifier::ITALIC)),
                Tag::Strong => self.push_style(|s| s.add_modifier(Modifier::BOLD)),
                Tag::Strikethrough => self.push_style(|s| s.add_modifier(Modifier::CROSSED_OUT)),
                Tag::Link { dest_url, .. } => {
                    self.links.push(dest_url.to_string());
                    let l = th.fg(th.link).add_modifier(Modifier::UNDERLINED);
                    self.styles.push(l);
                }
                Tag::Image { dest_url, .. } => {
                    self.links.push(dest_url.to_string());
                    self.push_style(|s| s.add_modifier(Modifier::ITALIC));
                }
                Tag::Table(aligns) => {
                    self.flush();
                    self.table = Some(Table {
                        aligns,
                        rows: Vec::new(),
                        row: Vec::new(),
                        cell: Vec::new(),
                    });
                }
                Tag::TableHead | Tag::TableRow => {}
                Tag::TableCell => {}
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => {
                    self.flush();
                    if self.lists.is_empty() {
                        self.blank();
                    }
                }
                TagEnd::Heading(_) => {
                    self.styles.pop();
                    self.flush();
                    self.blank();
                }
                TagEnd::BlockQuote(_) => {
                    self.flush();
                    self.styles.pop();
                    self.quote = self.quote.saturating_sub(1);
                    self.blank();
                }
                TagEnd::CodeBlock => {
                    self.flush();
                    self.in_code = false;
                    self.styles.pop();
                    self.blank();
                }
                TagEnd::List(_) => {
                    self.flush();
                    self.lists.pop();
                    if self.lists.is_empty() {
                        self.blank();
                    }
                }
                TagEnd::Item => self.flush(),
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                    self.styles.pop();
                }
                TagEnd::Link | TagEnd::Image => {
                    self.styles.pop();
                    if let Some(url) = self.links.pop() {
                        let shown: String = self
                            .spans
                            .iter()
                            .rev()
                            .take(1)
                            .map(|s| s.content.to_string())
                            .collect();
                        if !url.is_empty() && shown != url {
                            self.spans
                                .push(Span::styled(format!(" ({url})"), th.muted()));
                        }
                    }
                }
                TagEnd::TableCell => {
                    if let Some(t) = &mut self.table {
                        let c = std::mem::take(&mut t.cell);
                        t.row.push(c);
                    }
                }
                TagEnd::TableHead | TagEnd::TableRow => {
                    if let Some(t) = &mut self.table {
                        let r = std::mem::take(&mut t.row);
                        t.rows.push(r);
                    }
                }
                TagEnd::Table => {
                    if let Some(t) = self.table.take() {
                        self.emit_table(t);
                        self.blank();
                    }
                }
                _ => {}
            },
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                let s = th.fg(th.inline_code);
                if let Some(tb) = &mut self.table {
                    tb.cell.push(Span::styled(t.to_string(), s));
                } else {
                    self.spans.push(Span::styled(t.to_string(), s));
                }
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                let w = (self.width as usize).clamp(3, 80);
                self.out.push(LogLine {
                    first: vec![],
                    rest: vec![],
                    spans: vec![Span::styled("─".repeat(w), th.muted())],
                });
                self.blank();
            }
            Event::TaskListMarker(done) => {
                self.spans.push(Span::styled(
                    if done { "[x] " } else { "[ ] " },
                    th.fg(th.accent),
                ));
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                let s = th.muted();
                for (i, piece) in t.split('\n').enumerate() {
                    if i > 0 {
                        self.flush();
                    }
                    if !piece.is_empty() {
                        self.spans.push(Span::styled(piece.to_string(), s));
                    }
                }
            }
            Event::FootnoteReference(t) => self.text(&format!("[^{t}]")),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
        }
    }

    fn emit_table(&mut self, t: Table) {
        let th = self.theme;
        let ncol = t.rows.iter().map(Vec::len).max().unwrap_or(0);
        if ncol == 0 {
            return;
        }
        let cell_w = |c: &Vec<Span<'static>>| c.iter().map(|s| s.content.width()).sum::<usize>();
        let mut widths = vec![0usize; ncol];
        for r in &t.rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(cell_w(c));
            }
        }
        // Shrink the widest columns until the table fits (cells are then cut with an ellipsis).
        let sep = 3;
        let avail = (self.width as usize)
            .saturating_sub(sep * (ncol - 1))
            .max(ncol);
        while widths.iter().sum::<usize>() > avail {
            let (i, _) = widths
                .iter()
                .enumerate()
                .max_by_key(|(_, w)| **w)
                .expect("columns");
            if widths[i] <= 3 {
                break;
            }
            widths[i] -= 1;
        }
        for (ri, r) in t.rows.iter().enumerate() {
            let mut spans: Vec<Span<'static>> = Vec::new();
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::styled(" │ ", th.muted()));
                }
                let empty = Vec::new();
                let cell = r.get(i).unwrap_or(&empty);
                let text: String = cell.iter().map(|s| s.content.as_ref()).collect();
                let style = cell.first().map(|s| s.style).unwrap_or_default();
                let style = if ri == 0 {
                    style.add_modifier(Modifier::BOLD)
                } else {
                    style
                };
                let cut = truncate(&text, *w);
                let pad = w.saturating_sub(cut.width());
                let (l, rpad) = match t.aligns.get(i) {
                    Some(Alignment::Right) => (pad, 0),
                    Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                    _ => (0, pad),
                };
                spans.push(Span::styled(
                    format!("{}{cut}{}", " ".repeat(l), " ".repeat(rpad)),
                    style,
                ));
            }
            self.out.push(LogLine {
                first: vec![],
                rest: vec![],
                spans,
            });
            if ri == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                self.out.push(LogLine {
                    first: vec![],
                    rest: vec![],
                    spans: vec![Span::styled(rule.join("─┼─"), th.muted())],
                });
            }
        }
    }
}

fn truncate(s: &str, w: usize) -> String {
    if s.width() <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let cw = ch.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push('…');
    out
}

/// Renders a markdown fragment into wrapped lines.
pub fn render_text(src: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut r = Renderer {
        theme,
        width,
        out: Vec::new(),
        spans: Vec::new(),
        styles: vec![theme.fg(theme.text)],
        lists: Vec::new(),
        quote: 0,
        marker: None,
        links: Vec::new(),
        table: None,
        in_code: false,
    };
    for ev in Parser::new_ext(src, opts) {
        r.event(ev);
    }
    r.flush();
    // Blocks are separated by one blank line.
    if !r.out.last().is_some_and(|l| l.spans.is_empty()) {
        r.out.push(LogLine {
            first: vec![],
            rest: vec![],
            spans: vec![],
        });
    }
    let mut lines = Vec::new();
    for l in r.out {
        wrap(l.first, l.rest, l.spans, width as usize, &mut lines);
    }
    lines
}

/// Word-wraps styled spans to `width`, with a first-line and a hanging prefix.
pub fn wrap(
    first: Vec<Span<'static>>,
    rest: Vec<Span<'static>>,
    spans: Vec<Span<'static>>,
    width: usize,
    out: &mut Vec<Line<'static>>,
) {
    let pw = |p: &[Span<'static>]| p.iter().map(|s| s.content.width()).sum::<usize>();
    let mut cur: Vec<Span<'static>> = first.clone();
    let mut avail = width.saturating_sub(pw(&first)).max(1);
    let mut used = 0usize;
    let mut any = false;
    let mut prefix_len = first.len();
    let newline =
        |cur: &mut Vec<Span<'static>>, out: &mut Vec<Line<'static>>, prefix_len: &mut usize| {
            // The space at a break belongs to neither line.
            while cur.len() > *prefix_len {
                let last = cur.last_mut().expect("non-empty");
                let kept = last.content.trim_end_matches(' ').len();
                if kept == 0 {
                    cur.pop();
                } else {
                    if kept < last.content.len() {
                        last.content.to_mut().truncate(kept);
                    }
                    break;
                }
            }
            out.push(Line::from(std::mem::replace(cur, rest.clone())));
            *prefix_len = rest.len();
        };
    for span in spans {
        let style = span.style;
        // Words and the spaces between them, in order.
        let text = span.content.into_owned();
        let mut pieces: Vec<&str> = Vec::new();
        let mut start = 0;
        let mut in_space = None;
        for (i, ch) in text.char_indices() {
            let sp = ch == ' ';
            if in_space != Some(sp) {
                if i > start {
                    pieces.push(&text[start..i]);
                }
                start = i;
                in_space = Some(sp);
            }
        }
        if start < text.len() {
            pieces.push(&text[start..]);
        }
        for p in pieces {
            let w = p.width();
            let is_space = p.starts_with(' ');
            if used + w <= avail {
                if !(is_space && used == 0 && any) {
                    // One span per style run, not per word: a long transcript holds many lines.
                    let n = cur.len();
                    match cur.last_mut() {
                        Some(last) if n > prefix_len && last.style == style => {
                            last.content.to_mut().push_str(p)
                        }
                        _ => cur.push(Span::styled(p.to_string(), style)),
                    }
                    used += w;
                }
                continue;
            }
            if is_space {
                newline(&mut cur, out, &mut prefix_len);
                avail = width.saturating_sub(pw(&rest)).max(1);
                used = 0;
                any = true;
                continue;
            }
            if used > 0 && w <= avail.max(1) {
                newline(&mut cur, out, &mut prefix_len);
                avail = width.saturating_sub(pw(&rest)).max(1);
                used = 0;
                any = true;
            }
            // A word longer than the line: cut it.
            let mut buf = String::new();
            for ch in p.chars() {
                let cw = ch.width().unwrap_or(0);
                if used + cw > avail && used > 0 {
                    cur.push(Span::styled(std::mem::take(&mut buf), style));
                    newline(&mut cur, out, &mut prefix_len);
                    avail = width.saturating_sub(pw(&rest)).max(1);
                    used = 0;
                    any = true;
                }
                buf.push(ch);
                used += cw;
            }
            if !buf.is_empty() {
                cur.push(Span::styled(buf, style));
            }
        }
    }
    out.push(Line::from(cur));
}

/// Plain text of lines (for tests and search).
pub fn plain(lines: &[Line<'_>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme() -> Theme {
        Theme::default_dark(false)
    }

    fn render_all(seg: &mut Segmenter, code: &mut [CodeBlock], w: u16) -> Vec<String> {
        let mut sink = Sink::all();
        seg.render(w, &theme(), code, &mut sink);
        plain(&sink.out)
    }

    #[test]
    fn wraps_words_with_hanging_indent() {
        let l = render_text("- alpha beta gamma delta epsilon", 16, &theme());
        assert_eq!(
            plain(&l),
            vec!["• alpha beta", "  gamma delta", "  epsilon", ""]
        );
    }

    #[test]
    fn streaming_equals_whole() {
        let src = "# Title\n\nSome *text* here.\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\n1. one\n2. two\n\n| a | b |\n|---|--:|\n| x | 10 |\n";
        let th = theme();
        let mut whole_code = Vec::new();
        let mut whole = Segmenter::new();
        whole.push(src, &mut whole_code, &th, 0);
        whole.finish(&mut whole_code, &th, 0);
        let expect = render_all(&mut whole, &mut whole_code, 40);
        let mut code = Vec::new();
        let mut seg = Segmenter::new();
        for (i, ch) in src.char_indices() {
            seg.push(&src[i..i + ch.len_utf8()], &mut code, &th, 0);
            // Rendering mid-stream must not disturb the caches.
            let _ = render_all(&mut seg, &mut code, 40);
        }
        seg.finish(&mut code, &th, 0);
        assert_eq!(render_all(&mut seg, &mut code, 40), expect);
        assert_eq!(code.len(), 1);
        assert_eq!(code[0].source, "fn main() {\n    println!(\"hi\");\n}\n");
        assert!(code[0].complete);
        assert!(expect.contains(&"a │  b".to_string()), "{expect:#?}");
        assert!(expect.contains(&"x │ 10".to_string()), "{expect:#?}");
    }

    /// Issue 15 (18): code wraps after a space or punctuation, not inside an identifier.
    #[test]
    fn code_wraps_between_tokens() {
        let rows = |text: &str, w: usize| {
            let l = Line::raw(text.to_string());
            wrap_hard(&l, w, &|| Span::raw(""))
                .iter()
                .map(|l| {
                    l.spans
                        .iter()
                        .map(|s| s.content.as_ref())
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rows("let x = a.saturating_add(b);", 16),
            ["let x = a.", "saturating_add(", "b);"]
        );
        // No place to break: cut at the width.
        assert_eq!(rows("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(rows("short", 16), ["short"]);
        assert_eq!(rows("", 16), [""]);
        // Behind a gutter, the rows a line goes on in are marked.
        let l = Line::raw("let total = first_value.saturating_add(second);");
        let shown: Vec<String> = wrap_hard(&l, 20, &|| Span::raw("▏ "))
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(shown[0].starts_with("▏ let"), "{shown:?}");
        assert!(
            shown.len() > 1 && shown[1..].iter().all(|r| r.starts_with("┆ ")),
            "{shown:?}"
        );
    }

    /// A block measured from its text is as tall as when rendered (the two passes over a
    /// pane must agree), whatever its lines: tabs, wide characters, long lines, CRLF.
    #[test]
    fn measured_code_blocks_are_as_tall_as_rendered() {
        let th = theme();
        let src = "fn a() {\n\tlet x = 1;\r\n漢字漢字漢字漢字漢字 wide\n\n".to_string()
            + &"x".repeat(95)
            + "\n    tail";
        for width in [4u16, 10, 17, 40, 120] {
            let cuts = src.char_indices().map(|(i, _)| i).chain([src.len()]);
            for cut in cuts.step_by(7) {
                let mut cb = CodeBlock::new("rust", &th, 0);
                let k = src[..cut].rfind('\n').map_or(0, |i| i + 1);
                cb.source = src[..k].to_string();
                cb.partial = src[k..cut].to_string();
                let mut cache = None;
                render_code(&mut cb, &mut cache, width, &th);
                let c = cache.unwrap();
                assert_eq!(
                    code_height(&cb, width),
                    c.lines.len() + c.tail.len(),
                    "width {width}, cut {cut}"
                );
            }
        }
    }

    /// Issue 15 (20): the first backticks of a fence are not shown as text while the rest of
    /// its line streams in.
    #[test]
    fn a_fence_in_the_making_is_not_shown_as_text() {
        let th = theme();
        let mut code = Vec::new();
        let mut seg = Segmenter::new();
        seg.push("Here:\n\n", &mut code, &th, 0);
        for piece in ["`", "``", "`ru"] {
            seg.push(piece, &mut code, &th, 0);
            let out = render_all(&mut seg, &mut code, 40);
            assert!(out.iter().all(|l| !l.contains('`')), "{piece:?}: {out:?}");
            assert!(out.iter().any(|l| l == "Here:"), "{out:?}");
        }
        seg.push("st\nfn a() {}\n", &mut code, &th, 0);
        let out = render_all(&mut seg, &mut code, 40);
        assert!(out.contains(&"── rust ".to_string()), "{out:?}");
        // Inline code at a line's start shows as it streams.
        let mut seg = Segmenter::new();
        seg.push("`x` is", &mut code, &th, 0);
        assert_eq!(render_all(&mut seg, &mut code, 40)[0], "x is");
    }

    #[test]
    fn reply_ending_on_an_opening_fence_renders() {
        // A stream cut off right after "```rust" (no newline): the flush opens an empty block.
        let th = theme();
        let mut code = Vec::new();
        let mut seg = Segmenter::new();
        seg.push("Here:\n\n```rust", &mut code, &th, 0);
        seg.finish(&mut code, &th, 0);
        let out = render_all(&mut seg, &mut code, 40);
        assert_eq!(code.len(), 1);
        assert!(code[0].complete && code[0].source.is_empty());
        assert_eq!(out, vec!["Here:", "", "── rust ", "──", ""]);
    }

    /// The code pane, the comparison diff and the HTML export see the same blocks: one fence
    /// parser (`session::fence`); an indented closing fence inside a block is content.
    #[test]
    fn code_pane_diff_and_export_agree_on_fences() {
        let md = "Two:\n\n```rust\nfn a() {}\n    ```\nfn b() {}\n```\n\n  ~~~py\n  x = 1\n  ~~~\nafter\n";
        let th = theme();
        let mut code = Vec::new();
        let mut seg = Segmenter::new();
        // Streamed in small pieces, as an answer arrives.
        for piece in md.as_bytes().chunks(3) {
            seg.push(std::str::from_utf8(piece).unwrap(), &mut code, &th, 0);
        }
        seg.finish(&mut code, &th, 0);
        let pane: Vec<(String, String)> = code.iter().map(|b| (b.lang.clone(), b.text())).collect();
        let diff = crate::session::compare::code_blocks(md);
        assert_eq!(
            pane,
            [
                (
                    "rust".to_string(),
                    "fn a() {}\n    ```\nfn b() {}\n".to_string()
                ),
                ("py".to_string(), "x = 1\n".to_string()),
            ]
        );
        assert_eq!(pane, diff);
        let html = crate::export::markdown_html(md);
        assert_eq!(html.matches("<div class=\"code\">").count(), 2, "{html}");
        assert!(html.contains("after"), "{html}");
        assert!(
            !html.contains("<p>fn b"),
            "fn b() is code, not prose: {html}"
        );
    }

    #[test]
    fn open_fence_shows_partial_line() {
        let th = theme();
        let mut code = Vec::new();
        let mut seg = Segmenter::new();
        seg.push("```py\nprint(1)\nx = ", &mut code, &th, 0);
        let out = render_all(&mut seg, &mut code, 40);
        assert_eq!(out, vec!["── py ", "▏ print(1)", "▏ x = ", "── …", ""]);
        assert_eq!(code[0].text(), "print(1)\nx = ");
    }

    fn cached_blocks(seg: &Segmenter) -> usize {
        seg.blocks
            .iter()
            .filter(|b| match b {
                Block::Text { cache, .. } => cache.as_ref().is_some_and(|c| c.lines.is_some()),
                Block::Code { cache, .. } => cache.is_some(),
            })
            .count()
    }

    #[test]
    fn windows_match_the_whole_and_far_blocks_are_dropped() {
        let th = theme();
        let mut src = String::new();
        for i in 0..60 {
            src.push_str(&format!(
                "Paragraph {i} with *some* words that wrap around.\n\n```rust\nfn f{i}() {{}}\n```\n\n"
            ));
        }
        let mut code = Vec::new();
        let mut seg = Segmenter::new();
        seg.push(&src, &mut code, &th, 0);
        seg.finish(&mut code, &th, 0);
        let whole = render_all(&mut seg, &mut code, 30);
        assert_eq!(cached_blocks(&seg), 120);
        // A window at the bottom, then one at the top, as scrolling would ask.
        for start in [whole.len() - 20, 0, 137] {
            let mut count = Sink::count();
            seg.render(30, &th, &mut code, &mut count);
            assert_eq!(count.pos, whole.len());
            let mut sink = Sink::window(start..start + 20, 20);
            seg.render(30, &th, &mut code, &mut sink);
            assert_eq!(plain(&sink.out), whole[start..start + 20]);
            let kept = cached_blocks(&seg);
            assert!(
                (2..=20).contains(&kept),
                "{kept} blocks kept for window {start}"
            );
        }
        // A new width measures everything but keeps only what it draws.
        let mut count = Sink::count();
        seg.render(50, &th, &mut code, &mut count);
        assert_eq!(cached_blocks(&seg), 0);
        let mut sink = Sink::window(0..10, 0);
        seg.render(50, &th, &mut code, &mut sink);
        assert_eq!(plain(&sink.out), render_all(&mut seg, &mut code, 50)[..10]);
    }
}

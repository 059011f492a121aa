//! The renderer's own state: a cell per transcript entry (user message, answer, notice or
//! error, comparison summary) and per comparison column, each with its width caches, kept in
//! step with the app (`View::sync`) and never written back into it. The runtime owns one
//! `View` beside its `App`; drawing reads the app and updates only this.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use std::collections::HashMap;
use std::time::Duration;

use super::markdown::{wrap, CodeBlock, Segmenter, Sink};
use crate::app::{App, EntryKind};
use crate::session::catalog::ReasoningMode;
use crate::session::compare;
use crate::session::TurnState;
use crate::theme::Theme;

/// Wrapped reasoning text: complete lines are wrapped once; only the last line is re-wrapped.
#[derive(Default)]
pub struct ReasoningCache {
    width: u16,
    done: usize,
    /// Lines before the turn's own (an agent's earlier rounds), kept on a reset.
    base: usize,
    pub lines: Vec<Line<'static>>,
    pub tail: Vec<Line<'static>>,
}

/// One transcript entry as drawn.
struct Cell {
    /// An answer's markdown, fed as its text grows.
    seg: Segmenter,
    fed: usize,
    finished: bool,
    /// The header (fixed once the turn ended), or a notice's lines, for a width.
    header: Option<(u16, Vec<Line<'static>>)>,
    /// A finished answer's footer (notices, tools, sources, figures) for a width.
    footer: Option<(u16, Vec<Line<'static>>)>,
    /// A tool cell's header was made for this revision of it (and selection).
    rev: (u64, bool),
    /// A question's lines as typed, for a width and whether a long one is folded.
    plain: Option<(u16, bool, Vec<Line<'static>>)>,
}

/// One comparison column as drawn.
#[derive(Default)]
struct ColumnCell {
    seg: Segmenter,
    code: Vec<CodeBlock>,
    fed: usize,
    finished: bool,
    reasoning: ReasoningCache,
}

#[derive(Default)]
pub struct View {
    /// What the caches were made for: the theme, the prices, the transcript.
    key: (u64, u64, u64),
    cells: Vec<Cell>,
    /// The code blocks of the answers, in order: the same blocks as `App::code` (found by the
    /// same parser), with their highlighting.
    pub(crate) code: Vec<CodeBlock>,
    /// The shown turn's wrapped reasoning.
    reasoning: Option<(usize, ReasoningCache)>,
    columns: HashMap<(usize, usize), ColumnCell>,
    /// Where each pane that follows its tail starts (see [`Follow`]).
    follow: HashMap<FollowKey, Follow>,
    /// Lines of live figures as last drawn, and when (see [`View::steady`]).
    figures: HashMap<Figures, (Duration, Line<'static>)>,
}

/// A line of figures that change with every token while a reply streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Figures {
    Status,
    ReasoningTitle,
}

/// How often live figures are redrawn when only their digits change.
const FIGURES_EVERY: Duration = Duration::from_millis(250);

/// Whether two lines say the same but for their figures (digits and sparkline bars): the same
/// spans, styles and widths.
fn same_shape(a: &Line<'_>, b: &Line<'_>) -> bool {
    let figure = |c: char| c.is_ascii_digit() || ('▁'..='█').contains(&c);
    let same = |x: &str, y: &str| {
        x.len() == y.len()
            && x.chars()
                .zip(y.chars())
                .all(|(p, q)| p == q || (figure(p) && figure(q)))
    };
    a.style == b.style
        && a.alignment == b.alignment
        && a.spans.len() == b.spans.len()
        && a.spans
            .iter()
            .zip(&b.spans)
            .all(|(x, y)| x.style == y.style && same(&x.content, &y.content))
}

/// A pane (and what it shows) that can follow its tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FollowKey {
    Conversation,
    /// The reasoning of this turn.
    Reasoning(usize),
    /// This code block.
    Code(usize),
    /// A comparison's column.
    Column(usize, usize),
}

/// Jump scrolling: a pane that follows a growing text moves its window in jumps of half its
/// height (a third below 16 rows) once the tail passes the bottom, so the next lines appear
/// in place below. A pane scrolled by one line is repainted whole on the terminal (cells are
/// diffed, and every row changed); following a reply line by line at 250 tok/s was most of
/// the bytes sent to the terminal. The text also stays still while it is read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Follow {
    top: usize,
}

impl Follow {
    /// The first line to show of `total` in `height` rows, following the tail; in jumps
    /// while the text grows (`growing`), else with the tail on the last row.
    pub(crate) fn top(
        slot: &mut Option<Follow>,
        total: usize,
        height: usize,
        growing: bool,
    ) -> usize {
        let tail = total.saturating_sub(height);
        if !growing {
            *slot = None;
            return tail;
        }
        // Half a pane where there is room; a third keeps more in view in a small one.
        let jump = if height >= 16 { height / 2 } else { height / 3 };
        let top = match *slot {
            // The tail is in view and nothing shrank under the window: it stays.
            Some(f) if f.top <= tail + jump && f.top >= tail => f.top,
            // The tail went past the bottom: a jump that leaves `jump` rows for what comes.
            Some(f) if f.top < tail => tail + jump,
            _ => tail,
        };
        *slot = Some(Follow { top });
        top
    }
}

impl View {
    /// `line`, or the same line as drawn less than [`FIGURES_EVERY`] ago (by the app's clock,
    /// `now`) when only its figures changed since. While a reply streams (`live`) its counts
    /// and rates change with every token; redrawn that often they were a third of the bytes
    /// sent to the terminal at 250 tok/s, and no one reads a figure that changes with every
    /// frame. Once nothing streams, the line is drawn as it is (the last frame is exact).
    pub(crate) fn steady(
        &mut self,
        key: Figures,
        now: Duration,
        live: bool,
        line: Line<'static>,
    ) -> Line<'static> {
        if !live {
            self.figures.remove(&key);
            return line;
        }
        if let Some((at, old)) = self.figures.get(&key) {
            if *at <= now && now < *at + FIGURES_EVERY && same_shape(old, &line) {
                return old.clone();
            }
        }
        self.figures.insert(key, (now, line.clone()));
        line
    }

    /// The first line a pane following its tail shows, its text `growing` or not (`scrolled`:
    /// it does not follow, and starts its next follow at the tail).
    pub(crate) fn follow_top(
        &mut self,
        key: FollowKey,
        total: usize,
        height: usize,
        scrolled: bool,
        growing: bool,
    ) -> Option<usize> {
        if scrolled {
            self.follow.remove(&key);
            return None;
        }
        let mut slot = self.follow.get(&key).copied();
        let top = Follow::top(&mut slot, total, height, growing);
        if slot != self.follow.get(&key).copied() {
            // One per pane: another turn's reasoning or another block starts at its tail.
            let kind = std::mem::discriminant(&key);
            self.follow.retain(|k, _| {
                std::mem::discriminant(k) != kind || matches!(k, FollowKey::Column(..))
            });
            if let Some(f) = slot {
                self.follow.insert(key, f);
            }
        }
        Some(top)
    }

    pub fn new() -> View {
        View::default()
    }

    /// Brings the cells up to the app: new entries, new text, ended answers; everything anew
    /// after a theme change or a new transcript, the footers after new prices.
    pub fn sync(&mut self, app: &App) {
        let key = (app.theme_gen, app.catalog_gen, app.transcript_gen);
        if key.0 != self.key.0 || key.2 != self.key.2 {
            *self = View {
                key,
                ..View::default()
            };
        } else if key.1 != self.key.1 {
            self.key = key;
            for c in &mut self.cells {
                c.footer = None;
            }
        }
        let th = &app.theme;
        self.cells.truncate(app.entries.len());
        for (i, e) in app.entries.iter().enumerate() {
            if self.cells.len() <= i {
                let mut cell = Cell {
                    seg: Segmenter::new(),
                    fed: 0,
                    finished: false,
                    header: None,
                    footer: None,
                    rev: (0, false),
                    plain: None,
                };
                if e.kind == EntryKind::User {
                    // A question is shown as typed (`user_lines`), not as markdown.
                    cell.finished = true;
                }
                self.cells.push(cell);
            }
            let EntryKind::Assistant(t) = e.kind else {
                continue;
            };
            let Some(tv) = app.turns.get(t) else { continue };
            let cell = &mut self.cells[i];
            let text = &tv.turn.content;
            if text.len() < cell.fed || !text.is_char_boundary(cell.fed) {
                // The text was replaced (a session loaded over it): start over.
                *self = View {
                    key,
                    ..View::default()
                };
                return self.sync(app);
            }
            if text.len() > cell.fed {
                cell.seg.push(&text[cell.fed..], &mut self.code, th, i);
                cell.fed = text.len();
            }
            if tv.turn.is_finished() && !cell.finished {
                cell.seg.finish(&mut self.code, th, i);
                cell.finished = true;
                cell.header = None;
            }
        }
        for (cmp, cv) in app.comparisons.iter().enumerate() {
            for (col, c) in cv.cols.iter().enumerate() {
                let cell = self.columns.entry((cmp, col)).or_default();
                let text = &c.col.turn.content;
                if text.len() < cell.fed {
                    *cell = ColumnCell::default();
                }
                if text.len() > cell.fed {
                    cell.seg
                        .push(&text[cell.fed..], &mut cell.code, th, usize::MAX);
                    cell.fed = text.len();
                }
                if c.col.turn.is_finished() && !cell.finished {
                    cell.seg.finish(&mut cell.code, th, usize::MAX);
                    cell.finished = true;
                }
            }
        }
    }

    /// Code blocks of comparison `cmp`'s column `col`, as drawn.
    pub fn column_code(&self, cmp: usize, col: usize) -> &[CodeBlock] {
        self.columns
            .get(&(cmp, col))
            .map(|c| c.code.as_slice())
            .unwrap_or_default()
    }

    /// Sends the conversation's lines, in order, to `sink` (see `Sink` for the two passes).
    pub fn conversation_runs(&mut self, app: &App, width: u16, sink: &mut Sink) {
        let th = &app.theme;
        for i in 0..app.entries.len().min(self.cells.len()) {
            sink.mark();
            let kind = app.entries[i].kind;
            // A cached header is passed by reference: an idle frame over a long transcript
            // copies nothing.
            // A tool cell's is current only for its revision (it changes as the call runs).
            let current = match kind {
                EntryKind::Tool(t) => app
                    .tools
                    .get(t)
                    .is_some_and(|tv| self.cells[i].rev == (tv.rev, app.tool_marked(t))),
                _ => true,
            };
            match &self.cells[i].header {
                Some((w, lines))
                    if current
                        && (*w == width
                            || matches!(kind, EntryKind::User | EntryKind::Assistant(_))) =>
                {
                    sink.lines(lines)
                }
                _ => {
                    let header = self.entry_header(app, i, width, th);
                    sink.lines(&header);
                }
            }
            match kind {
                EntryKind::User => {
                    let c = &mut self.cells[i];
                    let open = app.expand_prompts;
                    if !matches!(&c.plain, Some((w, o, _)) if *w == width && *o == open) {
                        let lines = user_lines(&app.entries[i].text, width, open, th);
                        c.plain = Some((width, open, lines));
                    }
                    if let Some((_, _, lines)) = &c.plain {
                        sink.lines(lines);
                    }
                }
                EntryKind::Assistant(_) => {
                    let c = &mut self.cells[i];
                    c.seg.render(width, th, &mut self.code, sink);
                }
                EntryKind::Notice
                | EntryKind::Error
                | EntryKind::Compare(_)
                | EntryKind::Tool(_) => {}
            }
            if let EntryKind::Assistant(t) = kind {
                if app.turns[t].turn.is_finished() {
                    if !matches!(&self.cells[i].footer, Some((w, _)) if *w == width) {
                        let f = turn_footer(app, t, width, th);
                        self.cells[i].footer = Some((width, f));
                    }
                    if let Some((_, f)) = &self.cells[i].footer {
                        sink.lines(f);
                    }
                } else {
                    sink.lines(&turn_footer(app, t, width, th));
                }
            }
        }
    }

    fn entry_header(&mut self, app: &App, i: usize, width: u16, th: &Theme) -> Vec<Line<'static>> {
        let e = &app.entries[i];
        let cell = &mut self.cells[i];
        // A finished turn's header is fixed: built once (a long transcript draws many).
        if let (EntryKind::User | EntryKind::Assistant(_), Some((_, lines))) =
            (e.kind, &cell.header)
        {
            return lines.clone();
        }
        match e.kind {
            EntryKind::Compare(c) => compare_entry_lines(app, c, width),
            EntryKind::Tool(t) => {
                let Some(tv) = app.tools.get(t) else {
                    return vec![];
                };
                let selected = app.tool_marked(t);
                let key = (tv.rev, selected);
                if let Some((w, lines)) = &cell.header {
                    if *w == width && cell.rev == key {
                        return lines.clone();
                    }
                }
                let lines = tool_lines(tv, selected, width, th);
                cell.header = Some((width, lines.clone()));
                cell.rev = key;
                lines
            }
            EntryKind::User => {
                let lines = vec![Line::from(Span::styled(
                    "▌ You",
                    th.fg(th.user).add_modifier(Modifier::BOLD),
                ))];
                cell.header = Some((width, lines.clone()));
                lines
            }
            EntryKind::Assistant(t) => {
                let tv = &app.turns[t];
                let mut spans = vec![Span::styled(
                    format!("▌ {}", tv.turn.model()),
                    th.fg(th.assistant).add_modifier(Modifier::BOLD),
                )];
                if tv.turn.model_differs() {
                    spans.push(Span::styled(
                        format!(" (asked {})", tv.turn.asked_model),
                        th.warning(),
                    ));
                }
                if !tv.turn.is_finished() && tv.turn.content.is_empty() {
                    let what = match tv.turn.state {
                        TurnState::Connecting => " connecting…",
                        _ => " thinking…",
                    };
                    spans.push(Span::styled(what, th.muted()));
                }
                let lines = vec![Line::from(spans)];
                if tv.turn.is_finished() {
                    cell.header = Some((width, lines.clone()));
                }
                lines
            }
            EntryKind::Notice | EntryKind::Error => {
                if let Some((w, lines)) = &cell.header {
                    if *w == width {
                        return lines.clone();
                    }
                }
                let (mark, style) = if e.kind == EntryKind::Error {
                    ("✗ ", th.error())
                } else {
                    ("ℹ ", th.warning())
                };
                let mut out = Vec::new();
                for (n, para) in e.text.split('\n').enumerate() {
                    let first = if n == 0 { mark } else { "  " };
                    wrap(
                        vec![Span::styled(first, style)],
                        vec![Span::raw("  ")],
                        vec![Span::styled(para.to_string(), style)],
                        width as usize,
                        &mut out,
                    );
                }
                out.push(Line::default());
                cell.header = Some((width, out.clone()));
                out
            }
        }
    }

    /// Wrapped reasoning of turn `t` for `width`: complete lines cached, the last re-wrapped.
    /// Only the shown turn's trace stays wrapped; another is re-wrapped when browsed to.
    pub fn reasoning_lines(
        &mut self,
        app: &App,
        t: usize,
        width: u16,
    ) -> (&[Line<'static>], &[Line<'static>]) {
        let th = &app.theme;
        let style = th.fg(th.reasoning).add_modifier(Modifier::ITALIC);
        if self
            .reasoning
            .as_ref()
            .is_none_or(|(k, rc)| *k != t || rc.width != width)
        {
            // An agent's earlier rounds first (finished: wrapped once), each under a rule.
            let mut rc = ReasoningCache {
                width,
                ..Default::default()
            };
            let rule = |round: usize| {
                Line::from(Span::styled(
                    format!("── round {} ──", round + 1),
                    th.muted(),
                ))
            };
            let earlier = app.earlier_rounds(t);
            for &k in &earlier {
                rc.lines.push(rule(app.turns[k].round));
                let mut one = ReasoningCache::default();
                wrap_reasoning(&mut one, &app.turns[k].turn.reasoning, width, style);
                rc.lines.extend(one.lines);
                rc.lines.extend(one.tail);
            }
            if !earlier.is_empty() {
                rc.lines.push(rule(app.turns[t].round));
            }
            rc.base = rc.lines.len();
            self.reasoning = Some((t, rc));
        }
        let (_, rc) = self.reasoning.as_mut().expect("set above");
        wrap_reasoning(rc, &app.turns[t].turn.reasoning, width, style);
        (&rc.lines, &rc.tail)
    }

    /// The lines of one column, in order, to `sink`: reasoning (or a line about it), the
    /// answer, then notices, errors and tool calls.
    pub fn column_lines(&mut self, app: &App, cmp: usize, col: usize, width: u16, sink: &mut Sink) {
        let th = &app.theme;
        let cv = &app.comparisons[cmp];
        let show = cv.show_reasoning;
        let c = &cv.cols[col];
        let cell = self.columns.entry((cmp, col)).or_default();
        let r = c.col.report(col, cv.now, &app.catalog);
        let muted = th.muted();
        let rstyle = th.fg(th.reasoning).add_modifier(Modifier::ITALIC);
        let mut head: Vec<Line<'static>> = Vec::new();
        let t = &c.col.turn;
        let approx = if r.report.tokens_estimated { "~" } else { "" };
        if c.col.queued() {
            head.push(Line::from(Span::styled(
                format!(
                    "queued: waiting for a free slot at {} (max_concurrent {})",
                    c.col.provider,
                    app.provider_info
                        .get(&c.col.provider)
                        .map(|i| i.max_concurrent)
                        .unwrap_or(1)
                ),
                th.warning(),
            )));
        } else if !t.reasoning.is_empty() {
            let mark = if show { "▾" } else { "▸" };
            let secs = r
                .report
                .reasoning_ms
                .map(|m| format!(" · {:.1}s", m as f64 / 1000.0))
                .unwrap_or_default();
            head.push(Line::from(Span::styled(
                format!(
                    "{mark} reasoning · {approx}{} tok{secs}{}",
                    r.report.reasoning_tokens,
                    if show { "" } else { " (r shows)" }
                ),
                th.fg(th.reasoning).add_modifier(Modifier::BOLD),
            )));
        } else if r.report.reasoning_tokens > 0 && t.usage.is_some() {
            head.push(Line::from(Span::styled(
                format!(
                    "▸ hidden reasoning · {} tok billed, not sent",
                    r.report.reasoning_tokens
                ),
                rstyle,
            )));
        } else if !t.is_finished() && t.content.is_empty() {
            let what = match (t.state, c.reasoning_mode) {
                (TurnState::Connecting, _) => "connecting…",
                (_, ReasoningMode::Hidden) => "thinking (it does not stream its reasoning)…",
                _ => "waiting for the first token…",
            };
            head.push(Line::from(Span::styled(what, muted)));
        }
        sink.lines(&head);
        if show && !t.reasoning.is_empty() {
            wrap_reasoning(&mut cell.reasoning, &t.reasoning, width, rstyle);
            sink.lines(&cell.reasoning.lines);
            sink.lines(&cell.reasoning.tail);
            sink.lines(&[Line::default()]);
        } else if !head.is_empty() && !t.content.is_empty() {
            sink.lines(&[Line::default()]);
        }
        cell.seg.render(width, th, &mut cell.code, sink);
        let mut foot: Vec<Line<'static>> = Vec::new();
        let mut add = |mark: &str, text: String, style| marked(&mut foot, width, mark, text, style);
        for n in &t.notices {
            add("ℹ ", n.clone(), th.warning());
        }
        for tc in &t.tool_calls {
            add(
                "⚙ ",
                format!("tool call {}({})", tc.function.name, tc.function.arguments),
                th.fg(th.accent),
            );
        }
        if let Some(e) = &t.error {
            add("✗ ", format!("{}: {e}", c.col.provider), th.error());
            if !t.content.is_empty() || !t.reasoning.is_empty() {
                add("  ", "partial answer kept".into(), muted);
            }
        }
        if t.state == TurnState::Cancelled {
            add("■ ", "cancelled — partial answer kept".into(), th.warning());
        }
        if t.state == TurnState::Done && t.content.is_empty() && t.tool_calls.is_empty() {
            let reason = t.finish_reason.clone().unwrap_or_else(|| "none".into());
            add(
                "ℹ ",
                format!("no answer text (finish reason: {reason})"),
                th.warning(),
            );
        }
        if !foot.is_empty() {
            sink.lines(&[Line::default()]);
            sink.lines(&foot);
        }
    }
}

/// `text` wrapped to `width` after `mark`, its further lines indented: a footer line.
fn marked(
    out: &mut Vec<Line<'static>>,
    width: u16,
    mark: &str,
    text: String,
    style: ratatui::style::Style,
) {
    wrap(
        vec![Span::styled(mark.to_string(), style)],
        vec![Span::raw("  ")],
        vec![Span::styled(text, style)],
        width as usize,
        out,
    );
}

/// A turn's footer: notices, server tools, sources, errors, tool calls, and its figures once
/// it ended.
fn turn_footer(app: &App, t: usize, width: u16, th: &Theme) -> Vec<Line<'static>> {
    let tv = &app.turns[t];
    let mut out = Vec::new();
    let mut add = |mark: &str, text: String, style| marked(&mut out, width, mark, text, style);
    for n in &tv.turn.notices {
        add("ℹ ", n.clone(), th.warning());
    }
    for st in &tv.turn.server_tools {
        add(
            "⚙ ",
            crate::session::report::server_tool_line(st),
            th.muted(),
        );
    }
    for (i, c) in tv.turn.citations.iter().enumerate() {
        add(
            "  ",
            crate::session::report::citation_line(i, c),
            th.fg(th.accent),
        );
    }
    if let Some(d) = &tv.turn.doom_loop {
        add(
            "⚠ ",
            format!("the provider's loop check fired: {d}"),
            th.warning(),
        );
    }
    if let Some(e) = &tv.turn.error {
        add("✗ ", format!("{}: {e}", tv.provider), th.error());
        if let Some(kept) = tv.turn.kept() {
            add("  ", kept.into(), th.muted());
        }
    }
    if tv.turn.state == TurnState::Cancelled {
        let kept = tv.turn.kept().unwrap_or("nothing had arrived");
        add("■ ", format!("cancelled — {kept}"), th.warning());
    }
    if tv.turn.state == TurnState::Done
        && tv.turn.content.is_empty()
        && tv.turn.tool_calls.is_empty()
    {
        let reason = tv
            .turn
            .finish_reason
            .clone()
            .unwrap_or_else(|| "none".into());
        add(
            "ℹ ",
            format!("no answer text (finish reason: {reason})"),
            th.warning(),
        );
    }
    // In agent mode each call has a cell of its own.
    for c in tv
        .turn
        .tool_calls
        .iter()
        .filter(|c| !app.agent_on() && !app.tools.iter().any(|t| t.call_id == c.id))
    {
        add(
            "⚙ ",
            format!("tool call {}({})", c.function.name, c.function.arguments),
            th.fg(th.accent),
        );
    }
    if tv.turn.is_finished() {
        // Per-turn stats: timing, tokens, cost, cache savings.
        let line = app.report(tv).summary_line();
        add("· ", line, th.muted());
    }
    if !out.is_empty() {
        out.push(Line::default());
    }
    out
}

/// The transcript's summary of comparison `cmp`.
fn compare_entry_lines(app: &App, cmp: usize, width: u16) -> Vec<Line<'static>> {
    let th = &app.theme;
    let cv = &app.comparisons[cmp];
    let reports = cv.reports(&app.catalog);
    let mut out = vec![Line::from(vec![
        Span::styled(
            "▌ Comparison",
            th.fg(th.assistant).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                " · {} models{}",
                cv.cols.len(),
                if cv.running() { " · running" } else { "" }
            ),
            th.muted(),
        ),
    ])];
    let mut add = |first: Vec<Span<'static>>, text: String, style| {
        wrap(
            first,
            vec![Span::raw("    ")],
            vec![Span::styled(text, style)],
            width as usize,
            &mut out,
        );
    };
    for (i, r) in reports.iter().enumerate() {
        let adopted = cv.adopted == Some(i);
        let mark = if adopted { "✓ " } else { "  " };
        let style = if adopted {
            th.fg(th.accent).add_modifier(Modifier::BOLD)
        } else {
            ratatui::style::Style::default()
        };
        add(
            vec![Span::styled(
                format!("{mark}{} ", compare::letter(i)),
                style,
            )],
            r.report.summary_line(),
            if adopted { style } else { th.muted() },
        );
    }
    let items = compare::winners(&reports).items();
    if !cv.running() && !items.is_empty() {
        let text = items
            .iter()
            .map(|(what, col, fig)| format!("{what}: {} ({fig})", compare::letter(*col)))
            .collect::<Vec<_>>()
            .join(" · ");
        add(vec![Span::raw("  ")], text, th.fg(th.user));
    }
    if cv.adopted.is_none() && !cv.running() {
        add(
            vec![Span::raw("  ")],
            "not adopted: /compare shows it, a adopts an answer".into(),
            th.muted(),
        );
    }
    out.push(Line::default());
    out
}

/// Wraps reasoning `text` into `rc` for `width`: complete lines once, the last line anew.
pub fn wrap_reasoning(
    rc: &mut ReasoningCache,
    text: &str,
    width: u16,
    style: ratatui::style::Style,
) {
    if rc.width != width || rc.done > text.len() {
        let keep = if rc.width == width { rc.base } else { 0 };
        rc.lines.truncate(keep);
        rc.base = keep;
        rc.width = width;
        rc.done = 0;
    }
    if let Some(last_nl) = text[rc.done..].rfind('\n') {
        let end = rc.done + last_nl;
        for line in text[rc.done..end].split('\n') {
            wrap(
                vec![],
                vec![],
                vec![Span::styled(line.to_string(), style)],
                width as usize,
                &mut rc.lines,
            );
        }
        rc.done = end + 1;
    }
    rc.tail.clear();
    let rest = &text[rc.done..];
    if !rest.is_empty() {
        wrap(
            vec![],
            vec![],
            vec![Span::styled(rest.to_string(), style)],
            width as usize,
            &mut rc.tail,
        );
    }
}

/// A question longer than this many lines is folded to its first `PROMPT_SHOWN` (Ctrl+O
/// opens it).
const PROMPT_FOLD: usize = 12;
const PROMPT_SHOWN: usize = 8;

/// A question as typed: its own line breaks and indentation, a long line wrapped after its
/// last space that fits, as the message box wraps it (never reflowed, no markdown), a long
/// question folded.
fn user_lines(text: &str, width: u16, open: bool, th: &Theme) -> Vec<Line<'static>> {
    let w = (width as usize).max(4);
    let src: Vec<&str> = text.trim_end_matches(['\n', '\r']).split('\n').collect();
    let fold = !open && src.len() > PROMPT_FOLD;
    let shown = if fold { PROMPT_SHOWN } else { src.len() };
    let lines: Vec<String> = src[..shown]
        .iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).replace('\t', "    "))
        .collect();
    let chars: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let mut out: Vec<Line<'static>> = crate::app::layout::input_rows(&lines, w)
        .into_iter()
        .map(|r| {
            let row: String = chars[r.line][r.start..r.end].iter().collect();
            Line::from(Span::raw(row))
        })
        .collect();
    if fold {
        out.push(Line::from(Span::styled(
            format!("… {} more lines (Ctrl+O shows them)", src.len() - shown),
            th.muted(),
        )));
    }
    out.push(Line::default());
    out
}

/// Most lines of a tool call's output an open cell shows.
const TOOL_SHOWN: usize = 400;

/// A tool call's cell: one line collapsed (`⚙ edit src/calc.py +1 −1 ✓`), the diff or the
/// output below it when open, a running command's last lines while it runs.
fn tool_lines(
    tv: &crate::app::agent::ToolView,
    selected: bool,
    width: u16,
    th: &Theme,
) -> Vec<Line<'static>> {
    use crate::app::agent::ToolState;
    use crate::session::store::ToolStatus;
    let w = width as usize;
    let mut title_style = th.fg(th.accent);
    if selected {
        title_style = title_style.add_modifier(Modifier::REVERSED);
    }
    let (tail, tail_style) = match &tv.state {
        ToolState::Asking => ("waiting for your answer".to_string(), th.warning()),
        ToolState::Running => ("running…".to_string(), th.muted()),
        ToolState::Done(st) => {
            let mark = match st {
                ToolStatus::Ok => "✓",
                ToolStatus::Denied => "denied",
                ToolStatus::Cancelled => "cancelled",
                ToolStatus::NotRun => "not run",
                ToolStatus::Failed | ToolStatus::Error => "✗",
            };
            let style = match st {
                ToolStatus::Ok => th.fg(th.user),
                ToolStatus::Failed | ToolStatus::Error => th.error(),
                _ => th.warning(),
            };
            let summary = if *st == ToolStatus::Ok || *st == ToolStatus::Failed {
                format!("{} {mark}", tv.summary)
            } else if tv.summary.is_empty() {
                mark.to_string()
            } else {
                format!("{mark}: {}", tv.summary)
            };
            (summary, style)
        }
    };
    let mut spans = vec![
        Span::styled(format!("⚙ {}", tv.title.replace('\n', " ")), title_style),
        Span::raw(" "),
        Span::styled(tail, tail_style),
    ];
    if let (ToolState::Done(_), Some(by)) = (&tv.state, &tv.by) {
        spans.push(Span::styled(format!(" · {by}"), th.muted()));
    }
    let open = tv.expanded && !matches!(tv.state, ToolState::Running);
    let has_more = tv.diff.is_some() || !tv.output.is_empty();
    if selected && has_more {
        spans.push(Span::styled(
            if open {
                "  (Enter closes)"
            } else {
                "  (Enter opens)"
            },
            th.muted(),
        ));
    }
    let mut out = Vec::new();
    wrap(vec![], vec![Span::raw("  ")], spans, w, &mut out);
    let clip = |l: &str| -> String {
        let l = l.replace('\t', "    ");
        match l.char_indices().nth(w.saturating_sub(5).max(8)) {
            Some((i, _)) => format!("{}…", &l[..i]),
            None => l,
        }
    };
    let bar = th.muted();
    match &tv.state {
        ToolState::Running => {
            let n = tv.live.len();
            for l in tv.live.iter().skip(n.saturating_sub(3)) {
                out.push(Line::from(vec![
                    Span::styled("  │ ", bar),
                    Span::styled(clip(l), th.muted()),
                ]));
            }
        }
        _ if open => {
            let text = tv.diff.as_deref().unwrap_or(&tv.output);
            let total = text.lines().count();
            for l in text.lines().take(TOOL_SHOWN) {
                let style = if tv.diff.is_some() {
                    super::compare::diff_style(th, l)
                } else {
                    ratatui::style::Style::default()
                };
                out.push(Line::from(vec![
                    Span::styled("  │ ", bar),
                    Span::styled(clip(l), style),
                ]));
            }
            if total > TOOL_SHOWN {
                out.push(Line::from(Span::styled(
                    format!("  │ … {} more lines", total - TOOL_SHOWN),
                    th.muted(),
                )));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{StreamEvent, TimedEvent};
    use crossterm::event::{KeyCode, KeyEvent};

    /// Following a growing text: the window stays while the tail is in view, then moves by
    /// half its height; once the text stops growing, the tail is on the last row.
    #[test]
    fn a_growing_text_is_followed_in_jumps() {
        let mut slot = None;
        let h = 12;
        // Fits: from the top.
        assert_eq!(Follow::top(&mut slot, 4, h, true), 0);
        assert_eq!(Follow::top(&mut slot, 12, h, true), 0);
        // One line past the bottom: a jump of 4 (the tail at row 9 of 12).
        assert_eq!(Follow::top(&mut slot, 13, h, true), 5);
        // The next lines appear in place.
        for total in 14..=17 {
            assert_eq!(Follow::top(&mut slot, total, h, true), 5);
        }
        assert_eq!(Follow::top(&mut slot, 18, h, true), 10);
        // Many lines at once: the tail is still in view.
        assert_eq!(Follow::top(&mut slot, 40, h, true), 32);
        // Fewer lines than before (a new width): the tail at the bottom again.
        assert_eq!(Follow::top(&mut slot, 20, h, true), 8);
        // Done: the tail on the last row.
        assert_eq!(Follow::top(&mut slot, 21, h, false), 9);
        assert_eq!(slot, None);
        // Small panes scroll by the line.
        let mut small = None;
        assert_eq!(Follow::top(&mut small, 2, 2, true), 0);
        assert_eq!(Follow::top(&mut small, 3, 2, true), 1);
        assert_eq!(Follow::top(&mut small, 4, 2, true), 2);
    }

    /// Live figures are redrawn 4 times a second when only their digits change, at once when
    /// anything else does, and exactly once nothing streams.
    #[test]
    fn live_figures_are_steady() {
        let mut v = View::new();
        let ms = Duration::from_millis;
        let l = |s: &str| Line::from(Span::raw(s.to_string()));
        let shown = |v: &mut View, at, live, s: &str| {
            v.steady(Figures::Status, ms(at), live, l(s)).spans[0]
                .content
                .to_string()
        };
        assert_eq!(shown(&mut v, 1000, true, "12 tok/s ▂▅"), "12 tok/s ▂▅");
        assert_eq!(shown(&mut v, 1100, true, "13 tok/s ▃▆"), "12 tok/s ▂▅");
        assert_eq!(shown(&mut v, 1250, true, "14 tok/s ▃▆"), "14 tok/s ▃▆");
        // Another word, or another width: at once.
        assert_eq!(
            shown(&mut v, 1300, true, "no data for 1 s"),
            "no data for 1 s"
        );
        assert_eq!(shown(&mut v, 1310, true, "140 tok/s ▃▆"), "140 tok/s ▃▆");
        // The clock went back (a new turn): at once.
        assert_eq!(shown(&mut v, 10, true, "150 tok/s ▃▆"), "150 tok/s ▃▆");
        // Nothing streams: exact.
        assert_eq!(shown(&mut v, 20, false, "151 tok/s ▃▆"), "151 tok/s ▃▆");
    }

    /// The code pane lists the app's blocks and draws the view's: both are found by the same
    /// parser, so they are the same blocks, in the same order, streaming or not.
    #[test]
    fn the_views_code_blocks_are_the_apps() {
        let mut a = App::new(crate::testing::app_init(false));
        let mut v = View::new();
        let answer = "One:\n```rust\nfn a() {}\n```\nTwo:\n~~~py\nx = 1\n    ~~~\ny = 2\n";
        for (k, q) in ["first", "second"].iter().enumerate() {
            a.input.insert_str(*q);
            a.on_key(KeyEvent::from(KeyCode::Enter));
            for (i, piece) in answer.as_bytes().chunks(5).enumerate() {
                a.on_stream(
                    k,
                    TimedEvent {
                        at: std::time::Duration::from_millis(i as u64),
                        event: StreamEvent::Content(std::str::from_utf8(piece).unwrap().into()),
                    },
                );
                v.sync(&a);
                assert_eq!(v.code.len(), a.code.len(), "while streaming");
            }
            a.on_stream(
                k,
                TimedEvent {
                    at: std::time::Duration::from_millis(99),
                    event: StreamEvent::Finished {
                        reason: Some("stop".into()),
                    },
                },
            );
        }
        v.sync(&a);
        let shown: Vec<(String, String, bool)> = v
            .code
            .iter()
            .map(|b| (b.lang.clone(), b.text(), b.complete))
            .collect();
        let data: Vec<(String, String, bool)> = a
            .code
            .iter()
            .map(|b| (b.lang.clone(), b.text(), b.complete))
            .collect();
        assert_eq!(shown, data);
        assert_eq!(data.len(), 4);
        assert_eq!(
            data[1].1, "x = 1\n    ~~~\ny = 2\n",
            "an indented fence is content"
        );
    }
}

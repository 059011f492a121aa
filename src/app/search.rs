//! Search across the whole session: the answers (as rendered in the conversation) and every
//! turn's reasoning, and every comparison column (reasoning and answer). Matches are ordered
//! by turn, answer before reasoning, a comparison where it stands in the transcript; `n`/`N`
//! step through them, scrolling the pane (or column) that holds the match and showing that
//! turn's reasoning beside its answer.

use ratatui::text::Line;

use super::{App, EntryKind, Pane};
use crate::ui::markdown::{plain, Sink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A line of the conversation, in turn `turn` (None: before any answer).
    Conversation { line: usize, turn: Option<usize> },
    /// A line of turn `turn`'s wrapped reasoning.
    Reasoning { turn: usize, line: usize },
    /// A line of column `col` of comparison `cmp` (its reasoning, then its answer).
    Column { cmp: usize, col: usize, line: usize },
}

#[derive(Debug, Default)]
pub struct Search {
    pub query: String,
    pub hits: Vec<Hit>,
    pub current: usize,
}

/// Text widths of the conversation and reasoning panes as last drawn (border and margin off).
fn text_size(r: ratatui::layout::Rect) -> (u16, usize) {
    (
        r.width.saturating_sub(3),
        r.height.saturating_sub(2) as usize,
    )
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_ascii_lowercase().contains(needle_lower)
}

impl App {
    pub fn open_search(&mut self) {
        let query = self
            .search
            .as_ref()
            .map(|s| s.query.clone())
            .unwrap_or_default();
        self.search = Some(Search {
            query,
            ..Default::default()
        });
        self.open_modal(super::modal::Modal::Search);
    }

    /// Finds every match of the query; jumps to the first one.
    pub fn run_search(&mut self) {
        let Some(q) = self
            .search
            .as_ref()
            .map(|s| s.query.trim().to_ascii_lowercase())
        else {
            return;
        };
        if q.is_empty() {
            self.search = None;
            self.close_modals(|m| matches!(m, super::modal::Modal::Search));
            return;
        }
        let (cw, _) = text_size(self.areas().conversation);
        let cw = if cw < 4 { 80 } else { cw };
        // Every conversation line, with where each entry starts.
        let mut sink = Sink::all();
        self.conversation_runs(cw, &mut sink);
        let lines = plain(&sink.out);
        let marks = sink.marks.clone();
        let turn_at = |line: usize| -> Option<usize> {
            let e = marks.iter().rposition(|m| *m <= line)?;
            // A question belongs to the answer that follows it.
            self.entries[e..].iter().find_map(|en| match en.kind {
                EntryKind::Assistant(t) => Some(t),
                _ => None,
            })
        };
        let mut hits: Vec<Hit> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| contains_ci(l, &q))
            .map(|(line, _)| Hit::Conversation {
                line,
                turn: turn_at(line),
            })
            .collect();
        let (rw, _) = text_size(self.areas().reasoning);
        let rw = if rw < 4 { 60 } else { rw };
        for t in 0..self.turns.len() {
            if !contains_ci(&self.turns[t].turn.reasoning, &q) {
                continue;
            }
            let (done, tail) = self.reasoning_lines(t, rw);
            let all: Vec<Line<'static>> = done.iter().chain(tail).cloned().collect();
            for (line, text) in plain(&all).iter().enumerate() {
                if contains_ci(text, &q) {
                    hits.push(Hit::Reasoning { turn: t, line });
                }
            }
        }
        // A comparison sorts after the turns before it in the transcript.
        let turns_before: Vec<usize> = self
            .comparisons
            .iter()
            .map(|cv| {
                self.entries[..cv.entry]
                    .iter()
                    .filter(|e| matches!(e.kind, EntryKind::Assistant(_)))
                    .count()
            })
            .collect();
        for cmp in 0..self.comparisons.len() {
            for col in 0..self.comparisons[cmp].cols.len() {
                let (w, _) = self.column_size(cmp, col);
                let mut sink = Sink::all();
                self.column_lines(cmp, col, w, &mut sink);
                for (line, text) in plain(&sink.out).iter().enumerate() {
                    if contains_ci(text, &q) {
                        hits.push(Hit::Column { cmp, col, line });
                    }
                }
            }
        }
        let key = |h: &Hit| match *h {
            Hit::Conversation { line, turn } => (turn.map_or(0, |t| t + 1), 0, line),
            Hit::Reasoning { turn, line } => (turn + 1, 1, line),
            Hit::Column { cmp, col, line } => (turns_before[cmp], 2 + col, line),
        };
        hits.sort_by_key(key);
        let n = hits.len();
        if let Some(s) = self.search.as_mut() {
            s.hits = hits;
            s.current = 0;
        }
        self.close_modals(|m| matches!(m, super::modal::Modal::Search));
        if n == 0 {
            self.flash = Some(format!("no match for “{q}”"));
        } else {
            self.goto_hit(0);
        }
    }

    /// Steps to the next (`+1`) or previous (`-1`) match.
    pub fn step_search(&mut self, dir: i64) {
        let Some(s) = self.search.as_ref() else {
            return;
        };
        let n = s.hits.len();
        if n == 0 {
            return;
        }
        let i = (s.current as i64 + dir).rem_euclid(n as i64) as usize;
        self.goto_hit(i);
    }

    fn goto_hit(&mut self, i: usize) {
        let Some(s) = self.search.as_mut() else {
            return;
        };
        s.current = i;
        let hit = s.hits[i];
        let n = s.hits.len();
        let gone = match hit {
            Hit::Column { cmp, col, .. } => self
                .comparisons
                .get(cmp)
                .is_none_or(|cv| col >= cv.cols.len()),
            Hit::Reasoning { turn, .. } => turn >= self.turns.len(),
            Hit::Conversation { .. } => false,
        };
        if gone {
            self.search = None;
            self.flash = Some("the transcript changed: search again (/)".into());
            return;
        }
        if !matches!(hit, Hit::Column { .. }) {
            self.compare_shown = None;
        }
        match hit {
            Hit::Column { cmp, col, line } => {
                let (w, h) = self.column_size(cmp, col);
                let mut count = Sink::count();
                self.column_lines(cmp, col, w, &mut count);
                self.compare_shown = Some(cmp);
                self.focus = Pane::Compare;
                let cv = &mut self.comparisons[cmp];
                cv.focus = col;
                self.close_diff();
                let cv = &mut self.comparisons[cmp];
                cv.cols[col].scroll = count.pos.saturating_sub(line + h.max(1) / 2 + 1);
            }
            Hit::Conversation { line, turn } => {
                let (cw, ch) = text_size(self.areas().conversation);
                let mut count = Sink::count();
                self.conversation_runs(if cw < 4 { 80 } else { cw }, &mut count);
                self.conv_scroll = count.pos.saturating_sub(line + ch.max(1) / 2 + 1);
                self.focus = Pane::Conversation;
                if let Some(t) = turn {
                    self.reasoning_turn = Some(t);
                    self.reasoning_scroll = 0;
                }
            }
            Hit::Reasoning { turn, line } => {
                let (rw, rh) = text_size(self.areas().reasoning);
                self.reasoning_turn = Some(turn);
                let (done, tail) = self.reasoning_lines(turn, if rw < 4 { 60 } else { rw });
                let total = done.len() + tail.len();
                self.reasoning_scroll = total.saturating_sub(line + rh.max(1) / 2 + 1);
                self.focus = Pane::Reasoning;
            }
        }
        let q = self
            .search
            .as_ref()
            .map(|s| s.query.clone())
            .unwrap_or_default();
        self.flash = Some(format!(
            "“{q}”: match {}/{n} · n next · N previous · Esc clears",
            i + 1
        ));
    }

    /// Text width and height of column `col` of comparison `cmp` as last drawn (or as it
    /// would be drawn in the panes' place).
    fn column_size(&self, cmp: usize, col: usize) -> (u16, usize) {
        match self.areas().columns.get(col) {
            // Border, left margin, right margin; border and two figure lines.
            Some(r) if self.compare_shown == Some(cmp) => (
                r.width.saturating_sub(4).max(10),
                r.height.saturating_sub(4) as usize,
            ),
            _ => {
                let n = self.comparisons[cmp].cols.len().max(1) as u16;
                let main = {
                    let a = self.areas();
                    a.conversation.union(a.reasoning)
                };
                let w = if main.width > 0 { main.width } else { 160 };
                ((w / n).saturating_sub(4).max(10), 20)
            }
        }
    }

    /// Scrolls the conversation to the previous (`-1`) or next (`+1`) turn's question and
    /// shows that turn's reasoning.
    pub fn jump_turn(&mut self, dir: i64) {
        let (cw, ch) = text_size(self.areas().conversation);
        let cw = if cw < 4 { 80 } else { cw };
        let mut count = Sink::count();
        count.track_marks();
        self.conversation_runs(cw, &mut count);
        let total = count.pos;
        let top = total.saturating_sub(ch + self.conv_scroll);
        let starts: Vec<(usize, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EntryKind::User)
            .filter_map(|(i, _)| {
                let t = self.entries[i..].iter().find_map(|en| match en.kind {
                    EntryKind::Assistant(t) => Some(t),
                    _ => None,
                })?;
                Some((count.marks[i], t))
            })
            .collect();
        let target = if dir > 0 {
            starts.iter().find(|(l, _)| *l > top)
        } else {
            starts.iter().rev().find(|(l, _)| *l < top)
        };
        match target {
            Some(&(line, t)) => {
                self.conv_scroll = total.saturating_sub(line + ch);
                self.reasoning_turn = Some(t);
                self.reasoning_scroll = 0;
                self.flash = Some(format!("turn {}/{}", t + 1, self.turns.len()));
            }
            None if dir > 0 => self.conv_scroll = 0,
            None => self.conv_scroll = total,
        }
    }
}

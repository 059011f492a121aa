//! Search across the whole session: the answers (as rendered in the conversation) and every
//! turn's reasoning, and every comparison column (reasoning and answer). Matches are ordered
//! by turn, answer before reasoning, a comparison where it stands in the transcript; `n`/`N`
//! step through them, scrolling the pane (or column) that holds the match and showing that
//! turn's reasoning beside its answer.

use super::{App, EntryKind, Pane};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A line of the conversation, in turn `turn` (None: before any answer).
    Conversation { line: usize, turn: Option<usize> },
    /// A line of turn `turn`'s wrapped reasoning.
    Reasoning { turn: usize, line: usize },
    /// A line of column `col` of comparison `cmp` (its reasoning, then its answer).
    Column { cmp: usize, col: usize, line: usize },
}

/// A match and how many lines its pane (or column) had when it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub hit: Hit,
    pub lines: usize,
}

#[derive(Debug, Default)]
pub struct Search {
    pub query: String,
    pub hits: Vec<Match>,
    pub current: usize,
    /// Asked for, not answered yet: the renderer finds the matches with the next frame.
    pub pending: bool,
    /// What to do with the answer: `None` jump to the first match (a new search), else step
    /// from the current one by this much (`n` / `N`, which look again: the transcript may
    /// have grown since).
    pub step: Option<i64>,
    /// The query before this one: Enter on an empty query searches it again.
    pub last: String,
}

/// Text widths of the conversation and reasoning panes (border and margin off).
pub fn text_size(r: ratatui::layout::Rect) -> (u16, usize) {
    (
        r.width.saturating_sub(3),
        r.height.saturating_sub(2) as usize,
    )
}

impl App {
    pub fn open_search(&mut self) {
        // A new query each time (typing never appends to the last one); Enter alone reuses it.
        let last = self
            .search
            .as_ref()
            .map(|s| {
                if s.query.is_empty() {
                    s.last.clone()
                } else {
                    s.query.clone()
                }
            })
            .unwrap_or_default();
        self.search = Some(Search {
            last,
            ..Default::default()
        });
        self.open_modal(super::modal::Modal::Search);
    }

    /// Finds every match of the query; jumps to the first one.
    pub fn run_search(&mut self) {
        if let Some(s) = self.search.as_mut().filter(|s| s.query.trim().is_empty()) {
            s.query = s.last.clone();
        }
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
        // The renderer finds the matches in what it draws, with the next frame
        // (`Event::Drawn`).
        if let Some(s) = self.search.as_mut() {
            s.pending = true;
            s.step = None;
        }
        self.close_modals(|m| matches!(m, super::modal::Modal::Search));
        // Out of the message box at once: `n` typed before the matches arrive steps, it does
        // not type.
        if self.focus == Pane::Input {
            self.focus = if self.compare_shown.is_some() {
                Pane::Compare
            } else {
                Pane::Conversation
            };
        }
    }

    /// The matches the renderer found for the pending search; jumps to the first.
    pub(crate) fn search_found(&mut self, hits: Vec<Match>) {
        let Some(s) = self.search.as_mut().filter(|s| s.pending) else {
            return;
        };
        s.pending = false;
        let q = s.query.trim().to_string();
        let n = hits.len();
        s.hits = hits;
        let i = match s.step.take() {
            None => 0,
            Some(d) => (s.current as i64 + d).rem_euclid(n.max(1) as i64) as usize,
        };
        s.current = 0;
        if n == 0 {
            self.flash = Some(format!("no match for “{q}”"));
        } else {
            self.goto_hit(i);
        }
    }

    /// Steps to the next (`+1`) or previous (`-1`) match: the matches are found again with
    /// the next frame (lines counted as they are now), then the step is taken. False when
    /// there is nothing to step through.
    pub fn step_search(&mut self, dir: i64) -> bool {
        let Some(s) = self.search.as_mut() else {
            return false;
        };
        if s.hits.is_empty() && !s.pending {
            return false;
        }
        // Steps taken before the answer add up (`n` typed fast, key repeat).
        s.step = Some(s.step.unwrap_or(0) + dir);
        if !s.pending {
            s.pending = true;
        }
        true
    }

    fn goto_hit(&mut self, i: usize) {
        let Some(s) = self.search.as_mut() else {
            return;
        };
        s.current = i;
        let Match { hit, lines: total } = s.hits[i];
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
                let (_, h) = self.column_size(cmp, col);
                self.compare_shown = Some(cmp);
                self.focus = Pane::Compare;
                let cv = &mut self.comparisons[cmp];
                cv.focus = col;
                self.close_diff();
                let cv = &mut self.comparisons[cmp];
                cv.cols[col].scroll = total.saturating_sub(line + h.max(1) / 2 + 1);
            }
            Hit::Conversation { line, turn } => {
                let (_, ch) = text_size(self.areas().conversation);
                self.conv_scroll = total.saturating_sub(line + ch.max(1) / 2 + 1);
                self.focus = Pane::Conversation;
                if let Some(t) = turn {
                    self.reasoning_turn = Some(t);
                    self.reasoning_scroll = 0;
                }
            }
            Hit::Reasoning { turn, line } => {
                let (_, rh) = text_size(self.areas().reasoning);
                self.reasoning_turn = Some(turn);
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
    pub fn column_size(&self, cmp: usize, col: usize) -> (u16, usize) {
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
        // Where each entry starts, as the last frame drew the conversation.
        let (_, ch) = text_size(self.areas().conversation);
        let (total, marks) = (self.conv_layout.0, &self.conv_layout.1);
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
                Some((*marks.get(i)?, t))
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

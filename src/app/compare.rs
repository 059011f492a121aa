//! Side-by-side comparison in the TUI: `/compare A B [C D]` arms it, the next message goes to
//! every model at once, each into its own column. Columns are independent: a failure, a stall
//! or a cancel stays in its column. "Adopt" makes one answer the conversation's next turn.

use crossterm::event::{KeyCode, KeyEvent};
use std::time::Duration;

use crate::api::{ChatParams, StreamEvent, TimedEvent};
use crate::session::catalog::ReasoningMode;
use crate::session::compare::{self, Column, ColumnReport, Target};
use crate::session::{Conversation, TurnState};

use super::{add_rate, step, Action, App, Effect, EntryKind, Modal, Pane, TurnView};

/// What the app knows of each configured provider (for `provider:model` targets).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderInfo {
    pub model: Option<String>,
    pub has_key: bool,
    pub free: bool,
    pub includes_reasoning: bool,
    pub max_concurrent: usize,
}

impl ProviderInfo {
    pub fn from_config(
        cfg: &crate::config::Config,
    ) -> std::collections::BTreeMap<String, ProviderInfo> {
        cfg.providers
            .iter()
            .map(|(name, p)| {
                (
                    name.clone(),
                    ProviderInfo {
                        model: p.model.clone(),
                        has_key: !p.needs_key() || p.api_key().is_some(),
                        free: p.free,
                        includes_reasoning: p.completion_includes_reasoning,
                        max_concurrent: p.max_concurrent,
                    },
                )
            })
            .collect()
    }
}

/// One column: the model's turn and what it takes to draw it.
pub struct ColView {
    pub col: Column,
    pub reasoning_mode: ReasoningMode,
    /// Estimated output tokens per 250 ms bucket, for the sparkline.
    pub rate: Vec<u32>,
    /// Lines scrolled up from the bottom (0: follow the tail).
    pub scroll: usize,
    /// Record number in the session file.
    pub rec: usize,
    /// What it is (or was) sent with: the shared settings and its own.
    pub params: ChatParams,
}

/// A unified diff of two columns' code blocks, shown over the columns.
pub struct DiffView {
    pub a: usize,
    pub b: usize,
    pub text: String,
    pub scroll: usize,
}

pub struct CompareView {
    pub prompt: String,
    pub cols: Vec<ColView>,
    /// The focused column.
    pub focus: usize,
    /// Scroll all columns together.
    pub sync: bool,
    pub show_reasoning: bool,
    /// Time since the comparison started (set by the runtime's clock, or by a replay).
    pub now: Duration,
    pub adopted: Option<usize>,
    pub diff: Option<DiffView>,
    /// The transcript entry that sums it up.
    pub entry: usize,
    /// History length when it was asked: an answer can be adopted only onto that history.
    pub base_len: usize,
    /// What every column sends: the history then, and the question.
    pub asked: Conversation,
    /// The shared settings then; each column's own go over them.
    pub params: ChatParams,
}

impl CompareView {
    pub fn running(&self) -> bool {
        self.cols.iter().any(|c| !c.col.turn.is_finished())
    }

    pub fn reports(&self, catalog: &crate::session::Catalog) -> Vec<ColumnReport> {
        self.cols
            .iter()
            .enumerate()
            .map(|(i, c)| c.col.report(i, self.now, catalog))
            .collect()
    }
}

impl App {
    /// The comparison whose columns are on screen.
    pub fn shown_compare(&self) -> Option<&CompareView> {
        self.compare_shown.and_then(|i| self.comparisons.get(i))
    }

    pub(super) fn shown_compare_mut(&mut self) -> Option<&mut CompareView> {
        self.compare_shown.and_then(|i| self.comparisons.get_mut(i))
    }

    /// The comparison still streaming, if any.
    pub fn running_compare(&self) -> Option<usize> {
        self.comparisons.iter().rposition(CompareView::running)
    }

    /// `/compare …`: with models, arms the next message for them (or sends the text after
    /// the first line right away); alone, shows the last comparison again.
    pub fn compare_command(&mut self, arg: &str) -> Vec<Effect> {
        let (first, rest) = match arg.split_once('\n') {
            Some((f, r)) => (f.trim(), r.trim()),
            None => (arg.trim(), ""),
        };
        if first.is_empty() {
            if self.compare_armed.take().is_some() {
                self.flash = Some("compare off: messages go to the current model".into());
                return vec![];
            }
            match self.comparisons.len().checked_sub(1) {
                Some(i) => {
                    self.compare_shown = Some(i);
                    self.focus = Pane::Compare;
                }
                None => self.error(
                    "/compare MODEL_A MODEL_B [MODEL_C MODEL_D] (each MODEL or PROVIDER:MODEL, \
                     @temperature=0.2,… for its own settings): your next message goes to all of \
                     them at once",
                ),
            }
            return vec![];
        }
        // `m@seed=3, temperature=1.5` is one target, as it is headless.
        let mut specs: Vec<String> = Vec::new();
        for word in first.split_whitespace() {
            match specs.last_mut() {
                Some(prev) if prev.ends_with(',') || word.starts_with(',') => prev.push_str(word),
                _ => specs.push(word.to_string()),
            }
        }
        let names: Vec<String> = self.provider_info.keys().cloned().collect();
        let targets = match compare::parse_targets(&specs, &names, &self.provider) {
            Ok(t) => t,
            Err(e) => {
                self.error(&format!("/compare: {e}"));
                return vec![];
            }
        };
        let mut resolved = Vec::new();
        for t in targets {
            let Some(info) = self.provider_info.get(&t.provider) else {
                self.error(&format!("/compare: no provider `{}`", t.provider));
                return vec![];
            };
            if !info.has_key {
                self.error(&format!(
                    "/compare: provider `{}` has no API key (set it, or pick another provider)",
                    t.provider
                ));
                return vec![];
            }
            let model = match (t.model, &info.model) {
                (Some(m), _) => m,
                (None, _) if t.provider == self.provider => self.model.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => {
                    self.error(&format!(
                        "/compare: `{}:` has no default model; name one, e.g. {}:MODEL",
                        t.provider, t.provider
                    ));
                    return vec![];
                }
            };
            resolved.push(Target {
                provider: t.provider,
                model: Some(model),
                settings: t.settings,
            });
        }
        if !rest.is_empty() {
            self.compare_armed = Some(resolved);
            let prompt = self.expand_pastes(rest);
            return self.submit_text(prompt);
        }
        self.flash = Some(format!(
            "compare: your next message goes to {} (/compare alone turns it off)",
            compare::target_names(&resolved)
        ));
        self.compare_armed = Some(resolved);
        vec![]
    }

    /// Sends `prompt` to every armed model: a user entry, a comparison entry, the columns.
    pub fn start_compare(&mut self, prompt: String, targets: Vec<Target>) -> Vec<Effect> {
        let cmp = self.open_compare(prompt, &targets);
        self.flash = None;
        vec![Effect::StartCompare { cmp }]
    }

    /// Creates the comparison's entries and columns (live, resumed or replayed alike).
    pub(super) fn open_compare(&mut self, prompt: String, targets: &[Target]) -> usize {
        self.push_entry(EntryKind::User, &prompt);
        let cmp = self.comparisons.len();
        let entry = self.push_entry(EntryKind::Compare(cmp), "");
        let mut asked = self.conv.clone();
        asked.push_user(prompt.clone());
        let cols = targets
            .iter()
            .map(|t| {
                let model = t.model.clone().unwrap_or_default();
                let info = self.provider_info.get(&t.provider);
                let rec = self.next_rec;
                self.next_rec += 1;
                ColView {
                    col: Column::new(
                        &t.provider,
                        &model,
                        info.map(|i| i.includes_reasoning).unwrap_or(true),
                        info.map(|i| i.free).unwrap_or(false),
                    )
                    .with_settings(&t.settings),
                    reasoning_mode: self.catalog.lookup(&model).reasoning,
                    rate: Vec::new(),
                    scroll: 0,
                    rec,
                    params: {
                        // Valid: the spec was checked when read, and so were these settings.
                        let mut p = self.params.clone();
                        let _ = p.apply(&t.settings);
                        p
                    },
                }
            })
            .collect();
        self.comparisons.push(CompareView {
            prompt,
            cols,
            focus: 0,
            sync: true,
            show_reasoning: true,
            now: Duration::ZERO,
            adopted: None,
            diff: None,
            entry,
            base_len: self.conv.messages().len(),
            asked,
            params: self.params.clone(),
        });
        self.compare_shown = Some(cmp);
        self.focus = Pane::Compare;
        self.conv_scroll = 0;
        cmp
    }

    /// What each column of comparison `cmp` sends: the history when it was asked, and its
    /// question.
    pub fn compare_request(&self, cmp: usize) -> Conversation {
        self.comparisons[cmp].asked.clone()
    }

    /// Column `col`'s request went out at comparison time `at`.
    pub fn compare_sent(&mut self, cmp: usize, col: usize, at: Duration) {
        // A column cancelled while queued stays unsent, whatever arrives late.
        if let Some(c) = self.col_mut(cmp, col).filter(|c| !c.col.turn.is_finished()) {
            c.col.sent_at.get_or_insert(at);
        }
    }

    fn col_mut(&mut self, cmp: usize, col: usize) -> Option<&mut ColView> {
        self.comparisons.get_mut(cmp)?.cols.get_mut(col)
    }

    pub fn on_compare_event(&mut self, cmp: usize, col: usize, ev: TimedEvent) {
        let Some(cv) = self.comparisons.get_mut(cmp) else {
            return;
        };
        let Some(c) = cv.cols.get_mut(col) else {
            return;
        };
        if c.col.turn.is_finished() {
            return;
        }
        if let Some(s) = c.col.sent_at {
            cv.now = cv.now.max(s + ev.at);
        }
        c.col.turn.apply(&ev);
        let bucket = (ev.at.as_millis() / 250) as usize;
        match &ev.event {
            StreamEvent::Content(t) => add_rate(&mut c.rate, bucket, t),
            StreamEvent::Reasoning(r) => add_rate(&mut c.rate, bucket, r),
            StreamEvent::ToolCall(d) => add_rate(&mut c.rate, bucket, &d.arguments),
            _ => {}
        }
        if ev.event.is_terminal() {
            self.finish_column(cmp, col);
        }
    }

    pub(super) fn finish_column(&mut self, cmp: usize, col: usize) {
        let cv = &mut self.comparisons[cmp];
        let now = cv.now;
        let c = &mut cv.cols[col];
        let r = c.col.report(col, now, &self.catalog);
        // Every column was billed, adopted or not (one never sent, not at all).
        let unknown = !c.col.free && c.col.turn.usage.is_none() && c.col.sent_at.is_some();
        let entry = cv.entry;
        self.count_cost(r.report.cost.as_ref(), unknown);
        let _ = entry;
        if !self.comparisons[cmp].running() {
            // All in: columns that followed their tails go back to the top, to be read side
            // by side from the start.
            for c in &mut self.comparisons[cmp].cols {
                if c.scroll == 0 {
                    c.scroll = usize::MAX / 2;
                }
            }
            // (A replay shows its own keys: there is nothing to adopt, and ←/→ seek.)
            if self.replay.is_none() {
                self.flash = Some(
                    "comparison done: a adopts the focused answer · d diffs code · ←/→ columns"
                        .into(),
                );
            }
        }
    }

    /// Cancels one column; the others go on.
    pub fn cancel_column(&mut self, cmp: usize, col: usize) -> Vec<Effect> {
        let Some(cv) = self.comparisons.get_mut(cmp) else {
            return vec![];
        };
        let now = cv.now;
        let Some(c) = cv.cols.get_mut(col) else {
            return vec![];
        };
        if c.col.turn.is_finished() {
            return vec![];
        }
        let local = c.col.local(now);
        c.col.turn.cancel(local);
        self.finish_column(cmp, col);
        self.flash = Some(format!(
            "cancelled column {}; partial answer kept",
            compare::letter(col)
        ));
        vec![Effect::CancelColumn { cmp, col }]
    }

    /// Cancels every running column.
    pub fn cancel_compare(&mut self, cmp: usize) -> Vec<Effect> {
        let mut fx = Vec::new();
        for col in 0..self.comparisons[cmp].cols.len() {
            fx.extend(self.cancel_column(cmp, col));
        }
        self.flash = Some("comparison cancelled; partial answers kept".into());
        fx
    }

    /// Makes column `col`'s answer the conversation's next turn and its model the current one.
    pub fn adopt(&mut self, cmp: usize, col: usize) -> Vec<Effect> {
        let cv = &self.comparisons[cmp];
        let c = &cv.cols[col];
        let name = c.col.name(col);
        if self.replay.is_some() {
            self.flash = Some("a replay: adopting is for live comparisons".into());
            return vec![];
        }
        if cv.adopted.is_some() {
            self.flash = Some("an answer of this comparison was adopted already".into());
            return vec![];
        }
        if cv.running() {
            self.flash = Some(
                "other columns are still answering: wait for them, or cancel them (x, Esc)".into(),
            );
            return vec![];
        }
        if !c.col.turn.is_finished() {
            self.flash = Some(format!("{name} is still answering"));
            return vec![];
        }
        if c.col.turn.state != TurnState::Done {
            self.flash = Some(format!(
                "{name} did not finish: only a complete answer can be adopted"
            ));
            return vec![];
        }
        if c.col.turn.content.is_empty() && c.col.turn.tool_calls.is_empty() {
            self.flash = Some(format!("{name} has no answer to adopt"));
            return vec![];
        }
        if self.active.is_some() || self.conv.messages().len() != cv.base_len {
            self.flash = Some(
                "the conversation moved on since this comparison: it can no longer be adopted"
                    .into(),
            );
            return vec![];
        }
        let provider = c.col.provider.clone();
        let model = c.col.turn.asked_model.clone();
        let settings = c.col.settings.clone();
        let params = c.params.sampling_only();
        let rec = c.rec;
        self.conv.push_user(cv.prompt.clone());
        self.conv
            .push_turn(&self.comparisons[cmp].cols[col].col.turn);
        self.show_adopted(cmp, col);
        // Another provider's model is set by the runtime once it has switched to it.
        if provider == self.provider {
            self.model = model.clone();
        }
        self.compare_shown = None;
        self.focus = Pane::Input;
        // The follow-up asks the way the adopted answer was asked, its own settings included.
        self.params = params;
        let with = if settings.is_empty() {
            String::new()
        } else {
            format!(", with {settings} (/set changes it)")
        };
        self.flash = Some(format!(
            "adopted {name}: it is now the conversation's model{with}"
        ));
        // Another provider's model is taken up once the runtime has switched to it.
        if provider == self.provider {
            self.model.clone_from(&model);
        }
        vec![Effect::Adopted {
            provider,
            model,
            rec,
        }]
    }

    /// Marks column `col` adopted and shows its answer in the transcript as a turn of its own
    /// (code pane, reasoning browser, search), as it joined the conversation. The history is
    /// the caller's business.
    pub(super) fn show_adopted(&mut self, cmp: usize, col: usize) {
        let c = &self.comparisons[cmp].cols[col];
        let view = TurnView {
            turn: c.col.turn.clone(),
            provider: c.col.provider.clone(),
            entry: self.entries.len(),
            rate: c.rate.clone(),
            free: c.col.free,
            includes_reasoning: c.col.includes_reasoning,
            reasoning_mode: c.reasoning_mode,
            // Its cost was counted with the comparison.
            counted: true,
            rec: c.rec,
            exchange: c.rec,
            round: 0,
            last_data: Duration::ZERO,
        };
        self.comparisons[cmp].adopted = Some(col);
        let entry = self.push_entry(EntryKind::Assistant(self.turns.len()), "");
        // Its code blocks join the code pane's list, as the renderer finds them.
        let mut tracker = crate::session::fence::Tracker::default();
        tracker.push(&view.turn.content, &mut self.code, entry);
        tracker.finish(&mut self.code, entry);
        self.turns.push(view);
    }

    /// Scrolls the focused column, or all of them when they scroll together.
    pub fn compare_scroll(&mut self, delta: i64) {
        let Some(cv) = self.shown_compare_mut() else {
            return;
        };
        // The diff scrolls from the top; columns count lines up from the bottom.
        if let Some(d) = cv.diff.as_mut() {
            d.scroll = step(d.scroll, delta);
            return;
        }
        let focus = cv.focus;
        for (i, c) in cv.cols.iter_mut().enumerate() {
            if cv.sync || i == focus {
                c.scroll = step(c.scroll, -delta);
            }
        }
    }

    /// Diffs the focused column's code against column `b` (the next one when None).
    pub fn open_diff(&mut self, b: Option<usize>) {
        let Some(cmp) = self.compare_shown else {
            return;
        };
        let Some(cv) = self.shown_compare_mut() else {
            return;
        };
        let n = cv.cols.len();
        let a = cv.focus;
        let b = b.unwrap_or((a + 1) % n);
        if a == b {
            return;
        }
        let name = |i: usize| cv.cols[i].col.name(i);
        // Bounded: a huge, very different pair of answers never stalls the UI.
        let text = compare::code_diff(
            &name(a),
            &cv.cols[a].col.turn.content,
            &name(b),
            &cv.cols[b].col.turn.content,
        );
        let text = if text.is_empty() {
            let none = |i: usize| compare::code_blocks(&cv.cols[i].col.turn.content).is_empty();
            if none(a) && none(b) {
                format!("Neither {} nor {} has a code block.", name(a), name(b))
            } else {
                format!("{} and {} have the same code.", name(a), name(b))
            }
        } else {
            text
        };
        cv.diff = Some(DiffView {
            a,
            b,
            text,
            scroll: 0,
        });
        self.open_modal(Modal::Diff { cmp });
    }

    /// A comparison key's action (`keymap.rs`, scope `Compare`).
    pub(super) fn compare_act(&mut self, a: Action, k: KeyEvent) -> Option<Vec<Effect>> {
        let Some(cmp) = self.compare_shown else {
            self.focus = Pane::Input;
            return Some(vec![]);
        };
        let n = self.comparisons[cmp].cols.len();
        let cv = &mut self.comparisons[cmp];
        match a {
            Action::ColumnPrev => cv.focus = (cv.focus + n - 1) % n,
            Action::ColumnNext => cv.focus = (cv.focus + 1) % n,
            Action::ColumnPick => {
                if let KeyCode::Char(c) = k.code {
                    let i = (c as usize).wrapping_sub('1' as usize);
                    if i < n {
                        cv.focus = i;
                    }
                }
            }
            Action::Up => self.compare_scroll(-1),
            Action::Down => self.compare_scroll(1),
            Action::Top => self.compare_scroll(-1_000_000),
            Action::Bottom => self.compare_scroll(1_000_000),
            Action::SyncScroll => {
                cv.sync = !cv.sync;
                self.flash = Some(if cv.sync {
                    "columns scroll together".into()
                } else {
                    "columns scroll one at a time".into()
                });
            }
            Action::ToggleReasoning => cv.show_reasoning = !cv.show_reasoning,
            Action::CancelColumn if self.replay.is_none() => {
                let col = cv.focus;
                return Some(self.cancel_column(cmp, col));
            }
            Action::Diff => self.open_diff(None),
            Action::Adopt => {
                let col = cv.focus;
                return Some(self.adopt(cmp, col));
            }
            Action::ToInput => self.focus = Pane::Input,
            _ => return None,
        }
        Some(vec![])
    }

    /// Closes the code diff on top.
    pub(super) fn close_diff(&mut self) {
        self.close_modals(|m| matches!(m, Modal::Diff { .. }));
        if let Some(cv) = self.compare_shown.and_then(|c| self.comparisons.get_mut(c)) {
            cv.diff = None;
        }
    }

    /// The diff against the next (`1`) or previous (`-1`) other column.
    pub(super) fn diff_other(&mut self, dir: i64) {
        let Some(cmp) = self.compare_shown else {
            return;
        };
        let n = self.comparisons[cmp].cols.len();
        let Some((a, b)) = self.comparisons[cmp].diff.as_ref().map(|d| (d.a, d.b)) else {
            return;
        };
        let step = |x: usize| {
            if dir > 0 {
                (x + 1) % n
            } else {
                (x + n - 1) % n
            }
        };
        let mut nb = step(b);
        if nb == a {
            nb = step(nb);
        }
        self.open_diff(Some(nb));
    }

    /// Esc while a comparison is on screen: cancel what runs, else close the diff, else
    /// go back to the conversation.
    pub(super) fn compare_escape(&mut self) -> Option<Vec<Effect>> {
        let cmp = self.compare_shown?;
        if self.comparisons[cmp].running() {
            return Some(self.cancel_compare(cmp));
        }
        if self.comparisons[cmp].diff.is_some() {
            self.close_diff();
            return Some(vec![]);
        }
        self.compare_shown = None;
        self.focus = Pane::Input;
        self.flash = Some("/compare shows the comparison again".into());
        Some(vec![])
    }
}

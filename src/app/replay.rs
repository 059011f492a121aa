//! Replay of a saved session through the live panes, with the original timing. A timeline is
//! built once: each turn starts a short pause after the previous one ended, and its events
//! keep their recorded offsets. Playing moves a virtual clock; seeking back rebuilds the
//! transcript from the start, so the screen at a given point never depends on how it was
//! reached. Nothing here calls a provider.

use std::time::Duration;

use crate::api::ChatParams;
use crate::session::store::{CompareTag, Session};

use super::App;

/// Pause between one turn's end and the next question.
pub const GAP: Duration = Duration::from_millis(1200);
/// How far ←/→ seek.
pub const SEEK_STEP: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item {
    Send(usize),
    Event(usize, usize),
    End(usize),
}

pub struct Replay {
    pub title: String,
    /// The session's history (the conversation a replay ends with).
    session: Session,
    pub items: Vec<(Duration, Item)>,
    pub turn_starts: Vec<Duration>,
    pub total: Duration,
    pub next: usize,
    pub clock: Duration,
    /// Playback speed; `None` is as fast as possible.
    pub speed: Option<f64>,
    pub paused: bool,
    /// A bundled demo (the banner says so, and how to set a key).
    pub demo: bool,
    /// `q`/Esc quits the program (started as `grokpair replay`/`demo`) rather than only
    /// leaving the replay.
    pub quit_on_exit: bool,
    /// The provider and model in use before it started (each replayed turn sets its own):
    /// leaving the replay goes back to them.
    pub live: (String, String),
}

impl Replay {
    pub fn new(session: &Session, speed: Option<f64>) -> Replay {
        let mut items = Vec::new();
        let mut turn_starts = Vec::new();
        let mut t0 = Duration::ZERO;
        // A turn, or a comparison whose columns ran at the same time, each from its own start.
        for unit in crate::session::store::runs(&session.turns) {
            turn_starts.push(t0);
            items.push((t0, Item::Send(unit.start)));
            let mut group = Vec::new();
            let mut span = Duration::ZERO;
            // An agent's rounds follow each other, each after the tools of the one before.
            let mut after = Duration::ZERO;
            for k in unit.clone() {
                let t = &session.turns[k];
                let start = match &t.compare {
                    Some(c) => Duration::from_millis(c.start_ms),
                    None => after,
                };
                if k != unit.start && t.compare.is_none() {
                    group.push((t0 + start, Item::Send(k)));
                }
                let mut last = Duration::ZERO;
                for (i, ev) in t.events.iter().enumerate() {
                    // Offsets only grow (a file edited by hand may say otherwise).
                    last = last.max(ev.at);
                    group.push((t0 + start + last, Item::Event(k, i)));
                }
                let end = t.end.as_ref().map(|e| e.at).unwrap_or(last).max(last);
                group.push((t0 + start + end, Item::End(k)));
                span = span.max(start + end);
                let tools: u64 = session.tools_of(t.turn).map(|r| r.ms).sum();
                after = start + end + Duration::from_millis(tools);
            }
            // Stable: a column's own items keep their order.
            group.sort_by_key(|(at, _)| *at);
            items.extend(group);
            t0 += span + GAP;
        }
        let total = items.last().map(|(at, _)| *at).unwrap_or_default();
        let title = session.title(48);
        Replay {
            title,
            session: session.clone(),
            items,
            turn_starts,
            total,
            next: 0,
            clock: Duration::ZERO,
            speed,
            paused: false,
            demo: false,
            quit_on_exit: false,
            live: Default::default(),
        }
    }

    pub fn finished(&self) -> bool {
        self.next >= self.items.len()
    }

    /// The turn the clock is in (0-based), for "turn k/n".
    pub fn current_turn(&self) -> usize {
        self.turn_starts
            .iter()
            .rposition(|s| *s <= self.clock)
            .unwrap_or(0)
    }

    /// Wall time until the next item is due, when playing.
    pub fn next_due(&self) -> Option<Duration> {
        if self.paused || self.finished() {
            return None;
        }
        let at = self.items[self.next].0;
        Some(match self.speed {
            None => Duration::ZERO,
            Some(s) => at.saturating_sub(self.clock).div_f64(s),
        })
    }

    pub fn speed_label(&self) -> String {
        match self.speed {
            None => "max".into(),
            Some(s) if s.fract() == 0.0 => format!("{s:.0}x"),
            Some(s) => format!("{s}x"),
        }
    }
}

/// `m:ss`
pub fn clock_label(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

impl App {
    /// Rebuilds the whole transcript of a saved session at once (resume, `/sessions`).
    pub fn load_session(&mut self, s: &Session) {
        self.clear_transcript();
        self.conv = s.conversation();
        for unit in crate::session::store::runs(&s.turns) {
            self.apply_saved(s, Item::Send(unit.start));
            for k in unit.clone() {
                if k != unit.start && s.turns[k].compare.is_none() {
                    self.apply_saved(s, Item::Send(k));
                }
                for i in 0..s.turns[k].events.len() {
                    self.apply_saved(s, Item::Event(k, i));
                }
                self.apply_saved(s, Item::End(k));
            }
        }
        // The saved history is the truth (it is what the provider has cached).
        self.conv = s.conversation();
        if let Some(a) = self.agent.as_mut() {
            // Loaded, not working.
            a.running = None;
        }
        // ... and it goes on with the settings it was last asked with (`/set` shows them),
        // unless a hand-edited or old file holds values no request may carry.
        if let Some(p) = s.current_params().map(ChatParams::sampling_only) {
            match p.validate() {
                Ok(()) => self.params = p,
                Err((_, e)) => self.notice(&format!(
                    "the session's last settings are not valid ({e}); keeping the current ones"
                )),
            }
        }
        self.next_rec = s.turns.iter().map(|t| t.turn + 1).max().unwrap_or(0);
        // Only the last comparison, unadopted with nothing after it, can still be adopted:
        // onto the history as it stands.
        // ... and only onto the very history its columns were sent with.
        let last_run = crate::session::store::runs(&s.turns).pop();
        let asked_on_this = last_run.is_some_and(|r| {
            let req = &s.turns[r.start].request;
            s.turns[r.start].compare.is_some()
                && req[..req.len().saturating_sub(1)] == s.messages[..]
        });
        let last_open = asked_on_this
            && matches!(
                self.entries.last().map(|e| e.kind),
                Some(super::EntryKind::Compare(_))
            )
            && self.comparisons.last().is_some_and(|c| c.adopted.is_none());
        let n = self.comparisons.len();
        let len = self.conv.messages().len();
        for (i, cv) in self.comparisons.iter_mut().enumerate() {
            cv.base_len = if last_open && i + 1 == n {
                len
            } else {
                usize::MAX
            };
        }
        self.compare_shown = None;
        self.focus = super::Pane::Input;
        if let Some((p, m)) = s.current_model() {
            self.provider = p.to_string();
            self.model = m.to_string();
        }
        if s.skipped > 0 {
            self.notice(&format!(
                "{} unreadable line(s) in {} skipped (a crash mid-write?); everything else loaded",
                s.skipped,
                s.path.display()
            ));
        }
    }

    fn apply_saved(&mut self, s: &Session, item: Item) {
        let turns = &s.turns;
        let (Item::Send(k) | Item::Event(k, _) | Item::End(k)) = item;
        if let Some(tag) = turns[k].compare.clone() {
            return self.apply_saved_column(s, item, tag);
        }
        match item {
            Item::Send(k) if turns[k].round > 0 => {
                // The next round of an agent's turn: its answer cell, no question.
                let t = &turns[k];
                let idx = self.push_round(t.exchange, t.round);
                self.turns[idx].rec = t.turn;
            }
            Item::Send(k) => {
                let t = &turns[k];
                self.model = t.model.clone();
                self.provider = t.provider.clone();
                let _ = self.send(t.prompt().to_string());
                if let Some(tv) = self.turns.last_mut() {
                    tv.rec = t.turn;
                    tv.exchange = t.exchange;
                }
            }
            Item::Event(k, i) => {
                let idx = self.turns.len() - 1;
                debug_assert!(k < turns.len());
                self.on_stream(idx, turns[k].events[i].clone());
            }
            Item::End(k) => {
                let idx = self.turns.len() - 1;
                if !self.turns[idx].turn.is_finished() {
                    let at = turns[k].end_at();
                    self.now = self.now.max(at);
                    let now = self.now;
                    turns[k].close(&mut self.turns[idx].turn, now);
                    self.finish_turn(idx);
                }
                // The calls it asked for, as they were answered.
                for r in s.tools_of(turns[k].turn) {
                    self.tool_ended(r);
                }
            }
        }
    }

    /// A comparison's items: the question opens all its columns; events go to their column.
    fn apply_saved_column(&mut self, s: &Session, item: Item, tag: CompareTag) {
        let turns = &s.turns;
        match item {
            Item::Send(k) => {
                let unit = crate::session::store::run_at(turns, k);
                let targets: Vec<crate::session::compare::Target> = turns[unit.clone()]
                    .iter()
                    .map(|t| crate::session::compare::Target {
                        provider: t.provider.clone(),
                        model: Some(t.model.clone()),
                        settings: t
                            .compare
                            .as_ref()
                            .map(|c| c.settings.clone())
                            .unwrap_or_default(),
                    })
                    .collect();
                let prompt = turns[k].prompt().to_string();
                let cmp = self.open_compare(prompt, &targets);
                // What the columns were sent, and each column's record number (an adoption
                // names it), as saved.
                let cv = &mut self.comparisons[cmp];
                cv.asked = crate::session::Conversation::from_messages(
                    s.header.conv_id.clone(),
                    turns[k].request.to_vec(),
                );
                for (col, t) in turns[unit.clone()].iter().enumerate() {
                    cv.cols[col].rec = t.turn;
                    cv.cols[col].params = t.params.clone();
                }
                for (col, t) in turns[unit].iter().enumerate() {
                    if t.compare.as_ref().is_some_and(|c| c.sent) {
                        let start = t.compare.as_ref().map(|c| c.start_ms).unwrap_or_default();
                        self.compare_sent(cmp, col, Duration::from_millis(start));
                    }
                }
            }
            Item::Event(k, i) => {
                let cmp = self.comparisons.len().saturating_sub(1);
                self.on_compare_event(cmp, tag.column, turns[k].events[i].clone());
            }
            Item::End(k) => {
                let cmp = self.comparisons.len().saturating_sub(1);
                let Some(cv) = self.comparisons.get_mut(cmp) else {
                    return;
                };
                let at = turns[k].end_at();
                cv.now = cv.now.max(Duration::from_millis(tag.start_ms) + at);
                if let Some(c) = cv.cols.get_mut(tag.column) {
                    if !c.col.turn.is_finished() {
                        turns[k].close(&mut c.col.turn, at);
                        self.finish_column(cmp, tag.column);
                    }
                }
                // All in: the answer the conversation took up joins the transcript, as it did.
                if !self.comparisons[cmp].running() && self.comparisons[cmp].adopted.is_none() {
                    if let Some(col) = s.adopted(&crate::session::store::run_at(turns, k)) {
                        self.show_adopted(cmp, col);
                    }
                }
            }
        }
    }

    /// Starts replaying `s` from the beginning.
    pub fn start_replay(&mut self, s: &Session, speed: Option<f64>, demo: bool, quit: bool) {
        self.clear_transcript();
        let mut r = Replay::new(s, speed);
        r.demo = demo;
        r.quit_on_exit = quit;
        // A replay started from another keeps what was live before the first.
        r.live = match &self.replay {
            Some(o) => o.live.clone(),
            None => (self.provider.clone(), self.model.clone()),
        };
        self.replay = Some(Box::new(r));
        self.focus = super::Pane::Conversation;
        self.replay_apply_due();
    }

    /// Moves the replay clock by `wall` (scaled by the speed) and applies what is due.
    pub fn replay_advance(&mut self, wall: Duration) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        if r.paused {
            return;
        }
        r.clock = match r.speed {
            None => r.total,
            Some(s) => (r.clock + wall.mul_f64(s)).min(r.total),
        };
        self.replay_apply_due();
    }

    fn replay_apply_due(&mut self) {
        let Some(mut r) = self.replay.take() else {
            return;
        };
        while r.next < r.items.len() && r.items[r.next].0 <= r.clock {
            let item = r.items[r.next].1;
            self.apply_saved(&r.session, item);
            r.next += 1;
        }
        if r.finished() {
            self.conv = r.session.conversation();
        }
        // Live figures (elapsed, tokens/sec) as of the clock.
        if self.active.is_some() {
            let k = r.current_turn();
            self.now = self.now.max(r.clock.saturating_sub(r.turn_starts[k]));
        }
        if let Some(c) = self.running_compare() {
            let k = r.current_turn();
            let t = r.clock.saturating_sub(r.turn_starts[k]);
            let cv = &mut self.comparisons[c];
            cv.now = cv.now.max(t);
        }
        self.replay = Some(r);
    }

    /// Puts the replay at `t` (clamped). Going back rebuilds from the start.
    pub fn replay_seek(&mut self, t: Duration) {
        let Some(mut r) = self.replay.take() else {
            return;
        };
        let t = t.min(r.total);
        if t < r.clock || (r.next > 0 && t < r.items[r.next - 1].0) {
            let (scroll, focus, split, zoom) = (0, self.focus, self.split, self.zoom);
            self.clear_transcript();
            self.conv_scroll = scroll;
            self.focus = focus;
            self.split = split;
            self.zoom = zoom;
            r.next = 0;
        }
        r.clock = t;
        self.replay = Some(r);
        self.replay_apply_due();
    }

    /// Seeks to the start of turn `k`'s question.
    pub fn replay_turn(&mut self, k: usize) {
        if let Some(r) = &self.replay {
            if let Some(s) = r.turn_starts.get(k).copied() {
                self.replay_seek(s);
            }
        }
    }

    /// Replay keys; `None` when the key is not one of them.
    /// A replay key's action (`keymap.rs`, scope `Replay`); `None` when it does not apply
    /// (the turn and seek keys belong to the code pane there).
    pub(super) fn replay_act(&mut self, a: super::Action) -> Option<Vec<super::Effect>> {
        use super::Action as A;
        let code_pane = self.focus == super::Pane::Code;
        let r = self.replay.as_mut()?;
        match a {
            A::ReplayPause => {
                if r.finished() {
                    r.paused = false;
                    self.replay_seek(Duration::ZERO);
                } else {
                    r.paused = !r.paused;
                }
            }
            A::ReplayNextTurn if !code_pane => {
                let k = r.current_turn() + 1;
                if k < r.turn_starts.len() {
                    self.replay_turn(k);
                } else {
                    let end = r.total;
                    self.replay_seek(end);
                }
            }
            // A session with no turns (a crash right after its header) has nowhere to go.
            A::ReplayPrevTurn if !code_pane && !r.turn_starts.is_empty() => {
                let cur = r.current_turn();
                // Within the first seconds of a turn, "previous" means the one before.
                let k = if r.clock < r.turn_starts[cur] + Duration::from_secs(2) {
                    cur.saturating_sub(1)
                } else {
                    cur
                };
                self.replay_turn(k);
            }
            A::ReplayPrevTurn if !code_pane => {}
            A::ReplayForward if !code_pane => {
                let t = r.clock + SEEK_STEP;
                self.replay_seek(t);
            }
            A::ReplayBack if !code_pane => {
                let t = r.clock.saturating_sub(SEEK_STEP);
                self.replay_seek(t);
            }
            A::ReplayFaster => {
                r.speed = Some(match r.speed {
                    None => 16.0,
                    Some(s) => (s * 2.0).min(16.0),
                });
            }
            A::ReplaySlower => {
                r.speed = Some(match r.speed {
                    None => 16.0,
                    Some(s) => (s / 2.0).max(0.25),
                });
            }
            A::ReplayLeave => {
                if r.quit_on_exit {
                    self.should_quit = true;
                    return Some(vec![super::Effect::Quit]);
                }
                self.stop_replay();
            }
            _ => return None,
        }
        Some(vec![])
    }

    /// Leaves a replay: back to a fresh conversation (with the key help when there is no key).
    pub fn stop_replay(&mut self) {
        if let Some(r) = self.replay.take() {
            (self.provider, self.model) = r.live;
        }
        self.new_conversation();
        self.focus = super::Pane::Input;
        if !self.has_key {
            let help = self.key_help.clone();
            self.notice(&help);
        }
    }
}

//! Agent mode in the app: the tool calls of a user turn as transcript cells, the approval
//! prompt, the pause prompt (budget, repeated calls), `/mode`, `/budget` and `/rewind`. The
//! driver (`crate::agent`) runs the tools; its steps come in as `Event::Agent` and decisions go
//! out as effects. No I/O here.

use std::collections::VecDeque;
use std::time::Duration;

use super::modal::Modal;
use super::{App, Effect, EntryKind, Pane, TurnView};
use crate::agent::{Ask, Step};
use crate::session::agent::{Decision, Outcome};
use crate::session::approval::Mode;
use crate::session::store::{ToolRecord, ToolStatus};
use crate::session::Turn;
use crate::tools::checkpoint::Change;

/// Lines of a running command's output the cell keeps (its tail).
pub const LIVE_LINES: usize = 200;

/// Agent mode's state in the app (present when the tools are offered).
pub struct AgentView {
    pub mode: Mode,
    /// The project instructions in the system prompt (`AGENTS.md`…).
    pub instructions: Vec<String>,
    /// USD; the loop pauses before a round past it.
    pub budget: Option<f64>,
    /// The user turn the loop is working on, while it works.
    pub running: Option<Running>,
    /// Calls waiting for the user, the first one's prompt open.
    pub asks: VecDeque<Ask>,
    /// The tool cell Enter / x expands (the newest, until one is picked).
    pub selected: Option<usize>,
    /// What the last rewind took off the conversation, to put back (`/rewind` lists it).
    pub undo: Option<Box<Undo>>,
}

/// The transcript and the history as they were before a conversation rewind.
pub struct Undo {
    pub conv: crate::session::Conversation,
    pub entries: usize,
    pub taken: Vec<super::Entry>,
    pub turns: Vec<TurnView>,
    pub tools: Vec<ToolView>,
    pub code: Vec<crate::session::fence::Code>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    /// The exchange (its first round's record number) and its first round's turn index.
    pub exchange: usize,
    pub first_turn: usize,
    pub rounds: usize,
    pub calls: usize,
    /// The session's spend when it started (the status bar shows the turn's).
    pub cost_start: i64,
}

impl AgentView {
    pub fn new(mode: Mode, instructions: Vec<String>, budget: Option<f64>) -> AgentView {
        AgentView {
            mode,
            instructions,
            budget,
            running: None,
            asks: VecDeque::new(),
            selected: None,
            undo: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolState {
    Asking,
    Running,
    Done(ToolStatus),
}

/// One tool call as its cell shows it.
#[derive(Debug, Clone)]
pub struct ToolView {
    pub call_id: String,
    pub name: String,
    pub title: String,
    pub state: ToolState,
    pub by: Option<String>,
    pub summary: String,
    /// A running command's last lines.
    pub live: VecDeque<String>,
    /// What the model was sent.
    pub output: String,
    pub diff: Option<String>,
    pub ms: u64,
    pub expanded: bool,
    /// Bumped on every change (the renderer's cache follows it).
    pub rev: u64,
    pub entry: usize,
    /// When it started, by the turn's clock.
    pub started: Duration,
}

/// The `/rewind` prompt: pick a user turn, then what to put back.
#[derive(Debug, Clone, PartialEq)]
pub struct RewindPrompt {
    /// (exchange, its user entry, the prompt's first line); the newest last. An exchange of
    /// `usize::MAX`: undo the last conversation rewind.
    pub items: Vec<RewindItem>,
    pub selected: usize,
    /// The chosen item's workspace changes, once the runtime has planned them.
    pub plan: Option<Result<Vec<Change>, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RewindItem {
    pub exchange: usize,
    /// The user entry of the turn (None: the rewind of the code itself, to undo).
    pub entry: Option<usize>,
    pub label: String,
}

impl App {
    pub fn agent_on(&self) -> bool {
        self.agent.is_some()
    }

    /// The agent is working on a user turn (streaming, running a tool or waiting).
    pub fn agent_busy(&self) -> bool {
        self.agent.as_ref().is_some_and(|a| a.running.is_some())
    }

    /// Whether the transcript is growing now: a reply streams, the agent is at work, or a
    /// replay plays.
    pub fn streaming(&self) -> bool {
        self.active.is_some()
            || self.agent_busy()
            || self
                .replay
                .as_ref()
                .is_some_and(|r| !r.paused && !r.finished())
    }

    /// A user turn's first round starts: the loop works on it until it is done.
    pub(super) fn agent_begin(&mut self, turn: usize) {
        let cost = self.session_cost;
        let exchange = self.turns[turn].exchange;
        if let Some(a) = self.agent.as_mut() {
            a.running = Some(Running {
                exchange,
                first_turn: turn,
                rounds: 1,
                calls: 0,
                cost_start: cost,
            });
            a.selected = None;
        }
    }

    /// A step of the driver's.
    pub fn on_agent(&mut self, step: Step) -> Vec<Effect> {
        match step {
            Step::Send => self.next_round(),
            Step::Ask(ask) => {
                self.tool_cell(
                    &ask.call_id,
                    &ask.call.tool,
                    &title_of(&ask),
                    ToolState::Asking,
                );
                let Some(a) = self.agent.as_mut() else {
                    return vec![];
                };
                a.asks.push_back(ask);
                if !matches!(self.modal(), Some(Modal::Approval { .. })) {
                    self.open_modal(Modal::Approval {
                        note: None,
                        scroll: 0,
                    });
                }
                vec![]
            }
            Step::Started {
                call_id,
                name,
                title,
                by,
            } => {
                let i = self.tool_cell(&call_id, &name, &title, ToolState::Running);
                let now = self.now;
                let t = &mut self.tools[i];
                t.title = title;
                t.by = Some(by);
                t.started = now;
                if let Some(r) = self.agent.as_mut().and_then(|a| a.running.as_mut()) {
                    r.calls += 1;
                }
                vec![]
            }
            Step::Output { call_id, line } => {
                if let Some(t) = self.tools.iter_mut().rev().find(|t| t.call_id == call_id) {
                    t.live.push_back(line);
                    while t.live.len() > LIVE_LINES {
                        t.live.pop_front();
                    }
                    t.rev += 1;
                }
                vec![]
            }
            Step::Ended(rec) => {
                self.tool_ended(&rec);
                vec![]
            }
            Step::Done(outcome) => self.agent_done(outcome),
        }
    }

    /// The cell of call `id`, made (after the transcript so far) when it has none.
    fn tool_cell(&mut self, id: &str, name: &str, title: &str, state: ToolState) -> usize {
        if let Some(i) = self.tools.iter().rposition(|t| t.call_id == id) {
            self.tools[i].state = state;
            self.tools[i].rev += 1;
            return i;
        }
        let i = self.tools.len();
        let entry = self.push_entry(EntryKind::Tool(i), "");
        self.tools.push(ToolView {
            call_id: id.to_string(),
            name: name.to_string(),
            title: title.to_string(),
            state,
            by: None,
            summary: String::new(),
            live: VecDeque::new(),
            output: String::new(),
            diff: None,
            ms: 0,
            expanded: false,
            rev: 0,
            entry,
            started: self.now,
        });
        i
    }

    /// A call was answered: its cell shows how.
    pub(super) fn tool_ended(&mut self, rec: &ToolRecord) {
        let i = self.tool_cell(
            &rec.call_id,
            &rec.name,
            &rec.title,
            ToolState::Done(rec.status),
        );
        let t = &mut self.tools[i];
        t.title = rec.title.clone();
        if rec.by.is_some() {
            t.by = rec.by.clone();
        }
        t.summary = rec.summary.clone();
        t.output = rec.output.clone();
        t.diff = rec.diff.clone();
        t.ms = rec.ms;
        t.live.clear();
        // The approval prompt of a call answered otherwise (stopped) goes.
        if let Some(a) = self.agent.as_mut() {
            a.asks.retain(|x| x.call_id != rec.call_id);
            if a.asks.is_empty() {
                self.close_modals(|m| matches!(m, Modal::Approval { .. }));
            }
        }
    }

    /// The next round of the user turn: a new answer cell, the same exchange.
    fn next_round(&mut self) -> Vec<Effect> {
        let Some(prev) = self.turns.last() else {
            return vec![];
        };
        let (exchange, round) = (prev.exchange, prev.round + 1);
        let turn_idx = self.push_round(exchange, round);
        if let Some(r) = self.agent.as_mut().and_then(|a| a.running.as_mut()) {
            r.rounds += 1;
        }
        vec![Effect::Start { turn: turn_idx }]
    }

    /// A new answer cell and its turn for round `round` of `exchange`.
    pub(super) fn push_round(&mut self, exchange: usize, round: usize) -> usize {
        let turn_idx = self.turns.len();
        let entry = self.push_entry(EntryKind::Assistant(turn_idx), "");
        let info = self.catalog.lookup(&self.model);
        self.turns.push(TurnView {
            turn: Turn::new(&self.model),
            provider: self.provider.clone(),
            entry,
            rate: Vec::new(),
            free: self.provider_free,
            includes_reasoning: self.includes_reasoning,
            reasoning_mode: info.reasoning,
            counted: false,
            rec: self.next_rec,
            exchange,
            round,
            last_data: Duration::ZERO,
        });
        self.next_rec += 1;
        self.active = Some(turn_idx);
        self.now = Duration::ZERO;
        turn_idx
    }

    fn agent_done(&mut self, outcome: Outcome) -> Vec<Effect> {
        let Some(a) = self.agent.as_mut() else {
            return vec![];
        };
        a.running = None;
        a.asks.clear();
        self.close_modals(|m| matches!(m, Modal::Approval { .. }));
        match outcome {
            Outcome::Done | Outcome::Failed => {}
            Outcome::Stopped => self.notice("stopped: every tool call was answered (\"cancelled by the user\" where it did not run)"),
            Outcome::StepCap => self.notice("stopped: the step cap for one message was reached (agent.max_steps); send a message to go on"),
            Outcome::DoomLoop(d) => self.notice(&format!("stopped: the provider's loop check fired ({d})")),
            o @ (Outcome::Repeating { .. } | Outcome::Budget { .. }) => {
                if let (Outcome::Budget { .. }, Some(a)) = (&o, self.agent.as_mut()) {
                    // Going on is past the budget: it is off until `/budget` sets one.
                    a.budget = None;
                }
                self.open_modal(Modal::Pause(o));
            }
        }
        vec![]
    }

    /// The approval prompt's call.
    pub fn asking(&self) -> Option<&Ask> {
        self.agent.as_ref().and_then(|a| a.asks.front())
    }

    /// The user's answer to the prompt on screen.
    pub(super) fn decide(&mut self, d: Decision) -> Vec<Effect> {
        let Some(a) = self.agent.as_mut() else {
            return vec![];
        };
        let Some(ask) = a.asks.pop_front() else {
            self.close_modal();
            return vec![];
        };
        if let Decision::ForSession(r) = &d {
            self.flash = Some(format!("allowed for this session: {r}"));
        }
        if let Some(t) = self
            .tools
            .iter_mut()
            .rev()
            .find(|t| t.call_id == ask.call_id)
        {
            t.rev += 1;
        }
        if self.agent.as_ref().is_some_and(|a| a.asks.is_empty()) {
            self.close_modals(|m| matches!(m, Modal::Approval { .. }));
        } else if let Some(Modal::Approval { note, scroll }) = self.modals.last_mut() {
            *note = None;
            *scroll = 0;
        }
        vec![Effect::Decide {
            call_id: ask.call_id,
            decision: d,
        }]
    }

    /// Esc or Ctrl+C while the loop works: the stream and the tools stop.
    pub(super) fn stop_agent(&mut self) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.active.is_some() {
            // The round ends cancelled; the loop then answers its calls and stops.
            fx.extend(self.cancel_active());
        } else {
            fx.push(Effect::StopAgent);
        }
        fx
    }

    /// The pause prompt's answer.
    pub(super) fn resume_agent(&mut self, go_on: bool) -> Vec<Effect> {
        self.close_modals(|m| matches!(m, Modal::Pause(_)));
        if !go_on {
            self.notice("stopped: send a message to go on");
            return vec![];
        }
        let first = self.turns.iter().rposition(|t| t.round == 0).unwrap_or(0);
        let cost = self.session_cost;
        let exchange = self.turns.get(first).map(|t| t.exchange).unwrap_or(0);
        let rounds = self.turns.len() - first;
        if let Some(a) = self.agent.as_mut() {
            a.running = Some(Running {
                exchange,
                first_turn: first,
                rounds,
                calls: 0,
                cost_start: cost,
            });
        }
        vec![Effect::GoOn]
    }

    /// `/mode [MODE]`.
    pub(super) fn set_mode(&mut self, arg: &str) -> Vec<Effect> {
        let Some(a) = self.agent.as_mut() else {
            self.error("agent mode is off ([agent] tools = false): no tools, no modes");
            return vec![];
        };
        if arg.is_empty() {
            let m = a.mode.name();
            self.notice(&format!(
                "mode {m}. /mode read-only (reads only), ask (reads run; edits and commands ask), auto-edit (edits run; commands ask), yolo (all run but the dangerous list, which always asks)"
            ));
            return vec![];
        }
        let Some(m) = Mode::parse(arg) else {
            self.error(&format!("/mode {arg}: read-only, ask, auto-edit or yolo"));
            return vec![];
        };
        a.mode = m;
        self.flash = Some(format!("mode {}", m.name()));
        vec![Effect::SetMode(m)]
    }

    /// `/budget [USD|off]`.
    pub(super) fn set_budget(&mut self, arg: &str) -> Vec<Effect> {
        let Some(a) = self.agent.as_mut() else {
            self.error("agent mode is off ([agent] tools = false): nothing to budget");
            return vec![];
        };
        let budget = match arg {
            "" => {
                let spent = crate::session::pricing::format_usd(self.session_cost);
                let msg = match a.budget {
                    Some(b) => format!("budget ${b} for this session; spent {spent}. /budget USD sets another, /budget off removes it"),
                    None => format!("no budget; spent {spent}. /budget USD pauses the agent before a round past it"),
                };
                self.notice(&msg);
                return vec![];
            }
            "off" | "none" => None,
            s => match s.trim_start_matches('$').parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Some(v),
                _ => {
                    self.error(&format!(
                        "/budget {s}: a number of USD above 0 (0.50), or off"
                    ));
                    return vec![];
                }
            },
        };
        a.budget = budget;
        self.flash = Some(match budget {
            Some(b) => format!("budget ${b} for this session"),
            None => "no budget".into(),
        });
        vec![Effect::SetBudget(budget)]
    }

    /// `/rewind`: the user turns to go back to, newest last (and the last rewind, to undo).
    pub(super) fn open_rewind(&mut self) -> Vec<Effect> {
        if self.agent.is_none() {
            self.error("agent mode is off ([agent] tools = false): nothing to rewind");
            return vec![];
        }
        if self.agent_busy() || self.active.is_some() {
            self.flash = Some("the agent is working: Esc stops it first".into());
            return vec![];
        }
        let mut items = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.kind != EntryKind::User {
                continue;
            }
            // The turn after the question is the exchange's first round.
            let Some(tv) = self.entries[i + 1..].iter().find_map(|e| match e.kind {
                EntryKind::Assistant(t) => Some(&self.turns[t]),
                _ => None,
            }) else {
                continue;
            };
            items.push(RewindItem {
                exchange: tv.exchange,
                entry: Some(i),
                label: crate::session::store::one_line(
                    e.text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""),
                    70,
                ),
            });
        }
        if let Some(r) = self.rewinds.last() {
            items.push(RewindItem {
                exchange: *r,
                entry: None,
                label: "undo the last rewind (the files and the conversation as they were)".into(),
            });
        }
        if items.is_empty() {
            self.flash = Some("nothing to rewind yet".into());
            return vec![];
        }
        let selected = items.len() - 1;
        let exchange = items[selected].exchange;
        self.open_modal(Modal::Rewind(RewindPrompt {
            items,
            selected,
            plan: None,
        }));
        vec![Effect::RewindPlan { exchange }]
    }

    pub(super) fn rewind_move(&mut self, by: i64) -> Vec<Effect> {
        let Some(Modal::Rewind(p)) = self.modals.last_mut() else {
            return vec![];
        };
        let n = p.items.len();
        let sel = super::step(p.selected, by).min(n - 1);
        if sel == p.selected {
            return vec![];
        }
        p.selected = sel;
        p.plan = None;
        vec![Effect::RewindPlan {
            exchange: p.items[sel].exchange,
        }]
    }

    /// The runtime's plan for the selected turn.
    pub fn rewind_planned(&mut self, exchange: usize, plan: Result<Vec<Change>, String>) {
        if let Some(Modal::Rewind(p)) = self.modals.last_mut() {
            if p.items.get(p.selected).map(|i| i.exchange) == Some(exchange) {
                p.plan = Some(plan);
            }
        }
    }

    /// Rewinds to before the selected turn: the code (`code`), the conversation (`conv`).
    pub(super) fn rewind(&mut self, code: bool, conv: bool) -> Vec<Effect> {
        let Some(Modal::Rewind(p)) = self.modals.last() else {
            return vec![];
        };
        let Some(item) = p.items.get(p.selected).cloned() else {
            return vec![];
        };
        if p.plan.is_none() && code {
            self.flash = Some("still finding what would change…".into());
            return vec![];
        }
        self.close_modal();
        let mut fx = Vec::new();
        if item.entry.is_none() {
            // Undo the last rewind: the files, and the conversation when it was rewound.
            if let Some(u) = self.agent.as_mut().and_then(|a| a.undo.take()) {
                self.put_back(*u);
            }
            self.rewinds.pop();
            fx.push(Effect::Rewind {
                exchange: item.exchange,
                now: self.next_rec,
            });
            self.next_rec += 1;
            return fx;
        }
        if code {
            // The rewind is recorded as a change of its own, under a number of its own.
            self.rewinds.push(self.next_rec);
            fx.push(Effect::Rewind {
                exchange: item.exchange,
                now: self.next_rec,
            });
            self.next_rec += 1;
        }
        if conv {
            if let Some(entry) = item.entry {
                self.rewind_conversation(entry);
                if !code {
                    self.rewinds.push(usize::MAX);
                }
            }
        }
        fx
    }

    /// Takes the conversation back to before the question at `entry`; the question goes back
    /// into the message box.
    fn rewind_conversation(&mut self, entry: usize) {
        let prompt = self.entries[entry].text.clone();
        // The history up to that question: as many user messages as came before it.
        let users_before = self.entries[..entry]
            .iter()
            .filter(|e| e.kind == EntryKind::User)
            .count();
        let msgs = self.conv.messages();
        let mut seen = 0;
        let mut cut = msgs.len();
        for (i, m) in msgs.iter().enumerate() {
            if m.role == crate::api::Role::User {
                if seen == users_before {
                    cut = i;
                    break;
                }
                seen += 1;
            }
        }
        let before = self.conv.clone();
        let first_turn = self.entries[entry..]
            .iter()
            .find_map(|e| match e.kind {
                EntryKind::Assistant(t) => Some(t),
                _ => None,
            })
            .unwrap_or(self.turns.len());
        let first_tool = self.entries[entry..]
            .iter()
            .find_map(|e| match e.kind {
                EntryKind::Tool(t) => Some(t),
                _ => None,
            })
            .unwrap_or(self.tools.len());
        let code_cut = self
            .code
            .iter()
            .position(|c| c.message >= entry)
            .unwrap_or(self.code.len());
        let undo = Undo {
            conv: before,
            entries: entry,
            taken: self.entries.split_off(entry),
            turns: self.turns.split_off(first_turn),
            tools: self.tools.split_off(first_tool),
            code: self.code.split_off(code_cut),
        };
        self.conv.truncate(cut);
        if let Some(a) = self.agent.as_mut() {
            a.undo = Some(Box::new(undo));
            a.selected = None;
        }
        self.selected_code = self.code.len().saturating_sub(1);
        self.reasoning_turn = None;
        self.transcript_gen += 1;
        self.conv_scroll = 0;
        self.set_input(&prompt);
        self.focus = Pane::Input;
        self.flash = Some("conversation rewound: the question is back in the box".into());
    }

    fn put_back(&mut self, u: Undo) {
        self.entries.truncate(u.entries);
        self.entries.extend(u.taken);
        self.turns.extend(u.turns);
        self.tools.extend(u.tools);
        self.code.extend(u.code);
        self.conv = u.conv;
        self.transcript_gen += 1;
        self.set_input("");
    }

    /// The runtime rewound the files.
    pub fn rewound(&mut self, r: Result<Vec<Change>, String>) {
        match r {
            Ok(c) if c.is_empty() => self.flash = Some("no files to put back".into()),
            Ok(c) => self.notice(&format!(
                "rewound {}: {}",
                crate::session::count(c.len(), "file", "files"),
                c.iter().map(|c| c.path()).collect::<Vec<_>>().join(", ")
            )),
            Err(e) => self.error(&format!("rewind: {e}")),
        }
    }

    /// Enter / x on the conversation pane: the selected tool cell opens or closes.
    pub(super) fn toggle_tool(&mut self) -> bool {
        let Some(i) = self
            .agent
            .as_ref()
            .and_then(|a| a.selected)
            .or(self.tools.len().checked_sub(1))
        else {
            return false;
        };
        if let Some(t) = self.tools.get_mut(i) {
            t.expanded = !t.expanded;
            t.rev += 1;
        }
        true
    }

    /// `[` / `]`: another tool cell selected.
    pub(super) fn select_tool(&mut self, by: i64) -> bool {
        if self.tools.is_empty() {
            return false;
        }
        let last = self.tools.len() - 1;
        let cur = self.agent.as_ref().and_then(|a| a.selected).unwrap_or(last);
        let next = super::step(cur, by).min(last);
        for i in [cur, next] {
            self.tools[i].rev += 1;
        }
        if let Some(a) = self.agent.as_mut() {
            a.selected = Some(next);
        }
        true
    }

    /// Ctrl+O: every tool cell open, or all closed.
    pub(super) fn toggle_all_tools(&mut self) {
        let open = !self.tools.iter().all(|t| t.expanded);
        for t in &mut self.tools {
            t.expanded = open;
            t.rev += 1;
        }
    }

    /// Tool cell `t` is drawn marked: selected, with the conversation pane focused.
    pub fn tool_marked(&self, t: usize) -> bool {
        self.focus == Pane::Conversation && self.selected_tool() == Some(t)
    }

    /// The selected tool cell, for the renderer's marker.
    pub fn selected_tool(&self) -> Option<usize> {
        self.agent
            .as_ref()
            .and_then(|a| a.selected)
            .or(self.tools.len().checked_sub(1))
    }
}

fn title_of(a: &Ask) -> String {
    let verb = match a.call.tool.as_str() {
        "edit_file" => "edit",
        "write_file" => "write",
        "run_command" => "run",
        "read_file" => "read",
        other => other,
    };
    format!("{verb} {}", a.call.target)
}

//! The agent loop as a pure state machine: events in (a round ended, the user decided, a
//! tool finished, stop, go on), commands out (send the next round, ask the user, run a tool,
//! cancel the tools, finished). The front end carries the commands out; nothing here does
//! I/O, so every path is tested without a network or a terminal.
//!
//! The history stays valid whatever happens: every tool call of an assistant message is
//! answered — by its result, an error the model can act on, "denied", or "cancelled by the
//! user" — and the answers are appended in the order of the calls.

use crate::api::{Role, ToolCall};
use crate::session::approval::{Policy, Rule, Verdict};
use crate::session::{Conversation, Turn, TurnState};

/// Bounds on one user turn.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Rounds with tool calls before the loop stops.
    pub max_steps: usize,
    /// The same (tool, arguments, result) this many times in a row: a note to the model.
    pub repeat_note: usize,
    /// This many: the loop stops and asks.
    pub repeat_stop: usize,
    /// Spend (USD ticks, the session's) past which a new round waits for the user.
    pub budget: Option<i64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 25,
            repeat_note: 3,
            repeat_stop: 5,
            budget: None,
        }
    }
}

/// The user's answer to an approval prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Once,
    /// Allowed, and the rule saved for the session.
    ForSession(Rule),
    /// Denied, with a note to the model.
    Deny(Option<String>),
}

#[derive(Debug, Clone)]
pub enum Event {
    /// A round ended (its reply already closed into the conversation); `spent` is the
    /// session's cost so far.
    RoundEnded {
        turn: Box<Turn>,
        spent: i64,
    },
    Decided {
        call_id: String,
        decision: Decision,
    },
    /// A tool finished: what the model reads (an error message too).
    ToolFinished {
        call_id: String,
        output: String,
    },
    /// Esc: the stream and the tools stop.
    Stop,
    /// After a pause (budget, repeated calls): the user says go on.
    Continue {
        spent: i64,
    },
}

/// Why the loop ended, or paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The model answered without calling a tool.
    Done,
    /// The round failed or was cancelled.
    Failed,
    Stopped,
    StepCap,
    /// Paused: the same call with the same result came back `count` times.
    Repeating {
        tool: String,
        count: usize,
    },
    /// Paused: the budget is spent.
    Budget {
        spent: i64,
        budget: i64,
    },
    /// The provider's loop check fired.
    DoomLoop(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SendRequest,
    AskApproval {
        call_id: String,
        call: crate::session::approval::Call,
        dangerous: Option<String>,
        /// The rule `a` would save (shown before it is saved).
        suggested: Rule,
    },
    RunTool {
        call_id: String,
        name: String,
        arguments: String,
        /// Who let it run: `user`, a rule, a session grant, the mode.
        by: String,
    },
    CancelTools,
    Finished(Outcome),
}

/// How a call's approval view is made from the wire call (the tools layer knows the
/// argument shapes; an error: the arguments do not parse, and the model is told why).
pub type Classify = fn(&ToolCall) -> Result<crate::session::approval::Call, String>;

#[derive(Debug, Clone, PartialEq)]
enum State {
    Waiting,
    Running,
    Done(String),
}

#[derive(Debug, Clone)]
struct Pending {
    call: ToolCall,
    view: Option<crate::session::approval::Call>,
    state: State,
    /// Its answer came from the tool (not from the loop: an error, a denial, a cancel).
    ran: bool,
    /// Its answer was handed out by `take_answered`.
    reported: bool,
}

/// A call answered without running (bad arguments, denied, cancelled, not run), for the
/// front end to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub call_id: String,
    pub name: String,
    pub arguments: String,
    pub output: String,
}

pub struct AgentLoop {
    pub policy: Policy,
    pub limits: Limits,
    classify: Classify,
    steps: usize,
    pending: Vec<Pending>,
    /// The last (tool, arguments, result) and how many times in a row it came.
    last: Option<(String, String, String)>,
    repeats: usize,
    pause: Option<Outcome>,
    /// The session's spend as of the last round.
    spent: i64,
    answered: Vec<Answered>,
}

impl AgentLoop {
    pub fn new(policy: Policy, limits: Limits, classify: Classify) -> AgentLoop {
        AgentLoop {
            policy,
            limits,
            classify,
            steps: 0,
            pending: Vec::new(),
            last: None,
            repeats: 0,
            pause: None,
            spent: 0,
            answered: Vec::new(),
        }
    }

    /// A new user turn: the step count and the repeat guard start again (the policy and its
    /// session grants stay).
    pub fn begin(&mut self) {
        self.steps = 0;
        self.pending.clear();
        self.last = None;
        self.repeats = 0;
        self.pause = None;
    }

    /// The calls answered without running since the last call, in call order.
    pub fn take_answered(&mut self) -> Vec<Answered> {
        self.report();
        std::mem::take(&mut self.answered)
    }

    fn report(&mut self) {
        for p in &mut self.pending {
            if let (State::Done(out), false, false) = (&p.state, p.ran, p.reported) {
                p.reported = true;
                self.answered.push(Answered {
                    call_id: p.call.id.clone(),
                    name: p.call.function.name.clone(),
                    arguments: p.call.function.arguments.clone(),
                    output: out.clone(),
                });
            }
        }
    }

    /// A pending call's tool and arguments.
    pub fn call(&self, id: &str) -> Option<(String, String)> {
        self.pending.iter().find(|p| p.call.id == id).map(|p| {
            (
                p.call.function.name.clone(),
                p.call.function.arguments.clone(),
            )
        })
    }

    pub fn steps(&self) -> usize {
        self.steps
    }

    pub fn on(&mut self, ev: Event, conv: &mut Conversation) -> Vec<Command> {
        match ev {
            Event::RoundEnded { turn, spent } => self.round_ended(turn, spent, conv),
            Event::Decided { call_id, decision } => self.decided(&call_id, decision, conv),
            Event::ToolFinished { call_id, output } => {
                if let Some(p) = self.find(&call_id) {
                    if p.state != State::Running {
                        return vec![];
                    }
                    let (name, args) = (
                        p.call.function.name.clone(),
                        p.call.function.arguments.clone(),
                    );
                    let output = self.guard_repeats(name, args, output);
                    if let Some(p) = self.find(&call_id) {
                        p.state = State::Done(output);
                        p.ran = true;
                    }
                }
                self.settle(conv)
            }
            Event::Stop => {
                let running = self.pending.iter().any(|p| p.state == State::Running);
                for p in &mut self.pending {
                    if !matches!(p.state, State::Done(_)) {
                        p.state = State::Done("cancelled by the user".into());
                    }
                }
                self.flush_results(conv);
                let mut out = Vec::new();
                if running {
                    out.push(Command::CancelTools);
                }
                out.push(Command::Finished(Outcome::Stopped));
                out
            }
            Event::Continue { spent } => {
                let Some(paused) = self.pause.take() else {
                    return vec![];
                };
                self.spent = spent;
                self.repeats = 0;
                if matches!(paused, Outcome::Budget { .. }) {
                    // Going on past the budget is the user's call (`/budget` sets a new one).
                    self.limits.budget = None;
                }
                vec![Command::SendRequest]
            }
        }
    }

    fn find(&mut self, id: &str) -> Option<&mut Pending> {
        self.pending.iter_mut().find(|p| p.call.id == id)
    }

    fn round_ended(
        &mut self,
        turn: Box<Turn>,
        spent: i64,
        conv: &mut Conversation,
    ) -> Vec<Command> {
        self.spent = spent;
        let calls: Vec<ToolCall> = conv
            .messages()
            .last()
            .filter(|m| m.role == Role::Assistant)
            .map(|m| m.tool_calls.clone())
            .unwrap_or_default();
        if turn.state != TurnState::Done {
            // Calls of a cut-off round are answered, so the history stays valid.
            self.pending = calls
                .into_iter()
                .map(|call| Pending {
                    call,
                    view: None,
                    ran: false,
                    reported: false,
                    state: State::Done("not run: the reply was cut off".into()),
                })
                .collect();
            self.flush_results(conv);
            return vec![Command::Finished(if turn.state == TurnState::Cancelled {
                Outcome::Stopped
            } else {
                Outcome::Failed
            })];
        }
        if let Some(d) = &turn.doom_loop {
            self.pending = calls
                .into_iter()
                .map(|call| Pending {
                    call,
                    view: None,
                    ran: false,
                    reported: false,
                    state: State::Done(format!("not run: the provider's loop check fired ({d})")),
                })
                .collect();
            self.flush_results(conv);
            return vec![Command::Finished(Outcome::DoomLoop(d.clone()))];
        }
        if calls.is_empty() {
            return vec![Command::Finished(Outcome::Done)];
        }
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            let max = self.limits.max_steps;
            self.pending = calls
                .into_iter()
                .map(|call| Pending {
                    call,
                    view: None,
                    ran: false,
                    reported: false,
                    state: State::Done(format!(
                        "not run: the limit of {max} tool steps for one message was reached"
                    )),
                })
                .collect();
            self.flush_results(conv);
            return vec![Command::Finished(Outcome::StepCap)];
        }
        self.pending = calls
            .into_iter()
            .map(|call| {
                let view = (self.classify)(&call);
                match view {
                    Ok(v) => Pending {
                        call,
                        view: Some(v),
                        state: State::Waiting,
                        ran: false,
                        reported: false,
                    },
                    Err(e) => Pending {
                        call,
                        view: None,
                        state: State::Done(format!("error: {e}")),
                        ran: false,
                        reported: false,
                    },
                }
            })
            .collect();
        let mut out = Vec::new();
        for i in 0..self.pending.len() {
            out.extend(self.decide(i));
        }
        out.extend(self.settle(conv));
        out
    }

    /// The policy's verdict on waiting call `i`: run it, ask, or answer "denied".
    fn decide(&mut self, i: usize) -> Vec<Command> {
        let p = &mut self.pending[i];
        let Some(view) = p.view.clone().filter(|_| p.state == State::Waiting) else {
            return vec![];
        };
        match self.policy.decide(&view) {
            Verdict::Allow => {
                p.state = State::Running;
                vec![Command::RunTool {
                    call_id: p.call.id.clone(),
                    name: p.call.function.name.clone(),
                    arguments: p.call.function.arguments.clone(),
                    by: self.policy.allowed_by(&view),
                }]
            }
            Verdict::Deny(why) => {
                p.state = State::Done(format!("denied: {why}"));
                vec![]
            }
            Verdict::Ask { dangerous } => vec![Command::AskApproval {
                call_id: p.call.id.clone(),
                suggested: Rule::suggested(&view),
                call: view,
                dangerous,
            }],
        }
    }

    fn decided(&mut self, id: &str, d: Decision, conv: &mut Conversation) -> Vec<Command> {
        let Some(i) = self.pending.iter().position(|p| p.call.id == id) else {
            return vec![];
        };
        if self.pending[i].state != State::Waiting {
            return vec![];
        }
        let mut out = Vec::new();
        match d {
            Decision::Deny(note) => {
                self.pending[i].state = State::Done(match note {
                    Some(n) => format!("denied by the user: {n}"),
                    None => "denied by the user".into(),
                });
            }
            Decision::Once | Decision::ForSession(_) => {
                if let Decision::ForSession(rule) = d {
                    self.policy.granted.push(rule);
                    // The grant may cover other calls still waiting for an answer.
                    for j in 0..self.pending.len() {
                        if j != i && self.pending[j].state == State::Waiting {
                            let allowed = self.pending[j]
                                .view
                                .as_ref()
                                .is_some_and(|v| self.policy.decide(v) == Verdict::Allow);
                            if allowed {
                                out.extend(self.decide(j));
                            }
                        }
                    }
                }
                let p = &mut self.pending[i];
                p.state = State::Running;
                out.push(Command::RunTool {
                    call_id: p.call.id.clone(),
                    name: p.call.function.name.clone(),
                    arguments: p.call.function.arguments.clone(),
                    by: "user".into(),
                });
            }
        }
        out.extend(self.settle(conv));
        out
    }

    /// The same call with the same result again and again: a note, then a pause.
    fn guard_repeats(&mut self, name: String, args: String, output: String) -> String {
        let key = (name.clone(), args, output.clone());
        if self.last.as_ref() == Some(&key) {
            self.repeats += 1;
        } else {
            self.last = Some(key);
            self.repeats = 1;
        }
        if self.repeats >= self.limits.repeat_stop {
            self.pause = Some(Outcome::Repeating {
                tool: name,
                count: self.repeats,
            });
            output
        } else if self.repeats >= self.limits.repeat_note {
            format!(
                "{output}\n(note: this is the same {name} call with the same result {} times in a row: try something else)",
                self.repeats
            )
        } else {
            output
        }
    }

    /// Once every call is answered: the results join the history in order, then the next
    /// round goes out (or the loop pauses).
    fn settle(&mut self, conv: &mut Conversation) -> Vec<Command> {
        if self.pending.is_empty()
            || self
                .pending
                .iter()
                .any(|p| !matches!(p.state, State::Done(_)))
        {
            return vec![];
        }
        self.flush_results(conv);
        if let Some(p) = self.pause.clone() {
            return vec![Command::Finished(p)];
        }
        if let Some(budget) = self.limits.budget.filter(|b| self.spent >= *b) {
            let o = Outcome::Budget {
                spent: self.spent,
                budget,
            };
            self.pause = Some(o.clone());
            return vec![Command::Finished(o)];
        }
        vec![Command::SendRequest]
    }

    fn flush_results(&mut self, conv: &mut Conversation) {
        self.report();
        for p in std::mem::take(&mut self.pending) {
            let State::Done(output) = p.state else {
                continue;
            };
            conv.push_tool_result(&p.call.id, output);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::FunctionCall;
    use crate::session::approval::{Call, Kind, Mode};

    fn classify(c: &ToolCall) -> Result<Call, String> {
        let kind = match c.function.name.as_str() {
            "read_file" => Kind::Read,
            "edit_file" => Kind::Edit,
            "run_command" => Kind::Command,
            other => return Err(format!("no tool `{other}`")),
        };
        Ok(Call {
            tool: c.function.name.clone(),
            kind,
            target: c.function.arguments.clone(),
        })
    }

    fn call(id: &str, name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            kind: "function".into(),
            function: FunctionCall {
                name: name.into(),
                arguments: args.into(),
            },
        }
    }

    /// A round that asked for `calls`, closed into `conv` as the runner does.
    fn round(conv: &mut Conversation, calls: Vec<ToolCall>) -> Event {
        let mut t = Turn::new("m");
        t.tool_calls = calls;
        t.state = TurnState::Done;
        conv.push_turn(&t);
        Event::RoundEnded {
            turn: Box::new(t),
            spent: 0,
        }
    }

    fn answered(conv: &Conversation) -> bool {
        // Every assistant tool call is followed by its result, in order.
        let m = conv.messages();
        m.iter().enumerate().all(|(i, msg)| {
            msg.tool_calls.iter().enumerate().all(|(k, c)| {
                m.get(i + 1 + k).is_some_and(|r| {
                    r.role == Role::Tool && r.tool_call_id.as_deref() == Some(&c.id)
                })
            })
        })
    }

    #[test]
    fn reads_run_edits_ask_and_results_join_in_call_order() {
        let mut conv = Conversation::new(None);
        conv.push_user("fix it");
        let mut a = AgentLoop::new(Policy::new(Mode::Ask), Limits::default(), classify);
        let cmds = a.on(
            round(
                &mut conv,
                vec![
                    call("1", "read_file", "src/a.rs"),
                    call("2", "edit_file", "src/a.rs"),
                    call("3", "nope", ""),
                ],
            ),
            &mut conv,
        );
        assert!(matches!(&cmds[0], Command::RunTool { call_id, .. } if call_id == "1"));
        assert!(
            matches!(&cmds[1], Command::AskApproval { call_id, suggested, .. } if call_id == "2" && suggested.to_string() == "edit_file: src/a.rs")
        );
        assert_eq!(cmds.len(), 2);
        // The edit is allowed and finishes before the read: results still go in call order.
        let cmds = a.on(
            Event::Decided {
                call_id: "2".into(),
                decision: Decision::Once,
            },
            &mut conv,
        );
        assert!(matches!(&cmds[..], [Command::RunTool { call_id, .. }] if call_id == "2"));
        assert!(a
            .on(
                Event::ToolFinished {
                    call_id: "2".into(),
                    output: "edited".into()
                },
                &mut conv
            )
            .is_empty());
        let cmds = a.on(
            Event::ToolFinished {
                call_id: "1".into(),
                output: "text".into(),
            },
            &mut conv,
        );
        assert_eq!(cmds, [Command::SendRequest]);
        assert!(answered(&conv));
        let results: Vec<&str> = conv.messages()[2..]
            .iter()
            .map(|m| m.content.as_str())
            .collect();
        assert_eq!(results, ["text", "edited", "error: no tool `nope`"]);
        // A round without calls ends the turn.
        let mut t = Turn::new("m");
        t.content = "done".into();
        t.state = TurnState::Done;
        conv.push_turn(&t);
        assert_eq!(
            a.on(
                Event::RoundEnded {
                    turn: Box::new(t),
                    spent: 0
                },
                &mut conv
            ),
            [Command::Finished(Outcome::Done)]
        );
        assert_eq!(a.steps(), 1);
    }

    #[test]
    fn stop_answers_every_call_and_denials_reach_the_model() {
        let mut conv = Conversation::new(None);
        let mut a = AgentLoop::new(Policy::new(Mode::Ask), Limits::default(), classify);
        a.on(
            round(
                &mut conv,
                vec![
                    call("1", "read_file", "a"),
                    call("2", "run_command", "make"),
                ],
            ),
            &mut conv,
        );
        let cmds = a.on(Event::Stop, &mut conv);
        assert_eq!(
            cmds,
            [Command::CancelTools, Command::Finished(Outcome::Stopped)]
        );
        assert!(answered(&conv));
        assert!(conv
            .messages()
            .iter()
            .filter(|m| m.role == Role::Tool)
            .all(|m| m.content == "cancelled by the user"));
        // A denial with a note.
        let mut conv = Conversation::new(None);
        let mut a = AgentLoop::new(Policy::new(Mode::Ask), Limits::default(), classify);
        a.on(
            round(&mut conv, vec![call("9", "run_command", "rm -rf x")]),
            &mut conv,
        );
        let cmds = a.on(
            Event::Decided {
                call_id: "9".into(),
                decision: Decision::Deny(Some("use git clean".into())),
            },
            &mut conv,
        );
        assert_eq!(cmds, [Command::SendRequest]);
        assert_eq!(
            conv.messages().last().unwrap().content,
            "denied by the user: use git clean"
        );
        // Read-only mode: edits are denied without asking.
        let mut conv = Conversation::new(None);
        let mut a = AgentLoop::new(Policy::new(Mode::ReadOnly), Limits::default(), classify);
        let cmds = a.on(
            round(&mut conv, vec![call("5", "edit_file", "a")]),
            &mut conv,
        );
        assert_eq!(cmds, [Command::SendRequest]);
        assert!(conv
            .messages()
            .last()
            .unwrap()
            .content
            .starts_with("denied: read-only mode"));
    }

    #[test]
    fn a_session_grant_covers_the_calls_still_waiting() {
        let mut conv = Conversation::new(None);
        let mut a = AgentLoop::new(Policy::new(Mode::Ask), Limits::default(), classify);
        let cmds = a.on(
            round(
                &mut conv,
                vec![
                    call("1", "run_command", "cargo test -p a"),
                    call("2", "run_command", "cargo test -p b"),
                ],
            ),
            &mut conv,
        );
        assert_eq!(cmds.len(), 2);
        let Command::AskApproval { suggested, .. } = &cmds[0] else {
            panic!("{cmds:?}")
        };
        let cmds = a.on(
            Event::Decided {
                call_id: "1".into(),
                decision: Decision::ForSession(suggested.clone()),
            },
            &mut conv,
        );
        let ran: Vec<&str> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::RunTool { call_id, .. } => Some(call_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ran, ["2", "1"]);
    }

    #[test]
    fn steps_repeats_budget_and_the_doom_loop_stop_the_loop() {
        let mut conv = Conversation::new(None);
        let limits = Limits {
            max_steps: 2,
            ..Limits::default()
        };
        let mut a = AgentLoop::new(Policy::new(Mode::Yolo), limits, classify);
        for k in 0..2 {
            let id = format!("c{k}");
            a.on(
                round(&mut conv, vec![call(&id, "read_file", "a")]),
                &mut conv,
            );
            a.on(
                Event::ToolFinished {
                    call_id: id,
                    output: "same".into(),
                },
                &mut conv,
            );
        }
        let cmds = a.on(
            round(&mut conv, vec![call("c2", "read_file", "a")]),
            &mut conv,
        );
        assert_eq!(cmds, [Command::Finished(Outcome::StepCap)]);
        assert!(answered(&conv));
        // The same call and result: a note at 3, a pause at 5, going on when told.
        let mut conv = Conversation::new(None);
        let mut a = AgentLoop::new(Policy::new(Mode::Yolo), Limits::default(), classify);
        let mut last = Vec::new();
        for k in 0..5 {
            let id = format!("r{k}");
            a.on(
                round(&mut conv, vec![call(&id, "read_file", "a")]),
                &mut conv,
            );
            last = a.on(
                Event::ToolFinished {
                    call_id: id,
                    output: "same".into(),
                },
                &mut conv,
            );
            if k == 2 {
                assert!(conv
                    .messages()
                    .last()
                    .unwrap()
                    .content
                    .contains("3 times in a row"));
            }
        }
        assert_eq!(
            last,
            [Command::Finished(Outcome::Repeating {
                tool: "read_file".into(),
                count: 5
            })]
        );
        assert_eq!(
            a.on(Event::Continue { spent: 0 }, &mut conv),
            [Command::SendRequest]
        );
        // The budget pauses before the next round.
        let mut conv = Conversation::new(None);
        let limits = Limits {
            budget: Some(100),
            ..Limits::default()
        };
        let mut a = AgentLoop::new(Policy::new(Mode::Yolo), limits, classify);
        let mut t = Turn::new("m");
        t.tool_calls = vec![call("b", "read_file", "a")];
        t.state = TurnState::Done;
        conv.push_turn(&t);
        a.on(
            Event::RoundEnded {
                turn: Box::new(t),
                spent: 150,
            },
            &mut conv,
        );
        let cmds = a.on(
            Event::ToolFinished {
                call_id: "b".into(),
                output: "x".into(),
            },
            &mut conv,
        );
        assert_eq!(
            cmds,
            [Command::Finished(Outcome::Budget {
                spent: 150,
                budget: 100
            })]
        );
        assert!(answered(&conv), "the results are in before the pause");
        assert_eq!(
            a.on(Event::Continue { spent: 150 }, &mut conv),
            [Command::SendRequest]
        );
        // The provider's loop check.
        let mut conv = Conversation::new(None);
        let mut a = AgentLoop::new(Policy::new(Mode::Yolo), Limits::default(), classify);
        let mut t = Turn::new("m");
        t.tool_calls = vec![call("d", "read_file", "a")];
        t.state = TurnState::Done;
        t.doom_loop = Some("same call 4 times".into());
        conv.push_turn(&t);
        let cmds = a.on(
            Event::RoundEnded {
                turn: Box::new(t),
                spent: 0,
            },
            &mut conv,
        );
        assert_eq!(
            cmds,
            [Command::Finished(Outcome::DoomLoop(
                "same call 4 times".into()
            ))]
        );
        assert!(answered(&conv));
    }
}

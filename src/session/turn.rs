//! One model turn, assembled from stream events, with its timing metrics.

use serde::Serialize;
use std::time::Duration;

use crate::api::types::{Citation, ServerTool};
use crate::api::{ApiError, StreamEvent, TimedEvent, ToolCall, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnState {
    Connecting,
    Thinking,
    Answering,
    Done,
    Failed,
    Cancelled,
}

/// Everything that arrived for one request. Nothing is ever thrown away: a failed or cancelled
/// turn keeps its partial reasoning and answer.
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    pub asked_model: String,
    pub served_model: Option<String>,
    pub response_id: Option<String>,
    pub reasoning: String,
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    /// Responses API reasoning items, echoed back with the next request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasoning_items: Vec<serde_json::Value>,
    /// Tools the provider ran itself, each at its latest status, in the order they began.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_tools: Vec<ServerTool>,
    /// Sources the answer cites, numbered in this order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<Citation>,
    /// The provider's loop check fired (xAI `response.doom_loop_check`): what triggered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doom_loop: Option<String>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    pub error: Option<ApiError>,
    pub notices: Vec<String>,
    pub retries: u32,
    pub state: TurnState,
    pub timing: Timing,
}

/// Arrival times, measured from when the request was first sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    pub first_output: Option<Duration>,
    pub first_reasoning: Option<Duration>,
    pub last_reasoning: Option<Duration>,
    pub first_content: Option<Duration>,
    pub last_output: Option<Duration>,
    pub end: Option<Duration>,
    pub reasoning_deltas: u64,
    pub content_deltas: u64,
}

/// Derived figures for display.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub ttft: Option<Duration>,
    /// From the first reasoning delta until the answer began (or, for hidden reasoning, the
    /// silence before the first answer token).
    pub reasoning_time: Option<Duration>,
    pub answer_time: Option<Duration>,
    /// Output tokens: exact once usage arrived, estimated while streaming.
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub tokens_estimated: bool,
    pub tokens_per_sec: Option<f64>,
}

/// ~4 characters per token, but never fewer tokens than deltas (providers send about one token
/// per delta).
pub fn estimate_tokens(chars: usize, deltas: u64) -> u64 {
    ((chars as u64).div_ceil(4)).max(deltas)
}

impl Turn {
    pub fn new(asked_model: impl Into<String>) -> Self {
        Turn {
            asked_model: asked_model.into(),
            served_model: None,
            response_id: None,
            reasoning: String::new(),
            content: String::new(),
            tool_calls: Vec::new(),
            reasoning_items: Vec::new(),
            server_tools: Vec::new(),
            citations: Vec::new(),
            doom_loop: None,
            usage: None,
            finish_reason: None,
            error: None,
            notices: Vec::new(),
            retries: 0,
            state: TurnState::Connecting,
            timing: Timing::default(),
        }
    }

    /// The model to show: the served one, which may differ from the one asked for.
    pub fn model(&self) -> &str {
        self.served_model.as_deref().unwrap_or(&self.asked_model)
    }

    /// True when the provider served a different model than the one asked for (beyond a
    /// provider prefix like `x-ai/`).
    pub fn model_differs(&self) -> bool {
        self.served_model.as_deref().is_some_and(|s| {
            crate::session::catalog::normalize(s)
                != crate::session::catalog::normalize(&self.asked_model)
        })
    }

    /// What an interrupted turn kept, in words (`partial answer and reasoning kept`), or
    /// None when nothing had arrived.
    pub fn kept(&self) -> Option<&'static str> {
        match (self.content.is_empty(), self.reasoning.is_empty()) {
            (false, false) => Some("partial answer and reasoning kept"),
            (false, true) => Some("partial answer kept"),
            (true, false) => Some("partial reasoning kept"),
            (true, true) => None,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            TurnState::Done | TurnState::Failed | TurnState::Cancelled
        )
    }

    pub fn apply(&mut self, ev: &TimedEvent) {
        let at = ev.at;
        if ev.event.is_output() {
            self.timing.first_output.get_or_insert(at);
            self.timing.last_output = Some(at);
        }
        match &ev.event {
            StreamEvent::Started { model, id } => {
                if model.is_some() {
                    self.served_model = model.clone();
                }
                self.response_id = id.clone();
                if self.state == TurnState::Connecting {
                    self.state = TurnState::Thinking;
                }
            }
            StreamEvent::Reasoning(r) => {
                self.timing.first_reasoning.get_or_insert(at);
                self.timing.last_reasoning = Some(at);
                self.timing.reasoning_deltas += 1;
                self.reasoning.push_str(r);
                self.state = TurnState::Thinking;
            }
            StreamEvent::Content(c) => {
                self.timing.first_content.get_or_insert(at);
                self.timing.content_deltas += 1;
                self.content.push_str(c);
                self.state = TurnState::Answering;
            }
            StreamEvent::ToolCall(d) => {
                self.timing.first_content.get_or_insert(at);
                self.timing.content_deltas += 1;
                self.state = TurnState::Answering;
                while self.tool_calls.len() <= d.index {
                    self.tool_calls.push(ToolCall {
                        id: String::new(),
                        kind: "function".into(),
                        function: crate::api::types::FunctionCall {
                            name: String::new(),
                            arguments: String::new(),
                        },
                    });
                }
                let tc = &mut self.tool_calls[d.index];
                if let Some(id) = &d.id {
                    tc.id = id.clone();
                }
                if let Some(n) = &d.name {
                    tc.function.name.push_str(n);
                }
                tc.function.arguments.push_str(&d.arguments);
            }
            StreamEvent::ReasoningItem(item) => self.reasoning_items.push(item.clone()),
            StreamEvent::ServerTool(t) => {
                match self.server_tools.iter_mut().find(|s| s.id == t.id) {
                    Some(s) => {
                        s.status.clone_from(&t.status);
                        if t.detail.is_some() {
                            s.detail.clone_from(&t.detail);
                        }
                    }
                    None => self.server_tools.push(t.clone()),
                }
                if self.state == TurnState::Connecting {
                    self.state = TurnState::Thinking;
                }
            }
            StreamEvent::Citation(c) => {
                if !self.citations.iter().any(|x| x.url == c.url) {
                    self.citations.push(c.clone());
                }
            }
            StreamEvent::DoomLoop(d) => self.doom_loop = Some(d.clone()),
            StreamEvent::Usage(u) => self.usage = Some(u.clone()),
            StreamEvent::Notice(n) => self.notices.push(n.clone()),
            StreamEvent::Retrying { .. } => {
                // Nothing of a failed attempt is answered or echoed later.
                self.reasoning_items.clear();
                self.server_tools.clear();
                self.citations.clear();
                self.retries += 1;
                self.state = TurnState::Connecting;
            }
            StreamEvent::Finished { reason } => {
                self.finish_reason = reason.clone();
                self.timing.end = Some(at);
                self.state = TurnState::Done;
            }
            StreamEvent::Error(e) => {
                self.error = Some(e.clone());
                self.timing.end = Some(at);
                self.state = TurnState::Failed;
            }
        }
    }

    /// Marks the turn cancelled by the user at `at`; what arrived stays.
    pub fn cancel(&mut self, at: Duration) {
        if !self.is_finished() {
            self.state = TurnState::Cancelled;
            self.timing.end = Some(at);
        }
    }

    /// Metrics as of `now` (time since the request was sent). `includes_reasoning` is the
    /// provider default for whether completion_tokens counts reasoning.
    pub fn metrics(&self, now: Duration, includes_reasoning: bool) -> Metrics {
        let t = &self.timing;
        let end = t.end.unwrap_or(now);
        let ttft = t.first_output;
        let reasoning_time = match (t.first_reasoning, t.first_content) {
            (Some(r), Some(c)) => Some(c.saturating_sub(r)),
            (Some(r), None) => Some(end.saturating_sub(r)),
            // Hidden reasoning: the model thought during the wait for its first token.
            (None, Some(c)) if self.usage.as_ref().is_some_and(|u| u.reasoning() > 0) => Some(c),
            _ => None,
        };
        let answer_time = t.first_content.map(|c| end.saturating_sub(c));
        let (output_tokens, reasoning_tokens, estimated) = match &self.usage {
            Some(u) => {
                let inc = u
                    .completion_includes_reasoning()
                    .unwrap_or(includes_reasoning);
                match u.reasoning_tokens {
                    Some(r) => (u.billed_output(inc), r, false),
                    // Servers like llama.cpp count reasoning inside completion_tokens without
                    // saying how much of it was reasoning: estimate that share from the text.
                    None if !self.reasoning.is_empty() => {
                        let r = estimate_tokens(self.reasoning.len(), t.reasoning_deltas)
                            .min(u.completion_tokens);
                        (u.billed_output(inc), r, true)
                    }
                    None => (u.billed_output(inc), 0, false),
                }
            }
            None => {
                let r = estimate_tokens(self.reasoning.len(), t.reasoning_deltas);
                let c = estimate_tokens(
                    self.content.len()
                        + self
                            .tool_calls
                            .iter()
                            .map(|c| c.function.arguments.len())
                            .sum::<usize>(),
                    t.content_deltas,
                );
                (r + c, r, true)
            }
        };
        // Rate over the time output was actually streaming. Hidden reasoning tokens were
        // produced before the first token arrived, so they are not part of the visible rate.
        let visible_tokens = match (&self.usage, t.first_reasoning) {
            (Some(_), None) => output_tokens.saturating_sub(reasoning_tokens),
            _ => output_tokens,
        };
        let span = ttft.map(|f| end.saturating_sub(f));
        let tokens_per_sec = match span {
            Some(s) if s >= Duration::from_millis(20) && visible_tokens > 0 => {
                Some(visible_tokens as f64 / s.as_secs_f64())
            }
            _ => None,
        };
        Metrics {
            ttft,
            reasoning_time,
            answer_time,
            output_tokens,
            reasoning_tokens,
            tokens_estimated: estimated,
            tokens_per_sec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ToolCallDelta;

    fn at(ms: u64, event: StreamEvent) -> TimedEvent {
        TimedEvent {
            at: Duration::from_millis(ms),
            event,
        }
    }

    /// An interrupted turn says what it kept, and only that.
    #[test]
    fn kept_names_what_arrived() {
        let mut t = Turn::new("m");
        assert_eq!(t.kept(), None);
        t.reasoning.push_str("hm");
        assert_eq!(t.kept(), Some("partial reasoning kept"));
        t.content.push_str("an");
        assert_eq!(t.kept(), Some("partial answer and reasoning kept"));
        t.reasoning.clear();
        assert_eq!(t.kept(), Some("partial answer kept"));
    }

    #[test]
    fn assembles_and_times() {
        let mut t = Turn::new("grok-4-fast");
        for e in [
            at(
                5,
                StreamEvent::Started {
                    model: Some("grok-4-fast-reasoning".into()),
                    id: None,
                },
            ),
            at(100, StreamEvent::Reasoning("think".into())),
            at(300, StreamEvent::Content("Hi".into())),
            at(500, StreamEvent::Content(" there".into())),
            at(
                510,
                StreamEvent::Finished {
                    reason: Some("stop".into()),
                },
            ),
        ] {
            t.apply(&e);
        }
        assert_eq!(t.content, "Hi there");
        assert!(t.model_differs());
        let m = t.metrics(Duration::from_secs(9), false);
        assert_eq!(m.ttft, Some(Duration::from_millis(100)));
        assert_eq!(m.reasoning_time, Some(Duration::from_millis(200)));
        assert_eq!(m.answer_time, Some(Duration::from_millis(210)));
        assert!(m.tokens_estimated);
        assert_eq!(m.output_tokens, 2 + 2);
    }

    #[test]
    fn tool_calls_accumulate_by_index() {
        let mut t = Turn::new("m");
        let d = |i, id: Option<&str>, name: Option<&str>, a: &str| {
            at(
                1,
                StreamEvent::ToolCall(ToolCallDelta {
                    index: i,
                    id: id.map(Into::into),
                    name: name.map(Into::into),
                    arguments: a.into(),
                }),
            )
        };
        t.apply(&d(0, Some("c0"), Some("add"), ""));
        t.apply(&d(1, Some("c1"), Some("mul"), "{\"a\":2}"));
        t.apply(&d(0, None, None, "{\"a\":"));
        t.apply(&d(0, None, None, "1}"));
        assert_eq!(t.tool_calls[0].function.arguments, "{\"a\":1}");
        assert_eq!(t.tool_calls[1].function.name, "mul");
    }

    #[test]
    fn failure_keeps_partial() {
        let mut t = Turn::new("m");
        t.apply(&at(1, StreamEvent::Content("partial".into())));
        t.apply(&at(
            2,
            StreamEvent::Error(ApiError::new(crate::api::ErrorKind::Stalled, "x")),
        ));
        assert_eq!(t.content, "partial");
        assert_eq!(t.state, TurnState::Failed);
    }
}

//! Protocol types shared by request building and stream parsing.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

/// A chat message as sent to the provider. Field order is fixed so that serialising the same
/// history always yields the same bytes (prompt caches key on the exact prefix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Responses API reasoning items of an assistant reply, kept verbatim (with their
    /// `encrypted_content`) to be echoed back: with `store: false` the server keeps no state,
    /// and the prompt cache misses without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasoning_items: Vec<serde_json::Value>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            reasoning_content: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            reasoning_items: Vec::new(),
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

/// One tool-call fragment from a delta. xAI sends a call whole; others send the id and name
/// first and the arguments in pieces, all keyed by `index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    pub index: usize,
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// A server-side tool the provider ran itself (xAI's `web_search_call`, `x_search_call`,
/// `code_interpreter_call`, `custom_tool_call`, …): progress to show, nothing to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTool {
    /// The output item's id: progress updates of one call share it.
    pub id: String,
    /// `web_search`, `x_keyword_search`, `code_interpreter`, …
    pub name: String,
    /// `in_progress`, `searching`, `completed`, `failed`, …
    pub status: String,
    /// What it was asked (a query, the call's input), when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A source the answer cites (`url_citation` annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Token usage as reported by the provider, normalised across providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    /// Part of `prompt_tokens` served from the provider's prompt cache
    /// (`prompt_tokens_details.cached_tokens`, or llama.cpp's `timings.cache_n`).
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
    /// Billed cost as reported by the provider, in ticks (1 USD = 1e10 ticks): xAI's
    /// `cost_in_usd_ticks` or OpenRouter's `cost` (USD).
    #[serde(default)]
    pub reported_cost_ticks: Option<i64>,
}

impl Usage {
    pub fn cached(&self) -> u64 {
        self.cached_tokens.unwrap_or(0).min(self.prompt_tokens)
    }
    pub fn reasoning(&self) -> u64 {
        self.reasoning_tokens.unwrap_or(0)
    }

    /// Whether `completion_tokens` already counts the reasoning tokens, inferred from
    /// `total_tokens`: xAI's total is prompt + completion + reasoning (completion excludes
    /// reasoning); OpenRouter's and OpenAI's is prompt + completion. `None` when the numbers
    /// cannot tell (no reasoning, or no total).
    pub fn completion_includes_reasoning(&self) -> Option<bool> {
        let r = self.reasoning();
        let total = self.total_tokens?;
        if r == 0 {
            return None;
        }
        // Saturating: a hostile server's numbers must not overflow.
        let visible = self.prompt_tokens.saturating_add(self.completion_tokens);
        if total == visible.saturating_add(r) {
            Some(false)
        } else if total == visible {
            Some(true)
        } else {
            None
        }
    }

    /// Tokens billed at the output price: completion plus reasoning, counted once.
    pub fn billed_output(&self, includes_reasoning: bool) -> u64 {
        if includes_reasoning {
            self.completion_tokens.max(self.reasoning())
        } else {
            self.completion_tokens.saturating_add(self.reasoning())
        }
    }

    /// Visible answer tokens (without reasoning).
    pub fn answer_tokens(&self, includes_reasoning: bool) -> u64 {
        if includes_reasoning {
            self.completion_tokens.saturating_sub(self.reasoning())
        } else {
            self.completion_tokens
        }
    }
}

/// What the streaming engine reports, in arrival order. Serialized (externally tagged, snake
/// case) into session files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamEvent {
    /// The first chunk arrived; `model` is the model that actually served the request.
    Started {
        model: Option<String>,
        id: Option<String>,
    },
    Reasoning(String),
    Content(String),
    ToolCall(ToolCallDelta),
    Usage(Usage),
    /// A Responses API reasoning item, whole (id, summary, `encrypted_content`): kept on the
    /// assistant message and echoed back verbatim on the next request.
    ReasoningItem(serde_json::Value),
    /// Progress of a tool the provider runs itself.
    ServerTool(ServerTool),
    /// A source cited by the answer.
    Citation(Citation),
    /// xAI's `response.doom_loop_check`: the server thinks the model is repeating itself.
    /// The text says what triggered it.
    DoomLoop(String),
    /// Something the user should know that does not end the stream (a dropped parameter,
    /// a skipped malformed chunk).
    Notice(String),
    /// A failed attempt that will be retried after `delay`.
    Retrying {
        attempt: u32,
        #[serde(with = "crate::api::types::millis")]
        delay: Duration,
        error: ApiError,
    },
    /// The stream ended normally; `reason` is the last `finish_reason` seen.
    Finished {
        reason: Option<String>,
    },
    /// The stream ended with an error. Whatever arrived before it stays valid.
    Error(ApiError),
}

impl StreamEvent {
    /// True for events that end a stream (exactly one of them ends every uncancelled stream).
    pub fn is_terminal(&self) -> bool {
        matches!(self, StreamEvent::Finished { .. } | StreamEvent::Error(_))
    }
    /// True for model output (the events that count for time to first token).
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            StreamEvent::Reasoning(_) | StreamEvent::Content(_) | StreamEvent::ToolCall(_)
        )
    }

    /// True once the provider has done work it may bill: output, and on Responses a
    /// reasoning item, a server-side tool call or a cited source. A request past this point
    /// is never sent again.
    pub fn is_work(&self) -> bool {
        self.is_output()
            || matches!(
                self,
                StreamEvent::ReasoningItem(_)
                    | StreamEvent::ServerTool(_)
                    | StreamEvent::Citation(_)
            )
    }
}

/// An event with its arrival time, measured from when the request was first sent.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub at: Duration,
    pub event: StreamEvent,
}

/// Durations as integer milliseconds in saved files.
pub mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&(d.as_millis() as u64)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
        }
    }
}

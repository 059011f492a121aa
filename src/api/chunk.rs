//! Decoding of `chat.completion.chunk` payloads (and whole non-streaming completions) into
//! typed stream events.

use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ErrorKind};
use super::types::{StreamEvent, ToolCallDelta, Usage};

#[derive(Deserialize)]
struct Chunk {
    id: Option<String>,
    model: Option<String>,
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    usage: Option<RawUsage>,
    timings: Option<Timings>,
    error: Option<Value>,
    object: Option<String>,
    message: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    /// Non-streaming responses carry `message` instead of `delta`.
    #[serde(default)]
    message: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: Option<Vec<RawToolCall>>,
}

#[derive(Deserialize)]
struct RawToolCall {
    index: Option<usize>,
    id: Option<String>,
    function: Option<RawFunction>,
}

#[derive(Deserialize)]
struct RawFunction {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct RawUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    total_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
    cost_in_usd_ticks: Option<i64>,
    cost: Option<f64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Timings {
    cache_n: Option<u64>,
}

fn usage_from(raw: RawUsage, timings: Option<Timings>) -> Usage {
    let cached = raw
        .prompt_tokens_details
        .and_then(|d| d.cached_tokens)
        .or_else(|| timings.and_then(|t| t.cache_n));
    let reported = raw
        .cost_in_usd_ticks
        .or_else(|| raw.cost.map(|usd| (usd * 1e10).round() as i64));
    Usage {
        prompt_tokens: raw.prompt_tokens,
        completion_tokens: raw.completion_tokens,
        total_tokens: raw.total_tokens,
        cached_tokens: cached,
        reasoning_tokens: raw
            .completion_tokens_details
            .and_then(|d| d.reasoning_tokens),
        reported_cost_ticks: reported,
    }
}

/// How many malformed chunks of one stream get a notice each; the rest are counted and
/// summed up in one notice when the stream ends (a flood of garbage must not become a flood
/// of notices).
pub const MALFORMED_SHOWN: usize = 3;

/// A stream with at least this many malformed chunks, and ten times more of them than
/// events understood, is given up on.
pub const MALFORMED_GIVE_UP: usize = 1000;

/// An event's JSON payload, or `None` for an empty one or `[DONE]` (which sets `done`).
pub(crate) fn payload<'a>(data: &'a str, done: &mut bool) -> Option<&'a str> {
    let data = data.trim();
    if data == "[DONE]" {
        *done = true;
    }
    (!data.is_empty() && data != "[DONE]").then_some(data)
}

/// The notice for malformed chunk number `n` (1-based), while they are still shown.
pub(crate) fn malformed_notice(
    n: usize,
    what: &str,
    err: &dyn std::fmt::Display,
    data: &str,
) -> Option<StreamEvent> {
    if n > MALFORMED_SHOWN {
        return None;
    }
    let mut shown: String = data.chars().take(80).collect();
    if shown.len() < data.len() {
        shown.push('…');
    }
    Some(StreamEvent::Notice(format!(
        "skipped a malformed {what} ({err}): {shown}"
    )))
}

/// The closing notice for the malformed chunks not shown one by one.
pub fn malformed_summary(n: usize) -> Option<StreamEvent> {
    (n > MALFORMED_SHOWN).then(|| {
        StreamEvent::Notice(format!(
            "… {} more malformed chunks skipped",
            n - MALFORMED_SHOWN
        ))
    })
}

/// xAI accepts at most 128 tools; an index beyond this is a broken server, not a real call.
pub const MAX_TOOL_CALLS: usize = 256;

/// Stateful decoder for one response.
#[derive(Debug, Default)]
pub struct ChunkDecoder {
    started: bool,
    have_model: bool,
    /// The last non-empty `finish_reason`.
    pub finish_reason: Option<String>,
    /// `data: [DONE]` was seen.
    pub done: bool,
    pub malformed: usize,
    bad_index_noticed: bool,
}

impl ChunkDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE `data` payload. Malformed JSON yields a notice, not an error: one bad
    /// chunk should not throw away the rest of an answer.
    pub fn decode(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        let Some(data) = payload(data, &mut self.done) else {
            return;
        };
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                self.malformed += 1;
                out.extend(malformed_notice(self.malformed, "chunk", &e, data));
                return;
            }
        };
        self.decode_chunk(chunk, out);
    }

    fn decode_chunk(&mut self, chunk: Chunk, out: &mut Vec<StreamEvent>) {
        if let Some(err) = mid_stream_error(&chunk) {
            out.push(StreamEvent::Error(err));
            return;
        }
        if !self.started {
            self.started = true;
            self.have_model = chunk.model.is_some();
            out.push(StreamEvent::Started {
                model: chunk.model.clone(),
                id: chunk.id.clone(),
            });
        } else if !self.have_model && chunk.model.is_some() {
            // The first chunk did not say which model serves: the first one that does.
            self.have_model = true;
            out.push(StreamEvent::Started {
                model: chunk.model.clone(),
                id: chunk.id.clone(),
            });
        }
        for choice in chunk.choices.into_iter().flatten() {
            let delta = choice.delta.or(choice.message).unwrap_or_default();
            // xAI/llama.cpp say `reasoning_content`, OpenRouter/Ollama/vLLM say `reasoning`.
            if let Some(r) = delta.reasoning_content.or(delta.reasoning) {
                if !r.is_empty() {
                    out.push(StreamEvent::Reasoning(r));
                }
            }
            if let Some(c) = delta.content {
                if !c.is_empty() {
                    out.push(StreamEvent::Content(c));
                }
            }
            for (pos, tc) in delta.tool_calls.into_iter().flatten().enumerate() {
                let (name, arguments) = match tc.function {
                    Some(f) => (f.name, f.arguments.unwrap_or_default()),
                    None => (None, String::new()),
                };
                if tc.id.is_none() && name.is_none() && arguments.is_empty() {
                    continue;
                }
                let index = tc.index.unwrap_or(pos);
                if index >= MAX_TOOL_CALLS {
                    if !self.bad_index_noticed {
                        self.bad_index_noticed = true;
                        out.push(StreamEvent::Notice(format!(
                            "ignored tool calls with an index of {MAX_TOOL_CALLS} or more (first: {index})"
                        )));
                    }
                    continue;
                }
                out.push(StreamEvent::ToolCall(ToolCallDelta {
                    index,
                    id: tc.id,
                    name,
                    arguments,
                }));
            }
            if let Some(reason) = choice.finish_reason {
                if !reason.is_empty() {
                    self.finish_reason = Some(reason);
                }
            }
        }
        if let Some(raw) = chunk.usage {
            out.push(StreamEvent::Usage(usage_from(raw, chunk.timings)));
        }
    }

    /// Decodes a whole non-streaming JSON completion (a server that ignored `stream: true`).
    /// Returns `None` when the body is not a completion.
    pub fn decode_completion(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Option<()> {
        let chunk: Chunk = serde_json::from_str(body.trim()).ok()?;
        let is_completion = chunk
            .choices
            .as_ref()
            .is_some_and(|c| c.iter().any(|c| c.message.is_some()));
        if !is_completion {
            return None;
        }
        self.decode_chunk(chunk, out);
        self.done = true;
        Some(())
    }
}

/// Mid-stream error shapes: OpenRouter's top-level `error` (+ `finish_reason: "error"`),
/// vLLM's `{"object":"error","message":…}`.
fn mid_stream_error(chunk: &Chunk) -> Option<ApiError> {
    if let Some(err) = &chunk.error {
        let (message, code) = match err {
            Value::String(s) => (s.clone(), None),
            Value::Object(o) => (
                o.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .to_string(),
                o.get("code").map(|c| match c {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            ),
            other => (other.to_string(), None),
        };
        let message = match code {
            Some(c) => format!("{message} (code {c})"),
            None => message,
        };
        return Some(ApiError::new(ErrorKind::StreamError, message));
    }
    if chunk.object.as_deref() == Some("error") {
        let message = match &chunk.message {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "unknown error".into(),
        };
        return Some(ApiError::new(ErrorKind::StreamError, message));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(lines: &[&str]) -> (Vec<StreamEvent>, ChunkDecoder) {
        let mut d = ChunkDecoder::new();
        let mut out = Vec::new();
        for l in lines {
            d.decode(l, &mut out);
        }
        (out, d)
    }

    #[test]
    fn reasoning_both_names_and_empty_keepalives() {
        let (ev, _) = decode(&[
            r#"{"model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"a"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"","reasoning":"b"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"c"},"finish_reason":null}]}"#,
        ]);
        assert_eq!(
            ev,
            vec![
                StreamEvent::Started {
                    model: Some("m".into()),
                    id: None
                },
                StreamEvent::Reasoning("a".into()),
                StreamEvent::Reasoning("b".into()),
                StreamEvent::Content("c".into()),
            ]
        );
    }

    #[test]
    fn usage_xai_openrouter_llamacpp() {
        let (ev, _) = decode(&[
            r#"{"choices":[],"usage":{"prompt_tokens":213,"completion_tokens":2,"total_tokens":413,"prompt_tokens_details":{"cached_tokens":192},"completion_tokens_details":{"reasoning_tokens":198},"cost_in_usd_ticks":3080400}}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":366,"completion_tokens":155,"total_tokens":521,"cost":0.00009595,"prompt_tokens_details":{"cached_tokens":365},"completion_tokens_details":{"reasoning_tokens":129}}}"#,
            r#"{"choices":[],"usage":{"completion_tokens":41,"prompt_tokens":139,"total_tokens":180},"timings":{"cache_n":138}}"#,
        ]);
        let usages: Vec<Usage> = ev
            .into_iter()
            .filter_map(|e| match e {
                StreamEvent::Usage(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(usages[0].reported_cost_ticks, Some(3080400));
        assert_eq!(usages[0].completion_includes_reasoning(), Some(false));
        assert_eq!(usages[1].reported_cost_ticks, Some(959500));
        assert_eq!(usages[1].completion_includes_reasoning(), Some(true));
        assert_eq!(usages[2].cached_tokens, Some(138));
        assert_eq!(usages[2].reasoning_tokens, None);
    }

    #[test]
    fn mid_stream_error_openrouter_and_vllm() {
        let (ev, _) = decode(&[
            r#"{"id":"e1","error":{"code":502,"message":"upstream provider error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#,
            r#"{"object":"error","message":"out of memory"}"#,
        ]);
        match (&ev[0], &ev[1]) {
            (StreamEvent::Error(a), StreamEvent::Error(b)) => {
                assert_eq!(a.message, "upstream provider error (code 502)");
                assert_eq!(b.message, "out of memory");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_chunk_is_a_notice() {
        let (ev, d) = decode(&[r#"{"choices":[{"delta":"#]);
        assert!(matches!(&ev[0], StreamEvent::Notice(n) if n.contains("malformed")));
        assert_eq!(d.malformed, 1);
    }

    #[test]
    fn done_and_finish_reason() {
        let (_, d) = decode(&[
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":""}]}"#,
            "[DONE]",
        ]);
        assert!(d.done);
        assert_eq!(d.finish_reason.as_deref(), Some("tool_calls"));
    }
}

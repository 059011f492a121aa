//! The Responses API (`POST /responses`): request bodies and the decoding of its typed stream
//! events into the same [`StreamEvent`]s the Chat Completions decoder produces, so that
//! everything above the wire works unchanged on either endpoint.

use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

use super::error::{ApiError, ErrorKind};
use super::request::{effort, BuiltRequest, ChatParams, ModelCaps, ToolSpec};
use super::types::{Citation, Message, Role, ServerTool, StreamEvent, ToolCallDelta, Usage};

#[derive(Serialize)]
struct Reasoning<'a> {
    effort: &'a str,
}

#[derive(Serialize)]
struct Text {
    format: Value,
}

#[derive(Serialize)]
struct FlatTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// Everything but `input` comes first, in a fixed order, so that the body of the next round or
/// turn extends this one byte for byte up to the end of the old input.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    stream: bool,
    /// History stays local: nothing is kept on the server, each request carries it all.
    store: bool,
    include: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Reasoning<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<FlatTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    input: Vec<Value>,
}

/// Chat's named `tool_choice` (`{type: function, function: {name}}`) in Responses' flat form
/// (`{type: function, name}`); `auto`, `none`, `required` as they are.
fn flat_tool_choice(v: &Value) -> Value {
    match v.pointer("/function/name") {
        Some(name) => json!({"type": "function", "name": name}),
        None => v.clone(),
    }
}

/// Chat's `response_format` as Responses' `text.format` (the schema fields move up a level).
fn text_format(rf: &Value) -> Value {
    match rf.get("type").and_then(Value::as_str) {
        Some("json_schema") => {
            let mut f = Map::new();
            f.insert("type".into(), "json_schema".into());
            if let Some(Value::Object(js)) = rf.get("json_schema") {
                for (k, v) in js {
                    f.insert(k.clone(), v.clone());
                }
            }
            Value::Object(f)
        }
        _ => rf.clone(),
    }
}

/// The history as Responses input items: a leading system message becomes `instructions`;
/// an assistant reply is its reasoning items (only those with `encrypted_content`: with
/// `store: false` a bare id refers to nothing), its message, then its function calls; a tool
/// result is a `function_call_output`.
fn input_items(messages: &[Message]) -> (Option<&str>, Vec<Value>) {
    let (instructions, rest) = match messages.first() {
        Some(m) if m.role == Role::System => (Some(m.content.as_str()), &messages[1..]),
        _ => (None, messages),
    };
    let mut items = Vec::new();
    for m in rest {
        match m.role {
            Role::System => {
                items.push(json!({"type": "message", "role": "system", "content": m.content}))
            }
            Role::User => {
                items.push(json!({"type": "message", "role": "user", "content": m.content}))
            }
            Role::Assistant => {
                items.extend(
                    m.reasoning_items
                        .iter()
                        .filter(|r| r.get("encrypted_content").is_some_and(Value::is_string))
                        .cloned(),
                );
                if !m.content.is_empty() {
                    items.push(
                        json!({"type": "message", "role": "assistant", "content": m.content}),
                    );
                }
                for c in &m.tool_calls {
                    items.push(json!({
                        "type": "function_call", "call_id": c.id,
                        "name": c.function.name, "arguments": c.function.arguments,
                    }));
                }
            }
            Role::Tool => items.push(json!({
                "type": "function_call_output",
                "call_id": m.tool_call_id.as_deref().unwrap_or(""),
                "output": m.content,
            })),
        }
    }
    (instructions, items)
}

/// Builds a streaming Responses request. `conv_id` becomes `prompt_cache_key`.
pub fn build_responses_body(
    model: &str,
    messages: &[Message],
    params: &ChatParams,
    caps: &ModelCaps,
    conv_id: Option<&str>,
) -> BuiltRequest {
    let mut dropped = Vec::new();
    let mut unsupported = Vec::new();
    let rejects = |name: &str| caps.rejects.iter().any(|r| r == name);
    let mut keep = |name: &str, v: Option<f64>| match v {
        Some(_) if rejects(name) => {
            dropped.push(name.to_string());
            None
        }
        v => v,
    };
    let temperature = keep("temperature", params.temperature);
    let top_p = keep("top_p", params.top_p);
    for (name, present) in [
        ("seed", params.seed.is_some()),
        ("stop", !params.stop.is_empty()),
        ("presence_penalty", params.presence_penalty.is_some()),
        ("frequency_penalty", params.frequency_penalty.is_some()),
    ] {
        if present {
            unsupported.push(name.to_string());
        }
    }
    let effort = effort(params, caps, &mut dropped).map(|effort| Reasoning { effort });
    let (instructions, input) = input_items(messages);
    let tools = params
        .tools
        .iter()
        .map(|t: &ToolSpec| FlatTool {
            kind: "function",
            name: &t.name,
            description: &t.description,
            parameters: &t.parameters,
        })
        .collect();
    let body = Body {
        model,
        stream: true,
        store: false,
        include: ["reasoning.encrypted_content"],
        prompt_cache_key: conv_id,
        instructions,
        temperature,
        top_p,
        max_output_tokens: params.max_tokens,
        reasoning: effort,
        text: params.response_format.as_ref().map(|rf| Text {
            format: text_format(rf),
        }),
        tools,
        tool_choice: params.tool_choice.as_ref().map(flat_tool_choice),
        parallel_tool_calls: params.parallel_tool_calls,
        input,
    };
    BuiltRequest {
        body: serde_json::to_vec(&body).expect("request body serialises"),
        dropped,
        unsupported,
    }
}

/// A function call being assembled: its position among the response's calls and the
/// arguments passed on so far.
#[derive(Debug)]
struct CallState {
    index: usize,
    args: String,
    /// The arguments came whole with the item: deltas would repeat them.
    whole: bool,
}

impl CallState {
    /// Passes on what `full` adds to the arguments sent so far (nothing when they are all
    /// there already), so that a call's arguments arrive exactly once.
    fn complete(&mut self, full: &str, out: &mut Vec<StreamEvent>) {
        if let Some(rest) = full
            .strip_prefix(self.args.as_str())
            .filter(|r| !r.is_empty())
        {
            out.push(StreamEvent::ToolCall(ToolCallDelta {
                index: self.index,
                id: None,
                name: None,
                arguments: rest.to_string(),
            }));
            self.args = full.to_string();
        }
    }
}

/// Stateful decoder for one Responses stream.
#[derive(Debug, Default)]
pub struct ResponsesDecoder {
    started: bool,
    /// `response.completed` / `incomplete` (or a `[DONE]`) was seen.
    pub done: bool,
    pub finish_reason: Option<String>,
    pub malformed: usize,
    calls: HashMap<String, CallState>,
    /// Call keys by output index, for events that name the item differently.
    call_at: HashMap<u64, String>,
    /// Server-side tool calls by item id: their names.
    server_tools: HashMap<String, String>,
    /// Items whose text or reasoning arrived as deltas (their `.done` repeats it).
    streamed: HashSet<String>,
    /// The last reasoning summary part: (item, summary index), to separate parts, and the
    /// reasoning of one item from the next one's.
    summary_part: Option<(String, u64)>,
    cited: HashSet<String>,
    unknown: HashSet<String>,
    doom_loop: bool,
}

/// `web_search_call` → `web_search`; a call item's own `name` wins.
fn server_tool_name(item: &Value) -> String {
    match item
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        Some(n) => n.to_string(),
        None => item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("tool")
            .trim_end_matches("_call")
            .to_string(),
    }
}

/// What a server-side call was asked, on one short line: its query, or for JSON arguments
/// (`{"query":"what is xAI","num_results":5}`) the query, URL or first text they hold.
fn server_tool_detail(item: &Value) -> Option<String> {
    let raw = item
        .pointer("/action/query")
        .and_then(Value::as_str)
        .or_else(|| item.get("query").and_then(Value::as_str))
        .or_else(|| item.get("arguments").and_then(Value::as_str))
        .or_else(|| item.get("input").and_then(Value::as_str))
        .or_else(|| item.get("code").and_then(Value::as_str))?;
    let parsed: Option<String> = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(o)) => ["query", "q", "url", "video_url", "code", "path"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .or_else(|| o.values().find_map(Value::as_str))
            .map(String::from),
        _ => None,
    };
    let text = parsed.as_deref().unwrap_or(raw);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return None;
    }
    let mut s: String = one_line.chars().take(120).collect();
    if s.len() < one_line.len() {
        s.push('…');
    }
    Some(s)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `message (code)` from an error object (`{"message","code"}`, or xAI's `{"error","code"}`).
fn error_text(v: &Value) -> String {
    let msg = v
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| v.get("error").and_then(Value::as_str))
        .unwrap_or("unknown error");
    match v.get("code") {
        Some(Value::String(c)) if !c.is_empty() => format!("{msg} ({c})"),
        Some(Value::Number(n)) => format!("{msg} (code {n})"),
        _ => msg.to_string(),
    }
}

/// An error inside the stream, classified by its code: a rate limit or a server fault that
/// comes before any output is retried like its HTTP twin; anything else ends the turn.
fn stream_error(e: &Value) -> ApiError {
    let code = match e.get("code") {
        Some(Value::String(c)) => c.to_ascii_lowercase(),
        _ => String::new(),
    };
    let kind = if code.contains("rate_limit") {
        ErrorKind::RateLimited
    } else if code.contains("quota") || code.contains("credit") {
        ErrorKind::QuotaExhausted
    } else if code.contains("overloaded") || code.contains("unavailable") {
        ErrorKind::Unavailable
    } else if code.contains("server_error") || code.contains("internal") {
        ErrorKind::Server
    } else {
        ErrorKind::StreamError
    };
    let mut err = ApiError::new(kind, error_text(e));
    if kind == ErrorKind::RateLimited {
        err.retry_after = super::error::retry_after_in_message(&err.message);
    }
    err
}

/// Responses usage: `output_tokens` includes the reasoning tokens, so the total is
/// input + output (the cost code reads which convention applies off the total).
pub fn usage_of(u: &Value) -> Usage {
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64);
    let input = n("/input_tokens").unwrap_or(0);
    let output = n("/output_tokens").unwrap_or(0);
    Usage {
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: Some(input.saturating_add(output)),
        cached_tokens: n("/input_tokens_details/cached_tokens"),
        reasoning_tokens: n("/output_tokens_details/reasoning_tokens"),
        reported_cost_ticks: u
            .get("cost_in_usd_ticks")
            .and_then(Value::as_i64)
            .or_else(|| {
                u.get("cost")
                    .and_then(Value::as_f64)
                    .map(|usd| (usd * 1e10).round() as i64)
            }),
    }
}

impl ResponsesDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE event (`event` is its `event:` name, used when the payload names no
    /// `type`).
    pub fn decode(&mut self, event: Option<&str>, data: &str, out: &mut Vec<StreamEvent>) {
        let Some(data) = super::chunk::payload(data, &mut self.done) else {
            return;
        };
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                self.malformed += 1;
                out.extend(super::chunk::malformed_notice(
                    self.malformed,
                    "event",
                    &e,
                    data,
                ));
                return;
            }
        };
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(event)
            .unwrap_or("")
            .to_string();
        self.event(&kind, &v, out);
    }

    fn start(&mut self, resp: &Value, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Started {
                model: resp.get("model").and_then(Value::as_str).map(String::from),
                id: resp.get("id").and_then(Value::as_str).map(String::from),
            });
        }
    }

    fn event(&mut self, kind: &str, v: &Value, out: &mut Vec<StreamEvent>) {
        match kind {
            "response.created" | "response.in_progress" | "response.queued" => {
                self.start(&v["response"], out)
            }
            "response.output_item.added" => {
                self.started_placeholder(out);
                let at = v.get("output_index").and_then(Value::as_u64);
                self.item_added(&v["item"], at, out);
            }
            "response.output_item.done" => {
                self.started_placeholder(out);
                let at = v.get("output_index").and_then(Value::as_u64);
                self.item_done(&v["item"], at, out);
            }
            "response.output_text.delta" => {
                self.started_placeholder(out);
                let d = str_of(v, "delta");
                self.streamed.insert(str_of(v, "item_id").to_string());
                if !d.is_empty() {
                    out.push(StreamEvent::Content(d.to_string()));
                }
            }
            "response.output_text.done" => {
                let id = str_of(v, "item_id");
                let text = str_of(v, "text");
                if !self.streamed.contains(id) && !text.is_empty() {
                    self.streamed.insert(id.to_string());
                    out.push(StreamEvent::Content(text.to_string()));
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                self.started_placeholder(out);
                let id = str_of(v, "item_id").to_string();
                let part = v
                    .get("summary_index")
                    .or_else(|| v.get("content_index"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let mut d = str_of(v, "delta").to_string();
                // A new summary part, or another item's reasoning, starts a new paragraph.
                if let Some((pid, pp)) = &self.summary_part {
                    if *pid != id || *pp != part {
                        d.insert_str(0, "\n\n");
                    }
                }
                self.summary_part = Some((id.clone(), part));
                self.streamed.insert(id);
                if !d.is_empty() {
                    out.push(StreamEvent::Reasoning(d));
                }
            }
            "response.function_call_arguments.delta" => {
                self.started_placeholder(out);
                let d = str_of(v, "delta");
                if let Some(c) = self.call_of(v).filter(|c| !c.whole && !d.is_empty()) {
                    c.args.push_str(d);
                    out.push(StreamEvent::ToolCall(ToolCallDelta {
                        index: c.index,
                        id: None,
                        name: None,
                        arguments: d.to_string(),
                    }));
                }
            }
            "response.function_call_arguments.done" => {
                let args = str_of(v, "arguments").to_string();
                if let Some(c) = self.call_of(v) {
                    c.complete(&args, out);
                }
            }
            "response.output_text.annotation.added" => self.annotation(&v["annotation"], out),
            "response.completed" => {
                let resp = &v["response"];
                self.start(resp, out);
                if let Some(u) = resp.get("usage").filter(|u| u.is_object()) {
                    out.push(StreamEvent::Usage(usage_of(u)));
                }
                self.finish_reason = Some(if self.calls.is_empty() {
                    "stop".into()
                } else {
                    "tool_calls".into()
                });
                self.done = true;
            }
            "response.incomplete" => {
                let resp = &v["response"];
                self.start(resp, out);
                if let Some(u) = resp.get("usage").filter(|u| u.is_object()) {
                    out.push(StreamEvent::Usage(usage_of(u)));
                }
                let reason = resp
                    .pointer("/incomplete_details/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                out.push(StreamEvent::Notice(format!(
                    "the response is incomplete: {}",
                    match reason.as_str() {
                        "max_output_tokens" => "it reached max_output_tokens (max_tokens)",
                        "content_filter" => "the provider's content filter stopped it",
                        other => other,
                    }
                )));
                self.finish_reason = Some(reason);
                self.done = true;
            }
            "response.failed" => {
                let resp = &v["response"];
                self.start(resp, out);
                if let Some(u) = resp.get("usage").filter(|u| u.is_object()) {
                    out.push(StreamEvent::Usage(usage_of(u)));
                }
                out.push(StreamEvent::Error(
                    match resp.get("error").filter(|e| e.is_object()) {
                        Some(e) => stream_error(e),
                        None => ApiError::new(ErrorKind::StreamError, "the response failed"),
                    },
                ));
            }
            "error" => {
                // OpenAI puts code/message at the top; others nest them under `error`.
                out.push(StreamEvent::Error(match v.get("error") {
                    Some(e @ Value::Object(_)) => stream_error(e),
                    _ => stream_error(v),
                }));
            }
            "response.doom_loop_check" => {
                let mut rest = v.clone();
                if let Value::Object(o) = &mut rest {
                    o.remove("type");
                    o.remove("sequence_number");
                }
                let text = ["message", "reason", "trigger", "detail"]
                    .iter()
                    .find_map(|k| rest.get(*k).and_then(Value::as_str).map(String::from))
                    .unwrap_or_else(|| rest.to_string());
                // Once per response: a server repeating it is no news.
                if !self.doom_loop {
                    self.doom_loop = true;
                    out.push(StreamEvent::DoomLoop(text.chars().take(500).collect()));
                }
            }
            // Structure without content of its own: the deltas and items carry it.
            "response.content_part.added"
            | "response.content_part.done"
            | "response.reasoning_summary_part.added"
            | "response.reasoning_summary_part.done"
            | "response.reasoning_summary_text.done"
            | "response.reasoning_text.done"
            | "response.custom_tool_call_input.delta"
            | "response.custom_tool_call_input.done"
            | "response.output_text.annotation.done" => {}
            k if k.starts_with("response.") && server_call_event(k).is_some() => {
                let (_, status) = server_call_event(k).expect("checked");
                let id = str_of(v, "item_id").to_string();
                let name = self
                    .server_tools
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| server_call_event(k).expect("checked").0.to_string());
                out.push(StreamEvent::ServerTool(ServerTool {
                    id,
                    name,
                    status: status.to_string(),
                    detail: None,
                }));
            }
            "" if v.get("error").is_some() => {
                out.push(StreamEvent::Error(ApiError::new(
                    ErrorKind::StreamError,
                    match &v["error"] {
                        e @ Value::Object(_) => error_text(e),
                        _ => error_text(v),
                    },
                )));
            }
            other => self.skip(other, out),
        }
    }

    /// Some servers start with an item instead of `response.created`: say so once, model unknown.
    fn started_placeholder(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Started {
                model: None,
                id: None,
            });
        }
    }

    /// One notice for each of the first few unknown types (a hostile server could invent a
    /// new one per event), then one that says more were skipped.
    fn skip(&mut self, kind: &str, out: &mut Vec<StreamEvent>) {
        const SHOWN: usize = 3;
        let kind: String = if kind.is_empty() {
            "(untyped)".into()
        } else {
            kind.chars().take(80).collect()
        };
        if self.unknown.len() > SHOWN || self.unknown.contains(&kind) {
            return;
        }
        self.unknown.insert(kind.clone());
        out.push(StreamEvent::Notice(if self.unknown.len() > SHOWN {
            "skipped events of more unknown types".to_string()
        } else {
            format!("skipped events of an unknown type: {kind}")
        }));
    }

    fn annotation(&mut self, a: &Value, out: &mut Vec<StreamEvent>) {
        if str_of(a, "type") != "url_citation" {
            return;
        }
        let url = str_of(a, "url");
        if url.is_empty() || !self.cited.insert(url.to_string()) {
            return;
        }
        out.push(StreamEvent::Citation(Citation {
            url: url.to_string(),
            title: a
                .get("title")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(String::from),
        }));
    }

    /// The call an arguments event belongs to: by its item id, else by its output index.
    fn call_of(&mut self, v: &Value) -> Option<&mut CallState> {
        let id = str_of(v, "item_id");
        let key = if self.calls.contains_key(id) {
            id.to_string()
        } else {
            self.call_at.get(&v.get("output_index")?.as_u64()?)?.clone()
        };
        self.calls.get_mut(&key)
    }

    /// The call of a `function_call` item, started (with its id, name and any arguments it
    /// carries whole) when first seen.
    fn call(
        &mut self,
        item: &Value,
        at: Option<u64>,
        out: &mut Vec<StreamEvent>,
    ) -> &mut CallState {
        let id = str_of(item, "id");
        let known = [
            Some(id.to_string()),
            at.and_then(|i| self.call_at.get(&i).cloned()),
        ]
        .into_iter()
        .flatten()
        .find(|k| !k.is_empty() && self.calls.contains_key(k));
        let key = match known {
            Some(k) => k,
            None => {
                let key = if id.is_empty() {
                    str_of(item, "call_id").to_string()
                } else {
                    id.to_string()
                };
                let args = str_of(item, "arguments").to_string();
                let c = CallState {
                    index: self.calls.len(),
                    whole: !args.is_empty(),
                    args,
                };
                out.push(StreamEvent::ToolCall(ToolCallDelta {
                    index: c.index,
                    id: Some(str_of(item, "call_id").to_string()),
                    name: Some(str_of(item, "name").to_string()),
                    arguments: c.args.clone(),
                }));
                self.calls.insert(key.clone(), c);
                key
            }
        };
        if let Some(i) = at {
            self.call_at.insert(i, key.clone());
        }
        self.calls.get_mut(&key).expect("just found or inserted")
    }

    fn item_added(&mut self, item: &Value, at: Option<u64>, out: &mut Vec<StreamEvent>) {
        match str_of(item, "type") {
            "function_call" => {
                self.call(item, at, out);
            }
            "message" | "reasoning" => {}
            t if is_server_call(t) => self.server_tool(item, "in_progress", out),
            other => self.skip(&format!("output item {other}"), out),
        }
    }

    fn item_done(&mut self, item: &Value, at: Option<u64>, out: &mut Vec<StreamEvent>) {
        let id = str_of(item, "id").to_string();
        match str_of(item, "type") {
            "function_call" => {
                let args = str_of(item, "arguments").to_string();
                self.call(item, at, out).complete(&args, out);
            }
            "message" => {
                for part in item["content"].as_array().into_iter().flatten() {
                    if !self.streamed.contains(&id) {
                        let text = str_of(part, "text");
                        if !text.is_empty() {
                            out.push(StreamEvent::Content(text.to_string()));
                        }
                    }
                    for a in part["annotations"].as_array().into_iter().flatten() {
                        self.annotation(a, out);
                    }
                }
                self.streamed.insert(id);
            }
            "reasoning" => {
                if !self.streamed.contains(&id) {
                    let parts: Vec<&str> = item["summary"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| str_of(p, "text"))
                        .filter(|t| !t.is_empty())
                        .collect();
                    if !parts.is_empty() {
                        out.push(StreamEvent::Reasoning(parts.join("\n\n")));
                    }
                    self.streamed.insert(id);
                }
                out.push(StreamEvent::ReasoningItem(item.clone()));
            }
            t if is_server_call(t) => {
                let status = item
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("completed")
                    .to_string();
                self.server_tool(item, &status, out)
            }
            other => self.skip(&format!("output item {other}"), out),
        }
    }

    fn server_tool(&mut self, item: &Value, status: &str, out: &mut Vec<StreamEvent>) {
        let name = server_tool_name(item);
        let id = str_of(item, "id").to_string();
        self.server_tools.insert(id.clone(), name.clone());
        out.push(StreamEvent::ServerTool(ServerTool {
            id,
            name,
            status: status.to_string(),
            detail: server_tool_detail(item),
        }));
    }

    /// A whole non-streaming response (a server that ignored `stream: true`). `None` when the
    /// body is not a response object.
    pub fn decode_completion(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Option<()> {
        let v: Value = serde_json::from_str(body.trim()).ok()?;
        if v.get("object").and_then(Value::as_str) != Some("response")
            && !v.get("output").is_some_and(Value::is_array)
        {
            return None;
        }
        self.start(&v, out);
        for (i, item) in v["output"].as_array().into_iter().flatten().enumerate() {
            self.item_done(item, Some(i as u64), out);
        }
        let kind = match str_of(&v, "status") {
            "incomplete" => "response.incomplete",
            "failed" => "response.failed",
            _ => "response.completed",
        };
        self.event(kind, &json!({ "response": v }), out);
        self.done = true;
        Some(())
    }
}

/// A server-side tool item: every `*_call` type but our own `function_call`.
fn is_server_call(t: &str) -> bool {
    t != "function_call" && t.ends_with("_call")
}

/// `response.web_search_call.searching` → (`web_search`, `searching`).
fn server_call_event(kind: &str) -> Option<(&str, &str)> {
    let rest = kind.strip_prefix("response.")?;
    let (item, status) = rest.rsplit_once('.')?;
    is_server_call(item).then(|| (item.trim_end_matches("_call"), status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::{FunctionCall, ToolCall};

    fn decode(lines: &[&str]) -> (Vec<StreamEvent>, ResponsesDecoder) {
        let mut d = ResponsesDecoder::new();
        let mut out = Vec::new();
        for l in lines {
            d.decode(None, l, &mut out);
        }
        (out, d)
    }

    #[test]
    fn text_reasoning_usage_and_reasoning_item() {
        let (ev, d) = decode(&[
            r#"{"type":"response.created","response":{"id":"r1","model":"grok-4.3","output":[]}}"#,
            r#"{"type":"response.output_item.added","item":{"id":"rs_1","type":"reasoning","summary":[]},"output_index":0}"#,
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":0,"delta":"Think"}"#,
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":1,"delta":"More"}"#,
            r#"{"type":"response.output_item.done","item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Think"}],"encrypted_content":"ENC"},"output_index":0}"#,
            r#"{"type":"response.output_text.delta","item_id":"m1","delta":"Hi"}"#,
            r#"{"type":"response.output_text.done","item_id":"m1","text":"Hi"}"#,
            r#"{"type":"response.output_item.done","item":{"id":"m1","type":"message","content":[{"type":"output_text","text":"Hi","annotations":[]}]}}"#,
            r#"{"type":"response.completed","response":{"id":"r1","model":"grok-4.3","usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":20}}}}"#,
        ]);
        assert_eq!(
            ev[0],
            StreamEvent::Started {
                model: Some("grok-4.3".into()),
                id: Some("r1".into())
            }
        );
        assert_eq!(ev[1], StreamEvent::Reasoning("Think".into()));
        assert_eq!(ev[2], StreamEvent::Reasoning("\n\nMore".into()));
        assert!(matches!(&ev[3], StreamEvent::ReasoningItem(v) if v["encrypted_content"] == "ENC"));
        assert_eq!(ev[4], StreamEvent::Content("Hi".into()));
        let StreamEvent::Usage(u) = &ev[5] else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (10, 30, Some(40))
        );
        assert_eq!(u.completion_includes_reasoning(), Some(true));
        assert_eq!(u.billed_output(true), 30, "reasoning is not billed twice");
        assert_eq!(ev.len(), 6);
        assert!(d.done);
        assert_eq!(d.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn function_calls_streamed_whole_and_parallel() {
        let (ev, d) = decode(&[
            r#"{"type":"response.output_item.added","item":{"id":"fc_1","type":"function_call","call_id":"c1","name":"read","arguments":""}}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{\"a\":"}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"1}"}"#,
            r#"{"type":"response.function_call_arguments.done","item_id":"fc_1","arguments":"{\"a\":1}"}"#,
            r#"{"type":"response.output_item.done","item":{"id":"fc_1","type":"function_call","call_id":"c1","name":"read","arguments":"{\"a\":1}"}}"#,
            r#"{"type":"response.output_item.done","item":{"id":"fc_2","type":"function_call","call_id":"c2","name":"grep","arguments":"{\"q\":\"x\"}"}}"#,
            r#"{"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}"#,
        ]);
        let mut t = crate::session::Turn::new("m");
        for e in &ev {
            t.apply(&crate::api::TimedEvent {
                at: std::time::Duration::ZERO,
                event: e.clone(),
            });
        }
        assert_eq!(t.tool_calls.len(), 2);
        assert_eq!(
            (
                t.tool_calls[0].id.as_str(),
                t.tool_calls[0].function.arguments.as_str()
            ),
            ("c1", "{\"a\":1}")
        );
        assert_eq!(
            (
                t.tool_calls[1].function.name.as_str(),
                t.tool_calls[1].function.arguments.as_str()
            ),
            ("grep", "{\"q\":\"x\"}")
        );
        assert_eq!(d.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn server_tools_citations_unknown_and_doom_loop() {
        let (ev, _) = decode(&[
            r#"{"type":"response.output_item.added","item":{"id":"ws_1","type":"web_search_call","status":"in_progress","action":{"type":"search","query":"rust  borrow"}}}"#,
            r#"{"type":"response.web_search_call.searching","item_id":"ws_1"}"#,
            r#"{"type":"response.output_text.annotation.added","annotation":{"type":"url_citation","url":"https://a.example/"}}"#,
            r#"{"type":"response.output_text.annotation.added","annotation":{"type":"url_citation","url":"https://a.example/"}}"#,
            r#"{"type":"response.brand_new","x":1}"#,
            r#"{"type":"response.brand_new","x":2}"#,
            r#"{"type":"response.doom_loop_check","message":"same call 5 times"}"#,
        ]);
        assert!(matches!(&ev[1], StreamEvent::ServerTool(s)
            if s.name == "web_search" && s.status == "in_progress" && s.detail.as_deref() == Some("rust borrow")));
        assert!(matches!(&ev[2], StreamEvent::ServerTool(s) if s.status == "searching"));
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, StreamEvent::Citation(_)))
                .count(),
            1
        );
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, StreamEvent::Notice(_)))
                .count(),
            1,
            "one notice per unknown type"
        );
        assert_eq!(
            ev.last(),
            Some(&StreamEvent::DoomLoop("same call 5 times".into()))
        );
    }

    #[test]
    fn failed_incomplete_and_error_events() {
        let (ev, _) = decode(&[
            r#"{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}"#,
        ]);
        assert!(
            matches!(&ev[1], StreamEvent::Error(e)
                if e.message == "boom (server_error)" && e.kind == ErrorKind::Server),
            "{ev:?}"
        );
        let (ev, d) = decode(&[
            r#"{"type":"response.incomplete","response":{"incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"output_tokens":5}}}"#,
        ]);
        assert!(ev
            .iter()
            .any(|e| matches!(e, StreamEvent::Notice(n) if n.contains("max_output_tokens"))));
        assert_eq!(d.finish_reason.as_deref(), Some("max_output_tokens"));
        assert!(d.done);
        let (ev, _) = decode(&[r#"{"type":"error","code":"rate_limit","message":"slow down"}"#]);
        assert!(matches!(&ev[0], StreamEvent::Error(e) if e.message == "slow down (rate_limit)"));
    }

    #[test]
    fn body_prefix_extends_and_echoes_reasoning_items() {
        let caps = ModelCaps {
            reasoning_efforts: vec!["low".into(), "high".into()],
            ..Default::default()
        };
        let p = ChatParams {
            max_tokens: Some(100),
            reasoning_effort: Some("low".into()),
            seed: Some(3),
            ..Default::default()
        };
        let mut h = vec![Message::system("sys"), Message::user("one")];
        let a = build_responses_body("grok-4.3", &h, &p, &caps, Some("conv-1"));
        assert_eq!(a.unsupported, vec!["seed"]);
        let mut reply = Message::assistant("answer");
        reply.reasoning_items = vec![
            json!({"id":"rs_1","type":"reasoning","summary":[],"encrypted_content":"E1"}),
            json!({"id":"rs_0","type":"reasoning","summary":[]}),
        ];
        reply.tool_calls = vec![ToolCall {
            id: "c1".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "read".into(),
                arguments: "{}".into(),
            },
        }];
        h.push(reply);
        let mut tool = Message::new(Role::Tool, "result");
        tool.tool_call_id = Some("c1".into());
        h.push(tool);
        let b = build_responses_body("grok-4.3", &h, &p, &caps, Some("conv-1"));
        assert!(b.body.starts_with(&a.body[..a.body.len() - 2]));
        let v: Value = serde_json::from_slice(&b.body).unwrap();
        assert_eq!(v["instructions"], "sys");
        assert_eq!(v["store"], false);
        assert_eq!(v["include"][0], "reasoning.encrypted_content");
        assert_eq!(v["prompt_cache_key"], "conv-1");
        assert_eq!(v["max_output_tokens"], 100);
        assert_eq!(v["reasoning"]["effort"], "low");
        assert!(v.get("seed").is_none());
        let input = v["input"].as_array().unwrap();
        let types: Vec<&str> = input.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "message",
                "reasoning",
                "message",
                "function_call",
                "function_call_output"
            ],
            "only reasoning items with encrypted_content are echoed"
        );
        assert_eq!(input[1]["encrypted_content"], "E1");
        assert_eq!(input[4]["call_id"], "c1");
    }

    #[test]
    fn named_tool_choice_is_flattened() {
        let p = ChatParams {
            tool_choice: Some(json!({"type":"function","function":{"name":"grep"}})),
            ..Default::default()
        };
        let b = build_responses_body("m", &[Message::user("q")], &p, &ModelCaps::default(), None);
        let v: Value = serde_json::from_slice(&b.body).unwrap();
        assert_eq!(v["tool_choice"], json!({"type":"function","name":"grep"}));
        let p = ChatParams {
            tool_choice: Some(json!("required")),
            ..Default::default()
        };
        let b = build_responses_body("m", &[Message::user("q")], &p, &ModelCaps::default(), None);
        let v: Value = serde_json::from_slice(&b.body).unwrap();
        assert_eq!(v["tool_choice"], "required");
    }

    #[test]
    fn call_arguments_arrive_once_however_they_are_sent() {
        // Whole in the added item, then repeated as deltas and in .done.
        let (ev, _) = decode(&[
            r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"c1","name":"read","arguments":"{\"a\":1}"}}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"a\":1}"}"#,
            r#"{"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":0,"arguments":"{\"a\":1}"}"#,
            r#"{"type":"response.output_item.done","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"c1","name":"read","arguments":"{\"a\":1}"}}"#,
            // Added without an id; deltas and .done name it only by output index.
            r#"{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"c2","name":"grep","arguments":""}}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_2","output_index":1,"delta":"{\"q\":"}"#,
            r#"{"type":"response.output_item.done","output_index":1,"item":{"id":"fc_2","type":"function_call","call_id":"c2","name":"grep","arguments":"{\"q\":\"x\"}"}}"#,
        ]);
        let mut t = crate::session::Turn::new("m");
        for e in &ev {
            t.apply(&crate::api::TimedEvent {
                at: std::time::Duration::ZERO,
                event: e.clone(),
            });
        }
        let calls: Vec<(&str, &str)> = t
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.function.arguments.as_str()))
            .collect();
        assert_eq!(calls, [("c1", "{\"a\":1}"), ("c2", "{\"q\":\"x\"}")]);
    }

    #[test]
    fn reasoning_of_two_items_is_two_paragraphs() {
        let (ev, _) = decode(&[
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":0,"delta":"First."}"#,
            r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_2","summary_index":0,"delta":"Next."}"#,
        ]);
        assert_eq!(ev[2], StreamEvent::Reasoning("\n\nNext.".into()));
    }

    #[test]
    fn json_schema_becomes_text_format() {
        let p = ChatParams {
            response_format: Some(crate::api::request::json_schema_format(
                "x",
                json!({"type":"object"}),
            )),
            tools: vec![ToolSpec {
                name: "read".into(),
                description: "Read a file".into(),
                parameters: json!({"type":"object"}),
            }],
            ..Default::default()
        };
        let b = build_responses_body("m", &[Message::user("q")], &p, &ModelCaps::default(), None);
        let v: Value = serde_json::from_slice(&b.body).unwrap();
        assert_eq!(v["text"]["format"]["type"], "json_schema");
        assert_eq!(v["text"]["format"]["name"], "x");
        assert_eq!(v["text"]["format"]["schema"]["type"], "object");
        assert_eq!(
            v["tools"][0],
            json!({"type":"function","name":"read","description":"Read a file","parameters":{"type":"object"}})
        );
    }
}

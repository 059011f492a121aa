//! A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests, benchmarks and offline demos:
//! real sockets, real chunked transfer encoding and SSE framing, and faults on demand
//! (resets, stalls, delays, error bodies).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One piece of a scripted response body.
#[derive(Debug, Clone)]
pub enum Part {
    /// Written as one HTTP chunk and flushed.
    Bytes(Vec<u8>),
    Sleep(Duration),
    /// Abort the connection with a TCP reset.
    Reset,
    /// Keep the connection open and send nothing more.
    Stall,
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub parts: Vec<Part>,
    /// Wait this long before sending the status line.
    pub delay_headers: Option<Duration>,
    /// Never answer at all (accept, read the request, then hold the connection).
    pub no_response: bool,
}

impl Reply {
    pub fn new(status: u16, content_type: &str) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            parts: Vec::new(),
            delay_headers: None,
            no_response: false,
        }
    }

    /// An SSE body sent in one chunk.
    pub fn sse(body: impl AsRef<[u8]>) -> Self {
        Self::new(200, "text/event-stream").part(Part::Bytes(body.as_ref().to_vec()))
    }

    /// An SSE body cut into pieces of `size` bytes, each its own HTTP chunk.
    pub fn sse_split(body: impl AsRef<[u8]>, size: usize) -> Self {
        let mut r = Self::new(200, "text/event-stream");
        for c in body.as_ref().chunks(size.max(1)) {
            r.parts.push(Part::Bytes(c.to_vec()));
        }
        r
    }

    /// SSE events spaced `gap` apart (one chunk per event).
    pub fn sse_paced(body: impl AsRef<[u8]>, gap: Duration) -> Self {
        let text = String::from_utf8_lossy(body.as_ref()).into_owned();
        let mut r = Self::new(200, "text/event-stream");
        for ev in text.split_inclusive("\n\n") {
            r.parts.push(Part::Bytes(ev.as_bytes().to_vec()));
            r.parts.push(Part::Sleep(gap));
        }
        r
    }

    pub fn json(status: u16, body: &str) -> Self {
        Self::new(status, "application/json").part(Part::Bytes(body.as_bytes().to_vec()))
    }

    pub fn part(mut self, p: Part) -> Self {
        self.parts.push(p);
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn silent() -> Self {
        Reply {
            no_response: true,
            ..Self::new(200, "text/event-stream")
        }
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

type Router = Arc<dyn Fn(&Recorded) -> Option<Reply> + Send + Sync>;

struct State {
    queue: VecDeque<Reply>,
    requests: Vec<Recorded>,
    router: Option<Router>,
}

pub struct FakeServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind fake server");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            queue: VecDeque::new(),
            requests: Vec::new(),
            router: None,
        }));
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, st).await;
                });
            }
        });
        FakeServer { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a reply for the next request (replies are used in order).
    pub fn push(&self, r: Reply) {
        self.state.lock().unwrap().queue.push_back(r);
    }

    /// Answers requests the queue has nothing for (e.g. per model name).
    pub fn route(&self, f: impl Fn(&Recorded) -> Option<Reply> + Send + Sync + 'static) {
        self.state.lock().unwrap().router = Some(Arc::new(f));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

async fn read_request(sock: &mut TcpStream) -> std::io::Result<Option<Recorded>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut rl = lines.next().unwrap_or("").split_whitespace();
    let method = rl.next().unwrap_or("").to_string();
    let path = rl.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Ok(Some(Recorded {
        method,
        path,
        headers,
        body,
    }))
}

async fn serve(mut sock: TcpStream, st: Arc<Mutex<State>>) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let Some(req) = read_request(&mut sock).await? else {
        return Ok(());
    };
    let reply = {
        let mut s = st.lock().unwrap();
        s.requests.push(req.clone());
        match s.queue.pop_front() {
            Some(r) => r,
            None => s.router.as_ref().and_then(|f| f(&req)).unwrap_or_else(|| {
                Reply::json(
                    500,
                    r#"{"error":{"message":"fake server: no scripted reply"}}"#,
                )
            }),
        }
    };
    if reply.no_response {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Ok(());
    }
    if let Some(d) = reply.delay_headers {
        tokio::time::sleep(d).await;
    }
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.flush().await?;
    for part in reply.parts {
        match part {
            Part::Bytes(b) => {
                if b.is_empty() {
                    continue;
                }
                let mut chunk = format!("{:x}\r\n", b.len()).into_bytes();
                chunk.extend_from_slice(&b);
                chunk.extend_from_slice(b"\r\n");
                sock.write_all(&chunk).await?;
                sock.flush().await?;
            }
            Part::Sleep(d) => tokio::time::sleep(d).await,
            Part::Reset => {
                // SO_LINGER 0: close with RST instead of FIN. Deprecated because a non-zero
                // linger blocks on drop; zero never does.
                #[allow(deprecated)]
                sock.set_linger(Some(Duration::ZERO))?;
                drop(sock);
                return Ok(());
            }
            Part::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
        }
    }
    sock.write_all(b"0\r\n\r\n").await?;
    sock.flush().await?;
    let _ = sock.shutdown().await;
    Ok(())
}

/// The standard synthesized answer used by the snapshot tests, the tmux tests, the benchmark
/// and the fake-server example: grok-code-fast-1 reasoning, then markdown with a Rust and a
/// Python block; usage with cached tokens and xAI's cost ticks (exact for the catalog prices).
pub fn demo_sse() -> String {
    demo_stream(crate::api::Api::Chat)
}

/// [`demo_sse`] as a Responses stream.
pub fn demo_responses_sse() -> String {
    demo_stream(crate::api::Api::Responses)
}

fn demo_stream(api: crate::api::Api) -> String {
    let synth = match api {
        crate::api::Api::Chat => synth_sse,
        crate::api::Api::Responses => synth_responses_sse,
    };
    synth(
        "grok-code-fast-1",
        include_str!("../tests/data/reasoning.txt"),
        include_str!("../tests/data/answer.md"),
        SynthUsage {
            prompt: 1200,
            cached: 1024,
            completion: 230,
            reasoning: 61,
            ticks: Some(4_921_800),
        },
    )
}

/// A whole SSE body as timed events ending in `Finished`: the first after `first_ms`, then
/// one every `gap_ms` (fixed times make every figure on screen deterministic).
pub fn timed_events(sse: &str, first_ms: u64, gap_ms: u64) -> Vec<crate::api::TimedEvent> {
    let api = crate::api::client::detect_api(sse.as_bytes());
    let (mut evs, d) = crate::api::client::decode_body(api, sse.as_bytes());
    evs.push(crate::api::StreamEvent::Finished {
        reason: d.finish_reason(),
    });
    evs.into_iter()
        .enumerate()
        .map(|(i, event)| crate::api::TimedEvent {
            at: Duration::from_millis(first_ms + gap_ms * i as u64),
            event,
        })
        .collect()
}

/// Usage figures for a synthesized stream.
#[derive(Debug, Clone, Copy)]
pub struct SynthUsage {
    pub prompt: u64,
    pub cached: u64,
    pub completion: u64,
    pub reasoning: u64,
    /// `cost_in_usd_ticks`, as xAI reports it.
    pub ticks: Option<i64>,
}

impl SynthUsage {
    /// A short exchange: 10 prompt tokens, 5 answer tokens, nothing cached or reasoned.
    pub const SMALL: SynthUsage = SynthUsage {
        prompt: 10,
        cached: 0,
        completion: 5,
        reasoning: 0,
        ticks: None,
    };
}

/// Pieces of about one token each (a word with its leading space, or a newline).
pub fn token_pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in text.chars() {
        if (ch == ' ' || ch == '\n') && !cur.trim().is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(ch);
        if ch == '\n' {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// An xAI-shaped SSE stream (reasoning_content deltas, content deltas, finish, usage, [DONE]),
/// one delta per token-sized piece.
pub fn synth_sse(model: &str, reasoning: &str, answer: &str, usage: SynthUsage) -> String {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        let v = serde_json::json!({
            "id": "synth-1", "object": "chat.completion.chunk", "created": 1_790_000_000u64,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {v}\n\n")
    };
    let mut s = String::new();
    let mut first = true;
    for p in token_pieces(reasoning) {
        let mut d = serde_json::json!({ "reasoning_content": p });
        if first {
            d["role"] = "assistant".into();
            first = false;
        }
        s.push_str(&chunk(d, None));
    }
    for p in token_pieces(answer) {
        let mut d = serde_json::json!({ "content": p });
        if first {
            d["role"] = "assistant".into();
            first = false;
        }
        s.push_str(&chunk(d, None));
    }
    s.push_str(&chunk(serde_json::json!({}), Some("stop")));
    let mut u = serde_json::json!({
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.completion,
        "total_tokens": usage.prompt + usage.completion + usage.reasoning,
        "prompt_tokens_details": {"text_tokens": usage.prompt, "cached_tokens": usage.cached},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    });
    if let Some(t) = usage.ticks {
        u["cost_in_usd_ticks"] = t.into();
    }
    let v = serde_json::json!({
        "id": "synth-1", "object": "chat.completion.chunk", "created": 1_790_000_000u64,
        "model": model, "choices": [], "usage": u,
    });
    s.push_str(&format!("data: {v}\n\ndata: [DONE]\n\n"));
    s
}

/// Responses API events (JSON payloads) in their wire form: `event: <type>` and `data:` lines,
/// each event followed by a blank line — as the recordings' `*.chunks.txt` files rebuild.
pub fn responses_wire<'a>(events: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::new();
    for line in events {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let kind = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(String::from))
            .unwrap_or_default();
        s.push_str(&format!("event: {kind}\ndata: {line}\n\n"));
    }
    s
}

/// An xAI-shaped Responses stream: `response.created`, a reasoning item whose summary
/// streams one token-sized delta at a time and ends with its `encrypted_content`, the
/// answer's `output_text` deltas, then `response.completed` with usage (`output_tokens`
/// includes the reasoning tokens, as on the Responses API). The same `SynthUsage` as
/// [`synth_sse`]: `completion` counts the answer only.
pub fn synth_responses_sse(
    model: &str,
    reasoning: &str,
    answer: &str,
    usage: SynthUsage,
) -> String {
    use serde_json::json;
    let id = "resp_synth_1";
    let mut ev: Vec<serde_json::Value> = Vec::new();
    let resp = |status: &str| json!({"id": id, "object": "response", "model": model, "status": status, "output": []});
    ev.push(json!({"type": "response.created", "response": resp("in_progress")}));
    let mut output = Vec::new();
    if !reasoning.is_empty() {
        let rid = "rs_synth_1";
        ev.push(
            json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"id": rid, "type": "reasoning", "summary": []}}),
        );
        for p in token_pieces(reasoning) {
            ev.push(
                json!({"type": "response.reasoning_summary_text.delta", "item_id": rid,
                "output_index": 0, "summary_index": 0, "delta": p}),
            );
        }
        let item = json!({"id": rid, "type": "reasoning", "status": "completed",
            "summary": [{"type": "summary_text", "text": reasoning}],
            "encrypted_content": format!("enc:{}", reasoning.len())});
        ev.push(json!({"type": "response.output_item.done", "output_index": 0, "item": item}));
        output.push(item);
    }
    let mid = "msg_synth_1";
    let at = output.len();
    ev.push(
        json!({"type": "response.output_item.added", "output_index": at,
        "item": {"id": mid, "type": "message", "role": "assistant", "content": []}}),
    );
    for p in token_pieces(answer) {
        ev.push(json!({"type": "response.output_text.delta", "item_id": mid,
            "output_index": at, "content_index": 0, "delta": p}));
    }
    ev.push(
        json!({"type": "response.output_text.done", "item_id": mid, "output_index": at,
        "content_index": 0, "text": answer}),
    );
    let msg = json!({"id": mid, "type": "message", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": answer, "annotations": []}]});
    ev.push(json!({"type": "response.output_item.done", "output_index": at, "item": msg}));
    output.push(msg);
    let mut u = json!({
        "input_tokens": usage.prompt,
        "input_tokens_details": {"cached_tokens": usage.cached},
        "output_tokens": usage.completion + usage.reasoning,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.prompt + usage.completion + usage.reasoning,
    });
    if let Some(t) = usage.ticks {
        u["cost_in_usd_ticks"] = t.into();
    }
    let mut done = resp("completed");
    done["output"] = output.into();
    done["usage"] = u;
    ev.push(json!({"type": "response.completed", "response": done}));
    let lines: Vec<String> = ev.iter().map(|e| e.to_string()).collect();
    responses_wire(lines.iter().map(String::as_str))
}

/// A response that calls functions, on either endpoint: each call `(call_id, name, arguments)`
/// in order — parallel calls in one response. On Chat Completions each call comes whole in
/// one delta (as xAI sends them), then `finish_reason: "tool_calls"` and usage; on Responses
/// each is a `function_call` item whose arguments stream in two deltas.
pub fn synth_tool_calls(
    api: crate::api::Api,
    model: &str,
    calls: &[(&str, &str, &str)],
    usage: SynthUsage,
) -> String {
    use serde_json::json;
    match api {
        crate::api::Api::Chat => {
            let chunk = |delta: serde_json::Value, finish: Option<&str>| {
                let v = json!({"id": "synth-tc", "object": "chat.completion.chunk", "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
                format!("data: {v}\n\n")
            };
            let mut s = String::new();
            for (i, (id, name, args)) in calls.iter().enumerate() {
                let mut d = json!({"tool_calls": [{"index": i, "id": id, "type": "function",
                    "function": {"name": name, "arguments": args}}]});
                if i == 0 {
                    d["role"] = "assistant".into();
                }
                s.push_str(&chunk(d, None));
            }
            s.push_str(&chunk(json!({}), Some("tool_calls")));
            let u = json!({"id": "synth-tc", "object": "chat.completion.chunk", "model": model,
                "choices": [], "usage": {
                    "prompt_tokens": usage.prompt, "completion_tokens": usage.completion,
                    "total_tokens": usage.prompt + usage.completion + usage.reasoning,
                    "prompt_tokens_details": {"cached_tokens": usage.cached},
                    "completion_tokens_details": {"reasoning_tokens": usage.reasoning}}});
            s.push_str(&format!("data: {u}\n\ndata: [DONE]\n\n"));
            s
        }
        crate::api::Api::Responses => {
            let mut ev = vec![json!({"type": "response.created",
                "response": {"id": "resp_tc", "model": model, "status": "in_progress", "output": []}})];
            for (i, (id, name, args)) in calls.iter().enumerate() {
                let fid = format!("fc_{i}");
                ev.push(json!({"type": "response.output_item.added", "output_index": i,
                    "item": {"id": fid, "type": "function_call", "call_id": id, "name": name, "arguments": ""}}));
                let cut = args
                    .char_indices()
                    .nth(args.chars().count() / 2)
                    .map_or(0, |(b, _)| b);
                for piece in [&args[..cut], &args[cut..]] {
                    ev.push(json!({"type": "response.function_call_arguments.delta",
                        "item_id": fid, "output_index": i, "delta": piece}));
                }
                ev.push(json!({"type": "response.function_call_arguments.done",
                    "item_id": fid, "output_index": i, "arguments": args}));
                ev.push(
                    json!({"type": "response.output_item.done", "output_index": i,
                    "item": {"id": fid, "type": "function_call", "call_id": id, "name": name,
                        "arguments": args, "status": "completed"}}),
                );
            }
            ev.push(json!({"type": "response.completed", "response": {"id": "resp_tc",
                "model": model, "status": "completed", "usage": {
                    "input_tokens": usage.prompt, "input_tokens_details": {"cached_tokens": usage.cached},
                    "output_tokens": usage.completion + usage.reasoning,
                    "output_tokens_details": {"reasoning_tokens": usage.reasoning}}}}));
            let lines: Vec<String> = ev.iter().map(|e| e.to_string()).collect();
            responses_wire(lines.iter().map(String::as_str))
        }
    }
}

/// The scripted and recorded models as they were priced when the recordings were made
/// (2026-03), before xAI retired the slugs (2026-05-15; since then grok-4.3 serves them at its
/// price). Tests that replay those recordings and scripts pin these, so that a computed cost
/// can be checked against the bill the recording carries. A config-file snippet.
pub const RECORDING_PRICES_TOML: &str = r#"
[models."grok-code-fast-1"]
context_window = 256000
input = 0.20
cached_input = 0.02
output = 1.50
[models."grok-3-mini"]
context_window = 131072
input = 0.30
cached_input = 0.075
output = 0.50
[models."grok-4-fast-reasoning"]
context_window = 2000000
input = 0.20
cached_input = 0.05
output = 0.50
"#;

/// The catalog with [`RECORDING_PRICES_TOML`] applied.
pub fn recording_catalog() -> crate::session::Catalog {
    crate::config::Config::parse(RECORDING_PRICES_TOML, None)
        .expect("recording prices parse")
        .catalog
}

/// The app's start-up settings used by the tests and the benchmark: provider xai with a key,
/// model grok-code-fast-1 at its recording-era prices, the dark theme (`color` off for stable
/// snapshots).
pub fn app_init(color: bool) -> crate::app::AppInit {
    crate::app::AppInit {
        theme: crate::ui::theme::Theme::load("dark", color).expect("bundled theme"),
        catalog: recording_catalog(),
        provider: "xai".into(),
        providers: vec!["xai".into()],
        provider_free: false,
        includes_reasoning: false,
        has_key: true,
        key_help: String::new(),
        model: "grok-code-fast-1".into(),
        system: None,
        provider_info: Default::default(),
    }
}

/// The second answer of the comparison scripts: the same task, other code.
pub const COMPARE_ANSWER_B: &str = "Read it whole and split it:\n\n```rust\nuse std::fs;\nuse std::path::Path;\n\npub fn read_lines(path: &Path) -> std::io::Result<Vec<String>> {\n    let text = fs::read_to_string(path)?;\n    Ok(text.lines().map(str::to_string).collect())\n}\n```\n\nNo trimming: lines come back exactly as written.\n";

/// Scripted replies per model name, for comparisons (tests, the tmux tests, the example
/// server): each model answers at its own speed, one with hidden reasoning, one that breaks.
///
/// - `grok-code-fast-1`: the standard demo answer (reasoning, Rust and Python), fast.
/// - `grok-3-mini`: longer reasoning, another Rust answer, slower, cheaper prompt.
/// - `grok-4-fast-reasoning`: thinks in silence (hidden reasoning), then a short answer.
/// - a name containing `broken`: starts answering, then the connection is reset.
/// - a name containing `stall`: starts answering, then goes silent.
/// - anything else: a one-line answer naming the model.
///
/// `gap` is the pause between events of the fastest model; the others scale from it.
pub fn compare_reply(model: &str, gap: Duration) -> Reply {
    compare_reply_on(crate::api::Api::Chat, model, gap)
}

/// [`compare_reply`] on either endpoint: the same scripts as Chat Completions chunks or as
/// Responses events.
pub fn compare_reply_on(api: crate::api::Api, model: &str, gap: Duration) -> Reply {
    let paced = |body: String, gap: Duration| Reply::sse_paced(body, gap);
    let synth_sse = |model: &str, reasoning: &str, answer: &str, usage: SynthUsage| match api {
        crate::api::Api::Chat => synth_sse(model, reasoning, answer, usage),
        crate::api::Api::Responses => synth_responses_sse(model, reasoning, answer, usage),
    };
    match model {
        "grok-code-fast-1" => paced(
            match api {
                crate::api::Api::Chat => demo_sse(),
                crate::api::Api::Responses => demo_responses_sse(),
            },
            gap,
        ),
        "grok-3-mini" => paced(
            synth_sse(
                "grok-3-mini",
                "Two options: trim each line or keep them raw. The user asked for a config reader, \
                 so keeping lines exact is safer; trimming can hide mistakes in values.\nI will \
                 keep it minimal and mention the trade-off.\n",
                COMPARE_ANSWER_B,
                SynthUsage {
                    prompt: 1200,
                    cached: 0,
                    completion: 60,
                    reasoning: 41,
                    ticks: None,
                },
            ),
            gap * 3,
        ),
        "grok-4-fast-reasoning" => {
            let mut r = paced(
                synth_sse(
                    "grok-4-fast-reasoning",
                    "",
                    "Use `std::fs::read_to_string` and `lines()`; propagate errors with `?`.\n",
                    SynthUsage {
                        prompt: 1200,
                        cached: 1100,
                        completion: 20,
                        reasoning: 350,
                        ticks: None,
                    },
                ),
                gap,
            );
            r.delay_headers = Some(gap * 40);
            r
        }
        m if m.contains("broken") || m.contains("stall") => {
            let body = synth_sse(
                m,
                "Starting.\n",
                "This answer will not finish: the connection drops here",
                SynthUsage {
                    prompt: 10,
                    cached: 0,
                    completion: 10,
                    reasoning: 0,
                    ticks: None,
                },
            );
            // Everything up to the first content chunk after a few words, then the fault.
            let events: Vec<&str> = body.split_inclusive("\n\n").collect();
            let mut r = Reply::new(200, "text/event-stream");
            for ev in events.iter().take(6) {
                r.parts.push(Part::Bytes(ev.as_bytes().to_vec()));
                r.parts.push(Part::Sleep(gap * 2));
            }
            r.parts.push(if m.contains("stall") {
                Part::Stall
            } else {
                Part::Reset
            });
            r
        }
        m => paced(
            synth_sse(
                m,
                "",
                &format!("This is {m}.\n"),
                SynthUsage {
                    prompt: 10,
                    cached: 0,
                    completion: 4,
                    reasoning: 0,
                    ticks: None,
                },
            ),
            gap,
        ),
    }
}

/// The router for `compare_reply`: `/models` lists the scripted models, chat and Responses
/// requests are answered per their `model`, each in its endpoint's shape.
pub fn compare_router(gap: Duration) -> impl Fn(&Recorded) -> Option<Reply> + Send + Sync {
    move |req| {
        Some(if req.path.ends_with("/models") {
            Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"grok-code-fast-1"},{"id":"grok-3-mini"},{"id":"grok-4-fast-reasoning"}]}"#,
            )
        } else {
            let model = req.json()["model"].as_str().unwrap_or("").to_string();
            let api = if req.path.ends_with("/responses") {
                crate::api::Api::Responses
            } else {
                crate::api::Api::Chat
            };
            compare_reply_on(api, &model, gap)
        })
    }
}

//! The streaming HTTP client: one background task per request, talking to its consumer only
//! through a channel of timed events.

use futures_util::{FutureExt, StreamExt};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::chunk::ChunkDecoder;
use super::error::{self, mask_secret, ApiError, ErrorKind};
use super::request::{Api, Dialect};
use super::responses::ResponsesDecoder;
use super::sse::{SseItem, SseParser};
use super::types::{StreamEvent, TimedEvent};

/// Where requests go and how they authenticate.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Provider name, for messages.
    pub name: String,
    /// Base URL ending before `/chat/completions`, e.g. `https://api.x.ai/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
    /// The environment variable the key is read from, for hints.
    pub api_key_env: Option<String>,
    pub headers: Vec<(String, String)>,
    pub dialect: Dialect,
    /// Which endpoint requests go to.
    pub api: Api,
}

/// The stream decoder of one endpoint.
#[derive(Debug)]
pub enum Decoder {
    Chat(ChunkDecoder),
    Responses(Box<ResponsesDecoder>),
}

impl Decoder {
    pub fn new(api: Api) -> Self {
        match api {
            Api::Chat => Decoder::Chat(ChunkDecoder::new()),
            Api::Responses => Decoder::Responses(Box::default()),
        }
    }

    /// Decodes one SSE event's payload (`event` is its `event:` name).
    pub fn decode(&mut self, event: Option<&str>, data: &str, out: &mut Vec<StreamEvent>) {
        match self {
            Decoder::Chat(d) => d.decode(data, out),
            Decoder::Responses(d) => d.decode(event, data, out),
        }
    }

    /// The stream said it is complete.
    pub fn done(&self) -> bool {
        match self {
            Decoder::Chat(d) => d.done,
            Decoder::Responses(d) => d.done,
        }
    }

    pub fn finish_reason(&self) -> Option<String> {
        match self {
            Decoder::Chat(d) => d.finish_reason.clone(),
            Decoder::Responses(d) => d.finish_reason.clone(),
        }
    }

    pub fn malformed(&self) -> usize {
        match self {
            Decoder::Chat(d) => d.malformed,
            Decoder::Responses(d) => d.malformed,
        }
    }

    /// A whole non-streaming body; `None` when it is not a completion of this endpoint.
    pub fn decode_completion(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Option<()> {
        match self {
            Decoder::Chat(d) => d.decode_completion(body, out),
            Decoder::Responses(d) => d.decode_completion(body, out),
        }
    }
}

/// Which endpoint a captured SSE body came from: Responses streams name their events
/// `response.*` (on `event:` lines, or as the payload's `type`).
pub fn detect_api(body: &[u8]) -> Api {
    let mut parser = SseParser::new();
    let mut items = Vec::new();
    parser.feed(&body[..body.len().min(64 * 1024)], &mut items);
    parser.finish(&mut items);
    let responses = items.iter().any(|i| match i {
        SseItem::Event { event, data } => {
            event.as_deref().is_some_and(|e| e.starts_with("response."))
                || serde_json::from_str::<Value>(data).is_ok_and(|v| {
                    v.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.starts_with("response."))
                })
        }
        SseItem::Comment(_) => false,
    });
    if responses {
        Api::Responses
    } else {
        Api::Chat
    }
}

/// The model ids of a `GET /models` answer (`{data: [{id}, …]}`), in its order.
pub fn model_ids(v: &Value) -> Vec<String> {
    v.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("id")?.as_str().map(String::from))
        .collect()
}

/// Decodes a whole SSE body at once (a capture, or a stream served with the wrong content
/// type). Returns the events and the decoder, which says how it ended.
pub fn decode_body(api: Api, body: &[u8]) -> (Vec<StreamEvent>, Decoder) {
    let mut parser = SseParser::new();
    let mut items = Vec::new();
    parser.feed(body, &mut items);
    parser.finish(&mut items);
    let mut decoder = Decoder::new(api);
    let mut events = Vec::new();
    for item in items {
        if let SseItem::Event { event, data } = item {
            decoder.decode(event.as_deref(), &data, &mut events);
        }
    }
    (events, decoder)
}

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct NetPolicy {
    pub connect_timeout: Duration,
    /// Longest silence allowed between reads once the first chunk has arrived.
    pub idle_timeout: Duration,
    /// Longest wait for response headers and the first chunk: models that reason without
    /// streaming it (grok-4) can be silent for minutes before their first token.
    pub first_token_timeout: Duration,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// A `Retry-After` longer than this is not waited for.
    pub retry_after_max: Duration,
    /// Once the output flows, how long to rest after taking everything that had arrived:
    /// tokens that trickle in (250 a second, each its own network packet) are then read a
    /// batch at a time. Zero reads each as it comes. The TUI, which draws what streams at most 10
    /// times a second anyway, sets it; event times are then as fine as this.
    pub coalesce: Duration,
}

impl Default for NetPolicy {
    fn default() -> Self {
        NetPolicy {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            first_token_timeout: Duration::from_secs(300),
            max_retries: 3,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(8),
            retry_after_max: Duration::from_secs(60),
            coalesce: Duration::ZERO,
        }
    }
}

impl NetPolicy {
    /// Backoff before retry number `attempt` (1-based): exponential with ±25% jitter, capped;
    /// a provider's `Retry-After` wins when present.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra;
        }
        let exp = self
            .retry_base
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let capped = exp.min(self.retry_max);
        let jitter = 0.75 + fastrand::f64() * 0.5;
        capped.mul_f64(jitter).min(self.retry_max)
    }
}

/// Events a request may have waiting for its consumer before the request itself waits.
const EVENT_BUFFER: usize = 1024;
/// A batch of at least this many bytes is a fast stream: read on without a rest.
const COALESCE_BELOW: usize = 16 * 1024;

/// The most of an error body read (its message is in the first few hundred bytes).
pub const MAX_ERROR_BODY: usize = 1 << 20;
/// The most of a whole JSON body (a non-streaming answer, `/models`) or of one SSE event.
pub const MAX_BODY: usize = 16 << 20;

/// The body as text, reading at most `cap` bytes: `Ok((text, true))` when it was longer
/// (the rest is never downloaded).
async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<(String, bool), reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), true));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((String::from_utf8_lossy(&buf).into_owned(), false))
}

fn too_large(what: &str, cap: usize) -> ApiError {
    ApiError::new(
        ErrorKind::Protocol,
        format!("{what} is larger than {} MB: not read further", cap >> 20),
    )
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Arc<Endpoint>,
    policy: Arc<NetPolicy>,
}

/// A running request. Dropping it (or [`ChatStream::cancel`]) aborts the request; every event
/// already received stays with the consumer.
pub struct ChatStream {
    rx: mpsc::Receiver<TimedEvent>,
    task: JoinHandle<()>,
}

impl ChatStream {
    pub async fn next(&mut self) -> Option<TimedEvent> {
        self.rx.recv().await
    }
    pub fn try_next(&mut self) -> Option<TimedEvent> {
        self.rx.try_recv().ok()
    }
    /// Without waiting: `Some(Some(event))`, `Some(None)` once the stream has ended, or
    /// `None` when nothing is waiting.
    pub fn poll_now(&mut self) -> Option<Option<TimedEvent>> {
        match self.rx.try_recv() {
            Ok(ev) => Some(Some(ev)),
            Err(mpsc::error::TryRecvError::Disconnected) => Some(None),
            Err(mpsc::error::TryRecvError::Empty) => None,
        }
    }
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Outcome {
    Done,
    Failed { error: ApiError, had_output: bool },
    ConsumerGone,
}

struct Emitter {
    tx: mpsc::Sender<TimedEvent>,
    t0: Instant,
    had_output: bool,
    /// Events understood so far (not notices), against which malformed chunks are weighed.
    understood: usize,
    /// Malformed chunks of the current attempt; those not shown one by one are summed up in
    /// one notice before the stream's end.
    malformed: usize,
    /// The key and the other credentials this request carries: masked in every text the
    /// server sends back (a notice quoting a chunk, an answer, an error), wherever it goes.
    secrets: Vec<String>,
    /// The last attempt's error is not worth another (whatever its kind).
    final_error: bool,
}

/// `text` with every secret replaced by its masked form.
fn scrub_text(text: String, secrets: &[String]) -> String {
    secrets.iter().fold(text, |s, k| {
        if s.contains(k.as_str()) {
            s.replace(k.as_str(), &mask_secret(k))
        } else {
            s
        }
    })
}

/// `event` with every secret in its text replaced by its masked form.
fn scrub_event(event: StreamEvent, secrets: &[String]) -> StreamEvent {
    let clean = |s: String| scrub_text(s, secrets);
    match event {
        StreamEvent::Content(s) => StreamEvent::Content(clean(s)),
        StreamEvent::Reasoning(s) => StreamEvent::Reasoning(clean(s)),
        StreamEvent::Notice(s) => StreamEvent::Notice(clean(s)),
        StreamEvent::DoomLoop(s) => StreamEvent::DoomLoop(clean(s)),
        StreamEvent::Started { model, id } => StreamEvent::Started {
            model: model.map(clean),
            id: id.map(clean),
        },
        StreamEvent::ServerTool(mut t) => {
            t.name = clean(t.name);
            t.detail = t.detail.map(clean);
            StreamEvent::ServerTool(t)
        }
        StreamEvent::Citation(mut c) => {
            c.url = clean(c.url);
            c.title = c.title.map(clean);
            StreamEvent::Citation(c)
        }
        StreamEvent::ToolCall(mut d) => {
            d.arguments = clean(d.arguments);
            StreamEvent::ToolCall(d)
        }
        StreamEvent::Error(mut e) => {
            e.message = clean(e.message);
            e.hint = e.hint.map(clean);
            StreamEvent::Error(e)
        }
        StreamEvent::Retrying {
            attempt,
            delay,
            mut error,
        } => {
            error.message = clean(error.message);
            StreamEvent::Retrying {
                attempt,
                delay,
                error,
            }
        }
        other => other,
    }
}

impl Emitter {
    /// Waits while the consumer is behind: a fast or flooding server is slowed to the
    /// consumer's pace (TCP back-pressure) instead of piling events up in memory.
    async fn send_at(&mut self, at: Duration, event: StreamEvent) -> bool {
        self.had_output |= event.is_work();
        if !matches!(event, StreamEvent::Notice(_)) {
            self.understood += 1;
        }
        if event.is_terminal() {
            if let Some(n) = super::chunk::malformed_summary(std::mem::take(&mut self.malformed)) {
                let _ = self.tx.send(TimedEvent { at, event: n }).await;
            }
        }
        let event = if self.secrets.is_empty() {
            event
        } else {
            scrub_event(event, &self.secrets)
        };
        self.tx.send(TimedEvent { at, event }).await.is_ok()
    }
    async fn send(&mut self, event: StreamEvent) -> bool {
        let at = self.t0.elapsed();
        self.send_at(at, event).await
    }
}

impl Client {
    pub fn new(endpoint: Endpoint, policy: NetPolicy) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let from = attempt.previous().first().map(|u| u.origin());
                if from.is_some_and(|o| o != attempt.url().origin()) {
                    let to = error::mask_url(attempt.url().as_str());
                    attempt.error(format!(
                        "the server redirected to {to}: another host, not followed (the \
                         request carries your key and the conversation)"
                    ))
                } else if attempt.previous().len() >= 5 {
                    attempt.error("more than 5 redirects")
                } else {
                    attempt.follow()
                }
            }))
            .connect_timeout(policy.connect_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("grokpair/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::new(ErrorKind::Network, format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            endpoint: Arc::new(endpoint),
            policy: Arc::new(policy),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.endpoint.base_url.trim_end_matches('/'), path)
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut req = req;
        if let Some(key) = &self.endpoint.api_key {
            req = req.bearer_auth(key);
        }
        for (k, v) in &self.endpoint.headers {
            req = req.header(k, v);
        }
        req
    }

    /// The credentials a request carries (the key, a password in the base URL, the values of
    /// headers named like credentials), long enough to be told apart from ordinary text.
    fn secrets(&self) -> Vec<String> {
        let ep = &self.endpoint;
        let credential = |name: &str| {
            let n = name.to_ascii_lowercase();
            ["key", "token", "secret", "auth", "password", "cookie"]
                .iter()
                .any(|w| n.contains(w))
        };
        ep.api_key
            .iter()
            .map(String::as_str)
            .chain(error::url_secret(&ep.base_url))
            .chain(
                ep.headers
                    .iter()
                    .filter(|(k, _)| credential(k))
                    .map(|(_, v)| v.as_str()),
            )
            .filter(|s| s.len() >= 8)
            .map(String::from)
            .collect()
    }

    /// Adds what to do about it, and makes sure the key never leaks through a message.
    fn finish_error(&self, e: ApiError) -> ApiError {
        let ep = &self.endpoint;
        let env = ep.api_key_env.as_deref();
        let hint = match e.kind {
            ErrorKind::Auth => Some(match (&ep.api_key, env) {
                (None, Some(env)) => format!("no API key: set {env}"),
                (None, None) => "no API key configured for this provider".to_string(),
                (Some(k), Some(env)) => {
                    format!("check {env} (the key in use is {})", mask_secret(k))
                }
                (Some(k), None) => format!("check the configured key ({})", mask_secret(k)),
            }),
            ErrorKind::NoCredits => Some(format!("add credits to your {} account", ep.name)),
            ErrorKind::ModelNotFound => Some(format!(
                "`grokpair models --provider {}` lists the models",
                ep.name
            )),
            ErrorKind::QuotaExhausted => {
                Some("raise the limit or wait for it to reset; not retried".to_string())
            }
            ErrorKind::Network | ErrorKind::Timeout => {
                Some(format!("is {} reachable?", error::mask_url(&ep.base_url)))
            }
            _ => None,
        };
        let e = match (e.hint.is_none(), hint) {
            (true, Some(h)) => e.with_hint(h),
            _ => e,
        };
        e.scrub(ep.api_key.as_deref())
            .scrub(error::url_secret(&ep.base_url))
    }

    /// Starts streaming a response from the endpoint's API. `body` comes from
    /// [`build_chat_body`](super::request::build_chat_body) or
    /// [`build_responses_body`](super::responses::build_responses_body); `conv_id` is sent as
    /// `x-grok-conv-id` to xAI so that the conversation lands on a warm prompt cache.
    pub fn stream_chat(&self, body: Vec<u8>, conv_id: Option<String>) -> ChatStream {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let client = self.clone();
        let task = tokio::spawn(async move {
            let mut em = Emitter {
                tx,
                t0: Instant::now(),
                had_output: false,
                understood: 0,
                malformed: 0,
                secrets: client.secrets(),
                final_error: false,
            };
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                match client.attempt(&body, conv_id.as_deref(), &mut em).await {
                    Outcome::Done | Outcome::ConsumerGone => return,
                    Outcome::Failed { error, had_output } => {
                        let mut error = client.finish_error(error);
                        // The server was reachable: it was streaming. Say what happened.
                        if had_output
                            && matches!(error.kind, ErrorKind::Network | ErrorKind::Timeout)
                        {
                            error.hint =
                                Some("the stream broke off mid-answer; send again to retry".into());
                        }
                        let too_long = error
                            .retry_after
                            .is_some_and(|ra| ra > client.policy.retry_after_max);
                        if !had_output
                            && !too_long
                            && !em.final_error
                            && error.is_retryable()
                            && attempt <= client.policy.max_retries
                        {
                            let delay = client.policy.backoff(attempt, error.retry_after);
                            if !em
                                .send(StreamEvent::Retrying {
                                    attempt,
                                    delay,
                                    error,
                                })
                                .await
                            {
                                return;
                            }
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        if attempt > 1 && error.is_retryable() {
                            error.message =
                                format!("{} (gave up after {} attempts)", error.message, attempt);
                        } else if too_long {
                            let secs = error.retry_after.unwrap_or_default().as_secs();
                            error.message =
                                format!("{} (provider asks to wait {secs}s)", error.message);
                        }
                        em.send(StreamEvent::Error(error)).await;
                        return;
                    }
                }
            }
        });
        ChatStream { rx, task }
    }

    async fn attempt(&self, body: &[u8], conv_id: Option<&str>, em: &mut Emitter) -> Outcome {
        let idle = self.policy.idle_timeout;
        let first = self.policy.first_token_timeout;
        let coalesce = self.policy.coalesce;
        let api = self.endpoint.api;
        let mut req = self
            .authorized(self.http.post(self.url(api.path())))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .body(body.to_vec());
        if let (Dialect::Xai, Some(id)) = (self.endpoint.dialect, conv_id) {
            req = req.header("x-grok-conv-id", id);
        }
        let failed = |error: ApiError, em: &Emitter| Outcome::Failed {
            error,
            had_output: em.had_output,
        };
        // The first output must come within `first` of sending, however the server fills
        // the wait (headers, keep-alive comments, empty events).
        let first_deadline = tokio::time::Instant::now() + first;
        let resp = match tokio::time::timeout(first, req.send()).await {
            // Connected and sent (a connection that never opens fails at connect_timeout,
            // and is retried): the server has the request and may bill it, so it is not
            // sent again.
            Err(_) => {
                return failed(
                    ApiError::new(
                        ErrorKind::Stalled,
                        format!(
                            "no response within {}s (not sent again: the server has the request)",
                            first.as_secs_f64()
                        ),
                    ),
                    em,
                )
            }
            Ok(Err(e)) => {
                let mut error = network_error(&e);
                // Nothing listens on this machine's port: a retry in a second will not find a
                // server either, so it is said at once (a remote host's refusal may pass).
                if is_refused(&e) && is_loopback(&self.endpoint.base_url) {
                    em.final_error = true;
                    error.message = format!("connection refused: {}", error.message);
                    error.hint = Some(format!(
                        "nothing listens at {}: is the server running?",
                        error::mask_url(&self.endpoint.base_url)
                    ));
                }
                return failed(error, em);
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let retry_after = error::parse_retry_after(resp.headers());
            let text = match tokio::time::timeout(idle, read_capped(resp, MAX_ERROR_BODY)).await {
                Ok(Ok((t, _))) => t,
                _ => String::new(),
            };
            let text = scrub_text(text, &em.secrets);
            return failed(error::from_http(status, &text, retry_after), em);
        }
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("text/event-stream"));
        let mut decoder = Decoder::new(api);
        let mut events = Vec::new();
        if !is_sse {
            // Either a server that ignored `stream: true`, or an error body on a 200.
            let text = match tokio::time::timeout(idle, read_capped(resp, MAX_BODY)).await {
                Ok(Ok((_, true))) => {
                    return failed(
                        too_large("the response body", MAX_BODY).with_status(status),
                        em,
                    )
                }
                Ok(Ok((t, false))) => scrub_text(t, &em.secrets),
                Ok(Err(e)) => return failed(network_error(&e), em),
                Err(_) => return failed(stalled(idle), em),
            };
            // A Responses stream starts with `event:` lines.
            if text.trim_start().starts_with("data:") || text.trim_start().starts_with("event:") {
                return self.finish_sse_text(&text, em).await;
            }
            if decoder.decode_completion(&text, &mut events).is_some() {
                for ev in events {
                    if let StreamEvent::Error(e) = ev {
                        return failed(e, em);
                    }
                    if !em.send(ev).await {
                        return Outcome::ConsumerGone;
                    }
                }
                em.send(StreamEvent::Finished {
                    reason: decoder.finish_reason(),
                })
                .await;
                return Outcome::Done;
            }
            return failed(error::from_json_on_200(&text), em);
        }
        let mut parser = SseParser::new();
        let mut items = Vec::new();
        let mut body = resp.bytes_stream();
        // Bytes taken since the last rest (see `NetPolicy::coalesce`).
        let mut batch = 0usize;
        loop {
            // Until the model's first output, the first-token deadline; then the idle limit
            // between reads.
            let before_output = !em.had_output;
            let next = if before_output {
                tokio::time::timeout_at(first_deadline, body.next()).await
            } else if coalesce.is_zero() {
                tokio::time::timeout(idle, body.next()).await
            } else {
                // What has arrived is taken without waiting: the connection's task hands it
                // over a frame at a time, so it gets one turn to do so.
                let mut ready = body.next().now_or_never();
                if ready.is_none() {
                    tokio::task::yield_now().await;
                    ready = body.next().now_or_never();
                }
                match ready {
                    Some(r) => Ok(r),
                    // Nothing more: a rest before the next read, so that a trickle of tokens
                    // arrives in one read instead of one wake-up each — unless this batch was
                    // large (a fast stream, which would only be kept waiting).
                    None => {
                        if std::mem::take(&mut batch) < COALESCE_BELOW {
                            tokio::time::sleep(coalesce).await;
                        }
                        tokio::time::timeout(idle, body.next()).await
                    }
                }
            };
            if let Ok(Some(Ok(bytes))) = &next {
                batch += bytes.len();
            }
            let at = em.t0.elapsed();
            let eof = matches!(next, Ok(None));
            match next {
                Err(_) if before_output => {
                    return failed(
                        ApiError::new(
                            ErrorKind::Stalled,
                            format!("no output within {}s", first.as_secs_f64()),
                        ),
                        em,
                    )
                }
                Err(_) => return failed(stalled(idle), em),
                Ok(Some(Err(e))) => {
                    let mut err = network_error(&e);
                    err.message = format!("connection lost mid-stream: {}", err.message);
                    return failed(err, em);
                }
                Ok(Some(Ok(bytes))) => parser.feed(&bytes, &mut items),
                Ok(None) => parser.finish(&mut items),
            }
            // One event that never ends must not take all memory.
            if parser.pending() > MAX_BODY {
                return failed(too_large("one event of the stream", MAX_BODY), em);
            }
            for item in items.drain(..) {
                if let SseItem::Event { event, data } = item {
                    // Masked whole, before a notice could quote part of a key.
                    let data = scrub_text(data, &em.secrets);
                    decoder.decode(event.as_deref(), &data, &mut events);
                }
            }
            for ev in events.drain(..) {
                if let StreamEvent::Error(e) = ev {
                    em.malformed = decoder.malformed();
                    return failed(e, em);
                }
                if !em.send_at(at, ev).await {
                    return Outcome::ConsumerGone;
                }
            }
            em.malformed = decoder.malformed();
            if em.malformed >= super::chunk::MALFORMED_GIVE_UP && em.malformed > 10 * em.understood
            {
                return failed(
                    ApiError::new(
                        ErrorKind::Protocol,
                        format!(
                            "the stream is mostly unreadable: gave up after {} malformed chunks",
                            em.malformed
                        ),
                    ),
                    em,
                );
            }
            if decoder.done() {
                em.send(StreamEvent::Finished {
                    reason: decoder.finish_reason(),
                })
                .await;
                return Outcome::Done;
            }
            if eof {
                // Some servers close without `[DONE]` but after a finish_reason: that is a
                // complete answer. Without either, the answer was cut off.
                if decoder.finish_reason().is_some() {
                    em.send(StreamEvent::Finished {
                        reason: decoder.finish_reason(),
                    })
                    .await;
                    return Outcome::Done;
                }
                return failed(
                    ApiError::new(
                        ErrorKind::Truncated,
                        "the connection closed before the stream finished",
                    ),
                    em,
                );
            }
        }
    }

    /// An SSE body served with the wrong content type.
    async fn finish_sse_text(&self, text: &str, em: &mut Emitter) -> Outcome {
        let (events, decoder) = decode_body(self.endpoint.api, text.as_bytes());
        for ev in events {
            if let StreamEvent::Error(e) = ev {
                return Outcome::Failed {
                    error: e,
                    had_output: em.had_output,
                };
            }
            if !em.send(ev).await {
                return Outcome::ConsumerGone;
            }
        }
        em.send(StreamEvent::Finished {
            reason: decoder.finish_reason(),
        })
        .await;
        Outcome::Done
    }

    /// GET a JSON document relative to the base URL (e.g. `models`).
    pub async fn get_json(&self, path: &str) -> Result<Value, ApiError> {
        let req = self.authorized(self.http.get(self.url(path)));
        let idle = self.policy.idle_timeout;
        let resp = match tokio::time::timeout(idle, req.send()).await {
            Err(_) => {
                return Err(self.finish_error(ApiError::new(ErrorKind::Timeout, "no response")))
            }
            Ok(Err(e)) => return Err(self.finish_error(network_error(&e))),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        let retry_after = error::parse_retry_after(resp.headers());
        let cap = if (200..300).contains(&status) {
            MAX_BODY
        } else {
            MAX_ERROR_BODY
        };
        let text = match tokio::time::timeout(idle, read_capped(resp, cap)).await {
            Ok(Ok((_, true))) if cap == MAX_BODY => {
                return Err(self.finish_error(too_large(&format!("/{path}"), cap)))
            }
            Ok(Ok((t, _))) => t,
            Ok(Err(e)) => return Err(self.finish_error(network_error(&e))),
            Err(_) => return Err(self.finish_error(stalled(idle))),
        };
        if !(200..300).contains(&status) {
            let text = scrub_text(text, &self.secrets());
            return Err(self.finish_error(error::from_http(status, &text, retry_after)));
        }
        serde_json::from_str(text.trim()).map_err(|e| {
            self.finish_error(
                ApiError::new(
                    ErrorKind::Protocol,
                    format!("invalid JSON from {path}: {e}"),
                )
                .with_status(status),
            )
        })
    }
}

fn stalled(idle: Duration) -> ApiError {
    ApiError::new(
        ErrorKind::Stalled,
        format!("no data for {}s", idle.as_secs_f64()),
    )
}

/// Whether the connection was refused (no one listens on the port).
fn is_refused(e: &reqwest::Error) -> bool {
    use std::error::Error as _;
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        src = s.source();
    }
    false
}

/// Whether `url` names this machine (localhost, 127.0.0.0/8, ::1).
fn is_loopback(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
    else {
        return false;
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

fn network_error(e: &reqwest::Error) -> ApiError {
    use std::error::Error as _;
    // reqwest's top-level message is generic; the root cause says what really happened.
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    let kind = if e.is_builder() {
        // A header or key that cannot be sent: a configuration problem, not a network one.
        ErrorKind::BadRequest
    } else if e.is_redirect() {
        ErrorKind::Redirected
    } else if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    ApiError::new(kind, msg)
}

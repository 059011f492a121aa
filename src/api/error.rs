//! Typed provider and network errors, built from each provider's own error body shapes.

use serde_json::Value;
use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad or missing API key (xAI answers 400 for this, others 401).
    Auth,
    /// The account has no credits or no permission (403, 402).
    NoCredits,
    Forbidden,
    ModelNotFound,
    NotFound,
    /// A per-minute rate limit: retryable.
    RateLimited,
    /// A spent credit or monthly spending limit reported as 429: not retryable.
    QuotaExhausted,
    /// The request itself was rejected (bad argument, context too long, …).
    BadRequest,
    /// 5xx from the provider.
    Server,
    /// The provider answered 200 with a JSON error instead of a stream (xAI "Timed out waiting
    /// for first token"), or said it is unavailable.
    Unavailable,
    /// Could not connect, or the connection broke.
    Network,
    /// No response headers within the connect timeout.
    Timeout,
    /// The stream went silent for longer than the idle timeout.
    Stalled,
    /// The connection closed before the stream said it was finished.
    Truncated,
    /// An `error` event inside the stream.
    StreamError,
    /// The response could not be understood at all.
    Protocol,
    /// The server redirected to another origin: not followed, since the request carries
    /// the key, custom credential headers and the conversation.
    Redirected,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Auth => "invalid API key",
            ErrorKind::NoCredits => "no credits",
            ErrorKind::Forbidden => "permission denied",
            ErrorKind::ModelNotFound => "model not found",
            ErrorKind::NotFound => "not found",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::QuotaExhausted => "credit or spending limit reached",
            ErrorKind::BadRequest => "request rejected",
            ErrorKind::Server => "provider error",
            ErrorKind::Unavailable => "provider unavailable",
            ErrorKind::Network => "network error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Stalled => "stream stalled",
            ErrorKind::Truncated => "stream cut off",
            ErrorKind::StreamError => "error during the stream",
            ErrorKind::Protocol => "unreadable response",
            ErrorKind::Redirected => "redirected elsewhere",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// HTTP status, when the error came with one.
    pub status: Option<u16>,
    /// The provider's own message (or ours, for network failures).
    pub message: String,
    /// A short hint on what to do about it.
    pub hint: Option<String>,
    #[serde(default, with = "crate::api::types::millis::option")]
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            status: None,
            message: message.into(),
            hint: None,
            retry_after: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether a new attempt may succeed. Only ever used before any output arrived.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::RateLimited
            | ErrorKind::Server
            | ErrorKind::Unavailable
            | ErrorKind::Network
            | ErrorKind::Timeout
            | ErrorKind::Truncated => true,
            // The server accepted the request and may bill it: sending it again could pay twice.
            ErrorKind::Stalled => false,
            ErrorKind::Protocol => self.status.is_some_and(|s| s >= 500),
            _ => false,
        }
    }

    /// Replaces every occurrence of `secret` in the message and the hint (a provider echoing
    /// the key back, a network error quoting the URL with its password).
    pub fn scrub(mut self, secret: Option<&str>) -> Self {
        if let Some(s) = secret.filter(|s| s.len() >= 4) {
            let masked = mask_secret(s);
            self.message = self.message.replace(s, &masked);
            if let Some(h) = &mut self.hint {
                *h = h.replace(s, &masked);
            }
        }
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.label())?;
        if let Some(s) = self.status {
            write!(f, " (HTTP {s})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, " — {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The masked form of a secret: enough to recognise which key it is, never enough to use it.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 12 {
        return "****".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// `https://user:secret@host/v1` → `https://user:****@host/v1` (a userinfo with no `:` may be
/// a token: all of it is masked): a base URL fit to show in messages and files.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:****@{host}{path}"),
            None => format!("{scheme}://****@{host}{path}"),
        },
        None => url.to_string(),
    }
}

/// The secret part of a URL's userinfo (the password, or a lone token), to scrub from text.
pub fn url_secret(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = authority.rsplit_once('@')?.0;
    Some(userinfo.split_once(':').map_or(userinfo, |(_, p)| p)).filter(|s| !s.is_empty())
}

/// Extracts the human message from any of the known error body shapes:
/// OpenAI/OpenRouter/Ollama `{"error":{"message",…}}`, xAI `{"code","error":"…"}`,
/// AI/ML API `{"message","statusCode",…}`, vLLM `{"object":"error","message"}`.
/// Returns (message, machine code if any).
pub fn extract_message(body: &str) -> Option<(String, Option<String>)> {
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    let obj = v.as_object()?;
    let code_of = |v: Option<&Value>| {
        v.and_then(|c| match c {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    match obj.get("error") {
        Some(Value::Object(e)) => {
            let mut msg = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            // OpenRouter wraps upstream errors: the useful text is in metadata.raw.
            if let Some(meta) = e.get("metadata").and_then(Value::as_object) {
                if let Some(raw) = meta.get("raw").and_then(Value::as_str) {
                    msg = if msg.is_empty() {
                        raw.to_string()
                    } else {
                        format!("{msg}: {raw}")
                    };
                }
                if let Some(p) = meta.get("provider_name").and_then(Value::as_str) {
                    msg.push_str(&format!(" (via {p})"));
                }
            }
            let code = code_of(e.get("code")).or_else(|| code_of(e.get("type")));
            Some((msg, code))
        }
        Some(Value::String(s)) => Some((s.clone(), code_of(obj.get("code")))),
        _ => {
            let msg = obj.get("message").and_then(|m| match m {
                Value::String(s) => Some(s.clone()),
                Value::Array(a) => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                _ => None,
            })?;
            Some((
                msg,
                code_of(obj.get("code")).or_else(|| code_of(obj.get("type"))),
            ))
        }
    }
}

fn mentions(haystack: &str, needles: &[&str]) -> bool {
    let h = haystack.to_ascii_lowercase();
    needles.iter().any(|n| h.contains(n))
}

const KEY_WORDS: &[&str] = &[
    "api key",
    "api-key",
    "apikey",
    "incorrect api",
    "unauthorized",
    "unauthenticated",
    "authentication",
    "invalid key",
    "no auth credentials",
];
const SPENT_WORDS: &[&str] = &[
    "credit",
    "spending limit",
    "spend limit",
    "quota",
    "exhausted",
    "insufficient",
    "billing",
    "balance",
    "monthly limit",
];

/// The words to classify an error by: its message, and its code only when that is a machine
/// identifier (`insufficient_quota`). xAI puts a gRPC status text in `code` — "Some resource
/// has been exhausted" on *every* 429, rate limit or spent credits alike — which says nothing.
fn classify_text(message: &str, code: Option<&str>) -> String {
    match code {
        Some(c) if !c.contains(char::is_whitespace) => format!("{message} {c}"),
        Some(c) if message.trim().is_empty() => c.to_string(),
        _ => message.to_string(),
    }
}

/// "Please retry after 1 second", "try again in 20s", "retry after 500ms": the wait a
/// message asks for, when no `Retry-After` header says it.
pub fn retry_after_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    for marker in ["retry after", "try again in", "retry in", "try again after"] {
        let Some(at) = lower.find(marker) else {
            continue;
        };
        let rest = lower[at + marker.len()..].trim_start();
        let num: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let Ok(n) = num.parse::<f64>() else {
            continue;
        };
        let unit = rest[num.len()..].trim_start();
        let secs = if unit.starts_with("ms") || unit.starts_with("millisecond") {
            n / 1000.0
        } else if unit.starts_with("min") {
            n * 60.0
        } else {
            n
        };
        return Duration::try_from_secs_f64(secs).ok();
    }
    None
}

/// Classifies an HTTP error response. `body` is the raw response body.
pub fn from_http(status: u16, body: &str, retry_after: Option<Duration>) -> ApiError {
    let (message, code) = match extract_message(body) {
        Some((m, c)) if !m.is_empty() => (m, c),
        Some((_, c)) => (String::new(), c),
        None => {
            let t = body.trim();
            let mut s: String = t.chars().take(300).collect();
            if s.len() < t.len() {
                s.push('…');
            }
            (s, None)
        }
    };
    let all = classify_text(&message, code.as_deref());
    let kind = match status {
        401 => ErrorKind::Auth,
        400 if mentions(&all, KEY_WORDS) => ErrorKind::Auth,
        402 => ErrorKind::NoCredits,
        403 if mentions(&all, SPENT_WORDS) => ErrorKind::NoCredits,
        403 if mentions(&all, KEY_WORDS) => ErrorKind::Auth,
        403 => ErrorKind::Forbidden,
        404 if mentions(&all, &["model"]) => ErrorKind::ModelNotFound,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        429 if mentions(&all, SPENT_WORDS) => ErrorKind::QuotaExhausted,
        429 => ErrorKind::RateLimited,
        400..=499 => ErrorKind::BadRequest,
        500..=599 if mentions(&all, &["unavailable", "overloaded"]) => ErrorKind::Unavailable,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Protocol,
    };
    let retry_after = retry_after.or_else(|| {
        (kind == ErrorKind::RateLimited)
            .then(|| retry_after_in_message(&message))
            .flatten()
    });
    let mut e = ApiError::new(kind, message).with_status(status);
    e.retry_after = retry_after;
    e
}

/// A JSON body on a 200 response that should have been a stream.
pub fn from_json_on_200(body: &str) -> ApiError {
    match extract_message(body) {
        // A body that names its own HTTP status (OpenRouter's `code: 429`): classify by it.
        Some((_, Some(code)))
            if code.len() == 3
                && code.chars().all(|c| c.is_ascii_digit())
                && !code.starts_with('2') =>
        {
            let status: u16 = code.parse().unwrap_or(500);
            let mut e = from_http(status, body, None);
            e.message = format!("{} (sent with HTTP 200)", e.message);
            e
        }
        Some((m, code)) => {
            let all = classify_text(&m, code.as_deref());
            let kind = if mentions(&all, SPENT_WORDS) {
                ErrorKind::QuotaExhausted
            } else if mentions(&all, KEY_WORDS) {
                ErrorKind::Auth
            } else {
                // xAI: {"code":"The service is currently unavailable","error":"Timed out waiting for first token"}
                ErrorKind::Unavailable
            };
            let msg = match code {
                Some(c) if !c.chars().all(|ch| ch.is_ascii_digit()) => format!("{m} ({c})"),
                _ => m,
            };
            ApiError::new(kind, msg).with_status(200)
        }
        None => {
            let t: String = body.trim().chars().take(200).collect();
            ApiError::new(
                ErrorKind::Protocol,
                format!("expected an event stream, got: {t}"),
            )
            .with_status(200)
        }
    }
}

/// Parses `Retry-After` (seconds) or `retry-after-ms`.
pub fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).ok();
    }
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s.max(0.0)).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xai_bad_key_is_400_auth() {
        let e = from_http(
            400,
            r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: ab***cd. You can obtain an API key from https://console.x.ai."}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e
            .message
            .starts_with("Incorrect API key provided: ab***cd."));
        assert!(!e.is_retryable());
    }

    #[test]
    fn xai_bad_argument_is_bad_request() {
        let e = from_http(
            400,
            r#"{"code":"Client specified an invalid argument","error":"Argument not supported on this model: presencePenalty"}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::BadRequest);
    }

    #[test]
    fn xai_403_no_credits_and_404_model() {
        let e = from_http(
            403,
            r#"{"code":"The caller does not have permission to execute the specified operation","error":"Your newly created teams doesn't have any credits yet. You can purchase credits on https://console.x.ai."}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::NoCredits);
        let e = from_http(
            404,
            r#"{"code":"Some requested entity was not found","error":"The model grok-9 does not exist or your team does not have access to it."}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::ModelNotFound);
    }

    #[test]
    fn openrouter_429_rate_vs_spent() {
        // A missing fixture fails the test: it must never pass without its recording.
        let dir = std::env::var_os("GROKPAIR_FIXTURES")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/recorded").into()
            });
        let path =
            dir.join("openrouter-moonshotai_kimi-k2-0905-error429_simple_streaming/response.json");
        let body = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (set GROKPAIR_FIXTURES)", path.display()));
        let e = from_http(429, &body, None);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert!(e.message.contains("temporarily rate-limited upstream"));
        assert!(e.message.contains("(via WandB)"));
        assert!(e.is_retryable());
        let e = from_http(
            429,
            r#"{"error":{"message":"You have reached your monthly spending limit","code":429}}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::QuotaExhausted);
        assert!(!e.is_retryable());
    }

    #[test]
    fn aimlapi_and_plain_text_bodies() {
        let e = from_http(
            401,
            r#"{"message":"Invalid token","path":"/v1/chat/completions","requestId":"x","statusCode":401,"timestamp":"t"}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.message, "Invalid token");
        let e = from_http(502, "<html>Bad Gateway</html>", None);
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(e.message, "<html>Bad Gateway</html>");
    }

    #[test]
    fn json_on_200_is_retryable_unavailable() {
        let e = from_json_on_200(
            r#"{"code":"The service is currently unavailable","error":"Timed out waiting for first token"}"#,
        );
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "provider unavailable (HTTP 200): Timed out waiting for first token (The service is currently unavailable)"
        );
    }

    /// xAI's real 429 bodies: the same gRPC status text in `code`, told apart by `error`.
    #[test]
    fn xai_429_rate_limit_is_retried_spent_credits_are_final() {
        let rate = from_http(
            429,
            r#"{"code":"Some resource has been exhausted","error":"Too many requests: rate limit of 60 requests per minute exceeded for model grok-4.3. Please retry after 1 second."}"#,
            None,
        );
        assert_eq!(rate.kind, ErrorKind::RateLimited);
        assert!(rate.is_retryable());
        assert_eq!(rate.retry_after, Some(Duration::from_secs(1)));
        let header = from_http(
            429,
            r#"{"code":"Some resource has been exhausted","error":"Too many requests"}"#,
            Some(Duration::from_secs(7)),
        );
        assert_eq!(header.retry_after, Some(Duration::from_secs(7)));
        let spent = from_http(
            429,
            r#"{"code":"Some resource has been exhausted","error":"Your team 0b1c has either used all available credits or reached its monthly spending limit. To continue making API requests, please purchase more credits or raise your spending limit."}"#,
            None,
        );
        assert_eq!(spent.kind, ErrorKind::QuotaExhausted);
        assert!(!spent.is_retryable());
        // A machine code still counts (OpenAI's insufficient_quota).
        let quota = from_http(
            429,
            r#"{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            None,
        );
        assert_eq!(quota.kind, ErrorKind::QuotaExhausted);
    }

    #[test]
    fn xai_gateway_and_unavailable_codes() {
        let e = from_http(
            503,
            r#"{"code":"The service is currently unavailable","error":"Service temporarily overloaded"}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.is_retryable());
        let e = from_http(
            500,
            r#"{"code":"Internal error","error":"Something went wrong"}"#,
            None,
        );
        assert_eq!(e.kind, ErrorKind::Server);
    }

    #[test]
    fn retry_after_read_from_the_message() {
        let r = retry_after_in_message;
        assert_eq!(
            r("Please retry after 1 second."),
            Some(Duration::from_secs(1))
        );
        assert_eq!(r("try again in 2.5s"), Some(Duration::from_millis(2500)));
        assert_eq!(r("Retry after 500ms"), Some(Duration::from_millis(500)));
        assert_eq!(r("retry after 2 minutes"), Some(Duration::from_secs(120)));
        assert_eq!(r("slow down"), None);
    }

    #[test]
    fn urls_with_credentials_are_masked() {
        assert_eq!(
            mask_url("https://me:s3cr3t-pass@llm.example/v1"),
            "https://me:****@llm.example/v1"
        );
        assert_eq!(
            mask_url("http://tok3n@127.0.0.1:8080/v1"),
            "http://****@127.0.0.1:8080/v1"
        );
        assert_eq!(mask_url("https://api.x.ai/v1"), "https://api.x.ai/v1");
        assert_eq!(
            url_secret("https://me:s3cr3t-pass@h/v1"),
            Some("s3cr3t-pass")
        );
        assert_eq!(url_secret("https://h/v1?a=b@c"), None);
    }

    #[test]
    fn masking() {
        assert_eq!(mask_secret("xai-1234567890abcdef"), "xai-…cdef");
        assert_eq!(mask_secret("short"), "****");
        let e = ApiError::new(ErrorKind::Auth, "bad key xai-1234567890abcdef here")
            .scrub(Some("xai-1234567890abcdef"));
        assert_eq!(e.message, "bad key xai-…cdef here");
    }
}

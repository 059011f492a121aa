//! Chat-completions request bodies.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::types::{Message, Role, ToolCall};

/// How a provider wants a few fields spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// api.x.ai: `max_completion_tokens`, `x-grok-conv-id`.
    Xai,
    OpenRouter,
    #[default]
    Generic,
}

/// Which endpoint a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `POST /chat/completions`.
    #[default]
    Chat,
    /// `POST /responses` (xAI's recommended endpoint; Chat Completions is deprecated there).
    Responses,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::Chat => "chat",
            Api::Responses => "responses",
        }
    }

    /// The request path under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Api::Chat => "chat/completions",
            Api::Responses => "responses",
        }
    }

    pub fn parse(s: &str) -> Option<Api> {
        match s.trim() {
            "chat" => Some(Api::Chat),
            "responses" => Some(Api::Responses),
            _ => None,
        }
    }
}

/// A function the model may call. Sent before the history on both endpoints, byte-identical
/// every round, so that the prompt cache keeps hitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

/// Sampling and output parameters a user may set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// A full `response_format` object (e.g. built by [`json_schema_format`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// Functions offered to the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// `auto`, `none`, `required`, or a named function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
}

/// Every `reasoning_effort` level any model takes (each model says which it accepts).
pub const EFFORTS: &[&str] = &["low", "medium", "high", "xhigh"];

/// The sampling settings a user sets in the config file, with `/set` in the TUI, or with
/// `ask`/`compare` flags: (key, what it takes).
pub const SAMPLING_KEYS: &[(&str, &str)] = &[
    ("temperature", "0 to 2"),
    ("top_p", "above 0, at most 1"),
    ("max_tokens", "a whole number above 0"),
    ("seed", "a whole number"),
    ("reasoning_effort", "low, medium, high or xhigh"),
];

impl ChatParams {
    /// Checks the sampling settings; the error names the first bad key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let range = |key: &'static str, v: Option<f64>, ok: fn(f64) -> bool| match v {
            Some(v) if !(v.is_finite() && ok(v)) => Err((key, bad(key, &v.to_string()))),
            _ => Ok(()),
        };
        range("temperature", self.temperature, |v| {
            (0.0..=2.0).contains(&v)
        })?;
        range("top_p", self.top_p, |v| v > 0.0 && v <= 1.0)?;
        if self.max_tokens == Some(0) {
            return Err(("max_tokens", bad("max_tokens", "0")));
        }
        match self.reasoning_effort.as_deref() {
            Some(e) if !EFFORTS.contains(&e) => Err((
                "reasoning_effort",
                bad("reasoning_effort", &format!("{e:?}")),
            )),
            _ => Ok(()),
        }
    }

    /// Sets one sampling key from text; `off` clears it (the provider's default applies).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        let off = matches!(value, "off" | "default" | "none");
        fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
            v.parse().map_err(|_| bad(key, &format!("{v:?}")))
        }
        let mut next = self.clone();
        match key {
            "temperature" => next.temperature = (!off).then(|| num(key, value)).transpose()?,
            "top_p" => next.top_p = (!off).then(|| num(key, value)).transpose()?,
            "max_tokens" => next.max_tokens = (!off).then(|| num(key, value)).transpose()?,
            "seed" => next.seed = (!off).then(|| num(key, value)).transpose()?,
            "reasoning_effort" => next.reasoning_effort = (!off).then(|| value.to_string()),
            _ => {
                return Err(format!(
                    "unknown setting {key:?} (settings: {})",
                    SAMPLING_KEYS
                        .iter()
                        .map(|k| k.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        next.validate().map_err(|(_, m)| m)?;
        *self = next;
        Ok(())
    }

    /// Applies `key=value,key=value` settings (as [`settings_spec`] checked them).
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        for (key, value) in settings_pairs(spec)? {
            self.set(key, &value)?;
        }
        Ok(())
    }

    /// Fills the sampling settings left unset from `defaults` (flags over the config file).
    pub fn or_defaults(&mut self, defaults: &ChatParams) {
        self.temperature = self.temperature.or(defaults.temperature);
        self.top_p = self.top_p.or(defaults.top_p);
        self.max_tokens = self.max_tokens.or(defaults.max_tokens);
        self.seed = self.seed.or(defaults.seed);
        if self.reasoning_effort.is_none() {
            self.reasoning_effort.clone_from(&defaults.reasoning_effort);
        }
    }

    /// Just the sampling settings (what the TUI sets): a resumed `ask` session's stop
    /// sequences, penalties or response format are not carried into the TUI.
    pub fn sampling_only(&self) -> ChatParams {
        ChatParams {
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            seed: self.seed,
            reasoning_effort: self.reasoning_effort.clone(),
            ..ChatParams::default()
        }
    }

    /// `temperature 0.2 · seed 7`, or None when nothing is set.
    pub fn sampling_label(&self) -> Option<String> {
        let set: Vec<String> = self
            .sampling()
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        (!set.is_empty()).then(|| set.join(" · "))
    }

    /// The sampling settings that are set, as `key value` pairs in [`SAMPLING_KEYS`] order.
    pub fn sampling(&self) -> Vec<(&'static str, String)> {
        let f = |v: Option<f64>| v.map(|v| v.to_string());
        let i = |v: Option<i64>| v.map(|v| v.to_string());
        [
            ("temperature", f(self.temperature)),
            ("top_p", f(self.top_p)),
            ("max_tokens", self.max_tokens.map(|v| v.to_string())),
            ("seed", i(self.seed)),
            ("reasoning_effort", self.reasoning_effort.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }
}

/// `key=value` pairs of a settings spec (`temperature=0.2,seed=7`), each key known and given
/// once, each value valid on its own; in [`SAMPLING_KEYS`] order.
fn settings_pairs(spec: &str) -> Result<Vec<(&'static str, String)>, String> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for piece in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = piece.split_once('=') else {
            return Err(format!("{piece:?} is not KEY=VALUE"));
        };
        let (key, value) = (key.trim(), value.trim());
        ChatParams::default().set(key, value)?;
        let key = SAMPLING_KEYS
            .iter()
            .map(|k| k.0)
            .find(|k| *k == key)
            .expect("set() knows the key");
        if out.iter().any(|(k, _)| *k == key) {
            return Err(format!("{key} is given twice"));
        }
        out.push((key, value.to_string()));
    }
    out.sort_by_key(|(k, _)| SAMPLING_KEYS.iter().position(|s| s.0 == *k));
    Ok(out)
}

/// A settings spec in one spelling: known keys in [`SAMPLING_KEYS`] order, values checked
/// (`seed=7, temperature=0.2` → `temperature=0.2,seed=7`).
pub fn settings_spec(spec: &str) -> Result<String, String> {
    Ok(settings_pairs(spec)?
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(","))
}

fn bad(key: &str, got: &str) -> String {
    let wants = SAMPLING_KEYS
        .iter()
        .find(|k| k.0 == key)
        .map_or("", |k| k.1);
    format!("{key} must be {wants}, got {got}")
}

/// What a model accepts, from the catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelCaps {
    /// Parameter names the model rejects with an error (`stop`, `presence_penalty`, …).
    pub rejects: Vec<String>,
    /// The `reasoning_effort` levels the model accepts (none: never sent).
    pub reasoning_efforts: Vec<String>,
    /// Whether earlier `reasoning_content` is echoed on assistant messages (reasoning models
    /// whose prompt cache misses without it).
    pub echo_reasoning: bool,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    role: Role,
    content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "<[ToolCall]>::is_empty")]
    tool_calls: &'a [ToolCall],
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// Parameters come before `messages`, so that the body of a follow-up turn extends the previous
/// body byte for byte up to the end of the old history.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<&'a Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ChatTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    messages: Vec<MessageOut<'a>>,
}

#[derive(Serialize)]
struct ChatTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: &'a ToolSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuiltRequest {
    pub body: Vec<u8>,
    /// Parameters left out because the model rejects them.
    pub dropped: Vec<String>,
    /// Parameters the endpoint itself has no field for (the Responses API has no `seed`,
    /// `stop` or penalties).
    pub unsupported: Vec<String>,
}

impl BuiltRequest {
    /// One user-facing notice for everything dropped, if anything was.
    pub fn notice(&self, model: &str) -> Option<String> {
        let mut parts = Vec::new();
        if !self.dropped.is_empty() {
            parts.push(format!(
                "{model} does not accept {}",
                self.dropped.join(", ")
            ));
        }
        if !self.unsupported.is_empty() {
            parts.push(format!(
                "the Responses API has no {}",
                self.unsupported.join(", ")
            ));
        }
        (!parts.is_empty()).then(|| format!("{}; not sent", parts.join("; ")))
    }
}

/// The effort to send: the one asked for when the model accepts it; otherwise it goes on the
/// dropped list (`reasoning_effort`, or `reasoning_effort=xhigh` for a level it lacks).
pub(crate) fn effort<'a>(
    params: &'a ChatParams,
    caps: &ModelCaps,
    dropped: &mut Vec<String>,
) -> Option<&'a str> {
    let e = params.reasoning_effort.as_deref()?;
    let rejected = caps.rejects.iter().any(|r| r == "reasoning_effort");
    if !rejected && caps.reasoning_efforts.iter().any(|a| a == e) {
        return Some(e);
    }
    dropped.push(if caps.reasoning_efforts.is_empty() || rejected {
        "reasoning_effort".into()
    } else {
        format!("reasoning_effort={e}")
    });
    None
}

pub fn build_chat_body(
    model: &str,
    messages: &[Message],
    params: &ChatParams,
    caps: &ModelCaps,
    dialect: Dialect,
) -> BuiltRequest {
    let mut dropped = Vec::new();
    let rejects = |name: &str| caps.rejects.iter().any(|r| r == name);
    let mut keep = |name: &str, present: bool| -> bool {
        if present && rejects(name) {
            dropped.push(name.to_string());
            return false;
        }
        present
    };
    let stop = keep("stop", !params.stop.is_empty()).then_some(params.stop.as_slice());
    let presence_penalty = params
        .presence_penalty
        .filter(|_| keep("presence_penalty", true));
    let frequency_penalty = params
        .frequency_penalty
        .filter(|_| keep("frequency_penalty", true));
    let temperature = params.temperature.filter(|_| keep("temperature", true));
    let top_p = params.top_p.filter(|_| keep("top_p", true));
    let seed = params.seed.filter(|_| keep("seed", true));
    let reasoning_effort = effort(params, caps, &mut dropped);
    let (max_completion_tokens, max_tokens) = match dialect {
        Dialect::Xai => (params.max_tokens, None),
        _ => (None, params.max_tokens),
    };
    let messages = messages
        .iter()
        .map(|m| MessageOut {
            role: m.role,
            content: &m.content,
            reasoning_content: match m.role {
                Role::Assistant if caps.echo_reasoning => m.reasoning_content.as_deref(),
                _ => None,
            },
            tool_calls: &m.tool_calls,
            tool_call_id: m.tool_call_id.as_deref(),
        })
        .collect();
    let body = Body {
        model,
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        temperature,
        top_p,
        max_completion_tokens,
        max_tokens,
        seed,
        stop,
        presence_penalty,
        frequency_penalty,
        reasoning_effort,
        response_format: params.response_format.as_ref(),
        tools: params
            .tools
            .iter()
            .map(|t| ChatTool {
                kind: "function",
                function: t,
            })
            .collect(),
        tool_choice: params.tool_choice.as_ref(),
        parallel_tool_calls: params.parallel_tool_calls,
        messages,
    };
    BuiltRequest {
        body: serde_json::to_vec(&body).expect("request body serialises"),
        dropped,
        unsupported: Vec::new(),
    }
}

/// Builds a `response_format` for structured output from a JSON Schema document.
pub fn json_schema_format(name: &str, schema: Value) -> Value {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    serde_json::json!({
        "type": "json_schema",
        "json_schema": { "name": name, "schema": schema, "strict": true }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps_reasoning() -> ModelCaps {
        ModelCaps {
            rejects: vec![
                "stop".into(),
                "presence_penalty".into(),
                "frequency_penalty".into(),
            ],
            reasoning_efforts: Vec::new(),
            echo_reasoning: true,
        }
    }

    #[test]
    fn drops_rejected_params_once() {
        let p = ChatParams {
            stop: vec!["x".into()],
            presence_penalty: Some(0.5),
            reasoning_effort: Some("high".into()),
            temperature: Some(0.2),
            ..Default::default()
        };
        let r = build_chat_body(
            "grok-code-fast-1",
            &[Message::user("hi")],
            &p,
            &caps_reasoning(),
            Dialect::Xai,
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert!(v.get("stop").is_none());
        assert!(v.get("presence_penalty").is_none());
        assert!(v.get("reasoning_effort").is_none());
        assert_eq!(v["temperature"], 0.2);
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(
            r.dropped,
            vec!["stop", "presence_penalty", "reasoning_effort"]
        );
        assert_eq!(
            r.notice("grok-code-fast-1").unwrap(),
            "grok-code-fast-1 does not accept stop, presence_penalty, reasoning_effort; not sent"
        );
    }

    #[test]
    fn follow_up_body_extends_previous_bytes() {
        let mut history = vec![Message::system("sys"), Message::user("one")];
        let p = ChatParams {
            max_tokens: Some(100),
            ..Default::default()
        };
        let a = build_chat_body("m", &history, &p, &caps_reasoning(), Dialect::Xai).body;
        let mut reply = Message::assistant("answer");
        reply.reasoning_content = Some("thought".into());
        history.push(reply);
        history.push(Message::user("two"));
        let b = build_chat_body("m", &history, &p, &caps_reasoning(), Dialect::Xai).body;
        // Everything but the closing "]}" of the first body is a prefix of the second.
        assert!(b.starts_with(&a[..a.len() - 2]));
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["messages"][2]["reasoning_content"], "thought");
        assert_eq!(v["max_completion_tokens"], 100);
    }

    #[test]
    fn reasoning_not_echoed_when_model_does_not_use_it() {
        let mut reply = Message::assistant("answer");
        reply.reasoning_content = Some("thought".into());
        let r = build_chat_body(
            "m",
            &[Message::user("q"), reply],
            &ChatParams {
                max_tokens: Some(5),
                ..Default::default()
            },
            &ModelCaps::default(),
            Dialect::Generic,
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert!(v["messages"][1].get("reasoning_content").is_none());
        assert_eq!(v["max_tokens"], 5);
    }

    #[test]
    fn sampling_settings_validate_set_and_fill() {
        let mut p = ChatParams::default();
        p.set("temperature", "0.2").unwrap();
        p.set("max_tokens", "64").unwrap();
        p.set("reasoning_effort", "high").unwrap();
        assert_eq!(
            p.sampling(),
            vec![
                ("temperature", "0.2".to_string()),
                ("max_tokens", "64".to_string()),
                ("reasoning_effort", "high".to_string())
            ]
        );
        assert_eq!(
            p.set("temperature", "3").unwrap_err(),
            "temperature must be 0 to 2, got 3"
        );
        assert_eq!(
            p.set("top_p", "0").unwrap_err(),
            "top_p must be above 0, at most 1, got 0"
        );
        assert_eq!(
            p.set("max_tokens", "lots").unwrap_err(),
            "max_tokens must be a whole number above 0, got \"lots\""
        );
        assert_eq!(
            p.set("reasoning_effort", "max").unwrap_err(),
            "reasoning_effort must be low, medium, high or xhigh, got \"max\""
        );
        assert!(p
            .set("temp", "1")
            .unwrap_err()
            .starts_with("unknown setting"));
        assert_eq!(p.temperature, Some(0.2), "a refused value changes nothing");
        p.set("temperature", "off").unwrap();
        assert_eq!(p.temperature, None);

        let mut flags = ChatParams {
            seed: Some(1),
            max_tokens: Some(8),
            ..Default::default()
        };
        flags.or_defaults(&ChatParams {
            seed: Some(7),
            temperature: Some(0.0),
            ..Default::default()
        });
        assert_eq!(flags.seed, Some(1), "a flag wins over the config");
        assert_eq!(flags.temperature, Some(0.0));
        assert_eq!(flags.max_tokens, Some(8));
        assert_eq!(
            ChatParams {
                temperature: Some(f64::NAN),
                ..Default::default()
            }
            .validate()
            .unwrap_err()
            .0,
            "temperature"
        );
    }

    #[test]
    fn settings_specs_are_checked_and_spelled_one_way() {
        assert_eq!(
            settings_spec(" seed=7, temperature=0.2 ").unwrap(),
            "temperature=0.2,seed=7"
        );
        assert_eq!(settings_spec("temperature=off").unwrap(), "temperature=off");
        assert_eq!(
            settings_spec("temperature=9").unwrap_err(),
            "temperature must be 0 to 2, got 9"
        );
        assert_eq!(
            settings_spec("seed=1,seed=2").unwrap_err(),
            "seed is given twice"
        );
        assert!(settings_spec("hot").unwrap_err().contains("not KEY=VALUE"));
        let mut p = ChatParams {
            temperature: Some(0.7),
            max_tokens: Some(100),
            ..Default::default()
        };
        p.apply("temperature=off,top_p=0.5").unwrap();
        assert_eq!(p.temperature, None);
        assert_eq!(p.top_p, Some(0.5));
        assert_eq!(
            p.max_tokens,
            Some(100),
            "untouched keys keep the shared value"
        );
    }
}

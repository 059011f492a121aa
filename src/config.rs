//! Configuration: a TOML file (optional), provider presets, and model overrides.
//! Errors name the file, the line and the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::error::{mask_secret, mask_url};
use crate::api::{Api, ChatParams, Dialect, Endpoint, NetPolicy};
use crate::session::catalog::{Catalog, ModelOverride};

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config error")?;
        if let Some(p) = &self.path {
            write!(f, " in {}", p.display())?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
            }
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    provider: Option<String>,
    model: Option<String>,
    system: Option<String>,
    theme: Option<String>,
    max_tokens: Option<u64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    seed: Option<i64>,
    reasoning_effort: Option<String>,
    network: Option<NetworkFile>,
    sessions: Option<SessionsFile>,
    ui: Option<UiFile>,
    agent: Option<AgentFile>,
    #[serde(default)]
    providers: BTreeMap<String, ProviderFile>,
    #[serde(default)]
    models: BTreeMap<String, ModelOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsFile {
    dir: Option<PathBuf>,
    autosave: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UiFile {
    reading_width: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentFile {
    tools: Option<bool>,
    mode: Option<String>,
    max_steps: Option<usize>,
    max_cost: Option<f64>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    ask: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

/// `[agent]`: the model's tools in the workspace, and who decides what runs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Offer the tools at all (`tools = false`: plain chat).
    pub tools: bool,
    pub mode: crate::session::approval::Mode,
    pub max_steps: usize,
    /// USD per session past which the loop pauses (`--max-cost`, `/budget`).
    pub max_cost: Option<f64>,
    pub allow: Vec<crate::session::approval::Rule>,
    pub ask: Vec<crate::session::approval::Rule>,
    pub deny: Vec<crate::session::approval::Rule>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            tools: true,
            mode: crate::session::approval::Mode::Ask,
            max_steps: 25,
            max_cost: None,
            allow: Vec::new(),
            ask: Vec::new(),
            deny: Vec::new(),
        }
    }
}

impl AgentConfig {
    /// The approval policy these settings make.
    pub fn policy(&self) -> crate::session::approval::Policy {
        let mut p = crate::session::approval::Policy::new(self.mode);
        p.allow = self.allow.clone();
        p.ask = self.ask.clone();
        p.deny = self.deny.clone();
        p
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    connect_timeout_secs: Option<f64>,
    idle_timeout_secs: Option<f64>,
    first_token_timeout_secs: Option<f64>,
    max_retries: Option<u32>,
    retry_base_ms: Option<u64>,
    retry_max_ms: Option<u64>,
    retry_after_max_secs: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    base_url: Option<String>,
    api_key_env: Option<String>,
    api_key: Option<String>,
    model: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    dialect: Option<Dialect>,
    api: Option<Api>,
    completion_includes_reasoning: Option<bool>,
    echo_reasoning: Option<bool>,
    free: Option<bool>,
    max_concurrent: Option<usize>,
    live_catalog: Option<bool>,
}

/// A provider after presets and the config file are merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub name: String,
    pub base_url: String,
    pub api_key_env: Option<String>,
    /// A key written in the config file (the environment variable wins over it).
    pub api_key_inline: Option<String>,
    /// The model used when none is asked for; `None` means "ask the server" (local servers).
    pub model: Option<String>,
    pub headers: Vec<(String, String)>,
    pub dialect: Dialect,
    /// The endpoint: `responses` (the xai preset) or `chat` (every other preset).
    pub api: Api,
    /// Whether this provider's `completion_tokens` counts reasoning tokens, when the usage
    /// numbers themselves do not tell.
    pub completion_includes_reasoning: bool,
    /// Overrides the model's own setting for echoing reasoning back.
    pub echo_reasoning: Option<bool>,
    /// A local server: no cost.
    pub free: bool,
    /// Most requests sent to this provider at once (a comparison's columns wait their turn).
    pub max_concurrent: usize,
    /// Read the provider's own model listing (`/language-models`, `/models`) for prices and
    /// context windows, cached on disk for a day (the xai preset).
    pub live_catalog: bool,
}

/// Where a provider's key comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    Env(String),
    ConfigFile,
    None,
}

impl Provider {
    pub fn api_key(&self) -> Option<String> {
        self.api_key_env
            .as_ref()
            .and_then(|e| std::env::var(e).ok())
            .filter(|k| !k.trim().is_empty())
            .map(|k| k.trim().to_string())
            .or_else(|| self.api_key_inline.clone())
    }

    pub fn key_source(&self) -> KeySource {
        if let Some(e) = &self.api_key_env {
            if std::env::var(e).is_ok_and(|k| !k.trim().is_empty()) {
                return KeySource::Env(e.clone());
            }
        }
        if self.api_key_inline.is_some() {
            KeySource::ConfigFile
        } else {
            KeySource::None
        }
    }

    /// Whether requests need a key at all (local servers do not).
    pub fn needs_key(&self) -> bool {
        self.api_key_env.is_some() || self.api_key_inline.is_some()
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            name: self.name.clone(),
            base_url: self.base_url.clone(),
            api_key: self.api_key(),
            api_key_env: self.api_key_env.clone(),
            headers: self.headers.clone(),
            dialect: self.dialect,
            api: self.api,
        }
    }
}

fn preset(name: &str) -> Option<Provider> {
    let p =
        |base: &str, env: Option<&str>, model: Option<&str>, dialect, includes, free| Provider {
            name: name.to_string(),
            base_url: base.to_string(),
            api_key_env: env.map(Into::into),
            api_key_inline: None,
            model: model.map(Into::into),
            headers: Vec::new(),
            dialect,
            api: Api::Chat,
            completion_includes_reasoning: includes,
            echo_reasoning: None,
            free,
            // A local server usually runs one model on one device: one request at a time
            // keeps each column's timing its own.
            max_concurrent: if free { 1 } else { 4 },
            live_catalog: false,
        };
    Some(match name {
        "xai" => {
            let mut x = p(
                "https://api.x.ai/v1",
                Some("XAI_API_KEY"),
                // xAI recommends grok-4.3 (at low effort for agentic tool use); the retired
                // slugs are served by it anyway.
                Some("grok-4.3"),
                Dialect::Xai,
                false,
                false,
            );
            // Chat Completions is deprecated at xAI; new capabilities ship on Responses only.
            x.api = Api::Responses;
            x.live_catalog = true;
            x
        }
        "aimlapi" => p(
            "https://api.aimlapi.com/v1",
            Some("AIMLAPI_API_KEY"),
            Some("x-ai/grok-code-fast-1"),
            Dialect::Generic,
            true,
            false,
        ),
        "openrouter" => p(
            "https://openrouter.ai/api/v1",
            Some("OPENROUTER_API_KEY"),
            Some("x-ai/grok-code-fast-1"),
            Dialect::OpenRouter,
            true,
            false,
        ),
        "local" => {
            let mut l = p(
                "http://127.0.0.1:8080/v1",
                None,
                None,
                Dialect::Generic,
                true,
                true,
            );
            // llama.cpp's chat templates read reasoning_content back.
            l.echo_reasoning = Some(true);
            l
        }
        _ => return None,
    })
}

pub const PRESETS: &[&str] = &["xai", "aimlapi", "openrouter", "local"];

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file that was read, if any.
    pub path: Option<PathBuf>,
    pub provider: String,
    pub model: Option<String>,
    pub system: Option<String>,
    pub theme: Option<String>,
    /// Sampling settings for the TUI's requests, and the defaults under `ask`/`compare`'s
    /// flags: temperature, top_p, max_tokens, seed, reasoning_effort.
    pub sampling: ChatParams,
    pub net: NetPolicy,
    /// Where sessions are saved; `None`: the platform data dir (see `sessions_dir()`).
    pub sessions_dir: Option<PathBuf>,
    /// Save every conversation as it happens.
    pub autosave: bool,
    /// `[ui] reading_width`: the widest the conversation's text is laid out, in columns
    /// (0: the pane's width).
    pub reading_width: u16,
    pub agent: AgentConfig,
    pub providers: BTreeMap<String, Provider>,
    pub catalog: Catalog,
    pub model_overrides: BTreeMap<String, ModelOverride>,
}

/// `~/x` → `$HOME/x`.
fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => p.to_path_buf(),
    }
}

impl Config {
    /// Where sessions live: `[sessions] dir`, else `<data dir>/grokpair/sessions`
    /// (Linux: `~/.local/share/grokpair/sessions`).
    pub fn sessions_dir(&self) -> PathBuf {
        self.sessions_dir.clone().unwrap_or_else(|| {
            directories::ProjectDirs::from("", "", "grokpair")
                .map(|d| d.data_dir().join("sessions"))
                .unwrap_or_else(|| PathBuf::from(".grokpair-sessions"))
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        let providers = PRESETS
            .iter()
            .map(|n| (n.to_string(), preset(n).expect("preset")))
            .collect();
        Config {
            path: None,
            provider: "xai".into(),
            model: None,
            system: None,
            theme: None,
            sampling: ChatParams::default(),
            net: NetPolicy::default(),
            sessions_dir: None,
            autosave: true,
            reading_width: DEFAULT_READING_WIDTH,
            agent: AgentConfig::default(),
            providers,
            catalog: Catalog::default(),
            model_overrides: BTreeMap::new(),
        }
    }
}

/// Prose is read best in lines of at most this many columns (`[ui] reading_width`).
pub const DEFAULT_READING_WIDTH: u16 = 120;

/// The default config file location (Linux: `~/.config/grokpair/config.toml`).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "grokpair").map(|d| d.config_dir().join("config.toml"))
}

/// Which file to read: `--config`, then `GROKPAIR_CONFIG`, then the default location.
/// The bool says whether the file was named explicitly (then it must exist).
pub fn resolve_path(flag: Option<&Path>) -> Option<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), true));
    }
    if let Some(p) = std::env::var_os("GROKPAIR_CONFIG").filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    default_path().map(|p| (p, false))
}

impl Config {
    /// Loads the config from `--config`/`GROKPAIR_CONFIG`/the default path. A missing default
    /// file is fine; a missing named file is an error.
    pub fn load(flag: Option<&Path>) -> Result<Config, ConfigError> {
        match resolve_path(flag) {
            None => Ok(Config::default()),
            Some((path, explicit)) => match std::fs::read_to_string(&path) {
                Ok(text) => Config::parse(&text, Some(&path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                    Ok(Config::default())
                }
                Err(e) => Err(ConfigError {
                    path: Some(path),
                    line: None,
                    key: None,
                    message: format!("cannot read: {e}"),
                }),
            },
        }
    }

    pub fn parse(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
        let err = |line, key: Option<String>, message: String| ConfigError {
            path: path.map(Path::to_path_buf),
            line,
            key,
            message,
        };
        let de = toml::Deserializer::new(text);
        let file: ConfigFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let line = inner
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let key = (key != "." && !key.is_empty()).then_some(key);
            let line = line.or_else(|| key.as_deref().and_then(|k| locate_dotted(text, k)));
            err(line, key, inner.message().trim().to_string())
        })?;
        let mut cfg = Config {
            path: path.map(Path::to_path_buf),
            ..Config::default()
        };
        let at = |table: &[&str], key: &str| locate(text, table, key);
        if let Some(sf) = file.sessions {
            if let Some(d) = sf.dir {
                cfg.sessions_dir = Some(expand_home(&d));
            }
            if let Some(a) = sf.autosave {
                cfg.autosave = a;
            }
        }
        if let Some(u) = file.ui {
            match u.reading_width {
                Some(w) if w != 0 && w < 40 => {
                    return Err(err(
                        at(&["ui"], "reading_width"),
                        Some("ui.reading_width".into()),
                        format!("at least 40 columns, or 0 for the pane's width; got {w}"),
                    ))
                }
                Some(w) => cfg.reading_width = w,
                None => {}
            }
        }
        if let Some(a) = file.agent {
            let bad = |key: &str, message: String| {
                err(at(&["agent"], key), Some(format!("agent.{key}")), message)
            };
            let ag = &mut cfg.agent;
            if let Some(t) = a.tools {
                ag.tools = t;
            }
            if let Some(m) = a.mode {
                ag.mode = crate::session::approval::Mode::parse(&m).ok_or_else(|| {
                    bad("mode", format!("`{m}`: read-only, ask, auto-edit or yolo"))
                })?;
            }
            if let Some(n) = a.max_steps {
                if n == 0 || n > 1000 {
                    return Err(bad("max_steps", format!("from 1 to 1000, got {n}")));
                }
                ag.max_steps = n;
            }
            if let Some(c) = a.max_cost {
                if !(c.is_finite() && c > 0.0) {
                    return Err(bad("max_cost", format!("a number of USD above 0, got {c}")));
                }
                ag.max_cost = Some(c);
            }
            for (key, list, out) in [
                ("allow", a.allow, &mut ag.allow),
                ("ask", a.ask, &mut ag.ask),
                ("deny", a.deny, &mut ag.deny),
            ] {
                for r in list {
                    out.push(crate::session::approval::Rule::parse(&r).map_err(|m| bad(key, m))?);
                }
            }
        }
        if let Some(n) = file.network {
            let secs = |v: Option<f64>, key: &str, d: Duration| -> Result<Duration, ConfigError> {
                match v {
                    None => Ok(d),
                    Some(s) if s.is_finite() && s > 0.0 && s < 86_400.0 => {
                        Ok(Duration::from_secs_f64(s))
                    }
                    Some(s) => Err(err(
                        at(&["network"], key),
                        Some(format!("network.{key}")),
                        format!("must be a number of seconds above 0, got {s}"),
                    )),
                }
            };
            let net = &mut cfg.net;
            net.connect_timeout = secs(
                n.connect_timeout_secs,
                "connect_timeout_secs",
                net.connect_timeout,
            )?;
            net.idle_timeout = secs(n.idle_timeout_secs, "idle_timeout_secs", net.idle_timeout)?;
            net.first_token_timeout = secs(
                n.first_token_timeout_secs,
                "first_token_timeout_secs",
                net.first_token_timeout,
            )?;
            net.retry_after_max = secs(
                n.retry_after_max_secs,
                "retry_after_max_secs",
                net.retry_after_max,
            )?;
            if let Some(r) = n.max_retries {
                if r > 20 {
                    return Err(err(
                        at(&["network"], "max_retries"),
                        Some("network.max_retries".into()),
                        format!("at most 20, got {r}"),
                    ));
                }
                net.max_retries = r;
            }
            // Bounded: a huge backoff would wait for ever.
            for (key, v) in [
                ("retry_base_ms", n.retry_base_ms),
                ("retry_max_ms", n.retry_max_ms),
            ] {
                if let Some(v) = v.filter(|v| !(1..=300_000).contains(v)) {
                    return Err(err(
                        at(&["network"], key),
                        Some(format!("network.{key}")),
                        format!("must be 1 to 300000 milliseconds, got {v}"),
                    ));
                }
            }
            if let Some(b) = n.retry_base_ms {
                net.retry_base = Duration::from_millis(b);
            }
            if let Some(m) = n.retry_max_ms {
                net.retry_max = Duration::from_millis(m);
            }
        }
        for (name, pf) in file.providers {
            let table = ["providers", name.as_str()];
            let mut p = match (preset(&name), &pf.base_url) {
                (Some(p), _) => p,
                (None, Some(_)) => Provider {
                    name: name.clone(),
                    base_url: String::new(),
                    api_key_env: None,
                    api_key_inline: None,
                    model: None,
                    headers: Vec::new(),
                    dialect: Dialect::Generic,
                    api: Api::Chat,
                    completion_includes_reasoning: true,
                    echo_reasoning: None,
                    free: false,
                    max_concurrent: 4,
                    live_catalog: false,
                },
                (None, None) => {
                    return Err(err(
                        locate_table(text, &table),
                        Some(format!("providers.{name}.base_url")),
                        format!(
                            "`{name}` is not a preset ({}), so it needs a base_url",
                            PRESETS.join(", ")
                        ),
                    ))
                }
            };
            if let Some(u) = pf.base_url {
                let u = u.trim().trim_end_matches('/').to_string();
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(err(
                        at(&table, "base_url"),
                        Some(format!("providers.{name}.base_url")),
                        format!("must start with http:// or https://, got {u:?}"),
                    ));
                }
                p.base_url = u;
            }
            if let Some(e) = pf.api_key_env {
                let valid = e.chars().enumerate().all(|(i, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                });
                if !valid {
                    // Never echo the value: it may be a pasted key.
                    return Err(err(
                        at(&table, "api_key_env"),
                        Some(format!("providers.{name}.api_key_env")),
                        "must be the NAME of an environment variable (letters, digits, _); \
                         a key itself goes in api_key or, better, in that variable"
                            .into(),
                    ));
                }
                p.api_key_env = Some(e).filter(|e| !e.is_empty());
            }
            if let Some(k) = pf.api_key {
                let k = k.trim().to_string();
                p.api_key_inline = Some(k).filter(|k| !k.is_empty());
            }
            if pf.model.is_some() {
                p.model = pf.model;
            }
            if let Some(h) = pf.headers {
                p.headers = h.into_iter().collect();
            }
            if let Some(d) = pf.dialect {
                p.dialect = d;
            }
            if let Some(a) = pf.api {
                p.api = a;
            }
            if let Some(i) = pf.completion_includes_reasoning {
                p.completion_includes_reasoning = i;
            }
            if pf.echo_reasoning.is_some() {
                p.echo_reasoning = pf.echo_reasoning;
            }
            if let Some(f) = pf.free {
                p.free = f;
            }
            if let Some(l) = pf.live_catalog {
                p.live_catalog = l;
            }
            if let Some(n) = pf.max_concurrent {
                if !(1..=64).contains(&n) {
                    return Err(err(
                        at(&table, "max_concurrent"),
                        Some(format!("providers.{name}.max_concurrent")),
                        format!("must be 1 to 64, got {n}"),
                    ));
                }
                p.max_concurrent = n;
            }
            cfg.providers.insert(name, p);
        }
        for (id, o) in &file.models {
            for (k, v) in [
                ("input", o.input),
                ("cached_input", o.cached_input),
                ("output", o.output),
            ] {
                if let Some(v) = v {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(err(
                            at(&["models", id], k),
                            Some(format!("models.{id}.{k}")),
                            format!("a price in USD per 1M tokens must be 0 or more, got {v}"),
                        ));
                    }
                }
            }
        }
        cfg.catalog = Catalog::with_overrides(&file.models);
        cfg.model_overrides = file.models;
        if let Some(p) = file.provider {
            if !cfg.providers.contains_key(&p) {
                return Err(err(
                    at(&[], "provider"),
                    Some("provider".into()),
                    format!(
                        "unknown provider `{p}` (known: {})",
                        cfg.providers.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            cfg.provider = p;
        }
        cfg.model = file.model;
        cfg.system = file.system;
        cfg.theme = file.theme;
        cfg.sampling = ChatParams {
            temperature: file.temperature,
            top_p: file.top_p,
            max_tokens: file.max_tokens,
            seed: file.seed,
            reasoning_effort: file.reasoning_effort,
            ..ChatParams::default()
        };
        if let Err((key, message)) = cfg.sampling.validate() {
            return Err(err(at(&[], key), Some(key.into()), message));
        }
        Ok(cfg)
    }

    /// Prices and context windows from a provider's own listing: over the built-in table,
    /// under the config file's `[models]`.
    pub fn use_live(&mut self, live: &[crate::session::catalog::LiveModel]) {
        self.catalog = Catalog::build(live, &self.model_overrides);
    }

    pub fn provider(&self, name: &str) -> Result<&Provider, ConfigError> {
        self.providers.get(name).ok_or_else(|| ConfigError {
            path: self.path.clone(),
            line: None,
            key: None,
            message: format!(
                "unknown provider `{name}` (known: {}; add one under [providers.{name}])",
                self.providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// The effective configuration as TOML, keys masked.
    pub fn show(&self) -> String {
        let mut s = String::new();
        let q = |v: &str| toml::Value::String(v.to_string()).to_string();
        s.push_str(&format!(
            "# effective configuration (file: {})\n",
            self.path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "none, built-in defaults".into())
        ));
        s.push_str(&format!("provider = {}\n", q(&self.provider)));
        if let Some(m) = &self.model {
            s.push_str(&format!("model = {}\n", q(m)));
        }
        if let Some(m) = &self.system {
            s.push_str(&format!("system = {}\n", q(m)));
        }
        if let Some(t) = &self.theme {
            s.push_str(&format!("theme = {}\n", q(t)));
        }
        for (key, value) in self.sampling.sampling() {
            let value = match key {
                "reasoning_effort" => q(&value),
                _ => value,
            };
            s.push_str(&format!("{key} = {value}\n"));
        }
        let n = &self.net;
        s.push_str(&format!(
            "\n[network]\nconnect_timeout_secs = {}\nidle_timeout_secs = {}\nfirst_token_timeout_secs = {}\nmax_retries = {}\nretry_base_ms = {}\nretry_max_ms = {}\nretry_after_max_secs = {}\n",
            n.connect_timeout.as_secs_f64(),
            n.idle_timeout.as_secs_f64(),
            n.first_token_timeout.as_secs_f64(),
            n.max_retries,
            n.retry_base.as_millis(),
            n.retry_max.as_millis(),
            n.retry_after_max.as_secs_f64()
        ));
        s.push_str(&format!(
            "\n[sessions]\ndir = {}\nautosave = {}\n",
            q(&self.sessions_dir().display().to_string()),
            self.autosave
        ));
        s.push_str(&format!("\n[ui]\nreading_width = {}\n", self.reading_width));
        for p in self.providers.values() {
            s.push_str(&format!("\n[providers.{}]\n", p.name));
            s.push_str(&format!("base_url = {}\n", q(&mask_url(&p.base_url))));
            match &p.model {
                Some(m) => s.push_str(&format!("model = {}\n", q(m))),
                None => s.push_str("# model: asked from the server's /models\n"),
            }
            if let Some(e) = &p.api_key_env {
                s.push_str(&format!("api_key_env = {}\n", q(e)));
            }
            let key = match (p.key_source(), p.api_key()) {
                (KeySource::Env(e), Some(k)) => format!("{} (from ${e})", mask_secret(&k)),
                (KeySource::ConfigFile, Some(k)) => {
                    format!("{} (from the config file)", mask_secret(&k))
                }
                _ if p.needs_key() => "not set".into(),
                _ => "not needed".into(),
            };
            s.push_str(&format!("# api key: {key}\n"));
            s.push_str(&format!(
                "dialect = {}\n",
                q(match p.dialect {
                    Dialect::Xai => "xai",
                    Dialect::OpenRouter => "openrouter",
                    Dialect::Generic => "generic",
                })
            ));
            s.push_str(&format!("api = {}\n", q(p.api.name())));
            s.push_str(&format!(
                "completion_includes_reasoning = {}\n",
                p.completion_includes_reasoning
            ));
            if let Some(e) = p.echo_reasoning {
                s.push_str(&format!("echo_reasoning = {e}\n"));
            }
            if p.free {
                s.push_str("free = true\n");
            }
            s.push_str(&format!("max_concurrent = {}\n", p.max_concurrent));
            if p.live_catalog {
                s.push_str("live_catalog = true\n");
            }
            for (k, v) in &p.headers {
                // Header values can be credentials too.
                s.push_str(&format!("headers.{} = {}\n", q(k), q(&mask_secret(v))));
            }
        }
        for id in self.model_overrides.keys() {
            let m = self.catalog.lookup(id);
            s.push_str(&format!(
                "\n[models.{}]\ncontext_window = {}\n",
                q(id),
                m.context_window
            ));
            if let Some(p) = m.prices {
                s.push_str(&format!(
                    "input = {}\ncached_input = {}\noutput = {}\n",
                    p.input as f64 / 1e10,
                    p.cached as f64 / 1e10,
                    p.output as f64 / 1e10
                ));
            }
        }
        s
    }
}

/// Line of `key = …` inside `[table]` (empty table: top level).
pub fn locate(text: &str, table: &[&str], key: &str) -> Option<usize> {
    let mut current: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            current = parse_header(t);
            continue;
        }
        if current.iter().map(String::as_str).eq(table.iter().copied()) {
            let k = t.split('=').next().unwrap_or("").trim().trim_matches('"');
            if k == key {
                return Some(i + 1);
            }
        }
    }
    None
}

fn locate_table(text: &str, table: &[&str]) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim();
            t.starts_with('[')
                && parse_header(t)
                    .iter()
                    .map(String::as_str)
                    .eq(table.iter().copied())
        })
        .map(|i| i + 1)
}

fn locate_dotted(text: &str, dotted: &str) -> Option<usize> {
    let parts: Vec<&str> = dotted.split('.').collect();
    let (key, table) = parts.split_last()?;
    locate(text, table, key).or_else(|| locate_table(text, &parts))
}

fn parse_header(t: &str) -> Vec<String> {
    let inner = t.trim_start_matches('[').trim_end_matches(']');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in inner.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// The commented default written by `grokpair config init`.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_means_presets() {
        let c = Config::parse("", None).unwrap();
        assert_eq!(c.provider, "xai");
        assert_eq!(c.providers["xai"].base_url, "https://api.x.ai/v1");
        assert_eq!(c.providers["local"].base_url, "http://127.0.0.1:8080/v1");
        assert!(c.providers["local"].free);
    }

    #[test]
    fn default_template_parses() {
        Config::parse(DEFAULT_CONFIG, None).unwrap();
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let text =
            "provider = \"xai\"\n\n[providers.xai]\nbase_url = \"https://x\"\nbsae_url = \"y\"\n";
        let e = Config::parse(text, Some(Path::new("/tmp/c.toml"))).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert!(e.message.contains("unknown field `bsae_url`"), "{e}");
        assert!(
            e.to_string()
                .starts_with("config error in /tmp/c.toml:5: key `providers.xai"),
            "{e}"
        );
    }

    #[test]
    fn agent_settings_and_rules() {
        let text = "[agent]\nmode = \"auto-edit\"\nmax_steps = 5\nmax_cost = 0.5\nallow = [\"run_command: cargo test *\"]\ndeny = [\"run_command: rm *\", \"edit_file: .env\"]\n";
        let c = Config::parse(text, None).unwrap();
        let a = &c.agent;
        assert!(a.tools);
        assert_eq!(a.mode, crate::session::approval::Mode::AutoEdit);
        assert_eq!((a.max_steps, a.max_cost), (5, Some(0.5)));
        let p = a.policy();
        use crate::session::approval::{Call, Kind, Verdict};
        let cmd = |t: &str| Call {
            tool: "run_command".into(),
            kind: Kind::Command,
            target: t.into(),
        };
        assert_eq!(p.decide(&cmd("cargo test -q")), Verdict::Allow);
        assert!(matches!(p.decide(&cmd("rm a.txt")), Verdict::Deny(_)));
        assert!(matches!(p.decide(&cmd("make")), Verdict::Ask { .. }));
        // A bad value names the key and its line.
        let e = Config::parse("[ui]\n\nreading_width = 12\n", None).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert_eq!(e.key.as_deref(), Some("ui.reading_width"));
        assert!(e.message.contains("at least 40 columns"), "{e}");
        assert_eq!(
            Config::parse("[ui]\nreading_width = 0\n", None)
                .unwrap()
                .reading_width,
            0
        );
        assert_eq!(Config::parse("", None).unwrap().reading_width, 120);
        let e = Config::parse("[agent]\nmode = \"reckless\"\n", None).unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("agent.mode")));
        let e = Config::parse("[agent]\n\nallow = [\"cargo test\"]\n", None).unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(3), Some("agent.allow")));
        assert!(e.message.contains("TOOL: PATTERN"), "{e}");
    }

    #[test]
    fn wrong_type_names_key() {
        let text = "[network]\nmax_retries = \"three\"\n";
        let e = Config::parse(text, Some(Path::new("c.toml"))).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("network.max_retries"));
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn semantic_errors_locate_key() {
        let text = "provider = \"nope\"\n";
        let e = Config::parse(text, None).unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(1), Some("provider")));
        let text = "[providers.mine]\nmodel = \"m\"\n";
        let e = Config::parse(text, None).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("needs a base_url"));
        let text = "[providers.\"my.srv\"]\nbase_url = \"ftp://x\"\n";
        let e = Config::parse(text, None).unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn sampling_keys_parse_validate_and_show() {
        let text = "temperature = 0.3\nseed = 7\nmax_tokens = 256\nreasoning_effort = \"low\"\n";
        let c = Config::parse(text, None).unwrap();
        assert_eq!(c.sampling.temperature, Some(0.3));
        assert_eq!(c.sampling.seed, Some(7));
        assert_eq!(c.sampling.max_tokens, Some(256));
        assert_eq!(c.sampling.reasoning_effort.as_deref(), Some("low"));
        let shown = c.show();
        assert!(
            shown.contains(
                "temperature = 0.3\nmax_tokens = 256\nseed = 7\nreasoning_effort = \"low\"\n"
            ),
            "{shown}"
        );
        Config::parse(&shown, None).expect("`config show` output parses back");
        let whole = Config::parse("temperature = 0\n", None).unwrap();
        assert_eq!(
            whole.sampling.temperature,
            Some(0.0),
            "a TOML integer is a number too"
        );
        let text = "provider = \"xai\"\n\ntop_p = 1.5\n";
        let e = Config::parse(text, Some(Path::new("c.toml"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "config error in c.toml:3: key `top_p`: top_p must be above 0, at most 1, got 1.5"
        );
        let e = Config::parse("reasoning_effort = \"extreme\"\n", None).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(1), Some("reasoning_effort"))
        );
    }

    #[test]
    fn custom_provider_and_overrides() {
        let text = r#"
provider = "vllm"
[providers.vllm]
base_url = "http://127.0.0.1:8000/v1/"
api_key_env = "VLLM_KEY"
headers = { "X-Team" = "abc" }
[providers.xai]
model = "grok-3-mini"
[models."grok-3-mini"]
output = 0.6
"#;
        let c = Config::parse(text, None).unwrap();
        let v = &c.providers["vllm"];
        assert_eq!(v.base_url, "http://127.0.0.1:8000/v1");
        assert_eq!(v.headers, vec![("X-Team".to_string(), "abc".to_string())]);
        assert_eq!(c.providers["xai"].model.as_deref(), Some("grok-3-mini"));
        assert_eq!(c.providers["xai"].base_url, "https://api.x.ai/v1");
        assert_eq!(
            c.catalog.lookup("grok-3-mini").prices.unwrap().output,
            6_000_000_000
        );
    }

    #[test]
    fn api_key_env_must_be_a_name_and_is_never_echoed() {
        let text = "[providers.xai]\napi_key_env = \"xai-abc123SECRET\"\n";
        let e = Config::parse(text, None).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(!e.to_string().contains("SECRET"));
    }

    #[test]
    fn retry_times_are_bounded() {
        for (key, v) in [("retry_base_ms", "0"), ("retry_max_ms", "99999999999")] {
            let e = Config::parse(&format!("[network]\n{key} = {v}\n"), None).unwrap_err();
            assert_eq!(e.key.as_deref(), Some(format!("network.{key}").as_str()));
            assert_eq!(e.line, Some(2));
            assert!(e.message.contains("1 to 300000"), "{e}");
        }
    }

    #[test]
    fn show_masks_a_password_in_a_base_url() {
        let c = Config::parse(
            "[providers.mine]\nbase_url = \"https://me:hunter2-pass@llm.example/v1\"\n",
            None,
        )
        .unwrap();
        let s = c.show();
        assert!(!s.contains("hunter2-pass"), "{s}");
        assert!(
            s.contains("base_url = \"https://me:****@llm.example/v1\""),
            "{s}"
        );
    }

    #[test]
    fn show_masks_inline_keys() {
        let text = "[providers.xai]\napi_key = \"xai-SECRETSECRETSECRET1234\"\napi_key_env = \"GP_TEST_UNSET_VAR\"\n";
        let c = Config::parse(text, None).unwrap();
        let s = c.show();
        assert!(!s.contains("SECRETSECRET"));
        assert!(s.contains("xai-…1234 (from the config file)"));
    }
}
